/*
 * The packets ring as capture writes it: the stream parameters of the
 * current connection, every compressed video (and audio) packet as the camera sent it
 * (the ring is record's pre-roll buffer), and capture's heartbeat.
 *
 * Errors: none of these functions fails (a packet the ring cannot hold is
 * dropped and logged); capture/ returns negative AVERROR codes elsewhere.
 */
#ifndef CAPTURE_PUBLISH_H
#define CAPTURE_PUBLISH_H

#include "clock.h"
#include "ring.h"
#include "rings.h"

#include <libavformat/avformat.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct CapturePublisher {
    CwRing *packets;      /* not owned */
    CwRing *frames;       /* not owned; only heartbeats go here; NULL: none */
    enum CwStage stage;   /* whose heartbeat (zeroed: CW_STAGE_CAPTURE) */
    int packet_buffer_mb; /* PACKET_BUFFER_MB, for the "too big" message */
    uint64_t epoch;       /* of the video parameters published last */
    uint64_t audio_epoch; /* of the audio parameters published last; 0: none */
    bool too_big_logged;
    int64_t heartbeat_ns; /* CLOCK_MONOTONIC of the last heartbeat */
    uint64_t packets_published;
    uint64_t packets_dropped;
} CapturePublisher;

/*
 * Bind to the rings (the caller keeps owning them, opened as their writer
 * with cw_rings_open_all()).
 */
void capture_publish_init(CapturePublisher *pub, CwRing *packets, CwRing *frames,
                          int packet_buffer_mb);

/*
 * Publish the parameters of `video` (codec, size, extradata if it fits),
 * with the `time_base` of the packets' timestamps and the `frame_rate`
 * (0/0 if unknown), to the packets ring. Returns the new epoch, which every
 * packet and frame of this connection carries.
 */
uint64_t capture_publish_params(CapturePublisher *pub, const AVStream *video, AVRational time_base,
                                AVRational frame_rate);

/*
 * Publish the parameters of the camera's `audio` stream (codec, sample rate,
 * channels, time base of its packets, extradata if it fits) as stream
 * CW_STREAM_AUDIO of the packets ring. Returns the new audio epoch, which
 * every audio packet of this connection carries.
 */
uint64_t capture_publish_audio_params(CapturePublisher *pub, const AVStream *audio);

/*
 * This connection has no sound (or RECORD_AUDIO=off): if an earlier one
 * published audio parameters, publish empty ones (codec AV_CODEC_ID_NONE),
 * so that record does not wait for a sound that will not come.
 */
void capture_publish_no_audio(CapturePublisher *pub);

/*
 * Copy one video packet into the packets ring, stamped with its arrival
 * `at` (both clocks in the header; the slot's stamp is the wall time). A
 * packet larger than half the ring is dropped (logged once). No allocation.
 */
void capture_publish_packet(CapturePublisher *pub, const AVPacket *pkt, CwStamp at);

/*
 * The same for one packet of the audio stream (CW_STREAM_AUDIO, the audio
 * epoch, never flagged CW_SLOT_KEY), as the camera sent it.
 */
void capture_publish_audio_packet(CapturePublisher *pub, const AVPacket *pkt, CwStamp at);

/*
 * Leave pub->stage's heartbeat in both rings (those bound) if the last one is older than
 * half a second; `now_ns` is CLOCK_MONOTONIC. Cheap enough to call often.
 */
void capture_publish_heartbeat(CapturePublisher *pub, int64_t now_ns);

#endif /* CAPTURE_PUBLISH_H */
