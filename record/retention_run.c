#define _GNU_SOURCE
#include "retention_run.h"

#include "retention.h"
#include "retention_files.h"

#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define PERIOD_NS      (60 * CW_NS_PER_SEC)
#define FREE_CHECK_NS  (1 * CW_NS_PER_SEC)
#define WARN_EVERY_NS  (3600 * CW_NS_PER_SEC)
#define BYTES_PER_GB   1e9 /* RETAIN_MAX_GB counts as disks are sold */
#define TICK_DELETIONS 8

/* What one run deleted for one reason, for its log line. */
typedef struct Tally {
    unsigned clips;
    uint64_t bytes;
    int64_t oldest_s;
} Tally;

struct RecRetention {
    const CwConfig *cfg;
    RetLimits limits;
    void (*tick)(void *arg);
    void *tick_arg;
    RecClipStore *store;

    /* The decision's input and output, grown as the list grows. */
    RetClip *clips;
    size_t *order;
    enum RetReason *reason;
    size_t cap;

    int64_t next_run_mono;
    int64_t next_free_check_mono;
    /* The last run had a clip being written and still left the floor
     * unmet: nothing more can go until that clip is delivered. */
    bool floor_out_of_reach;

    CwRateLimit warn_free, warn_total, warn_delete, warn_scan;
};

static bool enabled(const RecRetention *r)
{
    return r->limits.max_age_s > 0 || r->limits.max_bytes > 0 || r->limits.min_free_percent > 0;
}

/* 1.4 GB, 820 MB, 12 kB: decimal units, as RETAIN_MAX_GB is. */
static const char *human_bytes(uint64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

/* VIDEO_DIR's file system: its size and the space we may still write. */
static int measure_disk(const RecRetention *r, RetDisk *disk)
{
    struct statvfs vfs;
    *disk = (RetDisk){0};
    if (statvfs(r->cfg->video_dir, &vfs) < 0)
        return -errno;
    disk->size_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    disk->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return 0;
}

static int reserve(RecRetention *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    size_t want = r->cap ? r->cap : 256;
    while (want < n)
        want *= 2;
    RetClip *clips = realloc(r->clips, want * sizeof(*clips));
    if (clips)
        r->clips = clips;
    size_t *order = realloc(r->order, want * sizeof(*order));
    if (order)
        r->order = order;
    enum RetReason *reason = realloc(r->reason, want * sizeof(*reason));
    if (reason)
        r->reason = reason;
    if (!clips || !order || !reason)
        return -ENOMEM;
    r->cap = want;
    return 0;
}

static void log_tally(const RecRetention *r, enum RetReason why, const Tally *t)
{
    char size[32], day[16], limit[64];
    if (!t->clips)
        return;
    switch (why) {
    case RET_AGE:
        snprintf(limit, sizeof(limit), "older than %d day%s", r->cfg->retain_days,
                 r->cfg->retain_days == 1 ? "" : "s");
        break;
    case RET_TOTAL_SIZE:
        snprintf(limit, sizeof(limit), "to keep the clips under %g GB", r->cfg->retain_max_gb);
        break;
    default:
        snprintf(limit, sizeof(limit), "to keep %g%% free", r->cfg->min_free_percent);
        break;
    }
    cw_info("retention: deleted %u clip%s (%s), oldest %s, %s", t->clips, t->clips == 1 ? "" : "s",
            human_bytes(t->bytes, size, sizeof(size)),
            cw_time_format(t->oldest_s * CW_NS_PER_SEC, CW_TIME_DAY, day, sizeof(day)), limit);
}

/* A limit no deletion can meet: say so once an hour while it lasts. */
static void report_unmet(RecRetention *r, const RetPlan *plan, const RetDisk *disk, bool writing)
{
    char have[32], want[32];
    int64_t now = cw_mono_ns();

    if (!plan->free_unmet) {
        cw_ratelimit_reset(&r->warn_free);
    } else if (cw_ratelimit_test(&r->warn_free, now) >= 0) {
        cw_warn("retention: VIDEO_DIR's file system has %s free, under MIN_FREE_PERCENT=%g (%s), "
                "and no more clips of camera %s may be deleted%s",
                human_bytes(plan->free_bytes, have, sizeof(have)), r->cfg->min_free_percent,
                human_bytes(ret_floor_bytes(disk->size_bytes, r->limits.min_free_percent), want,
                            sizeof(want)),
                r->cfg->camera,
                writing ? " (other files fill it)" : " (the newest is kept until the next clip)");
    }
    if (!plan->total_unmet) {
        cw_ratelimit_reset(&r->warn_total);
    } else if (cw_ratelimit_test(&r->warn_total, now) >= 0) {
        cw_warn("retention: the clips of camera %s take %s, over RETAIN_MAX_GB=%g, and %s",
                r->cfg->camera, human_bytes(plan->total_bytes, have, sizeof(have)),
                r->cfg->retain_max_gb,
                writing ? "the clip being written is never deleted"
                        : "the newest clip is kept until the next one");
    }
}

/*
 * One run: list the clips, decide, delete, log. `writing_path` is the clip
 * being written (never deleted; its size counts toward the total) or NULL.
 */
static void run_once(RecRetention *r, const char *writing_path)
{
    RetDisk disk;
    RetPlan plan;
    Tally tally[RET_FREE_SPACE + 1] = {{0}};
    unsigned failed = 0;
    int ret;

    r->next_run_mono = cw_mono_ns() + PERIOD_NS;
    ret = rec_store_scan(r->store, r->tick, r->tick_arg);
    if (ret < 0) {
        int64_t held = cw_ratelimit_test(&r->warn_scan, cw_mono_ns());
        if (held >= 0)
            cw_warn("retention: cannot read VIDEO_DIR=\"%s\": %s; nothing is deleted",
                    r->cfg->video_dir, strerror(-ret));
        return;
    }
    cw_ratelimit_reset(&r->warn_scan);
    ret = measure_disk(r, &disk);
    if (ret < 0)
        cw_debug("retention: cannot measure VIDEO_DIR's file system: %s", strerror(-ret));

    size_t n = rec_store_count(r->store);
    if (reserve(r, n + 1) < 0) {
        cw_error("retention: out of memory for a list of %zu clips", n + 1);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const RecStoredClip *c = rec_store_clip(r->store, i);
        r->clips[i] =
            (RetClip){.stem = c->stem, .start_s = c->start_s, .seq = c->seq, .bytes = c->bytes};
    }
    struct stat st;
    bool writing = writing_path && stat(writing_path, &st) == 0;
    if (writing)
        r->clips[n++] = (RetClip){.stem = writing_path,
                                  .start_s = cw_wall_ns() / CW_NS_PER_SEC,
                                  .bytes = (uint64_t)st.st_blocks * 512,
                                  .writing = true};

    ret_plan(r->clips, n, cw_wall_ns() / CW_NS_PER_SEC, &disk, &r->limits, r->order, r->reason,
             &plan);

    for (size_t k = 0; k < plan.count; k++) {
        size_t i = r->order[k];
        char path[4096];
        if (r->clips[i].writing)
            continue; /* never: ret_plan() does not choose it */
        if (k % TICK_DELETIONS == 0 && r->tick)
            r->tick(r->tick_arg);
        ret = rec_store_delete(r->store, i, path, sizeof(path));
        if (ret == -ESTALE) {
            cw_debug("retention: %s changed since it was listed; left alone", path);
            continue;
        }
        if (ret < 0) {
            failed++;
            int64_t held = cw_ratelimit_test(&r->warn_delete, cw_mono_ns());
            if (held > 0)
                cw_warn("retention: cannot delete %s: %s (and %lld more since the last report)",
                        path, strerror(-ret), (long long)held);
            else if (held == 0)
                cw_warn("retention: cannot delete %s: %s; it is tried again at the next run", path,
                        strerror(-ret));
            continue;
        }
        Tally *t = &tally[r->reason[i]];
        if (!t->clips || r->clips[i].start_s < t->oldest_s)
            t->oldest_s = r->clips[i].start_s;
        t->clips++;
        t->bytes += r->clips[i].bytes;
    }
    rec_store_remove_emptied_days(r->store);
    log_tally(r, RET_AGE, &tally[RET_AGE]);
    log_tally(r, RET_TOTAL_SIZE, &tally[RET_TOTAL_SIZE]);
    log_tally(r, RET_FREE_SPACE, &tally[RET_FREE_SPACE]);
    if (!failed)
        report_unmet(r, &plan, &disk, writing);
    r->floor_out_of_reach = writing && plan.free_unmet;
}

int rec_retention_open(RecRetention **ret, const CwConfig *cfg, void (*tick)(void *arg), void *arg)
{
    char limits[256] = "";
    size_t len = 0;
    int err;

    *ret = NULL;
    RecRetention *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->cfg = cfg;
    r->tick = tick;
    r->tick_arg = arg;
    r->limits = (RetLimits){
        .max_age_s = (int64_t)cfg->retain_days * 24 * 3600,
        .max_bytes = (uint64_t)llround(cfg->retain_max_gb * BYTES_PER_GB),
        .min_free_percent = cfg->min_free_percent,
    };
    r->warn_free = r->warn_total = r->warn_delete = r->warn_scan =
        (CwRateLimit)CW_RATELIMIT_INIT(WARN_EVERY_NS);
    err = rec_store_open(&r->store, cfg->video_dir, cfg->staging_dir, cfg->camera);
    if (err < 0) {
        free(r);
        return err;
    }
    *ret = r;

    if (!enabled(r)) {
        cw_info("retention: off (RETAIN_DAYS, RETAIN_MAX_GB and MIN_FREE_PERCENT are 0): no clip "
                "is ever deleted");
        return 0;
    }
    if (cfg->retain_days > 0)
        len += (size_t)snprintf(limits + len, sizeof(limits) - len, ", older than %d day%s",
                                cfg->retain_days, cfg->retain_days == 1 ? "" : "s");
    if (cfg->retain_max_gb > 0)
        len += (size_t)snprintf(limits + len, sizeof(limits) - len, ", over %g GB in total",
                                cfg->retain_max_gb);
    if (cfg->min_free_percent > 0)
        len += (size_t)snprintf(limits + len, sizeof(limits) - len, ", to keep %g%% free",
                                cfg->min_free_percent);
    cw_info("retention: clips of camera %s in %s are deleted, oldest first:%s", cfg->camera,
            cfg->video_dir, limits + 1);
    run_once(r, NULL);
    return 0;
}

void rec_retention_close(RecRetention **ret)
{
    RecRetention *r = *ret;
    if (!r)
        return;
    rec_store_free(&r->store);
    free(r->clips);
    free(r->order);
    free(r->reason);
    free(r);
    *ret = NULL;
}

void rec_retention_after_clip(RecRetention *r)
{
    if (r && enabled(r))
        run_once(r, NULL);
}

void rec_retention_tick(RecRetention *r, const char *writing_path)
{
    if (!r || !enabled(r))
        return;
    int64_t now = cw_mono_ns();
    if (now >= r->next_run_mono) {
        run_once(r, writing_path);
        return;
    }
    if (!writing_path || r->limits.min_free_percent <= 0 || r->floor_out_of_reach ||
        now < r->next_free_check_mono)
        return;
    r->next_free_check_mono = now + FREE_CHECK_NS;
    RetDisk disk;
    if (measure_disk(r, &disk) == 0 &&
        disk.free_bytes < ret_floor_bytes(disk.size_bytes, r->limits.min_free_percent))
        run_once(r, writing_path);
}
