#include "timefmt.h"

#include "clock.h"

#include <ctype.h>
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

static bool two_digits(const char *p)
{
    return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]);
}

bool cw_time_parse_iso(const char *s, int64_t *out_ns)
{
    int year, month, mday, hour, min, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &mday, &hour, &min, &sec, &n) != 6 ||
        n != 19)
        return false;
    const char *p = s + n;
    int64_t frac_ns = 0, unit_ns = CW_NS_PER_SEC;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            if (unit_ns > 1) {
                unit_ns /= 10;
                frac_ns += (*p - '0') * unit_ns;
            }
    long offset_s = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        if (!two_digits(p + 1))
            return false;
        int oh = (p[1] - '0') * 10 + (p[2] - '0'), om = 0;
        p += 3;
        if (*p == ':')
            p++;
        if (two_digits(p)) {
            om = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
        offset_s = sign * (oh * 3600L + om * 60L);
    } else {
        return false;
    }
    if (*p || month < 1 || month > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
        return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = mday,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    *out_ns = ((int64_t)timegm(&tm) - offset_s) * CW_NS_PER_SEC + frac_ns;
    return true;
}
