/* libFuzzer target for the encoder: build a packet (item arrays, not raw blocks) from the
 * fuzz input, encode it for a version; whatever the encoder accepts, the decoder must accept
 * and give back equal fields ("refuses to produce a packet the decoder would reject"), and
 * the size query must agree. Nothing may crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtls/packet.h"
#include "packet_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct src {
    const uint8_t *p;
    size_t len;
} src_t;

static uint8_t u8(src_t *s)
{
    if (s->len == 0u) {
        return 0;
    }
    s->len--;
    return *s->p++;
}

static uint32_t u32(src_t *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 8) | u8(s);
    }
    return v;
}

/* A view of up to 15 input bytes (length from the next byte); borrowed from the input. */
static mqtls_bytes_t bytes(src_t *s)
{
    size_t n = u8(s) & 0x0Fu;
    if (n > s->len) {
        n = s->len;
    }
    mqtls_bytes_t b = {s->p, n};
    s->p += n;
    s->len -= n;
    return b;
}

#define MAX_ITEMS 6

static void props(src_t *s, mqtls_property_t *items, mqtls_properties_t *out)
{
    size_t n = u8(s) % (MAX_ITEMS + 1u);
    for (size_t i = 0; i < n; i++) {
        mqtls_property_t *p = &items[i];
        memset(p, 0, sizeof *p);
        p->id = (uint8_t)(u8(s) % 0x2Cu);
        switch (mqtls_prop_type(p->id)) {
        case MQTLS_PROP_TYPE_UTF8:
        case MQTLS_PROP_TYPE_BINARY:
            p->v.bin = bytes(s);
            break;
        case MQTLS_PROP_TYPE_UTF8_PAIR:
            p->v.pair.key = bytes(s);
            p->v.pair.value = bytes(s);
            break;
        default: {
            uint8_t sel = u8(s);
            p->v.u32 = (sel & 0x80u) != 0u ? u32(s) : sel; /* small values most of the time */
            break;
        }
        }
    }
    out->items = items;
    out->count = n;
}

static uint8_t expected_form(uint8_t form, uint8_t reason, const mqtls_properties_t *p)
{
    uint8_t need = p->count != 0u ? MQTLS_FORM_FULL : reason != 0u ? MQTLS_FORM_REASON : 0u;
    return form > need ? form : need;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    src_t s = {data, size};
    mqtls_property_t items[MAX_ITEMS];
    mqtls_property_t will_items[MAX_ITEMS];
    mqtls_topic_filter_t filters[4];
    uint8_t sel = u8(&s);
    mqtls_version_t version = (sel & 3u) == 0u   ? MQTLS_V31
                              : (sel & 3u) == 1u ? MQTLS_V311
                                                 : MQTLS_V5;
    bool v5 = version == MQTLS_V5;
    mqtls_packet_t pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = (mqtls_packet_type_t)(((sel >> 2) % 15u) + 1u);
    uint8_t b;
    switch (pkt.type) {
    case MQTLS_CONNECT: {
        mqtls_connect_t *c = &pkt.u.connect;
        c->version = version;
        b = u8(&s);
        c->clean_start = (b & 1u) != 0u;
        c->has_will = (b & 2u) != 0u;
        c->will_qos = (uint8_t)((b >> 2) & 3u);
        c->will_retain = (b & 0x10u) != 0u;
        c->has_username = (b & 0x20u) != 0u;
        c->has_password = (b & 0x40u) != 0u;
        c->keepalive_s = (uint16_t)u32(&s);
        if (v5) {
            props(&s, items, &c->props);
            if (c->has_will) {
                props(&s, will_items, &c->will_props);
            }
        }
        c->client_id = bytes(&s);
        c->will_topic = bytes(&s);
        c->will_payload = bytes(&s);
        c->username = bytes(&s);
        c->password = bytes(&s);
        break;
    }
    case MQTLS_CONNACK:
        b = u8(&s);
        pkt.u.connack.session_present = (b & 1u) != 0u;
        pkt.u.connack.reason = u8(&s);
        if (v5) {
            props(&s, items, &pkt.u.connack.props);
        }
        break;
    case MQTLS_PUBLISH: {
        mqtls_publish_t *p = &pkt.u.publish;
        b = u8(&s);
        p->qos = b & 3u;
        p->retain = (b & 4u) != 0u;
        p->dup = (b & 8u) != 0u;
        p->packet_id = (uint16_t)u32(&s);
        p->topic = bytes(&s);
        if (v5) {
            props(&s, items, &p->props);
        }
        p->payload.data = s.p;
        p->payload.len = s.len;
        break;
    }
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        pkt.u.ack.packet_id = (uint16_t)u32(&s);
        if (v5) {
            pkt.u.ack.reason = u8(&s);
            pkt.u.ack.form = u8(&s) % 3u;
            props(&s, items, &pkt.u.ack.props);
        }
        break;
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE: {
        pkt.u.subscribe.packet_id = (uint16_t)u32(&s);
        if (v5) {
            props(&s, items, &pkt.u.subscribe.props);
        }
        size_t n = u8(&s) % 5u;
        for (size_t i = 0; i < n; i++) {
            filters[i].filter = bytes(&s);
            b = u8(&s);
            /* The encoder sends only the QoS bits in 3.1.1, and none for UNSUBSCRIBE. */
            filters[i].options = pkt.type == MQTLS_UNSUBSCRIBE ? 0u : v5 ? b : (uint8_t)(b & 3u);
        }
        pkt.u.subscribe.filters.items = filters;
        pkt.u.subscribe.filters.count = n;
        break;
    }
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK:
        pkt.u.suback.packet_id = (uint16_t)u32(&s);
        if (v5) {
            props(&s, items, &pkt.u.suback.props);
        }
        pkt.u.suback.reasons = bytes(&s);
        break;
    case MQTLS_DISCONNECT:
    case MQTLS_AUTH:
        if (v5) {
            pkt.u.disconnect.reason = u8(&s);
            pkt.u.disconnect.form = u8(&s) % 3u;
            props(&s, items, &pkt.u.disconnect.props);
        }
        break;
    case MQTLS_PINGREQ:
    case MQTLS_PINGRESP:
    default:
        break;
    }

    size_t need = 0;
    mqtls_status_t st_size = mqtls_packet_encoded_size(&pkt, version, &need);
    static uint8_t buf[4096];
    size_t written = 0;
    mqtls_status_t st = mqtls_packet_encode(&pkt, version, buf, sizeof buf, &written);
    CHECK(st == st_size);
    if (st != MQTLS_OK) {
        CHECK(st < 0 && st > -100 && st != MQTLS_ERR_BUFFER_TOO_SMALL);
        return 0;
    }
    CHECK(written == need);
    mqtls_codec_cfg_t cfg = {.version = version, .max_packet_size = 0};
    mqtls_packet_t back;
    size_t used = 0;
    CHECK(mqtls_packet_decode(buf, written, &cfg, &back, &used) == MQTLS_OK);
    CHECK(used == written);
    if (v5 && (pkt.type == MQTLS_DISCONNECT || pkt.type == MQTLS_AUTH)) {
        pkt.u.disconnect.form =
            expected_form(pkt.u.disconnect.form, pkt.u.disconnect.reason, &pkt.u.disconnect.props);
    }
    if (v5 && pkt.type >= MQTLS_PUBACK && pkt.type <= MQTLS_PUBCOMP) {
        pkt.u.ack.form = expected_form(pkt.u.ack.form, pkt.u.ack.reason, &pkt.u.ack.props);
    }
    CHECK(packet_equal(&pkt, &back, v5));
    return 0;
}
