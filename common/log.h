/*
 * Logging to stderr with a level filter (LOGLEVEL) and credential masking:
 * every line goes through cw_log_mask() before it is written, so neither a
 * URL's password nor a registered secret ever reaches a log.
 */
#ifndef CAMWATCH_LOG_H
#define CAMWATCH_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum CwLogLevel { CW_LOG_DEBUG, CW_LOG_INFO, CW_LOG_WARNING, CW_LOG_ERROR, CW_LOG_CRITICAL };

/* Name the program in every line (e.g. "camwatch-capture"). */
void cw_log_init(const char *program);

/* Lines below `level` are dropped. */
void cw_log_set_level(int level);

/* "DEBUG", "INFO", "WARNING" (or "WARN"), "ERROR", "CRITICAL", any case;
 * returns the level or -1 for anything else. */
int cw_log_parse_level(const char *name);

/*
 * Never print `secret` (a password): it is replaced by "***" wherever it
 * appears, also percent-decoded. Up to 8 secrets; one shorter than 4
 * characters is masked only where it stands in a URL.
 */
void cw_log_add_secret(const char *secret);

/*
 * The password of "scheme://user:password@host…" in `url`, which ends at
 * `url_end`: the user information runs to the LAST '@' of the URL, so a
 * password with an unencoded '/', '?', '#' or '@' is found whole. Returns
 * true and sets *start and *len, false if the URL carries no password.
 */
bool cw_url_password(const char *url, const char *url_end, const char **start, size_t *len);

/*
 * Copy `in` to `out` with credentials masked: the password of any
 * "scheme://user:password@host" becomes "***", and every registered secret
 * too. Always NUL-terminates; returns the length written.
 */
size_t cw_log_mask(const char *in, char *out, size_t out_size);

void cw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cw_logv(int level, const char *fmt, va_list ap);

#define cw_debug(...) cw_log(CW_LOG_DEBUG, __VA_ARGS__)
#define cw_info(...)  cw_log(CW_LOG_INFO, __VA_ARGS__)
#define cw_warn(...)  cw_log(CW_LOG_WARNING, __VA_ARGS__)
#define cw_error(...) cw_log(CW_LOG_ERROR, __VA_ARGS__)
#define cw_crit(...)  cw_log(CW_LOG_CRITICAL, __VA_ARGS__)

#endif /* CAMWATCH_LOG_H */
