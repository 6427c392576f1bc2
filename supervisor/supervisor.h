/*
 * One run of the supervisor for one camera: the libuv loop, the camera's
 * rings, the stages (three always, camwatch-http when HTTP_LISTEN is set, a second capture
 * worker for the sub-stream when DETECT_URL is set), the periodic checks
 * (heartbeats, the camera's progress, the status line, systemd's watchdog), the stop signals and
 * the ordered stop (whose steps stop.c decides). main.c reads the command line and the
 * configuration and hands them over here.
 *
 * Errors: negative errno values (libuv's convention: its UV_E* codes are
 * the same numbers), each logged where it happens. Exit statuses are
 * CW_EXIT_* (exitcode.h), never errors.
 */
#ifndef CAMWATCH_SUP_SUPERVISOR_H
#define CAMWATCH_SUP_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "notify.h"
#include "outage.h"
#include "ring.h"
#include "rings.h"
#include "stage.h"
#include "stop.h"

/*
 * The run. The caller provides the memory (it is large, and the loop's
 * handles point into it, so it must not move); the fields are supervisor.c's.
 */
typedef struct Sup {
    uv_loop_t loop;
    bool loop_ready; /* uv_loop_init() succeeded: uv_loop_close() is due */
    CwConfig cfg;
    int claim_fd; /* sup_instance_claim(), or -1 */
    CwRing *rings[CW_RING_KIND_COUNT];
    bool owns_rings; /* we hold the camera's names in /dev/shm: remove them at the end */
    SupStage stages[CW_STAGE_COUNT];
    bool stage_used[CW_STAGE_COUNT]; /* the stage table's `wanted` said yes: initialised, run */
    unsigned stage_starts[CW_STAGE_COUNT];
    CwSupStatus status; /* what we publish in the packets ring (publish_status()) */
    SupNotify notify;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t tick_timer;
    uv_timer_t watchdog_timer;
    uv_timer_t stop_timer;         /* SUP_STOP_DEADLINE_MS from the start of the stop */
    uv_timer_t capture_stop_timer; /* SUP_CAPTURE_STOP_MS for capture alone */
    enum SupRunState state;
    int exit_code;
    unsigned stop_signals; /* SIGTERM/SIGINT received; the second one kills at once */
    /* Progress of the camera, seen through the packets ring. */
    uint64_t packets_seq;
    int64_t packets_seq_change_ns; /* 0: no packet since we started */
    SupOutage outage;              /* the camera's, told by capture's exits 75 */
    /* With DETECT_URL, the sub-stream's: its worker's exits 75, ended by frames arriving. */
    uint64_t frames_seq;
    SupOutage sub_outage;
} Sup;

/*
 * Prepare a run of `cfg` (copied) in *sup, which this zeroes first: find
 * the stage programs (CAMWATCH_BIN_DIR, or the folder of this executable),
 * claim the camera against a second supervisor, take over systemd's
 * notification socket, set up the loop, signals and timers, and create the
 * camera's rings afresh. No stage is started yet.
 * Returns 0, or a negative errno with the reason logged and *exit_code set
 * to the status the process must end with: CW_EXIT_CONFIG when only a
 * person can help (a stage program missing, the camera taken by another
 * camwatch), CW_EXIT_SOFTWARE otherwise. Call sup_close() either way.
 */
int sup_init(Sup *sup, const CwConfig *cfg, int *exit_code);

/*
 * Start the stages (readers first), tell systemd READY=1, and run until
 * the ordered stop is over (after SIGTERM or SIGINT, a file source that
 * ended, a stage's configuration error, or a crash loop). Call once, after
 * a successful sup_init(). Returns the exit status (CW_EXIT_*).
 */
int sup_run(Sup *sup);

/*
 * Release everything sup_init() took: close the rings (and remove them if
 * this run created them), the loop, the systemd socket, the camera claim.
 * Safe after a failed sup_init(), and after sup_run().
 */
void sup_close(Sup *sup);

#endif /* CAMWATCH_SUP_SUPERVISOR_H */
