/*
 * camwatch-http: status, metrics, the newest frame and the clips of one
 * camera over HTTP (HTTP_LISTEN), from the rings' shared memory and the
 * clip folder. A reader outside the data path: it takes no reader entry
 * and never writes a ring, so whether it runs, hangs or dies, no clip
 * notices. The supervisor starts it when HTTP_LISTEN is set; it can also
 * run by hand or in a container of its own beside the others.
 * A port it cannot have (in use, say) is logged and retried; it never
 * stops: recording must not depend on a port.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "exitcode.h"
#include "listen.h"
#include "log.h"
#include "ratelimit.h"
#include "rings.h"
#include "server.h"
#include "stage_start.h"

/* How often it beats (the supervisor's hung check) and looks at the stop flag. */
#define BEAT_MS 1000
/* A failed listen is told once, then again at most this often while it lasts. */
#define LISTEN_LOG_INTERVAL_NS (60 * CW_NS_PER_SEC)

static void usage(FILE *out)
{
    fprintf(out, "usage: camwatch-http [--help]\n"
                 "\n"
                 "Serves the camera's status (/api/status, /healthz, /metrics), its newest frame\n"
                 "with the moving regions outlined (/latest.jpg) and its clips (/api/clips,\n"
                 "/clips/...) on HTTP_LISTEN, read from the shared-memory rings and VIDEO_DIR.\n"
                 "Beyond loopback it asks for HTTP_PASSWORD (HTTP Basic, any user name).\n"
                 "\n");
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a stop signal ends it early: that is wanted */
}

int main(int argc, char **argv)
{
    static CwConfig cfg; /* large: paths */
    CwRing *rings[CW_RING_KIND_COUNT] = {NULL};
    HttpServer *server = NULL;
    CwRateLimit listen_log = CW_RATELIMIT_INIT(LISTEN_LOG_INTERVAL_NS);
    int code = CW_EXIT_OK;

    if (cw_stage_start("camwatch-http", usage, argc, argv, &cfg, &code) < 0)
        return code;
    if (!cfg.http_listen[0]) {
        cw_crit("HTTP_LISTEN is not set: camwatch-http has nothing to serve (set it to "
                "ADDR:PORT, e.g. 127.0.0.1:8080)");
        return CW_EXIT_CONFIG;
    }
    /* Open only: no writer place, no reader entry (every figure is read
     * from headers and slots as they are). */
    const CwRingUse uses[] = {
        {.kind = CW_RING_PACKETS, .ring = &rings[CW_RING_PACKETS]},
        {.kind = CW_RING_FRAMES, .ring = &rings[CW_RING_FRAMES]},
        {.kind = CW_RING_EVENTS, .ring = &rings[CW_RING_EVENTS]},
    };
    if (cw_rings_open_all(&cfg, uses, CW_RING_KIND_COUNT, &code) < 0)
        return code; /* logged */

    int retry_ms = (int)(cfg.retry_s * 1000);
    int64_t next_try_ns = 0;
    while (!cw_stop_requested) {
        int64_t now_ns = cw_mono_ns();
        cw_rings_heartbeat(rings[CW_RING_EVENTS], CW_STAGE_HTTP);
        if (!server && now_ns >= next_try_ns) {
            int fd = http_listen_open(cfg.http_listen);
            int ret = fd < 0 ? fd : http_server_start(&server, &cfg, rings, fd);
            if (ret == 0) {
                cw_info("serving http://%s/ for camera %s (%s)", cfg.http_listen, cfg.camera,
                        cfg.http_password[0] ? "HTTP_PASSWORD required" : "no password");
                cw_ratelimit_reset(&listen_log);
            } else {
                int64_t held = cw_ratelimit_test(&listen_log, now_ns);
                if (held >= 0)
                    cw_warn("cannot listen on HTTP_LISTEN=%s: %s%s; retrying every %g s "
                            "(recording is not affected)",
                            cfg.http_listen, strerror(-ret),
                            ret == -EADDRINUSE ? " (another program holds the port)" : "",
                            cfg.retry_s);
                next_try_ns = now_ns + (int64_t)retry_ms * CW_NS_PER_MSEC;
            }
        }
        sleep_ms(BEAT_MS);
    }
    cw_info("stopping on request");
    http_server_stop(&server);
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        cw_ring_close(&rings[kind]);
    return code;
}
