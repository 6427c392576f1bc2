#include "stage_start.h"

#include "exitcode.h"
#include "log.h"
#include "program.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

volatile sig_atomic_t cw_stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    cw_stop_requested = 1;
}

int cw_stage_start(const char *program, void (*usage)(FILE *out), int argc, char **argv,
                   CwConfig *cfg, int *exit_code)
{
    const CwProgram stage = {
        .name = program,
        .usage = usage,
        .unknown = CW_UNKNOWN_ARG_CONFIG, /* a stage takes no arguments, only environment */
    };

    if (cw_program_start(&stage, argc, argv, cfg, exit_code) < 0)
        return -1;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: see the header */
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
        cw_crit("cannot install signal handlers: %s", strerror(errno));
        *exit_code = CW_EXIT_SOFTWARE;
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);

    const char *parent = getenv(CW_SUPERVISOR_PID_ENV);
    if (parent && *parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        /* The supervisor may have died before the request was in place. */
        if (getppid() != (pid_t)atoi(parent)) {
            cw_warn("the camwatch supervisor (pid %s) is gone: stopping", parent);
            *exit_code = CW_EXIT_OK;
            return -1;
        }
    }
    return 0;
}
