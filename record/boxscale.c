#include "boxscale.h"

/* Rounds down, like the integer division it replaces everywhere. */
static int64_t scale_edge(int64_t v, int from, int to)
{
    int64_t s = v * to / from;
    return s < 0 ? 0 : s > UINT16_MAX ? UINT16_MAX : s;
}

CwBox rec_box_scale(CwBox box, int from_w, int from_h, int to_w, int to_h)
{
    if (from_w <= 0 || from_h <= 0 || to_w <= 0 || to_h <= 0)
        return box;
    int64_t x0 = scale_edge(box.x, from_w, to_w);
    int64_t y0 = scale_edge(box.y, from_h, to_h);
    int64_t x1 = scale_edge((int64_t)box.x + box.w, from_w, to_w);
    int64_t y1 = scale_edge((int64_t)box.y + box.h, from_h, to_h);
    return (CwBox){
        .x = (uint16_t)x0,
        .y = (uint16_t)y0,
        .w = (uint16_t)(x1 - x0),
        .h = (uint16_t)(y1 - y0),
    };
}
