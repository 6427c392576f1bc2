/*
 * Which decoded pictures may go to detection after the video was damaged
 * (RTP packets lost, data the decoder rejected, a picture it concealed).
 * A damaged picture is smeared, and so is every picture predicted from it
 * until the next restart point (a keyframe): publishing them would show
 * detection changes that never happened. So from the damage on, pictures
 * are withheld until a restart point that comes after the damage decodes
 * clean. A pure state machine: no libav, no clock, no I/O.
 */
#ifndef CAPTURE_DAMAGE_H
#define CAPTURE_DAMAGE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A stream that shows no restart point for this long after damage has
 * none (intra refresh, or a codec that marks none): withholding everything
 * would blind detection for good, so pictures flow again, and the ones the
 * decoder itself marks damaged are still withheld.
 */
#define CAPTURE_DAMAGE_HOLD_MAX_NS (10 * 1000000000LL)

typedef struct CaptureDamage {
    bool holding;          /* pictures are withheld */
    uint64_t damaged_upto; /* a restart point must come from a later packet */
    int64_t hold_since_ns; /* start of the hold, or the last restart point seen in it */
} CaptureDamage;

/* What the decoder says of one picture. */
typedef struct CapturePicture {
    uint64_t packet_no; /* number of the packet it was decoded from (from 1) */
    bool damaged;       /* the decoder concealed errors or marked it corrupt */
    bool restart_point; /* a keyframe, or any picture of an intra-only codec */
} CapturePicture;

enum CaptureVerdict {
    CAPTURE_PUBLISH,              /* clean, and nothing damaged before it is in the way */
    CAPTURE_PUBLISH_RECOVERED,    /* the restart point that ends a hold */
    CAPTURE_PUBLISH_HOLD_EXPIRED, /* CAPTURE_DAMAGE_HOLD_MAX_NS without a restart point */
    CAPTURE_WITHHOLD_DAMAGED,     /* damaged itself */
    CAPTURE_WITHHOLD_DEPENDENT,   /* may be predicted from a damaged picture */
};

/*
 * Data was lost or rejected while packet `packet_no` was read or decoded:
 * every picture from it on is suspect until a restart point from a later
 * packet. `now_ns` is any monotonic clock, used consistently.
 */
void capture_damage_mark(CaptureDamage *damage, uint64_t packet_no, int64_t now_ns);

/* Decide whether `picture`, decoded at `now_ns`, may be published. */
enum CaptureVerdict capture_damage_judge(CaptureDamage *damage, const CapturePicture *picture,
                                         int64_t now_ns);

#endif /* CAPTURE_DAMAGE_H */
