/* Public-key pins (src/net/tls_pin.c): the "sha256//BASE64" form, and the pin of a certificate
 * (SHA-256 of its DER SubjectPublicKeyInfo) against the value openssl computes
 * (openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256
 * -binary | openssl enc -base64), for an X.509 v3 and a v1 certificate (no version field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/client.h"
#include "mqtls/tls.h"
#include "net/tls_pin.h"

/* One key, two certificates (openssl req -x509 ...; openssl x509 -req -signkey ...). */
static const char cert_v3_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBeDCCAR2gAwIBAgIUaimxdmBFLpYyXJduHPJK9+FnmWIwCgYIKoZIzj0EAwIw\n"
    "ETEPMA0GA1UEAwwGcGluLXYzMB4XDTI2MTIwNjA5MzcyNFoXDTM2MTIwMzA5Mzcy\n"
    "NFowETEPMA0GA1UEAwwGcGluLXYzMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
    "BPr3u+FNC27HVboNTml8c6aABwp4hkoWd7BWxP8OjW2GGvNSrtHm6bzPOL2amj2L\n"
    "pOSUj2U0WCeX2W2o1bXwcaNTMFEwHQYDVR0OBBYEFFlHvSH3hQaaTY1g1NjHC7pF\n"
    "Ti1MMB8GA1UdIwQYMBaAFFlHvSH3hQaaTY1g1NjHC7pFTi1MMA8GA1UdEwEB/wQF\n"
    "MAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAJ0cAKavzPkCSOgt8/gZr4U7wXubVPR/\n"
    "dqpoNm+oV/CpAiEA3nn4xf8wF0sHS6Yr7w4x+BFiFz6Fl6lQRBkt/YmPII4=\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char cert_v1_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBGzCBwwIUTzUEb/ai46zFhGA8Tmk0gTikFfkwCgYIKoZIzj0EAwIwETEPMA0G\n"
    "A1UEAwwGcGluLXYxMB4XDTI2MTIwNjA5MzcyNFoXDTM2MTIwMzA5MzcyNFowETEP\n"
    "MA0GA1UEAwwGcGluLXYxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBPr3u+FN\n"
    "C27HVboNTml8c6aABwp4hkoWd7BWxP8OjW2GGvNSrtHm6bzPOL2amj2LpOSUj2U0\n"
    "WCeX2W2o1bXwcTAKBggqhkjOPQQDAgNHADBEAiBgVSDRpynqIXy36uKc+Pi11ELM\n"
    "7EnaAPF3B6IysHAZfAIgNXRoHOCSYdgXf6N2czeawIfpHWje7zzaaeF4F9lyBEY=\n"
    "-----END CERTIFICATE-----\n"
    ;
/* What openssl prints for that key (both certificates). */
#define OPENSSL_PIN "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA="

static void pin_of_pem(const char *pem, char *text, size_t cap)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
    uint8_t pin[MQTLS__PIN_LEN];
    assert_int_equal(mqtls__tls_pin_of_cert(crt.raw.p, crt.raw.len, pin), 0);
    mqtls__tls_pin_text(pin, text, cap);
    /* and a truncated certificate is not one */
    assert_int_equal(mqtls__tls_pin_of_cert(crt.raw.p, crt.raw.len / 2, pin), -1);
    mbedtls_x509_crt_free(&crt);
}

static void test_pin_v3_certificate_matches_openssl(void **state)
{
    (void)state;
    char text[MQTLS__PIN_TEXT_CAP];
    pin_of_pem(cert_v3_pem, text, sizeof text);
    assert_string_equal(text, OPENSSL_PIN);
}

static void test_pin_v1_certificate_without_version_matches_openssl(void **state)
{
    (void)state;
    char text[MQTLS__PIN_TEXT_CAP];
    pin_of_pem(cert_v1_pem, text, sizeof text);
    assert_string_equal(text, OPENSSL_PIN);
}

static void test_pin_parse_round_trips(void **state)
{
    (void)state;
    uint8_t pin[MQTLS__PIN_LEN];
    assert_int_equal(mqtls__tls_pin_parse(OPENSSL_PIN, pin), MQTLS_OK);
    char text[MQTLS__PIN_TEXT_CAP];
    mqtls__tls_pin_text(pin, text, sizeof text);
    assert_string_equal(text, OPENSSL_PIN);
}

static void test_pin_parse_malformed_is_invalid_arg(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA=",          /* no prefix */
        "sha1//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA=",    /* another hash */
        "SHA256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA=",  /* the prefix is lower case */
        "sha256//",                                              /* nothing */
        "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA",   /* padding missing */
        "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4d==",  /* 31 bytes */
        "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA=x", /* trailing junk */
        "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4d!=",  /* not base64 */
        "sha256//8Y0qi5L0hcJtu6bemTN52UgF/QVN/WH/PgYmQPxY4dA8Y0qi5L0hcJtu6bemTN5=", /* too long */
    };
    uint8_t pin[MQTLS__PIN_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mqtls__tls_pin_parse(bad[i], pin), MQTLS_ERR_INVALID_ARG);
    }
    assert_int_equal(mqtls__tls_pin_parse(NULL, pin), MQTLS_ERR_INVALID_ARG);
}

static void test_pin_of_not_a_certificate_fails(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    uint8_t pin[MQTLS__PIN_LEN];
    assert_int_equal(mqtls__tls_pin_of_cert(junk, sizeof junk, pin), -1);
    assert_int_equal(mqtls__tls_pin_of_cert(junk, 0, pin), -1);
    assert_int_equal(mqtls__tls_pin_of_cert(NULL, 0, pin), -1);
}

/* Pins are checked on the server's certificate: a TLS-PSK handshake has none, so the setup
 * refuses the two together rather than connect without the check. */
static void test_pins_with_psk_are_refused(void **state)
{
    (void)state;
    static const uint8_t key[] = {0x00, 0x11, 0x22, 0x33};
    static const char *const pins[] = {OPENSSL_PIN, NULL};
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.psk = key;
    tls.psk_len = sizeof key;
    tls.psk_identity = "dev1";
    tls.pins = pins;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtts://127.0.0.1:1";
    cfg.tls = &tls;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG);
    assert_null(c);
    assert_non_null(strstr(err.detail, "pins"));
    tls.pins = NULL; /* the same PSK set-up without pins is fine */
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_OK);
    mqtls_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_v3_certificate_matches_openssl),
        cmocka_unit_test(test_pin_v1_certificate_without_version_matches_openssl),
        cmocka_unit_test(test_pin_parse_round_trips),
        cmocka_unit_test(test_pin_parse_malformed_is_invalid_arg),
        cmocka_unit_test(test_pin_of_not_a_certificate_fails),
        cmocka_unit_test(test_pins_with_psk_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
