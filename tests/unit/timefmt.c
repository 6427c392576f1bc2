/* Unit test: cw_time_format's styles, and the rate limiter of log lines. */
#include "check.h"
#include "clock.h"
#include "ratelimit.h"
#include "timefmt.h"

#include <stdlib.h>
#include <time.h>

static void test_styles_utc(void)
{
    char buf[64];
    /* 2026-11-26 13:33:20.123456789 UTC */
    int64_t ns = 1795700000LL * CW_NS_PER_SEC + 123456789;
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_ISO_UTC, buf, sizeof(buf)),
                  "2026-11-26T13:33:20.123456Z"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_LOG, buf, sizeof(buf)), "2026-11-26 13:33:20.123"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_ISO_LOCAL, buf, sizeof(buf)),
                  "2026-11-26T13:33:20.123+00:00"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_NAME, buf, sizeof(buf)), "20261126-133320"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_DAY, buf, sizeof(buf)), "2026-11-26"));
}

static void test_local_offset(void)
{
    char buf[64];
    int64_t ns = 1795700000LL * CW_NS_PER_SEC + 5 * CW_NS_PER_MSEC;
    setenv("TZ", "CET-1", 1); /* one hour east of UTC, no summer time */
    tzset();
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_ISO_LOCAL, buf, sizeof(buf)),
                  "2026-11-26T14:33:20.005+01:00"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_NAME, buf, sizeof(buf)), "20261126-143320"));
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_ISO_UTC, buf, sizeof(buf)),
                  "2026-11-26T13:33:20.005000Z"));
    setenv("TZ", "UTC+3", 1); /* west: a negative offset */
    tzset();
    CHECK(!strcmp(cw_time_format(ns, CW_TIME_ISO_LOCAL, buf, sizeof(buf)),
                  "2026-11-26T10:33:20.005-03:00"));
}

static void test_before_1970_and_small_buffers(void)
{
    char buf[64];
    setenv("TZ", "UTC", 1);
    tzset();
    /* 1 ms before the epoch: the fraction stays positive. */
    CHECK(!strcmp(cw_time_format(-CW_NS_PER_MSEC, CW_TIME_LOG, buf, sizeof(buf)),
                  "1969-12-31 23:59:59.999"));
    char small[8];
    cw_time_format(0, CW_TIME_ISO_UTC, small, sizeof(small));
    CHECK(strlen(small) == sizeof(small) - 1);
    cw_time_format(0, CW_TIME_NAME, small, sizeof(small));
    CHECK(strlen(small) < sizeof(small));
}

static void test_ratelimit(void)
{
    CwRateLimit rl = CW_RATELIMIT_INIT(60 * CW_NS_PER_SEC);
    int64_t t0 = 1000 * CW_NS_PER_SEC;
    CHECK(cw_ratelimit_test(&rl, t0) == 0);                       /* the first passes */
    CHECK(cw_ratelimit_test(&rl, t0 + 1) == -1);                  /* held back */
    CHECK(cw_ratelimit_test(&rl, t0 + 59 * CW_NS_PER_SEC) == -1); /* still too soon */
    CHECK(cw_ratelimit_test(&rl, t0 + 60 * CW_NS_PER_SEC) == 2);  /* passes, says 2 held */
    CHECK(cw_ratelimit_test(&rl, t0 + 61 * CW_NS_PER_SEC) == -1); /* interval restarted */
    cw_ratelimit_reset(&rl);
    CHECK(cw_ratelimit_test(&rl, t0 + 62 * CW_NS_PER_SEC) == 0); /* reset: passes at once */
    /* A clock that starts at 0 is no special case. */
    CwRateLimit z = CW_RATELIMIT_INIT(10);
    CHECK(cw_ratelimit_test(&z, 0) == 0);
    CHECK(cw_ratelimit_test(&z, 5) == -1);
    CHECK(cw_ratelimit_test(&z, 10) == 1);
}

int main(void)
{
    RUN(test_styles_utc);
    RUN(test_local_offset);
    RUN(test_before_1970_and_small_buffers);
    RUN(test_ratelimit);
    return 0;
}
