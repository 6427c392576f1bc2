/*
 * The listening socket of camwatch-http, opened apart from the HTTP
 * library so that a failure says exactly why (a port in use, an address
 * this host does not have) and can be retried.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_HTTP_LISTEN_H
#define CAMWATCH_HTTP_LISTEN_H

/*
 * Open a TCP socket listening on `listen` (an HTTP_LISTEN value config.c
 * accepted; "localhost" is 127.0.0.1). Returns the descriptor
 * (close-on-exec, non-blocking; the caller's) or the negative errno of the
 * step that failed: -EADDRINUSE for a port another program holds,
 * -EADDRNOTAVAIL for an address that is not this host's, -EACCES for a
 * privileged port.
 */
int http_listen_open(const char *listen);

#endif /* CAMWATCH_HTTP_LISTEN_H */
