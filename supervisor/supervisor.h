/*
 * The supervisor's shared state: one libuv loop, the configuration, the
 * three rings it created, the three stages, and the ordered stop. main.c
 * owns it; stage.c calls back into it when a stage's death ends the run.
 */
#ifndef CAMWATCH_SUP_SUPERVISOR_H
#define CAMWATCH_SUP_SUPERVISOR_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "notify.h"
#include "ring.h"
#include "rings.h"
#include "stage.h"

/* SIGTERM to everything still alive this long after the stop began: SIGKILL. */
#define SUP_STOP_DEADLINE_MS 15000
/* Capture gets this long to stop before it is killed, so that record keeps
 * most of the stop deadline to close and deliver its clip. */
#define SUP_CAPTURE_STOP_MS 5000
/* How often heartbeats and the camera's progress are looked at. */
#define SUP_TICK_MS 1000

enum SupState {
    SUP_RUNNING,          /* stages run and are restarted when they die */
    SUP_STOPPING_CAPTURE, /* SIGTERM sent to capture; the others still run */
    SUP_STOPPING_REST,    /* capture is gone; record finishes its clip, detect stops */
    SUP_DONE,             /* every stage is gone; the loop winds down */
};

typedef struct Sup {
    uv_loop_t loop;
    CwConfig cfg;
    CwRing *rings[CW_RING_KIND_COUNT];
    SupStage stages[CW_STAGE_COUNT];
    SupNotify notify;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t tick_timer;
    uv_timer_t watchdog_timer;
    uv_timer_t stop_timer;         /* SUP_STOP_DEADLINE_MS from the start of the stop */
    uv_timer_t capture_stop_timer; /* SUP_CAPTURE_STOP_MS for capture alone */
    enum SupState state;
    int exit_code;
    unsigned stop_signals; /* SIGTERM/SIGINT received; the second one kills at once */
    /* Progress of the camera, seen through the packets ring. */
    uint64_t packets_seq;
    int64_t packets_seq_change_ns; /* 0: no packet since we started */
} Sup;

/*
 * Begin the ordered stop (no-op if one is under way): no more restarts,
 * SIGTERM to capture, then to record and detect once capture has exited,
 * SIGKILL to whatever is left after SUP_STOP_DEADLINE_MS. The process exits
 * with `exit_code` (CW_EXIT_*) once every stage is gone.
 */
void sup_stop(Sup *sup, int exit_code, const char *why);

/* A stage exited during the ordered stop: take the next step. */
void sup_stop_advance(Sup *sup);

/* Recompute the one-line status (systemd STATUS=) from the stages' states. */
void sup_update_status(Sup *sup);

#endif /* CAMWATCH_SUP_SUPERVISOR_H */
