/*
 * When changed regions become motion (detect/confirm.h), rule by rule, on
 * boxes in a 1280x720 frame: a walker is motion from its third frame, a
 * blinking light or a lamp never, a flash is too short, a walker behind a
 * pole stays motion, tracks that meet become one, and the table of tracks
 * never overflows.
 */
#include "check.h"

#include "../../detect/confirm.h"

#define FW 1280
#define FH 720

static uint8_t keep[CW_MAX_BOXES];

static int frame(CwConfirm *c, const CwBox *boxes, int n)
{
    return cw_confirm_update(c, boxes, n, FW, FH, keep);
}

static CwBox box(int x, int y, int w, int h)
{
    return (CwBox){(uint16_t)x, (uint16_t)y, (uint16_t)w, (uint16_t)h};
}

/* Rule 1: a walker, 12 px a frame, is motion from frame min_frames on. */
static void test_walker(void)
{
    CwConfirm c;
    cw_confirm_init(&c, 3, 2);
    for (int i = 0; i < 10; i++) {
        CwBox b = box(100 + 12 * i, 300, 60, 150);
        int kept = frame(&c, &b, 1);
        CHECK_EQ_U64(kept, i >= 2 ? 1 : 0);
        CHECK_EQ_U64(keep[0], i >= 2 ? 1 : 0);
    }
    /* Walking towards the camera: the box grows downwards. */
    cw_confirm_reset(&c);
    for (int i = 0; i < 4; i++) {
        CwBox b = box(600, 200, 60 + 4 * i, 150 + 12 * i);
        CHECK_EQ_U64(frame(&c, &b, 1), i >= 2 ? 1 : 0);
    }
    printf("walker: motion from frame 3\n");
}

/* Rules 1 and 2: a light blinking in place (on 3 frames, off 2), its box
 * swelling and shrinking, over 100 frames; and a lamp that stays on. */
static void test_in_place(void)
{
    CwConfirm c;
    cw_confirm_init(&c, 3, 2);
    for (int i = 0; i < 100; i++) {
        int phase = i % 5;
        CwBox lit = box(1000 + (i % 2), 40, 90 + (i % 3), 80);
        CwBox half = box(1004, 44, 80, 50); /* what the half-learned background leaves */
        int kept = phase < 3    ? frame(&c, &lit, 1)
                   : phase == 3 ? frame(&c, &half, 1)
                                : frame(&c, NULL, 0);
        CHECK_EQ_U64(kept, 0);
    }
    /* The same light, its track begun on the smaller box: one jump to the
     * larger, then jitter. */
    cw_confirm_reset(&c);
    for (int i = 0; i < 100; i++) {
        CwBox lit = box(1000 + (i % 2), 40, 90 + (i % 3), 80);
        CwBox half = box(1004, 44, 80, 50);
        CHECK_EQ_U64(frame(&c, i % 3 == 0 ? &half : &lit, 1), 0);
    }
    cw_confirm_reset(&c);
    for (int i = 0; i < 100; i++) {
        CwBox lamp = box(200, 50, 300, 120 + (i % 2));
        CHECK_EQ_U64(frame(&c, &lamp, 1), 0);
    }
    printf("blinking light, lamp: 100 frames each, never motion\n");
}

/* A flash over two frames, even moving, is too short; min_frames 1 keeps
 * everything at once. */
static void test_short(void)
{
    CwConfirm c;
    cw_confirm_init(&c, 3, 2);
    CwBox a = box(100, 100, 50, 50), b = box(140, 100, 50, 50);
    CHECK_EQ_U64(frame(&c, &a, 1), 0);
    CHECK_EQ_U64(frame(&c, &b, 1), 0);
    CHECK_EQ_U64(frame(&c, NULL, 0), 0);
    CwBox d = box(180, 100, 50, 50);
    CHECK_EQ_U64(frame(&c, &d, 1), 0); /* counted anew after the gap (rule 2) */
    cw_confirm_init(&c, 1, 2);
    CHECK_EQ_U64(frame(&c, &a, 1), 1);
}

/* Rule 3: a walker behind a pole for two frames stays motion; gone for
 * longer, it must be confirmed again. */
static void test_grace(void)
{
    CwConfirm c;
    cw_confirm_init(&c, 3, 2);
    int x = 100;
    for (int i = 0; i < 4; i++, x += 12) {
        CwBox b = box(x, 300, 60, 150);
        frame(&c, &b, 1);
    }
    CHECK_EQ_U64(frame(&c, NULL, 0), 0);
    CHECK_EQ_U64(frame(&c, NULL, 0), 0);
    x += 36;
    CwBox back = box(x, 300, 60, 150);
    CHECK_EQ_U64(frame(&c, &back, 1), 1);
    for (int i = 0; i < 3; i++)
        frame(&c, NULL, 0);
    CHECK_EQ_U64(c.count, 0);
    CHECK_EQ_U64(frame(&c, &back, 1), 0);
}

/* Two walkers meet: one track, motion; a blinking light beside a walker
 * stays out of the kept boxes. */
static void test_merge(void)
{
    CwConfirm c;
    cw_confirm_init(&c, 3, 2);
    for (int i = 0; i < 4; i++) {
        CwBox two[2] = {box(100 + 20 * i, 300, 60, 150), box(400 - 20 * i, 300, 60, 150)};
        frame(&c, two, 2);
    }
    CHECK_EQ_U64(c.count, 2);
    CwBox met = box(180, 300, 200, 150);
    CHECK_EQ_U64(frame(&c, &met, 1), 1);
    CHECK_EQ_U64(c.count, 1);

    cw_confirm_init(&c, 3, 2);
    for (int i = 0; i < 10; i++) {
        CwBox both[2] = {box(100 + 12 * i, 300, 60, 150), box(1100, 40, 60, 60)};
        int kept = i % 2 ? frame(&c, both, 1) : frame(&c, both, 2);
        if (i >= 2) {
            CHECK_EQ_U64(keep[0], 1);
            CHECK_EQ_U64(kept, 1);
        }
        if (i % 2 == 0)
            CHECK_EQ_U64(keep[1], 0);
    }
}

/* More regions than tracks: the table stays bounded and keeps the motion. */
static void test_capacity(void)
{
    CwConfirm c;
    CwBox many[CW_MAX_BOXES];
    cw_confirm_init(&c, 3, 2);
    for (int i = 0; i < 4; i++) {
        CwBox b = box(40 + 12 * i, 600, 40, 40);
        frame(&c, &b, 1);
    }
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < CW_MAX_BOXES; i++)
            many[i] = box(300 + 60 * (i % 16), 50 + 120 * round, 20, 20);
        many[0] = box(40 + 12 * (4 + round), 600, 40, 40); /* the walker goes on */
        int kept = frame(&c, many, CW_MAX_BOXES);
        CHECK(c.count <= CW_CONFIRM_MAX_TRACKS);
        CHECK_EQ_U64(keep[0], 1);
        CHECK(kept >= 1);
    }
    CHECK_EQ_U64(c.count, CW_CONFIRM_MAX_TRACKS);
}

int main(void)
{
    RUN(test_walker);
    RUN(test_in_place);
    RUN(test_short);
    RUN(test_grace);
    RUN(test_merge);
    RUN(test_capacity);
    return 0;
}
