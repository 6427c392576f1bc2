#define _GNU_SOURCE
#include "log.h"

#include "clock.h"
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECRETS    8
#define LINE_MAX_BYTES 4096

static const char *log_program = "camwatch";
static int log_level = CW_LOG_INFO;
static int log_stamps = 1;
static char log_secrets[MAX_SECRETS][256];
static int log_secret_count;

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

void cw_log_init(const char *program)
{
    log_program = program;
    /* journald stamps every line itself; elsewhere (a terminal, docker logs)
     * the time is ours to print. */
    log_stamps = getenv("JOURNAL_STREAM") == NULL;
    const char *env = getenv("LOGLEVEL");
    int level = env ? cw_log_parse_level(env) : -1;
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
    return -1;
}

/* Shorter secrets are masked only inside URLs: hiding every "p" of every
 * line would make the log unreadable and point at the password anyway. */
#define SECRET_MIN_LEN 4

static void add_one_secret(const char *s)
{
    size_t len = strlen(s);
    if (len < SECRET_MIN_LEN || log_secret_count >= MAX_SECRETS || len >= sizeof(log_secrets[0]))
        return;
    for (int i = 0; i < log_secret_count; i++)
        if (strcmp(log_secrets[i], s) == 0)
            return;
    strcpy(log_secrets[log_secret_count++], s);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void cw_log_add_secret(const char *secret)
{
    char decoded[256];
    size_t n = 0;
    add_one_secret(secret);
    /* URLs carry passwords percent-encoded; libraries may print either form. */
    for (const char *p = secret; *p && n + 1 < sizeof(decoded); p++) {
        if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            decoded[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            decoded[n++] = *p;
        }
    }
    decoded[n] = '\0';
    add_one_secret(decoded);
}

bool cw_url_password(const char *url, const char *url_end, const char **start, size_t *len)
{
    const char *auth = strstr(url, "://");
    if (!auth || auth >= url_end)
        return false;
    auth += 3;
    const char *at = memrchr(auth, '@', (size_t)(url_end - auth));
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon)
        return false;
    *start = colon + 1;
    *len = (size_t)(at - colon - 1);
    return true;
}

size_t cw_log_mask(const char *in, char *out, size_t out_size)
{
    size_t o = 0;
    if (!out_size)
        return 0;
    for (const char *p = in; *p && o + 1 < out_size;) {
        /* A registered secret anywhere. */
        int hit = 0;
        for (int i = 0; i < log_secret_count && !hit; i++) {
            size_t len = strlen(log_secrets[i]);
            if (strncmp(p, log_secrets[i], len) == 0) {
                for (const char *m = "***"; *m && o + 1 < out_size; m++)
                    out[o++] = *m;
                p += len;
                hit = 1;
            }
        }
        if (hit)
            continue;
        /* "://user:password@": keep the user, hide the password. A URL in
         * a line ends at white space or a quote. */
        const char *pw;
        size_t pw_len;
        if (p[0] == ':' && p[1] == '/' && p[2] == '/' &&
            cw_url_password(p, p + strcspn(p, " \t\n\"'"), &pw, &pw_len)) {
            for (const char *c = p; c < pw && o + 1 < out_size; c++)
                out[o++] = *c;
            for (const char *m = "***"; *m && o + 1 < out_size; m++)
                out[o++] = *m;
            p = pw + pw_len;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return o;
}

void cw_logv(int level, const char *fmt, va_list ap)
{
    char raw[LINE_MAX_BYTES], line[LINE_MAX_BYTES];
    char stamp[40] = "";
    if (level < log_level)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    size_t n = cw_log_mask(raw, line, sizeof(line));
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
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

void cw_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cw_logv(level, fmt, ap);
    va_end(ap);
}
