/*
 * When motion is over: the rule that ends an event, shared by record (the
 * clip ends) and camwatch-mqtt (motion goes OFF), so that Home Assistant's
 * motion sensor turns off exactly when the clip's post-capture ends. Pure:
 * the caller passes every time in, all CLOCK_MONOTONIC ns (the mono_ns
 * stamps of motion events and packets, payload.h): a step of the wall clock
 * must neither end an event early nor stretch it. No error.
 */
#ifndef CAMWATCH_MOTIONSPAN_H
#define CAMWATCH_MOTIONSPAN_H

#include <stdbool.h>
#include <stdint.h>

/* Events trail the video by the detector's latency: motion is not declared
 * over on the clock alone until the events caught up, or this much later (a
 * stalled or paused detector must not keep an event open forever). */
#define CW_MOTION_DETECT_GRACE_NS (2 * 1000000000LL)

/*
 * True once the event whose newest motion was at `last_motion_ns` is over at
 * `now_ns`: `now_ns` is past last_motion_ns + post_capture_ns (the
 * deadline), and either the detector's newest event (`last_event_ns`, of any
 * kind) is past it too, or `now_ns` is `grace_ns` beyond it.
 */
bool cw_motion_over(int64_t last_motion_ns, int64_t last_event_ns, int64_t now_ns,
                    int64_t post_capture_ns, int64_t grace_ns);

#endif /* CAMWATCH_MOTIONSPAN_H */
