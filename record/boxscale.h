/*
 * Boxes from one picture size to another: the detector may have analysed a
 * smaller picture (a sub-stream) than the video the sidecar describes, or
 * the snapshot frame that the boxes are drawn on.
 */
#ifndef CAMWATCH_RECORD_BOXSCALE_H
#define CAMWATCH_RECORD_BOXSCALE_H

#include "payload.h"

/*
 * `box` in a from_w x from_h picture, in a to_w x to_h picture. Its edges
 * are scaled (so that a box reaching the right or bottom border still does)
 * and the size is what lies between them; results are clamped to 16 bits.
 * A size that is not positive leaves the box as it is. No error codes.
 */
CwBox rec_box_scale(CwBox box, int from_w, int from_h, int to_w, int to_h);

#endif /* CAMWATCH_RECORD_BOXSCALE_H */
