/* Names: packet types, MQTT 5 reason codes (MQTT 5.0 2.4, table 2-6), 3.1.1 CONNACK codes. */
#include "names.h"
#include "packet_internal.h"

#define B(t) (1u << (t))
#define PUBACKS (B(MQTLS_PUBACK) | B(MQTLS_PUBREC))
#define ERRS                                                                                       \
    (B(MQTLS_CONNACK) | PUBACKS | B(MQTLS_SUBACK) | B(MQTLS_UNSUBACK) | B(MQTLS_DISCONNECT))

typedef struct reason_info {
    uint8_t code;
    uint16_t packets; /* bit per packet type where the code is valid */
    const char *name;
    const char *text;
} reason_info_t;

/* Code 0x00 has a different name per packet; it is handled in find_name(). */
static const reason_info_t REASONS[] = {
    {0x00,
     B(MQTLS_CONNACK) | B(MQTLS_PUBACK) | B(MQTLS_PUBREC) | B(MQTLS_PUBREL) | B(MQTLS_PUBCOMP) |
         B(MQTLS_UNSUBACK) | B(MQTLS_AUTH) | B(MQTLS_DISCONNECT) | B(MQTLS_SUBACK),
     "Success", "the operation succeeded"},
    {0x01, B(MQTLS_SUBACK), "Granted QoS 1", "the subscription was accepted with QoS 1"},
    {0x02, B(MQTLS_SUBACK), "Granted QoS 2", "the subscription was accepted with QoS 2"},
    {0x04, B(MQTLS_DISCONNECT), "Disconnect with Will Message",
     "the client disconnects and wants its will message published"},
    {0x10, PUBACKS, "No matching subscribers",
     "the broker accepted the message but nobody is subscribed to the topic"},
    {0x11, B(MQTLS_UNSUBACK), "No subscription existed",
     "there was no subscription for that topic filter"},
    {0x18, B(MQTLS_AUTH), "Continue authentication", "the authentication exchange continues"},
    {0x19, B(MQTLS_AUTH), "Re-authenticate", "the client starts a re-authentication"},
    {0x80, ERRS, "Unspecified error", "the broker failed and gave no specific reason"},
    {0x81, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Malformed Packet",
     "the peer received a packet it could not parse"},
    {0x82, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Protocol Error",
     "the peer received a packet that breaks the MQTT protocol rules"},
    {0x83, ERRS, "Implementation specific error",
     "the broker refused for an implementation-specific reason (see its log)"},
    {0x84, B(MQTLS_CONNACK), "Unsupported Protocol Version",
     "the broker does not support this MQTT version (try --mqtt-version 3.1.1)"},
    {0x85, B(MQTLS_CONNACK), "Client Identifier not valid",
     "the broker rejected the client identifier"},
    {0x86, B(MQTLS_CONNACK), "Bad User Name or Password",
     "the broker rejected the user name or password"},
    {0x87, ERRS, "Not authorized", "the broker's authorization (ACL) refused this client"},
    {0x88, B(MQTLS_CONNACK), "Server unavailable", "the broker is not available"},
    {0x89, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Server busy",
     "the broker is busy; try again later"},
    {0x8A, B(MQTLS_CONNACK), "Banned", "the broker has banned this client"},
    {0x8B, B(MQTLS_DISCONNECT), "Server shutting down", "the broker is shutting down"},
    {0x8C, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Bad authentication method",
     "the broker does not support the authentication method"},
    {0x8D, B(MQTLS_DISCONNECT), "Keep Alive timeout",
     "the broker heard nothing within 1.5 times the keep-alive"},
    {0x8E, B(MQTLS_DISCONNECT), "Session taken over",
     "another connection with the same client identifier took over the session"},
    {0x8F, B(MQTLS_SUBACK) | B(MQTLS_UNSUBACK) | B(MQTLS_DISCONNECT), "Topic Filter invalid",
     "the broker rejected the topic filter"},
    {0x90, B(MQTLS_CONNACK) | PUBACKS | B(MQTLS_DISCONNECT), "Topic Name invalid",
     "the broker rejected the topic name"},
    {0x91, PUBACKS | B(MQTLS_SUBACK) | B(MQTLS_UNSUBACK), "Packet Identifier in use",
     "the packet identifier is already in use"},
    {0x92, B(MQTLS_PUBREL) | B(MQTLS_PUBCOMP), "Packet Identifier not found",
     "the peer does not know this packet identifier"},
    {0x93, B(MQTLS_DISCONNECT), "Receive Maximum exceeded",
     "more QoS 1/2 messages were in flight than the Receive Maximum allows"},
    {0x94, B(MQTLS_DISCONNECT), "Topic Alias invalid", "the topic alias was not valid"},
    {0x95, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Packet too large",
     "a packet exceeded the maximum packet size"},
    {0x96, B(MQTLS_DISCONNECT), "Message rate too high", "messages were sent too fast"},
    {0x97, B(MQTLS_CONNACK) | PUBACKS | B(MQTLS_SUBACK) | B(MQTLS_DISCONNECT), "Quota exceeded",
     "an administrative quota was exceeded"},
    {0x98, B(MQTLS_DISCONNECT), "Administrative action",
     "the connection was closed by an administrator"},
    {0x99, B(MQTLS_CONNACK) | PUBACKS | B(MQTLS_DISCONNECT), "Payload format invalid",
     "the payload did not match the Payload Format Indicator"},
    {0x9A, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Retain not supported",
     "the broker does not support retained messages"},
    {0x9B, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "QoS not supported",
     "the broker does not support the requested QoS"},
    {0x9C, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Use another server",
     "the client should temporarily use another server"},
    {0x9D, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Server moved",
     "the client should permanently use another server"},
    {0x9E, B(MQTLS_SUBACK) | B(MQTLS_DISCONNECT), "Shared Subscriptions not supported",
     "the broker does not support shared subscriptions"},
    {0x9F, B(MQTLS_CONNACK) | B(MQTLS_DISCONNECT), "Connection rate exceeded",
     "connections are being made too fast"},
    {0xA0, B(MQTLS_DISCONNECT), "Maximum connect time",
     "the connection exceeded its maximum allowed time"},
    {0xA1, B(MQTLS_SUBACK) | B(MQTLS_DISCONNECT), "Subscription Identifiers not supported",
     "the broker does not support subscription identifiers"},
    {0xA2, B(MQTLS_SUBACK) | B(MQTLS_DISCONNECT), "Wildcard Subscriptions not supported",
     "the broker does not support wildcard subscriptions"},
};

static const reason_info_t *find(uint8_t type, uint8_t code)
{
    if (type < 1u || type > 15u) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++) {
        if (REASONS[i].code == code) {
            return (REASONS[i].packets & B(type)) != 0u ? &REASONS[i] : NULL;
        }
    }
    return NULL;
}

uint16_t mqtls__reason_packets(uint8_t code)
{
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++) {
        if (REASONS[i].code == code) {
            return REASONS[i].packets;
        }
    }
    return 0;
}

bool mqtls__reason_valid(uint8_t type, uint8_t code)
{
    return find(type, code) != NULL;
}

const char *mqtls_reason_name(mqtls_packet_type_t type, uint8_t code)
{
    const reason_info_t *r = find((uint8_t)type, code);
    if (r == NULL) {
        return "Unknown reason code";
    }
    if (code == 0u && type == MQTLS_DISCONNECT) {
        return "Normal disconnection";
    }
    if (code == 0u && type == MQTLS_SUBACK) {
        return "Granted QoS 0";
    }
    return r->name;
}

const char *mqtls_reason_text(mqtls_packet_type_t type, uint8_t code)
{
    const reason_info_t *r = find((uint8_t)type, code);
    if (r == NULL) {
        return "the reason code is not defined for this packet";
    }
    if (code == 0u && type == MQTLS_DISCONNECT) {
        return "the connection was closed normally; no will message is sent";
    }
    if (code == 0u && type == MQTLS_SUBACK) {
        return "the subscription was accepted with QoS 0";
    }
    return r->text;
}

const char *mqtls_connack_v3_name(uint8_t code)
{
    /* MQTT 3.1.1 table 3.1 (3.2.2.3); 3.1 uses the same values. */
    static const char *const names[] = {
        "Connection Accepted",
        "Connection Refused, unacceptable protocol version",
        "Connection Refused, identifier rejected",
        "Connection Refused, Server unavailable",
        "Connection Refused, bad user name or password",
        "Connection Refused, not authorized",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "Unknown return code";
}

const char *mqtls_packet_type_name(mqtls_packet_type_t type)
{
    static const char *const names[] = {
        "RESERVED", "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
        "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
        "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH",
    };
    unsigned t = (unsigned)type;
    return (t >= 1u && t <= 15u) ? names[t] : "UNKNOWN";
}
