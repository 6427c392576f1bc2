/*
 * camwatch-detect: reads the newest decoded frame from the frames ring, finds
 * what changed in its luma plane (motion.h), decides which of it is motion
 * (confirm.h: it lasts MIN_MOTION_FRAMES and moves), and publishes one
 * CwEvent per analysed frame into the events ring, for record to follow,
 * with the MOTION_ZONES its boxes touch.
 *
 * Real time beats completeness: it always takes the newest frame and skips
 * what it had no time for. It never waits on anyone but the frames ring, and
 * that wait is bounded, so heartbeats continue and a silent capture is
 * reported while it lasts.
 *
 * Run by hand with --debug-dir DIR, it also writes what the detector saw in
 * each analysed frame (debugdump.h).
 *
 * Exit codes: 0 on SIGTERM/SIGINT, 78 for a configuration error (also a ring
 * left by another configuration, a bad polygon or --debug-dir), 75 when the
 * rings cannot be opened for a reason that may pass, 70 when OpenCV or the
 * event ring fails.
 */
#define _GNU_SOURCE
#include "confirm.h"
#include "debugdump.h"
#include "motion.h"
#include "polygon.h"

#include "clock.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "payload.h"
#include "ratelimit.h"
#include "ring.h"
#include "rings.h"
#include "stage_start.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The wait for a frame is this short so the heartbeat (at least once a
 * second) and the checks below keep running while capture is silent. */
#define WAIT_MS 500

/* Motion is logged as ended once no frame had motion for this long: a person
 * walking behind a pole must not make two log lines a second. */
#define MOTION_LOG_HOLD_NS (2 * CW_NS_PER_SEC)

/* Lighting changes and malformed frames are logged at their level at most
 * this often (DEBUG otherwise): a flickering lamp or a capture bug must not
 * flood the log. */
#define REPEAT_LOG_INTERVAL_NS (60 * CW_NS_PER_SEC)

#define STATS_INTERVAL_NS (60 * CW_NS_PER_SEC)

typedef struct Detect {
    CwConfig cfg;
    CwRing *frames;
    CwRing *events;
    CwRingReader reader;
    CwMotion *motion;
    CwConfirm confirm;
    CwPolygonSet mask;  /* MOTION_MASK */
    CwPolygonSet zones; /* MOTION_ZONES */
    CwDebugDump *dump;  /* --debug-dir, or NULL */

    /* The stream the background belongs to. */
    bool have_stream;
    uint64_t epoch;
    int32_t width, height;
    int64_t last_analysed_mono_ns; /* frame time (CLOCK_MONOTONIC) of the last analysed frame */
    int64_t min_interval_ns;       /* frames closer than this are skipped */

    /* Capture silence. */
    int64_t last_frame_mono_ns;
    bool frames_missing;
    bool relearn;              /* frames came back after a silence: learn the scene afresh */
    bool paused;               /* CW_PAUSE_DETECT was set when the last frame came */
    CwRateLimit malformed_log; /* REPEAT_LOG_INTERVAL_NS, on CLOCK_MONOTONIC */

    /* Motion as logged. */
    bool in_motion;
    int64_t motion_start_mono_ns;
    int64_t motion_last_mono_ns;
    float motion_peak_percent;
    uint32_t motion_zones; /* zones touched since the motion began */
    CwRateLimit light_log; /* REPEAT_LOG_INTERVAL_NS, on CLOCK_MONOTONIC */

    /* DEBUG statistics since the last report. */
    int64_t stats_mono_ns;
    uint64_t stats_frames, stats_torn, stats_skipped;
    int64_t stats_busy_ns;
    int64_t stats_lag_ns, stats_lag_max_ns; /* analysed frames' age: now - capture time */
} Detect;

/* A walker hidden for this long (behind a pole) is still the same motion. */
#define CONFIRM_GRACE_S 0.5

static void usage(FILE *out)
{
    fprintf(out, "Usage: camwatch-detect [--help] [--debug-dir DIR]\n\n"
                 "Reads decoded frames of one camera from shared memory (written by\n"
                 "camwatch-capture), detects motion and publishes one event per analysed\n"
                 "frame for camwatch-record. Normally started by camwatch; can be run by hand\n"
                 "for debugging (LOGLEVEL=DEBUG shows every frame).\n\n"
                 "  --debug-dir DIR  for each analysed frame, write into DIR what the detector\n"
                 "                   saw, at the analysed size: NNNNNN-frame.ppm (the frame, the\n"
                 "                   mask tinted blue, zones in green, changed regions in yellow,\n"
                 "                   motion in red), NNNNNN-diff.pgm (the difference from the\n"
                 "                   background as relit), NNNNNN-mask.pgm (the pixels over the\n"
                 "                   threshold), and a line of DIR/detect.csv (time, lag, changed\n"
                 "                   share, lighting gain and offset, noise, threshold, motion,\n"
                 "                   zones, boxes). About 300 kB a frame at 320 px: for tuning\n"
                 "                   a camera, not for running.\n\n");
}

/*
 * Detector parameters from the configuration. The learning rates and the
 * warm-up are per analysed frame, so they are derived from DETECT_FPS to keep
 * their meaning in seconds: a change is absorbed in about 4 s where nothing
 * moves (0.05 at 5 frames/s), five times slower under motion, and the first
 * 2 s only learn.
 */
static void motion_params(const CwConfig *cfg, CwMotionParams *p)
{
    cw_motion_params_default(p);
    p->detect_width = cfg->detect_width;
    p->threshold = cfg->motion_threshold;
    p->min_area_percent = cfg->motion_min_area_percent;
    p->light_change_percent = cfg->light_change_percent;
    p->warmup_frames = (int)ceil(2.0 * cfg->detect_fps);
    if (p->warmup_frames < 2)
        p->warmup_frames = 2;
    p->background_alpha = fmin(0.5, fmax(0.005, 0.25 / cfg->detect_fps));
    p->motion_alpha = p->background_alpha / 5;
}

/* " in zones door, drive" for the log, or "" without zones. */
static const char *zones_text(const Detect *d, uint32_t bits, char *buf, size_t size)
{
    char names[512];
    if (!bits) {
        buf[0] = '\0';
        return buf;
    }
    cw_zones_names(&d->zones, bits, names, sizeof(names));
    snprintf(buf, size, " in zone%s %s", strchr(names, ',') ? "s" : "", names);
    return buf;
}

static void log_motion(Detect *d, const CwEvent *ev, const CwMotionResult *res, int64_t now)
{
    char where[600];
    if (ev->motion) {
        if (!d->in_motion) {
            cw_info("motion: %d region%s, %.1f%% of the picture%s", ev->box_count,
                    ev->box_count == 1 ? "" : "s", ev->changed_percent,
                    zones_text(d, ev->zones, where, sizeof(where)));
            d->in_motion = true;
            cw_rings_count_motion(d->events);
            d->motion_start_mono_ns = now;
            d->motion_peak_percent = 0;
            d->motion_zones = 0;
        }
        d->motion_last_mono_ns = now;
        d->motion_zones |= ev->zones;
        if (ev->changed_percent > d->motion_peak_percent)
            d->motion_peak_percent = ev->changed_percent;
    }
    /* The frame that found a change; the settling frames after a new scene
     * carry light_change too but are not news (they changed nothing). */
    if (res->light_change && (!res->warming_up || res->changed_percent > 0)) {
        bool news = cw_ratelimit_test(&d->light_log, now) >= 0;
        if (res->warming_up)
            cw_log(news ? CW_LOG_INFO : CW_LOG_DEBUG,
                   "the picture changed over %.0f%% in a way no lighting explains: learning the "
                   "scene again",
                   res->changed_percent);
        else
            cw_log(news ? CW_LOG_INFO : CW_LOG_DEBUG,
                   "lighting changed over %.0f%% of the picture (gain %.2f, offset %+.0f): not "
                   "taken as motion",
                   res->light_percent, res->light_gain, res->light_offset);
    }
}

/* Called every loop turn: ends a logged motion, notices a silent capture. */
static void check_idle(Detect *d, int64_t now)
{
    if (d->in_motion && now - d->motion_last_mono_ns >= MOTION_LOG_HOLD_NS) {
        char where[600];
        cw_info("motion ended after %.1f s (at most %.1f%% of the picture)%s",
                (double)(d->motion_last_mono_ns - d->motion_start_mono_ns) / CW_NS_PER_SEC,
                d->motion_peak_percent, zones_text(d, d->motion_zones, where, sizeof(where)));
        d->in_motion = false;
    }
    if (!d->frames_missing &&
        now - d->last_frame_mono_ns >= (int64_t)(d->cfg.timeout_s * CW_NS_PER_SEC)) {
        cw_warn("no frames from capture for %g s", d->cfg.timeout_s);
        d->frames_missing = true;
    }
    if (now - d->stats_mono_ns >= STATS_INTERVAL_NS) {
        if (d->stats_frames)
            cw_debug("last %.0f s: %llu frames analysed (%.2f ms each, %.0f ms behind the camera "
                     "on average, %.0f ms at most), %llu skipped, %llu torn",
                     (double)(now - d->stats_mono_ns) / CW_NS_PER_SEC,
                     (unsigned long long)d->stats_frames,
                     (double)d->stats_busy_ns / (double)d->stats_frames / CW_NS_PER_MSEC,
                     (double)d->stats_lag_ns / (double)d->stats_frames / CW_NS_PER_MSEC,
                     (double)d->stats_lag_max_ns / CW_NS_PER_MSEC,
                     (unsigned long long)d->stats_skipped, (unsigned long long)d->stats_torn);
        d->stats_mono_ns = now;
        d->stats_frames = d->stats_torn = d->stats_skipped = 0;
        d->stats_busy_ns = d->stats_lag_ns = d->stats_lag_max_ns = 0;
    }
}

/*
 * The event of an analysed frame: its motion is what the confirmation keeps
 * of the detector's regions (none while warming up), its zones those the
 * kept boxes touch.
 */
static void make_event(Detect *d, const CwFrameHeader *fh, uint64_t frame_seq,
                       const CwMotionResult *res, CwEvent *ev)
{
    uint8_t keep[CW_MAX_BOXES];
    memset(ev, 0, sizeof(*ev));
    ev->wall_ns = fh->wall_ns;
    ev->mono_ns = fh->mono_ns; /* record and camwatch-mqtt end motion by it */
    ev->pts = fh->pts;
    ev->frame_seq = frame_seq;
    ev->epoch = fh->epoch;
    ev->width = fh->width;
    ev->height = fh->height;
    ev->changed_percent = res->changed_percent;
    ev->light_change = (uint8_t)res->light_change;
    if (res->warming_up) {
        cw_confirm_reset(&d->confirm); /* a new background: what changed means nothing */
        return;
    }
    int kept =
        cw_confirm_update(&d->confirm, res->boxes, res->box_count, fh->width, fh->height, keep);
    for (int i = 0; i < res->box_count && kept; i++)
        if (keep[i])
            ev->boxes[ev->box_count++] = res->boxes[i];
    ev->motion = ev->box_count > 0;
    ev->zones = cw_zones_touched(&d->zones, ev->boxes, ev->box_count, fh->width, fh->height);
}

static int publish_event(Detect *d, const CwEvent *ev)
{
    void *slot = cw_ring_reserve(d->events, sizeof(*ev));
    if (!slot)
        return -ENOSPC; /* only if the events ring is absurdly small */
    memcpy(slot, ev, sizeof(*ev));
    cw_ring_publish(d->events, sizeof(*ev), 0, ev->wall_ns);
    return 0;
}

/* --debug-dir: this frame's pictures and line. A failure ends the dumping,
 * not the detection. */
static void dump_frame(Detect *d, const CwMotionResult *res, const CwEvent *ev, int64_t lag_ns)
{
    CwMotionView view;
    if (!d->dump || cw_motion_view(d->motion, &view) < 0)
        return;
    int ret = cw_debug_dump_frame(d->dump, &view, res, ev, lag_ns);
    if (ret < 0) {
        cw_warn("--debug-dir: cannot write: %s; no more debug output", strerror(-ret));
        cw_debug_dump_free(&d->dump);
    }
}

/*
 * Take --debug-dir DIR (or --debug-dir=DIR) out of argv, for the stage's
 * common start that refuses arguments. Returns 0, or -1 after logging a
 * --debug-dir without a folder.
 */
static int take_debug_dir(int *argc, char **argv, const char **dir)
{
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        if (strncmp(argv[i], "--debug-dir=", 12) == 0) {
            *dir = argv[i] + 12;
        } else if (strcmp(argv[i], "--debug-dir") == 0) {
            if (i + 1 >= *argc) {
                cw_crit("--debug-dir needs a folder: --debug-dir DIR");
                return -1;
            }
            *dir = argv[++i];
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        if (!**dir) {
            cw_crit("--debug-dir needs a folder: --debug-dir DIR");
            return -1;
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    return 0;
}

/*
 * Analyse the frame behind `view` and publish its event. Returns 0 (done,
 * analysed or rightly skipped) or a negative errno for a failure that ends
 * the process.
 *
 * The luma plane is read in place, without a copy: cw_motion_ingest() reads
 * the big picture exactly once, scaling it into the detector's small buffer,
 * and changes nothing the detector has learned. Only then is the slot
 * checked (cw_ring_done): a frame the writer overwrote meanwhile is dropped
 * before the detector learns from it or an event is published. Copying the
 * plane out first gives the same safety for an extra pass over it: measured
 * on x86, 0.20 ms per 1080p frame on top of about 0.95 ms for the whole
 * analysis, so 20 % more for nothing.
 */
static int handle_frame(Detect *d, const CwRingView *view, int64_t now)
{
    CwFrameHeader fh;
    const char *problem = "shorter than a frame header";
    int ingest = -EINVAL;
    bool skip = false;

    memset(&fh, 0, sizeof(fh));
    if (view->len >= sizeof(fh)) {
        memcpy(&fh, view->data, sizeof(fh));
        problem = cw_frame_header_problem(&fh, view->len, 1);
    }
    /* Capture is meant to publish at DETECT_FPS; if it sends more, analysing
     * every frame would only cost CPU. Frames closer than 3/4 of the period
     * are skipped (the margin absorbs network jitter). */
    if (!problem && d->have_stream && fh.epoch == d->epoch &&
        fh.mono_ns - d->last_analysed_mono_ns >= 0 &&
        fh.mono_ns - d->last_analysed_mono_ns < d->min_interval_ns)
        skip = true;
    if (!problem && !skip)
        ingest = cw_motion_ingest(d->motion, view->data + fh.offset[0], fh.width, fh.height,
                                  fh.linesize[0]);
    if (!cw_ring_done(&d->reader, view)) {
        d->stats_torn++;
        cw_debug("frame %llu was overwritten while read: dropped", (unsigned long long)view->seq);
        return 0;
    }

    /* An intact slot: capture is alive, whatever the frame holds. After a
     * silence the scene may have changed in ways that are neither motion nor
     * a sudden lighting change (dusk fell meanwhile): learn it afresh. */
    if (d->frames_missing) {
        cw_info("frames from capture again after %.1f s",
                (double)(now - d->last_frame_mono_ns) / CW_NS_PER_SEC);
        d->relearn = d->have_stream;
    }
    d->frames_missing = false;
    d->last_frame_mono_ns = now;

    if (problem) {
        int64_t held = cw_ratelimit_test(&d->malformed_log, now);
        char since[64] = "";
        if (held > 0)
            snprintf(since, sizeof(since), " (%lld more since the last warning)", (long long)held);
        cw_log(held >= 0 ? CW_LOG_WARNING : CW_LOG_DEBUG,
               "frame %llu from capture is malformed (%s): skipped%s",
               (unsigned long long)view->seq, problem, since);
        return 0;
    }
    if (skip) {
        d->stats_skipped++;
        return 0;
    }
    if (ingest < 0) {
        cw_error("motion detection failed: %s", strerror(-ingest));
        return ingest;
    }
    /* Paused from outside (rings.h): no analysis and no event until resumed,
     * then the scene is learned afresh, as after a silence. */
    bool paused = cw_rings_paused(d->events) & CW_PAUSE_DETECT;
    if (paused != d->paused)
        cw_info("detection %s", paused ? "paused" : "resumed");
    d->paused = paused;
    if (paused) {
        d->relearn = d->have_stream;
        return 0;
    }

    if (d->relearn || !d->have_stream || fh.epoch != d->epoch || fh.width != d->width ||
        fh.height != d->height) {
        if (d->relearn)
            cw_info("learning the background again after the silence");
        else if (d->have_stream)
            cw_info("the camera's stream changed (now %dx%d): learning a new background", fh.width,
                    fh.height);
        else
            cw_info("first frame: %dx%d, learning the background", fh.width, fh.height);
        cw_motion_reset(d->motion);
        cw_confirm_reset(&d->confirm);
        d->relearn = false;
        d->have_stream = true;
        d->epoch = fh.epoch;
        d->width = fh.width;
        d->height = fh.height;
    }

    CwMotionResult res;
    int ret = cw_motion_process(d->motion, &res);
    if (ret < 0) {
        cw_error("motion detection failed: %s", strerror(-ret));
        return ret;
    }
    d->last_analysed_mono_ns = fh.mono_ns;
    CwEvent ev;
    make_event(d, &fh, view->seq, &res, &ev);
    ret = publish_event(d, &ev);
    if (ret < 0) {
        cw_error("cannot publish into the events ring: %s", strerror(-ret));
        return ret;
    }

    int64_t busy = cw_mono_ns() - now;
    /* Both stamps are CLOCK_MONOTONIC (system-wide): capture's at the
     * packet's arrival, so that a step of the wall clock is no lag. */
    int64_t lag = cw_mono_ns() - fh.mono_ns;
    d->stats_frames++;
    d->stats_busy_ns += busy;
    d->stats_lag_ns += lag;
    if (lag > d->stats_lag_max_ns)
        d->stats_lag_max_ns = lag;
    dump_frame(d, &res, &ev, lag);
    const char *state = "";
    if (res.warming_up)
        state = "warming up, ";
    else if (res.light_change)
        state = "lighting, ";
    cw_debug("frame %llu: %s%.2f%% changed, %d region%s, %d motion, threshold %d, %.2f ms, "
             "%.0f ms behind",
             (unsigned long long)view->seq, state, res.changed_percent, res.box_count,
             res.box_count == 1 ? "" : "s", ev.box_count, res.threshold_used,
             (double)busy / CW_NS_PER_MSEC, (double)lag / CW_NS_PER_MSEC);
    log_motion(d, &ev, &res, now);
    return 0;
}

static int open_rings(Detect *d)
{
    const CwRingUse rings[] = {
        {.kind = CW_RING_FRAMES, .ring = &d->frames, .reader = &d->reader, .role = "detect"},
        {.kind = CW_RING_EVENTS, .ring = &d->events, .writer = true}, /* one detect per camera */
    };
    int code = CW_EXIT_OK;
    cw_rings_open_all(&d->cfg, rings, 2, &code); /* logs what failed */
    return code;
}

static int run(Detect *d)
{
    int64_t now = cw_mono_ns();
    d->last_frame_mono_ns = now;
    d->stats_mono_ns = now;

    while (!cw_stop_requested) {
        int ready = cw_ring_wait(&d->reader, WAIT_MS);
        now = cw_mono_ns();
        cw_rings_heartbeat(d->events, CW_STAGE_DETECT);
        if (ready > 0 && !cw_stop_requested) {
            CwRingView view;
            if (cw_ring_latest(&d->reader, &view) == 0) {
                if (handle_frame(d, &view, now) < 0)
                    return CW_EXIT_SOFTWARE;
            } else {
                /* Published but never readable: only a writer caught in
                 * mid-slot does that. Do not spin on it. */
                struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * CW_NS_PER_MSEC};
                nanosleep(&pause, NULL);
            }
        }
        check_idle(d, cw_mono_ns());
    }
    return CW_EXIT_OK;
}

int main(int argc, char **argv)
{
    static Detect d; /* CwConfig is large: keep it off the stack */
    CwMotionParams params;
    const char *debug_dir = NULL;
    int code = CW_EXIT_OK;

    cw_log_init("camwatch-detect");
    if (take_debug_dir(&argc, argv, &debug_dir) < 0)
        return CW_EXIT_CONFIG;
    if (cw_stage_start("camwatch-detect", usage, argc, argv, &d.cfg, &code) < 0)
        return code;

    char err[512];
    if (cw_polygons_parse("MOTION_MASK", d.cfg.motion_mask, false, &d.mask, err, sizeof(err)) < 0 ||
        cw_polygons_parse("MOTION_ZONES", d.cfg.motion_zones, true, &d.zones, err, sizeof(err)) <
            0) {
        cw_crit("%s", err);
        code = CW_EXIT_CONFIG;
        goto end;
    }
    if (debug_dir) {
        int ret = cw_debug_dump_open(debug_dir, &d.zones, &d.dump);
        if (ret < 0) {
            cw_crit("--debug-dir %s: %s", debug_dir, strerror(-ret));
            code = CW_EXIT_CONFIG;
            goto end;
        }
        cw_info("writing what the detector sees into %s", debug_dir);
    }
    motion_params(&d.cfg, &params);
    cw_confirm_init(&d.confirm, d.cfg.min_motion_frames,
                    (int)ceil(CONFIRM_GRACE_S * d.cfg.detect_fps));
    d.light_log = (CwRateLimit)CW_RATELIMIT_INIT(REPEAT_LOG_INTERVAL_NS);
    d.malformed_log = (CwRateLimit)CW_RATELIMIT_INIT(REPEAT_LOG_INTERVAL_NS);
    d.min_interval_ns = (int64_t)(0.75 * CW_NS_PER_SEC / d.cfg.detect_fps);
    d.motion = cw_motion_new(&params);
    if (!d.motion || cw_motion_set_mask(d.motion, &d.mask) < 0) {
        cw_crit("cannot create the motion detector");
        code = CW_EXIT_SOFTWARE;
        goto end;
    }
    code = open_rings(&d);
    if (code != CW_EXIT_OK)
        goto end;
    cw_info("watching camera \"%s\": %d px wide, threshold %d at least, regions from %g%%, "
            "motion after %d frames, %d mask polygon%s, %d zone%s, up to %g frames/s",
            d.cfg.camera, params.detect_width, params.threshold, params.min_area_percent,
            d.confirm.min_frames, d.mask.count, d.mask.count == 1 ? "" : "s", d.zones.count,
            d.zones.count == 1 ? "" : "s", d.cfg.detect_fps);
    code = run(&d);
    if (code == CW_EXIT_OK)
        cw_info("stopping on request");

end:
    cw_ring_detach(&d.reader);
    cw_ring_close(&d.events);
    cw_ring_close(&d.frames);
    cw_motion_free(&d.motion);
    cw_debug_dump_free(&d.dump);
    return code;
}
