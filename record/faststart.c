#include "faststart.h"

#include "avquiet.h"
#include "fsutil.h"

#include <errno.h>
#include <stdbool.h>
#include <libavformat/avformat.h>
#include <unistd.h>

/* One packet of `ic` into the same stream of `oc`; takes its reference. */
static int write_copy(AVFormatContext *ic, AVFormatContext *oc, AVPacket *pkt)
{
    av_packet_rescale_ts(pkt, ic->streams[pkt->stream_index]->time_base,
                         oc->streams[pkt->stream_index]->time_base);
    pkt->pos = -1;
    return av_interleaved_write_frame(oc, pkt);
}

/*
 * A fragmented MP4 cannot say that a stream starts later than the file: the
 * muxer starts it at zero and lengthens its first sample instead, which a
 * player would play at zero, early. When the first packet `first` lasts
 * longer than a frame, it is put back where it belongs, one frame before
 * `next` (the regular MP4 says so with an edit list).
 */
static void place_first(const AVStream *st, AVPacket *first, const AVPacket *next)
{
    const AVCodecParameters *par = st->codecpar;
    if (par->frame_size <= 0 || par->sample_rate <= 0 || first->pts == AV_NOPTS_VALUE ||
        next->pts == AV_NOPTS_VALUE)
        return;
    int64_t frame = av_rescale_q(par->frame_size, (AVRational){1, par->sample_rate}, st->time_base);
    if (next->pts - first->pts <= frame)
        return;
    first->pts = first->dts = next->pts - frame;
    first->duration = frame;
}

int rec_faststart(const char *src, const char *dst)
{
    AVFormatContext *ic = NULL, *oc = NULL;
    AVDictionary *opts = NULL;
    AVPacket *pkt = NULL, *held = NULL;
    bool created = false;
    int video = -1;
    bool held_first = false;            /* `held` is the first packet of its stream */
    int64_t video_end = AV_NOPTS_VALUE; /* in the video's time base */
    int ret;

    ret = avformat_open_input(&ic, src, NULL, NULL);
    if (ret < 0)
        goto end;
    ret = avformat_find_stream_info(ic, NULL);
    if (ret < 0)
        goto end;
    ret = avformat_alloc_output_context2(&oc, NULL, "mp4", dst);
    if (ret < 0)
        goto end;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        AVStream *ist = ic->streams[i], *ost = avformat_new_stream(oc, NULL);
        if (!ost) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        ret = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
        if (ret < 0)
            goto end;
        /* The muxer's tags, but H.265 stays hvc1 (clip.c). */
        ost->codecpar->codec_tag =
            ist->codecpar->codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
        ost->time_base = ist->time_base;
        ost->avg_frame_rate = ist->avg_frame_rate;
    }
    /* creation_time and the comment recovery reads (clip.h) come along. */
    ret = av_dict_copy(&oc->metadata, ic->metadata, 0);
    if (ret < 0)
        goto end;
    /* faststart: the muxer writes the media, then moves it behind the index
     * it wrote last (one more pass over the file, by the muxer's own I/O). */
    av_dict_set(&opts, "movflags", "+faststart", 0);
    ret = avio_open(&oc->pb, dst, AVIO_FLAG_WRITE);
    if (ret < 0)
        goto end;
    created = true;
    ret = avformat_write_header(oc, &opts);
    if (ret < 0)
        goto end;
    video = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    pkt = av_packet_alloc();
    held = av_packet_alloc();
    if (!pkt || !held) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* AVERROR_EOF ends the copy: the normal way out. */
    while ((ret = av_read_frame(ic, pkt)) >= 0) {
        if (pkt->stream_index == video && pkt->pts != AV_NOPTS_VALUE &&
            (video_end == AV_NOPTS_VALUE || pkt->pts + pkt->duration > video_end))
            video_end = pkt->pts + pkt->duration;
        /* A sound packet waits for the next one (its start, see
         * place_first()) and the last for the end (below). */
        if (pkt->stream_index != video) {
            if (held->data && held_first && held->stream_index == pkt->stream_index)
                place_first(ic->streams[pkt->stream_index], held, pkt);
            held_first = !held->data;
            if (held->data && (ret = write_copy(ic, oc, held)) < 0)
                goto end;
            av_packet_move_ref(held, pkt);
            continue;
        }
        if ((ret = write_copy(ic, oc, pkt)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    if (held->data) {
        /* A fragmented MP4 gives its last sound packet a whole frame
         * whatever it held (the padding of the encoder's last frame):
         * the sound ends with the picture, not up to a frame later. */
        AVRational vtb = video >= 0 ? ic->streams[video]->time_base : (AVRational){0, 1};
        AVRational atb = ic->streams[held->stream_index]->time_base;
        if (video_end != AV_NOPTS_VALUE && held->pts != AV_NOPTS_VALUE) {
            int64_t end = av_rescale_q(video_end, vtb, atb);
            if (held->pts < end && held->pts + held->duration > end)
                held->duration = end - held->pts;
        }
        if ((ret = write_copy(ic, oc, held)) < 0)
            goto end;
    }
    /* The muxer's "second pass" line at INFO (avquiet.h). */
    int level = rec_avquiet_begin();
    ret = av_write_trailer(oc);
    rec_avquiet_end(level);
    if (ret < 0)
        goto end;
    ret = avio_closep(&oc->pb);
    if (ret < 0)
        goto end;
    ret = rec_fsync_path(dst); /* -errno: an AVERROR as it is */

end:
    av_packet_free(&pkt);
    av_packet_free(&held);
    av_dict_free(&opts);
    if (oc && oc->pb)
        avio_closep(&oc->pb);
    avformat_free_context(oc);
    avformat_close_input(&ic);
    if (ret < 0 && created)
        unlink(dst);
    return ret;
}
