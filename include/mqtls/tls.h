/** @file tls.h
 *  @brief TLS configuration, and the facts the TLS transport records at each handshake
 *  for the diagnosis module. No mbedTLS type appears here. */
#ifndef MQTLS_TLS_H
#define MQTLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TLS settings. Zeroed = no TLS material; verification on; TLS 1.2 minimum.
 *  For each credential give a file OR a buffer. Buffers are PEM or DER (detected); a PEM
 *  buffer may or may not include its trailing NUL in @c *_len. All pointers are borrowed
 *  until the client/transport is destroyed. */
typedef struct mqtls_tls_cfg {
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
} mqtls_tls_cfg_t;

/** One certificate as the verify callback saw it. */
typedef struct mqtls_cert_fact {
    uint32_t flags;     /**< MBEDTLS_X509_BADCERT_* at this depth */
    uint8_t *der;       /**< owned copy of the DER certificate (freed by mqtls_tls_facts_free) */
    size_t der_len;
} mqtls_cert_fact_t;

/** Everything the TLS transport observed during one handshake. Owned by the connection;
 *  mqtls_tls_facts_free() releases the copies. */
typedef struct mqtls_tls_facts {
    int handshake_ret;        /**< last mbedtls_ssl_handshake() return, 0 = success */
    uint32_t verify_flags;    /**< merged flags from mbedtls_ssl_get_verify_result() */
    mqtls_cert_fact_t chain[MQTLS_MAX_CHAIN_DEPTH]; /**< verified chain: 0 = leaf, up to the root
                                                         (empty after a resumed handshake) */
    size_t chain_len;
    mqtls_cert_fact_t presented[MQTLS_MAX_CHAIN_DEPTH]; /**< as the server sent them, in order
                                                             (TLS 1.2; encrypted in TLS 1.3) */
    size_t presented_len;
    int alert_received;       /**< AlertDescription of a fatal alert from the peer, -1 none */
    int alert_sent;           /**< alert we sent, -1 none */
    bool cert_requested;      /**< server sent CertificateRequest (it wants a client cert) */
    bool client_cert_sent;    /**< we answered with a non-empty Certificate */
    uint8_t *ca_names;        /**< owned copy of the CertificateRequest DistinguishedNames list */
    size_t ca_names_len;
    bool peer_not_tls;        /**< first bytes from the peer were not a TLS record */
    uint8_t first_bytes[16];  /**< what the peer sent first (for tls-on-plain-port) */
    size_t first_bytes_len;
    bool server_hello_seen;
    uint16_t tls_version;     /**< negotiated: 0x0303, 0x0304; 0 if none */
    char ciphersuite[64];
    bool session_resumed;
    bool hostname_checked;    /**< verification of the name was done by us or mbedTLS */
    bool ip_san_matched_by_us;/**< mbedTLS < 3.5 cannot match iPAddress SANs: we did */
    char server_name[256];    /**< the name used for SNI / checking */
    uint32_t handshake_ms;
    bool insecure;            /**< verification was OFF (cfg->insecure): warn loudly */
    bool session_offered;     /**< a saved session was offered for resumption */
    bool peer_silent_close;   /**< the peer closed/reset without sending one byte after our
                                   ClientHello (what a plain MQTT port does) */
    bool records_truncated;   /**< handshake bigger than the parser's buffer: presented /
                                   ca_names may be incomplete */
} mqtls_tls_facts_t;

/** @brief Zero @p facts (alerts = -1). Cannot fail. */
MQTLS_API void mqtls_tls_facts_init(mqtls_tls_facts_t *facts);
/** @brief Free the owned copies in @p facts and re-init it. Accepts a zeroed struct. */
MQTLS_API void mqtls_tls_facts_free(mqtls_tls_facts_t *facts);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_TLS_H */
