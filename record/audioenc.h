/*
 * A camera's G.711 sound (A-law or mu-law), which MP4 cannot carry, turned
 * into AAC with FFmpeg's native `aac` encoder: the only re-encoding record
 * does, and of the audio only. Decoded, converted to the encoder's sample
 * format (libswresample, same rate and channels), cut into the encoder's
 * frames and encoded; the output is timed by its samples on the clip's
 * timeline, from where the first packet arrived.
 *
 * Errors: negative AVERROR codes, as everywhere in record/'s media code.
 */
#ifndef CAMWATCH_RECORD_AUDIOENC_H
#define CAMWATCH_RECORD_AUDIOENC_H

#include <libavcodec/avcodec.h>
#include <stdint.h>

typedef struct RecAudioEnc RecAudioEnc;

/*
 * Open a transcoder for `in` (codec_id AV_CODEC_ID_PCM_ALAW or _MULAW,
 * sample_rate, ch_layout set). Returns 0 and sets *enc (the caller frees it
 * with rec_audioenc_free()), or a negative AVERROR.
 */
int rec_audioenc_open(RecAudioEnc **enc, const AVCodecParameters *in);

/* The AAC stream's parameters (with its extradata), owned by the encoder. */
const AVCodecParameters *rec_audioenc_par(const RecAudioEnc *enc);

/* Time base of the packets rec_audioenc_receive() returns: 1/sample rate. */
AVRational rec_audioenc_time_base(const RecAudioEnc *enc);

/*
 * Hand in one G.711 packet (not taken: the caller still owns it).
 * `clip_offset_ns` is how long after the clip's first packet it arrived;
 * only the first packet's counts: it places the sound on the clip's
 * timeline (if it came so early that the encoder's priming would start
 * before the clip, the first samples are left out instead), and every later
 * sample follows the first. Returns 0 or a negative AVERROR (ENOMEM; a
 * packet that does not decode is skipped and returns 0).
 */
int rec_audioenc_send(RecAudioEnc *enc, const AVPacket *in, int64_t clip_offset_ns);

/* No more input: what the encoder holds comes out of rec_audioenc_receive(). */
int rec_audioenc_flush(RecAudioEnc *enc);

/*
 * The next AAC packet into `out` (pts/dts/duration in
 * rec_audioenc_time_base(), on the clip's timeline, never negative).
 * Returns 0, AVERROR(EAGAIN) when it needs more input (flow control, not a
 * failure), AVERROR_EOF once flushed and empty, or another negative AVERROR.
 */
int rec_audioenc_receive(RecAudioEnc *enc, AVPacket *out);

/* Free the transcoder; NULL ok. */
void rec_audioenc_free(RecAudioEnc **enc);

#endif /* CAMWATCH_RECORD_AUDIOENC_H */
