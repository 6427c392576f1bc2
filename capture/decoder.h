/*
 * The video decoder: every packet is decoded (later pictures reference
 * earlier ones), each picture comes out with the capture time of the packet
 * that produced it, and corrupt data is counted rather than fatal. Pictures
 * that are damaged, or may be predicted from damaged ones, are withheld
 * until a clean keyframe (damage.h): they never reach detection.
 *
 * Errors: negative AVERROR codes, as everywhere in capture/ (it wraps
 * libav). A system call's errno e is returned as AVERROR(e).
 */
#ifndef CAPTURE_DECODER_H
#define CAPTURE_DECODER_H

#include "clock.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct CaptureDecoder CaptureDecoder;

/*
 * Receives each decoded picture with its packet's arrival (both clocks).
 * The frame is the decoder's and valid only during the call. Returns 0, or
 * a negative AVERROR that stops decoding and is passed back to the caller.
 */
typedef int (*CaptureFrameFn)(void *arg, const AVFrame *frame, CwStamp at);

/* How to decode, from the configuration. */
typedef struct CaptureDecoderConfig {
    int threads; /* DECODE_THREADS */
    /* DETECT_WIDTH: an intra-only codec whose decoder can decode at reduced
     * size (MJPEG's lowres) is decoded at the smallest size at least this
     * wide (lowres.h); 0: always at full size. */
    int analysis_width;
    /* HWACCEL: auto, none, vaapi, v4l2m2m or drm (hwaccel.h); NULL: none.
     * A method that is not available falls back to software, logged. */
    const char *hwaccel;
} CaptureDecoderConfig;

/*
 * Open a decoder for `video`, whose packets carry timestamps in
 * `time_base`, as `cfg` says; logs one INFO line when it decodes at reduced
 * size, and one line for HWACCEL (the method in use, or what was tried and
 * that it decodes in software). Returns 0, AVERROR_DECODER_NOT_FOUND (logged) or another negative
 * AVERROR.
 */
int capture_decoder_open(CaptureDecoder **dec, const AVStream *video, AVRational time_base,
                         const CaptureDecoderConfig *cfg);

/*
 * Whether every picture stands alone (MJPEG: the codec descriptor's
 * AV_CODEC_PROP_INTRA_ONLY): a packet whose picture detection would not
 * analyse need not be decoded at all (capture_decoder_skip()).
 */
bool capture_decoder_intra_only(const CaptureDecoder *dec);

/* The reduced-size shift in use (pictures come out 1/2^n in each direction); 0: full size. */
int capture_decoder_lowres(const CaptureDecoder *dec);

/*
 * Pass over one packet without decoding it (only for an intra-only
 * decoder, whose later pictures never refer to it): it is counted, so that
 * a loss noted for it (capture_decoder_note_loss()) withholds its picture
 * and no other.
 */
void capture_decoder_skip(CaptureDecoder *dec);

/* Packets passed over with capture_decoder_skip() since it was opened. */
uint64_t capture_decoder_skipped(const CaptureDecoder *dec);

/*
 * Decode one packet that arrived at `at` and hand every picture it
 * completes to `on_frame`, except the ones withheld as damaged. Corrupt data
 * (a rejected packet, a damaged picture) is counted for
 * capture_decoder_tick(); it is not an error here. Returns 0, or a
 * negative AVERROR for what must end capture (AVERROR(ENOMEM), or
 * on_frame's error). No allocation of ours on this path.
 */
int capture_decoder_decode(CaptureDecoder *dec, const AVPacket *pkt, CwStamp at,
                           CaptureFrameFn on_frame, void *arg);

/*
 * The source lost data (RTP packets) while it read the packet that is
 * decoded next: pictures are withheld from that packet on until a keyframe
 * from a later packet decodes clean.
 */
void capture_decoder_note_loss(CaptureDecoder *dec);

/* CLOCK_MONOTONIC when the last picture came out, withheld or not (the open
 * time before): a camera whose pictures are all damaged has not stalled. */
int64_t capture_decoder_last_frame_ns(const CaptureDecoder *dec);

/* Packets the decoder rejected since it was opened. */
uint64_t capture_decoder_errors(const CaptureDecoder *dec);

/* Pictures decoded since it was opened, withheld ones included. */
uint64_t capture_decoder_pictures(const CaptureDecoder *dec);

/* Pictures withheld from on_frame since it was opened (damaged or dependent). */
uint64_t capture_decoder_withheld(const CaptureDecoder *dec);

/*
 * Log one WARNING summing up the corrupt data seen since the previous one
 * (rejected packets, damaged pictures, the decoder's own complaints,
 * pictures withheld), at most once per 10 s and only if there was any.
 * Call about once a second.
 */
void capture_decoder_tick(CaptureDecoder *dec, int64_t now_ns);

/* Free the decoder; NULL ok, sets *dec to NULL. */
void capture_decoder_close(CaptureDecoder **dec);

#endif /* CAPTURE_DECODER_H */
