/* The I/O pump of a connected client: write what the session has, read and feed what
 * arrives, run the session's timers, close after DISCONNECT; and what the client waits for
 * (socket, events, the next deadline) for whoever drives it. With c->mu held throughout. */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_internal.h"

#define IOV_MAX_BATCH 32u /* consecutive packets share one element: this is per ring run */
#define LOOP_BOUND 64           /* reads/writes per step: fairness between clients on one thread */
#define CLOSE_GRACE_MS 2000u    /* wait for the broker to close after our DISCONNECT */

/* Write what the session has (coalesced into one writev per batch). false: connection gone. */
static bool flush(mqtls_client_t *c, int64_t now)
{
    for (int i = 0; i < LOOP_BOUND; i++) {
        mqtls_iovec_t iov[IOV_MAX_BATCH];
        size_t n = mqtls__session_out_iov(&c->s, iov, IOV_MAX_BATCH);
        size_t sent = 0;
        if (n == 0) {
            if ((c->t->ops->want(c->t) & MQTLS_WANT_WRITE) != 0) {
                /* TLS: ciphertext still buffered inside the transport. */
                mqtls_status_t st = c->t->ops->writev(c->t, NULL, 0, &sent);
                if (st != MQTLS_OK && st != MQTLS_ERR_WOULD_BLOCK) {
                    mqtls__client_fail_transport(c, st, now);
                    return false;
                }
            }
            return true;
        }
        mqtls_status_t st = c->t->ops->writev(c->t, iov, n, &sent);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            mqtls__session_out_consumed(&c->s, 0, now);
            return true;
        }
        if (st != MQTLS_OK) {
            mqtls__client_fail_transport(c, st, now);
            return false;
        }
        mqtls__session_out_consumed(&c->s, sent, now);
    }
    return true;
}

static bool grow_rx(mqtls_client_t *c, size_t need)
{
    size_t limit = (size_t)c->cfg.max_packet_size + 8u;
    if (need > limit) {
        return false;
    }
    size_t cap = c->rx_cap;
    while (cap < need) {
        cap *= 2u;
    }
    if (cap > limit) {
        cap = limit;
    }
    uint8_t *p = realloc(c->rx, cap);
    if (p == NULL) {
        return false;
    }
    c->rx = p;
    c->rx_cap = cap;
    return true;
}

/* The receive buffer cannot take the next packet: end the connection (MQTT layer). */
static bool rx_failed(mqtls_client_t *c, mqtls_status_t st, int64_t now)
{
    mqtls_error_t e;
    mqtls_error_init(&e);
    e.layer = MQTLS_LAYER_MQTT;
    e.status = st;
    mqtls__client_connection_ended(c, &e, now);
    return false;
}

/* Feed the session what the receive buffer holds. false: connection gone. */
static bool feed(mqtls_client_t *c, int64_t now)
{
    if (c->rx_len == 0) {
        return true;
    }
    size_t used = 0;
    size_t need = 0;
    mqtls_status_t st = mqtls__session_on_bytes(&c->s, c->rx, c->rx_len, now, &used, &need);
    if (used > 0) {
        memmove(c->rx, c->rx + used, c->rx_len - used);
        c->rx_len -= used;
    }
    if (st != MQTLS_OK) {
        mqtls__client_fail_session(c, now);
        return false;
    }
    if (c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
        return false; /* an event callback disconnected */
    }
    if (need > c->rx_cap && !grow_rx(c, need)) {
        return rx_failed(c, MQTLS_ERR_NOMEM, now);
    }
    return true;
}

void mqtls__client_write_now(mqtls_client_t *c, int64_t now)
{
    if (c->t == NULL || (c->state != MQTLS_STATE_MQTT_CONNECTING &&
                         c->state != MQTLS_STATE_CONNECTED && c->state != MQTLS_STATE_DISCONNECTING)) {
        return;
    }
    for (int i = 0; i < LOOP_BOUND; i++) {
        mqtls_iovec_t iov[IOV_MAX_BATCH];
        size_t n = mqtls__session_out_iov(&c->s, iov, IOV_MAX_BATCH);
        if (n == 0) {
            break;
        }
        size_t sent = 0;
        mqtls_status_t st = c->t->ops->writev(c->t, iov, n, &sent);
        mqtls__session_out_consumed(&c->s, st == MQTLS_OK ? sent : 0u, now);
        if (st != MQTLS_OK || sent == 0) {
            break; /* would block, or an error the driver's next step reports */
        }
    }
    mqtls__client_reclaim_outbox(c);
}

void mqtls__client_reclaim_outbox(mqtls_client_t *c)
{
    void *p;
    while ((p = mqtls__session_reclaim(&c->s)) != NULL) {
        free(p);
    }
}

bool mqtls__client_wants_memory(const mqtls_client_t *c)
{
    return mqtls__session_ids_want(&c->s) > 0 || mqtls__session_ctrl_want(&c->s) > 0 ||
           mqtls__session_subs_want(&c->s) > 0;
}

/* Give the session a buffer of @p n bytes through @p give. false: no memory. */
static bool give_buf(mqtls_client_t *c, size_t n,
                     mqtls_status_t (*give)(mqtls__session_t *, void *, size_t))
{
    void *buf = malloc(n);
    if (buf == NULL) {
        return false;
    }
    if (give(&c->s, buf, n) != MQTLS_OK) {
        free(buf); /* cannot happen: it is wanted, and the reclaim list was emptied */
    }
    return true;
}

mqtls_status_t mqtls__client_give_wanted(mqtls_client_t *c, size_t *given)
{
    *given = 0;
    mqtls__client_reclaim_outbox(c); /* room on the session's list for what it replaces */
    while (mqtls__session_ids_want(&c->s) > 0) {
        void *map = malloc(MQTLS__IDSET_MAP_BYTES);
        if (map == NULL) {
            return MQTLS_ERR_NOMEM;
        }
        if (mqtls__session_give_ids_map(&c->s, map, MQTLS__IDSET_MAP_BYTES) != MQTLS_OK) {
            free(map); /* cannot happen: one is wanted */
            break;
        }
        (*given)++;
        LOG(c, MQTLS_LOG_DEBUG, "packet id set grown to a bitmap (more than %u ids)",
            MQTLS__IDSET_SMALL);
    }
    size_t n = mqtls__session_ctrl_want(&c->s);
    if (n > 0) {
        if (!give_buf(c, n, mqtls__session_give_ctrl)) {
            return MQTLS_ERR_NOMEM;
        }
        (*given)++;
        LOG(c, MQTLS_LOG_DEBUG, "control buffer grown to %zu bytes", n);
    }
    n = mqtls__session_subs_want(&c->s);
    if (n > 0) {
        if (!give_buf(c, n, mqtls__session_give_subs)) {
            return MQTLS_ERR_NOMEM;
        }
        (*given)++;
        LOG(c, MQTLS_LOG_DEBUG, "subscription store grown to %zu bytes", n);
    }
    return MQTLS_OK;
}

/* Read and process everything available. false: connection gone. Packets whose
 * acknowledgement finds no room wait in the receive buffer while the control buffer grows (up
 * to the whole acknowledgement reserve) and the acks already queued are written; when neither
 * helps (the socket takes no more, the buffer is at its limit or there is no memory), reading
 * stops (back-pressure on the broker) until the socket takes them: the client never refuses an
 * acknowledgement and never queues more of them than the reserve. */
static bool pump_input(mqtls_client_t *c, int64_t now)
{
    for (int i = 0; i < LOOP_BOUND; i++) {
        if (!feed(c, now)) {
            return false;
        }
        if (mqtls__session_input_blocked(&c->s)) {
            /* A packet that needs an id bitmap (a QoS 2 PUBLISH beyond 32 awaiting PUBREL, a
             * CONNACK whose resubscribe needs ids) or a bigger control buffer (its ack finds no
             * room, the resubscribe does not fit, an AUTH to answer): give it, then it is fed
             * again. Acks can also wait for the socket: without memory only the others fail. */
            size_t given = 0;
            if (mqtls__client_give_wanted(c, &given) != MQTLS_OK &&
                mqtls__session_input_needs_memory(&c->s)) {
                return rx_failed(c, MQTLS_ERR_NOMEM, now);
            }
            if (!flush(c, now) || !feed(c, now)) {
                return false;
            }
            if (mqtls__session_input_blocked(&c->s) && given == 0) {
                return true; /* the socket is full: wait until it takes our acks */
            }
            continue; /* more input, or a buffer grown again */
        }
        if (c->rx_len == c->rx_cap && !grow_rx(c, c->rx_cap * 2u)) {
            return rx_failed(c, MQTLS_ERR_PACKET_TOO_LARGE, now);
        }
        size_t got = 0;
        mqtls_status_t st = c->t->ops->read(c->t, c->rx + c->rx_len, c->rx_cap - c->rx_len, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            return true;
        }
        if (st != MQTLS_OK) {
            mqtls__client_fail_transport(c, st, now);
            return false;
        }
        c->rx_len += got;
    }
    return feed(c, now);
}

/* One round of work: whatever is due in the current state. Called with the lock held. */
void mqtls__client_do_work(mqtls_client_t *c, int64_t now)
{
    mqtls__client_persist_work(c, now);
    if (!mqtls__client_advance_connect(c, now)) {
        return;
    }
    if (!flush(c, now) || !pump_input(c, now)) {
        return;
    }
    if (mqtls__session_tick(&c->s, now) != MQTLS_OK) {
        mqtls__client_fail_session(c, now);
        return;
    }
    if (!flush(c, now)) {
        return;
    }
    mqtls__client_reclaim_outbox(c);
    if (mqtls__session_wants_close(&c->s)) {
        bool drain = (c->t->ops->want(c->t) & MQTLS_WANT_WRITE) != 0;
        /* Let the broker close first (it must once it reads DISCONNECT [MQTT-3.14.4-3]);
         * pump_input() then ends the connection as requested, reading and dropping what still
         * comes. Closing while bytes of the broker are unread sends a TCP reset, and the
         * broker's kernel then drops what it has not read of ours: acknowledgements and the
         * DISCONNECT itself (the will is published). Over WebSocket, a bridge that gets our
         * CLOSE frame in the same read as the DISCONNECT (websockify 0.10) drops the data
         * before it. The in-memory transports of the unit tests have no broker to wait for. */
        bool grace = c->factory == NULL;
        if (drain || grace) {
            /* The transport took bytes it has not sent yet (the rest of a WebSocket frame,
             * TLS records): closing now would drop them, our DISCONNECT and the last QoS 0
             * messages with them. Wait for the socket to take them, within a deadline. */
            if (!c->close_wait) {
                c->close_wait = true;
                uint32_t wait = c->cfg.connect_timeout_ms;
                if (!drain && wait > CLOSE_GRACE_MS) {
                    wait = CLOSE_GRACE_MS;
                }
                c->close_deadline_ms = now + (int64_t)wait;
            }
            if (now < c->close_deadline_ms) {
                return;
            }
        }
        mqtls_error_t e;
        mqtls_error_init(&e);
        mqtls__client_connection_ended(c, &e, now);
    }
}

int64_t mqtls__client_timeout_locked(const mqtls_client_t *c, int64_t now)
{
    int64_t deadline = INT64_MAX;
    switch (c->state) {
    case MQTLS_STATE_BACKOFF:
    case MQTLS_STATE_CONNECTING:
        deadline = c->deadline_ms;
        if (c->state == MQTLS_STATE_CONNECTING && (c->t == NULL || !c->connect_started)) {
            deadline = now; /* the transport is not even created (or connecting) yet */
        } else if (c->state == MQTLS_STATE_CONNECTING) {
            int64_t wake = mqtls__transport_wake_at(c->t); /* e.g. TLS waiting for an alert */
            deadline = wake < deadline ? wake : deadline;
        }
        break;
    case MQTLS_STATE_MQTT_CONNECTING:
    case MQTLS_STATE_CONNECTED:
    case MQTLS_STATE_DISCONNECTING:
        deadline = mqtls__session_next_deadline(&c->s);
        if (c->t != NULL && c->t->ops->pending(c->t) > 0 && !mqtls__session_input_blocked(&c->s)) {
            deadline = now; /* bytes already inside the transport: no need to poll */
        }
        if (mqtls__session_wants_close(&c->s)) {
            /* close at once, or when the transport's last bytes are out (poll on write) */
            deadline = c->close_wait ? c->close_deadline_ms : now;
        }
        break;
    default:
        break;
    }
    int64_t persist = mqtls__client_persist_deadline(c, now);
    deadline = persist < deadline ? persist : deadline;
    if (deadline == INT64_MAX) {
        return -1;
    }
    return deadline > now ? deadline - now : 0;
}

int mqtls__client_fd_locked(const mqtls_client_t *c)
{
    if (c->t == NULL || c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
        return -1;
    }
    return c->t->ops->fd(c->t);
}

unsigned mqtls__client_want_locked(const mqtls_client_t *c)
{
    if (c->t == NULL || c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
        return 0;
    }
    unsigned w = c->t->ops->want(c->t);
    if (c->state != MQTLS_STATE_CONNECTING) {
        if (mqtls__session_input_blocked(&c->s)) {
            w &= ~(unsigned)MQTLS_WANT_READ; /* back-pressure: our acks go out first */
        } else {
            w |= MQTLS_WANT_READ;
        }
        if (mqtls__session_has_output(&c->s)) {
            w |= MQTLS_WANT_WRITE;
        }
    }
    return w;
}

void mqtls__client_poll_info(const mqtls_client_t *c, int64_t *timeout_ms, int *fd, unsigned *want,
                             uint32_t *gen)
{
    mqtls__client_lock(c);
    *timeout_ms = mqtls__client_timeout_locked(c, mqtls__client_now(c));
    *fd = mqtls__client_fd_locked(c);
    *want = *fd >= 0 ? mqtls__client_want_locked(c) : 0u;
    *gen = c->conn_gen;
    mqtls__client_unlock(c);
}
