#include "streamstatus.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define TICK_NS CW_NS_PER_SEC

void capture_status_open(CaptureStatus *st, CwRing *ring)
{
    memset(st, 0, sizeof(*st));
    st->ring = ring;
    if (!ring)
        return;
    /* Zeroed when nothing was reported yet. */
    (void)cw_rings_stream_status_as_left(ring, CW_STREAM_MAIN, &st->base);
    st->base.connected_wall_ns = 0;
    st->base.input_fps = st->base.bitrate_kbps = 0;
    st->cur = st->base;
}

static void publish(CaptureStatus *st)
{
    if (st->ring)
        (void)cw_rings_set_stream_status(st->ring, CW_STREAM_MAIN, &st->cur);
}

void capture_status_connected(CaptureStatus *st, const char *transport, int64_t now_ns)
{
    st->cur.connections = st->base.connections + 1;
    st->cur.connected_wall_ns = cw_wall_ns();
    snprintf(st->cur.transport, sizeof(st->cur.transport), "%s", transport ? transport : "");
    st->last_ns = now_ns;
    publish(st);
}

void capture_status_tick(CaptureStatus *st, const CaptureTotals *t, int64_t now_ns, bool force)
{
    int64_t span_ns = now_ns - st->last_ns;
    if (!force && span_ns < TICK_NS)
        return;
    CwStreamStatus *c = &st->cur;
    if (span_ns > 0) {
        double secs = (double)span_ns / CW_NS_PER_SEC;
        c->input_fps = (float)((double)(t->video_packets - st->last.video_packets) / secs);
        c->bitrate_kbps = (float)((double)(t->bytes - st->last.bytes) * 8 / secs / 1000);
    }
    c->packets = st->base.packets + t->packets;
    c->bytes = st->base.bytes + t->bytes;
    c->packets_lost = st->base.packets_lost + t->lost;
    c->pictures_decoded = st->base.pictures_decoded + t->pictures;
    c->pictures_withheld = st->base.pictures_withheld + t->withheld;
    /* The stage's own ERROR lines are its errors, said once each. */
    c->last_error_wall_ns = cw_log_last_error(c->last_error, sizeof(c->last_error));
    if (!c->last_error_wall_ns) {
        c->last_error_wall_ns = st->base.last_error_wall_ns;
        memcpy(c->last_error, st->base.last_error, sizeof(c->last_error));
    }
    st->last = *t;
    st->last_ns = now_ns;
    publish(st);
}

void capture_status_closed(CaptureStatus *st, const CaptureTotals *t, int64_t now_ns)
{
    capture_status_tick(st, t, now_ns, true);
    st->cur.connected_wall_ns = 0;
    st->cur.input_fps = st->cur.bitrate_kbps = 0;
    publish(st);
}
