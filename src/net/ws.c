/* WebSocket client transport (net.h): RFC 6455 over any inner transport, for MQTT over
 * WebSocket (MQTT 5.0 and 3.1.1 section 6). The MQTT byte stream is carried in binary frames;
 * packets and frames are independent [MQTT-6.0.0-2], so this layer never looks at MQTT. */
#include "ws_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>


/* ---- helpers -------------------------------------------------------------------------- */

/* RFC 6455 10.3: masks must be unpredictable, so they come from the kernel CSPRNG. */
bool mqtls__ws_random_bytes(ws_t *t, uint8_t *dst, size_t n)
{
    while (n > 0) {
        if (t->rnd_left == 0) {
            size_t have = 0;
            for (int tries = 0; tries < 16 && have < sizeof t->rnd; tries++) {
                ssize_t r = getrandom(t->rnd + have, sizeof t->rnd - have, 0);
                if (r > 0) {
                    have += (size_t)r;
                } else if (r < 0 && errno != EINTR) {
                    break;
                }
            }
            if (have < sizeof t->rnd) {
                (void)mqtls__net_fail(t->base.err, MQTLS_LAYER_WS, MQTLS_ERR_OS, errno,
                                      "ws: getrandom failed");
                return false;
            }
            t->rnd_left = sizeof t->rnd;
        }
        size_t k = n < t->rnd_left ? n : t->rnd_left;
        memcpy(dst, t->rnd + sizeof t->rnd - t->rnd_left, k);
        t->rnd_left -= k;
        dst += k;
        n -= k;
    }
    return true;
}

static size_t iov_total(const mqtls_iovec_t *iov, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += iov[i].len;
    }
    return total;
}

/* Write what is staged in out. MQTLS_OK once all of it is with the inner transport. */
mqtls_status_t mqtls__ws_flush_out(ws_t *t)
{
    for (int rounds = 0; t->out_off < t->out_len && rounds < 64; rounds++) {
        mqtls_iovec_t v = {.base = t->out + t->out_off, .len = t->out_len - t->out_off};
        size_t sent = 0;
        mqtls_status_t st = t->inner->ops->writev(t->inner, &v, 1, &sent);
        if (st != MQTLS_OK) {
            return st;
        }
        if (sent == 0) {
            return MQTLS_ERR_WOULD_BLOCK;
        }
        t->out_off += sent;
    }
    if (t->out_off < t->out_len) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    t->out_off = 0;
    t->out_len = 0;
    return MQTLS_OK;
}

/* Build a masked control frame in ctrl_out (RFC 6455 5.5). A newer PONG replaces an older one
 * (5.5.3 allows answering only the latest PING); a CLOSE replaces anything. */
static bool queue_control(ws_t *t, uint8_t opcode, const uint8_t *payload, size_t len)
{
    if (t->close_sent || len > 125) {
        return false;
    }
    if (t->ctrl_out_len > 0 && opcode == OP_PONG && (t->ctrl_out[0] & 0x0F) == OP_CLOSE) {
        return false;
    }
    uint8_t mask[4];
    if (!mqtls__ws_random_bytes(t, mask, sizeof mask)) {
        return false;
    }
    t->ctrl_out[0] = (uint8_t)(0x80u | opcode);
    t->ctrl_out[1] = (uint8_t)(0x80u | len);
    memcpy(t->ctrl_out + 2, mask, 4);
    for (size_t i = 0; i < len; i++) {
        t->ctrl_out[6 + i] = (uint8_t)(payload[i] ^ mask[i & 3u]);
    }
    t->ctrl_out_len = 6 + len;
    if (opcode == OP_CLOSE) {
        t->close_sent = true;
    }
    return true;
}

/* Move a queued control frame into out, but never into the middle of a data frame. */
static void stage_control(ws_t *t)
{
    if (t->ctrl_out_len > 0 && t->frame_left == 0 && t->out_len + t->ctrl_out_len <= WS_OUT_CAP) {
        memcpy(t->out + t->out_len, t->ctrl_out, t->ctrl_out_len);
        t->out_len += t->ctrl_out_len;
        t->ctrl_out_len = 0;
    }
}

static bool queue_close(ws_t *t, uint16_t code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return queue_control(t, OP_CLOSE, p, sizeof p);
}

static void reset_session(ws_t *t)
{
    t->rlen = t->roff = t->hs_scan = 0;
    t->hdr_len = 0;
    t->in_payload = false;
    t->payload_left = 0;
    t->ctrl_len = 0;
    t->msg_open = false;
    t->peer_closed = false;
    t->out_len = t->out_off = 0;
    t->frame_left = t->frame_pos = 0;
    t->ctrl_out_len = 0;
    t->close_sent = false;
    t->dead_status = MQTLS_OK;
    t->selected[0] = '\0';
    t->note = NULL;
}

/* A protocol violation by the server: send CLOSE 1002 once, best effort (RFC 6455 7.4.1). */
static mqtls_status_t protocol_error(ws_t *t, const char *what)
{
    if (queue_close(t, 1002)) {
        stage_control(t);
        (void)mqtls__ws_flush_out(t);
    }
    t->state = WS_DEAD;
    t->dead_status = MQTLS_ERR_WS_PROTOCOL;
    return WS_FAIL(t, MQTLS_ERR_WS_PROTOCOL, "ws: %s", what);
}

static mqtls_status_t ws_connect(mqtls_transport_t *base, int64_t now_ms)
{
    ws_t *t = (ws_t *)base;
    mqtls_status_t st;
    switch (t->state) {
    case WS_DEAD:
        t->inner->ops->close(t->inner);
        /* fall through */
    case WS_IDLE:
        mqtls_error_init(t->base.err); /* a new attempt: no stale detail */
        reset_session(t);
        t->state = WS_INNER;
        /* fall through */
    case WS_INNER:
        st = t->inner->ops->connect(t->inner, now_ms);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = t->inner->ops->want(t->inner);
            return st;
        }
        if (st != MQTLS_OK) {
            goto failed;
        }
        st = mqtls__ws_build_request(t);
        if (st != MQTLS_OK) {
            goto failed;
        }
        t->state = WS_REQUEST;
        /* fall through */
    case WS_REQUEST:
        st = mqtls__ws_flush_out(t);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            goto failed;
        }
        t->state = WS_RESPONSE;
        /* fall through */
    case WS_RESPONSE:
        st = mqtls__ws_read_response(t);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            /* A TLS inner may still hold the request: its want() says so. */
            t->want = t->inner->ops->want(t->inner) | MQTLS_WANT_READ;
            return st;
        }
        if (st != MQTLS_OK) {
            goto failed;
        }
        t->state = WS_OPEN;
        t->want = MQTLS_WANT_READ;
        return MQTLS_OK;
    case WS_OPEN:
        return MQTLS_OK;
    }
    return MQTLS_ERR_STATE;
failed:
    t->inner->ops->close(t->inner); /* a failed upgrade leaves nothing usable */
    t->state = WS_IDLE;
    t->want = 0;
    return st;
}

/* ---- receive -------------------------------------------------------------------------- */

/* Header complete in t->hdr: validate it (RFC 6455 5.2) and enter the payload. */
static mqtls_status_t start_frame(ws_t *t, uint64_t len)
{
    uint8_t b0 = t->hdr[0];
    if ((b0 & 0x70u) != 0) {
        return protocol_error(t, "reserved bits RSV1-3 set without a negotiated extension");
    }
    t->fin = (b0 & 0x80u) != 0;
    t->opcode = (uint8_t)(b0 & 0x0Fu);
    if (len > MQTLS_WS_MAX_FRAME_LEN) {
        return protocol_error(t, "frame length over the limit (MQTLS_WS_MAX_FRAME_LEN)");
    }
    switch (t->opcode) {
    case OP_CONT:
        if (!t->msg_open) {
            return protocol_error(t, "continuation frame without a started message");
        }
        t->msg_open = !t->fin;
        break;
    case OP_BINARY:
        if (t->msg_open) {
            return protocol_error(t, "new binary message inside a fragmented one");
        }
        t->msg_open = !t->fin;
        break;
    case OP_TEXT:
        /* [MQTT-6.0.0-1] MQTT is carried in binary frames; anything else closes. */
        return protocol_error(t, "text frame (MQTT over WebSocket uses binary frames only)");
    case OP_CLOSE:
    case OP_PING:
    case OP_PONG:
        if (!t->fin || len > 125) {
            return protocol_error(t, "fragmented or oversized control frame");
        }
        t->ctrl_len = 0;
        break;
    default:
        return protocol_error(t, "reserved opcode");
    }
    t->in_payload = true;
    t->payload_left = len;
    return MQTLS_OK;
}

/* Consume header bytes from rbuf. MQTLS_OK when a header was completed. */
static mqtls_status_t parse_header(ws_t *t, bool *done)
{
    *done = false;
    while (t->roff < t->rlen) {
        t->hdr[t->hdr_len++] = t->rbuf[t->roff++];
        if (t->hdr_len < 2) {
            continue;
        }
        if ((t->hdr[1] & 0x80u) != 0) {
            /* RFC 6455 5.1: a client MUST close on a masked frame from the server. */
            return protocol_error(t, "masked frame from the server");
        }
        uint8_t l7 = (uint8_t)(t->hdr[1] & 0x7Fu);
        size_t need = 2u + (l7 == 126 ? 2u : l7 == 127 ? 8u : 0u);
        if (t->hdr_len < need) {
            continue;
        }
        uint64_t len = l7;
        if (l7 == 126) {
            len = ((uint64_t)t->hdr[2] << 8) | t->hdr[3];
        } else if (l7 == 127) {
            len = 0;
            for (size_t i = 2; i < 10; i++) {
                len = (len << 8) | t->hdr[i];
            }
            if ((len >> 63) != 0) {
                return protocol_error(t, "64-bit frame length with the top bit set");
            }
        }
        t->hdr_len = 0;
        *done = true;
        return start_frame(t, len);
    }
    return MQTLS_OK;
}

/* A control frame's payload is complete. MQTLS_ERR_CLOSED for a CLOSE. */
static mqtls_status_t handle_control(ws_t *t)
{
    t->in_payload = false;
    if (t->opcode == OP_PING) {
        if (queue_control(t, OP_PONG, t->ctrl, t->ctrl_len)) {
            stage_control(t);
            mqtls_status_t st = mqtls__ws_flush_out(t);
            if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
                return st;
            }
        }
        return MQTLS_OK;
    }
    if (t->opcode == OP_PONG) {
        return MQTLS_OK; /* unsolicited PONGs are allowed (RFC 6455 5.5.3) */
    }
    /* CLOSE: a 1-byte body is invalid (5.5.1); answer with the same code, then the TCP/TLS
     * connection is the server's to end. */
    if (t->ctrl_len == 1) {
        return protocol_error(t, "CLOSE frame with a 1-byte body");
    }
    unsigned code = t->ctrl_len >= 2 ? ((unsigned)t->ctrl[0] << 8) | t->ctrl[1] : 1005u;
    if (!t->close_sent) {
        uint16_t reply = code == 1005u ? 1000u : (uint16_t)code;
        (void)queue_close(t, reply);
        stage_control(t);
        (void)mqtls__ws_flush_out(t);
    }
    t->state = WS_DEAD;
    t->dead_status = MQTLS_ERR_CLOSED;
    char reason[126];
    size_t rlen = t->ctrl_len > 2 ? t->ctrl_len - 2 : 0;
    memcpy(reason, t->ctrl + 2, rlen);
    reason[rlen] = '\0';
    for (size_t i = 0; i < rlen; i++) {
        if (reason[i] < 0x20 || reason[i] == 0x7F) {
            reason[i] = '?'; /* detail is printed: no control characters */
        }
    }
    if (t->base.err != NULL) {
        (void)mqtls__net_fail(t->base.err, MQTLS_LAYER_WS, MQTLS_ERR_CLOSED, 0,
                              "ws: server sent CLOSE %u%s%.100s", code, rlen > 0 ? " " : "",
                              reason);
    }
    return MQTLS_ERR_CLOSED;
}

static mqtls_status_t ws_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    ws_t *t = (ws_t *)base;
    *got = 0;
    if (t->state == WS_DEAD) {
        return t->dead_status;
    }
    if (t->state != WS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (t->peer_closed) {
        t->state = WS_DEAD;
        return MQTLS_ERR_CLOSED;
    }
    /* A PONG that waited for a frame to end, or staged bytes: push them, best effort. */
    stage_control(t);
    if (t->out_len > 0) {
        mqtls_status_t st = mqtls__ws_flush_out(t);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
    }
    size_t n = 0;
    for (int rounds = 0; rounds < 256 && n < cap; rounds++) {
        if (t->roff == t->rlen) {
            t->roff = t->rlen = 0;
            if (n > 0) {
                break; /* deliver now, do not wait for more */
            }
            size_t g = 0;
            mqtls_status_t st;
            bool direct = t->in_payload && t->opcode != OP_CLOSE && t->opcode != OP_PING &&
                          t->opcode != OP_PONG && t->payload_left > 0;
            if (direct) {
                /* Large payloads go straight to the caller: no copy through rbuf. */
                size_t k = t->payload_left < cap ? (size_t)t->payload_left : cap;
                st = t->inner->ops->read(t->inner, buf, k, &g);
            } else {
                st = t->inner->ops->read(t->inner, t->rbuf, sizeof t->rbuf, &g);
            }
            if (st == MQTLS_ERR_WOULD_BLOCK) {
                t->want = t->inner->ops->want(t->inner) | MQTLS_WANT_READ;
                return st;
            }
            if (st == MQTLS_ERR_CLOSED) {
                t->state = WS_DEAD;
                t->dead_status = MQTLS_ERR_CLOSED;
                return mqtls__net_fail(t->base.err, MQTLS_LAYER_WS, MQTLS_ERR_CLOSED, 0,
                                       "ws: connection closed without a WebSocket CLOSE");
            }
            if (st != MQTLS_OK) {
                return st;
            }
            if (direct) {
                n = g;
                t->payload_left -= g;
                if (t->payload_left == 0) {
                    t->in_payload = false;
                }
                break;
            }
            t->rlen = g;
            continue;
        }
        if (!t->in_payload) {
            bool done = false;
            mqtls_status_t st = parse_header(t, &done);
            if (st != MQTLS_OK) {
                return st;
            }
            if (!done) {
                continue; /* every buffered byte was header: read more */
            }
            if (t->payload_left == 0 && t->opcode < OP_CLOSE) {
                t->in_payload = false; /* empty data frame */
                continue;
            }
            if (t->payload_left > 0) {
                continue;
            }
            /* An empty control frame: handled right below with ctrl_len 0. */
        }
        size_t avail = t->rlen - t->roff;
        size_t k = avail < t->payload_left ? avail : (size_t)t->payload_left;
        if (t->opcode >= OP_CLOSE) {
            memcpy(t->ctrl + t->ctrl_len, t->rbuf + t->roff, k);
            t->ctrl_len += k;
            t->roff += k;
            t->payload_left -= k;
            if (t->payload_left == 0) {
                mqtls_status_t st = handle_control(t);
                if (st == MQTLS_ERR_CLOSED && n > 0) {
                    t->state = WS_OPEN; /* hand over the data first, CLOSED next time */
                    t->peer_closed = true;
                    break;
                }
                if (st != MQTLS_OK) {
                    return st;
                }
            }
            continue;
        }
        k = k < cap - n ? k : cap - n;
        memcpy(buf + n, t->rbuf + t->roff, k);
        n += k;
        t->roff += k;
        t->payload_left -= k;
        if (t->payload_left == 0) {
            t->in_payload = false;
        }
    }
    *got = n;
    if (n == 0) {
        t->want = MQTLS_WANT_READ;
        return MQTLS_ERR_WOULD_BLOCK; /* only frame headers/control frames were consumed */
    }
    return MQTLS_OK;
}

/* ---- send ----------------------------------------------------------------------------- */

static mqtls_status_t ws_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov, size_t iov_count,
                                size_t *sent)
{
    ws_t *t = (ws_t *)base;
    *sent = 0;
    if (t->state == WS_DEAD) {
        return t->dead_status;
    }
    if (t->state != WS_OPEN) {
        return MQTLS_ERR_STATE;
    }
    stage_control(t);
    mqtls_status_t st = mqtls__ws_flush_out(t);
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        t->want = MQTLS_WANT_READ | MQTLS_WANT_WRITE;
        return st;
    }
    if (st != MQTLS_OK) {
        return st;
    }
    size_t total = iov != NULL ? iov_total(iov, iov_count) : 0;
    if (total == 0) {
        /* Flush request: ours is out, now the inner transport's (TLS may buffer). */
        size_t ignored = 0;
        return t->inner->ops->writev(t->inner, NULL, 0, &ignored);
    }
    if (t->frame_left == 0) {
        /* RFC 6455 5.2/5.3: FIN + binary, MASK bit, minimal length, fresh random mask. */
        if (!mqtls__ws_random_bytes(t, t->mask, sizeof t->mask)) {
            return MQTLS_ERR_OS;
        }
        size_t h = 0;
        t->out[h++] = 0x80u | OP_BINARY;
        if (total < 126) {
            t->out[h++] = (uint8_t)(0x80u | total);
        } else if (total <= 0xFFFFu) {
            t->out[h++] = 0x80u | 126u;
            t->out[h++] = (uint8_t)(total >> 8);
            t->out[h++] = (uint8_t)total;
        } else {
            t->out[h++] = 0x80u | 127u;
            for (int s = 56; s >= 0; s -= 8) {
                t->out[h++] = (uint8_t)((uint64_t)total >> s);
            }
        }
        memcpy(t->out + h, t->mask, 4);
        h += 4;
        t->out_len = h;
        t->out_off = 0;
        t->frame_left = total;
        t->frame_pos = 0;
    }
    size_t consumed = 0;
    size_t i = 0;
    size_t off = 0;
    /* Bounded: each round stages up to WS_SCRATCH bytes or stops on a short write. */
    for (size_t rounds = 0; rounds <= total / WS_SCRATCH + 2; rounds++) {
        while (t->frame_left > 0 && i < iov_count && t->out_len < WS_SCRATCH + WS_HDR_MAX) {
            if (iov[i].len == 0) { /* base may be NULL: NULL + 0 is undefined */
                i++;
                continue;
            }
            size_t room = WS_SCRATCH + WS_HDR_MAX - t->out_len;
            size_t k = iov[i].len - off;
            k = k < room ? k : room;
            k = (uint64_t)k < t->frame_left ? k : (size_t)t->frame_left;
            const uint8_t *src = iov[i].base + off;
            uint8_t *dst = t->out + t->out_len;
            for (size_t j = 0; j < k; j++) {
                dst[j] = (uint8_t)(src[j] ^ t->mask[(t->frame_pos + j) & 3u]);
            }
            t->out_len += k;
            t->frame_pos += k;
            t->frame_left -= k;
            consumed += k;
            off += k;
            if (off == iov[i].len) {
                i++;
                off = 0;
            }
        }
        stage_control(t); /* only once the frame is complete */
        st = mqtls__ws_flush_out(t);
        if (st != MQTLS_OK || t->frame_left == 0 || i >= iov_count) {
            break;
        }
    }
    if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
        return st;
    }
    *sent = consumed;
    t->want = MQTLS_WANT_READ | (t->out_len > t->out_off ? MQTLS_WANT_WRITE : 0u);
    if (consumed == 0) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    return MQTLS_OK;
}

/* ---- the rest of the vtable ----------------------------------------------------------- */

static size_t ws_pending(mqtls_transport_t *base)
{
    ws_t *t = (ws_t *)base;
    if (t->state != WS_OPEN) {
        return 0;
    }
    return (t->rlen - t->roff) + t->inner->ops->pending(t->inner);
}

static int ws_fd(mqtls_transport_t *base)
{
    ws_t *t = (ws_t *)base;
    return t->inner->ops->fd(t->inner);
}

static unsigned ws_want(mqtls_transport_t *base)
{
    ws_t *t = (ws_t *)base;
    if (t->state == WS_INNER) {
        return t->inner->ops->want(t->inner);
    }
    if (t->state == WS_OPEN) {
        unsigned w = MQTLS_WANT_READ;
        if (t->out_len > t->out_off || t->ctrl_out_len > 0) {
            w |= MQTLS_WANT_WRITE;
        }
        return w | (t->inner->ops->want(t->inner) & MQTLS_WANT_WRITE);
    }
    return t->want;
}

static void ws_close(mqtls_transport_t *base)
{
    ws_t *t = (ws_t *)base;
    /* RFC 6455 7.1.2: start the closing handshake with 1000, best effort and one try; never
     * in the middle of a data frame (that would corrupt the stream). */
    if (t->state == WS_OPEN && t->frame_left == 0 && queue_close(t, 1000)) {
        stage_control(t);
        if (mqtls__ws_flush_out(t) == MQTLS_OK) {
            size_t ignored = 0;
            (void)t->inner->ops->writev(t->inner, NULL, 0, &ignored);
        }
    }
    t->inner->ops->close(t->inner);
    reset_session(t);
    t->state = WS_IDLE;
    t->want = 0;
}

static void ws_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    ws_t *t = (ws_t *)base;
    ws_close(base);
    t->inner->ops->destroy(t->inner);
    free(t->host);
    free(t->path);
    free(t->subprotocol);
    free(t);
}

static int64_t ws_wake_at(mqtls_transport_t *base)
{
    return mqtls__transport_wake_at(((ws_t *)base)->inner);
}

static const mqtls_transport_ops_t ws_ops = {
    .name = "ws",
    .connect = ws_connect,
    .read = ws_read,
    .writev = ws_writev,
    .pending = ws_pending,
    .fd = ws_fd,
    .want = ws_want,
    .close = ws_close,
    .destroy = ws_destroy,
    .wake_at = ws_wake_at,
};

const char *mqtls__ws_note(const mqtls_transport_t *t)
{
    return t != NULL && t->ops == &ws_ops ? ((const ws_t *)t)->note : NULL;
}

const char *mqtls__ws_subprotocol(const mqtls_transport_t *t)
{
    return t != NULL && t->ops == &ws_ops ? ((const ws_t *)t)->selected : "";
}

static char *dup_str(const char *s)
{
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d != NULL) {
        memcpy(d, s, len + 1);
    }
    return d;
}

/* Header values are sent verbatim: refuse anything that could split or fold the request. */
static bool is_clean(const char *s, bool allow_space)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7F || (!allow_space && c == ' ')) {
            return false;
        }
    }
    return true;
}

mqtls_status_t mqtls__ws_create(mqtls_transport_t *inner, const char *host, uint16_t port,
                                const char *path, const char *subprotocol, mqtls_error_t *err,
                                mqtls_transport_t **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (path == NULL) {
        path = "/mqtt";
    }
    if (subprotocol == NULL) {
        subprotocol = "mqtt"; /* [MQTT-6.0.0-3] */
    }
    if (inner == NULL || host == NULL || host[0] == '\0' || out == NULL || path[0] != '/' ||
        strlen(path) > WS_PATH_MAX || strlen(host) > 255 || strlen(subprotocol) > 255 ||
        !is_clean(path, false) || !is_clean(host, false) || !is_clean(subprotocol, true)) {
        if (inner != NULL) {
            inner->ops->destroy(inner);
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "ws: inner, host, out and a path starting with '/' (no spaces or "
                               "control characters) are required");
    }
    ws_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_WS, MQTLS_ERR_NOMEM, ENOMEM, "ws: calloc");
    }
    t->host = dup_str(host);
    t->path = dup_str(path);
    t->subprotocol = dup_str(subprotocol);
    t->inner = inner;
    if (t->host == NULL || t->path == NULL || t->subprotocol == NULL) {
        free(t->host);
        free(t->path);
        free(t->subprotocol);
        inner->ops->destroy(inner);
        free(t);
        return mqtls__net_fail(err, MQTLS_LAYER_WS, MQTLS_ERR_NOMEM, ENOMEM, "ws: malloc");
    }
    t->base.ops = &ws_ops;
    t->base.err = err;
    t->port = port;
    t->state = WS_IDLE;
    reset_session(t);
    *out = &t->base;
    return MQTLS_OK;
}
