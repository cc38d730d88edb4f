/* Live failures below and above the certificates: DNS, TCP, the TLS handshake itself (plain
 * port, no shared cipher, ALPN, timeouts, other alerts), and the MQTT answer (CONNACK reason
 * codes, a broker that closes after CONNECT, plain MQTT sent to a TLS port). */
#include <errno.h>
#include <string.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include "mqtls/packet.h"

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
    if (e->status == MQTLS_ERR_CONN_REFUSED && host[0] == '/') {
        /* unix:///path: the host is the socket's file name */
        mqtls__diag_add(c, MQTLS__F_CONNECTION_REFUSED,
                        mqtls__diag_subject(c, "unix socket %s", host),
                        mqtls__diag_fix(c,
                                        "ls -l %s; mosquitto.conf needs 'listener 0 %s' (and "
                                        "the broker running as a user who may create it)",
                                        host, host),
                        "Nothing accepts connections on the Unix socket %s (%s).", host,
                        e->sys_errno == ENOENT ? "no such file" : "connection refused");
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

/* A proxy under the connection (layer PROXY): which side of it failed. @return true if so. */
static bool check_proxy(mqtls__diag_ctx_t *c, const mqtls_error_t *e)
{
    if (e->layer != MQTLS_LAYER_PROXY) {
        return false;
    }
    const char *subject = mqtls__diag_subject(c, "proxy (%s)", e->detail);
    switch (e->status) {
    case MQTLS_ERR_PROXY_AUTH:
        mqtls__diag_add(
            c, MQTLS__F_PROXY_AUTH_FAILED, subject,
            "--proxy socks5h://USER:PASSWORD@HOST:PORT (http://USER:PASSWORD@... for an "
            "HTTP proxy)",
            "The proxy wants credentials we did not give, or refused ours: %s.", e->detail);
        break;
    case MQTLS_ERR_PROXY_TARGET:
        mqtls__diag_add(c, MQTLS__F_PROXY_TARGET_UNREACHABLE, subject,
                        mqtls__diag_fix(c, "from the proxy's host: nc -vz %s %u",
                                        c->in->host != NULL ? c->in->host : "BROKER",
                                        (unsigned)c->in->port),
                        "The proxy accepted the tunnel but could not reach the broker %s:%u: %s.",
                        c->in->host != NULL ? c->in->host : "?", (unsigned)c->in->port, e->detail);
        break;
    case MQTLS_ERR_PROXY_REFUSED:
    case MQTLS_ERR_PROXY_PROTOCOL:
        mqtls__diag_add(c, MQTLS__F_PROXY_REFUSED, subject,
                        "Allow the broker's address and port in the proxy's rules (dante: socks "
                        "pass; tinyproxy: ConnectPort), or check the URL's scheme (socks5h:// vs "
                        "http://)",
                        "The proxy refused to open a tunnel to the broker: %s.", e->detail);
        break;
    default:
        mqtls__diag_add(
            c, MQTLS__F_PROXY_UNREACHABLE, subject,
            "nc -vz PROXYHOST PROXYPORT   # is the proxy listening? (default port 1080)",
            "The proxy itself cannot be reached (%s): %s.", mqtls_status_text(e->status),
            e->detail);
        break;
    }
    return true;
}

/* TLS-PSK: the broker's alert names which half of the key it disagrees with. */
static bool check_psk(mqtls__diag_ctx_t *c, const mqtls_error_t *e, const mqtls_tls_facts_t *f)
{
    int alert = f != NULL ? f->alert_received : e->tls_alert;
    if (f == NULL || !f->psk || e->layer != MQTLS_LAYER_TLS) {
        return false;
    }
    if (alert == MQTLS__ALERT_UNKNOWN_PSK_IDENTITY) {
        mqtls__diag_add(c, MQTLS__F_PSK_IDENTITY_UNKNOWN, host_port(c),
                        "Add 'IDENTITY:HEXKEY' for our --psk-identity to the broker's psk_file "
                        "(mosquitto: psk_file, then reload)",
                        "The broker answered unknown_psk_identity (115): the identity we sent is "
                        "not in its PSK file.");
        return true;
    }
    if (alert == MQTLS__ALERT_BAD_RECORD_MAC || alert == MQTLS__ALERT_DECRYPT_ERROR) {
        mqtls__diag_add(c, MQTLS__F_PSK_MISMATCH, host_port(c),
                        "The hex key after 'IDENTITY:' in the broker's psk_file must equal --psk "
                        "(hex digits, no 0x)",
                        "The broker knows our identity but could not check our Finished message "
                        "(alert %s): its key for this identity differs from ours.",
                        mqtls_tls_alert_name(alert));
        return true;
    }
    return false;
}

/* mbedTLS before 3.6.3 takes a handshake message only whole in one record (-0x7080,
 * MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE, the same number in 2.x and 3.x): the server split one,
 * most often its Certificate (the chain it sends), sometimes because we asked for short records
 * (max_fragment_length). The facts say how long that message was and what was agreed. */
static void handshake_fragmented(mqtls__diag_ctx_t *c, const char *host, unsigned port)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    size_t cert_msg = 0;
    for (size_t i = 0; i < f->presented_len; i++) {
        cert_msg += 3u + f->presented[i].der_len; /* RFC 5246 7.4.2 */
    }
    char size[160] = "";
    if (cert_msg > 0) {
        mqtls__setf(size, sizeof size,
                    " Its Certificate message (%zu certificate%s) is %zu bytes%s.",
                    f->presented_len, f->presented_len == 1 ? "" : "s", cert_msg + 7u,
                    f->max_fragment_len != 0 ? "" : ", more than it puts in one record");
    }
    char mfl[160] = "";
    if (f->max_fragment_len != 0) {
        mqtls__setf(mfl, sizeof mfl,
                    " We asked for records of at most %u bytes (max_fragment_length), and the "
                    "server agreed.",
                    (unsigned)f->max_fragment_len);
    }
    mqtls__diag_add(
        c, MQTLS__F_HANDSHAKE_FRAGMENTED, host_port(c),
        f->max_fragment_len != 0
            ? mqtls__diag_fix(c,
                              "Ask for longer records, at least the length of the server's "
                              "Certificate message (mqtls: --tls-max-fragment 1024, 2048 or "
                              "4096, or leave it off; a device: a "
                              "larger length to mbedtls_ssl_conf_max_frag_len()), or use mbedTLS "
                              "3.6.3 or later (mqtls: --tls-engine mbedtls3).")
            : mqtls__diag_fix(c,
                              "Have the broker send a shorter chain (mosquitto: certfile with "
                              "the server certificate alone, the CA in the device's CA file), "
                              "or use mbedTLS 3.6.3 or later on the device (mqtls: --tls-engine "
                              "mbedtls3). Which certificates %s:%u sends:\n$ openssl s_client "
                              "-connect %s:%u -showcerts </dev/null 2>/dev/null | grep -c "
                              "'BEGIN CERT'",
                              host, port, host, port),
        "The server on %s:%u split a TLS handshake message over several records, and this "
        "mbedTLS (before 3.6.3: ESP-IDF 4.x, and 5.x with an older 3.x) cannot put it back "
        "together: -0x7080 (feature unavailable).%s%s",
        host, port, size, mfl);
}

/* TLS failures with a name of their own: no common TLS version (the broker's alert
 * protocol_version, or mbedTLS's check of the ServerHello), and mbedTLS out of memory. */
static bool check_tls_version_and_memory(mqtls__diag_ctx_t *c, const mqtls_error_t *e, int alert)
{
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->layer != MQTLS_LAYER_TLS) {
        return false;
    }
    if (alert == MQTLS__ALERT_PROTOCOL_VERSION ||
        mqtls__dm_ret_is_version_mismatch(e->mbedtls_ret)) {
        mqtls__diag_add(c, MQTLS__F_TLS_VERSION_MISMATCH, host_port(c),
                        mqtls__diag_fix(c,
                                        "openssl s_client -connect %s:%u -tls1_2 </dev/null; and "
                                        "-tls1_3: which versions does the broker accept? "
                                        "(mosquitto.conf: tls_version tlsv1.2 allows 1.2 and 1.3)",
                                        host, port),
                        "The broker and this client have no TLS version in common%s (e.g. a "
                        "broker set to TLS 1.3 only, against a TLS 1.2-only mbedTLS).",
                        alert == MQTLS__ALERT_PROTOCOL_VERSION ? " (alert protocol_version)" : "");
        return true;
    }
    if (e->mbedtls_ret == MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE && c->in->facts != NULL &&
        c->in->facts->server_hello_seen) {
        handshake_fragmented(c, host, port);
        return true;
    }
    if (e->status == MQTLS_ERR_NOMEM || e->mbedtls_ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ||
        e->mbedtls_ret == MBEDTLS_ERR_X509_ALLOC_FAILED ||
        e->mbedtls_ret == MBEDTLS_ERR_PK_ALLOC_FAILED) {
        mqtls__diag_add(c, MQTLS__F_OUT_OF_MEMORY, host_port(c),
                        "Free memory before connecting; on a device: smaller TLS buffers "
                        "(CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN) and a CA file with one root",
                        "mbedTLS ran out of memory during the TLS handshake with %s:%u.", host,
                        port);
        return true;
    }
    return false;
}

void mqtls__diag_transport(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    const mqtls_tls_facts_t *f = c->in->facts;
    if (e == NULL || check_proxy(c, e) || check_dns_tcp(c, e) || check_psk(c, e, f)) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->status == MQTLS_ERR_TLS_PIN_MISMATCH || (f != NULL && f->pin_mismatch)) {
        const char *pin = f != NULL && f->server_pin[0] != '\0' ? f->server_pin : NULL;
        const char *sni = c->in->server_name != NULL ? c->in->server_name : host;
        /* A command to paste: the host (an IPv6 literal in brackets) and the name quoted for
         * the shell; it only reads (openssl prints the pin), and the pin is added by hand, once
         * the user knows whose key it is. */
        char hp[300];
        char q_hp[320];
        char q_sni[300];
        mqtls__setf(hp, sizeof hp, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
        mqtls__diag_shq(q_hp, sizeof q_hp, hp);
        mqtls__diag_shq(q_sni, sizeof q_sni, sni);
        mqtls__diag_add(
            c, MQTLS__F_PIN_MISMATCH,
            mqtls__diag_subject(c, "the public key of %s:%u's certificate", host, port),
            mqtls__diag_fix(c,
                            "Print the pin of the key the server presents, and compare it with "
                            "the broker's (ask its operator, or run the same pipeline on its "
                            "certificate from 'openssl x509 -pubkey -noout -in server.crt' on):\n"
                            "$ openssl s_client -connect %s -servername %s </dev/null "
                            "2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin "
                            "-outform der | openssl dgst -sha256 -binary | openssl enc -base64\n"
                            "then, only if that key is the broker's: --pin sha256//<the printed "
                            "pin>, beside the pins you have (any one that matches is accepted)%s%s",
                            q_hp, q_sni, pin != NULL ? ". The server presents --pin " : "",
                            pin != NULL ? pin : ""),
            "The server's certificate chain verified, but its public key has the pin %s, which "
            "is none of the pins given (--pin). The broker has a new key (renewed certificate, "
            "another broker behind this name) or something between you intercepts TLS; do not "
            "add the pin before you know which.",
            pin != NULL ? pin : "(not readable)");
        return;
    }
    bool hello_seen = f != NULL && f->server_hello_seen;
    if ((e->status == MQTLS_ERR_TLS_NOT_TLS && !hello_seen) || (f != NULL && f->peer_not_tls)) {
        char hex[64] = "";
        for (size_t i = 0; f != NULL && i < f->first_bytes_len && i < 8; i++) {
            mqtls__appendf(hex, sizeof hex, "%s%02X", i ? " " : "", f->first_bytes[i]);
        }
        mqtls__diag_add(c, MQTLS__F_TLS_ON_PLAIN_PORT, host_port(c),
                        mqtls__diag_fix(c,
                                        "Use the TLS port (usually 8883: mqtts://%s:8883), or "
                                        "drop TLS for a plain port (mqtt://%s:%u)",
                                        host, host, port),
                        hex[0] != '\0'
                            ? "The server on %s:%u answered the TLS ClientHello with something "
                              "that is not TLS (first bytes: %s): this port speaks plain MQTT "
                              "(or another protocol)."
                            : "The server on %s:%u dropped the connection as soon as it saw our "
                              "TLS ClientHello, without any TLS answer or alert%s: that is what "
                              "a plain-MQTT port does (mosquitto drops the 'malformed' packet); "
                              "a TLS server answers, or says why with an alert.",
                        host, port, hex);
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
    if (check_tls_version_and_memory(c, e, alert)) {
        return;
    }
    if (e->layer == MQTLS_LAYER_TLS && !hello &&
        (alert == MQTLS__ALERT_HANDSHAKE_FAILURE || alert == MQTLS__ALERT_PROTOCOL_VERSION ||
         alert == MQTLS__ALERT_INSUFFICIENT_SECURITY ||
         mqtls__dm_ret_is_no_shared_cipher(e->mbedtls_ret))) {
        mqtls__diag_add(c, MQTLS__F_NO_SHARED_CIPHER, host_port(c),
                        alert == MQTLS__ALERT_PROTOCOL_VERSION
                            ? "Let the broker accept TLS 1.2 as well (mosquitto: 'tls_version "
                              "tlsv1.2' allows 1.2 and 1.3), or use a TLS 1.3 capable mbedTLS "
                              "(3.x) on the device."
                            : "Compare the broker's 'tls_version' and 'ciphers' (mosquitto.conf) "
                              "with what the device's mbedTLS offers (ECDHE with AES-GCM or "
                              "ChaCha20).",
                        "The broker refused our ClientHello%s%s: we share no TLS version or "
                        "cipher suite%s",
                        with, alert_name,
                        alert == MQTLS__ALERT_PROTOCOL_VERSION
                            ? ": it wants another TLS version. A broker set to 'tls_version "
                              "tlsv1.3' refuses mbedTLS 2.28 (ESP-IDF 4.x), which speaks TLS 1.2 "
                              "only; mbedTLS 3.x (ESP-IDF 5, CONFIG_MBEDTLS_SSL_PROTO_TLS1_3) "
                              "speaks 1.3."
                            : " (e.g. broker 'tls_version tlsv1.3' vs a TLS 1.2-only mbedTLS, "
                              "or an ECDSA-only server and RSA-only suites).");
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

/* Run after every other check: a TLS server that answered (ServerHello) and then reset or
 * closed without an alert -- when nothing found so far explains it (a server certificate
 * mbedTLS refused after the ServerHello, a client certificate the broker disliked). Not a
 * plain port. Where it stopped says who to ask. */
void mqtls__diag_handshake_reset(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    const mqtls_tls_facts_t *f = c->in->facts;
    for (size_t i = 0; e != NULL && i < c->out->count; i++) {
        if (c->out->items[i].severity == MQTLS_SEV_ERROR) {
            return;
        }
    }
    if (e == NULL || f == NULL) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    int alert = f->alert_received;
    bool hello = f->server_hello_seen;
    if ((e->layer == MQTLS_LAYER_TLS || e->layer == MQTLS_LAYER_TCP) && hello && alert < 0 &&
        e->verify_flags == 0 &&
        (e->status == MQTLS_ERR_CONN_RESET || e->status == MQTLS_ERR_CLOSED ||
         e->status == MQTLS_ERR_TLS_HANDSHAKE || e->status == MQTLS_ERR_TLS_IO ||
         e->mbedtls_ret == MBEDTLS_ERR_SSL_CONN_EOF ||
         e->mbedtls_ret == MBEDTLS_ERR_NET_CONN_RESET)) {
        bool after_cert = f->client_cert_sent;
        mqtls__diag_add(
            c, MQTLS__F_HANDSHAKE_RESET, host_port(c),
            mqtls__diag_fix(c,
                            "The broker's log says why it dropped the connection "
                            "(mosquitto: 'OpenSSL Error', 'Client ... disconnected')."
                            "%s",
                            after_cert ? " It came right after our certificate: "
                                         "check it against the broker's cafile "
                                         "(openssl verify -purpose sslclient "
                                         "-CAfile ITS_CAFILE CERT)."
                                       : ""),
            "The server on %s:%u speaks TLS (it answered our ClientHello%s) but then "
            "%s the connection without a TLS alert%s. A broker that crashes or "
            "restarts, a proxy or firewall that drops TLS it does not like, or a "
            "broker that rejects the client certificate without saying so.",
            host, port,
            f->tls_version != 0 ? (f->tls_version == 0x0304 ? ", TLS 1.3" : ", TLS 1.2") : "",
            e->status == MQTLS_ERR_CLOSED || e->mbedtls_ret == MBEDTLS_ERR_SSL_CONN_EOF ? "closed"
                                                                                        : "reset",
            after_cert ? ", right after we sent our client certificate" : "");
    }
}

/* ---------------------------------------------------------------- MQTT */

/* What a refusing CONNACK reason code (3.1.1 return code or MQTT 5 reason) means. */
static void connack_refused(mqtls__diag_ctx_t *c, int rc)
{
    bool tls = c->in->facts != NULL && c->in->facts->server_hello_seen;
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
        fix = "Give the right user name and password: -u USER -P PASS (mosquitto: the user's "
              "entry in its password_file, made with mosquitto_passwd; with "
              "use_identity_as_username the certificate's CN is the user name)";
        break;
    case 5:
    case 0x87:
    case 0x8C:
        id = MQTLS__F_NOT_AUTHORIZED;
        /* Never "TLS worked" on a plain connection; never anonymous access as the fix. */
        what = tls ? "not authorized. TLS worked (the broker accepted the certificate); its "
                     "authentication or ACL rejected this client."
                   : "not authorized: the broker accepts no client without valid credentials "
                     "(mosquitto 2.x: allow_anonymous false, the default).";
        fix = tls ? "Check the user name and password: -u USER -P PASS (mosquitto: an entry in "
                    "its password_file). With certificates as identity, mosquitto needs "
                    "use_identity_as_username true (the CN is the user name) and that user in "
                    "its acl_file."
                  : "Check the user name and password: -u USER -P PASS (mosquitto: an entry in "
                    "its password_file, made with mosquitto_passwd). Over TLS with a client "
                    "certificate, the broker can take the certificate as the identity "
                    "(use_identity_as_username true).";
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

/* A client id the user chose (a generated one cannot be taken over). */
static bool id_fixed(const mqtls__diag_ctx_t *c)
{
    return c->in->client_id != NULL && c->in->client_id[0] != '\0';
}

/* The broker ended a session it had accepted: who ended it and why. MQTT 5 says it in the
 * DISCONNECT reason (0x8E session taken over, 0x8B server shutting down); MQTT 3.1.1 brokers
 * just close, and then only the caller's probe tells a stopped broker (new connections
 * refused) from a live one that closed this session -- a takeover when the id was fixed
 * [MQTT-3.1.4-3]. */
static void lost_session(mqtls__diag_ctx_t *c, const mqtls_error_t *e)
{
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    int reason = e->status == MQTLS_ERR_SERVER_DISCONNECT ? e->disconnect_reason : -1;
    bool closed = e->status == MQTLS_ERR_CLOSED || e->status == MQTLS_ERR_CONN_RESET ||
                  e->status == MQTLS_ERR_IO || e->status == MQTLS_ERR_TLS_IO;
    const char *id = id_fixed(c) ? c->in->client_id : "";
    if (reason == 0x8E || (closed && c->in->broker_reachable == 1 && id_fixed(c))) {
        mqtls__diag_add(c, MQTLS__F_CLIENT_ID_TAKEN_OVER,
                        mqtls__diag_subject(c, "client id '%s' at %s:%u", id, host, port),
                        mqtls__diag_fix(c,
                                        "Give every client its own id (mqtls: -i %s-2; esp-mqtt: "
                                        ".credentials.client_id), and find the other one in the "
                                        "broker's log: 'Client %s already connected, closing old "
                                        "connection'.",
                                        id[0] ? id : "ID", id[0] ? id : "<id>"),
                        "Another client connected to %s:%u with the same client id '%s', so the "
                        "broker closed this session (a broker must close the older one, "
                        "[MQTT-3.1.4-3])%s. Two devices, or a device and a tool, share the id; "
                        "with automatic reconnects they take turns kicking each other out.",
                        host, port, id,
                        reason == 0x8E ? ": DISCONNECT reason 0x8E, session taken over"
                                       : ": it still accepts new connections");
        return;
    }
    if (reason == 0x8B || (closed && c->in->broker_reachable == 0)) {
        mqtls__diag_add(c, MQTLS__F_BROKER_STOPPED, host_port(c),
                        "Look at the broker: is it running (systemctl status mosquitto), and why "
                        "did it stop (its log)? Clients should reconnect with back-off (esp-mqtt "
                        "does; the mqtls library: cfg.reconnect).",
                        "The broker at %s:%u ended the session it had accepted%s and %s: it "
                        "stopped or is restarting.",
                        host, port,
                        reason == 0x8B ? " (DISCONNECT reason 0x8B, server shutting down)" : "",
                        c->in->broker_reachable == 0 ? "now refuses new connections"
                                                     : "said it is shutting down");
        return;
    }
    char why[200] = "";
    if (reason >= 0) {
        mqtls__setf(why, sizeof why, " with DISCONNECT reason 0x%02X (%s)", (unsigned)reason,
                    mqtls_reason_text(MQTLS_DISCONNECT, (uint8_t)reason));
    } else if (e->status == MQTLS_ERR_KEEPALIVE_TIMEOUT) {
        mqtls__setf(why, sizeof why,
                    ": no PINGRESP within the keepalive time, the network path or the broker "
                    "stalled");
    }
    mqtls__diag_add(c, MQTLS__F_CONNECTION_LOST, host_port(c),
                    "The broker's log says why ('Client <id> disconnected', 'closed its "
                    "connection'); reconnect with back-off.",
                    "The broker at %s:%u closed a session it had accepted%s.%s", host, port, why,
                    id_fixed(c) && reason < 0 && c->in->broker_reachable < 0
                        ? " If another client uses the same client id, the broker closes the "
                          "older session: each client needs its own id."
                        : "");
}

void mqtls__diag_mqtt(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    if (e == NULL) {
        return;
    }
    /* After an accepted CONNACK: the caller says so (after_connack), or the library's error
     * carries the CONNACK's reason 0 (a connection that ended after it was accepted). */
    if (c->in->after_connack || e->connack_reason == 0 || e->status == MQTLS_ERR_SERVER_DISCONNECT ||
        e->status == MQTLS_ERR_KEEPALIVE_TIMEOUT) {
        lost_session(c, e);
        return;
    }
    /* Without TLS, a reset/close after TCP connected is an MQTT-level outcome: the transport
     * reports it as tcp, but the peer reacted to our CONNECT. */
    bool plain_after_connect = c->in->facts == NULL &&
                               (e->layer == MQTLS_LAYER_TCP || e->layer == MQTLS_LAYER_NONE) &&
                               (e->status == MQTLS_ERR_CONN_RESET || e->status == MQTLS_ERR_CLOSED);
    /* Over TLS too: once the TLS connection is open (in TLS 1.3 with a client certificate,
     * after the broker spoke: a reset before that is the handshake's), a close the transport
     * reports (layer tcp or tls) is the broker's answer to our CONNECT. A graceful close after
     * our handshake is, too (a broker that drops a v5 CONNECT closes; one that rejects our
     * certificate sends an alert or resets). */
    const mqtls_tls_facts_t *f = c->in->facts;
    bool tls_after_connect = f != NULL && f->server_hello_seen &&
                             (f->tls_open || e->status == MQTLS_ERR_CLOSED) &&
                             f->handshake_ret == 0 && !f->peer_not_tls && f->alert_received < 0 &&
                             (e->layer == MQTLS_LAYER_TCP || e->layer == MQTLS_LAYER_TLS) &&
                             (e->status == MQTLS_ERR_CONN_RESET || e->status == MQTLS_ERR_CLOSED);
    if (e->layer != MQTLS_LAYER_MQTT && !plain_after_connect && !tls_after_connect) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    if (e->connack_reason > 0) {
        connack_refused(c, e->connack_reason);
        return;
    }
    bool timeout = e->status == MQTLS_ERR_CONNACK_TIMEOUT || e->status == MQTLS_ERR_TIMEOUT;
    if (e->status != MQTLS_ERR_CLOSED && e->status != MQTLS_ERR_CONN_RESET && !timeout &&
        e->status != MQTLS_ERR_PROTOCOL) {
        return;
    }
    bool tls = c->in->facts != NULL && c->in->facts->server_hello_seen;
    /* A plain MQTT broker answers CONNECT (CONNACK) or closes gracefully; a TLS listener takes
     * our CONNECT for a broken record and resets. */
    if (!tls &&
        (is_tls_port(c->in->port) || (c->in->facts == NULL && e->status == MQTLS_ERR_CONN_RESET))) {
        mqtls__diag_add(c, MQTLS__F_PLAIN_ON_TLS_PORT, host_port(c),
                        mqtls__diag_fix(c,
                                        "Speak TLS to it: mqtts://%s:%u with --cafile (the CA of "
                                        "the broker's certificate); or use its plain port "
                                        "(mqtt://%s:1883).",
                                        host, port, host),
                        "Plain MQTT was sent to %s:%u, which is a TLS port: the broker read our "
                        "CONNECT as a broken TLS record and %s.",
                        host, port, timeout ? "never answered" : "closed the connection");
        return;
    }
    if (timeout) {
        mqtls__diag_add(c, MQTLS__F_CONNACK_TIMEOUT, host_port(c),
                        mqtls__diag_fix(c,
                                        "Check what listens on %s:%u (MQTT is 1883, MQTT over "
                                        "TLS 8883; mosquitto.conf 'listener'), and the broker's "
                                        "log and load.",
                                        host, port),
                        "The server on %s:%u accepted the %s connection but never answered our "
                        "CONNECT: it is not an MQTT broker (another service on that port), it "
                        "waits for TLS%s, or the broker is too busy to answer.",
                        host, port, tls ? "TLS" : "TCP",
                        tls ? " inside TLS (a TLS tunnel to a non-MQTT service)" : " (mqtts://)");
        return;
    }
    if (c->in->mqtt_version == 5 && e->status != MQTLS_ERR_CONNACK_TIMEOUT) {
        /* A broker that speaks MQTT 5 refuses a CONNECT with a CONNACK reason code; one that
         * does not cannot even parse it (the property length shifts every later field). */
        mqtls__diag_add(c, MQTLS__F_MQTT5_NOT_SUPPORTED, host_port(c),
                        "-V 311   (MQTT 3.1.1: every broker speaks it; esp-mqtt: "
                        ".session.protocol_ver = MQTT_PROTOCOL_V_3_1_1)",
                        "The broker on %s:%u closed the connection after our MQTT 5 CONNECT "
                        "without sending any CONNACK. A broker that speaks MQTT 5 answers a "
                        "CONNECT it refuses with a CONNACK reason code; one that does not cannot "
                        "parse it and drops the connection: RabbitMQ before 3.13 (Debian 12 has "
                        "3.10) does this. Use MQTT 3.1.1.",
                        host, port);
        return;
    }
    mqtls__diag_add(c, MQTLS__F_CLOSED_AFTER_CONNECT, host_port(c),
                    "The broker's log names the reason ('Client <id> disconnected'); try another "
                    "-i CLIENT_ID and -V 311.",
                    "The broker closed the connection after our CONNECT without a CONNACK. "
                    "Mosquitto does this when use_identity_as_username/use_subject_as_username is "
                    "on and the certificate gives no name, or for a protocol error.");
}
