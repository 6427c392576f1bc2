/*
 * Home Assistant MQTT discovery: the retained config messages under
 * homeassistant/<component>/camwatch_<camera>/<object>/config that make the
 * camera appear as one device with a motion binary_sensor, an image entity
 * fed by the snapshot topic, switches for detection and recording, and
 * sensors for the last clip's time and the free disk space. Every entity
 * follows the availability topic. An empty retained message on the same
 * topics removes them (camwatch-mqtt --forget).
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_MQTT_DISCOVERY_H
#define CAMWATCH_MQTT_DISCOVERY_H

#include <stddef.h>

#include "config.h"

/* Home Assistant's default discovery prefix. */
#define MQTT_DISCOVERY_PREFIX "homeassistant"

/* Number of entities (config topics). */
int mqtt_discovery_count(void);

/*
 * Entity `i` (0 to mqtt_discovery_count() - 1): its config topic into
 * `topic` and, unless `payload` is NULL, its config JSON into *payload (the
 * caller frees it). `base` is "PREFIX/CAMERA". Returns 0 or -ENOMEM.
 */
int mqtt_discovery_config(const CwConfig *cfg, const char *base, int i, char *topic,
                          size_t topic_size, char **payload);

#endif /* CAMWATCH_MQTT_DISCOVERY_H */
