/* Internal to src/net: the TLS record parser of the TLS transport. Pure: it sees the bytes a
 * server sends (and the plaintext records we send) and fills the handshake facts src/diag
 * explains failures with: the chain the server presented, the CertificateRequest and its CA
 * names, alerts, the first bytes of a peer that does not speak TLS. No socket, no mbedTLS, no
 * clock: a fuzzer reaches all of it (tests/fuzz/fuzz_tls_records.c). */
#ifndef MQTLS_NET_TLS_RECORDS_H
#define MQTLS_NET_TLS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tls_facts.h"

/* RFC 5246 section 6.2.1 content types and section 7.4 handshake types. */
enum {
    MQTLS__REC_CCS = 20,
    MQTLS__REC_ALERT = 21,
    MQTLS__REC_HANDSHAKE = 22,
    MQTLS__REC_APPDATA = 23,
    MQTLS__REC_HEARTBEAT = 24,
    MQTLS__HS_SERVER_HELLO = 2,
    MQTLS__HS_CERTIFICATE = 11,
    MQTLS__HS_CERTIFICATE_REQUEST = 13,
    MQTLS__HS_SERVER_HELLO_DONE = 14,
};
#define MQTLS__REC_HDR_LEN 5u
/* Handshake reassembly buffer: messages bigger than this are not parsed (never overflow). */
#define MQTLS__TLS_HS_BUF_CAP (16u * 1024u)

/* Incremental parser of the records the peer sends, up to its ChangeCipherSpec (after it,
 * TLS 1.2 is ciphertext; TLS 1.3 encrypts everything after the ServerHello). */
typedef struct mqtls__tls_records {
    mqtls_tls_facts_t *facts; /* borrowed: filled as records complete */
    uint8_t hdr[MQTLS__REC_HDR_LEN];
    size_t hdr_len;
    size_t body_left;
    uint8_t type;
    uint8_t alert[2];
    size_t alert_len;
    uint8_t *hs; /* MQTLS__TLS_HS_BUF_CAP bytes, owned; NULL: handshake messages not parsed */
    size_t hs_len;
    bool hs_dead;   /* gave up on handshake messages (one is too big) */
    bool encrypted; /* the peer's ChangeCipherSpec was seen: what follows is ciphertext */
    bool stopped;   /* parsing is over (handshake done, or desynchronised) */
    size_t records; /* complete records seen */
    size_t seen;    /* bytes seen */
    bool saw_server_hello_done;
    bool saw_certificate;
    bool our_ccs_sent; /* our own ChangeCipherSpec went out: our records are ciphertext now */
} mqtls__tls_records_t;

/* Start over for a new handshake filling @p facts; keeps the hs buffer (or allocates it when
 * @p with_messages and there is none). false only if that allocation failed (the parser then
 * still records alerts and not-TLS peers, but no handshake messages). */
bool mqtls__tls_records_reset(mqtls__tls_records_t *rp, mqtls_tls_facts_t *facts,
                              bool with_messages);
/* Free the hs buffer (handshake done, or the transport goes away). */
void mqtls__tls_records_release(mqtls__tls_records_t *rp);
/* Feed bytes the peer sent, in any chunking (the facts do not depend on it). Returns false when
 * the peer does not speak TLS (facts->peer_not_tls; parsing stops). */
bool mqtls__tls_records_feed(mqtls__tls_records_t *rp, const uint8_t *p, size_t n);
/* A TLS 1.3 handshake message from the server, decrypted by the engine (the record layer only
 * carries ciphertext after the ServerHello): @p body after its 4-byte header. Certificate
 * fills the presented chain (saw_certificate), CertificateRequest cert_requested and the
 * certificate_authorities names. Every length is checked; anything else is ignored. */
void mqtls__tls_records_on_message13(mqtls__tls_records_t *rp, uint8_t type, const uint8_t *body,
                                     size_t len);
/* Note plaintext records we send (whole records, as mbedTLS writes them): the alert we send,
 * whether our Certificate message was empty. Stops at our ChangeCipherSpec. */
void mqtls__tls_records_note_outgoing(mqtls__tls_records_t *rp, const uint8_t *p, size_t n);

#endif /* MQTLS_NET_TLS_RECORDS_H */
