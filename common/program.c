#include "program.h"

#include <string.h>

#include "exitcode.h"
#include "log.h"

/* Room for the longest message cw_config_load() writes (it quotes the
 * value, and RTSP_URL may be CW_URL_MAX long; config.c formats into 2048). */
#define CONFIG_ERROR_MAX 2048

int cw_program_start(const CwProgram *program, int argc, char **argv, CwConfig *cfg, int *exit_code)
{
    char err[CONFIG_ERROR_MAX];

    cw_log_init(program->name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            program->usage(stdout);
            cw_config_print_help(program->name);
            if (program->help_tail)
                program->help_tail(stdout);
            *exit_code = CW_EXIT_OK;
            return -1;
        }
        if (program->version && strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", program->name, program->version);
            *exit_code = CW_EXIT_OK;
            return -1;
        }
        switch (program->unknown) {
        case CW_UNKNOWN_ARG_USAGE:
            fprintf(stderr, "%s: unknown argument \"%s\"\n", program->name, argv[i]);
            program->usage(stderr);
            *exit_code = CW_EXIT_USAGE;
            return -1;
        case CW_UNKNOWN_ARG_CONFIG:
            break;
        }
        cw_log(CW_LOG_CRITICAL,
               "unknown argument \"%s\": %s is configured by environment variables (see --help)",
               argv[i], program->name);
        *exit_code = CW_EXIT_CONFIG;
        return -1;
    }

    /* The whole configuration is checked before anything starts: a stage
     * must never be the first to find a typo, in a restart loop. */
    if (cw_config_load(cfg, err, sizeof(err)) < 0) {
        cw_log(CW_LOG_CRITICAL, "%s", err);
        *exit_code = CW_EXIT_CONFIG;
        return -1;
    }
    cw_log_set_level(cfg->log_level);
    return 0;
}
