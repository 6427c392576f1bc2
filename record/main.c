/*
 * camwatch-record: follows the events ring; on motion it cuts a clip out of
 * the packets ring (which is the pre-roll buffer), remuxes it into a
 * fragmented MP4 in staging, and delivers it into VIDEO_DIR when the motion
 * is over. See docs and the design brief for the whole picture.
 *
 * One thread, one loop: wait on the packets ring (<= 200 ms), read every new
 * event, then copy every new packet into the clip being recorded. While no
 * clip is being recorded no packet data is touched at all. When clips start,
 * end and are cut is decided in clippolicy.c; this file reads the rings and
 * carries the decisions out.
 *
 * Errors: the helpers here speak the codes of what they call (AVERROR for
 * the clip, as clip.h explains; negative errno for files and rings).
 */
#define _GNU_SOURCE
#include "boxscale.h"
#include "boxtrack.h"
#include "clip.h"
#include "clippolicy.h"
#include "codecpar.h"
#include "deliver.h"
#include "diskfull.h"
#include "fsutil.h"
#include "preroll.h"
#include "recover.h"
#include "retention_run.h"
#include "sidecar.h"
#include "reserve.h"
#include "snapshot.h"

#include "avlog.h"
#include "clock.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "payload.h"
#include "ratelimit.h"
#include "ring.h"
#include "rings.h"
#include "stage_start.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM           "camwatch-record"
#define WAIT_MS           200
#define HEARTBEAT_PACKETS 64
/* Motion with no stream to record is said at most this often. */
#define NO_STREAM_LOG_NS (60 * CW_NS_PER_SEC)

typedef struct Recorder {
    CwConfig cfg;
    CwRing *packets, *frames, *events;
    CwRingReader pkt_rd, ev_rd;
    AVPacket *pkt; /* reused for every packet copied out of the ring */
    AVCodecParameters *par;
    AVCodecParameters *apar;      /* of the clip's sound */
    CwStreamParams aparams;       /* the sound of the clip in progress (its epoch) */
    bool clip_audio;              /* the clip in progress records aparams' packets */
    uint64_t audio_dropped_epoch; /* the sound whose codec MP4 cannot carry, said once */
    RecSnapshot *snap;            /* the peak frame of the clip in progress */
    bool snap_from_packets;       /* snap's picture is smaller than the video: decode the video's */
    CwPolygonSet zones;           /* MOTION_ZONES, for the names the sidecar gives */
    CwEvent last_motion;          /* the newest event with motion (box_count 0 before any) */
    bool have_last_motion;

    RecClipPolicy policy;  /* when clips start, end and are cut (clippolicy.c) */
    CwStreamParams params; /* of the clip in progress (its epoch) */
    RecClip *clip;         /* NULL until the clip's first keyframe is written */
    RecClipInfo info;
    char staging_path[4096];
    uint64_t expect_seq;    /* the packet that should come next while a clip is open */
    uint64_t torn, lost;    /* packets of this clip never written */
    CwStamp clip_first;     /* arrival of the file's first packet */
    int64_t clip_first_dts; /* stream time of the first packet (CW_TS_NONE if untimed) */
    CwRateLimit no_stream_log;
    bool paused;             /* CW_PAUSE_RECORD was set at the last event */
    RecRetention *retention; /* deletes old clips: at start, after each clip, every minute */
    RecBoxTrack *boxes;      /* RECORD_MODE=annotated: recent analyses' boxes; else NULL */
    RecDiskFull disk_full;   /* a full disk is said once, not once per clip */
} Recorder;

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROGRAM " [--help]\n\n"
                 "Records clips of motion: follows the events ring, cuts clips with pre-roll out\n"
                 "of the packets ring, remuxes them (no re-encoding) into fragmented MP4 and\n"
                 "delivers them atomically into VIDEO_DIR/<YYYY-MM-DD>/ with a JPEG snapshot and\n"
                 "a JSON sidecar. SIGTERM finishes the clip in progress and exits 0.\n\n");
}

/*
 * VIDEO_DIR and the staging folder exist (created if missing), are writable
 * and share a file system (the final rename must be atomic). Logs one
 * CRITICAL line and returns -1 otherwise.
 */
static int prepare_dirs(const CwConfig *cfg)
{
    struct stat video_st, staging_st;
    char probe[4096];
    int ret;

    ret = rec_mkdir_p(cfg->video_dir, 0755);
    if (ret < 0) {
        cw_crit("VIDEO_DIR=\"%s\" cannot be created: %s", cfg->video_dir, strerror(-ret));
        return -1;
    }
    ret = rec_mkdir_p(cfg->staging_dir, 0755);
    if (ret < 0) {
        cw_crit("STAGING_DIR=\"%s\" cannot be created: %s", cfg->staging_dir, strerror(-ret));
        return -1;
    }
    /* access() answers for root too on a read-only mount (EROFS). */
    if (access(cfg->video_dir, W_OK | X_OK) < 0) {
        cw_crit("VIDEO_DIR=\"%s\" is not writable: %s", cfg->video_dir, strerror(errno));
        return -1;
    }
    /* Staging is where files are created: prove it by creating one (empty,
     * so that a merely full disk is not mistaken for a configuration error). */
    if (rec_path_fmt(probe, sizeof(probe), "%s/.probe-%d", cfg->staging_dir, (int)getpid()) < 0) {
        cw_crit("STAGING_DIR=\"%s\" is too long", cfg->staging_dir);
        return -1;
    }
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        cw_crit("STAGING_DIR=\"%s\" is not writable: %s", cfg->staging_dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    if (stat(cfg->video_dir, &video_st) < 0 || stat(cfg->staging_dir, &staging_st) < 0) {
        cw_crit("cannot stat VIDEO_DIR or STAGING_DIR: %s", strerror(errno));
        return -1;
    }
    if (video_st.st_dev != staging_st.st_dev) {
        cw_crit("STAGING_DIR=\"%s\" is on another file system than VIDEO_DIR=\"%s\": clips could "
                "not be moved in atomically; use a folder on the same file system (the default "
                "is VIDEO_DIR/.staging)",
                cfg->staging_dir, cfg->video_dir);
        return -1;
    }
    return 0;
}

static void heartbeat(void *arg)
{
    Recorder *r = arg;
    cw_rings_heartbeat(r->packets, CW_STAGE_RECORD);
    cw_avlog_tick(cw_mono_ns()); /* reports libav lines its rate limit held back */
}

static int64_t seconds_to_ns(double s)
{
    return (int64_t)llround(s * 1e9);
}

/* The clip ends for `why`: close its file (if one was started) and deliver it. */
static void end_clip(Recorder *r, enum RecClipEnd why)
{
    RecClipStats stats;
    bool playable = false;

    heartbeat(r);
    if (!r->clip) {
        rec_clip_policy_ended(&r->policy, why, REC_OUTCOME_OK, cw_mono_ns());
        cw_info("motion of %s ended before a keyframe arrived: no clip", r->info.name);
        return;
    }
    int err = rec_clip_finish(&r->clip, &stats, &playable);
    enum RecClipOutcome outcome = REC_OUTCOME_OK;
    bool disk_full = rec_disk_full_error(err);
    if (err < 0)
        outcome = disk_full ? REC_OUTCOME_DISK_FULL : REC_OUTCOME_WRITE_FAILED;
    if (disk_full) /* clip.c leaves this one to us */
        rec_disk_full_failed(&r->disk_full, "write clip", r->staging_path, err, cw_mono_ns());
    r->info.cut_short = rec_clip_policy_ended(&r->policy, why, outcome, cw_mono_ns());
    if (r->torn || r->lost)
        cw_warn("clip %s: %llu packets torn and %llu lost were left out", r->info.name,
                (unsigned long long)r->torn, (unsigned long long)r->lost);
    cw_debug("clip %s: %llu packets, %llu bytes", r->info.name, (unsigned long long)stats.packets,
             (unsigned long long)stats.bytes);
    r->info.duration_s = stats.duration_s;
    /* Arrival times from start_ns on (clip_time_ns()): the media duration
     * would mix clocks. */
    r->info.end_ns = stats.last_wall_ns > r->info.start_ns
                         ? stats.last_wall_ns
                         : r->info.start_ns + seconds_to_ns(stats.duration_s);
    heartbeat(r);
    if (playable && r->snap_from_packets && rec_snapshot_has_frame(r->snap)) {
        const char *why = rec_snapshot_use_main(r->snap);
        if (r->cfg.detect_url[0])
            r->info.snapshot_source = why ? REC_SNAPSHOT_SUB : REC_SNAPSHOT_MAIN;
        if (why)
            cw_info("clip %s: the snapshot is %s picture: %s", r->info.name,
                    r->cfg.detect_url[0] ? "the sub-stream's" : "detection's reduced", why);
    }
    if (playable) {
        if (rec_deliver(&r->cfg, r->staging_path, r->snap, &r->info) < 0)
            cw_error("clip %s stays in %s; it will be recovered at the next start", r->info.name,
                     r->staging_path);
        else if (err == 0)
            rec_disk_full_saved(&r->disk_full, cw_mono_ns());
    } else if (stats.unconfirmed) {
        cw_error("clip %s stays in %s: the disk did not confirm it was written", r->info.name,
                 r->staging_path);
    } else {
        /* Not a single playable packet: nothing to keep. */
        unlink(r->staging_path);
        if (err < 0 && !disk_full) /* a full disk was said above (once a spell) */
            cw_error("clip %s lost: nothing playable was written", r->info.name);
    }
    /* Whatever became of the clip, its hold goes (delivery gave it back
     * already; twice is harmless). */
    rec_reserve_release(r->staging_path);
    rec_retention_after_clip(r->retention);
    heartbeat(r);
}

/* The clip's sidecar names the stream it records. */
static void describe_stream(Recorder *r)
{
    r->info.width = r->params.width;
    r->info.height = r->params.height;
    snprintf(r->info.codec, sizeof(r->info.codec), "%s",
             avcodec_get_name((enum AVCodecID)r->params.codec_id));
}

/* Forget the previous clip and begin a new one whose motion started at `motion_ns`. */
static void begin_clip(Recorder *r, int64_t motion_ns)
{
    rec_snapshot_reset(r->snap);
    memset(&r->info, 0, sizeof(r->info));
    rec_clip_name(&r->info, r->cfg.camera, motion_ns);
    r->info.motion_start_ns = motion_ns;
    r->info.start_ns = motion_ns;
    r->info.peak_changed_percent = -1;
    r->info.zone_set = &r->zones;
    describe_stream(r);
    r->clip = NULL;
    r->torn = r->lost = 0;
}

/*
 * The policy started a clip for motion event `ev`: find the keyframe that
 * arrived at or before `target_mono_ns` and start following packets. Returns
 * false (and cancels the clip) when capture has published no stream yet.
 */
static bool start_clip(Recorder *r, const CwEvent *ev, int64_t target_mono_ns)
{
    RecPreroll pr;
    char when[48];

    if (cw_rings_get_params(r->packets, CW_STREAM_MAIN, &r->params) < 0) {
        int64_t held = cw_ratelimit_test(&r->no_stream_log, cw_mono_ns());
        if (held == 0)
            cw_warn("motion detected but capture has published no stream yet: nothing to record");
        else if (held > 0)
            cw_warn("motion detected but capture has published no stream yet: nothing to record "
                    "(%lld more motion events since)",
                    (long long)held);
        rec_clip_policy_cancel(&r->policy);
        return false;
    }
    cw_ratelimit_reset(&r->no_stream_log);
    begin_clip(r, ev->wall_ns);
    cw_time_format(ev->wall_ns, CW_TIME_ISO_LOCAL, when, sizeof(when));

    if (rec_preroll_find(r->packets, r->params.epoch, target_mono_ns, &pr) == 0) {
        double pre = (double)(ev->mono_ns - pr.stamp) / 1e9;
        cw_ring_reader_seek(&r->pkt_rd, pr.seq);
        if (pr.shortened && r->cfg.pre_capture_s > 0 && pr.buffer_limited)
            cw_warn("motion at %s: recording %s with %.1f s of pre-roll instead of %.1f s: the "
                    "packet buffer holds no older keyframe (raise PACKET_BUFFER_MB)",
                    when, r->info.name, pre, r->cfg.pre_capture_s);
        else if (pr.shortened && r->cfg.pre_capture_s > 0)
            cw_info("motion at %s: recording %s with %.1f s of pre-roll instead of %.1f s "
                    "(the stream started only then)",
                    when, r->info.name, pre, r->cfg.pre_capture_s);
        else
            cw_info("motion at %s: recording %s with %.1f s of pre-roll", when, r->info.name, pre);
    } else {
        cw_ring_reader_seek(&r->pkt_rd, cw_ring_write_seq(r->packets));
        cw_info("motion at %s: recording %s from the next keyframe (none in the buffer)", when,
                r->info.name);
    }
    return true;
}

/* Codec parameters of the clip's sound, from the ring's audio parameters. */
static int fill_audio_codecpar(AVCodecParameters *par, const CwStreamParams *p)
{
    av_freep(&par->extradata);
    par->extradata_size = 0;
    av_channel_layout_uninit(&par->ch_layout);
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = (enum AVCodecID)p->codec_id;
    par->codec_tag = 0;
    par->sample_rate = p->sample_rate;
    /* The muxer wants it for its sample table; AAC-LC's frames are 1024
     * samples (RTP's SDP states no other). */
    par->frame_size = par->codec_id == AV_CODEC_ID_AAC ? 1024 : 0;
    av_channel_layout_default(&par->ch_layout, p->channels > 0 ? p->channels : 1);
    return rec_codecpar_extradata(par, p);
}

/*
 * Whether the clip about to open records the camera's sound (RECORD_AUDIO,
 * what capture publishes, what MP4 can carry); fills r->aparams, r->apar
 * and the spec's audio fields when it does. A sound MP4 cannot carry is
 * said once per stream epoch.
 */
static void plan_audio(Recorder *r, RecClipSpec *spec)
{
    r->clip_audio = false;
    if (strcmp(r->cfg.record_audio, "off") == 0 ||
        cw_rings_get_params(r->packets, CW_STREAM_AUDIO, &r->aparams) < 0)
        return;
    /* A sound published by an earlier connection of the camera is not this one's. */
    if (r->aparams.codec_id == AV_CODEC_ID_NONE || r->aparams.sample_rate <= 0)
        return;
    enum AVCodecID id = (enum AVCodecID)r->aparams.codec_id;
    enum RecAudioPlan plan = rec_clip_audio_plan(id, (int)r->aparams.extradata_size);
    if (plan == REC_AUDIO_DROP) {
        if (r->audio_dropped_epoch != r->aparams.epoch)
            cw_warn("the camera's %s sound is left out of clips: MP4 cannot carry it (AAC, Opus, "
                    "MP3 are copied, G.711 is transcoded to AAC)",
                    avcodec_get_name(id));
        r->audio_dropped_epoch = r->aparams.epoch;
        return;
    }
    if (fill_audio_codecpar(r->apar, &r->aparams) < 0)
        return; /* out of memory: the clip goes without sound */
    spec->audio_par = r->apar;
    spec->audio_time_base = (AVRational){r->aparams.time_base_num, r->aparams.time_base_den};
    if (spec->audio_time_base.num <= 0 || spec->audio_time_base.den <= 0)
        spec->audio_time_base = (AVRational){1, r->aparams.sample_rate};
    spec->audio_transcode = plan == REC_AUDIO_TRANSCODE;
    r->clip_audio = true;
}

/* Create the staging file at the clip's first keyframe. */
static int open_clip(Recorder *r, const CwPacketHeader *ph, const CwRingView *view)
{
    const CwStreamParams *p = &r->params;
    AVRational tb = {p->time_base_num, p->time_base_den};
    AVRational fr = {p->frame_rate_num, p->frame_rate_den};
    int ret;

    ret = rec_codecpar_video(r->par, p);
    if (ret < 0)
        return ret;
    /* Without stream timestamps (MJPEG over HTTP) times come from arrival
     * stamps: a coarse time base would round them into jitter. */
    bool untimed = ph->pts == CW_TS_NONE && ph->dts == CW_TS_NONE;
    if (tb.num <= 0 || tb.den <= 0 || (untimed && tb.den / tb.num < 1000))
        tb = (AVRational){1, 90000};
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){0, 1};

    static const char *const part_ext[] = {"mp4.part"};
    char base[256];
    ret = rec_free_base(r->cfg.staging_dir, r->info.name, part_ext, 1, base, sizeof(base));
    if (ret == 0)
        ret = rec_path_fmt(r->staging_path, sizeof(r->staging_path), "%s/%s.mp4.part",
                           r->cfg.staging_dir, base);
    if (ret < 0) {
        cw_error("no free clip name for %s in STAGING_DIR=\"%s\": %s", r->info.name,
                 r->cfg.staging_dir, strerror(-ret));
        return ret; /* -errno: an AVERROR as it is (see clip.h) */
    }
    RecClipSpec spec = {
        .par = r->par,
        .time_base = tb,
        .frame_rate = fr,
        .start_ns = ph->wall_ns,
        .motion_start_ns = r->info.motion_start_ns,
    };
    plan_audio(r, &spec);
    spec.annotate = r->boxes;
    spec.annotate_mono_offset_ns =
        ph->mono_ns - ph->wall_ns; /* clip_time_ns()'s, from this packet */
    ret = rec_clip_open(&r->clip, r->staging_path, &spec);
    if (ret < 0 && ret != AVERROR(ENOMEM) && !rec_disk_full_error(ret) && spec.audio_par) {
        /* The video must not be lost for its sound (logged above). */
        cw_warn("clip %s: trying again without its sound", r->info.name);
        spec.audio_par = NULL;
        r->clip_audio = false;
        ret = rec_clip_open(&r->clip, r->staging_path, &spec);
    }
    if (ret < 0)
        return ret;
    /* An annotated clip of an H.265 camera is H.264: the sidecar names the file's codec. */
    enum AVCodecID reencoded = rec_clip_reencoded(r->clip);
    r->info.record_mode = reencoded != AV_CODEC_ID_NONE ? REC_RECORD_ANNOTATED : REC_RECORD_COPY;
    if (reencoded != AV_CODEC_ID_NONE)
        snprintf(r->info.codec, sizeof(r->info.codec), "%s", avcodec_get_name(reencoded));
    int held = rec_reserve_hold(r->staging_path, r->info.width, r->info.height);
    if (held < 0)
        cw_debug("clip %s: no room held for its snapshot and sidecar: %s", r->info.name,
                 strerror(-held));
    r->clip_first = (CwStamp){.wall_ns = ph->wall_ns, .mono_ns = ph->mono_ns};
    r->clip_first_dts = ph->dts != CW_TS_NONE ? ph->dts : ph->pts;
    r->info.start_ns = ph->wall_ns;
    cw_debug("clip %s: first packet %llu, %.2f s before the motion", r->staging_path,
             (unsigned long long)view->seq, (double)(r->info.motion_start_ns - ph->wall_ns) / 1e9);
    return 0;
}

/*
 * The arrival of a packet of the clip as the clip writer takes it (clip.h's
 * `wall_ns`): the wall time of the file's first packet, advanced by the
 * monotonic clock. Untimed streams are timed by it and the sound is placed
 * by it, so a step of the wall clock during the clip must not show in it;
 * the sidecar's end comes from it too.
 */
static int64_t clip_time_ns(const Recorder *r, const CwPacketHeader *ph)
{
    return r->clip_first.wall_ns + (ph->mono_ns - r->clip_first.mono_ns);
}

/*
 * How long the clip is at this packet by the stream's clock (the time since
 * the file's first packet), or REC_NO_MEDIA_TIME if the stream has none;
 * rec_clip_policy_elapsed() decides whether to trust it.
 */
static int64_t clip_media_elapsed_ns(const Recorder *r, const CwPacketHeader *ph)
{
    int64_t dts = ph->dts != CW_TS_NONE ? ph->dts : ph->pts;
    if (dts == CW_TS_NONE || r->clip_first_dts == CW_TS_NONE || r->params.time_base_num <= 0 ||
        r->params.time_base_den <= 0)
        return REC_NO_MEDIA_TIME;
    AVRational tb = {r->params.time_base_num, r->params.time_base_den};
    return av_rescale_q(dts - r->clip_first_dts, tb, (AVRational){1, 1000000000});
}

/* A new peak of motion: remember its numbers and try to keep its frame. */
/* The picture of `ev` (its frame_seq) becomes the snapshot; rec_snapshot_take's result. */
static int take_snapshot(Recorder *r, const CwEvent *ev)
{
    /* JPEG cameras deliver full-range YUV, everything else video range.
     * With DETECT_URL the pictures are the sub-stream's, whose parameters
     * its capture worker keeps in the frames ring. */
    static CwStreamParams sub; /* 4 KiB: not on the stack */
    int codec_id = r->params.codec_id;
    if (r->cfg.detect_url[0])
        codec_id = cw_rings_get_params(r->frames, CW_STREAM_MAIN, &sub) == 0 ? sub.codec_id : 0;
    int ret = rec_snapshot_take(r->snap, r->frames, ev, codec_id == AV_CODEC_ID_MJPEG);
    /* With DETECT_URL the frames ring holds the sub-stream's pictures; the
     * main stream's packets up to that moment are kept, to be decoded once
     * when the clip ends (end_clip()). */
    if (ret == 0)
        r->info.snapshot_source = r->cfg.detect_url[0] ? REC_SNAPSHOT_SUB : REC_SNAPSHOT_MAIN;
    /* A picture smaller than the video (a sub-stream, or an intra-only
     * camera decoded at reduced size for detection) is replaced by the
     * video's own picture of that moment. */
    if (ret == 0)
        r->snap_from_packets = r->cfg.detect_url[0] || (ev->width > 0 && ev->width < r->info.width);
    if (ret == 0 && r->snap_from_packets)
        (void)rec_snapshot_take_main(r->snap, r->packets, &r->params, ev->mono_ns);
    return ret;
}

static void update_peak(Recorder *r, const CwEvent *ev)
{
    if (!(ev->changed_percent > r->info.peak_changed_percent))
        return; /* also rejects NaN */
    r->info.peak_changed_percent = ev->changed_percent;
    int count = ev->box_count > CW_MAX_BOXES ? CW_MAX_BOXES : ev->box_count;
    int ref_w = ev->width > 0 ? ev->width : r->info.width;
    int ref_h = ev->height > 0 ? ev->height : r->info.height;
    r->info.box_count = count;
    r->info.detect_width = ref_w;
    r->info.detect_height = ref_h;
    /* The sidecar speaks in video pixels; the detector may have seen a
     * smaller picture (a sub-stream). */
    for (int i = 0; i < count; i++)
        r->info.boxes[i] = rec_box_scale(ev->boxes[i], ref_w, ref_h, r->info.width, r->info.height);
    int ret = take_snapshot(r, ev);
    if (ret < 0)
        cw_debug("frame %llu of the peak is not available for the snapshot: %s",
                 (unsigned long long)ev->frame_seq, av_err2str(ret));
}

static void handle_event(Recorder *r, const CwEvent *ev)
{
    RecEventDecision d;

    /* Paused from outside (rings.h): motion starts no clip; one in progress
     * ends as usual. */
    bool paused = cw_rings_paused(r->events) & CW_PAUSE_RECORD;
    if (paused != r->paused)
        cw_info("recording %s", paused ? "paused" : "resumed");
    r->paused = paused;
    if (paused && r->policy.phase == REC_CLIP_IDLE)
        return;
    CwStamp at = {.wall_ns = ev->wall_ns, .mono_ns = ev->mono_ns};
    rec_clip_policy_on_event(&r->policy, ev->motion, at, cw_mono_ns(), &d);
    switch (d.verdict) {
    case REC_EVENT_NONE:
    case REC_EVENT_HELD_OFF: /* the write error that holds clips off was logged */
        return;
    case REC_EVENT_START:
        if (!start_clip(r, ev, d.preroll_target_mono_ns))
            return;
        break;
    case REC_EVENT_EXTEND:
        break;
    }
    if (ev->motion) {
        r->last_motion = *ev;
        r->have_last_motion = true;
        r->info.zones |= ev->zones;
    }
    update_peak(r, ev);
}

static void drain_events(Recorder *r)
{
    CwRingView view;
    CwEvent ev;

    while (cw_ring_next(&r->ev_rd, &view) == 0) {
        if (view.len < offsetof(CwEvent, boxes)) {
            cw_ring_done(&r->ev_rd, &view);
            continue;
        }
        memset(&ev, 0, sizeof(ev));
        memcpy(&ev, view.data, view.len < sizeof(ev) ? view.len : sizeof(ev));
        if (!cw_ring_done(&r->ev_rd, &view))
            continue; /* overwritten while read: counted as an overrun */
        size_t room = (view.len - offsetof(CwEvent, boxes)) / sizeof(CwBox);
        if (ev.box_count > room)
            ev.box_count = (uint16_t)room;
        if (r->boxes)
            rec_boxtrack_push(r->boxes, &ev);
        handle_event(r, &ev);
    }
}

/* After a max-length cut: the next clip continues at this very keyframe. */
static void continue_clip(Recorder *r, int64_t stamp)
{
    rec_clip_policy_continue(&r->policy, cw_mono_ns());
    begin_clip(r, stamp);
    cw_info("motion continues: recording %s", r->info.name);
    /* Events run ahead of packets: the motion that goes on into this clip
     * may all have been seen before the cut, and would leave it without a
     * snapshot. The newest motion starts its peak; failing that (its frame
     * overwritten), the newest picture, without boxes, stands in until a
     * motion event brings a better one. */
    if (r->have_last_motion) {
        update_peak(r, &r->last_motion);
        r->info.zones |= r->last_motion.zones;
    }
    if (!rec_snapshot_has_frame(r->snap)) {
        /* The newest picture shows none of that event's boxes: none are
         * claimed, and any motion event to come is a better peak. */
        r->info.box_count = 0;
        r->info.peak_changed_percent = -1;
        uint64_t head = cw_ring_write_seq(r->frames);
        CwEvent newest = {.frame_seq = head ? head - 1 : 0};
        if (head)
            (void)take_snapshot(r, &newest);
    }
}

/* One audio packet of the ring into the clip (a torn one is left out). */
static void copy_audio(Recorder *r, const CwPacketHeader *ph, CwRingView *view)
{
    if (av_new_packet(r->pkt, (int)ph->size) < 0) {
        cw_ring_done(&r->pkt_rd, view);
        return; /* a moment of silence rather than a lost clip */
    }
    memcpy(r->pkt->data, view->data + sizeof(*ph), ph->size);
    if (!cw_ring_done(&r->pkt_rd, view)) {
        av_packet_unref(r->pkt); /* overwritten while copied */
        return;
    }
    r->pkt->pts = ph->pts;
    r->pkt->dts = ph->dts;
    r->pkt->duration = ph->duration;
    r->pkt->flags = AV_PKT_FLAG_KEY;
    r->pkt->stream_index = 1;
    /* A write error is sticky in the clip: the next video packet ends it. */
    rec_clip_write(r->clip, r->pkt, clip_time_ns(r, ph));
}

/*
 * Copy every new packet into the clip in progress; clippolicy.c decides what
 * each packet does to the clip. This loop only reads the ring: it notices
 * lost and torn packets, follows a new stream before the file exists, and
 * carries out the decisions.
 */
static void drain_packets(Recorder *r)
{
    CwRingView view;
    CwPacketHeader ph;
    RecPacketDecision d;
    int count = 0;

    while (r->policy.phase != REC_CLIP_IDLE && cw_ring_next(&r->pkt_rd, &view) == 0) {
        if (++count % HEARTBEAT_PACKETS == 0)
            heartbeat(r);
        if (r->clip && view.seq != r->expect_seq) {
            r->lost += view.seq - r->expect_seq;
            cw_warn("clip %s: %llu packets lost (record fell behind the ring by more than its "
                    "depth); resuming at the next keyframe",
                    r->info.name, (unsigned long long)(view.seq - r->expect_seq));
            rec_clip_policy_gap(&r->policy);
        }
        r->expect_seq = view.seq + 1;
        if (view.len < sizeof(ph)) {
            cw_ring_done(&r->pkt_rd, &view);
            continue;
        }
        memcpy(&ph, view.data, sizeof(ph));
        /* Nothing in the header may steer the clip (its start, its length)
         * before the slot is known not to have been torn under us. */
        if (!cw_ring_view_intact(r->packets, &view)) {
            cw_ring_done(&r->pkt_rd, &view); /* counts the overrun */
            rec_clip_policy_gap(&r->policy);
            continue;
        }
        if (ph.size > view.len - sizeof(ph)) {
            if (cw_ring_done(&r->pkt_rd, &view))
                cw_warn("packet %llu: header claims %u bytes in a %u-byte slot; skipped",
                        (unsigned long long)view.seq, ph.size, view.len);
            continue;
        }
        if (ph.stream != CW_STREAM_MAIN) {
            /* The sound follows the video into an open clip; the policy
             * (starts, ends, cuts) is the video's alone. */
            if (ph.stream == CW_STREAM_AUDIO && r->clip && r->clip_audio &&
                ph.epoch == r->aparams.epoch)
                copy_audio(r, &ph, &view);
            else
                cw_ring_done(&r->pkt_rd, &view);
            continue;
        }
        bool key = view.flags & CW_SLOT_KEY;
        RecPacketIn in = {
            .now_mono_ns = cw_mono_ns(),
            .arrival = {.wall_ns = ph.wall_ns, .mono_ns = ph.mono_ns},
            .key = key,
            .stream_changed = ph.epoch != r->params.epoch,
            .elapsed_media_ns = REC_NO_MEDIA_TIME,
        };
        if (r->clip) {
            in.elapsed_arrival_ns = ph.mono_ns - r->clip_first.mono_ns;
            in.elapsed_media_ns = clip_media_elapsed_ns(r, &ph);
        }
        rec_clip_policy_on_packet(&r->policy, &in, &d);
        if (d.verdict == REC_PACKET_NEW_STREAM) {
            CwStreamParams now;
            if (cw_rings_get_params(r->packets, CW_STREAM_MAIN, &now) < 0 ||
                now.epoch != ph.epoch) {
                cw_ring_done(&r->pkt_rd, &view);
                continue;
            }
            r->params = now; /* no file yet: follow the new stream */
            describe_stream(r);
            in.stream_changed = false;
            rec_clip_policy_on_packet(&r->policy, &in, &d);
        }
        switch (d.verdict) {
        case REC_PACKET_END:
            /* The packet stays unread: it is for whatever comes next. */
            if (d.end == REC_END_CAMERA_LOST)
                cw_warn("clip %s: the stream changed (camera reconnected); closing it",
                        r->info.name);
            end_clip(r, d.end);
            return;
        case REC_PACKET_CUT:
            end_clip(r, d.end);
            continue_clip(r, ph.wall_ns);
            /* cw_ring_next() returns this packet again, for the next clip. */
            continue;
        case REC_PACKET_NEW_STREAM: /* (answered above: never twice) */
        case REC_PACKET_SKIP:
            cw_ring_done(&r->pkt_rd, &view);
            continue;
        case REC_PACKET_WRITE:
            break;
        }
        int opened = d.open_file ? open_clip(r, &ph, &view) : 0;
        if (opened < 0 && rec_disk_full_error(opened)) /* clip.c leaves this one to us */
            rec_disk_full_failed(&r->disk_full, "create clip", r->staging_path, opened,
                                 cw_mono_ns());
        if (opened < 0) {
            rec_clip_policy_ended(&r->policy, REC_END_OPEN_FAILED,
                                  rec_disk_full_error(opened) ? REC_OUTCOME_DISK_FULL
                                                              : REC_OUTCOME_WRITE_FAILED,
                                  cw_mono_ns());
            return;
        }
        int ret = av_new_packet(r->pkt, (int)ph.size);
        if (ret < 0) {
            cw_error("out of memory for a %u-byte packet", ph.size);
            cw_ring_done(&r->pkt_rd, &view);
            rec_clip_policy_gap(&r->policy);
            continue;
        }
        memcpy(r->pkt->data, view.data + sizeof(ph), ph.size);
        if (!cw_ring_done(&r->pkt_rd, &view)) {
            /* Overwritten while copied: never write a torn packet. */
            av_packet_unref(r->pkt);
            r->torn++;
            rec_clip_policy_gap(&r->policy);
            cw_warn("clip %s: packet %llu was overwritten while copied (%llu torn in this clip); "
                    "resuming at the next keyframe",
                    r->info.name, (unsigned long long)view.seq, (unsigned long long)r->torn);
            continue;
        }
        r->pkt->pts = ph.pts;
        r->pkt->dts = ph.dts;
        r->pkt->duration = ph.duration;
        r->pkt->flags = key ? AV_PKT_FLAG_KEY : 0;
        if (rec_clip_write(r->clip, r->pkt, clip_time_ns(r, &ph)) < 0) {
            end_clip(r, REC_END_WRITE_FAILED); /* the outcome names the cut */
            return;
        }
    }
}

/* Camera silent, or reconnected with no packet yet: close what we have. */
static void check_stream(Recorder *r)
{
    enum RecClipEnd why = rec_clip_policy_on_tick(&r->policy, cw_mono_ns());

    if (why == REC_END_NONE)
        return;
    if (r->clip) {
        cw_warn("clip %s: no packet for %.0f s, camera lost; closing it with what arrived",
                r->info.name, r->cfg.timeout_s);
        end_clip(r, why);
    } else {
        cw_warn("motion of %s: no packet for %.0f s, camera lost; no clip", r->info.name,
                r->cfg.timeout_s);
        rec_clip_policy_ended(&r->policy, why, REC_OUTCOME_OK, cw_mono_ns());
    }
}

static int open_rings(Recorder *r, int *code)
{
    const CwRingUse rings[] = {
        {.kind = CW_RING_PACKETS, .ring = &r->packets, .reader = &r->pkt_rd, .role = "record"},
        {.kind = CW_RING_FRAMES, .ring = &r->frames},
        {.kind = CW_RING_EVENTS, .ring = &r->events, .reader = &r->ev_rd, .role = "record"},
    };
    return cw_rings_open_all(&r->cfg, rings, 3, code); /* logs what failed */
}

static void run(Recorder *r)
{
    while (!cw_stop_requested) {
        heartbeat(r);
        rec_hooks_reap();
        if (r->policy.phase == REC_CLIP_IDLE) {
            /* Idle costs nothing: stay at the head, touch no packet data. */
            cw_ring_reader_seek(&r->pkt_rd, cw_ring_write_seq(r->packets));
        }
        cw_ring_wait(&r->pkt_rd, WAIT_MS);
        if (cw_stop_requested)
            break;
        drain_events(r);
        if (r->policy.phase != REC_CLIP_IDLE)
            drain_packets(r);
        check_stream(r);
        rec_retention_tick(r->retention, r->clip ? r->staging_path : NULL);
    }
    /* Whatever was published before the stop belongs in the clip. */
    drain_packets(r);
    enum RecClipEnd why = rec_clip_policy_on_stop(&r->policy);
    if (why != REC_END_NONE) {
        if (r->clip)
            cw_info("stopping: finishing clip %s", r->info.name);
        end_clip(r, why);
    }
}

int main(int argc, char **argv)
{
    static Recorder rec; /* large (stream parameters): not on the stack */
    Recorder *r = &rec;
    int code = CW_EXIT_SOFTWARE;

    if (cw_stage_start(PROGRAM, usage, argc, argv, &r->cfg, &code) < 0)
        return code;
    tzset();
    cw_avlog_install(r->cfg.log_level);
    if (prepare_dirs(&r->cfg) < 0)
        return CW_EXIT_CONFIG;
    RecClipRules rules = {
        .pre_capture_ns = seconds_to_ns(r->cfg.pre_capture_s),
        .post_capture_ns = seconds_to_ns(r->cfg.post_capture_s),
        .max_clip_ns = seconds_to_ns(r->cfg.max_clip_s),
        .camera_timeout_ns = seconds_to_ns(r->cfg.timeout_s),
        .detect_grace_ns = REC_DETECT_GRACE_NS,
        .max_overrun_ns = REC_MAX_OVERRUN_NS,
        .write_retry_ns = REC_WRITE_RETRY_NS,
    };
    rec_clip_policy_init(&r->policy, &rules);
    rec_disk_full_init(&r->disk_full);
    char err[512];
    /* The loader checked it already: a failure here is a bug. */
    if (cw_polygons_parse("MOTION_ZONES", r->cfg.motion_zones, true, &r->zones, err, sizeof(err)) <
        0) {
        cw_crit("%s", err);
        return CW_EXIT_CONFIG;
    }
    r->no_stream_log = (CwRateLimit)CW_RATELIMIT_INIT(NO_STREAM_LOG_NS);

    r->pkt = av_packet_alloc();
    r->par = avcodec_parameters_alloc();
    r->apar = avcodec_parameters_alloc();
    bool annotated = strcmp(r->cfg.record_mode, REC_RECORD_ANNOTATED) == 0;
    r->boxes = annotated ? av_malloc(sizeof(*r->boxes)) : NULL;
    if (!r->pkt || !r->par || !r->apar || rec_snapshot_alloc(&r->snap) < 0 ||
        (annotated && !r->boxes)) {
        cw_crit("out of memory");
        goto end;
    }
    if (open_rings(r, &code) < 0)
        goto end;
    heartbeat(r);
    cw_info("recording %s clips into %s (pre-roll %.1f s, post %.1f s, at most %.0f s)",
            r->cfg.camera, r->cfg.video_dir, r->cfg.pre_capture_s, r->cfg.post_capture_s,
            r->cfg.max_clip_s);
    if (r->boxes) {
        rec_boxtrack_init(r->boxes);
        cw_info("RECORD_MODE=annotated: clips are re-encoded with the moving regions outlined");
    }
    /* Before recovery: the clips it delivers need the space. */
    if (rec_retention_open(&r->retention, &r->cfg, heartbeat, r) < 0) {
        cw_crit("out of memory");
        goto end;
    }
    int recovered = rec_recover_all(&r->cfg, heartbeat, r);
    if (recovered > 0)
        cw_info("recovered %d clip%s left by a crash", recovered, recovered == 1 ? "" : "s");

    run(r);
    rec_hooks_reap();
    cw_info("stopped");
    code = CW_EXIT_OK;

end:
    cw_ring_detach(&r->pkt_rd);
    cw_ring_detach(&r->ev_rd);
    cw_ring_close(&r->packets);
    cw_ring_close(&r->frames);
    cw_ring_close(&r->events);
    rec_retention_close(&r->retention);
    rec_snapshot_free(&r->snap);
    av_freep(&r->boxes);
    avcodec_parameters_free(&r->par);
    avcodec_parameters_free(&r->apar);
    av_packet_free(&r->pkt);
    return code;
}
