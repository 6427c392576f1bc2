/*
 * The detector's blur and dilation: see filters.h. Each works in two
 * passes, across each row into scratch and then down the columns, and each
 * pass does its middle with OpenCV's universal intrinsics (128-bit, what
 * every camwatch target has: SSE2, NEON) and its edges, where the borders
 * come in, one pixel at a time.
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
        cv::GaussianBlur(src, dst, cv::Size(5, 5), 0);
        return;
    }
    dst.create(h, w, CV_8U);
    scratch.sums.resize((size_t)w * (size_t)h);
    uint16_t *sums = scratch.sums.data();

    for (int y = 0; y < h; y++) {
        const uint8_t *r = src.ptr<uint8_t>(y);
        uint16_t *o = sums + (size_t)y * (size_t)w;
        int x = 0;
        for (; x < 2; x++)
            o[x] = across5(r, x, w);
#if CV_SIMD128
        for (; x + cv::v_uint16x8::nlanes + 2 <= w; x += cv::v_uint16x8::nlanes) {
            const cv::v_uint16x8 outer =
                cv::v_load_expand(r + x - 2) + cv::v_load_expand(r + x + 2);
            const cv::v_uint16x8 inner =
                cv::v_load_expand(r + x - 1) + cv::v_load_expand(r + x + 1);
            const cv::v_uint16x8 mid = cv::v_load_expand(r + x);
            cv::v_store(o + x, outer + (inner << 2) + (mid << 2) + (mid << 1));
        }
#endif
        for (; x < w; x++)
            o[x] = across5(r, x, w);
    }

    for (int y = 0; y < h; y++) {
        const uint16_t *a = sums + (size_t)reflect101(y - 2, h) * (size_t)w;
        const uint16_t *b = sums + (size_t)reflect101(y - 1, h) * (size_t)w;
        const uint16_t *c = sums + (size_t)y * (size_t)w;
        const uint16_t *d = sums + (size_t)reflect101(y + 1, h) * (size_t)w;
        const uint16_t *e = sums + (size_t)reflect101(y + 2, h) * (size_t)w;
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

void dilate_square(const cv::Mat &src, cv::Mat &dst, int iterations, FilterScratch &scratch)
{
    CV_Assert(src.type() == CV_8UC1 && src.data != dst.data && iterations >= 1 && iterations <= 8);
    const int w = src.cols, h = src.rows, r = iterations;
    dst.create(h, w, CV_8U);
    scratch.maxima.resize((size_t)w * (size_t)h);
    uint8_t *maxima = scratch.maxima.data();

    /* Across: the largest of the 2 r + 1 around x that are in the row. */
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src.ptr<uint8_t>(y);
        uint8_t *o = maxima + (size_t)y * (size_t)w;
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
        for (; x + cv::v_uint8x16::nlanes + r <= w; x += cv::v_uint8x16::nlanes) {
            cv::v_uint8x16 v = cv::v_load(row + x - r);
            for (int i = -r + 1; i <= r; i++)
                v = cv::v_max(v, cv::v_load(row + x + i));
            cv::v_store(o + x, v);
        }
#endif
        for (; x < w; x++)
            edge(x);
    }

    /* Down: the largest of those rows' maxima that are in the picture. */
    for (int y = 0; y < h; y++) {
        const int y0 = std::max(0, y - r), y1 = std::min(h - 1, y + r);
        uint8_t *o = dst.ptr<uint8_t>(y);
        int x = 0;
#if CV_SIMD128
        for (; x + cv::v_uint8x16::nlanes <= w; x += cv::v_uint8x16::nlanes) {
            cv::v_uint8x16 v = cv::v_load(maxima + (size_t)y0 * (size_t)w + x);
            for (int j = y0 + 1; j <= y1; j++)
                v = cv::v_max(v, cv::v_load(maxima + (size_t)j * (size_t)w + x));
            cv::v_store(o + x, v);
        }
#endif
        for (; x < w; x++) {
            uint8_t v = 0;
            for (int j = y0; j <= y1; j++)
                v = std::max(v, maxima[(size_t)j * (size_t)w + x]);
            o[x] = v;
        }
    }
}

} // namespace cw
