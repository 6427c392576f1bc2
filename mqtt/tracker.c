/*
 * Event tracker (the rules tracker.h announces):
 *
 *  state            input                               message
 *  ---------------  ----------------------------------  -------------------------------------
 *  no event ON      motion frame                        START (motion ON)
 *  ON               motion frame                        peak/zones noted; UPDATE at most 1/s
 *  ON               motion over (motionspan.h)          motion OFF (no message yet)
 *  OFF, open        its final clip delivered            END with the clip's paths
 *  OFF, open        no clip expected (record paused)    END at once
 *  OFF, open        CLIP_WAIT (30 s) without its clip   END without paths
 *  OFF, open        a new motion frame                  the event waits in `closing`; START
 */
#include "tracker.h"

#include <stdio.h>
#include <string.h>

#include "motionspan.h"

void mqtt_tracker_init(MqttTracker *t, int64_t post_capture_ns, int64_t grace_ns)
{
    memset(t, 0, sizeof(*t));
    t->post_capture_ns = post_capture_ns;
    t->grace_ns = grace_ns;
}

bool mqtt_tracker_motion(const MqttTracker *t)
{
    return t->current.active;
}

static void end_event(MqttEvent *e, MqttEmit emit, void *data)
{
    emit(e, MQTT_EVENT_END, data);
    e->open = false;
}

static void note_peak(MqttEvent *e, const CwEvent *ev)
{
    if (ev->changed_percent > e->peak_changed_percent) {
        e->peak_changed_percent = ev->changed_percent;
        e->box_count = ev->box_count < CW_MAX_BOXES ? ev->box_count : CW_MAX_BOXES;
        memcpy(e->boxes, ev->boxes, sizeof(CwBox) * (size_t)e->box_count);
        e->width = ev->width;
        e->height = ev->height;
        e->changed = true;
    }
    if ((e->zones | ev->zones) != e->zones) {
        e->zones |= ev->zones;
        e->changed = true;
    }
}

void mqtt_tracker_on_event(MqttTracker *t, const CwEvent *ev, bool record_paused, CwStamp now,
                           MqttEmit emit, void *data)
{
    if (ev->mono_ns > t->last_event_mono_ns)
        t->last_event_mono_ns = ev->mono_ns;
    if (!ev->motion)
        return;
    MqttEvent *e = &t->current;
    if (e->active) {
        /* The newest by the monotonic clock; its wall time is what is told. */
        if (ev->mono_ns > e->last_motion_mono_ns) {
            e->last_motion_mono_ns = ev->mono_ns;
            e->last_motion_ns = ev->wall_ns;
        }
        note_peak(e, ev);
        return;
    }
    if (e->open) {
        if (t->closing.open)
            end_event(&t->closing, emit, data); /* two events waited for clips at once */
        t->closing = *e;
    }
    memset(e, 0, sizeof(*e));
    e->open = e->active = true;
    e->expect_clip = !record_paused;
    e->start_ns = e->last_motion_ns = ev->wall_ns;
    e->last_motion_mono_ns = ev->mono_ns;
    e->last_update_mono_ns = now.mono_ns;
    note_peak(e, ev);
    e->changed = false;
    emit(e, MQTT_EVENT_START, data);
}

/* END for an event that is OFF, when its clip is there or will not come. */
static void maybe_end(MqttEvent *e, int64_t now_mono_ns, MqttEmit emit, void *data)
{
    if (!e->open || e->active)
        return;
    if (e->have_clip || !e->expect_clip || now_mono_ns - e->off_mono_ns > MQTT_CLIP_WAIT_NS)
        end_event(e, emit, data);
}

void mqtt_tracker_on_tick(MqttTracker *t, CwStamp now, MqttEmit emit, void *data)
{
    MqttEvent *e = &t->current;
    if (e->active && cw_motion_over(e->last_motion_mono_ns, t->last_event_mono_ns, now.mono_ns,
                                    t->post_capture_ns, t->grace_ns)) {
        e->active = false;
        e->off_ns = now.wall_ns;
        e->off_mono_ns = now.mono_ns;
        /* The clip may have come first: record's clock is its packets'. */
    }
    if (e->active && e->changed &&
        now.mono_ns - e->last_update_mono_ns >= MQTT_UPDATE_INTERVAL_NS) {
        e->changed = false;
        e->last_update_mono_ns = now.mono_ns;
        emit(e, MQTT_EVENT_UPDATE, data);
    }
    maybe_end(&t->closing, now.mono_ns, emit, data);
    maybe_end(e, now.mono_ns, emit, data);
}

/* A clip that continues one cut at MAX_CLIP_SECONDS begins where the cut
 * was, which may be in the event's post-capture time. */
static bool clip_matches(const MqttTracker *t, const MqttEvent *e, int64_t motion_start_ns)
{
    return e->open && motion_start_ns >= e->start_ns - MQTT_CLIP_MATCH_SLACK_NS &&
           motion_start_ns <= e->last_motion_ns + t->post_capture_ns + MQTT_CLIP_MATCH_SLACK_NS;
}

bool mqtt_tracker_on_clip(MqttTracker *t, int64_t motion_start_ns, bool final, const char *clip,
                          const char *snapshot, const char *sidecar, CwStamp now, MqttEmit emit,
                          void *data)
{
    MqttEvent *e = clip_matches(t, &t->closing, motion_start_ns)   ? &t->closing
                   : clip_matches(t, &t->current, motion_start_ns) ? &t->current
                                                                   : NULL;
    if (!e)
        return false;
    snprintf(e->clip, sizeof(e->clip), "%s", clip);
    snprintf(e->snapshot, sizeof(e->snapshot), "%s", snapshot ? snapshot : "");
    snprintf(e->sidecar, sizeof(e->sidecar), "%s", sidecar);
    /* A clip cut at max length is the event's so far, not its last. */
    e->have_clip = final;
    maybe_end(e, now.mono_ns, emit, data);
    return true;
}
