/*
 * A camera outage: from capture's first failed attempt to reach the camera
 * (exit 75) until video flows again. Dropouts are routine, so they are told
 * once, then at most once a minute while the camera stays down; every
 * attempt is still told at DEBUG. Pure: no clock, no I/O (times are passed
 * in), so tests/unit/outage.c checks every rule.
 *
 * Errors: none.
 */
#ifndef CAMWATCH_SUP_OUTAGE_H
#define CAMWATCH_SUP_OUTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ratelimit.h"

/* The "still unreachable" line is repeated at most this often. */
#define SUP_OUTAGE_LOG_INTERVAL_NS (60 * 1000000000LL)

typedef struct SupOutage {
    unsigned attempts;      /* failed attempts since video last flowed; 0: no outage */
    int64_t since_ns;       /* when the first of them failed (valid while attempts > 0) */
    CwRateLimit still_down; /* the "still unreachable" line */
} SupOutage;

/* How a failed attempt is told. */
enum SupOutageTell {
    SUP_OUTAGE_TELL_FIRST, /* WARNING: capture's death, "restarting in <delay>" */
    SUP_OUTAGE_TELL_STILL, /* WARNING: "camera still unreachable after N attempts (for S s)" */
    SUP_OUTAGE_TELL_QUIET, /* DEBUG: capture's death, "(attempt N)" */
};

/* No outage. */
void sup_outage_init(SupOutage *outage);

/* An attempt failed at `now_ns`: count it, and say how to tell it. */
enum SupOutageTell sup_outage_failed(SupOutage *outage, int64_t now_ns);

/*
 * Video flows at `now_ns`: the outage, if any, is over. Returns the number
 * of failed attempts it counted (0: there was no outage) and sets *down_ns
 * to how long it lasted.
 */
unsigned sup_outage_end(SupOutage *outage, int64_t now_ns, int64_t *down_ns);

/*
 * True from the second failed attempt on: capture's restarts are routine
 * then, and its starts are told at DEBUG only.
 */
bool sup_outage_routine(const SupOutage *outage);

#endif /* CAMWATCH_SUP_OUTAGE_H */
