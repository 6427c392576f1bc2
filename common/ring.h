/*
 * camwatch shared-memory ring: one writer that never waits, up to
 * CW_RING_MAX_READERS readers, in POSIX shared memory.
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

#define CW_RING_MAGIC         0x43574d52474e4731ULL /* "CWMRGNG1" */
#define CW_RING_VERSION       1
#define CW_RING_MAX_READERS   8
#define CW_RING_ROLE_MAX      16
#define CW_RING_EXTRADATA_MAX 4096

/* Slot flags. */
#define CW_SLOT_KEY 0x1u /* packet is a keyframe */

/* Stages that leave a heartbeat in a ring header. */
enum CwStage { CW_STAGE_CAPTURE, CW_STAGE_DETECT, CW_STAGE_RECORD, CW_STAGE_COUNT };

/*
 * Stream parameters of the packets in a ring, published by the writer under
 * their own seqlock (`CwRingHeader.params_lock`). `epoch` is bumped every
 * time they are published, so readers notice a reconnect or a change.
 */
typedef struct CwStreamParams {
    uint64_t epoch;
    int32_t codec_id; /* enum AVCodecID */
    int32_t width;
    int32_t height;
    int32_t time_base_num;
    int32_t time_base_den;
    int32_t frame_rate_num;
    int32_t frame_rate_den;
    uint32_t extradata_size;
    uint8_t extradata[CW_RING_EXTRADATA_MAX];
} CwStreamParams;

typedef struct CwRingReaderEntry {
    _Atomic uint32_t in_use; /* 0 free, 1 claimed */
    int32_t pid;
    char role[CW_RING_ROLE_MAX];
    _Atomic uint64_t overruns; /* slots this reader lost to the writer */
    _Atomic uint64_t consumed; /* slots this reader accepted */
    _Atomic uint64_t heartbeat_ns;
    sem_t wake;
} __attribute__((aligned(128))) CwRingReaderEntry;

typedef struct CwRingHeader {
    _Atomic uint64_t magic; /* stored last, with release, by the creator */
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_count; /* power of two */
    uint32_t reserved0;
    uint64_t arena_size; /* power of two */
    uint64_t total_size;
    /* Writer state. */
    _Atomic uint64_t write_seq;     /* next sequence to be published */
    _Atomic uint64_t arena_reserve; /* end of the newest arena reservation */
    _Atomic uint64_t arena_head;    /* where the next reservation starts */
    _Atomic int32_t writer_pid;
    uint32_t reserved1;
    _Atomic uint64_t heartbeat_ns[CW_STAGE_COUNT]; /* CLOCK_MONOTONIC */
    /* Stream parameters under a seqlock: odd while being written. */
    _Atomic uint64_t params_lock;
    CwStreamParams params;
    CwRingReaderEntry readers[CW_RING_MAX_READERS]; /* 128-byte aligned */
} CwRingHeader;

typedef struct CwRingDesc {
    _Atomic uint64_t lock; /* 2*seq+1 while writing, 2*seq+2 when published */
    uint64_t offset;       /* free-running arena position of the payload */
    uint32_t len;
    uint32_t flags;
    int64_t stamp; /* writer-defined time (capture: CLOCK_REALTIME ns) */
} CwRingDesc;

_Static_assert(sizeof(CwRingReaderEntry) == 128, "reader entry layout");
_Static_assert(sizeof(CwRingDesc) == 32, "descriptor layout");
_Static_assert(sizeof(CwRingHeader) % 128 == 0, "header keeps descriptors aligned");
_Static_assert(offsetof(CwRingHeader, magic) == 0, "magic first");
_Static_assert(offsetof(CwRingHeader, readers) % 64 == 0, "readers aligned");

/* Geometry requested by the opener; rounded up to powers of two. */
typedef struct CwRingGeometry {
    uint32_t slot_count;
    uint64_t arena_size;
} CwRingGeometry;

/* Process-local handle on a mapped ring. */
typedef struct CwRing {
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
} CwRing;

typedef struct CwRingReader {
    CwRing *ring;
    CwRingReaderEntry *entry;
    uint64_t next; /* next sequence this reader wants */
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
 * magic last). An opener that finds it existing waits up to `timeout_ms` for
 * the creator to finish, then checks that the geometry matches `geo`.
 * Returns 0 and sets *ring, or a negative errno: -EPROTO for a foreign or
 * incompatible ring (message in err), -ETIMEDOUT if never initialised.
 */
int cw_ring_open(CwRing **ring, const char *name, const CwRingGeometry *geo, int timeout_ms,
                 char *err, size_t err_size);

/* Unmap and free the handle; sets *ring to NULL. The ring stays in /dev/shm. */
void cw_ring_close(CwRing **ring);

/* Remove the ring's name from /dev/shm. Returns 0 or a negative errno. */
int cw_ring_unlink(const char *name);

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

/*
 * Start writing the next slot with room for `len` payload bytes. Returns a
 * pointer into the arena to fill, or NULL if `len` exceeds half the arena
 * (such a payload could never be read intact). Marks the slot as being
 * written: readers discard it until cw_ring_publish().
 */
void *cw_ring_reserve(CwRing *ring, uint32_t len);

/*
 * Publish the slot started by cw_ring_reserve() with its final length
 * (<= the reserved length), flags and stamp, and wake every reader.
 * Returns the slot's sequence number.
 */
uint64_t cw_ring_publish(CwRing *ring, uint32_t len, uint32_t flags, int64_t stamp);

/* Publish new stream parameters; bumps and returns the epoch. */
uint64_t cw_ring_set_params(CwRing *ring, const CwStreamParams *params);

/* Copy the current stream parameters. Returns 0, or -EAGAIN if none yet. */
int cw_ring_get_params(const CwRing *ring, CwStreamParams *params);

/* Record that `stage` is alive (CLOCK_MONOTONIC now). */
void cw_ring_heartbeat(CwRing *ring, enum CwStage stage);

/* --- Readers --- */

/*
 * Claim a reader entry for `role` (e.g. "record"). An entry already held by
 * the same role belongs to a previous instance of this stage, which is gone,
 * so it is taken over. The reader starts at the current write sequence (it
 * sees only what is published from now on). Returns 0 or -EBUSY when all
 * entries are taken.
 */
int cw_ring_attach(CwRing *ring, const char *role, CwRingReader *reader);

/* Release the reader's entry. */
void cw_ring_detach(CwRingReader *reader);

/*
 * Wait until a slot newer than reader->next - 1 is published, at most
 * `timeout_ms`. Returns 1 if something is there to read, 0 on timeout.
 */
int cw_ring_wait(CwRingReader *reader, int timeout_ms);

/* Sequence the writer will publish next. */
uint64_t cw_ring_write_seq(const CwRing *ring);

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

/* Overruns counted for this reader so far. */
uint64_t cw_ring_overruns(const CwRingReader *reader);

#endif /* CAMWATCH_RING_H */
