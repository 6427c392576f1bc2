/*
 * The live view. Locking: one mutex guards the current JPEG, its
 * generation, the viewer count and the stop flag; `fresh` is broadcast when
 * a new JPEG (or the stop) is there, `wanted` signalled when a viewer comes
 * or the stop begins. A JPEG is shared by reference counting: a viewer
 * holds the one it is sending while the encoder replaces the current one.
 */
#define _GNU_SOURCE
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/mem.h>

#include "clock.h"
#include "jpeg.h"
#include "log.h"

/* A viewer waiting this long for a JPEG (camera down) gets a chance to notice a closed peer. */
#define VIEWER_WAIT_MS 2000
/* The encoder looks again this soon when the ring holds no new frame. */
#define NO_FRAME_RETRY_MS 100

typedef struct LiveJpeg {
    _Atomic int refs;
    size_t size;
    uint8_t *data; /* av_malloc'd */
} LiveJpeg;

struct HttpLive {
    const CwRing *frames, *events;
    int64_t interval_ns;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t fresh, wanted; /* CLOCK_MONOTONIC */
    LiveJpeg *current;            /* the newest JPEG, or NULL */
    uint64_t generation;          /* bumped with every new `current` */
    int viewers;
    bool stopping;
};

typedef struct Viewer {
    HttpLive *live;
    LiveJpeg *jpeg; /* the part being sent, held */
    uint64_t generation;
    char head[160]; /* the part's boundary and headers */
    size_t head_len, part_len, part_pos;
} Viewer;

static void jpeg_unref(LiveJpeg **jpeg)
{
    if (*jpeg && atomic_fetch_sub(&(*jpeg)->refs, 1) == 1) {
        av_free((*jpeg)->data);
        free(*jpeg);
    }
    *jpeg = NULL;
}

static void deadline_in(struct timespec *ts, int64_t ns)
{
    int64_t at = cw_mono_ns() + ns;
    ts->tv_sec = at / CW_NS_PER_SEC;
    ts->tv_nsec = at % CW_NS_PER_SEC;
}

static void *encoder_main(void *arg)
{
    HttpLive *live = arg;
    uint64_t last_seq = 0;
    struct timespec until;

    pthread_mutex_lock(&live->lock);
    while (!live->stopping) {
        if (!live->viewers) {
            pthread_cond_wait(&live->wanted, &live->lock); /* nobody watches: sleep */
            continue;
        }
        pthread_mutex_unlock(&live->lock);
        int64_t wait_ns = live->interval_ns;
        uint64_t seq = cw_ring_write_seq(live->frames);
        LiveJpeg *jpeg = NULL;
        if (seq != last_seq && (jpeg = calloc(1, sizeof(*jpeg)))) {
            int64_t wall_ns;
            int ret = http_jpeg_latest(live->frames, live->events, true, 0, &jpeg->data,
                                       &jpeg->size, &wall_ns);
            if (ret < 0) {
                free(jpeg);
                jpeg = NULL;
                wait_ns = NO_FRAME_RETRY_MS * CW_NS_PER_MSEC;
            } else {
                atomic_init(&jpeg->refs, 1);
                last_seq = seq;
            }
        } else if (seq == last_seq) {
            wait_ns = NO_FRAME_RETRY_MS * CW_NS_PER_MSEC; /* no new frame yet */
        }
        pthread_mutex_lock(&live->lock);
        if (jpeg) {
            jpeg_unref(&live->current);
            live->current = jpeg; /* ownership of our reference passes to `current` */
            live->generation++;
            pthread_cond_broadcast(&live->fresh);
        }
        /* The stop wakes this wait through `wanted`. */
        deadline_in(&until, wait_ns);
        while (!live->stopping &&
               pthread_cond_timedwait(&live->wanted, &live->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&live->lock);
    return NULL;
}

int http_live_start(HttpLive **out, const CwRing *frames, const CwRing *events, double fps)
{
    pthread_condattr_t attr;
    HttpLive *live = calloc(1, sizeof(*live));
    *out = NULL;
    if (!live)
        return -ENOMEM;
    live->frames = frames;
    live->events = events;
    live->interval_ns = (int64_t)(CW_NS_PER_SEC / fps);
    pthread_mutex_init(&live->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&live->fresh, &attr);
    pthread_cond_init(&live->wanted, &attr);
    pthread_condattr_destroy(&attr);
    int ret = pthread_create(&live->thread, NULL, encoder_main, live);
    if (ret) {
        http_live_free(&live);
        return -ret;
    }
    live->thread_started = true;
    *out = live;
    return 0;
}

/* Take the next JPEG newer than the one sent last; false at the stop or after a long wait. */
static bool next_jpeg(Viewer *v)
{
    HttpLive *live = v->live;
    struct timespec until;
    deadline_in(&until, VIEWER_WAIT_MS * CW_NS_PER_MSEC);
    pthread_mutex_lock(&live->lock);
    while (!live->stopping && (!live->current || live->generation == v->generation))
        if (pthread_cond_timedwait(&live->fresh, &live->lock, &until) == ETIMEDOUT)
            break;
    bool got = !live->stopping && live->current && live->generation != v->generation;
    if (got) {
        atomic_fetch_add(&live->current->refs, 1);
        v->jpeg = live->current;
        v->generation = live->generation; /* frames in between are skipped: newest wins */
    }
    pthread_mutex_unlock(&live->lock);
    return got;
}

static ssize_t viewer_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    Viewer *v = cls;
    (void)pos;
    if (!v->jpeg || v->part_pos == v->part_len) {
        jpeg_unref(&v->jpeg);
        if (!next_jpeg(v)) {
            bool stopping;
            pthread_mutex_lock(&v->live->lock);
            stopping = v->live->stopping;
            pthread_mutex_unlock(&v->live->lock);
            /* No frame for a while (camera down): 0 asks to be called again. */
            return stopping ? MHD_CONTENT_READER_END_OF_STREAM : 0;
        }
        int n = snprintf(v->head, sizeof(v->head),
                         "--" HTTP_LIVE_BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         v->jpeg->size);
        v->head_len = (size_t)n;
        v->part_len = v->head_len + v->jpeg->size + 2; /* + "\r\n" */
        v->part_pos = 0;
    }
    size_t done = 0;
    while (done < max && v->part_pos < v->part_len) {
        const char *src;
        size_t avail;
        if (v->part_pos < v->head_len) {
            src = v->head + v->part_pos;
            avail = v->head_len - v->part_pos;
        } else if (v->part_pos < v->head_len + v->jpeg->size) {
            size_t off = v->part_pos - v->head_len;
            src = (const char *)v->jpeg->data + off;
            avail = v->jpeg->size - off;
        } else {
            size_t off = v->part_pos - v->head_len - v->jpeg->size;
            src = "\r\n" + off;
            avail = 2 - off;
        }
        size_t n = avail < max - done ? avail : max - done;
        memcpy(buf + done, src, n);
        done += n;
        v->part_pos += n;
    }
    return (ssize_t)done;
}

static void viewer_free(void *cls)
{
    Viewer *v = cls;
    jpeg_unref(&v->jpeg);
    pthread_mutex_lock(&v->live->lock);
    v->live->viewers--;
    pthread_mutex_unlock(&v->live->lock);
    free(v);
}

struct MHD_Response *http_live_response(HttpLive *live)
{
    Viewer *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->live = live;
    pthread_mutex_lock(&live->lock);
    bool room = live->viewers < HTTP_LIVE_VIEWERS_MAX && !live->stopping;
    if (room) {
        live->viewers++;
        pthread_cond_signal(&live->wanted); /* wake the encoder */
    }
    pthread_mutex_unlock(&live->lock);
    if (!room) {
        free(v);
        return NULL;
    }
    /* From here viewer_free() owns v, also when the response is never sent. */
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, viewer_read, v, viewer_free);
    if (!resp) {
        viewer_free(v);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "multipart/x-mixed-replace; boundary=" HTTP_LIVE_BOUNDARY);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return resp;
}

void http_live_stop(HttpLive *live)
{
    if (!live)
        return;
    pthread_mutex_lock(&live->lock);
    live->stopping = true;
    pthread_cond_broadcast(&live->fresh);
    pthread_cond_broadcast(&live->wanted);
    pthread_mutex_unlock(&live->lock);
}

void http_live_free(HttpLive **live)
{
    HttpLive *l = *live;
    if (!l)
        return;
    if (l->thread_started) {
        http_live_stop(l);
        pthread_join(l->thread, NULL);
    }
    jpeg_unref(&l->current);
    pthread_cond_destroy(&l->fresh);
    pthread_cond_destroy(&l->wanted);
    pthread_mutex_destroy(&l->lock);
    free(l);
    *live = NULL;
}
