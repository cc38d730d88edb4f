/** @file status.h
 *  @brief Status codes returned by every mqtls function.
 *
 *  0 is success, every other value is negative. Numbers are never reused: a retired code
 *  becomes MQTLS_ERR_OBSOLETE_<n>. Ranges by layer (append inside your range):
 *    -1 ..  -99  packet codec          -100 .. -149  client / session / API
 *  -150 .. -199  runtime / OS          -200 .. -299  net: dns, tcp, tls, websocket
 *  -300 .. -349  credentials / files   -350 .. -399  diagnosis / tools
 */
#ifndef MQTLS_STATUS_H
#define MQTLS_STATUS_H

#include "mqtls/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define MQTLS_STATUS_MAP(X)                                                                        \
    X(MQTLS_OK,                        0, "success")                                              \
    /* --- packet codec ---------------------------------------------------------------- */      \
    X(MQTLS_ERR_NEED_MORE,            -1, "packet incomplete, need more bytes")                  \
    X(MQTLS_ERR_MALFORMED,            -2, "malformed packet")                                    \
    X(MQTLS_ERR_BUFFER_TOO_SMALL,     -3, "output buffer too small")                             \
    X(MQTLS_ERR_REMAINING_LENGTH,     -4, "remaining length is not a valid 1-4 byte variable integer") \
    X(MQTLS_ERR_PACKET_TOO_LARGE,     -5, "packet exceeds the maximum packet size")              \
    X(MQTLS_ERR_BAD_PACKET_TYPE,      -6, "reserved or unknown packet type")                     \
    X(MQTLS_ERR_BAD_FLAGS,            -7, "reserved fixed-header flag bits are wrong")           \
    X(MQTLS_ERR_BAD_QOS,              -8, "QoS 3 is not allowed")                                \
    X(MQTLS_ERR_UTF8_INVALID,         -9, "string is not valid UTF-8")                           \
    X(MQTLS_ERR_UTF8_NONMINIMAL,     -10, "string uses a non-minimal (overlong) UTF-8 encoding")  \
    X(MQTLS_ERR_UTF8_NUL,            -11, "string contains U+0000")                              \
    X(MQTLS_ERR_UTF8_SURROGATE,      -12, "string contains a UTF-16 surrogate (U+D800..U+DFFF)") \
    X(MQTLS_ERR_TOPIC_EMPTY,         -13, "topic name or filter is empty")                       \
    X(MQTLS_ERR_TOPIC_WILDCARD,      -14, "topic name contains a wildcard (+ or #)")             \
    X(MQTLS_ERR_FILTER_INVALID,      -15, "topic filter has a misplaced + or #")                 \
    X(MQTLS_ERR_PACKET_ID_ZERO,      -16, "packet identifier 0 where one is required")           \
    X(MQTLS_ERR_NO_TOPIC_FILTERS,    -17, "SUBSCRIBE/UNSUBSCRIBE carries no topic filter")       \
    X(MQTLS_ERR_SUB_OPTIONS,         -18, "reserved subscription-option bits are set")           \
    X(MQTLS_ERR_PROP_DUPLICATE,      -19, "property appears more than once")                     \
    X(MQTLS_ERR_PROP_NOT_ALLOWED,    -20, "property not allowed in this packet")                 \
    X(MQTLS_ERR_PROP_UNKNOWN,        -21, "unknown property identifier")                         \
    X(MQTLS_ERR_PROP_LENGTH,         -22, "property length overruns the packet")                 \
    X(MQTLS_ERR_PROP_VALUE,          -23, "property value out of range")                         \
    X(MQTLS_ERR_TRAILING_BYTES,      -24, "bytes left over after the packet's last field")       \
    X(MQTLS_ERR_TRUNCATED_FIELD,     -25, "a field runs past the end of the packet")             \
    X(MQTLS_ERR_BAD_PROTOCOL,        -26, "unknown protocol name or level in CONNECT")           \
    X(MQTLS_ERR_CONNECT_FLAGS,       -27, "invalid CONNECT flags")                               \
    X(MQTLS_ERR_BAD_REASON_CODE,     -28, "reason code not allowed in this packet")              \
    X(MQTLS_ERR_VERSION,             -29, "field or packet not supported by this protocol version") \
    X(MQTLS_ERR_STRING_TOO_LONG,     -30, "string or binary longer than 65535 bytes")            \
    X(MQTLS_ERR_CONNACK_FLAGS,       -31, "invalid CONNACK acknowledge flags")                   \
    X(MQTLS_ERR_NO_REASON_CODES,     -32, "SUBACK/UNSUBACK carries no reason code")              \
    /* --- client / session / API ------------------------------------------------------ */      \
    X(MQTLS_ERR_INVALID_ARG,        -100, "invalid argument")                                    \
    X(MQTLS_ERR_STATE,              -101, "operation not allowed in the current state")          \
    X(MQTLS_ERR_NOMEM,              -102, "out of memory")                                       \
    X(MQTLS_ERR_OUTBOX_FULL,        -103, "outbox full (message count or byte limit reached)")   \
    X(MQTLS_ERR_NO_PACKET_ID,       -104, "no free packet identifier")                           \
    X(MQTLS_ERR_TIMEOUT,            -105, "operation timed out")                                 \
    X(MQTLS_ERR_KEEPALIVE_TIMEOUT,  -106, "no PINGRESP from the broker within the keepalive timeout") \
    X(MQTLS_ERR_CONNACK_TIMEOUT,    -107, "no CONNACK from the broker in time")                  \
    X(MQTLS_ERR_CONNACK_REFUSED,    -108, "broker refused the connection (CONNACK reason code)") \
    X(MQTLS_ERR_PROTOCOL,           -109, "broker violated the MQTT protocol")                   \
    X(MQTLS_ERR_SERVER_DISCONNECT,  -110, "broker sent DISCONNECT")                              \
    X(MQTLS_ERR_CLOSED,             -111, "connection closed")                                   \
    X(MQTLS_ERR_BAD_URI,            -112, "broker URI is not valid")                             \
    X(MQTLS_ERR_TOO_LARGE_FOR_BROKER, -113, "packet exceeds the broker's Maximum Packet Size")   \
    X(MQTLS_ERR_NOT_SUPPORTED,      -114, "not supported")                                       \
    X(MQTLS_ERR_ABORTED,            -115, "operation aborted (client stopped or destroyed)")     \
    X(MQTLS_ERR_QOS_NOT_SUPPORTED,  -116, "QoS above the broker's Maximum QoS")                  \
    X(MQTLS_ERR_RETAIN_NOT_SUPPORTED, -117, "broker does not support retained messages")         \
    X(MQTLS_ERR_AUTH_FAILED,        -118, "enhanced authentication failed (AUTH exchange)")      \
    /* --- runtime / OS ----------------------------------------------------------------- */      \
    X(MQTLS_ERR_OS,                 -150, "operating system call failed (see errno)")            \
    X(MQTLS_ERR_THREAD,             -151, "could not start or join a thread")                    \
    X(MQTLS_ERR_PERSIST,            -160, "persistence log cannot be read or written (errno)") \
    X(MQTLS_ERR_PERSIST_LOCKED,     -161, "persistence directory is in use by another client")   \
    X(MQTLS_ERR_PERSIST_MISMATCH,   -162, "persistence directory holds another client or format") \
    /* --- net --------------------------------------------------------------------------- */    \
    X(MQTLS_ERR_WOULD_BLOCK,        -200, "operation would block")                               \
    X(MQTLS_ERR_DNS,                -201, "host name could not be resolved")                     \
    X(MQTLS_ERR_CONN_REFUSED,       -202, "connection refused (nothing listens on that port)")   \
    X(MQTLS_ERR_CONNECT_TIMEOUT,    -203, "TCP connect timed out")                               \
    X(MQTLS_ERR_NET_UNREACHABLE,    -204, "network or host unreachable")                         \
    X(MQTLS_ERR_CONN_RESET,         -205, "connection reset by peer")                            \
    X(MQTLS_ERR_IO,                 -206, "socket read or write failed")                         \
    X(MQTLS_ERR_TLS_SETUP,          -207, "TLS configuration failed")                            \
    X(MQTLS_ERR_TLS_HANDSHAKE,      -208, "TLS handshake failed")                                \
    X(MQTLS_ERR_TLS_VERIFY,         -209, "peer certificate rejected")                           \
    X(MQTLS_ERR_TLS_ALERT,          -210, "peer sent a fatal TLS alert")                         \
    X(MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT, -211, "TLS handshake timed out")                          \
    X(MQTLS_ERR_TLS_NOT_TLS,        -212, "peer answered with something that is not TLS")        \
    X(MQTLS_ERR_TLS_IO,             -213, "TLS record layer error")                              \
    X(MQTLS_ERR_WS_HANDSHAKE,       -214, "WebSocket upgrade refused")                           \
    X(MQTLS_ERR_WS_PROTOCOL,        -215, "WebSocket framing error")                             \
    X(MQTLS_ERR_PROXY_REFUSED,      -216, "proxy refused the connection")                        \
    X(MQTLS_ERR_PROXY_AUTH,         -217, "proxy authentication required or refused")            \
    X(MQTLS_ERR_PROXY_TARGET,       -218, "proxy could not reach the broker")                    \
    X(MQTLS_ERR_PROXY_PROTOCOL,     -219, "proxy answered with something that is not SOCKS5 or HTTP") \
    X(MQTLS_ERR_TLS_PIN_MISMATCH,   -220, "server public key matches none of the pins")          \
    /* --- credentials / files ----------------------------------------------------------- */    \
    X(MQTLS_ERR_FILE_UNREADABLE,    -300, "file cannot be read")                                 \
    X(MQTLS_ERR_FILE_EMPTY,         -301, "file is empty")                                       \
    X(MQTLS_ERR_CERT_PARSE,         -302, "certificate could not be parsed")                     \
    X(MQTLS_ERR_KEY_PARSE,          -303, "private key could not be parsed")                     \
    X(MQTLS_ERR_KEY_PASSWORD_REQUIRED, -304, "private key is encrypted and no password was given") \
    X(MQTLS_ERR_KEY_PASSWORD_WRONG, -305, "private key password is wrong")                       \
    X(MQTLS_ERR_KEY_MISMATCH,       -306, "private key does not match the certificate")          \
    X(MQTLS_ERR_CA_PARSE,           -307, "CA certificates could not be parsed")                 \
    X(MQTLS_ERR_KEY_UNSUPPORTED,    -308, "key type or key encryption not supported by this mbedTLS") \
    X(MQTLS_ERR_PEM_NOT_NUL_TERMINATED, -309, "PEM buffer does not end with a NUL byte")         \
    X(MQTLS_ERR_FILE_WRITE,         -310, "file cannot be written")                              \
    X(MQTLS_ERR_FILE_EXISTS,        -311, "file exists (use --force to overwrite)")              \
    X(MQTLS_ERR_CRYPTO,             -312, "cryptographic operation failed")                      \
    X(MQTLS_ERR_FILE_NOT_REGULAR,   -313, "not a regular file (a directory, FIFO, socket or device)") \
    X(MQTLS_ERR_FILE_TOO_LARGE,     -314, "file larger than the limit")                          \
    X(MQTLS_ERR_PKCS11,             -315, "PKCS#11 module or token failed")                      \
    /* --- diagnosis / tools ------------------------------------------------------------- */    \
    X(MQTLS_ERR_USAGE,              -350, "invalid command-line usage")
/* clang-format on */

/** @brief Every status an mqtls function can return. */
typedef enum mqtls_status {
#define MQTLS_X_ENUM(name, value, text) name = (value),
    MQTLS_STATUS_MAP(MQTLS_X_ENUM)
#undef MQTLS_X_ENUM
} mqtls_status_t;

/** @brief The enum name of @p s, e.g. "MQTLS_ERR_TLS_VERIFY"; "MQTLS_ERR_UNKNOWN" if unknown.
 *  @return a static string. Thread-safe. */
MQTLS_API const char *mqtls_status_name(mqtls_status_t s);

/** @brief One-line English text for @p s, e.g. "peer certificate rejected".
 *  @return a static string, never NULL. Thread-safe. */
MQTLS_API const char *mqtls_status_text(mqtls_status_t s);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_STATUS_H */
