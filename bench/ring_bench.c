/*
 * Ring microbenchmark for `make bench` (bench/run builds and runs it).
 *
 * Two measurements on the real ring code (common/ring.c), with the writer
 * and two reader *processes* laid out as capture, detect and record are:
 *
 *  1. Throughput. One writer publishes 1080p YUV420P frames (a CwFrameHeader
 *     plus 1920*1080*3/2 = 3110400 bytes) as fast as it can into a ring with
 *     the frames ring's default geometry (16 slots, FRAME_BUFFER_MB=16). Each
 *     reader copies every frame it accepts out of the ring (the most a real
 *     reader could do with it) and checks it was not torn. Reported: frames/s
 *     published, frames/s each reader accepted, and what each lost. The
 *     writer never waits for readers (a camera cannot be paused), so a reader
 *     slower than the writer loses frames: that is by design, not a failure.
 *     A torn frame accepted as intact is a failure, and is counted.
 *
 *  2. Publish-to-wake latency. The writer publishes a small payload holding
 *     CLOCK_MONOTONIC taken just before cw_ring_publish() at a modest rate
 *     (default 1000/s, paced on absolute deadlines). Both readers block in
 *     cw_ring_wait(); on waking each takes CLOCK_MONOTONIC at once and
 *     records (wake - stamp) for the first slot it reads. Reported: p50, p99
 *     and max over all samples of both readers. This is semaphore post ->
 *     scheduler -> reader running, i.e. what a stage waits for per slot.
 *
 * Output: one JSON object on stdout. Progress and errors go to stderr.
 *
 *   ring_bench [--seconds S] [--rate HZ] [--samples N]
 */
#define _GNU_SOURCE
#include "clock.h"
#include "payload.h"
#include "ring.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READERS     2
#define FRAME_W     1920
#define FRAME_H     1080
#define FRAME_BYTES (FRAME_W * FRAME_H * 3 / 2)

/* Same geometry as the frames ring with the default FRAME_BUFFER_MB=16
 * (common/rings.c): the benchmark measures the ring camwatch really uses. */
static const CwRingGeometry frames_geo = {.slot_count = 16, .arena_size = 16u << 20};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* What a reader process reports back to the writer through a pipe. */
typedef struct ReaderStats {
    uint64_t accepted;     /* frames that stayed intact while copied */
    uint64_t torn;         /* frames discarded because the writer overwrote them */
    uint64_t overruns;     /* frames skipped because the reader fell behind */
    uint64_t corrupt;      /* accepted frames whose content was wrong: must be 0 */
    uint64_t sample_count; /* latency samples that follow in the pipe */
    double seconds;
} ReaderStats;

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static int64_t percentile(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/*
 * Reader process. Opens the ring by name as a stage would (not through the
 * parent's mapping), attaches, says it is ready, and reads until SIGTERM.
 * In throughput mode it copies each frame out; in latency mode it records
 * wake - stamp for the first slot after each wake-up.
 */
static void reader_main(const char *name, int index, int latency_mode, size_t max_samples,
                        int ready_fd, int result_fd)
{
    char err[256], role[CW_RING_ROLE_MAX];
    CwRing *ring = NULL;
    CwRingReader rd;
    ReaderStats st = {0};
    uint8_t *copy = NULL;
    int64_t *samples = NULL;

    if (cw_ring_open(&ring, name, &frames_geo, 5000, err, sizeof(err)) < 0) {
        fprintf(stderr, "ring_bench: reader: %s\n", err);
        _exit(1);
    }
    snprintf(role, sizeof(role), "bench%d", index);
    if (cw_ring_attach(ring, role, &rd) < 0) {
        fprintf(stderr, "ring_bench: reader: no free reader entry\n");
        _exit(1);
    }
    if (latency_mode)
        samples = calloc(max_samples, sizeof(*samples));
    else
        copy = malloc(sizeof(CwFrameHeader) + FRAME_BYTES);
    if (!samples && !copy)
        _exit(1);
    if (write_all(ready_fd, "r", 1) < 0)
        _exit(1);

    int64_t t0 = cw_mono_ns();
    while (!stop_requested) {
        if (!cw_ring_wait(&rd, 100))
            continue;
        int64_t woke = cw_mono_ns();
        bool first = true;
        CwRingView v;
        while (cw_ring_next(&rd, &v) == 0) {
            if (latency_mode) {
                int64_t stamp;
                memcpy(&stamp, v.data, sizeof(stamp));
                if (cw_ring_done(&rd, &v) && first && st.sample_count < max_samples)
                    samples[st.sample_count++] = woke - stamp;
                first = false;
                continue;
            }
            /* Throughput: copy the whole frame, then ask whether it stayed
             * intact. The writer stamps the frame's sequence at both ends;
             * an accepted copy whose ends disagree would be a torn frame the
             * ring failed to detect. */
            memcpy(copy, v.data, v.len);
            if (!cw_ring_done(&rd, &v)) {
                st.torn++;
                continue;
            }
            uint64_t head, tail;
            memcpy(&head, copy + sizeof(CwFrameHeader), sizeof(head));
            memcpy(&tail, copy + v.len - sizeof(tail), sizeof(tail));
            if (head != v.seq || tail != v.seq)
                st.corrupt++;
            st.accepted++;
        }
    }
    st.seconds = (double)(cw_mono_ns() - t0) / 1e9;
    /* Overruns as the ring counted them include the torn frames. */
    uint64_t lost = cw_ring_overruns(&rd);
    st.overruns = lost > st.torn ? lost - st.torn : 0;
    cw_ring_detach(&rd);
    cw_ring_close(&ring);
    if (write_all(result_fd, &st, sizeof(st)) < 0 ||
        (st.sample_count && write_all(result_fd, samples, st.sample_count * sizeof(int64_t)) < 0))
        _exit(1);
    _exit(0);
}

typedef struct Phase {
    pid_t pid[READERS];
    int result_fd[READERS];
    ReaderStats stats[READERS];
    int64_t *samples;
    size_t sample_count;
} Phase;

/* Fork the readers and wait until each has attached. */
static int start_readers(Phase *ph, const char *name, int latency_mode, size_t max_samples)
{
    for (int i = 0; i < READERS; i++) {
        int ready[2], result[2];
        if (pipe(ready) < 0 || pipe(result) < 0)
            return -1;
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            close(ready[0]);
            close(result[0]);
            reader_main(name, i, latency_mode, max_samples, ready[1], result[1]);
        }
        close(ready[1]);
        close(result[1]);
        char c;
        if (read_all(ready[0], &c, 1) < 0) {
            fprintf(stderr, "ring_bench: reader %d did not start\n", i);
            return -1;
        }
        close(ready[0]);
        ph->pid[i] = pid;
        ph->result_fd[i] = result[0];
    }
    return 0;
}

/* Stop the readers and collect what they measured. */
static int stop_readers(Phase *ph, size_t max_samples)
{
    int ok = 0;
    ph->samples = calloc(READERS * max_samples + 1, sizeof(int64_t));
    ph->sample_count = 0;
    for (int i = 0; i < READERS; i++)
        kill(ph->pid[i], SIGTERM);
    for (int i = 0; i < READERS; i++) {
        ReaderStats *st = &ph->stats[i];
        if (read_all(ph->result_fd[i], st, sizeof(*st)) < 0 ||
            (st->sample_count && read_all(ph->result_fd[i], ph->samples + ph->sample_count,
                                          st->sample_count * sizeof(int64_t)) < 0)) {
            fprintf(stderr, "ring_bench: reader %d reported nothing\n", i);
            ok = -1;
        } else {
            ph->sample_count += st->sample_count;
        }
        close(ph->result_fd[i]);
        int status;
        waitpid(ph->pid[i], &status, 0);
    }
    return ok;
}

static int open_fresh(CwRing **ring, const char *name)
{
    char err[256];
    cw_ring_unlink(name); /* a leftover of an interrupted run */
    if (cw_ring_open(ring, name, &frames_geo, 5000, err, sizeof(err)) < 0) {
        fprintf(stderr, "ring_bench: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 3.0;
    double rate = 1000.0;
    long want_samples = 5000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
            want_samples = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: ring_bench [--seconds S] [--rate HZ] [--samples N]\n");
            return 64;
        }
    }
    if (seconds <= 0 || rate <= 0 || want_samples < 1)
        return 64;

    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL); /* inherited by the readers; no SA_RESTART */
    signal(SIGPIPE, SIG_IGN);

    char name[64];
    snprintf(name, sizeof(name), "/camwatch.bench-ring-%d.frames", (int)getpid());
    CwRing *ring = NULL;
    Phase tp = {0}, lat = {0};

    /* --- 1. Throughput --- */
    if (open_fresh(&ring, name) < 0)
        return 1;
    if (start_readers(&tp, name, 0, 0) < 0)
        goto fail;
    /* The source picture, made once: the writer copies it into every slot,
     * as capture copies a decoded AVFrame's planes into the ring. */
    uint32_t len = (uint32_t)(sizeof(CwFrameHeader) + FRAME_BYTES);
    uint8_t *src = malloc(len);
    if (!src)
        goto fail;
    for (uint32_t i = 0; i < len; i++)
        src[i] = (uint8_t)(i * 31u);
    CwFrameHeader fh = {.width = FRAME_W,
                        .height = FRAME_H,
                        .linesize = {FRAME_W, FRAME_W / 2, FRAME_W / 2},
                        .offset = {sizeof(CwFrameHeader), sizeof(CwFrameHeader) + FRAME_W * FRAME_H,
                                   sizeof(CwFrameHeader) + FRAME_W * FRAME_H * 5 / 4}};
    memcpy(src, &fh, sizeof(fh));

    uint64_t published = 0;
    int64_t t0 = cw_mono_ns(), end = t0 + (int64_t)(seconds * 1e9), now = t0;
    while (now < end) {
        uint8_t *slot = cw_ring_reserve(ring, len);
        if (!slot) {
            fprintf(stderr, "ring_bench: a frame does not fit in the ring\n");
            goto fail;
        }
        uint64_t seq = cw_ring_write_seq(ring);
        memcpy(slot, src, len);
        memcpy(slot + sizeof(CwFrameHeader), &seq, sizeof(seq));
        memcpy(slot + len - sizeof(seq), &seq, sizeof(seq));
        now = cw_mono_ns();
        cw_ring_publish(ring, len, 0, now);
        published++;
    }
    double tp_seconds = (double)(now - t0) / 1e9;
    if (stop_readers(&tp, 0) < 0)
        goto fail;
    cw_ring_close(&ring);
    cw_ring_unlink(name);

    /* --- 2. Publish-to-wake latency --- */
    if (open_fresh(&ring, name) < 0)
        return 1;
    if (start_readers(&lat, name, 1, (size_t)want_samples + 1000) < 0)
        goto fail;
    int64_t period = (int64_t)(1e9 / rate);
    int64_t next = cw_mono_ns() + 10 * CW_NS_PER_MSEC;
    /* A few more than asked for: the first wake-ups of a reader and any
     * slot read without waiting do not make a sample. */
    long to_publish = want_samples + want_samples / 20 + 50;
    for (long i = 0; i < to_publish; i++) {
        struct timespec ts = cw_ns_to_timespec(next);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        int64_t *p = cw_ring_reserve(ring, 64);
        int64_t stamp = cw_mono_ns();
        memcpy(p, &stamp, sizeof(stamp));
        cw_ring_publish(ring, 64, 0, stamp);
        next += period;
    }
    usleep(50000); /* let the last wake-ups land */
    if (stop_readers(&lat, (size_t)want_samples + 1000) < 0)
        goto fail;
    cw_ring_close(&ring);
    cw_ring_unlink(name);
    qsort(lat.samples, lat.sample_count, sizeof(int64_t), cmp_i64);

    /* --- Report --- */
    printf("{\n  \"throughput\": {\n    \"frame_bytes\": %u,\n    \"seconds\": %.3f,\n"
           "    \"published_fps\": %.1f,\n    \"readers\": [",
           len, tp_seconds, (double)published / tp_seconds);
    for (int i = 0; i < READERS; i++) {
        ReaderStats *s = &tp.stats[i];
        printf("%s\n      {\"accepted_fps\": %.1f, \"accepted\": %llu, \"torn\": %llu, "
               "\"overruns\": %llu, \"corrupt_accepted\": %llu}",
               i ? "," : "", (double)s->accepted / tp_seconds, (unsigned long long)s->accepted,
               (unsigned long long)s->torn, (unsigned long long)s->overruns,
               (unsigned long long)s->corrupt);
    }
    size_t n = lat.sample_count;
    printf("\n    ]\n  },\n  \"wake_latency\": {\n    \"rate_hz\": %.0f,\n    \"samples\": %zu,\n"
           "    \"p50_us\": %.1f,\n    \"p90_us\": %.1f,\n    \"p99_us\": %.1f,\n"
           "    \"max_us\": %.1f\n  }\n}\n",
           rate, n, percentile(lat.samples, n, 50) / 1e3, percentile(lat.samples, n, 90) / 1e3,
           percentile(lat.samples, n, 99) / 1e3, n ? lat.samples[n - 1] / 1e3 : 0.0);
    return 0;

fail:
    for (int i = 0; i < READERS; i++) {
        if (tp.pid[i] > 0)
            kill(tp.pid[i], SIGKILL);
        if (lat.pid[i] > 0)
            kill(lat.pid[i], SIGKILL);
    }
    if (ring)
        cw_ring_close(&ring);
    cw_ring_unlink(name);
    return 1;
}
