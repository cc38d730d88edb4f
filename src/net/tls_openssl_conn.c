/* The OpenSSL engine's connection (tls_openssl.h; the contract is net.h's mqtls__tls_create):
 * a BIO over the inner transport through tls_io.c (flights gathered into one send, the record
 * parser fed with what the server sends), the state machine of tls_io.h, and what OpenSSL
 * tells the facts: alerts and TLS 1.3's encrypted handshake messages from the message
 * callback, decrypted; the session for the next connect from the new-session callback; the
 * negotiated suite in mbedTLS's spelling. */
#include "tls_openssl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net/tls_io.h"
#include "net/tls_records.h"

#define OSSL_RECORD_MAX 16384u

typedef struct conn {
    mqtls__tls_conn_t c; /* first: the transport, its state, tls_io, the early data */
    mqtls__tls_ectx_t *ctx;
    mqtls__ossl_verify_t verify;
    SSL *ssl;
    BIO *bio;
    SSL_SESSION *saved;       /* what the next connect offers */
    int fail_code;            /* DRAIN: the failure's mbedTLS code */
    unsigned long fail_error; /* DRAIN: OpenSSL's first error */
    bool ticket_seen;         /* TLS 1.3 NewSessionTicket received: the broker accepted us */
} conn_t;

static BIO_METHOD *bio_method;

static int bio_write_cb(BIO *b, const char *buf, int len);
static int bio_read_cb(BIO *b, char *buf, int len);
static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr);
static int bio_create_cb(BIO *b);

void mqtls__ossl_bio_init(void)
{
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mqtls transport");
    if (bio_method != NULL) {
        (void)BIO_meth_set_write(bio_method, bio_write_cb);
        (void)BIO_meth_set_read(bio_method, bio_read_cb);
        (void)BIO_meth_set_ctrl(bio_method, bio_ctrl_cb);
        (void)BIO_meth_set_create(bio_method, bio_create_cb);
    }
}

BIO_METHOD *mqtls__ossl_bio_method(void)
{
    return bio_method;
}

/* ---- BIO: OpenSSL's conventions over tls_io ------------------------------------------------ */

static int bio_create_cb(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_write_cb(BIO *b, const char *buf, int len)
{
    conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0) {
        return -1;
    }
    long n = mqtls__tls_io_send(&c->c.io, (const uint8_t *)buf, (size_t)len);
    if (n >= 0) {
        return (int)n;
    }
    if (n == MQTLS__IO_WANT_WRITE) {
        BIO_set_retry_write(b);
    }
    return -1;
}

static int bio_read_cb(BIO *b, char *buf, int len)
{
    conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0) {
        return -1;
    }
    long n = mqtls__tls_io_recv(&c->c.io, (uint8_t *)buf, (size_t)len);
    if (n >= 0) {
        return (int)n; /* 0: EOF */
    }
    if (n == MQTLS__IO_WANT_READ) {
        BIO_set_retry_read(b);
    } else if (n == MQTLS__IO_WANT_WRITE) {
        BIO_set_retry_write(b);
    }
    return -1;
}

static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    conn_t *c = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: {
        /* The end of a flight: it leaves now, in one send. */
        BIO_clear_retry_flags(b);
        mqtls_status_t st = c != NULL ? mqtls__tls_io_flush(&c->c.io) : MQTLS_OK;
        if (st == MQTLS_OK) {
            return 1;
        }
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            BIO_set_retry_write(b);
        } else if (c != NULL) {
            c->c.io.io_status = st;
        }
        return -1;
    }
    case BIO_CTRL_WPENDING:
        return c != NULL ? (long)c->c.io.olen : 0;
    case BIO_CTRL_PUSH:
    case BIO_CTRL_POP:
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

/* ---- what the connection learns from OpenSSL -------------------------------------------- */

mqtls__ossl_verify_t *mqtls__ossl_conn_verify(SSL *ssl)
{
    conn_t *c = SSL_get_app_data(ssl);
    return c != NULL ? &c->verify : NULL;
}

int mqtls__ossl_new_session(SSL *ssl, SSL_SESSION *sess)
{
    conn_t *c = SSL_get_app_data(ssl);
    if (c == NULL || !c->ctx->resumption) {
        return 0;
    }
    SSL_SESSION_free(c->saved);
    c->saved = sess; /* returning 1 keeps the reference OpenSSL gave us */
    return 1;
}

/* Alerts both ways, and TLS 1.3's handshake messages (encrypted on the wire), decrypted. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    (void)version;
    (void)arg;
    conn_t *c = SSL_get_app_data(ssl);
    const uint8_t *b = buf;
    if (c == NULL) {
        return;
    }
    mqtls_tls_facts_t *f = c->c.facts;
    if (content_type == SSL3_RT_ALERT && len == 2 && b[0] == 2 /* fatal */) {
        if (write_p) {
            f->alert_sent = b[1];
        } else {
            f->alert_received = b[1];
        }
        return;
    }
    if (content_type != SSL3_RT_HANDSHAKE || len < 4 || SSL_version(ssl) != TLS1_3_VERSION) {
        return;
    }
    if (!write_p) {
        c->ticket_seen = c->ticket_seen || b[0] == 4 /* NewSessionTicket */;
        mqtls__tls_records_on_message13(&c->c.io.rp, b[0], b + 4, len - 4);
    } else if (b[0] == 11 /* Certificate */ && len >= 5) {
        /* ours: certificate_request_context<0..255>, then the list's 3-byte length */
        size_t pos = 5 + (size_t)b[4];
        f->client_cert_sent = pos + 3 <= len && (b[pos] | b[pos + 1] | b[pos + 2]) != 0;
    }
}

/* The suite as mbedTLS names it (IANA's name with dashes; TLS 1.3 suites "TLS1-3-..."), so that
 * the facts read the same whatever engine connected. */
static void suite_name(const SSL *ssl, char *out, size_t cap)
{
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    const char *iana = ci != NULL ? SSL_CIPHER_standard_name(ci) : NULL;
    if (iana == NULL || cap == 0) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return;
    }
    size_t o = 0;
    const char *p = iana;
    if (SSL_version(ssl) == TLS1_3_VERSION && strncmp(iana, "TLS_", 4) == 0) {
        (void)snprintf(out, cap, "TLS1-3-");
        o = strlen(out);
        p = iana + 4;
    }
    for (; *p != '\0' && o + 1 < cap; p++) {
        out[o++] = *p == '_' ? '-' : *p;
    }
    out[o] = '\0';
}

/* ---- the transport -------------------------------------------------------------------------- */

static bool is_ip_literal(const char *s)
{
    ASN1_OCTET_STRING *o = a2i_IPADDRESS(s);
    bool yes = o != NULL;
    ASN1_OCTET_STRING_free(o);
    ERR_clear_error();
    return yes;
}

static mqtls_status_t start_handshake(conn_t *c)
{
    SSL_free(c->ssl); /* a fresh SSL per attempt (the BIO goes with it) */
    c->ssl = SSL_new(c->ctx->ssl_ctx);
    c->bio = c->ssl != NULL ? BIO_new(bio_method) : NULL;
    if (c->bio == NULL) {
        return mqtls__ossl_setup_fail(c->c.base.err, "SSL_new");
    }
    BIO_set_data(c->bio, c);
    SSL_set_bio(c->ssl, c->bio, c->bio);
    SSL_set_app_data(c->ssl, c);
    SSL_set_msg_callback(c->ssl, msg_cb);
    const char *name = c->ctx->server_name != NULL ? c->ctx->server_name : c->c.host;
    mqtls_tls_facts_t *f = c->c.facts;
    mqtls__tls_copy_str(f->server_name, sizeof f->server_name, name);
    bool ip = is_ip_literal(name);
    bool ok = true;
    if (!ip) {
        ok = SSL_set_tlsext_host_name(c->ssl, name) == 1; /* IPs get no SNI (RFC 6066 3) */
    }
    if (ok && !c->ctx->insecure && !c->ctx->no_hostname_check) {
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) == 1
                : SSL_set1_host(c->ssl, name) == 1;
    }
    if (!ok) {
        return mqtls__ossl_setup_fail(c->c.base.err, "server name");
    }
    f->hostname_checked = !c->ctx->insecure && !c->ctx->no_hostname_check;
    f->insecure = c->ctx->insecure;
    f->psk = c->ctx->psk;
    f->engine = mqtls__tls_engine_openssl.name;
    c->verify = (mqtls__ossl_verify_t){.ctx = c->ctx, .cc = &c->c.cc};
    c->ticket_seen = false;
    if (c->saved != NULL && c->ctx->resumption) {
        f->session_offered = SSL_set_session(c->ssl, c->saved) == 1;
    }
    ERR_clear_error();
    mqtls__tls_io_start(&c->c.io, c->ctx->gather_flights);
    c->c.hs_start_ms = mqtls__net_now_ms();
    c->c.state = MQTLS__TLS_HANDSHAKE;
    return MQTLS_OK;
}

/* The mbedTLS code of a failed handshake: the outcome, in the numbers diagnosis reads. */
static int failure_code(const conn_t *c, unsigned long e)
{
    const mqtls_tls_facts_t *f = c->c.facts;
    if (c->verify.done && c->verify.flags != 0) {
        return MQTLS__MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    if (f->alert_received >= 0) {
        return MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
    }
    int reason = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
        (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
         reason == SSL_R_WRONG_VERSION_NUMBER)) {
        return MQTLS__MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION;
    }
    if (c->c.io.io_status == MQTLS_ERR_CLOSED ||
        (ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        return MQTLS__MBEDTLS_ERR_SSL_CONN_EOF;
    }
    if (c->c.io.io_status == MQTLS_ERR_CONN_RESET) {
        return MQTLS__MBEDTLS_ERR_NET_CONN_RESET;
    }
    if (c->c.io.io_status != MQTLS_OK) {
        return MQTLS__MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return MQTLS__MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE;
}

static mqtls_status_t handshake_report(conn_t *c)
{
    mqtls_error_t *err = c->c.base.err;
    mqtls__tls_io_flush_quietly(&c->c.io); /* our fatal alert, best effort */
    c->c.state = MQTLS__TLS_FAILED;
    c->c.want = 0;
    mqtls_status_t st = mqtls__tls_io_fail_not_tls(&c->c.io);
    if (st != MQTLS_OK) {
        return st;
    }
    if (c->verify.done && c->verify.flags != 0) {
        return mqtls__tls_io_fail_verify(&c->c.io, c->verify.flags);
    }
    st = mqtls__tls_io_fail_peer(&c->c.io);
    if (st != MQTLS_OK) {
        return st;
    }
    char text[160];
    if (c->fail_error != 0) {
        ERR_error_string_n(c->fail_error, text, sizeof text);
    } else {
        (void)snprintf(text, sizeof text, "handshake failed");
    }
    const char *why = mqtls__tls_io_close_why(&c->c.io);
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE,
                           err != NULL ? err->sys_errno : 0, "%s (OpenSSL: %s)",
                           why != NULL ? why : "TLS handshake failed", text);
}

static mqtls_status_t drain_for_alert(conn_t *c, int64_t now_ms)
{
    if (mqtls__tls_io_drain(&c->c.io, now_ms) == MQTLS_ERR_WOULD_BLOCK) {
        c->c.want = MQTLS_WANT_READ;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (c->c.facts->alert_received >= 0) {
        c->fail_code = MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
        c->c.facts->handshake_ret = c->fail_code;
        if (c->c.base.err != NULL) {
            c->c.base.err->mbedtls_ret = c->fail_code;
        }
    }
    return handshake_report(c);
}

static mqtls_status_t handshake_failed(conn_t *c, int64_t now_ms)
{
    mqtls_tls_facts_t *f = c->c.facts;
    unsigned long e = ERR_peek_error();
    c->fail_error = e;
    ERR_clear_error();
    c->fail_code = failure_code(c, e);
    f->handshake_ret = c->fail_code;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - c->c.hs_start_ms);
    if (c->c.base.err != NULL) {
        c->c.base.err->mbedtls_ret = c->fail_code;
    }
    if (f->peer_not_tls || (c->verify.done && c->verify.flags != 0) || f->alert_received >= 0 ||
        c->c.io.rp.stopped) {
        return handshake_report(c);
    }
    c->c.io.drain_deadline_ms = now_ms + MQTLS__TLS_DRAIN_MS;
    c->c.state = MQTLS__TLS_DRAIN;
    return drain_for_alert(c, now_ms);
}

static void handshake_done(conn_t *c)
{
    mqtls_tls_facts_t *f = c->c.facts;
    f->handshake_ret = 0;
    f->handshake_ms = (uint32_t)(mqtls__net_now_ms() - c->c.hs_start_ms);
    f->verify_flags = c->ctx->insecure ? 0 : c->verify.flags;
    f->tls_version = (uint16_t)SSL_version(c->ssl);
    suite_name(c->ssl, f->ciphersuite, sizeof f->ciphersuite);
    f->session_resumed = f->session_offered && SSL_session_reused(c->ssl) == 1;
    /* What the server echoed (TLS 1.3: in its encrypted EncryptedExtensions, which the record
     * parser cannot see); the session keeps it. Mode 1..4 = 512..4096 bytes. */
    const SSL_SESSION *sess = SSL_get0_session(c->ssl);
    uint8_t mfl = sess != NULL ? SSL_SESSION_get_max_fragment_length(sess) : 0;
    f->max_fragment_len = mfl >= 1 && mfl <= 4 ? (uint16_t)(256u << mfl) : 0;
    mqtls__tls_io_established(&c->c.io);
}

static mqtls_status_t map_io(conn_t *c, int r);

/* VERDICT: read until the broker says what it thinks of our certificate (tls_io.h). */
static mqtls_status_t await_verdict(conn_t *c, int64_t now_ms)
{
    c->c.io.io_status = MQTLS_OK;
    size_t got = 0;
    int r = SSL_read_ex(c->ssl, c->c.early, sizeof c->c.early, &got);
    if (r == 1) {
        c->c.early_len = got; /* the broker spoke first */
        c->c.early_off = 0;
    } else {
        int e = SSL_get_error(c->ssl, r);
        bool waiting = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (waiting && !c->ticket_seen && now_ms < c->c.verdict_deadline_ms) {
            c->c.want = e == SSL_ERROR_WANT_READ ? MQTLS_WANT_READ : MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (!waiting) {
            return mqtls__tls_conn_refused(&c->c, map_io(c, r));
        }
    }
    mqtls__tls_conn_accepted(&c->c, &c->ctx->cert_accepted, r == 1 || c->ticket_seen);
    return MQTLS_OK;
}

static mqtls_status_t tls_connect(mqtls_transport_t *base, int64_t now_ms)
{
    conn_t *c = (conn_t *)base;
    mqtls_status_t st = MQTLS_OK;
    switch (c->c.state) {
    case MQTLS__TLS_FAILED:
    case MQTLS__TLS_IDLE:
    case MQTLS__TLS_INNER:
        st = mqtls__tls_conn_begin(&c->c, now_ms);
        if (st == MQTLS_OK) {
            st = start_handshake(c);
        }
        if (st != MQTLS_OK) {
            c->c.state = st == MQTLS_ERR_WOULD_BLOCK ? c->c.state : MQTLS__TLS_FAILED;
            return st;
        }
        /* fall through */
    case MQTLS__TLS_HANDSHAKE: {
        c->c.io.io_status = MQTLS_OK;
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                c->c.want = e == SSL_ERROR_WANT_READ ? MQTLS_WANT_READ : MQTLS_WANT_WRITE;
                return MQTLS_ERR_WOULD_BLOCK;
            }
            return handshake_failed(c, now_ms);
        }
        handshake_done(c);
        c->c.state = MQTLS__TLS_FLUSH;
    }
        /* fall through */
    case MQTLS__TLS_FLUSH:
        st = mqtls__tls_conn_finish(
            &c->c, now_ms,
            SSL_version(c->ssl) == TLS1_3_VERSION && c->c.facts->cert_requested &&
                !atomic_load(&c->ctx->cert_accepted) && !c->c.facts->session_resumed);
        if (st != MQTLS_OK || c->c.state != MQTLS__TLS_VERDICT) {
            return st;
        }
        /* fall through */
    case MQTLS__TLS_VERDICT:
        return await_verdict(c, now_ms);
    case MQTLS__TLS_OPEN:
        return MQTLS_OK;
    case MQTLS__TLS_DRAIN:
        return drain_for_alert(c, now_ms);
    }
    return MQTLS_ERR_STATE;
}

/* A failed SSL_read / SSL_write as a status. */
static mqtls_status_t map_io(conn_t *c, int r)
{
    mqtls_error_t *err = c->c.base.err;
    int e = SSL_get_error(c->ssl, r);
    unsigned long code = ERR_peek_error();
    if (e == SSL_ERROR_WANT_READ) {
        c->c.want = mqtls__tls_conn_want_rw(&c->c);
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->c.want = MQTLS_WANT_WRITE;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    char text[160];
    mqtls__ossl_take_error(text, sizeof text, NULL);
    if (c->c.facts->alert_received >= 0) {
        /* TLS 1.3: a rejected client certificate arrives after our Finished. */
        int alert = c->c.facts->alert_received;
        if (err != NULL) {
            err->mbedtls_ret = MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
            err->tls_alert = (int16_t)alert;
        }
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 0,
                               "server sent fatal alert %d (%s)", alert,
                               mqtls_tls_alert_name(alert));
    }
    if (e == SSL_ERROR_ZERO_RETURN || c->c.io.io_status == MQTLS_ERR_CLOSED ||
        (ERR_GET_LIB(code) == ERR_LIB_SSL &&
         ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        return MQTLS_ERR_CLOSED;
    }
    if (c->c.io.io_status != MQTLS_OK) {
        mqtls_status_t st = c->c.io.io_status;
        c->c.io.io_status = MQTLS_OK;
        return st; /* the inner transport recorded the details */
    }
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 0, "OpenSSL: %s", text);
}

/* Post-handshake messages (NewSessionTicket, KeyUpdate) are handled inside: a read that only
 * met those says WANT_READ. */
static mqtls_status_t tls_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    conn_t *c = (conn_t *)base;
    mqtls_status_t st = mqtls__tls_conn_read_prepare(&c->c, buf, cap, got);
    if (st != MQTLS_ERR_WOULD_BLOCK) {
        return st;
    }
    int r = SSL_read_ex(c->ssl, buf, cap, got);
    if (r == 1) {
        return MQTLS_OK;
    }
    *got = 0;
    st = map_io(c, r);
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        /* Idle: all input read. A post-handshake message (TLS 1.3 NewSessionTicket, KeyUpdate)
         * runs OpenSSL's state machine, which sets up a 16 KiB write buffer that
         * SSL_MODE_RELEASE_BUFFERS frees only after a write: an idle client kept it. Free the
         * empty buffers now (OpenSSL refuses while either holds data; fixed for use after free
         * in 3.0.14, CVE-2024-4741). */
        (void)SSL_free_buffers(c->ssl);
    }
    return st;
}

static mqtls_status_t tls_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov,
                                 size_t iov_count, size_t *sent)
{
    conn_t *c = (conn_t *)base;
    *sent = 0;
    const uint8_t *data = NULL;
    size_t n = 0;
    mqtls_status_t st =
        mqtls__tls_conn_write_prepare(&c->c, iov, iov_count, OSSL_RECORD_MAX, &data, &n);
    if (st != MQTLS_OK || n == 0) {
        return st;
    }
    int r = SSL_write_ex(c->ssl, data, n, sent);
    if (r == 1) {
        c->c.want = mqtls__tls_conn_want_rw(&c->c);
        return MQTLS_OK;
    }
    *sent = 0;
    return map_io(c, r);
}

static size_t tls_pending(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->c.state != MQTLS__TLS_OPEN) {
        return 0;
    }
    size_t n = (size_t)SSL_pending(c->ssl) + (c->c.early_len - c->c.early_off);
    if (n == 0 && SSL_has_pending(c->ssl) == 1) {
        n = 1; /* a record is buffered but not decrypted yet */
    }
    return n + c->c.inner->ops->pending(c->c.inner);
}

static void tls_close(mqtls_transport_t *base)
{
    conn_t *c = (conn_t *)base;
    if (c->c.state == MQTLS__TLS_OPEN) {
        /* Best effort, one try: an orderly close_notify (RFC 8446 6.1). */
        (void)SSL_shutdown(c->ssl);
        (void)mqtls__tls_io_flush(&c->c.io);
        ERR_clear_error();
    }
    mqtls__tls_conn_closed(&c->c);
}

static void tls_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    conn_t *c = (conn_t *)base;
    if (c->c.inner != NULL) {
        tls_close(base);
        c->c.inner->ops->destroy(c->c.inner);
    }
    SSL_free(c->ssl);
    SSL_SESSION_free(c->saved);
    mqtls__tls_conn_free(&c->c);
    free(c);
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

mqtls_status_t mqtls__ossl_conn_create(mqtls__tls_ectx_t *ctx, const mqtls__tls_conn_cfg_t *cc,
                                       mqtls_transport_t *inner, mqtls_error_t *err,
                                       mqtls_transport_t **out)
{
    *out = NULL;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    c->ctx = ctx;
    mqtls_status_t st = mqtls__tls_conn_init(&c->c, &tls_ops, cc, inner, err);
    if (st != MQTLS_OK) {
        tls_destroy(&c->c.base);
        return st;
    }
    *out = &c->c.base;
    return MQTLS_OK;
}
