#include "decoder.h"

#include "avlog.h"
#include "clock.h"
#include "log.h"
#include "ratelimit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define DECODE_WARN_PERIOD_NS (10 * CW_NS_PER_SEC)
/* Packets whose capture time is remembered until their picture comes out:
 * far more than H.264's 16-frame reorder depth plus frame-thread delay. */
#define WALL_MAP_SIZE 64

/*
 * The capture time travels through the decoder by pts: a picture's pts is
 * the pts of the packet it was decoded from, whatever the reordering. (The
 * alternative, AVCodecContext.reordered_opaque, is gone from FFmpeg 7.)
 */
typedef struct WallEntry {
    int64_t pts;
    int64_t wall_ns;
} WallEntry;

struct CaptureDecoder {
    AVCodecContext *ctx;
    AVFrame *frame; /* reused for every picture */
    WallEntry walls[WALL_MAP_SIZE];
    unsigned walls_next; /* free-running index of the next entry to write */
    int64_t last_wall_ns;
    int64_t last_frame_ns;
    uint64_t errors;
    uint64_t errors_unreported;  /* packets the decoder rejected */
    uint64_t damaged_unreported; /* pictures decoded with concealed damage */
    CwRateLimit warn_limit;      /* the summary of corrupt data, on CLOCK_MONOTONIC */
};

int capture_decoder_open(CaptureDecoder **out, const AVStream *video, AVRational time_base,
                         int threads)
{
    CaptureDecoder *dec = NULL;
    const AVCodec *codec = NULL;
    int ret;

    *out = NULL;
    codec = avcodec_find_decoder(video->codecpar->codec_id);
    if (!codec) {
        cw_error("no decoder for %s video in this FFmpeg",
                 avcodec_get_name(video->codecpar->codec_id));
        ret = AVERROR_DECODER_NOT_FOUND;
        goto end;
    }
    dec = calloc(1, sizeof(*dec));
    if (!dec) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    dec->ctx = avcodec_alloc_context3(codec);
    dec->frame = av_frame_alloc();
    if (!dec->ctx || !dec->frame) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = avcodec_parameters_to_context(dec->ctx, video->codecpar);
    if (ret < 0)
        goto end;
    dec->ctx->pkt_timebase = time_base;
    /* One thread by default: a camera's real-time stream needs little, and
     * every extra thread adds a frame of latency and memory. */
    dec->ctx->thread_count = threads;
    ret = avcodec_open2(dec->ctx, codec, NULL);
    if (ret < 0) {
        cw_error("cannot open the %s decoder: %s", codec->name, av_err2str(ret));
        goto end;
    }
    dec->last_frame_ns = cw_mono_ns();
    dec->warn_limit = (CwRateLimit)CW_RATELIMIT_INIT(DECODE_WARN_PERIOD_NS);
    ret = 0;

end:
    if (ret < 0) {
        capture_decoder_close(&dec);
        return ret;
    }
    *out = dec; /* ownership passes to the caller */
    return 0;
}

/* Corrupt data is the camera's (or the network's) doing: counted, summed
 * up by capture_decoder_tick(), never fatal by itself. */
static void count_error(CaptureDecoder *dec)
{
    dec->errors++;
    dec->errors_unreported++;
}

static int64_t wall_of(CaptureDecoder *dec, const AVFrame *frame)
{
    /* Newest first: pts could repeat after a timestamp wrap. A missing pts
     * matches too: RTSP gives the first packet none, and with frame threads
     * the newest packet is no longer the one a picture came from. */
    for (unsigned i = 1; i <= WALL_MAP_SIZE && i <= dec->walls_next; i++) {
        const WallEntry *e = &dec->walls[(dec->walls_next - i) % WALL_MAP_SIZE];
        if (e->pts == frame->pts)
            return e->wall_ns;
    }
    /* Not found (a decoder that invents timestamps): the newest packet is
     * the best guess, and exact for codecs that do not reorder. */
    return dec->last_wall_ns;
}

int capture_decoder_decode(CaptureDecoder *dec, const AVPacket *pkt, int64_t wall_ns,
                           CaptureFrameFn on_frame, void *arg)
{
    int ret;

    /* An empty packet would be taken for the end of the stream (a flush),
     * after which the decoder accepts nothing more. */
    if (pkt->size <= 0)
        return 0;
    dec->walls[dec->walls_next % WALL_MAP_SIZE] = (WallEntry){pkt->pts, wall_ns};
    dec->walls_next++;
    dec->last_wall_ns = wall_ns;

    ret = avcodec_send_packet(dec->ctx, pkt);
    if (ret == AVERROR(ENOMEM))
        return ret;
    /* EAGAIN cannot happen (all output is drained after every packet); any
     * other error is this packet's data: count it and go on. */
    if (ret < 0 && ret != AVERROR(EAGAIN))
        count_error(dec);

    for (;;) {
        ret = avcodec_receive_frame(dec->ctx, dec->frame);
        /* EAGAIN: the decoder wants more input; EOF: only after a flush. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR(ENOMEM))
            return ret;
        if (ret < 0) {
            count_error(dec);
            return 0;
        }
        dec->last_frame_ns = cw_mono_ns();
        /* A picture with concealed damage still goes to detection: it is
         * mostly right, and the next keyframe repairs it. */
        if (dec->frame->decode_error_flags || (dec->frame->flags & AV_FRAME_FLAG_CORRUPT))
            dec->damaged_unreported++;
        ret = on_frame(arg, dec->frame, wall_of(dec, dec->frame));
        av_frame_unref(dec->frame);
        if (ret < 0)
            return ret;
    }
}

int64_t capture_decoder_last_frame_ns(const CaptureDecoder *dec)
{
    return dec->last_frame_ns;
}

uint64_t capture_decoder_errors(const CaptureDecoder *dec)
{
    return dec->errors;
}

void capture_decoder_tick(CaptureDecoder *dec, int64_t now_ns)
{
    char last[256];

    /* What the limiter says it held back are ticks, not corrupt data (the
     * report counts that itself): its count is not used. */
    if (cw_ratelimit_test(&dec->warn_limit, now_ns) < 0)
        return;
    unsigned long messages = cw_avlog_take_decoder_messages(last, sizeof(last));
    if (!dec->errors_unreported && !dec->damaged_unreported && !messages) {
        /* Nothing to say: the first corrupt data to come is reported at
         * once, not an interval after this silent tick. */
        cw_ratelimit_reset(&dec->warn_limit);
        return;
    }
    cw_warn("corrupt video from the camera: %llu rejected packets, %llu damaged pictures, %lu "
            "decoder messages since the last report%s%s%s (at most one report per %lld s)",
            (unsigned long long)dec->errors_unreported, (unsigned long long)dec->damaged_unreported,
            messages, *last ? " (last: " : "", last, *last ? ")" : "",
            (long long)(DECODE_WARN_PERIOD_NS / CW_NS_PER_SEC));
    dec->errors_unreported = 0;
    dec->damaged_unreported = 0;
}

void capture_decoder_close(CaptureDecoder **pdec)
{
    CaptureDecoder *dec = *pdec;
    if (!dec)
        return;
    avcodec_free_context(&dec->ctx);
    av_frame_free(&dec->frame);
    free(dec);
    *pdec = NULL;
}
