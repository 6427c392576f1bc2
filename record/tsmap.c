#include "tsmap.h"

#include <libavutil/mathematics.h>

static const AVRational ns_q = {1, 1000000000};

void rec_tsmap_init(RecTsMap *m, AVRational src_tb, AVRational out_tb, AVRational frame_rate)
{
    *m = (RecTsMap){.src_tb = src_tb, .out_tb = out_tb, .frame_rate = frame_rate};
}

/* Relative decode and presentation times of `pkt` in src_tb. */
static bool map_relative(RecTsMap *m, const AVPacket *pkt, int64_t wall_ns, int64_t *rel_dts,
                         int64_t *rel_pts)
{
    int64_t src_dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    int64_t wall_step = 0;

    if (m->packets > 0)
        wall_step = av_rescale_q(wall_ns - m->last_wall_ns, ns_q, m->src_tb);

    if (src_dts == AV_NOPTS_VALUE) {
        /* No stream clock (MJPEG over HTTP): arrival times are the clock. */
        if (m->packets == 0)
            *rel_dts = m->first_shift;
        else if (!m->have_origin)
            *rel_dts = m->first_shift + av_rescale_q(wall_ns - m->first_wall_ns, ns_q, m->src_tb);
        else
            *rel_dts = m->last_rel_dts + (wall_step > 0 ? wall_step : 1);
        *rel_pts = *rel_dts;
        return false;
    }
    if (!m->have_origin) {
        /* The clip's first timed packet is time zero (plus, if earlier packets
         * had no timestamps, the arrival time elapsed since them). */
        m->have_origin = true;
        m->origin = src_dts;
        m->shift = m->packets ? m->last_rel_dts + (wall_step > 0 ? wall_step : 1) : m->first_shift;
    }
    *rel_dts = src_dts - m->origin + m->shift;
    *rel_pts = (pkt->pts != AV_NOPTS_VALUE ? pkt->pts : src_dts) - m->origin + m->shift;
    if (m->packets == 0)
        return false;
    int64_t step = *rel_dts - m->last_rel_dts;
    int64_t back = av_rescale_q(REC_TS_BACKSTEP_NS, ns_q, m->src_tb);
    int64_t slack = av_rescale_q(REC_TS_JUMP_SLACK_NS, ns_q, m->src_tb);
    if (step >= -back && step <= wall_step + slack)
        return false;
    /* The camera's clock jumped (reset, wrap): continue from the previous
     * packet by the arrival-time step instead. */
    int64_t fix = m->last_rel_dts + (wall_step > 0 ? wall_step : 1) - *rel_dts;
    m->last_jump = step;
    m->shift += fix;
    *rel_dts += fix;
    *rel_pts += fix;
    return true;
}

bool rec_tsmap_packet(RecTsMap *m, AVPacket *pkt, int64_t wall_ns)
{
    int64_t rel_dts, rel_pts;

    if (m->packets == 0)
        m->first_wall_ns = wall_ns;
    bool jumped = map_relative(m, pkt, wall_ns, &rel_dts, &rel_pts);

    if (pkt->duration <= 0) {
        /* The last sample's duration comes from the packet: guess it from
         * the frame rate, else from the previous step. */
        if (m->frame_rate.num > 0 && m->frame_rate.den > 0)
            pkt->duration = av_rescale_q(1, av_inv_q(m->frame_rate), m->src_tb);
        else
            pkt->duration = m->last_rel_step;
    }
    if (m->packets > 0 && rel_dts > m->last_rel_dts)
        m->last_rel_step = rel_dts - m->last_rel_dts;
    m->last_rel_dts = rel_dts;

    pkt->dts = rel_dts;
    pkt->pts = rel_pts;
    av_packet_rescale_ts(pkt, m->src_tb, m->out_tb);
    /* MP4 needs strictly increasing decode times. */
    if (m->packets > 0 && pkt->dts <= m->last_out_dts)
        pkt->dts = m->last_out_dts + 1;
    if (pkt->pts < pkt->dts)
        pkt->pts = pkt->dts;

    m->last_out_dts = pkt->dts;
    m->last_wall_ns = wall_ns;
    m->packets++;
    return jumped;
}
