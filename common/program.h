/*
 * The start every camwatch program shares, the supervisor and the stages
 * alike: the log's program name, the command line (--help, --version), the
 * configuration and the log level. What differs between programs is data
 * in CwProgram, so the four programs answer a bad start in one way.
 */
#ifndef CAMWATCH_PROGRAM_H
#define CAMWATCH_PROGRAM_H

#include <stdio.h>

#include "config.h"

/* sysexits EX_USAGE: a command line the program does not understand. */
#define CW_EXIT_USAGE 64

/* What a program does with a command-line argument it does not know. */
enum CwUnknownArg {
    /* A stage, configured by environment only: one CRITICAL log line
     * ("unknown argument ...: <name> is configured by environment
     * variables"), exit CW_EXIT_CONFIG, as for any configuration error. */
    CW_UNKNOWN_ARG_CONFIG,
    /* A command a person types: "<name>: unknown argument ..." and the
     * usage on stderr, exit CW_EXIT_USAGE. */
    CW_UNKNOWN_ARG_USAGE,
};

typedef struct CwProgram {
    const char *name;             /* "camwatch-capture": in every log line, --help, --version */
    void (*usage)(FILE *out);     /* what the program does: the start of --help */
    void (*help_tail)(FILE *out); /* after the configuration variables; NULL: nothing */
    const char *version;          /* --version prints "<name> <version>"; NULL: no --version */
    enum CwUnknownArg unknown;    /* how an argument it does not know is refused */
} CwProgram;

/*
 * Name the program in the log; answer "--help"/"-h" (usage, the
 * configuration variables, help_tail; exit 0) and "--version" if the
 * program has one (exit 0); refuse any other argument as `unknown` says;
 * load and check the whole configuration into *cfg (one CRITICAL line
 * naming the variable, exit CW_EXIT_CONFIG); set the log level from it
 * (LOGLEVEL may come from the .env file, so only now).
 * Returns 0 to go on, or -1 with *exit_code set (0 for --help and
 * --version): main returns it. Nothing is left to free either way.
 */
int cw_program_start(const CwProgram *program, int argc, char **argv, CwConfig *cfg,
                     int *exit_code);

#endif /* CAMWATCH_PROGRAM_H */
