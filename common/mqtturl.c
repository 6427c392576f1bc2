#include "mqtturl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Copy [s, e) to out (of `size` bytes) percent-decoded. Returns false if it
 * does not fit or holds a broken %XX. */
static bool decode(const char *s, const char *e, char *out, size_t size)
{
    size_t n = 0;
    while (s < e) {
        char c = *s++;
        if (c == '%') {
            char hex[3] = {0};
            if (e - s < 2)
                return false;
            memcpy(hex, s, 2);
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end || v == 0)
                return false;
            c = (char)v;
            s += 2;
        }
        if (n + 1 >= size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

int cw_mqtt_url_parse(const char *url, CwMqttUrl *out, const char **problem)
{
    memset(out, 0, sizeof(*out));
    const char *p;
    if (strncmp(url, "mqtt://", 7) == 0) {
        p = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        p = url + 8;
        out->tls = true;
    } else {
        *problem = "the scheme is not mqtt:// or mqtts://";
        return -EINVAL;
    }
    out->port = out->tls ? CW_MQTTS_PORT : CW_MQTT_PORT;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        if (!decode(p, user_end, out->user, sizeof(out->user)) ||
            (colon && !decode(colon + 1, at, out->password, sizeof(out->password)))) {
            *problem = "the user or password is too long or has a broken %XX escape";
            return -EINVAL;
        }
        out->has_password = colon != NULL;
        p = at + 1;
    }
    /* A trailing '/' is tolerated; a path is not (MQTT has none). */
    const char *end = p + strlen(p);
    if (end > p && end[-1] == '/')
        end--;
    if (memchr(p, '/', (size_t)(end - p)) || memchr(p, '?', (size_t)(end - p))) {
        *problem = "it has a path or a query after the host";
        return -EINVAL;
    }
    const char *host = p, *host_end = end, *port = NULL;
    if (*p == '[') { /* [IPv6]:port */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close) {
            *problem = "an IPv6 address lacks its closing ']'";
            return -EINVAL;
        }
        host = p + 1;
        host_end = close;
        if (close + 1 < end) {
            if (close[1] != ':') {
                *problem = "text after the IPv6 address is not :PORT";
                return -EINVAL;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon) {
            host_end = colon;
            port = colon + 1;
        }
    }
    if (host_end <= host || (size_t)(host_end - host) >= sizeof(out->host)) {
        *problem = "there is no host (or it is too long)";
        return -EINVAL;
    }
    memcpy(out->host, host, (size_t)(host_end - host));
    if (port) {
        long v = 0;
        const char *d = port;
        for (; d < end && *d >= '0' && *d <= '9' && v <= 65535; d++)
            v = v * 10 + (*d - '0');
        if (d == port || d != end || v < 1 || v > 65535) {
            *problem = "the port is not a number from 1 to 65535";
            return -EINVAL;
        }
        out->port = (int)v;
    }
    return 0;
}
