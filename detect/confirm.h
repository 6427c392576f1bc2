/*
 * When changed regions are motion worth an event: a pure decision over the
 * boxes the detector (motion.h) finds in each analysed frame, with no
 * clock, I/O or allocation in it, so that it is tested rule by rule.
 *
 * Rules, per region followed from frame to frame (a "track": the boxes of
 * one frame that overlap or nearly touch a track's last box continue it, and
 * tracks that one box joins become one):
 *
 *   1. A track becomes motion once it has been seen in `min_frames`
 *      consecutive analysed frames AND it has moved: the union of all its
 *      boxes so far (its "home") reaches at least one "step" beyond its
 *      first box on one side, a step being max(1.5 % of the frame, 15 % of
 *      the first box's size in that direction), and half a step even
 *      without the largest growth of any single frame. Someone walking
 *      covers new ground in every frame. A blinking LED or a lamp that came
 *      on stays where it was: its box may shrink and swell with the
 *      blinking (the background half-learns the lit state), so the home
 *      grows at most once, from the smaller box to the larger, plus a pixel
 *      or two of jitter; it is never motion however long it lasts. A flash
 *      over one or two frames is too short.
 *   2. A track that missed a frame keeps its first box and its home (a
 *      light blinking in place never "moves" by coming back), but counts
 *      its frames anew.
 *   3. A track that is motion stays motion while it is seen, and through up
 *      to `grace_frames` frames without a box (a walker behind a pole);
 *      after that it is forgotten.
 *
 * With min_frames 1 neither rule applies: every box is motion at once (the
 * behaviour without confirmation).
 *
 * Boxes are in the frame's pixels; the reported boxes are those of tracks
 * that are motion.
 */
#ifndef CAMWATCH_CONFIRM_H
#define CAMWATCH_CONFIRM_H

#include "payload.h"

#include <stdbool.h>
#include <stdint.h>

#define CW_CONFIRM_MAX_TRACKS 32

typedef struct CwTrack {
    CwBox first; /* the box when the track began */
    CwBox home;  /* union of all its boxes */
    CwBox last;  /* its box in the last frame it was seen */
    float reach; /* how far the home reaches beyond the first box, in steps */
    float jump;  /* the largest growth of reach in one frame */
    int run;     /* consecutive frames seen, up to the last one */
    int missed;  /* frames since it was last seen */
    bool moved;  /* rule 1's displacement happened */
    bool motion; /* rule 1 held once */
} CwTrack;

typedef struct CwConfirm {
    int min_frames;   /* 1..1000 */
    int grace_frames; /* 0..1000 */
    int count;
    CwTrack tracks[CW_CONFIRM_MAX_TRACKS];
} CwConfirm;

/* Start with no track. min_frames and grace_frames are clamped to their ranges. */
void cw_confirm_init(CwConfirm *c, int min_frames, int grace_frames);

/* Forget every track (a new background, a new stream). */
void cw_confirm_reset(CwConfirm *c);

/*
 * One analysed frame of `width` x `height` pixels with `count` boxes
 * (count may be 0: a frame without change). Sets keep[i] to 1 for each box
 * that belongs to a track that is motion, 0 otherwise. Returns how many are
 * kept (0: no motion in this frame).
 */
int cw_confirm_update(CwConfirm *c, const CwBox *boxes, int count, int width, int height,
                      uint8_t *keep);

#endif /* CAMWATCH_CONFIRM_H */
