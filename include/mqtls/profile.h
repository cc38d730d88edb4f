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
    MQTLS_PROFILE_MBEDTLS_DEFAULT = 0, /**< the newest mbedTLS built in (esp-idf-5 with 3.6) */
    MQTLS_PROFILE_MBEDTLS3_DEFAULT,    /**< mbedTLS 3.6's default, "esp-idf-5" */
    MQTLS_PROFILE_MBEDTLS_NEXT,
    MQTLS_PROFILE_SUITEB,
    MQTLS_PROFILE_OPENSSL_SECLEVEL2,
    MQTLS_PROFILE_MBEDTLS2_DEFAULT     /**< mbedTLS 2.28's default, "esp-idf-4" */
} mqtls_profile_t;

/** @brief Profile by name: a device ("esp-idf-4" = mbedTLS 2.28's default, "esp-idf-5" =
 *  mbedTLS 3.6's) or a profile ("mbedtls-default", "mbedtls-next", "suiteb",
 *  "openssl-seclevel2"); "mbedtls2-default" and "mbedtls3-default" are the devices' older
 *  names. @return MQTLS_OK or MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_profile_from_name(const char *name, mqtls_profile_t *out);
/** @brief Name of @p p ("esp-idf-5"); "unknown" otherwise. Static string. */
MQTLS_API const char *mqtls_profile_name(mqtls_profile_t p);
/** @brief Who uses @p p, e.g. "mbedTLS 3.6 default profile (ESP-IDF 5.x)". Static string. */
MQTLS_API const char *mqtls_profile_describe(mqtls_profile_t p);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_PROFILE_H */
