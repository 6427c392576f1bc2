/*
 * FFmpeg's log (av_log) routed through cw_log, so that every libav message
 * gets the same format, level filter and credential masking as ours.
 *
 * Part of libcamwatch-av (common/av/), the helpers only the programs that
 * link libav (camwatch-capture, camwatch-record) link. Errors: AVERROR
 * codes in this library; none of the functions here fails.
 */
#ifndef CAMWATCH_AVLOG_H
#define CAMWATCH_AVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Install the av_log callback and set libav's level from ours (`cw_level`, a
 * CW_LOG_* value): libav's DEBUG and VERBOSE lines only at CW_LOG_DEBUG, and
 * never libav's TRACE (it dumps protocol traffic). Thread-safe once
 * installed: decoder threads may log concurrently.
 */
void cw_avlog_install(int cw_level);

/*
 * While held, libav's warnings and errors are logged at DEBUG only and the
 * last one is remembered: a failed connect then reports one line of ours,
 * with libav's detail available through cw_avlog_last().
 */
void cw_avlog_hold(bool hold);

/*
 * Copy the last warning or error libav logged while held into `buf` (empty
 * string if none). Returns buf.
 */
const char *cw_avlog_last(char *buf, size_t size);

/*
 * Decoders complain about every damaged macroblock of a corrupt stream; their
 * messages are logged at DEBUG only and counted here, for the decoder's
 * periodic summary. Returns the count since the previous call and copies the
 * last message (without libav's prefix) into `last`.
 */
unsigned long cw_avlog_take_decoder_messages(char *last, size_t size);

/*
 * The message of a line libav formatted, past its context prefixes: "[tcp @
 * 0x55d0c0a8c5c0] Connection refused" gives "Connection refused", and a
 * child's line, "[rtsp @ 0x…] [tcp @ 0x…] …", loses both. A line without
 * such a prefix is returned whole. Returns a pointer into `line`.
 */
const char *cw_avlog_strip_context(const char *line);

/*
 * RTP packets libavformat's RTP demuxer reported missing since the previous
 * call (its "RTP: missed N packets", once per gap in the sequence numbers).
 * Counted at every log level; those lines themselves are DEBUG only.
 */
unsigned long cw_avlog_take_rtp_missed(void);

/*
 * Pictures the H.264 decoder found missing from the bitstream since the
 * previous call (its DEBUG-only "Frame num gap"): a picture lost whole with
 * no RTP loss to show it, concealed by repeating the last reference, so the
 * pictures predicted across the gap are smeared. Counted at every log level;
 * lock-free, cheap enough to ask after every packet.
 */
unsigned long cw_avlog_take_frame_gaps(void);

/*
 * Report how many libav lines the rate limit (10 per 10 s at INFO and
 * above) suppressed, once its window has passed. Call about once a
 * second; `now_ns` is CLOCK_MONOTONIC.
 */
void cw_avlog_tick(int64_t now_ns);

#endif /* CAMWATCH_AVLOG_H */
