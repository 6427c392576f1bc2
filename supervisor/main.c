/*
 * camwatch: the supervisor's command line. It answers --help and --version,
 * loads and checks the whole configuration, and hands the run to
 * supervisor.c: that creates the camera's rings, spawns camwatch-capture,
 * -detect and -record, restarts the one that dies, kills the one that hangs
 * and on SIGTERM stops them in order. The exit status is the run's.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "program.h"
#include "status_cmd.h"
#include "supervisor.h"

#ifndef CAMWATCH_VERSION
#define CAMWATCH_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: camwatch [--help | --version]\n"
            "       camwatch check            check the configuration, print every value\n"
            "       camwatch status [--json]  what a running camwatch of this camera is doing\n"
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

int main(int argc, char **argv)
{
    /* Static: both are large (the configuration holds paths), and the
     * run's loop handles point into `sup`. */
    static CwConfig cfg;
    static Sup sup;
    int exit_code;

    /* Commands that look at a configuration or a run, never start one. */
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return sup_check_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return sup_status_main(argc - 1, argv + 1);
    if (cw_program_start(&camwatch, argc, argv, &cfg, &exit_code) < 0)
        return exit_code;
    if (sup_init(&sup, &cfg, &exit_code) < 0) {
        sup_close(&sup);
        return exit_code; /* sup_init logged why */
    }
    cw_info("camwatch %s watching camera %s (%s), clips to %s", CAMWATCH_VERSION, cfg.camera,
            cfg.rtsp_url, cfg.video_dir);
    exit_code = sup_run(&sup);
    sup_close(&sup);
    cw_log(exit_code == CW_EXIT_OK ? CW_LOG_INFO : CW_LOG_ERROR, "stopped, exit status %d",
           exit_code);
    return exit_code;
}
