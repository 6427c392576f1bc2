#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"

/* Exit status we record for a spawn that failed (the shell's "cannot run"). */
#define SPAWN_FAILED_STATUS 127

/* A stage whose program is not its name runs that program with one argument. */
static const struct {
    const char *program, *arg;
} stage_commands[CW_STAGE_COUNT] = {
    [CW_STAGE_CAPTURE_SUB] = {"camwatch-capture", "--role=sub"},
};

const char *sup_stage_name(enum CwStage id)
{
    return cw_stage_name(id);
}

bool sup_stage_is_capture(enum CwStage id)
{
    return id == CW_STAGE_CAPTURE || id == CW_STAGE_CAPTURE_SUB;
}

static const char *exit_meaning(const SupStage *stage, int64_t status, bool stopping)
{
    switch (status) {
    case CW_EXIT_OK:
        if (stopping)
            return "stopped";
        return sup_stage_is_capture(stage->id) ? "source ended" : "unexpected";
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

const char *sup_stage_describe_deaths(const SupStage *stage, int64_t now_ns, char *buf, size_t size)
{
    size_t n = 0;
    const SupDeath *d;

    buf[0] = '\0';
    for (unsigned back = 0; (d = sup_policy_death(&stage->policy, back)) && n < size; back++) {
        const char *abbrev = d->term_signal ? sigabbrev_np(d->term_signal) : NULL;
        char how[32];
        if (d->term_signal)
            snprintf(how, sizeof(how), "SIG%s", abbrev ? abbrev : "?");
        else
            snprintf(how, sizeof(how), "exit %lld", (long long)d->exit_status);
        n += (size_t)snprintf(buf + n, size - n, "%s%s after %.1f s up, %.0f s ago",
                              back ? "; " : "", how, (double)d->uptime_ns / CW_NS_PER_SEC,
                              (double)(now_ns - d->mono_ns) / CW_NS_PER_SEC);
    }
    return buf;
}

/*
 * Act on a death, then tell the owner. While restarts are on, the restart
 * policy decides: a restart is scheduled, or the stage is down for good and
 * the owner decides what that means for the run.
 */
static void report_death(SupStage *stage, SupStageDeath *death)
{
    if (death->final) {
        stage->state = SUP_STAGE_STOPPED;
    } else {
        sup_policy_on_death(&stage->policy, sup_stage_is_capture(stage->id), stage->started_ns,
                            death->mono_ns, death->exit_status, death->term_signal, stage->retry_ns,
                            &death->decision);
        if (death->decision.verdict == SUP_RESTART)
            schedule_restart(stage, death->decision.delay_ns);
        else
            stage->state = SUP_STAGE_STOPPED;
    }
    stage->exit_cb(stage, death, stage->cb_data);
}

static void on_process_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_process_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
    SupStage *stage = proc->data;
    char what[256];
    SupStageDeath death = {
        .pid = stage->pid,
        .exit_status = exit_status,
        .term_signal = term_signal,
        .hung = stage->killed_as_hung,
        .final = stage->restarts_off,
        .mono_ns = cw_mono_ns(),
        .what = what,
    };

    describe_death(stage, death.pid, exit_status, term_signal, death.hung, death.final, what,
                   sizeof(what));
    /* Ownership of the handle passes to its close callback, which frees it. */
    uv_close((uv_handle_t *)proc, on_process_closed);
    stage->proc = NULL;
    stage->pid = 0;
    stage->killed_as_hung = false;
    report_death(stage, &death);
}

int sup_stage_init(uv_loop_t *loop, SupStage *stage, enum CwStage id,
                   const SupStageOptions *options)
{
    memset(stage, 0, sizeof(*stage));
    stage->id = id;
    stage->name = cw_stage_name(id);
    stage->state = SUP_STAGE_IDLE;
    stage->loop = loop;
    stage->retry_ns = options->retry_ns;
    stage->policy.source_can_end = sup_stage_is_capture(id) && options->source_can_end;
    stage->start_cb = options->start_cb;
    stage->exit_cb = options->exit_cb;
    stage->cb_data = options->data;
    stage->program = stage_commands[id].program ? stage_commands[id].program : stage->name;
    stage->arg = stage_commands[id].arg;
    int n = snprintf(stage->path, sizeof(stage->path), "%s/%s", options->bin_dir, stage->program);
    if (n < 0 || (size_t)n >= sizeof(stage->path))
        return -ENAMETOOLONG;
    int ret = uv_timer_init(loop, &stage->restart_timer);
    if (ret < 0)
        return ret;
    stage->restart_timer.data = stage;
    return 0;
}

int sup_stage_start(SupStage *stage)
{
    char what[PATH_MAX + 128];
    int ret;

    /* A restart that races with the start of a stop must not happen. */
    if (stage->restarts_off)
        return -ECANCELED;

    /* argv carries only the name: the configuration, RTSP_URL's password
     * included, travels in the inherited environment, where `ps` cannot see it. */
    char *args[] = {(char *)stage->program, (char *)stage->arg, NULL};
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
    ret = uv_spawn(stage->loop, proc, &options);
    if (ret < 0) {
        /* The handle was initialised even though the spawn failed: close it. */
        uv_close((uv_handle_t *)proc, on_process_closed);
        goto failed;
    }
    stage->proc = proc;
    stage->pid = proc->pid;
    stage->state = SUP_STAGE_RUNNING;
    stage->killed_as_hung = false;
    if (stage->start_cb)
        stage->start_cb(stage, stage->cb_data);
    return 0;

failed:
    snprintf(what, sizeof(what), "cannot start %s (%s): %s", stage->name, stage->path,
             uv_strerror(ret));
    SupStageDeath death = {
        .exit_status = SPAWN_FAILED_STATUS,
        .spawn_error = ret,
        .mono_ns = cw_mono_ns(),
        .what = what,
    };
    report_death(stage, &death);
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

void sup_stage_stop_restarts(SupStage *stage)
{
    stage->restarts_off = true;
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
    /* A timer that uv_timer_init() never saw has no loop. */
    uv_handle_t *timer = (uv_handle_t *)&stage->restart_timer;
    if (timer->loop && !uv_is_closing(timer))
        uv_close((uv_handle_t *)&stage->restart_timer, NULL);
}
