/*
 * What camwatch-mqtt tells about motion, as a pure function of the events
 * ring and the clips delivered: when motion turns ON and OFF (OFF by the
 * rule record ends its clip with, motionspan.h), and each event's start,
 * updates (its peak or zones grew; at most one a second) and end, which
 * waits for the event's clip to be delivered (or for CLIP_WAIT without one:
 * recording paused, record down). No ring, clock or I/O: times are passed in,
 * on both clocks (clock.h): every deadline runs on CLOCK_MONOTONIC (the
 * events' mono_ns), so that a step of the wall clock neither turns motion
 * OFF early nor holds it ON; wall time is only told and matched against the
 * clips' sidecars. No function returns an error.
 */
#ifndef CAMWATCH_MQTT_TRACKER_H
#define CAMWATCH_MQTT_TRACKER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "payload.h"

/* An event's end is sent without a clip if none came this long after OFF. */
#define MQTT_CLIP_WAIT_NS (30 * 1000000000LL)
/* Updates of one event at most this often. */
#define MQTT_UPDATE_INTERVAL_NS (1000000000LL)
/* A clip belongs to an event if its motion began within the event (its post-capture
 * included), or this near it. */
#define MQTT_CLIP_MATCH_SLACK_NS (1000000000LL)

enum MqttEventType { MQTT_EVENT_START, MQTT_EVENT_UPDATE, MQTT_EVENT_END };

/* One event as told (its clip's paths once delivered). */
typedef struct MqttEvent {
    bool open;              /* started, end not sent yet */
    bool active;            /* motion ON */
    bool expect_clip;       /* recording was not paused when it began */
    int64_t start_ns;       /* its first motion frame (wall) */
    int64_t last_motion_ns; /* its newest motion frame (wall) */
    int64_t last_motion_mono_ns;
    int64_t off_ns; /* when motion went OFF (wall; active false) */
    int64_t off_mono_ns;
    int64_t last_update_mono_ns;
    bool changed; /* peak or zones grew since the last message */
    float peak_changed_percent;
    int box_count;
    CwBox boxes[CW_MAX_BOXES]; /* of the peak frame, in its coordinates */
    int32_t width, height;
    uint32_t zones;
    bool have_clip; /* clip, snapshot and sidecar below are set */
    char clip[PATH_MAX], snapshot[PATH_MAX], sidecar[PATH_MAX];
} MqttEvent;

typedef struct MqttTracker {
    int64_t post_capture_ns;
    int64_t grace_ns;
    int64_t last_event_mono_ns; /* the newest event of any kind */
    MqttEvent current;          /* the newest event */
    MqttEvent closing;          /* the one before, OFF and waiting for its clip */
} MqttTracker;

/* What a call asks the caller to publish: the event and the message type. */
typedef void (*MqttEmit)(const MqttEvent *event, enum MqttEventType type, void *data);

/* No event yet. */
void mqtt_tracker_init(MqttTracker *t, int64_t post_capture_ns, int64_t grace_ns);

/* True while motion is ON. */
bool mqtt_tracker_motion(const MqttTracker *t);

/*
 * One event of the events ring; `record_paused` says whether a clip can be
 * expected for an event it starts. A motion frame with no event ON starts
 * one (START; the previous event, still waiting for its clip, moves to
 * `closing`, and one already there is ended without a clip).
 */
void mqtt_tracker_on_event(MqttTracker *t, const CwEvent *ev, bool record_paused, CwStamp now,
                           MqttEmit emit, void *data);

/* The clock moved: OFF when motion is over, a due UPDATE, an END due. */
void mqtt_tracker_on_tick(MqttTracker *t, CwStamp now, MqttEmit emit, void *data);

/*
 * A clip was delivered whose motion began at `motion_start_ns`; `final` is
 * false for a clip cut at MAX_CLIP_SECONDS (its event goes on in the next
 * clip). Paths are copied. The event it belongs to takes them; a final clip
 * of an event that is OFF ends it (END). Returns true if an event took it.
 */
bool mqtt_tracker_on_clip(MqttTracker *t, int64_t motion_start_ns, bool final, const char *clip,
                          const char *snapshot, const char *sidecar, CwStamp now, MqttEmit emit,
                          void *data);

#endif /* CAMWATCH_MQTT_TRACKER_H */
