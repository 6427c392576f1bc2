/*
 * The clip folder over HTTP: the list of delivered clips from their JSON
 * sidecars, and the files themselves (clip, snapshot, sidecar), with byte
 * ranges, never anything outside VIDEO_DIR's date folders.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_HTTP_CLIPS_H
#define CAMWATCH_HTTP_CLIPS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Most clips /api/clips lists at once, and how many without ?limit=. */
#define HTTP_CLIPS_LIMIT_MAX     1000
#define HTTP_CLIPS_LIMIT_DEFAULT 100

/* True if `date` is "YYYY-MM-DD" (digits where digits belong). */
bool http_clips_date_ok(const char *date);

/*
 * Delivered clips, newest first: each one's sidecar as record wrote it,
 * plus "video_url", "snapshot_url" (null without a snapshot) and
 * "sidecar_url" under /clips/. Only the date folder `date` when it is not
 * NULL (it must pass http_clips_date_ok()); at most `limit` clips. A
 * sidecar that does not parse is skipped. Returns a new array the caller
 * owns (cJSON_Delete()), or NULL when out of memory.
 */
cJSON *http_clips_list(const char *video_dir, const char *date, int limit);

/*
 * Open the file /clips/`rel` names: `rel` (already percent-decoded) must be
 * "YYYY-MM-DD/NAME.mp4|.jpg|.json" with NAME of letters, digits, '-', '_'
 * and '.' not first, and neither the date folder nor the file may be a
 * symbolic link (O_NOFOLLOW), so nothing outside VIDEO_DIR is ever
 * reached. Returns an open descriptor (the caller's) with *size and
 * *content_type set, -EACCES for a name refused, -ENOENT, or the negative
 * errno of the open.
 */
int http_clips_open(const char *video_dir, const char *rel, uint64_t *size,
                    const char **content_type);

/*
 * Read a Range header ("bytes=A-B", "bytes=A-", "bytes=-N") against a file
 * of `size` bytes. Returns 1 with *start and *len the range to send (206),
 * 0 to send the whole file (no header, a unit other than bytes, or several
 * ranges: all allowed by RFC 9110), or -ERANGE when the range lies beyond
 * the file (416).
 */
int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *len);

#endif /* CAMWATCH_HTTP_CLIPS_H */
