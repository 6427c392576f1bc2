#include "publish.h"

#include "clock.h"
#include "log.h"
#include "payload.h"
#include "rings.h"

#include <errno.h>
#include <string.h>

#define HEARTBEAT_PERIOD_NS (500 * CW_NS_PER_MSEC)

void capture_publish_init(CapturePublisher *pub, CwRing *packets, CwRing *frames,
                          int packet_buffer_mb)
{
    memset(pub, 0, sizeof(*pub));
    pub->packets = packets;
    pub->frames = frames;
    pub->packet_buffer_mb = packet_buffer_mb;
}

uint64_t capture_publish_params(CapturePublisher *pub, const AVStream *video, AVRational time_base,
                                AVRational frame_rate)
{
    /* 4 KiB of extradata: static rather than on the stack, called once. */
    static CwStreamParams params;
    const AVCodecParameters *par = video->codecpar;

    memset(&params, 0, sizeof(params));
    params.codec_id = par->codec_id;
    params.width = par->width;
    params.height = par->height;
    params.time_base_num = time_base.num;
    params.time_base_den = time_base.den;
    params.frame_rate_num = frame_rate.num;
    params.frame_rate_den = frame_rate.den;
    if (par->extradata_size > 0 && par->extradata_size <= CW_STREAM_EXTRADATA_MAX) {
        memcpy(params.extradata, par->extradata, (size_t)par->extradata_size);
        params.extradata_size = (uint32_t)par->extradata_size;
    } else if (par->extradata_size > CW_STREAM_EXTRADATA_MAX) {
        /* H.264/H.265 cameras repeat their parameter sets in the stream, so
         * a recorder can still find them there. */
        cw_warn("stream extradata of %d bytes exceeds the ring's %d; not published",
                par->extradata_size, CW_STREAM_EXTRADATA_MAX);
    }
    cw_rings_set_params(pub->packets, CW_STREAM_MAIN, &params, &pub->epoch);
    return pub->epoch;
}

uint64_t capture_publish_audio_params(CapturePublisher *pub, const AVStream *audio)
{
    static CwStreamParams params; /* as in capture_publish_params() */
    const AVCodecParameters *par = audio->codecpar;

    memset(&params, 0, sizeof(params));
    params.codec_id = par->codec_id;
    params.time_base_num = audio->time_base.num;
    params.time_base_den = audio->time_base.den;
    params.sample_rate = par->sample_rate;
    params.channels = par->ch_layout.nb_channels;
    if (par->extradata_size > 0 && par->extradata_size <= CW_STREAM_EXTRADATA_MAX) {
        memcpy(params.extradata, par->extradata, (size_t)par->extradata_size);
        params.extradata_size = (uint32_t)par->extradata_size;
    } else if (par->extradata_size > CW_STREAM_EXTRADATA_MAX) {
        cw_warn("audio extradata of %d bytes exceeds the ring's %d; not published",
                par->extradata_size, CW_STREAM_EXTRADATA_MAX);
    }
    cw_rings_set_params(pub->packets, CW_STREAM_AUDIO, &params, &pub->audio_epoch);
    return pub->audio_epoch;
}

void capture_publish_no_audio(CapturePublisher *pub)
{
    static CwStreamParams params; /* zero: codec AV_CODEC_ID_NONE */
    CwStreamParams before;
    /* Only a sound an earlier connection published needs taking back. */
    if (cw_rings_get_params(pub->packets, CW_STREAM_AUDIO, &before) == 0 &&
        before.codec_id != AV_CODEC_ID_NONE)
        cw_rings_set_params(pub->packets, CW_STREAM_AUDIO, &params, &pub->audio_epoch);
}

/* One packet of `stream` (of epoch `epoch`) into the ring; `flags` are the slot's. */
static void publish(CapturePublisher *pub, const AVPacket *pkt, CwStamp at, unsigned stream,
                    uint64_t epoch, uint32_t flags)
{
    uint32_t len = (uint32_t)sizeof(CwPacketHeader) + (uint32_t)pkt->size;
    CwPacketHeader *hdr = cw_ring_reserve(pub->packets, len);

    if (!hdr) {
        /* Only a packet larger than half the ring gets here: it could never
         * be read intact, so it is dropped (a recorder will see a gap). */
        pub->packets_dropped++;
        if (!pub->too_big_logged) {
            cw_error("dropping a %s packet of %d bytes: it needs PACKET_BUFFER_MB of at least "
                     "%d (now %d)",
                     stream == CW_STREAM_AUDIO ? "audio" : "video", pkt->size,
                     (int)(((uint64_t)len * 2 + (1 << 20) - 1) >> 20), pub->packet_buffer_mb);
            pub->too_big_logged = true;
        }
        return;
    }
    hdr->epoch = epoch;
    hdr->pts = pkt->pts == AV_NOPTS_VALUE ? CW_TS_NONE : pkt->pts;
    hdr->dts = pkt->dts == AV_NOPTS_VALUE ? CW_TS_NONE : pkt->dts;
    hdr->duration = pkt->duration > 0 ? pkt->duration : 0;
    hdr->wall_ns = at.wall_ns;
    hdr->mono_ns = at.mono_ns;
    hdr->size = (uint32_t)pkt->size;
    hdr->stream = (uint16_t)stream;
    hdr->reserved = 0;
    if (pkt->size > 0)
        memcpy(hdr + 1, pkt->data, (size_t)pkt->size);
    cw_ring_publish(pub->packets, len, flags, at.wall_ns);
    pub->packets_published++;
}

void capture_publish_packet(CapturePublisher *pub, const AVPacket *pkt, CwStamp at)
{
    publish(pub, pkt, at, CW_STREAM_MAIN, pub->epoch,
            (pkt->flags & AV_PKT_FLAG_KEY) ? CW_SLOT_KEY : 0);
}

void capture_publish_audio_packet(CapturePublisher *pub, const AVPacket *pkt, CwStamp at)
{
    /* Never CW_SLOT_KEY: a clip starts at a video keyframe (payload.h). */
    publish(pub, pkt, at, CW_STREAM_AUDIO, pub->audio_epoch, 0);
}

void capture_publish_heartbeat(CapturePublisher *pub, int64_t now_ns)
{
    if (now_ns - pub->heartbeat_ns < HEARTBEAT_PERIOD_NS)
        return;
    pub->heartbeat_ns = now_ns;
    if (pub->packets)
        cw_rings_heartbeat(pub->packets, pub->stage);
    if (pub->frames)
        cw_rings_heartbeat(pub->frames, pub->stage);
}
