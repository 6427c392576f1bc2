/*
 * The delivered form of a clip: the fragmented MP4 written while recording
 * (playable after a crash) remuxed, packets copied and never re-encoded,
 * into a regular MP4 with its index (moov) in front of the media (mdat),
 * so that browsers, phones and messaging apps play it from the first byte.
 *
 * Errors: negative AVERROR codes (a negative errno is its own, clip.h).
 */
#ifndef CAMWATCH_RECORD_FASTSTART_H
#define CAMWATCH_RECORD_FASTSTART_H

/*
 * Write every stream of the MP4 `src` into `dst` (which must not exist) as
 * a fast-start MP4, with src's metadata, then fsync `dst`. Returns 0, or a
 * negative AVERROR with no `dst` left behind; `src` is never changed.
 */
int rec_faststart(const char *src, const char *dst);

#endif /* CAMWATCH_RECORD_FASTSTART_H */
