/* mqtls pki show: a short human summary of certificates and keys.
 *
 * This is a deliberately minimal inspector, kept in one entry point (describe_cert) so the
 * certificate analysis of src/diag can replace it later. Key material is never printed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/pki.h"
#include "pki/pki_compat.h"
#include "pki/pki_internal.h"

/* ---- DER walking ------------------------------------------------------------------------- */

static int skip_element(unsigned char **p, const unsigned char *end)
{
    size_t len = 0;
    if (end - *p < 2) {
        return -1;
    }
    (*p)++; /* the tag: all TBSCertificate fields use single-byte tags */
    if (mbedtls_asn1_get_len(p, end, &len) != 0) {
        return -1;
    }
    *p += len;
    return 0;
}

int mqtls__pki_find_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                        const unsigned char **val, size_t *val_len, int *critical)
{
    unsigned char *p = crt->tbs.p;
    const unsigned char *end = crt->tbs.p + crt->tbs.len;
    size_t len = 0;
    if (p == NULL || mbedtls_asn1_get_tag(&p, end, &len,
                                          MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -1;
    }
    end = p + len;
    /* TBSCertificate (RFC 5280 4.1): [0] version?, serial, signature, issuer, validity,
     * subject, subjectPublicKeyInfo, [1]?, [2]?, [3] extensions? */
    if (p < end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        if (skip_element(&p, end) != 0) {
            return -1;
        }
    }
    for (int i = 0; i < 6; i++) {
        if (skip_element(&p, end) != 0) {
            return -1;
        }
    }
    for (int guard = 0; p < end && guard < 4; guard++) {
        if (*p != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
            if (skip_element(&p, end) != 0) {
                return -1;
            }
            continue;
        }
        if (mbedtls_asn1_get_tag(
                &p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3) != 0 ||
            mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
                0) {
            return -1;
        }
        const unsigned char *exts_end = p + len;
        for (int n = 0; p < exts_end && n < 256; n++) {
            if (mbedtls_asn1_get_tag(&p, exts_end, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
                return -1;
            }
            const unsigned char *ext_end = p + len;
            size_t olen = 0;
            if (mbedtls_asn1_get_tag(&p, ext_end, &olen, MBEDTLS_ASN1_OID) != 0) {
                return -1;
            }
            int match = olen == oid_len && memcmp(p, oid, oid_len) == 0;
            p += olen;
            int crit = 0;
            if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
                mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0) {
                return -1;
            }
            size_t vlen = 0;
            if (mbedtls_asn1_get_tag(&p, ext_end, &vlen, MBEDTLS_ASN1_OCTET_STRING) != 0) {
                return -1;
            }
            if (match) {
                *val = p;
                *val_len = vlen;
                *critical = crit;
                return 0;
            }
            p = (unsigned char *)ext_end;
        }
        return -1;
    }
    return -1;
}

int mqtls__pki_san_next(const unsigned char **p, const unsigned char *end, int *tag,
                        const unsigned char **data, size_t *len)
{
    if (*p >= end) {
        return 0;
    }
    unsigned char t = **p;
    if ((t & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0) {
        return -1;
    }
    unsigned char *q = (unsigned char *)*p + 1;
    size_t l = 0;
    if (mbedtls_asn1_get_len(&q, end, &l) != 0) {
        return -1;
    }
    *tag = t & 0x1f;
    *data = q;
    *len = l;
    *p = q + l;
    return 1;
}

/* ---- output helpers ---------------------------------------------------------------------- */

typedef struct {
    mqtls_pki_line_fn fn;
    void *ctx;
} out_t;

static void emit(const out_t *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void emit(const out_t *o, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->fn(o->ctx, line);
}

/* Append to a fixed buffer, truncating silently (display only). */
static void append(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static void describe_key(const mbedtls_pk_context *pk, char *buf, size_t cap)
{
    buf[0] = '\0';
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    if (t == MBEDTLS_PK_RSA) {
        append(buf, cap, "RSA %u bits", (unsigned)mbedtls_pk_get_bitlen(pk));
    } else if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECKEY_DH || t == MBEDTLS_PK_ECDSA) {
        const mbedtls_ecp_curve_info *ci = mbedtls_ecp_curve_info_from_grp_id(pki_pk_ec_curve(pk));
        append(buf, cap, "EC %u bits, curve %s", (unsigned)mbedtls_pk_get_bitlen(pk),
               ci != NULL ? ci->name : "unknown");
    } else {
        append(buf, cap, "%s", mbedtls_pk_get_name(pk));
    }
}

static void format_time(const mbedtls_x509_time *t, char *buf, size_t cap)
{
    (void)snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year, t->mon, t->day, t->hour,
                   t->min, t->sec);
}

static void describe_san(const mbedtls_x509_crt *crt, char *buf, size_t cap)
{
    const unsigned char *val = NULL;
    size_t len = 0;
    int crit = 0;
    buf[0] = '\0';
    if (mqtls__pki_find_ext(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), &val, &len,
                            &crit) != 0) {
        append(buf, cap, "(none)");
        return;
    }
    unsigned char *p = (unsigned char *)val;
    const unsigned char *end = val + len;
    size_t seq = 0;
    if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
        0) {
        append(buf, cap, "(malformed)");
        return;
    }
    const unsigned char *q = p;
    end = p + seq;
    int tag = 0;
    const unsigned char *data = NULL;
    size_t dlen = 0;
    int r;
    for (int n = 0; n < 256 && (r = mqtls__pki_san_next(&q, end, &tag, &data, &dlen)) == 1; n++) {
        const char *sep = buf[0] != '\0' ? ", " : "";
        if (tag == 2 || tag == 1 || tag == 6) { /* dNSName, rfc822Name, URI: IA5String */
            append(buf, cap, "%s%s:%.*s", sep,
                   tag == 2   ? "DNS"
                   : tag == 1 ? "email"
                              : "URI",
                   (int)dlen, (const char *)data);
        } else if (tag == 7 && (dlen == 4 || dlen == 16)) {
            char ip[64];
            if (inet_ntop(dlen == 4 ? AF_INET : AF_INET6, data, ip, sizeof ip) == NULL) {
                ip[0] = '?';
                ip[1] = '\0';
            }
            append(buf, cap, "%sIP:%s", sep, ip);
        } else {
            append(buf, cap, "%s[%d]", sep, tag);
        }
    }
    if (buf[0] == '\0') {
        append(buf, cap, "(empty)");
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
            append(buf, cap, "%s%s", buf[0] != '\0' ? ", " : "", names[i].name);
        }
    }
}

static void describe_eku(const mbedtls_x509_sequence *seq, char *buf, size_t cap)
{
    static const struct {
        const char *oid;
        size_t len;
        const char *name;
    } names[] = {
        {MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH), "serverAuth"},
        {MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH), "clientAuth"},
        {MBEDTLS_OID_CODE_SIGNING, MBEDTLS_OID_SIZE(MBEDTLS_OID_CODE_SIGNING), "codeSigning"},
        {MBEDTLS_OID_EMAIL_PROTECTION, MBEDTLS_OID_SIZE(MBEDTLS_OID_EMAIL_PROTECTION),
         "emailProtection"},
        {MBEDTLS_OID_TIME_STAMPING, MBEDTLS_OID_SIZE(MBEDTLS_OID_TIME_STAMPING), "timeStamping"},
        {MBEDTLS_OID_OCSP_SIGNING, MBEDTLS_OID_SIZE(MBEDTLS_OID_OCSP_SIGNING), "OCSPSigning"},
        {MBEDTLS_OID_ANY_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_ANY_EXTENDED_KEY_USAGE),
         "anyExtendedKeyUsage"},
    };
    buf[0] = '\0';
    for (int n = 0; seq != NULL && seq->buf.p != NULL && n < 64; seq = seq->next, n++) {
        const char *sep = buf[0] != '\0' ? ", " : "";
        const char *name = NULL;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (seq->buf.len == names[i].len &&
                memcmp(seq->buf.p, names[i].oid, names[i].len) == 0) {
                name = names[i].name;
            }
        }
        if (name != NULL) {
            append(buf, cap, "%s%s", sep, name);
        } else {
            char dotted[64];
            if (mbedtls_oid_get_numeric_string(dotted, sizeof dotted, &seq->buf) < 0) {
                dotted[0] = '?';
                dotted[1] = '\0';
            }
            append(buf, cap, "%s%s", sep, dotted);
        }
    }
}

/* The one place that inspects a certificate (to be swapped for src/diag later). */
static void describe_cert(const out_t *o, const mbedtls_x509_crt *crt, int64_t now)
{
    char buf[1024];
    char buf2[64];
    int n = mbedtls_x509_dn_gets(buf, sizeof buf, &crt->subject);
    emit(o, "  subject:      %s", n < 0 ? "(unprintable)" : buf);
    n = mbedtls_x509_dn_gets(buf, sizeof buf, &crt->issuer);
    emit(o, "  issuer:       %s%s", n < 0 ? "(unprintable)" : buf,
         crt->subject_raw.len == crt->issuer_raw.len &&
                 memcmp(crt->subject_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) == 0
             ? "  (self-signed)"
             : "");
    describe_san(crt, buf, sizeof buf);
    emit(o, "  SAN:          %s", buf);
    describe_key(&crt->pk, buf, sizeof buf);
    emit(o, "  key:          %s", buf);

    mbedtls_md_type_t md = pki_crt_sig_md(crt);
    mbedtls_pk_type_t sig_pk = MBEDTLS_PK_NONE;
    (void)mbedtls_oid_get_sig_alg(&crt->sig_oid, &md, &sig_pk);
    const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
    emit(o, "  signature:    %s with %s",
         sig_pk == MBEDTLS_PK_RSA     ? "RSA"
         : sig_pk == MBEDTLS_PK_ECDSA ? "ECDSA"
                                      : "other",
         mi != NULL ? mbedtls_md_get_name(mi) : "unknown hash");

    buf[0] = '\0';
    for (size_t i = 0; i < crt->serial.len && i < 32; i++) {
        append(buf, sizeof buf, "%s%02X", i > 0 ? ":" : "", crt->serial.p[i]);
    }
    emit(o, "  serial:       %s", buf);

    char from[40];
    char to[40];
    format_time(&crt->valid_from, from, sizeof from);
    format_time(&crt->valid_to, to, sizeof to);
    int64_t start = mqtls__pki_x509_time_to_epoch(&crt->valid_from);
    int64_t stop = mqtls__pki_x509_time_to_epoch(&crt->valid_to);
    if (now < start) {
        (void)snprintf(buf2, sizeof buf2, "NOT YET VALID (starts in %lld days)",
                       (long long)((start - now + 86399) / 86400));
    } else if (now > stop) {
        (void)snprintf(buf2, sizeof buf2, "EXPIRED %lld days ago",
                       (long long)((now - stop) / 86400));
    } else {
        (void)snprintf(buf2, sizeof buf2, "%lld days left", (long long)((stop - now) / 86400));
    }
    emit(o, "  valid:        %s .. %s  (%s)", from, to, buf2);

    int ext = pki_crt_ext_types(crt);
    if (ext & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS) {
        emit(o, "  CA:           %s", pki_crt_ca_istrue(crt) ? "yes" : "no");
    } else {
        emit(o, "  CA:           no (no basicConstraints)");
    }
    if (ext & MBEDTLS_X509_EXT_KEY_USAGE) {
        describe_ku(pki_crt_key_usage(crt), buf, sizeof buf);
        emit(o, "  key usage:    %s", buf);
    } else {
        emit(o, "  key usage:    (not restricted)");
    }
    if (ext & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) {
        describe_eku(&crt->ext_key_usage, buf, sizeof buf);
        emit(o, "  ext key use:  %s", buf);
    } else {
        emit(o, "  ext key use:  (not restricted)");
    }

    unsigned char digest[32];
    buf[0] = '\0';
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), crt->raw.p, crt->raw.len,
                   digest) == 0) {
        for (size_t i = 0; i < sizeof digest; i++) {
            append(buf, sizeof buf, "%s%02X", i > 0 ? ":" : "", digest[i]);
        }
    }
    emit(o, "  SHA-256:      %s", buf);
}

/* ---- keys -------------------------------------------------------------------------------- */

typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int ready;
} show_rng_t;

static void describe_key_block(const out_t *o, const unsigned char *der_or_pem, size_t len,
                               const char *label, show_rng_t *r)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    char buf[256];
    int ret = pki_pk_parse_key(&pk, der_or_pem, len, mbedtls_ctr_drbg_random, &r->drbg);
    if (ret == 0) {
        describe_key(&pk, buf, sizeof buf);
        emit(o, "  private key:  %s, not encrypted%s", buf,
             label != NULL && strcmp(label, "PRIVATE KEY") == 0       ? " (PKCS#8)"
             : label != NULL && strcmp(label, "EC PRIVATE KEY") == 0  ? " (SEC1)"
             : label != NULL && strcmp(label, "RSA PRIVATE KEY") == 0 ? " (PKCS#1)"
                                                                      : "");
    } else if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        const char *type = "type unknown until decrypted";
        if (label != NULL && strcmp(label, "RSA PRIVATE KEY") == 0) {
            type = "RSA, size unknown until decrypted";
        } else if (label != NULL && strcmp(label, "EC PRIVATE KEY") == 0) {
            type = "EC, curve unknown until decrypted";
        }
        emit(o, "  private key:  ENCRYPTED (%s)", type);
    } else if (mbedtls_pk_parse_public_key(&pk, der_or_pem, len) == 0) {
        describe_key(&pk, buf, sizeof buf);
        emit(o, "  public key:   %s", buf);
    } else {
        emit(o, "  key:          could not be parsed (mbedTLS -0x%04X)", (unsigned)-ret);
    }
    mbedtls_pk_free(&pk);
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
    show_rng_t r;
    mbedtls_entropy_init(&r.entropy);
    mbedtls_ctr_drbg_init(&r.drbg);
    static const char pers[] = "mqtls pki show";
    r.ready = mbedtls_ctr_drbg_seed(&r.drbg, mbedtls_entropy_func, &r.entropy,
                                    (const unsigned char *)pers, sizeof pers - 1) == 0;

    size_t found = 0;
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    int is_pem = strstr((const char *)buf, "-----BEGIN ") != NULL;
    int ret = mbedtls_x509_crt_parse(&chain, buf, len);
    size_t certs = 0;
    for (const mbedtls_x509_crt *c = &chain; c != NULL && c->raw.p != NULL; c = c->next) {
        certs++;
    }
    size_t i = 0;
    for (const mbedtls_x509_crt *c = &chain; c != NULL && c->raw.p != NULL; c = c->next) {
        emit(&o, "%s: certificate %zu of %zu", path, ++i, certs);
        describe_cert(&o, c, now);
        found++;
    }
    if (ret > 0) {
        emit(&o, "%s: %d certificate block(s) could not be parsed", path, ret);
    }
    if (is_pem) {
        /* Private / public key blocks; each PEM block is copied NUL-terminated for mbedTLS. */
        const char *p = (const char *)buf;
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
            (void)snprintf(end_marker, sizeof end_marker, "-----END %s-----", label);
            const char *e = strstr(lab_end, end_marker);
            if (e == NULL) {
                break;
            }
            e += strlen(end_marker);
            if (strstr(label, "KEY") != NULL) {
                size_t blen = (size_t)(e - p);
                unsigned char *block = malloc(blen + 2);
                if (block != NULL) {
                    memcpy(block, p, blen);
                    block[blen] = '\n';
                    block[blen + 1] = '\0';
                    emit(&o, "%s: %s", path, label);
                    describe_key_block(&o, block, blen + 2, label, &r);
                    mbedtls_platform_zeroize(block, blen + 2);
                    free(block);
                    found++;
                }
            }
            p = e;
        }
    } else if (certs == 0) {
        /* DER key (without the NUL appended by read_file). */
        mbedtls_pk_context pk;
        mbedtls_pk_init(&pk);
        int kret = pki_pk_parse_key(&pk, buf, len - 1, mbedtls_ctr_drbg_random, &r.drbg);
        mbedtls_pk_free(&pk);
        if (kret == 0 || kret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
            emit(&o, "%s: DER private key", path);
            describe_key_block(&o, buf, len - 1, NULL, &r);
            found++;
        }
    }
    mbedtls_x509_crt_free(&chain);
    mbedtls_ctr_drbg_free(&r.drbg);
    mbedtls_entropy_free(&r.entropy);
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (found == 0) {
        return mqtls__pki_fail(err, MQTLS_ERR_CERT_PARSE, ret < 0 ? ret : 0, 0,
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
        const unsigned char *val = NULL;
        size_t len = 0;
        int crit = 0;
        if (mqtls__pki_find_ext(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), &val, &len,
                                &crit) == 0) {
            unsigned char *p = (unsigned char *)val;
            size_t seq = 0;
            if (mbedtls_asn1_get_tag(&p, val + len, &seq,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0) {
                const unsigned char *q = p;
                int tag = 0;
                const unsigned char *data = NULL;
                size_t dlen2 = 0;
                if (mqtls__pki_san_next(&q, p + seq, &tag, &data, &dlen2) == 1) {
                    if (tag == 2 && dlen2 < cap) {
                        memcpy(out, data, dlen2);
                        out[dlen2] = '\0';
                        st = MQTLS_OK;
                    } else if (tag == 7 && (dlen2 == 4 || dlen2 == 16)) {
                        st = inet_ntop(dlen2 == 4 ? AF_INET : AF_INET6, data, out,
                                       (socklen_t)cap) != NULL
                                 ? MQTLS_OK
                                 : MQTLS_ERR_BUFFER_TOO_SMALL;
                    } else {
                        st = MQTLS_ERR_BUFFER_TOO_SMALL;
                    }
                }
            }
        }
    }
    mbedtls_x509_crt_free(&crt);
    return st;
}
