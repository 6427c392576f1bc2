/*
 * The detector's two neighbourhood filters on its small picture, written
 * for the one case the detector needs and giving, pixel for pixel, what the
 * OpenCV call each replaces gives (tests/unit/filters.cpp checks that
 * against OpenCV itself). OpenCV's general filter engine costs several
 * times the work itself on a 320x180 picture: 0.07 ms for the blur and
 * 0.03 ms for the dilation, per analysed frame, against about 0.015 and
 * 0.005 ms here (bench/detect_bench, 1080p analysed at 320x180).
 *
 * C++ (the detector's own language); only detect/motion.cpp includes it.
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
    std::vector<uint16_t> sums;  /* blur5: the rows blurred across, a value per pixel */
    std::vector<uint8_t> maxima; /* dilate_square: the rows' maxima across, a byte per pixel */
};

/*
 * dst = cv::GaussianBlur(src, Size(5, 5), 0) for an 8-bit, one-channel src:
 * the binomial kernel 1 4 6 4 1 in each direction, rounded to nearest (half
 * up), borders reflected without repeating the edge (BORDER_REFLECT_101).
 * Only src's own pixels are read, even when src is a view into a larger
 * picture (where OpenCV would read the pixels around it).
 * dst is (re)allocated to src's size unless it already has it, and must not
 * be src. Pictures under 8 pixels on a side go to OpenCV itself.
 */
void blur5(const cv::Mat &src, cv::Mat &dst, FilterScratch &scratch);

/*
 * dst = cv::dilate(src, cv::Mat(), Point(-1, -1), iterations) for an
 * 8-bit, one-channel src: the largest value in the (2 iterations + 1)
 * square around each pixel, the part of it inside src (what dilating by
 * 3x3 `iterations` times gives; src's own pixels only, as blur5()). iterations in 1..8; dst is
 * (re)allocated to src's size and must not be src.
 */
void dilate_square(const cv::Mat &src, cv::Mat &dst, int iterations, FilterScratch &scratch);

} // namespace cw

#endif
