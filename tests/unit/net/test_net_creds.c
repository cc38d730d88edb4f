/* Credential loading (mqtls__tls_ctx_create): every input form and every failure maps to its
 * own status. Fixtures are generated with openssl into a fresh temp dir. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls_facts.h"

#include "mqtls/error.h"
#include "mqtls/file.h"
#include "mqtls/tls.h"
#include "net/net.h"

#include "engine.h"

static char dir[256];

static const char *path(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    (void)snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static int make_fixtures(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof dir, "/tmp/mqtls-creds-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    char cmd[4096];
    (void)snprintf(
        cmd, sizeof cmd,
        "set -e; cd '%s'; exec 2>/dev/null;"
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key;"
        "openssl req -new -x509 -key ca.key -out ca.crt -days 30 -subj /CN=creds-ca"
        "  -addext basicConstraints=critical,CA:TRUE;"
        "openssl x509 -in ca.crt -outform DER -out ca.der;"
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key;"
        "openssl req -new -key client.key -out client.csr -subj /CN=creds-client;"
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
        "  -out client.crt -days 30;"
        "openssl x509 -in client.crt -outform DER -out client.der;"
        "openssl pkey -in client.key -outform DER -out client.key.der;"
        "openssl ec -in client.key -aes-128-cbc -passout pass:secret -out client.enc.key;"
        "openssl pkcs8 -topk8 -in client.key -v2 des3 -v2prf hmacWithSHA1 -passout pass:secret"
        "  -out client.p8des3.key;"
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key;"
        "openssl genpkey -algorithm ED25519 -out ed25519.key;"
        "cat client.crt ca.crt > chain.pem;"
        ": > empty.pem; printf '\\n\\n' > blank.pem;"
        "printf 'this is not a certificate\\n' > garbage.pem;"
        "printf -- '-----BEGIN CERTIFICATE-----\\nnot base64!!\\n-----END CERTIFICATE-----\\n'"
        "  > badpem.pem;"
        "mkdir cadir; cp ca.crt cadir/;"
        "mkfifo fifo.pem; truncate -s 2M huge.pem;"
        "mkdir fifodir; cp ca.crt fifodir/; mkfifo fifodir/pipe.pem; mkdir fifodir/sub;"
        "mkdir hugedir; cp ca.crt hugedir/; truncate -s 2M hugedir/huge.pem;"
        /* a P-256 key whose DER form ends in a 0x00 byte (about one key in 256) */
        "printf -- '-----BEGIN PRIVATE KEY-----\\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBGKdOx0ENasi1rtL\\n"
        "RRuN+Ljqc6eEaY2HbO+Cq6OuBmyhRANCAATNT5UX5B7hr5rdC4EghILPd1etzqga\\n"
        "7DopzT/IrJe8sKpkRWrEY94cx+N2SgjjoABD6p4pNE03Gn/6kunk2kcA\\n"
        "-----END PRIVATE KEY-----\\n' > nul-end.key;"
        "openssl pkey -in nul-end.key -outform DER -out nul-end.key.der;"
        "openssl req -new -x509 -key nul-end.key -out nul-end.crt -days 30 -subj /CN=nul-end",
        dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_fixtures(void **state)
{
    (void)state;
    char cmd[512];
    (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static uint8_t *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path(name), "rb");
    assert_non_null(f);
    static uint8_t buf[8][16384];
    static int next;
    uint8_t *b = buf[next++ % 8];
    *len = fread(b, 1, sizeof buf[0], f);
    (void)fclose(f);
    return b;
}

/* Create a context from @p cfg; returns the status, frees the context. */
static mqtls_status_t load(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err)
{
    mqtls__tls_ctx_t *ctx = NULL;
    mqtls_error_init(err);
    mqtls_status_t st = mqtls__tls_ctx_create(cfg, err, &ctx);
    if (st == MQTLS_OK) {
        assert_non_null(ctx);
        assert_int_equal(err->status, MQTLS_OK);
    } else {
        assert_null(ctx);
        assert_int_equal(err->status, st);
    }
    mqtls__tls_ctx_destroy(ctx);
    return st;
}

static mqtls_tls_cfg_t mtls_files(const char *cert, const char *key)
{
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = path("ca.crt")};
    cfg.cert_file = cert != NULL ? path(cert) : NULL;
    cfg.key_file = key != NULL ? path(key) : NULL;
    return cfg;
}

static void test_creds_pem_files_load(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.key");
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

static void test_creds_der_files_load(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.der", "client.key.der");
    cfg.ca_file = path("ca.der");
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

/* A DER key whose last byte is 0x00 is whole: only a PEM buffer's NUL is not part of it (the
 * openssl engine cut that byte from every key, so one random key in 256 failed to load). */
static void test_creds_der_key_ending_in_zero_loads(void **state)
{
    (void)state;
    mqtls_error_t err;
    size_t len = 0;
    const uint8_t *der = slurp("nul-end.key.der", &len);
    assert_true(len > 0 && der[len - 1] == 0x00);
    mqtls_tls_cfg_t cfg = mtls_files("nul-end.crt", "nul-end.key.der");
    cfg.ca_file = path("ca.der");
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

static void test_creds_chain_file_loads(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("chain.pem", "client.key");
    cfg.ca_file = path("chain.pem"); /* a CA file with two certificates */
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

static void test_creds_ca_dir_loads(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_path = path("cadir")};
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    cfg.ca_path = path("no-such-dir");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_UNREADABLE);
    assert_int_equal(err.sys_errno, ENOENT);
}

static void test_creds_pem_buffers_with_and_without_nul_load(void **state)
{
    (void)state;
    mqtls_error_t err;
    size_t ca_len, cert_len, key_len;
    const uint8_t *ca = slurp("ca.crt", &ca_len);
    const uint8_t *cert = slurp("client.crt", &cert_len);
    const uint8_t *key = slurp("client.key", &key_len);
    /* without the NUL */
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_buf = ca,
                           .ca_len = ca_len,
                           .cert_buf = cert,
                           .cert_len = cert_len,
                           .key_buf = key,
                           .key_len = key_len};
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    /* with the NUL counted (mbedTLS convention) */
    uint8_t ca_nul[16384], cert_nul[16384], key_nul[16384];
    memcpy(ca_nul, ca, ca_len);
    ca_nul[ca_len] = 0;
    memcpy(cert_nul, cert, cert_len);
    cert_nul[cert_len] = 0;
    memcpy(key_nul, key, key_len);
    key_nul[key_len] = 0;
    cfg.ca_buf = ca_nul;
    cfg.ca_len = ca_len + 1;
    cfg.cert_buf = cert_nul;
    cfg.cert_len = cert_len + 1;
    cfg.key_buf = key_nul;
    cfg.key_len = key_len + 1;
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

static void test_creds_der_buffers_load(void **state)
{
    (void)state;
    mqtls_error_t err;
    size_t ca_len, cert_len, key_len;
    const uint8_t *ca = slurp("ca.der", &ca_len);
    const uint8_t *cert = slurp("client.der", &cert_len);
    const uint8_t *key = slurp("client.key.der", &key_len);
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_buf = ca,
                           .ca_len = ca_len,
                           .cert_buf = cert,
                           .cert_len = cert_len,
                           .key_buf = key,
                           .key_len = key_len};
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
}

static void test_creds_encrypted_key_right_password_loads(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.enc.key");
    cfg.key_password = "secret";
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    cfg.key_file = path("client.p8des3.key"); /* PKCS#8 PBES2 with 3DES */
    /* mbedTLS 3.6 built as ESP-IDF 5 is (no DES): such a key cannot be loaded on the device
     * either, and says so. */
    assert_int_equal(load(&cfg, &err),
                     test_engine_is("mbedtls3") ? MQTLS_ERR_KEY_UNSUPPORTED : MQTLS_OK);
}

static void test_creds_encrypted_key_wrong_password_fails(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.enc.key");
    cfg.key_password = "wrong";
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_PASSWORD_WRONG);
    assert_true(!test_engine_is_mbedtls() || err.mbedtls_ret != 0);
    assert_null(strstr(err.detail, "wrong\"")); /* the password is never copied */
    cfg.key_file = path("client.p8des3.key");
    assert_int_equal(load(&cfg, &err), test_engine_is("mbedtls3") ? MQTLS_ERR_KEY_UNSUPPORTED
                                                                  : MQTLS_ERR_KEY_PASSWORD_WRONG);
}

static void test_creds_encrypted_key_no_password_fails(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.enc.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_PASSWORD_REQUIRED);
    assert_non_null(strstr(err.detail, "client.enc.key"));
}

static void test_creds_mismatched_key_fails(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "other.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_MISMATCH);
    assert_int_equal(err.layer, MQTLS_LAYER_CONFIG);
}

static void test_creds_unsupported_key_type_fails(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "ed25519.key");
    /* mbedTLS 2.28 and 3.6 have no Ed25519: the OID is an unknown public-key algorithm. OpenSSL
     * loads it (the key does not match the certificate); named as a device, mbedTLS 3.6 also
     * parses the credentials and refuses it as the device would. */
    assert_int_equal(load(&cfg, &err),
                     test_engine_is_mbedtls() ? MQTLS_ERR_KEY_UNSUPPORTED : MQTLS_ERR_KEY_MISMATCH);
    cfg.profile = "esp-idf-5";
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_UNSUPPORTED);
    cfg.profile = "esp-idf-4";
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_UNSUPPORTED);
}

static void test_creds_empty_file_fails(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.key");
    cfg.ca_file = path("empty.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_EMPTY);
    assert_non_null(strstr(err.detail, "empty.pem"));
    cfg.ca_file = path("blank.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_EMPTY);
    cfg = mtls_files("client.crt", "empty.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_EMPTY);
    static const uint8_t nothing[1] = {0};
    cfg = (mqtls_tls_cfg_t){.enabled = true, .ca_buf = nothing, .ca_len = 0};
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_EMPTY);
}

static void test_creds_missing_file_fails_with_errno_and_name(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("no-such.crt", "client.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_UNREADABLE);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.detail, "no-such.crt"));
    cfg.ca_file = path("cadir"); /* a directory is not a file */
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    assert_int_equal(err.sys_errno, EISDIR);
    assert_non_null(strstr(err.detail, "a directory"));
}

static void test_creds_garbage_fails_per_kind(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.key");
    cfg.ca_file = path("garbage.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_CA_PARSE);
    cfg.ca_file = path("badpem.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_CA_PARSE);
    assert_true(!test_engine_is_mbedtls() || err.mbedtls_ret != 0);
    cfg = mtls_files("garbage.pem", "client.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_CERT_PARSE);
    cfg = mtls_files("client.crt", "garbage.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_PARSE);
    cfg = mtls_files("client.key", "client.key"); /* a key where the certificate goes */
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_CERT_PARSE);
}

static void test_creds_cert_without_key_is_invalid(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", NULL);
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "without its private key"));
    cfg = mtls_files(NULL, "client.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_INVALID_ARG);
}

static void test_creds_tls13_minimum_needs_support(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files(NULL, NULL);
    cfg.min_version = 0x0302;
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_INVALID_ARG); /* below TLS 1.2 */
    cfg.min_version = 0x0303;
    cfg.max_version = 0x0303;
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    cfg.min_version = 0x0304; /* TLS 1.3 only: the engines that speak it */
    cfg.max_version = 0;
    assert_int_equal(load(&cfg, &err),
                     test_engine_max_tls() >= 0x0304 ? MQTLS_OK : MQTLS_ERR_NOT_SUPPORTED);
}

static void test_creds_engine_names(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files(NULL, NULL);
    cfg.engine = "no-such-engine"; /* a typo */
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "built in: "));
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        cfg.engine = mqtls_tls_engine_name(i);
        mqtls__tls_ctx_t *ctx = NULL;
        assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
        assert_string_equal(mqtls__tls_ctx_engine(ctx), cfg.engine); /* cfg beats the env */
        mqtls__tls_ctx_destroy(ctx);
        assert_non_null(mqtls_tls_engine_version(i));
        assert_non_null(mqtls_tls_engine_library(i));
    }
    assert_null(mqtls_tls_engine_name(mqtls_tls_engine_count()));
    cfg.engine = "mbedtls"; /* the newest mbedTLS */
    mqtls__tls_ctx_t *ctx = NULL;
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
    assert_non_null(strstr(mqtls__tls_ctx_engine(ctx), "mbedtls"));
    mqtls__tls_ctx_destroy(ctx);
    cfg.engine = NULL; /* the environment, else the default: this run's engine */
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
    assert_string_equal(mqtls__tls_ctx_engine(ctx), test_engine());
    mqtls__tls_ctx_destroy(ctx);
}

static void test_creds_alpn_list_is_checked(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files(NULL, NULL);
    static const char *const one[] = {"mqtt", NULL};
    cfg.alpn = one;
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    static const char *const many[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL};
    cfg.alpn = many;
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "ALPN"));
}

static void test_strerror_prints_mbedtls_code_and_status(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "other.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_KEY_MISMATCH);
    char line[512];
    size_t n = mqtls_strerror(&err, line, sizeof line);
    assert_int_equal(n, strlen(line));
    assert_non_null(strstr(line, "config: private key does not match"));
    assert_non_null(strstr(line, "MQTLS_ERR_KEY_MISMATCH"));
    char code[16];
    (void)snprintf(code, sizeof code, "-0x%04X", (unsigned)-err.mbedtls_ret);
    assert_true(!test_engine_is_mbedtls() || strstr(line, code) != NULL);
    /* snprintf semantics: a short buffer is terminated and the full length reported */
    char small[10];
    assert_int_equal(mqtls_strerror(&err, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_error_helpers(void **state)
{
    (void)state;
    mqtls_error_t err;
    memset(&err, 0x5A, sizeof err);
    mqtls_error_init(&err);
    assert_int_equal(err.status, MQTLS_OK);
    assert_int_equal(err.tls_alert, -1);
    assert_int_equal(err.connack_reason, -1);
    assert_int_equal(err.disconnect_reason, -1);
    assert_string_equal(mqtls_layer_name(MQTLS_LAYER_TLS), "tls");
    assert_string_equal(mqtls_layer_name(MQTLS_LAYER_DNS), "dns");
    assert_string_equal(mqtls_tls_alert_name(48), "unknown_ca");
    assert_string_equal(mqtls_tls_alert_name(116), "certificate_required");
    assert_string_equal(mqtls_tls_alert_name(7), "unknown alert");
    char line[64];
    assert_int_equal(mqtls_strerror(&err, line, sizeof line), strlen("no error"));
    char info[512];
    size_t n = mqtls_verify_info(0x08u | 0x04u, info, sizeof info); /* NOT_TRUSTED|CN_MISMATCH */
    assert_int_equal(n, strlen(info));
    assert_non_null(strstr(info, "\n"));
    assert_int_equal(mqtls_verify_info(0, info, sizeof info), 0);
    mqtls_tls_facts_t facts;
    mqtls__tls_facts_init(&facts);
    assert_int_equal(facts.alert_received, -1);
    facts.chain[0].der = malloc(10);
    facts.ca_names = malloc(3);
    mqtls__tls_facts_free(&facts); /* ASan checks the frees */
    assert_null(facts.chain[0].der);
    assert_int_equal(facts.alert_sent, -1);
}

/* --- issue 10: the one file reader (mqtls/file.h) ---------------------------------------- */

/* A FIFO given as a credential hung mqtls_client_create() in open() until a writer came;
 * now it is refused at once. The alarm turns the old hang into a failure. */
static void test_file_fifo_as_credential_fails_at_once(void **state)
{
    (void)state;
    (void)alarm(10);
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.key");
    cfg.ca_file = path("fifo.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    assert_non_null(strstr(err.detail, "FIFO"));
    assert_non_null(strstr(err.detail, "fifo.pem"));
    cfg = mtls_files("fifo.pem", "client.key");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    cfg = mtls_files("client.crt", "fifo.pem");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    /* in a CA directory: skipped, the other certificates load */
    cfg = mtls_files("client.crt", "client.key");
    cfg.ca_file = NULL;
    cfg.ca_path = path("fifodir");
    assert_int_equal(load(&cfg, &err), MQTLS_OK);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(mqtls_file_read(path("fifo.pem"), 100, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_NOT_REGULAR);
    assert_null(data);
    (void)alarm(0);
}

/* Devices and huge files: refused before reading (regular) or at the limit (device). */
static void test_file_limits_and_kinds(void **state)
{
    (void)state;
    (void)alarm(10);
    mqtls_error_t err;
    mqtls_tls_cfg_t cfg = mtls_files("client.crt", "client.key");
    cfg.ca_file = "/dev/zero";
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    assert_non_null(strstr(err.detail, "character device"));
    cfg.ca_file = path("huge.pem"); /* 2 MiB: above MQTLS_FILE_CREDENTIAL_MAX */
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_TOO_LARGE);
    assert_int_equal(err.sys_errno, EFBIG);
    cfg.ca_file = NULL;
    cfg.ca_path = path("hugedir");
    assert_int_equal(load(&cfg, &err), MQTLS_ERR_FILE_TOO_LARGE);

    uint8_t *data = NULL;
    size_t len = 0;
    /* a device only where that is meant, and then bounded */
    assert_int_equal(mqtls_file_read("/dev/zero", 4096, MQTLS_FILE_CHAR_DEVICE, &data, &len, &err),
                     MQTLS_ERR_FILE_TOO_LARGE);
    assert_int_equal(mqtls_file_read("/dev/null", 4096, MQTLS_FILE_CHAR_DEVICE, &data, &len, &err),
                     MQTLS_OK);
    assert_int_equal(len, 0);
    assert_int_equal(data[0], 0);
    mqtls_file_free(data, len);
    /* exactly at the limit is fine, one byte more is not */
    size_t ca_len = 0;
    (void)slurp("ca.crt", &ca_len);
    assert_int_equal(mqtls_file_read(path("ca.crt"), ca_len, 0, &data, &len, &err), MQTLS_OK);
    assert_int_equal(len, ca_len);
    mqtls_file_free(data, len);
    assert_int_equal(mqtls_file_read(path("ca.crt"), ca_len - 1, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_TOO_LARGE);
    /* st_size 0 does not mean empty (/proc) */
    assert_int_equal(mqtls_file_read("/proc/self/status", 65536, 0, &data, &len, &err), MQTLS_OK);
    assert_true(len > 100);
    mqtls_file_free(data, len);
    assert_int_equal(mqtls_file_read(path("cadir"), 100, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_NOT_REGULAR);
    assert_int_equal(err.sys_errno, EISDIR);
    /* a stream (stdin): read to its end, capped */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "0123456789", 10), 10);
    (void)close(fds[1]);
    assert_int_equal(mqtls_file_read_fd(fds[0], "stdin", 100, MQTLS_FILE_STREAM, &data, &len, &err),
                     MQTLS_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(data, "0123456789", 11);
    mqtls_file_free(data, len);
    (void)close(fds[0]);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "0123456789", 10), 10);
    (void)close(fds[1]);
    assert_int_equal(mqtls_file_read_fd(fds[0], "stdin", 9, MQTLS_FILE_STREAM, &data, &len, &err),
                     MQTLS_ERR_FILE_TOO_LARGE);
    assert_int_equal(mqtls_file_read_fd(fds[0], "stdin", 9, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_NOT_REGULAR);
    (void)close(fds[0]);
    assert_int_equal(mqtls_file_read(NULL, 9, 0, &data, &len, &err), MQTLS_ERR_INVALID_ARG);
    (void)alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creds_pem_files_load),
        cmocka_unit_test(test_creds_der_files_load),
        cmocka_unit_test(test_creds_der_key_ending_in_zero_loads),
        cmocka_unit_test(test_creds_chain_file_loads),
        cmocka_unit_test(test_creds_ca_dir_loads),
        cmocka_unit_test(test_creds_pem_buffers_with_and_without_nul_load),
        cmocka_unit_test(test_creds_der_buffers_load),
        cmocka_unit_test(test_creds_encrypted_key_right_password_loads),
        cmocka_unit_test(test_creds_encrypted_key_wrong_password_fails),
        cmocka_unit_test(test_creds_encrypted_key_no_password_fails),
        cmocka_unit_test(test_creds_mismatched_key_fails),
        cmocka_unit_test(test_creds_unsupported_key_type_fails),
        cmocka_unit_test(test_creds_empty_file_fails),
        cmocka_unit_test(test_creds_missing_file_fails_with_errno_and_name),
        cmocka_unit_test(test_creds_garbage_fails_per_kind),
        cmocka_unit_test(test_creds_cert_without_key_is_invalid),
        cmocka_unit_test(test_creds_tls13_minimum_needs_support),
        cmocka_unit_test(test_creds_alpn_list_is_checked),
        cmocka_unit_test(test_creds_engine_names),
        cmocka_unit_test(test_strerror_prints_mbedtls_code_and_status),
        cmocka_unit_test(test_error_helpers),
        cmocka_unit_test(test_file_fifo_as_credential_fails_at_once),
        cmocka_unit_test(test_file_limits_and_kinds),
    };
    return cmocka_run_group_tests(tests, make_fixtures, remove_fixtures);
}
