/** @file event.h
 *  @brief What a client reports: one event type per outcome, delivered through one callback
 *  (mqtls_client_cfg_t::on_event), and the log levels of its log callback.
 *
 *  Events are produced by the library and only read by the application (every pointer in one
 *  is borrowed for the duration of the callback), so the union may gain members in a minor
 *  version; mqtls_error_t inside is a frozen value (mqtls/error.h). */
#ifndef MQTLS_EVENT_H
#define MQTLS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/packet.h"
#include "mqtls/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Findings of a diagnosis run (mqtls/diag.h). Opaque. */
typedef struct mqtls_findings mqtls_findings_t;

/** Log levels, most severe first. */
typedef enum mqtls_log_level {
    MQTLS_LOG_OFF = 0,
    MQTLS_LOG_ERROR = 1,
    MQTLS_LOG_WARN = 2,
    MQTLS_LOG_INFO = 3,
    MQTLS_LOG_DEBUG = 4
} mqtls_log_level_t;

/** @brief Log sink. @p msg is a NUL-terminated line without newline, borrowed for the call.
 *  Called on the loop thread. Secrets are never logged. */
typedef void (*mqtls_log_fn)(void *ctx, mqtls_log_level_t level, const char *msg);

/** Event types delivered to mqtls_event_fn. */
typedef enum mqtls_event_type {
    MQTLS_EVENT_CONNECTED = 1,    /**< CONNACK accepted: u.connected */
    MQTLS_EVENT_DISCONNECTED = 2, /**< connection lost or closed: u.disconnected */
    MQTLS_EVENT_MESSAGE = 3,      /**< PUBLISH received: u.message */
    MQTLS_EVENT_PUBLISHED = 4,    /**< our QoS 1/2 PUBLISH acknowledged: u.published */
    MQTLS_EVENT_SUBSCRIBED = 5,   /**< SUBACK: u.subscribed */
    MQTLS_EVENT_UNSUBSCRIBED = 6, /**< UNSUBACK: u.subscribed (reason codes, MQTT 5) */
    MQTLS_EVENT_ERROR = 7,        /**< a failure: u.error (connect failures, dropped messages) */
    /** Since 1.1: a QoS 2 message mqtls cannot tell whether it delivered before, so it does not
     *  deliver it as MQTLS_EVENT_MESSAGE (exactly once: never twice) but reports it: u.message.
     *  (1) With persistence: a message a previous process received and recorded, whose
     *  MQTLS_EVENT_MESSAGE callback had not returned when that process died (reported once, by
     *  the first step of the loop after mqtls_client_create(); dup true). (2) A PUBLISH without
     *  DUP for a packet id still awaiting PUBREL: a broker that lost its state (a restart)
     *  reusing the id for a new message, or one re-sending without DUP. An application that
     *  ignores this event gets at most once for these messages (docs/reliability.md). */
    MQTLS_EVENT_MESSAGE_IN_DOUBT = 8
} mqtls_event_type_t;

/** One event. Every pointer is borrowed for the duration of the callback. */
typedef struct mqtls_event {
    mqtls_event_type_t type;
    union {
        struct {
            bool session_present;
            mqtls_properties_t props; /**< CONNACK properties (MQTT 5) */
        } connected;
        struct {
            mqtls_error_t why; /**< status MQTLS_OK for a disconnect the caller asked for */
            bool will_reconnect;
            uint32_t reconnect_in_ms; /**< delay before the next attempt, if will_reconnect */
        } disconnected;
        struct {
            mqtls_bytes_t topic; /**< resolved even when the broker used a Topic Alias */
            mqtls_bytes_t payload;
            uint8_t qos;
            bool retain;
            bool dup;
            uint16_t packet_id;
            mqtls_properties_t props;
        } message;
        struct {
            uint16_t packet_id;
            uint8_t reason; /**< PUBACK / PUBREC / PUBCOMP reason (MQTT 5), 0 success */
        } published;
        struct {
            uint16_t packet_id;
            mqtls_bytes_t reasons; /**< one granted QoS / reason code per filter */
            mqtls_properties_t props;
        } subscribed;
        struct {
            mqtls_error_t err;
            uint16_t packet_id; /**< message concerned, 0 if none */
            /** For a failed connection attempt: what diagnosis (mqtls/diag.h) found, worst
             *  first, with a fix for each; NULL if it did not run (cfg.diagnose false). */
            const mqtls_findings_t *findings;
        } error;
    } u;
} mqtls_event_t;

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_EVENT_H */
