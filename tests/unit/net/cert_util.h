/* Certificates for the net unit tests, written with mbedtls_x509write (no openssl needed).
 * Header-only: static functions used by test_net_profile.c and test_net_ip_san.c. */
#ifndef MQTLS_TEST_NET_CERT_UTIL_H
#define MQTLS_TEST_NET_CERT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

typedef struct {
    mbedtls_pk_context *subject_key;
    const char *subject; /* "CN=localhost" */
    mbedtls_pk_context *issuer_key;
    const char *issuer;
    mbedtls_md_type_t md;
    bool is_ca;
    int serial;
    const uint8_t *san; /* DER of the subjectAltName value (GeneralNames), or NULL */
    size_t san_len;
} tu_cert_spec_t;

/* The certificate of @p s as PEM (NUL-terminated) in @p pem; fails the test on any error. */
static void tu_make_cert(const tu_cert_spec_t *s, mbedtls_ctr_drbg_context *drbg,
                         unsigned char *pem, size_t cap)
{
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    assert_int_equal(mbedtls_mpi_lset(&serial, s->serial), 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    assert_int_equal(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20491231235959"), 0);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, s->subject), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, s->issuer), 0);
    mbedtls_x509write_crt_set_subject_key(&w, s->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, s->issuer_key);
    mbedtls_x509write_crt_set_md_alg(&w, s->md);
    assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&w, s->is_ca ? 1 : 0, -1), 0);
    if (s->is_ca) {
        assert_int_equal(mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                                     MBEDTLS_X509_KU_CRL_SIGN),
                         0);
    }
    if (s->san != NULL) {
        assert_int_equal(mbedtls_x509write_crt_set_extension(
                             &w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, s->san, s->san_len),
                         0);
    }
    assert_int_equal(mbedtls_x509write_crt_pem(&w, pem, cap, mbedtls_ctr_drbg_random, drbg), 0);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
}

#endif /* MQTLS_TEST_NET_CERT_UTIL_H */
