/* DER walking of certificates (asn1.h). Every length is checked against the end of its
 * enclosing element by mbedtls_asn1_get_tag / _get_len before it is used. */
#include "x509/asn1.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>

#define CONSTRUCTED_SEQUENCE (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define EXTENSIONS_TAG (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)

/* ---- extensions -------------------------------------------------------------------------- */

/* The SEQUENCE OF Extension inside the TBSCertificate (RFC 5280 4.1): [0] version?,
 * serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [1]?, [2]?,
 * [3] extensions?. Every field before [3] has a one-byte tag. */
static int tbs_extensions(const mbedtls_x509_crt *crt, unsigned char **p, const unsigned char **end)
{
    unsigned char *q = crt->tbs.p;
    if (q == NULL || crt->tbs.len == 0) {
        return -1;
    }
    const unsigned char *e = q + crt->tbs.len;
    size_t len = 0;
    if (mbedtls_asn1_get_tag(&q, e, &len, CONSTRUCTED_SEQUENCE) != 0) {
        return -1;
    }
    e = q + len;
    for (int guard = 0; q < e && guard < 16; guard++) {
        unsigned char tag = *q++;
        if (mbedtls_asn1_get_len(&q, e, &len) != 0) {
            return -1;
        }
        if (tag == EXTENSIONS_TAG) {
            e = q + len;
            if (mbedtls_asn1_get_tag(&q, e, &len, CONSTRUCTED_SEQUENCE) != 0) {
                return -1;
            }
            *p = q;
            *end = q + len;
            return 0;
        }
        q += len;
    }
    return -1;
}

int mqtls__x509_find_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                         const uint8_t **val, size_t *val_len, bool *critical)
{
    unsigned char *p = NULL;
    const unsigned char *exts_end = NULL;
    if (tbs_extensions(crt, &p, &exts_end) != 0) {
        return -1;
    }
    /* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET
     * STRING } */
    for (int guard = 0; p < exts_end && guard < 256; guard++) {
        size_t len = 0;
        if (mbedtls_asn1_get_tag(&p, exts_end, &len, CONSTRUCTED_SEQUENCE) != 0) {
            return -1;
        }
        const unsigned char *ext_end = p + len;
        size_t id_len = 0;
        if (mbedtls_asn1_get_tag(&p, ext_end, &id_len, MBEDTLS_ASN1_OID) != 0) {
            return -1;
        }
        bool match = id_len == oid_len && memcmp(p, oid, oid_len) == 0;
        p += id_len;
        int crit = 0;
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
            mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0) {
            return -1;
        }
        size_t value_len = 0;
        if (mbedtls_asn1_get_tag(&p, ext_end, &value_len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
            return -1;
        }
        if (match) {
            *val = p;
            *val_len = value_len;
            *critical = crit != 0;
            return 0;
        }
        p = (unsigned char *)(uintptr_t)ext_end;
    }
    return -1;
}

/* ---- subjectAltName ---------------------------------------------------------------------- */

int mqtls__x509_san_begin(mqtls__x509_san_iter_t *it, const mbedtls_x509_crt *crt)
{
    const uint8_t *val = NULL;
    size_t val_len = 0;
    bool critical = false;
    it->p = NULL;
    it->end = NULL;
    if (mqtls__x509_find_ext(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), &val, &val_len,
                             &critical) != 0) {
        return -1;
    }
    /* SubjectAltName ::= GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
    unsigned char *p = (unsigned char *)(uintptr_t)val;
    size_t len = 0;
    if (mbedtls_asn1_get_tag(&p, val + val_len, &len, CONSTRUCTED_SEQUENCE) != 0) {
        return -1;
    }
    it->p = p;
    it->end = p + len;
    return 0;
}

int mqtls__x509_san_next(mqtls__x509_san_iter_t *it, uint8_t *tag, const uint8_t **data,
                         size_t *len)
{
    if (it->p == NULL || it->p >= it->end) {
        return 0;
    }
    uint8_t t = *it->p;
    if ((t & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0) {
        it->p = NULL;
        return -1;
    }
    unsigned char *q = (unsigned char *)(uintptr_t)it->p + 1;
    size_t l = 0;
    if (mbedtls_asn1_get_len(&q, it->end, &l) != 0) {
        it->p = NULL;
        return -1;
    }
    *tag = t;
    *data = q;
    *len = l;
    it->p = q + l;
    return 1;
}

bool mqtls__x509_crt_has_ip_san(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len)
{
    if (ip == NULL || (ip_len != 4 && ip_len != 16)) {
        return false;
    }
    mqtls__x509_san_iter_t it;
    if (mqtls__x509_san_begin(&it, crt) != 0) {
        return false;
    }
    uint8_t tag = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    for (int guard = 0; guard < 1024 && mqtls__x509_san_next(&it, &tag, &data, &len) == 1;
         guard++) {
        /* Only a primitive [7] of the same length, byte for byte. */
        if (tag == MQTLS__SAN_IP && len == ip_len && memcmp(data, ip, ip_len) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- time -------------------------------------------------------------------------------- */

int64_t mqtls__x509_time_to_unix(int year, int mon, int day, int hour, int min, int sec)
{
    /* days_from_civil (H. Hinnant): proleptic Gregorian. */
    int64_t y = (int64_t)year - (mon <= 2 ? 1 : 0);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (int64_t)(mon + (mon > 2 ? -3 : 9));
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

int64_t mqtls__x509_time_unix(const mbedtls_x509_time *t)
{
    return mqtls__x509_time_to_unix(t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

void mqtls__x509_time_from_unix(int64_t unix_s, mbedtls_x509_time *out)
{
    /* civil_from_days (H. Hinnant). */
    int64_t z = (unix_s >= 0 ? unix_s : unix_s - 86399) / 86400;
    int64_t secs = unix_s - z * 86400;
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    out->year = (int)(yoe + era * 400 + (m <= 2 ? 1 : 0));
    out->mon = (int)m;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs / 60 % 60);
    out->sec = (int)(secs % 60);
}

/* ---- OIDs -------------------------------------------------------------------------------- */

bool mqtls__x509_der_has_oid(const uint8_t *data, size_t len, const uint8_t *oid, size_t oid_len)
{
    if (data == NULL || len < oid_len + 2) {
        return false;
    }
    for (size_t i = 0; i + oid_len + 2 <= len; i++) {
        if (data[i] == MBEDTLS_ASN1_OID && data[i + 1] == oid_len &&
            memcmp(data + i + 2, oid, oid_len) == 0) {
            return true;
        }
    }
    return false;
}

mqtls_key_type_t mqtls__scan_unsupported_key_oid(const uint8_t *data, size_t len)
{
    /* RFC 8410: id-X25519 1.3.101.110, id-X448 .111, id-Ed25519 .112, id-Ed448 .113 */
    static const uint8_t ed25519[] = {0x2B, 0x65, 0x70};
    static const uint8_t ed448[] = {0x2B, 0x65, 0x71};
    static const uint8_t x25519[] = {0x2B, 0x65, 0x6E};
    static const uint8_t x448[] = {0x2B, 0x65, 0x6F};
    if (mqtls__x509_der_has_oid(data, len, ed25519, sizeof ed25519)) {
        return MQTLS_KEY_ED25519;
    }
    if (mqtls__x509_der_has_oid(data, len, ed448, sizeof ed448)) {
        return MQTLS_KEY_ED448;
    }
    if (mqtls__x509_der_has_oid(data, len, x25519, sizeof x25519) ||
        mqtls__x509_der_has_oid(data, len, x448, sizeof x448)) {
        return MQTLS_KEY_OTHER;
    }
    return MQTLS_KEY_NONE;
}
