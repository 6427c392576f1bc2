#include "audioenc.h"

#include "avquiet.h"

#include <errno.h>
#include <stdbool.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libswresample/swresample.h>

struct RecAudioEnc {
    AVCodecContext *dec, *enc;
    SwrContext *swr;
    AVAudioFifo *fifo; /* converted samples waiting for a whole encoder frame */
    AVFrame *decoded, *converted, *frame;
    AVCodecParameters *par; /* of the AAC output */
    bool anchored;          /* the first samples have their place on the clip's timeline */
    int64_t skip;           /* samples still to leave out (see rec_audioenc_send()) */
    int64_t next_pts;       /* of the next encoder frame, in 1/sample rate */
    int64_t end_pts;        /* just after the last real sample (not padding) handed in */
    bool flushing, flushed; /* no more input; the encoder was told so */
};

int rec_audioenc_open(RecAudioEnc **out, const AVCodecParameters *in)
{
    RecAudioEnc *e = NULL;
    AVChannelLayout layout = {0};
    int ret;

    *out = NULL;
    const AVCodec *dec = avcodec_find_decoder(in->codec_id);
    /* "aac" by name: FFmpeg's own encoder, not whichever another build prefers. */
    const AVCodec *enc = avcodec_find_encoder_by_name("aac");
    if (!dec || !enc || in->sample_rate <= 0) {
        ret = AVERROR_DECODER_NOT_FOUND;
        goto end;
    }
    e = av_mallocz(sizeof(*e));
    if (!e) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (in->ch_layout.nb_channels > 0 && in->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC) {
        ret = av_channel_layout_copy(&layout, &in->ch_layout);
        if (ret < 0)
            goto end;
    } else {
        /* RTP's G.711 names a channel count, no layout. */
        int channels = in->ch_layout.nb_channels > 0 ? in->ch_layout.nb_channels : 1;
        av_channel_layout_default(&layout, channels);
    }

    e->dec = avcodec_alloc_context3(dec);
    e->enc = avcodec_alloc_context3(enc);
    e->decoded = av_frame_alloc();
    e->converted = av_frame_alloc();
    e->frame = av_frame_alloc();
    e->par = avcodec_parameters_alloc();
    if (!e->dec || !e->enc || !e->decoded || !e->converted || !e->frame || !e->par) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = avcodec_parameters_to_context(e->dec, in);
    if (ret >= 0)
        ret = av_channel_layout_copy(&e->dec->ch_layout, &layout);
    if (ret >= 0)
        ret = avcodec_open2(e->dec, dec, NULL);
    if (ret < 0)
        goto end;

    e->enc->sample_fmt = AV_SAMPLE_FMT_FLTP; /* the only format the native encoder takes */
    e->enc->sample_rate = in->sample_rate;
    e->enc->time_base = (AVRational){1, in->sample_rate};
    /* Speech from a camera: 32 kbit/s a channel is plenty at 8 or 16 kHz. */
    e->enc->bit_rate = (in->sample_rate <= 16000 ? 32000 : 64000) * (int64_t)layout.nb_channels;
    /* MP4 keeps the AudioSpecificConfig in its header, not in the stream. */
    e->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ret = av_channel_layout_copy(&e->enc->ch_layout, &layout);
    if (ret >= 0)
        ret = avcodec_open2(e->enc, enc, NULL);
    if (ret >= 0)
        ret = avcodec_parameters_from_context(e->par, e->enc);
    if (ret < 0)
        goto end;

    ret = swr_alloc_set_opts2(&e->swr, &e->enc->ch_layout, e->enc->sample_fmt, e->enc->sample_rate,
                              &e->dec->ch_layout, e->dec->sample_fmt, e->dec->sample_rate, 0, NULL);
    if (ret >= 0)
        ret = swr_init(e->swr);
    if (ret < 0)
        goto end;
    e->fifo = av_audio_fifo_alloc(e->enc->sample_fmt, layout.nb_channels, e->enc->frame_size * 2);
    if (!e->fifo) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    *out = e;
    e = NULL; /* ownership passes to the caller */
    ret = 0;

end:
    av_channel_layout_uninit(&layout);
    rec_audioenc_free(&e);
    return ret;
}

const AVCodecParameters *rec_audioenc_par(const RecAudioEnc *e)
{
    return e->par;
}

AVRational rec_audioenc_time_base(const RecAudioEnc *e)
{
    return e->enc->time_base;
}

/* Convert the decoded frame and queue its samples, leaving out e->skip first. */
static int queue_decoded(RecAudioEnc *e)
{
    int ret;

    av_frame_unref(e->converted);
    e->converted->format = e->enc->sample_fmt;
    e->converted->sample_rate = e->enc->sample_rate;
    ret = av_channel_layout_copy(&e->converted->ch_layout, &e->enc->ch_layout);
    if (ret >= 0)
        ret = swr_convert_frame(e->swr, e->converted, e->decoded);
    if (ret < 0)
        return ret;
    ret = av_audio_fifo_write(e->fifo, (void **)e->converted->extended_data,
                              e->converted->nb_samples);
    if (ret < 0)
        return ret;
    if (e->skip > 0) {
        int n = av_audio_fifo_size(e->fifo);
        int drop = e->skip < n ? (int)e->skip : n;
        av_audio_fifo_drain(e->fifo, drop);
        e->skip -= drop;
    }
    return 0;
}

int rec_audioenc_send(RecAudioEnc *e, const AVPacket *in, int64_t clip_offset_ns)
{
    int ret;

    if (e->flushing)
        return AVERROR_EOF;
    if (!e->anchored) {
        /* The encoder's first packet starts initial_padding samples before
         * the first sample it was given (its priming): that packet must not
         * start before the clip does. */
        int64_t offset =
            av_rescale(clip_offset_ns > 0 ? clip_offset_ns : 0, e->enc->sample_rate, 1000000000);
        int64_t priming = e->enc->initial_padding;
        e->skip = offset < priming ? priming - offset : 0;
        e->next_pts = offset < priming ? priming : offset;
        e->anchored = true;
    }
    ret = avcodec_send_packet(e->dec, in);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0)
        return 0; /* this packet's data: nothing of it to keep */
    for (;;) {
        ret = avcodec_receive_frame(e->dec, e->decoded);
        /* EAGAIN: the decoder wants the next packet (G.711 decodes each alone). */
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ret == AVERROR(ENOMEM) ? ret : 0;
        ret = queue_decoded(e);
        av_frame_unref(e->decoded);
        if (ret < 0)
            return ret;
    }
}

int rec_audioenc_flush(RecAudioEnc *e)
{
    e->flushing = true;
    return 0;
}

/* Hand the encoder its next frame from the queue: a whole one, or while
 * flushing what is left (as a short last frame where the encoder allows it). */
static int feed_encoder(RecAudioEnc *e, int n)
{
    int ret;

    av_frame_unref(e->frame);
    e->frame->format = e->enc->sample_fmt;
    e->frame->sample_rate = e->enc->sample_rate;
    e->frame->nb_samples = e->enc->frame_size;
    ret = av_channel_layout_copy(&e->frame->ch_layout, &e->enc->ch_layout);
    if (ret >= 0)
        ret = av_frame_get_buffer(e->frame, 0);
    if (ret < 0)
        return ret;
    if (n < e->enc->frame_size) {
        av_samples_set_silence(e->frame->extended_data, 0, e->enc->frame_size,
                               e->frame->ch_layout.nb_channels, e->enc->sample_fmt);
        if (e->enc->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME)
            e->frame->nb_samples = n;
    }
    if (av_audio_fifo_read(e->fifo, (void **)e->frame->extended_data, n) < n)
        return AVERROR_BUG;
    e->frame->pts = e->next_pts;
    e->next_pts += e->frame->nb_samples;
    e->end_pts = e->frame->pts + n;
    return avcodec_send_frame(e->enc, e->frame);
}

int rec_audioenc_receive(RecAudioEnc *e, AVPacket *out)
{
    int ret;

    for (;;) {
        ret = avcodec_receive_packet(e->enc, out);
        if (ret == 0 && out->pts + out->duration > e->end_pts) {
            /* The last frame is padded with silence to a whole frame: the
             * sound ends where its last sample does, not up to a frame later. */
            if (out->pts >= e->end_pts) {
                av_packet_unref(out);
                continue;
            }
            out->duration = e->end_pts - out->pts;
        }
        if (ret != AVERROR(EAGAIN))
            return ret; /* a packet, AVERROR_EOF after the flush, or a failure */
        int queued = av_audio_fifo_size(e->fifo);
        if (queued >= e->enc->frame_size)
            ret = feed_encoder(e, e->enc->frame_size);
        else if (e->flushing && queued > 0)
            ret = feed_encoder(e, queued);
        else if (e->flushing && !e->flushed) {
            e->flushed = true;
            ret = avcodec_send_frame(e->enc, NULL); /* drains the encoder's delay */
        } else
            return AVERROR(EAGAIN);
        if (ret < 0)
            return ret;
    }
}

void rec_audioenc_free(RecAudioEnc **pe)
{
    RecAudioEnc *e = *pe;
    if (!e)
        return;
    avcodec_free_context(&e->dec);
    /* The native encoder's average quantiser, at INFO (avquiet.h). */
    int level = rec_avquiet_begin();
    avcodec_free_context(&e->enc);
    rec_avquiet_end(level);
    swr_free(&e->swr);
    if (e->fifo)
        av_audio_fifo_free(e->fifo);
    av_frame_free(&e->decoded);
    av_frame_free(&e->converted);
    av_frame_free(&e->frame);
    avcodec_parameters_free(&e->par);
    av_freep(pe);
}
