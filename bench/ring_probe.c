/*
 * Looks into a running camwatch's rings for `make bench` (bench/run builds
 * and runs it). Two modes:
 *
 *   ring_probe latency CAMERA SECONDS
 *     Attaches a reader with role "bench" to the camera's frames ring and
 *     another to its events ring (one thread each; a reader costs the writer
 *     one sem_post per slot, nothing else) and, for SECONDS, measures with
 *     CLOCK_REALTIME, the clock capture stamps packets with:
 *       - frame:  when a decoded frame appears in the frames ring, minus its
 *                 wall_ns (when capture received the packet that produced it):
 *                 receive + decode + publish;
 *       - event:  when the frame's event appears in the events ring, minus
 *                 the frame's wall_ns: the whole packet-arrival-to-event path
 *                 (decode, frames ring, detect's wake-up and analysis, events
 *                 ring). Reported for every event, for motion events, and
 *                 for motion onsets (an event with motion after one without);
 *       - detect: the event's appearance minus its frame's appearance, when
 *                 the probe saw both: detect's share of the path;
 *       - interval: the gap between the wall_ns of consecutive events, i.e.
 *                 how far apart the analysed frames are. A motion that
 *                 starts just after an analysed frame waits up to one gap
 *                 (less one frame) before a frame showing it is analysed.
 *     Prints one JSON object with count/p50/p99/max in milliseconds, and
 *     every sample under "raw" (so runs can be merged before percentiles).
 *
 *   ring_probe seq CAMERA
 *     Prints the write sequence of the packets, frames and events rings as
 *     one JSON object, so bench/run can tell how many slots each stage
 *     published over a window (is it keeping up with real time?).
 *
 * Rings are opened without a geometry (attach only, never create); a ring
 * that does not exist yet is waited for up to 15 s.
 */
#define _GNU_SOURCE
#include "clock.h"
#include "payload.h"
#include "ring.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 18)
#define SEEN_SLOTS  4096 /* frame_seq -> when the probe saw the frame */

static atomic_int stop_flag;

typedef struct Samples {
    int64_t *v;
    size_t n;
} Samples;

static void add(Samples *s, int64_t x)
{
    if (s->n < MAX_SAMPLES)
        s->v[s->n++] = x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void print_raw(const char *name, const Samples *s, const char *tail)
{
    printf("    \"%s\": [", name);
    for (size_t i = 0; i < s->n; i++)
        printf("%s%.3f", i ? ", " : "", (double)s->v[i] / 1e6);
    printf("]%s\n", tail);
}

static void print_samples(const char *name, Samples *s, const char *tail)
{
    qsort(s->v, s->n, sizeof(int64_t), cmp_i64);
    size_t n = s->n;
    size_t r50 = (n + 1) / 2, r99 = (size_t)((double)n * 0.99 + 0.999999);
    if (r99 < 1)
        r99 = 1;
    if (n == 0) {
        printf("  \"%s\": {\"count\": 0}%s\n", name, tail);
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)s->v[i];
    printf("  \"%s\": {\"count\": %zu, \"mean_ms\": %.2f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
           "\"max_ms\": %.2f}%s\n",
           name, n, sum / (double)n / 1e6, (double)s->v[r50 - 1] / 1e6, (double)s->v[r99 - 1] / 1e6,
           (double)s->v[n - 1] / 1e6, tail);
}

static int open_ring(CwRing **ring, const char *camera, const char *kind)
{
    char name[96], err[512];
    snprintf(name, sizeof(name), "/camwatch.%s.%s", camera, kind);
    int64_t deadline = cw_mono_ns() + 15 * CW_NS_PER_SEC;
    for (;;) {
        int ret = cw_ring_open(ring, name, NULL, 5000, err, sizeof(err));
        if (ret == 0)
            return 0;
        if (ret != -ENOENT || cw_mono_ns() > deadline) {
            fprintf(stderr, "ring_probe: %s\n", err);
            return ret;
        }
        usleep(100000);
    }
}

/* Frames side: when did each frame appear, and how long after its packet. */
typedef struct FrameProbe {
    CwRing *ring;
    Samples frame_lat;
    _Atomic int64_t seen_at[SEEN_SLOTS]; /* CLOCK_REALTIME the probe saw frame_seq */
    _Atomic uint64_t seen_seq[SEEN_SLOTS];
} FrameProbe;

static void *frames_thread(void *arg)
{
    FrameProbe *fp = arg;
    CwRingReader rd;
    if (cw_ring_attach(fp->ring, "bench", &rd) < 0) {
        fprintf(stderr, "ring_probe: no free reader entry on the frames ring\n");
        return NULL;
    }
    while (!atomic_load(&stop_flag)) {
        if (!cw_ring_wait(&rd, 100))
            continue;
        int64_t now = cw_wall_ns();
        CwRingView v;
        while (cw_ring_next(&rd, &v) == 0) {
            CwFrameHeader fh;
            if (v.len < sizeof(fh)) {
                cw_ring_done(&rd, &v);
                continue;
            }
            memcpy(&fh, v.data, sizeof(fh)); /* the header only, never the picture */
            if (!cw_ring_done(&rd, &v))
                continue;
            add(&fp->frame_lat, now - fh.wall_ns);
            atomic_store(&fp->seen_at[v.seq % SEEN_SLOTS], now);
            atomic_store(&fp->seen_seq[v.seq % SEEN_SLOTS], v.seq + 1); /* 0 = never */
        }
    }
    cw_ring_detach(&rd);
    return NULL;
}

static int latency(const char *camera, double seconds)
{
    CwRing *events = NULL;
    static FrameProbe fp;
    Samples all = {0}, motion = {0}, onset = {0}, detect = {0}, interval = {0};
    fp.frame_lat.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    all.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    motion.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    onset.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    detect.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    interval.v = calloc(MAX_SAMPLES, sizeof(int64_t));
    if (!fp.frame_lat.v || !all.v || !motion.v || !onset.v || !detect.v || !interval.v)
        return 70;
    if (open_ring(&fp.ring, camera, "frames") < 0 || open_ring(&events, camera, "events") < 0)
        return 69;

    pthread_t th;
    if (pthread_create(&th, NULL, frames_thread, &fp) != 0)
        return 70;

    CwRingReader rd;
    if (cw_ring_attach(events, "bench", &rd) < 0) {
        fprintf(stderr, "ring_probe: no free reader entry on the events ring\n");
        return 69;
    }
    uint64_t motion_events = 0, lost = 0;
    int prev_motion = -1;
    int64_t prev_wall = 0;
    uint64_t prev_epoch = 0, prev_seq = 0;
    int64_t end = cw_mono_ns() + (int64_t)(seconds * 1e9);
    while (cw_mono_ns() < end) {
        if (!cw_ring_wait(&rd, 100))
            continue;
        int64_t now = cw_wall_ns();
        CwRingView v;
        while (cw_ring_next(&rd, &v) == 0) {
            CwEvent ev;
            if (v.len < sizeof(ev)) {
                cw_ring_done(&rd, &v);
                continue;
            }
            memcpy(&ev, v.data, sizeof(ev));
            if (!cw_ring_done(&rd, &v))
                continue;
            add(&all, now - ev.wall_ns);
            /* Gaps only between consecutive events (none lost in between)
             * of one stream epoch (a reconnect restarts the stream). */
            if (prev_wall && v.seq == prev_seq + 1 && ev.epoch == prev_epoch &&
                ev.wall_ns > prev_wall)
                add(&interval, ev.wall_ns - prev_wall);
            prev_wall = ev.wall_ns;
            prev_epoch = ev.epoch;
            prev_seq = v.seq;
            if (ev.motion) {
                motion_events++;
                add(&motion, now - ev.wall_ns);
                if (prev_motion == 0)
                    add(&onset, now - ev.wall_ns);
            }
            prev_motion = ev.motion;
            uint64_t slot = ev.frame_seq % SEEN_SLOTS;
            if (atomic_load(&fp.seen_seq[slot]) == ev.frame_seq + 1)
                add(&detect, now - atomic_load(&fp.seen_at[slot]));
        }
    }
    lost = cw_ring_overruns(&rd);
    cw_ring_detach(&rd);
    atomic_store(&stop_flag, 1);
    pthread_join(th, NULL);

    printf("{\n  \"seconds\": %.1f,\n  \"motion_events\": %llu,\n  \"events_lost\": %llu,\n",
           seconds, (unsigned long long)motion_events, (unsigned long long)lost);
    print_samples("frame", &fp.frame_lat, ",");
    print_samples("event", &all, ",");
    print_samples("motion_event", &motion, ",");
    print_samples("motion_onset", &onset, ",");
    print_samples("detect", &detect, ",");
    print_samples("interval", &interval, ",");
    printf("  \"raw\": {\n");
    print_raw("frame", &fp.frame_lat, ",");
    print_raw("event", &all, ",");
    print_raw("motion_event", &motion, ",");
    print_raw("motion_onset", &onset, ",");
    print_raw("detect", &detect, ",");
    print_raw("interval", &interval, "");
    printf("  }\n}\n");
    cw_ring_close(&events);
    cw_ring_close(&fp.ring);
    return 0;
}

static int seq(const char *camera)
{
    static const char *const kinds[] = {"packets", "frames", "events"};
    printf("{");
    for (int i = 0; i < 3; i++) {
        char name[96], err[512];
        CwRing *ring = NULL;
        snprintf(name, sizeof(name), "/camwatch.%s.%s", camera, kinds[i]);
        if (cw_ring_open(&ring, name, NULL, 1000, err, sizeof(err)) < 0) {
            printf("%s\"%s\": null", i ? ", " : "", kinds[i]);
            continue;
        }
        printf("%s\"%s\": %llu", i ? ", " : "", kinds[i],
               (unsigned long long)cw_ring_write_seq(ring));
        cw_ring_close(&ring);
    }
    printf("}\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "latency"))
        return latency(argv[2], atof(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "seq"))
        return seq(argv[2]);
    fprintf(stderr, "usage: ring_probe latency CAMERA SECONDS | ring_probe seq CAMERA\n");
    return 64;
}
