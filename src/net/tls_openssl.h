/* Internal to src/net: the OpenSSL 3 engine (tls_engine.h). tls_openssl.c: context,
 * credentials, the connection; tls_openssl_verify.c: the server chain's verification, with
 * OpenSSL's X509_V_ERR_* mapped to the MBEDTLS_X509_BADCERT_* numbering through one table and
 * the profile's rows applied where mbedTLS applies them. No mbedTLS header here. */
#ifndef MQTLS_NET_TLS_OPENSSL_H
#define MQTLS_NET_TLS_OPENSSL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/net.h"
#include "net/tls_engine.h"

struct mqtls__tls_ectx {
    SSL_CTX *ssl_ctx;
    const mqtls__profile_t *profile; /* static row: the chain's hashes and keys */
    bool has_ca;
    bool has_cert;
    bool insecure;
    bool no_hostname_check;
    bool resumption;
    bool gather_flights;
    atomic_bool cert_accepted; /* a TLS 1.3 broker accepted our certificate once (tls_io.h) */
    char *server_name;         /* owned copy of opts->server_name, or NULL */
    unsigned char *alpn;       /* ALPN wire format (length-prefixed names), owned, or NULL */
    unsigned int alpn_len;
    bool psk;                  /* TLS-PSK: no certificates (opts->psk) */
    unsigned char *psk_key;    /* owned copy, wiped at ctx_free; NULL without a PSK */
    size_t psk_len;
    char *psk_identity; /* owned copy */
    struct engine_st *p11_engine; /* initialised pkcs11 ENGINE of a token key, or NULL */
};

/* What a connection's verification needs (tls_openssl.c owns it; one per connection). */
typedef struct mqtls__ossl_verify {
    const struct mqtls__tls_ectx *ctx;
    const mqtls__tls_conn_cfg_t *cc; /* facts, the judge */
    uint32_t flags;                  /* the verdict, merged (MBEDTLS_X509_BADCERT_*) */
    bool done;                       /* the callback ran in this handshake */
} mqtls__ossl_verify_t;

/* SSL_CTX_set_cert_verify_callback()'s callback; the SSL's app data is the connection, whose
 * verify state mqtls__ossl_conn_verify() returns. */
int mqtls__ossl_cert_verify(X509_STORE_CTX *sctx, void *arg);
mqtls__ossl_verify_t *mqtls__ossl_conn_verify(SSL *ssl);

/* Once per process (tls_openssl.c calls it under pthread_once): collect()'s ex_data slot. */
void mqtls__ossl_verify_init(void);

/* tls_openssl_p11.c: the private key a pkcs11: URI names (@p key of kind MQTLS__KEY_URI), its
 * private operations done by the token (OpenSSL's pkcs11 ENGINE). MQTLS_OK; the statuses of
 * mqtls__p11_key_open(); MQTLS_ERR_NOT_SUPPORTED (the ENGINE is not installed). */
mqtls_status_t mqtls__ossl_p11_load(mqtls__tls_ectx_t *c, const mqtls__tls_key_t *key,
                                    EVP_PKEY **out, mqtls_error_t *err);
/* The ENGINE mqtls__ossl_p11_load() keeps in @p c for its key; nothing when none. */
void mqtls__ossl_p11_release(mqtls__tls_ectx_t *c);

/* tls_openssl_conn.c: the BIO method (made once, under the engine's pthread_once), the
 * connection (the engine's conn_create), the new-session callback the context registers. */
void mqtls__ossl_bio_init(void);
BIO_METHOD *mqtls__ossl_bio_method(void);
mqtls_status_t mqtls__ossl_conn_create(mqtls__tls_ectx_t *ctx, const mqtls__tls_conn_cfg_t *cc,
                                       mqtls_transport_t *inner, mqtls_error_t *err,
                                       mqtls_transport_t **out);
int mqtls__ossl_new_session(SSL *ssl, SSL_SESSION *sess);
/* OpenSSL's first queued error as text ("error:0A000086:SSL routines::certificate verify
 * failed") and code (may be NULL), the queue emptied. */
void mqtls__ossl_take_error(char *out, size_t cap, unsigned long *code);
/* MQTLS_ERR_TLS_SETUP with "@p what: <OpenSSL's error>". */
mqtls_status_t mqtls__ossl_setup_fail(mqtls_error_t *err, const char *what);

/* The one table: X509_V_ERR_* -> MBEDTLS_X509_BADCERT_* (0 for errors that are not about the
 * certificate, e.g. CRLs mqtls does not use). */
uint32_t mqtls__ossl_badcert_flag(int x509_v_err);
/* The X509_V_ERR_* that makes OpenSSL send @p alert (what mbedTLS sends for the flags). */
int mqtls__ossl_err_for_alert(int alert);

#endif /* MQTLS_NET_TLS_OPENSSL_H */
