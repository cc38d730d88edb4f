/* Two mbedTLS versions in one process: side3.c is compiled against mbedTLS 3.6 (target
 * mqtls::mbedtls3, symbols renamed mqtls3_*), side2.c against Debian's 2.28 (MbedTLS::mbedtls).
 * This header includes neither: the test talks to each side through these functions only. */
#ifndef MQTLS_TEST_MBEDTLS_SIDES_H
#define MQTLS_TEST_MBEDTLS_SIDES_H

#include <stddef.h>
#include <stdint.h>

typedef struct side_cert {
    char subject[256];
    char issuer[256];
    char serial[128];
} side_cert_t;

/* What each side's library says at run time, and the header it was compiled with. */
const char *side3_version_string(void);
const char *side2_version_string(void);
unsigned long side3_header_version(void);
unsigned long side2_header_version(void);
/* That side's mbedtls_version_get_string: the two must be different functions. */
typedef void (*side_version_fn_t)(char *string);
side_version_fn_t side3_version_fn(void);
side_version_fn_t side2_version_fn(void);

/* The 3.6 build's own known-answer tests (AES incl. AES-NI, GCM, SHA-2, CTR_DRBG, ECP):
 * 0 when all pass, else the number of the first failing one. */
int side3_self_tests(void);

/* Parse one PEM certificate (NUL-terminated, @p len without the NUL). mbedTLS return code. */
int side3_parse(const char *pem, size_t len, side_cert_t *out);
int side2_parse(const char *pem, size_t len, side_cert_t *out);

/* mbedtls_x509_crt_verify_with_profile of @p leaf_pem against @p ca_pem with the default
 * profile, or (allow_sha1) the default profile plus SHA-1. @p cn may be NULL. *flags = the
 * verify flags. Returns the mbedTLS return code (or a parse error). */
int side3_verify(const char *ca_pem, const char *leaf_pem, const char *cn, int allow_sha1,
                 uint32_t *flags);
int side2_verify(const char *ca_pem, const char *leaf_pem, const char *cn, int allow_sha1,
                 uint32_t *flags);
/* The profile src/x509/profile.c derives for @p name in that side's copy of src/x509 (3.6:
 * the mqtls3__ copy, tls-engines.md) equals that version's own mbedtls_x509_crt_profile_default,
 * number for number: 1 yes, 0 no, -1 unknown name. */
int side3_profile_is_library_default(const char *name);
int side2_profile_is_library_default(const char *name);
/* MBEDTLS_X509_BADCERT_BAD_MD as each side defines it. */
uint32_t side3_flag_bad_md(void);
uint32_t side2_flag_bad_md(void);
/* mbedtls_x509_crt_verify_info text for @p flags (diagnostics on failure). */
void side3_flags_text(uint32_t flags, char *buf, size_t len);
void side2_flags_text(uint32_t flags, char *buf, size_t len);

typedef struct side_tls_result {
    int rc;               /* 0, or the mbedTLS code that ended the exchange */
    const char *step;     /* where it ended: "handshake", "write", "read", ... */
    char version[16];     /* mbedtls_ssl_get_version(): "TLSv1.3" */
    char ciphersuite[64]; /* mbedtls_ssl_get_ciphersuite() */
    uint32_t verify_flags;
    int tickets;          /* NewSessionTicket messages received */
    char reply[64];       /* first bytes of the HTTP reply */
} side_tls_result_t;

/* Connect to 127.0.0.1:@p port, TLS handshake (client, TLS 1.2..1.3, server verified against
 * @p ca_pem for @p host), send an HTTP/1.0 GET, read the start of the reply, close.
 * Every socket wait is bounded by @p timeout_ms. */
void side3_tls_get(uint16_t port, const char *ca_pem, const char *host, int timeout_ms,
                   side_tls_result_t *res);

#endif
