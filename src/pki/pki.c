/* mqtls pki engine: CA creation and certificate issuance on mbedTLS x509write.
 *
 * Profile (what `openssl verify -x509_strict` and mosquitto expect, RFC 5280):
 *  - serial: 16 random bytes, top bit cleared so the INTEGER is positive and at most 16 bytes
 *    (RFC 5280 4.1.2.2: positive, at most 20 octets);
 *  - validity starts one hour in the past so a device whose clock lags still accepts it;
 *  - CA: basicConstraints cA=TRUE critical, keyUsage keyCertSign|cRLSign critical, SKID
 *    (RFC 5280 4.2.1.2 requires SKID in CA certificates);
 *  - leaf: cA=FALSE, AKID (RFC 5280 4.2.1.1), SKID, keyUsage critical, EKU, server SAN. */
#include "mqtls/pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "common/abi.h"
#include "pki/pki_internal.h"
#include "x509/asn1.h"
#include "x509/compat.h"

#define PEM_CAP MQTLS__PKI_PEM_CAP
/* Room for the DER of subjectAltName and extendedKeyUsage values. */
#define EXT_CAP 4096u
#define SECONDS_PER_DAY 86400
#define VALIDITY_BACKDATE_S 3600

/* ---- time -------------------------------------------------------------------------------- */

/* "YYYYMMDDhhmmss" as mbedtls_x509write_crt_set_validity wants (UTC). */
static void format_x509_time(int64_t epoch, char out[32])
{
    mbedtls_x509_time t;
    mqtls__x509_time_from_unix(epoch, &t);
    (void)snprintf(out, 32, "%04d%02d%02d%02d%02d%02d", t.year, t.mon, t.day, t.hour, t.min, t.sec);
}

/* ---- DER of the extensions x509write 2.28 has no helper for ------------------------------ */

/* subjectAltName (RFC 5280 4.2.1.6): SEQUENCE OF GeneralName, dNSName [2] IA5String,
 * iPAddress [7] OCTET STRING (4 or 16 bytes). asn1write fills the buffer from the end, so
 * entries are written last-first. */
typedef struct {
    int is_ip;
    const char *text;
} san_entry_t;

static int write_san(unsigned char *buf, size_t cap, const san_entry_t *e, size_t count,
                     unsigned char **start)
{
    unsigned char *p = buf + cap;
    size_t total = 0;
    int ret;
    for (size_t i = count; i-- > 0;) {
        size_t len = 0;
        if (e[i].is_ip) {
            unsigned char ip[16];
            size_t iplen = mqtls__pki_parse_ip(e[i].text, ip);
            if (iplen == 0) {
                return MBEDTLS_ERR_ASN1_INVALID_DATA;
            }
            ret = mbedtls_asn1_write_raw_buffer(&p, buf, ip, iplen);
            if (ret < 0) {
                return ret;
            }
            len += (size_t)ret;
            ret = mbedtls_asn1_write_len(&p, buf, len);
            if (ret < 0) {
                return ret;
            }
            len += (size_t)ret;
            ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
        } else {
            ret = mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)e[i].text,
                                                strlen(e[i].text));
            if (ret < 0) {
                return ret;
            }
            len += (size_t)ret;
            ret = mbedtls_asn1_write_len(&p, buf, len);
            if (ret < 0) {
                return ret;
            }
            len += (size_t)ret;
            ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
        }
        if (ret < 0) {
            return ret;
        }
        len += (size_t)ret;
        total += len;
    }
    ret = mbedtls_asn1_write_len(&p, buf, total);
    if (ret < 0) {
        return ret;
    }
    total += (size_t)ret;
    ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (ret < 0) {
        return ret;
    }
    total += (size_t)ret;
    *start = p;
    return (int)total;
}

/* extendedKeyUsage (RFC 5280 4.2.1.12): SEQUENCE OF KeyPurposeId, here exactly one. */
int mqtls__pki_write_eku(unsigned char *buf, size_t cap, const char *oid, size_t oid_len,
                         unsigned char **start)
{
    unsigned char *p = buf + cap;
    size_t total = 0;
    int ret = mbedtls_asn1_write_oid(&p, buf, oid, oid_len);
    if (ret < 0) {
        return ret;
    }
    total += (size_t)ret;
    ret = mbedtls_asn1_write_len(&p, buf, total);
    if (ret < 0) {
        return ret;
    }
    total += (size_t)ret;
    ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (ret < 0) {
        return ret;
    }
    total += (size_t)ret;
    *start = p;
    return (int)total;
}

/* ---- keys and randomness ----------------------------------------------------------------- */

#define RNG_PERS "mqtls pki"

int mqtls__pki_gen_key(mbedtls_pk_context *pk, mqtls_pki_key_type_t type, unsigned bits,
                       mqtls__x509_rng_t *r)
{
    int ret;
    if (type == MQTLS_PKI_KEY_RSA) {
        ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
        if (ret == 0) {
            ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), mbedtls_ctr_drbg_random, &r->drbg, bits,
                                      65537);
        }
    } else {
        ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (ret == 0) {
            ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                      mbedtls_ctr_drbg_random, &r->drbg);
        }
    }
    return ret;
}

static mqtls_status_t check_key_request(const mqtls_pki_req_t *req, mqtls_error_t *err)
{
    if (req->key_type == MQTLS_PKI_KEY_RSA) {
        if (req->rsa_bits != 2048 && req->rsa_bits != 3072 && req->rsa_bits != 4096) {
            return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0,
                                   "RSA key size must be 2048, 3072 or 4096 (got %u)",
                                   req->rsa_bits);
        }
    } else if (req->key_type != MQTLS_PKI_KEY_AUTO && req->key_type != MQTLS_PKI_KEY_EC) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "unknown key type");
    }
    if (req->days > MQTLS_PKI_DAYS_MAX) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "days must be 1 to %u",
                               MQTLS_PKI_DAYS_MAX);
    }
    return MQTLS_OK;
}

/* ---- the common signing path ------------------------------------------------------------- */

mqtls_status_t mqtls__pki_sign_cert(const mqtls__pki_cert_spec_t *s, mqtls__x509_rng_t *r,
                                    unsigned char *pem, size_t cap, mqtls_error_t *err)
{
    mbedtls_x509write_cert crt;
    mbedtls_x509write_crt_init(&crt);
    mqtls_status_t st = MQTLS_OK;
    const char *what = "serial";
    int ret;
    unsigned char serial[16];
    char from[32];
    char to[32];

    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, s->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&crt, s->issuer_key);

    ret = mbedtls_ctr_drbg_random(&r->drbg, serial, sizeof serial);
    if (ret != 0) {
        goto out;
    }
    serial[0] &= 0x7f; /* positive without a leading 0x00: at most 16 content bytes */
    serial[0] |= 0x40; /* and exactly 16: never a shorter, zero-led or zero serial */
    ret = mqtls__x509_write_set_serial(&crt, serial, sizeof serial);
    if (ret != 0) {
        goto out;
    }
    what = "validity";
    format_x509_time(s->not_before, from);
    format_x509_time(s->not_after, to);
    ret = mbedtls_x509write_crt_set_validity(&crt, from, to);
    if (ret != 0) {
        goto out;
    }
    what = "subject name";
    ret = mbedtls_x509write_crt_set_subject_name(&crt, s->subject);
    if (ret != 0) {
        goto out;
    }
    what = "issuer name";
    ret = mbedtls_x509write_crt_set_issuer_name(&crt, s->issuer != NULL ? s->issuer : s->subject);
    if (ret != 0) {
        goto out;
    }
    what = "basicConstraints";
    ret = mbedtls_x509write_crt_set_basic_constraints(&crt, s->is_ca, -1);
    if (ret != 0) {
        goto out;
    }
    what = "subjectKeyIdentifier";
    ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt);
    if (ret != 0) {
        goto out;
    }
    if (s->issuer != NULL) {
        what = "authorityKeyIdentifier";
        ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt);
        if (ret != 0) {
            goto out;
        }
    }
    if (s->signing_key != NULL) {
        /* The same key in a form that keeps its precomputations (pki_fleet.c); the identifier
         * above came from issuer_key, which x509write can encode. */
        mbedtls_x509write_crt_set_issuer_key(&crt, s->signing_key);
    }
    what = "keyUsage";
    ret = mbedtls_x509write_crt_set_key_usage(&crt, s->key_usage);
    if (ret != 0) {
        goto out;
    }
    if (s->eku != NULL) {
        what = "extendedKeyUsage";
        ret = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                                  0, s->eku, s->eku_len);
        if (ret != 0) {
            goto out;
        }
    }
    if (s->san != NULL) {
        /* Not critical: the subject DN is not empty (RFC 5280 4.2.1.6). */
        what = "subjectAltName";
        ret = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                  s->san, s->san_len);
        if (ret != 0) {
            goto out;
        }
    }
    what = "signature";
    ret = mbedtls_x509write_crt_pem(&crt, pem, cap, mbedtls_ctr_drbg_random, &r->drbg);

out:
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "certificate %s", what);
    }
    mbedtls_x509write_crt_free(&crt);
    return st;
}

int64_t mqtls__pki_now_or(int64_t now_s)
{
    return now_s != 0 ? now_s : (int64_t)time(NULL);
}

/* Write key (0600) then certificate (0644). */
mqtls_status_t mqtls__pki_write_pair(const mqtls_pki_result_t *paths, mbedtls_pk_context *key,
                                     const unsigned char *cert_pem, bool force, mqtls_error_t *err)
{
    unsigned char *key_pem = calloc(1, PEM_CAP);
    if (key_pem == NULL) {
        return mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "key buffer");
    }
    mqtls_status_t st = MQTLS_OK;
    int ret = mbedtls_pk_write_key_pem(key, key_pem, PEM_CAP);
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "encoding the private key");
    }
    if (st == MQTLS_OK) {
        st = mqtls__pki_write_new_file(paths->key_path, key_pem, strlen((const char *)key_pem),
                                       0600, force ? 1 : 0, err);
    }
    mbedtls_platform_zeroize(key_pem, PEM_CAP);
    free(key_pem);
    if (st == MQTLS_OK) {
        st = mqtls__pki_write_new_file(paths->cert_path, cert_pem, strlen((const char *)cert_pem),
                                       0644, force ? 1 : 0, err);
        if (st != MQTLS_OK) {
            (void)unlink(paths->key_path); /* a key without its certificate is useless */
        }
    }
    return st;
}

/* ---- public API ---------------------------------------------------------------------------- */

void mqtls_pki_req_init_sized(mqtls_pki_req_t *req, size_t size)
{
    mqtls_pki_req_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    mqtls__struct_init(req, size, &d, sizeof d);
}

/* The first public layout (ABI 1): callers cannot be older than this. */
#define PKI_REQ_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_pki_req_t, now_s)

/* Take the caller's versioned request into @p full. */
static mqtls_status_t import_req(const mqtls_pki_req_t *req, mqtls_pki_req_t *full,
                                 mqtls_error_t *err)
{
    if (req == NULL) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "no request given");
    }
    mqtls_pki_req_init(full);
    mqtls_status_t st = mqtls__struct_import(full, sizeof *full, req, PKI_REQ_V1_SIZE);
    if (st != MQTLS_OK) {
        return mqtls__pki_fail(err, st, 0, 0,
                               st == MQTLS_ERR_INVALID_ARG
                                   ? "mqtls_pki_req_t not initialised: call mqtls_pki_req_init()"
                                   : "mqtls_pki_req_t sets fields of a newer mqtls");
    }
    if (full->dir == NULL || full->dir[0] == '\0') {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "no PKI directory given");
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_pki_create_ca(const mqtls_pki_req_t *caller_req, mqtls_pki_result_t *res,
                                   mqtls_error_t *err)
{
    mqtls_pki_req_t full;
    mqtls_status_t st = import_req(caller_req, &full, err);
    if (st != MQTLS_OK) {
        return st;
    }
    const mqtls_pki_req_t *req = &full;
    st = check_key_request(req, err);
    if (st != MQTLS_OK) {
        return st;
    }
    char subject[200];
    st = mqtls__pki_cn_string(req->name != NULL ? req->name : MQTLS_PKI_CA_NAME_DEFAULT, subject,
                              sizeof subject, err);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_pki_result_t paths;
    memset(&paths, 0, sizeof paths);
    if ((st = mqtls__pki_join_path(paths.cert_path, sizeof paths.cert_path, req->dir, "ca", ".crt",
                                   err)) != MQTLS_OK ||
        (st = mqtls__pki_join_path(paths.key_path, sizeof paths.key_path, req->dir, "ca", ".key",
                                   err)) != MQTLS_OK ||
        (st = mqtls__pki_check_dir(req->dir, err)) != MQTLS_OK ||
        (st = mqtls__pki_check_outputs(&paths, req->force, err)) != MQTLS_OK) {
        return st;
    }

    mqtls__x509_rng_t r;
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    unsigned char *pem = calloc(1, PEM_CAP);
    int ret = mqtls__x509_rng_setup(&r, RNG_PERS);
    if (pem == NULL) {
        st = mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "certificate buffer");
        goto out;
    }
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "seeding the random generator");
        goto out;
    }
    ret = mqtls__pki_gen_key(&key, req->key_type, req->rsa_bits, &r);
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "generating the CA key");
        goto out;
    }
    int64_t now = mqtls__pki_now_or(req->now_s);
    unsigned days = req->days != 0 ? req->days : MQTLS_PKI_CA_DAYS_DEFAULT;
    mqtls__pki_cert_spec_t spec = {
        .subject = subject,
        .issuer = NULL,
        .subject_key = &key,
        .issuer_key = &key,
        .not_before = now - VALIDITY_BACKDATE_S,
        .not_after = now + (int64_t)days * SECONDS_PER_DAY,
        .is_ca = 1,
        .key_usage = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN,
    };
    st = mqtls__pki_sign_cert(&spec, &r, pem, PEM_CAP, err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_write_pair(&paths, &key, pem, req->force, err);
    }
    if (st == MQTLS_OK && res != NULL) {
        *res = paths;
    }
out:
    free(pem);
    mbedtls_pk_free(&key);
    mqtls__x509_rng_free(&r);
    return st;
}

/* The CA of @p dir: certificate and private key, checked to belong together. */
mqtls_status_t mqtls__pki_load_ca(const char *dir, mbedtls_x509_crt *ca, mbedtls_pk_context *ca_key,
                                  mqtls__x509_rng_t *r, mqtls_error_t *err)
{
    char path[MQTLS_PKI_PATH_MAX];
    unsigned char *buf = NULL;
    size_t len = 0;
    mqtls_status_t st = mqtls__pki_join_path(path, sizeof path, dir, "ca", ".crt", err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_read_file(path, &buf, &len, err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    int ret = mbedtls_x509_crt_parse(ca, buf, len);
    free(buf);
    if (ret != 0) {
        return mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, ret < 0 ? ret : 0, 0, "%s", path);
    }
    if (!mqtls__dm_crt_is_ca(ca)) {
        return mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0, "%s: not a CA (basicConstraints)",
                               path);
    }
    st = mqtls__pki_join_path(path, sizeof path, dir, "ca", ".key", err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_read_file(path, &buf, &len, err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    ret = mqtls__x509_pk_parse_key(ca_key, buf, len, NULL, mbedtls_ctr_drbg_random, &r->drbg);
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        return mqtls__pki_fail(err, MQTLS_ERR_KEY_PASSWORD_REQUIRED, 0, 0, "%s", path);
    }
    if (ret != 0) {
        return mqtls__pki_fail(err, MQTLS_ERR_KEY_PARSE, ret, 0, "%s", path);
    }
    ret = mqtls__x509_pk_check_pair(&ca->pk, ca_key, mbedtls_ctr_drbg_random, &r->drbg);
    if (ret != 0) {
        return mqtls__pki_fail(err, MQTLS_ERR_KEY_MISMATCH, 0, 0, "%s does not match ca.crt", path);
    }
    return MQTLS_OK;
}

/* Server SAN entries: the name first (as DNS, or as IP if it is an address), then --dns and
 * --ip, without duplicates. */
static mqtls_status_t collect_san(const mqtls_pki_req_t *req, san_entry_t *out, size_t cap,
                                  size_t *count, mqtls_error_t *err)
{
    unsigned char ip[16];
    size_t n = 0;
    size_t total = 1 + req->dns_count + req->ip_count;
    if (total > cap) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "at most %zu SAN entries", cap);
    }
    out[n].is_ip = mqtls__pki_parse_ip(req->name, ip) != 0;
    out[n].text = req->name;
    if (!out[n].is_ip && !mqtls__pki_is_dns_name(req->name)) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "'%s' is not a valid host name",
                               req->name);
    }
    n++;
    for (size_t i = 0; i < req->dns_count + req->ip_count; i++) {
        int is_ip = i >= req->dns_count;
        const char *t = is_ip ? req->ips[i - req->dns_count] : req->dns[i];
        if (t == NULL || (is_ip ? mqtls__pki_parse_ip(t, ip) == 0 : !mqtls__pki_is_dns_name(t))) {
            return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "'%s' is not a valid %s",
                                   t != NULL ? t : "(null)",
                                   is_ip ? "IPv4/IPv6 address" : "DNS name");
        }
        int dup = 0;
        for (size_t j = 0; j < n; j++) {
            dup |= out[j].is_ip == is_ip && strcmp(out[j].text, t) == 0;
        }
        if (!dup) {
            out[n].is_ip = is_ip;
            out[n].text = t;
            n++;
        }
    }
    *count = n;
    return MQTLS_OK;
}

mqtls_status_t mqtls_pki_issue(mqtls_pki_kind_t kind, const mqtls_pki_req_t *caller_req,
                               mqtls_pki_result_t *res, mqtls_error_t *err)
{
    mqtls_pki_req_t full;
    mqtls_status_t ist = import_req(caller_req, &full, err);
    if (ist != MQTLS_OK) {
        return ist;
    }
    const mqtls_pki_req_t *req = &full;
    if (kind != MQTLS_PKI_SERVER && kind != MQTLS_PKI_CLIENT) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "unknown certificate kind");
    }
    if (req->name == NULL || req->name[0] == '\0') {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "a name is required");
    }
    if (kind == MQTLS_PKI_CLIENT && !mqtls__pki_is_safe_file_name(req->name)) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0,
                               "client name '%s' must be 1-64 of [A-Za-z0-9._-] and not start "
                               "with '.' or '-' (it is also the file name)",
                               req->name);
    }
    if (kind == MQTLS_PKI_CLIENT && (req->dns_count != 0 || req->ip_count != 0)) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0,
                               "client certificates take no DNS or IP names");
    }
    mqtls_status_t st = check_key_request(req, err);
    if (st != MQTLS_OK) {
        return st;
    }
    char subject[200];
    if ((st = mqtls__pki_cn_string(req->name, subject, sizeof subject, err)) != MQTLS_OK) {
        return st;
    }
    san_entry_t san[64];
    size_t san_count = 0;
    if (kind == MQTLS_PKI_SERVER &&
        (st = collect_san(req, san, sizeof san / sizeof san[0], &san_count, err)) != MQTLS_OK) {
        return st;
    }
    const char *base = kind == MQTLS_PKI_SERVER ? "server" : req->name;
    mqtls_pki_result_t paths;
    memset(&paths, 0, sizeof paths);
    if ((st = mqtls__pki_join_path(paths.cert_path, sizeof paths.cert_path, req->dir, base, ".crt",
                                   err)) != MQTLS_OK ||
        (st = mqtls__pki_join_path(paths.key_path, sizeof paths.key_path, req->dir, base, ".key",
                                   err)) != MQTLS_OK ||
        (st = mqtls__pki_check_dir(req->dir, err)) != MQTLS_OK ||
        (st = mqtls__pki_check_outputs(&paths, req->force, err)) != MQTLS_OK) {
        return st;
    }

    mqtls__x509_rng_t r;
    mbedtls_x509_crt ca;
    mbedtls_pk_context ca_key;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&key);
    unsigned char *pem = calloc(1, PEM_CAP);
    unsigned char *ext = calloc(2, EXT_CAP);
    int ret = mqtls__x509_rng_setup(&r, RNG_PERS);
    if (pem == NULL || ext == NULL) {
        st = mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "certificate buffer");
        goto out;
    }
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "seeding the random generator");
        goto out;
    }
    if ((st = mqtls__pki_load_ca(req->dir, &ca, &ca_key, &r, err)) != MQTLS_OK) {
        goto out;
    }
    char issuer[512];
    if ((st = mqtls__pki_dn_string(&ca.subject, issuer, sizeof issuer, err)) != MQTLS_OK) {
        goto out;
    }

    /* Key type follows the CA unless the request overrides it. */
    mqtls_pki_key_type_t type = req->key_type;
    unsigned bits = req->rsa_bits;
    if (type == MQTLS_PKI_KEY_AUTO) {
        if (mbedtls_pk_can_do(&ca_key, MBEDTLS_PK_RSA)) {
            type = MQTLS_PKI_KEY_RSA;
            bits = (unsigned)mbedtls_pk_get_bitlen(&ca_key);
            if (bits != 2048 && bits != 3072 && bits != 4096) {
                bits = bits < 2048 ? 2048 : 4096;
            }
        } else {
            type = MQTLS_PKI_KEY_EC;
        }
    }
    int64_t now = mqtls__pki_now_or(req->now_s);
    unsigned days = req->days != 0 ? req->days : MQTLS_PKI_LEAF_DAYS_DEFAULT;
    int64_t not_after = now + (int64_t)days * SECONDS_PER_DAY;
    int64_t ca_end = mqtls__x509_time_unix(&ca.valid_to);
    if (ca_end <= now) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0,
                             "ca.crt expired on %04d-%02d-%02d: create a new CA (pki init --force)",
                             ca.valid_to.year, ca.valid_to.mon, ca.valid_to.day);
        goto out;
    }
    if (not_after > ca_end) {
        not_after = ca_end; /* a leaf outliving its CA only fails later, confusingly */
    }
    ret = mqtls__pki_gen_key(&key, type, bits, &r);
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "generating the key");
        goto out;
    }
    unsigned char *san_der = NULL;
    unsigned char *eku_der = NULL;
    int san_len = 0;
    if (kind == MQTLS_PKI_SERVER) {
        san_len = write_san(ext, EXT_CAP, san, san_count, &san_der);
        if (san_len < 0) {
            st = mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, san_len, 0, "subjectAltName");
            goto out;
        }
    }
    int eku_len = kind == MQTLS_PKI_SERVER
                      ? mqtls__pki_write_eku(ext + EXT_CAP, EXT_CAP, MBEDTLS_OID_SERVER_AUTH,
                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH), &eku_der)
                      : mqtls__pki_write_eku(ext + EXT_CAP, EXT_CAP, MBEDTLS_OID_CLIENT_AUTH,
                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH), &eku_der);
    if (eku_len < 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, eku_len, 0, "extendedKeyUsage");
        goto out;
    }
    unsigned ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    if (kind == MQTLS_PKI_SERVER && type == MQTLS_PKI_KEY_RSA) {
        ku |= MBEDTLS_X509_KU_KEY_ENCIPHERMENT; /* TLS 1.2 RSA key exchange */
    }
    mqtls__pki_cert_spec_t spec = {
        .subject = subject,
        .issuer = issuer,
        .subject_key = &key,
        .issuer_key = &ca_key,
        .not_before = now - VALIDITY_BACKDATE_S,
        .not_after = not_after,
        .is_ca = 0,
        .key_usage = ku,
        .san = san_der,
        .san_len = san_len > 0 ? (size_t)san_len : 0,
        .eku = eku_der,
        .eku_len = (size_t)eku_len,
    };
    st = mqtls__pki_sign_cert(&spec, &r, pem, PEM_CAP, err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_write_pair(&paths, &key, pem, req->force, err);
    }
    if (st == MQTLS_OK && res != NULL) {
        *res = paths;
    }
out:
    free(ext);
    free(pem);
    mbedtls_pk_free(&key);
    mbedtls_pk_free(&ca_key);
    mbedtls_x509_crt_free(&ca);
    mqtls__x509_rng_free(&r);
    return st;
}
