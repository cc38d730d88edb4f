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
    const char *key_file;         /**< client private key: a file, or an RFC 7512 `pkcs11:` URI
                                       of a key on a token (see pkcs11_module) */
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
    /** X.509 profile the server's chain is verified against, and that diagnosis judges it
     *  by, so that both agree. Name a device and mqtls judges like it, whatever engine connects
     *  (docs/tls-engines.md). NULL = "mbedtls-default".
     *  - "esp-idf-5" (alias "mbedtls3-default"): mbedTLS 3.6's default profile, what ESP-IDF
     *    5.x accepts: SHA-256..SHA-512, RSA >= 2048, curves P-256/384/521 and brainpool
     *    256/384/512;
     *  - "esp-idf-4" (alias "mbedtls2-default"): mbedTLS 2.28's default, what ESP-IDF 4.x
     *    accepts: SHA-224..SHA-512, any key type and curve, RSA >= 2048;
     *  - "mbedtls-default": the default of the newest mbedTLS built in ("esp-idf-5" when the
     *    library has mbedTLS 3.6, see mqtls_tls_engine_count());
     *  - "mbedtls-next": mbedtls_x509_crt_profile_next (as esp-idf-5, plus secp256k1);
     *  - "suiteb": mbedtls_x509_crt_profile_suiteb: ECDSA P-256/P-384 with SHA-256/384 only;
     *  - "openssl-seclevel2": OpenSSL security level 2 (Debian's default, so most brokers'):
     *    SHA-224..SHA-512, RSA >= 2048, EC curves of >= 224 bits.
     *  A profile named here (not NULL) is judged by the real mbedTLS it names: when another
     *  engine connects (OpenSSL, or the other mbedTLS), that mbedTLS also parses the
     *  credentials and verifies every chain the server presents, and its verdict and flags are
     *  the handshake's (mqtls_tls_facts_judge()). NULL: the engine verifies with the default
     *  profile's rules itself (no second verification: the fast path).
     *  A chain outside the profile fails the handshake with MQTLS_ERR_TLS_VERIFY (flags
     *  BAD_MD, BAD_PK or BAD_KEY at the depth concerned). Our own certificate is not checked
     *  against it. An unknown name makes the setup fail with MQTLS_ERR_INVALID_ARG (layer
     *  CONFIG, detail names the known profiles). */
    const char *profile;
    /* ---- since 1.1 ---- */
    /** TLS-PSK (RFC 4279): the pre-shared key, @c psk_len bytes (at most 32 with the mbedTLS
     *  engines, MBEDTLS_PSK_MAX_LEN; at most 256 with OpenSSL), and its identity
     *  (NUL-terminated). Both or neither. Every engine does it (docs/tls-engines.md).
     *  With a PSK no certificate is exchanged: it excludes ca_* / cert_* / key_* and pins
     *  (setup fails with MQTLS_ERR_INVALID_ARG), TLS is 1.2 with PSK suites only,
     *  forward-secret first (ECDHE-PSK and DHE-PSK with ChaCha20-Poly1305 or AES-GCM, then PSK
     *  with AES-GCM), and min_version 1.3 fails with MQTLS_ERR_NOT_SUPPORTED. A key the broker
     *  does not share fails the handshake with a TLS alert (finding psk-mismatch). @c ciphers
     *  does not apply. Borrowed until the client is destroyed; never logged. */
    const uint8_t *psk;
    size_t psk_len;
    const char *psk_identity;
    /** Cipher suites to offer, colon-separated, IANA names (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_
     *  SHA256) or mbedTLS names (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256), in order of
     *  preference; TLS 1.3 suites the list does not name stay offered. The same names on
     *  every engine (OpenSSL is given its own names for them). NULL (default) = every suite
     *  of the engine with forward secrecy and an AEAD cipher (ECDHE with GCM, CCM or
     *  ChaCha20-Poly1305) plus the TLS 1.3 suites: no RSA key exchange, no CBC. An unknown
     *  name, or one the engine lacks, makes the setup fail with MQTLS_ERR_INVALID_ARG (layer
     *  CONFIG, the name in the detail). Borrowed for mqtls_client_create() only. */
    const char *ciphers;
    /** The TLS engine that connects: "mbedtls3" (mbedTLS 3.6, TLS 1.2 and 1.3: what ESP-IDF 5
     *  runs), "mbedtls2" (mbedTLS 2.28, TLS 1.2: ESP-IDF 4), "openssl" (OpenSSL 3: the fast
     *  engine for Linux hosts), or "mbedtls" (the newest mbedTLS built in). NULL = the
     *  environment variable MQTLS_TLS_ENGINE if set, else mqtls_tls_engine_default(). Every
     *  engine fills the same handshake facts and diagnosis. An engine this build lacks fails
     *  the setup with MQTLS_ERR_NOT_SUPPORTED, an unknown name with MQTLS_ERR_INVALID_ARG
     *  (layer CONFIG; the detail lists the engines built in). */
    const char *engine;
    /** Public-key pins: NULL-terminated list of "sha256//BASE64", the SHA-256 of the DER
     *  SubjectPublicKeyInfo of the server's own certificate in base64 (curl's
     *  --pinnedpubkey form; `openssl x509 -pubkey -noout -in server.crt | openssl pkey -pubin
     *  -outform der | openssl dgst -sha256 -binary | openssl enc -base64`), at most 16. NULL =
     *  no pinning. Checked after the chain verified, on every engine alike: when the server's
     *  key matches none, the handshake fails with MQTLS_ERR_TLS_PIN_MISMATCH and the error
     *  detail (and diagnosis, finding `pin-mismatch`) names the key the server presented. A
     *  malformed pin, more than 16, or pins with @c insecure or @c psk fail the setup with
     *  MQTLS_ERR_INVALID_ARG (layer CONFIG). Decoded at setup: the strings are not kept. */
    const char *const *pins;
    /** The PKCS#11 module (a shared library path, e.g. /usr/lib/softhsm/libsofthsm2.so) that
     *  holds the client key when @c key_file is an RFC 7512 `pkcs11:` URI, e.g.
     *  "pkcs11:token=mqtls;object=client;pin-value=1234" (docs/tls-engines.md "Keys on a
     *  token"). NULL with a `pkcs11:` key: the URI's module-path attribute, else the setup
     *  fails with MQTLS_ERR_INVALID_ARG. The token's PIN: the URI's pin-value or pin-source,
     *  else @c key_password. The key never leaves the token: the engine has it sign. RSA keys
     *  on every engine ("mbedtls3" then speaks TLS 1.2 only), EC keys with "openssl"; another
     *  combination fails the setup with MQTLS_ERR_NOT_SUPPORTED. A module, token or key that
     *  cannot be found or used: MQTLS_ERR_PKCS11; a PIN missing or wrong:
     *  MQTLS_ERR_KEY_PASSWORD_REQUIRED / _WRONG (layer CONFIG, the detail names the URI with
     *  pin-value=***). */
    const char *pkcs11_module;
    /* ---- since 1.2 ---- */
    /** Ask the broker for records of at most this many plaintext bytes (RFC 6066
     *  max_fragment_length): 0 (default: not asked), 512, 1024, 2048 or 4096. Another value
     *  fails the setup with MQTLS_ERR_INVALID_ARG (layer CONFIG). What it is for: memory. An
     *  mbedTLS 3.6 client ("mbedtls3") built with MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH, as mqtls'
     *  is, shrinks its 16 KiB input record buffer to this size once the handshake is done
     *  (4096: about 12 KiB less per connection); with OpenSSL a fleet measured about 5 KiB
     *  less per connection; 2.28's buffers stay as Debian builds them. Messages of any size still pass (the broker splits
     *  them into more records). mbedTLS 3.6 implements the extension in TLS 1.2 only, and a
     *  3.6 client that offers it in a TLS 1.2 + 1.3 ClientHello fails against a broker that
     *  answers with TLS 1.3 and echoes it (OpenSSL: -0x7500): so on "mbedtls3" a
     *  max_fragment_len limits the connection to TLS 1.2, and with min_version TLS 1.3 the
     *  setup fails with MQTLS_ERR_NOT_SUPPORTED. "openssl" keeps TLS 1.3. A broker that
     *  ignores the extension still works: the record buffer then keeps its full size
     *  (mqtls_tls_facts_max_fragment_len() says what was agreed). docs/tls-engines.md. */
    uint16_t max_fragment_len;
} mqtls_tls_cfg_t;

/** @brief Fill @p cfg (of @p size bytes, the caller's sizeof) with the defaults. Use
 *  mqtls_tls_cfg_init(), which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_tls_cfg_init_sized(mqtls_tls_cfg_t *cfg, size_t size);

/** @brief Fill @p cfg with the defaults documented on each field. Cannot fail. */
static inline void mqtls_tls_cfg_init(mqtls_tls_cfg_t *cfg)
{
    mqtls_tls_cfg_init_sized(cfg, sizeof *cfg);
}

/** @brief The TLS library of the default engine (mqtls_tls_engine_default()), with its
 *  version, as it reports itself at run time, e.g. "mbed TLS 3.6.6" (`mqtls --version` prints
 *  it, then every engine). Static string. Thread-safe. (1.1) */
MQTLS_API const char *mqtls_tls_library_version(void);

/** @brief Number of TLS engines built into this library (1 to 3). Since 1.1. */
MQTLS_API size_t mqtls_tls_engine_count(void);

/** @brief Name of engine @p i ("mbedtls3", "mbedtls2", "openssl"), the value
 *  mqtls_tls_cfg_t::engine takes; NULL past the end. Engine 0 is the default. Static string. */
MQTLS_API const char *mqtls_tls_engine_name(size_t i);

/** @brief The library behind engine @p i: "mbedTLS" or "OpenSSL"; NULL past the end. */
MQTLS_API const char *mqtls_tls_engine_library(size_t i);

/** @brief The version of that library actually running, e.g. "3.6.6" or "3.0.19"; NULL past
 *  the end. Static string. */
MQTLS_API const char *mqtls_tls_engine_version(size_t i);

/** @brief The engine used when neither mqtls_tls_cfg_t::engine nor MQTLS_TLS_ENGINE names
 *  one ("mbedtls3" when built in). Static string. */
MQTLS_API const char *mqtls_tls_engine_default(void);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_TLS_H */
