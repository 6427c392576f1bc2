/*
 * What record knows about one clip, its file names, and the JSON sidecar
 * written beside it (with cJSON). The sidecar's fields and their JSON types
 * are a contract: other programs read them.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_RECORD_SIDECAR_H
#define CAMWATCH_RECORD_SIDECAR_H

#include "config.h"
#include "payload.h"
#include "polygon.h"

#include <stddef.h>
#include <stdint.h>

/* Values of the sidecar's "cut_short" (NULL: the clip ended normally). */
#define REC_CUT_CAMERA_LOST "camera_lost"
#define REC_CUT_CRASH       "crash"
#define REC_CUT_MAX_LENGTH  "max_length"
#define REC_CUT_SHUTDOWN    "shutdown"
#define REC_CUT_DISK_FULL   "disk_full"
#define REC_CUT_WRITE_ERROR "write_error" /* a write failed for another reason (EIO) */

#define REC_NAME_MAX 96

typedef struct RecClipInfo {
    char camera[CW_CAMERA_MAX + 1];
    char name[REC_NAME_MAX];     /* "<camera>-<YYYYmmdd-HHMMSS>", local time of motion_start */
    char day[16];                /* "YYYY-MM-DD" of the same instant: the folder in VIDEO_DIR */
    int64_t start_ns;            /* CLOCK_REALTIME of the clip's first packet */
    int64_t end_ns;              /* start_ns + duration */
    int64_t motion_start_ns;     /* the first motion event of the clip */
    double duration_s;           /* media duration written */
    double peak_changed_percent; /* < 0: no motion event during the clip */
    int box_count;
    CwBox boxes[CW_MAX_BOXES]; /* of the peak event, in video coordinates */
    int width, height;         /* of the video */
    char codec[32];            /* "h264", ... */
    const char *cut_short;     /* NULL or one of REC_CUT_* (static strings) */
    /* The stream the snapshot's picture came from: REC_SNAPSHOT_MAIN or
     * REC_SNAPSHOT_SUB (DETECT_URL's pictures, when no main-stream keyframe
     * could stand in); NULL: not known yet. */
    const char *snapshot_source;
    int detect_width, detect_height; /* the picture the peak event's boxes were found in */
    /* MOTION_ZONES (not owned; NULL: not known, as for a recovered clip)
     * and the bits of those the clip's motion touched. */
    const CwPolygonSet *zone_set;
    uint32_t zones;
    /* How the video was made: REC_RECORD_COPY or REC_RECORD_ANNOTATED
     * (RECORD_MODE, or copy where annotating was not possible); NULL: not
     * known (a clip recovered after a crash). */
    const char *record_mode;
} RecClipInfo;

/* Values of the sidecar's "record_mode". */
#define REC_RECORD_COPY      "copy"
#define REC_RECORD_ANNOTATED "annotated"

/* Values of the sidecar's "snapshot_source". */
#define REC_SNAPSHOT_MAIN "main"
#define REC_SNAPSHOT_SUB  "sub"

/*
 * Fill info->camera, info->name and info->day from `camera` and the local
 * time of `wall_ns` (cw_time_format's CW_TIME_NAME and CW_TIME_DAY).
 * Returns 0 or -ENAMETOOLONG.
 */
int rec_clip_name(RecClipInfo *info, const char *camera, int64_t wall_ns);

/*
 * Write the sidecar to `path` (created, fsynced). `video` and `snapshot` are
 * the file names beside it (snapshot NULL: none). Returns 0 or -errno.
 */
int rec_sidecar_write(const char *path, const RecClipInfo *info, const char *video,
                      const char *snapshot);

/*
 * Render the sidecar JSON, ending in a newline, into buf. The object's fields,
 * in this order: "camera", "video", "snapshot" (strings; snapshot null when
 * there is none), "start", "end", "motion_start" (strings, CW_TIME_ISO_LOCAL),
 * "pre_capture_seconds", "duration_seconds" (numbers with 3 decimals, null if
 * not finite), "peak_changed_percent" (2 decimals, null when no motion event
 * came), "boxes" (an array of [x, y, w, h] integer arrays), "width", "height"
 * (integers), "codec" (string), "cut_short" (null or a REC_CUT_* string),
 * "snapshot_source" (null when there is no snapshot, else "main" or "sub":
 * with DETECT_URL the snapshot is the main stream's keyframe at or up to
 * 1 s before the peak, decoded once, "main"; the sub-stream's picture,
 * "sub", when the packets ring holds no such keyframe or it fails to
 * decode), "boxes_frame" ("main": the boxes are always
 * in the video's pixels, width x height, whatever picture detection saw),
 * "detect_width", "detect_height" (integers, the picture detection analysed;
 * null when no motion event came), "zones" (the names of the MOTION_ZONES
 * the clip's motion touched, in their order; null when not known),
 * "record_mode" ("copy": the camera's video as it came; "annotated":
 * re-encoded with the moving regions outlined; null when not known).
 * Returns its length, -ENOSPC if it does not fit in `size` bytes, or -ENOMEM.
 */
int rec_sidecar_format(char *buf, size_t size, const RecClipInfo *info, const char *video,
                       const char *snapshot);

#endif /* CAMWATCH_RECORD_SIDECAR_H */
