/*
 * Shared-memory ring: see ring.h for the contract.
 *
 * Memory ordering, writer side (one writer):
 *   reserve:  arena_reserve = end (relaxed); desc.lock = odd (relaxed);
 *             release fence   -> orders both stores before the payload stores
 *   publish:  desc fields; desc.lock = even (release); write_seq (release)
 * Reader side:
 *   peek:     desc.lock (acquire) pairs with the publish release; fields;
 *             acquire fence; desc.lock and arena_reserve re-read
 *   intact:   acquire fence after using the payload, then desc.lock and
 *             arena_reserve re-read: if the reader saw any payload byte the
 *             writer stored after its release fence, the fences synchronise
 *             and the re-read sees the odd lock or the moved reservation.
 *   write_seq: cw_ring_write_seq() loads it with acquire, pairing with the
 *             release store in publish: whoever sees seq + 1 sees slot seq.
 * Reader entries: in_use is taken with a compare-and-swap; the counters are
 * relaxed (figures for a person, ordered with nothing). The user area is
 * neither read nor ordered here: its user states its own pairings (rings.c).
 */
#define _GNU_SOURCE
#include "ring.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Process-local handle: see ring.h. */
struct CwRing {
    CwRingHeader *hdr;
    CwRingDesc *desc;
    uint8_t *arena;
    size_t map_size;
    uint64_t slot_mask;
    uint64_t arena_mask;
    char name[64];
    /* Writer-side state for the slot between reserve and publish. */
    uint64_t pending_offset;
    uint32_t pending_len;
    bool pending;
    int writer_fd; /* holds the writer's claim (cw_ring_claim_writer); -1 if none */
};

#define ARENA_ALIGN 64u
/* Descriptor lock of a slot never written: odd, so never accepted. */
#define RING_LOCK_NEVER 1u

uint64_t cw_ring_pow2(uint64_t v)
{
    if (v <= 1)
        return v;
    return 1ULL << (64 - __builtin_clzll(v - 1));
}

static void geometry_round(const CwRingGeometry *in, uint32_t *slots, uint64_t *arena)
{
    /* At least 2 slots and 4 KiB: a mask of 0 would make every sequence one slot. */
    *slots = (uint32_t)cw_ring_pow2(in->slot_count < 2 ? 2 : in->slot_count);
    *arena = cw_ring_pow2(in->arena_size < 4096 ? 4096 : in->arena_size);
}

static size_t layout_size(uint32_t slots, uint64_t arena)
{
    return sizeof(CwRingHeader) + (size_t)slots * sizeof(CwRingDesc) + (size_t)arena;
}

size_t cw_ring_size(const CwRingGeometry *geo)
{
    uint32_t slots;
    uint64_t arena;
    geometry_round(geo, &slots, &arena);
    return layout_size(slots, arena);
}

static void handle_bind(CwRing *r, void *map, size_t size, const char *name)
{
    r->hdr = map;
    r->map_size = size;
    r->desc = (CwRingDesc *)((uint8_t *)map + sizeof(CwRingHeader));
    r->arena = (uint8_t *)(r->desc + r->hdr->slot_count);
    r->slot_mask = r->hdr->slot_count - 1;
    r->arena_mask = r->hdr->arena_size - 1;
    snprintf(r->name, sizeof(r->name), "%s", name);
}

static int create_ring(int fd, const char *name, uint32_t slots, uint64_t arena,
                       uint32_t user_version, CwRing *r)
{
    size_t size = layout_size(slots, arena);
    if (ftruncate(fd, (off_t)size) < 0)
        return -errno;
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -errno;
    CwRingHeader *h = map;
    CwRingDesc *desc = (CwRingDesc *)((uint8_t *)map + sizeof(CwRingHeader));
    /* "Never written" must match no published sequence. Every even value is
     * 2*seq+2 for some seq (0 is UINT64_MAX's), so mark the slots odd: the
     * state readers never accept. */
    for (uint32_t i = 0; i < slots; i++)
        atomic_init(&desc[i].lock, RING_LOCK_NEVER);
    h->version = CW_RING_VERSION;
    h->header_size = sizeof(CwRingHeader);
    h->slot_count = slots;
    h->user_version = user_version;
    h->arena_size = arena; /* ftruncate() zeroed the rest, the user area too */
    h->total_size = size;
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        if (sem_init(&h->readers[i].wake, 1, 0) < 0) {
            int e = -errno;
            munmap(map, size);
            return e;
        }
    }
    handle_bind(r, map, size, name);
    /* Last: openers spin on the magic (acquire) before touching anything else. */
    atomic_store_explicit(&h->magic, CW_RING_MAGIC, memory_order_release);
    return 0;
}

/*
 * True if the header of an existing object of `size` bytes describes a
 * geometry create_ring() makes, laid out in exactly those bytes. The object
 * may be someone else's (stale, of another build, torn or hostile): every
 * descriptor and payload address is derived from these fields, so a
 * geometry that does not fit the mapping would send readers and the writer
 * outside it.
 */
static bool geometry_fits(const CwRingHeader *h, size_t size)
{
    uint32_t slots = h->slot_count;
    uint64_t arena = h->arena_size;
    if (slots < 2 || (slots & (slots - 1)) || arena < 4096 || (arena & (arena - 1)))
        return false;
    if (arena > size || (uint64_t)slots * sizeof(CwRingDesc) > size)
        return false; /* so that layout_size() below cannot overflow */
    return h->total_size == size && layout_size(slots, arena) == size;
}

static int attach_ring(int fd, const char *name, uint32_t slots, uint64_t arena,
                       uint32_t user_version, int timeout_ms, CwRing *r, char *err, size_t err_size)
{
    int64_t deadline = cw_mono_ns() + (int64_t)timeout_ms * CW_NS_PER_MSEC;
    struct stat st;
    CwRingHeader *h = NULL;
    size_t size = 0;

    /* The creator may still be between O_EXCL and the magic: wait for it. */
    for (;;) {
        if (fstat(fd, &st) < 0)
            return -errno;
        /* Another user's object is never used, whatever its mode: its owner
         * could rewrite the header and the payloads under us (root would
         * otherwise open anyone's 0600 ring). */
        if (st.st_uid != geteuid()) {
            snprintf(err, err_size,
                     "shared memory %s belongs to uid %u, not to this process's uid %u "
                     "(remove /dev/shm%s, or run every camwatch process as one user)",
                     name, (unsigned)st.st_uid, (unsigned)geteuid(), name);
            return -EPERM;
        }
        if ((size_t)st.st_size >= sizeof(CwRingHeader)) {
            size = (size_t)st.st_size;
            h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (h == MAP_FAILED)
                return -errno;
            if (atomic_load_explicit(&h->magic, memory_order_acquire) == CW_RING_MAGIC)
                break;
            munmap(h, size);
            h = NULL;
        }
        if (cw_mono_ns() > deadline) {
            snprintf(err, err_size, "shared memory %s exists but was never initialised", name);
            return -ETIMEDOUT;
        }
        usleep(10000);
    }
    if (h->version != CW_RING_VERSION || h->header_size != sizeof(CwRingHeader)) {
        snprintf(err, err_size,
                 "shared memory %s is not a camwatch ring of this version "
                 "(stop every camwatch process and remove /dev/shm%s)",
                 name, name);
        munmap(h, size);
        return -EPROTO;
    }
    if (!geometry_fits(h, size)) {
        snprintf(err, err_size,
                 "shared memory %s is broken: its header describes %u slots and %llu bytes of "
                 "data in %llu bytes, the object has %zu (stop every camwatch process and "
                 "remove /dev/shm%s)",
                 name, h->slot_count, (unsigned long long)h->arena_size,
                 (unsigned long long)h->total_size, size, name);
        munmap(h, size);
        return -EPROTO;
    }
    if (slots && (h->slot_count != slots || h->arena_size != arena)) {
        snprintf(err, err_size,
                 "ring %s exists with %u slots and %llu KiB of data, the configuration "
                 "asks for %u slots and %llu KiB (stop every camwatch process and remove "
                 "/dev/shm%s)",
                 name, h->slot_count, (unsigned long long)(h->arena_size >> 10), slots,
                 (unsigned long long)(arena >> 10), name);
        munmap(h, size);
        return -EPROTO;
    }
    if (slots && h->user_version != user_version) {
        snprintf(err, err_size,
                 "ring %s was made by another version of camwatch (stop every camwatch "
                 "process and remove /dev/shm%s)",
                 name, name);
        munmap(h, size);
        return -EPROTO;
    }
    handle_bind(r, h, size, name);
    return 0;
}

int cw_ring_open(CwRing **ring, const char *name, const CwRingGeometry *geo, int timeout_ms,
                 char *err, size_t err_size)
{
    uint32_t slots = 0;
    uint64_t arena = 0;
    CwRing *r = NULL;
    int fd = -1;
    int ret;

    *ring = NULL;
    if (err_size)
        err[0] = '\0';
    if (geo)
        geometry_round(geo, &slots, &arena);
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->writer_fd = -1;

    if (geo) {
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            ret = create_ring(fd, name, slots, arena, geo->user_version, r);
            if (ret < 0) {
                snprintf(err, err_size, "cannot create ring %s: %s", name, strerror(-ret));
                shm_unlink(name);
            }
            goto end;
        }
        if (errno != EEXIST) {
            ret = -errno;
            snprintf(err, err_size, "cannot create ring %s: %s", name, strerror(errno));
            goto end;
        }
    }
    fd = shm_open(name, O_RDWR, 0);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, err_size, "cannot open ring %s: %s", name, strerror(errno));
        goto end;
    }
    ret = attach_ring(fd, name, slots, arena, geo ? geo->user_version : 0, timeout_ms, r, err,
                      err_size);

end:
    if (fd >= 0)
        close(fd); /* the mapping keeps the memory */
    if (ret < 0) {
        free(r);
        return ret;
    }
    *ring = r;
    return 0;
}

void cw_ring_close(CwRing **ring)
{
    if (!*ring)
        return;
    if ((*ring)->writer_fd >= 0)
        close((*ring)->writer_fd); /* releases the writer's claim */
    munmap((*ring)->hdr, (*ring)->map_size);
    free(*ring);
    *ring = NULL;
}

int cw_ring_unlink(const char *name)
{
    return shm_unlink(name) < 0 ? -errno : 0;
}

uint32_t cw_ring_slot_count(const CwRing *r)
{
    return r->hdr->slot_count;
}

void *cw_ring_user_area(const CwRing *r)
{
    return r->hdr->user.bytes;
}

void cw_ring_debug_set_positions(CwRing *r, uint64_t seq, uint64_t arena_pos)
{
    atomic_store(&r->hdr->write_seq, seq);
    atomic_store(&r->hdr->arena_head, arena_pos);
    atomic_store(&r->hdr->arena_reserve, arena_pos);
}

/* --- Writer --- */

int cw_ring_claim_writer(CwRing *r)
{
    int fd = shm_open(r->name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        cw_error("cannot open ring %s to claim it: %s", r->name, strerror(err));
        return -err;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if (err == EWOULDBLOCK)
            cw_error("another process (pid %d) is writing ring %s; stop it first",
                     (int)atomic_load(&r->hdr->writer_pid), r->name);
        else
            cw_error("cannot claim ring %s: %s", r->name, strerror(err));
        close(fd);
        return err == EWOULDBLOCK ? -EBUSY : -err;
    }
    r->writer_fd = fd;
    atomic_store(&r->hdr->writer_pid, (int32_t)getpid());
    return 0;
}

int cw_ring_writer_pid(const CwRing *r)
{
    return (int)atomic_load_explicit(&r->hdr->writer_pid, memory_order_relaxed);
}

void *cw_ring_reserve(CwRing *r, uint32_t len)
{
    CwRingHeader *h = r->hdr;
    if ((uint64_t)len > h->arena_size / 2)
        return NULL;
    uint64_t head = atomic_load_explicit(&h->arena_head, memory_order_relaxed);
    uint64_t reserved = atomic_load_explicit(&h->arena_reserve, memory_order_relaxed);
    /* A writer that died between reserve and publish left a reservation
     * beyond the head, and may have written into it. Start after it: the
     * reservation end must never move back, or slots it overwrote would
     * look intact again. */
    if ((int64_t)(reserved - head) > 0)
        head = (reserved + ARENA_ALIGN - 1) & ~(uint64_t)(ARENA_ALIGN - 1);
    uint64_t phys = head & r->arena_mask;
    if (phys + len > h->arena_size)
        head += h->arena_size - phys; /* keep the payload contiguous: skip the tail */
    uint64_t seq = atomic_load_explicit(&h->write_seq, memory_order_relaxed);
    CwRingDesc *d = &r->desc[seq & r->slot_mask];

    atomic_store_explicit(&h->arena_reserve, head + len, memory_order_relaxed);
    atomic_store_explicit(&d->lock, 2 * seq + 1, memory_order_relaxed);
    /* Both stores above must be visible before any payload byte is. */
    atomic_thread_fence(memory_order_release);

    r->pending_offset = head;
    r->pending_len = len;
    r->pending = true;
    return r->arena + (head & r->arena_mask);
}

static void wake_readers(CwRingHeader *h)
{
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        CwRingReaderEntry *e = &h->readers[i];
        if (!atomic_load_explicit(&e->in_use, memory_order_relaxed))
            continue;
        int value = 0;
        /* A hint only: one pending post is enough, and an absent reader must
         * not let the count grow without bound. */
        if (sem_getvalue(&e->wake, &value) == 0 && value > 0)
            continue;
        sem_post(&e->wake);
    }
}

uint64_t cw_ring_publish(CwRing *r, uint32_t len, uint32_t flags, int64_t stamp)
{
    CwRingHeader *h = r->hdr;
    uint64_t seq = atomic_load_explicit(&h->write_seq, memory_order_relaxed);
    CwRingDesc *d = &r->desc[seq & r->slot_mask];

    if (len > r->pending_len)
        len = r->pending_len;
    d->offset = r->pending_offset;
    d->len = len;
    d->flags = flags;
    d->stamp = stamp;
    /* Pairs with the acquire load of the lock in cw_ring_peek(). */
    atomic_store_explicit(&d->lock, 2 * seq + 2, memory_order_release);
    uint64_t next_head = (r->pending_offset + len + ARENA_ALIGN - 1) & ~(uint64_t)(ARENA_ALIGN - 1);
    atomic_store_explicit(&h->arena_head, next_head, memory_order_relaxed);
    /* Pairs with the acquire loads of write_seq in readers. */
    atomic_store_explicit(&h->write_seq, seq + 1, memory_order_release);
    r->pending = false;
    wake_readers(h);
    return seq;
}

/* --- Readers --- */

int cw_ring_attach(CwRing *r, const char *role, CwRingReader *rd)
{
    CwRingHeader *h = r->hdr;
    CwRingReaderEntry *e = NULL;

    for (int i = 0; i < CW_RING_MAX_READERS && !e; i++) {
        CwRingReaderEntry *c = &h->readers[i];
        if (atomic_load(&c->in_use) && strncmp(c->role, role, CW_RING_ROLE_MAX) == 0)
            e = c; /* a previous instance of this stage: take its place */
    }
    for (int i = 0; i < CW_RING_MAX_READERS && !e; i++) {
        uint32_t expected = 0;
        if (atomic_compare_exchange_strong(&h->readers[i].in_use, &expected, 1))
            e = &h->readers[i];
    }
    if (!e)
        return -EBUSY;
    snprintf(e->role, sizeof(e->role), "%s", role);
    atomic_store(&e->overruns, 0);
    atomic_store(&e->consumed, 0);
    /* Drop wake-ups meant for the previous instance. wake_readers() keeps
     * the count at 1 or so; a larger one was left by someone else, and
     * draining billions would hang the stage: what is left only causes
     * early wake-ups, which are hints anyway. */
    for (int i = 0; i < 64 && sem_trywait(&e->wake) == 0; i++)
        ;
    rd->ring = r;
    rd->entry = e;
    rd->next = atomic_load_explicit(&h->write_seq, memory_order_acquire);
    atomic_store_explicit(&e->position, rd->next, memory_order_relaxed);
    return 0;
}

void cw_ring_detach(CwRingReader *rd)
{
    if (!rd->entry)
        return;
    atomic_store(&rd->entry->in_use, 0);
    rd->entry = NULL;
}

uint64_t cw_ring_write_seq(const CwRing *r)
{
    /* Pairs with the release store of write_seq in cw_ring_publish(). */
    return atomic_load_explicit(&r->hdr->write_seq, memory_order_acquire);
}

uint64_t cw_ring_reader_next(const CwRingReader *rd)
{
    return rd->next;
}

void cw_ring_reader_seek(CwRingReader *rd, uint64_t seq)
{
    rd->next = seq;
    atomic_store_explicit(&rd->entry->position, seq, memory_order_relaxed);
}

int cw_ring_wait(CwRingReader *rd, int timeout_ms)
{
    struct timespec deadline =
        cw_ns_to_timespec(cw_mono_ns() + (int64_t)timeout_ms * CW_NS_PER_MSEC);
    for (;;) {
        if (cw_ring_write_seq(rd->ring) != rd->next)
            return 1;
        if (sem_clockwait(&rd->entry->wake, CLOCK_MONOTONIC, &deadline) == 0)
            continue;
        /* EINTR: a signal (a stop request) must reach the caller promptly. */
        return cw_ring_write_seq(rd->ring) != rd->next;
    }
}

int cw_ring_peek(const CwRing *r, uint64_t seq, CwRingView *v)
{
    const CwRingDesc *d = &r->desc[seq & r->slot_mask];
    uint64_t want = 2 * seq + 2;
    uint64_t lock = atomic_load_explicit(&d->lock, memory_order_acquire);

    if (lock != want) {
        /* write_seq is the truth: at or past it the slot is not published
         * yet; before it, the slot was published and has been overwritten,
         * unless it was published between our two loads, so look again. */
        if ((int64_t)(seq - cw_ring_write_seq(r)) >= 0)
            return -EAGAIN;
        lock = atomic_load_explicit(&d->lock, memory_order_acquire);
        if (lock != want)
            return lock == RING_LOCK_NEVER ? -ENODATA : -ESTALE;
    }
    v->seq = seq;
    v->lock = lock;
    v->offset = d->offset;
    v->len = d->len;
    v->flags = d->flags;
    v->stamp = d->stamp;
    v->data = r->arena + (v->offset & r->arena_mask);
    /* A payload is contiguous in the arena (cw_ring_reserve): a descriptor
     * that says otherwise is torn or forged, and must not send the reader
     * past the arena's end. The arena's size is our own copy, not the
     * header's. */
    if (v->len > r->arena_mask + 1 - (v->offset & r->arena_mask))
        return -ESTALE;
    if (!cw_ring_view_intact(r, v))
        return -ESTALE;
    return 0;
}

bool cw_ring_view_intact(const CwRing *r, const CwRingView *v)
{
    const CwRingDesc *d = &r->desc[v->seq & r->slot_mask];
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&d->lock, memory_order_relaxed) != v->lock)
        return false;
    uint64_t reserve = atomic_load_explicit(&r->hdr->arena_reserve, memory_order_relaxed);
    return reserve - v->offset <= r->hdr->arena_size;
}

int cw_ring_next(CwRingReader *rd, CwRingView *v)
{
    CwRing *r = rd->ring;
    uint64_t slots = r->hdr->slot_count;
    for (;;) {
        uint64_t w = cw_ring_write_seq(r);
        if ((int64_t)(w - rd->next) <= 0)
            return -EAGAIN;
        if (w - rd->next > slots) {
            /* Fell more than the ring's depth behind: the oldest slot that can
             * still hold data is w - slots. */
            atomic_fetch_add(&rd->entry->overruns, w - slots - rd->next);
            rd->next = w - slots;
        }
        int ret = cw_ring_peek(r, rd->next, v);
        if (ret == 0)
            return 0;
        if (ret == -EAGAIN)
            return -EAGAIN;
        atomic_fetch_add(&rd->entry->overruns, 1); /* overwritten while we looked */
        rd->next++;
    }
}

int cw_ring_latest(CwRingReader *rd, CwRingView *v)
{
    CwRing *r = rd->ring;
    for (int tries = 0; tries < 16; tries++) {
        uint64_t w = cw_ring_write_seq(r);
        if ((int64_t)(w - rd->next) <= 0)
            return -EAGAIN;
        int ret = cw_ring_peek(r, w - 1, v);
        if (ret == 0) {
            rd->next = w - 1;
            return 0;
        }
    }
    return -EAGAIN;
}

bool cw_ring_done(CwRingReader *rd, const CwRingView *v)
{
    bool intact = cw_ring_view_intact(rd->ring, v);
    atomic_fetch_add(intact ? &rd->entry->consumed : &rd->entry->overruns, 1);
    rd->next = v->seq + 1;
    /* Relaxed, as the counters: a figure for status readers only. */
    atomic_store_explicit(&rd->entry->position, rd->next, memory_order_relaxed);
    return intact;
}

uint64_t cw_ring_overruns(const CwRingReader *rd)
{
    return atomic_load(&rd->entry->overruns);
}

int cw_ring_reader_status(const CwRing *r, int index, CwRingReaderStatus *status)
{
    if (index < 0 || index >= CW_RING_MAX_READERS)
        return -EINVAL;
    const CwRingReaderEntry *e = &r->hdr->readers[index];
    if (!atomic_load_explicit(&e->in_use, memory_order_acquire))
        return -ENOENT;
    memcpy(status->role, e->role, sizeof(status->role));
    status->role[sizeof(status->role) - 1] = '\0';
    /* Relaxed: figures for a person, ordered with nothing else. */
    status->consumed = atomic_load_explicit(&e->consumed, memory_order_relaxed);
    status->overruns = atomic_load_explicit(&e->overruns, memory_order_relaxed);
    status->position = atomic_load_explicit(&e->position, memory_order_relaxed);
    return 0;
}
