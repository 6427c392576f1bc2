#define _GNU_SOURCE
#include "mp4scan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rec_mp4_scan(const char *path, RecMp4Scan *scan)
{
    struct stat st;
    int64_t pos = 0, moof_end = -1;
    int ret = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    memset(scan, 0, sizeof(*scan));
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        goto end;
    }
    scan->file_size = st.st_size;

    /* Boxes are read header by header (pread of 16 bytes), never their
     * contents: a multi-gigabyte clip scans in microseconds. */
    while (pos + 8 <= scan->file_size) {
        uint8_t h[16];
        ssize_t n = pread(fd, h, sizeof(h), pos);
        if (n < 8)
            break;
        uint64_t size = be32(h);
        int64_t header = 8;
        if (size == 1) {
            if (n < 16)
                break;
            size = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
            header = 16;
        }
        /* size 0 ("to the end of the file") is never written by a fragmenting
         * muxer: treat it, and anything too small or past the end, as torn. */
        if (size < (uint64_t)header || size > (uint64_t)(scan->file_size - pos))
            break;
        int64_t box_end = pos + (int64_t)size;
        if (memcmp(h + 4, "moov", 4) == 0) {
            scan->header_end = box_end;
            scan->playable_end = box_end;
        } else if (memcmp(h + 4, "moof", 4) == 0) {
            moof_end = box_end;
        } else if (memcmp(h + 4, "mdat", 4) == 0) {
            if (moof_end == pos && scan->header_end) {
                scan->fragments++;
                scan->playable_end = box_end;
            }
            moof_end = -1;
        } else if (memcmp(h + 4, "mfra", 4) == 0 && scan->header_end) {
            scan->playable_end = box_end; /* written by the trailer: a complete file */
        }
        pos = box_end;
    }

end:
    close(fd);
    return ret;
}
