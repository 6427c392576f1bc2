/*
 * Configuration from the environment, with the `.env` file in the working
 * directory (or the file named by ENV_FILE) filling in what the environment
 * does not set. Every value is checked; the first problem is reported as one
 * line naming the variable, its value (credentials masked) and what is
 * accepted. Callers exit with CW_EXIT_CONFIG (78) on failure.
 *
 * Errors: negative errno values, as everywhere in common/, each with its
 * one line in `err`.
 */
#ifndef CAMWATCH_CONFIG_H
#define CAMWATCH_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_URL_MAX    2048
#define CW_CAMERA_MAX 32
/* Room for the variable table's rows (config.c asserts they fit). */
#define CW_CONFIG_VARS_MAX 64

/* Where a variable's effective value came from. */
enum CwConfigSource {
    CW_CONFIG_DEFAULT,     /* not set: the built-in default (or computed from another) */
    CW_CONFIG_ENV_FILE,    /* the .env file (or ENV_FILE) */
    CW_CONFIG_ENVIRONMENT, /* the process environment */
};

typedef struct CwConfig {
    char rtsp_url[CW_URL_MAX];   /* RTSP_URL, required: rtsp(s)://, http(s)://, file, /dev/videoN */
    char detect_url[CW_URL_MAX]; /* DETECT_URL: sub-stream decoded for detection; "" = none */
    char video_dir[PATH_MAX];    /* VIDEO_DIR, required */
    char staging_dir[PATH_MAX];  /* STAGING_DIR, default VIDEO_DIR/.staging */
    char camera[CW_CAMERA_MAX + 1]; /* CAMERA_NAME, default "camera" */
    char rtsp_transport[16];        /* RTSP_TRANSPORT: auto (default)|tcp|udp|udp_multicast|http */
    char record_audio[8];           /* RECORD_AUDIO: auto (default)|off */
    char record_mode[16];           /* RECORD_MODE: copy (default)|annotated */
    char on_clip_ready[1024];       /* ON_CLIP_READY: command run after a clip is delivered */
    int log_level;                  /* LOGLEVEL */
    double retry_s;                 /* RETRY_SECONDS, default 10 */
    double timeout_s;               /* TIMEOUT_SECONDS: connect/stall bound, default 10 */
    double pre_capture_s;           /* PRE_CAPTURE_SECONDS, default 5 */
    double post_capture_s;          /* POST_CAPTURE_SECONDS, default 25 */
    double max_clip_s;              /* MAX_CLIP_SECONDS, default 600 */
    double detect_fps;              /* DETECT_FPS, default 5 */
    int detect_width;               /* DETECT_WIDTH, default 320 */
    int motion_threshold;           /* MOTION_THRESHOLD (1-255), default 25 */
    double motion_min_area_percent; /* MOTION_MIN_AREA_PERCENT, default 0.5 */
    double light_change_percent;    /* LIGHT_CHANGE_PERCENT, default 60 */
    int min_motion_frames;          /* MIN_MOTION_FRAMES (1-100), default 3 */
    char motion_mask[2048];         /* MOTION_MASK: polygons, parsed by common/polygon.h */
    char motion_zones[2048];        /* MOTION_ZONES: named polygons, idem */
    int decode_threads;             /* DECODE_THREADS, default 1 */
    char hwaccel[16];               /* HWACCEL: none (default)|auto|vaapi|v4l2m2m|drm */
    int packet_buffer_mb;           /* PACKET_BUFFER_MB, default 32 */
    int frame_buffer_mb;            /* FRAME_BUFFER_MB, default 16 */
    char http_listen[128];          /* HTTP_LISTEN: "ADDR:PORT" of camwatch-http; "" = off */
    char http_password[128];        /* HTTP_PASSWORD: HTTP Basic password; "" = none */
    double live_fps;                /* LIVE_FPS: most frames a second of /live.mjpeg, default 5 */
    /* Where each variable's value came from, by its place in the variable
     * table (cw_config_each() walks them); filled by cw_config_load(). */
    uint8_t source[CW_CONFIG_VARS_MAX];
    int retain_days;         /* RETAIN_DAYS: clips older are deleted; 0 = no age limit */
    double retain_max_gb;    /* RETAIN_MAX_GB: cap on the clips' total (10^9 bytes); 0 = none */
    double min_free_percent; /* MIN_FREE_PERCENT of VIDEO_DIR's file system, default 10; 0 = none */
    char mqtt_url[CW_URL_MAX];   /* MQTT_URL: mqtt(s)://[user:pass@]host[:port]; "" = off */
    char mqtt_topic_prefix[128]; /* MQTT_TOPIC_PREFIX, default "camwatch" */
    char mqtt_ca_file[PATH_MAX]; /* MQTT_CA_FILE: CA certificates for mqtts://; "" = the system's */
} CwConfig;

/*
 * Load and check the whole configuration. Reads the .env file first (values
 * it sets are exported with setenv(..., 0), so the environment wins and
 * child processes inherit the result). Returns 0, or with one line in err:
 * -EINVAL for a value that is missing or not accepted (also a broken line of
 * the .env file), -ENOENT when ENV_FILE names a file that does not exist,
 * -ENOMEM, or the negative errno of a .env file that cannot be read. Every
 * password RTSP_URL and DETECT_URL carry is registered as a secret (url.h)
 * before anything can print either URL.
 */
int cw_config_load(CwConfig *cfg, char *err, size_t err_size);

/*
 * Read `path` as a .env file: KEY=VALUE lines, '#' comments, optional
 * "export ", optional single or double quotes. Sets each key not already in
 * the environment. Returns 0, 1 if the file does not exist (not an error: a
 * .env file is optional), or with a message naming the file (and line) in
 * err: -EINVAL for a line that is not an assignment, -ENOMEM, or the
 * negative errno of a file that cannot be read.
 */
int cw_config_read_env_file(const char *path, char *err, size_t err_size);

/*
 * True if `url` names a file (a path, "./…" or "file:"), a source that ends;
 * cameras (network URLs, /dev/videoN) never end on their own.
 */
bool cw_config_source_is_file(const char *url);

/* "environment", ".env" or "default". */
const char *cw_config_source_name(enum CwConfigSource source);

/*
 * Call `visit` for every variable of the table, in order, with its name,
 * its effective value as text (credentials masked: a URL's password and a
 * secret variable's whole value show as "***"; written into a buffer that
 * is valid during the call only) and where it came from. `cfg` must come
 * from a successful cw_config_load().
 */
void cw_config_each(const CwConfig *cfg,
                    void (*visit)(const char *name, const char *value, enum CwConfigSource source,
                                  void *data),
                    void *data);

/*
 * True if HTTP_LISTEN's address is a loopback one (127.0.0.0/8, ::1,
 * "localhost"): only such an address may go without HTTP_PASSWORD.
 * `listen` must be a value cw_config_load() accepted.
 */
bool cw_config_listen_is_loopback(const char *listen);

/*
 * Split an HTTP_LISTEN value ("127.0.0.1:8080", "[::1]:8080",
 * "localhost:8080") into its address (without brackets; "localhost" stays
 * a name) and port. Returns 0, or -EINVAL if it is not ADDR:PORT with an
 * IPv4 or bracketed IPv6 literal or localhost, and a port from 1 to 65535.
 */
int cw_config_listen_split(const char *listen, char *host, size_t host_size, int *port);

/* Print every variable, its meaning and default (for --help). */
void cw_config_print_help(const char *program);

#endif /* CAMWATCH_CONFIG_H */
