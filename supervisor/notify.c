#define _GNU_SOURCE
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void notify_forget_env(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void notify_read_watchdog(SupNotify *notify)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    char *end;

    if (!usec || !*usec)
        return;
    /* A WATCHDOG_PID naming another process means the watchdog is not ours
     * (we were started by a wrapper that kept it). */
    if (pid && *pid) {
        errno = 0;
        long p = strtol(pid, &end, 10);
        if (errno || *end || p != (long)getpid())
            return;
    }
    errno = 0;
    unsigned long long v = strtoull(usec, &end, 10);
    if (errno || *end || v == 0) {
        cw_warn("ignoring WATCHDOG_USEC=\"%s\": not a positive number of microseconds", usec);
        return;
    }
    notify->watchdog_usec = v;
}

int sup_notify_init(SupNotify *notify)
{
    const char *path = getenv("NOTIFY_SOCKET");
    int ret = 0;

    memset(notify, 0, sizeof(*notify));
    notify->fd = -1;
    if (!path || !*path) {
        notify_forget_env();
        return 0;
    }

    size_t len = strlen(path);
    notify->addr.sun_family = AF_UNIX;
    if (len >= sizeof(notify->addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
        cw_warn("ignoring NOTIFY_SOCKET=\"%s\": not an absolute path or an abstract '@' name",
                path);
        ret = -EINVAL;
        goto end;
    }
    memcpy(notify->addr.sun_path, path, len);
    if (path[0] == '@') {
        /* Abstract namespace: the name starts with a NUL and is not terminated. */
        notify->addr.sun_path[0] = '\0';
        notify->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        notify->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }

    /* CLOEXEC: the stages must not inherit a channel to systemd. */
    notify->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (notify->fd < 0) {
        ret = -errno;
        cw_warn("cannot create the systemd notification socket: %s", strerror(errno));
        goto end;
    }
    notify_read_watchdog(notify);
end:
    notify_forget_env();
    return ret;
}

int sup_notify_send(SupNotify *notify, const char *state)
{
    if (notify->fd < 0)
        return 0;
    /* MSG_NOSIGNAL: a vanished systemd must not kill us with SIGPIPE. */
    ssize_t n = sendto(notify->fd, state, strlen(state), MSG_NOSIGNAL,
                       (const struct sockaddr *)&notify->addr, notify->addr_len);
    if (n < 0) {
        int err = errno;
        cw_debug("sd_notify \"%s\" failed: %s", state, strerror(err));
        return -err;
    }
    return 0;
}

void sup_notify_status(SupNotify *notify, const char *fmt, ...)
{
    char status[sizeof(notify->last_status)];
    char msg[sizeof(status) + 8];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(status, sizeof(status), fmt, ap);
    va_end(ap);
    if (strcmp(status, notify->last_status) == 0)
        return;
    memcpy(notify->last_status, status, sizeof(status));
    cw_debug("status: %s", status);
    snprintf(msg, sizeof(msg), "STATUS=%s", status);
    sup_notify_send(notify, msg);
}

void sup_notify_close(SupNotify *notify)
{
    if (notify->fd >= 0)
        close(notify->fd);
    notify->fd = -1;
}
