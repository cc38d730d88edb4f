/* Internal helpers shared by the files of src/pki (not installed). */
#ifndef MQTLS_PKI_INTERNAL_H
#define MQTLS_PKI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/error.h"
#include "mqtls/pki.h"
#include "mqtls/status.h"
#include "x509/compat.h"

/* Record a failure in @p err (may be NULL) and return @p st. @p mbed_ret: raw mbedTLS code
 * or 0; its text is appended to the detail. */
mqtls_status_t mqtls__pki_fail(mqtls_error_t *err, mqtls_status_t st, int mbed_ret, int sys_errno,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Read a whole file into a malloc'd buffer with one NUL byte appended (mbedTLS parses PEM
 * only when the length includes the NUL). *len counts the NUL. Caller frees. */
mqtls_status_t mqtls__pki_read_file(const char *path, unsigned char **buf, size_t *len,
                                    mqtls_error_t *err);

/* Create @p path with O_EXCL and exactly @p mode (with @p force an old file is unlinked first);
 * a symlink planted at the path is not followed. */
mqtls_status_t mqtls__pki_write_new_file(const char *path, const unsigned char *data, size_t len,
                                         mode_t mode, int force, mqtls_error_t *err);
/* "<dir>/<base><ext>" into @p out. MQTLS_ERR_INVALID_ARG if it does not fit. */
mqtls_status_t mqtls__pki_join_path(char *out, size_t cap, const char *dir, const char *base,
                                    const char *ext, mqtls_error_t *err);
/* MQTLS_ERR_FILE_WRITE (with the mkdir fix) unless @p dir is a directory. */
mqtls_status_t mqtls__pki_check_dir(const char *dir, mqtls_error_t *err);
/* Refuse before generating anything if an output exists (unless @p force). */
mqtls_status_t mqtls__pki_check_outputs(const mqtls_pki_result_t *r, bool force,
                                        mqtls_error_t *err);

/* pki_names.c. A client name is also a file name: a portable, shell-safe set (1). */
int mqtls__pki_is_safe_file_name(const char *s);
/* RFC 1035 / RFC 6125 host name, optionally with a leading "*." wildcard label (1). */
int mqtls__pki_is_dns_name(const char *s);
/* An IPv4 or IPv6 literal: the address length (4 or 16), 0 if not an IP. */
size_t mqtls__pki_parse_ip(const char *s, unsigned char out[16]);
/* "CN=<name>" for mbedtls_x509_string_to_names (',' escaped; control characters and
 * backslashes refused: MQTLS_ERR_INVALID_ARG). */
mqtls_status_t mqtls__pki_cn_string(const char *name, char *out, size_t cap, mqtls_error_t *err);
/* The CA's subject DN as a string mbedtls_x509_string_to_names re-encodes to the same
 * attributes in the same order (MQTLS_ERR_CA_PARSE if it cannot). */
mqtls_status_t mqtls__pki_dn_string(const mbedtls_x509_name *dn, char *out, size_t cap,
                                    mqtls_error_t *err);

/* ---- pki.c: the signing path shared by `pki client/server` and `pki fleet` ---------------- */

/* PEM of an RSA-4096 key is about 3.3 KB and of a certificate about 2 KB. */
#define MQTLS__PKI_PEM_CAP 16384u

/* What one certificate says and who signs it. */
typedef struct mqtls__pki_cert_spec {
    const char *subject; /* "CN=..." */
    const char *issuer;  /* NULL: self-signed */
    mbedtls_pk_context *subject_key;
    mbedtls_pk_context *issuer_key;
    mbedtls_pk_context *signing_key; /* NULL, or issuer_key's key to sign with */
    int64_t not_before;
    int64_t not_after;
    int is_ca;
    unsigned key_usage;
    const unsigned char *san; /* DER or NULL */
    size_t san_len;
    const unsigned char *eku; /* DER or NULL */
    size_t eku_len;
} mqtls__pki_cert_spec_t;

/* @p now_s, or the system clock when it is 0. */
int64_t mqtls__pki_now_or(int64_t now_s);
/* A new key: EC P-256, or RSA of @p bits. 0 or the mbedTLS error. */
int mqtls__pki_gen_key(mbedtls_pk_context *pk, mqtls_pki_key_type_t type, unsigned bits,
                       mqtls__x509_rng_t *r);
/* extendedKeyUsage with one purpose, DER written at the end of @p buf; *start points at it.
 * Returns its length or a negative mbedTLS error. */
int mqtls__pki_write_eku(unsigned char *buf, size_t cap, const char *oid, size_t oid_len,
                         unsigned char **start);
/* Sign @p s into @p pem (PEM, NUL-terminated): random 16-byte serial, SHA-256. */
mqtls_status_t mqtls__pki_sign_cert(const mqtls__pki_cert_spec_t *s, mqtls__x509_rng_t *r,
                                    unsigned char *pem, size_t cap, mqtls_error_t *err);
/* Write the key (0600) then the certificate (0644); a key whose certificate could not be
 * written is removed again. */
mqtls_status_t mqtls__pki_write_pair(const mqtls_pki_result_t *paths, mbedtls_pk_context *key,
                                     const unsigned char *cert_pem, bool force, mqtls_error_t *err);
/* The CA of @p dir (ca.crt, ca.key), checked to be a CA and to belong together. */
mqtls_status_t mqtls__pki_load_ca(const char *dir, mbedtls_x509_crt *ca, mbedtls_pk_context *ca_key,
                                  mqtls__x509_rng_t *r, mqtls_error_t *err);

#endif /* MQTLS_PKI_INTERNAL_H */
