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
        mqtls__session_emit(s, &ev);
    }
    if (pub->qos == 1) {
        st = mqtls__session_ctrl_ack(s, MQTLS_PUBACK, pub->packet_id, 0);
    } else if (pub->qos == 2) {
        bit_set(s->ids_in_qos2, pub->packet_id, true);
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
        e->state = E_WAIT_COMP;
        if (mqtls__session_ctrl_ack(s, MQTLS_PUBREL, a->packet_id, 0) != MQTLS_OK) {
            return mqtls__session_fail(s, MQTLS_ERR_OUTBOX_FULL, "cannot queue PUBREL");
        }
        break;
    case MQTLS_PUBREL:
        bit_set(s->ids_in_qos2, a->packet_id, false);
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
        if (e->state != E_WAIT_COMP) {
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

static mqtls_status_t on_packet(mqtls__session_t *s, const mqtls_packet_t *p)
{
    if (s->state == MQTLS__S_CONNECTING && p->type != MQTLS_CONNACK &&
        p->type != MQTLS_DISCONNECT) {
        /* [MQTT-3.2.0-1]: the first packet from the server must be CONNACK. */
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL,
                                   "first packet from the broker is not CONNACK");
    }
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
        bit_set(s->ids_out, p->u.suback.packet_id, false);
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
        mqtls__session_set_err(s, MQTLS_ERR_SERVER_DISCONNECT,
                               mqtls_reason_name(MQTLS_DISCONNECT, p->u.disconnect.reason));
        s->err.disconnect_reason = p->u.disconnect.reason;
        return MQTLS_ERR_SERVER_DISCONNECT;
    case MQTLS_AUTH:
        return mqtls__session_fail(s, MQTLS_ERR_NOT_SUPPORTED,
                                   "enhanced authentication (AUTH) not supported");
    default:
        /* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ only go client -> server. */
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "broker sent a client-only packet");
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
            return mqtls__session_fail(s, st, "malformed packet from the broker");
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
            return mqtls__session_fail(s, st != MQTLS_OK ? st : MQTLS_ERR_MALFORMED,
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
