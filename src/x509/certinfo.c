/* Certificate and key inspection from PEM or DER bytes (include/mqtls/certinfo.h).
 * We split PEM ourselves instead of calling mbedtls_x509_crt_parse() on the whole buffer:
 * that way a truncated block, a key in a cert file or a CSR is named precisely, and the
 * buffer does not need its NUL terminator. */
#include "x509/certinfo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/x509.h>

#include "x509/asn1.h"
#include "x509/compat.h"

/* ---------------------------------------------------------------- small helpers */

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0' || c == '\f' || c == '\v';
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || hay_len < n) {
        return NULL;
    }
    for (size_t i = 0; i + n <= hay_len; i++) {
        if (hay[i] == (uint8_t)needle[0] && memcmp(hay + i, needle, n) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

void mqtls__setf(char *dst, size_t cap, const char *fmt, ...)
{
    if (cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

void mqtls__appendf(char *dst, size_t cap, const char *fmt, ...)
{
    size_t used = strnlen(dst, cap);
    if (used + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(dst + used, cap - used, fmt, ap);
    va_end(ap);
}

const char *mqtls_hash_name(mqtls_hash_t h)
{
    switch (h) {
    case MQTLS_HASH_MD5:
        return "MD5";
    case MQTLS_HASH_SHA1:
        return "SHA-1";
    case MQTLS_HASH_SHA224:
        return "SHA-224";
    case MQTLS_HASH_SHA256:
        return "SHA-256";
    case MQTLS_HASH_SHA384:
        return "SHA-384";
    case MQTLS_HASH_SHA512:
        return "SHA-512";
    case MQTLS_HASH_NONE:
        return "none";
    default:
        return "other";
    }
}

const char *mqtls_curve_name(mqtls_curve_t c)
{
    switch (c) {
    case MQTLS_CURVE_P192:
        return "P-192 (secp192r1)";
    case MQTLS_CURVE_P224:
        return "P-224 (secp224r1)";
    case MQTLS_CURVE_P256:
        return "P-256 (secp256r1)";
    case MQTLS_CURVE_P384:
        return "P-384 (secp384r1)";
    case MQTLS_CURVE_P521:
        return "P-521 (secp521r1)";
    case MQTLS_CURVE_K192:
        return "secp192k1";
    case MQTLS_CURVE_K224:
        return "secp224k1";
    case MQTLS_CURVE_K256:
        return "secp256k1";
    case MQTLS_CURVE_BP256:
        return "brainpoolP256r1";
    case MQTLS_CURVE_BP384:
        return "brainpoolP384r1";
    case MQTLS_CURVE_BP512:
        return "brainpoolP512r1";
    case MQTLS_CURVE_NONE:
        return "none";
    default:
        return "other curve";
    }
}

void mqtls__x509_key_desc(char *dst, size_t cap, mqtls_key_type_t t, unsigned bits, mqtls_curve_t c)
{
    switch (t) {
    case MQTLS_KEY_RSA:
        mqtls__setf(dst, cap, "RSA-%u", bits);
        break;
    case MQTLS_KEY_RSA_PSS:
        mqtls__setf(dst, cap, "RSA-PSS-%u", bits);
        break;
    case MQTLS_KEY_EC:
        mqtls__setf(dst, cap, "EC %s", mqtls_curve_name(c));
        break;
    case MQTLS_KEY_ED25519:
        mqtls__setf(dst, cap, "Ed25519");
        break;
    case MQTLS_KEY_ED448:
        mqtls__setf(dst, cap, "Ed448");
        break;
    case MQTLS_KEY_DSA:
        mqtls__setf(dst, cap, "DSA-%u", bits);
        break;
    case MQTLS_KEY_NONE:
        mqtls__setf(dst, cap, "no key");
        break;
    default:
        mqtls__setf(dst, cap, "unknown key type");
        break;
    }
}

static void hex_colon(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        mqtls__appendf(dst, cap, i == 0 ? "%02X" : ":%02X", p[i]);
    }
}

/* ---------------------------------------------------------------- extensions */

/* subjectKeyIdentifier and authorityKeyIdentifier keyIdentifier (mbedTLS 2.28 keeps neither). */
static void parse_key_ids(const mbedtls_x509_crt *crt, mqtls_certinfo_t *info)
{
    const uint8_t *val = NULL;
    size_t val_len = 0;
    bool critical = false;
    size_t kl = 0;
    if (mqtls__x509_find_ext(crt, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER), &val, &val_len,
                             &critical) == 0) {
        /* SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING */
        unsigned char *v = (unsigned char *)(uintptr_t)val;
        if (mbedtls_asn1_get_tag(&v, val + val_len, &kl, MBEDTLS_ASN1_OCTET_STRING) == 0 &&
            kl <= sizeof info->ski) {
            memcpy(info->ski, v, kl);
            info->ski_len = kl;
        }
    }
    if (mqtls__x509_find_ext(crt, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), &val, &val_len,
                             &critical) == 0) {
        /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL, ... } */
        unsigned char *v = (unsigned char *)(uintptr_t)val;
        const unsigned char *v_end = val + val_len;
        if (mbedtls_asn1_get_tag(&v, v_end, &kl,
                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0 &&
            mbedtls_asn1_get_tag(&v, v_end, &kl, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0) == 0 &&
            kl <= sizeof info->aki) {
            memcpy(info->aki, v, kl);
            info->aki_len = kl;
        }
    }
}

static void parse_eku(const mbedtls_x509_crt *crt, mqtls_certinfo_t *info)
{
    info->has_ext_key_usage = mqtls__dm_crt_has_ext(crt, MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE);
    if (!info->has_ext_key_usage) {
        return;
    }
    static const char server[] = MBEDTLS_OID_SERVER_AUTH;
    static const char client[] = MBEDTLS_OID_CLIENT_AUTH;
    static const char any[] = MBEDTLS_OID_ANY_EXTENDED_KEY_USAGE;
    const mbedtls_x509_sequence *s = &crt->ext_key_usage;
    for (int guard = 0; s != NULL && guard < 32; s = s->next, guard++) {
        const mbedtls_x509_buf *o = &s->buf;
        if (o->len == sizeof server - 1 && memcmp(o->p, server, o->len) == 0) {
            info->ext_key_usage |= MQTLS_EKU_SERVER_AUTH;
        } else if (o->len == sizeof client - 1 && memcmp(o->p, client, o->len) == 0) {
            info->ext_key_usage |= MQTLS_EKU_CLIENT_AUTH;
        } else if (o->len == sizeof any - 1 && memcmp(o->p, any, o->len) == 0) {
            info->ext_key_usage |= MQTLS_EKU_ANY;
        } else if (o->len > 0) {
            info->ext_key_usage |= MQTLS_EKU_OTHER;
        }
    }
}

static void parse_sans(const mbedtls_x509_crt *crt, mqtls_certinfo_t *info)
{
    mqtls__x509_san_iter_t it;
    if (mqtls__x509_san_begin(&it, crt) != 0) {
        return;
    }
    uint8_t t = 0;
    const uint8_t *p = NULL;
    size_t len = 0;
    for (int guard = 0; guard < 64 && mqtls__x509_san_next(&it, &t, &p, &len) == 1; guard++) {
        /* GeneralName: [2] dNSName IA5String, [7] iPAddress OCTET STRING (4 or 16). */
        int tag = t & 0x1F;
        if (len == 0) {
            continue;
        }
        if (tag == 2 && info->san_dns_count < MQTLS_CERTINFO_MAX_SANS) {
            char *d = info->san_dns[info->san_dns_count++];
            size_t n = len < 127 ? len : 127;
            memcpy(d, p, n);
            d[n] = '\0';
        } else if (tag == 7 && info->san_ip_count < MQTLS_CERTINFO_MAX_SANS) {
            char *d = info->san_ip[info->san_ip_count++];
            d[0] = '\0';
            if (len == 4) {
                mqtls__setf(d, 48, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
            } else if (len == 16) {
                for (size_t i = 0; i < 16; i += 2) {
                    mqtls__appendf(d, 48, i == 0 ? "%x" : ":%x",
                                   (unsigned)((p[i] << 8) | p[i + 1]));
                }
            } else {
                mqtls__setf(d, 48, "(bad IP length %zu)", len);
            }
        }
    }
}

static void common_name(const mbedtls_x509_crt *crt, char *dst, size_t cap)
{
    dst[0] = '\0';
    const mbedtls_x509_name *n = &crt->subject;
    for (int guard = 0; n != NULL && guard < 64; n = n->next, guard++) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            size_t len = n->val.len < cap - 1 ? n->val.len : cap - 1;
            memcpy(dst, n->val.p, len);
            dst[len] = '\0';
        }
    }
}

void mqtls__certinfo_fill(const mbedtls_x509_crt *crt, mqtls_certinfo_t *info, bool verify_self)
{
    memset(info, 0, sizeof *info);
    if (mbedtls_x509_dn_gets(info->subject, sizeof info->subject, &crt->subject) < 0) {
        info->subject[0] = '\0';
    }
    if (mbedtls_x509_dn_gets(info->issuer, sizeof info->issuer, &crt->issuer) < 0) {
        info->issuer[0] = '\0';
    }
    hex_colon(info->serial, sizeof info->serial, crt->serial.p,
              crt->serial.len < 23 ? crt->serial.len : 23);
    info->version = crt->version;
    info->not_before_s = mqtls__x509_time_unix(&crt->valid_from);
    info->not_after_s = mqtls__x509_time_unix(&crt->valid_to);
    info->key_type = mqtls__dm_pk_type(&crt->pk);
    info->key_bits = (unsigned)mbedtls_pk_get_bitlen(&crt->pk);
    info->curve = mqtls__dm_pk_curve(&crt->pk);
    mqtls__x509_key_desc(info->key_desc, sizeof info->key_desc, info->key_type, info->key_bits,
                         info->curve);
    info->sig_hash = mqtls__dm_hash(mqtls__dm_crt_sig_md(crt));
    mbedtls_pk_type_t spk = mqtls__dm_crt_sig_pk(crt);
    mqtls__setf(info->sig_desc, sizeof info->sig_desc, "%s with %s",
                mqtls_hash_name(info->sig_hash),
                spk == MBEDTLS_PK_ECDSA        ? "ECDSA"
                : spk == MBEDTLS_PK_RSASSA_PSS ? "RSA-PSS"
                                               : "RSA");
    info->has_basic_constraints = mqtls__dm_crt_has_ext(crt, MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
    info->is_ca = mqtls__dm_crt_is_ca(crt);
    info->max_pathlen = mqtls__dm_crt_max_pathlen(crt);
    info->has_key_usage = mqtls__dm_crt_has_ext(crt, MBEDTLS_X509_EXT_KEY_USAGE);
    info->key_usage = mqtls__dm_crt_key_usage(crt);
    parse_eku(crt, info);
    parse_sans(crt, info);
    common_name(crt, info->common_name, sizeof info->common_name);
    info->self_issued = crt->subject_raw.len == crt->issuer_raw.len &&
                        memcmp(crt->subject_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) == 0;
    /* Verifying a self-signature costs up to ~10 ms (P-384 on mbedTLS 2.28); in a system
     * bundle of ~150 roots the name test is enough. */
    info->self_signed =
        info->self_issued && (!verify_self || mqtls__dm_verify_signature(crt, crt) == 0);
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (sha256 != NULL && mbedtls_md(sha256, crt->raw.p, crt->raw.len, info->sha256) == 0) {
        hex_colon(info->sha256_hex, sizeof info->sha256_hex, info->sha256, 32);
    }
    parse_key_ids(crt, info);
}

/* ---------------------------------------------------------------- certificate sets */

static bool label_is_cert(const char *l)
{
    return strcmp(l, "CERTIFICATE") == 0 || strcmp(l, "TRUSTED CERTIFICATE") == 0 ||
           strcmp(l, "X509 CERTIFICATE") == 0;
}

static bool label_is_key(const char *l)
{
    return strcmp(l, "PRIVATE KEY") == 0 || strcmp(l, "RSA PRIVATE KEY") == 0 ||
           strcmp(l, "EC PRIVATE KEY") == 0 || strcmp(l, "ENCRYPTED PRIVATE KEY") == 0 ||
           strcmp(l, "DSA PRIVATE KEY") == 0;
}

static void set_add_der(mqtls__certset_t *set, const uint8_t *der, size_t len)
{
    if (set->count >= set->cap) {
        return;
    }
    mbedtls_x509_crt *c = &set->crt[set->count];
    int ret = mbedtls_x509_crt_parse_der(c, der, len);
    if (ret == 0) {
        mqtls__certinfo_fill(c, &set->info[set->count], set->cap <= MQTLS__VERIFY_SELF_MAX);
        set->count++;
        return;
    }
    mbedtls_x509_crt_free(c);
    mbedtls_x509_crt_init(c);
    if (mqtls__scan_unsupported_key_oid(der, len) != MQTLS_KEY_NONE) {
        set->unsupported_key = true;
    }
    if (set->bad_certs++ == 0) {
        set->bad_ret = ret;
    }
}

/* Is this DER a private key (PKCS#1, SEC1, PKCS#8)? */
static bool der_is_key(const uint8_t *der, size_t len)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int ret = mqtls__dm_pk_parse_key(&pk, der, len, NULL);
    mbedtls_pk_free(&pk);
    return ret == 0 || ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED;
}

static void load_der(mqtls__certset_t *set, const uint8_t *data, size_t len)
{
    set->is_der = true;
    size_t off = 0;
    for (int guard = 0; off < len && guard < (int)MQTLS__MAX_CERTS * 2; guard++) {
        unsigned char *p = (unsigned char *)(uintptr_t)(data + off);
        const unsigned char *end = data + len;
        size_t body;
        if (*p != 0x30 || mbedtls_asn1_get_tag(&p, end, &body, 0x30) != 0) {
            /* Truncated or trailing garbage. */
            if (set->bad_certs++ == 0) {
                set->bad_ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
            }
            return;
        }
        size_t total = (size_t)(p - (data + off)) + body;
        if (set->count == 0 && set->bad_certs == 0 && der_is_key(data + off, total)) {
            set->has_key = true;
        } else {
            set_add_der(set, data + off, total);
        }
        off += total;
        while (off < len && is_space(data[off])) {
            off++;
        }
    }
}

static void load_pem(mqtls__certset_t *set, const uint8_t *data, size_t len)
{
    static const char begin[] = "-----BEGIN ";
    set->is_pem = true;
    const uint8_t *p = data;
    const uint8_t *end = data + len;
    for (int guard = 0; guard < (int)MQTLS__MAX_CERTS * 2; guard++) {
        const uint8_t *b = find_bytes(p, (size_t)(end - p), begin);
        if (b == NULL) {
            return;
        }
        const uint8_t *lab = b + sizeof begin - 1;
        const uint8_t *lab_end = find_bytes(lab, (size_t)(end - lab), "-----");
        if (lab_end == NULL || lab_end - lab > 38) {
            set->pem_truncated = true;
            return;
        }
        char label[40];
        memcpy(label, lab, (size_t)(lab_end - lab));
        label[lab_end - lab] = '\0';
        char end_marker[64];
        mqtls__setf(end_marker, sizeof end_marker, "-----END %s-----", label);
        const uint8_t *body = lab_end + 5;
        const uint8_t *e = find_bytes(body, (size_t)(end - body), end_marker);
        if (e == NULL) {
            set->pem_truncated = true;
            return;
        }
        if (label_is_cert(label)) {
            /* Strip white space, then base64-decode into DER. */
            size_t blen = (size_t)(e - body);
            uint8_t *b64 = malloc(blen + 1);
            uint8_t *der = malloc(blen + 1);
            if (b64 != NULL && der != NULL) {
                size_t n = 0;
                for (size_t i = 0; i < blen; i++) {
                    if (!is_space(body[i])) {
                        b64[n++] = body[i];
                    }
                }
                size_t der_len = 0;
                if (mbedtls_base64_decode(der, blen + 1, &der_len, b64, n) == 0) {
                    set_add_der(set, der, der_len);
                } else if (set->bad_certs++ == 0) {
                    set->bad_ret = MBEDTLS_ERR_BASE64_INVALID_CHARACTER;
                }
            }
            free(b64);
            free(der);
        } else if (label_is_key(label)) {
            set->has_key = true;
        } else if (!set->has_other) {
            set->has_other = true;
            mqtls__setf(set->other_label, sizeof set->other_label, "%s", label);
        }
        p = e + strlen(end_marker);
    }
}

bool mqtls__certset_reserve(mqtls__certset_t *set, size_t n)
{
    if (n == 0) {
        n = 1;
    }
    if (n > MQTLS__MAX_CERTS) {
        n = MQTLS__MAX_CERTS;
    }
    set->crt = calloc(n, sizeof *set->crt);
    set->info = calloc(n, sizeof *set->info);
    if (set->crt == NULL || set->info == NULL) {
        free(set->crt);
        free(set->info);
        set->crt = NULL;
        set->info = NULL;
        set->cap = 0;
        return false;
    }
    set->cap = n;
    for (size_t i = 0; i < n; i++) {
        mbedtls_x509_crt_init(&set->crt[i]);
    }
    return true;
}

/* Upper bound of the certificates in @p data: PEM blocks, or DER bytes / smallest cert. */
static size_t count_candidates(const uint8_t *data, size_t len)
{
    size_t n = 0;
    const uint8_t *p = data;
    for (size_t guard = 0; guard < 100000; guard++) {
        const uint8_t *b = find_bytes(p, len - (size_t)(p - data), "-----BEGIN ");
        if (b == NULL) {
            break;
        }
        n++;
        p = b + 11;
    }
    return n > 0 ? n : len / 128 + 1;
}

void mqtls__certset_load(mqtls__certset_t *set, const uint8_t *data, size_t len)
{
    memset(set, 0, sizeof *set);
    size_t first = 0;
    while (data != NULL && first < len && is_space(data[first])) {
        first++;
    }
    if (data == NULL || first == len) {
        set->empty = true;
        (void)mqtls__certset_reserve(set, 1);
        return;
    }
    if (!mqtls__certset_reserve(set, count_candidates(data, len))) {
        set->bad_certs = 1;
        set->bad_ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
        return;
    }
    if (data[first] == 0x30) {
        load_der(set, data + first, len - first);
        return;
    }
    if (find_bytes(data, len, "-----BEGIN ") == NULL) {
        set->not_pem_not_der = true;
        return;
    }
    set->ends_without_nul = data[len - 1] != '\0';
    load_pem(set, data, len);
}

void mqtls__certset_free(mqtls__certset_t *set)
{
    for (size_t i = 0; set->crt != NULL && i < set->cap; i++) {
        mbedtls_x509_crt_free(&set->crt[i]);
    }
    free(set->crt);
    free(set->info);
    memset(set, 0, sizeof *set);
}

mqtls_status_t mqtls_certinfo_parse(const uint8_t *data, size_t len, mqtls_certinfo_t *out,
                                    size_t cap, size_t *count)
{
    if (count == NULL || (out == NULL && cap > 0) || (data == NULL && len > 0)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *count = 0;
    mqtls__certset_t *set = malloc(sizeof *set);
    if (set == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    mqtls__certset_load(set, data, len);
    mqtls_status_t st = MQTLS_OK;
    if (set->empty) {
        st = MQTLS_ERR_FILE_EMPTY;
    } else if (set->count == 0 || set->bad_certs > 0 || set->pem_truncated) {
        st = MQTLS_ERR_CERT_PARSE;
    }
    *count = set->count;
    for (size_t i = 0; i < set->count && i < cap; i++) {
        out[i] = set->info[i];
    }
    mqtls__certset_free(set);
    free(set);
    return st;
}

/* ---------------------------------------------------------------- keys */

/* Name the encryption of a PKCS#8 EncryptedPrivateKeyInfo by the OIDs it contains. */
static void pkcs8_encryption(const uint8_t *der, size_t len, char *dst, size_t cap)
{
    static const uint8_t aes128[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02};
    static const uint8_t aes192[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16};
    static const uint8_t aes256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A};
    static const uint8_t des3[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x03, 0x07};
    static const uint8_t pbes2[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D};
    static const uint8_t pkcs12_prefix[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01};
    const char *scheme = mqtls__x509_der_has_oid(der, len, pbes2, sizeof pbes2) ? "PBES2 " : "";
    const char *cipher = "unknown cipher";
    if (mqtls__x509_der_has_oid(der, len, aes256, sizeof aes256)) {
        cipher = "AES-256-CBC";
    } else if (mqtls__x509_der_has_oid(der, len, aes192, sizeof aes192)) {
        cipher = "AES-192-CBC";
    } else if (mqtls__x509_der_has_oid(der, len, aes128, sizeof aes128)) {
        cipher = "AES-128-CBC";
    } else if (mqtls__x509_der_has_oid(der, len, des3, sizeof des3)) {
        cipher = "DES-EDE3-CBC";
    } else {
        for (size_t i = 0; i + sizeof pkcs12_prefix + 3 <= len; i++) {
            if (der[i] == 0x06 && der[i + 1] == sizeof pkcs12_prefix + 1 &&
                memcmp(der + i + 2, pkcs12_prefix, sizeof pkcs12_prefix) == 0) {
                cipher = "PKCS#12 PBE";
                break;
            }
        }
    }
    mqtls__setf(dst, cap, "%s%s", scheme, cipher);
}

static bool ret_is_unsupported(int ret)
{
    /* pk_parse_key passes PKCS#5 / PEM errors through unchanged. */
    return ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE || ret == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG ||
           ret == MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE || ret == MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG ||
           ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE;
}

mqtls_status_t mqtls_keyinfo_parse(const uint8_t *data, size_t len, const char *password,
                                   mqtls_keyinfo_t *out)
{
    if (out == NULL || (data == NULL && len > 0)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    size_t first = 0;
    while (first < len && is_space(data[first])) {
        first++;
    }
    if (first == len) {
        return MQTLS_ERR_FILE_EMPTY;
    }
    /* mbedtls_pk_parse_key wants PEM NUL-terminated with the NUL counted: copy. */
    uint8_t *buf = malloc(len + 1);
    uint8_t *der = malloc(len + 1);
    if (buf == NULL || der == NULL) {
        free(buf);
        free(der);
        return MQTLS_ERR_NOMEM;
    }
    memcpy(buf, data, len);
    buf[len] = '\0';
    size_t buf_len = len;
    size_t der_len = 0;
    bool pem = data[first] != 0x30;
    if (pem) {
        buf_len = strlen((const char *)buf) + 1;
        /* The first key block: a file may hold the certificate first, then its key (one PEM
         * given as both --cert and --key). */
        const uint8_t *b = find_bytes(buf, len, "-----BEGIN ");
        for (const uint8_t *k = b; k != NULL;) {
            size_t rest = len - (size_t)(k - buf);
            const uint8_t *eol = memchr(k, '\n', rest);
            size_t line = eol != NULL ? (size_t)(eol - k) : rest;
            if (find_bytes(k, line, "PRIVATE KEY-----") != NULL) {
                b = k;
                break;
            }
            k = find_bytes(k + 11, rest - 11, "-----BEGIN ");
        }
        if (b == NULL) {
            free(buf);
            free(der);
            return MQTLS_ERR_KEY_PARSE;
        }
        const uint8_t *lab = b + 11;
        if (strncmp((const char *)lab, "RSA PRIVATE KEY-----", 20) == 0) {
            out->format = MQTLS_KEYFMT_PKCS1;
        } else if (strncmp((const char *)lab, "EC PRIVATE KEY-----", 19) == 0) {
            out->format = MQTLS_KEYFMT_SEC1;
        } else if (strncmp((const char *)lab, "PRIVATE KEY-----", 16) == 0) {
            out->format = MQTLS_KEYFMT_PKCS8;
        } else if (strncmp((const char *)lab, "ENCRYPTED PRIVATE KEY-----", 26) == 0) {
            out->format = MQTLS_KEYFMT_PKCS8_ENCRYPTED;
            out->is_encrypted = true;
        } else {
            free(buf);
            free(der);
            return MQTLS_ERR_KEY_PARSE;
        }
        const uint8_t *dek = find_bytes(buf, len, "DEK-Info: ");
        if (find_bytes(buf, len, "Proc-Type: 4,ENCRYPTED") != NULL) {
            out->format = MQTLS_KEYFMT_LEGACY_ENCRYPTED;
            out->is_encrypted = true;
            if (dek != NULL) {
                size_t i = 0;
                dek += 10;
                while (i + 1 < sizeof out->encryption && dek[i] != ',' && dek[i] != '\n' &&
                       dek[i] != '\r' && dek[i] != '\0') {
                    out->encryption[i] = (char)dek[i];
                    i++;
                }
                out->encryption[i] = '\0';
            }
        } else {
            /* Decode the body to look for OIDs (type, encryption). */
            const uint8_t *body = find_bytes(lab, len - (size_t)(lab - buf), "-----");
            const uint8_t *e =
                body != NULL ? find_bytes(body + 5, len - (size_t)(body + 5 - buf), "-----END ")
                             : NULL;
            if (e != NULL) {
                size_t n = 0;
                uint8_t *b64 = malloc(len + 1);
                if (b64 != NULL) {
                    for (const uint8_t *q = body + 5; q < e; q++) {
                        if (!is_space(*q)) {
                            b64[n++] = *q;
                        }
                    }
                    if (mbedtls_base64_decode(der, len + 1, &der_len, b64, n) != 0) {
                        der_len = 0;
                    }
                    free(b64);
                }
            }
        }
    } else {
        out->format = MQTLS_KEYFMT_DER;
        memcpy(der, data, len);
        der_len = len;
    }
    if (out->format == MQTLS_KEYFMT_PKCS8_ENCRYPTED) {
        pkcs8_encryption(der, der_len, out->encryption, sizeof out->encryption);
    }
    mqtls_key_type_t odd = mqtls__scan_unsupported_key_oid(der, der_len);

    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int ret = mqtls__dm_pk_parse_key(&pk, buf, buf_len, password);
    out->mbedtls_ret = ret;
    mqtls_status_t st;
    if (ret == 0) {
        out->key_type = mqtls__dm_pk_type(&pk);
        out->key_bits = (unsigned)mbedtls_pk_get_bitlen(&pk);
        out->curve = mqtls__dm_pk_curve(&pk);
        st = MQTLS_OK;
    } else if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
               ret == MBEDTLS_ERR_PEM_PASSWORD_REQUIRED) {
        st = MQTLS_ERR_KEY_PASSWORD_REQUIRED;
    } else if (ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ||
               ret == MBEDTLS_ERR_PEM_PASSWORD_MISMATCH) {
        st = MQTLS_ERR_KEY_PASSWORD_WRONG;
    } else if (odd != MQTLS_KEY_NONE) {
        out->key_type = odd;
        st = MQTLS_ERR_KEY_UNSUPPORTED;
    } else if (ret_is_unsupported(ret) || (out->is_encrypted && password != NULL)) {
        /* An encrypted key that fails with a password that is not "wrong" is a scheme this
         * mbedTLS cannot decrypt (2.28: PBES2 with AES). */
        st = MQTLS_ERR_KEY_UNSUPPORTED;
    } else {
        st = MQTLS_ERR_KEY_PARSE;
    }
    if (odd != MQTLS_KEY_NONE && out->key_type == MQTLS_KEY_NONE) {
        out->key_type = odd;
    }
    mqtls__x509_key_desc(out->key_desc, sizeof out->key_desc, out->key_type, out->key_bits,
                         out->curve);
    mbedtls_pk_free(&pk);
    free(buf);
    free(der);
    return st;
}
