/* mqtls explain: the vocabulary of the other ecosystems. Codes (BearSSL, PubSubClient, WinSock),
 * symbolic names in logs (MBEDTLS_ERR_*, ESP_ERR_*, MQTTCLIENT_*, BR_ERR_*, AWS / Azure SDK
 * names, MQTT 5 reason names as HiveMQ, MQTTnet and EMQX print them), and TLS alerts in the
 * spellings of Go, Erlang/OTP, Java and .NET, each with who sent the alert. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"
#include "explain_vocab.h"
#include "mqtls/packet.h"
#include "packet/names.h"

/* ---------------------------------------------------------------- codes */

bool mqtls__explain_pubsub(mqtls_explain_t *r, scan_ctx_t *ctx, int code)
{
    if (code >= 1 && code <= 5) {
        return mqtls__explain_connack(r, ctx, code, false);
    }
    for (size_t i = 0; i < ARRAY_LEN(pubsub_states); i++) {
        const pubsub_entry_t *e = &pubsub_states[i];
        if (e->code != code) {
            continue;
        }
        char text[48];
        char meaning[256];
        (void)snprintf(text, sizeof text, "PubSubClient state %d", code);
        (void)snprintf(meaning, sizeof meaning, "PubSubClient::state() %s (%d): %s", e->name, code,
                       e->text);
        if (mqtls__explain_add_input(r, ctx, "pubsubclient", text, meaning)) {
            mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), false, text);
        }
        return true;
    }
    return false;
}

static void bearssl_entry(mqtls_explain_t *r, scan_ctx_t *ctx, const bearssl_entry_t *e)
{
    char text[48];
    char meaning[256];
    (void)snprintf(text, sizeof text, "BearSSL %d %s", e->code, e->name);
    (void)snprintf(meaning, sizeof meaning, "BearSSL %s (%d): \"%s\"", e->name, e->code, e->text);
    if (mqtls__explain_add_input(r, ctx, "bearssl", text, meaning)) {
        mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), false, text);
    }
}

bool mqtls__explain_bearssl(mqtls_explain_t *r, scan_ctx_t *ctx, long code)
{
    /* 256 + alert: a fatal alert received from the broker; 512 + alert: one we sent. */
    if (code >= 256 && code < 768) {
        bool sent = code >= 512;
        return mqtls__explain_alert(r, ctx, (int)(code - (sent ? 512 : 256)),
                                    mqtls__explain_alert_dir(sent));
    }
    for (size_t i = 0; i < ARRAY_LEN(bearssl_codes); i++) {
        if (bearssl_codes[i].code == code) {
            bearssl_entry(r, ctx, &bearssl_codes[i]);
            return true;
        }
    }
    return false;
}

static const winsock_entry_t *winsock_find(long code, const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(winsock_codes); i++) {
        if (winsock_codes[i].code == code ||
            (name != NULL && mqtls__explain_ieq(name, winsock_codes[i].name))) {
            return &winsock_codes[i];
        }
    }
    return NULL;
}

static bool winsock_entry(mqtls_explain_t *r, scan_ctx_t *ctx, const winsock_entry_t *w)
{
    char text[48];
    char meaning[160];
    (void)snprintf(text, sizeof text, "WinSock %ld %s", w->code, w->name);
    (void)snprintf(meaning, sizeof meaning, "Windows socket error %ld %s = %s", w->code, w->name,
                   w->errno_name);
    (void)mqtls__explain_add_input(r, ctx, "winsock", text, meaning);
    return mqtls__explain_lookup_name(r, ctx, w->errno_name); /* the errno names the causes */
}

bool mqtls__explain_winsock(mqtls_explain_t *r, scan_ctx_t *ctx, long code)
{
    const winsock_entry_t *w = winsock_find(code, NULL);
    return w != NULL && winsock_entry(r, ctx, w);
}

/* ---------------------------------------------------------------- symbolic names */

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A CONNACK reason by its name in any spelling: MQTT 5 names from src/packet/names.c (HiveMQ
 * NOT_AUTHORIZED, MQTTnet NotAuthorized, EMQX not_authorized) and the two 3.1.1-only ones. */
static bool reason_by_name(mqtls_explain_t *r, scan_ctx_t *ctx, const char *squashed)
{
    if (strcmp(squashed, "identifierrejected") == 0) {
        return mqtls__explain_connack(r, ctx, 2, false);
    }
    if (strcmp(squashed, "unacceptableprotocolversion") == 0) {
        return mqtls__explain_connack(r, ctx, 1, false);
    }
    for (unsigned code = 0x80; code <= 0xA2; code++) {
        if ((mqtls__reason_packets((uint8_t)code) & (1u << MQTLS_CONNACK)) == 0) {
            continue;
        }
        char name[64];
        mqtls__explain_squash(name, sizeof name, mqtls_reason_name(MQTLS_CONNACK, (uint8_t)code));
        if (strlen(name) >= 10 && strcmp(name, squashed) == 0) {
            return mqtls__explain_reason5(r, ctx, (int)code, false);
        }
    }
    return false;
}

static void symbol(mqtls_explain_t *r, scan_ctx_t *ctx, const char *tok, bool reason_context)
{
    if (starts(tok, "mbedtls_err_") || starts(tok, "mbedtls_x509_badcert_") ||
        starts(tok, "esp_err_") || starts(tok, "mqttclient_") || starts(tok, "mqtt_connection_")) {
        (void)mqtls__explain_lookup_name(r, ctx, tok);
        return;
    }
    if (starts(tok, "br_err_")) {
        for (size_t i = 0; i < ARRAY_LEN(bearssl_codes); i++) {
            if (mqtls__explain_ieq(tok, bearssl_codes[i].name)) {
                bearssl_entry(r, ctx, &bearssl_codes[i]);
            }
        }
        return;
    }
    if (starts(tok, "wsa")) {
        const winsock_entry_t *w = winsock_find(-1, tok);
        if (w != NULL) {
            (void)winsock_entry(r, ctx, w);
        }
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(sdk_symbols); i++) {
        const sdk_symbol_t *e = &sdk_symbols[i];
        if (mqtls__explain_ieq(tok, e->name)) {
            if (mqtls__explain_add_input(r, ctx, "sdk", e->name, e->meaning)) {
                mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), false, e->name);
            }
            return;
        }
    }
    if (reason_context) {
        char squashed[64];
        mqtls__explain_squash(squashed, sizeof squashed, tok);
        if (strlen(squashed) >= 10) {
            (void)reason_by_name(r, ctx, squashed);
        }
    }
}

/* Identifiers of the (lowercased) line: runs of [a-z0-9_] of 10..63 characters. */
static void scan_symbols(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bool reason_context =
        mqtls__explain_contains_any(ctx, line, "connack|connect|reason|refused|result|code");
    for (const char *p = line; *p != '\0';) {
        if (!(isalnum((unsigned char)*p) || *p == '_')) {
            p++;
            continue;
        }
        const char *start = p;
        bool underscore = false;
        while (isalnum((unsigned char)*p) || *p == '_') {
            underscore = underscore || *p == '_';
            p++;
        }
        size_t n = (size_t)(p - start);
        if (n < 10 || n > 63 || (!underscore && !reason_context)) {
            continue;
        }
        char tok[64];
        memcpy(tok, start, n);
        tok[n] = '\0';
        symbol(r, ctx, tok, reason_context);
    }
}

/* BearSSL's texts (the ESP8266 core prints them for getLastSSLError(buf, len)). */
static void scan_bearssl_texts(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    for (size_t i = 0; i < ARRAY_LEN(bearssl_codes); i++) {
        if (mqtls__explain_find(ctx, line, bearssl_codes[i].text) != NULL) {
            bearssl_entry(r, ctx, &bearssl_codes[i]);
        }
    }
}

/* ---------------------------------------------------------------- alert spellings */

/* The direction of an alert RECEIVED by whoever wrote the line (a client unless the line is
 * the broker's). */
static enum side received_dir(const scan_ctx_t *ctx)
{
    return mqtls__explain_alert_dir(ctx->line_side == SIDE_BROKER);
}

/* Go: "remote error: tls: bad certificate" (received), "local error: tls: ..." (sent). */
static void scan_go_alerts(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    static const char *const keys[] = {"remote error: tls: ", "local error: tls: "};
    for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
        const char *p = mqtls__explain_find(ctx, line, keys[k]);
        if (p == NULL) {
            continue;
        }
        int num = mqtls__explain_alert_by_go_text(p + strlen(keys[k]));
        if (num < 0) {
            continue;
        }
        bool writer_is_broker = ctx->line_side == SIDE_BROKER;
        enum side dir =
            k == 0 ? received_dir(ctx) : mqtls__explain_alert_dir(!writer_is_broker); /* sent */
        (void)mqtls__explain_alert(r, ctx, num, dir);
    }
}

/* Erlang/OTP ssl: "TLS server: In state certify received CLIENT ALERT: Fatal - Unknown CA",
 * "generated SERVER ALERT: Fatal - Insufficient Security - no_suitable_ciphers". CLIENT ALERT
 * = the client sent it, SERVER ALERT = the server did. */
static void scan_erlang_alerts(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    const char *p = mqtls__explain_find(ctx, line, "fatal - ");
    if (p == NULL) {
        return;
    }
    int num = mqtls__explain_alert_by_squashed(p + strlen("fatal - "));
    if (num < 0) {
        return;
    }
    enum side dir = ctx->line_side;
    if (mqtls__explain_find(ctx, line, "client alert") != NULL) {
        dir = mqtls__explain_alert_dir(true);
    } else if (mqtls__explain_find(ctx, line, "server alert") != NULL) {
        dir = mqtls__explain_alert_dir(false);
    }
    (void)mqtls__explain_alert(r, ctx, num, dir);
}

/* Erlang/OTP before 21: "SSL: certify: ssl_alert.erl:88:Fatal error: certificate expired", and
 * the error tuple of OTP 19/20 "{tls_alert,"unknown ca"}". The file:line is where the alert
 * record was made: ssl_alert.erl decodes the alerts RECEIVED from the peer, any other module
 * (ssl_handshake.erl, ssl_connection.erl ...) raised the writer's own. The tuple does not say;
 * it is read as received, like OpenSSL's "alert ..." texts. Erlang ssl logs in the MQTT world
 * are a broker's (EMQX, VerneMQ, RabbitMQ) unless the line says otherwise. */
static void scan_erlang_old_alerts(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bool writer_is_broker = ctx->line_side != SIDE_CLIENT;
    const char *p = mqtls__explain_find(ctx, line, "fatal error: ");
    if (p != NULL && mqtls__explain_find(ctx, line, ".erl:") != NULL) {
        int num = mqtls__explain_alert_by_squashed(p + strlen("fatal error: "));
        bool received = mqtls__explain_find(ctx, line, "ssl_alert.erl:") != NULL;
        if (num >= 0) {
            (void)mqtls__explain_alert(
                r, ctx, num,
                mqtls__explain_alert_dir(received ? writer_is_broker : !writer_is_broker));
        }
    }
    p = mqtls__explain_find(ctx, line, "{tls_alert,");
    if (p != NULL && mqtls__explain_find(ctx, line, "fatal - ") == NULL) {
        p += strlen("{tls_alert,");
        p += strspn(p, "{\"' ");
        int num = mqtls__explain_alert_by_squashed(p);
        if (num >= 0) {
            (void)mqtls__explain_alert(r, ctx, num, mqtls__explain_alert_dir(writer_is_broker));
        }
    }
}

/* Java "Received fatal alert: handshake_failure", .NET "the remote party sent a TLS alert:
 * 'HandshakeFailure'": received by the writer. */
static void scan_received_alerts(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    static const char *const keys[] = {"received fatal alert: ", "sent a tls alert: '"};
    for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
        const char *p = mqtls__explain_find(ctx, line, keys[k]);
        if (p == NULL) {
            continue;
        }
        int num = mqtls__explain_alert_by_squashed(p + strlen(keys[k]));
        if (num >= 0) {
            (void)mqtls__explain_alert(r, ctx, num, received_dir(ctx));
        }
    }
}

void mqtls__explain_scan_vocab(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    scan_go_alerts(r, ctx, line);
    scan_erlang_alerts(r, ctx, line);
    scan_erlang_old_alerts(r, ctx, line);
    scan_received_alerts(r, ctx, line);
    scan_bearssl_texts(r, ctx, line);
    scan_symbols(r, ctx, line);
}
