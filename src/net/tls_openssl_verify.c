/* The OpenSSL engine's verification of the server chain (tls_openssl.h), shaped like mbedTLS's
 * so that diagnosis reads the same facts whatever engine connected:
 *  - every error OpenSSL finds is collected (the verify callback never stops it) and mapped to
 *    the MBEDTLS_X509_BADCERT_* numbering through ONE table (badcert_map below), at the depth
 *    OpenSSL reports it;
 *  - OpenSSL's own key and hash policy (its security level) is off for the chain; the
 *    profile's rows are applied instead where mbedTLS 3.6's x509_crt_verify_chain() applies
 *    them: BAD_MD / BAD_PK on each certificate that is not the trust anchor for its signature,
 *    BAD_KEY on it for its issuer's key, BAD_KEY on the leaf for its own key;
 *  - as mbedTLS's TLS layer: serverAuth and digitalSignature on the leaf only;
 *  - with a judge (an explicit device profile), OpenSSL verifies nothing: the device's mbedTLS
 *    judges the chain the server sent (mqtls__tls_after_verify) and its verdict stands.
 * The verdict decides the handshake: a rejected chain fails it with the alert mbedTLS sends. */
#include "tls_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>

/* ---- the one table --------------------------------------------------------------------- */

static const struct {
    int err;
    uint32_t flag;
} badcert_map[] = {
    {X509_V_ERR_CERT_HAS_EXPIRED, MQTLS__BADCERT_EXPIRED},
    {X509_V_ERR_CERT_NOT_YET_VALID, MQTLS__BADCERT_FUTURE},
    {X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, MQTLS__BADCERT_OTHER},
    {X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, MQTLS__BADCERT_OTHER},
    {X509_V_ERR_CERT_REVOKED, MQTLS__BADCERT_REVOKED},
    {X509_V_ERR_HOSTNAME_MISMATCH, MQTLS__BADCERT_CN_MISMATCH},
    {X509_V_ERR_IP_ADDRESS_MISMATCH, MQTLS__BADCERT_CN_MISMATCH},
    {X509_V_ERR_EMAIL_MISMATCH, MQTLS__BADCERT_CN_MISMATCH},
    /* mbedTLS finds no acceptable parent, or a parent whose signature does not verify:
     * NOT_TRUSTED on the certificate where the chain stops. */
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_CERT_UNTRUSTED, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_CERT_REJECTED, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_CERT_SIGNATURE_FAILURE, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_INVALID_CA, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_PATH_LENGTH_EXCEEDED, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_CERT_CHAIN_TOO_LONG, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_KEYUSAGE_NO_CERTSIGN, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_SUBJECT_ISSUER_MISMATCH, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_AKID_SKID_MISMATCH, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_NO_ISSUER_PUBLIC_KEY, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_PATH_LOOP, MQTLS__BADCERT_NOT_TRUSTED},
    {X509_V_ERR_INVALID_PURPOSE, MQTLS__BADCERT_EXT_KEY_USAGE},
    {X509_V_ERR_EE_KEY_TOO_SMALL, MQTLS__BADCERT_BAD_KEY},
    {X509_V_ERR_CA_KEY_TOO_SMALL, MQTLS__BADCERT_BAD_KEY},
    {X509_V_ERR_CA_MD_TOO_WEAK, MQTLS__BADCERT_BAD_MD},
    {X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, MQTLS__BADCERT_OTHER},
    {X509_V_ERR_INVALID_EXTENSION, MQTLS__BADCERT_OTHER},
    /* mqtls gives OpenSSL no CRL: nothing to map. */
    {X509_V_ERR_UNABLE_TO_GET_CRL, 0},
};

uint32_t mqtls__ossl_badcert_flag(int x509_v_err)
{
    for (size_t i = 0; i < sizeof badcert_map / sizeof badcert_map[0]; i++) {
        if (badcert_map[i].err == x509_v_err) {
            return badcert_map[i].flag;
        }
    }
    return x509_v_err == X509_V_OK ? 0 : MQTLS__BADCERT_OTHER;
}

int mqtls__ossl_err_for_alert(int alert)
{
    /* Errors OpenSSL turns into these alerts (ssl_x509err2alert() in statem_lib.c). */
    switch (alert) {
    case 42: /* bad_certificate */
        return X509_V_ERR_HOSTNAME_MISMATCH;
    case 43: /* unsupported_certificate */
        return X509_V_ERR_INVALID_PURPOSE;
    case 44: /* certificate_revoked */
        return X509_V_ERR_CERT_REVOKED;
    case 45: /* certificate_expired */
        return X509_V_ERR_CERT_HAS_EXPIRED;
    case 48: /* unknown_ca */
        return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    default: /* certificate_unknown: an error the table of OpenSSL does not list */
        return X509_V_ERR_SUBJECT_ISSUER_MISMATCH;
    }
}

/* ---- the profile's rows, where mbedTLS applies them ---------------------------------------- */

static const struct {
    int nid;
    mqtls_curve_t curve;
    unsigned bits;
} curve_map[] = {
    {NID_X9_62_prime192v1, MQTLS_CURVE_P192, 192}, {NID_secp224r1, MQTLS_CURVE_P224, 224},
    {NID_X9_62_prime256v1, MQTLS_CURVE_P256, 256}, {NID_secp384r1, MQTLS_CURVE_P384, 384},
    {NID_secp521r1, MQTLS_CURVE_P521, 521},        {NID_secp192k1, MQTLS_CURVE_K192, 192},
    {NID_secp224k1, MQTLS_CURVE_K224, 224},        {NID_secp256k1, MQTLS_CURVE_K256, 256},
    {NID_brainpoolP256r1, MQTLS_CURVE_BP256, 256}, {NID_brainpoolP384r1, MQTLS_CURVE_BP384, 384},
    {NID_brainpoolP512r1, MQTLS_CURVE_BP512, 512},
};

static const struct {
    int nid;
    mqtls_hash_t hash;
} hash_map[] = {
    {NID_md5, MQTLS_HASH_MD5},       {NID_sha1, MQTLS_HASH_SHA1},
    {NID_sha224, MQTLS_HASH_SHA224}, {NID_sha256, MQTLS_HASH_SHA256},
    {NID_sha384, MQTLS_HASH_SHA384}, {NID_sha512, MQTLS_HASH_SHA512},
};

/* x509_profile_check_key(): RSA by size, EC by curve, any other key type fails. */
static bool key_ok(const mqtls__profile_t *p, const X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk == NULL) {
        return false;
    }
    int id = EVP_PKEY_get_base_id(pk);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        return (unsigned)EVP_PKEY_get_bits(pk) >= p->rsa_min_bits;
    }
    if (id != EVP_PKEY_EC) {
        return false;
    }
    char group[64];
    if (EVP_PKEY_get_group_name(pk, group, sizeof group, NULL) != 1) {
        return false;
    }
    int nid = OBJ_sn2nid(group);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(group);
    }
    for (size_t i = 0; i < sizeof curve_map / sizeof curve_map[0]; i++) {
        if (curve_map[i].nid == nid) {
            if (p->ec_min_bits > 0) {
                return curve_map[i].bits >= p->ec_min_bits;
            }
            return (p->curves & (1u << curve_map[i].curve)) != 0;
        }
    }
    return false;
}

/* x509_profile_check_md_alg() and _pk_alg() on @p x's signature: BAD_MD / BAD_PK. */
static uint32_t signature_flags(const mqtls__profile_t *p, const X509 *x)
{
    int mdnid = NID_undef;
    int pknid = NID_undef;
    if (X509_get_signature_info((X509 *)(uintptr_t)x, &mdnid, &pknid, NULL, NULL) != 1) {
        return MQTLS__BADCERT_BAD_MD | MQTLS__BADCERT_BAD_PK;
    }
    uint32_t flags = MQTLS__BADCERT_BAD_MD;
    for (size_t i = 0; i < sizeof hash_map / sizeof hash_map[0]; i++) {
        if (hash_map[i].nid == mdnid && mqtls__profile_hash_ok(p, hash_map[i].hash)) {
            flags = 0;
        }
    }
    bool rsa = pknid == NID_rsaEncryption || pknid == NID_rsassaPss;
    bool ec = pknid == NID_X9_62_id_ecPublicKey;
    if (!((rsa && p->rsa_allowed) || (ec && p->ec_allowed))) {
        flags |= MQTLS__BADCERT_BAD_PK;
    }
    return flags;
}

/* mbedtls_ssl_check_cert_usage() for a server's leaf under ECDHE and TLS 1.3. */
static uint32_t leaf_usage_flags(X509 *leaf)
{
    uint32_t flags = 0;
    uint32_t ku = X509_get_key_usage(leaf);
    if (ku != UINT32_MAX && (ku & KU_DIGITAL_SIGNATURE) == 0) {
        flags |= MQTLS__BADCERT_KEY_USAGE;
    }
    if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) != 0 &&
        (X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER) == 0) {
        flags |= MQTLS__BADCERT_EXT_KEY_USAGE;
    }
    return flags;
}

/* ---- the callbacks ------------------------------------------------------------------------ */

typedef struct {
    uint32_t depth_flags[MQTLS__MAX_CHAIN_DEPTH];
} collected_t;

static int collected_idx = -1;

/* X509_verify_cert()'s callback: note every error, never stop (as mbedTLS collects flags). */
static int collect(int ok, X509_STORE_CTX *sctx)
{
    if (ok) {
        return 1;
    }
    collected_t *c = X509_STORE_CTX_get_ex_data(sctx, collected_idx);
    int err = X509_STORE_CTX_get_error(sctx);
    int depth = X509_STORE_CTX_get_error_depth(sctx);
    if (c != NULL && depth >= 0 && depth < MQTLS__MAX_CHAIN_DEPTH) {
        uint32_t flag = mqtls__ossl_badcert_flag(err);
        if (err == X509_V_ERR_INVALID_PURPOSE && depth > 0) {
            flag = 0; /* mbedTLS checks the extended key usage of the leaf only */
        }
        c->depth_flags[depth] |= flag;
    }
    return 1;
}

static void set_fact(mqtls_cert_fact_t *c, X509 *x, uint32_t flags)
{
    free(c->der);
    c->der = NULL;
    c->der_len = 0;
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n > 0) {
        c->der = malloc((size_t)n);
        if (c->der != NULL) {
            memcpy(c->der, der, (size_t)n);
            c->der_len = (size_t)n;
        }
    }
    OPENSSL_free(der);
    c->flags = flags;
}

/* OpenSSL verifies (errors collected), then the profile's rows; facts->chain as mbedTLS's. */
static uint32_t verify_like_mbedtls(const mqtls__ossl_verify_t *v, X509_STORE_CTX *sctx)
{
    mqtls_tls_facts_t *f = v->cc->facts;
    const mqtls__profile_t *p = v->ctx->profile;
    collected_t col;
    memset(&col, 0, sizeof col);
    (void)X509_STORE_CTX_set_ex_data(sctx, collected_idx, &col);
    X509_STORE_CTX_set_verify_cb(sctx, collect);
    /* The profile judges keys and hashes, not OpenSSL's security level. */
    X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(sctx), 0);
    (void)X509_verify_cert(sctx);
    (void)X509_STORE_CTX_set_ex_data(sctx, collected_idx, NULL);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sctx);
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    int untrusted = X509_STORE_CTX_get_num_untrusted(sctx);
    uint32_t merged = 0;
    for (int i = 0; i < n && i < MQTLS__MAX_CHAIN_DEPTH; i++) {
        X509 *x = sk_X509_value(chain, i);
        uint32_t flags = col.depth_flags[i];
        if (i < untrusted) { /* the trust anchor's own signature is not judged */
            flags |= signature_flags(p, x);
            if (i + 1 < n && !key_ok(p, sk_X509_value(chain, i + 1))) {
                flags |= MQTLS__BADCERT_BAD_KEY;
            }
        }
        if (i == 0) {
            flags |= leaf_usage_flags(x);
            if (!key_ok(p, x)) {
                flags |= MQTLS__BADCERT_BAD_KEY;
            }
            if (v->ctx->no_hostname_check) {
                flags &= ~(uint32_t)MQTLS__BADCERT_CN_MISMATCH;
            }
        }
        set_fact(&f->chain[i], x, flags);
        f->chain_len = (size_t)i + 1;
        merged |= flags;
    }
    return merged;
}

int mqtls__ossl_cert_verify(X509_STORE_CTX *sctx, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    mqtls__ossl_verify_t *v = ssl != NULL ? mqtls__ossl_conn_verify(ssl) : NULL;
    if (v == NULL) {
        return 0;
    }
    v->done = true;
    v->flags = 0;
    if (v->ctx->insecure) {
        return 1; /* verify nothing (the connection says so, loudly, upstairs) */
    }
    /* The chain as the server sent it, leaf first (libssl puts the leaf in the stack too). */
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(sctx);
    const uint8_t *der[MQTLS__MAX_CHAIN_DEPTH];
    size_t len[MQTLS__MAX_CHAIN_DEPTH];
    unsigned char *owned[MQTLS__MAX_CHAIN_DEPTH];
    size_t count = 0;
    for (int i = 0; sent != NULL && i < sk_X509_num(sent) && count < MQTLS__MAX_CHAIN_DEPTH; i++) {
        owned[count] = NULL;
        int n = i2d_X509(sk_X509_value(sent, i), &owned[count]);
        if (n <= 0) {
            break;
        }
        der[count] = owned[count];
        len[count++] = (size_t)n;
    }
    uint32_t flags = v->cc->judge != NULL ? 0 : verify_like_mbedtls(v, sctx);
    mqtls__tls_after_verify(v->cc, der, len, count, &flags);
    for (size_t i = 0; i < count; i++) {
        OPENSSL_free(owned[i]);
    }
    v->flags = flags;
    if (flags != 0) {
        /* Fail the handshake with the alert mbedTLS sends for these flags. */
        X509_STORE_CTX_set_error(sctx,
                                 mqtls__ossl_err_for_alert(mqtls__tls_alert_for_flags(flags)));
        return 0;
    }
    X509_STORE_CTX_set_error(sctx, X509_V_OK);
    return 1;
}

void mqtls__ossl_verify_init(void)
{
    collected_idx = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}
