#define _GNU_SOURCE
#include "log.h"

#include "clock.h"
#include "timefmt.h"
#include "url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static const char *log_program = "camwatch";
static int log_level = CW_LOG_INFO;
static int log_stamps = 1;

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

void cw_log_init(const char *program)
{
    log_program = program;
    /* journald stamps every line itself; elsewhere (a terminal, docker logs)
     * the time is ours to print. */
    log_stamps = getenv("JOURNAL_STREAM") == NULL;
    const char *env = getenv("LOGLEVEL");
    int level = env ? cw_log_parse_level(env) : -EINVAL;
    if (level >= 0)
        log_level = level;
}

void cw_log_set_level(int level)
{
    log_level = level;
}

int cw_log_parse_level(const char *name)
{
    for (int i = 0; i <= CW_LOG_CRITICAL; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "WARN") == 0)
        return CW_LOG_WARNING;
    return -EINVAL;
}

void cw_logv(int level, const char *fmt, va_list ap)
{
    char raw[LINE_MAX_BYTES], line[LINE_MAX_BYTES];
    char stamp[40] = "";
    if (level < log_level)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    size_t n = cw_url_mask_credentials(raw, line, sizeof(line));
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    cw_log_one_line(line);
    if (log_stamps) {
        cw_time_format(cw_wall_ns(), CW_TIME_LOG, stamp, sizeof(stamp) - 1);
        strcat(stamp, " ");
    }
    /* One write per line, so lines of concurrent stages never interleave. */
    char out[LINE_MAX_BYTES + 128];
    int len = snprintf(out, sizeof(out), "%s%s[%d] %s: %s\n", stamp, log_program, (int)getpid(),
                       level_names[level], line);
    if (len > (int)sizeof(out))
        len = (int)sizeof(out);
    if (write(STDERR_FILENO, out, (size_t)len) < 0) {
        /* Nowhere left to report a failing stderr. */
    }
}

void cw_log_one_line(char *text)
{
    for (char *c = text; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            *c = '?';
}

void cw_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cw_logv(level, fmt, ap);
    va_end(ap);
}
