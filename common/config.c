#define _GNU_SOURCE
#include "config.h"
#include "polygon.h"

#include "log.h"
#include "mqtturl.h"
#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum VarType {
    VAR_URL,
    VAR_DIR,
    VAR_PATH_OPT,
    VAR_NAME,
    VAR_ENUM,
    VAR_NUMBER,
    VAR_INT,
    VAR_LEVEL,
    VAR_TEXT,
    VAR_MASK,     /* MOTION_MASK's polygons (polygon.h) */
    VAR_ZONES,    /* MOTION_ZONES's named polygons */
    VAR_SECRET,   /* text that is a credential: never printed, masked in every message */
    VAR_LISTEN,   /* "ADDR:PORT": an IPv4 address, [IPv6] or localhost, and a port */
    VAR_MQTT_URL, /* mqtt(s)://[user:password@]host[:port] (mqtturl.h), or unset */
    VAR_TOPIC     /* MQTT topic levels: no wildcard, no empty level */
};

typedef struct VarSpec {
    const char *name;
    enum VarType type;
    size_t offset;   /* into CwConfig */
    size_t size;     /* of a string field */
    const char *def; /* default as text; NULL = required */
    double min, max;
    const char *choices; /* VAR_ENUM: '|'-separated */
    const char *help;
} VarSpec;

#define STR(f) offsetof(CwConfig, f), sizeof(((CwConfig *)0)->f)
#define NUM(f) offsetof(CwConfig, f), 0

static const VarSpec var_specs[] = {
    {"RTSP_URL", VAR_URL, STR(rtsp_url), NULL, 0, 0, NULL,
     "camera to watch: rtsp://, rtsps://, http(s):// (MJPEG), a file, or /dev/videoN"},
    {"DETECT_URL", VAR_URL, STR(detect_url), "", 0, 0, NULL,
     "the camera's low-resolution sub-stream, decoded for detection while RTSP_URL is only "
     "recorded (two capture workers); unset: RTSP_URL is decoded too"},
    {"VIDEO_DIR", VAR_DIR, STR(video_dir), NULL, 0, 0, NULL, "folder that receives finished clips"},
    {"STAGING_DIR", VAR_PATH_OPT, STR(staging_dir), "", 0, 0, NULL,
     "where clips are written before delivery (default VIDEO_DIR/.staging; same filesystem)"},
    {"CAMERA_NAME", VAR_NAME, STR(camera), "camera", 0, 0, NULL,
     "name in clip files and shared-memory rings (letters, digits, '-', '_')"},
    {"LOGLEVEL", VAR_LEVEL, NUM(log_level), "INFO", 0, 0, NULL,
     "DEBUG, INFO, WARNING, ERROR or CRITICAL"},
    {"RTSP_TRANSPORT", VAR_ENUM, STR(rtsp_transport), "auto", 0, 0,
     "auto|tcp|udp|udp_multicast|http",
     "how RTP comes from an RTSP camera: auto (TCP, or UDP if the camera refuses TCP), tcp, "
     "udp, udp_multicast or http (tunnelled)"},
    {"RETRY_SECONDS", VAR_NUMBER, NUM(retry_s), "10", 0.1, 3600, NULL,
     "wait between reconnect attempts when the camera is unreachable"},
    {"TIMEOUT_SECONDS", VAR_NUMBER, NUM(timeout_s), "10", 1, 300, NULL,
     "a connect or a silent camera taking longer than this counts as lost"},
    {"PRE_CAPTURE_SECONDS", VAR_NUMBER, NUM(pre_capture_s), "5", 0, 60, NULL,
     "video kept before the motion starts"},
    {"POST_CAPTURE_SECONDS", VAR_NUMBER, NUM(post_capture_s), "25", 0, 600, NULL,
     "video kept after the last motion"},
    {"MAX_CLIP_SECONDS", VAR_NUMBER, NUM(max_clip_s), "600", 10, 86400, NULL,
     "a clip longer than this is closed and the next one starts"},
    {"DETECT_FPS", VAR_NUMBER, NUM(detect_fps), "5", 0.5, 60, NULL, "frames analysed per second"},
    {"DETECT_WIDTH", VAR_INT, NUM(detect_width), "320", 64, 1920, NULL,
     "width in pixels the detector scales frames down to"},
    {"MOTION_THRESHOLD", VAR_INT, NUM(motion_threshold), "25", 1, 255, NULL,
     "brightness change of a pixel that counts as changed, at least (noise raises it)"},
    {"MOTION_MIN_AREA_PERCENT", VAR_NUMBER, NUM(motion_min_area_percent), "0.5", 0.001, 100, NULL,
     "smallest moving region, in percent of the picture, that counts as motion"},
    {"LIGHT_CHANGE_PERCENT", VAR_NUMBER, NUM(light_change_percent), "60", 1, 100, NULL,
     "a change no lighting explains over this share of the picture is a new scene, learned again"},
    {"MIN_MOTION_FRAMES", VAR_INT, NUM(min_motion_frames), "3", 1, 100, NULL,
     "analysed frames in a row a region must change and move in before it is motion"},
    {"MOTION_MASK", VAR_MASK, STR(motion_mask), "", 0, 0, NULL,
     "polygons where motion is ignored: \"x,y x,y x,y; ...\", x and y from 0 to 1"},
    {"MOTION_ZONES", VAR_ZONES, STR(motion_zones), "", 0, 0, NULL,
     "named polygons each event reports touching: \"door:x,y x,y x,y; drive:...\""},
    {"DECODE_THREADS", VAR_INT, NUM(decode_threads), "1", 1, 16, NULL, "decoder threads"},
    {"HWACCEL", VAR_ENUM, STR(hwaccel), "none", 0, 0, "auto|none|vaapi|v4l2m2m|drm",
     "hardware video decoding: none, auto (the first that works), vaapi, v4l2m2m or drm; "
     "software when unavailable"},
    {"PACKET_BUFFER_MB", VAR_INT, NUM(packet_buffer_mb), "32", 1, 1024, NULL,
     "shared memory for compressed video (holds the pre-roll)"},
    {"FRAME_BUFFER_MB", VAR_INT, NUM(frame_buffer_mb), "16", 1, 1024, NULL,
     "shared memory for decoded frames handed to detection"},
    {"RECORD_AUDIO", VAR_ENUM, STR(record_audio), "auto", 0, 0, "auto|off",
     "auto: clips carry the camera's sound (AAC and Opus copied, G.711 as AAC); off: video only"},
    {"RECORD_MODE", VAR_ENUM, STR(record_mode), "copy", 0, 0, "copy|annotated",
     "copy: the camera's video as it is (no re-encoding); annotated: re-encoded (libx264) with "
     "the moving regions outlined"},
    {"RETAIN_DAYS", VAR_INT, NUM(retain_days), "0", 0, 36500, NULL,
     "clips older than this many days are deleted; 0: no age limit"},
    {"RETAIN_MAX_GB", VAR_NUMBER, NUM(retain_max_gb), "0", 0, 100000, NULL,
     "the oldest clips are deleted to keep this camera's clips under this many GB (e.g. 0.5); 0: "
     "no limit"},
    {"MIN_FREE_PERCENT", VAR_NUMBER, NUM(min_free_percent), "10", 0, 90, NULL,
     "the oldest clips are deleted to keep this share of VIDEO_DIR's file system free; 0: off"},
    {"ON_CLIP_READY", VAR_TEXT, STR(on_clip_ready), "", 0, 0, NULL,
     "shell command run after a clip is delivered (CLIP_PATH, SNAPSHOT_PATH, SIDECAR_PATH set)"},
    {"HTTP_LISTEN", VAR_LISTEN, STR(http_listen), "", 0, 0, NULL,
     "ADDR:PORT where camwatch-http serves status, metrics, the live view and clips "
     "(e.g. 127.0.0.1:8080; unset: no HTTP stage)"},
    {"HTTP_PASSWORD", VAR_SECRET, STR(http_password), "", 0, 0, NULL,
     "HTTP Basic password of camwatch-http (required when HTTP_LISTEN is not a loopback address)"},
    {"LIVE_FPS", VAR_NUMBER, NUM(live_fps), "5", 0.2, 30, NULL,
     "most frames a second /live.mjpeg sends"},
    {"MQTT_URL", VAR_MQTT_URL, STR(mqtt_url), "", 0, 0, NULL,
     "MQTT broker camwatch-mqtt publishes to (Home Assistant): mqtt://user:password@host:1883, "
     "mqtts:// for TLS (unset: no MQTT stage)"},
    {"MQTT_TOPIC_PREFIX", VAR_TOPIC, STR(mqtt_topic_prefix), "camwatch", 0, 0, NULL,
     "first topic levels of camwatch-mqtt's topics (PREFIX/CAMERA/motion, ...)"},
    {"MQTT_CA_FILE", VAR_PATH_OPT, STR(mqtt_ca_file), "", 0, 0, NULL,
     "CA certificates (PEM) that sign the broker's certificate for mqtts:// (default: the "
     "system's)"},
};

#define VAR_COUNT (sizeof(var_specs) / sizeof(var_specs[0]))
_Static_assert(VAR_COUNT <= CW_CONFIG_VARS_MAX, "CwConfig.source has a place per variable");

static void fail(char *err, size_t err_size, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The message is `name` (a variable's name from the table, or NULL) and
 * then `fmt`. Only the part after the name is masked: a secret as short as
 * "_URL" would otherwise hide which variable the message is about. */
static void fail(char *err, size_t err_size, const char *name, const char *fmt, ...)
{
    char raw[2048];
    size_t n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (name) {
        n = (size_t)snprintf(err, err_size, "%s", name);
        if (n >= err_size)
            return;
    }
    /* Messages quote values: a URL's password must not be among them. */
    cw_url_mask_credentials(raw, err + n, err_size - n);
    /* Nor a line break a value carried: the message is one line. */
    cw_log_one_line(err);
}

/* Longest .env line accepted: more than any value's field holds. */
#define ENV_LINE_MAX 8192

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void free_keys(char ***keys, size_t *nkeys)
{
    for (size_t i = 0; i < *nkeys; i++)
        free((*keys)[i]);
    free(*keys);
    *keys = NULL;
    *nkeys = 0;
}

/*
 * cw_config_read_env_file(), which also hands back the keys the file set
 * (the caller owns them: free_keys()), so that cw_config_load() can tell
 * each value's source. *keys_out is NULL and *nkeys_out 0 unless it returns 0.
 */
static int read_env_file(const char *path, char *err, size_t err_size, char ***keys_out,
                         size_t *nkeys_out)
{
    *keys_out = NULL;
    *nkeys_out = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int open_errno = errno;
        if (open_errno == ENOENT)
            return 1;
        fail(err, err_size, "ENV_FILE", ": cannot read %s: %s", path, strerror(open_errno));
        return -open_errno;
    }
    /* getline(), not fgets() into a buffer: a longer line would be read as
     * two, and its tail could assign any variable (LD_PRELOAD=...). */
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t line_len;
    char **keys = NULL; /* the keys this file set */
    size_t nkeys = 0;
    int lineno = 0, ret = 0;
    while ((line_len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        if (line_len > ENV_LINE_MAX) {
            fail(err, err_size, NULL,
                 "%s:%d: the line is %zd characters long; at most %d are accepted", path, lineno,
                 line_len, ENV_LINE_MAX);
            ret = -EINVAL;
            break;
        }
        if (strlen(line) != (size_t)line_len) {
            fail(err, err_size, NULL, "%s:%d: the line holds a NUL byte; a .env file is text", path,
                 lineno);
            ret = -EINVAL;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            fail(err, err_size, NULL, "%s:%d: expected KEY=VALUE, got \"%.60s\"", path, lineno, s);
            ret = -EINVAL;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        bool key_ok = *key && !isdigit((unsigned char)*key);
        for (char *k = key; *k; k++)
            key_ok = key_ok && (isalnum((unsigned char)*k) || *k == '_');
        if (!key_ok) {
            fail(err, err_size, NULL,
                 "%s:%d: \"%.60s\" is not a variable name (letters, digits, _)", path, lineno, key);
            ret = -EINVAL;
            break;
        }
        if (val[0] == '"' || val[0] == '\'') {
            char *close = strchr(val + 1, val[0]);
            char *rest = close ? trim(close + 1) : NULL;
            if (!close || (*rest && *rest != '#')) {
                fail(err, err_size, NULL,
                     "%s:%d: %s: %s (write KEY=\"value\" with at most a # comment after it)", path,
                     lineno, key,
                     close ? "text after the closing quote" : "the opening quote is never closed");
                ret = -EINVAL;
                break;
            }
            *close = '\0';
            val++;
        } else {
            /* Unquoted values may carry a trailing comment. */
            char *hash = strstr(val, " #");
            if (hash) {
                *hash = '\0';
                val = trim(val);
            }
        }
        /* The environment wins over the file; within the file the last
         * line wins, as in shells, systemd and compose. */
        bool from_file = false;
        for (size_t i = 0; i < nkeys && !from_file; i++)
            from_file = strcmp(keys[i], key) == 0;
        if (getenv(key) && !from_file)
            continue;
        if (!from_file) {
            char **grown = realloc(keys, (nkeys + 1) * sizeof(*keys));
            char *copy = strdup(key);
            if (!grown || !copy) {
                free(copy);
                keys = grown ? grown : keys;
                fail(err, err_size, NULL, "%s: out of memory", path);
                ret = -ENOMEM;
                break;
            }
            keys = grown;
            keys[nkeys++] = copy;
        }
        setenv(key, val, 1);
    }
    free(line);
    fclose(f);
    if (ret < 0) {
        free_keys(&keys, &nkeys);
        return ret;
    }
    *keys_out = keys; /* ownership passes to the caller */
    *nkeys_out = nkeys;
    return ret;
}

int cw_config_read_env_file(const char *path, char *err, size_t err_size)
{
    char **keys;
    size_t nkeys;
    int ret = read_env_file(path, err, err_size, &keys, &nkeys);
    free_keys(&keys, &nkeys);
    return ret;
}

static bool parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *trim(end) || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool url_scheme_ok(const char *url)
{
    static const char *const schemes[] = {"rtsp://", "rtsps://", "http://", "https://",
                                          "file:",   "/",        "./",      "rtmp://",
                                          "udp://",  "tcp://",   "srt://"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            return true;
    return false;
}

/* A password with '/', '?' or '#' not percent-encoded makes the URL
 * ambiguous: cameras and FFmpeg would read its tail as the path. */
static bool url_password_needs_encoding(const char *url)
{
    const char *pw;
    size_t len;
    return cw_url_password(url, url + strlen(url), &pw, &len) && strcspn(pw, "/?#") < len;
}

int cw_config_listen_split(const char *listen, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -EINVAL;
    const char *h = listen, *h_end = colon;
    if (*h == '[') { /* [IPv6]:port */
        if (h_end[-1] != ']')
            return -EINVAL;
        h++;
        h_end--;
    }
    if (h_end <= h || (size_t)(h_end - h) >= host_size)
        return -EINVAL;
    size_t len = (size_t)(h_end - h);
    memcpy(host, h, len);
    host[len] = '\0';
    unsigned char addr[16];
    bool literal = listen[0] == '['
                       ? inet_pton(AF_INET6, host, addr) == 1
                       : inet_pton(AF_INET, host, addr) == 1 || strcmp(host, "localhost") == 0;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (!literal || end == colon + 1 || *end || errno || p < 1 || p > 65535)
        return -EINVAL;
    *port = (int)p;
    return 0;
}

bool cw_config_listen_is_loopback(const char *listen)
{
    char host[64];
    int port;
    unsigned char addr[16];
    if (cw_config_listen_split(listen, host, sizeof(host), &port) < 0)
        return false;
    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    return inet_pton(AF_INET6, host, addr) == 1 && memcmp(addr, &in6addr_loopback, 16) == 0;
}

static int check_var(const VarSpec *v, const char *value, CwConfig *cfg, char *err, size_t err_size)
{
    char *field = (char *)cfg + v->offset;
    double num;

    switch (v->type) {
    case VAR_URL:
        if (!*value && v->def)
            goto copy; /* an optional URL left unset */
        if (url_scheme_ok(value) && url_password_needs_encoding(value)) {
            fail(err, err_size, v->name,
                 "=\"%s\": the password contains '/', '?' or '#'; write them "
                 "percent-encoded as %%2F, %%3F and %%23",
                 value);
            return -EINVAL;
        }
        if (!url_scheme_ok(value)) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not a camera address: use rtsp://, rtsps://, http(s):// "
                 "(MJPEG), a file path or /dev/videoN",
                 value);
            return -EINVAL;
        }
        /* fall through */
    case VAR_DIR:
    case VAR_PATH_OPT:
    case VAR_TEXT:
    case VAR_SECRET:
    case VAR_MASK:
    case VAR_ZONES:
    copy:
        if (strlen(value) >= v->size) {
            fail(err, err_size, v->name, " is %zu characters long; at most %zu are accepted",
                 strlen(value), v->size - 1);
            return -EINVAL;
        }
        if (v->type == VAR_MASK || v->type == VAR_ZONES) {
            /* Checked here, so that every program (the supervisor and
             * `camwatch check` too) refuses a bad polygon before a stage
             * starts; detect parses them again for its own use. */
            static CwPolygonSet polygons; /* 33 KB: not on the stack */
            char why[512];
            if (cw_polygons_parse(v->name, value, v->type == VAR_ZONES, &polygons, why,
                                  sizeof(why)) < 0) {
                /* The parser's message starts with the variable's name. */
                size_t n = strlen(v->name);
                bool named = strncmp(why, v->name, n) == 0;
                fail(err, err_size, named ? v->name : NULL, "%s", named ? why + n : why);
                return -EINVAL;
            }
        }
        strcpy(field, value);
        return 0;
    case VAR_LISTEN: {
        char host[64];
        int port;
        if (*value && (strlen(value) >= v->size ||
                       cw_config_listen_split(value, host, sizeof(host), &port) < 0)) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not accepted: use ADDR:PORT with an IPv4 address, [IPv6] or "
                 "localhost, and a port from 1 to 65535 (e.g. 127.0.0.1:8080, 0.0.0.0:8080)",
                 value);
            return -EINVAL;
        }
        strcpy(field, value);
        return 0;
    }
    case VAR_MQTT_URL: {
        CwMqttUrl parsed;
        const char *problem = "";
        if (*value &&
            (strlen(value) >= v->size || cw_mqtt_url_parse(value, &parsed, &problem) < 0)) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not accepted: %s; use mqtt://HOST[:PORT] or mqtts://HOST[:PORT], "
                 "with USER:PASSWORD@ before the host if the broker asks for one",
                 value, strlen(value) >= v->size ? "it is too long" : problem);
            return -EINVAL;
        }
        strcpy(field, value);
        return 0;
    }
    case VAR_TOPIC: {
        size_t n = strlen(value);
        /* Plain levels only: no wildcard, no space or other character a
         * broker's ACL or Home Assistant's templates would trip over. */
        bool ok =
            n > 0 && n < v->size && value[0] != '/' && value[n - 1] != '/' && !strstr(value, "//");
        for (const char *c = value; *c && ok; c++)
            ok = isalnum((unsigned char)*c) || strchr("-_./", *c);
        if (!ok) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not accepted: use 1 to %zu letters, digits, '-', '_' or '.' in "
                 "levels separated by '/', without an empty level (e.g. camwatch, home/cams)",
                 value, v->size - 1);
            return -EINVAL;
        }
        strcpy(field, value);
        return 0;
    }
    case VAR_NAME: {
        size_t n = strlen(value);
        bool ok = n > 0 && n < v->size;
        for (const char *c = value; *c && ok; c++)
            ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_';
        if (!ok) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not accepted: use 1 to %zu letters, digits, '-' or '_'", value,
                 v->size - 1);
            return -EINVAL;
        }
        strcpy(field, value);
        return 0;
    }
    case VAR_ENUM: {
        char choices[128];
        snprintf(choices, sizeof(choices), "%s", v->choices);
        for (char *save, *c = strtok_r(choices, "|", &save); c; c = strtok_r(NULL, "|", &save)) {
            if (strcmp(c, value) == 0) {
                snprintf(field, v->size, "%s", value);
                return 0;
            }
        }
        fail(err, err_size, v->name, "=\"%s\" is not accepted: use one of %s", value, v->choices);
        return -EINVAL;
    }
    case VAR_LEVEL: {
        int level = cw_log_parse_level(value);
        if (level < 0) {
            fail(err, err_size, v->name,
                 "=\"%s\" is not accepted: use DEBUG, INFO, WARNING, ERROR or CRITICAL", value);
            return -EINVAL;
        }
        *(int *)field = level;
        return 0;
    }
    case VAR_NUMBER:
    case VAR_INT:
        if (!parse_number(value, &num) || (v->type == VAR_INT && num != floor(num))) {
            fail(err, err_size, v->name, "=\"%s\" is not a %s: use %s from %g to %g", value,
                 v->type == VAR_INT ? "whole number" : "number",
                 v->type == VAR_INT ? "a whole number" : "a number", v->min, v->max);
            return -EINVAL;
        }
        if (num < v->min || num > v->max) {
            fail(err, err_size, v->name, "=%s is out of range: use a number from %g to %g", value,
                 v->min, v->max);
            return -EINVAL;
        }
        if (v->type == VAR_INT)
            *(int *)field = (int)num;
        else
            *(double *)field = num;
        return 0;
    }
    return -EINVAL;
}

int cw_config_load(CwConfig *cfg, char *err, size_t err_size)
{
    char **file_keys = NULL;
    size_t nfile_keys = 0;
    int ret = 0;

    memset(cfg, 0, sizeof(*cfg));
    const char *env_file = getenv("ENV_FILE");
    int r = read_env_file(env_file && *env_file ? env_file : ".env", err, err_size, &file_keys,
                          &nfile_keys);
    if (r < 0)
        return r;
    if (r == 1 && env_file && *env_file) {
        fail(err, err_size, "ENV_FILE",
             "=\"%s\" does not exist: name a readable .env file or unset it", env_file);
        return -ENOENT;
    }
    /* Before anything can quote a URL, its passwords are secrets; and so
     * is every secret variable's value, which a message may quote too. */
    for (size_t i = 0; i < VAR_COUNT; i++) {
        enum VarType type = var_specs[i].type;
        const char *url =
            type == VAR_URL || type == VAR_MQTT_URL ? getenv(var_specs[i].name) : NULL;
        const char *secret = var_specs[i].type == VAR_SECRET ? getenv(var_specs[i].name) : NULL;
        if ((url && cw_url_register_secrets(url) < 0) ||
            (secret && *secret && cw_url_add_secret(secret) < 0)) {
            fail(err, err_size, var_specs[i].name, ": out of memory while reading it");
            ret = -ENOMEM;
            goto end;
        }
    }

    for (size_t i = 0; i < VAR_COUNT; i++) {
        const VarSpec *v = &var_specs[i];
        const char *value = getenv(v->name);
        if (value && !*value)
            value = NULL; /* VAR= counts as unset, as in shells and compose */
        if (!value && !v->def) {
            fail(err, err_size, v->name, " is not set: %s (set it in the environment or in .env)",
                 v->help);
            ret = -EINVAL;
            goto end;
        }
        cfg->source[i] = CW_CONFIG_DEFAULT;
        for (size_t k = 0; value && k < nfile_keys; k++)
            if (strcmp(file_keys[k], v->name) == 0)
                cfg->source[i] = CW_CONFIG_ENV_FILE;
        if (value && cfg->source[i] == CW_CONFIG_DEFAULT)
            cfg->source[i] = CW_CONFIG_ENVIRONMENT;
        ret = check_var(v, value ? value : v->def, cfg, err, err_size);
        if (ret < 0)
            goto end;
    }
    if (!cfg->staging_dir[0]) {
        int n = snprintf(cfg->staging_dir, sizeof(cfg->staging_dir), "%s/.staging", cfg->video_dir);
        if (n >= (int)sizeof(cfg->staging_dir)) {
            fail(err, err_size, "VIDEO_DIR", " is too long to hold the staging folder");
            ret = -EINVAL;
            goto end;
        }
    }
    /* Anyone who can reach the port could watch the camera and fetch its
     * clips: beyond this host that takes a password. */
    if (cfg->http_listen[0] && !cfg->http_password[0] &&
        !cw_config_listen_is_loopback(cfg->http_listen)) {
        fail(err, err_size, "HTTP_LISTEN",
             "=\"%s\" listens beyond this host without a password: set "
             "HTTP_PASSWORD, or listen on a loopback address (127.0.0.1:PORT, [::1]:PORT)",
             cfg->http_listen);
        ret = -EINVAL;
        goto end;
    }

end:
    free_keys(&file_keys, &nfile_keys);
    return ret;
}

/* LOGLEVEL's value as it is written (log.h's levels, in order). */
static const char *level_name(int level)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
    return level >= 0 && level < (int)(sizeof(names) / sizeof(names[0])) ? names[level] : "?";
}

const char *cw_config_source_name(enum CwConfigSource source)
{
    switch (source) {
    case CW_CONFIG_ENV_FILE:
        return ".env";
    case CW_CONFIG_ENVIRONMENT:
        return "environment";
    case CW_CONFIG_DEFAULT:
        break;
    }
    return "default";
}

void cw_config_each(const CwConfig *cfg,
                    void (*visit)(const char *name, const char *value, enum CwConfigSource source,
                                  void *data),
                    void *data)
{
    char text[CW_URL_MAX + 64], masked[CW_URL_MAX + 64];
    for (size_t i = 0; i < VAR_COUNT; i++) {
        const VarSpec *v = &var_specs[i];
        const char *field = (const char *)cfg + v->offset;
        switch (v->type) {
        case VAR_NUMBER:
            snprintf(text, sizeof(text), "%g", *(const double *)field);
            break;
        case VAR_INT:
        case VAR_LEVEL:
            if (v->type == VAR_LEVEL)
                snprintf(text, sizeof(text), "%s", level_name(*(const int *)field));
            else
                snprintf(text, sizeof(text), "%d", *(const int *)field);
            break;
        default:
            snprintf(text, sizeof(text), "%s", field);
            break;
        }
        if (v->type == VAR_SECRET && text[0])
            snprintf(masked, sizeof(masked), "***");
        else
            cw_url_mask_credentials(text, masked, sizeof(masked));
        visit(v->name, masked, (enum CwConfigSource)cfg->source[i], data);
    }
}

bool cw_config_source_is_file(const char *url)
{
    if (strncmp(url, "/dev/video", 10) == 0)
        return false;
    return strncmp(url, "file:", 5) == 0 || url[0] == '/' || strncmp(url, "./", 2) == 0;
}

void cw_config_print_help(const char *program)
{
    printf("%s is configured by environment variables (a .env file in the working\n"
           "directory, or ENV_FILE, fills in what the environment does not set):\n\n",
           program);
    for (size_t i = 0; i < VAR_COUNT; i++) {
        const VarSpec *v = &var_specs[i];
        printf("  %-24s %s", v->name, v->help);
        if (!v->def)
            printf(" (required)\n");
        else if (*v->def)
            printf(" (default %s)\n", v->def);
        else
            printf("\n");
    }
}
