#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "supervisor.h"

/* The outage line is repeated at most this often while the camera stays down. */
#define OUTAGE_LOG_INTERVAL_NS (60 * CW_NS_PER_SEC)
/* Exit status we record for a spawn that failed (the shell's "cannot run"). */
#define SPAWN_FAILED_STATUS 127

static const char *const stage_names[CW_STAGE_COUNT] = {
    [CW_STAGE_CAPTURE] = "camwatch-capture",
    [CW_STAGE_DETECT] = "camwatch-detect",
    [CW_STAGE_RECORD] = "camwatch-record",
};

const char *sup_stage_name(enum CwStage id)
{
    return stage_names[id];
}

const char *sup_format_delay(int64_t ns, char *buf, size_t size)
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

static const char *exit_meaning(const SupStage *stage, int64_t status, bool stopping)
{
    switch (status) {
    case CW_EXIT_OK:
        if (stopping)
            return "stopped";
        return stage->id == CW_STAGE_CAPTURE ? "source ended" : "unexpected";
    case CW_EXIT_SOFTWARE:
        return "internal error";
    case CW_EXIT_TEMPFAIL:
        return "camera unreachable or lost";
    case CW_EXIT_CONFIG:
        return "configuration error";
    case 126:
        return "cannot execute";
    case 127:
        return "not found";
    default:
        return "failed";
    }
}

/* "camwatch-capture pid=1234 exited with 75 (camera unreachable or lost)". */
static void describe_death(const SupStage *stage, int pid, int64_t status, int term_signal,
                           bool hung, bool stopping, char *buf, size_t size)
{
    if (term_signal) {
        const char *abbrev = sigabbrev_np(term_signal);
        snprintf(buf, size, "%s pid=%d killed by signal %d (SIG%s%s)", stage->name, pid,
                 term_signal, abbrev ? abbrev : "?", hung ? ", it was hung" : "");
    } else {
        snprintf(buf, size, "%s pid=%d exited with %lld (%s)", stage->name, pid, (long long)status,
                 exit_meaning(stage, status, stopping));
    }
}

static void on_restart_timer(uv_timer_t *timer)
{
    SupStage *stage = timer->data;
    if (stage->state == SUP_STAGE_WAITING)
        sup_stage_start(stage);
}

static void schedule_restart(SupStage *stage, int64_t delay_ns)
{
    /* Round up: a timer that fires a hair early would break s6's 1 s floor. */
    uint64_t delay_ms =
        delay_ns > 0 ? (uint64_t)((delay_ns + CW_NS_PER_MSEC - 1) / CW_NS_PER_MSEC) : 0;
    stage->state = SUP_STAGE_WAITING;
    stage->restart_delay_ns = delay_ns;
    uv_timer_start(&stage->restart_timer, on_restart_timer, delay_ms, 0);
}

/*
 * Camera dropouts are routine, so they are told once, then at most once a
 * minute while the camera stays down; every attempt is still at DEBUG.
 */
static void log_unreachable(SupStage *stage, const char *what, const char *delay, int64_t now_ns)
{
    stage->outage_attempts++;
    if (stage->outage_attempts == 1) {
        stage->outage_since_ns = now_ns;
        stage->outage_logged_ns = now_ns;
        cw_warn("%s, restarting in %s", what, delay);
    } else if (now_ns - stage->outage_logged_ns >= OUTAGE_LOG_INTERVAL_NS) {
        stage->outage_logged_ns = now_ns;
        cw_warn("camera still unreachable after %u attempts (for %lld s), retrying every %s",
                stage->outage_attempts,
                (long long)((now_ns - stage->outage_since_ns) / CW_NS_PER_SEC), delay);
    } else {
        cw_debug("%s, restarting in %s (attempt %u)", what, delay, stage->outage_attempts);
    }
}

/* The deaths that tripped the breaker, newest first, for the bug report. */
static void log_history(const SupStage *stage, int64_t now_ns)
{
    char line[512];
    size_t n = 0;
    const SupDeath *d;

    line[0] = '\0';
    for (unsigned back = 0; (d = sup_policy_death(&stage->policy, back)) && n < sizeof(line);
         back++) {
        const char *abbrev = d->term_signal ? sigabbrev_np(d->term_signal) : NULL;
        char how[32];
        if (d->term_signal)
            snprintf(how, sizeof(how), "SIG%s", abbrev ? abbrev : "?");
        else
            snprintf(how, sizeof(how), "exit %lld", (long long)d->exit_status);
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s after %.1f s up, %.0f s ago",
                              back ? "; " : "", how, (double)d->uptime_ns / CW_NS_PER_SEC,
                              (double)(now_ns - d->mono_ns) / CW_NS_PER_SEC);
    }
    cw_error("%s deaths, newest first: %s", stage->name, line);
}

/* A death while the supervisor runs: the restart policy decides. */
static void handle_death(SupStage *stage, int64_t now_ns, int64_t status, int term_signal,
                         const char *what)
{
    Sup *sup = stage->sup;
    SupDecision decision;
    char delay[32];

    sup_policy_on_death(&stage->policy, stage->id == CW_STAGE_CAPTURE, stage->started_ns, now_ns,
                        status, term_signal, (int64_t)(sup->cfg.retry_s * CW_NS_PER_SEC),
                        &decision);
    switch (decision.verdict) {
    case SUP_STOP_CONFIG:
        stage->state = SUP_STAGE_STOPPED;
        cw_error("%s, stopping everything", what);
        sup_stop(sup, CW_EXIT_CONFIG, "a stage reported a configuration error");
        return;
    case SUP_STOP_ENDED:
        stage->state = SUP_STAGE_STOPPED;
        cw_info("%s, stopping", what);
        sup_stop(sup, CW_EXIT_OK, "the source ended");
        return;
    case SUP_STOP_LOOP:
        stage->state = SUP_STAGE_STOPPED;
        cw_error("%s", what);
        cw_crit("%s keeps crashing (%u times in %lld s), giving up", stage->name,
                decision.recent_crashes, SUP_BREAKER_WINDOW_NS / CW_NS_PER_SEC);
        log_history(stage, now_ns);
        sup_stop(sup, CW_EXIT_SOFTWARE, "crash loop");
        return;
    case SUP_RESTART:
        sup_format_delay(decision.delay_ns, delay, sizeof(delay));
        if (decision.cause == SUP_CAUSE_UNREACHABLE)
            log_unreachable(stage, what, delay, now_ns);
        else if (decision.delay_ns <= 0)
            cw_error("%s, restarting now", what);
        else
            cw_error("%s, restarting in %s", what, delay);
        schedule_restart(stage, decision.delay_ns);
        sup_update_status(sup);
        return;
    }
}

static void on_process_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_process_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
    SupStage *stage = proc->data;
    Sup *sup = stage->sup;
    int64_t now_ns = cw_mono_ns();
    bool stopping = sup->state != SUP_RUNNING;
    bool hung = stage->killed_as_hung;
    char what[256];

    describe_death(stage, stage->pid, exit_status, term_signal, hung, stopping, what, sizeof(what));
    /* Ownership of the handle passes to its close callback, which frees it. */
    uv_close((uv_handle_t *)proc, on_process_closed);
    if (stage->id == CW_STAGE_CAPTURE && sup->rings[CW_RING_PACKETS]) {
        /* Absorb what the dead capture published, so that the next tick does
         * not take its last packets for a camera that came back. */
        sup->packets_seq = cw_ring_write_seq(sup->rings[CW_RING_PACKETS]);
    }
    stage->proc = NULL;
    stage->pid = 0;
    stage->killed_as_hung = false;

    if (stopping) {
        stage->state = SUP_STAGE_STOPPED;
        bool clean = (term_signal == 0 && exit_status == CW_EXIT_OK) || term_signal == SIGTERM;
        cw_log(clean ? CW_LOG_INFO : CW_LOG_WARNING, "%s", what);
        sup_stop_advance(sup);
        return;
    }
    handle_death(stage, now_ns, exit_status, term_signal, what);
}

int sup_stage_init(Sup *sup, SupStage *stage, enum CwStage id, const char *bin_dir)
{
    memset(stage, 0, sizeof(*stage));
    stage->sup = sup;
    stage->id = id;
    stage->name = stage_names[id];
    stage->state = SUP_STAGE_IDLE;
    stage->policy.source_can_end =
        id == CW_STAGE_CAPTURE && cw_config_source_is_file(sup->cfg.rtsp_url);
    int n = snprintf(stage->path, sizeof(stage->path), "%s/%s", bin_dir, stage->name);
    if (n < 0 || (size_t)n >= sizeof(stage->path))
        return -ENAMETOOLONG;
    int ret = uv_timer_init(&sup->loop, &stage->restart_timer);
    if (ret < 0)
        return ret;
    stage->restart_timer.data = stage;
    return 0;
}

int sup_stage_start(SupStage *stage)
{
    Sup *sup = stage->sup;
    char what[PATH_MAX + 128];
    int ret;

    /* A restart that races with the start of a stop must not happen. */
    if (sup->state != SUP_RUNNING)
        return -ECANCELED;

    /* argv carries only the name: the configuration, RTSP_URL's password
     * included, travels in the inherited environment, where `ps` cannot see it. */
    char *args[] = {(char *)stage->name, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, /* /dev/null: a stage never reads the terminal */
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    /* No UV_PROCESS_DETACHED: the stages stay in our session and process
     * group, so Ctrl-C in a terminal reaches every stage at once, which each
     * handles as a stop (systemd and docker signal the supervisor alone).
     * A supervisor killed with SIGKILL is another matter: the kernel sends
     * the stages SIGTERM then (CW_SUPERVISOR_PID_ENV, cw_stage_start). */
    uv_process_options_t options = {
        .exit_cb = on_process_exit,
        .file = stage->path,
        .args = args,
        .env = NULL, /* inherit */
        .stdio_count = 3,
        .stdio = stdio,
    };

    uv_process_t *proc = calloc(1, sizeof(*proc));
    stage->started_ns = cw_mono_ns();
    if (!proc) {
        ret = -ENOMEM;
        goto failed;
    }
    proc->data = stage;
    ret = uv_spawn(&sup->loop, proc, &options);
    if (ret < 0) {
        /* The handle was initialised even though the spawn failed: close it. */
        uv_close((uv_handle_t *)proc, on_process_closed);
        goto failed;
    }
    stage->proc = proc;
    stage->pid = proc->pid;
    stage->state = SUP_STAGE_RUNNING;
    stage->killed_as_hung = false;
    stage->starts++;
    /* While the camera stays down, the restarts are routine: only the first
     * one is told at INFO (the others show at DEBUG). */
    cw_log(stage->outage_attempts >= 2 ? CW_LOG_DEBUG : CW_LOG_INFO, "started %s pid=%d",
           stage->name, stage->pid);
    sup_update_status(sup);
    return 0;

failed:
    snprintf(what, sizeof(what), "cannot start %s (%s): %s", stage->name, stage->path,
             uv_strerror(ret));
    handle_death(stage, cw_mono_ns(), SPAWN_FAILED_STATUS, 0, what);
    return ret;
}

bool sup_stage_alive(const SupStage *stage)
{
    return stage->proc != NULL;
}

int sup_stage_kill(SupStage *stage, int signum)
{
    if (!stage->proc)
        return 0;
    int ret = uv_process_kill(stage->proc, signum);
    /* ESRCH: it died and its exit callback is on its way; nothing to do. */
    if (ret < 0 && ret != UV_ESRCH) {
        cw_error("cannot send signal %d to %s pid=%d: %s", signum, stage->name, stage->pid,
                 uv_strerror(ret));
        return ret;
    }
    return 0;
}

void sup_stage_cancel_restart(SupStage *stage)
{
    uv_timer_stop(&stage->restart_timer);
    if (stage->state == SUP_STAGE_WAITING || stage->state == SUP_STAGE_IDLE)
        stage->state = SUP_STAGE_STOPPED;
}

bool sup_stage_check_hung(SupStage *stage, const CwRing *ring, int64_t now_ns, int64_t limit_ns)
{
    if (!stage->proc || stage->killed_as_hung || !ring)
        return false;
    if (now_ns - stage->started_ns <= SUP_STABLE_NS)
        return false;
    int64_t beat_ns = cw_rings_heartbeat_ns(ring, stage->id);
    /* A beat older than this instance is its predecessor's: count from the start. */
    if (beat_ns < stage->started_ns)
        beat_ns = stage->started_ns;
    int64_t silent_ns = now_ns - beat_ns;
    if (silent_ns <= limit_ns)
        return false;
    cw_error("%s pid=%d is hung: no heartbeat for %lld s (limit %lld s), killing it", stage->name,
             stage->pid, (long long)(silent_ns / CW_NS_PER_SEC),
             (long long)(limit_ns / CW_NS_PER_SEC));
    stage->killed_as_hung = true;
    sup_stage_kill(stage, SIGKILL);
    return true;
}

void sup_stage_close(SupStage *stage)
{
    if (!uv_is_closing((uv_handle_t *)&stage->restart_timer))
        uv_close((uv_handle_t *)&stage->restart_timer, NULL);
}
