/* MQTT 5 properties (MQTT 5.0 2.2.2): types, placement, "at most once", value ranges. */
#include <string.h>

#include "packet_internal.h"

#define B(t) (1u << (t))
#define WILL B(MQTLS__WILL_BIT)
#define ACKS (B(MQTLS_PUBACK) | B(MQTLS_PUBREC) | B(MQTLS_PUBREL) | B(MQTLS_PUBCOMP))

typedef struct prop_info {
    uint8_t type;     /* mqtls_prop_type_t; 0 = unknown id */
    uint8_t is_bool;  /* value must be 0 or 1 */
    uint16_t allowed; /* bit per packet type, bit 0 = CONNECT will properties */
    const char *name;
} prop_info_t;

/* MQTT 5.0 table 2-4 (2.2.2.2), one row per identifier. */
static const prop_info_t PROPS[0x2B] = {
    [0x01] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_PUBLISH) | WILL, "Payload Format Indicator"},
    [0x02] = {MQTLS_PROP_TYPE_U32, 0, B(MQTLS_PUBLISH) | WILL, "Message Expiry Interval"},
    [0x03] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_PUBLISH) | WILL, "Content Type"},
    [0x08] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_PUBLISH) | WILL, "Response Topic"},
    [0x09] = {MQTLS_PROP_TYPE_BINARY, 0, B(MQTLS_PUBLISH) | WILL, "Correlation Data"},
    [0x0B] = {MQTLS_PROP_TYPE_VARINT, 0, B(MQTLS_PUBLISH) | B(MQTLS_SUBSCRIBE),
              "Subscription Identifier"},
    [0x11] = {MQTLS_PROP_TYPE_U32, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT),
              "Session Expiry Interval"},
    [0x12] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_CONNACK), "Assigned Client Identifier"},
    [0x13] = {MQTLS_PROP_TYPE_U16, 0, B(MQTLS_CONNACK), "Server Keep Alive"},
    [0x15] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK) | B(MQTLS_AUTH),
              "Authentication Method"},
    [0x16] = {MQTLS_PROP_TYPE_BINARY, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK) | B(MQTLS_AUTH),
              "Authentication Data"},
    [0x17] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNECT), "Request Problem Information"},
    [0x18] = {MQTLS_PROP_TYPE_U32, 0, WILL, "Will Delay Interval"},
    [0x19] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNECT), "Request Response Information"},
    [0x1A] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_CONNACK), "Response Information"},
    [0x1C] = {MQTLS_PROP_TYPE_UTF8, 0, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Server Reference"},
    [0x1F] = {MQTLS_PROP_TYPE_UTF8, 0,
              B(MQTLS_CONNACK) | ACKS | B(MQTLS_SUBACK) | B(MQTLS_UNSUBACK) | B(MQTLS_DISCONNECT) |
                  B(MQTLS_AUTH),
              "Reason String"},
    [0x21] = {MQTLS_PROP_TYPE_U16, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK), "Receive Maximum"},
    [0x22] = {MQTLS_PROP_TYPE_U16, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK), "Topic Alias Maximum"},
    [0x23] = {MQTLS_PROP_TYPE_U16, 0, B(MQTLS_PUBLISH), "Topic Alias"},
    [0x24] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNACK), "Maximum QoS"},
    [0x25] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNACK), "Retain Available"},
    [0x26] = {MQTLS_PROP_TYPE_UTF8_PAIR, 0,
              B(MQTLS_CONNECT) | B(MQTLS_CONNACK) | B(MQTLS_PUBLISH) | WILL | ACKS |
                  B(MQTLS_SUBSCRIBE) | B(MQTLS_SUBACK) | B(MQTLS_UNSUBSCRIBE) | B(MQTLS_UNSUBACK) |
                  B(MQTLS_DISCONNECT) | B(MQTLS_AUTH),
              "User Property"},
    [0x27] = {MQTLS_PROP_TYPE_U32, 0, B(MQTLS_CONNECT) | B(MQTLS_CONNACK), "Maximum Packet Size"},
    [0x28] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNACK), "Wildcard Subscription Available"},
    [0x29] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNACK), "Subscription Identifier Available"},
    [0x2A] = {MQTLS_PROP_TYPE_BYTE, 1, B(MQTLS_CONNACK), "Shared Subscription Available"},
};
_Static_assert(sizeof PROPS / sizeof PROPS[0] == MQTLS_PROP_SHARED_SUBSCRIPTION_AVAILABLE + 1,
               "property table covers every identifier");

static const prop_info_t *info(uint8_t id)
{
    if (id >= sizeof PROPS / sizeof PROPS[0] || PROPS[id].type == MQTLS_PROP_TYPE_INVALID) {
        return NULL;
    }
    return &PROPS[id];
}

mqtls_prop_type_t mqtls_prop_type(uint8_t id)
{
    const prop_info_t *pi = info(id);
    return pi ? (mqtls_prop_type_t)pi->type : MQTLS_PROP_TYPE_INVALID;
}

const char *mqtls_prop_name(uint8_t id)
{
    const prop_info_t *pi = info(id);
    return pi ? pi->name : NULL;
}

bool mqtls_prop_allowed(uint8_t id, mqtls_packet_type_t type, bool in_will)
{
    const prop_info_t *pi = info(id);
    if (pi == NULL) {
        return false;
    }
    if (in_will) {
        return type == MQTLS_CONNECT && (pi->allowed & WILL) != 0u;
    }
    if ((unsigned)type < 1u || (unsigned)type > 15u) {
        return false;
    }
    return (pi->allowed & B((unsigned)type)) != 0u;
}

static mqtls_status_t read_bytes(const uint8_t *p, size_t len, size_t *pos, mqtls_bytes_t *out)
{
    if (len - *pos < 2u) {
        return MQTLS_ERR_PROP_LENGTH;
    }
    size_t n = ((size_t)p[*pos] << 8) | p[*pos + 1u];
    *pos += 2u;
    if (len - *pos < n) {
        return MQTLS_ERR_PROP_LENGTH;
    }
    out->data = p + *pos;
    out->len = n;
    *pos += n;
    return MQTLS_OK;
}

mqtls_status_t mqtls__prop_read(const uint8_t *p, size_t len, size_t *pos, mqtls_property_t *out)
{
    /* The identifier is a Variable Byte Integer, but every defined one is < 0x80. */
    uint8_t id = p[*pos];
    const prop_info_t *pi = info(id);
    if (pi == NULL) {
        return MQTLS_ERR_PROP_UNKNOWN;
    }
    size_t i = *pos + 1u;
    mqtls_status_t st = MQTLS_OK;
    out->id = id;
    switch ((mqtls_prop_type_t)pi->type) {
    case MQTLS_PROP_TYPE_BYTE:
        if (len - i < 1u) {
            return MQTLS_ERR_PROP_LENGTH;
        }
        out->v.u32 = p[i];
        i += 1u;
        break;
    case MQTLS_PROP_TYPE_U16:
        if (len - i < 2u) {
            return MQTLS_ERR_PROP_LENGTH;
        }
        out->v.u32 = ((uint32_t)p[i] << 8) | p[i + 1u];
        i += 2u;
        break;
    case MQTLS_PROP_TYPE_U32:
        if (len - i < 4u) {
            return MQTLS_ERR_PROP_LENGTH;
        }
        out->v.u32 = ((uint32_t)p[i] << 24) | ((uint32_t)p[i + 1u] << 16) |
                     ((uint32_t)p[i + 2u] << 8) | p[i + 3u];
        i += 4u;
        break;
    case MQTLS_PROP_TYPE_VARINT:
        st = mqtls__varint_get(p, len, &i, &out->v.u32);
        if (st == MQTLS_ERR_NEED_MORE) {
            return MQTLS_ERR_PROP_LENGTH;
        }
        if (st != MQTLS_OK) {
            return MQTLS_ERR_MALFORMED;
        }
        break;
    case MQTLS_PROP_TYPE_UTF8:
    case MQTLS_PROP_TYPE_BINARY:
        st = read_bytes(p, len, &i, &out->v.bin);
        break;
    case MQTLS_PROP_TYPE_UTF8_PAIR:
        st = read_bytes(p, len, &i, &out->v.pair.key);
        if (st == MQTLS_OK) {
            st = read_bytes(p, len, &i, &out->v.pair.value);
        }
        break;
    case MQTLS_PROP_TYPE_INVALID:
    default:
        return MQTLS_ERR_PROP_UNKNOWN;
    }
    if (st != MQTLS_OK) {
        return st;
    }
    *pos = i;
    return MQTLS_OK;
}

mqtls_status_t mqtls__prop_check(const mqtls_property_t *pr, uint8_t type, bool in_will,
                                 uint64_t *seen, bool check_utf8)
{
    const prop_info_t *pi = info(pr->id);
    if (pi == NULL) {
        return MQTLS_ERR_PROP_UNKNOWN;
    }
    if (!mqtls_prop_allowed(pr->id, (mqtls_packet_type_t)type, in_will)) {
        return MQTLS_ERR_PROP_NOT_ALLOWED;
    }
    uint64_t bit = (uint64_t)1u << pr->id;
    if ((*seen & bit) != 0u && !mqtls__prop_repeatable(pr->id, type)) {
        return MQTLS_ERR_PROP_DUPLICATE; /* e.g. [MQTT-3.1.2-*]: "more than once" is an error */
    }
    *seen |= bit;
    mqtls_status_t st = MQTLS_OK;
    switch ((mqtls_prop_type_t)pi->type) {
    case MQTLS_PROP_TYPE_BYTE:
        if (pr->v.u32 > (pi->is_bool ? 1u : 255u)) {
            return MQTLS_ERR_PROP_VALUE;
        }
        break;
    case MQTLS_PROP_TYPE_U16:
        if (pr->v.u32 > 0xFFFFu) {
            return MQTLS_ERR_PROP_VALUE;
        }
        /* Receive Maximum 0 (3.1.2.11.3), Topic Alias 0 (3.3.2.3.4) are Protocol Errors. */
        if (pr->v.u32 == 0u &&
            (pr->id == MQTLS_PROP_RECEIVE_MAXIMUM || pr->id == MQTLS_PROP_TOPIC_ALIAS)) {
            return MQTLS_ERR_PROP_VALUE;
        }
        break;
    case MQTLS_PROP_TYPE_U32:
        if (pr->v.u32 == 0u && pr->id == MQTLS_PROP_MAXIMUM_PACKET_SIZE) {
            return MQTLS_ERR_PROP_VALUE; /* 3.1.2.11.4 */
        }
        break;
    case MQTLS_PROP_TYPE_VARINT:
        /* Subscription Identifier 1..268435455 (3.3.2.3.8, 3.8.2.1.2). */
        if (pr->v.u32 == 0u || pr->v.u32 > MQTLS__VARINT_MAX) {
            return MQTLS_ERR_PROP_VALUE;
        }
        break;
    case MQTLS_PROP_TYPE_UTF8:
        if (pr->v.bin.len > 0xFFFFu) {
            return MQTLS_ERR_STRING_TOO_LONG;
        }
        if (check_utf8) {
            st = mqtls_utf8_check(pr->v.bin.data, pr->v.bin.len);
            if (st != MQTLS_OK) {
                return st;
            }
        }
        /* [MQTT-3.3.2-14] the Response Topic is a topic name: no wildcards. */
        if (pr->id == MQTLS_PROP_RESPONSE_TOPIC) {
            st = mqtls_topic_name_check(pr->v.bin.data, pr->v.bin.len);
        }
        break;
    case MQTLS_PROP_TYPE_BINARY:
        if (pr->v.bin.len > 0xFFFFu) {
            return MQTLS_ERR_STRING_TOO_LONG;
        }
        if (pr->v.bin.data == NULL && pr->v.bin.len != 0u) {
            return MQTLS_ERR_INVALID_ARG;
        }
        break;
    case MQTLS_PROP_TYPE_UTF8_PAIR:
        if (pr->v.pair.key.len > 0xFFFFu || pr->v.pair.value.len > 0xFFFFu) {
            return MQTLS_ERR_STRING_TOO_LONG;
        }
        if (check_utf8) {
            st = mqtls_utf8_check(pr->v.pair.key.data, pr->v.pair.key.len);
            if (st == MQTLS_OK) {
                st = mqtls_utf8_check(pr->v.pair.value.data, pr->v.pair.value.len);
            }
        }
        break;
    case MQTLS_PROP_TYPE_INVALID:
    default:
        return MQTLS_ERR_PROP_UNKNOWN;
    }
    return st;
}

/* Checks across properties once the block is complete. */
static mqtls_status_t block_check(uint64_t seen)
{
    /* 3.1.2.11.10 / 3.2.2.3.18 / 3.15.2.2.4: Authentication Data without a Method. */
    if ((seen & ((uint64_t)1u << MQTLS_PROP_AUTHENTICATION_DATA)) != 0u &&
        (seen & ((uint64_t)1u << MQTLS_PROP_AUTHENTICATION_METHOD)) == 0u) {
        return MQTLS_ERR_PROP_NOT_ALLOWED;
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__props_validate_raw(const uint8_t *p, size_t len, uint8_t type, bool in_will,
                                         uint64_t *seen_out)
{
    uint64_t seen = 0;
    size_t pos = 0;
    while (pos < len) {
        mqtls_property_t pr;
        mqtls_status_t st = mqtls__prop_read(p, len, &pos, &pr);
        if (st == MQTLS_OK) {
            st = mqtls__prop_check(&pr, type, in_will, &seen, true);
        }
        if (st != MQTLS_OK) {
            return st;
        }
    }
    if (seen_out != NULL) {
        *seen_out = seen;
    }
    return block_check(seen);
}

mqtls_status_t mqtls__props_validate_items(const mqtls_property_t *items, size_t count,
                                           uint8_t type, bool in_will, uint64_t *seen_out)
{
    uint64_t seen = 0;
    for (size_t i = 0; i < count; i++) {
        const mqtls_property_t *pr = &items[i];
        const prop_info_t *pi = info(pr->id);
        if (pi != NULL && pi->type == MQTLS_PROP_TYPE_UTF8_PAIR &&
            ((pr->v.pair.key.data == NULL && pr->v.pair.key.len != 0u) ||
             (pr->v.pair.value.data == NULL && pr->v.pair.value.len != 0u))) {
            return MQTLS_ERR_INVALID_ARG;
        }
        if (pi != NULL && pi->type == MQTLS_PROP_TYPE_UTF8 && pr->v.bin.data == NULL &&
            pr->v.bin.len != 0u) {
            return MQTLS_ERR_INVALID_ARG;
        }
        mqtls_status_t st = mqtls__prop_check(pr, type, in_will, &seen, true);
        if (st != MQTLS_OK) {
            return st;
        }
    }
    if (seen_out != NULL) {
        *seen_out = seen;
    }
    return block_check(seen);
}

static size_t item_len(const mqtls_property_t *pr)
{
    const prop_info_t *pi = info(pr->id);
    if (pi == NULL) {
        return 0u; /* rejected by validation; never written */
    }
    switch ((mqtls_prop_type_t)pi->type) {
    case MQTLS_PROP_TYPE_BYTE:
        return 2u;
    case MQTLS_PROP_TYPE_U16:
        return 3u;
    case MQTLS_PROP_TYPE_U32:
        return 5u;
    case MQTLS_PROP_TYPE_VARINT:
        return 1u + mqtls__varint_size(pr->v.u32);
    case MQTLS_PROP_TYPE_UTF8:
    case MQTLS_PROP_TYPE_BINARY:
        return 3u + pr->v.bin.len;
    case MQTLS_PROP_TYPE_UTF8_PAIR:
        return 5u + pr->v.pair.key.len + pr->v.pair.value.len;
    case MQTLS_PROP_TYPE_INVALID:
    default:
        return 0u;
    }
}

size_t mqtls__props_items_len(const mqtls_property_t *items, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        n += item_len(&items[i]);
    }
    return n;
}

static uint8_t *put_bytes(uint8_t *o, mqtls_bytes_t b)
{
    *o++ = (uint8_t)(b.len >> 8);
    *o++ = (uint8_t)b.len;
    if (b.len != 0u) {
        memcpy(o, b.data, b.len);
    }
    return o + b.len;
}

void mqtls__props_items_write(const mqtls_property_t *items, size_t count, uint8_t *out)
{
    uint8_t *o = out;
    for (size_t i = 0; i < count; i++) {
        const mqtls_property_t *pr = &items[i];
        uint32_t v = pr->v.u32;
        const prop_info_t *pi = info(pr->id);
        if (pi == NULL) {
            continue; /* not reached: items are validated before they are written */
        }
        *o++ = pr->id;
        switch ((mqtls_prop_type_t)pi->type) {
        case MQTLS_PROP_TYPE_BYTE:
            *o++ = (uint8_t)v;
            break;
        case MQTLS_PROP_TYPE_U16:
            *o++ = (uint8_t)(v >> 8);
            *o++ = (uint8_t)v;
            break;
        case MQTLS_PROP_TYPE_U32:
            *o++ = (uint8_t)(v >> 24);
            *o++ = (uint8_t)(v >> 16);
            *o++ = (uint8_t)(v >> 8);
            *o++ = (uint8_t)v;
            break;
        case MQTLS_PROP_TYPE_VARINT:
            o += mqtls__varint_put(o, v);
            break;
        case MQTLS_PROP_TYPE_UTF8:
        case MQTLS_PROP_TYPE_BINARY:
            o = put_bytes(o, pr->v.bin);
            break;
        case MQTLS_PROP_TYPE_UTF8_PAIR:
            o = put_bytes(o, pr->v.pair.key);
            o = put_bytes(o, pr->v.pair.value);
            break;
        case MQTLS_PROP_TYPE_INVALID:
        default:
            break;
        }
    }
}

mqtls_status_t mqtls_props_next(const mqtls_properties_t *props, size_t *cursor,
                                mqtls_property_t *out)
{
    if (props == NULL || cursor == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (props->items != NULL) {
        if (*cursor >= props->count) {
            return MQTLS_ERR_NEED_MORE;
        }
        *out = props->items[(*cursor)++];
        return MQTLS_OK;
    }
    if (*cursor >= props->raw.len) {
        return MQTLS_ERR_NEED_MORE;
    }
    if (props->raw.data == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (mqtls__prop_read(props->raw.data, props->raw.len, cursor, out) != MQTLS_OK) {
        return MQTLS_ERR_MALFORMED;
    }
    return MQTLS_OK;
}

bool mqtls_props_find(const mqtls_properties_t *props, uint8_t id, mqtls_property_t *out)
{
    size_t cursor = 0;
    mqtls_property_t pr;
    /* Bounded: each step advances the cursor by at least one byte or one item. */
    while (mqtls_props_next(props, &cursor, &pr) == MQTLS_OK) {
        if (pr.id == id) {
            if (out != NULL) {
                *out = pr;
            }
            return true;
        }
    }
    return false;
}
