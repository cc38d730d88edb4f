/* The long-lived TLS context (net.h: mqtls__tls_ctx_create): RNG, parsed credentials
 * (creds.c), the mbedTLS client configuration and the X.509 profile the server chain is verified
 * with. Built once, shared by any number of TLS transports (tls_transport.c). */
#include "tls_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/ssl_ciphersuites.h"
#include "x509/profile.h"

/* Trusted CAs when the configuration names none (Debian/Ubuntu location). */
#ifndef MQTLS_SYSTEM_CA_FILE
#define MQTLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

void mqtls__tls_ctx_set_flight_gathering(mqtls__tls_ctx_t *ctx, bool on)
{
    if (ctx != NULL) {
        ctx->gather_flights = on;
    }
}

void mqtls__tls_ctx_destroy(mqtls__tls_ctx_t *ctx)
{
    if (ctx == NULL) {
        return;
    }
    mbedtls_ssl_config_free(&ctx->conf);
    mbedtls_x509_crt_free(&ctx->ca);
    mbedtls_x509_crt_free(&ctx->cert);
    mbedtls_pk_free(&ctx->key);
    mbedtls_ctr_drbg_free(&ctx->drbg);
    mbedtls_entropy_free(&ctx->entropy);
    free(ctx->server_name);
    for (size_t i = 0; i < MQTLS_ALPN_MAX && ctx->alpn[i] != NULL; i++) {
        free((void *)(uintptr_t)ctx->alpn[i]);
    }
    free(ctx);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* TLS 1.2 PSK suites (RFC 4279, 5489, 7905), forward-secret AEAD first (DESIGN.md "Security
 * defaults"), then plain PSK with AEAD for brokers whose OpenSSL offers no (EC)DHE-PSK. No CBC,
 * no RSA-PSK (it needs a certificate). mbedTLS 2.28 has no TLS 1.3 PSK. */
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

mqtls_status_t mqtls__tls_conf_psk(mbedtls_ssl_config *conf, const mqtls_tls_cfg_t *cfg,
                                   mqtls_error_t *err)
{
    bool has_key = cfg->psk != NULL && cfg->psk_len > 0;
    bool has_id = cfg->psk_identity != NULL && cfg->psk_identity[0] != '\0';
    if (has_key != has_id) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK needs both the key and its identity");
    }
    if (cfg->ca_file != NULL || cfg->ca_path != NULL || cfg->ca_buf != NULL ||
        cfg->cert_file != NULL || cfg->cert_buf != NULL || cfg->key_file != NULL ||
        cfg->key_buf != NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK excludes CA, certificate and key (the pre-shared key "
                               "authenticates both sides)");
    }
    if (cfg->psk_len > MBEDTLS_PSK_MAX_LEN) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK key of %zu bytes: this mbedTLS takes at most %d "
                               "(MBEDTLS_PSK_MAX_LEN)",
                               cfg->psk_len, MBEDTLS_PSK_MAX_LEN);
    }
    if (cfg->min_version > 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "TLS-PSK is TLS 1.2 here: min_version must allow 1.2");
    }
    mqtls_status_t st = mqtls__compat_set_versions(conf, 0x0303, 0x0303, err);
    if (st != MQTLS_OK) {
        return st;
    }
    size_t id_len = strlen(cfg->psk_identity);
    int ret = mbedtls_ssl_conf_psk(conf, cfg->psk, cfg->psk_len,
                                   (const unsigned char *)cfg->psk_identity, id_len);
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

/* Certificate authentication: the trusted CAs (the system's when none is given), verification
 * (unless insecure) and our own certificate. */
static mqtls_status_t conf_certificates(mqtls__tls_ctx_t *ctx, const mqtls_tls_cfg_t *cfg,
                                        mqtls_error_t *err)
{
    int ret = 0;
    if (!cfg->insecure && !ctx->has_ca &&
        mbedtls_x509_crt_parse_file(&ctx->ca, MQTLS_SYSTEM_CA_FILE) >= 0 && ctx->ca.version != 0) {
        ctx->has_ca = true; /* like curl: the system store when no CA is given */
    }
    if (!cfg->insecure && !ctx->has_ca) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "no trusted CA given (ca_file, ca_path or ca_buf): the server "
                               "cannot be verified");
    }
    mbedtls_ssl_conf_authmode(&ctx->conf, cfg->insecure ? MBEDTLS_SSL_VERIFY_NONE
                                                        : MBEDTLS_SSL_VERIFY_REQUIRED);
    if (ctx->has_ca) {
        mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
    }
    if (ctx->has_cert) {
        ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                                   "mbedtls_ssl_conf_own_cert -0x%04X", (unsigned)-ret);
        }
    }
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

static mqtls_status_t ctx_setup(mqtls__tls_ctx_t *ctx, const mqtls_tls_cfg_t *cfg,
                                mqtls_error_t *err)
{
    /* The profile the server chain is verified against (tls.h), checked first so that a typo
     * fails before any file is read. The numbers are src/x509/profile.c's row of that name,
     * copied into the context (the configuration points at them). */
    if (!mqtls__profile_mbedtls_by_name(cfg->profile, &ctx->profile)) {
        char names[160] = "";
        size_t used = 0;
        for (size_t i = 0; i < mqtls__profile_count(); i++) {
            int n = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "",
                             mqtls__profile_name_at(i));
            if (n < 0 || (size_t)n >= sizeof names - used) {
                break;
            }
            used += (size_t)n;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "unknown X.509 profile '%.32s' (known: %s)", cfg->profile, names);
    }
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
    mqtls_status_t st = mqtls__creds_load(ctx, cfg, err);
    if (st != MQTLS_OK) {
        return st;
    }
    ret = mbedtls_ssl_config_defaults(&ctx->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_config_defaults -0x%04X", (unsigned)-ret);
    }
    st = mqtls__compat_set_versions(&ctx->conf, cfg->min_version, cfg->max_version, err);
    if (st != MQTLS_OK) {
        return st;
    }
    st = mqtls__tls_suites_build(cfg->ciphers, ctx->suites,
                                 sizeof ctx->suites / sizeof ctx->suites[0], err);
    if (st != MQTLS_OK) {
        return st;
    }
    mbedtls_ssl_conf_ciphersuites(&ctx->conf, ctx->suites);
    mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->drbg);
    /* Applies to the chain the server presents (BAD_MD / BAD_PK / BAD_KEY), not to our own
     * certificate, exactly as on a device configured with the same profile. */
    mbedtls_ssl_conf_cert_profile(&ctx->conf, &ctx->profile);
    /* DESIGN.md: verification on by default; `insecure` is explicit (and loud, upstairs). */
    ctx->insecure = cfg->insecure;
    ctx->no_hostname_check = cfg->no_hostname_check;
    if ((cfg->psk != NULL && cfg->psk_len > 0) || cfg->psk_identity != NULL) {
        /* instead of CA, certificate and key */
        ctx->psk = true;
        ctx->no_hostname_check = true;
        st = mqtls__tls_conf_psk(&ctx->conf, cfg, err);
    } else {
        st = conf_certificates(ctx, cfg, err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    ctx->resumption = !cfg->no_session_resumption;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&ctx->conf, ctx->resumption
                                                     ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                     : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    if (cfg->server_name != NULL) {
        ctx->server_name = dup_str(cfg->server_name);
        if (ctx->server_name == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "server_name");
        }
    }
    if (cfg->alpn != NULL && cfg->alpn[0] != NULL) {
        size_t i = 0;
        for (; cfg->alpn[i] != NULL; i++) {
            if (i == MQTLS_ALPN_MAX) {
                return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                       "more than %d ALPN protocols", MQTLS_ALPN_MAX);
            }
            ctx->alpn[i] = dup_str(cfg->alpn[i]);
            if (ctx->alpn[i] == NULL) {
                return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "alpn");
            }
        }
        ctx->alpn[i] = NULL;
        ret = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, ctx->alpn);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "ALPN list rejected by mbedTLS (-0x%04X)", (unsigned)-ret);
        }
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__tls_ctx_create(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err,
                                     mqtls__tls_ctx_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (cfg == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tls: no configuration");
    }
    mqtls__tls_ctx_t *ctx = calloc(1, sizeof *ctx);
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
    mqtls_status_t st = ctx_setup(ctx, cfg, err);
    if (st != MQTLS_OK) {
        mqtls__tls_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return MQTLS_OK;
}
