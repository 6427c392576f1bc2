/*
 * The detector's blur and dilation (detect/filters.h) against the OpenCV
 * calls they replace: every pixel equal, on random pictures of many sizes
 * (each size's edge cases: widths around the vector lengths, the smallest
 * the fast path takes, the pictures below it that go to OpenCV), on the
 * detector's own 320x180, on a view into a larger picture (rows not
 * contiguous), on the extremes (all 0, all 255), and for the dilation on
 * masks of 0 and 255 as the detector gives it, with its bounding rectangle;
 * the difference with every threshold's edge, with and without a mask, and
 * its count on rows long enough to overflow a lane's count.
 */
#include "filters.h"

#include "check.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace
{

uint64_t rng = 0x9e3779b97f4a7c15ull;

uint8_t next_byte()
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

/* Random levels, or (mask) 0 and 255 in blobs of about one pixel in 8. */
cv::Mat random_picture(int w, int h, bool mask)
{
    cv::Mat m(h, w, CV_8U);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            m.at<uint8_t>(y, x) = mask ? (next_byte() < 32 ? 255 : 0) : next_byte();
    return m;
}

/* The first differing pixel of a and b, printed; false if they differ. */
bool same(const cv::Mat &a, const cv::Mat &b, const char *what, int w, int h)
{
    if (a.size() != b.size() || a.type() != b.type()) {
        fprintf(stderr, "%s %dx%d: size or type differs\n", what, w, h);
        return false;
    }
    for (int y = 0; y < a.rows; y++)
        for (int x = 0; x < a.cols; x++)
            if (a.at<uint8_t>(y, x) != b.at<uint8_t>(y, x)) {
                fprintf(stderr, "%s %dx%d: pixel %d,%d is %d, OpenCV gives %d\n", what, w, h, x, y,
                        a.at<uint8_t>(y, x), b.at<uint8_t>(y, x));
                return false;
            }
    return true;
}

int compared = 0;

void check_blur(const cv::Mat &src, cw::FilterScratch &scratch)
{
    cv::Mat mine, theirs;
    cw::blur5(src, mine, scratch);
    cv::GaussianBlur(src, theirs, cv::Size(5, 5), 0);
    CHECK(same(mine, theirs, "blur5", src.cols, src.rows));
    compared++;
}

void check_dilate(const cv::Mat &src, int iterations, cw::FilterScratch &scratch)
{
    cv::Mat mine, theirs;
    const cv::Rect box = cw::dilate_square(src, mine, iterations, scratch);
    cv::dilate(src, theirs, cv::Mat(), cv::Point(-1, -1), iterations);
    CHECK(same(mine, theirs, "dilate_square", src.cols, src.rows));
    /* From the nonzero pixels' places: cv::boundingRect() of an 8-bit
     * picture gets it wrong in OpenCV 4.6 (a 45x3 picture, one lit pixel at
     * x 0, y 2, dilated once: 1 wide, not 2). */
    std::vector<cv::Point> lit;
    cv::findNonZero(theirs, lit);
    const cv::Rect want = lit.empty() ? cv::Rect() : cv::boundingRect(lit);
    if (box != want) {
        fprintf(stderr, "dilate_square %dx%d: bounding rectangle %d,%d %dx%d, want %d,%d %dx%d\n",
                src.cols, src.rows, box.x, box.y, box.width, box.height, want.x, want.y, want.width,
                want.height);
        exit(1);
    }
    compared++;
}

/* difference() against absdiff, threshold, bitwise_and and countNonZero. */
void check_difference(const cv::Mat &a, const cv::Mat &b, int threshold, const cv::Mat &allowed)
{
    cv::Mat diff, changed, want_diff, want_changed;
    const size_t count = cw::difference(a, b, threshold, allowed, diff, changed);
    cv::absdiff(a, b, want_diff);
    cv::threshold(want_diff, want_changed, threshold, 255, cv::THRESH_BINARY);
    if (!allowed.empty()) /* as 0 or 255, which is what the detector's mask is */
        cv::bitwise_and(want_changed, allowed != 0, want_changed);
    CHECK(same(diff, want_diff, "difference: diff", a.cols, a.rows));
    CHECK(same(changed, want_changed, "difference: changed", a.cols, a.rows));
    CHECK_EQ_U64(count, cv::countNonZero(want_changed));
    compared++;
}

/* A picture near `base`: each pixel moved by up to +-spread levels. */
cv::Mat near(const cv::Mat &base, int spread)
{
    cv::Mat m = base.clone();
    for (int y = 0; y < m.rows; y++)
        for (int x = 0; x < m.cols; x++) {
            int v = m.at<uint8_t>(y, x) + (int)(next_byte() % (2 * spread + 1)) - spread;
            m.at<uint8_t>(y, x) = (uint8_t)std::min(255, std::max(0, v));
        }
    return m;
}

} // namespace

int main()
{
    cv::setNumThreads(1);
    cw::FilterScratch scratch; /* one for all, as the detector keeps it across sizes */
    for (int h = 1; h <= 27; h += 2)
        for (int w = 1; w <= 50; w++) {
            check_blur(random_picture(w, h, false), scratch);
            cv::Mat a = random_picture(w, h, false);
            check_difference(a, near(a, 40), 25, cv::Mat());
            check_difference(a, near(a, 40), (int)(next_byte()), random_picture(w, h, true));
            /* A mask with one lit pixel, where the rectangle is easy to get wrong. */
            cv::Mat one(h, w, CV_8U, cv::Scalar(0));
            one.at<uint8_t>((int)(next_byte() % h), (int)(next_byte() % w)) = 255;
            check_dilate(one, 1, scratch);
            for (int it = 1; it <= 3; it++) {
                check_dilate(random_picture(w, h, true), it, scratch);
                check_dilate(random_picture(w, h, false), it, scratch);
            }
        }
    const int sizes[][2] = {{320, 180}, {320, 240}, {321, 181}, {8, 8}, {9, 200}, {200, 9}};
    for (const auto &s : sizes) {
        check_blur(random_picture(s[0], s[1], false), scratch);
        check_blur(cv::Mat(s[1], s[0], CV_8U, cv::Scalar(255)), scratch);
        check_blur(cv::Mat(s[1], s[0], CV_8U, cv::Scalar(0)), scratch);
        check_dilate(random_picture(s[0], s[1], true), 2, scratch);
        check_dilate(cv::Mat(s[1], s[0], CV_8U, cv::Scalar(0)), 2, scratch);
        cv::Mat a = random_picture(s[0], s[1], false), b = near(a, 60);
        for (int threshold : {0, 1, 25, 128, 254, 255})
            check_difference(a, b, threshold, random_picture(s[0], s[1], true));
        /* Over 255 vectors in a row: the 8-bit lane counts must move out. */
        cv::Mat wide_a = random_picture(16 * 300 + 5, 3, false);
        check_difference(wide_a, cv::Mat(3, 16 * 300 + 5, CV_8U, cv::Scalar(0)), 0, cv::Mat());
    }
    /* A view: its rows are a larger picture's, with a step wider than it.
     * The filters see only the view's own pixels, so it must give what
     * OpenCV gives on a copy of it (on the view itself, OpenCV would take
     * its borders from the picture around it). */
    cv::Mat big = random_picture(400, 300, false), big_mask = random_picture(400, 300, true);
    const cv::Rect view(13, 7, 320, 180);
    cv::Mat mine, theirs;
    cw::blur5(big(view), mine, scratch);
    cv::GaussianBlur(big(view).clone(), theirs, cv::Size(5, 5), 0);
    CHECK(same(mine, theirs, "blur5 of a view", view.width, view.height));
    cw::dilate_square(big_mask(view), mine, 2, scratch);
    cv::dilate(big_mask(view).clone(), theirs, cv::Mat(), cv::Point(-1, -1), 2);
    CHECK(same(mine, theirs, "dilate_square of a view", view.width, view.height));
    compared += 2;
    /* Views too small for the fast path: OpenCV's blur, told to stay in. */
    for (int w = 1; w <= 9; w++)
        for (int h = 1; h <= 9; h++) {
            const cv::Rect small(3, 2, w, h);
            cw::blur5(big(small), mine, scratch);
            cv::GaussianBlur(big(small).clone(), theirs, cv::Size(5, 5), 0);
            CHECK(same(mine, theirs, "blur5 of a small view", w, h));
            compared++;
        }
    /* Every number of iterations the dilation takes. */
    for (int it = 1; it <= 8; it++) {
        check_dilate(random_picture(320, 180, true), it, scratch);
        check_dilate(random_picture(37, 41, true), it, scratch);
    }
    /* A mask whose allowing value is not 255: any nonzero allows. */
    {
        cv::Mat a = random_picture(45, 20, false), twos = random_picture(45, 20, true) / 255 * 2;
        check_difference(a, near(a, 60), 10, twos);
    }
    printf("blur5, difference and dilate_square: %d pictures, every pixel as "
           "OpenCV gives it\n",
           compared);
    return 0;
}
