/*
 * A log line at most once per interval: the first report passes, the ones
 * that follow within the interval are counted, and the next report that
 * passes can say how many were held back ("...; 12 more since").
 *
 * Errors: none. cw_ratelimit_test()'s -1 means "too soon", not a failure
 * (common/ otherwise returns negative errno values).
 */
#ifndef CAMWATCH_RATELIMIT_H
#define CAMWATCH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct CwRateLimit {
    int64_t interval_ns; /* at most one report per this long (any clock, used consistently) */
    int64_t last_ns;     /* when the last report passed; meaningless until `started` */
    uint64_t held;       /* reports held back since the last that passed */
    bool started;
} CwRateLimit;

#define CW_RATELIMIT_INIT(interval_ns_)                                                            \
    {                                                                                              \
        .interval_ns = (interval_ns_)                                                              \
    }

/*
 * May a report be made at `now_ns`? Returns -1 when it comes too soon (it is
 * counted as held back), otherwise the number held back since the last one
 * that passed (0 for the first), and restarts the interval from `now_ns`.
 */
static inline int64_t cw_ratelimit_test(CwRateLimit *rl, int64_t now_ns)
{
    if (rl->started && now_ns - rl->last_ns < rl->interval_ns) {
        rl->held++;
        return -1;
    }
    int64_t held = (int64_t)rl->held;
    rl->started = true;
    rl->last_ns = now_ns;
    rl->held = 0;
    return held;
}

/* Forget the history: the next report passes (a condition ended and may start again). */
static inline void cw_ratelimit_reset(CwRateLimit *rl)
{
    rl->started = false;
    rl->held = 0;
}

#endif /* CAMWATCH_RATELIMIT_H */
