#include "codecpar.h"

#include <libavutil/mem.h>
#include <string.h>

int rec_codecpar_extradata(AVCodecParameters *par, const CwStreamParams *p)
{
    uint32_t n = p->extradata_size > CW_STREAM_EXTRADATA_MAX ? 0 : p->extradata_size;
    if (n) {
        par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!par->extradata)
            return AVERROR(ENOMEM);
        memcpy(par->extradata, p->extradata, n);
        par->extradata_size = (int)n;
    }
    return 0;
}

int rec_codecpar_video(AVCodecParameters *par, const CwStreamParams *p)
{
    av_freep(&par->extradata);
    par->extradata_size = 0;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = (enum AVCodecID)p->codec_id;
    par->codec_tag = 0;
    par->width = p->width;
    par->height = p->height;
    return rec_codecpar_extradata(par, p);
}
