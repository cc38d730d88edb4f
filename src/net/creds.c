/* The mbedTLS engine's credentials (tls_engine.h ctx_add_ca, ctx_set_own): bytes that tls.c
 * read from files or buffers (PEM with its NUL counted, or DER; detected from the content, never
 * from the file name) into mbedTLS objects, one distinct status per failure. */
#include "tls_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/pem.h"
#include "mbedtls/pkcs12.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/platform_util.h"

#include "net/pkcs11.h"
#include "x509/compat.h"

static mqtls_status_t fail_mbedtls(mqtls_error_t *err, mqtls_status_t st, int ret, const char *name,
                                   const char *what)
{
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    if (err != NULL) {
        err->mbedtls_ret = ret;
    }
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, st, 0, "%s: %s (-0x%04X %s)", name, what,
                           (unsigned)-ret, text);
}

mqtls_status_t mqtls__creds_add_ca(struct mqtls__tls_ectx *ctx, const uint8_t *buf, size_t len,
                                   const char *name, mqtls_error_t *err)
{
    int ret = mbedtls_x509_crt_parse(&ctx->ca, buf, len);
    /* ret > 0: that many certificates of a bundle failed but others parsed; a bundle with one
     * exotic certificate stays usable. */
    if (ret < 0) {
        return fail_mbedtls(err, MQTLS_ERR_CA_PARSE, ret, name, "CA certificates");
    }
    if (ctx->ca.version == 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CA_PARSE, 0,
                               "%s: no certificate could be parsed", name);
    }
    ctx->has_ca = true;
    return MQTLS_OK;
}

static mqtls_status_t map_key_error(mqtls_error_t *err, int ret, const char *name)
{
    /* mbedTLS adds a low-level code to a high-level one: classify by the high part. */
    int high = -((-ret) & 0xFF80);
    switch (high) {
    case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
    case MBEDTLS_ERR_PEM_PASSWORD_REQUIRED:
        return fail_mbedtls(err, MQTLS_ERR_KEY_PASSWORD_REQUIRED, ret, name,
                            "the key is encrypted and no password was given");
    case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PEM_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS5_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS12_PASSWORD_MISMATCH:
        return fail_mbedtls(err, MQTLS_ERR_KEY_PASSWORD_WRONG, ret, name,
                            "the key password is wrong");
    case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
    case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
    case MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG:
    case MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PKCS12_FEATURE_UNAVAILABLE:
        return fail_mbedtls(err, MQTLS_ERR_KEY_UNSUPPORTED, ret, name,
                            "key type or key encryption not supported by this mbedTLS");
    default:
        break;
    }
    return fail_mbedtls(err, MQTLS_ERR_KEY_PARSE, ret, name, "private key");
}

/* A key on a PKCS#11 token (pkcs11.h): RSA as an RSA_ALT key, signing with PKCS#1 v1.5, which
 * is TLS 1.2's; mbedTLS 3.6's TLS 1.3 needs RSA-PSS from its own RSA keys (mbedtls_pk_sign_ext
 * refuses RSA_ALT), so a token key caps this engine at TLS 1.2. mbedTLS has no external-key
 * hook for ECDSA short of a PSA driver: EC keys on a token are the openssl engine's. */
static mqtls_status_t set_token_key(struct mqtls__tls_ectx *ctx, const mqtls__tls_key_t *key,
                                    mqtls_error_t *err)
{
    mqtls_status_t st = mqtls__p11_key_open(key->uri, key->module, key->password, err, &ctx->p11);
    if (st != MQTLS_OK) {
        return st;
    }
    if (mqtls__p11_key_type(ctx->p11) != MQTLS__P11_KEY_RSA) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the %s engine signs with RSA keys on a token only; this key "
                               "is %s (use --tls-engine openssl, docs/tls-engines.md)",
                               key->name, MQTLS__MBEDTLS_ENGINE_NAME,
                               mqtls__p11_key_type(ctx->p11) == MQTLS__P11_KEY_EC ? "EC"
                                                                                  : "another type");
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (ctx->min_version > 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the %s engine signs with a key on a token in TLS 1.2 only "
                               "(TLS 1.3 wants RSA-PSS; use --tls-engine openssl)",
                               key->name, MQTLS__MBEDTLS_ENGINE_NAME);
    }
    mqtls__compat_set_versions(&ctx->conf, ctx->min_version, 0x0303);
#endif
    int ret = mqtls__compat_pk_setup_p11_rsa(&ctx->key, ctx->p11);
    if (ret != 0) {
        return fail_mbedtls(err, MQTLS_ERR_KEY_UNSUPPORTED, ret, key->name, "token key");
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__creds_set_own(struct mqtls__tls_ectx *ctx, const uint8_t *cert,
                                    size_t cert_len, const char *cert_name,
                                    const mqtls__tls_key_t *key, mqtls_error_t *err)
{
    if (key->kind != MQTLS__KEY_BYTES && key->kind != MQTLS__KEY_URI) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the %s engine cannot load this kind of key", key->name,
                               MQTLS__MBEDTLS_ENGINE_NAME);
    }
    int ret = mbedtls_x509_crt_parse(&ctx->cert, cert, cert_len);
    if (ret < 0) {
        return fail_mbedtls(err, MQTLS_ERR_CERT_PARSE, ret, cert_name, "client certificate");
    }
    if (ret > 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CERT_PARSE, 0,
                               "%s: %d certificate(s) of the chain could not be parsed", cert_name,
                               ret);
    }
    if (key->kind == MQTLS__KEY_URI) {
        mqtls_status_t st = set_token_key(ctx, key, err);
        if (st != MQTLS_OK) {
            return st;
        }
    } else {
        /* The password is used for this call only: never copied, never logged. */
        ret = mqtls__x509_pk_parse_key(&ctx->key, key->buf, key->len, key->password,
                                       mbedtls_ctr_drbg_random, &ctx->drbg);
        if (ret != 0) {
            return map_key_error(err, ret, key->name);
        }
    }
    ret = mqtls__x509_pk_check_pair(&ctx->cert.pk, &ctx->key, mbedtls_ctr_drbg_random, &ctx->drbg);
    if (ret != 0) {
        return fail_mbedtls(err, MQTLS_ERR_KEY_MISMATCH, ret, key->name,
                            "does not match the public key of the client certificate");
    }
    ctx->has_cert = true;
    return MQTLS_OK;
}
