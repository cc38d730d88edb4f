/* Internal helpers shared by the codec's translation units. Never installed. */
#ifndef MQTLS_PACKET_INTERNAL_H
#define MQTLS_PACKET_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "mqtls/packet.h"

/** Largest value of a Variable Byte Integer [MQTT-1.5.5]. */
#define MQTLS__VARINT_MAX 268435455u

/** Bit of "packet type" 0 in the allowed-in masks stands for the CONNECT will properties. */
#define MQTLS__WILL_BIT 0u

/** Is @p id a property that may appear more than once in packet @p type? */
static inline bool mqtls__prop_repeatable(uint8_t id, uint8_t type)
{
    /* User Property always (3.1.2.11.8 etc.); Subscription Identifier only in PUBLISH
     * (3.3.2.3.8); in SUBSCRIBE it is a Protocol Error to include it twice (3.8.2.1.2). */
    return id == MQTLS_PROP_USER_PROPERTY ||
           (id == MQTLS_PROP_SUBSCRIPTION_IDENTIFIER && type == MQTLS_PUBLISH);
}

/** Read one property (structure and UTF-8) from p[*pos..len).
 *  @return MQTLS_OK; MQTLS_ERR_PROP_UNKNOWN; MQTLS_ERR_PROP_LENGTH; MQTLS_ERR_UTF8_*;
 *          MQTLS_ERR_MALFORMED (bad variable byte integer). */
mqtls_status_t mqtls__prop_read(const uint8_t *p, size_t len, size_t *pos, mqtls_property_t *out);

/** Check one property's placement and value for packet @p type (@p in_will: will props).
 *  @p seen accumulates ids for the "at most once" rule. Validates UTF-8 of items too. */
mqtls_status_t mqtls__prop_check(const mqtls_property_t *pr, uint8_t type, bool in_will,
                                 uint64_t *seen, bool check_utf8);

/** Validate a raw property block for @p type. @p seen_out (may be NULL) gets the id mask. */
mqtls_status_t mqtls__props_validate_raw(const uint8_t *p, size_t len, uint8_t type, bool in_will,
                                         uint64_t *seen_out);

/** Validate caller-built items for @p type; @p len_out gets the encoded block length. */
mqtls_status_t mqtls__props_validate_items(const mqtls_property_t *items, size_t count,
                                           uint8_t type, bool in_will, uint64_t *seen_out);

/** Encoded length of caller-built items (no length prefix); assumes they were validated. */
size_t mqtls__props_items_len(const mqtls_property_t *items, size_t count);

/** Write caller-built items at @p out (exactly mqtls__props_items_len bytes). */
void mqtls__props_items_write(const mqtls_property_t *items, size_t count, uint8_t *out);

/** Size of a Variable Byte Integer for @p v (1..4). */
static inline size_t mqtls__varint_size(uint32_t v)
{
    return v < 128u ? 1u : v < 16384u ? 2u : v < 2097152u ? 3u : 4u;
}

/** Write @p v as a Variable Byte Integer; returns bytes written. */
static inline size_t mqtls__varint_put(uint8_t *out, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        if (v != 0u) {
            b |= 0x80u;
        }
        out[n++] = b;
    } while (v != 0u);
    return n;
}

/** Decode a Variable Byte Integer from p[*pos..len) [MQTT-1.5.5].
 *  @return MQTLS_OK; MQTLS_ERR_NEED_MORE if it runs off the end; MQTLS_ERR_MALFORMED if it
 *          has more than 4 bytes or is not minimal ([MQTT-1.5.5-1]). */
static inline mqtls_status_t mqtls__varint_get(const uint8_t *p, size_t len, size_t *pos,
                                               uint32_t *out)
{
    uint32_t v = 0;
    size_t i = *pos;
    for (unsigned n = 0; n < 4u; n++) {
        if (i >= len) {
            return MQTLS_ERR_NEED_MORE;
        }
        uint8_t b = p[i++];
        v |= (uint32_t)(b & 0x7Fu) << (7u * n);
        if ((b & 0x80u) == 0u) {
            /* A zero last byte after the first one means a longer encoding than needed. */
            if (n > 0u && b == 0u) {
                return MQTLS_ERR_MALFORMED;
            }
            *pos = i;
            *out = v;
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_MALFORMED;
}

/** Cheap pre-check of a topic name: true if every byte is in 0x2C..0x7F, which is then a valid
 *  topic name (ASCII, no U+0000, no '+' 0x2B, no '#' 0x23). false means "look closer" with
 *  mqtls_topic_name_check() (also for valid names with a space, '$', '!' or non-ASCII).
 *  Word at a time: a byte is < 0x2C or >= 0x80 iff the high bit of (b - 0x2C) | b is set,
 *  and borrows only start at such a byte. */
static inline bool mqtls__topic_plain(const uint8_t *s, size_t len)
{
    const uint64_t k = 0x2C2C2C2C2C2C2C2Cull;
    const uint64_t highs = 0x8080808080808080ull;
    if (len >= 8u) {
        uint64_t v;
        size_t i = 0;
        for (; i + 8u < len; i += 8u) {
            memcpy(&v, s + i, sizeof v);
            if (((v - k) | v) & highs) {
                return false;
            }
        }
        memcpy(&v, s + len - 8u, sizeof v); /* last word overlaps the previous one */
        return (((v - k) | v) & highs) == 0u;
    }
    if (len == 0u) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x2Cu || s[i] >= 0x80u) {
            return false;
        }
    }
    return true;
}

/** Shared-subscription filter rules (MQTT 5 4.8.2). */
mqtls_status_t mqtls__shared_filter_check(const uint8_t *s, size_t len, bool *is_shared);

/** Is @p code a valid MQTT 5 reason code for packet @p type? */
bool mqtls__reason_valid(uint8_t type, uint8_t code);

/** Bit of property @p id in a "properties seen" mask (mqtls__props_validate_raw). */
#define MQTLS__PROP_BIT(id) ((uint64_t)1u << (id))

/* ---- Reading: a bounded cursor over one packet's body (the decoder, and the rules below,
 * which walk raw filter lists). */
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

static inline mqtls_status_t rd_str(rd_t *r, mqtls_bytes_t *out)
{
    mqtls_status_t st = rd_bin(r, out);
    return st != MQTLS_OK ? st : mqtls_utf8_check(out->data, out->len);
}

/* ---- Rules shared by decoder and encoder (rules.c). */

/** A topic filter as SUBSCRIBE/UNSUBSCRIBE carries it; @p shared: "$share/..." (MQTT 5). */
mqtls_status_t mqtls__filter_check_v(const mqtls_bytes_t *f, bool v5, bool *shared);
/** A subscription options byte [MQTT-3.8.3-4/5]. */
mqtls_status_t mqtls__subopt_check(uint8_t o, bool v5, bool shared);
/** Walk a SUBSCRIBE / UNSUBSCRIBE payload, checking every entry; @p count entries. */
mqtls_status_t mqtls__filters_validate(const uint8_t *p, size_t len, bool has_options, bool v5,
                                       size_t *count);
/** SUBACK / UNSUBACK reason codes: at least one, each valid for @p type and version. */
mqtls_status_t mqtls__reasons_check(uint8_t type, mqtls_bytes_t reasons, bool v5);

#endif
