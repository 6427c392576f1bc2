/*
 * The newest frame of the frames ring as a JPEG, the moving regions of the
 * newest analysis (events ring) outlined on it. Nothing is attached to the
 * rings: the slots are peeked, copied and checked intact, so the writer
 * never notices this reader and no reader entry is taken.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_HTTP_JPEG_H
#define CAMWATCH_HTTP_JPEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Narrowest picture ?width= may ask for. */
#define HTTP_JPEG_WIDTH_MIN 16

/*
 * Encode the newest intact frame of `frames` as a JPEG (libavcodec's mjpeg
 * encoder), with the boxes of the newest event of `events` drawn when
 * `boxes` is true (`events` may be NULL), scaled down to at most
 * `max_width` pixels wide (aspect kept; 0 or a larger width: the camera's
 * size). Returns 0 with *jpeg (the caller
 * frees it with av_free()) and *size set, and *wall_ns the frame's capture
 * time; -EAGAIN when the ring holds no intact frame (camera not delivering
 * yet), -EPROTO for a malformed frame header, -ENOMEM, or an encoder error
 * as a negative errno.
 */
int http_jpeg_latest(const CwRing *frames, const CwRing *events, bool boxes, int max_width,
                     uint8_t **jpeg, size_t *size, int64_t *wall_ns);

#endif /* CAMWATCH_HTTP_JPEG_H */
