#define _GNU_SOURCE
#include "clipwatch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "timefmt.h"

/* Date folders watched at once: today, yesterday and a few more to come. */
#define MAX_DAYS 16

struct MqttClipWatch {
    int fd;
    int top_wd;
    char video_dir[PATH_MAX];
    struct {
        int wd;
        char name[16];
    } days[MAX_DAYS];
    int day_count;
    /* Clips found in a date folder when it was first watched (renamed in
     * before the watch existed), reported first. */
    char pending[MAX_DAYS][PATH_MAX];
    int pending_count;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    size_t len, pos; /* unread events in buf */
};

static bool is_day_name(const char *n)
{
    return strlen(n) == 10 && n[4] == '-' && n[7] == '-' && n[0] != '.';
}

/* A folder just created may have received clips before its watch: queue them. */
static void scan_day(MqttClipWatch *w, const char *name)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", w->video_dir, name);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) && w->pending_count < MAX_DAYS) {
        size_t nl = strlen(de->d_name);
        if (nl > 4 && de->d_name[0] != '.' && strcmp(de->d_name + nl - 4, ".mp4") == 0)
            snprintf(w->pending[w->pending_count++], PATH_MAX, "%.*s/%s", PATH_MAX / 2, path,
                     de->d_name);
    }
    if (d)
        closedir(d);
}

static void watch_day(MqttClipWatch *w, const char *name)
{
    char path[PATH_MAX + 32];
    for (int i = 0; i < w->day_count; i++)
        if (strcmp(w->days[i].name, name) == 0)
            return;
    snprintf(path, sizeof(path), "%s/%s", w->video_dir, name);
    int wd = inotify_add_watch(w->fd, path, IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
        cw_warn("cannot watch %s for new clips: %s", path, strerror(errno));
        return;
    }
    if (w->day_count == MAX_DAYS) { /* the oldest day gets no more clips */
        inotify_rm_watch(w->fd, w->days[0].wd);
        memmove(&w->days[0], &w->days[1], sizeof(w->days[0]) * (MAX_DAYS - 1));
        w->day_count--;
    }
    w->days[w->day_count].wd = wd;
    snprintf(w->days[w->day_count].name, sizeof(w->days[0].name), "%s", name);
    w->day_count++;
}

int mqtt_clipwatch_new(MqttClipWatch **watch, const char *video_dir)
{
    MqttClipWatch *w = calloc(1, sizeof(*w));
    int ret = 0;
    if (!w)
        return -ENOMEM;
    snprintf(w->video_dir, sizeof(w->video_dir), "%s", video_dir);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        ret = -errno;
        cw_error("cannot watch VIDEO_DIR for new clips: inotify: %s", strerror(-ret));
        goto end;
    }
    /* Date folders appear by mkdir (record) or rename. */
    w->top_wd = inotify_add_watch(w->fd, video_dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (w->top_wd < 0) {
        ret = -errno;
        cw_error("cannot watch VIDEO_DIR=%s for new clips: %s", video_dir, strerror(-ret));
        goto end;
    }
    char yesterday[16];
    cw_time_format(cw_wall_ns() - 86400 * CW_NS_PER_SEC, CW_TIME_DAY, yesterday, sizeof(yesterday));
    DIR *d = opendir(video_dir);
    struct dirent *de;
    char names[MAX_DAYS][16];
    int n = 0;
    while (d && (de = readdir(d)))
        if (is_day_name(de->d_name) && strcmp(de->d_name, yesterday) >= 0 && n < MAX_DAYS)
            snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < n; i++)
        watch_day(w, names[i]);
end:
    if (ret < 0) {
        mqtt_clipwatch_free(&w);
        return ret;
    }
    *watch = w;
    return 0;
}

void mqtt_clipwatch_free(MqttClipWatch **watch)
{
    MqttClipWatch *w = *watch;
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w);
    *watch = NULL;
}

int mqtt_clipwatch_next(MqttClipWatch *w, char *path, size_t size)
{
    for (;;) {
        if (w->pending_count) {
            snprintf(path, size, "%s", w->pending[0]);
            memmove(w->pending[0], w->pending[1],
                    sizeof(w->pending[0]) * (size_t)--w->pending_count);
            return 1;
        }
        if (w->pos >= w->len) {
            ssize_t n = read(w->fd, w->buf, sizeof(w->buf));
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
            w->len = (size_t)n;
            w->pos = 0;
            if (n == 0)
                return 0;
        }
        const struct inotify_event *ie = (const void *)(w->buf + w->pos);
        w->pos += sizeof(*ie) + ie->len;
        if (ie->mask & IN_Q_OVERFLOW) {
            cw_warn("missed new clips: the folder watch overflowed");
            continue;
        }
        if (!ie->len)
            continue;
        if (ie->wd == w->top_wd) {
            if ((ie->mask & IN_ISDIR) && is_day_name(ie->name)) {
                watch_day(w, ie->name);
                scan_day(w, ie->name);
            }
            continue;
        }
        size_t nl = strlen(ie->name);
        if (nl < 5 || ie->name[0] == '.' || strcmp(ie->name + nl - 4, ".mp4") != 0)
            continue;
        for (int i = 0; i < w->day_count; i++) {
            if (w->days[i].wd == ie->wd) {
                snprintf(path, size, "%s/%s/%s", w->video_dir, w->days[i].name, ie->name);
                return 1;
            }
        }
    }
}
