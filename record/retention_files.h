/*
 * camwatch's clips in VIDEO_DIR as retention sees them: found, measured and
 * deleted, and nothing else ever touched. A clip counts only when all of
 * this holds (whatever a user keeps beside them is never listed):
 *
 *  - it lies in a date folder VIDEO_DIR/<YYYY-MM-DD>/ (a real folder, not a
 *    link, not the staging folder);
 *  - its sidecar is a regular file named <camera>-<YYYYmmdd-HHMMSS>[-N].json
 *    with THIS camera's name and the folder's date, as delivery names it;
 *  - the sidecar parses as camwatch's: a JSON object whose "camera" is this
 *    camera, whose "video" is <same>.mp4, whose "snapshot" is <same>.jpg or
 *    null, and which has a "start".
 *
 * The clip is then its sidecar, <same>.mp4 and, if the sidecar names it,
 * <same>.jpg (each only if it is a regular file). The sidecar is deleted
 * last, so a clip half deleted (a crash, an error) is still recognised and
 * finished next time.
 *
 * Date folders are cached: one whose modification time has not changed is
 * not read again (a Raspberry Pi's card would otherwise read thousands of
 * sidecars a minute); every folder is read again once an hour regardless.
 */
#ifndef CAMWATCH_RECORD_RETENTION_FILES_H
#define CAMWATCH_RECORD_RETENTION_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "<YYYY-MM-DD>/<camera>-<YYYYmmdd-HHMMSS>-NNN" fits with room to spare. */
#define REC_STEM_MAX 128

/* One clip of this camera in VIDEO_DIR. */
typedef struct RecStoredClip {
    char stem[REC_STEM_MAX]; /* path without extension, relative to VIDEO_DIR */
    int64_t start_s;         /* the sidecar's "start", else the name's local time */
    unsigned seq;            /* the name's -N suffix, 0 without one */
    uint64_t bytes;          /* disk space of its files (allocated blocks, as du counts) */
    bool has_mp4, has_jpg;   /* which of its files exist beside the sidecar */
} RecStoredClip;

typedef struct RecClipStore RecClipStore;

/*
 * A store for `camera`'s clips in `video_dir`; `staging_dir` is never read.
 * Reads nothing yet. Returns 0 and sets *store (free it with
 * rec_store_free()), or -ENOMEM / -ENAMETOOLONG.
 */
int rec_store_open(RecClipStore **store, const char *video_dir, const char *staging_dir,
                   const char *camera);

/* Free the store and set *store to NULL; NULL is fine. */
void rec_store_free(RecClipStore **store);

/*
 * Bring the list up to date: read the date folders that are new or changed
 * since the last scan (all of them on the first scan and once an hour).
 * `tick(arg)` is called every few dozen files (heartbeats). Returns 0, or a
 * negative errno if VIDEO_DIR itself cannot be read (the list is then
 * empty). A date folder that cannot be read is left out with a warning.
 */
int rec_store_scan(RecClipStore *store, void (*tick)(void *arg), void *arg);

/* The clips found by the last scan, in no particular order; entries stay
 * valid until the next rec_store_scan() or rec_store_free(). */
size_t rec_store_count(const RecClipStore *store);
const RecStoredClip *rec_store_clip(const RecClipStore *store, size_t i);

/*
 * Delete clip `i`: its video, its snapshot, then its sidecar. The sidecar
 * is checked again first: if it no longer names the clip as camwatch's,
 * nothing is deleted and -ESTALE is returned. Returns 0 (files already gone
 * count as deleted), or a negative errno with the path that failed in
 * `failed` (the sidecar then stays, so the clip is tried again next time).
 */
int rec_store_delete(RecClipStore *store, size_t i, char *failed, size_t failed_size);

/*
 * Remove the date folders that rec_store_delete() emptied since the last
 * call (rmdir: only if empty; a folder holding anything else stays).
 * Returns how many were removed.
 */
int rec_store_remove_emptied_days(RecClipStore *store);

#endif /* CAMWATCH_RECORD_RETENTION_FILES_H */
