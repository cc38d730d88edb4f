/* WebSocket transport (src/net/ws.c) over a scripted in-memory inner transport: the Upgrade
 * handshake (good, refused, forged, split byte by byte), frame parsing (split, coalesced,
 * 7/16/64-bit lengths, PING, CLOSE, protocol errors) and frame writing (masking, partial
 * inner writes). The fake server computes Sec-WebSocket-Accept with mbedTLS directly, not
 * with the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mbedtls/base64.h"
#include "mbedtls/sha1.h"
#include "mbedtls/version.h"

#include "mqtls/error.h"
#include "net/net.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FAKE_CAP (1u << 20)

/* ---- scripted inner transport --------------------------------------------------------- */

typedef struct fake {
    mqtls_transport_t base;
    uint8_t *out; /* everything the WebSocket layer wrote */
    size_t out_len;
    size_t max_write;  /* bytes accepted per writev (0 = all) */
    bool block_writes; /* every other writev returns WOULD_BLOCK */
    bool wtoggle;
    uint8_t *in; /* what the "server" sends */
    size_t in_len, in_off;
    size_t chunk;     /* bytes per read (0 = as many as fit) */
    bool block_reads; /* WOULD_BLOCK between reads */
    bool rtoggle;
    bool eof_at_end;  /* CLOSED once in is drained (else WOULD_BLOCK) */
    const char *resp; /* 101 template, "%s" = accept computed from the request; NULL none */
    bool resp_given;
    int closes;
    int flushes; /* writev with no data */
    int writes;  /* writev calls that accepted bytes */
} fake_t;

static void server_accept(const char *key, size_t key_len, char out[29])
{
    uint8_t buf[128];
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    assert_true(key_len + sizeof guid < sizeof buf);
    memcpy(buf, key, key_len);
    memcpy(buf + key_len, guid, sizeof guid - 1);
    uint8_t d[20];
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    assert_int_equal(mbedtls_sha1_ret(buf, key_len + sizeof guid - 1, d), 0);
#else
    assert_int_equal(mbedtls_sha1(buf, key_len + sizeof guid - 1, d), 0);
#endif
    size_t olen = 0;
    assert_int_equal(mbedtls_base64_encode((unsigned char *)out, 29, &olen, d, sizeof d), 0);
}

/* Find header @p name in the captured request; its value and length. */
static const char *request_header(const fake_t *f, const char *name, size_t *len)
{
    const char *req = (const char *)f->out;
    size_t nlen = strlen(name);
    for (const char *p = req; p + nlen + 2 < req + f->out_len; p++) {
        if ((p == req || p[-1] == '\n') && strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ') {
                v++;
            }
            const char *e = strstr(v, "\r\n");
            *len = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static size_t request_len(const fake_t *f)
{
    for (size_t i = 0; i + 4 <= f->out_len; i++) {
        if (memcmp(f->out + i, "\r\n\r\n", 4) == 0) {
            return i + 4;
        }
    }
    return 0;
}

static void give_response(fake_t *f)
{
    if (f->resp == NULL || f->resp_given || request_len(f) == 0) {
        return;
    }
    size_t klen = 0;
    const char *key = request_header(f, "Sec-WebSocket-Key", &klen);
    assert_non_null(key);
    char accept[29];
    server_accept(key, klen, accept);
    char resp[10000];
    size_t n = 0;
    for (const char *p = f->resp; *p != '\0'; p++) {
        if (p[0] == '%' && p[1] == 's') {
            memcpy(resp + n, accept, 28);
            n += 28;
            p++;
        } else {
            resp[n++] = *p;
        }
        assert_true(n + 30 < sizeof resp);
    }
    /* The answer goes in front of frames the test queued already. */
    memmove(f->in + n, f->in, f->in_len);
    memcpy(f->in, resp, n);
    f->in_len += n;
    f->resp_given = true;
}

static mqtls_status_t fake_connect(mqtls_transport_t *t, int64_t now_ms)
{
    (void)t;
    (void)now_ms;
    return MQTLS_OK;
}

static mqtls_status_t fake_read(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got)
{
    fake_t *f = (fake_t *)t;
    *got = 0;
    give_response(f);
    if (f->block_reads) {
        f->rtoggle = !f->rtoggle;
        if (f->rtoggle) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
    }
    size_t left = f->in_len - f->in_off;
    if (left == 0) {
        return f->eof_at_end ? MQTLS_ERR_CLOSED : MQTLS_ERR_WOULD_BLOCK;
    }
    size_t n = left < cap ? left : cap;
    if (f->chunk != 0 && n > f->chunk) {
        n = f->chunk;
    }
    memcpy(buf, f->in + f->in_off, n);
    f->in_off += n;
    *got = n;
    return MQTLS_OK;
}

static mqtls_status_t fake_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t count,
                                  size_t *sent)
{
    fake_t *f = (fake_t *)t;
    *sent = 0;
    if (count == 0) {
        f->flushes++;
        return MQTLS_OK;
    }
    if (f->block_writes) {
        f->wtoggle = !f->wtoggle;
        if (f->wtoggle) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t k = iov[i].len;
        if (f->max_write != 0 && n + k > f->max_write) {
            k = f->max_write - n;
        }
        assert_true(f->out_len + k <= FAKE_CAP);
        memcpy(f->out + f->out_len, iov[i].base, k);
        f->out_len += k;
        n += k;
        if (f->max_write != 0 && n == f->max_write) {
            break;
        }
    }
    *sent = n;
    f->writes += n > 0 ? 1 : 0;
    return MQTLS_OK;
}

static size_t fake_pending(mqtls_transport_t *t)
{
    (void)t;
    return 0;
}

static int fake_fd(mqtls_transport_t *t)
{
    (void)t;
    return -1;
}

static unsigned fake_want(mqtls_transport_t *t)
{
    (void)t;
    return MQTLS_WANT_READ;
}

static void fake_close(mqtls_transport_t *t)
{
    ((fake_t *)t)->closes++;
}

static void fake_destroy(mqtls_transport_t *t)
{
    fake_t *f = (fake_t *)t;
    free(f->out);
    free(f->in);
    free(f);
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
};

static const char resp_ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Protocol: mqtt\r\n"
                              "\r\n";

static fake_t *fake_new(const char *resp)
{
    fake_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->out = calloc(1, FAKE_CAP);
    f->in = calloc(1, FAKE_CAP);
    assert_non_null(f->out);
    assert_non_null(f->in);
    f->base.ops = &fake_ops;
    f->resp = resp;
    return f;
}

static void push(fake_t *f, const void *p, size_t n)
{
    assert_true(f->in_len + n <= FAKE_CAP / 2);
    memcpy(f->in + f->in_len, p, n);
    f->in_len += n;
}

/* A server frame (unmasked unless @p mask). Returns its size. */
static size_t server_frame(uint8_t *o, uint8_t b0, const uint8_t *p, size_t n, const uint8_t *mask)
{
    size_t h = 0;
    o[h++] = b0;
    uint8_t mbit = mask != NULL ? 0x80 : 0;
    if (n < 126) {
        o[h++] = (uint8_t)(mbit | n);
    } else if (n <= 0xFFFF) {
        o[h++] = (uint8_t)(mbit | 126);
        o[h++] = (uint8_t)(n >> 8);
        o[h++] = (uint8_t)n;
    } else {
        o[h++] = (uint8_t)(mbit | 127);
        for (int s = 56; s >= 0; s -= 8) {
            o[h++] = (uint8_t)((uint64_t)n >> s);
        }
    }
    if (mask != NULL) {
        memcpy(o + h, mask, 4);
        h += 4;
    }
    for (size_t i = 0; i < n; i++) {
        o[h + i] = mask != NULL ? (uint8_t)(p[i] ^ mask[i & 3]) : p[i];
    }
    return h + n;
}

static void push_frame(fake_t *f, uint8_t b0, const uint8_t *p, size_t n)
{
    static uint8_t tmp[FAKE_CAP / 4];
    assert_true(n + 14 <= sizeof tmp);
    push(f, tmp, server_frame(tmp, b0, p, n, NULL));
}

/* A client frame parsed from the captured output, unmasked. */
typedef struct {
    uint8_t b0;
    bool masked;
    uint8_t mask[4];
    uint64_t len;
    const uint8_t *raw; /* masked payload in f->out */
    size_t size;        /* header + payload */
} cframe_t;

static bool parse_cframe(const uint8_t *p, size_t avail, cframe_t *c, uint8_t *payload)
{
    if (avail < 2) {
        return false;
    }
    size_t h = 2;
    c->b0 = p[0];
    c->masked = (p[1] & 0x80) != 0;
    uint64_t len = p[1] & 0x7F;
    if (len == 126) {
        len = ((uint64_t)p[2] << 8) | p[3];
        h = 4;
    } else if (len == 127) {
        len = 0;
        for (size_t i = 2; i < 10; i++) {
            len = (len << 8) | p[i];
        }
        h = 10;
    }
    if (c->masked) {
        memcpy(c->mask, p + h, 4);
        h += 4;
    }
    if (avail < h + len) {
        return false;
    }
    c->len = len;
    c->raw = p + h;
    c->size = h + (size_t)len;
    for (size_t i = 0; i < len; i++) {
        payload[i] = c->masked ? (uint8_t)(p[h + i] ^ c->mask[i & 3]) : p[h + i];
    }
    return true;
}

/* ---- driving ---------------------------------------------------------------------------- */

static mqtls_error_t err;

static mqtls_status_t drive_connect(mqtls_transport_t *ws)
{
    for (int i = 0; i < 100000; i++) {
        mqtls_status_t st = ws->ops->connect(ws, 0);
        if (st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    return MQTLS_ERR_TIMEOUT;
}

static mqtls_transport_t *make_ws(fake_t *f, const char *path, const char *proto)
{
    mqtls_transport_t *ws = NULL;
    mqtls_error_init(&err);
    assert_int_equal(mqtls__ws_create(&f->base, "127.0.0.1", 8080, path, proto, &err, &ws),
                     MQTLS_OK);
    return ws;
}

static mqtls_transport_t *open_ws(fake_t *f)
{
    mqtls_transport_t *ws = make_ws(f, NULL, NULL);
    assert_int_equal(drive_connect(ws), MQTLS_OK);
    return ws;
}

/* Read until @p n bytes arrived or a status other than OK/WOULD_BLOCK. */
static mqtls_status_t read_n(mqtls_transport_t *ws, uint8_t *buf, size_t n, size_t *have)
{
    *have = 0;
    for (int i = 0; i < 2000000 && *have < n; i++) {
        size_t got = 0;
        mqtls_status_t st = ws->ops->read(ws, buf + *have, n - *have, &got);
        if (st == MQTLS_OK) {
            assert_true(got > 0);
            *have += got;
        } else if (st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    return *have == n ? MQTLS_OK : MQTLS_ERR_TIMEOUT;
}

/* Write all of @p iov (the caller's side of partial writes), then flush. */
static void write_all(mqtls_transport_t *ws, const uint8_t *p, size_t n)
{
    for (int i = 0; i < 10000000 && n > 0; i++) {
        mqtls_iovec_t v = {.base = p, .len = n};
        size_t sent = 0;
        mqtls_status_t st = ws->ops->writev(ws, &v, 1, &sent);
        if (st == MQTLS_OK) {
            assert_true(sent > 0 && sent <= n);
            p += sent;
            n -= sent;
        } else {
            assert_int_equal(st, MQTLS_ERR_WOULD_BLOCK);
            assert_int_equal(sent, 0);
        }
    }
    assert_int_equal(n, 0);
    for (int i = 0; i < 10000000 && (ws->ops->want(ws) & MQTLS_WANT_WRITE); i++) {
        size_t sent = 0;
        mqtls_status_t st = ws->ops->writev(ws, NULL, 0, &sent);
        assert_true(st == MQTLS_OK || st == MQTLS_ERR_WOULD_BLOCK);
    }
    assert_false(ws->ops->want(ws) & MQTLS_WANT_WRITE);
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/* ---- handshake -------------------------------------------------------------------------- */

static void test_ws_accept_rfc6455_sample_vector(void **state)
{
    (void)state;
    char out[29];
    /* RFC 6455 section 1.3 */
    assert_true(mqtls__ws_accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char indep[29];
    server_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, indep);
    assert_string_equal(indep, out);
}

static void test_ws_handshake_ok_sends_rfc_request(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    assert_string_equal(ws->ops->name, "ws");
    const char *req = (const char *)f->out;
    assert_int_equal(strncmp(req, "GET /mqtt HTTP/1.1\r\n", 20), 0);
    size_t len = 0;
    const char *v = request_header(f, "Host", &len);
    assert_non_null(v);
    assert_int_equal(strncmp(v, "127.0.0.1:8080\r\n", len + 2), 0);
    v = request_header(f, "Upgrade", &len);
    assert_true(v != NULL && len == 9 && strncmp(v, "websocket", 9) == 0);
    v = request_header(f, "Connection", &len);
    assert_true(v != NULL && len == 7 && strncmp(v, "Upgrade", 7) == 0);
    v = request_header(f, "Sec-WebSocket-Version", &len);
    assert_true(v != NULL && len == 2 && strncmp(v, "13", 2) == 0);
    v = request_header(f, "Sec-WebSocket-Protocol", &len);
    assert_true(v != NULL && len == 4 && strncmp(v, "mqtt", 4) == 0);
    v = request_header(f, "Sec-WebSocket-Key", &len);
    assert_true(v != NULL && len == 24);
    uint8_t nonce[32];
    size_t nlen = 0;
    assert_int_equal(mbedtls_base64_decode(nonce, sizeof nonce, &nlen, (const uint8_t *)v, len), 0);
    assert_int_equal(nlen, 16);                   /* RFC 6455 4.1: 16 random bytes */
    assert_int_equal(request_len(f), f->out_len); /* nothing else was sent */
    assert_string_equal(mqtls__ws_subprotocol(ws), "mqtt");
    assert_null(mqtls__ws_note(ws));
    assert_int_equal(ws->ops->want(ws), MQTLS_WANT_READ);
    ws->ops->destroy(ws);
}

static void test_ws_handshake_keys_differ_between_connects(void **state)
{
    (void)state;
    char key1[25] = {0};
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t len = 0;
    const char *v = request_header(f, "Sec-WebSocket-Key", &len);
    memcpy(key1, v, 24);
    ws->ops->close(ws);
    assert_int_equal(f->closes, 1);
    f->out_len = 0;
    f->in_len = f->in_off = 0;
    f->resp_given = false;
    assert_int_equal(drive_connect(ws), MQTLS_OK);
    v = request_header(f, "Sec-WebSocket-Key", &len);
    assert_non_null(v);
    assert_memory_not_equal(key1, v, 24);
    ws->ops->destroy(ws);
}

static void test_ws_handshake_ipv6_host_and_custom_path(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = NULL;
    assert_int_equal(mqtls__ws_create(&f->base, "::1", 9001, "/ws/x?a=1", NULL, &err, &ws),
                     MQTLS_OK);
    assert_int_equal(drive_connect(ws), MQTLS_OK);
    assert_int_equal(strncmp((const char *)f->out, "GET /ws/x?a=1 HTTP/1.1\r\n", 24), 0);
    size_t len = 0;
    const char *v = request_header(f, "Host", &len);
    assert_true(v != NULL && len == 10 && strncmp(v, "[::1]:9001", 10) == 0);
    ws->ops->destroy(ws);
}

static void test_ws_create_bad_args_rejected_and_inner_freed(void **state)
{
    (void)state;
    mqtls_transport_t *ws = NULL;
    /* The fakes are freed by create (ownership), ASan would flag a leak otherwise. */
    assert_int_equal(mqtls__ws_create(&fake_new(NULL)->base, "h", 1, "no-slash", NULL, &err, &ws),
                     MQTLS_ERR_INVALID_ARG);
    assert_null(ws);
    assert_int_equal(mqtls__ws_create(&fake_new(NULL)->base, "h", 1, "/a\r\nX: y", NULL, &err, &ws),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__ws_create(&fake_new(NULL)->base, "", 1, NULL, NULL, &err, &ws),
                     MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls__ws_create(NULL, "h", 1, NULL, NULL, &err, &ws), MQTLS_ERR_INVALID_ARG);
}

static void expect_handshake_failure(const char *resp, const char *detail_part)
{
    fake_t *f = fake_new(resp);
    mqtls_transport_t *ws = make_ws(f, NULL, NULL);
    assert_int_equal(drive_connect(ws), MQTLS_ERR_WS_HANDSHAKE);
    assert_int_equal(err.status, MQTLS_ERR_WS_HANDSHAKE);
    assert_int_equal(err.layer, MQTLS_LAYER_WS);
    if (strstr(err.detail, detail_part) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, detail_part);
    }
    assert_int_equal(f->closes, 1); /* the dead connection is closed */
    ws->ops->destroy(ws);
}

static void test_ws_handshake_bad_accept_fails(void **state)
{
    (void)state;
    expect_handshake_failure("HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                             "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
                             "Sec-WebSocket-Accept");
    expect_handshake_failure("HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                             "(missing)");
}

static void test_ws_handshake_404_reports_status_line(void **state)
{
    (void)state;
    fake_t *f = fake_new("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    mqtls_transport_t *ws = make_ws(f, NULL, NULL);
    assert_int_equal(drive_connect(ws), MQTLS_ERR_WS_HANDSHAKE);
    assert_string_equal(err.detail, "HTTP/1.1 404 Not Found");
    ws->ops->destroy(ws);
}

static void test_ws_handshake_bad_upgrade_or_connection_fails(void **state)
{
    (void)state;
    expect_handshake_failure("HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: %s\r\n\r\n",
                             "Upgrade: websocket");
    expect_handshake_failure("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
                             "Sec-WebSocket-Accept: %s\r\n\r\n",
                             "Connection: Upgrade");
    expect_handshake_failure("SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP answer");
    expect_handshake_failure("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: %s\r\n"
                             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                             "extension");
}

static void test_ws_handshake_headers_case_insensitive(void **state)
{
    (void)state;
    fake_t *f = fake_new("HTTP/1.1 101 Switching Protocols\r\n"
                         "upgrade:   WebSocket  \r\n"
                         "CONNECTION: keep-alive, upgrade\r\n"
                         "sec-websocket-accept: %s\r\n"
                         "sec-websocket-protocol: mqtt\r\n"
                         "X-Other: 1\r\n\r\n");
    mqtls_transport_t *ws = open_ws(f);
    ws->ops->destroy(ws);
}

static void test_ws_handshake_missing_subprotocol_accepted_with_note(void **state)
{
    (void)state;
    fake_t *f = fake_new("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n");
    mqtls_transport_t *ws = open_ws(f);
    assert_non_null(mqtls__ws_note(ws));
    assert_non_null(strstr(mqtls__ws_note(ws), "did not echo"));
    assert_string_equal(mqtls__ws_subprotocol(ws), "");
    ws->ops->destroy(ws);
}

static void test_ws_handshake_different_subprotocol_fails(void **state)
{
    (void)state;
    expect_handshake_failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                             "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n",
                             "not offered");
}

static void test_ws_handshake_list_offer_and_no_offer(void **state)
{
    (void)state;
    /* Offered as a list: the server picks one of them. */
    fake_t *f = fake_new("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                         "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n");
    mqtls_transport_t *ws = make_ws(f, NULL, "mqtt, mqttv3.1");
    assert_int_equal(drive_connect(ws), MQTLS_OK);
    assert_string_equal(mqtls__ws_subprotocol(ws), "mqttv3.1");
    ws->ops->destroy(ws);
    /* "" offers nothing: no header, and an echo would be unrequested. */
    f = fake_new("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n");
    ws = make_ws(f, NULL, "");
    assert_int_equal(drive_connect(ws), MQTLS_OK);
    size_t len = 0;
    assert_null(request_header(f, "Sec-WebSocket-Protocol", &len));
    assert_null(mqtls__ws_note(ws));
    ws->ops->destroy(ws);
}

static void test_ws_handshake_split_byte_by_byte_connects(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    f->chunk = 1;
    f->block_reads = true;
    f->max_write = 1; /* the request leaves one byte at a time as well */
    f->block_writes = true;
    mqtls_transport_t *ws = open_ws(f);
    assert_int_equal(f->in_off, f->in_len);
    assert_int_equal(request_len(f), f->out_len);
    ws->ops->destroy(ws);
}

static void test_ws_handshake_oversized_answer_fails(void **state)
{
    (void)state;
    static char big[9500];
    memcpy(big, "HTTP/1.1 101 OK\r\n", 17);
    memset(big + 17, 'a', sizeof big - 18);
    expect_handshake_failure(big, "longer than");
}

static void test_ws_handshake_peer_closes_fails(void **state)
{
    (void)state;
    fake_t *f = fake_new(NULL);
    f->eof_at_end = true;
    mqtls_transport_t *ws = make_ws(f, NULL, NULL);
    assert_int_equal(drive_connect(ws), MQTLS_ERR_WS_HANDSHAKE);
    assert_non_null(strstr(err.detail, "before any HTTP answer"));
    ws->ops->destroy(ws);
}

/* ---- receiving ---------------------------------------------------------------------------- */

static void test_ws_read_data_right_after_101_not_lost(void **state)
{
    (void)state;
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    fake_t *f = fake_new(resp_ok);
    push_frame(f, 0x82, connack, sizeof connack); /* arrives in the same read as the 101 */
    mqtls_transport_t *ws = open_ws(f);
    assert_int_equal(f->in_off, f->in_len); /* consumed by the handshake read */
    assert_true(ws->ops->pending(ws) > 0);  /* so the caller reads without polling */
    uint8_t buf[16];
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, connack, 4);
    assert_int_equal(ws->ops->pending(ws), 0);
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_WOULD_BLOCK);
    ws->ops->destroy(ws);
}

static void check_stream(size_t chunk, bool block, const size_t *sizes, size_t count)
{
    static uint8_t payload[400000];
    static uint8_t back[400000];
    fake_t *f = fake_new(resp_ok);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        assert_true(total + sizes[i] <= sizeof payload);
        fill_pattern(payload + total, sizes[i], (unsigned)i);
        push_frame(f, 0x82, payload + total, sizes[i]);
        total += sizes[i];
    }
    mqtls_transport_t *ws = open_ws(f);
    f->chunk = chunk;
    f->block_reads = block;
    size_t have = 0;
    assert_int_equal(read_n(ws, back, total, &have), MQTLS_OK);
    assert_memory_equal(back, payload, total);
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, back, 1, &got), MQTLS_ERR_WOULD_BLOCK);
    ws->ops->destroy(ws);
}

static void test_ws_read_frames_split_across_reads(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 130, 1, 300};
    check_stream(1, true, sizes, ARRAY_LEN(sizes)); /* one byte per read, blocks between */
    check_stream(3, false, sizes, ARRAY_LEN(sizes));
}

static void test_ws_read_several_frames_in_one_read(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 2, 10, 0, 125, 126};
    check_stream(0, false, sizes, ARRAY_LEN(sizes));
}

static void test_ws_read_7_16_64_bit_lengths(void **state)
{
    (void)state;
    const size_t sizes[] = {125, 126, 65535, 65536, 100000};
    check_stream(0, false, sizes, ARRAY_LEN(sizes));
    check_stream(777, true, sizes, ARRAY_LEN(sizes));
}

static void test_ws_read_fragmented_message_reassembled(void **state)
{
    (void)state;
    static const uint8_t pkt[] = {0x30, 0x05, 0x00, 0x01, 't', 'h', 'i'};
    fake_t *f = fake_new(resp_ok);
    push_frame(f, 0x02, pkt, 2);     /* binary, no FIN */
    push_frame(f, 0x89, NULL, 0);    /* a PING may come between fragments (RFC 6455 5.4) */
    push_frame(f, 0x00, pkt + 2, 3); /* continuation */
    push_frame(f, 0x80, pkt + 5, 2); /* continuation, FIN */
    mqtls_transport_t *ws = open_ws(f);
    uint8_t buf[16];
    size_t have = 0;
    assert_int_equal(read_n(ws, buf, sizeof pkt, &have), MQTLS_OK);
    assert_memory_equal(buf, pkt, sizeof pkt);
    ws->ops->destroy(ws);
}

static void test_ws_read_ping_answered_with_pong(void **state)
{
    (void)state;
    static const uint8_t ping_data[] = {'h', 'e', 'y', 0x00, 0xFF};
    static const uint8_t data[] = {0xD0, 0x00}; /* PINGRESP */
    fake_t *f = fake_new(resp_ok);
    push_frame(f, 0x89, ping_data, sizeof ping_data);
    push_frame(f, 0x82, data, sizeof data);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    uint8_t buf[8];
    size_t have = 0;
    assert_int_equal(read_n(ws, buf, 2, &have), MQTLS_OK);
    assert_memory_equal(buf, data, 2);
    cframe_t c;
    uint8_t pl[200];
    assert_true(parse_cframe(f->out + req, f->out_len - req, &c, pl));
    assert_int_equal(c.b0, 0x8A); /* FIN + PONG */
    assert_true(c.masked);
    assert_int_equal(c.len, sizeof ping_data);
    assert_memory_equal(pl, ping_data, sizeof ping_data);
    assert_int_equal(req + c.size, f->out_len);
    ws->ops->destroy(ws);
}

static void test_ws_read_close_replies_and_returns_closed(void **state)
{
    (void)state;
    static const uint8_t close_body[] = {0x03, 0xE9, 'b', 'y', 'e'}; /* 1001 "bye" */
    static const uint8_t data[] = {0x20, 0x02, 0x00, 0x00};
    fake_t *f = fake_new(resp_ok);
    push_frame(f, 0x82, data, sizeof data);
    push_frame(f, 0x88, close_body, sizeof close_body);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    uint8_t buf[16];
    size_t got = 0;
    /* Data that came before the CLOSE is delivered first. */
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_OK);
    assert_int_equal(got, 4);
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_CLOSED);
    assert_int_equal(got, 0);
    assert_int_equal(err.status, MQTLS_ERR_CLOSED);
    assert_non_null(strstr(err.detail, "CLOSE 1001 bye"));
    cframe_t c;
    uint8_t pl[200];
    assert_true(parse_cframe(f->out + req, f->out_len - req, &c, pl));
    assert_int_equal(c.b0, 0x88);
    assert_true(c.masked);
    assert_int_equal(c.len, 2);
    assert_int_equal(pl[0], 0x03); /* echoes the code (RFC 6455 5.5.1) */
    assert_int_equal(pl[1], 0xE9);
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_CLOSED);
    size_t sent = 0;
    mqtls_iovec_t v = {.base = data, .len = 4};
    assert_int_equal(ws->ops->writev(ws, &v, 1, &sent), MQTLS_ERR_CLOSED);
    /* close() after a peer CLOSE sends no second CLOSE. */
    size_t before = f->out_len;
    ws->ops->close(ws);
    assert_int_equal(f->out_len, before);
    ws->ops->destroy(ws);
}

static void test_ws_read_tcp_eof_without_close_is_closed(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    f->eof_at_end = true;
    uint8_t buf[4];
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_CLOSED);
    ws->ops->destroy(ws);
}

static void expect_protocol_error(const uint8_t *frame, size_t len, const char *detail_part)
{
    fake_t *f = fake_new(resp_ok);
    push(f, frame, len);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    uint8_t buf[64];
    size_t have = 0;
    assert_int_equal(read_n(ws, buf, sizeof buf, &have), MQTLS_ERR_WS_PROTOCOL);
    assert_int_equal(err.status, MQTLS_ERR_WS_PROTOCOL);
    if (strstr(err.detail, detail_part) == NULL) {
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, detail_part);
    }
    /* A CLOSE 1002 went out (RFC 6455 7.4.1) and the transport stays failed. */
    cframe_t c;
    uint8_t pl[200];
    assert_true(parse_cframe(f->out + req, f->out_len - req, &c, pl));
    assert_int_equal(c.b0, 0x88);
    assert_int_equal(pl[0] << 8 | pl[1], 1002);
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_WS_PROTOCOL);
    ws->ops->destroy(ws);
}

static void test_ws_read_protocol_errors(void **state)
{
    (void)state;
    static const uint8_t mask[4] = {1, 2, 3, 4};
    static const uint8_t data[] = {0x20, 0x02, 0x00, 0x00};
    uint8_t fr[64];
    expect_protocol_error(fr, server_frame(fr, 0x82, data, 4, mask), "masked frame");
    expect_protocol_error(fr, server_frame(fr, 0x81, data, 4, NULL), "text frame");
    expect_protocol_error(fr, server_frame(fr, 0xC2, data, 4, NULL), "RSV");
    expect_protocol_error(fr, server_frame(fr, 0x83, data, 4, NULL), "reserved opcode");
    expect_protocol_error(fr, server_frame(fr, 0x80, data, 4, NULL), "continuation");
    expect_protocol_error(fr, server_frame(fr, 0x09, data, 4, NULL), "control frame");
    static const uint8_t huge[] = {0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0};
    expect_protocol_error(huge, sizeof huge, "top bit");
    static const uint8_t big[] = {0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0}; /* 4 GiB */
    expect_protocol_error(big, sizeof big, "over the limit");
    static const uint8_t ctrl126[] = {0x89, 0x7E, 0x00, 0x7E};
    expect_protocol_error(ctrl126, sizeof ctrl126, "control frame");
    size_t n = server_frame(fr, 0x02, data, 2, NULL);
    n += server_frame(fr + n, 0x82, data, 2, NULL);
    expect_protocol_error(fr, n, "fragmented one");
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Check that out[from..] is exactly one masked binary frame carrying @p p. */
static void expect_one_frame(const fake_t *f, size_t from, const uint8_t *p, size_t n,
                             uint8_t mask_out[4])
{
    static uint8_t pl[300000];
    cframe_t c;
    assert_true(parse_cframe(f->out + from, f->out_len - from, &c, pl));
    assert_int_equal(c.b0, 0x82);
    assert_true(c.masked);
    assert_int_equal(c.len, n);
    assert_int_equal(from + c.size, f->out_len);
    assert_memory_equal(pl, p, n);
    /* Minimal length encoding (RFC 6455 5.2). */
    uint8_t l7 = f->out[from + 1] & 0x7F;
    assert_int_equal(l7, n < 126 ? n : n <= 0xFFFF ? 126 : 127);
    if (mask_out != NULL) {
        memcpy(mask_out, c.mask, 4);
    }
}

static void test_ws_write_one_masked_frame_per_call(void **state)
{
    (void)state;
    static const uint8_t a[] = {0x30, 0x0B, 0x00, 0x03, 'a', '/', 'b'};
    static const uint8_t b[] = {'h', 'e', 'l', 'l', 'o', '!'};
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    mqtls_iovec_t v[3] = {{a, sizeof a}, {NULL, 0}, {b, sizeof b}};
    size_t sent = 0;
    f->writes = 0;
    assert_int_equal(ws->ops->writev(ws, v, 3, &sent), MQTLS_OK);
    assert_int_equal(sent, sizeof a + sizeof b);
    assert_int_equal(f->writes, 1);
    uint8_t joined[sizeof a + sizeof b];
    memcpy(joined, a, sizeof a);
    memcpy(joined + sizeof a, b, sizeof b);
    expect_one_frame(f, req, joined, sizeof joined, NULL);
    assert_int_equal(ws->ops->want(ws), MQTLS_WANT_READ);
    /* Header and masked payload leave in one inner write; 100 KiB in 16 KiB chunks. */
    f->writes = 0;
    static uint8_t big[100 * 1024];
    fill_pattern(big, sizeof big, 3);
    size_t from = f->out_len;
    write_all(ws, big, sizeof big);
    expect_one_frame(f, from, big, sizeof big, NULL);
    assert_int_equal(f->writes, (sizeof big + 16383) / 16384);
    ws->ops->destroy(ws);
}

static void test_ws_write_masks_differ_per_frame(void **state)
{
    (void)state;
    static const uint8_t a[] = {0xC0, 0x00};
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    uint8_t masks[8][4];
    for (int i = 0; i < 8; i++) {
        size_t from = f->out_len;
        write_all(ws, a, sizeof a);
        expect_one_frame(f, from, a, sizeof a, masks[i]);
    }
    int same = 0;
    for (int i = 1; i < 8; i++) {
        same += memcmp(masks[0], masks[i], 4) == 0;
    }
    assert_true(same < 7);
    ws->ops->destroy(ws);
}

static void check_partial_writes(size_t n, size_t max_write, bool block)
{
    static uint8_t p[200000];
    fill_pattern(p, n, (unsigned)n);
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    f->max_write = max_write;
    f->block_writes = block;
    write_all(ws, p, n); /* the caller passes the unsent rest each time */
    expect_one_frame(f, req, p, n, NULL);
    ws->ops->destroy(ws);
}

static void test_ws_write_partial_inner_writes_exact_frame(void **state)
{
    (void)state;
    check_partial_writes(200, 1, false); /* one byte per inner write */
    check_partial_writes(200, 1, true);
    check_partial_writes(70000, 1, true); /* longer than the scratch: spans writev calls */
    check_partial_writes(70000, 5000, false);
    check_partial_writes(125, 0, false);
    check_partial_writes(65535, 0, false);
    check_partial_writes(150000, 0, false);
}

static void test_ws_write_pong_waits_for_frame_end(void **state)
{
    (void)state;
    static uint8_t p[40000];
    fill_pattern(p, sizeof p, 7);
    static const uint8_t ping_data[] = {'p'};
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    f->max_write = 100;
    f->block_writes = true;
    /* Start a frame that cannot be finished in one call. */
    mqtls_iovec_t v = {.base = p, .len = sizeof p};
    size_t sent = 0;
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    for (int i = 0; i < 10 && st == MQTLS_ERR_WOULD_BLOCK; i++) {
        st = ws->ops->writev(ws, &v, 1, &sent);
    }
    assert_int_equal(st, MQTLS_OK);
    assert_true(sent > 0 && sent < sizeof p);
    /* A PING arrives now: its PONG must not land inside the data frame. */
    push_frame(f, 0x89, ping_data, 1);
    uint8_t buf[4];
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, buf, sizeof buf, &got), MQTLS_ERR_WOULD_BLOCK);
    assert_true(ws->ops->want(ws) & MQTLS_WANT_WRITE);
    write_all(ws, p + sent, sizeof p - sent);
    static uint8_t pl[50000];
    cframe_t c;
    assert_true(parse_cframe(f->out + req, f->out_len - req, &c, pl));
    assert_int_equal(c.b0, 0x82);
    assert_int_equal(c.len, sizeof p);
    assert_memory_equal(pl, p, sizeof p);
    cframe_t c2;
    assert_true(parse_cframe(f->out + req + c.size, f->out_len - req - c.size, &c2, pl));
    assert_int_equal(c2.b0, 0x8A);
    assert_int_equal(pl[0], 'p');
    assert_int_equal(req + c.size + c2.size, f->out_len);
    ws->ops->destroy(ws);
}

static void test_ws_close_sends_close_1000(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t req = f->out_len;
    ws->ops->close(ws);
    cframe_t c;
    uint8_t pl[8];
    assert_true(parse_cframe(f->out + req, f->out_len - req, &c, pl));
    assert_int_equal(c.b0, 0x88);
    assert_true(c.masked);
    assert_int_equal(c.len, 2);
    assert_int_equal(pl[0] << 8 | pl[1], 1000);
    assert_int_equal(f->closes, 1);
    size_t got = 0;
    assert_int_equal(ws->ops->read(ws, pl, 1, &got), MQTLS_ERR_STATE);
    ws->ops->destroy(ws);
}

static void test_ws_flush_forwards_to_inner(void **state)
{
    (void)state;
    fake_t *f = fake_new(resp_ok);
    mqtls_transport_t *ws = open_ws(f);
    size_t sent = 1;
    assert_int_equal(ws->ops->writev(ws, NULL, 0, &sent), MQTLS_OK);
    assert_int_equal(sent, 0);
    assert_int_equal(f->flushes, 1);
    ws->ops->destroy(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_accept_rfc6455_sample_vector),
        cmocka_unit_test(test_ws_handshake_ok_sends_rfc_request),
        cmocka_unit_test(test_ws_handshake_keys_differ_between_connects),
        cmocka_unit_test(test_ws_handshake_ipv6_host_and_custom_path),
        cmocka_unit_test(test_ws_create_bad_args_rejected_and_inner_freed),
        cmocka_unit_test(test_ws_handshake_bad_accept_fails),
        cmocka_unit_test(test_ws_handshake_404_reports_status_line),
        cmocka_unit_test(test_ws_handshake_bad_upgrade_or_connection_fails),
        cmocka_unit_test(test_ws_handshake_headers_case_insensitive),
        cmocka_unit_test(test_ws_handshake_missing_subprotocol_accepted_with_note),
        cmocka_unit_test(test_ws_handshake_different_subprotocol_fails),
        cmocka_unit_test(test_ws_handshake_list_offer_and_no_offer),
        cmocka_unit_test(test_ws_handshake_split_byte_by_byte_connects),
        cmocka_unit_test(test_ws_handshake_oversized_answer_fails),
        cmocka_unit_test(test_ws_handshake_peer_closes_fails),
        cmocka_unit_test(test_ws_read_data_right_after_101_not_lost),
        cmocka_unit_test(test_ws_read_frames_split_across_reads),
        cmocka_unit_test(test_ws_read_several_frames_in_one_read),
        cmocka_unit_test(test_ws_read_7_16_64_bit_lengths),
        cmocka_unit_test(test_ws_read_fragmented_message_reassembled),
        cmocka_unit_test(test_ws_read_ping_answered_with_pong),
        cmocka_unit_test(test_ws_read_close_replies_and_returns_closed),
        cmocka_unit_test(test_ws_read_tcp_eof_without_close_is_closed),
        cmocka_unit_test(test_ws_read_protocol_errors),
        cmocka_unit_test(test_ws_write_one_masked_frame_per_call),
        cmocka_unit_test(test_ws_write_masks_differ_per_frame),
        cmocka_unit_test(test_ws_write_partial_inner_writes_exact_frame),
        cmocka_unit_test(test_ws_write_pong_waits_for_frame_end),
        cmocka_unit_test(test_ws_close_sends_close_1000),
        cmocka_unit_test(test_ws_flush_forwards_to_inner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
