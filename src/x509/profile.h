/* X.509 acceptance profiles: ONE table (profile.c). Diagnosis judges chains by its rows as data
 * (so a user can ask "would an ESP32 on mbedTLS 3 accept this?" on any machine), and the TLS
 * client verifies the server chain with the mbedtls_x509_crt_profile derived from the same row
 * (tls.h: mqtls_tls_cfg_t.profile). */
#ifndef MQTLS_X509_PROFILE_H
#define MQTLS_X509_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/certinfo.h"
#include "mqtls/profile.h"

/* An X.509 acceptance profile as data (see profile.c for the sources). */
typedef struct mqtls__profile {
    const char *name;
    const char *who; /* "mbedTLS 2.28 default (ESP-IDF 4.x)" */
    uint32_t hashes; /* bit (1 << mqtls_hash_t) allowed for signatures */
    bool rsa_allowed;
    bool ec_allowed;
    uint32_t curves; /* bit (1 << mqtls_curve_t) allowed */
    unsigned rsa_min_bits;
    unsigned ec_min_bits; /* OpenSSL: by size, not by name; 0 = use the curve list */
    int mbedtls_major;    /* the mbedTLS whose own code this row is (2, 3); 0: numbers only */
} mqtls__profile_t;

const mqtls__profile_t *mqtls__profile_get(mqtls_profile_t p);
bool mqtls__profile_hash_ok(const mqtls__profile_t *p, mqtls_hash_t h);
/* 0 ok; 1 RSA too short / EC too small; 2 curve not in list; 3 key type not allowed. */
int mqtls__profile_key_check(const mqtls__profile_t *p, mqtls_key_type_t t, unsigned bits,
                             mqtls_curve_t curve);

/* @p p as the numbers mbedTLS verifies with (mbedtls_ssl_conf_cert_profile). Declared with the
 * struct tag so that this header needs no mbedTLS header (the OpenSSL engine includes it). */
struct mbedtls_x509_crt_profile;
void mqtls__profile_to_mbedtls(const mqtls__profile_t *p, struct mbedtls_x509_crt_profile *out);
/* The profile named @p name (NULL = "mbedtls-default") as mbedTLS numbers. false for an unknown
 * name. */
bool mqtls__profile_mbedtls_by_name(const char *name, struct mbedtls_x509_crt_profile *out);
/* Number of profile names, and the i-th (NULL past the end): for messages and tests. */
size_t mqtls__profile_count(void);
const char *mqtls__profile_name_at(size_t i);

#endif /* MQTLS_X509_PROFILE_H */
