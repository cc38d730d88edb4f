/* libFuzzer target: the sans-I/O session (src/client) fed with "broker" bytes in every state:
 * before CONNACK, connected (with QoS 0/1/2 messages of ours in flight and a subscription), and
 * disconnecting; MQTT 3.1, 3.1.1 and 5; a small control buffer and Receive Maximum (so the
 * back-pressure path runs), topic aliases, a packet size limit, the packet-id bitmaps, control
 * buffers and subscription stores given when the session asks (as the runtime's pump does). The
 * bytes arrive in pieces and our output is taken whole or in part, as a socket would, with a pinned
 * clock that advances. Input: a mode byte, a seed byte for the cuts, then the broker's bytes.
 * Invariants: no crash or out-of-bounds access (ASan); the session never allocates (its arena
 * is fixed); on_bytes() consumes at most what it was given and answers MQTLS_OK or a negative
 * status recorded in s->err, after which the connection is closed (on_closed) and stays
 * usable; the output it offers fits its buffers; the outbox stays within its limits. Also
 * linked into replay_main.c for ctest under gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/session.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEPS_MAX 4096u

typedef struct harness {
    mqtls__session_t s;
    size_t input_len;
    unsigned events;
    uint32_t rng;
} harness_t;

static _Alignas(8) uint8_t g_arena[1u << 20];
static uint8_t g_rx[1u << 16];
/* The id bitmaps the runtime would malloc (more than 32 QoS 2 ids awaiting PUBREL). */
static uint8_t g_id_maps[2][MQTLS__IDSET_MAP_BYTES];
static bool g_id_map_busy[2];

/* The control buffers and subscription stores the runtime would malloc. */
#define MEM_BUFS 6
static uint8_t g_mem[MEM_BUFS][1u << 14];
static bool g_mem_busy[MEM_BUFS];

static uint8_t *mem_take(size_t n)
{
    CHECK(n <= sizeof g_mem[0]);
    for (int i = 0; i < MEM_BUFS; i++) {
        if (!g_mem_busy[i]) {
            g_mem_busy[i] = true;
            memset(g_mem[i], 0xEE, n); /* bytes not moved into it would show */
            return g_mem[i];
        }
    }
    CHECK(false); /* the session holds at most 2 in use + 4 given back, reclaimed first */
    return NULL;
}

static void mem_back(void *p)
{
    for (int i = 0; i < 2; i++) {
        if (p == g_id_maps[i]) {
            CHECK(g_id_map_busy[i]);
            g_id_map_busy[i] = false;
            return;
        }
    }
    for (int i = 0; i < MEM_BUFS; i++) {
        if (p == g_mem[i]) {
            CHECK(g_mem_busy[i]);
            g_mem_busy[i] = false;
            return;
        }
    }
    CHECK(false); /* no outbox growth here */
}

/* As the runtime's pump does: take back what the session hands back, give what it wants. */
static void ids_service(harness_t *h)
{
    void *p;
    while ((p = mqtls__session_reclaim(&h->s)) != NULL) {
        mem_back(p);
    }
    for (int i = 0; i < 2 && mqtls__session_ids_want(&h->s) > 0; i++) {
        if (!g_id_map_busy[i]) {
            CHECK(mqtls__session_give_ids_map(&h->s, g_id_maps[i], sizeof g_id_maps[i]) ==
                  MQTLS_OK);
            g_id_map_busy[i] = true;
        }
    }
    CHECK(mqtls__session_ids_want(&h->s) == 0);
    size_t n = mqtls__session_ctrl_want(&h->s);
    if (n > 0) {
        CHECK(n > h->s.ctrl_cap && n <= h->s.ctrl_limit);
        CHECK(mqtls__session_give_ctrl(&h->s, mem_take(n), n) == MQTLS_OK);
    }
    n = mqtls__session_subs_want(&h->s);
    if (n > 0) {
        CHECK(n > h->s.subs_cap && n <= h->s.subs_limit);
        CHECK(mqtls__session_give_subs(&h->s, mem_take(n), n) == MQTLS_OK);
    }
    CHECK(!mqtls__session_input_blocked(&h->s) || h->s.input_stalled);
}

static uint32_t next_rand(harness_t *h)
{
    h->rng = h->rng * 1103515245u + 12345u;
    return h->rng >> 16;
}

static void on_event(void *ctx, const mqtls_event_t *ev)
{
    harness_t *h = ctx;
    h->events++;
    if (ev->type == MQTLS_EVENT_MESSAGE) {
        /* views into what was fed (or an alias slot of the session) */
        CHECK(ev->u.message.topic.len <= h->input_len || ev->u.message.topic.len <= 256u);
        CHECK(ev->u.message.payload.len <= h->input_len);
        CHECK(ev->u.message.qos <= 2);
    }
}

/* Take what the session wants to write: everything, or a part (a socket that is full). */
static void drain(harness_t *h, int64_t now)
{
    for (int i = 0; i < 64; i++) {
        mqtls_iovec_t iov[16];
        size_t n = mqtls__session_out_iov(&h->s, iov, 16);
        if (n == 0) {
            return;
        }
        size_t total = 0;
        for (size_t k = 0; k < n; k++) {
            CHECK(iov[k].base != NULL && iov[k].len > 0);
            CHECK(iov[k].len <= h->s.ctrl_cap || iov[k].len <= h->s.ring_cap);
            total += iov[k].len;
        }
        size_t take = (next_rand(h) & 3u) == 0 ? next_rand(h) % (total + 1u) : total;
        mqtls__session_out_consumed(&h->s, take, now);
        if (take == 0) {
            return; /* "would block" */
        }
    }
}

static void feed_packet(harness_t *h, const mqtls_packet_t *p, int64_t now)
{
    uint8_t buf[512];
    size_t n = 0;
    if (mqtls_packet_encode(p, h->s.cfg.version, buf, sizeof buf, &n) != MQTLS_OK) {
        return;
    }
    size_t used = 0;
    size_t need = 0;
    (void)mqtls__session_on_bytes(&h->s, buf, n, now, &used, &need);
}

/* Our own traffic, so that the broker's acks have something to match. */
static void queue_ours(harness_t *h)
{
    for (uint8_t qos = 0; qos <= 2; qos++) {
        mqtls_publish_t pub;
        memset(&pub, 0, sizeof pub);
        pub.topic.data = (const uint8_t *)"f/t";
        pub.topic.len = 3;
        pub.payload.data = (const uint8_t *)"payload";
        pub.payload.len = 7;
        pub.qos = qos;
        (void)mqtls__session_publish(&h->s, &pub, NULL);
    }
    mqtls_topic_filter_t f = {{(const uint8_t *)"f/#", 3}, 2};
    (void)mqtls__session_subscribe(&h->s, &f, 1, NULL, NULL);
    /* More than the store and the control buffer hold at first: they grow (as in the runtime,
     * one retry after the caller gave what was asked). */
    static const char names[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
    static char topics[40][40];
    mqtls_topic_filter_t many[40];
    for (size_t i = 0; i < 40; i++) {
        memset(topics[i], names[i], sizeof topics[i]);
        many[i].filter.data = (const uint8_t *)topics[i];
        many[i].filter.len = sizeof topics[i];
        many[i].options = 1;
    }
    if (mqtls__session_subscribe(&h->s, many, 40, NULL, NULL) == MQTLS_ERR_OUTBOX_FULL) {
        ids_service(h);
        (void)mqtls__session_subscribe(&h->s, many, 40, NULL, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static harness_t h;
    memset(&h, 0, sizeof h);
    memset(g_id_map_busy, 0, sizeof g_id_map_busy);
    memset(g_mem_busy, 0, sizeof g_mem_busy);
    uint8_t mode = data[0];
    h.rng = data[1] * 2654435761u + 1u;
    data += 2;
    size -= 2;
    h.input_len = size;

    mqtls__session_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = (mode & 1u) != 0 ? MQTLS_V5 : ((mode & 2u) != 0 ? MQTLS_V31 : MQTLS_V311);
    cfg.client_id.data = (const uint8_t *)"fuzz";
    cfg.client_id.len = 4;
    cfg.keepalive_s = 5;
    cfg.clean_start = (mode & 4u) != 0;
    cfg.connack_timeout_ms = 3000;
    cfg.max_messages = 8;
    cfg.max_bytes = 4096;
    cfg.initial_messages = SIZE_MAX;
    cfg.initial_bytes = SIZE_MAX;
    cfg.receive_maximum = (mode & 8u) != 0 ? 2 : 64;
    cfg.ctrl_bytes = (mode & 8u) != 0 ? 96 : 0; /* small: back-pressure */
    cfg.max_packet_size = (mode & 16u) != 0 ? 300 : 0;
    cfg.topic_alias_maximum = cfg.version == MQTLS_V5 ? 4 : 0;
    cfg.outbound_aliases = cfg.version == MQTLS_V5 ? 2 : 0;
    cfg.max_inflight = 4;
    cfg.on_event = on_event;
    cfg.event_ctx = &h;
    size_t need_arena = mqtls__session_arena_size(&cfg);
    CHECK(need_arena <= sizeof g_arena);
    CHECK(mqtls__session_setup(&h.s, &cfg, g_arena, sizeof g_arena) == MQTLS_OK);

    int64_t now = 1000;
    CHECK(mqtls__session_on_transport_up(&h.s, now) == MQTLS_OK);
    drain(&h, now);
    unsigned phase = (mode >> 5) & 3u; /* 0: before CONNACK, 1-2: connected, 3: disconnecting */
    if (phase > 0) {
        mqtls_packet_t ca;
        memset(&ca, 0, sizeof ca);
        ca.type = MQTLS_CONNACK;
        ca.u.connack.session_present = phase == 2 && !cfg.clean_start;
        feed_packet(&h, &ca, now);
        CHECK(h.s.state == MQTLS__S_CONNECTED);
        queue_ours(&h);
        drain(&h, now);
        if (phase == 3) {
            (void)mqtls__session_disconnect(&h.s, 0);
        }
    }

    /* The broker's bytes, cut into reads; the unconsumed rest carried as the runtime does. */
    size_t off = 0;
    size_t rx_len = 0;
    bool closed = false;
    for (unsigned step = 0; step < STEPS_MAX && !closed && (off < size || rx_len > 0); step++) {
        size_t piece = 1u + next_rand(&h) % 64u;
        piece = piece < size - off ? piece : size - off;
        if (rx_len + piece > sizeof g_rx) {
            piece = sizeof g_rx - rx_len;
        }
        memcpy(g_rx + rx_len, data + off, piece);
        rx_len += piece;
        off += piece;
        size_t used = 0;
        size_t need = 0;
        mqtls_status_t st = mqtls__session_on_bytes(&h.s, g_rx, rx_len, now, &used, &need);
        CHECK(used <= rx_len);
        memmove(g_rx, g_rx + used, rx_len - used);
        rx_len -= used;
        if (st != MQTLS_OK) {
            CHECK(st < 0);
            CHECK(h.s.err.status == st);
            mqtls__session_on_closed(&h.s);
            CHECK(h.s.state == MQTLS__S_IDLE);
            CHECK(!mqtls__session_has_output(&h.s));
            closed = true;
            break;
        }
        if (h.s.state == MQTLS__S_IDLE) {
            break;
        }
        ids_service(&h);
        now += (int64_t)(next_rand(&h) % 2000u);
        drain(&h, now);
        if (mqtls__session_tick(&h.s, now) != MQTLS_OK) {
            mqtls__session_on_closed(&h.s);
            closed = true;
            break;
        }
        drain(&h, now);
        if (off == size && used == 0 && !mqtls__session_input_blocked(&h.s)) {
            break; /* an incomplete packet at the end: nothing more will come */
        }
    }
    CHECK(mqtls__session_outbox_count(&h.s) <= cfg.max_messages);
    CHECK(mqtls__session_outbox_bytes(&h.s) <= cfg.max_bytes);
    /* A closed session can connect again. */
    if (closed) {
        CHECK(mqtls__session_on_transport_up(&h.s, now) == MQTLS_OK);
        drain(&h, now);
    }
    return 0;
}
