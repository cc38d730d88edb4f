/* mqtls explain: logs of any size, one line at a time through a fixed window (a 1 MiB line
 * costs no memory and every loop is bounded by the input length). A first pass notes the
 * context (ESP-IDF output? a broker's log? which ports, which tools?), the second reads each
 * line: who wrote it and whose certificate it is about, then message phrases
 * (explain_phrases*.h), other ecosystems' spellings (explain_vocab.c) and codes
 * (explain_numbers.c). Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"
#include "explain_phrases.h"
#include "explain_phrases_apps.h"

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

/* ---------------------------------------------------------------- numbers after a key */

static const char *skip_to_number(const char *p)
{
    for (int k = 0; k < 8 && *p != '\0'; k++, p++) {
        if (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) {
            return p;
        }
        if (!(*p == ' ' || *p == '=' || *p == ':' || *p == '(' || *p == '[' || *p == ']' ||
              *p == '#')) {
            return NULL;
        }
    }
    return NULL;
}

bool mqtls__explain_number_after(const scan_ctx_t *ctx, const char *line, const char *key,
                                 number_t *out)
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

bool mqtls__explain_contains_any(const scan_ctx_t *ctx, const char *line, const char *list)
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

/* Is the phrase in the line, as written or (OpenSSL reasons) in its UPPER_SNAKE form? */
static bool phrase_in_line(const scan_ctx_t *ctx, const char *line, const phrase_entry_t *ph)
{
    if (mqtls__explain_find(ctx, line, ph->needle) != NULL) {
        return true;
    }
    size_t n = strlen(ph->needle);
    if ((ph->special & PH_SNAKE) == 0 || n >= 64) {
        return false;
    }
    char snake[64];
    for (size_t i = 0; i <= n; i++) {
        snake[i] = ph->needle[i] == ' ' ? '_' : ph->needle[i];
    }
    return mqtls__explain_find(ctx, line, snake) != NULL;
}

/* A phrase was found: whose certificate is it about, then its votes. */
static void phrase_hit(mqtls_explain_t *r, scan_ctx_t *ctx, const phrase_entry_t *ph)
{
    if (ph->special & PH_VERIFY_INFO) {
        mqtls__explain_verify_info(r, ctx, ph->arg);
        return;
    }
    if (ph->special & PH_CLUE) {
        r->clues |= ph->arg;
    }
    bool broker_wrote = ctx->line_side == SIDE_BROKER;
    bool own = ctx->subject == LINE_OWN || (ctx->subject == LINE_ANY && (ph->special & PH_OWN));
    bool about_client = ctx->subject == LINE_CLIENT_CERT ||
                        (ctx->subject != LINE_SERVER_CERT && (own ? !broker_wrote : broker_wrote));
    bool two_readings = ph->broker[0].w > 0;
    bool server_own = !about_client && own && (ph->special & PH_SERVER_OWN);
    const weight_t *votes = about_client && two_readings ? ph->broker : ph->to;
    char meaning[640];
    (void)snprintf(meaning, sizeof meaning, "%s: %s%s", ph->source, ph->meaning,
                   server_own                     ? " (here: the broker's own certificate/key)"
                   : about_client && two_readings ? " (here: about the CLIENT's certificate)"
                                                  : "");
    char ev[96];
    (void)snprintf(ev, sizeof ev, "\"%s\"", ph->needle);
    if (!mqtls__explain_add_input(r, ctx, "message", ph->needle, meaning)) {
        return;
    }
    if ((ph->special & PH_VERIFY_FAILED) && !about_client) {
        r->saw_verify_failed = true;
        return;
    }
    if (server_own) {
        mqtls__explain_add_cause(r, (mqtls__finding_id_t)ph->arg, 5, ev);
    } else {
        mqtls__explain_add_weights(r, votes, 3, false, ev);
    }
    /* Nothing said whose certificate it is (no writer, no function name): the other reading
     * stays in the list as a runner-up. */
    if (two_readings && ctx->subject == LINE_ANY && ctx->line_side == SIDE_UNKNOWN) {
        const weight_t *other = votes == ph->broker ? ph->to : ph->broker;
        for (size_t i = 0; i < 3 && other[i].w > 0; i++) {
            mqtls__explain_add_cause(r, other[i].id, 1, ev);
        }
    }
}

static void scan_phrases(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line,
                         const phrase_entry_t *tab, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const phrase_entry_t *ph = &tab[i];
        if (phrase_in_line(ctx, line, ph) && !mqtls__explain_contains_any(ctx, line, ph->exclude)) {
            phrase_hit(r, ctx, ph);
        }
    }
}

/* ---------------------------------------------------------------- who wrote it, about whom */

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
    for (size_t i = 0; i < ARRAY_LEN(client_markers); i++) {
        if (strstr(line, client_markers[i]) != NULL) {
            return true;
        }
    }
    return strncmp(line, "error: ", 7) == 0;
}

/* Whose certificate or key the line is about, when it says: OpenSSL 1.x function names,
 * loading functions of any library, Erlang's "TLS client:" / "TLS server:". */
static enum line_subject line_subject(const scan_ctx_t *ctx, const char *line)
{
    if (mqtls__explain_contains_any(ctx, line, subject_own)) {
        return LINE_OWN;
    }
    if (mqtls__explain_contains_any(ctx, line, subject_server)) {
        return LINE_SERVER_CERT;
    }
    if (mqtls__explain_contains_any(ctx, line, subject_client)) {
        return LINE_CLIENT_CERT;
    }
    return LINE_ANY;
}

/* Is port @p port named in @p line ("host:8883", "port 8883", "-p 8883")? */
static bool names_port(const char *line, const char *port)
{
    size_t n = strlen(port);
    for (const char *p = strstr(line, port); p != NULL; p = strstr(p + 1, port)) {
        char before = p == line ? ' ' : p[-1];
        if (!isdigit((unsigned char)p[n]) && p[n] != '.' &&
            (before == ':' || before == ' ' || before == '/' || before == '=' || before == '(')) {
            return true;
        }
    }
    return false;
}

/* Keep-alive 0 as mosquitto logs a new client ("(p2, c1, k0)") or as code sets it. */
static bool keepalive_zero(const scan_ctx_t *ctx, const char *line)
{
    const char *k = mqtls__explain_find(ctx, line, ", k0");
    if (k != NULL && (k[4] == ')' || k[4] == ',')) {
        return true;
    }
    static const char *const keys[] = {"keepalive", "keep_alive", "keep-alive", "keep alive"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        const char *p = mqtls__explain_find(ctx, line, keys[i]);
        if (p == NULL) {
            continue;
        }
        p += strlen(keys[i]);
        while (*p == ' ' || *p == '=' || *p == ':') {
            p++;
        }
        if (p[0] == '0' && !isalnum((unsigned char)p[1]) && p[1] != '.') {
            return true;
        }
    }
    return false;
}

/* Facts about the whole input (explain_rules.h uses them). */
static uint32_t line_clues(const scan_ctx_t *ctx, const char *line, bool esp, bool broker)
{
    uint32_t c = broker ? CLUE_BROKER_LOG : 0;
    if (esp || mqtls__explain_contains_any(ctx, line, device_markers)) {
        c |= CLUE_DEVICE;
    }
    if (mqtls__explain_contains_any(ctx, line, arduino_markers)) {
        c |= CLUE_ARDUINO | CLUE_DEVICE;
    }
    if (mqtls__explain_contains_any(ctx, line, aws_markers)) {
        c |= CLUE_AWS;
    }
    if (names_port(line, "8883") || names_port(line, "8884") || names_port(line, "8443") ||
        names_port(line, "443")) {
        c |= CLUE_TLS_PORT;
    }
    if (names_port(line, "1883")) {
        c |= CLUE_PLAIN_PORT;
    }
    if (mqtls__explain_contains_any(ctx, line, "mqtts://|ssl://|tls://|wss://|tcps://")) {
        c |= CLUE_TLS_URI;
    }
    if (mqtls__explain_contains_any(ctx, line, "mqtt://|ws://|tcp://")) {
        c |= CLUE_PLAIN_URI;
    }
    /* mosquitto_pub/sub speak TLS only with a CA (or PSK) option. */
    if (mqtls__explain_contains_any(ctx, line, "mosquitto_pub |mosquitto_sub |mosquitto_rr ")) {
        c |= CLUE_MOSQ_CMD;
        if (mqtls__explain_contains_any(ctx, line,
                                        "--cafile|--capath|--psk |--tls-use-os-certs|mqtts://")) {
            c |= CLUE_MOSQ_CMD_TLS;
        }
        if (mqtls__explain_find(ctx, line, "--cert ") != NULL) {
            c |= CLUE_MOSQ_CMD_CERT;
        }
    }
    if (keepalive_zero(ctx, line)) {
        c |= CLUE_KEEPALIVE_ZERO;
    }
    /* netstat / ss on the broker: "127.0.0.1:1883 ... LISTEN" */
    if (mqtls__explain_find(ctx, line, "127.0.0.1:") != NULL &&
        mqtls__explain_find(ctx, line, "listen") != NULL) {
        c |= CLUE_LOOPBACK_LISTEN;
    }
    return c;
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

/* First pass: who wrote the text (where its lines do not say), and the clues. */
static void detect_context(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bigrams_build(ctx, line);
    bool esp = line_is_esp(line);
    bool broker = line_is_broker(line);
    ctx->esp = ctx->esp || esp;
    if (broker) {
        ctx->broker_lines++;
    } else if (line_is_client(line)) {
        ctx->client_lines++;
    }
    r->clues |= line_clues(ctx, line, esp, broker);
}

static void scan_line(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bigrams_build(ctx, line);
    ctx->line_side = line_is_broker(line)   ? SIDE_BROKER
                     : line_is_client(line) ? SIDE_CLIENT
                                            : ctx->side;
    ctx->subject = line_subject(ctx, line);
    scan_phrases(r, ctx, line, phrases, ARRAY_LEN(phrases));
    scan_phrases(r, ctx, line, phrases_apps, ARRAY_LEN(phrases_apps));
    mqtls__explain_scan_alert_phrases(r, ctx, line);
    mqtls__explain_scan_vocab(r, ctx, line);
    mqtls__explain_scan_numbers(r, ctx, line);
}

void mqtls__explain_scan_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text, size_t len)
{
    for_each_window(r, ctx, text, len, detect_context);
    /* Lines that do not say who wrote them follow the text: a broker's log if only broker
     * lines say so, a client's if only client lines do, unknown if both or neither. */
    if (ctx->broker_lines > 0 && ctx->client_lines == 0) {
        ctx->side = SIDE_BROKER;
    } else if (ctx->client_lines > 0 && ctx->broker_lines == 0) {
        ctx->side = SIDE_CLIENT;
    }
    for_each_window(r, ctx, text, len, scan_line);
}
