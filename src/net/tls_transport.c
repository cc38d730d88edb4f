/* The mbedTLS engine's connection (tls_engine.h conn_create; the contract is net.h's
 * mqtls__tls_create), stacked on any inner transport through custom BIO callbacks. Besides the
 * handshake it records the facts src/diag needs (tls.h): the records the server sends go
 * through the record parser (tls_records.c), TLS 1.3's encrypted handshake messages are read
 * decrypted after each handshake step, the verify callback keeps per-depth flags and does the
 * iPAddress SAN match mbedTLS < 3.5 cannot (src/x509/asn1.c). Never blocks: after a failed
 * handshake it drains a late alert as a state of connect() (MQTLS__TLS_DRAIN). TLS-protocol version
 * differences live in mbedtls_compat.c. The engine's judge_chain (a device's verdict on a
 * chain another engine received) is here too: it shares the verify callback. */
#include "tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform_util.h"

#include "net/tls_io.h"
#include "net/tls_records.h"
#include "x509/asn1.h"
#include "x509/compat.h"

/* How a chain is verified: by a connection (tls_t) or by judge_chain() for another engine. */
typedef struct verifier {
    mqtls_tls_facts_t *facts;
    bool check_ip; /* match the iPAddress SAN ourselves (mbedTLS < 3.5) */
    const uint8_t *ip;
    size_t ip_len;
    bool no_hostname_check;
    const mqtls__tls_conn_cfg_t *cc; /* a connection's: mqtls__tls_after_verify() at depth 0 */
} verifier_t;

typedef struct tls {
    mqtls__tls_conn_t c; /* first: the transport, its state, tls_io, the early data */
    mqtls__tls_ectx_t *ctx;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_session saved;
    bool has_saved;
    bool check_ip; /* match the iPAddress SAN ourselves (mbedTLS < 3.5) */
    uint8_t ip[16];
    size_t ip_len;
    int fail_ret; /* DRAIN: what the handshake failed with */
    verifier_t verifier;
    uint64_t last_hs_msg; /* the decrypted handshake message seen last (TLS 1.3) */
    bool ticket_seen;     /* TLS 1.3: a NewSessionTicket arrived on this connection */
    size_t in_buf_full;   /* mbedTLS's input record buffer as mbedtls_ssl_setup() made it */
} tls_t;

/* ---- BIO: mbedTLS's conventions over tls_io ------------------------------------------ */

static int io_to_bio(tls_t *t, long n, int would_block)
{
    if (n >= 0) {
        return (int)n;
    }
    if (n == MQTLS__IO_WANT_READ) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n == MQTLS__IO_WANT_WRITE) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (t->c.io.io_status == MQTLS_ERR_CONN_RESET) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    return would_block == MBEDTLS_ERR_SSL_WANT_WRITE ? MBEDTLS_ERR_NET_SEND_FAILED
                                                     : MBEDTLS_ERR_NET_RECV_FAILED;
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    tls_t *t = p;
    return io_to_bio(t, mqtls__tls_io_send(&t->c.io, buf, len), MBEDTLS_ERR_SSL_WANT_WRITE);
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    tls_t *t = p;
    return io_to_bio(t, mqtls__tls_io_recv(&t->c.io, buf, len), MBEDTLS_ERR_SSL_WANT_READ);
}

/* ---- verification ---------------------------------------------------------------------- */

/* Records per-depth flags and a DER copy; never aborts (diag explains, policy decides). */
static int on_verify(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const verifier_t *v = p;
    mqtls_tls_facts_t *f = v->facts;
    if (depth == 0 && v->check_ip) {
        /* mbedTLS < 3.5 was given no hostname for an IP literal (no SNI, RFC 6066 3): the
         * name check is ours. */
        if (mqtls__x509_crt_has_ip_san(crt, v->ip, v->ip_len)) {
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
            f->ip_san_matched_by_us = true;
        } else {
            *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
        }
    }
    if (depth == 0 && v->no_hostname_check) {
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
    if (v->cc != NULL && v->cc->judge != NULL) {
        /* A device's mbedTLS judges instead: only its flags count (depth 0 comes last). */
        *flags = 0;
    }
    if (depth == 0 && v->cc != NULL) {
        /* The server's chain as it sent it: the leaf and what followed it. */
        const uint8_t *der[MQTLS__MAX_CHAIN_DEPTH];
        size_t len[MQTLS__MAX_CHAIN_DEPTH];
        size_t n = 0;
        for (const mbedtls_x509_crt *x = crt; x != NULL && n < MQTLS__MAX_CHAIN_DEPTH;
             x = x->next) {
            der[n] = x->raw.p;
            len[n++] = x->raw.len;
        }
        uint32_t merged = 0;
        for (size_t i = 0; i < f->chain_len; i++) {
            merged |= f->chain[i].flags;
        }
        uint32_t verdict = merged;
        mqtls__tls_after_verify(v->cc, der, len, n, &verdict);
        if (v->cc->judge != NULL) {
            *flags = verdict;
        } else if (f->pin_mismatch) {
            *flags |= MBEDTLS_X509_BADCERT_OTHER; /* fails the handshake: no pin matched */
        }
    }
    return 0;
}

/* Is @p name an IP literal? Its bytes in @p ip (16), their count in *len (0: a name). */
static void parse_ip(const char *name, uint8_t ip[16], size_t *len)
{
    if (inet_pton(AF_INET, name, ip) == 1) {
        *len = 4;
    } else if (inet_pton(AF_INET6, name, ip) == 1) {
        *len = 16;
    } else {
        *len = 0;
    }
}

uint32_t mqtls__tls_mbed_judge_chain(mqtls__tls_ectx_t *ctx, const uint8_t *const *der,
                                     const size_t *len, size_t count, const char *host,
                                     mqtls_tls_facts_t *out)
{
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    for (size_t i = 0; i < count; i++) {
        /* As a handshake parses the server's Certificate message: every certificate must. */
        if (mbedtls_x509_crt_parse_der(&chain, der[i], len[i]) != 0) {
            mbedtls_x509_crt_free(&chain);
            /* The device could not even read it (e.g. an Ed25519 key): the facts keep the
             * chain as the server sent it, the unreadable certificate flagged, so that
             * diagnosis looks at the server's certificates, not at an empty chain. */
            uint32_t bad = MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_OTHER;
            for (size_t k = 0; k < count && k < MQTLS__MAX_CHAIN_DEPTH; k++) {
                mqtls_cert_fact_t *c = &out->chain[k];
                free(c->der);
                c->der = malloc(len[k] > 0 ? len[k] : 1);
                c->der_len = c->der != NULL ? len[k] : 0;
                if (c->der != NULL) {
                    memcpy(c->der, der[k], c->der_len);
                }
                c->flags = k == i ? bad : 0;
                out->chain_len = k + 1;
            }
            return bad;
        }
    }
    uint8_t ip[16];
    size_t ip_len = 0;
    if (host != NULL) {
        parse_ip(host, ip, &ip_len);
    }
    verifier_t v = {.facts = out,
                    .check_ip = ip_len > 0 && !mqtls__x509_lib_matches_ip_san(),
                    .ip = ip,
                    .ip_len = ip_len};
    uint32_t flags = 0;
    (void)mbedtls_x509_crt_verify_with_profile(&chain, ctx->has_ca ? &ctx->ca : NULL, NULL,
                                               &ctx->profile, v.check_ip ? NULL : host, &flags,
                                               on_verify, &v);
    /* What the TLS layer adds (mbedtls_ssl_check_cert_usage() for a server's leaf under the
     * ECDHE suites and TLS 1.3 mqtls offers): digitalSignature, and serverAuth. */
    uint32_t usage = 0;
    if (mbedtls_x509_crt_check_key_usage(&chain, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0) {
        usage |= MBEDTLS_X509_BADCERT_KEY_USAGE;
    }
    if (mbedtls_x509_crt_check_extended_key_usage(&chain, MBEDTLS_OID_SERVER_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != 0) {
        usage |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    }
    if (out->chain_len > 0) {
        out->chain[0].flags |= usage;
    }
    mbedtls_x509_crt_free(&chain);
    return flags | usage;
}

/* ---- transport ---------------------------------------------------------------------------- */

static mqtls_status_t start_handshake(tls_t *t)
{
    int ret = mbedtls_ssl_session_reset(&t->ssl);
    if (ret != 0) {
        return mqtls__net_fail(t->c.base.err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_session_reset -0x%04X", (unsigned)-ret);
    }
    const char *name = t->ctx->server_name != NULL ? t->ctx->server_name : t->c.host;
    mqtls__tls_copy_str(t->c.facts->server_name, sizeof t->c.facts->server_name, name);
    t->check_ip = false;
    parse_ip(name, t->ip, &t->ip_len);
    if (t->ip_len > 0 && !mqtls__x509_lib_matches_ip_san()) {
        ret = mbedtls_ssl_set_hostname(&t->ssl, NULL); /* no SNI, no CN compare */
        t->check_ip = !t->ctx->insecure;
    } else {
        ret = mbedtls_ssl_set_hostname(&t->ssl, name);
    }
    if (ret != 0) {
        return mqtls__net_fail(t->c.base.err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_set_hostname -0x%04X", (unsigned)-ret);
    }
    /* PSK: no certificate, so no name to check (ctx->no_hostname_check is set too). */
    t->c.facts->hostname_checked = !t->ctx->insecure && !t->ctx->no_hostname_check;
    t->c.facts->insecure = t->ctx->insecure;
    t->c.facts->psk = t->ctx->psk;
    t->c.facts->engine = MQTLS__MBEDTLS_ENGINE_NAME;
    t->verifier = (verifier_t){.facts = t->c.facts,
                               .check_ip = t->check_ip,
                               .ip = t->ip,
                               .ip_len = t->ip_len,
                               .no_hostname_check = t->ctx->no_hostname_check,
                               .cc = &t->c.cc};
    mbedtls_ssl_set_verify(&t->ssl, on_verify, &t->verifier);
    if (t->has_saved && t->ctx->resumption) {
        t->c.facts->session_offered = mbedtls_ssl_set_session(&t->ssl, &t->saved) == 0;
    }
    mqtls__tls_io_start(&t->c.io, t->ctx->gather_flights);
    t->last_hs_msg = 0;
    t->c.hs_start_ms = mqtls__net_now_ms();
    t->c.state = MQTLS__TLS_HANDSHAKE;
    return MQTLS_OK;
}

/* TLS 1.3 encrypts everything after the ServerHello: the record parser sees ciphertext. The
 * message mbedTLS holds after each step is plaintext: the server's Certificate and
 * CertificateRequest reach the facts that way (each message once). */
static void note_hs_message(tls_t *t)
{
    uint8_t type = 0;
    const uint8_t *body = NULL;
    size_t len = 0;
    uint64_t key = 0;
    if (!mqtls__compat_is_tls13(&t->ssl) ||
        !mqtls__compat_current_hs_msg(&t->ssl, &type, &body, &len, &key) || key == t->last_hs_msg) {
        return;
    }
    t->last_hs_msg = key;
    mqtls__tls_records_on_message13(&t->c.io.rp, type, body, len);
}

/* mbedtls_ssl_handshake(), one step at a time (what it does inside), to see each message. */
static int handshake_steps(tls_t *t)
{
    while (!mqtls__compat_handshake_over(&t->ssl)) {
        int ret = mbedtls_ssl_handshake_step(&t->ssl);
        note_hs_message(t);
        if (ret != 0) {
            return ret;
        }
    }
    return 0;
}

/* The failure of handshake attempt @p ret as a status, with its details in err. */
static mqtls_status_t handshake_report(tls_t *t, int ret)
{
    mqtls_error_t *err = t->c.base.err;
    /* Our own fatal alert (e.g. bad_certificate after a failed verification) may still sit in
     * the gathered flight: send it, best effort and without blocking, so that the broker logs
     * why we left. Its outcome must not replace the handshake's error. */
    mqtls__tls_io_flush_quietly(&t->c.io);
    t->c.state = MQTLS__TLS_FAILED;
    t->c.want = 0;
    mqtls_status_t st = mqtls__tls_io_fail_not_tls(&t->c.io);
    if (st != MQTLS_OK) {
        return st;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        return mqtls__tls_io_fail_verify(&t->c.io, mbedtls_ssl_get_verify_result(&t->ssl));
    }
    st = mqtls__tls_io_fail_peer(&t->c.io);
    if (st != MQTLS_OK) {
        return st;
    }
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    const char *why = mqtls__tls_io_close_why(&t->c.io);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE,
                           err != NULL ? err->sys_errno : 0, "%s (-0x%04X)",
                           why != NULL ? why : text, (unsigned)-ret);
}

/* Read what the peer still sent after the failure, without blocking: a fatal alert often sits
 * behind the reset mbedTLS 2.28 reports. WOULD_BLOCK (want READ) until the alert is in, the peer
 * closes, or @p now_ms reaches the deadline; then the failure is reported. */
static mqtls_status_t drain_for_alert(tls_t *t, int64_t now_ms)
{
    if (mqtls__tls_io_drain(&t->c.io, now_ms) == MQTLS_ERR_WOULD_BLOCK) {
        t->c.want = MQTLS_WANT_READ;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    return handshake_report(t, t->fail_ret);
}

static mqtls_status_t handshake_failed(tls_t *t, int ret, int64_t now_ms)
{
    mqtls_tls_facts_t *f = t->c.facts;
    f->handshake_ret = ret;
    if (f->alert_sent < 0 && mqtls__compat_is_tls13(&t->ssl)) {
        /* Our alert went out encrypted: the record parser could not see it. */
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        f->alert_sent =
            (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 && flags != (uint32_t)-1)
                ? mqtls__tls_alert_for_flags(flags)
                : mqtls__compat_sent_alert(&t->ssl, ret);
    }
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - t->c.hs_start_ms);
    if (t->c.base.err != NULL) {
        t->c.base.err->mbedtls_ret = ret;
    }
    if (f->peer_not_tls || ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || f->alert_received >= 0) {
        return handshake_report(t, ret);
    }
    f->alert_received = mqtls__compat_peer_alert(&t->ssl);
    if (f->alert_received >= 0 || t->c.io.rp.stopped) {
        return handshake_report(t, ret);
    }
    t->fail_ret = ret;
    t->c.io.drain_deadline_ms = now_ms + MQTLS__TLS_DRAIN_MS;
    t->c.state = MQTLS__TLS_DRAIN;
    return drain_for_alert(t, now_ms);
}

/* Keep the session for the next connect (TLS 1.2 at once; TLS 1.3 when a ticket arrives). */
static void save_session(tls_t *t)
{
    if (!t->ctx->resumption || !mqtls__compat_session_saveable(&t->ssl, t->ticket_seen)) {
        return;
    }
    mbedtls_ssl_session_free(&t->saved);
    mbedtls_ssl_session_init(&t->saved);
    t->has_saved = mbedtls_ssl_get_session(&t->ssl, &t->saved) == 0;
}

/* mbedtls_ssl_read() / _write() returned "call again"; a TLS 1.3 NewSessionTicket (RFC 8446
 * 4.6.1) is saved for the next connect. 3.6 finishes a ticket it started on in any call. */
static bool read_again(tls_t *t, int ret)
{
    bool ticket = false;
    if (!mqtls__compat_read_again(ret, &ticket)) {
        return false;
    }
    if (ticket) {
        t->ticket_seen = true;
        save_session(t);
    }
    return true;
}

static void handshake_done(tls_t *t)
{
    mqtls_tls_facts_t *f = t->c.facts;
    f->handshake_ret = 0;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - t->c.hs_start_ms);
    f->verify_flags = mbedtls_ssl_get_verify_result(&t->ssl);
    if (t->ctx->insecure) {
        f->verify_flags = 0; /* nothing was verified: flags would be "not verified" noise */
    }
    f->tls_version = mqtls__compat_tls_version(&t->ssl);
    mqtls__tls_copy_str(f->ciphersuite, sizeof f->ciphersuite,
                        mbedtls_ssl_get_ciphersuite(&t->ssl));
    /* TLS 1.2 abbreviated handshake (RFC 5246 7.3): no ServerHelloDone. TLS 1.3 resumption
     * (RFC 8446 2.2): the server accepted our ticket, so it sent no Certificate. */
    bool tls13 = mqtls__compat_is_tls13(&t->ssl);
    f->session_resumed = f->session_offered && f->server_hello_seen &&
                         (tls13 ? !t->c.io.rp.saw_certificate : !t->c.io.rp.saw_server_hello_done);
    if (tls13 && f->cert_requested) {
        /* Our Certificate is encrypted too: mbedTLS sends ours when it has one. */
        f->client_cert_sent = t->ctx->has_cert;
    }
    if (f->max_fragment_len == 0) {
        /* No max_fragment_length agreed (none asked, or the server ignored ours: RFC 6066
         * lets it): its records may be 16 KiB long, whatever mbedTLS shrank its buffer to.
         * With one agreed, the short buffer is the saving (docs/tls-engines.md). */
        mqtls__compat_restore_in_buf(&t->ssl, t->in_buf_full);
    }
    mqtls__tls_io_established(&t->c.io);
    t->ticket_seen = false;
    save_session(t);
}

static mqtls_status_t map_io_ret(tls_t *t, int ret);

/* VERDICT: read until the broker says what it thinks of our certificate (tls_io.h). */
static mqtls_status_t await_verdict(tls_t *t, int64_t now_ms)
{
    for (int tries = 0; tries < 8; tries++) {
        t->c.io.io_status = MQTLS_OK;
        int ret = mbedtls_ssl_read(&t->ssl, t->c.early, sizeof t->c.early);
        if (ret > 0) {
            t->c.early_len = (size_t)ret; /* the broker spoke first */
            t->c.early_off = 0;
        } else if (read_again(t, ret)) {
            if (!t->ticket_seen) {
                continue;
            }
        } else if (ret == MBEDTLS_ERR_SSL_WANT_READ && now_ms < t->c.verdict_deadline_ms) {
            t->c.want = MQTLS_WANT_READ;
            return MQTLS_ERR_WOULD_BLOCK;
        } else if (ret != MBEDTLS_ERR_SSL_WANT_READ) {
            return mqtls__tls_conn_refused(&t->c, map_io_ret(t, ret));
        }
        mqtls__tls_conn_accepted(&t->c, &t->ctx->cert_accepted, ret > 0 || t->ticket_seen);
        return MQTLS_OK;
    }
    t->c.want = MQTLS_WANT_READ;
    return MQTLS_ERR_WOULD_BLOCK;
}

static mqtls_status_t tls_connect(mqtls_transport_t *base, int64_t now_ms)
{
    tls_t *t = (tls_t *)base;
    mqtls_status_t st = MQTLS_OK;
    switch (t->c.state) {
    case MQTLS__TLS_FAILED:
    case MQTLS__TLS_IDLE:
    case MQTLS__TLS_INNER:
        st = mqtls__tls_conn_begin(&t->c, now_ms);
        if (st == MQTLS_OK) {
            st = start_handshake(t);
        }
        if (st != MQTLS_OK) {
            t->c.state = st == MQTLS_ERR_WOULD_BLOCK ? t->c.state : MQTLS__TLS_FAILED;
            return st;
        }
        /* fall through */
    case MQTLS__TLS_HANDSHAKE: {
        int ret = handshake_steps(t);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            t->c.want = ret == MBEDTLS_ERR_SSL_WANT_READ ? MQTLS_WANT_READ : MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (ret != 0) {
            return handshake_failed(t, ret, now_ms);
        }
        handshake_done(t);
        t->c.state = MQTLS__TLS_FLUSH;
    }
        /* fall through */
    case MQTLS__TLS_FLUSH:
        st = mqtls__tls_conn_finish(&t->c, now_ms,
                                    mqtls__compat_is_tls13(&t->ssl) && t->c.facts->cert_requested &&
                                        !atomic_load(&t->ctx->cert_accepted) &&
                                        !t->c.facts->session_resumed);
        if (st != MQTLS_OK || t->c.state != MQTLS__TLS_VERDICT) {
            return st;
        }
        /* fall through */
    case MQTLS__TLS_VERDICT:
        return await_verdict(t, now_ms);
    case MQTLS__TLS_OPEN:
        return MQTLS_OK;
    case MQTLS__TLS_DRAIN:
        return drain_for_alert(t, now_ms);
    }
    return MQTLS_ERR_STATE;
}

static mqtls_status_t map_io_ret(tls_t *t, int ret)
{
    mqtls_error_t *err = t->c.base.err;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        t->c.want = mqtls__tls_conn_want_rw(&t->c);
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        t->c.want = MQTLS_WANT_WRITE;
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
        t->c.facts->alert_received = alert;
        if (err != NULL) {
            err->tls_alert = (int16_t)alert;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 0,
                               "server sent fatal alert %d (%s)", alert,
                               mqtls_tls_alert_name(alert));
    }
    if (t->c.io.io_status != MQTLS_OK) {
        mqtls_status_t st = t->c.io.io_status;
        t->c.io.io_status = MQTLS_OK;
        return st; /* the inner transport recorded the details */
    }
    if (ret == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE && mqtls__compat_is_key_update(&t->ssl)) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 0,
                               "the server sent a TLS 1.3 KeyUpdate, which mbedTLS %s does not "
                               "implement (RFC 8446 4.6.3): the connection is lost (-0x%04X). "
                               "An ESP-IDF 5 device fails the same way; the openssl engine "
                               "handles it",
                               mqtls__compat_version(), (unsigned)-ret);
    }
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 0, "-0x%04X %s", (unsigned)-ret,
                           text);
}

static mqtls_status_t tls_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    tls_t *t = (tls_t *)base;
    mqtls_status_t st = mqtls__tls_conn_read_prepare(&t->c, buf, cap, got);
    if (st != MQTLS_ERR_WOULD_BLOCK) {
        return st;
    }
    int ret = 0;
    for (int tries = 0; tries < 8; tries++) {
        t->c.io.io_status = MQTLS_OK;
        ret = mbedtls_ssl_read(&t->ssl, buf, cap);
        if (ret > 0) {
            *got = (size_t)ret;
            return MQTLS_OK;
        }
        if (!read_again(t, ret)) {
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
    int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
    const uint8_t *data = NULL;
    size_t n = 0;
    mqtls_status_t st = mqtls__tls_conn_write_prepare(
        &t->c, iov, iov_count, max > 0 ? (size_t)max : 16384u, &data, &n);
    if (st != MQTLS_OK || n == 0) {
        return st;
    }
    int ret = 0;
    for (int tries = 0; tries < 8; tries++) {
        t->c.io.io_status = MQTLS_OK;
        ret = mbedtls_ssl_write(&t->ssl, data, n);
        if (ret > 0) {
            *sent = (size_t)ret;
            t->c.want = mqtls__tls_conn_want_rw(&t->c);
            return MQTLS_OK;
        }
        if (!read_again(t, ret)) {
            break;
        }
    }
    return map_io_ret(t, ret);
}

static size_t tls_pending(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    if (t->c.state != MQTLS__TLS_OPEN) {
        return 0;
    }
    size_t n = mbedtls_ssl_get_bytes_avail(&t->ssl) + (t->c.early_len - t->c.early_off);
    if (n == 0 && mbedtls_ssl_check_pending(&t->ssl)) {
        n = 1; /* a whole record is buffered but not decrypted yet */
    }
    return n + t->c.inner->ops->pending(t->c.inner);
}

static void tls_close(mqtls_transport_t *base)
{
    tls_t *t = (tls_t *)base;
    if (t->c.state == MQTLS__TLS_OPEN) {
        /* Best effort, one try: an orderly close_notify (RFC 5246 7.2.1). */
        (void)mbedtls_ssl_close_notify(&t->ssl);
        (void)mqtls__tls_io_flush(&t->c.io);
    }
    mqtls__tls_conn_closed(&t->c);
}

static void tls_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    tls_t *t = (tls_t *)base;
    if (t->c.inner != NULL) {
        tls_close(base);
        t->c.inner->ops->destroy(t->c.inner);
    }
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_session_free(&t->saved);
    mqtls__tls_conn_free(&t->c);
    free(t);
}

static const mqtls_transport_ops_t tls_ops = {
    .name = "tls",
    .connect = tls_connect,
    .read = tls_read,
    .writev = tls_writev,
    .pending = tls_pending,
    .fd = mqtls__tls_conn_fd,
    .want = mqtls__tls_conn_want,
    .close = tls_close,
    .destroy = tls_destroy,
    .wake_at = mqtls__tls_conn_wake_at,
};

mqtls_status_t mqtls__tls_mbed_conn_create(mqtls__tls_ectx_t *ctx, const mqtls__tls_conn_cfg_t *cc,
                                           mqtls_transport_t *inner, mqtls_error_t *err,
                                           mqtls_transport_t **out)
{
    *out = NULL;
    tls_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    t->ctx = ctx;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_session_init(&t->saved);
    mqtls_status_t st = mqtls__tls_conn_init(&t->c, &tls_ops, cc, inner, err);
    if (st != MQTLS_OK) {
        tls_destroy(&t->c.base);
        return st;
    }
    int ret = mbedtls_ssl_setup(&t->ssl, &ctx->conf);
    if (ret != 0) {
        tls_destroy(&t->c.base);
        if (err != NULL) {
            err->mbedtls_ret = ret;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_SETUP, 0,
                               "mbedtls_ssl_setup -0x%04X", (unsigned)-ret);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->in_buf_full = mqtls__compat_in_buf_len(&t->ssl);
    *out = &t->c.base;
    return MQTLS_OK;
}
