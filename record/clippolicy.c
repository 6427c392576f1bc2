/*
 * Clip policy: when a clip starts, is extended, ends or is cut.
 *
 *  phase      input                                     decision
 *  ---------  ----------------------------------------  ------------------------------------------
 *  idle       motion event, no write error in the last  START; pre-roll from the keyframe at or
 *             WRITE_RETRY (10 s)                        before motion - PRE_CAPTURE_SECONDS
 *  idle       motion event within 10 s of a write error HELD_OFF: no clip
 *  any        event without motion                      nothing (its time tells how far the
 *                                                       detector got)
 *  waiting,   motion event                              EXTEND: the clip lasts until the newest
 *  recording                                            motion + POST_CAPTURE_SECONDS
 *
 *  per packet, in this order (waiting or recording):
 *  recording  packet of another stream (reconnect)      END camera_lost; the packet is left unread
 *  waiting    packet of another stream                  NEW_STREAM: follow it (no file yet)
 *  any        arrived after last motion + post, and the END (normal); the packet is not part of it
 *             detector's events are past that too, or
 *             the packet is DETECT_GRACE (2 s) later
 *  recording  clip >= MAX_CLIP_SECONDS at a keyframe,   CUT max_length; a new clip continues at
 *             or >= MAX_CLIP + MAX_OVERRUN (30 s) at    this packet (waiting for a keyframe)
 *             any packet
 *  any        a keyframe is needed and this is none     SKIP
 *  waiting    a keyframe                                WRITE, opening the file: recording
 *  recording  anything else                             WRITE
 *
 *  waiting,   no packet for TIMEOUT_SECONDS             END camera_lost (no file: no clip)
 *  recording
 *  waiting,   stop requested (after the packets         END shutdown
 *  recording  published before it were read)
 *  any end    the file could not be finished (disk      cut_short disk_full / write_error
 *             full, I/O error)                          instead of the end's own; no new clip
 *                                                       for 10 s
 *
 * A clip's length is measured by the stream's clock, unless that strays
 * more than 10 s from the arrival times (the camera's clock jumped).
 *
 * Every time here is CLOCK_MONOTONIC: the events' and packets' mono_ns
 * stamps, never their wall time, which NTP or a user may step.
 */
#include "clippolicy.h"

#include "motionspan.h"
#include "sidecar.h"

#include <stddef.h>

void rec_clip_policy_init(RecClipPolicy *p, const RecClipRules *rules)
{
    *p = (RecClipPolicy){.rules = *rules, .phase = REC_CLIP_IDLE};
}

/* A clip begins (a first motion, or the continuation of a cut one). */
static void begin(RecClipPolicy *p, int64_t now_mono_ns)
{
    p->phase = REC_CLIP_WAITING;
    p->need_key = true;
    p->last_packet_mono_ns = now_mono_ns; /* silence is counted from here */
}

void rec_clip_policy_on_event(RecClipPolicy *p, bool motion, CwStamp at, int64_t now_mono_ns,
                              RecEventDecision *decision)
{
    /* The frame's monotonic stamp: its wall time may have stepped. */
    int64_t event_ns = at.mono_ns;

    *decision = (RecEventDecision){.verdict = REC_EVENT_NONE};
    if (event_ns > p->last_event_mono_ns)
        p->last_event_mono_ns = event_ns;
    if (!motion)
        return;
    if (p->phase == REC_CLIP_IDLE) {
        if (p->held_off && now_mono_ns < p->retry_after_mono_ns) {
            decision->verdict = REC_EVENT_HELD_OFF;
            return;
        }
        p->held_off = false;
        begin(p, now_mono_ns);
        p->last_motion_mono_ns = event_ns;
        decision->verdict = REC_EVENT_START;
        /* Every clip gets its whole pre-roll, even when that repeats the end
         * of the previous clip: a clip must make sense on its own. */
        decision->preroll_target_mono_ns = event_ns - p->rules.pre_capture_ns;
        return;
    }
    /* Events may arrive out of order only by a frame or so; the newest counts. */
    if (event_ns > p->last_motion_mono_ns)
        p->last_motion_mono_ns = event_ns;
    decision->verdict = REC_EVENT_EXTEND;
}

void rec_clip_policy_cancel(RecClipPolicy *p)
{
    p->phase = REC_CLIP_IDLE;
    p->need_key = false;
}

int64_t rec_clip_policy_elapsed(int64_t elapsed_arrival_ns, int64_t elapsed_media_ns)
{
    if (elapsed_media_ns == REC_NO_MEDIA_TIME || elapsed_media_ns < 0 ||
        elapsed_media_ns > elapsed_arrival_ns + REC_CLOCK_SLACK_NS ||
        elapsed_media_ns < elapsed_arrival_ns - REC_CLOCK_SLACK_NS)
        return elapsed_arrival_ns;
    return elapsed_media_ns;
}

void rec_clip_policy_on_packet(RecClipPolicy *p, const RecPacketIn *in, RecPacketDecision *decision)
{
    const RecClipRules *rules = &p->rules;
    bool recording = p->phase == REC_CLIP_RECORDING;

    *decision = (RecPacketDecision){.verdict = REC_PACKET_SKIP, .end = REC_END_NONE};
    if (p->phase == REC_CLIP_IDLE)
        return; /* no clip: the packet is none of its business */

    if (in->stream_changed) {
        if (recording) {
            /* The camera reconnected (capture restarted): the file's stream
             * parameters no longer describe what comes. */
            decision->verdict = REC_PACKET_END;
            decision->end = REC_END_CAMERA_LOST;
        } else {
            decision->verdict = REC_PACKET_NEW_STREAM;
        }
        return;
    }
    p->last_packet_mono_ns = in->now_mono_ns;

    /* The packet's monotonic arrival is record's clock: motionspan.h's
     * rule, which camwatch-mqtt applies to its own monotonic clock. */
    if (cw_motion_over(p->last_motion_mono_ns, p->last_event_mono_ns, in->arrival.mono_ns,
                       rules->post_capture_ns, rules->detect_grace_ns)) {
        decision->verdict = REC_PACKET_END;
        decision->end = REC_END_MOTION_OVER;
        return;
    }
    if (recording) {
        int64_t elapsed = rec_clip_policy_elapsed(in->elapsed_arrival_ns, in->elapsed_media_ns);
        if (elapsed >= rules->max_clip_ns &&
            (in->key || elapsed >= rules->max_clip_ns + rules->max_overrun_ns)) {
            decision->verdict = REC_PACKET_CUT;
            decision->end = REC_END_MAX_LENGTH;
            return;
        }
    }
    if (p->need_key && !in->key)
        return; /* SKIP */
    decision->verdict = REC_PACKET_WRITE;
    decision->open_file = !recording;
    p->phase = REC_CLIP_RECORDING;
    p->need_key = false;
}

void rec_clip_policy_gap(RecClipPolicy *p)
{
    p->need_key = true;
}

void rec_clip_policy_continue(RecClipPolicy *p, int64_t now_mono_ns)
{
    begin(p, now_mono_ns);
}

enum RecClipEnd rec_clip_policy_on_tick(const RecClipPolicy *p, int64_t now_mono_ns)
{
    if (p->phase == REC_CLIP_IDLE)
        return REC_END_NONE;
    /* A reconnect (new stream) is noticed on the first packet of the new
     * stream; until one comes, silence ends the clip. */
    if (now_mono_ns - p->last_packet_mono_ns > p->rules.camera_timeout_ns)
        return REC_END_CAMERA_LOST;
    return REC_END_NONE;
}

enum RecClipEnd rec_clip_policy_on_stop(const RecClipPolicy *p)
{
    return p->phase == REC_CLIP_IDLE ? REC_END_NONE : REC_END_SHUTDOWN;
}

const char *rec_clip_policy_ended(RecClipPolicy *p, enum RecClipEnd why,
                                  enum RecClipOutcome outcome, int64_t now_mono_ns)
{
    p->phase = REC_CLIP_IDLE;
    p->need_key = false;
    if (outcome != REC_OUTCOME_OK) {
        p->held_off = true;
        p->retry_after_mono_ns = now_mono_ns + p->rules.write_retry_ns;
        /* What the file lacks matters more than why it was being closed. */
        return outcome == REC_OUTCOME_DISK_FULL ? REC_CUT_DISK_FULL : REC_CUT_WRITE_ERROR;
    }
    switch (why) {
    case REC_END_MAX_LENGTH:
        return REC_CUT_MAX_LENGTH;
    case REC_END_CAMERA_LOST:
        return REC_CUT_CAMERA_LOST;
    case REC_END_SHUTDOWN:
        return REC_CUT_SHUTDOWN;
    case REC_END_WRITE_FAILED:
    case REC_END_OPEN_FAILED:
        return REC_CUT_WRITE_ERROR; /* the outcome says so too, normally */
    case REC_END_NONE:
    case REC_END_MOTION_OVER:
        break;
    }
    return NULL;
}
