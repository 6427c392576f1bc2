/*
 * The three rings of one camera: their names and their sizes, derived from
 * the configuration, so that every stage (and the supervisor) opens the same
 * geometry.
 */
#ifndef CAMWATCH_RINGS_H
#define CAMWATCH_RINGS_H

#include "config.h"
#include "ring.h"

enum CwRingKind { CW_RING_PACKETS, CW_RING_FRAMES, CW_RING_EVENTS, CW_RING_KIND_COUNT };

/* "packets", "frames", "events". */
const char *cw_ring_kind_name(enum CwRingKind kind);

/* "/camwatch.<camera>.<kind>" into buf. */
void cw_rings_name(const CwConfig *cfg, enum CwRingKind kind, char *buf, size_t size);

/* Geometry of a ring for this configuration. */
void cw_rings_geometry(const CwConfig *cfg, enum CwRingKind kind, CwRingGeometry *geo);

/*
 * Open (creating if needed) the ring of `kind`; on failure logs why and
 * returns a negative errno. Waits up to 5 s for a creator in progress.
 */
int cw_rings_open(const CwConfig *cfg, enum CwRingKind kind, CwRing **ring);

#endif /* CAMWATCH_RINGS_H */
