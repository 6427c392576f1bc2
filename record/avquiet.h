/*
 * libav says some things at INFO that are statistics for its developers
 * (the AAC encoder's average quantiser when it closes, the MP4 muxer's
 * "second pass" of a fast start), once per clip: noise in a recorder's log.
 * record is single-threaded, so lowering libav's global level around the
 * call that says them hides those lines and nothing else.
 */
#ifndef CAMWATCH_RECORD_AVQUIET_H
#define CAMWATCH_RECORD_AVQUIET_H

/* Lower libav's level to warnings if it is at INFO; returns the level to
 * give back to rec_avquiet_end(). */
int rec_avquiet_begin(void);

/* Restore the level rec_avquiet_begin() returned. */
void rec_avquiet_end(int level);

#endif /* CAMWATCH_RECORD_AVQUIET_H */
