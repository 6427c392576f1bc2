#include "hwaccel.h"

#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int capture_hwaccel_methods(const char *hwaccel, const char *methods[CAPTURE_HWACCEL_MAX_METHODS])
{
    /* VAAPI first: where it exists (Intel, AMD) it is the fullest; a
     * Raspberry Pi has the V4L2 decoder; DRM last, as few decoders in
     * FFmpeg use it. */
    static const char *const all[CAPTURE_HWACCEL_MAX_METHODS] = {"vaapi", "v4l2m2m", "drm"};
    int n = 0;
    for (int i = 0; i < CAPTURE_HWACCEL_MAX_METHODS; i++)
        if (strcmp(hwaccel, "auto") == 0 || strcmp(hwaccel, all[i]) == 0)
            methods[n++] = all[i];
    return n;
}

/* The hardware format of the context's device, if the decoder offers it;
 * else the first software format (the decoder then decodes in software). */
static enum AVPixelFormat get_hw_format(AVCodecContext *ctx, const enum AVPixelFormat *formats)
{
    const enum AVPixelFormat *want = ctx->opaque;
    for (const enum AVPixelFormat *f = formats; *f != AV_PIX_FMT_NONE; f++)
        if (*f == *want)
            return *f;
    for (const enum AVPixelFormat *f = formats; *f != AV_PIX_FMT_NONE; f++) {
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*f);
        if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL))
            return *f;
    }
    return AV_PIX_FMT_NONE;
}

/* A V4L2 memory-to-memory decoder: FFmpeg names them <codec>_v4l2m2m. */
static int v4l2m2m_context(const AVCodec *sw_codec, AVCodecContext **ctx, char *why,
                           size_t why_size)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_v4l2m2m", avcodec_get_name(sw_codec->id));
    const AVCodec *codec = avcodec_find_decoder_by_name(name);
    if (!codec) {
        snprintf(why, why_size, "this FFmpeg has no %s decoder", name);
        return AVERROR(ENOSYS);
    }
    *ctx = avcodec_alloc_context3(codec);
    return *ctx ? 0 : AVERROR(ENOMEM);
}

int capture_hwaccel_context(const char *method, const AVCodec *sw_codec, AVCodecContext **ctx,
                            enum AVPixelFormat *hw_format, char *why, size_t why_size)
{
    AVBufferRef *device = NULL;
    int ret;

    *ctx = NULL;
    *hw_format = AV_PIX_FMT_NONE;
    if (strcmp(method, "v4l2m2m") == 0)
        return v4l2m2m_context(sw_codec, ctx, why, why_size);

    enum AVHWDeviceType type = av_hwdevice_find_type_by_name(method);
    if (type == AV_HWDEVICE_TYPE_NONE) {
        snprintf(why, why_size, "this FFmpeg has no %s support", method);
        return AVERROR(ENOSYS);
    }
    /* Does this decoder decode on such a device at all? */
    for (int i = 0;; i++) {
        const AVCodecHWConfig *config = avcodec_get_hw_config(sw_codec, i);
        if (!config) {
            snprintf(why, why_size, "FFmpeg's %s decoder cannot use %s", sw_codec->name, method);
            return AVERROR(ENOSYS);
        }
        if ((config->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
            config->device_type == type) {
            *hw_format = config->pix_fmt;
            break;
        }
    }
    /* The default device of the type (VAAPI: /dev/dri/renderD128). */
    ret = av_hwdevice_ctx_create(&device, type, NULL, NULL, 0);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0) {
        /* libav says more only at its verbose levels: name where it looked. */
        snprintf(why, why_size, "cannot open a %s device%s: %s", method,
                 type == AV_HWDEVICE_TYPE_VAAPI || type == AV_HWDEVICE_TYPE_DRM ? " (/dev/dri)"
                                                                                : "",
                 av_err2str(ret));
        *hw_format = AV_PIX_FMT_NONE;
        return AVERROR(ENOSYS);
    }
    *ctx = avcodec_alloc_context3(sw_codec);
    if (!*ctx) {
        av_buffer_unref(&device);
        return AVERROR(ENOMEM);
    }
    (*ctx)->hw_device_ctx = device; /* the context owns the device from here */
    (*ctx)->opaque = hw_format;
    (*ctx)->get_format = get_hw_format;
    return 0;
}
