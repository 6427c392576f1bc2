/*
 * Restart policy, one stage at a time: a stage that dies is judged alone and
 * the others keep running (a camera dropout restarts capture while record
 * finishes its clip).
 *
 *  stage    death (while running)        verdict                                  breaker
 *  -------  ---------------------------  ---------------------------------------  -------
 *  any      exit 78                      configuration error: stop all, exit 78   -
 *  capture  exit 0, RTSP_URL a file       source ended: stop all, exit 0           -
 *  capture  exit 75, or exit 0 from a    camera unreachable or lost: restart      never
 *           camera (stopped from outside)
 *                                        after 1 s, 2 s, 5 s, then RETRY_SECONDS
 *                                        (each capped at RETRY_SECONDS); the
 *                                        ladder starts over once capture has run
 *                                        for 30 s
 *  any      any other exit (detect or    crash: restart after the backoff: at     counts
 *           record exit 0/75 included),  once the first time, then 1 s, 2 s,
 *           a signal, a hang (we         4 s ... 30 s; 30 s of uptime resets it.
 *           SIGKILL it), a failed spawn  Never sooner than 1 s after the
 *                                        previous start (s6's floor)
 *  any      5th counted death within     crash loop: stop all, exit 70            trips
 *           60 s
 *
 * Deaths during an ordered stop never reach this table: stage.c handles them.
 *
 * Why the camera is special: a camera that is off for the night is expected,
 * not a fault. Its exits must never trip the breaker (that would turn a
 * power cut into a dead service), and they retry on the user's schedule.
 */
#include "policy.h"

#include <stddef.h>

#include "exitcode.h"

/* Faster first tries: most dropouts are a camera rebooting or Wi-Fi blinking. */
static const int64_t unreachable_ladder_ns[] = {
    1 * 1000000000LL,
    2 * 1000000000LL,
    5 * 1000000000LL,
};
#define LADDER_LEN (sizeof(unreachable_ladder_ns) / sizeof(unreachable_ladder_ns[0]))

static void record_death(SupPolicy *policy, const SupDeath *death)
{
    policy->history[policy->deaths % SUP_HISTORY_LEN] = *death;
    policy->deaths++;
}

const SupDeath *sup_policy_death(const SupPolicy *policy, unsigned back)
{
    if (back >= policy->deaths || back >= SUP_HISTORY_LEN)
        return NULL;
    return &policy->history[(policy->deaths - 1 - back) % SUP_HISTORY_LEN];
}

static unsigned abnormal_deaths_since(const SupPolicy *policy, int64_t since_ns)
{
    unsigned count = 0;
    for (unsigned back = 0;; back++) {
        const SupDeath *d = sup_policy_death(policy, back);
        if (!d || d->mono_ns < since_ns)
            break;
        if (d->abnormal)
            count++;
    }
    return count;
}

void sup_policy_on_death(SupPolicy *policy, bool is_capture, int64_t started_ns, int64_t now_ns,
                         int64_t exit_status, int term_signal, int64_t retry_ns,
                         SupDecision *decision)
{
    int64_t uptime_ns = now_ns - started_ns;
    SupDeath death = {
        .mono_ns = now_ns,
        .uptime_ns = uptime_ns,
        .exit_status = exit_status,
        .term_signal = term_signal,
        .abnormal = false,
    };

    *decision = (SupDecision){.verdict = SUP_RESTART, .cause = SUP_CAUSE_CRASH};

    if (uptime_ns >= SUP_STABLE_NS) {
        /* A healthy run ends every streak: the next trouble starts fresh. */
        policy->crash_backoff_ns = 0;
        policy->unreachable_streak = 0;
    }

    if (term_signal == 0 && exit_status == CW_EXIT_CONFIG) {
        record_death(policy, &death);
        decision->verdict = SUP_STOP_CONFIG;
        decision->cause = SUP_CAUSE_CONFIG;
        return;
    }
    if (is_capture && term_signal == 0 && exit_status == CW_EXIT_OK && policy->source_can_end) {
        record_death(policy, &death);
        decision->verdict = SUP_STOP_ENDED;
        decision->cause = SUP_CAUSE_ENDED;
        return;
    }
    /* A camera never ends: a capture that stopped cleanly was stopped from
     * outside (a person, an OOM-averse script) and the camera still needs
     * watching, so it goes the way of a lost camera. */
    if (is_capture && term_signal == 0 &&
        (exit_status == CW_EXIT_TEMPFAIL || exit_status == CW_EXIT_OK)) {
        record_death(policy, &death);
        unsigned attempt = ++policy->unreachable_streak;
        int64_t delay_ns = attempt <= LADDER_LEN ? unreachable_ladder_ns[attempt - 1] : retry_ns;
        decision->cause = SUP_CAUSE_UNREACHABLE;
        decision->attempt = attempt;
        decision->delay_ns = delay_ns < retry_ns ? delay_ns : retry_ns;
        return;
    }

    /* Everything else is a crash. */
    death.abnormal = true;
    record_death(policy, &death);
    decision->recent_crashes = abnormal_deaths_since(policy, now_ns - SUP_BREAKER_WINDOW_NS);
    if (decision->recent_crashes >= SUP_BREAKER_DEATHS) {
        decision->verdict = SUP_STOP_LOOP;
        return;
    }
    int64_t delay_ns = policy->crash_backoff_ns;
    /* s6's floor, so that a stage dying at once cannot spin the CPU. */
    int64_t floor_ns = started_ns + SUP_START_FLOOR_NS - now_ns;
    if (delay_ns < floor_ns)
        delay_ns = floor_ns;
    decision->delay_ns = delay_ns;
    if (policy->crash_backoff_ns == 0)
        policy->crash_backoff_ns = 1000000000LL;
    else if (policy->crash_backoff_ns * 2 <= SUP_CRASH_BACKOFF_MAX_NS)
        policy->crash_backoff_ns *= 2;
    else
        policy->crash_backoff_ns = SUP_CRASH_BACKOFF_MAX_NS;
}
