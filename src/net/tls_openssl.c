/* The OpenSSL 3 engine (tls_engine.h, tls_openssl.h): Debian's libssl behind the same
 * operations and the same handshake facts as the mbedTLS engine, so that diagnosis, findings
 * and doctor work identically on it. The fast engine for Linux hosts (docs/tls-engines.md).
 *  - context (this file): an SSL_CTX per mqtls context; credentials from bytes (PEM or DER,
 *    encrypted keys through OSSL_DECODER with the password for the call only);
 *  - connection (tls_openssl_conn.c): a BIO over the inner transport through tls_io.c;
 *  - verification: tls_openssl_verify.c (mbedTLS's flags, the profile's rows, the judge);
 *  - codes: err->mbedtls_ret / facts->handshake_ret hold the mbedTLS code of the same outcome
 *    (tls_engine.h), so that diagnosis reads one set. */
#include "tls_openssl.h"

#include "net/tls_io.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites: forward-secret AEAD only (DESIGN.md), the mbedTLS engines' default
 * (mqtls_tls_cfg_t::ciphers NULL: ECDHE with GCM, ChaCha20-Poly1305 or CCM, no CCM-8). TLS 1.3
 * keeps OpenSSL's three. */
#define OSSL_CIPHERS12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"       \
    "ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES256-CCM"
/* TLS-PSK (TLS 1.2): the mbedTLS engine's list (tls_ctx.c psk_suites), forward-secret first. */
#define OSSL_CIPHERS_PSK                                                                           \
    "ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384:DHE-PSK-AES128-GCM-SHA256:"             \
    "DHE-PSK-CHACHA20-POLY1305:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:"                       \
    "PSK-CHACHA20-POLY1305"
/* Longest cipher list built from mqtls_tls_cfg_t::ciphers (OpenSSL names). */
#define OSSL_CIPHERS_MAX 2048
/* Handshake signatures: no SHA-1 or SHA-224 (security level 0 would allow them; see ctx_new),
 * and no EdDSA: mbedTLS has none, so a broker with an Ed25519 certificate fails alike on every
 * engine (no-shared-cipher) instead of connecting here only (docs/tls-engines.md). */
#define OSSL_SIGALGS                                                                               \
    "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:rsa_pss_pss_sha256:"                                   \
    "rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"               \
    "rsa_pss_rsae_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512"
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    mqtls__ossl_verify_init();
    mqtls__ossl_bio_init();
}

static const char *engine_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}

void mqtls__ossl_take_error(char *out, size_t cap, unsigned long *code)
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
    mqtls__ossl_p11_release(c); /* after the SSL_CTX that holds the token's key */
    free(c->server_name);
    free(c->alpn);
    if (c->psk_key != NULL) {
        mqtls__tls_wipe(c->psk_key, c->psk_len);
        free(c->psk_key);
    }
    if (c->psk_identity != NULL) {
        mqtls__tls_wipe(c->psk_identity, strlen(c->psk_identity));
        free(c->psk_identity);
    }
    free(c);
}

static void ctx_set_flight_gathering(mqtls__tls_ectx_t *c, bool on)
{
    if (c != NULL) {
        c->gather_flights = on;
    }
}

mqtls_status_t mqtls__ossl_setup_fail(mqtls_error_t *err, const char *what)
{
    char text[160];
    mqtls__ossl_take_error(text, sizeof text, NULL);
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

/* ---- cipher suites: mqtls_tls_cfg_t::ciphers in OpenSSL's names ---------------------------- */

static bool append(char *out, size_t cap, size_t *used, const char *name)
{
    int n = snprintf(out + *used, cap - *used, "%s%s", *used > 0 ? ":" : "", name);
    if (n < 0 || (size_t)n >= cap - *used) {
        return false;
    }
    *used += (size_t)n;
    return true;
}

/* One name of the list (IANA TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or mbedTLS
 * TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256 / TLS1-3-AES-128-GCM-SHA256, as the mbedTLS engines take
 * them) as OpenSSL names it; *tls13 says whether it is a TLS 1.3 suite. false: unknown. */
static bool suite_to_openssl(const char *name, size_t len, char *out, size_t cap, bool *tls13)
{
    char iana[96];
    if (len == 0 || len >= sizeof iana - 4) {
        return false;
    }
    size_t skip = 0;
    if (len > 7 && strncmp(name, "TLS1-3-", 7) == 0) {
        memcpy(iana, "TLS_", 4);
        skip = 7;
    }
    size_t o = skip > 0 ? 4 : 0;
    for (size_t i = skip; i < len; i++) {
        iana[o++] = name[i] == '-' ? '_' : name[i];
    }
    iana[o] = '\0';
    /* TLS 1.3: the IANA names are OpenSSL's (SSL_CTX_set_ciphersuites). */
    static const char *const v13[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                      "TLS_AES_128_CCM_8_SHA256"};
    for (size_t i = 0; i < sizeof v13 / sizeof v13[0]; i++) {
        if (strcmp(iana, v13[i]) == 0) {
            *tls13 = true;
            (void)snprintf(out, cap, "%s", iana);
            return true;
        }
    }
    *tls13 = false;
    const char *ossl = OPENSSL_cipher_name(iana); /* "(NONE)" when unknown */
    if (ossl == NULL || strcmp(ossl, "(NONE)") == 0) {
        return false;
    }
    (void)snprintf(out, cap, "%s", ossl);
    return true;
}

/* cfg->ciphers on @p s: the TLS 1.2 suites named, in that order; the TLS 1.3 suites named, or
 * all of OpenSSL's when none is (as the mbedTLS engines do). */
static mqtls_status_t set_ciphers(mqtls__tls_ectx_t *c, const char *list, mqtls_error_t *err)
{
    char v12[OSSL_CIPHERS_MAX];
    char v13[256];
    size_t n12 = 0;
    size_t n13 = 0;
    v12[0] = '\0';
    v13[0] = '\0';
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ":");
        char name[128];
        bool tls13 = false;
        if (!suite_to_openssl(p, len, name, sizeof name, &tls13)) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "unknown cipher suite '%.*s' (an IANA or mbedTLS name, e.g. "
                                   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; OpenSSL has no such "
                                   "suite)",
                                   (int)(len < 64u ? len : 64u), p);
        }
        if (!append(tls13 ? v13 : v12, tls13 ? sizeof v13 : sizeof v12, tls13 ? &n13 : &n12,
                    name)) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "cipher suite list too long");
        }
        p += len;
        p += *p == ':' ? 1 : 0;
    }
    if (n12 == 0 && n13 == 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "empty cipher suite list");
    }
    if (n12 > 0 && SSL_CTX_set_cipher_list(c->ssl_ctx, v12) != 1) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "cipher suites '%.64s': none usable by OpenSSL", v12);
    }
    if (n12 == 0) {
        /* TLS 1.3 suites only: OpenSSL keeps no empty TLS 1.2 list, so no TLS 1.2 at all (the
         * mbedTLS engines offer only those suites: a TLS 1.2 broker fails alike). */
        (void)SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_3_VERSION);
    }
    if (n13 > 0 && SSL_CTX_set_ciphersuites(c->ssl_ctx, v13) != 1) {
        return mqtls__ossl_setup_fail(err, "TLS 1.3 cipher suites");
    }
    ERR_clear_error();
    return MQTLS_OK;
}

/* ---- TLS-PSK -------------------------------------------------------------------------------- */

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
    (void)hint;
    const mqtls__tls_ectx_t *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (c == NULL || c->psk_key == NULL) {
        return 0;
    }
    size_t id_len = strlen(c->psk_identity);
    if (id_len + 1 > max_identity_len || c->psk_len > max_psk_len) {
        return 0; /* checked in psk_setup; 0 aborts the handshake */
    }
    memcpy(identity, c->psk_identity, id_len + 1);
    memcpy(psk, c->psk_key, c->psk_len);
    return (unsigned int)c->psk_len;
}

/* opts->psk (tls.c checked the rules every engine shares): key and identity copied, the PSK
 * suites of TLS 1.2, nothing to verify. */
static mqtls_status_t psk_setup(mqtls__tls_ectx_t *c, const mqtls__tls_opts_t *opts,
                                mqtls_error_t *err)
{
    size_t id_len = strlen(opts->psk_identity);
    if (opts->psk_len > PSK_MAX_PSK_LEN || id_len >= PSK_MAX_IDENTITY_LEN) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK key of %zu bytes or identity of %zu: OpenSSL takes at most "
                               "%d and %d (PSK_MAX_PSK_LEN, PSK_MAX_IDENTITY_LEN)",
                               opts->psk_len, id_len, PSK_MAX_PSK_LEN, PSK_MAX_IDENTITY_LEN - 1);
    }
    c->psk_key = malloc(opts->psk_len);
    c->psk_identity = malloc(id_len + 1);
    if (c->psk_key == NULL || c->psk_identity == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "psk");
    }
    memcpy(c->psk_key, opts->psk, opts->psk_len);
    c->psk_len = opts->psk_len;
    memcpy(c->psk_identity, opts->psk_identity, id_len + 1);
    c->psk = true;
    (void)SSL_CTX_set_app_data(c->ssl_ctx, c);
    SSL_CTX_set_psk_client_callback(c->ssl_ctx, psk_client_cb);
    if (SSL_CTX_set_cipher_list(c->ssl_ctx, OSSL_CIPHERS_PSK) != 1) {
        return mqtls__ossl_setup_fail(err, "TLS-PSK cipher suites");
    }
    return MQTLS_OK;
}

static mqtls_status_t ctx_setup(mqtls__tls_ectx_t *c, const mqtls__tls_opts_t *opts,
                                mqtls_error_t *err)
{
    SSL_CTX *s = c->ssl_ctx;
    if (SSL_CTX_set_min_proto_version(s, opts->min_version) != 1 ||
        SSL_CTX_set_max_proto_version(s, opts->max_version) != 1) {
        return mqtls__ossl_setup_fail(err, "TLS versions");
    }
    /* Security level 0: the profile's rows judge the server's keys and hashes
     * (tls_openssl_verify.c), and our own certificate is the broker's to judge, as with
     * mbedTLS. The handshake stays strong by the explicit lists below. */
    SSL_CTX_set_security_level(s, 0);
    if (SSL_CTX_set_cipher_list(s, OSSL_CIPHERS12) != 1 ||
        SSL_CTX_set1_sigalgs_list(s, OSSL_SIGALGS) != 1) {
        return mqtls__ossl_setup_fail(err, "cipher suites");
    }
    (void)SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* NO_AUTO_CHAIN: send our chain as configured, like mbedTLS (and the device): OpenSSL
     * would otherwise complete it from the trusted CAs and hide a client-chain-incomplete. */
    /* RELEASE_BUFFERS: an idle connection holds no 16 KiB read/write buffers (they are taken
     * again when a record comes or goes), as libmosquitto sets it; the heap of thousands of
     * idle clients is what `mqtls bench` sizes. */
    (void)SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS);
    /* RFC 6066 max_fragment_length, in TLS 1.2 and 1.3 (OpenSSL reads the echo in either).
     * The mode is log2(length) - 8: 512 -> 1 ... 4096 -> 4 (tls.c checked the length). */
    if (opts->max_fragment_len != 0) {
        uint8_t mode = 1;
        while ((256u << mode) < opts->max_fragment_len) {
            mode++;
        }
        if (SSL_CTX_set_tlsext_max_fragment_length(s, mode) != 1) {
            return mqtls__ossl_setup_fail(err, "max_fragment_length");
        }
    }
    mqtls_status_t st = MQTLS_OK;
    if (opts->psk != NULL) {
        st = psk_setup(c, opts, err);
    } else if (opts->ciphers != NULL) {
        st = set_ciphers(c, opts->ciphers, err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    c->insecure = opts->insecure;
    c->no_hostname_check = opts->no_hostname_check || c->psk; /* PSK: no certificate */
    c->resumption = opts->resumption;
    c->profile = opts->profile;
    /* DESIGN.md: verification on by default; `insecure` is explicit (and loud, upstairs). A
     * PSK handshake has no certificate to verify. */
    SSL_CTX_set_verify(s, c->insecure || c->psk ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(s, mqtls__ossl_cert_verify, NULL);
    if (c->resumption) {
        /* Sessions live in the connection (new_session_cb), as the mbedTLS engine's do. */
        (void)SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT |
                                                    SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(s, mqtls__ossl_new_session);
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
    if (mqtls__ossl_bio_method() == NULL) {
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
        c->ssl_ctx != NULL ? ctx_setup(c, opts, err) : mqtls__ossl_setup_fail(err, "SSL_CTX_new");
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
static mqtls_status_t load_key(mqtls__tls_ectx_t *c, const mqtls__tls_key_t *key, EVP_PKEY **out,
                               mqtls_error_t *err)
{
    *out = NULL;
    if (key->kind == MQTLS__KEY_URI) {
        return mqtls__ossl_p11_load(c, key, out, err); /* a key on a PKCS#11 token */
    }
    if (key->kind != MQTLS__KEY_BYTES) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the openssl engine cannot load this kind of key", key->name);
    }
    pass_t pass = {.password = key->password, .asked = false};
    EVP_PKEY *pk = NULL;
    OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, NULL,
                                                        OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
    size_t len = key->len;
    if (len > 0 && key->buf[len - 1] == '\0' && is_pem(key->buf, key->len)) {
        len--; /* the NUL tls.c counts for PEM; a DER key may end in a 0x00 byte of its own */
    }
    const unsigned char *data = key->buf;
    /* PEM: from the first private key block, as mbedTLS reads it (one file may hold the
     * certificate first, then its key, given as both --cert and --key). OSSL_DECODER would stop
     * at the certificate. */
    static const char begin[] = "-----BEGIN ";
    for (size_t i = 0; is_pem(key->buf, key->len) && i + sizeof begin - 1 <= len; i++) {
        if (memcmp(data + i, begin, sizeof begin - 1) != 0) {
            continue;
        }
        const unsigned char *eol = memchr(data + i, '\n', len - i);
        size_t line = eol != NULL ? (size_t)(eol - (data + i)) : len - i;
        static const char tail[] = "PRIVATE KEY-----";
        for (size_t j = 0; j + sizeof tail - 1 <= line; j++) {
            if (memcmp(data + i + j, tail, sizeof tail - 1) == 0) {
                data += i;
                len -= i;
                i = len; /* found: stop looking */
                break;
            }
        }
    }
    bool ok = d != NULL && OSSL_DECODER_CTX_set_pem_password_cb(d, pass_cb, &pass) == 1 &&
              OSSL_DECODER_from_data(d, &data, &len) == 1 && pk != NULL;
    OSSL_DECODER_CTX_free(d);
    char text[160];
    unsigned long code = 0;
    mqtls__ossl_take_error(text, sizeof text, &code);
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
        st = load_key(c, key, &pk, err);
    }
    if (st == MQTLS_OK) {
        X509 *leaf = sk_X509_value(chain, 0);
        if (X509_check_private_key(leaf, pk) != 1) {
            char text[160];
            mqtls__ossl_take_error(text, sizeof text, NULL);
            st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_MISMATCH, 0,
                                 "%s: does not match the public key of the client certificate "
                                 "(OpenSSL: %s)",
                                 key->name, text);
        } else if (SSL_CTX_use_certificate(c->ssl_ctx, leaf) != 1 ||
                   SSL_CTX_use_PrivateKey(c->ssl_ctx, pk) != 1) {
            st = mqtls__ossl_setup_fail(err, "client certificate and key");
        }
        for (int i = 1; st == MQTLS_OK && i < sk_X509_num(chain); i++) {
            if (SSL_CTX_add1_chain_cert(c->ssl_ctx, sk_X509_value(chain, i)) != 1) {
                st = mqtls__ossl_setup_fail(err, "client certificate chain");
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
    .conn_create = mqtls__ossl_conn_create,
    .judge_chain = NULL,
};
