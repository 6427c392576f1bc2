/*
 * Room held for a clip's delivery. While a clip records, a file beside its
 * .part in the staging folder keeps the blocks its snapshot and sidecar
 * will need; delivery gives them back just before writing those two. So a
 * disk that another program fills while the clip records still takes the
 * clip's snapshot and sidecar: the clip is delivered whole, and retention
 * (which knows camwatch's clips by their sidecars) can find it later.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_RECORD_RESERVE_H
#define CAMWATCH_RECORD_RESERVE_H

#include <stdint.h>

/* The name of the hold beside a staging clip: "<base>.reserve.part". */
#define REC_RESERVE_SUFFIX ".reserve.part"

/* Bytes held for a clip of width x height: a generous JPEG of that size
 * and the sidecar. */
uint64_t rec_reserve_bytes(int width, int height);

/*
 * Allocate rec_reserve_bytes(width, height) on disk beside `staging_mp4`
 * (".../<base>.mp4.part"). Returns 0, or a negative errno (the file system
 * cannot allocate ahead, or is full already: nothing is held then, and
 * nothing is left behind); the caller goes on without.
 */
int rec_reserve_hold(const char *staging_mp4, int width, int height);

/* Give the held blocks back (nothing if none were held). */
void rec_reserve_release(const char *staging_mp4);

#endif /* CAMWATCH_RECORD_RESERVE_H */
