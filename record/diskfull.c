#include "diskfull.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <string.h>

void rec_disk_full_init(RecDiskFull *d)
{
    *d = (RecDiskFull){.reminder = CW_RATELIMIT_INIT(REC_DISK_FULL_REMIND_NS)};
}

bool rec_disk_full_error(int err)
{
    return err == -ENOSPC || err == -EDQUOT;
}

enum RecDiskFullSaid rec_disk_full_failed(RecDiskFull *d, const char *what, const char *path,
                                          int err, int64_t now_mono_ns)
{
    d->failures++;
    if (!d->full) {
        d->full = true;
        d->since_mono_ns = now_mono_ns;
        d->failures = 1;
        cw_ratelimit_reset(&d->reminder);
        (void)cw_ratelimit_test(&d->reminder, now_mono_ns); /* the reminders count from here */
        cw_error("cannot %s %s: %s; no clip is saved until there is space again (retention "
                 "deletes the oldest clips as MIN_FREE_PERCENT, RETAIN_MAX_GB and RETAIN_DAYS "
                 "allow; is another program filling the disk?)",
                 what, path, strerror(-err));
        return REC_DISK_FULL_FIRST;
    }
    if (cw_ratelimit_test(&d->reminder, now_mono_ns) < 0)
        return REC_DISK_FULL_QUIET;
    cw_warn("the disk is still full: %llu clips failed in %.0f min; the last: cannot %s %s: %s",
            (unsigned long long)d->failures,
            (double)(now_mono_ns - d->since_mono_ns) / (60.0 * CW_NS_PER_SEC), what, path,
            strerror(-err));
    return REC_DISK_FULL_REMINDER;
}

enum RecDiskFullSaid rec_disk_full_saved(RecDiskFull *d, int64_t now_mono_ns)
{
    if (!d->full)
        return REC_DISK_FULL_QUIET;
    cw_info("recording resumed: a clip was saved again after the disk was full for %.0f s (%llu "
            "clips failed)",
            (double)(now_mono_ns - d->since_mono_ns) / CW_NS_PER_SEC,
            (unsigned long long)d->failures);
    d->full = false;
    return REC_DISK_FULL_RESUMED;
}
