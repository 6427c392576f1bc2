#include "decoder.h"

#include "avlog.h"
#include "clock.h"
#include "damage.h"
#include "framegaps.h"
#include "log.h"
#include "hwaccel.h"
#include "lowres.h"
#include "ratelimit.h"

#include <libavcodec/codec_desc.h>
#include <libavutil/hwcontext.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DECODE_WARN_PERIOD_NS (10 * CW_NS_PER_SEC)
/* Packets whose capture time is remembered until their picture comes out:
 * far more than H.264's 16-frame reorder depth plus frame-thread delay. */
#define ARRIVAL_MAP_SIZE 64

/*
 * The capture time travels through the decoder by pts: a picture's pts is
 * the pts of the packet it was decoded from, whatever the reordering. (The
 * alternative, AVCodecContext.reordered_opaque, is gone from FFmpeg 7.)
 */
typedef struct ArrivalEntry {
    int64_t pts;
    CwStamp at;         /* the packet's arrival, both clocks */
    uint64_t packet_no; /* which packet it was, for the damage rules */
} ArrivalEntry;

struct CaptureDecoder {
    AVCodecContext *ctx;
    AVFrame *frame;               /* reused for every picture */
    AVFrame *sw_frame;            /* a picture copied out of the device (hardware decoding) */
    enum AVPixelFormat hw_format; /* pictures in device memory; AV_PIX_FMT_NONE: none */
    ArrivalEntry arrivals[ARRIVAL_MAP_SIZE];
    unsigned arrivals_next; /* free-running index of the next entry to write */
    int64_t last_frame_ns;
    bool intra_only;  /* every picture stands alone (MJPEG, raw video) */
    uint64_t packets; /* decoded or skipped so far; the newest one's number */
    uint64_t skipped; /* passed over undecoded (intra-only codecs) */
    CaptureDamage damage;
    CaptureFrameGaps gaps; /* frame_num gaps: damage or the camera's design */
    uint64_t pictures;
    uint64_t withheld; /* pictures kept from detection as damaged or dependent */
    uint64_t errors;
    uint64_t errors_unreported;   /* packets the decoder rejected */
    uint64_t damaged_unreported;  /* pictures decoded with concealed damage */
    uint64_t withheld_unreported; /* pictures withheld, damaged or not */
    bool hold_expiry_logged;
    CwRateLimit warn_limit; /* the summary of corrupt data, on CLOCK_MONOTONIC */
};

/*
 * The reduced-size shift to decode at (lowres.h): the smallest size that
 * still holds what the detector analyses. Only for intra-only codecs:
 * MJPEG is the one whose FFmpeg decoder offers it, and a reduced picture
 * predicted from would drift (no inter codec's decoder here allows it).
 */
static int choose_lowres(const CaptureDecoder *dec, const AVCodec *codec, const AVStream *video,
                         int analysis_width)
{
    if (!dec->intra_only || codec->max_lowres <= 0)
        return 0;
    return capture_lowres_choose(video->codecpar->width, codec->max_lowres, analysis_width);
}

/* Give `ctx` the stream's parameters and our settings, and open it. */
static int open_context(AVCodecContext *ctx, const AVStream *video, AVRational time_base,
                        int threads, int lowres)
{
    int ret = avcodec_parameters_to_context(ctx, video->codecpar);
    if (ret < 0)
        return ret;
    ctx->pkt_timebase = time_base;
    /* One thread by default: a camera's real-time stream needs little, and
     * every extra thread adds a frame of latency and memory. */
    ctx->thread_count = threads;
    ctx->lowres = lowres;
    return avcodec_open2(ctx, NULL, NULL); /* the codec it was allocated for */
}

/*
 * Try the hardware decoding HWACCEL asks for, method by method: on success
 * dec->ctx is open and one INFO line says which; else dec->ctx stays NULL
 * and one line (WARNING when a method was named, INFO for auto) says what
 * was tried, why each failed, and that decoding is in software. Returns 0,
 * or AVERROR(ENOMEM).
 */
static int open_hardware(CaptureDecoder *dec, const AVCodec *codec, const AVStream *video,
                         AVRational time_base, const CaptureDecoderConfig *cfg)
{
    const char *methods[CAPTURE_HWACCEL_MAX_METHODS];
    char tried[640] = "";
    int n = cfg->hwaccel ? capture_hwaccel_methods(cfg->hwaccel, methods) : 0;
    int ret = 0;

    for (int i = 0; i < n; i++) {
        AVCodecContext *ctx = NULL;
        char why[256] = "";
        /* libav's complaints become the reason in our one line. */
        cw_avlog_hold(true);
        ret = capture_hwaccel_context(methods[i], codec, &ctx, &dec->hw_format, why, sizeof(why));
        if (ret == 0) {
            /* A failed open forgets ctx->codec. */
            const char *name = ctx->codec->name;
            ret = open_context(ctx, video, time_base, cfg->threads, 0);
            if (ret < 0)
                snprintf(why, sizeof(why), "cannot open %s: %s", name, av_err2str(ret));
        }
        /* A decoder's complaints are counted as the camera's corrupt data
         * (capture_decoder_tick()): taken here, they are the reason. */
        char detail[256];
        cw_avlog_take_decoder_messages(detail, sizeof(detail));
        if (!*detail)
            cw_avlog_last(detail, sizeof(detail));
        const char *d = cw_avlog_strip_context(detail);
        if (ret < 0 && *d) {
            size_t len = strlen(why);
            snprintf(why + len, sizeof(why) - len, ": %s", d);
        }
        cw_avlog_hold(false);
        if (ret == 0) {
            dec->ctx = ctx; /* ownership passes to the decoder */
            cw_info("HWACCEL=%s: decoding %s with %s (%s)", cfg->hwaccel,
                    avcodec_get_name(codec->id), methods[i], dec->ctx->codec->name);
            return 0;
        }
        avcodec_free_context(&ctx);
        dec->hw_format = AV_PIX_FMT_NONE;
        if (ret == AVERROR(ENOMEM))
            return ret;
        size_t len = strlen(tried);
        snprintf(tried + len, sizeof(tried) - len, "%s%s (%s)", len ? ", " : "", methods[i], why);
    }
    if (n > 0)
        cw_log(strcmp(cfg->hwaccel, "auto") == 0 ? CW_LOG_INFO : CW_LOG_WARNING,
               "HWACCEL=%s: tried %s: decoding in software", cfg->hwaccel, tried);
    return 0;
}

int capture_decoder_open(CaptureDecoder **out, const AVStream *video, AVRational time_base,
                         const CaptureDecoderConfig *cfg)
{
    CaptureDecoder *dec = NULL;
    const AVCodec *codec = NULL;
    const AVCodecParameters *par = video->codecpar;
    int ret;

    *out = NULL;
    codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        cw_error("no decoder for %s video in this FFmpeg", avcodec_get_name(par->codec_id));
        ret = AVERROR_DECODER_NOT_FOUND;
        goto end;
    }
    dec = calloc(1, sizeof(*dec));
    if (!dec) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    dec->hw_format = AV_PIX_FMT_NONE;
    dec->frame = av_frame_alloc();
    dec->sw_frame = av_frame_alloc();
    if (!dec->frame || !dec->sw_frame) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    const AVCodecDescriptor *desc = avcodec_descriptor_get(codec->id);
    dec->intra_only = desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
    int lowres = choose_lowres(dec, codec, video, cfg->analysis_width);
    if (lowres > 0) {
        cw_info("%s %dx%d: decoding only the pictures detection analyses, at 1/%d size "
                "(lowres %d: %dx%d, DETECT_WIDTH=%d)",
                avcodec_get_name(par->codec_id), par->width, par->height, 1 << lowres, lowres,
                capture_lowres_size(par->width, lowres), capture_lowres_size(par->height, lowres),
                cfg->analysis_width);
        /* A 1/4 or 1/8 decode in software costs less than copying whole
         * pictures out of a device: the hardware is not asked. */
        if (cfg->hwaccel && strcmp(cfg->hwaccel, "none") != 0)
            cw_info("HWACCEL=%s: not used for %s, decoded at reduced size in software",
                    cfg->hwaccel, avcodec_get_name(par->codec_id));
    } else {
        ret = open_hardware(dec, codec, video, time_base, cfg);
        if (ret < 0)
            goto end;
    }
    if (!dec->ctx) {
        dec->ctx = avcodec_alloc_context3(codec);
        if (!dec->ctx) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        ret = open_context(dec->ctx, video, time_base, cfg->threads, lowres);
        if (ret < 0) {
            cw_error("cannot open the %s decoder: %s", codec->name, av_err2str(ret));
            goto end;
        }
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
 * up by capture_decoder_tick(), never fatal by itself; the pictures that
 * follow it are suspect until a clean restart point (damage.h). */
static void count_error(CaptureDecoder *dec, uint64_t packet_no)
{
    dec->errors++;
    dec->errors_unreported++;
    capture_damage_mark(&dec->damage, packet_no, cw_mono_ns());
}

static const ArrivalEntry *entry_of(CaptureDecoder *dec, const AVFrame *frame)
{
    /* Newest first: pts could repeat after a timestamp wrap. A missing pts
     * matches too: RTSP gives the first packet none, and with frame threads
     * the newest packet is no longer the one a picture came from. */
    for (unsigned i = 1; i <= ARRIVAL_MAP_SIZE && i <= dec->arrivals_next; i++) {
        const ArrivalEntry *e = &dec->arrivals[(dec->arrivals_next - i) % ARRIVAL_MAP_SIZE];
        if (e->pts == frame->pts)
            return e;
    }
    /* Not found (a decoder that invents timestamps): the newest packet is
     * the best guess, and exact for codecs that do not reorder. */
    return &dec->arrivals[(dec->arrivals_next - 1) % ARRIVAL_MAP_SIZE];
}

static bool is_restart_point(const CaptureDecoder *dec, const AVFrame *frame)
{
#ifdef AV_FRAME_FLAG_KEY
    bool key = frame->flags & AV_FRAME_FLAG_KEY; /* FFmpeg 6.1 and later */
#else
    bool key = frame->key_frame;
#endif
    /* An H.264/H.265 keyframe is an IDR/IRAP picture or a recovery point:
     * nothing after it refers to anything before it. A mere I picture is
     * not enough (later pictures may still refer past it). */
    return key || dec->intra_only;
}

/* Whether `frame` goes to detection; counts and logs what it withholds. */
static bool may_publish(CaptureDecoder *dec, const AVFrame *frame, uint64_t packet_no)
{
    CapturePicture picture = {
        .packet_no = packet_no,
        .damaged = frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT),
        .restart_point = is_restart_point(dec, frame),
    };
    int64_t now = cw_mono_ns();
    if (picture.damaged)
        dec->damaged_unreported++;
    switch (capture_damage_judge(&dec->damage, &picture, now)) {
    case CAPTURE_PUBLISH:
        return true;
    case CAPTURE_PUBLISH_RECOVERED:
        cw_debug("clean keyframe: pictures go to detection again");
        dec->hold_expiry_logged = false;
        return true;
    case CAPTURE_PUBLISH_HOLD_EXPIRED:
        if (!dec->hold_expiry_logged)
            cw_warn("no keyframe for %lld s after damaged video: pictures go to detection "
                    "again and may stay smeared until the camera sends one",
                    (long long)(CAPTURE_DAMAGE_HOLD_MAX_NS / CW_NS_PER_SEC));
        dec->hold_expiry_logged = true;
        return true;
    case CAPTURE_WITHHOLD_DAMAGED:
    case CAPTURE_WITHHOLD_DEPENDENT:
        break;
    }
    dec->withheld++;
    dec->withheld_unreported++;
    return false;
}

/*
 * Hand the picture in dec->frame to `on_frame`; one the hardware decoded
 * is copied out of the device first (a failed copy is counted as corrupt
 * data). Returns on_frame's result, or AVERROR(ENOMEM).
 */
static int hand_out(CaptureDecoder *dec, CaptureFrameFn on_frame, void *arg,
                    const ArrivalEntry *entry)
{
    if (dec->hw_format == AV_PIX_FMT_NONE || dec->frame->format != dec->hw_format)
        return on_frame(arg, dec->frame, entry->at);
    int ret = av_hwframe_transfer_data(dec->sw_frame, dec->frame, 0);
    if (ret >= 0)
        ret = av_frame_copy_props(dec->sw_frame, dec->frame);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0) {
        count_error(dec, entry->packet_no);
        av_frame_unref(dec->sw_frame);
        return 0;
    }
    ret = on_frame(arg, dec->sw_frame, entry->at);
    av_frame_unref(dec->sw_frame);
    return ret;
}

int capture_decoder_decode(CaptureDecoder *dec, const AVPacket *pkt, CwStamp at,
                           CaptureFrameFn on_frame, void *arg)
{
    int ret;

    /* An empty packet would be taken for the end of the stream (a flush),
     * after which the decoder accepts nothing more. */
    if (pkt->size <= 0)
        return 0;
    dec->packets++;
    dec->arrivals[dec->arrivals_next % ARRIVAL_MAP_SIZE] =
        (ArrivalEntry){pkt->pts, at, dec->packets};
    dec->arrivals_next++;

    if ((pkt->flags & AV_PKT_FLAG_KEY) && capture_frame_gaps_keyframe(&dec->gaps))
        cw_warn("the camera's H.264 stream skips as many frame numbers in each of %d keyframe "
                "intervals in a row, with no packet lost: taken as its design (temporal layers), "
                "not as damage; pictures after such gaps go to detection",
                CAPTURE_GAP_GOPS_BY_DESIGN);
    ret = avcodec_send_packet(dec->ctx, pkt);
    if (ret == AVERROR(ENOMEM))
        return ret;
    /* EAGAIN cannot happen (all output is drained after every packet); any
     * other error is this packet's data: count it and go on. */
    if (ret < 0 && ret != AVERROR(EAGAIN))
        count_error(dec, dec->packets);
    /* A picture lost whole before this one: this one and those predicted
     * from it are smeared (the decoder marks none of them). FFmpeg 5.1's
     * H.264 decoder says so in its slice header parsing, within this
     * send_packet with one decoding thread (the default); with frame
     * threads the line may come a packet or more later, and so the mark. */
    unsigned long gaps = cw_avlog_take_frame_gaps();
    if (gaps && capture_frame_gaps_seen(&dec->gaps, gaps))
        capture_damage_mark(&dec->damage, dec->packets, cw_mono_ns());

    for (;;) {
        ret = avcodec_receive_frame(dec->ctx, dec->frame);
        /* EAGAIN: the decoder wants more input; EOF: only after a flush. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR(ENOMEM))
            return ret;
        if (ret < 0) {
            count_error(dec, dec->packets);
            return 0;
        }
        dec->last_frame_ns = cw_mono_ns();
        dec->pictures++;
        const ArrivalEntry *entry = entry_of(dec, dec->frame);
        /* A damaged picture would show detection a change that never
         * happened; it still decoded, so the camera is not stalled. */
        ret = may_publish(dec, dec->frame, entry->packet_no) ? hand_out(dec, on_frame, arg, entry)
                                                             : 0;
        av_frame_unref(dec->frame);
        if (ret < 0)
            return ret;
    }
}

void capture_decoder_note_loss(CaptureDecoder *dec)
{
    capture_frame_gaps_loss(&dec->gaps);
    capture_damage_mark(&dec->damage, dec->packets + 1, cw_mono_ns());
}

bool capture_decoder_intra_only(const CaptureDecoder *dec)
{
    return dec->intra_only;
}

int capture_decoder_lowres(const CaptureDecoder *dec)
{
    return dec->ctx->lowres;
}

void capture_decoder_skip(CaptureDecoder *dec)
{
    dec->packets++;
    dec->skipped++;
}

uint64_t capture_decoder_skipped(const CaptureDecoder *dec)
{
    return dec->skipped;
}

int64_t capture_decoder_last_frame_ns(const CaptureDecoder *dec)
{
    return dec->last_frame_ns;
}

uint64_t capture_decoder_errors(const CaptureDecoder *dec)
{
    return dec->errors;
}

uint64_t capture_decoder_pictures(const CaptureDecoder *dec)
{
    return dec->pictures;
}

uint64_t capture_decoder_withheld(const CaptureDecoder *dec)
{
    return dec->withheld;
}

void capture_decoder_tick(CaptureDecoder *dec, int64_t now_ns)
{
    char last[256];

    /* What the limiter says it held back are ticks, not corrupt data (the
     * report counts that itself): its count is not used. */
    if (cw_ratelimit_test(&dec->warn_limit, now_ns) < 0)
        return;
    unsigned long messages = cw_avlog_take_decoder_messages(last, sizeof(last));
    if (!dec->errors_unreported && !dec->damaged_unreported && !dec->withheld_unreported &&
        !messages) {
        /* Nothing to say: the first corrupt data to come is reported at
         * once, not an interval after this silent tick. */
        cw_ratelimit_reset(&dec->warn_limit);
        return;
    }
    cw_warn("corrupt video from the camera: %llu rejected packets, %llu damaged pictures, %lu "
            "decoder messages since the last report%s%s%s; %llu pictures withheld from "
            "detection until a clean keyframe (at most one report per %lld s)",
            (unsigned long long)dec->errors_unreported, (unsigned long long)dec->damaged_unreported,
            messages, *last ? " (last: " : "", last, *last ? ")" : "",
            (unsigned long long)dec->withheld_unreported,
            (long long)(DECODE_WARN_PERIOD_NS / CW_NS_PER_SEC));
    dec->errors_unreported = 0;
    dec->damaged_unreported = 0;
    dec->withheld_unreported = 0;
}

void capture_decoder_close(CaptureDecoder **pdec)
{
    CaptureDecoder *dec = *pdec;
    if (!dec)
        return;
    avcodec_free_context(&dec->ctx);
    av_frame_free(&dec->frame);
    av_frame_free(&dec->sw_frame);
    free(dec);
    *pdec = NULL;
}
