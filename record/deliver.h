/*
 * Delivery of a finished clip: from the staging folder into
 * VIDEO_DIR/<YYYY-MM-DD>/ by rename(2) only, snapshot and sidecar first and
 * the .mp4 last, so that whoever sees the .mp4 finds everything beside it,
 * and nothing incomplete ever appears there. Then ON_CLIP_READY.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_RECORD_DELIVER_H
#define CAMWATCH_RECORD_DELIVER_H

#include "config.h"
#include "sidecar.h"
#include "snapshot.h"

#include <stddef.h>

/*
 * Deliver `staging_mp4` (closed and fsynced by the caller) as
 * VIDEO_DIR/<day>/<name>.mp4, or <name>-1.mp4, -2, ... if that name is
 * taken: a fast-start copy (faststart.h), or the file itself if the copy
 * cannot be made (logged); `staging_mp4` is gone once delivered, with <same>.jpg from `snap` (NULL
 * or without a frame: no snapshot) and <same>.json from `info`. Every file is fsynced before its
 * rename and the day folder after the last one. Runs cfg->on_clip_ready (not waited for; see
 * rec_hooks_reap()) and logs "clip saved". The sidecar is written before the snapshot, so that a
 * disk too full for the snapshot still gets it. Returns 0 once the .mp4 is in place (writing the
 * snapshot or the sidecar may have failed: that is logged, the video is delivered anyway), or a
 * negative errno with the .mp4 left in staging.
 */
int rec_deliver(const CwConfig *cfg, const char *staging_mp4, RecSnapshot *snap,
                const RecClipInfo *info);

/* Reap finished ON_CLIP_READY commands without blocking; logs failures. */
void rec_hooks_reap(void);

#endif /* CAMWATCH_RECORD_DELIVER_H */
