/* The TLS client's X.509 profile (tls.h mqtls_tls_cfg_t.profile) against a real mosquitto on
 * 127.0.0.1: a server chain that a looser profile accepts fails the handshake with
 * MQTLS_ERR_TLS_VERIFY under a stricter one, with the flag mbedTLS gives for it. And the
 * devices: chains that mbedTLS 2.28 (esp-idf-4) and 3.6 (esp-idf-5) judge differently get the
 * verdict of the mbedTLS the profile names whatever engine connects (runs once per engine;
 * facts->judge says when another engine's mbedTLS judged). Chains: the harness PKI (ECDSA
 * P-256, and the RSA-1024 "weak" CA) plus make-profile-pki.sh (an RSA-2048 chain, a P-192 CA,
 * a secp256k1 CA, a SHA-224 signature), served on extra listeners. Every wait has a deadline. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/tls_facts.h"

#include "mbedtls/version.h"
#include "mbedtls/x509.h"

#include "drive.h"
#include "engine.h"
#include "harness.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"

static th_pki_t pki;
static th_broker_t broker;
static char pdir[TH_PATH_MAX];
static uint16_t port_rsa;    /* RSA-2048 CA -> RSA-2048 server */
static uint16_t port_p192;   /* P-192 CA -> P-256 server */
static uint16_t port_k256;   /* secp256k1 CA -> P-256 server */
static uint16_t port_sha224; /* RSA-2048 CA -> RSA-2048 server signed with SHA-224 */

static const char *const all_profiles[] = {"mbedtls-default",  "esp-idf-4",        "esp-idf-5",
                                           "mbedtls2-default", "mbedtls3-default", "mbedtls-next",
                                           "suiteb",           "openssl-seclevel2"};
#define N_PROFILES (sizeof all_profiles / sizeof all_profiles[0])

static const char *ppath(const char *name)
{
    static char buf[16][TH_PATH_MAX + 64]; /* setup() names 10 files in one call */
    static int next;
    char *p = buf[next++ % 16];
    (void)snprintf(p, TH_PATH_MAX + 64, "%s/%s", pdir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    if (th_pki_make(&pki) != 0) {
        return -1;
    }
    (void)snprintf(pdir, sizeof pdir, "%.400s/profile", pki.dir); /* removed with pki.dir */
    char cmd[2 * TH_PATH_MAX + 64];
    (void)snprintf(cmd, sizeof cmd, "bash '%s/tests/integration/net/make-profile-pki.sh' '%s'",
                   th_source_dir(), pdir);
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "make-profile-pki.sh failed\n");
        return -1;
    }
    port_rsa = th_free_port();
    do {
        port_p192 = th_free_port();
        port_k256 = th_free_port();
        port_sha224 = th_free_port();
    } while (port_p192 == port_rsa || port_k256 == port_rsa || port_k256 == port_p192 ||
             port_sha224 == port_rsa || port_sha224 == port_p192 || port_sha224 == port_k256);
    /* The P-192 listener's cafile is the harness CA, so OpenSSL cannot build (and send) the
     * P-192 CA: at its security level 2 it would refuse to. The client holds that CA. */
    char extra[8192];
    (void)snprintf(extra, sizeof extra,
                   "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                   "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                   "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                   "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n",
                   (unsigned)port_rsa, ppath("rsa-ca.crt"), ppath("rsa-server.crt"),
                   ppath("rsa-server.key"), (unsigned)port_p192, pki.ca_crt,
                   ppath("p192-server.crt"), ppath("p192-server.key"), (unsigned)port_k256,
                   pki.ca_crt, ppath("k256-server.crt"), ppath("k256-server.key"),
                   (unsigned)port_sha224, ppath("rsa-ca.crt"), ppath("sha224-server.crt"),
                   ppath("sha224-server.key"));
    if (th_broker_start(&broker, &pki, extra) != 0) {
        return -1;
    }
    if (th_wait_port(port_rsa, 10000) != 0 || th_wait_port(port_p192, 10000) != 0 ||
        th_wait_port(port_k256, 10000) != 0 || th_wait_port(port_sha224, 10000) != 0) {
        fprintf(stderr, "extra listeners did not open (log: %s)\n", broker.log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    return 0;
}

typedef struct {
    mqtls_status_t st;
    mqtls_error_t err;
    uint32_t depth0_flags;
    size_t chain_len;
    const char *judge; /* facts->judge: whose mbedTLS judged, NULL: the engine's own */
} result_t;

/* One full handshake to 127.0.0.1:@p port trusting @p ca under @p profile. */
static result_t handshake(const char *ca, uint16_t port, const char *profile)
{
    result_t r;
    memset(&r, 0, sizeof r);
    mqtls_error_init(&r.err);
    mqtls_tls_cfg_t cfg = {
        .enabled = true, .ca_file = ca, .profile = profile, .no_session_resumption = true};
    mqtls__tls_ctx_t *ctx = NULL;
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &r.err, &ctx), MQTLS_OK);
    mqtls_transport_t *tcp = NULL;
    mqtls_transport_t *t = NULL;
    mqtls_tls_facts_t facts;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", port, 5000, &r.err, &tcp), MQTLS_OK);
    assert_int_equal(mqtls__tls_create(ctx, tcp, "127.0.0.1", &facts, &r.err, &t), MQTLS_OK);
    int64_t deadline = th_now_ms() + 10000;
    r.st = MQTLS_ERR_TIMEOUT;
    for (int i = 0; i < 10000 && th_now_ms() < deadline; i++) {
        mqtls_status_t st = t->ops->connect(t, th_now_ms());
        if (st != MQTLS_ERR_WOULD_BLOCK) {
            r.st = st;
            break;
        }
        th_wait_for(t, deadline);
    }
    r.depth0_flags = r.err.depth_flags[0];
    r.chain_len = facts.chain_len;
    r.judge = facts.judge;
    t->ops->destroy(t);
    mqtls__tls_facts_free(&facts);
    mqtls__tls_ctx_destroy(ctx);
    return r;
}

static const uint32_t profile_flags =
    MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY;

static void expect_ok(const char *ca, uint16_t port, const char *profile)
{
    result_t r = handshake(ca, port, profile);
    if (r.st != MQTLS_OK) {
        fail_msg("profile %s, port %u: %s (flags 0x%X, %s)", profile, (unsigned)port,
                 mqtls_status_name(r.st), (unsigned)r.err.verify_flags, r.err.detail);
    }
}

/* Fails verification, for a profile reason only, and with @p want_flag among the flags. */
static void expect_verify(const char *ca, uint16_t port, const char *profile, uint32_t want_flag)
{
    result_t r = handshake(ca, port, profile);
    print_message("  %-17s port %u: %s, verify flags 0x%02X\n", profile, (unsigned)port,
                  mqtls_status_name(r.st), (unsigned)r.err.verify_flags);
    assert_int_equal(r.st, MQTLS_ERR_TLS_VERIFY);
    assert_int_equal(r.err.layer, MQTLS_LAYER_TLS);
    assert_int_equal(r.err.mbedtls_ret, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    assert_true((r.err.verify_flags & want_flag) != 0);
    assert_int_equal(r.err.verify_flags & ~profile_flags, 0); /* nothing but the profile */
}

/* The harness's good chain (ECDSA P-256, SHA-256) is inside every profile, suiteb included. */
static void test_ecdsa_p256_chain_passes_every_profile(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_PROFILES; i++) {
        expect_ok(pki.ca_crt, broker.port_tls, all_profiles[i]);
    }
    expect_ok(pki.ca_crt, broker.port_tls, NULL); /* NULL = the default profile */
}

/* RSA-2048 chain: fine for every default and OpenSSL level 2; suiteb allows ECDSA only. */
static void test_rsa_chain_passes_default_fails_suiteb(void **state)
{
    (void)state;
    const char *ca = ppath("rsa-ca.crt");
    expect_ok(ca, port_rsa, NULL);
    expect_ok(ca, port_rsa, "mbedtls-default");
    expect_ok(ca, port_rsa, "esp-idf-4");
    expect_ok(ca, port_rsa, "esp-idf-5");
    expect_ok(ca, port_rsa, "mbedtls3-default");
    expect_ok(ca, port_rsa, "mbedtls-next");
    expect_ok(ca, port_rsa, "openssl-seclevel2");
    result_t r = handshake(ca, port_rsa, "suiteb");
    assert_int_equal(r.st, MQTLS_ERR_TLS_VERIFY);
    /* The leaf: an RSA key and an RSA signature, neither of them ECDSA. */
    assert_true(r.depth0_flags & MBEDTLS_X509_BADCERT_BAD_PK);
    expect_verify(ca, port_rsa, "suiteb", MBEDTLS_X509_BADCERT_BAD_PK);
}

/* P-192 CA: mbedTLS 2.28's default takes any curve; OpenSSL level 2 wants >= 224 bits and
 * the 3.6 default >= 128-bit security. mbedTLS flags the CA's key on the child it signed. */
static void test_p192_ca_passes_esp_idf_4_fails_seclevel2(void **state)
{
    (void)state;
    const char *ca = ppath("p192-ca.crt");
    expect_ok(ca, port_p192, "esp-idf-4");
    expect_ok(ca, port_p192, "mbedtls2-default");
    /* The default profile is the newest mbedTLS's: 3.6's, no looser than OpenSSL level 2. */
    expect_verify(ca, port_p192, NULL, MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_verify(ca, port_p192, "mbedtls-default", MBEDTLS_X509_BADCERT_BAD_KEY);
    result_t r = handshake(ca, port_p192, "openssl-seclevel2");
    assert_int_equal(r.st, MQTLS_ERR_TLS_VERIFY);
    assert_true(r.depth0_flags & MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_verify(ca, port_p192, "openssl-seclevel2", MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_verify(ca, port_p192, "esp-idf-5", MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_verify(ca, port_p192, "mbedtls-next", MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_verify(ca, port_p192, "suiteb", MBEDTLS_X509_BADCERT_BAD_KEY);
}

/* The engine whose mbedTLS judges a device profile named explicitly: none (the engine's own
 * verdict) when the engine is that mbedTLS, else that mbedTLS (mqtls_tls_facts_judge()). */
static const char *expected_judge(const char *profile)
{
    const char *dev = strcmp(profile, "esp-idf-4") == 0 ? "mbedtls2" : "mbedtls3";
    bool built = false; /* -DMQTLS_WITH_MBEDTLS3=OFF: no 3.6 to judge with */
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        built = built || strcmp(mqtls_tls_engine_name(i), dev) == 0;
    }
    return test_engine_is(dev) || !built ? NULL : dev;
}

/* Chains mbedTLS 2.28 and 3.6 judge differently, each by its real code whatever engine
 * connects: ESP-IDF 4 accepts them, ESP-IDF 5 refuses them with the flag its mbedTLS sets. */
static void test_device_profiles_judge_alike_on_every_engine(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *ca;
        const uint16_t *port;
        uint32_t idf5_flag;
    } chains[] = {
        {"P-192 CA", "p192-ca.crt", &port_p192, MBEDTLS_X509_BADCERT_BAD_KEY},
        {"secp256k1 CA", "k256-ca.crt", &port_k256, MBEDTLS_X509_BADCERT_BAD_KEY},
        {"SHA-224 signature", "rsa-ca.crt", &port_sha224, MBEDTLS_X509_BADCERT_BAD_MD},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        const char *ca = ppath(chains[i].ca);
        uint16_t port = *chains[i].port;
        result_t r = handshake(ca, port, "esp-idf-4");
        print_message("  %-8s %-17s esp-idf-4: %s (judge %s)\n", test_engine(), chains[i].what,
                      mqtls_status_name(r.st), r.judge != NULL ? r.judge : "-");
        if (r.st != MQTLS_OK) {
            fail_msg("%s, esp-idf-4: %s (%s)", chains[i].what, mqtls_status_name(r.st),
                     r.err.detail);
        }
        assert_true(r.chain_len >= 2);
        const char *want = expected_judge("esp-idf-4");
        assert_true(want == NULL ? r.judge == NULL : r.judge != NULL && !strcmp(r.judge, want));
        r = handshake(ca, port, "esp-idf-5");
        print_message("  %-8s %-17s esp-idf-5: %s flags 0x%X (judge %s)\n", test_engine(),
                      chains[i].what, mqtls_status_name(r.st), (unsigned)r.err.verify_flags,
                      r.judge != NULL ? r.judge : "-");
        assert_int_equal(r.st, MQTLS_ERR_TLS_VERIFY);
        assert_int_equal(r.err.verify_flags, chains[i].idf5_flag);
        assert_int_equal(r.depth0_flags, chains[i].idf5_flag); /* set on the leaf */
        want = expected_judge("esp-idf-5");
        assert_true(want == NULL ? r.judge == NULL : r.judge != NULL && !strcmp(r.judge, want));
        /* mbedtls-next keeps secp256k1 (and refuses SHA-224, P-192) in 2.28 and 3.6 alike */
        if (chains[i].port == &port_k256) {
            expect_ok(ca, port, "mbedtls-next");
        }
    }
}

/* The harness's RSA-1024 CA is below every profile (RSA >= 2048; suiteb: no RSA at all). */
static void test_weak_rsa1024_ca_fails_every_profile(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_PROFILES; i++) {
        expect_verify(pki.weak_ca_crt, broker.port_weak, all_profiles[i],
                      MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_BAD_PK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_p256_chain_passes_every_profile),
        cmocka_unit_test(test_rsa_chain_passes_default_fails_suiteb),
        cmocka_unit_test(test_p192_ca_passes_esp_idf_4_fails_seclevel2),
        cmocka_unit_test(test_device_profiles_judge_alike_on_every_engine),
        cmocka_unit_test(test_weak_rsa1024_ca_fails_every_profile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
