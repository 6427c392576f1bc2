/*
 * The arrival stamps (both clocks) of the packets handed to the decoder,
 * found again by the wall stamp the decoder hands back with each picture
 * (decoder.h carries one 64-bit capture time through the decoder's
 * reordering), so that a frame gets the monotonic stamp of its own packet,
 * not one read later.
 *
 * Errors: none.
 */
#ifndef CAPTURE_ARRIVAL_H
#define CAPTURE_ARRIVAL_H

#include "clock.h"

#include <stdint.h>

/* Stamps remembered: more than the decoder's own map of 64 (decoder.c). */
#define CAPTURE_ARRIVALS 128

typedef struct CaptureArrivals {
    CwStamp stamps[CAPTURE_ARRIVALS];
    uint64_t next; /* free-running index of the next entry */
} CaptureArrivals;

/* Remember the arrival of a packet about to be decoded. */
void capture_arrivals_add(CaptureArrivals *a, CwStamp at);

/*
 * The stamp whose wall time is `wall_ns`, newest first. A stamp not found
 * (older than CAPTURE_ARRIVALS packets) is rebuilt from the clocks' offset
 * now: exact unless the wall clock stepped since that packet arrived.
 */
CwStamp capture_arrivals_find(const CaptureArrivals *a, int64_t wall_ns);

#endif /* CAPTURE_ARRIVAL_H */
