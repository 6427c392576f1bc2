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

/* "/camwatch.<camera>.<kind>" into buf. */
void cw_rings_name(const CwConfig *cfg, enum CwRingKind kind, char *buf, size_t size);

/* Geometry of a ring for this configuration. */
void cw_rings_geometry(const CwConfig *cfg, enum CwRingKind kind, CwRingGeometry *geo);

/*
 * Open (creating if needed) the ring of `kind`; on failure logs why and
 * returns a negative errno. Waits up to 5 s for a creator in progress.
 */
int cw_rings_open(const CwConfig *cfg, enum CwRingKind kind, CwRing **ring);

/*
 * Exit code for a stage whose rings could not be opened or attached
 * (`err` as cw_rings_open()/cw_ring_attach() returned it): 78 when a person
 * must act (a ring of another geometry or version, or one its creator never
 * finished, or no permission), 75 for what may pass (memory, /dev/shm
 * space, all reader entries taken while a previous instance goes away).
 */
int cw_rings_exit_code(int err);

#endif /* CAMWATCH_RINGS_H */
