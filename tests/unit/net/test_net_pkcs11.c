/* pkcs11: URIs (src/net/pkcs11.c over p11-kit's RFC 7512 parser): attributes in the path and
 * the query, percent-encoding, the query attributes users write in the path, attributes RFC
 * 7512 does not define, the PIN never shown. No token needed (tests/integration/cli/
 * test_pkcs11.sh signs with a SoftHSM 2 token). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mqtls/error.h"
#include "net/pkcs11.h"

static mqtls_status_t parse(const char *uri, mqtls__p11_uri_info_t *info, mqtls_error_t *err)
{
    mqtls_error_init(err);
    return mqtls__p11_uri_parse(uri, info, err);
}

static void test_p11_uri_path_attributes_parse(void **state)
{
    (void)state;
    mqtls__p11_uri_info_t i;
    mqtls_error_t e;
    assert_int_equal(parse("pkcs11:token=mqtls;object=client;pin-value=1234", &i, &e), MQTLS_OK);
    assert_string_equal(i.token, "mqtls");
    assert_string_equal(i.object, "client");
    assert_string_equal(i.pin_value, "1234"); /* libp11's spelling: pin-value in the path */
    assert_false(i.has_id);
    assert_string_equal(i.module_path, "");
}

static void test_p11_uri_percent_encoding_decodes(void **state)
{
    (void)state;
    mqtls__p11_uri_info_t i;
    mqtls_error_t e;
    assert_int_equal(parse("pkcs11:token=my%20token;object=a%3Bb%26c;id=%01%02%ff", &i, &e),
                     MQTLS_OK);
    assert_string_equal(i.token, "my token");
    assert_string_equal(i.object, "a;b&c");
    assert_true(i.has_id);
    assert_int_equal(i.id_len, 3);
    assert_memory_equal(i.id, "\x01\x02\xff", 3);
}

static void test_p11_uri_query_attributes_parse(void **state)
{
    (void)state;
    mqtls__p11_uri_info_t i;
    mqtls_error_t e;
    assert_int_equal(
        parse("pkcs11:token=t;object=k?pin-value=12%2034&module-path=/usr/lib/softhsm/"
              "libsofthsm2.so",
              &i, &e),
        MQTLS_OK);
    assert_string_equal(i.pin_value, "12 34");
    assert_string_equal(i.module_path, "/usr/lib/softhsm/libsofthsm2.so");
    /* module-path written in the path, as users do, is taken too */
    assert_int_equal(parse("pkcs11:object=k;module-path=/m.so", &i, &e), MQTLS_OK);
    assert_string_equal(i.object, "k");
    assert_string_equal(i.module_path, "/m.so");
}

static void test_p11_uri_unknown_attribute_is_invalid_arg(void **state)
{
    (void)state;
    mqtls__p11_uri_info_t i;
    mqtls_error_t e;
    assert_int_equal(parse("pkcs11:token=t;colour=blue", &i, &e), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(e.detail, "an attribute is not one RFC 7512 defines"));
    assert_int_equal(e.layer, MQTLS_LAYER_CONFIG);
}

static void test_p11_uri_malformed_is_invalid_arg(void **state)
{
    (void)state;
    mqtls__p11_uri_info_t i;
    mqtls_error_t e;
    assert_int_equal(parse("pkcs11:token=%zz", &i, &e), MQTLS_ERR_INVALID_ARG); /* bad %XX */
    assert_int_equal(parse("pkcs11:token=%2", &i, &e), MQTLS_ERR_INVALID_ARG);  /* cut %X */
    assert_int_equal(parse("file:/etc/key.pem", &i, &e), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(e.detail, "not a pkcs11: URI"));
    /* the PIN is not in the message of a bad URI */
    assert_int_equal(parse("pkcs11:token=%zz;pin-value=secret77", &i, &e),
                     MQTLS_ERR_INVALID_ARG);
    assert_null(strstr(e.detail, "secret77"));
}

static void test_p11_is_uri_by_scheme(void **state)
{
    (void)state;
    assert_true(mqtls__p11_is_uri("pkcs11:token=t"));
    assert_true(mqtls__p11_is_uri("PKCS11:token=t")); /* schemes are case-insensitive */
    assert_false(mqtls__p11_is_uri("/etc/mqtls/client.key"));
    assert_false(mqtls__p11_is_uri("pkcs11"));
    assert_false(mqtls__p11_is_uri(NULL));
}

static void test_p11_uri_redact_hides_the_pin(void **state)
{
    (void)state;
    char out[256];
    mqtls__p11_uri_redact("pkcs11:token=a;pin-value=1234;object=b", out, sizeof out);
    assert_string_equal(out, "pkcs11:token=a;pin-value=***;object=b");
    mqtls__p11_uri_redact("pkcs11:token=a?pin-value=1234&module-path=/m.so", out, sizeof out);
    assert_string_equal(out, "pkcs11:token=a?pin-value=***&module-path=/m.so");
    mqtls__p11_uri_redact("pkcs11:token=a;object=my-pin-value=x", out, sizeof out);
    assert_string_equal(out, "pkcs11:token=a;object=my-pin-value=x"); /* a value, not the attr */
    mqtls__p11_uri_redact("pkcs11:pin-value=1234", out, 12); /* truncated, still terminated */
    assert_int_equal(strlen(out), 11);
    assert_null(strstr(out, "1234"));
}

static void test_p11_uri_split_gives_path_and_pin(void **state)
{
    (void)state;
    char path[256];
    char pin[64];
    bool has = false;
    mqtls_error_t e;
    mqtls_error_init(&e);
    assert_int_equal(mqtls__p11_uri_split("pkcs11:token=t;pin-value=1234;object=k?module-path=/m.so",
                                          NULL, path, sizeof path, pin, sizeof pin, &has, &e),
                     MQTLS_OK);
    assert_string_equal(path, "pkcs11:token=t;object=k");
    assert_true(has);
    assert_string_equal(pin, "1234");
    /* no PIN in the URI: the key password */
    assert_int_equal(mqtls__p11_uri_split("pkcs11:token=t;object=k", "pw", path, sizeof path, pin,
                                          sizeof pin, &has, &e),
                     MQTLS_OK);
    assert_true(has);
    assert_string_equal(pin, "pw");
    assert_int_equal(mqtls__p11_uri_split("pkcs11:token=t;object=k", NULL, path, sizeof path, pin,
                                          sizeof pin, &has, &e),
                     MQTLS_OK);
    assert_false(has);
}

static void test_p11_open_without_module_is_invalid_arg(void **state)
{
    (void)state;
    mqtls__p11_key_t *k = NULL;
    mqtls_error_t e;
    mqtls_error_init(&e);
    assert_int_equal(mqtls__p11_key_open("pkcs11:token=t;object=k", NULL, NULL, &e, &k),
                     MQTLS_ERR_INVALID_ARG);
    assert_null(k);
    assert_non_null(strstr(e.detail, "no PKCS#11 module given"));
    assert_int_equal(
        mqtls__p11_key_open("pkcs11:token=t;object=k", "/nonexistent/module.so", NULL, &e, &k),
        MQTLS_ERR_PKCS11);
    assert_non_null(strstr(e.detail, "/nonexistent/module.so: No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p11_uri_path_attributes_parse),
        cmocka_unit_test(test_p11_uri_percent_encoding_decodes),
        cmocka_unit_test(test_p11_uri_query_attributes_parse),
        cmocka_unit_test(test_p11_uri_unknown_attribute_is_invalid_arg),
        cmocka_unit_test(test_p11_uri_malformed_is_invalid_arg),
        cmocka_unit_test(test_p11_is_uri_by_scheme),
        cmocka_unit_test(test_p11_uri_redact_hides_the_pin),
        cmocka_unit_test(test_p11_uri_split_gives_path_and_pin),
        cmocka_unit_test(test_p11_open_without_module_is_invalid_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
