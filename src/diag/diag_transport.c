/* Live failures below and above the certificates: DNS, TCP, the TLS handshake itself (plain
 * port, no shared cipher, ALPN, timeouts, other alerts), and the MQTT answer (CONNACK reason
 * codes, a broker that closes after CONNECT, plain MQTT sent to a TLS port). */
#include <string.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "common/tls_alert.h"
#include "common/tls_facts.h"
#include "diag_ctx.h"

static bool is_tls_port(uint16_t p)
{
    return p == 8883 || p == 8884 || p == 443 || p == 8443 || p == 8886;
}

/* "broker.local:8883" */
static const char *host_port(mqtls__diag_ctx_t *c)
{
    return mqtls__diag_subject(c, "%s:%u", c->in->host != NULL ? c->in->host : "?",
                               (unsigned)c->in->port);
}

/* Before TLS: DNS and TCP. @return true if the failure was there. */
static bool check_dns_tcp(mqtls__diag_ctx_t *c, const mqtls_error_t *e)
{
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->layer == MQTLS_LAYER_DNS || e->status == MQTLS_ERR_DNS) {
        mqtls__diag_add(c, MQTLS__F_DNS_FAILURE, mqtls__diag_subject(c, "host %s", host),
                        mqtls__diag_fix(c,
                                        "getent ahosts %s   # check the spelling, DNS or "
                                        "/etc/hosts; or use the IP address with "
                                        "--tls-server-name %s",
                                        host, host),
                        "The host name '%s' cannot be resolved (%s).", host,
                        e->detail[0] ? e->detail : "no address");
        return true;
    }
    if (e->status == MQTLS_ERR_CONN_REFUSED) {
        mqtls__diag_add(c, MQTLS__F_CONNECTION_REFUSED, host_port(c),
                        mqtls__diag_fix(c,
                                        "On the broker: ss -ltnp | grep %u; mosquitto.conf needs "
                                        "'listener %u' (mosquitto 2.x listens only on localhost "
                                        "without a listener line)",
                                        port, port),
                        "Nothing accepts connections on %s port %u (TCP RST). The broker is not "
                        "running, or listens on another port/address (MQTT: 1883 plain, 8883 "
                        "TLS).",
                        host, port);
        return true;
    }
    if (e->status == MQTLS_ERR_CONNECT_TIMEOUT || e->status == MQTLS_ERR_NET_UNREACHABLE) {
        bool to = e->status == MQTLS_ERR_CONNECT_TIMEOUT;
        mqtls__diag_add(c, to ? MQTLS__F_CONNECT_TIMEOUT : MQTLS__F_NETWORK_UNREACHABLE,
                        host_port(c),
                        mqtls__diag_fix(c,
                                        "nc -vz -w 5 %s %u   # and check firewalls / security "
                                        "groups for port %u",
                                        host, port, port),
                        to ? "The TCP connection to %s:%u timed out: a firewall drops the "
                             "packets, the address is wrong, or the host is down."
                           : "%s:%u is unreachable from here (no route).",
                        host, port);
        return true;
    }
    return false;
}

void mqtls__diag_transport(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    const mqtls_tls_facts_t *f = c->in->facts;
    if (e == NULL || check_dns_tcp(c, e)) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->status == MQTLS_ERR_TLS_PIN_MISMATCH || (f != NULL && f->pin_mismatch)) {
        const char *pin = f != NULL && f->server_pin[0] != '\0' ? f->server_pin : NULL;
        const char *sni = c->in->server_name != NULL ? c->in->server_name : host;
        mqtls__diag_add(
            c, MQTLS__F_PIN_MISMATCH,
            mqtls__diag_subject(c, "the public key of %s:%u's certificate", host, port),
            mqtls__diag_fix(c,
                            "openssl s_client -connect %s:%u -servername %s </dev/null "
                            "2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin "
                            "-outform der | openssl dgst -sha256 -binary | openssl enc -base64"
                            "   # the server's pin; if you trust this key, add --pin sha256//"
                            "<that>",
                            host, port, sni),
            "The server's certificate chain verified, but its public key has the pin %s, which "
            "is none of the pins given (--pin). The broker has a new key (renewed certificate, "
            "another broker behind this name) or something between you intercepts TLS; do not "
            "add the pin before you know which.",
            pin != NULL ? pin : "(not readable)");
        return;
    }
    if (e->status == MQTLS_ERR_TLS_NOT_TLS || (f != NULL && f->peer_not_tls)) {
        char hex[64] = "";
        for (size_t i = 0; f != NULL && i < f->first_bytes_len && i < 8; i++) {
            mqtls__appendf(hex, sizeof hex, "%s%02X", i ? " " : "", f->first_bytes[i]);
        }
        mqtls__diag_add(c, MQTLS__F_TLS_ON_PLAIN_PORT, host_port(c),
                        mqtls__diag_fix(c,
                                        "Use the TLS port (usually 8883: mqtts://%s:8883), or "
                                        "drop TLS for a plain port (mqtt://%s:%u)",
                                        host, host, port),
                        "The server on %s:%u answered the TLS ClientHello with something that "
                        "is not TLS%s%s%s: this port speaks plain MQTT (or another protocol).",
                        host, port, hex[0] ? " (first bytes: " : "", hex, hex[0] ? ")" : "");
        return;
    }
    if (e->status == MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT) {
        mqtls__diag_add(c, MQTLS__F_HANDSHAKE_TIMEOUT, host_port(c),
                        mqtls__diag_fix(c,
                                        "openssl s_client -connect %s:%u </dev/null   # does TLS "
                                        "answer at all?",
                                        host, port),
                        "The TLS handshake with %s:%u did not finish in time. %s", host, port,
                        f != NULL && !f->server_hello_seen
                            ? "The server never answered the ClientHello: it may be a plain "
                              "MQTT port waiting for CONNECT, or a proxy."
                            : "The server answered but stalled (slow RSA on a small device, or "
                              "packet loss).");
        return;
    }
    int alert = f != NULL ? f->alert_received : e->tls_alert;
    const char *with = alert >= 0 ? " with alert " : "";
    const char *alert_name = alert >= 0 ? mqtls_tls_alert_name(alert) : "";
    bool hello = f != NULL && f->server_hello_seen;
    if (e->layer == MQTLS_LAYER_TLS && alert == MQTLS__ALERT_NO_APPLICATION_PROTOCOL) {
        mqtls__diag_add(c, MQTLS__F_ALPN_REQUIRED, host_port(c),
                        "--alpn x-amzn-mqtt-ca   (or use port 8883)",
                        "The broker requires an ALPN protocol name we did not offer (alert "
                        "no_application_protocol). AWS IoT on port 443 wants 'x-amzn-mqtt-ca'.");
        return;
    }
    if (e->layer == MQTLS_LAYER_TLS && !hello &&
        (alert == MQTLS__ALERT_HANDSHAKE_FAILURE || alert == MQTLS__ALERT_PROTOCOL_VERSION ||
         alert == MQTLS__ALERT_INSUFFICIENT_SECURITY ||
         mqtls__dm_ret_is_no_shared_cipher(e->mbedtls_ret))) {
        mqtls__diag_add(c, MQTLS__F_NO_SHARED_CIPHER, host_port(c),
                        mqtls__diag_fix(c,
                                        "openssl s_client -connect %s:%u -tls1_2 </dev/null; "
                                        "check mosquitto 'tls_version' and 'ciphers'",
                                        host, port),
                        "The broker refused our ClientHello%s%s: we share no TLS version or "
                        "cipher suite (e.g. broker 'tls_version tlsv1.3' vs a TLS 1.2-only "
                        "mbedTLS, or an ECDSA-only server and RSA-only suites).",
                        with, alert_name);
        return;
    }
    /* A plain-MQTT port drops the ClientHello silently (mosquitto: "malformed packet"). The
     * two mbedTLS codes are the same in 2.x and 3.x. */
    if ((e->layer == MQTLS_LAYER_TLS || e->layer == MQTLS_LAYER_TCP) && !hello && f != NULL &&
        !f->cert_requested &&
        (f->peer_silent_close || e->status == MQTLS_ERR_CLOSED ||
         e->status == MQTLS_ERR_CONN_RESET || e->mbedtls_ret == MBEDTLS_ERR_SSL_CONN_EOF ||
         e->mbedtls_ret == MBEDTLS_ERR_NET_CONN_RESET)) {
        mqtls__diag_add(c, MQTLS__F_TLS_ON_PLAIN_PORT, host_port(c),
                        mqtls__diag_fix(c,
                                        "Use the TLS port (usually mqtts://%s:8883), or "
                                        "mqtt://%s:%u without TLS",
                                        host, host, port),
                        "The server on %s:%u closed the connection as soon as it saw our TLS "
                        "ClientHello, without a TLS answer. That is what a plain-MQTT port does "
                        "(mosquitto drops the 'malformed' packet).",
                        host, port);
        return;
    }
    if (e->layer == MQTLS_LAYER_TLS && alert >= 0 && !(f != NULL && f->client_cert_sent) &&
        !(f != NULL && f->cert_requested)) {
        mqtls__diag_add(c, MQTLS__F_TLS_ALERT, host_port(c),
                        mqtls__diag_fix(c,
                                        "openssl s_client -connect %s:%u -state </dev/null; the "
                                        "broker log names the reason",
                                        host, port),
                        "The broker ended the handshake with fatal alert %s (%d).", alert_name,
                        alert);
    }
}

/* ---------------------------------------------------------------- MQTT */

/* What a refusing CONNACK reason code (3.1.1 return code or MQTT 5 reason) means. */
static void connack_refused(mqtls__diag_ctx_t *c, int rc)
{
    mqtls__finding_id_t id = MQTLS__F_CONNACK_REFUSED;
    const char *what = "see the broker log.";
    const char *fix = "Check the broker log for the reason (mosquitto: -v or log_type all)";
    switch (rc) {
    case 1:
    case 0x84:
        id = MQTLS__F_UNSUPPORTED_PROTOCOL_VERSION;
        what = "it does not speak this MQTT version.";
        fix = "-V 311 (MQTT 3.1.1) or -V 5, whichever the broker supports";
        break;
    case 2:
    case 0x85:
        id = MQTLS__F_CLIENT_ID_REJECTED;
        what = "client identifier not valid (too long, bad characters, empty with clean session "
               "off, or not allowed).";
        fix = "-i device-001   (1-23 letters/digits is safe everywhere)";
        break;
    case 3:
    case 0x88:
    case 0x89:
        id = MQTLS__F_SERVER_UNAVAILABLE;
        what = "server unavailable or busy.";
        fix = "Retry later with back-off; check the broker's health and connection limits";
        break;
    case 4:
    case 0x86:
        id = MQTLS__F_BAD_CREDENTIALS;
        what = "bad user name or password.";
        fix = "-u USER -P PASS (mosquitto: check password_file; with use_identity_as_username "
              "the certificate's CN is the user name)";
        break;
    case 5:
    case 0x87:
    case 0x8C:
        id = MQTLS__F_NOT_AUTHORIZED;
        what = "not authorized. TLS worked; the broker's authentication/ACL rejected this "
               "client.";
        fix = "mosquitto: allow_anonymous true, or a password_file entry, or "
              "use_identity_as_username true (CN = user) plus an acl_file entry";
        break;
    default:
        break;
    }
    mqtls__diag_add(
        c, id,
        mqtls__diag_subject(c, "CONNACK from %s:%u, MQTT %s",
                            c->in->host != NULL ? c->in->host : "?", (unsigned)c->in->port,
                            c->in->mqtt_version == 5   ? "5.0"
                            : c->in->mqtt_version == 4 ? "3.1.1"
                                                       : "?"),
        fix, "The broker refused CONNECT with reason code %d (0x%02X): %s", rc, rc, what);
}

void mqtls__diag_mqtt(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    /* Without TLS, a reset/close after TCP connected is an MQTT-level outcome: the transport
     * reports it as tcp, but the peer reacted to our CONNECT. */
    bool plain_after_connect = e != NULL && c->in->facts == NULL &&
                               (e->layer == MQTLS_LAYER_TCP || e->layer == MQTLS_LAYER_NONE) &&
                               (e->status == MQTLS_ERR_CONN_RESET || e->status == MQTLS_ERR_CLOSED);
    if (e == NULL || (e->layer != MQTLS_LAYER_MQTT && !plain_after_connect)) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->connack_reason > 0) {
        connack_refused(c, e->connack_reason);
        return;
    }
    if (e->status != MQTLS_ERR_CLOSED && e->status != MQTLS_ERR_CONN_RESET &&
        e->status != MQTLS_ERR_CONNACK_TIMEOUT && e->status != MQTLS_ERR_PROTOCOL) {
        return;
    }
    bool tls = c->in->facts != NULL && c->in->facts->server_hello_seen;
    /* A plain MQTT broker answers CONNECT (CONNACK) or closes gracefully; a TLS listener takes
     * our CONNECT for a broken record and resets. */
    if (!tls &&
        (is_tls_port(c->in->port) || (c->in->facts == NULL && e->status == MQTLS_ERR_CONN_RESET))) {
        mqtls__diag_add(c, MQTLS__F_PLAIN_ON_TLS_PORT, host_port(c),
                        mqtls__diag_fix(c,
                                        "mqtts://%s:%u --cafile ca.crt   (or the plain port: "
                                        "mqtt://%s:1883)",
                                        host, port, host),
                        "Plain MQTT was sent to %s:%u, which is a TLS port: the broker read our "
                        "CONNECT as a broken TLS record and %s.",
                        host, port,
                        e->status == MQTLS_ERR_CONNACK_TIMEOUT ? "never answered"
                                                               : "closed the connection");
        return;
    }
    mqtls__diag_add(c, MQTLS__F_CLOSED_AFTER_CONNECT, host_port(c),
                    "Check the broker log ('Client <id> disconnected' reason); try another -i "
                    "CLIENT_ID and -V 311",
                    "The broker closed the connection after our CONNECT without a CONNACK. "
                    "Mosquitto does this when use_identity_as_username/use_subject_as_username is "
                    "on and the certificate gives no name, when another client takes over the "
                    "same client id, or for a protocol error.");
}
