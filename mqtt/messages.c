#define _GNU_SOURCE
#include "messages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "status.h"
#include "timefmt.h"

static void add_path(cJSON *obj, const char *key, const char *path)
{
    if (path && *path)
        cJSON_AddStringToObject(obj, key, path);
    else
        cJSON_AddNullToObject(obj, key);
}

void mqtt_event_id(const CwConfig *cfg, const MqttEvent *e, char *buf, size_t size)
{
    char stamp[32];
    cw_time_format(e->start_ns, CW_TIME_NAME, stamp, sizeof(stamp));
    snprintf(buf, size, "%s-%s", cfg->camera, stamp);
}

char *mqtt_event_json(const CwConfig *cfg, const CwPolygonSet *zones, const MqttEvent *e,
                      enum MqttEventType type, int64_t end_ns)
{
    static const char *const types[] = {"start", "update", "end"};
    char id[CW_CAMERA_MAX + 48];
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    mqtt_event_id(cfg, e, id, sizeof(id));
    cJSON_AddStringToObject(root, "type", types[type]);
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "camera", cfg->camera);
    cw_status_add_time(root, "start", e->start_ns);
    cw_status_add_time(root, "end", type == MQTT_EVENT_END ? end_ns : 0);
    cJSON *boxes = cJSON_AddArrayToObject(root, "boxes");
    for (int i = 0; boxes && i < e->box_count; i++) {
        int v[4] = {e->boxes[i].x, e->boxes[i].y, e->boxes[i].w, e->boxes[i].h};
        cJSON_AddItemToArray(boxes, cJSON_CreateIntArray(v, 4));
    }
    cJSON_AddNumberToObject(root, "width", e->width);
    cJSON_AddNumberToObject(root, "height", e->height);
    cJSON *names = cJSON_AddArrayToObject(root, "zones");
    for (int i = 0; names && i < zones->count && i < 32; i++)
        if (e->zones & (1u << i))
            cJSON_AddItemToArray(names, cJSON_CreateString(zones->polygons[i].name));
    cJSON_AddNumberToObject(root, "peak_changed_percent",
                            (double)(int64_t)(e->peak_changed_percent * 100 + 0.5) / 100);
    bool paths = type == MQTT_EVENT_END && e->clip[0];
    add_path(root, "clip", paths ? e->clip : NULL);
    add_path(root, "snapshot", paths ? e->snapshot : NULL);
    add_path(root, "sidecar", paths ? e->sidecar : NULL);
    if (paths && cfg->http_listen[0]) {
        /* camwatch-http serves VIDEO_DIR/DAY/NAME as /clips/DAY/NAME. */
        size_t dir_len = strlen(cfg->video_dir);
        char url[PATH_MAX + 160];
        const char *rel = e->clip + dir_len + (e->clip[dir_len] == '/');
        snprintf(url, sizeof(url), "http://%s/clips/%s", cfg->http_listen, rel);
        cJSON_AddStringToObject(root, "url", url);
    } else {
        cJSON_AddNullToObject(root, "url");
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* The number at `path` ("a.b") of a status document, or NULL if it is none. */
static const cJSON *number_at(const cJSON *root, const char *outer, const char *inner)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, outer);
    const cJSON *v = inner ? cJSON_GetObjectItemCaseSensitive(o, inner) : o;
    return cJSON_IsNumber(v) ? v : NULL;
}

static void copy_number(cJSON *to, const char *key, const cJSON *from)
{
    if (from)
        cJSON_AddNumberToObject(to, key, from->valuedouble);
    else
        cJSON_AddNullToObject(to, key);
}

cJSON *mqtt_state_json(const CwConfig *cfg, CwRing *const rings[CW_RING_KIND_COUNT],
                       uint32_t paused, bool motion)
{
    cJSON *status = cw_status_json(cfg, rings);
    cJSON *root = status ? cJSON_CreateObject() : NULL;
    if (!root) {
        cJSON_Delete(status);
        return NULL;
    }
    cJSON_AddStringToObject(root, "camera", cfg->camera);
    /* Packets arriving is what "online" means with or without a supervisor. */
    const cJSON *input = number_at(status, "fps", "input");
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(status, "camera_state");
    const cJSON *online = cJSON_GetObjectItemCaseSensitive(cam, "online");
    cJSON_AddBoolToObject(root, "online",
                          cJSON_IsBool(online) ? cJSON_IsTrue(online) : input != NULL);
    cJSON_AddStringToObject(root, "motion", motion ? "ON" : "OFF");
    cJSON_AddStringToObject(root, "detect", paused & CW_PAUSE_DETECT ? "OFF" : "ON");
    cJSON_AddStringToObject(root, "record", paused & CW_PAUSE_RECORD ? "OFF" : "ON");
    copy_number(root, "fps_input", input);
    copy_number(root, "fps_analysed", number_at(status, "fps", "analysed"));
    copy_number(root, "clips_today", number_at(status, "clips", "today"));
    const cJSON *clips = cJSON_GetObjectItemCaseSensitive(status, "clips");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(clips, "last");
    const cJSON *delivered = cJSON_GetObjectItemCaseSensitive(last, "delivered");
    if (cJSON_IsString(delivered))
        cJSON_AddStringToObject(root, "last_clip", delivered->valuestring);
    else
        cJSON_AddNullToObject(root, "last_clip");
    copy_number(root, "disk_free_bytes", number_at(status, "disk", "free_bytes"));
    copy_number(root, "disk_free_percent", number_at(status, "disk", "free_percent"));
    cJSON_Delete(status);
    return root;
}

int mqtt_sidecar_read(const char *path, char *camera, size_t camera_size, int64_t *motion_start_ns,
                      bool *final)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    if (!root)
        return -EINVAL;
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(root, "camera");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(root, "motion_start");
    const cJSON *cut = cJSON_GetObjectItemCaseSensitive(root, "cut_short");
    int ret = -EINVAL;
    if (cJSON_IsString(cam) && cJSON_IsString(start) &&
        cw_time_parse_iso(start->valuestring, motion_start_ns)) {
        snprintf(camera, camera_size, "%s", cam->valuestring);
        *final = !(cJSON_IsString(cut) && strcmp(cut->valuestring, "max_length") == 0);
        ret = 0;
    }
    cJSON_Delete(root);
    return ret;
}
