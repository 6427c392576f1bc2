#define _GNU_SOURCE
#include "recover.h"
#include "reserve.h"

#include "clip.h"
#include "clock.h"
#include "deliver.h"
#include "fsutil.h"
#include "log.h"
#include "mp4scan.h"
#include "sidecar.h"
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PART_SUFFIX  ".mp4.part"
#define REMUX_SUFFIX ".mp4.recovering"
#define TICK_PACKETS 64

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Move the unreadable `base`.mp4.part into staging/failed/ (as `base`-1.mp4.part
 * … if that name is taken), keeping it for a human.
 */
static void move_to_failed(const CwConfig *cfg, const char *src, const char *base, const char *why)
{
    static const char *const part_ext[] = {PART_SUFFIX + 1};
    char dir[4096], dst[4096], free_base[REC_NAME_MAX + 16];
    int ret;

    ret = rec_path_fmt(dir, sizeof(dir), "%s/failed", cfg->staging_dir);
    if (ret == 0)
        ret = rec_mkdir_p(dir, 0755);
    if (ret == 0)
        ret = rec_free_base(dir, base, part_ext, 1, free_base, sizeof(free_base));
    if (ret == 0)
        ret = rec_path_fmt(dst, sizeof(dst), "%s/%s" PART_SUFFIX, dir, free_base);
    if (ret == 0)
        ret = rec_rename_noreplace(src, dst);
    if (ret < 0) {
        cw_warn("cannot recover %s (%s), and cannot move it to %s/failed: %s; it stays where it "
                "is and is tried again at the next start",
                src, why, cfg->staging_dir, strerror(-ret));
        return;
    }
    rec_fsync_path(dir);
    cw_warn("cannot recover %s (%s): moved to %s for a human to look at", src, why, dst);
}

/*
 * The demuxer reads the .part through this, and sees a file that ends after
 * the last complete fragment: it never trips over the torn tail (which would
 * only produce errors and a corrupt last packet).
 */
typedef struct LimitedFile {
    int fd;
    int64_t size; /* bytes the demuxer may see */
    int64_t pos;
} LimitedFile;

static int limited_read(void *opaque, uint8_t *buf, int buf_size)
{
    LimitedFile *f = opaque;
    int64_t left = f->size - f->pos;
    if (left <= 0)
        return AVERROR_EOF;
    ssize_t n = pread(f->fd, buf, (size_t)(buf_size < left ? buf_size : left), f->pos);
    if (n < 0)
        return AVERROR(errno);
    if (n == 0)
        return AVERROR_EOF;
    f->pos += n;
    return (int)n;
}

static int64_t limited_seek(void *opaque, int64_t offset, int whence)
{
    LimitedFile *f = opaque;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return f->size;
    case SEEK_SET:
        break;
    case SEEK_CUR:
        offset += f->pos;
        break;
    case SEEK_END:
        offset += f->size;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (offset < 0)
        return AVERROR(EINVAL);
    f->pos = offset;
    return offset;
}

/* Open `path` for demuxing, its first `size` bytes only. */
static int open_limited(AVFormatContext **ic, LimitedFile *lf, const char *path, int64_t size)
{
    const int io_size = 64 * 1024;
    uint8_t *io_buf = NULL;
    AVIOContext *io = NULL;
    int ret;

    lf->fd = open(path, O_RDONLY | O_CLOEXEC);
    lf->size = size;
    lf->pos = 0;
    if (lf->fd < 0)
        return AVERROR(errno);
    io_buf = av_malloc(io_size);
    if (!io_buf)
        return AVERROR(ENOMEM);
    io = avio_alloc_context(io_buf, io_size, 0, lf, limited_read, NULL, limited_seek);
    if (!io) {
        av_free(io_buf);
        return AVERROR(ENOMEM);
    }
    *ic = avformat_alloc_context();
    if (!*ic) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    (*ic)->pb = io;
    (*ic)->flags |= AVFMT_FLAG_CUSTOM_IO;
    ret = avformat_open_input(ic, path, NULL, NULL); /* frees *ic on failure */
    if (ret < 0)
        goto fail;
    return 0;

fail:
    av_freep(&io->buffer);
    avio_context_free(&io);
    return ret;
}

/* Close what open_limited() opened (safe on a partial open). */
static void close_limited(AVFormatContext **ic, LimitedFile *lf)
{
    AVIOContext *io = *ic ? (*ic)->pb : NULL;
    avformat_close_input(ic); /* custom I/O: leaves io to us */
    if (io) {
        av_freep(&io->buffer);
        avio_context_free(&io);
    }
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
}

/* Times of the clip: from the metadata record wrote, else from the name. */
static void clip_times(AVFormatContext *ic, const char *base, int64_t *start_ns, int64_t *motion_ns)
{
    const AVDictionaryEntry *e = av_dict_get(ic->metadata, "comment", NULL, 0);
    long long s, m;
    if (e && sscanf(e->value, REC_CLIP_COMMENT_SCAN, &s, &m) == 2) {
        *start_ns = s;
        *motion_ns = m;
        return;
    }
    /* "<camera>-YYYYmmdd-HHMMSS[-k]": the stamp is the last 15-character
     * run of that shape. */
    *start_ns = *motion_ns = cw_wall_ns();
    for (const char *p = base; *p; p++) {
        struct tm tm = {0};
        const char *rest = strptime(p, "%Y%m%d-%H%M%S", &tm);
        if (rest && rest - p == 15) {
            tm.tm_isdst = -1;
            *start_ns = *motion_ns = (int64_t)mktime(&tm) * CW_NS_PER_SEC;
        }
    }
}

/* Decode one keyframe for the snapshot of `src`; failure only costs the snapshot. */
static void snapshot_from_packet(RecSnapshot *snap, const AVCodecParameters *par,
                                 const AVPacket *key, const char *src)
{
    AVCodecContext *dec = NULL;
    AVFrame *frame = NULL;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    int ret = AVERROR(ENOMEM);

    if (!codec || !key->data)
        goto end;
    dec = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    if (!dec || !frame)
        goto end;
    ret = avcodec_parameters_to_context(dec, par);
    if (ret < 0)
        goto end;
    ret = avcodec_open2(dec, codec, NULL);
    if (ret < 0)
        goto end;
    ret = avcodec_send_packet(dec, key);
    if (ret < 0)
        goto end;
    avcodec_send_packet(dec, NULL); /* drain: the one picture comes out now */
    ret = avcodec_receive_frame(dec, frame);
    if (ret < 0)
        goto end;
    ret = rec_snapshot_set_frame(snap, frame);

end:
    if (ret < 0)
        cw_warn("no snapshot for the clip recovered from %s (%s): it is delivered without one", src,
                av_err2str(ret));
    av_frame_free(&frame);
    avcodec_free_context(&dec);
}

static bool recover_one(const CwConfig *cfg, const char *file, RecSnapshot *snap,
                        void (*tick)(void *), void *arg)
{
    char src[4096], dst[4096], base[REC_NAME_MAX];
    AVFormatContext *ic = NULL;
    LimitedFile lf = {.fd = -1};
    AVPacket *pkt = NULL, *key = NULL;
    RecClip *clip = NULL;
    RecClipStats stats;
    RecClipInfo info;
    RecMp4Scan scan;
    int64_t start_ns, motion_ns, first_dts = AV_NOPTS_VALUE;
    int read_ret = AVERROR_EOF;
    double key_t = 0;
    bool delivered = false, playable = false;
    int idx, ret;

    size_t n = strlen(file) - strlen(PART_SUFFIX);
    if (n >= sizeof(base) || rec_path_fmt(src, sizeof(src), "%s/%s", cfg->staging_dir, file) < 0) {
        cw_warn("cannot recover %s/%s: name too long", cfg->staging_dir, file);
        return false;
    }
    memcpy(base, file, n);
    base[n] = '\0';
    if (rec_path_fmt(dst, sizeof(dst), "%s/%s" REMUX_SUFFIX, cfg->staging_dir, base) < 0) {
        cw_warn("cannot recover %s: name too long", src);
        return false;
    }
    cw_info("recovering %s, left by a crash", src);
    if (snap)
        rec_snapshot_reset(snap);

    ret = rec_mp4_scan(src, &scan);
    if (ret < 0) {
        move_to_failed(cfg, src, base, strerror(-ret));
        goto end;
    }
    if (scan.fragments == 0) {
        move_to_failed(cfg, src, base,
                       scan.header_end ? "no complete fragment" : "no complete MP4 header");
        goto end;
    }
    ret = open_limited(&ic, &lf, src, scan.playable_end);
    if (ret >= 0)
        ret = avformat_find_stream_info(ic, NULL);
    if (ret == AVERROR(ENOMEM)) {
        /* Nothing wrong with the file: it is worth another try. */
        cw_error("cannot recover %s now: out of memory; it stays in staging for the next start",
                 src);
        goto end;
    }
    if (ret < 0) {
        move_to_failed(cfg, src, base, av_err2str(ret));
        goto end;
    }
    idx = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (idx < 0) {
        move_to_failed(cfg, src, base, "no video stream");
        goto end;
    }
    AVStream *ist = ic->streams[idx];
    /* The sound the clip was recorded with (AAC already: copied again). */
    int aidx = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, idx, NULL, 0);
    AVStream *ast = aidx >= 0 ? ic->streams[aidx] : NULL;
    clip_times(ic, base, &start_ns, &motion_ns);
    double motion_offset_s = (double)(motion_ns - start_ns) / CW_NS_PER_SEC;

    RecClipSpec spec = {
        .par = ist->codecpar,
        .time_base = ist->time_base,
        .frame_rate = ist->avg_frame_rate,
        .start_ns = start_ns,
        .motion_start_ns = motion_ns,
        .audio_par = ast ? ast->codecpar : NULL,
        .audio_time_base = ast ? ast->time_base : (AVRational){0, 1},
    };
    /* Where the video starts in the file: the sound keeps its place beside it. */
    double zero_s =
        ist->start_time != AV_NOPTS_VALUE ? ist->start_time * av_q2d(ist->time_base) : 0;
    unlink(dst); /* an unfinished remux from an earlier attempt */
    if (rec_clip_open(&clip, dst, &spec) < 0) {
        cw_error("cannot recover %s now; it stays in staging for the next start", src);
        goto end;
    }
    pkt = av_packet_alloc();
    key = av_packet_alloc();
    if (!pkt || !key) {
        cw_error("cannot recover %s now: out of memory; it stays in staging for the next start",
                 src);
        goto end;
    }
    /* AVERROR_EOF (the end of the last complete fragment) ends the copy; so
     * does any read error: nothing after it could be trusted. */
    while ((read_ret = av_read_frame(ic, pkt)) >= 0) {
        if (ast && pkt->stream_index == aidx) {
            int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
            double t = ts == AV_NOPTS_VALUE ? 0 : ts * av_q2d(ast->time_base) - zero_s;
            pkt->stream_index = 1;
            if (rec_clip_write(clip, pkt, start_ns + (int64_t)(t * 1e9)) < 0)
                break; /* logged */
            continue;
        }
        if (pkt->stream_index != idx) {
            av_packet_unref(pkt);
            continue;
        }
        int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
        if (first_dts == AV_NOPTS_VALUE)
            first_dts = dts;
        double t = dts == AV_NOPTS_VALUE ? 0 : (double)(dts - first_dts) * av_q2d(ist->time_base);
        int64_t wall = start_ns + (int64_t)(t * 1e9);
        /* Snapshot: the first keyframe at or after the motion began, else the
         * last one there is. */
        if (snap && (pkt->flags & AV_PKT_FLAG_KEY) && (!key->data || key_t < motion_offset_s)) {
            av_packet_unref(key);
            if (av_packet_ref(key, pkt) == 0)
                key_t = t;
            else
                cw_warn("recovering %s: out of memory for the snapshot's keyframe; the clip may "
                        "get an earlier snapshot, or none",
                        src);
        }
        pkt->stream_index = 0;
        if (rec_clip_write(clip, pkt, wall) < 0)
            break; /* logged */
        if (rec_clip_packets(clip) % TICK_PACKETS == 0 && tick)
            tick(arg);
    }
    ret = rec_clip_finish(&clip, &stats, &playable);
    if (ret < 0) {
        /* Our copy is incomplete (disk full?): the original stays, and is
         * tried again at the next start. */
        unlink(dst);
        cw_error("cannot recover %s now; it stays in staging for the next start", src);
        goto end;
    }
    if (!playable) {
        unlink(dst);
        move_to_failed(cfg, src, base, "no packet could be read");
        goto end;
    }
    if (snap && key->data)
        snapshot_from_packet(snap, ist->codecpar, key, src);

    memset(&info, 0, sizeof(info));
    rec_clip_name(&info, cfg->camera, motion_ns);
    memcpy(info.name, base, sizeof(info.name)); /* keep the name it had */
    info.start_ns = start_ns;
    info.motion_start_ns = motion_ns;
    info.duration_s = stats.duration_s;
    info.end_ns = start_ns + (int64_t)(stats.duration_s * 1e9);
    info.peak_changed_percent = -1;
    info.width = ist->codecpar->width;
    info.height = ist->codecpar->height;
    snprintf(info.codec, sizeof(info.codec), "%s", avcodec_get_name(ist->codecpar->codec_id));
    info.cut_short = REC_CUT_CRASH;
    info.snapshot_source = REC_SNAPSHOT_MAIN; /* decoded from the clip's own keyframe */
    if (rec_deliver(cfg, dst, snap, &info) < 0) {
        /* Logged by rec_deliver(); the copy is derived data, made again. */
        unlink(dst);
        cw_error("cannot deliver the clip recovered from %s; it stays in staging for the next "
                 "start",
                 src);
        goto end;
    }
    delivered = true;
    if (read_ret == AVERROR_EOF) {
        /* All its playable content is delivered (and fsynced): the
         * original has nothing more to give. */
        if (unlink(src) == 0)
            rec_fsync_path(cfg->staging_dir);
        else
            cw_warn("clip recovered from %s was delivered, but the file cannot be removed: %s; "
                    "the next start will deliver it again",
                    src, strerror(errno));
    } else {
        /* It stopped reading before the end: keep the rest for a human. */
        move_to_failed(cfg, src, base, av_err2str(read_ret));
    }

end:
    if (clip) {
        rec_clip_finish(&clip, &stats, &playable);
        unlink(dst);
    }
    av_packet_free(&pkt);
    av_packet_free(&key);
    close_limited(&ic, &lf);
    return delivered;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rec_recover_all(const CwConfig *cfg, void (*tick)(void *), void *arg)
{
    DIR *dir = NULL;
    char **parts = NULL;
    size_t count = 0, cap = 0, unlisted = 0;
    RecSnapshot *snap = NULL;
    int delivered = 0;
    struct dirent *de;
    char path[4096];

    dir = opendir(cfg->staging_dir);
    if (!dir) {
        cw_warn("cannot list %s for recovery: %s; clips a crash left there stay until the next "
                "start",
                cfg->staging_dir, strerror(errno));
        goto end;
    }
    while ((de = readdir(dir))) {
        if (has_suffix(de->d_name, PART_SUFFIX)) {
            /* Out of memory, a file is only left unlisted: it stays in
             * staging untouched, counted and said below. */
            if (count == cap && !unlisted) {
                size_t ncap = cap ? cap * 2 : 8;
                char **np = realloc(parts, ncap * sizeof(*np));
                if (np) {
                    parts = np;
                    cap = ncap;
                }
            }
            char *name = count < cap && !unlisted ? strdup(de->d_name) : NULL;
            if (name)
                parts[count++] = name;
            else
                unlisted++;
        } else if (has_suffix(de->d_name, REMUX_SUFFIX) ||
                   has_suffix(de->d_name, ".mp4.faststart") ||
                   has_suffix(de->d_name, ".jpg.part") || has_suffix(de->d_name, ".json.part") ||
                   has_suffix(de->d_name, REC_RESERVE_SUFFIX)) {
            /* Derived from a .part or a delivered clip, or room held for
             * one (reserve.h): made again if needed. */
            if (rec_path_fmt(path, sizeof(path), "%s/%s", cfg->staging_dir, de->d_name) == 0) {
                cw_debug("removing leftover %s", path);
                unlink(path);
            }
        }
    }
    if (unlisted)
        cw_error("out of memory listing %s: %zu clip%s left by a crash will not be recovered now; "
                 "they stay in staging for the next start",
                 cfg->staging_dir, unlisted, unlisted == 1 ? "" : "s");
    if (count == 0)
        goto end;
    qsort(parts, count, sizeof(*parts), cmp_names);
    if (rec_snapshot_alloc(&snap) < 0)
        cw_warn("out of memory for snapshots: the %zu clip%s recovered now get none", count,
                count == 1 ? "" : "s");
    for (size_t i = 0; i < count; i++) {
        if (tick)
            tick(arg);
        if (recover_one(cfg, parts[i], snap, tick, arg))
            delivered++;
    }

end:
    rec_snapshot_free(&snap);
    for (size_t i = 0; i < count; i++)
        free(parts[i]);
    free(parts);
    if (dir)
        closedir(dir);
    return delivered;
}
