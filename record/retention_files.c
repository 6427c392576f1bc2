#define _GNU_SOURCE
#include "retention_files.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "ratelimit.h"
#include "timefmt.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A camwatch sidecar is about a kilobyte; anything this big is not one. */
#define SIDECAR_MAX_BYTES (64 * 1024)
/* A folder changed less than this before it was read may change again
 * without its modification time moving (FAT keeps it to 2 s): read again. */
#define RACY_NS        (3 * CW_NS_PER_SEC)
#define FULL_RESCAN_NS (3600 * CW_NS_PER_SEC)
#define TICK_FILES     32
#define DAY_LEN        10 /* "YYYY-MM-DD" */

typedef struct DayFolder {
    char day[DAY_LEN + 1];
    dev_t dev;
    ino_t ino;
    struct timespec mtime; /* as seen just before the folder was read */
    bool trusted;          /* unchanged mtime means unchanged contents */
    size_t first, count;   /* its clips in the store's array */
} DayFolder;

struct RecClipStore {
    char video_dir[PATH_MAX];
    char camera[CW_CAMERA_MAX + 1];
    dev_t staging_dev;
    ino_t staging_ino;
    bool have_staging;

    RecStoredClip *clips;
    size_t n_clips;
    DayFolder *days;
    size_t n_days;
    int64_t full_rescan_mono; /* every folder is read again at this time */
    bool scanned;
    /* An unreadable date folder is read again on every scan (every minute):
     * say so once an hour, not every time. */
    CwRateLimit warn_unreadable;

    char (*emptied)[DAY_LEN + 1]; /* date folders deleted from since the last removal */
    size_t n_emptied;
};

/* A growable array; returns the new element (zeroed) or NULL. */
static void *push(void **array, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t want = *cap ? *cap * 2 : 64;
        void *grown = realloc(*array, want * elem);
        if (!grown)
            return NULL;
        *array = grown;
        *cap = want;
    }
    void *e = (char *)*array + (*n)++ * elem;
    memset(e, 0, elem);
    return e;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int number(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD", as delivery names date folders. */
static bool is_day_name(const char *name)
{
    if (strlen(name) != DAY_LEN || name[4] != '-' || name[7] != '-' || !digits(name, 4) ||
        !digits(name + 5, 2) || !digits(name + 8, 2))
        return false;
    int month = number(name + 5, 2), mday = number(name + 8, 2);
    return month >= 1 && month <= 12 && mday >= 1 && mday <= 31;
}

/*
 * `name` is "<camera>-<YYYYmmdd-HHMMSS>[-N].json" for this camera, with the
 * date of folder `day`, and N what the free-name search appends (1 to 999,
 * no leading zero). Sets base (the name without ".json"), *seq and *tm.
 */
static bool parse_sidecar_name(const char *name, const char *camera, const char *day, char *base,
                               size_t base_size, unsigned *seq, struct tm *tm)
{
    size_t cl = strlen(camera);
    if (strncmp(name, camera, cl) != 0 || name[cl] != '-')
        return false;
    const char *p = name + cl + 1;
    if (!digits(p, 8) || p[8] != '-' || !digits(p + 9, 6))
        return false;
    if (memcmp(p, day, 4) != 0 || memcmp(p + 4, day + 5, 2) != 0 || memcmp(p + 6, day + 8, 2) != 0)
        return false;
    int hour = number(p + 9, 2), min = number(p + 11, 2), sec = number(p + 13, 2);
    if (hour > 23 || min > 59 || sec > 60)
        return false;
    const char *q = p + 15;
    *seq = 0;
    if (*q == '-') {
        size_t nd = 0;
        while (nd < 4 && isdigit((unsigned char)q[1 + nd]))
            nd++;
        if (nd == 0 || nd > 3 || q[1] == '0')
            return false;
        *seq = (unsigned)number(q + 1, nd);
        q += 1 + nd;
    }
    if (strcmp(q, ".json") != 0)
        return false;
    size_t base_len = (size_t)(q - name);
    if (base_len >= base_size)
        return false;
    memcpy(base, name, base_len);
    base[base_len] = '\0';
    *tm = (struct tm){
        .tm_year = number(p, 4) - 1900,
        .tm_mon = number(p + 4, 2) - 1,
        .tm_mday = number(p + 6, 2),
        .tm_hour = hour,
        .tm_min = min,
        .tm_sec = sec,
        .tm_isdst = -1,
    };
    return true;
}

static uint64_t disk_bytes(const struct stat *st)
{
    return (uint64_t)st->st_blocks * 512;
}

/* Read the regular file `name` in `dirfd` (at most SIDECAR_MAX_BYTES) into
 * a new NUL-terminated buffer. Returns it (free() it) or NULL. */
static char *read_small_file(int dirfd, const char *name, struct stat *st)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size > SIDECAR_MAX_BYTES)
        goto fail;
    buf = malloc((size_t)st->st_size + 1);
    if (!buf)
        goto fail;
    while (len < (size_t)st->st_size) {
        ssize_t got = read(fd, buf + len, (size_t)st->st_size - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            goto fail;
        len += (size_t)got;
    }
    buf[len] = '\0';
    close(fd);
    return buf;

fail:
    free(buf);
    close(fd);
    return NULL;
}

/* A JSON string member equal to `want`. */
static bool member_is(const cJSON *obj, const char *key, const char *want)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
    return v && strcmp(v, want) == 0;
}

/*
 * Is `json_name` in date folder `day` (open as dayfd) the sidecar of one of
 * this camera's clips? If so, fills *clip (the files that exist and their
 * sizes) and returns true. See retention_files.h for the rules.
 */
static bool recognise(const RecClipStore *s, int dayfd, const char *day, const char *json_name,
                      RecStoredClip *clip)
{
    char base[REC_STEM_MAX], other[REC_STEM_MAX + 8];
    struct tm tm;
    struct stat st;
    cJSON *root = NULL;
    const cJSON *start, *snapshot;
    char *text = NULL;
    bool ours = false;
    int len;

    memset(clip, 0, sizeof(*clip));
    if (!parse_sidecar_name(json_name, s->camera, day, base, sizeof(base) - DAY_LEN - 1, &clip->seq,
                            &tm))
        return false;
    text = read_small_file(dayfd, json_name, &st);
    if (!text)
        goto end;
    clip->bytes = disk_bytes(&st);
    root = cJSON_ParseWithLength(text, (size_t)st.st_size);
    if (!cJSON_IsObject(root) || !member_is(root, "camera", s->camera))
        goto end;
    snprintf(other, sizeof(other), "%s.mp4", base);
    if (!member_is(root, "video", other))
        goto end;
    start = cJSON_GetObjectItemCaseSensitive(root, "start");
    if (!cJSON_IsString(start))
        goto end;
    snapshot = cJSON_GetObjectItemCaseSensitive(root, "snapshot");
    snprintf(other, sizeof(other), "%s.jpg", base);
    if (!cJSON_IsNull(snapshot) && !member_is(root, "snapshot", other))
        goto end;
    int64_t start_ns;
    if (cw_time_parse_iso(start->valuestring, &start_ns))
        clip->start_s = start_ns / CW_NS_PER_SEC;
    else
        clip->start_s = (int64_t)mktime(&tm); /* the name's local time */

    /* The video: a regular file, or gone (half deleted, or never delivered).
     * Anything else under its name was not made by camwatch. */
    snprintf(other, sizeof(other), "%s.mp4", base);
    if (fstatat(dayfd, other, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(st.st_mode))
            goto end;
        clip->has_mp4 = true;
        clip->bytes += disk_bytes(&st);
    } else if (errno != ENOENT) {
        goto end;
    }
    snprintf(other, sizeof(other), "%s.jpg", base);
    if (cJSON_IsString(snapshot) && fstatat(dayfd, other, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode)) {
        clip->has_jpg = true;
        clip->bytes += disk_bytes(&st);
    }
    /* parse_sidecar_name() left room for "<day>/" in front of base. */
    len = snprintf(clip->stem, sizeof(clip->stem), "%s/%s", day, base);
    ours = len > 0 && (size_t)len < sizeof(clip->stem);

end:
    cJSON_Delete(root);
    free(text);
    return ours;
}

int rec_store_open(RecClipStore **store, const char *video_dir, const char *staging_dir,
                   const char *camera)
{
    struct stat st;
    RecClipStore *s = calloc(1, sizeof(*s));

    *store = NULL;
    if (!s)
        return -ENOMEM;
    s->warn_unreadable = (CwRateLimit)CW_RATELIMIT_INIT(3600 * CW_NS_PER_SEC);
    if (snprintf(s->video_dir, sizeof(s->video_dir), "%s", video_dir) >=
            (int)sizeof(s->video_dir) ||
        snprintf(s->camera, sizeof(s->camera), "%s", camera) >= (int)sizeof(s->camera)) {
        free(s);
        return -ENAMETOOLONG;
    }
    /* Staging is known by its identity, not its name: STAGING_DIR may be
     * any folder, also one that looks like a date. */
    if (stat(staging_dir, &st) == 0) {
        s->staging_dev = st.st_dev;
        s->staging_ino = st.st_ino;
        s->have_staging = true;
    }
    *store = s;
    return 0;
}

void rec_store_free(RecClipStore **store)
{
    RecClipStore *s = *store;
    if (!s)
        return;
    free(s->clips);
    free(s->days);
    free(s->emptied);
    free(s);
    *store = NULL;
}

size_t rec_store_count(const RecClipStore *store)
{
    return store->n_clips;
}

const RecStoredClip *rec_store_clip(const RecClipStore *store, size_t i)
{
    return i < store->n_clips ? &store->clips[i] : NULL;
}

static DayFolder *find_day(RecClipStore *s, const char *day)
{
    for (size_t i = 0; i < s->n_days; i++)
        if (strcmp(s->days[i].day, day) == 0)
            return &s->days[i];
    return NULL;
}

/* Read date folder `day` (open as dayfd) into clips. Returns 0 or -ENOMEM. */
static int read_day(const RecClipStore *s, int dayfd, const char *day, RecStoredClip **clips,
                    size_t *n, size_t *cap, void (*tick)(void *), void *arg)
{
    DIR *dir = fdopendir(dayfd);
    struct dirent *de;
    int ret = 0, files = 0;

    if (!dir) {
        close(dayfd);
        return 0;
    }
    while ((de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (++files % TICK_FILES == 0 && tick)
            tick(arg);
        RecStoredClip clip;
        if (!recognise(s, dirfd(dir), day, de->d_name, &clip))
            continue;
        RecStoredClip *slot = push((void **)clips, n, cap, sizeof(**clips));
        if (!slot) {
            ret = -ENOMEM;
            break;
        }
        *slot = clip;
    }
    closedir(dir); /* closes dayfd */
    return ret;
}

int rec_store_scan(RecClipStore *s, void (*tick)(void *arg), void *arg)
{
    RecStoredClip *clips = NULL;
    DayFolder *days = NULL;
    size_t n_clips = 0, cap_clips = 0, n_days = 0, cap_days = 0;
    int64_t now_mono = cw_mono_ns(), now_wall = cw_wall_ns();
    bool full = !s->scanned || now_mono >= s->full_rescan_mono;
    DIR *root = NULL;
    struct dirent *de;
    int ret = 0;

    int rootfd = open(s->video_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0 || !(root = fdopendir(rootfd))) {
        ret = -errno;
        if (rootfd >= 0)
            close(rootfd);
        goto end;
    }
    while ((de = readdir(root))) {
        struct stat st;
        if (!is_day_name(de->d_name))
            continue;
        /* Never through a link: deleting must stay inside VIDEO_DIR. */
        if (fstatat(dirfd(root), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (s->have_staging && st.st_dev == s->staging_dev && st.st_ino == s->staging_ino)
            continue;
        DayFolder *folder = push((void **)&days, &n_days, &cap_days, sizeof(*days));
        if (!folder) {
            ret = -ENOMEM;
            goto end;
        }
        snprintf(folder->day, sizeof(folder->day), "%s", de->d_name);
        folder->dev = st.st_dev;
        folder->ino = st.st_ino;
        folder->mtime = st.st_mtim;
        folder->first = n_clips;

        const DayFolder *old = find_day(s, de->d_name);
        if (!full && old && old->trusted && old->dev == st.st_dev && old->ino == st.st_ino &&
            old->mtime.tv_sec == st.st_mtim.tv_sec && old->mtime.tv_nsec == st.st_mtim.tv_nsec) {
            for (size_t i = 0; i < old->count; i++) {
                RecStoredClip *slot = push((void **)&clips, &n_clips, &cap_clips, sizeof(*clips));
                if (!slot) {
                    ret = -ENOMEM;
                    goto end;
                }
                *slot = s->clips[old->first + i];
            }
        } else {
            int dayfd =
                openat(dirfd(root), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (dayfd < 0) {
                int err = errno;
                int64_t held = cw_ratelimit_test(&s->warn_unreadable, cw_mono_ns());
                if (held >= 0)
                    cw_warn("retention: cannot read %s/%s: %s; its clips are left alone (%lld "
                            "more such failures in the last hour)",
                            s->video_dir, de->d_name, strerror(err), (long long)held);
                continue; /* untrusted: read again next time */
            }
            ret = read_day(s, dayfd, de->d_name, &clips, &n_clips, &cap_clips, tick, arg);
            if (ret < 0)
                goto end;
            int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * CW_NS_PER_SEC + st.st_mtim.tv_nsec;
            folder->trusted = now_wall - mtime_ns > RACY_NS;
        }
        folder->count = n_clips - folder->first;
        if (tick)
            tick(arg);
    }
    /* The new list replaces the old one. */
    free(s->clips);
    free(s->days);
    s->clips = clips;
    s->n_clips = n_clips;
    s->days = days;
    s->n_days = n_days;
    clips = NULL;
    days = NULL;
    s->scanned = true;
    if (full)
        s->full_rescan_mono = now_mono + FULL_RESCAN_NS;

end:
    if (root)
        closedir(root);
    free(clips);
    free(days);
    if (ret < 0) {
        /* Nothing known is better than something stale: no deletion then. */
        s->n_clips = 0;
        s->n_days = 0;
        s->scanned = false;
    }
    return ret;
}

static void remember_emptied(RecClipStore *s, const char *day)
{
    for (size_t i = 0; i < s->n_emptied; i++)
        if (strcmp(s->emptied[i], day) == 0)
            return;
    char(*grown)[DAY_LEN + 1] = realloc(s->emptied, (s->n_emptied + 1) * sizeof(*s->emptied));
    if (!grown)
        return; /* the folder merely stays */
    s->emptied = grown;
    snprintf(s->emptied[s->n_emptied++], DAY_LEN + 1, "%s", day);
}

/* unlinkat that counts a file already gone as deleted. */
static int remove_file(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int rec_store_delete(RecClipStore *s, size_t i, char *failed, size_t failed_size)
{
    char day[DAY_LEN + 1], name[REC_STEM_MAX + 8];
    const char *base;
    RecStoredClip now;
    int dayfd = -1, ret = 0;

    if (i >= s->n_clips)
        return -EINVAL;
    const RecStoredClip *clip = &s->clips[i];
    snprintf(day, sizeof(day), "%.*s", DAY_LEN, clip->stem);
    base = clip->stem + DAY_LEN + 1;
    DayFolder *folder = find_day(s, day);
    if (folder)
        folder->trusted = false; /* it changes now, whatever happens */

    int rootfd = open(s->video_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd >= 0) {
        dayfd = openat(rootfd, day, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(rootfd);
    }
    if (dayfd < 0) {
        ret = -errno;
        snprintf(failed, failed_size, "%s/%s", s->video_dir, day);
        goto end;
    }
    /* The list may be a minute old: only what is camwatch's right now goes. */
    snprintf(name, sizeof(name), "%s.json", base);
    if (!recognise(s, dayfd, day, name, &now)) {
        ret = -ESTALE;
        snprintf(failed, failed_size, "%s/%s", s->video_dir, clip->stem);
        goto end;
    }
    static const char *const order[] = {"mp4", "jpg", "json"}; /* the sidecar last */
    for (int k = 0; k < 3; k++) {
        if ((k == 0 && !now.has_mp4) || (k == 1 && !now.has_jpg))
            continue;
        snprintf(name, sizeof(name), "%s.%s", base, order[k]);
        ret = remove_file(dayfd, name);
        if (ret < 0) {
            snprintf(failed, failed_size, "%s/%s/%s", s->video_dir, day, name);
            goto end;
        }
    }
    remember_emptied(s, day);
    cw_debug("retention: deleted %s/%s (%llu bytes)", s->video_dir, clip->stem,
             (unsigned long long)now.bytes);

end:
    if (dayfd >= 0)
        close(dayfd);
    return ret;
}

int rec_store_remove_emptied_days(RecClipStore *s)
{
    int removed = 0;
    int rootfd = open(s->video_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    for (size_t i = 0; rootfd >= 0 && i < s->n_emptied; i++) {
        /* rmdir refuses a folder that holds anything: a user's file there
         * keeps it. */
        if (unlinkat(rootfd, s->emptied[i], AT_REMOVEDIR) == 0)
            removed++;
        else if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
            cw_debug("retention: cannot remove %s/%s: %s", s->video_dir, s->emptied[i],
                     strerror(errno));
    }
    if (rootfd >= 0)
        close(rootfd);
    s->n_emptied = 0;
    return removed;
}
