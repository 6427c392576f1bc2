/*
 * camwatch shared-memory ring: one writer that never waits, up to
 * CW_RING_MAX_READERS readers, in POSIX shared memory.
 *
 * The ring knows nothing of what it carries. A slot is bytes, a length,
 * writer-defined flags and a writer-defined stamp; the header has a
 * fixed-size user area (CwRingUserArea) that the ring never reads or writes
 * after creating it zeroed. camwatch's payloads and what it keeps in the user
 * area (stage heartbeats, stream parameters) are in payload.h and rings.h.
 *
 * Errors: every function that can fail returns a negative errno (libuv's
 * convention); -EAGAIN is flow control (nothing there yet), not a failure.
 *
 * Layout: a header, a table of slot descriptors (a power of two of them), and
 * a byte arena (a power of two of bytes) holding the payloads. A payload is
 * always contiguous in the arena, so a reader can use it in place.
 *
 * Sequences are free-running 64-bit counters. Slot descriptor `lock` holds
 * 2*seq+1 while sequence `seq` is being written and 2*seq+2 once published
 * (seqlock); readers check it before and after using a slot. Arena positions
 * are free-running too: a payload at position P is intact while the writer's
 * reservation end is at most P + arena_size.
 *
 * Wake-ups are per-reader process-shared semaphores; they are only hints:
 * the sequence numbers are the truth.
 */
#ifndef CAMWATCH_RING_H
#define CAMWATCH_RING_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_RING_MAGIC       0x43574d52474e4731ULL /* "CWMRGNG1" */
#define CW_RING_VERSION     3
#define CW_RING_MAX_READERS 8
#define CW_RING_ROLE_MAX    16
/* Bytes of the header's user area: see CwRingUserArea. */
#define CW_RING_USER_SIZE 24576

/*
 * A reader's place in the header. Only what a reader needs to be woken and
 * taken over by its successor, and what a status reader shows (role and
 * counters, through cw_ring_reader_status()).
 */
typedef struct CwRingReaderEntry {
    _Atomic uint32_t in_use; /* 0 free, 1 claimed */
    char role[CW_RING_ROLE_MAX];
    _Atomic uint64_t overruns; /* slots this reader lost to the writer */
    _Atomic uint64_t consumed; /* slots this reader accepted */
    sem_t wake;
    /* The next slot this reader will read, as of its last finished slot
     * (write_seq minus this is its lag); written by the reader only. */
    _Atomic uint64_t position;
} __attribute__((aligned(128))) CwRingReaderEntry;

/*
 * The user's part of the header: CW_RING_USER_SIZE bytes, zero when the ring
 * is created, that the ring never touches again. Its user lays its own
 * struct over them (cw_ring_user_area()) and asserts that it fits. Cache-line
 * aligned, so the user's fields share no line with the ring's own.
 */
typedef struct CwRingUserArea {
    _Alignas(64) uint8_t bytes[CW_RING_USER_SIZE];
} CwRingUserArea;

typedef struct CwRingHeader {
    _Atomic uint64_t magic; /* stored last, with release, by the creator */
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_count;   /* power of two */
    uint32_t user_version; /* CwRingGeometry.user_version of the creator */
    uint64_t arena_size;   /* power of two */
    uint64_t total_size;
    /* Writer state. */
    _Atomic uint64_t write_seq;     /* next sequence to be published */
    _Atomic uint64_t arena_reserve; /* end of the newest arena reservation */
    _Atomic uint64_t arena_head;    /* where the next reservation starts */
    _Atomic int32_t writer_pid;     /* of the last cw_ring_claim_writer() */
    uint32_t reserved;
    CwRingReaderEntry readers[CW_RING_MAX_READERS]; /* 128-byte aligned */
    CwRingUserArea user;
} CwRingHeader;

typedef struct CwRingDesc {
    _Atomic uint64_t lock; /* 2*seq+1 while writing, 2*seq+2 when published */
    uint64_t offset;       /* free-running arena position of the payload */
    uint32_t len;
    uint32_t flags; /* writer-defined; the ring carries them untouched */
    int64_t stamp;  /* writer-defined time (capture: CLOCK_REALTIME ns) */
} CwRingDesc;

/* The layout is shared by processes of possibly different builds: pinned. */
_Static_assert(sizeof(CwRingReaderEntry) == 128, "reader entry layout");
_Static_assert(offsetof(CwRingReaderEntry, role) == 4, "reader entry layout");
_Static_assert(offsetof(CwRingReaderEntry, overruns) == 24, "reader entry layout");
_Static_assert(offsetof(CwRingReaderEntry, consumed) == 32, "reader entry layout");
_Static_assert(offsetof(CwRingReaderEntry, wake) == 40, "reader entry layout");
_Static_assert(offsetof(CwRingReaderEntry, position) == 72, "reader entry layout");
_Static_assert(sizeof(CwRingUserArea) == CW_RING_USER_SIZE, "user area size");
_Static_assert(sizeof(CwRingDesc) == 32, "descriptor layout");
_Static_assert(offsetof(CwRingDesc, offset) == 8, "descriptor layout");
_Static_assert(offsetof(CwRingDesc, len) == 16, "descriptor layout");
_Static_assert(offsetof(CwRingDesc, flags) == 20, "descriptor layout");
_Static_assert(offsetof(CwRingDesc, stamp) == 24, "descriptor layout");
_Static_assert(offsetof(CwRingHeader, magic) == 0, "magic first");
_Static_assert(offsetof(CwRingHeader, version) == 8, "header layout");
_Static_assert(offsetof(CwRingHeader, slot_count) == 16, "header layout");
_Static_assert(offsetof(CwRingHeader, user_version) == 20, "header layout");
_Static_assert(offsetof(CwRingHeader, arena_size) == 24, "header layout");
_Static_assert(offsetof(CwRingHeader, write_seq) == 40, "header layout");
_Static_assert(offsetof(CwRingHeader, arena_reserve) == 48, "header layout");
_Static_assert(offsetof(CwRingHeader, arena_head) == 56, "header layout");
_Static_assert(offsetof(CwRingHeader, writer_pid) == 64, "header layout");
_Static_assert(offsetof(CwRingHeader, readers) == 128, "readers aligned");
_Static_assert(offsetof(CwRingHeader, user) == 128 + 128 * CW_RING_MAX_READERS,
               "user area after the readers, cache-line aligned");
_Static_assert(sizeof(CwRingHeader) == 128 + 128 * CW_RING_MAX_READERS + CW_RING_USER_SIZE,
               "header layout");
_Static_assert(sizeof(CwRingHeader) % 128 == 0, "header keeps descriptors aligned");

/* Geometry requested by the opener; the sizes are rounded up to powers of two. */
typedef struct CwRingGeometry {
    uint32_t slot_count;
    uint64_t arena_size;
    /* Layout version of the user area, opaque to the ring: an existing ring
     * created with another is refused, so two builds whose user areas differ
     * never share one. */
    uint32_t user_version;
} CwRingGeometry;

/* Process-local handle on a mapped ring (opaque). */
typedef struct CwRing CwRing;

/* A reader of one ring. The fields are the ring's: use the functions below. */
typedef struct CwRingReader {
    CwRing *ring;
    CwRingReaderEntry *entry; /* NULL when not attached */
    uint64_t next;            /* next sequence this reader wants */
} CwRingReader;

/* A slot as seen by a reader; valid until cw_ring_view_intact() says not. */
typedef struct CwRingView {
    uint64_t seq;
    uint64_t lock; /* descriptor lock value seen when the view was taken */
    uint64_t offset;
    const uint8_t *data;
    uint32_t len;
    uint32_t flags;
    int64_t stamp;
} CwRingView;

/* What a status reader learns of one reader entry (cw_ring_reader_status()). */
typedef struct CwRingReaderStatus {
    char role[CW_RING_ROLE_MAX]; /* always NUL-terminated */
    uint64_t consumed;           /* slots accepted */
    uint64_t overruns;           /* slots lost to the writer */
    uint64_t position;           /* next slot it reads: write_seq - position slots behind */
} CwRingReaderStatus;

/* Round up to a power of two (0 stays 0). */
uint64_t cw_ring_pow2(uint64_t v);

/*
 * Tests only: move a freshly created, still empty ring's sequence and arena
 * positions to `seq` and `arena_pos`, to exercise the wrap of the counters.
 */
void cw_ring_debug_set_positions(CwRing *ring, uint64_t seq, uint64_t arena_pos);

/* Mapped size of a ring with this geometry (after rounding). */
size_t cw_ring_size(const CwRingGeometry *geo);

/*
 * Open the ring `name` ("/camwatch.<camera>.<kind>"), creating and
 * initialising it if it does not exist (O_EXCL; the creator publishes the
 * magic last, mode 0600). An existing ring must belong to our effective
 * uid; the opener waits up to `timeout_ms` for its creator to finish, then
 * checks that its header describes a geometry that fits the object, and
 * that the geometry (sizes and user version) matches `geo`; with `geo` NULL
 * it opens an existing ring of any geometry. Returns 0 and sets *ring (the
 * caller owns it: cw_ring_close()), or a negative errno with a message in
 * err: -EPERM for a ring of another user, -EPROTO for a foreign, broken or
 * incompatible ring, -ETIMEDOUT if never initialised, -ENOENT (geo NULL)
 * if there is none.
 */
int cw_ring_open(CwRing **ring, const char *name, const CwRingGeometry *geo, int timeout_ms,
                 char *err, size_t err_size);

/* Unmap and free the handle; sets *ring to NULL. The ring stays in /dev/shm. */
void cw_ring_close(CwRing **ring);

/* Remove the ring's name from /dev/shm. Returns 0 or a negative errno. */
int cw_ring_unlink(const char *name);

/* Descriptors in the ring: the most slots a reader can find published. */
uint32_t cw_ring_slot_count(const CwRing *ring);

/*
 * The header's user area (CW_RING_USER_SIZE bytes, 64-byte aligned), shared
 * by every process that maps the ring; valid until cw_ring_close(). The ring
 * never touches it: its user decides what it holds and how it is ordered.
 */
void *cw_ring_user_area(const CwRing *ring);

/* --- Writer (one per ring; it never waits) --- */

/*
 * Claim the ring's one writer place, and record our pid in the header. A
 * second writer (a stage started by hand beside the supervisor's) would
 * interleave its slots with ours. The claim is an flock() on the ring's
 * /dev/shm file: the kernel drops it when the holder dies, and it is seen
 * across containers sharing /dev/shm. Held until cw_ring_close(). Returns
 * 0, -EBUSY (another process writes; logged with its pid) or another
 * negative errno (logged).
 */
int cw_ring_claim_writer(CwRing *ring);

/* Pid of the last process that claimed the writer place (0: none ever); it may be gone. */
int cw_ring_writer_pid(const CwRing *ring);

/*
 * Start writing the next slot with room for `len` payload bytes. Returns a
 * pointer into the arena to fill, or NULL if `len` exceeds half the arena
 * (such a payload could never be read intact). Marks the slot as being
 * written: readers discard it until cw_ring_publish().
 */
void *cw_ring_reserve(CwRing *ring, uint32_t len);

/*
 * Publish the slot started by cw_ring_reserve() with its final length
 * (<= the reserved length), flags and stamp (both the writer's, carried to
 * readers untouched), and wake every reader. Returns the slot's sequence
 * number.
 */
uint64_t cw_ring_publish(CwRing *ring, uint32_t len, uint32_t flags, int64_t stamp);

/* Sequence the writer will publish next. */
uint64_t cw_ring_write_seq(const CwRing *ring);

/* --- Readers --- */

/*
 * Claim a reader entry for `role` (e.g. "record"). An entry already held by
 * the same role belongs to a previous instance of this stage, which is gone,
 * so it is taken over (its counters start again at 0). The reader starts at
 * the current write sequence (it sees only what is published from now on).
 * Returns 0 or -EBUSY when all entries are taken.
 */
int cw_ring_attach(CwRing *ring, const char *role, CwRingReader *reader);

/* Release the reader's entry; does nothing for a reader not attached. */
void cw_ring_detach(CwRingReader *reader);

/* Sequence this reader reads next (cw_ring_next() starts there). */
uint64_t cw_ring_reader_next(const CwRingReader *reader);

/*
 * Make `seq` the next sequence this reader wants: further back to read what
 * is still in the ring (record's pre-roll), or cw_ring_write_seq() to skip
 * to the head. Skipping is chosen, so it is not counted as an overrun.
 */
void cw_ring_reader_seek(CwRingReader *reader, uint64_t seq);

/*
 * Wait until a slot at or after the reader's next sequence is published, at
 * most `timeout_ms`; a signal ends the wait early (a stop request must reach
 * the caller promptly). Returns 1 if something is there to read, else 0.
 */
int cw_ring_wait(CwRingReader *reader, int timeout_ms);

/*
 * Take a view of slot `seq`. Returns 0 (view filled), -EAGAIN (not yet
 * published), -ESTALE (overwritten, or being overwritten) or -ENODATA (an
 * older sequence whose slot was never written: the ring is younger). The payload may
 * still be overwritten while it is used: check cw_ring_view_intact() after
 * using it and discard what was read if it returns false.
 */
int cw_ring_peek(const CwRing *ring, uint64_t seq, CwRingView *view);

/* True if the slot behind `view` was not touched since cw_ring_peek(). */
bool cw_ring_view_intact(const CwRing *ring, const CwRingView *view);

/*
 * Next slot in order for this reader. When the reader fell behind, it skips
 * to the oldest intact slot and counts the skipped ones as overruns.
 * Returns 0 or -EAGAIN when nothing new is published. The caller uses the
 * view, then calls cw_ring_done().
 */
int cw_ring_next(CwRingReader *reader, CwRingView *view);

/*
 * Newest slot, skipping everything older not yet read: for readers where
 * real time beats completeness (skipped slots are chosen, not overruns).
 * Returns 0 or -EAGAIN.
 */
int cw_ring_latest(CwRingReader *reader, CwRingView *view);

/*
 * Finish with a view taken by cw_ring_next()/cw_ring_latest(): returns true
 * if it stayed intact while used (count it as consumed), false if it was
 * torn (discard what was read; counted as an overrun).
 */
bool cw_ring_done(CwRingReader *reader, const CwRingView *view);

/* Overruns counted for this reader since it attached. */
uint64_t cw_ring_overruns(const CwRingReader *reader);

/*
 * Reader entry `index` (0 to CW_RING_MAX_READERS - 1), for a status report.
 * Returns 0 and fills *status if a reader holds the entry, -ENOENT if it is
 * free, -EINVAL for an index out of range. The counters move while the
 * reader runs; a role read during its reader's attach may be cut short.
 */
int cw_ring_reader_status(const CwRing *ring, int index, CwRingReaderStatus *status);

#endif /* CAMWATCH_RING_H */
