#define _GNU_SOURCE
#include "sidecar.h"

#include "clock.h"
#include "fsutil.h"
#include "timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rec_clip_name(RecClipInfo *info, const char *camera, int64_t wall_ns)
{
    char stamp[32];

    cw_time_format(wall_ns, CW_TIME_NAME, stamp, sizeof(stamp));
    cw_time_format(wall_ns, CW_TIME_DAY, info->day, sizeof(info->day));
    snprintf(info->camera, sizeof(info->camera), "%s", camera);
    return rec_path_fmt(info->name, sizeof(info->name), "%s-%s", camera, stamp);
}

/* Append-only JSON writer into a fixed buffer; `overflow` sticks. */
typedef struct JsonBuf {
    char *buf;
    size_t size, len;
    int overflow;
} JsonBuf;

static void json_raw(JsonBuf *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void json_raw(JsonBuf *j, const char *fmt, ...)
{
    va_list ap;
    if (j->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, j->size - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->size - j->len) {
        j->overflow = 1;
        return;
    }
    j->len += (size_t)n;
}

/* A JSON string, or null. Control characters, quotes and backslashes are
 * escaped; other bytes (UTF-8) pass through unchanged. */
static void json_string(JsonBuf *j, const char *s)
{
    if (!s) {
        json_raw(j, "null");
        return;
    }
    json_raw(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            json_raw(j, "\\\"");
            break;
        case '\\':
            json_raw(j, "\\\\");
            break;
        case '\n':
            json_raw(j, "\\n");
            break;
        case '\r':
            json_raw(j, "\\r");
            break;
        case '\t':
            json_raw(j, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                json_raw(j, "\\u%04x", *p);
            else
                json_raw(j, "%c", *p);
        }
    }
    json_raw(j, "\"");
}

/* A number with `decimals` places; JSON has no NaN or infinity. */
static void json_number(JsonBuf *j, double v, int decimals)
{
    if (!isfinite(v))
        json_raw(j, "null");
    else
        json_raw(j, "%.*f", decimals, v);
}

int rec_sidecar_format(char *buf, size_t size, const RecClipInfo *info, const char *video,
                       const char *snapshot)
{
    JsonBuf j = {.buf = buf, .size = size};
    char start[48], end[48], motion[48];

    cw_time_format(info->start_ns, CW_TIME_ISO_LOCAL, start, sizeof(start));
    cw_time_format(info->end_ns, CW_TIME_ISO_LOCAL, end, sizeof(end));
    cw_time_format(info->motion_start_ns, CW_TIME_ISO_LOCAL, motion, sizeof(motion));

    json_raw(&j, "{\n  \"camera\": ");
    json_string(&j, info->camera);
    json_raw(&j, ",\n  \"video\": ");
    json_string(&j, video);
    json_raw(&j, ",\n  \"snapshot\": ");
    json_string(&j, snapshot);
    json_raw(&j, ",\n  \"start\": ");
    json_string(&j, start);
    json_raw(&j, ",\n  \"end\": ");
    json_string(&j, end);
    json_raw(&j, ",\n  \"motion_start\": ");
    json_string(&j, motion);
    json_raw(&j, ",\n  \"pre_capture_seconds\": ");
    json_number(&j, (double)(info->motion_start_ns - info->start_ns) / CW_NS_PER_SEC, 3);
    json_raw(&j, ",\n  \"duration_seconds\": ");
    json_number(&j, info->duration_s, 3);
    json_raw(&j, ",\n  \"peak_changed_percent\": ");
    if (info->peak_changed_percent < 0)
        json_raw(&j, "null");
    else
        json_number(&j, info->peak_changed_percent, 2);
    json_raw(&j, ",\n  \"boxes\": [");
    for (int i = 0; i < info->box_count; i++) {
        const CwBox *b = &info->boxes[i];
        json_raw(&j, "%s[%u, %u, %u, %u]", i ? ", " : "", b->x, b->y, b->w, b->h);
    }
    json_raw(&j, "],\n  \"width\": %d,\n  \"height\": %d,\n  \"codec\": ", info->width,
             info->height);
    json_string(&j, info->codec);
    json_raw(&j, ",\n  \"cut_short\": ");
    json_string(&j, info->cut_short);
    json_raw(&j, "\n}\n");
    return j.overflow ? -ENOSPC : (int)j.len;
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
