/* A scripted in-memory transport (STYLE.md example 3). Two scripts, each checked in order:
 * what reads return (bytes, would-block, close, error) and how writes are taken (expected
 * bytes, any bytes, short writes, would-block, error). Every byte written is also recorded,
 * so tests can decode what the client sent. Connect can be scripted too. */
#ifndef MQTLS_TEST_FAKE_TRANSPORT_H
#define MQTLS_TEST_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/transport.h"

typedef enum fake_kind {
    FK_READ,        /* return these bytes (up to cap; the rest stays for the next read) */
    FK_WOULD_BLOCK, /* read or write: MQTLS_ERR_WOULD_BLOCK once */
    FK_CLOSE,       /* read: MQTLS_ERR_CLOSED */
    FK_ERROR,       /* read/write/connect: return status */
    FK_EXPECT,      /* write: these exact bytes must be written next (over one or more calls) */
    FK_ANY,         /* write: take whatever this call offers */
    FK_SHORT,       /* write: take only n bytes */
    FK_CONNECT_BLOCK /* connect: MQTLS_ERR_WOULD_BLOCK once */
} fake_kind_t;

typedef struct fake_step {
    fake_kind_t kind;
    const uint8_t *bytes;
    size_t len;
    mqtls_status_t status;
} fake_step_t;

#define FAKE_READ(b, n) {FK_READ, (b), (n), MQTLS_OK}
#define FAKE_WOULD_BLOCK() {FK_WOULD_BLOCK, NULL, 0, MQTLS_OK}
#define FAKE_CLOSE() {FK_CLOSE, NULL, 0, MQTLS_OK}
#define FAKE_ERROR(st) {FK_ERROR, NULL, 0, (st)}
#define FAKE_EXPECT(b, n) {FK_EXPECT, (b), (n), MQTLS_OK}
#define FAKE_WRITE_ANY() {FK_ANY, NULL, 0, MQTLS_OK}
#define FAKE_SHORT(n) {FK_SHORT, NULL, (n), MQTLS_OK}
#define FAKE_CONNECT_BLOCK() {FK_CONNECT_BLOCK, NULL, 0, MQTLS_OK}

typedef struct fake_transport {
    mqtls_transport_t base;
    const fake_step_t *reads;
    size_t reads_count, read_pos, read_off;
    const fake_step_t *writes;
    size_t writes_count, write_pos, write_off;
    const fake_step_t *connects;
    size_t connects_count, connect_pos;
    uint8_t written[1 << 20];
    size_t written_len;
    size_t writev_calls;
    size_t connect_calls;
    size_t close_calls;
    bool connected;
    bool mismatch; /* an EXPECT step saw other bytes */
    bool destroyed;
    int64_t wake_at_ms; /* what ops->wake_at() answers (0 = INT64_MAX: none) */
} fake_transport_t;

static inline mqtls_status_t fake_connect(mqtls_transport_t *t, int64_t now_ms)
{
    fake_transport_t *f = (fake_transport_t *)t;
    (void)now_ms;
    f->connect_calls++;
    if (f->connect_pos < f->connects_count) {
        const fake_step_t *s = &f->connects[f->connect_pos++];
        if (s->kind == FK_CONNECT_BLOCK) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
        if (s->kind == FK_ERROR) {
            if (t->err != NULL) {
                t->err->layer = MQTLS_LAYER_TCP;
                t->err->status = s->status;
            }
            return s->status;
        }
    }
    f->connected = true;
    return MQTLS_OK;
}

static inline mqtls_status_t fake_read(mqtls_transport_t *t, uint8_t *buf, size_t cap,
                                       size_t *got)
{
    fake_transport_t *f = (fake_transport_t *)t;
    *got = 0;
    if (f->read_pos >= f->reads_count) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    const fake_step_t *s = &f->reads[f->read_pos];
    switch (s->kind) {
    case FK_READ: {
        size_t n = s->len - f->read_off;
        n = n < cap ? n : cap;
        memcpy(buf, s->bytes + f->read_off, n);
        f->read_off += n;
        if (f->read_off == s->len) {
            f->read_pos++;
            f->read_off = 0;
        }
        *got = n;
        return MQTLS_OK;
    }
    case FK_WOULD_BLOCK:
        f->read_pos++;
        return MQTLS_ERR_WOULD_BLOCK;
    case FK_CLOSE:
        f->read_pos++;
        return MQTLS_ERR_CLOSED;
    case FK_ERROR:
        f->read_pos++;
        if (t->err != NULL) {
            t->err->layer = MQTLS_LAYER_TCP;
            t->err->status = s->status;
        }
        return s->status;
    default:
        f->read_pos++;
        return MQTLS_ERR_WOULD_BLOCK;
    }
}

static inline void fake_record(fake_transport_t *f, const mqtls_iovec_t *iov, size_t n,
                               size_t take)
{
    for (size_t i = 0; i < n && take > 0; i++) {
        size_t k = iov[i].len < take ? iov[i].len : take;
        if (f->written_len + k <= sizeof f->written) {
            memcpy(f->written + f->written_len, iov[i].base, k);
            f->written_len += k;
        }
        take -= k;
    }
}

static inline mqtls_status_t fake_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov,
                                         size_t n, size_t *sent)
{
    fake_transport_t *f = (fake_transport_t *)t;
    *sent = 0;
    if (n == 0) {
        return MQTLS_OK;
    }
    f->writev_calls++;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += iov[i].len;
    }
    size_t take = total;
    if (f->write_pos < f->writes_count) {
        const fake_step_t *s = &f->writes[f->write_pos];
        switch (s->kind) {
        case FK_WOULD_BLOCK:
            f->write_pos++;
            return MQTLS_ERR_WOULD_BLOCK;
        case FK_ERROR:
            f->write_pos++;
            if (t->err != NULL) {
                t->err->layer = MQTLS_LAYER_TCP;
                t->err->status = s->status;
            }
            return s->status;
        case FK_SHORT:
            f->write_pos++;
            take = s->len < total ? s->len : total;
            break;
        case FK_ANY:
            f->write_pos++;
            break;
        case FK_EXPECT: {
            size_t rest = s->len - f->write_off;
            take = rest < total ? rest : total;
            size_t start = f->written_len;
            fake_record(f, iov, n, take);
            if (memcmp(f->written + start, s->bytes + f->write_off, take) != 0) {
                f->mismatch = true;
            }
            f->write_off += take;
            if (f->write_off == s->len) {
                f->write_pos++;
                f->write_off = 0;
            }
            *sent = take;
            return MQTLS_OK;
        }
        default:
            break;
        }
    }
    fake_record(f, iov, n, take);
    *sent = take;
    return take > 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
}

static inline size_t fake_pending(mqtls_transport_t *t)
{
    (void)t;
    return 0;
}

static inline int fake_fd(mqtls_transport_t *t)
{
    (void)t;
    return -1;
}

static inline unsigned fake_want(mqtls_transport_t *t)
{
    (void)t;
    return MQTLS_WANT_READ;
}

static inline void fake_close(mqtls_transport_t *t)
{
    fake_transport_t *f = (fake_transport_t *)t;
    f->close_calls++;
    f->connected = false;
}

static inline void fake_destroy(mqtls_transport_t *t)
{
    fake_transport_t *f = (fake_transport_t *)t;
    f->destroyed = true; /* storage belongs to the test */
}

static inline int64_t fake_wake_at(mqtls_transport_t *t)
{
    fake_transport_t *f = (fake_transport_t *)t;
    return f->wake_at_ms != 0 ? f->wake_at_ms : INT64_MAX;
}

static const mqtls_transport_ops_t fake_ops = {
    .name = "fake",
    .connect = fake_connect,
    .read = fake_read,
    .writev = fake_writev,
    .pending = fake_pending,
    .fd = fake_fd,
    .want = fake_want,
    .close = fake_close,
    .destroy = fake_destroy,
    .wake_at = fake_wake_at,
};

static inline void fake_init(fake_transport_t *f, const fake_step_t *reads, size_t nr,
                             const fake_step_t *writes, size_t nw)
{
    memset(f, 0, sizeof *f);
    f->base.ops = &fake_ops;
    f->reads = reads;
    f->reads_count = nr;
    f->writes = writes;
    f->writes_count = nw;
}

static inline bool fake_reads_done(const fake_transport_t *f)
{
    return f->read_pos == f->reads_count;
}

static inline bool fake_writes_done(const fake_transport_t *f)
{
    return f->write_pos == f->writes_count && !f->mismatch;
}

#endif
