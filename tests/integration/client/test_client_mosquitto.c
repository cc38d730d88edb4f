/* The full client against a real mosquitto (tests/harness): round trips over plain TCP, TLS,
 * mutual TLS, and WebSocket (ws:// and wss:// with mutual TLS, through websockify: Debian's
 * mosquitto has no WebSocket listener), MQTT 3.1.1 and 5.0, QoS 0/1/2, payloads 0 B..256 KiB,
 * retained messages, the will, persistent sessions, a broker crash during a QoS 1 stream, and
 * failure paths. Clients are driven with mqtls_client_step() from this thread; every wait has a
 * deadline. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls_facts.h"
#include <pthread.h>

#include "client_rec.h"
#include "harness.h"
#include "mqtls/mqtls.h"
#include "runtime/runtime_internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static th_pki_t g_pki;
static th_broker_t g_broker;
static bool g_have_broker;
static th_websockify_t g_wsk_plain; /* ws:// -> the plain listener */
static th_websockify_t g_wsk_tls;   /* wss:// with --verify-client -> the plain listener */

/* --- helpers ---------------------------------------------------------------------------- */

typedef enum { PLAIN, TLS, MTLS, WS, WSS } mode_t_;

static mqtls_client_t *make_client(rec_t *r, mode_t_ mode, mqtls_version_t v, const char *id,
                                   bool clean,
                                   void (*tweak)(mqtls_client_cfg_t *, mqtls_tls_cfg_t *))
{
    char uri[64];
    static const char *const scheme[] = {"mqtt", "mqtts", "mqtts", "ws", "wss"};
    const uint16_t port[] = {g_broker.port_plain, g_broker.port_tls, g_broker.port_mtls,
                             g_wsk_plain.port, g_wsk_tls.port};
    (void)snprintf(uri, sizeof uri, "%s://127.0.0.1:%u", scheme[mode], port[mode]);
    mqtls_client_cfg_t cfg;
    base_cfg(&cfg, r, v, id, clean);
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    cfg.tls = &tls;
    cfg.uri = uri;
    if (mode == WS || mode == WSS) {
        cfg.ws_subprotocol = ""; /* websockify refuses "mqtt" (400) */
    }
    if (mode != PLAIN && mode != WS) {
        tls.ca_file = g_pki.ca_crt;
        if (mode == MTLS || mode == WSS) {
            tls.cert_file = g_pki.client_crt;
            tls.key_file = g_pki.client_key;
        }
    }
    if (tweak != NULL) {
        tweak(&cfg, &tls);
    }
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c);
    if (st != MQTLS_OK) {
        fail_msg("create: %s (%s)", mqtls_status_name(st), err.detail);
    }
    return c;
}

static int group_setup(void **state)
{
    (void)state;
    if (th_pki_make(&g_pki) != 0) {
        return -1;
    }
    if (th_broker_start(&g_broker, &g_pki, NULL) != 0) {
        return -1;
    }
    g_have_broker = true;
    /* a missing websockify fails the group (scripts/install-deps.sh), never a silent skip */
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

/* --- round trips ------------------------------------------------------------------------ */

static void round_trip(mode_t_ mode, mqtls_version_t v, const char *tag)
{
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    char topic[64];
    (void)snprintf(topic, sizeof topic, "rt/%s", tag);
    mqtls_client_t *sub = make_client(&rs, mode, v, NULL, true, NULL);
    mqtls_client_t *pub = make_client(&rp, mode, v, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    connect_and_wait(pub, &rp);
    subscribe_and_wait(sub, &rs, topic, 2);
    assert_int_equal(rs.last_granted, 2);
    static const size_t sizes[] = {0, 1, 100, 1000, 65536, 256u * 1024u};
    static uint8_t payload[256u * 1024u];
    mqtls_client_t *both[2] = {sub, pub};
    uint32_t seq = 0;
    int expected = 0;
    for (uint8_t qos = 0; qos <= 2; qos++) {
        for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
            fill_pattern(payload, sizes[i], seq);
            mqtls_publish_opts_t o = {.qos = qos};
            uint16_t id = 0;
            assert_int_equal(mqtls_client_publish(pub, topic, payload, sizes[i], &o, &id),
                             MQTLS_OK);
            if (qos > 0) {
                assert_int_not_equal(id, 0);
            }
            expected++;
            if (!run_until(both, 2, &rs.messages, expected, 8000)) {
                fail_msg("%s: message qos %u size %zu not received", tag, qos, sizes[i]);
            }
            assert_int_equal(rs.last_len, sizes[i]);
            assert_int_equal(rs.last_qos, qos);
            assert_string_equal(rs.last_topic, topic);
            seq++;
        }
    }
    assert_true(run_until(both, 2, &rp.published, 2 * (int)ARRAY_LEN(sizes), 5000));
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rs.dups, 0);
    assert_int_equal(rs.errors + rp.errors, 0);
    assert_int_equal(mqtls_client_outbox_count(pub), 0);
    if (mode == WSS) {
        assert_non_null(mqtls_client_tls_facts(pub)); /* TLS ran under the WebSocket */
    }
    assert_int_equal(mqtls_client_disconnect(pub, 0), MQTLS_OK);
    assert_true(run_until(&pub, 1, &rp.disconnected, 1, 3000));
    assert_int_equal(mqtls_client_state(pub), MQTLS_STATE_IDLE);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void test_client_plain_v311_round_trip(void **state)
{
    (void)state;
    round_trip(PLAIN, MQTLS_V311, "plain311");
}

static void test_client_plain_v5_round_trip(void **state)
{
    (void)state;
    round_trip(PLAIN, MQTLS_V5, "plain5");
}

static void test_client_plain_v31_round_trip(void **state)
{
    (void)state;
    round_trip(PLAIN, MQTLS_V31, "plain31");
}

static void test_client_tls_v311_round_trip(void **state)
{
    (void)state;
    round_trip(TLS, MQTLS_V311, "tls311");
}

static void test_client_mtls_v311_round_trip(void **state)
{
    (void)state;
    round_trip(MTLS, MQTLS_V311, "mtls311");
}

static void test_client_mtls_v5_round_trip(void **state)
{
    (void)state;
    round_trip(MTLS, MQTLS_V5, "mtls5");
}

static void test_client_ws_v311_round_trip(void **state)
{
    (void)state;
    round_trip(WS, MQTLS_V311, "ws311");
}

static void test_client_ws_v5_round_trip(void **state)
{
    (void)state;
    round_trip(WS, MQTLS_V5, "ws5");
}

static void test_client_wss_mtls_v311_round_trip(void **state)
{
    (void)state;
    round_trip(WSS, MQTLS_V311, "wss311");
}

static void test_client_wss_mtls_v5_round_trip(void **state)
{
    (void)state;
    round_trip(WSS, MQTLS_V5, "wss5");
}

/* --- WebSocket specifics ------------------------------------------------------------------ */

static void default_subprotocol(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->ws_subprotocol = NULL; /* "mqtt" */
    cfg->reconnect.enabled = false;
}

/* Default subprotocol: "mqtt" is offered; websockify refuses it, and the failure arrives as an
 * error event of the WebSocket layer naming the HTTP status, not as a hang. */
static void test_client_ws_default_subprotocol_refused_by_websockify(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, WS, MQTLS_V311, NULL, true, default_subprotocol);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.errors, 1, 10000));
    assert_int_equal(r.connected, 0);
    assert_int_equal(r.last_error.layer, MQTLS_LAYER_WS);
    assert_int_equal(r.last_error.status, MQTLS_ERR_WS_HANDSHAKE);
    assert_non_null(strstr(r.last_error.detail, "400"));
    assert_true(run_until(&c, 1, &r.disconnected, 1, 3000));
    mqtls_client_destroy(c);
}

static void no_client_cert(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls);

/* wss:// without a client certificate: the bridge requires one (--verify-client). The client
 * must fail in the TLS layer under the WebSocket. */
static void test_client_wss_without_client_cert_fails_in_tls(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, WSS, MQTLS_V311, NULL, true, no_client_cert);
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
    mqtls_client_t *sub = make_client(&rs, WS, MQTLS_V311, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "ws-last/q0", 0);
    for (uint32_t round = 0; round < 5; round++) {
        mqtls_client_t *pub = make_client(&rp, WS, MQTLS_V311, NULL, true, NULL);
        connect_and_wait(pub, &rp);
        int got = rs.messages;
        static uint8_t payload[32];
        fill_pattern(payload, sizeof payload, round);
        assert_int_equal(
            mqtls_client_publish(pub, "ws-last/q0", payload, sizeof payload, NULL, NULL), MQTLS_OK);
        int dis = rp.disconnected;
        assert_int_equal(mqtls_client_disconnect(pub, 0), MQTLS_OK);
        assert_true(run_until(&pub, 1, &rp.disconnected, dis + 1, 5000));
        mqtls_client_destroy(pub);
        if (!run_until(&sub, 1, &rs.messages, got + 1, 5000)) {
            fail_msg("round %u: the QoS 0 message sent just before DISCONNECT was lost", round);
        }
    }
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rp.errors, 0);
    mqtls_client_destroy(sub);
}

/* --- retained, will, sessions ----------------------------------------------------------- */

static void test_client_retained_message_reaches_late_subscriber(void **state)
{
    (void)state;
    static rec_t rp;
    static rec_t rs;
    memset(&rp, 0, sizeof rp);
    memset(&rs, 0, sizeof rs);
    mqtls_client_t *pub = make_client(&rp, PLAIN, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(pub, &rp);
    uint8_t payload[16];
    fill_pattern(payload, sizeof payload, 7);
    mqtls_publish_opts_t o = {.qos = 1, .retain = true};
    assert_int_equal(mqtls_client_publish(pub, "ret/x", payload, sizeof payload, &o, NULL),
                     MQTLS_OK);
    assert_true(run_until(&pub, 1, &rp.published, 1, 5000));
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "ret/#", 1);
    assert_true(run_until(&sub, 1, &rs.messages, 1, 5000));
    assert_true(rs.last_retain);
    assert_int_equal(rs.seen[7], 1);
    /* clear it */
    o.qos = 0;
    assert_int_equal(mqtls_client_publish(pub, "ret/x", NULL, 0, &o, NULL), MQTLS_OK);
    for (int i = 0; i < 10; i++) {
        (void)mqtls_client_step(pub, 5);
    }
    mqtls_client_destroy(sub);
    mqtls_client_destroy(pub);
}

/* QoS 0 messages still queued when disconnect() is called go out before DISCONNECT, and the
 * broker closing the socket after our DISCONNECT is reported as the requested end (OK). */
static void test_client_disconnect_flushes_queued_qos0_and_reports_ok(void **state)
{
    (void)state;
    rec_t *sr = calloc(1, sizeof *sr);
    rec_t *pr = calloc(1, sizeof *pr);
    mqtls_client_t *sub = make_client(sr, PLAIN, MQTLS_V311, "disc-sub", true, NULL);
    connect_and_wait(sub, sr);
    subscribe_and_wait(sub, sr, "disc/q0", 0);
    /* 16 KiB messages fill the socket buffer, so most of them wait in the outbox */
    enum { ROUNDS = 4, PER_ROUND = 200 };
    static uint8_t payload[16 * 1024];
    for (uint32_t round = 0; round < ROUNDS; round++) {
        mqtls_client_t *pub = make_client(pr, MTLS, MQTLS_V5, "disc-pub", true, NULL);
        connect_and_wait(pub, pr);
        for (uint32_t i = 0; i < PER_ROUND; i++) {
            fill_pattern(payload, sizeof payload, round * PER_ROUND + i);
            assert_int_equal(
                mqtls_client_publish(pub, "disc/q0", payload, sizeof payload, NULL, NULL),
                MQTLS_OK);
        }
        int before = pr->disconnected;
        assert_int_equal(mqtls_client_disconnect(pub, 0), MQTLS_OK);
        assert_true(run_until(&pub, 1, &pr->disconnected, before + 1, 5000));
        mqtls_client_destroy(pub);
    }
    assert_int_equal(pr->disconnected_not_ok, 0);
    assert_int_equal(pr->errors, 0);
    assert_true(run_until(&sub, 1, &sr->messages, ROUNDS * PER_ROUND, 15000));
    assert_int_equal(sr->distinct, ROUNDS * PER_ROUND);
    assert_int_equal(sr->bad_payloads, 0);
    mqtls_client_destroy(sub);
    free(sr);
    free(pr);
}

static void test_client_v5_properties_and_unsubscribe(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V5, NULL, true, NULL);
    mqtls_client_t *pub = make_client(&rp, PLAIN, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    connect_and_wait(pub, &rp);
    subscribe_and_wait(sub, &rs, "props/#", 1);
    mqtls_property_t props[2] = {
        {.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = {(const uint8_t *)"text/plain", 10}},
        {.id = MQTLS_PROP_USER_PROPERTY,
         .v.pair = {{(const uint8_t *)"trace", 5}, {(const uint8_t *)"abc", 3}}},
    };
    for (uint8_t qos = 0; qos <= 1; qos++) {
        mqtls_publish_opts_t o = {.qos = qos, .props = {.items = props, .count = 2}};
        assert_int_equal(mqtls_client_publish(pub, "props/x", "hi", 2, &o, NULL), MQTLS_OK);
        mqtls_client_t *both[2] = {sub, pub};
        assert_true(run_until(both, 2, &rs.messages, qos + 1, 5000));
        assert_string_equal(rs.last_content_type, "text/plain");
        assert_string_equal(rs.last_user_prop, "trace=abc");
    }
    /* Properties are refused for 3.1.1 rather than silently dropped. */
    mqtls_client_t *old = make_client(&rp, PLAIN, MQTLS_V311, NULL, true, NULL);
    mqtls_publish_opts_t o = {.qos = 0, .props = {.items = props, .count = 2}};
    assert_int_equal(mqtls_client_publish(old, "props/x", "hi", 2, &o, NULL), MQTLS_ERR_VERSION);
    mqtls_client_destroy(old);
    /* Unsubscribe: acknowledged, and nothing arrives afterwards. */
    const char *filters[] = {"props/#"};
    assert_int_equal(mqtls_client_unsubscribe(sub, filters, 1, NULL), MQTLS_OK);
    assert_true(run_until(&sub, 1, &rs.unsubscribed, 1, 5000));
    assert_int_equal(mqtls_client_publish(pub, "props/x", "hi", 2, NULL, NULL), MQTLS_OK);
    mqtls_client_t *both[2] = {sub, pub};
    int never = 1;
    (void)run_until(both, 2, &never, 2, 300);
    assert_int_equal(rs.messages, 2);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void use_aliases(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->outbound_aliases = 4;
}

static void test_client_v5_outbound_topic_alias_with_mosquitto(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V5, NULL, true, NULL);
    mqtls_client_t *pub = make_client(&rp, PLAIN, MQTLS_V5, NULL, true, use_aliases);
    connect_and_wait(sub, &rs);
    connect_and_wait(pub, &rp);
    subscribe_and_wait(sub, &rs, "alias/#", 0);
    mqtls_client_t *both[2] = {sub, pub};
    static const char *topics[] = {"alias/a/long/topic/name", "alias/b"};
    for (int i = 0; i < 10; i++) {
        const char *t = topics[i % 2];
        uint8_t payload[8];
        fill_pattern(payload, sizeof payload, (uint32_t)i);
        assert_int_equal(mqtls_client_publish(pub, t, payload, sizeof payload, NULL, NULL),
                         MQTLS_OK);
        /* The broker resolves our aliases: every message arrives under its full topic. */
        assert_true(run_until(both, 2, &rs.messages, i + 1, 5000));
        assert_string_equal(rs.last_topic, t);
    }
    assert_int_equal(rp.disconnected, 0); /* no protocol error from the broker */
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void short_keepalive(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->keepalive_s = 1;
    cfg->reconnect.enabled = false;
}

static void test_client_keepalive_with_live_and_frozen_broker(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, PLAIN, MQTLS_V311, NULL, true, short_keepalive);
    connect_and_wait(c, &r);
    /* Idle for 2.5 keepalive intervals: PINGREQ/PINGRESP keep the connection up. */
    int never = 0;
    (void)run_until(&c, 1, &never, 1, 2500);
    assert_int_equal(r.disconnected, 0);
    /* Freeze the broker (SIGSTOP by PID): no PINGRESP, dead within two intervals. */
    assert_int_equal(kill(g_broker.pid, SIGSTOP), 0);
    int64_t t0 = th_now_ms();
    bool dead = run_until(&c, 1, &r.disconnected, 1, 4000);
    int64_t took = th_now_ms() - t0;
    assert_int_equal(kill(g_broker.pid, SIGCONT), 0);
    assert_true(dead);
    assert_int_equal(r.last_error.status, MQTLS_OK); /* no connect error: it was up */
    mqtls_error_t e;
    assert_int_equal(mqtls_client_last_error(c, &e), MQTLS_OK);
    assert_int_equal(e.status, MQTLS_ERR_KEEPALIVE_TIMEOUT);
    assert_true(took <= 2100);
    print_message("frozen broker detected after %lld ms (keepalive 1 s)\n", (long long)took);
    mqtls_client_destroy(c);
}

static void test_client_broker_maximum_packet_size(void **state)
{
    (void)state;
    static th_broker_t small;
    memset(&small, 0, sizeof small);
    assert_int_equal(th_broker_start(&small, NULL, "max_packet_size 1000"), 0);
    static rec_t r;
    memset(&r, 0, sizeof r);
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", small.port_plain);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.version = MQTLS_V5;
    cfg.on_event = on_event;
    cfg.event_ctx = &r;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    connect_and_wait(c, &r);
    static uint8_t big[2000];
    mqtls_publish_opts_t o = {.qos = 1};
    assert_int_equal(mqtls_client_publish(c, "big", big, sizeof big, &o, NULL),
                     MQTLS_ERR_TOO_LARGE_FOR_BROKER);
    assert_int_equal(mqtls_client_publish(c, "big", big, 500, &o, NULL), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.published, 1, 5000));
    assert_int_equal(r.disconnected, 0);
    mqtls_client_destroy(c);
    th_broker_cleanup(&small);
}

static void set_will(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->will.topic = "will/dead";
    cfg->will.payload = (const uint8_t *)"gone";
    cfg->will.payload_len = 4;
    cfg->will.qos = 1;
}

static void test_client_will_published_on_abnormal_disconnect(void **state)
{
    (void)state;
    static rec_t rw;
    static rec_t rs;
    memset(&rw, 0, sizeof rw);
    memset(&rs, 0, sizeof rs);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V311, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "will/#", 1);
    mqtls_client_t *w = make_client(&rw, PLAIN, MQTLS_V311, NULL, true, set_will);
    connect_and_wait(w, &rw);
    /* Destroy without DISCONNECT: the broker sees the connection drop and sends the will. */
    mqtls_client_destroy(w);
    assert_true(run_until(&sub, 1, &rs.messages, 1, 5000));
    assert_string_equal(rs.last_topic, "will/dead");
    assert_int_equal(rs.last_len, 4);

    /* A normal DISCONNECT discards the will. */
    memset(&rw, 0, sizeof rw);
    w = make_client(&rw, PLAIN, MQTLS_V311, NULL, true, set_will);
    connect_and_wait(w, &rw);
    assert_int_equal(mqtls_client_disconnect(w, 0), MQTLS_OK);
    assert_true(run_until(&w, 1, &rw.disconnected, 1, 3000));
    mqtls_client_destroy(w);
    int64_t end = th_now_ms() + 500;
    while (th_now_ms() < end) {
        (void)mqtls_client_step(sub, 20);
    }
    assert_int_equal(rs.messages, 1);
    mqtls_client_destroy(sub);
}

static const mqtls_property_t g_will_props[] = {
    {.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = {(const uint8_t *)"text/plain", 10}},
};

static void set_will_v5(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    set_will(cfg, tls);
    cfg->will.props.items = g_will_props;
    cfg->will.props.count = 1;
}

static void test_client_v5_will_carries_properties(void **state)
{
    (void)state;
    static rec_t rw;
    static rec_t rs;
    memset(&rw, 0, sizeof rw);
    memset(&rs, 0, sizeof rs);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "will/#", 1);
    mqtls_client_t *w = make_client(&rw, PLAIN, MQTLS_V5, NULL, true, set_will_v5);
    connect_and_wait(w, &rw);
    /* MQTT 5: DISCONNECT with reason 0x04 asks the broker to publish the will. */
    assert_int_equal(mqtls_client_disconnect(w, 0x04), MQTLS_OK);
    assert_true(run_until(&w, 1, &rw.disconnected, 1, 3000));
    assert_true(run_until(&sub, 1, &rs.messages, 1, 5000));
    assert_string_equal(rs.last_topic, "will/dead");
    assert_string_equal(rs.last_content_type, "text/plain");
    mqtls_client_destroy(w);
    mqtls_client_destroy(sub);
}

static void test_client_persistent_session_gets_queued_messages(void **state)
{
    (void)state;
    for (int vi = 0; vi < 2; vi++) {
        mqtls_version_t v = vi == 0 ? MQTLS_V311 : MQTLS_V5;
        static rec_t rs;
        static rec_t rp;
        memset(&rs, 0, sizeof rs);
        memset(&rp, 0, sizeof rp);
        const char *id = vi == 0 ? "persist-sub-311" : "persist-sub-5";
        mqtls_client_t *sub = make_client(&rs, PLAIN, v, id, false, NULL);
        connect_and_wait(sub, &rs);
        subscribe_and_wait(sub, &rs, "persist/t", 1);
        assert_int_equal(mqtls_client_disconnect(sub, 0), MQTLS_OK);
        assert_true(run_until(&sub, 1, &rs.disconnected, 1, 3000));

        mqtls_client_t *pub = make_client(&rp, PLAIN, v, NULL, true, NULL);
        connect_and_wait(pub, &rp);
        uint8_t payload[32];
        for (uint32_t i = 0; i < 10; i++) {
            fill_pattern(payload, sizeof payload, i);
            mqtls_publish_opts_t o = {.qos = 1};
            assert_int_equal(
                mqtls_client_publish(pub, "persist/t", payload, sizeof payload, &o, NULL),
                MQTLS_OK);
        }
        assert_true(run_until(&pub, 1, &rp.published, 10, 5000));
        connect_and_wait(sub, &rs);
        assert_true(rs.session_present);
        assert_true(run_until(&sub, 1, &rs.messages, 10, 5000));
        for (int i = 0; i < 10; i++) {
            assert_int_equal(rs.seen[i], 1);
        }
        mqtls_client_destroy(pub);
        mqtls_client_destroy(sub);
    }
}

/* --- packet ids beyond the 32 a session holds without a bitmap (issue 11) --------------- */

static void count_id_maps(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)level;
    if (strstr(msg, "packet id set grown to a bitmap") != NULL) {
        (*(int *)ctx)++;
    }
}

static int g_id_maps_pub;
static int g_id_maps_sub;

static void tweak_ids_pub(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->log_fn = count_id_maps;
    cfg->log_ctx = &g_id_maps_pub;
    cfg->log_level = MQTLS_LOG_DEBUG;
}

static void tweak_ids_sub(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->log_fn = count_id_maps;
    cfg->log_ctx = &g_id_maps_sub;
    cfg->log_level = MQTLS_LOG_DEBUG;
}

/* 300 QoS 2 messages over mutual TLS, the publisher queueing them all before it runs (300 of
 * its ids in use) and the subscriber not reading until the broker has its in-flight window
 * (max_inflight_messages 100) of PUBLISHes waiting in the socket: both sessions go beyond the
 * 32 ids they hold without a bitmap, the runtime gives the bitmaps, and every message arrives
 * exactly once, none refused. */
static void test_client_mtls_many_ids_in_flight_both_directions(void **state)
{
    (void)state;
    enum { N = 300 };
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    g_id_maps_pub = 0;
    g_id_maps_sub = 0;
    mqtls_client_t *sub = make_client(&rs, MTLS, MQTLS_V5, "ids-sub", true, tweak_ids_sub);
    mqtls_client_t *pub = make_client(&rp, MTLS, MQTLS_V5, "ids-pub", true, tweak_ids_pub);
    connect_and_wait(sub, &rs);
    connect_and_wait(pub, &rp);
    subscribe_and_wait(sub, &rs, "ids/many", 2);
    uint8_t payload[48];
    for (uint32_t i = 0; i < N; i++) {
        fill_pattern(payload, sizeof payload, i);
        mqtls_publish_opts_t o = {.qos = 2};
        uint16_t id = 0;
        assert_int_equal(mqtls_client_publish(pub, "ids/many", payload, sizeof payload, &o, &id),
                         MQTLS_OK);
        assert_int_not_equal(id, 0);
    }
    assert_int_equal(mqtls_client_outbox_count(pub), N);
    assert_true(g_id_maps_pub >= 1);
    /* The publisher alone: the broker takes everything and queues for the subscriber. */
    assert_true(run_until(&pub, 1, &rp.published, N, 20000));
    assert_int_equal(rs.messages, 0);
    mqtls_client_t *both[2] = {sub, pub};
    assert_true(run_until(both, 2, &rs.distinct, N, 20000));
    assert_true(g_id_maps_sub >= 1);
    assert_int_equal(rs.dups, 0);
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rs.errors + rp.errors, 0);
    assert_int_equal(mqtls_client_outbox_count(pub), 0);
    assert_int_equal(mqtls_client_state(sub), MQTLS_STATE_CONNECTED);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

/* --- a control buffer and a subscription store that grow (issue 11) --------------------- */

static void count_growth(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)level;
    int *n = ctx; /* [0] store grown, [1] control buffer grown */
    if (strstr(msg, "subscription store grown") != NULL) {
        n[0]++;
    }
    if (strstr(msg, "control buffer grown") != NULL) {
        n[1]++;
    }
}

static int g_growth[2];

static void tweak_growth(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    cfg->log_fn = count_growth;
    cfg->log_ctx = g_growth;
    cfg->log_level = MQTLS_LOG_DEBUG;
}

/* 300 subscriptions over mutual TLS (3 900 bytes: the store grows from its 256 B in the arena
 * towards its 4 KiB), then a broker restart: the client reconnects without a session and
 * subscribes again to all 300 in one go -- more than the control buffer holds in the arena, so
 * the CONNACK waits for the runtime to grow it. One message to each filter then arrives. */
static void test_client_mtls_many_subscriptions_resubscribed_after_restart(void **state)
{
    (void)state;
    enum { N = 300, PER_CALL = 50 };
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    memset(g_growth, 0, sizeof g_growth);
    mqtls_client_t *sub = make_client(&rs, MTLS, MQTLS_V311, "subs-many", true, tweak_growth);
    connect_and_wait(sub, &rs);
    static char filters[N][16];
    static mqtls_subscription_t subs[N];
    for (int i = 0; i < N; i++) {
        (void)snprintf(filters[i], sizeof filters[i], "many/%03d/+", i);
        subs[i].filter = filters[i];
        subs[i].options = 1;
    }
    for (int i = 0; i < N; i += PER_CALL) {
        assert_int_equal(mqtls_client_subscribe(sub, &subs[i], PER_CALL, NULL, NULL), MQTLS_OK);
    }
    assert_true(run_until(&sub, 1, &rs.subscribed, N / PER_CALL, 5000));
    assert_true(g_growth[0] >= 1);
    int ctrl_before = g_growth[1];
    assert_int_equal(th_broker_stop(&g_broker), 0);
    assert_int_equal(th_broker_restart(&g_broker), 0);
    assert_true(run_until(&sub, 1, &rs.connected, 2, 15000));
    assert_false(rs.session_present);
    /* 300 filters again: SUBSCRIBEs of up to 64 filters each. */
    assert_true(run_until(&sub, 1, &rs.subscribed, N / PER_CALL + (N + 63) / 64, 5000));
    assert_true(g_growth[1] > ctrl_before);
    mqtls_client_t *pub = make_client(&rp, MTLS, MQTLS_V311, "subs-many-pub", true, NULL);
    connect_and_wait(pub, &rp);
    uint8_t payload[16];
    for (uint32_t i = 0; i < N; i++) {
        char topic[32];
        (void)snprintf(topic, sizeof topic, "many/%03u/x", i);
        fill_pattern(payload, sizeof payload, i);
        mqtls_publish_opts_t o = {.qos = 1};
        assert_int_equal(mqtls_client_publish(pub, topic, payload, sizeof payload, &o, NULL),
                         MQTLS_OK);
    }
    mqtls_client_t *both[2] = {sub, pub};
    assert_true(run_until(both, 2, &rs.distinct, N, 20000));
    assert_int_equal(rs.dups, 0);
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(rs.errors + rp.errors, 0);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

/* --- broker crash during a stream ------------------------------------------------------- */

/* @p kill: SIGKILL (a crash) instead of SIGTERM (a restart: mosquitto saves its state). */
static void stream_through_crash(uint8_t qos, bool kill, const char *tag)
{
    enum { N = 1000 };
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    char sid[64];
    char pid[64];
    char topic[64];
    (void)snprintf(sid, sizeof sid, "crash-sub-%s", tag);
    (void)snprintf(pid, sizeof pid, "crash-pub-%s", tag);
    (void)snprintf(topic, sizeof topic, "crash/%s", tag);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V311, sid, false, NULL);
    mqtls_client_t *pub = make_client(&rp, PLAIN, MQTLS_V311, pid, false, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, topic, qos);
    connect_and_wait(pub, &rp);
    mqtls_client_t *both[2] = {sub, pub};
    uint8_t payload[64];
    int sent = 0;
    bool crashed = false;
    int64_t end = th_now_ms() + 60000;
    int64_t quiet_since = 0; /* all acknowledged, nothing new arrives: a broker's loss (kill) */
    int seen_then = 0;
    while (th_now_ms() < end && (sent < N || rs.distinct < N || rp.published < N)) {
        if (sent == N && rp.published == N) {
            if (quiet_since == 0 || rs.distinct != seen_then) {
                quiet_since = th_now_ms();
                seen_then = rs.distinct;
            } else if (th_now_ms() - quiet_since > 3000) {
                break; /* judged below: SIGKILL may cost the broker a message or two */
            }
        }
        /* Publish in bursts; outbox limits bound what is queued. */
        for (int k = 0; k < 20 && sent < N; k++) {
            fill_pattern(payload, sizeof payload, (uint32_t)sent);
            mqtls_publish_opts_t o = {.qos = qos};
            if (mqtls_client_publish(pub, topic, payload, sizeof payload, &o, NULL) != MQTLS_OK) {
                break;
            }
            sent++;
        }
        if (!crashed && sent >= N / 3) {
            assert_int_equal(kill ? th_broker_kill(&g_broker) : th_broker_stop(&g_broker), 0);
            assert_int_equal(th_broker_restart(&g_broker), 0);
            crashed = true;
            /* The subscriber must be back (and resubscribed if its session was lost) before
             * the publisher's replay reaches the broker, or the broker has nobody to route
             * to: drive it alone first. */
            int before = rs.connected;
            assert_true(run_until(&sub, 1, &rs.connected, before + 1, 15000));
            if (!rs.session_present) {
                int sb = rs.subscribed;
                assert_true(run_until(&sub, 1, &rs.subscribed, sb + 1, 5000));
            }
        }
        for (size_t i = 0; i < 2; i++) {
            (void)mqtls_client_step(both[i], 1);
        }
    }
    int missing = 0;
    for (int i = 0; i < N; i++) {
        missing += rs.seen[i] == 0 ? 1 : 0;
    }
    print_message("%s: sent %d, acked %d, received %d (dups %d, missing %d), reconnects sub %d "
                  "pub %d, sub session present %d, resubscribed %d, sub state %d\n",
                  tag, sent, rp.published, rs.messages, rs.dups, missing, rs.connected - 1,
                  rp.connected - 1, rs.session_present ? 1 : 0, rs.subscribed - 1,
                  (int)mqtls_client_state(sub));
    if (missing > 0 && getenv("MQTLS_TEST_VERBOSE") != NULL) {
        char cmd[600];
        (void)snprintf(cmd, sizeof cmd, "cp %s /tmp/crash-broker.log", g_broker.log);
        (void)system(cmd);
        for (int i = 0; i < N; i++) {
            if (rs.seen[i] == 0) {
                print_message("first missing seq %d (pub session present %d)\n", i,
                              rp.session_present ? 1 : 0);
                break;
            }
        }
    }
    assert_true(crashed);
    assert_int_equal(rp.published, N); /* the publisher saw every message acknowledged */
    if (kill) {
        /* SIGKILL: mosquitto acknowledges before it persists or forwards, and a killed
         * process's sockets are reset with unsent data. Messages acknowledged in the last
         * instant can be lost by the BROKER; the client must lose none of its own. */
        assert_true(missing <= N / 100);
    } else {
        assert_int_equal(missing, 0);
        assert_true(rs.session_present); /* state saved at shutdown: the session resumed */
    }
    if (qos == 2) {
        assert_int_equal(rs.dups, 0);
    }
    assert_int_equal(rs.bad_payloads, 0);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void test_client_broker_restart_qos1_stream_all_arrive(void **state)
{
    (void)state;
    stream_through_crash(1, false, "restart-q1");
}

static void test_client_broker_restart_qos2_stream_all_arrive_once(void **state)
{
    (void)state;
    stream_through_crash(2, false, "restart-q2");
}

static void test_client_broker_kill_qos1_stream(void **state)
{
    (void)state;
    stream_through_crash(1, true, "kill-q1");
}

static void test_client_broker_kill_qos2_stream_no_duplicates(void **state)
{
    (void)state;
    stream_through_crash(2, true, "kill-q2");
}

/* --- failure paths ---------------------------------------------------------------------- */

static void expect_failure(mqtls_client_t *c, rec_t *r, mqtls_layer_t layer,
                           const mqtls_status_t *allowed, size_t n_allowed)
{
    int64_t t0 = th_now_ms();
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_true(run_until(&c, 1, &r->errors, 1, 8000));
    int64_t took = th_now_ms() - t0;
    char buf[512];
    (void)mqtls_strerror(&r->last_error, buf, sizeof buf);
    print_message("failure after %lld ms: %s\n  findings: %s\n", (long long)took, buf,
                  r->finding_ids);
    assert_int_equal(r->connected, 0);
    assert_true(took < 5000); /* within the connect timeout */
    assert_int_equal(r->last_error.layer, layer);
    bool ok = false;
    for (size_t i = 0; i < n_allowed; i++) {
        ok = ok || r->last_error.status == allowed[i];
    }
    if (!ok) {
        fail_msg("unexpected status %s", mqtls_status_name(r->last_error.status));
    }
    mqtls_error_t last;
    assert_int_equal(mqtls_client_last_error(c, &last), MQTLS_OK);
    assert_int_equal(last.status, r->last_error.status);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
}

static void test_client_broker_down_reports_tcp_refused(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", th_free_port());
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.on_event = on_event;
    cfg.event_ctx = &r;
    cfg.reconnect.enabled = false;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    const mqtls_status_t ok[] = {MQTLS_ERR_CONN_REFUSED};
    expect_failure(c, &r, MQTLS_LAYER_TCP, ok, 1);
    mqtls_client_destroy(c);
}

static void test_client_tls_to_plain_port_fails_in_tls(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtts://127.0.0.1:%u", g_broker.port_plain);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    cfg.tls = &tls;
    cfg.uri = uri;
    cfg.on_event = on_event;
    cfg.event_ctx = &r;
    cfg.reconnect.enabled = false;
    cfg.connect_timeout_ms = 3000;
    tls.ca_file = g_pki.ca_crt;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    const mqtls_status_t ok[] = {MQTLS_ERR_TLS_NOT_TLS, MQTLS_ERR_TLS_HANDSHAKE,
                                 MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT, MQTLS_ERR_CLOSED};
    expect_failure(c, &r, MQTLS_LAYER_TLS, ok, ARRAY_LEN(ok));
    mqtls_client_destroy(c);
}

static void test_client_plain_to_tls_port_fails(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", g_broker.port_tls);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.on_event = on_event;
    cfg.event_ctx = &r;
    cfg.reconnect.enabled = false;
    cfg.connect_timeout_ms = 3000;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    /* The TLS listener reads our CONNECT as a broken ClientHello and hangs up. */
    const mqtls_status_t ok[] = {MQTLS_ERR_CLOSED, MQTLS_ERR_CONN_RESET};
    expect_failure(c, &r, MQTLS_LAYER_TCP, ok, ARRAY_LEN(ok));
    mqtls_client_destroy(c);
}

static void wrong_ca(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    tls->ca_file = g_pki.other_ca_crt;
    cfg->reconnect.enabled = false;
}

static void test_client_wrong_ca_reports_tls_verify(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, MTLS, MQTLS_V311, NULL, true, wrong_ca);
    const mqtls_status_t ok[] = {MQTLS_ERR_TLS_VERIFY};
    expect_failure(c, &r, MQTLS_LAYER_TLS, ok, 1);
    assert_int_not_equal(r.last_error.verify_flags, 0);
    const mqtls_tls_facts_t *f = mqtls_client_tls_facts(c);
    assert_non_null(f);
    assert_true(f->server_hello_seen);
    /* Diagnosis ran on the failure and names the cause. */
    assert_non_null(mqtls_client_findings(c));
    assert_non_null(strstr(r.finding_ids, "untrusted-issuer"));
    mqtls_client_destroy(c);
}

static void no_client_cert(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    tls->cert_file = NULL;
    tls->key_file = NULL;
    cfg->reconnect.enabled = false;
}

static void test_client_missing_client_cert_fails_in_tls(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, MTLS, MQTLS_V311, NULL, true, no_client_cert);
    /* TLS 1.2: the broker's alert ends the handshake; TLS 1.3 may report it on first read. */
    const mqtls_status_t ok[] = {MQTLS_ERR_TLS_ALERT, MQTLS_ERR_TLS_HANDSHAKE, MQTLS_ERR_TLS_IO};
    expect_failure(c, &r, MQTLS_LAYER_TLS, ok, ARRAY_LEN(ok));
    const mqtls_tls_facts_t *f = mqtls_client_tls_facts(c);
    assert_non_null(f);
    assert_true(f->cert_requested);
    assert_false(f->client_cert_sent);
    assert_non_null(strstr(r.finding_ids, "client-cert-missing"));
    mqtls_client_destroy(c);
}

/* A host name (here "localhost", from /etc/hosts) resolves on the resolver threads and the
 * client connects; driven with mqtls_client_step(), which polls the resolution's fd. */
static char g_localhost_uri[64];

static void localhost_uri(mqtls_client_cfg_t *cfg, mqtls_tls_cfg_t *tls)
{
    (void)tls;
    (void)snprintf(g_localhost_uri, sizeof g_localhost_uri, "mqtt://localhost:%u",
                   g_broker.port_plain);
    cfg->uri = g_localhost_uri;
}

static void test_client_host_name_resolves_and_connects(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_t *c = make_client(&r, PLAIN, MQTLS_V311, NULL, true, localhost_uri);
    connect_and_wait(c, &r);
    subscribe_and_wait(c, &r, "name/loop", 1);
    mqtls_publish_opts_t o = {.qos = 1};
    assert_int_equal(mqtls_client_publish(c, "name/loop", "hi", 2, &o, NULL), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.messages, 1, 5000));
    assert_int_equal(r.errors, 0);
    mqtls_client_destroy(c);
}

/* Many clients share one TLS context and fail the same way (wrong CA): the failure is
 * diagnosed once, the credential files are read once, and every client's MQTLS_EVENT_ERROR
 * still carries the findings. */
typedef struct diag_rec {
    int errors, with_cause;
} diag_rec_t;

static void on_diag(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    diag_rec_t *d = ctx;
    if (ev->type != MQTLS_EVENT_ERROR) {
        return;
    }
    d->errors++;
    for (size_t i = 0; i < mqtls_findings_count(ev->u.error.findings); i++) {
        const char *id = mqtls_finding_id(mqtls_findings_get(ev->u.error.findings, i));
        d->with_cause += strcmp(id, "untrusted-issuer") == 0;
    }
}

static void test_client_shared_tls_context_diagnoses_a_failure_once(void **state)
{
    (void)state;
    enum { N = 40 };
    static diag_rec_t d;
    memset(&d, 0, sizeof d);
    mqtls_loop_t *loop = NULL;
    assert_int_equal(mqtls_loop_create(&loop), MQTLS_OK);
    mqtls_client_t *cs[N];
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtts://127.0.0.1:%u", g_broker.port_mtls);
    for (int i = 0; i < N; i++) {
        mqtls_client_cfg_t cfg;
        mqtls_client_cfg_init(&cfg);
        mqtls_tls_cfg_t tls;
        mqtls_tls_cfg_init(&tls);
        tls.ca_file = g_pki.other_ca_crt;
        tls.cert_file = g_pki.client_crt;
        tls.key_file = g_pki.client_key;
        cfg.tls = &tls;
        cfg.uri = uri;
        cfg.reconnect.enabled = false;
        cfg.on_event = on_diag;
        cfg.event_ctx = &d;
        cfg.tls_share_with = i > 0 ? cs[0] : NULL;
        assert_int_equal(mqtls_client_create(&cfg, NULL, &cs[i]), MQTLS_OK);
        assert_int_equal(mqtls_loop_add(loop, cs[i]), MQTLS_OK);
        assert_int_equal(mqtls_client_connect(cs[i]), MQTLS_OK);
    }
    int64_t end = th_now_ms() + 20000;
    while (d.errors < N && th_now_ms() < end) {
        assert_int_equal(mqtls_loop_run_once(loop, 50), MQTLS_OK);
    }
    mqtls__diag_stats_t ds;
    mqtls__client_diag_stats(cs[N - 1], &ds);
    print_message("%d clients failed alike: %llu diagnosis run(s), %llu from the cache, %llu "
                  "credential file reads\n",
                  N, (unsigned long long)ds.runs, (unsigned long long)ds.hits,
                  (unsigned long long)ds.file_reads);
    assert_int_equal(d.errors, N);
    assert_int_equal(d.with_cause, N);
    assert_int_equal(ds.runs, 1);
    assert_int_equal(ds.hits, N - 1);
    assert_int_equal(ds.file_reads, 3);
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(mqtls_client_findings(cs[i]), mqtls_client_findings(cs[0]));
    }
    for (int i = 0; i < N; i++) {
        mqtls_client_destroy(cs[i]); /* leaves the loop; cs[0] first: the context outlives it */
    }
    mqtls_loop_destroy(loop);
}

/* --- threaded mode ---------------------------------------------------------------------- */

static void test_client_threaded_publish_from_main_thread(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, MTLS, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "thr/t", 1);
    mqtls_client_t *pub = make_client(&rp, MTLS, MQTLS_V5, NULL, true, NULL);
    assert_int_equal(mqtls_client_start(pub), MQTLS_OK);
    assert_int_equal(mqtls_client_start(pub), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_connect(pub), MQTLS_OK);
    assert_int_equal(mqtls_client_step(pub, 0), MQTLS_ERR_STATE);
    /* Publishing before CONNACK is fine: QoS 1 waits in the outbox. */
    uint8_t payload[100];
    for (uint32_t i = 0; i < 200; i++) {
        fill_pattern(payload, sizeof payload, i);
        mqtls_publish_opts_t o = {.qos = 1};
        assert_int_equal(mqtls_client_publish(pub, "thr/t", payload, sizeof payload, &o, NULL),
                         MQTLS_OK);
    }
    assert_true(run_until(&sub, 1, &rs.messages, 200, 10000));
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(mqtls_client_stop(pub), MQTLS_OK);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

typedef struct pub_job {
    mqtls_client_t *c;
    uint32_t first, count;
    int failures;
} pub_job_t;

static void *publisher_thread(void *arg)
{
    pub_job_t *j = arg;
    uint8_t payload[48];
    for (uint32_t i = 0; i < j->count; i++) {
        fill_pattern(payload, sizeof payload, j->first + i);
        mqtls_status_t st =
            publish_patiently(j->c, "thr/many", payload, sizeof payload, (uint8_t)(i % 3u));
        if (st != MQTLS_OK) {
            j->failures++;
        }
    }
    return NULL;
}

static void test_client_threaded_publish_from_four_threads(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, PLAIN, MQTLS_V5, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "thr/many", 2);
    mqtls_client_t *pub = make_client(&rp, PLAIN, MQTLS_V5, NULL, true, NULL);
    assert_int_equal(mqtls_client_start(pub), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(pub), MQTLS_OK);
    pthread_t th[4];
    pub_job_t jobs[4];
    for (uint32_t i = 0; i < 4; i++) {
        jobs[i] = (pub_job_t){pub, 1000u + i * 250u, 250u, 0};
        assert_int_equal(pthread_create(&th[i], NULL, publisher_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        (void)pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    /* QoS 0 may be dropped by a broker under load; QoS 1 and 2 (two thirds) may not. */
    int64_t end = th_now_ms() + 15000;
    int qos12_missing = 1;
    while (th_now_ms() < end && qos12_missing > 0) {
        (void)mqtls_client_step(sub, 10);
        qos12_missing = 0;
        for (uint32_t k = 0; k < 1000; k++) {
            if (k % 250u % 3u != 0 && rs.seen[1000u + k] == 0) {
                qos12_missing++;
            }
        }
    }
    assert_int_equal(qos12_missing, 0);
    assert_int_equal(rs.bad_payloads, 0);
    assert_int_equal(mqtls_client_stop(pub), MQTLS_OK);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

/* --- throughput (a figure for the report, asserted only for completeness) --------------- */

static void throughput(mode_t_ mode, uint8_t qos, int n, const char *tag)
{
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make_client(&rs, mode, MQTLS_V311, NULL, true, NULL);
    mqtls_client_t *pub = make_client(&rp, mode, MQTLS_V311, NULL, true, NULL);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "tp/t", qos);
    connect_and_wait(pub, &rp);
    mqtls_client_t *both[2] = {pub, sub};
    uint8_t payload[64];
    memset(payload, 0x42, sizeof payload);
    int sent = 0;
    int64_t t0 = th_now_ms();
    int64_t end = t0 + 30000;
    while (th_now_ms() < end && rs.messages < n) {
        for (int k = 0; k < 64 && sent < n; k++) {
            mqtls_publish_opts_t o = {.qos = qos};
            if (mqtls_client_publish(pub, "tp/t", payload, sizeof payload, &o, NULL) != MQTLS_OK) {
                break;
            }
            sent++;
        }
        for (int i = 0; i < 2; i++) {
            (void)mqtls_client_step(both[i], 0);
        }
    }
    int64_t ms = th_now_ms() - t0;
    print_message("throughput %s QoS %u: %d x 64 B through mosquitto in %lld ms = %.0f msg/s\n",
                  tag, qos, rs.messages, (long long)ms,
                  ms > 0 ? (double)rs.messages * 1000.0 / (double)ms : 0.0);
    /* QoS 0 may be shed by the broker under load; QoS 1 may not be lost. */
    if (qos > 0) {
        assert_int_equal(rs.messages, n);
    } else {
        assert_true(rs.messages > 0);
    }
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void test_client_throughput_figures(void **state)
{
    (void)state;
    throughput(PLAIN, 0, 50000, "plain");
    throughput(PLAIN, 1, 20000, "plain");
    throughput(MTLS, 0, 50000, "mtls");
    throughput(MTLS, 1, 20000, "mtls");
}

/* --- many clients on one thread ---------------------------------------------------------- */

typedef struct many {
    int connected, subscribed, messages, published, errors;
    mqtls_error_t first_error;
} many_t;

static void on_many(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    many_t *m = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED: {
        m->connected++;
        mqtls_subscription_t sub = {mqtls_client_id(c), 1};
        (void)mqtls_client_subscribe(c, &sub, 1, NULL, NULL);
        break;
    }
    case MQTLS_EVENT_SUBSCRIBED: {
        m->subscribed++;
        mqtls_publish_opts_t o = {.qos = 1};
        (void)mqtls_client_publish(c, mqtls_client_id(c), "ping", 4, &o, NULL);
        break;
    }
    case MQTLS_EVENT_MESSAGE:
        m->messages++;
        break;
    case MQTLS_EVENT_PUBLISHED:
        m->published++;
        break;
    case MQTLS_EVENT_ERROR:
        if (m->errors++ == 0) {
            m->first_error = ev->u.error.err;
        }
        break;
    default:
        break;
    }
}

static void many_clients(mode_t_ mode, int n, const char *tag)
{
    static many_t m;
    memset(&m, 0, sizeof m);
    mqtls_loop_t *loop = NULL;
    assert_int_equal(mqtls_loop_create(&loop), MQTLS_OK);
    mqtls_client_t **cs = calloc((size_t)n, sizeof *cs);
    assert_non_null(cs);
    char uri[64];
    uint16_t port = mode == PLAIN ? g_broker.port_plain : g_broker.port_mtls;
    (void)snprintf(uri, sizeof uri, "%s://127.0.0.1:%u", mode == PLAIN ? "mqtt" : "mqtts", port);
    int64_t t0 = th_now_ms();
    for (int i = 0; i < n; i++) {
        mqtls_client_cfg_t cfg;
        mqtls_client_cfg_init(&cfg);
        mqtls_tls_cfg_t tls;
        mqtls_tls_cfg_init(&tls);
        cfg.tls = &tls;
        cfg.uri = uri;
        cfg.on_event = on_many;
        cfg.event_ctx = &m;
        cfg.outbox_max_messages = 16;
        cfg.outbox_max_bytes = 4096;
        /* All handshakes start together against one single-threaded broker: on a loaded
         * machine (or under ASan) the last ones take seconds. This test is about one thread
         * driving them all, not handshake latency: the whole run is bounded below instead. */
        cfg.connect_timeout_ms = 30000;
        if (mode != PLAIN) {
            tls.ca_file = g_pki.ca_crt;
            tls.cert_file = g_pki.client_crt;
            tls.key_file = g_pki.client_key;
            /* Parse the credentials once; every other client shares the context. */
            cfg.tls_share_with = i > 0 ? cs[0] : NULL;
        }
        assert_int_equal(mqtls_client_create(&cfg, NULL, &cs[i]), MQTLS_OK);
        assert_int_equal(mqtls_loop_add(loop, cs[i]), MQTLS_OK);
        assert_int_equal(mqtls_client_connect(cs[i]), MQTLS_OK);
    }
    int64_t t1 = th_now_ms();
    int64_t end = t1 + 30000;
    int64_t connected_at = 0;
    while (th_now_ms() < end && (m.messages < n || m.published < n)) {
        assert_int_equal(mqtls_loop_run_once(loop, 50), MQTLS_OK);
        if (connected_at == 0 && m.connected == n) {
            connected_at = th_now_ms();
        }
    }
    int64_t t2 = th_now_ms();
    char first[256] = "";
    if (m.errors > 0) {
        (void)mqtls_strerror(&m.first_error, first, sizeof first);
    }
    print_message("%s: %d clients on one thread: create %lld ms, all connected after %lld ms, "
                  "all round trips after %lld ms (errors %d%s%s)\n",
                  tag, n, (long long)(t1 - t0), (long long)(connected_at - t1),
                  (long long)(t2 - t1), m.errors, m.errors > 0 ? ", first: " : "", first);
    assert_int_equal(m.connected, n);
    assert_int_equal(m.messages, n);
    assert_int_equal(m.published, n);
    assert_int_equal(m.errors, 0);
    for (int i = 0; i < n; i++) { /* cs[0] first: the shared context outlives it */
        assert_int_equal(mqtls_loop_remove(loop, cs[i]), MQTLS_OK);
        mqtls_client_destroy(cs[i]);
    }
    free(cs);
    mqtls_loop_destroy(loop);
}

static void test_client_loop_drives_many_plain_clients(void **state)
{
    (void)state;
    many_clients(PLAIN, 300, "plain");
}

static void test_client_loop_drives_many_mtls_clients(void **state)
{
    (void)state;
    many_clients(MTLS, 100, "mtls");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_plain_v311_round_trip),
        cmocka_unit_test(test_client_plain_v5_round_trip),
        cmocka_unit_test(test_client_plain_v31_round_trip),
        cmocka_unit_test(test_client_tls_v311_round_trip),
        cmocka_unit_test(test_client_mtls_v311_round_trip),
        cmocka_unit_test(test_client_mtls_v5_round_trip),
        cmocka_unit_test(test_client_ws_v311_round_trip),
        cmocka_unit_test(test_client_ws_v5_round_trip),
        cmocka_unit_test(test_client_wss_mtls_v311_round_trip),
        cmocka_unit_test(test_client_wss_mtls_v5_round_trip),
        cmocka_unit_test(test_client_ws_qos0_then_disconnect_is_delivered),
        cmocka_unit_test(test_client_ws_default_subprotocol_refused_by_websockify),
        cmocka_unit_test(test_client_wss_without_client_cert_fails_in_tls),
        cmocka_unit_test(test_client_retained_message_reaches_late_subscriber),
        cmocka_unit_test(test_client_v5_properties_and_unsubscribe),
        cmocka_unit_test(test_client_disconnect_flushes_queued_qos0_and_reports_ok),
        cmocka_unit_test(test_client_v5_outbound_topic_alias_with_mosquitto),
        cmocka_unit_test(test_client_keepalive_with_live_and_frozen_broker),
        cmocka_unit_test(test_client_broker_maximum_packet_size),
        cmocka_unit_test(test_client_will_published_on_abnormal_disconnect),
        cmocka_unit_test(test_client_v5_will_carries_properties),
        cmocka_unit_test(test_client_persistent_session_gets_queued_messages),
        cmocka_unit_test(test_client_mtls_many_ids_in_flight_both_directions),
        cmocka_unit_test(test_client_mtls_many_subscriptions_resubscribed_after_restart),
        cmocka_unit_test(test_client_broker_down_reports_tcp_refused),
        cmocka_unit_test(test_client_tls_to_plain_port_fails_in_tls),
        cmocka_unit_test(test_client_plain_to_tls_port_fails),
        cmocka_unit_test(test_client_wrong_ca_reports_tls_verify),
        cmocka_unit_test(test_client_missing_client_cert_fails_in_tls),
        cmocka_unit_test(test_client_host_name_resolves_and_connects),
        cmocka_unit_test(test_client_shared_tls_context_diagnoses_a_failure_once),
        cmocka_unit_test(test_client_threaded_publish_from_main_thread),
        cmocka_unit_test(test_client_threaded_publish_from_four_threads),
        cmocka_unit_test(test_client_throughput_figures),
        cmocka_unit_test(test_client_loop_drives_many_plain_clients),
        cmocka_unit_test(test_client_loop_drives_many_mtls_clients),
        cmocka_unit_test(test_client_broker_restart_qos1_stream_all_arrive),
        cmocka_unit_test(test_client_broker_restart_qos2_stream_all_arrive_once),
        cmocka_unit_test(test_client_broker_kill_qos1_stream),
        cmocka_unit_test(test_client_broker_kill_qos2_stream_no_duplicates),
    };
    if (getenv("MQTLS_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("MQTLS_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
