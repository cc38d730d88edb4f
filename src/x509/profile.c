/* X.509 acceptance profiles (profile.h): one row per profile. Diagnosis checks chains against the
 * rows itself, so a user can ask "would an ESP32 on mbedTLS 3 accept this chain?" on any
 * machine; the TLS client gives mbedTLS the same rows as mbedtls_x509_crt_profile numbers
 * (mqtls__profile_to_mbedtls). tests/unit/net checks that the rows of the built-in profiles
 * equal the linked library's, and that both judges agree on generated chains. Sources:
 * The rows of the two mbedTLS defaults are devices (esp-idf-4, esp-idf-5): with a profile named
 * explicitly, that mbedTLS's own code judges the chain whatever engine connects (src/net/tls.c).
 *  - mbedTLS 2.28 library/x509_crt.c mbedtls_x509_crt_profile_default: SHA-224..SHA-512
 *    (SHA-1 only with the removed MBEDTLS_TLS_DEFAULT_ALLOW_SHA1_IN_CERTIFICATES), any PK,
 *    any curve, RSA >= 2048. tests/unit/diag checks this against the linked library.
 *  - mbedTLS 3.x mbedtls_x509_crt_profile_default: SHA-256..SHA-512, curves of >= 128-bit
 *    security (P-256/384/521, brainpool 256/384/512), RSA >= 2048.
 *  - mbedtls_x509_crt_profile_next (2.28 and 3.x): as the 3.x default, plus secp256k1.
 *  - mbedtls_x509_crt_profile_suiteb: SHA-256/384, ECDSA only, P-256/P-384.
 *  - OpenSSL security level 2 (Debian 12 default, so mosquitto's): >= 112-bit security:
 *    RSA/DSA >= 2048, ECC >= 224 bits, no SHA-1 or MD5 signatures. */
#include "x509/profile.h"

#include "x509/compat.h"

#include <string.h>

#include <mbedtls/x509_crt.h>

#define H(x) (1u << MQTLS_HASH_##x)
#define C(x) (1u << MQTLS_CURVE_##x)
#define ALL_CURVES 0xFFFFFFFFu

static const mqtls__profile_t profile_mbedtls2 = {
    .name = "mbedtls2-default",
    .who = "mbedTLS 2.28 default profile (ESP-IDF 4.x)",
    .hashes = H(SHA224) | H(SHA256) | H(SHA384) | H(SHA512),
    .rsa_allowed = true,
    .ec_allowed = true,
    .curves = ALL_CURVES,
    .rsa_min_bits = 2048,
    .ec_min_bits = 0,
    .mbedtls_major = 2,
};

static const mqtls__profile_t profile_mbedtls3 = {
    .name = "mbedtls3-default",
    .who = "mbedTLS 3.6 default profile (ESP-IDF 5.x)",
    .hashes = H(SHA256) | H(SHA384) | H(SHA512),
    .rsa_allowed = true,
    .ec_allowed = true,
    .curves = C(P256) | C(P384) | C(P521) | C(BP256) | C(BP384) | C(BP512),
    .rsa_min_bits = 2048,
    .ec_min_bits = 0,
    .mbedtls_major = 3,
};

static const mqtls__profile_t profile_next = {
    .name = "mbedtls-next",
    .who = "mbedTLS 'next' profile",
    .hashes = H(SHA256) | H(SHA384) | H(SHA512),
    .rsa_allowed = true,
    .ec_allowed = true,
    /* unlike the 3.x default, 'next' keeps secp256k1 (2.28: curves mask 0x8FC) */
    .curves = C(P256) | C(P384) | C(P521) | C(BP256) | C(BP384) | C(BP512) | C(K256),
    .rsa_min_bits = 2048,
    .ec_min_bits = 0,
};

static const mqtls__profile_t profile_suiteb = {
    .name = "suiteb",
    .who = "NSA Suite B profile (mbedtls_x509_crt_profile_suiteb)",
    .hashes = H(SHA256) | H(SHA384),
    .rsa_allowed = false,
    .ec_allowed = true,
    .curves = C(P256) | C(P384),
    .rsa_min_bits = 0,
    .ec_min_bits = 0,
};

static const mqtls__profile_t profile_openssl2 = {
    .name = "openssl-seclevel2",
    .who = "OpenSSL security level 2 (Debian/Ubuntu default: mosquitto, most brokers)",
    .hashes = H(SHA224) | H(SHA256) | H(SHA384) | H(SHA512),
    .rsa_allowed = true,
    .ec_allowed = true,
    .curves = ALL_CURVES,
    .rsa_min_bits = 2048,
    .ec_min_bits = 224,
};

const mqtls__profile_t *mqtls__profile_get(mqtls_profile_t p)
{
    switch (p) {
    case MQTLS_PROFILE_MBEDTLS_DEFAULT:
        /* The newest mbedTLS built in, whichever engine connects: judgement must not depend
         * on the engine (DESIGN.md). */
#if defined(MQTLS_WITH_MBEDTLS3)
        return &profile_mbedtls3;
#else
        return &profile_mbedtls2;
#endif
    case MQTLS_PROFILE_MBEDTLS2_DEFAULT:
        return &profile_mbedtls2;
    case MQTLS_PROFILE_MBEDTLS3_DEFAULT:
        return &profile_mbedtls3;
    case MQTLS_PROFILE_MBEDTLS_NEXT:
        return &profile_next;
    case MQTLS_PROFILE_SUITEB:
        return &profile_suiteb;
    case MQTLS_PROFILE_OPENSSL_SECLEVEL2:
        return &profile_openssl2;
    default:
        return &profile_mbedtls2;
    }
}

bool mqtls__profile_hash_ok(const mqtls__profile_t *p, mqtls_hash_t h)
{
    return h < 32 && (p->hashes & (1u << h)) != 0;
}

int mqtls__profile_key_check(const mqtls__profile_t *p, mqtls_key_type_t t, unsigned bits,
                             mqtls_curve_t curve)
{
    switch (t) {
    case MQTLS_KEY_RSA:
    case MQTLS_KEY_RSA_PSS:
    case MQTLS_KEY_DSA:
        if (!p->rsa_allowed) {
            return 3;
        }
        return bits < p->rsa_min_bits ? 1 : 0;
    case MQTLS_KEY_EC:
        if (!p->ec_allowed) {
            return 3;
        }
        if (p->ec_min_bits > 0) {
            return mqtls__x509_curve_bits(curve) < p->ec_min_bits ? 1 : 0;
        }
        return curve < 32 && (p->curves & (1u << curve)) != 0 ? 0 : 2;
    case MQTLS_KEY_NONE:
        return 0;
    default:
        return 3;
    }
}

/* "Any" as mbedTLS's own profiles write it (every id flag). */
#define ANY_ID 0x0FFFFFFFu

void mqtls__profile_to_mbedtls(const mqtls__profile_t *p, mbedtls_x509_crt_profile *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned h = 0; h < 32; h++) {
        mbedtls_md_type_t md = mqtls__x509_hash_md((mqtls_hash_t)h);
        if ((p->hashes & (1u << h)) != 0 && md != MBEDTLS_MD_NONE) {
            out->allowed_mds |= (uint32_t)MBEDTLS_X509_ID_FLAG(md);
        }
    }
    if (p->rsa_allowed && p->ec_allowed) {
        out->allowed_pks = ANY_ID;
    } else if (p->ec_allowed) { /* as mbedtls_x509_crt_profile_suiteb writes "ECDSA only" */
        out->allowed_pks = (uint32_t)(MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA) |
                                      MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY));
    } else if (p->rsa_allowed) {
        out->allowed_pks = (uint32_t)(MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSA) |
                                      MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSASSA_PSS));
    }
    if (p->ec_min_bits == 0 && p->curves == ALL_CURVES) {
        out->allowed_curves = ANY_ID;
    } else {
        /* A curve list, or every curve of at least ec_min_bits (OpenSSL's rule by size). */
        for (unsigned c = 0; c < 32; c++) {
            mbedtls_ecp_group_id id = mqtls__x509_curve_group((mqtls_curve_t)c);
            bool ok = p->ec_min_bits > 0
                          ? mqtls__x509_curve_bits((mqtls_curve_t)c) >= p->ec_min_bits
                          : (p->curves & (1u << c)) != 0;
            if (ok && id != MBEDTLS_ECP_DP_NONE) {
                out->allowed_curves |= (uint32_t)MBEDTLS_X509_ID_FLAG(id);
            }
        }
    }
    out->rsa_min_bitlen = p->rsa_min_bits;
}

static const struct {
    const char *name;
    mqtls_profile_t p;
} profile_names[] = {
    /* The first name of a profile is the one mqtls_profile_name() gives. */
    {"mbedtls-default", MQTLS_PROFILE_MBEDTLS_DEFAULT},
    {"esp-idf-4", MQTLS_PROFILE_MBEDTLS2_DEFAULT},
    {"esp-idf-5", MQTLS_PROFILE_MBEDTLS3_DEFAULT},
    {"mbedtls2-default", MQTLS_PROFILE_MBEDTLS2_DEFAULT},
    {"mbedtls3-default", MQTLS_PROFILE_MBEDTLS3_DEFAULT},
    {"mbedtls-next", MQTLS_PROFILE_MBEDTLS_NEXT},
    {"suiteb", MQTLS_PROFILE_SUITEB},
    {"openssl-seclevel2", MQTLS_PROFILE_OPENSSL_SECLEVEL2},
};

mqtls_status_t mqtls_profile_from_name(const char *name, mqtls_profile_t *out)
{
    if (name == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < sizeof profile_names / sizeof profile_names[0]; i++) {
        if (strcmp(name, profile_names[i].name) == 0) {
            *out = profile_names[i].p;
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_INVALID_ARG;
}

const char *mqtls_profile_name(mqtls_profile_t p)
{
    for (size_t i = 0; i < sizeof profile_names / sizeof profile_names[0]; i++) {
        if (profile_names[i].p == p) {
            return profile_names[i].name;
        }
    }
    return "unknown";
}

const char *mqtls_profile_describe(mqtls_profile_t p)
{
    return mqtls__profile_get(p)->who;
}

bool mqtls__profile_mbedtls_by_name(const char *name, mbedtls_x509_crt_profile *out)
{
    mqtls_profile_t p = MQTLS_PROFILE_MBEDTLS_DEFAULT;
    if (name != NULL && mqtls_profile_from_name(name, &p) != MQTLS_OK) {
        return false;
    }
    mqtls__profile_to_mbedtls(mqtls__profile_get(p), out);
    return true;
}

size_t mqtls__profile_count(void)
{
    return sizeof profile_names / sizeof profile_names[0];
}

const char *mqtls__profile_name_at(size_t i)
{
    return i < mqtls__profile_count() ? profile_names[i].name : NULL;
}
