/* The sans-I/O session with no socket: QoS flows both ways, resend after reconnect, keepalive,
 * Receive Maximum window, outbox limits, topic aliases, packet size limits, malformed input,
 * backoff bounds. Broker packets are built with the codec; our output is decoded with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/session.h"
#include "mqtls/limits.h"
#include "mqtls/uri.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- fixture ---------------------------------------------------------------------------- */

typedef struct rec_event {
    mqtls_event_type_t type;
    uint16_t id;
    uint8_t qos;
    bool dup;
    bool retain;
    bool session_present;
    uint8_t reason;
    char topic[128];
    size_t payload_len;
    mqtls_status_t status;
} rec_event_t;

typedef struct fixture {
    mqtls__session_t s;
    rec_event_t ev[1024];
    size_t ev_count;
    /* our output, decoded */
    uint8_t out[1 << 16];
    size_t out_len;
    mqtls_packet_t pkts[64];
    size_t pkt_count;
    int64_t now;
} fixture_t;

static uint8_t g_arena[2u * 1024u * 1024u];
static fixture_t g_fx;

/* --- buffers given as the runtime does (malloc there, static pools here) ------------------ */

/* A pool of four buffers of one size; each is handed out poisoned (bytes the session did not
 * move into it would show) and must come back once. */
typedef struct pool {
    uint8_t *buf[4];
    bool busy[4];
    size_t size;
} pool_t;

#define ID_MAPS 4
#define MEM_BUFS 4
static uint8_t g_id_map[ID_MAPS][MQTLS__IDSET_MAP_BYTES];
static uint8_t g_mem_buf[MEM_BUFS][1u << 19];
static pool_t g_ids = {
    {g_id_map[0], g_id_map[1], g_id_map[2], g_id_map[3]}, {false}, sizeof g_id_map[0]};
static pool_t g_mem = {
    {g_mem_buf[0], g_mem_buf[1], g_mem_buf[2], g_mem_buf[3]}, {false}, sizeof g_mem_buf[0]};
static size_t g_id_maps_given;
static size_t g_ctrl_given;
static size_t g_subs_given;

static void *pool_take(pool_t *pl, size_t n, uint8_t poison)
{
    assert_true(n <= pl->size);
    size_t b = 0;
    while (b < ARRAY_LEN(pl->buf) && pl->busy[b]) {
        b++;
    }
    assert_true(b < ARRAY_LEN(pl->buf));
    memset(pl->buf[b], poison, n);
    pl->busy[b] = true;
    return pl->buf[b];
}

/* A buffer the session handed back: one of @p pl's? */
static bool pool_give_back(pool_t *pl, void *p)
{
    for (size_t i = 0; i < ARRAY_LEN(pl->buf); i++) {
        if (p == (void *)pl->buf[i]) {
            assert_true(pl->busy[i]); /* handed back once */
            pl->busy[i] = false;
            return true;
        }
    }
    return false;
}

static size_t pool_busy(const pool_t *pl)
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(pl->buf); i++) {
        n += pl->busy[i] ? 1u : 0u;
    }
    return n;
}

/* Give the session every id bitmap it wants (they need not be zeroed). @return how many. */
static size_t ids_give(mqtls__session_t *s)
{
    size_t n = 0;
    while (mqtls__session_ids_want(s) > 0) {
        void *m = pool_take(&g_ids, MQTLS__IDSET_MAP_BYTES, 0xA5);
        assert_int_equal(mqtls__session_give_ids_map(s, m, MQTLS__IDSET_MAP_BYTES), MQTLS_OK);
        g_id_maps_given++;
        n++;
    }
    return n;
}

static void grow_give_back(void *p); /* any buffer the session handed back (below) */

/* As the runtime's mqtls__client_give_wanted(): take back what the session handed back, then
 * give every id bitmap, control buffer and store it wants. @return how many were given. */
static size_t mem_give(mqtls__session_t *s)
{
    void *p;
    while ((p = mqtls__session_reclaim(s)) != NULL) {
        grow_give_back(p);
    }
    size_t n = ids_give(s);
    size_t want = mqtls__session_ctrl_want(s);
    if (want > 0) {
        assert_true(want > s->ctrl_cap);
        assert_int_equal(mqtls__session_give_ctrl(s, pool_take(&g_mem, want, 0xEE), want), MQTLS_OK);
        assert_int_equal(s->ctrl_cap, want);
        g_ctrl_given++;
        n++;
    }
    want = mqtls__session_subs_want(s);
    if (want > 0) {
        assert_true(want > s->subs_cap);
        assert_int_equal(mqtls__session_give_subs(s, pool_take(&g_mem, want, 0xEE), want), MQTLS_OK);
        g_subs_given++;
        n++;
    }
    return n;
}

static void on_event(void *ctx, const mqtls_event_t *e)
{
    fixture_t *f = ctx;
    if (f->ev_count >= ARRAY_LEN(f->ev)) {
        return;
    }
    rec_event_t *r = &f->ev[f->ev_count++];
    memset(r, 0, sizeof *r);
    r->type = e->type;
    switch (e->type) {
    case MQTLS_EVENT_CONNECTED:
        r->session_present = e->u.connected.session_present;
        break;
    case MQTLS_EVENT_MESSAGE:
    case MQTLS_EVENT_MESSAGE_IN_DOUBT: {
        size_t n = e->u.message.topic.len < sizeof r->topic - 1u ? e->u.message.topic.len
                                                                 : sizeof r->topic - 1u;
        memcpy(r->topic, e->u.message.topic.data, n);
        r->id = e->u.message.packet_id;
        r->qos = e->u.message.qos;
        r->dup = e->u.message.dup;
        r->retain = e->u.message.retain;
        r->payload_len = e->u.message.payload.len;
        break;
    }
    case MQTLS_EVENT_PUBLISHED:
        r->id = e->u.published.packet_id;
        r->reason = e->u.published.reason;
        break;
    case MQTLS_EVENT_SUBSCRIBED:
    case MQTLS_EVENT_UNSUBSCRIBED:
        r->id = e->u.subscribed.packet_id;
        r->reason = e->u.subscribed.reasons.len > 0 ? e->u.subscribed.reasons.data[0] : 0xFF;
        break;
    case MQTLS_EVENT_ERROR:
        r->status = e->u.error.err.status;
        r->id = e->u.error.packet_id;
        break;
    default:
        break;
    }
}

static mqtls__session_cfg_t base_cfg(mqtls_version_t v)
{
    mqtls__session_cfg_t c;
    memset(&c, 0, sizeof c);
    c.version = v;
    c.client_id.data = (const uint8_t *)"test-client";
    c.client_id.len = 11;
    c.keepalive_s = 10;
    c.clean_start = true;
    c.connack_timeout_ms = 5000;
    c.max_messages = 64;
    c.max_bytes = 64u * 1024u;
    /* The whole outbox in the arena from the start (no growth) unless a test asks for it:
     * the initial sizes are clamped to the limits. */
    c.initial_messages = SIZE_MAX;
    c.initial_bytes = SIZE_MAX;
    c.receive_maximum = 65535;
    c.max_packet_size = 0;
    c.on_event = on_event;
    c.event_ctx = &g_fx;
    return c;
}

static mqtls__session_t *setup_with(const mqtls__session_cfg_t *cfg)
{
    memset(&g_fx, 0, sizeof g_fx);
    memset(g_ids.busy, 0, sizeof g_ids.busy); /* the previous session is gone */
    g_id_maps_given = 0;
    memset(g_mem.busy, 0, sizeof g_mem.busy);
    g_ctrl_given = 0;
    g_subs_given = 0;
    g_fx.now = 1000;
    size_t need = mqtls__session_arena_size(cfg);
    assert_true(need <= sizeof g_arena);
    assert_int_equal(mqtls__session_setup(&g_fx.s, cfg, g_arena, sizeof g_arena), MQTLS_OK);
    return &g_fx.s;
}

/* Take everything the session wants to write, in chunks of @p chunk bytes (0 = all at once),
 * and decode it into g_fx.pkts. */
static void drain_raw(mqtls__session_t *s, size_t chunk)
{
    g_fx.out_len = 0;
    g_fx.pkt_count = 0;
    for (int guard = 0; guard < 100000; guard++) {
        mqtls_iovec_t iov[16];
        size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
        if (n == 0) {
            break;
        }
        size_t budget = chunk == 0 ? SIZE_MAX : chunk;
        size_t took = 0;
        for (size_t i = 0; i < n && budget > 0; i++) {
            size_t k = iov[i].len < budget ? iov[i].len : budget;
            assert_true(g_fx.out_len + k <= sizeof g_fx.out);
            memcpy(g_fx.out + g_fx.out_len, iov[i].base, k);
            g_fx.out_len += k;
            took += k;
            budget -= k;
        }
        mqtls__session_out_consumed(s, took, g_fx.now);
    }
}

static size_t drain_chunked(mqtls__session_t *s, size_t chunk)
{
    drain_raw(s, chunk);
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    size_t off = 0;
    while (off < g_fx.out_len) {
        size_t used = 0;
        assert_true(g_fx.pkt_count < ARRAY_LEN(g_fx.pkts));
        assert_int_equal(mqtls_packet_decode(g_fx.out + off, g_fx.out_len - off, &cc,
                                             &g_fx.pkts[g_fx.pkt_count], &used),
                         MQTLS_OK);
        g_fx.pkt_count++;
        off += used;
    }
    return g_fx.pkt_count;
}

static size_t drain(mqtls__session_t *s)
{
    return drain_chunked(s, 0);
}

/* Feed one packet; when the session stops before it for an id bitmap or a bigger control
 * buffer, give it and feed again (as the runtime's pump does). */
static mqtls_status_t feed(mqtls__session_t *s, const mqtls_packet_t *p)
{
    static uint8_t buf[1 << 17];
    size_t n = 0;
    assert_int_equal(mqtls_packet_encode(p, s->cfg.version, buf, sizeof buf, &n), MQTLS_OK);
    size_t used = 0;
    size_t need = 0;
    mqtls_status_t st = mqtls__session_on_bytes(s, buf, n, g_fx.now, &used, &need);
    if (st == MQTLS_OK && used == 0 && mqtls__session_input_blocked(s) &&
        (mqtls__session_ids_want(s) > 0 || mqtls__session_ctrl_want(s) > 0)) {
        assert_true(mem_give(s) > 0);
        assert_false(mqtls__session_input_blocked(s));
        st = mqtls__session_on_bytes(s, buf, n, g_fx.now, &used, &need);
    }
    if (st == MQTLS_OK) {
        assert_int_equal(used, n);
    }
    return st;
}

static mqtls_status_t feed_connack(mqtls__session_t *s, bool sp, const mqtls_property_t *props,
                                   size_t np)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_CONNACK;
    p.u.connack.session_present = sp;
    p.u.connack.props.items = props;
    p.u.connack.props.count = np;
    return feed(s, &p);
}

static mqtls_status_t feed_ack(mqtls__session_t *s, mqtls_packet_type_t t, uint16_t id)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = t;
    p.u.ack.packet_id = id;
    return feed(s, &p);
}

static mqtls_status_t feed_publish(mqtls__session_t *s, const char *topic, uint8_t qos,
                                   uint16_t id, bool dup, const mqtls_property_t *props,
                                   size_t np)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PUBLISH;
    p.u.publish.topic.data = (const uint8_t *)topic;
    p.u.publish.topic.len = strlen(topic);
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.dup = dup;
    p.u.publish.payload.data = (const uint8_t *)"hello";
    p.u.publish.payload.len = 5;
    p.u.publish.props.items = props;
    p.u.publish.props.count = np;
    return feed(s, &p);
}

static void connect_ok(mqtls__session_t *s, bool sp, const mqtls_property_t *props, size_t np)
{
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_CONNECT);
    assert_int_equal(feed_connack(s, sp, props, np), MQTLS_OK);
    assert_int_equal(s->state, MQTLS__S_CONNECTED);
}

static mqtls_status_t publish(mqtls__session_t *s, const char *topic, size_t len, uint8_t qos,
                              uint16_t *id)
{
    static uint8_t payload[1 << 16];
    mqtls_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic.data = (const uint8_t *)topic;
    p.topic.len = strlen(topic);
    p.payload.data = payload;
    p.payload.len = len;
    p.qos = qos;
    mqtls_status_t st = mqtls__session_publish(s, &p, id);
    if (st == MQTLS_ERR_OUTBOX_FULL && ids_give(s) > 0) {
        st = mqtls__session_publish(s, &p, id); /* more than 32 ids in use: the bitmap */
    }
    return st;
}

static size_t count_events(mqtls_event_type_t t)
{
    size_t n = 0;
    for (size_t i = 0; i < g_fx.ev_count; i++) {
        n += g_fx.ev[i].type == t ? 1u : 0u;
    }
    return n;
}

/* --- persistence hooks (src/runtime/persist.c records what they report) ------------------ */

typedef struct persist_rec {
    mqtls__persist_kind_t kind;
    uint16_t id;
    size_t events_before; /* events delivered when the hook ran: the order against deliveries */
} persist_rec_t;

static persist_rec_t g_prec[64];
static size_t g_prec_count;
static int g_persist_fail_kind = -1; /* this kind fails with MQTLS_ERR_PERSIST */

static mqtls_status_t persist_hook(void *ctx, const mqtls__persist_op_t *op)
{
    (void)ctx;
    if ((int)op->kind == g_persist_fail_kind) {
        return MQTLS_ERR_PERSIST;
    }
    if (g_prec_count < ARRAY_LEN(g_prec)) {
        g_prec[g_prec_count++] = (persist_rec_t){op->kind, op->packet_id, g_fx.ev_count};
    }
    if (op->kind == MQTLS__P_PUB_ADDED) {
        /* the encoded PUBLISH, with its id and QoS */
        mqtls_codec_cfg_t cc = {.version = MQTLS_V311, .max_packet_size = 0};
        mqtls_packet_t p;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(op->packet.data, op->packet.len, &cc, &p, &used),
                         MQTLS_OK);
        assert_int_equal(p.u.publish.packet_id, op->packet_id);
        assert_int_equal(p.u.publish.qos, op->qos);
    }
    if (op->kind == MQTLS__P_IN_RECEIVED) {
        assert_non_null(op->message);
        assert_int_equal(op->message->payload.len, 5);
    }
    return MQTLS_OK;
}

static mqtls__session_t *setup_persistent(void)
{
    g_prec_count = 0;
    g_persist_fail_kind = -1;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.clean_start = false;
    cfg.on_persist = persist_hook;
    return setup_with(&cfg);
}

static size_t prec_find(mqtls__persist_kind_t kind, uint16_t id)
{
    for (size_t i = 0; i < g_prec_count; i++) {
        if (g_prec[i].kind == kind && g_prec[i].id == id) {
            return i;
        }
    }
    fail_msg("no persist record of kind %d for id %u", (int)kind, id);
    return 0;
}

static void test_session_persist_hooks_come_before_what_depends_on_them(void **state)
{
    (void)state;
    mqtls__session_t *s = setup_persistent();
    connect_ok(s, true, NULL, 0);
    /* Outbound QoS 2: recorded before publish() returns; PUBREC recorded before PUBREL. */
    uint16_t id = 0;
    assert_int_equal(publish(s, "t/2", 10, 2, &id), MQTLS_OK);
    assert_int_equal(g_prec_count, 1);
    assert_int_equal(g_prec[0].kind, MQTLS__P_PUB_ADDED);
    assert_int_equal(drain(s), 1);
    (void)prec_find(MQTLS__P_PUB_SENT, id);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
    size_t rec = prec_find(MQTLS__P_PUB_PUBREC, id);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREL);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
    size_t done = prec_find(MQTLS__P_PUB_DONE, id);
    assert_true(rec < done);
    assert_int_equal(g_fx.ev[g_prec[done].events_before].type, MQTLS_EVENT_PUBLISHED);
    /* QoS 0: nothing recorded. */
    size_t before = g_prec_count;
    assert_int_equal(publish(s, "t/0", 3, 0, NULL), MQTLS_OK);
    drain(s);
    assert_int_equal(g_prec_count, before);
    /* Inbound QoS 2: recorded before the delivery, delivered recorded after it, released
     * before PUBCOMP; a resent PUBLISH is neither delivered nor recorded again. */
    size_t ev = g_fx.ev_count;
    assert_int_equal(feed_publish(s, "in/2", 2, 77, false, NULL, 0), MQTLS_OK);
    size_t recv = prec_find(MQTLS__P_IN_RECEIVED, 77);
    size_t dlv = prec_find(MQTLS__P_IN_DELIVERED, 77);
    assert_int_equal(g_prec[recv].events_before, ev);
    assert_int_equal(g_prec[dlv].events_before, ev + 1u);
    assert_int_equal(g_fx.ev[ev].type, MQTLS_EVENT_MESSAGE);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREC);
    before = g_prec_count;
    assert_int_equal(feed_publish(s, "in/2", 2, 77, true, NULL, 0), MQTLS_OK);
    assert_int_equal(g_prec_count, before);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
    drain(s);
    assert_int_equal(feed_ack(s, MQTLS_PUBREL, 77), MQTLS_OK);
    (void)prec_find(MQTLS__P_IN_RELEASED, 77);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBCOMP);
}

static void test_session_qos2_id_reused_without_dup_is_reported_in_doubt(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 5, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
    drain(s); /* PUBREC; the broker's PUBREL never comes (it lost the flow) */
    /* A resend (DUP) is dropped silently; a new PUBLISH (no DUP) on the same id is neither
     * delivered nor dropped silently. Both are acknowledged with PUBREC [MQTT-4.3.3-9]. */
    assert_int_equal(feed_publish(s, "in/2", 2, 5, true, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE_IN_DOUBT), 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 5, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE_IN_DOUBT), 1);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].id, 5);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].payload_len, 5);
    assert_int_equal(drain(s), 2);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREC);
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PUBREC);
}

static void test_session_persist_failure_refuses_or_closes(void **state)
{
    (void)state;
    mqtls__session_t *s = setup_persistent();
    connect_ok(s, true, NULL, 0);
    /* A publish the store cannot record is not handed over, and its id stays free. */
    g_persist_fail_kind = MQTLS__P_PUB_ADDED;
    uint16_t id = 0;
    assert_int_equal(publish(s, "t/1", 10, 1, &id), MQTLS_ERR_PERSIST);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(drain(s), 0);
    assert_int_equal(g_prec_count, 0); /* no DONE for what was never added */
    g_persist_fail_kind = -1;
    assert_int_equal(publish(s, "t/2", 10, 2, &id), MQTLS_OK);
    drain(s);
    /* PUBREC not recorded: no PUBREL, the connection ends (the next one resends the PUBLISH). */
    g_persist_fail_kind = MQTLS__P_PUB_PUBREC;
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_ERR_PERSIST);
    assert_int_equal(drain(s), 0);
    /* An inbound QoS 2 message not recorded is not delivered nor acknowledged. */
    s = setup_persistent();
    connect_ok(s, true, NULL, 0);
    g_persist_fail_kind = MQTLS__P_IN_RECEIVED;
    size_t ev = g_fx.ev_count;
    assert_int_equal(feed_publish(s, "in/2", 2, 5, false, NULL, 0), MQTLS_ERR_PERSIST);
    assert_int_equal(g_fx.ev_count, ev);
    assert_int_equal(drain(s), 0);
    /* A PUBREL not recorded: no PUBCOMP (the broker could reuse the id). */
    s = setup_persistent();
    connect_ok(s, true, NULL, 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 6, false, NULL, 0), MQTLS_OK);
    drain(s);
    g_persist_fail_kind = MQTLS__P_IN_RELEASED;
    assert_int_equal(feed_ack(s, MQTLS_PUBREL, 6), MQTLS_ERR_PERSIST);
    assert_int_equal(drain(s), 0);
}

/* The encoded PUBLISH of a restored entry. */
static size_t encode_pub(uint8_t *buf, size_t cap, uint16_t id, uint8_t qos)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PUBLISH;
    p.u.publish.topic.data = (const uint8_t *)"r/t";
    p.u.publish.topic.len = 3;
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.payload.data = (const uint8_t *)"x";
    p.u.publish.payload.len = 1;
    size_t n = 0;
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, cap, &n), MQTLS_OK);
    return n;
}

static void restore_three(mqtls__session_t *s)
{
    uint8_t b[64];
    size_t n = encode_pub(b, sizeof b, 5, 1);
    assert_int_equal(mqtls__session_restore_publish(s, b, n, 5, 1, MQTLS__R_NOT_SENT), MQTLS_OK);
    n = encode_pub(b, sizeof b, 6, 1);
    assert_int_equal(mqtls__session_restore_publish(s, b, n, 6, 1, MQTLS__R_SENT), MQTLS_OK);
    n = encode_pub(b, sizeof b, 7, 2);
    assert_int_equal(mqtls__session_restore_publish(s, b, n, 7, 2, MQTLS__R_PUBREC), MQTLS_OK);
    /* wrong: id in use, id not the packet's, not a PUBLISH */
    assert_int_equal(mqtls__session_restore_publish(s, b, n, 7, 2, MQTLS__R_SENT),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__session_restore_publish(s, b, n, 8, 2, MQTLS__R_SENT),
                     MQTLS_ERR_INVALID_ARG);
    static const uint8_t ping[] = {0xC0, 0x00};
    assert_int_equal(mqtls__session_restore_publish(s, ping, 2, 9, 1, MQTLS__R_SENT),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__session_restore_inbound(s, 9), MQTLS_OK);
    assert_int_equal(mqtls__session_outbox_count(s), 3);
}

static void test_session_restored_entries_resume_the_session(void **state)
{
    (void)state;
    mqtls__session_t *s = setup_persistent();
    restore_three(s);
    connect_ok(s, true, NULL, 0);
    /* PUBREL for the one past PUBREC, then the PUBLISHes in order, DUP on the one sent. */
    assert_int_equal(drain(s), 3);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREL);
    assert_int_equal(g_fx.pkts[0].u.ack.packet_id, 7);
    assert_int_equal(g_fx.pkts[1].u.publish.packet_id, 5);
    assert_false(g_fx.pkts[1].u.publish.dup);
    assert_int_equal(g_fx.pkts[2].u.publish.packet_id, 6);
    assert_true(g_fx.pkts[2].u.publish.dup);
    /* The inbound id awaiting PUBREL: a resent PUBLISH is acknowledged, not delivered. */
    assert_int_equal(feed_publish(s, "in", 2, 9, true, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 0);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREC);
    /* New ids do not collide with restored ones. */
    uint16_t id = 0;
    assert_int_equal(publish(s, "t", 1, 1, &id), MQTLS_OK);
    assert_true(id != 5 && id != 6 && id != 7);
    assert_int_equal(mqtls__session_restore_inbound(s, 10), MQTLS_ERR_STATE);

    /* The broker lost the session: everything is a first delivery again, the QoS 2 message
     * past PUBREC is published anew (and recorded so), the inbound ids are forgotten. */
    s = setup_persistent();
    restore_three(s);
    connect_ok(s, false, NULL, 0);
    (void)prec_find(MQTLS__P_PUB_REQUEUED, 7);
    (void)prec_find(MQTLS__P_IN_CLEARED, 0);
    assert_int_equal(drain(s), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(g_fx.pkts[i].type, MQTLS_PUBLISH);
        assert_false(g_fx.pkts[i].u.publish.dup);
    }
    assert_int_equal(g_fx.pkts[2].u.publish.packet_id, 7);
    assert_int_equal(feed_publish(s, "in", 2, 9, true, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
}

/* --- tests ------------------------------------------------------------------------------ */

static void test_session_connect_v311_sends_connect_and_connects(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    const mqtls_connect_t *c = &g_fx.pkts[0].u.connect;
    assert_int_equal(g_fx.pkts[0].type, MQTLS_CONNECT);
    assert_int_equal(c->keepalive_s, 10);
    assert_true(c->clean_start);
    assert_memory_equal(c->client_id.data, "test-client", 11);
    assert_int_equal(feed_connack(s, false, NULL, 0), MQTLS_OK);
    assert_int_equal(g_fx.ev_count, 1);
    assert_int_equal(g_fx.ev[0].type, MQTLS_EVENT_CONNECTED);
    assert_false(g_fx.ev[0].session_present);
}

static void test_session_illegal_events_return_state(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_disconnect(s, 0), MQTLS_ERR_STATE);
    mqtls_topic_filter_t f = {{(const uint8_t *)"a", 1}, 0};
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, NULL), MQTLS_ERR_STATE);
    uint8_t in[4] = {0x20, 0x02, 0, 0};
    size_t used = 0;
    size_t need = 0;
    assert_int_equal(mqtls__session_on_bytes(s, in, 4, 0, &used, &need), MQTLS_ERR_STATE);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_ERR_STATE);
}

static void test_session_connack_refused_reports_reason(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
    drain(s);
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_CONNACK;
    p.u.connack.reason = 5;
    assert_int_equal(feed(s, &p), MQTLS_ERR_CONNACK_REFUSED);
    assert_int_equal(s->err.connack_reason, 5);
    assert_int_equal(s->err.layer, MQTLS_LAYER_MQTT);
}

static void test_session_qos0_out_is_written_once_and_dropped(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id = 99;
    assert_int_equal(publish(s, "t/0", 10, 0, &id), MQTLS_OK);
    assert_int_equal(id, 0);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBLISH);
    assert_int_equal(g_fx.pkts[0].u.publish.payload.len, 10);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
}

static void test_session_qos1_out_puback_completes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id = 0;
    assert_int_equal(publish(s, "t/1", 100, 1, &id), MQTLS_OK);
    assert_int_not_equal(id, 0);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].u.publish.qos, 1);
    assert_int_equal(g_fx.pkts[0].u.publish.packet_id, id);
    assert_false(g_fx.pkts[0].u.publish.dup);
    assert_int_equal(mqtls__session_outbox_count(s), 1);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, id), MQTLS_OK);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].type, MQTLS_EVENT_PUBLISHED);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].id, id);
    /* A duplicate PUBACK is ignored. */
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, id), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 1);
}

static void test_session_qos2_out_full_flow(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id = 0;
    assert_int_equal(publish(s, "t/2", 3, 2, &id), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].u.publish.qos, 2);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREL);
    assert_int_equal(g_fx.pkts[0].u.ack.packet_id, id);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 0);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 1);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
}

/* RabbitMQ 3.10 answers a QoS 2 PUBLISH with PUBACK (it took it at QoS 1): complete it and
 * count it; a PUBACK after PUBREC is still ignored. */
static void test_session_qos2_answered_with_puback_completes_as_downgrade(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t a = 0;
    uint16_t b = 0;
    assert_int_equal(publish(s, "t/2", 3, 2, &a), MQTLS_OK);
    assert_int_equal(publish(s, "t/2", 3, 2, &b), MQTLS_OK);
    assert_int_equal(drain(s), 2);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, a), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 1);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].id, a);
    assert_int_equal(s->qos2_downgrades, 1);
    assert_int_equal(drain(s), 0); /* no PUBREL for it */
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, b), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, b), MQTLS_OK); /* after PUBREC: not an answer */
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 1);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, b), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 2);
    assert_int_equal(s->qos2_downgrades, 1);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
}

static void test_session_qos1_in_delivers_and_acks(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(feed_publish(s, "in/1", 1, 7, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
    assert_string_equal(g_fx.ev[1].topic, "in/1");
    assert_int_equal(g_fx.ev[1].payload_len, 5);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBACK);
    assert_int_equal(g_fx.pkts[0].u.ack.packet_id, 7);
}

static void test_session_qos2_in_delivered_exactly_once(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 9, false, NULL, 0), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREC);
    /* The broker resends (lost PUBREC): acknowledged again, not delivered again. */
    assert_int_equal(feed_publish(s, "in/2", 2, 9, true, NULL, 0), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREC);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
    assert_int_equal(feed_ack(s, MQTLS_PUBREL, 9), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBCOMP);
    /* After PUBREL the id is free: a new message with it is delivered. */
    assert_int_equal(feed_publish(s, "in/2", 2, 9, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 2);
}

static void test_session_qos2_in_survives_reconnect_with_session(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.clean_start = false;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 11, false, NULL, 0), MQTLS_OK);
    mqtls__session_on_closed(s);
    connect_ok(s, true, NULL, 0);
    assert_int_equal(feed_publish(s, "in/2", 2, 11, true, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
}

static void test_session_resend_with_dup_after_reconnect(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.clean_start = false;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id1 = 0;
    uint16_t id2 = 0;
    uint16_t id3 = 0;
    assert_int_equal(publish(s, "a", 1, 1, &id1), MQTLS_OK);
    assert_int_equal(publish(s, "b", 1, 2, &id2), MQTLS_OK);
    assert_int_equal(publish(s, "c", 1, 2, &id3), MQTLS_OK);
    assert_int_equal(drain(s), 3);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id3), MQTLS_OK); /* c is at PUBREL stage */
    assert_int_equal(drain(s), 1);
    mqtls__session_on_closed(s);
    assert_int_equal(mqtls__session_out_iov(s, NULL, 0), 0);
    connect_ok(s, true, NULL, 0);
    /* [MQTT-4.4.0-1]: PUBREL for c, and a, b again with DUP, in their original order. */
    assert_int_equal(drain(s), 3);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBREL);
    assert_int_equal(g_fx.pkts[0].u.ack.packet_id, id3);
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PUBLISH);
    assert_int_equal(g_fx.pkts[1].u.publish.packet_id, id1);
    assert_true(g_fx.pkts[1].u.publish.dup);
    assert_int_equal(g_fx.pkts[2].u.publish.packet_id, id2);
    assert_true(g_fx.pkts[2].u.publish.dup);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, id1), MQTLS_OK);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id2), MQTLS_OK);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id3), MQTLS_OK);
    drain(s);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id2), MQTLS_OK);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 3);
}

static void test_session_no_session_resends_without_dup_and_resubscribes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_topic_filter_t f[2] = {{{(const uint8_t *)"x/#", 3}, 1}, {{(const uint8_t *)"y", 1}, 2}};
    uint16_t sid = 0;
    assert_int_equal(mqtls__session_subscribe(s, f, 2, NULL, &sid), MQTLS_OK);
    uint16_t id = 0;
    assert_int_equal(publish(s, "a", 1, 1, &id), MQTLS_OK);
    assert_int_equal(drain(s), 2);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_SUBSCRIBE);
    mqtls__session_on_closed(s);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(drain(s), 2);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_SUBSCRIBE);
    mqtls_topic_filter_t got;
    size_t cur = 0;
    assert_int_equal(mqtls_filters_next(&g_fx.pkts[0].u.subscribe.filters, &cur, &got), MQTLS_OK);
    assert_memory_equal(got.filter.data, "x/#", 3);
    assert_int_equal(got.options & 3u, 1);
    assert_int_equal(mqtls_filters_next(&g_fx.pkts[0].u.subscribe.filters, &cur, &got), MQTLS_OK);
    assert_memory_equal(got.filter.data, "y", 1);
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PUBLISH);
    assert_int_equal(g_fx.pkts[1].u.publish.packet_id, id);
    assert_false(g_fx.pkts[1].u.publish.dup);
    /* Unsubscribed filters are not restored. */
    mqtls_topic_filter_t u = {{(const uint8_t *)"y", 1}, 0};
    assert_int_equal(mqtls__session_unsubscribe(s, &u, 1, NULL), MQTLS_OK);
    drain(s);
    mqtls__session_on_closed(s);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(drain(s), 2);
    cur = 0;
    assert_int_equal(mqtls_filters_next(&g_fx.pkts[0].u.subscribe.filters, &cur, &got), MQTLS_OK);
    assert_int_equal(mqtls_filters_next(&g_fx.pkts[0].u.subscribe.filters, &cur, &got),
                     MQTLS_ERR_NEED_MORE);
}

static void test_session_lost_session_republishes_qos2_awaiting_pubcomp(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.clean_start = false;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id = 0;
    assert_int_equal(publish(s, "q2", 4, 2, &id), MQTLS_OK);
    drain(s);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
    drain(s); /* PUBREL out */
    mqtls__session_on_closed(s);
    /* The broker lost the session (crash): the message it held until PUBREL is gone, so it
     * is published again, as a first delivery (no DUP), not released. */
    connect_ok(s, false, NULL, 0);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBLISH);
    assert_int_equal(g_fx.pkts[0].u.publish.packet_id, id);
    assert_false(g_fx.pkts[0].u.publish.dup);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 0);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 1);
}

static void test_session_v311_default_window_is_20(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(publish(s, "w", 1, 1, NULL), MQTLS_OK);
    }
    /* 3.1.1 brokers announce no Receive Maximum but have one (mosquitto: 20 by default). */
    assert_int_equal(drain(s), 20);
    assert_int_equal(drain(s), 0);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, g_fx.pkts[0].u.publish.packet_id), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    cfg.max_inflight = 5;
    s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(publish(s, "w", 1, 1, NULL), MQTLS_OK);
    }
    assert_int_equal(drain(s), 5);
    /* MQTT 5: the broker's Receive Maximum, capped by ours. */
    cfg = base_cfg(MQTLS_V5);
    cfg.max_inflight = 3;
    s = setup_with(&cfg);
    mqtls_property_t rm = {.id = MQTLS_PROP_RECEIVE_MAXIMUM, .v.u32 = 100};
    connect_ok(s, false, &rm, 1);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(publish(s, "w", 1, 1, NULL), MQTLS_OK);
    }
    assert_int_equal(drain(s), 3);
}

static void test_session_resubscribe_many_filters_in_batches(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    static char names[100][8];
    for (int i = 0; i < 100; i++) {
        (void)snprintf(names[i], sizeof names[i], "f/%d", i);
        mqtls_topic_filter_t f = {{(const uint8_t *)names[i], strlen(names[i])}, 1};
        mqtls_status_t st = mqtls__session_subscribe(s, &f, 1, NULL, NULL);
        if (st == MQTLS_ERR_OUTBOX_FULL && mem_give(s) > 0) {
            st = mqtls__session_subscribe(s, &f, 1, NULL, NULL); /* 33 ids: the bitmap */
        }
        assert_int_equal(st, MQTLS_OK);
        drain(s);
    }
    assert_int_equal(g_id_maps_given, 1);
    mqtls__session_on_closed(s);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(drain(s), 2);
    size_t total = 0;
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(g_fx.pkts[k].type, MQTLS_SUBSCRIBE);
        size_t cur = 0;
        mqtls_topic_filter_t got;
        while (mqtls_filters_next(&g_fx.pkts[k].u.subscribe.filters, &cur, &got) == MQTLS_OK) {
            assert_int_equal(got.filter.len, strlen(names[total]));
            assert_memory_equal(got.filter.data, names[total], got.filter.len);
            total++;
        }
    }
    assert_int_equal(total, 100);
}

static void test_session_suback_event_has_reasons(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_topic_filter_t f = {{(const uint8_t *)"x", 1}, 1};
    uint16_t sid = 0;
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, &sid), MQTLS_OK);
    drain(s);
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_SUBACK;
    p.u.suback.packet_id = sid;
    static const uint8_t granted[] = {1};
    p.u.suback.reasons.data = granted;
    p.u.suback.reasons.len = 1;
    assert_int_equal(feed(s, &p), MQTLS_OK);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].type, MQTLS_EVENT_SUBSCRIBED);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].id, sid);
    assert_int_equal(g_fx.ev[g_fx.ev_count - 1u].reason, 1);
}

static void test_session_keepalive_pings_then_times_out(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(mqtls__session_next_deadline(s), g_fx.now + 10000);
    g_fx.now += 9999;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    assert_int_equal(drain(s), 0);
    g_fx.now += 1;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PINGREQ);
    /* Answered: the next ping comes a keepalive later. */
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PINGRESP;
    assert_int_equal(feed(s, &p), MQTLS_OK);
    g_fx.now += 10000;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PINGREQ);
    /* Unanswered: dead after the timeout. */
    g_fx.now += 9999;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    g_fx.now += 1;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_ERR_KEEPALIVE_TIMEOUT);
    assert_int_equal(s->err.status, MQTLS_ERR_KEEPALIVE_TIMEOUT);
}

static void test_session_connack_timeout(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    assert_int_equal(mqtls__session_next_deadline(s), g_fx.now + 5000);
    assert_int_equal(mqtls__session_tick(s, g_fx.now + 4999), MQTLS_OK);
    assert_int_equal(mqtls__session_tick(s, g_fx.now + 5000), MQTLS_ERR_CONNACK_TIMEOUT);
}

static void test_session_receive_maximum_limits_inflight(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    mqtls_property_t rm = {.id = MQTLS_PROP_RECEIVE_MAXIMUM, .v.u32 = 2};
    connect_ok(s, false, &rm, 1);
    uint16_t ids[5];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(publish(s, "w", 8, 1, &ids[i]), MQTLS_OK);
    }
    assert_int_equal(publish(s, "q0", 8, 0, NULL), MQTLS_OK);
    assert_int_equal(drain(s), 2);
    assert_int_equal(g_fx.pkts[0].u.publish.packet_id, ids[0]);
    assert_int_equal(g_fx.pkts[1].u.publish.packet_id, ids[1]);
    assert_int_equal(drain(s), 0);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[0]), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].u.publish.packet_id, ids[2]);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[1]), MQTLS_OK);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[2]), MQTLS_OK);
    assert_int_equal(drain(s), 3); /* ids[3], ids[4], then the QoS 0 behind them */
    assert_int_equal(g_fx.pkts[2].u.publish.qos, 0);
}

static void test_session_outbox_full_by_count_and_bytes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = 3;
    cfg.max_bytes = 1000;
    mqtls__session_t *s = setup_with(&cfg);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(publish(s, "t", 10, 1, NULL), MQTLS_OK);
    }
    assert_int_equal(publish(s, "t", 10, 1, NULL), MQTLS_ERR_OUTBOX_FULL);
    assert_int_equal(publish(s, "t", 10, 0, NULL), MQTLS_ERR_OUTBOX_FULL);

    cfg.max_messages = 100;
    s = setup_with(&cfg);
    assert_int_equal(publish(s, "t", 600, 1, NULL), MQTLS_OK);
    assert_int_equal(publish(s, "t", 600, 1, NULL), MQTLS_ERR_OUTBOX_FULL);
    assert_int_equal(publish(s, "t", 300, 1, NULL), MQTLS_OK);
    assert_int_equal(publish(s, "t", 2000, 1, NULL), MQTLS_ERR_PACKET_TOO_LARGE);
}

static void test_session_outbox_ring_wraps_under_load(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = 8;
    cfg.max_bytes = 700;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint32_t acked = 0;
    for (int round = 0; round < 200; round++) {
        uint16_t id = 0;
        size_t len = 50u + (size_t)(round * 37 % 150);
        mqtls_status_t st = publish(s, "ring", len, 1, &id);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            /* drain and ack everything: space must come back */
            drain_chunked(s, 7);
            for (size_t i = 0; i < g_fx.pkt_count; i++) {
                assert_int_equal(feed_ack(s, MQTLS_PUBACK, g_fx.pkts[i].u.publish.packet_id),
                                 MQTLS_OK);
                acked++;
            }
            st = publish(s, "ring", len, 1, &id);
        }
        assert_int_equal(st, MQTLS_OK);
    }
    drain(s);
    for (size_t i = 0; i < g_fx.pkt_count; i++) {
        assert_int_equal(g_fx.pkts[i].u.publish.payload.len >= 50, true);
        assert_int_equal(feed_ack(s, MQTLS_PUBACK, g_fx.pkts[i].u.publish.packet_id), MQTLS_OK);
        acked++;
    }
    assert_int_equal(acked, 200);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(s->ring_used, 0);
}

static void test_session_partial_writes_keep_packets_whole(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(publish(s, "p", (size_t)(i + 1) * 31u, (uint8_t)(i % 3), NULL),
                         MQTLS_OK);
    }
    /* A control packet is queued while a PUBLISH is half written: it must wait. */
    mqtls_iovec_t iov[16];
    size_t n = mqtls__session_out_iov(s, iov, 16);
    assert_true(n >= 1);
    size_t batch = 0;
    for (size_t i = 0; i < n; i++) {
        batch += iov[i].len;
    }
    assert_true(batch > 10u * 31u); /* several packets in this batch */
    static uint8_t stream[1 << 15];
    memcpy(stream, iov[0].base, 5);
    mqtls__session_out_consumed(s, 5, g_fx.now);
    assert_int_equal(feed_publish(s, "in", 1, 3, false, NULL, 0), MQTLS_OK); /* queues PUBACK */
    g_fx.pkt_count = 0;
    /* Drain 3 bytes at a time, then decode prefix + output as one stream. */
    size_t len = 5;
    for (int guard = 0; guard < 10000; guard++) {
        n = mqtls__session_out_iov(s, iov, 16);
        if (n == 0) {
            break;
        }
        size_t k = iov[0].len < 3 ? iov[0].len : 3;
        memcpy(stream + len, iov[0].base, k);
        len += k;
        mqtls__session_out_consumed(s, k, g_fx.now);
    }
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
    mqtls_packet_type_t types[16] = {0};
    size_t count = 0;
    size_t off = 0;
    while (off < len && count < 16) {
        mqtls_packet_t d;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(stream + off, len - off, &cc, &d, &used), MQTLS_OK);
        types[count++] = d.type;
        off += used;
    }
    assert_int_equal(count, 11);
    assert_int_equal(types[0], MQTLS_PUBLISH);
    assert_int_equal(types[1], MQTLS_PUBACK);
    for (size_t i = 2; i < count; i++) {
        assert_int_equal(types[i], MQTLS_PUBLISH);
    }
}

static void test_session_topic_alias_inbound(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    cfg.topic_alias_maximum = 4;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    drain(s);
    assert_int_equal(g_fx.pkt_count, 0);
    mqtls_property_t a1 = {.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 1};
    assert_int_equal(feed_publish(s, "long/topic/name", 0, 0, false, &a1, 1), MQTLS_OK);
    assert_int_equal(feed_publish(s, "", 0, 0, false, &a1, 1), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 2);
    assert_string_equal(g_fx.ev[2].topic, "long/topic/name");
    mqtls_property_t a2 = {.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 2};
    assert_int_equal(feed_publish(s, "", 0, 0, false, &a2, 1), MQTLS_ERR_PROTOCOL);
    mqtls__session_on_closed(s);
    connect_ok(s, false, NULL, 0);
    mqtls_property_t a9 = {.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 9};
    assert_int_equal(feed_publish(s, "x", 0, 0, false, &a9, 1), MQTLS_ERR_PROTOCOL);
    mqtls__session_on_closed(s);
    connect_ok(s, false, NULL, 0);
    /* Aliases die with the connection [MQTT-3.3.2-7]. */
    assert_int_equal(feed_publish(s, "", 0, 0, false, &a1, 1), MQTLS_ERR_PROTOCOL);
}

static void test_session_topic_alias_outbound_qos0(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    cfg.outbound_aliases = 4;
    mqtls__session_t *s = setup_with(&cfg);
    mqtls_property_t tam = {.id = MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, .v.u32 = 1};
    connect_ok(s, false, &tam, 1);
    mqtls_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic.data = (const uint8_t *)"sensors/temperature";
    p.topic.len = 19;
    p.payload.data = (const uint8_t *)"21";
    p.payload.len = 2;
    uint8_t hdr[128];
    size_t h1 = 0;
    size_t h2 = 0;
    assert_int_equal(mqtls__session_direct_begin(s, &p, hdr, sizeof hdr, &h1), MQTLS_OK);
    mqtls__session_direct_end(s, hdr, h1, p.payload.data, 2, h1 + 2, g_fx.now);
    assert_int_equal(mqtls__session_direct_begin(s, &p, hdr, sizeof hdr, &h2), MQTLS_OK);
    assert_true(h2 < h1); /* the topic is replaced by the 2-byte alias */
    uint8_t full[128];
    memcpy(full, hdr, h2);
    memcpy(full + h2, "21", 2);
    mqtls_packet_t d;
    size_t used = 0;
    mqtls_codec_cfg_t cc = {.version = MQTLS_V5};
    assert_int_equal(mqtls_packet_decode(full, h2 + 2, &cc, &d, &used), MQTLS_OK);
    assert_int_equal(d.u.publish.topic.len, 0);
    mqtls_property_t got;
    assert_true(mqtls_props_find(&d.u.publish.props, MQTLS_PROP_TOPIC_ALIAS, &got));
    assert_int_equal(got.v.u32, 1);
    mqtls__session_direct_end(s, hdr, h2, p.payload.data, 2, h2 + 2, g_fx.now);
    /* A second topic gets no alias (broker allows one): sent with its name. */
    p.topic.data = (const uint8_t *)"other";
    p.topic.len = 5;
    assert_int_equal(mqtls__session_direct_begin(s, &p, hdr, sizeof hdr, &h2), MQTLS_OK);
    memcpy(full, hdr, h2);
    memcpy(full + h2, "21", 2);
    assert_int_equal(mqtls_packet_decode(full, h2 + 2, &cc, &d, &used), MQTLS_OK);
    assert_int_equal(d.u.publish.topic.len, 5);
}

static void test_session_direct_partial_write_queues_rest(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic.data = (const uint8_t *)"d";
    p.topic.len = 1;
    static uint8_t payload[3000];
    memset(payload, 0xAB, sizeof payload);
    p.payload.data = payload;
    p.payload.len = sizeof payload;
    uint8_t hdr[64];
    size_t h = 0;
    assert_int_equal(mqtls__session_direct_begin(s, &p, hdr, sizeof hdr, &h), MQTLS_OK);
    /* Pretend the transport took 2 bytes; the rest must follow before anything else. */
    uint8_t first[2];
    memcpy(first, hdr, 2);
    mqtls__session_direct_end(s, hdr, h, payload, sizeof payload, 2, g_fx.now);
    assert_int_equal(mqtls__session_direct_begin(s, &p, hdr, sizeof hdr, &h),
                     MQTLS_ERR_WOULD_BLOCK);
    drain_raw(s, 0);
    /* reassemble: 2 bytes + drained output form one valid PUBLISH */
    static uint8_t whole[4000];
    memcpy(whole, first, 2);
    memcpy(whole + 2, g_fx.out, g_fx.out_len);
    mqtls_packet_t d;
    size_t used = 0;
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
    assert_int_equal(mqtls_packet_decode(whole, g_fx.out_len + 2, &cc, &d, &used), MQTLS_OK);
    assert_int_equal(d.u.publish.payload.len, sizeof payload);
    assert_int_equal(used, g_fx.out_len + 2);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
}

static void test_session_broker_max_packet_size_enforced(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    mqtls_property_t mp = {.id = MQTLS_PROP_MAXIMUM_PACKET_SIZE, .v.u32 = 100};
    connect_ok(s, false, &mp, 1);
    assert_int_equal(publish(s, "t", 50, 1, NULL), MQTLS_OK);
    assert_int_equal(publish(s, "t", 200, 1, NULL), MQTLS_ERR_TOO_LARGE_FOR_BROKER);
}

static void test_session_inbound_packet_too_large_closes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_packet_size = 64;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint8_t big[200];
    memset(big, 0, sizeof big);
    big[0] = 0x30;
    big[1] = 0xC5; /* remaining length 197 */
    big[2] = 0x01;
    size_t used = 0;
    size_t need = 0;
    /* The limit is checked from the fixed header, before the body arrives. */
    assert_int_equal(mqtls__session_on_bytes(s, big, 3, g_fx.now, &used, &need),
                     MQTLS_ERR_PACKET_TOO_LARGE);
}

static void test_session_split_input_reports_need(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00, 0x90, 0x03};
    size_t used = 1;
    size_t need = 0;
    assert_int_equal(mqtls__session_on_bytes(s, connack, 1, 0, &used, &need), MQTLS_OK);
    assert_int_equal(used, 0);
    assert_int_equal(mqtls__session_on_bytes(s, connack, 3, 0, &used, &need), MQTLS_OK);
    assert_int_equal(used, 0);
    assert_int_equal(need, 4);
    assert_int_equal(mqtls__session_on_bytes(s, connack, 6, 0, &used, &need), MQTLS_OK);
    assert_int_equal(used, 4);
    assert_int_equal(need, 5);
    assert_int_equal(s->state, MQTLS__S_CONNECTED);
}

typedef struct bad_input {
    const char *name;
    uint8_t bytes[16];
    size_t len;
} bad_input_t;

static void test_session_malformed_broker_input_errors(void **state)
{
    (void)state;
    static const bad_input_t cases[] = {
        {"reserved type 0", {0x00, 0x00}, 2},
        {"connack bad flags", {0x21, 0x02, 0x00, 0x00}, 4},
        {"connack too short", {0x20, 0x01, 0x00}, 3},
        {"remaining length 5 bytes", {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 6},
        {"server sends CONNECT", {0x10, 0x00}, 2},
        {"server sends PINGREQ", {0xC0, 0x00}, 2},
        {"publish first", {0x30, 0x03, 0x00, 0x01, 'a'}, 5},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
        mqtls__session_t *s = setup_with(&cfg);
        assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
        size_t used = 0;
        size_t need = 0;
        mqtls_status_t st = mqtls__session_on_bytes(s, cases[i].bytes, cases[i].len, 0, &used,
                                                    &need);
        if (st == MQTLS_OK) {
            fail_msg("case '%s' accepted", cases[i].name);
        }
        assert_int_equal(s->err.status, st);
    }
    /* After CONNACK: QoS 3 publish, PUBACK without id, SUBACK garbage. */
    static const bad_input_t after[] = {
        {"qos 3", {0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}, 7},
        {"puback short", {0x40, 0x01, 0x00}, 3},
        {"publish id 0", {0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00}, 7},
        {"wildcard topic", {0x30, 0x03, 0x00, 0x01, '#'}, 5},
    };
    for (size_t i = 0; i < ARRAY_LEN(after); i++) {
        mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
        mqtls__session_t *s = setup_with(&cfg);
        connect_ok(s, false, NULL, 0);
        size_t used = 0;
        size_t need = 0;
        mqtls_status_t st = mqtls__session_on_bytes(s, after[i].bytes, after[i].len, 0, &used,
                                                    &need);
        if (st == MQTLS_OK) {
            fail_msg("case '%s' accepted", after[i].name);
        }
    }
}

static void test_session_random_input_never_crashes(void **state)
{
    (void)state;
    uint64_t x = 0x1234567887654321ULL;
    uint8_t buf[64];
    for (int round = 0; round < 5000; round++) {
        mqtls__session_cfg_t cfg = base_cfg(round % 2 == 0 ? MQTLS_V311 : MQTLS_V5);
        cfg.topic_alias_maximum = 2;
        mqtls__session_t *s = setup_with(&cfg);
        connect_ok(s, false, NULL, 0);
        size_t len = (size_t)(round % 63) + 1u;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        buf[0] = (uint8_t)((buf[0] & 0xF0u) | (round % 16 == 0 ? 0x02u : 0u));
        size_t used = 0;
        size_t need = 0;
        mqtls_status_t st = mqtls__session_on_bytes(s, buf, len, 0, &used, &need);
        assert_true(used <= len);
        if (st != MQTLS_OK) {
            assert_int_equal(s->err.status, st);
        }
        drain(s); /* whatever it queued must be valid MQTT */
    }
}

static void test_session_server_disconnect_reports_reason(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_DISCONNECT;
    p.u.disconnect.reason = 0x8E; /* session taken over */
    assert_int_equal(feed(s, &p), MQTLS_ERR_SERVER_DISCONNECT);
    assert_int_equal(s->err.disconnect_reason, 0x8E);
}

/* --- the packet trace ------------------------------------------------------------------- */

typedef struct trace_rec {
    bool sent;
    mqtls_packet_type_t type;
    uint16_t id;
    bool dup;
    bool has_password;
    size_t password_len;
} trace_rec_t;

static trace_rec_t g_trace[64];
static size_t g_trace_count;

static void on_trace(void *ctx, bool sent, const mqtls_packet_t *p)
{
    (void)ctx;
    if (g_trace_count >= ARRAY_LEN(g_trace)) {
        return;
    }
    trace_rec_t *r = &g_trace[g_trace_count++];
    memset(r, 0, sizeof *r);
    r->sent = sent;
    r->type = p->type;
    if (p->type == MQTLS_PUBLISH) {
        r->id = p->u.publish.packet_id;
        r->dup = p->u.publish.dup;
    } else if (p->type == MQTLS_CONNECT) {
        r->has_password = p->u.connect.has_password;
        r->password_len = p->u.connect.password.len;
    } else if (p->type != MQTLS_CONNACK && p->type != MQTLS_PINGREQ && p->type != MQTLS_PINGRESP &&
               p->type != MQTLS_DISCONNECT) {
        r->id = p->u.ack.packet_id; /* ack, subscribe and suback share the id's place */
    }
}

static void expect_trace(size_t i, bool sent, mqtls_packet_type_t type, uint16_t id)
{
    assert_true(i < g_trace_count);
    assert_int_equal(g_trace[i].sent, sent);
    assert_int_equal(g_trace[i].type, type);
    assert_int_equal(g_trace[i].id, id);
}

/* Every packet both ways, in order, when its first byte is written (partial writes of 3 bytes
 * report each packet once), with the CONNECT password withheld; a resent PUBLISH again, DUP. */
static void test_session_trace_reports_packets_in_wire_order(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.on_trace = on_trace;
    cfg.clean_start = false; /* the session is resumed after the reconnect below */
    cfg.has_username = true;
    cfg.username.data = (const uint8_t *)"u";
    cfg.username.len = 1;
    cfg.has_password = true;
    cfg.password.data = (const uint8_t *)"secret";
    cfg.password.len = 6;
    mqtls__session_t *s = setup_with(&cfg);
    g_trace_count = 0;
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    assert_int_equal(g_trace_count, 0); /* queued, not written yet */
    drain_chunked(s, 3);
    assert_int_equal(g_trace_count, 1);
    expect_trace(0, true, MQTLS_CONNECT, 0);
    assert_true(g_trace[0].has_password);
    assert_int_equal(g_trace[0].password_len, 0);
    assert_int_equal(feed_connack(s, false, NULL, 0), MQTLS_OK);
    expect_trace(1, false, MQTLS_CONNACK, 0);
    uint16_t id = 0;
    assert_int_equal(publish(s, "t/q2", 5, 2, &id), MQTLS_OK);
    assert_int_equal(feed_publish(s, "in", 1, 7, false, NULL, 0), MQTLS_OK);
    expect_trace(2, false, MQTLS_PUBLISH, 7);
    drain_chunked(s, 3); /* PUBACK (control) first, then our PUBLISH */
    expect_trace(3, true, MQTLS_PUBACK, 7);
    expect_trace(4, true, MQTLS_PUBLISH, id);
    assert_false(g_trace[4].dup);
    assert_int_equal(g_trace_count, 5);
    /* the connection drops before PUBREC: resent with DUP on the resumed session */
    mqtls__session_on_closed(s);
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    drain(s);
    assert_int_equal(feed_connack(s, true, NULL, 0), MQTLS_OK);
    drain(s);
    expect_trace(5, true, MQTLS_CONNECT, 0);
    expect_trace(6, false, MQTLS_CONNACK, 0);
    expect_trace(7, true, MQTLS_PUBLISH, id);
    assert_true(g_trace[7].dup);
    assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
    drain(s);
    assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
    expect_trace(8, false, MQTLS_PUBREC, id);
    expect_trace(9, true, MQTLS_PUBREL, id);
    expect_trace(10, false, MQTLS_PUBCOMP, id);
    assert_int_equal(g_trace_count, 11);
}

/* The broker's Reason String is kept with a refusal (CONNACK) and a DISCONNECT (MQTT 5). */
static void test_session_reason_string_in_error_detail(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
    drain(s);
    mqtls_property_t rs = {.id = MQTLS_PROP_REASON_STRING};
    rs.v.bin.data = (const uint8_t *)"quota exceeded for tenant 7";
    rs.v.bin.len = strlen("quota exceeded for tenant 7");
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_CONNACK;
    p.u.connack.reason = 0x87;
    p.u.connack.props.items = &rs;
    p.u.connack.props.count = 1;
    assert_int_equal(feed(s, &p), MQTLS_ERR_CONNACK_REFUSED);
    assert_string_equal(s->err.detail, "Not authorized (broker: 'quota exceeded for tenant 7')");

    s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    memset(&p, 0, sizeof p);
    p.type = MQTLS_DISCONNECT;
    p.u.disconnect.reason = 0x98;
    p.u.disconnect.props.items = &rs;
    p.u.disconnect.props.count = 1;
    assert_int_equal(feed(s, &p), MQTLS_ERR_SERVER_DISCONNECT);
    assert_non_null(strstr(s->err.detail, "(broker: 'quota exceeded for tenant 7')"));
}

static void test_session_disconnect_flushes_then_wants_close(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    assert_int_equal(mqtls__session_disconnect(s, 0x04), MQTLS_OK);
    assert_false(mqtls__session_wants_close(s));
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_DISCONNECT);
    assert_int_equal(g_fx.pkts[0].u.disconnect.reason, 0x04);
    assert_true(mqtls__session_wants_close(s));
    assert_int_equal(mqtls__session_disconnect(s, 0), MQTLS_ERR_STATE);
}

static void test_session_disconnect_sends_queued_qos0_first_keeps_qos1(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t id = 0;
    assert_int_equal(publish(s, "q0/a", 10, 0, &id), MQTLS_OK);
    assert_int_equal(publish(s, "q1/b", 10, 1, &id), MQTLS_OK);
    assert_int_equal(publish(s, "q0/c", 10, 0, &id), MQTLS_OK);
    /* nothing written yet: the disconnect comes while all three wait in the outbox */
    assert_int_equal(mqtls__session_disconnect(s, 0), MQTLS_OK);
    assert_false(mqtls__session_wants_close(s));
    assert_true(mqtls__session_has_output(s));
    drain_chunked(s, 7); /* short writes: DISCONNECT must still come last */
    assert_int_equal(g_fx.pkt_count, 3);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBLISH);
    assert_memory_equal(g_fx.pkts[0].u.publish.topic.data, "q0/a", 4);
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PUBLISH);
    assert_memory_equal(g_fx.pkts[1].u.publish.topic.data, "q0/c", 4);
    assert_int_equal(g_fx.pkts[2].type, MQTLS_DISCONNECT);
    assert_true(mqtls__session_wants_close(s));
    assert_int_equal(mqtls__session_outbox_count(s), 1); /* QoS 1 kept for the session */
}

static void test_session_v5_connect_announces_limits(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    cfg.receive_maximum = 10;
    cfg.max_packet_size = 5000;
    cfg.topic_alias_maximum = 3;
    cfg.session_expiry_s = 3600;
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, 0), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    mqtls_property_t pr;
    const mqtls_properties_t *pp = &g_fx.pkts[0].u.connect.props;
    assert_true(mqtls_props_find(pp, MQTLS_PROP_RECEIVE_MAXIMUM, &pr));
    assert_int_equal(pr.v.u32, 10);
    assert_true(mqtls_props_find(pp, MQTLS_PROP_MAXIMUM_PACKET_SIZE, &pr));
    assert_int_equal(pr.v.u32, 5000);
    assert_true(mqtls_props_find(pp, MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, &pr));
    assert_int_equal(pr.v.u32, 3);
    assert_true(mqtls_props_find(pp, MQTLS_PROP_SESSION_EXPIRY_INTERVAL, &pr));
    assert_int_equal(pr.v.u32, 3600);
}

/* --- outbox growth ---------------------------------------------------------------------- */

#define GROW_BUFS 8
static uint8_t g_grow_buf[GROW_BUFS][1u << 18];
static bool g_grow_busy[GROW_BUFS]; /* given to the session and not handed back */
static size_t g_grows;

static void grow_give_back(void *p)
{
    if (p == NULL || pool_give_back(&g_ids, p) || pool_give_back(&g_mem, p)) {
        return;
    }
    for (int i = 0; i < GROW_BUFS; i++) {
        if (p == (void *)g_grow_buf[i]) {
            assert_true(g_grow_busy[i]); /* handed back once */
            g_grow_busy[i] = false;
            return;
        }
    }
    fail_msg("a buffer we never gave came back");
}

/* Buffers the session no longer needs: every packet they held has been reaped. */
static void grow_reclaim(mqtls__session_t *s)
{
    void *p;
    while ((p = mqtls__session_reclaim(s)) != NULL) {
        grow_give_back(p);
    }
}

static size_t grow_busy_count(void)
{
    size_t n = 0;
    for (int i = 0; i < GROW_BUFS; i++) {
        n += g_grow_busy[i] ? 1u : 0u;
    }
    return n;
}

/* The outbox refused a packet: give it the buffer it wants, as the runtime does. */
static void grow_wanted(mqtls__session_t *s)
{
    size_t ent = 0;
    size_t ring = 0;
    grow_reclaim(s);
    assert_true(mqtls__session_outbox_want(s, &ent, &ring));
    size_t sz = mqtls__session_outbox_buf_size(ent, ring);
    assert_true(sz <= sizeof g_grow_buf[0]);
    assert_true(ent > s->ent_cap || ring > s->ring_cap);
    int bi = 0;
    while (bi < GROW_BUFS && g_grow_busy[bi]) {
        bi++;
    }
    assert_true(bi < GROW_BUFS);
    /* Poison the new buffer: a packet that were copied or lost would show. */
    memset(g_grow_buf[bi], 0xEE, sz);
    void *old = (void *)1;
    assert_int_equal(mqtls__session_grow_outbox(s, g_grow_buf[bi], sz, ent, ring, &old), MQTLS_OK);
    g_grow_busy[bi] = true;
    /* The previous buffer comes back now only when it held no live packet. */
    grow_give_back(old);
    g_grows++;
}

/* Publish a payload of @p len bytes all equal to @p mark; when the outbox says it wants more
 * room, hand it a free static buffer (as the runtime does with malloc) and retry once. */
static mqtls_status_t publish_mark(mqtls__session_t *s, size_t len, uint8_t qos, uint8_t mark,
                                   uint16_t *id)
{
    static uint8_t payload[4096];
    assert_true(len <= sizeof payload);
    memset(payload, mark, len);
    mqtls_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic.data = (const uint8_t *)"grow";
    p.topic.len = 4;
    p.payload.data = payload;
    p.payload.len = len;
    p.qos = qos;
    grow_reclaim(s);
    mqtls_status_t st = mqtls__session_publish(s, &p, id);
    if (st != MQTLS_ERR_OUTBOX_FULL) {
        return st;
    }
    /* The outbox and the id set say what they want at once: one retry after both. */
    size_t ent = 0;
    size_t ring = 0;
    bool grow = mqtls__session_outbox_want(s, &ent, &ring);
    if (ids_give(s) > 0 || grow) {
        if (grow) {
            grow_wanted(s);
        }
        st = mqtls__session_publish(s, &p, id);
    }
    return st;
}

static void grow_reset(void)
{
    memset(g_grow_busy, 0, sizeof g_grow_busy);
    g_grows = 0;
}

/* The growth tests' configuration: a first outbox of @p init_msgs / @p init_bytes in the arena,
 * growing up to @p max_msgs / @p max_bytes; @p persistent: no clean start, and every persist
 * call recorded (persist_hook). No growth buffer given yet. */
static mqtls__session_cfg_t growing_cfg(size_t max_msgs, size_t max_bytes, size_t init_msgs,
                                        size_t init_bytes, bool persistent)
{
    grow_reset();
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = max_msgs;
    cfg.max_bytes = max_bytes;
    cfg.initial_messages = init_msgs;
    cfg.initial_bytes = init_bytes;
    if (persistent) {
        cfg.clean_start = false;
        cfg.on_persist = persist_hook;
        g_prec_count = 0;
        g_persist_fail_kind = -1;
    }
    return cfg;
}

/* Decode @p stream and check each PUBLISH payload is uniform and in the expected order. */
static size_t check_marked_stream(const uint8_t *stream, size_t len, const uint8_t *marks,
                                  const size_t *lens, size_t expect, uint16_t *ids)
{
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
    size_t off = 0;
    size_t k = 0;
    while (off < len) {
        mqtls_packet_t d;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(stream + off, len - off, &cc, &d, &used), MQTLS_OK);
        off += used;
        if (d.type != MQTLS_PUBLISH) {
            continue;
        }
        assert_true(k < expect);
        assert_int_equal(d.u.publish.payload.len, lens[k]);
        for (size_t i = 0; i < lens[k]; i++) {
            assert_int_equal(d.u.publish.payload.data[i], marks[k]);
        }
        ids[k] = d.u.publish.packet_id;
        k++;
    }
    return k;
}

static void test_session_outbox_starts_small_in_arena(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.initial_messages = 0; /* defaults */
    cfg.initial_bytes = 0;
    cfg.max_messages = 1024;
    cfg.max_bytes = 4u * 1024u * 1024u;
    cfg.receive_maximum = MQTLS_DEFAULT_RECEIVE_MAXIMUM; /* the room for acks follows it */
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(s->ent_cap, MQTLS__OUTBOX_INITIAL_ENTRIES);
    assert_int_equal(s->ring_cap, MQTLS__OUTBOX_INITIAL_BYTES);
    assert_null(s->outbox_buf);
    /* The arena no longer scales with the limits. */
    assert_true(mqtls__session_arena_size(&cfg) < 64u * 1024u);
    size_t ent = 0;
    size_t ring = 0;
    assert_false(mqtls__session_outbox_want(s, &ent, &ring));
}

static void test_session_outbox_grows_mid_stream(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(64, 16u * 1024u, 4, 256, false);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);

    static uint8_t stream[1u << 16];
    size_t slen = 0;
    uint8_t marks[64];
    size_t lens[64];
    size_t count = 0;
    /* 1. Fill the small ring: 3 x 70 B QoS 1 (each ~78 B encoded). */
    for (int i = 0; i < 3; i++) {
        lens[count] = 70;
        marks[count] = (uint8_t)(0x10 + count);
        assert_int_equal(publish_mark(s, lens[count], 1, marks[count], NULL), MQTLS_OK);
        count++;
    }
    assert_int_equal(g_grows, 0);
    /* 2. Write the first two and 10 bytes of the third: a write in progress. */
    mqtls_iovec_t iov[16];
    size_t n = mqtls__session_out_iov(s, iov, 16);
    /* One ring, consecutive packets: one iovec for the three (2 + 4 + 2 + 70 = 80 B each). */
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].len, 3u * 80u);
    size_t part = 2u * 80u + 10u;
    for (size_t i = 0; i < n; i++) {
        size_t k = part - slen < iov[i].len ? part - slen : iov[i].len;
        memcpy(stream + slen, iov[i].base, k);
        slen += k;
    }
    mqtls__session_out_consumed(s, part, g_fx.now);
    assert_true(s->cur_entry >= 0);
    /* 3. Ack the first two: the ring's front frees up, the next publish wraps to offset 0. */
    uint16_t ids[64];
    {
        mqtls_codec_cfg_t cc = {.version = MQTLS_V311};
        size_t off = 0;
        for (int i = 0; i < 2; i++) {
            mqtls_packet_t d;
            size_t used = 0;
            assert_int_equal(mqtls_packet_decode(stream + off, slen - off, &cc, &d, &used),
                             MQTLS_OK);
            assert_int_equal(feed_ack(s, MQTLS_PUBACK, d.u.publish.packet_id), MQTLS_OK);
            off += used;
        }
    }
    lens[count] = 100;
    marks[count] = (uint8_t)(0x10 + count);
    assert_int_equal(publish_mark(s, lens[count], 1, marks[count], NULL), MQTLS_OK);
    count++;
    assert_int_equal(g_grows, 0);
    assert_true(s->ring_wr < s->ring_rd); /* wrapped: the new entry sits before the old one */
    /* 4. Now more than the ring holds: growth while the third is half written and the ring is
     *    wrapped. */
    for (int i = 0; i < 20; i++) {
        lens[count] = 40u + (size_t)i * 13u;
        marks[count] = (uint8_t)(0x10 + count);
        assert_int_equal(publish_mark(s, lens[count], 1, marks[count], NULL), MQTLS_OK);
        count++;
    }
    assert_true(g_grows >= 2);
    assert_true(s->ring_cap > 256u && s->ring_cap <= cfg.max_bytes);
    assert_true(s->ent_cap > 4u && s->ent_cap <= cfg.max_messages);
    assert_int_equal(mqtls__session_outbox_count(s), count - 2u);
    /* 5. Drain everything 7 bytes at a time: the half-written packet resumes exactly where it
     *    stopped, then the rest in order, every payload intact. */
    for (int guard = 0; guard < 100000; guard++) {
        n = mqtls__session_out_iov(s, iov, 16);
        if (n == 0) {
            break;
        }
        size_t k = iov[0].len < 7 ? iov[0].len : 7;
        assert_true(slen + k <= sizeof stream);
        memcpy(stream + slen, iov[0].base, k);
        slen += k;
        mqtls__session_out_consumed(s, k, g_fx.now);
    }
    /* The window (20 in flight) holds back the last ones: ack and drain until all out. */
    size_t seen = check_marked_stream(stream, slen, marks, lens, count, ids);
    size_t acked = 2;
    for (int round = 0; round < 10 && seen < count; round++) {
        for (; acked < seen; acked++) {
            assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[acked]), MQTLS_OK);
        }
        for (int guard = 0; guard < 100000; guard++) {
            n = mqtls__session_out_iov(s, iov, 16);
            if (n == 0) {
                break;
            }
            size_t k = iov[0].len < 7 ? iov[0].len : 7;
            assert_true(slen + k <= sizeof stream);
            memcpy(stream + slen, iov[0].base, k);
            slen += k;
            mqtls__session_out_consumed(s, k, g_fx.now);
        }
        seen = check_marked_stream(stream, slen, marks, lens, count, ids);
    }
    assert_int_equal(seen, count);
    for (; acked < seen; acked++) {
        assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[acked]), MQTLS_OK);
    }
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(s->ring_used, 0);
    assert_int_equal(mqtls__session_outbox_bytes(s), 0);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), count);
    /* Every older ring drained: all buffers but the current one were handed back. */
    grow_reclaim(s);
    assert_int_equal(grow_busy_count(), 1);
    assert_int_equal(s->old_count, 0);
    /* Steady state: the grown outbox is reused, no more growth for the same load. */
    size_t grows = g_grows;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(publish_mark(s, 100, 0, 0x77, NULL), MQTLS_OK);
        drain(s);
    }
    assert_int_equal(g_grows, grows);
}

static void test_session_outbox_growth_stops_at_limits(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(100, 1000, 2, 64, false);
    mqtls__session_t *s = setup_with(&cfg);
    /* Disconnected: QoS 1 waits in the outbox. Bytes limit: 600 + 300 fit, 600 more do not. */
    assert_int_equal(publish_mark(s, 600, 1, 1, NULL), MQTLS_OK);
    assert_int_equal(publish_mark(s, 600, 1, 2, NULL), MQTLS_ERR_OUTBOX_FULL);
    size_t ent = 0;
    size_t ring = 0;
    assert_false(mqtls__session_outbox_want(s, &ent, &ring)); /* no growth can help */
    assert_int_equal(publish_mark(s, 300, 1, 3, NULL), MQTLS_OK);
    assert_int_equal(s->ring_cap, 1000);
    assert_int_equal(publish_mark(s, 2000, 1, 4, NULL), MQTLS_ERR_PACKET_TOO_LARGE);

    /* Count limit: 3 messages whatever the bytes. */
    grow_reset();
    cfg.max_messages = 3;
    cfg.max_bytes = 64u * 1024u;
    s = setup_with(&cfg);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(publish_mark(s, 10, 1, 5, NULL), MQTLS_OK);
    }
    assert_int_equal(publish_mark(s, 10, 1, 6, NULL), MQTLS_ERR_OUTBOX_FULL);
    assert_false(mqtls__session_outbox_want(s, &ent, &ring));
    assert_int_equal(s->ent_cap, 3);

    /* A grow call that would shrink, pass the limits, or lacks buffer is refused. */
    void *old = NULL;
    assert_int_equal(mqtls__session_grow_outbox(s, g_grow_buf[0], sizeof g_grow_buf[0], 2,
                                                s->ring_cap, &old),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__session_grow_outbox(s, g_grow_buf[0], sizeof g_grow_buf[0], 4,
                                                s->ring_cap, &old),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__session_grow_outbox(s, g_grow_buf[0], 8, 3, s->ring_cap, &old),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__session_outbox_count(s), 3);
}


/* --- coalescing: many packets, one write -------------------------------------------------- */

/* Payload byte i of packet k is (k * 7 + i) & 0xff: order and content both checkable. */
static mqtls_status_t publish_seq(mqtls__session_t *s, unsigned k, size_t len, uint8_t qos,
                                  uint16_t *id)
{
    static uint8_t payload[1 << 16];
    for (size_t i = 0; i < len; i++) {
        payload[i] = (uint8_t)((k * 7u + i) & 0xffu);
    }
    mqtls_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic.data = (const uint8_t *)"seq";
    p.topic.len = 3;
    p.payload.data = payload;
    p.payload.len = len;
    p.qos = qos;
    mqtls_status_t st = mqtls__session_publish(s, &p, id);
    if (st == MQTLS_ERR_OUTBOX_FULL && ids_give(s) > 0) {
        st = mqtls__session_publish(s, &p, id); /* more than 32 ids in use: the bitmap */
    }
    return st;
}

/* Decode g_fx.out: @p count PUBLISHes of publish_seq() packets first_k.., in order, whole. */
static void check_out_seq(const mqtls__session_t *s, size_t first_k, size_t count, size_t len)
{
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    size_t off = 0;
    size_t j = 0;
    while (off < g_fx.out_len) {
        size_t used = 0;
        mqtls_packet_t d;
        assert_int_equal(mqtls_packet_decode(g_fx.out + off, g_fx.out_len - off, &cc, &d, &used),
                         MQTLS_OK);
        off += used;
        assert_int_equal(d.type, MQTLS_PUBLISH);
        assert_true(j < count);
        assert_int_equal(d.u.publish.payload.len, len);
        for (size_t i = 0; i < len; i++) {
            assert_int_equal(d.u.publish.payload.data[i],
                             (uint8_t)(((first_k + j) * 7u + i) & 0xffu));
        }
        j++;
    }
    assert_int_equal(j, count);
}

static void decode_out(mqtls__session_t *s)
{
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    size_t off = 0;
    g_fx.pkt_count = 0;
    while (off < g_fx.out_len) {
        size_t used = 0;
        assert_true(g_fx.pkt_count < ARRAY_LEN(g_fx.pkts));
        assert_int_equal(mqtls_packet_decode(g_fx.out + off, g_fx.out_len - off, &cc,
                                             &g_fx.pkts[g_fx.pkt_count], &used),
                         MQTLS_OK);
        g_fx.pkt_count++;
        off += used;
    }
}

/* Room for many packets in the outbox from the start. */
static mqtls__session_cfg_t big_cfg(void)
{
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = 1024;
    cfg.max_bytes = 256u * 1024u;
    return cfg;
}

static void test_session_queued_packets_coalesce_into_one_write(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = big_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    /* 100 x 64 B QoS 0 = 100 x 71 B: one batch, one iovec (consecutive in the ring), in order */
    for (unsigned k = 0; k < 100; k++) {
        assert_int_equal(publish_seq(s, k, 64, 0, NULL), MQTLS_OK);
    }
    mqtls_iovec_t iov[16];
    size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].len, 100u * 71u);
    memcpy(g_fx.out, iov[0].base, iov[0].len);
    g_fx.out_len = iov[0].len;
    mqtls__session_out_consumed(s, iov[0].len, g_fx.now);
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_false(mqtls__session_has_output(s));
    check_out_seq(s, 0, 100, 64);
}

static void test_session_batch_stops_at_a_record(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = big_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    /* 600 x 71 B = 42 600 B: batches of at most one record's worth (+ the packet that
     * crosses it), every packet once, in order. */
    for (unsigned k = 0; k < 600; k++) {
        assert_int_equal(publish_seq(s, k, 64, 0, NULL), MQTLS_OK);
    }
    g_fx.out_len = 0;
    size_t batches = 0;
    for (int guard = 0; guard < 100; guard++) {
        mqtls_iovec_t iov[4];
        size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
        if (n == 0) {
            break;
        }
        size_t took = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(g_fx.out + g_fx.out_len, iov[i].base, iov[i].len);
            g_fx.out_len += iov[i].len;
            took += iov[i].len;
        }
        assert_true(took < MQTLS__OUT_BATCH_BYTES + 71u);
        mqtls__session_out_consumed(s, took, g_fx.now);
        batches++;
    }
    assert_int_equal(batches, 3);
    check_out_seq(s, 0, 600, 64);
}

static void test_session_coalesced_partial_write_resumes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = big_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    for (unsigned k = 0; k < 30; k++) { /* 20 of QoS 1/2: within the window */
        assert_int_equal(publish_seq(s, k, 64, (uint8_t)(k % 3u), NULL), MQTLS_OK);
    }
    /* The socket takes odd amounts, cutting packets anywhere; a PUBACK gets queued while a
     * packet is half written: it waits, every packet arrives whole and in order. */
    drain_raw(s, 100); /* writes 100 bytes of each batch */
    decode_out(s);
    assert_int_equal(g_fx.pkt_count, 30);
    for (size_t j = 0; j < 30; j++) {
        const mqtls_publish_t *p = &g_fx.pkts[j].u.publish;
        assert_int_equal(p->qos, j % 3u);
        for (size_t i = 0; i < 64; i++) {
            assert_int_equal(p->payload.data[i], (uint8_t)((j * 7u + i) & 0xffu));
        }
    }
    /* and once more with a control packet arriving mid-packet */
    for (unsigned k = 0; k < 10; k++) {
        assert_int_equal(publish_seq(s, k, 64, 0, NULL), MQTLS_OK);
    }
    mqtls_iovec_t iov[16];
    size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
    assert_int_equal(n, 1);
    memcpy(g_fx.out, iov[0].base, 30);
    mqtls__session_out_consumed(s, 30, g_fx.now);
    assert_int_equal(feed_publish(s, "in", 1, 9, false, NULL, 0), MQTLS_OK); /* PUBACK */
    size_t had = 30;
    g_fx.out_len = 0;
    drain_raw(s, 0);
    memmove(g_fx.out + had, g_fx.out, g_fx.out_len);
    memcpy(g_fx.out, iov[0].base, had);
    g_fx.out_len += had;
    decode_out(s);
    assert_int_equal(g_fx.pkt_count, 11);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBLISH); /* the half-written one first */
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PUBACK);
    for (size_t j = 2; j < 11; j++) {
        assert_int_equal(g_fx.pkts[j].type, MQTLS_PUBLISH);
        assert_int_equal(g_fx.pkts[j].u.publish.payload.data[0], (uint8_t)(((j - 1u) * 7u) & 0xffu));
    }
}

static void test_session_cork_holds_uncork_flushes(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = big_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls__session_set_cork(s, true);
    /* Corked: QoS 0 does not take the zero-copy path, publishes wait. */
    mqtls_publish_t dp;
    memset(&dp, 0, sizeof dp);
    dp.topic.data = (const uint8_t *)"seq";
    dp.topic.len = 3;
    uint8_t hdr[64];
    size_t hlen = 0;
    assert_int_equal(mqtls__session_direct_begin(s, &dp, hdr, sizeof hdr, &hlen),
                     MQTLS_ERR_WOULD_BLOCK);
    for (unsigned k = 0; k < 20; k++) {
        assert_int_equal(publish_seq(s, k, 64, (uint8_t)(k & 1u), NULL), MQTLS_OK);
    }
    assert_false(mqtls__session_has_output(s));
    assert_int_equal(drain(s), 0);
    /* Control packets still go while corked. */
    assert_int_equal(feed_publish(s, "in", 1, 5, false, NULL, 0), MQTLS_OK);
    assert_true(mqtls__session_has_output(s));
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_PUBACK);
    /* Uncork: the 20 go out, in one iovec, in order. */
    mqtls__session_set_cork(s, false);
    assert_true(mqtls__session_has_output(s));
    mqtls_iovec_t iov[16];
    assert_int_equal(mqtls__session_out_iov(s, iov, ARRAY_LEN(iov)), 1);
    drain_raw(s, 0);
    check_out_seq(s, 0, 20, 64);
    /* Corked, a full record's worth is let out without waiting for the uncork. */
    mqtls__session_set_cork(s, true);
    for (unsigned k = 0; k < 300; k++) {
        assert_int_equal(publish_seq(s, k, 64, 0, NULL), MQTLS_OK); /* 21 300 B */
    }
    assert_true(mqtls__session_has_output(s));
    size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
    assert_int_equal(n, 1);
    assert_true(iov[0].len >= MQTLS__OUT_BATCH_BYTES);
    mqtls__session_out_consumed(s, iov[0].len, g_fx.now);
    assert_false(mqtls__session_has_output(s)); /* the rest (< a record) waits */
    assert_true(mqtls__session_outbox_count(s) > 0);
    /* A disconnect drains QoS 0 whatever the cork. */
    assert_int_equal(mqtls__session_disconnect(s, 0), MQTLS_OK);
    drain_raw(s, 0);
    assert_true(g_fx.out_len > 2u);
    assert_int_equal(g_fx.out[g_fx.out_len - 2u], 0xE0); /* DISCONNECT, last */
    assert_int_equal(g_fx.out[g_fx.out_len - 1u], 0x00);
    /* every QoS 0 went; the 10 QoS 1 of the first batch await PUBACK (kept for the session) */
    assert_int_equal(mqtls__session_outbox_count(s), 10);
}

static void test_session_coalesced_qos1_resent_in_order_after_reconnect(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = big_cfg();
    cfg.clean_start = false;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    uint16_t ids[30];
    for (unsigned k = 0; k < 30; k++) {
        assert_int_equal(publish_seq(s, k, 64, (uint8_t)(1u + (k & 1u)), &ids[k]), MQTLS_OK);
    }
    /* All written in one batch (window 20 in MQTT 3.1.1: 20 now), then the connection dies. */
    mqtls_iovec_t iov[16];
    assert_int_equal(mqtls__session_out_iov(s, iov, ARRAY_LEN(iov)), 1);
    assert_int_equal(drain(s), 20);
    assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[0]), MQTLS_OK);
    drain(s);
    mqtls__session_on_closed(s);
    connect_ok(s, true, NULL, 0);
    /* 29 left: the 20 sent before (1..20; the PUBACK of 0 let 20 out) again with DUP, in
     * order, in one batch (window 20); the 9 never sent follow the acks, without DUP. */
    size_t got = drain(s);
    assert_int_equal(got, 20);
    for (size_t j = 0; j < got; j++) {
        assert_int_equal(g_fx.pkts[j].u.publish.packet_id, ids[j + 1u]);
        assert_true(g_fx.pkts[j].u.publish.dup);
    }
    for (size_t k = 1; k < 30; k++) {
        mqtls_packet_type_t t = (k & 1u) != 0 ? MQTLS_PUBREC : MQTLS_PUBACK;
        assert_int_equal(feed_ack(s, t, ids[k]), MQTLS_OK);
        drain(s);
        for (size_t j = 0; j < g_fx.pkt_count; j++) {
            if (g_fx.pkts[j].type == MQTLS_PUBLISH) {
                assert_false(g_fx.pkts[j].u.publish.dup); /* 21..29: first delivery */
            }
        }
        if (t == MQTLS_PUBREC) {
            assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, ids[k]), MQTLS_OK);
        }
        drain(s);
    }
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), 30);
}

static void test_session_outbox_growth_keeps_live_bytes_in_place(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(1024, 1u << 20, 4, 512, false);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    /* 3 packets, the first half written: remember where their bytes are. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(publish_mark(s, 100, 1, (uint8_t)(0x40 + i), NULL), MQTLS_OK);
    }
    mqtls_iovec_t iov[16];
    assert_int_equal(mqtls__session_out_iov(s, iov, ARRAY_LEN(iov)), 1);
    const uint8_t *where = iov[0].base;
    size_t len = iov[0].len;
    static uint8_t before[1024];
    memcpy(before, where, len);
    mqtls__session_out_consumed(s, 50, g_fx.now);
    /* Grow several times (16 x 3000 B, from a 512 B ring). */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(publish_mark(s, 3000, 0, (uint8_t)(0x50 + i), NULL), MQTLS_OK);
    }
    assert_true(g_grows >= 3);
    assert_true(s->old_count >= 1);
    /* The live packets did not move and were not changed (no copy): the write in progress
     * continues from the very same bytes. */
    assert_memory_equal(where, before, len);
    assert_int_equal(mqtls__session_out_iov(s, iov, ARRAY_LEN(iov)) >= 1, 1);
    assert_ptr_equal(iov[0].base, where + 50);
    assert_int_equal(iov[0].len, len - 50u);
    /* Bytes counted over every ring. */
    assert_int_equal(mqtls__session_outbox_bytes(s), 3u * 110u + 16u * 3009u);
    /* Drain, ack: the older rings are handed back as their packets are reaped. */
    static uint8_t stream[1u << 16];
    memcpy(stream, before, 50);
    size_t slen = 50;
    for (int guard = 0; guard < 1000; guard++) {
        size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
        if (n == 0) {
            break;
        }
        size_t took = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(stream + slen, iov[i].base, iov[i].len);
            slen += iov[i].len;
            took += iov[i].len;
        }
        mqtls__session_out_consumed(s, took, g_fx.now);
    }
    uint8_t marks[19];
    size_t lens[19];
    uint16_t ids[19];
    for (int i = 0; i < 19; i++) {
        marks[i] = (uint8_t)(i < 3 ? 0x40 + i : 0x50 + (i - 3));
        lens[i] = i < 3 ? 100u : 3000u;
    }
    assert_int_equal(check_marked_stream(stream, slen, marks, lens, 19, ids), 19);
    assert_true(s->old_count >= 1); /* the QoS 1 packets pin the first ring */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[i]), MQTLS_OK);
    }
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(s->old_count, 0);
    assert_int_equal(mqtls__session_outbox_bytes(s), 0);
    grow_reclaim(s);
    assert_int_equal(grow_busy_count(), 1);
    void *bufs[4];
    assert_int_equal(mqtls__session_buffers(s, bufs, 4), 1);
    assert_ptr_equal(bufs[0], s->outbox_buf);
}

/* Coalescing with the trace and the persistence hooks together: publishes queued across an
 * outbox growth (older rings keep their packets) and written as coalesced batches in odd
 * chunks are each traced once, when their first byte goes, in order; each QoS 1/2 one is
 * recorded (PUB_ADDED, from its bytes in the outbox) before publish() returns, including one
 * through the general encoder (a topic too long for the stack header), and PUB_SENT once. */
static void test_session_coalesced_batches_traced_and_persisted_once(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(64, 16u * 1024u, 4, 256, true);
    cfg.on_trace = on_trace;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    g_trace_count = 0;
    size_t prec0 = g_prec_count;
    enum { N = 12 };
    uint16_t ids[N + 1];
    uint8_t marks[N];
    size_t lens[N];
    for (unsigned k = 0; k < N; k++) {
        uint8_t qos = (uint8_t)(k % 3u);
        marks[k] = (uint8_t)(0x20u + k);
        lens[k] = 60;
        size_t before = g_prec_count;
        assert_int_equal(publish_mark(s, lens[k], qos, marks[k], &ids[k]), MQTLS_OK);
        if (qos > 0) {
            assert_int_equal(g_prec_count, before + 1u);
            assert_int_equal(g_prec[before].kind, MQTLS__P_PUB_ADDED);
            assert_int_equal(g_prec[before].id, ids[k]);
        } else {
            assert_int_equal(g_prec_count, before);
        }
    }
    assert_true(g_grows > 0); /* the first packets live in an older ring */
    /* One more through the general encoder (header above the stack buffer). */
    static char topic[700];
    memset(topic, 'l', sizeof topic - 1u);
    topic[sizeof topic - 1u] = '\0';
    size_t before = g_prec_count;
    mqtls_status_t st = publish(s, topic, 8, 1, &ids[N]);
    if (st == MQTLS_ERR_OUTBOX_FULL) { /* grow as the runtime does, then again */
        assert_int_equal(g_prec_count, before);
        grow_wanted(s);
        st = publish(s, topic, 8, 1, &ids[N]);
    }
    assert_int_equal(st, MQTLS_OK);
    assert_int_equal(g_prec_count, before + 1u);
    assert_int_equal(g_prec[before].kind, MQTLS__P_PUB_ADDED);
    assert_int_equal(g_prec[before].id, ids[N]);
    assert_int_equal(g_trace_count, 0); /* queued, nothing written */
    /* First write: 1 byte past the first packet: two packets have started. */
    static uint8_t stream[1u << 15];
    mqtls_iovec_t iov[16];
    size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
    assert_true(n >= 1);
    size_t first = iov[0].len;
    size_t pkt0 = 2u + 2u + 4u + 60u; /* QoS 0: fixed header, topic "grow", payload */
    assert_true(first > pkt0);
    memcpy(stream, iov[0].base, pkt0 + 1u);
    mqtls__session_out_consumed(s, pkt0 + 1u, g_fx.now);
    assert_int_equal(g_trace_count, 2);
    expect_trace(0, true, MQTLS_PUBLISH, 0);
    expect_trace(1, true, MQTLS_PUBLISH, ids[1]);
    /* The rest in chunks of 37 bytes: each packet traced once more, never twice. */
    drain_raw(s, 37);
    assert_true(pkt0 + 1u + g_fx.out_len <= sizeof stream);
    memcpy(stream + pkt0 + 1u, g_fx.out, g_fx.out_len);
    size_t slen = pkt0 + 1u + g_fx.out_len;
    /* The long-topic one is last: check the 12 marked ones, then it. */
    mqtls_codec_cfg_t cc = {.version = MQTLS_V311, .max_packet_size = 0};
    uint16_t got[N];
    size_t off = 0;
    size_t k = 0;
    while (off < slen) {
        mqtls_packet_t d;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(stream + off, slen - off, &cc, &d, &used), MQTLS_OK);
        assert_int_equal(d.type, MQTLS_PUBLISH);
        if (k < N) {
            assert_int_equal(d.u.publish.payload.len, lens[k]);
            for (size_t i = 0; i < lens[k]; i++) {
                assert_int_equal(d.u.publish.payload.data[i], marks[k]);
            }
            got[k] = d.u.publish.packet_id;
            assert_int_equal(got[k], ids[k]);
        } else {
            assert_int_equal(d.u.publish.topic.len, sizeof topic - 1u);
            assert_int_equal(d.u.publish.packet_id, ids[N]);
        }
        off += used;
        k++;
    }
    assert_int_equal(k, N + 1u);
    assert_int_equal(g_trace_count, N + 1u);
    for (size_t j = 0; j <= N; j++) {
        expect_trace(j, true, MQTLS_PUBLISH, j < N && j % 3u == 0 ? 0 : ids[j]);
        assert_false(g_trace[j].dup);
    }
    for (size_t j = 0; j <= N; j++) {
        if (j < N && j % 3u == 0) {
            continue;
        }
        size_t sent = 0;
        for (size_t i = prec0; i < g_prec_count; i++) {
            sent += g_prec[i].kind == MQTLS__P_PUB_SENT && g_prec[i].id == ids[j] ? 1u : 0u;
        }
        assert_int_equal(sent, 1);
    }
}

/* A store with more than the initial outbox holds: restoring grows the outbox (older rings
 * keep the restored packets), and every restored message goes out whole, in order, with DUP
 * exactly on those sent before, once the session is resumed. */
static void test_session_restore_grows_the_outbox(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(64, 16u * 1024u, 4, 256, true);
    mqtls__session_t *s = setup_with(&cfg);
    enum { N = 20 };
    for (uint16_t k = 0; k < N; k++) {
        uint16_t id = (uint16_t)(100u + k);
        uint8_t payload[50];
        memset(payload, 0x30 + k, sizeof payload);
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PUBLISH;
        p.u.publish.topic.data = (const uint8_t *)"r/t";
        p.u.publish.topic.len = 3;
        p.u.publish.qos = (uint8_t)(1u + k % 2u);
        p.u.publish.packet_id = id;
        p.u.publish.dup = true; /* as stored after a resend: DUP is decided at resume */
        p.u.publish.payload.data = payload;
        p.u.publish.payload.len = sizeof payload;
        uint8_t b[128];
        size_t n = 0;
        assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, b, sizeof b, &n), MQTLS_OK);
        mqtls__restore_state_t rs = k % 4u == 1u ? MQTLS__R_SENT : MQTLS__R_NOT_SENT;
        mqtls_status_t st = mqtls__session_restore_publish(s, b, n, id, p.u.publish.qos, rs);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            grow_wanted(s);
            st = mqtls__session_restore_publish(s, b, n, id, p.u.publish.qos, rs);
        }
        assert_int_equal(st, MQTLS_OK);
    }
    assert_true(g_grows > 0);
    assert_int_equal(mqtls__session_outbox_count(s), N);
    connect_ok(s, true, NULL, 0);
    assert_int_equal(drain_chunked(s, 53), N);
    for (size_t k = 0; k < N; k++) {
        const mqtls_publish_t *p = &g_fx.pkts[k].u.publish;
        assert_int_equal(g_fx.pkts[k].type, MQTLS_PUBLISH);
        assert_int_equal(p->packet_id, 100u + k);
        assert_int_equal(p->qos, 1u + k % 2u);
        assert_int_equal(p->dup, k % 4u == 1u);
        assert_int_equal(p->payload.len, 50);
        for (size_t i = 0; i < 50; i++) {
            assert_int_equal(p->payload.data[i], 0x30 + k);
        }
    }
    /* acknowledged: the older rings drain and come back */
    for (size_t k = 0; k < N; k++) {
        uint16_t id = (uint16_t)(100u + k);
        if (k % 2u == 0) {
            assert_int_equal(feed_ack(s, MQTLS_PUBACK, id), MQTLS_OK);
        } else {
            assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
            drain(s);
            assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
        }
    }
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    grow_reclaim(s);
    assert_int_equal(grow_busy_count(), 1); /* only the current ring is still given */
}

static void test_session_packet_ids_skip_ids_in_use(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = 4;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    s->next_id = 65534;
    uint16_t a = 0;
    uint16_t b = 0;
    uint16_t c = 0;
    assert_int_equal(publish(s, "t", 1, 1, &a), MQTLS_OK);
    assert_int_equal(publish(s, "t", 1, 1, &b), MQTLS_OK);
    assert_int_equal(publish(s, "t", 1, 1, &c), MQTLS_OK);
    assert_int_equal(a, 65534);
    assert_int_equal(b, 65535);
    assert_int_equal(c, 1); /* wraps, never 0 [MQTT-2.3.1-1] */
    s->next_id = 65534; /* still in use: skipped */
    uint16_t d = 0;
    assert_int_equal(publish(s, "t", 1, 1, &d), MQTLS_OK);
    assert_int_equal(d, 2);
}

static void test_backoff_full_jitter_bounds(void **state)
{
    (void)state;
    for (uint32_t attempt = 0; attempt < 40; attempt++) {
        uint64_t cap = 500;
        for (uint32_t i = 0; i < attempt && cap < 30000; i++) {
            cap *= 2;
        }
        if (cap > 30000) {
            cap = 30000;
        }
        uint32_t lo = UINT32_MAX;
        uint32_t hi = 0;
        uint64_t x = 88172645463325252ULL + attempt;
        for (int k = 0; k < 2000; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint32_t d = mqtls__backoff_ms(attempt, 500, 30000, (uint32_t)(x >> 16));
            assert_true(d <= cap);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* Full jitter spans the whole range [0, cap]. */
        assert_true(lo < cap / 10u + 1u);
        assert_true(hi > cap - cap / 10u - 1u);
    }
    assert_int_equal(mqtls__backoff_ms(3, 100, 50, 0xFFFFFFFFu) <= 100, 1);
    assert_int_equal(mqtls__backoff_ms(0, 0, 0, 12345), 0);
}

static void test_uri_parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *uri;
        mqtls_status_t st;
        const char *host;
        uint16_t port;
        bool tls;
    } cases[] = {
        {"mqtt://localhost", MQTLS_OK, "localhost", 1883, false},
        {"mqtts://broker.example:8884", MQTLS_OK, "broker.example", 8884, true},
        {"mqtts://127.0.0.1", MQTLS_OK, "127.0.0.1", 8883, true},
        {"mqtt://[::1]:1999", MQTLS_OK, "::1", 1999, false},
        {"mqtts://[fe80::1]", MQTLS_OK, "fe80::1", 8883, true},
        {"localhost:1884", MQTLS_OK, "localhost", 1884, false},
        {"mqtt://h:0", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://h:65536", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://h:12x", MQTLS_ERR_BAD_URI, "", 0, false},
        {"http://h", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://[::1", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://h:", MQTLS_ERR_BAD_URI, "", 0, false},
        /* found by fuzz_uri: a host goes to DNS, SNI and an HTTP header as it is */
        {"ws://hsa b", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://h\r\nX: y", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://user@h", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://[::1 ]", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://[a/b]", MQTLS_ERR_BAD_URI, "", 0, false},
        {"mqtt://[fe80::1%eth0]:1", MQTLS_OK, "fe80::1%eth0", 1, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mqtls_uri_t u;
        mqtls_status_t st = mqtls_uri_parse(cases[i].uri, &u);
        if (st != cases[i].st) {
            fail_msg("%s: got %s", cases[i].uri, mqtls_status_name(st));
        }
        if (st == MQTLS_OK) {
            assert_string_equal(u.host, cases[i].host);
            assert_int_equal(u.port, cases[i].port);
            assert_int_equal(u.tls, cases[i].tls);
        }
    }
}

static void test_uri_parse_websocket(void **state)
{
    (void)state;
    static const struct {
        const char *uri;
        mqtls_status_t st;
        mqtls_uri_scheme_t scheme;
        const char *host;
        uint16_t port;
        bool tls;
        const char *path;
    } cases[] = {
        {"ws://localhost", MQTLS_OK, MQTLS_SCHEME_WS, "localhost", 80, false, "/mqtt"},
        {"wss://broker.example", MQTLS_OK, MQTLS_SCHEME_WSS, "broker.example", 443, true,
         "/mqtt"},
        {"ws://127.0.0.1:8080/", MQTLS_OK, MQTLS_SCHEME_WS, "127.0.0.1", 8080, false, "/"},
        {"wss://[::1]:8443/ws/mqtt?x=1", MQTLS_OK, MQTLS_SCHEME_WSS, "::1", 8443, true,
         "/ws/mqtt?x=1"},
        {"ws://h/a b", MQTLS_ERR_BAD_URI, MQTLS_SCHEME_WS, "", 0, false, ""},
        {"ws://h/a\r\nX: y", MQTLS_ERR_BAD_URI, MQTLS_SCHEME_WS, "", 0, false, ""},
        {"ws://h:0/mqtt", MQTLS_ERR_BAD_URI, MQTLS_SCHEME_WS, "", 0, false, ""},
        {"wss://", MQTLS_ERR_BAD_URI, MQTLS_SCHEME_WSS, "", 0, false, ""},
        {"mqtt://h/ignored", MQTLS_OK, MQTLS_SCHEME_MQTT, "h", 1883, false, ""},
        {"mqtts://h", MQTLS_OK, MQTLS_SCHEME_MQTTS, "h", 8883, true, ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mqtls_uri_t u;
        mqtls_status_t st = mqtls_uri_parse(cases[i].uri, &u);
        if (st != cases[i].st) {
            fail_msg("%s: got %s", cases[i].uri, mqtls_status_name(st));
        }
        if (st == MQTLS_OK) {
            assert_int_equal(u.scheme, cases[i].scheme);
            assert_string_equal(u.host, cases[i].host);
            assert_int_equal(u.port, cases[i].port);
            assert_int_equal(u.tls, cases[i].tls);
            assert_int_equal(u.websocket, cases[i].scheme == MQTLS_SCHEME_WS ||
                                              cases[i].scheme == MQTLS_SCHEME_WSS);
            assert_string_equal(u.path, cases[i].path);
        }
    }
    /* A path that does not fit the struct is refused, not cut. */
    char long_uri[400];
    memcpy(long_uri, "ws://h/", 7);
    memset(long_uri + 7, 'a', 300);
    long_uri[307] = '\0';
    mqtls_uri_t u;
    assert_int_equal(mqtls_uri_parse(long_uri, &u), MQTLS_ERR_BAD_URI);
}

static void test_uri_parse_unix_path_kept(void **state)
{
    (void)state;
    mqtls_uri_t u;
    assert_int_equal(mqtls_uri_parse("unix:///run/mosquitto/mqtt.sock", &u), MQTLS_OK);
    assert_int_equal(u.scheme, MQTLS_SCHEME_UNIX);
    assert_string_equal(u.path, "/run/mosquitto/mqtt.sock");
    assert_string_equal(u.host, "");
    assert_int_equal(u.port, 0);
    assert_false(u.tls);
    assert_false(u.websocket);
    /* a host part, a relative name, nothing, a control byte: refused */
    static const char *const bad[] = {"unix://host/tmp/s", "unix://tmp/s", "unix://", "unix:///",
                                      "unix:///tmp/a\nb"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (mqtls_uri_parse(bad[i], &u) != MQTLS_ERR_BAD_URI) {
            fail_msg("%s accepted", bad[i]);
        }
    }
    /* sun_path holds 107 bytes and the NUL: one more is refused, not cut */
    char path[128] = "unix://";
    memset(path + 7, 'a', 108);
    path[7] = '/';
    path[7 + 108] = '\0';
    assert_int_equal(mqtls_uri_parse(path, &u), MQTLS_ERR_BAD_URI);
    path[7 + 107] = '\0';
    assert_int_equal(mqtls_uri_parse(path, &u), MQTLS_OK);
    assert_int_equal(strlen(u.path), 107);
}

/* --- issue 10: back-pressure, the acknowledgement reserve, first-byte checks ------------- */

/* Write out everything; count the packets of @p type and check their ids run from @p *next. */
static size_t drain_count(mqtls__session_t *s, mqtls_packet_type_t type, uint16_t *next)
{
    drain_raw(s, 0);
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    size_t off = 0;
    size_t n = 0;
    while (off < g_fx.out_len) {
        mqtls_packet_t p;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(g_fx.out + off, g_fx.out_len - off, &cc, &p, &used),
                         MQTLS_OK);
        off += used;
        if (p.type == type) {
            if (next != NULL) {
                assert_int_equal(p.u.ack.packet_id, *next);
                (*next)++;
            }
            n++;
        }
    }
    return n;
}

/* @p count QoS @p qos PUBLISHes with ids from 1, back to back in g_burst. */
static uint8_t g_burst[64u * 1024u];

static size_t make_burst(mqtls_version_t v, uint8_t qos, size_t count)
{
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PUBLISH;
        p.u.publish.topic.data = (const uint8_t *)"b/t";
        p.u.publish.topic.len = 3;
        p.u.publish.qos = qos;
        p.u.publish.packet_id = (uint16_t)(i + 1u);
        size_t n = 0;
        assert_int_equal(mqtls_packet_encode(&p, v, g_burst + len, sizeof g_burst - len, &n),
                         MQTLS_OK);
        len += n;
    }
    return len;
}

/* A small control buffer: room for a few acknowledgements beyond the reserve. */
static mqtls__session_cfg_t small_ctrl_cfg(mqtls_version_t v)
{
    mqtls__session_cfg_t cfg = base_cfg(v);
    cfg.ctrl_bytes = 64;
    cfg.sub_store_bytes = 8;
    cfg.receive_maximum = 4;
    return cfg;
}

static void test_session_inbound_burst_stalls_instead_of_refusing_acks(void **state)
{
    (void)state;
    for (uint8_t qos = 1; qos <= 2; qos++) {
        mqtls__session_cfg_t cfg = small_ctrl_cfg(MQTLS_V311);
        mqtls__session_t *s = setup_with(&cfg);
        connect_ok(s, false, NULL, 0);
        enum { N = 200 }; /* 800 bytes of acks through a 96-byte control buffer */
        size_t len = make_burst(MQTLS_V311, qos, N);
        size_t off = 0;
        uint16_t next = 1;
        size_t acks = 0;
        size_t stalls = 0;
        for (int guard = 0; guard < 1000 && off < len; guard++) {
            size_t used = 0;
            size_t need = 0;
            assert_int_equal(
                mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need),
                MQTLS_OK);
            off += used;
            if (off < len) {
                /* It stopped before a packet whose ack has no room: not before. */
                assert_true(mqtls__session_input_blocked(s));
                stalls++;
            }
            acks += drain_count(s, qos == 1 ? MQTLS_PUBACK : MQTLS_PUBREC, &next);
            /* QoS 2 beyond 32 awaiting PUBREL: the id bitmap, as the runtime gives it */
            (void)ids_give(s);
            assert_false(mqtls__session_input_blocked(s));
        }
        assert_int_equal(off, len);
        assert_int_equal(acks, N);
        assert_true(stalls > 0);
        assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
        assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
        assert_int_equal(s->state, MQTLS__S_CONNECTED);
    }
}

static void test_session_control_packets_leave_room_for_acks(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_ctrl_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_topic_filter_t f = {{(const uint8_t *)"some/topic/filter", 17}, 1};
    mqtls_status_t st = MQTLS_OK;
    for (int i = 0; i < 100 && st == MQTLS_OK; i++) {
        st = mqtls__session_subscribe(s, &f, 1, NULL, NULL);
    }
    assert_int_equal(st, MQTLS_ERR_OUTBOX_FULL);
    /* The receive maximum's worth of acknowledgements still fits. */
    for (uint16_t id = 1; id <= 4; id++) {
        assert_int_equal(feed_publish(s, "in/1", 1, id, false, NULL, 0), MQTLS_OK);
    }
    uint16_t next = 1;
    assert_int_equal(drain_count(s, MQTLS_PUBACK, &next), 4);
}

static void test_session_disconnect_waits_for_room_instead_of_dropping(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_ctrl_cfg(MQTLS_V5);
    cfg.ctrl_bytes = 62; /* 94 bytes in all: 23 PUBACKs leave 2, too few for the DISCONNECT */
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    size_t len = make_burst(MQTLS_V5, 1, 100);
    size_t used = 0;
    size_t need = 0;
    assert_int_equal(mqtls__session_on_bytes(s, g_burst, len, g_fx.now, &used, &need), MQTLS_OK);
    assert_true(used < len); /* the control buffer is full of acknowledgements */
    /* Reason 0x04 "with will message": 3 bytes, no room for them yet. */
    assert_int_equal(mqtls__session_disconnect(s, 0x04), MQTLS_OK);
    assert_false(mqtls__session_wants_close(s));
    assert_int_equal(drain_count(s, MQTLS_DISCONNECT, NULL), 1);
    assert_true(mqtls__session_wants_close(s));
    /* After our DISCONNECT nothing goes out, not even an ack: what comes is dropped. */
    size_t msgs = count_events(MQTLS_EVENT_MESSAGE);
    assert_int_equal(mqtls__session_on_bytes(s, g_burst + used, len - used, g_fx.now, &used, &need),
                     MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), msgs);
    assert_false(mqtls__session_has_output(s));
}

static void test_session_resume_sends_every_pubrel_as_room_allows(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_ctrl_cfg(MQTLS_V311);
    cfg.clean_start = false;
    cfg.max_inflight = 64;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        assert_int_equal(publish(s, "q2/t", 4, 2, NULL), MQTLS_OK);
    }
    assert_int_equal(drain_count(s, MQTLS_PUBLISH, NULL), N);
    for (uint16_t id = 1; id <= N; id++) {
        assert_int_equal(feed_ack(s, MQTLS_PUBREC, id), MQTLS_OK);
        assert_int_equal(drain_count(s, MQTLS_PUBREL, NULL), 1);
    }
    /* Every one waits for PUBCOMP when the connection drops; the session resumes. */
    mqtls__session_on_closed(s);
    connect_ok(s, true, NULL, 0);
    uint16_t next = 1;
    size_t rel = 0;
    for (int guard = 0; guard < 100 && rel < N; guard++) {
        rel += drain_count(s, MQTLS_PUBREL, &next);
    }
    assert_int_equal(rel, N);
    for (uint16_t id = 1; id <= N; id++) {
        assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, id), MQTLS_OK);
    }
    assert_int_equal(mqtls__session_outbox_count(s), 0);
    assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), N);
}

static mqtls_status_t feed_raw(mqtls__session_t *s, const uint8_t *in, size_t len, size_t *used)
{
    size_t need = 0;
    return mqtls__session_on_bytes(s, in, len, g_fx.now, used, &need);
}

static void test_session_garbage_first_byte_fails_at_once(void **state)
{
    (void)state;
    static const struct {
        bool connected;
        uint8_t bytes[5];
        size_t len;
        mqtls_status_t want;
    } rows[] = {
        /* CONNACK with reserved flags, then a huge remaining length [MQTT-2.2.2-2] */
        {false, {0x29}, 1, MQTLS_ERR_BAD_FLAGS},
        {false, {0x29, 0xFF, 0xFF, 0xFF, 0x7F}, 5, MQTLS_ERR_BAD_FLAGS},
        {true, {0x60, 0x02}, 2, MQTLS_ERR_BAD_FLAGS}, /* PUBREL must be 0x62 */
        {true, {0x36}, 1, MQTLS_ERR_BAD_QOS},         /* PUBLISH QoS 3 */
        {true, {0x00}, 1, MQTLS_ERR_BAD_PACKET_TYPE},
        {true, {0xF0}, 1, MQTLS_ERR_BAD_PACKET_TYPE}, /* AUTH in 3.1.1 */
        /* types the broker may not send now */
        {false, {0x30}, 1, MQTLS_ERR_PROTOCOL}, /* PUBLISH before CONNACK */
        {false, {0x90}, 1, MQTLS_ERR_PROTOCOL}, /* SUBACK before CONNACK */
        {true, {0x20}, 1, MQTLS_ERR_PROTOCOL},  /* a second CONNACK */
        {true, {0x82}, 1, MQTLS_ERR_PROTOCOL},  /* SUBSCRIBE */
        {true, {0xC0}, 1, MQTLS_ERR_PROTOCOL},  /* PINGREQ */
        {true, {0xE0}, 1, MQTLS_ERR_PROTOCOL},  /* DISCONNECT is client-only in 3.1.1 */
        /* 3.1.1 acks have a fixed size: a long one is garbage, not a wait */
        {true, {0x40, 0xC8, 0x01}, 3, MQTLS_ERR_MALFORMED},
        {false, {0x20, 0xFF, 0x7F}, 3, MQTLS_ERR_MALFORMED},
        {true, {0xD0, 0x05}, 2, MQTLS_ERR_MALFORMED},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
        mqtls__session_t *s = setup_with(&cfg);
        if (rows[i].connected) {
            connect_ok(s, false, NULL, 0);
        } else {
            assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
        }
        size_t used = 99;
        mqtls_status_t st = feed_raw(s, rows[i].bytes, rows[i].len, &used);
        if (st != rows[i].want) {
            fail_msg("row %zu (0x%02X): %s, want %s", i, rows[i].bytes[0], mqtls_status_name(st),
                     mqtls_status_name(rows[i].want));
        }
        assert_int_equal(used, 0);
        assert_int_equal(s->err.status, rows[i].want);
        assert_non_null(strstr(s->err.detail, "first byte 0x"));
    }
    /* MQTT 5: DISCONNECT and AUTH may come from the broker; a valid split CONNACK still waits. */
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    static const uint8_t part[] = {0x20, 0x03, 0x00};
    size_t used = 99;
    assert_int_equal(feed_raw(s, part, sizeof part, &used), MQTLS_OK);
    assert_int_equal(used, 0);
    static const uint8_t disconnect[] = {0xE0, 0x01, 0x8E};
    assert_int_equal(feed_raw(s, disconnect, sizeof disconnect, &used),
                     MQTLS_ERR_SERVER_DISCONNECT);
}

/* --- packet-id sets: 32 ids in the session, a bitmap from the caller beyond ------------- */

static void test_idset_edges_upgrade_remove_shrink(void **state)
{
    (void)state;
    static mqtls__idset_t set;
    static uint8_t map[MQTLS__IDSET_MAP_BYTES];
    mqtls__idset_init(&set);
    assert_false(mqtls__idset_has(&set, 1));
    assert_false(mqtls__idset_has(&set, 65535));
    /* The edge ids, out of order: kept sorted, found, and 0 never appears. */
    assert_true(mqtls__idset_add(&set, 65535));
    assert_true(mqtls__idset_add(&set, 1));
    assert_true(mqtls__idset_add(&set, 1)); /* already there: no second copy */
    assert_int_equal(set.count, 2);
    assert_true(mqtls__idset_has(&set, 1));
    assert_true(mqtls__idset_has(&set, 65535));
    assert_false(mqtls__idset_has(&set, 0));
    assert_false(mqtls__idset_has(&set, 65534));
    /* Fill the array: 1, 65535 and 30 ids spread over the space. */
    for (uint32_t k = 0; k < MQTLS__IDSET_SMALL - 2u; k++) {
        assert_true(mqtls__idset_can_add(&set));
        assert_true(mqtls__idset_add(&set, (uint16_t)(2000u * k + 7u)));
    }
    assert_int_equal(set.count, MQTLS__IDSET_SMALL);
    for (uint32_t k = 1; k < set.count; k++) {
        assert_true(set.small[k - 1u] < set.small[k]);
    }
    /* Full: a new id is refused and a bitmap wanted; one present is still "added". */
    assert_false(mqtls__idset_can_add(&set));
    assert_true(mqtls__idset_add(&set, 7));
    assert_false(set.wants_map);
    assert_false(mqtls__idset_add(&set, 40000));
    assert_true(set.wants_map);
    assert_int_equal(set.count, MQTLS__IDSET_SMALL);
    assert_false(mqtls__idset_has(&set, 40000));
    /* The bitmap (dirty, as malloc gives it) takes every id present. */
    memset(map, 0xFF, sizeof map);
    assert_true(mqtls__idset_give_map(&set, map));
    assert_false(set.wants_map);
    assert_false(mqtls__idset_give_map(&set, map)); /* one only */
    assert_true(mqtls__idset_has(&set, 1));
    assert_true(mqtls__idset_has(&set, 65535));
    assert_true(mqtls__idset_has(&set, 2000u * 29u + 7u));
    assert_false(mqtls__idset_has(&set, 0));
    assert_false(mqtls__idset_has(&set, 2));
    assert_false(mqtls__idset_has(&set, 65534));
    assert_true(mqtls__idset_add(&set, 40000));
    assert_true(mqtls__idset_add(&set, 65534));
    assert_int_equal(set.count, MQTLS__IDSET_SMALL + 2u);
    /* Not shrunk while many ids remain. */
    assert_null(mqtls__idset_shrink(&set));
    mqtls__idset_remove(&set, 65534);
    mqtls__idset_remove(&set, 65534); /* absent: nothing */
    assert_false(mqtls__idset_has(&set, 65534));
    assert_int_equal(set.count, MQTLS__IDSET_SMALL + 1u);
    for (uint32_t k = 0; k < MQTLS__IDSET_SMALL - 2u; k++) {
        mqtls__idset_remove(&set, (uint16_t)(2000u * k + 7u));
    }
    /* 1, 40000, 65535 left: back to the array, sorted, the bitmap handed back. */
    assert_int_equal(set.count, 3);
    assert_ptr_equal(mqtls__idset_shrink(&set), map);
    assert_null(set.map);
    assert_int_equal(set.count, 3);
    assert_int_equal(set.small[0], 1);
    assert_int_equal(set.small[1], 40000);
    assert_int_equal(set.small[2], 65535);
    assert_true(mqtls__idset_has(&set, 40000));
    mqtls__idset_remove(&set, 1);
    assert_false(mqtls__idset_has(&set, 1));
    assert_true(mqtls__idset_has(&set, 65535));
    mqtls__idset_clear(&set);
    assert_int_equal(set.count, 0);
    assert_false(mqtls__idset_has(&set, 65535));
}

/* Our output's packets of @p type: their ids into @p ids (at most @p max). */
static size_t out_ids(const mqtls__session_t *s, mqtls_packet_type_t type, uint16_t *ids,
                      size_t max)
{
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    size_t off = 0;
    size_t n = 0;
    while (off < g_fx.out_len) {
        mqtls_packet_t p;
        size_t used = 0;
        assert_int_equal(mqtls_packet_decode(g_fx.out + off, g_fx.out_len - off, &cc, &p, &used),
                         MQTLS_OK);
        off += used;
        if (p.type != type) {
            continue;
        }
        assert_true(n < max);
        ids[n++] = type == MQTLS_PUBLISH     ? p.u.publish.packet_id
                   : type == MQTLS_SUBSCRIBE ? p.u.subscribe.packet_id
                                             : p.u.ack.packet_id;
    }
    return n;
}

/* 100 QoS 1 and 100 QoS 2 messages in flight at once (3x the ids the session holds without a
 * bitmap): each gets a distinct non-zero id, the bitmap is asked for once, every flow
 * completes, and the bitmap comes back once the ids are released. */
static void test_session_outbound_ids_beyond_small_set(void **state)
{
    (void)state;
    for (uint8_t qos = 1; qos <= 2; qos++) {
        mqtls__session_cfg_t cfg = base_cfg(MQTLS_V5);
        cfg.max_messages = 256;
        mqtls__session_t *s = setup_with(&cfg);
        connect_ok(s, false, NULL, 0);
        enum { N = 100 };
        static uint16_t ids[N];
        static bool seen[65536];
        memset(seen, 0, sizeof seen);
        for (size_t k = 0; k < N; k++) {
            assert_int_equal(publish(s, "ids/out", 4, qos, &ids[k]), MQTLS_OK);
            assert_int_not_equal(ids[k], 0); /* [MQTT-2.3.1-1] */
            assert_false(seen[ids[k]]);      /* [MQTT-2.3.1-2] */
            seen[ids[k]] = true;
        }
        assert_int_equal(g_id_maps_given, 1);
        assert_int_equal(mqtls__session_ids_want(s), 0);
        drain_raw(s, 0);
        static uint16_t sent[N + 8];
        assert_int_equal(out_ids(s, MQTLS_PUBLISH, sent, ARRAY_LEN(sent)), N);
        for (size_t k = 0; k < N; k++) {
            assert_int_equal(sent[k], ids[k]);
        }
        /* Acknowledged in reverse order: each completes once. */
        for (size_t k = N; k-- > 0;) {
            if (qos == 1) {
                assert_int_equal(feed_ack(s, MQTLS_PUBACK, ids[k]), MQTLS_OK);
            } else {
                assert_int_equal(feed_ack(s, MQTLS_PUBREC, ids[k]), MQTLS_OK);
            }
        }
        if (qos == 2) {
            drain_raw(s, 0);
            assert_int_equal(out_ids(s, MQTLS_PUBREL, sent, ARRAY_LEN(sent)), N);
            assert_int_equal(pool_busy(&g_ids), 1); /* PUBCOMP still owed: ids in use */
            for (size_t k = 0; k < N; k++) {
                assert_int_equal(feed_ack(s, MQTLS_PUBCOMP, ids[k]), MQTLS_OK);
            }
        }
        assert_int_equal(count_events(MQTLS_EVENT_PUBLISHED), N);
        assert_int_equal(mqtls__session_outbox_count(s), 0);
        /* Every id free: the bitmap is handed back, and ids still follow on. */
        void *p = mqtls__session_reclaim(s);
        assert_non_null(p);
        assert_true(pool_give_back(&g_ids, p));
        assert_null(mqtls__session_reclaim(s));
        assert_int_equal(pool_busy(&g_ids), 0);
        uint16_t next = 0;
        assert_int_equal(publish(s, "ids/out", 4, qos, &next), MQTLS_OK);
        assert_int_equal(next, (uint16_t)(ids[N - 1u] + 1u));
        assert_int_equal(g_id_maps_given, 1);
    }
}

/* The broker sends 100 QoS 2 messages and no PUBREL yet. The session takes 32, then stops
 * before the 33rd (input blocked, nothing refused, nothing acknowledged early) until it is
 * given the bitmap; then every message is delivered once and acknowledged once. A resend of
 * an id awaiting PUBREL is taken even when the set is full (it needs no room). */
static void test_session_inbound_qos2_beyond_small_set_awaits_pubrel(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    enum { N = 100 };
    size_t len = make_burst(MQTLS_V311, 2, N);
    size_t used = 0;
    size_t need = 0;
    assert_int_equal(mqtls__session_on_bytes(s, g_burst, len, g_fx.now, &used, &need), MQTLS_OK);
    assert_true(used > 0 && used < len);
    assert_true(mqtls__session_input_blocked(s));
    assert_int_equal(mqtls__session_ids_want(s), 1);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), MQTLS__IDSET_SMALL);
    uint16_t next = 1;
    assert_int_equal(drain_count(s, MQTLS_PUBREC, &next), MQTLS__IDSET_SMALL);
    /* Still blocked after writing: it is the bitmap that is missing, not room for acks. */
    assert_true(mqtls__session_input_blocked(s));
    /* A resend (DUP) of id 5 while the set is full: answered, not delivered again. */
    assert_int_equal(feed_publish(s, "b/t", 2, 5, true, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), MQTLS__IDSET_SMALL);
    uint16_t five = 5;
    assert_int_equal(drain_count(s, MQTLS_PUBREC, &five), 1);
    assert_int_equal(g_id_maps_given, 0);
    /* The runtime gives the bitmap and feeds the rest again. */
    assert_int_equal(ids_give(s), 1);
    assert_false(mqtls__session_input_blocked(s));
    size_t off = used;
    assert_int_equal(
        mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need), MQTLS_OK);
    assert_int_equal(off + used, len);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
    assert_int_equal(drain_count(s, MQTLS_PUBREC, &next), N - MQTLS__IDSET_SMALL);
    assert_int_equal(next, N + 1u);
    /* Every one delivered exactly once, in order. */
    uint16_t want = 1;
    for (size_t i = 0; i < g_fx.ev_count; i++) {
        if (g_fx.ev[i].type == MQTLS_EVENT_MESSAGE) {
            assert_int_equal(g_fx.ev[i].id, want++);
        }
    }
    /* Resends of all 100 (DUP): none delivered again [MQTT-4.3.3-9]. */
    for (uint16_t id = 1; id <= N; id++) {
        assert_int_equal(feed_publish(s, "b/t", 2, id, true, NULL, 0), MQTLS_OK);
    }
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
    drain_raw(s, 0);
    /* PUBREL for each: PUBCOMP for each, then the ids are forgotten and the bitmap is back. */
    for (uint16_t id = 1; id <= N; id++) {
        assert_int_equal(feed_ack(s, MQTLS_PUBREL, id), MQTLS_OK);
    }
    next = 1;
    assert_int_equal(drain_count(s, MQTLS_PUBCOMP, &next), N);
    void *p = mqtls__session_reclaim(s);
    assert_non_null(p);
    assert_true(pool_give_back(&g_ids, p));
    assert_int_equal(pool_busy(&g_ids), 0);
    /* A new message with a reused id is delivered again (the flow ended with PUBREL). */
    assert_int_equal(feed_publish(s, "b/t", 2, 42, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N + 1u);
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
    assert_int_equal(s->state, MQTLS__S_CONNECTED);
}

/* A store with 100 outgoing QoS 1/2 messages and 50 inbound QoS 2 ids: restoring asks for
 * both bitmaps (and outbox growth), everything is resent on resume with its own id, and a
 * resend of a restored inbound id is not delivered again. */
static void test_session_restore_many_ids(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = growing_cfg(256, 64u * 1024u, 16, 1024, false);
    cfg.clean_start = false;
    cfg.max_inflight = 1000; /* all of them at once */
    mqtls__session_t *s = setup_with(&cfg);
    enum { N = 100, IN = 50 };
    for (uint16_t k = 0; k < N; k++) {
        uint16_t id = (uint16_t)(65535u - N + 1u + k); /* up to 65535 */
        uint8_t qos = (uint8_t)(1u + k % 2u);
        uint8_t b[64];
        size_t n = encode_pub(b, sizeof b, id, qos);
        mqtls_status_t st = mqtls__session_restore_publish(s, b, n, id, qos, MQTLS__R_SENT);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            size_t ent = 0;
            size_t ring = 0;
            size_t maps = ids_give(s);
            if (mqtls__session_outbox_want(s, &ent, &ring)) {
                grow_wanted(s);
            } else {
                assert_true(maps > 0);
            }
            st = mqtls__session_restore_publish(s, b, n, id, qos, MQTLS__R_SENT);
        }
        assert_int_equal(st, MQTLS_OK);
    }
    for (uint16_t id = 1; id <= IN; id++) {
        mqtls_status_t st = mqtls__session_restore_inbound(s, id);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            assert_int_equal(id, MQTLS__IDSET_SMALL + 1u);
            assert_int_equal(ids_give(s), 1);
            st = mqtls__session_restore_inbound(s, id);
        }
        assert_int_equal(st, MQTLS_OK);
    }
    assert_int_equal(g_id_maps_given, 2);
    assert_int_equal(mqtls__session_outbox_count(s), N);
    connect_ok(s, true, NULL, 0);
    drain_raw(s, 0);
    static uint16_t sent[N];
    assert_int_equal(out_ids(s, MQTLS_PUBLISH, sent, N), N);
    for (uint16_t k = 0; k < N; k++) {
        assert_int_equal(sent[k], 65535u - N + 1u + k);
    }
    /* A new publish gets an id after the restored ones (wrapping past 65535 to 1). */
    uint16_t id = 0;
    assert_int_equal(publish(s, "t", 1, 1, &id), MQTLS_OK);
    assert_int_equal(id, 1);
    for (uint16_t in = 1; in <= IN; in++) {
        assert_int_equal(feed_publish(s, "in", 2, in, true, NULL, 0), MQTLS_OK);
    }
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 0);
    assert_int_equal(feed_publish(s, "in", 2, IN + 1u, false, NULL, 0), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), 1);
}

/* The broker lost the session while 32 of our ids are in use: the CONNACK's resubscribe needs
 * one more. on_bytes() stops before the CONNACK until the bitmap is given, then resubscribes
 * with a fresh id; nothing is refused. */
static void test_session_connack_waits_for_ids_to_resubscribe(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.max_messages = 64;
    cfg.max_inflight = 64;
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    mqtls_topic_filter_t f = {{(const uint8_t *)"r/#", 3}, 1};
    uint16_t sub_id = 0;
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, &sub_id), MQTLS_OK);
    drain(s);
    static uint16_t ids[MQTLS__IDSET_SMALL];
    for (size_t k = 0; k < MQTLS__IDSET_SMALL - 1u; k++) { /* + the SUBSCRIBE's id: full */
        assert_int_equal(publish(s, "t", 1, 1, &ids[k]), MQTLS_OK);
    }
    assert_int_equal(g_id_maps_given, 0);
    drain(s);
    mqtls__session_on_closed(s); /* the SUBSCRIBE's id dies with the connection */
    assert_int_equal(mqtls__session_on_transport_up(s, g_fx.now), MQTLS_OK);
    drain(s);
    /* One more QoS 1 message: the set is full again. */
    assert_int_equal(publish(s, "t", 1, 1, &ids[MQTLS__IDSET_SMALL - 1u]), MQTLS_OK);
    assert_int_equal(g_id_maps_given, 0);
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00}; /* no session */
    size_t used = 0;
    size_t need = 0;
    assert_int_equal(
        mqtls__session_on_bytes(s, connack, sizeof connack, g_fx.now, &used, &need), MQTLS_OK);
    assert_int_equal(used, 0);
    assert_true(mqtls__session_input_blocked(s));
    assert_int_equal(s->state, MQTLS__S_CONNECTING);
    assert_int_equal(ids_give(s), 1);
    assert_int_equal(
        mqtls__session_on_bytes(s, connack, sizeof connack, g_fx.now, &used, &need), MQTLS_OK);
    assert_int_equal(used, sizeof connack);
    assert_int_equal(s->state, MQTLS__S_CONNECTED);
    drain_raw(s, 0);
    uint16_t sub[2];
    assert_int_equal(out_ids(s, MQTLS_SUBSCRIBE, sub, 2), 1);
    for (size_t k = 0; k < MQTLS__IDSET_SMALL; k++) {
        assert_int_not_equal(sub[0], ids[k]);
    }
    static uint16_t pubs[MQTLS__IDSET_SMALL];
    assert_int_equal(out_ids(s, MQTLS_PUBLISH, pubs, MQTLS__IDSET_SMALL), MQTLS__IDSET_SMALL);
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
}

/* --- the control buffer and the subscription store start small and grow (issue 11) ------- */

/* The default client's sizes: Receive Maximum 1024 (a 6 KiB ack reserve), the control buffer
 * and the store at their default limits, the outbox starting at its defaults. */
static mqtls__session_cfg_t small_start_cfg(void)
{
    mqtls__session_cfg_t cfg = base_cfg(MQTLS_V311);
    cfg.receive_maximum = 1024;
    cfg.max_messages = 1024;
    cfg.max_bytes = 4u * 1024u * 1024u;
    cfg.initial_messages = 0;
    cfg.initial_bytes = 0;
    cfg.max_inflight = 64;
    return cfg;
}

/* Subscribe to @p f, giving what the session asks for first as the runtime does. */
static mqtls_status_t subscribe_growing(mqtls__session_t *s, const mqtls_topic_filter_t *f,
                                        size_t n, uint16_t *id)
{
    mqtls_status_t st = mqtls__session_subscribe(s, f, n, NULL, id);
    if (st == MQTLS_ERR_OUTBOX_FULL && mem_give(s) > 0) {
        st = mqtls__session_subscribe(s, f, n, NULL, id); /* everything was asked at once */
    }
    return st;
}

static void test_session_ctrl_and_store_start_small(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    /* The limits are the sizes the buffers were fixed at: CONNECT room + 8 KiB + the store's
     * 4 KiB over the whole reserve (1024 acks); 4 KiB of store. The arena holds CONNECT room +
     * 512 B + room for 32 acks. */
    assert_int_equal(s->ack_reserve, 1024u * 6u);
    assert_int_equal(s->ack_keep, MQTLS__CTRL_INITIAL_ACKS * 6u);
    assert_int_equal(s->ctrl_limit,
                     s->ctrl_home_cap - s->ack_keep - 512u + 8192u + 4096u + s->ack_reserve);
    assert_int_equal(s->ctrl_cap, s->ctrl_home_cap);
    assert_true(s->ctrl_home_cap < 1024u);
    assert_int_equal(s->subs_cap, 256);
    assert_int_equal(s->subs_limit, 4096);
    assert_true(mqtls__session_arena_size(&cfg) <= 3u * 1024u);
    /* An idle client with a few subscriptions needs nothing more. */
    connect_ok(s, false, NULL, 0);
    mqtls_topic_filter_t f[3] = {{{(const uint8_t *)"a/#", 3}, 1},
                                 {{(const uint8_t *)"b/+/c", 5}, 0},
                                 {{(const uint8_t *)"sensors/temperature", 19}, 2}};
    assert_int_equal(mqtls__session_subscribe(s, f, 3, NULL, NULL), MQTLS_OK);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_ctrl_given + g_subs_given + g_id_maps_given, 0);
}

/* A control buffer grows while the bytes of a SUBSCRIBE are partly written: the rest still
 * follows on the wire, byte for byte, and the arena's buffer is no longer read. */
static void test_session_ctrl_grows_during_a_partial_write(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    static char fa[300];
    static char fb[3000];
    memset(fa, 'a', sizeof fa);
    memset(fb, 'b', sizeof fb);
    fa[0] = 'A';
    fb[0] = 'B';
    mqtls_topic_filter_t a = {{(const uint8_t *)fa, sizeof fa}, 1};
    mqtls_topic_filter_t b = {{(const uint8_t *)fb, sizeof fb}, 2};
    uint16_t ida = 0;
    uint16_t idb = 0;
    assert_int_equal(subscribe_growing(s, &a, 1, &ida), MQTLS_OK); /* the store grows */
    assert_int_equal(g_subs_given, 1);
    assert_ptr_equal(s->ctrl, s->ctrl_home);
    /* 100 bytes of it go out; the rest is pending in the arena's buffer. */
    uint8_t stream[4096];
    size_t len = 0;
    mqtls_iovec_t iov[4];
    size_t n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
    assert_int_equal(n, 1);
    memcpy(stream, iov[0].base, 100);
    len = 100;
    mqtls__session_out_consumed(s, 100, g_fx.now);
    assert_true(s->ctrl_rd > 0);
    /* Too large for the arena's buffer: refused, with the size it wants. */
    assert_int_equal(mqtls__session_subscribe(s, &b, 1, NULL, &idb), MQTLS_ERR_OUTBOX_FULL);
    assert_true(mqtls__session_ctrl_want(s) > s->ctrl_cap);
    assert_true(mqtls__session_ctrl_want(s) <= s->ctrl_limit);
    assert_int_equal(mem_give(s), 2); /* the control buffer and the store, asked at once */
    assert_ptr_not_equal(s->ctrl, s->ctrl_home);
    memset(s->ctrl_home, 0xDD, s->ctrl_home_cap); /* nothing may come from it any more */
    assert_int_equal(mqtls__session_subscribe(s, &b, 1, NULL, &idb), MQTLS_OK);
    /* The rest, in pieces of 777 bytes. */
    for (int guard = 0; guard < 100; guard++) {
        n = mqtls__session_out_iov(s, iov, ARRAY_LEN(iov));
        if (n == 0) {
            break;
        }
        size_t k = iov[0].len < 777u ? iov[0].len : 777u;
        assert_true(len + k <= sizeof stream);
        memcpy(stream + len, iov[0].base, k);
        len += k;
        mqtls__session_out_consumed(s, k, g_fx.now);
    }
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    mqtls_packet_t p[2];
    size_t used = 0;
    assert_int_equal(mqtls_packet_decode(stream, len, &cc, &p[0], &used), MQTLS_OK);
    size_t used2 = 0;
    assert_int_equal(mqtls_packet_decode(stream + used, len - used, &cc, &p[1], &used2), MQTLS_OK);
    assert_int_equal(used + used2, len);
    const mqtls_topic_filter_t *want[2] = {&a, &b};
    const uint16_t ids[2] = {ida, idb};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(p[k].type, MQTLS_SUBSCRIBE);
        assert_int_equal(p[k].u.subscribe.packet_id, ids[k]);
        size_t cur = 0;
        mqtls_topic_filter_t got;
        assert_int_equal(mqtls_filters_next(&p[k].u.subscribe.filters, &cur, &got), MQTLS_OK);
        assert_int_equal(got.filter.len, want[k]->filter.len);
        assert_memory_equal(got.filter.data, want[k]->filter.data, got.filter.len);
        assert_int_equal(got.options, want[k]->options);
    }
    /* Empty again: the grown buffer goes back, the arena's serves again. */
    assert_ptr_equal(s->ctrl, s->ctrl_home);
    assert_int_equal(s->ctrl_cap, s->ctrl_home_cap);
    void *back;
    size_t nb = 0;
    while ((back = mqtls__session_reclaim(s)) != NULL) {
        grow_give_back(back);
        nb++;
    }
    assert_int_equal(nb, 2); /* the grown control buffer, the store's 512 B one it outgrew */
    assert_int_equal(pool_busy(&g_mem), 1); /* the store keeps its grown buffer */
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
}

/* What the fixed buffer took, the growing one takes; one byte more is refused the same way. */
static void test_session_largest_subscribe_unchanged(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    /* MQTT 3.1.1 SUBSCRIBE of one filter of L bytes: 1 + 2 (remaining length, L < 16 K) + 2
     * (id) + 2 + L + 1. The largest the buffer ever took, empty: all but the reserve. */
    size_t largest = s->ctrl_limit - s->ack_reserve;
    size_t flen = largest - 8u;
    static char big[16384];
    assert_true(flen + 1u <= sizeof big);
    memset(big, 'x', sizeof big);
    mqtls_topic_filter_t f = {{(const uint8_t *)big, flen}, 1};
    uint16_t id = 0;
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, &id), MQTLS_ERR_OUTBOX_FULL);
    /* The buffer grows to hold it and the arena's part of the reserve; the rest of the reserve
     * stays within the limit, free of it. */
    assert_true(mqtls__session_ctrl_want(s) >= largest + s->ack_keep);
    assert_true(mqtls__session_ctrl_want(s) <= s->ctrl_limit);
    assert_int_equal(mqtls__session_subs_want(s), 0); /* it never fits the store */
    assert_int_equal(mem_give(s), 1);
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, &id), MQTLS_OK);
    assert_int_equal(s->ctrl_wr - s->ctrl_rd, largest);
    /* The store cannot remember it: reported, as before. */
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 1);
    assert_int_equal(drain(s), 1);
    assert_int_equal(g_fx.out_len, largest);
    /* One byte more: refused at once, nothing to give. */
    f.filter.len = flen + 1u;
    size_t ev = g_fx.ev_count;
    assert_int_equal(mqtls__session_subscribe(s, &f, 1, NULL, &id), MQTLS_ERR_OUTBOX_FULL);
    assert_int_equal(mqtls__session_ctrl_want(s), 0);
    assert_int_equal(mqtls__session_subs_want(s), 0);
    assert_int_equal(mqtls__session_ids_want(s), 0);
    assert_int_equal(g_fx.ev_count, ev);
    assert_false(mqtls__session_has_output(s));
}

/* A store filled to its limit is resubscribed whole after a reconnect without a session: the
 * CONNACK waits for the control buffer the resubscribe needs. */
static void test_session_full_store_resubscribed_after_reconnect(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    enum { MAX = 341 }; /* 341 x (3 + 9) = 4092 of 4096 bytes */
    static char names[MAX + 1][12];
    static mqtls_topic_filter_t f[MAX + 1];
    for (int i = 0; i <= MAX; i++) {
        (void)snprintf(names[i], sizeof names[i], "full/%04d", i);
        f[i].filter.data = (const uint8_t *)names[i];
        f[i].filter.len = 9;
        f[i].options = (uint8_t)(i % 3);
    }
    for (int i = 0; i < MAX; i += 31) {
        size_t n = MAX - i < 31 ? (size_t)(MAX - i) : 31u;
        uint16_t id = 0;
        assert_int_equal(subscribe_growing(s, &f[i], n, &id), MQTLS_OK);
        drain(s);
        static const uint8_t granted[31] = {0};
        mqtls_packet_t ack;
        memset(&ack, 0, sizeof ack);
        ack.type = MQTLS_SUBACK;
        ack.u.suback.packet_id = id;
        ack.u.suback.reasons.data = granted;
        ack.u.suback.reasons.len = n;
        assert_int_equal(feed(s, &ack), MQTLS_OK); /* its packet id is free again */
    }
    assert_int_equal(s->subs_len, 4092);
    assert_int_equal(s->subs_cap, 4096);
    assert_true(g_subs_given >= 4); /* 256 -> 512 -> 1024 -> 2048 -> 4096 */
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
    /* One more does not fit: reported, as with a store fixed at 4 KiB. */
    assert_int_equal(subscribe_growing(s, &f[MAX], 1, NULL), MQTLS_OK);
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 1);
    drain(s);
    mqtls__session_on_closed(s);
    size_t ctrl_before = g_ctrl_given;
    connect_ok(s, false, NULL, 0); /* no session: everything again */
    assert_int_equal(g_ctrl_given, ctrl_before + 1u);
    drain(s);
    assert_int_equal(g_fx.pkt_count, (MAX + 63) / 64);
    size_t total = 0;
    for (size_t k = 0; k < g_fx.pkt_count; k++) {
        assert_int_equal(g_fx.pkts[k].type, MQTLS_SUBSCRIBE);
        size_t cur = 0;
        mqtls_topic_filter_t got;
        while (mqtls_filters_next(&g_fx.pkts[k].u.subscribe.filters, &cur, &got) == MQTLS_OK) {
            assert_true(total < MAX);
            assert_int_equal(got.filter.len, 9);
            assert_memory_equal(got.filter.data, names[total], 9);
            assert_int_equal(got.options, f[total].options);
            total++;
        }
    }
    assert_int_equal(total, MAX);
    assert_int_equal(count_events(MQTLS_EVENT_ERROR), 1);
    assert_ptr_equal(s->ctrl, s->ctrl_home); /* written: handed back */
}

/* A PINGREQ that finds the control buffer full goes once the bytes before it are written. */
static void test_session_ping_without_room_goes_after_the_queue(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    mqtls__session_t *s = setup_with(&cfg);
    connect_ok(s, false, NULL, 0);
    /* A SUBSCRIBE that takes all the room but the arena's part of the reserve: no growth, no
     * room for PINGREQ. */
    size_t flen = s->ctrl_cap - s->ack_keep - 8u;
    static char big[2048];
    assert_true(flen <= sizeof big);
    memset(big, 'p', sizeof big);
    mqtls_topic_filter_t f = {{(const uint8_t *)big, flen}, 0};
    assert_int_equal(subscribe_growing(s, &f, 1, NULL), MQTLS_OK); /* the store grows */
    assert_int_equal(s->ctrl_wr - s->ctrl_rd + s->ack_keep, s->ctrl_cap);
    g_fx.now += 10000; /* keepalive 10 s */
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    assert_true(s->ping_owed);
    assert_int_equal(drain(s), 2);
    assert_int_equal(g_fx.pkts[0].type, MQTLS_SUBSCRIBE);
    assert_int_equal(g_fx.pkts[1].type, MQTLS_PINGREQ);
    assert_false(s->ping_owed);
    assert_int_equal(g_ctrl_given, 0);
    /* Its answer keeps the connection alive. */
    mqtls_packet_t pr;
    memset(&pr, 0, sizeof pr);
    pr.type = MQTLS_PINGRESP;
    assert_int_equal(feed(s, &pr), MQTLS_OK);
    g_fx.now += 9000;
    assert_int_equal(mqtls__session_tick(s, g_fx.now), MQTLS_OK);
    assert_int_equal(s->state, MQTLS__S_CONNECTED);
}

/* @p count PUBRELs with ids from 1, back to back in g_burst. */
static size_t make_pubrel_burst(mqtls_version_t v, size_t count)
{
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PUBREL;
        p.u.ack.packet_id = (uint16_t)(i + 1u);
        size_t n = 0;
        assert_int_equal(mqtls_packet_encode(&p, v, g_burst + len, sizeof g_burst - len, &n),
                         MQTLS_OK);
        len += n;
    }
    return len;
}

/* Feed g_burst[0, len) and write nothing: each time the session stops, check why and give what
 * it wants, as the runtime's pump does. @return how often it stopped for acknowledgements. */
static size_t feed_burst_growing(mqtls__session_t *s, size_t len)
{
    size_t off = 0;
    size_t ack_stalls = 0;
    for (int guard = 0; guard < 1000 && off < len; guard++) {
        size_t used = 0;
        size_t need = 0;
        assert_int_equal(
            mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need),
            MQTLS_OK);
        off += used;
        if (off == len) {
            break;
        }
        assert_true(mqtls__session_input_blocked(s));
        if (s->input_stalled) {
            /* An ack found no room: the buffer is to grow (writing would also do). */
            assert_true(s->ctrl_cap - (s->ctrl_wr - s->ctrl_rd) < 6u); /* no room for one */
            assert_false(mqtls__session_input_needs_memory(s));
            assert_true(mqtls__session_ctrl_want(s) > s->ctrl_cap);
            ack_stalls++;
        }
        assert_true(mem_give(s) > 0);
        assert_false(mqtls__session_input_blocked(s));
    }
    assert_int_equal(off, len);
    return ack_stalls;
}

/* More acknowledgements than the arena's buffer holds, none written yet (the socket takes
 * nothing): the control buffer grows instead of stopping the input; every ack goes out in
 * order once the socket takes them, then the grown buffer goes back. */
static void test_session_ack_burst_grows_the_control_buffer(void **state)
{
    (void)state;
    const mqtls_version_t versions[] = {MQTLS_V311, MQTLS_V5};
    for (size_t vi = 0; vi < ARRAY_LEN(versions); vi++) {
        for (uint8_t qos = 1; qos <= 2; qos++) {
            mqtls_version_t v = versions[vi];
            mqtls__session_cfg_t cfg = small_start_cfg(); /* Receive Maximum 1024 */
            cfg.version = v;
            mqtls__session_t *s = setup_with(&cfg);
            connect_ok(s, false, NULL, 0);
            size_t home = s->ctrl_home_cap;
            enum { N = 300 }; /* far more than the 32 acks the arena's buffer has room for */
            size_t len = make_burst(v, qos, N);
            assert_true(feed_burst_growing(s, len) > 0);
            assert_true(g_ctrl_given > 0);
            assert_true(s->ctrl_cap > home && s->ctrl_cap <= s->ctrl_limit);
            assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
            assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
            /* Every ack, in order, none lost. */
            uint16_t next = 1;
            assert_int_equal(drain_count(s, qos == 1 ? MQTLS_PUBACK : MQTLS_PUBREC, &next), N);
            if (qos == 2) {
                /* The broker releases them all at once: PUBCOMPs grow the buffer again. */
                size_t given = g_ctrl_given;
                len = make_pubrel_burst(v, N);
                assert_true(feed_burst_growing(s, len) > 0);
                assert_true(g_ctrl_given > given);
                next = 1;
                assert_int_equal(drain_count(s, MQTLS_PUBCOMP, &next), N);
            }
            /* Empty again: the arena's buffer serves, the grown one comes back. */
            assert_null(s->ctrl_buf);
            assert_int_equal(s->ctrl_cap, home);
            (void)mem_give(s);
            assert_int_equal(pool_busy(&g_mem), 0);
            /* The input goes on. */
            assert_int_equal(feed_publish(s, "after", qos, 1000, false, NULL, 0), MQTLS_OK);
            assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N + 1);
            assert_int_equal(drain_count(s, qos == 1 ? MQTLS_PUBACK : MQTLS_PUBREC, NULL), 1);
            assert_int_equal(s->state, MQTLS__S_CONNECTED);
        }
    }
}

/* The runtime cannot give the bigger buffer (no memory): the input waits until the socket
 * takes the acks queued, as when the buffer was fixed; nothing is refused or lost. */
static void test_session_ack_burst_without_memory_waits_for_output(void **state)
{
    (void)state;
    for (uint8_t qos = 1; qos <= 2; qos++) {
        mqtls__session_cfg_t cfg = small_start_cfg();
        mqtls__session_t *s = setup_with(&cfg);
        connect_ok(s, false, NULL, 0);
        size_t home = s->ctrl_home_cap;
        enum { N = 300 };
        size_t len = make_burst(MQTLS_V311, qos, N);
        size_t off = 0;
        uint16_t next = 1;
        size_t acks = 0;
        size_t stalls = 0;
        for (int guard = 0; guard < 1000 && off < len; guard++) {
            size_t used = 0;
            size_t need = 0;
            assert_int_equal(
                mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need),
                MQTLS_OK);
            off += used;
            if (off < len) {
                assert_true(mqtls__session_input_blocked(s));
                if (s->input_stalled) {
                    /* Wanted, not given: writing is what unblocks it. */
                    assert_true(mqtls__session_ctrl_want(s) > s->ctrl_cap);
                    assert_false(mqtls__session_input_needs_memory(s));
                    stalls++;
                }
            }
            acks += drain_count(s, qos == 1 ? MQTLS_PUBACK : MQTLS_PUBREC, &next);
            assert_int_equal(mqtls__session_ctrl_want(s), 0); /* dropped once empty */
            (void)ids_give(s); /* QoS 2 beyond 32 awaiting PUBREL: the id bitmap */
            assert_false(mqtls__session_input_blocked(s));
        }
        assert_int_equal(off, len);
        assert_int_equal(acks, N);
        assert_true(stalls > 0);
        assert_int_equal(g_ctrl_given, 0);
        assert_int_equal(s->ctrl_cap, home);
        assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
        assert_int_equal(count_events(MQTLS_EVENT_ERROR), 0);
        assert_int_equal(s->state, MQTLS__S_CONNECTED);
    }
}

/* The buffer grows for acks only up to its limit (the same as before): there the input waits
 * for the socket, with nothing more wanted. */
static void test_session_ack_growth_stops_at_the_limit(void **state)
{
    (void)state;
    mqtls__session_cfg_t cfg = small_start_cfg();
    cfg.receive_maximum = 64; /* a reserve of 384 B, 192 of them in the arena */
    cfg.sub_store_bytes = 8;
    cfg.ctrl_bytes = 600;
    mqtls__session_t *s = setup_with(&cfg);
    assert_int_equal(s->ctrl_limit, 600u + 8u + 64u * 6u);
    assert_true(s->ctrl_home_cap < s->ctrl_limit);
    connect_ok(s, false, NULL, 0);
    enum { N = 400 }; /* 1600 B of PUBACKs */
    size_t len = make_burst(MQTLS_V311, 1, N);
    size_t used = 0;
    size_t need = 0;
    assert_int_equal(mqtls__session_on_bytes(s, g_burst, len, g_fx.now, &used, &need), MQTLS_OK);
    assert_true(used < len);
    assert_int_equal(mqtls__session_ctrl_want(s), s->ctrl_limit);
    assert_int_equal(mem_give(s), 1);
    size_t off = used;
    assert_int_equal(
        mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need), MQTLS_OK);
    off += used;
    assert_true(off < len);
    /* Full at the limit: blocked, nothing to give; writing unblocks it. */
    assert_int_equal(s->ctrl_cap, s->ctrl_limit);
    assert_true(s->ctrl_limit - (s->ctrl_wr - s->ctrl_rd) < 6u); /* not one more ack */
    assert_true(mqtls__session_input_blocked(s));
    assert_int_equal(mqtls__session_ctrl_want(s), 0);
    assert_false(mqtls__session_input_needs_memory(s));
    uint16_t next = 1;
    size_t acks = drain_count(s, MQTLS_PUBACK, &next);
    assert_int_equal(acks, off / (len / N)); /* one per PUBLISH taken, all of one size */
    assert_false(mqtls__session_input_blocked(s));
    for (int guard = 0; guard < 100 && off < len; guard++) {
        assert_int_equal(
            mqtls__session_on_bytes(s, g_burst + off, len - off, g_fx.now, &used, &need),
            MQTLS_OK);
        off += used;
        (void)mem_give(s);
        acks += drain_count(s, MQTLS_PUBACK, &next);
    }
    assert_int_equal(off, len);
    assert_int_equal(acks, N);
    assert_int_equal(count_events(MQTLS_EVENT_MESSAGE), N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_connect_v311_sends_connect_and_connects),
        cmocka_unit_test(test_session_persist_hooks_come_before_what_depends_on_them),
        cmocka_unit_test(test_session_persist_failure_refuses_or_closes),
        cmocka_unit_test(test_session_qos2_id_reused_without_dup_is_reported_in_doubt),
        cmocka_unit_test(test_session_restored_entries_resume_the_session),
        cmocka_unit_test(test_session_illegal_events_return_state),
        cmocka_unit_test(test_session_connack_refused_reports_reason),
        cmocka_unit_test(test_session_qos0_out_is_written_once_and_dropped),
        cmocka_unit_test(test_session_qos1_out_puback_completes),
        cmocka_unit_test(test_session_qos2_out_full_flow),
        cmocka_unit_test(test_session_qos2_answered_with_puback_completes_as_downgrade),
        cmocka_unit_test(test_session_qos1_in_delivers_and_acks),
        cmocka_unit_test(test_session_qos2_in_delivered_exactly_once),
        cmocka_unit_test(test_session_qos2_in_survives_reconnect_with_session),
        cmocka_unit_test(test_session_resend_with_dup_after_reconnect),
        cmocka_unit_test(test_session_no_session_resends_without_dup_and_resubscribes),
        cmocka_unit_test(test_session_lost_session_republishes_qos2_awaiting_pubcomp),
        cmocka_unit_test(test_session_v311_default_window_is_20),
        cmocka_unit_test(test_session_resubscribe_many_filters_in_batches),
        cmocka_unit_test(test_session_suback_event_has_reasons),
        cmocka_unit_test(test_session_keepalive_pings_then_times_out),
        cmocka_unit_test(test_session_connack_timeout),
        cmocka_unit_test(test_session_receive_maximum_limits_inflight),
        cmocka_unit_test(test_session_outbox_full_by_count_and_bytes),
        cmocka_unit_test(test_session_outbox_ring_wraps_under_load),
        cmocka_unit_test(test_session_partial_writes_keep_packets_whole),
        cmocka_unit_test(test_session_topic_alias_inbound),
        cmocka_unit_test(test_session_topic_alias_outbound_qos0),
        cmocka_unit_test(test_session_direct_partial_write_queues_rest),
        cmocka_unit_test(test_session_broker_max_packet_size_enforced),
        cmocka_unit_test(test_session_inbound_packet_too_large_closes),
        cmocka_unit_test(test_session_split_input_reports_need),
        cmocka_unit_test(test_session_malformed_broker_input_errors),
        cmocka_unit_test(test_session_random_input_never_crashes),
        cmocka_unit_test(test_session_server_disconnect_reports_reason),
        cmocka_unit_test(test_session_trace_reports_packets_in_wire_order),
        cmocka_unit_test(test_session_reason_string_in_error_detail),
        cmocka_unit_test(test_session_disconnect_flushes_then_wants_close),
        cmocka_unit_test(test_session_disconnect_sends_queued_qos0_first_keeps_qos1),
        cmocka_unit_test(test_session_v5_connect_announces_limits),
        cmocka_unit_test(test_session_outbox_starts_small_in_arena),
        cmocka_unit_test(test_session_outbox_grows_mid_stream),
        cmocka_unit_test(test_session_outbox_growth_stops_at_limits),
        cmocka_unit_test(test_session_queued_packets_coalesce_into_one_write),
        cmocka_unit_test(test_session_batch_stops_at_a_record),
        cmocka_unit_test(test_session_coalesced_partial_write_resumes),
        cmocka_unit_test(test_session_cork_holds_uncork_flushes),
        cmocka_unit_test(test_session_coalesced_qos1_resent_in_order_after_reconnect),
        cmocka_unit_test(test_session_outbox_growth_keeps_live_bytes_in_place),
        cmocka_unit_test(test_session_coalesced_batches_traced_and_persisted_once),
        cmocka_unit_test(test_session_restore_grows_the_outbox),
        cmocka_unit_test(test_session_packet_ids_skip_ids_in_use),
        cmocka_unit_test(test_idset_edges_upgrade_remove_shrink),
        cmocka_unit_test(test_session_outbound_ids_beyond_small_set),
        cmocka_unit_test(test_session_inbound_qos2_beyond_small_set_awaits_pubrel),
        cmocka_unit_test(test_session_restore_many_ids),
        cmocka_unit_test(test_session_connack_waits_for_ids_to_resubscribe),
        cmocka_unit_test(test_session_ctrl_and_store_start_small),
        cmocka_unit_test(test_session_ctrl_grows_during_a_partial_write),
        cmocka_unit_test(test_session_largest_subscribe_unchanged),
        cmocka_unit_test(test_session_full_store_resubscribed_after_reconnect),
        cmocka_unit_test(test_session_ping_without_room_goes_after_the_queue),
        cmocka_unit_test(test_session_ack_burst_grows_the_control_buffer),
        cmocka_unit_test(test_session_ack_burst_without_memory_waits_for_output),
        cmocka_unit_test(test_session_ack_growth_stops_at_the_limit),
        cmocka_unit_test(test_backoff_full_jitter_bounds),
        cmocka_unit_test(test_uri_parse_table),
        cmocka_unit_test(test_uri_parse_websocket),
        cmocka_unit_test(test_uri_parse_unix_path_kept),
        cmocka_unit_test(test_session_inbound_burst_stalls_instead_of_refusing_acks),
        cmocka_unit_test(test_session_control_packets_leave_room_for_acks),
        cmocka_unit_test(test_session_disconnect_waits_for_room_instead_of_dropping),
        cmocka_unit_test(test_session_resume_sends_every_pubrel_as_room_allows),
        cmocka_unit_test(test_session_garbage_first_byte_fails_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
