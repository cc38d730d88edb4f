/* Connection and session lifecycle: CONNECT, CONNACK, closing, resuming the outbox after a
 * reconnect, the subscription store and resubscribe, DISCONNECT. Sans I/O. */
#include "client/session_internal.h"

#include <string.h>

/* --- connection lifecycle --------------------------------------------------------------- */

mqtls_status_t mqtls__session_on_transport_up(mqtls__session_t *s, int64_t now_ms)
{
    mqtls_status_t st = mqtls__session_transition(s, MQTLS__EV_TRANSPORT_UP);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_property_t props[6u + MAX_USER_CONNECT_PROPS];
    size_t np = 0;
    if (s->cfg.version == MQTLS_V5) {
        size_t na = 0;
        st = mqtls__session_auth_start(s, props, &na); /* method and data come first */
        if (st != MQTLS_OK) {
            (void)mqtls__session_transition(s, MQTLS__EV_CLOSED);
            return st;
        }
        np = na;
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
    /* CONNECT must be the first packet [MQTT-3.1.0-1]: the control buffer is empty here (and
     * the arena's again; CONNECT always fits it). */
    s->ctrl_rd = 0;
    s->ctrl_wr = 0;
    s->ctrl_stalled = false;
    s->ping_owed = false;
    mqtls__session_ctrl_settle(s);
    st = mqtls__session_ctrl_put(s, &p);
    if (st != MQTLS_OK) {
        mqtls__session_set_err(s, st, "cannot encode CONNECT");
        (void)mqtls__session_transition(s, MQTLS__EV_CLOSED);
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
    (void)mqtls__session_transition(s, MQTLS__EV_CLOSED);
    s->disconnect_pending = false;
    s->auth_busy = false;
    s->ctrl_rd = 0;
    s->ctrl_wr = 0;
    s->ctrl_stalled = false;
    s->ping_owed = false;
    mqtls__session_ctrl_settle(s); /* a grown control buffer goes back */
    s->cur_entry = -1;
    s->cur_off = 0;
    s->plan_lo = 0;
    s->plan_hi = 0;
    s->inflight = 0;
    s->release_due = 0;
    s->input_stalled = false;
    s->ping_sent_ms = -1;
    s->alias_out_used = 0;
    s->alias_out_max = 0;
    for (uint16_t i = 0; i < s->cfg.outbound_aliases; i++) {
        s->alias_out[i].len = 0;
    }
    for (uint16_t i = 0; i < s->cfg.topic_alias_maximum; i++) {
        s->alias_in[i].len = 0; /* aliases live for one network connection [MQTT-3.3.2-7] */
    }
    /* Packet ids of SUBSCRIBE/UNSUBSCRIBE die with the connection; PUBLISH ids stay (a subset
     * of what the set held: they fit whether it has its bitmap or not). */
    s->ids_stalled = false;
    mqtls__idset_clear(&s->ids_out);
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state == E_DONE || e->state == E_FREE) {
            continue;
        }
        if (e->qos == 0) {
            mqtls__outbox_entry_done(s, e); /* at most once: dropped with the connection */
            continue;
        }
        (void)mqtls__idset_add(&s->ids_out, e->packet_id);
        if (e->state == E_WRITING || e->state == E_WAIT_ACK) {
            e->state = E_QUEUED; /* resent on the next connection */
        } else if (e->state == E_RELEASE) {
            e->state = E_WAIT_COMP; /* its PUBREL is owed again at the next resume */
        }
    }
    mqtls__outbox_reap(s);
    mqtls__session_ids_shrink(s);
}

/* After CONNACK: resend what the session still owes [MQTT-4.4.0-1]. */
static void resume_outbox(mqtls__session_t *s)
{
    s->qos2_republished = 0;
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state == E_WAIT_COMP) {
            if (s->session_present) {
                e->state = E_RELEASE; /* out_iov() queues its PUBREL when there is room */
                s->release_due++;
                s->inflight++;
            } else {
                /* The broker lost its session, and with it the message it was holding until
                 * our PUBREL (brokers that release on PUBREL never routed it): publish it
                 * again as a new message. At-least-once beats silent loss here. */
                e->state = E_QUEUED;
                uint8_t *b = mqtls__outbox_bytes(s, e);
                b[0] = (uint8_t)(b[0] & ~0x08u);
                s->qos2_republished++;
                (void)mqtls__session_persist_id(s, MQTLS__P_PUB_REQUEUED, e->packet_id, 2);
            }
        } else if (e->state == E_QUEUED && e->was_sent) {
            uint8_t *b = mqtls__outbox_bytes(s, e);
            if (s->session_present) {
                b[0] = (uint8_t)(b[0] | 0x08u); /* DUP on redelivery [MQTT-3.3.1-1] */
            } else {
                b[0] = (uint8_t)(b[0] & ~0x08u); /* new session: a first delivery again */
            }
        }
    }
    mqtls__outbox_reap(s);
}

/* One SUBSCRIBE of the resubscribe; @p bytes: its size is added, and nothing is sent. */
static void send_subscribe(mqtls__session_t *s, const mqtls_topic_filter_t *items, size_t n,
                           size_t *bytes)
{
    if (bytes != NULL) {
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_SUBSCRIBE;
        p.u.subscribe.packet_id = 1; /* any id: two bytes */
        p.u.subscribe.filters.items = items;
        p.u.subscribe.filters.count = n;
        size_t need = 0;
        if (mqtls_packet_encoded_size(&p, s->cfg.version, &need) == MQTLS_OK) {
            *bytes += need;
        }
        return;
    }
    uint16_t id = 0;
    if (mqtls__session_alloc_id(s, &id) != MQTLS_OK) {
        mqtls__session_emit_error(s, MQTLS_ERR_NO_PACKET_ID, 0, "cannot resubscribe");
        return;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_SUBSCRIBE;
    p.u.subscribe.packet_id = id;
    p.u.subscribe.filters.items = items;
    p.u.subscribe.filters.count = n;
    if (mqtls__session_ctrl_put(s, &p) != MQTLS_OK) {
        mqtls__session_free_id(s, id);
        mqtls__session_emit_error(s, MQTLS_ERR_OUTBOX_FULL, id, "cannot queue the resubscribe");
    }
}

#define RESUBSCRIBE_BATCH 64u

/* The broker forgot us (session not present): subscribe again to everything remembered, in
 * SUBSCRIBE packets of up to RESUBSCRIBE_BATCH filters. With @p bytes, only count their size
 * there (the room on_bytes() makes sure of before the CONNACK). */
static void resubscribe(mqtls__session_t *s, size_t *bytes)
{
    mqtls_topic_filter_t items[RESUBSCRIBE_BATCH];
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
            send_subscribe(s, items, n, bytes);
            n = 0;
        }
    }
    if (n > 0) {
        send_subscribe(s, items, n, bytes);
    }
}

/* Will taking CONNACK @p ca subscribe again to what the store remembers? */
static bool connack_resubscribes(const mqtls__session_t *s, const mqtls_connack_t *ca)
{
    return s->state == MQTLS__S_CONNECTING && ca->reason == 0 &&
           !(ca->session_present && !s->cfg.clean_start) && s->subs_len > 0;
}

bool mqtls__session_connack_wants_ctrl(mqtls__session_t *s, const mqtls_connack_t *ca)
{
    if (!connack_resubscribes(s, ca)) {
        return false;
    }
    size_t bytes = 0;
    resubscribe(s, &bytes);
    /* Each SUBSCRIBE leaves the acknowledgement reserve free: the last one too (in the buffer
     * as it is, the reserve's part in the arena; within the limit, all of it). Beyond the
     * limit the buffer grows to it, and the resubscribe goes as far as it fits, as when the
     * buffer was fixed at that size. */
    size_t total = (s->ctrl_wr - s->ctrl_rd) + bytes + s->ack_keep;
    if (total <= s->ctrl_cap || s->ctrl_cap >= s->ctrl_limit) {
        return false;
    }
    size_t want = mqtls__grow_to(s->ctrl_cap, total, s->ctrl_limit);
    s->ctrl_want = want > s->ctrl_want ? want : s->ctrl_want;
    return true;
}

bool mqtls__session_connack_wants_ids(mqtls__session_t *s, const mqtls_connack_t *ca)
{
    if (!connack_resubscribes(s, ca) || s->ids_out.map != NULL) {
        return false; /* no resubscribe, or any number of ids fits */
    }
    size_t filters = 0;
    for (size_t off = 0; off + 3u <= s->subs_len;) {
        off += 3u + ((size_t)s->subs[off] << 8 | s->subs[off + 1u]);
        filters++;
    }
    size_t packets = (filters + RESUBSCRIBE_BATCH - 1u) / RESUBSCRIBE_BATCH;
    if (s->ids_out.count + packets <= MQTLS__IDSET_SMALL) {
        return false;
    }
    s->ids_out.wants_map = true;
    return true;
}

mqtls_status_t mqtls__session_on_connack(mqtls__session_t *s, const mqtls_connack_t *ca)
{
    if (s->state != MQTLS__S_CONNECTING) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "CONNACK received twice");
    }
    if (ca->reason != 0) {
        mqtls__session_set_err(s, MQTLS_ERR_CONNACK_REFUSED, NULL);
        s->err.connack_reason = ca->reason;
        const char *name = s->cfg.version == MQTLS_V5 ? mqtls_reason_name(MQTLS_CONNACK, ca->reason)
                                                      : mqtls_connack_v3_name(ca->reason);
        mqtls__session_detail_reason(s, name, &ca->props);
        return MQTLS_ERR_CONNACK_REFUSED;
    }
    mqtls_status_t st = mqtls__session_auth_connack(s, ca);
    if (st != MQTLS_OK) {
        return st; /* the broker accepted us, but we do not accept the broker */
    }
    mqtls_property_t pr;
    s->window = mqtls__session_window_default(&s->cfg);
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
        mqtls__idset_clear(&s->ids_in_qos2);
        mqtls__session_ids_shrink(s);
        (void)mqtls__session_persist_id(s, MQTLS__P_IN_CLEARED, 0, 0);
    }
    st = mqtls__session_transition(s, MQTLS__EV_CONNACK_OK);
    if (st != MQTLS_OK) {
        return mqtls__session_fail(s, st, "bad state at CONNACK");
    }
    resume_outbox(s);
    if (!s->session_present) {
        resubscribe(s, NULL);
    }
    mqtls_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_CONNECTED;
    ev.u.connected.session_present = ca->session_present;
    ev.u.connected.props = ca->props;
    mqtls__session_emit(s, &ev);
    return MQTLS_OK;
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

/* Is filter @p f remembered? */
static bool subs_has(const mqtls__session_t *s, mqtls_bytes_t f)
{
    size_t off = 0;
    while (off + 3u <= s->subs_len) {
        size_t len = (size_t)s->subs[off] << 8 | s->subs[off + 1u];
        if (len == f.len && memcmp(s->subs + off + 2u, f.data, len) == 0) {
            return true;
        }
        off += 3u + len;
    }
    return false;
}

/* Before a SUBSCRIBE of @p f is queued: would the store, as it is, fail to remember them all?
 * (A filter already remembered, or twice in @p f, is replaced by a record of the same size.)
 * Then it wants to grow -- at most to subs_limit, where what does not fit is reported as
 * before: the store then behaves as when it was fixed at that size. */
static bool subs_want_growth(mqtls__session_t *s, const mqtls_topic_filter_t *f, size_t count)
{
    if (s->subs_cap >= s->subs_limit) {
        return false;
    }
    size_t after = s->subs_len;
    for (size_t i = 0; i < count; i++) {
        /* one that could never be remembered does not make the store grow */
        bool seen = f[i].filter.len > 65535u || 3u + f[i].filter.len > s->subs_limit ||
                    subs_has(s, f[i].filter);
        for (size_t j = 0; j < i && !seen; j++) {
            seen = f[j].filter.len == f[i].filter.len &&
                   memcmp(f[j].filter.data, f[i].filter.data, f[i].filter.len) == 0;
        }
        after += seen ? 0u : 3u + f[i].filter.len;
    }
    if (after <= s->subs_cap) {
        return false;
    }
    s->subs_want = mqtls__grow_to(s->subs_cap, after, s->subs_limit);
    return true;
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
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.subscribe.packet_id = 1; /* placeholder for the size query */
    if (props != NULL && s->cfg.version == MQTLS_V5) {
        p.u.subscribe.props = *props;
    }
    p.u.subscribe.filters.items = f;
    p.u.subscribe.filters.count = count;
    /* What the caller must give first (a bigger control buffer, store, id bitmap) is asked
     * for all at once, so that one retry is enough. A packet too large even for the largest
     * control buffer goes on to be refused below, as ever (nothing asked). */
    size_t need = 0;
    if (mqtls_packet_encoded_size(&p, s->cfg.version, &need) == MQTLS_OK) {
        mqtls__room_t room = mqtls__session_ctrl_room(s, need, s->ack_reserve);
        bool more = room == MQTLS__ROOM_WANTED;
        if (room != MQTLS__ROOM_NEVER && type == MQTLS_SUBSCRIBE) {
            more = subs_want_growth(s, f, count) || more;
        }
        if (more) {
            if (!mqtls__idset_can_add(&s->ids_out)) {
                s->ids_out.wants_map = true;
            }
            return MQTLS_ERR_OUTBOX_FULL;
        }
    }
    uint16_t id = 0;
    mqtls_status_t st = mqtls__session_alloc_id(s, &id);
    if (st != MQTLS_OK) {
        return st;
    }
    p.u.subscribe.packet_id = id;
    st = mqtls__session_ctrl_put(s, &p);
    if (st != MQTLS_OK) {
        mqtls__session_free_id(s, id);
        return st;
    }
    for (size_t i = 0; i < count; i++) {
        if (type == MQTLS_SUBSCRIBE) {
            if (!subs_add(s, &f[i])) {
                mqtls__session_emit_error(
                    s, MQTLS_ERR_OUTBOX_FULL, id,
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

void mqtls__session_set_client_id(mqtls__session_t *s, mqtls_bytes_t id)
{
    s->cfg.client_id = id;
}

mqtls_status_t mqtls__session_disconnect(mqtls__session_t *s, uint8_t reason)
{
    mqtls_status_t st = mqtls__session_transition(s, MQTLS__EV_USER_DISCONNECT);
    if (st != MQTLS_OK) {
        return st;
    }
    s->disconnect_pending = true;
    s->disconnect_reason = reason;
    mqtls__session_queue_disconnect(s);
    return MQTLS_OK;
}
