/*
 * One run of the supervisor: it creates the camera's rings, spawns
 * camwatch-capture, -detect and -record, hears of every death through the
 * stages' callbacks and decides what it means for the run (a restart is the
 * stage's own business; a configuration error, a source that ended or a
 * crash loop stops everything), kills the stage that hangs, keeps the
 * status line and systemd's watchdog, and on SIGTERM stops the stages in
 * order as stop.c's table says: capture first, then record (which delivers
 * its clip) and detect. It is not in the data path: the stages talk
 * through the rings.
 */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "instance.h"
#include "log.h"
#include "stage_start.h"

/* How often heartbeats and the camera's progress are looked at. */
#define SUP_TICK_MS 1000
/* A running stage whose heartbeat is older than max(3 * TIMEOUT_SECONDS, this) is hung. */
#define HUNG_MIN_NS (30 * CW_NS_PER_SEC)
/* The camera counts as delivering while packets arrived this recently. */
#define RECEIVING_NS (5 * CW_NS_PER_SEC)

static bool http_wanted(const CwConfig *cfg)
{
    return cfg->http_listen[0] != '\0';
}

static bool sub_stream_wanted(const CwConfig *cfg)
{
    return cfg->detect_url[0] != '\0';
}

static bool mqtt_wanted(const CwConfig *cfg)
{
    return cfg->mqtt_url[0] != '\0';
}

/*
 * The stages, in start order: the readers of the data path first, so that
 * they are attached to the rings before capture publishes its first
 * keyframe; then what only watches. A stage whose `wanted` says no is never
 * initialised nor started (its state is published as disabled). A stage
 * off the data path may give up (a crash loop, a configuration error of its
 * own) without stopping the run: no clip depends on it.
 */
typedef struct SupStageRow {
    enum CwStage id; /* where it beats: cw_stage_beat_ring() */
    bool data_path;
    bool (*wanted)(const CwConfig *cfg); /* NULL: always */
} SupStageRow;

static const SupStageRow stage_table[] = {
    {CW_STAGE_RECORD, true, NULL},
    {CW_STAGE_DETECT, true, NULL},
    {CW_STAGE_CAPTURE, true, NULL},
    {CW_STAGE_HTTP, false, http_wanted},
    /* Restarted alone like capture; detection depends on it, no clip does,
     * but giving up on it must not go unnoticed: it is on the data path. */
    {CW_STAGE_CAPTURE_SUB, true, sub_stream_wanted},
    {CW_STAGE_MQTT, false, mqtt_wanted},
};
#define STAGE_ROWS (sizeof(stage_table) / sizeof(stage_table[0]))
_Static_assert(STAGE_ROWS == CW_STAGE_COUNT, "a row per stage");

static const SupStageRow *stage_row(enum CwStage id)
{
    for (size_t i = 0; i < STAGE_ROWS; i++)
        if (stage_table[i].id == id)
            return &stage_table[i];
    return NULL; /* not reached: the assert above */
}

/*
 * The outage a capture worker's exits 75 count in, and the ring whose
 * progress ends it: the camera's (main stream, packets), or with
 * DETECT_URL the sub-stream's (frames). NULL for the other stages.
 */
static SupOutage *outage_of(Sup *sup, enum CwStage id)
{
    return id == CW_STAGE_CAPTURE       ? &sup->outage
           : id == CW_STAGE_CAPTURE_SUB ? &sup->sub_outage
                                        : NULL;
}

/* "10 s", "1.5 s": a delay as the log and STATUS= show it. Returns buf. */
static const char *format_delay(int64_t ns, char *buf, size_t size)
{
    double s = (double)ns / CW_NS_PER_SEC;
    if (s < 0)
        s = 0;
    if (fabs(s - round(s)) < 0.05)
        snprintf(buf, size, "%.0f s", s);
    else
        snprintf(buf, size, "%.1f s", s);
    return buf;
}

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
static int rings_create(Sup *sup, int *exit_code)
{
    CwRingUse uses[CW_RING_KIND_COUNT];
    rings_unlink_all(&sup->cfg);
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        uses[kind] = (CwRingUse){.kind = (enum CwRingKind)kind, .ring = &sup->rings[kind]};
    return cw_rings_open_all(&sup->cfg, uses, CW_RING_KIND_COUNT, exit_code); /* logs why */
}

/* ---- status -------------------------------------------------------------- */

/* Recompute the one-line status (systemd STATUS=) from the stages' states. */
static void update_status(Sup *sup)
{
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
        if (!sup->stage_used[id] || stage->state != SUP_STAGE_WAITING)
            continue;
        format_delay(stage->restart_delay_ns, delay, sizeof(delay));
        const SupOutage *outage = outage_of(sup, (enum CwStage)id);
        if (outage && outage->attempts)
            sup_notify_status(&sup->notify, "%s unreachable, retrying in %s (attempt %u)",
                              id == CW_STAGE_CAPTURE_SUB ? "sub-stream" : "camera", delay,
                              outage->attempts);
        else
            sup_notify_status(&sup->notify, "%s crashed, restarting in %s", stage->name, delay);
        return;
    }
    /* An outage ends only when watch_camera_progress() sees new packets. */
    int64_t now_ns = cw_mono_ns();
    if (sup->outage.attempts)
        sup_notify_status(&sup->notify, "camera unreachable, connecting (attempt %u)",
                          sup->outage.attempts + 1);
    else if (sup->packets_seq_change_ns && now_ns - sup->packets_seq_change_ns < RECEIVING_NS)
        sup_notify_status(&sup->notify, "watching camera %s: receiving video", sup->cfg.camera);
    else
        sup_notify_status(&sup->notify, "watching camera %s: connecting", sup->cfg.camera);
}

/*
 * Publish the stage table and the camera's state in the packets ring's
 * status block (rings.h), for `camwatch status` and camwatch-http. Called on
 * every start and death, and every tick (the camera's state is a time).
 */
static void publish_status(Sup *sup)
{
    static const int32_t state_of[] = {
        [SUP_STAGE_IDLE] = CW_STAGE_IDLE,
        [SUP_STAGE_RUNNING] = CW_STAGE_RUNNING,
        [SUP_STAGE_WAITING] = CW_STAGE_WAITING,
        [SUP_STAGE_STOPPED] = CW_STAGE_STOPPED,
    };
    CwSupStatus *status = &sup->status;
    int64_t now_ns = cw_mono_ns();

    if (!sup->rings[CW_RING_PACKETS])
        return;
    if (!status->supervisor_pid) {
        status->supervisor_pid = (int32_t)getpid();
        status->started_wall_ns = cw_wall_ns();
    }
    int32_t online = sup->packets_seq_change_ns && !sup->outage.attempts &&
                     now_ns - sup->packets_seq_change_ns < RECEIVING_NS;
    if (online != status->camera_online || !status->camera_since_wall_ns) {
        status->camera_online = online;
        status->camera_since_wall_ns = cw_wall_ns();
    }
    status->camera_attempts = sup->outage.attempts;
    for (int id = 0; id < CW_STAGE_COUNT; id++) {
        CwStageStatus *st = &status->stages[id];
        const SupStage *stage = &sup->stages[id];
        if (!sup->stage_used[id]) {
            st->state = CW_STAGE_DISABLED;
            continue;
        }
        st->state = state_of[stage->state];
        st->restarts = sup->stage_starts[id] ? sup->stage_starts[id] - 1 : 0;
        if (stage->pid && st->pid != stage->pid) /* a new instance */
            st->started_wall_ns = cw_wall_ns() - (now_ns - stage->started_ns);
        st->pid = stage->pid;
    }
    cw_rings_set_sup_status(sup->rings[CW_RING_PACKETS], status);
}

/* ---- ordered stop -------------------------------------------------------- */

/* Close a handle once; one that uv_*_init() never saw (zeroed) has no loop. */
static void close_handle(uv_handle_t *handle)
{
    if (handle->loop && !uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Close our handles, so that uv_run() returns once their callbacks ran. */
static void close_all_handles(Sup *sup)
{
    close_handle((uv_handle_t *)&sup->sigterm);
    close_handle((uv_handle_t *)&sup->sigint);
    close_handle((uv_handle_t *)&sup->tick_timer);
    close_handle((uv_handle_t *)&sup->watchdog_timer);
    close_handle((uv_handle_t *)&sup->stop_timer);
    close_handle((uv_handle_t *)&sup->capture_stop_timer);
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        sup_stage_close(&sup->stages[id]); /* safe on an unused (zeroed) stage */
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

/* The step stop.c's table gives for `event`, from what is alive right now. */
static SupStopStep stop_plan(const Sup *sup, enum SupStopEvent event)
{
    bool capture_alive = false, others_alive = false;
    /* Both capture workers stop first: the table's "capture" is either. */
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        if (sup_stage_is_capture((enum CwStage)id))
            capture_alive |= sup_stage_alive(&sup->stages[id]);
        else
            others_alive |= sup_stage_alive(&sup->stages[id]);
    return sup_stop_step(sup->state, event, capture_alive, others_alive, sup->stop_signals);
}

static void on_stop_deadline(uv_timer_t *timer);
static void on_capture_stop_deadline(uv_timer_t *timer);

/*
 * Carry out `step`, its actions in stop.h's order. `exit_code` and `why`
 * are the stop's if it begins now; `kill_why` ends the line told for each
 * stage that SUP_STOP_KILL_ALL kills.
 */
static void stop_carry_out(Sup *sup, SupStopStep step, int exit_code, const char *why,
                           const char *kill_why)
{
    SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    SupStage *capture_sub = &sup->stages[CW_STAGE_CAPTURE_SUB]; /* unused without DETECT_URL */

    sup->state = step.state;
    if (step.actions & SUP_STOP_BEGIN) {
        sup->exit_code = exit_code;
        cw_info("stopping: %s", why);
        sup_notify_send(&sup->notify, "STOPPING=1");
        for (int id = 0; id < CW_STAGE_COUNT; id++)
            if (sup->stage_used[id])
                sup_stage_stop_restarts(&sup->stages[id]);
        uv_timer_start(&sup->stop_timer, on_stop_deadline, SUP_STOP_DEADLINE_MS, 0);
    }
    if (step.actions & SUP_STOP_TERM_CAPTURE) {
        sup_stage_kill(capture, SIGTERM);
        sup_stage_kill(capture_sub, SIGTERM); /* nothing if unused */
        uv_timer_start(&sup->capture_stop_timer, on_capture_stop_deadline, SUP_CAPTURE_STOP_MS, 0);
    }
    if (step.actions & SUP_STOP_TERM_REST) {
        uv_timer_stop(&sup->capture_stop_timer);
        sup_stage_kill(&sup->stages[CW_STAGE_RECORD], SIGTERM);
        sup_stage_kill(&sup->stages[CW_STAGE_DETECT], SIGTERM);
        sup_stage_kill(&sup->stages[CW_STAGE_HTTP], SIGTERM); /* nothing if unused */
        sup_stage_kill(&sup->stages[CW_STAGE_MQTT], SIGTERM);
    }
    if (step.actions & SUP_STOP_KILL_CAPTURE) {
        for (SupStage *c = capture; c; c = c == capture ? capture_sub : NULL) {
            if (!sup_stage_alive(c))
                continue;
            cw_warn("%s pid=%d did not stop within %d s, killing it", c->name, c->pid,
                    SUP_CAPTURE_STOP_MS / 1000);
            sup_stage_kill(c, SIGKILL);
        }
    }
    if (step.actions & SUP_STOP_KILL_ALL)
        kill_all(sup, kill_why);
    if (step.actions & SUP_STOP_FINISH) {
        uv_timer_stop(&sup->stop_timer);
        close_all_handles(sup);
    }
    update_status(sup);
    publish_status(sup);
}

/*
 * Begin the ordered stop (nothing happens if one is under way): no more
 * restarts, SIGTERM to capture, then to record and detect once capture has
 * exited, SIGKILL to whatever is left after SUP_STOP_DEADLINE_MS. The run
 * ends with `exit_code` (CW_EXIT_*) once every stage is gone.
 */
static void sup_stop(Sup *sup, int exit_code, const char *why)
{
    stop_carry_out(sup, stop_plan(sup, SUP_STOP_REQUESTED), exit_code, why, NULL);
}

static void on_stop_deadline(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    char why[64];
    snprintf(why, sizeof(why), "did not stop within %d s", SUP_STOP_DEADLINE_MS / 1000);
    stop_carry_out(sup, stop_plan(sup, SUP_STOP_OVERDUE), 0, NULL, why);
}

static void on_capture_stop_deadline(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    stop_carry_out(sup, stop_plan(sup, SUP_STOP_CAPTURE_OVERDUE), 0, NULL, NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    Sup *sup = handle->data;
    const char *name = sigabbrev_np(signum);

    sup->stop_signals++;
    SupStopStep step = stop_plan(sup, SUP_STOP_SIGNAL);
    if (step.actions & SUP_STOP_BEGIN)
        cw_info("received SIG%s", name ? name : "?");
    else if (step.actions & SUP_STOP_KILL_ALL)
        cw_warn("received SIG%s again: stopping at once", name ? name : "?");
    else
        cw_info("received SIG%s: already stopping", name ? name : "?");
    stop_carry_out(sup, step, CW_EXIT_OK, "stop requested", "is still running");
}

/* ---- the stages' reports ------------------------------------------------- */

static void on_stage_start(SupStage *stage, void *data)
{
    Sup *sup = data;
    /* While the camera stays down, the restarts are routine: only the first
     * one is told at INFO (the others show at DEBUG). */
    const SupOutage *outage = outage_of(sup, stage->id);
    bool routine = outage && sup_outage_routine(outage);
    cw_log(routine ? CW_LOG_DEBUG : CW_LOG_INFO, "started %s pid=%d", stage->name, stage->pid);
    sup->stage_starts[stage->id]++;
    update_status(sup);
    publish_status(sup);
}

/*
 * A capture worker could not reach its stream and will retry: tell it as
 * outage.c says. With DETECT_URL the streams fail alone, and what each
 * loss costs is said: no recording, or no detection.
 */
static void tell_unreachable(Sup *sup, const SupStage *stage, const SupStageDeath *death,
                             const char *delay)
{
    SupOutage *outage = outage_of(sup, stage->id);
    bool sub = stage->id == CW_STAGE_CAPTURE_SUB;
    const char *cost = !sub_stream_wanted(&sup->cfg) ? ""
                       : sub ? ": no detection until the sub-stream (DETECT_URL) is back; a clip "
                               "in progress ends after its post-capture time"
                             : ": no recording until the main stream (RTSP_URL) is back; "
                               "detection goes on";
    switch (sup_outage_failed(outage, death->mono_ns)) {
    case SUP_OUTAGE_TELL_FIRST:
        cw_warn("%s, restarting in %s%s", death->what, delay, cost);
        break;
    case SUP_OUTAGE_TELL_STILL:
        cw_warn("%s still unreachable after %u attempts (for %lld s), retrying every %s%s",
                sub ? "sub-stream" : "camera", outage->attempts,
                (long long)((death->mono_ns - outage->since_ns) / CW_NS_PER_SEC), delay, cost);
        break;
    case SUP_OUTAGE_TELL_QUIET:
        cw_debug("%s, restarting in %s (attempt %u)", death->what, delay, outage->attempts);
        break;
    }
}

/*
 * What a stage's death means for the run. The stage has already acted on
 * it (a restart is scheduled, or it stays down); a final death during the
 * stop takes the stop a step further, and a verdict other than a restart
 * ends the run.
 */
static void on_stage_exit(SupStage *stage, const SupStageDeath *death, void *data)
{
    Sup *sup = data;
    char delay[32], deaths[512];

    CwStageStatus *st = &sup->status.stages[stage->id];
    st->last_exit_status = (int32_t)death->exit_status;
    st->last_exit_signal = death->term_signal;
    st->last_exit_wall_ns = cw_wall_ns();
    publish_status(sup);

    if (stage->id == CW_STAGE_CAPTURE && !death->spawn_error && sup->rings[CW_RING_PACKETS]) {
        /* Absorb what the dead capture published, so that the next tick does
         * not take its last packets for a camera that came back. */
        sup->packets_seq = cw_ring_write_seq(sup->rings[CW_RING_PACKETS]);
    }
    if (stage->id == CW_STAGE_CAPTURE_SUB && !death->spawn_error && sup->rings[CW_RING_FRAMES])
        sup->frames_seq = cw_ring_write_seq(sup->rings[CW_RING_FRAMES]); /* the same, for frames */
    if (death->final) {
        bool clean = (death->term_signal == 0 && death->exit_status == CW_EXIT_OK) ||
                     death->term_signal == SIGTERM;
        cw_log(clean ? CW_LOG_INFO : CW_LOG_WARNING, "%s", death->what);
        stop_carry_out(sup, stop_plan(sup, SUP_STOP_STAGE_GONE), 0, NULL, NULL);
        return;
    }
    const SupDecision *decision = &death->decision;
    if (!stage_row(stage->id)->data_path && decision->verdict != SUP_RESTART) {
        /* No clip depends on this stage: it stays down, the run goes on. */
        cw_error("%s", death->what);
        cw_crit("%s %s: it stays down until camwatch restarts; recording goes on", stage->name,
                decision->verdict == SUP_STOP_CONFIG ? "reported a configuration error"
                                                     : "keeps crashing");
        if (decision->verdict == SUP_STOP_LOOP)
            cw_error("%s deaths, newest first: %s", stage->name,
                     sup_stage_describe_deaths(stage, death->mono_ns, deaths, sizeof(deaths)));
        publish_status(sup);
        return;
    }
    switch (decision->verdict) {
    case SUP_STOP_CONFIG:
        cw_error("%s, stopping everything", death->what);
        sup_stop(sup, CW_EXIT_CONFIG, "a stage reported a configuration error");
        return;
    case SUP_STOP_ENDED:
        cw_info("%s, stopping", death->what);
        sup_stop(sup, CW_EXIT_OK, "the source ended");
        return;
    case SUP_STOP_LOOP:
        cw_error("%s", death->what);
        cw_crit("%s keeps crashing (%u times in %lld s), giving up", stage->name,
                decision->recent_crashes, SUP_BREAKER_WINDOW_NS / CW_NS_PER_SEC);
        /* The deaths that tripped the breaker, for the bug report. */
        cw_error("%s deaths, newest first: %s", stage->name,
                 sup_stage_describe_deaths(stage, death->mono_ns, deaths, sizeof(deaths)));
        sup_stop(sup, CW_EXIT_SOFTWARE, "crash loop");
        return;
    case SUP_RESTART:
        format_delay(decision->delay_ns, delay, sizeof(delay));
        if (decision->cause == SUP_CAUSE_UNREACHABLE)
            tell_unreachable(sup, stage, death, delay);
        else if (decision->delay_ns <= 0)
            cw_error("%s, restarting now", death->what);
        else
            cw_error("%s, restarting in %s", death->what, delay);
        update_status(sup);
        return;
    }
}

/* ---- periodic checks ----------------------------------------------------- */

/* Notice packets arriving: the camera is delivering (and an outage is over). */
static void watch_camera_progress(Sup *sup, int64_t now_ns)
{
    const CwRing *packets = sup->rings[CW_RING_PACKETS];
    SupStage *capture = &sup->stages[CW_STAGE_CAPTURE];
    uint64_t seq = cw_ring_write_seq(packets);
    int64_t down_ns;
    unsigned attempts;

    if (seq == sup->packets_seq)
        return;
    sup->packets_seq = seq;
    sup->packets_seq_change_ns = now_ns;
    if (sup_stage_alive(capture) && (attempts = sup_outage_end(&sup->outage, now_ns, &down_ns))) {
        /* The pid is told here because the restarts during the outage were
         * only logged at DEBUG. */
        cw_info("camera is back: %s pid=%d receiving video after %u failed attempt%s "
                "(%lld s unreachable)",
                capture->name, capture->pid, attempts, attempts == 1 ? "" : "s",
                (long long)(down_ns / CW_NS_PER_SEC));
    }
}

/* With DETECT_URL: pictures arriving end the sub-stream's outage. */
static void watch_sub_stream_progress(Sup *sup, int64_t now_ns)
{
    const SupStage *capture = &sup->stages[CW_STAGE_CAPTURE_SUB];
    uint64_t seq = cw_ring_write_seq(sup->rings[CW_RING_FRAMES]);
    int64_t down_ns;
    unsigned attempts;

    if (!sup->stage_used[CW_STAGE_CAPTURE_SUB] || seq == sup->frames_seq)
        return;
    sup->frames_seq = seq;
    if (sup_stage_alive(capture) && (attempts = sup_outage_end(&sup->sub_outage, now_ns, &down_ns)))
        cw_info("sub-stream is back: %s pid=%d decoding for detection after %u failed attempt%s "
                "(%lld s unreachable)",
                capture->name, capture->pid, attempts, attempts == 1 ? "" : "s",
                (long long)(down_ns / CW_NS_PER_SEC));
}

static void on_tick(uv_timer_t *timer)
{
    Sup *sup = timer->data;
    int64_t now_ns = cw_mono_ns();

    if (sup->state != SUP_RUNNING)
        return;
    watch_camera_progress(sup, now_ns);
    watch_sub_stream_progress(sup, now_ns);
    /* Capture blocks at most TIMEOUT_SECONDS in one libav call and beats
     * between calls; three of those in a row is not a slow camera any more. */
    int64_t limit_ns = (int64_t)(3 * sup->cfg.timeout_s * CW_NS_PER_SEC);
    if (limit_ns < HUNG_MIN_NS)
        limit_ns = HUNG_MIN_NS;
    for (int id = 0; id < CW_STAGE_COUNT; id++)
        if (sup->stage_used[id])
            sup_stage_check_hung(&sup->stages[id], sup->rings[cw_stage_beat_ring((enum CwStage)id)],
                                 now_ns, limit_ns);
    update_status(sup);
    publish_status(sup);
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

/* Prepare the stages the configuration wants, each program checked: runnable, or exit 78. */
static int init_stages(Sup *sup, const char *bin_dir)
{
    SupStageOptions options = {
        .bin_dir = bin_dir,
        .retry_ns = (int64_t)(sup->cfg.retry_s * CW_NS_PER_SEC),
        .start_cb = on_stage_start,
        .exit_cb = on_stage_exit,
        .data = sup,
    };
    for (int id = 0; id < CW_STAGE_COUNT; id++) {
        const SupStageRow *row = stage_row((enum CwStage)id);
        sup->stage_used[id] = !row->wanted || row->wanted(&sup->cfg);
        if (!sup->stage_used[id])
            continue;
        options.source_can_end = cw_config_source_is_file(
            id == CW_STAGE_CAPTURE_SUB ? sup->cfg.detect_url : sup->cfg.rtsp_url);
        int ret = sup_stage_init(&sup->loop, &sup->stages[id], (enum CwStage)id, &options);
        if (ret == 0 && access(sup->stages[id].path, X_OK) < 0)
            ret = -errno;
        if (ret < 0) {
            /* Not a configuration value, but as permanent as one: a restart
             * cannot make a missing program appear. */
            const char *env = getenv("CAMWATCH_BIN_DIR");
            if (env && *env)
                cw_crit("CAMWATCH_BIN_DIR=\"%s\": cannot run %s there (%s)", env,
                        sup_stage_name((enum CwStage)id), strerror(-ret));
            else
                cw_crit("cannot run %s (%s): install the camwatch programs side by side, "
                        "or set CAMWATCH_BIN_DIR",
                        sup->stages[id].path, strerror(-ret));
            return ret;
        }
    }
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

int sup_init(Sup *sup, const CwConfig *cfg, int *exit_code)
{
    char bin_dir[PATH_MAX];
    int ret;

    /* Zeroed, every handle has no loop and every ring is NULL: sup_close()
     * can tell what was set up. */
    memset(sup, 0, sizeof(*sup));
    sup->claim_fd = -1;
    sup->notify.fd = -1;
    sup->cfg = *cfg;
    sup->state = SUP_RUNNING;
    sup->exit_code = CW_EXIT_OK;
    sup_outage_init(&sup->outage);
    sup_outage_init(&sup->sub_outage);
    *exit_code = CW_EXIT_SOFTWARE;

    ret = resolve_bin_dir(bin_dir, sizeof(bin_dir));
    if (ret < 0) {
        cw_crit("cannot find the folder of the stage programs: %s (set CAMWATCH_BIN_DIR)",
                strerror(-ret));
        return ret;
    }
    ret = uv_loop_init(&sup->loop);
    if (ret < 0) {
        cw_crit("cannot start the event loop: %s", uv_strerror(ret));
        return ret;
    }
    sup->loop_ready = true;
    ret = init_stages(sup, bin_dir);
    if (ret < 0) {
        *exit_code = CW_EXIT_CONFIG;
        return ret;
    }

    ret = sup_instance_claim(sup->cfg.camera);
    if (ret == -EADDRINUSE) {
        cw_crit("CAMERA_NAME=\"%s\": another camwatch already watches this camera; give each "
                "camera its own CAMERA_NAME",
                sup->cfg.camera);
        *exit_code = CW_EXIT_CONFIG;
        return ret;
    }
    if (ret < 0)
        cw_warn("cannot check for another camwatch of camera %s: %s", sup->cfg.camera,
                strerror(-ret));
    else
        sup->claim_fd = ret;

    signal(SIGPIPE, SIG_IGN); /* a closed stderr pipe must not kill the supervisor */
    /* Stages ask the kernel for SIGTERM when their parent dies (see
     * cw_stage_start): a supervisor killed with SIGKILL must not leave a
     * second set of stages running beside the next one's. */
    char pid_text[16];
    snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
    setenv(CW_SUPERVISOR_PID_ENV, pid_text, 1);
    sup_notify_init(&sup->notify);

    ret = init_handles(sup);
    if (ret < 0) {
        cw_crit("cannot set up signals and timers: %s", uv_strerror(ret));
        return ret;
    }
    /* From here on the names in /dev/shm are ours (the claim, or no way to
     * tell): sup_close() removes them, even if creating them fails. */
    sup->owns_rings = true;
    ret = rings_create(sup, exit_code); /* 78 or 75, as for the stages */
    if (ret < 0)
        return ret;
    sup->packets_seq = cw_ring_write_seq(sup->rings[CW_RING_PACKETS]);
    sup->frames_seq = cw_ring_write_seq(sup->rings[CW_RING_FRAMES]);
    *exit_code = CW_EXIT_OK;
    return 0;
}

int sup_run(Sup *sup)
{
    publish_status(sup);
    for (size_t i = 0; i < STAGE_ROWS && sup->state == SUP_RUNNING; i++)
        if (sup->stage_used[stage_table[i].id])
            sup_stage_start(&sup->stages[stage_table[i].id]);
    sup_notify_send(&sup->notify, "READY=1");
    update_status(sup);

    uv_run(&sup->loop, UV_RUN_DEFAULT);
    return sup->exit_code;
}

void sup_close(Sup *sup)
{
    rings_close_all(sup);
    if (sup->owns_rings)
        rings_unlink_all(&sup->cfg);
    sup->owns_rings = false;
    if (sup->loop_ready) {
        /* After a run every handle is closed already; after a failed
         * sup_init() some are open, and no stage was started. */
        close_all_handles(sup);
        uv_run(&sup->loop, UV_RUN_DEFAULT);
        int ret = uv_loop_close(&sup->loop);
        if (ret < 0)
            cw_debug("event loop closed with handles left: %s", uv_strerror(ret));
        sup->loop_ready = false;
    }
    sup_notify_close(&sup->notify);
    if (sup->claim_fd >= 0)
        close(sup->claim_fd);
    sup->claim_fd = -1;
}
