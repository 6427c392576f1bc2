/*
 * The boxes of the recent analysed frames, by the time of their frame:
 * what RECORD_MODE=annotated draws into each picture of a clip, pre-roll
 * included (its analyses were read before the clip began). A bounded
 * history in arrival order; pure memory, no clock, no I/O.
 */
#ifndef CAMWATCH_RECORD_BOXTRACK_H
#define CAMWATCH_RECORD_BOXTRACK_H

#include "payload.h"

#include <stdbool.h>
#include <stdint.h>

/* At 5 analyses a second, well over a minute: more than the longest
 * pre-roll (PRE_CAPTURE_SECONDS <= 60) plus the packets' lag behind events. */
#define REC_BOXTRACK_DEPTH 512
/* A picture more than this after the newest analysis before it gets no
 * boxes: detection stalled, and old boxes would mark the wrong place. */
#define REC_BOXTRACK_HOLD_NS 1000000000LL

typedef struct RecBoxTrackEntry {
    int64_t mono_ns; /* the analysed frame's capture time (CLOCK_MONOTONIC) */
    int32_t ref_w, ref_h;
    uint16_t box_count; /* 0 for an analysis without motion */
    CwBox boxes[CW_MAX_BOXES];
} RecBoxTrackEntry;

typedef struct RecBoxTrack {
    uint64_t count; /* analyses pushed; entry i is at i % REC_BOXTRACK_DEPTH */
    RecBoxTrackEntry entries[REC_BOXTRACK_DEPTH];
} RecBoxTrack;

/* An empty history. */
void rec_boxtrack_init(RecBoxTrack *track);

/*
 * Remember one analysed frame: its boxes if ev->motion, none otherwise
 * (its regions did not count as motion). An event older than the newest
 * one (a restarted detector re-analysing) ends the history before it.
 */
void rec_boxtrack_push(RecBoxTrack *track, const CwEvent *ev);

/*
 * The analysis in force for a picture captured at `mono_ns` (CLOCK_MONOTONIC): the newest
 * one at or before it, if at most REC_BOXTRACK_HOLD_NS older. Returns it
 * (pointing into the track, valid until the next push) or NULL.
 */
const RecBoxTrackEntry *rec_boxtrack_at(const RecBoxTrack *track, int64_t mono_ns);

/* True when an analysis of a picture captured at or after `mono_ns` is in:
 * the boxes for that picture are known. */
bool rec_boxtrack_covers(const RecBoxTrack *track, int64_t mono_ns);

#endif /* CAMWATCH_RECORD_BOXTRACK_H */
