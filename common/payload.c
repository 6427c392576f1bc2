#include "payload.h"

const char *cw_frame_header_problem(const CwFrameHeader *fh, uint32_t slot_len, int planes)
{
    if (fh->width <= 0 || fh->height <= 0 || fh->width > CW_FRAME_MAX_SIDE ||
        fh->height > CW_FRAME_MAX_SIDE)
        return "impossible size";
    for (int i = 0; i < planes && i < 3; i++) {
        /* YUV420P: the chroma planes are half size, rounded up. */
        int width = i ? (fh->width + 1) / 2 : fh->width;
        int rows = i ? (fh->height + 1) / 2 : fh->height;
        if (fh->linesize[i] < width)
            return "plane rows shorter than the picture is wide";
        if (fh->offset[i] < sizeof(CwFrameHeader))
            return "plane overlaps the header";
        uint64_t end = (uint64_t)fh->offset[i] + (uint64_t)(rows - 1) * (uint64_t)fh->linesize[i] +
                       (uint64_t)width;
        if (end > slot_len)
            return "plane larger than the slot";
    }
    return NULL;
}
