/* The public ABI as an application sees it (linked against the shared libmqtls, include/
 * only): the version, versioned config structs (docs/abi.md) and the opaque results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtls/mqtls.h"

static void test_abi_version_matches_headers(void **state)
{
    (void)state;
    assert_string_equal(mqtls_version(), MQTLS_VERSION_STRING);
    assert_int_equal(mqtls_version_number(), MQTLS_VERSION_NUMBER);
    assert_int_equal(MQTLS_VERSION_NUMBER >> 24, MQTLS_VERSION_MAJOR);
}

/* A struct_size-versioned config as a newer application would pass it: our layout followed
 * by fields this library does not know. */
typedef struct {
    mqtls_client_cfg_t known;
    uint64_t newer_field;
} newer_cfg_t;

static mqtls_status_t create_with(const mqtls_client_cfg_t *cfg, mqtls_error_t *err)
{
    mqtls_client_t *c = NULL;
    mqtls_status_t st = mqtls_client_create(cfg, err, &c);
    mqtls_client_destroy(c);
    return st;
}

static void test_abi_init_sets_struct_size_and_defaults(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    memset(&cfg, 0xA5, sizeof cfg);
    mqtls_client_cfg_init(&cfg);
    assert_int_equal(cfg.struct_size, sizeof cfg);
    assert_int_equal(cfg.keepalive_s, 60);
    assert_true(cfg.clean_start);
    assert_null(cfg.tls);
    mqtls_tls_cfg_t tls;
    memset(&tls, 0xA5, sizeof tls);
    mqtls_tls_cfg_init(&tls);
    assert_int_equal(tls.struct_size, sizeof tls);
    assert_null(tls.ca_file);
    assert_false(tls.insecure);
}

static void test_abi_newer_caller_with_unused_tail_is_accepted(void **state)
{
    (void)state;
    newer_cfg_t n;
    memset(&n, 0xA5, sizeof n);
    mqtls_client_cfg_init_sized(&n.known, sizeof n);
    assert_int_equal(n.known.struct_size, sizeof n);
    assert_int_equal(n.newer_field, 0); /* zeroed by init: "not used" */
    n.known.uri = "mqtt://127.0.0.1:1";
    mqtls_error_t err;
    assert_int_equal(create_with(&n.known, &err), MQTLS_OK);
}

static void test_abi_newer_caller_using_unknown_field_is_refused(void **state)
{
    (void)state;
    newer_cfg_t n;
    mqtls_client_cfg_init_sized(&n.known, sizeof n);
    n.known.uri = "mqtt://127.0.0.1:1";
    n.newer_field = 1;
    mqtls_error_t err;
    assert_int_equal(create_with(&n.known, &err), MQTLS_ERR_NOT_SUPPORTED);
    assert_int_equal(err.layer, MQTLS_LAYER_CONFIG);
    assert_non_null(strstr(err.detail, "newer"));
}

static void test_abi_uninitialised_cfg_is_refused(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg); /* struct_size 0: _init() was never called */
    cfg.uri = "mqtt://127.0.0.1:1";
    cfg.outbox_max_messages = 16;
    cfg.outbox_max_bytes = 4096;
    mqtls_error_t err;
    assert_int_equal(create_with(&cfg, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "mqtls_client_cfg_t not initialised"));

    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtts://127.0.0.1:1";
    mqtls_tls_cfg_t tls;
    memset(&tls, 0, sizeof tls);
    cfg.tls = &tls;
    assert_int_equal(create_with(&cfg, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "mqtls_tls_cfg_t not initialised"));
}

static void test_abi_tls_cfg_is_copied_at_create(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtts://127.0.0.1:1";
    mqtls_tls_cfg_t *tls = malloc(sizeof *tls);
    assert_non_null(tls);
    mqtls_tls_cfg_init(tls);
    tls->insecure = true; /* no CA needed to build the context */
    cfg.tls = tls;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    memset(tls, 0xFF, sizeof *tls); /* the caller reuses its struct: the client must not care */
    free(tls);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_IDLE);
    mqtls_client_destroy(c);
}

/* mqtls_tls_cfg_t's 1.1 fields are appended after the 1.0 layout, in the order they came:
 * TLS-PSK and the cipher list (rel, transports), then the engine (engines), then the
 * public-key pins and the PKCS#11 module (pkcs11). A 1.0 caller (its struct_size ends before
 * psk) still works: the 1.1 fields read as unset. */
static void test_abi_tls_cfg_1_1_fields_appended_in_order(void **state)
{
    (void)state;
    assert_true(offsetof(mqtls_tls_cfg_t, profile) < offsetof(mqtls_tls_cfg_t, psk));
    assert_true(offsetof(mqtls_tls_cfg_t, psk) < offsetof(mqtls_tls_cfg_t, psk_len));
    assert_true(offsetof(mqtls_tls_cfg_t, psk_len) < offsetof(mqtls_tls_cfg_t, psk_identity));
    assert_true(offsetof(mqtls_tls_cfg_t, psk_identity) < offsetof(mqtls_tls_cfg_t, ciphers));
    assert_true(offsetof(mqtls_tls_cfg_t, ciphers) < offsetof(mqtls_tls_cfg_t, engine));
    assert_true(offsetof(mqtls_tls_cfg_t, engine) < offsetof(mqtls_tls_cfg_t, pins));
    assert_true(offsetof(mqtls_tls_cfg_t, pins) < offsetof(mqtls_tls_cfg_t, pkcs11_module));
    /* 1.2: max_fragment_len, the last field */
    assert_true(offsetof(mqtls_tls_cfg_t, pkcs11_module) <
                offsetof(mqtls_tls_cfg_t, max_fragment_len));
    assert_true(offsetof(mqtls_tls_cfg_t, max_fragment_len) + sizeof(uint16_t) <=
                sizeof(mqtls_tls_cfg_t));
    assert_true(sizeof(mqtls_tls_cfg_t) - offsetof(mqtls_tls_cfg_t, max_fragment_len) <=
                sizeof(void *)); /* nothing after it but padding */

    mqtls_tls_cfg_t *tls = malloc(sizeof *tls);
    assert_non_null(tls);
    memset(tls, 0xA5, sizeof *tls); /* what a 1.0 caller never wrote */
    mqtls_tls_cfg_init_sized(tls, offsetof(mqtls_tls_cfg_t, psk));
    assert_int_equal(tls->struct_size, offsetof(mqtls_tls_cfg_t, psk));
    tls->insecure = true;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtts://127.0.0.1:1";
    cfg.tls = tls;
    mqtls_error_t err;
    assert_int_equal(create_with(&cfg, &err), MQTLS_OK);
    free(tls);
}

static void test_abi_opaque_results_accept_null(void **state)
{
    (void)state;
    assert_int_equal(mqtls_findings_count(NULL), 0);
    assert_null(mqtls_findings_get(NULL, 0));
    assert_string_equal(mqtls_finding_id(NULL), "");
    assert_int_equal(mqtls_tls_facts_flags(NULL), 0);
    assert_int_equal(mqtls_tls_facts_alert_received(NULL), -1);
    assert_int_equal(mqtls_tls_facts_max_fragment_len(NULL), 0);
    size_t len = 99;
    assert_null(mqtls_tls_facts_chain_cert(NULL, 0, &len, NULL));
    assert_int_equal(len, 0);
    assert_int_equal(mqtls_explain_cause_count(NULL), 0);
    mqtls_findings_destroy(NULL);
    mqtls_explain_destroy(NULL);
}

static void test_abi_findings_and_explain_through_accessors(void **state)
{
    (void)state;
    mqtls_explain_t *r = NULL;
    assert_int_equal(mqtls_explain_create(&r), MQTLS_OK);
    assert_int_equal(mqtls_explain_arg(r, "-0x2700"), MQTLS_OK);
    assert_int_equal(mqtls_explain_arg(r, "not-a-code-at-all"), MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(r);
    assert_true(mqtls_explain_recognised(r));
    assert_true(mqtls_explain_cause_count(r) > 0);
    const mqtls_explain_cause_t *c = mqtls_explain_cause(r, 0);
    assert_true(mqtls_finding_id_known(mqtls_explain_cause_id(c)));
    assert_true(strlen(mqtls_explain_cause_fix(c)) > 0);
    assert_null(mqtls_explain_cause(r, mqtls_explain_cause_count(r)));
    assert_int_equal(mqtls_explain_unparsed_count(r), 1);
    assert_string_equal(mqtls_explain_unparsed(r, 0), "not-a-code-at-all");
    mqtls_explain_destroy(r);

    /* Offline diagnosis of an empty CA file: one finding, read through the accessors. */
    mqtls_findings_t *f = NULL;
    assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = 1800000000;
    in.ca.display_name = "--cafile empty.crt";
    in.ca.data = (const uint8_t *)"";
    in.ca.len = 0;
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
    assert_true(mqtls_findings_count(f) > 0);
    const mqtls_finding_t *x = mqtls_findings_get(f, 0);
    assert_true(mqtls_finding_id_known(mqtls_finding_id(x)));
    assert_int_equal(mqtls_finding_severity(x), MQTLS_SEV_ERROR);
    assert_true(strlen(mqtls_finding_message(x)) > 0);
    mqtls_findings_clear(f);
    assert_int_equal(mqtls_findings_count(f), 0);
    mqtls_findings_destroy(f);
}

static void test_abi_uninitialised_diag_input_is_refused(void **state)
{
    (void)state;
    mqtls_findings_t *f = NULL;
    assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
    mqtls_diag_input_t in;
    memset(&in, 0, sizeof in);
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_ERR_INVALID_ARG);
    mqtls_findings_destroy(f);
    mqtls_pki_req_t req;
    memset(&req, 0, sizeof req);
    req.dir = "/nonexistent";
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&req, NULL, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "mqtls_pki_req_init"));
    mqtls_pki_fleet_req_t fleet;
    memset(&fleet, 0, sizeof fleet);
    fleet.dir = "/nonexistent";
    fleet.count = 1;
    assert_int_equal(mqtls_pki_issue_fleet(&fleet, NULL, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "mqtls_pki_fleet_req_init"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_version_matches_headers),
        cmocka_unit_test(test_abi_init_sets_struct_size_and_defaults),
        cmocka_unit_test(test_abi_newer_caller_with_unused_tail_is_accepted),
        cmocka_unit_test(test_abi_newer_caller_using_unknown_field_is_refused),
        cmocka_unit_test(test_abi_uninitialised_cfg_is_refused),
        cmocka_unit_test(test_abi_tls_cfg_is_copied_at_create),
        cmocka_unit_test(test_abi_tls_cfg_1_1_fields_appended_in_order),
        cmocka_unit_test(test_abi_opaque_results_accept_null),
        cmocka_unit_test(test_abi_findings_and_explain_through_accessors),
        cmocka_unit_test(test_abi_uninitialised_diag_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
