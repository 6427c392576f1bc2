/*
 * What capture tells the others about its stream (CwStreamStatus in the
 * ring's user area, rings.h): connections, packets, bytes, losses, pictures,
 * rates over the last second, the transport and the last error. Counters
 * run on across capture processes: a new capture starts from what the
 * previous one left.
 *
 * Errors: none (a status that cannot be read starts from zero).
 */
#ifndef CAMWATCH_CAPTURE_STREAMSTATUS_H
#define CAMWATCH_CAPTURE_STREAMSTATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "rings.h"

/* Running totals of one capture process, from its start. */
typedef struct CaptureTotals {
    uint64_t packets, video_packets, bytes, pictures, published, lost, withheld;
} CaptureTotals;

typedef struct CaptureStatus {
    CwRing *ring;        /* not owned; NULL: reports nothing */
    CwStreamStatus base; /* as the previous capture left it */
    CwStreamStatus cur;  /* as last published */
    CaptureTotals last;  /* totals at the last publication */
    int64_t last_ns;     /* CLOCK_MONOTONIC of the last publication */
} CaptureStatus;

/* Start from what `ring`'s CW_STREAM_MAIN entry holds; not connected. */
void capture_status_open(CaptureStatus *st, CwRing *ring);

/* A connection began (`transport`: "TCP", "UDP", ..., NULL: none). */
void capture_status_connected(CaptureStatus *st, const char *transport, int64_t now_ns);

/*
 * Publish the totals `t` (this process's, from its start) if a second has
 * passed since the last time, or at once with `force`. `now_ns` is
 * CLOCK_MONOTONIC. Cheap when it does nothing: call it often.
 */
void capture_status_tick(CaptureStatus *st, const CaptureTotals *t, int64_t now_ns, bool force);

/* The connection ended (or never came): the last totals, not connected,
 * and the last error this process logged. */
void capture_status_closed(CaptureStatus *st, const CaptureTotals *t, int64_t now_ns);

#endif /* CAMWATCH_CAPTURE_STREAMSTATUS_H */
