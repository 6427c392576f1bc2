/*
 * Retention: which of camwatch's clips to delete so that the age, total-size
 * and free-space limits hold. A pure decision over a list (no file system,
 * no clock, no allocation), so every rule can be read in one place and
 * tested alone; the rule table is in retention.c. Finding the clips on disk
 * and deleting them is retention_files.c; when it runs, retention_run.c.
 */
#ifndef CAMWATCH_RECORD_RETENTION_H
#define CAMWATCH_RECORD_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One clip of this camera: its video, snapshot and sidecar together. */
typedef struct RetClip {
    const char *stem; /* names the clip, e.g. "2026-10-01/front-20261001-101500-1" (caller owns) */
    int64_t start_s;  /* wall-clock start, seconds since 1970 */
    unsigned seq;     /* the name's -N suffix (0: none): orders clips of the same second */
    uint64_t bytes;   /* disk space of the clip, its snapshot and its sidecar */
    bool writing;     /* the clip being written: counted in the total, never deleted */
} RetClip;

/* The limits; 0 turns one off. */
typedef struct RetLimits {
    int64_t max_age_s;       /* RETAIN_DAYS in seconds */
    uint64_t max_bytes;      /* RETAIN_MAX_GB in bytes */
    double min_free_percent; /* MIN_FREE_PERCENT */
} RetLimits;

/* The file system the clips are on; size_bytes == 0: unknown (no free-space rule). */
typedef struct RetDisk {
    uint64_t size_bytes; /* its size */
    uint64_t free_bytes; /* space a writer may still use */
} RetDisk;

/* Why a clip goes; the first rule that wants it gone names it. */
enum RetReason {
    RET_KEEP = 0,
    RET_AGE,        /* older than max_age_s */
    RET_TOTAL_SIZE, /* the clips together exceed max_bytes */
    RET_FREE_SPACE, /* the file system has less than min_free_percent free */
};

typedef struct RetPlan {
    size_t count;           /* clips to delete: the first `count` entries of order[] */
    uint64_t freed_bytes;   /* their bytes together */
    uint64_t total_bytes;   /* of all clips once they are gone (the one being written included) */
    uint64_t free_bytes;    /* expected free space once they are gone (0 if the disk is unknown) */
    bool total_unmet;       /* still over max_bytes: nothing more may be deleted */
    bool free_unmet;        /* still under the floor: nothing more may be deleted */
    int64_t oldest_start_s; /* start of the oldest clip deleted (count > 0) */
} RetPlan;

/*
 * Decide which of the `n` clips to delete, oldest first, until every limit
 * holds or no clip may go. `now_s` is the wall clock. Writes the indices of
 * the clips to delete, oldest first, into order[0 .. plan->count) (order has
 * room for n; the entries after count are scratch), and each clip's reason
 * into reason[i] (RET_KEEP for a clip that stays). Pure: reads only its
 * arguments, writes only order, reason and *plan.
 */
void ret_plan(const RetClip *clips, size_t n, int64_t now_s, const RetDisk *disk,
              const RetLimits *limits, size_t *order, enum RetReason *reason, RetPlan *plan);

/* The free-space floor in bytes of a file system of `size_bytes` (0 when off or unknown). */
uint64_t ret_floor_bytes(uint64_t size_bytes, double min_free_percent);

/* "age", "total size" or "free space" (for logs). */
const char *ret_reason_name(enum RetReason reason);

#endif /* CAMWATCH_RECORD_RETENTION_H */
