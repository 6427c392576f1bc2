/*
 * The motion detector (detect/motion.h) on synthetic luma frames: a still
 * scene with sensor-like noise, a bright square moving across it, and the
 * whole picture stepping 30 levels brighter and darker. The frames are
 * 640x480 and analysed at the default 320 px, so every box is also a check
 * of the scaling back into the frame's own coordinates. The noise comes from
 * a fixed-seed generator and OpenCV runs single-threaded: the output is the
 * same on every run.
 */
#include "check.h"
#include "xorshift.h"

#include "../../detect/motion.h"

#include <errno.h>
#include <stdint.h>

#define W 640
#define H 480

/* The moving square: SQ x SQ pixels at SQ_LEVEL, SQ_STEP pixels further
 * right each frame, its top at SQ_Y. */
#define SQ       48
#define SQ_LEVEL 230
#define SQ_STEP  8
#define SQ_Y     200

/* How far a box may stand off the square's edges, in the frame's pixels:
 * the 5x5 blur and the two 3x3 dilations widen the changed region by about
 * three analysed pixels, six of the frame's, on each side. */
#define BOX_SLACK 8

static uint8_t luma[W * H];

static uint8_t clamp_level(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/*
 * A scene: a diagonal gradient from 80 to 180 (a flat picture would hide a
 * detector that compares the wrong pixels), `offset` levels brighter, with
 * fresh noise of +-6 levels in every frame, like a sensor's. With
 * square_x >= 0 the square is drawn at that x.
 */
static void draw_scene(int offset, int square_x)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int level = 80 + x * 60 / W + y * 40 / H + offset;
            level += (int)(next_random() % 13) - 6;
            if (square_x >= 0 && x >= square_x && x < square_x + SQ && y >= SQ_Y && y < SQ_Y + SQ)
                level = SQ_LEVEL + (int)(next_random() % 13) - 6;
            luma[y * W + x] = clamp_level(level);
        }
    }
}

static CwMotion *new_detector(void)
{
    CwMotionParams p;
    cw_motion_params_default(&p);
    CwMotion *m = cw_motion_new(&p);
    CHECK(m != NULL);
    return m;
}

static void analyse(CwMotion *m, CwMotionResult *r)
{
    CHECK_EQ_U64(cw_motion_analyse(m, luma, W, H, W, r), 0);
}

/* Frames of the still scene until the warm-up (10 frames by default) is over. */
static void warm_up(CwMotion *m)
{
    CwMotionResult r;
    for (int i = 0; i < 10; i++) {
        draw_scene(0, -1);
        analyse(m, &r);
        CHECK(r.warming_up);
        CHECK(!r.motion && !r.light_change && r.box_count == 0);
    }
}

static void test_contract(void)
{
    CwMotionParams p;
    CwMotionResult r;
    cw_motion_params_default(&p);
    p.threshold = 0;
    CHECK(cw_motion_new(&p) == NULL);
    cw_motion_params_default(&p);
    p.detect_width = 8;
    CHECK(cw_motion_new(&p) == NULL);

    CwMotion *m = new_detector();
    CHECK(cw_motion_process(m, &r) == -EAGAIN); /* nothing ingested */
    CHECK(cw_motion_ingest(m, luma, W, H, W - 1) == -EINVAL);
    cw_motion_free(&m);
    CHECK(m == NULL);
    cw_motion_free(&m);
}

/* Noise alone is never motion, from the first frame after the warm-up on. */
static void test_still_scene(void)
{
    CwMotion *m = new_detector();
    CwMotionResult r;
    float peak = 0;
    warm_up(m);
    for (int i = 0; i < 100; i++) {
        draw_scene(0, -1);
        analyse(m, &r);
        CHECK(!r.warming_up && !r.light_change);
        CHECK(!r.motion && r.box_count == 0);
        if (r.changed_percent > peak)
            peak = r.changed_percent;
    }
    printf("still: 100 frames, no motion, at most %.2f%% changed\n", peak);
    cw_motion_free(&m);
}

/* A bright square crossing the still scene: motion in every frame, one box,
 * around the square within BOX_SLACK pixels; none once it is gone. */
static void test_moving_square(void)
{
    CwMotion *m = new_detector();
    CwMotionResult r;
    int worst = 0;
    warm_up(m);
    for (int i = 0; i < 60; i++) {
        int x = 40 + SQ_STEP * i;
        draw_scene(0, x);
        analyse(m, &r);
        CHECK(r.motion && !r.light_change && !r.warming_up);
        CHECK_EQ_U64(r.box_count, 1);
        const CwBox *b = &r.boxes[0];
        int off[4] = {x - b->x, SQ_Y - b->y, b->x + b->w - (x + SQ), b->y + b->h - (SQ_Y + SQ)};
        for (int k = 0; k < 4; k++) {
            if (off[k] < 0 || off[k] > BOX_SLACK) {
                fprintf(stderr, "frame %d: square %d,%d %dx%d, box %d,%d %dx%d\n", i, x, SQ_Y, SQ,
                        SQ, b->x, b->y, b->w, b->h);
                CHECK(off[k] >= 0 && off[k] <= BOX_SLACK);
            }
            if (off[k] > worst)
                worst = off[k];
        }
        if (i % 20 == 0)
            printf("square at %d,%d %dx%d: box %d,%d %dx%d\n", x, SQ_Y, SQ, SQ, b->x, b->y, b->w,
                   b->h);
    }
    /* Gone: where it passed, the background learned too little of it to
     * leave a ghost. */
    for (int i = 0; i < 20; i++) {
        draw_scene(0, -1);
        analyse(m, &r);
        CHECK(!r.motion && r.box_count == 0);
    }
    printf("square: 60 frames of motion, each box within %d px of the square (limit %d)\n", worst,
           BOX_SLACK);
    cw_motion_free(&m);
}

/*
 * The whole picture steps from `from` to `to` levels off the scene it was
 * learned from: reported as a lighting change, never as motion, and once the
 * settling is over the scene is watched again, quiet.
 */
static void step_brightness(CwMotion *m, int from, int to)
{
    CwMotionResult r;
    int light_frames = 0;
    draw_scene(to, -1);
    analyse(m, &r);
    CHECK(r.light_change && !r.motion && r.box_count == 0);
    printf("step %+d: %.1f%% of the picture changed: lighting", to - from, r.changed_percent);
    for (int i = 0; i < 40; i++) {
        draw_scene(to, -1);
        analyse(m, &r);
        CHECK(!r.motion && r.box_count == 0);
        light_frames += r.light_change;
        /* Settling ends, and does not come back. */
        CHECK(i < 20 || (!r.light_change && !r.warming_up));
    }
    printf(", %d frames settling, then no motion\n", light_frames);
}

static void test_brightness_step(void)
{
    CwMotion *m = new_detector();
    CwMotionResult r;
    warm_up(m);
    for (int i = 0; i < 20; i++) {
        draw_scene(0, -1);
        analyse(m, &r);
        CHECK(!r.motion && !r.light_change);
    }
    step_brightness(m, 0, +30);
    step_brightness(m, +30, 0);
    step_brightness(m, 0, -30);
    /* Not blind after it: the square on the darker scene is motion. */
    for (int i = 0; i < 5; i++) {
        draw_scene(-30, 100 + SQ_STEP * i);
        analyse(m, &r);
        CHECK(r.motion && !r.light_change && r.box_count == 1);
    }
    cw_motion_free(&m);
}

/*
 * The scaling is the exact mean of each k x k block, rounded to nearest:
 * for every whole factor from 1 to 16 (the even ones take the pairs path),
 * on noise and on all 255 (the 16-bit sums' edge at 16), analysed 40 and
 * 37 pixels wide (37 k / 2 pairs: not a whole number of vectors), compared
 * with the scaled frame the detector shows (cw_motion_view()).
 */
static void test_scaling_is_block_mean(void)
{
    int checked = 0;
    for (int k = 1; k <= 16; k++)
        for (int out_w = 37; out_w <= 40; out_w += 3)
            for (int flat = 0; flat <= 1; flat++) {
                const int out_h = 24, w = out_w * k, h = out_h * k;
                uint8_t *luma = malloc((size_t)w * (size_t)h);
                CHECK(luma);
                for (int i = 0; i < w * h; i++)
                    luma[i] = flat ? 255 : (uint8_t)next_random();
                CwMotionParams p;
                cw_motion_params_default(&p);
                p.detect_width = out_w;
                CwMotion *m = cw_motion_new(&p);
                CHECK(m);
                CwMotionResult r;
                CHECK(cw_motion_analyse(m, luma, w, h, w, &r) == 0);
                CwMotionView v;
                CHECK(cw_motion_view(m, &v) == 0);
                CHECK_EQ_U64(v.width, out_w);
                CHECK_EQ_U64(v.height, out_h);
                for (int oy = 0; oy < out_h; oy++)
                    for (int ox = 0; ox < out_w; ox++) {
                        unsigned sum = 0;
                        for (int y = oy * k; y < oy * k + k; y++)
                            for (int x = ox * k; x < ox * k + k; x++)
                                sum += luma[y * w + x];
                        unsigned want = (sum + (unsigned)(k * k) / 2) / (unsigned)(k * k);
                        unsigned got = v.frame[oy * v.linesize + ox];
                        if (got != want) {
                            fprintf(stderr, "factor %d, %d wide: pixel %d,%d is %u, want %u\n", k,
                                    out_w, ox, oy, got, want);
                            exit(1);
                        }
                    }
                checked++;
                cw_motion_free(&m);
                free(luma);
            }
    printf("scaling: %d pictures, every pixel the mean of its block\n", checked);
}

int main(void)
{
    RUN(test_contract);
    RUN(test_still_scene);
    RUN(test_moving_square);
    RUN(test_brightness_step);
    RUN(test_scaling_is_block_mean);
    return 0;
}
