#include "preroll.h"

#include "payload.h"

#include <errno.h>
#include <string.h>

int rec_preroll_find(const CwRing *packets, uint64_t epoch, int64_t target_ns, RecPreroll *out)
{
    uint64_t head = cw_ring_write_seq(packets);
    uint64_t depth = cw_ring_slot_count(packets);
    bool found_any = false;
    bool overwritten = true; /* walking off the end of the slots counts as overwritten */

    memset(out, 0, sizeof(*out));
    /* Newest to oldest. Slots are overwritten oldest first, so the first
     * slot that is gone (or belongs to another epoch) ends the search. The
     * count bounds the walk instead of seq > 0: sequences are free-running
     * and may have wrapped. */
    for (uint64_t back = 1; back <= depth; back++) {
        uint64_t seq = head - back;
        CwRingView view;
        CwPacketHeader ph;

        int ret = cw_ring_peek(packets, seq, &view);
        if (ret < 0) {
            /* Never written: the ring is younger than the pre-roll.
             * Anything else: overwritten by newer packets. */
            overwritten = ret != -ENODATA;
            break;
        }
        if (view.len < sizeof(ph))
            break; /* not a packet: nothing older can be used either */
        if (!(view.flags & CW_SLOT_KEY))
            continue;
        memcpy(&ph, view.data, sizeof(ph));
        if (!cw_ring_view_intact(packets, &view))
            break; /* overwritten while we looked */
        if (ph.stream != CW_STREAM_MAIN)
            continue; /* a clip starts at a keyframe of the video it records */
        if (ph.epoch != epoch) {
            overwritten = false; /* the stream (re)started after it */
            break;
        }
        out->seq = seq;
        out->stamp = view.stamp;
        found_any = true;
        if (view.stamp <= target_ns) {
            out->shortened = false;
            return 0;
        }
        out->shortened = true; /* keep looking further back */
    }
    out->buffer_limited = out->shortened && overwritten;
    return found_any ? 0 : -ENOENT;
}
