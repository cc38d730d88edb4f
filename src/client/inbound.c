/* Inbound packets: framing and decoding received bytes, PUBLISH (topic aliases, QoS 2
 * exactly-once), the acknowledgement flows and the dispatch by packet type. Sans I/O. */
#include "client/session_internal.h"

#include <string.h>

static mqtls_status_t on_publish(mqtls__session_t *s, const mqtls_publish_t *pub)
{
    mqtls_bytes_t topic = pub->topic;
    if (s->cfg.version == MQTLS_V5) {
        mqtls_property_t pr;
        if (mqtls_props_find(&pub->props, MQTLS_PROP_TOPIC_ALIAS, &pr)) {
            /* [MQTT-3.3.2-9]/[MQTT-3.3.2-10]: 0 and values above our maximum are errors. */
            if (pr.v.u32 == 0 || pr.v.u32 > s->cfg.topic_alias_maximum) {
                return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "topic alias out of range");
            }
            mqtls__alias_t *a = &s->alias_in[pr.v.u32 - 1u];
            if (topic.len > 0) {
                if (topic.len > MQTLS__ALIAS_TOPIC_MAX) {
                    return mqtls__session_fail(s, MQTLS_ERR_NOT_SUPPORTED,
                                               "aliased topic longer than 256 B");
                }
                memcpy(a->topic, topic.data, topic.len);
                a->len = (uint16_t)topic.len;
            } else {
                if (a->len == 0) {
                    return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "unknown topic alias");
                }
                topic.data = a->topic;
                topic.len = a->len;
            }
        } else if (topic.len == 0) {
            return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "empty topic without alias");
        }
    }
    bool deliver = true;
    bool in_doubt = false;
    bool stored = false;
    mqtls_status_t st = MQTLS_OK;
    if (pub->qos == 2) {
        /* Exactly once: deliver at the first PUBLISH, remember the id until PUBREL. */
        if (mqtls__idset_has(&s->ids_in_qos2, pub->packet_id)) {
            deliver = false;
            /* No DUP on an id still awaiting PUBREL: a new message, from a broker that lost the
             * flow it had with this id (a restart that rolled its state back) and reused it
             * [MQTT-2.3.1-2] -- or a resend that forgot DUP. Not delivered [MQTT-4.3.3-9], not
             * dropped silently either: reported in doubt. */
            in_doubt = !pub->dup;
        } else {
            /* A store records the id before the delivery: after a crash the message is never
             * delivered twice (docs/reliability.md, "in doubt"). */
            mqtls_publish_t m = *pub;
            m.topic = topic;
            st = mqtls__session_persist(s, MQTLS__P_IN_RECEIVED, pub->packet_id, 2,
                                        (mqtls_bytes_t){0}, &m);
            if (st != MQTLS_OK) {
                return mqtls__session_fail(s, st, "cannot record the QoS 2 message");
            }
            stored = true;
        }
    }
    if (deliver || in_doubt) {
        mqtls_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = deliver ? MQTLS_EVENT_MESSAGE : MQTLS_EVENT_MESSAGE_IN_DOUBT;
        ev.u.message.topic = topic;
        ev.u.message.payload = pub->payload;
        ev.u.message.qos = pub->qos;
        ev.u.message.retain = pub->retain;
        ev.u.message.dup = pub->dup;
        ev.u.message.packet_id = pub->packet_id;
        ev.u.message.props = pub->props;
        mqtls__session_emit(s, &ev);
    }
    if (stored) {
        (void)mqtls__session_persist_id(s, MQTLS__P_IN_DELIVERED, pub->packet_id, 2);
    }
    if (pub->qos == 1) {
        st = mqtls__session_ctrl_ack(s, MQTLS_PUBACK, pub->packet_id, 0);
    } else if (pub->qos == 2) {
        /* on_bytes() took this PUBLISH only with room in the set (ids_stall()) */
        (void)mqtls__idset_add(&s->ids_in_qos2, pub->packet_id);
        st = mqtls__session_ctrl_ack(s, MQTLS_PUBREC, pub->packet_id, 0);
    }
    if (st != MQTLS_OK) {
        return mqtls__session_fail(s, st, "cannot queue the acknowledgement");
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
    mqtls__session_emit(s, &ev);
}

static mqtls_status_t on_ack(mqtls__session_t *s, mqtls_packet_type_t type, const mqtls_ack_t *a)
{
    long k;
    mqtls__entry_t *e;
    switch (type) {
    case MQTLS_PUBACK:
        k = mqtls__outbox_find(s, a->packet_id, 1);
        if (k < 0) {
            /* A QoS 2 PUBLISH answered with PUBACK instead of PUBREC: the broker took it at
             * QoS 1 (RabbitMQ 3.10 downgrades every QoS 2 message). Not the protocol [MQTT-4.3.3],
             * but the message is delivered: complete it and count it, rather than wait
             * forever for a PUBREC that never comes. */
            k = mqtls__outbox_find(s, a->packet_id, 2);
            if (k < 0 || entry_at(s, (size_t)k)->state != E_WAIT_ACK) {
                return MQTLS_OK; /* a late or duplicate ack: nothing to do */
            }
            s->qos2_downgrades++;
        }
        e = entry_at(s, (size_t)k);
        mqtls__outbox_entry_done(s, e);
        s->inflight--;
        emit_published(s, a->packet_id, a->reason);
        break;
    case MQTLS_PUBREC:
        k = mqtls__outbox_find(s, a->packet_id, 2);
        if (k < 0) {
            /* Keep the broker's flow moving: release the id it holds. */
            return mqtls__session_ctrl_ack(s, MQTLS_PUBREL, a->packet_id,
                                           s->cfg.version == MQTLS_V5 ? 0x92u : 0u);
        }
        e = entry_at(s, (size_t)k);
        if (e->state == E_RELEASE) {
            e->state = E_WAIT_COMP; /* this PUBREL is the one that was due */
            s->release_due--;
        }
        if (e->state == E_WAIT_COMP) {
            return mqtls__session_ctrl_ack(s, MQTLS_PUBREL, a->packet_id, 0);
        }
        if (s->cfg.version == MQTLS_V5 && a->reason >= 0x80u) {
            /* The broker refused it: the flow ends here [MQTT-4.3.3]. */
            mqtls__outbox_entry_done(s, e);
            s->inflight--;
            emit_published(s, a->packet_id, a->reason);
            break;
        }
        if (mqtls__session_persist_id(s, MQTLS__P_PUB_PUBREC, a->packet_id, 2) != MQTLS_OK) {
            return mqtls__session_fail(s, MQTLS_ERR_PERSIST, "cannot record PUBREC");
        }
        e->state = E_WAIT_COMP;
        if (mqtls__session_ctrl_ack(s, MQTLS_PUBREL, a->packet_id, 0) != MQTLS_OK) {
            return mqtls__session_fail(s, MQTLS_ERR_OUTBOX_FULL, "cannot queue PUBREL");
        }
        break;
    case MQTLS_PUBREL:
        if (mqtls__idset_has(&s->ids_in_qos2, a->packet_id) &&
            mqtls__session_persist_id(s, MQTLS__P_IN_RELEASED, a->packet_id, 2) != MQTLS_OK) {
            return mqtls__session_fail(s, MQTLS_ERR_PERSIST, "cannot record PUBREL");
        }
        mqtls__idset_remove(&s->ids_in_qos2, a->packet_id);
        mqtls__session_ids_shrink(s);
        if (mqtls__session_ctrl_ack(s, MQTLS_PUBCOMP, a->packet_id, 0) != MQTLS_OK) {
            return mqtls__session_fail(s, MQTLS_ERR_OUTBOX_FULL, "cannot queue PUBCOMP");
        }
        break;
    case MQTLS_PUBCOMP:
        k = mqtls__outbox_find(s, a->packet_id, 2);
        if (k < 0) {
            return MQTLS_OK;
        }
        e = entry_at(s, (size_t)k);
        if (e->state == E_RELEASE) {
            s->release_due--; /* released on an earlier connection: complete now */
        } else if (e->state != E_WAIT_COMP) {
            return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "PUBCOMP before PUBREC");
        }
        mqtls__outbox_entry_done(s, e);
        s->inflight--;
        emit_published(s, a->packet_id, a->reason);
        break;
    default:
        break;
    }
    mqtls__outbox_reap(s);
    return MQTLS_OK;
}

/* One decoded packet. Its type is one the broker may send now (check_head() saw to that). */
static mqtls_status_t on_packet(mqtls__session_t *s, const mqtls_packet_t *p)
{
    mqtls_event_t ev;
    switch (p->type) {
    case MQTLS_CONNACK:
        return mqtls__session_on_connack(s, &p->u.connack);
    case MQTLS_PUBLISH:
        return on_publish(s, &p->u.publish);
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        return on_ack(s, p->type, &p->u.ack);
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK:
        mqtls__session_free_id(s, p->u.suback.packet_id);
        memset(&ev, 0, sizeof ev);
        ev.type = p->type == MQTLS_SUBACK ? MQTLS_EVENT_SUBSCRIBED : MQTLS_EVENT_UNSUBSCRIBED;
        ev.u.subscribed.packet_id = p->u.suback.packet_id;
        ev.u.subscribed.reasons = p->u.suback.reasons;
        ev.u.subscribed.props = p->u.suback.props;
        mqtls__session_emit(s, &ev);
        return MQTLS_OK;
    case MQTLS_PINGRESP:
        s->ping_sent_ms = -1;
        return MQTLS_OK;
    case MQTLS_DISCONNECT:
        mqtls__session_set_err(s, MQTLS_ERR_SERVER_DISCONNECT, NULL);
        mqtls__session_detail_reason(s, mqtls_reason_name(MQTLS_DISCONNECT, p->u.disconnect.reason),
                                     &p->u.disconnect.props);
        s->err.disconnect_reason = p->u.disconnect.reason;
        return MQTLS_ERR_SERVER_DISCONNECT;
    case MQTLS_AUTH:
        return mqtls__session_on_auth(s, &p->u.disconnect);
    default:
        /* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ only go client -> server. */
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "broker sent a client-only packet");
    }
}

/* The broker may send in this state. Client-to-server types are refused everywhere; before
 * CONNACK only CONNACK (and in MQTT 5 DISCONNECT or AUTH) [MQTT-3.2.0-1]; CONNACK only then. */
static const char *type_refused(const mqtls__session_t *s, unsigned type)
{
    switch (type) {
    case MQTLS_CONNECT:
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
    case MQTLS_PINGREQ:
        return ", which only a client sends";
    case MQTLS_DISCONNECT:
        /* MQTT 3.1.1: client to server only. */
        return s->cfg.version == MQTLS_V5 ? NULL : ", which only a client sends in MQTT 3.1.1";
    case MQTLS_CONNACK:
        return s->state == MQTLS__S_CONNECTING ? NULL : " a second time";
    case MQTLS_AUTH:
        return NULL;
    default:
        return s->state == MQTLS__S_CONNECTING ? " before CONNACK" : NULL;
    }
}

/* What an MQTT 3.1/3.1.1 packet of this type must have as remaining length: -1 any. */
static long v3_fixed_length(unsigned type)
{
    switch (type) {
    case MQTLS_CONNACK:
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
    case MQTLS_UNSUBACK:
        return 2;
    case MQTLS_PINGRESP:
        return 0;
    default:
        return -1;
    }
}

/* "<prefix>0xNN<what><more>" into @p buf (no stdio in the session). */
static const char *head_detail(char *buf, size_t cap, uint8_t first, const char *what,
                               const char *more)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *parts[] = {"first byte 0x", NULL, " from the broker: ", what, more};
    char byte[3] = {hex[first >> 4], hex[first & 0x0Fu], '\0'};
    parts[1] = byte;
    size_t used = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]);
        n = n < cap - 1u - used ? n : cap - 1u - used;
        memcpy(buf + used, parts[i], n);
        used += n;
    }
    buf[used] = '\0';
    return buf;
}

/* Judge the fixed header as soon as its bytes are here, before waiting for the body: a broker
 * that sends garbage is closed at once, not after the keepalive (issue 10, defect 8).
 * @p avail bytes at @p in, at least one. @return MQTLS_OK or the failure (recorded). */
static mqtls_status_t check_head(mqtls__session_t *s, const uint8_t *in, size_t avail,
                                 const mqtls_codec_cfg_t *cc)
{
    unsigned type = (unsigned)in[0] >> 4;
    const char *name = mqtls_packet_type_name((mqtls_packet_type_t)type);
    char detail[128];
    /* The codec's rules for the first byte (type, reserved flags [MQTT-2.2.2-2], QoS 3). */
    mqtls_packet_t p;
    size_t n = 0;
    mqtls_status_t st = mqtls_packet_decode(in, 1, cc, &p, &n);
    if (st != MQTLS_ERR_NEED_MORE && st != MQTLS_OK) {
        return mqtls__session_fail(
            s, st, head_detail(detail, sizeof detail, in[0], mqtls_status_text(st), ""));
    }
    const char *why = type_refused(s, type);
    if (why != NULL) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL,
                                   head_detail(detail, sizeof detail, in[0], name, why));
    }
    /* MQTT 3.1.1 acks, CONNACK and PINGRESP have a fixed size: a larger announced one is
     * garbage whose "body" would never come. */
    size_t total = 0;
    long fixed = s->cfg.version == MQTLS_V5 ? -1 : v3_fixed_length(type);
    if (fixed >= 0 && mqtls_packet_frame(in, avail, cc, &total) == MQTLS_OK &&
        total != (size_t)fixed + 2u) {
        return mqtls__session_fail(
            s, MQTLS_ERR_MALFORMED,
            head_detail(detail, sizeof detail, in[0], name, " with a wrong remaining length"));
    }
    return MQTLS_OK;
}

/* Will taking this packet queue a control packet (an acknowledgement or PUBREL)? */
static bool needs_ack_room(uint8_t first)
{
    unsigned type = (unsigned)first >> 4;
    return (type == MQTLS_PUBLISH && (first & 0x06u) != 0) || type == MQTLS_PUBREC ||
           type == MQTLS_PUBREL;
}

bool mqtls__session_input_blocked(const mqtls__session_t *s)
{
    return (s->input_stalled && !mqtls__session_ack_room(s)) ||
           (s->ids_stalled && mqtls__session_ids_want(s) > 0) ||
           (s->ctrl_stalled && s->ctrl_want > 0);
}

bool mqtls__session_input_needs_memory(const mqtls__session_t *s)
{
    return (s->ids_stalled && mqtls__session_ids_want(s) > 0) ||
           (s->ctrl_stalled && s->ctrl_want > 0);
}

/* Does taking @p p need memory from the caller first? An id set's bitmap: a QoS 2 PUBLISH
 * with an id not yet awaiting PUBREL when the set is full, a CONNACK whose resubscribe needs
 * more ids; a bigger control buffer: a CONNACK whose resubscribe does not fit it, an AUTH
 * whose answer may not. Then it is wanted (ids_stalled / ctrl_stalled say which), and the
 * packet waits in the input (never refused, never acknowledged early). */
static bool mem_stall(mqtls__session_t *s, const mqtls_packet_t *p)
{
    if (p->type == MQTLS_PUBLISH && p->u.publish.qos == 2) {
        const mqtls__idset_t *in = &s->ids_in_qos2;
        if (mqtls__idset_has(in, p->u.publish.packet_id) || mqtls__idset_can_add(in)) {
            return false;
        }
        s->ids_in_qos2.wants_map = true;
        s->ids_stalled = true;
        return true;
    }
    if (p->type == MQTLS_CONNACK) {
        s->ids_stalled = mqtls__session_connack_wants_ids(s, &p->u.connack);
        s->ctrl_stalled = mqtls__session_connack_wants_ctrl(s, &p->u.connack);
        return s->ids_stalled || s->ctrl_stalled;
    }
    s->ctrl_stalled = mqtls__session_auth_wants_ctrl(s, p);
    return s->ctrl_stalled;
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
    s->input_stalled = false;
    s->ids_stalled = false;
    s->ctrl_stalled = false;
    if (s->state == MQTLS__S_DISCONNECTING && !s->disconnect_pending) {
        /* Our DISCONNECT is queued: nothing may follow it, not even an ack [MQTT-3.14.4-1]. The
         * bytes are read (so the close is a FIN, not a reset that could destroy our last
         * packets at the broker) and dropped: QoS 1/2 come again with the session. */
        *used = len;
        return MQTLS_OK;
    }
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = s->cfg.max_packet_size};
    size_t off = 0;
    /* Bounded: each iteration consumes at least two bytes or returns. */
    while (off < len) {
        mqtls_status_t st = check_head(s, in + off, len - off, &cc);
        if (st != MQTLS_OK) {
            *used = off;
            return st;
        }
        size_t total = 0;
        st = mqtls_packet_frame(in + off, len - off, &cc, &total);
        if (st == MQTLS_ERR_NEED_MORE) {
            break;
        }
        if (st != MQTLS_OK) {
            *used = off;
            return mqtls__session_fail(s, st, "malformed packet from the broker");
        }
        if (total > len - off) {
            *need = total;
            break;
        }
        if (needs_ack_room(in[off]) && !mqtls__session_ack_room(s)) {
            /* Back-pressure: take no packet whose ack we could not queue. Below its limit the
             * buffer grows (wanted here; the caller gives it and feeds again); at the limit, or
             * when the caller has no memory, input waits until the queued acks are written. */
            (void)mqtls__session_ack_wants_ctrl(s);
            s->input_stalled = true;
            break;
        }
        mqtls_packet_t p;
        size_t n = 0;
        st = mqtls_packet_decode(in + off, total, &cc, &p, &n);
        if (st != MQTLS_OK || n != total) {
            *used = off;
            return mqtls__session_fail(s, st != MQTLS_OK ? st : MQTLS_ERR_MALFORMED,
                                       "malformed packet from the broker");
        }
        if (mem_stall(s, &p)) {
            /* Back-pressure until the caller gives the memory: fed again, decoded again. */
            break;
        }
        if (s->cfg.on_trace != NULL) {
            s->cfg.on_trace(s->cfg.event_ctx, false, &p);
        }
        /* Any packet shows the connection is alive; PINGRESP is the explicit answer. */
        s->ping_sent_ms = -1;
        off += total;
        st = on_packet(s, &p);
        if (st != MQTLS_OK) {
            *used = off;
            return st;
        }
        if (s->state == MQTLS__S_IDLE ||
            (s->state == MQTLS__S_DISCONNECTING && !s->disconnect_pending)) {
            break;
        }
    }
    *used = off;
    return MQTLS_OK;
}
