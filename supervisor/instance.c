#define _GNU_SOURCE
#include "instance.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * The claim is a bound abstract AF_UNIX socket "@camwatch/<camera>": the
 * kernel releases the name the moment the holder dies, however it dies, so
 * a crashed supervisor never leaves a stale lock behind (a lock file in
 * /dev/shm would, and would also be one more name to clean up there).
 */
int sup_instance_claim(const char *camera)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "camwatch/%s", camera);
    if (n < 0 || (size_t)n >= sizeof(addr.sun_path) - 1)
        return -ENAMETOOLONG;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&addr, len) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}
