/*
 * Fuzz target: what camwatch-http takes from a request and from the clip
 * folder (http/clips.c): the file path after /clips/ (already
 * percent-decoded, as the server hands it on), the Range header, and a
 * sidecar as /api/clips reads it.
 *
 * Input: three NUL-separated parts: the path, the Range header (its first
 * 4 bytes before it are the file size), the sidecar's text.
 *
 * Properties: the opener opens nothing but a regular file directly inside
 * a date folder of VIDEO_DIR (a file outside, links out and a folder are
 * planted); a range it serves lies inside the file and is not empty, and
 * its answer is one of 1, 0, -ERANGE; the clip list is an array whatever
 * the sidecar holds, each entry with its video_url under /clips/.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "../../http/clips.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/camwatch-fuzz-http-XXXXXX";
static char video[PATH_MAX];
static char sidecar_path[PATH_MAX];

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_ASSERT(fd >= 0, "cannot create %s", path);
    FUZZ_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "cannot write %s", path);
    close(fd);
}

static void cleanup(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "http_clips: could not remove %s\n", root);
}

/* VIDEO_DIR with one day of one clip, beside a file it must never serve
 * and the links and folder that try to reach it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[PATH_MAX + 64];
    if (!mkdtemp(root))
        abort();
    atexit(cleanup);
    /* Where the kernel says files are (/tmp may be a link): readlink of
     * an open file gives that form. */
    char real_root[PATH_MAX];
    if (!realpath(root, real_root))
        abort();
    snprintf(video, sizeof(video), "%s/video", real_root);
    snprintf(path, sizeof(path), "%s/2026-12-01", video);
    if (mkdir(video, 0755) < 0 || mkdir(path, 0755) < 0)
        abort();
    snprintf(path, sizeof(path), "%s/2026-12-01/cam-20261201-101010.mp4", video);
    put(path, "clip");
    snprintf(path, sizeof(path), "%s/2026-12-01/cam-20261201-101010.jpg", video);
    put(path, "jpeg");
    snprintf(sidecar_path, sizeof(sidecar_path), "%s/2026-12-01/cam-20261201-101010.json", video);
    put(sidecar_path, "{}");
    snprintf(path, sizeof(path), "%s/secret.mp4", root);
    put(path, "secret");
    char target[PATH_MAX + 16];
    snprintf(target, sizeof(target), "%s/secret.mp4", root);
    snprintf(path, sizeof(path), "%s/2026-12-01/link.mp4", video);
    if (symlink(target, path) < 0)
        abort();
    snprintf(path, sizeof(path), "%s/2026-12-02", video);
    if (symlink(root, path) < 0)
        abort();
    snprintf(path, sizeof(path), "%s/2026-12-01/folder.mp4", video);
    if (mkdir(path, 0755) < 0)
        abort();
    return 0;
}

static void check_open(const char *rel)
{
    uint64_t size = 0;
    const char *type = NULL;
    int fd = http_clips_open(video, rel, &size, &type);
    if (fd < 0)
        return;
    char link[64], where[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, where, sizeof(where) - 1);
    struct stat st;
    int st_ok = fstat(fd, &st);
    close(fd);
    FUZZ_ASSERT(n > 0, "cannot read where fd %d points", fd);
    where[n] = '\0';
    size_t vlen = strlen(video);
    /* VIDEO_DIR/YYYY-MM-DD/NAME and nothing deeper. */
    const char *inside = where + vlen + 1;
    FUZZ_ASSERT(strncmp(where, video, vlen) == 0 && where[vlen] == '/' && strlen(inside) > 11 &&
                    inside[10] == '/' && !strchr(inside + 11, '/'),
                "\"%s\" opened %s, not a file of a date folder of %s", rel, where, video);
    FUZZ_ASSERT(st_ok == 0 && S_ISREG(st.st_mode), "\"%s\" opened a non-file", rel);
    FUZZ_ASSERT(type != NULL, "\"%s\" opened with no content type", rel);
    FUZZ_ASSERT(size == (uint64_t)st.st_size, "\"%s\": size %llu, the file has %lld", rel,
                (unsigned long long)size, (long long)st.st_size);
}

static void check_range(const char *header, uint64_t size)
{
    uint64_t start = 0, len = 0;
    int ret = http_range_parse(header, size, &start, &len);
    FUZZ_ASSERT(ret == 1 || ret == 0 || ret == -ERANGE, "\"%s\": answer %d", header, ret);
    if (ret == 1)
        FUZZ_ASSERT(len > 0 && start < size && len <= size - start,
                    "\"%s\" of %llu bytes: start %llu, length %llu", header,
                    (unsigned long long)size, (unsigned long long)start, (unsigned long long)len);
}

static void check_list(const char *sidecar)
{
    put(sidecar_path, sidecar);
    cJSON *list = http_clips_list(video, NULL, 10);
    FUZZ_ASSERT(list && cJSON_IsArray(list), "the clip list is not an array");
    const cJSON *clip;
    cJSON_ArrayForEach(clip, list)
    {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(clip, "video_url");
        FUZZ_ASSERT(cJSON_IsObject(clip) && cJSON_IsString(url) &&
                        strncmp(url->valuestring, "/clips/", 7) == 0,
                    "an entry without its video_url under /clips/");
    }
    cJSON_Delete(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size};
    char *rel = fuzz_string(&in, 4096);
    uint64_t file_size = fuzz_u64(&in, 4);
    char *range = fuzz_string(&in, 256);
    char *sidecar = fuzz_string(&in, 8192);
    FUZZ_ASSERT(rel && range && sidecar, "out of memory");
    check_open(rel);
    check_range(range, file_size);
    check_list(sidecar);
    free(rel);
    free(range);
    free(sidecar);
    return 0;
}
