/** @file error.h
 *  @brief Failures as values (DESIGN.md "Errors"): which layer, our status, and the raw facts
 *  (mbedTLS return code, verify flags per chain depth, TLS alert, CONNACK reason, errno). */
#ifndef MQTLS_ERROR_H
#define MQTLS_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a failure happened. Append-only. */
typedef enum mqtls_layer {
    MQTLS_LAYER_NONE = 0,
    MQTLS_LAYER_CONFIG = 1, /**< our configuration: bad URI, unreadable file, bad key */
    MQTLS_LAYER_DNS = 2,
    MQTLS_LAYER_TCP = 3,
    MQTLS_LAYER_TLS = 4,
    MQTLS_LAYER_WS = 5,
    MQTLS_LAYER_MQTT = 6,
    MQTLS_LAYER_APP = 7,
    MQTLS_LAYER_PROXY = 8 /**< a SOCKS5 or HTTP CONNECT proxy (1.1) */
} mqtls_layer_t;

/** Chain depths whose verify flags an mqtls_error_t records (0 = the server's leaf). Part of
 *  the frozen layout: not a build knob. */
#define MQTLS_ERROR_CHAIN_DEPTH 8

/** A failure. Plain value: copyable, no pointers. Caller-owned; reset it with
 *  mqtls_error_init() (tls_alert, connack_reason and disconnect_reason are -1 when unset).
 *  Its layout is frozen for ABI 1 (docs/abi.md): new facts about a failure go to accessors of
 *  the objects that hold them (the client, mqtls/tls_facts.h), not here. */
typedef struct mqtls_error {
    mqtls_layer_t layer;
    mqtls_status_t status;   /**< our code */
    int mbedtls_ret;         /**< raw mbedTLS return code (negative), 0 if none */
    uint32_t verify_flags;   /**< merged X.509 verify flags (MBEDTLS_X509_BADCERT_*), 0 if none */
    uint32_t depth_flags[MQTLS_ERROR_CHAIN_DEPTH]; /**< flags per chain depth (verify callback) */
    uint8_t chain_len;       /**< entries of depth_flags in use */
    int16_t tls_alert;       /**< fatal alert received from the peer, -1 if none */
    int16_t connack_reason;  /**< CONNACK reason/return code, -1 if none; 0 on the loss of a
                                  connection the broker had accepted */
    int16_t disconnect_reason; /**< reason in a broker DISCONNECT (MQTT 5), -1 if none */
    int sys_errno;           /**< errno of the failing system call, 0 if none */
    char detail[160];        /**< short context: a file name, "getaddrinfo: ...", never a secret */
} mqtls_error_t;

/** @brief Reset @p err to "no error" (tls_alert, connack_reason, disconnect_reason = -1). */
MQTLS_API void mqtls_error_init(mqtls_error_t *err);

/** @brief Layer name: "dns", "tcp", "tls", "mqtt", ... */
MQTLS_API const char *mqtls_layer_name(mqtls_layer_t layer);

/** @brief One line describing @p err, e.g.
 *  "tls: peer certificate rejected (MQTLS_ERR_TLS_VERIFY; mbedTLS -0x2700: X509 - Certificate
 *  verification failed ...; verify flags 0x10008: ...)".
 *  @return the length it would have written (snprintf semantics). Thread-safe. */
MQTLS_API size_t mqtls_strerror(const mqtls_error_t *err, char *buf, size_t cap);

/** @brief The reasons in X.509 verify flags, one per line ("\n"-separated, as
 *  mbedtls_x509_crt_verify_info() prints them), e.g. "The certificate is not correctly signed
 *  by the trusted CA". @p buf is always NUL-terminated when @p cap > 0.
 *  @return the length written (0 if @p flags is 0). Thread-safe. */
MQTLS_API size_t mqtls_verify_info(uint32_t flags, char *buf, size_t cap);

/** @brief Name of a TLS AlertDescription, e.g. 48 -> "unknown_ca"; "unknown alert" otherwise. */
MQTLS_API const char *mqtls_tls_alert_name(int alert);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_ERROR_H */
