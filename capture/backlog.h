/*
 * Packets held back from the decoder until a picture is due. An inter
 * codec's (H.264, H.265) pictures must all be decoded, since each one is
 * predicted from the ones before it, but detection takes only DETECT_FPS of
 * them a second: four in five of a 25 fps camera's are decoded only to be
 * referred to. Decoded one at a time as they arrive, every 40 ms, each
 * decode starts with the decoder's code, tables and reference pictures
 * gone from the CPU caches (other processes ran in between); back to back
 * they cost less (a 640x360 sub-stream's worker: about a tenth less CPU,
 * measured side by side). So the packets of pictures detection will not
 * take wait here, and all of them are decoded, in order, right before the
 * packet of the next picture it takes: the same pictures are decoded,
 * judged and published, with the same arrival stamps. The picture taken
 * reaches detection later by the time the held ones take to decode, and
 * packets arriving meanwhile wait in the socket that long: capture holds
 * packets only for pictures of at most CAPTURE_BACKLOG_PIXELS_MAX,
 * whose four or five decode in a few milliseconds, not for a 1080p or 4K
 * main stream.
 */
#ifndef CAPTURE_BACKLOG_H
#define CAPTURE_BACKLOG_H

#include "clock.h"

#include <libavcodec/packet.h>

#include <stdbool.h>
#include <stdint.h>

/* At most this many packets wait: far more than the 5 to 6 of a 25 or 30
 * fps camera at the default DETECT_FPS of 5. */
#define CAPTURE_BACKLOG_MAX_PACKETS 32
/* No packet waits if it arrived this long after the last one decoded: the
 * stall check counts from the last decoded picture, and a slow DETECT_FPS
 * (or a slow camera) would otherwise hold seconds. */
#define CAPTURE_BACKLOG_AGE_MAX_NS (500 * CW_NS_PER_MSEC)
/* Pictures larger than this are decoded as they come (see the top):
 * 1280x720, which decodes in about 2 ms on one core of a small x86 server. */
#define CAPTURE_BACKLOG_PIXELS_MAX (1280 * 720)

typedef struct CaptureBacklog {
    AVPacket *packets[CAPTURE_BACKLOG_MAX_PACKETS]; /* owned; the first `count` hold data */
    CwStamp arrivals[CAPTURE_BACKLOG_MAX_PACKETS];  /* each packet's arrival, both clocks */
    int count;
    int64_t decoded_mono_ns; /* arrival of the last packet handed to the decoder */
    bool decoded;            /* a packet was: decoded_mono_ns holds */
} CaptureBacklog;

/*
 * Whether a packet arrived at `mono_ns` may wait, given `count` packets
 * waiting already, the last packet handed to the decoder arrived at
 * `decoded_mono_ns` (`decoded`: there was one; until then none waits), and
 * whether its picture is `wanted` by detection. Pure: no libav, no clock.
 */
bool capture_backlog_may_hold(int count, bool decoded, int64_t decoded_mono_ns, int64_t mono_ns,
                              bool wanted);

/* Whether packets may wait for pictures of this size: known (not 0) and at
 * most CAPTURE_BACKLOG_PIXELS_MAX. */
bool capture_backlog_fits(int width, int height);

/* Allocate the packets. Returns 0 or AVERROR(ENOMEM) (then call
 * capture_backlog_fini()). */
int capture_backlog_init(CaptureBacklog *backlog);

/*
 * Whether a packet arriving at `at`, whose picture detection does (not)
 * want, may wait: capture_backlog_may_hold() on this backlog.
 */
bool capture_backlog_may_take(const CaptureBacklog *backlog, CwStamp at, bool wanted);

/*
 * Take `pkt`'s data (pkt is left blank, as after av_packet_unref()).
 * Only after capture_backlog_may_take() said yes.
 */
void capture_backlog_take(CaptureBacklog *backlog, AVPacket *pkt, CwStamp at);

/* A packet that arrived at `at` went to the decoder without waiting. */
void capture_backlog_passed(CaptureBacklog *backlog, CwStamp at);

/* What capture_backlog_drain() hands each packet to: `pkt` is lent for the
 * call (the backlog drops it after), `at` is its arrival. Returns 0 or a
 * negative AVERROR. */
typedef int (*CaptureBacklogFn)(void *arg, const AVPacket *pkt, CwStamp at);

/*
 * Hand every waiting packet, oldest first, to `fn`, then drop it. Stops
 * handing out at the first negative return, which it returns (the rest
 * are dropped too); else 0. The backlog is empty afterwards either way,
 * and the last packet handed out counts as decoded.
 */
int capture_backlog_drain(CaptureBacklog *backlog, CaptureBacklogFn fn, void *arg);

/* Drop whatever waits and free the packets; safe on a zeroed or failed backlog. */
void capture_backlog_fini(CaptureBacklog *backlog);

#endif /* CAPTURE_BACKLOG_H */
