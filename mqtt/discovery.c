#include "discovery.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * The entities. Keys as Home Assistant's MQTT integration documents them:
 * binary_sensor and sensor need state_topic, switch command_topic, image
 * image_topic (or url_topic); unique_id and device put them in one device.
 * Switches and sensors read the state message (messages.h) by template.
 */
typedef struct Entity {
    const char *component;
    const char *object;
    const char *name;
    const char *topic_key; /* the topic key and the topic under PREFIX/CAMERA */
    const char *topic;
    const char *value_template; /* NULL: the payload as it is */
    const char *device_class;   /* NULL: none */
    const char *unit;           /* NULL: none */
    const char *command;        /* switches: their command topic under PREFIX/CAMERA */
} Entity;

static const Entity entities[] = {
    {"binary_sensor", "motion", "Motion", "state_topic", "motion", NULL, "motion", NULL, NULL},
    {"image", "snapshot", "Snapshot", "image_topic", "snapshot", NULL, NULL, NULL, NULL},
    {"switch", "detect", "Detection", "state_topic", "state", "{{ value_json.detect }}", NULL, NULL,
     "detect/set"},
    {"switch", "record", "Recording", "state_topic", "state", "{{ value_json.record }}", NULL, NULL,
     "record/set"},
    {"sensor", "last_clip", "Last clip", "state_topic", "state",
     "{{ value_json.last_clip if value_json.last_clip else None }}", "timestamp", NULL, NULL},
    {"sensor", "disk_free", "Disk free", "state_topic", "state",
     "{{ (value_json.disk_free_bytes / 1000000000) | round(2) if value_json.disk_free_bytes is "
     "number else None }}",
     "data_size", "GB", NULL},
};
#define ENTITY_COUNT ((int)(sizeof(entities) / sizeof(entities[0])))

int mqtt_discovery_count(void)
{
    return ENTITY_COUNT;
}

int mqtt_discovery_config(const CwConfig *cfg, const char *base, int i, char *topic,
                          size_t topic_size, char **payload)
{
    const Entity *en = &entities[i];
    char node[CW_CAMERA_MAX + 16], uid[CW_CAMERA_MAX + 48], t[600], dev_name[CW_CAMERA_MAX + 16];
    snprintf(node, sizeof(node), "camwatch_%s", cfg->camera);
    snprintf(topic, topic_size, "%s/%s/%s/%s/config", MQTT_DISCOVERY_PREFIX, en->component, node,
             en->object);
    if (!payload)
        return 0;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -ENOMEM;
    snprintf(uid, sizeof(uid), "%s_%s", node, en->object);
    cJSON_AddStringToObject(root, "name", en->name);
    cJSON_AddStringToObject(root, "unique_id", uid);
    cJSON_AddStringToObject(root, "object_id", uid);
    snprintf(t, sizeof(t), "%s/%s", base, en->topic);
    cJSON_AddStringToObject(root, en->topic_key, t);
    if (en->value_template)
        cJSON_AddStringToObject(root, "value_template", en->value_template);
    if (en->device_class)
        cJSON_AddStringToObject(root, "device_class", en->device_class);
    if (en->unit)
        cJSON_AddStringToObject(root, "unit_of_measurement", en->unit);
    if (strcmp(en->component, "image") == 0)
        cJSON_AddStringToObject(root, "content_type", "image/jpeg");
    if (strcmp(en->component, "binary_sensor") == 0 || en->command) {
        cJSON_AddStringToObject(root, "payload_on", "ON");
        cJSON_AddStringToObject(root, "payload_off", "OFF");
    }
    if (en->command) {
        snprintf(t, sizeof(t), "%s/%s", base, en->command);
        cJSON_AddStringToObject(root, "command_topic", t);
        cJSON_AddStringToObject(root, "state_on", "ON");
        cJSON_AddStringToObject(root, "state_off", "OFF");
    }
    snprintf(t, sizeof(t), "%s/availability", base);
    cJSON_AddStringToObject(root, "availability_topic", t);
    cJSON_AddStringToObject(root, "payload_available", "online");
    cJSON_AddStringToObject(root, "payload_not_available", "offline");
    cJSON *dev = cJSON_AddObjectToObject(root, "device");
    cJSON *ids = cJSON_AddArrayToObject(dev, "identifiers");
    cJSON_AddItemToArray(ids, cJSON_CreateString(node));
    snprintf(dev_name, sizeof(dev_name), "camwatch %s", cfg->camera);
    cJSON_AddStringToObject(dev, "name", dev_name);
    cJSON_AddStringToObject(dev, "manufacturer", "camwatch");
    cJSON_AddStringToObject(dev, "model", "camwatch-mqtt");
    *payload = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *payload ? 0 : -ENOMEM;
}
