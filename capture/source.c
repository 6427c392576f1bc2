#define _GNU_SOURCE
#include "source.h"

#include "avlog.h"
#include "clock.h"
#include "log.h"
#include "transport.h"
#include "watchdog.h"

#include <libavdevice/avdevice.h>
#include <libavutil/avstring.h>
#include <libavutil/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long closing may take: RTSP sends a TEARDOWN the camera may ignore. */
#define SOURCE_CLOSE_NS (1 * CW_NS_PER_SEC)
/* Slice of a sleep (pacing a file, waiting to ask the camera again), so
 * that a stop request is seen promptly even if its signal went to the
 * watchdog thread. */
#define PACE_SLICE_NS (100 * CW_NS_PER_MSEC)
/* A file's timestamps going back by more than this restart the pacing
 * clock instead of releasing packets as fast as they can be read. */
#define PACE_BACKWARD_NS (1 * CW_NS_PER_SEC)
/* A camera that answers the fallback attempt "503 Service Unavailable" is
 * asked again this many times, this long apart. */
#define FALLBACK_RETRIES  3
#define FALLBACK_PAUSE_NS (300 * CW_NS_PER_MSEC)
/* Clock of the timestamps given to sources that have none (as RTP video). */
#define RESTAMP_HZ 90000

enum SourceKind { SOURCE_NETWORK, SOURCE_RTSP, SOURCE_FILE, SOURCE_V4L2 };

struct CaptureSource {
    AVFormatContext *fmt;
    AVStream *video;
    AVStream *audio; /* the camera's sound; NULL: none, or RECORD_AUDIO=off */
    enum SourceKind kind;
    CaptureTransport transport; /* RTSP: the one asked for (libav refuses another) */
    uint64_t packets_lost;      /* RTP packets the demuxer found missing */
    int64_t timeout_ns;
    const volatile sig_atomic_t *stop;
    CaptureWaitFn on_wait;
    void *wait_arg;
    /* Interrupt state: read by the callback from inside libav. */
    int64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none */
    bool timed_out;      /* the callback interrupted a call for its deadline */
    int64_t last_video_ns;
    /* Sources without timestamps: arrival time since the first packet. */
    bool restamp;
    int64_t restamp_base_ns;
    /* File pacing: packet time t is due at pace_base_ns + t (monotonic). */
    bool pace_anchored;
    int64_t pace_base_ns;
    int64_t paced_packets;
};

static enum SourceKind source_kind(const char *url)
{
    if (av_strstart(url, "rtsp://", NULL) || av_strstart(url, "rtsps://", NULL))
        return SOURCE_RTSP;
    if (av_strstart(url, "/dev/video", NULL))
        return SOURCE_V4L2;
    if (cw_config_source_is_file(url))
        return SOURCE_FILE;
    return SOURCE_NETWORK;
}

/*
 * libav's interrupt callback: 1 aborts the blocking call in progress. libav
 * calls it at least every 100 ms while it waits on a socket.
 */
static int source_interrupt(void *opaque)
{
    CaptureSource *src = opaque;
    if (*src->stop)
        return 1;
    int64_t now = cw_mono_ns();
    if (src->on_wait)
        src->on_wait(src->wait_arg, now);
    if (src->deadline_ns && now > src->deadline_ns) {
        src->timed_out = true;
        return 1;
    }
    return 0;
}

static void set_deadline(CaptureSource *src, int64_t deadline_ns, const char *what)
{
    src->deadline_ns = deadline_ns;
    src->timed_out = false;
    capture_watchdog_arm(deadline_ns, what);
}

static void clear_deadline(CaptureSource *src)
{
    src->deadline_ns = 0;
    capture_watchdog_disarm();
}

/* Sleep until `until_ns` (CLOCK_MONOTONIC) unless a stop is requested,
 * keeping heartbeats going. Returns 0, or AVERROR_EXIT when stopped. */
static int sleep_until(CaptureSource *src, int64_t until_ns)
{
    for (int64_t now = cw_mono_ns(); now < until_ns; now = cw_mono_ns()) {
        if (*src->stop)
            return AVERROR_EXIT;
        int64_t wake = until_ns - now > PACE_SLICE_NS ? now + PACE_SLICE_NS : until_ns;
        struct timespec ts_wake = cw_ns_to_timespec(wake);
        /* EINTR (a stop signal) is handled by the flag check above. */
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts_wake, NULL);
        if (src->on_wait)
            src->on_wait(src->wait_arg, cw_mono_ns());
    }
    return 0;
}

/* Close the connection, if any, within SOURCE_CLOSE_NS. */
static void close_input(CaptureSource *src)
{
    if (!src->fmt)
        return;
    set_deadline(src, cw_mono_ns() + SOURCE_CLOSE_NS, "closing the connection");
    avformat_close_input(&src->fmt);
    clear_deadline(src);
}

/* The v4l2 demuxer lives in libavdevice: register it on first use. */
static const AVInputFormat *v4l2_input_format(void)
{
    avdevice_register_all();
    const AVInputFormat *format = av_find_input_format("v4l2");
    if (!format)
        cw_error("this FFmpeg build has no v4l2 input: V4L2 webcams cannot be read");
    return format;
}

/* Reason a connect failed, for a person: what to check, not an errno name. */
static void describe_failure(const CaptureSource *src, int err, char *buf, size_t size)
{
    char detail[512], reason[AV_ERROR_MAX_STRING_SIZE];

    av_strerror(err, reason, sizeof(reason));
    /* libav's last complaint, without its "[tcp @ 0x55d0c0a8c5c0] " prefix. */
    const char *d = cw_avlog_strip_context(cw_avlog_last(detail, sizeof(detail)));

    if (src->timed_out) {
        snprintf(buf, size, "no answer within %g s", (double)src->timeout_ns / CW_NS_PER_SEC);
    } else if (err == AVERROR_HTTP_UNAUTHORIZED || strstr(reason, "401") || strstr(d, "401")) {
        snprintf(buf, size,
                 "camera rejected the credentials (401 Unauthorized): check the user and "
                 "password in RTSP_URL");
    } else if (err == AVERROR_HTTP_FORBIDDEN || strstr(d, "403")) {
        snprintf(buf, size, "camera refused access (403 Forbidden)");
    } else if (err == AVERROR_HTTP_NOT_FOUND || strstr(d, "404")) {
        snprintf(buf, size, "camera has no stream at this path (404 Not Found)");
    } else if (err == AVERROR_STREAM_NOT_FOUND) {
        snprintf(buf, size, "the source has no video stream");
    } else if (*d && !strstr(d, reason)) {
        snprintf(buf, size, "%s (%s)", reason, d);
    } else {
        snprintf(buf, size, "%s", reason);
    }
}

/*
 * One attempt to connect, probe the stream and find its video, over
 * `transport` for RTSP. Leaves src->fmt open on success; on failure, the
 * caller reads libav's last complaint with cw_avlog_last() and
 * src->timed_out. Returns 0 or a negative AVERROR.
 */
static int open_attempt(CaptureSource *src, const CwConfig *cfg, const AVInputFormat *format,
                        CaptureTransport transport)
{
    AVDictionary *opts = NULL;
    const char *url = cfg->rtsp_url;
    int ret;

    /* A failed probe leaves the context of the previous attempt open. */
    close_input(src);
    src->video = NULL;
    src->audio = NULL;
    src->transport = transport;
    src->fmt = avformat_alloc_context();
    if (!src->fmt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    src->fmt->interrupt_callback.callback = source_interrupt;
    src->fmt->interrupt_callback.opaque = src;

    if (src->kind == SOURCE_RTSP) {
        ret = av_dict_set(&opts, "rtsp_transport", capture_transport_name(transport), 0);
        if (ret < 0)
            goto end;
    }
    if (src->kind == SOURCE_RTSP || src->kind == SOURCE_NETWORK) {
        /* Stream probing must finish well inside the connect deadline (its
         * default, 5 s, is longer than a short TIMEOUT_SECONDS). */
        int64_t analyze_us = (int64_t)(cfg->timeout_s * 1e6 / 2);
        if (analyze_us > 5000000)
            analyze_us = 5000000;
        ret = av_dict_set_int(&opts, "analyzeduration", analyze_us, 0);
        if (ret < 0)
            goto end;
        /* Estimating the frame rate takes 20 frames by default (2 s of a
         * 10 fps camera) unless the SDP states it; every probed packet is
         * handed out later in one burst, stamped with the time it was read
         * out rather than received. A few frames keep the burst short. */
        ret = av_dict_set_int(&opts, "fpsprobesize", 3, 0);
        if (ret < 0)
            goto end;
    }

    /* libav's own complaints during the connect become the detail of our
     * single line (describe_failure) instead of lines of their own. */
    cw_avlog_hold(true);
    int64_t t_connect = cw_mono_ns(), t_probe = 0;
    set_deadline(src, t_connect + src->timeout_ns, "connecting");
    /* On failure avformat_open_input() frees the context and NULLs src->fmt. */
    ret = avformat_open_input(&src->fmt, url, format, &opts);
    if (ret >= 0) {
        t_probe = cw_mono_ns();
        set_deadline(src, t_probe + src->timeout_ns, "probing the stream");
        ret = avformat_find_stream_info(src->fmt, NULL);
        cw_debug("connect took %.3f s, stream probing %.3f s", (t_probe - t_connect) / 1e9,
                 (cw_mono_ns() - t_probe) / 1e9);
    }
    if (ret >= 0) {
        ret = av_find_best_stream(src->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        if (ret >= 0)
            src->video = src->fmt->streams[ret];
    }
    clear_deadline(src);
    cw_avlog_hold(false);

end:
    av_dict_free(&opts);
    return ret < 0 ? ret : 0;
}

/* What to set instead of a transport the camera refused. */
static const char *transport_advice(const char *url, CaptureTransport refused)
{
    if (av_strstart(url, "rtsps://", NULL))
        return "an rtsp:// URL with RTSP_TRANSPORT=udp or auto (FFmpeg carries rtsps:// over "
               "TCP only)";
    switch (refused) {
    case CAPTURE_TRANSPORT_UDP:
        return "RTSP_TRANSPORT=tcp or auto";
    case CAPTURE_TRANSPORT_UDP_MULTICAST:
        return "RTSP_TRANSPORT=udp, tcp or auto";
    default:
        return "RTSP_TRANSPORT=udp or auto";
    }
}

static const char *refusal_text(int status)
{
    return status == 461 ? "SETUP answered 461 Unsupported Transport"
                         : "it answered 400 Bad Request";
}

/*
 * After a failed RTSP attempt over `tried` (libav's complaint in `detail`):
 * if the camera refused that transport and RTSP_TRANSPORT=auto, try the
 * other one, remember it if it works, and log the choice. Returns 0 when
 * connected, the (new) failure otherwise; sets *reported when the failure
 * has had its ERROR line here.
 */
static int after_refusal(CaptureSource *src, const CwConfig *cfg, CaptureTransport tried, int err,
                         const char *detail, bool *reported)
{
    const char *url = cfg->rtsp_url;
    int status = capture_transport_refusal(err, detail);
    bool is_auto = capture_transport_from_name(cfg->rtsp_transport) == CAPTURE_TRANSPORT_AUTO;

    *reported = false;
    if (!status)
        return err;
    /* rtsps:// carries RTP inside its TLS connection: libav allows nothing
     * else, so there is nothing to fall back to. */
    if (!is_auto || av_strstart(url, "rtsps://", NULL)) {
        if (status == 461)
            cw_error("cannot open %s: the camera refuses RTP over %s (%s): set %s", url,
                     capture_transport_label(tried), refusal_text(status),
                     transport_advice(url, tried));
        else /* a 400 may have been any request: a hint, not a verdict */
            cw_error("cannot open %s: the camera answered 400 Bad Request; a camera that refuses "
                     "RTP over %s answers so too: try %s",
                     url, capture_transport_label(tried), transport_advice(url, tried));
        *reported = true;
        return err;
    }

    char first_why[768];
    describe_failure(src, err, first_why, sizeof(first_why));
    CaptureTransport other = capture_transport_fallback(tried);
    cw_debug("%s refused RTP over %s (%s): trying %s", url, capture_transport_label(tried),
             refusal_text(status), capture_transport_label(other));
    int ret = open_attempt(src, cfg, NULL, other);
    /* A camera may still be tearing down the refused session and answer
     * 503 Service Unavailable ("try again later"; gst-rtsp-server does, for
     * a shared stream): so it is told, briefly. */
    for (int retry = 0; retry < FALLBACK_RETRIES && ret == AVERROR_HTTP_SERVER_ERROR && !*src->stop;
         retry++) {
        char busy[512];
        if (!strstr(cw_avlog_last(busy, sizeof(busy)), "503"))
            break;
        cw_debug("the camera is busy (503 Service Unavailable): trying %s again",
                 capture_transport_label(other));
        if (sleep_until(src, cw_mono_ns() + FALLBACK_PAUSE_NS) < 0)
            return AVERROR_EXIT;
        ret = open_attempt(src, cfg, NULL, other);
    }
    if (ret >= 0) {
        cw_info("the camera refuses RTP over %s (%s): using %s", capture_transport_label(tried),
                refusal_text(status), capture_transport_label(other));
        capture_transport_remember(other);
        return 0;
    }
    if (*src->stop || ret == AVERROR(ENOMEM))
        return ret;
    char why[768], other_detail[512];
    describe_failure(src, ret, why, sizeof(why));
    cw_avlog_last(other_detail, sizeof(other_detail));
    *reported = true;
    if (status == 461 && capture_transport_refusal(ret, other_detail) == 461)
        cw_error("cannot open %s: the camera refuses RTP over both %s and %s (SETUP answered "
                 "461 Unsupported Transport): set RTSP_TRANSPORT=udp_multicast or http if it "
                 "offers either",
                 url, capture_transport_label(tried), capture_transport_label(other));
    else if (status == 461)
        cw_error("cannot open %s: the camera refuses RTP over %s (%s), and over %s: %s", url,
                 capture_transport_label(tried), refusal_text(status),
                 capture_transport_label(other), why);
    else /* the 400 was not about the transport, or not only */
        cw_error("cannot open %s: %s (over %s too: %s)", url, first_why,
                 capture_transport_label(other), why);
    return ret;
}

int capture_source_open(CaptureSource **out, const CwConfig *cfg, const volatile sig_atomic_t *stop,
                        CaptureWaitFn on_wait, void *wait_arg)
{
    CaptureSource *src = NULL;
    const AVInputFormat *format = NULL;
    const char *url = cfg->rtsp_url;
    CaptureTransport transport = capture_transport_from_name(cfg->rtsp_transport);
    bool reported = false;
    int ret;

    *out = NULL;
    src = calloc(1, sizeof(*src));
    if (!src) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    src->kind = source_kind(url);
    src->timeout_ns = (int64_t)(cfg->timeout_s * CW_NS_PER_SEC);
    src->stop = stop;
    src->on_wait = on_wait;
    src->wait_arg = wait_arg;

    if (src->kind == SOURCE_V4L2) {
        format = v4l2_input_format();
        if (!format) {
            ret = CAPTURE_ERR_UNSUPPORTED;
            goto end;
        }
    }
    if (transport == CAPTURE_TRANSPORT_AUTO)
        transport = capture_transport_first();
    ret = open_attempt(src, cfg, format, transport);
    if (ret < 0 && src->kind == SOURCE_RTSP && !*stop && !src->timed_out &&
        ret != AVERROR(ENOMEM)) {
        char detail[512];
        cw_avlog_last(detail, sizeof(detail));
        ret = after_refusal(src, cfg, transport, ret, detail, &reported);
    }
    if (ret < 0)
        goto end;
    /* libav carries rtsps:// inside its TLS connection whatever was asked. */
    if (av_strstart(url, "rtsps://", NULL))
        src->transport = CAPTURE_TRANSPORT_TCP;

    /* The video, and the sound that goes with it unless RECORD_AUDIO=off:
     * the demuxer can drop every other stream early. */
    if (strcmp(cfg->record_audio, "off") != 0) {
        int a = av_find_best_stream(src->fmt, AVMEDIA_TYPE_AUDIO, -1, src->video->index, NULL, 0);
        if (a >= 0)
            src->audio = src->fmt->streams[a];
    }
    for (unsigned i = 0; i < src->fmt->nb_streams; i++)
        if (src->fmt->streams[i] != src->video && src->fmt->streams[i] != src->audio)
            src->fmt->streams[i]->discard = AVDISCARD_ALL;
    src->last_video_ns = cw_mono_ns();
    /* libav invents timestamps for such sources from a guessed frame rate
     * (25 fps for MJPEG over HTTP, whatever the camera sends). */
    src->restamp = (src->fmt->iformat->flags & AVFMT_NOTIMESTAMPS) != 0;
    ret = 0;

end:
    if (ret < 0 && !*stop && !reported) {
        if (ret == AVERROR(ENOMEM)) {
            cw_error("out of memory while opening the camera");
        } else if (ret != CAPTURE_ERR_UNSUPPORTED) {
            char why[768];
            describe_failure(src, ret, why, sizeof(why));
            cw_error("cannot open %s: %s", url, why);
        }
    }
    if (ret < 0 && src && src->timed_out && !*stop)
        ret = CAPTURE_ERR_STALLED;
    if (ret < 0) {
        capture_source_close(&src);
        return ret;
    }
    *out = src; /* ownership passes to the caller */
    return 0;
}

/* Sleep until the packet is due, as ffmpeg -re does. Returns 0 or AVERROR_EXIT. */
static int pace(CaptureSource *src, const AVPacket *pkt)
{
    /* Decode order is the order packets are sent in: dts, not pts, rises
     * steadily in a stream with B-frames. */
    int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    int64_t ts_ns;
    if (ts != AV_NOPTS_VALUE) {
        /* A file's streams share one timeline, each in its own time base. */
        AVRational tb = src->fmt->streams[pkt->stream_index]->time_base;
        ts_ns = av_rescale_q(ts, tb, (AVRational){1, CW_NS_PER_SEC});
    } else if (pkt->stream_index != src->video->index) {
        return 0; /* untimed sound: sent as it comes */
    } else {
        /* A raw elementary stream has no timestamps: one frame per packet at
         * the rate the stream states (or libav's default guess). */
        AVRational rate = src->video->avg_frame_rate;
        if (rate.num <= 0 || rate.den <= 0 || av_q2d(rate) > 240)
            rate = (AVRational){25, 1};
        ts_ns = av_rescale(src->paced_packets, (int64_t)rate.den * CW_NS_PER_SEC, rate.num);
    }
    src->paced_packets++;
    int64_t now = cw_mono_ns();
    int64_t due = src->pace_base_ns + ts_ns;

    /* The first packet, or a jump in the file's timeline (a splice, a
     * wrapped timestamp): start the clock again from here. */
    if (!src->pace_anchored || due < now - PACE_BACKWARD_NS || due > now + src->timeout_ns) {
        src->pace_anchored = true;
        src->pace_base_ns = now - ts_ns;
        return 0;
    }
    return sleep_until(src, due);
}

int capture_source_read(CaptureSource *src, AVPacket *pkt)
{
    for (;;) {
        /* The deadline counts from the last video packet: a camera still
         * sending audio but no video has stalled too. */
        set_deadline(src, src->last_video_ns + src->timeout_ns, "waiting for data");
        int ret = av_read_frame(src->fmt, pkt);
        clear_deadline(src);
        src->packets_lost += cw_avlog_take_rtp_missed();
        if (*src->stop) {
            av_packet_unref(pkt);
            return AVERROR_EXIT;
        }
        if (src->timed_out) {
            av_packet_unref(pkt);
            return CAPTURE_ERR_STALLED;
        }
        if (ret < 0)
            return ret;
        bool is_audio = src->audio && pkt->stream_index == src->audio->index;
        if (pkt->stream_index != src->video->index && !is_audio) {
            av_packet_unref(pkt);
            continue;
        }
        if (src->kind == SOURCE_FILE) {
            ret = pace(src, pkt);
            if (ret < 0) {
                av_packet_unref(pkt);
                return ret;
            }
        }
        if (is_audio)
            return 0; /* the deadline and the restamping are the video's */
        src->last_video_ns = cw_mono_ns();
        if (src->restamp) {
            if (!src->restamp_base_ns)
                src->restamp_base_ns = src->last_video_ns;
            pkt->pts = pkt->dts =
                av_rescale(src->last_video_ns - src->restamp_base_ns, RESTAMP_HZ, CW_NS_PER_SEC);
            pkt->duration = 0;
        }
        return 0;
    }
}

const AVStream *capture_source_video(const CaptureSource *src)
{
    return src->video;
}

const AVStream *capture_source_audio(const CaptureSource *src)
{
    return src->audio;
}

AVRational capture_source_time_base(const CaptureSource *src)
{
    return src->restamp ? (AVRational){1, RESTAMP_HZ} : src->video->time_base;
}

AVRational capture_source_frame_rate(const CaptureSource *src)
{
    if (src->restamp)
        return (AVRational){0, 0}; /* whatever libav says is a guess */
    AVRational rate = src->video->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0)
        rate = src->video->r_frame_rate;
    if (rate.num <= 0 || rate.den <= 0)
        rate = (AVRational){0, 0};
    return rate;
}

const char *capture_source_transport(const CaptureSource *src)
{
    return src->kind == SOURCE_RTSP ? capture_transport_label(src->transport) : NULL;
}

uint64_t capture_source_packets_lost(const CaptureSource *src)
{
    return src->packets_lost;
}

bool capture_source_is_file(const CaptureSource *src)
{
    return src->kind == SOURCE_FILE;
}

void capture_source_close(CaptureSource **psrc)
{
    CaptureSource *src = *psrc;
    if (!src)
        return;
    close_input(src);
    free(src);
    *psrc = NULL;
}
