/* Outbound: what to write next (iovecs over the outbox and the control buffer, the
 * Receive Maximum window), what was written, publish into the outbox, and the QoS 0
 * zero-copy path with outbound topic aliases. Sans I/O. */
#include "client/session_internal.h"

#include <string.h>

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
        const mqtls__entry_t *e = entry_at(s, k);
        if (e->qos == 0 && (e->state == E_QUEUED || e->state == E_WRITING)) {
            return true;
        }
    }
    return false;
}

void mqtls__session_queue_disconnect(mqtls__session_t *s)
{
    if (!draining_qos0(s) || s->cur_entry >= 0 || qos0_queued(s)) {
        return;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_DISCONNECT;
    p.u.disconnect.reason = s->cfg.version == MQTLS_V5 ? s->disconnect_reason : 0;
    /* No room yet (acknowledgements fill the control buffer): stay pending, this is called
     * again as output is written. Closing without DISCONNECT would publish the will. */
    if (mqtls__session_ctrl_put(s, &p) == MQTLS_OK) {
        s->disconnect_pending = false;
    }
}

/* After a resume, PUBRELs owed for QoS 2 messages the broker holds go out as the control
 * buffer has room (keeping the acknowledgement reserve), oldest first. */
static void release_due(mqtls__session_t *s)
{
    for (size_t k = 0; k < s->ent_count && s->release_due > 0; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->state != E_RELEASE) {
            continue;
        }
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PUBREL;
        p.u.ack.packet_id = e->packet_id;
        if (mqtls__session_ctrl_put(s, &p) != MQTLS_OK) {
            return;
        }
        e->state = E_WAIT_COMP;
        s->release_due--;
    }
}

/* The PINGREQ tick() timed found no room then: it goes once the bytes before it are out
 * (still awaited, while nothing else from the broker came in: any packet answers it). */
static void queue_owed_ping(mqtls__session_t *s)
{
    if (s->state != MQTLS__S_CONNECTED || s->ping_sent_ms < 0) {
        s->ping_owed = false;
        return;
    }
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PINGREQ;
    if (mqtls__session_ctrl_put(s, &p) == MQTLS_OK) {
        s->ping_owed = false;
    }
}

/* Corked: are queued publishes worth a full batch yet? */
static bool cork_full(const mqtls__session_t *s)
{
    size_t bytes = 0;
    for (size_t k = 0; k < s->ent_count; k++) {
        const mqtls__entry_t *e = entry_at(s, k);
        if (e->state == E_QUEUED) {
            bytes += e->len;
            if (bytes >= MQTLS__OUT_BATCH_BYTES) {
                return true;
            }
        }
    }
    return false;
}

/* Publishes may go out in this batch (connected, or draining QoS 0; not held by the cork). */
static bool publishes_go(const mqtls__session_t *s, bool drain)
{
    if (drain) {
        return true; /* the cork never holds back the last QoS 0 before a DISCONNECT */
    }
    return can_send_publishes(s) && (!s->corked || cork_full(s));
}

/* Append @p len bytes at @p base, merged into the last iovec when they follow it in memory
 * (consecutive packets of one ring): one element per run, however many packets. */
static size_t iov_put(mqtls_iovec_t *iov, size_t n, const uint8_t *base, size_t len)
{
    if (n > 0 && (const uint8_t *)iov[n - 1u].base + iov[n - 1u].len == base) {
        iov[n - 1u].len += len;
        return n;
    }
    iov[n].base = base;
    iov[n].len = len;
    return n + 1u;
}

size_t mqtls__session_out_iov(mqtls__session_t *s, mqtls_iovec_t *iov, size_t max)
{
    size_t n = 0;
    s->plan_lo = 0;
    s->plan_hi = 0;
    if (s->state == MQTLS__S_IDLE || max == 0) {
        return 0;
    }
    if (s->release_due > 0 && can_send_publishes(s)) {
        release_due(s); /* PUBRELs are control packets: the cork never holds them */
    }
    if (s->ping_owed) {
        queue_owed_ping(s);
    }
    size_t bytes = 0;
    if (s->cur_entry >= 0) {
        mqtls__entry_t *e = entry_at(s, (size_t)s->cur_entry);
        n = iov_put(iov, n, mqtls__outbox_bytes(s, e) + s->cur_off, e->len - s->cur_off);
        bytes += e->len - s->cur_off;
    }
    if (n < max && s->ctrl_wr > s->ctrl_rd) {
        n = iov_put(iov, n, s->ctrl + s->ctrl_rd, s->ctrl_wr - s->ctrl_rd);
        bytes += s->ctrl_wr - s->ctrl_rd;
    }
    bool drain = draining_qos0(s);
    if (!publishes_go(s, drain)) {
        return n;
    }
    s->plan_drain = drain;
    size_t budget = s->window > s->inflight ? s->window - s->inflight : 0;
    size_t k = 0;
    for (; k < s->ent_count && bytes < MQTLS__OUT_BATCH_BYTES; k++) {
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
            mqtls__outbox_entry_done(s, e);
            mqtls__session_emit_error(s, MQTLS_ERR_TOO_LARGE_FOR_BROKER, id,
                                      "dropped from the outbox");
            continue;
        }
        const uint8_t *base = mqtls__outbox_bytes(s, e);
        bool merges = n > 0 && (const uint8_t *)iov[n - 1u].base + iov[n - 1u].len == base;
        if (!merges && n == max) {
            break; /* no iovec left for it: the next batch */
        }
        n = iov_put(iov, n, base, e->len);
        bytes += e->len;
        if (s->plan_hi == 0) {
            s->plan_lo = k;
        }
        s->plan_hi = k + 1u;
    }
    return n;
}

/* --- the packet trace (cfg.on_trace): a packet is reported when its first byte is written */

static void trace_packet(mqtls__session_t *s, const uint8_t *bytes, size_t len)
{
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    mqtls_packet_t p;
    size_t used = 0;
    /* Our own encoding: it decodes (the codec's round-trip tests and fuzzers hold it). */
    if (mqtls_packet_decode(bytes, len, &cc, &p, &used) != MQTLS_OK) {
        return;
    }
    if (p.type == MQTLS_CONNECT) {
        p.u.connect.password.data = NULL; /* never handed out, not even to a trace */
        p.u.connect.password.len = 0;
    }
    s->cfg.on_trace(s->cfg.event_ctx, true, &p);
}

/* Report the control packets that start before @p upto (the new ctrl_rd). */
static void trace_ctrl(mqtls__session_t *s, size_t upto)
{
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    while (s->ctrl_traced < upto) {
        size_t total = 0;
        if (mqtls_packet_frame(s->ctrl + s->ctrl_traced, s->ctrl_wr - s->ctrl_traced, &cc,
                               &total) != MQTLS_OK ||
            total > s->ctrl_wr - s->ctrl_traced) {
            s->ctrl_traced = s->ctrl_wr; /* cannot happen: whole packets are queued */
            return;
        }
        trace_packet(s, s->ctrl + s->ctrl_traced, total);
        s->ctrl_traced += total;
    }
}

static void trace_entry(mqtls__session_t *s, const mqtls__entry_t *e)
{
    if (s->cfg.on_trace != NULL) {
        trace_packet(s, mqtls__outbox_bytes(s, e), e->len);
    }
}

static void entry_written(mqtls__session_t *s, mqtls__entry_t *e)
{
    if (!e->was_sent && e->qos > 0) {
        (void)mqtls__session_persist_id(s, MQTLS__P_PUB_SENT, e->packet_id, e->qos);
    }
    e->was_sent = true;
    if (e->qos == 0) {
        mqtls__outbox_entry_done(s, e);
    } else {
        e->state = E_WAIT_ACK;
    }
}

void mqtls__session_out_consumed(mqtls__session_t *s, size_t n, int64_t now_ms)
{
    if (n == 0) {
        s->plan_hi = 0;
        return;
    }
    s->last_tx_ms = now_ms;
    if (s->cur_entry >= 0) {
        mqtls__entry_t *e = entry_at(s, (size_t)s->cur_entry);
        size_t rest = e->len - s->cur_off;
        if (n < rest) {
            s->cur_off += n;
            s->plan_hi = 0;
            return;
        }
        n -= rest;
        s->cur_entry = -1;
        s->cur_off = 0;
        entry_written(s, e);
    }
    size_t c = s->ctrl_wr - s->ctrl_rd;
    size_t k = n < c ? n : c;
    if (s->cfg.on_trace != NULL && k > 0) {
        trace_ctrl(s, s->ctrl_rd + k);
    }
    s->ctrl_rd += k;
    n -= k;
    if (k > 0) {
        mqtls__session_ctrl_settle(s); /* empty: a grown buffer goes back */
    }
    /* The planned entries, in the order out_iov() gave them: the E_QUEUED ones of the range
     * (QoS 0 only when draining). Nothing changed them in between (same lock; the trace
     * callback only reads). Each is traced when its first byte goes (the loop runs while
     * n > 0); one continued as cur_entry was traced then. */
    for (size_t i = s->plan_lo; i < s->plan_hi && n > 0; i++) {
        mqtls__entry_t *e = entry_at(s, i);
        if (e->state != E_QUEUED || (s->plan_drain && e->qos > 0)) {
            continue;
        }
        trace_entry(s, e);
        if (e->qos > 0) {
            s->inflight++;
        }
        if (n >= e->len) {
            n -= e->len;
            entry_written(s, e);
        } else {
            e->state = E_WRITING;
            s->cur_entry = (long)i;
            s->cur_off = n;
            n = 0;
        }
    }
    s->plan_lo = 0;
    s->plan_hi = 0;
    mqtls__outbox_reap(s);
    mqtls__session_queue_disconnect(s);
}

bool mqtls__session_has_output(const mqtls__session_t *s)
{
    if (s->state == MQTLS__S_IDLE) {
        return false;
    }
    if (s->cur_entry >= 0 || s->ctrl_wr > s->ctrl_rd) {
        return true;
    }
    if (s->release_due > 0 && can_send_publishes(s)) {
        return true;
    }
    if (draining_qos0(s)) {
        return qos0_queued(s);
    }
    if (!publishes_go(s, false)) {
        return false;
    }
    for (size_t k = 0; k < s->ent_count; k++) {
        const mqtls__entry_t *e = entry_at(s, k);
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

/* What both publish paths check and take before the packet goes into the outbox: the
 * broker's and our size limits, room in the outbox and, for QoS 1/2, a packet id. When the
 * outbox or the id set needs the caller (MQTLS_ERR_OUTBOX_FULL), both say so at once
 * (outbox_want(), ids_want()), so that one retry after the caller gave them is enough.
 * @return MQTLS_OK with the entry (E_QUEUED, @p need bytes) in @p entry and the id (0 for
 * QoS 0) in @p id; a status: nothing taken. */
static mqtls_status_t reserve_publish(mqtls__session_t *s, size_t need, uint8_t qos, uint16_t *id,
                                      mqtls__entry_t **entry)
{
    if (s->broker_max_packet != 0 && need > s->broker_max_packet) {
        return MQTLS_ERR_TOO_LARGE_FOR_BROKER; /* [MQTT-3.2.2-15] */
    }
    if (need > s->cfg.max_bytes) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    s->want_ent = 0;
    s->want_ring = 0;
    bool room = mqtls__outbox_has_room(s, need);
    if (!room) {
        mqtls__outbox_want_growth(s, need);
    }
    if (qos > 0 && !mqtls__idset_can_add(&s->ids_out) && (room || s->want_ent != 0)) {
        s->ids_out.wants_map = true; /* more than MQTLS__IDSET_SMALL ids in use */
        return MQTLS_ERR_OUTBOX_FULL;
    }
    if (!room) {
        return MQTLS_ERR_OUTBOX_FULL;
    }
    *id = 0;
    if (qos > 0) {
        mqtls_status_t st = mqtls__session_alloc_id(s, id);
        if (st != MQTLS_OK) {
            return st;
        }
    }
    size_t idx = 0;
    *entry = mqtls__outbox_push(s, need, &idx);
    if (*entry == NULL) {
        if (*id != 0) {
            mqtls__session_free_id(s, *id);
        }
        return MQTLS_ERR_OUTBOX_FULL;
    }
    return MQTLS_OK;
}

/* Undo reserve_publish(): the packet was not taken after all. */
static void unreserve_publish(mqtls__session_t *s, mqtls__entry_t *e, uint16_t id)
{
    if (id != 0) {
        mqtls__session_free_id(s, id);
    }
    mqtls__outbox_entry_done(s, e); /* e->qos is still 0: the id is not freed twice */
    mqtls__outbox_reap(s);
}

/* The packet's @p len bytes are in @p e: hand it over once the store has it (QoS 1/2,
 * docs/reliability.md); a store failure refuses the publish. */
static mqtls_status_t commit_publish(mqtls__session_t *s, mqtls__entry_t *e, uint16_t id,
                                     uint8_t qos, size_t len, uint16_t *packet_id)
{
    if (qos > 0) {
        mqtls_bytes_t bytes = {mqtls__outbox_bytes(s, e), len};
        mqtls_status_t st = mqtls__session_persist(s, MQTLS__P_PUB_ADDED, id, qos, bytes, NULL);
        if (st != MQTLS_OK) {
            unreserve_publish(s, e, id);
            return st;
        }
    }
    e->packet_id = id;
    e->qos = qos;
    if (packet_id != NULL) {
        *packet_id = id;
    }
    return MQTLS_OK;
}

/* The general path: the whole packet encoded in place (a header too large for the stack). */
static mqtls_status_t publish_encoded(mqtls__session_t *s, const mqtls_publish_t *pub,
                                      uint16_t *packet_id)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_PUBLISH;
    p.u.publish = *pub;
    p.u.publish.dup = false;
    p.u.publish.packet_id = pub->qos > 0 ? 1u : 0u; /* placeholder for the size query */
    size_t need = 0;
    mqtls_status_t st = mqtls_packet_encoded_size(&p, s->cfg.version, &need);
    if (st != MQTLS_OK) {
        return st;
    }
    uint16_t id = 0;
    mqtls__entry_t *e = NULL;
    st = reserve_publish(s, need, pub->qos, &id, &e);
    if (st != MQTLS_OK) {
        return st;
    }
    if (pub->qos > 0) {
        p.u.publish.packet_id = id;
    }
    size_t written = 0;
    st = mqtls_packet_encode(&p, s->cfg.version, mqtls__outbox_bytes(s, e), need, &written);
    if (st != MQTLS_OK || written != need) {
        /* Cannot happen after a successful size query: undo cleanly. */
        unreserve_publish(s, e, id);
        return st != MQTLS_OK ? st : MQTLS_ERR_MALFORMED;
    }
    return commit_publish(s, e, id, pub->qos, need, packet_id);
}

#define PUBLISH_HDR_STACK 512u

/* Where the packet id sits in an encoded PUBLISH header: after the fixed header (type byte +
 * Remaining Length varint) and the topic (2-byte length + bytes) [MQTT-3.3.2]. */
static size_t publish_id_offset(const uint8_t *hdr, size_t topic_len)
{
    size_t v = 1;
    while (v < 5u && (hdr[v] & 0x80u) != 0) {
        v++;
    }
    return 1u + v + 2u + topic_len;
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
    /* Header once (validated once) on the stack, then header + payload into the outbox: the
     * payload is copied once, not encoded through the general path. */
    mqtls_publish_t p = *pub;
    p.dup = false;
    p.packet_id = pub->qos > 0 ? 1u : 0u; /* placeholder: the size does not depend on it */
    uint8_t hdr[PUBLISH_HDR_STACK];
    size_t hlen = 0;
    st = mqtls_packet_encode_publish_header(&p, s->cfg.version, hdr, sizeof hdr, &hlen);
    if (st == MQTLS_ERR_BUFFER_TOO_SMALL) {
        return publish_encoded(s, pub, packet_id);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    size_t need = hlen + pub->payload.len;
    uint16_t id = 0;
    mqtls__entry_t *e = NULL;
    st = reserve_publish(s, need, pub->qos, &id, &e);
    if (st != MQTLS_OK) {
        return st;
    }
    if (pub->qos > 0) {
        size_t at = publish_id_offset(hdr, pub->topic.len);
        hdr[at] = (uint8_t)(id >> 8);
        hdr[at + 1u] = (uint8_t)(id & 0xFFu);
    }
    uint8_t *b = mqtls__outbox_bytes(s, e);
    memcpy(b, hdr, hlen);
    if (pub->payload.len > 0) {
        memcpy(b + hlen, pub->payload.data, pub->payload.len);
    }
    return commit_publish(s, e, id, pub->qos, need, packet_id);
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
    if (pub->qos != 0 || s->corked || s->state != MQTLS__S_CONNECTED || s->cur_entry >= 0 ||
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
    if (s->cfg.version == MQTLS_V5 &&
        (pub->props.items == NULL || pub->props.count < MAX_USER_CONNECT_PROPS)) {
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
    if (total > s->ring_cap || !mqtls__outbox_has_room(s, total)) {
        return MQTLS_ERR_WOULD_BLOCK; /* the queued path reports the precise status */
    }
    st = mqtls_packet_encode_publish_header(&p, s->cfg.version, hdr, hdr_cap, hdr_len);
    if (st == MQTLS_OK && new_alias) {
        uint16_t i = s->alias_out_used++;
        memcpy(s->alias_out[i].topic, pub->topic.data, pub->topic.len);
        s->alias_out[i].len = (uint16_t)pub->topic.len;
    }
    if (st == MQTLS_OK && s->cfg.on_trace != NULL) {
        s->cfg.on_trace(s->cfg.event_ctx, true, &pk); /* the caller writes it now */
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
    mqtls__entry_t *e = mqtls__outbox_push(s, total, &idx);
    if (e == NULL) {
        return; /* checked by direct_begin(); unreachable */
    }
    uint8_t *b = mqtls__outbox_bytes(s, e);
    memcpy(b, hdr, hdr_len);
    if (payload_len > 0) {
        memcpy(b + hdr_len, payload, payload_len);
    }
    e->qos = 0;
    e->state = E_WRITING;
    e->was_sent = true;
    s->cur_entry = (long)idx;
    s->cur_off = sent;
}

void mqtls__session_set_cork(mqtls__session_t *s, bool corked)
{
    s->corked = corked;
}
