/*
 * One stage (camwatch-capture, -detect or -record): its process, its
 * restart timer, its death history and its heartbeat.
 */
#ifndef CAMWATCH_SUP_STAGE_H
#define CAMWATCH_SUP_STAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "policy.h"
#include "rings.h"

struct Sup;

enum SupStageState {
    SUP_STAGE_IDLE,    /* not started yet, or its restart was cancelled by a stop */
    SUP_STAGE_RUNNING, /* a process exists (it may be dying) */
    SUP_STAGE_WAITING, /* dead; restart_timer will start it again */
    SUP_STAGE_STOPPED, /* dead for good: the supervisor is stopping */
};

typedef struct SupStage {
    struct Sup *sup;
    enum CwStage id;
    const char *name;    /* "camwatch-capture" */
    char path[PATH_MAX]; /* executable */
    enum SupStageState state;
    /* The current process. A fresh handle per instance, freed by its close
     * callback, so a restart never reuses a handle libuv is still closing. */
    uv_process_t *proc;
    int pid;
    int64_t started_ns;  /* CLOCK_MONOTONIC at the spawn of the current instance */
    bool killed_as_hung; /* we sent SIGKILL because its heartbeat went stale */
    uv_timer_t restart_timer;
    int64_t restart_delay_ns; /* the delay restart_timer was armed with */
    uint64_t starts;
    SupPolicy policy;
    /* Camera outage (capture only): from the first exit 75 until video flows again. */
    unsigned outage_attempts;
    int64_t outage_since_ns;
    int64_t outage_logged_ns; /* last "still unreachable" line */
} SupStage;

/* "camwatch-capture" for CW_STAGE_CAPTURE, and so on. */
const char *sup_stage_name(enum CwStage id);

/* "10 s", "1.5 s": a delay as the log and STATUS= show it. Returns buf. */
const char *sup_format_delay(int64_t ns, char *buf, size_t size);

/*
 * Prepare `stage` (executable `bin_dir`/<name>) on the supervisor's loop.
 * Returns 0 or a negative errno (-ENAMETOOLONG for a path too long).
 */
int sup_stage_init(struct Sup *sup, SupStage *stage, enum CwStage id, const char *bin_dir);

/*
 * Spawn the stage now. A failed spawn counts as a crash and goes through
 * the restart policy like any other death (it may schedule a retry, or
 * stop everything); the return value is 0 or that spawn's negative errno.
 */
int sup_stage_start(SupStage *stage);

/* True while a process of this stage exists. */
bool sup_stage_alive(const SupStage *stage);

/* Send `signum` to the running instance, if any. Returns 0 or a negative errno. */
int sup_stage_kill(SupStage *stage, int signum);

/* Cancel a scheduled restart: the stage will not be started again. */
void sup_stage_cancel_restart(SupStage *stage);

/*
 * SIGKILL the stage if it has been up for over SUP_STABLE_NS and its
 * heartbeat in `ring` is older than `limit_ns`; its death then goes through
 * the restart policy. Returns true if it was killed.
 */
bool sup_stage_check_hung(SupStage *stage, const CwRing *ring, int64_t now_ns, int64_t limit_ns);

/* Close the stage's own handles (its restart timer); the loop must be winding down. */
void sup_stage_close(SupStage *stage);

#endif /* CAMWATCH_SUP_STAGE_H */
