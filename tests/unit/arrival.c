/* The arrival stamps found again by the wall time the decoder hands back
 * (capture/arrival.c): a frame gets its own packet's monotonic stamp, also
 * after the wall clock stepped back and two packets share a wall time. */
#include "check.h"

#include "../../capture/arrival.h"

#define S 1000000000LL

static void test_found_by_wall(void)
{
    CaptureArrivals a = {0};
    for (int i = 0; i < 10; i++)
        capture_arrivals_add(&a, (CwStamp){.wall_ns = 5000 * S + i * S / 10, .mono_ns = 7 * S + i});
    /* The decoder hands pictures back reordered: any of the last ones. */
    CHECK_EQ_U64(capture_arrivals_find(&a, 5000 * S + 3 * S / 10).mono_ns, 7 * S + 3);
    CHECK_EQ_U64(capture_arrivals_find(&a, 5000 * S + 9 * S / 10).mono_ns, 7 * S + 9);
    CHECK_EQ_U64(capture_arrivals_find(&a, 5000 * S).mono_ns, 7 * S);
}

/* The wall clock stepped back one second: two packets share a wall time;
 * the newer one is the frame's (the decoder's delay is far below the map). */
static void test_newest_first_after_a_step_back(void)
{
    CaptureArrivals a = {0};
    capture_arrivals_add(&a, (CwStamp){.wall_ns = 100 * S, .mono_ns = 1 * S});
    capture_arrivals_add(&a, (CwStamp){.wall_ns = 101 * S, .mono_ns = 2 * S});
    capture_arrivals_add(&a, (CwStamp){.wall_ns = 100 * S, .mono_ns = 3 * S}); /* stepped back */
    CHECK_EQ_U64(capture_arrivals_find(&a, 100 * S).mono_ns, 3 * S);
}

/* A stamp older than the map is rebuilt from the clocks' offset now. */
static void test_forgotten_stamp(void)
{
    CaptureArrivals a = {0};
    for (int i = 0; i < CAPTURE_ARRIVALS + 10; i++)
        capture_arrivals_add(&a, (CwStamp){.wall_ns = 100 * S + i, .mono_ns = 1});
    CwStamp now = cw_stamp_now();
    CwStamp old = capture_arrivals_find(&a, 100 * S); /* entry 0: overwritten */
    int64_t want = now.mono_ns - (now.wall_ns - 100 * S);
    int64_t off = old.mono_ns - want;
    CHECK(off > -S && off < S);
    CHECK_EQ_U64(old.wall_ns, 100 * S);
    CHECK_EQ_U64(capture_arrivals_find(&a, 100 * S + CAPTURE_ARRIVALS + 9).mono_ns, 1);
}

int main(void)
{
    RUN(test_found_by_wall);
    RUN(test_newest_first_after_a_step_back);
    RUN(test_forgotten_stamp);
    printf("arrival: ok\n");
    return 0;
}
