/*
 * The start every stage program (capture, detect, record) shares: the start
 * of every camwatch program (program.h), then the stop signals and the
 * parent-death signal of a supervised stage.
 */
#ifndef CAMWATCH_STAGE_START_H
#define CAMWATCH_STAGE_START_H

#include "config.h"

#include <signal.h>
#include <stdio.h>

/* Set by the supervisor for its stages: its pid. */
#define CW_SUPERVISOR_PID_ENV "CAMWATCH_SUPERVISOR_PID"

/* Set to 1 by SIGTERM or SIGINT once cw_stage_start() installed its handler. */
extern volatile sig_atomic_t cw_stop_requested;

/*
 * The shared start of a program (cw_program_start(): log name, "--help"/"-h"
 * with `usage` and the configuration variables, exit 0; any other argument
 * refused with one CRITICAL line, exit 78, as stages are configured by
 * environment only; the configuration loaded and checked, one CRITICAL line
 * naming the variable, exit 78; the log level set), then what only a stage
 * does: install SIGTERM/SIGINT handlers that set cw_stop_requested,
 * without SA_RESTART so that a blocking call returns EINTR and the stop is
 * seen at once; ignore SIGPIPE (a write error is handled where it happens).
 * Under the supervisor (CW_SUPERVISOR_PID_ENV names our parent), ask for
 * SIGTERM when the parent dies, so no stage outlives a killed supervisor.
 * Returns 0 to go on, or -1 with *exit_code set: main returns it.
 */
int cw_stage_start(const char *program, void (*usage)(FILE *out), int argc, char **argv,
                   CwConfig *cfg, int *exit_code);

#endif /* CAMWATCH_STAGE_START_H */
