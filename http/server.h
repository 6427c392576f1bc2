/*
 * camwatch-http's requests: libmicrohttpd on a socket listen.c opened, a thread
 * per connection, every answer made from the rings' shared memory and
 * the clip folder at the time of the request. Routes:
 *   GET /               the page: live view, camera state, today's clips (page.h)
 *   GET /healthz        200 "ok" while the camera delivers and every stage
 *                       beats, else 503 with the reason (no password asked:
 *                       it is for probes, and tells nothing else)
 *   GET /api/status     the status document (status.h), JSON
 *   GET /metrics        the same as Prometheus text (metrics.h)
 *   GET /latest.jpg     the newest frame, boxes drawn (?boxes=0 without)
 *   GET /live.mjpeg     multipart MJPEG of the frames, boxes drawn, at most LIVE_FPS (live.h)
 *   GET /live.mjpeg     the frames as multipart MJPEG at most LIVE_FPS, boxes drawn (live.h)
 *   GET /api/clips      delivered clips, newest first (?date=YYYY-MM-DD, ?limit=N)
 *   GET /clips/DAY/FILE a clip, snapshot or sidecar, with byte ranges
 * Every route but /healthz asks for HTTP_PASSWORD (HTTP Basic, any user
 * name) when one is set.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_HTTP_SERVER_H
#define CAMWATCH_HTTP_SERVER_H

#include "config.h"
#include "rings.h"

typedef struct HttpServer HttpServer;

/*
 * Serve on `listen_fd` (a listening socket; the server owns it from now
 * on, whatever the result). `cfg` and `rings` must outlive the server; any
 * ring may be NULL. Returns 0 and sets *server, or -ENOMEM, or -EIO if
 * libmicrohttpd would not start (logged).
 */
int http_server_start(HttpServer **server, const CwConfig *cfg,
                      CwRing *const rings[CW_RING_KIND_COUNT], int listen_fd);

/* Stop serving (open requests are cut) and free the server; sets *server to NULL. */
void http_server_stop(HttpServer **server);

#endif /* CAMWATCH_HTTP_SERVER_H */
