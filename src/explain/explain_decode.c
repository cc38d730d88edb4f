/* mqtls explain: one recognised value (a code, flag word, alert, reason code, errno or name)
 * -> an input with its meaning, and votes for the causes it points to (explain_codes.h). The
 * result building (inputs, causes with the catalogue's texts) lives here too. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "explain_catalogue.h"
#include "explain_codes.h"
#include "explain_internal.h"
#include "mqtls/error.h"
#include "mqtls/packet.h"
#include "packet/names.h"

/* ---------------------------------------------------------------- result building */

/* Causes are only added for new inputs, so a line repeated 1000 times counts once. */
bool mqtls__explain_add_input(mqtls_explain_t *r, scan_ctx_t *ctx, const char *kind,
                              const char *text, const char *meaning)
{
    ctx->any = true;
    for (size_t i = 0; i < r->input_count; i++) {
        if (strcmp(r->inputs[i].kind, kind) == 0 && mqtls__explain_ieq(r->inputs[i].text, text)) {
            return false;
        }
    }
    if (r->input_count >= MQTLS__EXPLAIN_MAX_INPUTS) {
        r->inputs_dropped++;
        return true; /* still let it vote for causes */
    }
    mqtls_explain_input_t *in = &r->inputs[r->input_count++];
    mqtls__explain_copy(in->kind, sizeof in->kind, kind);
    mqtls__explain_copy(in->text, sizeof in->text, text);
    mqtls__explain_copy(in->meaning, sizeof in->meaning, meaning);
    return true;
}

mqtls_explain_cause_t *mqtls__explain_add_cause(mqtls_explain_t *r, mqtls__finding_id_t id,
                                                int weight, const char *evidence)
{
    const mqtls__finding_def_t *def = mqtls__finding_def(id);
    if (def == NULL || weight <= 0) {
        return NULL;
    }
    mqtls_explain_cause_t *c = NULL;
    for (size_t i = 0; i < r->cause_count; i++) {
        if (r->causes[i].id == def->id) {
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
        c->id = def->id;
        c->title = def->title; /* the wording doctor prints */
        c->explanation = catalogue[id].explanation;
        c->fix = catalogue[id].fix;
    }
    c->score += weight;
    if (evidence != NULL && evidence[0] != '\0' && strstr(c->evidence, evidence) == NULL) {
        if (c->evidence[0] != '\0') {
            mqtls__explain_append(c->evidence, sizeof c->evidence, "; ");
        }
        mqtls__explain_append(c->evidence, sizeof c->evidence, evidence);
    }
    return c;
}

void mqtls__explain_add_weights(mqtls_explain_t *r, const weight_t *to, size_t n, bool alt,
                                const char *evidence)
{
    if (alt) {
        return; /* an alternative reading is listed as considered, it does not vote */
    }
    for (size_t i = 0; i < n && to[i].w > 0; i++) {
        mqtls__explain_add_cause(r, to[i].id, to[i].w, evidence);
    }
}

/* ---------------------------------------------------------------- verify flags */

static const flag_entry_t *flag_find(uint32_t bit)
{
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        if (verify_flags_tab[i].bit == bit) {
            return &verify_flags_tab[i];
        }
    }
    return NULL;
}

static void flag_causes(mqtls_explain_t *r, const scan_ctx_t *ctx, const flag_entry_t *f, bool alt,
                        const char *evidence)
{
    mqtls__explain_add_weights(r, f->to, ARRAY_LEN(f->to), alt, evidence);
    /* ESP devices start at 1970 until SNTP runs: "starts in the future" is their clock. */
    if (!alt && ctx->esp && f->bit == 0x200u) {
        mqtls__explain_add_cause(r, MQTLS__F_CLOCK_NOT_SET, 2, evidence);
    }
}

/* Decompose a verify-flag word into MBEDTLS_X509_BADCERT_* bits, each explained. */
void mqtls__explain_flags(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t flags, const char *text,
                          bool alt, const char *note)
{
    char meaning[640];
    char ev[96];
    meaning[0] = '\0';
    if (note != NULL) {
        mqtls__explain_append(meaning, sizeof meaning, note);
    }
    const char *sep = "";
    (void)snprintf(ev, sizeof ev, "verify flags 0x%05X", (unsigned)flags);
    for (uint32_t bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
        if ((flags & bit) == 0) {
            continue;
        }
        const flag_entry_t *f = flag_find(bit);
        char part[192];
        char info[160];
        if (f != NULL && mqtls__explain_verify_text(bit, info, sizeof info)) {
            (void)snprintf(part, sizeof part, "%s0x%05X %s (\"%s\")", sep, (unsigned)bit, f->name,
                           info);
        } else if (f != NULL) {
            (void)snprintf(part, sizeof part, "%s0x%05X %s", sep, (unsigned)bit, f->name);
        } else {
            (void)snprintf(part, sizeof part, "%s0x%X undefined flag bit", sep, (unsigned)bit);
        }
        mqtls__explain_append(meaning, sizeof meaning, part);
        sep = "; ";
    }
    if (mqtls__explain_add_input(r, ctx, alt ? "verify-flags?" : "verify-flags", text, meaning)) {
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

/* One line of mbedtls_x509_crt_verify_info() output, recognised by its phrase. */
void mqtls__explain_verify_info(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t bit)
{
    const flag_entry_t *f = flag_find(bit);
    char info[160];
    if (f == NULL || !mqtls__explain_verify_text(bit, info, sizeof info)) {
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
    if (mqtls__explain_add_input(r, ctx, "verify-info", info, meaning)) {
        r->verify_flags |= f->bit;
        flag_causes(r, ctx, f, false, ev);
    }
}

/* ---------------------------------------------------------------- mbedTLS and esp-tls codes */

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
 * (0x01..0x7F) part, as mbedtls_strerror() splits them. */
bool mqtls__explain_mbedtls(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned mag, bool alt,
                            const char *note)
{
    char strerr[256];
    bool known = mqtls__explain_mbedtls_text(mag, strerr, sizeof strerr);
    unsigned high = mag & 0xFF80u;
    unsigned low = mag & 0x7Fu;
    const mbed_entry_t *hi = high != 0 ? mbed_find(high) : NULL;
    /* The low-level part speaks when the high-level one has no cause of its own: -0x4290 is
     * RSA public failed (-0x4280) + MPI alloc failed (-0x0010), i.e. out of memory. */
    const mbed_entry_t *lo = (hi == NULL && low != 0) ? mbed_find(low) : NULL;
    if (!known && hi == NULL && lo == NULL) {
        return false;
    }
    char meaning[640];
    (void)snprintf(meaning, sizeof meaning, "%s-0x%04X", note != NULL ? note : "", mag);
    if (high != 0 && low != 0) {
        char part[96];
        (void)snprintf(part, sizeof part, " = high-level -0x%04X + low-level -0x%04X", high, low);
        mqtls__explain_append(meaning, sizeof meaning, part);
    }
    const mbed_entry_t *e = hi != NULL ? hi : lo;
    if (e != NULL) {
        mqtls__explain_append(meaning, sizeof meaning, " ");
        mqtls__explain_append(meaning, sizeof meaning, e->name);
        if (e->v3 != NULL) {
            mqtls__explain_append(meaning, sizeof meaning,
                                  " (in mbedTLS 3.x, as on ESP-IDF >= 5.0: ");
            mqtls__explain_append(meaning, sizeof meaning, e->v3);
            mqtls__explain_append(meaning, sizeof meaning, ")");
        }
    }
    mqtls__explain_append(meaning, sizeof meaning, ": ");
    mqtls__explain_append(meaning, sizeof meaning,
                          known ? strerr : "not known to the linked mbedTLS ");
    if (!known) {
        mqtls__explain_append(meaning, sizeof meaning, mqtls__explain_mbedtls_version());
    }
    char ev[64];
    (void)snprintf(ev, sizeof ev, "-0x%04X", mag);
    if (mqtls__explain_add_input(r, ctx, alt ? "mbedtls?" : "mbedtls", ev, meaning) && e != NULL) {
        mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), alt, ev);
        if (!alt && (e->code == 0x2700u || e->code == 0x7800u)) {
            r->saw_verify_failed = true;
        }
    }
    return true;
}

void mqtls__explain_mbedtls_by_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    /* Only lines with mbedtls_strerror()'s "MODULE - text" shape are compared. */
    if (!mqtls__explain_contains_any(ctx, line, "ssl - |x509 - |net - |pk - |pem - ")) {
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        char text[256];
        if (!mqtls__explain_mbedtls_text(mbed_codes[i].code, text, sizeof text)) {
            continue;
        }
        mqtls__explain_lower_copy(text, text, strlen(text));
        if (strlen(text) >= 16 && strstr(line, text) != NULL) {
            mqtls__explain_mbedtls(r, ctx, mbed_codes[i].code, false,
                                   "mbedtls_strerror() text of ");
        }
    }
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

bool mqtls__explain_esp(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned code, bool alt)
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
        mqtls__explain_append(meaning, sizeof meaning, "; in ESP-IDF 4.0-4.2 the same number was ");
        mqtls__explain_append(meaning, sizeof meaning, e->old);
    }
    if (code == 0x801Au || code == 0x8010u) {
        mqtls__explain_append(meaning, sizeof meaning,
                              ". Handshake failures carry the real reason in esp_tls_stack_err "
                              "(the -0x.... mbedTLS code) and esp_tls_cert_verify_flags: explain "
                              "those too");
    }
    if (mqtls__explain_add_input(r, ctx, alt ? "esp-tls?" : "esp-tls", ev, meaning)) {
        mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), alt, ev);
    }
    return true;
}

/* ---------------------------------------------------------------- TLS alerts */

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
bool mqtls__explain_alert(mqtls_explain_t *r, scan_ctx_t *ctx, int num, enum side dir)
{
    const alert_entry_t *a = alert_find(num);
    if (a == NULL) {
        return false;
    }
    const char *name = mqtls_tls_alert_name(a->num);
    char text[64];
    char meaning[640];
    (void)snprintf(text, sizeof text, "alert %d %s", a->num, name);
    (void)snprintf(meaning, sizeof meaning, "TLS alert %d (%s), RFC 8446 6.2. %s", a->num, name,
                   dir == SIDE_BROKER
                       ? "Seen in the broker's log: the CLIENT sent it, i.e. the client rejected "
                         "the broker's certificate or parameters."
                   : dir == SIDE_CLIENT
                       ? "Received by the client: the BROKER rejected the client (its "
                         "certificate or parameters)."
                       : "If the client printed it, the broker rejected the client; if it is in "
                         "the broker's log, the client rejected the broker.");
    if (mqtls__explain_add_input(r, ctx, "tls-alert", text, meaning)) {
        if (dir != SIDE_BROKER) {
            mqtls__explain_add_weights(r, a->recv, ARRAY_LEN(a->recv), false, text);
        }
        if (dir != SIDE_CLIENT) {
            /* Unknown direction: the client-side reading is the usual paste; keep the other
             * one as a runner-up. */
            for (size_t i = 0; i < ARRAY_LEN(a->sent) && a->sent[i].w > 0; i++) {
                int w = a->sent[i].w - (dir == SIDE_UNKNOWN ? 1 : 0);
                mqtls__explain_add_cause(r, a->sent[i].id, w < 1 ? 1 : w, text);
            }
        }
    }
    return true;
}

enum side mqtls__explain_alert_dir(bool sent_by_client)
{
    /* SIDE_BROKER: "the broker's log shows it", i.e. the client sent it (it rejected the
     * broker); SIDE_CLIENT: the client received it (the broker rejected the client). */
    return sent_by_client ? SIDE_BROKER : SIDE_CLIENT;
}

int mqtls__explain_alert_by_go_text(const char *text)
{
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        const char *go = alerts[i].go;
        size_t n = go != NULL ? strlen(go) : 0;
        /* the longest text wins: "unknown certificate authority", not "unknown certificate" */
        if (n > best_len && strncmp(text, go, n) == 0 && !isalpha((unsigned char)text[n])) {
            best = alerts[i].num;
            best_len = n;
        }
    }
    return best;
}

int mqtls__explain_alert_by_squashed(const char *text)
{
    char have[48];
    mqtls__explain_squash(have, sizeof have, text);
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        char name[48];
        mqtls__explain_squash(name, sizeof name, mqtls_tls_alert_name(alerts[i].num));
        size_t n = strlen(name);
        if (n > best_len && strncmp(have, name, n) == 0) {
            best = alerts[i].num; /* the longest name wins: bad_certificate_status_response */
            best_len = n;
        }
    }
    return best;
}

/* The alert's name with spaces for '_', as OpenSSL prints it ("unknown ca"). */
static void spaced_name(char *dst, size_t cap, int num)
{
    mqtls__explain_copy(dst, cap, mqtls_tls_alert_name(num));
    for (char *c = dst; *c != '\0'; c++) {
        *c = *c == '_' ? ' ' : *c;
    }
}

void mqtls__explain_scan_alert_phrases(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        if (alerts[i].openssl == OSSL_NO) {
            continue;
        }
        char needle[64];
        char spaced[48];
        spaced_name(spaced, sizeof spaced, alerts[i].num);
        (void)snprintf(needle, sizeof needle, "%s%s",
                       alerts[i].openssl == OSSL_ALERT ? "alert " : "", spaced);
        if (mqtls__explain_find(ctx, line, needle) != NULL) {
            mqtls__explain_alert(r, ctx, alerts[i].num, ctx->line_side);
        }
    }
}

void mqtls__explain_scan_alert_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    /* Paho "SSL alert read:fatal:unknown CA" / "write": OpenSSL's long alert names. */
    const char *rd = mqtls__explain_find(ctx, line, "alert read:");
    const char *wr = mqtls__explain_find(ctx, line, "alert write:");
    for (size_t i = 0; (rd != NULL || wr != NULL) && i < ARRAY_LEN(alerts); i++) {
        char spaced[48];
        spaced_name(spaced, sizeof spaced, alerts[i].num);
        if (alerts[i].num != 0 && mqtls__explain_find(ctx, line, spaced) != NULL) {
            mqtls__explain_alert(r, ctx, alerts[i].num, rd != NULL ? SIDE_CLIENT : SIDE_BROKER);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        const char *name = mqtls_tls_alert_name(alerts[i].num);
        if (strchr(name, '_') != NULL && mqtls__explain_find(ctx, line, name) != NULL) {
            mqtls__explain_alert(r, ctx, alerts[i].num, ctx->line_side);
        }
    }
}

/* ---------------------------------------------------------------- MQTT and Paho codes */

/* MQTT 3.1.1 CONNACK return codes and Paho C return codes (tables of explain_codes.h). */
static bool explain_rc(mqtls_explain_t *r, scan_ctx_t *ctx, const rc_entry_t *tab, size_t n,
                       int code, bool paho, bool alt)
{
    for (size_t i = 0; i < n; i++) {
        if (tab[i].code != code) {
            continue;
        }
        char text[48];
        char meaning[640];
        if (paho) {
            (void)snprintf(text, sizeof text, "Paho rc %d", code);
            (void)snprintf(meaning, sizeof meaning, "Paho C %s (%d): %s", tab[i].name, code,
                           tab[i].text);
        } else {
            (void)snprintf(text, sizeof text, "CONNACK %d", code);
            (void)snprintf(meaning, sizeof meaning,
                           "MQTT 3.1.1 CONNACK return code %d, esp-mqtt %s, mosquitto \"%s\"%s",
                           code, tab[i].name, tab[i].text,
                           code == 0 ? "" : "; Paho's MQTTClient_connect() returns it as is");
        }
        if (mqtls__explain_add_input(r, ctx,
                                     alt    ? "connack?"
                                     : paho ? "paho"
                                            : "connack",
                                     text, meaning)) {
            mqtls__explain_add_weights(r, tab[i].to, ARRAY_LEN(tab[i].to), alt, text);
        }
        return true;
    }
    return false;
}

bool mqtls__explain_connack(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt)
{
    return explain_rc(r, ctx, connack311, ARRAY_LEN(connack311), code, false, alt);
}

bool mqtls__explain_paho(mqtls_explain_t *r, scan_ctx_t *ctx, int code)
{
    return explain_rc(r, ctx, paho_rc, ARRAY_LEN(paho_rc), code, true, false);
}

/* An MQTT 5 reason code >= 0x80: its name and packets from src/packet/names.c. */
bool mqtls__explain_reason5(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt)
{
    const reason_entry_t *e = NULL;
    for (size_t i = 0; i < ARRAY_LEN(reason5) && e == NULL; i++) {
        e = reason5[i].code == code ? &reason5[i] : NULL;
    }
    uint16_t packets = e != NULL ? mqtls__reason_packets(e->code) : 0;
    if (packets == 0) {
        return false;
    }
    const char *name = NULL;
    char in[128] = "";
    for (unsigned t = MQTLS_CONNECT; t <= MQTLS_AUTH; t++) {
        if ((packets & (1u << t)) == 0) {
            continue;
        }
        if (name == NULL) {
            name = mqtls_reason_name((mqtls_packet_type_t)t, e->code);
        }
        mqtls__explain_append(in, sizeof in, in[0] != '\0' ? "/" : "");
        mqtls__explain_append(in, sizeof in, mqtls_packet_type_name((mqtls_packet_type_t)t));
    }
    char text[48];
    char meaning[640];
    (void)snprintf(text, sizeof text, "reason 0x%02X", (unsigned)code);
    (void)snprintf(meaning, sizeof meaning,
                   "MQTT 5 reason code 0x%02X (%d) \"%s\" (in %s), MQTT 5.0 2.4", code, code, name,
                   in);
    if (mqtls__explain_add_input(r, ctx, alt ? "connack?" : "reason-code", text, meaning)) {
        mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), alt, text);
    }
    return true;
}

/* ---------------------------------------------------------------- errno */

static void explain_errno_entry(mqtls_explain_t *r, scan_ctx_t *ctx, const errno_entry_t *e,
                                const char *how)
{
    char meaning[640];
    (void)snprintf(meaning, sizeof meaning, "%s \"%s\" (Linux %d, ESP-IDF/newlib %d)%s", e->name,
                   e->text, e->linux_num, e->newlib_num, how);
    if (mqtls__explain_add_input(r, ctx, "errno", e->name, meaning)) {
        mqtls__explain_add_weights(r, e->to, ARRAY_LEN(e->to), false, e->name);
    }
}

bool mqtls__explain_errno_num(mqtls_explain_t *r, scan_ctx_t *ctx, long num)
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

bool mqtls__explain_scan_errno_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line)
{
    bool found = false;
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        char lname[24];
        mqtls__explain_lower_copy(lname, errnos[i].name, strlen(errnos[i].name));
        const char *p = mqtls__explain_find(ctx, line, lname);
        if (p != NULL && !isalnum((unsigned char)p[strlen(lname)]) &&
            (p == line || !isalnum((unsigned char)p[-1]))) {
            explain_errno_entry(r, ctx, &errnos[i], "");
            found = true;
        }
    }
    return found;
}

/* ---------------------------------------------------------------- names */

bool mqtls__explain_lookup_name(mqtls_explain_t *r, scan_ctx_t *ctx, const char *s)
{
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        if (mqtls__explain_ieq(s, verify_flags_tab[i].name)) {
            char text[32];
            (void)snprintf(text, sizeof text, "0x%05X", (unsigned)verify_flags_tab[i].bit);
            mqtls__explain_flags(r, ctx, verify_flags_tab[i].bit, text, false, NULL);
            return true;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        if (mqtls__explain_ieq(s, mbed_codes[i].name) ||
            (mbed_codes[i].v3 != NULL && mqtls__explain_ieq(s, mbed_codes[i].v3))) {
            return mqtls__explain_mbedtls(r, ctx, mbed_codes[i].code, false, NULL);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(esp_codes); i++) {
        if ((esp_codes[i].name != NULL && mqtls__explain_ieq(s, esp_codes[i].name)) ||
            (esp_codes[i].old != NULL && mqtls__explain_ieq(s, esp_codes[i].old))) {
            return mqtls__explain_esp(r, ctx, esp_codes[i].code, false);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(connack311); i++) {
        if (mqtls__explain_ieq(s, connack311[i].name)) {
            return mqtls__explain_connack(r, ctx, connack311[i].code, false);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(paho_rc); i++) {
        if (mqtls__explain_ieq(s, paho_rc[i].name)) {
            return mqtls__explain_paho(r, ctx, paho_rc[i].code);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        if (mqtls__explain_ieq(s, errnos[i].name)) {
            explain_errno_entry(r, ctx, &errnos[i], "");
            return true;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        if (mqtls__explain_ieq(s, mqtls_tls_alert_name(alerts[i].num))) {
            return mqtls__explain_alert(r, ctx, alerts[i].num, SIDE_UNKNOWN);
        }
    }
    return false;
}
