/* The sans-I/O MQTT session: state machine, outbox, in-flight window, QoS flows, keepalive.
 * No OS, no malloc, no clock (STYLE.md "Memory and state"). */
#include "client/session.h"

#include <string.h>

#include "mqtls/limits.h"

enum entry_state {
    E_FREE = 0,
    E_QUEUED,    /* waiting to be written on this connection */
    E_WRITING,   /* partially written (it is s->cur_entry) */
    E_WAIT_ACK,  /* QoS 1: PUBACK; QoS 2: PUBREC */
    E_WAIT_COMP, /* QoS 2: PUBREL queued/sent, waiting for PUBCOMP */
    E_DONE
};

#define ID_BITMAP_BYTES (65536u / 8u)
#define CTRL_EXTRA 8192u
#define SUBS_DEFAULT 4096u
#define MAX_USER_CONNECT_PROPS 16u

static size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

void mqtls__error_reset(mqtls_error_t *e)
{
    memset(e, 0, sizeof *e);
    e->tls_alert = -1;
    e->connack_reason = -1;
    e->disconnect_reason = -1;
}

static void set_err(mqtls__session_t *s, mqtls_status_t st, const char *detail)
{
    mqtls__error_reset(&s->err);
    s->err.layer = MQTLS_LAYER_MQTT;
    s->err.status = st;
    if (detail != NULL) {
        size_t n = strlen(detail);
        if (n >= sizeof s->err.detail) {
            n = sizeof s->err.detail - 1u;
        }
        memcpy(s->err.detail, detail, n);
        s->err.detail[n] = '\0';
    }
}

static void emit(mqtls__session_t *s, const mqtls_event_t *ev)
{
    if (s->cfg.on_event != NULL) {
        s->cfg.on_event(s->cfg.event_ctx, ev);
    }
}

static void emit_error(mqtls__session_t *s, mqtls_status_t st, uint16_t packet_id,
                       const char *detail)
{
    mqtls_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_ERROR;
    mqtls__error_reset(&ev.u.error.err);
    ev.u.error.err.layer = MQTLS_LAYER_MQTT;
    ev.u.error.err.status = st;
    if (detail != NULL) {
        size_t n = strlen(detail);
        n = n < sizeof ev.u.error.err.detail ? n : sizeof ev.u.error.err.detail - 1u;
        memcpy(ev.u.error.err.detail, detail, n);
    }
    ev.u.error.packet_id = packet_id;
    emit(s, &ev);
}

/* --- state machine ---------------------------------------------------------------------- */

/* The one transition function: every state change goes through here. */
static mqtls_status_t session_transition(mqtls__session_t *s, mqtls__sevent_t ev)
{
    mqtls__sstate_t next = s->state;
    switch (ev) {
    case MQTLS__EV_TRANSPORT_UP:
        if (s->state != MQTLS__S_IDLE) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_CONNECTING;
        break;
    case MQTLS__EV_CONNACK_OK:
        if (s->state != MQTLS__S_CONNECTING) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_CONNECTED;
        break;
    case MQTLS__EV_USER_DISCONNECT:
        if (s->state != MQTLS__S_CONNECTING && s->state != MQTLS__S_CONNECTED) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_DISCONNECTING;
        break;
    case MQTLS__EV_CLOSED:
        next = MQTLS__S_IDLE;
        break;
    default:
        return MQTLS_ERR_STATE;
    }
    s->state = next;
    return MQTLS_OK;
}

/* --- bitmaps, packet ids ---------------------------------------------------------------- */

static bool bit_get(const uint8_t *map, uint16_t id)
{
    return (map[id >> 3] & (uint8_t)(1u << (id & 7u))) != 0;
}

static void bit_set(uint8_t *map, uint16_t id, bool on)
{
    if (on) {
        map[id >> 3] = (uint8_t)(map[id >> 3] | (1u << (id & 7u)));
    } else {
        map[id >> 3] = (uint8_t)(map[id >> 3] & ~(1u << (id & 7u)));
    }
}

static mqtls_status_t alloc_id(mqtls__session_t *s, uint16_t *out)
{
    /* [MQTT-2.3.1-1] non-zero; [MQTT-2.3.1-2] unused by another in-flight packet. */
    for (uint32_t i = 0; i < 65535u; i++) {
        uint16_t id = s->next_id;
        s->next_id = (uint16_t)(s->next_id == 65535u ? 1u : s->next_id + 1u);
        if (!bit_get(s->ids_out, id)) {
            bit_set(s->ids_out, id, true);
            *out = id;
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_NO_PACKET_ID;
}

/* --- control buffer --------------------------------------------------------------------- */

static mqtls_status_t ctrl_put(mqtls__session_t *s, const mqtls_packet_t *pkt)
{
    size_t need = 0;
    mqtls_status_t st = mqtls_packet_encoded_size(pkt, s->cfg.version, &need);
    if (st != MQTLS_OK) {
        return st;
    }
    if (s->ctrl_wr + need > s->ctrl_cap && s->ctrl_rd > 0) {
        /* Compact only when needed; the unsent bytes at ctrl_rd move to the front. */
        memmove(s->ctrl, s->ctrl + s->ctrl_rd, s->ctrl_wr - s->ctrl_rd);
        s->ctrl_wr -= s->ctrl_rd;
        s->ctrl_rd = 0;
    }
    if (s->ctrl_wr + need > s->ctrl_cap) {
        return MQTLS_ERR_OUTBOX_FULL;
    }
    size_t written = 0;
    st = mqtls_packet_encode(pkt, s->cfg.version, s->ctrl + s->ctrl_wr, need, &written);
    if (st != MQTLS_OK) {
        return st;
    }
    s->ctrl_wr += written;
    return MQTLS_OK;
}

static mqtls_status_t ctrl_ack(mqtls__session_t *s, mqtls_packet_type_t type, uint16_t id,
                               uint8_t reason)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = id;
    p.u.ack.reason = s->cfg.version == MQTLS_V5 ? reason : 0;
    return ctrl_put(s, &p);
}

/* --- outbox ----------------------------------------------------------------------------- */

static mqtls__entry_t *entry_at(mqtls__session_t *s, size_t k)
{
    return &s->entries[(s->ent_head + k) % s->ent_cap];
}

/* Reserve @p len contiguous bytes in the byte ring. */
static bool ring_alloc(mqtls__session_t *s, size_t len, uint32_t *off, uint32_t *span)
{
    if (len == 0 || len > s->ring_cap) {
        return false;
    }
    if (s->ring_used == 0) {
        s->ring_rd = 0;
        s->ring_wr = 0;
    }
    size_t o;
    size_t sp;
    if (s->ring_used == 0 || s->ring_wr > s->ring_rd) {
        if (s->ring_cap - s->ring_wr >= len) {
            o = s->ring_wr;
            sp = len;
        } else if (s->ring_rd >= len) {
            o = 0; /* wrap: the tail padding is charged to this entry */
            sp = (s->ring_cap - s->ring_wr) + len;
        } else {
            return false;
        }
    } else {
        if (s->ring_rd - s->ring_wr < len) {
            return false;
        }
        o = s->ring_wr;
        sp = len;
    }
    s->ring_wr = o + len;
    s->ring_used += sp;
    *off = (uint32_t)o;
    *span = (uint32_t)sp;
    return true;
}

static bool ring_has_room(const mqtls__session_t *s, size_t len)
{
    /* Conservative: worst case the entry wraps and pays the tail padding. */
    if (s->ring_used == 0) {
        return len <= s->ring_cap;
    }
    if (s->ring_wr > s->ring_rd) {
        return s->ring_cap - s->ring_wr >= len || s->ring_rd >= len;
    }
    return s->ring_rd - s->ring_wr >= len;
}

static bool outbox_has_room(const mqtls__session_t *s, size_t len)
{
    return s->ent_count < s->ent_cap && ring_has_room(s, len);
}

static mqtls__entry_t *outbox_push(mqtls__session_t *s, size_t len, size_t *index)
{
    if (s->ent_count >= s->ent_cap) {
        return NULL;
    }
    uint32_t off = 0;
    uint32_t span = 0;
    if (!ring_alloc(s, len, &off, &span)) {
        return NULL;
    }
    size_t k = s->ent_count;
    mqtls__entry_t *e = entry_at(s, k);
    memset(e, 0, sizeof *e);
    e->off = off;
    e->len = (uint32_t)len;
    e->span = span;
    e->state = E_QUEUED;
    s->ent_count++;
    s->live_count++;
    *index = k;
    return e;
}

/* Drop completed entries from the front so their bytes can be reused. */
static void outbox_reap(mqtls__session_t *s)
{
    while (s->ent_count > 0) {
        mqtls__entry_t *e = entry_at(s, 0);
        if (e->state != E_DONE) {
            break;
        }
        s->ring_rd = (size_t)e->off + e->len;
        s->ring_used -= e->span;
        e->state = E_FREE;
        s->ent_head = (s->ent_head + 1u) % s->ent_cap;
        s->ent_count--;
        if (s->cur_entry >= 0) {
            s->cur_entry--; /* indexes are relative to the head */
        }
    }
    if (s->ring_used == 0) {
        s->ring_rd = 0;
        s->ring_wr = 0;
    }
}

static void entry_done(mqtls__session_t *s, mqtls__entry_t *e)
{
    if (e->qos > 0) {
        bit_set(s->ids_out, e->packet_id, false);
    }
    e->state = E_DONE;
    s->live_count--;
}

static long find_entry(mqtls__session_t *s, uint16_t id, uint8_t qos)
{
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->qos == qos && e->packet_id == id &&
            (e->state == E_WAIT_ACK || e->state == E_WAIT_COMP)) {
            return (long)k;
        }
    }
    return -1;
}

/* The in-flight window before the broker says otherwise. 3.1/3.1.1 brokers announce nothing,
 * yet they have a limit: mosquitto queues QoS 2 PUBLISHes beyond max_inflight_messages and
 * then ignores their PUBREL, losing them. 20 is libmosquitto's and mosquitto's default. */
static uint16_t window_default(const mqtls__session_cfg_t *cfg)
{
    if (cfg->max_inflight != 0) {
        return cfg->max_inflight;
    }
    return cfg->version == MQTLS_V5 ? 65535u : 20u;
}

/* --- setup ------------------------------------------------------------------------------ */

static size_t connect_size(const mqtls__session_cfg_t *cfg)
{
    /* Upper bound: fixed fields + strings + properties; exact size is checked at encode. */
    size_t n = 64u + cfg->client_id.len + cfg->username.len + cfg->password.len +
               cfg->will_topic.len + cfg->will_payload.len + cfg->will_props.raw.len +
               cfg->connect_props.raw.len;
    for (size_t i = 0; cfg->will_props.items != NULL && i < cfg->will_props.count; i++) {
        n += 16u + cfg->will_props.items[i].v.pair.key.len +
             cfg->will_props.items[i].v.pair.value.len;
    }
    for (size_t i = 0; cfg->connect_props.items != NULL && i < cfg->connect_props.count; i++) {
        n += 16u + cfg->connect_props.items[i].v.pair.key.len +
             cfg->connect_props.items[i].v.pair.value.len;
    }
    return n + 64u;
}

static size_t ctrl_size(const mqtls__session_cfg_t *cfg)
{
    return cfg->ctrl_bytes != 0 ? cfg->ctrl_bytes : connect_size(cfg) + CTRL_EXTRA;
}

static size_t subs_size(const mqtls__session_cfg_t *cfg)
{
    return cfg->sub_store_bytes != 0 ? cfg->sub_store_bytes : SUBS_DEFAULT;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* The outbox placed in the arena: small, so that an idle client does not hold its limits. */
static size_t initial_entries(const mqtls__session_cfg_t *cfg)
{
    size_t n = cfg->initial_messages != 0 ? cfg->initial_messages : MQTLS__OUTBOX_INITIAL_ENTRIES;
    return min_size(n, cfg->max_messages);
}

static size_t initial_bytes(const mqtls__session_cfg_t *cfg)
{
    size_t n = cfg->initial_bytes != 0 ? cfg->initial_bytes : MQTLS__OUTBOX_INITIAL_BYTES;
    return min_size(n, cfg->max_bytes);
}

size_t mqtls__session_outbox_buf_size(size_t entries, size_t ring_bytes)
{
    return align8(entries * sizeof(mqtls__entry_t)) + align8(ring_bytes);
}

size_t mqtls__session_arena_size(const mqtls__session_cfg_t *cfg)
{
    if (cfg == NULL) {
        return 0;
    }
    size_t n = 0;
    n += mqtls__session_outbox_buf_size(initial_entries(cfg), initial_bytes(cfg));
    n += align8(ctrl_size(cfg) + subs_size(cfg)); /* resubscribe goes through ctrl */
    n += 2u * ID_BITMAP_BYTES;
    n += align8((size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    n += align8((size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    n += align8(subs_size(cfg));
    return n;
}

mqtls_status_t mqtls__session_setup(mqtls__session_t *s, const mqtls__session_cfg_t *cfg,
                                    void *arena, size_t arena_len)
{
    if (s == NULL || cfg == NULL || arena == NULL || cfg->max_messages == 0 ||
        cfg->max_bytes == 0 || cfg->max_bytes > UINT32_MAX) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (arena_len < mqtls__session_arena_size(cfg)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (cfg->connect_props.items == NULL && cfg->connect_props.raw.len > 0) {
        return MQTLS_ERR_INVALID_ARG; /* only item lists can be merged with ours */
    }
    if (cfg->connect_props.count > MAX_USER_CONNECT_PROPS) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    uint8_t *p = arena;
    s->entries = (mqtls__entry_t *)(void *)p;
    s->ent_cap = initial_entries(cfg);
    p += align8(s->ent_cap * sizeof(mqtls__entry_t));
    s->ring = p;
    s->ring_cap = initial_bytes(cfg);
    p += align8(s->ring_cap);
    s->ctrl = p;
    s->ctrl_cap = ctrl_size(cfg) + subs_size(cfg);
    p += align8(s->ctrl_cap);
    s->ids_out = p;
    p += ID_BITMAP_BYTES;
    s->ids_in_qos2 = p;
    p += ID_BITMAP_BYTES;
    s->alias_in = (mqtls__alias_t *)(void *)p;
    p += align8((size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    s->alias_out = (mqtls__alias_t *)(void *)p;
    p += align8((size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    s->subs = p;
    s->subs_cap = subs_size(cfg);
    /* Zero only the tables that are read before written; the outbox ring and the buffers
     * stay untouched so that their pages are not committed before use. */
    memset(s->entries, 0, s->ent_cap * sizeof(mqtls__entry_t));
    memset(s->ids_out, 0, 2u * ID_BITMAP_BYTES);
    memset(s->alias_in, 0, (size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    memset(s->alias_out, 0, (size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    s->state = MQTLS__S_IDLE;
    s->cur_entry = -1;
    s->next_id = 1;
    s->ping_sent_ms = -1;
    s->window = window_default(cfg);
    s->broker_max_qos = 2;
    s->broker_retain = true;
    mqtls__error_reset(&s->err);
    return MQTLS_OK;
}

/* --- connection lifecycle --------------------------------------------------------------- */

mqtls_status_t mqtls__session_on_transport_up(mqtls__session_t *s, int64_t now_ms)
{
    mqtls_status_t st = session_transition(s, MQTLS__EV_TRANSPORT_UP);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_property_t props[4u + MAX_USER_CONNECT_PROPS];
    size_t np = 0;
    if (s->cfg.version == MQTLS_V5) {
        if (s->cfg.session_expiry_s != 0) {
            props[np].id = MQTLS_PROP_SESSION_EXPIRY_INTERVAL;
            props[np++].v.u32 = s->cfg.session_expiry_s;
        }
        if (s->cfg.receive_maximum != 0 && s->cfg.receive_maximum != 65535u) {
            props[np].id = MQTLS_PROP_RECEIVE_MAXIMUM;
            props[np++].v.u32 = s->cfg.receive_maximum;
        }
        if (s->cfg.max_packet_size != 0) {
            props[np].id = MQTLS_PROP_MAXIMUM_PACKET_SIZE;
            props[np++].v.u32 = s->cfg.max_packet_size;
        }
        if (s->cfg.topic_alias_maximum != 0) {
            props[np].id = MQTLS_PROP_TOPIC_ALIAS_MAXIMUM;
            props[np++].v.u32 = s->cfg.topic_alias_maximum;
        }
        for (size_t i = 0; s->cfg.connect_props.items != NULL && i < s->cfg.connect_props.count;
             i++) {
            props[np++] = s->cfg.connect_props.items[i];
        }
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_CONNECT;
    mqtls_connect_t *c = &p.u.connect;
    c->version = s->cfg.version;
    c->clean_start = s->cfg.clean_start;
    c->keepalive_s = s->cfg.keepalive_s;
    c->props.items = np > 0 ? props : NULL;
    c->props.count = np;
    c->client_id = s->cfg.client_id;
    c->has_will = s->cfg.has_will;
    c->will_qos = s->cfg.will_qos;
    c->will_retain = s->cfg.will_retain;
    c->will_props = s->cfg.version == MQTLS_V5 ? s->cfg.will_props : (mqtls_properties_t){0};
    c->will_topic = s->cfg.will_topic;
    c->will_payload = s->cfg.will_payload;
    c->has_username = s->cfg.has_username;
    c->username = s->cfg.username;
    c->has_password = s->cfg.has_password;
    c->password = s->cfg.password;
    /* CONNECT must be the first packet [MQTT-3.1.0-1]: the control buffer is empty here. */
    s->ctrl_rd = 0;
    s->ctrl_wr = 0;
    st = ctrl_put(s, &p);
    if (st != MQTLS_OK) {
        set_err(s, st, "cannot encode CONNECT");
        (void)session_transition(s, MQTLS__EV_CLOSED);
        return st;
    }
    s->connect_ms = now_ms;
    s->last_tx_ms = now_ms;
    s->ping_sent_ms = -1;
    s->keepalive_ms = (uint32_t)s->cfg.keepalive_s * 1000u;
    return MQTLS_OK;
}

void mqtls__session_on_closed(mqtls__session_t *s)
{
    (void)session_transition(s, MQTLS__EV_CLOSED);
    s->disconnect_pending = false;
    s->ctrl_rd = 0;
    s->ctrl_wr = 0;
    s->cur_entry = -1;
    s->cur_off = 0;
    s->plan_count = 0;
    s->inflight = 0;
    s->ping_sent_ms = -1;
    s->alias_out_used = 0;
    s->alias_out_max = 0;
    for (uint16_t i = 0; i < s->cfg.outbound_aliases; i++) {
        s->alias_out[i].len = 0;
    }
    for (uint16_t i = 0; i < s->cfg.topic_alias_maximum; i++) {
        s->alias_in[i].len = 0; /* aliases live for one network connection [MQTT-3.3.2-7] */
    }
    /* Packet ids of SUBSCRIBE/UNSUBSCRIBE die with the connection; PUBLISH ids stay. */
    memset(s->ids_out, 0, ID_BITMAP_BYTES);
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state == E_DONE || e->state == E_FREE) {
            continue;
        }
        if (e->qos == 0) {
            entry_done(s, e); /* at most once: dropped with the connection */
            continue;
        }
        bit_set(s->ids_out, e->packet_id, true);
        if (e->state == E_WRITING || e->state == E_WAIT_ACK) {
            e->state = E_QUEUED; /* resent on the next connection */
        }
    }
    outbox_reap(s);
}

/* After CONNACK: resend what the session still owes [MQTT-4.4.0-1]. */
static void resume_outbox(mqtls__session_t *s)
{
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state == E_WAIT_COMP) {
            if (s->session_present) {
                (void)ctrl_ack(s, MQTLS_PUBREL, e->packet_id, 0);
                s->inflight++;
            } else {
                /* The broker lost its session, and with it the message it was holding until
                 * our PUBREL (brokers that release on PUBREL never routed it): publish it
                 * again as a new message. At-least-once beats silent loss here. */
                e->state = E_QUEUED;
                s->ring[e->off] = (uint8_t)(s->ring[e->off] & ~0x08u);
            }
        } else if (e->state == E_QUEUED && e->was_sent) {
            uint8_t *b = s->ring + e->off;
            if (s->session_present) {
                b[0] = (uint8_t)(b[0] | 0x08u); /* DUP on redelivery [MQTT-3.3.1-1] */
            } else {
                b[0] = (uint8_t)(b[0] & ~0x08u); /* new session: a first delivery again */
            }
        }
    }
    outbox_reap(s);
}

static void send_subscribe(mqtls__session_t *s, const mqtls_topic_filter_t *items, size_t n)
{
    uint16_t id = 0;
    if (alloc_id(s, &id) != MQTLS_OK) {
        emit_error(s, MQTLS_ERR_NO_PACKET_ID, 0, "cannot resubscribe");
        return;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_SUBSCRIBE;
    p.u.subscribe.packet_id = id;
    p.u.subscribe.filters.items = items;
    p.u.subscribe.filters.count = n;
    if (ctrl_put(s, &p) != MQTLS_OK) {
        bit_set(s->ids_out, id, false);
        emit_error(s, MQTLS_ERR_OUTBOX_FULL, id, "cannot queue the resubscribe");
    }
}

/* The broker forgot us (session not present): subscribe again to everything remembered, in
 * SUBSCRIBE packets of up to 64 filters. */
static void resubscribe(mqtls__session_t *s)
{
    mqtls_topic_filter_t items[64];
    size_t n = 0;
    size_t off = 0;
    while (off + 3u <= s->subs_len) {
        size_t len = (size_t)s->subs[off] << 8 | s->subs[off + 1u];
        items[n].filter.data = s->subs + off + 2u;
        items[n].filter.len = len;
        items[n].options = s->subs[off + 2u + len];
        n++;
        off += 3u + len;
        if (n == sizeof items / sizeof items[0]) {
            send_subscribe(s, items, n);
            n = 0;
        }
    }
    if (n > 0) {
        send_subscribe(s, items, n);
    }
}

/* --- inbound ---------------------------------------------------------------------------- */

static mqtls_status_t fail(mqtls__session_t *s, mqtls_status_t st, const char *detail)
{
    set_err(s, st, detail);
    return st;
}

static mqtls_status_t on_connack(mqtls__session_t *s, const mqtls_connack_t *ca)
{
    if (s->state != MQTLS__S_CONNECTING) {
        return fail(s, MQTLS_ERR_PROTOCOL, "CONNACK received twice");
    }
    if (ca->reason != 0) {
        set_err(s, MQTLS_ERR_CONNACK_REFUSED, NULL);
        s->err.connack_reason = ca->reason;
        const char *name = s->cfg.version == MQTLS_V5
                               ? mqtls_reason_name(MQTLS_CONNACK, ca->reason)
                               : mqtls_connack_v3_name(ca->reason);
        if (name != NULL) {
            size_t n = strlen(name);
            n = n < sizeof s->err.detail ? n : sizeof s->err.detail - 1u;
            memcpy(s->err.detail, name, n);
            s->err.detail[n] = '\0';
        }
        return MQTLS_ERR_CONNACK_REFUSED;
    }
    mqtls_property_t pr;
    s->window = window_default(&s->cfg);
    s->broker_max_packet = 0;
    s->broker_max_qos = 2;
    s->broker_retain = true;
    s->alias_out_max = 0;
    if (s->cfg.version == MQTLS_V5) {
        if (mqtls_props_find(&ca->props, MQTLS_PROP_RECEIVE_MAXIMUM, &pr) && pr.v.u32 > 0 &&
            pr.v.u32 < s->window) {
            s->window = (uint16_t)pr.v.u32; /* [MQTT-4.9.0-2] */
        }
        if (mqtls_props_find(&ca->props, MQTLS_PROP_MAXIMUM_PACKET_SIZE, &pr)) {
            s->broker_max_packet = pr.v.u32;
        }
        if (mqtls_props_find(&ca->props, MQTLS_PROP_MAXIMUM_QOS, &pr)) {
            s->broker_max_qos = (uint8_t)pr.v.u32;
        }
        if (mqtls_props_find(&ca->props, MQTLS_PROP_RETAIN_AVAILABLE, &pr)) {
            s->broker_retain = pr.v.u32 != 0;
        }
        if (mqtls_props_find(&ca->props, MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, &pr)) {
            uint32_t m = pr.v.u32 < s->cfg.outbound_aliases ? pr.v.u32 : s->cfg.outbound_aliases;
            s->alias_out_max = (uint16_t)m;
        }
        if (mqtls_props_find(&ca->props, MQTLS_PROP_SERVER_KEEP_ALIVE, &pr)) {
            s->keepalive_ms = pr.v.u32 * 1000u; /* the server's value wins [MQTT-3.2.2-21] */
        }
    }
    /* [MQTT-3.2.2-4]: with Clean Start the server must not report a session. */
    s->session_present = ca->session_present && !s->cfg.clean_start;
    if (!s->session_present) {
        memset(s->ids_in_qos2, 0, ID_BITMAP_BYTES);
    }
    mqtls_status_t st = session_transition(s, MQTLS__EV_CONNACK_OK);
    if (st != MQTLS_OK) {
        return fail(s, st, "bad state at CONNACK");
    }
    resume_outbox(s);
    if (!s->session_present) {
        resubscribe(s);
    }
    mqtls_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_CONNECTED;
    ev.u.connected.session_present = ca->session_present;
    ev.u.connected.props = ca->props;
    emit(s, &ev);
    return MQTLS_OK;
}

static mqtls_status_t on_publish(mqtls__session_t *s, const mqtls_publish_t *pub)
{
    mqtls_bytes_t topic = pub->topic;
    if (s->cfg.version == MQTLS_V5) {
        mqtls_property_t pr;
        if (mqtls_props_find(&pub->props, MQTLS_PROP_TOPIC_ALIAS, &pr)) {
            /* [MQTT-3.3.2-9]/[MQTT-3.3.2-10]: 0 and values above our maximum are errors. */
            if (pr.v.u32 == 0 || pr.v.u32 > s->cfg.topic_alias_maximum) {
                return fail(s, MQTLS_ERR_PROTOCOL, "topic alias out of range");
            }
            mqtls__alias_t *a = &s->alias_in[pr.v.u32 - 1u];
            if (topic.len > 0) {
                if (topic.len > MQTLS__ALIAS_TOPIC_MAX) {
                    return fail(s, MQTLS_ERR_NOT_SUPPORTED, "aliased topic longer than 256 B");
                }
                memcpy(a->topic, topic.data, topic.len);
                a->len = (uint16_t)topic.len;
            } else {
                if (a->len == 0) {
                    return fail(s, MQTLS_ERR_PROTOCOL, "unknown topic alias");
                }
                topic.data = a->topic;
                topic.len = a->len;
            }
        } else if (topic.len == 0) {
            return fail(s, MQTLS_ERR_PROTOCOL, "empty topic without alias");
        }
    }
    bool deliver = true;
    mqtls_status_t st = MQTLS_OK;
    if (pub->qos == 2) {
        /* Exactly once: deliver at the first PUBLISH, remember the id until PUBREL. */
        if (bit_get(s->ids_in_qos2, pub->packet_id)) {
            deliver = false;
        }
    }
    if (deliver) {
        mqtls_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = MQTLS_EVENT_MESSAGE;
        ev.u.message.topic = topic;
        ev.u.message.payload = pub->payload;
        ev.u.message.qos = pub->qos;
        ev.u.message.retain = pub->retain;
        ev.u.message.dup = pub->dup;
        ev.u.message.packet_id = pub->packet_id;
        ev.u.message.props = pub->props;
        emit(s, &ev);
    }
    if (pub->qos == 1) {
        st = ctrl_ack(s, MQTLS_PUBACK, pub->packet_id, 0);
    } else if (pub->qos == 2) {
        bit_set(s->ids_in_qos2, pub->packet_id, true);
        st = ctrl_ack(s, MQTLS_PUBREC, pub->packet_id, 0);
    }
    if (st != MQTLS_OK) {
        return fail(s, st, "cannot queue the acknowledgement");
    }
    return MQTLS_OK;
}

static void emit_published(mqtls__session_t *s, uint16_t id, uint8_t reason)
{
    mqtls_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_PUBLISHED;
    ev.u.published.packet_id = id;
    ev.u.published.reason = reason;
    emit(s, &ev);
}

static mqtls_status_t on_ack(mqtls__session_t *s, mqtls_packet_type_t type, const mqtls_ack_t *a)
{
    long k;
    mqtls__entry_t *e;
    switch (type) {
    case MQTLS_PUBACK:
        k = find_entry(s, a->packet_id, 1);
        if (k < 0) {
            return MQTLS_OK; /* a late or duplicate ack: nothing to do */
        }
        e = entry_at(s, (size_t)k);
        entry_done(s, e);
        s->inflight--;
        emit_published(s, a->packet_id, a->reason);
        break;
    case MQTLS_PUBREC:
        k = find_entry(s, a->packet_id, 2);
        if (k < 0) {
            /* Keep the broker's flow moving: release the id it holds. */
            return ctrl_ack(s, MQTLS_PUBREL, a->packet_id,
                            s->cfg.version == MQTLS_V5 ? 0x92u : 0u);
        }
        e = entry_at(s, (size_t)k);
        if (e->state == E_WAIT_COMP) {
            return ctrl_ack(s, MQTLS_PUBREL, a->packet_id, 0);
        }
        if (s->cfg.version == MQTLS_V5 && a->reason >= 0x80u) {
            /* The broker refused it: the flow ends here [MQTT-4.3.3]. */
            entry_done(s, e);
            s->inflight--;
            emit_published(s, a->packet_id, a->reason);
            break;
        }
        e->state = E_WAIT_COMP;
        if (ctrl_ack(s, MQTLS_PUBREL, a->packet_id, 0) != MQTLS_OK) {
            return fail(s, MQTLS_ERR_OUTBOX_FULL, "cannot queue PUBREL");
        }
        break;
    case MQTLS_PUBREL:
        bit_set(s->ids_in_qos2, a->packet_id, false);
        if (ctrl_ack(s, MQTLS_PUBCOMP, a->packet_id, 0) != MQTLS_OK) {
            return fail(s, MQTLS_ERR_OUTBOX_FULL, "cannot queue PUBCOMP");
        }
        break;
    case MQTLS_PUBCOMP:
        k = find_entry(s, a->packet_id, 2);
        if (k < 0) {
            return MQTLS_OK;
        }
        e = entry_at(s, (size_t)k);
        if (e->state != E_WAIT_COMP) {
            return fail(s, MQTLS_ERR_PROTOCOL, "PUBCOMP before PUBREC");
        }
        entry_done(s, e);
        s->inflight--;
        emit_published(s, a->packet_id, a->reason);
        break;
    default:
        break;
    }
    outbox_reap(s);
    return MQTLS_OK;
}

static mqtls_status_t on_packet(mqtls__session_t *s, const mqtls_packet_t *p)
{
    if (s->state == MQTLS__S_CONNECTING && p->type != MQTLS_CONNACK &&
        p->type != MQTLS_DISCONNECT) {
        /* [MQTT-3.2.0-1]: the first packet from the server must be CONNACK. */
        return fail(s, MQTLS_ERR_PROTOCOL, "first packet from the broker is not CONNACK");
    }
    mqtls_event_t ev;
    switch (p->type) {
    case MQTLS_CONNACK:
        return on_connack(s, &p->u.connack);
    case MQTLS_PUBLISH:
        return on_publish(s, &p->u.publish);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        return on_ack(s, p->type, &p->u.ack);
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK:
        bit_set(s->ids_out, p->u.suback.packet_id, false);
        memset(&ev, 0, sizeof ev);
        ev.type = p->type == MQTLS_SUBACK ? MQTLS_EVENT_SUBSCRIBED : MQTLS_EVENT_UNSUBSCRIBED;
        ev.u.subscribed.packet_id = p->u.suback.packet_id;
        ev.u.subscribed.reasons = p->u.suback.reasons;
        ev.u.subscribed.props = p->u.suback.props;
        emit(s, &ev);
        return MQTLS_OK;
    case MQTLS_PINGRESP:
        s->ping_sent_ms = -1;
        return MQTLS_OK;
    case MQTLS_DISCONNECT:
        set_err(s, MQTLS_ERR_SERVER_DISCONNECT,
                mqtls_reason_name(MQTLS_DISCONNECT, p->u.disconnect.reason));
        s->err.disconnect_reason = p->u.disconnect.reason;
        return MQTLS_ERR_SERVER_DISCONNECT;
    case MQTLS_AUTH:
        return fail(s, MQTLS_ERR_NOT_SUPPORTED, "enhanced authentication (AUTH) not supported");
    default:
        /* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ only go client -> server. */
        return fail(s, MQTLS_ERR_PROTOCOL, "broker sent a client-only packet");
    }
}

mqtls_status_t mqtls__session_on_bytes(mqtls__session_t *s, const uint8_t *in, size_t len,
                                       int64_t now_ms, size_t *used, size_t *need)
{
    (void)now_ms;
    *used = 0;
    *need = 0;
    if (s->state == MQTLS__S_IDLE) {
        return MQTLS_ERR_STATE;
    }
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = s->cfg.max_packet_size};
    size_t off = 0;
    /* Bounded: each iteration consumes at least two bytes or returns. */
    while (off < len) {
        size_t total = 0;
        mqtls_status_t st = mqtls_packet_frame(in + off, len - off, &cc, &total);
        if (st == MQTLS_ERR_NEED_MORE) {
            break;
        }
        if (st != MQTLS_OK) {
            *used = off;
            return fail(s, st, "malformed packet from the broker");
        }
        if (total > len - off) {
            *need = total;
            break;
        }
        mqtls_packet_t p;
        size_t n = 0;
        st = mqtls_packet_decode(in + off, total, &cc, &p, &n);
        if (st != MQTLS_OK || n != total) {
            *used = off;
            return fail(s, st != MQTLS_OK ? st : MQTLS_ERR_MALFORMED,
                        "malformed packet from the broker");
        }
        /* Any packet shows the connection is alive; PINGRESP is the explicit answer. */
        s->ping_sent_ms = -1;
        off += total;
        st = on_packet(s, &p);
        if (st != MQTLS_OK) {
            *used = off;
            return st;
        }
        if (s->state == MQTLS__S_IDLE) {
            break;
        }
    }
    *used = off;
    return MQTLS_OK;
}

/* --- outbound --------------------------------------------------------------------------- */

static bool can_send_publishes(const mqtls__session_t *s)
{
    return s->state == MQTLS__S_CONNECTED;
}

/* After a user disconnect, QoS 0 messages already queued still go out before DISCONNECT:
 * they have no other chance. QoS 1/2 stay in the session for the next connection. */
static bool draining_qos0(const mqtls__session_t *s)
{
    return s->state == MQTLS__S_DISCONNECTING && s->disconnect_pending;
}

static bool qos0_queued(const mqtls__session_t *s)
{
    for (size_t k = 0; k < s->ent_count; k++) {
        const mqtls__entry_t *e = &s->entries[(s->ent_head + k) % s->ent_cap];
        if (e->qos == 0 && (e->state == E_QUEUED || e->state == E_WRITING)) {
            return true;
        }
    }
    return false;
}

static void queue_disconnect_if_drained(mqtls__session_t *s)
{
    if (!draining_qos0(s) || s->cur_entry >= 0 || qos0_queued(s)) {
        return;
    }
    s->disconnect_pending = false;
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_DISCONNECT;
    p.u.disconnect.reason = s->cfg.version == MQTLS_V5 ? s->disconnect_reason : 0;
    /* No room in the control buffer: closing without DISCONNECT still ends the connection
     * (the broker then publishes the will; acceptable when the buffer is jammed). */
    (void)ctrl_put(s, &p);
}

size_t mqtls__session_out_iov(mqtls__session_t *s, mqtls_iovec_t *iov, size_t max)
{
    size_t n = 0;
    s->plan_count = 0;
    if (s->state == MQTLS__S_IDLE || max == 0) {
        return 0;
    }
    if (s->cur_entry >= 0) {
        mqtls__entry_t *e = entry_at(s, (size_t)s->cur_entry);
        iov[n].base = s->ring + e->off + s->cur_off;
        iov[n].len = e->len - s->cur_off;
        n++;
    }
    if (n < max && s->ctrl_wr > s->ctrl_rd) {
        iov[n].base = s->ctrl + s->ctrl_rd;
        iov[n].len = s->ctrl_wr - s->ctrl_rd;
        n++;
    }
    bool drain = draining_qos0(s);
    if (!can_send_publishes(s) && !drain) {
        return n;
    }
    size_t budget = s->window > s->inflight ? s->window - s->inflight : 0;
    for (size_t k = 0; k < s->ent_count && n < max && s->plan_count < MQTLS__PLAN_MAX; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state != E_QUEUED || (drain && e->qos > 0)) {
            continue;
        }
        if (e->qos > 0) {
            if (budget == 0) {
                /* Receive Maximum reached [MQTT-4.9.0-2]; keep order: stop at this one. */
                break;
            }
            budget--;
        }
        if (s->broker_max_packet != 0 && e->len > s->broker_max_packet) {
            /* Queued before the broker told us its limit: it can never be sent. */
            uint16_t id = e->packet_id;
            entry_done(s, e);
            emit_error(s, MQTLS_ERR_TOO_LARGE_FOR_BROKER, id, "dropped from the outbox");
            continue;
        }
        iov[n].base = s->ring + e->off;
        iov[n].len = e->len;
        n++;
        s->plan[s->plan_count++] = k;
    }
    return n;
}

static void entry_written(mqtls__session_t *s, mqtls__entry_t *e)
{
    e->was_sent = true;
    if (e->qos == 0) {
        entry_done(s, e);
    } else {
        e->state = E_WAIT_ACK;
    }
}

void mqtls__session_out_consumed(mqtls__session_t *s, size_t n, int64_t now_ms)
{
    if (n == 0) {
        return;
    }
    s->last_tx_ms = now_ms;
    if (s->cur_entry >= 0) {
        mqtls__entry_t *e = entry_at(s, (size_t)s->cur_entry);
        size_t rest = e->len - s->cur_off;
        if (n < rest) {
            s->cur_off += n;
            return;
        }
        n -= rest;
        s->cur_entry = -1;
        s->cur_off = 0;
        entry_written(s, e);
    }
    size_t c = s->ctrl_wr - s->ctrl_rd;
    size_t k = n < c ? n : c;
    s->ctrl_rd += k;
    n -= k;
    if (s->ctrl_rd == s->ctrl_wr) {
        s->ctrl_rd = 0;
        s->ctrl_wr = 0;
    }
    for (size_t i = 0; i < s->plan_count && n > 0; i++) {
        mqtls__entry_t *e = entry_at(s, s->plan[i]);
        if (e->qos > 0) {
            s->inflight++;
        }
        if (n >= e->len) {
            n -= e->len;
            entry_written(s, e);
        } else {
            e->state = E_WRITING;
            s->cur_entry = (long)s->plan[i];
            s->cur_off = n;
            n = 0;
        }
    }
    s->plan_count = 0;
    outbox_reap(s);
    queue_disconnect_if_drained(s);
}

bool mqtls__session_has_output(const mqtls__session_t *s)
{
    if (s->state == MQTLS__S_IDLE) {
        return false;
    }
    if (s->cur_entry >= 0 || s->ctrl_wr > s->ctrl_rd) {
        return true;
    }
    if (draining_qos0(s)) {
        return qos0_queued(s);
    }
    if (!can_send_publishes(s)) {
        return false;
    }
    for (size_t k = 0; k < s->ent_count; k++) {
        const mqtls__entry_t *e = &s->entries[(s->ent_head + k) % s->ent_cap];
        if (e->state == E_QUEUED) {
            return e->qos == 0 || s->inflight < s->window;
        }
    }
    return false;
}

bool mqtls__session_wants_close(const mqtls__session_t *s)
{
    return s->state == MQTLS__S_DISCONNECTING && !s->disconnect_pending && s->cur_entry < 0 &&
           s->ctrl_wr == s->ctrl_rd;
}

mqtls_status_t mqtls__session_tick(mqtls__session_t *s, int64_t now_ms)
{
    if (s->state == MQTLS__S_CONNECTING) {
        if (s->cfg.connack_timeout_ms != 0 &&
            now_ms - s->connect_ms >= (int64_t)s->cfg.connack_timeout_ms) {
            return fail(s, MQTLS_ERR_CONNACK_TIMEOUT, NULL);
        }
        return MQTLS_OK;
    }
    if (s->state != MQTLS__S_CONNECTED || s->keepalive_ms == 0) {
        return MQTLS_OK;
    }
    uint32_t ping_timeout = s->cfg.ping_timeout_ms != 0 ? s->cfg.ping_timeout_ms : s->keepalive_ms;
    if (s->ping_sent_ms >= 0) {
        if (now_ms - s->ping_sent_ms >= (int64_t)ping_timeout) {
            return fail(s, MQTLS_ERR_KEEPALIVE_TIMEOUT, NULL);
        }
        return MQTLS_OK;
    }
    /* [MQTT-3.1.2-23]: a control packet at least every keepalive interval. */
    if (now_ms - s->last_tx_ms >= (int64_t)s->keepalive_ms) {
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PINGREQ;
        if (ctrl_put(s, &p) == MQTLS_OK) {
            s->ping_sent_ms = now_ms;
        }
    }
    return MQTLS_OK;
}

int64_t mqtls__session_next_deadline(const mqtls__session_t *s)
{
    if (s->state == MQTLS__S_CONNECTING) {
        return s->cfg.connack_timeout_ms != 0 ? s->connect_ms + s->cfg.connack_timeout_ms
                                              : INT64_MAX;
    }
    if (s->state != MQTLS__S_CONNECTED || s->keepalive_ms == 0) {
        return INT64_MAX;
    }
    if (s->ping_sent_ms >= 0) {
        uint32_t t = s->cfg.ping_timeout_ms != 0 ? s->cfg.ping_timeout_ms : s->keepalive_ms;
        return s->ping_sent_ms + t;
    }
    return s->last_tx_ms + s->keepalive_ms;
}

static mqtls_status_t check_publish(const mqtls__session_t *s, const mqtls_publish_t *pub)
{
    if (pub->qos > 2) {
        return MQTLS_ERR_BAD_QOS;
    }
    if (s->state == MQTLS__S_CONNECTED || s->state == MQTLS__S_DISCONNECTING) {
        if (pub->qos > s->broker_max_qos) {
            return MQTLS_ERR_QOS_NOT_SUPPORTED; /* [MQTT-3.2.2-11] */
        }
        if (pub->retain && !s->broker_retain) {
            return MQTLS_ERR_RETAIN_NOT_SUPPORTED; /* [MQTT-3.2.2-14] */
        }
    }
    return MQTLS_OK;
}

/* A packet of @p need bytes did not fit: record the capacity that would take it, doubling
 * (amortised growth) within the limits. Laid out again, the live entries take ring_used bytes
 * at most (wrap padding is dropped), so ring_used + need is enough. */
static void want_growth(mqtls__session_t *s, size_t need)
{
    size_t ent = s->ent_cap;
    if (s->ent_count >= s->ent_cap) {
        ent = min_size(s->cfg.max_messages, s->ent_cap * 2u);
        if (ent <= s->ent_cap) {
            return; /* the message count limit: no growth helps */
        }
    }
    size_t ring = s->ring_cap;
    if (!ring_has_room(s, need)) {
        size_t want = s->ring_used + need;
        if (want > s->cfg.max_bytes) {
            return; /* the byte limit */
        }
        ring = min_size(s->cfg.max_bytes, s->ring_cap * 2u > want ? s->ring_cap * 2u : want);
    }
    if (ent == s->ent_cap && ring == s->ring_cap) {
        return; /* at the byte limit, fragmented by the wrap: refused as before */
    }
    s->want_ent = ent;
    s->want_ring = ring;
}

bool mqtls__session_outbox_want(const mqtls__session_t *s, size_t *entries, size_t *ring_bytes)
{
    if (s == NULL || entries == NULL || ring_bytes == NULL || s->want_ent == 0) {
        return false;
    }
    *entries = s->want_ent;
    *ring_bytes = s->want_ring;
    return true;
}

mqtls_status_t mqtls__session_grow_outbox(mqtls__session_t *s, void *buf, size_t buf_len,
                                          size_t entries, size_t ring_bytes, void **old)
{
    if (s == NULL || buf == NULL || old == NULL || entries < s->ent_cap ||
        ring_bytes < s->ring_cap || entries > s->cfg.max_messages ||
        ring_bytes > s->cfg.max_bytes ||
        buf_len < mqtls__session_outbox_buf_size(entries, ring_bytes)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__entry_t *ne = (mqtls__entry_t *)buf;
    uint8_t *nr = (uint8_t *)buf + align8(entries * sizeof(mqtls__entry_t));
    /* Entries keep their place relative to the head (cur_entry and plan indexes stay valid);
     * their bytes are packed from offset 0, so no wrap padding survives. Completed entries
     * still waiting behind a live one are copied too: reaping needs their offsets. */
    size_t off = 0;
    for (size_t k = 0; k < s->ent_count; k++) {
        const mqtls__entry_t *e = entry_at(s, k);
        ne[k] = *e;
        memcpy(nr + off, s->ring + e->off, e->len);
        ne[k].off = (uint32_t)off;
        ne[k].span = e->len;
        off += e->len;
    }
    memset(ne + s->ent_count, 0, (entries - s->ent_count) * sizeof *ne);
    *old = s->outbox_buf;
    s->outbox_buf = buf;
    s->entries = ne;
    s->ent_cap = entries;
    s->ent_head = 0;
    s->ring = nr;
    s->ring_cap = ring_bytes;
    s->ring_rd = 0;
    s->ring_wr = off;
    s->ring_used = off;
    s->want_ent = 0;
    s->want_ring = 0;
    return MQTLS_OK;
}

mqtls_status_t mqtls__session_publish(mqtls__session_t *s, const mqtls_publish_t *pub,
                                      uint16_t *packet_id)
{
    if (s == NULL || pub == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_status_t st = check_publish(s, pub);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PUBLISH;
    p.u.publish = *pub;
    p.u.publish.dup = false;
    p.u.publish.packet_id = pub->qos > 0 ? 1u : 0u; /* placeholder for the size query */
    size_t need = 0;
    st = mqtls_packet_encoded_size(&p, s->cfg.version, &need);
    if (st != MQTLS_OK) {
        return st;
    }
    if (s->broker_max_packet != 0 && need > s->broker_max_packet) {
        return MQTLS_ERR_TOO_LARGE_FOR_BROKER; /* [MQTT-3.2.2-15] */
    }
    if (need > s->cfg.max_bytes) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    s->want_ent = 0;
    s->want_ring = 0;
    if (!outbox_has_room(s, need)) {
        want_growth(s, need);
        return MQTLS_ERR_OUTBOX_FULL;
    }
    uint16_t id = 0;
    if (pub->qos > 0) {
        st = alloc_id(s, &id);
        if (st != MQTLS_OK) {
            return st;
        }
        p.u.publish.packet_id = id;
    }
    size_t idx = 0;
    mqtls__entry_t *e = outbox_push(s, need, &idx);
    if (e == NULL) {
        if (id != 0) {
            bit_set(s->ids_out, id, false);
        }
        return MQTLS_ERR_OUTBOX_FULL;
    }
    size_t written = 0;
    st = mqtls_packet_encode(&p, s->cfg.version, s->ring + e->off, need, &written);
    if (st != MQTLS_OK || written != need) {
        /* Cannot happen after a successful size query; undo cleanly anyway. */
        if (id != 0) {
            bit_set(s->ids_out, id, false);
        }
        entry_done(s, e);
        outbox_reap(s);
        return st != MQTLS_OK ? st : MQTLS_ERR_MALFORMED;
    }
    e->packet_id = id;
    e->qos = pub->qos;
    if (packet_id != NULL) {
        *packet_id = id;
    }
    return MQTLS_OK;
}

/* Outbound topic alias (QoS 0 only: aliases die with the connection, QoS 0 never resends). */
static void apply_alias(mqtls__session_t *s, mqtls_publish_t *pub, mqtls_property_t *props,
                        size_t *np, bool *new_alias)
{
    *new_alias = false;
    if (s->alias_out_max == 0 || pub->topic.len > MQTLS__ALIAS_TOPIC_MAX ||
        pub->props.raw.len > 0) {
        return;
    }
    for (uint16_t i = 0; i < s->alias_out_used; i++) {
        mqtls__alias_t *a = &s->alias_out[i];
        if (a->len == pub->topic.len && memcmp(a->topic, pub->topic.data, a->len) == 0) {
            props[*np].id = MQTLS_PROP_TOPIC_ALIAS;
            props[(*np)++].v.u32 = (uint32_t)i + 1u;
            pub->topic.len = 0; /* the alias alone names the topic */
            return;
        }
    }
    if (s->alias_out_used < s->alias_out_max) {
        /* Committed by the caller only once the packet is really going out. */
        props[*np].id = MQTLS_PROP_TOPIC_ALIAS;
        props[(*np)++].v.u32 = (uint32_t)s->alias_out_used + 1u;
        *new_alias = true;
    }
}

mqtls_status_t mqtls__session_direct_begin(mqtls__session_t *s, const mqtls_publish_t *pub,
                                           uint8_t *hdr, size_t hdr_cap, size_t *hdr_len)
{
    if (pub->qos != 0 || s->state != MQTLS__S_CONNECTED || s->cur_entry >= 0 ||
        s->ctrl_wr != s->ctrl_rd || s->live_count != 0) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    mqtls_status_t st = check_publish(s, pub);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_publish_t p = *pub;
    mqtls_property_t props[MAX_USER_CONNECT_PROPS + 1u];
    size_t np = 0;
    bool new_alias = false;
    if (s->cfg.version == MQTLS_V5 && (pub->props.items == NULL || pub->props.count <
                                                                       MAX_USER_CONNECT_PROPS)) {
        for (size_t i = 0; pub->props.items != NULL && i < pub->props.count; i++) {
            props[np++] = pub->props.items[i];
        }
        mqtls_publish_t probe = p;
        apply_alias(s, &probe, props, &np, &new_alias);
        if (np > 0 && probe.props.raw.len == 0) {
            probe.props.items = props;
            probe.props.count = np;
        }
        p = probe;
    }
    mqtls_packet_t pk;
    memset(&pk, 0, sizeof pk);
    pk.type = MQTLS_PUBLISH;
    pk.u.publish = p;
    size_t total = 0;
    st = mqtls_packet_encoded_size(&pk, s->cfg.version, &total);
    if (st != MQTLS_OK) {
        return st;
    }
    if (s->broker_max_packet != 0 && total > s->broker_max_packet) {
        return MQTLS_ERR_TOO_LARGE_FOR_BROKER;
    }
    if (total > s->ring_cap || !outbox_has_room(s, total)) {
        return MQTLS_ERR_WOULD_BLOCK; /* the queued path reports the precise status */
    }
    st = mqtls_packet_encode_publish_header(&p, s->cfg.version, hdr, hdr_cap, hdr_len);
    if (st == MQTLS_OK && new_alias) {
        uint16_t i = s->alias_out_used++;
        memcpy(s->alias_out[i].topic, pub->topic.data, pub->topic.len);
        s->alias_out[i].len = (uint16_t)pub->topic.len;
    }
    return st;
}

void mqtls__session_direct_end(mqtls__session_t *s, const uint8_t *hdr, size_t hdr_len,
                               const uint8_t *payload, size_t payload_len, size_t sent,
                               int64_t now_ms)
{
    size_t total = hdr_len + payload_len;
    if (sent > 0) {
        s->last_tx_ms = now_ms;
    }
    if (sent >= total) {
        return;
    }
    /* Partial write: the rest must go out before anything else, so queue the whole packet
     * as the current entry, positioned after what was written. */
    size_t idx = 0;
    mqtls__entry_t *e = outbox_push(s, total, &idx);
    if (e == NULL) {
        return; /* checked by direct_begin(); unreachable */
    }
    memcpy(s->ring + e->off, hdr, hdr_len);
    if (payload_len > 0) {
        memcpy(s->ring + e->off + hdr_len, payload, payload_len);
    }
    e->qos = 0;
    e->state = E_WRITING;
    e->was_sent = true;
    s->cur_entry = (long)idx;
    s->cur_off = sent;
}

/* --- subscriptions ---------------------------------------------------------------------- */

static void subs_remove(mqtls__session_t *s, mqtls_bytes_t f)
{
    size_t off = 0;
    while (off + 3u <= s->subs_len) {
        size_t len = (size_t)s->subs[off] << 8 | s->subs[off + 1u];
        size_t rec = 3u + len;
        if (len == f.len && memcmp(s->subs + off + 2u, f.data, len) == 0) {
            memmove(s->subs + off, s->subs + off + rec, s->subs_len - off - rec);
            s->subs_len -= rec;
            return;
        }
        off += rec;
    }
}

static bool subs_add(mqtls__session_t *s, const mqtls_topic_filter_t *f)
{
    subs_remove(s, f->filter); /* a new SUBSCRIBE replaces the old one [MQTT-3.8.4-3] */
    size_t rec = 3u + f->filter.len;
    if (f->filter.len > 65535u || s->subs_len + rec > s->subs_cap) {
        return false;
    }
    uint8_t *p = s->subs + s->subs_len;
    p[0] = (uint8_t)(f->filter.len >> 8);
    p[1] = (uint8_t)(f->filter.len & 0xFFu);
    memcpy(p + 2, f->filter.data, f->filter.len);
    p[2u + f->filter.len] = f->options;
    s->subs_len += rec;
    return true;
}

static mqtls_status_t sub_common(mqtls__session_t *s, mqtls_packet_type_t type,
                                 const mqtls_topic_filter_t *f, size_t count,
                                 const mqtls_properties_t *props, uint16_t *packet_id)
{
    if (s == NULL || f == NULL || count == 0) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (s->state != MQTLS__S_CONNECTED) {
        return MQTLS_ERR_STATE;
    }
    uint16_t id = 0;
    mqtls_status_t st = alloc_id(s, &id);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.subscribe.packet_id = id;
    if (props != NULL && s->cfg.version == MQTLS_V5) {
        p.u.subscribe.props = *props;
    }
    p.u.subscribe.filters.items = f;
    p.u.subscribe.filters.count = count;
    st = ctrl_put(s, &p);
    if (st != MQTLS_OK) {
        bit_set(s->ids_out, id, false);
        return st;
    }
    for (size_t i = 0; i < count; i++) {
        if (type == MQTLS_SUBSCRIBE) {
            if (!subs_add(s, &f[i])) {
                emit_error(s, MQTLS_ERR_OUTBOX_FULL, id,
                           "subscription store full: not resubscribed after reconnect");
            }
        } else {
            subs_remove(s, f[i].filter);
        }
    }
    if (packet_id != NULL) {
        *packet_id = id;
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__session_subscribe(mqtls__session_t *s, const mqtls_topic_filter_t *f,
                                        size_t count, const mqtls_properties_t *props,
                                        uint16_t *packet_id)
{
    return sub_common(s, MQTLS_SUBSCRIBE, f, count, props, packet_id);
}

mqtls_status_t mqtls__session_unsubscribe(mqtls__session_t *s, const mqtls_topic_filter_t *f,
                                          size_t count, uint16_t *packet_id)
{
    return sub_common(s, MQTLS_UNSUBSCRIBE, f, count, NULL, packet_id);
}

mqtls_status_t mqtls__session_disconnect(mqtls__session_t *s, uint8_t reason)
{
    mqtls_status_t st = session_transition(s, MQTLS__EV_USER_DISCONNECT);
    if (st != MQTLS_OK) {
        return st;
    }
    s->disconnect_pending = true;
    s->disconnect_reason = reason;
    queue_disconnect_if_drained(s);
    return MQTLS_OK;
}

size_t mqtls__session_outbox_count(const mqtls__session_t *s)
{
    return s->live_count;
}

size_t mqtls__session_outbox_bytes(const mqtls__session_t *s)
{
    return s->ring_used;
}

uint32_t mqtls__backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rand32)
{
    if (max_ms < min_ms) {
        max_ms = min_ms;
    }
    uint64_t cap = min_ms;
    for (uint32_t i = 0; i < attempt && cap < max_ms; i++) {
        cap *= 2u;
    }
    if (cap > max_ms) {
        cap = max_ms;
    }
    /* Full jitter (uniform in [0, cap]) spreads reconnect storms after a broker restart. */
    return (uint32_t)((uint64_t)rand32 % (cap + 1u));
}
