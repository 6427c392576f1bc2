#define _GNU_SOURCE
#include "reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PART_SUFFIX ".mp4.part"
/* The sidecar and the smallest snapshots fit in this; larger pictures add
 * half a byte a pixel (a JPEG at camwatch's quality takes far less). */
#define RESERVE_MIN_BYTES (256 * 1024)
#define RESERVE_MAX_BYTES (16 * 1024 * 1024)

uint64_t rec_reserve_bytes(int width, int height)
{
    uint64_t px = width > 0 && height > 0 ? (uint64_t)width * (uint64_t)height : 0;
    uint64_t bytes = RESERVE_MIN_BYTES + px / 2;
    return bytes < RESERVE_MAX_BYTES ? bytes : RESERVE_MAX_BYTES;
}

/* "<base>.reserve.part" for "<base>.mp4.part" into buf; -EINVAL for another name. */
static int reserve_path(const char *staging_mp4, char *buf, size_t size)
{
    size_t n = strlen(staging_mp4), s = strlen(PART_SUFFIX);
    if (n <= s || strcmp(staging_mp4 + n - s, PART_SUFFIX) != 0)
        return -EINVAL;
    int len = snprintf(buf, size, "%.*s%s", (int)(n - s), staging_mp4, REC_RESERVE_SUFFIX);
    return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

int rec_reserve_hold(const char *staging_mp4, int width, int height)
{
    char path[4096];
    int ret = reserve_path(staging_mp4, path, sizeof(path));
    if (ret < 0)
        return ret;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* Blocks, not a hole. fallocate(2), not posix_fallocate(): where the
     * file system cannot allocate ahead, glibc's fallback would write a
     * byte a block, in record's packet loop; EOPNOTSUPP says so instead. */
    ret = fallocate(fd, 0, 0, (off_t)rec_reserve_bytes(width, height)) < 0 ? -errno : 0;
    close(fd);
    if (ret < 0)
        unlink(path);
    return ret;
}

void rec_reserve_release(const char *staging_mp4)
{
    char path[4096];
    if (reserve_path(staging_mp4, path, sizeof(path)) == 0)
        unlink(path);
}
