/*
 * One clip: compressed packets remuxed, never re-encoded, into a fragmented
 * MP4 (frag_keyframe+empty_moov+default_base_moof), so that a crash or a
 * full disk leaves a file playable up to its last complete fragment.
 * Timestamps are mapped by tsmap.h. Stream 0 is the video; stream 1, if
 * the clip has sound, the camera's audio: copied, or for G.711, which MP4
 * cannot carry, transcoded to AAC (audioenc.h), placed on the video's
 * timeline by the arrival time of its first packet.
 *
 * With RECORD_MODE=annotated (RecClipSpec.annotate) the video is not
 * copied but re-encoded with the moving regions outlined (videoenc.h),
 * timed exactly as a copy would be; the sound is handled as in a copy.
 *
 * Errors: every function here returns 0 or a negative AVERROR code. A
 * negative errno from fsutil.h is passed on unchanged, because on POSIX
 * AVERROR(e) is -(e): it already is the AVERROR code of that errno (asserted
 * below), and wrapping it again would only obscure that.
 */
#ifndef CAMWATCH_RECORD_CLIP_H
#define CAMWATCH_RECORD_CLIP_H

#include "boxtrack.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <stdbool.h>
#include <stdint.h>

_Static_assert(AVERROR(ENOSPC) == -ENOSPC, "a negative errno is its own AVERROR code");

/* The file's "comment" metadata; recovery reads the times back from it. */
#define REC_CLIP_COMMENT_FMT  "camwatch start_ns=%lld motion_start_ns=%lld"
#define REC_CLIP_COMMENT_SCAN "camwatch start_ns=%lld motion_start_ns=%lld"

typedef struct RecClip RecClip;

/* What a clip does with a camera's sound (rec_clip_audio_plan()). */
enum RecAudioPlan {
    REC_AUDIO_COPY,      /* MP4 carries it as it is (AAC, Opus, MP3) */
    REC_AUDIO_TRANSCODE, /* G.711: to AAC with FFmpeg's native encoder */
    REC_AUDIO_DROP,      /* MP4 cannot carry it: left out */
};

/*
 * The plan for a sound of codec `id` with `extradata_size` bytes of codec
 * configuration (AAC is unusable without its AudioSpecificConfig).
 */
enum RecAudioPlan rec_clip_audio_plan(enum AVCodecID id, int extradata_size);

typedef struct RecClipSpec {
    const AVCodecParameters *par; /* the one video stream (copied; codec_tag is reset) */
    AVRational time_base;         /* of the timestamps handed to rec_clip_write() */
    AVRational frame_rate;        /* {0, 1} if unknown */
    int64_t start_ns;             /* CLOCK_REALTIME of the first packet */
    int64_t motion_start_ns;      /* CLOCK_REALTIME of the first motion event */
    /* The clip's sound: NULL for video only. Its parameters (copied), the
     * time base of its packets, and whether it is transcoded (the plan was
     * REC_AUDIO_TRANSCODE) rather than copied. If it cannot be set up, the
     * clip is recorded without it (logged). */
    const AVCodecParameters *audio_par;
    AVRational audio_time_base;
    bool audio_transcode;
    /* RECORD_MODE=annotated: where the boxes of each analysed frame are
     * (not owned; it must outlive the clip). NULL: the video is copied.
     * A clip that cannot be annotated (no encoder, or it fails to open) is
     * copied instead (logged); rec_clip_reencoded() says which it is. */
    const RecBoxTrack *annotate;
    /* CLOCK_MONOTONIC minus the times handed to rec_clip_write(), which the
     * boxes' track is keyed on: record hands in the first packet's wall
     * time advanced by the monotonic clock, so this is one constant per
     * clip and a wall-clock step moves no outline. */
    int64_t annotate_mono_offset_ns;
} RecClipSpec;

typedef struct RecClipStats {
    int64_t first_wall_ns; /* arrival stamp of the first packet written */
    int64_t last_wall_ns;  /* of the last one */
    double duration_s;     /* media duration of what the file holds */
    uint64_t packets;
    uint64_t bytes;
    bool unconfirmed; /* written, but fsync failed: keep it, never deliver it */
} RecClipStats;

/*
 * Create `path` (which must not exist: the caller picks a free name) and
 * write the MP4 header. Returns 0 and sets *clip, or a negative AVERROR
 * after logging an ERROR naming the path (a full disk: DEBUG, as below); no
 * file is left behind then.
 */
int rec_clip_open(RecClip **clip, const char *path, const RecClipSpec *spec);

/*
 * Write one packet of stream pkt->stream_index: 0, the video, or 1, the
 * sound (ignored in a clip without sound). Its pts/dts/duration are in
 * spec->time_base (spec->audio_time_base for the sound) and may be
 * AV_NOPTS_VALUE (== CW_TS_NONE): they are then derived from `wall_ns`, the
 * packet's arrival time, so that playback speed stays right. Timestamps are
 * rebased to start at 0 (the sound: at its first packet's arrival after
 * spec->start_ns) and kept strictly increasing. A sound that fails to
 * transcode is left out from there on (logged once); the video goes on.
 * Takes the packet's
 * reference (the packet is unreferenced on return, success or not). Returns
 * 0 or a negative AVERROR: the first write error is logged as an ERROR
 * naming the path (but a full disk, ENOSPC or EDQUOT, only at DEBUG: the
 * caller says that once while it lasts, diskfull.h), and every later write
 * returns it too.
 */
int rec_clip_write(RecClip *clip, AVPacket *pkt, int64_t wall_ns);

/* The codec the clip's video is re-encoded to with outlines (RECORD_MODE=
 * annotated), or AV_CODEC_ID_NONE when it is copied as the camera sent it. */
enum AVCodecID rec_clip_reencoded(const RecClip *clip);

/* Video packets written so far (0 until the first rec_clip_write() of one succeeds). */
uint64_t rec_clip_packets(const RecClip *clip);

/*
 * Close the clip: write what the audio encoder still holds and the trailer,
 * close and fsync the file. After a write
 * error the file is cut back to its last complete fragment instead (and
 * fsynced), so what is kept plays cleanly. Sets *playable when the file holds
 * at least one playable packet, fills *stats, frees the clip and sets *clip
 * to NULL. Returns 0 or the clip's first error (negative AVERROR).
 */
int rec_clip_finish(RecClip **clip, RecClipStats *stats, bool *playable);

/*
 * Media duration of an MP4 file, read with libavformat (packets only, no
 * decoding). Returns 0 and sets *duration_s, or a negative AVERROR.
 */
int rec_clip_measure(const char *path, double *duration_s);

#endif /* CAMWATCH_RECORD_CLIP_H */
