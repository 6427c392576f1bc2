/* Outlines drawn on the YUV planes (record/annotate.c): where they go, how
 * thick, in which colour, clipped at the borders, and even-aligned so each
 * chroma sample under a line is the outline's. */
#include "check.h"

#include "../../record/annotate.h"

#include <libavutil/frame.h>
#include <stdbool.h>

static AVFrame *grey(int w, int h, enum AVPixelFormat fmt)
{
    AVFrame *f = av_frame_alloc();
    CHECK(f);
    f->format = fmt;
    f->width = w;
    f->height = h;
    CHECK(av_frame_get_buffer(f, 0) == 0);
    for (int p = 0; p < 3; p++) {
        int rows = p ? (h + 1) / 2 : h;
        memset(f->data[p], p ? 128 : 60, (size_t)f->linesize[p] * (size_t)rows);
    }
    return f;
}

static int Y(const AVFrame *f, int x, int y)
{
    return f->data[0][y * f->linesize[0] + x];
}

static int U(const AVFrame *f, int x, int y)
{
    return f->data[1][(y / 2) * f->linesize[1] + x / 2];
}

static int V(const AVFrame *f, int x, int y)
{
    return f->data[2][(y / 2) * f->linesize[2] + x / 2];
}

static bool outline_at(const AVFrame *f, int x, int y)
{
    RecOutlineColour c = REC_OUTLINE_MAGENTA;
    return Y(f, x, y) == c.y && U(f, x, y) == c.u && V(f, x, y) == c.v;
}

static bool untouched_at(const AVFrame *f, int x, int y)
{
    return Y(f, x, y) == 60 && U(f, x, y) == 128 && V(f, x, y) == 128;
}

/* A box in detector pixels (320x180) on a 640x360 picture, 4 px lines. */
static void test_box(void)
{
    AVFrame *f = grey(640, 360, AV_PIX_FMT_YUV420P);
    CwBox b = {50, 40, 30, 20}; /* -> x 100..160, y 80..120 */
    rec_annotate_boxes(f, &b, 1, 320, 180, REC_OUTLINE_MAGENTA, 4);
    for (int x = 100; x < 160; x++) {
        CHECK(outline_at(f, x, 80) && outline_at(f, x, 83));   /* top line */
        CHECK(outline_at(f, x, 116) && outline_at(f, x, 119)); /* bottom */
    }
    for (int y = 80; y < 120; y++) {
        CHECK(outline_at(f, 100, y) && outline_at(f, 103, y)); /* left */
        CHECK(outline_at(f, 156, y) && outline_at(f, 159, y)); /* right */
    }
    CHECK(untouched_at(f, 104, 84) && untouched_at(f, 155, 115)); /* inside */
    CHECK(untouched_at(f, 98, 80) && untouched_at(f, 100, 78));   /* outside */
    CHECK(untouched_at(f, 160, 100) && untouched_at(f, 130, 120));
    av_frame_free(&f);
}

/* Odd edges move outwards to even pixels: no half-coloured chroma sample. */
static void test_even(void)
{
    AVFrame *f = grey(64, 64, AV_PIX_FMT_YUVJ420P);
    CwBox b = {11, 13, 20, 20}; /* edges 11..31, 13..33 -> 10..32, 12..34 */
    rec_annotate_boxes(f, &b, 1, 64, 64, REC_OUTLINE_MAGENTA, 4);
    CHECK(outline_at(f, 10, 20) && untouched_at(f, 9, 20));
    CHECK(outline_at(f, 31, 20) && untouched_at(f, 32, 20));
    CHECK(outline_at(f, 20, 12) && untouched_at(f, 20, 11));
    CHECK(outline_at(f, 20, 33) && untouched_at(f, 20, 34));
    av_frame_free(&f);
}

/* A box over the border is clipped; a box thinner than two lines is filled;
 * an empty one draws nothing. */
static void test_clip_small_empty(void)
{
    AVFrame *f = grey(64, 64, AV_PIX_FMT_YUV420P);
    CwBox boxes[] = {{50, 50, 40, 40}, {4, 4, 4, 4}, {20, 20, 0, 5}};
    rec_annotate_boxes(f, boxes, 3, 64, 64, REC_OUTLINE_MAGENTA, 4);
    CHECK(outline_at(f, 63, 63) && outline_at(f, 50, 63) && outline_at(f, 63, 50));
    CHECK(untouched_at(f, 56, 56));
    for (int y = 4; y < 8; y++)
        for (int x = 4; x < 8; x++)
            CHECK(outline_at(f, x, y));
    CHECK(untouched_at(f, 20, 22));
    av_frame_free(&f);
}

/* Another layout (4:2:2) is left alone rather than drawn wrongly. */
static void test_other_format(void)
{
    AVFrame *f = av_frame_alloc();
    CHECK(f);
    f->format = AV_PIX_FMT_YUV422P;
    f->width = f->height = 16;
    CHECK(av_frame_get_buffer(f, 0) == 0);
    memset(f->data[0], 60, (size_t)f->linesize[0] * 16);
    CwBox b = {0, 0, 16, 16};
    rec_annotate_boxes(f, &b, 1, 16, 16, REC_OUTLINE_MAGENTA, 4);
    CHECK(f->data[0][0] == 60);
    av_frame_free(&f);
}

static void test_thickness(void)
{
    CHECK_EQ_U64(rec_annotate_thickness(320), 4);
    CHECK_EQ_U64(rec_annotate_thickness(768), 4);
    CHECK_EQ_U64(rec_annotate_thickness(1280), 4);
    CHECK_EQ_U64(rec_annotate_thickness(1920), 8);
    CHECK_EQ_U64(rec_annotate_thickness(3840), 16);
}

int main(void)
{
    RUN(test_box);
    RUN(test_even);
    RUN(test_clip_small_empty);
    RUN(test_other_format);
    RUN(test_thickness);
    return 0;
}
