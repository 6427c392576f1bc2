#include "boxtrack.h"

#include <string.h>

void rec_boxtrack_init(RecBoxTrack *t)
{
    t->count = 0;
}

static const RecBoxTrackEntry *entry(const RecBoxTrack *t, uint64_t i)
{
    return &t->entries[i % REC_BOXTRACK_DEPTH];
}

void rec_boxtrack_push(RecBoxTrack *t, const CwEvent *ev)
{
    /* Times must stay in order for the search; the monotonic clock keeps
     * them so, but an event out of order must not break it: start anew. */
    if (t->count && ev->mono_ns < entry(t, t->count - 1)->mono_ns)
        t->count = 0;
    RecBoxTrackEntry *e = &t->entries[t->count % REC_BOXTRACK_DEPTH];
    e->mono_ns = ev->mono_ns;
    e->ref_w = ev->width;
    e->ref_h = ev->height;
    e->box_count = ev->motion ? (ev->box_count > CW_MAX_BOXES ? CW_MAX_BOXES : ev->box_count) : 0;
    memcpy(e->boxes, ev->boxes, sizeof(CwBox) * e->box_count);
    t->count++;
}

const RecBoxTrackEntry *rec_boxtrack_at(const RecBoxTrack *t, int64_t mono_ns)
{
    uint64_t lo = t->count > REC_BOXTRACK_DEPTH ? t->count - REC_BOXTRACK_DEPTH : 0;
    uint64_t hi = t->count; /* the answer is the last index in [lo, hi) at or before mono_ns */
    if (lo == hi || entry(t, lo)->mono_ns > mono_ns)
        return NULL;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (entry(t, mid)->mono_ns <= mono_ns)
            lo = mid;
        else
            hi = mid;
    }
    const RecBoxTrackEntry *e = entry(t, lo);
    return mono_ns - e->mono_ns <= REC_BOXTRACK_HOLD_NS ? e : NULL;
}

bool rec_boxtrack_covers(const RecBoxTrack *t, int64_t mono_ns)
{
    return t->count && entry(t, t->count - 1)->mono_ns >= mono_ns;
}
