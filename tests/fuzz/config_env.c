/*
 * Fuzz target: environment values through the configuration loader
 * (cw_config_load, common/config.c). The variables are the ones
 * `--help` lists (cw_config_print_help), so rows added to the table are
 * fuzzed without a change here.
 *
 * Input: records separated by NUL bytes; the first byte of a record picks
 * a variable, the rest is its value (newlines and any other byte allowed).
 * Before them, RTSP_URL carries a known password and VIDEO_DIR is set, so
 * the loader gets past the required variables.
 *
 * Properties: it returns 0 or -EINVAL (or -ENOMEM); a failure comes with
 * exactly one line of message naming a variable; the URL's password is in
 * no message; what it accepted is within the field sizes.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "config.h"
#include "url.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_VARS 64

static char *var_names[MAX_VARS];
static int var_count;

/* The variable names, read from what --help prints. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fflush(stdout);
    int fd = memfd_create("help", 0), saved = dup(1);
    if (fd < 0 || saved < 0 || dup2(fd, 1) < 0)
        abort();
    cw_config_print_help("camwatch");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fdopen(fd, "r");
    if (!f)
        abort();
    rewind(f);
    char line[1024], name[128];
    while (fgets(line, sizeof(line), f) && var_count < MAX_VARS)
        if (sscanf(line, "  %127[A-Z0-9_]", name) == 1)
            var_names[var_count++] = strdup(name);
    fclose(f);
    if (var_count < 10) {
        fprintf(stderr, "config_env: --help listed only %d variables\n", var_count);
        abort();
    }
    return 0;
}

static bool names_variable(const char *msg)
{
    for (int i = 0; i < var_count; i++)
        if (strstr(msg, var_names[i]))
            return true;
    return strstr(msg, "ENV_FILE") != NULL;
}

static void assert_terminated(const char *field, size_t size, const char *what)
{
    FUZZ_ASSERT(strnlen(field, size) < size, "%s is not terminated", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    CwConfig cfg;
    char err[512];

    cw_url_clear_secrets();
    for (int i = 0; i < var_count; i++)
        unsetenv(var_names[i]);
    setenv("ENV_FILE", "/dev/null", 1);
    setenv("RTSP_URL", "rtsp://admin:Fuzz-Secret-77@cam.local/stream", 1);
    setenv("VIDEO_DIR", "/tmp/camwatch-fuzz-video", 1);
    while (in.left) {
        int var = (int)(fuzz_u64(&in, 1) % (uint64_t)var_count);
        char *value = fuzz_string(&in, 4096);
        FUZZ_ASSERT(value, "out of memory");
        setenv(var_names[var], value, 1);
        free(value);
    }
    /* The URL the loader will read, with the password it registers. */
    const char *url = getenv("RTSP_URL");
    const char *pw = NULL;
    size_t pw_len = 0;
    bool has_pw = url && cw_url_password(url, url + strlen(url), &pw, &pw_len) && pw_len >= 4 &&
                  !memchr(pw, '*', pw_len);

    memset(err, 0, sizeof(err));
    int ret = cw_config_load(&cfg, err, sizeof(err));
    FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "returned %d (%s)", ret, err);
    if (ret < 0) {
        FUZZ_ASSERT(err[0], "failed (%d) without a message", ret);
        FUZZ_ASSERT(!strchr(err, '\n') && !strchr(err, '\r'), "message of more than a line: %s",
                    err);
        FUZZ_ASSERT(names_variable(err), "message names no variable: %s", err);
        /* The password of the URL the loader read (a record may replace the
         * default one), whatever variable the message quotes. The variable's
         * name that begins the message is never masked: a password such as
         * "_URL" may be part of it without leaking anything. */
        const char *quoted = err + strspn(err, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (has_pw)
            FUZZ_ASSERT(!memmem(quoted, strlen(quoted), pw, pw_len), "password %.*s leaks: %s",
                        (int)pw_len, pw, err);
        return 0;
    }
    assert_terminated(cfg.rtsp_url, sizeof(cfg.rtsp_url), "RTSP_URL");
    assert_terminated(cfg.video_dir, sizeof(cfg.video_dir), "VIDEO_DIR");
    assert_terminated(cfg.staging_dir, sizeof(cfg.staging_dir), "STAGING_DIR");
    assert_terminated(cfg.camera, sizeof(cfg.camera), "CAMERA_NAME");
    assert_terminated(cfg.rtsp_transport, sizeof(cfg.rtsp_transport), "RTSP_TRANSPORT");
    assert_terminated(cfg.on_clip_ready, sizeof(cfg.on_clip_ready), "ON_CLIP_READY");
    FUZZ_ASSERT(cfg.camera[0], "accepted an empty camera name");
    for (const char *c = cfg.camera; *c; c++)
        FUZZ_ASSERT((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                        (*c >= '0' && *c <= '9') || *c == '-' || *c == '_',
                    "camera name \"%s\" holds '%c'", cfg.camera, *c);
    FUZZ_ASSERT(cfg.retry_s > 0 && cfg.timeout_s > 0 && cfg.detect_fps > 0 && cfg.max_clip_s > 0 &&
                    cfg.pre_capture_s >= 0 && cfg.post_capture_s >= 0,
                "accepted a duration out of range");
    FUZZ_ASSERT(cfg.detect_width > 0 && cfg.decode_threads > 0 && cfg.packet_buffer_mb > 0 &&
                    cfg.frame_buffer_mb > 0 && cfg.motion_threshold >= 1 &&
                    cfg.motion_threshold <= 255,
                "accepted a size out of range");
    (void)cw_config_source_is_file(cfg.rtsp_url);
    return 0;
}
