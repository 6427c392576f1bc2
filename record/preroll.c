#include "preroll.h"

#include "payload.h"

#include <errno.h>
#include <string.h>

int rec_preroll_choose(uint64_t head, uint64_t depth, RecSlotLookup lookup, const void *opaque,
                       uint64_t epoch, int64_t target_ns, RecPreroll *out)
{
    bool found_any = false;
    bool overwritten = true; /* walking off the end of the slots counts as overwritten */

    memset(out, 0, sizeof(*out));
    /* Newest to oldest. Slots are overwritten oldest first, so the first
     * slot that is gone (or belongs to another epoch) ends the search. The
     * count bounds the walk instead of seq > 0: sequences are free-running
     * and may have wrapped. */
    for (uint64_t back = 1; back <= depth; back++) {
        uint64_t seq = head - back;
        RecSlot slot;

        lookup(opaque, seq, &slot);
        if (slot.state == REC_SLOT_NEVER_WRITTEN) {
            overwritten = false; /* the ring is younger than the pre-roll */
            break;
        }
        if (slot.state != REC_SLOT_PACKET)
            break; /* overwritten, or not a packet: nothing older can be used either */
        if (!slot.key)
            continue;
        if (slot.epoch != epoch) {
            overwritten = false; /* the stream (re)started after it */
            break;
        }
        out->seq = seq;
        out->stamp = slot.stamp;
        found_any = true;
        if (slot.stamp <= target_ns) {
            out->shortened = false;
            return 0;
        }
        out->shortened = true; /* keep looking further back */
    }
    out->buffer_limited = out->shortened && overwritten;
    return found_any ? 0 : -ENOENT;
}

/* A slot of the packets ring: descriptors, and the packet header of
 * keyframes only (the slot's own stamp is wall time, which may step). */
static void ring_lookup(const void *opaque, uint64_t seq, RecSlot *slot)
{
    const CwRing *packets = opaque;
    CwRingView view;
    CwPacketHeader ph;

    memset(slot, 0, sizeof(*slot));
    int ret = cw_ring_peek(packets, seq, &view);
    if (ret < 0) {
        /* Never written: the ring is younger than the pre-roll.
         * Anything else: overwritten by newer packets. */
        slot->state = ret == -ENODATA ? REC_SLOT_NEVER_WRITTEN : REC_SLOT_OVERWRITTEN;
        return;
    }
    if (view.len < sizeof(ph)) {
        slot->state = REC_SLOT_NOT_PACKET;
        return;
    }
    slot->state = REC_SLOT_PACKET;
    slot->key = view.flags & CW_SLOT_KEY;
    if (!slot->key)
        return;
    memcpy(&ph, view.data, sizeof(ph));
    if (!cw_ring_view_intact(packets, &view)) {
        slot->state = REC_SLOT_OVERWRITTEN; /* overwritten while we looked */
        return;
    }
    slot->epoch = ph.epoch;
    slot->stamp = ph.mono_ns;
    if (ph.stream != CW_STREAM_MAIN)
        slot->key = false; /* a clip starts at a keyframe of the video it records */
}

int rec_preroll_find(const CwRing *packets, uint64_t epoch, int64_t target_ns, RecPreroll *out)
{
    uint64_t head = cw_ring_write_seq(packets);
    uint64_t depth = cw_ring_slot_count(packets);
    return rec_preroll_choose(head, depth, ring_lookup, packets, epoch, target_ns, out);
}
