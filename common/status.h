/*
 * One camera's status as JSON (cJSON), from its rings' shared memory and
 * its clip folder alone: what `camwatch status --json` prints and
 * camwatch-http's /api/status serves, so both say the same. It works for
 * any process that may read the rings: under systemd, compose or by hand.
 *
 * Errors: negative errno values, as everywhere in common/.
 */
#ifndef CAMWATCH_STATUS_H
#define CAMWATCH_STATUS_H

#include <cjson/cJSON.h>

#include "config.h"
#include "rings.h"

/*
 * Open the camera's existing rings for reading their headers (none is
 * created, no reader entry is taken). Returns 0 with every ring of `rings`
 * set (the caller closes them: cw_status_close()), -ENOENT if the camera's
 * packets ring does not exist (camwatch is not running), or another
 * negative errno with a message in err. A missing frames or events ring is
 * left NULL.
 */
int cw_status_open(const CwConfig *cfg, CwRing *rings[CW_RING_KIND_COUNT], char *err,
                   size_t err_size);

/* Close what cw_status_open() opened; NULLs are skipped. */
void cw_status_close(CwRing *rings[CW_RING_KIND_COUNT]);

/*
 * The status document: the camera, the supervisor (null without one), the
 * camera's state, every stage (state, pid, uptime, restarts, last exit,
 * heartbeat age), input and analysed fps, each ring's readers with their
 * counters, clips today and the last clip, disk space of VIDEO_DIR. Any of
 * `rings` may be NULL (its figures are then null). Returns a new object the
 * caller owns (cJSON_Delete()), or NULL when out of memory.
 */
cJSON *cw_status_json(const CwConfig *cfg, CwRing *const rings[CW_RING_KIND_COUNT]);

/*
 * Add `key` to `obj`: `wall_ns` (CLOCK_REALTIME) as CW_TIME_ISO_LOCAL text,
 * or null for 0 (never). How every time in camwatch's JSON is written.
 */
void cw_status_add_time(cJSON *obj, const char *key, int64_t wall_ns);

#endif /* CAMWATCH_STATUS_H */
