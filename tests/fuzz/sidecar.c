/*
 * Fuzz target: the JSON sidecar (rec_sidecar_format, record/sidecar.c).
 * Nothing in camwatch reads sidecars yet; other programs do. So the writer
 * gets fuzzed field values, and its output is parsed back with cJSON.
 *
 * Properties: the output is one JSON object (and nothing after it), and
 * every field reads back as what was written: the strings byte for byte,
 * the integers exactly, numbers as their fixed-point text, null where the
 * contract says null.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "sidecar.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>

static const char *const cuts[] = {NULL,
                                   REC_CUT_CAMERA_LOST,
                                   REC_CUT_CRASH,
                                   REC_CUT_MAX_LENGTH,
                                   REC_CUT_SHUTDOWN,
                                   REC_CUT_DISK_FULL,
                                   REC_CUT_WRITE_ERROR};

static double fuzz_double(FuzzInput *in)
{
    uint64_t bits = fuzz_u64(in, 8);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

static void copy_string(char *dst, size_t size, FuzzInput *in)
{
    char *s = fuzz_string(in, size - 1);
    FUZZ_ASSERT(s, "out of memory");
    snprintf(dst, size, "%s", s);
    free(s);
}

static void expect_string(const cJSON *root, const char *name, const char *want)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    FUZZ_ASSERT(item, "no \"%s\"", name);
    if (!want) {
        FUZZ_ASSERT(cJSON_IsNull(item), "\"%s\" is not null", name);
        return;
    }
    FUZZ_ASSERT(cJSON_IsString(item) && strcmp(item->valuestring, want) == 0,
                "\"%s\" reads back as \"%s\", was \"%s\"", name,
                cJSON_IsString(item) ? item->valuestring : "(not a string)", want);
}

static void expect_int(const cJSON *root, const char *name, int want)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    FUZZ_ASSERT(cJSON_IsNumber(item) && item->valuedouble == (double)want,
                "\"%s\" does not read back as %d", name, want);
}

/* A number written with `decimals` places (or null if not finite, or if its
 * text would not fit 63 characters, as in sidecar.c). */
static void expect_fixed(const cJSON *root, const char *name, double v, int decimals)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    char text[64];
    FUZZ_ASSERT(item, "no \"%s\"", name);
    if (!isfinite(v) || snprintf(text, sizeof(text), "%.*f", decimals, v) >= (int)sizeof(text)) {
        FUZZ_ASSERT(cJSON_IsNull(item), "\"%s\" of %g is not null", name, v);
        return;
    }
    FUZZ_ASSERT(cJSON_IsNumber(item) && item->valuedouble == strtod(text, NULL),
                "\"%s\" reads back as %.17g, was written as %s", name, item->valuedouble, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    RecClipInfo info;
    char video[256], snapshot[256];
    char buf[8192];

    memset(&info, 0, sizeof(info));
    int has_snapshot = (int)fuzz_u64(&in, 1) & 1;
    info.cut_short = cuts[fuzz_u64(&in, 1) % (sizeof(cuts) / sizeof(cuts[0]))];
    info.start_ns = (int64_t)fuzz_u64(&in, 8);
    info.end_ns = (int64_t)fuzz_u64(&in, 8);
    info.motion_start_ns = (int64_t)fuzz_u64(&in, 8);
    info.duration_s = fuzz_double(&in);
    info.peak_changed_percent = fuzz_double(&in);
    info.width = (int)fuzz_u64(&in, 4);
    info.height = (int)fuzz_u64(&in, 4);
    info.box_count = (int)(fuzz_u64(&in, 1) % (CW_MAX_BOXES + 1));
    for (int i = 0; i < info.box_count; i++) {
        info.boxes[i].x = (uint16_t)fuzz_u64(&in, 2);
        info.boxes[i].y = (uint16_t)fuzz_u64(&in, 2);
        info.boxes[i].w = (uint16_t)fuzz_u64(&in, 2);
        info.boxes[i].h = (uint16_t)fuzz_u64(&in, 2);
    }
    copy_string(info.camera, sizeof(info.camera), &in);
    copy_string(info.codec, sizeof(info.codec), &in);
    copy_string(video, sizeof(video), &in);
    copy_string(snapshot, sizeof(snapshot), &in);

    int len = rec_sidecar_format(buf, sizeof(buf), &info, video, has_snapshot ? snapshot : NULL);
    FUZZ_ASSERT(len > 0, "rec_sidecar_format returned %d", len);
    FUZZ_ASSERT((size_t)len == strlen(buf) && buf[len - 1] == '\n', "not one line-terminated text");

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(buf, &end, 0);
    FUZZ_ASSERT(root && cJSON_IsObject(root), "not a JSON object: %s", buf);
    while (*end == '\n' || *end == ' ')
        end++;
    FUZZ_ASSERT(!*end, "text after the object: %s", end);

    expect_string(root, "camera", info.camera);
    expect_string(root, "video", video);
    expect_string(root, "snapshot", has_snapshot ? snapshot : NULL);
    expect_string(root, "codec", info.codec);
    expect_string(root, "cut_short", info.cut_short);
    const char *times[] = {"start", "end", "motion_start"};
    for (int i = 0; i < 3; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, times[i]);
        FUZZ_ASSERT(cJSON_IsString(t), "\"%s\" is not a string", times[i]);
    }
    int64_t pre_ns;
    double pre_s = __builtin_sub_overflow(info.motion_start_ns, info.start_ns, &pre_ns)
                       ? ((double)info.motion_start_ns - (double)info.start_ns) / 1e9
                       : (double)pre_ns / 1e9;
    expect_fixed(root, "pre_capture_seconds", pre_s, 3);
    expect_fixed(root, "duration_seconds", info.duration_s, 3);
    if (info.peak_changed_percent < 0)
        FUZZ_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "peak_changed_percent")),
                    "peak_changed_percent of %g is not null", info.peak_changed_percent);
    else
        expect_fixed(root, "peak_changed_percent", info.peak_changed_percent, 2);
    expect_int(root, "width", info.width);
    expect_int(root, "height", info.height);
    const cJSON *boxes = cJSON_GetObjectItemCaseSensitive(root, "boxes");
    FUZZ_ASSERT(cJSON_IsArray(boxes) && cJSON_GetArraySize(boxes) == info.box_count,
                "boxes: not an array of %d", info.box_count);
    for (int i = 0; i < info.box_count; i++) {
        const cJSON *b = cJSON_GetArrayItem(boxes, i);
        const int want[4] = {info.boxes[i].x, info.boxes[i].y, info.boxes[i].w, info.boxes[i].h};
        FUZZ_ASSERT(cJSON_IsArray(b) && cJSON_GetArraySize(b) == 4, "box %d is not [x, y, w, h]",
                    i);
        for (int k = 0; k < 4; k++)
            FUZZ_ASSERT(cJSON_GetArrayItem(b, k)->valuedouble == want[k],
                        "box %d field %d reads back as %g, was %d", i, k,
                        cJSON_GetArrayItem(b, k)->valuedouble, want[k]);
    }
    cJSON_Delete(root);
    return 0;
}
