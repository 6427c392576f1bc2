/* What retention deletes, rule by rule (record/retention.c's table). */
#include "check.h"

#include "../../record/retention.h"

#include <stdbool.h>

#define DAY  (24 * 3600LL)
#define NOW  (1790000000LL) /* 2026-09-21, any fixed instant will do */
#define MAXN 16

static RetClip clips[MAXN];
static size_t n;
static size_t order[MAXN];
static enum RetReason reason[MAXN];
static RetPlan plan;

static void reset(void)
{
    n = 0;
}

/* A finished clip that started `age_s` before NOW. */
static size_t add(const char *stem, int64_t age_s, unsigned seq, uint64_t bytes)
{
    clips[n] = (RetClip){.stem = stem, .start_s = NOW - age_s, .seq = seq, .bytes = bytes};
    return n++;
}

static size_t add_writing(const char *stem, int64_t age_s, uint64_t bytes)
{
    size_t i = add(stem, age_s, 0, bytes);
    clips[i].writing = true;
    return i;
}

static void plan_at(int64_t now_s, uint64_t disk_size, uint64_t disk_free, int64_t max_age_s,
                    uint64_t max_bytes, double min_free_percent)
{
    RetDisk disk = {.size_bytes = disk_size, .free_bytes = disk_free};
    RetLimits limits = {
        .max_age_s = max_age_s, .max_bytes = max_bytes, .min_free_percent = min_free_percent};
    ret_plan(clips, n, now_s, &disk, &limits, order, reason, &plan);
    printf("  plan: %zu to delete (%llu bytes):", plan.count, (unsigned long long)plan.freed_bytes);
    for (size_t k = 0; k < plan.count; k++)
        printf(" %s(%s)", clips[order[k]].stem, ret_reason_name(reason[order[k]]));
    printf("\n");
}

static void plan_now(uint64_t disk_size, uint64_t disk_free, int64_t max_age_s, uint64_t max_bytes,
                     double min_free_percent)
{
    plan_at(NOW, disk_size, disk_free, max_age_s, max_bytes, min_free_percent);
}

/* The k-th deletion is clip `i`, for `why`. */
static void expect_deleted(size_t k, size_t i, enum RetReason why)
{
    CHECK(k < plan.count);
    CHECK_EQ_U64(order[k], i);
    CHECK_EQ_U64(reason[i], why);
}

static void test_no_limits(void)
{
    reset();
    add("a", 400 * DAY, 0, 5000);
    add("b", 1 * DAY, 0, 5000);
    plan_now(1000, 1, 0, 0, 0); /* a full disk, but every limit is off */
    CHECK_EQ_U64(plan.count, 0);
    CHECK(!plan.total_unmet && !plan.free_unmet);
    CHECK_EQ_U64(reason[0], RET_KEEP);
}

/* Older than RETAIN_DAYS goes, whatever the space; exactly that old stays. */
static void test_age(void)
{
    reset();
    size_t d3 = add("3d", 3 * DAY, 0, 10);
    size_t d10 = add("10d", 10 * DAY, 0, 10);
    size_t d7 = add("7d", 7 * DAY, 0, 10);
    size_t d7s = add("7d+1s", 7 * DAY + 1, 0, 10);
    size_t d8 = add("8d", 8 * DAY, 0, 10);
    plan_now(0, 0, 7 * DAY, 0, 0);
    CHECK_EQ_U64(plan.count, 3);
    expect_deleted(0, d10, RET_AGE);
    expect_deleted(1, d8, RET_AGE);
    expect_deleted(2, d7s, RET_AGE);
    CHECK_EQ_U64(reason[d7], RET_KEEP);
    CHECK_EQ_U64(reason[d3], RET_KEEP);
    CHECK_EQ_U64(plan.freed_bytes, 30);
    CHECK_EQ_U64(plan.oldest_start_s, NOW - 10 * DAY);

    /* A camera that saw nothing for weeks: its newest clip ages out too. */
    reset();
    size_t only = add("only", 30 * DAY, 0, 10);
    plan_now(0, 0, 7 * DAY, 0, 0);
    CHECK_EQ_U64(plan.count, 1);
    expect_deleted(0, only, RET_AGE);
}

/* The oldest go until the clips together fit RETAIN_MAX_GB; the clip being
 * written counts toward the total. */
static void test_total_size(void)
{
    reset();
    size_t c[5];
    for (int i = 0; i < 5; i++)
        c[i] = add((const char *[]){"c0", "c1", "c2", "c3", "c4"}[i], (10 - i) * DAY, 0, 100);
    plan_now(0, 0, 0, 250, 0);
    CHECK_EQ_U64(plan.count, 3);
    for (int k = 0; k < 3; k++)
        expect_deleted((size_t)k, c[k], RET_TOTAL_SIZE);
    CHECK_EQ_U64(plan.total_bytes, 200);
    CHECK(!plan.total_unmet);

    /* Exactly at the limit is within it. */
    plan_now(0, 0, 0, 500, 0);
    CHECK_EQ_U64(plan.count, 0);

    /* 4 finished + 1 being written, 100 each, at most 250: three go. */
    reset();
    for (int i = 0; i < 4; i++)
        c[i] = add((const char *[]){"c0", "c1", "c2", "c3"}[i], (10 - i) * DAY, 0, 100);
    size_t w = add_writing("w", 0, 100);
    plan_now(0, 0, 0, 250, 0);
    CHECK_EQ_U64(plan.count, 3);
    expect_deleted(2, c[2], RET_TOTAL_SIZE);
    CHECK_EQ_U64(reason[c[3]], RET_KEEP);
    CHECK_EQ_U64(reason[w], RET_KEEP);
    CHECK_EQ_U64(plan.total_bytes, 200);
}

/* The oldest go until the floor of free space holds, each deletion counted
 * at once. */
static void test_free_floor(void)
{
    reset();
    /* Given out of order: the plan sorts. */
    size_t c2 = add("c2", 2 * DAY, 0, 30);
    size_t c4 = add("c4", 4 * DAY, 0, 30);
    size_t c1 = add("c1", 1 * DAY, 0, 30);
    size_t c3 = add("c3", 3 * DAY, 0, 30);
    /* 1000 bytes, 50 free, 10 % wanted: 50 + 30 = 80 is short, + 30 = 110 holds. */
    plan_now(1000, 50, 0, 0, 10);
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(0, c4, RET_FREE_SPACE);
    expect_deleted(1, c3, RET_FREE_SPACE);
    CHECK_EQ_U64(reason[c2], RET_KEEP);
    CHECK_EQ_U64(reason[c1], RET_KEEP);
    CHECK_EQ_U64(plan.free_bytes, 110);
    CHECK(!plan.free_unmet);

    /* Exactly at the floor holds. */
    plan_now(1000, 100, 0, 0, 10);
    CHECK_EQ_U64(plan.count, 0);
    /* The floor off (0), or the disk unknown (size 0): nothing for space. */
    plan_now(1000, 0, 0, 0, 0);
    CHECK_EQ_U64(plan.count, 0);
    plan_now(0, 0, 0, 0, 10);
    CHECK_EQ_U64(plan.count, 0);
    CHECK(!plan.free_unmet);

    CHECK_EQ_U64(ret_floor_bytes(1000, 10), 100);
    CHECK_EQ_U64(ret_floor_bytes(1000, 0.05), 1); /* rounded up: the floor is kept, not shaved */
    CHECK_EQ_U64(ret_floor_bytes(1000, 0), 0);
    CHECK_EQ_U64(ret_floor_bytes(0, 10), 0);
    CHECK_EQ_U64(ret_floor_bytes(32000000000ULL, 90), 28800000000ULL);
}

/* Age first, then total size, then free space; each clip names the first
 * rule that wanted it. */
static void test_all_three(void)
{
    reset();
    size_t e = add("e", 1 * DAY, 0, 100);
    size_t c = add("c", 5 * DAY, 0, 100);
    size_t a = add("a", 20 * DAY, 0, 100);
    size_t w = add_writing("w", 0, 100);
    size_t d = add("d", 2 * DAY, 0, 100);
    size_t b = add("b", 10 * DAY, 0, 100);
    /* Age takes a and b (400 left, 350 free); the total (at most 350) takes
     * c (300 left, 450 free); the floor (50 % of 1000) takes d (550 free). */
    plan_now(1000, 150, 7 * DAY, 350, 50);
    CHECK_EQ_U64(plan.count, 4);
    expect_deleted(0, a, RET_AGE);
    expect_deleted(1, b, RET_AGE);
    expect_deleted(2, c, RET_TOTAL_SIZE);
    expect_deleted(3, d, RET_FREE_SPACE);
    CHECK_EQ_U64(reason[e], RET_KEEP);
    CHECK_EQ_U64(reason[w], RET_KEEP);
    CHECK_EQ_U64(plan.freed_bytes, 400);
    CHECK_EQ_U64(plan.total_bytes, 200);
    CHECK_EQ_U64(plan.free_bytes, 550);
    CHECK(!plan.total_unmet && !plan.free_unmet);
}

/* When no clip may go, the unmet limit is reported, not chased. */
static void test_nothing_deletable(void)
{
    reset();
    plan_now(1000, 0, 7 * DAY, 10, 10);
    CHECK_EQ_U64(plan.count, 0);
    CHECK(plan.free_unmet);
    CHECK(!plan.total_unmet);

    /* Only the clip being written. */
    size_t w = add_writing("w", 0, 500);
    plan_now(1000, 10, 7 * DAY, 100, 10);
    CHECK_EQ_U64(plan.count, 0);
    CHECK_EQ_U64(reason[w], RET_KEEP);
    CHECK(plan.free_unmet && plan.total_unmet);

    /* Other files hold the disk: every finished clip goes to make room for
     * the one being written, and the floor still fails. */
    size_t old = add("old", 3 * DAY, 0, 20);
    size_t mid = add("mid", 2 * DAY, 0, 20);
    plan_now(1000, 10, 0, 0, 10);
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(0, old, RET_FREE_SPACE);
    expect_deleted(1, mid, RET_FREE_SPACE);
    CHECK(plan.free_unmet);
    CHECK_EQ_U64(plan.free_bytes, 50);
}

/* With nothing being written the newest finished clip stays for space (it
 * is the one just delivered); it goes for age, or for the next clip. */
static void test_newest_spared_when_idle(void)
{
    reset();
    size_t old = add("old", 3 * DAY, 0, 20);
    size_t newest = add("new", 1 * DAY, 0, 20);
    plan_now(1000, 10, 0, 10, 10);
    CHECK_EQ_U64(plan.count, 1);
    expect_deleted(0, old, RET_TOTAL_SIZE);
    CHECK_EQ_U64(reason[newest], RET_KEEP);
    CHECK(plan.free_unmet && plan.total_unmet);

    plan_now(1000, 10, 1 * DAY - 1, 10, 10); /* both too old */
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(1, newest, RET_AGE);

    add_writing("w", 0, 5);
    plan_now(1000, 10, 0, 0, 10);
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(1, newest, RET_FREE_SPACE);
}

/* The clip being written is never deleted: not when it is the oldest (a
 * long clip, a clock that jumped), not when it alone breaks a limit. */
static void test_writing_clip(void)
{
    reset();
    size_t w = add_writing("w", 40 * DAY, 300);
    size_t a = add("a", 20 * DAY, 0, 100);
    size_t b = add("b", 10 * DAY, 0, 100);
    plan_now(1000, 0, 7 * DAY, 250, 10);
    CHECK_EQ_U64(reason[w], RET_KEEP);
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(0, a, RET_AGE);
    expect_deleted(1, b, RET_AGE);
    CHECK(plan.total_unmet); /* 300 being written > 250 */
    CHECK(!plan.free_unmet); /* 200 freed, 100 wanted */
    CHECK_EQ_U64(plan.free_bytes, 200);
}

/* Clips of the same second: in the order delivery named them (-1, -2 ...
 * -10: by number, not text), then by name; the plan is deterministic. */
static void test_ties(void)
{
    reset();
    size_t s10 = add("x/cam-20260921-101500-10", 5 * DAY, 10, 10);
    size_t s2 = add("x/cam-20260921-101500-2", 5 * DAY, 2, 10);
    size_t s0 = add("x/cam-20260921-101500", 5 * DAY, 0, 10);
    size_t s1 = add("x/cam-20260921-101500-1", 5 * DAY, 1, 10);
    size_t zb = add("y/zb", 5 * DAY, 1, 10); /* same second and suffix: by name */
    size_t keep = add("newest", 1 * DAY, 0, 10);
    plan_now(0, 0, 0, 10, 0);
    CHECK_EQ_U64(plan.count, 5);
    expect_deleted(0, s0, RET_TOTAL_SIZE);
    expect_deleted(1, s1, RET_TOTAL_SIZE);
    expect_deleted(2, zb, RET_TOTAL_SIZE);
    expect_deleted(3, s2, RET_TOTAL_SIZE);
    expect_deleted(4, s10, RET_TOTAL_SIZE);
    CHECK_EQ_U64(reason[keep], RET_KEEP);

    /* Two clips alike in every field: the list's order decides. */
    reset();
    size_t first = add("same", 5 * DAY, 0, 10);
    add("same", 5 * DAY, 0, 10);
    add("newest", 1 * DAY, 0, 10);
    plan_now(0, 0, 0, 20, 0);
    CHECK_EQ_U64(plan.count, 1);
    expect_deleted(0, first, RET_TOTAL_SIZE);
}

/* Only the age rule reads the clock, and no stamp overflows it. */
static void test_clock_far_off(void)
{
    reset();
    size_t a = add("a", 20 * DAY, 0, 100);
    size_t b = add("b", 10 * DAY, 0, 100);
    size_t c = add("c", 1 * DAY, 0, 100);
    size_t w = add_writing("w", 0, 100);

    /* 1970 (no time yet): nothing is old; the size rule still takes the oldest. */
    plan_at(0, 0, 0, 7 * DAY, 250, 0);
    CHECK_EQ_U64(plan.count, 2);
    expect_deleted(0, a, RET_TOTAL_SIZE);
    expect_deleted(1, b, RET_TOTAL_SIZE);
    plan_at(INT64_MIN, 0, 0, 1, 0, 0);
    CHECK_EQ_U64(plan.count, 0);

    /* Far in the future: every finished clip is old; the one being written stays. */
    plan_at(INT64_MAX, 0, 0, 36500 * DAY, 0, 0);
    CHECK_EQ_U64(plan.count, 3);
    expect_deleted(0, a, RET_AGE);
    expect_deleted(2, c, RET_AGE);
    CHECK_EQ_U64(reason[w], RET_KEEP);

    /* Stamps at the very ends of the range. */
    reset();
    size_t past = add("past", 0, 0, 1);
    clips[past].start_s = INT64_MIN;
    size_t future = add("future", 0, 0, 1);
    clips[future].start_s = INT64_MAX;
    plan_at(INT64_MAX - 1, 0, 0, 1, 0, 0);
    CHECK_EQ_U64(plan.count, 1);
    expect_deleted(0, past, RET_AGE);
    CHECK_EQ_U64(reason[future], RET_KEEP);
    /* 10 s old at the bottom of the range: young, however the sum wraps. */
    plan_at(INT64_MIN + 10, 0, 0, 100, 0, 0);
    CHECK_EQ_U64(plan.count, 0);
    plan_at(INT64_MIN + 101, 0, 0, 100, 0, 0);
    CHECK_EQ_U64(plan.count, 1);
}

int main(void)
{
    RUN(test_no_limits);
    RUN(test_age);
    RUN(test_total_size);
    RUN(test_free_floor);
    RUN(test_all_three);
    RUN(test_nothing_deletable);
    RUN(test_newest_spared_when_idle);
    RUN(test_writing_clip);
    RUN(test_ties);
    RUN(test_clock_far_off);
    return 0;
}
