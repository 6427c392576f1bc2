/*
 * Timestamp mapping of one clip: the camera's pts/dts (any origin, possibly
 * missing, possibly jumping when the camera resets its clock) become times
 * in the file's time base that start at zero, follow the stream's clock,
 * and only ever increase, as MP4 requires. Packets without timestamps
 * (MJPEG over HTTP) are timed by their arrival. Pure arithmetic on the
 * packet's fields: no I/O, no clock (arrival times are passed in), no
 * error codes.
 */
#ifndef CAMWATCH_RECORD_TSMAP_H
#define CAMWATCH_RECORD_TSMAP_H

#include <libavcodec/packet.h>
#include <libavutil/avutil.h>
#include <libavutil/rational.h>
#include <stdbool.h>
#include <stdint.h>

/* A source jump larger than this beyond the arrival-time step is a clock
 * reset by the camera, not a real gap. */
#define REC_TS_JUMP_SLACK_NS (10 * 1000000000LL)
/* Backward steps smaller than this are left to the strictly-increasing fix
 * (streams with pts but no dts reorder B-frames by small amounts). */
#define REC_TS_BACKSTEP_NS (1 * 1000000000LL)

typedef struct RecTsMap {
    AVRational src_tb;     /* of the timestamps given */
    AVRational out_tb;     /* of the file's stream */
    AVRational frame_rate; /* {0, 1} if unknown: guesses a missing duration */
    /* Where the first packet goes (src_tb, >= 0; 0 after init): a stream
     * that joins a clip later than its first stream (audio beside video) is
     * placed by when its first packet arrived. Set before the first packet. */
    int64_t first_shift;
    uint64_t packets; /* mapped so far */
    int64_t first_wall_ns, last_wall_ns;
    /* rel = src - origin + shift, in src_tb */
    bool have_origin;
    int64_t origin;
    int64_t shift;
    int64_t last_rel_dts;
    int64_t last_rel_step; /* last positive dts step, for a missing duration */
    int64_t last_out_dts;  /* in out_tb */
    int64_t last_jump;     /* in src_tb: the step rec_tsmap_packet() last replaced */
} RecTsMap;

/* Start a clip's mapping. */
void rec_tsmap_init(RecTsMap *map, AVRational src_tb, AVRational out_tb, AVRational frame_rate);

/*
 * Map the next packet of the clip, in place: pkt->pts/dts/duration, in
 * src_tb (AV_NOPTS_VALUE or a duration <= 0 when unknown), become times in
 * out_tb. The clip's first timed packet is time first_shift (0 unless the
 * caller set it), plus, if packets
 * without timestamps came before it, the arrival time elapsed since the
 * first). `wall_ns` is the packet's arrival time (CLOCK_REALTIME). Returns
 * true when the stream's clock jumped (more than REC_TS_BACKSTEP_NS back,
 * or REC_TS_JUMP_SLACK_NS further than the arrival times) and the clip
 * continues from the previous packet by the arrival-time step instead
 * (map->last_jump holds the step replaced).
 */
bool rec_tsmap_packet(RecTsMap *map, AVPacket *pkt, int64_t wall_ns);

#endif /* CAMWATCH_RECORD_TSMAP_H */
