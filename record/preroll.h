/*
 * Where a clip starts: the packets ring is the pre-roll buffer, searched
 * backwards over slot descriptors for the right keyframe. The choice itself
 * (rec_preroll_choose) sees the ring only through a lookup function, so it
 * can be checked against any history of slots.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_RECORD_PREROLL_H
#define CAMWATCH_RECORD_PREROLL_H

#include "ring.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct RecPreroll {
    uint64_t seq;        /* the keyframe's slot */
    int64_t stamp;       /* its arrival time (CLOCK_MONOTONIC ns: its header's mono_ns) */
    bool shortened;      /* no keyframe as old as asked: this is the oldest one left */
    bool buffer_limited; /* ...because older packets were overwritten (the ring
                          * is too small for the pre-roll), not because the
                          * stream started later */
} RecPreroll;

/*
 * Find the newest keyframe of stream epoch `epoch` that arrived at or before
 * `target_ns` (CLOCK_MONOTONIC: a step of the wall clock must not move the
 * pre-roll). If the ring holds no keyframe that old, take the oldest intact
 * keyframe of the epoch and set `shortened`. Reads descriptors and the
 * packet headers of keyframes only (epoch, stamp), never packet data. Returns 0, or -ENOENT
 * when the ring holds no usable keyframe (start at the next one that comes).
 */
int rec_preroll_find(const CwRing *packets, uint64_t epoch, int64_t target_ns, RecPreroll *out);

/* One slot as the pre-roll search sees it. */
enum RecSlotState {
    REC_SLOT_PACKET,        /* an intact packet */
    REC_SLOT_NEVER_WRITTEN, /* older than the ring's first packet: the ring is younger */
    REC_SLOT_OVERWRITTEN,   /* gone, or torn while it was looked at */
    REC_SLOT_NOT_PACKET,    /* too short to hold a packet header */
};

typedef struct RecSlot {
    enum RecSlotState state;
    bool key;       /* REC_SLOT_PACKET: a keyframe */
    uint64_t epoch; /* REC_SLOT_PACKET and key: its stream epoch (need not be read otherwise) */
    int64_t stamp;  /* REC_SLOT_PACKET and key: arrival time (CLOCK_MONOTONIC) */
} RecSlot;

/* Describe slot `seq` into *slot. */
typedef void (*RecSlotLookup)(const void *opaque, uint64_t seq, RecSlot *slot);

/*
 * rec_preroll_find's choice over `depth` slots before `head` (the sequence
 * the writer publishes next), newest first; sequences are free-running and
 * may wrap. The search ends at the first slot that is not an intact packet
 * or is a keyframe of another epoch: nothing older can belong to the clip.
 * Same answers as rec_preroll_find.
 */
int rec_preroll_choose(uint64_t head, uint64_t depth, RecSlotLookup lookup, const void *opaque,
                       uint64_t epoch, int64_t target_ns, RecPreroll *out);

#endif /* CAMWATCH_RECORD_PREROLL_H */
