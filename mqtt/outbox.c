#include "outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mqtt_outbox_init(MqttOutbox *box)
{
    memset(box, 0, sizeof(*box));
}

static void message_free(MqttMessage *m)
{
    free(m->topic);
    free(m->payload);
    memset(m, 0, sizeof(*m));
}

/* Remove the message at position i (0: oldest), keeping the order of the rest. */
static void remove_at(MqttOutbox *box, int i)
{
    message_free(&box->items[(box->head + i) % MQTT_OUTBOX_MAX]);
    for (int k = i; k > 0; k--)
        box->items[(box->head + k) % MQTT_OUTBOX_MAX] =
            box->items[(box->head + k - 1) % MQTT_OUTBOX_MAX];
    memset(&box->items[box->head], 0, sizeof(box->items[0]));
    box->head = (box->head + 1) % MQTT_OUTBOX_MAX;
    box->count--;
}

int mqtt_outbox_push(MqttOutbox *box, const char *topic, const void *payload, size_t len,
                     bool retain)
{
    MqttMessage m = {
        .topic = strdup(topic), .payload = malloc(len ? len : 1), .len = len, .retain = retain};
    if (!m.topic || !m.payload) {
        message_free(&m);
        return -ENOMEM;
    }
    memcpy(m.payload, payload, len);
    if (box->count == MQTT_OUTBOX_MAX) {
        remove_at(box, 0);
        box->dropped++;
    }
    box->items[(box->head + box->count) % MQTT_OUTBOX_MAX] = m; /* ownership passes to the box */
    box->count++;
    return 0;
}

int mqtt_outbox_count(const MqttOutbox *box)
{
    return box->count;
}

MqttMessage *mqtt_outbox_at(MqttOutbox *box, int i)
{
    return &box->items[(box->head + i) % MQTT_OUTBOX_MAX];
}

bool mqtt_outbox_acked(MqttOutbox *box, int mid)
{
    for (int i = 0; i < box->count; i++) {
        if (mid && mqtt_outbox_at(box, i)->mid == mid) {
            remove_at(box, i);
            return true;
        }
    }
    return false;
}

void mqtt_outbox_unsend(MqttOutbox *box)
{
    for (int i = 0; i < box->count; i++)
        mqtt_outbox_at(box, i)->mid = 0;
}

uint64_t mqtt_outbox_take_dropped(MqttOutbox *box)
{
    uint64_t n = box->dropped;
    box->dropped = 0;
    return n;
}

void mqtt_outbox_clear(MqttOutbox *box)
{
    while (box->count)
        remove_at(box, 0);
}
