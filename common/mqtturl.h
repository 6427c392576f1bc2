/*
 * MQTT_URL: "mqtt://[user[:password]@]host[:port]" (TLS: "mqtts://"), split
 * into what libmosquitto's connect takes. The configuration checks it with
 * this parser, camwatch-mqtt connects with its result, so both read the
 * URL the same way.
 *
 * Errors: negative errno values, as everywhere in common/.
 */
#ifndef CAMWATCH_MQTTURL_H
#define CAMWATCH_MQTTURL_H

#include <stdbool.h>

#define CW_MQTT_PORT     1883 /* mqtt:// without a port */
#define CW_MQTTS_PORT    8883 /* mqtts:// without a port */
#define CW_MQTT_HOST_MAX 256
#define CW_MQTT_CRED_MAX 256

typedef struct CwMqttUrl {
    bool tls;                        /* mqtts:// */
    char host[CW_MQTT_HOST_MAX];     /* a name, an IPv4 address, or IPv6 without brackets */
    int port;                        /* 1 to 65535 */
    char user[CW_MQTT_CRED_MAX];     /* percent-decoded; "" when the URL has none */
    char password[CW_MQTT_CRED_MAX]; /* percent-decoded; "" when the URL has none */
    bool has_password;               /* the URL had "user:password@" (an empty password counts) */
} CwMqttUrl;

/*
 * Parse `url` into *out (the user information runs to the last '@', as
 * cw_url_password() reads it; user and password are percent-decoded).
 * Returns 0, or -EINVAL with *problem set to a static phrase saying what is
 * wrong (for the configuration's message): another scheme, no host, a port
 * that is not 1 to 65535, a path after the host, a part too long.
 */
int cw_mqtt_url_parse(const char *url, CwMqttUrl *out, const char **problem);

#endif /* CAMWATCH_MQTTURL_H */
