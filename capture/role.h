/*
 * Which part of the camera's work one capture process does. Without
 * DETECT_URL one process does both: it copies RTSP_URL's packets into the
 * packets ring and decodes them into the frames ring. With DETECT_URL two
 * workers share the work, each restarted alone: the main one copies
 * RTSP_URL's packets and never opens a decoder, the sub one decodes
 * DETECT_URL (the camera's low-resolution sub-stream) into the frames ring
 * and writes no packets. The role is the one argument capture takes
 * (`--role=main|sub`); it is not a secret, so it may be seen in `ps`.
 *
 * Errors: negative AVERROR codes, as everywhere in capture/.
 */
#ifndef CAPTURE_ROLE_H
#define CAPTURE_ROLE_H

#include "config.h"

#include <stdbool.h>

enum CaptureRole {
    CAPTURE_ROLE_BOTH, /* no DETECT_URL: copy and decode RTSP_URL */
    CAPTURE_ROLE_MAIN, /* copy RTSP_URL's packets only */
    CAPTURE_ROLE_SUB,  /* decode DETECT_URL for detection only */
};

/*
 * Take `--role=VALUE` out of argv (shifting the rest down, *argc reduced),
 * so that what is left is the shared stage command line. *role_arg points
 * at VALUE (inside argv), or is NULL when no role was given. No errors.
 */
void capture_role_take(int *argc, char **argv, const char **role_arg);

/*
 * The role for `role_arg` (capture_role_take()) under `cfg`: with
 * DETECT_URL set, "sub" or "main" (the default); without it, both ("main"
 * is accepted: nothing else decodes then).
 * Returns 0, or AVERROR(EINVAL) with one line in `err` (another value; sub
 * without DETECT_URL): a configuration error.
 */
int capture_role_resolve(const char *role_arg, const CwConfig *cfg, enum CaptureRole *role,
                         char *err, size_t err_size);

/* "main", "sub" or "both", for the log. */
const char *capture_role_name(enum CaptureRole role);

/* Whether the role copies packets into the packets ring, and whether it decodes. */
bool capture_role_copies(enum CaptureRole role);
bool capture_role_decodes(enum CaptureRole role);

#endif /* CAPTURE_ROLE_H */
