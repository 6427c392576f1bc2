#include "backlog.h"

#include <libavutil/error.h>

#include <assert.h>
#include <errno.h>
#include <string.h>

bool capture_backlog_may_hold(int count, bool decoded, int64_t decoded_mono_ns, int64_t mono_ns,
                              bool wanted)
{
    /* A wanted picture is decoded at once, after whatever waits. From the
     * last decoded packet, not the oldest waiting one: the first to wait
     * would otherwise wait for as long as the camera takes to send the
     * next. */
    if (wanted || !decoded || count >= CAPTURE_BACKLOG_MAX_PACKETS)
        return false;
    return mono_ns - decoded_mono_ns < CAPTURE_BACKLOG_AGE_MAX_NS;
}

bool capture_backlog_fits(int width, int height)
{
    return width > 0 && height > 0 && (int64_t)width * height <= CAPTURE_BACKLOG_PIXELS_MAX;
}

int capture_backlog_init(CaptureBacklog *backlog)
{
    memset(backlog, 0, sizeof(*backlog));
    for (int i = 0; i < CAPTURE_BACKLOG_MAX_PACKETS; i++) {
        backlog->packets[i] = av_packet_alloc();
        if (!backlog->packets[i])
            return AVERROR(ENOMEM);
    }
    return 0;
}

bool capture_backlog_may_take(const CaptureBacklog *backlog, CwStamp at, bool wanted)
{
    return capture_backlog_may_hold(backlog->count, backlog->decoded, backlog->decoded_mono_ns,
                                    at.mono_ns, wanted);
}

void capture_backlog_take(CaptureBacklog *backlog, AVPacket *pkt, CwStamp at)
{
    assert(backlog->count < CAPTURE_BACKLOG_MAX_PACKETS);
    /* The reference moves: no copy of the data. */
    av_packet_move_ref(backlog->packets[backlog->count], pkt);
    backlog->arrivals[backlog->count] = at;
    backlog->count++;
}

void capture_backlog_passed(CaptureBacklog *backlog, CwStamp at)
{
    backlog->decoded_mono_ns = at.mono_ns;
    backlog->decoded = true;
}

int capture_backlog_drain(CaptureBacklog *backlog, CaptureBacklogFn fn, void *arg)
{
    int ret = 0;
    if (backlog->count)
        capture_backlog_passed(backlog, backlog->arrivals[backlog->count - 1]);
    for (int i = 0; i < backlog->count; i++) {
        if (ret >= 0)
            ret = fn(arg, backlog->packets[i], backlog->arrivals[i]);
        av_packet_unref(backlog->packets[i]);
    }
    backlog->count = 0;
    return ret < 0 ? ret : 0;
}

void capture_backlog_fini(CaptureBacklog *backlog)
{
    for (int i = 0; i < CAPTURE_BACKLOG_MAX_PACKETS; i++)
        av_packet_free(&backlog->packets[i]);
    backlog->count = 0;
}
