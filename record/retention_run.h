/*
 * Retention in camwatch-record: when it runs (at start, after every
 * clip, every minute, and at once when free space falls under the floor
 * while a clip is being written), what it deletes (retention.c decides,
 * retention_files.c finds and deletes), and what it logs (one line per
 * reason per run, and one warning when a limit cannot be met).
 */
#ifndef CAMWATCH_RECORD_RETENTION_RUN_H
#define CAMWATCH_RECORD_RETENTION_RUN_H

#include "config.h"

typedef struct RecRetention RecRetention;

/*
 * Set up retention for cfg's camera and VIDEO_DIR (both must exist), log
 * the limits, and run it once. `tick(arg)` is called while long scans and
 * deletions run (heartbeats). `cfg` must outlive the retention. With every
 * limit off nothing is ever read or deleted. Returns 0 and sets *ret (free
 * it with rec_retention_close()), or a negative errno (out of memory).
 */
int rec_retention_open(RecRetention **ret, const CwConfig *cfg, void (*tick)(void *arg), void *arg);

/* Free what rec_retention_open() made and set *ret to NULL; NULL is fine. */
void rec_retention_close(RecRetention **ret);

/* A clip just ended, delivered or cut short by a full disk: run now (no
 * clip is being written). */
void rec_retention_after_clip(RecRetention *ret);

/*
 * Call on every turn of the loop. `writing_path` is the file of the clip
 * being written (in staging), or NULL. Runs once a minute; while a clip is
 * being written it also looks at the free space every second and runs at
 * once when it is under the floor, so the floor is kept before writing
 * stops. Costs one clock read otherwise.
 */
void rec_retention_tick(RecRetention *ret, const char *writing_path);

#endif /* CAMWATCH_RECORD_RETENTION_RUN_H */
