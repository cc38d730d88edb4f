/* mbedTLS 2.28 / 3.x differences for X.509 and pk (compat.h): the only file of the project with
 * an MBEDTLS_VERSION_NUMBER guard about certificates and keys. */
#include "x509/compat.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define CRT_FIELD(crt, f) ((crt)->MBEDTLS_PRIVATE(f))
#else
#define CRT_FIELD(crt, f) ((crt)->f)
#endif

/* ---- keys -------------------------------------------------------------------------------- */

int mqtls__x509_rng_setup(mqtls__x509_rng_t *r, const char *pers)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                 (const unsigned char *)pers, strlen(pers));
}

void mqtls__x509_rng_free(mqtls__x509_rng_t *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* 3.x wants an RNG for key parsing (blinding) and pair checks. Callers without one get a DRBG
 * seeded for the call: a correct answer with no state shared between threads. */
#define CALL_RNG_PERS "mqtls-x509"

int mqtls__x509_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *buf, size_t len,
                             const char *password, mqtls__x509_rng_fn f_rng, void *p_rng)
{
    const unsigned char *pwd = (const unsigned char *)password;
    size_t pwd_len = password != NULL ? strlen(password) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (f_rng != NULL) {
        return mbedtls_pk_parse_key(pk, buf, len, pwd, pwd_len, f_rng, p_rng);
    }
    mqtls__x509_rng_t r;
    int ret = mqtls__x509_rng_setup(&r, CALL_RNG_PERS);
    if (ret == 0) {
        ret = mbedtls_pk_parse_key(pk, buf, len, pwd, pwd_len, mbedtls_ctr_drbg_random, &r.drbg);
    }
    mqtls__x509_rng_free(&r);
    return ret;
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(pk, buf, len, pwd, pwd_len);
#endif
}

int mqtls__x509_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
                              mqtls__x509_rng_fn f_rng, void *p_rng)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (f_rng != NULL) {
        return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
    }
    mqtls__x509_rng_t r;
    int ret = mqtls__x509_rng_setup(&r, CALL_RNG_PERS);
    if (ret == 0) {
        ret = mbedtls_pk_check_pair(pub, prv, mbedtls_ctr_drbg_random, &r.drbg);
    }
    mqtls__x509_rng_free(&r);
    return ret;
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

int mqtls__dm_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len,
                           const char *password)
{
    return mqtls__x509_pk_parse_key(pk, key, len, password, NULL, NULL);
}

int mqtls__dm_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
    return mqtls__x509_pk_check_pair(pub, prv, NULL, NULL);
}

mbedtls_ecp_group_id mqtls__x509_pk_ec_group(const mbedtls_pk_context *pk)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECKEY_DH && t != MBEDTLS_PK_ECDSA) {
        return MBEDTLS_ECP_DP_NONE;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    /* 3.6: the keypair's fields are private; this accessor is the public way. */
    return mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*pk));
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp).id;
#else
    return mbedtls_pk_ec(*pk)->grp.id;
#endif
}

/* The curves of certinfo.h: mbedTLS's id and the size that profiles with a minimum compare. */
static const struct curve_row {
    mqtls_curve_t curve;
    mbedtls_ecp_group_id id;
    unsigned bits;
} curves[] = {
    {MQTLS_CURVE_P192, MBEDTLS_ECP_DP_SECP192R1, 192},
    {MQTLS_CURVE_P224, MBEDTLS_ECP_DP_SECP224R1, 224},
    {MQTLS_CURVE_P256, MBEDTLS_ECP_DP_SECP256R1, 256},
    {MQTLS_CURVE_P384, MBEDTLS_ECP_DP_SECP384R1, 384},
    {MQTLS_CURVE_P521, MBEDTLS_ECP_DP_SECP521R1, 521},
    {MQTLS_CURVE_K192, MBEDTLS_ECP_DP_SECP192K1, 192},
    {MQTLS_CURVE_K224, MBEDTLS_ECP_DP_SECP224K1, 224},
    {MQTLS_CURVE_K256, MBEDTLS_ECP_DP_SECP256K1, 256},
    {MQTLS_CURVE_BP256, MBEDTLS_ECP_DP_BP256R1, 256},
    {MQTLS_CURVE_BP384, MBEDTLS_ECP_DP_BP384R1, 384},
    {MQTLS_CURVE_BP512, MBEDTLS_ECP_DP_BP512R1, 512},
};

/* The signature hashes of certinfo.h as mbedTLS names them. */
static const struct {
    mqtls_hash_t hash;
    mbedtls_md_type_t md;
} hashes[] = {
    {MQTLS_HASH_MD5, MBEDTLS_MD_MD5},       {MQTLS_HASH_SHA1, MBEDTLS_MD_SHA1},
    {MQTLS_HASH_SHA224, MBEDTLS_MD_SHA224}, {MQTLS_HASH_SHA256, MBEDTLS_MD_SHA256},
    {MQTLS_HASH_SHA384, MBEDTLS_MD_SHA384}, {MQTLS_HASH_SHA512, MBEDTLS_MD_SHA512},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

mqtls_curve_t mqtls__dm_pk_curve(const mbedtls_pk_context *pk)
{
    mbedtls_ecp_group_id id = mqtls__x509_pk_ec_group(pk);
    if (id == MBEDTLS_ECP_DP_NONE) {
        return MQTLS_CURVE_NONE;
    }
    for (size_t i = 0; i < COUNT(curves); i++) {
        if (curves[i].id == id) {
            return curves[i].curve;
        }
    }
    return MQTLS_CURVE_OTHER;
}

/* The row of @p c in curves[], or NULL. */
static const struct curve_row *curve_row(mqtls_curve_t c)
{
    for (size_t i = 0; i < COUNT(curves); i++) {
        if (curves[i].curve == c) {
            return &curves[i];
        }
    }
    return NULL;
}

mbedtls_ecp_group_id mqtls__x509_curve_group(mqtls_curve_t c)
{
    const struct curve_row *row = curve_row(c);
    return row != NULL ? row->id : MBEDTLS_ECP_DP_NONE;
}

unsigned mqtls__x509_curve_bits(mqtls_curve_t c)
{
    const struct curve_row *row = curve_row(c);
    return row != NULL ? row->bits : 0;
}

mqtls_key_type_t mqtls__dm_pk_type(const mbedtls_pk_context *pk)
{
    switch (mbedtls_pk_get_type(pk)) {
    case MBEDTLS_PK_RSA:
        return MQTLS_KEY_RSA;
    case MBEDTLS_PK_RSASSA_PSS:
        return MQTLS_KEY_RSA_PSS;
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECKEY_DH:
    case MBEDTLS_PK_ECDSA:
        return MQTLS_KEY_EC;
    case MBEDTLS_PK_NONE:
        return MQTLS_KEY_NONE;
    default:
        return MQTLS_KEY_OTHER;
    }
}

mqtls_hash_t mqtls__dm_hash(mbedtls_md_type_t md)
{
    if (md == MBEDTLS_MD_NONE) {
        return MQTLS_HASH_NONE;
    }
    for (size_t i = 0; i < COUNT(hashes); i++) {
        if (hashes[i].md == md) {
            return hashes[i].hash;
        }
    }
    return MQTLS_HASH_OTHER;
}

mbedtls_md_type_t mqtls__x509_hash_md(mqtls_hash_t h)
{
    for (size_t i = 0; i < COUNT(hashes); i++) {
        if (hashes[i].hash == h) {
            return hashes[i].md;
        }
    }
    return MBEDTLS_MD_NONE;
}

/* ---- certificates ------------------------------------------------------------------------ */

bool mqtls__dm_crt_is_ca(const mbedtls_x509_crt *crt)
{
    return CRT_FIELD(crt, ca_istrue) != 0;
}

bool mqtls__dm_crt_has_ext(const mbedtls_x509_crt *crt, int ext)
{
    return (CRT_FIELD(crt, ext_types) & ext) != 0;
}

int mqtls__dm_crt_max_pathlen(const mbedtls_x509_crt *crt)
{
    /* mbedTLS stores RFC 5280 pathLenConstraint + 1; 0 = no constraint. */
    int v = CRT_FIELD(crt, max_pathlen);
    return v > 0 ? v - 1 : -1;
}

unsigned mqtls__dm_crt_key_usage(const mbedtls_x509_crt *crt)
{
    return CRT_FIELD(crt, key_usage);
}

mbedtls_md_type_t mqtls__dm_crt_sig_md(const mbedtls_x509_crt *crt)
{
    return CRT_FIELD(crt, sig_md);
}

mbedtls_pk_type_t mqtls__dm_crt_sig_pk(const mbedtls_x509_crt *crt)
{
    return CRT_FIELD(crt, sig_pk);
}

int mqtls__dm_verify_signature(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent)
{
    mbedtls_md_type_t md = CRT_FIELD(child, sig_md);
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    if (info == NULL) {
        return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
    }
    int ret = mbedtls_md(info, child->tbs.p, child->tbs.len, hash);
    if (ret != 0) {
        return ret;
    }
    /* pk_verify_ext also handles RSASSA-PSS (sig_opts); the cast drops const only because the
     * 2.28 prototype takes a non-const context. */
    return mbedtls_pk_verify_ext(CRT_FIELD(child, sig_pk), CRT_FIELD(child, sig_opts),
                                 (mbedtls_pk_context *)(uintptr_t)&parent->pk, md, hash,
                                 mbedtls_md_get_size(info), CRT_FIELD(child, sig).p,
                                 CRT_FIELD(child, sig).len);
}

int mqtls__x509_write_set_serial(mbedtls_x509write_cert *crt, unsigned char *bytes, size_t len)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
    return mbedtls_x509write_crt_set_serial_raw(crt, bytes, len); /* set_serial is deprecated */
#else
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    int ret = mbedtls_mpi_read_binary(&serial, bytes, len);
    if (ret == 0) {
        ret = mbedtls_x509write_crt_set_serial(crt, &serial);
    }
    mbedtls_mpi_free(&serial);
    return ret;
#endif
}

void mqtls__dm_dn_gets_der(const uint8_t *der, size_t len, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    out[0] = '\0';
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    size_t tl;
    mbedtls_x509_name nm;
    memset(&nm, 0, sizeof nm);
    if (mbedtls_asn1_get_tag(&p, end, &tl, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0 &&
        mbedtls_x509_get_name(&p, p + tl, &nm) == 0 && mbedtls_x509_dn_gets(out, cap, &nm) < 0) {
        out[0] = '\0';
    }
    /* 2.28 has no helper to free the nodes get_name allocated after the first. */
    mbedtls_x509_name *n = nm.next;
    for (int guard = 0; n != NULL && guard < 256; guard++) {
        mbedtls_x509_name *next = n->next;
        mbedtls_platform_zeroize(n, sizeof *n);
        mbedtls_free(n);
        n = next;
    }
#else
    (void)der;
    (void)len;
#endif
}

/* ---- library facts ----------------------------------------------------------------------- */

bool mqtls__x509_lib_matches_ip_san(void)
{
    return MBEDTLS_VERSION_NUMBER >= 0x03050000;
}

bool mqtls__dm_ret_is_no_shared_cipher(int ret)
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    return ret == MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN ||
           ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION;
#else
    return ret == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION || ret == MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE;
#endif
}

bool mqtls__dm_ret_is_version_mismatch(int ret)
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    return ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION;
#else
    return ret == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION;
#endif
}

bool mqtls__dm_is_v2(void)
{
    return MBEDTLS_VERSION_NUMBER < 0x03000000;
}

const uint8_t *mqtls__dm_pem_buf(const mbedtls_pem_context *pem, size_t *len)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    *len = pem->MBEDTLS_PRIVATE(buflen);
    return pem->MBEDTLS_PRIVATE(buf);
#else
    *len = pem->buflen;
    return pem->buf;
#endif
}
