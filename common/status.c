#define _GNU_SOURCE
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "clock.h"
#include "payload.h"
#include "timefmt.h"

/* The rate of a ring is measured over its slots of this last stretch of time. */
#define FPS_WINDOW_NS (3 * CW_NS_PER_SEC)
/* At most this many slots are looked at for a rate (a packets ring holds thousands). */
#define FPS_MAX_SLOTS 300
/* A ring whose newest slot is older than this has no rate: the writer is silent. */
#define FPS_SILENT_NS (5 * CW_NS_PER_SEC)

static const char *const kind_names[CW_RING_KIND_COUNT] = {"packets", "frames", "events"};
static const char *const state_names[] = {
    [CW_STAGE_UNKNOWN] = "unknown", [CW_STAGE_IDLE] = "starting",
    [CW_STAGE_RUNNING] = "running", [CW_STAGE_WAITING] = "restarting",
    [CW_STAGE_STOPPED] = "stopped", [CW_STAGE_DISABLED] = "disabled",
};

int cw_status_open(const CwConfig *cfg, CwRing *rings[CW_RING_KIND_COUNT], char *err,
                   size_t err_size)
{
    char name[64];
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++) {
        rings[kind] = NULL;
        cw_rings_name(cfg, (enum CwRingKind)kind, name, sizeof(name));
        int ret = cw_ring_open(&rings[kind], name, NULL, 1000, err, err_size);
        if (ret < 0 && (kind == CW_RING_PACKETS || ret != -ENOENT)) {
            cw_status_close(rings);
            return ret;
        }
    }
    return 0;
}

void cw_status_close(CwRing *rings[CW_RING_KIND_COUNT])
{
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        if (rings[kind])
            cw_ring_close(&rings[kind]);
}

void cw_status_add_time(cJSON *obj, const char *key, int64_t wall_ns)
{
    char buf[48];
    if (wall_ns > 0)
        cJSON_AddStringToObject(obj, key,
                                cw_time_format(wall_ns, CW_TIME_ISO_LOCAL, buf, sizeof(buf)));
    else
        cJSON_AddNullToObject(obj, key);
}

static double seconds(int64_t ns)
{
    return (double)ns / CW_NS_PER_SEC;
}

/*
 * Slots a second over the ring's recent stretch, from the writer's stamps
 * (CLOCK_REALTIME of each slot): no sampling twice, no waiting. Negative
 * when there is nothing to measure.
 */
static double ring_rate(const CwRing *ring, int64_t now_wall_ns)
{
    uint64_t head = cw_ring_write_seq(ring);
    int64_t newest = 0, oldest = 0;
    int counted = 0;
    CwRingView view;
    for (uint64_t back = 1; back <= FPS_MAX_SLOTS && back <= head; back++) {
        if (cw_ring_peek(ring, head - back, &view) < 0)
            break;
        if (!newest)
            newest = view.stamp;
        if (newest - view.stamp > FPS_WINDOW_NS)
            break;
        oldest = view.stamp;
        counted++;
    }
    if (!newest || now_wall_ns - newest > FPS_SILENT_NS)
        return 0;
    if (counted < 2 || newest <= oldest)
        return -1;
    return (counted - 1) / seconds(newest - oldest);
}

static void add_rate(cJSON *obj, const char *key, const CwRing *ring, int64_t now_wall_ns)
{
    double rate = ring ? ring_rate(ring, now_wall_ns) : -1;
    if (rate < 0)
        cJSON_AddNullToObject(obj, key);
    else
        cJSON_AddNumberToObject(obj, key, (double)(int64_t)(rate * 100 + 0.5) / 100);
}

static cJSON *stage_json(enum CwStage id, const CwSupStatus *sup, CwRing *const rings[],
                         int64_t now_wall_ns)
{
    cJSON *st = cJSON_CreateObject();
    const CwStageStatus *s = sup ? &sup->stages[id] : NULL;
    cJSON_AddStringToObject(st, "name", cw_stage_name(id));
    int state = s && s->state >= 0 && s->state <= CW_STAGE_DISABLED ? s->state : CW_STAGE_UNKNOWN;
    cJSON_AddStringToObject(st, "state", state_names[state]);
    if (s && s->pid)
        cJSON_AddNumberToObject(st, "pid", s->pid);
    else
        cJSON_AddNullToObject(st, "pid");
    if (s && s->pid && s->started_wall_ns)
        cJSON_AddNumberToObject(st, "uptime_seconds",
                                (double)(int64_t)seconds(now_wall_ns - s->started_wall_ns));
    else
        cJSON_AddNullToObject(st, "uptime_seconds");
    if (s)
        cJSON_AddNumberToObject(st, "restarts", s->restarts);
    else
        cJSON_AddNullToObject(st, "restarts");
    if (s && s->last_exit_wall_ns) {
        cJSON *last = cJSON_AddObjectToObject(st, "last_exit");
        if (s->last_exit_signal) {
            const char *abbrev = sigabbrev_np(s->last_exit_signal);
            char name[24];
            snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
            cJSON_AddNullToObject(last, "status");
            cJSON_AddStringToObject(last, "signal", name);
        } else {
            cJSON_AddNumberToObject(last, "status", s->last_exit_status);
            cJSON_AddNullToObject(last, "signal");
        }
        cw_status_add_time(last, "at", s->last_exit_wall_ns);
    } else {
        cJSON_AddNullToObject(st, "last_exit");
    }
    const CwRing *ring = rings[cw_stage_beat_ring(id)];
    int64_t beat = ring ? cw_rings_heartbeat_ns(ring, id) : 0;
    if (beat)
        cJSON_AddNumberToObject(st, "heartbeat_age_seconds",
                                (double)(int64_t)(seconds(cw_mono_ns() - beat) * 10) / 10);
    else
        cJSON_AddNullToObject(st, "heartbeat_age_seconds");
    return st;
}

static cJSON *ring_json(enum CwRingKind kind, const CwRing *ring)
{
    cJSON *r = cJSON_CreateObject();
    CwRingReaderStatus rs;
    cJSON_AddStringToObject(r, "ring", kind_names[kind]);
    cJSON_AddNumberToObject(r, "published", (double)cw_ring_write_seq(ring));
    cJSON_AddNumberToObject(r, "slots", cw_ring_slot_count(ring));
    cJSON *readers = cJSON_AddArrayToObject(r, "readers");
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        if (cw_ring_reader_status(ring, i, &rs) < 0)
            continue;
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "role", rs.role);
        cJSON_AddNumberToObject(one, "consumed", (double)rs.consumed);
        cJSON_AddNumberToObject(one, "overruns", (double)rs.overruns);
        /* Slots published that this reader has not read yet, as a signed
         * distance (the counters wrap). write_seq is read after the
         * position; a reader can still run ahead of a ring restarted under
         * it, which is no lag. */
        int64_t lag = (int64_t)(cw_ring_write_seq(ring) - rs.position);
        cJSON_AddNumberToObject(one, "lag", lag > 0 ? (double)lag : 0);
        cJSON_AddItemToArray(readers, one);
    }
    return r;
}

static bool is_clip_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".mp4") == 0;
}

/* Clips delivered today (local date folder), and the newest clip of any day. */
static void add_clips(cJSON *obj, const CwConfig *cfg, int64_t now_wall_ns)
{
    /* Room for VIDEO_DIR, a date folder and a file name, whatever their lengths. */
    char today[16], newest_day[64] = "", newest[256] = "", path[PATH_MAX + 400];
    cw_time_format(now_wall_ns, CW_TIME_DAY, today, sizeof(today));
    cJSON *clips = cJSON_AddObjectToObject(obj, "clips");
    int today_count = 0;
    DIR *top = opendir(cfg->video_dir);
    struct dirent *day;
    while (top && (day = readdir(top))) {
        /* Date folders only ("YYYY-MM-DD"): names sort as time does. */
        if (strlen(day->d_name) != 10 || day->d_name[4] != '-' || day->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", cfg->video_dir, day->d_name);
        DIR *d = opendir(path);
        struct dirent *f;
        while (d && (f = readdir(d))) {
            if (!is_clip_name(f->d_name))
                continue;
            if (strcmp(day->d_name, today) == 0)
                today_count++;
            int c = strcmp(day->d_name, newest_day);
            if (c > 0 || (c == 0 && strcmp(f->d_name, newest) > 0)) {
                snprintf(newest_day, sizeof(newest_day), "%s", day->d_name);
                snprintf(newest, sizeof(newest), "%s", f->d_name);
            }
        }
        if (d)
            closedir(d);
    }
    if (top)
        closedir(top);
    cJSON_AddNumberToObject(clips, "today", today_count);
    if (newest[0]) {
        cJSON *last = cJSON_AddObjectToObject(clips, "last");
        char rel[sizeof(newest_day) + sizeof(newest) + 2];
        struct stat stb;
        snprintf(rel, sizeof(rel), "%s/%s", newest_day, newest);
        cJSON_AddStringToObject(last, "video", rel);
        snprintf(path, sizeof(path), "%s/%s", cfg->video_dir, rel);
        cw_status_add_time(last, "delivered",
                           stat(path, &stb) == 0
                               ? (int64_t)stb.st_mtim.tv_sec * CW_NS_PER_SEC + stb.st_mtim.tv_nsec
                               : 0);
    } else {
        cJSON_AddNullToObject(clips, "last");
    }
}

/* What capture reported of the stream in `ring` (rings.h CwStreamStatus), as `key`. */
static void add_stream(cJSON *obj, const char *key, const CwRing *ring)
{
    CwStreamStatus ss;
    if (!ring || cw_rings_get_stream_status(ring, CW_STREAM_MAIN, &ss) < 0) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    cJSON *s = cJSON_AddObjectToObject(obj, key);
    cJSON_AddBoolToObject(s, "connected", ss.connected_wall_ns != 0);
    cw_status_add_time(s, "connected_since", ss.connected_wall_ns);
    cJSON_AddNumberToObject(s, "connections", (double)ss.connections);
    cJSON_AddNumberToObject(s, "reconnects", ss.connections ? (double)(ss.connections - 1) : 0);
    ss.transport[sizeof(ss.transport) - 1] = '\0'; /* another process's bytes */
    if (ss.transport[0])
        cJSON_AddStringToObject(s, "transport", ss.transport);
    else
        cJSON_AddNullToObject(s, "transport");
    cJSON_AddNumberToObject(s, "input_fps", (double)(int64_t)(ss.input_fps * 10) / 10);
    cJSON_AddNumberToObject(s, "bitrate_kbps", (double)(int64_t)ss.bitrate_kbps);
    cJSON_AddNumberToObject(s, "packets", (double)ss.packets);
    cJSON_AddNumberToObject(s, "bytes", (double)ss.bytes);
    cJSON_AddNumberToObject(s, "packets_lost", (double)ss.packets_lost);
    cJSON_AddNumberToObject(s, "pictures_decoded", (double)ss.pictures_decoded);
    cJSON_AddNumberToObject(s, "pictures_withheld", (double)ss.pictures_withheld);
    if (ss.last_error_wall_ns) {
        ss.last_error[sizeof(ss.last_error) - 1] = '\0'; /* another process's bytes */
        cJSON *e = cJSON_AddObjectToObject(s, "last_error");
        cJSON_AddStringToObject(e, "message", ss.last_error);
        cw_status_add_time(e, "at", ss.last_error_wall_ns);
    } else {
        cJSON_AddNullToObject(s, "last_error");
    }
}

static void add_disk(cJSON *obj, const CwConfig *cfg)
{
    struct statvfs vfs;
    if (statvfs(cfg->video_dir, &vfs) < 0) {
        cJSON_AddNullToObject(obj, "disk");
        return;
    }
    cJSON *disk = cJSON_AddObjectToObject(obj, "disk");
    double free_b = (double)vfs.f_bavail * vfs.f_frsize,
           total_b = (double)vfs.f_blocks * vfs.f_frsize;
    cJSON_AddStringToObject(disk, "path", cfg->video_dir);
    cJSON_AddNumberToObject(disk, "free_bytes", free_b);
    cJSON_AddNumberToObject(disk, "total_bytes", total_b);
    cJSON_AddNumberToObject(disk, "free_percent",
                            total_b > 0 ? (double)(int64_t)(free_b / total_b * 1000) / 10 : 0);
}

cJSON *cw_status_json(const CwConfig *cfg, CwRing *const rings[CW_RING_KIND_COUNT])
{
    int64_t now_wall_ns = cw_wall_ns();
    CwSupStatus sup;
    bool have_sup = rings[CW_RING_PACKETS] &&
                    cw_rings_get_sup_status(rings[CW_RING_PACKETS], &sup) == 0 &&
                    sup.supervisor_pid;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "camera", cfg->camera);
    cw_status_add_time(root, "time", now_wall_ns);
    if (have_sup) {
        cJSON *s = cJSON_AddObjectToObject(root, "supervisor");
        cJSON_AddNumberToObject(s, "pid", sup.supervisor_pid);
        cJSON_AddNumberToObject(s, "uptime_seconds",
                                (double)(int64_t)seconds(now_wall_ns - sup.started_wall_ns));
        cJSON *cam = cJSON_AddObjectToObject(root, "camera_state");
        cJSON_AddBoolToObject(cam, "online", sup.camera_online);
        cw_status_add_time(cam, "since", sup.camera_since_wall_ns);
        cJSON_AddNumberToObject(cam, "failed_attempts", sup.camera_attempts);
    } else {
        cJSON_AddNullToObject(root, "supervisor");
        cJSON_AddNullToObject(root, "camera_state");
    }
    cJSON *stages = cJSON_AddArrayToObject(root, "stages");
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        cJSON_AddItemToArray(
            stages, stage_json((enum CwStage)id, have_sup ? &sup : NULL, rings, now_wall_ns));
    /* The main stream; with DETECT_URL the frames ring has the sub-stream's. */
    add_stream(root, "stream", rings[CW_RING_PACKETS]);
    if (cfg->detect_url[0])
        add_stream(root, "sub_stream", rings[CW_RING_FRAMES]);
    cJSON *fps = cJSON_AddObjectToObject(root, "fps");
    add_rate(fps, "input", rings[CW_RING_PACKETS], now_wall_ns);
    add_rate(fps, "decoded", rings[CW_RING_FRAMES], now_wall_ns);
    add_rate(fps, "analysed", rings[CW_RING_EVENTS], now_wall_ns);
    cJSON *ring_list = cJSON_AddArrayToObject(root, "rings");
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        if (rings[kind])
            cJSON_AddItemToArray(ring_list, ring_json((enum CwRingKind)kind, rings[kind]));
    if (rings[CW_RING_EVENTS])
        cJSON_AddNumberToObject(root, "motion_events",
                                (double)cw_rings_motion_events(rings[CW_RING_EVENTS]));
    else
        cJSON_AddNullToObject(root, "motion_events");
    add_clips(root, cfg, now_wall_ns);
    add_disk(root, cfg);
    return root;
}
