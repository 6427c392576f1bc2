/*
 * The messages that must reach the broker even across a broker restart
 * (event start, update and end): a bounded FIFO that keeps each message
 * until the broker acknowledged it (QoS 1's PUBACK). When it is full the
 * oldest message is dropped and counted, so a broker that stays away for
 * hours costs a bounded amount of memory.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_MQTT_OUTBOX_H
#define CAMWATCH_MQTT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages kept at most: a few events' worth of start, updates and end. */
#define MQTT_OUTBOX_MAX 64

typedef struct MqttMessage {
    char *topic;   /* owned */
    void *payload; /* owned */
    size_t len;
    bool retain;
    int mid; /* libmosquitto's message id while sent and not acknowledged; 0: not sent */
} MqttMessage;

typedef struct MqttOutbox {
    MqttMessage items[MQTT_OUTBOX_MAX];
    int head, count;
    uint64_t dropped; /* oldest messages dropped since the last mqtt_outbox_take_dropped() */
} MqttOutbox;

/* An empty outbox. */
void mqtt_outbox_init(MqttOutbox *box);

/*
 * Append a copy of the message. A full outbox first drops its oldest message
 * (counted). Returns 0 or -ENOMEM (nothing appended).
 */
int mqtt_outbox_push(MqttOutbox *box, const char *topic, const void *payload, size_t len,
                     bool retain);

/* Messages held. */
int mqtt_outbox_count(const MqttOutbox *box);

/* The i-th oldest message (0 <= i < count), to send it and record its mid. */
MqttMessage *mqtt_outbox_at(MqttOutbox *box, int i);

/* The broker acknowledged message `mid`: remove it. Returns true if it was held. */
bool mqtt_outbox_acked(MqttOutbox *box, int mid);

/* The connection is gone: every message is unsent again (mid 0). */
void mqtt_outbox_unsend(MqttOutbox *box);

/* Dropped messages counted since the last call, and reset the count. */
uint64_t mqtt_outbox_take_dropped(MqttOutbox *box);

/* Free every message held. */
void mqtt_outbox_clear(MqttOutbox *box);

#endif /* CAMWATCH_MQTT_OUTBOX_H */
