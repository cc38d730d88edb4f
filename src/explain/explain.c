/* mqtls explain: codes, flags and log phrases -> ranked causes with finding ids.
 *
 * Pure (DESIGN.md): strings in, a caller-owned result out; no printing, no files, no
 * allocation. This file holds the public entry points: an argument is read as a number (in
 * every form users paste it), a name or a phrase; a log goes to explain_scan.c; each value
 * recognised is decoded by explain_decode.c; mqtls_explain_finish() ranks the causes. */
#include "mqtls/explain.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"

/* ---------------------------------------------------------------- small string helpers */

void mqtls__explain_copy(char *dst, size_t cap, const char *src)
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

void mqtls__explain_append(char *dst, size_t cap, const char *src)
{
    size_t used = strlen(dst);
    if (used + 1 >= cap) {
        return;
    }
    mqtls__explain_copy(dst + used, cap - used, src);
}

bool mqtls__explain_ieq(const char *a, const char *b)
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

void mqtls__explain_lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)tolower(c);
    }
    dst[len] = '\0';
}

void mqtls__explain_squash(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < cap; s++) {
        if (isalnum((unsigned char)*s)) {
            dst[n++] = (char)tolower((unsigned char)*s);
        }
    }
    if (cap > 0) {
        dst[n] = '\0';
    }
}

/* ---------------------------------------------------------------- number parsing */

number_t mqtls__explain_parse_number(const char *s)
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
    mqtls__explain_scan_text(r, &ctx, text, len);
    return ctx.any ? MQTLS_OK : MQTLS_ERR_NOT_SUPPORTED;
}

/* A bare number: try every reading users paste, weight the likeliest, list the others. */
static bool explain_number(mqtls_explain_t *r, scan_ctx_t *ctx, const number_t *n, const char *arg)
{
    bool any = false;
    char note[160];
    if (n->neg) {
        if (!n->hex && n->mag >= 1 && n->mag <= 17 && mqtls__explain_paho(r, ctx, -(int)n->mag)) {
            return true; /* small negative decimals: Paho C return codes */
        }
        if (n->mag > 0 && n->mag <= 0x7FFFu) {
            if (!n->hex) {
                (void)snprintf(note, sizeof note, "decimal %s = ", arg);
            }
            return mqtls__explain_mbedtls(r, ctx, (unsigned)n->mag, false, n->hex ? NULL : note);
        }
        return false;
    }
    unsigned long long v = n->mag;
    if (n->hex) {
        if (v < 0x100u) {
            if (v >= 0x80u) {
                return mqtls__explain_reason5(r, ctx, (int)v, false);
            }
            return mqtls__explain_connack(r, ctx, (int)v, false);
        }
        if (v >= 0x8000u && v <= 0x80FFu) {
            any = mqtls__explain_esp(r, ctx, (unsigned)v, false);
            if (any) {
                mqtls__explain_flags(r, ctx, (uint32_t)v, arg, true,
                                     "also considered: as verify flags (unlikely) = ");
                return true;
            }
        }
        if (v >= 0x10000u && v <= 0xFFFFFu) {
            mqtls__explain_flags(r, ctx, (uint32_t)v, arg, false, NULL);
            return true;
        }
        if (v < 0x8000u) {
            any = mqtls__explain_mbedtls(r, ctx, (unsigned)v, false,
                                         "unsigned hex read as the mbedTLS code ");
            mqtls__explain_flags(r, ctx, (uint32_t)v, arg, any,
                                 any ? "also considered: as verify flags = " : NULL);
            return true;
        }
        if (v <= 0xFFFFFu) {
            mqtls__explain_flags(r, ctx, (uint32_t)v, arg, false, NULL);
            return true;
        }
        return false;
    }
    /* Plain digits: CONNACK, MQTT 5 reason, esp_err_t in decimal, verify flags in decimal,
     * mbedTLS code without "-0x" (ESP-IDF often logs "-%x"), or its decimal magnitude. */
    if (v <= 5) {
        return mqtls__explain_connack(r, ctx, (int)v, false);
    }
    if (v >= 0x80 && v <= 0xA2 && mqtls__explain_reason5(r, ctx, (int)v, false)) {
        any = true;
    }
    if (v >= 0x8001u && v <= 0x80FFu && mqtls__explain_esp(r, ctx, (unsigned)v, false)) {
        return true;
    }
    if (v >= 0x10000u && v <= 0xFFFFFu) {
        mqtls__explain_flags(r, ctx, (uint32_t)v, arg, false, "decimal verify-flag word = ");
        return true;
    }
    if (n->as_hex_ok && n->as_hex > 0 && n->as_hex <= 0x7FFFu) {
        (void)snprintf(note, sizeof note, "digits %s read as hex (as in \"returned -%s\") = ", arg,
                       arg);
        any = mqtls__explain_mbedtls(r, ctx, (unsigned)n->as_hex, any, note) || any;
    }
    if (v > 0 && v <= 0x7FFFu && v != n->as_hex) {
        (void)snprintf(note, sizeof note, "also considered: decimal %s = ", arg);
        any = mqtls__explain_mbedtls(r, ctx, (unsigned)v, any, note) || any;
    }
    if (!any && v < 200) {
        any = mqtls__explain_errno_num(r, ctx, (long)v);
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
    mqtls__explain_copy(s, sizeof s, arg);
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
        number_t n = mqtls__explain_parse_number(p);
        if (n.ok && !n.neg && p[n.used] == '\0') {
            ok = mqtls__explain_alert(r, &ctx, (int)n.mag, SIDE_UNKNOWN);
        } else if (*p != '\0') {
            ok = mqtls__explain_lookup_name(r, &ctx, p);
        }
    }
    if (!ok) {
        number_t n = mqtls__explain_parse_number(s);
        if (n.ok && s[n.used] == '\0') {
            ok = explain_number(r, &ctx, &n, s);
        } else {
            ok = mqtls__explain_lookup_name(r, &ctx, s);
        }
    }
    if (!ok) {
        /* A phrase ("ca md too weak") or a pasted line: same scanner as logs. */
        ok = mqtls_explain_text(r, s, strlen(s)) == MQTLS_OK;
    }
    if (!ok) {
        if (r->unparsed_count < MQTLS__EXPLAIN_MAX_UNPARSED) {
            mqtls__explain_copy(r->unparsed[r->unparsed_count++], sizeof r->unparsed[0], s);
        }
        return MQTLS_ERR_NOT_SUPPORTED;
    }
    return MQTLS_OK;
}

/* Was a specific reason for a failed verification named (a chain/trust finding with a real
 * vote, e.g. "Hostname mismatch" after "certificate verify failed")? */
static bool verify_reason_named(mqtls_explain_t *r)
{
    for (int id = 0; id <= (int)MQTLS__F_VERIFY_FAILED; id++) {
        const mqtls_explain_cause_t *c = mqtls__explain_cause_get(r, (mqtls__finding_id_t)id);
        if (c != NULL && c->score >= 3) {
            return true;
        }
    }
    return false;
}

void mqtls_explain_finish(mqtls_explain_t *r)
{
    if (r == NULL || r->finished) {
        return;
    }
    r->finished = true;
    /* "verification failed" without flags or a named reason: say the usual suspects, and that
     * the flags decide. */
    if (r->saw_verify_failed && r->verify_flags == 0 && !verify_reason_named(r)) {
        const char *ev = "verification failed, reason not in the input (paste the "
                         "'verification info' lines or esp_tls_cert_verify_flags)";
        mqtls__explain_add_cause(r, MQTLS__F_UNTRUSTED_ISSUER, 2, ev);
        mqtls__explain_add_cause(r, MQTLS__F_MISSING_INTERMEDIATE, 1, ev);
        mqtls__explain_add_cause(r, MQTLS__F_HOSTNAME_MISMATCH, 1, ev);
        mqtls__explain_add_cause(r, MQTLS__F_VERIFY_FAILED, 1, ev);
    }
    if (r->saw_test_mosquitto) {
        static const mqtls__finding_id_t ids[] = {MQTLS__F_WEAK_KEY, MQTLS__F_WEAK_SIGNATURE_HASH,
                                                  MQTLS__F_UNTRUSTED_ISSUER,
                                                  MQTLS__F_CA_SAME_NAME_DIFFERENT_KEY};
        for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
            mqtls_explain_cause_t *c = mqtls__explain_cause_get(r, ids[i]);
            if (c == NULL) {
                continue;
            }
            c->score += 2;
            mqtls__explain_copy(
                c->note, sizeof c->note,
                "test.mosquitto.org: until 2020-06-09 its server certificate was signed by "
                "an RSA-1024 / SHA-1 CA, which mbedTLS's default profile rejects (BAD_KEY: "
                "RSA < 2048). That CA was replaced on 2020-06-09; an old mosquitto.org.crt "
                "embedded in firmware no longer matches either. Use the current CA file: "
                "curl -O https://test.mosquitto.org/ssl/mosquitto.org.crt");
        }
    }
    mqtls__explain_apply_rules(r);
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
