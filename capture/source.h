/*
 * The camera as libavformat sees it: open RTSP_URL, find its video stream,
 * and read its packets with every blocking call bounded by TIMEOUT_SECONDS
 * (an AVIOInterruptCB with a monotonic deadline) and by the stop flag.
 * Files are read at the pace they were recorded, as a camera would send them.
 *
 * Errors: negative AVERROR codes, as everywhere in capture/ (it wraps
 * libav). A system call's errno e is returned as AVERROR(e).
 */
#ifndef CAPTURE_SOURCE_H
#define CAPTURE_SOURCE_H

#include "config.h"

#include <libavformat/avformat.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct CaptureSource CaptureSource;

/*
 * Called from inside libav while it waits for the camera (and before each
 * read), with CLOCK_MONOTONIC now: keeps heartbeats going during a slow
 * connect. Must be cheap and must not call libav.
 */
typedef void (*CaptureWaitFn)(void *arg, int64_t now_ns);

/* No video arrived for TIMEOUT_SECONDS (or no answer to a connect). */
#define CAPTURE_ERR_STALLED AVERROR(ETIMEDOUT)
/* This installation cannot read such a source (e.g. V4L2 without
 * libavdevice): restarting will not help. */
#define CAPTURE_ERR_UNSUPPORTED FFERRTAG('C', 'W', 'N', 'S')

/*
 * Connect to cfg->rtsp_url and find its best video stream. RTSP goes over
 * cfg->rtsp_transport; with "auto", over the transport remembered from an
 * earlier connect, else TCP, and when the camera refuses that one over the
 * other (TCP or UDP), which is then remembered (transport.h) and logged
 * once at INFO. On failure logs one ERROR line naming the (masked) URL and
 * the reason (for a refused transport: what to set RTSP_TRANSPORT to),
 * unless `*stop` is set, and returns a negative AVERROR: AVERROR(ENOMEM)
 * for an internal failure, AVERROR_EXIT when stopped,
 * CAPTURE_ERR_UNSUPPORTED for a source this installation cannot read;
 * anything else is the camera's (or the network's) doing, a refused
 * transport too (a camera's settings change). On success *src owns the
 * connection.
 */
int capture_source_open(CaptureSource **src, const CwConfig *cfg, const volatile sig_atomic_t *stop,
                        CaptureWaitFn on_wait, void *wait_arg);

/*
 * Read the next packet of the video stream or of the audio stream
 * (capture_source_audio(); pkt->stream_index tells them apart) into `pkt`
 * (which the caller unreferences after use); packets of other streams are
 * discarded. Audio packets keep their own timestamps (in their stream's
 * time base) and never count as a sign of life of the video. A file
 * source sleeps until the packet is due; a source without timestamps gets
 * its arrival time as pts and dts (see capture_source_time_base()). Returns 0, AVERROR_EOF at the
 * end of the file or stream, AVERROR_EXIT when stopped, CAPTURE_ERR_STALLED when no video arrived
 * for TIMEOUT_SECONDS, or another negative AVERROR.
 */
int capture_source_read(CaptureSource *src, AVPacket *pkt);

/* The video stream (valid while the source is open). */
const AVStream *capture_source_video(const CaptureSource *src);

/*
 * The audio stream read beside the video (valid while the source is open),
 * the one libav rates best for the video; NULL if the camera sends no sound
 * or RECORD_AUDIO=off.
 */
const AVStream *capture_source_audio(const CaptureSource *src);

/*
 * Time base of the pts/dts that read() returns: the stream's, except for
 * sources without timestamps (MJPEG over HTTP), which read() stamps with
 * their arrival time in 1/90000 s so that recordings play at true speed.
 */
AVRational capture_source_time_base(const CaptureSource *src);

/* Frame rate the source states or libav measured; 0/0 if unknown. */
AVRational capture_source_frame_rate(const CaptureSource *src);

/* For an RTSP source, the RTP transport in use ("TCP", "UDP", ...); else NULL. */
const char *capture_source_transport(const CaptureSource *src);

/*
 * RTP packets lost since the source was opened (counted as read() returns),
 * as libavformat's RTP demuxer reports the gaps in their sequence numbers.
 * Always 0 over TCP, which does not lose packets.
 */
uint64_t capture_source_packets_lost(const CaptureSource *src);

/* True for a file read at recorded pace: its end is a normal end. */
bool capture_source_is_file(const CaptureSource *src);

/* Close the connection (bounded: at most about a second) and free; NULL ok. */
void capture_source_close(CaptureSource **src);

#endif /* CAPTURE_SOURCE_H */
