/*
 * Where a clip starts: the packets ring is the pre-roll buffer, searched
 * backwards over slot descriptors for the right keyframe.
 */
#ifndef CAMWATCH_RECORD_PREROLL_H
#define CAMWATCH_RECORD_PREROLL_H

#include "ring.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct RecPreroll {
    uint64_t seq;        /* the keyframe's slot */
    int64_t stamp;       /* its arrival time (CLOCK_REALTIME ns) */
    bool shortened;      /* no keyframe as old as asked: this is the oldest one left */
    bool buffer_limited; /* ...because older packets were overwritten (the ring
                          * is too small for the pre-roll), not because the
                          * stream started later */
} RecPreroll;

/*
 * Find the newest keyframe of stream epoch `epoch` stamped at or before
 * `target_ns`. If the ring holds no keyframe that old, take the oldest
 * intact keyframe of the epoch and set `shortened`. Reads descriptors and the 48-byte packet
 * headers only (for the epoch), never packet data. Returns 0, or -ENOENT
 * when the ring holds no usable keyframe (start at the next one that comes).
 */
int rec_preroll_find(const CwRing *packets, uint64_t epoch, int64_t target_ns, RecPreroll *out);

#endif /* CAMWATCH_RECORD_PREROLL_H */
