/*
 * When a clip starts, is extended, ends or is cut, as pure functions of what
 * record has seen: motion events, packets (their arrival time, whether they
 * are keyframes, how long the clip is at them), silence and a stop. No ring,
 * no clock, no I/O: the caller passes every time in, so every rule can be
 * read (and checked) in one place. The table of rules is in clippolicy.c.
 *
 * Times: every decision is taken on CLOCK_MONOTONIC (`*_mono_ns`, and the
 * mono_ns of the stamps passed in), so that a step of the wall clock (NTP)
 * neither ends a clip early nor stretches it; wall time is for names only,
 * and never read here. No function here returns an error.
 */
#ifndef CAMWATCH_RECORD_CLIPPOLICY_H
#define CAMWATCH_RECORD_CLIPPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "motionspan.h"

/* Events trail their packets by the detector's latency (motionspan.h). */
#define REC_DETECT_GRACE_NS CW_MOTION_DETECT_GRACE_NS
/* A clip at MAX_CLIP_SECONDS is cut at the next keyframe, so that the next
 * clip starts cleanly; without one for this long it is cut anyway. */
#define REC_MAX_OVERRUN_NS (30 * 1000000000LL)
/* After a write error (disk full) no new clip for this long: one clear
 * error per attempt, not one per motion event. */
#define REC_WRITE_RETRY_NS (10 * 1000000000LL)
/* The stream's clock measures a clip's length unless it strays this far
 * from the arrival times (the camera's clock jumped). */
#define REC_CLOCK_SLACK_NS (10 * 1000000000LL)
/* RecPacketIn.elapsed_media_ns when the stream has no timestamps. */
#define REC_NO_MEDIA_TIME INT64_MIN

enum RecClipPhase {
    REC_CLIP_IDLE,      /* no clip: packets are not looked at */
    REC_CLIP_WAITING,   /* a clip was started; its file opens at its first keyframe */
    REC_CLIP_RECORDING, /* the clip's file is open */
};

/* Why a clip ends. */
enum RecClipEnd {
    REC_END_NONE,         /* (not ending) */
    REC_END_MOTION_OVER,  /* post-capture time is over: a normal end */
    REC_END_MAX_LENGTH,   /* MAX_CLIP_SECONDS reached; the next clip continues */
    REC_END_CAMERA_LOST,  /* the stream changed under the file, or went silent */
    REC_END_SHUTDOWN,     /* record was asked to stop */
    REC_END_WRITE_FAILED, /* writing a packet failed */
    REC_END_OPEN_FAILED,  /* the clip's file could not be created */
};

/* How finishing the clip's file went (the caller maps its error codes). */
enum RecClipOutcome {
    REC_OUTCOME_OK,
    REC_OUTCOME_DISK_FULL,    /* ENOSPC or EDQUOT */
    REC_OUTCOME_WRITE_FAILED, /* any other failure to create, write or sync the file */
};

typedef struct RecClipRules {
    int64_t pre_capture_ns;    /* PRE_CAPTURE_SECONDS */
    int64_t post_capture_ns;   /* POST_CAPTURE_SECONDS */
    int64_t max_clip_ns;       /* MAX_CLIP_SECONDS */
    int64_t camera_timeout_ns; /* TIMEOUT_SECONDS: no packet this long is a lost camera */
    int64_t detect_grace_ns;   /* REC_DETECT_GRACE_NS */
    int64_t max_overrun_ns;    /* REC_MAX_OVERRUN_NS */
    int64_t write_retry_ns;    /* REC_WRITE_RETRY_NS */
} RecClipRules;

/* What the policy remembers between two calls. Read it, never write it. */
typedef struct RecClipPolicy {
    RecClipRules rules;
    enum RecClipPhase phase;
    bool need_key;               /* drop packets until a keyframe (start, or after a gap) */
    int64_t last_motion_mono_ns; /* newest motion event of the clip */
    int64_t last_event_mono_ns;  /* newest event of any kind */
    int64_t last_packet_mono_ns; /* when a packet of the clip last arrived (or it began) */
    int64_t retry_after_mono_ns; /* no new clip before this (after a write error) */
    bool held_off;               /* retry_after_mono_ns applies */
} RecClipPolicy;

/* Start with no clip, under `rules` (copied). */
void rec_clip_policy_init(RecClipPolicy *p, const RecClipRules *rules);

enum RecEventVerdict {
    REC_EVENT_NONE,     /* no motion: nothing to do */
    REC_EVENT_HELD_OFF, /* motion, but no new clip so soon after a write error */
    REC_EVENT_START,    /* a clip starts: its pre-roll begins at preroll_target_ns */
    REC_EVENT_EXTEND,   /* motion during the clip: it lasts longer */
};

typedef struct RecEventDecision {
    enum RecEventVerdict verdict;
    int64_t preroll_target_mono_ns; /* REC_EVENT_START: the keyframe that arrived at or
                                     * before this */
} RecEventDecision;

/*
 * One event from the detector: `motion` or not, in the frame captured `at`,
 * seen at `now_mono_ns`. A START puts the policy in REC_CLIP_WAITING; a
 * caller that cannot start a clip after all (no stream yet) calls
 * rec_clip_policy_cancel().
 */
void rec_clip_policy_on_event(RecClipPolicy *p, bool motion, CwStamp at, int64_t now_mono_ns,
                              RecEventDecision *decision);

/* Forget the clip just started: back to idle, no end, no hold-off. */
void rec_clip_policy_cancel(RecClipPolicy *p);

typedef struct RecPacketIn {
    int64_t now_mono_ns;
    CwStamp arrival;     /* when capture received the packet */
    bool key;            /* a keyframe */
    bool stream_changed; /* it belongs to another stream than the clip's (camera reconnected) */
    /* REC_CLIP_RECORDING: arrival.mono_ns - that of the file's first packet */
    int64_t elapsed_arrival_ns;
    /* REC_CLIP_RECORDING: the same by the stream's timestamps, or REC_NO_MEDIA_TIME */
    int64_t elapsed_media_ns;
} RecPacketIn;

enum RecPacketVerdict {
    REC_PACKET_WRITE,      /* write it into the clip; open_file: create the file first */
    REC_PACKET_SKIP,       /* drop it: the clip needs a keyframe first */
    REC_PACKET_NEW_STREAM, /* no file yet: follow the new stream, then ask again */
    REC_PACKET_END,        /* end the clip (decision.end says why); the packet is not part of it */
    REC_PACKET_CUT,        /* end the clip at max length, and continue in a new clip that
                            * starts at this packet (call rec_clip_policy_continue()) */
};

typedef struct RecPacketDecision {
    enum RecPacketVerdict verdict;
    enum RecClipEnd end; /* REC_PACKET_END and _CUT */
    bool open_file;      /* REC_PACKET_WRITE: the clip's first packet */
} RecPacketDecision;

/*
 * One packet of the clip (only while a clip is WAITING or RECORDING). A
 * WRITE with open_file moves the policy to REC_CLIP_RECORDING and clears
 * need_key; the caller reports a failure to open or write with
 * rec_clip_policy_ended(), and a packet it could not copy with
 * rec_clip_policy_gap().
 */
void rec_clip_policy_on_packet(RecClipPolicy *p, const RecPacketIn *in,
                               RecPacketDecision *decision);

/* Packets of the clip were lost or torn: resume at the next keyframe. */
void rec_clip_policy_gap(RecClipPolicy *p);

/*
 * After a REC_PACKET_CUT was carried out (the old clip ended): the next clip
 * begins at once, at `now_mono_ns`, waiting for a keyframe. It is not held
 * off by a write error of the clip before it.
 */
void rec_clip_policy_continue(RecClipPolicy *p, int64_t now_mono_ns);

/* A clip in progress that has had no packet for too long: REC_END_CAMERA_LOST, else REC_END_NONE.
 */
enum RecClipEnd rec_clip_policy_on_tick(const RecClipPolicy *p, int64_t now_mono_ns);

/*
 * A stop was requested and every packet published before it was read:
 * REC_END_SHUTDOWN if a clip is still in progress, else REC_END_NONE.
 */
enum RecClipEnd rec_clip_policy_on_stop(const RecClipPolicy *p);

/*
 * The clip ended for `why` and its file was finished with `outcome`. Back to
 * idle; a failed outcome holds off new clips for rules.write_retry_ns from
 * `now_mono_ns`. Returns the sidecar's "cut_short" for it: NULL (a normal
 * end) or one of the static REC_CUT_* strings of sidecar.h.
 */
const char *rec_clip_policy_ended(RecClipPolicy *p, enum RecClipEnd why,
                                  enum RecClipOutcome outcome, int64_t now_mono_ns);

/*
 * How long the clip is at a packet: by the stream's clock when it has one
 * (arrival times jitter, and a cut at MAX_CLIP_SECONDS must not slip by a
 * whole GOP for a few milliseconds), else, or when that clock strays more
 * than REC_CLOCK_SLACK_NS from arrival time, by arrival time.
 */
int64_t rec_clip_policy_elapsed(int64_t elapsed_arrival_ns, int64_t elapsed_media_ns);

#endif /* CAMWATCH_RECORD_CLIPPOLICY_H */
