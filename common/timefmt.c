#include "timefmt.h"

#include "clock.h"

#include <stdio.h>
#include <time.h>

char *cw_time_format(int64_t wall_ns, enum CwTimeStyle style, char *buf, size_t size)
{
    /* Floor division: a stamp before 1970 must not give a negative fraction. */
    int64_t sec = wall_ns / CW_NS_PER_SEC;
    int64_t rem = wall_ns % CW_NS_PER_SEC;
    if (rem < 0) {
        sec--;
        rem += CW_NS_PER_SEC;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char date[40];

    if (!size)
        return buf;
    if (style == CW_TIME_ISO_UTC)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    switch (style) {
    case CW_TIME_LOG:
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03d", date, (int)(rem / CW_NS_PER_MSEC));
        break;
    case CW_TIME_ISO_LOCAL: {
        long off = tm.tm_gmtoff;
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
            off = -off;
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03d%c%02ld:%02ld", date, (int)(rem / CW_NS_PER_MSEC), sign,
                 off / 3600, (off % 3600) / 60);
        break;
    }
    case CW_TIME_ISO_UTC:
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%06dZ", date, (int)(rem / 1000));
        break;
    case CW_TIME_NAME:
        if (!strftime(buf, size, "%Y%m%d-%H%M%S", &tm))
            buf[0] = '\0';
        break;
    case CW_TIME_DAY:
        if (!strftime(buf, size, "%Y-%m-%d", &tm))
            buf[0] = '\0';
        break;
    }
    return buf;
}
