/*
 * Clocks: monotonic for deadlines and intervals, realtime for names.
 *
 * Errors: none of these fails (clock_gettime() on these clocks cannot, on
 * Linux); common/ otherwise returns negative errno values.
 */
#ifndef CAMWATCH_CLOCK_H
#define CAMWATCH_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CW_NS_PER_SEC  1000000000LL
#define CW_NS_PER_MSEC 1000000LL

static inline int64_t cw_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * CW_NS_PER_SEC + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in ns: deadlines, timeouts, heartbeats. */
static inline int64_t cw_mono_ns(void)
{
    return cw_clock_ns(CLOCK_MONOTONIC);
}

/* CLOCK_REALTIME in ns: stamps that end up in file names and sidecars. */
static inline int64_t cw_wall_ns(void)
{
    return cw_clock_ns(CLOCK_REALTIME);
}

/*
 * When something happened, on both clocks: wall time for what a user reads
 * (names, sidecars, messages), monotonic time for every deadline and
 * duration, so that a step of the wall clock (NTP, a user setting the date)
 * neither ends nor stretches anything. CLOCK_MONOTONIC is system-wide: stamps
 * compare across the stages' processes and containers on one kernel.
 */
typedef struct CwStamp {
    int64_t wall_ns; /* CLOCK_REALTIME */
    int64_t mono_ns; /* CLOCK_MONOTONIC */
} CwStamp;

/* Now, on both clocks (read one right after the other). */
static inline CwStamp cw_stamp_now(void)
{
    CwStamp s;
    s.mono_ns = cw_mono_ns();
    s.wall_ns = cw_wall_ns();
    return s;
}

static inline struct timespec cw_ns_to_timespec(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / CW_NS_PER_SEC, .tv_nsec = ns % CW_NS_PER_SEC};
    return ts;
}

#endif /* CAMWATCH_CLOCK_H */
