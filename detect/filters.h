/*
 * The detector's per-pixel steps on its small picture, written for the one
 * case the detector needs and giving, pixel for pixel, what the OpenCV
 * calls each replaces give (tests/unit/filters.cpp checks that against
 * OpenCV itself). In camwatch the detector's data is cold: between two
 * analysed frames the decoder has pushed it out of the cache. Cold, on a
 * 320x180 picture (CPU time per call, the cache flushed before each), the
 * blur costs 0.03 ms here and 0.05 with OpenCV, the dilation with its
 * bounding rectangle 0.02 and 0.035, and the difference, threshold, mask
 * and count in one pass about half of OpenCV's four; warm, the blur and the
 * dilation cost about what OpenCV's do. The whole detector in
 * bench/detect_bench went from 0.60 to 0.57 ms per analysed 1080p frame
 * (medians of 8 runs on a busy machine): most of what it costs is the
 * memory it touches.
 *
 * C++ (the detector's own language), for detect/motion.cpp.
 */
#ifndef CAMWATCH_DETECT_FILTERS_H
#define CAMWATCH_DETECT_FILTERS_H

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace cw
{

/* Scratch the filters keep between calls, so the per-frame path does not
 * allocate once the picture's size is known. */
struct FilterScratch {
    std::vector<uint16_t> sums;   /* blur5: five rows blurred across */
    std::vector<uint8_t> maxima;  /* dilate_square: 2 iterations + 1 rows of maxima across */
    std::vector<uint8_t> columns; /* dilate_square: which columns have anything, a byte each */
};

/*
 * dst = cv::GaussianBlur(src, Size(5, 5), 0) for an 8-bit, one-channel src:
 * the binomial kernel 1 4 6 4 1 in each direction, rounded to nearest (half
 * up), borders reflected without repeating the edge (BORDER_REFLECT_101).
 * Only src's own pixels are read, even when src is a view into a larger
 * picture (where OpenCV would read the pixels around it unless told
 * BORDER_ISOLATED).
 * dst is (re)allocated to src's size unless it already has it, and must not
 * be src. Pictures under 8 pixels on a side go to OpenCV itself.
 */
void blur5(const cv::Mat &src, cv::Mat &dst, FilterScratch &scratch);

/*
 * The change between two pictures of one size (8-bit, one channel):
 * diff = |a - b| (cv::absdiff), changed = 255 where diff > threshold (a
 * level, 0..255) and `allowed` (if not empty: same size) is
 * nonzero, else 0 (what cv::threshold(THRESH_BINARY) then cv::bitwise_and
 * give for a mask of 0 and 255; any nonzero value of `allowed` allows). diff and changed are
 * (re)allocated to a's size. Returns how many pixels changed, as
 * cv::countNonZero(changed) would.
 */
size_t difference(const cv::Mat &a, const cv::Mat &b, int threshold, const cv::Mat &allowed,
                  cv::Mat &diff, cv::Mat &changed);

/*
 * dst = cv::dilate(src, cv::Mat(), Point(-1, -1), iterations) for an
 * 8-bit, one-channel src: the largest value in the (2 iterations + 1)
 * square around each pixel, the part of it inside src (what dilating by
 * 3x3 `iterations` times gives; src's own pixels only, as blur5()).
 * iterations in 1..8; dst is (re)allocated to src's size and must not be
 * src. Returns the smallest rectangle that holds every nonzero pixel of
 * dst (empty when dst is all 0), for what only looks at those.
 */
cv::Rect dilate_square(const cv::Mat &src, cv::Mat &dst, int iterations, FilterScratch &scratch);

} // namespace cw

#endif
