/* Diagnosis: credentials, handshake facts and failures -> findings (include/mqtls/diag.h).
 *
 * mbedTLS merges many causes into one flag (NOT_TRUSTED: wrong CA, regenerated CA, missing
 * intermediate, CA:FALSE issuer, self-signed server; BAD_KEY: weak CA key or weak leaf key,
 * set on the CHILD whose issuer's key fails the profile). We rebuild the chain ourselves from
 * the certificates, comparing names and verifying each signature with the candidate issuer's
 * key, so every finding names the certificate and the reason. Order of checks = order of
 * causes: findings are appended root cause first and sorted stably by severity.
 *
 * This file: the entry point, the findings that need no certificate (insecure mode, clock) and
 * the text helpers every check uses. The checks themselves: diag_ctx.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/abi.h"
#include "common/tls_facts.h"
#include "diag_ctx.h"

/* Before 2015-01-01 no certificate in use today was valid: the clock was never set. */
#define CLOCK_SANE_MIN_S 1420070400

/* ---------------------------------------------------------------- findings and texts */

mqtls_finding_t *mqtls__diag_add(mqtls__diag_ctx_t *c, mqtls__finding_id_t id, const char *subject,
                                 const char *fix, const char *fmt, ...)
{
    mqtls_finding_t *it = mqtls__finding_add(c->out, id);
    if (it == NULL) {
        return NULL;
    }
    mqtls__setf(it->subject, sizeof it->subject, "%s", subject != NULL ? subject : "");
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
    mqtls__setf(it->fix, sizeof it->fix, "%s", fix != NULL ? fix : "");
    return it;
}

const char *mqtls__diag_subject(mqtls__diag_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->subject, sizeof c->subject, fmt, ap);
    va_end(ap);
    return c->subject;
}

const char *mqtls__diag_fix(mqtls__diag_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->fix, sizeof c->fix, fmt, ap);
    va_end(ap);
    return c->fix;
}

void mqtls__diag_fmt_date(char *dst, size_t cap, int64_t t)
{
    /* civil_from_days (H. Hinnant) */
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    mqtls__setf(dst, cap, "%04lld-%02lld-%02lld", (long long)(y + (m <= 2 ? 1 : 0)), (long long)m,
                (long long)d);
}

const char *mqtls__diag_file_name(const mqtls_diag_file_t *f, const char *fallback)
{
    return f->display_name != NULL ? f->display_name : fallback;
}

/* "server certificate #0 'CN=localhost' (issuer 'CN=Root', RSA-2048, SHA-256 with RSA,
 *  valid 2024-01-01..2049-12-31)" */
const char *mqtls__diag_describe(mqtls__diag_ctx_t *c, const char *role, const mqtls_certinfo_t *ci)
{
    char from[16];
    char to[16];
    mqtls__diag_fmt_date(from, sizeof from, ci->not_before_s);
    mqtls__diag_fmt_date(to, sizeof to, ci->not_after_s);
    return mqtls__diag_subject(c, "%s '%s' (issuer '%s', key %s, signed %s, valid %s..%s)", role,
                               ci->subject, ci->issuer, ci->key_desc, ci->sig_desc, from, to);
}

void mqtls__diag_server_role(char *dst, size_t cap, size_t depth)
{
    if (depth == 0) {
        mqtls__setf(dst, cap, "server certificate (depth 0)");
    } else {
        mqtls__setf(dst, cap, "server chain certificate (depth %zu)", depth);
    }
}

/* ---------------------------------------------------------------- entry points */

static void input_defaults(mqtls_diag_input_t *in)
{
    memset(in, 0, sizeof *in);
    in->struct_size = sizeof *in;
    in->profile = MQTLS_PROFILE_MBEDTLS_DEFAULT;
    in->broker_reachable = -1;
}

void mqtls_diag_input_init_sized(mqtls_diag_input_t *in, size_t size)
{
    mqtls_diag_input_t d;
    input_defaults(&d);
    mqtls__struct_init(in, size, &d, sizeof d);
}

/* The first public layout (ABI 1): callers cannot be older than this. */
#define DIAG_INPUT_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_diag_input_t, insecure)

static void load_server_chain(mqtls__diag_ctx_t *c)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    if (!mqtls__certset_reserve(c->server, MQTLS__MAX_CHAIN_DEPTH) || f == NULL) {
        return;
    }
    const mqtls_cert_fact_t *list = f->presented_len > 0 ? f->presented : f->chain;
    size_t n = f->presented_len > 0 ? f->presented_len : f->chain_len;
    for (size_t i = 0; i < n && i < MQTLS__MAX_CHAIN_DEPTH && c->server->count < c->server->cap;
         i++) {
        if (list[i].der == NULL || list[i].der_len == 0) {
            continue;
        }
        mbedtls_x509_crt *x = &c->server->crt[c->server->count];
        if (mbedtls_x509_crt_parse_der(x, list[i].der, list[i].der_len) == 0) {
            mqtls__certinfo_fill(x, &c->server->info[c->server->count], true);
            c->server->count++;
        } else {
            mbedtls_x509_crt_free(x);
            mbedtls_x509_crt_init(x);
        }
    }
}

/* Findings about the run itself: verification off, or no way to verify (esp-tls refuses
 * that), a clock that was never set. */
static void check_mode_and_clock(mqtls__diag_ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    if (in->no_verification_option) {
        /* esp-tls (ESP-IDF 4.4 .. 5.x, set_client_config()): without cacert_buf,
         * crt_bundle_attach, use_global_ca_store or psk_hint_key it fails with
         * ESP_ERR_MBEDTLS_SSL_SETUP_FAILED (0x8017) unless the insecure menuconfig option
         * CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY is on. skip_cert_common_name_check does not
         * count: it only skips the name check. */
        mqtls__diag_add(c, MQTLS__F_NO_VERIFICATION_OPTION,
                        "broker.verification (esp_mqtt_client_config_t)",
                        "Give the CA that issued the broker's certificate (PEM with its NUL, "
                        "e.g. EMBED_TXTFILES ca.crt):\n"
                        ".broker.verification.certificate = (const char *)ca_crt_start (IDF v4 "
                        "layout: .cert_pem)\n"
                        "On the device only, a public broker may use the certificate bundle "
                        "instead: .broker.verification.crt_bundle_attach = esp_crt_bundle_attach "
                        "(the Linux shim has no bundle).",
                        "TLS is configured with no way to verify the broker: no CA certificate "
                        "(broker.verification.certificate), no certificate bundle "
                        "(crt_bundle_attach), no global CA store and no PSK. esp-tls refuses "
                        "this on the device: \"No server verification option set in "
                        "esp_tls_cfg_t structure\", ESP_ERR_MBEDTLS_SSL_SETUP_FAILED (0x8017); "
                        "skip_cert_common_name_check alone does not count.");
    }
    if (in->insecure || (in->facts != NULL && in->facts->insecure)) {
        mqtls__diag_add(c, MQTLS__F_INSECURE_MODE, "--insecure",
                        "drop --insecure and give --cafile ca.crt",
                        "Certificate verification is OFF: anyone on the path can impersonate the "
                        "broker. Use it only to debug, never in production.");
    }
    if (c->clock_bad) {
        char d[16];
        mqtls__diag_fmt_date(d, sizeof d, in->now_s);
        mqtls__diag_add(c, MQTLS__F_CLOCK_NOT_SET, mqtls__diag_subject(c, "local clock: %s", d),
                        "ESP-IDF: esp_sntp_setservername(0, \"pool.ntp.org\"); esp_sntp_init(); "
                        "then wait until time(NULL) > 1700000000 before connecting. Linux: "
                        "timedatectl set-ntp true",
                        "The clock here says %s, before any certificate in use was issued, so "
                        "every certificate looks 'not yet valid' (mbedTLS flag FUTURE). The "
                        "device has not synchronised its time yet.",
                        d);
    }
}

static bool has_error(const mqtls_findings_t *out)
{
    for (size_t i = 0; i < out->count; i++) {
        if (out->items[i].severity == MQTLS_SEV_ERROR) {
            return true;
        }
    }
    return out->dropped > 0; /* the list is full of findings: some of them were errors */
}

/* A failure always carries an error finding: when no check could name the cause, say so with
 * every raw fact, instead of an empty list under a failed verdict. */
static void ensure_error_finding(mqtls__diag_ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    if (e == NULL || e->status == MQTLS_OK || has_error(c->out)) {
        return;
    }
    char facts[400];
    mqtls__setf(facts, sizeof facts, "layer %s, %s", mqtls_layer_name(e->layer),
                mqtls_status_name(e->status));
    if (e->mbedtls_ret != 0) {
        mqtls__appendf(facts, sizeof facts, ", mbedTLS -0x%04X", (unsigned)-e->mbedtls_ret);
    }
    if (e->verify_flags != 0) {
        mqtls__appendf(facts, sizeof facts, ", verify flags 0x%05X", (unsigned)e->verify_flags);
    }
    if (e->tls_alert >= 0) {
        mqtls__appendf(facts, sizeof facts, ", alert %s (%d)", mqtls_tls_alert_name(e->tls_alert),
                       e->tls_alert);
    }
    if (e->sys_errno != 0) {
        mqtls__appendf(facts, sizeof facts, ", errno %d", e->sys_errno);
    }
    if (e->detail[0] != '\0') {
        mqtls__appendf(facts, sizeof facts, ": %s", e->detail);
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    mqtls__diag_add(c, MQTLS__F_CONNECTION_FAILED,
                    mqtls__diag_subject(c, "%s:%u", host, (unsigned)c->in->port),
                    "Look at the broker's log for this connection, and run `mqtls doctor` with the "
                    "same options for a step-by-step check.",
                    "The connection failed and no check pinned the cause (%s).", facts);
}

mqtls_status_t mqtls_diag_run(const mqtls_diag_input_t *caller_in, mqtls_findings_t *out)
{
    if (caller_in == NULL || out == NULL || out->count > MQTLS__MAX_FINDINGS) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_diag_input_t full;
    input_defaults(&full);
    mqtls_status_t ist = mqtls__struct_import(&full, sizeof full, caller_in, DIAG_INPUT_V1_SIZE);
    if (ist != MQTLS_OK) {
        return ist;
    }
    mqtls__diag_ctx_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    c->in = &full;
    c->out = out;
    c->prof = mqtls__profile_get(full.profile);
    c->now = full.now_s;
    c->clock_bad = full.now_s < CLOCK_SANE_MIN_S;
    c->ca = calloc(1, sizeof *c->ca);
    c->cert = calloc(1, sizeof *c->cert);
    c->keyset = calloc(1, sizeof *c->keyset);
    c->server = calloc(1, sizeof *c->server);
    if (c->ca == NULL || c->cert == NULL || c->keyset == NULL || c->server == NULL) {
        free(c->ca);
        free(c->cert);
        free(c->keyset);
        free(c->server);
        free(c);
        return MQTLS_ERR_NOMEM;
    }
    check_mode_and_clock(c);
    mqtls__diag_check_files(c);
    load_server_chain(c);
    mqtls__diag_transport(c);
    mqtls__diag_check_ca_file(c);
    if (c->server->count > 0) {
        mqtls__diag_server_chain(c);
    } else {
        mqtls__diag_ca_keys_offline(c);
    }
    mqtls__diag_reconcile_flags(c);
    mqtls__diag_check_client(c);
    mqtls__diag_check_key(c);
    mqtls__diag_client_alerts(c);
    mqtls__diag_mqtt(c);
    mqtls__diag_handshake_reset(c);
    ensure_error_finding(c);

    mqtls__diag_nearby_free(c);
    mbedtls_pk_free(&c->key);
    mqtls__certset_free(c->ca);
    mqtls__certset_free(c->cert);
    mqtls__certset_free(c->keyset);
    mqtls__certset_free(c->server);
    free(c->ca);
    free(c->cert);
    free(c->keyset);
    free(c->server);
    free(c);
    mqtls_findings_sort(out);
    return MQTLS_OK;
}
