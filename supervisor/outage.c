#include "outage.h"

void sup_outage_init(SupOutage *outage)
{
    *outage = (SupOutage){.still_down = CW_RATELIMIT_INIT(SUP_OUTAGE_LOG_INTERVAL_NS)};
}

enum SupOutageTell sup_outage_failed(SupOutage *outage, int64_t now_ns)
{
    outage->attempts++;
    if (outage->attempts == 1) {
        /* A new outage is told at once, however recently the last one was:
         * the limiter counts from here. */
        outage->since_ns = now_ns;
        cw_ratelimit_reset(&outage->still_down);
        cw_ratelimit_test(&outage->still_down, now_ns);
        return SUP_OUTAGE_TELL_FIRST;
    }
    /* The held-back count is not needed: the line tells the attempts. */
    if (cw_ratelimit_test(&outage->still_down, now_ns) < 0)
        return SUP_OUTAGE_TELL_QUIET;
    return SUP_OUTAGE_TELL_STILL;
}

unsigned sup_outage_end(SupOutage *outage, int64_t now_ns, int64_t *down_ns)
{
    unsigned attempts = outage->attempts;
    *down_ns = attempts ? now_ns - outage->since_ns : 0;
    outage->attempts = 0;
    return attempts;
}

bool sup_outage_routine(const SupOutage *outage)
{
    return outage->attempts >= 2;
}
