/*
 * Multi-process ring stress: one writer publishing as fast as it can and
 * never waiting, a fast reader and a deliberately slow one. Every payload
 * carries a pattern derived from its sequence; a reader copies it out, asks
 * cw_ring_done() whether it stayed intact and, if accepted, checks every
 * byte. Any accepted slot with a wrong byte is a torn slot that got through:
 * the test fails. Every sequence a reader did not accept must be counted as
 * an overrun.
 *
 * Torn copies are made on purpose, not left to chance: the slow reader holds
 * one view in four until the writer has lapped it twice (its descriptor
 * reused, its bytes overwritten), and only then copies the payload. Each of
 * those copies is stale, so each must be refused, and most of them really
 * are damaged: the test requires both, so it cannot pass without producing
 * torn copies, and cannot pass if one of them is accepted.
 */
#define _GNU_SOURCE
#include "check.h"
#include "clock.h"
#include "ring.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_MS      3000
#define MAX_PAYLOAD 3000

typedef struct Shared {
    _Atomic int writer_done;
    _Atomic uint64_t published;
} Shared;

typedef struct ReaderStats {
    uint64_t accepted;
    uint64_t refused;         /* views cw_ring_done() refused */
    uint64_t refused_damaged; /* refused views whose copy really was damaged */
    uint64_t held;            /* views held until the writer lapped them */
    uint64_t held_refused;    /* must equal held */
    uint64_t overruns;
    uint64_t bad_accepted; /* accepted views whose copy was damaged: must stay 0 */
} ReaderStats;

static char ring_name[64];

static uint32_t payload_len(uint64_t seq)
{
    return 16 + (uint32_t)((seq * 2654435761u) % (MAX_PAYLOAD - 16));
}

static void fill(uint8_t *p, uint64_t seq, uint32_t len)
{
    memcpy(p, &seq, 8);
    for (uint32_t i = 8; i < len; i++)
        p[i] = (uint8_t)(seq + i * 13);
}

static int verify(const uint8_t *p, uint64_t seq, uint32_t len)
{
    uint64_t s;
    memcpy(&s, p, 8);
    if (s != seq || len != payload_len(seq))
        return 0;
    for (uint32_t i = 8; i < len; i++)
        if (p[i] != (uint8_t)(seq + i * 13))
            return 0;
    return 1;
}

static void writer(CwRing *r, Shared *sh)
{
    int64_t end = cw_mono_ns() + RUN_MS * CW_NS_PER_MSEC;
    uint64_t seq = cw_ring_write_seq(r);
    while (cw_mono_ns() < end) {
        /* Batches between clock reads keep the writer fast. */
        for (int k = 0; k < 64; k++) {
            uint32_t len = payload_len(seq);
            uint8_t *p = cw_ring_reserve(r, len);
            if (!p)
                _exit(3);
            fill(p, seq, len);
            cw_ring_publish(r, len, 0, 0);
            seq++;
        }
    }
    atomic_store(&sh->published, seq);
    atomic_store(&sh->writer_done, 1);
}

/*
 * Keep `v` while the writer laps it twice: its descriptor is then reused
 * (so it cannot be intact) and the arena, 1/3 the size of two laps of
 * average payloads, was overwritten several times. Returns false if the
 * writer stopped first. No clock: on a loaded machine it just waits longer.
 */
static bool hold_until_lapped(CwRing *r, Shared *sh, const CwRingView *v)
{
    uint64_t laps = 2 * (uint64_t)cw_ring_slot_count(r);
    while (cw_ring_write_seq(r) - v->seq <= laps) {
        if (atomic_load(&sh->writer_done))
            return false;
        usleep(100);
    }
    return true;
}

static void reader(CwRing *r, Shared *sh, const char *role, int slow, ReaderStats *st)
{
    CwRingReader rd;
    CwRingView v;
    uint8_t copy[MAX_PAYLOAD];
    unsigned rnd = (unsigned)getpid();

    if (cw_ring_attach(r, role, &rd) < 0)
        _exit(4);
    uint64_t first = cw_ring_reader_next(&rd);
    for (;;) {
        int ret = cw_ring_next(&rd, &v);
        if (ret == -EAGAIN) {
            if (atomic_load(&sh->writer_done) && cw_ring_write_seq(r) == cw_ring_reader_next(&rd))
                break;
            cw_ring_wait(&rd, 50);
            continue;
        }
        bool held = slow && rand_r(&rnd) % 4 == 0 && hold_until_lapped(r, sh, &v);
        /* The copy a reader would use: for a held view, taken after the writer's laps. */
        uint32_t len = v.len < sizeof(copy) ? v.len : sizeof(copy);
        memcpy(copy, v.data, len);
        bool damaged = !verify(copy, v.seq, v.len);
        st->held += held;
        if (cw_ring_done(&rd, &v)) {
            st->accepted++;
            st->bad_accepted += damaged;
        } else {
            st->refused++;
            st->refused_damaged += damaged;
            st->held_refused += held;
        }
    }
    st->overruns = cw_ring_overruns(&rd);
    /* Every sequence from attach to the end was either accepted or counted. */
    uint64_t expected = atomic_load(&sh->published) - first;
    if (st->accepted + st->overruns != expected) {
        fprintf(stderr, "%s: accepted %llu + overruns %llu != published %llu\n", role,
                (unsigned long long)st->accepted, (unsigned long long)st->overruns,
                (unsigned long long)expected);
        _exit(5);
    }
}

int main(void)
{
    char err[256];
    CwRingGeometry geo = {.slot_count = 64, .arena_size = 32768};
    CwRing *r = NULL;
    snprintf(ring_name, sizeof(ring_name), "/camwatch.stresstest-%d.ring", (int)getpid());
    cw_ring_unlink(ring_name);
    CHECK(cw_ring_open(&r, ring_name, &geo, 1000, err, sizeof(err)) == 0);
    /* Start just below the wrap of both counters. */
    cw_ring_debug_set_positions(r, UINT64_MAX - 100000, UINT64_MAX - 1000000);

    Shared *sh = mmap(NULL, sizeof(Shared) + 2 * sizeof(ReaderStats), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    ReaderStats *stats = (ReaderStats *)(sh + 1);

    pid_t readers[2];
    for (int i = 0; i < 2; i++) {
        readers[i] = fork();
        CHECK(readers[i] >= 0);
        if (readers[i] == 0) {
            reader(r, sh, i ? "slow" : "fast", i, &stats[i]);
            _exit(0);
        }
    }
    usleep(100000); /* both attached before the writer starts */
    pid_t w = fork();
    CHECK(w >= 0);
    if (w == 0) {
        writer(r, sh);
        _exit(0);
    }
    int status;
    CHECK(waitpid(w, &status, 0) == w && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 2; i++) {
        CHECK(waitpid(readers[i], &status, 0) == readers[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "reader %d failed (status %d)\n", i, status);
            return 1;
        }
    }
    uint64_t published = atomic_load(&sh->published) - (UINT64_MAX - 100000);
    printf("writer published %llu slots in %d ms without waiting\n", (unsigned long long)published,
           RUN_MS);
    for (int i = 0; i < 2; i++) {
        const ReaderStats *s = &stats[i];
        printf("%s reader: accepted %llu, overruns %llu, refused %llu (copy damaged in %llu), "
               "held until lapped %llu (refused %llu), torn accepted %llu\n",
               i ? "slow" : "fast", (unsigned long long)s->accepted,
               (unsigned long long)s->overruns, (unsigned long long)s->refused,
               (unsigned long long)s->refused_damaged, (unsigned long long)s->held,
               (unsigned long long)s->held_refused, (unsigned long long)s->bad_accepted);
        CHECK_EQ_U64(s->bad_accepted, 0);
        CHECK(s->accepted > 0);
    }
    const ReaderStats *slow = &stats[1];
    /* The slow reader was lapped on purpose, many times, and refused every
     * view it held... */
    CHECK(slow->held >= 20);
    CHECK_EQ_U64(slow->held_refused, slow->held);
    CHECK(slow->overruns > 0);
    /* ...whose copies really were torn: without the check in cw_ring_done()
     * those would have been accepted. */
    CHECK(slow->refused_damaged > 0);
    CHECK(published > 10000);
    cw_ring_close(&r);
    cw_ring_unlink(ring_name);
    printf("ok ring_stress\n");
    return 0;
}
