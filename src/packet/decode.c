/* MQTT 3.1 / 3.1.1 / 5.0 control packets: frame and decode. Sans I/O, no allocation; decoded
 * fields are views into the input. Field layouts: MQTT 3.1.1 chapter 3, MQTT 5.0 chapter 3. */
#include <string.h>

#include "packet_internal.h"

/* 1 byte type + 4 bytes remaining length + the largest remaining length. */
#define MAX_TOTAL_LEN ((size_t)1u + 4u + MQTLS__VARINT_MAX)

static mqtls_status_t rd_props(rd_t *r, uint8_t type, bool in_will, mqtls_properties_t *out,
                               uint64_t *seen)
{
    uint32_t n;
    size_t pos = r->pos;
    mqtls_status_t st;
    if (pos < r->len && r->p[pos] == 0u) {
        n = 0; /* the common empty block: nothing to validate */
        pos++;
    } else {
        st = mqtls__varint_get(r->p, r->len, &pos, &n);
        if (st == MQTLS_ERR_NEED_MORE) {
            return MQTLS_ERR_TRUNCATED_FIELD;
        }
        if (st != MQTLS_OK) {
            return MQTLS_ERR_MALFORMED;
        }
        if (n > r->len - pos) {
            return MQTLS_ERR_PROP_LENGTH;
        }
        st = mqtls__props_validate_raw(r->p + pos, n, type, in_will, seen);
        if (st != MQTLS_OK) {
            return st;
        }
    }
    out->items = NULL;
    out->count = 0;
    out->raw.data = r->p + pos;
    out->raw.len = n;
    r->pos = pos + n;
    return MQTLS_OK;
}

static inline mqtls_status_t rd_end(const rd_t *r)
{
    return r->pos == r->len ? MQTLS_OK : MQTLS_ERR_TRAILING_BYTES;
}

/* Fixed header flag bits ([MQTT-2.2.2-1/2], [MQTT-3.3.1-2], [MQTT-3.3.1-4]). */
static inline mqtls_status_t check_flags(unsigned type, unsigned flags)
{
    if (type == MQTLS_PUBLISH) {
        if ((flags & 0x06u) == 0x06u) {
            return MQTLS_ERR_BAD_QOS;
        }
        if ((flags & 0x06u) == 0u && (flags & 0x08u) != 0u) {
            return MQTLS_ERR_BAD_FLAGS; /* DUP must be 0 for QoS 0 */
        }
        return MQTLS_OK;
    }
    unsigned want =
        (type == MQTLS_PUBREL || type == MQTLS_SUBSCRIBE || type == MQTLS_UNSUBSCRIBE) ? 2u : 0u;
    return flags == want ? MQTLS_OK : MQTLS_ERR_BAD_FLAGS;
}

static inline mqtls_status_t cfg_version(const mqtls_codec_cfg_t *cfg, bool *v5)
{
    mqtls_version_t v = cfg != NULL ? cfg->version : MQTLS_V5;
    if ((unsigned)v == 0u) {
        v = MQTLS_V5;
    }
    if (v != MQTLS_V31 && v != MQTLS_V311 && v != MQTLS_V5) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *v5 = v == MQTLS_V5;
    return MQTLS_OK;
}

static inline mqtls_status_t check_type(unsigned type, bool v5)
{
    if (type == 0u || (type == MQTLS_AUTH && !v5)) {
        return MQTLS_ERR_BAD_PACKET_TYPE; /* 0 is reserved; AUTH exists only in MQTT 5 */
    }
    return MQTLS_OK;
}

/* Remaining length and size limit; in[0] already checked. */
static inline mqtls_status_t parse_length(const uint8_t *in, size_t in_len,
                                          const mqtls_codec_cfg_t *cfg, size_t *hdr_len,
                                          uint32_t *rem)
{
    size_t pos = 1;
    if (in_len >= 2u && in[1] < 0x80u) {
        *rem = in[1]; /* the common one-byte remaining length */
        pos = 2;
    } else if (in_len >= 3u && in[2] - 1u < 0x7Fu) {
        *rem = (in[1] & 0x7Fu) | ((uint32_t)in[2] << 7); /* two bytes, minimal (in[2] 1..127) */
        pos = 3;
    } else {
        mqtls_status_t st = mqtls__varint_get(in, in_len, &pos, rem);
        if (st != MQTLS_OK) {
            return st == MQTLS_ERR_NEED_MORE ? st : MQTLS_ERR_REMAINING_LENGTH; /* [MQTT-1.5.5-1] */
        }
    }
    /* A valid remaining length never exceeds MAX_TOTAL_LEN, so only a configured limit can. */
    if (cfg != NULL && cfg->max_packet_size != 0u && pos + (size_t)*rem > cfg->max_packet_size) {
        return MQTLS_ERR_PACKET_TOO_LARGE;
    }
    *hdr_len = pos;
    return MQTLS_OK;
}

mqtls_status_t mqtls_packet_frame(const uint8_t *in, size_t in_len, const mqtls_codec_cfg_t *cfg,
                                  size_t *total_len)
{
    if ((in == NULL && in_len != 0u) || total_len == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    bool v5;
    mqtls_status_t st = cfg_version(cfg, &v5);
    if (st != MQTLS_OK) {
        return st;
    }
    if (in_len == 0u) {
        return MQTLS_ERR_NEED_MORE;
    }
    st = check_type((unsigned)in[0] >> 4, v5);
    if (st != MQTLS_OK) {
        return st;
    }
    size_t hl;
    uint32_t rem;
    st = parse_length(in, in_len, cfg, &hl, &rem);
    if (st == MQTLS_OK) {
        *total_len = hl + rem;
    }
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Decoding, one function per packet type. Each consumes the whole body or fails.            */

static mqtls_status_t dec_connect(rd_t *r, mqtls_connect_t *c)
{
    mqtls_bytes_t name;
    uint8_t level;
    uint8_t flags;
    mqtls_status_t st = rd_bin(r, &name);
    if (st != MQTLS_OK || (st = rd_u8(r, &level)) != MQTLS_OK) {
        return st;
    }
    /* [MQTT-3.1.2-1] "MQTT" level 4 or 5; MQTT 3.1 used "MQIsdp" level 3. */
    if (name.len == 4u && memcmp(name.data, "MQTT", 4) == 0 && (level == 4u || level == 5u)) {
        c->version = (mqtls_version_t)level;
    } else if (name.len == 6u && memcmp(name.data, "MQIsdp", 6) == 0 && level == 3u) {
        c->version = MQTLS_V31;
    } else {
        return MQTLS_ERR_BAD_PROTOCOL;
    }
    bool v5 = c->version == MQTLS_V5;
    if ((st = rd_u8(r, &flags)) != MQTLS_OK || (st = rd_u16(r, &c->keepalive_s)) != MQTLS_OK) {
        return st;
    }
    if ((flags & 0x01u) != 0u) {
        return MQTLS_ERR_CONNECT_FLAGS; /* [MQTT-3.1.2-3] reserved bit */
    }
    c->clean_start = (flags & 0x02u) != 0u;
    c->has_will = (flags & 0x04u) != 0u;
    c->will_qos = (uint8_t)((flags >> 3) & 3u);
    c->will_retain = (flags & 0x20u) != 0u;
    c->has_password = (flags & 0x40u) != 0u;
    c->has_username = (flags & 0x80u) != 0u;
    if (c->will_qos == 3u) {
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.1.2-14] */
    }
    if (!c->has_will && (c->will_qos != 0u || c->will_retain)) {
        return MQTLS_ERR_CONNECT_FLAGS; /* [MQTT-3.1.2-13], [MQTT-3.1.2-15] */
    }
    if (!v5 && c->has_password && !c->has_username) {
        return MQTLS_ERR_CONNECT_FLAGS; /* [MQTT-3.1.2-22] (3.1.1 only; allowed in 5.0) */
    }
    if (v5 && (st = rd_props(r, MQTLS_CONNECT, false, &c->props, NULL)) != MQTLS_OK) {
        return st;
    }
    if ((st = rd_str(r, &c->client_id)) != MQTLS_OK) {
        return st;
    }
    if (c->has_will) {
        if (v5 && (st = rd_props(r, MQTLS_CONNECT, true, &c->will_props, NULL)) != MQTLS_OK) {
            return st;
        }
        if ((st = rd_bin(r, &c->will_topic)) != MQTLS_OK ||
            (st = mqtls_topic_name_check(c->will_topic.data, c->will_topic.len)) != MQTLS_OK ||
            (st = rd_bin(r, &c->will_payload)) != MQTLS_OK) {
            return st;
        }
    }
    if (c->has_username && (st = rd_str(r, &c->username)) != MQTLS_OK) {
        return st;
    }
    if (c->has_password && (st = rd_bin(r, &c->password)) != MQTLS_OK) {
        return st;
    }
    return rd_end(r);
}

static mqtls_status_t dec_connack(rd_t *r, bool v5, mqtls_connack_t *c)
{
    uint8_t flags;
    mqtls_status_t st = rd_u8(r, &flags);
    if (st != MQTLS_OK || (st = rd_u8(r, &c->reason)) != MQTLS_OK) {
        return st;
    }
    if ((flags & 0xFEu) != 0u) {
        return MQTLS_ERR_CONNACK_FLAGS; /* [MQTT-3.2.2-1] reserved bits */
    }
    c->session_present = flags != 0u;
    if (v5) {
        if (!mqtls__reason_valid(MQTLS_CONNACK, c->reason)) {
            return MQTLS_ERR_BAD_REASON_CODE;
        }
    } else if (c->reason > 5u) {
        return MQTLS_ERR_BAD_REASON_CODE; /* 3.1.1 table 3.1: 0..5 */
    }
    if (c->session_present && c->reason != 0u) {
        return MQTLS_ERR_CONNACK_FLAGS; /* [MQTT-3.2.2-4] (3.1.1), [MQTT-3.2.2-6] (5.0) */
    }
    if (v5 && (st = rd_props(r, MQTLS_CONNACK, false, &c->props, NULL)) != MQTLS_OK) {
        return st;
    }
    return rd_end(r);
}

/* The hot path of a client: plain pointer arithmetic, no cursor struct in memory, no memset. */
static inline mqtls_status_t dec_publish(const uint8_t *b, size_t rem, bool v5, unsigned flags,
                                         mqtls_publish_t *p)
{
    unsigned qos = (flags >> 1) & 3u;
    if (rem < 2u) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    size_t tlen = ((size_t)b[0] << 8) | b[1];
    size_t pos = 2u + tlen;
    if (rem - 2u < tlen) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    uint16_t id = 0;
    if (qos != 0u) {
        if (rem - pos < 2u) {
            return MQTLS_ERR_TRUNCATED_FIELD;
        }
        id = (uint16_t)(((unsigned)b[pos] << 8) | b[pos + 1u]);
        pos += 2u;
        if (id == 0u) {
            return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
        }
    }
    p->qos = (uint8_t)qos;
    p->retain = (flags & 1u) != 0u;
    p->dup = (flags & 8u) != 0u;
    p->packet_id = id;
    p->topic.data = b + 2;
    p->topic.len = tlen;
    p->props.items = NULL;
    p->props.count = 0;
    p->props.raw.data = NULL;
    p->props.raw.len = 0;
    mqtls_status_t st;
    if (v5 && pos < rem && b[pos] == 0u) {
        pos++; /* empty property block: the common case, no call */
        p->props.raw.data = b + pos;
    } else if (v5) {
        uint64_t seen = 0;
        rd_t r = {b, rem, pos};
        if ((st = rd_props(&r, MQTLS_PUBLISH, false, &p->props, &seen)) != MQTLS_OK) {
            return st;
        }
        pos = r.pos;
        /* MQTT 5 3.3.2.3.4: a zero-length topic is allowed only with a Topic Alias. */
        if (tlen == 0u && (seen & MQTLS__PROP_BIT(MQTLS_PROP_TOPIC_ALIAS)) != 0u) {
            goto payload;
        }
    }
    if (!mqtls__topic_plain(b + 2, tlen) &&
        (st = mqtls_topic_name_check(b + 2, tlen)) != MQTLS_OK) {
        return st; /* includes MQTLS_ERR_TOPIC_EMPTY */
    }
payload:
    p->payload.data = b + pos; /* the payload is whatever is left; never copied */
    p->payload.len = rem - pos;
    return MQTLS_OK;
}

/* Optional trailing "reason code [property length properties]" of MQTT 5 acks, DISCONNECT and
 * AUTH (3.4.2.1, 3.14.2.1, 3.15.2.1); @p form records which parts were present. */
static mqtls_status_t dec_reason_tail(rd_t *r, uint8_t type, uint8_t *reason,
                                      mqtls_properties_t *props, uint8_t *form)
{
    size_t left = r->len - r->pos;
    *reason = 0;
    *form = MQTLS_FORM_SHORTEST;
    if (left == 0u) {
        return MQTLS_OK;
    }
    mqtls_status_t st = rd_u8(r, reason);
    if (st != MQTLS_OK) {
        return st;
    }
    if (!mqtls__reason_valid(type, *reason)) {
        return MQTLS_ERR_BAD_REASON_CODE;
    }
    *form = MQTLS_FORM_REASON;
    if (left == 1u) {
        return MQTLS_OK;
    }
    *form = MQTLS_FORM_FULL;
    if ((st = rd_props(r, type, false, props, NULL)) != MQTLS_OK) {
        return st;
    }
    return rd_end(r);
}

static mqtls_status_t dec_ack(rd_t *r, bool v5, uint8_t type, mqtls_ack_t *a)
{
    mqtls_status_t st = rd_u16(r, &a->packet_id);
    if (st != MQTLS_OK) {
        return st;
    }
    if (a->packet_id == 0u) {
        return MQTLS_ERR_PACKET_ID_ZERO;
    }
    if (!v5) {
        return rd_end(r);
    }
    return dec_reason_tail(r, type, &a->reason, &a->props, &a->form);
}

static mqtls_status_t dec_subscribe(rd_t *r, bool v5, uint8_t type, mqtls_subscribe_t *s)
{
    mqtls_status_t st = rd_u16(r, &s->packet_id);
    if (st != MQTLS_OK) {
        return st;
    }
    if (s->packet_id == 0u) {
        return MQTLS_ERR_PACKET_ID_ZERO; /* [MQTT-2.3.1-1] */
    }
    if (v5 && (st = rd_props(r, type, false, &s->props, NULL)) != MQTLS_OK) {
        return st;
    }
    bool unsub = type == MQTLS_UNSUBSCRIBE;
    st = mqtls__filters_validate(r->p + r->pos, r->len - r->pos, !unsub, v5, &s->filters.count);
    if (st != MQTLS_OK) {
        return st;
    }
    s->filters.items = NULL;
    s->filters.raw.data = r->p + r->pos;
    s->filters.raw.len = r->len - r->pos;
    s->filters.no_options = unsub;
    r->pos = r->len;
    return MQTLS_OK;
}

static mqtls_status_t dec_suback(rd_t *r, bool v5, uint8_t type, mqtls_suback_t *s)
{
    mqtls_status_t st = rd_u16(r, &s->packet_id);
    if (st != MQTLS_OK) {
        return st;
    }
    if (s->packet_id == 0u) {
        return MQTLS_ERR_PACKET_ID_ZERO;
    }
    if (!v5 && type == MQTLS_UNSUBACK) {
        return rd_end(r); /* 3.1.1 UNSUBACK: packet id only */
    }
    if (v5 && (st = rd_props(r, type, false, &s->props, NULL)) != MQTLS_OK) {
        return st;
    }
    s->reasons.data = r->p + r->pos;
    s->reasons.len = r->len - r->pos;
    r->pos = r->len;
    return mqtls__reasons_check(type, s->reasons, v5);
}

mqtls_status_t mqtls_packet_decode(const uint8_t *in, size_t in_len, const mqtls_codec_cfg_t *cfg,
                                   mqtls_packet_t *pkt, size_t *used)
{
    if ((in == NULL && in_len != 0u) || pkt == NULL || used == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *used = 0;
    bool v5;
    mqtls_status_t st = cfg_version(cfg, &v5);
    if (st != MQTLS_OK) {
        return st;
    }
    if (in_len == 0u) {
        return MQTLS_ERR_NEED_MORE;
    }
    /* Everything the first byte can tell is checked before waiting for more bytes, so a
     * split feed reports the same status as the whole packet. */
    unsigned type = (unsigned)in[0] >> 4;
    unsigned flags = in[0] & 0x0Fu;
    if ((st = check_type(type, v5)) != MQTLS_OK || (st = check_flags(type, flags)) != MQTLS_OK) {
        return st;
    }
    size_t hl;
    uint32_t rem;
    if ((st = parse_length(in, in_len, cfg, &hl, &rem)) != MQTLS_OK) {
        return st;
    }
    if (in_len - hl < rem) {
        return MQTLS_ERR_NEED_MORE;
    }
    pkt->type = (mqtls_packet_type_t)type;
    if (type == MQTLS_PUBLISH) {
        st = dec_publish(in + hl, rem, v5, flags, &pkt->u.publish);
    } else {
        rd_t r = {in + hl, rem, 0};
        memset(&pkt->u, 0, sizeof pkt->u);
        switch (type) {
        case MQTLS_CONNECT:
            st = dec_connect(&r, &pkt->u.connect);
            break;
        case MQTLS_CONNACK:
            st = dec_connack(&r, v5, &pkt->u.connack);
            break;
        case MQTLS_PUBACK:
        case MQTLS_PUBREC:
        case MQTLS_PUBREL:
        case MQTLS_PUBCOMP:
            st = dec_ack(&r, v5, (uint8_t)type, &pkt->u.ack);
            break;
        case MQTLS_SUBSCRIBE:
        case MQTLS_UNSUBSCRIBE:
            st = dec_subscribe(&r, v5, (uint8_t)type, &pkt->u.subscribe);
            break;
        case MQTLS_SUBACK:
        case MQTLS_UNSUBACK:
            st = dec_suback(&r, v5, (uint8_t)type, &pkt->u.suback);
            break;
        case MQTLS_PINGREQ:
        case MQTLS_PINGRESP:
            st = rd_end(&r);
            break;
        case MQTLS_DISCONNECT:
            st = v5 ? dec_reason_tail(&r, MQTLS_DISCONNECT, &pkt->u.disconnect.reason,
                                      &pkt->u.disconnect.props, &pkt->u.disconnect.form)
                    : rd_end(&r);
            break;
        case MQTLS_AUTH:
            st = dec_reason_tail(&r, MQTLS_AUTH, &pkt->u.disconnect.reason,
                                 &pkt->u.disconnect.props, &pkt->u.disconnect.form);
            break;
        default:
            st = MQTLS_ERR_BAD_PACKET_TYPE;
            break;
        }
    }
    if (st == MQTLS_OK) {
        *used = hl + rem;
    }
    return st;
}

mqtls_status_t mqtls_filters_next(const mqtls_filter_list_t *list, size_t *cursor,
                                  mqtls_topic_filter_t *out)
{
    if (list == NULL || cursor == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (list->items != NULL) {
        if (*cursor >= list->count) {
            return MQTLS_ERR_NEED_MORE;
        }
        *out = list->items[(*cursor)++];
        return MQTLS_OK;
    }
    if (*cursor >= list->raw.len) {
        return MQTLS_ERR_NEED_MORE;
    }
    if (list->raw.data == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    rd_t r = {list->raw.data, list->raw.len, *cursor};
    out->options = 0;
    if (rd_bin(&r, &out->filter) != MQTLS_OK ||
        (!list->no_options && rd_u8(&r, &out->options) != MQTLS_OK)) {
        return MQTLS_ERR_MALFORMED;
    }
    *cursor = r.pos;
    return MQTLS_OK;
}
