/*
 * The libav helpers (libcamwatch-av): libav's context prefix stripped from
 * its lines, the YUVJ formats named by layout and range, and av_log routed
 * through cw_log as capture's connect and decoder summary use it.
 */
#include "check.h"

#include "avlog.h"
#include "avpixfmt.h"
#include "log.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include <stdbool.h>

static void test_strip_context(void)
{
    CHECK(!strcmp(cw_avlog_strip_context("[tcp @ 0x55d0c0a8c5c0] Connection refused"),
                  "Connection refused"));
    /* A child's line carries its parent's prefix first. */
    CHECK(!strcmp(cw_avlog_strip_context("[rtsp @ 0x5600] [tcp @ 0x5601] Connection timed out"),
                  "Connection timed out"));
    CHECK(!strcmp(cw_avlog_strip_context("[NULL @ (nil)] x"), "x"));
    /* Brackets that are the message's own text stay. */
    CHECK(!strcmp(cw_avlog_strip_context("[info] 401 Unauthorized"), "[info] 401 Unauthorized"));
    CHECK(!strcmp(cw_avlog_strip_context("[a] b @ c] d"), "[a] b @ c] d"));
    CHECK(!strcmp(cw_avlog_strip_context("[h264 @ 0x1]"), "[h264 @ 0x1]"));
    CHECK(!strcmp(cw_avlog_strip_context("no prefix"), "no prefix"));
    CHECK(!strcmp(cw_avlog_strip_context(""), ""));
}

static void test_unjpeg(void)
{
    static const enum AVPixelFormat pairs[][2] = {
        {AV_PIX_FMT_YUVJ411P, AV_PIX_FMT_YUV411P}, {AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV420P},
        {AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUV422P}, {AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUV440P},
        {AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUV444P},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        bool full = false;
        CHECK(cw_avpixfmt_unjpeg(pairs[i][0], &full) == pairs[i][1]);
        CHECK(full);
        CHECK(cw_avpixfmt_unjpeg(pairs[i][0], NULL) == pairs[i][1]);
        /* The plain layout is returned as it is, and says nothing of range. */
        full = false;
        CHECK(cw_avpixfmt_unjpeg(pairs[i][1], &full) == pairs[i][1] && !full);
        full = true;
        CHECK(cw_avpixfmt_unjpeg(pairs[i][1], &full) == pairs[i][1] && full);
    }
    bool full = false;
    CHECK(cw_avpixfmt_unjpeg(AV_PIX_FMT_NV12, &full) == AV_PIX_FMT_NV12 && !full);
    CHECK(cw_avpixfmt_unjpeg(AV_PIX_FMT_NONE, NULL) == AV_PIX_FMT_NONE);
}

/* While held, libav's complaint is kept whole for the caller's one line. */
static void test_held_detail(void)
{
    char last[512];
    AVFormatContext *fmt = avformat_alloc_context();
    CHECK(fmt != NULL);
    cw_avlog_hold(true);
    av_log(fmt, AV_LOG_ERROR, "method DESCRIBE failed: ");
    av_log(fmt, AV_LOG_ERROR, "401 Unauthorized\n"); /* one line sent in two pieces */
    av_log(fmt, AV_LOG_WARNING, "Authorization: Basic dXNlcjpwYXNz\n");
    cw_avlog_last(last, sizeof(last));
    CHECK_STR_CONTAINS(last, "Authorization: ***");
    CHECK_STR_LACKS(last, "dXNlcjpwYXNz");
    av_log(fmt, AV_LOG_ERROR, "method DESCRIBE failed: ");
    av_log(fmt, AV_LOG_ERROR, "401 Unauthorized\n");
    CHECK(!strcmp(cw_avlog_strip_context(cw_avlog_last(last, sizeof(last))),
                  "method DESCRIBE failed: 401 Unauthorized"));
    CHECK(last[0] == '['); /* the prefix was there to strip */
    cw_avlog_hold(false);
    cw_avlog_hold(true); /* holding again forgets the last complaint */
    CHECK(!strcmp(cw_avlog_last(last, sizeof(last)), ""));
    cw_avlog_hold(false);
    avformat_free_context(fmt);
}

/* A decoder's complaints are counted for the summary, their prefix gone,
 * and an error is kept over a later note. */
static void test_decoder_messages(void)
{
    char last[256];
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    CHECK(codec != NULL);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    CHECK(dec != NULL);
    cw_avlog_take_decoder_messages(last, sizeof(last)); /* start from nothing */
    av_log(dec, AV_LOG_ERROR, "error while decoding MB 3 4, bytestream -5\n");
    av_log(dec, AV_LOG_INFO, "concealing 1384 DC, 1384 AC, 1384 MV errors in P frame\n");
    CHECK(cw_avlog_take_decoder_messages(last, sizeof(last)) == 2);
    CHECK(!strcmp(last, "error while decoding MB 3 4, bytestream -5"));
    CHECK(cw_avlog_take_decoder_messages(last, sizeof(last)) == 0 && !strcmp(last, ""));
    av_log(dec, AV_LOG_INFO, "concealing 2 DC, 2 AC, 2 MV errors in I frame\n");
    CHECK(cw_avlog_take_decoder_messages(last, sizeof(last)) == 1);
    CHECK(!strcmp(last, "concealing 2 DC, 2 AC, 2 MV errors in I frame"));
    avcodec_free_context(&dec);
}

int main(void)
{
    cw_log_init("avhelpers");
    cw_avlog_install(CW_LOG_INFO);
    RUN(test_strip_context);
    RUN(test_unjpeg);
    RUN(test_held_detail);
    RUN(test_decoder_messages);
    return 0;
}
