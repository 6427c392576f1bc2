/*
 * Why libx264 with these settings: annotated recording re-encodes every
 * picture of every clip, on machines as small as a Raspberry Pi, beside
 * capture and detection.
 *   - preset ultrafast: on 720p25 footage (measured with ffmpeg, one
 *     thread) x264's veryfast costs 1.7x its encoding CPU for files 40 %
 *     smaller; on a Pi's slower cores the CPU is what runs out first. A
 *     clip is evidence, not an archive master: size is the cheaper cost
 *     (and retention bounds it).
 *   - tune zerolatency: no lookahead and no B-frames, so one picture in
 *     gives one packet out, at once, in order: memory stays a couple of
 *     frames, and each packet's duration is its picture's.
 *   - crf 23 (x264's default quality): outlines and faces stay sharp.
 *   - keyframes where the camera had them: the clip keeps the camera's
 *     GOP, and so its fragments and where a clip can be cut.
 */
#include "videoenc.h"

#include "annotate.h"
#include "avpixfmt.h"
#include "avquiet.h"
#include "log.h"

#include <errno.h>
#include <libavutil/fifo.h>
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libswscale/swscale.h>
#include <stdbool.h>
#include <string.h>

/* Pictures whose arrival time is remembered while they are decoded; a
 * decoder holds far fewer (no reordering beyond a GOP's B-frames). */
#define WALL_SLOTS 64

typedef struct Waiting {
    AVPacket *pkt;
    int64_t wall_ns;
} Waiting;

typedef struct Timed {
    int64_t pts, value; /* an arrival time, or a duration */
} Timed;

struct RecVideoEnc {
    AVCodecContext *dec, *enc;
    AVCodecParameters *par; /* of the encoded stream */
    const RecBoxTrack *track;
    int64_t mono_offset_ns; /* the track's clock minus the arrival times handed in */
    AVFifo *waiting;        /* Waiting: packets whose analysis has not come */
    AVFifo *encoded;        /* AVPacket *: out of the encoder, not yet taken */
    AVFifo *durations;      /* Timed: duration of each picture in the encoder */
    AVFrame *frame;         /* decoded */
    AVFrame *conv;          /* converted to the encoder's format or size */
    AVPacket *out;
    struct SwsContext *sws;
    Timed walls[WALL_SLOTS]; /* pts -> arrival time of the packets being decoded */
    uint64_t walls_count;
    int64_t newest_wall_ns; /* of the newest packet handed in */
    int64_t last_pts;       /* the encoder's last input pts */
    bool have_last_pts;
    bool force_keys; /* the camera's keyframes become the encoder's */
    bool flushed;
    int thickness_px;
};

const AVCodec *rec_videoenc_pick(enum AVCodecID camera_codec)
{
    static bool said;
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (codec)
        return codec;
    codec = avcodec_find_encoder(camera_codec);
    if (!said && codec)
        cw_warn("RECORD_MODE=annotated: this FFmpeg has no libx264 encoder; clips are encoded "
                "with the camera's codec's encoder, %s, instead",
                codec->name);
    else if (!said)
        cw_warn("RECORD_MODE=annotated: this FFmpeg has no libx264 encoder and no %s encoder; "
                "clips are copied, without outlines",
                avcodec_get_name(camera_codec));
    said = true;
    return codec;
}

/* The encoder's pixel format: 4:2:0, what every player plays and what the
 * outlines are drawn on. */
static enum AVPixelFormat pick_pix_fmt(const AVCodec *codec)
{
    if (!codec->pix_fmts)
        return AV_PIX_FMT_YUV420P;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == AV_PIX_FMT_YUV420P)
            return *p;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == AV_PIX_FMT_YUVJ420P)
            return *p;
    return AV_PIX_FMT_NONE;
}

static int open_decoder(RecVideoEnc *ve, const AVCodecParameters *in, AVRational tb)
{
    const AVCodec *codec = avcodec_find_decoder(in->codec_id);
    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    ve->dec = avcodec_alloc_context3(codec);
    if (!ve->dec)
        return AVERROR(ENOMEM);
    int ret = avcodec_parameters_to_context(ve->dec, in);
    if (ret < 0)
        return ret;
    ve->dec->pkt_timebase = tb;
    ve->dec->thread_count = 1; /* one clip at a time: latency matters less than cores */
    return avcodec_open2(ve->dec, codec, NULL);
}

static int open_encoder(RecVideoEnc *ve, const AVCodec *codec, const AVCodecParameters *in,
                        AVRational tb, AVRational fr, bool global_header)
{
    AVDictionary *opts = NULL;
    enum AVPixelFormat fmt = pick_pix_fmt(codec);
    bool intra_source = false;
    int ret;

    if (fmt == AV_PIX_FMT_NONE)
        return AVERROR(ENOSYS);
    ve->enc = avcodec_alloc_context3(codec);
    if (!ve->enc)
        return AVERROR(ENOMEM);
    const AVCodecDescriptor *desc = avcodec_descriptor_get(in->codec_id);
    intra_source = desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
    ve->force_keys = !intra_source;
    ve->enc->width = in->width;
    ve->enc->height = in->height;
    ve->enc->pix_fmt = fmt;
    /* JPEG cameras send full-range pictures; the rest video range. */
    ve->enc->color_range = in->codec_id == AV_CODEC_ID_MJPEG || fmt == AV_PIX_FMT_YUVJ420P
                               ? AVCOL_RANGE_JPEG
                               : AVCOL_RANGE_MPEG;
    ve->enc->time_base = tb;
    ve->enc->framerate = fr.num > 0 ? fr : (AVRational){25, 1};
    ve->enc->sample_aspect_ratio = in->sample_aspect_ratio;
    ve->enc->max_b_frames = 0;
    /* An intra-only camera (MJPEG) has no GOP to keep: a keyframe every 2 s. */
    ve->enc->gop_size = intra_source ? 2 * (int)(av_q2d(ve->enc->framerate) + 0.5) : 600;
    if (global_header)
        ve->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (strcmp(codec->name, "libx264") == 0) {
        av_dict_set(&opts, "preset", REC_VIDEOENC_X264_PRESET, 0);
        av_dict_set(&opts, "tune", "zerolatency", 0);
        av_dict_set(&opts, "crf", REC_VIDEOENC_X264_CRF, 0);
        av_dict_set(&opts, "forced-idr", "1", 0); /* a forced keyframe is an IDR: a clean cut */
    } else {
        ve->enc->flags |= AV_CODEC_FLAG_QSCALE;
        ve->enc->global_quality = FF_QP2LAMBDA * 4;
    }
    int level = rec_avquiet_begin(); /* x264 tells its settings at INFO */
    ret = avcodec_open2(ve->enc, codec, &opts);
    rec_avquiet_end(level);
    av_dict_free(&opts);
    if (ret < 0)
        return ret;
    return avcodec_parameters_from_context(ve->par, ve->enc);
}

int rec_videoenc_open(RecVideoEnc **out, const AVCodec *codec, const AVCodecParameters *in,
                      AVRational time_base, AVRational frame_rate, const RecBoxTrack *track,
                      int64_t mono_offset_ns, bool global_header)
{
    RecVideoEnc *ve = av_mallocz(sizeof(*ve));
    int ret;

    *out = NULL;
    if (!ve)
        return AVERROR(ENOMEM);
    ve->track = track;
    ve->mono_offset_ns = mono_offset_ns;
    ve->thickness_px = rec_annotate_thickness(in->width);
    ve->par = avcodec_parameters_alloc();
    ve->frame = av_frame_alloc();
    ve->conv = av_frame_alloc();
    ve->out = av_packet_alloc();
    ve->waiting = av_fifo_alloc2(64, sizeof(Waiting), AV_FIFO_FLAG_AUTO_GROW);
    ve->encoded = av_fifo_alloc2(8, sizeof(AVPacket *), AV_FIFO_FLAG_AUTO_GROW);
    ve->durations = av_fifo_alloc2(8, sizeof(Timed), AV_FIFO_FLAG_AUTO_GROW);
    if (!ve->par || !ve->frame || !ve->conv || !ve->out || !ve->waiting || !ve->encoded ||
        !ve->durations) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = open_decoder(ve, in, time_base);
    if (ret < 0)
        goto end;
    ret = open_encoder(ve, codec, in, time_base, frame_rate, global_header);
    if (ret < 0)
        goto end;
    *out = ve;
    ve = NULL; /* ownership passed to the caller */

end:
    rec_videoenc_free(&ve);
    return ret;
}

const AVCodecParameters *rec_videoenc_par(const RecVideoEnc *ve)
{
    return ve->par;
}

static int64_t wall_of(const RecVideoEnc *ve, int64_t pts)
{
    uint64_t n = ve->walls_count < WALL_SLOTS ? ve->walls_count : WALL_SLOTS;
    for (uint64_t i = 1; i <= n; i++) {
        const Timed *t = &ve->walls[(ve->walls_count - i) % WALL_SLOTS];
        if (t->pts == pts)
            return t->value;
    }
    return ve->newest_wall_ns; /* not remembered: the newest is the closest guess */
}

/* Every packet the encoder has ready, into ve->encoded, with its picture's duration. */
static int collect_encoded(RecVideoEnc *ve)
{
    for (;;) {
        int ret = avcodec_receive_packet(ve->enc, ve->out);
        /* EAGAIN: it wants the next picture; EOF: drained. Both: done for now. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ret;
        Timed d;
        /* Pictures leave in the order they came (no B-frames): the oldest
         * duration not later than this packet is its own. */
        while (av_fifo_peek(ve->durations, &d, 1, 0) >= 0 && d.pts <= ve->out->pts) {
            av_fifo_drain2(ve->durations, 1);
            if (d.pts == ve->out->pts && d.value > 0)
                ve->out->duration = d.value;
        }
        AVPacket *p = av_packet_alloc();
        if (!p)
            return AVERROR(ENOMEM);
        av_packet_move_ref(p, ve->out);
        ret = av_fifo_write(ve->encoded, &p, 1);
        if (ret < 0) {
            av_packet_free(&p);
            return ret;
        }
    }
}

/* FFmpeg 6 renamed AVFrame's packet duration (lavu 57.43: `duration`) and
 * 6.1 moved its keyframe mark into `flags`; the old names are gone in 7. */
static int64_t frame_duration(const AVFrame *f)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 43, 100)
    return f->duration;
#else
    return f->pkt_duration;
#endif
}

static void set_frame_duration(AVFrame *f, int64_t duration)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 43, 100)
    f->duration = duration;
#else
    f->pkt_duration = duration;
#endif
}

static bool frame_is_key(const AVFrame *f)
{
#ifdef AV_FRAME_FLAG_KEY
    return f->flags & AV_FRAME_FLAG_KEY;
#else
    return f->key_frame;
#endif
}

static void set_frame_key(AVFrame *f, bool key)
{
#ifdef AV_FRAME_FLAG_KEY
    f->flags = key ? f->flags | AV_FRAME_FLAG_KEY : f->flags & ~AV_FRAME_FLAG_KEY;
#else
    f->key_frame = key;
#endif
}

/* The picture in the encoder's format and size: `f` itself, or ve->conv. */
static int to_encoder_format(RecVideoEnc *ve, AVFrame *f, AVFrame **pic)
{
    AVCodecContext *e = ve->enc;
    bool full = f->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat src = cw_avpixfmt_unjpeg((enum AVPixelFormat)f->format, &full);
    enum AVPixelFormat dst = cw_avpixfmt_unjpeg(e->pix_fmt, NULL);
    int ret;

    if (src == dst && f->width == e->width && f->height == e->height) {
        *pic = f;
        return 0;
    }
    if (!ve->conv->buf[0]) {
        ve->conv->format = e->pix_fmt;
        ve->conv->width = e->width;
        ve->conv->height = e->height;
        ret = av_frame_get_buffer(ve->conv, 0);
        if (ret < 0)
            return ret;
    }
    ret = av_frame_make_writable(ve->conv); /* the encoder may still hold the last one */
    if (ret < 0)
        return ret;
    ve->sws = sws_getCachedContext(ve->sws, f->width, f->height, src, e->width, e->height, dst,
                                   SWS_BILINEAR, NULL, NULL, NULL);
    if (!ve->sws)
        return AVERROR(EINVAL);
    /* The range stays what it is: only the layout (or size) changes. */
    const int *coefs = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(ve->sws, coefs, full, coefs, full, 0, 1 << 16, 1 << 16);
    sws_scale(ve->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, ve->conv->data,
              ve->conv->linesize);
    ve->conv->color_range = full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    ve->conv->pts = f->pts;
    set_frame_duration(ve->conv, frame_duration(f));
    set_frame_key(ve->conv, frame_is_key(f));
    *pic = ve->conv;
    return 0;
}

/* One decoded picture: outlined, timed, encoded. */
static int encode_picture(RecVideoEnc *ve, AVFrame *f)
{
    AVFrame *pic = NULL;
    int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    int ret;

    if (pts == AV_NOPTS_VALUE)
        pts = ve->have_last_pts ? ve->last_pts + 1 : 0;
    /* The encoder wants strictly increasing times (the clip's are already). */
    if (ve->have_last_pts && pts <= ve->last_pts)
        pts = ve->last_pts + 1;
    const RecBoxTrackEntry *boxes =
        rec_boxtrack_at(ve->track, wall_of(ve, pts) + ve->mono_offset_ns);
    f->pts = pts;
    ret = to_encoder_format(ve, f, &pic);
    if (ret < 0)
        return ret;
    if (boxes && boxes->box_count > 0) {
        /* The decoder keeps its reference pictures: draw on a copy. */
        ret = av_frame_make_writable(pic);
        if (ret < 0)
            return ret;
        rec_annotate_boxes(pic, boxes->boxes, boxes->box_count, boxes->ref_w, boxes->ref_h,
                           REC_OUTLINE_MAGENTA, ve->thickness_px);
    }
    pic->pict_type = ve->force_keys && frame_is_key(pic) ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    pic->format = ve->enc->pix_fmt; /* YUVJ420P and YUV420P: the same planes */
    pic->color_range = ve->enc->color_range;
    Timed d = {pts, frame_duration(pic)};
    ret = av_fifo_write(ve->durations, &d, 1);
    if (ret < 0)
        return ret;
    ve->last_pts = pts;
    ve->have_last_pts = true;
    ret = avcodec_send_frame(ve->enc, pic);
    if (pic == ve->conv)
        av_frame_unref(f);
    else
        av_frame_unref(pic);
    if (ret < 0)
        return ret;
    return collect_encoded(ve);
}

/* Every picture the decoder has ready, encoded. */
static int drain_decoder(RecVideoEnc *ve)
{
    for (;;) {
        int ret = avcodec_receive_frame(ve->dec, ve->frame);
        /* EAGAIN: it wants the next packet; EOF: drained. Both: done for now. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) {
            cw_debug("annotated clip: a picture did not decode: %s", av_err2str(ret));
            return 0;
        }
        ret = encode_picture(ve, ve->frame);
        av_frame_unref(ve->frame);
        if (ret < 0)
            return ret;
    }
}

static int decode_packet(RecVideoEnc *ve, AVPacket *pkt, int64_t wall_ns)
{
    ve->walls[ve->walls_count++ % WALL_SLOTS] = (Timed){pkt->pts, wall_ns};
    int ret = avcodec_send_packet(ve->dec, pkt);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0) /* a damaged packet: its picture is left out, the clip goes on */
        cw_debug("annotated clip: a packet did not decode: %s", av_err2str(ret));
    return drain_decoder(ve);
}

/* Decode the waiting packets whose analysis is in (all of them: `all`). */
static int release_waiting(RecVideoEnc *ve, bool all)
{
    Waiting w;
    int ret = 0;
    while (ret >= 0 && av_fifo_peek(ve->waiting, &w, 1, 0) >= 0) {
        if (!all && !rec_boxtrack_covers(ve->track, w.wall_ns + ve->mono_offset_ns) &&
            ve->newest_wall_ns - w.wall_ns <= REC_VIDEOENC_WAIT_NS)
            break;
        av_fifo_drain2(ve->waiting, 1);
        ret = decode_packet(ve, w.pkt, w.wall_ns);
        av_packet_free(&w.pkt);
    }
    return ret;
}

int rec_videoenc_send(RecVideoEnc *ve, AVPacket *pkt, int64_t wall_ns)
{
    Waiting w = {.pkt = av_packet_alloc(), .wall_ns = wall_ns};
    if (!w.pkt) {
        av_packet_unref(pkt);
        return AVERROR(ENOMEM);
    }
    av_packet_move_ref(w.pkt, pkt); /* the reference is the queue's now */
    int ret = av_fifo_write(ve->waiting, &w, 1);
    if (ret < 0) {
        av_packet_free(&w.pkt);
        return ret;
    }
    if (wall_ns > ve->newest_wall_ns)
        ve->newest_wall_ns = wall_ns;
    return release_waiting(ve, false);
}

int rec_videoenc_flush(RecVideoEnc *ve)
{
    if (ve->flushed)
        return 0;
    ve->flushed = true;
    int ret = release_waiting(ve, true);
    if (ret < 0)
        return ret;
    ret = avcodec_send_packet(ve->dec, NULL);
    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    ret = drain_decoder(ve);
    if (ret < 0)
        return ret;
    ret = avcodec_send_frame(ve->enc, NULL);
    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    return collect_encoded(ve);
}

int rec_videoenc_receive(RecVideoEnc *ve, AVPacket *out)
{
    AVPacket *p;
    if (av_fifo_read(ve->encoded, &p, 1) < 0)
        return ve->flushed ? AVERROR_EOF : AVERROR(EAGAIN);
    av_packet_move_ref(out, p);
    av_packet_free(&p);
    return 0;
}

void rec_videoenc_free(RecVideoEnc **pve)
{
    RecVideoEnc *ve = *pve;
    if (!ve)
        return;
    Waiting w;
    AVPacket *p;
    while (ve->waiting && av_fifo_read(ve->waiting, &w, 1) >= 0)
        av_packet_free(&w.pkt);
    while (ve->encoded && av_fifo_read(ve->encoded, &p, 1) >= 0)
        av_packet_free(&p);
    av_fifo_freep2(&ve->waiting);
    av_fifo_freep2(&ve->encoded);
    av_fifo_freep2(&ve->durations);
    avcodec_free_context(&ve->dec);
    int level = rec_avquiet_begin(); /* and its statistics when it closes */
    avcodec_free_context(&ve->enc);
    rec_avquiet_end(level);
    avcodec_parameters_free(&ve->par);
    av_frame_free(&ve->frame);
    av_frame_free(&ve->conv);
    av_packet_free(&ve->out);
    sws_freeContext(ve->sws);
    av_freep(pve);
}
