/*
 * The detector's lighting, noise and mask (detect/motion.h) on synthetic
 * luma frames, 640x480 analysed at 320 px: brightness changes that push only
 * part of the picture over the threshold, a tone curve that clips the
 * highlights and lets them go again, a person-sized square that appears in
 * the very frame the lights change, a slow drift, a lamp lighting one
 * region, heavy sensor noise under a low threshold, a masked region, and the
 * pictures cw_motion_view() hands out. Every frame carries fresh noise from
 * a fixed-seed generator and OpenCV runs single-threaded: the output is the
 * same on every run.
 */
#include "check.h"

#include "../../detect/motion.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

#define W 640
#define H 480

/* A square "person": SQ x SQ pixels at SQ_LEVEL. */
#define SQ       56
#define SQ_LEVEL 30

static uint8_t luma[W * H];
static uint32_t rng = 2463534242u;

/* xorshift32: the same noise on every run and every machine. */
static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Roughly Gaussian noise of standard deviation `sigma` (sum of four uniforms). */
static double noise(double sigma)
{
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += (double)(next_random() & 0xffff) / 65535.0 - 0.5;
    return s * sigma * sqrt(3.0);
}

static uint8_t clamp_level(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* The scene's own level at x, y: a gradient from 40 to 220 across, with a
 * texture on it (a lamp's light keeps a texture, a person covers it). */
static double scene(int x, int y)
{
    return 40 + x * 180.0 / W + 14 * sin(x / 9.0) * cos(y / 7.0);
}

typedef struct Look {
    double gain, offset; /* the lighting: level -> gain * level + offset, clipped */
    double sigma;        /* sensor noise */
    int square_x;        /* >= 0: the square's left edge */
    int square_y;
    double square_level;
    /* A lamp: inside [lx0, lx1) x [ly0, ly1) the level becomes lamp_gain *
     * level + lamp_offset (when lamp_gain > 0). */
    int lx0, ly0, lx1, ly1;
    double lamp_gain, lamp_offset;
    /* A flat bright wall along the bottom and a white van on it with dark
     * windows: in a brightening that clips, both become one level. */
    bool van;
} Look;

static Look plain(void)
{
    return (Look){.gain = 1, .sigma = 2, .square_x = -1, .square_y = 200, .square_level = SQ_LEVEL};
}

static void draw(const Look *l)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double v = scene(x, y);
            if (l->van && y >= 380)
                v = 205;
            if (l->van && x >= 480 && x < 600 && y >= 390 && y < 450)
                v = (x / 20 + y / 20) % 2 ? 250 : 195;
            if (l->lamp_gain > 0 && x >= l->lx0 && x < l->lx1 && y >= l->ly0 && y < l->ly1)
                v = l->lamp_gain * v + l->lamp_offset;
            if (l->square_x >= 0 && x >= l->square_x && x < l->square_x + SQ && y >= l->square_y &&
                y < l->square_y + SQ)
                v = l->square_level;
            v = l->gain * v + l->offset;
            luma[y * W + x] = clamp_level(v + noise(l->sigma));
        }
    }
}

static CwMotion *new_detector(int threshold)
{
    CwMotionParams p;
    cw_motion_params_default(&p);
    p.threshold = threshold;
    CwMotion *m = cw_motion_new(&p);
    CHECK(m != NULL);
    return m;
}

static void analyse(CwMotion *m, const Look *l, CwMotionResult *r)
{
    draw(l);
    CHECK_EQ_U64(cw_motion_analyse(m, luma, W, H, W, r), 0);
}

/* The default warm-up (10 frames) and a few watched frames of the plain scene. */
static void settle(CwMotion *m)
{
    CwMotionResult r;
    Look l = plain();
    for (int i = 0; i < 15; i++)
        analyse(m, &l, &r);
    CHECK(!r.warming_up && !r.motion && !r.light_change);
}

/* `frames` frames of look `l`: never motion; returns how many were lighting. */
static int expect_quiet(CwMotion *m, const Look *l, int frames, const char *what)
{
    CwMotionResult r;
    int light = 0;
    for (int i = 0; i < frames; i++) {
        analyse(m, l, &r);
        if (r.motion || r.box_count) {
            fprintf(stderr, "%s, frame %d: motion, %d boxes, %.2f%% changed, threshold %d\n", what,
                    i, r.box_count, r.changed_percent, r.threshold_used);
            CHECK(!r.motion && r.box_count == 0);
        }
        CHECK(!r.warming_up);
        light += r.light_change;
    }
    return light;
}

/*
 * A gain step: bright parts change by far more than the threshold, dark ones
 * by less, so the old share-of-the-picture guard never saw "most of the
 * picture" change. The fitted curve explains it: lighting, not motion, and
 * the straight-line summary says which gain it was.
 */
static void test_partial_steps(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    const double gains[] = {1.25, 1.0, 0.75, 1.0, 1.4, 1.0};
    settle(m);
    for (size_t i = 0; i < sizeof(gains) / sizeof(gains[0]); i++) {
        Look l = plain();
        l.gain = gains[i];
        analyse(m, &l, &r);
        CHECK(!r.motion && r.box_count == 0 && !r.warming_up);
        if (i == 0) {
            CHECK(r.light_change);
            CHECK(fabs(r.light_gain - 1.25) < 0.05);
        }
        printf("gain x%.2f: lighting %d, fitted gain %.3f offset %+.1f, %.2f%% left changed\n",
               gains[i], r.light_change, r.light_gain, r.light_offset, r.changed_percent);
        expect_quiet(m, &l, 10, "after a gain step");
    }
    cw_motion_free(&m);
}

/*
 * +70 levels clip the wall and the van to white; when the light goes back,
 * the van's windows return, which no curve of the clipped background can
 * restore (the wall, most of the brightest band, comes back flat): those
 * pixels are learned again at once, not reported.
 */
static void test_clipping(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    Look l = plain();
    l.van = true;
    for (int i = 0; i < 15; i++)
        analyse(m, &l, &r);
    CHECK(!r.motion && !r.warming_up);
    l.offset = 70;
    expect_quiet(m, &l, 10, "70 levels brighter, clipped");
    l.offset = 0;
    int light = expect_quiet(m, &l, 10, "back from the clipping");
    printf("clipping: +70 and back, no motion (%d frame%s of lighting)\n", light,
           light == 1 ? "" : "s");
    CHECK(light >= 1);
    cw_motion_free(&m);
}

/* Someone switches the light on as they walk in: both in one frame. */
static void test_motion_in_lighting(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    settle(m);
    Look l = plain();
    l.offset = 40;
    l.square_x = 300;
    analyse(m, &l, &r);
    CHECK(r.light_change);
    CHECK(r.motion && r.box_count == 1);
    const CwBox *b = &r.boxes[0];
    printf("step +40 with a square at %d,%d: box %d,%d %dx%d\n", l.square_x, l.square_y, b->x, b->y,
           b->w, b->h);
    /* The box is the square's, not the picture's (dilation and blur add a
     * few analysed pixels on each side). */
    CHECK(b->x <= l.square_x && b->x + b->w >= l.square_x + SQ);
    CHECK(b->w <= SQ + 16 && b->h <= SQ + 16);
    for (int i = 0; i < 5; i++) {
        l.square_x += 10;
        analyse(m, &l, &r);
        CHECK(r.motion && r.box_count == 1 && !r.light_change);
    }
    cw_motion_free(&m);
}

/* Dusk: one level darker per frame for 120 frames, then back up faster. */
static void test_drift(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    settle(m);
    Look l = plain();
    for (int i = 1; i <= 120; i++) {
        l.offset = -i;
        analyse(m, &l, &r);
        CHECK(!r.motion && r.box_count == 0 && !r.warming_up);
    }
    for (int i = 1; i <= 60; i++) {
        l.offset = -120 + 2 * i;
        analyse(m, &l, &r);
        CHECK(!r.motion && r.box_count == 0 && !r.warming_up);
    }
    printf("drift: 120 levels down at 1 a frame, up at 2 a frame: no motion\n");
    /* Followed, not lost: a square after the drift is still seen. */
    l.square_x = 200;
    analyse(m, &l, &r);
    CHECK(r.motion && r.box_count == 1);
    cw_motion_free(&m);
}

/* A lamp lights a textured region: a gain and an offset of its own there. */
static void test_lamp(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    settle(m);
    Look l = plain();
    l.lx0 = 380, l.ly0 = 40, l.lx1 = 560, l.ly1 = 160;
    l.lamp_gain = 0.7, l.lamp_offset = 80;
    analyse(m, &l, &r);
    CHECK(!r.motion && r.box_count == 0);
    CHECK(r.light_change);
    printf("lamp over %.1f%% of the picture: lighting over %.1f%%, no motion\n",
           100.0 * (l.lx1 - l.lx0) * (l.ly1 - l.ly0) / (W * H), r.light_percent);
    expect_quiet(m, &l, 20, "lamp on");
    /* A square walking into the lit region is motion. */
    l.square_x = 420, l.square_y = 60;
    analyse(m, &l, &r);
    CHECK(r.motion && r.box_count >= 1);
    l.square_x = -1;
    for (int i = 0; i < 30; i++)
        analyse(m, &l, &r);
    l.lamp_gain = 0;
    expect_quiet(m, &l, 10, "lamp off");
    cw_motion_free(&m);
}

/*
 * Heavy sensor noise with a threshold floor of 10: the threshold rises with
 * the noise from its first frame on, and a square is still seen in it.
 */
static void test_noise(void)
{
    CwMotion *m = new_detector(10);
    CwMotionResult r;
    settle(m);
    Look l = plain();
    l.sigma = 45;
    l.gain = 0.5; /* a dark night */
    l.offset = 10;
    int light = expect_quiet(m, &l, 60, "night noise");
    analyse(m, &l, &r);
    printf("night: noise sigma %.2f levels analysed, threshold %d (floor 10), %d lighting "
           "frames, no motion\n",
           r.noise_sigma, r.threshold_used, light);
    CHECK(r.threshold_used > 10);
    /* A light coat in the dark: 75 levels over its background. */
    l.square_level = 230;
    l.square_x = 100;
    for (int i = 0; i < 5; i++) {
        l.square_x += 12;
        analyse(m, &l, &r);
        CHECK(r.motion);
    }
    /* Day again: the threshold falls back to its floor. */
    l = plain();
    for (int i = 0; i < 100; i++)
        analyse(m, &l, &r);
    CHECK(!r.motion);
    CHECK_EQ_U64(r.threshold_used, 10);
    cw_motion_free(&m);
}

/* Motion inside the mask is ignored; outside it is not. */
static void test_mask(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    CwPolygonSet mask = {.count = 1};
    mask.polygons[0].count = 4;
    const CwPoint corner[4] = {{0, 0}, {0.5, 0}, {0.5, 0.6}, {0, 0.6}};
    for (int i = 0; i < 4; i++)
        mask.polygons[0].points[i] = corner[i];
    CHECK(cw_motion_set_mask(NULL, &mask) == -EINVAL);
    CHECK_EQ_U64(cw_motion_set_mask(m, &mask), 0);
    settle(m);
    Look l = plain();
    l.square_y = 100;
    for (int x = 20; x < 200; x += 10) {
        l.square_x = x;
        analyse(m, &l, &r);
        CHECK(!r.motion && r.box_count == 0);
    }
    CwMotionView v;
    CHECK_EQ_U64(cw_motion_view(m, &v), 0);
    CHECK(v.mask != NULL);
    CHECK(v.mask[10 * v.linesize + 10] == 255 && v.mask[(v.height - 5) * v.linesize + 10] == 0);
    l.square_y = 360; /* below the mask */
    analyse(m, &l, &r);
    CHECK(r.motion && r.box_count == 1);
    /* Without the mask the top left is watched again. */
    CHECK_EQ_U64(cw_motion_set_mask(m, NULL), 0);
    l.square_x = -1;
    for (int i = 0; i < 30; i++)
        analyse(m, &l, &r);
    l.square_x = 100, l.square_y = 100;
    analyse(m, &l, &r);
    CHECK(r.motion);
    printf("mask: a square inside never motion, below it motion\n");
    cw_motion_free(&m);
}

/* The pictures of the last frame: their size, and what they hold. */
static void test_view(void)
{
    CwMotion *m = new_detector(25);
    CwMotionResult r;
    CwMotionView v;
    CHECK(cw_motion_view(m, &v) == -EAGAIN);
    settle(m);
    Look l = plain();
    l.square_x = 300;
    analyse(m, &l, &r);
    CHECK(r.motion);
    CHECK_EQ_U64(cw_motion_view(m, &v), 0);
    CHECK_EQ_U64(v.width, 320);
    CHECK_EQ_U64(v.height, 240);
    CHECK_EQ_U64(r.analysed_width, 320);
    CHECK(v.linesize >= v.width && v.mask == NULL);
    /* The square's centre: dark in the frame, changed; a corner: neither. */
    int cx = (l.square_x + SQ / 2) / 2, cy = (l.square_y + SQ / 2) / 2;
    CHECK(v.frame[cy * v.linesize + cx] < 60);
    CHECK(v.changed[cy * v.linesize + cx] == 255);
    CHECK(v.difference[cy * v.linesize + cx] > 25);
    CHECK(v.changed[5 * v.linesize + 5] == 0);
    CHECK(abs((int)v.background[5 * v.linesize + 5] - (int)scene(10, 10)) < 10);
    cw_motion_reset(m);
    CHECK(cw_motion_view(m, &v) == -EAGAIN);
    cw_motion_free(&m);
}

int main(void)
{
    RUN(test_partial_steps);
    RUN(test_clipping);
    RUN(test_motion_in_lighting);
    RUN(test_drift);
    RUN(test_lamp);
    RUN(test_noise);
    RUN(test_mask);
    RUN(test_view);
    return 0;
}
