/* src/diag's only window on mbedTLS version differences (2.28 vs 3.x): every field access or
 * call whose shape changed goes through here, and only diag_mbedtls.c has version guards. */
#ifndef MQTLS_DIAG_MBEDTLS_H
#define MQTLS_DIAG_MBEDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"

int mqtls__dm_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len,
                           const char *password);
int mqtls__dm_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv);
bool mqtls__dm_crt_is_ca(const mbedtls_x509_crt *crt);
bool mqtls__dm_crt_has_ext(const mbedtls_x509_crt *crt, int ext);
int mqtls__dm_crt_max_pathlen(const mbedtls_x509_crt *crt);
unsigned mqtls__dm_crt_key_usage(const mbedtls_x509_crt *crt);
mbedtls_md_type_t mqtls__dm_crt_sig_md(const mbedtls_x509_crt *crt);
mbedtls_pk_type_t mqtls__dm_crt_sig_pk(const mbedtls_x509_crt *crt);
/* Does @p parent's key verify @p child's signature? 0 yes, else the mbedTLS error. */
int mqtls__dm_verify_signature(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent);
mqtls_curve_t mqtls__dm_pk_curve(const mbedtls_pk_context *pk);
mqtls_key_type_t mqtls__dm_pk_type(const mbedtls_pk_context *pk);
mqtls_hash_t mqtls__dm_hash(mbedtls_md_type_t md);
/* A DER Name (e.g. from a CertificateRequest) as "CN=..., O=..."; "" if it cannot be shown
 * (3.x keeps mbedtls_x509_get_name internal). */
void mqtls__dm_dn_gets_der(const uint8_t *der, size_t len, char *out, size_t cap);
/* Is this handshake return code "no common version / cipher suite"? (codes differ in 3.x) */
bool mqtls__dm_ret_is_no_shared_cipher(int ret);
/* The linked library's default profile is the 2.x one (SHA-1 allowed? see profile.c). */
bool mqtls__dm_is_v2(void);

#endif
