/*
 * Outlines of moving regions drawn into a decoded picture: the snapshot's
 * boxes and, with RECORD_MODE=annotated, the boxes in the recorded video.
 * Drawn on the YUV planes directly (no conversion to RGB and back), so a
 * picture costs only the pixels of its outlines.
 */
#ifndef CAMWATCH_RECORD_ANNOTATE_H
#define CAMWATCH_RECORD_ANNOTATE_H

#include "payload.h"

#include <libavutil/frame.h>
#include <stdint.h>

/* An outline's colour as Y, U and V samples. */
typedef struct RecOutlineColour {
    uint8_t y, u, v;
} RecOutlineColour;

/* White: full luma, neutral chroma; no colour fringe in a JPEG. */
#define REC_OUTLINE_WHITE ((RecOutlineColour){255, 128, 128})
/*
 * Magenta (BT.601 video range (255, 0, 255)): both chroma samples far above
 * the middle, which grass, sky, asphalt and skin never are, so it shows on
 * any scene, and a night camera's grey picture; its luma (105) is darker
 * than a lit scene, and the chroma keeps it visible where the luma is alike.
 */
#define REC_OUTLINE_MAGENTA ((RecOutlineColour){105, 202, 222})

/*
 * Draw the outline of each of `count` boxes, given in a ref_w x ref_h
 * picture (scaled to the frame's size: boxscale.h), `thickness_px` pixels
 * thick inside the box, onto `frame`: a writable 8-bit planar YUV picture
 * with chroma halved in both directions (YUV420P, YUVJ420P). Edges are
 * moved outwards to even pixels so that every chroma sample under a line
 * is the outline's: a line then keeps its colour through 4:2:0 encoding.
 * Boxes outside the picture are clipped; empty ones are skipped. A frame
 * of another format is left as it is. No error codes.
 */
void rec_annotate_boxes(AVFrame *frame, const CwBox *boxes, int count, int ref_w, int ref_h,
                        RecOutlineColour colour, int thickness_px);

/* The outline thickness for a picture `width` pixels wide in the video:
 * about 1/240 of the width, even, at least 4 (4 up to 1439 pixels, 6
 * from 1440, 8 at 1920). */
int rec_annotate_thickness(int width);

#endif /* CAMWATCH_RECORD_ANNOTATE_H */
