/*
 * What record says about a full disk. A disk that another program filled
 * may stay full for hours while motion keeps coming, and every clip tried
 * fails the same way: that is said once, as an ERROR, then reminded at most
 * every REC_DISK_FULL_REMIND_NS (with the count of failures since), and one
 * INFO line says when a clip was saved again. Time is CLOCK_MONOTONIC ns,
 * passed in.
 *
 * Errors: none (the functions say what they logged, for the tests).
 */
#ifndef CAMWATCH_RECORD_DISKFULL_H
#define CAMWATCH_RECORD_DISKFULL_H

#include "ratelimit.h"

#include <stdbool.h>
#include <stdint.h>

/* A full disk that lasts is reminded of this often. */
#define REC_DISK_FULL_REMIND_NS (10 * 60 * 1000000000LL)

typedef struct RecDiskFull {
    bool full;             /* a failure was said and no clip was saved since */
    int64_t since_mono_ns; /* the first failure of this spell */
    uint64_t failures;     /* of this spell */
    CwRateLimit reminder;  /* of the reminders, on CLOCK_MONOTONIC */
} RecDiskFull;

/* What a call logged. */
enum RecDiskFullSaid {
    REC_DISK_FULL_QUIET,    /* nothing */
    REC_DISK_FULL_FIRST,    /* the ERROR: the disk is full */
    REC_DISK_FULL_REMINDER, /* the rate-limited reminder */
    REC_DISK_FULL_RESUMED,  /* the INFO: clips are saved again */
};

/* No failure yet. */
void rec_disk_full_init(RecDiskFull *d);

/* True for the errors of a full disk: AVERROR(ENOSPC) or AVERROR(EDQUOT)
 * (which are -ENOSPC and -EDQUOT: clip.h). */
bool rec_disk_full_error(int err);

/*
 * `what` (e.g. "write clip") of `path` failed with `err`, a full disk
 * (rec_disk_full_error()), at `now_mono_ns`. The first of a spell is an
 * ERROR naming the path; the next ones a WARNING at most every
 * REC_DISK_FULL_REMIND_NS. Returns what it logged.
 */
enum RecDiskFullSaid rec_disk_full_failed(RecDiskFull *d, const char *what, const char *path,
                                          int err, int64_t now_mono_ns);

/* A clip was saved at `now_mono_ns`: ends a spell (one INFO line), or nothing. */
enum RecDiskFullSaid rec_disk_full_saved(RecDiskFull *d, int64_t now_mono_ns);

#endif /* CAMWATCH_RECORD_DISKFULL_H */
