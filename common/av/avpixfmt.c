#include "avpixfmt.h"

enum AVPixelFormat cw_avpixfmt_unjpeg(enum AVPixelFormat fmt, bool *full_range)
{
    enum AVPixelFormat plain;
    switch (fmt) {
    case AV_PIX_FMT_YUVJ411P:
        plain = AV_PIX_FMT_YUV411P;
        break;
    case AV_PIX_FMT_YUVJ420P:
        plain = AV_PIX_FMT_YUV420P;
        break;
    case AV_PIX_FMT_YUVJ422P:
        plain = AV_PIX_FMT_YUV422P;
        break;
    case AV_PIX_FMT_YUVJ440P:
        plain = AV_PIX_FMT_YUV440P;
        break;
    case AV_PIX_FMT_YUVJ444P:
        plain = AV_PIX_FMT_YUV444P;
        break;
    default:
        return fmt;
    }
    if (full_range)
        *full_range = true;
    return plain;
}
