/* The OpenSSL 3 engine (tls_engine.h, tls_openssl.h): Debian's libssl behind the same
 * operations and the same handshake facts as the mbedTLS engine, so that diagnosis, findings
 * and doctor work identically on it. The fast engine for Linux hosts (docs/tls-engines.md).
 *  - context: an SSL_CTX per mqtls context; credentials from bytes (PEM or DER, encrypted keys
 *    through OSSL_DECODER with the password for the call only);
 *  - connection: a BIO over the inner transport through tls_io.c (flights gathered into one
 *    send, the record parser fed with what the server sends); TLS 1.3's encrypted handshake
 *    messages and alerts come from the message callback, decrypted;
 *  - verification: tls_openssl_verify.c (mbedTLS's flags, the profile's rows, the judge);
 *  - codes: err->mbedtls_ret / facts->handshake_ret hold the mbedTLS code of the same outcome
 *    (tls_engine.h), so that diagnosis reads one set. */
#include "tls_openssl.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/tls_io.h"
#include "net/tls_records.h"

/* TLS 1.2 suites: forward-secret AEAD only (DESIGN.md). TLS 1.3 keeps OpenSSL's three. */
#define OSSL_CIPHERS12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* Handshake signatures: no SHA-1 or SHA-224 (security level 0 would allow them; see ctx_new). */
#define OSSL_SIGALGS                                                                               \
    "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ed25519:ed448:rsa_pss_pss_sha256:"                     \
    "rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"               \
    "rsa_pss_rsae_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512"
#ifndef MQTLS_TLS_COALESCE_MAX
#define MQTLS_TLS_COALESCE_MAX 4096u
#endif
#define OSSL_RECORD_MAX 16384u

typedef enum {
    TLS_IDLE,
    TLS_INNER,     /* inner transport connecting */
    TLS_HANDSHAKE, /* SSL_connect() in progress */
    TLS_FLUSH,     /* handshake done, last flight still being written */
    TLS_OPEN,
    TLS_VERDICT, /* TLS 1.3 client certificate: awaiting the broker's verdict (tls_io.h) */
    TLS_DRAIN,   /* handshake failed: reading a late alert, for MQTLS__TLS_DRAIN_MS */
    TLS_FAILED,  /* the failure has been reported; connect() starts over */
} tls_state_t;

typedef struct conn {
    mqtls_transport_t base;
    mqtls__tls_ectx_t *ctx;
    mqtls_transport_t *inner;
    char *host;
    mqtls_tls_facts_t *facts;
    mqtls__tls_conn_cfg_t cc;
    mqtls__ossl_verify_t verify;
    SSL *ssl;
    BIO *bio;
    SSL_SESSION *saved; /* what the next connect offers */
    tls_state_t state;
    unsigned want;
    mqtls__tls_io_t io;
    int64_t hs_start_ms;
    int fail_code;            /* TLS_DRAIN: the failure's mbedTLS code */
    unsigned long fail_error; /* TLS_DRAIN: OpenSSL's first error */
    uint8_t *plain;           /* staging for coalesced writev */
    size_t plain_cap;
    bool ticket_seen; /* TLS 1.3 NewSessionTicket received: the broker accepted us */
    int64_t verdict_deadline_ms;
    uint8_t early[256]; /* data read while awaiting the verdict, returned by the next reads */
    size_t early_len;
    size_t early_off;
} conn_t;

/* ---- once per process -------------------------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_method;

static int bio_write_cb(BIO *b, const char *buf, int len);
static int bio_read_cb(BIO *b, char *buf, int len);
static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr);
static int bio_create_cb(BIO *b);

static void init_once(void)
{
    mqtls__ossl_verify_init();
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mqtls transport");
    if (bio_method != NULL) {
        (void)BIO_meth_set_write(bio_method, bio_write_cb);
        (void)BIO_meth_set_read(bio_method, bio_read_cb);
        (void)BIO_meth_set_ctrl(bio_method, bio_ctrl_cb);
        (void)BIO_meth_set_create(bio_method, bio_create_cb);
    }
}

static const char *engine_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}

/* OpenSSL's first queued error as text ("error:0A000086:SSL routines::certificate verify
 * failed"), the queue emptied. */
static void take_error(char *out, size_t cap, unsigned long *code)
{
    unsigned long e = ERR_get_error();
    if (code != NULL) {
        *code = e;
    }
    if (e == 0) {
        (void)snprintf(out, cap, "no OpenSSL error queued");
    } else {
        ERR_error_string_n(e, out, cap);
    }
    ERR_clear_error();
}

/* ---- the context ----------------------------------------------------------------------- */

static void ctx_free(mqtls__tls_ectx_t *c)
{
    if (c == NULL) {
        return;
    }
    SSL_CTX_free(c->ssl_ctx);
    free(c->server_name);
    free(c->alpn);
    free(c);
}

static void ctx_set_flight_gathering(mqtls__tls_ectx_t *c, bool on)
{
    if (c != NULL) {
        c->gather_flights = on;
    }
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess);

static mqtls_status_t setup_fail(mqtls_error_t *err, const char *what)
{
    char text[160];
    take_error(text, sizeof text, NULL);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0, "%s: %s", what, text);
}

/* ALPN protocols in wire format (RFC 7301 3.1: length-prefixed names). */
static mqtls_status_t set_alpn(mqtls__tls_ectx_t *c, const char *const *alpn, mqtls_error_t *err)
{
    size_t total = 0;
    for (size_t i = 0; alpn != NULL && alpn[i] != NULL; i++) {
        size_t n = strlen(alpn[i]);
        if (n == 0 || n > 255) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "ALPN protocol names must be 1 to 255 bytes");
        }
        total += 1 + n;
    }
    if (total == 0) {
        return MQTLS_OK;
    }
    c->alpn = malloc(total);
    if (c->alpn == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "alpn");
    }
    size_t pos = 0;
    for (size_t i = 0; alpn[i] != NULL; i++) {
        size_t n = strlen(alpn[i]);
        c->alpn[pos++] = (unsigned char)n;
        memcpy(c->alpn + pos, alpn[i], n);
        pos += n;
    }
    c->alpn_len = (unsigned)total;
    /* SSL_CTX_set_alpn_protos() returns 0 on success. */
    if (SSL_CTX_set_alpn_protos(c->ssl_ctx, c->alpn, c->alpn_len) != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "ALPN list rejected by OpenSSL");
    }
    return MQTLS_OK;
}

static mqtls_status_t ctx_setup(mqtls__tls_ectx_t *c, const mqtls__tls_opts_t *opts,
                                mqtls_error_t *err)
{
    SSL_CTX *s = c->ssl_ctx;
    if (SSL_CTX_set_min_proto_version(s, opts->min_version) != 1 ||
        SSL_CTX_set_max_proto_version(s, opts->max_version) != 1) {
        return setup_fail(err, "TLS versions");
    }
    /* Security level 0: the profile's rows judge the server's keys and hashes
     * (tls_openssl_verify.c), and our own certificate is the broker's to judge, as with
     * mbedTLS. The handshake stays strong by the explicit lists below. */
    SSL_CTX_set_security_level(s, 0);
    if (SSL_CTX_set_cipher_list(s, OSSL_CIPHERS12) != 1 ||
        SSL_CTX_set1_sigalgs_list(s, OSSL_SIGALGS) != 1) {
        return setup_fail(err, "cipher suites");
    }
    (void)SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* NO_AUTO_CHAIN: send our chain as configured, like mbedTLS (and the device): OpenSSL
     * would otherwise complete it from the trusted CAs and hide a client-chain-incomplete. */
    (void)SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_NO_AUTO_CHAIN);
    c->insecure = opts->insecure;
    c->no_hostname_check = opts->no_hostname_check;
    c->resumption = opts->resumption;
    c->profile = opts->profile;
    /* DESIGN.md: verification on by default; `insecure` is explicit (and loud, upstairs). */
    SSL_CTX_set_verify(s, c->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(s, mqtls__ossl_cert_verify, NULL);
    if (c->resumption) {
        /* Sessions live in the connection (new_session_cb), as the mbedTLS engine's do. */
        (void)SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT |
                                                    SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(s, new_session_cb);
    } else {
        (void)SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
        (void)SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    }
    if (opts->server_name != NULL) {
        size_t n = strlen(opts->server_name);
        c->server_name = malloc(n + 1);
        if (c->server_name == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "server_name");
        }
        memcpy(c->server_name, opts->server_name, n + 1);
    }
    return set_alpn(c, opts->alpn, err);
}

static mqtls_status_t ctx_new(const mqtls__tls_opts_t *opts, mqtls_error_t *err,
                              mqtls__tls_ectx_t **out)
{
    *out = NULL;
    (void)pthread_once(&once, init_once);
    if (bio_method == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "OpenSSL: could not create the BIO method");
    }
    mqtls__tls_ectx_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    c->gather_flights = true;
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    mqtls_status_t st =
        c->ssl_ctx != NULL ? ctx_setup(c, opts, err) : setup_fail(err, "SSL_CTX_new");
    if (st != MQTLS_OK) {
        ctx_free(c);
        return st;
    }
    *out = c;
    return MQTLS_OK;
}

static mqtls_status_t ctx_finish(mqtls__tls_ectx_t *c, mqtls_error_t *err)
{
    (void)c;
    (void)err;
    return MQTLS_OK;
}

/* ---- credentials -------------------------------------------------------------------------- */

/* PEM (with its NUL counted, as tls.c hands it) or DER? */
static bool is_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof tag - 1 <= len; i++) {
        if (buf[i] == '-' && memcmp(buf + i, tag, sizeof tag - 1) == 0) {
            return true;
        }
    }
    return false;
}

/* Every certificate of @p buf (PEM: all CERTIFICATE blocks; DER: one) into @p out, in order.
 * *failed counts PEM certificates that did not parse. */
static void parse_certs(const uint8_t *buf, size_t len, STACK_OF(X509) * out, int *failed)
{
    *failed = 0;
    if (len > INT_MAX) {
        return;
    }
    if (!is_pem(buf, len)) {
        const unsigned char *p = buf;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x != NULL && sk_X509_push(out, x) <= 0) {
            X509_free(x);
        }
        ERR_clear_error();
        return;
    }
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    for (int guard = 0; b != NULL && guard < 10000; guard++) {
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (x == NULL) {
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                break; /* no more certificates */
            }
            if (++*failed > 64) {
                break;
            }
            continue;
        }
        if (sk_X509_push(out, x) <= 0) {
            X509_free(x);
        }
    }
    BIO_free(b);
}

static mqtls_status_t ctx_add_ca(mqtls__tls_ectx_t *c, const uint8_t *buf, size_t len,
                                 const char *name, mqtls_error_t *err)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (certs == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "%s", name);
    }
    int failed = 0;
    parse_certs(buf, len, certs, &failed);
    X509_STORE *store = SSL_CTX_get_cert_store(c->ssl_ctx);
    int taken = 0;
    for (int i = 0; i < sk_X509_num(certs); i++) {
        taken += X509_STORE_add_cert(store, sk_X509_value(certs, i)) == 1 ? 1 : 0;
    }
    ERR_clear_error();
    sk_X509_pop_free(certs, X509_free);
    if (taken == 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CA_PARSE, 0,
                               "%s: CA certificates: no certificate could be parsed (OpenSSL%s)",
                               name, failed > 0 ? ": malformed certificate" : ": none found");
    }
    c->has_ca = true;
    return MQTLS_OK;
}

typedef struct {
    const char *password;
    bool asked;
} pass_t;

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    pass_t *p = u;
    p->asked = true;
    if (p->password == NULL || size <= 0) {
        return -1;
    }
    size_t n = strlen(p->password);
    n = n < (size_t)size ? n : (size_t)size;
    memcpy(buf, p->password, n);
    return (int)n;
}

/* A private key from PEM or DER, encrypted or not (the password for this call only). */
static mqtls_status_t load_key(const mqtls__tls_key_t *key, EVP_PKEY **out, mqtls_error_t *err)
{
    *out = NULL;
    if (key->kind != MQTLS__KEY_BYTES) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the openssl engine loads keys from bytes only", key->name);
    }
    pass_t pass = {.password = key->password, .asked = false};
    EVP_PKEY *pk = NULL;
    OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, NULL,
                                                        OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
    size_t len = key->len;
    if (len > 0 && key->buf[len - 1] == '\0') {
        len--; /* the NUL tls.c counts for PEM */
    }
    const unsigned char *data = key->buf;
    bool ok = d != NULL && OSSL_DECODER_CTX_set_pem_password_cb(d, pass_cb, &pass) == 1 &&
              OSSL_DECODER_from_data(d, &data, &len) == 1 && pk != NULL;
    OSSL_DECODER_CTX_free(d);
    char text[160];
    unsigned long code = 0;
    take_error(text, sizeof text, &code);
    if (ok) {
        *out = pk;
        return MQTLS_OK;
    }
    EVP_PKEY_free(pk);
    if (pass.asked && key->password == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_PASSWORD_REQUIRED, 0,
                               "%s: the key is encrypted and no password was given", key->name);
    }
    if (pass.asked) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_PASSWORD_WRONG, 0,
                               "%s: the key password is wrong (OpenSSL: %s)", key->name, text);
    }
    /* A key OpenSSL cannot handle, as opposed to bytes that are no key at all. */
    bool keyish = is_pem(key->buf, key->len) ? strstr((const char *)key->buf, "PRIVATE KEY") != NULL
                                             : key->len > 0 && key->buf[0] == 0x30;
    if (keyish && ERR_GET_REASON(code) == ERR_R_UNSUPPORTED) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_UNSUPPORTED, 0,
                               "%s: key type or key encryption not supported by OpenSSL (%s)",
                               key->name, text);
    }
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_PARSE, 0,
                           "%s: private key (OpenSSL: %s)", key->name, text);
}

static mqtls_status_t ctx_set_own(mqtls__tls_ectx_t *c, const uint8_t *cert, size_t cert_len,
                                  const char *cert_name, const mqtls__tls_key_t *key,
                                  mqtls_error_t *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (chain == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "%s", cert_name);
    }
    int failed = 0;
    parse_certs(cert, cert_len, chain, &failed);
    mqtls_status_t st = MQTLS_OK;
    if (sk_X509_num(chain) == 0) {
        st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CERT_PARSE, 0,
                             "%s: client certificate: no certificate could be parsed (OpenSSL)",
                             cert_name);
    } else if (failed > 0) {
        st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CERT_PARSE, 0,
                             "%s: %d certificate(s) of the chain could not be parsed", cert_name,
                             failed);
    }
    EVP_PKEY *pk = NULL;
    if (st == MQTLS_OK) {
        st = load_key(key, &pk, err);
    }
    if (st == MQTLS_OK) {
        X509 *leaf = sk_X509_value(chain, 0);
        if (X509_check_private_key(leaf, pk) != 1) {
            char text[160];
            take_error(text, sizeof text, NULL);
            st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_MISMATCH, 0,
                                 "%s: does not match the public key of the client certificate "
                                 "(OpenSSL: %s)",
                                 key->name, text);
        } else if (SSL_CTX_use_certificate(c->ssl_ctx, leaf) != 1 ||
                   SSL_CTX_use_PrivateKey(c->ssl_ctx, pk) != 1) {
            st = setup_fail(err, "client certificate and key");
        }
        for (int i = 1; st == MQTLS_OK && i < sk_X509_num(chain); i++) {
            if (SSL_CTX_add1_chain_cert(c->ssl_ctx, sk_X509_value(chain, i)) != 1) {
                st = setup_fail(err, "client certificate chain");
            }
        }
    }
    EVP_PKEY_free(pk);
    sk_X509_pop_free(chain, X509_free);
    if (st == MQTLS_OK) {
        c->has_cert = true;
    }
    return st;
}

/* ---- BIO: OpenSSL's conventions over tls_io ------------------------------------------------ */

static int bio_create_cb(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_write_cb(BIO *b, const char *buf, int len)
{
    conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0) {
        return -1;
    }
    long n = mqtls__tls_io_send(&c->io, (const uint8_t *)buf, (size_t)len);
    if (n >= 0) {
        return (int)n;
    }
    if (n == MQTLS__IO_WANT_WRITE) {
        BIO_set_retry_write(b);
    }
    return -1;
}

static int bio_read_cb(BIO *b, char *buf, int len)
{
    conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0) {
        return -1;
    }
    long n = mqtls__tls_io_recv(&c->io, (uint8_t *)buf, (size_t)len);
    if (n >= 0) {
        return (int)n; /* 0: EOF */
    }
    if (n == MQTLS__IO_WANT_READ) {
        BIO_set_retry_read(b);
    } else if (n == MQTLS__IO_WANT_WRITE) {
        BIO_set_retry_write(b);
    }
    return -1;
}

static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    conn_t *c = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: {
        /* The end of a flight: it leaves now, in one send. */
        BIO_clear_retry_flags(b);
        mqtls_status_t st = c != NULL ? mqtls__tls_io_flush(&c->io) : MQTLS_OK;
        if (st == MQTLS_OK) {
            return 1;
        }
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            BIO_set_retry_write(b);
        } else if (c != NULL) {
            c->io.io_status = st;
        }
        return -1;
    }
    case BIO_CTRL_WPENDING:
        return c != NULL ? (long)c->io.olen : 0;
    case BIO_CTRL_PUSH:
    case BIO_CTRL_POP:
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

/* ---- what the connection learns from OpenSSL -------------------------------------------- */

mqtls__ossl_verify_t *mqtls__ossl_conn_verify(SSL *ssl)
{
    conn_t *c = SSL_get_app_data(ssl);
    return c != NULL ? &c->verify : NULL;
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    conn_t *c = SSL_get_app_data(ssl);
    if (c == NULL || !c->ctx->resumption) {
        return 0;
    }
    SSL_SESSION_free(c->saved);
    c->saved = sess; /* returning 1 keeps the reference OpenSSL gave us */
    return 1;
}

/* Alerts both ways, and TLS 1.3's handshake messages (encrypted on the wire), decrypted. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    (void)version;
    (void)arg;
    conn_t *c = SSL_get_app_data(ssl);
    const uint8_t *b = buf;
    if (c == NULL) {
        return;
    }
    mqtls_tls_facts_t *f = c->facts;
    if (content_type == SSL3_RT_ALERT && len == 2 && b[0] == 2 /* fatal */) {
        if (write_p) {
            f->alert_sent = b[1];
        } else {
            f->alert_received = b[1];
        }
        return;
    }
    if (content_type != SSL3_RT_HANDSHAKE || len < 4 || SSL_version(ssl) != TLS1_3_VERSION) {
        return;
    }
    if (!write_p) {
        c->ticket_seen = c->ticket_seen || b[0] == 4 /* NewSessionTicket */;
        mqtls__tls_records_on_message13(&c->io.rp, b[0], b + 4, len - 4);
    } else if (b[0] == 11 /* Certificate */ && len >= 5) {
        /* ours: certificate_request_context<0..255>, then the list's 3-byte length */
        size_t pos = 5 + (size_t)b[4];
        f->client_cert_sent = pos + 3 <= len && (b[pos] | b[pos + 1] | b[pos + 2]) != 0;
    }
}

/* The suite as mbedTLS names it (IANA's name with dashes; TLS 1.3 suites "TLS1-3-..."), so that
 * the facts read the same whatever engine connected. */
static void suite_name(const SSL *ssl, char *out, size_t cap)
{
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    const char *iana = ci != NULL ? SSL_CIPHER_standard_name(ci) : NULL;
    if (iana == NULL || cap == 0) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return;
    }
    size_t o = 0;
    const char *p = iana;
    if (SSL_version(ssl) == TLS1_3_VERSION && strncmp(iana, "TLS_", 4) == 0) {
        (void)snprintf(out, cap, "TLS1-3-");
        o = strlen(out);
        p = iana + 4;
    }
    for (; *p != '\0' && o + 1 < cap; p++) {
        out[o++] = *p == '_' ? '-' : *p;
    }
    out[o] = '\0';
}

/* ---- the transport -------------------------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool is_ip_literal(const char *s)
{
    ASN1_OCTET_STRING *o = a2i_IPADDRESS(s);
    bool yes = o != NULL;
    ASN1_OCTET_STRING_free(o);
    ERR_clear_error();
    return yes;
}

static mqtls_status_t start_handshake(conn_t *c)
{
    SSL_free(c->ssl); /* a fresh SSL per attempt (the BIO goes with it) */
    c->ssl = SSL_new(c->ctx->ssl_ctx);
    c->bio = c->ssl != NULL ? BIO_new(bio_method) : NULL;
    if (c->bio == NULL) {
        return setup_fail(c->base.err, "SSL_new");
    }
    BIO_set_data(c->bio, c);
    SSL_set_bio(c->ssl, c->bio, c->bio);
    SSL_set_app_data(c->ssl, c);
    SSL_set_msg_callback(c->ssl, msg_cb);
    const char *name = c->ctx->server_name != NULL ? c->ctx->server_name : c->host;
    mqtls_tls_facts_t *f = c->facts;
    copy_str(f->server_name, sizeof f->server_name, name);
    bool ip = is_ip_literal(name);
    bool ok = true;
    if (!ip) {
        ok = SSL_set_tlsext_host_name(c->ssl, name) == 1; /* IPs get no SNI (RFC 6066 3) */
    }
    if (ok && !c->ctx->insecure && !c->ctx->no_hostname_check) {
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) == 1
                : SSL_set1_host(c->ssl, name) == 1;
    }
    if (!ok) {
        return setup_fail(c->base.err, "server name");
    }
    f->hostname_checked = !c->ctx->insecure && !c->ctx->no_hostname_check;
    f->insecure = c->ctx->insecure;
    f->engine = mqtls__tls_engine_openssl.name;
    c->verify = (mqtls__ossl_verify_t){.ctx = c->ctx, .cc = &c->cc};
    c->ticket_seen = false;
    if (c->saved != NULL && c->ctx->resumption) {
        f->session_offered = SSL_set_session(c->ssl, c->saved) == 1;
    }
    ERR_clear_error();
    mqtls__tls_io_start(&c->io, c->ctx->gather_flights);
    c->hs_start_ms = mqtls__net_now_ms();
    c->state = TLS_HANDSHAKE;
    return MQTLS_OK;
}

/* The mbedTLS code of a failed handshake: the outcome, in the numbers diagnosis reads. */
static int failure_code(const conn_t *c, unsigned long e)
{
    const mqtls_tls_facts_t *f = c->facts;
    if (c->verify.done && c->verify.flags != 0) {
        return MQTLS__MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    if (f->alert_received >= 0) {
        return MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
    }
    int reason = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
        (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
         reason == SSL_R_WRONG_VERSION_NUMBER)) {
        return MQTLS__MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION;
    }
    if (c->io.io_status == MQTLS_ERR_CLOSED ||
        (ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        return MQTLS__MBEDTLS_ERR_SSL_CONN_EOF;
    }
    if (c->io.io_status == MQTLS_ERR_CONN_RESET) {
        return MQTLS__MBEDTLS_ERR_NET_CONN_RESET;
    }
    if (c->io.io_status != MQTLS_OK) {
        return MQTLS__MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return MQTLS__MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE;
}

static mqtls_status_t handshake_report(conn_t *c)
{
    mqtls_error_t *err = c->base.err;
    mqtls__tls_io_flush_quietly(&c->io); /* our fatal alert, best effort */
    c->state = TLS_FAILED;
    c->want = 0;
    mqtls_status_t st = mqtls__tls_io_fail_not_tls(&c->io);
    if (st != MQTLS_OK) {
        return st;
    }
    if (c->verify.done && c->verify.flags != 0) {
        return mqtls__tls_io_fail_verify(&c->io, c->verify.flags);
    }
    st = mqtls__tls_io_fail_peer(&c->io);
    if (st != MQTLS_OK) {
        return st;
    }
    char text[160];
    if (c->fail_error != 0) {
        ERR_error_string_n(c->fail_error, text, sizeof text);
    } else {
        (void)snprintf(text, sizeof text, "handshake failed");
    }
    const char *why = mqtls__tls_io_close_why(&c->io);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE,
                           err != NULL ? err->sys_errno : 0, "%s (OpenSSL: %s)",
                           why != NULL ? why : "TLS handshake failed", text);
}

static mqtls_status_t drain_for_alert(conn_t *c, int64_t now_ms)
{
    if (mqtls__tls_io_drain(&c->io, now_ms) == MQTLS_ERR_WOULD_BLOCK) {
        c->want = MQTLS_WANT_READ;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (c->facts->alert_received >= 0) {
        c->fail_code = MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
        c->facts->handshake_ret = c->fail_code;
        if (c->base.err != NULL) {
            c->base.err->mbedtls_ret = c->fail_code;
        }
    }
    return handshake_report(c);
}

static mqtls_status_t handshake_failed(conn_t *c, int64_t now_ms)
{
    mqtls_tls_facts_t *f = c->facts;
    unsigned long e = ERR_peek_error();
    c->fail_error = e;
    ERR_clear_error();
    c->fail_code = failure_code(c, e);
    f->handshake_ret = c->fail_code;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - c->hs_start_ms);
    if (c->base.err != NULL) {
        c->base.err->mbedtls_ret = c->fail_code;
    }
    if (f->peer_not_tls || (c->verify.done && c->verify.flags != 0) || f->alert_received >= 0 ||
        c->io.rp.stopped) {
        return handshake_report(c);
    }
    c->io.drain_deadline_ms = now_ms + MQTLS__TLS_DRAIN_MS;
    c->state = TLS_DRAIN;
    return drain_for_alert(c, now_ms);
}

static void handshake_done(conn_t *c)
{
    mqtls_tls_facts_t *f = c->facts;
    f->handshake_ret = 0;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - c->hs_start_ms);
    f->verify_flags = c->ctx->insecure ? 0 : c->verify.flags;
    f->tls_version = (uint16_t)SSL_version(c->ssl);
    suite_name(c->ssl, f->ciphersuite, sizeof f->ciphersuite);
    f->session_resumed = f->session_offered && SSL_session_reused(c->ssl) == 1;
    mqtls__tls_io_established(&c->io);
}

static mqtls_status_t map_io(conn_t *c, int r);

/* TLS_VERDICT: read until the broker says what it thinks of our certificate (tls_io.h). */
static mqtls_status_t await_verdict(conn_t *c, int64_t now_ms)
{
    c->io.io_status = MQTLS_OK;
    size_t got = 0;
    int r = SSL_read_ex(c->ssl, c->early, sizeof c->early, &got);
    if (r == 1) {
        c->early_len = got; /* the broker spoke first: accepted */
        c->early_off = 0;
    } else {
        int e = SSL_get_error(c->ssl, r);
        bool waiting = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (waiting && !c->ticket_seen && now_ms < c->verdict_deadline_ms) {
            c->want = e == SSL_ERROR_WANT_READ ? MQTLS_WANT_READ : MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (!waiting) {
            mqtls_status_t st = map_io(c, r); /* the alert, or the connection's end */
            c->state = TLS_FAILED;
            c->want = 0;
            if (st == MQTLS_ERR_CLOSED) {
                st = mqtls__tls_io_fail_peer(&c->io);
            }
            return st != MQTLS_OK ? st : MQTLS_ERR_CLOSED;
        }
    }
    /* a ticket, data, or silence until the deadline: the certificate is accepted */
    atomic_store(&c->ctx->cert_accepted, true);
    c->state = TLS_OPEN;
    c->want = MQTLS_WANT_READ;
    return MQTLS_OK;
}

static mqtls_status_t tls_connect(mqtls_transport_t *base, int64_t now_ms)
{
    conn_t *c = (conn_t *)base;
    switch (c->state) {
    case TLS_FAILED:
        c->inner->ops->close(c->inner); /* a failed handshake leaves a dead connection */
        /* fall through */
    case TLS_IDLE:
        mqtls_error_init(c->base.err); /* a new attempt: no stale flags or alert */
        mqtls__tls_facts_free(c->facts);
        (void)mqtls__tls_records_reset(&c->io.rp, c->facts, false);
        c->state = TLS_INNER;
        /* fall through */
    case TLS_INNER: {
        mqtls_status_t st = c->inner->ops->connect(c->inner, now_ms);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            c->want = c->inner->ops->want(c->inner);
            return st;
        }
        if (st == MQTLS_OK) {
            st = start_handshake(c);
        }
        if (st != MQTLS_OK) {
            c->state = TLS_FAILED;
            return st;
        }
    }
        /* fall through */
    case TLS_HANDSHAKE: {
        c->io.io_status = MQTLS_OK;
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                c->want = e == SSL_ERROR_WANT_READ ? MQTLS_WANT_READ : MQTLS_WANT_WRITE;
                return MQTLS_ERR_WOULD_BLOCK;
            }
            return handshake_failed(c, now_ms);
        }
        handshake_done(c);
        c->state = TLS_FLUSH;
    }
        /* fall through */
    case TLS_FLUSH: {
        mqtls_status_t st = mqtls__tls_io_flush(&c->io);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            c->want = MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            c->state = TLS_FAILED;
            return st;
        }
        if (SSL_version(c->ssl) == TLS1_3_VERSION && c->facts->cert_requested &&
            !atomic_load(&c->ctx->cert_accepted) && !c->facts->session_resumed) {
            c->verdict_deadline_ms = now_ms + MQTLS__TLS_VERDICT_MS;
            c->state = TLS_VERDICT;
            return await_verdict(c, now_ms);
        }
        c->state = TLS_OPEN;
        c->want = MQTLS_WANT_READ;
        return MQTLS_OK;
    }
    case TLS_VERDICT:
        return await_verdict(c, now_ms);
    case TLS_OPEN:
        return MQTLS_OK;
    case TLS_DRAIN:
        return drain_for_alert(c, now_ms);
    }
    return MQTLS_ERR_STATE;
}

static unsigned want_rw(const conn_t *c)
{
    return MQTLS_WANT_READ | (c->io.olen > 0 ? MQTLS_WANT_WRITE : 0u);
}

/* A failed SSL_read / SSL_write as a status. */
static mqtls_status_t map_io(conn_t *c, int r)
{
    mqtls_error_t *err = c->base.err;
    int e = SSL_get_error(c->ssl, r);
    unsigned long code = ERR_peek_error();
    if (e == SSL_ERROR_WANT_READ) {
        c->want = want_rw(c);
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->want = MQTLS_WANT_WRITE;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    char text[160];
    take_error(text, sizeof text, NULL);
    if (c->facts->alert_received >= 0) {
        /* TLS 1.3: a rejected client certificate arrives after our Finished. */
        int alert = c->facts->alert_received;
        if (err != NULL) {
            err->mbedtls_ret = MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
            err->tls_alert = (int16_t)alert;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 0,
                               "server sent fatal alert %d (%s)", alert,
                               mqtls_tls_alert_name(alert));
    }
    if (e == SSL_ERROR_ZERO_RETURN || c->io.io_status == MQTLS_ERR_CLOSED ||
        (ERR_GET_LIB(code) == ERR_LIB_SSL &&
         ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        return MQTLS_ERR_CLOSED;
    }
    if (c->io.io_status != MQTLS_OK) {
        mqtls_status_t st = c->io.io_status;
        c->io.io_status = MQTLS_OK;
        return st; /* the inner transport recorded the details */
    }
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 0, "OpenSSL: %s", text);
}

static mqtls_status_t tls_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    conn_t *c = (conn_t *)base;
    *got = 0;
    if (c->state != TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (c->early_off < c->early_len) {
        size_t n = c->early_len - c->early_off < cap ? c->early_len - c->early_off : cap;
        memcpy(buf, c->early + c->early_off, n);
        c->early_off += n;
        *got = n;
        return MQTLS_OK;
    }
    if (c->io.olen > 0) {
        mqtls_status_t st = mqtls__tls_io_flush(&c->io);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    c->io.io_status = MQTLS_OK;
    /* Post-handshake messages (NewSessionTicket, KeyUpdate) are handled inside: a read that
     * only met those says WANT_READ. */
    int r = SSL_read_ex(c->ssl, buf, cap, got);
    if (r == 1) {
        return MQTLS_OK;
    }
    *got = 0;
    return map_io(c, r);
}

static mqtls_status_t tls_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov,
                                 size_t iov_count, size_t *sent)
{
    conn_t *c = (conn_t *)base;
    *sent = 0;
    if (c->state != TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (c->io.olen > 0) {
        mqtls_status_t st = mqtls__tls_io_flush(&c->io);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            c->want = MQTLS_WANT_READ | MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            return st;
        }
    }
    const uint8_t *data = NULL;
    size_t n = 0;
    if (!mqtls__tls_io_gather(iov, iov_count, c->plain, c->plain_cap, OSSL_RECORD_MAX, &data, &n)) {
        return MQTLS_OK;
    }
    c->io.io_status = MQTLS_OK;
    int r = SSL_write_ex(c->ssl, data, n, sent);
    if (r == 1) {
        c->want = want_rw(c);
        return MQTLS_OK;
    }
    *sent = 0;
    return map_io(c, r);
}

static size_t tls_pending(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->state != TLS_OPEN) {
        return 0;
    }
    size_t n = (size_t)SSL_pending(c->ssl) + (c->early_len - c->early_off);
    if (n == 0 && SSL_has_pending(c->ssl) == 1) {
        n = 1; /* a record is buffered but not decrypted yet */
    }
    return n + c->inner->ops->pending(c->inner);
}

static int tls_fd(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    return c->inner->ops->fd(c->inner);
}

static unsigned tls_want(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->state == TLS_INNER) {
        return c->inner->ops->want(c->inner);
    }
    if (c->state == TLS_OPEN) {
        return want_rw(c);
    }
    return c->want;
}

static void tls_close(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->state == TLS_OPEN) {
        /* Best effort, one try: an orderly close_notify (RFC 8446 6.1). */
        (void)SSL_shutdown(c->ssl);
        (void)mqtls__tls_io_flush(&c->io);
        ERR_clear_error();
    }
    c->inner->ops->close(c->inner);
    c->io.olen = 0;
    c->early_len = 0;
    c->early_off = 0;
    c->state = TLS_IDLE;
    c->want = 0;
}

static void tls_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    conn_t *c = (conn_t *)base;
    if (c->inner != NULL) {
        tls_close(base);
        c->inner->ops->destroy(c->inner);
    }
    SSL_free(c->ssl);
    SSL_SESSION_free(c->saved);
    mqtls__tls_io_free(&c->io);
    if (c->plain != NULL) {
        OPENSSL_cleanse(c->plain, c->plain_cap);
        free(c->plain);
    }
    free(c->host);
    free(c);
}

static int64_t tls_wake_at(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->state == TLS_DRAIN) {
        return c->io.drain_deadline_ms;
    }
    if (c->state == TLS_VERDICT) {
        return c->verdict_deadline_ms;
    }
    return mqtls__transport_wake_at(c->inner);
}

static const mqtls_transport_ops_t tls_ops = {
    .name = "tls",
    .connect = tls_connect,
    .read = tls_read,
    .writev = tls_writev,
    .pending = tls_pending,
    .fd = tls_fd,
    .want = tls_want,
    .close = tls_close,
    .destroy = tls_destroy,
    .wake_at = tls_wake_at,
};

static mqtls_status_t conn_create(mqtls__tls_ectx_t *ctx, const mqtls__tls_conn_cfg_t *cc,
                                  mqtls_transport_t *inner, mqtls_error_t *err,
                                  mqtls_transport_t **out)
{
    *out = NULL;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    c->base.ops = &tls_ops;
    c->base.err = err;
    c->ctx = ctx;
    c->inner = inner;
    c->facts = cc->facts;
    mqtls__tls_facts_init(cc->facts);
    size_t hlen = strlen(cc->host);
    c->host = malloc(hlen + 1);
    c->plain_cap = MQTLS_TLS_COALESCE_MAX;
    c->plain = malloc(c->plain_cap);
    if (c->host == NULL || c->plain == NULL || !mqtls__tls_io_init(&c->io, inner, cc->facts, err)) {
        tls_destroy(&c->base);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: malloc");
    }
    memcpy(c->host, cc->host, hlen + 1);
    c->cc = *cc;
    c->cc.host = c->host;
    c->state = TLS_IDLE;
    *out = &c->base;
    return MQTLS_OK;
}

const mqtls__tls_engine_t mqtls__tls_engine_openssl = {
    .name = "openssl",
    .library = "OpenSSL",
    .device_major = 0,
    .max_version = 0x0304,
    .version = engine_version,
    .ctx_new = ctx_new,
    .ctx_add_ca = ctx_add_ca,
    .ctx_set_own = ctx_set_own,
    .ctx_finish = ctx_finish,
    .ctx_free = ctx_free,
    .ctx_set_flight_gathering = ctx_set_flight_gathering,
    .conn_create = conn_create,
    .judge_chain = NULL,
};
