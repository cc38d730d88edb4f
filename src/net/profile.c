/* X.509 profiles the TLS client verifies the server chain with (tls.h: mqtls_tls_cfg_t.profile,
 * set with mbedtls_ssl_conf_cert_profile in tls_mbedtls.c).
 *
 * The names and the numbers are those of src/diag/profile.c, which judges chains against the
 * same profiles as data; src/net must not include src/diag (layering), so the data is repeated
 * here as mbedtls_x509_crt_profile values. Keep the two identical: same hash sets, key types,
 * curves and RSA minimum. tests/unit/net/test_net_profile.c cross-checks them through the
 * public diag API (mqtls_diag_run) and against the profiles the linked mbedTLS exports.
 *
 * The built-in profiles (default, next, suiteb) are the linked library's own. The others are
 * data, identical under mbedTLS 2.28 and 3.x, so this file needs no version guard (those live
 * in mbedtls_compat.c). */
#include "tls_internal.h"

#include <string.h>

#include "mbedtls/ecp.h"
#include "mbedtls/md.h"

#define MD(x) MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_##x)
#define CURVE(x) MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_##x)
/* "Any" as mbedTLS's own profiles write it (every id flag). */
#define ANY_ID 0x0FFFFFFFu

/* mbedTLS 2.28's mbedtls_x509_crt_profile_default (ESP-IDF 4.x) by name: SHA-224..SHA-512
 * (no SHA-1), any key type, any curve, RSA >= 2048 (diag: profile_mbedtls2). */
static const mbedtls_x509_crt_profile profile_mbedtls2 = {
    MD(SHA224) | MD(SHA256) | MD(SHA384) | MD(SHA512),
    ANY_ID,
    ANY_ID,
    2048,
};

/* mbedTLS 3.x's mbedtls_x509_crt_profile_default (ESP-IDF 5.x): SHA-256..SHA-512, curves of
 * at least 128-bit security, RSA >= 2048 (diag: profile_mbedtls3). That is
 * mbedtls_x509_crt_profile_next without secp256k1, which "next" allows (unit-tested). */
static const mbedtls_x509_crt_profile profile_mbedtls3 = {
    MD(SHA256) | MD(SHA384) | MD(SHA512),
    ANY_ID,
    CURVE(SECP256R1) | CURVE(SECP384R1) | CURVE(SECP521R1) | CURVE(BP256R1) | CURVE(BP384R1) |
        CURVE(BP512R1),
    2048,
};

/* OpenSSL security level 2 (Debian 12's default, so mosquitto's): >= 112-bit security, i.e.
 * SHA-224..SHA-512 signatures, RSA >= 2048, EC keys of >= 224 bits (diag: profile_openssl2,
 * ec_min_bits 224, which in mbedTLS terms is this curve list). */
static const mbedtls_x509_crt_profile profile_openssl2 = {
    MD(SHA224) | MD(SHA256) | MD(SHA384) | MD(SHA512),
    ANY_ID,
    CURVE(SECP224R1) | CURVE(SECP224K1) | CURVE(SECP256R1) | CURVE(SECP256K1) | CURVE(BP256R1) |
        CURVE(SECP384R1) | CURVE(BP384R1) | CURVE(SECP521R1) | CURVE(BP512R1),
    2048,
};

static const struct {
    const char *name;
    const mbedtls_x509_crt_profile *profile;
} profiles[] = {
    /* The linked library's default: what a device on the same mbedTLS version accepts. */
    {"mbedtls-default", &mbedtls_x509_crt_profile_default},
    {"mbedtls2-default", &profile_mbedtls2},
    {"mbedtls3-default", &profile_mbedtls3},
    {"mbedtls-next", &mbedtls_x509_crt_profile_next},
    /* SHA-256/384, ECDSA only, P-256/P-384 (RFC 6460). */
    {"suiteb", &mbedtls_x509_crt_profile_suiteb},
    {"openssl-seclevel2", &profile_openssl2},
};

const mbedtls_x509_crt_profile *mqtls__tls_profile_by_name(const char *name)
{
    if (name == NULL) {
        return &mbedtls_x509_crt_profile_default;
    }
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            return profiles[i].profile;
        }
    }
    return NULL;
}

size_t mqtls__tls_profile_count(void)
{
    return sizeof profiles / sizeof profiles[0];
}

const char *mqtls__tls_profile_name_at(size_t i)
{
    return i < sizeof profiles / sizeof profiles[0] ? profiles[i].name : NULL;
}
