/* Internal to src/net: the TLS context layout (tls_ctx.c, creds.c) and the TLS-protocol
 * mbedTLS version shims (mbedtls_compat.c holds every #if MBEDTLS_VERSION_NUMBER of this
 * module; certificate and key differences are src/x509/compat.c's). */
#ifndef MQTLS_NET_TLS_INTERNAL_H
#define MQTLS_NET_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "net.h"

#define MQTLS_ALPN_MAX 8

#define MQTLS__TLS_SUITES_MAX 64

struct mqtls__tls_ctx {
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_x509_crt_profile profile; /* the server chain is verified with it (conf points here) */
    bool has_ca;
    bool has_cert;
    bool insecure;
    bool no_hostname_check; /* chain verified, name not (cfg->no_hostname_check) */
    bool resumption;
    bool gather_flights;
    bool psk;                             /* TLS-PSK: no certificates (mqtls__tls_conf_psk) */
    char *server_name;                    /* owned copy of cfg->server_name, or NULL */
    const char *alpn[MQTLS_ALPN_MAX + 1]; /* NULL-terminated; strings owned */
    int suites[MQTLS__TLS_SUITES_MAX + 1]; /* offered cipher suites, 0-terminated (conf points
                                              here): mqtls__tls_suites_build() */
};

/* tls_ctx.c: the cipher suites to offer, as mbedTLS ids (0-terminated) in @p out. @p list
 * NULL: every suite of the linked mbedTLS with forward secrecy (ECDHE) and an AEAD cipher (GCM,
 * CCM, ChaCha20-Poly1305), and the TLS 1.3 suites. Else a colon-separated list of IANA
 * (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or mbedTLS (TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256)
 * names, in that order; TLS 1.3 suites the list does not name are added after it (as with
 * OpenSSL, a TLS 1.2 cipher list does not turn TLS 1.3 off).
 * @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (a name this mbedTLS does not know, an empty list, or
 * more than MQTLS__TLS_SUITES_MAX): err says which. */
mqtls_status_t mqtls__tls_suites_build(const char *list, int *out, size_t cap, mqtls_error_t *err);

/* creds.c: parse the credentials of @p cfg into @p ctx (ca, cert, key). */
mqtls_status_t mqtls__creds_load(struct mqtls__tls_ctx *ctx, const mqtls_tls_cfg_t *cfg,
                                 mqtls_error_t *err);

/* tls_ctx.c: TLS-PSK on @p conf (cfg->psk, cfg->psk_identity): key, identity and the PSK
 * suites. The whole of PSK for this engine; other engines carry the same rules (net.h). */
mqtls_status_t mqtls__tls_conf_psk(mbedtls_ssl_config *conf, const mqtls_tls_cfg_t *cfg,
                                   mqtls_error_t *err);

/* mbedtls_compat.c */
/* min/max as 0x0303 / 0x0304; 0 = default/highest. MQTLS_ERR_NOT_SUPPORTED if unavailable. */
mqtls_status_t mqtls__compat_set_versions(mbedtls_ssl_config *conf, uint16_t min_version,
                                          uint16_t max_version, mqtls_error_t *err);
/* AlertDescription of the fatal alert mbedTLS just reported, -1 if unknown. */
int mqtls__compat_peer_alert(const mbedtls_ssl_context *ssl);
/* Negotiated version as 0x0303 / 0x0304, 0 if none. */
uint16_t mqtls__compat_tls_version(const mbedtls_ssl_context *ssl);
/* TLS 1.3 was negotiated (encrypted handshake: the record parser sees only the hello). */
bool mqtls__compat_is_tls13(const mbedtls_ssl_context *ssl);

/* mbedtls_ssl_read() returned a non-error that means "call again" (TLS 1.3 tickets). */
bool mqtls__compat_read_again(int ret);
/* SHA-1 of @p in (ws.c: Sec-WebSocket-Accept, RFC 6455 4.2.2). 0 on success, else the
 * mbedTLS error. (The function lost its _ret suffix in 3.0.) */
int mqtls__compat_sha1(const uint8_t *in, size_t len, uint8_t digest[20]);

#endif
