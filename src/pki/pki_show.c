/* mqtls pki show: a short human summary of certificates and keys. The facts come from
 * src/x509 (certinfo, keyinfo, the SAN walker): `mqtls pki show` and `mqtls doctor` describe a
 * certificate with the same words. Key material is never printed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"
#include "mqtls/pki.h"
#include "pki/pki_internal.h"
#include "x509/asn1.h"
#include "x509/certinfo.h"
#include "x509/compat.h"

/* ---- output helpers ---------------------------------------------------------------------- */

typedef struct {
    mqtls_pki_line_fn fn;
    void *ctx;
} out_t;

static void emit(const out_t *o, const char *fmt, ...) MQTLS__PRINTF(2, 3);

static void emit(const out_t *o, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->fn(o->ctx, line);
}

/* ---- certificates ------------------------------------------------------------------------ */

/* Every subjectAltName entry, in certificate order: "DNS:a, IP:127.0.0.1, email:x, URI:y". */
static void describe_san(const mbedtls_x509_crt *crt, char *buf, size_t cap)
{
    buf[0] = '\0';
    mqtls__x509_san_iter_t it;
    if (mqtls__x509_san_begin(&it, crt) != 0) {
        mqtls__setf(buf, cap, "(none)");
        return;
    }
    uint8_t tag = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    for (int n = 0; n < 256 && mqtls__x509_san_next(&it, &tag, &data, &len) == 1; n++) {
        const char *sep = buf[0] != '\0' ? ", " : "";
        if (tag == MQTLS__SAN_DNS || tag == MQTLS__SAN_EMAIL || tag == MQTLS__SAN_URI) {
            mqtls__appendf(buf, cap, "%s%s:%.*s", sep,
                           tag == MQTLS__SAN_DNS     ? "DNS"
                           : tag == MQTLS__SAN_EMAIL ? "email"
                                                     : "URI",
                           (int)len, (const char *)data);
        } else if (tag == MQTLS__SAN_IP && (len == 4 || len == 16)) {
            char ip[64];
            if (inet_ntop(len == 4 ? AF_INET : AF_INET6, data, ip, sizeof ip) == NULL) {
                mqtls__setf(ip, sizeof ip, "?");
            }
            mqtls__appendf(buf, cap, "%sIP:%s", sep, ip);
        } else {
            mqtls__appendf(buf, cap, "%s[%u]", sep, (unsigned)(tag & 0x1Fu));
        }
    }
    if (buf[0] == '\0') {
        mqtls__setf(buf, cap, "(empty)");
    }
}

static void describe_ku(unsigned ku, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MBEDTLS_X509_KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {MBEDTLS_X509_KU_NON_REPUDIATION, "nonRepudiation"},
        {MBEDTLS_X509_KU_KEY_ENCIPHERMENT, "keyEncipherment"},
        {MBEDTLS_X509_KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {MBEDTLS_X509_KU_KEY_AGREEMENT, "keyAgreement"},
        {MBEDTLS_X509_KU_KEY_CERT_SIGN, "keyCertSign"},
        {MBEDTLS_X509_KU_CRL_SIGN, "cRLSign"},
        {MBEDTLS_X509_KU_ENCIPHER_ONLY, "encipherOnly"},
        {MBEDTLS_X509_KU_DECIPHER_ONLY, "decipherOnly"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (ku & names[i].bit) {
            mqtls__appendf(buf, cap, "%s%s", buf[0] != '\0' ? ", " : "", names[i].name);
        }
    }
}

static void describe_eku(unsigned eku, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MQTLS_EKU_SERVER_AUTH, "serverAuth"},
        {MQTLS_EKU_CLIENT_AUTH, "clientAuth"},
        {MQTLS_EKU_ANY, "anyExtendedKeyUsage"},
        {MQTLS_EKU_OTHER, "other purposes"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (eku & names[i].bit) {
            mqtls__appendf(buf, cap, "%s%s", buf[0] != '\0' ? ", " : "", names[i].name);
        }
    }
}

static void format_time(int64_t unix_s, char *buf, size_t cap)
{
    mbedtls_x509_time t;
    mqtls__x509_time_from_unix(unix_s, &t);
    mqtls__setf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d UTC", t.year, t.mon, t.day, t.hour, t.min,
                t.sec);
}

static void describe_cert(const out_t *o, const mbedtls_x509_crt *crt, const mqtls_certinfo_t *ci,
                          int64_t now)
{
    char buf[1024];
    emit(o, "  subject:      %s", ci->subject[0] != '\0' ? ci->subject : "(unprintable)");
    emit(o, "  issuer:       %s%s", ci->issuer[0] != '\0' ? ci->issuer : "(unprintable)",
         ci->self_issued ? "  (self-signed)" : "");
    describe_san(crt, buf, sizeof buf);
    emit(o, "  SAN:          %s", buf);
    emit(o, "  key:          %s", ci->key_desc);
    emit(o, "  signature:    %s", ci->sig_desc);
    emit(o, "  serial:       %s", ci->serial);

    char from[40];
    char to[40];
    char left[64];
    format_time(ci->not_before_s, from, sizeof from);
    format_time(ci->not_after_s, to, sizeof to);
    if (now < ci->not_before_s) {
        mqtls__setf(left, sizeof left, "NOT YET VALID (starts in %lld days)",
                    (long long)((ci->not_before_s - now + 86399) / 86400));
    } else if (now > ci->not_after_s) {
        mqtls__setf(left, sizeof left, "EXPIRED %lld days ago",
                    (long long)((now - ci->not_after_s) / 86400));
    } else {
        mqtls__setf(left, sizeof left, "%lld days left",
                    (long long)((ci->not_after_s - now) / 86400));
    }
    emit(o, "  valid:        %s .. %s  (%s)", from, to, left);

    if (ci->has_basic_constraints) {
        emit(o, "  CA:           %s", ci->is_ca ? "yes" : "no");
    } else {
        emit(o, "  CA:           no (no basicConstraints)");
    }
    if (ci->has_key_usage) {
        describe_ku(ci->key_usage, buf, sizeof buf);
        emit(o, "  key usage:    %s", buf);
    } else {
        emit(o, "  key usage:    (not restricted)");
    }
    if (ci->has_ext_key_usage) {
        describe_eku(ci->ext_key_usage, buf, sizeof buf);
        emit(o, "  ext key use:  %s", buf);
    } else {
        emit(o, "  ext key use:  (not restricted)");
    }
    emit(o, "  SHA-256:      %s", ci->sha256_hex);
}

/* ---- keys -------------------------------------------------------------------------------- */

/* One key block (PEM with its @p label, or DER with label NULL). */
static void describe_key_block(const out_t *o, const uint8_t *data, size_t len, const char *label)
{
    mqtls_keyinfo_t ki;
    mqtls_status_t st = mqtls_keyinfo_parse(data, len, NULL, &ki);
    if (st == MQTLS_OK) {
        emit(o, "  private key:  %s, not encrypted%s", ki.key_desc,
             ki.format == MQTLS_KEYFMT_PKCS8   ? " (PKCS#8)"
             : ki.format == MQTLS_KEYFMT_SEC1  ? " (SEC1)"
             : ki.format == MQTLS_KEYFMT_PKCS1 ? " (PKCS#1)"
                                               : "");
        return;
    }
    if (st == MQTLS_ERR_KEY_PASSWORD_REQUIRED) {
        const char *type = "type unknown until decrypted";
        if (label != NULL && strcmp(label, "RSA PRIVATE KEY") == 0) {
            type = "RSA, size unknown until decrypted";
        } else if (label != NULL && strcmp(label, "EC PRIVATE KEY") == 0) {
            type = "EC, curve unknown until decrypted";
        }
        emit(o, "  private key:  ENCRYPTED (%s)", type);
        return;
    }
    /* A public key block: keyinfo describes private keys only. mbedTLS wants PEM with its NUL
     * counted, as keyinfo does: the caller's blocks carry one. */
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    if (mbedtls_pk_parse_public_key(&pk, data, len) == 0) {
        char desc[48];
        mqtls__x509_key_desc(desc, sizeof desc, mqtls__dm_pk_type(&pk),
                             (unsigned)mbedtls_pk_get_bitlen(&pk), mqtls__dm_pk_curve(&pk));
        emit(o, "  public key:   %s", desc);
    } else {
        emit(o, "  key:          could not be parsed (mbedTLS -0x%04X)", (unsigned)-ki.mbedtls_ret);
    }
    mbedtls_pk_free(&pk);
}

/* Every PEM block whose label names a key ("PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY"...),
 * each copied NUL-terminated. Returns how many were described. */
static size_t describe_pem_keys(const out_t *o, const char *path, const char *text)
{
    size_t found = 0;
    const char *p = text;
    for (int guard = 0; guard < 64 && (p = strstr(p, "-----BEGIN ")) != NULL; guard++) {
        const char *lab = p + strlen("-----BEGIN ");
        const char *lab_end = strstr(lab, "-----");
        if (lab_end == NULL) {
            break;
        }
        char label[48];
        size_t ll = (size_t)(lab_end - lab);
        if (ll >= sizeof label) {
            p = lab_end;
            continue;
        }
        memcpy(label, lab, ll);
        label[ll] = '\0';
        char end_marker[80];
        mqtls__setf(end_marker, sizeof end_marker, "-----END %s-----", label);
        const char *e = strstr(lab_end, end_marker);
        if (e == NULL) {
            break;
        }
        e += strlen(end_marker);
        if (strstr(label, "KEY") != NULL) {
            size_t blen = (size_t)(e - p);
            uint8_t *block = malloc(blen + 2);
            if (block != NULL) {
                memcpy(block, p, blen);
                block[blen] = '\n';
                block[blen + 1] = '\0';
                emit(o, "%s: %s", path, label);
                describe_key_block(o, block, blen + 2, label);
                mbedtls_platform_zeroize(block, blen + 2);
                free(block);
                found++;
            }
        }
        p = e;
    }
    return found;
}

mqtls_status_t mqtls_pki_show(const char *path, int64_t now_s, mqtls_pki_line_fn line, void *ctx,
                              mqtls_error_t *err)
{
    if (path == NULL || line == NULL) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "no file or output");
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    mqtls_status_t st = mqtls__pki_read_file(path, &buf, &len, err);
    if (st != MQTLS_OK) {
        return st;
    }
    const out_t o = {line, ctx};
    int64_t now = now_s != 0 ? now_s : (int64_t)time(NULL);
    mqtls__certset_t *set = malloc(sizeof *set);
    if (set == NULL) {
        mbedtls_platform_zeroize(buf, len);
        free(buf);
        return mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "%s", path);
    }
    /* read_file appended a NUL (counted in len): the certificate set does not need it. */
    mqtls__certset_load(set, buf, len - 1);
    size_t found = 0;
    for (size_t i = 0; i < set->count; i++) {
        emit(&o, "%s: certificate %zu of %zu", path, i + 1, set->count);
        describe_cert(&o, &set->crt[i], &set->info[i], now);
        found++;
    }
    if (set->bad_certs > 0) {
        emit(&o, "%s: %zu certificate block(s) could not be parsed", path, set->bad_certs);
    }
    if (set->is_pem) {
        found += describe_pem_keys(&o, path, (const char *)buf);
    } else if (set->count == 0 && set->has_key) {
        emit(&o, "%s: DER private key", path);
        describe_key_block(&o, buf, len - 1, NULL);
        found++;
    }
    int bad_ret = set->bad_ret;
    mqtls__certset_free(set);
    free(set);
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (found == 0) {
        return mqtls__pki_fail(err, MQTLS_ERR_CERT_PARSE, bad_ret, 0,
                               "%s: no certificate or key found", path);
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_pki_server_host(const char *dir, char *out, size_t cap)
{
    if (dir == NULL || out == NULL || cap == 0) {
        return MQTLS_ERR_INVALID_ARG;
    }
    char path[MQTLS_PKI_PATH_MAX];
    size_t dlen = strlen(dir);
    int n = snprintf(path, sizeof path, "%s%sserver.crt", dir,
                     dlen > 0 && dir[dlen - 1] == '/' ? "" : "/");
    if (n < 0 || (size_t)n >= sizeof path) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ret = mbedtls_x509_crt_parse_file(&crt, path);
    mqtls_status_t st = MQTLS_ERR_CERT_PARSE;
    if (ret == MBEDTLS_ERR_X509_FILE_IO_ERROR) {
        st = MQTLS_ERR_FILE_UNREADABLE;
    } else if (ret == 0) {
        /* The first subjectAltName entry. */
        mqtls__x509_san_iter_t it;
        uint8_t tag = 0;
        const uint8_t *data = NULL;
        size_t san_len = 0;
        if (mqtls__x509_san_begin(&it, &crt) == 0 &&
            mqtls__x509_san_next(&it, &tag, &data, &san_len) == 1) {
            if (tag == MQTLS__SAN_DNS && san_len < cap) {
                memcpy(out, data, san_len);
                out[san_len] = '\0';
                st = MQTLS_OK;
            } else if (tag == MQTLS__SAN_IP && (san_len == 4 || san_len == 16)) {
                st = inet_ntop(san_len == 4 ? AF_INET : AF_INET6, data, out, (socklen_t)cap) != NULL
                         ? MQTLS_OK
                         : MQTLS_ERR_BUFFER_TOO_SMALL;
            } else {
                st = MQTLS_ERR_BUFFER_TOO_SMALL;
            }
        }
    }
    mbedtls_x509_crt_free(&crt);
    return st;
}
