/* Unit tests of src/pki: generate CA + server + client into a fresh temporary directory, parse
 * them back with mbedTLS and check every field of the profile, then verify the chain. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "mqtls/pki.h"
#include "pki/pki_internal.h"
#include "x509/asn1.h"
#include "x509/compat.h"

typedef struct {
    char dir[64];
} fixture_t;

static int setup_dir(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    (void)snprintf(f->dir, sizeof f->dir, "%s", "/tmp/mqtls-pki-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    fixture_t *f = *state;
    DIR *d = opendir(f->dir);
    if (d != NULL) {
        struct dirent *e;
        for (int guard = 0; guard < 1000 && (e = readdir(d)) != NULL; guard++) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char path[512];
            (void)snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
            (void)unlink(path);
        }
        closedir(d);
    }
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void path_of(const fixture_t *f, const char *file, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/%s", f->dir, file);
}

static void load_crt(const fixture_t *f, const char *file, mbedtls_x509_crt *crt)
{
    char path[256];
    path_of(f, file, path, sizeof path);
    mbedtls_x509_crt_init(crt);
    assert_int_equal(mbedtls_x509_crt_parse_file(crt, path), 0);
}

static void load_key(const fixture_t *f, const char *file, mbedtls_pk_context *pk)
{
    char path[256];
    path_of(f, file, path, sizeof path);
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(mqtls__pki_read_file(path, &buf, &len, NULL), MQTLS_OK);
    mbedtls_pk_init(pk);
    assert_int_equal(mqtls__x509_pk_parse_key(pk, buf, len, NULL, NULL, NULL), 0);
    free(buf);
}

static unsigned file_mode(const fixture_t *f, const char *file)
{
    char path[256];
    struct stat sb;
    path_of(f, file, path, sizeof path);
    assert_int_equal(stat(path, &sb), 0);
    return (unsigned)(sb.st_mode & 07777);
}

static mqtls_pki_req_t req_for(const fixture_t *f, const char *name)
{
    mqtls_pki_req_t r;
    mqtls_pki_req_init(&r);
    r.dir = f->dir;
    r.name = name;
    return r;
}

static void make_ca(const fixture_t *f, mqtls_pki_key_type_t type, unsigned bits)
{
    mqtls_pki_req_t r = req_for(f, NULL);
    r.key_type = type;
    r.rsa_bits = bits;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_OK);
}

static int cn_equals(const mbedtls_x509_crt *crt, const char *cn)
{
    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        if (n->oid.len == MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN) &&
            memcmp(n->oid.p, MBEDTLS_OID_AT_CN, n->oid.len) == 0) {
            return n->val.len == strlen(cn) && memcmp(n->val.p, cn, n->val.len) == 0;
        }
    }
    return 0;
}

/* The extension's value and criticality; fails the test if absent. */
static void get_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                    const unsigned char **val, size_t *len, bool *critical)
{
    assert_int_equal(mqtls__x509_find_ext(crt, oid, oid_len, val, len, critical), 0);
}

#define GET_EXT(crt, OID, val, len, crit) get_ext(crt, OID, MBEDTLS_OID_SIZE(OID), val, len, crit)

static int has_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len)
{
    const unsigned char *v;
    size_t l;
    bool c;
    return mqtls__x509_find_ext(crt, oid, oid_len, &v, &l, &c) == 0;
}

static void assert_serial_ok(const mbedtls_x509_crt *crt)
{
    /* RFC 5280 4.1.2.2: positive, at most 20 octets; we promise 16 random bytes. */
    assert_int_equal(crt->serial.len, 16);
    assert_int_equal(crt->serial.p[0] & 0x80, 0);
    assert_int_not_equal(crt->serial.p[0], 0);
}

static uint32_t verify(mbedtls_x509_crt *leaf, mbedtls_x509_crt *ca, const char *cn)
{
    uint32_t flags = 0xffffffffu;
    int ret = mbedtls_x509_crt_verify(leaf, ca, NULL, cn, &flags, NULL, NULL);
    return ret == 0 ? flags : (flags | 0x80000000u);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_pki_ca_default_is_ec_p256_ca_for_ten_years(void **state)
{
    fixture_t *f = *state;
    mqtls_pki_req_t r = req_for(f, NULL);
    r.now_s = (int64_t)time(NULL);
    mqtls_pki_result_t res;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&r, &res, &err), MQTLS_OK);
    char expect[256];
    path_of(f, "ca.crt", expect, sizeof expect);
    assert_string_equal(res.cert_path, expect);
    path_of(f, "ca.key", expect, sizeof expect);
    assert_string_equal(res.key_path, expect);

    mbedtls_x509_crt ca;
    load_crt(f, "ca.crt", &ca);
    assert_true(cn_equals(&ca, "mqtls CA"));
    assert_int_equal(ca.version, 3);
    assert_true(mqtls__dm_crt_is_ca(&ca));
    assert_int_equal(mbedtls_pk_get_type(&ca.pk), MBEDTLS_PK_ECKEY);
    assert_int_equal(mqtls__x509_pk_ec_group(&ca.pk), MBEDTLS_ECP_DP_SECP256R1);
    assert_int_equal(mbedtls_pk_get_bitlen(&ca.pk), 256);
    assert_int_equal(mqtls__dm_crt_sig_md(&ca), MBEDTLS_MD_SHA256);
    assert_serial_ok(&ca);

    const unsigned char *v;
    size_t len;
    bool crit;
    GET_EXT(&ca, MBEDTLS_OID_BASIC_CONSTRAINTS, &v, &len, &crit);
    assert_true(crit);
    GET_EXT(&ca, MBEDTLS_OID_KEY_USAGE, &v, &len, &crit);
    assert_true(crit);
    assert_int_equal(mqtls__dm_crt_key_usage(&ca),
                     MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
    GET_EXT(&ca, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER, &v, &len, &crit);
    assert_int_equal(len, 22); /* OCTET STRING of a 20-byte SHA-1 key id */
    assert_false(has_ext(&ca, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                         MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE)));

    /* Validity: exactly now-1h .. now+3650 days. */
    assert_int_equal(mqtls__x509_time_unix(&ca.valid_from), r.now_s - 3600);
    assert_int_equal(mqtls__x509_time_unix(&ca.valid_to), r.now_s + 3650LL * 86400);
    /* Self-signed and trusted as itself. */
    assert_int_equal(verify(&ca, &ca, NULL), 0);

    mbedtls_pk_context key;
    load_key(f, "ca.key", &key);
    assert_int_equal(mqtls__x509_pk_check_pair(&ca.pk, &key, NULL, NULL), 0);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&ca);

    assert_int_equal(file_mode(f, "ca.key"), 0600);
    assert_int_equal(file_mode(f, "ca.crt"), 0644);
}

static void test_pki_server_has_san_eku_ku_and_verifies(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    const char *dns[] = {"extra.local", "broker.local" /* duplicate of the name: dropped */};
    const char *ips[] = {"127.0.0.1", "::1"};
    mqtls_pki_req_t r = req_for(f, "broker.local");
    r.dns = dns;
    r.dns_count = 2;
    r.ips = ips;
    r.ip_count = 2;
    mqtls_pki_result_t res;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, &res, &err), MQTLS_OK);
    assert_non_null(strstr(res.cert_path, "/server.crt"));
    assert_non_null(strstr(res.key_path, "/server.key"));

    mbedtls_x509_crt ca;
    mbedtls_x509_crt srv;
    load_crt(f, "ca.crt", &ca);
    load_crt(f, "server.crt", &srv);
    assert_true(cn_equals(&srv, "broker.local"));
    assert_false(mqtls__dm_crt_is_ca(&srv));
    assert_true(mqtls__dm_crt_has_ext(&srv, MBEDTLS_X509_EXT_BASIC_CONSTRAINTS));
    assert_int_equal(mqtls__x509_pk_ec_group(&srv.pk), MBEDTLS_ECP_DP_SECP256R1);
    assert_serial_ok(&srv);
    assert_int_equal(mqtls__dm_crt_key_usage(&srv), MBEDTLS_X509_KU_DIGITAL_SIGNATURE);

    /* SAN: DNS broker.local, DNS extra.local, IP 127.0.0.1, IP ::1, in that order. */
    const unsigned char *v;
    size_t len;
    bool crit;
    GET_EXT(&srv, MBEDTLS_OID_SUBJECT_ALT_NAME, &v, &len, &crit);
    assert_false(crit);
    mqtls__x509_san_iter_t it;
    assert_int_equal(mqtls__x509_san_begin(&it, &srv), 0);
    uint8_t tag;
    const unsigned char *data;
    size_t dlen;
    static const unsigned char v4[] = {127, 0, 0, 1};
    static const unsigned char v6[16] = {[15] = 1};
    assert_int_equal(mqtls__x509_san_next(&it, &tag, &data, &dlen), 1);
    assert_int_equal(tag, MQTLS__SAN_DNS);
    assert_memory_equal(data, "broker.local", 12);
    assert_int_equal(dlen, 12);
    assert_int_equal(mqtls__x509_san_next(&it, &tag, &data, &dlen), 1);
    assert_int_equal(tag, MQTLS__SAN_DNS);
    assert_int_equal(dlen, 11);
    assert_memory_equal(data, "extra.local", 11);
    assert_int_equal(mqtls__x509_san_next(&it, &tag, &data, &dlen), 1);
    assert_int_equal(tag, MQTLS__SAN_IP);
    assert_int_equal(dlen, 4);
    assert_memory_equal(data, v4, 4);
    assert_int_equal(mqtls__x509_san_next(&it, &tag, &data, &dlen), 1);
    assert_int_equal(tag, MQTLS__SAN_IP);
    assert_int_equal(dlen, 16);
    assert_memory_equal(data, v6, 16);
    assert_int_equal(mqtls__x509_san_next(&it, &tag, &data, &dlen), 0);

    /* EKU serverAuth only; KU critical. */
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &srv, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                     0);
    assert_int_not_equal(
        mbedtls_x509_crt_check_extended_key_usage(&srv, MBEDTLS_OID_CLIENT_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
        0);
    GET_EXT(&srv, MBEDTLS_OID_KEY_USAGE, &v, &len, &crit);
    assert_true(crit);

    /* AKID keyIdentifier == the CA's SKID. */
    const unsigned char *skid;
    size_t skid_len;
    GET_EXT(&ca, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER, &skid, &skid_len, &crit);
    GET_EXT(&srv, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER, &v, &len, &crit);
    assert_int_equal(len, 2 + 2 + 20); /* SEQUENCE { [0] 20 bytes } */
    assert_int_equal(skid_len, 22);
    assert_memory_equal(v + 4, skid + 2, 20);

    /* Chains to the CA, and the host name is checked (mbedTLS 2.28 matches dNSName only). */
    assert_int_equal(verify(&srv, &ca, "broker.local"), 0);
    assert_int_equal(verify(&srv, &ca, "extra.local"), 0);
    assert_true(verify(&srv, &ca, "other.local") & MBEDTLS_X509_BADCERT_CN_MISMATCH);

    mbedtls_pk_context key;
    load_key(f, "server.key", &key);
    assert_int_equal(mqtls__x509_pk_check_pair(&srv.pk, &key, NULL, NULL), 0);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&srv);
    mbedtls_x509_crt_free(&ca);
    assert_int_equal(file_mode(f, "server.key"), 0600);
}

static void test_pki_client_has_cn_clientauth_and_verifies(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    mqtls_pki_req_t r = req_for(f, "device-001");
    r.now_s = (int64_t)time(NULL);
    r.days = 30;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_OK);

    mbedtls_x509_crt ca;
    mbedtls_x509_crt cli;
    load_crt(f, "ca.crt", &ca);
    load_crt(f, "device-001.crt", &cli);
    assert_true(cn_equals(&cli, "device-001"));
    assert_false(mqtls__dm_crt_is_ca(&cli));
    assert_serial_ok(&cli);
    assert_int_equal(mqtls__dm_crt_key_usage(&cli), MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &cli, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
                     0);
    assert_int_not_equal(
        mbedtls_x509_crt_check_extended_key_usage(&cli, MBEDTLS_OID_SERVER_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
        0);
    assert_false(has_ext(&cli, MBEDTLS_OID_SUBJECT_ALT_NAME,
                         MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME)));
    assert_true(has_ext(&cli, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
                        MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER)));
    assert_int_equal(mqtls__x509_time_unix(&cli.valid_from), r.now_s - 3600);
    assert_int_equal(mqtls__x509_time_unix(&cli.valid_to), r.now_s + 30LL * 86400);
    assert_int_equal(verify(&cli, &ca, NULL), 0);
    /* The issuer DN is byte-identical to the CA subject (name chaining, RFC 5280 4.1.2.4). */
    assert_int_equal(cli.issuer_raw.len, ca.subject_raw.len);
    assert_memory_equal(cli.issuer_raw.p, ca.subject_raw.p, ca.subject_raw.len);
    mbedtls_x509_crt_free(&cli);
    mbedtls_x509_crt_free(&ca);
    assert_int_equal(file_mode(f, "device-001.key"), 0600);
    assert_int_equal(file_mode(f, "device-001.crt"), 0644);
}

static void test_pki_rsa2048_ca_leaf_follows_ca_key_type(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_RSA, 2048);
    mqtls_pki_req_t r = req_for(f, "broker.local");
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_OK);
    r = req_for(f, "dev-ec");
    r.key_type = MQTLS_PKI_KEY_EC; /* override */
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_OK);

    mbedtls_x509_crt ca;
    mbedtls_x509_crt srv;
    mbedtls_x509_crt cli;
    load_crt(f, "ca.crt", &ca);
    load_crt(f, "server.crt", &srv);
    load_crt(f, "dev-ec.crt", &cli);
    assert_int_equal(mbedtls_pk_get_type(&ca.pk), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&ca.pk), 2048);
    assert_int_equal(mqtls__dm_crt_sig_md(&ca), MBEDTLS_MD_SHA256);
    assert_int_equal(mbedtls_pk_get_type(&srv.pk), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&srv.pk), 2048);
    assert_int_equal(mqtls__dm_crt_key_usage(&srv),
                     MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_ENCIPHERMENT);
    assert_int_equal(mbedtls_pk_get_type(&cli.pk), MBEDTLS_PK_ECKEY);
    assert_int_equal(mqtls__dm_crt_key_usage(&cli), MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    assert_int_equal(verify(&srv, &ca, "broker.local"), 0);
    assert_int_equal(verify(&cli, &ca, NULL), 0);
    mbedtls_x509_crt_free(&cli);
    mbedtls_x509_crt_free(&srv);
    mbedtls_x509_crt_free(&ca);
}

static void test_pki_rsa3072_ca_has_3072_bit_key(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_RSA, 3072);
    mbedtls_x509_crt ca;
    load_crt(f, "ca.crt", &ca);
    assert_int_equal(mbedtls_pk_get_type(&ca.pk), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&ca.pk), 3072);
    mbedtls_pk_context key;
    load_key(f, "ca.key", &key);
    assert_int_equal(mbedtls_pk_get_bitlen(&key), 3072);
    assert_int_equal(mqtls__x509_pk_check_pair(&ca.pk, &key, NULL, NULL), 0);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&ca);
}

static void read_all(const fixture_t *f, const char *file, char *buf, size_t cap)
{
    char path[256];
    path_of(f, file, path, sizeof path);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void test_pki_existing_files_need_force(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    char before[4096];
    char after[4096];
    read_all(f, "ca.key", before, sizeof before);

    mqtls_pki_req_t r = req_for(f, NULL);
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_ERR_FILE_EXISTS);
    assert_int_equal(err.status, MQTLS_ERR_FILE_EXISTS);
    assert_non_null(strstr(err.detail, "ca.key"));
    read_all(f, "ca.key", after, sizeof after);
    assert_string_equal(before, after);

    /* A leftover key with a wide mode must come back 0600 after --force. */
    char path[256];
    path_of(f, "ca.key", path, sizeof path);
    assert_int_equal(chmod(path, 0644), 0);
    r.force = true;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_OK);
    read_all(f, "ca.key", after, sizeof after);
    assert_string_not_equal(before, after);
    assert_int_equal(file_mode(f, "ca.key"), 0600);

    /* Same for a client; a refused run writes nothing. */
    r = req_for(f, "dev1");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_OK);
    path_of(f, "dev2.crt", path, sizeof path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    r = req_for(f, "dev2");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_ERR_FILE_EXISTS);
    path_of(f, "dev2.key", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_pki_invalid_requests_are_refused(void **state)
{
    fixture_t *f = *state;
    mqtls_error_t err;
    mqtls_pki_req_t r = req_for(f, "broker.local");
    /* No CA yet. */
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_ERR_FILE_UNREADABLE);
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);

    r.key_type = MQTLS_PKI_KEY_RSA;
    r.rsa_bits = 1024;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = req_for(f, "../evil");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = req_for(f, "a/b");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    const char *bad_ip[] = {"300.1.1.1"};
    r = req_for(f, "broker.local");
    r.ips = bad_ip;
    r.ip_count = 1;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = req_for(f, "bad host");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = req_for(f, NULL);
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    /* Nothing was written by the refused calls. */
    char path[256];
    path_of(f, "server.key", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_pki_leaf_never_outlives_ca(void **state)
{
    fixture_t *f = *state;
    mqtls_pki_req_t r = req_for(f, NULL);
    r.days = 10;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_OK);
    r = req_for(f, "dev");
    r.days = 825;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_OK);
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cli;
    load_crt(f, "ca.crt", &ca);
    load_crt(f, "dev.crt", &cli);
    assert_int_equal(mqtls__x509_time_unix(&cli.valid_to), mqtls__x509_time_unix(&ca.valid_to));
    mbedtls_x509_crt_free(&cli);
    mbedtls_x509_crt_free(&ca);
}

static void test_pki_expired_ca_is_refused(void **state)
{
    fixture_t *f = *state;
    mqtls_pki_req_t r = req_for(f, NULL);
    r.now_s = (int64_t)time(NULL) - 20LL * 86400;
    r.days = 10;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_create_ca(&r, NULL, &err), MQTLS_OK);
    r = req_for(f, "dev");
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_CLIENT, &r, NULL, &err), MQTLS_ERR_CA_PARSE);
    assert_non_null(strstr(err.detail, "expired"));
    char path[256];
    path_of(f, "dev.key", path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
}

typedef struct {
    char text[8192];
} capture_t;

static void capture_line(void *ctx, const char *line)
{
    capture_t *c = ctx;
    size_t used = strlen(c->text);
    (void)snprintf(c->text + used, sizeof c->text - used, "%s\n", line);
}

static void test_pki_show_summarises_without_key_material(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    const char *ips[] = {"127.0.0.1"};
    mqtls_pki_req_t r = req_for(f, "broker.local");
    r.ips = ips;
    r.ip_count = 1;
    r.now_s = (int64_t)time(NULL);
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue(MQTLS_PKI_SERVER, &r, NULL, &err), MQTLS_OK);

    char path[256];
    capture_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    path_of(f, "server.crt", path, sizeof path);
    assert_int_equal(mqtls_pki_show(path, r.now_s, capture_line, c, &err), MQTLS_OK);
    assert_non_null(strstr(c->text, "subject:      CN=broker.local"));
    assert_non_null(strstr(c->text, "issuer:       CN=mqtls CA"));
    assert_non_null(strstr(c->text, "DNS:broker.local, IP:127.0.0.1"));
    assert_non_null(strstr(c->text, "key:          EC P-256 (secp256r1)"));
    assert_non_null(strstr(c->text, "signature:    SHA-256 with ECDSA"));
    assert_non_null(strstr(c->text, "825 days left"));
    assert_non_null(strstr(c->text, "serverAuth"));
    assert_non_null(strstr(c->text, "digitalSignature"));
    assert_non_null(strstr(c->text, "CA:           no"));
    assert_non_null(strstr(c->text, "SHA-256:      "));

    /* Far in the future: expired. */
    c->text[0] = '\0';
    assert_int_equal(mqtls_pki_show(path, r.now_s + 900LL * 86400, capture_line, c, &err),
                     MQTLS_OK);
    assert_non_null(strstr(c->text, "EXPIRED 75 days ago"));
    /* Before its start (now - 1h): not yet valid. */
    c->text[0] = '\0';
    assert_int_equal(mqtls_pki_show(path, r.now_s - 7200, capture_line, c, &err), MQTLS_OK);
    assert_non_null(strstr(c->text, "NOT YET VALID"));

    /* The key: type and curve, never its contents. */
    char key_pem[4096];
    read_all(f, "server.key", key_pem, sizeof key_pem);
    char *body = strchr(key_pem, '\n');
    assert_non_null(body);
    body[17] = '\0'; /* first 16 base64 characters of the key */
    c->text[0] = '\0';
    path_of(f, "server.key", path, sizeof path);
    assert_int_equal(mqtls_pki_show(path, 0, capture_line, c, &err), MQTLS_OK);
    assert_non_null(strstr(c->text, "EC P-256 (secp256r1), not encrypted (SEC1)"));
    assert_null(strstr(c->text, body + 1));

    /* Not a certificate or a key. */
    path_of(f, "junk.txt", path, sizeof path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("hello\n", fp);
    fclose(fp);
    assert_int_equal(mqtls_pki_show(path, 0, capture_line, c, &err), MQTLS_ERR_CERT_PARSE);
    free(c);
}

/* ---- fleets ------------------------------------------------------------------------------ */

static mqtls_pki_fleet_req_t fleet_for(const fixture_t *f, const char *prefix, uint32_t count)
{
    mqtls_pki_fleet_req_t r;
    mqtls_pki_fleet_req_init(&r);
    r.dir = f->dir;
    r.prefix = prefix;
    r.count = count;
    r.threads = 3;
    return r;
}

/* Lines of a text file (0 if it cannot be read). */
static size_t count_lines(const fixture_t *f, const char *file)
{
    char path[256];
    path_of(f, file, path, sizeof path);
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    if (fp != NULL) {
        for (int c; (c = fgetc(fp)) != EOF;) {
            n += c == '\n' ? 1u : 0u;
        }
        (void)fclose(fp);
    }
    return n;
}

static bool file_contains(const fixture_t *f, const char *file, const char *needle)
{
    char path[256];
    path_of(f, file, path, sizeof path);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (mqtls__pki_read_file(path, &buf, &len, NULL) != MQTLS_OK) {
        return false;
    }
    bool found = strstr((const char *)buf, needle) != NULL;
    free(buf);
    return found;
}

/* A device of a fleet: CN = its name, clientAuth, P-256, its key matches, the CA verifies it. */
static void assert_fleet_device(const fixture_t *f, const char *name)
{
    char file[80];
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cli;
    mbedtls_pk_context key;
    load_crt(f, "ca.crt", &ca);
    (void)snprintf(file, sizeof file, "%s.crt", name);
    load_crt(f, file, &cli);
    assert_int_equal(file_mode(f, file), 0644);
    (void)snprintf(file, sizeof file, "%s.key", name);
    load_key(f, file, &key);
    assert_int_equal(file_mode(f, file), 0600);
    assert_true(cn_equals(&cli, name));
    assert_serial_ok(&cli);
    assert_int_equal(mqtls__x509_pk_ec_group(&cli.pk), MBEDTLS_ECP_DP_SECP256R1);
    assert_int_equal(mqtls__x509_pk_check_pair(&cli.pk, &key, NULL, NULL), 0);
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &cli, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
                     0);
    assert_true(has_ext(&cli, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
                        MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER)));
    assert_int_equal(verify(&cli, &ca, NULL), 0);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&cli);
    mbedtls_x509_crt_free(&ca);
}

static void test_pki_fleet_issues_devices_and_manifest(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    mqtls_pki_fleet_req_t r = fleet_for(f, NULL, 12);
    mqtls_pki_fleet_result_t res;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue_fleet(&r, &res, &err), MQTLS_OK);
    assert_int_equal(res.issued, 12);
    assert_int_equal(res.threads, 3);
    assert_non_null(strstr(res.manifest_csv, "/fleet.csv"));
    assert_fleet_device(f, "dev-000001");
    assert_fleet_device(f, "dev-000007");
    assert_fleet_device(f, "dev-000012");
    assert_int_equal(count_lines(f, "fleet.csv"), 13); /* header + 12 rows */
    assert_true(file_contains(f, "fleet.csv",
                              "id,cert,key,not_before,not_after\n"
                              "dev-000001,dev-000001.crt,dev-000001.key,"));
    assert_true(file_contains(f, "fleet.json", "\"count\": 12,"));
    assert_true(file_contains(f, "fleet.json",
                              "{\"id\": \"dev-000012\", \"cert\": "
                              "\"dev-000012.crt\", \"key\": \"dev-000012.key\""));
}

static void test_pki_fleet_groups_merge_and_existing_need_force(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    mqtls_pki_fleet_req_t r = fleet_for(f, "dev-", 4);
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_OK);
    /* A second group, expired: valid from 20 days ago for 2 days. */
    mqtls_pki_fleet_req_t e = fleet_for(f, "exp-", 3);
    e.now_s = (int64_t)time(NULL) - 20 * 86400;
    e.days = 2;
    assert_int_equal(mqtls_pki_issue_fleet(&e, NULL, &err), MQTLS_OK);
    assert_int_equal(count_lines(f, "fleet.csv"), 1 + 4 + 3);
    assert_true(file_contains(f, "fleet.csv", "dev-000004.key,"));
    assert_true(file_contains(f, "fleet.csv", "\nexp-000001,"));
    assert_true(file_contains(f, "fleet.json", "\"count\": 7,"));
    mbedtls_x509_crt ca;
    mbedtls_x509_crt old;
    load_crt(f, "ca.crt", &ca);
    load_crt(f, "exp-000002.crt", &old);
    assert_int_equal(mqtls__x509_time_unix(&old.valid_to), e.now_s + 2 * 86400);
    uint32_t flags = 0;
    assert_int_not_equal(mbedtls_x509_crt_verify(&old, &ca, NULL, NULL, &flags, NULL, NULL), 0);
    assert_true((flags & MBEDTLS_X509_BADCERT_EXPIRED) != 0);
    mbedtls_x509_crt_free(&old);
    mbedtls_x509_crt_free(&ca);
    /* Existing devices: refused before anything is written, then replaced with force. */
    char path[256];
    path_of(f, "dev-000002.key", path, sizeof path);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    mqtls_pki_fleet_req_t again = fleet_for(f, "dev-", 6);
    assert_int_equal(mqtls_pki_issue_fleet(&again, NULL, &err), MQTLS_ERR_FILE_EXISTS);
    char p5[256];
    path_of(f, "dev-000005.crt", p5, sizeof p5);
    assert_int_equal(access(p5, F_OK), -1);
    again.force = true;
    assert_int_equal(mqtls_pki_issue_fleet(&again, NULL, &err), MQTLS_OK);
    assert_int_equal(count_lines(f, "fleet.csv"), 1 + 6 + 3);
    assert_fleet_device(f, "dev-000005");
}

static void test_pki_fleet_rsa_ca_signs_ec_devices(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_RSA, 2048);
    mqtls_pki_fleet_req_t r = fleet_for(f, "node.", 2);
    r.first = 41;
    mqtls_error_t err;
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_OK);
    assert_fleet_device(f, "node.000041");
    assert_fleet_device(f, "node.000042");
}

static void test_pki_fleet_invalid_requests_are_refused(void **state)
{
    fixture_t *f = *state;
    make_ca(f, MQTLS_PKI_KEY_AUTO, 0);
    mqtls_error_t err;
    mqtls_pki_fleet_req_t r = fleet_for(f, NULL, 0);
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = fleet_for(f, "../evil", 1);
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = fleet_for(f, "-x", 1);
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = fleet_for(f, NULL, MQTLS_PKI_FLEET_MAX + 1u);
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    r = fleet_for(f, NULL, 1);
    r.dir = NULL;
    assert_int_equal(mqtls_pki_issue_fleet(&r, NULL, &err), MQTLS_ERR_INVALID_ARG);
    mqtls_pki_fleet_req_t raw;
    memset(&raw, 0, sizeof raw);
    assert_int_equal(mqtls_pki_issue_fleet(&raw, NULL, &err), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(count_lines(f, "fleet.csv"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pki_ca_default_is_ec_p256_ca_for_ten_years, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_server_has_san_eku_ku_and_verifies, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_client_has_cn_clientauth_and_verifies, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_rsa2048_ca_leaf_follows_ca_key_type, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_rsa3072_ca_has_3072_bit_key, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_existing_files_need_force, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_invalid_requests_are_refused, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_leaf_never_outlives_ca, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_expired_ca_is_refused, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_show_summarises_without_key_material, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_fleet_issues_devices_and_manifest, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_fleet_groups_merge_and_existing_need_force,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_fleet_rsa_ca_signs_ec_devices, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_pki_fleet_invalid_requests_are_refused, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
