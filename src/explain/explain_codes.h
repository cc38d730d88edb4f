/* Code tables of mqtls explain: mbedTLS error codes, verify flags, esp-tls codes, TLS alerts,
 * MQTT CONNACK / reason codes, Paho return codes and errno, each with the causes (finding ids,
 * src/diag/findings.def) it points to and their weights. Sources are cited per table. What is
 * defined elsewhere is not repeated here: alert names (src/common/tls_alert.h), MQTT 5 reason
 * names (src/packet/names.c), verify-flag texts (the linked mbedTLS).
 *
 * Included by explain_decode.c (and the unit test) only. */
#ifndef MQTLS_EXPLAIN_CODES_H
#define MQTLS_EXPLAIN_CODES_H

#include <stdint.h>

#include "common/tls_alert.h"
#include "explain_internal.h"

/* Data tables are hand-aligned for reading; clang-format would put one field per line. */
/* clang-format off */

/* --- mbedTLS error codes (2.28 include/mbedtls/{ssl,x509,pk,pem,net_sockets}.h) --------
 * Only codes that point to a cause are listed; mbedtls_strerror() names every other one.
 * `v3` notes where mbedTLS 3.x (ESP-IDF >= 5.0) reuses the number for another error. */
typedef struct mbed_entry {
    uint16_t code; /* magnitude: -0x2700 is 0x2700 */
    const char *name;
    const char *v3;
    weight_t to[3];
} mbed_entry_t;

static const mbed_entry_t mbed_codes[] = {
    /* 0x2700 is resolved after all input: by the verify flags if any, else the generic ids */
    {0x2700, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", NULL, NONE},
    {0x7800, "MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED", NULL, NONE},
    {0x7780, "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", NULL,
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 2), CAUSE(CLIENT_CERT_REJECTED, 2), CAUSE(TLS_ALERT, 1)}},
    {0x7280, "MBEDTLS_ERR_SSL_CONN_EOF", NULL,
     {CAUSE(TLS_ON_PLAIN_PORT, 2), CAUSE(CLIENT_CERT_MISSING, 1), CAUSE(ALPN_REQUIRED, 1)}},
    {0x7880, "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY", NULL, {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    /* A record mbedTLS cannot take: longer than its input buffer (a device with small TLS
     * buffers, on a TLS port), or not TLS at all (an HTTP answer); explain_rules.h weighs the
     * port. */
    {0x7200, "MBEDTLS_ERR_SSL_INVALID_RECORD", NULL,
     {CAUSE(TLS_RECORD_BUFFER_TOO_SMALL, 2), CAUSE(TLS_ON_PLAIN_PORT, 2)}},
    {0x7100, "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", NULL, {CAUSE(TLS_RECORD_BUFFER_TOO_SMALL, 1)}},
    /* Same number in 3.x. What devices hit in practice: a handshake message split over
     * records, which mbedTLS reassembles only since 3.6.3 ("TLS handshake fragmentation not
     * supported" in its debug log). */
    {0x7080, "MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE", NULL, {CAUSE(HANDSHAKE_FRAGMENTED, 3)}},
    {0x6800, "MBEDTLS_ERR_SSL_TIMEOUT", NULL, {CAUSE(HANDSHAKE_TIMEOUT, 3)}},
    {0x7380, "MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN", NULL, {CAUSE(NO_SHARED_CIPHER, 3)}},
    {0x6980, "MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE", NULL, {CAUSE(NO_SHARED_CIPHER, 3)}},
    {0x6E80, "MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION", "MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION",
     {CAUSE(TLS_VERSION_MISMATCH, 4), CAUSE(NO_SHARED_CIPHER, 1)}},
    {0x6A80, "MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED", "MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE",
     {CAUSE(NO_SHARED_CIPHER, 2), CAUSE(CLIENT_CERT_MISSING, 1)}},
    {0x7580, "MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED", "MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL",
     {CAUSE(CLIENT_CERT_MISSING, 2), CAUSE(ALPN_REQUIRED, 2)}},
    {0x7480, "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE", NULL, {CAUSE(CLIENT_CERT_MISSING, 3)}},
    {0x7600, "MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED", NULL, {CAUSE(CLIENT_KEY_MISSING, 4)}},
    {0x7680, "MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED", NULL,
     {CAUSE(EMPTY_FILE, 2), CAUSE(FILE_UNREADABLE, 1)}},
    {0x7A00, "MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE", NULL,
     {CAUSE(CURVE_NOT_ALLOWED, 2), CAUSE(KEY_TYPE_UNSUPPORTED, 1)}},
    {0x7B00, "MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE", NULL, {CAUSE(CURVE_NOT_ALLOWED, 2)}},
    {0x6D00, "MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH", NULL, {CAUSE(NO_SHARED_CIPHER, 2)}},
    {0x0052, "MBEDTLS_ERR_NET_UNKNOWN_HOST", NULL, {CAUSE(DNS_FAILURE, 3)}},
    {0x0044, "MBEDTLS_ERR_NET_CONNECT_FAILED", NULL,
     {CAUSE(CONNECTION_REFUSED, 2), CAUSE(CONNECT_TIMEOUT, 1)}},
    {0x0050, "MBEDTLS_ERR_NET_CONN_RESET", NULL,
     {CAUSE(TLS_ON_PLAIN_PORT, 1), CAUSE(CLIENT_CERT_REJECTED, 1)}},
    {0x3C00, "MBEDTLS_ERR_PK_PASSWORD_REQUIRED", NULL, {CAUSE(KEY_PASSWORD_REQUIRED, 3)}},
    {0x1300, "MBEDTLS_ERR_PEM_PASSWORD_REQUIRED", NULL, {CAUSE(KEY_PASSWORD_REQUIRED, 3)}},
    {0x3B80, "MBEDTLS_ERR_PK_PASSWORD_MISMATCH", NULL, {CAUSE(KEY_PASSWORD_WRONG, 3)}},
    {0x1380, "MBEDTLS_ERR_PEM_PASSWORD_MISMATCH", NULL, {CAUSE(KEY_PASSWORD_WRONG, 3)}},
    {0x3C80, "MBEDTLS_ERR_PK_UNKNOWN_PK_ALG", NULL,
     {CAUSE(KEY_TYPE_UNSUPPORTED, 3), CAUSE(CERT_AND_KEY_SWAPPED, 1)}},
    {0x3A00, "MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE", NULL,
     {CAUSE(KEY_TYPE_UNSUPPORTED, 3), CAUSE(CURVE_NOT_ALLOWED, 1)}},
    {0x3D00, "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT", NULL,
     {CAUSE(KEY_NOT_A_KEY, 2), CAUSE(CERT_AND_KEY_SWAPPED, 2), CAUSE(PEM_NOT_NUL_TERMINATED, 1)}},
    {0x3F00, "MBEDTLS_ERR_PK_TYPE_MISMATCH", NULL, {CAUSE(CLIENT_KEY_MISMATCH, 2)}},
    {0x3980, "MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE", NULL, {CAUSE(KEY_ENCRYPTION_UNSUPPORTED, 2)}},
    {0x3E00, "MBEDTLS_ERR_PK_FILE_IO_ERROR", NULL, {CAUSE(FILE_UNREADABLE, 3)}},
    {0x2900, "MBEDTLS_ERR_X509_FILE_IO_ERROR", NULL, {CAUSE(FILE_UNREADABLE, 3)}},
    {0x1280, "MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG", NULL, {CAUSE(KEY_ENCRYPTION_UNSUPPORTED, 3)}},
    {0x1400, "MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE", NULL, {CAUSE(KEY_ENCRYPTION_UNSUPPORTED, 2)}},
    {0x1080, "MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT", NULL,
     {CAUSE(DER_NOT_PEM, 2), CAUSE(NOT_A_CERTIFICATE, 1), CAUSE(PEM_TRUNCATED, 1)}},
    {0x1100, "MBEDTLS_ERR_PEM_INVALID_DATA", NULL,
     {CAUSE(CERT_PARSE_FAILED, 3), CAUSE(PEM_TRUNCATED, 2)}},
    {0x2180, "MBEDTLS_ERR_X509_INVALID_FORMAT", NULL,
     {CAUSE(PEM_NOT_NUL_TERMINATED, 3), CAUSE(CERT_PARSE_FAILED, 1), CAUSE(NOT_A_CERTIFICATE, 1)}},
    {0x2780, "MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT", NULL,
     {CAUSE(NOT_A_CERTIFICATE, 2), CAUSE(PEM_NOT_NUL_TERMINATED, 2)}},
    {0x2600, "MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG", NULL, {CAUSE(CURVE_NOT_ALLOWED, 2)}},
    {0x2080, "MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE", NULL, {CAUSE(KEY_TYPE_UNSUPPORTED, 2)}},
    /* a verify callback failed: ESP-IDF's certificate bundle found no root for the chain */
    {0x3000, "MBEDTLS_ERR_X509_FATAL_ERROR", NULL,
     {CAUSE(UNTRUSTED_ISSUER, 2), CAUSE(MISSING_INTERMEDIATE, 1)}},
    /* Out of heap: record buffers (ssl_setup), certificates, keys, bignums. */
    {0x7F00, "MBEDTLS_ERR_SSL_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 5)}},
    {0x2880, "MBEDTLS_ERR_X509_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 5)}},
    {0x3F80, "MBEDTLS_ERR_PK_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 5)}},
    {0x3400, "MBEDTLS_ERR_DHM_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
    {0x4D80, "MBEDTLS_ERR_ECP_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
    {0x5180, "MBEDTLS_ERR_MD_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
    {0x6180, "MBEDTLS_ERR_CIPHER_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
    {0x0010, "MBEDTLS_ERR_MPI_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
    {0x006A, "MBEDTLS_ERR_ASN1_ALLOC_FAILED", NULL, {CAUSE(OUT_OF_MEMORY, 4)}},
};

/* --- Verify flags (2.28 include/mbedtls/x509.h MBEDTLS_X509_BADCERT_*). Their texts are the
 * linked mbedTLS's own (mbedtls_x509_crt_verify_info(), through explain_mbedtls.c); every bit
 * here is checked to have one in tests/unit/explain. Only BADCERT bits (server/peer
 * certificate) map to causes. */
typedef struct flag_entry {
    uint32_t bit;
    const char *name;
    weight_t to[4];
} flag_entry_t;

static const flag_entry_t verify_flags_tab[] = {
    {0x01, "MBEDTLS_X509_BADCERT_EXPIRED",
     {CAUSE(SERVER_CERT_EXPIRED, 3), CAUSE(CA_EXPIRED, 1), CAUSE(CLOCK_NOT_SET, 1)}},
    {0x02, "MBEDTLS_X509_BADCERT_REVOKED", {CAUSE(VERIFY_FAILED, 3)}},
    {0x04, "MBEDTLS_X509_BADCERT_CN_MISMATCH",
     {CAUSE(HOSTNAME_MISMATCH, 4), CAUSE(IP_SAN_OLD_MBEDTLS, 1)}},
    {0x08, "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
     {CAUSE(UNTRUSTED_ISSUER, 3), CAUSE(MISSING_INTERMEDIATE, 2),
      CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 1), CAUSE(CA_KEY_USAGE, 1)}},
    {0x10, "MBEDTLS_X509_BADCRL_NOT_TRUSTED", NONE},
    {0x20, "MBEDTLS_X509_BADCRL_EXPIRED", NONE},
    {0x40, "MBEDTLS_X509_BADCERT_MISSING", {CAUSE(VERIFY_FAILED, 3)}},
    {0x80, "MBEDTLS_X509_BADCERT_SKIP_VERIFY", {CAUSE(INSECURE_MODE, 3)}},
    {0x100, "MBEDTLS_X509_BADCERT_OTHER", {CAUSE(VERIFY_FAILED, 3)}},
    {0x200, "MBEDTLS_X509_BADCERT_FUTURE",
     {CAUSE(CLOCK_NOT_SET, 3), CAUSE(SERVER_CERT_NOT_YET_VALID, 2)}},
    {0x400, "MBEDTLS_X509_BADCRL_FUTURE", NONE},
    /* Set by the TLS layer on the server certificate (mbedtls_ssl_check_cert_usage); a CA
     * without keyCertSign is not accepted as parent at all and shows up as NOT_TRUSTED. */
    {0x800, "MBEDTLS_X509_BADCERT_KEY_USAGE", {CAUSE(SERVER_KEY_USAGE, 4)}},
    {0x1000, "MBEDTLS_X509_BADCERT_EXT_KEY_USAGE", {CAUSE(SERVER_EKU_MISSING, 3)}},
    {0x2000, "MBEDTLS_X509_BADCERT_NS_CERT_TYPE",
     {CAUSE(SERVER_EKU_MISSING, 2), CAUSE(SERVER_KEY_USAGE, 1)}},
    {0x4000, "MBEDTLS_X509_BADCERT_BAD_MD", {CAUSE(WEAK_SIGNATURE_HASH, 4)}},
    {0x8000, "MBEDTLS_X509_BADCERT_BAD_PK", {CAUSE(CURVE_NOT_ALLOWED, 3)}},
    {0x10000, "MBEDTLS_X509_BADCERT_BAD_KEY", {CAUSE(WEAK_KEY, 5), CAUSE(CURVE_NOT_ALLOWED, 1)}},
    {0x20000, "MBEDTLS_X509_BADCRL_BAD_MD", NONE},
    {0x40000, "MBEDTLS_X509_BADCRL_BAD_PK", NONE},
    {0x80000, "MBEDTLS_X509_BADCRL_BAD_KEY", NONE},
};

/* --- esp-tls codes (esp-idf components/esp-tls/esp_tls_errors.h, ESP_ERR_ESP_TLS_BASE 0x8000).
 * IDF >= 4.3 renumbered: the mbedTLS block moved from +0x06.. to +0x10... `old` is the
 * IDF 4.0-4.2 meaning of the same number (esp_tls.h then), or NULL. */
typedef struct esp_entry {
    uint16_t code;
    const char *name;
    const char *old;
    weight_t to[3];
} esp_entry_t;

static const esp_entry_t esp_codes[] = {
    {0x8001, "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", NULL, {CAUSE(DNS_FAILURE, 4)}},
    {0x8002, "ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET", NULL, NONE},
    {0x8003, "ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY", NULL, NONE},
    {0x8004, "ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST", NULL,
     {CAUSE(CONNECTION_REFUSED, 3), CAUSE(CONNECT_TIMEOUT, 2)}},
    {0x8005, "ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED", NULL, NONE},
    {0x8006, "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", "ESP_ERR_MBEDTLS_CERT_PARTLY_OK",
     {CAUSE(CONNECT_TIMEOUT, 3), CAUSE(HANDSHAKE_TIMEOUT, 2)}},
    {0x8007, "ESP_ERR_ESP_TLS_SE_FAILED", "ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED", NONE},
    {0x8008, "ESP_ERR_ESP_TLS_TCP_CLOSED_FIN", "ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED",
     {CAUSE(TLS_ON_PLAIN_PORT, 2), CAUSE(CLIENT_CERT_MISSING, 1), CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {0x8009, "ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT (IDF >= 5.1)",
     "ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED", {CAUSE(HANDSHAKE_TIMEOUT, 2)}},
    {0x800A, NULL, "ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED", NONE},
    {0x800B, NULL, "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED",
     {CAUSE(PEM_NOT_NUL_TERMINATED, 2), CAUSE(NOT_A_CERTIFICATE, 1)}},
    {0x800C, NULL, "ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED", {CAUSE(CLIENT_KEY_MISMATCH, 2)}},
    {0x800D, NULL, "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", NONE},
    {0x800E, NULL, "ESP_ERR_MBEDTLS_SSL_WRITE_FAILED", NONE},
    {0x800F, NULL, "ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED",
     {CAUSE(KEY_PASSWORD_REQUIRED, 1), CAUSE(PEM_NOT_NUL_TERMINATED, 1),
      CAUSE(KEY_TYPE_UNSUPPORTED, 1)}},
    {0x8010, "ESP_ERR_MBEDTLS_CERT_PARTLY_OK", "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED",
     {CAUSE(PEM_TRUNCATED, 1), CAUSE(NOT_A_CERTIFICATE, 1)}},
    {0x8011, "ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED", "ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED",
     NONE},
    {0x8012, "ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED", "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT",
     NONE},
    {0x8013, "ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED", NULL, NONE},
    {0x8014, "ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED", NULL, NONE},
    {0x8015, "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED", NULL,
     {CAUSE(PEM_NOT_NUL_TERMINATED, 3), CAUSE(NOT_A_CERTIFICATE, 1), CAUSE(PEM_TRUNCATED, 1)}},
    {0x8016, "ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED", NULL, {CAUSE(CLIENT_KEY_MISMATCH, 3)}},
    /* set_client_config(): no CA / bundle / PSK / skip ("No server verification option set");
     * mbedtls_ssl_setup(): out of memory (-0x7F00). */
    {0x8017, "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", NULL,
     {CAUSE(NO_VERIFICATION_OPTION, 2), CAUSE(OUT_OF_MEMORY, 2)}},
    {0x8018, "ESP_ERR_MBEDTLS_SSL_WRITE_FAILED", NULL, {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {0x8019, "ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED", NULL,
     {CAUSE(PEM_NOT_NUL_TERMINATED, 2), CAUSE(KEY_PASSWORD_REQUIRED, 1),
      CAUSE(KEY_TYPE_UNSUPPORTED, 1)}},
    {0x801A, "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED", NULL, NONE},
    {0x801B, "ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED", NULL, NONE},
    {0x801C, "ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED", NULL, NONE},
    {0x8031, "ESP_ERR_WOLFSSL_SSL_SET_HOSTNAME_FAILED", NULL, NONE},
    {0x8032, "ESP_ERR_WOLFSSL_SSL_CONF_ALPN_PROTOCOLS_FAILED", NULL, NONE},
    {0x8033, "ESP_ERR_WOLFSSL_CERT_VERIFY_SETUP_FAILED", NULL, NONE},
    {0x8034, "ESP_ERR_WOLFSSL_KEY_VERIFY_SETUP_FAILED", NULL, NONE},
    {0x8035, "ESP_ERR_WOLFSSL_SSL_HANDSHAKE_FAILED", NULL, NONE},
    {0x8036, "ESP_ERR_WOLFSSL_CTX_SETUP_FAILED", NULL, NONE},
    {0x8037, "ESP_ERR_WOLFSSL_SSL_SETUP_FAILED", NULL, NONE},
    {0x8038, "ESP_ERR_WOLFSSL_SSL_WRITE_FAILED", NULL, NONE},
};

/* --- TLS alerts (names: src/common/tls_alert.h; OpenSSL prints them as "sslv3 alert ..." /
 * "tlsv1 alert ..."). Only the alerts listed here are recognised. `recv` = causes when the
 * CLIENT received it (the broker rejects the client); `sent` = when the broker's log shows it
 * (the client rejected the broker). */
enum {
    OSSL_NO = 0,    /* not matched as an OpenSSL reason string */
    OSSL_ALERT = 1, /* "... alert <name with spaces>" (SSL_R_SSLV3_ALERT_*, SSL_R_TLSV1_ALERT_*) */
    OSSL_BARE = 2   /* "... <name with spaces>" (SSL_R_TLSV1_UNRECOGNIZED_NAME) */
};

typedef struct alert_entry {
    int num;         /* MQTLS__ALERT_*: mqtls_tls_alert_name() names it */
    uint8_t openssl; /* OSSL_*: how OpenSSL's reason string shows it in a log line */
    const char *go;  /* Go crypto/tls alert.go text ("remote error: tls: <go>"), or NULL */
    weight_t recv[3];
    weight_t sent[3];
} alert_entry_t;

#define ALERT(sym) MQTLS__ALERT_##sym
static const alert_entry_t alerts[] = {
    /* alert, OpenSSL form
     *   recv: causes when the client received it
     *   sent: causes when the broker's log shows it */
    {ALERT(CLOSE_NOTIFY), OSSL_NO, "close notify", NONE, NONE},
    {ALERT(UNEXPECTED_MESSAGE), OSSL_ALERT, "unexpected message",
     {CAUSE(TLS_ALERT, 2), CAUSE(TLS_ON_PLAIN_PORT, 1)}, NONE},
    {ALERT(BAD_RECORD_MAC), OSSL_ALERT, "bad record mac", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(RECORD_OVERFLOW), OSSL_ALERT, "record overflow", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(HANDSHAKE_FAILURE), OSSL_ALERT, "handshake failure",
     {CAUSE(CLIENT_CERT_MISSING, 3), CAUSE(NO_SHARED_CIPHER, 2), CAUSE(TLS_VERSION_MISMATCH, 1)},
     {CAUSE(NO_SHARED_CIPHER, 2), CAUSE(TLS_VERSION_MISMATCH, 1)}},
    {ALERT(BAD_CERTIFICATE), OSSL_ALERT, "bad certificate",
     {CAUSE(CLIENT_CERT_REJECTED, 3), CAUSE(CLIENT_EKU_MISSING, 1)},
     {CAUSE(UNTRUSTED_ISSUER, 2), CAUSE(WEAK_KEY, 1), CAUSE(HOSTNAME_MISMATCH, 1)}},
    {ALERT(UNSUPPORTED_CERTIFICATE), OSSL_ALERT, "unsupported certificate",
     {CAUSE(CLIENT_EKU_MISSING, 2), CAUSE(CLIENT_CERT_REJECTED, 1)},
     {CAUSE(SERVER_EKU_MISSING, 2), CAUSE(CURVE_NOT_ALLOWED, 1)}},
    {ALERT(CERTIFICATE_REVOKED), OSSL_ALERT, "revoked certificate",
     {CAUSE(CLIENT_CERT_REJECTED, 2)}, NONE},
    {ALERT(CERTIFICATE_EXPIRED), OSSL_ALERT, "expired certificate",
     {CAUSE(CLIENT_CERT_EXPIRED, 3), CAUSE(CLIENT_CERT_NOT_YET_VALID, 1)},
     {CAUSE(SERVER_CERT_EXPIRED, 3), CAUSE(CLOCK_NOT_SET, 1), CAUSE(CA_EXPIRED, 1)}},
    {ALERT(CERTIFICATE_UNKNOWN), OSSL_ALERT, "unknown certificate",
     {CAUSE(CLIENT_CERT_REJECTED, 2), CAUSE(CLIENT_CA_NOT_ACCEPTED, 1)},
     {CAUSE(UNTRUSTED_ISSUER, 2), CAUSE(HOSTNAME_MISMATCH, 1)}},
    {ALERT(ILLEGAL_PARAMETER), OSSL_ALERT, "illegal parameter", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(UNKNOWN_CA), OSSL_ALERT, "unknown certificate authority",
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 3), CAUSE(CLIENT_CHAIN_INCOMPLETE, 2)},
     {CAUSE(UNTRUSTED_ISSUER, 3), CAUSE(MISSING_INTERMEDIATE, 2)}},
    {ALERT(ACCESS_DENIED), OSSL_ALERT, "access denied", {CAUSE(CLIENT_CERT_REJECTED, 3)}, NONE},
    {ALERT(DECODE_ERROR), OSSL_ALERT, "error decoding message",
     {CAUSE(TLS_ALERT, 2), CAUSE(TLS_ON_PLAIN_PORT, 1)}, NONE},
    {ALERT(DECRYPT_ERROR), OSSL_ALERT, "error decrypting message",
     {CAUSE(CLIENT_KEY_MISMATCH, 2)}, NONE},
    {ALERT(PROTOCOL_VERSION), OSSL_ALERT, "protocol version not supported",
     {CAUSE(TLS_VERSION_MISMATCH, 4)}, {CAUSE(TLS_VERSION_MISMATCH, 4)}},
    {ALERT(INSUFFICIENT_SECURITY), OSSL_ALERT, "insufficient security level",
     {CAUSE(NO_SHARED_CIPHER, 3)}, {CAUSE(NO_SHARED_CIPHER, 3)}},
    {ALERT(INTERNAL_ERROR), OSSL_ALERT, "internal error", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(INAPPROPRIATE_FALLBACK), OSSL_ALERT, "inappropriate fallback",
     {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(USER_CANCELED), OSSL_NO, "user canceled", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(MISSING_EXTENSION), OSSL_ALERT, "missing extension", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(UNSUPPORTED_EXTENSION), OSSL_NO, "unsupported extension", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(UNRECOGNIZED_NAME), OSSL_BARE, "unrecognized name", {CAUSE(HOSTNAME_MISMATCH, 2)}, NONE},
    {ALERT(BAD_CERTIFICATE_STATUS_RESPONSE), OSSL_NO, "bad certificate status response",
     {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(UNKNOWN_PSK_IDENTITY), OSSL_ALERT, "unknown psk identity", {CAUSE(TLS_ALERT, 2)}, NONE},
    {ALERT(CERTIFICATE_REQUIRED), OSSL_ALERT, "certificate required",
     {CAUSE(CLIENT_CERT_MISSING, 4)}, NONE},
    {ALERT(NO_APPLICATION_PROTOCOL), OSSL_ALERT, "no application protocol",
     {CAUSE(ALPN_REQUIRED, 4)}, NONE},
};
#undef ALERT

/* --- MQTT 3.1.1 CONNACK return codes (MQTT 3.1.1 section 3.2.2.3, table 3.1; esp-mqtt
 * esp_mqtt_connect_return_code_t uses the same numbers; mosquitto_connack_string() texts). */
typedef struct rc_entry {
    int code;
    const char *name;
    const char *text;
    weight_t to[2];
} rc_entry_t;

static const rc_entry_t connack311[] = {
    {0, "MQTT_CONNECTION_ACCEPTED", "Connection Accepted.", NONE},
    {1, "MQTT_CONNECTION_REFUSE_PROTOCOL", "Connection Refused: unacceptable protocol version.",
     {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}},
    {2, "MQTT_CONNECTION_REFUSE_ID_REJECTED", "Connection Refused: identifier rejected.",
     {CAUSE(CLIENT_ID_REJECTED, 4)}},
    {3, "MQTT_CONNECTION_REFUSE_SERVER_UNAVAILABLE", "Connection Refused: broker unavailable.",
     {CAUSE(SERVER_UNAVAILABLE, 4)}},
    {4, "MQTT_CONNECTION_REFUSE_BAD_USERNAME", "Connection Refused: bad user name or password.",
     {CAUSE(BAD_CREDENTIALS, 4)}},
    {5, "MQTT_CONNECTION_REFUSE_NOT_AUTHORIZED", "Connection Refused: not authorised.",
     {CAUSE(NOT_AUTHORIZED, 4)}},
};

/* --- MQTT 5 reason codes >= 0x80 (names and the packets they are valid in: src/packet/names.c,
 * MQTT 5.0 section 2.4, table 2-6). Every code here is checked to be known there. */
typedef struct reason_entry {
    uint8_t code;
    weight_t to[2];
} reason_entry_t;

static const reason_entry_t reason5[] = {
    {0x80, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x81, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 1)}},
    {0x82, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 1)}},
    {0x83, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x84, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}},
    {0x85, {CAUSE(CLIENT_ID_REJECTED, 4)}},
    {0x86, {CAUSE(BAD_CREDENTIALS, 4)}},
    {0x87, {CAUSE(NOT_AUTHORIZED, 4)}},
    {0x88, {CAUSE(SERVER_UNAVAILABLE, 4)}},
    {0x89, {CAUSE(SERVER_UNAVAILABLE, 3)}},
    {0x8A, {CAUSE(NOT_AUTHORIZED, 3)}},
    {0x8B, {CAUSE(SERVER_UNAVAILABLE, 2)}},
    {0x8C, {CAUSE(BAD_CREDENTIALS, 3)}},
    {0x8D, {CAUSE(CLOSED_AFTER_CONNECT, 3)}},
    {0x8E, {CAUSE(CLOSED_AFTER_CONNECT, 4)}},
    {0x8F, NONE},
    {0x90, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x91, NONE},
    {0x92, NONE},
    {0x93, {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {0x94, NONE},
    {0x95, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x96, {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {0x97, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x98, {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {0x99, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x9A, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x9B, {CAUSE(CONNACK_REFUSED, 2)}},
    {0x9C, {CAUSE(SERVER_UNAVAILABLE, 2)}},
    {0x9D, {CAUSE(SERVER_UNAVAILABLE, 2)}},
    {0x9E, NONE},
    {0x9F, {CAUSE(SERVER_UNAVAILABLE, 2)}},
    {0xA0, {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {0xA1, NONE},
    {0xA2, NONE},
};

/* --- Paho C MQTTClient return codes (paho.mqtt.c src/MQTTClient.h; MQTTClient_strerror()). */
static const rc_entry_t paho_rc[] = {
    {-1, "MQTTCLIENT_FAILURE", "Failure (generic: TCP, TLS or CONNACK failure; enable "
     "MQTT_C_CLIENT_TRACE=ON for the reason)", NONE},
    {-2, "MQTTCLIENT_PERSISTENCE_ERROR", "persistence error", NONE},
    {-3, "MQTTCLIENT_DISCONNECTED", "Disconnected", {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {-4, "MQTTCLIENT_MAX_MESSAGES_INFLIGHT", "too many messages in flight", NONE},
    {-5, "MQTTCLIENT_BAD_UTF8_STRING", "Invalid UTF8 string", NONE},
    {-6, "MQTTCLIENT_NULL_PARAMETER", "Invalid (NULL) parameter", NONE},
    {-7, "MQTTCLIENT_TOPICNAME_TRUNCATED", "topic name truncated", NONE},
    {-8, "MQTTCLIENT_BAD_STRUCTURE", "Bad structure", NONE},
    {-9, "MQTTCLIENT_BAD_QOS", "Invalid QoS value", NONE},
    {-10, "MQTTCLIENT_SSL_NOT_SUPPORTED", "SSL is not supported (link paho-mqtt3cs)",
     {CAUSE(LIBRARY_WITHOUT_TLS, 4)}},
    {-11, "MQTTCLIENT_BAD_MQTT_VERSION", "Unrecognized MQTT version",
     {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 1)}},
    /* ssl:// / mqtts:// with the library built without TLS (paho-mqtt3c), or a bad scheme */
    {-14, "MQTTCLIENT_BAD_PROTOCOL",
     "Invalid protocol scheme: tcp://, ssl://, mqtt://, mqtts://, ws://, wss:// are known; ssl:// "
     "and mqtts:// only in the TLS builds (paho-mqtt3cs / paho-mqtt3as)",
     {CAUSE(LIBRARY_WITHOUT_TLS, 2)}},
    {-15, "MQTTCLIENT_BAD_MQTT_OPTION", "bad MQTT option for this version", NONE},
    {-16, "MQTTCLIENT_WRONG_MQTT_VERSION", "call not valid for this MQTT version", NONE},
    {-17, "MQTTCLIENT_0_LEN_WILL_TOPIC", "Zero length will topic on connect", NONE},
};

/* --- errno. Linux numbers (asm-generic/errno.h) and newlib numbers (ESP-IDF uses newlib's
 * sys/errno.h: ECONNREFUSED 111 but ETIMEDOUT 116, EHOSTUNREACH 118, ENOTCONN 128). */
typedef struct errno_entry {
    const char *name;
    int linux_num;
    int newlib_num;
    const char *text;
    weight_t to[3];
} errno_entry_t;

static const errno_entry_t errnos[] = {
    {"ECONNREFUSED", 111, 111, "Connection refused", {CAUSE(CONNECTION_REFUSED, 4)}},
    {"ETIMEDOUT", 110, 116, "Connection timed out", {CAUSE(CONNECT_TIMEOUT, 4)}},
    {"EHOSTUNREACH", 113, 118, "No route to host", {CAUSE(NETWORK_UNREACHABLE, 4)}},
    {"ENETUNREACH", 101, 114, "Network is unreachable", {CAUSE(NETWORK_UNREACHABLE, 4)}},
    {"ECONNRESET", 104, 104, "Connection reset by peer",
     {CAUSE(HANDSHAKE_RESET, 2), CAUSE(TLS_ON_PLAIN_PORT, 1), CAUSE(CLIENT_CERT_REJECTED, 1)}},
    {"ECONNABORTED", 103, 113, "Software caused connection abort",
     {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {"ENOTCONN", 107, 128, "Transport endpoint is not connected", {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {"EPIPE", 32, 32, "Broken pipe", {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {"EINPROGRESS", 115, 119, "Operation now in progress (a write/connect did not finish)",
     {CAUSE(CONNECT_TIMEOUT, 1)}},
    {"EAGAIN", 11, 11, "Resource temporarily unavailable (read timed out)",
     {CAUSE(HANDSHAKE_TIMEOUT, 1)}},
    {"ENOENT", 2, 2, "No such file or directory", {CAUSE(FILE_UNREADABLE, 3)}},
    {"ENOMEM", 12, 12, "Cannot allocate memory", {CAUSE(OUT_OF_MEMORY, 3)}},
    {"EACCES", 13, 13, "Permission denied", {CAUSE(FILE_UNREADABLE, 3)}},
    {"EAI_NONAME", -2, -2, "Name or service not known", {CAUSE(DNS_FAILURE, 4)}},
    {"EAI_AGAIN", -3, -3, "Temporary failure in name resolution", {CAUSE(DNS_FAILURE, 4)}},
};

/* clang-format on */

#endif /* MQTLS_EXPLAIN_CODES_H */
