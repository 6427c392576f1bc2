/*
 * `camwatch status [--json]`: what the camera's running camwatch is doing,
 * read from its rings' shared memory and its clip folder (status.h), so
 * it answers whoever may read the rings, under systemd, compose or by hand.
 */
#ifndef CAMWATCH_SUP_STATUS_CMD_H
#define CAMWATCH_SUP_STATUS_CMD_H

/* sysexits EX_UNAVAILABLE: no camwatch runs for this camera (no rings). */
#define SUP_EXIT_NOT_RUNNING 69

/*
 * Run the command (`argv[0]` is "status"). Prints the status as text, or
 * with --json as the JSON document camwatch-http serves at /api/status.
 * Returns 0, SUP_EXIT_NOT_RUNNING when the camera has no rings,
 * CW_EXIT_CONFIG for a bad configuration (it names the camera and
 * VIDEO_DIR), CW_EXIT_USAGE for an unknown argument, CW_EXIT_SOFTWARE when
 * the rings cannot be read.
 */
int sup_status_main(int argc, char **argv);

#endif /* CAMWATCH_SUP_STATUS_CMD_H */
