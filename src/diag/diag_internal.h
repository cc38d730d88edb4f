/* Internal to src/diag: parsed certificate sets, profiles as data (the finding catalogue and the
 * findings list: findings.h). */
#ifndef MQTLS_DIAG_INTERNAL_H
#define MQTLS_DIAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"
#include "mqtls/diag.h"
#include "findings.h"

/* Most certificates kept per file (a system bundle holds ~150). */
#define MQTLS__MAX_CERTS 512
/* Files with up to this many certificates get their self-signatures verified. */
#define MQTLS__VERIFY_SELF_MAX 16

/* One file or buffer of certificates, parsed. Each certificate is its own mbedtls_x509_crt
 * (not one linked chain) so diagnosis can verify any pair it likes. */
typedef struct mqtls__certset {
    mbedtls_x509_crt *crt; /* cap entries, allocated by load/reserve */
    mqtls_certinfo_t *info;
    size_t count;
    size_t cap;
    bool empty; /* no bytes, or white space / NULs only */
    bool is_pem;
    bool is_der;
    bool pem_truncated;    /* a BEGIN without its END */
    bool has_key;          /* holds a private key block (or DER key) */
    bool has_other;        /* holds a PEM block that is neither cert nor key (CSR, CRL) */
    char other_label[40];  /* label of the first such block */
    bool not_pem_not_der;  /* text without any PEM block, or garbage */
    size_t bad_certs;      /* CERTIFICATE blocks that did not parse */
    int bad_ret;           /* mbedTLS error of the first bad one */
    bool unsupported_key;  /* a certificate whose key mbedTLS cannot parse (Ed25519...) */
    bool ends_without_nul; /* PEM whose last byte is not NUL (buffer API check) */
} mqtls__certset_t;

/* Initialise and parse @p data into @p set (never fails: problems are flags in @p set). */
void mqtls__certset_load(mqtls__certset_t *set, const uint8_t *data, size_t len);
void mqtls__certset_free(mqtls__certset_t *set);
/* Make room for @p n certificates in an empty set. false if out of memory. */
bool mqtls__certset_reserve(mqtls__certset_t *set, size_t n);
/* Fill @p info from @p crt; @p verify_self: check a self-issued certificate's own signature
 * (else self_signed = self_issued). */
void mqtls__certinfo_fill(const mbedtls_x509_crt *crt, mqtls_certinfo_t *info, bool verify_self);
int64_t mqtls__x509_time_to_unix(int year, int mon, int day, int hour, int min, int sec);
/* Does @p data contain the DER OID bytes of Ed25519 / Ed448 / X25519 / X448? */
mqtls_key_type_t mqtls__scan_unsupported_key_oid(const uint8_t *data, size_t len);

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
} mqtls__profile_t;

const mqtls__profile_t *mqtls__profile_get(mqtls_profile_t p);
bool mqtls__profile_hash_ok(const mqtls__profile_t *p, mqtls_hash_t h);
/* 0 ok; 1 RSA too short / EC too small; 2 curve not in list; 3 key type not allowed. */
int mqtls__profile_key_check(const mqtls__profile_t *p, mqtls_key_type_t t, unsigned bits,
                             mqtls_curve_t curve);

#if defined(__GNUC__)
#define MQTLS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MQTLS__PRINTF(a, b)
#endif
void mqtls__setf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);
void mqtls__appendf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);

#endif
