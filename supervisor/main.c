/*
 * camwatch: the supervisor. It validates the configuration, creates the
 * camera's rings, spawns camwatch-capture, -detect and -record, restarts the
 * one that dies (policy.c), kills the one that hangs, and on SIGTERM stops
 * them in order: capture first, then record (which delivers its clip) and
 * detect. It is not in the data path: the stages talk through the rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "exitcode.h"
#include "instance.h"
#include "log.h"
#include "program.h"
#include "stage_start.h"
#include "supervisor.h"

#ifndef CAMWATCH_VERSION
#define CAMWATCH_VERSION "0.1.0"
#endif

/* A running stage whose heartbeat is older than max(3 * TIMEOUT_SECONDS, this) is hung. */
#define HUNG_MIN_NS (30 * CW_NS_PER_SEC)
/* The camera counts as delivering while packets arrived this recently. */
#define RECEIVING_NS (5 * CW_NS_PER_SEC)

/* Where each stage beats: capture and record in the packets ring, detect in events. */
static const enum CwRingKind heartbeat_ring[CW_STAGE_COUNT] = {
    [CW_STAGE_CAPTURE] = CW_RING_PACKETS,
    [CW_STAGE_DETECT] = CW_RING_EVENTS,
    [CW_STAGE_RECORD] = CW_RING_PACKETS,
};

/* Start order: the readers first, so that they are attached to the rings
 * before capture publishes its first keyframe. */
static const enum CwStage start_order[CW_STAGE_COUNT] = {
    CW_STAGE_RECORD,
    CW_STAGE_DETECT,
    CW_STAGE_CAPTURE,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: camwatch [--help | --version]\n"
            "\n"
            "Watches one camera: starts camwatch-capture, camwatch-detect and camwatch-record\n"
            "(found next to camwatch, or in CAMWATCH_BIN_DIR), restarts the one that dies or\n"
            "hangs, and stops them in order on SIGTERM or SIGINT.\n"
            "\n"
            "Exit status: 0 stopped on request (or the source file ended), 70 internal\n"
            "error or a stage kept crashing, 78 configuration error (do not restart).\n"
            "\n");
}

/* The one variable only the supervisor reads, after the shared ones. */
static void help_tail(FILE *out)
{
    fprintf(out, "\n  %-24s %s\n", "CAMWATCH_BIN_DIR",
            "folder of the stage programs (default: the folder of camwatch)");
}

static const CwProgram camwatch = {
    .name = "camwatch",
    .usage = usage,
    .help_tail = help_tail,
    .version = CAMWATCH_VERSION,
    .unknown = CW_UNKNOWN_ARG_USAGE,
};

/* ---- rings --------------------------------------------------------------- */

static void rings_unlink_all(const CwConfig *cfg)
{
    char name[64];
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++) {
        cw_rings_name(cfg, (enum CwRingKind)kind, name, sizeof(name));
        int ret = cw_ring_unlink(name);
        if (ret < 0 && ret != -ENOENT)
            cw_warn("cannot remove ring %s: %s", name, strerror(-ret));
    }
}

static void rings_close_all(Sup *sup)
{
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        if (sup->rings[kind])
            cw_ring_close(&sup->rings[kind]);
}

/*
 * Fresh rings for this run. Ours are the only stages of this camera (the
 * instance claim says so), so whatever is in /dev/shm under our names is
 * left over from a crash, possibly with an older geometry or layout:
 * remove it rather than have every stage refuse it.
 */
static int rings_create(Sup *sup)
{
    rings_unlink_all(&sup->cfg);
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++) {
        int ret = cw_rings_open(&sup->cfg, (enum CwRingKind)kind, &sup->rings[kind]);
        if (ret < 0)
            return ret; /* cw_rings_open logged why */
    }
    return 0;
}

/* ---- status -------------------------------------------------------------- */

void sup_update_status(Sup *sup)
{
    const SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    char delay[32];

    switch (sup->state) {
    case SUP_STOPPING_CAPTURE:
        sup_notify_status(&sup->notify, "stopping: waiting for camwatch-capture to exit");
        return;
    case SUP_STOPPING_REST:
        sup_notify_status(&sup->notify,
                          "stopping: waiting for camwatch-record to deliver its clip");
        return;
    case SUP_DONE:
        sup_notify_status(&sup->notify, "stopped");
        return;
    case SUP_RUNNING:
        break;
    }
    for (int id = 0; id < CW_STAGE_COUNT; id++) {
        const SupStage *stage = &sup->stages[id];
        if (stage->state != SUP_STAGE_WAITING)
            continue;
        sup_format_delay(stage->restart_delay_ns, delay, sizeof(delay));
        if (id == CW_STAGE_CAPTURE && stage->outage_attempts)
            sup_notify_status(&sup->notify, "camera unreachable, retrying in %s (attempt %u)",
                              delay, stage->outage_attempts);
        else
            sup_notify_status(&sup->notify, "%s crashed, restarting in %s", stage->name, delay);
        return;
    }
    /* An outage ends only when watch_camera_progress() sees new packets. */
    int64_t now_ns = cw_mono_ns();
    if (capture->outage_attempts)
        sup_notify_status(&sup->notify, "camera unreachable, connecting (attempt %u)",
                          capture->outage_attempts + 1);
    else if (sup->packets_seq_change_ns && now_ns - sup->packets_seq_change_ns < RECEIVING_NS)
        sup_notify_status(&sup->notify, "watching camera %s: receiving video", sup->cfg.camera);
    else
        sup_notify_status(&sup->notify, "watching camera %s: connecting", sup->cfg.camera);
}

/* ---- ordered stop -------------------------------------------------------- */

static void close_handle(uv_handle_t *handle)
{
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Every stage is gone: close our handles so that uv_run() returns. */
static void close_all_handles(Sup *sup)
{
    close_handle((uv_handle_t *)&sup->sigterm);
    close_handle((uv_handle_t *)&sup->sigint);
    close_handle((uv_handle_t *)&sup->tick_timer);
    close_handle((uv_handle_t *)&sup->watchdog_timer);
    close_handle((uv_handle_t *)&sup->stop_timer);
    close_handle((uv_handle_t *)&sup->capture_stop_timer);
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        sup_stage_close(&sup->stages[id]);
}

static void kill_all(Sup *sup, const char *why)
{
    for (int id = 0; id < CW_STAGE_COUNT; id++) {
        SupStage *stage = &sup->stages[id];
        if (!sup_stage_alive(stage))
            continue;
        cw_warn("%s pid=%d %s, killing it", stage->name, stage->pid, why);
        sup_stage_kill(stage, SIGKILL);
    }
}

static void on_stop_deadline(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    kill_all(sup, "did not stop within 15 s");
}

static void on_capture_stop_deadline(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    if (!sup_stage_alive(capture))
        return;
    cw_warn("%s pid=%d did not stop within %d s, killing it", capture->name, capture->pid,
            SUP_CAPTURE_STOP_MS / 1000);
    sup_stage_kill(capture, SIGKILL);
}

void sup_stop_advance(Sup *sup)
{
    if (sup->state == SUP_STOPPING_CAPTURE && !sup_stage_alive(&sup->stages[CW_STAGE_CAPTURE])) {
        /* Only now: record must see the last packets capture wrote before
         * it closes the clip, and detect must not go first and leave record
         * without events while capture still delivers. */
        uv_timer_stop(&sup->capture_stop_timer);
        sup->state = SUP_STOPPING_REST;
        sup_stage_kill(&sup->stages[CW_STAGE_RECORD], SIGTERM);
        sup_stage_kill(&sup->stages[CW_STAGE_DETECT], SIGTERM);
    }
    if (sup->state == SUP_STOPPING_REST) {
        bool any_alive = false;
        for (int id = 0; id < CW_STAGE_COUNT; id++)
            any_alive |= sup_stage_alive(&sup->stages[id]);
        if (!any_alive) {
            sup->state = SUP_DONE;
            uv_timer_stop(&sup->stop_timer);
            close_all_handles(sup);
        }
    }
    sup_update_status(sup);
}

void sup_stop(Sup *sup, int exit_code, const char *why)
{
    if (sup->state != SUP_RUNNING)
        return;
    sup->exit_code = exit_code;
    sup->state = SUP_STOPPING_CAPTURE;
    cw_info("stopping: %s", why);
    sup_notify_send(&sup->notify, "STOPPING=1");
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        sup_stage_cancel_restart(&sup->stages[id]);
    uv_timer_start(&sup->stop_timer, on_stop_deadline, SUP_STOP_DEADLINE_MS, 0);
    SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    if (sup_stage_alive(capture)) {
        sup_stage_kill(capture, SIGTERM);
        uv_timer_start(&sup->capture_stop_timer, on_capture_stop_deadline, SUP_CAPTURE_STOP_MS, 0);
    }
    sup_stop_advance(sup);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    Sup *sup = handle->data;
    const char *name = sigabbrev_np(signum);

    sup->stop_signals++;
    if (sup->state == SUP_RUNNING) {
        cw_info("received SIG%s", name ? name : "?");
        sup_stop(sup, CW_EXIT_OK, "stop requested");
    } else if (sup->stop_signals >= 2 && sup->state != SUP_DONE) {
        /* The impatient second Ctrl-C: whatever record was writing is lost,
         * which is what the user asked for. */
        cw_warn("received SIG%s again: stopping at once", name ? name : "?");
        kill_all(sup, "is still running");
    } else {
        /* The first signal during a stop we began ourselves (a crash loop,
         * say) is systemd's routine SIGTERM: let the ordered stop finish. */
        cw_info("received SIG%s: already stopping", name ? name : "?");
    }
}

/* ---- periodic checks ----------------------------------------------------- */

/* Notice packets arriving: the camera is delivering (and an outage is over). */
static void watch_camera_progress(Sup *sup, int64_t now_ns)
{
    const CwRing *packets = sup->rings[CW_RING_PACKETS];
    SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    uint64_t seq = atomic_load_explicit(&packets->hdr->write_seq, memory_order_relaxed);

    if (seq == sup->packets_seq)
        return;
    sup->packets_seq = seq;
    sup->packets_seq_change_ns = now_ns;
    if (capture->outage_attempts && sup_stage_alive(capture)) {
        /* The pid is told here because the restarts during the outage were
         * only logged at DEBUG. */
        cw_info("camera is back: %s pid=%d receiving video after %u failed attempt%s "
                "(%lld s unreachable)",
                capture->name, capture->pid, capture->outage_attempts,
                capture->outage_attempts == 1 ? "" : "s",
                (long long)((now_ns - capture->outage_since_ns) / CW_NS_PER_SEC));
        capture->outage_attempts = 0;
    }
}

static void on_tick(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    int64_t now_ns = cw_mono_ns();

    if (sup->state != SUP_RUNNING)
        return;
    watch_camera_progress(sup, now_ns);
    /* Capture blocks at most TIMEOUT_SECONDS in one libav call and beats
     * between calls; three of those in a row is not a slow camera any more. */
    int64_t limit_ns = (int64_t)(3 * sup->cfg.timeout_s * CW_NS_PER_SEC);
    if (limit_ns < HUNG_MIN_NS)
        limit_ns = HUNG_MIN_NS;
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        sup_stage_check_hung(&sup->stages[id], sup->rings[heartbeat_ring[id]], now_ns, limit_ns);
    sup_update_status(sup);
}

static void on_watchdog(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    /* The loop turning is what this proves; hung stages are our own job. */
    sup_notify_send(&sup->notify, "WATCHDOG=1");
}

/* ---- start-up ------------------------------------------------------------ */

/* The stages live next to camwatch, unless CAMWATCH_BIN_DIR says otherwise. */
static int resolve_bin_dir(char *dir, size_t size)
{
    const char *env = getenv("CAMWATCH_BIN_DIR");
    if (env && *env) {
        if (strlen(env) >= size)
            return -ENAMETOOLONG;
        strcpy(dir, env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -errno;
    exe[n] = '\0';
    snprintf(dir, size, "%s", dirname(exe));
    return 0;
}

/* Handles first, children last: a SIGTERM that arrives between the spawn
 * and the signal watcher would kill us with the default action and leave
 * the stages orphaned. */
static int init_handles(Sup *sup)
{
    int ret;
    if ((ret = uv_signal_init(&sup->loop, &sup->sigterm)) < 0 ||
        (ret = uv_signal_init(&sup->loop, &sup->sigint)) < 0 ||
        (ret = uv_timer_init(&sup->loop, &sup->tick_timer)) < 0 ||
        (ret = uv_timer_init(&sup->loop, &sup->watchdog_timer)) < 0 ||
        (ret = uv_timer_init(&sup->loop, &sup->stop_timer)) < 0 ||
        (ret = uv_timer_init(&sup->loop, &sup->capture_stop_timer)) < 0)
        return ret;
    sup->sigterm.data = sup->sigint.data = sup;
    sup->tick_timer.data = sup->watchdog_timer.data = sup;
    sup->stop_timer.data = sup->capture_stop_timer.data = sup;
    if ((ret = uv_signal_start(&sup->sigterm, on_signal, SIGTERM)) < 0 ||
        (ret = uv_signal_start(&sup->sigint, on_signal, SIGINT)) < 0)
        return ret;
    uv_timer_start(&sup->tick_timer, on_tick, SUP_TICK_MS, SUP_TICK_MS);
    if (sup->notify.watchdog_usec) {
        uint64_t every_ms = sup->notify.watchdog_usec / 2000;
        uv_timer_start(&sup->watchdog_timer, on_watchdog, 0, every_ms ? every_ms : 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static Sup sup; /* large (the config holds paths); and the loop's handles point into it */
    char bin_dir[PATH_MAX];
    int ret, claim_fd = -1;

    if (cw_program_start(&camwatch, argc, argv, &sup.cfg, &ret) < 0)
        return ret;

    ret = resolve_bin_dir(bin_dir, sizeof(bin_dir));
    if (ret < 0) {
        cw_crit("cannot find the folder of the stage programs: %s (set CAMWATCH_BIN_DIR)",
                strerror(-ret));
        return CW_EXIT_SOFTWARE;
    }
    ret = uv_loop_init(&sup.loop);
    if (ret < 0) {
        cw_crit("cannot start the event loop: %s", uv_strerror(ret));
        return CW_EXIT_SOFTWARE;
    }
    for (int id = 0; id < CW_STAGE_COUNT; id++) {
        ret = sup_stage_init(&sup, &sup.stages[id], (enum CwStage)id, bin_dir);
        if (ret == 0 && access(sup.stages[id].path, X_OK) < 0)
            ret = -errno;
        if (ret < 0) {
            /* Not a configuration value, but as permanent as one: a restart
             * cannot make a missing program appear. */
            const char *env = getenv("CAMWATCH_BIN_DIR");
            if (env && *env)
                cw_crit("CAMWATCH_BIN_DIR=\"%s\": cannot run %s there (%s)", env,
                        sup_stage_name((enum CwStage)id), strerror(-ret));
            else
                cw_crit("cannot run %s (%s): install the four camwatch programs side by side, "
                        "or set CAMWATCH_BIN_DIR",
                        sup.stages[id].path, strerror(-ret));
            return CW_EXIT_CONFIG;
        }
    }

    claim_fd = sup_instance_claim(sup.cfg.camera);
    if (claim_fd == -EADDRINUSE) {
        cw_crit("CAMERA_NAME=\"%s\": another camwatch already watches this camera; give each "
                "camera its own CAMERA_NAME",
                sup.cfg.camera);
        return CW_EXIT_CONFIG;
    }
    if (claim_fd < 0)
        cw_warn("cannot check for another camwatch of camera %s: %s", sup.cfg.camera,
                strerror(-claim_fd));

    signal(SIGPIPE, SIG_IGN); /* a closed stderr pipe must not kill the supervisor */
    /* Stages ask the kernel for SIGTERM when their parent dies (see
     * cw_stage_start): a supervisor killed with SIGKILL must not leave a
     * second set of stages running beside the next one's. */
    char pid_text[16];
    snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
    setenv(CW_SUPERVISOR_PID_ENV, pid_text, 1);
    sup_notify_init(&sup.notify);
    sup.state = SUP_RUNNING;
    sup.exit_code = CW_EXIT_OK;

    ret = init_handles(&sup);
    if (ret < 0) {
        cw_crit("cannot set up signals and timers: %s", uv_strerror(ret));
        return CW_EXIT_SOFTWARE;
    }
    if (rings_create(&sup) < 0) {
        rings_close_all(&sup);
        rings_unlink_all(&sup.cfg);
        return CW_EXIT_SOFTWARE;
    }
    sup.packets_seq = cw_ring_write_seq(sup.rings[CW_RING_PACKETS]);

    cw_info("camwatch %s watching camera %s (%s), clips to %s", CAMWATCH_VERSION, sup.cfg.camera,
            sup.cfg.rtsp_url, sup.cfg.video_dir);
    for (int i = 0; i < CW_STAGE_COUNT && sup.state == SUP_RUNNING; i++)
        sup_stage_start(&sup.stages[start_order[i]]);
    sup_notify_send(&sup.notify, "READY=1");
    sup_update_status(&sup);

    uv_run(&sup.loop, UV_RUN_DEFAULT);

    rings_close_all(&sup);
    rings_unlink_all(&sup.cfg);
    ret = uv_loop_close(&sup.loop);
    if (ret < 0)
        cw_debug("event loop closed with handles left: %s", uv_strerror(ret));
    sup_notify_close(&sup.notify);
    if (claim_fd >= 0)
        close(claim_fd);
    cw_log(sup.exit_code == CW_EXIT_OK ? CW_LOG_INFO : CW_LOG_ERROR, "stopped, exit status %d",
           sup.exit_code);
    return sup.exit_code;
}
