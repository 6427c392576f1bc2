/*
 * libav codec parameters from a ring's stream parameters (payload.h): what
 * the clip writer, its sound and the main-stream snapshot's decoder are
 * opened with. Errors: AVERROR(ENOMEM) only.
 */
#ifndef CAMWATCH_RECORD_CODECPAR_H
#define CAMWATCH_RECORD_CODECPAR_H

#include "payload.h"

#include <libavcodec/avcodec.h>

/* The stream's extradata (SPS/PPS, AudioSpecificConfig) into `par`, which
 * has none. An extradata_size beyond CW_STREAM_EXTRADATA_MAX (a corrupt
 * header) gives none. Returns 0 or AVERROR(ENOMEM). */
int rec_codecpar_extradata(AVCodecParameters *par, const CwStreamParams *p);

/* `par` (its extradata replaced) as the video stream `p`: codec, size,
 * extradata, no container tag. Returns 0 or AVERROR(ENOMEM). */
int rec_codecpar_video(AVCodecParameters *par, const CwStreamParams *p);

#endif /* CAMWATCH_RECORD_CODECPAR_H */
