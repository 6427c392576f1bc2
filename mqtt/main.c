/*
 * camwatch-mqtt: the camera in Home Assistant, over MQTT (MQTT_URL). Motion
 * ON the moment the events ring shows it and OFF when the event ends (the
 * rule record ends its clip by), each event's start, updates and end (the
 * end once its clip is delivered into VIDEO_DIR, with its paths), the
 * event's snapshot, the camera's state every 30 s and on change, Home
 * Assistant discovery, and control topics that pause detection and
 * recording (a flag in the events ring: rings.h).
 *
 * A reader outside the data path: whether the broker or this stage is up,
 * down or hung, no clip notices. It never writes a ring slot, learns about
 * clips from the folder only, and keeps the messages that must not be lost
 * (events) in a bounded outbox while the broker is away. The supervisor
 * starts it when MQTT_URL is set; it can also run by hand or in a container
 * of its own. `camwatch-mqtt --forget` removes the camera from Home
 * Assistant (its discovery configs and retained topics) and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clipwatch.h"
#include "clock.h"
#include "discovery.h"
#include "exitcode.h"
#include "link.h"
#include "log.h"
#include "messages.h"
#include "motionspan.h"
#include "mqtturl.h"
#include "polygon.h"
#include "ratelimit.h"
#include "rings.h"
#include "stage_start.h"
#include "tracker.h"

/* How long one turn waits on the broker's socket (or sleeps without one):
 * the most a motion frame waits before its ON is sent. */
#define TURN_MS 50
/* The state is looked at this often, and published when it changed. */
#define STATE_CHECK_NS (2 * CW_NS_PER_SEC)
/* ... and published at least this often. */
#define STATE_PERIOD_NS (30 * CW_NS_PER_SEC)
/* A snapshot larger than this is not published (brokers limit messages). */
#define SNAPSHOT_MAX_BYTES (8 * 1024 * 1024)
/* Control messages that are not ON or OFF are told about at most this often. */
#define BAD_COMMAND_LOG_NS (60 * CW_NS_PER_SEC)

enum Topic {
    T_AVAILABILITY,
    T_MOTION,
    T_EVENT,
    T_SNAPSHOT,
    T_STATE,
    T_DETECT_SET,
    T_RECORD_SET,
    T_COUNT
};
static const char *const topic_leaf[T_COUNT] = {
    "availability", "motion", "event", "snapshot", "state", "detect/set", "record/set"};

typedef struct Mqtt {
    CwConfig cfg;
    CwMqttUrl url;
    CwPolygonSet zones; /* MOTION_ZONES, for the zones' names */
    char base[512];     /* PREFIX/CAMERA */
    char topics[T_COUNT][600];
    CwRing *rings[CW_RING_KIND_COUNT];
    uint64_t next_seq; /* the events ring's slot read next (no reader entry: see drain_events) */
    MqttLink *link;
    MqttClipWatch *clips; /* NULL until VIDEO_DIR can be watched */
    int64_t next_watch_try_ns;
    MqttTracker tracker;
    bool motion;       /* as last published */
    uint8_t *snapshot; /* the last snapshot published, republished on reconnect */
    size_t snapshot_len;
    char *state_key; /* what changes of the state are published for */
    int64_t next_check_ns, next_state_ns;
    bool state_due;
    CwRateLimit bad_command_log;
} Mqtt;

static void usage(FILE *out)
{
    fprintf(out, "usage: camwatch-mqtt [--forget] [--help]\n"
                 "\n"
                 "Publishes the camera to the MQTT broker of MQTT_URL for Home Assistant:\n"
                 "PREFIX/CAMERA/availability, /motion, /event, /snapshot and /state, with Home\n"
                 "Assistant discovery, and takes /detect/set and /record/set (ON or OFF).\n"
                 "  --forget   remove the camera from Home Assistant (its discovery configs and\n"
                 "             retained messages) and exit\n"
                 "\n");
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Take --forget out of argv (the stage's common start refuses arguments). */
static bool take_forget(int *argc, char **argv)
{
    int kept = 1;
    bool forget = false;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--forget") == 0)
            forget = true;
        else
            argv[kept++] = argv[i];
    }
    *argc = kept;
    argv[kept] = NULL;
    return forget;
}

static void publish(Mqtt *m, enum Topic t, const void *payload, size_t len, bool retain)
{
    mqtt_link_publish(m->link, m->topics[t], payload, len, retain);
}

static void publish_motion(Mqtt *m)
{
    publish(m, T_MOTION, m->motion ? "ON" : "OFF", m->motion ? 2 : 3, true);
}

static void publish_discovery(Mqtt *m)
{
    char topic[600];
    for (int i = 0; i < mqtt_discovery_count(); i++) {
        char *payload = NULL;
        if (mqtt_discovery_config(&m->cfg, m->base, i, topic, sizeof(topic), &payload) == 0)
            mqtt_link_publish(m->link, topic, payload, strlen(payload), true);
        free(payload);
    }
}

/* Publish the state now if it is due or changed (or `force`). */
static void update_state(Mqtt *m, int64_t now, bool force)
{
    if (!force && !m->state_due && now < m->next_check_ns)
        return;
    m->next_check_ns = now + STATE_CHECK_NS;
    cJSON *state =
        mqtt_state_json(&m->cfg, m->rings, cw_rings_paused(m->rings[CW_RING_EVENTS]), m->motion);
    if (!state)
        return;
    char *text = cJSON_PrintUnformatted(state);
    /* Rates and free space move all the time: a change of the rest is news. */
    cJSON_DeleteItemFromObject(state, "fps_input");
    cJSON_DeleteItemFromObject(state, "fps_analysed");
    cJSON_DeleteItemFromObject(state, "disk_free_bytes");
    cJSON_DeleteItemFromObject(state, "disk_free_percent");
    char *key = cJSON_PrintUnformatted(state);
    cJSON_Delete(state);
    bool changed = key && (!m->state_key || strcmp(key, m->state_key) != 0);
    if (text && key && (force || m->state_due || changed || now >= m->next_state_ns) &&
        mqtt_link_connected(m->link)) {
        publish(m, T_STATE, text, strlen(text), true);
        m->next_state_ns = now + STATE_PERIOD_NS;
        m->state_due = false;
        free(m->state_key);
        m->state_key = key; /* ownership passes to m */
        key = NULL;
    }
    free(key);
    free(text);
}

static void on_connected(MqttLink *link, void *data)
{
    Mqtt *m = data;
    mqtt_link_subscribe(link, m->topics[T_DETECT_SET]);
    mqtt_link_subscribe(link, m->topics[T_RECORD_SET]);
    publish_discovery(m);
    publish_motion(m);
    if (m->snapshot)
        publish(m, T_SNAPSHOT, m->snapshot, m->snapshot_len, true);
    update_state(m, cw_mono_ns(), true);
}

static void on_message(const char *topic, const void *payload, size_t len, void *data)
{
    Mqtt *m = data;
    uint32_t what = strcmp(topic, m->topics[T_DETECT_SET]) == 0   ? CW_PAUSE_DETECT
                    : strcmp(topic, m->topics[T_RECORD_SET]) == 0 ? CW_PAUSE_RECORD
                                                                  : 0;
    if (!what)
        return;
    bool on = len == 2 && strncasecmp(payload, "ON", 2) == 0;
    bool off = len == 3 && strncasecmp(payload, "OFF", 3) == 0;
    if (!on && !off) {
        if (cw_ratelimit_test(&m->bad_command_log, cw_mono_ns()) >= 0)
            cw_warn("ignored a message on %s: \"%.*s\" is not accepted: send ON or OFF", topic,
                    (int)(len < 40 ? len : 40), (const char *)payload);
        return;
    }
    bool was_paused = cw_rings_paused(m->rings[CW_RING_EVENTS]) & what;
    cw_rings_set_paused(m->rings[CW_RING_EVENTS], what, off);
    if (was_paused != off)
        cw_info("%s %s (%s)", what == CW_PAUSE_DETECT ? "detection" : "recording",
                off ? "paused" : "resumed", topic);
    m->state_due = true;
}

/* Read the event's snapshot file and publish it, retained; kept for reconnects. */
static void publish_snapshot(Mqtt *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || st.st_size <= 0 || st.st_size > SNAPSHOT_MAX_BYTES) {
        cw_warn("cannot publish the snapshot %s: %s", path,
                !f ? strerror(errno) : "empty or too large");
        if (f)
            fclose(f);
        return;
    }
    uint8_t *data = malloc((size_t)st.st_size);
    if (data && fread(data, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        free(m->snapshot);
        m->snapshot = data; /* ownership passes to m */
        m->snapshot_len = (size_t)st.st_size;
        data = NULL;
        publish(m, T_SNAPSHOT, m->snapshot, m->snapshot_len, true);
    }
    free(data);
    fclose(f);
}

static void emit(const MqttEvent *e, enum MqttEventType type, void *data)
{
    Mqtt *m = data;
    if (type == MQTT_EVENT_START) {
        m->motion = true;
        publish_motion(m);
        m->state_due = true;
    }
    if (type == MQTT_EVENT_END && e->clip[0] && e->snapshot[0])
        publish_snapshot(m, e->snapshot);
    char *json =
        mqtt_event_json(&m->cfg, &m->zones, e, type, e->off_ns ? e->off_ns : e->last_motion_ns);
    if (json) {
        mqtt_link_publish_durable(m->link, m->topics[T_EVENT], json, strlen(json), false);
        char id[CW_CAMERA_MAX + 48];
        mqtt_event_id(&m->cfg, e, id, sizeof(id));
        if (type != MQTT_EVENT_UPDATE)
            cw_info("event %s %s%s%s", id, type == MQTT_EVENT_START ? "started" : "ended",
                    type == MQTT_EVENT_END && e->clip[0] ? ": " : "",
                    type == MQTT_EVENT_END ? (e->clip[0] ? e->clip : " (no clip)") : "");
    }
    free(json);
}

/*
 * Every event published since the last call, by sequence number. No reader
 * entry is taken (as camwatch-http takes none): a camwatch-mqtt started by
 * hand beside the supervisor's must not take over the other's entry, and
 * the 8 entries are kept for the data path. A turn is 50 ms and the ring
 * holds seconds of events, so falling behind means a stall: then the
 * oldest intact events are skipped to.
 */
static void drain_events(Mqtt *m)
{
    CwRing *ring = m->rings[CW_RING_EVENTS];
    CwRingView view;
    CwEvent ev;
    uint64_t head = cw_ring_write_seq(ring), slots = cw_ring_slot_count(ring);
    if (head - m->next_seq > slots / 2)
        m->next_seq = head - slots / 2;
    for (; m->next_seq < head; m->next_seq++) {
        if (cw_ring_peek(ring, m->next_seq, &view) < 0 || view.len < offsetof(CwEvent, boxes))
            continue; /* gone, or not an event */
        memset(&ev, 0, sizeof(ev));
        memcpy(&ev, view.data, view.len < sizeof(ev) ? view.len : sizeof(ev));
        if (!cw_ring_view_intact(ring, &view))
            continue; /* overwritten while read */
        size_t room = (view.len - offsetof(CwEvent, boxes)) / sizeof(CwBox);
        if (ev.box_count > room)
            ev.box_count = (uint16_t)room;
        bool record_paused = cw_rings_paused(m->rings[CW_RING_EVENTS]) & CW_PAUSE_RECORD;
        mqtt_tracker_on_event(&m->tracker, &ev, record_paused, cw_stamp_now(), emit, m);
    }
}

static void drain_clips(Mqtt *m, int64_t now_mono)
{
    if (!m->clips) {
        if (now_mono < m->next_watch_try_ns)
            return;
        m->next_watch_try_ns = now_mono + (int64_t)(m->cfg.retry_s * CW_NS_PER_SEC);
        if (mqtt_clipwatch_new(&m->clips, m->cfg.video_dir) < 0)
            return; /* logged; VIDEO_DIR may not exist yet */
    }
    char path[PATH_MAX];
    while (mqtt_clipwatch_next(m->clips, path, sizeof(path)) == 1) {
        size_t n = strlen(path);
        char sidecar[PATH_MAX + 8], snapshot[PATH_MAX + 8], camera[CW_CAMERA_MAX + 1];
        snprintf(sidecar, sizeof(sidecar), "%.*s.json", (int)(n - 4), path);
        snprintf(snapshot, sizeof(snapshot), "%.*s.jpg", (int)(n - 4), path);
        int64_t motion_start;
        bool final;
        if (mqtt_sidecar_read(sidecar, camera, sizeof(camera), &motion_start, &final) < 0 ||
            strcmp(camera, m->cfg.camera) != 0)
            continue; /* another camera's clip, or one without a sidecar */
        m->state_due = true;
        if (!mqtt_tracker_on_clip(&m->tracker, motion_start, final, path,
                                  access(snapshot, R_OK) == 0 ? snapshot : NULL, sidecar,
                                  cw_stamp_now(), emit, m))
            cw_debug("clip %s belongs to no event told here", path);
    }
}

static void make_topics(Mqtt *m)
{
    snprintf(m->base, sizeof(m->base), "%s/%s", m->cfg.mqtt_topic_prefix, m->cfg.camera);
    for (int t = 0; t < T_COUNT; t++)
        snprintf(m->topics[t], sizeof(m->topics[t]), "%s/%s", m->base, topic_leaf[t]);
}

/* --forget: empty retained messages on every discovery config and retained topic. */
static int forget(Mqtt *m)
{
    char topic[600];
    int64_t deadline = cw_mono_ns() + (int64_t)(m->cfg.timeout_s * CW_NS_PER_SEC);
    while (!cw_stop_requested && !mqtt_link_connected(m->link) && cw_mono_ns() < deadline)
        if (!mqtt_link_run(m->link, TURN_MS))
            sleep_ms(TURN_MS);
    if (!mqtt_link_connected(m->link)) {
        cw_error("--forget: no connection to the MQTT broker within TIMEOUT_SECONDS=%g: nothing "
                 "was removed",
                 m->cfg.timeout_s);
        return CW_EXIT_TEMPFAIL;
    }
    for (int i = 0; i < mqtt_discovery_count(); i++) {
        mqtt_discovery_config(&m->cfg, m->base, i, topic, sizeof(topic), NULL);
        mqtt_link_publish_durable(m->link, topic, "", 0, true);
    }
    static const enum Topic retained[] = {T_MOTION, T_SNAPSHOT, T_STATE};
    for (size_t i = 0; i < sizeof(retained) / sizeof(retained[0]); i++)
        mqtt_link_publish_durable(m->link, m->topics[retained[i]], "", 0, true);
    while (mqtt_link_pending(m->link) && cw_mono_ns() < deadline && mqtt_link_connected(m->link))
        mqtt_link_run(m->link, TURN_MS);
    if (mqtt_link_pending(m->link)) {
        cw_error("--forget: the broker did not confirm every removal within TIMEOUT_SECONDS=%g",
                 m->cfg.timeout_s);
        return CW_EXIT_TEMPFAIL;
    }
    mqtt_link_forget_availability(m->link);
    cw_info("removed camera %s from Home Assistant (%d discovery configs and its retained "
            "topics under %s)",
            m->cfg.camera, mqtt_discovery_count(), m->base);
    return CW_EXIT_OK;
}

int main(int argc, char **argv)
{
    static Mqtt m; /* large: paths */
    char err[512], client_id[CW_CAMERA_MAX + 32];
    int code = CW_EXIT_OK;
    bool forgetting = take_forget(&argc, argv);

    m.bad_command_log = (CwRateLimit)CW_RATELIMIT_INIT(BAD_COMMAND_LOG_NS);
    if (cw_stage_start("camwatch-mqtt", usage, argc, argv, &m.cfg, &code) < 0)
        return code;
    const char *problem = "";
    if (!m.cfg.mqtt_url[0] || cw_mqtt_url_parse(m.cfg.mqtt_url, &m.url, &problem) < 0) {
        cw_crit("MQTT_URL is not set: camwatch-mqtt has no broker to publish to (set it to "
                "mqtt://HOST:1883, with USER:PASSWORD@ before the host if the broker asks)");
        return CW_EXIT_CONFIG;
    }
    if (m.cfg.mqtt_ca_file[0] && access(m.cfg.mqtt_ca_file, R_OK) < 0) {
        cw_crit("MQTT_CA_FILE=\"%s\" cannot be read: %s (name a PEM file of the CA that signed "
                "the broker's certificate, or unset it to use the system's)",
                m.cfg.mqtt_ca_file, strerror(errno));
        return CW_EXIT_CONFIG;
    }
    if (cw_polygons_parse("MOTION_ZONES", m.cfg.motion_zones, true, &m.zones, err, sizeof(err)) <
        0) {
        cw_crit("%s", err);
        return CW_EXIT_CONFIG;
    }
    make_topics(&m);
    /* One client id per camera (and another for --forget, which must not
     * throw a running stage off the broker). */
    snprintf(client_id, sizeof(client_id), "camwatch-%s%s", m.cfg.camera,
             forgetting ? "-forget" : "");
    const MqttLinkHooks hooks = {
        .connected = forgetting ? NULL : on_connected, .message = on_message, .data = &m};
    int ret = mqtt_link_new(&m.link, &m.cfg, &m.url, client_id, m.topics[T_AVAILABILITY], &hooks);
    if (ret < 0)
        return ret == -ENOMEM ? CW_EXIT_SOFTWARE : CW_EXIT_CONFIG; /* logged */
    if (forgetting) {
        code = forget(&m);
        goto end;
    }

    const CwRingUse uses[] = {
        {.kind = CW_RING_PACKETS, .ring = &m.rings[CW_RING_PACKETS]},
        {.kind = CW_RING_FRAMES, .ring = &m.rings[CW_RING_FRAMES]},
        {.kind = CW_RING_EVENTS, .ring = &m.rings[CW_RING_EVENTS]},
    };
    if (cw_rings_open_all(&m.cfg, uses, CW_RING_KIND_COUNT, &code) < 0)
        goto end; /* logged */
    mqtt_tracker_init(&m.tracker, (int64_t)(m.cfg.post_capture_s * CW_NS_PER_SEC),
                      CW_MOTION_DETECT_GRACE_NS);
    m.next_seq = cw_ring_write_seq(m.rings[CW_RING_EVENTS]); /* from now on */
    cw_info("publishing camera %s to %s under %s/", m.cfg.camera, m.cfg.mqtt_url, m.base);

    while (!cw_stop_requested) {
        cw_rings_heartbeat(m.rings[CW_RING_EVENTS], CW_STAGE_MQTT);
        if (!mqtt_link_run(m.link, TURN_MS))
            sleep_ms(TURN_MS);
        drain_events(&m);
        int64_t now = cw_mono_ns();
        drain_clips(&m, now);
        bool motion = mqtt_tracker_motion(&m.tracker);
        mqtt_tracker_on_tick(&m.tracker, cw_stamp_now(), emit, &m);
        if (motion && !mqtt_tracker_motion(&m.tracker)) {
            m.motion = false;
            publish_motion(&m);
            m.state_due = true;
        }
        update_state(&m, now, false);
    }
    cw_info("stopping on request");
    for (int kind = 0; kind < CW_RING_KIND_COUNT; kind++)
        cw_ring_close(&m.rings[kind]);
end:
    mqtt_link_free(&m.link);
    mqtt_clipwatch_free(&m.clips);
    free(m.snapshot);
    free(m.state_key);
    return code;
}
