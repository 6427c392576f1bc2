/*
 * Ring unit tests. Like FFmpeg's FIFO test, the counters start just below
 * their wrap point, so every test also crosses 2^64 in sequences and arena
 * positions.
 */
#define _GNU_SOURCE
#include "check.h"
#include "clock.h"
#include "ring.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static char ring_name[64];

static CwRing *fresh_ring(uint32_t slots, uint64_t arena, uint64_t start_seq, uint64_t start_pos)
{
    char err[256];
    CwRingGeometry geo = {.slot_count = slots, .arena_size = arena};
    CwRing *r = NULL;
    snprintf(ring_name, sizeof(ring_name), "/camwatch.unittest-%d.ring", (int)getpid());
    cw_ring_unlink(ring_name);
    CHECK(cw_ring_open(&r, ring_name, &geo, 1000, err, sizeof(err)) == 0);
    cw_ring_debug_set_positions(r, start_seq, start_pos);
    return r;
}

static void drop_ring(CwRing **r)
{
    cw_ring_close(r);
    CHECK(cw_ring_unlink(ring_name) == 0);
}

static uint8_t pattern(uint64_t seq, uint32_t i)
{
    return (uint8_t)(seq * 131 + i * 7 + (seq >> 32));
}

static void write_slot(CwRing *r, uint64_t expect_seq, uint32_t len)
{
    uint8_t *p = cw_ring_reserve(r, len);
    CHECK(p != NULL);
    for (uint32_t i = 0; i < len; i++)
        p[i] = pattern(expect_seq, i);
    CHECK_EQ_U64(cw_ring_publish(r, len, (uint32_t)(expect_seq & 1), (int64_t)expect_seq),
                 expect_seq);
}

static void check_view(const CwRingView *v, uint64_t seq, uint32_t len)
{
    CHECK_EQ_U64(v->seq, seq);
    CHECK_EQ_U64(v->len, len);
    CHECK_EQ_U64(v->flags, seq & 1);
    CHECK_EQ_U64((uint64_t)v->stamp, seq);
    for (uint32_t i = 0; i < len; i++)
        CHECK(v->data[i] == pattern(seq, i));
}

static void test_pow2(void)
{
    CHECK_EQ_U64(cw_ring_pow2(0), 0);
    CHECK_EQ_U64(cw_ring_pow2(1), 1);
    CHECK_EQ_U64(cw_ring_pow2(3), 4);
    CHECK_EQ_U64(cw_ring_pow2(4096), 4096);
    CHECK_EQ_U64(cw_ring_pow2(4097), 8192);
    /* A size of 12 would misplace data at the wrap: it becomes 16. */
    CwRingGeometry geo = {.slot_count = 12, .arena_size = 5000};
    CHECK(cw_ring_size(&geo) == sizeof(CwRingHeader) + 16 * sizeof(CwRingDesc) + 8192);
}

/* In-order reading across the 64-bit wrap of sequences and arena positions. */
static void test_in_order_across_wrap(void)
{
    uint64_t start = UINT64_MAX - 40;
    CwRing *r = fresh_ring(16, 8192, start, UINT64_MAX - 5000);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "reader", &rd) == 0);
    CHECK_EQ_U64(cw_ring_reader_next(&rd), start);
    CHECK(cw_ring_next(&rd, &v) == -EAGAIN);

    for (uint64_t k = 0; k < 100; k++) {
        uint64_t seq = start + k; /* wraps to 0 at k == 41 */
        uint32_t len = 1 + (uint32_t)((k * 373) % 1500);
        write_slot(r, seq, len);
        CHECK(cw_ring_wait(&rd, 0) == 1);
        CHECK(cw_ring_next(&rd, &v) == 0);
        check_view(&v, seq, len);
        CHECK(cw_ring_done(&rd, &v));
        CHECK(cw_ring_next(&rd, &v) == -EAGAIN);
    }
    CHECK_EQ_U64(cw_ring_overruns(&rd), 0);
    CHECK_EQ_U64(cw_ring_write_seq(r), start + 100);
    cw_ring_detach(&rd);
    drop_ring(&r);
}

/* A reader more than the depth behind skips to the oldest intact slot. */
static void test_overrun_counted(void)
{
    uint64_t start = UINT64_MAX - 3;
    CwRing *r = fresh_ring(8, 1 << 16, start, 0);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "slow", &rd) == 0);
    for (uint64_t k = 0; k < 13; k++)
        write_slot(r, start + k, 100);
    /* 13 published into 8 slots: the first 5 are gone. */
    CHECK(cw_ring_next(&rd, &v) == 0);
    check_view(&v, start + 5, 100);
    CHECK(cw_ring_done(&rd, &v));
    CHECK_EQ_U64(cw_ring_overruns(&rd), 5);
    for (uint64_t k = 6; k < 13; k++) {
        CHECK(cw_ring_next(&rd, &v) == 0);
        check_view(&v, start + k, 100);
        CHECK(cw_ring_done(&rd, &v));
    }
    CHECK(cw_ring_next(&rd, &v) == -EAGAIN);
    CHECK_EQ_U64(cw_ring_overruns(&rd), 5);
    drop_ring(&r);
}

/* The arena can run out before the descriptors do: slots whose bytes were
 * reused are stale even though their descriptor is still there. */
static void test_arena_overwrite(void)
{
    uint64_t start = UINT64_MAX - 1;
    CwRing *r = fresh_ring(64, 8192, start, UINT64_MAX - 100);
    CwRingView v;
    for (uint64_t k = 0; k < 10; k++)
        write_slot(r, start + k, 2000);
    /* 8 KiB holds at most 4 payloads of 2000 bytes (64-byte aligned). */
    int intact = 0;
    for (uint64_t k = 0; k < 10; k++) {
        int ret = cw_ring_peek(r, start + k, &v);
        CHECK(ret == 0 || ret == -ESTALE);
        if (ret == 0) {
            check_view(&v, start + k, 2000);
            intact++;
        } else {
            CHECK(intact == 0); /* only the oldest ones are stale */
        }
    }
    CHECK(intact >= 3 && intact <= 4);
    CHECK(cw_ring_peek(r, start + 10, &v) == -EAGAIN);
    CHECK(cw_ring_reserve(r, 4097) == NULL); /* more than half the arena */
    drop_ring(&r);
}

/* A view that the writer overwrites while it is used is rejected. */
static void test_torn_view_rejected(void)
{
    uint64_t start = UINT64_MAX - 2;
    CwRing *r = fresh_ring(4, 4096, start, 0);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "torn", &rd) == 0);
    write_slot(r, start, 1000);
    CHECK(cw_ring_next(&rd, &v) == 0);
    CHECK(cw_ring_view_intact(r, &v));
    /* The writer wraps the arena (4 KiB) onto the payload being read. */
    uint8_t *p = cw_ring_reserve(r, 2000);
    CHECK(p != NULL);
    CHECK(cw_ring_view_intact(r, &v)); /* only reserved past it so far */
    cw_ring_publish(r, 2000, 0, 0);
    p = cw_ring_reserve(r, 2000);
    CHECK(p != NULL);
    CHECK(!cw_ring_view_intact(r, &v)); /* marked before a byte is written */
    cw_ring_publish(r, 2000, 0, 0);
    CHECK(!cw_ring_done(&rd, &v));
    CHECK_EQ_U64(cw_ring_overruns(&rd), 1);
    drop_ring(&r);
}

/* A slot never written is never valid, whatever sequence is asked for:
 * 2*seq+2 wraps to 0 for seq UINT64_MAX. */
static void test_never_written(void)
{
    CwRing *r = fresh_ring(8, 4096, 0, 0);
    CwRingView v;
    CHECK(cw_ring_peek(r, UINT64_MAX, &v) == -ENODATA);
    CHECK(cw_ring_peek(r, UINT64_MAX - 7, &v) == -ENODATA);
    CHECK(cw_ring_peek(r, 0, &v) == -EAGAIN);
    write_slot(r, 0, 16);
    CHECK(cw_ring_peek(r, 0, &v) == 0);
    CHECK(cw_ring_peek(r, UINT64_MAX, &v) == -ENODATA); /* still never written */
    drop_ring(&r);
}

/* A writer killed between reserve and publish may have written into its
 * reservation: slots under it must stay stale after a new writer starts,
 * even if the new writer's first payload is smaller. */
static void test_writer_restart_after_crash(void)
{
    char err[256];
    CwRing *r = fresh_ring(8, 4096, UINT64_MAX - 3, 0);
    CwRingGeometry geo = {.slot_count = 8, .arena_size = 4096};
    CwRingView v;
    for (uint64_t k = 0; k < 4; k++)
        write_slot(r, UINT64_MAX - 3 + k, 1000);
    uint8_t *p = cw_ring_reserve(r, 2000); /* the dying writer */
    CHECK(p != NULL);
    memset(p, 0xee, 2000);
    cw_ring_close(&r);
    CHECK(cw_ring_open(&r, ring_name, &geo, 1000, err, sizeof(err)) == 0); /* its successor */
    write_slot(r, UINT64_MAX - 3 + 4, 100);
    for (uint64_t k = 0; k < 4; k++) {
        int ret = cw_ring_peek(r, UINT64_MAX - 3 + k, &v);
        if (ret == 0)
            check_view(&v, UINT64_MAX - 3 + k, 1000); /* intact means intact */
    }
    /* The slots the dead writer's 2000 bytes reached are stale. */
    CHECK(cw_ring_peek(r, UINT64_MAX - 3, &v) == -ESTALE);
    CHECK(cw_ring_peek(r, UINT64_MAX - 2, &v) == -ESTALE);
    CHECK(cw_ring_peek(r, UINT64_MAX - 3 + 4, &v) == 0);
    drop_ring(&r);
}

static void test_latest_skips(void)
{
    CwRing *r = fresh_ring(16, 1 << 16, UINT64_MAX - 2, 0);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "latest", &rd) == 0);
    CHECK(cw_ring_latest(&rd, &v) == -EAGAIN);
    for (uint64_t k = 0; k < 6; k++)
        write_slot(r, UINT64_MAX - 2 + k, 64);
    CHECK(cw_ring_latest(&rd, &v) == 0);
    check_view(&v, UINT64_MAX - 2 + 5, 64);
    CHECK(cw_ring_done(&rd, &v));
    CHECK(cw_ring_latest(&rd, &v) == -EAGAIN);
    CHECK_EQ_U64(cw_ring_overruns(&rd), 0); /* skipping is chosen, not lost */
    drop_ring(&r);
}

/* A reader can go back (pre-roll) or skip to the head: chosen, never an overrun. */
static void test_reader_seek(void)
{
    uint64_t start = UINT64_MAX - 4;
    CwRing *r = fresh_ring(16, 1 << 16, start, 0);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "seeker", &rd) == 0);
    for (uint64_t k = 0; k < 10; k++)
        write_slot(r, start + k, 64);
    cw_ring_reader_seek(&rd, start + 7); /* wrapped: 7 is past 2^64 */
    CHECK_EQ_U64(cw_ring_reader_next(&rd), start + 7);
    CHECK(cw_ring_next(&rd, &v) == 0);
    check_view(&v, start + 7, 64);
    CHECK(cw_ring_done(&rd, &v));
    CHECK_EQ_U64(cw_ring_reader_next(&rd), start + 8);
    cw_ring_reader_seek(&rd, start + 2); /* back again, as record's pre-roll does */
    CHECK(cw_ring_next(&rd, &v) == 0);
    check_view(&v, start + 2, 64);
    CHECK(cw_ring_done(&rd, &v));
    cw_ring_reader_seek(&rd, cw_ring_write_seq(r)); /* to the head */
    CHECK(cw_ring_next(&rd, &v) == -EAGAIN);
    CHECK(cw_ring_wait(&rd, 0) == 0);
    CHECK_EQ_U64(cw_ring_overruns(&rd), 0);
    drop_ring(&r);
}

/* The user area starts zeroed, is shared by every opener, and the ring
 * never writes into it, however often it wraps. */
static void test_user_area_untouched(void)
{
    char err[256];
    CwRing *r = fresh_ring(4, 4096, UINT64_MAX - 2, UINT64_MAX - 3000);
    CwRingGeometry geo = {.slot_count = 4, .arena_size = 4096};
    CwRing *other = NULL;
    uint8_t *user = cw_ring_user_area(r);
    CHECK(((uintptr_t)user & 63) == 0);
    for (size_t i = 0; i < CW_RING_USER_SIZE; i++)
        CHECK(user[i] == 0);
    for (size_t i = 0; i < CW_RING_USER_SIZE; i++)
        user[i] = (uint8_t)(i * 37 + 11);
    CwRingReader rd;
    CwRingView v;
    CHECK(cw_ring_attach(r, "user", &rd) == 0);
    for (uint64_t k = 0; k < 50; k++) { /* wraps descriptors and arena many times */
        write_slot(r, UINT64_MAX - 2 + k, 1500);
        CHECK(cw_ring_next(&rd, &v) == 0);
        CHECK(cw_ring_done(&rd, &v));
    }
    cw_ring_detach(&rd);
    CHECK(cw_ring_claim_writer(r) == 0);
    CHECK(cw_ring_open(&other, ring_name, &geo, 1000, err, sizeof(err)) == 0);
    const uint8_t *seen = cw_ring_user_area(other);
    for (size_t i = 0; i < CW_RING_USER_SIZE; i++)
        CHECK(user[i] == (uint8_t)(i * 37 + 11) && seen[i] == user[i]);
    cw_ring_close(&other);
    drop_ring(&r);
}

/* An existing ring whose user area has another layout version is refused. */
static void test_user_version_checked(void)
{
    char err[512];
    CwRing *r = fresh_ring(8, 4096, 0, 0); /* user_version 0 */
    CwRing *other = NULL;
    CwRingGeometry newer = {.slot_count = 8, .arena_size = 4096, .user_version = 2};
    CHECK(cw_ring_open(&other, ring_name, &newer, 1000, err, sizeof(err)) == -EPROTO);
    CHECK(other == NULL);
    CHECK_STR_CONTAINS(err, "another version of camwatch");
    CHECK_STR_CONTAINS(err, "/dev/shm/camwatch.unittest-");
    CHECK(cw_ring_open(&other, ring_name, NULL, 1000, err, sizeof(err)) == 0); /* no geometry */
    cw_ring_close(&other);
    drop_ring(&r);
}

/* Readers by role: a restarted stage takes its old entry; at most 8. */
static void test_reader_entries(void)
{
    CwRing *r = fresh_ring(8, 4096, 0, 0);
    CwRingReader rd[CW_RING_MAX_READERS + 1];
    char role[16];
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        snprintf(role, sizeof(role), "r%d", i);
        CHECK(cw_ring_attach(r, role, &rd[i]) == 0);
    }
    CHECK(cw_ring_attach(r, "one-too-many", &rd[CW_RING_MAX_READERS]) == -EBUSY);
    /* r3 reads two slots, then restarts: its successor takes its entry, with
     * fresh counters, and no other entry is touched. */
    CwRingView v;
    write_slot(r, 0, 8);
    write_slot(r, 1, 8);
    CHECK(cw_ring_next(&rd[3], &v) == 0 && cw_ring_done(&rd[3], &v));
    CHECK(cw_ring_next(&rd[3], &v) == 0 && cw_ring_done(&rd[3], &v));
    CwRingReaderStatus st;
    int r3 = -1;
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        CHECK(cw_ring_reader_status(r, i, &st) == 0);
        if (strcmp(st.role, "r3") == 0)
            r3 = i;
    }
    CHECK(r3 >= 0);
    CHECK(cw_ring_reader_status(r, r3, &st) == 0);
    CHECK_EQ_U64(st.consumed, 2);
    CHECK_EQ_U64(st.overruns, 0);
    /* Its position, for its lag: past the two it read, one slot behind the
     * third; a reader that read nothing is where it attached. */
    write_slot(r, 2, 8);
    CHECK_EQ_U64(st.position, 2);
    CHECK(cw_ring_reader_status(r, 0, &st) == 0 && strcmp(st.role, "r0") == 0);
    CHECK_EQ_U64(st.position, 0);
    CwRingReader again;
    CHECK(cw_ring_attach(r, "r3", &again) == 0);
    CHECK(cw_ring_reader_status(r, r3, &st) == 0);
    CHECK(strcmp(st.role, "r3") == 0);
    CHECK_EQ_U64(st.consumed, 0);
    CHECK_EQ_U64(st.position, 3); /* a new instance starts at the newest */
    cw_ring_reader_seek(&again, 1);
    CHECK(cw_ring_reader_status(r, r3, &st) == 0);
    CHECK_EQ_U64(st.position, 1);
    cw_ring_detach(&rd[5]);
    int free_entries = 0;
    for (int i = 0; i < CW_RING_MAX_READERS; i++)
        free_entries += cw_ring_reader_status(r, i, &st) == -ENOENT;
    CHECK(free_entries == 1);
    CHECK(cw_ring_reader_status(r, -1, &st) == -EINVAL);
    CHECK(cw_ring_reader_status(r, CW_RING_MAX_READERS, &st) == -EINVAL);
    CHECK(cw_ring_attach(r, "newcomer", &rd[CW_RING_MAX_READERS]) == 0);
    cw_ring_detach(&rd[CW_RING_MAX_READERS]);
    cw_ring_detach(&rd[CW_RING_MAX_READERS]); /* a second detach does nothing */
    drop_ring(&r);
}

/* A second opener attaches to the same memory; a different geometry is
 * refused with a message that says what to do. */
static void test_open_existing(void)
{
    char err[512];
    CwRing *r = fresh_ring(8, 4096, 0, 0);
    CwRing *other = NULL;
    CwRingGeometry same = {.slot_count = 8, .arena_size = 4096};
    CwRingGeometry bigger = {.slot_count = 32, .arena_size = 4096};
    CHECK(cw_ring_open(&other, ring_name, &same, 1000, err, sizeof(err)) == 0);
    write_slot(r, 0, 10);
    CwRingView v;
    CHECK(cw_ring_peek(other, 0, &v) == 0);
    check_view(&v, 0, 10);
    cw_ring_close(&other);
    CHECK(other == NULL);
    CHECK(cw_ring_open(&other, ring_name, &bigger, 1000, err, sizeof(err)) == -EPROTO);
    CHECK_STR_CONTAINS(err, "8 slots");
    CHECK_STR_CONTAINS(err, "32 slots");
    CHECK(cw_ring_open(&other, ring_name, NULL, 1000, err, sizeof(err)) == 0);
    cw_ring_close(&other);
    drop_ring(&r);
}

/* One writer per ring: a second claim, from another process, is refused;
 * the claim goes with the handle (or the process). */
static void test_one_writer(void)
{
    char err[256];
    CwRing *r = fresh_ring(8, 4096, 0, 0);
    CwRingGeometry geo = {.slot_count = 8, .arena_size = 4096};
    CHECK(cw_ring_writer_pid(r) == 0); /* never claimed */
    CHECK(cw_ring_claim_writer(r) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CwRing *other = NULL;
        if (cw_ring_open(&other, ring_name, &geo, 1000, err, sizeof(err)) < 0)
            _exit(2);
        _exit(cw_ring_claim_writer(other) == -EBUSY ? 0 : 3);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(cw_ring_writer_pid(r) == getpid());
    cw_ring_close(&r);
    CHECK(cw_ring_open(&r, ring_name, &geo, 1000, err, sizeof(err)) == 0);
    CHECK(cw_ring_claim_writer(r) == 0); /* released with the old handle */
    drop_ring(&r);
}

/* wait() sleeps on the semaphore: it times out when nothing comes and wakes
 * when another process publishes. */
static void test_wait_across_processes(void)
{
    CwRing *r = fresh_ring(8, 4096, UINT64_MAX, 0);
    CwRingReader rd;
    CHECK(cw_ring_attach(r, "waiter", &rd) == 0);
    int64_t t0 = cw_mono_ns();
    CHECK(cw_ring_wait(&rd, 100) == 0);
    int64_t waited = cw_mono_ns() - t0;
    CHECK(waited >= 95 * CW_NS_PER_MSEC && waited < 1000 * CW_NS_PER_MSEC);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        usleep(50000);
        write_slot(r, UINT64_MAX, 32);
        _exit(0);
    }
    t0 = cw_mono_ns();
    CHECK(cw_ring_wait(&rd, 5000) == 1);
    CHECK(cw_mono_ns() - t0 < 2000 * CW_NS_PER_MSEC);
    CwRingView v;
    CHECK(cw_ring_next(&rd, &v) == 0);
    check_view(&v, UINT64_MAX, 32);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    drop_ring(&r);
}

int main(void)
{
    RUN(test_pow2);
    RUN(test_in_order_across_wrap);
    RUN(test_overrun_counted);
    RUN(test_arena_overwrite);
    RUN(test_torn_view_rejected);
    RUN(test_never_written);
    RUN(test_writer_restart_after_crash);
    RUN(test_latest_skips);
    RUN(test_reader_seek);
    RUN(test_user_area_untouched);
    RUN(test_user_version_checked);
    RUN(test_reader_entries);
    RUN(test_open_existing);
    RUN(test_one_writer);
    RUN(test_wait_across_processes);
    return 0;
}
