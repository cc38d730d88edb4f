/** @file profile.h
 *  @brief X.509 acceptance profiles: which hashes, key types, sizes and curves a verifier
 *  accepts in a server's chain (mbedTLS's mbedtls_x509_crt_profile, OpenSSL's security level).
 *  The TLS handshake verifies with one (mqtls_tls_cfg_t::profile) and diagnosis judges by the
 *  same one (mqtls_diag_input_t::profile), so that both agree. */
#ifndef MQTLS_PROFILE_H
#define MQTLS_PROFILE_H

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** X.509 acceptance profiles that checks run against. */
typedef enum mqtls_profile {
    MQTLS_PROFILE_MBEDTLS_DEFAULT = 0, /**< the linked mbedTLS's default */
    MQTLS_PROFILE_MBEDTLS3_DEFAULT,
    MQTLS_PROFILE_MBEDTLS_NEXT,
    MQTLS_PROFILE_SUITEB,
    MQTLS_PROFILE_OPENSSL_SECLEVEL2,
    MQTLS_PROFILE_MBEDTLS2_DEFAULT     /**< mbedTLS 2.28's default (ESP-IDF 4.x) by name */
} mqtls_profile_t;

/** @brief Profile by name ("mbedtls-default", "mbedtls2-default", "mbedtls3-default",
 *  "mbedtls-next", "suiteb", "openssl-seclevel2"). @return MQTLS_OK or MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_profile_from_name(const char *name, mqtls_profile_t *out);
/** @brief Name of @p p ("mbedtls3-default"); "unknown" otherwise. Static string. */
MQTLS_API const char *mqtls_profile_name(mqtls_profile_t p);
/** @brief Who uses @p p, e.g. "mbedTLS 3.x default profile (ESP-IDF 5.x)". Static string. */
MQTLS_API const char *mqtls_profile_describe(mqtls_profile_t p);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_PROFILE_H */
