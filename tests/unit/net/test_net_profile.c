/* X.509 profiles of the TLS client (tls.h mqtls_tls_cfg_t.profile).
 *
 * src/x509/profile.c holds one row per profile: diag judges chains by the row, and the TLS
 * client gives mbedTLS the mbedtls_x509_crt_profile derived from the same row. This test checks
 * the derivation against the profiles the linked mbedTLS exports (the rows of its built-in
 * profiles must be those profiles, number for number), and cross-checks both judges by
 * behaviour, through the public diag API: for every profile and a matrix of generated
 * certificates (CA keys, leaf keys and signature hashes of every kind mbedTLS can use), mbedTLS
 * verifying with the derived profile flags BAD_MD exactly when mqtls_diag_run reports
 * weak-signature-hash, and BAD_KEY/BAD_PK exactly when it reports weak-key or
 * curve-not-allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/tls_facts.h"
#include "diag/findings.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"
#include "x509/profile.h"

#include "cert_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the mapping itself ------------------------------------------------------------------- */

static bool same_numbers(const mbedtls_x509_crt_profile *a, const mbedtls_x509_crt_profile *b)
{
    return a->allowed_mds == b->allowed_mds && a->allowed_pks == b->allowed_pks &&
           a->allowed_curves == b->allowed_curves && a->rsa_min_bitlen == b->rsa_min_bitlen;
}

/* The profile named @p name as mbedTLS numbers (fails the test for an unknown name). */
static mbedtls_x509_crt_profile by_name(const char *name)
{
    mbedtls_x509_crt_profile p;
    memset(&p, 0xA5, sizeof p);
    assert_true(mqtls__profile_mbedtls_by_name(name, &p));
    return p;
}

static void test_profile_builtin_rows_are_the_linked_profiles(void **state)
{
    (void)state;
    /* This test links 2.28: its default is the device profile esp-idf-4. ("mbedtls-default" is
     * the newest mbedTLS built in: tests/unit/mbedtls3 checks it against 3.6's own default.) */
    mbedtls_x509_crt_profile p = by_name("esp-idf-4");
    assert_true(same_numbers(&p, &mbedtls_x509_crt_profile_default));
    p = by_name("mbedtls-default");
    mbedtls_x509_crt_profile newest =
        by_name(mqtls_tls_engine_count() > 0 && strcmp(mqtls_tls_engine_default(), "mbedtls3") == 0
                    ? "esp-idf-5"
                    : "esp-idf-4");
    assert_true(same_numbers(&p, &newest));
    p = by_name(NULL);
    assert_true(same_numbers(&p, &newest));
    p = by_name("mbedtls-next");
    assert_true(same_numbers(&p, &mbedtls_x509_crt_profile_next));
    p = by_name("suiteb");
    assert_true(same_numbers(&p, &mbedtls_x509_crt_profile_suiteb));
    /* The 3.x default is "next" without secp256k1 (next has it in 2.28 and 3.x; the 3.x
     * default does not). */
    mbedtls_x509_crt_profile next_r1 = mbedtls_x509_crt_profile_next;
    next_r1.allowed_curves &= ~(uint32_t)MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256K1);
    assert_int_not_equal(next_r1.allowed_curves, mbedtls_x509_crt_profile_next.allowed_curves);
    p = by_name("mbedtls3-default");
    assert_true(same_numbers(&p, &next_r1));
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    /* Linked 2.28: the by-name 2.28 profile is the linked default, number for number. */
    p = by_name("mbedtls2-default");
    assert_true(same_numbers(&p, &mbedtls_x509_crt_profile_default));
#endif
}

/* Table: the numbers derived from the data rows. */
static void test_profile_data_profiles_table(void **state)
{
    (void)state;
#define MD(x) MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_##x)
#define CV(x) MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_##x)
    static const struct {
        const char *name;
        mbedtls_x509_crt_profile want;
    } table[] = {
        {"mbedtls2-default",
         {MD(SHA224) | MD(SHA256) | MD(SHA384) | MD(SHA512), 0x0FFFFFFF, 0x0FFFFFFF, 2048}},
        {"mbedtls3-default",
         {MD(SHA256) | MD(SHA384) | MD(SHA512), 0x0FFFFFFF,
          CV(SECP256R1) | CV(SECP384R1) | CV(SECP521R1) | CV(BP256R1) | CV(BP384R1) | CV(BP512R1),
          2048}},
        {"openssl-seclevel2",
         {MD(SHA224) | MD(SHA256) | MD(SHA384) | MD(SHA512), 0x0FFFFFFF,
          CV(SECP224R1) | CV(SECP224K1) | CV(SECP256R1) | CV(SECP256K1) | CV(BP256R1) |
              CV(SECP384R1) | CV(BP384R1) | CV(SECP521R1) | CV(BP512R1),
          2048}},
        {"suiteb",
         {MD(SHA256) | MD(SHA384),
          MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY),
          CV(SECP256R1) | CV(SECP384R1), 0}},
    };
#undef MD
#undef CV
    for (size_t i = 0; i < ARRAY_LEN(table); i++) {
        mbedtls_x509_crt_profile p = by_name(table[i].name);
        if (!same_numbers(&p, &table[i].want)) {
            fail_msg("profile %s: mds %08X pks %08X curves %08X rsa %u", table[i].name,
                     (unsigned)p.allowed_mds, (unsigned)p.allowed_pks, (unsigned)p.allowed_curves,
                     (unsigned)p.rsa_min_bitlen);
        }
    }
}

/* Every name the TLS client takes, diag knows, and the other way round. */
static void test_profile_names_agree_with_diag(void **state)
{
    (void)state;
    size_t n = mqtls__profile_count();
    assert_true(n >= 5);
    size_t aliases = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = mqtls__profile_name_at(i);
        assert_non_null(name);
        mqtls_profile_t p;
        assert_int_equal(mqtls_profile_from_name(name, &p), MQTLS_OK);
        /* an alias (mbedtls2-default) names the same profile as its device (esp-idf-4) */
        mqtls_profile_t q;
        assert_int_equal(mqtls_profile_from_name(mqtls_profile_name(p), &q), MQTLS_OK);
        assert_int_equal(p, q);
        aliases += strcmp(mqtls_profile_name(p), name) != 0 ? 1u : 0u;
    }
    assert_int_equal(aliases, 2); /* mbedtls2-default, mbedtls3-default */
    mqtls_profile_t dev;
    assert_int_equal(mqtls_profile_from_name("esp-idf-4", &dev), MQTLS_OK);
    assert_int_equal(dev, MQTLS_PROFILE_MBEDTLS2_DEFAULT);
    assert_int_equal(mqtls_profile_from_name("esp-idf-5", &dev), MQTLS_OK);
    assert_int_equal(dev, MQTLS_PROFILE_MBEDTLS3_DEFAULT);
    assert_null(mqtls__profile_name_at(n));
    n -= aliases;
    size_t diag_names = 0;
    for (int p = 0; p < 32; p++) {
        const char *name = mqtls_profile_name((mqtls_profile_t)p);
        if (strcmp(name, "unknown") == 0) {
            continue;
        }
        diag_names++;
        mbedtls_x509_crt_profile numbers;
        assert_true(mqtls__profile_mbedtls_by_name(name, &numbers));
    }
    assert_int_equal(diag_names, n);
    mbedtls_x509_crt_profile numbers;
    assert_false(mqtls__profile_mbedtls_by_name("suiteB", &numbers));
    assert_false(mqtls__profile_mbedtls_by_name("", &numbers));
}

static void test_profile_unknown_name_is_invalid_arg_with_detail(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = {.enabled = true, .insecure = true, .profile = "seclevel9"};
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__tls_ctx_t *ctx = NULL;
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_ERR_INVALID_ARG);
    assert_null(ctx);
    assert_int_equal(err.status, MQTLS_ERR_INVALID_ARG);
    assert_int_equal(err.layer, MQTLS_LAYER_CONFIG);
    assert_non_null(strstr(err.detail, "'seclevel9'"));
    assert_non_null(strstr(err.detail, "suiteb"));
    print_message("detail: %s\n", err.detail);
    /* Every known name sets up. */
    for (size_t i = 0; i < mqtls__profile_count(); i++) {
        cfg.profile = mqtls__profile_name_at(i);
        mqtls_error_init(&err);
        assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
        mqtls__tls_ctx_destroy(ctx);
        ctx = NULL;
    }
}

/* ---- behavioural cross-check with diag ------------------------------------------------------ */

typedef struct {
    const char *label;
    mbedtls_pk_type_t type;
    mbedtls_ecp_group_id curve; /* EC */
    unsigned bits;              /* RSA */
} keyspec_t;

static const keyspec_t keys[] = {
    {"P-192", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP192R1, 0},
    {"P-224", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP224R1, 0},
    {"P-256", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP256R1, 0},
    {"P-384", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP384R1, 0},
    {"P-521", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP521R1, 0},
    {"secp192k1", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP192K1, 0},
    {"secp256k1", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_SECP256K1, 0},
    {"brainpoolP256r1", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_BP256R1, 0},
    {"brainpoolP512r1", MBEDTLS_PK_ECKEY, MBEDTLS_ECP_DP_BP512R1, 0},
    {"RSA-1024", MBEDTLS_PK_RSA, MBEDTLS_ECP_DP_NONE, 1024},
    {"RSA-2048", MBEDTLS_PK_RSA, MBEDTLS_ECP_DP_NONE, 2048},
};
#define P256 2 /* index of P-256 in keys[] */

static const struct {
    const char *label;
    mbedtls_md_type_t md;
} hashes[] = {
    {"SHA-1", MBEDTLS_MD_SHA1},     {"SHA-224", MBEDTLS_MD_SHA224}, {"SHA-256", MBEDTLS_MD_SHA256},
    {"SHA-384", MBEDTLS_MD_SHA384}, {"SHA-512", MBEDTLS_MD_SHA512},
};

typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context pk[ARRAY_LEN(keys)];
} world_t;

static world_t world;

static int world_setup(void **state)
{
    (void)state;
    mbedtls_entropy_init(&world.entropy);
    mbedtls_ctr_drbg_init(&world.drbg);
    if (mbedtls_ctr_drbg_seed(&world.drbg, mbedtls_entropy_func, &world.entropy,
                              (const unsigned char *)"profile", 7) != 0) {
        return -1;
    }
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        mbedtls_pk_init(&world.pk[i]);
        if (mbedtls_pk_setup(&world.pk[i], mbedtls_pk_info_from_type(keys[i].type)) != 0) {
            return -1;
        }
        int ret = keys[i].type == MBEDTLS_PK_RSA
                      ? mbedtls_rsa_gen_key(mbedtls_pk_rsa(world.pk[i]), mbedtls_ctr_drbg_random,
                                            &world.drbg, keys[i].bits, 65537)
                      : mbedtls_ecp_gen_key(keys[i].curve, mbedtls_pk_ec(world.pk[i]),
                                            mbedtls_ctr_drbg_random, &world.drbg);
        if (ret != 0) {
            fprintf(stderr, "keygen %s: -0x%04X\n", keys[i].label, (unsigned)-ret);
            return -1;
        }
    }
    return 0;
}

static int world_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        mbedtls_pk_free(&world.pk[i]);
    }
    mbedtls_ctr_drbg_free(&world.drbg);
    mbedtls_entropy_free(&world.entropy);
    return 0;
}

/* A certificate for @p subject signed by @p issuer with @p md, as PEM (NUL-terminated). */
static void make_cert(mbedtls_pk_context *subject, const char *subject_name,
                      mbedtls_pk_context *issuer, const char *issuer_name, mbedtls_md_type_t md,
                      bool is_ca, int serial_no, unsigned char *pem, size_t cap)
{
    const tu_cert_spec_t spec = {.subject_key = subject,
                                 .subject = subject_name,
                                 .issuer_key = issuer,
                                 .issuer = issuer_name,
                                 .md = md,
                                 .is_ca = is_ca,
                                 .serial = serial_no};
    tu_make_cert(&spec, &world.drbg, pem, cap);
}

typedef struct {
    bool bad_md;   /* mbedTLS, net profile: BAD_MD */
    bool bad_key;  /* mbedTLS, net profile: BAD_KEY or BAD_PK */
    bool diag_md;  /* diag: weak-signature-hash */
    bool diag_key; /* diag: weak-key or curve-not-allowed */
} verdict_t;

static bool has_finding(const mqtls_findings_t *f, const char *id)
{
    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->items[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* Leaf (key @p leaf_i, signed with @p md by a CA with key @p ca_i) judged both ways. */
static verdict_t judge(const char *profile_name, size_t ca_i, size_t leaf_i, mbedtls_md_type_t md)
{
    static unsigned char ca_pem[8192];
    static unsigned char leaf_pem[8192];
    make_cert(&world.pk[ca_i], "CN=profile test CA", &world.pk[ca_i], "CN=profile test CA",
              MBEDTLS_MD_SHA256, true, 1, ca_pem, sizeof ca_pem);
    make_cert(&world.pk[leaf_i], "CN=localhost", &world.pk[ca_i], "CN=profile test CA", md, false,
              2, leaf_pem, sizeof leaf_pem);
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    assert_int_equal(mbedtls_x509_crt_parse(&ca, ca_pem, strlen((char *)ca_pem) + 1), 0);
    assert_int_equal(mbedtls_x509_crt_parse(&leaf, leaf_pem, strlen((char *)leaf_pem) + 1), 0);

    verdict_t v = {false, false, false, false};
    mbedtls_x509_crt_profile prof = by_name(profile_name);
    uint32_t flags = 0;
    int ret =
        mbedtls_x509_crt_verify_with_profile(&leaf, &ca, NULL, &prof, NULL, &flags, NULL, NULL);
    /* Nothing else may be wrong with these certificates. */
    assert_int_equal(flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                                         MBEDTLS_X509_BADCERT_BAD_KEY),
                     0);
    assert_true((ret == 0) == (flags == 0));
    v.bad_md = (flags & MBEDTLS_X509_BADCERT_BAD_MD) != 0;
    v.bad_key = (flags & (MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY)) != 0;

    /* diag, through the public API, as `mqtls doctor --profile` runs it after a handshake. */
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    assert_int_equal(mqtls_profile_from_name(profile_name, &in.profile), MQTLS_OK);
    in.now_s = (int64_t)time(NULL);
    in.host = "localhost";
    in.port = 8883;
    in.ca.display_name = "ca.pem";
    in.ca.data = ca_pem;
    in.ca.len = strlen((char *)ca_pem) + 1;
    mqtls_tls_facts_t facts;
    mqtls__tls_facts_init(&facts);
    facts.server_hello_seen = true;
    facts.presented[0].der = leaf.raw.p; /* borrowed: facts are not freed */
    facts.presented[0].der_len = leaf.raw.len;
    facts.presented_len = 1;
    in.facts = &facts;
    static mqtls_findings_t out;
    mqtls__findings_init(&out);
    assert_int_equal(mqtls_diag_run(&in, &out), MQTLS_OK);
    v.diag_md = has_finding(&out, "weak-signature-hash");
    v.diag_key = has_finding(&out, "weak-key") || has_finding(&out, "curve-not-allowed");
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    return v;
}

static unsigned check(const char *profile_name, const char *what, verdict_t v, unsigned *rejected)
{
    if (v.bad_md || v.bad_key) {
        (*rejected)++;
    }
    bool agree = v.bad_md == v.diag_md && v.bad_key == v.diag_key;
    if (agree) {
        return 0;
    }
    print_error("%s, %s: net (mbedTLS) BAD_MD %d BAD_KEY/PK %d, diag hash %d key %d\n",
                profile_name, what, v.bad_md, v.bad_key, v.diag_md, v.diag_key);
    return 1;
}

static void test_profile_net_and_diag_agree_on_every_key_and_hash(void **state)
{
    (void)state;
    unsigned mismatches = 0;
    for (size_t p = 0; p < mqtls__profile_count(); p++) {
        const char *name = mqtls__profile_name_at(p);
        unsigned rejected = 0;
        char what[64];
        for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
            (void)snprintf(what, sizeof what, "CA key %s", keys[k].label);
            mismatches += check(name, what, judge(name, k, P256, MBEDTLS_MD_SHA256), &rejected);
            (void)snprintf(what, sizeof what, "leaf key %s", keys[k].label);
            mismatches += check(name, what, judge(name, P256, k, MBEDTLS_MD_SHA256), &rejected);
        }
        for (size_t h = 0; h < ARRAY_LEN(hashes); h++) {
            (void)snprintf(what, sizeof what, "signed with %s", hashes[h].label);
            mismatches += check(name, what, judge(name, P256, P256, hashes[h].md), &rejected);
        }
        print_message("%-18s rejects %2u of %zu cases\n", name, rejected,
                      2 * ARRAY_LEN(keys) + ARRAY_LEN(hashes));
        /* Every profile rejects at least RSA-1024 (CA and leaf) and SHA-1. */
        assert_true(rejected >= 3);
    }
    assert_int_equal(mismatches, 0);

    /* The distinguishing cases, so that a profile silently mapped to another one fails. */
    verdict_t v = judge("suiteb", 10, P256, MBEDTLS_MD_SHA256); /* RSA-2048 CA */
    assert_true(v.bad_key);
    v = judge("mbedtls-default", 10, P256, MBEDTLS_MD_SHA256);
    assert_false(v.bad_key);
    v = judge("openssl-seclevel2", 0, P256, MBEDTLS_MD_SHA256); /* P-192 CA */
    assert_true(v.bad_key);
    v = judge("mbedtls2-default", 0, P256, MBEDTLS_MD_SHA256);
    assert_false(v.bad_key);
    v = judge("openssl-seclevel2", 1, P256, MBEDTLS_MD_SHA256); /* P-224 CA */
    assert_false(v.bad_key);
    v = judge("mbedtls3-default", 1, P256, MBEDTLS_MD_SHA256);
    assert_true(v.bad_key);
    v = judge("mbedtls3-default", P256, P256, MBEDTLS_MD_SHA224);
    assert_true(v.bad_md);
    v = judge("openssl-seclevel2", P256, P256, MBEDTLS_MD_SHA224);
    assert_false(v.bad_md);
    v = judge("suiteb", P256, P256, MBEDTLS_MD_SHA512);
    assert_true(v.bad_md);
    v = judge("mbedtls-next", 6, P256, MBEDTLS_MD_SHA256); /* secp256k1 CA: next accepts it */
    assert_false(v.bad_key);
    v = judge("mbedtls3-default", 6, P256, MBEDTLS_MD_SHA256); /* the 3.x default does not */
    assert_true(v.bad_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_builtin_rows_are_the_linked_profiles),
        cmocka_unit_test(test_profile_data_profiles_table),
        cmocka_unit_test(test_profile_names_agree_with_diag),
        cmocka_unit_test(test_profile_unknown_name_is_invalid_arg_with_detail),
        cmocka_unit_test(test_profile_net_and_diag_agree_on_every_key_and_hash),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
