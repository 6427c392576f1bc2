/*
 * Fuzz target: the header of a shared-memory ring left by someone else
 * (cw_ring_open on an existing object, common/ring.c). A stage finds its
 * rings in /dev/shm by name; whatever lies there may be stale, from another
 * build, torn, or hostile. The property: such a ring is rejected, or, if
 * accepted, no reader or writer operation touches a byte outside the
 * object (checked explicitly, as ASan does not track shared mappings, and
 * by touching every byte a view or reservation hands out).
 *
 * Input, laid over a valid ring of 4 slots and 4 KiB (made by cw_ring_open
 * at start-up): a flags byte (bit 0: open as a stage does, with the
 * expected geometry; else with none, as a status reader would), a signed
 * 16-bit change of the object's size in units of 8 bytes, a 32-bit length
 * to reserve and a 32-bit sequence to peek, then bytes that replace the
 * header's first 128 bytes (magic, version, sizes, positions), the slot
 * descriptors, and the reader entries, in that order.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 4
#define ARENA 4096

static const CwRingGeometry geo = {.slot_count = SLOTS, .arena_size = ARENA, .user_version = 1};
static uint8_t *valid; /* a valid ring's bytes */
static size_t valid_size;
static char name[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CwRing *ring = NULL;
    char err[256];
    snprintf(name, sizeof(name), "/camwatch.fuzz-ring-%d.packets", (int)getpid());
    shm_unlink(name);
    valid_size = cw_ring_size(&geo);
    valid = malloc(valid_size);
    if (!valid || cw_ring_open(&ring, name, &geo, 0, err, sizeof(err)) < 0)
        abort();
    int fd = shm_open(name, O_RDONLY, 0);
    if (fd < 0 || pread(fd, valid, valid_size, 0) != (ssize_t)valid_size)
        abort();
    close(fd);
    cw_ring_close(&ring);
    shm_unlink(name);
    return 0;
}

/* Bounds of the object as this process mapped it. */
typedef struct Bounds {
    const uint8_t *base, *arena, *end;
} Bounds;

static void check_span(const Bounds *b, const void *p, size_t len, const char *what)
{
    const uint8_t *s = p;
    FUZZ_ASSERT(s >= b->arena && s <= b->end && len <= (size_t)(b->end - s),
                "%s of %zu bytes at offset %td lies outside the arena [%td, %td)", what, len,
                s - b->base, b->arena - b->base, b->end - b->base);
}

static void use_view(const Bounds *b, const CwRingView *v)
{
    check_span(b, v->data, v->len, "a view");
    volatile uint8_t sum = 0;
    for (uint32_t i = 0; i < v->len; i++)
        sum += v->data[i];
    (void)sum;
}

static void exercise(CwRing *ring, size_t file_size, uint32_t reserve_len, uint64_t peek_seq)
{
    Bounds b;
    b.base = (const uint8_t *)cw_ring_user_area(ring) - offsetof(CwRingHeader, user);
    b.end = b.base + file_size;
    uint32_t slots = cw_ring_slot_count(ring);
    FUZZ_ASSERT(slots >= 2 && (slots & (slots - 1)) == 0, "accepted %u slots", slots);
    FUZZ_ASSERT(sizeof(CwRingHeader) + (size_t)slots * sizeof(CwRingDesc) <= file_size,
                "accepted %u slots in an object of %zu bytes", slots, file_size);
    b.arena = b.base + sizeof(CwRingHeader) + (size_t)slots * sizeof(CwRingDesc);

    CwRingView v;
    CwRingReaderStatus st;
    for (int i = 0; i < CW_RING_MAX_READERS; i++)
        (void)cw_ring_reader_status(ring, i, &st);
    uint64_t w = cw_ring_write_seq(ring);
    uint64_t seqs[] = {w - 1, w, w - slots, 0, peek_seq};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
        if (cw_ring_peek(ring, seqs[i], &v) == 0)
            use_view(&b, &v);

    CwRingReader reader = {0};
    if (cw_ring_attach(ring, "fuzz", &reader) == 0) {
        cw_ring_reader_seek(&reader, w - slots);
        for (int i = 0; i < 2 * SLOTS && cw_ring_next(&reader, &v) == 0; i++) {
            use_view(&b, &v);
            (void)cw_ring_done(&reader, &v);
        }
        if (cw_ring_latest(&reader, &v) == 0)
            use_view(&b, &v);
        cw_ring_detach(&reader);
    }

    if (cw_ring_claim_writer(ring) == 0) {
        uint8_t *p = cw_ring_reserve(ring, reserve_len);
        if (p) {
            check_span(&b, p, reserve_len, "a reservation");
            memset(p, 0xa5, reserve_len);
            (void)cw_ring_publish(ring, reserve_len, 0, 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    int flags = (int)fuzz_u64(&in, 1);
    int64_t delta = (int16_t)fuzz_u64(&in, 2) * 8;
    uint32_t reserve_len = (uint32_t)fuzz_u64(&in, 4);
    uint64_t peek_seq = fuzz_u64(&in, 4);
    int64_t file_size = (int64_t)valid_size + delta;
    if (file_size < 0)
        file_size = 0;

    uint8_t *image = calloc(1, (size_t)file_size + valid_size);
    FUZZ_ASSERT(image, "out of memory");
    memcpy(image, valid, valid_size);
    /* Header fields, descriptors, reader entries. */
    const size_t parts[][2] = {{0, 128},
                               {sizeof(CwRingHeader), SLOTS * sizeof(CwRingDesc)},
                               {offsetof(CwRingHeader, readers), sizeof(CwRingReaderEntry) * 8}};
    for (size_t i = 0; i < 3 && in.left; i++) {
        size_t n = in.left < parts[i][1] ? in.left : parts[i][1];
        memcpy(image + parts[i][0], in.data, n);
        in.data += n;
        in.left -= n;
    }

    /* glibc aborts (futex_fatal_error) when it posts a semaphore whose
     * futex flags are forged: the `private` int after its 64-bit count.
     * Only the ring's owner can forge them, and cw_ring_open() accepts only
     * rings of our own uid; the count is fuzzed, the flags are kept. */
    for (int i = 0; i < CW_RING_MAX_READERS; i++) {
        size_t flags_at = offsetof(CwRingHeader, readers) + (size_t)i * sizeof(CwRingReaderEntry) +
                          offsetof(CwRingReaderEntry, wake) + sizeof(uint64_t);
        memcpy(image + flags_at, valid + flags_at, sizeof(int));
    }

    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    FUZZ_ASSERT(fd >= 0, "cannot create %s: %s", name, strerror(errno));
    FUZZ_ASSERT(ftruncate(fd, file_size) == 0 &&
                    pwrite(fd, image, (size_t)file_size, 0) == (ssize_t)file_size,
                "cannot fill %s", name);
    close(fd);
    free(image);

    CwRing *ring = NULL;
    char err[512];
    int ret = cw_ring_open(&ring, name, (flags & 1) ? &geo : NULL, 0, err, sizeof(err));
    if (ret == 0) {
        exercise(ring, (size_t)file_size, reserve_len, peek_seq);
        cw_ring_close(&ring);
    } else {
        FUZZ_ASSERT(err[0], "rejected (%d) without a message", ret);
    }
    shm_unlink(name);
    return 0;
}
