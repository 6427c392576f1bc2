#define _GNU_SOURCE
#include "sidecar.h"

#include "clock.h"
#include "fsutil.h"
#include "timefmt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rec_clip_name(RecClipInfo *info, const char *camera, int64_t wall_ns)
{
    char stamp[32];

    cw_time_format(wall_ns, CW_TIME_NAME, stamp, sizeof(stamp));
    cw_time_format(wall_ns, CW_TIME_DAY, info->day, sizeof(info->day));
    snprintf(info->camera, sizeof(info->camera), "%s", camera);
    return rec_path_fmt(info->name, sizeof(info->name), "%s-%s", camera, stamp);
}

/*
 * A number with `decimals` places, or null: JSON has no NaN or infinity.
 * Written as fixed-point text, as cJSON's own numbers would print 5.000 as
 * 5, which readers then take for an integer.
 */
static cJSON *add_fixed(cJSON *obj, const char *name, double v, int decimals)
{
    char text[64];

    if (!isfinite(v) || snprintf(text, sizeof(text), "%.*f", decimals, v) >= (int)sizeof(text))
        return cJSON_AddNullToObject(obj, name);
    return cJSON_AddRawToObject(obj, name, text);
}

/* A string, or null. */
static cJSON *add_string(cJSON *obj, const char *name, const char *s)
{
    return s ? cJSON_AddStringToObject(obj, name, s) : cJSON_AddNullToObject(obj, name);
}

/* A stamp as ISO 8601 local time with its offset. */
static cJSON *add_time(cJSON *obj, const char *name, int64_t wall_ns)
{
    char iso[48];
    return cJSON_AddStringToObject(obj, name,
                                   cw_time_format(wall_ns, CW_TIME_ISO_LOCAL, iso, sizeof(iso)));
}

static cJSON *add_boxes(cJSON *obj, const RecClipInfo *info)
{
    cJSON *boxes = cJSON_AddArrayToObject(obj, "boxes");
    for (int i = 0; boxes && i < info->box_count; i++) {
        const CwBox *b = &info->boxes[i];
        const int xywh[4] = {b->x, b->y, b->w, b->h};
        cJSON *box = cJSON_CreateIntArray(xywh, 4);
        if (!box || !cJSON_AddItemToArray(boxes, box)) {
            cJSON_Delete(box);
            return NULL;
        }
    }
    return boxes;
}

/* The picture detection analysed, or nulls when no motion event came. */
static bool add_size(cJSON *obj, const RecClipInfo *info)
{
    bool known = info->peak_changed_percent >= 0 && info->detect_width > 0;
    if (!known)
        return cJSON_AddNullToObject(obj, "detect_width") &&
               cJSON_AddNullToObject(obj, "detect_height");
    return cJSON_AddNumberToObject(obj, "detect_width", info->detect_width) &&
           cJSON_AddNumberToObject(obj, "detect_height", info->detect_height);
}

static bool add_zones(cJSON *obj, const RecClipInfo *info)
{
    if (!info->zone_set)
        return cJSON_AddNullToObject(obj, "zones");
    cJSON *zones = cJSON_AddArrayToObject(obj, "zones");
    if (!zones)
        return false;
    for (int i = 0; i < info->zone_set->count && i < CW_POLYGONS_MAX; i++) {
        if (!(info->zones & (1u << i)))
            continue;
        cJSON *name = cJSON_CreateString(info->zone_set->polygons[i].name);
        if (!name || !cJSON_AddItemToArray(zones, name)) {
            cJSON_Delete(name);
            return false;
        }
    }
    return true;
}

/* The sidecar as a cJSON tree (the caller deletes it), or NULL: out of memory. */
static cJSON *sidecar_tree(const RecClipInfo *info, const char *video, const char *snapshot)
{
    cJSON *root = cJSON_CreateObject();
    int64_t pre_ns;
    /* Exact in nanoseconds; stamps far apart (a clock stepped by decades)
     * would overflow int64_t, so those are subtracted as doubles. */
    double pre_s = __builtin_sub_overflow(info->motion_start_ns, info->start_ns, &pre_ns)
                       ? ((double)info->motion_start_ns - (double)info->start_ns) / CW_NS_PER_SEC
                       : (double)pre_ns / CW_NS_PER_SEC;

    if (!root)
        return NULL;
    /* The order of the fields is the order of the file. */
    if (!add_string(root, "camera", info->camera) || !add_string(root, "video", video) ||
        !add_string(root, "snapshot", snapshot) || !add_time(root, "start", info->start_ns) ||
        !add_time(root, "end", info->end_ns) ||
        !add_time(root, "motion_start", info->motion_start_ns) ||
        !add_fixed(root, "pre_capture_seconds", pre_s, 3) ||
        !add_fixed(root, "duration_seconds", info->duration_s, 3) ||
        !(info->peak_changed_percent < 0
              ? cJSON_AddNullToObject(root, "peak_changed_percent")
              : add_fixed(root, "peak_changed_percent", info->peak_changed_percent, 2)) ||
        !add_boxes(root, info) || !cJSON_AddNumberToObject(root, "width", info->width) ||
        !cJSON_AddNumberToObject(root, "height", info->height) ||
        !add_string(root, "codec", info->codec) ||
        !add_string(root, "cut_short", info->cut_short) ||
        !add_string(root, "snapshot_source", snapshot ? info->snapshot_source : NULL) ||
        !add_string(root, "boxes_frame", REC_SNAPSHOT_MAIN) || !add_size(root, info) ||
        !add_zones(root, info) || !add_string(root, "record_mode", info->record_mode)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int rec_sidecar_format(char *buf, size_t size, const RecClipInfo *info, const char *video,
                       const char *snapshot)
{
    cJSON *root = sidecar_tree(info, video, snapshot);
    char *text = NULL;
    int ret = -ENOMEM;

    if (!root)
        goto end;
    text = cJSON_Print(root);
    if (!text)
        goto end;
    size_t len = strlen(text);
    if (len + 2 > size || len + 1 > INT_MAX) {
        ret = -ENOSPC;
        goto end;
    }
    memcpy(buf, text, len);
    buf[len++] = '\n';
    buf[len] = '\0';
    ret = (int)len;

end:
    free(text); /* cJSON allocates with malloc unless told otherwise */
    cJSON_Delete(root);
    return ret;
}

int rec_sidecar_write(const char *path, const RecClipInfo *info, const char *video,
                      const char *snapshot)
{
    char buf[4096];
    int len = rec_sidecar_format(buf, sizeof(buf), info, video, snapshot);
    if (len < 0)
        return len;
    return rec_write_file(path, buf, (size_t)len);
}
