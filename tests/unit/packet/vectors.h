/* Hand-written byte vectors from the MQTT 3.1 / 3.1.1 / 5.0 field layouts (chapter 3 of each
 * spec), with the fields each one must decode to. NOT produced by the encoder under test:
 * every byte is written out here and the remaining lengths were counted by hand. */
#ifndef MQTLS_TEST_PACKET_VECTORS_H
#define MQTLS_TEST_PACKET_VECTORS_H

#include "mqtls/packet.h"

#define S(lit)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(lit), sizeof(lit) - 1u                                                   \
    }
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define ITEMS(...)                                                                                 \
    {                                                                                              \
        .items = (const mqtls_property_t[]){__VA_ARGS__},                                          \
        .count = sizeof((const mqtls_property_t[]){__VA_ARGS__}) / sizeof(mqtls_property_t)        \
    }
#define FILTERS(...)                                                                               \
    {                                                                                              \
        .items = (const mqtls_topic_filter_t[]){__VA_ARGS__},                                      \
        .count =                                                                                   \
            sizeof((const mqtls_topic_filter_t[]){__VA_ARGS__}) / sizeof(mqtls_topic_filter_t)     \
    }
#define P_U32(pid, val)                                                                            \
    {                                                                                              \
        .id = (pid), .v.u32 = (val)                                                                \
    }
#define P_STR(pid, lit)                                                                            \
    {                                                                                              \
        .id = (pid), .v.bin = S(lit)                                                               \
    }
#define P_PAIR(k, val)                                                                             \
    {                                                                                              \
        .id = MQTLS_PROP_USER_PROPERTY, .v.pair = { S(k), S(val) }                                 \
    }

typedef struct vector {
    const char *name;
    mqtls_version_t version;
    const uint8_t *bytes;
    size_t len;
    mqtls_packet_t pkt;
} vector_t;

static const vector_t VECTORS[] = {
    /* ---------------- MQTT 3.1.1 ---------------- */
    {"v311 CONNECT minimal",
     MQTLS_V311,
     BYTES(0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 'a'),
     {.type = MQTLS_CONNECT,
      .u.connect =
          {.version = MQTLS_V311, .clean_start = true, .keepalive_s = 60, .client_id = S("a")}}},
    {"v311 CONNECT will+user+password",
     MQTLS_V311,
     BYTES(0x10, 0x1F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xEE, 0x00, 0x0A, /* var header */
           0x00, 0x03, 'c', 'i', 'd', 0x00, 0x03, 'w', '/', 't', 0x00, 0x03, 'b', 'y', 'e', 0x00,
           0x01, 'u', 0x00, 0x01, 'p'),
     {.type = MQTLS_CONNECT,
      .u.connect = {.version = MQTLS_V311,
                    .clean_start = true,
                    .keepalive_s = 10,
                    .client_id = S("cid"),
                    .has_will = true,
                    .will_qos = 1,
                    .will_retain = true,
                    .will_topic = S("w/t"),
                    .will_payload = S("bye"),
                    .has_username = true,
                    .username = S("u"),
                    .has_password = true,
                    .password = S("p")}}},
    {"v31 CONNECT MQIsdp",
     MQTLS_V31,
     BYTES(0x10, 0x0F, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3C, 0x00, 0x01,
           'a'),
     {.type = MQTLS_CONNECT,
      .u.connect =
          {.version = MQTLS_V31, .clean_start = true, .keepalive_s = 60, .client_id = S("a")}}},
    {"v311 CONNACK session present",
     MQTLS_V311,
     BYTES(0x20, 0x02, 0x01, 0x00),
     {.type = MQTLS_CONNACK, .u.connack = {.session_present = true, .reason = 0}}},
    {"v311 CONNACK not authorized",
     MQTLS_V311,
     BYTES(0x20, 0x02, 0x00, 0x05),
     {.type = MQTLS_CONNACK, .u.connack = {.reason = 5}}},
    {"v311 PUBLISH qos0",
     MQTLS_V311,
     BYTES(0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'),
     {.type = MQTLS_PUBLISH, .u.publish = {.topic = S("a/b"), .payload = S("hi")}}},
    {"v311 PUBLISH qos1 dup retain",
     MQTLS_V311,
     BYTES(0x3B, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'x'),
     {.type = MQTLS_PUBLISH,
      .u.publish = {.qos = 1,
                    .dup = true,
                    .retain = true,
                    .topic = S("a/b"),
                    .packet_id = 10,
                    .payload = S("x")}}},
    {"v311 PUBLISH qos2 empty payload",
     MQTLS_V311,
     BYTES(0x34, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34),
     {.type = MQTLS_PUBLISH, .u.publish = {.qos = 2, .topic = S("a/b"), .packet_id = 0x1234}}},
    {"v311 PUBACK",
     MQTLS_V311,
     BYTES(0x40, 0x02, 0x00, 0x01),
     {.type = MQTLS_PUBACK, .u.ack = {.packet_id = 1}}},
    {"v311 PUBREC",
     MQTLS_V311,
     BYTES(0x50, 0x02, 0x00, 0x02),
     {.type = MQTLS_PUBREC, .u.ack = {.packet_id = 2}}},
    {"v311 PUBREL",
     MQTLS_V311,
     BYTES(0x62, 0x02, 0x00, 0x03),
     {.type = MQTLS_PUBREL, .u.ack = {.packet_id = 3}}},
    {"v311 PUBCOMP",
     MQTLS_V311,
     BYTES(0x70, 0x02, 0x00, 0x04),
     {.type = MQTLS_PUBCOMP, .u.ack = {.packet_id = 4}}},
    {"v311 SUBSCRIBE two filters",
     MQTLS_V311,
     BYTES(0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x01, 0x00, 0x03, 'c', '/', '#',
           0x02),
     {.type = MQTLS_SUBSCRIBE,
      .u.subscribe = {.packet_id = 10, .filters = FILTERS({S("a/b"), 1}, {S("c/#"), 2})}}},
    {"v311 SUBACK",
     MQTLS_V311,
     BYTES(0x90, 0x05, 0x00, 0x0A, 0x01, 0x02, 0x80),
     {.type = MQTLS_SUBACK, .u.suback = {.packet_id = 10, .reasons = S("\x01\x02\x80")}}},
    {"v311 UNSUBSCRIBE",
     MQTLS_V311,
     BYTES(0xA2, 0x07, 0x00, 0x0B, 0x00, 0x03, 'a', '/', '+'),
     {.type = MQTLS_UNSUBSCRIBE,
      .u.subscribe = {.packet_id = 11, .filters = FILTERS({S("a/+"), 0})}}},
    {"v311 UNSUBACK",
     MQTLS_V311,
     BYTES(0xB0, 0x02, 0x00, 0x0B),
     {.type = MQTLS_UNSUBACK, .u.suback = {.packet_id = 11}}},
    {"v311 PINGREQ", MQTLS_V311, BYTES(0xC0, 0x00), {.type = MQTLS_PINGREQ}},
    {"v311 PINGRESP", MQTLS_V311, BYTES(0xD0, 0x00), {.type = MQTLS_PINGRESP}},
    {"v311 DISCONNECT", MQTLS_V311, BYTES(0xE0, 0x00), {.type = MQTLS_DISCONNECT}},

    /* ---------------- MQTT 5.0 ---------------- */
    {"v5 CONNECT with properties",
     MQTLS_V5,
     BYTES(0x10, 0x16, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, /* var header */
           0x08, 0x11, 0x00, 0x00, 0x00, 0x78, 0x21, 0x00, 0x14,               /* properties */
           0x00, 0x01, 'a'),
     {.type = MQTLS_CONNECT,
      .u.connect = {.version = MQTLS_V5,
                    .clean_start = true,
                    .keepalive_s = 60,
                    .props = ITEMS(P_U32(MQTLS_PROP_SESSION_EXPIRY_INTERVAL, 120),
                                   P_U32(MQTLS_PROP_RECEIVE_MAXIMUM, 20)),
                    .client_id = S("a")}}},
    {"v5 CONNECT will props, password without user name",
     MQTLS_V5,
     BYTES(0x10, 0x22, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x46, 0x00, 0x00, /* var header */
           0x00,                                                               /* no props */
           0x00, 0x02, 'i', 'd',                                               /* client id */
           0x07, 0x18, 0x00, 0x00, 0x00, 0x05, 0x01, 0x01,                     /* will props */
           0x00, 0x01, 't', 0x00, 0x02, 'h', 'i', 0x00, 0x02, 'p', 'w'),
     {.type = MQTLS_CONNECT,
      .u.connect = {.version = MQTLS_V5,
                    .clean_start = true,
                    .client_id = S("id"),
                    .has_will = true,
                    .will_props = ITEMS(P_U32(MQTLS_PROP_WILL_DELAY_INTERVAL, 5),
                                        P_U32(MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR, 1)),
                    .will_topic = S("t"),
                    .will_payload = S("hi"),
                    .has_password = true,
                    .password = S("pw")}}},
    {"v5 CONNACK with properties",
     MQTLS_V5,
     BYTES(0x20, 0x0F, 0x00, 0x00, 0x0C, 0x22, 0x00, 0x0A, 0x24, 0x01, 0x26, 0x00, 0x01, 'k', 0x00,
           0x01, 'v'),
     {.type = MQTLS_CONNACK,
      .u.connack = {.props = ITEMS(P_U32(MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, 10),
                                   P_U32(MQTLS_PROP_MAXIMUM_QOS, 1), P_PAIR("k", "v"))}}},
    {"v5 CONNACK not authorized",
     MQTLS_V5,
     BYTES(0x20, 0x03, 0x00, 0x87, 0x00),
     {.type = MQTLS_CONNACK, .u.connack = {.reason = 0x87}}},
    {"v5 PUBLISH qos1 properties, two subscription ids",
     MQTLS_V5,
     BYTES(0x32, 0x16, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x05, 0x0C, 0x01, 0x01, 0x02, 0x00, 0x00,
           0x00, 0x3C, 0x0B, 0x05, 0x0B, 0x80, 0x01, 'h', 'i'),
     {.type = MQTLS_PUBLISH,
      .u.publish = {.qos = 1,
                    .topic = S("a/b"),
                    .packet_id = 5,
                    .props = ITEMS(P_U32(MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR, 1),
                                   P_U32(MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL, 60),
                                   P_U32(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, 5),
                                   P_U32(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, 128)),
                    .payload = S("hi")}}},
    {"v5 PUBLISH empty topic with alias",
     MQTLS_V5,
     BYTES(0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'x'),
     {.type = MQTLS_PUBLISH,
      .u.publish = {.topic = {(const uint8_t *)"", 0},
                    .props = ITEMS(P_U32(MQTLS_PROP_TOPIC_ALIAS, 1)),
                    .payload = S("x")}}},
    {"v5 PUBACK short form",
     MQTLS_V5,
     BYTES(0x40, 0x02, 0x00, 0x01),
     {.type = MQTLS_PUBACK, .u.ack = {.packet_id = 1}}},
    {"v5 PUBACK no matching subscribers",
     MQTLS_V5,
     BYTES(0x40, 0x03, 0x00, 0x01, 0x10),
     {.type = MQTLS_PUBACK, .u.ack = {.packet_id = 1, .reason = 0x10, .form = MQTLS_FORM_REASON}}},
    {"v5 PUBREC error with reason string",
     MQTLS_V5,
     BYTES(0x50, 0x0A, 0x00, 0x02, 0x80, 0x06, 0x1F, 0x00, 0x03, 'b', 'a', 'd'),
     {.type = MQTLS_PUBREC,
      .u.ack = {.packet_id = 2,
                .reason = 0x80,
                .form = MQTLS_FORM_FULL,
                .props = ITEMS(P_STR(MQTLS_PROP_REASON_STRING, "bad"))}}},
    {"v5 PUBREL packet id not found",
     MQTLS_V5,
     BYTES(0x62, 0x03, 0x00, 0x03, 0x92),
     {.type = MQTLS_PUBREL, .u.ack = {.packet_id = 3, .reason = 0x92, .form = MQTLS_FORM_REASON}}},
    {"v5 PUBCOMP full form, success",
     MQTLS_V5,
     BYTES(0x70, 0x04, 0x00, 0x04, 0x00, 0x00),
     {.type = MQTLS_PUBCOMP, .u.ack = {.packet_id = 4, .form = MQTLS_FORM_FULL}}},
    {"v5 SUBSCRIBE options and shared filter",
     MQTLS_V5,
     BYTES(0x82, 0x18, 0x00, 0x0A, 0x02, 0x0B, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x2D, 0x00, 0x0A,
           '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'x', 0x02),
     {.type = MQTLS_SUBSCRIBE,
      .u.subscribe = {.packet_id = 10,
                      .props = ITEMS(P_U32(MQTLS_PROP_SUBSCRIPTION_IDENTIFIER, 7)),
                      .filters = FILTERS({S("a/b"), 0x2D}, {S("$share/g/x"), 0x02})}}},
    {"v5 SUBACK",
     MQTLS_V5,
     BYTES(0x90, 0x06, 0x00, 0x0A, 0x00, 0x01, 0x02, 0xA2),
     {.type = MQTLS_SUBACK, .u.suback = {.packet_id = 10, .reasons = S("\x01\x02\xA2")}}},
    {"v5 UNSUBSCRIBE",
     MQTLS_V5,
     BYTES(0xA2, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x03, 'a', '/', 'b'),
     {.type = MQTLS_UNSUBSCRIBE,
      .u.subscribe = {.packet_id = 11, .filters = FILTERS({S("a/b"), 0})}}},
    {"v5 UNSUBACK",
     MQTLS_V5,
     BYTES(0xB0, 0x05, 0x00, 0x0B, 0x00, 0x00, 0x11),
     {.type = MQTLS_UNSUBACK, .u.suback = {.packet_id = 11, .reasons = S("\x00\x11")}}},
    {"v5 PINGREQ", MQTLS_V5, BYTES(0xC0, 0x00), {.type = MQTLS_PINGREQ}},
    {"v5 PINGRESP", MQTLS_V5, BYTES(0xD0, 0x00), {.type = MQTLS_PINGRESP}},
    {"v5 DISCONNECT normal, short", MQTLS_V5, BYTES(0xE0, 0x00), {.type = MQTLS_DISCONNECT}},
    {"v5 DISCONNECT with will",
     MQTLS_V5,
     BYTES(0xE0, 0x01, 0x04),
     {.type = MQTLS_DISCONNECT, .u.disconnect = {.reason = 0x04, .form = MQTLS_FORM_REASON}}},
    {"v5 DISCONNECT session taken over, reason string",
     MQTLS_V5,
     BYTES(0xE0, 0x06, 0x8E, 0x04, 0x1F, 0x00, 0x01, 'x'),
     {.type = MQTLS_DISCONNECT,
      .u.disconnect = {.reason = 0x8E,
                       .form = MQTLS_FORM_FULL,
                       .props = ITEMS(P_STR(MQTLS_PROP_REASON_STRING, "x"))}}},
    {"v5 AUTH short", MQTLS_V5, BYTES(0xF0, 0x00), {.type = MQTLS_AUTH}},
    {"v5 AUTH continue with method and data",
     MQTLS_V5,
     BYTES(0xF0, 0x0D, 0x18, 0x0B, 0x15, 0x00, 0x03, 'S', 'C', 'R', 0x16, 0x00, 0x02, 0x01, 0x02),
     {.type = MQTLS_AUTH,
      .u.disconnect = {.reason = 0x18,
                       .form = MQTLS_FORM_FULL,
                       .props = ITEMS(P_STR(MQTLS_PROP_AUTHENTICATION_METHOD, "SCR"),
                                      P_STR(MQTLS_PROP_AUTHENTICATION_DATA, "\x01\x02"))}}},
};

#define N_VECTORS (sizeof VECTORS / sizeof VECTORS[0])

#endif
