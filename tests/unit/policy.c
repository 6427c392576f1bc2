/* The supervisor's restart policy, rule by rule (supervisor/policy.c's table). */
#include "check.h"
#include "exitcode.h"

#include "../../supervisor/policy.h"

#include <signal.h>

#define S(x) ((int64_t)((x)*1e9))

static int64_t now;

/* A stage started at `now`, ran `ran_s`, then died. */
static SupDecision die(SupPolicy *p, bool capture, double ran_s, int status, int sig,
                       double retry_s)
{
    SupDecision d;
    int64_t started = now;
    now += S(ran_s);
    sup_policy_on_death(p, capture, started, now, status, sig, S(retry_s), &d);
    if (d.verdict == SUP_RESTART)
        now += d.delay_ns;
    return d;
}

static void test_camera_ladder(void)
{
    SupPolicy p = {0};
    const double want[] = {1, 2, 5, 10, 10, 10};
    now = S(1000);
    for (int i = 0; i < 6; i++) {
        SupDecision d = die(&p, true, 0.2, CW_EXIT_TEMPFAIL, 0, 10);
        CHECK(d.verdict == SUP_RESTART && d.cause == SUP_CAUSE_UNREACHABLE);
        CHECK_EQ_U64(d.attempt, i + 1);
        CHECK_EQ_U64(d.delay_ns, S(want[i]));
    }
    /* RETRY_SECONDS caps every step. */
    SupPolicy q = {0};
    CHECK_EQ_U64(die(&q, true, 0.2, CW_EXIT_TEMPFAIL, 0, 1.5).delay_ns, S(1));
    CHECK_EQ_U64(die(&q, true, 0.2, CW_EXIT_TEMPFAIL, 0, 1.5).delay_ns, S(1.5));
    /* 30 s of good running starts the ladder over. */
    SupDecision d = die(&p, true, 31, CW_EXIT_TEMPFAIL, 0, 10);
    CHECK_EQ_U64(d.attempt, 1);
    CHECK_EQ_U64(d.delay_ns, S(1));
}

/* A camera that is off all night never trips the crash-loop breaker. */
static void test_camera_never_trips_breaker(void)
{
    SupPolicy p = {0};
    now = S(1000);
    for (int i = 0; i < 500; i++)
        CHECK(die(&p, true, 0.05, CW_EXIT_TEMPFAIL, 0, 0.1).verdict == SUP_RESTART);
}

static void test_source_end(void)
{
    SupPolicy file = {.source_can_end = true}, camera = {0};
    now = S(1000);
    SupDecision d = die(&file, true, 5, CW_EXIT_OK, 0, 10);
    CHECK(d.verdict == SUP_STOP_ENDED);
    /* A camera's capture stopped from outside is restarted like a lost camera. */
    d = die(&camera, true, 5, CW_EXIT_OK, 0, 10);
    CHECK(d.verdict == SUP_RESTART && d.cause == SUP_CAUSE_UNREACHABLE);
    /* Exit 0 of another stage is a crash: it was not asked to stop. */
    d = die(&camera, false, 5, CW_EXIT_OK, 0, 10);
    CHECK(d.verdict == SUP_RESTART && d.cause == SUP_CAUSE_CRASH);
}

static void test_config_error_stops(void)
{
    SupPolicy p = {0};
    now = S(1000);
    CHECK(die(&p, false, 0.1, CW_EXIT_CONFIG, 0, 10).verdict == SUP_STOP_CONFIG);
    CHECK(die(&p, true, 0.1, CW_EXIT_CONFIG, 0, 10).verdict == SUP_STOP_CONFIG);
}

/* Crashes: at once, then 1, 2, 4 s (never sooner than 1 s after the last
 * start), and the 5th within 60 s gives up. */
static void test_crash_backoff_and_breaker(void)
{
    SupPolicy p = {0};
    now = S(1000);
    SupDecision d = die(&p, false, 5, 0, SIGSEGV, 10);
    CHECK(d.verdict == SUP_RESTART && d.cause == SUP_CAUSE_CRASH);
    CHECK_EQ_U64(d.delay_ns, 0); /* up 5 s: at once */
    d = die(&p, false, 0.1, CW_EXIT_SOFTWARE, 0, 10);
    CHECK_EQ_U64(d.delay_ns, S(1));
    d = die(&p, false, 0.1, 0, SIGKILL, 10);
    CHECK_EQ_U64(d.delay_ns, S(2));
    d = die(&p, false, 0.1, 0, SIGABRT, 10);
    CHECK_EQ_U64(d.delay_ns, S(4));
    d = die(&p, false, 0.1, 0, SIGSEGV, 10);
    CHECK(d.verdict == SUP_STOP_LOOP);
    CHECK_EQ_U64(d.recent_crashes, 5);
}

/* A young death right after a restart waits for the 1 s floor. */
static void test_start_floor(void)
{
    SupPolicy p = {0};
    now = S(1000);
    CHECK_EQ_U64(die(&p, false, 0.3, 0, SIGSEGV, 10).delay_ns, S(0.7));
}

/* Crashes spread out over more than a minute do not trip the breaker. */
static void test_breaker_window(void)
{
    SupPolicy p = {0};
    now = S(1000);
    for (int i = 0; i < 20; i++)
        CHECK(die(&p, false, 20, 0, SIGSEGV, 10).verdict == SUP_RESTART);
}

int main(void)
{
    RUN(test_camera_ladder);
    RUN(test_camera_never_trips_breaker);
    RUN(test_source_end);
    RUN(test_config_error_stops);
    RUN(test_crash_backoff_and_breaker);
    RUN(test_start_floor);
    RUN(test_breaker_window);
    return 0;
}
