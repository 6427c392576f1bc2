#define _GNU_SOURCE
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A label value as the format wants it: backslash, quote and newline escaped. */
static void put_label(FILE *out, const char *value)
{
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else
            fputc(*c, out);
    }
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One sample: `name{camera="...",k="v"...} value`. `labels` holds pairs of
 * key and value, NULL-terminated. A value that is not a number (null: not
 * known) gives no sample, as the format has no null.
 */
static void sample(FILE *out, const char *name, const char *camera, const cJSON *value,
                   const char *const *labels)
{
    double v;
    if (cJSON_IsNumber(value))
        v = value->valuedouble;
    else if (cJSON_IsBool(value))
        v = cJSON_IsTrue(value);
    else
        return;
    fprintf(out, "%s{camera=\"", name);
    put_label(out, camera);
    fputc('"', out);
    for (int i = 0; labels && labels[i]; i += 2) {
        fprintf(out, ",%s=\"", labels[i]);
        put_label(out, labels[i + 1]);
        fputc('"', out);
    }
    fprintf(out, "} %.17g\n", v);
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *text(const cJSON *obj, const char *key)
{
    const cJSON *item = get(obj, key);
    return cJSON_IsString(item) ? item->valuestring : "";
}

char *http_metrics_text(const cJSON *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    const char *camera = text(status, "camera");
    const cJSON *item, *cam = get(status, "camera_state");

    family(out, "camwatch_camera_online", "gauge", "1 while the camera delivers video");
    sample(out, "camwatch_camera_online", camera, get(cam, "online"), NULL);
    family(out, "camwatch_camera_failed_attempts", "gauge",
           "failed connects in the current camera outage");
    sample(out, "camwatch_camera_failed_attempts", camera, get(cam, "failed_attempts"), NULL);

    /* What capture reported of the camera's stream (and, with DETECT_URL,
     * of the sub-stream), as counters that run across reconnects. */
    const char *const stream_keys[] = {"stream", "sub_stream"};
    const char *const stream_names[] = {"main", "sub"};
    const char *const stream_figs[][4] = {
        {"camwatch_stream_bytes_total", "counter", "bytes", "bytes received from the camera"},
        {"camwatch_stream_packets_total", "counter", "packets", "packets received from the camera"},
        {"camwatch_stream_packets_lost_total", "counter", "packets_lost",
         "RTP packets that never arrived"},
        {"camwatch_stream_reconnects_total", "counter", "reconnects",
         "connections to the camera after the first"},
        {"camwatch_stream_bitrate_kbps", "gauge", "bitrate_kbps", "over the last second"},
        {"camwatch_stream_connected", "gauge", "connected", "1 while capture is connected"},
    };
    for (size_t f = 0; f < sizeof(stream_figs) / sizeof(stream_figs[0]); f++) {
        family(out, stream_figs[f][0], stream_figs[f][1], stream_figs[f][3]);
        for (int k = 0; k < 2; k++) {
            const char *const l[] = {"stream", stream_names[k], NULL};
            sample(out, stream_figs[f][0], camera,
                   get(get(status, stream_keys[k]), stream_figs[f][2]), l);
        }
    }

    family(out, "camwatch_fps", "gauge",
           "frames a second: input (packets received), decoded, analysed");
    const char *const kinds[] = {"input", "decoded", "analysed"};
    for (int i = 0; i < 3; i++) {
        const char *const l[] = {"kind", kinds[i], NULL};
        sample(out, "camwatch_fps", camera, get(get(status, "fps"), kinds[i]), l);
    }

    family(out, "camwatch_stage_up", "gauge", "1 while the stage runs");
    cJSON_ArrayForEach(item, get(status, "stages"))
    {
        const char *const l[] = {"stage", text(item, "name"), NULL};
        cJSON *up = cJSON_CreateBool(strcmp(text(item, "state"), "running") == 0);
        sample(out, "camwatch_stage_up", camera, up, l);
        cJSON_Delete(up);
    }
    family(out, "camwatch_stage_restarts_total", "counter", "restarts of the stage");
    cJSON_ArrayForEach(item, get(status, "stages"))
    {
        const char *const l[] = {"stage", text(item, "name"), NULL};
        sample(out, "camwatch_stage_restarts_total", camera, get(item, "restarts"), l);
    }
    family(out, "camwatch_stage_heartbeat_age_seconds", "gauge",
           "time since the stage's last sign of life");
    cJSON_ArrayForEach(item, get(status, "stages"))
    {
        const char *const l[] = {"stage", text(item, "name"), NULL};
        sample(out, "camwatch_stage_heartbeat_age_seconds", camera,
               get(item, "heartbeat_age_seconds"), l);
    }

    family(out, "camwatch_ring_published_total", "counter", "slots published into the ring");
    cJSON_ArrayForEach(item, get(status, "rings"))
    {
        const char *const l[] = {"ring", text(item, "ring"), NULL};
        sample(out, "camwatch_ring_published_total", camera, get(item, "published"), l);
    }
    const char *const counters[][3] = {
        {"consumed", "slots the reader accepted", "_total"},
        {"overruns", "slots the reader lost to the writer", "_total"},
        {"lag", "slots published that the reader has not read yet", "_slots"}};
    for (int c = 0; c < 3; c++) {
        char name[64];
        snprintf(name, sizeof(name), "camwatch_ring_reader_%s%s", counters[c][0], counters[c][2]);
        family(out, name, c < 2 ? "counter" : "gauge", counters[c][1]);
        cJSON_ArrayForEach(item, get(status, "rings"))
        {
            const cJSON *reader;
            cJSON_ArrayForEach(reader, get(item, "readers"))
            {
                const char *const l[] = {"ring", text(item, "ring"), "role", text(reader, "role"),
                                         NULL};
                sample(out, name, camera, get(reader, counters[c][0]), l);
            }
        }
    }

    family(out, "camwatch_motion_events_total", "counter", "motion events detection saw begin");
    sample(out, "camwatch_motion_events_total", camera, get(status, "motion_events"), NULL);
    family(out, "camwatch_clips_today", "gauge", "clips delivered today (local date)");
    sample(out, "camwatch_clips_today", camera, get(get(status, "clips"), "today"), NULL);
    family(out, "camwatch_disk_free_bytes", "gauge", "free space where clips are delivered");
    sample(out, "camwatch_disk_free_bytes", camera, get(get(status, "disk"), "free_bytes"), NULL);
    family(out, "camwatch_disk_total_bytes", "gauge", "size of the filesystem of VIDEO_DIR");
    sample(out, "camwatch_disk_total_bytes", camera, get(get(status, "disk"), "total_bytes"), NULL);

    if (fclose(out) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
