/*
 * /live.mjpeg: the frames ring as multipart MJPEG (multipart/x-mixed-replace),
 * the moving regions outlined, at most LIVE_FPS. One encoder thread makes
 * one JPEG per frame for every viewer; each viewer sends the newest JPEG
 * whenever its connection is ready for more, so a slow viewer skips frames
 * and never slows the encoder or another viewer. The encoder sleeps while
 * nobody watches: no viewer, no cost. At most HTTP_LIVE_VIEWERS_MAX viewers.
 *
 * Needs libmicrohttpd's thread-per-connection mode: a viewer's thread
 * waits for the next JPEG inside the response's content callback.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_HTTP_LIVE_H
#define CAMWATCH_HTTP_LIVE_H

#include <microhttpd.h>

#include "ring.h"

#define HTTP_LIVE_VIEWERS_MAX 8
/* The multipart boundary (without the leading "--"). */
#define HTTP_LIVE_BOUNDARY "camwatchframe"

typedef struct HttpLive HttpLive;

/*
 * Start the encoder thread (asleep until a viewer comes) over `frames` and
 * `events` (which must outlive it), at most `fps` JPEGs a second.
 * Returns 0 and sets *live, or -ENOMEM, or pthread_create's error.
 */
int http_live_start(HttpLive **live, const CwRing *frames, const CwRing *events, double fps);

/*
 * A response streaming the live view to one more viewer, or NULL when
 * HTTP_LIVE_VIEWERS_MAX already watch (answer 503) or memory is short.
 * The caller queues and destroys it as any response.
 */
struct MHD_Response *http_live_response(HttpLive *live);

/*
 * End every viewer's stream and the encoder. Call before MHD_stop_daemon()
 * (whose connection threads it wakes), free after it: http_live_free().
 */
void http_live_stop(HttpLive *live);

/* Free what http_live_start() made; sets *live to NULL. NULL is fine. */
void http_live_free(HttpLive **live);

#endif /* CAMWATCH_HTTP_LIVE_H */
