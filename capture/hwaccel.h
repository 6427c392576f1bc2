/*
 * Hardware video decoding (HWACCEL): a VAAPI or DRM device that FFmpeg's
 * own decoder hands its work to (av_hwdevice_ctx_create), or a V4L2
 * memory-to-memory decoder (h264_v4l2m2m and kin, the Raspberry Pi's).
 * Each method is tried, and what failed is said, so that the caller can
 * fall back to software with one line saying why.
 *
 * Errors: negative AVERROR codes, as everywhere in capture/.
 */
#ifndef CAPTURE_HWACCEL_H
#define CAPTURE_HWACCEL_H

#include <libavcodec/avcodec.h>

#include <stddef.h>

/* Most methods one HWACCEL value stands for. */
#define CAPTURE_HWACCEL_MAX_METHODS 3

/*
 * The methods `hwaccel` (HWACCEL: auto, none, vaapi, v4l2m2m or drm) asks
 * for, in the order to try them, into `methods`: "auto" is every one
 * (vaapi, v4l2m2m, drm), "none" (or anything else) none. Returns how many.
 */
int capture_hwaccel_methods(const char *hwaccel, const char *methods[CAPTURE_HWACCEL_MAX_METHODS]);

/*
 * A decoder context for `sw_codec`'s codec that decodes with `method`,
 * allocated but not opened, into *ctx (the caller frees it with
 * avcodec_free_context()). For vaapi and drm the context decodes with
 * `sw_codec` on a device of that type: pictures the hardware decoded come
 * out in *hw_format (they live in device memory: av_hwframe_transfer_data()
 * copies them out), and ctx->opaque must stay pointing at *hw_format while
 * the context is in use (its get_format callback reads it). For v4l2m2m it
 * is the codec's V4L2 decoder, whose pictures come out in memory
 * (*hw_format AV_PIX_FMT_NONE); whether the device is there shows only
 * when the context is opened. Returns 0; AVERROR(ENOSYS) when the method
 * cannot work here, with why in `why` (no such decoder or support in this
 * FFmpeg, no device); AVERROR(ENOMEM).
 */
int capture_hwaccel_context(const char *method, const AVCodec *sw_codec, AVCodecContext **ctx,
                            enum AVPixelFormat *hw_format, char *why, size_t why_size);

#endif /* CAPTURE_HWACCEL_H */
