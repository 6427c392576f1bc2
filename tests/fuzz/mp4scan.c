/*
 * Fuzz target: the box scan of a torn MP4 (rec_mp4_scan, record/mp4scan.c),
 * on arbitrary bytes read through a memfd, as recovery reads a .part file
 * that a crash or a full disk left.
 *
 * Properties: it returns 0; 0 <= header_end <= playable_end <= file_size;
 * fragments only after a complete moov; and the prefix it calls playable,
 * scanned again on its own, gives the same answer (what recovery keeps is
 * what it measured).
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "mp4scan.h"

#include <sys/mman.h>
#include <unistd.h>

static void scan(int fd, RecMp4Scan *s)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int ret = rec_mp4_scan(path, s);
    FUZZ_ASSERT(ret == 0, "rec_mp4_scan returned %d", ret);
    FUZZ_ASSERT(s->header_end >= 0 && s->header_end <= s->playable_end &&
                    s->playable_end <= s->file_size && s->fragments >= 0,
                "header_end %lld, playable_end %lld, file_size %lld, fragments %d",
                (long long)s->header_end, (long long)s->playable_end, (long long)s->file_size,
                s->fragments);
    FUZZ_ASSERT(s->header_end > 0 || (s->fragments == 0 && s->playable_end == 0),
                "%d fragments, playable to %lld, without a moov", s->fragments,
                (long long)s->playable_end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RecMp4Scan whole, cut;
    int fd = memfd_create("part", 0);
    FUZZ_ASSERT(fd >= 0, "memfd_create failed");
    FUZZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t)size, "write failed");
    scan(fd, &whole);
    FUZZ_ASSERT(whole.file_size == (int64_t)size, "file_size %lld of %zu bytes",
                (long long)whole.file_size, size);
    if (whole.playable_end > 0 && whole.playable_end < whole.file_size) {
        FUZZ_ASSERT(ftruncate(fd, whole.playable_end) == 0, "ftruncate failed");
        scan(fd, &cut);
        FUZZ_ASSERT(cut.playable_end == whole.playable_end && cut.fragments == whole.fragments &&
                        cut.header_end == whole.header_end,
                    "the playable prefix scans as %lld/%d, the whole file as %lld/%d",
                    (long long)cut.playable_end, cut.fragments, (long long)whole.playable_end,
                    whole.fragments);
    }
    close(fd);
    return 0;
}
