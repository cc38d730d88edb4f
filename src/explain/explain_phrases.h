/* Message phrases of esp-tls / esp-mqtt / mosquitto / Paho / OpenSSL that mqtls explain
 * recognises in a log line, with the causes (finding ids) they point to, and the markers that
 * tell a broker log or ESP-IDF output apart. A phrase's `exclude` is a '|'-separated list of
 * substrings that veto the match. Sources are cited per group.
 *
 * Included by explain_scan.c (and the unit test) only. */
#ifndef MQTLS_EXPLAIN_PHRASES_H
#define MQTLS_EXPLAIN_PHRASES_H

#include <stdint.h>

#include "explain_internal.h"

/* Data tables are hand-aligned for reading; clang-format would put one field per line. */
/* clang-format off */

/* --- Message phrases, matched case-insensitively as substrings of one log line.
 * Sources: esp-idf components/esp-tls/esp_tls{,_mbedtls}.c and tcp_transport; esp-mqtt
 * mqtt_client.c; mosquitto 2.0 lib/strings_mosq.c, client/ and src/ (verified against the
 * installed 2.0.11 binaries); paho.mqtt.c src/SSLSocket.c; OpenSSL 3.0 crypto/err/openssl.txt
 * and x509_txt.c (OpenSSL 1.1 spellings too); mbedTLS 2.28 / 3.6 debug messages.
 *
 * Whose certificate: `to` holds the causes when the line is about the SERVER's certificate
 * (a client judging the broker, the usual paste), `broker` those when it is about the
 * CLIENT's certificate (a broker log judging its client, or a client loading its own files);
 * empty `broker` means "the same as `to`". Which one applies is decided per line
 * (explain_scan.c): OpenSSL's function names and the writer (broker log or not) say it. */
enum {
    PH_NONE = 0,
    PH_VERIFY_INFO = 1,   /* `arg` is a verify flag bit */
    PH_VERIFY_FAILED = 2, /* generic "verification failed": resolved in _finish */
    PH_SNAKE = 4,         /* an OpenSSL reason: also match its UPPER_SNAKE form (BoringSSL, Python
                           * "[SSL: EE_KEY_TOO_SMALL]", Node ERR_SSL_*) */
    PH_OWN = 8,           /* mostly raised while the writer loads its OWN certificate or key */
    PH_SERVER_OWN = 16,   /* `arg` is the finding when the BROKER loads its own files */
    PH_CLUE = 32          /* `arg` holds CLUE_* bits this line sets */
};

typedef struct phrase_entry {
    const char *needle;  /* lowercase */
    const char *exclude; /* lowercase; skip if the line contains it, or NULL */
    const char *source;
    const char *meaning;
    int special;  /* PH_* bits */
    uint32_t arg; /* see PH_* */
    weight_t to[3];
    weight_t broker[3];
} phrase_entry_t;

static const phrase_entry_t phrases[] = {
    /* ---- ESP-IDF esp-tls / esp-mqtt / transport ---- */
    {"failed to verify peer certificate", NULL, "esp-tls",
     "mbedtls_ssl_get_verify_result() returned flags: the server certificate was rejected; the "
     "'verification info' lines that follow name the reason",
     PH_VERIFY_FAILED, 0, NONE, NONE},
    {"couldn't get hostname", NULL, "esp-tls",
     "getaddrinfo() failed for the broker host", PH_NONE, 0, {CAUSE(DNS_FAILURE, 4)}, NONE},
    {"getaddrinfo() returns", NULL, "esp-tls", "DNS lookup failed", PH_NONE, 0,
     {CAUSE(DNS_FAILURE, 4)}, NONE},
    {"select() timeout", NULL, "esp-tls", "TCP connect did not complete in time", PH_NONE, 0,
     {CAUSE(CONNECT_TIMEOUT, 3)}, NONE},
    {"failed to connnect to host", NULL, "esp-tls",
     "TCP connect failed (the errno in parentheses says why; 'connnect' is IDF's spelling)",
     PH_NONE, 0, {CAUSE(CONNECTION_REFUSED, 1), CAUSE(CONNECT_TIMEOUT, 1)}, NONE},
    {"failed to connect to host", NULL, "esp-tls", "TCP connect failed", PH_NONE, 0,
     {CAUSE(CONNECTION_REFUSED, 1), CAUSE(CONNECT_TIMEOUT, 1)}, NONE},
    {"error transport connect", NULL, "esp-mqtt",
     "the transport (TCP/TLS) could not connect; the esp-tls lines before it say why", PH_NONE,
     0, NONE, NONE},
    {"no server verification option set", NULL, "esp-tls",
     "no CA certificate, CA bundle, PSK or explicit skip is configured: esp-tls refuses to start "
     "TLS (nothing was sent to the broker)", PH_NONE, 0, {CAUSE(NO_VERIFICATION_OPTION, 6)},
     NONE},
    {"please enable mqtt_enable_ssl", NULL, "esp-mqtt",
     "this esp-mqtt was built without MQTT over SSL", PH_NONE, 0,
     {CAUSE(LIBRARY_WITHOUT_TLS, 5)}, NONE},
    {"certificate bundle is not enabled for mbedtls", NULL, "esp-mqtt",
     "crt_bundle_attach was set but the bundle is not built in: no way to verify the broker",
     PH_NONE, 0, {CAUSE(NO_VERIFICATION_OPTION, 3)}, NONE},
    {"ssl related configs set, but the", NULL, "esp-mqtt",
     "certificates are configured but the URI / transport has no TLS: plain MQTT is sent",
     PH_NONE, 0, {CAUSE(PLAIN_ON_TLS_PORT, 2)}, NONE},
    {"connection refused, unknown reason", NULL, "esp-mqtt",
     "CONNACK return code 2 (identifier rejected: esp-mqtt has no text for it) or an MQTT 5 "
     "reason code", PH_NONE, 0, {CAUSE(CLIENT_ID_REJECTED, 3), CAUSE(CONNACK_REFUSED, 2)}, NONE},
    {"transport_read(): eof", NULL, "esp-mqtt", "the broker closed the connection", PH_NONE, 0,
     {CAUSE(CLOSED_AFTER_CONNECT, 1), CAUSE(PLAIN_ON_TLS_PORT, 1)}, NONE},
    {"there are no transports valid", NULL, "esp-mqtt",
     "no transport for the URI's scheme: mqtts:// with 'Enable MQTT over SSL' turned off in "
     "menuconfig, or a misspelt scheme", PH_NONE, 0, {CAUSE(LIBRARY_WITHOUT_TLS, 3)}, NONE},
    {"requesting more data than fits", NULL, "mbedTLS (debug)",
     "a TLS record is longer than the input buffer (MBEDTLS_SSL_IN_CONTENT_LEN)", PH_NONE, 0,
     {CAUSE(TLS_RECORD_BUFFER_TOO_SMALL, 4)}, NONE},
    {"tls handshake fragmentation not supported", NULL, "mbedTLS (debug)",
     "the server split a handshake message over records; mbedTLS before 3.6.3 cannot put it "
     "back together (-0x7080)", PH_NONE, 0, {CAUSE(HANDSHAKE_FRAGMENTED, 4)}, NONE},
    {"bad message length", NULL, "mbedTLS (debug)",
     "a record header announces more than the input buffer holds (or the bytes are not TLS)",
     PH_NONE, 0,
     {CAUSE(TLS_RECORD_BUFFER_TOO_SMALL, 2), CAUSE(TLS_ON_PLAIN_PORT, 1)}, NONE},
    {"memory allocation failed", NULL, "mbedTLS / MicroPython",
     "the heap is exhausted (mbedtls_strerror 'SSL - Memory allocation failed', MicroPython "
     "'MemoryError: memory allocation failed')", PH_NONE, 0, {CAUSE(OUT_OF_MEMORY, 4)}, NONE},
    {"memoryerror", NULL, "MicroPython", "the heap is exhausted", PH_NONE, 0,
     {CAUSE(OUT_OF_MEMORY, 3)}, NONE},
    {"connection refused, bad protocol", NULL, "esp-mqtt", "CONNACK return code 1", PH_NONE, 0,
     {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}, NONE},
    {"connection refused, server unavailable", NULL, "esp-mqtt", "CONNACK return code 3",
     PH_NONE, 0, {CAUSE(SERVER_UNAVAILABLE, 4)}, NONE},
    {"connection refused, bad username or password", NULL, "esp-mqtt", "CONNACK return code 4",
     PH_NONE, 0, {CAUSE(BAD_CREDENTIALS, 4)}, NONE},
    {"connection refused, not authorized", NULL, "esp-mqtt", "CONNACK return code 5", PH_NONE, 0,
     {CAUSE(NOT_AUTHORIZED, 4)}, NONE},
    {"connection refused, unknow reason", NULL, "esp-mqtt",
     "CONNACK return code 2 (identifier rejected: esp-mqtt has no text for it) or an MQTT 5 "
     "reason code", PH_NONE, 0, {CAUSE(CLIENT_ID_REJECTED, 3), CAUSE(CONNACK_REFUSED, 2)}, NONE},
    {"no ping_resp, disconnected", NULL, "esp-mqtt", "keepalive expired without PINGRESP",
     PH_NONE, 0, {CAUSE(CLOSED_AFTER_CONNECT, 2)}, NONE},
    {"error network response", NULL, "esp-mqtt", "no CONNACK: the broker closed the connection",
     PH_NONE, 0, {CAUSE(CLOSED_AFTER_CONNECT, 1), CAUSE(PLAIN_ON_TLS_PORT, 1)}, NONE},
    {"mqtt_message_receive() returned 0", NULL, "esp-mqtt", "no CONNACK within network timeout",
     PH_NONE, 0, {CAUSE(PLAIN_ON_TLS_PORT, 1), CAUSE(CLOSED_AFTER_CONNECT, 1)}, NONE},
    {"mqtt_message_receive() returned -1", NULL, "esp-mqtt",
     "the broker closed the connection before CONNACK", PH_NONE, 0,
     {CAUSE(CLOSED_AFTER_CONNECT, 2), CAUSE(PLAIN_ON_TLS_PORT, 1)}, NONE},
    /* ---- mbedTLS verify info (mbedtls_x509_crt_verify_info) ---- */
    {"certificate validity has expired", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x01,
     NONE, NONE},
    {"certificate has been revoked", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x02, NONE,
     NONE},
    {"common name (cn) does not match", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x04, NONE,
     NONE},
    {"certificate is not correctly signed by the trusted ca", NULL, "mbedTLS", NULL,
     PH_VERIFY_INFO, 0x08, NONE, NONE},
    {"the certificate is not trusted", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x08, NONE,
     NONE},
    {"certificate was missing", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x40, NONE,
     NONE},
    {"certificate verification was skipped", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x80,
     NONE, NONE},
    {"other reason (can be used by verify callback)", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x100, NONE, NONE},
    {"certificate validity starts in the future", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x200,
     NONE, NONE},
    {"usage does not match the keyusage extension", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x800,
     NONE, NONE},
    {"usage does not match the extendedkeyusage extension", NULL, "mbedTLS", NULL,
     PH_VERIFY_INFO, 0x1000, NONE, NONE},
    {"usage does not match the nscerttype extension", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x2000, NONE, NONE},
    {"certificate is signed with an unacceptable hash", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x4000, NONE, NONE},
    {"certificate is signed with an unacceptable pk alg", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x8000, NONE, NONE},
    {"certificate is signed with an unacceptable key", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x10000, NONE, NONE},
    /* ---- mosquitto_pub/sub and libmosquitto (mosquitto_strerror, mosquitto_connack_string) */
    {"a tls error occurred", NULL, "mosquitto client",
     "MOSQ_ERR_TLS: the TLS handshake failed; the 'OpenSSL Error[...]' line printed before it "
     "names the reason (run mosquitto_pub with -d, or mqtls doctor)",
     PH_CLUE, CLUE_TLS_FAILED, NONE, NONE},
    {"tls handshake failed", NULL, "mosquitto client", "MOSQ_ERR_TLS_HANDSHAKE", PH_CLUE,
     CLUE_TLS_FAILED, NONE, NONE},
    {"connection refused: not authorised", NULL, "mosquitto client", "CONNACK 5 / 0x87",
     PH_NONE, 0, {CAUSE(NOT_AUTHORIZED, 4)}, NONE},
    {"connection refused: bad user name or password", NULL, "mosquitto client", "CONNACK 4",
     PH_NONE, 0, {CAUSE(BAD_CREDENTIALS, 4)}, NONE},
    {"connection refused: identifier rejected", NULL, "mosquitto client", "CONNACK 2", PH_NONE,
     0, {CAUSE(CLIENT_ID_REJECTED, 4)}, NONE},
    {"connection refused: broker unavailable", NULL, "mosquitto client", "CONNACK 3", PH_NONE, 0,
     {CAUSE(SERVER_UNAVAILABLE, 4)}, NONE},
    {"connection refused: unacceptable protocol version", NULL, "mosquitto client", "CONNACK 1",
     PH_NONE, 0, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}, NONE},
    {"connection error: not authorized", NULL, "mosquitto client", "MQTT 5 reason 0x87",
     PH_NONE, 0, {CAUSE(NOT_AUTHORIZED, 4)}, NONE},
    {"connection error: bad user name or password", NULL, "mosquitto client",
     "MQTT 5 reason 0x86", PH_NONE, 0, {CAUSE(BAD_CREDENTIALS, 4)}, NONE},
    {"connection error: client identifier not valid", NULL, "mosquitto client",
     "MQTT 5 reason 0x85", PH_NONE, 0, {CAUSE(CLIENT_ID_REJECTED, 4)}, NONE},
    {"connection error: unsupported protocol version", NULL, "mosquitto client",
     "MQTT 5 reason 0x84", PH_NONE, 0, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}, NONE},
    {"try connecting to an mqtt v5 broker", NULL, "mosquitto client",
     "the broker refused MQTT 5 (it speaks 3.1.1 only)", PH_NONE, 0,
     {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 3)}, NONE},
    /* Observed with mosquitto_pub 2.0.11 against mosquitto 2.0.11 (require_certificate true):
     * client certificate from a CA the broker does not trust, or no client certificate with
     * TLS 1.2 -> "Error: Protocol error" (strerror(EPROTO) after the broker's alert);
     * plain MQTT to the TLS port, or no client certificate with TLS 1.3 -> "Error: The
     * connection was lost." */
    {"protocol error", "disconnected|a network protocol error", "mosquitto client",
     "strerror(EPROTO): the broker aborted TLS, typically because it rejected the client "
     "certificate (or none was sent); the broker's log says which",
     PH_NONE, 0, {CAUSE(CLIENT_CA_NOT_ACCEPTED, 2), CAUSE(CLIENT_CERT_MISSING, 2),
                  CAUSE(CLIENT_CERT_REJECTED, 1)}, NONE},
    {"a network protocol error occurred", NULL, "mosquitto client",
     "MOSQ_ERR_PROTOCOL: the connection ended abnormally; with MQTT 5 it follows a refusing "
     "CONNACK printed just before (\"Connection error: ...\")", PH_NONE, 0, NONE,
     NONE},
    {"the connection was refused", NULL, "mosquitto client",
     "MOSQ_ERR_CONN_REFUSED: the CONNACK refused the connection; the \"Connection error:\" line "
     "before it says why", PH_NONE, 0, NONE, NONE},
    {"the connection was lost", NULL, "mosquitto client",
     "MOSQ_ERR_CONN_LOST: the broker closed the connection (plain MQTT sent to a TLS port, or "
     "no client certificate with TLS 1.3, or closed after CONNECT)", PH_NONE, 0,
     {CAUSE(PLAIN_ON_TLS_PORT, 2), CAUSE(CLIENT_CERT_MISSING, 2), CAUSE(CLOSED_AFTER_CONNECT, 1)},
     NONE},
    {"lookup error", NULL, "mosquitto client", "MOSQ_ERR_EAI: host name lookup failed", PH_NONE,
     0, {CAUSE(DNS_FAILURE, 4)}, NONE},
    /* (not the CONNACK texts: "Connection refused: not authorised" (mosquitto, MQTT.js),
     * ", not authorized" (esp-mqtt), " - not authorised" (paho-mqtt Python)) */
    {"connection refused", "connection refused:|connection refused,|connection refused -",
     "socket", "ECONNREFUSED: nothing listens on that host/port", PH_NONE, 0,
     {CAUSE(CONNECTION_REFUSED, 4)}, NONE},
    {"unable to load ca certificates", NULL, "mosquitto",
     "the CA file/dir could not be read or parsed", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 3), CAUSE(DER_NOT_PEM, 1)}, NONE},
    {"unable to load client certificate", NULL, "mosquitto client",
     "the --cert file could not be read or parsed", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 2), CAUSE(DER_NOT_PEM, 1), CAUSE(CERT_AND_KEY_SWAPPED, 1)}, NONE},
    {"unable to load client key file", NULL, "mosquitto client",
     "the --key file could not be read, parsed or decrypted", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 2), CAUSE(KEY_PASSWORD_WRONG, 1), CAUSE(CERT_AND_KEY_SWAPPED, 1)},
     NONE},
    {"client certificate/key are inconsistent", NULL, "mosquitto client",
     "SSL_CTX_check_private_key failed", PH_NONE, 0, {CAUSE(CLIENT_KEY_MISMATCH, 4)}, NONE},
    {"problem setting tls options: file not found", NULL, "mosquitto client",
     "a --cafile/--cert/--key path does not exist", PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 4)},
     NONE},
    /* ---- mosquitto broker log ---- */
    {"disconnected due to protocol error", NULL, "mosquitto broker",
     "the bytes received were not MQTT (e.g. a TLS ClientHello on a plain listener)", PH_NONE,
     0, {CAUSE(TLS_ON_PLAIN_PORT, 3)}, NONE},
    {"disconnected due to malformed packet", NULL, "mosquitto broker",
     "the bytes received were not a valid MQTT packet (e.g. a TLS ClientHello on a plain "
     "listener)", PH_NONE, 0, {CAUSE(TLS_ON_PLAIN_PORT, 2)}, NONE},
    {"starting in local only mode", NULL, "mosquitto 2.0 broker",
     "no listener is configured: mosquitto listens on 127.0.0.1 / ::1 only", PH_CLUE,
     CLUE_LOCAL_ONLY, {CAUSE(BROKER_LOCAL_ONLY, 6)}, NONE},
    {"invalid protocol \"", NULL, "mosquitto broker",
     "the CONNECT's protocol name is neither 'MQTT' nor 'MQIsdp' (or the broker is too old to "
     "know 'MQTT')", PH_NONE, 0,
     {CAUSE(PROTOCOL_NAME_MISMATCH, 5), CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 1)}, NONE},
    /* mosquitto accepts 'MQIsdp' only with level 3 and 'MQTT' only with 4 or 5; any other
     * pair is "Invalid protocol version N". */
    {"invalid protocol version 3 in connect", NULL, "mosquitto broker",
     "protocol name 'MQTT' with level 3 (MQTT 3.1 is 'MQIsdp' + 3)", PH_NONE, 0,
     {CAUSE(PROTOCOL_NAME_MISMATCH, 5), CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 1)}, NONE},
    {"invalid protocol version 4 in connect", NULL, "mosquitto broker",
     "protocol name 'MQIsdp' with level 4 (MQTT 3.1.1 is 'MQTT' + 4)", PH_NONE, 0,
     {CAUSE(PROTOCOL_NAME_MISMATCH, 4), CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 2)}, NONE},
    {"invalid protocol version", "version 3 in connect|version 4 in connect", "mosquitto / Paho",
     "the broker does not speak this MQTT protocol level (e.g. 5 to mosquitto < 1.6)", PH_NONE,
     0, {CAUSE(UNSUPPORTED_PROTOCOL_VERSION, 4)}, NONE},
    {"invalid arguments provided", NULL, "mosquitto",
     "MOSQ_ERR_INVAL; right after a client connected (mosquitto >= 2.0.12) it is the "
     "keep-alive check: 0 or above max_keepalive", PH_CLUE, CLUE_INVALID_ARGS, NONE, NONE},
    /* mosquitto 2.1 writes "Client <id> [<addr>] disconnected: <reason>." */
    {"appears to be using tls to connect to a non-tls listener", NULL, "mosquitto 2.1 broker",
     "a client spoke TLS to a plain listener", PH_NONE, 0, {CAUSE(TLS_ON_PLAIN_PORT, 6)}, NONE},
    {"rejected, client did not connect using tls", NULL, "mosquitto 2.1 broker",
     "a client sent plain MQTT to a TLS listener", PH_NONE, 0, {CAUSE(PLAIN_ON_TLS_PORT, 6)},
     NONE},
    {"rejected, client did not provide a certificate", NULL, "mosquitto 2.1 broker",
     "require_certificate is on and the client sent no certificate", PH_NONE, 0,
     {CAUSE(CLIENT_CERT_MISSING, 6)}, NONE},
    {"disconnected: malformed packet", NULL, "mosquitto 2.1 broker",
     "the bytes received were not a valid MQTT packet (e.g. a TLS ClientHello on a plain "
     "listener)", PH_NONE, 0, {CAUSE(TLS_ON_PLAIN_PORT, 2)}, NONE},
    {"disconnected: client identifier not valid", NULL, "mosquitto 2.1 broker",
     "the broker refused the client id", PH_NONE, 0, {CAUSE(CLIENT_ID_REJECTED, 4)}, NONE},
    {"disconnected: session taken over", NULL, "mosquitto 2.1 broker",
     "another client connected with the same client id", PH_NONE, 0,
     {CAUSE(CLOSED_AFTER_CONNECT, 4)}, NONE},
    {"disconnected: exceeded timeout", NULL, "mosquitto 2.1 broker", "keepalive expired",
     PH_NONE, 0, {CAUSE(CLOSED_AFTER_CONNECT, 3)}, NONE},
    {"unable to open pwfile", NULL, "mosquitto broker",
     "the password file cannot be read (path, or permissions for user 'mosquitto')", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 4)}, NONE},
    {"error opening password file", NULL, "mosquitto broker",
     "the password file cannot be read (path, or permissions for user 'mosquitto')", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 4)}, NONE},
    {"error opening acl file", NULL, "mosquitto broker", "the ACL file cannot be read", PH_NONE, 0,
     {CAUSE(FILE_UNREADABLE, 4)}, NONE},
    {"unable to load certificate revocation file", NULL, "mosquitto broker",
     "the crlfile cannot be read or parsed", PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 3)}, NONE},
    {"warning: tls support not available", NULL, "mosquitto",
     "this mosquitto was built without TLS", PH_NONE, 0, {CAUSE(LIBRARY_WITHOUT_TLS, 4)}, NONE},
    {"host name verification failed", NULL, "libmosquitto",
     "the broker's certificate is not valid for the host connected to (an IP where it names a "
     "DNS name, or the reverse)", PH_NONE, 0, {CAUSE(HOSTNAME_MISMATCH, 5)}, NONE},
    {"dns lookup failed", NULL, "libmosquitto 2.1", "host name lookup failed", PH_NONE, 0,
     {CAUSE(DNS_FAILURE, 4)}, NONE},
    {"server certificate/key are inconsistent", NULL, "mosquitto broker",
     "the broker's keyfile is not the key of its certfile", PH_NONE, 0,
     {CAUSE(SERVER_KEY_MISMATCH, 6)}, NONE},
    /* 2.0: a failed SSL_read/SSL_accept sets errno EPROTO, so do_disconnect() logs
     * strerror(EPROTO): the reason is the "OpenSSL Error[...]" line just before it. */
    {"disconnected: protocol error", NULL, "mosquitto broker",
     "EPROTO after a TLS failure; the 'OpenSSL Error[...]' line just before it names the reason",
     PH_NONE, 0, NONE, NONE},
    {"disconnected: a tls error occurred", NULL, "mosquitto broker",
     "MOSQ_ERR_TLS; the 'OpenSSL Error[...]' line just before it names the reason", PH_NONE, 0,
     NONE, NONE},
    {"disconnected, not authorised", NULL, "mosquitto broker",
     "the broker's authentication refused this client", PH_NONE, 0, {CAUSE(NOT_AUTHORIZED, 4)},
     NONE},
    {"already connected, closing old connection", NULL, "mosquitto broker",
     "a second client used the same client id", PH_NONE, 0, {CAUSE(CLOSED_AFTER_CONNECT, 4)},
     NONE},
    {"has exceeded timeout, disconnecting", NULL, "mosquitto broker", "keepalive expired",
     PH_NONE, 0, {CAUSE(CLOSED_AFTER_CONNECT, 3)}, NONE},
    {"max_connections exceeded", NULL, "mosquitto broker", "connection limit reached", PH_NONE,
     0, {CAUSE(SERVER_UNAVAILABLE, 3)}, NONE},
    {"socket error on client", NULL, "mosquitto broker",
     "the connection broke (often right after a TLS error logged just before)", PH_NONE, 0,
     NONE, NONE},
    {"peer did not return a certificate", NULL, "OpenSSL (broker)",
     "require_certificate is on and the client sent no certificate", PH_SNAKE, 0,
     {CAUSE(CLIENT_CERT_MISSING, 5)}, NONE},
    {"no certificate returned", NULL, "OpenSSL 1.0 (broker)",
     "SSL_R_NO_CERTIFICATE_RETURNED: the client sent no certificate", PH_SNAKE, 0,
     {CAUSE(CLIENT_CERT_MISSING, 5)}, NONE},
    {"no shared cipher", NULL, "OpenSSL", "no common cipher suite", PH_SNAKE, 0,
     {CAUSE(NO_SHARED_CIPHER, 4)}, NONE},
    {"http request", NULL, "OpenSSL (broker)", "plain text arrived on the TLS listener",
     PH_SNAKE, 0, {CAUSE(PLAIN_ON_TLS_PORT, 2)}, NONE},
    /* ---- Paho C ---- */
    {"ssl is not supported", NULL, "Paho", "MQTTCLIENT_SSL_NOT_SUPPORTED (-10): link "
     "paho-mqtt3cs / paho-mqtt3as", PH_NONE, 0, {CAUSE(LIBRARY_WITHOUT_TLS, 4)}, NONE},
    {"x509_check_host for hostname", NULL, "Paho C",
     "the server's certificate does not name the host connected to", PH_NONE, 0,
     {CAUSE(HOSTNAME_MISMATCH, 5)}, NONE},
    {"invalid protocol scheme", NULL, "Paho C", "MQTTCLIENT_BAD_PROTOCOL (-14): ssl:// or mqtts:// "
     "with a library built without TLS, or an unknown scheme", PH_NONE, 0,
     {CAUSE(LIBRARY_WITHOUT_TLS, 2)}, NONE},
    {"sslsocket error", NULL, "Paho", "SSLSocket_error(): the OpenSSL reason follows", PH_NONE,
     0, NONE, NONE},
    {"ssl certificate verification failed", NULL, "Paho",
     "the server certificate failed verification", PH_VERIFY_FAILED, 0, NONE,
     NONE},
    /* ---- OpenSSL reason strings (SSL_R_*, X509_V_ERR_* texts) ---- */
    {"certificate verify failed", NULL, "OpenSSL",
     "SSL_R_CERTIFICATE_VERIFY_FAILED: the peer's certificate chain was rejected; the "
     "verify error text says why",
     PH_VERIFY_FAILED | PH_SNAKE, 0, NONE, {CAUSE(CLIENT_CA_NOT_ACCEPTED, 3)}},
    {"unable to get local issuer certificate", NULL, "OpenSSL",
     "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (20)", PH_NONE, 0,
     {CAUSE(UNTRUSTED_ISSUER, 4), CAUSE(MISSING_INTERMEDIATE, 3)},
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 4), CAUSE(CLIENT_CHAIN_INCOMPLETE, 3)}},
    {"unable to get issuer certificate", NULL, "OpenSSL", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT",
     PH_NONE, 0, {CAUSE(MISSING_INTERMEDIATE, 4), CAUSE(UNTRUSTED_ISSUER, 2)},
     {CAUSE(CLIENT_CHAIN_INCOMPLETE, 4)}},
    {"unable to verify the first certificate", NULL, "OpenSSL",
     "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE (21)", PH_NONE, 0,
     {CAUSE(MISSING_INTERMEDIATE, 4), CAUSE(UNTRUSTED_ISSUER, 2)},
     {CAUSE(CLIENT_CHAIN_INCOMPLETE, 4)}},
    {"self signed certificate in certificate chain", NULL, "OpenSSL 1.1",
     "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN (19): the chain ends in a root you do not trust",
     PH_NONE, 0, {CAUSE(UNTRUSTED_ISSUER, 4), CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 2)},
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 4)}},
    {"self-signed certificate in certificate chain", NULL, "OpenSSL 3",
     "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN (19): the chain ends in a root you do not trust",
     PH_NONE, 0, {CAUSE(UNTRUSTED_ISSUER, 4), CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 2)},
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 4)}},
    {"self signed certificate", "in certificate chain", "OpenSSL 1.1",
     "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)", PH_NONE, 0, {CAUSE(SERVER_SELF_SIGNED, 4)},
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 3)}},
    {"self-signed certificate", "in certificate chain", "OpenSSL 3",
     "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)", PH_NONE, 0, {CAUSE(SERVER_SELF_SIGNED, 4)},
     {CAUSE(CLIENT_CA_NOT_ACCEPTED, 3)}},
    {"certificate has expired", "or is not yet valid", "OpenSSL",
     "X509_V_ERR_CERT_HAS_EXPIRED (10)", PH_NONE, 0,
     {CAUSE(SERVER_CERT_EXPIRED, 4), CAUSE(CA_EXPIRED, 1), CAUSE(CLOCK_NOT_SET, 1)},
     {CAUSE(CLIENT_CERT_EXPIRED, 4)}},
    {"certificate is not yet valid", NULL, "OpenSSL", "X509_V_ERR_CERT_NOT_YET_VALID (9)",
     PH_NONE, 0, {CAUSE(SERVER_CERT_NOT_YET_VALID, 3), CAUSE(CLOCK_NOT_SET, 2)},
     {CAUSE(CLIENT_CERT_NOT_YET_VALID, 4)}},
    {"hostname mismatch", NULL, "OpenSSL", "X509_V_ERR_HOSTNAME_MISMATCH (62)", PH_SNAKE, 0,
     {CAUSE(HOSTNAME_MISMATCH, 5)}, NONE},
    {"ip address mismatch", NULL, "OpenSSL", "X509_V_ERR_IP_ADDRESS_MISMATCH (64)", PH_SNAKE, 0,
     {CAUSE(HOSTNAME_MISMATCH, 5)}, NONE},
    {"ca md too weak", NULL, "OpenSSL", "SSL_R_CA_MD_TOO_WEAK: a CA signature uses SHA-1/MD5",
     PH_SNAKE, 0, {CAUSE(WEAK_SIGNATURE_HASH, 5)}, {CAUSE(CLIENT_SIGNATURE_HASH, 5)}},
    /* Raised by SSL_CTX_use_certificate() (loading one's OWN certificate: the usual case) and
     * while judging the peer's chain. */
    {"ee key too small", NULL, "OpenSSL",
     "SSL_R_EE_KEY_TOO_SMALL: the end-entity key is below the security level (RSA < 2048 at "
     "SECLEVEL 2)",
     PH_SNAKE | PH_OWN | PH_SERVER_OWN, MQTLS__F_SERVER_KEY_TOO_SMALL, {CAUSE(WEAK_KEY, 4)},
     {CAUSE(WEAK_CLIENT_KEY, 5)}},
    {"ca key too small", NULL, "OpenSSL", "SSL_R_CA_KEY_TOO_SMALL", PH_SNAKE, 0,
     {CAUSE(WEAK_KEY, 5)}, NONE},
    {"ca certificate key too weak", NULL, "OpenSSL", "X509_V_ERR_CA_KEY_TOO_SMALL (67)", PH_NONE,
     0, {CAUSE(WEAK_KEY, 5)}, {CAUSE(WEAK_KEY, 5)}},
    {"ee certificate key too weak", NULL, "OpenSSL", "X509_V_ERR_EE_KEY_TOO_SMALL (66)", PH_NONE,
     0, {CAUSE(WEAK_KEY, 4), CAUSE(WEAK_CLIENT_KEY, 2)}, {CAUSE(WEAK_CLIENT_KEY, 5)}},
    {"ca signature digest algorithm too weak", NULL, "OpenSSL", "X509_V_ERR_CA_MD_TOO_WEAK (68)",
     PH_NONE, 0, {CAUSE(WEAK_SIGNATURE_HASH, 5)}, {CAUSE(WEAK_SIGNATURE_HASH, 5)}},
    {"wrong curve", NULL, "OpenSSL", "SSL_R_WRONG_CURVE", PH_NONE, 0, {CAUSE(CURVE_NOT_ALLOWED, 4)},
     {CAUSE(CURVE_NOT_ALLOWED, 4)}},
    {"unable to load server key file", NULL, "mosquitto broker",
     "keyfile unreadable (mosquitto drops to user 'mosquitto': check permissions) or encrypted",
     PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 4), CAUSE(KEY_PASSWORD_REQUIRED, 1)}, NONE},
    {"unable to load server certificate", NULL, "mosquitto broker", "certfile unreadable",
     PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 4)}, NONE},
    {"key values mismatch", NULL, "OpenSSL",
     "X509_R_KEY_VALUES_MISMATCH: the private key does not belong to the certificate",
     PH_SNAKE | PH_OWN | PH_SERVER_OWN, MQTLS__F_SERVER_KEY_MISMATCH,
     {CAUSE(CLIENT_KEY_MISMATCH, 5)}, NONE},
    {"unsupported certificate purpose", NULL, "OpenSSL", "X509_V_ERR_INVALID_PURPOSE (26)",
     PH_NONE, 0, {CAUSE(SERVER_EKU_MISSING, 4)}, {CAUSE(CLIENT_EKU_MISSING, 4)}},
    {"invalid ca certificate", NULL, "OpenSSL", "X509_V_ERR_INVALID_CA (24)", PH_NONE, 0,
     {CAUSE(ISSUER_NOT_CA, 4), CAUSE(CA_FILE_HOLDS_LEAF, 2)}, {CAUSE(ISSUER_NOT_CA, 4)}},
    {"cert_signature_failure", NULL, "OpenSSL (X509_V_ERR_ name)",
     "X509_V_ERR_CERT_SIGNATURE_FAILURE: the issuer's key does not verify the signature", PH_NONE,
     0, {CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 4)}, {CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 4)}},
    {"err_invalid_ca", NULL, "OpenSSL (X509_V_ERR_ name)", "X509_V_ERR_INVALID_CA", PH_NONE, 0,
     {CAUSE(ISSUER_NOT_CA, 4), CAUSE(CA_FILE_HOLDS_LEAF, 2)}, {CAUSE(ISSUER_NOT_CA, 4)}},
    {"err_invalid_purpose", NULL, "OpenSSL (X509_V_ERR_ name)", "X509_V_ERR_INVALID_PURPOSE",
     PH_NONE, 0, {CAUSE(SERVER_EKU_MISSING, 4)}, {CAUSE(CLIENT_EKU_MISSING, 4)}},
    {"certificate signature failure", NULL, "OpenSSL",
     "X509_V_ERR_CERT_SIGNATURE_FAILURE (7): the issuer's key does not verify the signature",
     PH_NONE, 0, {CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 4)}, {CAUSE(CA_SAME_NAME_DIFFERENT_KEY, 4)}},
    {"wrong version number", NULL, "OpenSSL",
     "SSL_R_WRONG_VERSION_NUMBER: the peer's bytes are not TLS", PH_SNAKE, 0,
     {CAUSE(TLS_ON_PLAIN_PORT, 4)}, {CAUSE(PLAIN_ON_TLS_PORT, 4)}},
    {"packet length too long", NULL, "OpenSSL", "the peer's bytes are not TLS", PH_SNAKE, 0,
     {CAUSE(TLS_ON_PLAIN_PORT, 2)}, {CAUSE(PLAIN_ON_TLS_PORT, 3)}},
    {"unknown protocol", NULL, "OpenSSL 1.0",
     "SSL_R_UNKNOWN_PROTOCOL: the server's answer is not TLS", PH_SNAKE, 0,
     {CAUSE(TLS_ON_PLAIN_PORT, 4)}, {CAUSE(PLAIN_ON_TLS_PORT, 3)}},
    {"unexpected eof while reading", NULL, "OpenSSL 3",
     "the peer closed the TCP connection during the handshake", PH_SNAKE, 0,
     {CAUSE(TLS_ON_PLAIN_PORT, 2), CAUSE(CLIENT_CERT_MISSING, 1), CAUSE(ALPN_REQUIRED, 1)},
     {CAUSE(CLOSED_AFTER_CONNECT, 1)}},
    {"unsupported protocol", NULL, "OpenSSL",
     "SSL_R_UNSUPPORTED_PROTOCOL: the peer offered only TLS versions this side refuses",
     PH_SNAKE, 0, {CAUSE(TLS_VERSION_MISMATCH, 4)}, NONE},
    {"no protocols available", NULL, "OpenSSL",
     "SSL_R_NO_PROTOCOLS_AVAILABLE: the configured min/max TLS versions leave none", PH_SNAKE, 0,
     {CAUSE(TLS_VERSION_MISMATCH, 4)}, NONE},
    {"version too low", NULL, "OpenSSL", "SSL_R_VERSION_TOO_LOW: the peer's TLS version is "
     "below the configured minimum", PH_SNAKE, 0, {CAUSE(TLS_VERSION_MISMATCH, 4)}, NONE},
    {"bad decrypt", NULL, "OpenSSL", "the key file's password is wrong", PH_SNAKE, 0,
     {CAUSE(KEY_PASSWORD_WRONG, 4)}, NONE},
    {"bad password read", NULL, "OpenSSL",
     "PEM_R_BAD_PASSWORD_READ: the key is encrypted and no password was given", PH_SNAKE, 0,
     {CAUSE(KEY_PASSWORD_REQUIRED, 4)}, NONE},
    {"problems getting password", NULL, "OpenSSL",
     "PEM_R_PROBLEMS_GETTING_PASSWORD: the key is encrypted and no password was given",
     PH_SNAKE, 0, {CAUSE(KEY_PASSWORD_REQUIRED, 4)}, NONE},
    {"mac verify failure", NULL, "OpenSSL",
     "PKCS12_R_MAC_VERIFY_FAILURE: the PKCS#12 (.p12/.pfx) password is wrong", PH_SNAKE, 0,
     {CAUSE(KEY_PASSWORD_WRONG, 4)}, NONE},
    {"no certificate or crl found", NULL, "OpenSSL",
     "X509_R_NO_CERTIFICATE_OR_CRL_FOUND: the CA file holds no PEM certificate", PH_SNAKE, 0,
     {CAUSE(NOT_A_CERTIFICATE, 3), CAUSE(DER_NOT_PEM, 2)}, NONE},
    {"no ciphers available", NULL, "OpenSSL",
     "SSL_R_NO_CIPHERS_AVAILABLE: the configured cipher list leaves none", PH_SNAKE, 0,
     {CAUSE(NO_SHARED_CIPHER, 3)}, NONE},
    {"no start line", NULL, "OpenSSL", "PEM_R_NO_START_LINE: no '-----BEGIN' line", PH_SNAKE, 0,
     {CAUSE(DER_NOT_PEM, 2), CAUSE(NOT_A_CERTIFICATE, 1), CAUSE(EMPTY_FILE, 1)}, NONE},
    {"bad base64 decode", NULL, "OpenSSL", "PEM body damaged", PH_SNAKE, 0,
     {CAUSE(PEM_TRUNCATED, 4)}, NONE},
    {"no suitable signature algorithm", NULL, "OpenSSL",
     "SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: no signature algorithm in common (key type)",
     PH_SNAKE, 0, {CAUSE(NO_SHARED_CIPHER, 3)}, NONE},
    {"no suitable key share", NULL, "OpenSSL",
     "SSL_R_NO_SUITABLE_KEY_SHARE: no TLS 1.3 group (curve) in common", PH_SNAKE, 0,
     {CAUSE(NO_SHARED_CIPHER, 3)}, NONE},
    {"decoder routines::unsupported", NULL, "OpenSSL 3",
     "no decoder could read the key or certificate: not a key, or a key format OpenSSL does "
     "not read", PH_NONE, 0, {CAUSE(KEY_NOT_A_KEY, 2), CAUSE(KEY_FORMAT_UNSUPPORTED, 1)}, NONE},
    {"name or service not known", NULL, "libc", "EAI_NONAME", PH_NONE, 0, {CAUSE(DNS_FAILURE, 4)},
     NONE},
    {"no such file or directory", NULL, "libc", "ENOENT: a certificate or key path is wrong",
     PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 3)}, NONE},
    {"permission denied", NULL, "libc",
     "EACCES: the file is not readable by the user the program runs as (mosquitto drops to user "
     "'mosquitto')", PH_NONE, 0, {CAUSE(FILE_UNREADABLE, 3)}, NONE},
    {"temporary failure in name resolution", NULL, "libc", "EAI_AGAIN", PH_NONE, 0,
     {CAUSE(DNS_FAILURE, 4)}, NONE},
    /* musl (Alpine containers) words EAI_NONAME differently from glibc */
    {"name does not resolve", NULL, "musl libc", "EAI_NONAME", PH_NONE, 0,
     {CAUSE(DNS_FAILURE, 4)}, NONE},
    {"connection timed out", NULL, "libc", "ETIMEDOUT", PH_NONE, 0, {CAUSE(CONNECT_TIMEOUT, 4)},
     NONE},
    {"no route to host", NULL, "libc", "EHOSTUNREACH", PH_NONE, 0, {CAUSE(NETWORK_UNREACHABLE, 4)},
     NONE},
    {"network is unreachable", NULL, "libc", "ENETUNREACH", PH_NONE, 0,
     {CAUSE(NETWORK_UNREACHABLE, 4)}, NONE},
    /* A reset by the peer with no TLS alert: handshake-reset first (a TLS server that drops
     * the client, e.g. one rejecting its certificate after a TLS 1.3 handshake), TLS spoken to
     * a plain port and a rejected certificate next. */
    {"connection reset by peer", NULL, "libc",
     "ECONNRESET: the peer reset the connection without a TLS alert", PH_NONE, 0,
     {CAUSE(HANDSHAKE_RESET, 2), CAUSE(TLS_ON_PLAIN_PORT, 1), CAUSE(CLIENT_CERT_REJECTED, 1)},
     NONE},
    /* TLS alerts as OpenSSL prints them ("sslv3 alert handshake failure"): see the alerts
     * table of explain_codes.h (their names live in src/common/tls_alert.h). */
    /* ---- public-key pinning: mqtls (src/net/tls_io.c), curl lib/vtls/vtls.c ---- */
    {"matches none of the pins", NULL, "mqtls",
     "MQTLS_ERR_TLS_PIN_MISMATCH: the chain verified, but the server's public key is not "
     "pinned", PH_NONE, 0, {CAUSE(PIN_MISMATCH, 5)}, NONE},
    {"does not match pinned public key", NULL, "curl",
     "CURLE_SSL_PINNEDPUBKEYNOTMATCH (90): --pinnedpubkey does not match the server's key",
     PH_NONE, 0, {CAUSE(PIN_MISMATCH, 5)}, NONE},
    /* OkHttp okhttp3.CertificatePinner (Android apps, Java / Kotlin clients): it lists the
     * chain's sha256/ SPKI hashes, then the pins; the chain itself had verified. */
    {"certificate pinning failure", NULL, "OkHttp (CertificatePinner)",
     "SSLPeerUnverifiedException: none of the pinned sha256/ SPKI hashes is in the chain the "
     "server presented (the chain itself verified)", PH_NONE, 0, {CAUSE(PIN_MISMATCH, 5)}, NONE},
    /* Node tls: checkServerIdentity pinning as Node's documentation shows it */
    {"does not match our pinned fingerprint", NULL, "Node tls (checkServerIdentity)",
     "the server's public key hash is not the pinned one", PH_NONE, 0, {CAUSE(PIN_MISMATCH, 5)},
     NONE},
};

/* Lines that mark a BROKER's log (then OpenSSL reasons describe the client's side):
 * mosquitto (its Unix-time prefix is checked in explain_scan.c), EMQX, RabbitMQ, VerneMQ. */
static const char *const broker_markers[] = {
    "new connection from", "client <unknown>", "mosquitto version", "opening ipv4 listen socket",
    "opening ipv6 listen socket", "socket error on client", "new client connected from",
    "client connection from", "closed its connection", "mosquitto[", "tls server:", "esockd",
    "(emqx@", "emqx_connection", "rabbit_mqtt", "vmq_ranch",
    /* OpenSSL 1.x function names of the SERVER side of a handshake */
    "get_client_hello", "process_client_hello", "ssl3_accept", "accept_sr_",
    "process_client_certificate", "get_client_certificate",
};

/* Lines that mark a CLIENT's output (mosquitto_pub/sub, Paho, Erlang ssl as a client). Lines
 * starting "Error: " are mosquitto_pub/sub's too. */
static const char *const client_markers[] = {
    "connection error:", "mosquitto_pub", "mosquitto_sub", "mqttclient", "sslsocket",
    "tls client:", "at tlssocket", "load_cert_chain", "mqttexception",
    /* OpenSSL 1.x function names of the CLIENT side of a handshake */
    "get_server_hello", "process_server_hello", "ssl3_connect", "connect_sr_",
    "process_server_certificate", "get_server_certificate", "construct_client_hello",
};

/* Lines that mark ESP-IDF output (errno numbers are newlib's; the clock is often unset). */
static const char *const esp_markers[] = {
    "esp-tls", "esp_tls", "mqtt_client", "transport_base", "esp-x509-crt-bundle", "mqtt_event",
    "esp_err_", "esp_mqtt",
};

/* '|'-separated context lists (lowercase) for explain_scan.c. Whose certificate a line is
 * about: the writer's OWN (loading it), the SERVER's (a client judging it: OpenSSL 1.x
 * function names, Erlang "TLS client:"), the CLIENT's (a broker judging it). */
static const char subject_own[] =
    "use_certificate|use_privatekey|check_private_key|load_cert_chain|unable to load|"
    "could not load|failed to load|setkey|setcert|check certfile|check keyfile|{keyfile,|"
    "{certfile,";
static const char subject_server[] =
    "process_server_certificate|get_server_certificate|tls client:|ssl3_connect|"
    "server's certificate|server certificate";
static const char subject_client[] =
    "process_client_certificate|get_client_certificate|tls server:|ssl3_accept|"
    "client's certificate|client certificate";
/* Output of a small device (heap and TLS buffers are scarce, clocks start at 1970). */
static const char device_markers[] =
    "micropython|umqtt|[iot_thread]|freertos|zephyr|esp8266|esp32|arduino";
/* Arduino cores: "[E][WiFiClientSecure.cpp:133]", PubSubClient, BearSSL. */
static const char arduino_markers[] =
    "[e][|[w][|[i][|[d][|[v][|wificlientsecure|pubsubclient|ssl_client.cpp|"
    "attempting mqtt connection|getlastsslerror|bearssl|mqt: ";
/* AWS IoT: endpoint, SDKs (embedded C, CRT, Python v1 "mqttCore"), Greengrass. */
static const char aws_markers[] =
    "amazonaws.com|aws_iot|awsiot|aws-iot|aws_error_|aws_io_|iot_tls_|mqttcore|greengrass";

/* clang-format on */

#endif /* MQTLS_EXPLAIN_PHRASES_H */
