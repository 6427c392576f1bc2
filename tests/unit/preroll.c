/*
 * Pre-roll keyframe choice (record/preroll.c): which keyframe a clip starts
 * at for now - PRE_CAPTURE_SECONDS, over a fake ring of slots whose
 * sequence numbers wrap around 2^64 in the middle of the search.
 */
#include "check.h"

#include "../../record/preroll.h"

#include <errno.h>

#define DEPTH 16
#define EPOCH 7
#define SEC   1000000000LL

/* A ring of DEPTH slots; slot i holds sequence base + i. */
typedef struct FakeRing {
    uint64_t base;   /* sequence of slots[0] */
    uint64_t head;   /* next sequence to be written */
    uint64_t oldest; /* older sequences are gone: overwritten, or never written */
    bool young;      /* sequences before `oldest` were never written */
    RecSlot slots[DEPTH];
} FakeRing;

static void lookup(const void *opaque, uint64_t seq, RecSlot *slot)
{
    const FakeRing *r = opaque;
    if (seq - r->oldest >= r->head - r->oldest) { /* before oldest (wrap-safe) */
        *slot = (RecSlot){.state = r->young ? REC_SLOT_NEVER_WRITTEN : REC_SLOT_OVERWRITTEN};
        return;
    }
    *slot = r->slots[seq - r->base];
}

/*
 * A full ring of packets one second apart, the newest at 100 s, keyframes
 * where `keys` has a 'K' (slot 0 is the oldest); the sequences wrap at
 * slot 10.
 */
static FakeRing ring(const char *keys)
{
    FakeRing r = {.base = UINT64_MAX - 9};
    r.head = r.base + DEPTH;
    r.oldest = r.base;
    for (int i = 0; i < DEPTH; i++)
        r.slots[i] = (RecSlot){
            .state = REC_SLOT_PACKET,
            .key = keys[i] == 'K',
            .epoch = keys[i] == 'K' ? EPOCH : 0,
            .stamp = (100 - (DEPTH - 1) + i) * SEC,
        };
    return r;
}

/* The stamp of slot i of ring(). */
static int64_t at(int i)
{
    return (100 - (DEPTH - 1) + i) * SEC;
}

static int choose(const FakeRing *r, int64_t target, RecPreroll *pr)
{
    return rec_preroll_choose(r->head, DEPTH, lookup, r, EPOCH, target, pr);
}

/* The newest keyframe at or before the target, not a later or an older one. */
static void test_keyframe_before_target(void)
{
    FakeRing r = ring("K...K...K...K...");
    RecPreroll pr;
    CHECK(choose(&r, at(10), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 8);
    CHECK_EQ_U64(pr.stamp, at(8));
    CHECK(!pr.shortened && !pr.buffer_limited);
    /* A keyframe exactly at the target is at or before it. */
    CHECK(choose(&r, at(12), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 12);
    CHECK(!pr.shortened);
    /* Across the wrap of the sequence numbers (slot 10 is sequence 0). */
    CHECK_EQ_U64(r.base + 10, 0);
    CHECK(choose(&r, at(5), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 4);
}

/* Every keyframe is younger than the target and older packets were
 * overwritten: the oldest keyframe left, and the ring is too small. */
static void test_only_keyframes_after_target(void)
{
    FakeRing r = ring("..K.....K.......");
    RecPreroll pr;
    CHECK(choose(&r, at(0) - 5 * SEC, &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 2);
    CHECK(pr.shortened && pr.buffer_limited);
}

/* A ring younger than the pre-roll (the stream started after the target):
 * shortened, but not for want of buffer. */
static void test_ring_younger_than_preroll(void)
{
    FakeRing r = ring("......K...K.....");
    r.oldest = r.base + 4; /* slots 0-3 were never written */
    r.young = true;
    RecPreroll pr;
    CHECK(choose(&r, at(0), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 6);
    CHECK(pr.shortened && !pr.buffer_limited);
    /* The same ring, old slots overwritten instead: the buffer is the limit. */
    r.young = false;
    CHECK(choose(&r, at(0), &pr) == 0);
    CHECK(pr.shortened && pr.buffer_limited);
}

/* No keyframe at all: -ENOENT (the clip starts at the next one that comes). */
static void test_no_keyframe(void)
{
    FakeRing r = ring("................");
    RecPreroll pr;
    CHECK(choose(&r, at(15), &pr) == -ENOENT);
    /* An empty ring. */
    FakeRing empty = {.base = 5, .head = 5, .oldest = 5, .young = true};
    CHECK(rec_preroll_choose(empty.head, DEPTH, lookup, &empty, EPOCH, at(15), &pr) == -ENOENT);
}

/* Keyframes of an earlier stream (before a reconnect) are not this clip's:
 * the search stops at the first of them. */
static void test_other_epoch_ends_search(void)
{
    FakeRing r = ring("K...K...K...K...");
    r.slots[4].epoch = EPOCH - 1;
    RecPreroll pr;
    CHECK(choose(&r, at(2), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 8);
    CHECK(pr.shortened && !pr.buffer_limited); /* the stream started then */
    r.slots[8].epoch = r.slots[12].epoch = EPOCH - 1;
    CHECK(choose(&r, at(2), &pr) == -ENOENT);
}

/* A slot overwritten while looked at, or not a packet, ends the search
 * there: what is older cannot be trusted either. */
static void test_torn_slot_ends_search(void)
{
    FakeRing r = ring("K...K...K...K...");
    r.slots[4].state = REC_SLOT_OVERWRITTEN;
    RecPreroll pr;
    CHECK(choose(&r, at(0), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 8);
    CHECK(pr.shortened && pr.buffer_limited);
    r.slots[4].state = REC_SLOT_NOT_PACKET;
    CHECK(choose(&r, at(0), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 8);
    /* The newest slot torn: nothing at all. */
    r.slots[15].state = REC_SLOT_OVERWRITTEN;
    CHECK(choose(&r, at(15), &pr) == -ENOENT);
}

/* The walk never goes further back than the ring's depth. */
static void test_depth_bounds_the_walk(void)
{
    FakeRing r = ring("K...K...K...K...");
    RecPreroll pr;
    CHECK(rec_preroll_choose(r.head, 6, lookup, &r, EPOCH, at(0), &pr) == 0);
    CHECK_EQ_U64(pr.seq, r.base + 12); /* slots 10-15 only */
    CHECK(pr.shortened && pr.buffer_limited);
}

int main(void)
{
    RUN(test_keyframe_before_target);
    RUN(test_only_keyframes_after_target);
    RUN(test_ring_younger_than_preroll);
    RUN(test_no_keyframe);
    RUN(test_other_epoch_ends_search);
    RUN(test_torn_slot_ends_search);
    RUN(test_depth_bounds_the_walk);
    return 0;
}
