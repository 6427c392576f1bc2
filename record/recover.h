/*
 * Start-up recovery: a crash leaves the clip it was writing in staging as
 * <name>.mp4.part, a fragmented MP4 playable up to its last complete
 * fragment. Each one is remuxed (no re-encoding) into a clean file and
 * delivered like any clip, its sidecar saying "cut_short": "crash".
 *
 * Errors: none are returned; each is logged where it happens, with what was
 * lost and what happens next.
 */
#ifndef CAMWATCH_RECORD_RECOVER_H
#define CAMWATCH_RECORD_RECOVER_H

#include "config.h"

/*
 * Recover every *.mp4.part in cfg->staging_dir, oldest name first. A file
 * that cannot be read at all is moved into staging/failed/ (as
 * <name>-1.mp4.part … if the name is taken there) with a WARNING: footage is
 * never deleted. A .part is removed only after its remuxed copy was
 * delivered. One that cannot be recovered now for want of memory or disk
 * space stays in staging, said in an ERROR, for the next start. Leftovers
 * that are derived data (snapshot and sidecar drafts, unfinished remuxes)
 * are removed. `tick(arg)` is called at least every second or so
 * (heartbeats). Returns the number of clips delivered.
 */
int rec_recover_all(const CwConfig *cfg, void (*tick)(void *arg), void *arg);

#endif /* CAMWATCH_RECORD_RECOVER_H */
