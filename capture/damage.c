#include "damage.h"

void capture_damage_mark(CaptureDamage *damage, uint64_t packet_no, int64_t now_ns)
{
    if (!damage->holding) {
        damage->holding = true;
        damage->hold_since_ns = now_ns;
        damage->damaged_upto = packet_no;
    } else if (packet_no > damage->damaged_upto) {
        /* Not hold_since_ns: loss that goes on must not keep a stream
         * without restart points blind for good. */
        damage->damaged_upto = packet_no;
    }
}

/*
 * The rules, in order:
 *   damaged picture                                  -> withhold, hold (again)
 *   no hold                                          -> publish
 *   restart point from a packet after the damage     -> publish, end the hold
 *   HOLD_MAX since the hold began or the last restart
 *   point (damaged or early) seen in it              -> publish, end the hold
 *   anything else in a hold                          -> withhold
 * A restart point from the packet the damage was seen in does not end the
 * hold: RTP loss is reported while that packet is read, and the missing
 * data may be its own (or, for a picture lost whole, the one just before
 * the next), so only a restart point read later is known to be clean.
 */
enum CaptureVerdict capture_damage_judge(CaptureDamage *damage, const CapturePicture *picture,
                                         int64_t now_ns)
{
    if (picture->damaged) {
        capture_damage_mark(damage, picture->packet_no, now_ns);
        if (picture->restart_point)
            damage->hold_since_ns = now_ns; /* the stream has restart points: wait for one */
        return CAPTURE_WITHHOLD_DAMAGED;
    }
    if (!damage->holding)
        return CAPTURE_PUBLISH;
    if (picture->restart_point && picture->packet_no > damage->damaged_upto) {
        damage->holding = false;
        return CAPTURE_PUBLISH_RECOVERED;
    }
    if (picture->restart_point) {
        damage->hold_since_ns = now_ns; /* the stream has restart points: wait for one */
        return CAPTURE_WITHHOLD_DEPENDENT;
    }
    if (now_ns - damage->hold_since_ns >= CAPTURE_DAMAGE_HOLD_MAX_NS) {
        damage->holding = false;
        return CAPTURE_PUBLISH_HOLD_EXPIRED;
    }
    return CAPTURE_WITHHOLD_DEPENDENT;
}
