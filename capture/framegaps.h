/*
 * Whether the H.264 decoder's frame_num gaps (a picture missing from the
 * bitstream, avlog.h) are damage or the camera's design. A gap with no
 * packet lost on the way is normally a picture the camera's stream lost
 * (damage.h withholds what follows it up to the next keyframe). Some
 * cameras' encoders skip frame numbers on purpose (temporal layers, with
 * the SPS's gaps_in_frame_num_allowed_flag), in every keyframe interval:
 * withholding would blind detection for most of each one. The same number
 * of gaps in each of CAPTURE_GAP_GOPS_BY_DESIGN keyframe intervals in a
 * row, none of them with RTP loss, is taken as the design, for the rest of
 * the connection: a design repeats itself, pictures lost on the way (a
 * camera dropping frames from its send buffer) come and go. Pure: no
 * libav, no clock, no I/O.
 */
#ifndef CAPTURE_FRAMEGAPS_H
#define CAPTURE_FRAMEGAPS_H

#include <stdbool.h>

#define CAPTURE_GAP_GOPS_BY_DESIGN 5

typedef struct CaptureFrameGaps {
    unsigned long gaps_in_gop; /* gaps since the last keyframe */
    unsigned long gaps_before; /* in the interval before */
    bool loss_in_gop;          /* RTP loss since the last keyframe */
    int gops_in_row;           /* finished intervals in a row with as many gaps, no loss */
    bool by_design;            /* decided: gaps are no damage on this connection */
} CaptureFrameGaps;

/* `count` frame_num gaps were seen (at least 1). Returns true if they are
 * damage (mark it). */
bool capture_frame_gaps_seen(CaptureFrameGaps *gaps, unsigned long count);

/* RTP packets were lost: this interval says nothing of the design. */
void capture_frame_gaps_loss(CaptureFrameGaps *gaps);

/*
 * A keyframe begins a new interval. Returns true once, when this one makes
 * the gaps the camera's design (the caller says so in the log).
 */
bool capture_frame_gaps_keyframe(CaptureFrameGaps *gaps);

#endif /* CAPTURE_FRAMEGAPS_H */
