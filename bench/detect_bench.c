/*
 * Detector microbenchmark for `make bench` (bench/run builds and runs it).
 *
 * Decodes an H.264 file with libavcodec on one thread (as capture does with
 * the default DECODE_THREADS=1, and as the decoding floor `ffmpeg -threads 1`
 * does) and times, per frame:
 *   - decode: avcodec_send_packet + avcodec_receive_frame for one packet
 *     (the test media has no B-frames, so one packet gives one picture);
 *   - analyse: cw_motion_analyse() (detect/motion.h) on the decoded luma
 *     plane, full size, exactly as camwatch-detect hands it a frames-ring
 *     slot. Only every (fps / DETECT_FPS)-th frame is analysed, so the
 *     background model sees the scene change at the rate it does in camwatch.
 *     "analyse" is the detector at work: the warm-up frames, which only
 *     teach the background and skip most of the work, are reported apart
 *     ("analyse_warmup") rather than averaged in.
 * Both are timed in the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), what a
 * step costs, not the wall clock: on a shared machine the wall clock also
 * counts the time another process had the core, which lands on one side of
 * the ratio or the other by chance.
 * Detector parameters follow camwatch-detect's derivation from DETECT_FPS
 * (warm-up 2 s, learning rate 0.25 / DETECT_FPS, five times slower under
 * motion); everything else is cw_motion_params_default().
 *
 * The two are reported side by side as milliseconds per frame, as their
 * ratio (analyse_per_decode: the mean analysis over the mean decode, the
 * `make bench` row "detector: analyse / decode") and as the share of one
 * core each costs in real time (decode: every frame; analyse: DETECT_FPS
 * frames a second). Output: one JSON object on stdout.
 *
 *   detect_bench FILE [--frames N] [--detect-fps F] [--detect-width W]
 */
#include "clock.h"
#include "motion.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPU time of the calling thread, in ns (see the top). */
static int64_t cost_ns(void)
{
    return cw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct Stats {
    double mean_ms, p50_ms, p99_ms, max_ms;
} Stats;

static Stats stats_of(int64_t *v, size_t n)
{
    Stats s = {0};
    if (!n)
        return s;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t r50 = (size_t)ceil(0.50 * (double)n), r99 = (size_t)ceil(0.99 * (double)n);
    s.mean_ms = sum / (double)n / 1e6;
    s.p50_ms = (double)v[(r50 ? r50 : 1) - 1] / 1e6;
    s.p99_ms = (double)v[(r99 ? r99 : 1) - 1] / 1e6;
    s.max_ms = (double)v[n - 1] / 1e6;
    return s;
}

static void print_stats(const char *name, const Stats *s, size_t n, const char *tail)
{
    printf("  \"%s\": {\"count\": %zu, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"max_ms\": %.3f}%s\n",
           name, n, s->mean_ms, s->p50_ms, s->p99_ms, s->max_ms, tail);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long max_frames = 500;
    double detect_fps = 5.0;
    int detect_width = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            max_frames = atol(argv[++i]);
        else if (!strcmp(argv[i], "--detect-fps") && i + 1 < argc)
            detect_fps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--detect-width") && i + 1 < argc)
            detect_width = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || max_frames < 1 || detect_fps <= 0) {
        fprintf(stderr, "usage: detect_bench FILE [--frames N] [--detect-fps F] "
                        "[--detect-width W]\n");
        return 64;
    }

    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0 ||
        avformat_find_stream_info(fmt, NULL) < 0) {
        fprintf(stderr, "detect_bench: cannot read %s\n", path);
        return 66;
    }
    const AVCodec *codec = NULL;
    int vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (vs < 0 || !codec) {
        fprintf(stderr, "detect_bench: no video stream in %s\n", path);
        return 66;
    }
    AVStream *st = fmt->streams[vs];
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, st->codecpar);
    dec->thread_count = 1; /* as capture's default and the decoding floor */
    if (avcodec_open2(dec, codec, NULL) < 0) {
        fprintf(stderr, "detect_bench: cannot open the decoder\n");
        return 70;
    }
    double fps = av_q2d(st->avg_frame_rate);
    if (!(fps > 0))
        fps = 25.0;
    /* Analyse one frame in `step`, as capture decimates to DETECT_FPS. */
    int step = (int)lround(fps / detect_fps);
    if (step < 1)
        step = 1;

    CwMotionParams mp;
    cw_motion_params_default(&mp);
    if (detect_width > 0)
        mp.detect_width = detect_width;
    mp.warmup_frames = (int)ceil(2.0 * detect_fps);
    if (mp.warmup_frames < 2)
        mp.warmup_frames = 2;
    mp.background_alpha = fmin(0.5, fmax(0.005, 0.25 / detect_fps));
    mp.motion_alpha = mp.background_alpha / 5;
    CwMotion *motion = cw_motion_new(&mp);
    if (!motion) {
        fprintf(stderr, "detect_bench: cw_motion_new failed\n");
        return 70;
    }

    int64_t *dec_ns = calloc((size_t)max_frames, sizeof(int64_t));
    int64_t *ana_ns = calloc((size_t)max_frames, sizeof(int64_t));
    int64_t *warm_ns = calloc((size_t)max_frames, sizeof(int64_t));
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    size_t decoded = 0, analysed = 0, motion_frames = 0, warmup = 0, analysed_all = 0;
    int width = 0, height = 0, errors = 0;

    while (decoded < (size_t)max_frames && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index != vs) {
            av_packet_unref(pkt);
            continue;
        }
        int64_t t0 = cost_ns();
        int ret = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        if (ret < 0)
            continue;
        while (avcodec_receive_frame(dec, frame) == 0) {
            int64_t t1 = cost_ns();
            if (decoded < (size_t)max_frames)
                dec_ns[decoded] = t1 - t0;
            width = frame->width;
            height = frame->height;
            if (decoded % (size_t)step == 0) {
                CwMotionResult res;
                int64_t a0 = cost_ns();
                int r = cw_motion_analyse(motion, frame->data[0], frame->width, frame->height,
                                          frame->linesize[0], &res);
                int64_t spent = cost_ns() - a0;
                analysed_all++;
                if (r < 0)
                    errors++;
                else if (res.warming_up)
                    warm_ns[warmup++] = spent;
                else
                    ana_ns[analysed++] = spent;
                if (r == 0 && res.motion)
                    motion_frames++;
            }
            decoded++;
            av_frame_unref(frame);
            t0 = cost_ns(); /* a second picture from one packet: time it alone */
        }
    }

    Stats ds = stats_of(dec_ns, decoded), as = stats_of(ana_ns, analysed);
    Stats ws = stats_of(warm_ns, warmup);
    printf("{\n  \"file\": \"%s\",\n  \"width\": %d,\n  \"height\": %d,\n  \"fps\": %.3f,\n"
           "  \"detect_fps\": %.3f,\n  \"detect_width\": %d,\n  \"clock\": \"thread CPU time\",\n",
           path, width, height, fps, detect_fps, mp.detect_width);
    print_stats("decode", &ds, decoded, ",");
    print_stats("analyse", &as, analysed, ",");
    print_stats("analyse_warmup", &ws, warmup, ",");
    printf("  \"analyse_per_decode\": %.4f,\n", ds.mean_ms > 0 ? as.mean_ms / ds.mean_ms : 0.0);
    printf("  \"analysed_frames\": %zu,\n  \"analysed_with_motion\": %zu,\n"
           "  \"analysed_warming_up\": %zu,\n  \"analyse_errors\": %d,\n"
           "  \"decode_core_percent\": %.2f,\n  \"analyse_core_percent\": %.2f\n}\n",
           analysed_all, motion_frames, warmup, errors, ds.mean_ms * fps / 10.0,
           as.mean_ms * (fps / step) / 10.0);

    cw_motion_free(&motion);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    free(dec_ns);
    free(ana_ns);
    free(warm_ns);
    return errors ? 1 : 0;
}
