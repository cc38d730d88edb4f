/* TLS transport over mbedTLS (net.h), stacked on any inner transport through custom BIO
 * callbacks. Besides the handshake it records the facts src/diag needs (tls.h): the chain
 * the server presented (parsed from the plaintext TLS 1.2 handshake records, RFC 5246
 * section 7.4), per-depth verify flags, CertificateRequest, alerts, first bytes of a peer
 * that does not speak TLS. Version differences live in mbedtls_compat.c. */
#include "tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform_util.h"

/* RFC 5246 section 6.2.1 content types and section 7.4 handshake types. */
enum {
    REC_CCS = 20,
    REC_ALERT = 21,
    REC_HANDSHAKE = 22,
    REC_APPDATA = 23,
    REC_HEARTBEAT = 24,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
    HS_CERTIFICATE_REQUEST = 13,
    HS_SERVER_HELLO_DONE = 14,
};
#define REC_HDR_LEN 5u
/* Largest record body on the wire: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3). */
#define REC_MAX_BODY (16384u + 2048u)
/* Handshake reassembly buffer: messages bigger than this are not parsed (never overflow). */
#define HS_BUF_CAP (16u * 1024u)
/* Ciphertext waiting for the socket: one gathered flight, or one record after it. The buffer
 * starts small and grows only as needed (thousands of bench connections share a process). */
#define OBUF_MAX (64u * 1024u)
#define OBUF_INITIAL 2048u
/* writev coalesces small gather lists up to this many plaintext bytes per record; larger
 * writes go out from the caller's buffer. */
#ifndef MQTLS_TLS_COALESCE_MAX
#define MQTLS_TLS_COALESCE_MAX 4096u
#endif
/* After a failed handshake, how long to wait for a fatal alert still in the socket. */
#define DRAIN_MS 200
/* Trusted CAs when the configuration names none (Debian/Ubuntu location). */
#ifndef MQTLS_SYSTEM_CA_FILE
#define MQTLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

typedef enum {
    TLS_IDLE,
    TLS_INNER,     /* inner transport connecting */
    TLS_HANDSHAKE, /* mbedtls_ssl_handshake() in progress */
    TLS_FLUSH,     /* handshake done, last flight still being written */
    TLS_OPEN,
    TLS_FAILED,
} tls_state_t;

/* Incremental parser of the records the peer sends, up to its ChangeCipherSpec. */
typedef struct {
    mqtls_tls_facts_t *facts;
    uint8_t hdr[REC_HDR_LEN];
    size_t hdr_len;
    size_t body_left;
    uint8_t type;
    uint8_t alert[2];
    size_t alert_len;
    uint8_t *hs; /* HS_BUF_CAP bytes */
    size_t hs_len;
    bool hs_dead;   /* gave up on handshake messages (too big or malformed) */
    bool encrypted; /* the peer's ChangeCipherSpec was seen: what follows is ciphertext */
    bool stopped;   /* parsing is over (handshake done, or desynchronised) */
    size_t records; /* complete records seen */
    size_t seen;    /* bytes seen */
    bool saw_server_hello_done;
    bool saw_certificate;
} recparse_t;

typedef struct tls {
    mqtls_transport_t base;
    mqtls__tls_ctx_t *ctx;
    mqtls_transport_t *inner;
    char *host;
    mqtls_tls_facts_t *facts;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_session saved;
    bool has_saved;
    tls_state_t state;
    unsigned want;
    bool gathering; /* buffer BIO writes during the handshake, one send per flight */
    bool check_ip;  /* match the iPAddress SAN ourselves (mbedTLS < 3.5) */
    uint8_t ip[16];
    size_t ip_len;
    bool our_ccs_sent;
    uint8_t *obuf;
    size_t olen;
    size_t ocap;
    mqtls_status_t io_status; /* last failure of the inner transport seen in the BIO */
    recparse_t rp;
    int64_t hs_start_ms;
    uint8_t *plain; /* staging for coalesced writev, MQTLS_TLS_COALESCE_MAX bytes */
    size_t plain_cap;
} tls_t;

/* ---- record parser ------------------------------------------------------------------- */

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

/* Certificate (RFC 5246 7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
static void on_server_certificate(recparse_t *rp, const uint8_t *b, size_t len)
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
    while (pos + 3 <= 3 + total && f->presented_len < MQTLS__MAX_CHAIN_DEPTH) {
        size_t clen = get24(b + pos);
        pos += 3;
        if (clen == 0 || pos + clen > 3 + total) {
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
    }
}

/* CertificateRequest (RFC 5246 7.4.4): certificate_types<1..2^8-1>,
 * supported_signature_algorithms<2..2^16-2>, certificate_authorities<0..2^16-1>. */
static void on_certificate_request(recparse_t *rp, const uint8_t *b, size_t len)
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

static void on_handshake_message(recparse_t *rp, uint8_t type, const uint8_t *b, size_t len)
{
    switch (type) {
    case HS_SERVER_HELLO:
        rp->facts->server_hello_seen = true;
        break;
    case HS_CERTIFICATE:
        on_server_certificate(rp, b, len);
        break;
    case HS_CERTIFICATE_REQUEST:
        on_certificate_request(rp, b, len);
        break;
    case HS_SERVER_HELLO_DONE:
        rp->saw_server_hello_done = true;
        break;
    default:
        break;
    }
}

/* Handshake messages may span records: reassemble in a bounded buffer. */
static void hs_append(recparse_t *rp, const uint8_t *p, size_t n)
{
    if (rp->hs_dead || rp->hs == NULL || n == 0) {
        return;
    }
    if (n > HS_BUF_CAP - rp->hs_len) {
        rp->hs_dead = true;
        rp->facts->records_truncated = true;
        return;
    }
    memcpy(rp->hs + rp->hs_len, p, n);
    rp->hs_len += n;
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

static bool valid_header_byte(size_t idx, uint8_t b)
{
    switch (idx) {
    case 0:
        return b >= REC_CCS && b <= REC_HEARTBEAT;
    case 1:
        return b == 3; /* major version of SSL 3.0 .. TLS 1.3 */
    case 2:
        return b <= 4;
    default:
        return true;
    }
}

/* Feed bytes the peer sent. Returns false when the peer does not speak TLS. */
static bool rp_feed(recparse_t *rp, const uint8_t *p, size_t n)
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
        if (rp->hdr_len < REC_HDR_LEN) {
            uint8_t b = p[i++];
            if (!valid_header_byte(rp->hdr_len, b)) {
                rp->stopped = true;
                if (rp->records == 0) {
                    f->peer_not_tls = true; /* e.g. "HTTP/" or an MQTT CONNACK 0x20 */
                    return false;
                }
                return true; /* desynchronised (encrypted framing?): stop parsing */
            }
            rp->hdr[rp->hdr_len++] = b;
            if (rp->hdr_len == REC_HDR_LEN) {
                rp->type = rp->hdr[0];
                rp->body_left = ((size_t)rp->hdr[3] << 8) | rp->hdr[4];
                rp->alert_len = 0;
                if (rp->body_left > REC_MAX_BODY) {
                    rp->stopped = true;
                    if (rp->records == 0) {
                        f->peer_not_tls = true;
                        return false;
                    }
                    return true;
                }
            }
        } else {
            size_t k = n - i < rp->body_left ? n - i : rp->body_left;
            if (!rp->encrypted && rp->type == REC_HANDSHAKE) {
                hs_append(rp, p + i, k);
            } else if (!rp->encrypted && rp->type == REC_ALERT) {
                for (size_t j = 0; j < k && rp->alert_len < 2; j++) {
                    rp->alert[rp->alert_len++] = p[i + j];
                }
            }
            i += k;
            rp->body_left -= k;
        }
        if (rp->hdr_len == REC_HDR_LEN && rp->body_left == 0) {
            /* record complete */
            if (rp->type == REC_CCS) {
                rp->encrypted = true;
            } else if (rp->type == REC_ALERT && rp->alert_len == 2 && rp->alert[0] == 2) {
                f->alert_received = rp->alert[1]; /* level fatal (2) */
            }
            rp->hdr_len = 0;
            rp->records++;
        }
    }
    return true;
}

static void rp_reset(recparse_t *rp, mqtls_tls_facts_t *facts)
{
    uint8_t *hs = rp->hs;
    memset(rp, 0, sizeof *rp);
    rp->hs = hs;
    rp->facts = facts;
}

/* Our own outgoing plaintext records: the alert we send, whether our Certificate was empty. */
static void note_outgoing(tls_t *t, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (!t->our_ccs_sent && pos + REC_HDR_LEN <= n) {
        uint8_t type = p[pos];
        size_t len = ((size_t)p[pos + 3] << 8) | p[pos + 4];
        const uint8_t *body = p + pos + REC_HDR_LEN;
        size_t avail = n - pos - REC_HDR_LEN < len ? n - pos - REC_HDR_LEN : len;
        if (type == REC_CCS) {
            t->our_ccs_sent = true;
        } else if (type == REC_ALERT && avail >= 2) {
            t->facts->alert_sent = body[1];
        } else if (type == REC_HANDSHAKE && avail >= 7 && body[0] == HS_CERTIFICATE) {
            t->facts->client_cert_sent = get24(body + 4) > 0;
        }
        pos += REC_HDR_LEN + len;
    }
}

/* ---- BIO ------------------------------------------------------------------------------- */

static int status_to_bio(tls_t *t, mqtls_status_t st, int would_block)
{
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        return would_block;
    }
    t->io_status = st;
    if (st == MQTLS_ERR_CONN_RESET) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    return would_block == MBEDTLS_ERR_SSL_WANT_WRITE ? MBEDTLS_ERR_NET_SEND_FAILED
                                                     : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Make room for @p need bytes in obuf (up to OBUF_MAX). */
static bool obuf_reserve(tls_t *t, size_t need)
{
    if (need <= t->ocap) {
        return true;
    }
    if (need > OBUF_MAX) {
        return false;
    }
    size_t cap = t->ocap != 0 ? t->ocap : OBUF_INITIAL;
    while (cap < need) {
        cap *= 2;
    }
    cap = cap < OBUF_MAX ? cap : OBUF_MAX;
    uint8_t *p = realloc(t->obuf, cap);
    if (p == NULL) {
        return false;
    }
    t->obuf = p;
    t->ocap = cap;
    return true;
}

/* Write buffered ciphertext. MQTLS_OK once all is out. */
static mqtls_status_t obuf_flush(tls_t *t)
{
    for (int rounds = 0; t->olen > 0 && rounds < 64; rounds++) {
        mqtls_iovec_t v = {.base = t->obuf, .len = t->olen};
        size_t sent = 0;
        mqtls_status_t st = t->inner->ops->writev(t->inner, &v, 1, &sent);
        if (st != MQTLS_OK) {
            return st;
        }
        if (sent == 0) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
        memmove(t->obuf, t->obuf + sent, t->olen - sent);
        t->olen -= sent;
    }
    return t->olen == 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    tls_t *t = p;
    note_outgoing(t, buf, len);
    /* Not gathering: keep order with what is still buffered. Gathering: flush only when the
     * flight would not fit. */
    if ((t->olen > 0 && !t->gathering) || t->olen + len > OBUF_MAX) {
        mqtls_status_t st = obuf_flush(t);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return status_to_bio(t, st, MBEDTLS_ERR_SSL_WANT_WRITE);
        }
    }
    size_t done = 0;
    if (t->olen == 0 && !t->gathering) {
        mqtls_iovec_t v = {.base = buf, .len = len};
        mqtls_status_t st = t->inner->ops->writev(t->inner, &v, 1, &done);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return status_to_bio(t, st, MBEDTLS_ERR_SSL_WANT_WRITE);
        }
        if (done == len) {
            return (int)len;
        }
    }
    /* Keep the rest (the whole record while gathering): what we accept is committed. */
    if (!obuf_reserve(t, t->olen + (len - done))) {
        return done > 0 ? (int)done : MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    memcpy(t->obuf + t->olen, buf + done, len - done);
    t->olen += len - done;
    return (int)len;
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    tls_t *t = p;
    /* mbedTLS wants the peer's answer: the flight we gathered leaves now, in one send. After
     * the handshake a blocked write must never stop reads (both sides would wait forever). */
    if (t->olen > 0) {
        mqtls_status_t st = obuf_flush(t);
        if (st == MQTLS_ERR_WOULD_BLOCK && t->state == TLS_HANDSHAKE) {
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        }
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return status_to_bio(t, st, MBEDTLS_ERR_SSL_WANT_WRITE);
        }
    }
    size_t got = 0;
    mqtls_status_t st = t->inner->ops->read(t->inner, buf, len, &got);
    if (st == MQTLS_ERR_CLOSED) {
        t->io_status = st;
        return 0; /* EOF */
    }
    if (st != MQTLS_OK) {
        return status_to_bio(t, st, MBEDTLS_ERR_SSL_WANT_READ);
    }
    if (!t->rp.stopped && !rp_feed(&t->rp, buf, got)) {
        t->io_status = MQTLS_ERR_TLS_NOT_TLS;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)got;
}

/* ---- verification ---------------------------------------------------------------------- */

/* Find the subjectAltName extension (2.5.29.17) in the TBSCertificate and compare its
 * iPAddress entries ([7] OCTET STRING, RFC 5280 4.2.1.6) with @p ip. */
static bool crt_has_ip_san(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len)
{
    static const uint8_t san_oid[] = {0x55, 0x1D, 0x11};
    unsigned char *p = crt->tbs.p;
    const unsigned char *end = p + crt->tbs.len;
    size_t len = 0;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
        0) {
        return false;
    }
    end = p + len;
    /* Skip fields up to [3] extensions. */
    while (p < end) {
        unsigned char tag = *p;
        unsigned char *q = p + 1;
        if (mbedtls_asn1_get_len(&q, end, &len) != 0) {
            return false;
        }
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
            p = q;
            end = q + len;
            break;
        }
        p = q + len;
    }
    if (p >= end || mbedtls_asn1_get_tag(&p, end, &len,
                                         MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return false;
    }
    const unsigned char *exts_end = p + len;
    while (p < exts_end) {
        if (mbedtls_asn1_get_tag(&p, exts_end, &len,
                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return false;
        }
        const unsigned char *ext_end = p + len;
        unsigned char *q = p;
        size_t oid_len = 0;
        if (mbedtls_asn1_get_tag(&q, ext_end, &oid_len, MBEDTLS_ASN1_OID) != 0) {
            return false;
        }
        bool is_san = oid_len == sizeof san_oid && memcmp(q, san_oid, sizeof san_oid) == 0;
        q += oid_len;
        if (is_san) {
            int critical = 0;
            (void)mbedtls_asn1_get_bool(&q, ext_end, &critical);
            size_t oct_len = 0;
            size_t names_len = 0;
            if (mbedtls_asn1_get_tag(&q, ext_end, &oct_len, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
                mbedtls_asn1_get_tag(&q, q + oct_len, &names_len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
                return false;
            }
            const unsigned char *names_end = q + names_len;
            while (q < names_end) {
                unsigned char tag = *q++;
                size_t nlen = 0;
                if (mbedtls_asn1_get_len(&q, names_end, &nlen) != 0) {
                    return false;
                }
                if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && nlen == ip_len &&
                    memcmp(q, ip, ip_len) == 0) {
                    return true;
                }
                q += nlen;
            }
            return false;
        }
        p = (unsigned char *)(uintptr_t)ext_end;
    }
    return false;
}

/* Records per-depth flags and a DER copy; never aborts (diag explains, policy decides). */
static int on_verify(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_t *t = p;
    mqtls_tls_facts_t *f = t->facts;
    if (depth == 0 && t->check_ip) {
        /* mbedTLS < 3.5 was given no hostname for an IP literal (no SNI, RFC 6066 3): the
         * name check is ours. */
        if (crt_has_ip_san(crt, t->ip, t->ip_len)) {
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
            f->ip_san_matched_by_us = true;
        } else {
            *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
        }
    }
    if (depth == 0 && t->ctx->no_hostname_check) {
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH; /* asked for: chain only */
    }
    if (depth >= 0 && depth < MQTLS__MAX_CHAIN_DEPTH) {
        mqtls_cert_fact_t *c = &f->chain[depth];
        free(c->der);
        c->der = dup_bytes(crt->raw.p, crt->raw.len);
        c->der_len = c->der != NULL ? crt->raw.len : 0;
        c->flags = *flags;
        if ((size_t)depth + 1 > f->chain_len) {
            f->chain_len = (size_t)depth + 1;
        }
    }
    return 0;
}

/* ---- transport ---------------------------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static mqtls_status_t start_handshake(tls_t *t)
{
    int ret = mbedtls_ssl_session_reset(&t->ssl);
    if (ret != 0) {
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_session_reset -0x%04X", (unsigned)-ret);
    }
    const char *name = t->ctx->server_name != NULL ? t->ctx->server_name : t->host;
    copy_str(t->facts->server_name, sizeof t->facts->server_name, name);
    t->check_ip = false;
    uint8_t ip[16];
    if (inet_pton(AF_INET, name, ip) == 1) {
        t->ip_len = 4;
    } else if (inet_pton(AF_INET6, name, ip) == 1) {
        t->ip_len = 16;
    } else {
        t->ip_len = 0;
    }
    memcpy(t->ip, ip, t->ip_len);
    if (t->ip_len > 0 && !mqtls__compat_matches_ip_san()) {
        ret = mbedtls_ssl_set_hostname(&t->ssl, NULL); /* no SNI, no CN compare */
        t->check_ip = !t->ctx->insecure;
    } else {
        ret = mbedtls_ssl_set_hostname(&t->ssl, name);
    }
    if (ret != 0) {
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_set_hostname -0x%04X", (unsigned)-ret);
    }
    t->facts->hostname_checked = !t->ctx->insecure && !t->ctx->no_hostname_check;
    t->facts->insecure = t->ctx->insecure;
    mbedtls_ssl_set_verify(&t->ssl, on_verify, t);
    if (t->has_saved && t->ctx->resumption) {
        t->facts->session_offered = mbedtls_ssl_set_session(&t->ssl, &t->saved) == 0;
    }
    if (t->rp.hs == NULL) {
        t->rp.hs = malloc(HS_BUF_CAP); /* only while handshaking; NULL = facts not parsed */
    }
    t->our_ccs_sent = false;
    t->io_status = MQTLS_OK;
    t->olen = 0;
    t->gathering = t->ctx->gather_flights;
    t->hs_start_ms = mqtls__net_now_ms();
    t->state = TLS_HANDSHAKE;
    return MQTLS_OK;
}

/* The handshake failed: if no alert was seen yet, read what the peer still sent (a fatal
 * alert often sits behind the reset mbedTLS 2.28 reports), for at most DRAIN_MS. */
static void drain_for_alert(tls_t *t)
{
    int fd = t->inner->ops->fd(t->inner);
    if (fd < 0 || t->rp.stopped) {
        return;
    }
    int64_t deadline = mqtls__net_now_ms() + DRAIN_MS;
    uint8_t buf[4096];
    for (int rounds = 0; rounds < 64 && t->facts->alert_received < 0; rounds++) {
        int64_t left = deadline - mqtls__net_now_ms();
        if (left <= 0) {
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
        if (poll(&pfd, 1, (int)left) <= 0) {
            break;
        }
        size_t got = 0;
        if (t->inner->ops->read(t->inner, buf, sizeof buf, &got) != MQTLS_OK || got == 0) {
            break;
        }
        if (!rp_feed(&t->rp, buf, got) || t->rp.stopped) {
            break;
        }
    }
}

static void first_bytes_text(const mqtls_tls_facts_t *f, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < f->first_bytes_len && o + 5 < cap; i++) {
        uint8_t c = f->first_bytes[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

static mqtls_status_t handshake_failed(tls_t *t, int ret)
{
    mqtls_tls_facts_t *f = t->facts;
    mqtls_error_t *err = t->base.err;
    f->handshake_ret = ret;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - t->hs_start_ms);
    t->state = TLS_FAILED;
    t->want = 0;
    if (err != NULL) {
        err->mbedtls_ret = ret;
    }
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    if (f->peer_not_tls) {
        char fb[80];
        first_bytes_text(f, fb, sizeof fb);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, 0,
                               "peer answered \"%s\" instead of a TLS ServerHello", fb);
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        f->verify_flags = flags;
        if (err != NULL) {
            err->verify_flags = flags;
            err->chain_len = (uint8_t)f->chain_len;
            for (size_t i = 0; i < f->chain_len; i++) {
                err->depth_flags[i] = f->chain[i].flags;
            }
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_VERIFY, 0,
                               "server certificate rejected (verify flags 0x%08X)",
                               (unsigned)flags);
    }
    if (f->alert_received < 0) {
        f->alert_received = mqtls__compat_peer_alert(&t->ssl);
    }
    if (f->alert_received < 0) {
        drain_for_alert(t);
    }
    if (f->alert_received >= 0) {
        if (err != NULL) {
            err->tls_alert = (int16_t)f->alert_received;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 0,
                               "server sent fatal alert %d (%s)%s", f->alert_received,
                               mqtls_tls_alert_name(f->alert_received),
                               f->cert_requested && !f->client_cert_sent
                                   ? "; it asked for a client certificate and none was sent"
                                   : "");
    }
    if (t->rp.seen == 0 &&
        (t->io_status == MQTLS_ERR_CLOSED || t->io_status == MQTLS_ERR_CONN_RESET)) {
        /* A TLS server that refuses a ClientHello says why with an alert; a plain MQTT
         * listener (mosquitto) drops the connection on the malformed "CONNECT" instead. */
        f->peer_silent_close = true;
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, 0,
                               "the server %s the connection without answering our ClientHello "
                               "or sending an alert: the port probably does not speak TLS "
                               "(plain MQTT port?)",
                               t->io_status == MQTLS_ERR_CLOSED ? "closed" : "reset");
    }
    const char *why = text;
    if (t->io_status == MQTLS_ERR_CLOSED) {
        why = "the server closed the connection during the handshake";
    } else if (t->io_status == MQTLS_ERR_CONN_RESET) {
        why = "the server reset the connection during the handshake";
    }
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE,
                           err != NULL ? err->sys_errno : 0, "%s (-0x%04X)", why, (unsigned)-ret);
}

static void handshake_done(tls_t *t)
{
    mqtls_tls_facts_t *f = t->facts;
    f->handshake_ret = 0;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - t->hs_start_ms);
    f->verify_flags = mbedtls_ssl_get_verify_result(&t->ssl);
    if (t->ctx->insecure) {
        f->verify_flags = 0; /* nothing was verified: flags would be "not verified" noise */
    }
    f->tls_version = mqtls__compat_tls_version(&t->ssl);
    copy_str(f->ciphersuite, sizeof f->ciphersuite, mbedtls_ssl_get_ciphersuite(&t->ssl));
    /* TLS 1.2 abbreviated handshake (RFC 5246 7.3): no ServerHelloDone. */
    f->session_resumed = f->session_offered && f->server_hello_seen &&
                         !mqtls__compat_is_tls13(&t->ssl) && !t->rp.saw_server_hello_done;
    t->rp.stopped = true; /* application data is ciphertext: nothing more to learn */
    free(t->rp.hs);
    t->rp.hs = NULL;
    t->gathering = false;
    if (t->ctx->resumption) {
        mbedtls_ssl_session_free(&t->saved);
        mbedtls_ssl_session_init(&t->saved);
        t->has_saved = mbedtls_ssl_get_session(&t->ssl, &t->saved) == 0;
    }
}

static mqtls_status_t tls_connect(mqtls_transport_t *base, int64_t now_ms)
{
    tls_t *t = (tls_t *)base;
    switch (t->state) {
    case TLS_FAILED:
        t->inner->ops->close(t->inner); /* a failed handshake leaves a dead connection */
        /* fall through */
    case TLS_IDLE:
        mqtls_error_init(t->base.err); /* a new attempt: no stale flags or alert */
        mqtls__tls_facts_free(t->facts);
        rp_reset(&t->rp, t->facts);
        t->state = TLS_INNER;
        /* fall through */
    case TLS_INNER: {
        mqtls_status_t st = t->inner->ops->connect(t->inner, now_ms);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = t->inner->ops->want(t->inner);
            return st;
        }
        if (st != MQTLS_OK) {
            t->state = TLS_FAILED;
            return st;
        }
        st = start_handshake(t);
        if (st != MQTLS_OK) {
            t->state = TLS_FAILED;
            return st;
        }
    }
        /* fall through */
    case TLS_HANDSHAKE: {
        int ret = mbedtls_ssl_handshake(&t->ssl);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
            t->want = MQTLS_WANT_READ;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            t->want = MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (ret != 0) {
            return handshake_failed(t, ret);
        }
        handshake_done(t);
        t->state = TLS_FLUSH;
    }
        /* fall through */
    case TLS_FLUSH: {
        mqtls_status_t st = obuf_flush(t);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            t->state = TLS_FAILED;
            return st;
        }
        t->state = TLS_OPEN;
        t->want = MQTLS_WANT_READ;
        return MQTLS_OK;
    }
    case TLS_OPEN:
        return MQTLS_OK;
    }
    return MQTLS_ERR_STATE;
}

static mqtls_status_t map_io_ret(tls_t *t, int ret)
{
    mqtls_error_t *err = t->base.err;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        t->want = MQTLS_WANT_READ | (t->olen > 0 ? MQTLS_WANT_WRITE : 0u);
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        t->want = MQTLS_WANT_WRITE;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        return MQTLS_ERR_CLOSED;
    }
    if (err != NULL) {
        err->mbedtls_ret = ret;
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        /* TLS 1.3: a rejected client certificate arrives after our Finished. */
        int alert = mqtls__compat_peer_alert(&t->ssl);
        t->facts->alert_received = alert;
        if (err != NULL) {
            err->tls_alert = (int16_t)alert;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 0,
                               "server sent fatal alert %d (%s)", alert,
                               mqtls_tls_alert_name(alert));
    }
    if (t->io_status != MQTLS_OK) {
        mqtls_status_t st = t->io_status;
        t->io_status = MQTLS_OK;
        return st; /* the inner transport recorded the details */
    }
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 0, "-0x%04X %s", (unsigned)-ret,
                           text);
}

static mqtls_status_t tls_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    tls_t *t = (tls_t *)base;
    *got = 0;
    if (t->state != TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (t->olen > 0) {
        mqtls_status_t st = obuf_flush(t);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    int ret = 0;
    for (int tries = 0; tries < 4; tries++) {
        t->io_status = MQTLS_OK;
        ret = mbedtls_ssl_read(&t->ssl, buf, cap);
        if (ret > 0) {
            *got = (size_t)ret;
            return MQTLS_OK;
        }
        if (!mqtls__compat_read_again(ret)) {
            break;
        }
    }
    return map_io_ret(t, ret);
}

static mqtls_status_t tls_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov,
                                 size_t iov_count, size_t *sent)
{
    tls_t *t = (tls_t *)base;
    *sent = 0;
    if (t->state != TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (t->olen > 0) {
        mqtls_status_t st = obuf_flush(t);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = MQTLS_WANT_READ | MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            return st;
        }
    }
    int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
    size_t rec_max = max > 0 ? (size_t)max : MQTLS_TLS_COALESCE_MAX;
    size_t gather_max = rec_max < t->plain_cap ? rec_max : t->plain_cap;
    /* Coalesce a gather list of small elements (MQTT header + payload, several packets) into
     * one record and one send, instead of one record per element. A single element, or a
     * first element at least as large as the staging buffer, goes out from where it is. */
    const uint8_t *data = NULL;
    size_t n = 0;
    size_t first = 0;
    while (first < iov_count && iov[first].len == 0) {
        first++;
    }
    if (first == iov_count) {
        return MQTLS_OK;
    }
    if (iov[first].len >= gather_max || first + 1 == iov_count) {
        data = iov[first].base;
        n = iov[first].len < rec_max ? iov[first].len : rec_max;
    } else {
        for (size_t i = first; i < iov_count && n < gather_max; i++) {
            size_t k = iov[i].len < gather_max - n ? iov[i].len : gather_max - n;
            if (k > 0) {
                memcpy(t->plain + n, iov[i].base, k);
                n += k;
            }
        }
        data = t->plain;
    }
    t->io_status = MQTLS_OK;
    int ret = mbedtls_ssl_write(&t->ssl, data, n);
    if (ret > 0) {
        *sent = (size_t)ret;
        t->want = MQTLS_WANT_READ | (t->olen > 0 ? MQTLS_WANT_WRITE : 0u);
        return MQTLS_OK;
    }
    return map_io_ret(t, ret);
}

static size_t tls_pending(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    if (t->state != TLS_OPEN) {
        return 0;
    }
    size_t n = mbedtls_ssl_get_bytes_avail(&t->ssl);
    if (n == 0 && mbedtls_ssl_check_pending(&t->ssl)) {
        n = 1; /* a whole record is buffered but not decrypted yet */
    }
    return n + t->inner->ops->pending(t->inner);
}

static int tls_fd(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    return t->inner->ops->fd(t->inner);
}

static unsigned tls_want(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    if (t->state == TLS_INNER) {
        return t->inner->ops->want(t->inner);
    }
    if (t->state == TLS_OPEN) {
        return MQTLS_WANT_READ | (t->olen > 0 ? MQTLS_WANT_WRITE : 0u);
    }
    return t->want;
}

static void tls_close(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    if (t->state == TLS_OPEN) {
        /* Best effort, one try: an orderly close_notify (RFC 5246 7.2.1). */
        (void)mbedtls_ssl_close_notify(&t->ssl);
        (void)obuf_flush(t);
    }
    t->inner->ops->close(t->inner);
    t->olen = 0;
    t->state = TLS_IDLE;
    t->want = 0;
}

static void tls_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    tls_t *t = (tls_t *)base;
    if (t->inner != NULL) {
        tls_close(base);
        t->inner->ops->destroy(t->inner);
    }
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_session_free(&t->saved);
    free(t->rp.hs);
    if (t->obuf != NULL) {
        free(t->obuf);
    }
    if (t->plain != NULL) {
        mbedtls_platform_zeroize(t->plain, t->plain_cap);
        free(t->plain);
    }
    free(t->host);
    free(t);
}

static const mqtls_transport_ops_t tls_ops = {
    .name = "tls",
    .connect = tls_connect,
    .read = tls_read,
    .writev = tls_writev,
    .pending = tls_pending,
    .fd = tls_fd,
    .want = tls_want,
    .close = tls_close,
    .destroy = tls_destroy,
};

mqtls_status_t mqtls__tls_create(mqtls__tls_ctx_t *ctx, mqtls_transport_t *inner, const char *host,
                                 mqtls_tls_facts_t *facts, mqtls_error_t *err,
                                 mqtls_transport_t **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (ctx == NULL || inner == NULL || host == NULL || facts == NULL || out == NULL) {
        if (inner != NULL) {
            inner->ops->destroy(inner);
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tls: ctx, inner, host, facts and out are required");
    }
    tls_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    t->base.ops = &tls_ops;
    t->base.err = err;
    t->ctx = ctx;
    t->inner = inner;
    t->facts = facts;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_session_init(&t->saved);
    mqtls__tls_facts_init(facts);
    size_t hlen = strlen(host);
    t->host = malloc(hlen + 1);
    t->plain_cap = MQTLS_TLS_COALESCE_MAX;
    t->plain = malloc(t->plain_cap);
    if (t->host == NULL || t->plain == NULL || !obuf_reserve(t, OBUF_INITIAL)) {
        tls_destroy(&t->base);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: malloc");
    }
    memcpy(t->host, host, hlen + 1);
    rp_reset(&t->rp, facts);
    int ret = mbedtls_ssl_setup(&t->ssl, &ctx->conf);
    if (ret != 0) {
        tls_destroy(&t->base);
        if (err != NULL) {
            err->mbedtls_ret = ret;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_setup -0x%04X", (unsigned)-ret);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->state = TLS_IDLE;
    *out = &t->base;
    return MQTLS_OK;
}

/* ---- context ---------------------------------------------------------------------------- */

void mqtls__tls_ctx_set_flight_gathering(mqtls__tls_ctx_t *ctx, bool on)
{
    if (ctx != NULL) {
        ctx->gather_flights = on;
    }
}

void mqtls__tls_ctx_destroy(mqtls__tls_ctx_t *ctx)
{
    if (ctx == NULL) {
        return;
    }
    mbedtls_ssl_config_free(&ctx->conf);
    mbedtls_x509_crt_free(&ctx->ca);
    mbedtls_x509_crt_free(&ctx->cert);
    mbedtls_pk_free(&ctx->key);
    mbedtls_ctr_drbg_free(&ctx->drbg);
    mbedtls_entropy_free(&ctx->entropy);
    free(ctx->server_name);
    for (size_t i = 0; i < MQTLS_ALPN_MAX && ctx->alpn[i] != NULL; i++) {
        free((void *)(uintptr_t)ctx->alpn[i]);
    }
    free(ctx);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

static mqtls_status_t ctx_setup(mqtls__tls_ctx_t *ctx, const mqtls_tls_cfg_t *cfg,
                                mqtls_error_t *err)
{
    /* The profile the server chain is verified against (tls.h), checked first so that a typo
     * fails before any file is read. The profile is static data: nothing to copy or free. */
    const mbedtls_x509_crt_profile *profile = mqtls__tls_profile_by_name(cfg->profile);
    if (profile == NULL) {
        char names[160] = "";
        size_t used = 0;
        for (size_t i = 0; i < mqtls__tls_profile_count(); i++) {
            int n = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "",
                             mqtls__tls_profile_name_at(i));
            if (n < 0 || (size_t)n >= sizeof names - used) {
                break;
            }
            used += (size_t)n;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "unknown X.509 profile '%.32s' (known: %s)", cfg->profile, names);
    }
    static const char pers[] = "mqtls";
    int ret = mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func, &ctx->entropy,
                                    (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0) {
        if (err != NULL) {
            err->mbedtls_ret = ret;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "seeding the RNG failed (-0x%04X)", (unsigned)-ret);
    }
    mqtls_status_t st = mqtls__creds_load(ctx, cfg, err);
    if (st != MQTLS_OK) {
        return st;
    }
    ret = mbedtls_ssl_config_defaults(&ctx->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_config_defaults -0x%04X", (unsigned)-ret);
    }
    st = mqtls__compat_set_versions(&ctx->conf, cfg->min_version, cfg->max_version, err);
    if (st != MQTLS_OK) {
        return st;
    }
    mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->drbg);
    /* Applies to the chain the server presents (BAD_MD / BAD_PK / BAD_KEY), not to our own
     * certificate, exactly as on a device configured with the same profile. */
    mbedtls_ssl_conf_cert_profile(&ctx->conf, profile);
    /* DESIGN.md: verification on by default; `insecure` is explicit (and loud, upstairs). */
    ctx->insecure = cfg->insecure;
    ctx->no_hostname_check = cfg->no_hostname_check;
    if (!cfg->insecure && !ctx->has_ca &&
        mbedtls_x509_crt_parse_file(&ctx->ca, MQTLS_SYSTEM_CA_FILE) >= 0 && ctx->ca.version != 0) {
        ctx->has_ca = true; /* like curl: the system store when no CA is given */
    }
    if (!cfg->insecure && !ctx->has_ca) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "no trusted CA given (ca_file, ca_path or ca_buf): the server "
                               "cannot be verified");
    }
    mbedtls_ssl_conf_authmode(&ctx->conf, cfg->insecure ? MBEDTLS_SSL_VERIFY_NONE
                                                        : MBEDTLS_SSL_VERIFY_REQUIRED);
    if (ctx->has_ca) {
        mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
    }
    if (ctx->has_cert) {
        ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                                   "mbedtls_ssl_conf_own_cert -0x%04X", (unsigned)-ret);
        }
    }
    ctx->resumption = !cfg->no_session_resumption;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&ctx->conf, ctx->resumption
                                                     ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                     : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    if (cfg->server_name != NULL) {
        ctx->server_name = dup_str(cfg->server_name);
        if (ctx->server_name == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "server_name");
        }
    }
    if (cfg->alpn != NULL && cfg->alpn[0] != NULL) {
        size_t i = 0;
        for (; cfg->alpn[i] != NULL; i++) {
            if (i == MQTLS_ALPN_MAX) {
                return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                       "more than %d ALPN protocols", MQTLS_ALPN_MAX);
            }
            ctx->alpn[i] = dup_str(cfg->alpn[i]);
            if (ctx->alpn[i] == NULL) {
                return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "alpn");
            }
        }
        ctx->alpn[i] = NULL;
        ret = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, ctx->alpn);
        if (ret != 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "ALPN list rejected by mbedTLS (-0x%04X)", (unsigned)-ret);
        }
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__tls_ctx_create(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err,
                                     mqtls__tls_ctx_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (cfg == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tls: no configuration");
    }
    mqtls__tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    mbedtls_ssl_config_init(&ctx->conf);
    mbedtls_entropy_init(&ctx->entropy);
    mbedtls_ctr_drbg_init(&ctx->drbg);
    mbedtls_x509_crt_init(&ctx->ca);
    mbedtls_x509_crt_init(&ctx->cert);
    mbedtls_pk_init(&ctx->key);
    ctx->gather_flights = true;
    mqtls_status_t st = ctx_setup(ctx, cfg, err);
    if (st != MQTLS_OK) {
        mqtls__tls_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return MQTLS_OK;
}

/* ---- test hook ------------------------------------------------------------------------- */

bool mqtls__tls_parse_records(mqtls_tls_facts_t *facts, const uint8_t *const *chunks,
                              const size_t *lens, size_t count)
{
    recparse_t rp;
    memset(&rp, 0, sizeof rp);
    rp.facts = facts;
    rp.hs = malloc(HS_BUF_CAP);
    if (rp.hs == NULL) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        ok = rp_feed(&rp, chunks[i], lens[i]);
    }
    free(rp.hs);
    return ok;
}
