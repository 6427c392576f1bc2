#include "link.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "outbox.h"
#include "ratelimit.h"

/* Keepalive: a broker that hears nothing for 1.5 times this sends our Will. */
#define KEEPALIVE_S 30
/* The first retry after a failure; doubled up to RETRY_SECONDS. */
#define FIRST_BACKOFF_NS (500 * CW_NS_PER_MSEC)
/* A broker that stays unreachable is told about again at most this often. */
#define DOWN_LOG_INTERVAL_NS (60 * CW_NS_PER_SEC)

enum LinkState { LINK_IDLE, LINK_CONNECTING, LINK_CONNECTED };

struct MqttLink {
    struct mosquitto *mosq;
    CwMqttUrl url;
    char client_id[128];
    char availability[512];
    char ca_file[PATH_MAX];
    MqttLinkHooks hooks;
    int64_t retry_ns;   /* RETRY_SECONDS */
    int64_t timeout_ns; /* TIMEOUT_SECONDS: a connect taking longer failed */
    enum LinkState state;
    int64_t next_attempt_ns; /* CLOCK_MONOTONIC; LINK_IDLE */
    int64_t attempt_ns;      /* when the current attempt began */
    int64_t backoff_ns;
    int64_t down_since_ns; /* 0 while connected or before the first attempt */
    bool ever_connected;
    bool refused;         /* the last CONNACK refused us */
    uint32_t failed;      /* attempts failed in this outage */
    CwRateLimit down_log; /* DOWN_LOG_INTERVAL_NS */
    MqttOutbox outbox;
    uint64_t dropped_total; /* outbox messages dropped since the start */
    int last_acked_mid;     /* of the newest PUBACK */
    bool forget_availability;
};

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    MqttLink *l = obj;
    if (rc != 0) {
        /* Refused: a wrong user or password, or a client id the broker bans.
         * Retrying soon would only repeat it: once per RETRY_SECONDS. */
        l->refused = true;
        cw_error("the MQTT broker %s:%d refused camwatch-mqtt: %s (check the user and password "
                 "of MQTT_URL); retrying in %g s",
                 l->url.host, l->url.port, mosquitto_connack_string(rc),
                 (double)l->retry_ns / CW_NS_PER_SEC);
        return;
    }
    int64_t now = cw_mono_ns();
    if (!l->ever_connected)
        cw_info("connected to the MQTT broker %s:%d%s as %s", l->url.host, l->url.port,
                l->url.tls ? " (TLS)" : "", l->client_id);
    else
        cw_info("connected to the MQTT broker %s:%d again after %.1f s", l->url.host, l->url.port,
                (double)(now - l->down_since_ns) / CW_NS_PER_SEC);
    l->state = LINK_CONNECTED;
    l->ever_connected = true;
    l->down_since_ns = 0;
    l->failed = 0;
    l->backoff_ns = FIRST_BACKOFF_NS;
    cw_ratelimit_reset(&l->down_log);
    mqtt_link_publish(l, l->availability, "online", 6, true);
    if (l->hooks.connected)
        l->hooks.connected(l, l->hooks.data);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    MqttLink *l = obj;
    l->last_acked_mid = mid;
    mqtt_outbox_acked(&l->outbox, mid);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    MqttLink *l = obj;
    if (l->hooks.message)
        l->hooks.message(msg->topic, msg->payload, (size_t)msg->payloadlen, l->hooks.data);
}

/* A fresh client for the next attempt, with every setting again. */
static int setup(MqttLink *l)
{
    int rc = mosquitto_reinitialise(l->mosq, l->client_id, true, l);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (rc == MOSQ_ERR_SUCCESS && (l->url.user[0] || l->url.has_password))
        rc = mosquitto_username_pw_set(l->mosq, l->url.user,
                                       l->url.has_password ? l->url.password : NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_will_set(l->mosq, l->availability, 7, "offline", 1, true);
    if (rc == MOSQ_ERR_SUCCESS && l->url.tls)
        rc = mosquitto_tls_set(l->mosq, l->ca_file[0] ? l->ca_file : NULL,
                               l->ca_file[0] ? NULL : "/etc/ssl/certs", NULL, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        cw_error("cannot set up the MQTT client: %s%s", mosquitto_strerror(rc),
                 l->url.tls ? " (is MQTT_CA_FILE a readable PEM file?)" : "");
        return rc == MOSQ_ERR_NOMEM ? -ENOMEM : -EINVAL;
    }
    mosquitto_connect_callback_set(l->mosq, on_connect);
    mosquitto_publish_callback_set(l->mosq, on_publish);
    mosquitto_message_callback_set(l->mosq, on_message);
    return 0;
}

int mqtt_link_new(MqttLink **link, const CwConfig *cfg, const CwMqttUrl *url, const char *client_id,
                  const char *availability_topic, const MqttLinkHooks *hooks)
{
    MqttLink *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->url = *url;
    snprintf(l->client_id, sizeof(l->client_id), "%s", client_id);
    snprintf(l->availability, sizeof(l->availability), "%s", availability_topic);
    snprintf(l->ca_file, sizeof(l->ca_file), "%s", cfg->mqtt_ca_file);
    l->hooks = *hooks;
    l->retry_ns = (int64_t)(cfg->retry_s * CW_NS_PER_SEC);
    l->timeout_ns = (int64_t)(cfg->timeout_s * CW_NS_PER_SEC);
    l->backoff_ns = FIRST_BACKOFF_NS;
    l->down_log = (CwRateLimit)CW_RATELIMIT_INIT(DOWN_LOG_INTERVAL_NS);
    mqtt_outbox_init(&l->outbox);
    mosquitto_lib_init();
    l->mosq = mosquitto_new(client_id, true, l);
    int ret = l->mosq ? setup(l) : -ENOMEM;
    if (ret < 0) {
        mqtt_link_free(&l);
        return ret;
    }
    *link = l;
    return 0;
}

void mqtt_link_free(MqttLink **link)
{
    MqttLink *l = *link;
    if (!l)
        return;
    if (l->mosq) {
        if (l->state == LINK_CONNECTED) {
            /* A clean disconnect suppresses the Will: say offline ourselves. */
            int mid = 0;
            mosquitto_publish(l->mosq, &mid, l->availability, l->forget_availability ? 0 : 7,
                              "offline", 1, true);
            /* At most 1 s: a stop must not wait on a slow broker. */
            for (int i = 0; i < 20 && mid && l->last_acked_mid != mid; i++)
                if (mosquitto_loop(l->mosq, 50, 1) != MOSQ_ERR_SUCCESS)
                    break;
            mosquitto_disconnect(l->mosq);
            mosquitto_loop(l->mosq, 50, 1);
        }
        mosquitto_destroy(l->mosq);
    }
    mosquitto_lib_cleanup();
    mqtt_outbox_clear(&l->outbox);
    free(l);
    *link = NULL;
}

/* The attempt failed or the connection was lost: schedule the next one. */
static void failed(MqttLink *l, int64_t now, const char *why)
{
    bool was_connected = l->state == LINK_CONNECTED;
    l->state = LINK_IDLE;
    mqtt_outbox_unsend(&l->outbox);
    if (!l->down_since_ns)
        l->down_since_ns = now;
    if (l->refused) {
        l->refused = false; /* logged by on_connect, once per attempt */
        l->next_attempt_ns = now + l->retry_ns;
        return;
    }
    l->failed++;
    int64_t delay = l->backoff_ns;
    l->backoff_ns = l->backoff_ns * 2 > l->retry_ns ? l->retry_ns : l->backoff_ns * 2;
    l->next_attempt_ns = now + delay;
    if (was_connected) {
        cw_warn("lost the MQTT broker %s:%d: %s; reconnecting (clips are not affected)",
                l->url.host, l->url.port, why);
        cw_ratelimit_reset(&l->down_log);
        cw_ratelimit_test(&l->down_log, now); /* the next line about it waits a while */
        return;
    }
    int64_t held = cw_ratelimit_test(&l->down_log, now);
    if (held >= 0)
        cw_warn("cannot reach the MQTT broker %s:%d: %s; %u attempt%s so far, retrying with "
                "backoff up to %g s (clips are not affected)",
                l->url.host, l->url.port, why, l->failed, l->failed == 1 ? "" : "s",
                (double)l->retry_ns / CW_NS_PER_SEC);
}

static const char *rc_text(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

bool mqtt_link_run(MqttLink *link, int timeout_ms)
{
    MqttLink *l = link;
    int64_t now = cw_mono_ns();
    if (l->state == LINK_IDLE && now >= l->next_attempt_ns) {
        int rc = setup(l) == 0
                     ? mosquitto_connect_async(l->mosq, l->url.host, l->url.port, KEEPALIVE_S)
                     : MOSQ_ERR_INVAL;
        if (rc != MOSQ_ERR_SUCCESS) {
            failed(l, now, rc_text(rc));
            return false;
        }
        l->state = LINK_CONNECTING;
        l->attempt_ns = now;
    }
    if (l->state == LINK_IDLE)
        return false;
    int rc = mosquitto_loop(l->mosq, timeout_ms, 1);
    now = cw_mono_ns();
    if (rc != MOSQ_ERR_SUCCESS) {
        failed(l, now, rc_text(rc));
        return true;
    }
    if (l->refused) {
        failed(l, now, "refused");
        return true;
    }
    if (l->state == LINK_CONNECTING && now - l->attempt_ns > l->timeout_ns) {
        failed(l, now, "no answer within TIMEOUT_SECONDS");
        return true;
    }
    if (l->state == LINK_CONNECTED) {
        /* Send what the outbox holds and was not sent on this connection. */
        for (int i = 0; i < mqtt_outbox_count(&l->outbox); i++) {
            MqttMessage *m = mqtt_outbox_at(&l->outbox, i);
            if (m->mid)
                continue;
            rc = mosquitto_publish(l->mosq, &m->mid, m->topic, (int)m->len, m->payload, 1,
                                   m->retain);
            if (rc != MOSQ_ERR_SUCCESS) {
                m->mid = 0;
                break;
            }
        }
    }
    return true;
}

bool mqtt_link_connected(const MqttLink *link)
{
    return link->state == LINK_CONNECTED;
}

int mqtt_link_publish(MqttLink *link, const char *topic, const void *payload, size_t len,
                      bool retain)
{
    if (link->state != LINK_CONNECTED)
        return -ENOTCONN;
    int rc = mosquitto_publish(link->mosq, NULL, topic, (int)len, payload, 1, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        cw_warn("cannot publish on %s: %s", topic, rc_text(rc));
        return -EIO;
    }
    return 0;
}

int mqtt_link_publish_durable(MqttLink *link, const char *topic, const void *payload, size_t len,
                              bool retain)
{
    int ret = mqtt_outbox_push(&link->outbox, topic, payload, len, retain);
    uint64_t dropped = mqtt_outbox_take_dropped(&link->outbox);
    if (dropped)
        cw_warn("the MQTT outbox is full (%d messages while the broker is away): dropped the "
                "oldest message (%llu dropped so far)",
                MQTT_OUTBOX_MAX, (unsigned long long)(link->dropped_total += dropped));
    return ret;
}

int mqtt_link_subscribe(MqttLink *link, const char *topic)
{
    int rc = mosquitto_subscribe(link->mosq, NULL, topic, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
        cw_warn("cannot subscribe to %s: %s", topic, rc_text(rc));
        return -EIO;
    }
    return 0;
}

int mqtt_link_pending(const MqttLink *link)
{
    return mqtt_outbox_count(&link->outbox);
}

void mqtt_link_forget_availability(MqttLink *link)
{
    link->forget_availability = true;
}
