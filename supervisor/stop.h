/*
 * The ordered stop of a run, as a pure function over a table (in stop.c):
 * capture first, so that record sees the last packets before it closes its
 * clip, then the others (record, detect, and camwatch-http when it runs);
 * SIGKILL for whatever overstays its deadline.
 * No libuv, no clock, no I/O: supervisor.c turns each step into signals,
 * timers and log lines, and tests/unit/stop.c checks the table row by row.
 *
 * Errors: none (every input has a step, "do nothing" included).
 */
#ifndef CAMWATCH_SUP_STOP_H
#define CAMWATCH_SUP_STOP_H

#include <stdbool.h>

/* SIGKILL to every stage still alive this long after the stop began. */
#define SUP_STOP_DEADLINE_MS 15000
/* Capture gets this long to stop before it is killed, so that record keeps
 * most of the stop deadline to close and deliver its clip. */
#define SUP_CAPTURE_STOP_MS 5000

enum SupRunState {
    SUP_RUNNING,          /* stages run and are restarted when they die */
    SUP_STOPPING_CAPTURE, /* SIGTERM sent to capture; the others still run */
    SUP_STOPPING_REST,    /* capture is gone; record finishes its clip, detect stops */
    SUP_DONE,             /* every stage is gone; the loop winds down */
};

enum SupStopEvent {
    SUP_STOP_REQUESTED,  /* end the run: a stage's death decided it (config, end, crash loop) */
    SUP_STOP_SIGNAL,     /* SIGTERM or SIGINT arrived */
    SUP_STOP_STAGE_GONE, /* a stage's process exited after the stop began */
    SUP_STOP_CAPTURE_OVERDUE, /* SUP_CAPTURE_STOP_MS since capture was asked to stop */
    SUP_STOP_OVERDUE,         /* SUP_STOP_DEADLINE_MS since the stop began */
};

/*
 * What a step does. The caller carries the actions out in the order of
 * their bits (SUP_STOP_BEGIN first).
 */
enum SupStopAction {
    SUP_STOP_BEGIN = 1 << 0,        /* STOPPING=1, no more restarts, arm SUP_STOP_DEADLINE_MS */
    SUP_STOP_TERM_CAPTURE = 1 << 1, /* SIGTERM to capture, arm SUP_CAPTURE_STOP_MS */
    SUP_STOP_TERM_REST = 1 << 2,    /* disarm capture's deadline; SIGTERM to record, detect, http */
    SUP_STOP_KILL_CAPTURE = 1 << 3, /* SIGKILL to capture */
    SUP_STOP_KILL_ALL = 1 << 4,     /* SIGKILL to every stage still alive */
    SUP_STOP_FINISH = 1 << 5,       /* disarm the deadline, close every handle: the run is over */
};

typedef struct SupStopStep {
    enum SupRunState state; /* the run's state after the step */
    unsigned actions;       /* SupStopAction bits; 0: nothing to do */
} SupStopStep;

/*
 * The step the run takes on `event` in `state`. `capture_alive` and
 * `others_alive` say whether a process of capture, and of any other stage,
 * exists at this moment (a stage just reported gone is not alive).
 * `signals` is the number of stop signals received so far, this one
 * included (read for SUP_STOP_SIGNAL only): the second one kills at once.
 * Pure: the result depends on the arguments alone.
 */
SupStopStep sup_stop_step(enum SupRunState state, enum SupStopEvent event, bool capture_alive,
                          bool others_alive, unsigned signals);

#endif /* CAMWATCH_SUP_STOP_H */
