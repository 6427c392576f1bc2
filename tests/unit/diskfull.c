/* What record says about a full disk (record/diskfull.c): one ERROR per
 * spell, a reminder at most every REC_DISK_FULL_REMIND_NS, one INFO when a
 * clip is saved again. The lines themselves go to stderr; the returned
 * verdicts are what is checked. */
#include "check.h"

#include "../../record/diskfull.h"

#include <errno.h>

#define S 1000000000LL

/* Only ENOSPC and EDQUOT are a full disk. */
static void test_which_errors(void)
{
    CHECK(rec_disk_full_error(-ENOSPC));
    CHECK(rec_disk_full_error(-EDQUOT));
    CHECK(!rec_disk_full_error(-EIO));
    CHECK(!rec_disk_full_error(-EACCES));
    CHECK(!rec_disk_full_error(0));
}

/* A disk full for an hour with a failure every 10 s: one ERROR, then one
 * reminder per REC_DISK_FULL_REMIND_NS, not one line per clip. */
static void test_one_error_then_reminders(void)
{
    RecDiskFull d;
    rec_disk_full_init(&d);
    int64_t t0 = 1000 * S;
    CHECK_EQ_U64(rec_disk_full_failed(&d, "write clip", "/v/a.part", -ENOSPC, t0),
                 REC_DISK_FULL_FIRST);
    unsigned firsts = 0, reminders = 0;
    for (int64_t t = t0 + 10 * S; t <= t0 + 3600 * S; t += 10 * S) {
        enum RecDiskFullSaid said = rec_disk_full_failed(&d, "write clip", "/v/a.part", -ENOSPC, t);
        firsts += said == REC_DISK_FULL_FIRST;
        reminders += said == REC_DISK_FULL_REMINDER;
    }
    CHECK_EQ_U64(firsts, 0);
    CHECK_EQ_U64(reminders, 3600 * S / REC_DISK_FULL_REMIND_NS);
    CHECK_EQ_U64(d.failures, 361);
}

/* A saved clip ends the spell once; the next failure is a new spell's ERROR. */
static void test_resumed_then_new_spell(void)
{
    RecDiskFull d;
    rec_disk_full_init(&d);
    CHECK_EQ_U64(rec_disk_full_saved(&d, 5 * S), REC_DISK_FULL_QUIET); /* never full */
    CHECK_EQ_U64(rec_disk_full_failed(&d, "create clip", "/v/b.part", -EDQUOT, 10 * S),
                 REC_DISK_FULL_FIRST);
    CHECK_EQ_U64(rec_disk_full_failed(&d, "create clip", "/v/b.part", -EDQUOT, 20 * S),
                 REC_DISK_FULL_QUIET);
    CHECK_EQ_U64(rec_disk_full_saved(&d, 30 * S), REC_DISK_FULL_RESUMED);
    CHECK_EQ_U64(rec_disk_full_saved(&d, 40 * S), REC_DISK_FULL_QUIET);
    CHECK_EQ_U64(rec_disk_full_failed(&d, "write clip", "/v/c.part", -ENOSPC, 50 * S),
                 REC_DISK_FULL_FIRST);
    CHECK_EQ_U64(d.failures, 1);
}

int main(void)
{
    RUN(test_which_errors);
    RUN(test_one_error_then_reminders);
    RUN(test_resumed_then_new_spell);
    printf("diskfull: ok\n");
    return 0;
}
