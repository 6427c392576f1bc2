/*
 * The motion detector, all of it: motion.cpp holds the background model,
 * the lighting model, the noise estimate and the regions that become boxes,
 * written on OpenCV's imgproc in C++; this is its C API, which detect/main.c
 * (C) calls. Nothing here throws: every exception is caught in motion.cpp
 * and becomes a negative errno, the error convention here (cw_motion_new()
 * alone returns NULL instead).
 *
 * One detector follows one picture stream. Per frame it scales the luma
 * plane down to `detect_width`, blurs it, and compares it with a
 * running-average background *as relit for this frame*: a monotone tone
 * curve fitted robustly (medians over thousands of pixels, which people do
 * not move) says what the background looks like in the frame's lighting, so
 * a lighting change of any size or coverage that the curve explains (lights
 * on, sun out of a cloud, dusk) is not motion, and motion inside it still
 * is. A region that changed but whose change is a gain and offset of its own
 * background (a lamp lighting one corner, a cloud's shadow) is lighting too.
 * The threshold follows the camera's noise, measured on the still parts of
 * the picture, with `threshold` as its floor. Only a change that no curve
 * explains, over `light_change_percent` of the picture (an IR switch), makes
 * the background be learned again, after a few frames of settling.
 *
 * The result is per frame: "something changed here". Whether it is motion
 * worth an event (it lasts, and it moves rather than flickers in place) is
 * decided after, by detect/confirm.h.
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
#include "polygon.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CwMotion CwMotion;

typedef struct CwMotionParams {
    int detect_width;            /* width analysed, 16-4096; narrower frames are not upscaled */
    int threshold;               /* 1-255: a pixel changed if it differs from the
                                    relit background by more than this (the floor:
                                    noise can raise it, see noise_factor) */
    double min_area_percent;     /* (0, 100]: smallest region that counts as motion,
                                    in percent of the picture */
    double light_change_percent; /* (0, 100]: a change the lighting model does not
                                    explain over at least this share of the picture
                                    is a new scene (IR switch): learned again */
    int warmup_frames;           /* 0-10000: frames after new/reset, and from a lighting
                                    change on, that only teach the background */
    /* Per-frame learning rates of the background, in [0, 1]; 0 picks the
     * default. `background_alpha` applies where nothing moves (default 0.05:
     * at 5 frames/s a change is absorbed in about 4 s), `motion_alpha` where
     * something moves (default 0.01, five times slower). */
    double background_alpha;
    double motion_alpha;
    /* [0, 50]: the threshold is at least this many times the noise's robust
     * standard deviation; 0 picks the default (4). */
    double noise_factor;
} CwMotionParams;

typedef struct CwMotionResult {
    int motion;                /* 1: at least one region of at least min_area_percent
                                  that lighting does not explain */
    int light_change;          /* 1: the lighting changed in this frame (globally, or
                                  in a region), or the settling after a new scene;
                                  motion may be 1 too */
    int warming_up;            /* 1: warm-up or settling: only learning (motion is 0) */
    float changed_percent;     /* share of the picture that differs from the relit
                                  background (0 during the warm-up) */
    int box_count;             /* 0..CW_MAX_BOXES */
    CwBox boxes[CW_MAX_BOXES]; /* in the analysed frame's pixels, largest first */
    /* What the detector saw, for logs and --debug-dir. */
    float light_gain;    /* this frame ~ light_gain * background + light_offset, */
    float light_offset;  /* a straight-line summary of the fitted tone curve */
    float light_percent; /* share of the picture whose change was lighting */
    float noise_sigma;   /* noise's robust standard deviation, in levels */
    int threshold_used;  /* the threshold applied: max(threshold, noise_factor * sigma) */
    int analysed_width;  /* size of the analysed picture */
    int analysed_height;
} CwMotionResult;

/*
 * The detector's pictures of the frame processed last, at the analysed size,
 * for --debug-dir: 8-bit, `linesize` bytes per row. Valid until the next
 * ingest, process or reset; owned by the detector.
 */
typedef struct CwMotionView {
    int width, height;
    int linesize;
    const uint8_t *frame;      /* the scaled frame, before the blur */
    const uint8_t *background; /* the background as relit for this frame */
    const uint8_t *difference; /* |blurred frame - relit background| */
    const uint8_t *changed; /* 255 where the difference crossed the threshold, outside the mask */
    const uint8_t *mask;    /* 255 where MOTION_MASK hides motion; NULL without a mask */
} CwMotionView;

/*
 * Fill `p` with the defaults (width 320, threshold 25, 0.5 %, 60 %,
 * 10 warm-up frames, default learning rates, noise factor 4).
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

/*
 * Ignore changes inside the polygons of `mask` (frame-relative, see
 * polygon.h; copied, not kept); NULL or no polygon removes the mask. Takes
 * effect from the next frame processed; the background and what was learned
 * are kept. Returns 0, -EINVAL for a NULL detector, -ENOMEM.
 */
int cw_motion_set_mask(CwMotion *m, const CwPolygonSet *mask);

/*
 * Fill *v with the pictures of the frame processed last. Returns 0, or
 * -EAGAIN if no frame was processed since the detector was made, reset or
 * its frame size changed.
 */
int cw_motion_view(const CwMotion *m, CwMotionView *v);

/* Free the detector and set *m to NULL; NULL and *m == NULL are fine. */
void cw_motion_free(CwMotion **m);

#ifdef __cplusplus
}
#endif

#endif /* CAMWATCH_MOTION_H */
