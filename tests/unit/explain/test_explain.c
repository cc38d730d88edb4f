/* Unit tests of the explain engine: inputs (code arguments or log excerpts) -> expected
 * finding ids and the top one; garbage never recognised and never a crash; every table
 * consistent with the finding catalogue (findings.def), the alert and reason-code tables, the
 * linked mbedTLS and docs/troubleshooting.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain_internal.h"
#include <mbedtls/x509_crt.h>

#include "common/tls_alert.h"
#include "common/tls_facts.h"
#include "explain/explain_catalogue.h"
#include "explain/explain_codes.h"
#include "explain/explain_phrases.h"
#include "explain/explain_phrases_apps.h"
#include "explain/explain_rules.h"
#include "explain/explain_vocab.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/explain.h"
#include "packet/names.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct explain_case {
    const char *name;
    bool is_log; /* input is a log excerpt (else: '\n'-separated arguments) */
    const char *input;
    const char *top;            /* expected most likely id, NULL = no cause expected */
    const char *ids[4];         /* further ids that must be present */
    const char *absent;         /* an id that must NOT be present, or NULL */
    const char *input_contains; /* text one recognised input's text/meaning must contain */
} explain_case_t;

#define SEED_LOG                                                                                   \
    "E (1193558) esp-tls: mbedtls_ssl_handshake returned -0x2700\n"                                \
    "I (1193558) esp-tls: Failed to verify peer certificate!\n"                                    \
    "I (1193558) esp-tls: verification info:   ! The certificate is signed with an unacceptable "  \
    "key (eg bad curve, RSA too short).\n"                                                         \
    "E MQTT_CLIENT: Error transport connect\n"

/* clang-format off */
static const explain_case_t cases[] = {
    /* ---- the seed: ESP32 to test.mosquitto.org with the pre-2020 CA ---- */
    {"seed esp32 log", true, SEED_LOG, "weak-key", {"curve-not-allowed"}, "untrusted-issuer",
     "MBEDTLS_X509_BADCERT_BAD_KEY"},
    {"seed esp32 log + host", true,
     "I (100) MQTT_CLIENT: uri mqtts://test.mosquitto.org:8883\n" SEED_LOG, "weak-key", {NULL},
     NULL, "ISSUER's key"},
    /* ---- code arguments in every form ---- */
    {"-0x2700 alone", false, "-0x2700", "untrusted-issuer", {"missing-intermediate"}, NULL,
     "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"},
    {"-0x2700 with flags", false, "-0x2700\n0x10000", "weak-key", {NULL}, "untrusted-issuer",
     "0x10000 MBEDTLS_X509_BADCERT_BAD_KEY"},
    {"0x2700 unsigned", false, "0x2700", "untrusted-issuer", {NULL}, NULL,
     "also considered: as verify flags"},
    {"-9984 decimal", false, "-9984", "untrusted-issuer", {NULL}, NULL, "decimal -9984 = -0x2700"},
    {"2700 bare digits", false, "2700", "untrusted-issuer", {NULL}, NULL, "read as hex"},
    {"0x10008 flags", false, "0x10008", "weak-key", {"untrusted-issuer", "missing-intermediate"},
     NULL, "MBEDTLS_X509_BADCERT_NOT_TRUSTED"},
    {"65536 decimal flags", false, "65536", "weak-key", {NULL}, NULL, "BAD_KEY"},
    {"0x4000 bad md", false, "0x4000", "weak-signature-hash", {NULL}, NULL, "BAD_MD"},
    {"0x8008 esp-tls", false, "0x8008", "tls-on-plain-port", {NULL}, "untrusted-issuer",
     "ESP_ERR_ESP_TLS_TCP_CLOSED_FIN"},
    {"0x8015 crt parse", false, "0x8015", "pem-not-nul-terminated", {NULL}, NULL,
     "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED"},
    {"0x8001 dns", false, "0x8001", "dns-failure", {NULL}, NULL, "CANNOT_RESOLVE_HOSTNAME"},
    {"0x8010 renumbered", false, "0x8010", "pem-truncated", {"not-a-certificate"}, NULL,
     "ESP-IDF 4.0-4.2 the same number was ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED"},
    {"-0x21E2 composite", false, "-0x21E2", "pem-not-nul-terminated", {NULL}, NULL,
     "high-level -0x2180 + low-level -0x0062"},
    {"-0x3B80 password", false, "-0x3B80", "key-password-wrong", {NULL}, NULL, NULL},
    {"-0x3C00 no password", false, "-0x3C00", "key-password-required", {NULL}, NULL, NULL},
    {"-0x6800 timeout", false, "-0x6800", "handshake-timeout", {NULL}, NULL, NULL},
    {"alert 48", false, "alert 48", "client-ca-not-accepted", {"untrusted-issuer"}, NULL,
     "unknown_ca"},
    {"unknown_ca", false, "unknown_ca", "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"alert 116", false, "alert 116", "client-cert-missing", {NULL}, NULL, NULL},
    {"CONNACK 5", false, "5", "not-authorized", {NULL}, NULL, "NOT_AUTHORIZED"},
    {"CONNACK 2", false, "2", "client-id-rejected", {NULL}, NULL, NULL},
    {"reason 0x87", false, "0x87", "not-authorized", {NULL}, NULL, "Not authorized"},
    {"reason 0x86", false, "0x86", "bad-credentials", {NULL}, NULL, NULL},
    {"reason 0x85", false, "0x85", "client-id-rejected", {NULL}, NULL, NULL},
    {"reason 0x8C", false, "0x8C", "bad-credentials", {NULL}, NULL, NULL},
    {"reason 0x84", false, "0x84", "unsupported-protocol-version", {NULL}, NULL, NULL},
    {"reason 0x8E", false, "0x8E", "closed-after-connect", {NULL}, NULL, NULL},
    {"ECONNREFUSED", false, "ECONNREFUSED", "connection-refused", {NULL}, NULL, NULL},
    {"ETIMEDOUT", false, "ETIMEDOUT", "connect-timeout", {NULL}, NULL, NULL},
    {"symbolic mbedTLS name", false, "MBEDTLS_ERR_PK_PASSWORD_MISMATCH", "key-password-wrong",
     {NULL}, NULL, NULL},
    {"symbolic esp name", false, "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", "dns-failure",
     {NULL}, NULL, NULL},
    {"phrase argument", false, "ca md too weak", "weak-signature-hash", {NULL}, NULL, NULL},
    /* ---- ESP-IDF logs ---- */
    {"esp clock 1970", true,
     "E (5123) esp-tls-mbedtls: Failed to verify peer certificate!\n"
     "I (5123) esp-tls-mbedtls: verification info:   ! The certificate validity starts in the "
     "future\n",
     "clock-not-set", {"server-cert-not-yet-valid"}, NULL, "BADCERT_FUTURE"},
    {"esp cn mismatch", true,
     "I (900) esp-tls: verification info:   ! The certificate Common Name (CN) does not match "
     "with the expected CN\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"esp not trusted", true,
     "E (900) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\n"
     "I (900) esp-tls-mbedtls: verification info:   ! The certificate is not correctly signed "
     "by the trusted CA\n",
     "untrusted-issuer", {"missing-intermediate"}, NULL, "BADCERT_NOT_TRUSTED"},
    {"esp dns", true,
     "E (3031) esp-tls: couldn't get hostname for :broker.lan: getaddrinfo() returns 202, "
     "addrinfo=0x0\n",
     "dns-failure", {NULL}, NULL, NULL},
    {"esp select timeout", true, "E (10123) esp-tls: [sock=54] select() timeout\n",
     "connect-timeout", {NULL}, NULL, NULL},
    {"esp connack refused", true, "W (2345) MQTT_CLIENT: Connection refused, not authorized\n",
     "not-authorized", {NULL}, "connection-refused", NULL},
    {"esp mqtt error event", true,
     "E (4000) MQTT_EXAMPLE: Last error code reported from esp-tls: 0x8008\n"
     "E (4000) MQTT_EXAMPLE: Last tls stack error number: 0x0\n",
     "tls-on-plain-port", {NULL}, NULL, "TCP_CLOSED_FIN"},
    {"esp fatal alert 48", true,
     "E (700) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7780\n"
     "D (700) mbedtls: ssl_msg.c:4745 got an alert message, type: [2:48]\n",
     "client-ca-not-accepted", {"client-cert-rejected"}, NULL, "FATAL_ALERT"},
    {"esp errno newlib", true, "E (9000) esp-tls: Failed to connnect to host (errno 116)\n",
     "connect-timeout", {NULL}, NULL, "ETIMEDOUT"},
    /* ---- mosquitto_pub / mosquitto_sub ---- */
    {"mosquitto_pub verify failed", true,
     "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "Error: A TLS error occurred.\n",
     "untrusted-issuer", {NULL}, NULL, "SSL_R_CERTIFICATE_VERIFY_FAILED"},
    {"mosquitto_pub unknown ca", true,
     "OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca\n"
     "Error: A TLS error occurred.\n",
     "client-ca-not-accepted", {NULL}, NULL, "the BROKER rejected the client"},
    {"mosquitto_pub not authorised", true,
     "Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n",
     "not-authorized", {NULL}, "connection-refused", NULL},
    {"mosquitto_pub bad password", true,
     "Connection error: Connection Refused: bad user name or password.\n", "bad-credentials",
     {NULL}, "connection-refused", NULL},
    {"mosquitto_pub econnrefused", true, "Error: Connection refused\n", "connection-refused",
     {NULL}, NULL, NULL},
    /* The next four were captured from mosquitto_pub/mosquitto 2.0.11 on 127.0.0.1. */
    {"mosquitto_pub protocol error", true, "Error: Protocol error\n", "client-ca-not-accepted",
     {"client-cert-missing"}, "plain-on-tls-port", NULL},
    {"mosquitto_pub conn lost", true, "Error: The connection was lost.\n", "plain-on-tls-port",
     {"client-cert-missing", "closed-after-connect"}, NULL, NULL},
    {"mosquitto_pub v5 not authorized", true,
     "Connection error: Not authorized\n"
     "Error: A network protocol error occurred when communicating with the broker.\n",
     "not-authorized", {NULL}, "client-ca-not-accepted", NULL},
    {"broker plain on tls port", true,
     "1795824943: New connection from 127.0.0.1:46178 on port 57909.\n"
     "1795824943: OpenSSL Error[0]: error:0A00010B:SSL routines::wrong version number\n"
     "1795824943: Client <unknown> disconnected: Protocol error.\n",
     "plain-on-tls-port", {NULL}, "tls-on-plain-port", NULL},
    {"mosquitto_pub lookup", true, "Error: Unable to connect (Lookup error.).\n", "dns-failure",
     {NULL}, NULL, NULL},
    {"mosquitto_pub key mismatch", true, "Error: Client certificate/key are inconsistent.\n",
     "client-key-mismatch", {NULL}, NULL, NULL},
    {"mosquitto v5 refused", true,
     "Connection error: Unsupported Protocol Version. Try connecting to an MQTT v5 broker, or "
     "use MQTT v3.x mode.\n",
     "unsupported-protocol-version", {NULL}, NULL, NULL},
    /* ---- mosquitto broker log ---- */
    {"broker unknown ca", true,
     "1700000000: New connection from 192.168.1.20:50344 on port 8883.\n"
     "1700000000: OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca\n"
     "1700000000: Client <unknown> disconnected: Protocol error.\n",
     "untrusted-issuer", {"missing-intermediate"}, "client-ca-not-accepted",
     "the CLIENT sent it"},
    {"broker verify failed", true,
     "1700000000: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "1700000000: Client <unknown> disconnected: Protocol error.\n",
     "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"broker no client cert", true,
     "1700000000: OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not return a "
     "certificate\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    {"broker expired client", true,
     "1700000000: New connection from 10.0.0.5:4000 on port 8883.\n"
     "1700000000: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "1700000000: Client <unknown> disconnected: certificate has expired.\n",
     "client-cert-expired", {NULL}, "server-cert-expired", NULL},
    {"broker duplicate id", true,
     "1700000000: Client sensor-1 already connected, closing old connection.\n",
     "closed-after-connect", {NULL}, NULL, NULL},
    {"broker tls on plain", true,
     "1700000000: Client <unknown> disconnected due to protocol error.\n", "tls-on-plain-port",
     {NULL}, NULL, NULL},
    {"broker not authorised", true, "1700000000: Client dev7 disconnected, not authorised.\n",
     "not-authorized", {NULL}, NULL, NULL},
    /* ---- Paho C ---- */
    {"paho rc 5", true, "Failed to connect, return code 5\n", "not-authorized", {NULL}, NULL,
     NULL},
    {"paho rc -1", true, "Failed to connect, return code -1\n", NULL, {NULL}, NULL,
     "MQTTCLIENT_FAILURE"},
    {"paho sslsocket", true,
     "SSLSocket error error:0A000086:SSL routines::certificate verify failed(1) in SSL_connect "
     "for socket 3 rc -1 errno 0 Success\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {"paho alert read", true, "SSL alert read:fatal:certificate required\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    /* ---- OpenSSL texts ---- */
    {"openssl ca md too weak", true, "error:0A00018E:SSL routines::ca md too weak\n",
     "weak-signature-hash", {NULL}, NULL, NULL},
    {"openssl ee key too small", true, "error:0A00018F:SSL routines::ee key too small\n",
     "weak-client-key", {"weak-key"}, NULL, NULL},
    {"openssl handshake failure", true,
     "error:0A000410:SSL routines::sslv3 alert handshake failure\n", "client-cert-missing",
     {"no-shared-cipher"}, NULL, NULL},
    {"openssl wrong version", true, "error:0A00010B:SSL routines::wrong version number\n",
     "tls-on-plain-port", {NULL}, NULL, NULL},
    {"openssl expired", true, "verify error:num=10:certificate has expired\n",
     "server-cert-expired", {NULL}, NULL, NULL},
    {"openssl self-signed in chain", true,
     "verify error:num=19:self-signed certificate in certificate chain\n", "untrusted-issuer",
     {NULL}, "server-self-signed", NULL},
    {"openssl self signed leaf", true, "verify error:num=18:self signed certificate\n",
     "server-self-signed", {NULL}, "untrusted-issuer", NULL},
    {"openssl hostname mismatch", true, "Verify return code: 62 (Hostname mismatch)\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"openssl local issuer", true, "verify error:num=20:unable to get local issuer certificate\n",
     "untrusted-issuer", {"missing-intermediate"}, NULL, NULL},
    {"openssl tls13 cert required", true,
     "error:0A00045C:SSL routines::tlsv13 alert certificate required\n", "client-cert-missing",
     {NULL}, NULL, NULL},
    {"openssl no alpn", true, "error:0A000460:SSL routines::tlsv1 alert no application protocol\n",
     "alpn-required", {NULL}, NULL, NULL},
    {"openssl bad decrypt", true, "error:1C800064:Provider routines::bad decrypt\n",
     "key-password-wrong", {NULL}, NULL, NULL},
    {"openssl purpose", true, "verify error:num=26:unsupported certificate purpose\n",
     "server-eku-missing", {NULL}, NULL, NULL},
    {"openssl invalid ca", true, "verify error:num=24:invalid CA certificate\n", "issuer-not-ca",
     {NULL}, NULL, NULL},
    /* ---- ids findings.def added beyond the first 49 ---- */
    {"no route to host", true, "Error: No route to host\n", "network-unreachable", {NULL}, NULL,
     NULL},
    {"EHOSTUNREACH", false, "EHOSTUNREACH", "network-unreachable", {NULL}, NULL, NULL},
    {"reason 0x80", false, "0x80", "connack-refused", {NULL}, NULL, "Unspecified error"},
    {"alert 80", false, "alert 80", "tls-alert", {NULL}, NULL, "internal_error"},
    {"-0x7600 no key", false, "-0x7600", "client-key-missing", {NULL}, NULL, NULL},
    {"0x800 key usage", false, "0x800", "server-key-usage", {NULL}, NULL, "BADCERT_KEY_USAGE"},
    {"0x80 skip verify flag", false, "0x10080", "weak-key", {"insecure-mode"}, NULL, NULL},
    {"-0x3D00 not a key", false, "-0x3D00", "key-not-a-key", {"cert-and-key-swapped"}, NULL,
     NULL},
    {"broker client sha1", true,
     "1700000000: OpenSSL Error[0]: error:0A00018E:SSL routines::ca md too weak\n",
     "client-weak-signature-hash", {NULL}, "weak-signature-hash", NULL},
    {"openssl no start line", true, "error:0480006C:PEM routines::no start line\n", "der-not-pem",
     {NULL}, NULL, NULL},
    /* ---- mbedTLS codes in every spelling ---- */
    {"-0x glued to the next word", true, "! mbedtls_net_connect returned -0x52iot_tls_connect\n",
     "dns-failure", {NULL}, NULL, "MBEDTLS_ERR_NET_UNKNOWN_HOST"},
    {"-0x glued to a hex-looking word", true, "handshake returned -0x7f00failed\n",
     "out-of-memory", {NULL}, NULL, "-0x7F00"},
    {"decimal in a TLS line", true, "client CA: x509 parse failed: -8576\n",
     "pem-not-nul-terminated", {NULL}, NULL, "decimal -8576 = -0x2180"},
    {"hex without 0x in a TLS line", true, "mbedtls_ssl_handshake error: -2880\n",
     "out-of-memory", {NULL}, NULL, "MBEDTLS_ERR_X509_ALLOC_FAILED"},
    {"arduino decimal and strerror", true,
     "[E][ssl_client.cpp:36] _handle_error(): [start_ssl_client():201]: (-32512) SSL - Memory "
     "allocation failed\n",
     "out-of-memory", {NULL}, NULL, "-0x7F00"},
    {"strerror unknown code", true,
     "[E][ssl_client.cpp:36] _handle_error(): [data_to_read():287]: (-80) UNKNOWN ERROR CODE "
     "(0050)\n",
     "tls-on-plain-port", {"client-cert-rejected"}, NULL, "MBEDTLS_ERR_NET_CONN_RESET"},
    {"composite code, low part speaks", false, "-0x4290", "out-of-memory", {NULL}, NULL,
     "low-level -0x0010"},
    {"debug flags printed %08x", true,
     "ssl_tls.c:6342: ! Certificate verification flags 00010000\n",
     "weak-key", {NULL}, NULL, "BAD_KEY"},
    {"numbers that are not codes", true,
     "2023-10-27 18:16:42 rc -1 temperature -12.5 OSError: -202\n",
     "dns-failure", {NULL}, "pem-not-nul-terminated", NULL},
    /* ---- whose certificate: the writer and OpenSSL's function name steer the reading ---- */
    {"ee key too small: broker loads its own", true,
     "1664832137: Error: Unable to load server certificate \"server.crt\". Check certfile.\n"
     "1664832137: OpenSSL Error[0]: error:140AB18F:SSL routines:SSL_CTX_use_certificate:ee key "
     "too small\n",
     "server-key-too-small", {"file-unreadable"}, "weak-client-key", "broker's own"},
    {"ee key too small: broker log, OpenSSL 3", true,
     "1700000000: OpenSSL Error[0]: error:0A00018F:SSL routines::ee key too small\n",
     "server-key-too-small", {NULL}, "weak-client-key", NULL},
    {"ee key too small: client loads its own", true,
     "    context.load_cert_chain(certfile, keyfile, keyfile_password)\n"
     "ssl.SSLError: [SSL: EE_KEY_TOO_SMALL] ee key too small (_ssl.c:3900)\n",
     "weak-client-key", {NULL}, "server-key-too-small", NULL},
    {"ee key too small: client judges the server", true,
     "error:141A318A:SSL routines:tls_process_server_certificate:ee key too small\n", "weak-key",
     {NULL}, "weak-client-key", NULL},
    {"key values mismatch: broker", true,
     "1700000000: OpenSSL Error[0]: error:05800074:x509 certificate routines::key values "
     "mismatch\n",
     "server-key-mismatch", {NULL}, "client-key-mismatch", NULL},
    {"key values mismatch: client, snake case", true, "client certificate: KEY_VALUES_MISMATCH\n",
     "client-key-mismatch", {NULL}, "server-key-mismatch", NULL},
    {"server cert/key inconsistent", true, "Error: Server certificate/key are inconsistent.\n",
     "server-key-mismatch", {NULL}, NULL, NULL},
    /* ---- OpenSSL / BoringSSL UPPER_SNAKE reasons, TLS versions ---- */
    {"boringssl bad decrypt", true,
     "Error: error:1e000065:Cipher functions:OPENSSL_internal:BAD_DECRYPT\n",
     "key-password-wrong", {NULL}, NULL, NULL},
    {"bad password read", true,
     "Error: error:0907B068:PEM routines:PEM_READ_BIO_PRIVATEKEY:bad password read\n",
     "key-password-required", {NULL}, NULL, NULL},
    {"python protocol version alert", true,
     "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:727)\n",
     "tls-version-mismatch", {NULL}, "no-shared-cipher", NULL},
    {"broker unsupported protocol", true,
     "Oct 17 20:01:17 mqtt01 mosquitto[74183]: OpenSSL Error: error:14209102:SSL "
     "routines:tls_early_post_process_client_hello:unsupported protocol\n",
     "tls-version-mismatch", {NULL}, NULL, NULL},
    {"mbedTLS bad protocol version", false, "-0x6E80", "tls-version-mismatch", {NULL}, NULL, NULL},
    {"node wrong version", true,
     "Error: write EPROTO ...:error:1408F10B:SSL routines:ssl3_get_record:wrong version number\n",
     "tls-on-plain-port", {NULL}, NULL, NULL},
    /* ---- mosquitto broker and client, 1.x and 2.x ---- */
    {"mosquitto local only mode", true,
     "1663660085: mosquitto version 2.0.15 starting\n"
     "1663660085: Starting in local only mode. Connections will only be possible from clients "
     "running on this machine.\n",
     "broker-local-only", {NULL}, NULL, NULL},
    {"refused + loopback listener", true,
     "ConnectionRefusedError: [WinError 10061] No connection could be made because the target "
     "machine actively refused it\n127.0.0.1:1883         ComputerA        LISTENING\n",
     "broker-local-only", {"connection-refused"}, NULL, "WSAECONNREFUSED"},
    {"invalid protocol name", true,
     "1447361660: Invalid protocol \"MQTT\" in CONNECT from 10.0.1.146.\n",
     "protocol-name-mismatch", {"unsupported-protocol-version"}, NULL, NULL},
    {"MQTT with level 3", true, "Invalid protocol version 3 in CONNECT from 203.0.113.7.\n",
     "protocol-name-mismatch", {NULL}, NULL, NULL},
    {"MQTT 5 to an old broker", true, "Invalid protocol version 5 in CONNECT from 10.0.0.2\n",
     "unsupported-protocol-version", {NULL}, "protocol-name-mismatch", NULL},
    {"keep-alive 0 refused", true,
     "1666604114: New client connected from 10.3.17.135:53231 as picow (p2, c1, k0, u'test').\n"
     "1666604114: Bad socket read/write on client picow: Invalid arguments provided.\n",
     "keepalive-rejected", {NULL}, NULL, NULL},
    {"keep-alive 0 and CONNACK 2", true,
     "MQTTException: 2\n1639972796: New client connected from x as ESP1 (p2, c1, k0).\n",
     "keepalive-rejected", {"client-id-rejected"}, NULL, NULL},
    {"broker CONNACK 5 sent", true,
     "1599450411: New connection from 10.5.16.196 on port 1085.\n"
     "1599450411: Sending CONNACK to 10.5.16.196 (0, 5)\n",
     "not-authorized", {NULL}, NULL, NULL},
    {"mosquitto_pub without TLS to 8883", true,
     "$ mosquitto_pub -d -h broker -p 8883 -u u -P p -t t -m x\nError: The connection was lost.\n",
     "plain-on-tls-port", {NULL}, NULL, NULL},
    {"mosquitto_pub with TLS, lost", true,
     "$ mosquitto_pub -h broker -p 8883 --cafile ca.crt -t t -m x\nError: The connection was "
     "lost.\n",
     "client-cert-missing", {NULL}, "plain-on-tls-port", NULL},
    {"-0x7200 on a TLS port", true,
     "E (17826) aws_iot: failed! mbedtls_ssl_handshake returned -0x7200\n"
     "E (17866) subpub: Error(-4) connecting to a1b2.iot.us-west-2.amazonaws.com:8883\n",
     "tls-record-buffer-too-small", {"tls-on-plain-port"}, NULL, NULL},
    {"-0x7080: a handshake message split over records", true,
     "E (5432) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7080\n"
     "E (5438) esp-tls: Failed to open new connection\n"
     "E (5442) MQTT_CLIENT: Error transport connect\n",
     "handshake-fragmented", {NULL}, "handshake-reset", "MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE"},
    {"-0x7280 on port 1883", true,
     "I (3834) MQTTmbedtls: Connecting to 192.168.1.90:1883...\n"
     "E (3854) MQTTmbedtls: mbedtls_ssl_handshake returned -0x7280\n",
     "tls-on-plain-port", {NULL}, NULL, NULL},
    /* ---- ESP-IDF, Arduino, MicroPython ---- */
    {"esp no verification option", true,
     "E (64731) esp-tls-mbedtls: No server verification option set in esp_tls_cfg_t structure. "
     "Check esp_tls API reference\n",
     "no-verification-option", {NULL}, NULL, NULL},
    {"arduino start_ssl_client -1, no socket error", true,
     "[E][WiFiClientSecure.cpp:133] connect(): start_ssl_client: -1\n", "no-verification-option",
     {NULL}, NULL, NULL},
    {"arduino start_ssl_client -1 after a refusal", true,
     "[E][ssl_client.cpp:129] start_ssl_client(): connect on fd 48, errno: 111, \"Connection "
     "refused\"\n[E][WiFiClientSecure.cpp:133] connect(): start_ssl_client: -1\n",
     "connection-refused", {NULL}, "no-verification-option", NULL},
    {"PubSubClient state", true,
     "Attempting MQTT connection...failed, rc=-4 try again in 5 seconds\n",
     "closed-after-connect", {NULL}, NULL, "MQTT_CONNECTION_TIMEOUT"},
    {"BearSSL expired on a device", true, "client getLastSSLError = 54 // BR_ERR_X509_EXPIRED\n",
     "clock-not-set", {"server-cert-expired"}, NULL, NULL},
    {"BearSSL text", true, "Chain could not be linked to a trust anchor.\n", "untrusted-issuer",
     {NULL}, NULL, NULL},
    {"BearSSL received alert", true, "client getLastSSLError = 304\n", "client-ca-not-accepted",
     {NULL}, NULL, "unknown_ca"},
    {"micropython named code", true, "OSError: (-30592, 'MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE')\n",
     "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"errno name beats its number", true, "OSError: [Errno 113] ECONNABORTED\n",
     "closed-after-connect", {NULL}, "network-unreachable", NULL},
    /* ---- Paho C / Java, Python, Node, Go, .NET ---- */
    {"paho -14 with ssl://", true,
     "MQTTClient_create() return error(MQTTCLIENT_BAD_PROTOCOL:-14)\n#define ADDRESS "
     "\"ssl://host:8883\"\n",
     "library-without-tls", {NULL}, NULL, NULL},
    {"python without ssl", true, "ModuleNotFoundError: No module named '_ssl'\n",
     "library-without-tls", {NULL}, NULL, NULL},
    {"paho java pkix", true,
     "javax.net.ssl.SSLHandshakeException: PKIX path building failed: "
     "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid "
     "certification path to requested target\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {"java received alert", true,
     "javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_required\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    {"java no appropriate protocol", true,
     "MqttException (0) - javax.net.ssl.SSLHandshakeException: No appropriate protocol "
     "(protocol is disabled or cipher suites are inappropriate)\n",
     "tls-version-mismatch", {"no-shared-cipher"}, NULL, NULL},
    {"java key format", true,
     "java.lang.ClassCastException: org.bouncycastle.asn1.pkcs.PrivateKeyInfo cannot be cast to "
     "org.bouncycastle.openssl.PEMKeyPair\n",
     "key-format-unsupported", {NULL}, NULL, NULL},
    {"hivemq reason name", true,
     "Mqtt5ConnAckException: CONNECT failed as CONNACK contained an Error Code: NOT_AUTHORIZED\n",
     "not-authorized", {NULL}, NULL, NULL},
    {"python connack result code", true, "Connected with result code 4\n", "bad-credentials",
     {NULL}, NULL, NULL},
    {"disconnect rc is not a CONNACK", true,
     "mqttCore - DEBUG - Disconnect result code 1\nmqttCore - ERROR- connect timeout.\n",
     "closed-after-connect", {NULL}, "unsupported-protocol-version", NULL},
    {"node altname", true,
     "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: "
     "10.0.1.6 is not in the cert's list:\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"node self signed in chain code", true, "code: 'SELF_SIGNED_CERT_IN_CHAIN'\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {"node enotfound", true, "Error: getaddrinfo ENOTFOUND broker.lan\n", "dns-failure", {NULL},
     NULL, NULL},
    {"mqtt.js not authorized", true,
     "Error: Connection refused: Not authorized\n", "not-authorized",
     {NULL}, "connection-refused", NULL},
    {"go unknown authority", true,
     "network Error : x509: certificate signed by unknown authority\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {"go names", true, "x509: certificate is valid for broker.local, not 192.168.1.5\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"go not yet valid", true,
     "x509: certificate has expired or is not yet valid: current time 1970-01-01T00:00:10Z is "
     "before 2023-02-01T00:00:00Z\n",
     "clock-not-set", {"server-cert-not-yet-valid"}, NULL, NULL},
    {"go remote alert", true, "remote error: tls: unknown certificate authority\n",
     "client-ca-not-accepted", {NULL}, NULL, "unknown_ca"},
    {"go local alert", true, "local error: tls: bad certificate\n", "untrusted-issuer", {NULL},
     "client-cert-rejected", NULL},
    {".NET partial chain", true,
     "The remote certificate is invalid because of errors in the certificate chain: PartialChain\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {".NET name mismatch", true,
     "The remote certificate is invalid according to the validation procedure: "
     "RemoteCertificateNameMismatch\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"MQTTnet result code", true,
     "MqttConnectingFailedException: Connecting with MQTT server failed "
     "(BadUserNameOrPassword).\n",
     "bad-credentials", {NULL}, NULL, NULL},
    {".NET alert", true,
     "Authentication failed because the remote party sent a TLS alert: 'HandshakeFailure'.\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    /* ---- Erlang/OTP brokers: CLIENT ALERT = the client sent it ---- */
    {"erlang client alert", true,
     "{ssl_error,{tls_alert,{unknown_ca,\"TLS server: In state certify received CLIENT ALERT: "
     "Fatal - Unknown CA\\n\"}}}\n",
     "untrusted-issuer", {NULL}, "client-ca-not-accepted", NULL},
    {"erlang server alert", true,
     "{ssl_error,{tls_alert,{unknown_ca,\"TLS server: In state certify at ssl_handshake.erl:1885 "
     "generated SERVER ALERT: Fatal - Unknown CA\\n\"}}}\n",
     "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"erlang no suitable ciphers", true,
     "generated SERVER ALERT: Fatal - Insufficient Security - no_suitable_ciphers\n",
     "no-shared-cipher", {NULL}, NULL, NULL},
    /* OTP before 21: the alert's file:line says who made it (ssl_alert.erl = received) */
    {"erlang old received alert", true,
     "SSL: certify: ssl_alert.erl:93:Fatal error: unknown ca\n",
     "untrusted-issuer", {NULL}, "client-ca-not-accepted", NULL},
    {"erlang old own alert", true,
     "SSL: certify: ssl_handshake.erl:1626:Fatal error: unknown ca\n",
     "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"erlang old error tuple", true,
     "crashed with reason: {ssl_error,{tls_alert,\"unknown ca\"}} in esockd_connection:upgrade/1\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    /* ---- a reset by the peer without a TLS alert: handshake-reset first, the port wins ---- */
    {"bare reset", true, "Connection reset by peer\n", "handshake-reset",
     {"tls-on-plain-port", "client-cert-rejected"}, NULL, "ECONNRESET"},
    {"rust io reset", true,
     "IoFailure(Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" })\n",
     "handshake-reset", {"client-cert-rejected"}, NULL, NULL},
    {"windows 10054 reset", true,
     "An existing connection was forcibly closed by the remote host.\n", "handshake-reset",
     {"tls-on-plain-port"}, NULL, "WSAECONNRESET"},
    {"java reset", true, "java.net.SocketException: Connection reset\n", "handshake-reset",
     {"tls-on-plain-port"}, NULL, NULL},
    {"reset from port 1883", true,
     "I (100) MQTT_CLIENT: uri mqtts://192.168.1.5:1883\n"
     "E (200) esp-tls: read: Connection reset by peer\n",
     "tls-on-plain-port", {"handshake-reset"}, NULL, NULL},
    {"paho golang tls13 nil error", true, "Network Error : %!s(<nil>)\n", "handshake-reset",
     {"client-cert-rejected"}, NULL, "paho.mqtt.golang"},
    /* ---- pinning failures of other clients ---- */
    {"okhttp pinning", true,
     "javax.net.ssl.SSLPeerUnverifiedException: Certificate pinning failure!\n"
     "  Peer certificate chain:\n"
     "    sha256/J2Rs/XhqmFqx7ihj0wVdUwVKMp9txlbWZCUK6zdaylg=: CN=broker.example.com\n"
     "  Pinned certificates for broker.example.com:\n"
     "    sha256/NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg=\n",
     "pin-mismatch", {NULL}, "untrusted-issuer", "CertificatePinner"},
    {"node pinned fingerprint", true,
     "Error: Certificate verification error: The public key of 'broker.example.com' does not "
     "match our pinned fingerprint\n", "pin-mismatch", {NULL}, NULL, "checkServerIdentity"},
    {"musl resolver", true, "MQTT error [Errno -2] Name does not resolve, reconnecting\n",
     "dns-failure", {NULL}, NULL, NULL},
    /* ---- AWS, Azure ---- */
    {"aws hang-up", true,
     "CrtError: Failed to connect: libaws-c-mqtt: AWS_ERROR_MQTT_UNEXPECTED_HANGUP\n",
     "closed-after-connect", {NULL}, NULL, NULL},
    {"aws mosquitto_pub lost", true,
     "$ mosquitto_pub -h a1b2-ats.iot.eu-west-1.amazonaws.com -p 8883 --cafile root.pem --cert "
     "d.crt --key d.key -t t -m x\nError: The connection was lost.\n",
     "closed-after-connect", {NULL}, "plain-on-tls-port", NULL},
    {"azure bad credential", true, "IOTHUB_CLIENT_CONNECTION_BAD_CREDENTIAL\n", "not-authorized",
     {"bad-credentials"}, NULL, NULL},
    {"azure connack", true,
     "Func:mqtt_operation_complete_callback Line:198 Connection Not Accepted: 0x5: Not "
     "Authorized\n",
     "not-authorized", {NULL}, NULL, NULL},
};
/* clang-format on */

/* ------------------------------------------------------------------ helpers */

static mqtls_explain_t *run_input(const explain_case_t *c)
{
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    if (c->is_log) {
        assert_int_equal(mqtls_explain_text(r, c->input, strlen(c->input)), MQTLS_OK);
    } else {
        char buf[256];
        (void)snprintf(buf, sizeof buf, "%s", c->input);
        char *line = buf;
        while (line != NULL) {
            char *nl = strchr(line, '\n');
            if (nl != NULL) {
                *nl = '\0';
            }
            assert_int_equal(mqtls_explain_arg(r, line), MQTLS_OK);
            line = nl != NULL ? nl + 1 : NULL;
        }
    }
    mqtls_explain_finish(r);
    return r;
}

static bool has_cause(const mqtls_explain_t *r, const char *id)
{
    for (size_t i = 0; i < r->cause_count; i++) {
        if (strcmp(r->causes[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

static bool inputs_mention(const mqtls_explain_t *r, const char *text)
{
    for (size_t i = 0; i < r->input_count; i++) {
        if (strstr(r->inputs[i].text, text) != NULL || strstr(r->inputs[i].meaning, text) != NULL) {
            return true;
        }
    }
    return false;
}

static void print_result(const explain_case_t *c, const mqtls_explain_t *r)
{
    print_message("case '%s':\n", c->name);
    for (size_t i = 0; i < r->input_count; i++) {
        print_message("  input [%s] %s\n", r->inputs[i].kind, r->inputs[i].text);
    }
    for (size_t i = 0; i < r->cause_count; i++) {
        print_message("  cause %d %s\n", r->causes[i].score, r->causes[i].id);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_explain_table_cases_give_expected_ids(void **state)
{
    (void)state;
    assert_true(ARRAY_LEN(cases) >= 30);
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        const explain_case_t *c = &cases[k];
        mqtls_explain_t *r = run_input(c);
        bool ok = mqtls_explain_recognised(r);
        if (c->top != NULL) {
            ok = ok && r->cause_count > 0 && strcmp(r->causes[0].id, c->top) == 0;
        } else {
            ok = ok && r->cause_count == 0;
        }
        for (size_t i = 0; i < ARRAY_LEN(c->ids) && c->ids[i] != NULL; i++) {
            ok = ok && has_cause(r, c->ids[i]);
        }
        if (c->absent != NULL) {
            ok = ok && !has_cause(r, c->absent);
        }
        if (c->input_contains != NULL) {
            ok = ok && inputs_mention(r, c->input_contains);
        }
        for (size_t i = 0; i < r->cause_count; i++) {
            ok = ok && mqtls_finding_title(r->causes[i].id) != NULL && r->causes[i].fix != NULL &&
                 r->causes[i].evidence[0] != '\0';
        }
        if (!ok) {
            print_result(c, r);
        }
        free(r);
        assert_true(ok);
    }
}

static void test_explain_seed_names_bad_key_and_test_mosquitto_ca(void **state)
{
    (void)state;
    const explain_case_t *plain = &cases[0];
    const explain_case_t *with_host = &cases[1];
    mqtls_explain_t *r = run_input(plain);
    assert_string_equal(r->causes[0].id, "weak-key");
    assert_true((r->verify_flags & 0x10000u) != 0);
    assert_string_equal(r->causes[0].note, ""); /* no host in the log: no mosquitto story */
    free(r);

    r = run_input(with_host);
    assert_string_equal(r->causes[0].id, "weak-key");
    assert_true(r->saw_test_mosquitto);
    assert_non_null(strstr(r->causes[0].note, "2020-06-09"));
    assert_non_null(strstr(r->causes[0].note, "RSA-1024"));
    assert_non_null(strstr(r->causes[0].note, "https://test.mosquitto.org/ssl/mosquitto.org.crt"));
    assert_non_null(strstr(r->causes[0].evidence, "BAD_KEY"));
    free(r);
}

static void test_explain_every_verify_info_text_maps_to_its_flag(void **state)
{
    (void)state;
    /* Feed what the LINKED mbedTLS prints for each BADCERT bit; expect exactly that bit. */
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        const flag_entry_t *f = &verify_flags_tab[i];
        char info[512];
        char log[600];
        char text[160];
        int n = mbedtls_x509_crt_verify_info(info, sizeof info, "  ! ", f->bit);
        assert_true(n > 0);
        /* explain shows the library's own text for every bit of its table */
        assert_true(mqtls__explain_verify_text(f->bit, text, sizeof text));
        assert_non_null(strstr(info, text));
        assert_null(strchr(text, '\n'));
        if (strstr(f->name, "BADCRL") != NULL) {
            continue; /* CRL texts are recognised as text only; they have no cause */
        }
        (void)snprintf(log, sizeof log, "I (1) esp-tls: verification info: %s", info);
        mqtls_explain_t *r = malloc(sizeof *r);
        assert_non_null(r);
        mqtls__explain_init(r);
        assert_int_equal(mqtls_explain_text(r, log, strlen(log)), MQTLS_OK);
        mqtls_explain_finish(r);
        if (r->verify_flags != f->bit) {
            print_message("flag %s: got 0x%x\n", f->name, (unsigned)r->verify_flags);
        }
        assert_int_equal(r->verify_flags, f->bit);
        free(r);
    }
}

static void test_explain_tables_only_reference_catalogue_ids(void **state)
{
    (void)state;
#define CHECK_W(arr)                                                                               \
    for (size_t j = 0; j < ARRAY_LEN(arr) && (arr)[j].w > 0; j++) {                                \
        assert_non_null(mqtls__finding_def((arr)[j].id));                                          \
    }
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        CHECK_W(mbed_codes[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        CHECK_W(verify_flags_tab[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(esp_codes); i++) {
        CHECK_W(esp_codes[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        CHECK_W(alerts[i].recv);
        CHECK_W(alerts[i].sent);
        /* named by src/common/tls_alert.h, listed once */
        assert_string_not_equal(mqtls_tls_alert_name(alerts[i].num), "unknown alert");
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(alerts[i].num, alerts[j].num);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(connack311); i++) {
        CHECK_W(connack311[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(reason5); i++) {
        CHECK_W(reason5[i].to);
        /* a reason code of src/packet/names.c */
        assert_int_not_equal(mqtls__reason_packets(reason5[i].code), 0);
        assert_true(reason5[i].code >= 0x80);
    }
    for (size_t i = 0; i < ARRAY_LEN(paho_rc); i++) {
        CHECK_W(paho_rc[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        CHECK_W(errnos[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(phrases); i++) {
        CHECK_W(phrases[i].to);
        CHECK_W(phrases[i].broker);
        for (const char *p = phrases[i].needle; *p != '\0'; p++) {
            assert_false(*p >= 'A' && *p <= 'Z'); /* needles are matched against lowercase */
        }
    }
#undef CHECK_W
    assert_true(ARRAY_LEN(broker_markers) > 0 && ARRAY_LEN(esp_markers) > 0);
    /* catalogue: one entry per finding of findings.def (keyed by its enum), every field
     * filled: a finding without its explanation is a hole here */
    assert_int_equal(ARRAY_LEN(catalogue), MQTLS__F_COUNT);
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        const mqtls__finding_def_t *d = mqtls__finding_def((mqtls__finding_id_t)i);
        assert_non_null(d);
        if (catalogue[i].explanation == NULL || catalogue[i].fix == NULL) {
            print_message("explain_catalogue.h lacks %s\n", d->id);
        }
        assert_non_null(catalogue[i].fix);
        assert_non_null(catalogue[i].explanation);
        assert_true(strlen(catalogue[i].explanation) > 20);
        for (size_t j = i + 1; j < ARRAY_LEN(catalogue); j++) {
            assert_string_not_equal(d->id, mqtls__finding_def((mqtls__finding_id_t)j)->id);
        }
    }
    assert_null(mqtls__finding_def(MQTLS__F_COUNT));
    assert_null(mqtls_finding_title("no-such-id"));
}

/* The fixes `mqtls explain` prints keep DESIGN.md's rule as doctor's do (tests/unit/diag
 * fix_is_unsafe): they never overwrite, move or delete a file the user has. No `--force`
 * (`mqtls pki ... --force` replaces DIR/server.* or DIR/<client>.*), no rm/mv, and a command
 * that writes a file checks first that it is new ("test ! -e F && ..."); a re-issue goes to a
 * new folder ("mkdir" fails if it exists). Comment lines ("# ...") are not commands. */
static void test_explain_catalogue_fixes_never_overwrite(void **state)
{
    (void)state;
    static const char *const never[] = {"--force", "rm -", "rm '", "mv ", "cp -a", ">>"};
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        const char *id = mqtls__finding_def((mqtls__finding_id_t)i)->id;
        const char *fix = catalogue[i].fix;
        for (size_t k = 0; k < ARRAY_LEN(never); k++) {
            if (strstr(fix, never[k]) != NULL) {
                print_message("%s: the explain fix has '%s'\n", id, never[k]);
            }
            assert_null(strstr(fix, never[k]));
        }
        for (const char *line = fix; *line != '\0';) {
            size_t n = strcspn(line, "\n");
            char cmd[600];
            snprintf(cmd, sizeof cmd, "%.*s", (int)n, line);
            char *comment = strstr(cmd, "   #"); /* what follows is a remark */
            if (comment != NULL) {
                *comment = '\0';
            }
            bool is_cmd = cmd[0] != '#' && strncmp(cmd, "/*", 2) != 0;
            bool writes = strstr(cmd, " > ") != NULL || strstr(cmd, " -out ") != NULL;
            bool reissue = strstr(cmd, "mqtls pki server ") != NULL ||
                           strstr(cmd, "mqtls pki client ") != NULL;
            if (is_cmd && writes && strncmp(cmd, "test ! -e ", 10) != 0) {
                print_message("%s: '%s' writes a file without checking it is new\n", id, cmd);
                fail();
            }
            /* `mqtls pki init pki && mqtls pki server pki`: init refuses an existing CA, so
             * the server step only runs in a new folder; any other re-issue makes its folder */
            if (is_cmd && reissue && strstr(cmd, "mkdir ") == NULL &&
                strstr(cmd, "mqtls pki init ") == NULL) {
                print_message("%s: '%s' re-issues into a folder it did not make\n", id, cmd);
                fail();
            }
            line += n + (line[n] == '\n');
        }
    }
    /* the ip-san fix: the IP as a dNSName too (old mbedTLS matches only those), new folder */
    assert_non_null(strstr(catalogue[MQTLS__F_IP_SAN_OLD_MBEDTLS].fix,
                           "mkdir pki-new && ln -s ../pki/ca.crt ../pki/ca.key pki-new/ && mqtls "
                           "pki server pki-new --name HOST --ip 192.0.2.10 --dns 192.0.2.10"));
}

/* The other ecosystems' tables (explain_phrases_apps.h, explain_vocab.h, explain_rules.h): only
 * catalogue ids, lowercase needles, each code and name listed once, every WinSock code naming
 * an errno explain knows, every Go alert text distinct. */
static void test_explain_vocabulary_tables_are_consistent(void **state)
{
    (void)state;
#define CHECK_W(arr)                                                                               \
    for (size_t j = 0; j < ARRAY_LEN(arr) && (arr)[j].w > 0; j++) {                                \
        assert_non_null(mqtls__finding_def((arr)[j].id));                                          \
    }
    for (size_t i = 0; i < ARRAY_LEN(phrases_apps); i++) {
        CHECK_W(phrases_apps[i].to);
        CHECK_W(phrases_apps[i].broker);
        for (const char *p = phrases_apps[i].needle; *p != '\0'; p++) {
            assert_false(*p >= 'A' && *p <= 'Z');
        }
        for (size_t j = 0; j < ARRAY_LEN(phrases); j++) {
            assert_string_not_equal(phrases_apps[i].needle, phrases[j].needle);
        }
        if (phrases_apps[i].special & PH_SERVER_OWN) {
            assert_non_null(mqtls__finding_def((mqtls__finding_id_t)phrases_apps[i].arg));
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(phrases); i++) {
        if (phrases[i].special & PH_SERVER_OWN) {
            assert_non_null(mqtls__finding_def((mqtls__finding_id_t)phrases[i].arg));
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(bearssl_codes); i++) {
        CHECK_W(bearssl_codes[i].to);
        for (const char *p = bearssl_codes[i].text; *p != '\0'; p++) {
            assert_false(*p >= 'A' && *p <= 'Z');
        }
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(bearssl_codes[i].code, bearssl_codes[j].code);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(pubsub_states); i++) {
        CHECK_W(pubsub_states[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(sdk_symbols); i++) {
        CHECK_W(sdk_symbols[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(winsock_codes); i++) {
        bool known = false;
        for (size_t j = 0; j < ARRAY_LEN(errnos); j++) {
            known = known || strcmp(errnos[j].name, winsock_codes[i].errno_name) == 0;
        }
        assert_true(known);
    }
    for (size_t i = 0; i < ARRAY_LEN(clue_rules); i++) {
        assert_non_null(mqtls__finding_def(clue_rules[i].id));
        assert_true(clue_rules[i].all != 0);
        assert_true((clue_rules[i].all & clue_rules[i].none) == 0);
        assert_true(clue_rules[i].if_cause == ANY_CAUSE ||
                    mqtls__finding_def(clue_rules[i].if_cause) != NULL);
        assert_true(clue_rules[i].w > 0 || clue_rules[i].if_cause != ANY_CAUSE);
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        for (size_t j = 0; alerts[i].go != NULL && j < i; j++) {
            assert_true(alerts[j].go == NULL || strcmp(alerts[i].go, alerts[j].go) != 0);
        }
    }
#undef CHECK_W
}

/* doctor (src/diag, on a live failure) and explain (on what the client printed for it) name
 * the new causes with the same id. */
static void test_explain_and_diag_agree_on_live_failures(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        int alert;        /* received, or -1 */
        int mbedtls_ret;  /* or 0 */
        const char *what; /* what the client prints for it, for explain */
    } live[] = {
        {"tls-version-mismatch", MQTLS__ALERT_PROTOCOL_VERSION, 0, "alert 70"},
        {"tls-version-mismatch", -1, -0x6E80, "-0x6E80"},
        {"out-of-memory", -1, -0x7F00, "-0x7F00"},
        {"out-of-memory", -1, -0x2880, "-0x2880"},
    };
    for (size_t i = 0; i < ARRAY_LEN(live); i++) {
        mqtls_error_t err;
        mqtls_error_init(&err);
        err.layer = MQTLS_LAYER_TLS;
        err.status = live[i].alert >= 0 ? MQTLS_ERR_TLS_ALERT : MQTLS_ERR_TLS_HANDSHAKE;
        err.mbedtls_ret = live[i].mbedtls_ret;
        err.tls_alert = (int16_t)live[i].alert;
        mqtls_tls_facts_t facts;
        mqtls__tls_facts_init(&facts);
        facts.alert_received = live[i].alert;
        facts.handshake_ret = live[i].mbedtls_ret;
        mqtls_diag_input_t in;
        mqtls_diag_input_init(&in);
        in.now_s = 1700000000;
        in.host = "broker.test";
        in.port = 8883;
        in.err = &err;
        in.facts = &facts;
        mqtls_findings_t *f = NULL;
        assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
        assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
        assert_true(mqtls_findings_count(f) > 0);
        const char *diag_id = mqtls_finding_id(mqtls_findings_get(f, 0));
        if (strcmp(diag_id, live[i].id) != 0) {
            print_message("diag case %zu: %s, expected %s\n", i, diag_id, live[i].id);
        }
        assert_string_equal(diag_id, live[i].id);
        mqtls_findings_destroy(f);
        mqtls__tls_facts_free(&facts);

        mqtls_explain_t *r = malloc(sizeof *r);
        assert_non_null(r);
        mqtls__explain_init(r);
        assert_int_equal(mqtls_explain_arg(r, live[i].what), MQTLS_OK);
        mqtls_explain_finish(r);
        assert_true(r->cause_count > 0);
        assert_string_equal(r->causes[0].id, live[i].id);
        free(r);
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1u << 20;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, cap, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_explain_every_id_has_a_troubleshooting_section(void **state)
{
    (void)state;
    size_t len = 0;
    char *doc = slurp(MQTLS_DOCS_DIR "/troubleshooting.md", &len);
    assert_non_null(doc);
    for (size_t i = 0; i < MQTLS__F_COUNT; i++) {
        const char *id = mqtls__finding_def((mqtls__finding_id_t)i)->id;
        char heading[96];
        (void)snprintf(heading, sizeof heading, "\n## %s\n", id);
        if (strstr(doc, heading) == NULL) {
            print_message("docs/troubleshooting.md lacks '## %s'\n", id);
        }
        assert_non_null(strstr(doc, heading));
    }
    free(doc);
}

/* The table "By client, library and broker" of docs/troubleshooting.md says which id explain
 * puts first for each message: feed every message to the engine and check it. */
static void test_explain_troubleshooting_vocabulary_table_is_true(void **state)
{
    (void)state;
    size_t len = 0;
    char *doc = slurp(MQTLS_DOCS_DIR "/troubleshooting.md", &len);
    assert_non_null(doc);
    char *p = strstr(doc, "\n### By client, library and broker\n");
    assert_non_null(p);
    char *end = strstr(p + 1, "\n### ");
    assert_non_null(end);
    *end = '\0';
    size_t rows = 0;
    for (char *line = strstr(p, "\n| "); line != NULL; line = strstr(line + 1, "\n| ")) {
        /* | printed by | `message` | `id`, `id` | note | */
        char *msg = strchr(line + 3, '|');
        msg = msg != NULL ? strchr(msg, '`') : NULL;
        char *msg_end = msg != NULL ? strchr(msg + 1, '`') : NULL;
        char *id = msg_end != NULL ? strchr(msg_end + 1, '`') : NULL;
        char *id_end = id != NULL ? strchr(id + 1, '`') : NULL;
        if (id_end == NULL) {
            continue; /* the header and separator rows */
        }
        *msg_end = '\0';
        *id_end = '\0';
        mqtls_explain_t *r = NULL;
        assert_int_equal(mqtls_explain_create(&r), MQTLS_OK);
        assert_int_equal(mqtls_explain_text(r, msg + 1, strlen(msg + 1)), MQTLS_OK);
        mqtls_explain_finish(r);
        bool ok = r->cause_count > 0 && strcmp(r->causes[0].id, id + 1) == 0;
        if (!ok) {
            print_message("troubleshooting.md: '%s' -> %s, the table says %s\n", msg + 1,
                          r->cause_count > 0 ? r->causes[0].id : "(nothing)", id + 1);
        }
        assert_true(ok);
        mqtls_explain_destroy(r);
        *msg_end = '`';
        *id_end = '`';
        rows++;
    }
    assert_true(rows >= 40);
    free(doc);
}

/* src/diag/findings.def is the contract: every id explain explains is defined there (the
 * catalogue is keyed by its enum and explain_catalogue.h's _Static_assert makes the counts
 * equal, so the reverse holds too). */
static void test_explain_ids_match_findings_def(void **state)
{
    (void)state;
    size_t len = 0;
    char *def = slurp(MQTLS_FINDINGS_DEF, &len);
    assert_non_null(def); /* the contract; findings.h compiles it in, so it must exist */
    assert_true(ARRAY_LEN(catalogue) >= 49);
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        char quoted[96];
        (void)snprintf(quoted, sizeof quoted, "\"%s\"",
                       mqtls__finding_def((mqtls__finding_id_t)i)->id);
        if (strstr(def, quoted) == NULL) {
            print_message("findings.def lacks %s\n", quoted);
        }
        assert_non_null(strstr(def, quoted));
    }
    free(def);
}

/* xorshift32: deterministic "random" bytes, so a failure reproduces. */
static uint32_t rng(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void test_explain_garbage_is_not_recognised_and_never_crashes(void **state)
{
    (void)state;
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    static const char *const words[] = {
        "",     "   ",   "hello world", "0x",        "-",           "--",
        "0xZZ", "12abc", "alert",       "alert 999", "-0x99999999", "lorem ipsum dolor sit amet"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        mqtls__explain_init(r);
        assert_int_equal(mqtls_explain_arg(r, words[i]), MQTLS_ERR_NOT_SUPPORTED);
        mqtls_explain_finish(r);
        assert_false(mqtls_explain_recognised(r));
        assert_int_equal(r->cause_count, 0);
    }
    /* Random bytes, NULs included: must not crash (ASan/UBSan run checks the memory). */
    size_t n = 256u * 1024u;
    char *buf = malloc(n);
    assert_non_null(buf);
    uint32_t seed = 0x12345678u;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)(rng(&seed) & 0xFFu);
        }
        mqtls__explain_init(r);
        (void)mqtls_explain_text(r, buf, n);
        mqtls_explain_finish(r);
        assert_true(r->input_count <= MQTLS__EXPLAIN_MAX_INPUTS);
        assert_true(r->cause_count <= MQTLS__EXPLAIN_MAX_CAUSES);
    }
    /* Printable random text without any known phrase is not recognised. */
    for (size_t i = 0; i < n; i++) {
        buf[i] = (char)('g' + (int)(rng(&seed) % 20u)); /* g..z: no hex digit, no phrase */
        if (rng(&seed) % 50u == 0) {
            buf[i] = (rng(&seed) & 1u) ? ' ' : '\n';
        }
    }
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(r);
    assert_false(mqtls_explain_recognised(r));
    free(buf);
    free(r);
}

static void test_explain_one_mib_line_is_scanned_to_the_end(void **state)
{
    (void)state;
    size_t n = 1024u * 1024u;
    char *buf = malloc(n + 64);
    assert_non_null(buf);
    memset(buf, 'A', n);
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(r);
    assert_false(mqtls_explain_recognised(r));
    /* The same line with a code at its very end, and one straddling a window boundary. */
    static const char tail[] = " mbedtls_ssl_handshake returned -0x7200";
    memcpy(buf + n - (sizeof tail - 1), tail, sizeof tail - 1);
    memcpy(buf + 2048 - 10, "ca md too weak", 14);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_OK);
    mqtls_explain_finish(r);
    assert_true(has_cause(r, "tls-on-plain-port"));
    assert_true(has_cause(r, "weak-signature-hash"));
    /* A line repeated many times counts once. */
    static const char rep[] = "Error: Connection refused\n";
    size_t reps = n / (sizeof rep - 1);
    for (size_t i = 0; i < reps; i++) {
        memcpy(buf + i * (sizeof rep - 1), rep, sizeof rep - 1);
    }
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, reps * (sizeof rep - 1)), MQTLS_OK);
    mqtls_explain_finish(r);
    assert_int_equal(r->input_count, 1);
    assert_int_equal(r->cause_count, 1);
    assert_int_equal(r->causes[0].score, 4);
    free(buf);
    free(r);
}

static void test_explain_api_rejects_bad_arguments(void **state)
{
    (void)state;
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_arg(NULL, "5"), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_arg(r, NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_text(r, NULL, 3), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_text(r, NULL, 0), MQTLS_ERR_NOT_SUPPORTED);
    assert_int_equal(mqtls_explain_arg(r, "nonsense"), MQTLS_ERR_NOT_SUPPORTED);
    assert_int_equal(r->unparsed_count, 1);
    assert_string_equal(r->unparsed[0], "nonsense");
    mqtls_explain_finish(r);
    assert_int_equal(mqtls_explain_arg(r, "5"), MQTLS_ERR_INVALID_ARG); /* after finish */
    mqtls_explain_finish(NULL);
    assert_false(mqtls_explain_recognised(NULL));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_table_cases_give_expected_ids),
        cmocka_unit_test(test_explain_seed_names_bad_key_and_test_mosquitto_ca),
        cmocka_unit_test(test_explain_every_verify_info_text_maps_to_its_flag),
        cmocka_unit_test(test_explain_tables_only_reference_catalogue_ids),
        cmocka_unit_test(test_explain_vocabulary_tables_are_consistent),
        cmocka_unit_test(test_explain_and_diag_agree_on_live_failures),
        cmocka_unit_test(test_explain_catalogue_fixes_never_overwrite),
        cmocka_unit_test(test_explain_every_id_has_a_troubleshooting_section),
        cmocka_unit_test(test_explain_troubleshooting_vocabulary_table_is_true),
        cmocka_unit_test(test_explain_ids_match_findings_def),
        cmocka_unit_test(test_explain_garbage_is_not_recognised_and_never_crashes),
        cmocka_unit_test(test_explain_one_mib_line_is_scanned_to_the_end),
        cmocka_unit_test(test_explain_api_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
