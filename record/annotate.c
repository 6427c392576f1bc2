#include "annotate.h"

#include "boxscale.h"

#include <libavutil/pixfmt.h>
#include <string.h>

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* [x0, x1) x [y0, y1) in the colour; x0, y0 even, so the chroma rectangle
 * [x0/2, ceil(x1/2)) covers exactly the luma one when x1, y1 are even too. */
static void fill_rect(AVFrame *f, int x0, int y0, int x1, int y1, RecOutlineColour c)
{
    for (int y = y0; y < y1; y++)
        memset(f->data[0] + (size_t)y * f->linesize[0] + x0, c.y, (size_t)(x1 - x0));
    const uint8_t chroma[2] = {c.u, c.v};
    for (int p = 1; p < 3; p++)
        for (int y = y0 / 2; y < (y1 + 1) / 2; y++)
            memset(f->data[p] + (size_t)y * f->linesize[p] + x0 / 2, chroma[p - 1],
                   (size_t)((x1 + 1) / 2 - x0 / 2));
}

int rec_annotate_thickness(int width)
{
    int t = (width / 240) & ~1;
    return t < 4 ? 4 : t;
}

void rec_annotate_boxes(AVFrame *f, const CwBox *boxes, int count, int ref_w, int ref_h,
                        RecOutlineColour colour, int t)
{
    if (f->format != AV_PIX_FMT_YUV420P && f->format != AV_PIX_FMT_YUVJ420P)
        return;
    if (t < 1)
        t = 1;
    for (int i = 0; i < count; i++) {
        /* Boxes refer to the detector's picture size; scale them to this one. */
        CwBox b = rec_box_scale(boxes[i], ref_w, ref_h, f->width, f->height);
        int x0 = clampi(b.x & ~1, 0, f->width);
        int y0 = clampi(b.y & ~1, 0, f->height);
        int x1 = clampi((b.x + b.w + 1) & ~1, 0, f->width);
        int y1 = clampi((b.y + b.h + 1) & ~1, 0, f->height);
        if (x1 - x0 < 1 || y1 - y0 < 1)
            continue;
        /* A box thinner than two lines is filled rather than overdrawn. */
        int tx = x1 - x0 < 2 * t ? (x1 - x0 + 1) / 2 : t;
        int ty = y1 - y0 < 2 * t ? (y1 - y0 + 1) / 2 : t;
        fill_rect(f, x0, y0, x1, y0 + ty, colour);
        fill_rect(f, x0, y1 - ty, x1, y1, colour);
        fill_rect(f, x0, y0, x0 + tx, y1, colour);
        fill_rect(f, x1 - tx, y0, x1, y1, colour);
    }
}
