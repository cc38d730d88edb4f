/** @file tls.h
 *  @brief TLS configuration of a client. What a handshake observed is in mqtls/tls_facts.h.
 *  No TLS library type appears here. */
#ifndef MQTLS_TLS_H
#define MQTLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/tls_facts.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TLS settings. Initialise with mqtls_tls_cfg_init() (no TLS material; verification on;
 *  TLS 1.2 minimum), then set what you need; give it to a client as mqtls_client_cfg_t::tls.
 *  For each credential give a file OR a buffer. Files are read with mqtls_file_read(): a
 *  regular file of at most MQTLS_FILE_CREDENTIAL_MAX (1 MiB), else MQTLS_ERR_FILE_NOT_REGULAR
 *  or MQTLS_ERR_FILE_TOO_LARGE (a FIFO never blocks mqtls_client_create()). Buffers are PEM or DER
 * (detected); a PEM buffer may or may not include its trailing NUL in @c *_len. All pointers are
 * borrowed until the client/transport is destroyed. Versioned (docs/abi.md): fields are only ever
 * appended; @c struct_size tells the library which ones the caller knows. */
typedef struct mqtls_tls_cfg {
    uint32_t struct_size;         /**< set by mqtls_tls_cfg_init(); do not change */
    bool enabled;                 /**< use TLS (set by mqtts:// too) */
    const char *ca_file;          /**< trusted CAs: one file with one or more certs */
    const char *ca_path;          /**< trusted CAs: a directory of cert files */
    const uint8_t *ca_buf;        /**< trusted CAs in memory */
    size_t ca_len;
    const char *cert_file;        /**< client certificate, optionally followed by its chain */
    const uint8_t *cert_buf;
    size_t cert_len;
    const char *key_file;         /**< client private key */
    const uint8_t *key_buf;
    size_t key_len;
    const char *key_password;     /**< never logged, never printed */
    const char *server_name;      /**< SNI and the name checked; NULL = the URI's host */
    bool insecure;                /**< skip ALL verification; logged loudly at every connect */
    bool no_hostname_check;       /**< verify the chain but not the name (esp-mqtt's
                                       skip_cert_common_name_check); MITM risk, logged */
    const char *const *alpn;      /**< NULL-terminated protocol list, or NULL */
    uint16_t min_version;         /**< 0x0303 = TLS 1.2 (default), 0x0304 = TLS 1.3 */
    uint16_t max_version;         /**< 0 = highest supported */
    bool no_session_resumption;   /**< resumption (tickets/IDs) is on by default */
    /** X.509 profile the server's chain is verified against (mbedtls_ssl_conf_cert_profile),
     *  and that diagnosis judges it by, so that both agree. NULL = "mbedtls-default".
     *  - "mbedtls-default": the linked mbedTLS's default (what a device on the same version
     *    accepts; with 2.28: SHA-224..SHA-512, any key type and curve, RSA >= 2048);
     *  - "mbedtls2-default": mbedTLS 2.28's default (ESP-IDF 4.x), whatever is linked;
     *  - "mbedtls3-default": mbedTLS 3.x's default (ESP-IDF 5.x): SHA-256..SHA-512, RSA >=
     *    2048, curves P-256/384/521 and brainpool 256/384/512;
     *  - "mbedtls-next": mbedtls_x509_crt_profile_next (same numbers as mbedtls3-default);
     *  - "suiteb": mbedtls_x509_crt_profile_suiteb: ECDSA P-256/P-384 with SHA-256/384 only;
     *  - "openssl-seclevel2": OpenSSL security level 2 (Debian's default, so most brokers'):
     *    SHA-224..SHA-512, RSA >= 2048, EC curves of >= 224 bits.
     *  A chain outside the profile fails the handshake with MQTLS_ERR_TLS_VERIFY (flags
     *  BAD_MD, BAD_PK or BAD_KEY at the depth concerned). Our own certificate is not checked
     *  against it. An unknown name makes the setup fail with MQTLS_ERR_INVALID_ARG (layer
     *  CONFIG, detail names the known profiles). */
    const char *profile;
    /* ---- 1.1 ---- */
    /** TLS-PSK (RFC 4279): the pre-shared key, @c psk_len bytes (at most 32 with Debian's
     *  mbedTLS 2.28, MBEDTLS_PSK_MAX_LEN), and its identity (NUL-terminated). Both or neither.
     *  With a PSK no certificate is exchanged: it excludes ca_* / cert_* / key_* (setup fails
     *  with MQTLS_ERR_INVALID_ARG), TLS is 1.2 with PSK suites only, forward-secret first
     *  (ECDHE-PSK and DHE-PSK with ChaCha20-Poly1305 or AES-GCM, then PSK with AES-GCM). A key
     *  the broker does not share fails the handshake with a TLS alert (finding psk-mismatch).
     *  Borrowed until the client is destroyed; never logged. */
    const uint8_t *psk;
    size_t psk_len;
    const char *psk_identity;
    /** Cipher suites to offer, colon-separated, IANA names (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_
     *  SHA256) or mbedTLS names (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256), in order of
     *  preference; TLS 1.3 suites the list does not name stay offered. NULL (default) = every
     *  suite of the linked mbedTLS with forward secrecy and an AEAD cipher (ECDHE with GCM,
     *  CCM or ChaCha20-Poly1305) plus the TLS 1.3 suites: no RSA key exchange, no CBC. An
     *  unknown name makes the setup fail with MQTLS_ERR_INVALID_ARG (layer CONFIG, the name
     *  in the detail). Borrowed for mqtls_client_create() only. */
    const char *ciphers;
} mqtls_tls_cfg_t;

/** @brief Fill @p cfg (of @p size bytes, the caller's sizeof) with the defaults. Use
 *  mqtls_tls_cfg_init(), which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_tls_cfg_init_sized(mqtls_tls_cfg_t *cfg, size_t size);

/** @brief Fill @p cfg with the defaults documented on each field. Cannot fail. */
static inline void mqtls_tls_cfg_init(mqtls_tls_cfg_t *cfg)
{
    mqtls_tls_cfg_init_sized(cfg, sizeof *cfg);
}

/** @brief The TLS library the loaded libmqtls uses, with its version, as it reports itself
 *  at run time, e.g. "mbed TLS 2.28.3" (`mqtls --version` prints it). Static string.
 *  Thread-safe. (1.1) */
MQTLS_API const char *mqtls_tls_library_version(void);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_TLS_H */
