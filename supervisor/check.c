#include "check.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "program.h"

/* Room for cw_config_load()'s longest message (see program.c). */
#define CHECK_ERROR_MAX 2048

static void print_var(const char *name, const char *value, enum CwConfigSource source, void *data)
{
    (void)data;
    /* Quoted, so that an empty value and trailing blanks are visible. */
    printf("%-24s \"%s\"  (%s)\n", name, value, cw_config_source_name(source));
}

int sup_check_main(int argc, char **argv)
{
    static CwConfig cfg; /* large: paths */
    char err[CHECK_ERROR_MAX];

    cw_log_init("camwatch");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: camwatch check\n\n"
                   "Checks the configuration (the environment, then the .env file or ENV_FILE)\n"
                   "as camwatch would at start, and prints every effective value and where it\n"
                   "came from: environment, .env or default. Credentials show as ***.\n"
                   "Exit status: 0 sound, 78 a value is missing or not accepted.\n");
            return CW_EXIT_OK;
        }
        fprintf(stderr, "camwatch check: unknown argument \"%s\" (see camwatch check --help)\n",
                argv[i]);
        return CW_EXIT_USAGE;
    }
    if (cw_config_load(&cfg, err, sizeof(err)) < 0) {
        cw_log(CW_LOG_CRITICAL, "%s", err);
        return CW_EXIT_CONFIG;
    }
    cw_config_each(&cfg, print_var, NULL);
    printf("configuration OK\n");
    return CW_EXIT_OK;
}
