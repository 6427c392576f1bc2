/*
 * Reduced-size decoding: FFmpeg's MJPEG decoder can decode a picture at
 * 1/2, 1/4 or 1/8 of its size in each direction (AVCodecContext.lowres,
 * the shift n of 1/2^n) by leaving out the finer frequencies of each
 * block, far cheaper than decoding it whole and scaling it down. The
 * detector analyses a picture DETECT_WIDTH wide (detect/motion.cpp), so
 * anything larger is decoded only to be thrown away. A pure decision: no
 * libav, no I/O.
 */
#ifndef CAPTURE_LOWRES_H
#define CAPTURE_LOWRES_H

/*
 * The largest shift n, from 0 to `max_lowres` (the decoder's
 * AVCodec.max_lowres), for which a picture `width` pixels wide, decoded
 * at 1/2^n (width rounded up, as the decoder does), is still at least
 * `min_width` pixels wide: the smallest picture that still holds all the
 * detail the detector looks at. 0 (full size) when `width` or `min_width`
 * is not positive, or the picture is narrower than `min_width` already.
 * No error codes.
 */
int capture_lowres_choose(int width, int max_lowres, int min_width);

/* Width or height `size` decoded at shift `lowres` (rounded up, as libav does). */
int capture_lowres_size(int size, int lowres);

#endif /* CAPTURE_LOWRES_H */
