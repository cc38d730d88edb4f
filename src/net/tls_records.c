/* The TLS record parser (tls_records.h): RFC 5246 records, handshake messages reassembled
 * across records, alerts. Every length read from the wire is checked against what is left of
 * its enclosing record or message before it is used. */
#include "net/tls_records.h"

#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/* Largest record body on the wire: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3). */
#define REC_MAX_BODY (16384u + 2048u)
#define HS_BUF_CAP MQTLS__TLS_HS_BUF_CAP

static uint32_t get24(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | (uint32_t)p[2];
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n > 0 ? n : 1);
    if (d != NULL && n > 0) {
        memcpy(d, p, n);
    }
    return d;
}

/* The certificates of a certificate_list from @p pos to @p end into facts->presented:
 * ASN.1Cert<1..2^24-1> each; TLS 1.3 follows each with extensions<0..2^16-1> (RFC 8446
 * 4.4.2). */
static void take_cert_list(mqtls_tls_facts_t *f, const uint8_t *b, size_t pos, size_t end,
                           bool tls13)
{
    size_t ext = tls13 ? 2 : 0;
    while (pos + 3 <= end && f->presented_len < MQTLS__MAX_CHAIN_DEPTH) {
        size_t clen = get24(b + pos);
        pos += 3;
        if (clen == 0 || pos + clen + ext > end) {
            return;
        }
        mqtls_cert_fact_t *c = &f->presented[f->presented_len];
        c->der = dup_bytes(b + pos, clen);
        if (c->der == NULL) {
            return;
        }
        c->der_len = clen;
        f->presented_len++;
        pos += clen;
        if (tls13) {
            pos += 2 + (((size_t)b[pos] << 8) | b[pos + 1]); /* the entry's extensions */
        }
    }
}

/* Certificate (RFC 5246 7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
static void on_server_certificate(mqtls__tls_records_t *rp, const uint8_t *b, size_t len)
{
    mqtls_tls_facts_t *f = rp->facts;
    if (rp->saw_certificate || len < 3) {
        return;
    }
    rp->saw_certificate = true;
    size_t total = get24(b);
    size_t pos = 3;
    if (total + 3 > len) {
        return;
    }
    take_cert_list(f, b, pos, 3 + total, false);
}

/* CertificateRequest (RFC 5246 7.4.4): certificate_types<1..2^8-1>,
 * supported_signature_algorithms<2..2^16-2>, certificate_authorities<0..2^16-1>. */
static void on_certificate_request(mqtls__tls_records_t *rp, const uint8_t *b, size_t len)
{
    mqtls_tls_facts_t *f = rp->facts;
    f->cert_requested = true;
    if (len < 1) {
        return;
    }
    size_t pos = 1 + (size_t)b[0];
    if (pos + 2 > len) {
        return;
    }
    pos += 2 + (((size_t)b[pos] << 8) | b[pos + 1]);
    if (pos + 2 > len) {
        return;
    }
    size_t dn_len = ((size_t)b[pos] << 8) | b[pos + 1];
    pos += 2;
    if (pos + dn_len > len || f->ca_names != NULL) {
        return;
    }
    f->ca_names = dup_bytes(b + pos, dn_len);
    if (f->ca_names != NULL) {
        f->ca_names_len = dn_len;
    }
}

/* ServerHello (RFC 5246 7.4.1.3, RFC 8446 4.1.3): server_version(2), random(32),
 * session_id<0..32>, cipher_suite(2), compression_method(1), then extensions<0..2^16-1>.
 * Notes the max_fragment_length echo (RFC 6066 section 4: type 1, one byte, 1..4 = 2^9..2^12
 * bytes): only a server that echoes it sends shorter records. TLS 1.3 puts the echo in the
 * encrypted EncryptedExtensions instead (the engine reports that one). */
static void on_server_hello(mqtls__tls_records_t *rp, const uint8_t *b, size_t len)
{
    size_t pos = 2 + 32;
    if (pos + 1 > len) {
        return;
    }
    pos += 1u + b[pos]; /* session_id */
    pos += 2 + 1;       /* cipher_suite, compression_method */
    if (pos + 2 > len) {
        return; /* no extensions */
    }
    size_t end = pos + 2 + (((size_t)b[pos] << 8) | b[pos + 1]);
    if (end > len) {
        return;
    }
    for (pos += 2; pos + 4 <= end;) {
        unsigned type = ((unsigned)b[pos] << 8) | b[pos + 1];
        size_t elen = ((size_t)b[pos + 2] << 8) | b[pos + 3];
        pos += 4;
        if (pos + elen > end) {
            return;
        }
        if (type == 1 && elen == 1 && b[pos] >= 1 && b[pos] <= 4) {
            rp->facts->max_fragment_len = (uint16_t)(256u << b[pos]);
        }
        pos += elen;
    }
}

static void on_handshake_message(mqtls__tls_records_t *rp, uint8_t type, const uint8_t *b,
                                 size_t len)
{
    switch (type) {
    case MQTLS__HS_SERVER_HELLO:
        rp->facts->server_hello_seen = true;
        on_server_hello(rp, b, len);
        break;
    case MQTLS__HS_CERTIFICATE:
        on_server_certificate(rp, b, len);
        break;
    case MQTLS__HS_CERTIFICATE_REQUEST:
        on_certificate_request(rp, b, len);
        break;
    case MQTLS__HS_SERVER_HELLO_DONE:
        rp->saw_server_hello_done = true;
        break;
    default:
        break;
    }
}

/* Handshake messages may span records (and reads): reassemble in a bounded buffer, taking in
 * at most what fits and parsing the complete messages before taking more, so that how the
 * bytes were cut never matters. Only a message longer than the buffer is given up on. */
static void hs_append(mqtls__tls_records_t *rp, const uint8_t *p, size_t n)
{
    while (n > 0 && !rp->hs_dead && rp->hs != NULL) {
        size_t k = HS_BUF_CAP - rp->hs_len;
        k = k < n ? k : n;
        memcpy(rp->hs + rp->hs_len, p, k);
        rp->hs_len += k;
        p += k;
        n -= k;
        size_t pos = 0;
        while (rp->hs_len - pos >= 4) {
            size_t mlen = get24(rp->hs + pos + 1);
            if (mlen > HS_BUF_CAP - 4) {
                rp->hs_dead = true;
                rp->facts->records_truncated = true;
                return;
            }
            if (rp->hs_len - pos < 4 + mlen) {
                break;
            }
            on_handshake_message(rp, rp->hs[pos], rp->hs + pos + 4, mlen);
            pos += 4 + mlen;
        }
        memmove(rp->hs, rp->hs + pos, rp->hs_len - pos);
        rp->hs_len -= pos;
    }
}

static bool valid_header_byte(size_t idx, uint8_t b)
{
    switch (idx) {
    case 0:
        return b >= MQTLS__REC_CCS && b <= MQTLS__REC_HEARTBEAT;
    case 1:
        return b == 3; /* major version of SSL 3.0 .. TLS 1.3 */
    case 2:
        return b <= 4;
    default:
        return true;
    }
}

/* The header is not TLS: a peer that never sent a record does not speak TLS (false); after
 * records, the stream is desynchronised (encrypted framing?) and parsing just stops. */
static bool stop_on_bad_header(mqtls__tls_records_t *rp)
{
    rp->stopped = true;
    if (rp->records == 0) {
        rp->facts->peer_not_tls = true; /* e.g. "HTTP/" or an MQTT CONNACK 0x20 */
        return false;
    }
    return true;
}

bool mqtls__tls_records_feed(mqtls__tls_records_t *rp, const uint8_t *p, size_t n)
{
    mqtls_tls_facts_t *f = rp->facts;
    if (rp->seen < sizeof f->first_bytes) {
        size_t k = sizeof f->first_bytes - rp->seen;
        k = k < n ? k : n;
        memcpy(f->first_bytes + rp->seen, p, k);
        f->first_bytes_len = rp->seen + k;
    }
    rp->seen += n;
    size_t i = 0;
    while (i < n && !rp->stopped) {
        if (rp->hdr_len < MQTLS__REC_HDR_LEN) {
            uint8_t b = p[i++];
            if (!valid_header_byte(rp->hdr_len, b)) {
                return stop_on_bad_header(rp);
            }
            rp->hdr[rp->hdr_len++] = b;
            if (rp->hdr_len == MQTLS__REC_HDR_LEN) {
                rp->type = rp->hdr[0];
                rp->body_left = ((size_t)rp->hdr[3] << 8) | rp->hdr[4];
                rp->alert_len = 0;
                if (rp->body_left > REC_MAX_BODY) {
                    return stop_on_bad_header(rp);
                }
            }
        } else {
            size_t k = n - i < rp->body_left ? n - i : rp->body_left;
            if (!rp->encrypted && rp->type == MQTLS__REC_HANDSHAKE) {
                hs_append(rp, p + i, k);
            } else if (!rp->encrypted && rp->type == MQTLS__REC_ALERT) {
                for (size_t j = 0; j < k && rp->alert_len < 2; j++) {
                    rp->alert[rp->alert_len++] = p[i + j];
                }
            }
            i += k;
            rp->body_left -= k;
        }
        if (rp->hdr_len == MQTLS__REC_HDR_LEN && rp->body_left == 0) {
            /* record complete */
            if (rp->type == MQTLS__REC_CCS) {
                rp->encrypted = true;
            } else if (rp->type == MQTLS__REC_ALERT && rp->alert_len == 2 && rp->alert[0] == 2) {
                f->alert_received = rp->alert[1]; /* level fatal (2) */
            }
            rp->hdr_len = 0;
            rp->records++;
        }
    }
    return true;
}

/* ---- TLS 1.3 handshake messages, decrypted by the engine (RFC 8446 4.3.2, 4.4.2) ------- */

/* Certificate: certificate_request_context<0..2^8-1>, certificate_list<0..2^24-1> of
 * CertificateEntry { cert_data<1..2^24-1>; extensions<0..2^16-1> }. */
static void on_certificate13(mqtls__tls_records_t *rp, const uint8_t *b, size_t len)
{
    mqtls_tls_facts_t *f = rp->facts;
    if (rp->saw_certificate || len < 1) {
        return;
    }
    rp->saw_certificate = true;
    size_t pos = 1 + (size_t)b[0];
    if (pos + 3 > len) {
        return;
    }
    size_t end = pos + 3 + get24(b + pos);
    pos += 3;
    if (end > len) {
        return;
    }
    take_cert_list(f, b, pos, end, true);
}

/* CertificateRequest: certificate_request_context<0..2^8-1>, extensions<2..2^16-1>; the
 * certificate_authorities extension (47) holds the DistinguishedName list of TLS 1.2's. */
static void on_certificate_request13(mqtls__tls_records_t *rp, const uint8_t *b, size_t len)
{
    mqtls_tls_facts_t *f = rp->facts;
    f->cert_requested = true;
    if (len < 1) {
        return;
    }
    size_t pos = 1 + (size_t)b[0];
    if (pos + 2 > len) {
        return;
    }
    size_t end = pos + 2 + (((size_t)b[pos] << 8) | b[pos + 1]);
    pos += 2;
    if (end > len) {
        return;
    }
    while (pos + 4 <= end) {
        unsigned type = ((unsigned)b[pos] << 8) | b[pos + 1];
        size_t elen = ((size_t)b[pos + 2] << 8) | b[pos + 3];
        pos += 4;
        if (pos + elen > end) {
            return;
        }
        if (type == 47 && elen >= 2 && f->ca_names == NULL) {
            size_t dn_len = ((size_t)b[pos] << 8) | b[pos + 1];
            if (2 + dn_len <= elen) {
                f->ca_names = dup_bytes(b + pos + 2, dn_len);
                f->ca_names_len = f->ca_names != NULL ? dn_len : 0;
            }
        }
        pos += elen;
    }
}

void mqtls__tls_records_on_message13(mqtls__tls_records_t *rp, uint8_t type, const uint8_t *body,
                                     size_t len)
{
    if (type == MQTLS__HS_CERTIFICATE) {
        on_certificate13(rp, body, len);
    } else if (type == MQTLS__HS_CERTIFICATE_REQUEST) {
        on_certificate_request13(rp, body, len);
    }
}

void mqtls__tls_records_note_outgoing(mqtls__tls_records_t *rp, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (!rp->our_ccs_sent && pos + MQTLS__REC_HDR_LEN <= n) {
        uint8_t type = p[pos];
        size_t len = ((size_t)p[pos + 3] << 8) | p[pos + 4];
        const uint8_t *body = p + pos + MQTLS__REC_HDR_LEN;
        size_t left = n - pos - MQTLS__REC_HDR_LEN;
        size_t avail = left < len ? left : len;
        if (type == MQTLS__REC_CCS) {
            rp->our_ccs_sent = true;
        } else if (type == MQTLS__REC_ALERT && avail >= 2) {
            rp->facts->alert_sent = body[1];
        } else if (type == MQTLS__REC_HANDSHAKE && avail >= 7 && body[0] == MQTLS__HS_CERTIFICATE) {
            rp->facts->client_cert_sent = get24(body + 4) > 0;
        }
        pos += MQTLS__REC_HDR_LEN + len;
    }
}

bool mqtls__tls_records_reset(mqtls__tls_records_t *rp, mqtls_tls_facts_t *facts,
                              bool with_messages)
{
    uint8_t *hs = rp->hs;
    memset(rp, 0, sizeof *rp);
    rp->hs = hs;
    rp->facts = facts;
    if (with_messages && rp->hs == NULL) {
        rp->hs = malloc(HS_BUF_CAP);
    }
    return !with_messages || rp->hs != NULL;
}

void mqtls__tls_records_release(mqtls__tls_records_t *rp)
{
    free(rp->hs);
    rp->hs = NULL;
    rp->hs_len = 0;
}

/* ---- test hook (net.h) ----------------------------------------------------------------- */

bool mqtls__tls_parse_records(mqtls_tls_facts_t *facts, const uint8_t *const *chunks,
                              const size_t *lens, size_t count)
{
    mqtls__tls_records_t rp;
    memset(&rp, 0, sizeof rp);
    if (!mqtls__tls_records_reset(&rp, facts, true)) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        ok = mqtls__tls_records_feed(&rp, chunks[i], lens[i]);
    }
    mqtls__tls_records_release(&rp);
    return ok;
}
