/*
 * What the three rings carry. Every payload starts with one of these headers;
 * packet and frame data follow it in the same slot. Also the slot flag and
 * the stream parameters that describe the packets (published in the packets
 * ring's user area: rings.h).
 */
#ifndef CAMWATCH_PAYLOAD_H
#define CAMWATCH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define _Static_assert static_assert /* detect/motion.cpp includes this from C++ */
#endif

/*
 * Slot flag (CwRingView.flags) of a packet that is a keyframe of the main
 * video: in the descriptor rather than the payload, so that record finds the
 * pre-roll's keyframe without reading packet data. Audio packets never carry
 * it (every one of them is a "keyframe", and none can start a clip).
 */
#define CW_SLOT_KEY 0x1u

/*
 * Streams of one packets ring. Each packet names its stream
 * (CwPacketHeader.stream), and each stream has its own parameters and epoch.
 * 0 is the camera's main video, 1 its audio (when it sends any and
 * RECORD_AUDIO is not off); a sub-stream will take the next index.
 */
#define CW_STREAM_MAIN  0
#define CW_STREAM_AUDIO 1
#define CW_STREAM_MAX   4

#define CW_STREAM_EXTRADATA_MAX 4096

/*
 * Parameters of one stream of a packets ring, as capture found them.
 * `epoch` is bumped every time they are published, so readers notice a
 * reconnect or a change (cw_rings_set_params()).
 */
typedef struct CwStreamParams {
    uint64_t epoch;
    int32_t codec_id; /* enum AVCodecID */
    int32_t width;    /* video; 0 for audio */
    int32_t height;
    int32_t time_base_num;
    int32_t time_base_den;
    int32_t frame_rate_num;
    int32_t frame_rate_den;
    int32_t sample_rate; /* audio, in Hz; 0 for video */
    int32_t channels;    /* audio; 0 for video */
    uint32_t extradata_size;
    uint8_t extradata[CW_STREAM_EXTRADATA_MAX];
} CwStreamParams;

/* Packets ring: one compressed packet, copied as the camera sent it. */
typedef struct CwPacketHeader {
    uint64_t epoch;   /* epoch of its stream's CwStreamParams */
    int64_t pts;      /* in the params' time base; INT64_MIN if unknown */
    int64_t dts;      /* idem */
    int64_t duration; /* idem; 0 if unknown */
    int64_t wall_ns;  /* CLOCK_REALTIME when capture received it: names, sidecars */
    int64_t mono_ns;  /* CLOCK_MONOTONIC then: every deadline and duration (clock.h) */
    uint32_t size;    /* bytes of data after this header */
    uint16_t stream;  /* below CW_STREAM_MAX: CW_STREAM_MAIN or CW_STREAM_AUDIO */
    uint16_t reserved;
} CwPacketHeader;

#define CW_TS_NONE INT64_MIN

/*
 * Frames ring: one decoded picture, YUV420P (full-range and limited-range
 * alike), planes packed one after another after the header.
 */
typedef struct CwFrameHeader {
    uint64_t epoch;
    int64_t pts;     /* stream time base, CW_TS_NONE if unknown */
    int64_t wall_ns; /* capture time of the packet that produced it (CLOCK_REALTIME) */
    int64_t mono_ns; /* the same on CLOCK_MONOTONIC */
    int32_t width;
    int32_t height;
    int32_t linesize[3]; /* bytes per row of Y, U, V */
    uint32_t offset[3];  /* byte offset of each plane from the header's start */
} CwFrameHeader;

/* Largest picture side a frame header may claim (boxes are 16-bit). */
#define CW_FRAME_MAX_SIDE 16384

/*
 * Check a frame header read from a slot of `slot_len` bytes before any pixel
 * is touched: a size within CW_FRAME_MAX_SIDE, and the first `planes` planes
 * (1: luma only, 3: all) inside the slot, after the header, with rows at
 * least as long as the plane is wide. Returns NULL if sound, else what is
 * wrong, for a log line.
 */
const char *cw_frame_header_problem(const CwFrameHeader *fh, uint32_t slot_len, int planes);

#define CW_MAX_BOXES 16

/* A moving region in the frame's own pixel coordinates. */
typedef struct CwBox {
    uint16_t x, y, w, h;
} CwBox;

/* Events ring: one record per analysed frame. */
typedef struct CwEvent {
    int64_t wall_ns;    /* the frame's capture time (CLOCK_REALTIME): names, display */
    int64_t mono_ns;    /* the same on CLOCK_MONOTONIC: when motion is over */
    int64_t pts;        /* the frame's pts (stream time base) */
    uint64_t frame_seq; /* the frame's slot in the frames ring */
    uint64_t epoch;     /* stream epoch of the frame */
    int32_t width;      /* frame size the boxes refer to */
    int32_t height;
    float changed_percent; /* share of the picture that changed */
    uint8_t motion;        /* 1: motion in this frame */
    uint8_t light_change;  /* 1: a lighting change was explained (motion may come with it) */
    uint16_t box_count;
    CwBox boxes[CW_MAX_BOXES];
    uint32_t zones; /* bit i: the boxes touch zone i of MOTION_ZONES (common/polygon.h) */
} CwEvent;

/*
 * Shared between processes: the layout is pinned. Any change bumps
 * CW_RINGS_USER_VERSION (rings.h), so that stages of different builds
 * refuse each other's rings instead of misreading their slots.
 */
_Static_assert(sizeof(CwStreamParams) == 48 + CW_STREAM_EXTRADATA_MAX, "params layout");
_Static_assert(offsetof(CwStreamParams, codec_id) == 8, "params layout");
_Static_assert(offsetof(CwStreamParams, sample_rate) == 36, "params layout");
_Static_assert(offsetof(CwStreamParams, extradata_size) == 44, "params layout");
_Static_assert(offsetof(CwStreamParams, extradata) == 48, "params layout");
_Static_assert(sizeof(CwPacketHeader) == 56, "packet header layout");
_Static_assert(offsetof(CwPacketHeader, wall_ns) == 32, "packet header layout");
_Static_assert(offsetof(CwPacketHeader, mono_ns) == 40, "packet header layout");
_Static_assert(offsetof(CwPacketHeader, size) == 48, "packet header layout");
_Static_assert(offsetof(CwPacketHeader, stream) == 52, "packet header layout");
_Static_assert(sizeof(CwFrameHeader) == 64, "frame header layout");
_Static_assert(offsetof(CwFrameHeader, wall_ns) == 16, "frame header layout");
_Static_assert(offsetof(CwFrameHeader, mono_ns) == 24, "frame header layout");
_Static_assert(offsetof(CwFrameHeader, linesize) == 40, "frame header layout");
_Static_assert(offsetof(CwFrameHeader, offset) == 52, "frame header layout");
_Static_assert(offsetof(CwEvent, mono_ns) == 8, "event layout");
_Static_assert(offsetof(CwEvent, frame_seq) == 24, "event layout");
_Static_assert(offsetof(CwEvent, changed_percent) == 48, "event layout");
_Static_assert(offsetof(CwEvent, box_count) == 54, "event layout");
_Static_assert(offsetof(CwEvent, boxes) == 56, "event layout");
_Static_assert(offsetof(CwEvent, zones) == 56 + 8 * CW_MAX_BOXES, "event layout");
_Static_assert(sizeof(CwEvent) == 56 + 8 * CW_MAX_BOXES + 8, "event layout");

#endif /* CAMWATCH_PAYLOAD_H */
