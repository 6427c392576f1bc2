/* camwatch-mqtt's pure parts: the event tracker rule by rule (mqtt/tracker.c's
 * table), the outbox's bound, and MQTT_URL's parser. */
#include "check.h"

#include "../../common/mqtturl.h"
#include "../../mqtt/outbox.h"
#include "../../mqtt/tracker.h"

#include <errno.h>

#define S(x) ((int64_t)((x)*1e9))
/* Wall and monotonic clocks far apart, so that a mixed-up clock shows. */
#define WALL0 S(1795700000)
#define MONO0 S(5000)

/* How far the wall clock was stepped (NTP) at the stamps made from now on. */
static int64_t wall_step_ns;

/* Both clocks at t s after WALL0 / MONO0 (the wall clock stepped by wall_step_ns). */
static CwStamp at_s(double t)
{
    return (CwStamp){.wall_ns = WALL0 + S(t) + wall_step_ns, .mono_ns = MONO0 + S(t)};
}

/* What the tracker asked to publish, in order: "S", "U", "E" (E+ with a clip). */
static char said[64];
static void emit(const MqttEvent *e, enum MqttEventType type, void *data)
{
    (void)data;
    strcat(said, type == MQTT_EVENT_START ? "S" : type == MQTT_EVENT_UPDATE ? "U" : "E");
    if (type == MQTT_EVENT_END && e->clip[0])
        strcat(said, "+");
}

static void event(MqttTracker *t, bool motion, double at, float percent, bool record_paused)
{
    CwEvent ev = {.wall_ns = at_s(at).wall_ns,
                  .mono_ns = at_s(at).mono_ns,
                  .motion = motion,
                  .changed_percent = percent,
                  .box_count = motion ? 1 : 0};
    mqtt_tracker_on_event(t, &ev, record_paused, at_s(at), emit, NULL);
}

static void tick(MqttTracker *t, double at)
{
    mqtt_tracker_on_tick(t, at_s(at), emit, NULL);
}

/* POST 2 s: ON at the first motion frame, OFF once post-capture is over. */
static MqttTracker tracker(void)
{
    MqttTracker t;
    mqtt_tracker_init(&t, S(2), S(2));
    said[0] = '\0';
    return t;
}

static void test_on_at_first_motion_off_after_post(void)
{
    MqttTracker t = tracker();
    event(&t, false, 0, 0, false);
    CHECK(!mqtt_tracker_motion(&t) && !said[0]);
    event(&t, true, 1, 1, false);
    CHECK(mqtt_tracker_motion(&t));
    CHECK(strcmp(said, "S") == 0);
    event(&t, true, 2, 1, false);
    event(&t, false, 3.9, 0, false);
    tick(&t, 3.95); /* 1.95 s after the last motion */
    CHECK(mqtt_tracker_motion(&t));
    event(&t, false, 4.1, 0, false); /* the events are past 2 + POST */
    tick(&t, 4.1);
    CHECK(!mqtt_tracker_motion(&t));
}

static void test_off_without_events_after_grace(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, false);
    tick(&t, 4.9); /* deadline 3 s, grace 2 s more: not yet */
    CHECK(mqtt_tracker_motion(&t));
    tick(&t, 5.1);
    CHECK(!mqtt_tracker_motion(&t));
}

static void test_update_when_peak_grows_once_a_second(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, false);
    event(&t, true, 1.2, 2, false); /* a larger peak */
    tick(&t, 1.5);                  /* under a second since the start */
    CHECK(strcmp(said, "S") == 0);
    tick(&t, 2.1);
    CHECK(strcmp(said, "SU") == 0);
    event(&t, true, 2.2, 1.5, false); /* smaller: no news */
    tick(&t, 3.5);
    CHECK(strcmp(said, "SU") == 0);
}

static void test_end_waits_for_the_final_clip(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, false);
    tick(&t, 5.5); /* OFF */
    CHECK(strcmp(said, "S") == 0);
    /* A clip cut at max length is not the event's last. */
    CHECK(mqtt_tracker_on_clip(&t, WALL0 + S(1), false, "/v/a.mp4", "/v/a.jpg", "/v/a.json",
                               at_s(5.6), emit, NULL));
    CHECK(strcmp(said, "S") == 0);
    /* Its continuation began in the post-capture time: the same event's. */
    CHECK(mqtt_tracker_on_clip(&t, WALL0 + S(2.5), true, "/v/b.mp4", "/v/b.jpg", "/v/b.json",
                               at_s(5.7), emit, NULL));
    CHECK(strcmp(said, "SE+") == 0);
    CHECK(strcmp(t.current.clip, "/v/b.mp4") == 0);
}

static void test_clip_before_off_ends_at_off(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, false);
    CHECK(mqtt_tracker_on_clip(&t, WALL0 + S(1), true, "/v/a.mp4", NULL, "/v/a.json", at_s(3.1),
                               emit, NULL));
    CHECK(strcmp(said, "S") == 0);
    tick(&t, 5.1);
    CHECK(strcmp(said, "SE+") == 0);
}

static void test_other_clips_are_not_the_events(void)
{
    MqttTracker t = tracker();
    event(&t, true, 10, 1, false);
    CHECK(!mqtt_tracker_on_clip(&t, WALL0 + S(5), true, "/v/old.mp4", NULL, "/v/old.json",
                                at_s(10.5), emit, NULL));
    CHECK(strcmp(said, "S") == 0);
}

static void test_no_clip_expected_or_none_came(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, true); /* recording paused: no clip will come */
    tick(&t, 5.1);
    CHECK(strcmp(said, "SE") == 0);

    t = tracker();
    event(&t, true, 1, 1, false);
    tick(&t, 5.1);
    tick(&t, 5.1 + 29);
    CHECK(strcmp(said, "S") == 0);
    tick(&t, 5.2 + 30); /* CLIP_WAIT over */
    CHECK(strcmp(said, "SE") == 0);
}

static void test_new_event_while_the_last_waits(void)
{
    MqttTracker t = tracker();
    event(&t, true, 1, 1, false);
    tick(&t, 5.1);                  /* OFF, waiting for its clip */
    event(&t, true, 5.2, 1, false); /* a new event */
    CHECK(strcmp(said, "SS") == 0);
    CHECK(t.closing.open && t.current.open);
    CHECK(mqtt_tracker_on_clip(&t, WALL0 + S(1), true, "/v/a.mp4", NULL, "/v/a.json", at_s(5.3),
                               emit, NULL));
    CHECK(strcmp(said, "SSE+") == 0);
    CHECK(!t.closing.open && t.current.active);
}

/*
 * The wall clock steps (NTP) while motion is ON, forward or back: motion
 * goes OFF at its last motion + POST by the monotonic clock, as record's
 * clip ends, neither at the step nor an hour later; the event's times
 * told are the wall clock's.
 */
static void test_wall_clock_step(void)
{
    static const int64_t steps[] = {3600 * S(1), -3600 * S(1)};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        MqttTracker t = tracker();
        wall_step_ns = 0;
        event(&t, true, 1, 1, false);
        event(&t, true, 2, 1, false); /* motion until 2 s: OFF after 4 s */
        wall_step_ns = steps[i];
        event(&t, false, 2.5, 0, false);
        tick(&t, 2.5);
        CHECK(mqtt_tracker_motion(&t)); /* not cut short by a forward step */
        event(&t, false, 3.9, 0, false);
        tick(&t, 3.9);
        CHECK(mqtt_tracker_motion(&t));
        event(&t, false, 4.1, 0, false);
        tick(&t, 4.1);
        CHECK(!mqtt_tracker_motion(&t)); /* not held ON by a backward step */
        CHECK_EQ_U64(t.current.start_ns, WALL0 + S(1));
        CHECK_EQ_U64(t.current.off_ns, WALL0 + S(4.1) + steps[i]);
        /* Its clip, named by the wall clock before the step, still ends it. */
        CHECK(mqtt_tracker_on_clip(&t, WALL0 + S(1), true, "/v/a.mp4", NULL, "/v/a.json", at_s(4.2),
                                   emit, NULL));
        CHECK(strcmp(said, "SE+") == 0);
    }
    wall_step_ns = 0;
}

static void test_outbox_drops_the_oldest(void)
{
    MqttOutbox box;
    char topic[16];
    mqtt_outbox_init(&box);
    for (int i = 0; i < MQTT_OUTBOX_MAX + 3; i++) {
        snprintf(topic, sizeof(topic), "t/%d", i);
        CHECK(mqtt_outbox_push(&box, topic, "x", 1, false) == 0);
    }
    CHECK(mqtt_outbox_count(&box) == MQTT_OUTBOX_MAX);
    CHECK_EQ_U64(mqtt_outbox_take_dropped(&box), 3);
    CHECK(strcmp(mqtt_outbox_at(&box, 0)->topic, "t/3") == 0);
    /* Acknowledged in any order; the rest keeps its order. */
    mqtt_outbox_at(&box, 1)->mid = 42;
    CHECK(mqtt_outbox_acked(&box, 42));
    CHECK(!mqtt_outbox_acked(&box, 42));
    CHECK(strcmp(mqtt_outbox_at(&box, 0)->topic, "t/3") == 0);
    CHECK(strcmp(mqtt_outbox_at(&box, 1)->topic, "t/5") == 0);
    mqtt_outbox_at(&box, 0)->mid = 7;
    mqtt_outbox_unsend(&box);
    CHECK(mqtt_outbox_at(&box, 0)->mid == 0);
    mqtt_outbox_clear(&box);
    CHECK(mqtt_outbox_count(&box) == 0);
}

static void test_mqtt_url(void)
{
    CwMqttUrl u;
    const char *why = NULL;
    CHECK(cw_mqtt_url_parse("mqtt://cam:p%40ss@broker.lan:1884", &u, &why) == 0);
    CHECK(!u.tls && u.port == 1884 && u.has_password);
    CHECK(strcmp(u.host, "broker.lan") == 0 && strcmp(u.user, "cam") == 0);
    CHECK(strcmp(u.password, "p@ss") == 0);
    CHECK(cw_mqtt_url_parse("mqtts://[::1]", &u, &why) == 0);
    CHECK(u.tls && u.port == 8883 && strcmp(u.host, "::1") == 0 && !u.has_password);
    /* The user information runs to the last '@'. */
    CHECK(cw_mqtt_url_parse("mqtt://u:a@b@h/", &u, &why) == 0);
    CHECK(strcmp(u.password, "a@b") == 0 && strcmp(u.host, "h") == 0 && u.port == 1883);
    CHECK(cw_mqtt_url_parse("http://h", &u, &why) == -EINVAL);
    CHECK_STR_CONTAINS(why, "scheme");
    CHECK(cw_mqtt_url_parse("mqtt://h:0", &u, &why) == -EINVAL);
    CHECK_STR_CONTAINS(why, "port");
    CHECK(cw_mqtt_url_parse("mqtt://h:70000", &u, &why) == -EINVAL);
    CHECK(cw_mqtt_url_parse("mqtt://:1883", &u, &why) == -EINVAL);
    CHECK_STR_CONTAINS(why, "no host");
    CHECK(cw_mqtt_url_parse("mqtt://h/topic", &u, &why) == -EINVAL);
    CHECK_STR_CONTAINS(why, "path");
}

int main(void)
{
    RUN(test_on_at_first_motion_off_after_post);
    RUN(test_off_without_events_after_grace);
    RUN(test_update_when_peak_grows_once_a_second);
    RUN(test_end_waits_for_the_final_clip);
    RUN(test_clip_before_off_ends_at_off);
    RUN(test_other_clips_are_not_the_events);
    RUN(test_no_clip_expected_or_none_came);
    RUN(test_new_event_while_the_last_waits);
    RUN(test_wall_clock_step);
    RUN(test_outbox_drops_the_oldest);
    RUN(test_mqtt_url);
    return 0;
}
