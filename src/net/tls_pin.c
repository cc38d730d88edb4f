/* Public-key pins (tls_pin.h). Compiled against mbedTLS 2.28 only (mqtls_net), which every
 * build has: its DER reader, SHA-256 and base64 are the same whatever engine connects. */
#include "net/tls_pin.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

mqtls_status_t mqtls__tls_pin_parse(const char *text, uint8_t out[MQTLS__PIN_LEN])
{
    static const char prefix[] = MQTLS__PIN_PREFIX;
    if (text == NULL || strncmp(text, prefix, sizeof prefix - 1) != 0) {
        return MQTLS_ERR_INVALID_ARG;
    }
    const char *b64 = text + sizeof prefix - 1;
    size_t b64_len = strlen(b64);
    /* 32 bytes are exactly 44 base64 characters, the last one '='. */
    if (b64_len != 44) {
        return MQTLS_ERR_INVALID_ARG;
    }
    uint8_t buf[MQTLS__PIN_LEN + 4];
    size_t got = 0;
    if (mbedtls_base64_decode(buf, sizeof buf, &got, (const unsigned char *)b64, b64_len) != 0 ||
        got != MQTLS__PIN_LEN) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memcpy(out, buf, MQTLS__PIN_LEN);
    return MQTLS_OK;
}

int mqtls__tls_pin_of_cert(const uint8_t *der, size_t len, uint8_t out[MQTLS__PIN_LEN])
{
    /* RFC 5280 4.1: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
     * OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name, validity
     * Validity, subject Name, subjectPublicKeyInfo SEQUENCE, ... }, ... } */
    if (der == NULL) {
        return -1;
    }
    unsigned char *p = (unsigned char *)(uintptr_t)der; /* mbedtls_asn1_get_tag only reads */
    const unsigned char *end = der + len;
    size_t n = 0;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -1;
    }
    end = p + n;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -1;
    }
    end = p + n; /* the TBSCertificate */
    const unsigned char *version = p;
    if (mbedtls_asn1_get_tag(&p, end, &n,
                             MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) == 0) {
        p += n;
    } else {
        p = (unsigned char *)(uintptr_t)version; /* v1: no version field */
    }
    static const int skip[] = {
        MBEDTLS_ASN1_INTEGER,                                /* serialNumber */
        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE,    /* signature */
        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE,    /* issuer */
        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE,    /* validity */
        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE,    /* subject */
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        if (mbedtls_asn1_get_tag(&p, end, &n, skip[i]) != 0) {
            return -1;
        }
        p += n;
    }
    const unsigned char *spki = p;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -1;
    }
    size_t spki_len = (size_t)(p - spki) + n; /* the whole TLV: tag, length and contents */
    return mbedtls_sha256_ret(spki, spki_len, out, 0) == 0 ? 0 : -1;
}

void mqtls__tls_pin_text(const uint8_t pin[MQTLS__PIN_LEN], char *out, size_t cap)
{
    static const char prefix[] = MQTLS__PIN_PREFIX;
    if (cap < MQTLS__PIN_TEXT_CAP) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return;
    }
    memcpy(out, prefix, sizeof prefix - 1);
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)out + sizeof prefix - 1, cap - (sizeof prefix - 1),
                              &olen, pin, MQTLS__PIN_LEN) != 0) {
        out[0] = '\0';
    }
}
