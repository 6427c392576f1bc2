/*
 * libav pixel formats as camwatch hands them to swscale.
 *
 * Part of libcamwatch-av (common/av/), the helpers only the programs that
 * link libav (camwatch-capture, camwatch-record) link. Errors: AVERROR
 * codes in this library; none of the functions here fails.
 */
#ifndef CAMWATCH_AVPIXFMT_H
#define CAMWATCH_AVPIXFMT_H

#include <libavutil/pixfmt.h>

#include <stdbool.h>

/*
 * The format of the same memory layout without JPEG's "J": YUVJ420P gives
 * YUV420P, and likewise for 411P, 422P, 440P and 444P; any other format is
 * returned as it is. MJPEG decoders output the J formats, which swscale
 * calls deprecated (and warns about): it wants the layout, with the range
 * given apart. For a J format *full_range is set to true (its samples span
 * 0-255); otherwise it is left as it was, for the caller to take from the
 * frame's color_range. `full_range` may be NULL when the range does not
 * matter (a copy that changes no sample value).
 */
enum AVPixelFormat cw_avpixfmt_unjpeg(enum AVPixelFormat fmt, bool *full_range);

#endif /* CAMWATCH_AVPIXFMT_H */
