/* Frame headers are checked against their slot before any pixel is read. */
#include "check.h"
#include "payload.h"

static CwFrameHeader frame(int w, int h)
{
    CwFrameHeader fh = {.width = w, .height = h};
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    fh.linesize[0] = w;
    fh.linesize[1] = fh.linesize[2] = cw;
    fh.offset[0] = sizeof(CwFrameHeader);
    fh.offset[1] = fh.offset[0] + (uint32_t)(w * h);
    fh.offset[2] = fh.offset[1] + (uint32_t)(cw * ch);
    return fh;
}

static uint32_t slot_len(const CwFrameHeader *fh)
{
    return fh->offset[2] + (uint32_t)(fh->linesize[2] * ((fh->height + 1) / 2));
}

static void test_sound_frames(void)
{
    CwFrameHeader fh = frame(1920, 1080);
    CHECK(cw_frame_header_problem(&fh, slot_len(&fh), 3) == NULL);
    fh = frame(641, 481); /* odd sizes round chroma up */
    CHECK(cw_frame_header_problem(&fh, slot_len(&fh), 3) == NULL);
}

static void test_bad_frames(void)
{
    CwFrameHeader fh = frame(1920, 1080);
    uint32_t len = slot_len(&fh);
    CHECK(cw_frame_header_problem(&fh, len - 1, 3) != NULL);      /* V runs past the slot */
    CHECK(cw_frame_header_problem(&fh, fh.offset[1], 1) == NULL); /* luma alone fits */
    CHECK(cw_frame_header_problem(&fh, fh.offset[1] - 1, 1) != NULL);
    fh.width = 0;
    CHECK(cw_frame_header_problem(&fh, len, 1) != NULL);
    fh = frame(1920, 1080);
    fh.height = CW_FRAME_MAX_SIDE + 1;
    CHECK(cw_frame_header_problem(&fh, UINT32_MAX, 1) != NULL);
    fh = frame(1920, 1080);
    fh.linesize[0] = 1000; /* rows shorter than the width */
    CHECK(cw_frame_header_problem(&fh, len, 1) != NULL);
    fh = frame(1920, 1080);
    fh.offset[0] = 8; /* inside the header */
    CHECK(cw_frame_header_problem(&fh, len, 1) != NULL);
    fh = frame(1920, 1080);
    fh.linesize[0] = INT32_MAX; /* no overflow in the size arithmetic */
    CHECK(cw_frame_header_problem(&fh, len, 1) != NULL);
}

int main(void)
{
    RUN(test_sound_frames);
    RUN(test_bad_frames);
    return 0;
}
