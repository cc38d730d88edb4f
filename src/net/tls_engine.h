/* Internal to src/net: the TLS engine interface. docs/tls-engines.md explains the design.
 *
 * An engine is one TLS library behind one table of operations: mbedTLS 2.28 (Debian's, the
 * mbedTLS sources compiled against its headers), mbedTLS 3.6 (the same sources compiled again
 * against mqtls::mbedtls3, every internal name prefixed mqtls3__ by cmake/mbedtls3/mqtls3_ns.h)
 * and OpenSSL 3 (tls_openssl*.c). No engine type leaves its own files: what crosses this
 * interface is bytes, mqtls statuses, mqtls_error_t and mqtls_tls_facts_t.
 *
 * Engine-independent work lives in tls.c, above the engines: which engine (cfg, environment,
 * default), the profile, reading credential files and buffers (engines get bytes, or later a
 * key handle), and the device judgement: when the profile names a device whose mbedTLS is not
 * the engine that connects, that mbedTLS verifies the chain the server presented
 * (mqtls__tls_after_verify(), called by every engine after its own chain verification) and
 * its verdict is the handshake's; then the public-key pins (tls_pin.h), on a chain that
 * verified.
 *
 * Life of a context: ctx_new -> ctx_add_ca (any number) -> ctx_set_own (optional) ->
 * ctx_finish -> conn_create (any number, any thread) -> ctx_free. With a PSK (opts->psk) no
 * ctx_add_ca or ctx_set_own is called. */
#ifndef MQTLS_NET_TLS_ENGINE_H
#define MQTLS_NET_TLS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tls_facts.h"
#include "mqtls/error.h"
#include "mqtls/status.h"
#include "net/transport.h"
#include "x509/profile.h"

#define MQTLS__ALPN_MAX 8

/* An engine's shared context (credentials parsed once, its library's configuration). Each
 * engine defines the struct; nothing else looks inside. */
typedef struct mqtls__tls_ectx mqtls__tls_ectx_t;
typedef struct mqtls__tls_engine mqtls__tls_engine_t;

/* Settings every engine applies, resolved by tls.c from mqtls_tls_cfg_t. */
typedef struct mqtls__tls_opts {
    const mqtls__profile_t *profile; /* the rows the server chain is verified by; never NULL */
    uint16_t min_version;            /* 0x0303 or 0x0304 */
    uint16_t max_version;            /* >= min_version, <= the engine's max_version */
    bool insecure;                   /* verify nothing (loud upstairs) */
    bool no_hostname_check;          /* verify the chain, not the name */
    bool resumption;                 /* offer saved sessions / tickets */
    const char *server_name;         /* NULL = the host connected to; borrowed for ctx_new */
    const char *const *alpn;         /* NULL-terminated, <= MQTLS__ALPN_MAX; borrowed */
    /* Cipher suites (mqtls_tls_cfg_t::ciphers: IANA or mbedTLS names, colon-separated); NULL =
     * the engine's ECDHE+AEAD suites and TLS 1.3's. A name the engine lacks fails ctx_new
     * with MQTLS_ERR_INVALID_ARG. Borrowed for ctx_new. Unused with a PSK. */
    const char *ciphers;
    /* TLS-PSK (mqtls_tls_cfg_t::psk): tls.c has checked both-or-neither, no certificates and
     * TLS 1.2 (min/max are 0x0303); the engine offers its PSK suites only, verifies no
     * certificate and refuses a key longer than it takes (MQTLS_ERR_INVALID_ARG). Borrowed
     * for ctx_new (an engine that needs them later copies them, and wipes the copy). */
    const uint8_t *psk; /* NULL: certificates */
    size_t psk_len;
    const char *psk_identity;
    /* RFC 6066 max_fragment_length to ask for (mqtls_tls_cfg_t::max_fragment_len, checked by
     * tls.c: 512, 1024, 2048 or 4096), 0 none. An engine that cannot offer it with the
     * versions asked for lowers max_version (mbedTLS 3.6: TLS 1.2 only) or fails ctx_new with
     * MQTLS_ERR_NOT_SUPPORTED. When the server does not echo it, the connection must still
     * take records of any size (the engine's job), and facts->max_fragment_len stays 0. */
    uint16_t max_fragment_len;
} mqtls__tls_opts_t;

/* Our private key: bytes today; a handle (e.g. an RFC 7512 pkcs11: URI) is a kind an engine
 * may add, so that a key that never leaves its token goes through the same operation. */
typedef enum {
    MQTLS__KEY_BYTES = 1, /* buf/len: PEM (with its NUL counted) or DER */
    MQTLS__KEY_URI,       /* uri: an RFC 7512 pkcs11: URI, resolved by the engine (pkcs11.h,
                             or its library's own PKCS#11 support); MQTLS_ERR_NOT_SUPPORTED
                             for a key type it cannot sign with */
} mqtls__tls_key_kind_t;

typedef struct mqtls__tls_key {
    mqtls__tls_key_kind_t kind;
    const uint8_t *buf;
    size_t len;
    const char *password; /* may be NULL; used for the call only, never copied */
    const char *uri;
    const char *module; /* MQTLS__KEY_URI: the PKCS#11 module (NULL: the URI's module-path) */
    const char *name;   /* for messages: the file name, "key_buf" or the URI without its PIN */
} mqtls__tls_key_t;

/* What a connection needs besides its engine context. */
typedef struct mqtls__tls_conn_cfg {
    const char *host;                     /* the host connected to (SNI, name check); borrowed */
    mqtls_tls_facts_t *facts;             /* borrowed until the transport is destroyed */
    const struct mqtls__tls_judge *judge; /* NULL: the engine's own verdict stands */
    const uint8_t (*pins)[32];            /* SHA-256 of accepted SPKIs (tls_pin.h); borrowed */
    size_t pin_count;                     /* 0: no pinning */
} mqtls__tls_conn_cfg_t;

/* A device's mbedTLS judging chains another engine received (tls.c builds it). */
typedef struct mqtls__tls_judge {
    const mqtls__tls_engine_t *engine; /* an engine with judge_chain */
    mqtls__tls_ectx_t *ctx;            /* its context: the same CAs and profile */
    const char *server_name;           /* as mqtls__tls_opts_t */
    bool no_hostname_check;
} mqtls__tls_judge_t;

struct mqtls__tls_engine {
    const char *name;     /* "mbedtls2", "mbedtls3", "openssl" */
    const char *library;  /* "mbedTLS", "OpenSSL" */
    int device_major;     /* the mbedTLS major version a device with this engine runs; 0 none */
    uint16_t max_version; /* highest TLS version it speaks: 0x0303 or 0x0304 */
    /* The version of the library actually running, e.g. "3.6.6". Static string. */
    const char *(*version)(void);
    /* mbedTLS engines: mbedtls_strerror() of this version (codes differ between 2.28 and 3.6,
     * e.g. -0x6E00); NULL for others. */
    void (*code_text)(int code, char *buf, size_t cap);

    /* A new context with @p opts (borrowed for the call). MQTLS_OK; MQTLS_ERR_NOMEM;
     * MQTLS_ERR_TLS_SETUP (RNG); MQTLS_ERR_NOT_SUPPORTED (a version it cannot speak). */
    mqtls_status_t (*ctx_new)(const mqtls__tls_opts_t *opts, mqtls_error_t *err,
                              mqtls__tls_ectx_t **out);
    /* Trust the certificates in @p buf (PEM: one or many, NUL counted; or DER). @p name names
     * the source in messages. MQTLS_OK when at least one was taken (a bundle with an exotic
     * certificate stays usable); MQTLS_ERR_CA_PARSE (err->mbedtls_ret for mbedTLS). */
    mqtls_status_t (*ctx_add_ca)(mqtls__tls_ectx_t *c, const uint8_t *buf, size_t len,
                                 const char *name, mqtls_error_t *err);
    /* Our certificate (PEM chain or DER) and its key. MQTLS_OK; MQTLS_ERR_CERT_PARSE;
     * MQTLS_ERR_KEY_PARSE; MQTLS_ERR_KEY_PASSWORD_REQUIRED; MQTLS_ERR_KEY_PASSWORD_WRONG;
     * MQTLS_ERR_KEY_UNSUPPORTED; MQTLS_ERR_KEY_MISMATCH; MQTLS_ERR_NOT_SUPPORTED (key kind). */
    mqtls_status_t (*ctx_set_own)(mqtls__tls_ectx_t *c, const uint8_t *cert, size_t cert_len,
                                  const char *cert_name, const mqtls__tls_key_t *key,
                                  mqtls_error_t *err);
    /* Everything is in: build the configuration. MQTLS_OK; MQTLS_ERR_TLS_SETUP;
     * MQTLS_ERR_INVALID_ARG (e.g. an ALPN list the library refuses). */
    mqtls_status_t (*ctx_finish)(mqtls__tls_ectx_t *c, mqtls_error_t *err);
    /* Free @p c (NULL is fine); every connection made from it must be gone. */
    void (*ctx_free)(mqtls__tls_ectx_t *c);
    /* Gather each handshake flight into one send (default on); off only to measure. */
    void (*ctx_set_flight_gathering)(mqtls__tls_ectx_t *c, bool on);

    /* A TLS transport over @p inner, owned from now on even on failure. The contract of
     * net.h's mqtls__tls_create() (statuses, facts, never blocking) is every engine's. */
    mqtls_status_t (*conn_create)(mqtls__tls_ectx_t *c, const mqtls__tls_conn_cfg_t *cc,
                                  mqtls_transport_t *inner, mqtls_error_t *err,
                                  mqtls_transport_t **out);

    /* Device engines (mbedTLS) only, else NULL: verify @p count DER certificates (leaf first,
     * as a server presented them) with this context's trusted CAs and profile, exactly as this
     * mbedTLS verifies a server chain (mbedtls_x509_crt_verify_with_profile, the name check of
     * @p host unless NULL, the serverAuth extended key usage). Fills @p out's chain (DER and
     * flags per depth, the trust anchor last) like a handshake does. @return the merged
     * MBEDTLS_X509_BADCERT_* flags, 0 = the device accepts. */
    uint32_t (*judge_chain)(mqtls__tls_ectx_t *c, const uint8_t *const *der, const size_t *len,
                            size_t count, const char *host, mqtls_tls_facts_t *out);
};

/* The engines built in (NULL when not built). */
extern const mqtls__tls_engine_t mqtls__tls_engine_mbedtls2;
#if defined(MQTLS_WITH_MBEDTLS3)
extern const mqtls__tls_engine_t mqtls__tls_engine_mbedtls3;
#endif
#if defined(MQTLS_WITH_OPENSSL)
extern const mqtls__tls_engine_t mqtls__tls_engine_openssl;
#endif

/* Called by every engine once it has verified the server chain (facts->chain filled, flags
 * per depth), before its verdict is final: runs the device judgement of @p cc (if any) on the
 * chain the server sent (@p der, leaf first) and replaces facts->chain with the judge's.
 * @p flags: in, the engine's merged flags; out, the verdict (0 = accept). Then, on a chain
 * that verified, the public-key pins of @p cc: when the leaf's key matches none,
 * facts->pin_mismatch is set, facts->server_pin names the key, and the verdict is
 * MQTLS__BADCERT_OTHER (the engine fails the handshake as for a rejected chain, and
 * mqtls__tls_io_fail_verify() reports MQTLS_ERR_TLS_PIN_MISMATCH). */
void mqtls__tls_after_verify(const mqtls__tls_conn_cfg_t *cc, const uint8_t *const *der,
                             const size_t *len, size_t count, uint32_t *flags);

/* The MBEDTLS_X509_BADCERT_* numbering, for engines that do not include mbedTLS (the values
 * are the same in 2.28 and 3.6; the mbedTLS engine checks them with _Static_assert). */
enum {
    MQTLS__BADCERT_EXPIRED = 0x01,
    MQTLS__BADCERT_REVOKED = 0x02,
    MQTLS__BADCERT_CN_MISMATCH = 0x04,
    MQTLS__BADCERT_NOT_TRUSTED = 0x08,
    MQTLS__BADCRL_NOT_TRUSTED = 0x10,
    MQTLS__BADCRL_EXPIRED = 0x20,
    MQTLS__BADCERT_MISSING = 0x40,
    MQTLS__BADCERT_SKIP_VERIFY = 0x80,
    MQTLS__BADCERT_OTHER = 0x0100,
    MQTLS__BADCERT_FUTURE = 0x0200,
    MQTLS__BADCRL_FUTURE = 0x0400,
    MQTLS__BADCERT_KEY_USAGE = 0x0800,
    MQTLS__BADCERT_EXT_KEY_USAGE = 0x1000,
    MQTLS__BADCERT_NS_CERT_TYPE = 0x2000,
    MQTLS__BADCERT_BAD_MD = 0x4000,
    MQTLS__BADCERT_BAD_PK = 0x8000,
    MQTLS__BADCERT_BAD_KEY = 0x010000,
    MQTLS__BADCRL_BAD_MD = 0x020000,
    MQTLS__BADCRL_BAD_PK = 0x040000,
    MQTLS__BADCRL_BAD_KEY = 0x080000,
};

/* The TLS alert mbedTLS sends for a rejected server chain with merged @p flags
 * (ssl_parse_certificate_verify's rule, the same in 2.28 and 3.6), so that every engine
 * tells the broker the same thing. */
int mqtls__tls_alert_for_flags(uint32_t flags);

/* mbedTLS's codes for outcomes every engine reports in err->mbedtls_ret and
 * facts->handshake_ret (the same numbers in 2.28 and 3.6; the mbedTLS engine checks them), so
 * that diagnosis reads one set whatever engine connected. docs/tls-engines.md. */
enum {
    MQTLS__MBEDTLS_ERR_X509_CERT_VERIFY_FAILED = -0x2700,
    MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE = -0x7780,
    MQTLS__MBEDTLS_ERR_SSL_CONN_EOF = -0x7280,
    MQTLS__MBEDTLS_ERR_NET_CONN_RESET = -0x0050,
    MQTLS__MBEDTLS_ERR_NET_RECV_FAILED = -0x004C,
    MQTLS__MBEDTLS_ERR_NET_SEND_FAILED = -0x004E,
    MQTLS__MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION = -0x6E80, /* 2.28: BAD_HS_PROTOCOL_VERSION */
    MQTLS__MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE = -0x6E00,
};

#endif /* MQTLS_NET_TLS_ENGINE_H */
