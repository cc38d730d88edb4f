/* mqtls explain engine: codes, flags and log phrases -> ranked causes with finding ids.
 *
 * Pure (DESIGN.md): strings in, a caller-owned result out; no printing, no files, no
 * allocation. Logs of any size are read one line at a time through a fixed window, so a
 * 1 MiB line costs no memory and every loop is bounded by the input length. */
#include "mqtls/explain.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"
#include "explain_tables.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The finding ids are defined once, in src/diag/findings.def (owned by diag). */
typedef struct def_entry {
    const char *id;
    const char *title;
} def_entry_t;

static const def_entry_t def_ids[] = {
#define X(symbol, id, severity, title) {id, title},
#include "diag/findings.def"
#undef X
};

_Static_assert(ARRAY_LEN(catalogue) == ARRAY_LEN(def_ids),
               "explain_tables.h must explain every id of src/diag/findings.def");

/* A long line is scanned in windows of WINDOW bytes that overlap by OVERLAP bytes, so no
 * phrase or code shorter than OVERLAP is split unseen. */
#define WINDOW 2048u
#define OVERLAP 256u

enum side { SIDE_UNKNOWN = 0, SIDE_CLIENT = 1, SIDE_BROKER = 2 };

/* Bigrams present in the current line: a needle whose first, middle or last bigram is absent
 * cannot occur, so most of the ~250 needles are rejected without a strstr() (16 MiB logs). */
#define BIGRAM_BITS 2048u

typedef struct scan_ctx {
    enum side side;
    bool esp;
    bool any; /* something was recognised during this call */
    bool have_bigrams;
    uint64_t bigrams[BIGRAM_BITS / 64u];
} scan_ctx_t;

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

/* strstr() with the bigram pre-check. */
static const char *find(const scan_ctx_t *ctx, const char *line, const char *needle)
{
    size_t n = strlen(needle);
    if (ctx->have_bigrams && n >= 2 &&
        (!bigram_present(ctx, needle) || !bigram_present(ctx, needle + n / 2 - (n / 2 == n - 1)) ||
         !bigram_present(ctx, needle + n - 2))) {
        return NULL;
    }
    return strstr(line, needle);
}

/* ---------------------------------------------------------------- small string helpers */

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (cap == 0) {
        return;
    }
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void append_str(char *dst, size_t cap, const char *src)
{
    size_t used = strlen(dst);
    if (used + 1 >= cap) {
        return;
    }
    copy_str(dst + used, cap - used, src);
}

static bool ieq(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a);
        int cb = tolower((unsigned char)*b);
        if (ca != cb) {
            return false;
        }
        if (ca == 0) {
            return true;
        }
    }
}

/* Lowercase copy with control bytes (NUL, ESC, ...) turned into spaces. */
static void lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)tolower(c);
    }
    dst[len] = '\0';
}

static const catalogue_entry_t *catalogue_find(const char *id)
{
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        if (strcmp(catalogue[i].id, id) == 0) {
            return &catalogue[i];
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- result building */

/* Add an input unless the same (kind, text) is already there. @return true if new: causes
 * are only added for new inputs, so a line repeated 1000 times counts once. */
static bool add_input(mqtls_explain_t *r, scan_ctx_t *ctx, const char *kind,
                      const char *text, const char *meaning)
{
    ctx->any = true;
    for (size_t i = 0; i < r->input_count; i++) {
        if (strcmp(r->inputs[i].kind, kind) == 0 && ieq(r->inputs[i].text, text)) {
            return false;
        }
    }
    if (r->input_count >= MQTLS__EXPLAIN_MAX_INPUTS) {
        r->inputs_dropped++;
        return true; /* still let it vote for causes */
    }
    mqtls_explain_input_t *in = &r->inputs[r->input_count++];
    copy_str(in->kind, sizeof in->kind, kind);
    copy_str(in->text, sizeof in->text, text);
    copy_str(in->meaning, sizeof in->meaning, meaning);
    return true;
}

static mqtls_explain_cause_t *add_cause(mqtls_explain_t *r, const char *id, int weight,
                                        const char *evidence)
{
    const catalogue_entry_t *cat = catalogue_find(id);
    if (cat == NULL || weight <= 0) {
        return NULL; /* a table typo must not invent an id: the test checks every table */
    }
    mqtls_explain_cause_t *c = NULL;
    for (size_t i = 0; i < r->cause_count; i++) {
        if (strcmp(r->causes[i].id, id) == 0) {
            c = &r->causes[i];
            break;
        }
    }
    if (c == NULL) {
        if (r->cause_count >= MQTLS__EXPLAIN_MAX_CAUSES) {
            r->causes_dropped++;
            return NULL;
        }
        c = &r->causes[r->cause_count++];
        memset(c, 0, sizeof *c);
        c->id = cat->id;
        c->title = cat->title;
        for (size_t i = 0; i < ARRAY_LEN(def_ids); i++) {
            if (strcmp(def_ids[i].id, id) == 0) {
                c->title = def_ids[i].title; /* the wording doctor prints */
                break;
            }
        }
        c->explanation = cat->explanation;
        c->fix = cat->fix;
    }
    c->score += weight;
    if (evidence != NULL && evidence[0] != '\0' && strstr(c->evidence, evidence) == NULL) {
        if (c->evidence[0] != '\0') {
            append_str(c->evidence, sizeof c->evidence, "; ");
        }
        append_str(c->evidence, sizeof c->evidence, evidence);
    }
    return c;
}

/* Add the causes a recognised input points to, with their weights. */
static void add_weights(mqtls_explain_t *r, const weight_t *to, size_t n, bool alt,
                        const char *evidence)
{
    if (alt) {
        return; /* an alternative reading is listed as considered, it does not vote */
    }
    for (size_t i = 0; i < n && to[i].id != NULL; i++) {
        add_cause(r, to[i].id, to[i].w, evidence);
    }
}

/* ---------------------------------------------------------------- per-kind explainers */

static const flag_entry_t *flag_find(uint32_t bit)
{
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        if (verify_flags_tab[i].bit == bit) {
            return &verify_flags_tab[i];
        }
    }
    return NULL;
}

static void flag_causes(mqtls_explain_t *r, const scan_ctx_t *ctx, const flag_entry_t *f,
                        bool alt, const char *evidence)
{
    add_weights(r, f->to, ARRAY_LEN(f->to), alt, evidence);
    /* ESP devices start at 1970 until SNTP runs: "starts in the future" is their clock. */
    if (!alt && ctx->esp && f->bit == 0x200u) {
        add_cause(r, "clock-not-set", 2, evidence);
    }
}

/* Decompose a verify-flag word into MBEDTLS_X509_BADCERT_* bits, each explained. */
static void explain_flags(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t flags,
                          const char *text, bool alt, const char *note)
{
    char meaning[640];
    char ev[96];
    meaning[0] = '\0';
    if (note != NULL) {
        append_str(meaning, sizeof meaning, note);
    }
    const char *sep = "";
    (void)snprintf(ev, sizeof ev, "verify flags 0x%05X", (unsigned)flags);
    for (uint32_t bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
        if ((flags & bit) == 0) {
            continue;
        }
        const flag_entry_t *f = flag_find(bit);
        char part[192];
        if (f != NULL) {
            (void)snprintf(part, sizeof part, "%s0x%05X %s (\"%s\")", sep, (unsigned)bit, f->name,
                           f->info);
        } else {
            (void)snprintf(part, sizeof part, "%s0x%X undefined flag bit", sep, (unsigned)bit);
        }
        append_str(meaning, sizeof meaning, part);
        sep = "; ";
    }
    if (add_input(r, ctx, alt ? "verify-flags?" : "verify-flags", text, meaning)) {
        if (alt) {
            return;
        }
        r->verify_flags |= flags;
        for (uint32_t bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
            const flag_entry_t *f = (flags & bit) ? flag_find(bit) : NULL;
            if (f != NULL) {
                flag_causes(r, ctx, f, false, ev);
            }
        }
    }
}

static void explain_verify_info(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t bit)
{
    const flag_entry_t *f = flag_find(bit);
    if (f == NULL) {
        return;
    }
    char meaning[256];
    char ev[96];
    (void)snprintf(meaning, sizeof meaning, "mbedtls_x509_crt_verify_info() text of %s (0x%05X)%s",
                   f->name, (unsigned)f->bit,
                   f->bit == 0x10000u ? ": the ISSUER's key of a certificate in the server's chain"
                                        " is below the profile (RSA < 2048 bits or a curve the "
                                        "profile rejects)"
                                      : "");
    (void)snprintf(ev, sizeof ev, "verify info: %s (0x%05X)", f->name + strlen("MBEDTLS_X509_"),
                   (unsigned)f->bit);
    if (add_input(r, ctx, "verify-info", f->info, meaning)) {
        r->verify_flags |= f->bit;
        flag_causes(r, ctx, f, false, ev);
    }
}

static const mbed_entry_t *mbed_find(unsigned code)
{
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        if (mbed_codes[i].code == code) {
            return &mbed_codes[i];
        }
    }
    return NULL;
}

/* mbedTLS codes combine a high-level (0x1000..0x7F80, multiples of 0x80) and a low-level
 * (0x01..0x7F) part, as mbedtls_strerror() splits them. @return true if known. */
static bool explain_mbedtls(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned mag,
                            const char *text, bool alt, const char *note)
{
    char strerr[256];
    bool known = mqtls__explain_mbedtls_text(mag, strerr, sizeof strerr);
    unsigned high = mag & 0xFF80u;
    unsigned low = mag & 0x7Fu;
    const mbed_entry_t *hi = high != 0 ? mbed_find(high) : NULL;
    const mbed_entry_t *lo = (high == 0) ? mbed_find(low) : NULL;
    if (!known && hi == NULL && lo == NULL) {
        return false;
    }
    char meaning[640];
    (void)snprintf(meaning, sizeof meaning, "%s-0x%04X", note != NULL ? note : "", mag);
    if (high != 0 && low != 0) {
        char part[96];
        (void)snprintf(part, sizeof part, " = high-level -0x%04X + low-level -0x%04X", high, low);
        append_str(meaning, sizeof meaning, part);
    }
    const mbed_entry_t *e = hi != NULL ? hi : lo;
    if (e != NULL) {
        append_str(meaning, sizeof meaning, " ");
        append_str(meaning, sizeof meaning, e->name);
        if (e->v3 != NULL) {
            append_str(meaning, sizeof meaning, " (in mbedTLS 3.x, as on ESP-IDF >= 5.0: ");
            append_str(meaning, sizeof meaning, e->v3);
            append_str(meaning, sizeof meaning, ")");
        }
    }
    append_str(meaning, sizeof meaning, ": ");
    append_str(meaning, sizeof meaning, known ? strerr : "not known to the linked mbedTLS ");
    if (!known) {
        append_str(meaning, sizeof meaning, mqtls__explain_mbedtls_version());
    }
    char ev[64];
    (void)snprintf(ev, sizeof ev, "-0x%04X", mag);
    if (add_input(r, ctx, alt ? "mbedtls?" : "mbedtls", ev, meaning) && e != NULL) {
        add_weights(r, e->to, ARRAY_LEN(e->to), alt, ev);
        if (!alt && (e->code == 0x2700u || e->code == 0x7800u)) {
            r->saw_verify_failed = true;
        }
    }
    (void)text;
    return true;
}

static const esp_entry_t *esp_find(unsigned code)
{
    for (size_t i = 0; i < ARRAY_LEN(esp_codes); i++) {
        if (esp_codes[i].code == code) {
            return &esp_codes[i];
        }
    }
    return NULL;
}

static bool explain_esp(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned code, bool alt)
{
    const esp_entry_t *e = esp_find(code);
    if (e == NULL) {
        return false;
    }
    char meaning[640];
    char ev[32];
    (void)snprintf(ev, sizeof ev, "0x%04X", code);
    (void)snprintf(meaning, sizeof meaning, "esp-tls/esp_err_t 0x%04X (%u) = %s (ESP-IDF >= 4.3)",
                   code, code, e->name != NULL ? e->name : "(unused since ESP-IDF 4.3)");
    if (e->old != NULL) {
        append_str(meaning, sizeof meaning, "; in ESP-IDF 4.0-4.2 the same number was ");
        append_str(meaning, sizeof meaning, e->old);
    }
    if (code == 0x801Au || code == 0x8010u) {
        append_str(meaning, sizeof meaning,
                   ". Handshake failures carry the real reason in esp_tls_stack_err (the "
                   "-0x.... mbedTLS code) and esp_tls_cert_verify_flags: explain those too");
    }
    if (add_input(r, ctx, alt ? "esp-tls?" : "esp-tls", ev, meaning)) {
        add_weights(r, e->to, ARRAY_LEN(e->to), alt, ev);
    }
    return true;
}

static const alert_entry_t *alert_find(int num)
{
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        if (alerts[i].num == num) {
            return &alerts[i];
        }
    }
    return NULL;
}

/* @p dir: SIDE_CLIENT = the client received it (broker rejected us), SIDE_BROKER = the broker
 * received it from the client (the client rejected the broker), SIDE_UNKNOWN = both. */
static bool explain_alert(mqtls_explain_t *r, scan_ctx_t *ctx, int num, enum side dir)
{
    const alert_entry_t *a = alert_find(num);
    if (a == NULL) {
        return false;
    }
    char text[64];
    char meaning[640];
    (void)snprintf(text, sizeof text, "alert %d %s", a->num, a->name);
    (void)snprintf(meaning, sizeof meaning, "TLS alert %d (%s), RFC 8446 6.2. %s", a->num, a->name,
                   dir == SIDE_BROKER
                       ? "Seen in the broker's log: the CLIENT sent it, i.e. the client rejected "
                         "the broker's certificate or parameters."
                   : dir == SIDE_CLIENT
                       ? "Received by the client: the BROKER rejected the client (its "
                         "certificate or parameters)."
                       : "If the client printed it, the broker rejected the client; if it is in "
                         "the broker's log, the client rejected the broker.");
    if (add_input(r, ctx, "tls-alert", text, meaning)) {
        if (dir != SIDE_BROKER) {
            add_weights(r, a->recv, ARRAY_LEN(a->recv), false, text);
        }
        if (dir != SIDE_CLIENT) {
            /* Unknown direction: the client-side reading is the usual paste; keep the other
             * one as a runner-up. */
            for (size_t i = 0; i < ARRAY_LEN(a->sent) && a->sent[i].id != NULL; i++) {
                int w = a->sent[i].w - (dir == SIDE_UNKNOWN ? 1 : 0);
                add_cause(r, a->sent[i].id, w < 1 ? 1 : w, text);
            }
        }
    }
    return true;
}

static bool explain_rc(mqtls_explain_t *r, scan_ctx_t *ctx, const rc_entry_t *tab, size_t n,
                       int code, const char *kind, const char *fmt, bool alt)
{
    for (size_t i = 0; i < n; i++) {
        if (tab[i].code != code) {
            continue;
        }
        char text[48];
        char meaning[640];
        if (strcmp(fmt, "reason") == 0) {
            (void)snprintf(text, sizeof text, "reason 0x%02X", (unsigned)code);
        } else {
            (void)snprintf(text, sizeof text, "%s %d", fmt, code);
        }
        if (strcmp(kind, "reason-code") == 0) {
            (void)snprintf(meaning, sizeof meaning,
                           "MQTT 5 reason code 0x%02X (%d) \"%s\" (in %s), MQTT 5.0 2.4", code,
                           code, tab[i].name, tab[i].text);
        } else if (strcmp(kind, "paho") == 0) {
            (void)snprintf(meaning, sizeof meaning, "Paho C %s (%d): %s", tab[i].name, code,
                           tab[i].text);
        } else {
            (void)snprintf(meaning, sizeof meaning,
                           "MQTT 3.1.1 CONNACK return code %d, esp-mqtt %s, mosquitto \"%s\"%s",
                           code, tab[i].name, tab[i].text,
                           code == 0 ? "" : "; Paho's MQTTClient_connect() returns it as is");
        }
        if (add_input(r, ctx, alt ? "connack?" : kind, text, meaning)) {
            add_weights(r, tab[i].to, ARRAY_LEN(tab[i].to), alt, text);
        }
        return true;
    }
    return false;
}

static bool explain_connack(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt)
{
    return explain_rc(r, ctx, connack311, ARRAY_LEN(connack311), code, "connack", "CONNACK", alt);
}

static bool explain_reason5(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt)
{
    return explain_rc(r, ctx, reason5, ARRAY_LEN(reason5), code, "reason-code", "reason", alt);
}

static bool explain_paho(mqtls_explain_t *r, scan_ctx_t *ctx, int code)
{
    return explain_rc(r, ctx, paho_rc, ARRAY_LEN(paho_rc), code, "paho", "Paho rc", false);
}

static void explain_errno_entry(mqtls_explain_t *r, scan_ctx_t *ctx, const errno_entry_t *e,
                                const char *how)
{
    char meaning[640];
    (void)snprintf(meaning, sizeof meaning, "%s \"%s\" (Linux %d, ESP-IDF/newlib %d)%s", e->name,
                   e->text, e->linux_num, e->newlib_num, how);
    if (add_input(r, ctx, "errno", e->name, meaning)) {
        add_weights(r, e->to, ARRAY_LEN(e->to), false, e->name);
    }
}

static bool explain_errno_num(mqtls_explain_t *r, scan_ctx_t *ctx, long num)
{
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        const errno_entry_t *e = &errnos[i];
        long n = ctx->esp ? e->newlib_num : e->linux_num;
        if (n == num && num > 0) {
            char how[96];
            (void)snprintf(how, sizeof how, "; errno %ld read with %s numbering", num,
                           ctx->esp ? "ESP-IDF (newlib)" : "Linux");
            explain_errno_entry(r, ctx, e, how);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- number parsing */

typedef struct number {
    bool ok;
    bool neg;
    bool hex;        /* had a 0x prefix */
    bool hex_digits; /* digits include a-f */
    unsigned long long mag;
    unsigned long long as_hex; /* digits re-read as hex (for "2700") */
    bool as_hex_ok;
    size_t used;
} number_t;

static number_t parse_number(const char *s)
{
    number_t n = {0};
    size_t i = 0;
    if (s[i] == '-' || s[i] == '+') {
        n.neg = s[i] == '-';
        i++;
    }
    if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && isxdigit((unsigned char)s[i + 2])) {
        n.hex = true;
        i += 2;
    }
    size_t start = i;
    unsigned long long dec = 0;
    unsigned long long hex = 0;
    bool dec_ok = true;
    for (; isxdigit((unsigned char)s[i]) && i - start < 16; i++) {
        int c = tolower((unsigned char)s[i]);
        unsigned d = (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
        if (!isdigit(c)) {
            n.hex_digits = true;
            dec_ok = false;
        }
        hex = hex * 16u + d;
        if (dec_ok) {
            dec = dec * 10u + d;
        }
    }
    if (i == start || isalnum((unsigned char)s[i]) || (!n.hex && !dec_ok)) {
        return n; /* not a number, or trailing letters ("12ab" without 0x) */
    }
    n.ok = true;
    n.used = i;
    n.mag = n.hex ? hex : dec;
    n.as_hex = hex;
    n.as_hex_ok = !n.hex;
    return n;
}

/* ---------------------------------------------------------------- log scanning */

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
    const char *p = find(ctx, line, key);
    for (int guard = 0; p != NULL && guard < 16; guard++) {
        const char *q = skip_to_number(p + strlen(key));
        if (q != NULL) {
            *out = parse_number(q);
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
    for (const char *p = find(ctx, line, "-0x"); p != NULL; p = strstr(p + 3, "-0x")) {
        n = parse_number(p);
        if (n.ok && n.mag > 0 && n.mag <= 0x7FFFu) {
            explain_mbedtls(r, ctx, (unsigned)n.mag, p, false, NULL);
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
            explain_mbedtls(r, ctx, (unsigned)m, line, false, NULL);
        }
    }
    /* Verify flags: "esp_tls_cert_verify_flags=65536", "flags: 0x10008". */
    if (number_after(ctx, line, "flags", &n) && !n.neg && n.mag > 0 && n.mag <= 0xFFFFFu) {
        char text[32];
        (void)snprintf(text, sizeof text, "0x%05llX", n.mag);
        explain_flags(r, ctx, (uint32_t)n.mag, text, false, NULL);
    }
    /* esp-tls codes: "Last error code reported from esp-tls: 0x8008", "last_esp_err=32794". */
    if ((ctx->esp || find(ctx, line, "esp") != NULL) &&
        (number_after(ctx, line, "esp-tls:", &n) || number_after(ctx, line, "esp_err", &n) ||
         number_after(ctx, line, "new connection:", &n) ||
         number_after(ctx, line, "error code", &n))) {
        if (!n.neg && n.mag >= 0x8001u && n.mag <= 0x80FFu) {
            explain_esp(r, ctx, (unsigned)n.mag, false);
        }
    }
    for (const char *p = find(ctx, line, "0x80"); ctx->esp && p != NULL;
         p = strstr(p + 4, "0x80")) {
        n = parse_number(p);
        if (n.ok && n.mag >= 0x8001u && n.mag <= 0x80FFu && (p == line || p[-1] != '-')) {
            explain_esp(r, ctx, (unsigned)n.mag, false);
        }
    }
    /* errno numbers: "errno=128", "(errno 113)", "errno: 111". */
    if (number_after(ctx, line, "errno", &n) && !n.hex && !n.neg) {
        explain_errno_num(r, ctx, (long)n.mag);
    }
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        char lname[24];
        lower_copy(lname, errnos[i].name, strlen(errnos[i].name));
        const char *p = find(ctx, line, lname);
        if (p != NULL && !isalnum((unsigned char)p[strlen(lname)]) &&
            (p == line || !isalnum((unsigned char)p[-1]))) {
            explain_errno_entry(r, ctx, &errnos[i], "");
        }
    }
    /* CONNACK / Paho return codes: "Failed to connect, return code 5", "rc=-1". */
    if (number_after(ctx, line, "return code", &n) || number_after(ctx, line, "rc=", &n) ||
        number_after(ctx, line, " rc ", &n)) {
        if (n.neg && n.mag >= 1 && n.mag <= 17) {
            explain_paho(r, ctx, -(int)n.mag);
        } else if (!n.neg && n.mag <= 5 && !n.hex) {
            explain_connack(r, ctx, (int)n.mag, false);
        } else if (!n.neg && n.mag >= 0x80 && n.mag <= 0xA2) {
            explain_reason5(r, ctx, (int)n.mag, false);
        }
    }
    if ((number_after(ctx, line, "reason code", &n) || number_after(ctx, line, "reason_code", &n) ||
         number_after(ctx, line, "reason:", &n)) &&
        !n.neg && n.mag >= 0x80 && n.mag <= 0xFF) {
        explain_reason5(r, ctx, (int)n.mag, false);
    }
    /* TLS alerts: mbedTLS debug "got an alert message, type: [2:48]", "alert 48". */
    if (find(ctx, line, "alert") != NULL) {
        if (number_after(ctx, line, "[2:", &n) || number_after(ctx, line, "alert", &n) ||
            number_after(ctx, line, "alert number", &n)) {
            if (!n.neg && !n.hex && n.mag <= 255) {
                explain_alert(r, ctx, (int)n.mag,
                              ctx->side == SIDE_BROKER ? SIDE_BROKER : SIDE_CLIENT);
            }
        }
        /* Paho "SSL alert read:fatal:unknown CA" / "write": OpenSSL's long alert names. */
        const char *rd = find(ctx, line, "alert read:");
        const char *wr = find(ctx, line, "alert write:");
        for (size_t i = 0; (rd != NULL || wr != NULL) && i < ARRAY_LEN(alerts); i++) {
            char spaced[48];
            copy_str(spaced, sizeof spaced, alerts[i].name);
            for (char *c = spaced; *c != '\0'; c++) {
                *c = *c == '_' ? ' ' : *c;
            }
            if (alerts[i].num != 0 && find(ctx, line, spaced) != NULL) {
                explain_alert(r, ctx, alerts[i].num, rd != NULL ? SIDE_CLIENT : SIDE_BROKER);
            }
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        if (strchr(alerts[i].name, '_') != NULL && find(ctx, line, alerts[i].name) != NULL) {
            explain_alert(r, ctx, alerts[i].num, ctx->side);
        }
    }
    if (find(ctx, line, "test.mosquitto.org") != NULL) {
        r->saw_test_mosquitto = true;
        add_input(r, ctx, "host", "test.mosquitto.org",
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
        if (n > 0 && find(ctx, line, alt) != NULL) {
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
        if (find(ctx, line, ph->needle) == NULL || contains_any(ctx, line, ph->exclude)) {
            continue;
        }
        switch (ph->special) {
        case PH_VERIFY_INFO:
            explain_verify_info(r, ctx, ph->arg);
            continue;
        case PH_ALERT:
            explain_alert(r, ctx, (int)ph->arg, ctx->side);
            continue;
        default:
            break;
        }
        bool broker = ctx->side == SIDE_BROKER && ph->broker[0].id != NULL;
        char meaning[640];
        (void)snprintf(meaning, sizeof meaning, "%s: %s%s", ph->source, ph->meaning,
                       broker ? " (broker log: this is about the CLIENT's certificate)" : "");
        char ev[96];
        (void)snprintf(ev, sizeof ev, "\"%s\"", ph->needle);
        if (!add_input(r, ctx, "message", ph->needle, meaning)) {
            continue;
        }
        if (ph->special == PH_VERIFY_FAILED && !broker) {
            r->saw_verify_failed = true;
            continue;
        }
        add_weights(r, broker ? ph->broker : ph->to, 3, false, ev);
    }
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
static void for_each_window(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text,
                            size_t len, window_fn fn)
{
    char buf[WINDOW + 1];
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t off = pos;
        for (;;) {
            size_t n = end - off < WINDOW ? end - off : WINDOW;
            lower_copy(buf, text + off, n);
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

/* ---------------------------------------------------------------- public API */

void mqtls__explain_init(mqtls_explain_t *r)
{
    if (r != NULL) {
        memset(r, 0, sizeof *r);
    }
}

mqtls_status_t mqtls_explain_text(mqtls_explain_t *r, const char *text, size_t len)
{
    if (r == NULL || (text == NULL && len > 0) || r->finished) {
        return MQTLS_ERR_INVALID_ARG;
    }
    scan_ctx_t ctx = {0};
    if (len == 0) {
        return MQTLS_ERR_NOT_SUPPORTED;
    }
    for_each_window(r, &ctx, text, len, detect_context);
    for_each_window(r, &ctx, text, len, scan_line);
    return ctx.any ? MQTLS_OK : MQTLS_ERR_NOT_SUPPORTED;
}

static bool lookup_name(mqtls_explain_t *r, scan_ctx_t *ctx, const char *s)
{
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        if (ieq(s, verify_flags_tab[i].name)) {
            char text[32];
            (void)snprintf(text, sizeof text, "0x%05X", (unsigned)verify_flags_tab[i].bit);
            explain_flags(r, ctx, verify_flags_tab[i].bit, text, false, NULL);
            return true;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        if (ieq(s, mbed_codes[i].name) || (mbed_codes[i].v3 != NULL && ieq(s, mbed_codes[i].v3))) {
            return explain_mbedtls(r, ctx, mbed_codes[i].code, s, false, NULL);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(esp_codes); i++) {
        if ((esp_codes[i].name != NULL && ieq(s, esp_codes[i].name)) ||
            (esp_codes[i].old != NULL && ieq(s, esp_codes[i].old))) {
            return explain_esp(r, ctx, esp_codes[i].code, false);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(connack311); i++) {
        if (ieq(s, connack311[i].name)) {
            return explain_connack(r, ctx, connack311[i].code, false);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(paho_rc); i++) {
        if (ieq(s, paho_rc[i].name)) {
            return explain_paho(r, ctx, paho_rc[i].code);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        if (ieq(s, errnos[i].name)) {
            explain_errno_entry(r, ctx, &errnos[i], "");
            return true;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        if (ieq(s, alerts[i].name)) {
            return explain_alert(r, ctx, alerts[i].num, SIDE_UNKNOWN);
        }
    }
    return false;
}

/* A bare number: try every reading users paste, weight the likeliest, list the others. */
static bool explain_number(mqtls_explain_t *r, scan_ctx_t *ctx, const number_t *n,
                           const char *arg)
{
    bool any = false;
    char note[160];
    if (n->neg) {
        if (!n->hex && n->mag >= 1 && n->mag <= 17 && explain_paho(r, ctx, -(int)n->mag)) {
            return true; /* small negative decimals: Paho C return codes */
        }
        if (n->mag > 0 && n->mag <= 0x7FFFu) {
            if (!n->hex) {
                (void)snprintf(note, sizeof note, "decimal %s = ", arg);
            }
            return explain_mbedtls(r, ctx, (unsigned)n->mag, arg, false, n->hex ? NULL : note);
        }
        return false;
    }
    unsigned long long v = n->mag;
    if (n->hex) {
        if (v < 0x100u) {
            if (v >= 0x80u) {
                return explain_reason5(r, ctx, (int)v, false);
            }
            return explain_connack(r, ctx, (int)v, false);
        }
        if (v >= 0x8000u && v <= 0x80FFu) {
            any = explain_esp(r, ctx, (unsigned)v, false);
            if (any) {
                explain_flags(r, ctx, (uint32_t)v, arg, true,
                              "also considered: as verify flags (unlikely) = ");
                return true;
            }
        }
        if (v >= 0x10000u && v <= 0xFFFFFu) {
            explain_flags(r, ctx, (uint32_t)v, arg, false, NULL);
            return true;
        }
        if (v < 0x8000u) {
            any = explain_mbedtls(r, ctx, (unsigned)v, arg, false,
                                  "unsigned hex read as the mbedTLS code ");
            explain_flags(r, ctx, (uint32_t)v, arg, any,
                          any ? "also considered: as verify flags = " : NULL);
            return true;
        }
        if (v <= 0xFFFFFu) {
            explain_flags(r, ctx, (uint32_t)v, arg, false, NULL);
            return true;
        }
        return false;
    }
    /* Plain digits: CONNACK, MQTT 5 reason, esp_err_t in decimal, verify flags in decimal,
     * mbedTLS code without "-0x" (ESP-IDF often logs "-%x"), or its decimal magnitude. */
    if (v <= 5) {
        return explain_connack(r, ctx, (int)v, false);
    }
    if (v >= 0x80 && v <= 0xA2 && explain_reason5(r, ctx, (int)v, false)) {
        any = true;
    }
    if (v >= 0x8001u && v <= 0x80FFu && explain_esp(r, ctx, (unsigned)v, false)) {
        return true;
    }
    if (v >= 0x10000u && v <= 0xFFFFFu) {
        explain_flags(r, ctx, (uint32_t)v, arg, false, "decimal verify-flag word = ");
        return true;
    }
    if (n->as_hex_ok && n->as_hex > 0 && n->as_hex <= 0x7FFFu) {
        (void)snprintf(note, sizeof note, "digits %s read as hex (as in \"returned -%s\") = ", arg,
                       arg);
        any = explain_mbedtls(r, ctx, (unsigned)n->as_hex, arg, any, note) || any;
    }
    if (v > 0 && v <= 0x7FFFu && v != n->as_hex) {
        (void)snprintf(note, sizeof note, "also considered: decimal %s = ", arg);
        any = explain_mbedtls(r, ctx, (unsigned)v, arg, any, note) || any;
    }
    if (!any && v < 200) {
        any = explain_errno_num(r, ctx, (long)v);
    }
    return any;
}

mqtls_status_t mqtls_explain_arg(mqtls_explain_t *r, const char *arg)
{
    if (r == NULL || arg == NULL || r->finished) {
        return MQTLS_ERR_INVALID_ARG;
    }
    scan_ctx_t ctx = {0};
    char s[256];
    while (isspace((unsigned char)*arg)) {
        arg++;
    }
    copy_str(s, sizeof s, arg);
    for (size_t n = strlen(s); n > 0 && isspace((unsigned char)s[n - 1]); n--) {
        s[n - 1] = '\0';
    }
    bool ok = false;
    /* "alert 48", "alert:48", "alert=unknown_ca" */
    if (strncmp(s, "alert", 5) == 0 || strncmp(s, "ALERT", 5) == 0) {
        const char *p = s + 5;
        while (*p == ' ' || *p == ':' || *p == '=' || *p == '-') {
            p++;
        }
        number_t n = parse_number(p);
        if (n.ok && !n.neg && p[n.used] == '\0') {
            ok = explain_alert(r, &ctx, (int)n.mag, SIDE_UNKNOWN);
        } else if (*p != '\0') {
            ok = lookup_name(r, &ctx, p);
        }
    }
    if (!ok) {
        number_t n = parse_number(s);
        if (n.ok && s[n.used] == '\0') {
            ok = explain_number(r, &ctx, &n, s);
        } else {
            ok = lookup_name(r, &ctx, s);
        }
    }
    if (!ok) {
        /* A phrase ("ca md too weak") or a pasted line: same scanner as logs. */
        ok = mqtls_explain_text(r, s, strlen(s)) == MQTLS_OK;
    }
    if (!ok) {
        if (r->unparsed_count < MQTLS__EXPLAIN_MAX_UNPARSED) {
            copy_str(r->unparsed[r->unparsed_count++], sizeof r->unparsed[0], s);
        }
        return MQTLS_ERR_NOT_SUPPORTED;
    }
    return MQTLS_OK;
}

static mqtls_explain_cause_t *cause_get(mqtls_explain_t *r, const char *id)
{
    for (size_t i = 0; i < r->cause_count; i++) {
        if (strcmp(r->causes[i].id, id) == 0) {
            return &r->causes[i];
        }
    }
    return NULL;
}

void mqtls_explain_finish(mqtls_explain_t *r)
{
    if (r == NULL || r->finished) {
        return;
    }
    r->finished = true;
    /* "verification failed" without flags: say the usual suspects, and that flags decide. */
    if (r->saw_verify_failed && r->verify_flags == 0) {
        const char *ev = "verification failed, reason not in the input (paste the "
                         "'verification info' lines or esp_tls_cert_verify_flags)";
        add_cause(r, "untrusted-issuer", 2, ev);
        add_cause(r, "missing-intermediate", 1, ev);
        add_cause(r, "hostname-mismatch", 1, ev);
        add_cause(r, "verify-failed", 1, ev);
    }
    if (r->saw_test_mosquitto) {
        static const char *const ids[] = {"weak-key", "weak-signature-hash", "untrusted-issuer",
                                          "ca-same-name-different-key"};
        for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
            mqtls_explain_cause_t *c = cause_get(r, ids[i]);
            if (c == NULL) {
                continue;
            }
            c->score += 2;
            copy_str(c->note, sizeof c->note,
                     "test.mosquitto.org: until 2020-06-09 its server certificate was signed by "
                     "an RSA-1024 / SHA-1 CA, which mbedTLS's default profile rejects (BAD_KEY: "
                     "RSA < 2048). That CA was replaced on 2020-06-09; an old mosquitto.org.crt "
                     "embedded in firmware no longer matches either. Use the current CA file: "
                     "curl -O https://test.mosquitto.org/ssl/mosquitto.org.crt");
        }
    }
    /* Stable insertion sort, highest score first (at most MQTLS__EXPLAIN_MAX_CAUSES items). */
    for (size_t i = 1; i < r->cause_count; i++) {
        mqtls_explain_cause_t tmp = r->causes[i];
        size_t j = i;
        while (j > 0 && r->causes[j - 1].score < tmp.score) {
            r->causes[j] = r->causes[j - 1];
            j--;
        }
        r->causes[j] = tmp;
    }
}

bool mqtls_explain_recognised(const mqtls_explain_t *r)
{
    return r != NULL && (r->input_count > 0 || r->cause_count > 0);
}

size_t mqtls__explain_catalogue_count(void)
{
    return ARRAY_LEN(catalogue);
}

const char *mqtls__explain_catalogue_id(size_t i)
{
    return i < ARRAY_LEN(catalogue) ? catalogue[i].id : NULL;
}

const char *mqtls__explain_title(const char *id)
{
    for (size_t i = 0; id != NULL && i < ARRAY_LEN(def_ids); i++) {
        if (strcmp(def_ids[i].id, id) == 0) {
            return def_ids[i].title;
        }
    }
    return NULL;
}
