/* Unit tests of src/packet: spec vectors both ways, round trip, split feed, encoder contract,
 * helpers (UTF-8, topics, matching, names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz/packet_equal.h"
#include "mqtls/packet.h"
#include "vectors.h"

static mqtls_codec_cfg_t cfg_for(mqtls_version_t v)
{
    mqtls_codec_cfg_t c = {.version = v, .max_packet_size = 0};
    return c;
}

static void test_decode_vectors_each_yields_expected_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_t *v = &VECTORS[i];
        mqtls_codec_cfg_t cfg = cfg_for(v->version);
        mqtls_packet_t pkt;
        size_t used = 99;
        print_message("decode: %s\n", v->name);
        assert_int_equal(mqtls_packet_decode(v->bytes, v->len, &cfg, &pkt, &used), MQTLS_OK);
        assert_int_equal(used, v->len);
        assert_true(packet_equal(&pkt, &v->pkt, v->version == MQTLS_V5));
    }
}

static void test_encode_vectors_each_yields_exact_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_t *v = &VECTORS[i];
        uint8_t buf[256];
        size_t written = 0;
        size_t size = 0;
        print_message("encode: %s\n", v->name);
        assert_int_equal(mqtls_packet_encode(&v->pkt, v->version, buf, sizeof buf, &written),
                         MQTLS_OK);
        assert_int_equal(written, v->len);
        assert_memory_equal(buf, v->bytes, v->len);
        assert_int_equal(mqtls_packet_encoded_size(&v->pkt, v->version, &size), MQTLS_OK);
        assert_int_equal(size, v->len);
    }
}

static void test_roundtrip_vectors_reencode_byte_identical(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_t *v = &VECTORS[i];
        mqtls_codec_cfg_t cfg = cfg_for(v->version);
        mqtls_packet_t pkt;
        mqtls_packet_t again;
        size_t used;
        uint8_t buf[256];
        size_t written;
        assert_int_equal(mqtls_packet_decode(v->bytes, v->len, &cfg, &pkt, &used), MQTLS_OK);
        assert_int_equal(mqtls_packet_encode(&pkt, v->version, buf, sizeof buf, &written),
                         MQTLS_OK);
        assert_int_equal(written, v->len);
        assert_memory_equal(buf, v->bytes, v->len);
        assert_int_equal(mqtls_packet_decode(buf, written, &cfg, &again, &used), MQTLS_OK);
        assert_true(packet_equal(&pkt, &again, v->version == MQTLS_V5));
    }
}

static void test_decode_split_at_every_point_same_result(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_t *v = &VECTORS[i];
        mqtls_codec_cfg_t cfg = cfg_for(v->version);
        /* Feed one byte at a time into a staging buffer, as a socket might. */
        uint8_t stage[256];
        size_t have = 0;
        mqtls_packet_t pkt;
        size_t used = 0;
        mqtls_status_t st = MQTLS_ERR_NEED_MORE;
        for (size_t k = 0; k < v->len; k++) {
            stage[have++] = v->bytes[k];
            st = mqtls_packet_decode(stage, have, &cfg, &pkt, &used);
            if (have < v->len) {
                assert_int_equal(st, MQTLS_ERR_NEED_MORE);
                assert_int_equal(used, 0);
            }
            size_t total = 0;
            mqtls_status_t fs = mqtls_packet_frame(stage, have, &cfg, &total);
            if (fs == MQTLS_OK) {
                assert_int_equal(total, v->len);
            } else {
                assert_int_equal(fs, MQTLS_ERR_NEED_MORE);
            }
        }
        assert_int_equal(st, MQTLS_OK);
        assert_int_equal(used, v->len);
        assert_true(packet_equal(&pkt, &v->pkt, v->version == MQTLS_V5));
        /* Two packets back to back: the first decodes, used tells where the next starts. */
        memcpy(stage, v->bytes, v->len);
        memcpy(stage + v->len, v->bytes, v->len);
        assert_int_equal(mqtls_packet_decode(stage, 2u * v->len, &cfg, &pkt, &used), MQTLS_OK);
        assert_int_equal(used, v->len);
        assert_int_equal(mqtls_packet_decode(stage + used, v->len, &cfg, &pkt, &used), MQTLS_OK);
    }
}

static void test_encode_small_buffer_reports_exact_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_t *v = &VECTORS[i];
        uint8_t buf[256];
        size_t written = 0;
        assert_int_equal(mqtls_packet_encode(&v->pkt, v->version, NULL, 0, &written),
                         MQTLS_ERR_BUFFER_TOO_SMALL);
        assert_int_equal(written, v->len);
        assert_int_equal(mqtls_packet_encode(&v->pkt, v->version, buf, v->len - 1u, &written),
                         MQTLS_ERR_BUFFER_TOO_SMALL);
        assert_int_equal(written, v->len);
        assert_int_equal(mqtls_packet_encode(&v->pkt, v->version, buf, v->len, &written), MQTLS_OK);
        assert_int_equal(written, v->len);
    }
}

static void test_publish_header_plus_payload_equals_full_encoding(void **state)
{
    (void)state;
    static uint8_t payload[300];
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)i;
    }
    const mqtls_property_t props[] = {{.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = S("text/plain")}};
    mqtls_packet_t pkt = {.type = MQTLS_PUBLISH,
                          .u.publish = {.qos = 2,
                                        .topic = S("sensors/t1"),
                                        .packet_id = 77,
                                        .props = {.items = props, .count = 1},
                                        .payload = {payload, sizeof payload}}};
    static uint8_t full[512];
    uint8_t hdr[64];
    size_t full_len;
    size_t hdr_len;
    assert_int_equal(mqtls_packet_encode(&pkt, MQTLS_V5, full, sizeof full, &full_len), MQTLS_OK);
    assert_int_equal(
        mqtls_packet_encode_publish_header(&pkt.u.publish, MQTLS_V5, hdr, sizeof hdr, &hdr_len),
        MQTLS_OK);
    assert_int_equal(hdr_len + sizeof payload, full_len);
    assert_memory_equal(hdr, full, hdr_len);
    assert_memory_equal(full + hdr_len, payload, sizeof payload);
    /* Remaining length 2 bytes here (> 127): 0x33 | qos2 -> 0x34. */
    assert_int_equal(hdr[0], 0x34);
    assert_true((hdr[1] & 0x80u) != 0u);
}

static void test_encode_invalid_fields_returns_specific_status(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t w;
    mqtls_packet_t p = {.type = MQTLS_PUBLISH, .u.publish = {.topic = S("a/+")}};
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, sizeof buf, &w),
                     MQTLS_ERR_TOPIC_WILDCARD);
    p.u.publish.topic = (mqtls_bytes_t){(const uint8_t *)"", 0};
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V5, buf, sizeof buf, &w), MQTLS_ERR_TOPIC_EMPTY);
    p.u.publish.topic = (mqtls_bytes_t)S("a");
    p.u.publish.qos = 1;
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, sizeof buf, &w),
                     MQTLS_ERR_PACKET_ID_ZERO);
    p.u.publish.qos = 3;
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, sizeof buf, &w), MQTLS_ERR_BAD_QOS);
    p.u.publish.qos = 0;
    const mqtls_property_t se[] = {{.id = MQTLS_PROP_SESSION_EXPIRY_INTERVAL, .v.u32 = 1}};
    p.u.publish.props = (mqtls_properties_t){.items = se, .count = 1};
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_PROP_NOT_ALLOWED);
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, sizeof buf, &w), MQTLS_ERR_VERSION);

    mqtls_packet_t a = {.type = MQTLS_AUTH};
    assert_int_equal(mqtls_packet_encode(&a, MQTLS_V311, buf, sizeof buf, &w), MQTLS_ERR_VERSION);
    mqtls_packet_t ack = {.type = MQTLS_PUBACK, .u.ack = {.packet_id = 1, .reason = 0x92}};
    assert_int_equal(mqtls_packet_encode(&ack, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_BAD_REASON_CODE);
    mqtls_packet_t sub = {.type = MQTLS_SUBSCRIBE, .u.subscribe = {.packet_id = 1}};
    assert_int_equal(mqtls_packet_encode(&sub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_NO_TOPIC_FILTERS);
    const mqtls_topic_filter_t bad[] = {{S("a/#/b"), 0}};
    sub.u.subscribe.filters = (mqtls_filter_list_t){.items = bad, .count = 1};
    assert_int_equal(mqtls_packet_encode(&sub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_FILTER_INVALID);
    const mqtls_topic_filter_t rh3[] = {{S("a"), 0x30}};
    sub.u.subscribe.filters = (mqtls_filter_list_t){.items = rh3, .count = 1};
    assert_int_equal(mqtls_packet_encode(&sub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_SUB_OPTIONS);
    /* 3.1.1 sends only the QoS bits of the options. */
    assert_int_equal(mqtls_packet_encode(&sub, MQTLS_V311, buf, sizeof buf, &w), MQTLS_OK);
    assert_int_equal(buf[w - 1u], 0x00);

    mqtls_packet_t c = {
        .type = MQTLS_CONNECT,
        .u.connect = {
            .version = MQTLS_V311, .client_id = S("x"), .has_password = true, .password = S("p")}};
    assert_int_equal(mqtls_packet_encode(&c, MQTLS_V311, buf, sizeof buf, &w),
                     MQTLS_ERR_CONNECT_FLAGS);
    c.u.connect.version = MQTLS_V5; /* MQTT 5 allows a password without a user name */
    assert_int_equal(mqtls_packet_encode(&c, MQTLS_V5, buf, sizeof buf, &w), MQTLS_OK);
    c.u.connect.will_qos = 1; /* will QoS without will flag */
    assert_int_equal(mqtls_packet_encode(&c, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_CONNECT_FLAGS);

    mqtls_packet_t ca = {.type = MQTLS_CONNACK, .u.connack = {.reason = 6}};
    assert_int_equal(mqtls_packet_encode(&ca, MQTLS_V311, buf, sizeof buf, &w),
                     MQTLS_ERR_BAD_REASON_CODE);
    assert_int_equal(mqtls_packet_encode(NULL, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_packet_encode(&ca, (mqtls_version_t)9, buf, sizeof buf, &w),
                     MQTLS_ERR_INVALID_ARG);
}

static void roundtrip_items(const mqtls_packet_t *pkt, mqtls_version_t v)
{
    uint8_t buf[512];
    size_t w = 0;
    size_t used = 0;
    mqtls_packet_t back;
    mqtls_codec_cfg_t cfg = cfg_for(v);
    assert_int_equal(mqtls_packet_encode(pkt, v, buf, sizeof buf, &w), MQTLS_OK);
    assert_int_equal(mqtls_packet_decode(buf, w, &cfg, &back, &used), MQTLS_OK);
    assert_int_equal(used, w);
    assert_true(packet_equal(pkt, &back, v == MQTLS_V5));
}

static void test_encode_items_every_property_type_decodes_back(void **state)
{
    (void)state;
    const mqtls_property_t connack_props[] = {
        {.id = MQTLS_PROP_SESSION_EXPIRY_INTERVAL, .v.u32 = 0xFFFFFFFFu},
        {.id = MQTLS_PROP_ASSIGNED_CLIENT_IDENTIFIER, .v.bin = S("auto-1")},
        {.id = MQTLS_PROP_SERVER_KEEP_ALIVE, .v.u32 = 30},
        {.id = MQTLS_PROP_RESPONSE_INFORMATION, .v.bin = S("resp/")},
        {.id = MQTLS_PROP_SERVER_REFERENCE, .v.bin = S("other:1883")},
        {.id = MQTLS_PROP_REASON_STRING, .v.bin = S("ok")},
        {.id = MQTLS_PROP_RECEIVE_MAXIMUM, .v.u32 = 65535},
        {.id = MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, .v.u32 = 0},
        {.id = MQTLS_PROP_MAXIMUM_QOS, .v.u32 = 0},
        {.id = MQTLS_PROP_RETAIN_AVAILABLE, .v.u32 = 1},
        {.id = MQTLS_PROP_USER_PROPERTY, .v.pair = {S("a"), S("1")}},
        {.id = MQTLS_PROP_USER_PROPERTY, .v.pair = {S("a"), S("2")}},
        {.id = MQTLS_PROP_MAXIMUM_PACKET_SIZE, .v.u32 = 1024},
        {.id = MQTLS_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, .v.u32 = 0},
        {.id = MQTLS_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, .v.u32 = 1},
        {.id = MQTLS_PROP_SHARED_SUBSCRIPTION_AVAILABLE, .v.u32 = 1},
        {.id = MQTLS_PROP_AUTHENTICATION_METHOD, .v.bin = S("SCRAM")},
        {.id = MQTLS_PROP_AUTHENTICATION_DATA, .v.bin = S("\x00\x01")},
    };
    mqtls_packet_t ca = {.type = MQTLS_CONNACK,
                         .u.connack = {.props = {.items = connack_props, .count = 18}}};
    roundtrip_items(&ca, MQTLS_V5);
    const mqtls_property_t pub_props[] = {
        {.id = MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR, .v.u32 = 0},
        {.id = MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL, .v.u32 = 1},
        {.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = S("application/json")},
        {.id = MQTLS_PROP_RESPONSE_TOPIC, .v.bin = S("reply/\xC3\xA9")},
        {.id = MQTLS_PROP_CORRELATION_DATA, .v.bin = S("\xFF\x00")},
        {.id = MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, .v.u32 = 268435455u},
        {.id = MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, .v.u32 = 16384},
        {.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 3},
        {.id = MQTLS_PROP_USER_PROPERTY, .v.pair = {S(""), S("")}},
    };
    mqtls_packet_t pub = {.type = MQTLS_PUBLISH,
                          .u.publish = {.qos = 2,
                                        .packet_id = 65535,
                                        .topic = S("t/\xE2\x82\xAC"),
                                        .props = {.items = pub_props, .count = 9},
                                        .payload = S("{}")}};
    roundtrip_items(&pub, MQTLS_V5);
    /* The 4-byte Subscription Identifier is encoded FF FF FF 7F (1.5.5 table 1-1). */
    uint8_t buf[256];
    size_t w;
    assert_int_equal(mqtls_packet_encode(&pub, MQTLS_V5, buf, sizeof buf, &w), MQTLS_OK);
    static const uint8_t sid_max[] = {0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0x0B, 0x80, 0x80, 0x01};
    bool found = false;
    for (size_t i = 0; i + sizeof sid_max <= w; i++) {
        found = found || memcmp(buf + i, sid_max, sizeof sid_max) == 0;
    }
    assert_true(found);

    const mqtls_property_t dup[] = {{.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 1},
                                    {.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 2}};
    pub.u.publish.props = (mqtls_properties_t){.items = dup, .count = 2};
    assert_int_equal(mqtls_packet_encode(&pub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_PROP_DUPLICATE);
    const mqtls_property_t big[] = {
        {.id = MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, .v.u32 = 268435456u}};
    pub.u.publish.props = (mqtls_properties_t){.items = big, .count = 1};
    assert_int_equal(mqtls_packet_encode(&pub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_PROP_VALUE);
    const mqtls_property_t unknown[] = {{.id = 0x7F, .v.u32 = 1}};
    pub.u.publish.props = (mqtls_properties_t){.items = unknown, .count = 1};
    assert_int_equal(mqtls_packet_encode(&pub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_PROP_UNKNOWN);
    const mqtls_property_t bad_utf8[] = {{.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = S("\xC0\x80")}};
    pub.u.publish.props = (mqtls_properties_t){.items = bad_utf8, .count = 1};
    assert_int_equal(mqtls_packet_encode(&pub, MQTLS_V5, buf, sizeof buf, &w),
                     MQTLS_ERR_UTF8_NONMINIMAL);
    /* Empty topic is fine in MQTT 5 with a Topic Alias. */
    const mqtls_property_t alias[] = {{.id = MQTLS_PROP_TOPIC_ALIAS, .v.u32 = 9}};
    pub.u.publish.props = (mqtls_properties_t){.items = alias, .count = 1};
    pub.u.publish.topic = (mqtls_bytes_t){NULL, 0};
    roundtrip_items(&pub, MQTLS_V5);
}

static void test_encode_remaining_length_boundaries_use_minimal_varint(void **state)
{
    (void)state;
    /* Remaining length 127 -> 1 byte, 128 -> 80 01, 16383 -> FF 7F, 16384 -> 80 80 01. */
    static uint8_t payload[16384];
    static uint8_t buf[16400];
    static const struct {
        size_t rem;
        uint8_t hdr[4];
        size_t hl;
    } cases[] = {{127, {0x30, 0x7F}, 2},
                 {128, {0x30, 0x80, 0x01}, 3},
                 {16383, {0x30, 0xFF, 0x7F}, 3},
                 {16384, {0x30, 0x80, 0x80, 0x01}, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* topic "t" = 3 bytes of the remaining length */
        mqtls_packet_t p = {
            .type = MQTLS_PUBLISH,
            .u.publish = {.topic = S("t"), .payload = {payload, cases[i].rem - 3u}}};
        size_t w;
        assert_int_equal(mqtls_packet_encode(&p, MQTLS_V311, buf, sizeof buf, &w), MQTLS_OK);
        assert_int_equal(w, cases[i].hl + cases[i].rem);
        assert_memory_equal(buf, cases[i].hdr, cases[i].hl);
        mqtls_codec_cfg_t cfg = cfg_for(MQTLS_V311);
        size_t total;
        assert_int_equal(mqtls_packet_frame(buf, cases[i].hl, &cfg, &total), MQTLS_OK);
        assert_int_equal(total, w);
    }
}

static void test_frame_over_limit_rejected_before_body(void **state)
{
    (void)state;
    mqtls_codec_cfg_t cfg = {.version = MQTLS_V5, .max_packet_size = 100};
    /* PUBLISH announcing 200 bytes: rejected with only the 3-byte fixed header present. */
    const uint8_t hdr[] = {0x30, 0xC8, 0x01};
    size_t total = 0;
    assert_int_equal(mqtls_packet_frame(hdr, 2, &cfg, &total), MQTLS_ERR_NEED_MORE);
    assert_int_equal(mqtls_packet_frame(hdr, 3, &cfg, &total), MQTLS_ERR_PACKET_TOO_LARGE);
    mqtls_packet_t pkt;
    size_t used;
    assert_int_equal(mqtls_packet_decode(hdr, 3, &cfg, &pkt, &used), MQTLS_ERR_PACKET_TOO_LARGE);
    cfg.max_packet_size = 203;
    assert_int_equal(mqtls_packet_frame(hdr, 3, &cfg, &total), MQTLS_OK);
    assert_int_equal(total, 203);
    assert_int_equal(mqtls_packet_decode(hdr, 3, &cfg, &pkt, &used), MQTLS_ERR_NEED_MORE);
    const uint8_t big[] = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};
    assert_int_equal(mqtls_packet_frame(big, sizeof big, NULL, &total), MQTLS_OK);
    assert_int_equal(total, 268435460u);
    const uint8_t five[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF};
    assert_int_equal(mqtls_packet_frame(five, sizeof five, NULL, &total),
                     MQTLS_ERR_REMAINING_LENGTH);
    assert_int_equal(mqtls_packet_frame(NULL, 0, NULL, &total), MQTLS_ERR_NEED_MORE);
    assert_int_equal(mqtls_packet_frame(hdr, 3, NULL, NULL), MQTLS_ERR_INVALID_ARG);
}

static void test_utf8_check_each_class_gives_its_status(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        mqtls_status_t want;
    } cases[] = {
        {"", 0, MQTLS_OK},
        {"plain", 5, MQTLS_OK},
        {"\xC3\xA9", 2, MQTLS_OK},         /* U+00E9 */
        {"\xE2\x82\xAC", 3, MQTLS_OK},     /* U+20AC */
        {"\xF0\x9F\x98\x80", 4, MQTLS_OK}, /* U+1F600 */
        {"\xF4\x8F\xBF\xBF", 4, MQTLS_OK}, /* U+10FFFF */
        {"\xEF\xBF\xBF", 3, MQTLS_OK},     /* U+FFFF: non-character, allowed (SHOULD) */
        {"a\0b", 3, MQTLS_ERR_UTF8_NUL},
        {"\xC0\x80", 2, MQTLS_ERR_UTF8_NONMINIMAL},
        {"\xC1\xBF", 2, MQTLS_ERR_UTF8_NONMINIMAL},
        {"\xE0\x9F\xBF", 3, MQTLS_ERR_UTF8_NONMINIMAL},
        {"\xF0\x8F\xBF\xBF", 4, MQTLS_ERR_UTF8_NONMINIMAL},
        {"\xED\xA0\x80", 3, MQTLS_ERR_UTF8_SURROGATE},
        {"\xED\xBF\xBF", 3, MQTLS_ERR_UTF8_SURROGATE},
        {"\xF4\x90\x80\x80", 4, MQTLS_ERR_UTF8_INVALID},
        {"\x80", 1, MQTLS_ERR_UTF8_INVALID},
        {"\xC3", 1, MQTLS_ERR_UTF8_INVALID},
        {"\xE2\x82", 2, MQTLS_ERR_UTF8_INVALID},
        {"\xC3\x28", 2, MQTLS_ERR_UTF8_INVALID},
        {"\xF8\x88\x80\x80\x80", 5, MQTLS_ERR_UTF8_INVALID},
        {"\xFF", 1, MQTLS_ERR_UTF8_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("utf8 case %zu\n", i);
        assert_int_equal(mqtls_utf8_check((const uint8_t *)cases[i].s, cases[i].len),
                         cases[i].want);
    }
}

static void test_topic_checks_each_case_gives_its_status(void **state)
{
    (void)state;
#define NAME(lit, st)                                                                              \
    assert_int_equal(mqtls_topic_name_check((const uint8_t *)lit, sizeof lit - 1u), st)
#define FILT(lit, st)                                                                              \
    assert_int_equal(mqtls_topic_filter_check((const uint8_t *)lit, sizeof lit - 1u), st)
    NAME("a/b", MQTLS_OK);
    NAME("/", MQTLS_OK);
    NAME("$SYS/x", MQTLS_OK);
    NAME("caf\xC3\xA9", MQTLS_OK);
    NAME("", MQTLS_ERR_TOPIC_EMPTY);
    NAME("a/+", MQTLS_ERR_TOPIC_WILDCARD);
    NAME("#", MQTLS_ERR_TOPIC_WILDCARD);
    NAME("\xC3\xA9/#", MQTLS_ERR_TOPIC_WILDCARD);
    NAME("a\xFF", MQTLS_ERR_UTF8_INVALID);
    FILT("#", MQTLS_OK);
    FILT("+", MQTLS_OK);
    FILT("a/+/b", MQTLS_OK);
    FILT("a/#", MQTLS_OK);
    FILT("+/+", MQTLS_OK);
    FILT("/+", MQTLS_OK);
    FILT("", MQTLS_ERR_TOPIC_EMPTY);
    FILT("a#", MQTLS_ERR_FILTER_INVALID);
    FILT("a/#/b", MQTLS_ERR_FILTER_INVALID);
    FILT("a+", MQTLS_ERR_FILTER_INVALID);
    FILT("+a", MQTLS_ERR_FILTER_INVALID);
    FILT("##", MQTLS_ERR_FILTER_INVALID);
    FILT("a/\xED\xA0\x80", MQTLS_ERR_UTF8_SURROGATE);
#undef NAME
#undef FILT
}

static void test_topic_matches_spec_examples_match_as_specified(void **state)
{
    (void)state;
    static const struct {
        const char *filter;
        const char *topic;
        bool want;
    } cases[] = {
        /* [MQTT-4.7.1.2] */
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"#", "a/b/c", true},
        /* [MQTT-4.7.1.3] */
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+", "a", true},
        {"a/+/c", "a/b/c", true},
        {"a/+/c", "a/b/d", false},
        {"a/b", "a/b", true},
        {"a/b", "a/bc", false},
        {"a/bc", "a/b", false},
        {"a/b/#", "a/b/", true},
        /* [MQTT-4.7.2-1] $-topics are not matched by a leading wildcard */
        {"#", "$SYS/broker", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"$SYS/#", "$SYS/monitor/Clients", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"a/#", "a/$x", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("match %s ~ %s\n", cases[i].filter, cases[i].topic);
        assert_int_equal(
            mqtls_topic_matches((const uint8_t *)cases[i].filter, strlen(cases[i].filter),
                                (const uint8_t *)cases[i].topic, strlen(cases[i].topic)),
            cases[i].want);
    }
}

static void test_reason_names_per_packet_give_spec_names(void **state)
{
    (void)state;
    assert_string_equal(mqtls_reason_name(MQTLS_CONNACK, 0x87), "Not authorized");
    assert_string_equal(mqtls_reason_name(MQTLS_DISCONNECT, 0x00), "Normal disconnection");
    assert_string_equal(mqtls_reason_name(MQTLS_SUBACK, 0x00), "Granted QoS 0");
    assert_string_equal(mqtls_reason_name(MQTLS_PUBACK, 0x00), "Success");
    assert_string_equal(mqtls_reason_name(MQTLS_PUBREL, 0x92), "Packet Identifier not found");
    assert_string_equal(mqtls_reason_name(MQTLS_PUBACK, 0x92), "Unknown reason code");
    assert_string_equal(mqtls_reason_name(MQTLS_AUTH, 0x18), "Continue authentication");
    assert_string_equal(mqtls_reason_name(MQTLS_DISCONNECT, 0xA2),
                        "Wildcard Subscriptions not supported");
    assert_string_equal(mqtls_reason_name(MQTLS_CONNACK, 0xA2), "Unknown reason code");
    assert_string_equal(mqtls_reason_text(MQTLS_CONNACK, 0x87),
                        "the broker's authorization (ACL) refused this client");
    assert_string_equal(mqtls_connack_v3_name(5), "Connection Refused, not authorized");
    assert_string_equal(mqtls_connack_v3_name(0), "Connection Accepted");
    assert_string_equal(mqtls_connack_v3_name(6), "Unknown return code");
    assert_string_equal(mqtls_packet_type_name(MQTLS_PUBLISH), "PUBLISH");
    assert_string_equal(mqtls_packet_type_name(MQTLS_AUTH), "AUTH");
    assert_string_equal(mqtls_packet_type_name((mqtls_packet_type_t)0), "UNKNOWN");
    /* Every packet type with reason codes has a name for each valid code. */
    unsigned named = 0;
    for (unsigned t = 1; t <= 15; t++) {
        for (unsigned c = 0; c < 256; c++) {
            const char *n = mqtls_reason_name((mqtls_packet_type_t)t, (uint8_t)c);
            if (strcmp(n, "Unknown reason code") != 0) {
                named++;
                assert_string_not_equal(mqtls_reason_text((mqtls_packet_type_t)t, (uint8_t)c),
                                        "the reason code is not defined for this packet");
            }
        }
    }
    /* Table 2-6 of MQTT 5.0: 43 codes, 96 (packet, code) pairs counted by hand. */
    assert_int_equal(named, 96);
}

static void test_prop_table_types_and_placement_match_spec(void **state)
{
    (void)state;
    assert_int_equal(mqtls_prop_type(MQTLS_PROP_USER_PROPERTY), MQTLS_PROP_TYPE_UTF8_PAIR);
    assert_int_equal(mqtls_prop_type(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER), MQTLS_PROP_TYPE_VARINT);
    assert_int_equal(mqtls_prop_type(MQTLS_PROP_CORRELATION_DATA), MQTLS_PROP_TYPE_BINARY);
    assert_int_equal(mqtls_prop_type(MQTLS_PROP_MAXIMUM_PACKET_SIZE), MQTLS_PROP_TYPE_U32);
    assert_int_equal(mqtls_prop_type(0x04), MQTLS_PROP_TYPE_INVALID);
    assert_int_equal(mqtls_prop_type(0x2B), MQTLS_PROP_TYPE_INVALID);
    assert_string_equal(mqtls_prop_name(MQTLS_PROP_RECEIVE_MAXIMUM), "Receive Maximum");
    assert_null(mqtls_prop_name(0x7F));
    assert_true(mqtls_prop_allowed(MQTLS_PROP_WILL_DELAY_INTERVAL, MQTLS_CONNECT, true));
    assert_false(mqtls_prop_allowed(MQTLS_PROP_WILL_DELAY_INTERVAL, MQTLS_CONNECT, false));
    assert_true(mqtls_prop_allowed(MQTLS_PROP_CONTENT_TYPE, MQTLS_CONNECT, true));
    assert_false(mqtls_prop_allowed(MQTLS_PROP_CONTENT_TYPE, MQTLS_CONNECT, false));
    assert_true(mqtls_prop_allowed(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, MQTLS_SUBSCRIBE, false));
    assert_false(mqtls_prop_allowed(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, MQTLS_UNSUBSCRIBE, false));
    assert_true(mqtls_prop_allowed(MQTLS_PROP_REASON_STRING, MQTLS_AUTH, false));
    assert_false(mqtls_prop_allowed(MQTLS_PROP_REASON_STRING, MQTLS_PUBLISH, false));
    assert_true(mqtls_prop_allowed(MQTLS_PROP_SERVER_REFERENCE, MQTLS_DISCONNECT, false));
    assert_false(mqtls_prop_allowed(MQTLS_PROP_USER_PROPERTY, MQTLS_PINGREQ, false));
    unsigned known = 0;
    for (unsigned id = 0; id < 256; id++) {
        if (mqtls_prop_type((uint8_t)id) != MQTLS_PROP_TYPE_INVALID) {
            known++;
            assert_non_null(mqtls_prop_name((uint8_t)id));
        }
    }
    assert_int_equal(known, 27); /* every identifier in MQTT 5.0 table 2-4 */
}

static void test_props_iterate_decoded_block_in_order(void **state)
{
    (void)state;
    const vector_t *v = NULL;
    for (size_t i = 0; i < N_VECTORS; i++) {
        if (strcmp(VECTORS[i].name, "v5 CONNACK with properties") == 0) {
            v = &VECTORS[i];
        }
    }
    assert_non_null(v);
    mqtls_codec_cfg_t cfg = cfg_for(MQTLS_V5);
    mqtls_packet_t pkt;
    size_t used;
    assert_int_equal(mqtls_packet_decode(v->bytes, v->len, &cfg, &pkt, &used), MQTLS_OK);
    /* zero copy: the raw block points into the input */
    assert_ptr_equal(pkt.u.connack.props.raw.data, v->bytes + 5);
    mqtls_property_t pr;
    assert_true(mqtls_props_find(&pkt.u.connack.props, MQTLS_PROP_MAXIMUM_QOS, &pr));
    assert_int_equal(pr.v.u32, 1);
    assert_true(mqtls_props_find(&pkt.u.connack.props, MQTLS_PROP_USER_PROPERTY, &pr));
    assert_int_equal(pr.v.pair.key.len, 1);
    assert_int_equal(pr.v.pair.key.data[0], 'k');
    assert_false(mqtls_props_find(&pkt.u.connack.props, MQTLS_PROP_RECEIVE_MAXIMUM, &pr));
    size_t cur = 0;
    unsigned n = 0;
    while (mqtls_props_next(&pkt.u.connack.props, &cur, &pr) == MQTLS_OK) {
        n++;
    }
    assert_int_equal(n, 3);
    const uint8_t broken[] = {0x26, 0x00, 0x05, 'k'};
    mqtls_properties_t b = {.raw = {broken, sizeof broken}};
    cur = 0;
    assert_int_equal(mqtls_props_next(&b, &cur, &pr), MQTLS_ERR_MALFORMED);
}

static void test_decode_invalid_args_returns_invalid_arg(void **state)
{
    (void)state;
    mqtls_packet_t pkt;
    size_t used;
    const uint8_t b[] = {0xC0, 0x00};
    assert_int_equal(mqtls_packet_decode(NULL, 2, NULL, &pkt, &used), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_packet_decode(b, 2, NULL, NULL, &used), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_packet_decode(b, 2, NULL, &pkt, NULL), MQTLS_ERR_INVALID_ARG);
    mqtls_codec_cfg_t bad = {.version = (mqtls_version_t)7};
    assert_int_equal(mqtls_packet_decode(b, 2, &bad, &pkt, &used), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_packet_decode(b, 0, NULL, &pkt, &used), MQTLS_ERR_NEED_MORE);
    assert_int_equal(mqtls_packet_decode(b, 2, NULL, &pkt, &used), MQTLS_OK); /* NULL cfg = v5 */
    assert_int_equal(pkt.type, MQTLS_PINGREQ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_vectors_each_yields_expected_fields),
        cmocka_unit_test(test_encode_vectors_each_yields_exact_bytes),
        cmocka_unit_test(test_roundtrip_vectors_reencode_byte_identical),
        cmocka_unit_test(test_decode_split_at_every_point_same_result),
        cmocka_unit_test(test_encode_small_buffer_reports_exact_size),
        cmocka_unit_test(test_publish_header_plus_payload_equals_full_encoding),
        cmocka_unit_test(test_encode_invalid_fields_returns_specific_status),
        cmocka_unit_test(test_frame_over_limit_rejected_before_body),
        cmocka_unit_test(test_encode_items_every_property_type_decodes_back),
        cmocka_unit_test(test_encode_remaining_length_boundaries_use_minimal_varint),
        cmocka_unit_test(test_utf8_check_each_class_gives_its_status),
        cmocka_unit_test(test_topic_checks_each_case_gives_its_status),
        cmocka_unit_test(test_topic_matches_spec_examples_match_as_specified),
        cmocka_unit_test(test_reason_names_per_packet_give_spec_names),
        cmocka_unit_test(test_prop_table_types_and_placement_match_spec),
        cmocka_unit_test(test_props_iterate_decoded_block_in_order),
        cmocka_unit_test(test_decode_invalid_args_returns_invalid_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
