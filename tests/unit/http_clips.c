/* camwatch-http's clip files: the Range header parser and the opener that
 * never leaves VIDEO_DIR's date folders. */
#define _GNU_SOURCE
#include "check.h"

#include "../../http/clips.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* One Range header against a file of `size` bytes: the parser's answer,
 * and the range when it is 1. */
static void expect_range(const char *header, uint64_t size, int want, uint64_t want_start,
                         uint64_t want_len)
{
    uint64_t start = 777, len = 777;
    int got = http_range_parse(header, size, &start, &len);
    if (got != want) {
        fprintf(stderr, "range \"%s\" of %" PRIu64 " bytes: got %d, want %d\n",
                header ? header : "(none)", size, got, want);
        exit(1);
    }
    if (want == 1) {
        CHECK_EQ_U64(start, want_start);
        CHECK_EQ_U64(len, want_len);
        CHECK(start + len <= size);
    }
}

static void test_range(void)
{
    /* Ranges served as asked (206). */
    expect_range("bytes=0-99", 1000, 1, 0, 100);
    expect_range("bytes=100-", 1000, 1, 100, 900);
    expect_range("bytes=-100", 1000, 1, 900, 100);
    expect_range("bytes=999-999", 1000, 1, 999, 1);
    expect_range("bytes= 5-9", 1000, 1, 5, 5);
    /* Past the end: cut to the file (RFC 9110 14.1.2). */
    expect_range("bytes=900-5000", 1000, 1, 900, 100);
    expect_range("bytes=-5000", 1000, 1, 0, 1000);
    /* Unsatisfiable: 416. */
    expect_range("bytes=1000-", 1000, -ERANGE, 0, 0);
    expect_range("bytes=5000-6000", 1000, -ERANGE, 0, 0);
    expect_range("bytes=-0", 1000, -ERANGE, 0, 0);
    expect_range("bytes=0-", 0, -ERANGE, 0, 0);
    /* Ignored, the whole file sent (200): no header, another unit, several
     * ranges, and every malformed form. */
    expect_range(NULL, 1000, 0, 0, 0);
    expect_range("", 1000, 0, 0, 0);
    expect_range("items=0-9", 1000, 0, 0, 0);
    expect_range("bytes=0-9,20-29", 1000, 0, 0, 0);
    expect_range("bytes=9-0", 1000, 0, 0, 0);
    expect_range("bytes=abc", 1000, 0, 0, 0);
    expect_range("bytes=-", 1000, 0, 0, 0);
    expect_range("bytes=1-2x", 1000, 0, 0, 0);
    expect_range("bytes=--5", 1000, 0, 0, 0);
    /* More digits than 64 bits hold: refused, not wrapped. */
    expect_range("bytes=99999999999999999999-", 1000, 0, 0, 0);
    expect_range("bytes=0-99999999999999999999", 1000, 0, 0, 0);
}

static char root[] = "/tmp/camwatch-http-clips-XXXXXX";
static char video[512];

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void expect_refused(const char *rel, int want)
{
    uint64_t size = 0;
    const char *type = NULL;
    int fd = http_clips_open(video, rel, &size, &type);
    if (fd >= 0)
        close(fd);
    if (fd != want) {
        fprintf(stderr, "http_clips_open(\"%s\") gave %d, want %d\n", rel, fd, want);
        exit(1);
    }
}

static void expect_opens(const char *rel, const char *want_type, const char *want_text)
{
    uint64_t size = 0;
    const char *type = NULL;
    char buf[64] = {0};
    int fd = http_clips_open(video, rel, &size, &type);
    if (fd < 0) {
        fprintf(stderr, "http_clips_open(\"%s\") gave %d\n", rel, fd);
        exit(1);
    }
    CHECK(read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(want_text));
    close(fd);
    CHECK(strcmp(buf, want_text) == 0);
    CHECK_EQ_U64(size, strlen(want_text));
    CHECK(strcmp(type, want_type) == 0);
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
}

static void test_open(void)
{
    char path[600];
    CHECK(mkdtemp(root) != NULL);
    atexit(cleanup); /* a failed check exits too */
    snprintf(video, sizeof(video), "%s/video", root);
    CHECK(mkdir(video, 0755) == 0);
    snprintf(path, sizeof(path), "%s/2026-12-01", video);
    CHECK(mkdir(path, 0755) == 0);
    snprintf(path, sizeof(path), "%s/2026-12-01/cam-20261201-101010.mp4", video);
    write_file(path, "clip");
    snprintf(path, sizeof(path), "%s/2026-12-01/cam-20261201-101010.jpg", video);
    write_file(path, "jpeg");
    snprintf(path, sizeof(path), "%s/2026-12-01/cam-20261201-101010.json", video);
    write_file(path, "{}");
    /* Outside VIDEO_DIR, and links that lead there. */
    snprintf(path, sizeof(path), "%s/secret.mp4", root);
    write_file(path, "secret");
    char target[600];
    snprintf(target, sizeof(target), "%s/secret.mp4", root);
    snprintf(path, sizeof(path), "%s/2026-12-01/link.mp4", video);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof(path), "%s/2026-12-02", video);
    CHECK(symlink(root, path) == 0);
    snprintf(path, sizeof(path), "%s/2026-12-01/folder.mp4", video);
    CHECK(mkdir(path, 0755) == 0);

    expect_opens("2026-12-01/cam-20261201-101010.mp4", "video/mp4", "clip");
    expect_opens("2026-12-01/cam-20261201-101010.jpg", "image/jpeg", "jpeg");
    expect_opens("2026-12-01/cam-20261201-101010.json", "application/json", "{}");

    expect_refused("2026-12-01/missing.mp4", -ENOENT);
    expect_refused("2026-12-03/cam.mp4", -ENOENT);
    /* Names out of the pattern, traversal in every spelling that reaches
     * the opener (the server percent-decodes first), links, folders. */
    const char *const refused[] = {
        "../secret.mp4",
        "2026-12-01/../../secret.mp4",
        "2026-12-01/..",
        "2026-12-01/.mp4",
        "2026-12-01/.hidden.mp4",
        "2026-12-01/cam.txt",
        "2026-12-01/cam.mp4/x",
        "2026-12-01/sub/cam.mp4",
        "2026-12-01/cam .mp4",
        "2026-12-01/cam\\x.mp4",
        "2026-12-01/",
        "2026-12-01",
        "",
        "/etc/passwd",
        "2026-1-01/cam.mp4",
        "2026-12-011/cam.mp4",
        "x026-12-01/cam.mp4",
        "2026-12-01/link.mp4",
        "2026-12-02/secret.mp4",
        "2026-12-01/folder.mp4",
        ".staging/cam.mp4",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        expect_refused(refused[i], -EACCES);
}

int main(void)
{
    RUN(test_range);
    RUN(test_open);
    return 0;
}
