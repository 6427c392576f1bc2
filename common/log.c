#define _GNU_SOURCE
#include "log.h"

#include "clock.h"
#include "timefmt.h"
#include "url.h"

#include <errno.h>
#include <pthread.h>
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

/* The last ERROR or CRITICAL line (cw_log_last_error()); libav may log
 * from its decoder threads, hence the lock, taken on that path only. */
static pthread_mutex_t last_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[CW_LOG_LAST_ERROR_MAX];
static int64_t last_error_wall_ns;

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
    if (level < log_level && level < CW_LOG_ERROR)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    size_t n = cw_url_mask_credentials(raw, line, sizeof(line));
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    cw_log_one_line(line);
    if (level >= CW_LOG_ERROR) {
        pthread_mutex_lock(&last_error_lock);
        /* Cut to the room kept, as the status block holds no more. */
        size_t keep = strnlen(line, sizeof(last_error) - 1);
        memcpy(last_error, line, keep);
        last_error[keep] = '\0';
        last_error_wall_ns = cw_wall_ns();
        pthread_mutex_unlock(&last_error_lock);
        if (level < log_level)
            return;
    }
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

int64_t cw_log_last_error(char *buf, size_t size)
{
    pthread_mutex_lock(&last_error_lock);
    int64_t when = last_error_wall_ns;
    if (size)
        snprintf(buf, size, "%s", last_error);
    pthread_mutex_unlock(&last_error_lock);
    return when;
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
