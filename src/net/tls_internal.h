/* Internal to src/net: the mbedTLS engine (tls_engine.h). Its sources (tls_ctx.c, creds.c,
 * tls_transport.c, mbedtls_compat.c) are compiled once against each mbedTLS built in: Debian's
 * 2.28, and 3.6 with cmake/mbedtls3/mqtls3_ns.h renaming every internal name to mqtls3__ (see
 * docs/tls-engines.md). mbedtls_compat.c holds every #if MBEDTLS_VERSION_NUMBER of the TLS
 * protocol code; certificate and key differences are src/x509/compat.c's. */
#ifndef MQTLS_NET_TLS_INTERNAL_H
#define MQTLS_NET_TLS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#include "net/net.h"
#include "net/tls_engine.h"

/* Which engine this copy is: the version of the headers it is compiled against decides. */
#if MBEDTLS_VERSION_MAJOR == 2
#define MQTLS__MBEDTLS_ENGINE mqtls__tls_engine_mbedtls2
#define MQTLS__MBEDTLS_ENGINE_NAME "mbedtls2"
#elif MBEDTLS_VERSION_MAJOR == 3
#define MQTLS__MBEDTLS_ENGINE mqtls__tls_engine_mbedtls3
#define MQTLS__MBEDTLS_ENGINE_NAME "mbedtls3"
#else
#error "the mbedTLS engine is written for mbedTLS 2.28 and 3.6"
#endif

#define MQTLS__TLS_SUITES_MAX 64

struct mqtls__tls_ectx {
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    struct mqtls__p11_key *p11; /* the token key behind `key` (RSA_ALT), or NULL; owned */
    uint16_t min_version;       /* as opts (a token key caps the maximum at TLS 1.2) */
    mbedtls_x509_crt_profile profile; /* the server chain is verified with it (conf points here) */
    bool has_ca;
    bool has_cert;
    bool insecure;
    bool no_hostname_check; /* chain verified, name not (cfg->no_hostname_check) */
    bool resumption;
    bool gather_flights;
    bool psk;                  /* TLS-PSK: no certificates (mqtls__tls_conf_psk) */
    atomic_bool cert_accepted; /* a TLS 1.3 broker accepted our certificate once (tls_io.h) */
    char *server_name;         /* owned copy of opts->server_name, or NULL */
    const char *alpn[MQTLS__ALPN_MAX + 1]; /* NULL-terminated; strings owned */
    int suites[MQTLS__TLS_SUITES_MAX + 1]; /* offered cipher suites, 0-terminated (conf points
                                              here): mqtls__tls_suites_build() */
};

/* tls_ctx.c: the cipher suites to offer, as mbedTLS ids (0-terminated) in @p out. @p list
 * NULL: every suite of this mbedTLS with forward secrecy (ECDHE) and an AEAD cipher (GCM,
 * CCM, ChaCha20-Poly1305), and the TLS 1.3 suites. Else a colon-separated list of IANA
 * (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or mbedTLS (TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256)
 * names, in that order; TLS 1.3 suites the list does not name are added after it (as with
 * OpenSSL, a TLS 1.2 cipher list does not turn TLS 1.3 off).
 * @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (a name this mbedTLS does not know, an empty list, or
 * more than MQTLS__TLS_SUITES_MAX): err says which. */
mqtls_status_t mqtls__tls_suites_build(const char *list, int *out, size_t cap, mqtls_error_t *err);

/* creds.c: the engine's ctx_add_ca and ctx_set_own. */
mqtls_status_t mqtls__creds_add_ca(struct mqtls__tls_ectx *ctx, const uint8_t *buf, size_t len,
                                   const char *name, mqtls_error_t *err);
mqtls_status_t mqtls__creds_set_own(struct mqtls__tls_ectx *ctx, const uint8_t *cert,
                                    size_t cert_len, const char *cert_name,
                                    const mqtls__tls_key_t *key, mqtls_error_t *err);

/* tls_transport.c: the engine's conn_create and judge_chain. */
mqtls_status_t mqtls__tls_mbed_conn_create(struct mqtls__tls_ectx *ctx,
                                           const mqtls__tls_conn_cfg_t *cc,
                                           mqtls_transport_t *inner, mqtls_error_t *err,
                                           mqtls_transport_t **out);
uint32_t mqtls__tls_mbed_judge_chain(struct mqtls__tls_ectx *ctx, const uint8_t *const *der,
                                     const size_t *len, size_t count, const char *host,
                                     mqtls_tls_facts_t *out);

/* tls_ctx.c: TLS-PSK on @p conf (opts->psk, opts->psk_identity, checked by tls.c): key,
 * identity and the PSK suites, TLS 1.2. The engine's part of PSK; tls.c holds the rules every
 * engine shares (both or neither, no certificates, TLS 1.2). */
mqtls_status_t mqtls__tls_conf_psk(mbedtls_ssl_config *conf, const mqtls__tls_opts_t *opts,
                                   mqtls_error_t *err);

/* mbedtls_compat.c */
struct mqtls__p11_key;
/* @p pk as an RSA_ALT key whose signatures the token of @p key makes (PKCS#1 v1.5; TLS 1.2).
 * 0 or an mbedTLS error. */
int mqtls__compat_pk_setup_p11_rsa(mbedtls_pk_context *pk, struct mqtls__p11_key *key);
/* min/max as 0x0303 / 0x0304 (checked by tls.c against what this version speaks). */
void mqtls__compat_set_versions(mbedtls_ssl_config *conf, uint16_t min_version,
                                uint16_t max_version);
/* Size of @p ssl's input record buffer now (MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH), 0 when this
 * mbedTLS has fixed buffers. */
size_t mqtls__compat_in_buf_len(const mbedtls_ssl_context *ssl);
/* After a handshake that agreed on no max_fragment_length: give the input record buffer back
 * its size @p full_len (mqtls__compat_in_buf_len() right after mbedtls_ssl_setup()) when
 * mbedTLS shrank it. 3.6 with MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH shrinks a TLS 1.2 client's
 * buffer to the max_fragment_length it asked for, or, having asked for none, to the smaller
 * of MBEDTLS_SSL_IN_CONTENT_LEN and MBEDTLS_SSL_OUT_CONTENT_LEN: 4096 in our build (ESP-IDF's
 * asymmetric buffers), while the server, told nothing, sends records of up to 16 KiB: the
 * first one longer than 4 KiB failed the read (-0x7100). No-op otherwise (TLS 1.3 does not
 * shrink; 2.28 has fixed buffers). Without memory the buffer stays as it is. */
void mqtls__compat_restore_in_buf(mbedtls_ssl_context *ssl, size_t full_len);
/* TLS 1.3 settings of a client configuration: NewSessionTicket reported by
 * mbedtls_ssl_read() (so that the ticket is saved for resumption) when @p resumption. Nothing
 * for 2.28. 0 or an mbedTLS error (3.6 runs TLS 1.3 on PSA: psa_crypto_init()). */
int mqtls__compat_conf_tls13(mbedtls_ssl_config *conf, bool resumption);
/* mbedtls_strerror() of this version. */
void mqtls__compat_strerror(int code, char *buf, size_t cap);
/* "3.6.6": the version of the library running (static). */
const char *mqtls__compat_version(void);
/* AlertDescription of the fatal alert mbedTLS just reported, -1 if unknown. */
int mqtls__compat_peer_alert(const mbedtls_ssl_context *ssl);
/* The fatal alert mbedTLS queued and sent when a TLS 1.3 handshake failed with @p ret
 * (encrypted: the record parser cannot see it), -1 if none. */
int mqtls__compat_sent_alert(const mbedtls_ssl_context *ssl, int ret);
/* Negotiated version as 0x0303 / 0x0304, 0 if none. */
uint16_t mqtls__compat_tls_version(const mbedtls_ssl_context *ssl);
/* The handshake is over (mbedtls_ssl_handshake_step() has nothing left to do). */
bool mqtls__compat_handshake_over(const mbedtls_ssl_context *ssl);
/* TLS 1.3 was negotiated (encrypted handshake: the record parser sees only the hello). */
bool mqtls__compat_is_tls13(const mbedtls_ssl_context *ssl);
/* The handshake message mbedTLS holds now, decrypted (TLS 1.3 encrypts them on the wire):
 * @p type, its body (after the 4-byte header) and length. *key identifies the message so that
 * a caller sees each once. false when the current record is not a whole handshake message. */
bool mqtls__compat_current_hs_msg(const mbedtls_ssl_context *ssl, uint8_t *type,
                                  const uint8_t **body, size_t *len, uint64_t *key);
/* The post-handshake message that made mbedtls_ssl_read() fail is a TLS 1.3 KeyUpdate, which
 * mbedTLS 3.6 does not implement (RFC 8446 4.6.3). */
bool mqtls__compat_is_key_update(const mbedtls_ssl_context *ssl);
/* mbedtls_ssl_read() returned a non-error that means "call again"; *ticket: it was a TLS 1.3
 * NewSessionTicket (save the session now). */
bool mqtls__compat_read_again(int ret, bool *ticket);
/* Give mbedtls_ssl_get_session() only sessions it can resume with: TLS 1.2, or TLS 1.3 once a
 * ticket arrived. */
bool mqtls__compat_session_saveable(const mbedtls_ssl_context *ssl, bool ticket_seen);
/* SHA-1 of @p in (ws.c: Sec-WebSocket-Accept, RFC 6455 4.2.2). 0 on success, else the
 * mbedTLS error. (The function lost its _ret suffix in 3.0.) */
int mqtls__compat_sha1(const uint8_t *in, size_t len, uint8_t digest[20]);

#endif
