#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"

#define LISTEN_BACKLOG 32

int http_listen_open(const char *listen_text)
{
    char host[64];
    int port, fd = -1, one = 1, ret;
    struct sockaddr_storage addr;
    socklen_t addr_len;

    memset(&addr, 0, sizeof(addr));
    if (cw_config_listen_split(listen_text, host, sizeof(host), &port) < 0)
        return -EINVAL;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
    if (strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        if (strcmp(host, "localhost") == 0)
            in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        addr_len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        addr_len = sizeof(*in6);
    } else {
        return -EINVAL;
    }
    fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* A restarted camwatch-http must get its port back at once, not after
     * the previous instance's connections have left TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&addr, addr_len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    return fd;
}
