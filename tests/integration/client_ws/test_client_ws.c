/* The public client API over ws:// and wss://: websockify 0.10 (Debian) in front of the harness
 * mosquitto's plain listener. ws:// = WebSocket over TCP; wss:// = WebSocket over TLS with
 * websockify --ssl-only --verify-client, so the client authenticates with its certificate
 * (mutual TLS) and verifies the bridge's certificate against the harness CA.
 *
 * websockify 0.10 refuses any offered subprotocol but "binary" ("400 Invalid protocol
 * selected"): the round trips set cfg.ws_subprotocol = "" (no header), and one test checks
 * that the default ("mqtt") is offered and its refusal reported.
 * Clients are driven with mqtls_client_step() from this thread; every wait has a deadline;
 * every process started here is stopped by its PID. */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "mqtls/client.h"
#include "mqtls/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static th_pki_t g_pki;
static th_broker_t g_broker;
static th_websockify_t g_wsk_plain; /* websockify, plain */
static th_websockify_t g_wsk_tls;   /* websockify --ssl-only */

/* ---- broker and bridges ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (system("command -v websockify > /dev/null 2>&1") != 0) {
        fprintf(stderr, "websockify is not installed (scripts/install-deps.sh)\n");
        return -1; /* a failure, never a silent skip */
    }
    if (th_pki_make(&g_pki) != 0 || th_broker_start(&g_broker, &g_pki, NULL) != 0) {
        return -1;
    }
    if (th_websockify_start(&g_wsk_plain, g_broker.port_plain, NULL, false) != 0 ||
        th_websockify_start(&g_wsk_tls, g_broker.port_plain, &g_pki, true) != 0) {
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    th_websockify_stop(&g_wsk_plain);
    th_websockify_stop(&g_wsk_tls);
    th_broker_cleanup(&g_broker);
    th_pki_remove(&g_pki);
    return 0;
}

/* ---- recorder -------------------------------------------------------------------------- */

typedef struct rec {
    int connected, disconnected, errors, published, subscribed, messages;
    int bad_payloads;
    mqtls_error_t last_error;
    size_t last_len;
    uint8_t last_qos;
    uint8_t last_granted;
    char last_topic[128];
} rec_t;

static void fill_pattern(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seq * 31u + i * 7u);
    }
}

static uint32_t g_expect_seq;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    rec_t *r = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        r->connected++;
        break;
    case MQTLS_EVENT_DISCONNECTED:
        r->disconnected++;
        break;
    case MQTLS_EVENT_ERROR:
        r->errors++;
        r->last_error = ev->u.error.err;
        break;
    case MQTLS_EVENT_PUBLISHED:
        r->published++;
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        r->subscribed++;
        r->last_granted = ev->u.subscribed.reasons.len > 0 ? ev->u.subscribed.reasons.data[0]
                                                           : 0xFF;
        break;
    case MQTLS_EVENT_MESSAGE: {
        r->messages++;
        r->last_len = ev->u.message.payload.len;
        r->last_qos = ev->u.message.qos;
        size_t n = ev->u.message.topic.len < sizeof r->last_topic - 1u
                       ? ev->u.message.topic.len
                       : sizeof r->last_topic - 1u;
        memcpy(r->last_topic, ev->u.message.topic.data, n);
        r->last_topic[n] = '\0';
        const uint8_t *p = ev->u.message.payload.data;
        for (size_t i = 0; i < ev->u.message.payload.len; i++) {
            if (p[i] != (uint8_t)(g_expect_seq * 31u + i * 7u)) {
                r->bad_payloads++;
                break;
            }
        }
        break;
    }
    default:
        break;
    }
}

/* ---- helpers --------------------------------------------------------------------------- */

static mqtls_client_t *make_client(rec_t *r, bool tls, mqtls_version_t v, const char *subproto)
{
    char uri[96];
    (void)snprintf(uri, sizeof uri, "%s://127.0.0.1:%u/mqtt", tls ? "wss" : "ws",
                   (unsigned)(tls ? g_wsk_tls.port : g_wsk_plain.port));
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.version = v;
    cfg.ws_subprotocol = subproto;
    cfg.connect_timeout_ms = 5000;
    cfg.reconnect.enabled = false;
    cfg.on_event = on_event;
    cfg.event_ctx = r;
    if (tls) {
        cfg.tls.ca_file = g_pki.ca_crt;
        cfg.tls.cert_file = g_pki.client_crt;
        cfg.tls.key_file = g_pki.client_key;
    }
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c);
    if (st != MQTLS_OK) {
        fail_msg("create %s: %s (%s)", uri, mqtls_status_name(st), err.detail);
    }
    return c;
}

static bool run_until(mqtls_client_t **cs, size_t n, const int *flag, int want, int timeout_ms)
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

static void connect_and_wait(mqtls_client_t *c, rec_t *r)
{
    int before = r->connected;
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    if (!run_until(&c, 1, &r->connected, before + 1, 10000)) {
        char buf[512];
        (void)mqtls_strerror(&r->last_error, buf, sizeof buf);
        fail_msg("no CONNACK over WebSocket: %s", buf);
    }
}

/* QoS 0, 1 and 2 with payloads from 0 B to 256 KiB (many WebSocket frames per packet, and an
 * outbox that has to grow from its first 1 KiB), both clients on the same transport kind. */
static void round_trip(bool tls, mqtls_version_t v, const char *tag)
{
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    char topic[64];
    (void)snprintf(topic, sizeof topic, "ws-rt/%s", tag);
    mqtls_client_t *sub = make_client(&rs, tls, v, "");
    mqtls_client_t *pub = make_client(&rp, tls, v, "");
    connect_and_wait(sub, &rs);
    connect_and_wait(pub, &rp);
    mqtls_subscription_t s = {topic, 2};
    assert_int_equal(mqtls_client_subscribe(sub, &s, 1, NULL, NULL), MQTLS_OK);
    assert_true(run_until(&sub, 1, &rs.subscribed, 1, 5000));
    assert_int_equal(rs.last_granted, 2);

    static const size_t sizes[] = {0, 1, 100, 5000, 65536, 256u * 1024u};
    static uint8_t payload[256u * 1024u];
    mqtls_client_t *both[2] = {sub, pub};
    int expected = 0;
    for (uint8_t qos = 0; qos <= 2; qos++) {
        for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
            g_expect_seq = (uint32_t)(qos * 10u + i);
            fill_pattern(payload, sizes[i], g_expect_seq);
            mqtls_publish_opts_t o = {.qos = qos};
            uint16_t id = 0;
            assert_int_equal(mqtls_client_publish(pub, topic, payload, sizes[i], &o, &id),
                             MQTLS_OK);
            assert_int_equal(id != 0, qos > 0);
            expected++;
            if (!run_until(both, 2, &rs.messages, expected, 10000)) {
                fail_msg("%s: qos %u size %zu not received", tag, qos, sizes[i]);
            }
            assert_int_equal(rs.last_len, sizes[i]);
            assert_int_equal(rs.last_qos, qos);
            assert_string_equal(rs.last_topic, topic);
        }
    }
    assert_true(run_until(both, 2, &rp.published, 2 * (int)ARRAY_LEN(sizes), 5000));
    assert_int_equal(rp.published, 2 * (int)ARRAY_LEN(sizes));
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rs.errors + rp.errors, 0);
    assert_int_equal(mqtls_client_outbox_count(pub), 0);
    if (tls) {
        const mqtls_tls_facts_t *f = mqtls_client_tls_facts(pub);
        assert_non_null(f); /* the TLS layer under the WebSocket ran a handshake */
    }
    assert_int_equal(mqtls_client_disconnect(pub, 0), MQTLS_OK);
    assert_true(run_until(&pub, 1, &rp.disconnected, 1, 3000));
    assert_int_equal(mqtls_client_state(pub), MQTLS_STATE_IDLE);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_client_ws_v311_round_trip(void **state)
{
    (void)state;
    round_trip(false, MQTLS_V311, "ws-v311");
}

static void test_client_ws_v5_round_trip(void **state)
{
    (void)state;
    round_trip(false, MQTLS_V5, "ws-v5");
}

static void test_client_wss_mtls_v311_round_trip(void **state)
{
    (void)state;
    round_trip(true, MQTLS_V311, "wss-v311");
}

static void test_client_wss_mtls_v5_round_trip(void **state)
{
    (void)state;
    round_trip(true, MQTLS_V5, "wss-v5");
}

/* Default subprotocol: "mqtt" is offered; websockify refuses it, and the failure arrives as an
 * error event of the WebSocket layer naming the HTTP status, not as a hang. */
static void test_client_ws_default_subprotocol_refused_by_websockify(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, false, MQTLS_V311, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.errors, 1, 10000));
    assert_int_equal(r.connected, 0);
    assert_int_equal(r.last_error.layer, MQTLS_LAYER_WS);
    assert_int_equal(r.last_error.status, MQTLS_ERR_WS_HANDSHAKE);
    assert_non_null(strstr(r.last_error.detail, "400"));
    assert_true(run_until(&c, 1, &r.disconnected, 1, 3000));
    mqtls_client_destroy(c);
}

/* wss:// without a client certificate: the bridge requires one (--verify-client). The client
 * must fail in the TLS layer under the WebSocket, with diagnosis findings attached. */
static void test_client_wss_without_client_cert_fails_in_tls(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    char uri[96];
    (void)snprintf(uri, sizeof uri, "wss://127.0.0.1:%u", (unsigned)g_wsk_tls.port);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.ws_subprotocol = "";
    cfg.connect_timeout_ms = 5000;
    cfg.reconnect.enabled = false;
    cfg.on_event = on_event;
    cfg.event_ctx = &r;
    cfg.tls.ca_file = g_pki.ca_crt;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.errors, 1, 10000));
    assert_int_equal(r.connected, 0);
    assert_int_equal(r.last_error.layer, MQTLS_LAYER_TLS);
    mqtls_client_destroy(c);
}

/* Publish QoS 0 and disconnect at once: the message and DISCONNECT must reach the broker.
 * websockify drops the data that arrives in the same read as a CLOSE frame, so the client
 * waits (bounded) for the broker to close first. */
static void test_client_ws_qos0_then_disconnect_is_delivered(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, false, MQTLS_V311, "");
    connect_and_wait(sub, &rs);
    mqtls_subscription_t s = {"ws-last/q0", 0};
    assert_int_equal(mqtls_client_subscribe(sub, &s, 1, NULL, NULL), MQTLS_OK);
    assert_true(run_until(&sub, 1, &rs.subscribed, 1, 5000));
    for (int round = 0; round < 5; round++) {
        mqtls_client_t *pub = make_client(&rp, false, MQTLS_V311, "");
        int before = rp.connected;
        int got = rs.messages;
        assert_int_equal(mqtls_client_connect(pub), MQTLS_OK);
        assert_true(run_until(&pub, 1, &rp.connected, before + 1, 10000));
        static uint8_t payload[32];
        g_expect_seq = 7;
        fill_pattern(payload, sizeof payload, g_expect_seq);
        assert_int_equal(mqtls_client_publish(pub, "ws-last/q0", payload, sizeof payload, NULL,
                                              NULL),
                         MQTLS_OK);
        int dis = rp.disconnected;
        assert_int_equal(mqtls_client_disconnect(pub, 0), MQTLS_OK);
        assert_true(run_until(&pub, 1, &rp.disconnected, dis + 1, 5000));
        mqtls_client_destroy(pub);
        if (!run_until(&sub, 1, &rs.messages, got + 1, 5000)) {
            fail_msg("round %d: the QoS 0 message sent just before DISCONNECT was lost", round);
        }
    }
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rp.errors, 0);
    mqtls_client_destroy(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_ws_v311_round_trip),
        cmocka_unit_test(test_client_ws_v5_round_trip),
        cmocka_unit_test(test_client_wss_mtls_v311_round_trip),
        cmocka_unit_test(test_client_wss_mtls_v5_round_trip),
        cmocka_unit_test(test_client_ws_qos0_then_disconnect_is_delivered),
        cmocka_unit_test(test_client_ws_default_subprotocol_refused_by_websockify),
        cmocka_unit_test(test_client_wss_without_client_cert_fails_in_tls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
