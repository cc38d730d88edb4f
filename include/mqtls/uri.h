/** @file uri.h
 *  @brief Broker URIs: "mqtt[s]://host[:port]", "ws[s]://host[:port][/path]",
 *  "unix:///path/to/socket". Pure. */
#ifndef MQTLS_URI_H
#define MQTLS_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** URI schemes (mqtls_uri_t::scheme). Append-only. */
typedef enum mqtls_uri_scheme {
    MQTLS_SCHEME_MQTT = 0,  /**< mqtt://, tcp://, or a bare "host[:port]" */
    MQTLS_SCHEME_MQTTS = 1, /**< mqtts://, ssl:// */
    MQTLS_SCHEME_WS = 2,    /**< ws:// (MQTT over WebSocket over TCP) */
    MQTLS_SCHEME_WSS = 3,   /**< wss:// (MQTT over WebSocket over TLS) */
    MQTLS_SCHEME_UNIX = 4   /**< unix:///path (MQTT over a Unix domain stream socket; 1.1) */
} mqtls_uri_scheme_t;

/** Parsed broker URI. A plain value with a frozen layout (docs/abi.md). Caller-owned. */
typedef struct mqtls_uri {
    bool tls;       /**< mqtts:// or wss:// */
    char host[256]; /**< without brackets for IPv6 literals */
    uint16_t port;
    mqtls_uri_scheme_t scheme;
    bool websocket; /**< ws:// or wss:// */
    char path[256]; /**< WebSocket request target, "/mqtt" if none given; unix://: the socket's
                         file name (absolute, at most 107 bytes: sun_path); "" for mqtt(s):// */
} mqtls_uri_t;

/** @brief Parse "mqtt[s]://host[:port]" or "ws[s]://host[:port][/path]" (host: name, IPv4,
 *  or "[IPv6]"). Default ports 1883, 8883, 80, 443. For mqtt(s):// a path is ignored; for
 *  ws(s):// it is kept verbatim (query included) and must hold no space or control byte.
 *  "unix:///run/mosquitto.sock" (since 1.1): MQTLS_SCHEME_UNIX, the socket's absolute file
 *  name in @c path (no host part: "unix://" + "/path"; at most 107 bytes, no control byte),
 *  @c host "" and @c port 0; TLS may still be enabled over it (mqtls_tls_cfg_t::enabled).
 *  @param[in]  uri  NUL-terminated, borrowed for the call.
 *  @param[out] out  Filled on MQTLS_OK.
 *  @return MQTLS_OK; MQTLS_ERR_BAD_URI; MQTLS_ERR_INVALID_ARG. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_uri_parse(const char *uri, mqtls_uri_t *out);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_URI_H */
