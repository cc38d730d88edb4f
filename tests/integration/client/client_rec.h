/* Shared by the client integration tests (test_client_mosquitto.c, test_client_reliability.c):
 * the event recorder (counters, the last error, sequence numbers of pattern payloads), the
 * payload pattern, and waits with a deadline. Header-only: each test program has one recorder
 * type and its own clients. Needs cmocka, harness.h and mqtls/mqtls.h included before. */
#ifndef MQTLS_TEST_CLIENT_REC_H
#define MQTLS_TEST_CLIENT_REC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "mqtls/mqtls.h"

#define MAX_SEQ 10000

/* --- recorder --------------------------------------------------------------------------- */

typedef struct rec {
    int connected, disconnected, errors, published, subscribed, unsubscribed, messages;
    int disconnected_not_ok; /* DISCONNECTED events whose status is not MQTLS_OK */
    bool session_present;
    mqtls_error_t last_error; /* of the last MQTLS_EVENT_ERROR */
    mqtls_error_t last_why;   /* of the last MQTLS_EVENT_DISCONNECTED */
    char finding_ids[512];    /* ids of the findings on the last error event, space separated */
    uint16_t seen[MAX_SEQ];   /* per sequence number: how many times received */
    int dups;
    int distinct; /* sequence numbers seen at least once */
    int bad_payloads;
    uint8_t last_qos;
    bool last_retain;
    size_t last_len;
    char last_topic[128];
    uint8_t last_granted;
    char last_content_type[32];
    char last_user_prop[64]; /* "key=value" of the first user property */
} rec_t;

static inline void fill_pattern(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seq * 31u + i * 7u);
    }
    if (len >= 4) {
        p[0] = (uint8_t)(seq >> 24);
        p[1] = (uint8_t)(seq >> 16);
        p[2] = (uint8_t)(seq >> 8);
        p[3] = (uint8_t)seq;
    }
}

static inline void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    rec_t *r = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        r->connected++;
        r->session_present = ev->u.connected.session_present;
        break;
    case MQTLS_EVENT_DISCONNECTED:
        r->disconnected++;
        r->last_why = ev->u.disconnected.why;
        if (ev->u.disconnected.why.status != MQTLS_OK) {
            r->disconnected_not_ok++;
        }
        break;
    case MQTLS_EVENT_ERROR:
        r->errors++;
        r->last_error = ev->u.error.err;
        r->finding_ids[0] = '\0';
        if (ev->u.error.findings != NULL) {
            size_t off = 0;
            for (size_t i = 0; i < mqtls_findings_count(ev->u.error.findings); i++) {
                int n = snprintf(r->finding_ids + off, sizeof r->finding_ids - off, "%s ",
                                 mqtls_finding_id(mqtls_findings_get(ev->u.error.findings, i)));
                if (n < 0 || (size_t)n >= sizeof r->finding_ids - off) {
                    break;
                }
                off += (size_t)n;
            }
        }
        break;
    case MQTLS_EVENT_PUBLISHED:
        r->published++;
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        r->subscribed++;
        r->last_granted =
            ev->u.subscribed.reasons.len > 0 ? ev->u.subscribed.reasons.data[0] : 0xFF;
        break;
    case MQTLS_EVENT_UNSUBSCRIBED:
        r->unsubscribed++;
        break;
    case MQTLS_EVENT_MESSAGE: {
        r->messages++;
        r->last_qos = ev->u.message.qos;
        r->last_retain = ev->u.message.retain;
        r->last_len = ev->u.message.payload.len;
        size_t n = ev->u.message.topic.len < sizeof r->last_topic - 1u ? ev->u.message.topic.len
                                                                       : sizeof r->last_topic - 1u;
        memcpy(r->last_topic, ev->u.message.topic.data, n);
        r->last_topic[n] = '\0';
        mqtls_property_t pr;
        r->last_content_type[0] = '\0';
        r->last_user_prop[0] = '\0';
        if (mqtls_props_find(&ev->u.message.props, MQTLS_PROP_CONTENT_TYPE, &pr)) {
            (void)snprintf(r->last_content_type, sizeof r->last_content_type, "%.*s",
                           (int)pr.v.bin.len, (const char *)pr.v.bin.data);
        }
        if (mqtls_props_find(&ev->u.message.props, MQTLS_PROP_USER_PROPERTY, &pr)) {
            (void)snprintf(r->last_user_prop, sizeof r->last_user_prop, "%.*s=%.*s",
                           (int)pr.v.pair.key.len, (const char *)pr.v.pair.key.data,
                           (int)pr.v.pair.value.len, (const char *)pr.v.pair.value.data);
        }
        const uint8_t *p = ev->u.message.payload.data;
        size_t len = ev->u.message.payload.len;
        if (len >= 4) {
            uint32_t seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            for (size_t i = 4; i < len; i++) {
                if (p[i] != (uint8_t)(seq * 31u + i * 7u)) {
                    r->bad_payloads++;
                    break;
                }
            }
            if (seq < MAX_SEQ) {
                if (r->seen[seq] > 0) {
                    r->dups++;
                } else {
                    r->distinct++;
                }
                r->seen[seq]++;
            }
        }
        break;
    }
    default:
        break;
    }
}

/* The configuration every test client starts from (the caller sets the URI and TLS): fast
 * reconnects, an outbox with room for bursts, this recorder. */
static inline void base_cfg(mqtls_client_cfg_t *cfg, rec_t *r, mqtls_version_t v, const char *id,
                            bool clean)
{
    mqtls_client_cfg_init(cfg);
    cfg->client_id = id;
    cfg->version = v;
    cfg->clean_start = clean;
    if (!clean && v == MQTLS_V5) {
        cfg->session_expiry_s = 3600;
    }
    cfg->connect_timeout_ms = 5000;
    cfg->reconnect.min_ms = 50;
    cfg->reconnect.max_ms = 500;
    cfg->on_event = on_event;
    cfg->event_ctx = r;
    cfg->outbox_max_bytes = 8u * 1024u * 1024u;
    cfg->outbox_max_messages = 4096;
}

/* Publish from any thread; the outbox is bounded: back off briefly (5 s at most) while full. */
static inline mqtls_status_t publish_patiently(mqtls_client_t *c, const char *topic,
                                               const uint8_t *payload, size_t len, uint8_t qos)
{
    mqtls_publish_opts_t o = {.qos = qos};
    mqtls_status_t st;
    int tries = 0;
    while ((st = mqtls_client_publish(c, topic, payload, len, &o, NULL)) == MQTLS_ERR_OUTBOX_FULL &&
           tries++ < 5000) {
        struct timespec ts = {0, 1000000};
        (void)nanosleep(&ts, NULL);
    }
    return st;
}

/* --- waits ------------------------------------------------------------------------------ */

/* Step every client until *flag >= want or the deadline. */
static inline bool run_until(mqtls_client_t **cs, size_t n, const int *flag, int want,
                             int timeout_ms)
{
    int64_t end = th_now_ms() + timeout_ms;
    while (th_now_ms() < end) {
        if (*flag >= want) {
            return true;
        }
        for (size_t i = 0; i < n; i++) {
            (void)mqtls_client_step(cs[i], n == 1 ? 20 : 2);
        }
    }
    return *flag >= want;
}

static inline void connect_and_wait(mqtls_client_t *c, rec_t *r)
{
    int before = r->connected;
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    if (!run_until(&c, 1, &r->connected, before + 1, 8000)) {
        char buf[512];
        (void)mqtls_strerror(r->errors > 0 ? &r->last_error : &r->last_why, buf, sizeof buf);
        fail_msg("no CONNACK: %s", buf);
    }
}

static inline void subscribe_and_wait(mqtls_client_t *c, rec_t *r, const char *filter, uint8_t qos)
{
    mqtls_subscription_t sub = {filter, qos};
    int before = r->subscribed;
    assert_int_equal(mqtls_client_subscribe(c, &sub, 1, NULL, NULL), MQTLS_OK);
    assert_true(run_until(&c, 1, &r->subscribed, before + 1, 5000));
}

static inline void disconnect_and_wait(mqtls_client_t *c, rec_t *r)
{
    int before = r->disconnected;
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_OK);
    assert_true(run_until(&c, 1, &r->disconnected, before + 1, 5000));
}

#endif /* MQTLS_TEST_CLIENT_REC_H */
