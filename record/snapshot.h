/*
 * The clip's snapshot: the frame with the most motion, copied out of the
 * frames ring while the clip records, with the moving regions outlined and
 * encoded as a JPEG when the clip is finished.
 *
 * Errors: negative AVERROR codes throughout. The ring's and fsutil's
 * negative errno values are passed on unchanged: on POSIX AVERROR(e) is -(e),
 * so they already are AVERROR codes (see clip.h).
 */
#ifndef CAMWATCH_RECORD_SNAPSHOT_H
#define CAMWATCH_RECORD_SNAPSHOT_H

#include "payload.h"
#include "ring.h"

#include <libavutil/frame.h>
#include <stdbool.h>

typedef struct RecSnapshot RecSnapshot;

/* Returns 0 or AVERROR(ENOMEM). */
int rec_snapshot_alloc(RecSnapshot **snap);
void rec_snapshot_free(RecSnapshot **snap);

/* Forget the frame (a new clip starts); the buffers are kept for reuse. */
void rec_snapshot_reset(RecSnapshot *snap);

bool rec_snapshot_has_frame(const RecSnapshot *snap);

/*
 * Copy the frame of `ev` (ev->frame_seq in the frames ring) and ev's boxes.
 * `full_range` says whether the frames' YUV uses the full 0-255 range (JPEG
 * sources) or the video range (16-235). The copy goes to a spare buffer and
 * replaces the current frame only if the slot stayed intact, so a torn copy
 * never costs the previous peak. Returns 0; AVERROR(EAGAIN), AVERROR(ENODATA)
 * or AVERROR(ESTALE) (the ring's answers) if the frame is not, or no longer,
 * in the ring; AVERROR(ESTALE) if it was overwritten during the copy;
 * AVERROR(EINVAL) for a malformed frame header; or AVERROR(ENOMEM).
 */
int rec_snapshot_take(RecSnapshot *snap, const CwRing *frames, const CwEvent *ev, bool full_range);

/* A main-stream keyframe more than this before the peak picture is not
 * looked for: most cameras send one every 1 to 4 s, and every picture from
 * it to the peak is decoded when the clip ends. */
#define REC_SNAPSHOT_MAIN_WINDOW_NS (5 * 1000000000LL)

/* The most main-stream packets kept from that keyframe to the peak (5 s at
 * 30 fps). */
#define REC_SNAPSHOT_GOP_MAX 150

/* A decoded picture more than this before the last packet kept (the run
 * cut short: overwritten, or at REC_SNAPSHOT_GOP_MAX) is not the peak's. */
#define REC_SNAPSHOT_LATE_MS 1000

/*
 * When detection's picture is smaller than the video (DETECT_URL: the
 * sub-stream's; an MJPEG camera decoded at reduced size), the main stream
 * is not decoded in the frames ring. After a successful
 * rec_snapshot_take() of the peak, keep (compressed: no decoding yet) the
 * main stream's packets from the keyframe stamped at or before `mono_ns`
 * (the peak picture's capture time, CLOCK_MONOTONIC; at most
 * REC_SNAPSHOT_MAIN_WINDOW_NS earlier) up to the peak's, from `packets`
 * (stream `main`'s epoch). What was kept for an earlier peak is dropped
 * first, or, after the same keyframe, kept and added to, so the packets
 * always end at the current boxes. A slot overwritten after the keyframe
 * ends the run there (rec_snapshot_use_main() then judges the picture).
 * Returns 0; AVERROR(ENOENT) when the ring has no such keyframe;
 * AVERROR(ESTALE) if the keyframe was overwritten while copied;
 * AVERROR(EINVAL) for a malformed slot; or AVERROR(ENOMEM).
 */
int rec_snapshot_take_main(RecSnapshot *snap, const CwRing *packets, const CwStreamParams *main,
                           int64_t mono_ns);

/*
 * Decode the kept main-stream packets (once per snapshot: from the
 * keyframe forward to the peak's picture) and make the last whole picture
 * the snapshot's; the boxes stay and are scaled to its
 * size when drawn. Returns NULL when the picture is now the main stream's,
 * else why not (a static string, for a log line), the sub-stream's picture
 * staying the snapshot.
 */
const char *rec_snapshot_use_main(RecSnapshot *snap);

/* Use a decoded frame instead (recovery); it is referenced, not copied. No boxes. */
int rec_snapshot_set_frame(RecSnapshot *snap, const AVFrame *frame);

/*
 * Draw the boxes (2-3 px, bright) on a copy of the frame, encode it as a
 * JPEG with libavcodec's mjpeg encoder and write it to `path` (fsynced).
 * Returns 0 or a negative AVERROR (logged).
 */
int rec_snapshot_write(RecSnapshot *snap, const char *path);

#endif /* CAMWATCH_RECORD_SNAPSHOT_H */
