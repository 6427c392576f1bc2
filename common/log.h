/*
 * Logging to stderr, one write per line, with a level filter (LOGLEVEL).
 * Every line goes through cw_url_mask_credentials() (url.h) before it is
 * written, so neither a URL's password nor a registered secret ever reaches
 * a log.
 *
 * Errors: negative errno values, as everywhere in common/. Logging itself
 * never fails: a line stderr does not take is lost, there being nowhere
 * else to report it.
 */
#ifndef CAMWATCH_LOG_H
#define CAMWATCH_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum CwLogLevel { CW_LOG_DEBUG, CW_LOG_INFO, CW_LOG_WARNING, CW_LOG_ERROR, CW_LOG_CRITICAL };

/* Name the program in every line (e.g. "camwatch-capture"). */
void cw_log_init(const char *program);

/* Lines below `level` are dropped. */
void cw_log_set_level(int level);

/* "DEBUG", "INFO", "WARNING" (or "WARN"), "ERROR", "CRITICAL", any case;
 * returns the level (a CW_LOG_* value) or -EINVAL for anything else. */
int cw_log_parse_level(const char *name);

/*
 * Make `text` one line in place: every control character but tab (and DEL)
 * becomes '?', so that a quoted value (a URL, a path) cannot end a message
 * and forge another. cw_log() applies it to every line; configuration
 * errors are made one line with it before they are returned.
 */
void cw_log_one_line(char *text);

/*
 * Log one line at `level` (a CW_LOG_* value), stamped with the local time
 * unless journald stamps it, the program's name and pid; a trailing newline
 * is not needed. Thread-safe: each line is a single write(2).
 */
void cw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cw_logv(int level, const char *fmt, va_list ap);

/* Longest last-error line kept (cw_log_last_error()), with its NUL. */
#define CW_LOG_LAST_ERROR_MAX 320

/*
 * The last ERROR or CRITICAL line this process logged (or would have, had
 * LOGLEVEL not hidden it), masked and on one line as written, into `buf`
 * (cut to `size`, always terminated when size > 0). Returns its
 * CLOCK_REALTIME time in ns, 0 if there was none (buf is then "").
 */
int64_t cw_log_last_error(char *buf, size_t size);

#define cw_debug(...) cw_log(CW_LOG_DEBUG, __VA_ARGS__)
#define cw_info(...)  cw_log(CW_LOG_INFO, __VA_ARGS__)
#define cw_warn(...)  cw_log(CW_LOG_WARNING, __VA_ARGS__)
#define cw_error(...) cw_log(CW_LOG_ERROR, __VA_ARGS__)
#define cw_crit(...)  cw_log(CW_LOG_CRITICAL, __VA_ARGS__)

#endif /* CAMWATCH_LOG_H */
