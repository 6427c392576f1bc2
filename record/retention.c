/*
 * What retention deletes. Clips are taken oldest first (start, then the
 * name's -N suffix, then the name) and each one is judged by the first rule
 * that applies:
 *
 *  clip                                 verdict                         reason
 *  -----------------------------------  ------------------------------  ----------
 *  the one being written                kept; its bytes count toward    -
 *                                       the total
 *  started more than max_age_s before   deleted                         age
 *  now (one that starts after now, the
 *  clock being behind, has age 0)
 *  the newest finished clip, while no   kept by the two space rules     -
 *  clip is being written                below (only age removes it)
 *  any other, while the clips together  deleted                         total size
 *  exceed max_bytes
 *  any other, while the file system     deleted                         free space
 *  has less than min_free_percent free
 *  anything else                        kept                            -
 *
 * Each deletion counts at once: the total shrinks and the free space grows
 * by the clip's bytes, so the space rules stop at the first clip they no
 * longer need. A limit that still fails when no clip may go any more is
 * reported (total_unmet, free_unmet), not chased.
 *
 * Why the newest finished clip is spared while nothing is being written: a
 * floor that other files on the disk keep out of reach would otherwise
 * delete every clip the moment it is delivered, the one an alert just
 * pointed its user at. Space is made for a clip when one needs it: once the
 * next clip is being written, the previous one may go for it.
 *
 * Why the clock matters little here: only the age rule reads `now`. A clock
 * far behind (a Raspberry Pi without its time yet) deletes nothing for age;
 * a clock far ahead deletes what is old by that clock, as the user asked,
 * but never the clip being written. The order of deletion never depends on
 * `now`.
 */
#define _GNU_SOURCE
#include "retention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* qsort_r's comparator: oldest first, and a total order so the plan is the
 * same on every run over the same clips. */
static int older_first(const void *a, const void *b, void *arg)
{
    const RetClip *clips = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    const RetClip *x = &clips[ia], *y = &clips[ib];

    if (x->start_s != y->start_s)
        return x->start_s < y->start_s ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    int c = strcmp(x->stem ? x->stem : "", y->stem ? y->stem : "");
    if (c)
        return c;
    return ia < ib ? -1 : ia > ib;
}

/* Older than max_age_s at now_s. Unsigned arithmetic: the difference of two
 * int64 stamps with now_s > start_s always fits, even at the extremes. */
static bool too_old(const RetClip *clip, int64_t now_s, int64_t max_age_s)
{
    if (max_age_s <= 0 || clip->start_s >= now_s)
        return false;
    return (uint64_t)now_s - (uint64_t)clip->start_s > (uint64_t)max_age_s;
}

uint64_t ret_floor_bytes(uint64_t size_bytes, double min_free_percent)
{
    if (size_bytes == 0 || !(min_free_percent > 0))
        return 0;
    if (min_free_percent >= 100)
        return size_bytes;
    return (uint64_t)ceill((long double)size_bytes * min_free_percent / 100);
}

const char *ret_reason_name(enum RetReason reason)
{
    switch (reason) {
    case RET_AGE:
        return "age";
    case RET_TOTAL_SIZE:
        return "total size";
    case RET_FREE_SPACE:
        return "free space";
    case RET_KEEP:
        break;
    }
    return "kept";
}

void ret_plan(const RetClip *clips, size_t n, int64_t now_s, const RetDisk *disk,
              const RetLimits *limits, size_t *order, enum RetReason *reason, RetPlan *plan)
{
    const uint64_t size = disk ? disk->size_bytes : 0;
    const uint64_t floor = ret_floor_bytes(size, limits->min_free_percent);
    uint64_t total = 0;
    uint64_t free_bytes = size ? disk->free_bytes : 0;
    bool writing = false;
    size_t newest = n; /* n: none spared */

    *plan = (RetPlan){0};
    if (free_bytes > size)
        free_bytes = size;
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        reason[i] = RET_KEEP;
        total += clips[i].bytes;
        writing = writing || clips[i].writing;
    }
    qsort_r(order, n, sizeof(*order), older_first, (void *)clips);
    for (size_t k = n; k-- > 0 && !writing;) {
        if (!clips[order[k]].writing) {
            newest = order[k];
            break;
        }
    }

    /* Deletions are written to the front of order[], behind the reading
     * position k, so the walk never overwrites an entry it has yet to read. */
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        const RetClip *c = &clips[i];
        enum RetReason r = RET_KEEP;

        if (c->writing)
            continue;
        if (too_old(c, now_s, limits->max_age_s))
            r = RET_AGE;
        else if (i == newest)
            r = RET_KEEP;
        else if (limits->max_bytes && total > limits->max_bytes)
            r = RET_TOTAL_SIZE;
        else if (floor && free_bytes < floor)
            r = RET_FREE_SPACE;
        if (r == RET_KEEP)
            continue;

        reason[i] = r;
        if (plan->count == 0)
            plan->oldest_start_s = c->start_s;
        order[plan->count++] = i;
        plan->freed_bytes += c->bytes;
        total -= c->bytes;
        free_bytes = size - free_bytes > c->bytes ? free_bytes + c->bytes : size;
    }
    plan->total_bytes = total;
    plan->free_bytes = free_bytes;
    plan->total_unmet = limits->max_bytes && total > limits->max_bytes;
    plan->free_unmet = floor && free_bytes < floor;
}
