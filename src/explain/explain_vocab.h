/* Codes and names of the MQTT world beyond mbedTLS, ESP-IDF, mosquitto and Paho C (those are in
 * explain_codes.h): BearSSL (ESP8266 Arduino, SSLClient), PubSubClient state(), Windows
 * sockets, and the symbolic error names of the AWS and Azure device SDKs. Each row names the
 * causes (findings.def ids) it points to. Sources are cited per table.
 *
 * Included by explain_vocab.c (and the unit test) only. */
#ifndef MQTLS_EXPLAIN_VOCAB_H
#define MQTLS_EXPLAIN_VOCAB_H

#include <stdint.h>

#include "explain_internal.h"

/* clang-format off */

/* --- BearSSL br_ssl_engine_last_error() / ESP8266 WiFiClientSecure::getLastSSLError()
 * (bearssl_ssl.h, bearssl_x509.h; the text is BearSSL's own doc comment, which the ESP8266
 * core prints). 256 + alert = fatal alert received, 512 + alert = sent (see bearssl_vocab). A
 * device with no time set gets TIME_UNKNOWN or, with a build time, EXPIRED: BearSSL has one
 * code for "expired or not yet valid". Only codes that point somewhere are listed. */
typedef struct bearssl_entry {
    int code;
    const char *name;
    const char *text; /* lowercase, as printed; matched in logs */
    weight_t to[2];
} bearssl_entry_t;

static const bearssl_entry_t bearssl_codes[] = {
    {3, "BR_ERR_UNSUPPORTED_VERSION", "incoming protocol or record version is unsupported",
     {CAUSE(TLS_VERSION_MISMATCH, 4)}},
    {6, "BR_ERR_TOO_LARGE", "incoming record is too large to be processed",
     {CAUSE(TLS_RECORD_BUFFER_TOO_SMALL, 5)}},
    {9, "BR_ERR_UNKNOWN_TYPE", "incoming record type is unknown", {CAUSE(TLS_ON_PLAIN_PORT, 3)}},
    {16, "BR_ERR_BAD_CIPHER_SUITE", "server wants to use a cipher suite that we did not claim",
     {CAUSE(NO_SHARED_CIPHER, 4)}},
    {29, "BR_ERR_NO_CLIENT_AUTH", "client did not send a certificate upon request",
     {CAUSE(CLIENT_CERT_MISSING, 4)}},
    {31, "BR_ERR_IO", "i/o error or premature close on transport stream",
     {CAUSE(TLS_ON_PLAIN_PORT, 1), CAUSE(CLIENT_CERT_MISSING, 1)}},
    {53, "BR_ERR_X509_TIME_UNKNOWN", "validation time is unknown", {CAUSE(CLOCK_NOT_SET, 5)}},
    {54, "BR_ERR_X509_EXPIRED", "certificate is expired or not yet valid",
     {CAUSE(CLOCK_NOT_SET, 4), CAUSE(SERVER_CERT_EXPIRED, 3)}},
    {55, "BR_ERR_X509_DN_MISMATCH", "issuer/subject dn mismatch in the chain",
     {CAUSE(MISSING_INTERMEDIATE, 3), CAUSE(UNTRUSTED_ISSUER, 2)}},
    {56, "BR_ERR_X509_BAD_SERVER_NAME", "expected server name was not found in the chain",
     {CAUSE(HOSTNAME_MISMATCH, 5)}},
    {58, "BR_ERR_X509_NOT_CA", "not a ca, or path length constraint violation",
     {CAUSE(ISSUER_NOT_CA, 4)}},
    {59, "BR_ERR_X509_FORBIDDEN_KEY_USAGE", "key usage extension prohibits intended usage",
     {CAUSE(SERVER_KEY_USAGE, 4)}},
    {60, "BR_ERR_X509_WEAK_PUBLIC_KEY", "public key found in certificate is too small",
     {CAUSE(WEAK_KEY, 4)}},
    {62, "BR_ERR_X509_NOT_TRUSTED", "chain could not be linked to a trust anchor",
     {CAUSE(UNTRUSTED_ISSUER, 4), CAUSE(MISSING_INTERMEDIATE, 2)}},
};

/* --- PubSubClient::state() (knolleary/pubsubclient PubSubClient.h). 1..5 are the CONNACK
 * codes (explain_codes.h). */
typedef struct pubsub_entry {
    int code;
    const char *name;
    const char *text;
    weight_t to[2];
} pubsub_entry_t;

static const pubsub_entry_t pubsub_states[] = {
    {-4, "MQTT_CONNECTION_TIMEOUT", "no CONNACK (or PINGRESP) in time",
     {CAUSE(CLOSED_AFTER_CONNECT, 2), CAUSE(PLAIN_ON_TLS_PORT, 1)}},
    {-3, "MQTT_CONNECTION_LOST", "the connection broke", {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {-2, "MQTT_CONNECT_FAILED",
     "the network client's connect() failed: TCP, or with WiFiClientSecure the TLS handshake "
     "(its lastError() / getLastSSLError() says why)", NONE},
    {-1, "MQTT_DISCONNECTED", "disconnected (cleanly, or never connected)", NONE},
};

/* --- Windows sockets (WinError / WSAGetLastError()): the errno they mean (explain_codes.h
 * names the causes once, under the errno). */
typedef struct winsock_entry {
    long code;
    const char *name;
    const char *errno_name;
} winsock_entry_t;

static const winsock_entry_t winsock_codes[] = {
    {10061, "WSAECONNREFUSED", "ECONNREFUSED"},
    {10060, "WSAETIMEDOUT", "ETIMEDOUT"},
    {10054, "WSAECONNRESET", "ECONNRESET"},
    {10053, "WSAECONNABORTED", "ECONNABORTED"},
    {10065, "WSAEHOSTUNREACH", "EHOSTUNREACH"},
    {10051, "WSAENETUNREACH", "ENETUNREACH"},
    {11001, "WSAHOST_NOT_FOUND", "EAI_NONAME"},
    {11002, "WSATRY_AGAIN", "EAI_AGAIN"},
};

/* --- Symbolic names of device SDKs, as they print them: aws-iot-device-sdk-embedded-C v3
 * (IoT_Error_t), AWS Common Runtime (aws-c-io / aws-c-mqtt), Azure IoT C SDK
 * (IOTHUB_CLIENT_CONNECTION_STATUS_REASON). Matched whole, case-insensitively. */
typedef struct sdk_symbol {
    const char *name;
    const char *meaning;
    weight_t to[2];
} sdk_symbol_t;

static const sdk_symbol_t sdk_symbols[] = {
    {"NETWORK_ERR_NET_UNKNOWN_HOST", "AWS IoT C SDK: host name lookup failed",
     {CAUSE(DNS_FAILURE, 4)}},
    {"NETWORK_ERR_NET_CONNECT_FAILED", "AWS IoT C SDK: TCP connect failed",
     {CAUSE(CONNECTION_REFUSED, 2), CAUSE(CONNECT_TIMEOUT, 1)}},
    {"NETWORK_X509_ROOT_CRT_PARSE_ERROR", "AWS IoT C SDK: the root CA file does not parse",
     {CAUSE(NOT_A_CERTIFICATE, 2), CAUSE(FILE_UNREADABLE, 2)}},
    {"NETWORK_X509_DEVICE_CRT_PARSE_ERROR",
     "AWS IoT C SDK: the device certificate does not parse",
     {CAUSE(NOT_A_CERTIFICATE, 2), CAUSE(FILE_UNREADABLE, 2)}},
    {"NETWORK_PK_PRIVATE_KEY_PARSE_ERROR", "AWS IoT C SDK: the private key does not parse",
     {CAUSE(KEY_NOT_A_KEY, 2), CAUSE(FILE_UNREADABLE, 2)}},
    {"MQTT_CONNACK_NOT_AUTHORIZED_ERROR", "AWS IoT C SDK: CONNACK 5", {CAUSE(NOT_AUTHORIZED, 4)}},
    {"MQTT_CONNACK_BAD_USERDATA_ERROR", "AWS IoT C SDK: CONNACK 4", {CAUSE(BAD_CREDENTIALS, 4)}},
    {"MQTT_CONNACK_IDENTIFIER_REJECTED_ERROR", "AWS IoT C SDK: CONNACK 2",
     {CAUSE(CLIENT_ID_REJECTED, 4)}},
    {"MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION_ERROR", "AWS IoT C SDK: CONNACK 1",
     {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}},
    {"MQTT_CONNACK_SERVER_UNAVAILABLE_ERROR", "AWS IoT C SDK: CONNACK 3",
     {CAUSE(SERVER_UNAVAILABLE, 4)}},
    {"AWS_IO_DNS_INVALID_NAME", "AWS CRT: host name lookup failed", {CAUSE(DNS_FAILURE, 4)}},
    {"AWS_IO_DNS_QUERY_FAILED", "AWS CRT: host name lookup failed", {CAUSE(DNS_FAILURE, 4)}},
    {"AWS_IO_SOCKET_CONNECTION_REFUSED", "AWS CRT: connection refused",
     {CAUSE(CONNECTION_REFUSED, 4)}},
    {"AWS_IO_SOCKET_TIMEOUT", "AWS CRT: socket operation timed out", {CAUSE(CONNECT_TIMEOUT, 3)}},
    {"AWS_IO_FILE_VALIDATION_FAILURE", "AWS CRT: a certificate or key file is missing or invalid",
     {CAUSE(FILE_UNREADABLE, 3), CAUSE(NOT_A_CERTIFICATE, 1)}},
    {"AWS_IO_SOCKET_NO_ROUTE_TO_HOST", "AWS CRT: socket connect failure, no route to host",
     {CAUSE(NETWORK_UNREACHABLE, 4)}},
    {"AWS_IO_SOCKET_NETWORK_DOWN", "AWS CRT: the network is down",
     {CAUSE(NETWORK_UNREACHABLE, 3)}},
    {"AWS_IO_FILE_NOT_FOUND", "AWS CRT: a certificate or key path does not exist",
     {CAUSE(FILE_UNREADABLE, 4)}},
    {"AWS_IO_TLS_CTX_ERROR",
     "AWS CRT: the TLS context could not be created (certificate, key or CA unusable)",
     {CAUSE(CLIENT_KEY_MISMATCH, 1), CAUSE(FILE_UNREADABLE, 1)}},
    {"AWS_IO_TLS_VERSION_UNSUPPORTED", "AWS CRT: the TLS version asked for is not supported",
     {CAUSE(TLS_VERSION_MISMATCH, 3)}},
    {"AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED",
     "AWS CRT: the broker refused CONNECT with an unsuccessful CONNACK (its reason code says "
     "why)", {CAUSE(CONNACK_REFUSED, 2)}},
    {"AWS_ERROR_MQTT5_CONNACK_TIMEOUT", "AWS CRT: no CONNACK in time",
     {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {"AWS_ERROR_MQTT_TIMEOUT", "AWS CRT: no answer in time (after CONNECT: no CONNACK)",
     {CAUSE(CLOSED_AFTER_CONNECT, 2)}},
    {"AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE",
     "AWS CRT: the TLS handshake failed (the lines before it, or the broker, say why)", NONE},
    {"IOTHUB_CLIENT_CONNECTION_BAD_CREDENTIAL",
     "Azure IoT: the hub refused the device's credentials (X.509 thumbprint / CA not registered, "
     "or a wrong SAS key)", {CAUSE(NOT_AUTHORIZED, 3), CAUSE(BAD_CREDENTIALS, 2)}},
    {"IOTHUB_CLIENT_CONNECTION_EXPIRED_SAS_TOKEN", "Azure IoT: the SAS token has expired",
     {CAUSE(BAD_CREDENTIALS, 3), CAUSE(CLOCK_NOT_SET, 1)}},
    {"IOTHUB_CLIENT_CONNECTION_DEVICE_DISABLED", "Azure IoT: the device is disabled in the hub",
     {CAUSE(NOT_AUTHORIZED, 4)}},
    {"IOTHUB_CLIENT_CONNECTION_NO_NETWORK", "Azure IoT: no network",
     {CAUSE(NETWORK_UNREACHABLE, 2), CAUSE(DNS_FAILURE, 1)}},
};

/* clang-format on */

#endif /* MQTLS_EXPLAIN_VOCAB_H */
