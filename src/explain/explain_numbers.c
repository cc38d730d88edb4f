/* mqtls explain: codes inside a log line, in every spelling the MQTT world prints them.
 *
 *   mbedTLS   "-0x2700", glued to the next word ("-0x52iot_tls_connect"), in decimal ("-9984",
 *             arduino-esp32 "(-76)"), as hex digits without 0x (MicroPython "-2880"), as
 *             "UNKNOWN ERROR CODE (004C)" or as the mbedtls_strerror() text itself
 *   flags     "esp_tls_cert_verify_flags=65536", "flags: 0x10008", "flags 00010000" (%08x)
 *   esp-tls   "0x8008", "Reported from esp-tls: 32791"
 *   errno     "errno=113", "[Errno 111]", WinSock "[WinError 10061]"
 *   MQTT      "return code 5", "result code 5", "rc=5", "MQTTException: 2", "[CONNACK] 0x1",
 *             mosquitto "Sending CONNACK to 10.0.0.5 (0, 5)", "reason code 135"
 *   Paho C    "rc=-1";  PubSubClient (Arduino) "failed, rc=-2", "state -4"
 *   BearSSL   "getLastSSLError = 54"
 *   alerts    "[2:48]", "alert 48"
 * Which reading a number gets depends on its line and the input's context (ESP-IDF? Arduino?),
 * and an mbedTLS reading is taken only when the linked mbedTLS knows every part of the code.
 * Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"

#define MBED_MAX 0x7FFFu

/* ---------------------------------------------------------------- mbedTLS codes */

/* "-0x2700", and "-0x52iot_tls_connect": at most 4 hex digits, then the glued word. */
static void scan_minus_0x(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    for (const char *p = mqtls__explain_find(ctx, line, "-0x"); p != NULL;
         p = strstr(p + 3, "-0x")) {
        const char *d = p + 3;
        size_t n = 0;
        while (n < 8 && isxdigit((unsigned char)d[n])) {
            n++;
        }
        size_t use = n;
        if (n > 4) {
            /* "-0x7200failed", "-0x2700error": 4 digits, then a word whose first letters
             * happen to be hex digits; anything else is not an mbedTLS code. */
            bool glued = isalpha((unsigned char)d[n]);
            for (size_t i = 4; i < n; i++) {
                glued = glued && isalpha((unsigned char)d[i]);
            }
            if (!glued) {
                continue;
            }
            use = 4;
        } else if (n == 0 || isdigit((unsigned char)d[n])) {
            continue;
        }
        unsigned v = 0;
        for (size_t i = 0; i < use; i++) {
            int c = tolower((unsigned char)d[i]);
            v = v * 16u + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
        }
        if (v > 0 && v <= MBED_MAX) {
            mqtls__explain_mbedtls(r, ctx, v, false, NULL);
        }
    }
}

/* Digits of @p d (@p n of them) as decimal and as hex. */
static void digits_value(const char *d, size_t n, unsigned *dec, unsigned *hex)
{
    *dec = 0;
    *hex = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[i] - '0');
        *dec = *dec * 10u + v;
        *hex = *hex * 16u + v;
    }
}

/* A negative number of 3-5 digits (or "(-NN)") in a line about TLS: mbedTLS in decimal
 * ("x509 parse failed: -8576", arduino "(-9984)") or hex printed without 0x ("-2880"). The
 * reading the linked mbedTLS knows wins; when both are codes, the decimal one (%d is the
 * usual format) and the other is listed as considered. */
static void scan_negative_codes(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    if (!mqtls__explain_contains_any(ctx, line,
                                     "mbedtls|ssl|tls|x509|handshake|oserror|crt_parse|pk_parse")) {
        return;
    }
    for (const char *p = strchr(line, '-'); p != NULL; p = strchr(p + 1, '-')) {
        char before = p == line ? ' ' : p[-1];
        if (isalnum((unsigned char)before) || before == '-' || before == '.' || before == '_') {
            continue;
        }
        size_t n = 0;
        while (n < 6 && isdigit((unsigned char)p[1 + n])) {
            n++;
        }
        char after = p[1 + n];
        if (n < 2 || n > 5 || isalnum((unsigned char)after) || after == '.' ||
            (n == 2 && !(before == '(' && after == ')'))) {
            continue;
        }
        unsigned dec = 0;
        unsigned hex = 0;
        digits_value(p + 1, n, &dec, &hex);
        bool dec_ok = dec <= MBED_MAX && mqtls__explain_mbedtls_plausible(dec);
        bool hex_ok = hex <= MBED_MAX && hex != dec && mqtls__explain_mbedtls_plausible(hex);
        char note[96];
        char text[16];
        (void)snprintf(text, sizeof text, "-%.*s", (int)n, p + 1);
        if (dec_ok) {
            (void)snprintf(note, sizeof note, "decimal %s = ", text);
            mqtls__explain_mbedtls(r, ctx, dec, false, note);
        }
        if (hex_ok) {
            (void)snprintf(note, sizeof note, "%sdigits %s read as hex (printed with %%x) = ",
                           dec_ok ? "also considered: " : "", text);
            mqtls__explain_mbedtls(r, ctx, hex, dec_ok, note);
        }
    }
}

/* mbedtls_strerror() of a code it has no text for: "UNKNOWN ERROR CODE (004C)". */
static void scan_unknown_error_code(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    static const char key[] = "unknown error code (";
    for (const char *p = mqtls__explain_find(ctx, line, key); p != NULL; p = strstr(p + 1, key)) {
        unsigned v = 0;
        size_t n = 0;
        const char *d = p + strlen(key);
        while (n < 4 && isxdigit((unsigned char)d[n])) {
            int c = tolower((unsigned char)d[n]);
            v = v * 16u + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
            n++;
        }
        if (n > 0 && d[n] == ')' && v > 0 && v <= MBED_MAX) {
            mqtls__explain_mbedtls(r, ctx, v, false, "mbedtls_strerror() had no text for ");
        }
    }
}

/* ---------------------------------------------------------------- flags, esp-tls, errno */

static void scan_flags_and_esp(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line,
                               bool errno_named)
{
    number_t n;
    /* esp_tls_stack_err / "tls stack error number" printed as %d or 0x%x of a negative int. */
    if (mqtls__explain_number_after(ctx, line, "stack_err", &n) ||
        mqtls__explain_number_after(ctx, line, "stack error number", &n)) {
        unsigned long long m = n.mag;
        if (!n.neg && m > 0xFFFF0000ull && m <= 0xFFFFFFFFull) {
            m = 0x100000000ull - m; /* 0xffffd900 -> 0x2700 */
        }
        if (m > 0 && m <= MBED_MAX && (n.neg || m != n.mag || n.hex)) {
            mqtls__explain_mbedtls(r, ctx, (unsigned)m, false, NULL);
        }
    }
    /* Verify flags: "esp_tls_cert_verify_flags=65536", "flags: 0x10008"; mbedTLS's debug log
     * prints "%08x" ("flags 00010000"): eight digits with a leading zero are hex. */
    if (mqtls__explain_number_after(ctx, line, "flags", &n) && !n.neg && n.mag > 0) {
        unsigned long long v = n.mag;
        if (!n.hex && n.used == 8 && n.as_hex_ok) {
            const char *f = mqtls__explain_find(ctx, line, "flags");
            const char *q = f != NULL ? f + 5 : NULL;
            while (q != NULL && (*q == ' ' || *q == ':' || *q == '=')) {
                q++;
            }
            if (q != NULL && q[0] == '0') {
                v = n.as_hex;
            }
        }
        if (v <= 0xFFFFFu) {
            char text[32];
            (void)snprintf(text, sizeof text, "0x%05llX", v);
            mqtls__explain_flags(r, ctx, (uint32_t)v, text, false, NULL);
        }
    }
    /* esp-tls codes: "Last error code reported from esp-tls: 0x8008", "last_esp_err=32794". */
    if ((ctx->esp || mqtls__explain_find(ctx, line, "esp") != NULL) &&
        (mqtls__explain_number_after(ctx, line, "esp-tls:", &n) ||
         mqtls__explain_number_after(ctx, line, "esp_err", &n) ||
         mqtls__explain_number_after(ctx, line, "new connection:", &n) ||
         mqtls__explain_number_after(ctx, line, "error code", &n))) {
        if (!n.neg && n.mag >= 0x8001u && n.mag <= 0x80FFu) {
            mqtls__explain_esp(r, ctx, (unsigned)n.mag, false);
        }
    }
    for (const char *p = mqtls__explain_find(ctx, line, "0x80"); ctx->esp && p != NULL;
         p = strstr(p + 4, "0x80")) {
        n = mqtls__explain_parse_number(p);
        if (n.ok && n.mag >= 0x8001u && n.mag <= 0x80FFu && (p == line || p[-1] != '-')) {
            mqtls__explain_esp(r, ctx, (unsigned)n.mag, false);
        }
    }
    /* errno numbers: "errno=128", "(errno 113)", "[Errno 111]"; WinSock's: "[WinError 10061]",
     * "[Errno 10061]". A name on the line ("[Errno 113] ECONNABORTED") says which numbering
     * it is; then the number is not read. */
    if (!errno_named && mqtls__explain_number_after(ctx, line, "errno", &n) && !n.hex && !n.neg) {
        if (n.mag >= 10000) {
            (void)mqtls__explain_winsock(r, ctx, (long)n.mag);
        } else {
            mqtls__explain_errno_num(r, ctx, (long)n.mag);
        }
    }
    if (mqtls__explain_number_after(ctx, line, "winerror", &n) ||
        mqtls__explain_number_after(ctx, line, "socket error #", &n)) {
        (void)mqtls__explain_winsock(r, ctx, (long)n.mag);
    }
}

/* ---------------------------------------------------------------- MQTT and library codes */

/* A CONNACK return code (1..5), MQTT 5 reason (0x80..) or a Paho C return code (negative). */
static void rc_number(mqtls_explain_t *r, scan_ctx_t *ctx, const number_t *n, bool allow_hex)
{
    if (n->neg && n->mag >= 1 && n->mag <= 17) {
        if (r->clues & CLUE_ARDUINO) {
            (void)mqtls__explain_pubsub(r, ctx, -(int)n->mag); /* PubSubClient's state() */
        } else {
            mqtls__explain_paho(r, ctx, -(int)n->mag);
        }
    } else if (!n->neg && n->mag <= 5 && (allow_hex || !n->hex)) {
        mqtls__explain_connack(r, ctx, (int)n->mag, false);
    } else if (!n->neg && n->mag >= 0x80 && n->mag <= 0xA2) {
        mqtls__explain_reason5(r, ctx, (int)n->mag, false);
    }
}

/* mosquitto's broker log: "Sending CONNACK to 10.5.16.196 (0, 5)" (session present, code). */
static void scan_mosquitto_connack(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    const char *p = mqtls__explain_find(ctx, line, "sending connack to ");
    p = p != NULL ? strchr(p, '(') : NULL;
    if (p == NULL || !isdigit((unsigned char)p[1]) || p[2] != ',' || p[3] != ' ') {
        return;
    }
    number_t n = mqtls__explain_parse_number(p + 4);
    if (n.ok && p[4 + n.used] == ')') {
        rc_number(r, ctx, &n, false);
    }
}

static void scan_rc(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    number_t n;
    /* on_disconnect's rc is not a CONNACK code ("Disconnect result code 1": lost). */
    bool disconnect = mqtls__explain_find(ctx, line, "disconnect") != NULL;
    if (!disconnect && (mqtls__explain_number_after(ctx, line, "return code", &n) ||
                        mqtls__explain_number_after(ctx, line, "result code", &n) ||
                        mqtls__explain_number_after(ctx, line, "rc=", &n) ||
                        mqtls__explain_number_after(ctx, line, "rc:", &n) ||
                        mqtls__explain_number_after(ctx, line, " rc ", &n))) {
        rc_number(r, ctx, &n, false);
    }
    if (mqtls__explain_number_after(ctx, line, "mqttexception:", &n) ||
        mqtls__explain_number_after(ctx, line, "connection not accepted:", &n) ||
        mqtls__explain_number_after(ctx, line, "connack", &n)) {
        rc_number(r, ctx, &n, true);
    }
    scan_mosquitto_connack(r, ctx, line);
    if ((mqtls__explain_number_after(ctx, line, "reason code", &n) ||
         mqtls__explain_number_after(ctx, line, "reason_code", &n) ||
         mqtls__explain_number_after(ctx, line, "reason:", &n)) &&
        !n.neg && n.mag >= 0x80 && n.mag <= 0xFF) {
        mqtls__explain_reason5(r, ctx, (int)n.mag, false);
    }
    /* Arduino: PubSubClient's "state -2", BearSSL's getLastSSLError() (arduino-esp32's
     * lastError() is a negative mbedTLS code). */
    if ((r->clues & CLUE_ARDUINO) && mqtls__explain_number_after(ctx, line, "state", &n) &&
        n.mag <= 5 && !n.hex) {
        (void)mqtls__explain_pubsub(r, ctx, n.neg ? -(int)n.mag : (int)n.mag);
    }
    /* Tasmota: "MQT: TLS connection error: 55" (BearSSL's br_ssl_engine_last_error()). */
    if (mqtls__explain_number_after(ctx, line, "tls connection error", &n) && !n.hex && !n.neg &&
        n.mag > 0) {
        (void)mqtls__explain_bearssl(r, ctx, (long)n.mag);
    }
    if (mqtls__explain_number_after(ctx, line, "getlastsslerror", &n) && !n.hex) {
        if (n.neg && n.mag <= MBED_MAX && mqtls__explain_mbedtls_plausible((unsigned)n.mag)) {
            mqtls__explain_mbedtls(r, ctx, (unsigned)n.mag, false, "arduino-esp32 lastError() ");
        } else if (!n.neg) {
            (void)mqtls__explain_bearssl(r, ctx, (long)n.mag);
        }
    }
}

static void scan_alert_numbers(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    number_t n;
    /* mbedTLS debug "got an alert message, type: [2:48]", "alert 48", BoringSSL "SSL alert
     * number 71". */
    if (mqtls__explain_find(ctx, line, "alert") != NULL &&
        (mqtls__explain_number_after(ctx, line, "[2:", &n) ||
         mqtls__explain_number_after(ctx, line, "alert", &n) ||
         mqtls__explain_number_after(ctx, line, "alert number", &n)) &&
        !n.neg && !n.hex && n.mag <= 255) {
        mqtls__explain_alert(r, ctx, (int)n.mag,
                             ctx->line_side == SIDE_BROKER ? SIDE_BROKER : SIDE_CLIENT);
    }
}

void mqtls__explain_scan_numbers(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    scan_minus_0x(r, ctx, line);
    scan_negative_codes(r, ctx, line);
    scan_unknown_error_code(r, ctx, line);
    mqtls__explain_mbedtls_by_text(r, ctx, line);
    bool errno_named = mqtls__explain_scan_errno_names(r, ctx, line);
    scan_flags_and_esp(r, ctx, line, errno_named);
    scan_rc(r, ctx, line);
    scan_alert_numbers(r, ctx, line);
    mqtls__explain_scan_alert_names(r, ctx, line);
    if (mqtls__explain_find(ctx, line, "test.mosquitto.org") != NULL) {
        r->saw_test_mosquitto = true;
        mqtls__explain_add_input(
            r, ctx, "host", "test.mosquitto.org",
            "the public Mosquitto test broker: port 8883 = TLS with server certificate, "
            "8884 = TLS + client certificate required, 8885 = TLS + password. Its CA is "
            "https://test.mosquitto.org/ssl/mosquitto.org.crt");
    }
}
