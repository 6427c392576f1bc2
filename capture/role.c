#include "role.h"

#include <libavutil/error.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ROLE_PREFIX "--role="

void capture_role_take(int *argc, char **argv, const char **role_arg)
{
    *role_arg = NULL;
    for (int i = 1; i < *argc; i++) {
        if (strncmp(argv[i], ROLE_PREFIX, strlen(ROLE_PREFIX)) != 0)
            continue;
        *role_arg = argv[i] + strlen(ROLE_PREFIX);
        /* argv[argc] is NULL: it moves down with the rest. */
        memmove(&argv[i], &argv[i + 1], sizeof(*argv) * (size_t)(*argc - i));
        (*argc)--;
        return;
    }
}

int capture_role_resolve(const char *role_arg, const CwConfig *cfg, enum CaptureRole *role,
                         char *err, size_t err_size)
{
    bool sub_stream = cfg->detect_url[0] != '\0';

    if (!role_arg) {
        *role = sub_stream ? CAPTURE_ROLE_MAIN : CAPTURE_ROLE_BOTH;
        return 0;
    }
    if (strcmp(role_arg, "main") == 0) {
        *role = sub_stream ? CAPTURE_ROLE_MAIN : CAPTURE_ROLE_BOTH;
        return 0;
    }
    if (strcmp(role_arg, "sub") == 0 && sub_stream) {
        *role = CAPTURE_ROLE_SUB;
        return 0;
    }
    if (strcmp(role_arg, "sub") == 0)
        snprintf(err, err_size,
                 "--role=sub decodes DETECT_URL, which is not set: set DETECT_URL to the "
                 "camera's sub-stream, or run camwatch-capture without --role");
    else
        snprintf(err, err_size,
                 "--role=%.64s is not accepted: use --role=main (RTSP_URL, copied for "
                 "recording) or --role=sub (DETECT_URL, decoded for detection)",
                 role_arg);
    return AVERROR(EINVAL);
}

const char *capture_role_name(enum CaptureRole role)
{
    return role == CAPTURE_ROLE_MAIN ? "main" : role == CAPTURE_ROLE_SUB ? "sub" : "both";
}

bool capture_role_copies(enum CaptureRole role)
{
    return role != CAPTURE_ROLE_SUB;
}

bool capture_role_decodes(enum CaptureRole role)
{
    return role != CAPTURE_ROLE_MAIN;
}
