/*
 * Timestamp mapping of a clip (record/tsmap.c): the camera's pts/dts become
 * the file's times, from zero, in the file's time base, always increasing;
 * untimed packets are timed by arrival; a camera clock that jumps is
 * bridged by the arrival time.
 */
#include "check.h"

#include "../../record/tsmap.h"

#include <libavutil/avutil.h>

#define MS       1000000LL /* ns */
#define WALL0    (1795700000LL * 1000000000LL)
#define NONE     AV_NOPTS_VALUE
#define TB90K    ((AVRational){1, 90000})
#define NO_RATE  ((AVRational){0, 1})
#define FRAME_TB 3600 /* one frame at 25 fps in 1/90000 */

static AVPacket *pkt;

typedef struct Out {
    int64_t pts, dts, duration;
    bool jumped;
} Out;

/* Map one packet that arrived `wall_ms` after WALL0. */
static Out map(RecTsMap *m, int64_t pts, int64_t dts, int64_t duration, int64_t wall_ms)
{
    pkt->pts = pts;
    pkt->dts = dts;
    pkt->duration = duration;
    bool jumped = rec_tsmap_packet(m, pkt, WALL0 + wall_ms * MS);
    return (Out){pkt->pts, pkt->dts, pkt->duration, jumped};
}

#define CHECK_OUT(o, want_pts, want_dts)                                                           \
    do {                                                                                           \
        Out o_ = (o);                                                                              \
        CHECK_EQ_U64(o_.pts, want_pts);                                                            \
        CHECK_EQ_U64(o_.dts, want_dts);                                                            \
    } while (0)

/* The first packet is time zero, whatever the camera's origin; B-frame
 * offsets (pts ahead of dts) are kept. */
static void test_starts_at_zero(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, (AVRational){25, 1});
    int64_t o = 123456789; /* the camera's clock when the clip starts */
    CHECK_OUT(map(&m, o + 2 * FRAME_TB, o, FRAME_TB, 0), 2 * FRAME_TB, 0);
    CHECK_OUT(map(&m, o + 4 * FRAME_TB, o + FRAME_TB, FRAME_TB, 40), 4 * FRAME_TB, FRAME_TB);
    CHECK_OUT(map(&m, o + 3 * FRAME_TB, o + 2 * FRAME_TB, FRAME_TB, 80), 3 * FRAME_TB,
              2 * FRAME_TB);
    CHECK(!map(&m, o + 5 * FRAME_TB, o + 3 * FRAME_TB, FRAME_TB, 120).jumped);
}

/* Into the file's own time base (the muxer may choose another one). */
static void test_time_base(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, (AVRational){1, 1000}, NO_RATE);
    for (int k = 0; k < 5; k++) {
        Out o = map(&m, 900000 + k * FRAME_TB, 900000 + k * FRAME_TB, FRAME_TB, k * 40);
        CHECK_OUT(o, k * 40, k * 40);
        CHECK_EQ_U64(o.duration, 40);
    }
}

/* A missing duration comes from the frame rate, else the previous step. */
static void test_missing_duration(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, (AVRational){25, 1});
    CHECK_EQ_U64(map(&m, 0, 0, 0, 0).duration, FRAME_TB);
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    CHECK_EQ_U64(map(&m, 0, 0, 0, 0).duration, 0); /* nothing to go by yet */
    CHECK_EQ_U64(map(&m, 3000, 3000, 0, 33).duration, 0);
    CHECK_EQ_U64(map(&m, 6000, 6000, 0, 66).duration, 3000);
    CHECK_EQ_U64(map(&m, 9000, 9000, 1234, 99).duration, 1234); /* a known one is kept */
}

/* No timestamps at all (MJPEG over HTTP): arrival times are the clock. */
static void test_untimed(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    CHECK_OUT(map(&m, NONE, NONE, 0, 0), 0, 0);
    CHECK_OUT(map(&m, NONE, NONE, 0, 100), 9000, 9000);
    CHECK_OUT(map(&m, NONE, NONE, 0, 250), 22500, 22500);
    /* Two arrivals in the same instant still get increasing times. */
    Out o = map(&m, NONE, NONE, 0, 250);
    CHECK(o.dts > 22500);
}

/* Timestamps that begin after some untimed packets continue their times. */
static void test_untimed_then_timed(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    map(&m, NONE, NONE, 0, 0);
    map(&m, NONE, NONE, 0, 40);
    CHECK_OUT(map(&m, 5000000, 5000000, 0, 80), 2 * FRAME_TB, 2 * FRAME_TB);
    CHECK_OUT(map(&m, 5000000 + FRAME_TB, 5000000 + FRAME_TB, 0, 120), 3 * FRAME_TB, 3 * FRAME_TB);
}

/* Only dts missing: pts stands in for it. */
static void test_pts_only(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    CHECK_OUT(map(&m, 1000, NONE, 0, 0), 0, 0);
    CHECK_OUT(map(&m, 1000 + FRAME_TB, NONE, 0, 40), FRAME_TB, FRAME_TB);
}

/* The camera's clock jumps ahead (a reset, a new session): the clip goes on
 * by the arrival time, then follows the new clock. */
static void test_jump_ahead(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    map(&m, 0, 0, 0, 0);
    map(&m, FRAME_TB, FRAME_TB, 0, 40);
    int64_t later = 3600LL * 90000; /* an hour ahead */
    Out o = map(&m, later, later, 0, 80);
    CHECK(o.jumped);
    CHECK_OUT(o, 2 * FRAME_TB, 2 * FRAME_TB);
    CHECK_EQ_U64(m.last_jump, later - FRAME_TB);
    o = map(&m, later + FRAME_TB, later + FRAME_TB, 0, 120);
    CHECK(!o.jumped);
    CHECK_OUT(o, 3 * FRAME_TB, 3 * FRAME_TB);
    /* Just within the slack (arrival step + 10 s) is a real gap, kept. */
    int64_t gap = FRAME_TB + 10 * 90000;
    o = map(&m, later + FRAME_TB + gap, later + FRAME_TB + gap, 0, 160);
    CHECK(!o.jumped);
    CHECK_OUT(o, 3 * FRAME_TB + gap, 3 * FRAME_TB + gap);
}

/* Back by more than a second (a reset, a 33-bit wrap): bridged too. */
static void test_jump_back(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    int64_t top = (1LL << 33) - FRAME_TB;
    map(&m, top - FRAME_TB, top - FRAME_TB, 0, 0);
    map(&m, top, top, 0, 40);
    Out o = map(&m, 0, 0, 0, 80); /* the 33-bit clock wrapped */
    CHECK(o.jumped);
    CHECK_OUT(o, 2 * FRAME_TB, 2 * FRAME_TB);
    CHECK_OUT(map(&m, FRAME_TB, FRAME_TB, 0, 120), 3 * FRAME_TB, 3 * FRAME_TB);
}

/* Small steps back are not jumps: decode times are made strictly
 * increasing, presentation never before decoding. */
static void test_strictly_increasing(void)
{
    RecTsMap m;
    rec_tsmap_init(&m, TB90K, TB90K, NO_RATE);
    CHECK_OUT(map(&m, 0, 0, 0, 0), 0, 0);
    CHECK_OUT(map(&m, 3 * FRAME_TB, NONE, 0, 40), 3 * FRAME_TB, 3 * FRAME_TB);
    Out o = map(&m, FRAME_TB, NONE, 0, 80); /* B-frame order, no dts */
    CHECK(!o.jumped);
    CHECK_OUT(o, 3 * FRAME_TB + 1, 3 * FRAME_TB + 1);
    CHECK_OUT(map(&m, 4 * FRAME_TB, 4 * FRAME_TB, 0, 120), 4 * FRAME_TB, 4 * FRAME_TB);
    /* pts before dts (a broken stream): pts is raised to dts. */
    CHECK_OUT(map(&m, 4 * FRAME_TB, 5 * FRAME_TB, 0, 160), 5 * FRAME_TB, 5 * FRAME_TB);
    /* The same dts twice. */
    CHECK_OUT(map(&m, 5 * FRAME_TB, 5 * FRAME_TB, 0, 200), 5 * FRAME_TB + 1, 5 * FRAME_TB + 1);
}

/* A stream that joins the clip later (audio beside video) starts where
 * first_shift puts it, and follows its own clock from there. */
static void test_first_shift(void)
{
    RecTsMap m;
    AVRational tb8k = {1, 8000};
    rec_tsmap_init(&m, tb8k, tb8k, NO_RATE);
    m.first_shift = 240; /* arrived 30 ms after the clip's first packet */
    int64_t o = 987654;  /* the audio's own clock */
    CHECK_OUT(map(&m, o, o, 160, 30), 240, 240);
    CHECK_OUT(map(&m, o + 160, o + 160, 160, 50), 400, 400);
    /* Untimed packets start there too. */
    rec_tsmap_init(&m, tb8k, tb8k, NO_RATE);
    m.first_shift = 80;
    CHECK_OUT(map(&m, NONE, NONE, 0, 10), 80, 80);
    CHECK_OUT(map(&m, NONE, NONE, 0, 30), 240, 240);
}

int main(void)
{
    pkt = av_packet_alloc();
    CHECK(pkt);
    RUN(test_starts_at_zero);
    RUN(test_time_base);
    RUN(test_missing_duration);
    RUN(test_untimed);
    RUN(test_untimed_then_timed);
    RUN(test_pts_only);
    RUN(test_jump_ahead);
    RUN(test_jump_back);
    RUN(test_strictly_increasing);
    RUN(test_first_shift);
    av_packet_free(&pkt);
    return 0;
}
