/*
 * The restart policy of one stage, as a pure function of its death history:
 * no libuv, no I/O, so every rule can be read (and checked) in one place.
 * The state table is in policy.c.
 *
 * Errors: none (every death has a decision).
 */
#ifndef CAMWATCH_SUP_POLICY_H
#define CAMWATCH_SUP_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* A stage that ran at least this long was healthy: its backoffs start over. */
#define SUP_STABLE_NS (30 * 1000000000LL)
/* s6's floor: at least this long between two starts of a stage that died young. */
#define SUP_START_FLOOR_NS (1 * 1000000000LL)
/* Crash backoff doubles from 1 s up to this. */
#define SUP_CRASH_BACKOFF_MAX_NS (30 * 1000000000LL)
/* Crash-loop breaker: this many abnormal deaths of one stage within the window. */
#define SUP_BREAKER_DEATHS    5
#define SUP_BREAKER_WINDOW_NS (60 * 1000000000LL)
/* Deaths remembered per stage (a ring): enough for the breaker and a report. */
#define SUP_HISTORY_LEN 8

/* One death of a stage. */
typedef struct SupDeath {
    int64_t mono_ns;     /* CLOCK_MONOTONIC when the supervisor saw it */
    int64_t uptime_ns;   /* how long that instance had run */
    int64_t exit_status; /* valid when term_signal == 0 */
    int term_signal;     /* 0 for a normal exit */
    bool abnormal;       /* counts toward the crash-loop breaker */
} SupDeath;

/* What the policy remembers about one stage between its deaths. */
typedef struct SupPolicy {
    SupDeath history[SUP_HISTORY_LEN];
    uint64_t deaths;             /* total; history[deaths % LEN] is the next slot */
    int64_t crash_backoff_ns;    /* delay of the next crash restart (0: at once) */
    unsigned unreachable_streak; /* consecutive capture exits with 75 */
    bool source_can_end;         /* capture reads a file: its exit 0 is the end */
} SupPolicy;

enum SupVerdict {
    SUP_RESTART,     /* start the stage again after delay_ns */
    SUP_STOP_CONFIG, /* a stage found a configuration error: stop all, exit 78 */
    SUP_STOP_ENDED,  /* a file source ended (capture exit 0): stop all, exit 0 */
    SUP_STOP_LOOP,   /* crash-loop breaker tripped: stop all, exit 70 */
};

enum SupCause {
    SUP_CAUSE_CONFIG,      /* exit 78 */
    SUP_CAUSE_ENDED,       /* capture exit 0 */
    SUP_CAUSE_UNREACHABLE, /* capture exit 75 */
    SUP_CAUSE_CRASH,       /* anything else: other codes, signals, hangs */
};

typedef struct SupDecision {
    enum SupVerdict verdict;
    enum SupCause cause;
    int64_t delay_ns;        /* SUP_RESTART only */
    unsigned attempt;        /* SUP_CAUSE_UNREACHABLE: 1 for the first failure */
    unsigned recent_crashes; /* abnormal deaths within the breaker window, this one included */
} SupDecision;

/*
 * Record a death of a stage and decide what happens next. `is_capture`
 * selects the camera rules (exit 0 and 75 mean something only for capture).
 * `started_ns` is when the dead instance was started, `now_ns` when it died
 * (both CLOCK_MONOTONIC); `retry_ns` is RETRY_SECONDS. Pure: the only state
 * it reads or changes is *policy.
 */
void sup_policy_on_death(SupPolicy *policy, bool is_capture, int64_t started_ns, int64_t now_ns,
                         int64_t exit_status, int term_signal, int64_t retry_ns,
                         SupDecision *decision);

/*
 * The death recorded `back` deaths ago (0 = the latest), or NULL if the
 * history holds fewer.
 */
const SupDeath *sup_policy_death(const SupPolicy *policy, unsigned back);

#endif /* CAMWATCH_SUP_POLICY_H */
