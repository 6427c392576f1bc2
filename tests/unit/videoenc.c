/*
 * The annotated-clip transcoder's timing contract (record/videoenc.h): one
 * encoded packet per picture handed in, in order, each with the pts it
 * went in with and its picture's duration, dts never going back, and a
 * keyframe exactly where the camera had one, whether the analyses arrive
 * in time, late (the packets wait for them) or never (they wait at most
 * REC_VIDEOENC_WAIT_NS); and the packets it gives decode, to as many
 * pictures.
 *
 * The "camera" is libx264 here too, a GOP of 10 at about 25 fps, a moving
 * square, with its parameter sets apart as an RTSP camera's are. Its clock
 * is a real camera's: pictures a little early or late, one picture
 * skipped, each packet's duration the gap to the next, so a transcoder
 * that made times up from a frame count and the frame rate would fail.
 * With the analyses in time, the outlines are checked on the decoded
 * pictures too: the even pictures' analyses have a box, the odd ones' none.
 */
#include "check.h"

#include "../../record/boxtrack.h"
#include "../../record/videoenc.h"

#include <libavcodec/avcodec.h>
#include <libavutil/mathematics.h>
#include <stdbool.h>

#define W       320
#define H       240
#define FRAMES  50
#define GOP     10
#define TICKS   3600 /* a picture at 25 fps, in 1/90000 */
#define STEP_NS 40000000LL

typedef struct Camera {
    AVPacket *pkts[FRAMES];
    bool key[FRAMES];
    int64_t pts[FRAMES], duration[FRAMES]; /* in 1/90000 */
    AVCodecParameters *par;
} Camera;

/* Picture i's time: early or late by up to 3 ms, and picture 17 skipped. */
static int64_t camera_pts(int i)
{
    return (int64_t)i * TICKS + (i % 4) * 90 + (i >= 17 ? TICKS : 0);
}

/* The box of every analysis with motion, in the camera's pixels. */
#define BOX_X 100
#define BOX_Y 100
#define BOX_S 40

static void camera_make(Camera *cam)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    CHECK(codec);
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    CHECK(enc);
    enc->width = W;
    enc->height = H;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational){1, 90000};
    enc->framerate = (AVRational){25, 1};
    enc->gop_size = GOP;
    enc->max_b_frames = 0;
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "preset", "ultrafast", 0);
    av_dict_set(&opts, "tune", "zerolatency", 0);
    av_dict_set(&opts, "x264-params", "keyint=10:min-keyint=10:scenecut=0", 0);
    CHECK(avcodec_open2(enc, codec, &opts) == 0);
    av_dict_free(&opts);
    cam->par = avcodec_parameters_alloc();
    CHECK(cam->par && avcodec_parameters_from_context(cam->par, enc) >= 0);

    AVFrame *f = av_frame_alloc();
    CHECK(f);
    f->format = AV_PIX_FMT_YUV420P;
    f->width = W;
    f->height = H;
    CHECK(av_frame_get_buffer(f, 0) == 0);
    int got = 0;
    for (int i = 0; i <= FRAMES; i++) {
        if (i < FRAMES) {
            CHECK(av_frame_make_writable(f) == 0);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    bool in = x >= 4 * i && x < 4 * i + 40 && y >= 100 && y < 140;
                    f->data[0][y * f->linesize[0] + x] = in ? 220 : (uint8_t)(60 + (x + y) % 16);
                }
            for (int p = 1; p < 3; p++)
                memset(f->data[p], 128, (size_t)f->linesize[p] * (H / 2));
            f->pts = camera_pts(i);
        }
        CHECK(avcodec_send_frame(enc, i < FRAMES ? f : NULL) == 0);
        for (;;) {
            AVPacket *p = av_packet_alloc();
            CHECK(p);
            int ret = avcodec_receive_packet(enc, p);
            if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
                av_packet_free(&p);
                break;
            }
            CHECK(ret == 0 && got < FRAMES);
            cam->key[got] = p->flags & AV_PKT_FLAG_KEY;
            CHECK(p->pts == camera_pts(got));
            /* As capture's demuxer times a packet: to the next one. */
            p->duration = camera_pts(got + 1) - camera_pts(got);
            cam->pts[got] = p->pts;
            cam->duration[got] = p->duration;
            cam->pkts[got++] = p;
        }
    }
    CHECK_EQ_U64(got, FRAMES);
    for (int i = 0; i < FRAMES; i++)
        CHECK(cam->key[i] == (i % GOP == 0)); /* the camera's GOP, as asked */
    av_frame_free(&f);
    avcodec_free_context(&enc);
}

static void camera_free(Camera *cam)
{
    for (int i = 0; i < FRAMES; i++)
        av_packet_free(&cam->pkts[i]);
    avcodec_parameters_free(&cam->par);
}

/* An analysis of the picture captured at mono_ns: one box, or none. */
static void analyse(RecBoxTrack *track, int64_t mono_ns, bool motion)
{
    CwEvent ev;
    memset(&ev, 0, sizeof(ev));
    ev.mono_ns = mono_ns;
    ev.wall_ns = mono_ns;
    ev.width = W;
    ev.height = H;
    ev.motion = motion;
    ev.box_count = motion ? 1 : 0;
    ev.boxes[0] = (CwBox){BOX_X, BOX_Y, BOX_S, BOX_S};
    rec_boxtrack_push(track, &ev);
}

enum Analyses { IN_TIME, LATE, NEVER };

typedef struct Out {
    int64_t pts[FRAMES + 8], dts[FRAMES + 8], duration[FRAMES + 8];
    bool key[FRAMES + 8];
    int count;
    int outlined[FRAMES], plain[FRAMES]; /* decoded pictures with and without the box's outline */
} Out;

/* The mean red-difference chroma along the top edge of the box, and across
 * its middle clear of the side edges (where the picture is the camera's
 * own). */
static void chroma_at_box(const AVFrame *f, double *edge, double *inside)
{
    double e = 0, in = 0;
    const int margin = 10; /* past the 4-pixel sides, and the blur of their chroma */
    for (int x = BOX_X; x < BOX_X + BOX_S; x++)
        e += f->data[2][(BOX_Y / 2) * f->linesize[2] + x / 2];
    for (int x = BOX_X + margin; x < BOX_X + BOX_S - margin; x++)
        in += f->data[2][((BOX_Y + BOX_S / 2) / 2) * f->linesize[2] + x / 2];
    *edge = e / BOX_S;
    *inside = in / (BOX_S - 2 * margin);
}

/* Which camera picture has this pts, or -1. */
static int picture_of(const Camera *cam, int64_t pts)
{
    for (int i = 0; i < FRAMES; i++)
        if (cam->pts[i] == pts)
            return i;
    return -1;
}

static void take(const Camera *cam, RecVideoEnc *ve, Out *o, AVPacket *pkt, AVCodecContext *dec,
                 int *decoded)
{
    AVFrame *f = av_frame_alloc();
    CHECK(f);
    for (;;) {
        int ret = rec_videoenc_receive(ve, pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        CHECK(ret == 0);
        CHECK(o->count < FRAMES + 8);
        o->pts[o->count] = pkt->pts;
        o->dts[o->count] = pkt->dts;
        o->duration[o->count] = pkt->duration;
        o->key[o->count] = pkt->flags & AV_PKT_FLAG_KEY;
        o->count++;
        CHECK(avcodec_send_packet(dec, pkt) == 0);
        while (avcodec_receive_frame(dec, f) == 0) {
            (*decoded)++;
            int i = picture_of(cam, f->best_effort_timestamp);
            CHECK(i >= 0);
            double edge, inside;
            chroma_at_box(f, &edge, &inside);
            /* Magenta's red difference is 222 (annotate.h); the camera's
             * grey is 128. */
            if (edge > 180 && inside < 140)
                o->outlined[i] = 1;
            else if (edge < 140 && inside < 140)
                o->plain[i] = 1;
            av_frame_unref(f);
        }
        av_packet_unref(pkt);
    }
    av_frame_free(&f);
}

static void run(const Camera *cam, enum Analyses when, const char *name)
{
    static RecBoxTrack track; /* large: not on the stack */
    rec_boxtrack_init(&track);
    const AVCodec *codec = rec_videoenc_pick(AV_CODEC_ID_H264);
    CHECK(codec);
    RecVideoEnc *ve = NULL;
    const int64_t offset_ns = 5000000000LL; /* the track's clock is another than the walls' */
    CHECK(rec_videoenc_open(&ve, codec, cam->par, (AVRational){1, 90000}, (AVRational){25, 1},
                            &track, offset_ns, true) == 0);
    const AVCodecParameters *par = rec_videoenc_par(ve);
    CHECK(par->codec_id == AV_CODEC_ID_H264 && par->width == W && par->height == H);
    CHECK(par->extradata_size > 0); /* asked for a global header */

    const AVCodec *dcodec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *dec = avcodec_alloc_context3(dcodec);
    CHECK(dec && avcodec_parameters_to_context(dec, par) >= 0);
    dec->pkt_timebase = (AVRational){1, 90000};
    CHECK(avcodec_open2(dec, dcodec, NULL) == 0);

    Out o = {0};
    int decoded = 0, waiting_max = 0;
    AVPacket *in = av_packet_alloc(), *out = av_packet_alloc();
    CHECK(in && out);
    for (int i = 0; i < FRAMES; i++) {
        /* Arrival as the camera's clock says, from 1 s. */
        const int64_t wall = 1000000000LL + av_rescale(cam->pts[i], 1000000000, 90000);
        if (when == IN_TIME)
            analyse(&track, wall + offset_ns, i % 2 == 0);
        else if (when == LATE && i >= 3)
            analyse(&track,
                    1000000000LL + av_rescale(cam->pts[i - 3], 1000000000, 90000) + offset_ns,
                    true);
        CHECK(av_packet_ref(in, cam->pkts[i]) == 0);
        CHECK(rec_videoenc_send(ve, in, wall) == 0);
        CHECK(in->size == 0 && !in->data); /* its reference taken */
        take(cam, ve, &o, out, dec, &decoded);
        /* How far behind what was handed in the packets out are. */
        if (i + 1 - o.count > waiting_max)
            waiting_max = i + 1 - o.count;
    }
    CHECK(rec_videoenc_flush(ve) == 0);
    take(cam, ve, &o, out, dec, &decoded);
    CHECK(rec_videoenc_receive(ve, out) == AVERROR_EOF);
    CHECK(avcodec_send_packet(dec, NULL) == 0);
    AVFrame *f = av_frame_alloc();
    CHECK(f);
    while (avcodec_receive_frame(dec, f) == 0)
        decoded++;
    av_frame_free(&f);

    printf("%-8s %d packets in, %d out, %d decoded; at most %d waiting\n", name, FRAMES, o.count,
           decoded, waiting_max);
    CHECK_EQ_U64(o.count, FRAMES);
    CHECK_EQ_U64(decoded, FRAMES);
    for (int i = 0; i < FRAMES; i++) {
        if (o.pts[i] != cam->pts[i] || o.duration[i] != cam->duration[i] ||
            o.key[i] != cam->key[i]) {
            fprintf(stderr,
                    "%s: packet %d: pts %" PRId64 " duration %" PRId64 " key %d; want pts %" PRId64
                    " duration %" PRId64 " key %d\n",
                    name, i, o.pts[i], o.duration[i], o.key[i], cam->pts[i], cam->duration[i],
                    cam->key[i]);
            exit(1);
        }
        CHECK(o.dts[i] != AV_NOPTS_VALUE && o.dts[i] <= o.pts[i]);
        CHECK(i == 0 || o.dts[i] > o.dts[i - 1]);
    }
    /* Analyses in time: nothing waits beyond the encoder's own delay.
     * Late by 3 pictures: they wait for them. Never: each waits for
     * REC_VIDEOENC_WAIT_NS of newer packets (25 pictures), no longer. */
    const int wait_pictures = (int)(REC_VIDEOENC_WAIT_NS / STEP_NS);
    if (when == IN_TIME)
        CHECK(waiting_max <= 2);
    else if (when == LATE)
        CHECK(waiting_max >= 3 && waiting_max <= 5);
    else
        CHECK(waiting_max >= wait_pictures - 1 && waiting_max <= wait_pictures + 2);
    if (when == IN_TIME) {
        /* Each picture outlined exactly when its own analysis had a box. */
        int right = 0;
        for (int i = 0; i < FRAMES; i++)
            right += i % 2 == 0 ? o.outlined[i] && !o.plain[i] : o.plain[i] && !o.outlined[i];
        printf("%-8s outlined as analysed: %d of %d pictures\n", name, right, FRAMES);
        CHECK_EQ_U64(right, FRAMES);
    }

    av_packet_free(&in);
    av_packet_free(&out);
    avcodec_free_context(&dec);
    rec_videoenc_free(&ve);
    CHECK(!ve);
}

int main(void)
{
    if (!avcodec_find_encoder_by_name("libx264")) {
        fprintf(stderr, "this FFmpeg has no libx264: the test cannot make its camera\n");
        return 1;
    }
    av_log_set_level(AV_LOG_ERROR); /* the test camera's encoder is not under test */
    Camera cam = {0};
    camera_make(&cam);
    run(&cam, IN_TIME, "in time");
    run(&cam, LATE, "late");
    run(&cam, NEVER, "never");
    camera_free(&cam);
    return 0;
}
