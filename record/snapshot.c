#define _GNU_SOURCE
#include "snapshot.h"

#include "annotate.h"
#include "avpixfmt.h"
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
    /* DETECT_URL: the main stream's keyframe at the peak, compressed (size
     * 0: none), its stream, and why there is none. */
    AVPacket *key;
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
    s->key = av_packet_alloc();
    s->key_par = avcodec_parameters_alloc();
    if (!s->frame || !s->spare || !s->key || !s->key_par) {
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
    av_packet_free(&(*snap)->key);
    avcodec_parameters_free(&(*snap)->key_par);
    av_freep(snap);
}

void rec_snapshot_reset(RecSnapshot *s)
{
    s->have = false;
    s->box_count = 0;
    av_packet_unref(s->key);
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

/* Forget the kept keyframe: `why` there is none. Returns `err`. */
static int no_key(RecSnapshot *s, const char *why, int err)
{
    av_packet_unref(s->key);
    s->key_missing = why;
    return err;
}

int rec_snapshot_take_main(RecSnapshot *s, const CwRing *packets, const CwStreamParams *main,
                           int64_t mono_ns)
{
    RecPreroll pr;
    CwRingView view;
    CwPacketHeader ph;

    av_packet_unref(s->key);
    /* The same search as a clip's pre-roll: slot descriptors, no packet data. */
    if (rec_preroll_find(packets, main->epoch, mono_ns, &pr) < 0 || pr.shortened ||
        mono_ns - pr.stamp > REC_SNAPSHOT_MAIN_WINDOW_NS)
        return no_key(s, "no main-stream keyframe within 1 s before the peak in the ring",
                      AVERROR(ENOENT));
    int ret = cw_ring_peek(packets, pr.seq, &view);
    if (ret < 0)
        return no_key(s, "the main-stream keyframe was overwritten", ret);
    if (view.len < sizeof(ph))
        return no_key(s, "the main-stream keyframe's slot is malformed", AVERROR(EINVAL));
    memcpy(&ph, view.data, sizeof(ph));
    /* Nothing the header says is used before the slot is known intact. */
    if (!cw_ring_view_intact(packets, &view))
        return no_key(s, "the main-stream keyframe was overwritten", AVERROR(ESTALE));
    if (ph.stream != CW_STREAM_MAIN || ph.epoch != main->epoch || ph.size > view.len - sizeof(ph))
        return no_key(s, "the main-stream keyframe's slot is malformed", AVERROR(EINVAL));
    ret = av_new_packet(s->key, (int)ph.size);
    if (ret < 0)
        return no_key(s, "out of memory", ret);
    memcpy(s->key->data, view.data + sizeof(ph), ph.size);
    if (!cw_ring_view_intact(packets, &view))
        return no_key(s, "the main-stream keyframe was overwritten", AVERROR(ESTALE));
    s->key->flags = AV_PKT_FLAG_KEY;

    AVCodecParameters *par = s->key_par;
    av_freep(&par->extradata);
    par->extradata_size = 0;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = (enum AVCodecID)main->codec_id;
    par->width = main->width;
    par->height = main->height;
    uint32_t n = main->extradata_size > CW_STREAM_EXTRADATA_MAX ? 0 : main->extradata_size;
    if (n) {
        par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!par->extradata)
            return no_key(s, "out of memory", AVERROR(ENOMEM));
        memcpy(par->extradata, main->extradata, n);
        par->extradata_size = (int)n;
    }
    s->key_missing = NULL;
    return 0;
}

/* The kept keyframe decoded into `out`. Returns 0 or a negative AVERROR. */
static int decode_key(RecSnapshot *s, AVFrame *out)
{
    AVCodecContext *dec = NULL;
    const AVCodec *codec = avcodec_find_decoder(s->key_par->codec_id);
    int ret;

    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    dec = avcodec_alloc_context3(codec);
    if (!dec)
        return AVERROR(ENOMEM);
    ret = avcodec_parameters_to_context(dec, s->key_par);
    if (ret < 0)
        goto end;
    dec->thread_count = 1;
    ret = avcodec_open2(dec, codec, NULL);
    if (ret < 0)
        goto end;
    ret = avcodec_send_packet(dec, s->key);
    if (ret < 0)
        goto end;
    ret = avcodec_send_packet(dec, NULL); /* flush: one packet, one picture */
    if (ret < 0)
        goto end;
    ret = avcodec_receive_frame(dec, out);
    /* A keyframe that is only part of a picture (slices missing) would
     * show grey blocks: not a snapshot. */
    if (ret == 0 && (out->decode_error_flags || (out->flags & AV_FRAME_FLAG_CORRUPT)))
        ret = AVERROR_INVALIDDATA;

end:
    avcodec_free_context(&dec);
    return ret;
}

const char *rec_snapshot_use_main(RecSnapshot *s)
{
    if (!s->have)
        return "no snapshot";
    if (s->key->size == 0)
        return s->key_missing ? s->key_missing : "no main-stream keyframe was kept";
    AVFrame *pic = av_frame_alloc();
    if (!pic) {
        av_packet_unref(s->key);
        return "out of memory";
    }
    int ret = decode_key(s, pic);
    av_packet_unref(s->key);
    if (ret < 0) {
        av_frame_free(&pic);
        cw_debug("main-stream keyframe for the snapshot: %s", av_err2str(ret));
        return "the main-stream keyframe did not decode";
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
    av_packet_unref(s->key);
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
