/*
 * The detector's blur, difference and dilation: see filters.h. The blur
 * and the dilation work in two passes, across each row into a few rows of
 * scratch and then down the columns; the difference in one. Each pass does
 * its middle with OpenCV's universal intrinsics (128-bit, what every
 * camwatch target has: SSE2, NEON) and its edges, where the borders come
 * in, one pixel at a time.
 */
#include "filters.h"

#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace cw
{
namespace
{

/* BORDER_REFLECT_101 for an index at most 2 outside [0, n), n >= 3. */
inline int reflect101(int i, int n)
{
    return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
}

/* 1 4 6 4 1 across one row, at x (any x: the border reflected). */
inline uint16_t across5(const uint8_t *row, int x, int n)
{
    return (uint16_t)(row[reflect101(x - 2, n)] + 4 * row[reflect101(x - 1, n)] + 6 * row[x] +
                      4 * row[reflect101(x + 1, n)] + row[reflect101(x + 2, n)]);
}

} // namespace

/*
 * Why the result is OpenCV's: for 8-bit pictures and this kernel OpenCV
 * blurs in fixed point with 8 fraction bits, in which 1/16, 4/16 and 6/16
 * are exact, so its sum is exactly sum(k_i k_j p_ij) / 256, rounded half
 * up to a whole level at the end; here that sum is made in whole numbers
 * (at most 255 x 256, which fits 16 bits) and rounded the same way.
 */
void blur5(const cv::Mat &src, cv::Mat &dst, FilterScratch &scratch)
{
    CV_Assert(src.type() == CV_8UC1 && src.data != dst.data);
    const int w = src.cols, h = src.rows;
    if (w < 8 || h < 8) {
        /* Isolated: a view's own pixels only, as the fast path. */
        cv::GaussianBlur(src, dst, cv::Size(5, 5), 0, 0,
                         cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED);
        return;
    }
    dst.create(h, w, CV_8U);
    /* Five rows blurred across, row i in slot i % 5: output row y needs
     * rows y - 2 .. y + 2, and the reflected ones at the top and bottom
     * are among those. A few kilobytes that stay in the cache, not a
     * picture of sums: on a shared machine the detector's cost is mostly
     * the memory it touches. */
    scratch.sums.resize((size_t)5 * (size_t)w);
    uint16_t *sums = scratch.sums.data();
    auto slot = [&](int i) { return sums + (size_t)(i % 5) * (size_t)w; };
    auto across = [&](int y) {
        const uint8_t *r = src.ptr<uint8_t>(y);
        uint16_t *o = slot(y);
        int x = 0;
        for (; x < 2; x++)
            o[x] = across5(r, x, w);
#if CV_SIMD128
        const int lanes = cv::v_uint16x8::nlanes;
        auto eight = [&](int at) {
            const cv::v_uint16x8 outer =
                cv::v_load_expand(r + at - 2) + cv::v_load_expand(r + at + 2);
            const cv::v_uint16x8 inner =
                cv::v_load_expand(r + at - 1) + cv::v_load_expand(r + at + 1);
            const cv::v_uint16x8 mid = cv::v_load_expand(r + at);
            cv::v_store(o + at, outer + (inner << 2) + (mid << 2) + (mid << 1));
        };
        for (; x + lanes + 2 <= w; x += lanes)
            eight(x);
        /* The rest but the border: one more eight, overlapping the last
         * (a picture at least 12 wide). */
        if (x < w - 2 && w - 2 - lanes >= 2) {
            eight(w - 2 - lanes);
            x = w - 2;
        }
#endif
        for (; x < w; x++)
            o[x] = across5(r, x, w);
    };

    int next = 0; /* the next row to blur across */
    for (int y = 0; y < h; y++) {
        while (next <= std::min(h - 1, y + 2))
            across(next++);
        const uint16_t *a = slot(reflect101(y - 2, h)), *b = slot(reflect101(y - 1, h));
        const uint16_t *c = slot(y), *d = slot(reflect101(y + 1, h));
        const uint16_t *e = slot(reflect101(y + 2, h));
        uint8_t *o = dst.ptr<uint8_t>(y);
        int x = 0;
#if CV_SIMD128
        const cv::v_uint16x8 half = cv::v_setall_u16(128);
        for (; x + 2 * cv::v_uint16x8::nlanes <= w; x += 2 * cv::v_uint16x8::nlanes) {
            cv::v_uint16x8 q[2];
            for (int k = 0; k < 2; k++) {
                const int i = x + k * cv::v_uint16x8::nlanes;
                const cv::v_uint16x8 mid = cv::v_load(c + i);
                const cv::v_uint16x8 sum = cv::v_load(a + i) + cv::v_load(e + i) +
                                           ((cv::v_load(b + i) + cv::v_load(d + i)) << 2) +
                                           (mid << 2) + (mid << 1) + half;
                q[k] = sum >> 8;
            }
            cv::v_store(o + x, cv::v_pack(q[0], q[1]));
        }
#endif
        for (; x < w; x++)
            o[x] = (uint8_t)((a[x] + e[x] + 4 * (b[x] + d[x]) + 6 * c[x] + 128) >> 8);
    }
}

size_t difference(const cv::Mat &a, const cv::Mat &b, int threshold, const cv::Mat &allowed,
                  cv::Mat &diff, cv::Mat &changed)
{
    CV_Assert(a.type() == CV_8UC1 && b.type() == CV_8UC1 && a.size() == b.size());
    CV_Assert(allowed.empty() || (allowed.type() == CV_8UC1 && allowed.size() == a.size()));
    CV_Assert(threshold >= 0 && threshold <= 255);
    const int w = a.cols, h = a.rows;
    diff.create(h, w, CV_8U);
    changed.create(h, w, CV_8U);
    size_t count = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *pa = a.ptr<uint8_t>(y), *pb = b.ptr<uint8_t>(y);
        const uint8_t *ok = allowed.empty() ? nullptr : allowed.ptr<uint8_t>(y);
        uint8_t *d = diff.ptr<uint8_t>(y), *c = changed.ptr<uint8_t>(y);
        int x = 0;
#if CV_SIMD128
        const cv::v_uint8x16 limit = cv::v_setall_u8((uint8_t)threshold);
        const cv::v_uint8x16 one = cv::v_setall_u8(1);
        /* Counted in 8 bits a lane: at most 255 vectors before the sum
         * moves out to 32 bits. */
        cv::v_uint8x16 counted = cv::v_setall_u8(0);
        int in_lanes = 0;
        for (; x + cv::v_uint8x16::nlanes <= w; x += cv::v_uint8x16::nlanes) {
            const cv::v_uint8x16 delta = cv::v_absdiff(cv::v_load(pa + x), cv::v_load(pb + x));
            cv::v_uint8x16 more = delta > limit;
            if (ok)
                more = more & (cv::v_load(ok + x) != cv::v_setall_u8(0));
            cv::v_store(d + x, delta);
            cv::v_store(c + x, more);
            counted += more & one;
            if (++in_lanes == 255) {
                count += cv::v_reduce_sum(counted);
                counted = cv::v_setall_u8(0);
                in_lanes = 0;
            }
        }
        count += cv::v_reduce_sum(counted);
#endif
        for (; x < w; x++) {
            const uint8_t delta = (uint8_t)(pa[x] > pb[x] ? pa[x] - pb[x] : pb[x] - pa[x]);
            const bool more = delta > threshold && (!ok || ok[x]);
            d[x] = delta;
            c[x] = more ? 255 : 0;
            count += more;
        }
    }
    return count;
}

cv::Rect dilate_square(const cv::Mat &src, cv::Mat &dst, int iterations, FilterScratch &scratch)
{
    CV_Assert(src.type() == CV_8UC1 && src.data != dst.data && iterations >= 1 && iterations <= 8);
    const int w = src.cols, h = src.rows, r = iterations;
    dst.create(h, w, CV_8U);
    /* The rows' maxima across, row i in slot i % (2 r + 1): output row y
     * needs rows y - r .. y + r (as in blur5(), a few kilobytes). */
    const int slots = 2 * r + 1;
    scratch.maxima.resize((size_t)slots * (size_t)w);
    scratch.columns.assign((size_t)w, 0);
    uint8_t *maxima = scratch.maxima.data(), *columns = scratch.columns.data();
    auto slot = [&](int i) { return maxima + (size_t)(i % slots) * (size_t)w; };

    /* Across: the largest of the 2 r + 1 around x that are in the row. */
    auto across = [&](int y) {
        const uint8_t *row = src.ptr<uint8_t>(y);
        uint8_t *o = slot(y);
        auto edge = [&](int x) {
            uint8_t v = 0;
            for (int i = std::max(0, x - r); i <= std::min(w - 1, x + r); i++)
                v = std::max(v, row[i]);
            o[x] = v;
        };
        int x = 0;
        for (; x < std::min(r, w); x++)
            edge(x);
#if CV_SIMD128
        const int lanes = cv::v_uint8x16::nlanes;
        auto sixteen = [&](int at) {
            cv::v_uint8x16 v = cv::v_load(row + at - r);
            for (int i = -r + 1; i <= r; i++)
                v = cv::v_max(v, cv::v_load(row + at + i));
            cv::v_store(o + at, v);
        };
        for (; x + lanes + r <= w; x += lanes)
            sixteen(x);
        /* The rest but the border: one more sixteen, overlapping the last
         * (a picture at least 2 r + 16 wide). */
        if (x < w - r && w - r - lanes >= r) {
            sixteen(w - r - lanes);
            x = w - r;
        }
#endif
        for (; x < w; x++)
            edge(x);
    };

    /* Down: the largest of those rows' maxima that are in the picture; and
     * which rows and columns have anything, for the bounding rectangle. */
    int top = -1, bottom = -1, next = 0;
    for (int y = 0; y < h; y++) {
        const int y0 = std::max(0, y - r), y1 = std::min(h - 1, y + r);
        while (next <= y1)
            across(next++);
        const uint8_t *in[17]; /* rows y0 .. y1; 2 r + 1 <= 17 */
        const int n = y1 - y0 + 1;
        for (int j = 0; j < n; j++)
            in[j] = slot(y0 + j);
        uint8_t *o = dst.ptr<uint8_t>(y);
        uint8_t any = 0;
        int x = 0;
#if CV_SIMD128
        cv::v_uint8x16 row_any = cv::v_setall_u8(0);
        for (; x + cv::v_uint8x16::nlanes <= w; x += cv::v_uint8x16::nlanes) {
            cv::v_uint8x16 v = cv::v_load(in[0] + x);
            for (int j = 1; j < n; j++)
                v = cv::v_max(v, cv::v_load(in[j] + x));
            cv::v_store(o + x, v);
            cv::v_store(columns + x, cv::v_load(columns + x) | v);
            row_any |= v;
        }
        any = cv::v_check_any(row_any != cv::v_setall_u8(0)) ? 1 : 0;
#endif
        for (; x < w; x++) {
            uint8_t v = 0;
            for (int j = 0; j < n; j++)
                v = std::max(v, in[j][x]);
            o[x] = v;
            columns[x] |= v;
            any |= v;
        }
        if (any) {
            if (top < 0)
                top = y;
            bottom = y;
        }
    }
    if (top < 0)
        return cv::Rect();
    int left = 0, right = w - 1;
    while (!columns[left])
        left++;
    while (!columns[right])
        right--;
    return cv::Rect(left, top, right - left + 1, bottom - top + 1);
}

} // namespace cw
