#define _GNU_SOURCE
#include "snapshot.h"

#include "annotate.h"
#include "avpixfmt.h"
#include "codecpar.h"
#include "fsutil.h"
#include "log.h"
#include "preroll.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <string.h>

#define JPEG_QSCALE 4

struct RecSnapshot {
    AVFrame *frame; /* the peak frame so far */
    AVFrame *spare; /* where the next copy goes */
    bool have;
    int box_count;
    CwBox boxes[CW_MAX_BOXES];
    int box_ref_w, box_ref_h; /* the picture size the boxes refer to */
    /* A picture smaller than the video (DETECT_URL, or MJPEG decoded small):
     * the main stream's packets from the keyframe before the peak up to the
     * peak's, compressed (gop_len 0: none), their stream, and why there
     * are none. Allocated as needed, kept across clips. */
    AVPacket *gop[REC_SNAPSHOT_GOP_MAX];
    int gop_len;
    uint64_t gop_key_seq;  /* ring sequence of gop[0], the keyframe */
    uint64_t gop_next_seq; /* the next slot to look at: a later peak goes on from here */
    uint64_t gop_epoch;
    AVRational gop_tb; /* the packets' time base */
    AVCodecParameters *key_par;
    const char *key_missing;
};

int rec_snapshot_alloc(RecSnapshot **snap)
{
    RecSnapshot *s = av_mallocz(sizeof(*s));
    *snap = NULL;
    if (!s)
        return AVERROR(ENOMEM);
    s->frame = av_frame_alloc();
    s->spare = av_frame_alloc();
    s->key_par = avcodec_parameters_alloc();
    if (!s->frame || !s->spare || !s->key_par) {
        rec_snapshot_free(&s);
        return AVERROR(ENOMEM);
    }
    *snap = s;
    return 0;
}

void rec_snapshot_free(RecSnapshot **snap)
{
    if (!*snap)
        return;
    av_frame_free(&(*snap)->frame);
    av_frame_free(&(*snap)->spare);
    for (int i = 0; i < REC_SNAPSHOT_GOP_MAX; i++)
        av_packet_free(&(*snap)->gop[i]);
    avcodec_parameters_free(&(*snap)->key_par);
    av_freep(snap);
}

/* Forget the kept packets (their buffers; the packets stay for reuse). */
static void drop_gop(RecSnapshot *s)
{
    for (int i = 0; i < s->gop_len; i++)
        av_packet_unref(s->gop[i]);
    s->gop_len = 0;
}

void rec_snapshot_reset(RecSnapshot *s)
{
    s->have = false;
    s->box_count = 0;
    drop_gop(s);
    s->key_missing = NULL;
}

bool rec_snapshot_has_frame(const RecSnapshot *s)
{
    return s->have;
}

/* A buffer of w x h YUV420P in `f`, reusing the one it has when it fits. */
static int frame_ensure(AVFrame *f, int w, int h)
{
    if (f->buf[0] && f->width == w && f->height == h && f->format == AV_PIX_FMT_YUV420P &&
        av_frame_is_writable(f))
        return 0;
    av_frame_unref(f);
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    return av_frame_get_buffer(f, 0);
}

int rec_snapshot_take(RecSnapshot *s, const CwRing *frames, const CwEvent *ev, bool full_range)
{
    CwRingView view;
    CwFrameHeader fh;
    int ret = cw_ring_peek(frames, ev->frame_seq, &view);
    if (ret < 0)
        return ret;
    if (view.len < sizeof(fh))
        return AVERROR(EINVAL);
    memcpy(&fh, view.data, sizeof(fh));
    /* The header is checked against the slot before any plane is read: a
     * corrupt or torn header must not send the copy outside the slot. */
    if (cw_frame_header_problem(&fh, view.len, 3))
        return cw_ring_view_intact(frames, &view) ? AVERROR(EINVAL) : AVERROR(ESTALE);
    ret = frame_ensure(s->spare, fh.width, fh.height);
    if (ret < 0)
        return ret;
    for (int i = 0; i < 3; i++) {
        int w = i ? (fh.width + 1) / 2 : fh.width;
        int rows = i ? (fh.height + 1) / 2 : fh.height;
        av_image_copy_plane(s->spare->data[i], s->spare->linesize[i], view.data + fh.offset[i],
                            fh.linesize[i], w, rows);
    }
    if (!cw_ring_view_intact(frames, &view))
        return AVERROR(ESTALE);
    s->spare->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    AVFrame *t = s->frame;
    s->frame = s->spare;
    s->spare = t;
    s->have = true;
    s->box_count = ev->box_count > CW_MAX_BOXES ? CW_MAX_BOXES : ev->box_count;
    memcpy(s->boxes, ev->boxes, sizeof(CwBox) * (size_t)s->box_count);
    s->box_ref_w = ev->width > 0 ? ev->width : fh.width;
    s->box_ref_h = ev->height > 0 ? ev->height : fh.height;
    return 0;
}

/* Forget the kept packets: `why` there are none. Returns `err`. */
static int no_key(RecSnapshot *s, const char *why, int err)
{
    drop_gop(s);
    s->key_missing = why;
    return err;
}

/*
 * Append the main stream's packet in slot `seq` to the kept ones. Returns 1
 * when appended, 0 when the slot is not the main stream's video of this
 * epoch (sound), 2 when it arrived after `until_mono_ns` (the peak: stop),
 * AVERROR(ESTALE) if overwritten, AVERROR(EINVAL) if malformed, or
 * AVERROR(ENOMEM).
 */
static int keep_packet(RecSnapshot *s, const CwRing *packets, uint64_t epoch, uint64_t seq,
                       int64_t until_mono_ns)
{
    CwRingView view;
    CwPacketHeader ph;

    int ret = cw_ring_peek(packets, seq, &view);
    if (ret < 0)
        return ret;
    if (view.len < sizeof(ph))
        return AVERROR(EINVAL);
    memcpy(&ph, view.data, sizeof(ph));
    /* Nothing the header says is used before the slot is known intact. */
    if (!cw_ring_view_intact(packets, &view))
        return AVERROR(ESTALE);
    if (ph.size > view.len - sizeof(ph))
        return AVERROR(EINVAL);
    if (ph.stream != CW_STREAM_MAIN || ph.epoch != epoch)
        return 0;
    if (s->gop_len > 0 && ph.mono_ns > until_mono_ns)
        return 2;
    if (!s->gop[s->gop_len] && !(s->gop[s->gop_len] = av_packet_alloc()))
        return AVERROR(ENOMEM);
    AVPacket *pkt = s->gop[s->gop_len];
    ret = av_new_packet(pkt, (int)ph.size);
    if (ret < 0)
        return ret;
    memcpy(pkt->data, view.data + sizeof(ph), ph.size);
    if (!cw_ring_view_intact(packets, &view)) {
        av_packet_unref(pkt);
        return AVERROR(ESTALE);
    }
    pkt->pts = ph.pts == CW_TS_NONE ? AV_NOPTS_VALUE : ph.pts;
    pkt->dts = ph.dts == CW_TS_NONE ? AV_NOPTS_VALUE : ph.dts;
    pkt->flags = view.flags & CW_SLOT_KEY ? AV_PKT_FLAG_KEY : 0;
    s->gop_len++;
    return 1;
}

int rec_snapshot_take_main(RecSnapshot *s, const CwRing *packets, const CwStreamParams *main,
                           int64_t mono_ns)
{
    RecPreroll pr;

    /* The same search as a clip's pre-roll: slot descriptors, no packet data. */
    if (rec_preroll_find(packets, main->epoch, mono_ns, &pr) < 0 || pr.shortened ||
        mono_ns - pr.stamp > REC_SNAPSHOT_MAIN_WINDOW_NS)
        return no_key(s, "no main-stream keyframe within 5 s before the peak in the ring",
                      AVERROR(ENOENT));
    /* The keyframe, then every picture after it up to the peak's: decoded
     * forward at the end of the clip, they give the peak's own picture. A
     * new peak after the same keyframe (motion builds up: one every
     * analysed frame) only adds the packets since the last one. */
    uint64_t seq = pr.seq;
    if (s->gop_len > 0 && s->gop_key_seq == pr.seq && s->gop_epoch == main->epoch)
        seq = s->gop_next_seq;
    else
        drop_gop(s);
    s->gop_key_seq = pr.seq;
    s->gop_epoch = main->epoch;
    uint64_t end = cw_ring_write_seq(packets);
    for (; seq < end && s->gop_len < REC_SNAPSHOT_GOP_MAX; seq++) {
        int ret = keep_packet(s, packets, main->epoch, seq, mono_ns);
        if (ret == 2)
            break;
        if (ret == AVERROR(ENOMEM))
            return no_key(s, "out of memory", ret);
        if (ret < 0 && s->gop_len == 0)
            return no_key(s,
                          ret == AVERROR(ESTALE) ? "the main-stream keyframe was overwritten"
                                                 : "the main-stream keyframe's slot is malformed",
                          ret);
        if (ret < 0)
            break; /* what was kept still decodes, to a picture a little earlier */
    }
    s->gop_next_seq = seq;
    s->gop_tb = (AVRational){main->time_base_num, main->time_base_den};
    if (s->gop_len == 0 || !(s->gop[0]->flags & AV_PKT_FLAG_KEY))
        return no_key(s, "the main-stream keyframe's slot is malformed", AVERROR(EINVAL));

    if (rec_codecpar_video(s->key_par, main) < 0)
        return no_key(s, "out of memory", AVERROR(ENOMEM));
    s->key_missing = NULL;
    return 0;
}

/* Take every picture `dec` has ready; the newest undamaged one goes to
 * `out`. Returns 0 or a negative AVERROR (not EAGAIN or EOF). */
static int drain(AVCodecContext *dec, AVFrame *pic, AVFrame *out)
{
    for (;;) {
        int ret = avcodec_receive_frame(dec, pic);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR_INVALIDDATA)
            continue; /* this picture only: the one before it stays */
        if (ret < 0)
            return ret;
        /* A picture with slices missing would show grey blocks: not a
         * snapshot. The one before it stays. */
        if (pic->decode_error_flags || (pic->flags & AV_FRAME_FLAG_CORRUPT)) {
            av_frame_unref(pic);
            continue;
        }
        av_frame_unref(out);
        av_frame_move_ref(out, pic);
    }
}

/* The kept packets decoded in order into `out`: the last good picture, the
 * peak's. Returns 0 or a negative AVERROR. */
static int decode_key(RecSnapshot *s, AVFrame *out)
{
    AVCodecContext *dec = NULL;
    AVFrame *pic = av_frame_alloc();
    const AVCodec *codec = avcodec_find_decoder(s->key_par->codec_id);
    int ret;

    if (!pic)
        return AVERROR(ENOMEM);
    ret = AVERROR_DECODER_NOT_FOUND;
    if (!codec)
        goto end;
    ret = AVERROR(ENOMEM);
    dec = avcodec_alloc_context3(codec);
    if (!dec)
        goto end;
    ret = avcodec_parameters_to_context(dec, s->key_par);
    if (ret < 0)
        goto end;
    dec->thread_count = 1;
    ret = avcodec_open2(dec, codec, NULL);
    if (ret < 0)
        goto end;
    for (int i = 0; i < s->gop_len; i++) {
        /* A packet the decoder refuses ends the run: what follows would be
         * predicted from a picture it does not have. The keyframe refused
         * is no snapshot at all. */
        ret = avcodec_send_packet(dec, s->gop[i]);
        if (ret < 0 && i == 0)
            goto end;
        if (ret < 0)
            break;
        ret = drain(dec, pic, out);
        if (ret < 0)
            goto end;
    }
    ret = avcodec_send_packet(dec, NULL); /* flush: the pictures still reordered */
    if (ret == 0)
        ret = drain(dec, pic, out);
    if (ret == 0 && !out->buf[0])
        ret = AVERROR_INVALIDDATA; /* nothing decoded whole */
    /* The picture must be the peak's, give or take: one from well before
     * it (the run cut short) would show people away from their boxes. */
    int64_t last_pts = s->gop[s->gop_len - 1]->pts, got_pts = out->best_effort_timestamp;
    if (ret == 0 && last_pts != AV_NOPTS_VALUE && got_pts != AV_NOPTS_VALUE && s->gop_tb.num > 0 &&
        s->gop_tb.den > 0 &&
        av_rescale_q(last_pts - got_pts, s->gop_tb, (AVRational){1, 1000}) > REC_SNAPSHOT_LATE_MS)
        ret = AVERROR(ERANGE);

end:
    av_frame_free(&pic);
    avcodec_free_context(&dec);
    return ret;
}

const char *rec_snapshot_use_main(RecSnapshot *s)
{
    if (!s->have)
        return "no snapshot";
    if (s->gop_len == 0)
        return s->key_missing ? s->key_missing : "no main-stream keyframe was kept";
    AVFrame *pic = av_frame_alloc();
    if (!pic) {
        drop_gop(s);
        return "out of memory";
    }
    int ret = decode_key(s, pic);
    cw_debug("snapshot: %d main-stream packets decoded from the keyframe to the peak", s->gop_len);
    drop_gop(s);
    if (ret < 0) {
        av_frame_free(&pic);
        cw_debug("main-stream keyframe for the snapshot: %s", av_err2str(ret));
        return "the main stream's picture of the peak did not decode";
    }
    if (s->key_par->codec_id == AV_CODEC_ID_MJPEG)
        pic->color_range = AVCOL_RANGE_JPEG; /* JPEG cameras: full range, as take() says */
    av_frame_unref(s->frame);
    av_frame_move_ref(s->frame, pic);
    av_frame_free(&pic);
    return NULL;
}

int rec_snapshot_set_frame(RecSnapshot *s, const AVFrame *frame)
{
    drop_gop(s);
    av_frame_unref(s->frame);
    int ret = av_frame_ref(s->frame, frame);
    s->have = ret == 0;
    s->box_count = 0;
    return ret;
}

/* Full-range YUV420P copy of the snapshot frame (JPEG's range). */
static int convert_full_range(const AVFrame *src, AVFrame *dst)
{
    struct SwsContext *sws = NULL;
    bool full = src->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat fmt = cw_avpixfmt_unjpeg((enum AVPixelFormat)src->format, &full);
    int ret;

    dst->format = AV_PIX_FMT_YUV420P;
    dst->width = src->width;
    dst->height = src->height;
    ret = av_frame_get_buffer(dst, 0);
    if (ret < 0)
        goto end;
    sws = sws_getContext(src->width, src->height, fmt, dst->width, dst->height, AV_PIX_FMT_YUV420P,
                         SWS_BICUBIC, NULL, NULL, NULL);
    if (!sws) {
        ret = AVERROR(EINVAL);
        goto end;
    }
    const int *coefs = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(sws, coefs, full, coefs, 1, 0, 1 << 16, 1 << 16);
    ret = sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
                    dst->data, dst->linesize);
    ret = ret > 0 ? 0 : AVERROR(EINVAL);

end:
    sws_freeContext(sws);
    return ret;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void draw_boxes(AVFrame *f, const RecSnapshot *s)
{
    rec_annotate_boxes(f, s->boxes, s->box_count, s->box_ref_w, s->box_ref_h, REC_OUTLINE_WHITE,
                       clampi(f->width / 320, 2, 3));
}

int rec_snapshot_write(RecSnapshot *s, const char *path)
{
    AVCodecContext *enc = NULL;
    AVFrame *pic = NULL;
    AVPacket *pkt = NULL;
    int ret;

    if (!s->have)
        return AVERROR(EINVAL);
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    pic = av_frame_alloc();
    pkt = av_packet_alloc();
    enc = avcodec_alloc_context3(codec);
    if (!pic || !pkt || !enc) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = convert_full_range(s->frame, pic);
    if (ret < 0)
        goto end;
    draw_boxes(pic, s);

    /* The mjpeg encoder takes full-range 4:2:0 as YUVJ420P. */
    pic->format = AV_PIX_FMT_YUVJ420P;
    pic->color_range = AVCOL_RANGE_JPEG;
    pic->pict_type = AV_PICTURE_TYPE_I;
    enc->width = pic->width;
    enc->height = pic->height;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->color_range = AVCOL_RANGE_JPEG;
    enc->time_base = (AVRational){1, 25};
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
    pic->quality = enc->global_quality;
    ret = avcodec_open2(enc, codec, NULL);
    if (ret < 0)
        goto end;
    ret = avcodec_send_frame(enc, pic);
    if (ret < 0)
        goto end;
    ret = avcodec_send_frame(enc, NULL); /* flush: one picture, one packet */
    if (ret < 0)
        goto end;
    ret = avcodec_receive_packet(enc, pkt);
    if (ret < 0)
        goto end;
    /* -errno: an AVERROR code as it is (see the header). */
    ret = rec_write_file(path, pkt->data, (size_t)pkt->size);

end:
    if (ret < 0)
        cw_error("cannot write snapshot %s: %s", path, av_err2str(ret));
    avcodec_free_context(&enc);
    av_frame_free(&pic);
    av_packet_free(&pkt);
    return ret;
}
