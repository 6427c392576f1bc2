#define _GNU_SOURCE
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rec_path_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int rec_mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    struct stat st;

    if (rec_path_fmt(buf, sizeof(buf), "%s", path) < 0)
        return -ENAMETOOLONG;
    /* Walk the components left to right; each mkdir may race with another
     * process creating the same folder, so EEXIST is fine when it is one. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        if (stat(buf, &st) < 0)
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

int rec_fsync_path(const char *path)
{
    int ret = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

int rec_write_file(const char *path, const void *data, size_t len)
{
    const unsigned char *p = data;
    int ret = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            goto end;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) < 0)
        ret = -errno;

end:
    /* close() can be the first to report a delayed write error (NFS). */
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    if (ret < 0)
        unlink(path);
    return ret;
}

bool rec_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int rec_rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* No RENAME_NOREPLACE here (some network and FUSE file systems): record
     * is the only writer of its clip names, so check-then-rename suffices. */
    if (rec_path_exists(to))
        return -EEXIST;
    return rename(from, to) < 0 ? -errno : 0;
}

int rec_free_base(const char *dir, const char *name, const char *const *exts, int n, char *base,
                  size_t size)
{
    char path[4096];
    for (int k = 0; k < 1000; k++) {
        int ret =
            k ? rec_path_fmt(base, size, "%s-%d", name, k) : rec_path_fmt(base, size, "%s", name);
        if (ret < 0)
            return ret;
        bool taken = false;
        for (int e = 0; e < n && !taken; e++) {
            if (rec_path_fmt(path, sizeof(path), "%s/%s.%s", dir, base, exts[e]) < 0)
                return -ENAMETOOLONG;
            taken = rec_path_exists(path);
        }
        if (!taken)
            return 0;
    }
    return -EEXIST;
}
