/** @file packet.h
 *  @brief MQTT 3.1, 3.1.1 and 5.0 control packets: encode and decode.
 *
 *  Sans I/O: no allocation, no system calls, no globals. Decoded strings, binaries,
 *  property blocks and filter lists are views into the caller's input buffer (zero copy);
 *  they stay valid while that buffer does. Encoders write into a caller buffer and can
 *  report the exact size first.
 *
 *  Thread safety: every function is reentrant; objects are not shared behind the caller.
 */
#ifndef MQTLS_PACKET_H
#define MQTLS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"
#include "mqtls/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocol level as sent in CONNECT. */
typedef enum mqtls_version {
    MQTLS_V31 = 3,  /**< MQTT 3.1, protocol name "MQIsdp" */
    MQTLS_V311 = 4, /**< MQTT 3.1.1 */
    MQTLS_V5 = 5    /**< MQTT 5.0 */
} mqtls_version_t;

/** Control packet types (fixed header bits 7-4). */
typedef enum mqtls_packet_type {
    MQTLS_CONNECT = 1,
    MQTLS_CONNACK = 2,
    MQTLS_PUBLISH = 3,
    MQTLS_PUBACK = 4,
    MQTLS_PUBREC = 5,
    MQTLS_PUBREL = 6,
    MQTLS_PUBCOMP = 7,
    MQTLS_SUBSCRIBE = 8,
    MQTLS_SUBACK = 9,
    MQTLS_UNSUBSCRIBE = 10,
    MQTLS_UNSUBACK = 11,
    MQTLS_PINGREQ = 12,
    MQTLS_PINGRESP = 13,
    MQTLS_DISCONNECT = 14,
    MQTLS_AUTH = 15 /**< MQTT 5 only */
} mqtls_packet_type_t;

/** MQTT 5 property identifiers (MQTT 5.0 section 2.2.2.2). */
typedef enum mqtls_prop_id {
    MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,   /**< byte */
    MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,    /**< four byte integer */
    MQTLS_PROP_CONTENT_TYPE = 0x03,               /**< UTF-8 string */
    MQTLS_PROP_RESPONSE_TOPIC = 0x08,             /**< UTF-8 string */
    MQTLS_PROP_CORRELATION_DATA = 0x09,           /**< binary data */
    MQTLS_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,    /**< variable byte integer */
    MQTLS_PROP_SESSION_EXPIRY_INTERVAL = 0x11,    /**< four byte integer */
    MQTLS_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12, /**< UTF-8 string */
    MQTLS_PROP_SERVER_KEEP_ALIVE = 0x13,          /**< two byte integer */
    MQTLS_PROP_AUTHENTICATION_METHOD = 0x15,      /**< UTF-8 string */
    MQTLS_PROP_AUTHENTICATION_DATA = 0x16,        /**< binary data */
    MQTLS_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,/**< byte */
    MQTLS_PROP_WILL_DELAY_INTERVAL = 0x18,        /**< four byte integer */
    MQTLS_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,/**< byte */
    MQTLS_PROP_RESPONSE_INFORMATION = 0x1A,       /**< UTF-8 string */
    MQTLS_PROP_SERVER_REFERENCE = 0x1C,           /**< UTF-8 string */
    MQTLS_PROP_REASON_STRING = 0x1F,              /**< UTF-8 string */
    MQTLS_PROP_RECEIVE_MAXIMUM = 0x21,            /**< two byte integer */
    MQTLS_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,        /**< two byte integer */
    MQTLS_PROP_TOPIC_ALIAS = 0x23,                /**< two byte integer */
    MQTLS_PROP_MAXIMUM_QOS = 0x24,                /**< byte */
    MQTLS_PROP_RETAIN_AVAILABLE = 0x25,           /**< byte */
    MQTLS_PROP_USER_PROPERTY = 0x26,              /**< UTF-8 string pair; repeatable */
    MQTLS_PROP_MAXIMUM_PACKET_SIZE = 0x27,        /**< four byte integer */
    MQTLS_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28, /**< byte */
    MQTLS_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29, /**< byte */
    MQTLS_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A /**< byte */
} mqtls_prop_id_t;

/** Wire type of a property value. */
typedef enum mqtls_prop_type {
    MQTLS_PROP_TYPE_INVALID = 0,
    MQTLS_PROP_TYPE_BYTE,
    MQTLS_PROP_TYPE_U16,
    MQTLS_PROP_TYPE_U32,
    MQTLS_PROP_TYPE_VARINT,
    MQTLS_PROP_TYPE_UTF8,
    MQTLS_PROP_TYPE_BINARY,
    MQTLS_PROP_TYPE_UTF8_PAIR
} mqtls_prop_type_t;

/** One property, for encoding (an array of these) and as the iterator's output. */
typedef struct mqtls_property {
    uint8_t id; /**< mqtls_prop_id_t */
    union {
        uint32_t u32;      /**< BYTE, U16, U32 and VARINT values */
        mqtls_bytes_t bin; /**< UTF8 and BINARY values */
        struct {
            mqtls_bytes_t key;
            mqtls_bytes_t value;
        } pair; /**< UTF8_PAIR (user property) */
    } v;
} mqtls_property_t;

/** A property block.
 *  Decoding sets @c raw to the validated property bytes (without the length prefix) and
 *  @c items to NULL; read it with mqtls_props_next() / mqtls_props_find().
 *  Encoding writes @c items[0..count) if @c items is not NULL, otherwise copies @c raw as is
 *  (so decode -> encode is byte-identical). A zeroed block is "no properties". */
typedef struct mqtls_properties {
    const mqtls_property_t *items;
    size_t count;
    mqtls_bytes_t raw;
} mqtls_properties_t;

/** Subscription options byte (MQTT 5.0 3.8.3.1); for 3.1.1 only the QoS bits are sent. */
#define MQTLS_SUBOPT_QOS_MASK 0x03u
#define MQTLS_SUBOPT_NO_LOCAL 0x04u
#define MQTLS_SUBOPT_RETAIN_AS_PUBLISHED 0x08u
#define MQTLS_SUBOPT_RETAIN_HANDLING_SHIFT 4u /**< 0 send, 1 send if new, 2 do not send */

/** One SUBSCRIBE entry (options = 0 for UNSUBSCRIBE). */
typedef struct mqtls_topic_filter {
    mqtls_bytes_t filter;
    uint8_t options;
} mqtls_topic_filter_t;

/** A list of topic filters: for encoding @c items[0..count); decoding sets @c raw to the
 *  validated payload and @c count, @c items NULL; read it with mqtls_filters_next(). */
typedef struct mqtls_filter_list {
    const mqtls_topic_filter_t *items;
    size_t count;
    mqtls_bytes_t raw;
    bool no_options; /**< raw form only: entries carry no options byte (set for UNSUBSCRIBE by
                          the decoder; the encoder decides by packet type, not by this) */
} mqtls_filter_list_t;

typedef struct mqtls_connect {
    mqtls_version_t version; /**< selects protocol name/level on the wire */
    bool clean_start;        /**< "clean session" in 3.1.1 */
    uint16_t keepalive_s;
    mqtls_properties_t props;
    mqtls_bytes_t client_id;
    bool has_will;
    uint8_t will_qos;
    bool will_retain;
    mqtls_properties_t will_props;
    mqtls_bytes_t will_topic;
    mqtls_bytes_t will_payload;
    bool has_username;
    mqtls_bytes_t username;
    bool has_password;
    mqtls_bytes_t password;
} mqtls_connect_t;

typedef struct mqtls_connack {
    bool session_present;
    uint8_t reason; /**< MQTT 5 reason code, or the 3.1.1 return code (0-5) */
    mqtls_properties_t props;
} mqtls_connack_t;

typedef struct mqtls_publish {
    uint8_t qos;
    bool retain;
    bool dup;
    mqtls_bytes_t topic; /**< may be empty in MQTT 5 when a Topic Alias property is set */
    uint16_t packet_id;  /**< only when qos > 0 */
    mqtls_properties_t props;
    mqtls_bytes_t payload;
} mqtls_publish_t;

/** Wire form of the optional trailing fields of PUBACK..PUBCOMP, DISCONNECT and AUTH in MQTT 5
 *  (3.4.2.1, 3.14.2.1, 3.15.2.1). The encoder writes the shortest form that carries the reason
 *  code and properties, but never a shorter one than @c form asks for; the decoder records the
 *  form it saw, so decode -> encode is byte-identical. 0 (a zeroed struct) = shortest. */
#define MQTLS_FORM_SHORTEST 0u /**< omit what the spec lets us omit */
#define MQTLS_FORM_REASON 1u   /**< reason code present, property length omitted */
#define MQTLS_FORM_FULL 2u     /**< reason code and property length present */

/** PUBACK, PUBREC, PUBREL, PUBCOMP. Encoders use the short form (2 bytes) when reason is 0 and
 *  there are no properties, as [MQTT-3.4.2.1] allows. */
typedef struct mqtls_ack {
    uint16_t packet_id;
    uint8_t reason; /**< MQTT 5 only; 0 = success */
    mqtls_properties_t props;
    uint8_t form; /**< MQTLS_FORM_*; MQTT 5 only */
} mqtls_ack_t;

typedef struct mqtls_subscribe {
    uint16_t packet_id;
    mqtls_properties_t props;
    mqtls_filter_list_t filters;
} mqtls_subscribe_t;

/** SUBACK and UNSUBACK: one reason code byte per filter (UNSUBACK 3.1.1 has none). */
typedef struct mqtls_suback {
    uint16_t packet_id;
    mqtls_properties_t props;
    mqtls_bytes_t reasons;
} mqtls_suback_t;

/** DISCONNECT and AUTH (MQTT 5 fields; 3.1.1 DISCONNECT has none). */
typedef struct mqtls_disconnect {
    uint8_t reason;
    mqtls_properties_t props;
    uint8_t form; /**< MQTLS_FORM_*; MQTT 5 only */
} mqtls_disconnect_t;

/** Any control packet. @c type selects the union member:
 *  CONNECT connect, CONNACK connack, PUBLISH publish, PUBACK..PUBCOMP ack,
 *  SUBSCRIBE/UNSUBSCRIBE subscribe, SUBACK/UNSUBACK suback, DISCONNECT/AUTH disconnect,
 *  PINGREQ/PINGRESP none. */
typedef struct mqtls_packet {
    mqtls_packet_type_t type;
    union {
        mqtls_connect_t connect;
        mqtls_connack_t connack;
        mqtls_publish_t publish;
        mqtls_ack_t ack;
        mqtls_subscribe_t subscribe;
        mqtls_suback_t suback;
        mqtls_disconnect_t disconnect;
    } u;
} mqtls_packet_t;

/** Decoder settings. A zeroed struct means: version 5, no size limit beyond the protocol's. */
typedef struct mqtls_codec_cfg {
    mqtls_version_t version;   /**< version of the connection (CONNECT carries its own) */
    uint32_t max_packet_size;  /**< total bytes incl. fixed header; 0 = 268435460 */
} mqtls_codec_cfg_t;

/* --- decoding ------------------------------------------------------------------------ */

/** @brief Find the total size of the packet at the front of @p in, without decoding it.
 *  Use it to know how many bytes to wait for; the limit check happens as soon as the
 *  fixed header is complete, before the body arrives.
 *  @param[in]  in, in_len  Received bytes, borrowed for the call.
 *  @param[in]  cfg         Limits; NULL = defaults.
 *  @param[out] total_len   Fixed header + remaining length, on MQTLS_OK.
 *  @return MQTLS_OK (the whole packet may still be incomplete: compare with in_len);
 *          MQTLS_ERR_NEED_MORE (fixed header incomplete); MQTLS_ERR_REMAINING_LENGTH;
 *          MQTLS_ERR_PACKET_TOO_LARGE; MQTLS_ERR_BAD_PACKET_TYPE; MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_packet_frame(const uint8_t *in, size_t in_len,
                                            const mqtls_codec_cfg_t *cfg, size_t *total_len);

/** @brief Decode one packet from the front of @p in. No I/O, no allocation.
 *  Bytes may arrive split anywhere: call again with more bytes after MQTLS_ERR_NEED_MORE.
 *  All validation of [MQTT-x.y.z] "must" rules that a receiver can check happens here.
 *  @param[in]  in, in_len  Received bytes, borrowed; views in @p pkt point into them.
 *  @param[in]  cfg         Version and limits; NULL = MQTT 5, no extra limit.
 *  @param[out] pkt         The packet, on MQTLS_OK.
 *  @param[out] used        Bytes consumed; 0 unless MQTLS_OK.
 *  A prefix of a packet gives MQTLS_ERR_NEED_MORE or, when the bytes seen already break a
 *  rule (type, flags, remaining length, size limit), the same status the whole packet gives.
 *  CONNECT is decoded by its own protocol name/level ("MQIsdp" 3, "MQTT" 4 or 5); other
 *  packets by @c cfg->version (3.1 decodes like 3.1.1).
 *  @return MQTLS_OK; MQTLS_ERR_NEED_MORE (call again with more bytes); MQTLS_ERR_INVALID_ARG;
 *          otherwise a specific malformed-packet status (-2 .. -99): the connection must be
 *          closed (MQTT 5: DISCONNECT 0x81 Malformed Packet or 0x82 Protocol Error).
 *          Statuses: REMAINING_LENGTH, PACKET_TOO_LARGE, BAD_PACKET_TYPE, BAD_FLAGS, BAD_QOS,
 *          UTF8_INVALID/NONMINIMAL/NUL/SURROGATE, TOPIC_EMPTY, TOPIC_WILDCARD, FILTER_INVALID,
 *          PACKET_ID_ZERO, NO_TOPIC_FILTERS, SUB_OPTIONS, PROP_DUPLICATE, PROP_NOT_ALLOWED,
 *          PROP_UNKNOWN, PROP_LENGTH, PROP_VALUE, TRAILING_BYTES, TRUNCATED_FIELD, BAD_PROTOCOL,
 *          CONNECT_FLAGS, CONNACK_FLAGS, BAD_REASON_CODE, NO_REASON_CODES, MALFORMED (a
 *          non-minimal variable byte integer inside the packet). */
MQTLS_API mqtls_status_t mqtls_packet_decode(const uint8_t *in, size_t in_len,
                                             const mqtls_codec_cfg_t *cfg, mqtls_packet_t *pkt,
                                             size_t *used);

/** @brief Iterate a decoded (raw) or caller-built property block.
 *  @param[in]     props   The block, borrowed.
 *  @param[in,out] cursor  Start at 0; advanced past each property.
 *  @param[out]    out     The next property.
 *  @return MQTLS_OK with @p out set; MQTLS_ERR_NEED_MORE when there are no more properties;
 *          MQTLS_ERR_MALFORMED if a caller-built raw block is invalid. */
MQTLS_API mqtls_status_t mqtls_props_next(const mqtls_properties_t *props, size_t *cursor,
                                          mqtls_property_t *out);

/** @brief First property with id @p id in @p props.
 *  @return true and @p out set if present, false if not. */
MQTLS_API bool mqtls_props_find(const mqtls_properties_t *props, uint8_t id,
                                mqtls_property_t *out);

/** @brief Iterate a decoded or caller-built filter list (SUBSCRIBE / UNSUBSCRIBE).
 *  @param[in]     list    The list, borrowed; @p out's views point into it.
 *  @param[in,out] cursor  Start at 0.
 *  @return MQTLS_OK with @p out set; MQTLS_ERR_NEED_MORE at the end; MQTLS_ERR_MALFORMED if a
 *          caller-built raw list is invalid; MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_filters_next(const mqtls_filter_list_t *list, size_t *cursor,
                                            mqtls_topic_filter_t *out);

/* --- encoding ------------------------------------------------------------------------ */

/** @brief Encode @p pkt for protocol @p version into @p buf.
 *  Validates what it writes (strings, topic names, filters, QoS, property placement) and
 *  refuses to produce a packet the decoder would reject. A CONNECT is written for
 *  @c pkt->u.connect.version when that is set (3, 4 or 5), else for @p version.
 *  Property blocks and filter lists are written from @c items when not NULL, else @c raw is
 *  validated and copied, so decode -> encode gives back the same bytes.
 *  @param[in]  pkt       Borrowed for the call.
 *  @param[out] buf       Destination; may be NULL when @p cap is 0 (size query).
 *  @param[out] written   Bytes written on MQTLS_OK; the exact size needed on
 *                        MQTLS_ERR_BUFFER_TOO_SMALL.
 *  @return MQTLS_OK; MQTLS_ERR_BUFFER_TOO_SMALL; MQTLS_ERR_INVALID_ARG; a validation status
 *          (e.g. MQTLS_ERR_TOPIC_WILDCARD, MQTLS_ERR_PROP_NOT_ALLOWED, MQTLS_ERR_VERSION). */
MQTLS_API mqtls_status_t mqtls_packet_encode(const mqtls_packet_t *pkt, mqtls_version_t version,
                                             uint8_t *buf, size_t cap, size_t *written);

/** @brief Exact encoded size of @p pkt, or a validation status.
 *  @param[out] size  Bytes mqtls_packet_encode() would write, on MQTLS_OK.
 *  @return MQTLS_OK or any status of mqtls_packet_encode() except MQTLS_ERR_BUFFER_TOO_SMALL. */
MQTLS_API mqtls_status_t mqtls_packet_encoded_size(const mqtls_packet_t *pkt,
                                                   mqtls_version_t version, size_t *size);

/** @brief Encode everything of a PUBLISH except its payload (fixed header, topic, packet id,
 *  properties), so the payload can be sent from the caller's buffer without a copy.
 *  The remaining length written accounts for @p pub->payload.len; send exactly
 *  @p pub->payload.len bytes after the @p written header bytes.
 *  @return as mqtls_packet_encode(); on MQTLS_ERR_BUFFER_TOO_SMALL @p written is the header
 *          size needed. */
MQTLS_API mqtls_status_t mqtls_packet_encode_publish_header(const mqtls_publish_t *pub,
                                                            mqtls_version_t version, uint8_t *buf,
                                                            size_t cap, size_t *written);

/* --- validation helpers, names ------------------------------------------------------- */

/** @brief Check an MQTT UTF-8 string [MQTT-1.5.4]. @return MQTLS_OK or a MQTLS_ERR_UTF8_*. */
MQTLS_API mqtls_status_t mqtls_utf8_check(const uint8_t *s, size_t len);
/** @brief Check a topic name for PUBLISH. @return MQTLS_OK, TOPIC_EMPTY, TOPIC_WILDCARD, UTF8_*. */
MQTLS_API mqtls_status_t mqtls_topic_name_check(const uint8_t *s, size_t len);
/** @brief Check a topic filter. @return MQTLS_OK, TOPIC_EMPTY, FILTER_INVALID, UTF8_*. */
MQTLS_API mqtls_status_t mqtls_topic_filter_check(const uint8_t *s, size_t len);
/** @brief Does topic name @p topic match filter @p filter ([MQTT-4.7]; $-topics rule)? */
MQTLS_API bool mqtls_topic_matches(const uint8_t *filter, size_t filter_len, const uint8_t *topic,
                                   size_t topic_len);

/** @brief "PUBLISH", "CONNACK", ...; "UNKNOWN" otherwise. */
MQTLS_API const char *mqtls_packet_type_name(mqtls_packet_type_t type);
/** @brief Wire type of property @p id; MQTLS_PROP_TYPE_INVALID if unknown. */
MQTLS_API mqtls_prop_type_t mqtls_prop_type(uint8_t id);
/** @brief Spec name of property @p id, e.g. "Receive Maximum"; NULL if unknown. */
MQTLS_API const char *mqtls_prop_name(uint8_t id);
/** @brief May packet @p type carry property @p id? (@p in_will: the CONNECT will properties) */
MQTLS_API bool mqtls_prop_allowed(uint8_t id, mqtls_packet_type_t type, bool in_will);

/** @brief Name of an MQTT 5 reason code in the context of packet @p type,
 *  e.g. (CONNACK, 0x87) -> "Not authorized"; (DISCONNECT, 0x00) -> "Normal disconnection".
 *  @return static string; "Unknown reason code" if not valid for that packet. */
MQTLS_API const char *mqtls_reason_name(mqtls_packet_type_t type, uint8_t code);
/** @brief One-line meaning of that reason code for a user, e.g. "the broker's authorization
 *  (ACL) refused this client". */
MQTLS_API const char *mqtls_reason_text(mqtls_packet_type_t type, uint8_t code);
/** @brief Name of a 3.1/3.1.1 CONNACK return code 0-5, e.g. 5 -> "Connection Refused, not
 *  authorized". */
MQTLS_API const char *mqtls_connack_v3_name(uint8_t code);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_PACKET_H */
