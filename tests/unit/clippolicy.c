/* record's clip policy, rule by rule (record/clippolicy.c's table). */
#include "check.h"

#include "../../record/clippolicy.h"
#include "../../record/sidecar.h"

#define S(x) ((int64_t)((x)*1e9))

/* Wall and monotonic clocks far apart, so that a mixed-up clock shows. */
#define WALL0 S(1795700000)
#define MONO0 S(5000)

/* PRE 5 s, POST 10 s, MAX 60 s, TIMEOUT 10 s, and the fixed margins. */
static RecClipPolicy policy(void)
{
    RecClipRules rules = {
        .pre_capture_ns = S(5),
        .post_capture_ns = S(10),
        .max_clip_ns = S(60),
        .camera_timeout_ns = S(10),
        .detect_grace_ns = REC_DETECT_GRACE_NS,
        .max_overrun_ns = REC_MAX_OVERRUN_NS,
        .write_retry_ns = REC_WRITE_RETRY_NS,
    };
    RecClipPolicy p;
    rec_clip_policy_init(&p, &rules);
    return p;
}

/* How far the wall clock was stepped (NTP) at the stamps made from now on. */
static int64_t wall_step_ns;

/* Both clocks at t s after WALL0 / MONO0 (the wall clock stepped by wall_step_ns). */
static CwStamp at(double t)
{
    return (CwStamp){.wall_ns = WALL0 + S(t) + wall_step_ns, .mono_ns = MONO0 + S(t)};
}

/* An event in a frame captured at t, seen at the same time. */
static enum RecEventVerdict event(RecClipPolicy *p, bool motion, double t, int64_t *target)
{
    RecEventDecision d;
    rec_clip_policy_on_event(p, motion, at(t), MONO0 + S(t), &d);
    if (target)
        *target = d.preroll_target_mono_ns;
    return d.verdict;
}

/* A packet that arrived at t; the clip's file (if open) began at `first`. */
static RecPacketDecision packet_at(RecClipPolicy *p, double t, bool key, double first)
{
    RecPacketIn in = {
        .now_mono_ns = MONO0 + S(t),
        .arrival = at(t),
        .key = key,
        .elapsed_arrival_ns = S(t - first),
        .elapsed_media_ns = S(t - first),
    };
    RecPacketDecision d;
    rec_clip_policy_on_packet(p, &in, &d);
    return d;
}

static enum RecPacketVerdict packet(RecClipPolicy *p, double t, bool key, double first)
{
    return packet_at(p, t, key, first).verdict;
}

/* Idle, a motion event starts a clip whose pre-roll begins PRE before it. */
static void test_start(void)
{
    RecClipPolicy p = policy();
    int64_t target;
    CHECK(p.phase == REC_CLIP_IDLE);
    CHECK(event(&p, false, 0, NULL) == REC_EVENT_NONE);
    CHECK(p.phase == REC_CLIP_IDLE);
    CHECK(event(&p, true, 1, &target) == REC_EVENT_START);
    CHECK(p.phase == REC_CLIP_WAITING && p.need_key);
    CHECK_EQ_U64(target, MONO0 + S(1) - S(5));
    CHECK_EQ_U64(p.last_motion_mono_ns, MONO0 + S(1));
    /* Every event, motion or not, says how far the detector got. */
    CHECK_EQ_U64(p.last_event_mono_ns, MONO0 + S(1));
}

/* Motion during a clip extends it; an older event never shortens it. */
static void test_extend(void)
{
    RecClipPolicy p = policy();
    CHECK(event(&p, true, 0, NULL) == REC_EVENT_START);
    CHECK(event(&p, true, 4, NULL) == REC_EVENT_EXTEND);
    CHECK_EQ_U64(p.last_motion_mono_ns, MONO0 + S(4));
    CHECK(event(&p, true, 3, NULL) == REC_EVENT_EXTEND);
    CHECK_EQ_U64(p.last_motion_mono_ns, MONO0 + S(4));
    CHECK(event(&p, false, 6, NULL) == REC_EVENT_NONE);
    CHECK_EQ_U64(p.last_motion_mono_ns, MONO0 + S(4));
    CHECK_EQ_U64(p.last_event_mono_ns, MONO0 + S(6));
}

/* The file opens at the clip's first keyframe; packets before it are dropped. */
static void test_first_keyframe_opens_the_file(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 10, NULL);
    CHECK(packet(&p, 5, false, 0) == REC_PACKET_SKIP);
    CHECK(p.phase == REC_CLIP_WAITING);
    RecPacketDecision d = packet_at(&p, 6, true, 0);
    CHECK(d.verdict == REC_PACKET_WRITE && d.open_file);
    CHECK(p.phase == REC_CLIP_RECORDING && !p.need_key);
    d = packet_at(&p, 6.1, false, 6);
    CHECK(d.verdict == REC_PACKET_WRITE && !d.open_file);
}

/* Post-capture over and the detector's events past it too: the clip ends,
 * and the packet after the deadline is not part of it. */
static void test_end_when_motion_is_over(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    event(&p, false, 10.5, NULL); /* the detector is past the deadline (0 + 10 s) */
    CHECK(packet(&p, 10, false, 0) == REC_PACKET_WRITE); /* at the deadline: still in */
    RecPacketDecision d = packet_at(&p, 10.1, false, 0);
    CHECK(d.verdict == REC_PACKET_END && d.end == REC_END_MOTION_OVER);
    CHECK(rec_clip_policy_ended(&p, d.end, REC_OUTCOME_OK, MONO0 + S(10.1)) == NULL);
    CHECK(p.phase == REC_CLIP_IDLE);
}

/* Events lag their packets: without news from the detector the clip waits
 * DETECT_GRACE past the deadline before it ends on packet time alone. */
static void test_end_waits_for_the_detector(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    CHECK(packet(&p, 11, false, 0) == REC_PACKET_WRITE);
    CHECK(packet(&p, 12, false, 0) == REC_PACKET_WRITE); /* deadline + grace: still in */
    /* The late event carries motion: the clip goes on. */
    CHECK(event(&p, true, 9, NULL) == REC_EVENT_EXTEND);
    CHECK(packet(&p, 12.5, false, 0) == REC_PACKET_WRITE);
    CHECK(packet(&p, 21, false, 0) == REC_PACKET_WRITE);
    CHECK(packet(&p, 21.1, false, 0) == REC_PACKET_END);
}

/* A stalled detector ends the clip DETECT_GRACE after the deadline. */
static void test_end_without_the_detector(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    RecPacketDecision d = packet_at(&p, 12.01, false, 0);
    CHECK(d.verdict == REC_PACKET_END && d.end == REC_END_MOTION_OVER);
}

/* The motion can be over before the clip's first keyframe came. */
static void test_end_before_a_keyframe(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    event(&p, false, 11, NULL);
    CHECK(packet(&p, 9, false, 0) == REC_PACKET_SKIP);
    RecPacketDecision d = packet_at(&p, 10.5, true, 0);
    CHECK(d.verdict == REC_PACKET_END && d.end == REC_END_MOTION_OVER);
}

/* At MAX_CLIP_SECONDS the clip is cut at the next keyframe, and the next
 * clip continues at that keyframe. */
static void test_max_length_cut_on_a_keyframe(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    for (double t = 1; t < 80; t += 1)
        event(&p, true, t, NULL);                          /* motion all along */
    CHECK(packet(&p, 59.9, true, 0) == REC_PACKET_WRITE);  /* a keyframe before the limit */
    CHECK(packet(&p, 60.0, false, 0) == REC_PACKET_WRITE); /* at the limit, no keyframe */
    CHECK(packet(&p, 60.5, false, 0) == REC_PACKET_WRITE);
    RecPacketDecision d = packet_at(&p, 61, true, 0);
    CHECK(d.verdict == REC_PACKET_CUT && d.end == REC_END_MAX_LENGTH);
    CHECK(!strcmp(rec_clip_policy_ended(&p, d.end, REC_OUTCOME_OK, MONO0 + S(61)),
                  REC_CUT_MAX_LENGTH));
    rec_clip_policy_continue(&p, MONO0 + S(61));
    CHECK(p.phase == REC_CLIP_WAITING && p.need_key);
    /* The same keyframe opens the next clip's file. */
    d = packet_at(&p, 61, true, 61);
    CHECK(d.verdict == REC_PACKET_WRITE && d.open_file);
}

/* Without a keyframe the clip is cut anyway MAX_OVERRUN after the limit;
 * the next clip then waits for a keyframe. */
static void test_max_length_cut_without_keyframe(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    for (double t = 1; t < 100; t += 1)
        event(&p, true, t, NULL);
    CHECK(packet(&p, 89.9, false, 0) == REC_PACKET_WRITE);
    CHECK(packet(&p, 90, false, 0) == REC_PACKET_CUT);
    rec_clip_policy_ended(&p, REC_END_MAX_LENGTH, REC_OUTCOME_OK, MONO0 + S(90));
    rec_clip_policy_continue(&p, MONO0 + S(90));
    CHECK(packet(&p, 90, false, 90) == REC_PACKET_SKIP);
    CHECK(packet(&p, 90.5, true, 90) == REC_PACKET_WRITE);
}

/* The length is the stream's clock unless it strays 10 s from arrival time. */
static void test_length_by_the_stream_clock(void)
{
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(60.2), S(59.9)), S(59.9)); /* jitter: the stream */
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(60), REC_NO_MEDIA_TIME), S(60));
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(60), S(75)), S(60)); /* jumped ahead */
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(60), S(45)), S(60)); /* jumped back */
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(5), -S(1)), S(5));
    CHECK_EQ_U64(rec_clip_policy_elapsed(S(60), S(70)), S(70)); /* 10 s off: still trusted */

    /* A packet arriving late must not cut the clip early (and vice versa). */
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    for (double t = 1; t < 70; t += 1)
        event(&p, true, t, NULL);
    RecPacketIn in = {
        .now_mono_ns = MONO0 + S(60.3),
        .arrival = at(60.3),
        .key = true,
        .elapsed_arrival_ns = S(60.3),
        .elapsed_media_ns = S(59.9),
    };
    RecPacketDecision d;
    rec_clip_policy_on_packet(&p, &in, &d);
    CHECK(d.verdict == REC_PACKET_WRITE);
    in.elapsed_arrival_ns = S(59.8);
    in.elapsed_media_ns = S(60.0);
    rec_clip_policy_on_packet(&p, &in, &d);
    CHECK(d.verdict == REC_PACKET_CUT);
}

/* Lost or torn packets: the clip resumes at the next keyframe. */
static void test_gap_waits_for_a_keyframe(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    rec_clip_policy_gap(&p);
    CHECK(packet(&p, 1, false, 0) == REC_PACKET_SKIP);
    CHECK(p.phase == REC_CLIP_RECORDING); /* the file stays open */
    RecPacketDecision d = packet_at(&p, 2, true, 0);
    CHECK(d.verdict == REC_PACKET_WRITE && !d.open_file);
    CHECK(packet(&p, 2.1, false, 0) == REC_PACKET_WRITE);
}

/* A new stream (the camera reconnected) ends a clip whose file is open;
 * before the file exists the clip follows the new stream. */
static void test_stream_change(void)
{
    RecClipPolicy p = policy();
    RecPacketDecision d;
    event(&p, true, 0, NULL);
    RecPacketIn in = {.now_mono_ns = MONO0 + S(1), .arrival = at(1), .key = true};
    in.stream_changed = true;
    rec_clip_policy_on_packet(&p, &in, &d);
    CHECK(d.verdict == REC_PACKET_NEW_STREAM);
    CHECK(p.phase == REC_CLIP_WAITING);
    in.stream_changed = false; /* followed: asked again */
    rec_clip_policy_on_packet(&p, &in, &d);
    CHECK(d.verdict == REC_PACKET_WRITE && d.open_file);

    in.arrival = at(2);
    in.stream_changed = true;
    rec_clip_policy_on_packet(&p, &in, &d);
    CHECK(d.verdict == REC_PACKET_END && d.end == REC_END_CAMERA_LOST);
    CHECK(!strcmp(rec_clip_policy_ended(&p, d.end, REC_OUTCOME_OK, MONO0 + S(2)),
                  REC_CUT_CAMERA_LOST));
}

/* No packet for TIMEOUT: the camera is lost, and the clip ends with what arrived. */
static void test_silence_is_a_lost_camera(void)
{
    RecClipPolicy p = policy();
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(100)) == REC_END_NONE); /* idle */
    event(&p, true, 0, NULL);
    /* Silence is counted from the start, before any packet came. */
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(10)) == REC_END_NONE);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(10.01)) == REC_END_CAMERA_LOST);
    CHECK(packet(&p, 5, true, 0) == REC_PACKET_WRITE);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(15)) == REC_END_NONE);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(15.01)) == REC_END_CAMERA_LOST);
    /* A skipped packet is a packet too: the camera is there. */
    rec_clip_policy_gap(&p);
    CHECK(packet(&p, 8, false, 5) == REC_PACKET_SKIP);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(18)) == REC_END_NONE);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(18.01)) == REC_END_CAMERA_LOST);
}

/* A stop ends the clip in progress as a shutdown. */
static void test_stop(void)
{
    RecClipPolicy p = policy();
    CHECK(rec_clip_policy_on_stop(&p) == REC_END_NONE);
    event(&p, true, 0, NULL);
    CHECK(rec_clip_policy_on_stop(&p) == REC_END_SHUTDOWN);
    CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
    CHECK(rec_clip_policy_on_stop(&p) == REC_END_SHUTDOWN);
    CHECK(!strcmp(rec_clip_policy_ended(&p, REC_END_SHUTDOWN, REC_OUTCOME_OK, MONO0),
                  REC_CUT_SHUTDOWN));
    CHECK(rec_clip_policy_on_stop(&p) == REC_END_NONE);
}

/* A file that could not be finished names the cut, whatever ended it, and
 * holds new clips off for WRITE_RETRY; a max-length continuation is not. */
static void test_write_errors(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    CHECK(
        !strcmp(rec_clip_policy_ended(&p, REC_END_MOTION_OVER, REC_OUTCOME_DISK_FULL, MONO0 + S(1)),
                REC_CUT_DISK_FULL));
    CHECK(event(&p, true, 5, NULL) == REC_EVENT_HELD_OFF);
    CHECK(p.phase == REC_CLIP_IDLE);
    CHECK(event(&p, true, 10.9, NULL) == REC_EVENT_HELD_OFF);
    CHECK(event(&p, true, 11, NULL) == REC_EVENT_START);
    CHECK(!strcmp(
        rec_clip_policy_ended(&p, REC_END_WRITE_FAILED, REC_OUTCOME_WRITE_FAILED, MONO0 + S(12)),
        REC_CUT_WRITE_ERROR));
    CHECK(event(&p, true, 13, NULL) == REC_EVENT_HELD_OFF);
    /* A file that could not even be created holds clips off too. */
    p = policy();
    event(&p, true, 0, NULL);
    rec_clip_policy_ended(&p, REC_END_OPEN_FAILED, REC_OUTCOME_WRITE_FAILED, MONO0);
    CHECK(event(&p, true, 1, NULL) == REC_EVENT_HELD_OFF);
    /* The disk filled at a max-length cut: the motion goes on in a new clip. */
    p = policy();
    event(&p, true, 0, NULL);
    rec_clip_policy_ended(&p, REC_END_MAX_LENGTH, REC_OUTCOME_DISK_FULL, MONO0 + S(60));
    rec_clip_policy_continue(&p, MONO0 + S(60));
    CHECK(p.phase == REC_CLIP_WAITING);
    /* A clip that ended well holds nothing off. */
    p = policy();
    event(&p, true, 0, NULL);
    CHECK(rec_clip_policy_ended(&p, REC_END_MOTION_OVER, REC_OUTCOME_OK, MONO0) == NULL);
    CHECK(event(&p, true, 0.1, NULL) == REC_EVENT_START);
}

/*
 * The wall clock steps (NTP) in the middle of an event, forward or back:
 * the clip still ends at its last motion + POST by the monotonic clock,
 * neither cut at the step nor held open by it, and a clip that starts
 * after a step gets its pre-roll on the monotonic clock too.
 */
static void test_wall_clock_step(void)
{
    static const int64_t steps[] = {3600 * S(1), -3600 * S(1), S(5), -S(5)};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        RecClipPolicy p = policy();
        wall_step_ns = 0;
        CHECK(event(&p, true, 0, NULL) == REC_EVENT_START);
        CHECK(packet(&p, 0, true, 0) == REC_PACKET_WRITE);
        CHECK(event(&p, true, 2, NULL) == REC_EVENT_EXTEND); /* motion until 2 s */
        wall_step_ns = steps[i];                             /* the step, at 3 s */
        for (double t = 3; t <= 12; t += 0.5) {
            event(&p, false, t + 0.5, NULL); /* the detector is ahead: no grace needed */
            CHECK(packet(&p, t, t == 6, 0) == REC_PACKET_WRITE); /* until 2 + 10 s */
        }
        RecPacketDecision d = packet_at(&p, 12.1, false, 0);
        CHECK(d.verdict == REC_PACKET_END && d.end == REC_END_MOTION_OVER);
        rec_clip_policy_ended(&p, d.end, REC_OUTCOME_OK, MONO0 + S(12.1));

        /* The next motion, after the step: its pre-roll by the monotonic clock. */
        int64_t target;
        CHECK(event(&p, true, 20, &target) == REC_EVENT_START);
        CHECK_EQ_U64(target, MONO0 + S(15));
        CHECK(packet(&p, 20, true, 20) == REC_PACKET_WRITE);
        CHECK(packet(&p, 30, false, 20) == REC_PACKET_WRITE);
        CHECK(packet(&p, 32.5, false, 20) == REC_PACKET_END); /* 20 + 10 + grace */
    }
    wall_step_ns = 0;
}

/* A start the caller could not carry out (no stream yet) leaves no trace. */
static void test_cancel(void)
{
    RecClipPolicy p = policy();
    event(&p, true, 0, NULL);
    rec_clip_policy_cancel(&p);
    CHECK(p.phase == REC_CLIP_IDLE);
    CHECK(rec_clip_policy_on_tick(&p, MONO0 + S(60)) == REC_END_NONE);
    CHECK(event(&p, true, 0.1, NULL) == REC_EVENT_START);
}

int main(void)
{
    RUN(test_start);
    RUN(test_extend);
    RUN(test_first_keyframe_opens_the_file);
    RUN(test_end_when_motion_is_over);
    RUN(test_end_waits_for_the_detector);
    RUN(test_end_without_the_detector);
    RUN(test_end_before_a_keyframe);
    RUN(test_max_length_cut_on_a_keyframe);
    RUN(test_max_length_cut_without_keyframe);
    RUN(test_length_by_the_stream_clock);
    RUN(test_gap_waits_for_a_keyframe);
    RUN(test_stream_change);
    RUN(test_silence_is_a_lost_camera);
    RUN(test_stop);
    RUN(test_write_errors);
    RUN(test_cancel);
    RUN(test_wall_clock_step);
    return 0;
}
