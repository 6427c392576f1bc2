/*
 * The JSON camwatch-mqtt publishes (cJSON), and the one it reads: a clip's
 * sidecar (record/sidecar.h's contract).
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_MQTT_MESSAGES_H
#define CAMWATCH_MQTT_MESSAGES_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "polygon.h"
#include "rings.h"
#include "tracker.h"

/*
 * The event message: {"type": "start"|"update"|"end", "id", "camera",
 * "start", "end" (ISO local; end null before the end), "boxes" ([[x, y, w,
 * h], ...] of the peak frame), "width", "height" (the frame the boxes refer
 * to), "zones" (names from MOTION_ZONES), "peak_changed_percent", "clip",
 * "snapshot", "sidecar" (absolute paths; null until the clip is delivered),
 * "url" (the clip at camwatch-http when HTTP_LISTEN is set, else null)}.
 * `end_ns` is the event's end (its last motion; 0 before the end). Returns
 * a string the caller frees (free()), or NULL when out of memory.
 */
char *mqtt_event_json(const CwConfig *cfg, const CwPolygonSet *zones, const MqttEvent *e,
                      enum MqttEventType type, int64_t end_ns);

/* The event's id: "<camera>-<YYYYmmdd-HHMMSS>" of its start, as record names its clip. */
void mqtt_event_id(const CwConfig *cfg, const MqttEvent *e, char *buf, size_t size);

/*
 * The state message from the camera's status (status.h): {"camera",
 * "online", "motion", "detect", "record" ("ON"/"OFF"), "fps_input",
 * "fps_analysed" (null when silent), "clips_today", "last_clip" (ISO local
 * time it was delivered, or null), "disk_free_bytes", "disk_free_percent"}.
 * `rings` as cw_status_json() takes them. Returns an object the caller owns
 * (cJSON_Delete()), or NULL when out of memory.
 */
cJSON *mqtt_state_json(const CwConfig *cfg, CwRing *const rings[CW_RING_KIND_COUNT],
                       uint32_t paused, bool motion);

/*
 * Read the sidecar at `path`: its "camera", the instant of "motion_start"
 * (ns) and whether the clip is its event's last (its "cut_short" is not
 * "max_length"). Returns 0, -ENOENT, -EINVAL (not a sidecar), or -ENOMEM.
 */
int mqtt_sidecar_read(const char *path, char *camera, size_t camera_size, int64_t *motion_start_ns,
                      bool *final);

#endif /* CAMWATCH_MQTT_MESSAGES_H */
