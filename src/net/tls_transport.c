/* The TLS transport over mbedTLS (net.h: mqtls__tls_create), stacked on any inner transport
 * through custom BIO callbacks. Besides the handshake it records the facts src/diag needs
 * (tls.h): the records the server sends go through the record parser (tls_records.c), the
 * verify callback keeps per-depth flags and does the iPAddress SAN match mbedTLS < 3.5 cannot
 * (src/x509/asn1.c). Never blocks: after a failed handshake it drains a late alert as a state
 * of connect() (TLS_DRAIN). TLS-protocol version differences live in mbedtls_compat.c. */
#include "tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform_util.h"

#include "net/tls_records.h"
#include "x509/asn1.h"
#include "x509/compat.h"

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

typedef enum {
    TLS_IDLE,
    TLS_INNER,     /* inner transport connecting */
    TLS_HANDSHAKE, /* mbedtls_ssl_handshake() in progress */
    TLS_FLUSH,     /* handshake done, last flight still being written */
    TLS_OPEN,
    TLS_DRAIN,  /* handshake failed: reading a late alert, until DRAIN_MS have passed */
    TLS_FAILED, /* the failure has been reported; connect() starts over */
} tls_state_t;

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
    uint8_t *obuf;
    size_t olen;
    size_t ocap;
    mqtls_status_t io_status; /* last failure of the inner transport seen in the BIO */
    mqtls__tls_records_t rp;
    int fail_ret;              /* TLS_DRAIN: what mbedtls_ssl_handshake() failed with */
    int64_t drain_deadline_ms; /* TLS_DRAIN: report the failure by then (connect()'s clock) */
    int64_t hs_start_ms;
    uint8_t *plain; /* staging for coalesced writev, MQTLS_TLS_COALESCE_MAX bytes */
    size_t plain_cap;
} tls_t;

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
    mqtls__tls_records_note_outgoing(&t->rp, buf, len);
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
    if (!t->rp.stopped && !mqtls__tls_records_feed(&t->rp, buf, got)) {
        t->io_status = MQTLS_ERR_TLS_NOT_TLS;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)got;
}

/* ---- verification ---------------------------------------------------------------------- */

/* Records per-depth flags and a DER copy; never aborts (diag explains, policy decides). */
static int on_verify(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_t *t = p;
    mqtls_tls_facts_t *f = t->facts;
    if (depth == 0 && t->check_ip) {
        /* mbedTLS < 3.5 was given no hostname for an IP literal (no SNI, RFC 6066 3): the
         * name check is ours. */
        if (mqtls__x509_crt_has_ip_san(crt, t->ip, t->ip_len)) {
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
        c->der = malloc(crt->raw.len > 0 ? crt->raw.len : 1);
        c->der_len = c->der != NULL ? crt->raw.len : 0;
        if (c->der != NULL) {
            memcpy(c->der, crt->raw.p, c->der_len);
        }
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
    if (t->ip_len > 0 && !mqtls__x509_lib_matches_ip_san()) {
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
    t->facts->psk = t->ctx->psk;
    t->facts->hostname_checked = t->facts->hostname_checked && !t->ctx->psk;
    mbedtls_ssl_set_verify(&t->ssl, on_verify, t);
    if (t->has_saved && t->ctx->resumption) {
        t->facts->session_offered = mbedtls_ssl_set_session(&t->ssl, &t->saved) == 0;
    }
    /* Messages are parsed only while handshaking; without the buffer (no memory) the facts
     * lack the chain and the CertificateRequest, nothing else. */
    (void)mqtls__tls_records_reset(&t->rp, t->facts, true);
    t->io_status = MQTLS_OK;
    t->olen = 0;
    t->gathering = t->ctx->gather_flights;
    t->hs_start_ms = mqtls__net_now_ms();
    t->state = TLS_HANDSHAKE;
    return MQTLS_OK;
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

/* The failure of handshake attempt @p ret as a status, with its details in err. */
static mqtls_status_t handshake_report(tls_t *t, int ret)
{
    mqtls_tls_facts_t *f = t->facts;
    mqtls_error_t *err = t->base.err;
    /* Our own fatal alert (e.g. bad_certificate after a failed verification) may still sit in
     * the gathered flight: send it, best effort and without blocking, so that the broker logs
     * why we left. Its outcome must not replace the handshake's error. */
    if (t->olen > 0) {
        mqtls_error_t keep;
        if (err != NULL) {
            keep = *err;
        }
        (void)obuf_flush(t);
        if (err != NULL) {
            *err = keep;
        }
    }
    t->state = TLS_FAILED;
    t->want = 0;
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

/* Read what the peer still sent after the failure, without blocking: a fatal alert often sits
 * behind the reset mbedTLS 2.28 reports. WOULD_BLOCK (want READ) until the alert is in, the peer
 * closes, or @p now_ms reaches the deadline; then the failure is reported. */
static mqtls_status_t drain_for_alert(tls_t *t, int64_t now_ms)
{
    uint8_t buf[4096];
    for (int rounds = 0; rounds < 64 && t->facts->alert_received < 0 && !t->rp.stopped; rounds++) {
        size_t got = 0;
        mqtls_status_t st = t->inner->ops->read(t->inner, buf, sizeof buf, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK && now_ms < t->drain_deadline_ms) {
            t->want = MQTLS_WANT_READ;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (st != MQTLS_OK || got == 0 || !mqtls__tls_records_feed(&t->rp, buf, got)) {
            break; /* closed, reset, deadline passed, or not TLS after all */
        }
    }
    return handshake_report(t, t->fail_ret);
}

static mqtls_status_t handshake_failed(tls_t *t, int ret, int64_t now_ms)
{
    mqtls_tls_facts_t *f = t->facts;
    f->handshake_ret = ret;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - t->hs_start_ms);
    if (t->base.err != NULL) {
        t->base.err->mbedtls_ret = ret;
    }
    if (f->peer_not_tls || ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || f->alert_received >= 0) {
        return handshake_report(t, ret);
    }
    f->alert_received = mqtls__compat_peer_alert(&t->ssl);
    if (f->alert_received >= 0 || t->rp.stopped) {
        return handshake_report(t, ret);
    }
    t->fail_ret = ret;
    t->drain_deadline_ms = now_ms + DRAIN_MS;
    t->state = TLS_DRAIN;
    return drain_for_alert(t, now_ms);
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
    mqtls__tls_records_release(&t->rp);
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
        (void)mqtls__tls_records_reset(&t->rp, t->facts, false);
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
            return handshake_failed(t, ret, now_ms);
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
    case TLS_DRAIN:
        return drain_for_alert(t, now_ms);
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
    mqtls__tls_records_release(&t->rp);
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

/* While draining for a late alert, the runtime must call connect() again at the deadline even
 * if the silent peer never makes the socket readable. */
static int64_t tls_wake_at(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    return t->state == TLS_DRAIN ? t->drain_deadline_ms : mqtls__transport_wake_at(t->inner);
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
    .wake_at = tls_wake_at,
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
    (void)mqtls__tls_records_reset(&t->rp, facts, false);
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
