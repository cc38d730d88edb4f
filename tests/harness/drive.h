/* Driving one non-blocking mqtls transport from a test with poll() and a deadline:
 * connect, write everything (gather list, partial writes resubmitted), read exactly n bytes.
 * Header-only (static functions) so the harness library itself stays independent of mqtls.
 * Needs harness.h and mqtls/transport.h; every loop is bounded in count and time. */
#ifndef MQTLS_TEST_DRIVE_H
#define MQTLS_TEST_DRIVE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "net/transport.h"

/* Wait (at most 100 ms, never past @p deadline) for what the transport wants. */
static inline void th_wait_for(mqtls_transport_t *t, int64_t deadline)
{
    int fd = t->ops->fd(t);
    int64_t left = deadline - th_now_ms();
    if (fd < 0 || left <= 0) {
        return;
    }
    unsigned w = t->ops->want(t);
    struct pollfd p = {.fd = fd,
                       .events = (short)(((w & MQTLS_WANT_READ) ? POLLIN : 0) |
                                         ((w & MQTLS_WANT_WRITE) ? POLLOUT : 0)),
                       .revents = 0};
    (void)poll(&p, 1, left < 100 ? (int)left : 100);
}

/* connect() until it is not WOULD_BLOCK; MQTLS_ERR_TIMEOUT at the deadline. */
static inline mqtls_status_t th_drive_connect(mqtls_transport_t *t, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    for (int i = 0; i < 100000; i++) {
        mqtls_status_t st = t->ops->connect(t, th_now_ms());
        if (st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
        if (th_now_ms() >= deadline) {
            return MQTLS_ERR_TIMEOUT;
        }
        th_wait_for(t, deadline);
    }
    return MQTLS_ERR_TIMEOUT;
}

/* Write the whole gather list (advanced in place: the caller's side of a partial write is to
 * pass the unsent rest), then flush what a TLS/WS transport still holds. Deadline 10 s. */
static inline mqtls_status_t th_write_iov(mqtls_transport_t *t, mqtls_iovec_t *iov, size_t count)
{
    int64_t deadline = th_now_ms() + 10000;
    size_t first = 0;
    while (first < count && iov[first].len == 0) {
        first++;
    }
    for (int i = 0; i < 1000000 && first < count; i++) {
        size_t sent = 0;
        mqtls_status_t st = t->ops->writev(t, iov + first, count - first, &sent);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            if (th_now_ms() >= deadline) {
                return MQTLS_ERR_TIMEOUT;
            }
            th_wait_for(t, deadline);
            continue;
        }
        if (st != MQTLS_OK) {
            return st;
        }
        while (sent > 0 && first < count) {
            size_t k = sent < iov[first].len ? sent : iov[first].len;
            iov[first].base += k;
            iov[first].len -= k;
            sent -= k;
            if (iov[first].len == 0) {
                first++;
            }
        }
        while (first < count && iov[first].len == 0) {
            first++;
        }
    }
    for (int i = 0; i < 1000000 && (t->ops->want(t) & MQTLS_WANT_WRITE); i++) {
        size_t sent = 0;
        mqtls_status_t st = t->ops->writev(t, NULL, 0, &sent);
        if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
            return st;
        }
        if (th_now_ms() >= deadline) {
            return MQTLS_ERR_TIMEOUT;
        }
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            th_wait_for(t, deadline);
        }
    }
    return first == count ? MQTLS_OK : MQTLS_ERR_TIMEOUT;
}

static inline mqtls_status_t th_write_all(mqtls_transport_t *t, const uint8_t *p, size_t n)
{
    mqtls_iovec_t v = {.base = p, .len = n};
    return th_write_iov(t, &v, 1);
}

/* Read exactly @p n bytes; MQTLS_ERR_TIMEOUT at the deadline, or the transport's error. */
static inline mqtls_status_t th_read_exact(mqtls_transport_t *t, uint8_t *buf, size_t n,
                                           int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    size_t have = 0;
    for (int i = 0; i < 1000000 && have < n; i++) {
        size_t got = 0;
        mqtls_status_t st = t->ops->read(t, buf + have, n - have, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            if (th_now_ms() >= deadline) {
                return MQTLS_ERR_TIMEOUT;
            }
            if (t->ops->pending(t) == 0) { /* bytes already decrypted need no poll */
                th_wait_for(t, deadline);
            }
            continue;
        }
        if (st != MQTLS_OK) {
            return st;
        }
        have += got;
    }
    return have == n ? MQTLS_OK : MQTLS_ERR_TIMEOUT;
}

#endif
