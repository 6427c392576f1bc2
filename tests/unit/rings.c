/*
 * camwatch's use of the ring: stream parameters and heartbeats in the user
 * area, the one helper that opens a process's rings, and the exit code a
 * ring failure becomes.
 */
#define _GNU_SOURCE
#include "check.h"
#include "clock.h"
#include "exitcode.h"
#include "rings.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static char ring_name[64];

static CwRing *fresh_ring(void)
{
    char err[256];
    CwRingGeometry geo = {
        .slot_count = 8, .arena_size = 4096, .user_version = CW_RINGS_USER_VERSION};
    CwRing *r = NULL;
    snprintf(ring_name, sizeof(ring_name), "/camwatch.unittest-%d.rings", (int)getpid());
    cw_ring_unlink(ring_name);
    CHECK(cw_ring_open(&r, ring_name, &geo, 1000, err, sizeof(err)) == 0);
    return r;
}

static void drop_ring(CwRing **r)
{
    cw_ring_close(r);
    CHECK(cw_ring_unlink(ring_name) == 0);
}

static void child_done(pid_t pid)
{
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Published, read back (here and by another process), epoch bumped; each
 * stream on its own. */
static void test_params_published(void)
{
    CwRing *r = fresh_ring();
    static CwStreamParams p, out;
    uint64_t epoch = 0;
    CHECK(cw_rings_get_params(r, CW_STREAM_MAIN, &out) == -EAGAIN); /* nothing yet */
    p.epoch = 99; /* ignored: the ring counts epochs */
    p.codec_id = 27;
    p.width = 1920;
    p.height = 1080;
    p.time_base_num = 1;
    p.time_base_den = 90000;
    p.extradata_size = 3;
    memcpy(p.extradata, "\x01\x02\x03", 3);
    CHECK(cw_rings_set_params(r, CW_STREAM_MAIN, &p, &epoch) == 0);
    CHECK_EQ_U64(epoch, 1);
    CHECK(cw_rings_get_params(r, CW_STREAM_MAIN, &out) == 0);
    CHECK_EQ_U64(out.epoch, 1);
    CHECK(out.width == 1920 && out.height == 1080 && out.codec_id == 27);
    CHECK(out.time_base_num == 1 && out.time_base_den == 90000);
    CHECK(out.extradata_size == 3 && memcmp(out.extradata, "\x01\x02\x03", 3) == 0);
    p.width = 1280;
    CHECK(cw_rings_set_params(r, CW_STREAM_MAIN, &p, &epoch) == 0);
    CHECK_EQ_U64(epoch, 2);

    /* Another stream has its own parameters and epochs. */
    CHECK(cw_rings_get_params(r, 1, &out) == -EAGAIN);
    p.codec_id = 86018; /* AAC */
    CHECK(cw_rings_set_params(r, 1, &p, &epoch) == 0);
    CHECK_EQ_U64(epoch, 1);
    CHECK(cw_rings_get_params(r, 1, &out) == 0 && out.epoch == 1 && out.codec_id == 86018);
    CHECK(cw_rings_get_params(r, CW_STREAM_MAIN, &out) == 0);
    CHECK(out.epoch == 2 && out.width == 1280 && out.codec_id == 27);
    CHECK(cw_rings_set_params(r, CW_STREAM_MAX, &p, &epoch) == -EINVAL);
    CHECK(cw_rings_get_params(r, CW_STREAM_MAX, &out) == -EINVAL);

    /* A reader process sees the same. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char err[256];
        CwRing *other = NULL;
        CHECK(cw_ring_open(&other, ring_name, NULL, 1000, err, sizeof(err)) == 0);
        CHECK(cw_rings_get_params(other, CW_STREAM_MAIN, &out) == 0);
        CHECK(out.epoch == 2 && out.width == 1280);
        _exit(0);
    }
    child_done(pid);

    /* A writer killed in the middle of publishing (epoch 3) left the lock
     * odd and the params half copied, their epoch field still the caller's
     * 0: its successor counts on from what readers last saw, never back to 1. */
    CwRingsStream *main_stream = &((CwRingsUser *)cw_ring_user_area(r))->streams[CW_STREAM_MAIN];
    atomic_fetch_add(&main_stream->lock, 1);
    main_stream->params.epoch = 0;
    CHECK(cw_rings_get_params(r, CW_STREAM_MAIN, &out) == -EAGAIN); /* never torn */
    CHECK(cw_rings_set_params(r, CW_STREAM_MAIN, &p, &epoch) == 0);
    CHECK_EQ_U64(epoch, 3);
    CHECK(cw_rings_get_params(r, CW_STREAM_MAIN, &out) == 0 && out.epoch == 3);
    drop_ring(&r);
}

/*
 * A reader never gets a mix of two publications: a writer process publishes
 * parameters whose every field is derived from their epoch as fast as it
 * can, while this one reads them.
 */
static void test_params_never_torn(void)
{
    CwRing *r = fresh_ring();
    static CwStreamParams p, out;
    uint64_t epoch;
    p.extradata_size = CW_STREAM_EXTRADATA_MAX;
    CHECK(cw_rings_set_params(r, CW_STREAM_MAIN, &p, &epoch) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int64_t end = cw_mono_ns() + 500 * CW_NS_PER_MSEC;
        for (uint64_t next = 2; cw_mono_ns() < end; next++) {
            p.width = p.height = (int32_t)next;
            memset(p.extradata, (int)(next & 0xff), sizeof(p.extradata));
            CHECK(cw_rings_set_params(r, CW_STREAM_MAIN, &p, &epoch) == 0 && epoch == next);
        }
        _exit(0);
    }
    uint64_t reads = 0, epochs_seen = 0, last = 0;
    int status;
    pid_t gone = 0;
    /* Read for as long as the writer writes, however the machine schedules it. */
    while ((gone = waitpid(pid, &status, WNOHANG)) == 0) {
        if (cw_rings_get_params(r, CW_STREAM_MAIN, &out) != 0)
            continue; /* the writer kept it busy: allowed, not a torn read */
        reads++;
        if (out.epoch == 1)
            continue; /* the first publication, made before the writer started */
        CHECK_EQ_U64((uint64_t)out.width, out.epoch);
        CHECK_EQ_U64((uint64_t)out.height, out.epoch);
        for (size_t i = 0; i < sizeof(out.extradata); i++)
            if (out.extradata[i] != (uint8_t)out.epoch) {
                fprintf(stderr, "epoch %llu: extradata[%zu] is %u, a mix of two publications\n",
                        (unsigned long long)out.epoch, i, out.extradata[i]);
                exit(1);
            }
        epochs_seen += out.epoch != last;
        last = out.epoch;
    }
    CHECK(gone == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("params: %llu reads, %llu distinct epochs, none torn\n", (unsigned long long)reads,
           (unsigned long long)epochs_seen);
    CHECK(epochs_seen >= 2); /* read while the writer was publishing */
    drop_ring(&r);
}

/* Stored and read through the accessor, per stage, across processes. */
static void test_heartbeats(void)
{
    CwRing *r = fresh_ring();
    for (int s = 0; s < CW_STAGE_COUNT; s++)
        CHECK(cw_rings_heartbeat_ns(r, (enum CwStage)s) == 0); /* never beat */
    int64_t t0 = cw_mono_ns();
    cw_rings_heartbeat(r, CW_STAGE_DETECT);
    int64_t t1 = cw_mono_ns();
    int64_t beat = cw_rings_heartbeat_ns(r, CW_STAGE_DETECT);
    CHECK(beat >= t0 && beat <= t1);
    CHECK(cw_rings_heartbeat_ns(r, CW_STAGE_CAPTURE) == 0);
    CHECK(cw_rings_heartbeat_ns(r, CW_STAGE_RECORD) == 0);

    pid_t pid = fork(); /* a stage beats in its own process */
    CHECK(pid >= 0);
    if (pid == 0) {
        usleep(2000);
        cw_rings_heartbeat(r, CW_STAGE_RECORD);
        _exit(0);
    }
    child_done(pid);
    CHECK(cw_rings_heartbeat_ns(r, CW_STAGE_RECORD) > t1);
    CHECK(cw_rings_heartbeat_ns(r, CW_STAGE_RECORD) <= cw_mono_ns());
    CHECK_EQ_U64(cw_rings_heartbeat_ns(r, CW_STAGE_DETECT), beat); /* untouched */
    drop_ring(&r);
}

/* What capture reports of a stream: nothing before the first report, then
 * what was written, per stream, read across processes. */
static void test_stream_status(void)
{
    CwRing *r = fresh_ring();
    CwStreamStatus st, got;
    CHECK(cw_rings_get_stream_status(r, CW_STREAM_MAIN, &got) == -EAGAIN);
    CHECK(got.connections == 0 && got.last_error[0] == '\0');
    CHECK(cw_rings_get_stream_status(r, CW_STREAM_MAX, &got) == -EINVAL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        memset(&st, 0, sizeof(st));
        st.connections = 3;
        st.bytes = 123456789012ULL;
        st.input_fps = 9.5f;
        snprintf(st.transport, sizeof(st.transport), "UDP");
        st.last_error_wall_ns = 42;
        snprintf(st.last_error, sizeof(st.last_error), "camera stalled");
        _exit(cw_rings_set_stream_status(r, CW_STREAM_MAIN, &st) == 0 ? 0 : 1);
    }
    child_done(pid);
    CHECK(cw_rings_get_stream_status(r, CW_STREAM_MAIN, &got) == 0);
    CHECK_EQ_U64(got.connections, 3);
    CHECK_EQ_U64(got.bytes, 123456789012ULL);
    CHECK(got.input_fps == 9.5f && strcmp(got.transport, "UDP") == 0);
    CHECK(got.last_error_wall_ns == 42 && strcmp(got.last_error, "camera stalled") == 0);
    CHECK(cw_rings_get_stream_status(r, CW_STREAM_AUDIO, &got) == -EAGAIN); /* its own entry */
    drop_ring(&r);
}

static CwConfig cfg;

static void unlink_rings(const CwConfig *c)
{
    char name[64];
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++) {
        cw_rings_name(c, (enum CwRingKind)kind, name, sizeof(name));
        cw_ring_unlink(name);
    }
}

/* True if some reader entry of the ring `kind` is held by `role`. */
static bool has_reader(enum CwRingKind kind, const char *role)
{
    char name[64], err[256];
    CwRing *r = NULL;
    CwRingReaderStatus st;
    bool found = false;
    cw_rings_name(&cfg, kind, name, sizeof(name));
    CHECK(cw_ring_open(&r, name, NULL, 1000, err, sizeof(err)) == 0);
    for (int i = 0; i < CW_RING_MAX_READERS; i++)
        if (cw_ring_reader_status(r, i, &st) == 0 && strcmp(st.role, role) == 0)
            found = true;
    cw_ring_close(&r);
    return found;
}

/* One call opens, claims and attaches; a failure says how to exit and
 * leaves nothing open or attached. */
static void test_open_all(void)
{
    CwRing *packets = NULL, *frames = NULL;
    CwRingReader reader;
    int code = -1;
    snprintf(cfg.camera, sizeof(cfg.camera), "unittest-rings-%d", (int)getpid());
    cfg.pre_capture_s = 1;
    cfg.packet_buffer_mb = 1;
    cfg.frame_buffer_mb = 1;
    unlink_rings(&cfg);

    const CwRingUse uses[] = {
        {.kind = CW_RING_PACKETS, .ring = &packets, .writer = true},
        {.kind = CW_RING_FRAMES, .ring = &frames, .reader = &reader, .role = "first"},
    };
    CHECK(cw_rings_open_all(&cfg, uses, 2, &code) == 0);
    CHECK(code == -1); /* only set on failure */
    CHECK(packets && frames);
    CHECK(cw_ring_writer_pid(packets) == getpid());
    CHECK(cw_ring_writer_pid(frames) == 0);
    CHECK(has_reader(CW_RING_FRAMES, "first"));

    /* A second instance of the same stage (another process, same role):
     * its packets claim fails with -EBUSY and 75, and the running
     * instance keeps its reader entry (attaching would have taken it over). */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CwRing *p2 = NULL, *f2 = NULL;
        CwRingReader rd2;
        int code2 = -1;
        const CwRingUse again[] = {
            {.kind = CW_RING_FRAMES, .ring = &f2, .reader = &rd2, .role = "first"},
            {.kind = CW_RING_PACKETS, .ring = &p2, .writer = true},
        };
        CHECK(cw_rings_open_all(&cfg, again, 2, &code2) == -EBUSY);
        CHECK(code2 == CW_EXIT_TEMPFAIL);
        CHECK(p2 == NULL && f2 == NULL);
        _exit(0);
    }
    child_done(pid);
    CHECK(has_reader(CW_RING_FRAMES, "first"));

    /* A ring of another geometry in the way: a person must act (78). */
    CwConfig other = cfg;
    other.frame_buffer_mb = 2;
    CwRing *f3 = NULL;
    const CwRingUse bigger[] = {{.kind = CW_RING_FRAMES, .ring = &f3}};
    CHECK(cw_rings_open_all(&other, bigger, 1, &code) == -EPROTO);
    CHECK(code == CW_EXIT_CONFIG);
    CHECK(f3 == NULL);

    cw_ring_detach(&reader);
    CHECK(!has_reader(CW_RING_FRAMES, "first"));
    cw_ring_close(&frames);
    cw_ring_close(&packets);
    unlink_rings(&cfg);
}

static void test_exit_codes(void)
{
    CHECK(cw_rings_exit_code(-EPROTO) == CW_EXIT_CONFIG);
    CHECK(cw_rings_exit_code(-ETIMEDOUT) == CW_EXIT_CONFIG);
    CHECK(cw_rings_exit_code(-EACCES) == CW_EXIT_CONFIG);
    CHECK(cw_rings_exit_code(-EPERM) == CW_EXIT_CONFIG);
    CHECK(cw_rings_exit_code(-EBUSY) == CW_EXIT_TEMPFAIL);
    CHECK(cw_rings_exit_code(-ENOMEM) == CW_EXIT_TEMPFAIL);
    CHECK(cw_rings_exit_code(-ENOSPC) == CW_EXIT_TEMPFAIL);
}

int main(void)
{
    RUN(test_params_published);
    RUN(test_params_never_torn);
    RUN(test_heartbeats);
    RUN(test_stream_status);
    RUN(test_open_all);
    RUN(test_exit_codes);
    return 0;
}
