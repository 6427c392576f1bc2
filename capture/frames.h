/*
 * The frames ring as capture writes it: decoded pictures, decimated to
 * DETECT_FPS by their capture time, as packed YUV420P (CwFrameHeader, then
 * the Y, U and V planes with no row padding).
 *
 * Errors: negative AVERROR codes, as everywhere in capture/ (it wraps
 * libav). A system call's errno e is returned as AVERROR(e).
 */
#ifndef CAPTURE_FRAMES_H
#define CAPTURE_FRAMES_H

#include "clock.h"
#include "ring.h"

#include <libavutil/frame.h>

#include <stdbool.h>
#include <stdint.h>

struct SwsContext;

typedef struct CaptureFrames {
    CwRing *ring;        /* not owned */
    int frame_buffer_mb; /* FRAME_BUFFER_MB, for the "too big" message */
    int64_t interval_ns; /* 1 / DETECT_FPS */
    int64_t next_due_ns; /* CLOCK_REALTIME capture time of the next frame to publish */
    bool started;
    bool too_big_logged;
    bool unsupported_logged;
    struct SwsContext *sws; /* only for pixel formats other than YUV420P/YUVJ420P */
    uint64_t published;
} CaptureFrames;

/* Bind to the frames ring (the caller keeps owning it). */
void capture_frames_init(CaptureFrames *frames, CwRing *ring, double detect_fps,
                         int frame_buffer_mb);

/*
 * Whether a frame captured at `mono_ns` (CLOCK_MONOTONIC) would be
 * published now, were it offered: capture_frames_offer() would take it.
 * Changes nothing, so that a packet of an intra-only codec can be left
 * undecoded when its picture would be skipped anyway.
 */
bool capture_frames_wants(const CaptureFrames *frames, int64_t mono_ns);

/*
 * Offer a decoded frame captured at `at` (its packet's arrival, both
 * clocks): it is published, tagged with `epoch`, if it is due at DETECT_FPS
 * (on the monotonic clock), else skipped.
 * A frame too large for the ring is skipped (logged once). Returns 1 if
 * published, 0 if not, or a negative AVERROR on an internal failure
 * (AVERROR(ENOMEM) when no scaler can be set up).
 */
int capture_frames_offer(CaptureFrames *frames, const AVFrame *frame, CwStamp at, uint64_t epoch);

/* Free the scaler. */
void capture_frames_fini(CaptureFrames *frames);

#endif /* CAPTURE_FRAMES_H */
