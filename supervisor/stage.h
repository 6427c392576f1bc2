/*
 * One stage (camwatch-capture, -detect or -record): its process, its
 * restart timer, its death history and its heartbeat. A stage restarts
 * itself as the restart policy (policy.c) decides; what a death means for
 * the whole run (stop everything, take the next step of a stop) is its
 * owner's to decide. The owner hears of every start and every death through
 * the callbacks it gives to sup_stage_init(), as libuv's exit_cb tells of a
 * process's exit; the stage knows nothing of its owner.
 *
 * Errors: negative errno values (libuv's convention: its UV_E* codes are
 * the same numbers).
 */
#ifndef CAMWATCH_SUP_STAGE_H
#define CAMWATCH_SUP_STAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "policy.h"
#include "rings.h"

enum SupStageState {
    SUP_STAGE_IDLE,    /* not started yet */
    SUP_STAGE_RUNNING, /* a process exists (it may be dying) */
    SUP_STAGE_WAITING, /* dead; restart_timer will start it again */
    SUP_STAGE_STOPPED, /* dead for good: a stop, or the policy said so */
};

typedef struct SupStage SupStage;

/* One death of a stage, as its owner hears of it. */
typedef struct SupStageDeath {
    int pid;              /* the process that died; 0 when the spawn failed */
    int64_t exit_status;  /* valid when term_signal == 0; 127 for a failed spawn */
    int term_signal;      /* the signal that killed it; 0 for an exit */
    int spawn_error;      /* the spawn's negative errno; 0 when a process had run */
    bool hung;            /* killed by sup_stage_check_hung() */
    bool final;           /* restarts were off (sup_stage_stop_restarts()): no decision */
    int64_t mono_ns;      /* when the death was seen (CLOCK_MONOTONIC) */
    SupDecision decision; /* the restart policy's decision; unset when final */
    /* The death in words, for the log: "camwatch-capture pid=1234 exited with
     * 75 (camera unreachable or lost)". Owned by the stage, valid during the
     * callback only. */
    const char *what;
} SupStageDeath;

/* A process of `stage` was spawned (stage->pid is set): the start, and every restart. */
typedef void (*SupStageStartCb)(SupStage *stage, void *data);

/*
 * `stage` died, or could not be spawned. The stage has acted on it before
 * the call: with SUP_RESTART its restart is scheduled (state WAITING,
 * restart_delay_ns); after any other verdict, and after a final death, it
 * is STOPPED and never runs again. The callback may call any sup_stage_*
 * function, on this stage or another.
 */
typedef void (*SupStageExitCb)(SupStage *stage, const SupStageDeath *death, void *data);

typedef struct SupStageOptions {
    const char *bin_dir; /* the executable is bin_dir/<name> */
    int64_t retry_ns;    /* RETRY_SECONDS, for the restart policy */
    bool source_can_end; /* a capture worker reads a file: its exit 0 is the end, not a dropout */
    SupStageStartCb start_cb; /* may be NULL */
    SupStageExitCb exit_cb;   /* required */
    void *data;               /* passed to both callbacks */
} SupStageOptions;

struct SupStage {
    enum CwStage id;
    const char *name;    /* "camwatch-capture", "camwatch-capture --role=sub" */
    const char *program; /* "camwatch-capture": the executable's file name */
    const char *arg;     /* its one argument ("--role=sub"), or NULL */
    char path[PATH_MAX]; /* executable */
    enum SupStageState state;
    bool restarts_off; /* sup_stage_stop_restarts() was called: never started again */
    /* The current process. A fresh handle per instance, freed by its close
     * callback, so a restart never reuses a handle libuv is still closing. */
    uv_process_t *proc;
    int pid;
    int64_t started_ns;  /* CLOCK_MONOTONIC at the spawn of the current instance */
    bool killed_as_hung; /* we sent SIGKILL because its heartbeat went stale */
    uv_loop_t *loop;
    uv_timer_t restart_timer;
    int64_t restart_delay_ns; /* the delay restart_timer was armed with */
    int64_t retry_ns;
    SupPolicy policy;
    SupStageStartCb start_cb;
    SupStageExitCb exit_cb;
    void *cb_data;
};

/* "camwatch-capture" for CW_STAGE_CAPTURE, and so on. */
const char *sup_stage_name(enum CwStage id);

/* True for a capture worker (the camera's rules: exit 75 retries, exit 0 of a file ends the run).
 */
bool sup_stage_is_capture(enum CwStage id);

/*
 * Prepare `stage` on `loop`, as `options` say (copied; bin_dir is not kept).
 * Returns 0 or a negative errno (-ENAMETOOLONG for a path too long, or
 * uv_timer_init's). sup_stage_close() is safe either way.
 */
int sup_stage_init(uv_loop_t *loop, SupStage *stage, enum CwStage id,
                   const SupStageOptions *options);

/*
 * Spawn the stage now; start_cb runs before this returns. A failed spawn
 * counts as a crash: it goes through the restart policy like any other
 * death and is reported to exit_cb before this returns (with spawn_error
 * set), so the owner may already be stopping the run when it does.
 * Returns 0, that spawn's negative errno, or -ECANCELED (nothing happens,
 * no callback) once restarts are off.
 */
int sup_stage_start(SupStage *stage);

/* True while a process of this stage exists. */
bool sup_stage_alive(const SupStage *stage);

/* Send `signum` to the running instance, if any. Returns 0 or a negative errno. */
int sup_stage_kill(SupStage *stage, int signum);

/*
 * Never start the stage again: a scheduled restart is cancelled (the stage
 * is STOPPED at once), and the death of the running process will be final.
 */
void sup_stage_stop_restarts(SupStage *stage);

/*
 * SIGKILL the stage if it has been up for over SUP_STABLE_NS and its
 * heartbeat in `ring` is older than `limit_ns`; its death then reaches
 * exit_cb with `hung` set. Returns true if it was killed.
 */
bool sup_stage_check_hung(SupStage *stage, const CwRing *ring, int64_t now_ns, int64_t limit_ns);

/*
 * The deaths the policy remembers, newest first, in one line for the log
 * ("SIGSEGV after 0.1 s up, 3 s ago; exit 70 after ..."). Returns buf.
 */
const char *sup_stage_describe_deaths(const SupStage *stage, int64_t now_ns, char *buf,
                                      size_t size);

/*
 * Close the stage's own handle (its restart timer): the loop must be
 * winding down, with no process of the stage left. Safe on a stage that
 * was zeroed, or whose sup_stage_init() failed, and when called twice.
 */
void sup_stage_close(SupStage *stage);

#endif /* CAMWATCH_SUP_STAGE_H */
