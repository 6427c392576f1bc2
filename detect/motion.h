/*
 * The motion detector, all of it: motion.cpp holds the background model,
 * the lighting guard and the contours that become boxes, written on OpenCV's
 * imgproc in C++; this is its C API, which detect/main.c (C) calls. Nothing
 * here throws: every exception is caught in motion.cpp and becomes a
 * negative errno, the error convention here (cw_motion_new() alone returns
 * NULL instead).
 *
 * One detector follows one picture stream. Per frame it scales the luma
 * plane down to `detect_width`, blurs it, compares it with a running-average
 * background and reports the moving regions. The background learns slower
 * where motion is, so a person who stops is not absorbed at once, and a
 * change over most of the picture (lights switched on, sun, a camera's IR
 * switch) is reported as a lighting change, never as motion: the background
 * is carried over to the new lighting (or, if the change is more than a
 * lighting one, learned again), and a few frames settle before detection
 * resumes.
 *
 * A frame can be analysed in one call (cw_motion_analyse) or in two steps,
 * cw_motion_ingest then cw_motion_process: ingest only reads the caller's
 * picture (scaling it down into the detector) and changes no learned state,
 * so a caller whose picture may be overwritten while it is read (a slot of a
 * shared-memory ring) can check it afterwards and simply not process a torn
 * one. That avoids copying the full-size picture.
 *
 * Not thread-safe: one detector per thread.
 */
#ifndef CAMWATCH_MOTION_H
#define CAMWATCH_MOTION_H

#include "payload.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CwMotion CwMotion;

typedef struct CwMotionParams {
    int detect_width;            /* width analysed, 16-4096; narrower frames are not upscaled */
    int threshold;               /* 1-255: a pixel changed if it differs from the
                                    background by more than this */
    double min_area_percent;     /* (0, 100]: smallest region that counts as motion,
                                    in percent of the picture */
    double light_change_percent; /* (0, 100]: a change over at least this share of
                                    the picture is lighting, not motion */
    int warmup_frames;           /* 0-10000: frames after new/reset, and from a lighting
                                    change on, that only teach the background */
    /* Per-frame learning rates of the background, in [0, 1]; 0 picks the
     * default. `background_alpha` applies where nothing moves (default 0.05:
     * at 5 frames/s a change is absorbed in about 4 s), `motion_alpha` where
     * something moves (default 0.01, five times slower). */
    double background_alpha;
    double motion_alpha;
} CwMotionParams;

typedef struct CwMotionResult {
    int motion;                /* 1: at least one region of at least min_area_percent */
    int light_change;          /* 1: a lighting change or the settling after it (motion 0) */
    int warming_up;            /* 1: warm-up or settling: only learning (motion is 0) */
    float changed_percent;     /* share of the picture that differs from the background
                                  (0 during the warm-up) */
    int box_count;             /* 0..CW_MAX_BOXES */
    CwBox boxes[CW_MAX_BOXES]; /* in the analysed frame's pixels, largest first */
} CwMotionResult;

/*
 * Fill `p` with the defaults (width 320, threshold 25, 0.5 %, 60 %,
 * 10 warm-up frames, default learning rates).
 */
void cw_motion_params_default(CwMotionParams *p);

/*
 * Create a detector. Returns NULL if `p` is out of the documented ranges or
 * memory is short. Picture buffers are allocated on the first frame (and
 * again only when the frame size changes). The first call also makes
 * OpenCV run single-threaded, process-wide: a detector must cost at most one
 * core, and the small pictures it works on gain nothing from being split
 * (measured: OpenCV's default 2 threads took 30 % more CPU per frame, for the
 * same latency).
 * The caller owns the detector and frees it with cw_motion_free().
 */
CwMotion *cw_motion_new(const CwMotionParams *p);

/*
 * Scale the luma plane `luma` (width x height, `linesize` bytes per row;
 * only read, never kept) down into the detector. Changes no learned state:
 * a frame that turns out torn is dropped by not calling cw_motion_process().
 * A new ingest replaces one not processed. Returns 0, -EINVAL for a NULL
 * argument or a bad geometry (no pixel, width or height over 65535,
 * linesize < width), or
 * -ENOMEM / -EIO when OpenCV fails.
 */
int cw_motion_ingest(CwMotion *m, const uint8_t *luma, int width, int height, int linesize);

/*
 * Analyse the frame ingested last and learn from it. Fills *out and returns
 * 0, or -EAGAIN if no frame was ingested since the last process, or
 * -ENOMEM / -EIO when OpenCV fails (*out then says no motion, and the
 * background, perhaps half-updated, is forgotten). A frame of another size
 * than the previous one restarts the warm-up.
 */
int cw_motion_process(CwMotion *m, CwMotionResult *out);

/*
 * cw_motion_ingest() then cw_motion_process(), for a picture that cannot
 * change while it is read. Returns as they do.
 */
int cw_motion_analyse(CwMotion *m, const uint8_t *luma, int width, int height, int linesize,
                      CwMotionResult *out);

/*
 * Forget the background (the camera reconnected or changed): the next frame
 * processed starts a new warm-up. A frame already ingested is kept, so a
 * caller can ingest, verify the frame, notice from it that the stream
 * changed, reset, and process it as the first frame of the new stream.
 */
void cw_motion_reset(CwMotion *m);

/* Free the detector and set *m to NULL; NULL and *m == NULL are fine. */
void cw_motion_free(CwMotion **m);

#ifdef __cplusplus
}
#endif

#endif /* CAMWATCH_MOTION_H */
