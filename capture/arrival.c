#include "arrival.h"

void capture_arrivals_add(CaptureArrivals *a, CwStamp at)
{
    a->stamps[a->next % CAPTURE_ARRIVALS] = at;
    a->next++;
}

CwStamp capture_arrivals_find(const CaptureArrivals *a, int64_t wall_ns)
{
    /* Newest first: after a backward step an older packet may share a stamp. */
    for (uint64_t back = 1; back <= CAPTURE_ARRIVALS && back <= a->next; back++) {
        const CwStamp *s = &a->stamps[(a->next - back) % CAPTURE_ARRIVALS];
        if (s->wall_ns == wall_ns)
            return *s;
    }
    CwStamp now = cw_stamp_now();
    return (CwStamp){.wall_ns = wall_ns, .mono_ns = now.mono_ns - (now.wall_ns - wall_ns)};
}
