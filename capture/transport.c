#include "transport.h"

#include "rings.h"

#include <stdatomic.h>

#include <libavutil/error.h>

#include <errno.h>
#include <string.h>

static const struct {
    CaptureTransport transport;
    const char *name;  /* RTSP_TRANSPORT's and libavformat's rtsp_transport value */
    const char *label; /* for a person */
} transports[] = {
    {CAPTURE_TRANSPORT_AUTO, "auto", "automatic"},
    {CAPTURE_TRANSPORT_TCP, "tcp", "TCP"},
    {CAPTURE_TRANSPORT_UDP, "udp", "UDP"},
    {CAPTURE_TRANSPORT_UDP_MULTICAST, "udp_multicast", "UDP multicast"},
    {CAPTURE_TRANSPORT_HTTP, "http", "HTTP tunnelling"},
};

#define TRANSPORT_COUNT (sizeof(transports) / sizeof(transports[0]))

CaptureTransport capture_transport_from_name(const char *name)
{
    for (size_t i = 0; i < TRANSPORT_COUNT; i++)
        if (strcmp(transports[i].name, name) == 0)
            return transports[i].transport;
    return CAPTURE_TRANSPORT_AUTO;
}

const char *capture_transport_name(CaptureTransport transport)
{
    for (size_t i = 0; i < TRANSPORT_COUNT; i++)
        if (transports[i].transport == transport)
            return transports[i].name;
    return "auto";
}

const char *capture_transport_label(CaptureTransport transport)
{
    for (size_t i = 0; i < TRANSPORT_COUNT; i++)
        if (transports[i].transport == transport)
            return transports[i].label;
    return "automatic";
}

/*
 * What libavformat (rtsp.c, FFmpeg 5.1 and later) makes of a refused SETUP:
 * - 461 to the first stream's SETUP: it tries the next transport it was
 *   allowed, and when none is left returns AVERROR(EPROTONOSUPPORT)
 *   ("Protocol not supported"), which no other step of an RTSP connect
 *   returns. It logs "method SETUP failed: 461 ..." first, unless libav's
 *   log is silenced (LOGLEVEL=CRITICAL), so the code alone must suffice.
 * - 461 to a later stream's SETUP: AVERROR_HTTP_OTHER_4XX, with that line.
 * - 400: AVERROR_HTTP_BAD_REQUEST, and no line at all (it logs statuses
 *   above 400 only), exactly as a 400 to OPTIONS, DESCRIBE or PLAY. The
 *   caller tries the other transport once: if that works, SETUP was it.
 */
int capture_transport_refusal(int err, const char *detail)
{
    if (err == AVERROR(EPROTONOSUPPORT) || strstr(detail, "SETUP failed: 461"))
        return 461;
    if (err == AVERROR_HTTP_BAD_REQUEST)
        return 400;
    return 0;
}

CaptureTransport capture_transport_first(void)
{
    CaptureTransport recalled = capture_transport_recall();
    return recalled != CAPTURE_TRANSPORT_AUTO ? recalled : CAPTURE_TRANSPORT_TCP;
}

CaptureTransport capture_transport_fallback(CaptureTransport refused)
{
    return refused == CAPTURE_TRANSPORT_UDP ? CAPTURE_TRANSPORT_TCP : CAPTURE_TRANSPORT_UDP;
}

/* Where the choice is kept: the packets ring, once capture_transport_keep_in()
 * names it; until then (and in unit tests) this process alone. */
static CwRing *memory_ring;
static CaptureTransport remembered = CAPTURE_TRANSPORT_AUTO;

void capture_transport_keep_in(CwRing *packets)
{
    memory_ring = packets;
}

void capture_transport_remember(CaptureTransport transport)
{
    remembered = transport;
    if (memory_ring)
        atomic_store_explicit(&cw_rings_user(memory_ring)->rtsp_transport, (uint32_t)transport,
                              memory_order_relaxed); /* a lone word: no ordering needed */
}

CaptureTransport capture_transport_recall(void)
{
    if (memory_ring) {
        uint32_t kept =
            atomic_load_explicit(&cw_rings_user(memory_ring)->rtsp_transport, memory_order_relaxed);
        /* Anything else was written by someone else: ignore it. */
        if (kept == CAPTURE_TRANSPORT_TCP || kept == CAPTURE_TRANSPORT_UDP)
            return (CaptureTransport)kept;
    }
    return remembered;
}
