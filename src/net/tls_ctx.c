/* The mbedTLS engine's shared context (tls_engine.h): RNG, parsed credentials (creds.c), the
 * mbedTLS client configuration and the X.509 profile the server chain is verified with. Built
 * once, shared by any number of connections (tls_transport.c). This file also holds the
 * engine's table of operations. */
#include "tls_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/ssl_ciphersuites.h"
#include "net/pkcs11.h"
#include "net/tls_io.h"
#include "x509/profile.h"

static void ctx_set_flight_gathering(mqtls__tls_ectx_t *ctx, bool on)
{
    if (ctx != NULL) {
        ctx->gather_flights = on;
    }
}

static void ctx_free(mqtls__tls_ectx_t *ctx)
{
    if (ctx == NULL) {
        return;
    }
    mbedtls_ssl_config_free(&ctx->conf);
    mbedtls_x509_crt_free(&ctx->ca);
    mbedtls_x509_crt_free(&ctx->cert);
    mbedtls_pk_free(&ctx->key);
    mqtls__p11_key_close(ctx->p11); /* after the pk that signs with it */
    mbedtls_ctr_drbg_free(&ctx->drbg);
    mbedtls_entropy_free(&ctx->entropy);
    free(ctx->server_name);
    for (size_t i = 0; i < MQTLS__ALPN_MAX && ctx->alpn[i] != NULL; i++) {
        free((void *)(uintptr_t)ctx->alpn[i]);
    }
    free(ctx);
}

/* TLS 1.2 PSK suites (RFC 4279, 5489, 7905), forward-secret AEAD first (DESIGN.md "Security
 * defaults"), then plain PSK with AEAD for brokers whose OpenSSL offers no (EC)DHE-PSK. No CBC,
 * no RSA-PSK (it needs a certificate). TLS 1.2 on every engine (mbedTLS 2.28 has no TLS 1.3
 * PSK); mbedTLS 3.6 and OpenSSL take the same list (tls_openssl.c). */
static const int psk_suites[] = {
    MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_DHE_PSK_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

mqtls_status_t mqtls__tls_conf_psk(mbedtls_ssl_config *conf, const mqtls__tls_opts_t *opts,
                                   mqtls_error_t *err)
{
    if (opts->psk_len > MBEDTLS_PSK_MAX_LEN) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK key of %zu bytes: this mbedTLS takes at most %d "
                               "(MBEDTLS_PSK_MAX_LEN)",
                               opts->psk_len, MBEDTLS_PSK_MAX_LEN);
    }
    mqtls__compat_set_versions(conf, 0x0303, 0x0303); /* tls.c: PSK is TLS 1.2 */
    size_t id_len = strlen(opts->psk_identity);
    int ret = mbedtls_ssl_conf_psk(conf, opts->psk, opts->psk_len,
                                   (const unsigned char *)opts->psk_identity, id_len);
    if (ret != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK key or identity refused by mbedTLS (-0x%04X)",
                               (unsigned)-ret);
    }
    mbedtls_ssl_conf_ciphersuites(conf, psk_suites);
    /* No certificate is exchanged: nothing to verify, no name to check. */
    mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
    return MQTLS_OK;
}

/* --- cipher suites ------------------------------------------------------------------------ */

static bool name_has(const char *name, const char *part)
{
    return strstr(name, part) != NULL;
}

/* Forward secret (ECDHE with a certificate) and AEAD, or TLS 1.3 (always both). DESIGN.md
 * "Security defaults": the RSA key exchange and CBC suites are not offered. Names are mbedTLS's
 * (the same in 2.28 and 3.x), so this holds for every engine built on it. */
static bool suite_is_default(const char *name)
{
    if (strncmp(name, "TLS1-3-", 7) == 0) {
        return true;
    }
    bool ecdhe = strncmp(name, "TLS-ECDHE-ECDSA-WITH-", 21) == 0 ||
                 strncmp(name, "TLS-ECDHE-RSA-WITH-", 19) == 0;
    bool aead = name_has(name, "-GCM-") || name_has(name, "-CHACHA20-POLY1305-") ||
                (name_has(name, "-CCM") && !name_has(name, "-CCM-8"));
    return ecdhe && aead;
}

/* The mbedTLS id of an IANA or mbedTLS suite name, 0 if unknown. */
static int suite_id(const char *name, size_t len)
{
    char buf[96];
    if (len == 0 || len >= sizeof buf) {
        return 0;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    int id = mbedtls_ssl_get_ciphersuite_id(buf);
    if (id != 0) {
        return id;
    }
    /* IANA: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256;
     * TLS 1.3: TLS_AES_128_GCM_SHA256 -> TLS1-3-AES-128-GCM-SHA256 */
    for (size_t i = 0; i < len; i++) {
        buf[i] = buf[i] == '_' ? '-' : buf[i];
    }
    id = mbedtls_ssl_get_ciphersuite_id(buf);
    if (id == 0 && strncmp(buf, "TLS-", 4) == 0 && strstr(buf, "-WITH-") == NULL) {
        char v13[104];
        (void)snprintf(v13, sizeof v13, "TLS1-3-%s", buf + 4);
        id = mbedtls_ssl_get_ciphersuite_id(v13);
    }
    return id;
}

static bool suites_add(int *out, size_t cap, size_t *n, int id)
{
    for (size_t i = 0; i < *n; i++) {
        if (out[i] == id) {
            return true; /* named twice: once is enough */
        }
    }
    if (*n + 1u >= cap) {
        return false;
    }
    out[(*n)++] = id;
    out[*n] = 0;
    return true;
}

mqtls_status_t mqtls__tls_suites_build(const char *list, int *out, size_t cap, mqtls_error_t *err)
{
    if (out == NULL || cap < 2u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    size_t n = 0;
    out[0] = 0;
    const int *all = mbedtls_ssl_list_ciphersuites(); /* the linked mbedTLS's preference order */
    bool named_tls13 = false;
    if (list != NULL) {
        for (const char *p = list; *p != '\0';) {
            size_t len = strcspn(p, ":");
            int id = suite_id(p, len);
            if (id == 0) {
                return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                       "unknown cipher suite '%.*s' (an IANA or mbedTLS name, "
                                       "e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)",
                                       (int)(len < 64u ? len : 64u), p);
            }
            named_tls13 =
                named_tls13 || strncmp(mbedtls_ssl_get_ciphersuite_name(id), "TLS1-3-", 7) == 0;
            if (!suites_add(out, cap, &n, id)) {
                return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                       "more than %zu cipher suites", cap - 1u);
            }
            p += len;
            p += *p == ':' ? 1 : 0;
        }
        if (n == 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "empty cipher suite list");
        }
    }
    for (size_t i = 0; all[i] != 0; i++) {
        const char *name = mbedtls_ssl_get_ciphersuite_name(all[i]);
        bool tls13 = strncmp(name, "TLS1-3-", 7) == 0;
        if ((list == NULL && suite_is_default(name)) || (list != NULL && tls13 && !named_tls13)) {
            if (!suites_add(out, cap, &n, all[i])) {
                break; /* the default list is capped: the strongest come first */
            }
        }
    }
    return MQTLS_OK;
}

/* RFC 6066 max_fragment_length (opts->max_fragment_len): asked for in the ClientHello; with
 * MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH (our 3.6 build) the input record buffer shrinks to it
 * after the handshake. mbedTLS 3.6 implements it for TLS 1.2 only (TLS 1.3 in mbedTLS has
 * neither it nor a runtime record_size_limit, Mbed-TLS/mbedtls#6967), and a 3.6 client that
 * offers it together with TLS 1.3 aborts when the server picks TLS 1.3 and echoes it in
 * EncryptedExtensions (OpenSSL does: MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION, -0x7500, because
 * the TLS 1.2 writer of the extension does not mark it sent). So *max_version becomes TLS 1.2,
 * and a minimum of TLS 1.3 cannot have it. */
static mqtls_status_t conf_max_fragment(mqtls__tls_ectx_t *ctx, const mqtls__tls_opts_t *opts,
                                        uint16_t *max_version, mqtls_error_t *err)
{
    *max_version = opts->max_version;
    if (opts->max_fragment_len == 0) {
        return MQTLS_OK;
    }
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    if (opts->min_version > 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "max_fragment_len with TLS 1.3 only: mbedTLS %s implements "
                               "max_fragment_length in TLS 1.2 only (allow TLS 1.2, or use the "
                               "openssl engine)",
                               mqtls__compat_version());
    }
    *max_version = 0x0303;
    unsigned char code = MBEDTLS_SSL_MAX_FRAG_LEN_512; /* 512, 1024, 2048, 4096: codes 1..4 */
    while ((256u << code) < opts->max_fragment_len) {
        code++;
    }
    if (mbedtls_ssl_conf_max_frag_len(&ctx->conf, code) != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "max_fragment_len %u refused by mbedTLS",
                               (unsigned)opts->max_fragment_len);
    }
    return MQTLS_OK;
#else
    (void)ctx;
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                           "max_fragment_len: this mbedTLS %s is built without "
                           "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH",
                           mqtls__compat_version());
#endif
}

static mqtls_status_t ctx_setup(mqtls__tls_ectx_t *ctx, const mqtls__tls_opts_t *opts,
                                mqtls_error_t *err)
{
    /* The profile the server chain is verified against: the numbers of src/x509/profile.c's
     * row, as this mbedTLS version names them, copied into the context (the configuration
     * points at them). */
    mqtls__profile_to_mbedtls(opts->profile, &ctx->profile);
    static const char pers[] = "mqtls";
    int ret = mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func, &ctx->entropy,
                                    (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0) {
        if (err != NULL) {
            err->mbedtls_ret = ret;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "seeding the RNG failed (-0x%04X)", (unsigned)-ret);
    }
    ret = mbedtls_ssl_config_defaults(&ctx->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_config_defaults -0x%04X", (unsigned)-ret);
    }
    uint16_t max_version = 0;
    mqtls_status_t mst = conf_max_fragment(ctx, opts, &max_version, err);
    if (mst != MQTLS_OK) {
        return mst;
    }
    mqtls__compat_set_versions(&ctx->conf, opts->min_version, max_version);
    ctx->min_version = opts->min_version;
    ctx->resumption = opts->resumption;
    ret = mqtls__compat_conf_tls13(&ctx->conf, ctx->resumption);
    if (ret != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "TLS 1.3 setup (psa_crypto_init) -0x%04X", (unsigned)-ret);
    }
    if (opts->psk != NULL) {
        /* instead of CA, certificate and key (tls.c gives none) */
        ctx->psk = true;
        mqtls_status_t st = mqtls__tls_conf_psk(&ctx->conf, opts, err);
        if (st != MQTLS_OK) {
            return st;
        }
    } else {
        mqtls_status_t st = mqtls__tls_suites_build(opts->ciphers, ctx->suites,
                                                    sizeof ctx->suites / sizeof ctx->suites[0], err);
        if (st != MQTLS_OK) {
            return st;
        }
        mbedtls_ssl_conf_ciphersuites(&ctx->conf, ctx->suites);
    }
    mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->drbg);
    /* Applies to the chain the server presents (BAD_MD / BAD_PK / BAD_KEY), not to our own
     * certificate, exactly as on a device configured with the same profile. */
    mbedtls_ssl_conf_cert_profile(&ctx->conf, &ctx->profile);
    /* DESIGN.md: verification on by default; `insecure` is explicit (and loud, upstairs). */
    ctx->insecure = opts->insecure;
    ctx->no_hostname_check = opts->no_hostname_check || ctx->psk; /* PSK: no certificate */
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&ctx->conf, ctx->resumption
                                                     ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                     : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    if (opts->server_name != NULL) {
        ctx->server_name = mqtls__tls_strdup(opts->server_name);
        if (ctx->server_name == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "server_name");
        }
    }
    for (size_t i = 0; opts->alpn != NULL && opts->alpn[i] != NULL && i < MQTLS__ALPN_MAX; i++) {
        ctx->alpn[i] = mqtls__tls_strdup(opts->alpn[i]);
        if (ctx->alpn[i] == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "alpn");
        }
    }
    return MQTLS_OK;
}

static mqtls_status_t ctx_new(const mqtls__tls_opts_t *opts, mqtls_error_t *err,
                              mqtls__tls_ectx_t **out)
{
    *out = NULL;
    mqtls__tls_ectx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    mbedtls_ssl_config_init(&ctx->conf);
    mbedtls_entropy_init(&ctx->entropy);
    mbedtls_ctr_drbg_init(&ctx->drbg);
    mbedtls_x509_crt_init(&ctx->ca);
    mbedtls_x509_crt_init(&ctx->cert);
    mbedtls_pk_init(&ctx->key);
    ctx->gather_flights = true;
    mqtls_status_t st = ctx_setup(ctx, opts, err);
    if (st != MQTLS_OK) {
        ctx_free(ctx);
        return st;
    }
    *out = ctx;
    return MQTLS_OK;
}

static mqtls_status_t ctx_finish(mqtls__tls_ectx_t *ctx, mqtls_error_t *err)
{
    /* PSK: no certificate is exchanged, nothing to verify (mqtls__tls_conf_psk). */
    mbedtls_ssl_conf_authmode(&ctx->conf, ctx->insecure || ctx->psk ? MBEDTLS_SSL_VERIFY_NONE
                                                                    : MBEDTLS_SSL_VERIFY_REQUIRED);
    if (ctx->has_ca) {
        mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
    }
    if (ctx->has_cert) {
        int ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                                   "mbedtls_ssl_conf_own_cert -0x%04X", (unsigned)-ret);
        }
    }
    if (ctx->alpn[0] != NULL) {
        int ret = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, ctx->alpn);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "ALPN list rejected by mbedTLS (-0x%04X)", (unsigned)-ret);
        }
    }
    return MQTLS_OK;
}

static mqtls_status_t ctx_add_ca(mqtls__tls_ectx_t *ctx, const uint8_t *buf, size_t len,
                                 const char *name, mqtls_error_t *err)
{
    return mqtls__creds_add_ca(ctx, buf, len, name, err);
}

static mqtls_status_t ctx_set_own(mqtls__tls_ectx_t *ctx, const uint8_t *cert, size_t cert_len,
                                  const char *cert_name, const mqtls__tls_key_t *key,
                                  mqtls_error_t *err)
{
    return mqtls__creds_set_own(ctx, cert, cert_len, cert_name, key, err);
}

const mqtls__tls_engine_t MQTLS__MBEDTLS_ENGINE = {
    .name = MQTLS__MBEDTLS_ENGINE_NAME,
    .library = "mbedTLS",
    .device_major = MBEDTLS_VERSION_MAJOR,
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    .max_version = 0x0304,
#else
    .max_version = 0x0303,
#endif
    .version = mqtls__compat_version,
    .code_text = mqtls__compat_strerror,
    .ctx_new = ctx_new,
    .ctx_add_ca = ctx_add_ca,
    .ctx_set_own = ctx_set_own,
    .ctx_finish = ctx_finish,
    .ctx_free = ctx_free,
    .ctx_set_flight_gathering = ctx_set_flight_gathering,
    .conn_create = mqtls__tls_mbed_conn_create,
    .judge_chain = mqtls__tls_mbed_judge_chain,
};
