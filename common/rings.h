/*
 * camwatch's use of the ring (ring.h), for the three rings of one camera:
 * their names and sizes, derived from the configuration, so that every stage
 * (and the supervisor) opens the same geometry; the one helper every process
 * opens them through; and what camwatch keeps in each ring's user area:
 * stage heartbeats and, in the packets ring, the stream parameters.
 *
 * Errors: negative errno values, as in ring.h; only cw_rings_exit_code()
 * turns one into a process exit code.
 */
#ifndef CAMWATCH_RINGS_H
#define CAMWATCH_RINGS_H

#include <stdbool.h>

#include "config.h"
#include "log.h"
#include "payload.h"
#include "ring.h"

enum CwRingKind { CW_RING_PACKETS, CW_RING_FRAMES, CW_RING_EVENTS, CW_RING_KIND_COUNT };

/* Stages that leave a heartbeat in a ring's user area. */
enum CwStage {
    CW_STAGE_CAPTURE,
    CW_STAGE_DETECT,
    CW_STAGE_RECORD,
    CW_STAGE_HTTP, /* optional (HTTP_LISTEN); a reader outside the data path */
    /* With DETECT_URL: the capture worker that decodes the sub-stream into
     * the frames ring (camwatch-capture --role=sub), beside CW_STAGE_CAPTURE,
     * which then only copies the main stream's packets. */
    CW_STAGE_CAPTURE_SUB,
    CW_STAGE_MQTT, /* optional (MQTT_URL); a reader outside the data path */
    CW_STAGE_COUNT
};

/* Layout version of CwRingsUser (CwRingGeometry.user_version): bump it with
 * any change of the struct below, or of the payloads in payload.h.
 * 7: CLOCK_MONOTONIC stamps in packet, frame and event payloads. */
#define CW_RINGS_USER_VERSION 7
/* Heartbeat places: the three stages, and room for the readers to come. */
#define CW_RINGS_HEARTBEAT_MAX 8
/* Bytes set aside per stream for its status figures (see CwRingsUser). */
#define CW_RINGS_STREAM_STATUS_SIZE 512

/*
 * What capture reports of one stream, for `camwatch status`, /metrics and
 * MQTT (cw_rings_set_stream_status()). Counters run across connections and
 * capture processes (each new capture counts on from what it finds), until
 * the rings are made again. Times are CLOCK_REALTIME ns.
 */
typedef struct CwStreamStatus {
    _Atomic uint64_t lock;      /* 0 never written, odd while being written */
    int64_t connected_wall_ns;  /* start of the current connection; 0: not connected */
    uint64_t connections;       /* successful connects: the first, then each reconnect */
    uint64_t packets;           /* read from the camera */
    uint64_t bytes;             /* of those packets */
    uint64_t packets_lost;      /* RTP packets that never came */
    uint64_t pictures_decoded;  /* by a capture that decodes */
    uint64_t pictures_withheld; /* damaged pictures kept from detection */
    float input_fps;            /* video packets a second, over the last second */
    float bitrate_kbps;         /* over the last second */
    char transport[16];         /* "TCP", "UDP", ...; "" when not RTSP */
    int64_t last_error_wall_ns; /* 0: no error logged yet */
    char last_error[CW_LOG_LAST_ERROR_MAX];
} CwStreamStatus;

/* One stream's parameters under their own seqlock (cw_rings_set_params()). */
typedef struct CwRingsStream {
    _Atomic uint64_t lock; /* 0 never published, odd while being written */
    CwStreamParams params;
} __attribute__((aligned(64))) CwRingsStream;

/* A stage as the supervisor last saw it (CwStageStatus.state). */
enum CwStageRunState {
    CW_STAGE_UNKNOWN = 0, /* no supervisor wrote it: absent, or started by hand */
    CW_STAGE_IDLE,        /* configured, not started yet */
    CW_STAGE_RUNNING,     /* a process exists */
    CW_STAGE_WAITING,     /* dead; a restart is scheduled */
    CW_STAGE_STOPPED,     /* dead for good (a stop, or the policy gave up) */
    CW_STAGE_DISABLED,    /* optional and not configured (camwatch-http without HTTP_LISTEN) */
};

/* One stage in the supervisor's status block. Times are CLOCK_REALTIME ns. */
typedef struct CwStageStatus {
    int32_t state;            /* enum CwStageRunState */
    int32_t pid;              /* of the running instance; 0 when none */
    int64_t started_wall_ns;  /* start of the running (or last) instance; 0: never */
    uint32_t restarts;        /* starts after the first */
    int32_t last_exit_status; /* of the last death; valid when last_exit_wall_ns != 0 */
    int32_t last_exit_signal; /* the signal that killed it; 0 for an exit */
    uint32_t reserved;
    int64_t last_exit_wall_ns; /* when the last death was seen; 0: never died */
} CwStageStatus;

/*
 * What the supervisor publishes for `camwatch status` and the HTTP stage:
 * its own pid and start, the camera's state, and its stage table, written
 * on every change under a seqlock of its own (one writer: the supervisor).
 */
typedef struct CwSupStatus {
    _Atomic uint64_t lock;  /* 0 never written, odd while being written */
    int32_t supervisor_pid; /* 0: no supervisor ever ran on these rings */
    int32_t camera_online;  /* 1 while packets arrive (within the last 5 s) */
    int64_t started_wall_ns;
    int64_t camera_since_wall_ns; /* when camera_online took its value; 0: never */
    uint32_t camera_attempts;     /* failed connects in the current outage */
    uint32_t reserved;
    CwStageStatus stages[CW_RINGS_HEARTBEAT_MAX]; /* by enum CwStage */
} __attribute__((aligned(64))) CwSupStatus;

_Static_assert(sizeof(CwStageStatus) == 40, "stage status layout");
_Static_assert(offsetof(CwStageStatus, restarts) == 16, "stage status layout");
_Static_assert(offsetof(CwStageStatus, last_exit_wall_ns) == 32, "stage status layout");
_Static_assert(offsetof(CwSupStatus, started_wall_ns) == 16, "supervisor status layout");
_Static_assert(offsetof(CwSupStatus, stages) == 40, "supervisor status layout");
_Static_assert(sizeof(CwSupStatus) == 384, "supervisor status layout");

/*
 * What camwatch keeps in every ring's user area (cw_ring_user_area()). All
 * three rings have one; each stage beats where the supervisor looks for it
 * (capture and record: packets, detect: events; capture also beats in
 * frames; the sub-stream's capture: frames), and the stream parameters are
 * in the packets ring, except that with DETECT_URL the frames ring's
 * CW_STREAM_MAIN entry holds the sub-stream's (their epoch is the frames').
 */
typedef struct CwRingsUser {
    /* CLOCK_MONOTONIC ns of each stage's last sign of life, by enum CwStage. */
    _Atomic uint64_t heartbeat_ns[CW_RINGS_HEARTBEAT_MAX];
    /* By stream index (CwPacketHeader.stream): CW_STREAM_MAIN and CW_STREAM_AUDIO. */
    CwRingsStream streams[CW_STREAM_MAX];
    /* By stream index, what capture reports of the stream (cw_rings_set_stream_status());
     * with DETECT_URL the frames ring's CW_STREAM_MAIN is the sub-stream's. */
    union {
        CwStreamStatus status;
        uint8_t room[CW_RINGS_STREAM_STATUS_SIZE];
    } stream_status[CW_STREAM_MAX];
    /* The RTSP transport RTSP_TRANSPORT=auto found working (capture's
     * CaptureTransport; 0: none yet), kept here because a reconnect is a
     * new capture process and the rings outlive it. */
    _Atomic uint32_t rtsp_transport;
    /* CW_PAUSE_* bits, events ring only (cw_rings_paused()): detection or
     * recording paused from outside (camwatch-mqtt's control topics). Kept
     * here so that the pause outlives a restart of any stage; 0, as a new
     * ring starts, is "nothing paused". */
    _Atomic uint32_t paused;
    /* Motion events detect has seen begin (its "motion:" lines), events ring
     * only (cw_rings_count_motion()); runs on across detect's restarts. */
    _Atomic uint64_t motion_events;
    /* The supervisor's stage table, packets ring only (cw_rings_set_sup_status()). */
    CwSupStatus supervisor;
} CwRingsUser;

_Static_assert(CW_STAGE_COUNT <= CW_RINGS_HEARTBEAT_MAX, "a heartbeat place per stage");
_Static_assert(sizeof(CwStreamStatus) <= CW_RINGS_STREAM_STATUS_SIZE, "stream status fits");
/* Pinned, so that a change of CW_LOG_LAST_ERROR_MAX cannot move it unseen. */
_Static_assert(sizeof(CwStreamStatus) == 416, "stream status layout");
_Static_assert(offsetof(CwStreamStatus, input_fps) == 64, "stream status layout");
_Static_assert(offsetof(CwStreamStatus, last_error) == 96, "stream status layout");
_Static_assert(sizeof(CwRingsStream) == 4160, "stream params layout");
_Static_assert(offsetof(CwRingsStream, params) == 8, "stream params layout");
_Static_assert(offsetof(CwRingsUser, streams) == 64, "user area layout");
_Static_assert(offsetof(CwRingsUser, stream_status) == 64 + CW_STREAM_MAX * 4160,
               "user area layout");
_Static_assert(offsetof(CwRingsUser, rtsp_transport) ==
                   64 + CW_STREAM_MAX * (4160 + CW_RINGS_STREAM_STATUS_SIZE),
               "user area layout");
_Static_assert(offsetof(CwRingsUser, paused) ==
                   64 + CW_STREAM_MAX * (4160 + CW_RINGS_STREAM_STATUS_SIZE) + 4,
               "user area layout");
_Static_assert(offsetof(CwRingsUser, motion_events) ==
                   64 + CW_STREAM_MAX * (4160 + CW_RINGS_STREAM_STATUS_SIZE) + 8,
               "user area layout");
_Static_assert(offsetof(CwRingsUser, supervisor) ==
                   64 + CW_STREAM_MAX * (4160 + CW_RINGS_STREAM_STATUS_SIZE) + 64,
               "user area layout");
_Static_assert(sizeof(CwRingsUser) ==
                   64 + CW_STREAM_MAX * (4160 + CW_RINGS_STREAM_STATUS_SIZE) + 64 + 384,
               "user area layout");
_Static_assert(sizeof(CwRingsUser) <= CW_RING_USER_SIZE, "fits the ring's user area");
_Static_assert(CW_RING_USER_SIZE - sizeof(CwRingsUser) >=
                   CW_STREAM_MAX * CW_RINGS_STREAM_STATUS_SIZE,
               "room to spare beyond the status reserve");

/* A stage's name as status and logs show it ("camwatch-capture --role=sub"). */
const char *cw_stage_name(enum CwStage stage);

/* The ring whose user area holds the stage's heartbeat. */
enum CwRingKind cw_stage_beat_ring(enum CwStage stage);

/* The whole user area of one of camwatch's rings, for the figures kept there. */
CwRingsUser *cw_rings_user(const CwRing *ring);

/* "/camwatch.<camera>.<kind>" into buf. */
void cw_rings_name(const CwConfig *cfg, enum CwRingKind kind, char *buf, size_t size);

/* Geometry of a ring for this configuration (with CW_RINGS_USER_VERSION). */
void cw_rings_geometry(const CwConfig *cfg, enum CwRingKind kind, CwRingGeometry *geo);

/* How a process uses one ring of its camera (cw_rings_open_all()). */
typedef struct CwRingUse {
    enum CwRingKind kind;
    CwRing **ring;        /* set to the opened ring */
    bool writer;          /* claim the ring's one writer place */
    CwRingReader *reader; /* attach this reader as `role`; NULL: no reader */
    const char *role;
} CwRingUse;

/*
 * The one way a process opens its rings: open (creating if needed, waiting
 * up to 5 s for a creator in progress) each ring of `uses` in order, claim
 * the writer place of those marked `writer`, attach the readers given. Logs
 * what failed. Returns 0: the caller owns every ring (cw_ring_close()) and
 * reader (cw_ring_detach()). Or a negative errno, with *exit_code set to
 * what the process should exit with (cw_rings_exit_code()) and nothing of
 * `uses` left open or attached.
 */
int cw_rings_open_all(const CwConfig *cfg, const CwRingUse *uses, int count, int *exit_code);

/*
 * Exit code for a process whose rings could not be opened, claimed or
 * attached (`err` a negative errno as cw_ring_open(), cw_ring_claim_writer()
 * or cw_ring_attach() returned it): 78 when a person must act (a ring of
 * another geometry or version, or one its creator never finished, or no
 * permission), 75 for what may pass (memory, /dev/shm space, another
 * writer or all reader entries taken while a previous instance goes away).
 */
int cw_rings_exit_code(int err);

/* --- Heartbeats --- */

/* Record in `ring` that `stage` is alive (CLOCK_MONOTONIC now). */
void cw_rings_heartbeat(CwRing *ring, enum CwStage stage);

/* CLOCK_MONOTONIC ns of `stage`'s last heartbeat in `ring`; 0 if it never beat there. */
int64_t cw_rings_heartbeat_ns(const CwRing *ring, enum CwStage stage);

/* --- Pauses (events ring) --- */

#define CW_PAUSE_DETECT 0x1u /* detect analyses no frame: no motion, no event */
#define CW_PAUSE_RECORD 0x2u /* record starts no clip (one in progress ends as usual) */

/* Count one motion event begun (detect, in the events ring). */
void cw_rings_count_motion(CwRing *ring);

/* Motion events begun since the rings were made (the events ring's count). */
uint64_t cw_rings_motion_events(const CwRing *ring);

/* The CW_PAUSE_* bits set in `ring`'s user area (the events ring's). */
uint32_t cw_rings_paused(const CwRing *ring);

/* Set (`paused` true) or clear the CW_PAUSE_* bits `what` in `ring`'s user area. */
void cw_rings_set_paused(CwRing *ring, uint32_t what, bool paused);

/* --- Stream parameters (packets ring) --- */

/*
 * Publish new parameters for stream `stream` (below CW_STREAM_MAX), one
 * writer at a time (the ring's writer). Their epoch is the stream's previous
 * one plus 1 (the first is 1), whatever params->epoch holds. Returns 0 and
 * stores it in *epoch, or -EINVAL for a stream out of range.
 */
int cw_rings_set_params(CwRing *ring, unsigned stream, const CwStreamParams *params,
                        uint64_t *epoch);

/*
 * Copy the current parameters of stream `stream`. Returns 0, -EAGAIN if none
 * were published yet (or a writer kept changing them), -EINVAL for a stream
 * out of range.
 */
int cw_rings_get_params(const CwRing *ring, unsigned stream, CwStreamParams *params);

/* --- The supervisor's status block (packets ring) --- */

/* Publish *status (its lock ignored) as the supervisor's, one writer at a time. */
void cw_rings_set_sup_status(CwRing *ring, const CwSupStatus *status);

/*
 * Copy the supervisor's status block. Returns 0, -EAGAIN if no supervisor
 * ever wrote one (stages started by hand, or under compose), or if it kept
 * changing while read.
 */
int cw_rings_get_sup_status(const CwRing *ring, CwSupStatus *status);

/* --- What capture reports of a stream --- */

/* Publish *status (its lock ignored) for `stream`: capture, the ring's writer,
 * only. Returns 0, or -EINVAL for a stream out of range. */
int cw_rings_set_stream_status(CwRing *ring, unsigned stream, const CwStreamStatus *status);

/*
 * Copy what capture last reported of `stream`. Returns 0; -EAGAIN if
 * nothing was reported yet (status zeroed), or it kept changing while read;
 * -EINVAL for a stream out of range.
 */
int cw_rings_get_stream_status(const CwRing *ring, unsigned stream, CwStreamStatus *status);

/*
 * For capture, the block's one writer, as it starts: the block as the
 * previous capture left it, even if that one was killed in the middle of a
 * write (its lock left odd, which would keep cw_rings_get_stream_status()
 * waiting). Zeroed if never written. Returns 0, or -EINVAL for a stream out
 * of range.
 */
int cw_rings_stream_status_as_left(const CwRing *ring, unsigned stream, CwStreamStatus *status);

#endif /* CAMWATCH_RINGS_H */
