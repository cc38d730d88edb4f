/** @file tls_facts.h
 *  @brief What the TLS layer observed during one handshake: the chain the server presented,
 *  verify flags per depth, alerts, the CertificateRequest, the negotiated version and suite.
 *
 *  Opaque (docs/abi.md): read it with the accessors below. A client keeps the facts of its
 *  last attempt (mqtls_client_tls_facts()); diagnosis reads them (mqtls_diag_input_t). Every
 *  TLS engine fills the same facts. No TLS library type appears here. */
#ifndef MQTLS_TLS_FACTS_H
#define MQTLS_TLS_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The handshake facts of one connection attempt. Opaque. */
typedef struct mqtls_tls_facts mqtls_tls_facts_t;

/** Yes/no facts, as bits of mqtls_tls_facts_flags(). Append-only. */
#define MQTLS_FACT_CERT_REQUESTED 0x0001u    /**< server sent CertificateRequest */
#define MQTLS_FACT_CLIENT_CERT_SENT 0x0002u  /**< we answered it with a non-empty Certificate */
#define MQTLS_FACT_SERVER_HELLO_SEEN 0x0004u /**< the peer answered with a ServerHello */
#define MQTLS_FACT_PEER_NOT_TLS 0x0008u      /**< the peer's first bytes were not TLS */
#define MQTLS_FACT_PEER_SILENT_CLOSE 0x0010u /**< closed or reset without a byte after our
                                                  ClientHello (what a plain MQTT port does) */
#define MQTLS_FACT_SESSION_OFFERED 0x0020u   /**< a saved session was offered for resumption */
#define MQTLS_FACT_SESSION_RESUMED 0x0040u   /**< ... and the server resumed it */
#define MQTLS_FACT_HOSTNAME_CHECKED 0x0080u  /**< the server's name was verified */
#define MQTLS_FACT_IP_SAN_BY_MQTLS 0x0100u   /**< mbedTLS < 3.5 cannot match iPAddress SANs:
                                                  mqtls did */
#define MQTLS_FACT_INSECURE 0x0200u          /**< verification was OFF (warn loudly) */
#define MQTLS_FACT_RECORDS_TRUNCATED 0x0400u /**< handshake larger than the record parser's
                                                  buffer: presented chain / CA names partial */

/** @brief MQTLS_FACT_* bits that are set. 0 for NULL. */
MQTLS_API unsigned mqtls_tls_facts_flags(const mqtls_tls_facts_t *f);

/** @brief Last return of the TLS library's handshake call (mbedTLS: negative code), 0 on
 *  success or for NULL. */
MQTLS_API int mqtls_tls_facts_handshake_ret(const mqtls_tls_facts_t *f);

/** @brief Merged X.509 verify flags (MBEDTLS_X509_BADCERT_* numbering), 0 if none. */
MQTLS_API uint32_t mqtls_tls_facts_verify_flags(const mqtls_tls_facts_t *f);

/** @brief Certificates of the verified chain (0 = the server's leaf, up to the trust anchor);
 *  0 after a resumed handshake, which verifies nothing. */
MQTLS_API size_t mqtls_tls_facts_chain_len(const mqtls_tls_facts_t *f);

/** @brief The DER certificate at @p depth of the verified chain and its verify flags.
 *  @param[out] len    DER length; may be NULL.
 *  @param[out] flags  MBEDTLS_X509_BADCERT_* at this depth; may be NULL.
 *  @return a pointer owned by @p f (valid as long as it is), or NULL if @p depth is out of
 *          range. */
MQTLS_API const uint8_t *mqtls_tls_facts_chain_cert(const mqtls_tls_facts_t *f, size_t depth,
                                                    size_t *len, uint32_t *flags);

/** @brief Certificates the server sent, in the order it sent them (TLS 1.2; TLS 1.3 encrypts
 *  them, so this is the verified chain there). */
MQTLS_API size_t mqtls_tls_facts_presented_len(const mqtls_tls_facts_t *f);

/** @brief The @p i-th certificate the server sent. @return as mqtls_tls_facts_chain_cert(). */
MQTLS_API const uint8_t *mqtls_tls_facts_presented_cert(const mqtls_tls_facts_t *f, size_t i,
                                                        size_t *len);

/** @brief The fatal alert received from the peer (TLS AlertDescription, e.g. 48 unknown_ca),
 *  -1 if none. */
MQTLS_API int mqtls_tls_facts_alert_received(const mqtls_tls_facts_t *f);

/** @brief The alert we sent, -1 if none. */
MQTLS_API int mqtls_tls_facts_alert_sent(const mqtls_tls_facts_t *f);

/** @brief The certificate_authorities list of the server's CertificateRequest: a run of
 *  (2-byte big-endian length, DER Name). @return owned by @p f; NULL (and *len 0) if none. */
MQTLS_API const uint8_t *mqtls_tls_facts_ca_names(const mqtls_tls_facts_t *f, size_t *len);

/** @brief The first bytes the peer sent (up to 16), for "this port does not speak TLS".
 *  @return owned by @p f; NULL (and *len 0) if none. */
MQTLS_API const uint8_t *mqtls_tls_facts_first_bytes(const mqtls_tls_facts_t *f, size_t *len);

/** @brief Negotiated protocol version: 0x0303 (TLS 1.2), 0x0304 (TLS 1.3), 0 if none. */
MQTLS_API uint16_t mqtls_tls_facts_version(const mqtls_tls_facts_t *f);

/** @brief Negotiated cipher suite name (IANA/mbedTLS spelling), "" if none. Owned by @p f. */
MQTLS_API const char *mqtls_tls_facts_ciphersuite(const mqtls_tls_facts_t *f);

/** @brief The name sent as SNI and checked against the certificate, "" if none. */
MQTLS_API const char *mqtls_tls_facts_server_name(const mqtls_tls_facts_t *f);

/** @brief Milliseconds the handshake took (0 if it did not finish). */
MQTLS_API uint32_t mqtls_tls_facts_handshake_ms(const mqtls_tls_facts_t *f);

/** @brief The TLS engine that made the connection ("mbedtls3", "mbedtls2", "openssl";
 *  mqtls_tls_engine_name()), "" if none. Static string. Since 1.1. */
MQTLS_API const char *mqtls_tls_facts_engine(const mqtls_tls_facts_t *f);

/** @brief The engine whose mbedTLS judged the server chain in place of the connecting engine
 *  (an explicit profile that names another mbedTLS, e.g. "esp-idf-4" while "openssl"
 *  connects: the chain flags are then that mbedTLS's own), "" when the connecting engine's
 *  verdict stands. Static string. Since 1.1. */
MQTLS_API const char *mqtls_tls_facts_judge(const mqtls_tls_facts_t *f);

/** @brief The maximum fragment length the server agreed to (RFC 6066: it echoed the
 *  max_fragment_length that mqtls_tls_cfg_t::max_fragment_len asked for): 512 to 4096, or 0
 *  when none was asked for or the server ignored it. Since 1.2. */
MQTLS_API uint16_t mqtls_tls_facts_max_fragment_len(const mqtls_tls_facts_t *f);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_TLS_FACTS_H */
