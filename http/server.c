#define _GNU_SOURCE
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/mem.h>
#include <microhttpd.h>

#include "clips.h"
#include "jpeg.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "payload.h"
#include "status.h"

/* Connections served at once; more wait in the kernel's backlog. */
#define HTTP_CONNECTION_LIMIT 64
/* An idle connection is closed after this long. */
#define HTTP_IDLE_TIMEOUT_S 30
/* /healthz: a heartbeat older than this (or 3 TIMEOUT_SECONDS, if longer) is a hung stage. */
#define HEALTH_BEAT_MIN_S 10.0

struct HttpServer {
    struct MHD_Daemon *daemon;
    HttpLive *live;
    const CwConfig *cfg;
    CwRing *const *rings;
};

/* Queue `body` (copied) with `status` and `type`; dynamic answers are never cached. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return respond(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* A cJSON document as the answer; `doc` is freed here. */
static enum MHD_Result respond_json(struct MHD_Connection *conn, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    enum MHD_Result ret = respond(conn, MHD_HTTP_OK, "application/json", text, strlen(text));
    free(text);
    return ret;
}

/* Constant-time comparison: how long a wrong password takes tells nothing. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
    return diff == 0;
}

static bool authorised(const HttpServer *srv, struct MHD_Connection *conn)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    bool ok = user && pass && same_secret(pass, srv->cfg->http_password);
    MHD_free(user);
    MHD_free(pass);
    return ok;
}

static double number(const cJSON *obj, const char *key, double none)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) ? item->valuedouble : none;
}

/* 200 while the camera delivers and every stage that should run runs and beats. */
static enum MHD_Result serve_health(HttpServer *srv, struct MHD_Connection *conn)
{
    char why[512] = "";
    size_t n = 0;
    cJSON *st = cw_status_json(srv->cfg, srv->rings);
    if (!st)
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    double beat_limit_s = 3 * srv->cfg->timeout_s;
    if (beat_limit_s < HEALTH_BEAT_MIN_S)
        beat_limit_s = HEALTH_BEAT_MIN_S;
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(st, "camera_state");
    bool online = cJSON_IsObject(cam)
                      ? cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cam, "online"))
                      : number(cJSON_GetObjectItemCaseSensitive(st, "fps"), "input", 0) > 0;
    if (!online)
        n += (size_t)snprintf(why + n, sizeof(why) - n, "; camera offline");
    const cJSON *stage;
    cJSON_ArrayForEach(stage, cJSON_GetObjectItemCaseSensitive(st, "stages"))
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(stage, "name")->valuestring;
        const char *state = cJSON_GetObjectItemCaseSensitive(stage, "state")->valuestring;
        double age = number(stage, "heartbeat_age_seconds", -1);
        if (strcmp(state, "disabled") == 0 || strcmp(name, "camwatch-http") == 0)
            continue; /* we are answering: we run */
        if (strcmp(state, "running") != 0 && strcmp(state, "unknown") != 0)
            n += (size_t)snprintf(why + n, sizeof(why) - n, "; %s %s", name, state);
        else if (age < 0 || age > beat_limit_s)
            n += (size_t)snprintf(why + n, sizeof(why) - n, "; %s not beating", name);
        if (n >= sizeof(why))
            break;
    }
    cJSON_Delete(st);
    if (!why[0])
        return respond_text(conn, MHD_HTTP_OK, "ok\n");
    char text[600];
    snprintf(text, sizeof(text), "unhealthy: %s\n", why + 2);
    return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

static enum MHD_Result serve_metrics(HttpServer *srv, struct MHD_Connection *conn)
{
    cJSON *st = cw_status_json(srv->cfg, srv->rings);
    char *text = st ? http_metrics_text(st) : NULL;
    cJSON_Delete(st);
    if (!text)
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    enum MHD_Result ret =
        respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return ret;
}

static enum MHD_Result serve_latest(HttpServer *srv, struct MHD_Connection *conn)
{
    const char *boxes = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "boxes");
    const char *width_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "width");
    long max_width = 0;
    if (width_text) {
        char *end;
        max_width = strtol(width_text, &end, 10);
        if (!isdigit((unsigned char)width_text[0]) || *end || max_width < HTTP_JPEG_WIDTH_MIN ||
            max_width > CW_FRAME_MAX_SIDE) {
            char text[96];
            snprintf(text, sizeof(text), "width: use a whole number from %d to %d\n",
                     HTTP_JPEG_WIDTH_MIN, CW_FRAME_MAX_SIDE);
            return respond_text(conn, MHD_HTTP_BAD_REQUEST, text);
        }
    }
    uint8_t *jpeg = NULL;
    size_t size = 0;
    int64_t wall_ns = 0;
    if (!srv->rings[CW_RING_FRAMES])
        return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no frames ring\n");
    int ret = http_jpeg_latest(srv->rings[CW_RING_FRAMES], srv->rings[CW_RING_EVENTS],
                               !(boxes && strcmp(boxes, "0") == 0), (int)max_width, &jpeg, &size,
                               &wall_ns);
    if (ret == -EAGAIN)
        return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "no frame yet: the camera is not delivering\n");
    if (ret < 0) {
        cw_warn("cannot encode the newest frame: %s", strerror(-ret));
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot encode the frame\n");
    }
    enum MHD_Result r = respond(conn, MHD_HTTP_OK, "image/jpeg", jpeg, size);
    av_free(jpeg);
    return r;
}

static enum MHD_Result serve_clip_list(HttpServer *srv, struct MHD_Connection *conn)
{
    const char *date = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "date");
    const char *limit_text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
    long limit = HTTP_CLIPS_LIMIT_DEFAULT;
    if (date && *date && !http_clips_date_ok(date))
        return respond_text(conn, MHD_HTTP_BAD_REQUEST, "date: use YYYY-MM-DD\n");
    if (limit_text) {
        char *end;
        limit = strtol(limit_text, &end, 10);
        if (end == limit_text || *end || limit < 1 || limit > HTTP_CLIPS_LIMIT_MAX) {
            char text[96];
            snprintf(text, sizeof(text), "limit: use a whole number from 1 to %d\n",
                     HTTP_CLIPS_LIMIT_MAX);
            return respond_text(conn, MHD_HTTP_BAD_REQUEST, text);
        }
    }
    return respond_json(
        conn, http_clips_list(srv->cfg->video_dir, date && *date ? date : NULL, (int)limit));
}

static enum MHD_Result serve_clip_file(HttpServer *srv, struct MHD_Connection *conn,
                                       const char *rel)
{
    uint64_t size = 0, start = 0, len = 0;
    const char *type = NULL;
    char value[96];
    int fd = http_clips_open(srv->cfg->video_dir, rel, &size, &type);
    if (fd == -EACCES)
        return respond_text(conn, MHD_HTTP_FORBIDDEN,
                            "refused: /clips/ serves DAY/NAME.mp4|.jpg|.json in VIDEO_DIR only\n");
    if (fd < 0)
        return respond_text(conn, MHD_HTTP_NOT_FOUND, "no such clip file\n");
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    int partial = http_range_parse(range, size, &start, &len);
    if (partial == -ERANGE) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        snprintf(value, sizeof(value), "bytes */%" PRIu64, size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (partial != 1) {
        start = 0;
        len = size;
    }
    /* Ownership of fd passes to the response, which closes it. */
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (partial == 1) {
        snprintf(value, sizeof(value), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start,
                 start + len - 1, size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, value);
    }
    enum MHD_Result ret =
        MHD_queue_response(conn, partial == 1 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static int seen; /* marks a request whose headers we have seen */
    HttpServer *srv = cls;
    (void)version;
    (void)upload_data;

    /* The first call brings the headers only: answer on the second, as
     * libmicrohttpd expects for requests that may carry a body. */
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is ignored: every route is GET */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/healthz") == 0)
        return serve_health(srv, conn);
    if (srv->cfg->http_password[0] && !authorised(srv, conn)) {
        static const char text[] = "password required (HTTP Basic, any user name)\n";
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_basic_auth_fail_response(conn, "camwatch", resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (strcmp(url, "/") == 0) {
        size_t len;
        const char *html = http_page_html(&len);
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", html, len);
    }
    if (strcmp(url, "/api/status") == 0)
        return respond_json(conn, cw_status_json(srv->cfg, srv->rings));
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(srv, conn);
    if (strcmp(url, "/latest.jpg") == 0)
        return serve_latest(srv, conn);
    if (strcmp(url, "/live.mjpeg") == 0) {
        struct MHD_Response *resp = srv->live ? http_live_response(srv->live) : NULL;
        if (!resp)
            return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                "the live view has all the viewers it takes; try later\n");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (strcmp(url, "/api/clips") == 0)
        return serve_clip_list(srv, conn);
    if (strncmp(url, "/clips/", 7) == 0)
        return serve_clip_file(srv, conn, url + 7); /* url is percent-decoded already */
    return respond_text(
        conn, MHD_HTTP_NOT_FOUND,
        "not found: / /healthz /api/status /metrics /latest.jpg /live.mjpeg /api/clips /clips/\n");
}

/* libmicrohttpd's own errors, in our log. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    cw_warn("libmicrohttpd: %s", line);
}

int http_server_start(HttpServer **server, const CwConfig *cfg,
                      CwRing *const rings[CW_RING_KIND_COUNT], int listen_fd)
{
    HttpServer *srv = calloc(1, sizeof(*srv));
    *server = NULL;
    if (!srv) {
        close(listen_fd);
        return -ENOMEM;
    }
    srv->cfg = cfg;
    srv->rings = rings;
    if (rings[CW_RING_FRAMES] && http_live_start(&srv->live, rings[CW_RING_FRAMES],
                                                 rings[CW_RING_EVENTS], cfg->live_fps) < 0)
        cw_warn("cannot start the live view's encoder: /live.mjpeg answers 503");
    /* A thread per connection: a live viewer's waits for the next frame in
     * its own thread. Idle, only the listening thread runs, asleep in poll. */
    /* The logger first: an option before it could log through MHD's own. */
    srv->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!srv->daemon) {
        cw_error("libmicrohttpd would not start on the listening socket");
        close(listen_fd);
        http_live_free(&srv->live);
        free(srv);
        return -EIO;
    }
    *server = srv;
    return 0;
}

void http_server_stop(HttpServer **server)
{
    if (!*server)
        return;
    /* MHD_stop_daemon closes the listening socket it was given. */
    /* Live viewers wait inside their connection threads: wake them, so the
     * daemon can join those threads, then free the encoder. */
    http_live_stop((*server)->live);
    MHD_stop_daemon((*server)->daemon);
    http_live_free(&(*server)->live);
    free(*server);
    *server = NULL;
}
