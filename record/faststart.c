#include "faststart.h"

#include "fsutil.h"

#include <errno.h>
#include <stdbool.h>
#include <libavformat/avformat.h>
#include <unistd.h>

int rec_faststart(const char *src, const char *dst)
{
    AVFormatContext *ic = NULL, *oc = NULL;
    AVDictionary *opts = NULL;
    AVPacket *pkt = NULL;
    bool created = false;
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
        ost->codecpar->codec_tag = 0;
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
    pkt = av_packet_alloc();
    if (!pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* AVERROR_EOF ends the copy: the normal way out. */
    while ((ret = av_read_frame(ic, pkt)) >= 0) {
        AVStream *ist = ic->streams[pkt->stream_index];
        av_packet_rescale_ts(pkt, ist->time_base, oc->streams[pkt->stream_index]->time_base);
        pkt->pos = -1;
        ret = av_interleaved_write_frame(oc, pkt); /* takes the packet's reference */
        if (ret < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    ret = av_write_trailer(oc);
    if (ret < 0)
        goto end;
    ret = avio_closep(&oc->pb);
    if (ret < 0)
        goto end;
    ret = rec_fsync_path(dst); /* -errno: an AVERROR as it is */

end:
    av_packet_free(&pkt);
    av_dict_free(&opts);
    if (oc && oc->pb)
        avio_closep(&oc->pb);
    avformat_free_context(oc);
    avformat_close_input(&ic);
    if (ret < 0 && created)
        unlink(dst);
    return ret;
}
