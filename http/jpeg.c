#include "jpeg.h"

#include <errno.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "payload.h"

/* Peek attempts before giving up on a ring the writer keeps overwriting. */
#define PEEK_TRIES 4
/* Outline thickness, in pixels of the frame (even: chroma is subsampled). */
#define BOX_LINE_PX 2

/*
 * Copy the newest intact slot of `ring` into a fresh buffer (av_malloc, the
 * caller's). Returns 0, -EAGAIN if none is intact, -ENOMEM.
 */
static int copy_latest(const CwRing *ring, uint8_t **data, uint32_t *len)
{
    CwRingView view;
    for (int tries = 0; tries < PEEK_TRIES; tries++) {
        uint64_t head = cw_ring_write_seq(ring);
        if (head == 0 || cw_ring_peek(ring, head - 1, &view) < 0)
            continue;
        uint8_t *copy = av_malloc(view.len ? view.len : 1);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, view.data, view.len);
        /* The writer may have overwritten it while we copied: keep only an intact copy. */
        if (cw_ring_view_intact(ring, &view)) {
            *data = copy;
            *len = view.len;
            return 0;
        }
        av_free(copy);
    }
    return -EAGAIN;
}

/* The outline's colour, full-range YUV of pure green: it stands out of any
 * scene (and a test can find it). */
#define BOX_Y 150
#define BOX_U 44
#define BOX_V 21

/* Set the pixel (x, y) of a YUV420P picture to the outline's colour. */
static void paint(uint8_t *slot, const CwFrameHeader *fh, int x, int y)
{
    slot[fh->offset[0] + (size_t)y * fh->linesize[0] + x] = BOX_Y;
    slot[fh->offset[1] + (size_t)(y / 2) * fh->linesize[1] + x / 2] = BOX_U;
    slot[fh->offset[2] + (size_t)(y / 2) * fh->linesize[2] + x / 2] = BOX_V;
}

/* Outline the rectangle, clipped to the picture, BOX_LINE_PX thick. */
static void draw_box(uint8_t *slot, const CwFrameHeader *fh, int x0, int y0, int w, int h)
{
    int x1 = x0 + w - 1, y1 = y0 + h - 1;
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 >= fh->width)
        x1 = fh->width - 1;
    if (y1 >= fh->height)
        y1 = fh->height - 1;
    if (x1 < x0 || y1 < y0)
        return;
    for (int t = 0; t < BOX_LINE_PX; t++) {
        for (int x = x0; x <= x1; x++) {
            if (y0 + t <= y1)
                paint(slot, fh, x, y0 + t);
            if (y1 - t >= y0)
                paint(slot, fh, x, y1 - t);
        }
        for (int y = y0; y <= y1; y++) {
            if (x0 + t <= x1)
                paint(slot, fh, x0 + t, y);
            if (x1 - t >= x0)
                paint(slot, fh, x1 - t, y);
        }
    }
}

/* Outline the newest event's boxes, scaled from its frame size to this one. */
static void draw_event_boxes(const CwRing *events, uint8_t *slot, const CwFrameHeader *fh)
{
    uint8_t *data = NULL;
    uint32_t len;
    if (copy_latest(events, &data, &len) < 0)
        return;
    const CwEvent *ev = (const CwEvent *)data;
    if (len >= sizeof(*ev) && ev->width > 0 && ev->height > 0) {
        unsigned count = ev->box_count < CW_MAX_BOXES ? ev->box_count : CW_MAX_BOXES;
        int64_t fw = fh->width, fhh = fh->height;
        for (unsigned i = 0; i < count; i++) {
            const CwBox *b = &ev->boxes[i];
            draw_box(slot, fh, (int)(b->x * fw / ev->width), (int)(b->y * fhh / ev->height),
                     (int)(b->w * fw / ev->width), (int)(b->h * fhh / ev->height));
        }
    }
    av_free(data);
}

/*
 * The size a picture of `width` x `height` takes when at most `max_width`
 * wide (0: no limit), aspect kept, both sides even (4:2:0) and at least 2.
 */
static void fit_width(int width, int height, int max_width, int *out_w, int *out_h)
{
    *out_w = width & ~1;
    *out_h = height & ~1;
    if (max_width <= 0 || max_width >= width)
        return;
    *out_w = max_width & ~1;
    *out_h = (int)(((int64_t)height * *out_w + width / 2) / width) & ~1;
    if (*out_w < 2)
        *out_w = 2;
    if (*out_h < 2)
        *out_h = 2;
}

int http_jpeg_latest(const CwRing *frames, const CwRing *events, bool boxes, int max_width,
                     uint8_t **jpeg, size_t *size, int64_t *wall_ns)
{
    uint8_t *slot = NULL;
    uint32_t len = 0;
    AVCodecContext *ctx = NULL;
    AVFrame *frame = NULL, *scaled = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    int ret;

    *jpeg = NULL;
    ret = copy_latest(frames, &slot, &len);
    if (ret < 0)
        goto end;
    const CwFrameHeader *fh = (const CwFrameHeader *)slot;
    if (len < sizeof(*fh) || cw_frame_header_problem(fh, len, 3)) {
        ret = -EPROTO;
        goto end;
    }
    if (boxes && events)
        draw_event_boxes(events, slot, fh);

    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        ret = -ENOSYS;
        goto end;
    }
    ctx = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!ctx || !frame || !pkt) {
        ret = -ENOMEM;
        goto end;
    }
    fit_width(fh->width, fh->height, max_width, &ctx->width, &ctx->height);
    /* The frames are YUV420P; the JPEG variant of the format is what the
     * encoder takes without asking for non-standard compliance. */
    ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
    ctx->time_base = (AVRational){1, 25};
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ret = avcodec_open2(ctx, codec, NULL);
    if (ret < 0)
        goto end;
    frame->format = ctx->pix_fmt;
    frame->width = fh->width & ~1;
    frame->height = fh->height & ~1;
    for (int p = 0; p < 3; p++) {
        /* Points into our copy: the encoder copies what is not refcounted. */
        frame->data[p] = slot + fh->offset[p];
        frame->linesize[p] = fh->linesize[p];
    }
    AVFrame *encoded = frame;
    if (ctx->width != frame->width || ctx->height != frame->height) {
        /* Smaller than the camera's picture (?width=): scaled after the
         * boxes are drawn, so they shrink with it. */
        scaled = av_frame_alloc();
        if (!scaled) {
            ret = -ENOMEM;
            goto end;
        }
        scaled->format = ctx->pix_fmt;
        scaled->width = ctx->width;
        scaled->height = ctx->height;
        if ((ret = av_frame_get_buffer(scaled, 0)) < 0)
            goto end;
        /* The scaler is told plain YUV420P (the same range on both sides):
         * the JPEG variant would make it warn on every request. */
        sws = sws_getContext(frame->width, frame->height, AV_PIX_FMT_YUV420P, scaled->width,
                             scaled->height, AV_PIX_FMT_YUV420P, SWS_AREA, NULL, NULL, NULL);
        if (!sws) {
            ret = -ENOMEM;
            goto end;
        }
        ret = sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height,
                        scaled->data, scaled->linesize);
        if (ret < 0)
            goto end;
        encoded = scaled;
    }
    encoded->quality = FF_QP2LAMBDA * 4; /* visually clean, about 40 KB at 640x480 */
    encoded->pts = 0;
    if ((ret = avcodec_send_frame(ctx, encoded)) < 0 || (ret = avcodec_send_frame(ctx, NULL)) < 0 ||
        (ret = avcodec_receive_packet(ctx, pkt)) < 0)
        goto end;
    *jpeg = av_malloc(pkt->size);
    if (!*jpeg) {
        ret = -ENOMEM;
        goto end;
    }
    memcpy(*jpeg, pkt->data, pkt->size);
    *size = (size_t)pkt->size;
    *wall_ns = fh->wall_ns;
    ret = 0;

end:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&scaled);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    av_free(slot);
    return ret;
}
