/* Internal: the layout behind the opaque mqtls_tls_facts_t (mqtls/tls_facts.h).
 * Written by the TLS engines in src/net, read by src/diag; owned by whoever created it
 * (a client keeps one per connection attempt). Never installed. */
#ifndef MQTLS_COMMON_TLS_FACTS_H
#define MQTLS_COMMON_TLS_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/status.h"
#include "mqtls/tls_facts.h"

/** Deepest chain position recorded per handshake (0 = the server's leaf). */
#define MQTLS__MAX_CHAIN_DEPTH 8

/** One certificate as the verify callback saw it. */
typedef struct mqtls_cert_fact {
    uint32_t flags; /**< MBEDTLS_X509_BADCERT_* at this depth */
    uint8_t *der;   /**< owned copy of the DER certificate */
    size_t der_len;
} mqtls_cert_fact_t;

struct mqtls_tls_facts {
    int handshake_ret;     /**< last handshake return, 0 = success */
    uint32_t verify_flags; /**< merged flags */
    mqtls_cert_fact_t chain[MQTLS__MAX_CHAIN_DEPTH]; /**< verified chain: 0 = leaf, up to the
                                                          root (empty after a resumption) */
    size_t chain_len;
    mqtls_cert_fact_t presented[MQTLS__MAX_CHAIN_DEPTH]; /**< as the server sent them */
    size_t presented_len;
    int alert_received; /**< AlertDescription of a fatal alert from the peer, -1 none */
    int alert_sent;     /**< alert we sent, -1 none */
    bool cert_requested;
    bool client_cert_sent;
    uint8_t *ca_names; /**< owned copy of the CertificateRequest DistinguishedNames list */
    size_t ca_names_len;
    bool peer_not_tls;
    uint8_t first_bytes[16];
    size_t first_bytes_len;
    bool server_hello_seen;
    uint16_t tls_version; /**< 0x0303, 0x0304; 0 if none */
    char ciphersuite[64];
    bool session_resumed;
    bool hostname_checked;
    bool ip_san_matched_by_us;
    char server_name[256];
    uint32_t handshake_ms;
    bool insecure;
    bool session_offered;
    bool peer_silent_close;
    bool records_truncated;
    bool psk; /**< the handshake used a pre-shared key (mqtls_tls_cfg_t::psk), no certificates */
    const char *engine; /**< the engine that connected ("mbedtls3", ...); static, NULL none */
    const char *judge;  /**< the engine whose mbedTLS judged the chain instead (a device
                             profile named explicitly), NULL when the engine's own verdict */
    /** The broker is known to have accepted our handshake: TLS 1.2 done, TLS 1.3 without a
     *  client certificate or with one the context had accepted before, or the broker spoke
     *  (a ticket, its first data) while its verdict was awaited. Not set when that wait merely
     *  timed out (CONNECT then goes out, but a reset may still be the verdict). */
    bool tls_open;
    char server_pin[56]; /**< "sha256//BASE64" of the leaf's public key when pins were checked,
                              "" otherwise (net/tls_pin.h) */
    bool pin_mismatch;   /**< the chain verified but the leaf's key matched no pin */
    /** RFC 6066 max_fragment_length the server echoed (512..4096), 0 none: TLS 1.2 from its
     *  ServerHello (the record parser), TLS 1.3 from the engine. */
    uint16_t max_fragment_len;
};

/** Zero @p facts (alerts = -1). Cannot fail. */
void mqtls__tls_facts_init(mqtls_tls_facts_t *facts);
/** Free the owned copies in @p facts and re-init it. Accepts a zeroed struct. */
void mqtls__tls_facts_free(mqtls_tls_facts_t *facts);
/** Allocate an initialised facts object. @return MQTLS_OK; MQTLS_ERR_NOMEM. */
mqtls_status_t mqtls__tls_facts_create(mqtls_tls_facts_t **out);
/** Free an object from mqtls__tls_facts_create() (NULL is fine). */
void mqtls__tls_facts_destroy(mqtls_tls_facts_t *facts);

#endif /* MQTLS_COMMON_TLS_FACTS_H */
