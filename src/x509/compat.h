/* Every mbedTLS 2.28 / 3.x difference of the project's X.509 and pk code, in one place
 * (STYLE.md: version guards live in one file). src/diag, src/net and src/pki call these and have
 * no version guard of their own for certificates and keys; only compat.c tests
 * MBEDTLS_VERSION_NUMBER. Tested with 2.28 (Debian 12); the 3.x branches follow the 3.6 API.
 *
 * Names: mqtls__dm_* ("diag on mbedTLS") are the names src/diag has always called; functions
 * added for net and pki are mqtls__x509_*. */
#ifndef MQTLS_X509_COMPAT_H
#define MQTLS_X509_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"

/* A random generator as mbedTLS takes it (mbedtls_ctr_drbg_random and its context). */
typedef int (*mqtls__x509_rng_fn)(void *p_rng, unsigned char *out, size_t len);

/* A CTR-DRBG seeded from the platform entropy, for one owner (not shared between threads). */
typedef struct mqtls__x509_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} mqtls__x509_rng_t;
/* Seed @p r with the personalisation string @p pers. 0 or the mbedTLS error; free it either way. */
int mqtls__x509_rng_setup(mqtls__x509_rng_t *r, const char *pers);
void mqtls__x509_rng_free(mqtls__x509_rng_t *r);

/* Parse a private key (PEM with its NUL counted in @p len, or DER). @p password may be NULL; it
 * is used for the call only. 3.x needs an RNG (blinding): @p f_rng / @p p_rng, or NULL for a
 * generator seeded for this call only (thread-safe, no shared state); 2.28 ignores them.
 * Returns 0 or the mbedTLS error. */
int mqtls__x509_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *buf, size_t len,
                             const char *password, mqtls__x509_rng_fn f_rng, void *p_rng);
/* Does @p prv hold the private half of @p pub? 0 yes, else the mbedTLS error. RNG as above. */
int mqtls__x509_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
                              mqtls__x509_rng_fn f_rng, void *p_rng);
/* The curve of an EC key; MBEDTLS_ECP_DP_NONE for any other key type. */
mbedtls_ecp_group_id mqtls__x509_pk_ec_group(const mbedtls_pk_context *pk);
/* certinfo.h's curves and hashes as mbedTLS ids (NONE for NONE / OTHER), and a curve's size in
 * bits (0 if unknown). One table in compat.c also maps mbedTLS's values back (mqtls__dm_*). */
mbedtls_ecp_group_id mqtls__x509_curve_group(mqtls_curve_t c);
unsigned mqtls__x509_curve_bits(mqtls_curve_t c);
mbedtls_md_type_t mqtls__x509_hash_md(mqtls_hash_t h);
/* Set the serial number of a certificate to write from big-endian bytes. 0 or mbedTLS error. */
int mqtls__x509_write_set_serial(mbedtls_x509write_cert *crt, unsigned char *bytes, size_t len);
/* Does mbedTLS match iPAddress SANs itself (>= 3.5), so that an IP host may be given to
 * mbedtls_ssl_set_hostname()? Older versions would send the IP as SNI and compare it only with
 * the CN and the dNSName SANs: the TLS transport then matches it with
 * mqtls__x509_crt_has_ip_san() (asn1.h). */
bool mqtls__x509_lib_matches_ip_san(void);

/* The same for diagnosis: keys parsed and pairs checked with a per-call RNG. */
int mqtls__dm_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len,
                           const char *password);
int mqtls__dm_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv);
/* Fields of a parsed certificate that 3.x made private. */
bool mqtls__dm_crt_is_ca(const mbedtls_x509_crt *crt);
/* Is any of the MBEDTLS_X509_EXT_* bits of @p ext present? */
bool mqtls__dm_crt_has_ext(const mbedtls_x509_crt *crt, int ext);
/* RFC 5280 pathLenConstraint, -1 when there is none. */
int mqtls__dm_crt_max_pathlen(const mbedtls_x509_crt *crt);
/* keyUsage bits (MBEDTLS_X509_KU_*, the same numbers as MQTLS_KU_*). */
unsigned mqtls__dm_crt_key_usage(const mbedtls_x509_crt *crt);
mbedtls_md_type_t mqtls__dm_crt_sig_md(const mbedtls_x509_crt *crt);
mbedtls_pk_type_t mqtls__dm_crt_sig_pk(const mbedtls_x509_crt *crt);
/* Does @p parent's key verify @p child's signature? 0 yes, else the mbedTLS error. */
int mqtls__dm_verify_signature(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent);
/* mbedTLS values as the public enums of certinfo.h. */
mqtls_curve_t mqtls__dm_pk_curve(const mbedtls_pk_context *pk);
mqtls_key_type_t mqtls__dm_pk_type(const mbedtls_pk_context *pk);
mqtls_hash_t mqtls__dm_hash(mbedtls_md_type_t md);
/* A DER Name (e.g. from a CertificateRequest) as "CN=..., O=..."; "" if it cannot be shown
 * (3.x keeps mbedtls_x509_get_name internal). */
void mqtls__dm_dn_gets_der(const uint8_t *der, size_t len, char *out, size_t cap);
/* Is this handshake return code "no common version / cipher suite"? (codes differ in 3.x) */
bool mqtls__dm_ret_is_no_shared_cipher(int ret);
/* Is this handshake return code "no common TLS version" (2.x BAD_HS_PROTOCOL_VERSION, 3.x
 * BAD_PROTOCOL_VERSION)? */
bool mqtls__dm_ret_is_version_mismatch(int ret);
/* The DER a successful mbedtls_pem_read_buffer() decoded (3.x hides the fields). */
const uint8_t *mqtls__dm_pem_buf(const mbedtls_pem_context *pem, size_t *len);
/* The linked library is 2.x (its default profile is profile.c's mbedtls2-default). */
bool mqtls__dm_is_v2(void);

#endif /* MQTLS_X509_COMPAT_H */
