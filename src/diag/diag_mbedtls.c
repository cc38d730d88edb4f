/* mbedTLS 2.28 / 3.x differences for src/diag, in one place (STYLE.md "Layout"). */
#include "diag_mbedtls.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#define DM_FIELD(x) MBEDTLS_PRIVATE(x)
#else
#define DM_FIELD(x) x
#endif

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
/* 3.x wants an RNG for key parsing (blinding) and pair checks. Diagnosis only needs a
 * correct answer, so a DRBG per call keeps us thread-safe without shared state. */
typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} dm_rng_t;

static int dm_rng_setup(dm_rng_t *r)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                 (const unsigned char *)"mqtls-diag", 10);
}

static void dm_rng_free(dm_rng_t *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}
#endif

int mqtls__dm_pk_parse_key(mbedtls_pk_context *pk, const uint8_t *key, size_t len,
                           const char *password)
{
    const unsigned char *pwd = (const unsigned char *)password;
    size_t pwd_len = password != NULL ? strlen(password) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    dm_rng_t r;
    int ret = dm_rng_setup(&r);
    if (ret == 0) {
        ret = mbedtls_pk_parse_key(pk, key, len, pwd, pwd_len, mbedtls_ctr_drbg_random, &r.drbg);
    }
    dm_rng_free(&r);
    return ret;
#else
    return mbedtls_pk_parse_key(pk, key, len, pwd, pwd_len);
#endif
}

int mqtls__dm_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    dm_rng_t r;
    int ret = dm_rng_setup(&r);
    if (ret == 0) {
        ret = mbedtls_pk_check_pair(pub, prv, mbedtls_ctr_drbg_random, &r.drbg);
    }
    dm_rng_free(&r);
    return ret;
#else
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

bool mqtls__dm_crt_is_ca(const mbedtls_x509_crt *crt)
{
    return crt->DM_FIELD(ca_istrue) != 0;
}

bool mqtls__dm_crt_has_ext(const mbedtls_x509_crt *crt, int ext)
{
    return (crt->DM_FIELD(ext_types) & ext) != 0;
}

int mqtls__dm_crt_max_pathlen(const mbedtls_x509_crt *crt)
{
    /* mbedTLS stores RFC 5280 pathLenConstraint + 1; 0 = no constraint. */
    int v = crt->DM_FIELD(max_pathlen);
    return v > 0 ? v - 1 : -1;
}

unsigned mqtls__dm_crt_key_usage(const mbedtls_x509_crt *crt)
{
    return crt->DM_FIELD(key_usage);
}

mbedtls_md_type_t mqtls__dm_crt_sig_md(const mbedtls_x509_crt *crt)
{
    return crt->DM_FIELD(sig_md);
}

mbedtls_pk_type_t mqtls__dm_crt_sig_pk(const mbedtls_x509_crt *crt)
{
    return crt->DM_FIELD(sig_pk);
}

int mqtls__dm_verify_signature(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent)
{
    mbedtls_md_type_t md = child->DM_FIELD(sig_md);
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
    return mbedtls_pk_verify_ext(child->DM_FIELD(sig_pk), child->DM_FIELD(sig_opts),
                                 (mbedtls_pk_context *)(uintptr_t)&parent->pk, md, hash,
                                 mbedtls_md_get_size(info), child->DM_FIELD(sig).p,
                                 child->DM_FIELD(sig).len);
}

mqtls_curve_t mqtls__dm_pk_curve(const mbedtls_pk_context *pk)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECKEY_DH && t != MBEDTLS_PK_ECDSA) {
        return MQTLS_CURVE_NONE;
    }
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    switch (ec->DM_FIELD(grp).id) {
    case MBEDTLS_ECP_DP_SECP192R1:
        return MQTLS_CURVE_P192;
    case MBEDTLS_ECP_DP_SECP224R1:
        return MQTLS_CURVE_P224;
    case MBEDTLS_ECP_DP_SECP256R1:
        return MQTLS_CURVE_P256;
    case MBEDTLS_ECP_DP_SECP384R1:
        return MQTLS_CURVE_P384;
    case MBEDTLS_ECP_DP_SECP521R1:
        return MQTLS_CURVE_P521;
    case MBEDTLS_ECP_DP_SECP192K1:
        return MQTLS_CURVE_K192;
    case MBEDTLS_ECP_DP_SECP224K1:
        return MQTLS_CURVE_K224;
    case MBEDTLS_ECP_DP_SECP256K1:
        return MQTLS_CURVE_K256;
    case MBEDTLS_ECP_DP_BP256R1:
        return MQTLS_CURVE_BP256;
    case MBEDTLS_ECP_DP_BP384R1:
        return MQTLS_CURVE_BP384;
    case MBEDTLS_ECP_DP_BP512R1:
        return MQTLS_CURVE_BP512;
    default:
        return MQTLS_CURVE_OTHER;
    }
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
    switch (md) {
    case MBEDTLS_MD_NONE:
        return MQTLS_HASH_NONE;
    case MBEDTLS_MD_MD5:
        return MQTLS_HASH_MD5;
    case MBEDTLS_MD_SHA1:
        return MQTLS_HASH_SHA1;
    case MBEDTLS_MD_SHA224:
        return MQTLS_HASH_SHA224;
    case MBEDTLS_MD_SHA256:
        return MQTLS_HASH_SHA256;
    case MBEDTLS_MD_SHA384:
        return MQTLS_HASH_SHA384;
    case MBEDTLS_MD_SHA512:
        return MQTLS_HASH_SHA512;
    default:
        return MQTLS_HASH_OTHER;
    }
}

bool mqtls__dm_is_v2(void)
{
    return MBEDTLS_VERSION_NUMBER < 0x03000000;
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

bool mqtls__dm_ret_is_no_shared_cipher(int ret)
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    return ret == MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN ||
           ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION;
#else
    return ret == MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION || ret == MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE;
#endif
}
