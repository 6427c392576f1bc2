/*
 * How RTP reaches capture from an RTSP camera (RTSP_TRANSPORT), and how
 * RTSP_TRANSPORT=auto chooses: TCP first; a camera that refuses it gets
 * UDP, and that choice is kept for later reconnects. Pure decisions and a
 * remembered choice: no libav calls here, so each rule can be tested alone.
 */
#ifndef CAPTURE_TRANSPORT_H
#define CAPTURE_TRANSPORT_H

#include <stdbool.h>

typedef enum CaptureTransport {
    CAPTURE_TRANSPORT_AUTO = 0, /* not chosen yet (RTSP_TRANSPORT=auto) */
    CAPTURE_TRANSPORT_TCP,      /* interleaved in the RTSP connection */
    CAPTURE_TRANSPORT_UDP,
    CAPTURE_TRANSPORT_UDP_MULTICAST,
    CAPTURE_TRANSPORT_HTTP, /* RTSP and RTP tunnelled through HTTP */
} CaptureTransport;

/*
 * The transport an RTSP_TRANSPORT value names: "auto" (or anything not
 * listed, which configuration has refused already) gives
 * CAPTURE_TRANSPORT_AUTO.
 */
CaptureTransport capture_transport_from_name(const char *name);

/* libavformat's rtsp_transport value, which is also RTSP_TRANSPORT's ("tcp"...). */
const char *capture_transport_name(CaptureTransport transport);

/* For a person: "TCP", "UDP", "UDP multicast", "HTTP tunnelling". */
const char *capture_transport_label(CaptureTransport transport);

/*
 * Whether a failed RTSP open was the camera refusing the transport that was
 * asked for. `err` is the AVERROR libavformat returned and `detail` the
 * last error it logged during the attempt ("" if none). Returns the RTSP
 * status that says so: 461 (Unsupported Transport: certain), 400 (Bad
 * Request: libavformat does not say which request got it, so only another
 * transport working proves it was SETUP), or 0 for any other failure.
 */
int capture_transport_refusal(int err, const char *detail);

/*
 * The transport RTSP_TRANSPORT=auto tries first: the one recalled from an
 * earlier connect, else TCP.
 */
CaptureTransport capture_transport_first(void);

/* The transport auto tries after `refused` was refused: TCP and UDP swap. */
CaptureTransport capture_transport_fallback(CaptureTransport refused);

/*
 * Keep the choice in `packets` (the packets ring) from now on: a reconnect
 * is a new capture process, and the ring outlives it, so the next capture
 * starts with the transport that worked. The supervisor makes fresh rings
 * at its start, so a camera reconfigured while camwatch was stopped is
 * asked again. The ring must stay open while capture runs.
 */
struct CwRing;
void capture_transport_keep_in(struct CwRing *packets);

/* Keep the transport auto found working, for the reconnects that follow. */
void capture_transport_remember(CaptureTransport transport);

/* The transport remembered, or CAPTURE_TRANSPORT_AUTO if none. */
CaptureTransport capture_transport_recall(void);

#endif /* CAPTURE_TRANSPORT_H */
