/* mqtls explain: logs of any size, one line at a time through a fixed window (a 1 MiB line
 * costs no memory and every loop is bounded by the input length). Each line is lowercased,
 * its context noted (ESP-IDF output? a mosquitto broker log?), then searched for message
 * phrases (explain_phrases.h) and for codes, flags, alerts and errno in the text. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"
#include "explain_phrases.h"

/* A long line is scanned in windows of WINDOW bytes that overlap by OVERLAP bytes, so no
 * phrase or code shorter than OVERLAP is split unseen. */
#define WINDOW 2048u
#define OVERLAP 256u

static unsigned bigram(unsigned char a, unsigned char b)
{
    return ((unsigned)a * 31u + (unsigned)b) % BIGRAM_BITS;
}

static void bigrams_build(scan_ctx_t *ctx, const char *line)
{
    memset(ctx->bigrams, 0, sizeof ctx->bigrams);
    for (const unsigned char *p = (const unsigned char *)line; p[0] != 0 && p[1] != 0; p++) {
        unsigned h = bigram(p[0], p[1]);
        ctx->bigrams[h / 64u] |= (uint64_t)1 << (h % 64u);
    }
    ctx->have_bigrams = true;
}

static bool bigram_present(const scan_ctx_t *ctx, const char *at)
{
    unsigned h = bigram((unsigned char)at[0], (unsigned char)at[1]);
    return (ctx->bigrams[h / 64u] >> (h % 64u)) & 1u;
}

const char *mqtls__explain_find(const scan_ctx_t *ctx, const char *line, const char *needle)
{
    size_t n = strlen(needle);
    if (ctx->have_bigrams && n >= 2 &&
        (!bigram_present(ctx, needle) || !bigram_present(ctx, needle + n / 2 - (n / 2 == n - 1)) ||
         !bigram_present(ctx, needle + n - 2))) {
        return NULL;
    }
    return strstr(line, needle);
}

/* ---------------------------------------------------------------- codes in a line */

static const char *skip_to_number(const char *p)
{
    for (int k = 0; k < 8 && *p != '\0'; k++, p++) {
        if (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) {
            return p;
        }
        if (!(*p == ' ' || *p == '=' || *p == ':' || *p == '(' || *p == '[' || *p == '#')) {
            return NULL;
        }
    }
    return NULL;
}

/* Number that follows @p key in @p line (e.g. "errno=113", "flags: 0x10000"). */
static bool number_after(const scan_ctx_t *ctx, const char *line, const char *key, number_t *out)
{
    const char *p = mqtls__explain_find(ctx, line, key);
    for (int guard = 0; p != NULL && guard < 16; guard++) {
        const char *q = skip_to_number(p + strlen(key));
        if (q != NULL) {
            *out = mqtls__explain_parse_number(q);
            if (out->ok) {
                return true;
            }
        }
        p = strstr(p + 1, key);
    }
    return false;
}

static void scan_tokens(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    number_t n;
    /* mbedTLS codes as esp-tls and most apps print them: "returned -0x2700". */
    for (const char *p = mqtls__explain_find(ctx, line, "-0x"); p != NULL;
         p = strstr(p + 3, "-0x")) {
        n = mqtls__explain_parse_number(p);
        if (n.ok && n.mag > 0 && n.mag <= 0x7FFFu) {
            mqtls__explain_mbedtls(r, ctx, (unsigned)n.mag, false, NULL);
        }
    }
    /* esp_tls_stack_err / "tls stack error number" printed as %d or 0x%x of a negative int. */
    if (number_after(ctx, line, "stack_err", &n) ||
        number_after(ctx, line, "stack error number", &n)) {
        unsigned long long m = n.mag;
        if (!n.neg && m > 0xFFFF0000ull && m <= 0xFFFFFFFFull) {
            m = 0x100000000ull - m; /* 0xffffd900 -> 0x2700 */
        }
        if (m > 0 && m <= 0x7FFFu && (n.neg || m != n.mag || n.hex)) {
            mqtls__explain_mbedtls(r, ctx, (unsigned)m, false, NULL);
        }
    }
    /* Verify flags: "esp_tls_cert_verify_flags=65536", "flags: 0x10008". */
    if (number_after(ctx, line, "flags", &n) && !n.neg && n.mag > 0 && n.mag <= 0xFFFFFu) {
        char text[32];
        (void)snprintf(text, sizeof text, "0x%05llX", n.mag);
        mqtls__explain_flags(r, ctx, (uint32_t)n.mag, text, false, NULL);
    }
    /* esp-tls codes: "Last error code reported from esp-tls: 0x8008", "last_esp_err=32794". */
    if ((ctx->esp || mqtls__explain_find(ctx, line, "esp") != NULL) &&
        (number_after(ctx, line, "esp-tls:", &n) || number_after(ctx, line, "esp_err", &n) ||
         number_after(ctx, line, "new connection:", &n) ||
         number_after(ctx, line, "error code", &n))) {
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
    /* errno numbers: "errno=128", "(errno 113)", "errno: 111". */
    if (number_after(ctx, line, "errno", &n) && !n.hex && !n.neg) {
        mqtls__explain_errno_num(r, ctx, (long)n.mag);
    }
    mqtls__explain_scan_errno_names(r, ctx, line);
    /* CONNACK / Paho return codes: "Failed to connect, return code 5", "rc=-1". */
    if (number_after(ctx, line, "return code", &n) || number_after(ctx, line, "rc=", &n) ||
        number_after(ctx, line, " rc ", &n)) {
        if (n.neg && n.mag >= 1 && n.mag <= 17) {
            mqtls__explain_paho(r, ctx, -(int)n.mag);
        } else if (!n.neg && n.mag <= 5 && !n.hex) {
            mqtls__explain_connack(r, ctx, (int)n.mag, false);
        } else if (!n.neg && n.mag >= 0x80 && n.mag <= 0xA2) {
            mqtls__explain_reason5(r, ctx, (int)n.mag, false);
        }
    }
    if ((number_after(ctx, line, "reason code", &n) || number_after(ctx, line, "reason_code", &n) ||
         number_after(ctx, line, "reason:", &n)) &&
        !n.neg && n.mag >= 0x80 && n.mag <= 0xFF) {
        mqtls__explain_reason5(r, ctx, (int)n.mag, false);
    }
    /* TLS alerts: mbedTLS debug "got an alert message, type: [2:48]", "alert 48". */
    if (mqtls__explain_find(ctx, line, "alert") != NULL) {
        if (number_after(ctx, line, "[2:", &n) || number_after(ctx, line, "alert", &n) ||
            number_after(ctx, line, "alert number", &n)) {
            if (!n.neg && !n.hex && n.mag <= 255) {
                mqtls__explain_alert(r, ctx, (int)n.mag,
                                     ctx->side == SIDE_BROKER ? SIDE_BROKER : SIDE_CLIENT);
            }
        }
    }
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

/* Does @p line contain any of the '|'-separated alternatives in @p list? */
static bool contains_any(const scan_ctx_t *ctx, const char *line, const char *list)
{
    while (list != NULL && *list != '\0') {
        const char *bar = strchr(list, '|');
        size_t n = bar != NULL ? (size_t)(bar - list) : strlen(list);
        char alt[64];
        if (n >= sizeof alt) {
            n = sizeof alt - 1;
        }
        memcpy(alt, list, n);
        alt[n] = '\0';
        if (n > 0 && mqtls__explain_find(ctx, line, alt) != NULL) {
            return true;
        }
        list = bar != NULL ? bar + 1 : NULL;
    }
    return false;
}

static void scan_phrases(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    for (size_t i = 0; i < ARRAY_LEN(phrases); i++) {
        const phrase_entry_t *ph = &phrases[i];
        if (mqtls__explain_find(ctx, line, ph->needle) == NULL ||
            contains_any(ctx, line, ph->exclude)) {
            continue;
        }
        switch (ph->special) {
        case PH_VERIFY_INFO:
            mqtls__explain_verify_info(r, ctx, ph->arg);
            continue;
        default:
            break;
        }
        bool broker = ctx->side == SIDE_BROKER && ph->broker[0].w > 0;
        char meaning[640];
        (void)snprintf(meaning, sizeof meaning, "%s: %s%s", ph->source, ph->meaning,
                       broker ? " (broker log: this is about the CLIENT's certificate)" : "");
        char ev[96];
        (void)snprintf(ev, sizeof ev, "\"%s\"", ph->needle);
        if (!mqtls__explain_add_input(r, ctx, "message", ph->needle, meaning)) {
            continue;
        }
        if (ph->special == PH_VERIFY_FAILED && !broker) {
            r->saw_verify_failed = true;
            continue;
        }
        mqtls__explain_add_weights(r, broker ? ph->broker : ph->to, 3, false, ev);
    }
    mqtls__explain_scan_alert_phrases(r, ctx, line);
}

static bool line_is_broker(const char *line)
{
    for (size_t i = 0; i < ARRAY_LEN(broker_markers); i++) {
        if (strstr(line, broker_markers[i]) != NULL) {
            return true;
        }
    }
    /* mosquitto prefixes every log line with the Unix time: "1700000000: ". */
    size_t d = 0;
    while (isdigit((unsigned char)line[d]) && d < 12) {
        d++;
    }
    return d >= 9 && line[d] == ':' && line[d + 1] == ' ';
}

static bool line_is_esp(const char *line)
{
    for (size_t i = 0; i < ARRAY_LEN(esp_markers); i++) {
        if (strstr(line, esp_markers[i]) != NULL) {
            return true;
        }
    }
    /* ESP_LOGx: "E (1193558) tag: ..." */
    const char *p = line;
    while (*p == ' ') {
        p++;
    }
    return (p[0] == 'e' || p[0] == 'w' || p[0] == 'i' || p[0] == 'd') && p[1] == ' ' &&
           p[2] == '(' && isdigit((unsigned char)p[3]);
}

static bool line_is_client(const char *line)
{
    return strncmp(line, "error: ", 7) == 0 || strstr(line, "connection error:") != NULL ||
           strstr(line, "mosquitto_pub") != NULL || strstr(line, "mosquitto_sub") != NULL ||
           strstr(line, "mqttclient") != NULL || strstr(line, "sslsocket") != NULL;
}

typedef void (*window_fn)(mqtls_explain_t *r, scan_ctx_t *ctx, const char *lower);

/* Call @p fn for every line of @p text (lowercased, NUL-free, at most WINDOW bytes at a time;
 * longer lines in overlapping windows). Bounded by len / (WINDOW - OVERLAP) + lines. */
static void for_each_window(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text, size_t len,
                            window_fn fn)
{
    char buf[WINDOW + 1];
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t off = pos;
        for (;;) {
            size_t n = end - off < WINDOW ? end - off : WINDOW;
            mqtls__explain_lower_copy(buf, text + off, n);
            fn(r, ctx, buf);
            if (off + n >= end) {
                break;
            }
            off += WINDOW - OVERLAP;
        }
        pos = end + 1;
    }
}

static void detect_context(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    (void)r;
    if (line_is_esp(line)) {
        ctx->esp = true;
    }
    if (line_is_broker(line)) {
        ctx->side = SIDE_BROKER;
    } else if (ctx->side == SIDE_UNKNOWN && line_is_client(line)) {
        ctx->side = SIDE_CLIENT;
    }
}

static void scan_line(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bigrams_build(ctx, line);
    scan_phrases(r, ctx, line);
    scan_tokens(r, ctx, line);
}

void mqtls__explain_scan_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text, size_t len)
{
    for_each_window(r, ctx, text, len, detect_context);
    for_each_window(r, ctx, text, len, scan_line);
}
