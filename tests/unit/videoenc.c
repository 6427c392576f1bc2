/*
 * The annotated-clip transcoder's timing contract (record/videoenc.h): one
 * encoded packet per picture handed in, in order, each with the pts it
 * went in with and its picture's duration, dts never going back, and a
 * keyframe exactly where the camera had one, whether the analyses arrive
 * in time, late (the packets wait for them) or never (they wait at most
 * REC_VIDEOENC_WAIT_NS); and the packets it gives decode, to as many
 * pictures.
 *
 * The "camera" is libx264 here too, a GOP of 10 at 25 fps, a moving
 * square, with its parameter sets apart as an RTSP camera's are, and its
 * packets timed as capture's demuxer times them.
 */
#include "check.h"

#include "../../record/boxtrack.h"
#include "../../record/videoenc.h"

#include <libavcodec/avcodec.h>
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
    AVCodecParameters *par;
} Camera;

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
            f->pts = (int64_t)i * TICKS;
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
            p->duration = TICKS; /* as the demuxer of a camera of known rate times it */
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
    ev.boxes[0] = (CwBox){100, 100, 40, 40};
    rec_boxtrack_push(track, &ev);
}

enum Analyses { IN_TIME, LATE, NEVER };

typedef struct Out {
    int64_t pts[FRAMES + 8], dts[FRAMES + 8], duration[FRAMES + 8];
    bool key[FRAMES + 8];
    int count;
    AVCodecParameters *par;
} Out;

static void take(RecVideoEnc *ve, Out *o, AVPacket *pkt, AVCodecContext *dec, int *decoded)
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
        while (avcodec_receive_frame(dec, f) == 0)
            (*decoded)++;
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
        const int64_t wall = 1000000000LL + i * STEP_NS;
        if (when == IN_TIME)
            analyse(&track, wall + offset_ns, i % 2 == 0);
        else if (when == LATE && i >= 3)
            analyse(&track, 1000000000LL + (i - 3) * STEP_NS + offset_ns, true);
        CHECK(av_packet_ref(in, cam->pkts[i]) == 0);
        CHECK(rec_videoenc_send(ve, in, wall) == 0);
        CHECK(in->size == 0 && !in->data); /* its reference taken */
        take(ve, &o, out, dec, &decoded);
        /* How far behind what was handed in the packets out are. */
        if (i + 1 - o.count > waiting_max)
            waiting_max = i + 1 - o.count;
    }
    CHECK(rec_videoenc_flush(ve) == 0);
    take(ve, &o, out, dec, &decoded);
    CHECK(rec_videoenc_receive(ve, out) == AVERROR_EOF);
    CHECK(avcodec_send_packet(dec, NULL) == 0);
    AVFrame *f = av_frame_alloc();
    while (avcodec_receive_frame(dec, f) == 0)
        decoded++;
    av_frame_free(&f);

    printf("%-8s %d packets in, %d out, %d decoded; at most %d waiting\n", name, FRAMES, o.count,
           decoded, waiting_max);
    CHECK_EQ_U64(o.count, FRAMES);
    CHECK_EQ_U64(decoded, FRAMES);
    for (int i = 0; i < FRAMES; i++) {
        if (o.pts[i] != (int64_t)i * TICKS || o.duration[i] != TICKS || o.key[i] != cam->key[i]) {
            fprintf(stderr,
                    "%s: packet %d: pts %" PRId64 " duration %" PRId64 " key %d; want pts %d "
                    "duration %d key %d\n",
                    name, i, o.pts[i], o.duration[i], o.key[i], i * TICKS, TICKS, cam->key[i]);
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
        CHECK(waiting_max >= wait_pictures && waiting_max <= wait_pictures + 2);

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
