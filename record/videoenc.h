/*
 * RECORD_MODE=annotated: a clip's video decoded, the moving regions of the
 * analysis in force at each picture outlined (annotate.h, boxtrack.h), and
 * encoded again, with libx264 where this FFmpeg has it.
 *
 * A packet handed in waits (compressed: a few hundred KB at most) until the
 * analysis of its picture has arrived, because detection publishes a
 * frame's boxes after record has read that frame's packet; then it is
 * decoded and its picture gets those boxes, and the boxes stay until the
 * next analysis. Encoded packets come out in order, one per picture, timed
 * as the pictures went in.
 *
 * Errors: negative AVERROR codes, as everywhere in record/'s media code.
 */
#ifndef CAMWATCH_RECORD_VIDEOENC_H
#define CAMWATCH_RECORD_VIDEOENC_H

#include "boxtrack.h"

#include <libavcodec/avcodec.h>
#include <stdbool.h>
#include <stdint.h>

/* A packet is decoded at the latest this long after a newer one came in,
 * analysis or not (detection stopped, or lags). */
#define REC_VIDEOENC_WAIT_NS 1000000000LL

/*
 * libx264 tuned for a small machine (see videoenc.c): the preset and the
 * quality, for the log and the README.
 */
#define REC_VIDEOENC_X264_PRESET "ultrafast"
#define REC_VIDEOENC_X264_CRF    "23"

typedef struct RecVideoEnc RecVideoEnc;

/*
 * The encoder annotated clips of a camera sending `camera_codec` are made
 * with: libx264; without it, this FFmpeg's encoder of the camera's own
 * codec; NULL when there is neither (the clip is then copied). The choice
 * is logged once per process when it is not libx264.
 */
const AVCodec *rec_videoenc_pick(enum AVCodecID camera_codec);

/*
 * Open a transcoder from the camera's video `in` (codec, size, extradata)
 * to `codec`, for packets timed in `time_base` (as will be those it
 * returns) at `frame_rate` ({0, 1} if unknown). `track` (not owned; it
 * must outlive the transcoder) is where the boxes come from; the caller
 * keeps pushing analyses into it; they are keyed on CLOCK_MONOTONIC, which
 * is the packets' arrival time (rec_videoenc_send()) + `mono_offset_ns`.
 * `global_header`: the container wants the
 * parameter sets apart (MP4). Returns 0 and sets *ve (freed with
 * rec_videoenc_free()), or a negative AVERROR.
 */
int rec_videoenc_open(RecVideoEnc **ve, const AVCodec *codec, const AVCodecParameters *in,
                      AVRational time_base, AVRational frame_rate, const RecBoxTrack *track,
                      int64_t mono_offset_ns, bool global_header);

/* The encoded stream's parameters (with its extradata), owned by `ve`. */
const AVCodecParameters *rec_videoenc_par(const RecVideoEnc *ve);

/*
 * Hand in the clip's next video packet, timed in the time base given at
 * open, from zero and increasing; `wall_ns` is its arrival time. Takes the
 * packet's reference (pkt is blank on return). A packet that does not
 * decode is skipped (logged at DEBUG) and counts as sent. Returns 0 or a
 * negative AVERROR (ENOMEM, an encoder failure).
 */
int rec_videoenc_send(RecVideoEnc *ve, AVPacket *pkt, int64_t wall_ns);

/* No more input: every waiting packet is decoded and the encoder drained;
 * what they give comes out of rec_videoenc_receive(). Returns 0 or a
 * negative AVERROR. */
int rec_videoenc_flush(RecVideoEnc *ve);

/*
 * The next encoded packet into `out` (pts/dts/duration in the time base
 * given at open). Returns 0, AVERROR(EAGAIN) when there is none for now
 * (flow control, not a failure), or AVERROR_EOF once flushed and empty.
 */
int rec_videoenc_receive(RecVideoEnc *ve, AVPacket *out);

/* Free the transcoder and whatever it still holds; NULL ok. */
void rec_videoenc_free(RecVideoEnc **ve);

#endif /* CAMWATCH_RECORD_VIDEOENC_H */
