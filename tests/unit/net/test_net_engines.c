/* The pieces of the TLS engines that need no peer: the one table that maps OpenSSL's
 * X509_V_ERR_* to the MBEDTLS_X509_BADCERT_* numbering, the alert mbedTLS sends for a set of
 * flags (and the X509_V_ERR that makes OpenSSL send the same one), the parser of TLS 1.3
 * handshake messages (decrypted by the engines: Certificate and CertificateRequest with its
 * certificate_authorities), and the list of engines built in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/tls_facts.h"
#include "mqtls/tls.h"
#include "net/tls_engine.h"
#include "net/tls_records.h"
#if defined(MQTLS_WITH_OPENSSL)
#include "net/tls_openssl.h"
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_engines_listed_with_versions(void **state)
{
    (void)state;
    size_t n = mqtls_tls_engine_count();
    assert_true(n >= 1 && n <= 3);
    assert_string_equal(mqtls_tls_engine_name(0), mqtls_tls_engine_default());
    bool has2 = false;
    for (size_t i = 0; i < n; i++) {
        const char *v = mqtls_tls_engine_version(i);
        print_message("engine %zu: %-8s %s %s\n", i, mqtls_tls_engine_name(i),
                      mqtls_tls_engine_library(i), v);
        assert_true(v != NULL && v[0] >= '0' && v[0] <= '9');
        if (strcmp(mqtls_tls_engine_name(i), "mbedtls2") == 0) {
            has2 = true;
            assert_true(strncmp(v, "2.28.", 5) == 0);
        }
        if (strcmp(mqtls_tls_engine_name(i), "mbedtls3") == 0) {
            assert_true(strncmp(v, "3.6.", 4) == 0);
            assert_string_equal(mqtls_tls_engine_default(), "mbedtls3");
        }
        if (strcmp(mqtls_tls_engine_name(i), "openssl") == 0) {
            assert_string_equal(mqtls_tls_engine_library(i), "OpenSSL");
            assert_true(v[0] == '3');
        }
    }
    assert_true(has2); /* Debian's mbedTLS is always there */
    assert_null(mqtls_tls_engine_version(n));
}

/* ssl_parse_certificate_verify()'s choice, the first rule that matches. */
static void test_engines_alert_for_flags_is_mbedtls_rule(void **state)
{
    (void)state;
    static const struct {
        uint32_t flags;
        int alert;
    } rows[] = {
        {MQTLS__BADCERT_NOT_TRUSTED, 48},
        {MQTLS__BADCERT_EXPIRED | MQTLS__BADCERT_NOT_TRUSTED, 45},
        {MQTLS__BADCERT_CN_MISMATCH | MQTLS__BADCERT_EXPIRED, 42},
        {MQTLS__BADCERT_BAD_KEY, 43},
        {MQTLS__BADCERT_BAD_MD, 46},
        {MQTLS__BADCERT_EXT_KEY_USAGE, 43},
        {MQTLS__BADCERT_REVOKED, 44},
        {MQTLS__BADCERT_FUTURE, 46},
        {MQTLS__BADCERT_OTHER | MQTLS__BADCERT_CN_MISMATCH, 49},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        assert_int_equal(mqtls__tls_alert_for_flags(rows[i].flags), rows[i].alert);
    }
}

#if defined(MQTLS_WITH_OPENSSL)
static void test_engines_openssl_errors_map_to_mbedtls_flags(void **state)
{
    (void)state;
    static const struct {
        int err;
        uint32_t flag;
    } rows[] = {
        {X509_V_ERR_CERT_HAS_EXPIRED, MQTLS__BADCERT_EXPIRED},
        {X509_V_ERR_CERT_NOT_YET_VALID, MQTLS__BADCERT_FUTURE},
        {X509_V_ERR_HOSTNAME_MISMATCH, MQTLS__BADCERT_CN_MISMATCH},
        {X509_V_ERR_IP_ADDRESS_MISMATCH, MQTLS__BADCERT_CN_MISMATCH},
        {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, MQTLS__BADCERT_NOT_TRUSTED},
        {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, MQTLS__BADCERT_NOT_TRUSTED},
        {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, MQTLS__BADCERT_NOT_TRUSTED},
        {X509_V_ERR_CERT_SIGNATURE_FAILURE, MQTLS__BADCERT_NOT_TRUSTED},
        {X509_V_ERR_INVALID_CA, MQTLS__BADCERT_NOT_TRUSTED},
        {X509_V_ERR_INVALID_PURPOSE, MQTLS__BADCERT_EXT_KEY_USAGE},
        {X509_V_ERR_CA_KEY_TOO_SMALL, MQTLS__BADCERT_BAD_KEY},
        {X509_V_ERR_CA_MD_TOO_WEAK, MQTLS__BADCERT_BAD_MD},
        {X509_V_ERR_CERT_REVOKED, MQTLS__BADCERT_REVOKED},
        {X509_V_ERR_UNABLE_TO_GET_CRL, 0},
        {X509_V_OK, 0},
        {X509_V_ERR_OUT_OF_MEM, MQTLS__BADCERT_OTHER}, /* anything else */
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        assert_int_equal(mqtls__ossl_badcert_flag(rows[i].err), rows[i].flag);
    }
    /* The way back: for each alert mbedTLS sends, an error OpenSSL turns into that alert and
     * whose flag gives the same alert again. */
    static const int alerts[] = {42, 43, 44, 45, 48};
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        int e = mqtls__ossl_err_for_alert(alerts[i]);
        assert_int_equal(mqtls__tls_alert_for_flags(mqtls__ossl_badcert_flag(e)), alerts[i]);
    }
}
#endif

/* ---- TLS 1.3 handshake messages ---------------------------------------------------------- */

typedef struct {
    uint8_t b[1024];
    size_t len;
} buf_t;

static void put(buf_t *o, const void *p, size_t n)
{
    memcpy(o->b + o->len, p, n);
    o->len += n;
}
static void put8(buf_t *o, unsigned v)
{
    o->b[o->len++] = (uint8_t)v;
}
static void put16(buf_t *o, size_t v)
{
    put8(o, (unsigned)(v >> 8) & 0xFF);
    put8(o, (unsigned)v & 0xFF);
}
static void put24(buf_t *o, size_t v)
{
    put8(o, (unsigned)(v >> 16) & 0xFF);
    put16(o, v & 0xFFFF);
}

static void test_engines_tls13_certificate_and_request_parsed(void **state)
{
    (void)state;
    static const uint8_t c0[] = {0x30, 0x03, 0x01, 0x01, 0xFF};
    static const uint8_t c1[] = {0x30, 0x02, 0x05, 0x00};
    /* Certificate: empty context, two entries, the first with a 4-byte extension block */
    buf_t cert = {.len = 0};
    put8(&cert, 0);
    put24(&cert, 3 + sizeof c0 + 2 + 4 + 3 + sizeof c1 + 2);
    put24(&cert, sizeof c0);
    put(&cert, c0, sizeof c0);
    put16(&cert, 4);
    put(&cert, "\x00\x05\x00\x00", 4); /* status_request, empty */
    put24(&cert, sizeof c1);
    put(&cert, c1, sizeof c1);
    put16(&cert, 0);
    /* CertificateRequest: 1-byte context, signature_algorithms, certificate_authorities */
    static const uint8_t dns[] = {0x00, 0x05, 0x30, 0x03, 0x31, 0x01, 0x00, 0x00, 0x02, 0x30, 0x00};
    buf_t cr = {.len = 0};
    put8(&cr, 1);
    put8(&cr, 0x2A);
    put16(&cr, (4 + 4) + (4 + 2 + sizeof dns));
    put16(&cr, 13); /* signature_algorithms */
    put16(&cr, 4);
    put16(&cr, 2);
    put16(&cr, 0x0403);
    put16(&cr, 47); /* certificate_authorities */
    put16(&cr, 2 + sizeof dns);
    put16(&cr, sizeof dns);
    put(&cr, dns, sizeof dns);

    mqtls_tls_facts_t f;
    mqtls__tls_facts_init(&f);
    mqtls__tls_records_t rp;
    memset(&rp, 0, sizeof rp);
    assert_true(mqtls__tls_records_reset(&rp, &f, true));
    mqtls__tls_records_on_message13(&rp, 13, cr.b, cr.len);
    mqtls__tls_records_on_message13(&rp, 11, cert.b, cert.len);
    mqtls__tls_records_on_message13(&rp, 11, cert.b, cert.len); /* only the first counts */
    mqtls__tls_records_on_message13(&rp, 4, cert.b, cert.len);  /* a ticket: nothing */
    assert_true(f.cert_requested);
    assert_int_equal(f.ca_names_len, sizeof dns);
    assert_memory_equal(f.ca_names, dns, sizeof dns);
    assert_true(rp.saw_certificate);
    assert_int_equal(f.presented_len, 2);
    assert_int_equal(f.presented[0].der_len, sizeof c0);
    assert_memory_equal(f.presented[0].der, c0, sizeof c0);
    assert_memory_equal(f.presented[1].der, c1, sizeof c1);
    mqtls__tls_facts_free(&f);

    /* Every truncation of both messages: no read past the end, nothing invented. */
    for (size_t cut = 0; cut < cert.len; cut++) {
        mqtls__tls_facts_init(&f);
        assert_true(mqtls__tls_records_reset(&rp, &f, true));
        mqtls__tls_records_on_message13(&rp, 11, cert.b, cut);
        assert_true(f.presented_len <= 2);
        mqtls__tls_facts_free(&f);
    }
    for (size_t cut = 0; cut < cr.len; cut++) {
        mqtls__tls_facts_init(&f);
        assert_true(mqtls__tls_records_reset(&rp, &f, true));
        mqtls__tls_records_on_message13(&rp, 13, cr.b, cut);
        assert_true(f.cert_requested);
        assert_true(f.ca_names_len == 0 || f.ca_names_len == sizeof dns);
        mqtls__tls_facts_free(&f);
    }
    mqtls__tls_records_release(&rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engines_listed_with_versions),
        cmocka_unit_test(test_engines_alert_for_flags_is_mbedtls_rule),
#if defined(MQTLS_WITH_OPENSSL)
        cmocka_unit_test(test_engines_openssl_errors_map_to_mbedtls_flags),
#endif
        cmocka_unit_test(test_engines_tls13_certificate_and_request_parsed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
