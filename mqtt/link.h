/*
 * camwatch-mqtt's connection to the broker (libmosquitto), driven from the
 * stage's one thread: connect without blocking, reconnect with backoff
 * (0.5 s doubling up to RETRY_SECONDS) while the broker is down, and at
 * RETRY_SECONDS when it refuses us (a wrong password: one clear line per
 * attempt). Every connection starts from a fresh client (no message of the
 * last one is resent behind our back), announces itself on the
 * availability topic with "offline" as its Last Will, and hands the caller
 * the chance to republish its retained state.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_MQTT_LINK_H
#define CAMWATCH_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mqtturl.h"

typedef struct MqttLink MqttLink;

typedef struct MqttLinkHooks {
    /* After every successful connect (the availability is already online):
     * subscribe and republish what is retained. */
    void (*connected)(MqttLink *link, void *data);
    /* A message on a subscribed topic (payload not terminated). */
    void (*message)(const char *topic, const void *payload, size_t len, void *data);
    void *data;
} MqttLinkHooks;

/*
 * A link for `url` (copied) as client `client_id`, with the Last Will
 * "offline" (retained) on `availability_topic`; nothing is connected until
 * mqtt_link_run(). Returns 0 and sets *link (mqtt_link_free()), -ENOMEM, or
 * -EINVAL if libmosquitto refuses the TLS settings (MQTT_CA_FILE), logged.
 */
int mqtt_link_new(MqttLink **link, const CwConfig *cfg, const CwMqttUrl *url, const char *client_id,
                  const char *availability_topic, const MqttLinkHooks *hooks);

/* Publish "offline" on a connected link, disconnect, free; sets *link NULL. */
void mqtt_link_free(MqttLink **link);

/*
 * One turn: start a connection attempt when one is due, then service the
 * socket for up to `timeout_ms` (hooks run from here). Returns true if it
 * waited on a socket, false if there was none (the caller sleeps instead).
 */
bool mqtt_link_run(MqttLink *link, int timeout_ms);

/* True while connected (CONNACK accepted, not lost since). */
bool mqtt_link_connected(const MqttLink *link);

/*
 * Publish now (QoS 1) if connected; otherwise the message is not kept: what
 * is retained is republished by the `connected` hook. Returns 0, -ENOTCONN
 * or -EIO.
 */
int mqtt_link_publish(MqttLink *link, const char *topic, const void *payload, size_t len,
                      bool retain);

/*
 * Publish through the outbox (outbox.h): sent now or on the next connect,
 * kept until the broker acknowledged it. Returns 0 or -ENOMEM.
 */
int mqtt_link_publish_durable(MqttLink *link, const char *topic, const void *payload, size_t len,
                              bool retain);

/* Subscribe to `topic` (QoS 1) on a connected link. Returns 0 or -EIO. */
int mqtt_link_subscribe(MqttLink *link, const char *topic);

/* On mqtt_link_free(), clear the retained availability instead of saying
 * "offline" (the camera is being removed: --forget). */
void mqtt_link_forget_availability(MqttLink *link);

/* Messages of the outbox not yet acknowledged. */
int mqtt_link_pending(const MqttLink *link);

#endif /* CAMWATCH_MQTT_LINK_H */
