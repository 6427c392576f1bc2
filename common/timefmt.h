/*
 * Wall-clock stamps as text, one function for every place camwatch prints a
 * time: log lines, clip names, sidecars and MP4 metadata.
 *
 * Errors: none; a buffer too small gets a truncated stamp (common/
 * otherwise returns negative errno values).
 */
#ifndef CAMWATCH_TIMEFMT_H
#define CAMWATCH_TIMEFMT_H

#include <stdbool.h>
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

/*
 * Parse an ISO 8601 stamp as sidecars carry it, "2026-10-01T10:15:00.123+02:00"
 * (CW_TIME_ISO_LOCAL), also with "Z", "+0200" or no fraction, into ns since
 * 1970 (the fraction kept to the ns). Returns false, *out_ns untouched, for
 * anything else.
 */
bool cw_time_parse_iso(const char *s, int64_t *out_ns);

#endif /* CAMWATCH_TIMEFMT_H */
