/*
 * camwatch-fakecam: a small RTSP camera for camwatch's tests.
 *
 * It serves either a live moving test pattern (encoded on the fly) or an
 * MP4 file's H.264/H.265 track without re-encoding, optionally looped, on
 * 127.0.0.1 only, optionally behind Basic or Digest authentication and over
 * TLS (rtsps://). It can refuse RTSP over TCP (as some cameras and small
 * servers do) and drop a share of
 * its RTP packets on purpose, so that packet loss is reproducible without
 * touching the network.
 *
 * With --sub-path it serves a second mount, a camera's sub-stream: the same
 * footage scaled down (--sub-width x --sub-height) and encoded as H.264.
 * SIGUSR1 drops the main mount (its clients are disconnected, new ones get
 * 404) or restores it; SIGUSR2 does the same for the sub mount, so that a
 * test can lose either stream alone.
 *
 * File mode does not put the file into the RTSP media pipeline directly.
 * A file-backed media is not live: it would be seekable, a second client's
 * PLAY with "Range: npt=0-" could rewind everybody, and it cannot loop.
 * Instead each media gets a private "feeder" pipeline
 *
 *     filesrc ! qtdemux ! h26Xparse ! appsink (sync=true)
 *
 * whose appsink releases access units at real time; they are re-stamped
 * onto the media's clock and pushed into a live appsrc:
 *
 *     appsrc is-live=true ! rtph26Xpay
 *
 * So the media behaves like a real camera (live, clients join mid-stream),
 * pacing comes from the feeder's clock sync, and looping is a flushing
 * seek of the feeder that the RTSP side never sees: the re-stamping keeps
 * the outgoing timestamps increasing across the jump.
 *
 * Build:
 *   gcc -std=gnu11 -O2 -Wall -Wextra -Werror \
 *       $(pkg-config --cflags gstreamer-rtsp-server-1.0 gstreamer-rtsp-1.0) \
 *       tests/fakecam/fakecam.c -o build/camwatch-fakecam \
 *       $(pkg-config --libs gstreamer-rtsp-server-1.0 gstreamer-rtsp-1.0)
 *
 * Only gstreamer-1.0, gstreamer-rtsp-server-1.0 and gstreamer-rtsp-1.0 (for
 * a request's headers) are linked, so appsrc and appsink are driven through
 * their properties and action signals rather than the gstreamer-app-1.0 API.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#define PROG "camwatch-fakecam"

/* sysexits.h values, spelled out so the meaning is visible here. */
#define EXIT_USAGE       64 /* bad command line */
#define EXIT_NOINPUT     66 /* --file missing, unreadable or unusable */
#define EXIT_UNAVAILABLE 69 /* port cannot be bound, plugin missing */

#define DEFAULT_PORT   8554
#define DEFAULT_PATH   "/cam"
#define DEFAULT_WIDTH  640
#define DEFAULT_HEIGHT 480
#define DEFAULT_FPS    15

/* How long to wait for qtdemux to expose the file's tracks at startup. */
#define PROBE_TIMEOUT (10 * GST_SECOND)

/* gst-rtsp-server's default: every lower transport it knows. */
#define ALL_PROTOCOLS                                                                              \
    (GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_UDP_MCAST | GST_RTSP_LOWER_TRANS_TCP)

/* Role name given to the authenticated user; any fixed string works. */
#define AUTH_ROLE "camwatch-test"

/* Seed of the packet dropper: the same stream loses the same packets on
 * every run, so a test that fails can be run again and fail alike. */
#define DROP_SEED 20240607u

typedef enum {
    CODEC_NONE = 0,
    CODEC_H264,
    CODEC_H265,
} Codec;

/* Sound sent beside the video (--audio). */
typedef enum {
    AUDIO_NONE = 0,
    AUDIO_AAC,
    AUDIO_PCMA, /* G.711 A-law */
    AUDIO_PCMU, /* G.711 mu-law */
} Audio;

typedef struct {
    guint port;
    const char *path;
    const char *file;
    gboolean pattern;
    gboolean loop;
    Codec codec; /* CODEC_NONE: not given on the command line */
    const char *user;
    const char *password;
    gboolean digest;      /* --auth digest: Digest instead of Basic */
    const char *tls_cert; /* --tls-cert: PEM certificate, served as rtsps:// */
    const char *tls_key;  /* --tls-key: its PEM private key */
    int width;
    int height;
    int fps;
    gboolean size_given;         /* any of --width/--height/--fps was given */
    GstRTSPLowerTrans protocols; /* lower transports a client may SETUP */
    int refuse_status;           /* what a refused SETUP gets: 461, or 400 */
    double drop_percent;         /* share of RTP packets never sent */
    const char *sub_path;        /* the sub-stream's mount; NULL: none */
    int sub_width;
    int sub_height;
    Audio audio;
} Options;

static const char *codec_name(Codec c)
{
    return c == CODEC_H265 ? "h265" : "h264";
}

static const char *codec_label(Codec c)
{
    return c == CODEC_H265 ? "H.265" : "H.264";
}

static const char *codec_parser(Codec c)
{
    return c == CODEC_H265 ? "h265parse" : "h264parse";
}

static const char *codec_payloader(Codec c)
{
    return c == CODEC_H265 ? "rtph265pay" : "rtph264pay";
}

/*
 * The launch-string branch of --audio (empty for none): a live tone on the
 * media's clock, like a camera's microphone beside its video. 20 ms
 * buffers, as cameras packetise G.711.
 */
static const char *audio_branch(Audio a)
{
    switch (a) {
    case AUDIO_AAC:
        return "audiotestsrc is-live=true wave=sine samplesperbuffer=320 "
               "! audio/x-raw,rate=16000,channels=1 ! audioconvert ! avenc_aac ! aacparse "
               "! rtpmp4gpay name=pay1 pt=97 ";
    case AUDIO_PCMA:
        return "audiotestsrc is-live=true wave=sine samplesperbuffer=160 "
               "! audio/x-raw,rate=8000,channels=1 ! audioconvert ! alawenc "
               "! rtppcmapay name=pay1 pt=8 ";
    case AUDIO_PCMU:
        return "audiotestsrc is-live=true wave=sine samplesperbuffer=160 "
               "! audio/x-raw,rate=8000,channels=1 ! audioconvert ! mulawenc "
               "! rtppcmupay name=pay1 pt=0 ";
    default:
        return "";
    }
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROG " [--port N] [--path /NAME] [--file F.mp4 [--loop] | --pattern]\n"
            "                        [--codec h264|h265] [--user U --password P [--auth "
            "basic|digest]]\n"
            "                        [--tls-cert CERT.pem --tls-key KEY.pem]\n"
            "                        [--width W --height H --fps N]\n"
            "                        [--protocols tcp|udp|all [--refuse-status 461|400]]\n"
            "                        [--drop-percent P] [--audio aac|pcma|pcmu]\n"
            "                        [--sub-path /NAME [--sub-width W --sub-height H]]\n"
            "\n"
            "Serves a test camera at rtsp://127.0.0.1:PORT/NAME (127.0.0.1 only).\n"
            "\n"
            "  --port N          TCP port, default %d (0 picks a free port)\n"
            "  --path /NAME      mount path, default %s\n"
            "  --file F.mp4      serve the H.264/H.265 track of F without re-encoding,\n"
            "                    paced at real time; clients see EOF when it ends\n"
            "  --loop            with --file: restart the file forever, timestamps\n"
            "                    keep increasing\n"
            "  --pattern         live moving test pattern (default without --file)\n"
            "  --codec C         h264 (default) or h265; with --file it must match\n"
            "                    the file, which is detected anyway\n"
            "  --width W --height H --fps N\n"
            "                    pattern size and rate, default %dx%d at %d fps\n"
            "  --user U --password P\n"
            "                    require Basic authentication; the password may\n"
            "                    instead come from the environment variable\n"
            "                    FAKECAM_PASSWORD so it does not appear in argv\n"
            "  --auth basic|digest\n"
            "                    with --user: the authentication asked for, Basic\n"
            "                    (default) or Digest (RFC 2617, MD5)\n"
            "  --tls-cert CERT.pem --tls-key KEY.pem\n"
            "                    RTSP over TLS with this certificate: clients connect\n"
            "                    to rtsps://127.0.0.1:PORT/NAME\n"
            "  --protocols P     RTP transports a client may choose: tcp (interleaved\n"
            "                    in the RTSP connection), udp (unicast) or all (default);\n"
            "                    SETUP with another one is answered 461 Unsupported\n"
            "                    transport, or with --refuse-status 400, 400 Bad Request\n"
            "                    (as some cameras do)\n"
            "  --drop-percent P  drop P %% (0-100, decimals allowed) of the RTP packets\n"
            "                    after the payloader, with a fixed random seed; the count\n"
            "                    is printed on exit\n"
            "  --sub-path /NAME  also serve the same footage scaled down, as a camera's\n"
            "                    sub-stream (H.264), at --sub-width x --sub-height\n"
            "                    (default 640x360)\n"
            "  SIGUSR1, SIGUSR2  drop the main (USR1) or the sub (USR2) mount, its clients\n"
            "                    disconnected, or restore it; one line tells which\n"
            "  --audio A         also send a live tone: aac (16 kHz, rtpmp4gpay), pcma or\n"
            "                    pcmu (G.711 A-law or mu-law at 8 kHz), as stream pay1\n"
            "\n"
            "Prints \"" PROG ": serving rtsp://127.0.0.1:PORT/NAME\" once listening.\n"
            "Exit status: 0 on SIGTERM/SIGINT, 64 bad arguments, 66 unusable --file,\n"
            "69 port cannot be bound or GStreamer plugin missing.\n",
            DEFAULT_PORT, DEFAULT_PATH, DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_FPS);
}

static G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" PROG " --help'.\n", stderr);
    exit(EXIT_USAGE);
}

static int parse_int(const char *opt, const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        usage_error("%s needs an integer in %ld..%ld, got '%s'", opt, min, max, s);
    return (int)v;
}

static double parse_percent(const char *opt, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = g_ascii_strtod(s, &end);
    /* !(v >= 0) also refuses NaN. */
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 100)
        usage_error("%s needs a number from 0 to 100, got '%s'", opt, s);
    return v;
}

/* A mount path becomes part of a URL; keep it to plain printable text so
 * that the printed URL is exactly what clients must use. */
static gboolean valid_path(const char *p)
{
    if (p[0] != '/' || p[1] == '\0')
        return FALSE;
    for (const char *c = p; *c != '\0'; c++) {
        if (*c <= ' ' || *c >= 0x7f || *c == '?' || *c == '#' || *c == '%')
            return FALSE;
    }
    return TRUE;
}

/* The value of `opt` (--path, --sub-path) if it is a valid mount path; else exit 64. */
static const char *mount_path(const char *opt, const char *val)
{
    if (!valid_path(val))
        usage_error("%s must start with '/', name something, and "
                    "contain no spaces, '?', '#' or '%%': '%s'",
                    opt, val);
    return val;
}

static void parse_args(int argc, char **argv, Options *o)
{
    gboolean width_given = FALSE, height_given = FALSE, auth_given = FALSE;

    *o = (Options){
        .port = DEFAULT_PORT,
        .path = DEFAULT_PATH,
        .width = DEFAULT_WIDTH,
        .height = DEFAULT_HEIGHT,
        .fps = DEFAULT_FPS,
        .protocols = ALL_PROTOCOLS,
        .refuse_status = 461,
        .sub_width = 640,
        .sub_height = 360,
    };

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        char name[32];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (strncmp(arg, "--", 2) != 0)
            usage_error("unexpected argument '%s'", arg);

        /* Accept both "--opt value" and "--opt=value". */
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            usage_error("unknown option '%s'", arg);
        memcpy(name, arg, len);
        name[len] = '\0';

        static const char *const with_value[] = {
            "--port",          "--path",         "--file",     "--codec",     "--user",
            "--password",      "--width",        "--height",   "--fps",       "--protocols",
            "--refuse-status", "--drop-percent", "--sub-path", "--sub-width", "--sub-height",
            "--audio",         "--auth",         "--tls-cert", "--tls-key",
        };
        gboolean is_flag = strcmp(name, "--pattern") == 0 || strcmp(name, "--loop") == 0;
        gboolean known = is_flag;
        for (size_t k = 0; k < G_N_ELEMENTS(with_value); k++)
            known = known || strcmp(name, with_value[k]) == 0;
        if (!known)
            usage_error("unknown option '%s'", name);

        if (is_flag) {
            if (eq)
                usage_error("%s takes no value", name);
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            usage_error("%s needs a value", name);
        }

        if (strcmp(name, "--port") == 0) {
            o->port = (guint)parse_int(name, val, 0, 65535);
        } else if (strcmp(name, "--path") == 0) {
            o->path = mount_path(name, val);
        } else if (strcmp(name, "--file") == 0) {
            if (val[0] == '\0')
                usage_error("--file needs a file name");
            o->file = val;
        } else if (strcmp(name, "--pattern") == 0) {
            o->pattern = TRUE;
        } else if (strcmp(name, "--loop") == 0) {
            o->loop = TRUE;
        } else if (strcmp(name, "--codec") == 0) {
            if (g_ascii_strcasecmp(val, "h264") == 0)
                o->codec = CODEC_H264;
            else if (g_ascii_strcasecmp(val, "h265") == 0 || g_ascii_strcasecmp(val, "hevc") == 0)
                o->codec = CODEC_H265;
            else
                usage_error("--codec must be h264 or h265, got '%s'", val);
        } else if (strcmp(name, "--user") == 0) {
            o->user = val;
        } else if (strcmp(name, "--password") == 0) {
            o->password = val;
        } else if (strcmp(name, "--auth") == 0) {
            if (strcmp(val, "digest") == 0)
                o->digest = TRUE;
            else if (strcmp(val, "basic") != 0)
                usage_error("--auth must be basic or digest, got '%s'", val);
            auth_given = TRUE;
        } else if (strcmp(name, "--tls-cert") == 0) {
            o->tls_cert = val;
        } else if (strcmp(name, "--tls-key") == 0) {
            o->tls_key = val;
        } else if (strcmp(name, "--width") == 0) {
            o->width = parse_int(name, val, 16, 7680);
            width_given = TRUE;
        } else if (strcmp(name, "--height") == 0) {
            o->height = parse_int(name, val, 16, 4320);
            height_given = TRUE;
        } else if (strcmp(name, "--fps") == 0) {
            o->fps = parse_int(name, val, 1, 120);
            o->size_given = TRUE;
        } else if (strcmp(name, "--protocols") == 0) {
            if (strcmp(val, "tcp") == 0)
                o->protocols = GST_RTSP_LOWER_TRANS_TCP;
            else if (strcmp(val, "udp") == 0)
                o->protocols = GST_RTSP_LOWER_TRANS_UDP;
            else if (strcmp(val, "all") != 0)
                usage_error("--protocols must be tcp, udp or all, got '%s'", val);
        } else if (strcmp(name, "--refuse-status") == 0) {
            o->refuse_status = parse_int(name, val, 400, 461);
            if (o->refuse_status != 400 && o->refuse_status != 461)
                usage_error("--refuse-status must be 461 or 400, got '%s'", val);
        } else if (strcmp(name, "--drop-percent") == 0) {
            o->drop_percent = parse_percent(name, val);
        } else if (strcmp(name, "--sub-path") == 0) {
            o->sub_path = mount_path(name, val);
        } else if (strcmp(name, "--sub-width") == 0) {
            o->sub_width = parse_int(name, val, 16, 7680);
        } else if (strcmp(name, "--sub-height") == 0) {
            o->sub_height = parse_int(name, val, 16, 4320);
        } else if (strcmp(name, "--audio") == 0) {
            if (strcmp(val, "aac") == 0)
                o->audio = AUDIO_AAC;
            else if (strcmp(val, "pcma") == 0)
                o->audio = AUDIO_PCMA;
            else if (strcmp(val, "pcmu") == 0)
                o->audio = AUDIO_PCMU;
            else
                usage_error("--audio must be aac, pcma or pcmu, got '%s'", val);
        }
    }

    if (o->file && o->pattern)
        usage_error("--file and --pattern are mutually exclusive");
    if (!o->file)
        o->pattern = TRUE;
    if (o->loop && !o->file)
        usage_error("--loop needs --file (the pattern never ends anyway)");

    o->size_given = o->size_given || width_given || height_given;
    if (o->file && o->size_given)
        usage_error("--width/--height/--fps apply to --pattern only; a file is "
                    "served as it is");
    /* 4:2:0 encoders reject odd sizes; say so now rather than failing when
     * the first client connects. */
    if (o->width % 2 != 0 || o->height % 2 != 0)
        usage_error("--width and --height must be even (got %dx%d)", o->width, o->height);
    if (o->sub_width % 2 != 0 || o->sub_height % 2 != 0)
        usage_error("--sub-width and --sub-height must be even (got %dx%d)", o->sub_width,
                    o->sub_height);
    if (o->sub_path && strcmp(o->sub_path, o->path) == 0)
        usage_error("--sub-path must differ from --path (both are '%s')", o->path);

    if (o->refuse_status != 461 && o->protocols == ALL_PROTOCOLS)
        usage_error("--refuse-status needs --protocols tcp or udp (all refuses nothing)");

    if (o->user == NULL && o->password != NULL)
        usage_error("--password needs --user");
    if (o->user == NULL && auth_given)
        usage_error("--auth needs --user");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        usage_error("--tls-cert and --tls-key go together");
    if (o->user != NULL) {
        if (o->user[0] == '\0' || strchr(o->user, ':') != NULL)
            usage_error("--user must be non-empty and cannot contain ':' "
                        "(Basic auth joins user and password with ':')");
        if (o->password == NULL)
            o->password = g_getenv("FAKECAM_PASSWORD");
        if (o->password == NULL)
            usage_error("--user needs --password or FAKECAM_PASSWORD in the "
                        "environment");
    }
}

/* ------------------------------------------------------------------ */
/* Startup checks                                                      */
/* ------------------------------------------------------------------ */

static void require_element(const char *name, const char *package)
{
    GstElementFactory *f = gst_element_factory_find(name);

    if (f == NULL) {
        fprintf(stderr, PROG ": GStreamer element '%s' is missing (install %s)\n", name, package);
        exit(EXIT_UNAVAILABLE);
    }
    gst_object_unref(f);
}

static Codec codec_of_pad(GstPad *pad)
{
    GstCaps *caps = gst_pad_get_current_caps(pad);
    Codec c = CODEC_NONE;

    if (caps == NULL)
        caps = gst_pad_query_caps(pad, NULL);
    if (caps != NULL && !gst_caps_is_empty(caps)) {
        const char *n = gst_structure_get_name(gst_caps_get_structure(caps, 0));
        if (strcmp(n, "video/x-h264") == 0)
            c = CODEC_H264;
        else if (strcmp(n, "video/x-h265") == 0)
            c = CODEC_H265;
    }
    if (caps != NULL)
        gst_caps_unref(caps);
    return c;
}

typedef struct {
    GMutex lock;
    Codec codec; /* first H.264/H.265 track found */
} Probe;

static void probe_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
    Probe *p = data;
    Codec c = codec_of_pad(pad);

    (void)demux;
    g_mutex_lock(&p->lock);
    if (p->codec == CODEC_NONE)
        p->codec = c;
    g_mutex_unlock(&p->lock);
}

static void probe_no_more_pads(GstElement *demux, gpointer data)
{
    (void)data;
    /* Tell the waiting main thread that all tracks are known. */
    gst_element_post_message(
        demux,
        gst_message_new_application(GST_OBJECT(demux), gst_structure_new_empty("fakecam-probed")));
}

/* Opens the file once at startup so that a missing or unsuitable file is
 * reported immediately, not only when the first client connects, and to
 * learn which codec the video track uses. */
static Codec probe_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
        exit(EXIT_NOINPUT);
    }
    fclose(f);

    GstElement *pipe = gst_pipeline_new("probe");
    GstElement *src = gst_element_factory_make("filesrc", NULL);
    GstElement *demux = gst_element_factory_make("qtdemux", NULL);
    Probe p = {.codec = CODEC_NONE};
    g_mutex_init(&p.lock);

    g_object_set(src, "location", path, NULL);
    gst_bin_add_many(GST_BIN(pipe), src, demux, NULL);
    gst_element_link(src, demux);
    g_signal_connect(demux, "pad-added", G_CALLBACK(probe_pad_added), &p);
    g_signal_connect(demux, "no-more-pads", G_CALLBACK(probe_no_more_pads), &p);

    GstBus *bus = gst_element_get_bus(pipe);
    char *error = NULL;
    gst_element_set_state(pipe, GST_STATE_PAUSED);
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, PROBE_TIMEOUT, GST_MESSAGE_ERROR | GST_MESSAGE_APPLICATION | GST_MESSAGE_EOS);
    if (msg == NULL) {
        error = g_strdup("timed out reading the file");
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        error = g_strdup(err->message);
        g_error_free(err);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        error = g_strdup("file has no playable tracks");
    }
    if (msg != NULL)
        gst_message_unref(msg);
    /* Stopping joins qtdemux's thread, so p is no longer touched after. */
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipe);
    g_mutex_clear(&p.lock);

    if (error != NULL) {
        fprintf(stderr, PROG ": '%s' is not a usable MP4: %s\n", path, error);
        g_free(error);
        exit(EXIT_NOINPUT);
    }
    if (p.codec == CODEC_NONE) {
        fprintf(stderr, PROG ": '%s' has no H.264 or H.265 video track\n", path);
        exit(EXIT_NOINPUT);
    }
    return p.codec;
}

/* ------------------------------------------------------------------ */
/* File feeder: paces and loops the file, feeds the media's appsrc     */
/* ------------------------------------------------------------------ */

typedef struct {
    /* Fixed after creation. */
    GstElement *pipeline; /* filesrc ! qtdemux ! parser ! appsink */
    GstElement *parser;
    GstElement *appsrc;  /* owned by the media; we hold a ref */
    GSource *bus_source; /* attached to the default main context */
    Codec codec;
    gboolean loop;
    const char *file;

    /* Timestamp mapping, touched by the feeder's streaming thread and
     * by the main thread when it rewinds. */
    GMutex lock;
    GstCaps *caps;        /* caps last set on appsrc */
    gboolean need_anchor; /* next buffer starts a pass over the file */
    gint64 offset;        /* file time -> media running time */
    gboolean have_last;
    gint64 last_key_out;    /* last DTS (or PTS) pushed */
    gint64 max_pts_end_out; /* latest PTS + duration pushed */

    /* Lifecycle. A separate lock because it is held across state changes
     * and seeks, which wait for the feeder's streaming thread; that
     * thread therefore must never take it. */
    GMutex ctl_lock;
    gboolean started;
    gboolean stopped;
} Feeder;

static void feeder_clear(gpointer data)
{
    Feeder *fd = data;

    gst_object_unref(fd->pipeline);
    gst_object_unref(fd->appsrc);
    g_source_unref(fd->bus_source);
    if (fd->caps != NULL)
        gst_caps_unref(fd->caps);
    g_mutex_clear(&fd->lock);
    g_mutex_clear(&fd->ctl_lock);
}

static void feeder_release(gpointer data)
{
    g_atomic_rc_box_release_full(data, feeder_clear);
}

static void feeder_end_stream(Feeder *fd)
{
    GstFlowReturn ret;

    /* Clients then get an RTCP BYE, which ffmpeg reports as end of file. */
    g_signal_emit_by_name(fd->appsrc, "end-of-stream", &ret);
}

/* Stops reading for good. Called when the media is unprepared (last
 * client gone) and again, harmlessly, when the media is finalised. */
static void feeder_stop(Feeder *fd)
{
    g_mutex_lock(&fd->ctl_lock);
    if (!fd->stopped) {
        fd->stopped = TRUE;
        g_signal_handlers_disconnect_by_data(fd->appsrc, fd);
        gst_element_set_state(fd->pipeline, GST_STATE_NULL);
        g_source_destroy(fd->bus_source);
    }
    g_mutex_unlock(&fd->ctl_lock);
}

static void feeder_on_unprepared(GstRTSPMedia *media, gpointer data)
{
    (void)media;
    feeder_stop(data);
}

static void feeder_media_gone(gpointer data)
{
    feeder_stop(data);
    feeder_release(data);
}

/* appsrc asks for data only once the media pipeline is PLAYING (a live
 * source does not run before), so starting the file here means the media
 * clock exists for the first re-stamping and nothing piles up in appsrc
 * while the media is still being set up. */
static void feeder_on_need_data(GstElement *appsrc, guint length, gpointer data)
{
    Feeder *fd = data;

    (void)appsrc;
    (void)length;
    g_mutex_lock(&fd->ctl_lock);
    if (!fd->started && !fd->stopped) {
        fd->started = TRUE;
        gst_element_set_state(fd->pipeline, GST_STATE_PLAYING);
    }
    g_mutex_unlock(&fd->ctl_lock);
}

static void feeder_on_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
    Feeder *fd = data;
    GstPad *sink = gst_element_get_static_pad(fd->parser, "sink");

    (void)demux;
    /* Link the first track of the codec found at startup; audio and other
     * tracks stay unlinked, which qtdemux tolerates. */
    if (!gst_pad_is_linked(sink) && codec_of_pad(pad) == fd->codec)
        gst_pad_link(pad, sink);
    gst_object_unref(sink);
}

/* Runs in the feeder's streaming thread, at real time because the
 * appsink syncs on the clock. Re-stamps each access unit onto the media's
 * running time and hands it to the media's appsrc. */
static GstFlowReturn feeder_on_new_sample(GstElement *appsink, gpointer data)
{
    Feeder *fd = data;
    GstSample *sample = NULL;

    g_signal_emit_by_name(appsink, "pull-sample", &sample);
    if (sample == NULL)
        return GST_FLOW_FLUSHING;

    GstBuffer *in = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    if (in == NULL) {
        gst_sample_unref(sample);
        return GST_FLOW_OK;
    }

    GstClockTime pts = GST_BUFFER_PTS(in);
    GstClockTime dts = GST_BUFFER_DTS(in);
    GstClockTime dur = GST_BUFFER_DURATION(in);
    /* Decode order is what must increase; fall back to PTS if the
     * demuxer gave no DTS. */
    GstClockTime key = GST_CLOCK_TIME_IS_VALID(dts) ? dts : pts;
    if (!GST_CLOCK_TIME_IS_VALID(key)) {
        /* Cannot be placed in time; parsers do not produce these. */
        gst_sample_unref(sample);
        return GST_FLOW_OK;
    }

    g_mutex_lock(&fd->lock);
    if (caps != NULL && (fd->caps == NULL || !gst_caps_is_equal(caps, fd->caps))) {
        gst_caps_replace(&fd->caps, caps);
        g_object_set(fd->appsrc, "caps", caps, NULL);
    }

    if (fd->need_anchor) {
        /* Start of a pass over the file: map this access unit to "now" on
         * the media clock, so that wall time and stream time stay in step
         * however long the rewind took. Never go backwards, though: the
         * new pass must start after everything already sent, in decode
         * order and in presentation order. */
        GstClockTime now = gst_element_get_current_running_time(fd->appsrc);
        gint64 off = (GST_CLOCK_TIME_IS_VALID(now) ? (gint64)now : 0) - (gint64)key;

        if (fd->have_last) {
            if ((gint64)key + off <= fd->last_key_out)
                off = fd->last_key_out + 1 - (gint64)key;
            if (GST_CLOCK_TIME_IS_VALID(pts) && (gint64)pts + off < fd->max_pts_end_out)
                off = fd->max_pts_end_out - (gint64)pts;
        }
        fd->offset = off;
        fd->need_anchor = FALSE;
    }

    /* Shallow copy: new metadata, same (refcounted) memory. */
    GstBuffer *out = gst_buffer_copy(in);
    gint64 key_out = (gint64)key + fd->offset;
    if (key_out < 0)
        key_out = 0;
    if (GST_CLOCK_TIME_IS_VALID(pts)) {
        gint64 p = MAX((gint64)pts + fd->offset, 0);
        GST_BUFFER_PTS(out) = (GstClockTime)p;
        if (GST_CLOCK_TIME_IS_VALID(dur))
            p += (gint64)dur;
        if (!fd->have_last || p > fd->max_pts_end_out)
            fd->max_pts_end_out = p;
    }
    if (GST_CLOCK_TIME_IS_VALID(dts))
        GST_BUFFER_DTS(out) = (GstClockTime)key_out;
    fd->last_key_out = key_out;
    fd->have_last = TRUE;
    g_mutex_unlock(&fd->lock);

    /* The action signal does not take ownership, unlike
     * gst_app_src_push_buffer(). appsrc does not block (block=false), so
     * this thread never waits on the media side. */
    GstFlowReturn ret = GST_FLOW_OK;
    g_signal_emit_by_name(fd->appsrc, "push-buffer", out, &ret);
    gst_buffer_unref(out);
    gst_sample_unref(sample);
    /* FLUSHING/EOS here mean the media is going away: stop reading. */
    return ret;
}

static gboolean feeder_on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    Feeder *fd = data;

    (void)bus;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
        g_mutex_lock(&fd->ctl_lock);
        if (fd->stopped) {
            g_mutex_unlock(&fd->ctl_lock);
            break;
        }
        if (fd->loop) {
            g_mutex_lock(&fd->lock);
            fd->need_anchor = TRUE;
            g_mutex_unlock(&fd->lock);
            /* The EOS message comes once the last frame's time has passed
             * (the appsink syncs), so rewinding now keeps the pace. A
             * flushing seek restarts the feeder's running time; the
             * re-anchoring above hides that from the clients. */
            if (!gst_element_seek_simple(fd->pipeline, GST_FORMAT_TIME,
                                         GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0)) {
                fprintf(stderr, PROG ": cannot rewind '%s'; ending the stream\n", fd->file);
                feeder_end_stream(fd);
            }
        } else {
            feeder_end_stream(fd);
        }
        g_mutex_unlock(&fd->ctl_lock);
        break;
    case GST_MESSAGE_ERROR: {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        fprintf(stderr, PROG ": error reading '%s': %s; ending the stream\n", fd->file,
                err->message);
        g_error_free(err);
        g_mutex_lock(&fd->ctl_lock);
        if (!fd->stopped)
            feeder_end_stream(fd);
        g_mutex_unlock(&fd->ctl_lock);
        break;
    }
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

typedef struct {
    const char *file;
    Codec codec;
    gboolean loop;
} FileConfig;

static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer data)
{
    const FileConfig *cfg = data;
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstElement *appsrc = gst_bin_get_by_name(GST_BIN(bin), "src");

    (void)factory;
    gst_object_unref(bin);
    if (appsrc == NULL) {
        fprintf(stderr, PROG ": internal error: media has no appsrc\n");
        return;
    }

    /* Live, time-stamped by us. Bound the queue to a few seconds and drop
     * the oldest data beyond that, as a camera would, in case the media
     * stops pulling without being torn down. */
    g_object_set(appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE, "block",
                 FALSE, "max-bytes", (guint64)0, "max-time", (guint64)(5 * GST_SECOND), NULL);
    gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");

    Feeder *fd = g_atomic_rc_box_new0(Feeder);
    g_mutex_init(&fd->lock);
    g_mutex_init(&fd->ctl_lock);
    fd->appsrc = appsrc;
    fd->codec = cfg->codec;
    fd->loop = cfg->loop;
    fd->file = cfg->file;
    fd->need_anchor = TRUE;

    /* Elements are created one by one rather than from a launch string so
     * that file names need no quoting. */
    fd->pipeline = gst_pipeline_new("fakecam-feeder");
    GstElement *src = gst_element_factory_make("filesrc", NULL);
    GstElement *demux = gst_element_factory_make("qtdemux", NULL);
    fd->parser = gst_element_factory_make(codec_parser(cfg->codec), NULL);
    GstElement *sink = gst_element_factory_make("appsink", NULL);
    g_object_set(src, "location", cfg->file, NULL);
    g_object_set(sink, "sync", TRUE, /* this is what paces the file */
                 "emit-signals", TRUE, "enable-last-sample", FALSE, NULL);
    gst_bin_add_many(GST_BIN(fd->pipeline), src, demux, fd->parser, sink, NULL);
    gst_element_link(src, demux);
    gst_element_link(fd->parser, sink);
    g_signal_connect(demux, "pad-added", G_CALLBACK(feeder_on_pad_added), fd);
    g_signal_connect(sink, "new-sample", G_CALLBACK(feeder_on_new_sample), fd);

    /* Bus messages are handled in the main loop's context: the loop's
     * rewind must not run in a streaming thread of the feeder itself. */
    GstBus *bus = gst_element_get_bus(fd->pipeline);
    fd->bus_source = gst_bus_create_watch(bus);
    gst_object_unref(bus);
    g_source_set_callback(fd->bus_source, G_SOURCE_FUNC(feeder_on_bus), g_atomic_rc_box_acquire(fd),
                          feeder_release);
    g_source_attach(fd->bus_source, NULL);

    g_signal_connect(appsrc, "need-data", G_CALLBACK(feeder_on_need_data), fd);
    g_signal_connect(media, "unprepared", G_CALLBACK(feeder_on_unprepared), fd);
    /* The media owns the feeder's first reference. */
    g_object_set_data_full(G_OBJECT(media), "camwatch-fakecam-feeder", fd, feeder_media_gone);
}

/* ------------------------------------------------------------------ */
/* Packet dropper: loses a share of the RTP packets on purpose         */
/* ------------------------------------------------------------------ */

/*
 * A pad probe on the payloader's source pad, where packets have their RTP
 * sequence numbers but have not reached the RTP session yet: a dropped
 * packet leaves a gap in the sequence, exactly as one lost on the network
 * does, whichever transport the client chose. One dropper serves every
 * media of the factory, so its counts cover the whole run.
 */
typedef struct {
    double share; /* 0..1 */
    GMutex lock;  /* payloaders of several media may push at once */
    GRand *rand;
    guint64 seen;
    guint64 dropped;
} Dropper;

static gboolean dropper_drops(Dropper *d)
{
    g_mutex_lock(&d->lock);
    gboolean drop = g_rand_double(d->rand) < d->share;
    d->seen++;
    d->dropped += drop;
    g_mutex_unlock(&d->lock);
    return drop;
}

static GstPadProbeReturn dropper_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    Dropper *d = data;

    (void)pad;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        return dropper_drops(d) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        /* Payloaders push a fragmented frame as one list of packets. */
        GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
        GST_PAD_PROBE_INFO_DATA(info) = list;
        for (guint i = gst_buffer_list_length(list); i-- > 0;) {
            if (dropper_drops(d))
                gst_buffer_list_remove(list, i, 1);
        }
        /* DROP unreferences the (now empty) list. */
        return gst_buffer_list_length(list) == 0 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
    }
    return GST_PAD_PROBE_OK;
}

static void dropper_on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                                       gpointer data)
{
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstElement *pay = gst_bin_get_by_name(GST_BIN(bin), "pay0");

    (void)factory;
    gst_object_unref(bin);
    if (pay == NULL) {
        fprintf(stderr, PROG ": internal error: media has no payloader\n");
        return;
    }
    GstPad *src = gst_element_get_static_pad(pay, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                      dropper_probe, data, NULL);
    gst_object_unref(src);
    gst_object_unref(pay);
}

/* ------------------------------------------------------------------ */
/* Refusing a transport with 400 Bad Request                           */
/* ------------------------------------------------------------------ */

/*
 * gst-rtsp-server answers a SETUP for a transport the factory does not
 * allow with 461 Unsupported Transport. Some cameras answer 400 Bad Request
 * instead: this hook gives that answer first, from the Transport header.
 */
static GstRTSPStatusCode refuse_setup_400(GstRTSPClient *client, GstRTSPContext *ctx, gpointer data)
{
    const GstRTSPLowerTrans *allowed = data;
    char *transport = NULL;

    (void)client;
    if (gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_TRANSPORT, &transport, 0) !=
            GST_RTSP_OK ||
        transport == NULL)
        return GST_RTSP_STS_OK; /* the server refuses that by itself */
    gboolean tcp = strstr(transport, "/TCP") != NULL;
    gboolean ok =
        tcp ? (*allowed & GST_RTSP_LOWER_TRANS_TCP) != 0
            : (*allowed & (GST_RTSP_LOWER_TRANS_UDP | GST_RTSP_LOWER_TRANS_UDP_MCAST)) != 0;
    return ok ? GST_RTSP_STS_OK : GST_RTSP_STS_BAD_REQUEST;
}

static void on_client_connected(GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
    (void)server;
    g_signal_connect(client, "pre-setup-request", G_CALLBACK(refuse_setup_400), data);
}

/* ------------------------------------------------------------------ */
/* Dropping and restoring one mount (SIGUSR1: main, SIGUSR2: sub)      */
/* ------------------------------------------------------------------ */

typedef struct {
    GstRTSPServer *server;
    GstRTSPMediaFactory *factory; /* our reference; the mount points hold another while served */
    const char *path;
    gboolean served;
} Mount;

typedef struct {
    const char *path;
    gboolean hit;
} PathMatch;

static GstRTSPFilterResult media_on_path(GstRTSPSession *sess, GstRTSPSessionMedia *media,
                                         gpointer data)
{
    PathMatch *m = data;
    gint matched;

    (void)sess;
    if (gst_rtsp_session_media_matches(media, m->path, &matched))
        m->hit = TRUE;
    return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult session_on_path(GstRTSPClient *client, GstRTSPSession *sess,
                                           gpointer data)
{
    (void)client;
    gst_rtsp_session_filter(sess, media_on_path, data);
    return GST_RTSP_FILTER_KEEP;
}

/* A client playing the mount is disconnected, as by a camera's stream that stops. */
static GstRTSPFilterResult drop_client_of_path(GstRTSPServer *server, GstRTSPClient *client,
                                               gpointer data)
{
    PathMatch m = {.path = data};

    (void)server;
    gst_rtsp_client_session_filter(client, session_on_path, &m);
    return m.hit ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

static gboolean on_toggle_mount(gpointer data)
{
    Mount *m = data;
    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(m->server);

    if (m->served) {
        gst_rtsp_mount_points_remove_factory(mounts, m->path);
        gst_rtsp_server_client_filter(m->server, drop_client_of_path, (gpointer)m->path);
    } else {
        /* The mount points take a reference of their own. */
        gst_rtsp_mount_points_add_factory(mounts, m->path, g_object_ref(m->factory));
    }
    g_object_unref(mounts);
    m->served = !m->served;
    printf(PROG ": mount %s %s\n", m->path, m->served ? "restored" : "dropped");
    fflush(stdout);
    return G_SOURCE_CONTINUE;
}

/*
 * The sub-stream's media: the main one's source, decoded, scaled down and
 * encoded again, as a camera's second encoder does. A file goes through a
 * feeder of its own (on_media_configure), from the file's start when the
 * mount's first client plays; two clients that start together, as the two
 * capture workers of camwatch do, see the two mounts in step.
 */
static char *sub_launch(const Options *o, Codec codec)
{
    char scaled[256];
    g_snprintf(scaled, sizeof scaled,
               "videoscale ! video/x-raw,width=%d,height=%d "
               "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=20 "
               "sliced-threads=false ! rtph264pay name=pay0 pt=96 config-interval=-1",
               o->sub_width, o->sub_height);
    if (o->file)
        return g_strdup_printf("( appsrc name=src ! %s ! %s ! %s )", codec_parser(codec),
                               codec == CODEC_H265 ? "avdec_h265" : "avdec_h264", scaled);
    return g_strdup_printf("( videotestsrc pattern=ball is-live=true "
                           "! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! %s )",
                           o->width, o->height, o->fps, scaled);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static gboolean on_quit_signal(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static GstRTSPFilterResult drop_client(GstRTSPServer *server, GstRTSPClient *client, gpointer data)
{
    (void)server;
    (void)client;
    (void)data;
    return GST_RTSP_FILTER_REMOVE;
}

/* The role's permissions on a factory: see and build its media. */
static void allow_role(GstRTSPMediaFactory *factory)
{
    gst_rtsp_media_factory_add_role(factory, AUTH_ROLE, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, NULL);
}

/*
 * The server's GstRTSPAuth for --user (Basic or Digest) and --tls-cert:
 * NULL when neither is asked for. Exits 66 when the certificate cannot be
 * loaded.
 */
static GstRTSPAuth *make_auth(const Options *o)
{
    if (!o->user && !o->tls_cert)
        return NULL;
    GstRTSPAuth *auth = gst_rtsp_auth_new();
    GstRTSPToken *token =
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, AUTH_ROLE, NULL);

    if (o->user && o->digest) {
        /* The server keeps the password and checks the client's MD5
         * response to its nonce; it offers Digest alone, so a client that
         * can only do Basic fails as it would with such a camera. */
        gst_rtsp_auth_add_digest(auth, o->user, o->password, token);
        gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_DIGEST);
    } else if (o->user) {
        /* base64("user:password"), the credential as a client sends it. */
        char *basic = gst_rtsp_auth_make_basic(o->user, o->password);
        gst_rtsp_auth_add_basic(auth, basic, token);
        memset(basic, 0, strlen(basic));
        g_free(basic);
    } else {
        /* TLS without a user: everyone may play. */
        gst_rtsp_auth_set_default_token(auth, token);
    }
    /* With a user and no default token, unauthenticated requests get 401
     * with a challenge; only the role may see and build the media. */
    gst_rtsp_token_unref(token);

    if (o->tls_cert) {
        GError *err = NULL;
        GTlsCertificate *cert = g_tls_certificate_new_from_files(o->tls_cert, o->tls_key, &err);
        if (!cert) {
            fprintf(stderr, PROG ": cannot load --tls-cert/--tls-key: %s\n", err->message);
            exit(EXIT_NOINPUT);
        }
        gst_rtsp_auth_set_tls_certificate(auth, cert);
        g_object_unref(cert);
    }
    return auth;
}

int main(int argc, char **argv)
{
    Options opt;

    parse_args(argc, argv, &opt);

    /* stdout may be a pipe a test closes early; a write error is harmless. */
    signal(SIGPIPE, SIG_IGN);

    /* Not handing argv to GStreamer: its own --gst-* options are not part
     * of this tool's interface. */
    gst_init(NULL, NULL);

    Codec codec = opt.codec != CODEC_NONE ? opt.codec : CODEC_H264;
    char *launch;
    FileConfig file_cfg = {0};

    require_element(codec_payloader(codec), "gstreamer1.0-plugins-good");
    if (opt.audio != AUDIO_NONE) {
        require_element("audiotestsrc", "gstreamer1.0-plugins-base");
        require_element("audioconvert", "gstreamer1.0-plugins-base");
    }
    if (opt.audio == AUDIO_AAC) {
        require_element("avenc_aac", "gstreamer1.0-libav");
        require_element("aacparse", "gstreamer1.0-plugins-good");
        require_element("rtpmp4gpay", "gstreamer1.0-plugins-good");
    } else if (opt.audio != AUDIO_NONE) {
        require_element(opt.audio == AUDIO_PCMA ? "alawenc" : "mulawenc",
                        "gstreamer1.0-plugins-good");
        require_element(opt.audio == AUDIO_PCMA ? "rtppcmapay" : "rtppcmupay",
                        "gstreamer1.0-plugins-good");
    }
    if (opt.file) {
        require_element("filesrc", "gstreamer1.0-plugins-base");
        require_element("qtdemux", "gstreamer1.0-plugins-good");
        require_element("appsrc", "gstreamer1.0-plugins-base");
        require_element("appsink", "gstreamer1.0-plugins-base");

        Codec found = probe_file(opt.file);
        if (opt.codec != CODEC_NONE && opt.codec != found)
            usage_error("--codec %s given, but '%s' contains %s", codec_name(opt.codec), opt.file,
                        codec_label(found));
        codec = found;
        require_element(codec_payloader(codec), "gstreamer1.0-plugins-good");
        require_element(codec_parser(codec), "gstreamer1.0-plugins-bad");

        file_cfg = (FileConfig){.file = opt.file, .codec = codec, .loop = opt.loop};
        /* config-interval=-1: parameter sets in front of every keyframe, so
         * a client joining mid-stream can decode from the next one. */
        launch = g_strdup_printf("( appsrc name=src ! %s name=pay0 pt=96 "
                                 "config-interval=-1 %s)",
                                 codec_payloader(codec), audio_branch(opt.audio));
    } else {
        const char *enc = codec == CODEC_H265 ? "x265enc" : "x264enc";

        require_element("videotestsrc", "gstreamer1.0-plugins-base");
        require_element(enc, codec == CODEC_H265 ? "gstreamer1.0-plugins-bad"
                                                 : "gstreamer1.0-plugins-ugly");
        /* ultrafast keeps the test camera's CPU use small next to
         * camwatch's; a keyframe every 2 s bounds the join delay. One slice
         * per picture, as cameras send it: zerolatency's sliced threads
         * give several, which FFmpeg's RTSP input hands out as separate
         * packets with one timestamp and then decodes as corrupt frames. */
        launch = g_strdup_printf("( videotestsrc pattern=ball is-live=true "
                                 "! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 "
                                 "! %s tune=zerolatency speed-preset=ultrafast key-int-max=%d %s"
                                 "! %s name=pay0 pt=96 config-interval=-1 %s)",
                                 opt.width, opt.height, opt.fps, enc, 2 * opt.fps,
                                 codec == CODEC_H265 ? "" : "sliced-threads=false ",
                                 codec_payloader(codec), audio_branch(opt.audio));
    }

    GstRTSPServer *server = gst_rtsp_server_new();
    char service[8];
    g_snprintf(service, sizeof service, "%u", opt.port);
    gst_rtsp_server_set_address(server, "127.0.0.1");
    gst_rtsp_server_set_service(server, service);

    GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, launch);
    g_free(launch);
    /* One pipeline for all clients: they all see the same live stream. */
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    /* A live tone beside the file's appsrc makes the pipeline answer the
     * seeking query (audiotestsrc can seek), so PLAY would seek, which the
     * appsrc refuses (503). Media that publish their clock and offset are
     * never seeked, and FFmpeg ignores the SDP lines that say so. */
    if (opt.file && opt.audio != AUDIO_NONE)
        gst_rtsp_media_factory_set_publish_clock_mode(factory,
                                                      GST_RTSP_PUBLISH_CLOCK_MODE_CLOCK_AND_OFFSET);
    if (opt.file)
        g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), &file_cfg);
    GstRTSPAuth *auth = make_auth(&opt);
    if (auth) {
        allow_role(factory);
        gst_rtsp_server_set_auth(server, auth);
        g_object_unref(auth);
    }
    /* A client asking for another transport gets 461 Unsupported transport. */
    gst_rtsp_media_factory_set_protocols(factory, opt.protocols);
    if (opt.refuse_status == 400)
        g_signal_connect(server, "client-connected", G_CALLBACK(on_client_connected),
                         &opt.protocols);
    /* Static: streaming threads may still push while the server goes away. */
    static Dropper dropper;
    dropper.share = opt.drop_percent / 100.0;
    g_mutex_init(&dropper.lock);
    dropper.rand = g_rand_new_with_seed(DROP_SEED);
    if (opt.drop_percent > 0)
        g_signal_connect(factory, "media-configure", G_CALLBACK(dropper_on_media_configure),
                         &dropper);

    GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
    /* The mount points own their reference; the Mount keeps one for a restore. */
    static Mount main_mount, sub_mount;
    main_mount = (Mount){
        .server = server, .factory = g_object_ref(factory), .path = opt.path, .served = TRUE};
    gst_rtsp_mount_points_add_factory(mounts, opt.path, factory);
    if (opt.sub_path) {
        require_element("x264enc", "gstreamer1.0-plugins-ugly");
        require_element("videoscale", "gstreamer1.0-plugins-base");
        if (opt.file)
            require_element(codec == CODEC_H265 ? "avdec_h265" : "avdec_h264",
                            "gstreamer1.0-libav");
        GstRTSPMediaFactory *sub = gst_rtsp_media_factory_new();
        char *sub_line = sub_launch(&opt, codec);
        gst_rtsp_media_factory_set_launch(sub, sub_line);
        g_free(sub_line);
        gst_rtsp_media_factory_set_shared(sub, TRUE);
        gst_rtsp_media_factory_set_protocols(sub, opt.protocols);
        if (opt.file)
            g_signal_connect(sub, "media-configure", G_CALLBACK(on_media_configure), &file_cfg);
        if (auth)
            allow_role(sub);
        sub_mount = (Mount){
            .server = server, .factory = g_object_ref(sub), .path = opt.sub_path, .served = TRUE};
        gst_rtsp_mount_points_add_factory(mounts, opt.sub_path, sub);
    }
    g_object_unref(mounts);

    guint server_source = gst_rtsp_server_attach(server, NULL);
    if (server_source == 0) {
        fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%u (port in use?)\n", opt.port);
        g_object_unref(server);
        return EXIT_UNAVAILABLE;
    }

    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_quit_signal, loop);
    g_unix_signal_add(SIGTERM, on_quit_signal, loop);
    g_unix_signal_add(SIGUSR1, on_toggle_mount, &main_mount);
    if (opt.sub_path)
        g_unix_signal_add(SIGUSR2, on_toggle_mount, &sub_mount);

    /* Tests wait for this line; it carries the port actually bound (which
     * matters with --port 0) and never the credentials. */
    const char *scheme = opt.tls_cert ? "rtsps" : "rtsp";
    printf(PROG ": serving %s://127.0.0.1:%d%s\n", scheme, gst_rtsp_server_get_bound_port(server),
           opt.path);
    if (opt.sub_path)
        printf(PROG ": serving %s://127.0.0.1:%d%s (sub-stream, %dx%d)\n", scheme,
               gst_rtsp_server_get_bound_port(server), opt.sub_path, opt.sub_width, opt.sub_height);
    fflush(stdout);

    g_main_loop_run(loop);

    /* Stop accepting, then close the sessions so that media pipelines are
     * torn down before the process exits. */
    g_source_remove(server_source);
    gst_rtsp_server_client_filter(server, drop_client, NULL);
    g_main_loop_unref(loop);
    g_object_unref(main_mount.factory);
    if (sub_mount.factory)
        g_object_unref(sub_mount.factory);
    g_object_unref(server);
    if (opt.drop_percent > 0) {
        g_mutex_lock(&dropper.lock);
        printf(PROG ": dropped %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " RTP packets\n",
               dropper.dropped, dropper.seen);
        g_mutex_unlock(&dropper.lock);
    }
    return 0;
}
