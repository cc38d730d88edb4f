/* WebSocket transport against a real bridge: websockify 0.10 (Debian) in front of a plain
 * mosquitto (Debian's mosquitto has no WebSocket listener). ws:// = WS over TCP, wss:// = WS
 * over the TLS transport with websockify --cert/--key from the harness PKI.
 *
 * websockify 0.10 facts (websocket.py, websockifyserver.py): it refuses any offered
 * subprotocol except "binary" ("HTTP/1.1 400 Invalid protocol selected"), accepts a request
 * without Sec-WebSocket-Protocol, and sends everything as binary frames (opcode 0x2).
 * Every wait has a deadline; every process started here is stopped by its PID. */
#include <errno.h>
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

#include "common/tls_facts.h"

#include "drive.h"
#include "harness.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"

static th_pki_t pki;
static th_broker_t broker;
static th_websockify_t wsk_plain; /* websockify, plain */
static th_websockify_t wsk_tls;   /* websockify --ssl-only */

/* MQTT 3.1.1 CONNECT, clean session, keepalive 60, empty client id [MQTT-3.1.3-6]. */
static const uint8_t connect_311[] = {0x10, 0x0C, 0x00, 0x04, 'M',  'Q',  'T',
                                      'T',  0x04, 0x02, 0x00, 0x3C, 0x00, 0x00};
static const uint8_t connack_ok[] = {0x20, 0x02, 0x00, 0x00};

/* ---- broker and bridges ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (system("command -v websockify > /dev/null 2>&1") != 0) {
        fprintf(stderr, "websockify is not installed (scripts/install-deps.sh)\n");
        return -1; /* a failure, never a silent skip */
    }
    if (th_pki_make(&pki) != 0 || th_broker_start(&broker, &pki, NULL) != 0) {
        return -1;
    }
    if (th_websockify_start(&wsk_plain, broker.port_plain, NULL, false) != 0 ||
        th_websockify_start(&wsk_tls, broker.port_plain, &pki, false) != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_websockify_stop(&wsk_plain);
    th_websockify_stop(&wsk_tls);
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    return 0;
}

/* ---- driving a transport with poll() --------------------------------------------------- */

/* Read one MQTT packet: fixed header, remaining length, body. */
static mqtls_status_t read_packet(mqtls_transport_t *t, uint8_t *type, uint8_t *body, size_t cap,
                                  size_t *len)
{
    uint8_t b = 0;
    mqtls_status_t st = th_read_exact(t, type, 1, 10000);
    size_t rl = 0;
    unsigned shift = 0;
    for (int i = 0; st == MQTLS_OK && i < 4; i++) {
        st = th_read_exact(t, &b, 1, 10000);
        rl |= (size_t)(b & 0x7F) << shift;
        shift += 7;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    if (st != MQTLS_OK) {
        return st;
    }
    assert_true(rl <= cap);
    *len = rl;
    return th_read_exact(t, body, rl, 10000);
}

/* ---- connections ------------------------------------------------------------------------ */

typedef struct {
    mqtls__tls_ctx_t *ctx;
    mqtls_transport_t *t;
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
} conn_t;

static mqtls_status_t ws_open(conn_t *c, const char *subprotocol)
{
    memset(c, 0, sizeof *c);
    mqtls_error_init(&c->err);
    mqtls_transport_t *tcp = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", wsk_plain.port, 5000, &c->err, &tcp), MQTLS_OK);
    assert_int_equal(
        mqtls__ws_create(tcp, "127.0.0.1", wsk_plain.port, "/mqtt", subprotocol, &c->err, &c->t),
        MQTLS_OK);
    return th_drive_connect(c->t, 10000);
}

static mqtls_status_t wss_open(conn_t *c, const char *host)
{
    memset(c, 0, sizeof *c);
    mqtls_error_init(&c->err);
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.ca_crt};
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &c->err, &c->ctx), MQTLS_OK);
    mqtls_transport_t *tcp = NULL;
    mqtls_transport_t *tls = NULL;
    assert_int_equal(mqtls__tcp_create(host, wsk_tls.port, 5000, &c->err, &tcp), MQTLS_OK);
    assert_int_equal(mqtls__tls_create(c->ctx, tcp, host, &c->facts, &c->err, &tls), MQTLS_OK);
    assert_int_equal(mqtls__ws_create(tls, host, wsk_tls.port, "/mqtt", "", &c->err, &c->t), MQTLS_OK);
    return th_drive_connect(c->t, 10000);
}

static void conn_close(conn_t *c)
{
    if (c->t != NULL) {
        c->t->ops->close(c->t);
        c->t->ops->destroy(c->t);
    }
    if (c->ctx != NULL) {
        mqtls__tls_facts_free(&c->facts);
        mqtls__tls_ctx_destroy(c->ctx);
    }
    memset(c, 0, sizeof *c);
}

static void expect_connack(conn_t *c)
{
    assert_int_equal(th_write_all(c->t, connect_311, sizeof connect_311), MQTLS_OK);
    uint8_t buf[4];
    mqtls_status_t st = th_read_exact(c->t, buf, sizeof buf, 10000);
    if (st != MQTLS_OK) {
        char line[400];
        (void)mqtls_strerror(&c->err, line, sizeof line);
        fail_msg("no CONNACK: %s (%s)", mqtls_status_name(st), line);
    }
    assert_memory_equal(buf, connack_ok, sizeof connack_ok);
}

/* SUBSCRIBE to a topic, PUBLISH 100 KiB to it (header and payload as two gather elements),
 * and get the same bytes back. Returns the round-trip time in ms. */
static int64_t pubsub_100k(conn_t *c, const char *topic)
{
    size_t tlen = strlen(topic);
    uint8_t sub[64];
    size_t n = 0;
    sub[n++] = 0x82;
    sub[n++] = (uint8_t)(2 + 2 + tlen + 1);
    sub[n++] = 0x00;
    sub[n++] = 0x01; /* packet id 1 */
    sub[n++] = 0x00;
    sub[n++] = (uint8_t)tlen;
    memcpy(sub + n, topic, tlen);
    n += tlen;
    sub[n++] = 0x00; /* QoS 0 */
    assert_int_equal(th_write_all(c->t, sub, n), MQTLS_OK);
    uint8_t type = 0;
    static uint8_t body[200000];
    size_t blen = 0;
    assert_int_equal(read_packet(c->t, &type, body, sizeof body, &blen), MQTLS_OK);
    assert_int_equal(type, 0x90); /* SUBACK */
    assert_int_equal(blen, 3);
    assert_int_equal(body[2], 0x00);

    static uint8_t payload[100 * 1024];
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)(i * 7u + (i >> 9));
    }
    size_t rl = 2 + tlen + sizeof payload;
    uint8_t hdr[80];
    size_t h = 0;
    hdr[h++] = 0x30; /* PUBLISH QoS 0 */
    for (size_t x = rl;;) {
        uint8_t d = (uint8_t)(x & 0x7F);
        x >>= 7;
        hdr[h++] = (uint8_t)(d | (x > 0 ? 0x80 : 0));
        if (x == 0) {
            break;
        }
    }
    hdr[h++] = 0x00;
    hdr[h++] = (uint8_t)tlen;
    memcpy(hdr + h, topic, tlen);
    h += tlen;
    int64_t t0 = th_now_ms();
    mqtls_iovec_t v[2] = {{hdr, h}, {payload, sizeof payload}};
    assert_int_equal(th_write_iov(c->t, v, 2), MQTLS_OK);
    assert_int_equal(read_packet(c->t, &type, body, sizeof body, &blen), MQTLS_OK);
    int64_t ms = th_now_ms() - t0;
    assert_int_equal(type, 0x30);
    assert_int_equal(blen, rl);
    assert_memory_equal(body + 2, topic, tlen);
    assert_memory_equal(body + 2 + tlen, payload, sizeof payload);
    return ms;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_ws_websockify_connect_connack(void **state)
{
    (void)state;
    conn_t c;
    int64_t t0 = th_now_ms();
    assert_int_equal(ws_open(&c, ""), MQTLS_OK);
    int64_t hs_ms = th_now_ms() - t0;
    assert_null(mqtls__ws_note(c.t));
    assert_true(c.t->ops->fd(c.t) >= 0);
    expect_connack(&c);
    fprintf(stderr, "ws:// upgrade in %lld ms\n", (long long)hs_ms);
    conn_close(&c);
}

static void test_ws_websockify_refuses_mqtt_subprotocol(void **state)
{
    (void)state;
    conn_t c;
    /* websockify 0.10 only accepts "binary": a real refusal with its status line. */
    assert_int_equal(ws_open(&c, NULL), MQTLS_ERR_WS_HANDSHAKE);
    assert_int_equal(c.err.layer, MQTLS_LAYER_WS);
    assert_string_equal(c.err.detail, "HTTP/1.1 400 Invalid protocol selected");
    conn_close(&c);
    /* Offered as a list, the bridge picks one it knows. */
    assert_int_equal(ws_open(&c, "mqtt,binary"), MQTLS_OK);
    assert_string_equal(mqtls__ws_subprotocol(c.t), "binary");
    expect_connack(&c);
    conn_close(&c);
}

static void test_ws_websockify_pubsub_100k(void **state)
{
    (void)state;
    conn_t c;
    assert_int_equal(ws_open(&c, ""), MQTLS_OK);
    expect_connack(&c);
    int64_t ms = pubsub_100k(&c, "mqtls/ws/big");
    fprintf(stderr, "ws:// 100 KiB publish->deliver round trip %lld ms\n", (long long)ms);
    conn_close(&c);
}

static void test_ws_websockify_reconnect_after_close(void **state)
{
    (void)state;
    conn_t c;
    assert_int_equal(ws_open(&c, ""), MQTLS_OK);
    expect_connack(&c);
    c.t->ops->close(c.t); /* sends CLOSE 1000 */
    assert_int_equal(th_drive_connect(c.t, 10000), MQTLS_OK);
    expect_connack(&c);
    conn_close(&c);
}

static void test_wss_websockify_tls_connect_and_pubsub(void **state)
{
    (void)state;
    conn_t c;
    int64_t t0 = th_now_ms();
    mqtls_status_t st = wss_open(&c, "127.0.0.1");
    if (st != MQTLS_OK) {
        char line[400];
        (void)mqtls_strerror(&c.err, line, sizeof line);
        fail_msg("wss connect: %s", line);
    }
    int64_t hs_ms = th_now_ms() - t0;
    assert_true(c.facts.server_hello_seen);
    assert_true(c.facts.hostname_checked);
    expect_connack(&c);
    int64_t ms = pubsub_100k(&c, "mqtls/wss/big");
    fprintf(stderr, "wss:// TLS+upgrade in %lld ms; 100 KiB round trip %lld ms\n", (long long)hs_ms,
            (long long)ms);
    conn_close(&c);
}

static void test_ws_plain_mqtt_port_is_not_websocket(void **state)
{
    (void)state;
    /* Pointing ws:// at mosquitto's plain MQTT port: it drops the HTTP request. */
    conn_t c;
    memset(&c, 0, sizeof c);
    mqtls_error_init(&c.err);
    mqtls_transport_t *tcp = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", broker.port_plain, 5000, &c.err, &tcp),
                     MQTLS_OK);
    assert_int_equal(
        mqtls__ws_create(tcp, "127.0.0.1", broker.port_plain, NULL, NULL, &c.err, &c.t), MQTLS_OK);
    mqtls_status_t st = th_drive_connect(c.t, 10000);
    assert_true(st == MQTLS_ERR_WS_HANDSHAKE || st == MQTLS_ERR_CONN_RESET);
    conn_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_websockify_connect_connack),
        cmocka_unit_test(test_ws_websockify_refuses_mqtt_subprotocol),
        cmocka_unit_test(test_ws_websockify_pubsub_100k),
        cmocka_unit_test(test_ws_websockify_reconnect_after_close),
        cmocka_unit_test(test_wss_websockify_tls_connect_and_pubsub),
        cmocka_unit_test(test_ws_plain_mqtt_port_is_not_websocket),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
