#include "frames.h"

#include "avpixfmt.h"
#include "log.h"
#include "payload.h"

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <string.h>

/* The Y plane starts on a cache line: the header is 56 bytes, and the ring
 * hands out 64-byte-aligned payloads. */
#define FRAME_PLANES_OFFSET 64
_Static_assert(sizeof(CwFrameHeader) <= FRAME_PLANES_OFFSET, "frame header fits before planes");

void capture_frames_init(CaptureFrames *frames, CwRing *ring, double detect_fps,
                         int frame_buffer_mb)
{
    memset(frames, 0, sizeof(*frames));
    frames->ring = ring;
    frames->frame_buffer_mb = frame_buffer_mb;
    frames->interval_ns = (int64_t)(1e9 / detect_fps);
}

/* Where a frame captured at some time stands in the schedule. */
enum FrameSlot {
    FRAME_EARLY,   /* not due: skipped */
    FRAME_DUE,     /* due: the schedule advances by one interval */
    FRAME_RESTART, /* the schedule starts again at this frame */
};

/*
 * Where a frame captured at `mono_ns` (CLOCK_MONOTONIC) stands. The
 * schedule advances by exactly one interval per published frame, so the
 * average rate is DETECT_FPS whatever the camera's jitter; a frame up to a
 * quarter interval early still counts, or a camera running at exactly
 * DETECT_FPS would lose every frame that arrives a millisecond early.
 */
static enum FrameSlot frame_slot(const CaptureFrames *frames, int64_t mono_ns)
{
    int64_t interval = frames->interval_ns;
    /* First frame; a camera slower than DETECT_FPS, or a gap (or frames
     * from before a reconnect): restart the schedule at this frame. */
    if (!frames->started || mono_ns - frames->next_due_ns > interval ||
        frames->next_due_ns - mono_ns > 2 * interval)
        return FRAME_RESTART;
    return mono_ns < frames->next_due_ns - interval / 4 ? FRAME_EARLY : FRAME_DUE;
}

bool capture_frames_wants(const CaptureFrames *frames, int64_t mono_ns)
{
    return frame_slot(frames, mono_ns) != FRAME_EARLY;
}

/* Whether a frame captured at `mono_ns` is due; if so, the schedule moves on. */
static bool frame_due(CaptureFrames *frames, int64_t mono_ns)
{
    switch (frame_slot(frames, mono_ns)) {
    case FRAME_EARLY:
        return false;
    case FRAME_RESTART:
        frames->started = true;
        frames->next_due_ns = mono_ns + frames->interval_ns;
        return true;
    case FRAME_DUE:
        frames->next_due_ns += frames->interval_ns;
        return true;
    }
    return false;
}

int capture_frames_offer(CaptureFrames *frames, const AVFrame *frame, CwStamp at, uint64_t epoch)
{
    const int w = frame->width, h = frame->height;
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    const enum AVPixelFormat fmt = frame->format;
    const bool planar420 = fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P;

    if (w <= 0 || h <= 0 || !frame_due(frames, at.mono_ns))
        return 0;

    if (!planar420) {
        /* The frames ring carries samples as decoded, whatever their range:
         * no value conversion is wanted, so the range is not passed on. */
        enum AVPixelFormat in = cw_avpixfmt_unjpeg(fmt, NULL);
        if (!sws_isSupportedInput(in)) {
            if (!frames->unsupported_logged)
                cw_error("cannot convert decoded frames of pixel format %s for detection",
                         av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt) : "?");
            frames->unsupported_logged = true;
            return 0;
        }
        /* Returns the cached context while the size and format stay. */
        frames->sws = sws_getCachedContext(frames->sws, w, h, in, w, h, AV_PIX_FMT_YUV420P,
                                           SWS_FAST_BILINEAR, NULL, NULL, NULL);
        if (!frames->sws)
            return AVERROR(ENOMEM);
    }

    uint64_t y_size = (uint64_t)w * h, c_size = (uint64_t)cw * ch;
    uint64_t len = FRAME_PLANES_OFFSET + y_size + 2 * c_size;
    CwFrameHeader *hdr = len <= UINT32_MAX ? cw_ring_reserve(frames->ring, (uint32_t)len) : NULL;
    if (!hdr) {
        /* A payload may take at most half the ring: see cw_ring_reserve(). */
        if (!frames->too_big_logged)
            cw_error("frames of %dx%d need %llu MiB; raise FRAME_BUFFER_MB (now %d)", w, h,
                     (unsigned long long)((len * 2 + (1 << 20) - 1) >> 20),
                     frames->frame_buffer_mb);
        frames->too_big_logged = true;
        return 0;
    }

    hdr->epoch = epoch;
    hdr->pts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp
               : frame->pts != AV_NOPTS_VALUE                 ? frame->pts
                                                              : CW_TS_NONE;
    hdr->wall_ns = at.wall_ns;
    hdr->mono_ns = at.mono_ns;
    hdr->width = w;
    hdr->height = h;
    hdr->linesize[0] = w;
    hdr->linesize[1] = hdr->linesize[2] = cw;
    hdr->offset[0] = FRAME_PLANES_OFFSET;
    hdr->offset[1] = (uint32_t)(FRAME_PLANES_OFFSET + y_size);
    hdr->offset[2] = (uint32_t)(FRAME_PLANES_OFFSET + y_size + c_size);

    uint8_t *base = (uint8_t *)hdr;
    uint8_t *dst[4] = {base + hdr->offset[0], base + hdr->offset[1], base + hdr->offset[2], NULL};
    int dst_linesize[4] = {w, cw, cw, 0};
    if (planar420) {
        /* Already the ring's format: a plain copy, dropping the row padding. */
        av_image_copy_plane(dst[0], w, frame->data[0], frame->linesize[0], w, h);
        av_image_copy_plane(dst[1], cw, frame->data[1], frame->linesize[1], cw, ch);
        av_image_copy_plane(dst[2], cw, frame->data[2], frame->linesize[2], cw, ch);
    } else {
        sws_scale(frames->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, h, dst,
                  dst_linesize);
    }
    cw_ring_publish(frames->ring, (uint32_t)len, 0, at.wall_ns);
    frames->published++;
    return 1;
}

void capture_frames_fini(CaptureFrames *frames)
{
    sws_freeContext(frames->sws);
    frames->sws = NULL;
}
