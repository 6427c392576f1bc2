/*
 * G.711 to AAC (record/audioenc.c): the sound keeps its place on the clip's
 * timeline (the encoder's priming never starts before the clip), every
 * sample handed in comes out, and the padding of the last frame does not
 * lengthen the sound.
 */
#include "check.h"

#include "../../record/audioenc.h"

#include <libavutil/channel_layout.h>

#define RATE        8000
#define PKT_SAMPLES 160 /* 20 ms, as cameras send G.711 */

static AVCodecParameters *alaw_par(void)
{
    AVCodecParameters *par = avcodec_parameters_alloc();
    CHECK(par);
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_PCM_ALAW;
    par->sample_rate = RATE;
    av_channel_layout_default(&par->ch_layout, 1);
    return par;
}

typedef struct Result {
    int64_t first_pts, end_pts; /* end: last pts + duration */
    int packets;
} Result;

/* Encode `packets` G.711 packets, the first arriving `offset_ms` into the clip. */
static Result encode(int packets, int64_t offset_ms)
{
    AVCodecParameters *par = alaw_par();
    RecAudioEnc *enc = NULL;
    AVPacket *in = av_packet_alloc(), *out = av_packet_alloc();
    Result r = {.first_pts = -1};
    CHECK(in && out);
    CHECK(rec_audioenc_open(&enc, par) == 0);
    CHECK(rec_audioenc_par(enc)->codec_id == AV_CODEC_ID_AAC);
    CHECK(rec_audioenc_par(enc)->extradata_size > 0); /* MP4 needs it in its header */
    CHECK_EQ_U64(rec_audioenc_time_base(enc).den, RATE);
    for (int i = 0; i <= packets; i++) {
        if (i < packets) {
            CHECK(av_new_packet(in, PKT_SAMPLES) == 0);
            for (int k = 0; k < PKT_SAMPLES; k++)
                in->data[k] = (uint8_t)(0xd5 ^ (k & 0x0f)); /* a quiet buzz */
            int64_t arrival_ns = (offset_ms + (int64_t)i * 20) * 1000000;
            CHECK(rec_audioenc_send(enc, in, arrival_ns) == 0);
            av_packet_unref(in);
        } else {
            CHECK(rec_audioenc_flush(enc) == 0);
        }
        int ret;
        while ((ret = rec_audioenc_receive(enc, out)) == 0) {
            if (r.first_pts < 0)
                r.first_pts = out->pts;
            CHECK(out->pts >= r.end_pts); /* in order, never overlapping */
            CHECK(out->duration > 0);
            r.end_pts = out->pts + out->duration;
            r.packets++;
            av_packet_unref(out);
        }
        CHECK(ret == AVERROR(EAGAIN) || (i == packets && ret == AVERROR_EOF));
    }
    rec_audioenc_free(&enc);
    CHECK(enc == NULL);
    av_packet_free(&in);
    av_packet_free(&out);
    avcodec_parameters_free(&par);
    return r;
}

/* Early sound (before the priming fits): the priming starts with the clip,
 * and the sound ends where its last sample arrived. */
static void test_early_sound(void)
{
    Result r = encode(250, 0); /* 5 s from the clip's first moment */
    CHECK_EQ_U64(r.first_pts, 0);
    CHECK_EQ_U64(r.end_pts, 250 * PKT_SAMPLES);
}

/* Later sound: placed where it arrived, the priming just before it. */
static void test_late_sound(void)
{
    Result r = encode(100, 500); /* 2 s, arriving 0.5 s into the clip */
    CHECK_EQ_U64(r.first_pts, RATE / 2 - 1024);
    CHECK_EQ_U64(r.end_pts, RATE / 2 + 100 * PKT_SAMPLES);
}

/* A sound that stops mid-frame still ends at its last sample. */
static void test_short_tail(void)
{
    Result r = encode(7, 200); /* 1120 samples: one frame and a bit */
    CHECK_EQ_U64(r.end_pts, 1600 + 7 * PKT_SAMPLES);
}

int main(void)
{
    RUN(test_early_sound);
    RUN(test_late_sound);
    RUN(test_short_tail);
    return 0;
}
