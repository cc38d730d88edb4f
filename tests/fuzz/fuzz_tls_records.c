/* libFuzzer target: the TLS record parser of the TLS transport (src/net/tls_records.c) on bytes
 * "received from a server". Input: one byte that picks how the bytes are cut into reads, then
 * the bytes. Invariants: nothing crashes or reads past the input; the facts are within their
 * bounds; and they do not depend on how the bytes were cut (the same stream read whole and in
 * pieces gives the same chain, CA names, alert and flags). Also feeds the bytes to the parser
 * of our own outgoing records, and as the body of a decrypted TLS 1.3 Certificate and
 * CertificateRequest (what the engines hand over). Linked into replay_main.c for ctest under
 * gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tls_facts.h"
#include "net/net.h"
#include "net/tls_records.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHUNKS 4096u

static void check_bounds(const mqtls_tls_facts_t *f, bool ok)
{
    CHECK(f->presented_len <= MQTLS__MAX_CHAIN_DEPTH);
    for (size_t i = 0; i < f->presented_len; i++) {
        CHECK(f->presented[i].der != NULL && f->presented[i].der_len > 0);
    }
    CHECK(f->ca_names == NULL || f->cert_requested);
    CHECK(f->ca_names_len == 0 || f->ca_names != NULL);
    CHECK(f->first_bytes_len <= sizeof f->first_bytes);
    CHECK(f->alert_received >= -1 && f->alert_received <= 255);
    CHECK(!f->peer_not_tls || !ok);
    CHECK(ok || f->peer_not_tls);
}

static void check_same(const mqtls_tls_facts_t *a, const mqtls_tls_facts_t *b)
{
    CHECK(a->presented_len == b->presented_len);
    for (size_t i = 0; i < a->presented_len; i++) {
        CHECK(a->presented[i].der_len == b->presented[i].der_len);
        CHECK(memcmp(a->presented[i].der, b->presented[i].der, a->presented[i].der_len) == 0);
    }
    CHECK(a->ca_names_len == b->ca_names_len);
    CHECK(a->ca_names_len == 0 || memcmp(a->ca_names, b->ca_names, a->ca_names_len) == 0);
    CHECK(a->cert_requested == b->cert_requested);
    CHECK(a->server_hello_seen == b->server_hello_seen);
    CHECK(a->alert_received == b->alert_received);
    CHECK(a->peer_not_tls == b->peer_not_tls);
    CHECK(a->records_truncated == b->records_truncated);
    /* Parsing stops at the read where the peer turns out not to speak TLS, so the first bytes
     * kept depend on the cut, but one is a prefix of the other. */
    size_t n = a->first_bytes_len < b->first_bytes_len ? a->first_bytes_len : b->first_bytes_len;
    CHECK(memcmp(a->first_bytes, b->first_bytes, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    /* 0: every byte its own read; otherwise reads of a pseudo-random length up to 2 * mode. */
    unsigned mode = data[0];
    const uint8_t *bytes = data + 1;
    size_t len = size - 1;

    mqtls_tls_facts_t whole;
    mqtls__tls_facts_init(&whole);
    const uint8_t *one[1] = {bytes};
    size_t one_len[1] = {len};
    bool ok_whole = mqtls__tls_parse_records(&whole, one, one_len, 1);
    check_bounds(&whole, ok_whole);

    static const uint8_t *chunks[MAX_CHUNKS];
    static size_t lens[MAX_CHUNKS];
    size_t count = 0;
    uint32_t lcg = 0x9E3779B9u ^ mode;
    for (size_t pos = 0; pos < len && count < MAX_CHUNKS; count++) {
        lcg = lcg * 1664525u + 1013904223u;
        size_t step = mode == 0 ? 1 : 1 + (lcg >> 16) % (2u * mode);
        if (step > len - pos || count + 1 == MAX_CHUNKS) {
            step = len - pos;
        }
        chunks[count] = bytes + pos;
        lens[count] = step;
        pos += step;
    }
    mqtls_tls_facts_t cut;
    mqtls__tls_facts_init(&cut);
    bool ok_cut = mqtls__tls_parse_records(&cut, chunks, lens, count);
    check_bounds(&cut, ok_cut);
    CHECK(ok_whole == ok_cut);
    check_same(&whole, &cut);
    mqtls__tls_facts_free(&whole);
    mqtls__tls_facts_free(&cut);

    /* The same bytes as records we would send. */
    mqtls_tls_facts_t ours;
    mqtls__tls_facts_init(&ours);
    mqtls__tls_records_t rp;
    memset(&rp, 0, sizeof rp);
    CHECK(mqtls__tls_records_reset(&rp, &ours, false));
    mqtls__tls_records_note_outgoing(&rp, bytes, len);
    CHECK(ours.alert_sent >= -1 && ours.alert_sent <= 255);
    mqtls__tls_facts_free(&ours);

    /* The same bytes as TLS 1.3 handshake message bodies. */
    mqtls_tls_facts_t m13;
    mqtls__tls_facts_init(&m13);
    CHECK(mqtls__tls_records_reset(&rp, &m13, false));
    mqtls__tls_records_on_message13(&rp, MQTLS__HS_CERTIFICATE_REQUEST, bytes, len);
    mqtls__tls_records_on_message13(&rp, MQTLS__HS_CERTIFICATE, bytes, len);
    CHECK(m13.cert_requested);
    check_bounds(&m13, true);
    for (size_t i = 0; i < m13.presented_len; i++) {
        CHECK(m13.presented[i].der_len <= len);
    }
    CHECK(m13.ca_names_len <= len);
    mqtls__tls_facts_free(&m13);
    return 0;
}
