/*
 * Clips as they are delivered into VIDEO_DIR, learned from the folder alone
 * (inotify), never from record: record renames the .mp4 into its date
 * folder last, after its snapshot and sidecar, so a .mp4 moved in means
 * the three are there. Date folders created later are watched as they
 * appear.
 *
 * Errors: negative errno values.
 */
#ifndef CAMWATCH_MQTT_CLIPWATCH_H
#define CAMWATCH_MQTT_CLIPWATCH_H

#include <stddef.h>

typedef struct MqttClipWatch MqttClipWatch;

/*
 * Watch `video_dir` and its date folders of yesterday, today and later
 * (older ones receive no new clip). Returns 0 and sets *watch
 * (mqtt_clipwatch_free()), or a negative errno (logged).
 */
int mqtt_clipwatch_new(MqttClipWatch **watch, const char *video_dir);

void mqtt_clipwatch_free(MqttClipWatch **watch);

/*
 * The next clip delivered since the last call, without waiting: its path
 * ("VIDEO_DIR/DAY/NAME.mp4") in `path`. Returns 1 (a clip), 0 (none now) or
 * a negative errno.
 */
int mqtt_clipwatch_next(MqttClipWatch *watch, char *path, size_t size);

#endif /* CAMWATCH_MQTT_CLIPWATCH_H */
