#include "framegaps.h"

bool capture_frame_gaps_seen(CaptureFrameGaps *g)
{
    g->gap_in_gop = true;
    return !g->by_design;
}

void capture_frame_gaps_loss(CaptureFrameGaps *g)
{
    g->loss_in_gop = true;
}

bool capture_frame_gaps_keyframe(CaptureFrameGaps *g)
{
    bool evidence = g->gap_in_gop && !g->loss_in_gop;
    g->gops_in_row = evidence ? g->gops_in_row + 1 : 0;
    g->gap_in_gop = false;
    g->loss_in_gop = false;
    if (g->by_design || g->gops_in_row < CAPTURE_GAP_GOPS_BY_DESIGN)
        return false;
    g->by_design = true;
    return true;
}
