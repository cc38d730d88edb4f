/* libFuzzer target: the WebSocket transport (src/net/ws.c, ws_handshake.c) reading "server"
 * bytes through an in-memory inner transport. Input: a mode byte, a seed byte for the cuts,
 * then the server's bytes. Mode bit 0 clear: the bytes are the whole answer to the Upgrade
 * (status line, headers, then frames); set: a valid 101 answer (its Sec-WebSocket-Accept
 * computed from our request) comes first and the bytes are frames. The inner transport takes
 * our writes whole or in part (the PONG and CLOSE answers, a frame of ours now and then).
 * Invariants: no crash or out-of-bounds access (ASan); connect() and read() return only the
 * statuses ws.c documents; read() never hands out more payload than the server sent; the
 * transport can be closed and destroyed in any state. Also linked into replay_main.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem {
    mqtls_transport_t base;
    uint8_t req[4096]; /* the start of what the client wrote: the Upgrade request */
    size_t req_len;
    uint8_t in[8192]; /* what the "server" sends: the 101 (mode 1), then the fuzz bytes */
    size_t in_len, in_off;
    bool answered;  /* mode 1: the 101 was put in front */
    bool valid_101; /* mode 1 */
    const uint8_t *fuzz;
    size_t fuzz_len;
    uint32_t rng;
} mem_t;

static uint32_t next_rand(mem_t *m)
{
    m->rng = m->rng * 1103515245u + 12345u;
    return m->rng >> 16;
}

/* The value of header Sec-WebSocket-Key in the request, or NULL. */
static const char *request_key(const mem_t *m, size_t *len)
{
    static const char name[] = "Sec-WebSocket-Key: ";
    for (size_t i = 0; i + sizeof name < m->req_len; i++) {
        if (memcmp(m->req + i, name, sizeof name - 1) == 0) {
            const char *v = (const char *)m->req + i + sizeof name - 1;
            const char *e = memchr(v, '\r', m->req_len - (i + sizeof name - 1));
            if (e == NULL) {
                return NULL;
            }
            *len = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static void answer(mem_t *m)
{
    if (m->answered || m->req_len < 4 || memcmp(m->req + m->req_len - 4, "\r\n\r\n", 4) != 0) {
        return;
    }
    m->answered = true;
    size_t n = 0;
    if (m->valid_101) {
        size_t klen = 0;
        const char *key = request_key(m, &klen);
        char k[64];
        char accept[29];
        CHECK(key != NULL && klen < sizeof k);
        memcpy(k, key, klen);
        k[klen] = '\0';
        CHECK(mqtls__ws_accept_for_key(k, accept));
        static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\n"
                                   "Sec-WebSocket-Accept: ";
        memcpy(m->in, head, sizeof head - 1);
        n = sizeof head - 1;
        memcpy(m->in + n, accept, 28);
        n += 28;
        memcpy(m->in + n, "\r\n\r\n", 4);
        n += 4;
    }
    size_t f = m->fuzz_len < sizeof m->in - n ? m->fuzz_len : sizeof m->in - n;
    memcpy(m->in + n, m->fuzz, f);
    m->in_len = n + f;
}

static mqtls_status_t mem_connect(mqtls_transport_t *t, int64_t now_ms)
{
    (void)t;
    (void)now_ms;
    return MQTLS_OK;
}

static mqtls_status_t mem_read(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got)
{
    mem_t *m = (mem_t *)t;
    *got = 0;
    answer(m);
    if ((next_rand(m) & 7u) == 0) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    size_t left = m->in_len - m->in_off;
    if (left == 0) {
        return m->answered ? MQTLS_ERR_CLOSED : MQTLS_ERR_WOULD_BLOCK;
    }
    size_t n = 1u + next_rand(m) % 97u;
    n = n < left ? n : left;
    n = n < cap ? n : cap;
    memcpy(buf, m->in + m->in_off, n);
    m->in_off += n;
    *got = n;
    return MQTLS_OK;
}

static mqtls_status_t mem_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t count,
                                 size_t *sent)
{
    mem_t *m = (mem_t *)t;
    *sent = 0;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        CHECK(iov[i].base != NULL || iov[i].len == 0);
        for (size_t k = 0; k < iov[i].len && m->req_len < sizeof m->req && !m->answered; k++) {
            m->req[m->req_len++] = iov[i].base[k];
        }
        total += iov[i].len;
    }
    if (total == 0) {
        return MQTLS_OK;
    }
    if ((next_rand(m) & 7u) == 0) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    *sent = (next_rand(m) & 3u) == 0 ? 1u + next_rand(m) % total : total;
    return MQTLS_OK;
}

static size_t mem_pending(mqtls_transport_t *t)
{
    (void)t;
    return 0;
}

static int mem_fd(mqtls_transport_t *t)
{
    (void)t;
    return -1;
}

static unsigned mem_want(mqtls_transport_t *t)
{
    (void)t;
    return MQTLS_WANT_READ;
}

static void mem_close(mqtls_transport_t *t)
{
    (void)t;
}

static void mem_destroy(mqtls_transport_t *t)
{
    free(t);
}

static const mqtls_transport_ops_t mem_ops = {
    .name = "mem",
    .connect = mem_connect,
    .read = mem_read,
    .writev = mem_writev,
    .pending = mem_pending,
    .fd = mem_fd,
    .want = mem_want,
    .close = mem_close,
    .destroy = mem_destroy,
};

static bool read_status_ok(mqtls_status_t st)
{
    return st == MQTLS_OK || st == MQTLS_ERR_WOULD_BLOCK || st == MQTLS_ERR_CLOSED ||
           st == MQTLS_ERR_WS_PROTOCOL || st == MQTLS_ERR_NOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    mem_t *m = calloc(1, sizeof *m);
    CHECK(m != NULL);
    m->base.ops = &mem_ops;
    m->valid_101 = (data[0] & 1u) != 0;
    m->rng = data[1] * 2654435761u + 7u;
    m->fuzz = data + 2;
    m->fuzz_len = size - 2;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_transport_t *t = NULL;
    const char *sub = (data[0] & 2u) != 0 ? "" : NULL;
    if (mqtls__ws_create(&m->base, "broker.test", 80, "/mqtt", sub, &err, &t) != MQTLS_OK) {
        return 0; /* inner is owned (and freed) by the WebSocket transport even on failure */
    }
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    for (int i = 0; i < 2000 && st == MQTLS_ERR_WOULD_BLOCK; i++) {
        st = t->ops->connect(t, 0);
    }
    CHECK(st == MQTLS_OK || st == MQTLS_ERR_WOULD_BLOCK || st == MQTLS_ERR_WS_HANDSHAKE ||
          st == MQTLS_ERR_CLOSED || st == MQTLS_ERR_NOMEM || st == MQTLS_ERR_OS);
    if (st == MQTLS_OK) {
        size_t delivered = 0;
        uint8_t buf[300];
        for (int i = 0; i < 20000; i++) {
            size_t got = 0;
            st = t->ops->read(t, buf, 1u + m->rng % sizeof buf, &got);
            CHECK(read_status_ok(st));
            CHECK(got <= sizeof buf);
            CHECK(st == MQTLS_OK || got == 0);
            delivered += got;
            CHECK(delivered <= m->fuzz_len); /* payload comes out of the server's bytes */
            if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
                break;
            }
            if ((next_rand(m) & 15u) == 0) {
                mqtls_iovec_t iov = {(const uint8_t *)"\xc0\x00", 2}; /* a PINGREQ of ours */
                size_t sent = 0;
                mqtls_status_t ws = t->ops->writev(t, &iov, 1, &sent);
                CHECK(ws == MQTLS_OK || ws == MQTLS_ERR_WOULD_BLOCK ||
                      ws == MQTLS_ERR_WS_PROTOCOL || ws == MQTLS_ERR_CLOSED || ws == MQTLS_ERR_OS);
                CHECK(sent <= 2);
            }
            if (st == MQTLS_ERR_WOULD_BLOCK && m->in_off == m->in_len) {
                break;
            }
        }
    }
    t->ops->close(t);
    t->ops->destroy(t);
    return 0;
}
