/*
 * camwatch's rings: see rings.h for the contract.
 *
 * Memory ordering in the user area:
 *   heartbeats: relaxed stores and loads. A heartbeat is a time and nothing
 *     else; no other data is published with it, so nothing pairs with it.
 *   stream parameters, a seqlock per stream (one writer: the ring's):
 *     set: lock = odd (relaxed); release fence; params; lock = even (release)
 *     get: lock (acquire) pairs with set's final release store: a reader that
 *          sees the even value sees the params stored before it. Copy;
 *          acquire fence; lock re-read (relaxed): the fence pairs with set's
 *          release fence, so a copy that saw any byte of a later set sees its
 *          odd (or a later) lock on the re-read, and is retried.
 *   the supervisor's status block and each stream's status: the same seqlock
 *     (locked_write(), locked_read()), one writer each (the supervisor;
 *     capture).
 */
#include "rings.h"

#include "clock.h"
#include "exitcode.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OPEN_TIMEOUT_MS 5000

static const char *const kind_names[CW_RING_KIND_COUNT] = {"packets", "frames", "events"};

void cw_rings_name(const CwConfig *cfg, enum CwRingKind kind, char *buf, size_t size)
{
    snprintf(buf, size, "/camwatch.%s.%s", cfg->camera, kind_names[kind]);
}

void cw_rings_geometry(const CwConfig *cfg, enum CwRingKind kind, CwRingGeometry *geo)
{
    geo->user_version = CW_RINGS_USER_VERSION;
    switch (kind) {
    case CW_RING_PACKETS:
        /* Descriptors for the pre-roll plus a wide margin at up to 60
         * packets a second; the bytes are bounded by PACKET_BUFFER_MB. */
        geo->slot_count = (uint32_t)((cfg->pre_capture_s + 30) * 60);
        geo->arena_size = (uint64_t)cfg->packet_buffer_mb << 20;
        break;
    case CW_RING_FRAMES:
        geo->slot_count = 16;
        geo->arena_size = (uint64_t)cfg->frame_buffer_mb << 20;
        break;
    default:
        /* A minute of events at the highest detection rate. */
        geo->slot_count = 4096;
        geo->arena_size = 4096 * 256; /* an event fits in 256 bytes */
        break;
    }
}

/* Open (creating if needed) the ring of `use`, and claim it if `use` is its
 * writer; logs what failed. */
static int open_one(const CwConfig *cfg, const CwRingUse *use)
{
    char name[64], err[512];
    CwRingGeometry geo;
    cw_rings_name(cfg, use->kind, name, sizeof(name));
    cw_rings_geometry(cfg, use->kind, &geo);
    int ret = cw_ring_open(use->ring, name, &geo, OPEN_TIMEOUT_MS, err, sizeof(err));
    if (ret < 0) {
        cw_error("%s", err);
        return ret;
    }
    if (use->writer && (ret = cw_ring_claim_writer(*use->ring)) < 0)
        return ret; /* logged by the claim; -EBUSY: another writer, maybe on its way out */
    return 0;
}

static int attach_one(const CwConfig *cfg, const CwRingUse *use)
{
    char name[64];
    int ret = cw_ring_attach(*use->ring, use->role, use->reader);
    if (ret < 0) {
        cw_rings_name(cfg, use->kind, name, sizeof(name));
        cw_error("cannot read ring %s as %s: all %d reader entries are taken", name, use->role,
                 CW_RING_MAX_READERS);
    }
    return ret;
}

int cw_rings_open_all(const CwConfig *cfg, const CwRingUse *uses, int count, int *exit_code)
{
    int opened = 0, attached = 0, ret = 0;
    /* Every ring opened and every writer claim taken before any reader
     * attaches: attaching takes over the entry of a reader of the same role
     * (a dead predecessor's), so a second instance of a stage that is then
     * refused its claim would have taken the running instance's entry. */
    for (; opened < count; opened++) {
        ret = open_one(cfg, &uses[opened]);
        if (ret < 0) {
            if (*uses[opened].ring)
                cw_ring_close(uses[opened].ring); /* open, but its claim failed */
            goto fail;
        }
    }
    for (; attached < count; attached++) {
        if (uses[attached].reader && (ret = attach_one(cfg, &uses[attached])) < 0)
            goto fail;
    }
    return 0;

fail:
    for (int i = 0; i < attached; i++)
        if (uses[i].reader)
            cw_ring_detach(uses[i].reader);
    for (int i = 0; i < opened; i++)
        cw_ring_close(uses[i].ring);
    *exit_code = cw_rings_exit_code(ret);
    return ret;
}

int cw_rings_exit_code(int err)
{
    switch (err) {
    case -EPROTO:
    case -ETIMEDOUT:
    case -EACCES:
    case -EPERM:
        return CW_EXIT_CONFIG; /* restarting cannot help */
    default:
        return CW_EXIT_TEMPFAIL;
    }
}

CwRingsUser *cw_rings_user(const CwRing *ring)
{
    return cw_ring_user_area(ring);
}

static CwRingsUser *user_of(const CwRing *ring)
{
    return cw_rings_user(ring);
}

/* --- Stages: names, and where each beats --- */

static const struct {
    const char *name;
    enum CwRingKind beat_ring;
} stages[CW_STAGE_COUNT] = {
    [CW_STAGE_CAPTURE] = {"camwatch-capture", CW_RING_PACKETS},
    [CW_STAGE_DETECT] = {"camwatch-detect", CW_RING_EVENTS},
    [CW_STAGE_RECORD] = {"camwatch-record", CW_RING_PACKETS},
    [CW_STAGE_HTTP] = {"camwatch-http", CW_RING_EVENTS},
    [CW_STAGE_CAPTURE_SUB] = {"camwatch-capture --role=sub", CW_RING_FRAMES},
    [CW_STAGE_MQTT] = {"camwatch-mqtt", CW_RING_EVENTS},
};

const char *cw_stage_name(enum CwStage stage)
{
    return stages[stage].name;
}

enum CwRingKind cw_stage_beat_ring(enum CwStage stage)
{
    return stages[stage].beat_ring;
}

/* --- Heartbeats --- */

void cw_rings_heartbeat(CwRing *ring, enum CwStage stage)
{
    atomic_store_explicit(&user_of(ring)->heartbeat_ns[stage], (uint64_t)cw_mono_ns(),
                          memory_order_relaxed);
}

int64_t cw_rings_heartbeat_ns(const CwRing *ring, enum CwStage stage)
{
    return (int64_t)atomic_load_explicit(&user_of(ring)->heartbeat_ns[stage], memory_order_relaxed);
}

/* --- Motion events --- */

/* Relaxed: a figure for status readers, ordered with nothing else. */
void cw_rings_count_motion(CwRing *ring)
{
    atomic_fetch_add_explicit(&user_of(ring)->motion_events, 1, memory_order_relaxed);
}

uint64_t cw_rings_motion_events(const CwRing *ring)
{
    return atomic_load_explicit(&user_of(ring)->motion_events, memory_order_relaxed);
}

/* --- Pauses --- */

/* Relaxed: a pause is a setting read on every frame or event, not data
 * published with it; seeing it one frame late is fine. */
uint32_t cw_rings_paused(const CwRing *ring)
{
    return atomic_load_explicit(&user_of(ring)->paused, memory_order_relaxed);
}

void cw_rings_set_paused(CwRing *ring, uint32_t what, bool paused)
{
    if (paused)
        atomic_fetch_or_explicit(&user_of(ring)->paused, what, memory_order_relaxed);
    else
        atomic_fetch_and_explicit(&user_of(ring)->paused, ~what, memory_order_relaxed);
}

/* --- Stream parameters --- */

int cw_rings_set_params(CwRing *ring, unsigned stream, const CwStreamParams *params,
                        uint64_t *epoch)
{
    if (stream >= CW_STREAM_MAX)
        return -EINVAL;
    CwRingsStream *s = &user_of(ring)->streams[stream];
    uint64_t lock = atomic_load_explicit(&s->lock, memory_order_relaxed);
    /* The epoch is the number of completed publications, derived from the
     * lock rather than from the params: a writer killed in the middle of
     * the copy below leaves the lock odd but the params half written, and
     * its successor must still count on from the last epoch readers saw. */
    uint64_t next_epoch = ((lock | 1) + 1) / 2;
    atomic_store_explicit(&s->lock, lock | 1, memory_order_relaxed);
    /* The odd lock must be visible before any byte of the new params is. */
    atomic_thread_fence(memory_order_release);
    s->params = *params;
    s->params.epoch = next_epoch;
    /* Pairs with the acquire load of the lock in cw_rings_get_params(). */
    atomic_store_explicit(&s->lock, (lock | 1) + 1, memory_order_release);
    *epoch = next_epoch;
    return 0;
}

int cw_rings_get_params(const CwRing *ring, unsigned stream, CwStreamParams *params)
{
    if (stream >= CW_STREAM_MAX)
        return -EINVAL;
    const CwRingsStream *s = &user_of(ring)->streams[stream];
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t l1 = atomic_load_explicit(&s->lock, memory_order_acquire);
        if (l1 == 0)
            return -EAGAIN; /* never published */
        if (l1 & 1) {
            usleep(100); /* the writer is between its two stores: a few microseconds */
            continue;
        }
        memcpy(params, (const void *)&s->params, sizeof(*params));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->lock, memory_order_relaxed) == l1)
            return 0;
    }
    return -EAGAIN;
}

/* --- Blocks under a seqlock of their own: the lock first, one writer --- */

/* Copy `size` bytes of `src` over `block`, both starting with their lock. */
static void locked_write(void *block, const void *src, size_t size)
{
    _Atomic uint64_t *lock_p = block;
    uint64_t lock = atomic_load_explicit(lock_p, memory_order_relaxed);
    atomic_store_explicit(lock_p, lock | 1, memory_order_relaxed);
    /* As in cw_rings_set_params(): the odd lock before any byte. */
    atomic_thread_fence(memory_order_release);
    memcpy((char *)block + sizeof(*lock_p), (const char *)src + sizeof(*lock_p),
           size - sizeof(*lock_p));
    /* Pairs with the acquire load in locked_read(). */
    atomic_store_explicit(lock_p, (lock | 1) + 1, memory_order_release);
}

/* Copy `block` into `dst` (both `size` bytes, lock first) once it reads
 * whole. Returns 0, or -EAGAIN: never written, or changing all along. */
static int locked_read(const void *block, void *dst, size_t size)
{
    const _Atomic uint64_t *lock_p = block;
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t l1 = atomic_load_explicit(lock_p, memory_order_acquire);
        if (l1 == 0)
            return -EAGAIN;
        if (l1 & 1) {
            usleep(100);
            continue;
        }
        memcpy((char *)dst + sizeof(*lock_p), (const char *)block + sizeof(*lock_p),
               size - sizeof(*lock_p));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(lock_p, memory_order_relaxed) == l1) {
            atomic_store_explicit((_Atomic uint64_t *)dst, l1, memory_order_relaxed);
            return 0;
        }
    }
    return -EAGAIN;
}

/* --- The supervisor's status block --- */

void cw_rings_set_sup_status(CwRing *ring, const CwSupStatus *status)
{
    locked_write(&user_of(ring)->supervisor, status, sizeof(*status));
}

int cw_rings_get_sup_status(const CwRing *ring, CwSupStatus *status)
{
    return locked_read(&user_of(ring)->supervisor, status, sizeof(*status));
}

/* --- What capture reports of a stream --- */

int cw_rings_set_stream_status(CwRing *ring, unsigned stream, const CwStreamStatus *status)
{
    if (stream >= CW_STREAM_MAX)
        return -EINVAL;
    locked_write(&user_of(ring)->stream_status[stream].status, status, sizeof(*status));
    return 0;
}

int cw_rings_stream_status_as_left(const CwRing *ring, unsigned stream, CwStreamStatus *status)
{
    if (stream >= CW_STREAM_MAX)
        return -EINVAL;
    /* The one writer reading its own block: no lock to wait for. An odd
     * lock means the previous writer was killed while it copied; a figure
     * torn then is a figure from one of two seconds. */
    memcpy(status, (const void *)&user_of(ring)->stream_status[stream].status, sizeof(*status));
    status->last_error[sizeof(status->last_error) - 1] = '\0';
    status->transport[sizeof(status->transport) - 1] = '\0';
    return 0;
}

int cw_rings_get_stream_status(const CwRing *ring, unsigned stream, CwStreamStatus *status)
{
    if (stream >= CW_STREAM_MAX)
        return -EINVAL;
    int ret = locked_read(&user_of(ring)->stream_status[stream].status, status, sizeof(*status));
    if (ret < 0)
        memset(status, 0, sizeof(*status));
    return ret;
}
