/* Certificates and keys as facts (include/mqtls/certinfo.h): parsed certificate sets for
 * diagnosis and `mqtls pki show`, and the small text helpers their descriptions use. */
#ifndef MQTLS_X509_CERTINFO_H
#define MQTLS_X509_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"

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
/* "RSA-2048", "EC P-256 (secp256r1)", "Ed25519": the key_desc of certinfo and keyinfo. */
void mqtls__x509_key_desc(char *dst, size_t cap, mqtls_key_type_t t, unsigned bits,
                          mqtls_curve_t c);

#if defined(__GNUC__)
#define MQTLS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MQTLS__PRINTF(a, b)
#endif
/* snprintf into @p dst, and append to the string in @p dst; both truncate silently. */
void mqtls__setf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);
void mqtls__appendf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);

#endif /* MQTLS_X509_CERTINFO_H */
