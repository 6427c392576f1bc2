#include "framegaps.h"

bool capture_frame_gaps_seen(CaptureFrameGaps *g, unsigned long count)
{
    g->gaps_in_gop += count;
    return !g->by_design;
}

void capture_frame_gaps_loss(CaptureFrameGaps *g)
{
    g->loss_in_gop = true;
}

bool capture_frame_gaps_keyframe(CaptureFrameGaps *g)
{
    bool evidence = g->gaps_in_gop > 0 && !g->loss_in_gop;
    if (!evidence)
        g->gops_in_row = 0;
    else if (g->gops_in_row > 0 && g->gaps_in_gop != g->gaps_before)
        g->gops_in_row = 1; /* irregular: this interval starts a new run */
    else
        g->gops_in_row++;
    g->gaps_before = g->gaps_in_gop;
    g->gaps_in_gop = 0;
    g->loss_in_gop = false;
    if (g->by_design || g->gops_in_row < CAPTURE_GAP_GOPS_BY_DESIGN)
        return false;
    g->by_design = true;
    return true;
}
