/* The ciphertext plumbing every TLS engine shares (tls_io.h). */
#include "net/tls_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tls_alert.h"
#include "net/net.h"

/* Ciphertext waiting for the socket: one gathered flight, or one record after it. The buffer
 * is allocated at the first byte that must wait (the first handshake flight), starts small and
 * grows only as needed; once the handshake is over it is freed whenever it is empty, so that
 * an idle connection holds none (thousands of bench connections share a process). */
#define OBUF_MAX (64u * 1024u)
#define OBUF_INITIAL 2048u

/* Make room for @p need bytes in obuf (up to OBUF_MAX). */
static bool obuf_reserve(mqtls__tls_io_t *io, size_t need)
{
    if (need <= io->ocap) {
        return true;
    }
    if (need > OBUF_MAX) {
        return false;
    }
    size_t cap = io->ocap != 0 ? io->ocap : OBUF_INITIAL;
    while (cap < need) {
        cap *= 2;
    }
    cap = cap < OBUF_MAX ? cap : OBUF_MAX;
    uint8_t *p = realloc(io->obuf, cap);
    if (p == NULL) {
        return false;
    }
    io->obuf = p;
    io->ocap = cap;
    return true;
}

bool mqtls__tls_io_init(mqtls__tls_io_t *io, mqtls_transport_t *inner, mqtls_tls_facts_t *facts,
                        mqtls_error_t *err)
{
    memset(io, 0, sizeof *io);
    io->inner = inner;
    io->facts = facts;
    io->err = err;
    (void)mqtls__tls_records_reset(&io->rp, facts, false);
    return true;
}

/* Free the ciphertext buffer when nothing waits in it (after the handshake: a socket that
 * blocks mid-record allocates it again). */
static void obuf_release_if_empty(mqtls__tls_io_t *io)
{
    if (io->olen == 0 && io->obuf != NULL) {
        free(io->obuf);
        io->obuf = NULL;
        io->ocap = 0;
    }
}

void mqtls__tls_io_free(mqtls__tls_io_t *io)
{
    mqtls__tls_records_release(&io->rp);
    free(io->obuf);
    io->obuf = NULL;
    io->olen = 0;
    io->ocap = 0;
}

void mqtls__tls_io_start(mqtls__tls_io_t *io, bool gather_flights)
{
    /* Messages are parsed only while handshaking; without the buffer (no memory) the facts
     * lack the chain and the CertificateRequest, nothing else. */
    (void)mqtls__tls_records_reset(&io->rp, io->facts, true);
    io->io_status = MQTLS_OK;
    io->olen = 0;
    io->gathering = gather_flights;
    io->handshaking = true;
}

void mqtls__tls_io_established(mqtls__tls_io_t *io)
{
    io->rp.stopped = true; /* application data is ciphertext: nothing more to learn */
    mqtls__tls_records_release(&io->rp);
    io->gathering = false;
    io->handshaking = false;
    obuf_release_if_empty(io); /* else once the last flight is out (mqtls__tls_io_flush) */
}

mqtls_status_t mqtls__tls_io_flush(mqtls__tls_io_t *io)
{
    for (int rounds = 0; io->olen > 0 && rounds < 64; rounds++) {
        mqtls_iovec_t v = {.base = io->obuf, .len = io->olen};
        size_t sent = 0;
        mqtls_status_t st = io->inner->ops->writev(io->inner, &v, 1, &sent);
        if (st != MQTLS_OK) {
            return st;
        }
        if (sent == 0) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
        memmove(io->obuf, io->obuf + sent, io->olen - sent);
        io->olen -= sent;
    }
    if (!io->handshaking) {
        obuf_release_if_empty(io);
    }
    return io->olen == 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
}

void mqtls__tls_io_flush_quietly(mqtls__tls_io_t *io)
{
    if (io->olen == 0) {
        return;
    }
    mqtls_error_t keep;
    if (io->err != NULL) {
        keep = *io->err;
    }
    (void)mqtls__tls_io_flush(io);
    if (io->err != NULL) {
        *io->err = keep;
    }
}

static long io_error(mqtls__tls_io_t *io, mqtls_status_t st, long would_block)
{
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        return would_block;
    }
    io->io_status = st;
    return MQTLS__IO_ERROR;
}

long mqtls__tls_io_send(mqtls__tls_io_t *io, const uint8_t *buf, size_t len)
{
    mqtls__tls_records_note_outgoing(&io->rp, buf, len);
    /* Not gathering: keep order with what is still buffered. Gathering: flush only when the
     * flight would not fit. */
    if ((io->olen > 0 && !io->gathering) || io->olen + len > OBUF_MAX) {
        mqtls_status_t st = mqtls__tls_io_flush(io);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return io_error(io, st, MQTLS__IO_WANT_WRITE);
        }
    }
    size_t done = 0;
    if (io->olen == 0 && !io->gathering) {
        mqtls_iovec_t v = {.base = buf, .len = len};
        mqtls_status_t st = io->inner->ops->writev(io->inner, &v, 1, &done);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return io_error(io, st, MQTLS__IO_WANT_WRITE);
        }
        if (done == len) {
            return (long)len;
        }
    }
    /* Keep the rest (the whole record while gathering): what we accept is committed. */
    if (!obuf_reserve(io, io->olen + (len - done))) {
        return done > 0 ? (long)done : MQTLS__IO_WANT_WRITE;
    }
    memcpy(io->obuf + io->olen, buf + done, len - done);
    io->olen += len - done;
    return (long)len;
}

long mqtls__tls_io_recv(mqtls__tls_io_t *io, uint8_t *buf, size_t len)
{
    /* The engine wants the peer's answer: the flight we gathered leaves now, in one send.
     * After the handshake a blocked write must never stop reads (both sides would wait). */
    if (io->olen > 0) {
        mqtls_status_t st = mqtls__tls_io_flush(io);
        if (st == MQTLS_ERR_WOULD_BLOCK && io->handshaking) {
            return MQTLS__IO_WANT_WRITE;
        }
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return io_error(io, st, MQTLS__IO_WANT_WRITE);
        }
    }
    size_t got = 0;
    mqtls_status_t st = io->inner->ops->read(io->inner, buf, len, &got);
    if (st == MQTLS_ERR_CLOSED) {
        io->io_status = st;
        return 0; /* EOF */
    }
    if (st != MQTLS_OK) {
        return io_error(io, st, MQTLS__IO_WANT_READ);
    }
    if (!io->rp.stopped && !mqtls__tls_records_feed(&io->rp, buf, got)) {
        io->io_status = MQTLS_ERR_TLS_NOT_TLS;
        return MQTLS__IO_ERROR;
    }
    return (long)got;
}

mqtls_status_t mqtls__tls_io_drain(mqtls__tls_io_t *io, int64_t now_ms)
{
    uint8_t buf[4096];
    for (int rounds = 0; rounds < 64 && io->facts->alert_received < 0 && !io->rp.stopped;
         rounds++) {
        size_t got = 0;
        mqtls_status_t st = io->inner->ops->read(io->inner, buf, sizeof buf, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK && now_ms < io->drain_deadline_ms) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (st != MQTLS_OK || got == 0 || !mqtls__tls_records_feed(&io->rp, buf, got)) {
            break; /* closed, reset, deadline passed, or not TLS after all */
        }
    }
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

mqtls_status_t mqtls__tls_io_fail_not_tls(mqtls__tls_io_t *io)
{
    if (!io->facts->peer_not_tls) {
        return MQTLS_OK;
    }
    char fb[80];
    first_bytes_text(io->facts, fb, sizeof fb);
    return mqtls__net_fail(io->err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, 0,
                           "peer answered \"%s\" instead of a TLS ServerHello", fb);
}

mqtls_status_t mqtls__tls_io_fail_verify(mqtls__tls_io_t *io, uint32_t flags)
{
    mqtls_tls_facts_t *f = io->facts;
    mqtls_error_t *err = io->err;
    if (f->pin_mismatch) {
        /* The chain verified; the verdict was the pins' (mqtls__tls_after_verify). */
        f->verify_flags = 0;
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_PIN_MISMATCH, 0,
                               "the server's public key %s matches none of the pins given",
                               f->server_pin[0] != '\0' ? f->server_pin : "(unreadable)");
    }
    f->verify_flags = flags;
    if (err != NULL) {
        err->verify_flags = flags;
        err->chain_len = (uint8_t)f->chain_len;
        for (size_t i = 0; i < f->chain_len && i < MQTLS_ERROR_CHAIN_DEPTH; i++) {
            err->depth_flags[i] = f->chain[i].flags;
        }
    }
    /* The flags last: a reader (and doctor's step) sees the line is whole when it ends ")". */
    return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_VERIFY, 0,
                           "server certificate rejected%s%s (verify flags 0x%08X)",
                           f->judge != NULL ? " by the device profile's " : "",
                           f->judge != NULL ? f->judge : "", (unsigned)flags);
}

mqtls_status_t mqtls__tls_io_fail_peer(mqtls__tls_io_t *io)
{
    mqtls_tls_facts_t *f = io->facts;
    mqtls_error_t *err = io->err;
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
    if (io->rp.seen == 0 &&
        (io->io_status == MQTLS_ERR_CLOSED || io->io_status == MQTLS_ERR_CONN_RESET)) {
        /* A TLS server that refuses a ClientHello says why with an alert; a plain MQTT
         * listener (mosquitto) drops the connection on the malformed "CONNECT" instead. */
        f->peer_silent_close = true;
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, 0,
                               "the server %s the connection without answering our ClientHello "
                               "or sending an alert: the port probably does not speak TLS "
                               "(plain MQTT port?)",
                               io->io_status == MQTLS_ERR_CLOSED ? "closed" : "reset");
    }
    return MQTLS_OK;
}

const char *mqtls__tls_io_close_why(const mqtls__tls_io_t *io)
{
    if (io->io_status == MQTLS_ERR_CLOSED) {
        return "the server closed the connection during the handshake";
    }
    if (io->io_status == MQTLS_ERR_CONN_RESET) {
        return "the server reset the connection during the handshake";
    }
    return NULL;
}

bool mqtls__tls_io_gather(const mqtls_iovec_t *iov, size_t iov_count, uint8_t *staging,
                          size_t staging_cap, size_t rec_max, const uint8_t **data, size_t *len)
{
    size_t gather_max = rec_max < staging_cap ? rec_max : staging_cap;
    size_t first = 0;
    while (first < iov_count && iov[first].len == 0) {
        first++;
    }
    if (first == iov_count) {
        return false;
    }
    if (iov[first].len >= gather_max || first + 1 == iov_count) {
        *data = iov[first].base;
        *len = iov[first].len < rec_max ? iov[first].len : rec_max;
        return true;
    }
    size_t n = 0;
    for (size_t i = first; i < iov_count && n < gather_max; i++) {
        size_t k = iov[i].len < gather_max - n ? iov[i].len : gather_max - n;
        if (k > 0) {
            memcpy(staging + n, iov[i].base, k);
            n += k;
        }
    }
    *data = staging;
    *len = n;
    return true;
}

/* ---- the connection every engine's transport starts with ---------------------------------- */

#ifndef MQTLS_TLS_COALESCE_MIN
#define MQTLS_TLS_COALESCE_MIN 4096u /* the staging buffer's first size */
#endif

mqtls_status_t mqtls__tls_conn_init(mqtls__tls_conn_t *c, const mqtls_transport_ops_t *ops,
                                    const mqtls__tls_conn_cfg_t *cc, mqtls_transport_t *inner,
                                    mqtls_error_t *err)
{
    c->base.ops = ops;
    c->base.err = err;
    c->inner = inner;
    c->facts = cc->facts;
    c->cc = *cc;
    mqtls__tls_facts_init(cc->facts);
    size_t hlen = strlen(cc->host);
    c->host = malloc(hlen + 1);
    /* The write staging is allocated at the first gathered write (an idle client never has
     * one), and grows up to one full record. */
    c->plain = NULL;
    c->plain_cap = 0;
    if (c->host == NULL || !mqtls__tls_io_init(&c->io, inner, cc->facts, err)) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: malloc");
    }
    memcpy(c->host, cc->host, hlen + 1);
    c->cc.host = c->host;
    c->state = MQTLS__TLS_IDLE;
    return MQTLS_OK;
}

void mqtls__tls_conn_free(mqtls__tls_conn_t *c)
{
    mqtls__tls_io_free(&c->io);
    if (c->plain != NULL) {
        mqtls__tls_wipe(c->plain, c->plain_cap); /* our plaintext */
        free(c->plain);
    }
    free(c->host);
}

mqtls_status_t mqtls__tls_conn_begin(mqtls__tls_conn_t *c, int64_t now_ms)
{
    if (c->state == MQTLS__TLS_FAILED) {
        c->inner->ops->close(c->inner); /* a failed handshake leaves a dead connection */
        c->state = MQTLS__TLS_IDLE;
    }
    if (c->state == MQTLS__TLS_IDLE) {
        mqtls_error_init(c->base.err); /* a new attempt: no stale flags or alert */
        mqtls__tls_facts_free(c->facts);
        (void)mqtls__tls_records_reset(&c->io.rp, c->facts, false);
        c->state = MQTLS__TLS_INNER;
    }
    mqtls_status_t st = c->inner->ops->connect(c->inner, now_ms);
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        c->want = c->inner->ops->want(c->inner);
    } else if (st != MQTLS_OK) {
        c->state = MQTLS__TLS_FAILED;
    }
    return st;
}

mqtls_status_t mqtls__tls_conn_finish(mqtls__tls_conn_t *c, int64_t now_ms, bool await)
{
    mqtls_status_t st = mqtls__tls_io_flush(&c->io);
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        c->want = MQTLS_WANT_WRITE;
        return st;
    }
    if (st != MQTLS_OK) {
        c->state = MQTLS__TLS_FAILED;
        return st;
    }
    c->state = await ? MQTLS__TLS_VERDICT : MQTLS__TLS_OPEN;
    if (!await && c->io.facts != NULL) {
        c->io.facts->tls_open = true;
    }
    c->verdict_deadline_ms = now_ms + MQTLS__TLS_VERDICT_MS;
    c->want = MQTLS_WANT_READ;
    return MQTLS_OK;
}

void mqtls__tls_conn_accepted(mqtls__tls_conn_t *c, atomic_bool *accepted, bool confirmed)
{
    atomic_store(accepted, true);
    c->state = MQTLS__TLS_OPEN;
    if (confirmed && c->io.facts != NULL) {
        c->io.facts->tls_open = true;
    }
    c->want = MQTLS_WANT_READ;
}

mqtls_status_t mqtls__tls_conn_refused(mqtls__tls_conn_t *c, mqtls_status_t st)
{
    c->state = MQTLS__TLS_FAILED;
    c->want = 0;
    if (st == MQTLS_ERR_CLOSED) {
        st = mqtls__tls_io_fail_peer(&c->io);
    }
    return st != MQTLS_OK ? st : MQTLS_ERR_CLOSED;
}

mqtls_status_t mqtls__tls_conn_read_prepare(mqtls__tls_conn_t *c, uint8_t *buf, size_t cap,
                                            size_t *got)
{
    *got = 0;
    if (c->state != MQTLS__TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (c->early_off < c->early_len) {
        size_t n = c->early_len - c->early_off < cap ? c->early_len - c->early_off : cap;
        memcpy(buf, c->early + c->early_off, n);
        c->early_off += n;
        *got = n;
        return MQTLS_OK;
    }
    if (c->io.olen > 0) {
        mqtls_status_t st = mqtls__tls_io_flush(&c->io);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    c->io.io_status = MQTLS_OK;
    return MQTLS_ERR_WOULD_BLOCK;
}

/* Room in the staging buffer for what the gather list puts in one record (up to @p rec_max:
 * many small packets become one record, one send). Without memory the gather is smaller. */
static void staging_reserve(mqtls__tls_conn_t *c, const mqtls_iovec_t *iov, size_t iov_count,
                            size_t rec_max)
{
    size_t want = 0;
    for (size_t i = 0; i < iov_count && want < rec_max; i++) {
        want += iov[i].len;
    }
    want = want < rec_max ? want : rec_max;
    if (want <= c->plain_cap) {
        return;
    }
    size_t cap = c->plain_cap > 0 ? c->plain_cap * 2u : MQTLS_TLS_COALESCE_MIN;
    cap = cap > want ? cap : want;
    cap = cap < rec_max ? cap : rec_max;
    uint8_t *p = malloc(cap);
    if (p == NULL) {
        return;
    }
    if (c->plain != NULL) {
        mqtls__tls_wipe(c->plain, c->plain_cap); /* our plaintext */
        free(c->plain);
    }
    c->plain = p;
    c->plain_cap = cap;
}

mqtls_status_t mqtls__tls_conn_write_prepare(mqtls__tls_conn_t *c, const mqtls_iovec_t *iov,
                                             size_t iov_count, size_t rec_max, const uint8_t **data,
                                             size_t *len)
{
    *len = 0;
    if (c->state != MQTLS__TLS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (c->io.olen > 0) {
        mqtls_status_t st = mqtls__tls_io_flush(&c->io);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            c->want = MQTLS_WANT_READ | MQTLS_WANT_WRITE;
        }
        if (st != MQTLS_OK) {
            return st;
        }
    }
    if (iov_count > 1) {
        staging_reserve(c, iov, iov_count, rec_max);
    }
    (void)mqtls__tls_io_gather(iov, iov_count, c->plain, c->plain_cap, rec_max, data, len);
    c->io.io_status = MQTLS_OK;
    return MQTLS_OK;
}

void mqtls__tls_conn_closed(mqtls__tls_conn_t *c)
{
    c->inner->ops->close(c->inner);
    c->io.olen = 0;
    c->early_len = 0;
    c->early_off = 0;
    c->state = MQTLS__TLS_IDLE;
    c->want = 0;
}

unsigned mqtls__tls_conn_want_rw(const mqtls__tls_conn_t *c)
{
    return MQTLS_WANT_READ | (c->io.olen > 0 ? MQTLS_WANT_WRITE : 0u);
}

int mqtls__tls_conn_fd(mqtls_transport_t *t)
{
    mqtls__tls_conn_t *c = (mqtls__tls_conn_t *)t;
    return c->inner->ops->fd(c->inner);
}

unsigned mqtls__tls_conn_want(mqtls_transport_t *t)
{
    mqtls__tls_conn_t *c = (mqtls__tls_conn_t *)t;
    if (c->state == MQTLS__TLS_INNER) {
        return c->inner->ops->want(c->inner);
    }
    if (c->state == MQTLS__TLS_OPEN) {
        return mqtls__tls_conn_want_rw(c);
    }
    return c->want;
}

/* While draining for a late alert or awaiting a verdict, the runtime must call connect() again
 * at the deadline even if a silent peer never makes the socket readable. */
int64_t mqtls__tls_conn_wake_at(mqtls_transport_t *t)
{
    mqtls__tls_conn_t *c = (mqtls__tls_conn_t *)t;
    if (c->state == MQTLS__TLS_DRAIN) {
        return c->io.drain_deadline_ms;
    }
    if (c->state == MQTLS__TLS_VERDICT) {
        return c->verdict_deadline_ms;
    }
    return mqtls__transport_wake_at(c->inner);
}

char *mqtls__tls_strdup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

void mqtls__tls_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void mqtls__tls_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p; /* not optimised away */
    while (n-- > 0) {
        *v++ = 0;
    }
}
