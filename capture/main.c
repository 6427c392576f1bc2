/*
 * camwatch-capture: reads the camera named by RTSP_URL, publishes every
 * compressed video and audio packet into the packets ring and decoded
 * frames, at DETECT_FPS, into the frames ring. With DETECT_URL two of it run
 * (role.h): one copies RTSP_URL's packets (and sound) and never decodes, one
 * (--role=sub) decodes DETECT_URL into the frames ring. It never reconnects
 * by itself: when the camera is lost it exits 75 and whoever supervises it
 * starts a fresh one, so a reconnect never inherits state from a broken
 * connection.
 *
 * Exit codes: 0 stopped on request or the file ended, 75 camera unreachable
 * or lost, 78 configuration error, 70 internal error.
 */
#define _GNU_SOURCE
#include "avlog.h"
#include "backlog.h"
#include "decoder.h"
#include "frames.h"
#include "publish.h"
#include "role.h"
#include "source.h"
#include "streamstatus.h"
#include "transport.h"
#include "watchdog.h"

#include "clock.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "rings.h"
#include "stage_start.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PROGRAM         "camwatch-capture"
#define HOUSEKEEPING_NS (1 * CW_NS_PER_SEC)
/* One line of figures this often: at INFO if packets were lost or pictures
 * withheld in it, else at DEBUG. */
#define STATS_INTERVAL_NS (60 * CW_NS_PER_SEC)

typedef struct Capture {
    CwConfig cfg; /* in the sub role, rtsp_url holds DETECT_URL: the stream it reads */
    enum CaptureRole role;
    CwRing *packets;
    CwRing *frames;
    CaptureSource *source;
    CaptureDecoder *decoder;
    CaptureBacklog backlog; /* packets waiting for the next picture detection takes */
    bool holds;             /* the last picture was small enough for it (backlog.h) */
    AVPacket *pkt;          /* reused for every packet */
    CapturePublisher publisher;
    CaptureFrames frame_out;
    uint64_t bytes_read;
    uint64_t video_packets_read;
    uint64_t packets_unpublished; /* read but not for the packets ring (the sub role) */
    uint64_t lost_seen;           /* RTP packets lost, as far as the decoder was told */
    bool losing;              /* in a spell of packet loss (ends with a loss-free stats interval) */
    CaptureTotals stats_base; /* at the start of the stats interval */
    int64_t stats_ns;
    CaptureStatus status; /* what the others are told (streamstatus.h) */
} Capture;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--role=main|sub] [--help]\n\n"
            "Reads the camera at RTSP_URL and publishes its video packets and decoded frames\n"
            "into the shared-memory rings of CAMERA_NAME, for camwatch-detect and\n"
            "camwatch-record. Usually started by camwatch; it can run alone for debugging.\n"
            "With DETECT_URL set, run it twice: --role=main (the default) copies RTSP_URL's\n"
            "packets and decodes nothing; --role=sub decodes DETECT_URL for detection.\n"
            "Exits 0 when stopped or when a file source ends, 75 when the camera is\n"
            "unreachable or lost, 78 on a configuration error, 70 on an internal error.\n\n",
            PROGRAM);
}

/* Called by libav while it waits: heartbeats prove capture is alive. */
static void on_wait(void *arg, int64_t now_ns)
{
    Capture *cap = arg;
    capture_publish_heartbeat(&cap->publisher, now_ns);
}

static int on_frame(void *arg, const AVFrame *frame, CwStamp at)
{
    Capture *cap = arg;
    /* A camera may change its picture size without a reconnect. */
    cap->holds = capture_backlog_fits(frame->width, frame->height);
    int ret = capture_frames_offer(&cap->frame_out, frame, at, cap->publisher.epoch);
    return ret < 0 ? ret : 0;
}

/* A packet that waited in the backlog goes to the decoder (backlog.h). */
static int decode_held(void *arg, const AVPacket *pkt, CwStamp at)
{
    Capture *cap = arg;
    return capture_decoder_decode(cap->decoder, pkt, at, on_frame, cap);
}

static void log_connected(const Capture *cap)
{
    const AVStream *video = capture_source_video(cap->source);
    AVRational rate = capture_source_frame_rate(cap->source);
    char fps[32] = "unknown frame rate";
    if (rate.den > 0)
        snprintf(fps, sizeof(fps), "%.4g fps", av_q2d(rate));
    const char *transport = capture_source_transport(cap->source);
    static const char *const doing[] = {
        [CAPTURE_ROLE_BOTH] = "",
        [CAPTURE_ROLE_MAIN] = " (main stream: copied for recording, not decoded)",
        [CAPTURE_ROLE_SUB] = " (sub-stream: decoded for detection)",
    };
    const AVStream *audio = capture_source_audio(cap->source);
    char sound[96] = "";
    if (audio)
        snprintf(sound, sizeof(sound), ", audio %s %d Hz",
                 avcodec_get_name(audio->codecpar->codec_id), audio->codecpar->sample_rate);
    cw_info("connected to %s: %s %dx%d %s%s%s%s%s", cap->cfg.rtsp_url,
            avcodec_get_name(video->codecpar->codec_id), video->codecpar->width,
            video->codecpar->height, fps, sound, transport ? ", RTP over " : "",
            transport ? transport : "", doing[cap->role]);
}

static CaptureTotals totals_now(const Capture *cap)
{
    /* The sub role publishes no packets: what it read is what counts. */
    return (CaptureTotals){
        .packets = cap->publisher.packets_published + cap->publisher.packets_dropped +
                   cap->packets_unpublished,
        .video_packets = cap->video_packets_read,
        .bytes = cap->bytes_read,
        .pictures = cap->decoder ? capture_decoder_pictures(cap->decoder) : 0,
        .published = cap->frame_out.published,
        .lost = capture_source_packets_lost(cap->source),
        .withheld = cap->decoder ? capture_decoder_withheld(cap->decoder) : 0,
    };
}

/*
 * Packets lost on the way (RTP over UDP): the pictures they belonged to, and
 * the ones predicted from those, must not reach detection; the packets that
 * did arrive still go to the packets ring (record copies what arrived). The
 * first loss of a spell is logged; the stats line counts the rest.
 */
static int note_loss(Capture *cap)
{
    uint64_t lost = capture_source_packets_lost(cap->source);
    if (lost == cap->lost_seen)
        return 0;
    if (cap->decoder) {
        /* The loss is before the packet just read, after those waiting:
         * they go first, or a keyframe among them would end the hold. */
        int ret = capture_backlog_drain(&cap->backlog, decode_held, cap);
        if (ret < 0)
            return ret;
        capture_decoder_note_loss(cap->decoder);
    }
    if (!cap->losing) {
        const char *transport = capture_source_transport(cap->source);
        cw_warn("packets from the camera are being lost%s%s%s: %llu missing so far; pictures "
                "are withheld from detection from each loss until a clean keyframe, and the "
                "stats line every %lld s counts the losses",
                transport ? " (RTP over " : "", transport ? transport : "", transport ? ")" : "",
                (unsigned long long)lost, (long long)(STATS_INTERVAL_NS / CW_NS_PER_SEC));
        cap->losing = true;
    }
    cap->lost_seen = lost;
    return 0;
}

static void log_stats(Capture *cap, int64_t now_ns)
{
    if (now_ns - cap->stats_ns < STATS_INTERVAL_NS)
        return;
    CaptureTotals t = totals_now(cap), b = cap->stats_base;
    double secs = (double)(now_ns - cap->stats_ns) / CW_NS_PER_SEC;
    uint64_t lost = t.lost - b.lost, withheld = t.withheld - b.withheld;
    const char *transport = capture_source_transport(cap->source);
    cw_log(lost || withheld ? CW_LOG_INFO : CW_LOG_DEBUG,
           "last %.0f s%s%s: %llu packets (%.0f kbit/s), %llu RTP packets lost, %llu pictures "
           "decoded, %llu withheld as damaged, %llu published for detection",
           secs, transport ? " over " : "", transport ? transport : "",
           (unsigned long long)(t.packets - b.packets),
           (double)(t.bytes - b.bytes) * 8 / secs / 1000, (unsigned long long)lost,
           (unsigned long long)(t.pictures - b.pictures), (unsigned long long)withheld,
           (unsigned long long)(t.published - b.published));
    if (!lost)
        cap->losing = false; /* the next loss starts a new spell, and says so */
    cap->stats_base = t;
    cap->stats_ns = now_ns;
}

/*
 * Decode the packet just read, arrived at `at`, if its picture is
 * wanted. The main role has no decoder: its packets are only copied. A
 * picture of an intra-only codec (MJPEG) stands alone, so one that detection
 * would not analyse (DETECT_FPS) is not decoded at all: for a 25 fps camera
 * and the default 5, four packets in five. An inter codec's are all
 * decoded, but those detection will not take wait, if the pictures are
 * small, and are decoded back to back before the next one it takes
 * (backlog.h). Returns capture_decoder_decode()'s, or the error of a held
 * packet's decoding.
 */
static int decode_packet(Capture *cap, CwStamp at)
{
    if (!cap->decoder)
        return 0;
    bool wanted = capture_frames_wants(&cap->frame_out, at.mono_ns);
    if (capture_decoder_intra_only(cap->decoder) && !wanted) {
        capture_decoder_skip(cap->decoder);
        return 0;
    }
    if (cap->holds && capture_backlog_may_take(&cap->backlog, at, wanted)) {
        capture_backlog_take(&cap->backlog, cap->pkt, at); /* the packet's data moves */
        return 0;
    }
    int ret = capture_backlog_drain(&cap->backlog, decode_held, cap);
    if (ret < 0)
        return ret;
    capture_backlog_passed(&cap->backlog, at);
    return capture_decoder_decode(cap->decoder, cap->pkt, at, on_frame, cap);
}

/* Exit code, and its one log line, for the end of the packet loop. */
static int read_end_exit_code(const Capture *cap, int err)
{
    if (cw_stop_requested) {
        cw_info("stopping on request");
        return CW_EXIT_OK;
    }
    if (err == AVERROR_EOF && capture_source_is_file(cap->source)) {
        cw_info("source ended: %s", cap->cfg.rtsp_url);
        return CW_EXIT_OK;
    }
    if (err == AVERROR(ENOMEM)) {
        cw_error("out of memory");
        return CW_EXIT_SOFTWARE;
    }
    if (err == CAPTURE_ERR_STALLED)
        cw_error("camera stalled: no data for %g s from %s", cap->cfg.timeout_s, cap->cfg.rtsp_url);
    else if (err == AVERROR_EOF)
        cw_error("camera closed the stream: %s", cap->cfg.rtsp_url);
    else
        cw_error("lost the camera %s: %s", cap->cfg.rtsp_url, av_err2str(err));
    return CW_EXIT_TEMPFAIL;
}

/* Read, publish and decode until the camera is lost or a stop is requested. */
static int capture_loop(Capture *cap)
{
    const int64_t timeout_ns = (int64_t)(cap->cfg.timeout_s * CW_NS_PER_SEC);
    int64_t housekeeping_ns = cw_mono_ns();
    int ret;

    for (;;) {
        ret = capture_source_read(cap->source, cap->pkt);
        if (ret < 0 || cw_stop_requested)
            return read_end_exit_code(cap, ret);
        /* Arrival, on both clocks: wall time names clips, monotonic time
         * measures them (clock.h). */
        CwStamp at = cw_stamp_now();
        cap->bytes_read += (uint64_t)cap->pkt->size;
        const AVStream *audio = capture_source_audio(cap->source);
        if (audio && cap->pkt->stream_index == audio->index) {
            /* Sound goes to record only: never to the video decoder. */
            if (capture_role_copies(cap->role))
                capture_publish_audio_packet(&cap->publisher, cap->pkt, at);
            av_packet_unref(cap->pkt);
            ret = 0;
        } else {
            cap->video_packets_read++;
            if (capture_role_copies(cap->role))
                capture_publish_packet(&cap->publisher, cap->pkt, at);
            else
                cap->packets_unpublished++;
            ret = note_loss(cap);
            if (ret >= 0)
                ret = decode_packet(cap, at);
            av_packet_unref(cap->pkt);
        }
        if (ret < 0) {
            cw_error("cannot process decoded video: %s", av_err2str(ret));
            return CW_EXIT_SOFTWARE;
        }

        int64_t now = cw_mono_ns();
        capture_publish_heartbeat(&cap->publisher, now);
        if (now - housekeeping_ns < HOUSEKEEPING_NS)
            continue;
        housekeeping_ns = now;
        cw_avlog_tick(now);
        log_stats(cap, now);
        CaptureTotals totals = totals_now(cap);
        capture_status_tick(&cap->status, &totals, now, false);
        if (!cap->decoder)
            continue; /* a silent stream is noticed by capture_source_read() */
        capture_decoder_tick(cap->decoder, now);
        /* Packets arriving is not enough: detection needs pictures. */
        if (now - capture_decoder_last_frame_ns(cap->decoder) > timeout_ns) {
            cw_error("camera stalled: its video did not decode for %g s (%llu decode errors)",
                     cap->cfg.timeout_s, (unsigned long long)capture_decoder_errors(cap->decoder));
            return CW_EXIT_TEMPFAIL;
        }
    }
}

int main(int argc, char **argv)
{
    /* Large (the configuration holds paths): not on the stack. */
    static Capture cap;
    int exit_code = CW_EXIT_SOFTWARE;
    const char *role_arg;
    char err[256];
    int ret;

    capture_role_take(&argc, argv, &role_arg);
    if (cw_stage_start(PROGRAM, usage, argc, argv, &cap.cfg, &exit_code) < 0)
        return exit_code;
    if (capture_role_resolve(role_arg, &cap.cfg, &cap.role, err, sizeof(err)) < 0) {
        cw_crit("%s", err);
        return CW_EXIT_CONFIG;
    }
    if (cap.role == CAPTURE_ROLE_SUB) /* the stream this worker reads */
        memcpy(cap.cfg.rtsp_url, cap.cfg.detect_url, sizeof(cap.cfg.rtsp_url));
    cw_avlog_install(cap.cfg.log_level);

    ret = capture_watchdog_start(&cw_stop_requested);
    if (ret < 0) {
        cw_error("cannot start the watchdog thread: %s", av_err2str(ret));
        goto end;
    }
    /* Each role is the writer of the rings it fills, and of no other. */
    const CwRingUse rings[] = {
        {.kind = CW_RING_PACKETS, .ring = &cap.packets, .writer = true},
        {.kind = CW_RING_FRAMES, .ring = &cap.frames, .writer = true},
    };
    bool copies = capture_role_copies(cap.role), decodes = capture_role_decodes(cap.role);
    if (cw_rings_open_all(&cap.cfg, rings + !copies, copies + decodes, &exit_code) < 0)
        goto end; /* logged */
    if (copies) {
        capture_transport_keep_in(cap.packets);
        capture_publish_init(&cap.publisher, cap.packets, cap.frames, cap.cfg.packet_buffer_mb);
    } else {
        /* The sub-stream's transport, parameters (their epoch tags its
         * frames) and heartbeat live in the frames ring: the packets ring's
         * are the main stream's. */
        capture_transport_keep_in(cap.frames);
        capture_publish_init(&cap.publisher, cap.frames, NULL, cap.cfg.packet_buffer_mb);
        cap.publisher.stage = CW_STAGE_CAPTURE_SUB;
        /* The clip's sound is the main stream's: the sub-stream's is not read. */
        snprintf(cap.cfg.record_audio, sizeof(cap.cfg.record_audio), "off");
    }
    capture_status_open(&cap.status, copies ? cap.packets : cap.frames);
    if (decodes)
        capture_frames_init(&cap.frame_out, cap.frames, cap.cfg.detect_fps,
                            cap.cfg.frame_buffer_mb);
    cap.pkt = av_packet_alloc();
    if (!cap.pkt || (decodes && capture_backlog_init(&cap.backlog) < 0)) {
        cw_error("out of memory");
        goto end;
    }

    ret = capture_source_open(&cap.source, &cap.cfg, &cw_stop_requested, on_wait, &cap);
    if (ret < 0 && cw_stop_requested)
        cw_info("stopping on request");
    if (ret < 0) {
        exit_code = cw_stop_requested                ? CW_EXIT_OK
                    : ret == AVERROR(ENOMEM)         ? CW_EXIT_SOFTWARE
                    : ret == CAPTURE_ERR_UNSUPPORTED ? CW_EXIT_CONFIG
                                                     : CW_EXIT_TEMPFAIL;
        goto end;
    }
    const CaptureDecoderConfig decoding = {
        .threads = cap.cfg.decode_threads,
        .analysis_width = cap.cfg.detect_width,
        .hwaccel = cap.cfg.hwaccel,
    };
    ret = decodes ? capture_decoder_open(&cap.decoder, capture_source_video(cap.source),
                                         capture_source_time_base(cap.source), &decoding)
                  : 0;
    if (ret < 0) {
        /* A codec this FFmpeg cannot decode may go away with a camera
         * setting, so it is retried like a camera that is away; the line
         * logged above says what is wrong, once per attempt. */
        exit_code = ret == AVERROR(ENOMEM) ? CW_EXIT_SOFTWARE : CW_EXIT_TEMPFAIL;
        goto end;
    }
    capture_publish_params(&cap.publisher, capture_source_video(cap.source),
                           capture_source_time_base(cap.source),
                           capture_source_frame_rate(cap.source));
    if (capture_source_audio(cap.source))
        capture_publish_audio_params(&cap.publisher, capture_source_audio(cap.source));
    else
        capture_publish_no_audio(&cap.publisher);
    log_connected(&cap);
    capture_status_connected(&cap.status, capture_source_transport(cap.source), cw_mono_ns());
    cap.stats_ns = cw_mono_ns();
    cap.stats_base = totals_now(&cap);

    exit_code = capture_loop(&cap);
    uint64_t lost = capture_source_packets_lost(cap.source);
    uint64_t withheld = cap.decoder ? capture_decoder_withheld(cap.decoder) : 0;
    uint64_t skipped = cap.decoder ? capture_decoder_skipped(cap.decoder) : 0;
    char undecoded[96] = "";
    if (skipped)
        snprintf(undecoded, sizeof(undecoded), "; %llu packets not decoded (not analysed)",
                 (unsigned long long)skipped);
    cw_log(lost || withheld ? CW_LOG_INFO : CW_LOG_DEBUG,
           "published %llu packets (%llu dropped) and %llu frames; %llu RTP packets lost, %llu "
           "decode errors, %llu pictures withheld as damaged%s",
           (unsigned long long)cap.publisher.packets_published,
           (unsigned long long)cap.publisher.packets_dropped,
           (unsigned long long)cap.frame_out.published, (unsigned long long)lost,
           (unsigned long long)(cap.decoder ? capture_decoder_errors(cap.decoder) : 0),
           (unsigned long long)withheld, undecoded);

end:
    if (cap.status.ring) {
        CaptureTotals totals = cap.source ? totals_now(&cap) : (CaptureTotals){0};
        capture_status_closed(&cap.status, &totals, cw_mono_ns());
    }
    capture_source_close(&cap.source); /* bounded by its own deadline */
    capture_backlog_fini(&cap.backlog);
    capture_decoder_close(&cap.decoder);
    av_packet_free(&cap.pkt);
    capture_frames_fini(&cap.frame_out);
    cw_ring_close(&cap.frames);
    cw_ring_close(&cap.packets);
    capture_watchdog_stop();
    return exit_code;
}
