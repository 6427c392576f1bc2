/*
 * Multi-process ring stress: one writer publishing as fast as it can and
 * never waiting, a fast reader and a deliberately slow one that sleeps while
 * holding a view. Every payload carries a pattern derived from its sequence;
 * a reader copies it out, asks cw_ring_done() whether it stayed intact and,
 * if accepted, checks every byte. Any accepted slot with a wrong byte is a
 * torn slot that got through: the test fails. Every sequence a reader did
 * not accept must be counted as an overrun.
 */
#define _GNU_SOURCE
#include "check.h"
#include "clock.h"
#include "ring.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
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
    uint64_t rejected_torn;   /* views cw_ring_done() refused */
    uint64_t torn_bytes_seen; /* refused views whose copy really was damaged */
    uint64_t overruns;
    uint64_t last_seq;
    uint64_t bad_accepted; /* must stay 0 */
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

static void reader(CwRing *r, Shared *sh, const char *role, int slow, ReaderStats *st)
{
    CwRingReader rd;
    CwRingView v;
    uint8_t copy[MAX_PAYLOAD];
    unsigned rnd = (unsigned)getpid();
    uint64_t first = 0;
    int have_first = 0;

    if (cw_ring_attach(r, role, &rd) < 0)
        _exit(4);
    first = rd.next;
    have_first = 1;
    for (;;) {
        int ret = cw_ring_next(&rd, &v);
        if (ret == -EAGAIN) {
            if (atomic_load(&sh->writer_done) && cw_ring_write_seq(r) == rd.next)
                break;
            cw_ring_wait(&rd, 50);
            continue;
        }
        memcpy(copy, v.data, v.len < sizeof(copy) ? v.len : sizeof(copy));
        if (slow && rand_r(&rnd) % 4 == 0)
            usleep(200 + rand_r(&rnd) % 800); /* hold the view: the writer laps us */
        uint32_t len = v.len;
        if (cw_ring_done(&rd, &v)) {
            st->accepted++;
            if (!verify(copy, v.seq, len))
                st->bad_accepted++;
        } else {
            st->rejected_torn++;
            if (!verify(copy, v.seq, len))
                st->torn_bytes_seen++;
        }
        st->last_seq = v.seq;
    }
    st->overruns = cw_ring_overruns(&rd);
    /* Every sequence from attach to the end was either accepted or counted. */
    uint64_t expected = have_first ? atomic_load(&sh->published) - first : 0;
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
        printf("%s reader: accepted %llu, overruns %llu (of which torn and refused %llu, "
               "really damaged %llu), torn accepted %llu\n",
               i ? "slow" : "fast", (unsigned long long)stats[i].accepted,
               (unsigned long long)stats[i].overruns, (unsigned long long)stats[i].rejected_torn,
               (unsigned long long)stats[i].torn_bytes_seen,
               (unsigned long long)stats[i].bad_accepted);
        CHECK_EQ_U64(stats[i].bad_accepted, 0);
        CHECK(stats[i].accepted > 0);
    }
    /* The slow reader must have been lapped, and have noticed it. */
    CHECK(stats[1].overruns > 0);
    CHECK(stats[1].rejected_torn > 0);
    /* Damage really happened under the readers and was refused every time:
     * without the seqlock check those copies would have been accepted. */
    CHECK(stats[0].torn_bytes_seen + stats[1].torn_bytes_seen > 0);
    CHECK(published > 10000);
    cw_ring_close(&r);
    cw_ring_unlink(ring_name);
    printf("ok ring_stress\n");
    return 0;
}
