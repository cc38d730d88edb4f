/* MQTT 3.1 / 3.1.1 / 5.0 control packets: frame, decode, encode. Sans I/O, no allocation.
 * Field layouts: MQTT 3.1.1 chapter 3, MQTT 5.0 chapter 3. */
#include <string.h>

#include "packet_internal.h"

/* 1 byte type + 4 bytes remaining length + the largest remaining length. */
#define MAX_TOTAL_LEN ((size_t)1u + 4u + MQTLS__VARINT_MAX)
#define BIT(id) ((uint64_t)1u << (id))

/* ---------------------------------------------------------------------------------------- */
/* Reading: a bounded cursor over one packet's body.                                         */

typedef struct rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
} rd_t;

static inline mqtls_status_t rd_u8(rd_t *r, uint8_t *v)
{
    if (r->pos >= r->len) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    *v = r->p[r->pos++];
    return MQTLS_OK;
}

static inline mqtls_status_t rd_u16(rd_t *r, uint16_t *v)
{
    if (r->len - r->pos < 2u) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    *v = (uint16_t)(((unsigned)r->p[r->pos] << 8) | r->p[r->pos + 1u]);
    r->pos += 2u;
    return MQTLS_OK;
}

/* Binary Data / the bytes of a UTF-8 string: 2-byte length + data [MQTT-1.5.6]. */
static inline mqtls_status_t rd_bin(rd_t *r, mqtls_bytes_t *out)
{
    if (r->len - r->pos < 2u) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    size_t n = ((size_t)r->p[r->pos] << 8) | r->p[r->pos + 1u];
    if (r->len - r->pos - 2u < n) {
        return MQTLS_ERR_TRUNCATED_FIELD;
    }
    out->data = r->p + r->pos + 2u;
    out->len = n;
    r->pos += 2u + n;
    return MQTLS_OK;
}

static mqtls_status_t rd_str(rd_t *r, mqtls_bytes_t *out)
{
    mqtls_status_t st = rd_bin(r, out);
    return st != MQTLS_OK ? st : mqtls_utf8_check(out->data, out->len);
}

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

/* ---------------------------------------------------------------------------------------- */
/* Rules shared by decoder and encoder.                                                      */

static mqtls_status_t check_filter(const mqtls_bytes_t *f, bool v5, bool *shared)
{
    mqtls_status_t st = mqtls_topic_filter_check(f->data, f->len);
    *shared = false;
    if (st == MQTLS_OK && v5) {
        st = mqtls__shared_filter_check(f->data, f->len, shared);
    }
    return st;
}

static mqtls_status_t check_subopt(uint8_t o, bool v5, bool shared)
{
    if ((o & MQTLS_SUBOPT_QOS_MASK) == 3u) {
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.8.3-4] (3.1.1) / 3.8.3.1 (5.0) */
    }
    if (!v5) {
        return (o & 0xFCu) != 0u ? MQTLS_ERR_SUB_OPTIONS : MQTLS_OK; /* [MQTT-3.8.3-4] */
    }
    if ((o & 0xC0u) != 0u || ((o >> MQTLS_SUBOPT_RETAIN_HANDLING_SHIFT) & 3u) == 3u) {
        return MQTLS_ERR_SUB_OPTIONS; /* [MQTT-3.8.3-5], retain handling 3 is a Protocol Error */
    }
    if (shared && (o & MQTLS_SUBOPT_NO_LOCAL) != 0u) {
        return MQTLS_ERR_SUB_OPTIONS; /* [MQTT-3.8.3-4] No Local on a shared subscription */
    }
    return MQTLS_OK;
}

/* Walk a SUBSCRIBE / UNSUBSCRIBE payload; every entry checked. */
static mqtls_status_t filters_validate(const uint8_t *p, size_t len, bool has_options, bool v5,
                                       size_t *count)
{
    rd_t r = {p, len, 0};
    size_t n = 0;
    while (r.pos < r.len) {
        mqtls_bytes_t f;
        bool shared;
        mqtls_status_t st = rd_bin(&r, &f);
        if (st == MQTLS_OK) {
            st = check_filter(&f, v5, &shared);
        }
        if (st == MQTLS_OK && has_options) {
            uint8_t o;
            st = rd_u8(&r, &o);
            if (st == MQTLS_OK) {
                st = check_subopt(o, v5, shared);
            }
        }
        if (st != MQTLS_OK) {
            return st;
        }
        n++;
    }
    if (n == 0u) {
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    }
    *count = n;
    return MQTLS_OK;
}

static mqtls_status_t check_suback_reason(uint8_t type, uint8_t code, bool v5)
{
    if (v5) {
        return mqtls__reason_valid(type, code) ? MQTLS_OK : MQTLS_ERR_BAD_REASON_CODE;
    }
    /* [MQTT-3.9.3-2] 3.1.1 SUBACK return codes: 0x00, 0x01, 0x02, 0x80. */
    return (code <= 2u || code == 0x80u) ? MQTLS_OK : MQTLS_ERR_BAD_REASON_CODE;
}

static mqtls_status_t check_reasons(uint8_t type, mqtls_bytes_t reasons, bool v5)
{
    if (reasons.len == 0u) {
        return MQTLS_ERR_NO_REASON_CODES; /* [MQTT-3.9.3-1]: one per filter, so at least one */
    }
    for (size_t i = 0; i < reasons.len; i++) {
        mqtls_status_t st = check_suback_reason(type, reasons.data[i], v5);
        if (st != MQTLS_OK) {
            return st;
        }
    }
    return MQTLS_OK;
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
        if (tlen == 0u && (seen & BIT(MQTLS_PROP_TOPIC_ALIAS)) != 0u) {
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
    st = filters_validate(r->p + r->pos, r->len - r->pos, !unsub, v5, &s->filters.count);
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
    return check_reasons(type, s->reasons, v5);
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
            if ((st = filters_validate(l->raw.data, l->raw.len, !unsub, v5, &count))) {
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
                (st = check_filter(&f->filter, v5, &shared)) != MQTLS_OK ||
                (!unsub && (st = check_subopt(opts, v5, shared)) != MQTLS_OK)) {
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
            if (!ids_only && ((st = chk_bin(s->reasons)) == MQTLS_ERR_INVALID_ARG ||
                              (st = check_reasons((uint8_t)type, s->reasons, v5)) != MQTLS_OK)) {
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
    if (v5 && p->topic.len == 0u && (seen & BIT(MQTLS_PROP_TOPIC_ALIAS)) != 0u) {
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
