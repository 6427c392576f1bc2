/* The packets that wait for the next picture detection takes
 * (capture/backlog.c): when one may wait, and that they come out whole, in
 * order, with their own arrival stamps. */
#include "check.h"

#include "../../capture/backlog.h"

#include <libavutil/error.h>

#include <errno.h>

#define MS CW_NS_PER_MSEC

/* A picture detection wants never waits, and goes after whatever does. */
static void test_wanted_never_waits(void)
{
    CHECK(!capture_backlog_may_hold(0, false, 0, 1000 * MS, false)); /* nothing decoded yet */
    CHECK(!capture_backlog_may_hold(0, true, 0, 1000 * MS, true));
    CHECK(!capture_backlog_may_hold(4, true, 900 * MS, 1000 * MS, true));
}

/* The others wait: a 25 fps camera at DETECT_FPS 5 holds four in a row
 * after the packet decoded at 1000 ms. */
static void test_unwanted_wait(void)
{
    CHECK(capture_backlog_may_hold(0, true, 1000 * MS, 1040 * MS, false));
    CHECK(capture_backlog_may_hold(1, true, 1000 * MS, 1080 * MS, false));
    CHECK(capture_backlog_may_hold(3, true, 1000 * MS, 1160 * MS, false));
}

/* Never longer than CAPTURE_BACKLOG_AGE_MAX_NS after the last decoded
 * packet (a slow DETECT_FPS would hold seconds of packets and look like a
 * stall; a camera sending a picture a second would hold its first for a
 * second), never more than CAPTURE_BACKLOG_MAX_PACKETS packets. */
static void test_bounds(void)
{
    int64_t t0 = 1000 * MS;
    CHECK(capture_backlog_may_hold(5, true, t0, t0 + CAPTURE_BACKLOG_AGE_MAX_NS - 1, false));
    CHECK(!capture_backlog_may_hold(5, true, t0, t0 + CAPTURE_BACKLOG_AGE_MAX_NS, false));
    CHECK(!capture_backlog_may_hold(0, true, t0, t0 + 1000 * MS, false)); /* a camera at 1 fps */
    CHECK(capture_backlog_may_hold(CAPTURE_BACKLOG_MAX_PACKETS - 1, true, t0, t0, false));
    CHECK(!capture_backlog_may_hold(CAPTURE_BACKLOG_MAX_PACKETS, true, t0, t0, false));
}

typedef struct Seen {
    int count;
    int sizes[CAPTURE_BACKLOG_MAX_PACKETS];
    int64_t arrivals[CAPTURE_BACKLOG_MAX_PACKETS];
    uint8_t first_bytes[CAPTURE_BACKLOG_MAX_PACKETS];
    int fail_at; /* return an error for this packet (0: never) */
} Seen;

static int see(void *arg, const AVPacket *pkt, CwStamp at)
{
    Seen *seen = arg;
    seen->sizes[seen->count] = pkt->size;
    seen->arrivals[seen->count] = at.mono_ns;
    seen->first_bytes[seen->count] = pkt->data[0];
    seen->count++;
    return seen->count == seen->fail_at ? AVERROR(ENOMEM) : 0;
}

/* A packet of `size` bytes that all hold `byte`. */
static AVPacket *packet(int size, uint8_t byte)
{
    AVPacket *pkt = av_packet_alloc();
    CHECK(pkt && av_new_packet(pkt, size) == 0);
    memset(pkt->data, byte, (size_t)size);
    return pkt;
}

/* Taken packets come out oldest first, their data and stamps intact; the
 * caller's packet is left blank; the backlog is empty after a drain. */
static void test_order_and_data(void)
{
    CaptureBacklog b;
    CHECK(capture_backlog_init(&b) == 0);
    capture_backlog_passed(&b, (CwStamp){.mono_ns = 960 * MS}); /* a picture decoded */
    for (int i = 0; i < 4; i++) {
        AVPacket *pkt = packet(100 + i, (uint8_t)(0xa0 + i));
        CwStamp at = {.mono_ns = (1000 + 40 * i) * MS, .wall_ns = 7};
        CHECK(capture_backlog_may_take(&b, at, false));
        capture_backlog_take(&b, pkt, at);
        CHECK(pkt->size == 0 && pkt->data == NULL);
        av_packet_free(&pkt);
    }
    CHECK_EQ_U64(b.count, 4);
    /* The age counts from the last packet decoded. */
    CHECK(!capture_backlog_may_take(&b, (CwStamp){.mono_ns = 960 * MS + CAPTURE_BACKLOG_AGE_MAX_NS},
                                    false));
    Seen seen = {0};
    CHECK(capture_backlog_drain(&b, see, &seen) == 0);
    CHECK_EQ_U64(seen.count, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U64(seen.sizes[i], 100 + i);
        CHECK_EQ_U64(seen.first_bytes[i], 0xa0 + i);
        CHECK_EQ_U64(seen.arrivals[i], (1000 + 40 * i) * MS);
    }
    CHECK_EQ_U64(b.count, 0);
    /* The last one drained counts as decoded: the next may wait after it,
     * not long after it. */
    CHECK(capture_backlog_may_take(&b, (CwStamp){.mono_ns = 1160 * MS}, false));
    CHECK(!capture_backlog_may_take(&b, (CwStamp){.mono_ns = 9000 * MS}, false));
    Seen none = {0};
    CHECK(capture_backlog_drain(&b, see, &none) == 0);
    CHECK_EQ_U64(none.count, 0);
    capture_backlog_fini(&b);
}

/* An error stops the handing out and is returned; the rest is dropped. */
static void test_error_stops(void)
{
    CaptureBacklog b;
    CHECK(capture_backlog_init(&b) == 0);
    for (int i = 0; i < 3; i++) {
        AVPacket *pkt = packet(10, (uint8_t)i);
        capture_backlog_take(&b, pkt, (CwStamp){.mono_ns = i * MS});
        av_packet_free(&pkt);
    }
    Seen seen = {.fail_at = 2};
    CHECK(capture_backlog_drain(&b, see, &seen) == AVERROR(ENOMEM));
    CHECK_EQ_U64(seen.count, 2);
    CHECK_EQ_U64(b.count, 0);
    for (int i = 0; i < CAPTURE_BACKLOG_MAX_PACKETS; i++)
        CHECK(b.packets[i]->size == 0); /* dropped, not leaked (ASan checks) */
    capture_backlog_fini(&b);
    capture_backlog_fini(&b); /* twice is safe */
}

/* Pictures up to 1280x720 may have packets wait for them; larger ones, and
 * a size not known yet, not. */
static void test_fits(void)
{
    CHECK(capture_backlog_fits(640, 360));
    CHECK(capture_backlog_fits(1280, 720));
    CHECK(!capture_backlog_fits(1920, 1080));
    CHECK(!capture_backlog_fits(0, 0));
    CHECK(!capture_backlog_fits(1280, 0));
}

int main(void)
{
    test_fits();
    test_wanted_never_waits();
    test_unwanted_wait();
    test_bounds();
    test_order_and_data();
    test_error_stops();
    printf("backlog: ok\n");
    return 0;
}
