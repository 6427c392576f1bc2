/*
 * The systemd notification protocol (sd_notify), written out: one datagram
 * of "KEY=value" lines to the AF_UNIX socket named by NOTIFY_SOCKET. Without
 * NOTIFY_SOCKET (a terminal, docker) every call is a no-op.
 *
 * Errors: negative errno values, as libuv's. None is fatal: the service
 * runs on without notifications.
 */
#ifndef CAMWATCH_SUP_NOTIFY_H
#define CAMWATCH_SUP_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

typedef struct SupNotify {
    int fd; /* -1 when not under systemd */
    struct sockaddr_un addr;
    socklen_t addr_len;
    uint64_t watchdog_usec; /* 0 when systemd does not watch us */
    char last_status[256];  /* STATUS= is sent only when it changes */
} SupNotify;

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and remove them from
 * the environment, so that the stages we spawn (which inherit it) cannot
 * speak to systemd as if they were the main process. Returns 0 (also when
 * not under systemd) or a negative errno for an unusable NOTIFY_SOCKET
 * (logged; notifications are then off, the service still runs).
 */
int sup_notify_init(SupNotify *notify);

/* Send `state` ("READY=1", "WATCHDOG=1", "STOPPING=1"...). Returns 0 or a negative errno. */
int sup_notify_send(SupNotify *notify, const char *state);

/* Send STATUS=<printf text> if it differs from the last status sent. */
void sup_notify_status(SupNotify *notify, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Close the socket; safe when not under systemd, and twice. */
void sup_notify_close(SupNotify *notify);

#endif /* CAMWATCH_SUP_NOTIFY_H */
