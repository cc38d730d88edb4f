/* The full client (public API + runtime + session) over a scripted in-memory transport and a
 * fake clock, driven with mqtls_client_step(): splits, short writes, would-block, close and
 * error reads, reconnect with backoff, keepalive and CONNACK timeouts, coalesced writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_transport.h"
#include "mqtls/client.h"
#include "mqtls/diag.h"
#include "runtime/runtime_internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static fake_transport_t g_net;
static int64_t g_now;
static mqtls_status_t g_factory_status;

typedef struct rec {
    int connected, disconnected, errors, published, messages, subscribed;
    bool session_present;
    mqtls_error_t last_error;
    const mqtls_findings_t *last_findings; /* of the last MQTLS_EVENT_ERROR */
    mqtls_error_t last_why;
    bool will_reconnect;
    uint32_t reconnect_in_ms;
    uint16_t last_id;
    char topic[64];
} rec_t;

static rec_t g_rec;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
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
        r->will_reconnect = ev->u.disconnected.will_reconnect;
        r->reconnect_in_ms = ev->u.disconnected.reconnect_in_ms;
        break;
    case MQTLS_EVENT_ERROR:
        r->errors++;
        r->last_error = ev->u.error.err;
        r->last_findings = ev->u.error.findings;
        break;
    case MQTLS_EVENT_PUBLISHED:
        r->published++;
        r->last_id = ev->u.published.packet_id;
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        r->subscribed++;
        break;
    case MQTLS_EVENT_MESSAGE: {
        r->messages++;
        size_t n = ev->u.message.topic.len < sizeof r->topic - 1u ? ev->u.message.topic.len
                                                                 : sizeof r->topic - 1u;
        memcpy(r->topic, ev->u.message.topic.data, n);
        r->topic[n] = '\0';
        break;
    }
    default:
        break;
    }
}

static mqtls_status_t factory(void *ctx, mqtls_error_t *err, mqtls_transport_t **out)
{
    (void)ctx;
    if (g_factory_status != MQTLS_OK) {
        return g_factory_status;
    }
    g_net.base.err = err;
    *out = &g_net.base;
    return MQTLS_OK;
}

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return g_now;
}

static mqtls_client_t *make(mqtls_version_t v, bool clean, void (*tweak)(mqtls_client_cfg_t *))
{
    memset(&g_rec, 0, sizeof g_rec);
    g_now = 1000000;
    g_factory_status = MQTLS_OK;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtt://127.0.0.1";
    cfg.client_id = "rt";
    cfg.version = v;
    cfg.clean_start = clean;
    cfg.keepalive_s = 60;
    cfg.connect_timeout_ms = 5000;
    cfg.reconnect.min_ms = 100;
    cfg.reconnect.max_ms = 1000;
    cfg.on_event = on_event;
    cfg.event_ctx = &g_rec;
    if (tweak != NULL) {
        tweak(&cfg);
    }
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    mqtls__client_set_transport_factory(c, factory, NULL);
    mqtls__client_set_clock(c, fake_clock, NULL);
    mqtls__client_seed(c, 42);
    return c;
}

static void steps(mqtls_client_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(mqtls_client_step(c, 0), MQTLS_OK);
    }
}

/* Decode the packets in the recorded output. */
static size_t written_packets(mqtls_version_t v, mqtls_packet_t *out, size_t max)
{
    mqtls_codec_cfg_t cc = {.version = v};
    size_t off = 0;
    size_t n = 0;
    while (off < g_net.written_len && n < max) {
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc,
                                             &out[n], &used),
                         MQTLS_OK);
        off += used;
        n++;
    }
    assert_int_equal(off, g_net.written_len);
    return n;
}

static const uint8_t connack_ok[] = {0x20, 0x02, 0x00, 0x00};
static const uint8_t connack_sp[] = {0x20, 0x02, 0x01, 0x00};

/* --- tests ------------------------------------------------------------------------------ */

static void test_client_connack_split_across_reads_connects(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 1), FAKE_WOULD_BLOCK(),
                                 FAKE_READ(connack_ok + 1, 3)};
    const fake_step_t writes[] = {FAKE_WRITE_ANY()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(c), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTING);
    steps(c, 1);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_MQTT_CONNECTING);
    steps(c, 1);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    assert_int_equal(g_rec.connected, 1);
    assert_true(fake_reads_done(&g_net));
    assert_true(fake_writes_done(&g_net));
    mqtls_packet_t p[4];
    assert_int_equal(written_packets(MQTLS_V311, p, 4), 1);
    assert_int_equal(p[0].type, MQTLS_CONNECT);
    assert_memory_equal(p[0].u.connect.client_id.data, "rt", 2);
    mqtls_client_destroy(c);
    assert_true(g_net.destroyed);
}

static void empty_id_v5(mqtls_client_cfg_t *cfg)
{
    cfg->client_id = NULL;
    cfg->empty_client_id = true;
}

/* An empty client id on the wire; the broker's Assigned Client Identifier becomes the id, and
 * the reconnect sends it. */
static void test_client_empty_id_takes_the_assigned_one(void **state)
{
    (void)state;
    static const uint8_t connack_assigned[] = {0x20, 0x0C, 0x00, 0x00, 0x09, 0x12, 0x00,
                                               0x06, 'a',  'u',  't',  'o',  '-',  '7'};
    static const uint8_t connack_v5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    const fake_step_t reads[] = {FAKE_READ(connack_assigned, sizeof connack_assigned),
                                 FAKE_WOULD_BLOCK(), FAKE_CLOSE(),
                                 FAKE_READ(connack_v5, sizeof connack_v5)};
    const fake_step_t writes[] = {FAKE_WRITE_ANY(), FAKE_WRITE_ANY()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V5, true, empty_id_v5);
    assert_string_equal(mqtls_client_id(c), "");
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 3);
    assert_int_equal(g_rec.connected, 1);
    assert_string_equal(mqtls_client_id(c), "auto-7");
    for (int i = 0; i < 50 && g_rec.connected < 2; i++) {
        g_now += 100;
        steps(c, 1);
    }
    assert_int_equal(g_rec.connected, 2);
    mqtls_packet_t p[4];
    assert_int_equal(written_packets(MQTLS_V5, p, 4), 2);
    assert_int_equal(p[0].type, MQTLS_CONNECT);
    assert_int_equal(p[0].u.connect.client_id.len, 0);
    assert_int_equal(p[1].type, MQTLS_CONNECT);
    assert_int_equal(p[1].u.connect.client_id.len, 6);
    assert_memory_equal(p[1].u.connect.client_id.data, "auto-7", 6);
    mqtls_client_destroy(c);
}

/* Where the protocol forbids an empty id, and a bind address that is not an IP literal. */
static void test_client_identity_config_checks(void **state)
{
    (void)state;
    static const struct {
        mqtls_version_t v;
        bool clean;
        const char *id;
        const char *bind;
        mqtls_status_t want;
    } cases[] = {
        {MQTLS_V5, false, NULL, NULL, MQTLS_OK},
        {MQTLS_V311, true, "", NULL, MQTLS_OK},
        {MQTLS_V311, false, NULL, NULL, MQTLS_ERR_INVALID_ARG}, /* [MQTT-3.1.3-7] */
        {MQTLS_V31, true, NULL, NULL, MQTLS_ERR_INVALID_ARG},
        {MQTLS_V5, true, "given", NULL, MQTLS_ERR_INVALID_ARG},
        {MQTLS_V5, true, NULL, "127.0.0.1", MQTLS_OK},
        {MQTLS_V5, true, NULL, "::1", MQTLS_OK},
        {MQTLS_V5, true, NULL, "localhost", MQTLS_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mqtls_client_cfg_t cfg;
        mqtls_client_cfg_init(&cfg);
        cfg.uri = "mqtt://127.0.0.1";
        cfg.version = cases[i].v;
        cfg.clean_start = cases[i].clean;
        cfg.client_id = cases[i].id;
        cfg.empty_client_id = true;
        cfg.bind_address = cases[i].bind;
        mqtls_error_t err;
        mqtls_client_t *c = NULL;
        assert_int_equal(mqtls_client_create(&cfg, &err, &c), cases[i].want);
        if (cases[i].want != MQTLS_OK) {
            assert_int_equal(err.layer, MQTLS_LAYER_CONFIG);
            assert_true(err.detail[0] != '\0');
        }
        mqtls_client_destroy(c);
    }
}

static void test_client_exact_connect_bytes_v311(void **state)
{
    (void)state;
    /* CONNECT, 3.1.1, clean session, keepalive 60, client id "rt". */
    static const uint8_t connect[] = {0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                                      0x02, 0x00, 0x3C, 0x00, 0x02, 'r', 't'};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    const fake_step_t writes[] = {FAKE_SHORT(3), FAKE_WOULD_BLOCK(), FAKE_EXPECT(connect + 3, 13)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 3);
    assert_true(fake_writes_done(&g_net));
    assert_int_equal(g_net.written_len, sizeof connect);
    assert_memory_equal(g_net.written, connect, sizeof connect);
    assert_int_equal(g_rec.connected, 1);
    mqtls_client_destroy(c);
}

static void test_client_short_writes_deliver_whole_packets(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    const fake_step_t writes[] = {FAKE_WRITE_ANY(), FAKE_SHORT(1), FAKE_WOULD_BLOCK(),
                                  FAKE_SHORT(10), FAKE_WOULD_BLOCK(), FAKE_SHORT(100)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    static uint8_t payload[1000];
    memset(payload, 0x5A, sizeof payload);
    mqtls_publish_opts_t o = {.qos = 1};
    uint16_t id = 0;
    assert_int_equal(mqtls_client_publish(c, "a/b", payload, sizeof payload, &o, &id), MQTLS_OK);
    assert_int_equal(mqtls_client_publish(c, "a/b", payload, 10, NULL, NULL), MQTLS_OK);
    steps(c, 10);
    assert_true(fake_writes_done(&g_net));
    mqtls_packet_t p[8];
    assert_int_equal(written_packets(MQTLS_V311, p, 8), 3);
    assert_int_equal(p[1].type, MQTLS_PUBLISH);
    assert_int_equal(p[1].u.publish.packet_id, id);
    assert_int_equal(p[1].u.publish.payload.len, 1000);
    assert_int_equal(p[2].u.publish.payload.len, 10);
    assert_int_equal(mqtls_client_outbox_count(c), 1);
    mqtls_client_destroy(c);
}

static void test_client_qos0_direct_write_and_coalescing(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    size_t calls = g_net.writev_calls;
    /* QoS 0 on an idle connection: written from inside publish, no step needed. */
    assert_int_equal(mqtls_client_publish(c, "q0", "xyz", 3, NULL, NULL), MQTLS_OK);
    assert_int_equal(g_net.writev_calls, calls + 1);
    assert_int_equal(mqtls_client_outbox_count(c), 0);
    /* Five QoS 1 queued together go out in ONE writev. */
    mqtls_publish_opts_t o = {.qos = 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(mqtls_client_publish(c, "q1", "abc", 3, &o, NULL), MQTLS_OK);
    }
    calls = g_net.writev_calls;
    steps(c, 1);
    assert_int_equal(g_net.writev_calls, calls + 1);
    mqtls_packet_t p[8];
    assert_int_equal(written_packets(MQTLS_V311, p, 8), 7);
    assert_int_equal(p[1].u.publish.qos, 0);
    assert_memory_equal(p[1].u.publish.payload.data, "xyz", 3);
    mqtls_client_destroy(c);
}

static void test_client_close_read_reconnects_and_resends_with_dup(void **state)
{
    (void)state;
    static const uint8_t puback_tail[] = {0x40, 0x02, 0x00, 0x02};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(),
                                 FAKE_CLOSE(), FAKE_READ(connack_sp, 4),
                                 FAKE_WOULD_BLOCK(), FAKE_READ(puback_tail, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, false, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_rec.connected, 1);
    mqtls_publish_opts_t o = {.qos = 1};
    uint16_t id1 = 0;
    uint16_t id2 = 0;
    assert_int_equal(mqtls_client_publish(c, "t", "1", 1, &o, &id1), MQTLS_OK);
    assert_int_equal(mqtls_client_publish(c, "t", "2", 1, &o, &id2), MQTLS_OK);
    steps(c, 1); /* sends both, then reads the close */
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_CLOSED);
    assert_int_equal(g_rec.last_why.layer, MQTLS_LAYER_TCP);
    assert_true(g_rec.will_reconnect);
    assert_true(g_rec.reconnect_in_ms <= 100);
    assert_int_equal(g_rec.errors, 0); /* a drop after CONNACK is not a connect error */
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_BACKOFF);
    assert_int_equal(mqtls_client_fd(c), -1);
    assert_true(mqtls_client_timeout_ms(c) <= 100);
    size_t before = g_net.written_len;
    g_now += 100;
    steps(c, 1);
    assert_int_equal(g_rec.connected, 2);
    assert_true(g_rec.session_present);
    steps(c, 2);
    /* Decode what went out on the second connection: CONNECT, then both PUBLISH with DUP. */
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
    mqtls_packet_t p;
    size_t used = 0;
    size_t off = before;
    assert_int_equal(mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc, &p,
                                         &used),
                     MQTLS_OK);
    assert_int_equal(p.type, MQTLS_CONNECT);
    assert_false(p.u.connect.clean_start);
    off += used;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc,
                                             &p, &used),
                         MQTLS_OK);
        assert_int_equal(p.type, MQTLS_PUBLISH);
        assert_true(p.u.publish.dup);
        assert_int_equal(p.u.publish.packet_id, i == 0 ? id1 : id2);
        off += used;
    }
    assert_int_equal(g_rec.published, 1);
    assert_int_equal(g_rec.last_id, 2);
    assert_true(fake_reads_done(&g_net));
    mqtls_client_destroy(c);
}

static void test_client_error_read_reports_status(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_ERROR(MQTLS_ERR_CONN_RESET)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_CONN_RESET);
    mqtls_error_t e;
    assert_int_equal(mqtls_client_last_error(c, &e), MQTLS_OK);
    assert_int_equal(e.status, MQTLS_ERR_CONN_RESET);
    mqtls_client_destroy(c);
}

static void test_client_write_error_reports_status(void **state)
{
    (void)state;
    const fake_step_t writes[] = {FAKE_ERROR(MQTLS_ERR_IO)};
    fake_init(&g_net, NULL, 0, writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_rec.errors, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_IO);
    assert_int_equal(g_rec.disconnected, 1);
    mqtls_client_destroy(c);
}

static void no_reconnect(mqtls_client_cfg_t *cfg)
{
    cfg->reconnect.enabled = false;
}

static void test_client_connect_failure_backoff_grows_within_bounds(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    const fake_step_t connects[] = {FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED)};
    g_net.connects = connects;
    g_net.connects_count = ARRAY_LEN(connects);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    uint32_t caps[] = {100, 200, 400, 800, 1000, 1000};
    for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
        steps(c, 1);
        assert_int_equal(g_rec.errors, (int)i + 1);
        assert_int_equal(g_rec.last_error.status, MQTLS_ERR_CONN_REFUSED);
        assert_int_equal(g_rec.last_error.layer, MQTLS_LAYER_TCP);
        assert_true(g_rec.will_reconnect);
        assert_true(g_rec.reconnect_in_ms <= caps[i]);
        assert_int_equal(mqtls__client_attempts(c), i + 1);
        g_now += g_rec.reconnect_in_ms;
    }
    /* The script is exhausted: the next connect succeeds, CONNACK resets the exponent. */
    static const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    g_net.reads = reads;
    g_net.reads_count = 1;
    steps(c, 1);
    assert_int_equal(g_rec.connected, 1);
    assert_int_equal(mqtls__client_attempts(c), 0);
    mqtls_client_destroy(c);

    fake_init(&g_net, NULL, 0, NULL, 0);
    g_net.connects = connects;
    g_net.connects_count = 1;
    c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_false(g_rec.will_reconnect);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    mqtls_client_destroy(c);
}

static const char *const g_cluster[] = {"mqtt://127.0.0.2:1884", "mqtt://127.0.0.3:1885"};

static void cluster(mqtls_client_cfg_t *cfg)
{
    cfg->uris = g_cluster;
    cfg->uri_count = ARRAY_LEN(g_cluster);
}

/* Brokers of a cluster (cfg.uris): a lost connection and a failed attempt each move the next
 * attempt to the next broker, through a new transport; the unacknowledged QoS 1 message goes
 * to the broker that answers; the list wraps around. */
static void test_client_fails_over_through_the_broker_list(void **state)
{
    (void)state;
    static const uint8_t puback[] = {0x40, 0x02, 0x00, 0x01};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(), FAKE_CLOSE(),
                                 FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(), FAKE_READ(puback, 4),
                                 FAKE_WOULD_BLOCK(),       FAKE_CLOSE()};
    const fake_step_t connects[] = {FAKE_CONNECT_BLOCK(), FAKE_CONNECT_BLOCK(),
                                    FAKE_ERROR(MQTLS_ERR_CONN_REFUSED)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, cluster);
    assert_string_equal(mqtls_client_uri(c), "mqtt://127.0.0.1");
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_rec.connected, 1);
    mqtls_publish_opts_t o = {.qos = 1};
    uint16_t id = 0;
    assert_int_equal(mqtls_client_publish(c, "t", "1", 1, &o, &id), MQTLS_OK);
    steps(c, 1); /* sent, then the broker is gone */
    assert_int_equal(g_rec.disconnected, 1);
    assert_true(g_rec.will_reconnect);
    assert_true(g_net.destroyed); /* the old transport knew the old host */
    assert_string_equal(mqtls_client_uri(c), "mqtt://127.0.0.2:1884");
    /* broker 2 refuses: on to broker 3 */
    g_net.destroyed = false;
    g_net.connects = connects + 2;
    g_net.connects_count = 1;
    g_net.connect_pos = 0;
    g_now += g_rec.reconnect_in_ms;
    steps(c, 1);
    assert_int_equal(g_rec.errors, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_CONN_REFUSED);
    assert_string_equal(mqtls_client_uri(c), "mqtt://127.0.0.3:1885");
    g_now += g_rec.reconnect_in_ms;
    size_t before = g_net.written_len;
    steps(c, 2);
    assert_int_equal(g_rec.connected, 2);
    mqtls_packet_t p[4];
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
    size_t used = 0;
    size_t off = before;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc, &p[i], &used),
            MQTLS_OK);
        off += used;
    }
    assert_int_equal(p[0].type, MQTLS_CONNECT);
    assert_int_equal(p[1].type, MQTLS_PUBLISH); /* the message moved with the client */
    assert_int_equal(p[1].u.publish.packet_id, id);
    steps(c, 1);
    assert_int_equal(g_rec.published, 1);
    steps(c, 1); /* broker 3 is gone too: back to the first */
    assert_int_equal(g_rec.disconnected, 3);
    assert_string_equal(mqtls_client_uri(c), "mqtt://127.0.0.1");
    mqtls_client_destroy(c);
}

static void bad_cluster(mqtls_client_cfg_t *cfg)
{
    static const char *const bad[] = {"mqtt://127.0.0.2", "http://nope"};
    cfg->uris = bad;
    cfg->uri_count = ARRAY_LEN(bad);
}

static void test_client_broker_list_is_checked_at_create(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    bad_cluster(&cfg);
    cfg.uri = "mqtt://127.0.0.1";
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_BAD_URI);
    assert_non_null(strstr(err.detail, "http://nope"));
    cfg.uris = g_cluster;
    cfg.uri = NULL; /* the list alone: its first entry is the first broker */
    cfg.uri_count = ARRAY_LEN(g_cluster);
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_OK);
    assert_string_equal(mqtls_client_uri(c), "mqtt://127.0.0.2:1884");
    mqtls_client_destroy(c);
    cfg.uris = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG);
}

static void test_client_transport_connect_timeout(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    const fake_step_t connects[] = {FAKE_CONNECT_BLOCK(), FAKE_CONNECT_BLOCK(),
                                    FAKE_CONNECT_BLOCK()};
    g_net.connects = connects;
    g_net.connects_count = ARRAY_LEN(connects);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(mqtls_client_timeout_ms(c), 5000);
    g_now += 4999;
    steps(c, 1);
    assert_int_equal(g_rec.errors, 0);
    g_now += 1;
    steps(c, 1);
    assert_int_equal(g_rec.errors, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_CONNECT_TIMEOUT);
    assert_int_equal(g_rec.last_error.layer, MQTLS_LAYER_TCP);
    mqtls_client_destroy(c);
}

/* A transport that must be called again at a time of its own (TLS reading a late alert for
 * 200 ms) shortens the wait: the loop does not sleep until the 5 s connect deadline. */
static void test_client_transport_wake_at_bounds_the_wait(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    const fake_step_t connects[] = {FAKE_CONNECT_BLOCK(), FAKE_CONNECT_BLOCK()};
    g_net.connects = connects;
    g_net.connects_count = ARRAY_LEN(connects);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(mqtls_client_timeout_ms(c), 5000);
    g_net.wake_at_ms = g_now + 200;
    assert_int_equal(mqtls_client_timeout_ms(c), 200);
    size_t calls = g_net.connect_calls;
    g_now += 200;
    steps(c, 1);
    assert_int_equal(g_net.connect_calls, calls + 1); /* called again at its time, no I/O */
    mqtls_client_destroy(c);
}

/* Every state change goes through one table: illegal events are refused, nothing changes. */
static void test_client_state_changes_follow_the_table(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    const fake_step_t connects[] = {FAKE_ERROR(MQTLS_ERR_CONN_REFUSED)};
    g_net.connects = connects;
    g_net.connects_count = ARRAY_LEN(connects);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_ERR_STATE); /* IDLE */
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTING);
    steps(c, 1); /* refused: BACKOFF */
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_BACKOFF);
    assert_int_equal(mqtls_client_connect(c), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_BACKOFF);
    g_now += g_rec.reconnect_in_ms;
    assert_int_equal(mqtls_client_timeout_ms(c), 0);
    steps(c, 1); /* RETRY, TRANSPORT_UP, CONNACK in one step */
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    assert_int_equal(mqtls_client_connect(c), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_OK);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_DISCONNECTING);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_connect(c), MQTLS_ERR_STATE);
    steps(c, 1);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    assert_int_equal(g_rec.disconnected, 2);
    assert_int_equal(g_rec.last_why.status, MQTLS_OK);
    mqtls_client_destroy(c);
}

/* The same failure again is not diagnosed again: the findings come from the cache (one
 * object, valid during each callback and until the next failure); another failure is. */
static void test_client_same_failure_is_diagnosed_once(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    const fake_step_t connects[] = {
        FAKE_ERROR(MQTLS_ERR_CONN_REFUSED), FAKE_ERROR(MQTLS_ERR_CONN_REFUSED),
        FAKE_ERROR(MQTLS_ERR_CONN_REFUSED), FAKE_ERROR(MQTLS_ERR_NET_UNREACHABLE)};
    g_net.connects = connects;
    g_net.connects_count = ARRAY_LEN(connects);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    const mqtls_findings_t *first = NULL;
    for (int i = 0; i < 3; i++) {
        steps(c, 1);
        assert_int_equal(g_rec.errors, i + 1);
        assert_non_null(g_rec.last_findings);
        first = first != NULL ? first : g_rec.last_findings;
        assert_ptr_equal(g_rec.last_findings, first);
        assert_ptr_equal(mqtls_client_findings(c), first);
        g_now += g_rec.reconnect_in_ms;
    }
    mqtls__diag_stats_t ds;
    mqtls__client_diag_stats(c, &ds);
    assert_int_equal(ds.runs, 1);
    assert_int_equal(ds.hits, 2);
    assert_int_equal(ds.file_reads, 0); /* no TLS: no credential files */
    steps(c, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_NET_UNREACHABLE);
    mqtls__client_diag_stats(c, &ds);
    assert_int_equal(ds.runs, 2);
    assert_ptr_equal(mqtls_client_findings(c), g_rec.last_findings);
    mqtls_client_destroy(c);
}

static void test_client_connack_timeout(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_MQTT_CONNECTING);
    g_now += 5000;
    steps(c, 1);
    assert_int_equal(g_rec.errors, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_CONNACK_TIMEOUT);
    assert_int_equal(g_rec.last_error.layer, MQTLS_LAYER_MQTT);
    mqtls_client_destroy(c);
}

static void test_client_connack_refused_is_error_event(void **state)
{
    (void)state;
    static const uint8_t refused[] = {0x20, 0x02, 0x00, 0x05};
    const fake_step_t reads[] = {FAKE_READ(refused, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_rec.errors, 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_CONNACK_REFUSED);
    assert_int_equal(g_rec.last_error.connack_reason, 5);
    assert_int_equal(g_rec.last_error.layer, MQTLS_LAYER_MQTT);
    mqtls_client_destroy(c);
}

static void test_client_keepalive_ping_and_timeout(void **state)
{
    (void)state;
    static const uint8_t pingresp[] = {0xD0, 0x00};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(),
                                 FAKE_WOULD_BLOCK(), FAKE_READ(pingresp, 2)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(mqtls_client_timeout_ms(c), 60000);
    g_now += 60000;
    size_t before = g_net.written_len;
    steps(c, 1); /* PINGREQ written; the read would block */
    assert_int_equal(g_net.written_len, before + 2);
    assert_int_equal(g_net.written[before], 0xC0);
    steps(c, 1); /* PINGRESP */
    g_now += 60000;
    steps(c, 1); /* second PINGREQ, never answered */
    assert_int_equal(g_net.written_len, before + 4);
    g_now += 59999;
    steps(c, 1);
    assert_int_equal(g_rec.disconnected, 0);
    g_now += 1;
    steps(c, 1);
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_KEEPALIVE_TIMEOUT);
    mqtls_client_destroy(c);
}

static void test_client_malformed_input_closes_connection(void **state)
{
    (void)state;
    static const uint8_t garbage[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_READ(garbage, 6)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.layer, MQTLS_LAYER_MQTT);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_REMAINING_LENGTH);
    assert_true(g_net.close_calls >= 1);
    mqtls_client_destroy(c);
}

static void test_client_large_inbound_message_grows_buffer(void **state)
{
    (void)state;
    static uint8_t big[5 + 2 + 1 + 100000];
    size_t rl = 2 + 1 + 100000;
    big[0] = 0x30;
    big[1] = (uint8_t)(0x80u | (rl & 0x7Fu));
    big[2] = (uint8_t)(0x80u | ((rl >> 7) & 0x7Fu));
    big[3] = (uint8_t)(rl >> 14);
    big[4] = 0x00;
    big[5] = 0x01;
    big[6] = 'x';
    memset(big + 7, 0x11, 100000);
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_READ(big, 4 + rl)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 5);
    assert_int_equal(g_rec.messages, 1);
    assert_string_equal(g_rec.topic, "x");
    assert_int_equal(g_rec.disconnected, 0);
    mqtls_client_destroy(c);
}

static void test_client_disconnect_sends_disconnect_and_goes_idle(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_OK);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_DISCONNECTING);
    steps(c, 1);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.status, MQTLS_OK);
    assert_false(g_rec.will_reconnect);
    mqtls_packet_t p[4];
    assert_int_equal(written_packets(MQTLS_V311, p, 4), 2);
    assert_int_equal(p[1].type, MQTLS_DISCONNECT);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_ERR_STATE);
    mqtls_client_destroy(c);
}


static void many_inflight(mqtls_client_cfg_t *cfg)
{
    cfg->max_inflight = 1000; /* the window must not hold any back */
}

/* Many packets queued: one transport write, in order; the socket taking a few bytes at a time
 * cuts packets anywhere and the rest resumes exactly where it stopped. */
static void test_client_queued_packets_one_write_partial_resumes(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    const fake_step_t writes[] = {FAKE_WRITE_ANY(), FAKE_WRITE_ANY(), FAKE_SHORT(100),
                                  FAKE_WOULD_BLOCK(), FAKE_SHORT(7), FAKE_WOULD_BLOCK()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, many_inflight);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    mqtls_publish_opts_t o = {.qos = 1};
    char payload[64];
    for (int i = 0; i < 50; i++) {
        memset(payload, i, sizeof payload);
        assert_int_equal(mqtls_client_publish(c, "t", payload, sizeof payload, &o, NULL),
                         MQTLS_OK);
    }
    size_t calls = g_net.writev_calls;
    steps(c, 1);
    assert_int_equal(g_net.writev_calls, calls + 1u); /* 50 packets, one write */
    assert_int_equal(mqtls_client_outbox_count(c), 50);
    /* More, then a short write, would-block, another short one, would-block, then the rest. */
    for (int i = 50; i < 80; i++) {
        memset(payload, i, sizeof payload);
        assert_int_equal(mqtls_client_publish(c, "t", payload, sizeof payload, &o, NULL),
                         MQTLS_OK);
    }
    steps(c, 6);
    assert_true(fake_writes_done(&g_net));
    static mqtls_packet_t p[100];
    assert_int_equal(written_packets(MQTLS_V311, p, ARRAY_LEN(p)), 81);
    for (size_t i = 0; i < 80; i++) {
        assert_int_equal(p[i + 1u].type, MQTLS_PUBLISH);
        assert_int_equal(p[i + 1u].u.publish.packet_id, i + 1u);
        assert_int_equal(p[i + 1u].u.publish.payload.len, 64);
        assert_int_equal(p[i + 1u].u.publish.payload.data[0], i);
        assert_int_equal(p[i + 1u].u.publish.payload.data[63], i);
    }
    mqtls_client_destroy(c);
}

/* mqtls_client_cork(): nothing is written while corked (QoS 0 does not take the direct path);
 * mqtls_client_uncork() writes them all at once, in one write, from the calling thread. */
static void test_client_cork_holds_uncork_flushes_in_one_write(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, many_inflight);
    assert_int_equal(mqtls_client_cork(NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_client_uncork(NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    assert_int_equal(mqtls_client_cork(c), MQTLS_OK);
    size_t calls = g_net.writev_calls;
    size_t before = g_net.written_len;
    mqtls_publish_opts_t o1 = {.qos = 1};
    for (int i = 0; i < 40; i++) {
        char b = (char)i;
        assert_int_equal(mqtls_client_publish(c, "t", &b, 1, (i % 4) == 3 ? &o1 : NULL, NULL),
                         MQTLS_OK);
    }
    steps(c, 3);
    assert_int_equal(g_net.writev_calls, calls); /* held */
    assert_int_equal(g_net.written_len, before);
    assert_int_equal(mqtls_client_outbox_count(c), 40);
    assert_int_equal(mqtls_client_uncork(c), MQTLS_OK);
    assert_int_equal(g_net.writev_calls, calls + 1u); /* all of them, one write */
    assert_int_equal(mqtls_client_outbox_count(c), 10); /* the QoS 1 await PUBACK */
    static mqtls_packet_t p[64];
    assert_int_equal(written_packets(MQTLS_V311, p, ARRAY_LEN(p)), 41);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(p[i + 1u].u.publish.payload.data[0], i);
        assert_int_equal(p[i + 1u].u.publish.qos, (i % 4u) == 3u ? 1 : 0);
    }
    /* Uncorked: nothing is held any more (the next step writes what is queued). */
    assert_int_equal(mqtls_client_uncork(c), MQTLS_OK);
    calls = g_net.writev_calls;
    assert_int_equal(mqtls_client_publish(c, "t", "z", 1, NULL, NULL), MQTLS_OK);
    steps(c, 1);
    assert_int_equal(g_net.writev_calls, calls + 1u);
    assert_int_equal(mqtls_client_outbox_count(c), 10);
    mqtls_client_destroy(c);
}

static void small_outbox(mqtls_client_cfg_t *cfg)
{
    cfg->outbox_max_messages = 2;
}

static void test_client_outbox_full_fails_at_once(void **state)
{
    (void)state;
    fake_init(&g_net, NULL, 0, NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, small_outbox);
    mqtls_publish_opts_t o = {.qos = 1};
    assert_int_equal(mqtls_client_publish(c, "t", "a", 1, &o, NULL), MQTLS_OK);
    assert_int_equal(mqtls_client_publish(c, "t", "a", 1, &o, NULL), MQTLS_OK);
    assert_int_equal(mqtls_client_publish(c, "t", "a", 1, &o, NULL), MQTLS_ERR_OUTBOX_FULL);
    assert_int_equal(mqtls_client_outbox_count(c), 2);
    assert_int_equal(mqtls_client_outbox_bytes(c), 2 * 8); /* 2 x PUBLISH "t" id "a" */
    mqtls_client_destroy(c);
}

static void outbox_256k(mqtls_client_cfg_t *cfg)
{
    cfg->outbox_max_messages = 1000;
    cfg->outbox_max_bytes = 256u * 1024u;
    cfg->max_inflight = 1000; /* the window must not hold any back: all go out at CONNACK */
}

/* The outbox starts small and grows on demand while disconnected, keeping every queued packet
 * byte for byte; at the configured byte limit publish fails at once; the packets then go out
 * in order on the next connection. */
static void test_client_outbox_grows_to_the_limit_and_keeps_order(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, outbox_256k);
    static uint8_t payload[1000];
    mqtls_publish_opts_t o = {.qos = 1};
    /* One PUBLISH "t", QoS 1, 1000 B = 1 + 2 + (2 + 1) + 2 + 1000 = 1008 bytes encoded. */
    const size_t fit = (256u * 1024u) / 1008u;
    size_t n = 0;
    for (; n < fit + 5u; n++) {
        memset(payload, (int)(n & 0xFFu), sizeof payload);
        mqtls_status_t st = mqtls_client_publish(c, "t", payload, sizeof payload, &o, NULL);
        if (st != MQTLS_OK) {
            assert_int_equal(st, MQTLS_ERR_OUTBOX_FULL);
            break;
        }
    }
    assert_int_equal(n, fit);
    assert_int_equal(mqtls_client_outbox_count(c), fit);
    assert_int_equal(mqtls_client_outbox_bytes(c), fit * 1008u);
    /* Still full for such a message: refused at once, nothing changed. */
    assert_int_equal(mqtls_client_publish(c, "t", payload, sizeof payload, &o, NULL),
                     MQTLS_ERR_OUTBOX_FULL);
    assert_int_equal(mqtls_client_outbox_count(c), fit);

    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 20);
    assert_int_equal(g_rec.connected, 1);
    static mqtls_packet_t p[300];
    size_t got = written_packets(MQTLS_V311, p, ARRAY_LEN(p));
    assert_int_equal(got, fit + 1u); /* CONNECT + every queued PUBLISH */
    for (size_t i = 0; i < fit; i++) {
        const mqtls_publish_t *pub = &p[i + 1u].u.publish;
        assert_int_equal(p[i + 1u].type, MQTLS_PUBLISH);
        assert_int_equal(pub->packet_id, i + 1u);
        assert_int_equal(pub->payload.len, 1000);
        assert_int_equal(pub->payload.data[0], i & 0xFFu);
        assert_int_equal(pub->payload.data[999], i & 0xFFu);
    }
    mqtls_client_destroy(c);
}

static void test_client_api_argument_checks(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    assert_int_equal(cfg.version, MQTLS_V311);
    assert_int_equal(cfg.keepalive_s, 60);
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG); /* no uri */
    cfg.uri = "ftp://x";
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_BAD_URI);
    assert_int_equal(err.layer, MQTLS_LAYER_CONFIG);
    assert_null(c);
    cfg.uri = "mqtt://[::1]:1884";
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_OK);
    /* Generated client id: "mqtls-" + 16 hex digits. */
    const char *id = mqtls_client_id(c);
    assert_int_equal(strlen(id), 22);
    assert_memory_equal(id, "mqtls-", 6);
    assert_int_equal(mqtls_client_publish(NULL, "t", NULL, 0, NULL, NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_client_publish(c, NULL, NULL, 0, NULL, NULL), MQTLS_ERR_INVALID_ARG);
    mqtls_publish_opts_t bad = {.qos = 3};
    assert_int_equal(mqtls_client_publish(c, "t", NULL, 0, &bad, NULL), MQTLS_ERR_INVALID_ARG);
    mqtls_subscription_t s = {"a/#", 1};
    assert_int_equal(mqtls_client_subscribe(c, &s, 1, NULL, NULL), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_subscribe(c, NULL, 1, NULL, NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_stop(c), MQTLS_ERR_STATE);
    assert_int_equal(mqtls_client_step(c, -1), MQTLS_OK); /* idle: returns, never hangs */
    assert_int_equal(mqtls_client_timeout_ms(c), -1);
    assert_int_equal(mqtls_client_fd(c), -1);
    assert_int_equal(mqtls_client_want(c), 0);
    assert_null(mqtls_client_tls_facts(c));
    mqtls_client_destroy(c);
    mqtls_client_destroy(NULL);
}

static void test_client_subscribe_and_receive(void **state)
{
    (void)state;
    static const uint8_t suback[] = {0x90, 0x03, 0x00, 0x01, 0x01};
    static const uint8_t publish[] = {0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'Z'};
    static const uint8_t puback[] = {0x40, 0x02, 0x00, 0x07};
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(),
                                 FAKE_READ(suback, 5), FAKE_READ(publish, 10)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 1);
    mqtls_subscription_t s = {"a/#", 1};
    uint16_t sid = 0;
    assert_int_equal(mqtls_client_subscribe(c, &s, 1, NULL, &sid), MQTLS_OK);
    assert_int_equal(sid, 1);
    steps(c, 2);
    assert_int_equal(g_rec.subscribed, 1);
    assert_int_equal(g_rec.messages, 1);
    assert_string_equal(g_rec.topic, "a/b");
    /* The PUBACK for id 7 went out. */
    assert_true(g_net.written_len >= 4);
    assert_memory_equal(g_net.written + g_net.written_len - 4, puback, 4);
    mqtls_client_destroy(c);
}

static int g_log_lines;
static bool g_log_secret;

static void log_sink(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)ctx;
    (void)level;
    g_log_lines++;
    if (strstr(msg, "s3cret") != NULL) {
        g_log_secret = true;
    }
}

static void log_info(mqtls_client_cfg_t *cfg)
{
    cfg->log_fn = log_sink;
    cfg->log_level = MQTLS_LOG_INFO;
    cfg->password = "s3cret";
    cfg->username = "u";
}

static void log_off(mqtls_client_cfg_t *cfg)
{
    cfg->log_fn = log_sink;
    cfg->log_level = MQTLS_LOG_OFF;
}

static void test_client_log_callback_levels_and_no_secrets(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_CLOSE()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    g_log_lines = 0;
    g_log_secret = false;
    mqtls_client_t *c = make(MQTLS_V311, true, log_info);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_true(g_log_lines >= 3); /* connecting, connected, disconnected */
    assert_false(g_log_secret);
    mqtls_client_destroy(c);

    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    g_log_lines = 0;
    c = make(MQTLS_V311, true, log_off);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_log_lines, 0);
    mqtls_client_destroy(c);
}

/* --- issue 10 ---------------------------------------------------------------------------- */

/* How many packets of @p type the client wrote. */
static size_t written_count(mqtls_version_t v, mqtls_packet_type_t type)
{
    mqtls_codec_cfg_t cc = {.version = v};
    size_t off = 0;
    size_t n = 0;
    while (off < g_net.written_len) {
        mqtls_packet_t p;
        size_t used = 0;
        assert_int_equal(
            mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc, &p, &used),
            MQTLS_OK);
        off += used;
        n += p.type == type ? 1u : 0u;
    }
    return n;
}

static void small_receive_maximum(mqtls_client_cfg_t *cfg)
{
    cfg->receive_maximum = 4;
}

/* A broker that sends far more QoS 1 messages than acknowledgements fit, to a client whose
 * socket takes nothing for a while: the client stops reading (no READ in want()), keeps the
 * connection, and once the socket drains processes the rest from its buffer: every message,
 * every PUBACK. Before: "cannot queue the acknowledgement", the connection dropped. */
static void test_client_inbound_burst_back_pressure(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint8_t burst[N * 7];
    for (size_t i = 0; i < N; i++) {
        uint16_t id = (uint16_t)(i + 1u);
        const uint8_t one[7] = {0x32, 0x05, 0x00, 0x01, 't', (uint8_t)(id >> 8), (uint8_t)id};
        memcpy(burst + i * 7u, one, 7);
    }
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_READ(burst, sizeof burst)};
    /* CONNECT, then a socket that takes nothing for a dozen attempts */
    const fake_step_t writes[] = {FAKE_WRITE_ANY(),   FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(),
                                  FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(),
                                  FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(),
                                  FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK(), FAKE_WOULD_BLOCK()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, small_receive_maximum);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    assert_true(g_rec.messages > 0 && g_rec.messages < N);
    assert_int_equal(mqtls_client_want(c) & MQTLS_WANT_READ, 0u); /* back-pressure */
    assert_true((mqtls_client_want(c) & MQTLS_WANT_WRITE) != 0u);
    assert_false(fake_reads_done(&g_net)); /* it stopped reading */
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    for (int i = 0; i < 100 && g_rec.messages < N; i++) {
        steps(c, 1);
    }
    assert_int_equal(g_rec.messages, N);
    assert_int_equal(g_rec.errors + g_rec.disconnected, 0);
    assert_int_equal(written_count(MQTLS_V311, MQTLS_PUBACK), N);
    assert_true((mqtls_client_want(c) & MQTLS_WANT_READ) != 0u);
    mqtls_client_destroy(c);
}

/* The same burst with the default Receive Maximum (1024): the arena's control buffer has room
 * for 32 acknowledgements beyond its other packets; the pump grows it (up to the whole reserve
 * and the limit it always had) instead of stopping to read, and stops only at the limit. */
static void test_client_inbound_burst_grows_the_control_buffer(void **state)
{
    (void)state;
    enum { N = 6000, BLOCKED = 40 };
    static uint8_t burst[N * 7];
    for (size_t i = 0; i < N; i++) {
        uint16_t id = (uint16_t)(i + 1u);
        const uint8_t one[7] = {0x32, 0x05, 0x00, 0x01, 't', (uint8_t)(id >> 8), (uint8_t)id};
        memcpy(burst + i * 7u, one, 7);
    }
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_READ(burst, sizeof burst)};
    /* CONNECT, then a socket that takes nothing for a while */
    fake_step_t writes[1 + BLOCKED];
    const fake_step_t any = FAKE_WRITE_ANY();
    const fake_step_t block = FAKE_WOULD_BLOCK();
    writes[0] = any;
    for (size_t i = 1; i < ARRAY_LEN(writes); i++) {
        writes[i] = block;
    }
    fake_init(&g_net, reads, ARRAY_LEN(reads), writes, ARRAY_LEN(writes));
    mqtls_client_t *c = make(MQTLS_V311, true, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    /* More acks queued than the arena's buffer (or the whole reserve, 1024) holds: it grew.
     * The buffer fixed in the arena before held 6 808 B: 1 702 PUBACKs. */
    assert_true(g_rec.messages > 3 * 1024 && g_rec.messages < N);
    assert_int_equal(mqtls_client_want(c) & MQTLS_WANT_READ, 0u); /* at the limit: back-pressure */
    assert_false(fake_reads_done(&g_net));
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    for (int i = 0; i < 100 && g_rec.messages < N; i++) {
        steps(c, 1);
    }
    assert_int_equal(g_rec.messages, N);
    assert_int_equal(g_rec.errors + g_rec.disconnected, 0);
    assert_int_equal(written_count(MQTLS_V311, MQTLS_PUBACK), N);
    assert_true((mqtls_client_want(c) & MQTLS_WANT_READ) != 0u);
    mqtls_client_destroy(c);
}

/* A CONNACK with reserved flags and a huge remaining length: closed at the first byte, not
 * after the CONNACK timeout or the keepalive [MQTT-2.2.2-2]. */
static void test_client_garbage_first_byte_closes_at_once(void **state)
{
    (void)state;
    static const uint8_t garbage[] = {0x29};
    const fake_step_t reads[] = {FAKE_READ(garbage, 1)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2); /* no time passes */
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.layer, MQTLS_LAYER_MQTT);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_BAD_FLAGS);
    assert_non_null(strstr(g_rec.last_why.detail, "0x29"));
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    mqtls_client_destroy(c);
}

/* Is @p id among the findings diagnosis gives for @p e (plain TCP to 127.0.0.1:1883)? */
static bool diagnosed_as(const mqtls_error_t *e, const char *id)
{
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = 1700000000;
    in.host = "127.0.0.1";
    in.port = 1883;
    in.mqtt_version = 4;
    in.err = e;
    mqtls_findings_t *f = NULL;
    assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
    bool found = false;
    for (size_t i = 0; i < mqtls_findings_count(f); i++) {
        found = found || strcmp(mqtls_finding_id(mqtls_findings_get(f, i)), id) == 0;
    }
    mqtls_findings_destroy(f);
    return found;
}

/* A connected client whose broker goes away: the loss must not be diagnosed as the broker
 * closing "after our CONNECT without a CONNACK" (issue 10, defect 6). The error says the
 * connection had been accepted (connack_reason 0); a close before CONNACK still says -1. */
static void test_client_lost_after_connack_is_not_closed_after_connect(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(), FAKE_CLOSE()};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_client_t *c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 3);
    assert_int_equal(g_rec.connected, 1);
    assert_int_equal(g_rec.disconnected, 1);
    assert_int_equal(g_rec.last_why.status, MQTLS_ERR_CLOSED);
    assert_int_equal(g_rec.last_why.connack_reason, 0);
    mqtls_error_t last;
    assert_int_equal(mqtls_client_last_error(c, &last), MQTLS_OK);
    assert_int_equal(last.connack_reason, 0);
    assert_false(diagnosed_as(&g_rec.last_why, "closed-after-connect"));
    mqtls_client_destroy(c);

    /* The same close before any CONNACK is what the finding is for. */
    const fake_step_t early[] = {FAKE_WOULD_BLOCK(), FAKE_CLOSE()};
    fake_init(&g_net, early, ARRAY_LEN(early), NULL, 0);
    c = make(MQTLS_V311, true, no_reconnect);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 3);
    assert_int_equal(g_rec.connected, 0);
    assert_int_equal(g_rec.last_why.connack_reason, -1);
    assert_true(diagnosed_as(&g_rec.last_why, "closed-after-connect"));
    mqtls_client_destroy(c);
}

static int g_warn_exactly_once;
static int g_warn_republished;

static void warn_sink(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)ctx;
    if (level == MQTLS_LOG_WARN && strstr(msg, "exactly once holds within one connection")) {
        g_warn_exactly_once++;
    }
    if (level == MQTLS_LOG_WARN && strstr(msg, "the broker kept no session: ")) {
        g_warn_republished++;
    }
}

static void warn_log(mqtls_client_cfg_t *cfg)
{
    cfg->log_fn = warn_sink;
    cfg->log_level = MQTLS_LOG_WARN;
}

/* QoS 2 across a reconnect (issue 10, defect 5): with a clean session the broker forgets a
 * message it had PUBREC'd; the client publishes it again (at least once) and says so: once at
 * the first QoS 2 publish, and when it republishes. With a session that persists, PUBREL is
 * resent and the message is not published again: exactly once, and no warning. */
static void test_client_qos2_reconnect_clean_warns_persistent_keeps_exactly_once(void **state)
{
    (void)state;
    static const uint8_t pubrec1[] = {0x50, 0x02, 0x00, 0x01};
    for (int persistent = 0; persistent <= 1; persistent++) {
        const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_WOULD_BLOCK(),
                                     FAKE_WOULD_BLOCK(), FAKE_READ(pubrec1, 4), FAKE_CLOSE(),
                                     FAKE_READ(persistent ? connack_sp : connack_ok, 4),
                                     FAKE_WOULD_BLOCK()};
        fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
        g_warn_exactly_once = 0;
        g_warn_republished = 0;
        mqtls_client_t *c = make(MQTLS_V311, persistent == 0, warn_log);
        assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
        steps(c, 2);
        assert_int_equal(g_rec.connected, 1);
        mqtls_publish_opts_t o = {.qos = 2};
        assert_int_equal(mqtls_client_publish(c, "q2", "a", 1, &o, NULL), MQTLS_OK);
        assert_int_equal(mqtls_client_publish(c, "q2", "b", 1, &o, NULL), MQTLS_OK);
        assert_int_equal(g_warn_exactly_once, persistent ? 0 : 1); /* once, not per publish */
        steps(c, 1); /* both out, PUBREC for the first, then the connection drops */
        assert_int_equal(g_rec.disconnected, 1);
        g_now += g_rec.reconnect_in_ms;
        steps(c, 3);
        assert_int_equal(g_rec.connected, 2);
        mqtls_packet_t p[16];
        size_t n = written_packets(MQTLS_V311, p, ARRAY_LEN(p));
        size_t pub1 = 0;
        size_t rel1 = 0;
        for (size_t i = 0; i < n; i++) {
            pub1 += p[i].type == MQTLS_PUBLISH && p[i].u.publish.packet_id == 1 ? 1u : 0u;
            rel1 += p[i].type == MQTLS_PUBREL && p[i].u.ack.packet_id == 1 ? 1u : 0u;
        }
        if (persistent) {
            assert_int_equal(pub1, 1); /* never published again: exactly once */
            assert_int_equal(rel1, 1); /* its PUBREL, owed, on the new connection */
            assert_int_equal(g_warn_republished, 0);
        } else {
            assert_int_equal(pub1, 2); /* a new message on the new connection */
            assert_int_equal(g_warn_republished, 1);
        }
        assert_int_equal(g_warn_exactly_once, persistent ? 0 : 1);
        mqtls_client_destroy(c);
    }
}

static int g_warn_insecure;

static void insecure_sink(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)ctx;
    if (level == MQTLS_LOG_WARN && strstr(msg, "TLS verification is OFF") != NULL) {
        g_warn_insecure++;
    }
}

static void insecure_tls(mqtls_client_cfg_t *cfg)
{
    static mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.insecure = true;
    cfg->uri = "mqtts://127.0.0.1";
    cfg->tls = &tls;
    cfg->log_fn = insecure_sink;
    cfg->log_level = MQTLS_LOG_WARN;
}

/* tls.h: insecure is "logged loudly at every connect"; it was logged once, at create. */
static void test_client_insecure_warns_at_every_connect(void **state)
{
    (void)state;
    const fake_step_t reads[] = {FAKE_READ(connack_ok, 4), FAKE_CLOSE(), FAKE_READ(connack_ok, 4)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    g_warn_insecure = 0;
    mqtls_client_t *c = make(MQTLS_V311, true, insecure_tls);
    assert_int_equal(g_warn_insecure, 0); /* not yet: nothing connects */
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 2);
    assert_int_equal(g_rec.connected, 1);
    assert_int_equal(g_warn_insecure, 1);
    g_now += g_rec.reconnect_in_ms;
    steps(c, 2);
    assert_int_equal(g_rec.connected, 2);
    assert_int_equal(g_warn_insecure, 2);
    mqtls_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_connack_split_across_reads_connects),
        cmocka_unit_test(test_client_empty_id_takes_the_assigned_one),
        cmocka_unit_test(test_client_identity_config_checks),
        cmocka_unit_test(test_client_exact_connect_bytes_v311),
        cmocka_unit_test(test_client_short_writes_deliver_whole_packets),
        cmocka_unit_test(test_client_qos0_direct_write_and_coalescing),
        cmocka_unit_test(test_client_close_read_reconnects_and_resends_with_dup),
        cmocka_unit_test(test_client_error_read_reports_status),
        cmocka_unit_test(test_client_write_error_reports_status),
        cmocka_unit_test(test_client_connect_failure_backoff_grows_within_bounds),
        cmocka_unit_test(test_client_fails_over_through_the_broker_list),
        cmocka_unit_test(test_client_broker_list_is_checked_at_create),
        cmocka_unit_test(test_client_transport_connect_timeout),
        cmocka_unit_test(test_client_transport_wake_at_bounds_the_wait),
        cmocka_unit_test(test_client_state_changes_follow_the_table),
        cmocka_unit_test(test_client_same_failure_is_diagnosed_once),
        cmocka_unit_test(test_client_connack_timeout),
        cmocka_unit_test(test_client_connack_refused_is_error_event),
        cmocka_unit_test(test_client_keepalive_ping_and_timeout),
        cmocka_unit_test(test_client_malformed_input_closes_connection),
        cmocka_unit_test(test_client_large_inbound_message_grows_buffer),
        cmocka_unit_test(test_client_disconnect_sends_disconnect_and_goes_idle),
        cmocka_unit_test(test_client_outbox_full_fails_at_once),
        cmocka_unit_test(test_client_outbox_grows_to_the_limit_and_keeps_order),
        cmocka_unit_test(test_client_queued_packets_one_write_partial_resumes),
        cmocka_unit_test(test_client_cork_holds_uncork_flushes_in_one_write),
        cmocka_unit_test(test_client_api_argument_checks),
        cmocka_unit_test(test_client_subscribe_and_receive),
        cmocka_unit_test(test_client_log_callback_levels_and_no_secrets),
        cmocka_unit_test(test_client_inbound_burst_back_pressure),
        cmocka_unit_test(test_client_inbound_burst_grows_the_control_buffer),
        cmocka_unit_test(test_client_garbage_first_byte_closes_at_once),
        cmocka_unit_test(test_client_lost_after_connack_is_not_closed_after_connect),
        cmocka_unit_test(test_client_qos2_reconnect_clean_warns_persistent_keeps_exactly_once),
        cmocka_unit_test(test_client_insecure_warns_at_every_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
