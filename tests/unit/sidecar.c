/*
 * The clip's JSON sidecar (record/sidecar.c), parsed back with a real JSON
 * parser (cJSON): every field, its JSON type and its value, the escaping of
 * awkward names, the nulls, and a buffer too small.
 */
#include "check.h"
#include "clock.h"

#include "../../record/sidecar.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

/* 2026-11-26 13:33:20.123 UTC */
#define T0 (1795700000LL * CW_NS_PER_SEC + 123 * CW_NS_PER_MSEC)

static const char *const fields[] = {
    "camera",
    "video",
    "snapshot",
    "start",
    "end",
    "motion_start",
    "pre_capture_seconds",
    "duration_seconds",
    "peak_changed_percent",
    "boxes",
    "width",
    "height",
    "codec",
    "cut_short",
    "snapshot_source",
    "boxes_frame",
    "detect_width",
    "detect_height",
    "zones",
    "record_mode",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static CwPolygonSet zone_set;

static RecClipInfo clip_info(void)
{
    char err[256];
    CHECK(cw_polygons_parse("MOTION_ZONES",
                            "door:0,0 0.5,0 0.5,0.5; drive:0.5,0.5 1,0.5 1,1; "
                            "gate:0,0.5 0.5,0.5 0,1",
                            true, &zone_set, err, sizeof(err)) == 0);
    RecClipInfo info;
    memset(&info, 0, sizeof(info));
    CHECK(rec_clip_name(&info, "porch", T0 + 5 * CW_NS_PER_SEC) == 0);
    info.start_ns = T0;
    info.motion_start_ns = T0 + 5 * CW_NS_PER_SEC;
    info.end_ns = T0 + 35 * CW_NS_PER_SEC + 500 * CW_NS_PER_MSEC;
    info.duration_s = 35.4996;
    info.peak_changed_percent = 12.3456;
    info.box_count = 2;
    info.boxes[0] = (CwBox){10, 20, 300, 400};
    info.boxes[1] = (CwBox){0, 0, 65535, 1};
    info.width = 1920;
    info.height = 1080;
    snprintf(info.codec, sizeof(info.codec), "h264");
    info.cut_short = REC_CUT_CAMERA_LOST;
    info.snapshot_source = REC_SNAPSHOT_SUB;
    info.detect_width = 640;
    info.detect_height = 360;
    info.zone_set = &zone_set;
    info.zones = 1u << 0 | 1u << 2; /* door and gate */
    info.record_mode = REC_RECORD_ANNOTATED;
    return info;
}

/* Render and parse back; the text must end in one newline. */
static cJSON *render(const RecClipInfo *info, const char *video, const char *snapshot)
{
    char buf[4096];
    int len = rec_sidecar_format(buf, sizeof(buf), info, video, snapshot);
    CHECK(len > 0 && (size_t)len == strlen(buf));
    CHECK(buf[len - 1] == '\n' && buf[len - 2] == '}');
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(buf, &end, 1);
    if (!root) {
        fprintf(stderr, "not JSON near: %s\n", cJSON_GetErrorPtr());
        exit(1);
    }
    CHECK(cJSON_IsObject(root));
    return root;
}

static const cJSON *field(const cJSON *root, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v) {
        fprintf(stderr, "no field \"%s\"\n", name);
        exit(1);
    }
    return v;
}

static void check_string(const cJSON *root, const char *name, const char *want)
{
    const cJSON *v = field(root, name);
    if (!cJSON_IsString(v) || strcmp(v->valuestring, want)) {
        fprintf(stderr, "\"%s\": %s, expected the string \"%s\"\n", name, cJSON_Print(v), want);
        exit(1);
    }
}

/* A number written with `decimals` places: its value, and its text (a
 * reader must see a fraction, never an integer, where one is promised). */
static void check_fixed(const cJSON *root, const char *text, const char *name, double want,
                        const char *want_text)
{
    const cJSON *v = field(root, name);
    CHECK(cJSON_IsNumber(v));
    if (fabs(v->valuedouble - want) > 1e-9) {
        fprintf(stderr, "\"%s\": %.9f, expected %.9f\n", name, v->valuedouble, want);
        exit(1);
    }
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = strstr(text, key);
    CHECK(p);
    p += strlen(key);
    p += strspn(p, " \t\r\n");
    size_t n = strcspn(p, ", \t\r\n}");
    if (n != strlen(want_text) || strncmp(p, want_text, n)) {
        fprintf(stderr, "\"%s\" is written as %.*s, expected %s\n", name, (int)n, p, want_text);
        exit(1);
    }
}

static void check_int(const cJSON *root, const char *name, int want)
{
    const cJSON *v = field(root, name);
    CHECK(cJSON_IsNumber(v));
    CHECK_EQ_U64(v->valuedouble, want);
    CHECK(v->valuedouble == (double)v->valueint);
}

static void check_null(const cJSON *root, const char *name)
{
    if (!cJSON_IsNull(field(root, name))) {
        fprintf(stderr, "\"%s\" is not null\n", name);
        exit(1);
    }
}

/* Every field, in a time zone east of UTC. */
static void test_every_field(void)
{
    setenv("TZ", "CET-1", 1);
    tzset();
    RecClipInfo info = clip_info();
    char text[4096];
    CHECK(rec_sidecar_format(text, sizeof(text), &info, "porch-20261126-143325.mp4",
                             "porch-20261126-143325.jpg") > 0);
    cJSON *root = render(&info, "porch-20261126-143325.mp4", "porch-20261126-143325.jpg");

    /* Exactly these fields, in this order. */
    const cJSON *item = root->child;
    for (size_t i = 0; i < NFIELDS; i++, item = item->next) {
        CHECK(item);
        if (strcmp(item->string, fields[i])) {
            fprintf(stderr, "field %zu is \"%s\", expected \"%s\"\n", i, item->string, fields[i]);
            exit(1);
        }
    }
    CHECK(!item);

    check_string(root, "camera", "porch");
    check_string(root, "video", "porch-20261126-143325.mp4");
    check_string(root, "snapshot", "porch-20261126-143325.jpg");
    check_string(root, "start", "2026-11-26T14:33:20.123+01:00");
    check_string(root, "end", "2026-11-26T14:33:55.623+01:00");
    check_string(root, "motion_start", "2026-11-26T14:33:25.123+01:00");
    check_fixed(root, text, "pre_capture_seconds", 5.0, "5.000");
    check_fixed(root, text, "duration_seconds", 35.5, "35.500");
    check_fixed(root, text, "peak_changed_percent", 12.35, "12.35");

    const cJSON *boxes = field(root, "boxes");
    CHECK(cJSON_IsArray(boxes) && cJSON_GetArraySize(boxes) == 2);
    const int want[2][4] = {{10, 20, 300, 400}, {0, 0, 65535, 1}};
    for (int i = 0; i < 2; i++) {
        const cJSON *box = cJSON_GetArrayItem(boxes, i);
        CHECK(cJSON_IsArray(box) && cJSON_GetArraySize(box) == 4);
        for (int k = 0; k < 4; k++) {
            const cJSON *v = cJSON_GetArrayItem(box, k);
            CHECK(cJSON_IsNumber(v));
            CHECK_EQ_U64(v->valueint, want[i][k]);
        }
    }
    check_int(root, "width", 1920);
    check_int(root, "height", 1080);
    check_string(root, "codec", "h264");
    check_string(root, "cut_short", "camera_lost");
    check_string(root, "snapshot_source", "sub");
    check_string(root, "boxes_frame", "main");
    check_int(root, "detect_width", 640);
    check_int(root, "detect_height", 360);
    const cJSON *zones = field(root, "zones");
    CHECK(cJSON_IsArray(zones) && cJSON_GetArraySize(zones) == 2);
    CHECK(!strcmp(cJSON_GetArrayItem(zones, 0)->valuestring, "door"));
    CHECK(!strcmp(cJSON_GetArrayItem(zones, 1)->valuestring, "gate"));
    check_string(root, "record_mode", "annotated");
    /* The clip's name and folder come from the motion's local time. */
    CHECK(!strcmp(info.name, "porch-20261126-143325"));
    CHECK(!strcmp(info.day, "2026-11-26"));
    cJSON_Delete(root);
}

/* No snapshot, a normal end, no motion event, nothing finite: nulls. */
static void test_nulls(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    RecClipInfo info = clip_info();
    info.cut_short = NULL;
    info.peak_changed_percent = -1;
    info.duration_s = NAN;
    info.box_count = 0;
    cJSON *root = render(&info, "v.mp4", NULL);
    check_null(root, "snapshot");
    check_null(root, "snapshot_source"); /* no snapshot: no source, whatever was known */
    check_null(root, "detect_width");    /* no motion event */
    check_null(root, "cut_short");
    check_null(root, "peak_changed_percent");
    check_null(root, "duration_seconds");
    CHECK(cJSON_IsArray(field(root, "boxes")) && cJSON_GetArraySize(field(root, "boxes")) == 0);
    check_string(root, "start", "2026-11-26T13:33:20.123+00:00");
    cJSON_Delete(root);
    info.zones = 0; /* zones configured, none touched: an empty list */
    root = render(&info, "v.mp4", NULL);
    CHECK(cJSON_IsArray(field(root, "zones")) && cJSON_GetArraySize(field(root, "zones")) == 0);
    cJSON_Delete(root);
    info.zone_set = NULL; /* not known (a recovered clip) */
    info.record_mode = NULL;
    root = render(&info, "v.mp4", NULL);
    check_null(root, "zones");
    check_null(root, "record_mode");
    cJSON_Delete(root);
    info.duration_s = INFINITY;
    root = render(&info, "v.mp4", NULL);
    check_null(root, "duration_seconds");
    cJSON_Delete(root);
}

/* Every cut_short value there is comes back as written. */
static void test_cut_short_values(void)
{
    const char *const cuts[] = {REC_CUT_CAMERA_LOST, REC_CUT_CRASH,     REC_CUT_MAX_LENGTH,
                                REC_CUT_SHUTDOWN,    REC_CUT_DISK_FULL, REC_CUT_WRITE_ERROR};
    const char *const names[] = {"camera_lost", "crash",     "max_length",
                                 "shutdown",    "disk_full", "write_error"};
    for (int i = 0; i < 6; i++) {
        RecClipInfo info = clip_info();
        info.cut_short = cuts[i];
        cJSON *root = render(&info, "v.mp4", NULL);
        check_string(root, "cut_short", names[i]);
        cJSON_Delete(root);
    }
}

/* Quotes, backslashes, control characters and UTF-8 in names survive. */
static void test_escaping(void)
{
    RecClipInfo info = clip_info();
    const char *camera = "g\"a\\r\x01"
                         "age \xc3\xa9t\xc3\xa9\n";
    snprintf(info.camera, sizeof(info.camera), "%s", camera);
    cJSON *root = render(&info, "tab\there.mp4", "\x7f.jpg");
    check_string(root, "camera", camera);
    check_string(root, "video", "tab\there.mp4");
    check_string(root, "snapshot", "\x7f.jpg");
    cJSON_Delete(root);
}

/* A buffer too small is an error, never a truncated file. */
static void test_too_small(void)
{
    char buf[4096];
    RecClipInfo info = clip_info();
    int len = rec_sidecar_format(buf, sizeof(buf), &info, "v.mp4", NULL);
    CHECK(len > 0);
    /* Room for the text and its terminator is enough; one byte less is not. */
    char *exact = malloc((size_t)len + 1);
    CHECK(exact);
    CHECK(rec_sidecar_format(exact, (size_t)len + 1, &info, "v.mp4", NULL) == len);
    CHECK(!strcmp(exact, buf));
    CHECK(rec_sidecar_format(exact, (size_t)len, &info, "v.mp4", NULL) == -ENOSPC);
    CHECK(rec_sidecar_format(buf, 0, &info, "v.mp4", NULL) == -ENOSPC);
    free(exact);
}

int main(void)
{
    RUN(test_every_field);
    RUN(test_nulls);
    RUN(test_cut_short_values);
    RUN(test_escaping);
    RUN(test_too_small);
    return 0;
}
