/*
 * camwatch-detect --debug-dir DIR: what the detector saw, frame by frame,
 * for a user tuning a camera (who looks at pictures, not numbers).
 *
 * For each analysed frame N (counted from 1) it writes, at the analysed
 * size:
 *   NNNNNN-frame.ppm  the frame in grey, MOTION_MASK tinted blue, the
 *                     MOTION_ZONES outlined in green, every changed region
 *                     boxed in yellow and the regions that are motion in red
 *   NNNNNN-diff.pgm   |frame - background as relit for it|
 *   NNNNNN-mask.pgm   the pixels over the threshold (white), outside the mask
 * and one line of DIR/detect.csv: time, frame, lag, changed %, the
 * lighting's gain, offset and share, noise sigma, threshold, lighting,
 * warming up, regions, motion, zones and the motion boxes. PPM and PGM are
 * written here because OpenCV's image codecs are not among the packages
 * camwatch depends on; every image viewer reads them.
 *
 * Errors: negative errno values. Nothing here is fatal to detection: the
 * caller stops dumping after a failure.
 */
#ifndef CAMWATCH_DEBUGDUMP_H
#define CAMWATCH_DEBUGDUMP_H

#include "motion.h"
#include "payload.h"
#include "polygon.h"

#include <stdint.h>

typedef struct CwDebugDump CwDebugDump;

/*
 * Start dumping into `dir` (created if missing, mode 0755; its parent must
 * exist). Truncates DIR/detect.csv and writes its header line. `zones` is
 * kept by pointer and must outlive the dump. Returns 0 with *out set (the
 * caller frees it with cw_debug_dump_free), or -ENOMEM, or the negative
 * errno of mkdir or of opening the CSV file.
 */
int cw_debug_dump_open(const char *dir, const CwPolygonSet *zones, CwDebugDump **out);

/*
 * Write the pictures and the CSV line of one analysed frame: the detector's
 * view `v`, its result `res`, the event published for it (`ev`: the motion
 * boxes and zones, in the frame's pixels) and how far behind the camera it
 * was analysed, `lag_ns`. Returns 0 or the negative errno of the first
 * write that failed.
 */
int cw_debug_dump_frame(CwDebugDump *d, const CwMotionView *v, const CwMotionResult *res,
                        const CwEvent *ev, int64_t lag_ns);

/* Close the CSV file and free; NULL and *d == NULL are fine. */
void cw_debug_dump_free(CwDebugDump **d);

#endif /* CAMWATCH_DEBUGDUMP_H */
