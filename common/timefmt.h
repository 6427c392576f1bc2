/*
 * Wall-clock stamps as text, one function for every place camwatch prints a
 * time: log lines, clip names, sidecars and MP4 metadata.
 *
 * Errors: none; a buffer too small gets a truncated stamp (common/
 * otherwise returns negative errno values).
 */
#ifndef CAMWATCH_TIMEFMT_H
#define CAMWATCH_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

enum CwTimeStyle {
    CW_TIME_LOG,       /* "2026-11-26 14:30:05.123", local time */
    CW_TIME_ISO_LOCAL, /* "2026-11-26T14:30:05.123+01:00", local time with its offset */
    CW_TIME_ISO_UTC,   /* "2026-11-26T13:30:05.123456Z", UTC, microseconds */
    CW_TIME_NAME,      /* "20261126-143005", local time, as in clip names */
    CW_TIME_DAY,       /* "2026-11-26", local time, as in date folders */
};

/*
 * Format `wall_ns` (CLOCK_REALTIME, ns since 1970) in `style` into buf.
 * Returns buf; a buffer too small holds a truncated, terminated stamp.
 */
char *cw_time_format(int64_t wall_ns, enum CwTimeStyle style, char *buf, size_t size);

#endif /* CAMWATCH_TIMEFMT_H */
