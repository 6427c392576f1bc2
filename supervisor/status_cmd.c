#include "status_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "program.h"
#include "status.h"

#define STATUS_ERROR_MAX 2048

static const char *text_of(const cJSON *obj, const char *key, const char *none)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : none;
}

/* A number as text, or `none` for null/missing. Returns buf. */
static const char *num_of(const cJSON *obj, const char *key, const char *fmt, char *buf,
                          size_t size, const char *none)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item))
        return none;
    snprintf(buf, size, fmt, item->valuedouble);
    return buf;
}

/* One line for what capture reported of a stream ("stream", "sub_stream"). */
static void print_stream(const cJSON *st, const char *key, const char *label)
{
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(st, key);
    if (!cJSON_IsObject(s))
        return;
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(s, "bytes");
    snprintf(f, sizeof(f), "%.1f", cJSON_IsNumber(bytes) ? bytes->valuedouble / 1e6 : 0);
    printf("%s: %s over %s, %s fps, %s kbit/s; %s connections (%s reconnects); %s packets, %s "
           "MB, %s lost\n",
           label,
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "connected")) ? "connected"
                                                                          : "not connected",
           text_of(s, "transport", "-"), num_of(s, "input_fps", "%.1f", a, sizeof(a), "-"),
           num_of(s, "bitrate_kbps", "%.0f", b, sizeof(b), "-"),
           num_of(s, "connections", "%.0f", c, sizeof(c), "?"),
           num_of(s, "reconnects", "%.0f", d, sizeof(d), "?"),
           num_of(s, "packets", "%.0f", e, sizeof(e), "?"), f,
           num_of(s, "packets_lost", "%.0f", g, sizeof(g), "?"));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(s, "last_error");
    if (cJSON_IsObject(err))
        printf("%s: last error at %s: %s\n", label, text_of(err, "at", "?"),
               text_of(err, "message", "?"));
}

/* The same document as --json, for a person. */
static void print_text(const cJSON *st)
{
    char a[32], b[32], c[32], d[32];
    const cJSON *sup = cJSON_GetObjectItemCaseSensitive(st, "supervisor");
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(st, "camera_state");
    printf("camera %s\n", text_of(st, "camera", "?"));
    if (cJSON_IsObject(sup))
        printf("supervisor pid %s, up %s s\n", num_of(sup, "pid", "%.0f", a, sizeof(a), "?"),
               num_of(sup, "uptime_seconds", "%.0f", b, sizeof(b), "?"));
    else
        printf("supervisor: none (stages started by hand or by compose)\n");
    if (cJSON_IsObject(cam))
        printf("camera %s since %s (%s failed attempts)\n",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cam, "online")) ? "online" : "offline",
               text_of(cam, "since", "?"),
               num_of(cam, "failed_attempts", "%.0f", a, sizeof(a), "0"));
    print_stream(st, "stream", "stream");
    print_stream(st, "sub_stream", "sub-stream");
    printf("\n%-27s %-10s %-8s %-9s %-8s %-10s %s\n", "stage", "state", "pid", "uptime", "restarts",
           "heartbeat", "last exit");
    const cJSON *stage;
    cJSON_ArrayForEach(stage, cJSON_GetObjectItemCaseSensitive(st, "stages"))
    {
        const cJSON *last = cJSON_GetObjectItemCaseSensitive(stage, "last_exit");
        char exit_text[96] = "-";
        if (cJSON_IsObject(last))
            snprintf(
                exit_text, sizeof(exit_text), "%s at %s",
                text_of(last, "signal", num_of(last, "status", "exit %.0f", d, sizeof(d), "?")),
                text_of(last, "at", "?"));
        printf("%-27s %-10s %-8s %-9s %-8s %-10s %s\n", text_of(stage, "name", "?"),
               text_of(stage, "state", "?"), num_of(stage, "pid", "%.0f", a, sizeof(a), "-"),
               num_of(stage, "uptime_seconds", "%.0f s", b, sizeof(b), "-"),
               num_of(stage, "restarts", "%.0f", c, sizeof(c), "-"),
               num_of(stage, "heartbeat_age_seconds", "%.1f s ago", d, sizeof(d), "-"), exit_text);
    }
    const cJSON *fps = cJSON_GetObjectItemCaseSensitive(st, "fps");
    printf("\nfps: input %s, decoded %s, analysed %s\n",
           num_of(fps, "input", "%.1f", a, sizeof(a), "-"),
           num_of(fps, "decoded", "%.1f", b, sizeof(b), "-"),
           num_of(fps, "analysed", "%.1f", c, sizeof(c), "-"));
    const cJSON *ring;
    cJSON_ArrayForEach(ring, cJSON_GetObjectItemCaseSensitive(st, "rings"))
    {
        printf("ring %-8s %s published;", text_of(ring, "ring", "?"),
               num_of(ring, "published", "%.0f", a, sizeof(a), "?"));
        const cJSON *reader;
        cJSON_ArrayForEach(reader, cJSON_GetObjectItemCaseSensitive(ring, "readers"))
        {
            char d[32];
            printf(" %s: %s read, %s behind, %s overruns;", text_of(reader, "role", "?"),
                   num_of(reader, "consumed", "%.0f", b, sizeof(b), "?"),
                   num_of(reader, "lag", "%.0f", d, sizeof(d), "?"),
                   num_of(reader, "overruns", "%.0f", c, sizeof(c), "?"));
        }
        printf("\n");
    }
    const cJSON *clips = cJSON_GetObjectItemCaseSensitive(st, "clips");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(clips, "last");
    printf("\nclips today: %s; last: %s (%s)\n", num_of(clips, "today", "%.0f", a, sizeof(a), "?"),
           text_of(last, "video", "none"), text_of(last, "delivered", "-"));
    const cJSON *disk = cJSON_GetObjectItemCaseSensitive(st, "disk");
    if (cJSON_IsObject(disk)) {
        const cJSON *free_b = cJSON_GetObjectItemCaseSensitive(disk, "free_bytes");
        printf("disk: %.1f GiB free (%s %%) in %s\n",
               cJSON_IsNumber(free_b) ? free_b->valuedouble / (1 << 30) : 0.0,
               num_of(disk, "free_percent", "%.1f", b, sizeof(b), "?"), text_of(disk, "path", "?"));
    }
}

int sup_status_main(int argc, char **argv)
{
    static CwConfig cfg;
    char err[STATUS_ERROR_MAX];
    CwRing *rings[CW_RING_KIND_COUNT] = {NULL};
    cJSON *status = NULL;
    char *text = NULL;
    bool json = false;
    int ret, exit_code = CW_EXIT_SOFTWARE;

    cw_log_init("camwatch");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: camwatch status [--json]\n\n"
                   "What the camwatch of this camera (CAMERA_NAME, from the environment or\n"
                   ".env, as for camwatch itself) is doing, read from its shared memory and\n"
                   "VIDEO_DIR: stages, camera, fps, rings, clips, disk.\n"
                   "Exit status: 0, 69 not running, 78 configuration error.\n");
            return CW_EXIT_OK;
        } else {
            fprintf(stderr, "camwatch status: unknown argument \"%s\" (see --help)\n", argv[i]);
            return CW_EXIT_USAGE;
        }
    }
    if (cw_config_load(&cfg, err, sizeof(err)) < 0) {
        cw_log(CW_LOG_CRITICAL, "%s", err);
        return CW_EXIT_CONFIG;
    }
    ret = cw_status_open(&cfg, rings, err, sizeof(err));
    if (ret == -ENOENT) {
        fprintf(stderr,
                "camwatch status: camera %s is not running (no shared memory "
                "/dev/shm/camwatch.%s.*)\n",
                cfg.camera, cfg.camera);
        exit_code = SUP_EXIT_NOT_RUNNING;
        goto end;
    }
    if (ret < 0) {
        fprintf(stderr, "camwatch status: %s\n", err);
        exit_code = ret == -EACCES ? CW_EXIT_CONFIG : CW_EXIT_SOFTWARE;
        goto end;
    }
    status = cw_status_json(&cfg, rings);
    if (!status || !(text = cJSON_Print(status))) {
        fprintf(stderr, "camwatch status: out of memory\n");
        goto end;
    }
    if (json)
        printf("%s\n", text);
    else
        print_text(status);
    exit_code = CW_EXIT_OK;

end:
    free(text);
    cJSON_Delete(status);
    cw_status_close(rings);
    return exit_code;
}
