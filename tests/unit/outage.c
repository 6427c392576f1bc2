/* A camera outage as the supervisor tells it (supervisor/outage.c), rule by rule. */
#include "check.h"

#include "../../supervisor/outage.h"

#define S(x) ((int64_t)((x)*1e9))

/* The first failure is told at once, the next ones at DEBUG, and one
 * "still unreachable" line a minute while the camera stays down. */
static void test_told_once_then_every_minute(void)
{
    SupOutage o;
    sup_outage_init(&o);
    CHECK(!sup_outage_routine(&o));
    CHECK_EQ_U64(sup_outage_failed(&o, S(1000)), SUP_OUTAGE_TELL_FIRST);
    CHECK_EQ_U64(o.attempts, 1);
    CHECK_EQ_U64(o.since_ns, S(1000));
    CHECK(!sup_outage_routine(&o)); /* the restart after the first failure is told */
    CHECK_EQ_U64(sup_outage_failed(&o, S(1001)), SUP_OUTAGE_TELL_QUIET);
    CHECK(sup_outage_routine(&o));
    CHECK_EQ_U64(sup_outage_failed(&o, S(1059.9)), SUP_OUTAGE_TELL_QUIET);
    CHECK_EQ_U64(sup_outage_failed(&o, S(1060)), SUP_OUTAGE_TELL_STILL);
    CHECK_EQ_U64(o.attempts, 4);
    /* The minute counts from the last line told, not from the start. */
    CHECK_EQ_U64(sup_outage_failed(&o, S(1070)), SUP_OUTAGE_TELL_QUIET);
    CHECK_EQ_U64(sup_outage_failed(&o, S(1119)), SUP_OUTAGE_TELL_QUIET);
    CHECK_EQ_U64(sup_outage_failed(&o, S(1120)), SUP_OUTAGE_TELL_STILL);
    CHECK_EQ_U64(o.since_ns, S(1000)); /* the outage still started at the first failure */
}

/* A night without a camera: one line a minute, never more. */
static void test_long_outage(void)
{
    SupOutage o;
    unsigned told = 0;
    sup_outage_init(&o);
    for (int i = 0; i < 8 * 3600 / 10; i++) /* every RETRY_SECONDS=10 for 8 h */
        told += sup_outage_failed(&o, S(5000) + (int64_t)i * S(10)) != SUP_OUTAGE_TELL_QUIET;
    CHECK_EQ_U64(told, 8 * 60); /* the first line, then one per minute */
}

static void test_end(void)
{
    SupOutage o;
    int64_t down_ns = -1;
    sup_outage_init(&o);
    /* Video with no outage: nothing to tell. */
    CHECK_EQ_U64(sup_outage_end(&o, S(10), &down_ns), 0);
    CHECK_EQ_U64(down_ns, 0);
    sup_outage_failed(&o, S(100));
    sup_outage_failed(&o, S(101));
    sup_outage_failed(&o, S(103));
    CHECK_EQ_U64(sup_outage_end(&o, S(130.5), &down_ns), 3);
    CHECK_EQ_U64(down_ns, S(30.5));
    CHECK_EQ_U64(o.attempts, 0);
    CHECK(!sup_outage_routine(&o));
    CHECK_EQ_U64(sup_outage_end(&o, S(131), &down_ns), 0); /* told once */
}

/* A new outage is told at once, however soon after the last line of the previous one. */
static void test_new_outage_told_at_once(void)
{
    SupOutage o;
    int64_t down_ns;
    sup_outage_init(&o);
    sup_outage_failed(&o, S(100));
    CHECK_EQ_U64(sup_outage_failed(&o, S(160)), SUP_OUTAGE_TELL_STILL);
    sup_outage_end(&o, S(161), &down_ns);
    CHECK_EQ_U64(sup_outage_failed(&o, S(170)), SUP_OUTAGE_TELL_FIRST);
    CHECK_EQ_U64(o.since_ns, S(170));
    CHECK_EQ_U64(sup_outage_failed(&o, S(171)), SUP_OUTAGE_TELL_QUIET);
    /* Its minute counts from its own first line (at 170), not from the
     * previous outage's last one (at 160). */
    CHECK_EQ_U64(sup_outage_failed(&o, S(225)), SUP_OUTAGE_TELL_QUIET);
    CHECK_EQ_U64(sup_outage_failed(&o, S(230)), SUP_OUTAGE_TELL_STILL);
}

int main(void)
{
    RUN(test_told_once_then_every_minute);
    RUN(test_long_outage);
    RUN(test_end);
    RUN(test_new_outage_told_at_once);
    return 0;
}
