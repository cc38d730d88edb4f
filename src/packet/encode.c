/* MQTT 3.1 / 3.1.1 / 5.0 control packets: encode. Sans I/O, no allocation: the caller's
 * buffer, whose exact size can be asked first. Field layouts: MQTT 3.1.1 and 5.0 chapter 3. */
#include <string.h>

#include "packet_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Encoding: two passes over the same code. Pass 1 (buf NULL) validates and counts, pass 2
 * writes into a buffer known to be large enough.                                            */

typedef struct wr {
    uint8_t *buf;
    size_t pos;
} wr_t;

static inline void w_u8(wr_t *w, uint8_t b)
{
    if (w->buf != NULL) {
        w->buf[w->pos] = b;
    }
    w->pos++;
}

static inline void w_u16(wr_t *w, uint16_t v)
{
    if (w->buf != NULL) {
        w->buf[w->pos] = (uint8_t)(v >> 8);
        w->buf[w->pos + 1u] = (uint8_t)v;
    }
    w->pos += 2u;
}

static inline void w_raw(wr_t *w, const uint8_t *d, size_t n)
{
    if (w->buf != NULL && n != 0u) {
        memcpy(w->buf + w->pos, d, n);
    }
    w->pos += n;
}

static inline void w_bin(wr_t *w, mqtls_bytes_t b)
{
    w_u16(w, (uint16_t)b.len);
    w_raw(w, b.data, b.len);
}

static inline void w_varint(wr_t *w, uint32_t v)
{
    uint8_t tmp[4];
    w_raw(w, tmp, mqtls__varint_put(tmp, v));
}

static mqtls_status_t chk_bin(mqtls_bytes_t b)
{
    if (b.data == NULL && b.len != 0u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    return b.len > 0xFFFFu ? MQTLS_ERR_STRING_TOO_LONG : MQTLS_OK;
}

static mqtls_status_t chk_str(mqtls_bytes_t b)
{
    mqtls_status_t st = chk_bin(b);
    return st != MQTLS_OK ? st : mqtls_utf8_check(b.data, b.len);
}

static mqtls_status_t chk_topic(mqtls_bytes_t b)
{
    mqtls_status_t st = chk_bin(b);
    return st != MQTLS_OK ? st : mqtls_topic_name_check(b.data, b.len);
}

static bool props_empty(const mqtls_properties_t *p)
{
    return p->items != NULL ? p->count == 0u : p->raw.len == 0u;
}

/* Property Length + properties [MQTT-2.2.2]. @p seen (may be NULL) gets the id mask. */
static mqtls_status_t w_props(wr_t *w, const mqtls_properties_t *p, uint8_t type, bool in_will,
                              bool validate, uint64_t *seen)
{
    size_t n;
    mqtls_status_t st = MQTLS_OK;
    if (p->items != NULL) {
        if (validate) {
            st = mqtls__props_validate_items(p->items, p->count, type, in_will, seen);
            if (st != MQTLS_OK) {
                return st;
            }
        }
        n = mqtls__props_items_len(p->items, p->count);
    } else {
        if (validate) {
            if (p->count != 0u || (p->raw.data == NULL && p->raw.len != 0u)) {
                return MQTLS_ERR_INVALID_ARG;
            }
            st = mqtls__props_validate_raw(p->raw.data, p->raw.len, type, in_will, seen);
        }
        n = p->raw.len;
    }
    if (st != MQTLS_OK) {
        return st;
    }
    if (n > MQTLS__VARINT_MAX) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    w_varint(w, (uint32_t)n);
    if (p->items != NULL) {
        if (w->buf != NULL) {
            mqtls__props_items_write(p->items, p->count, w->buf + w->pos);
        }
        w->pos += n;
    } else {
        w_raw(w, p->raw.data, n);
    }
    return MQTLS_OK;
}

static mqtls_status_t enc_connect(wr_t *w, const mqtls_connect_t *c, mqtls_version_t ver,
                                  bool validate)
{
    if ((unsigned)c->version != 0u) {
        ver = c->version; /* CONNECT carries its own protocol level */
    }
    if (ver != MQTLS_V31 && ver != MQTLS_V311 && ver != MQTLS_V5) {
        return MQTLS_ERR_INVALID_ARG;
    }
    bool v5 = ver == MQTLS_V5;
    mqtls_status_t st;
    if (validate) {
        if (c->has_will && c->will_qos > 2u) {
            return MQTLS_ERR_BAD_QOS;
        }
        if (!c->has_will && (c->will_qos != 0u || c->will_retain || !props_empty(&c->will_props))) {
            return MQTLS_ERR_CONNECT_FLAGS;
        }
        if (!v5 && c->has_password && !c->has_username) {
            return MQTLS_ERR_CONNECT_FLAGS; /* [MQTT-3.1.2-22] */
        }
        if (!v5 && (!props_empty(&c->props) || !props_empty(&c->will_props))) {
            return MQTLS_ERR_VERSION;
        }
        if ((st = chk_str(c->client_id)) != MQTLS_OK) {
            return st;
        }
        if (c->has_will &&
            ((st = chk_topic(c->will_topic)) != MQTLS_OK || (st = chk_bin(c->will_payload)))) {
            return st;
        }
        if (c->has_username && (st = chk_str(c->username)) != MQTLS_OK) {
            return st;
        }
        if (c->has_password && (st = chk_bin(c->password)) != MQTLS_OK) {
            return st;
        }
    }
    if (ver == MQTLS_V31) {
        w_bin(w, (mqtls_bytes_t){(const uint8_t *)"MQIsdp", 6});
    } else {
        w_bin(w, (mqtls_bytes_t){(const uint8_t *)"MQTT", 4});
    }
    w_u8(w, (uint8_t)ver);
    unsigned flags = (c->clean_start ? 0x02u : 0u) | (c->has_will ? 0x04u : 0u) |
                     ((unsigned)(c->will_qos & 3u) << 3) | (c->will_retain ? 0x20u : 0u) |
                     (c->has_password ? 0x40u : 0u) | (c->has_username ? 0x80u : 0u);
    w_u8(w, (uint8_t)flags);
    w_u16(w, c->keepalive_s);
    if (v5 && (st = w_props(w, &c->props, MQTLS_CONNECT, false, validate, NULL)) != MQTLS_OK) {
        return st;
    }
    w_bin(w, c->client_id);
    if (c->has_will) {
        if (v5 && (st = w_props(w, &c->will_props, MQTLS_CONNECT, true, validate, NULL))) {
            return st;
        }
        w_bin(w, c->will_topic);
        w_bin(w, c->will_payload);
    }
    if (c->has_username) {
        w_bin(w, c->username);
    }
    if (c->has_password) {
        w_bin(w, c->password);
    }
    return MQTLS_OK;
}

/* Trailing "reason [props]" of MQTT 5 acks, DISCONNECT, AUTH in the requested form. */
static mqtls_status_t w_reason_tail(wr_t *w, uint8_t type, uint8_t reason,
                                    const mqtls_properties_t *props, uint8_t form, bool validate)
{
    if (validate) {
        if (form > MQTLS_FORM_FULL) {
            return MQTLS_ERR_INVALID_ARG;
        }
        if (!mqtls__reason_valid(type, reason)) {
            return MQTLS_ERR_BAD_REASON_CODE;
        }
    }
    uint8_t need = !props_empty(props) ? MQTLS_FORM_FULL
                   : reason != 0u      ? MQTLS_FORM_REASON
                                       : MQTLS_FORM_SHORTEST;
    if (form < need) {
        form = need;
    }
    if (form >= MQTLS_FORM_REASON) {
        w_u8(w, reason);
    }
    if (form == MQTLS_FORM_FULL) {
        return w_props(w, props, type, false, validate, NULL);
    }
    return MQTLS_OK;
}

static mqtls_status_t enc_v3_no_extras(uint8_t reason, const mqtls_properties_t *props)
{
    return (reason != 0u || !props_empty(props)) ? MQTLS_ERR_VERSION : MQTLS_OK;
}

static mqtls_status_t enc_filters(wr_t *w, const mqtls_filter_list_t *l, uint8_t type, bool v5,
                                  bool validate)
{
    bool unsub = type == MQTLS_UNSUBSCRIBE;
    mqtls_status_t st;
    if (l->items == NULL) {
        if (validate) {
            size_t count;
            if (l->raw.data == NULL && l->raw.len != 0u) {
                return MQTLS_ERR_INVALID_ARG;
            }
            if ((st = mqtls__filters_validate(l->raw.data, l->raw.len, !unsub, v5, &count))) {
                return st;
            }
        }
        w_raw(w, l->raw.data, l->raw.len);
        return MQTLS_OK;
    }
    if (validate && l->count == 0u) {
        return MQTLS_ERR_NO_TOPIC_FILTERS;
    }
    for (size_t i = 0; i < l->count; i++) {
        const mqtls_topic_filter_t *f = &l->items[i];
        /* 3.1.1 has only the QoS bits; the rest is reserved there. */
        uint8_t opts = v5 ? f->options : (uint8_t)(f->options & MQTLS_SUBOPT_QOS_MASK);
        if (validate) {
            bool shared;
            if ((st = chk_bin(f->filter)) != MQTLS_OK ||
                (st = mqtls__filter_check_v(&f->filter, v5, &shared)) != MQTLS_OK ||
                (!unsub && (st = mqtls__subopt_check(opts, v5, shared)) != MQTLS_OK)) {
                return st;
            }
        }
        w_bin(w, f->filter);
        if (!unsub) {
            w_u8(w, opts);
        }
    }
    return MQTLS_OK;
}

static const uint8_t FIRST_BYTE[16] = {
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xA2, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0,
};

static mqtls_status_t enc_body(wr_t *w, const mqtls_packet_t *pkt, mqtls_version_t ver,
                               bool validate, uint8_t *byte0)
{
    bool v5 = ver == MQTLS_V5;
    unsigned type = (unsigned)pkt->type;
    mqtls_status_t st = MQTLS_OK;
    if (type < 1u || type > 15u) {
        return MQTLS_ERR_BAD_PACKET_TYPE;
    }
    *byte0 = FIRST_BYTE[type];
    switch (type) {
    case MQTLS_CONNECT:
        return enc_connect(w, &pkt->u.connect, ver, validate);
    case MQTLS_CONNACK: {
        const mqtls_connack_t *c = &pkt->u.connack;
        if (validate) {
            if (v5 ? !mqtls__reason_valid(MQTLS_CONNACK, c->reason) : c->reason > 5u) {
                return MQTLS_ERR_BAD_REASON_CODE;
            }
            if (c->session_present && c->reason != 0u) {
                return MQTLS_ERR_CONNACK_FLAGS;
            }
            if (!v5 && !props_empty(&c->props)) {
                return MQTLS_ERR_VERSION;
            }
        }
        w_u8(w, c->session_present ? 1u : 0u);
        w_u8(w, c->reason);
        return v5 ? w_props(w, &c->props, MQTLS_CONNACK, false, validate, NULL) : MQTLS_OK;
    }
    case MQTLS_PUBLISH: /* encode_publish() handles it */
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP: {
        const mqtls_ack_t *a = &pkt->u.ack;
        if (validate && a->packet_id == 0u) {
            return MQTLS_ERR_PACKET_ID_ZERO;
        }
        if (validate && !v5 && (st = enc_v3_no_extras(a->reason, &a->props)) != MQTLS_OK) {
            return st;
        }
        w_u16(w, a->packet_id);
        return v5 ? w_reason_tail(w, (uint8_t)type, a->reason, &a->props, a->form, validate)
                  : MQTLS_OK;
    }
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE: {
        const mqtls_subscribe_t *s = &pkt->u.subscribe;
        if (validate && s->packet_id == 0u) {
            return MQTLS_ERR_PACKET_ID_ZERO;
        }
        if (validate && !v5 && !props_empty(&s->props)) {
            return MQTLS_ERR_VERSION;
        }
        w_u16(w, s->packet_id);
        if (v5 && (st = w_props(w, &s->props, (uint8_t)type, false, validate, NULL))) {
            return st;
        }
        return enc_filters(w, &s->filters, (uint8_t)type, v5, validate);
    }
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK: {
        const mqtls_suback_t *s = &pkt->u.suback;
        bool ids_only = !v5 && type == MQTLS_UNSUBACK;
        if (validate) {
            if (s->packet_id == 0u) {
                return MQTLS_ERR_PACKET_ID_ZERO;
            }
            if (!v5 && !props_empty(&s->props)) {
                return MQTLS_ERR_VERSION;
            }
            if (ids_only && s->reasons.len != 0u) {
                return MQTLS_ERR_VERSION;
            }
            if (!ids_only &&
                ((st = chk_bin(s->reasons)) == MQTLS_ERR_INVALID_ARG ||
                 (st = mqtls__reasons_check((uint8_t)type, s->reasons, v5)) != MQTLS_OK)) {
                return st;
            }
        }
        w_u16(w, s->packet_id);
        if (ids_only) {
            return MQTLS_OK;
        }
        if (v5 && (st = w_props(w, &s->props, (uint8_t)type, false, validate, NULL))) {
            return st;
        }
        w_raw(w, s->reasons.data, s->reasons.len);
        return MQTLS_OK;
    }
    case MQTLS_PINGREQ:
    case MQTLS_PINGRESP:
        return MQTLS_OK;
    case MQTLS_DISCONNECT:
    case MQTLS_AUTH: {
        const mqtls_disconnect_t *d = &pkt->u.disconnect;
        if (!v5) {
            if (type == MQTLS_AUTH) {
                return MQTLS_ERR_VERSION;
            }
            return validate ? enc_v3_no_extras(d->reason, &d->props) : MQTLS_OK;
        }
        return w_reason_tail(w, (uint8_t)type, d->reason, &d->props, d->form, validate);
    }
    default:
        return MQTLS_ERR_BAD_PACKET_TYPE;
    }
}

/* PUBLISH, the hot path of a client: one validation pass, sizes computed directly, one write
 * pass. The fuzz round trip checks it against the decoder. */
static mqtls_status_t encode_publish(const mqtls_publish_t *p, mqtls_version_t version,
                                     bool with_payload, uint8_t *buf, size_t cap, size_t *written)
{
    if (p == NULL || written == NULL || (buf == NULL && cap != 0u)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *written = 0;
    if (version != MQTLS_V31 && version != MQTLS_V311 && version != MQTLS_V5) {
        return MQTLS_ERR_INVALID_ARG;
    }
    bool v5 = version == MQTLS_V5;
    mqtls_status_t st;
    if (p->qos > 2u) {
        return MQTLS_ERR_BAD_QOS;
    }
    if (p->qos == 0u && p->dup) {
        return MQTLS_ERR_BAD_FLAGS; /* [MQTT-3.3.1-2] */
    }
    if (p->qos != 0u && p->packet_id == 0u) {
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    }
    if (p->payload.data == NULL && p->payload.len != 0u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    size_t plen = 0;
    uint64_t seen = 0;
    if (v5) {
        if (p->props.items != NULL) {
            st = mqtls__props_validate_items(p->props.items, p->props.count, MQTLS_PUBLISH, false,
                                             &seen);
            plen = st == MQTLS_OK ? mqtls__props_items_len(p->props.items, p->props.count) : 0u;
        } else if (p->props.count != 0u || (p->props.raw.data == NULL && p->props.raw.len != 0u)) {
            return MQTLS_ERR_INVALID_ARG;
        } else {
            st = p->props.raw.len == 0u
                     ? MQTLS_OK
                     : mqtls__props_validate_raw(p->props.raw.data, p->props.raw.len, MQTLS_PUBLISH,
                                                 false, &seen);
            plen = p->props.raw.len;
        }
        if (st != MQTLS_OK) {
            return st;
        }
        if (plen > MQTLS__VARINT_MAX) {
            return MQTLS_ERR_PACKET_TOO_LARGE;
        }
    } else if (!props_empty(&p->props)) {
        return MQTLS_ERR_VERSION;
    }
    if (v5 && p->topic.len == 0u && (seen & MQTLS__PROP_BIT(MQTLS_PROP_TOPIC_ALIAS)) != 0u) {
        /* empty topic with a Topic Alias (3.3.2.3.4) */
    } else if ((st = chk_topic(p->topic)) != MQTLS_OK) {
        return st;
    }
    size_t head = 2u + p->topic.len + (p->qos != 0u ? 2u : 0u) +
                  (v5 ? mqtls__varint_size((uint32_t)plen) + plen : 0u);
    size_t rem = head + p->payload.len;
    if (rem > MQTLS__VARINT_MAX) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    size_t total = 1u + mqtls__varint_size((uint32_t)rem) + (with_payload ? rem : head);
    if (total > cap) {
        *written = total;
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    }
    uint8_t *o = buf;
    *o++ = (uint8_t)(0x30u | (p->dup ? 8u : 0u) | ((unsigned)p->qos << 1) | (p->retain ? 1u : 0u));
    o += mqtls__varint_put(o, (uint32_t)rem);
    *o++ = (uint8_t)(p->topic.len >> 8);
    *o++ = (uint8_t)p->topic.len;
    if (p->topic.len != 0u) {
        memcpy(o, p->topic.data, p->topic.len);
        o += p->topic.len;
    }
    if (p->qos != 0u) {
        *o++ = (uint8_t)(p->packet_id >> 8);
        *o++ = (uint8_t)p->packet_id;
    }
    if (v5) {
        o += mqtls__varint_put(o, (uint32_t)plen);
        if (p->props.items != NULL) {
            mqtls__props_items_write(p->props.items, p->props.count, o);
        } else if (plen != 0u) {
            memcpy(o, p->props.raw.data, plen);
        }
        o += plen;
    }
    if (with_payload && p->payload.len != 0u) {
        memcpy(o, p->payload.data, p->payload.len);
    }
    *written = total;
    return MQTLS_OK;
}

static mqtls_status_t encode(const mqtls_packet_t *pkt, mqtls_version_t version, uint8_t *buf,
                             size_t cap, size_t *written)
{
    if (pkt != NULL && pkt->type == MQTLS_PUBLISH) {
        return encode_publish(&pkt->u.publish, version, true, buf, cap, written);
    }
    if (pkt == NULL || written == NULL || (buf == NULL && cap != 0u)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *written = 0;
    if (version != MQTLS_V31 && version != MQTLS_V311 && version != MQTLS_V5) {
        return MQTLS_ERR_INVALID_ARG;
    }
    wr_t w = {NULL, 0};
    uint8_t byte0;
    mqtls_status_t st = enc_body(&w, pkt, version, true, &byte0);
    if (st != MQTLS_OK) {
        return st;
    }
    size_t body = w.pos;
    size_t rem = body;
    if (rem > MQTLS__VARINT_MAX) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    size_t hl = 1u + mqtls__varint_size((uint32_t)rem);
    if (hl + body > cap) {
        *written = hl + body;
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = byte0;
    (void)mqtls__varint_put(buf + 1, (uint32_t)rem);
    w.buf = buf + hl;
    w.pos = 0;
    st = enc_body(&w, pkt, version, false, &byte0);
    if (st != MQTLS_OK) {
        return st; /* not reached: pass 1 accepted the same input */
    }
    *written = hl + body;
    return MQTLS_OK;
}

mqtls_status_t mqtls_packet_encode(const mqtls_packet_t *pkt, mqtls_version_t version, uint8_t *buf,
                                   size_t cap, size_t *written)
{
    return encode(pkt, version, buf, cap, written);
}

mqtls_status_t mqtls_packet_encoded_size(const mqtls_packet_t *pkt, mqtls_version_t version,
                                         size_t *size)
{
    if (size == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_status_t st = encode(pkt, version, NULL, 0, size);
    return st == MQTLS_ERR_BUFFER_TOO_SMALL ? MQTLS_OK : st;
}

mqtls_status_t mqtls_packet_encode_publish_header(const mqtls_publish_t *pub,
                                                  mqtls_version_t version, uint8_t *buf, size_t cap,
                                                  size_t *written)
{
    return encode_publish(pub, version, false, buf, cap, written);
}
