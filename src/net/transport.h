/* Internal: the transport vtable. tcp, tls and websocket stack on it; tests script it.
 * Never installed (no public API takes a transport).
 *
 *  All operations are non-blocking. I/O conventions are translated once, here: a transport
 *  returns MQTLS_OK with progress, MQTLS_ERR_WOULD_BLOCK (wait for want()), MQTLS_ERR_CLOSED
 *  (orderly close by the peer), or an error status with details in the mqtls_error_t given
 *  at creation. */
#ifndef MQTLS_NET_TRANSPORT_H
#define MQTLS_NET_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/status.h"
#include "mqtls/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtls_transport mqtls_transport_t;

typedef struct mqtls_transport_ops {
    const char *name; /**< "tcp", "tls", "ws", "fake" */
    /** Advance connecting (DNS, TCP connect, TLS handshake, WS upgrade). MQTLS_OK when the
     *  transport is ready for data; MQTLS_ERR_WOULD_BLOCK to call again when want() is met. */
    mqtls_status_t (*connect)(mqtls_transport_t *t, int64_t now_ms);
    /** Read up to @p cap bytes. MQTLS_OK with *got > 0; WOULD_BLOCK; CLOSED; error. */
    mqtls_status_t (*read)(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got);
    /** Write a gather list. MQTLS_OK with *sent > 0 (may be partial); WOULD_BLOCK; error. */
    mqtls_status_t (*writev)(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t iov_count,
                             size_t *sent);
    /** Bytes already received and buffered inside the transport (read without polling). */
    size_t (*pending)(mqtls_transport_t *t);
    /** The socket, or -1 before connect / for in-memory transports. */
    int (*fd)(mqtls_transport_t *t);
    /** MQTLS_WANT_* the transport waits for now. */
    unsigned (*want)(mqtls_transport_t *t);
    /** Close the connection (sends close_notify for TLS); the transport may connect again. */
    void (*close)(mqtls_transport_t *t);
    /** Free everything, including @p t. */
    void (*destroy)(mqtls_transport_t *t);
    /** Optional (NULL = never): the time, on connect()'s clock, at which connect() must be
     *  called again even if want() is not met (e.g. TLS waiting a bounded time for a late
     *  alert); INT64_MAX for none. Stacked transports ask the one below. */
    int64_t (*wake_at)(mqtls_transport_t *t);
} mqtls_transport_ops_t;

/** Base of every transport; implementations embed it as their first member. */
struct mqtls_transport {
    const mqtls_transport_ops_t *ops;
    mqtls_error_t *err; /**< borrowed: where failures are recorded (may be NULL) */
};

/** @brief ops->wake_at() of @p t, INT64_MAX when it has none. */
static inline int64_t mqtls__transport_wake_at(mqtls_transport_t *t)
{
    return t != NULL && t->ops->wake_at != NULL ? t->ops->wake_at(t) : INT64_MAX;
}

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_NET_TRANSPORT_H */
