#define _GNU_SOURCE
#include "clip.h"

#include "audioenc.h"
#include "diskfull.h"
#include "fsutil.h"
#include "log.h"
#include "mp4scan.h"
#include "timefmt.h"
#include "tsmap.h"
#include "videoenc.h"

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/mathematics.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct RecClip {
    AVFormatContext *oc;
    AVStream *st;
    AVStream *ast;     /* the sound; NULL: video only */
    RecTsMap ats;      /* the sound's timestamps -> the file's */
    RecAudioEnc *aenc; /* G.711 -> AAC; NULL when the sound is copied */
    AVPacket *apkt;    /* an AAC packet out of aenc */
    bool audio_off;    /* the sound failed: left out from there on */
    bool audio_tail;   /* the transcoder's last packets: they end no later than the video */
    int64_t zero_ns;   /* arrival of the video's first packet: time zero */
    char path[4096];
    int error;   /* first write error, sticky */
    RecTsMap ts; /* source timestamps -> the file's, from zero */
    int64_t min_pts, max_pts_end;
    /* End of the file and media duration (muxer time base) after the last
     * fragment that reached the file: what a cut after a write error keeps. */
    int64_t written_pos;
    int64_t flushed_pos, flushed_duration;
    RecClipStats stats;
    /* RECORD_MODE=annotated: the video's transcoder (NULL: copied), the
     * time base it works in, and a packet out of it. */
    RecVideoEnc *venc;
    AVRational venc_tb;
    AVPacket *vpkt;
};

static void clip_fail(RecClip *c, int err, const char *what)
{
    if (c->error)
        return;
    c->error = err;
    /* One ERROR per clip: the path, what failed and the errno behind it. A
     * full disk is the caller's to say, once while it lasts (diskfull.h). */
    cw_log(rec_disk_full_error(err) ? CW_LOG_DEBUG : CW_LOG_ERROR, "cannot %s %s: %s (errno %d)",
           what, c->path, av_err2str(err), err < 0 && err > -4096 ? -err : 0);
}

enum RecAudioPlan rec_clip_audio_plan(enum AVCodecID id, int extradata_size)
{
    switch (id) {
    case AV_CODEC_ID_PCM_ALAW:
    case AV_CODEC_ID_PCM_MULAW:
        return REC_AUDIO_TRANSCODE;
    case AV_CODEC_ID_AAC:
        return extradata_size > 0 ? REC_AUDIO_COPY : REC_AUDIO_DROP;
    case AV_CODEC_ID_OPUS:
    case AV_CODEC_ID_MP3:
        /* Only what this FFmpeg's MP4 muxer takes without -strict experimental. */
        return avformat_query_codec(av_guess_format("mp4", NULL, NULL), id, FF_COMPLIANCE_NORMAL) ==
                       1
                   ? REC_AUDIO_COPY
                   : REC_AUDIO_DROP;
    default:
        return REC_AUDIO_DROP;
    }
}

/* The clip's sound stream, as spec describes it; on failure the clip has none. */
static int add_audio(RecClip *c, const RecClipSpec *spec)
{
    const AVCodecParameters *par = spec->audio_par;
    AVRational tb = spec->audio_time_base;
    int ret;

    if (spec->audio_transcode) {
        ret = rec_audioenc_open(&c->aenc, spec->audio_par);
        if (ret < 0) {
            cw_warn("clip %s is recorded without its %s sound: cannot transcode it to AAC: %s",
                    c->path, avcodec_get_name(spec->audio_par->codec_id), av_err2str(ret));
            return ret == AVERROR(ENOMEM) ? ret : 0;
        }
        par = rec_audioenc_par(c->aenc);
        tb = rec_audioenc_time_base(c->aenc);
        c->apkt = av_packet_alloc();
        if (!c->apkt)
            return AVERROR(ENOMEM);
    }
    c->ast = avformat_new_stream(c->oc, NULL);
    if (!c->ast)
        return AVERROR(ENOMEM);
    ret = avcodec_parameters_copy(c->ast->codecpar, par);
    if (ret < 0)
        return ret;
    c->ast->codecpar->codec_tag = 0; /* as for the video: the muxer's choice */
    c->ast->time_base = tb;
    return 0;
}

/* The video's transcoder for an annotated clip; without one the clip is a
 * copy (logged). Returns 0 or AVERROR(ENOMEM). */
static int open_annotated(RecClip *c, const RecClipSpec *spec)
{
    const AVCodec *codec = rec_videoenc_pick(spec->par->codec_id);
    if (!codec)
        return 0; /* said once by rec_videoenc_pick() */
    c->venc_tb = spec->time_base;
    int ret = rec_videoenc_open(&c->venc, codec, spec->par, c->venc_tb, spec->frame_rate,
                                spec->annotate, spec->annotate_mono_offset_ns,
                                c->oc->oformat->flags & AVFMT_GLOBALHEADER);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0) {
        /* Said once: a camera the encoder cannot take fails every clip alike
         * (each sidecar says record_mode "copy"). */
        static bool said;
        cw_log(said ? CW_LOG_DEBUG : CW_LOG_WARNING,
               "clip %s is copied without outlines: cannot re-encode its %dx%d %s video with %s: "
               "%s",
               c->path, spec->par->width, spec->par->height, avcodec_get_name(spec->par->codec_id),
               codec->name, av_err2str(ret));
        said = true;
        return 0;
    }
    c->vpkt = av_packet_alloc();
    return c->vpkt ? 0 : AVERROR(ENOMEM);
}

static void set_times_metadata(AVFormatContext *oc, const RecClipSpec *spec)
{
    char iso[64], comment[128];

    av_dict_set(&oc->metadata, "creation_time",
                cw_time_format(spec->start_ns, CW_TIME_ISO_UTC, iso, sizeof(iso)), 0);
    snprintf(comment, sizeof(comment), REC_CLIP_COMMENT_FMT, (long long)spec->start_ns,
             (long long)spec->motion_start_ns);
    av_dict_set(&oc->metadata, "comment", comment, 0);
}

int rec_clip_open(RecClip **clip, const char *path, const RecClipSpec *spec)
{
    RecClip *c = NULL;
    AVDictionary *opts = NULL;
    const AVDictionaryEntry *left = NULL;
    char movflags[128] = "frag_keyframe+empty_moov+default_base_moof";
    int ret;

    *clip = NULL;
    c = av_mallocz(sizeof(*c));
    if (!c) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    av_strlcpy(c->path, path, sizeof(c->path));

    ret = avformat_alloc_output_context2(&c->oc, NULL, "mp4", path);
    if (ret < 0)
        goto end;
    c->st = avformat_new_stream(c->oc, NULL);
    if (!c->st) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (spec->annotate) {
        ret = open_annotated(c, spec);
        if (ret < 0)
            goto end;
    }
    ret = avcodec_parameters_copy(c->st->codecpar, c->venc ? rec_videoenc_par(c->venc) : spec->par);
    if (ret < 0)
        goto end;
    /* The source container's tag (e.g. RTP's) means nothing to MP4: let the
     * muxer choose (avc1, mp4v for MJPEG), except for H.265: hvc1, not the
     * muxer's hev1, which Apple's players refuse. */
    c->st->codecpar->codec_tag =
        c->st->codecpar->codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
    c->st->time_base = spec->time_base;
    if (spec->frame_rate.num > 0 && spec->frame_rate.den > 0)
        c->st->avg_frame_rate = spec->frame_rate;
    c->zero_ns = spec->start_ns;
    if (spec->audio_par) {
        ret = add_audio(c, spec);
        if (ret < 0)
            goto end;
    }
    AVRational audio_src_tb = c->aenc ? rec_audioenc_time_base(c->aenc) : spec->audio_time_base;
    set_times_metadata(c->oc, spec);

    /* Without extradata (a camera that sends SPS/PPS only in-band) the moov
     * cannot describe the stream yet: let the muxer take it from the first
     * keyframe before writing its header. */
    if (!c->venc && spec->par->extradata_size == 0 &&
        (spec->par->codec_id == AV_CODEC_ID_H264 || spec->par->codec_id == AV_CODEC_ID_HEVC))
        av_strlcat(movflags, "+delay_moov", sizeof(movflags));
    av_dict_set(&opts, "movflags", movflags, 0);
    /* Also cut a fragment every second inside long GOPs: a crash then loses
     * at most about a second, not a whole GOP. */
    av_dict_set(&opts, "frag_duration", "1000000", 0);
    /* Hand every fragment to the kernel as soon as it is complete, so that a
     * killed process leaves it in the file. */
    c->oc->flush_packets = 1;

    ret = avio_open(&c->oc->pb, path, AVIO_FLAG_WRITE);
    if (ret < 0)
        goto end;
    ret = avformat_write_header(c->oc, &opts);
    if (ret < 0)
        goto end;
    if (c->oc->pb->error < 0) {
        ret = c->oc->pb->error;
        goto end;
    }
    c->written_pos = avio_tell(c->oc->pb);
    /* The muxer may have chosen another time base than ours: only now is it known. */
    /* Annotated, the clip's times are the transcoder's until it hands out
     * its packets (rescaled to the stream's then). */
    rec_tsmap_init(&c->ts, spec->time_base, c->venc ? c->venc_tb : c->st->time_base,
                   spec->frame_rate);
    if (c->ast)
        rec_tsmap_init(&c->ats, audio_src_tb, c->ast->time_base, (AVRational){0, 1});
    while ((left = av_dict_get(opts, "", left, AV_DICT_IGNORE_SUFFIX)))
        cw_warn("mp4 muxer ignored option %s=%s", left->key, left->value);
    c->stats.first_wall_ns = spec->start_ns;
    *clip = c;
    c = NULL; /* ownership passed to the caller */
    ret = 0;

end:
    av_dict_free(&opts);
    if (c) {
        cw_log(rec_disk_full_error(ret) ? CW_LOG_DEBUG : CW_LOG_ERROR, "cannot start clip %s: %s",
               path, av_err2str(ret));
        if (c->oc && c->oc->pb) {
            avio_closep(&c->oc->pb);
            unlink(path); /* only a header, or less: nothing to keep */
        }
        avformat_free_context(c->oc);
        rec_audioenc_free(&c->aenc);
        av_packet_free(&c->apkt);
        rec_videoenc_free(&c->venc);
        av_packet_free(&c->vpkt);
        av_free(c);
    }
    return ret;
}

/* The muxer hands a fragment to the file when a packet starts the next one
 * (flush_packets puts it there at once): note where the file now ends. */
static void note_fragment(RecClip *c, int64_t duration_before)
{
    int64_t pos = avio_tell(c->oc->pb);
    if (pos != c->written_pos) {
        c->written_pos = pos;
        c->flushed_pos = pos;
        c->flushed_duration = duration_before;
    }
}

/* One packet of the sound, in the time base of c->ats, into the file. */
static int mux_audio(RecClip *c, AVPacket *pkt, int64_t wall_ns)
{
    if (c->ats.packets == 0) {
        /* The sound starts where its first packet arrived on the video's timeline. */
        int64_t offset_ns = wall_ns > c->zero_ns ? wall_ns - c->zero_ns : 0;
        c->ats.first_shift = av_rescale_q(offset_ns, (AVRational){1, 1000000000}, c->ats.src_tb);
    }
    rec_tsmap_packet(&c->ats, pkt, wall_ns);
    if (c->audio_tail && c->stats.packets > 0) {
        /* The transcoder's last packets can reach past the last picture
         * (the sound handed in runs ahead of the video, and an AAC frame is
         * 128 ms at 8 kHz): end the sound where the video ends, or the clip
         * would last that much longer than its pictures. */
        int64_t video_end = av_rescale_q(c->max_pts_end, c->st->time_base, c->ast->time_base);
        if (pkt->pts != AV_NOPTS_VALUE && pkt->pts >= video_end) {
            av_packet_unref(pkt);
            return 0;
        }
        if (pkt->pts != AV_NOPTS_VALUE && pkt->duration > 0 && pkt->pts + pkt->duration > video_end)
            pkt->duration = video_end - pkt->pts;
    }
    pkt->stream_index = c->ast->index;
    pkt->pos = -1;
    int64_t duration_before = c->stats.packets ? c->max_pts_end - c->min_pts : 0;
    int ret = av_write_frame(c->oc, pkt);
    av_packet_unref(pkt);
    if (ret < 0) {
        clip_fail(c, ret, "write");
        return ret;
    }
    note_fragment(c, duration_before);
    return 0;
}

/* A sound that cannot be transcoded is left out; the video goes on. */
static int audio_failed(RecClip *c, int err)
{
    if (err == AVERROR(ENOMEM) || c->error)
        return c->error ? c->error : err;
    cw_warn("clip %s: its sound cannot be transcoded (%s); the rest of the clip has none", c->path,
            av_err2str(err));
    c->audio_off = true;
    return 0;
}

/* Every AAC packet the encoder has ready, into the file. */
static int mux_encoded(RecClip *c)
{
    AVRational tb = rec_audioenc_time_base(c->aenc);
    for (;;) {
        int ret = rec_audioenc_receive(c->aenc, c->apkt);
        /* EAGAIN: it needs more samples; EOF: flushed and empty. Both: done for now. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return audio_failed(c, ret);
        /* Encoded packets are timed by their samples already: their arrival
         * time is only what places the first on the timeline. */
        int64_t wall = c->zero_ns + av_rescale_q(c->apkt->pts, tb, (AVRational){1, 1000000000});
        ret = mux_audio(c, c->apkt, wall);
        if (ret < 0)
            return ret;
    }
}

static int write_audio(RecClip *c, AVPacket *pkt, int64_t wall_ns)
{
    int ret = 0;

    if (!c->ast || c->audio_off)
        goto end;
    if (!c->aenc)
        return mux_audio(c, pkt, wall_ns); /* unreferences pkt */
    ret = rec_audioenc_send(c->aenc, pkt, wall_ns - c->zero_ns);
    av_packet_unref(pkt);
    ret = ret < 0 ? audio_failed(c, ret) : mux_encoded(c);

end:
    av_packet_unref(pkt);
    return ret;
}

/* One video packet, in the stream's time base, into the file; noted in
 * the clip's numbers. Unreferences pkt. */
static int mux_video(RecClip *c, AVPacket *pkt)
{
    pkt->stream_index = 0;
    pkt->pos = -1;

    int64_t pts = pkt->pts, pts_end = pkt->pts + (pkt->duration > 0 ? pkt->duration : 0);
    int64_t duration_before = c->stats.packets ? c->max_pts_end - c->min_pts : 0;
    int size = pkt->size;
    int ret = av_write_frame(c->oc, pkt);
    av_packet_unref(pkt);
    if (ret < 0) {
        clip_fail(c, ret, "write");
        return ret;
    }
    note_fragment(c, duration_before);
    if (c->stats.packets == 0 || pts < c->min_pts)
        c->min_pts = pts;
    if (c->stats.packets == 0 || pts_end > c->max_pts_end)
        c->max_pts_end = pts_end;
    c->stats.packets++;
    c->stats.bytes += (uint64_t)size;
    return 0;
}

/* Every packet the transcoder has ready, into the file. */
static int mux_reencoded(RecClip *c)
{
    for (;;) {
        int ret = rec_videoenc_receive(c->venc, c->vpkt);
        /* EAGAIN: it waits for more packets; EOF: flushed and empty. Both: done for now. */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ret;
        av_packet_rescale_ts(c->vpkt, c->venc_tb, c->st->time_base);
        ret = mux_video(c, c->vpkt);
        if (ret < 0)
            return ret;
    }
}

/* An annotated clip's video packet (timed from zero) through the transcoder. */
static int write_annotated(RecClip *c, AVPacket *pkt, int64_t wall_ns)
{
    int ret = rec_videoenc_send(c->venc, pkt, wall_ns); /* takes pkt's reference */
    if (ret < 0) {
        clip_fail(c, ret, "re-encode the video of");
        return ret;
    }
    /* Arrival of what was handed in: the end of the clip's wall time, as
     * when copied, though the last pictures are still in the transcoder. */
    c->stats.last_wall_ns = wall_ns;
    return mux_reencoded(c);
}

int rec_clip_write(RecClip *c, AVPacket *pkt, int64_t wall_ns)
{
    int ret = c->error;

    if (ret < 0)
        goto end;
    if (pkt->stream_index == 1)
        return write_audio(c, pkt, wall_ns);
    if (c->ts.packets == 0) /* (an annotated clip's first packets come out later) */
        c->stats.first_wall_ns = wall_ns;
    if (rec_tsmap_packet(&c->ts, pkt, wall_ns))
        cw_debug("clip %s: timestamp jump of %.3f s, continuing by arrival time", c->path,
                 (double)c->ts.last_jump * av_q2d(c->ts.src_tb));
    if (c->venc)
        return write_annotated(c, pkt, wall_ns);
    ret = mux_video(c, pkt);
    if (ret == 0)
        c->stats.last_wall_ns = wall_ns;

end:
    av_packet_unref(pkt);
    return ret;
}

enum AVCodecID rec_clip_reencoded(const RecClip *c)
{
    return c->venc ? rec_videoenc_par(c->venc)->codec_id : AV_CODEC_ID_NONE;
}

uint64_t rec_clip_packets(const RecClip *c)
{
    return c->stats.packets;
}

int rec_clip_measure(const char *path, double *duration_s)
{
    AVFormatContext *ic = NULL;
    AVPacket *pkt = NULL;
    int64_t min_pts = INT64_MAX, max_end = INT64_MIN;
    int ret;

    *duration_s = 0;
    ret = avformat_open_input(&ic, path, NULL, NULL);
    if (ret < 0)
        goto end;
    ret = avformat_find_stream_info(ic, NULL);
    if (ret < 0)
        goto end;
    pkt = av_packet_alloc();
    if (!pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* AVERROR_EOF ends the loop: it is the normal way out, not a failure. */
    while (av_read_frame(ic, pkt) >= 0) {
        if (pkt->stream_index == 0 && pkt->pts != AV_NOPTS_VALUE) {
            if (pkt->pts < min_pts)
                min_pts = pkt->pts;
            if (pkt->pts + pkt->duration > max_end)
                max_end = pkt->pts + pkt->duration;
        }
        av_packet_unref(pkt);
    }
    if (min_pts != INT64_MAX)
        *duration_s = (double)(max_end - min_pts) * av_q2d(ic->streams[0]->time_base);
    ret = 0;

end:
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    return ret;
}

int rec_clip_finish(RecClip **clip, RecClipStats *stats, bool *playable)
{
    RecClip *c = *clip;
    int ret;

    *playable = false;
    memset(stats, 0, sizeof(*stats));
    if (!c)
        return 0;
    if (!c->error && c->venc) {
        /* The pictures still waiting for their analysis, and the encoder's last. */
        ret = rec_videoenc_flush(c->venc);
        if (ret < 0)
            clip_fail(c, ret, "re-encode the video of");
        else
            mux_reencoded(c); /* an error is the clip's (c->error) */
    }
    if (!c->error && c->stats.packets > 0 && c->aenc && !c->audio_off) {
        rec_audioenc_flush(c->aenc);
        c->audio_tail = true;
        mux_encoded(c); /* an error is the clip's (c->error) or the sound's (left out) */
    }
    if (!c->error && c->stats.packets > 0) {
        ret = av_write_trailer(c->oc);
        if (ret < 0)
            clip_fail(c, ret, "finish");
    }
    if (c->oc->pb) {
        ret = avio_closep(&c->oc->pb);
        if (ret < 0)
            clip_fail(c, ret, "close");
    }
    bool fsync_failed = false;
    if (!c->error) {
        ret = rec_fsync_path(c->path);
        fsync_failed = ret < 0;
        if (fsync_failed)
            clip_fail(c, ret, "fsync"); /* -errno: an AVERROR as it is (see clip.h) */
    }
    *stats = c->stats;
    if (c->max_pts_end > c->min_pts)
        stats->duration_s = (double)(c->max_pts_end - c->min_pts) * av_q2d(c->st->time_base);

    if (!c->error) {
        *playable = c->stats.packets > 0;
    } else if (fsync_failed) {
        /* The data was written but the disk refused to confirm it: Linux
         * reports a writeback error once, so a second fsync would lie.
         * Nothing is delivered as complete; the file stays in staging. */
        stats->unconfirmed = true;
    } else {
        /* Keep what the complete fragments hold; the torn tail would only
         * make players complain (and truncating frees the space it used). */
        RecMp4Scan scan;
        if (rec_mp4_scan(c->path, &scan) == 0 && scan.fragments > 0 &&
            truncate(c->path, scan.playable_end) == 0 && rec_fsync_path(c->path) == 0) {
            *playable = true;
            /* Normally the cut is where the last fragment ended; reading the
             * file back (slow for a long clip) is only the fallback. */
            if (scan.playable_end == c->flushed_pos)
                stats->duration_s = (double)c->flushed_duration * av_q2d(c->st->time_base);
            else if (rec_clip_measure(c->path, &stats->duration_s) < 0)
                stats->duration_s = 0;
            else
                cw_debug("%s: cut at %lld, not at a fragment end; duration read back", c->path,
                         (long long)scan.playable_end);
            cw_info("kept %d complete fragments of %s (%.1f s)", scan.fragments, c->path,
                    stats->duration_s);
        }
    }
    ret = c->error;
    avformat_free_context(c->oc);
    rec_audioenc_free(&c->aenc);
    av_packet_free(&c->apkt);
    rec_videoenc_free(&c->venc);
    av_packet_free(&c->vpkt);
    av_free(c);
    *clip = NULL;
    return ret;
}
