/* The reduced-size decode for the detector (capture/lowres.c), rule by rule:
 * the smallest 1/2^n picture that is still at least the analysis width. */
#include "check.h"

#include "../../capture/lowres.h"

/* The default DETECT_WIDTH, 320, against the usual camera sizes. */
static void test_camera_sizes(void)
{
    CHECK_EQ_U64(capture_lowres_choose(1280, 3, 320), 2); /* 720p: 1/4 is exactly 320 */
    CHECK_EQ_U64(capture_lowres_choose(1920, 3, 320), 2); /* 1080p: 1/8 would be 240 */
    CHECK_EQ_U64(capture_lowres_choose(3840, 3, 320), 3); /* 4K: 1/8 is 480 */
    CHECK_EQ_U64(capture_lowres_choose(640, 3, 320), 1);  /* VGA: 1/2 is 320 */
    CHECK_EQ_U64(capture_lowres_choose(768, 3, 320), 1);  /* 1/4 would be 192 */
}

/* Never more than the decoder allows (MJPEG: 3, that is 1/8). */
static void test_decoder_limit(void)
{
    CHECK_EQ_U64(capture_lowres_choose(7680, 3, 320), 3);
    CHECK_EQ_U64(capture_lowres_choose(3840, 1, 320), 1);
    CHECK_EQ_U64(capture_lowres_choose(3840, 0, 320), 0);
}

/* A picture no wider than the analysis is decoded whole. */
static void test_small_pictures(void)
{
    CHECK_EQ_U64(capture_lowres_choose(640, 3, 321), 0);
    CHECK_EQ_U64(capture_lowres_choose(320, 3, 320), 0);
    CHECK_EQ_U64(capture_lowres_choose(200, 3, 320), 0);
}

/* Sizes round up as libav's do (a partial last block stays): 641/2 is 321. */
static void test_rounding(void)
{
    CHECK_EQ_U64(capture_lowres_size(641, 1), 321);
    CHECK_EQ_U64(capture_lowres_size(1280, 2), 320);
    CHECK_EQ_U64(capture_lowres_size(1080, 3), 135);
    CHECK_EQ_U64(capture_lowres_size(1081, 3), 136);
    CHECK_EQ_U64(capture_lowres_size(720, 0), 720);
    CHECK_EQ_U64(capture_lowres_choose(641, 3, 321), 1);
}

/* An unknown size (a stream not probed yet) or no analysis width: full size. */
static void test_unknown(void)
{
    CHECK_EQ_U64(capture_lowres_choose(0, 3, 320), 0);
    CHECK_EQ_U64(capture_lowres_choose(-1, 3, 320), 0);
    CHECK_EQ_U64(capture_lowres_choose(1280, 3, 0), 0);
}

int main(void)
{
    test_camera_sizes();
    test_decoder_limit();
    test_small_pictures();
    test_rounding();
    test_unknown();
    printf("lowres: ok\n");
    return 0;
}
