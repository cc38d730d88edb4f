/* Context rules of mqtls explain: what a message means can depend on the rest of the input.
 * Each rule is a general statement about how MQTT clients and brokers behave, applied once
 * all input is in (mqtls_explain_finish): when every clue in `all` was seen, none in `none`,
 * and the cause `if_cause` was found (MQTLS__F_COUNT: no condition), cause `id` gains `w`
 * (added if absent), or loses -`w` when `w` is negative (it stays listed, at 1 at least), or
 * is removed when `w` is 0 (the input rules it out). `why` becomes evidence for a gain.
 * Clues are set while scanning (explain_scan.c; CLUE_* in explain_internal.h).
 *
 * Included by explain_rules.c (and the unit test) only. */
#ifndef MQTLS_EXPLAIN_RULES_H
#define MQTLS_EXPLAIN_RULES_H

#include <stdint.h>

#include "explain_internal.h"

typedef struct clue_rule {
    uint32_t all;
    uint32_t none;
    mqtls__finding_id_t if_cause;
    mqtls__finding_id_t id;
    int w;
    const char *why;
} clue_rule_t;

#define ANY_CAUSE MQTLS__F_COUNT
#define F(sym) MQTLS__F_##sym

/* clang-format off */
static const clue_rule_t clue_rules[] = {
    /* mosquitto >= 2.0.12 applies max_keepalive to 3.1.1 clients: keep-alive 0 gets CONNACK 2
     * and "Invalid arguments provided", whatever the client id. */
    {CLUE_KEEPALIVE_ZERO | CLUE_INVALID_ARGS, 0, ANY_CAUSE, F(KEEPALIVE_REJECTED), 6,
     "keep-alive 0 in the CONNECT, then 'Invalid arguments provided' (mosquitto >= 2.0.12)"},
    {CLUE_KEEPALIVE_ZERO, 0, F(CLIENT_ID_REJECTED), F(KEEPALIVE_REJECTED), 5,
     "CONNACK 2 for a CONNECT with keep-alive 0 (mosquitto >= 2.0.12)"},
    {CLUE_KEEPALIVE_ZERO, 0, F(CLIENT_ID_REJECTED), F(CLIENT_ID_REJECTED), -3,
     "keep-alive 0: the CONNACK 2 is about the keep-alive, not the client id"},
    {CLUE_INVALID_ARGS | CLUE_BROKER_LOG, CLUE_KEEPALIVE_ZERO, ANY_CAUSE, F(KEEPALIVE_REJECTED), 3,
     "mosquitto closed a new client with 'Invalid arguments provided' (>= 2.0.12: keep-alive 0 "
     "or above max_keepalive)"},
    /* mosquitto 2.0 without a listener line listens on loopback only. */
    {CLUE_LOOPBACK_LISTEN, 0, F(CONNECTION_REFUSED), F(BROKER_LOCAL_ONLY), 6,
     "connection refused while the broker listens on 127.0.0.1 only"},
    {CLUE_LOOPBACK_LISTEN, 0, F(CONNECTION_REFUSED), F(CONNECTION_REFUSED), -3,
     "the refusal is the loopback-only listener's"},
    /* mosquitto_pub/sub start TLS only with --cafile, --capath or --psk. */
    {CLUE_MOSQ_CMD_TLS, 0, F(PLAIN_ON_TLS_PORT), F(PLAIN_ON_TLS_PORT), 0,
     "the command line gives --cafile/--capath/--psk, so it did speak TLS"},
    {CLUE_MOSQ_CMD | CLUE_TLS_PORT, CLUE_MOSQ_CMD_TLS, F(PLAIN_ON_TLS_PORT), F(PLAIN_ON_TLS_PORT),
     3, "mosquitto_pub/sub to a TLS port without --cafile/--capath/--psk sends plain MQTT"},
    {CLUE_MOSQ_CMD_CERT, 0, F(CLIENT_CERT_MISSING), F(CLIENT_CERT_MISSING), -2,
     "the command line gives --cert"},
    {CLUE_MOSQ_CMD_TLS, CLUE_MOSQ_CMD_CERT, F(CLIENT_CERT_MISSING), F(CLIENT_CERT_MISSING), 2,
     "the command line speaks TLS but gives no --cert"},
    /* Which port: TLS spoken to 1883 is the classic; on 8883 the broker does speak TLS. */
    {CLUE_TLS_PORT, CLUE_PLAIN_PORT, F(TLS_ON_PLAIN_PORT), F(TLS_ON_PLAIN_PORT), -2,
     "the port is a TLS port (8883, 8884, 443, 8443)"},
    {CLUE_PLAIN_PORT, CLUE_TLS_PORT, F(TLS_ON_PLAIN_PORT), F(TLS_ON_PLAIN_PORT), 2,
     "the port is 1883, the plain MQTT port"},
    /* TLS failed (no reason given) against 1883, or toward a URI without TLS. */
    {CLUE_TLS_FAILED | CLUE_PLAIN_PORT, CLUE_TLS_PORT, ANY_CAUSE, F(TLS_ON_PLAIN_PORT), 3,
     "a TLS handshake failed against port 1883, the plain MQTT port"},
    {CLUE_PLAIN_URI, CLUE_TLS_URI, F(TLS_ON_PLAIN_PORT), F(TLS_ON_PLAIN_PORT), 2,
     "the URI names an endpoint without TLS (mqtt://, ws://, tcp://), yet TLS was spoken"},
    /* A record mbedTLS cannot take from a port that does speak TLS: too big for its buffer. */
    {CLUE_TLS_PORT, 0, F(TLS_RECORD_BUFFER_TOO_SMALL), F(TLS_RECORD_BUFFER_TOO_SMALL), 2,
     "an invalid record from a TLS port: longer than the input buffer"},
    {CLUE_DEVICE, 0, F(TLS_RECORD_BUFFER_TOO_SMALL), F(TLS_RECORD_BUFFER_TOO_SMALL), 1,
     "on a device, whose TLS input buffer is often 2-4 KiB"},
    /* AWS IoT never refuses with a CONNACK code: it closes the connection after CONNECT when the
     * certificate's policy does not allow iot:Connect for this client id, or the certificate
     * is inactive or not attached. */
    {CLUE_AWS | CLUE_NO_CONNACK, 0, ANY_CAUSE, F(CLOSED_AFTER_CONNECT), 4,
     "AWS IoT closes without CONNACK when the certificate's policy does not allow iot:Connect "
     "for this client id, or the certificate is inactive or not attached"},
    {CLUE_AWS, 0, F(CLOSED_AFTER_CONNECT), F(CLOSED_AFTER_CONNECT), 2,
     "AWS IoT hangs up after CONNECT on a policy or certificate problem"},
    /* arduino-esp32: start_ssl_client() returns -1 before any traffic when no CA, bundle, PSK
     * or setInsecure() was given; a TCP failure logs its errno first. */
    {CLUE_NO_CA_SET, CLUE_NET_ERROR, ANY_CAUSE, F(NO_VERIFICATION_OPTION), 4,
     "start_ssl_client() returned -1 with no socket error before it"},
    {CLUE_TLS_URI, 0, F(LIBRARY_WITHOUT_TLS), F(LIBRARY_WITHOUT_TLS), 2,
     "the URI asks for TLS (ssl://, mqtts://)"},
};
/* clang-format on */

#undef F

#endif /* MQTLS_EXPLAIN_RULES_H */
