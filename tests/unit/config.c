/* Configuration: defaults, every kind of bad value, .env handling, masked errors. */
#define _GNU_SOURCE
#include "check.h"
#include "config.h"
#include "log.h"
#include "url.h"

#include <errno.h>
#include <unistd.h>

static const char *const all_vars[] = {"RTSP_URL",
                                       "VIDEO_DIR",
                                       "STAGING_DIR",
                                       "CAMERA_NAME",
                                       "LOGLEVEL",
                                       "RTSP_TRANSPORT",
                                       "RETRY_SECONDS",
                                       "TIMEOUT_SECONDS",
                                       "PRE_CAPTURE_SECONDS",
                                       "POST_CAPTURE_SECONDS",
                                       "MAX_CLIP_SECONDS",
                                       "DETECT_FPS",
                                       "DETECT_WIDTH",
                                       "MOTION_THRESHOLD",
                                       "MOTION_MIN_AREA_PERCENT",
                                       "LIGHT_CHANGE_PERCENT",
                                       "MIN_MOTION_FRAMES",
                                       "MOTION_MASK",
                                       "MOTION_ZONES",
                                       "DECODE_THREADS",
                                       "HWACCEL",
                                       "PACKET_BUFFER_MB",
                                       "FRAME_BUFFER_MB",
                                       "ON_CLIP_READY",
                                       "RETAIN_DAYS",
                                       "RETAIN_MAX_GB",
                                       "MIN_FREE_PERCENT",
                                       "ENV_FILE",
                                       "FROM_ENV_FILE"};

static char tmpdir[] = "/tmp/camwatch-config-test-XXXXXX";

static void clean_env(void)
{
    for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
        unsetenv(all_vars[i]);
    setenv("ENV_FILE", "/nonexistent-is-checked-separately", 1);
    unsetenv("ENV_FILE");
    setenv("RTSP_URL", "rtsp://127.0.0.1:8554/cam", 1);
    setenv("VIDEO_DIR", "/tmp/video", 1);
}

static void expect_error(const char *var, const char *value, const char *needle)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    if (value)
        setenv(var, value, 1);
    else
        unsetenv(var);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, var);
    if (needle)
        CHECK_STR_CONTAINS(err, needle);
    CHECK(strchr(err, '\n') == NULL); /* one line */
}

static void test_defaults(void)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(strcmp(cfg.rtsp_url, "rtsp://127.0.0.1:8554/cam") == 0);
    CHECK(strcmp(cfg.video_dir, "/tmp/video") == 0);
    CHECK(strcmp(cfg.staging_dir, "/tmp/video/.staging") == 0);
    CHECK(strcmp(cfg.camera, "camera") == 0);
    CHECK(strcmp(cfg.rtsp_transport, "auto") == 0);
    CHECK(cfg.retry_s == 10 && cfg.pre_capture_s == 5 && cfg.post_capture_s == 25);
    CHECK(cfg.log_level == CW_LOG_INFO);
    CHECK(cfg.detect_width == 320 && cfg.motion_threshold == 25);
    /* Retention: nothing is deleted for age or total size unless asked;
     * the free-space floor is on. */
    CHECK(cfg.retain_days == 0 && cfg.retain_max_gb == 0 && cfg.min_free_percent == 10);
}

static void test_values(void)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    setenv("RETRY_SECONDS", "2.5", 1);
    setenv("LOGLEVEL", "debug", 1);
    setenv("CAMERA_NAME", "front-door_1", 1);
    setenv("RTSP_TRANSPORT", "udp", 1);
    setenv("STAGING_DIR", "/tmp/stage", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.retry_s == 2.5);
    CHECK(cfg.log_level == CW_LOG_DEBUG);
    CHECK(strcmp(cfg.camera, "front-door_1") == 0);
    CHECK(strcmp(cfg.rtsp_transport, "udp") == 0);
    CHECK(strcmp(cfg.staging_dir, "/tmp/stage") == 0);

    clean_env();
    setenv("RETAIN_DAYS", "30", 1);
    setenv("RETAIN_MAX_GB", "0.5", 1);
    setenv("MIN_FREE_PERCENT", "0", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.retain_days == 30 && cfg.retain_max_gb == 0.5 && cfg.min_free_percent == 0);
    /* Empty counts as unset: the defaults. */
    clean_env();
    setenv("RETAIN_DAYS", "", 1);
    setenv("MIN_FREE_PERCENT", "", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.retain_days == 0 && cfg.min_free_percent == 10);
    clean_env();
    setenv("MIN_FREE_PERCENT", "90", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.min_free_percent == 90);
}

static void test_errors(void)
{
    expect_error("RTSP_URL", NULL, "not set");
    expect_error("VIDEO_DIR", NULL, "not set");
    expect_error("VIDEO_DIR", "", "not set");
    expect_error("RETRY_SECONDS", "abc", "\"abc\" is not a number");
    expect_error("PRE_CAPTURE_SECONDS", "5s", "not a number");
    expect_error("POST_CAPTURE_SECONDS", "-1", "out of range");
    expect_error("TIMEOUT_SECONDS", "nan", "not a number");
    expect_error("DETECT_WIDTH", "320.5", "whole number");
    expect_error("MOTION_THRESHOLD", "300", "1 to 255");
    expect_error("LOGLEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR or CRITICAL");
    expect_error("RTSP_TRANSPORT", "quic", "tcp|udp");
    expect_error("HWACCEL", "cuda",
                 "HWACCEL=\"cuda\" is not accepted: use one of auto|none|vaapi|v4l2m2m|drm");
    expect_error("CAMERA_NAME", "front door", "letters, digits");
    expect_error("RTSP_URL", "ftp://cam/stream", "rtsp://");
    expect_error("RETAIN_DAYS", "1.5", "whole number from 0 to 36500");
    expect_error("RETAIN_DAYS", "-1", "from 0 to 36500");
    expect_error("RETAIN_DAYS", "7d", "not a whole number");
    expect_error("RETAIN_MAX_GB", "1GB", "not a number: use a number from 0 to 100000");
    expect_error("RETAIN_MAX_GB", "-0.5", "out of range");
    expect_error("MIN_FREE_PERCENT", "95", "from 0 to 90");
    expect_error("MIN_FREE_PERCENT", "10%", "not a number");
}

/* The detector's confirmation, mask and zones: defaults, values, limits.
 * The polygons' syntax is common/polygon.c's (tests/unit/polygon.c). */
static void test_detection_vars(void)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.min_motion_frames == 3);
    CHECK(cfg.motion_mask[0] == '\0' && cfg.motion_zones[0] == '\0');
    setenv("MIN_MOTION_FRAMES", "1", 1);
    setenv("MOTION_MASK", "0,0 0.3,0 0.3,0.3", 1);
    setenv("MOTION_ZONES", "door:0.5,0 1,0 1,1", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(cfg.min_motion_frames == 1);
    CHECK(strcmp(cfg.motion_mask, "0,0 0.3,0 0.3,0.3") == 0);
    CHECK(strcmp(cfg.motion_zones, "door:0.5,0 1,0 1,1") == 0);
    expect_error("MIN_MOTION_FRAMES", "0", "1 to 100");
    expect_error("MIN_MOTION_FRAMES", "2.5", "whole number");
    char long_mask[2100];
    memset(long_mask, '0', sizeof(long_mask) - 1);
    long_mask[sizeof(long_mask) - 1] = '\0';
    expect_error("MOTION_MASK", long_mask, "at most 2047");
    expect_error("MOTION_ZONES", long_mask, "at most 2047");
    /* A bad polygon stops every program at load, naming the polygon and
     * the point. */
    expect_error("MOTION_MASK", "0,0 1,0 1,1; 0,0 0.5,1.5 1,0", "polygon 2, point 2");
    expect_error("MOTION_ZONES", "door:0,0 1,0", "at least 3");
    expect_error("MOTION_ZONES", "0,0 1,0 1,1", "MOTION_ZONES");
}

/* A password in a URL never reaches an error message. */
static void test_error_masks_password(void)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    setenv("RTSP_URL", "ftp://admin:hunter2@cam.local/stream", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, "RTSP_URL");
    CHECK_STR_CONTAINS(err, "admin:***@");
    CHECK_STR_LACKS(err, "hunter2");
}

/* Passwords the URL pattern alone would miss: unencoded reserved
 * characters (refused, and still masked in the refusal) and query
 * parameters. */
static void test_awkward_passwords(void)
{
    CwConfig cfg;
    char err[1024], out[512];
    clean_env();
    setenv("RTSP_URL", "rtsp://admin:ab#cd12@127.0.0.1:554/stream", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, "RTSP_URL");
    CHECK_STR_CONTAINS(err, "%23");
    CHECK_STR_LACKS(err, "ab#cd12");
    cw_url_mask_credentials(
        "cannot open rtsp://admin:ab#cd12@127.0.0.1:554/stream: Invalid argument", out,
        sizeof(out));
    CHECK_STR_LACKS(out, "cd12");

    clean_env();
    setenv("RTSP_URL", "rtsp://10.0.0.9:554/cam/realmonitor?user=admin&password=Qz9secret&ch=1", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    cw_url_mask_credentials(cfg.rtsp_url, out, sizeof(out));
    CHECK_STR_LACKS(out, "Qz9secret");
    CHECK_STR_CONTAINS(out, "&ch=1");
}

/* A secret that is also part of a variable's name (HTTP_PASSWORD=_URL, a
 * case the fuzzer found) is masked in the quoted value, never in the name
 * the message is about. */
static void test_secret_inside_a_name(void)
{
    CwConfig cfg;
    char err[1024];
    clean_env();
    setenv("HTTP_PASSWORD", "_URL", 1);
    setenv("RTSP_URL", "h:_URL@x", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, "RTSP_URL=\"h:***@x\" is not a camera address");
    unsetenv("HTTP_PASSWORD");
    cw_url_clear_secrets();
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void test_env_file(void)
{
    CwConfig cfg;
    char err[1024], path[256];
    clean_env();
    unsetenv("VIDEO_DIR");
    setenv("RETRY_SECONDS", "3", 1); /* the environment wins over .env */
    snprintf(path, sizeof(path), "%s/.env", tmpdir);
    write_file(path, "# camwatch settings\n"
                     "\n"
                     "export VIDEO_DIR=\"/srv/clips dir\"  # where clips go\n"
                     "RETRY_SECONDS=30\n"
                     "CAMERA_NAME='first'\n"
                     "CAMERA_NAME='garage' \n"
                     "  PRE_CAPTURE_SECONDS = 2 # seconds before\n");
    CHECK(chdir(tmpdir) == 0);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == 0);
    CHECK(strcmp(cfg.video_dir, "/srv/clips dir") == 0);
    CHECK(cfg.retry_s == 3);
    CHECK(strcmp(cfg.camera, "garage") == 0); /* the last line wins */
    CHECK(cfg.pre_capture_s == 2);
    unlink(path);

    write_file(path, "VIDEO_DIR=\"/srv/x\" trailing\n");
    clean_env();
    unsetenv("VIDEO_DIR");
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, ".env:1: VIDEO_DIR: text after the closing quote");
    unlink(path);

    /* ENV_FILE names another file; a broken line is reported with its number. */
    snprintf(path, sizeof(path), "%s/other.env", tmpdir);
    write_file(path, "VIDEO_DIR=/x\nthis is not an assignment\n");
    clean_env();
    setenv("ENV_FILE", path, 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -EINVAL);
    CHECK_STR_CONTAINS(err, "other.env:2");
    CHECK_STR_CONTAINS(err, "KEY=VALUE");
    unlink(path);

    clean_env();
    setenv("ENV_FILE", "/nonexistent/camwatch.env", 1);
    CHECK(cw_config_load(&cfg, err, sizeof(err)) == -ENOENT);
    CHECK_STR_CONTAINS(err, "ENV_FILE");
}

int main(void)
{
    CHECK(mkdtemp(tmpdir) != NULL);
    /* A .env in the caller's directory must not leak into the tests. */
    CHECK(chdir(tmpdir) == 0);
    RUN(test_defaults);
    RUN(test_values);
    RUN(test_errors);
    RUN(test_detection_vars);
    RUN(test_error_masks_password);
    RUN(test_awkward_passwords);
    RUN(test_secret_inside_a_name);
    RUN(test_env_file);
    rmdir(tmpdir);
    return 0;
}
