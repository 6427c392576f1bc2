/*
 * Whether the H.264 decoder's frame_num gaps (a picture missing from the
 * bitstream, avlog.h) are damage or the camera's design. A gap with no
 * packet lost on the way is normally a picture the camera's stream lost
 * (damage.h withholds what follows it up to the next keyframe). Some
 * cameras' encoders skip frame numbers on purpose (temporal layers, with
 * the SPS's gaps_in_frame_num_allowed_flag), in every keyframe interval:
 * withholding would blind detection for most of each one. A gap in
 * CAPTURE_GAP_GOPS_BY_DESIGN keyframe intervals in a row, none of them with
 * RTP loss, is taken as the design, for the rest of the connection. Pure:
 * no libav, no clock, no I/O.
 */
#ifndef CAPTURE_FRAMEGAPS_H
#define CAPTURE_FRAMEGAPS_H

#include <stdbool.h>

#define CAPTURE_GAP_GOPS_BY_DESIGN 5

typedef struct CaptureFrameGaps {
    bool gap_in_gop;  /* a gap since the last keyframe */
    bool loss_in_gop; /* RTP loss since the last keyframe */
    int gops_in_row;  /* finished keyframe intervals in a row with a gap and no loss */
    bool by_design;   /* decided: gaps are no damage on this connection */
} CaptureFrameGaps;

/* A frame_num gap was seen. Returns true if it is damage (mark it). */
bool capture_frame_gaps_seen(CaptureFrameGaps *gaps);

/* RTP packets were lost: this interval says nothing of the design. */
void capture_frame_gaps_loss(CaptureFrameGaps *gaps);

/*
 * A keyframe begins a new interval. Returns true once, when this one makes
 * the gaps the camera's design (the caller says so in the log).
 */
bool capture_frame_gaps_keyframe(CaptureFrameGaps *gaps);

#endif /* CAPTURE_FRAMEGAPS_H */
