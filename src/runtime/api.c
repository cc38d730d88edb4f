/* The public calls of a client (mqtls/client.h) other than create/destroy and the runners:
 * connect, publish, subscribe, disconnect, what it waits for, accessors; and the test hooks of
 * runtime_internal.h. Each takes c->mu; none blocks. */
#include <stdlib.h>
#include <string.h>

#include "runtime/client_internal.h"

/* --- public API ------------------------------------------------------------------------- */

mqtls_status_t mqtls_client_connect(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = mqtls__client_transition(c, MQTLS__CEV_CONNECT);
    if (st == MQTLS_OK) {
        c->want_connection = true;
        c->attempt = 0;
        mqtls__client_start_attempt(c);
        mqtls__client_wake(c);
    }
    mqtls__client_unlock(c);
    return st;
}

/* Properties exist only in MQTT 5: refuse them for older versions rather than drop them. */
static bool copy_props(mqtls_version_t v, const mqtls_properties_t *in, mqtls_properties_t *out)
{
    memset(out, 0, sizeof *out);
    if (in == NULL) {
        return true;
    }
    if (v != MQTLS_V5) {
        return in->count == 0 && in->raw.len == 0;
    }
    *out = *in;
    return true;
}

/* The session refused a publish, a subscribe or a restore for want of memory: give it the
 * id bitmaps it asks for (more than 32 packet ids in use), the bigger control buffer and
 * subscription store, and the bigger outbox buffer (all doubling, so rare and amortised).
 * Called with the lock held, never between the session's out_iov() and out_consumed()
 * (flush() holds the lock across both). */
mqtls_status_t mqtls__client_grow_session(mqtls_client_t *c)
{
    size_t given = 0;
    mqtls_status_t st = mqtls__client_give_wanted(c, &given);
    if (st != MQTLS_OK) {
        return st;
    }
    size_t ent = 0;
    size_t ring = 0;
    if (!mqtls__session_outbox_want(&c->s, &ent, &ring)) {
        /* the configured limits (refused at once), unless something else was what it wanted */
        return given > 0 ? MQTLS_OK : MQTLS_ERR_OUTBOX_FULL;
    }
    size_t n = mqtls__session_outbox_buf_size(ent, ring);
    void *buf = malloc(n);
    if (buf == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    void *old = NULL;
    if (mqtls__session_grow_outbox(&c->s, buf, n, ent, ring, &old) != MQTLS_OK) {
        free(buf);
        return MQTLS_ERR_OUTBOX_FULL;
    }
    free(old);
    LOG(c, MQTLS_LOG_DEBUG, "outbox grown to %zu messages / %zu bytes", ent, ring);
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_publish(mqtls_client_t *c, const char *topic, const void *payload,
                                    size_t payload_len, const mqtls_publish_opts_t *opts,
                                    uint16_t *packet_id)
{
    if (c == NULL || topic == NULL || (payload == NULL && payload_len > 0)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_publish_t pub;
    memset(&pub, 0, sizeof pub);
    pub.topic = mqtls__bytes_of(topic);
    pub.payload.data = payload;
    pub.payload.len = payload_len;
    if (opts != NULL) {
        pub.qos = opts->qos;
        pub.retain = opts->retain;
        if (!copy_props(c->cfg.version, &opts->props, &pub.props)) {
            return MQTLS_ERR_VERSION;
        }
    }
    if (pub.qos > 2) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (packet_id != NULL) {
        *packet_id = 0;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    /* Driven by a loop thread (ours or a mqtls_loop_t): queue, and the loop writes whatever
     * has been queued meanwhile in one go (libmosquitto's threaded mode does the same). */
    bool looped = c->running || c->loop != NULL;
    if (pub.qos == 0 && c->t != NULL && !looped && !c->s.corked &&
        mqtls__session_has_output(&c->s)) {
        /* Driven by mqtls_client_step() and packets waiting (the socket was full): let the
         * socket take what it can now (coalesced), so that this message may still go out from
         * the caller's buffer rather than be copied behind the others. */
        mqtls__client_write_now(c, mqtls__client_now(c));
    }
    if (pub.qos == 0 && c->t != NULL && !looped && !c->s.corked) {
        /* Zero copy: header from the stack, payload from the caller, one writev. */
        uint8_t hdr[512];
        size_t hlen = 0;
        st = mqtls__session_direct_begin(&c->s, &pub, hdr, sizeof hdr, &hlen);
        if (st == MQTLS_OK) {
            mqtls_iovec_t iov[2] = {{hdr, hlen}, {pub.payload.data, payload_len}};
            size_t sent = 0;
            mqtls_status_t ws = c->t->ops->writev(c->t, iov, payload_len > 0 ? 2u : 1u, &sent);
            if (ws != MQTLS_OK) {
                sent = 0; /* errors surface on the loop's next read/write */
            }
            mqtls__session_direct_end(&c->s, hdr, hlen, pub.payload.data, payload_len, sent,
                                      mqtls__client_now(c));
            if (sent < hlen + payload_len) {
                mqtls__client_wake(c);
            }
        } else if (st == MQTLS_ERR_BUFFER_TOO_SMALL) {
            st = MQTLS_ERR_WOULD_BLOCK; /* a huge header: take the queued path */
        }
    }
    if (pub.qos == 2 && !c->qos2_warned && c->cfg.reconnect.enabled &&
        mqtls__client_session_is_transient(c)) {
        /* Once per client (issue 10): nothing can keep exactly once across a reconnect here. */
        c->qos2_warned = true;
        LOG(c, MQTLS_LOG_WARN,
            "QoS 2 with a session the broker does not keep (clean start%s): exactly once holds "
            "within one connection only; a message unfinished at a reconnect is published "
            "again and may arrive twice (use clean_start = false%s)",
            c->cfg.version == MQTLS_V5 ? " or session expiry 0" : "",
            c->cfg.version == MQTLS_V5 ? " and a session expiry" : "");
    }
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        st = mqtls__session_publish(&c->s, &pub, packet_id);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            st = mqtls__client_grow_session(c);
            if (st == MQTLS_OK) {
                st = mqtls__session_publish(&c->s, &pub, packet_id);
            }
        }
        if (st == MQTLS_OK) {
            mqtls__client_wake(c);
        }
    }
    mqtls__client_unlock(c);
    return st;
}

#define MAX_FILTERS_PER_CALL 64u

mqtls_status_t mqtls_client_subscribe(mqtls_client_t *c, const mqtls_subscription_t *subs,
                                      size_t count, const mqtls_properties_t *props,
                                      uint16_t *packet_id)
{
    if (c == NULL || subs == NULL || count == 0 || count > MAX_FILTERS_PER_CALL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_topic_filter_t f[MAX_FILTERS_PER_CALL];
    for (size_t i = 0; i < count; i++) {
        if (subs[i].filter == NULL) {
            return MQTLS_ERR_INVALID_ARG;
        }
        f[i].filter = mqtls__bytes_of(subs[i].filter);
        f[i].options =
            c->cfg.version == MQTLS_V5 ? subs[i].options : (uint8_t)(subs[i].options & 0x03u);
    }
    mqtls_properties_t p;
    if (!copy_props(c->cfg.version, props, &p)) {
        return MQTLS_ERR_VERSION;
    }
    mqtls__client_lock(c);
    mqtls_status_t st =
        mqtls__session_subscribe(&c->s, f, count, props != NULL ? &p : NULL, packet_id);
    if (st == MQTLS_ERR_OUTBOX_FULL && mqtls__client_wants_memory(c)) {
        /* ids beyond 32, a bigger control buffer or store: all asked at once, one retry */
        st = mqtls__client_grow_session(c);
        if (st == MQTLS_OK) {
            st = mqtls__session_subscribe(&c->s, f, count, props != NULL ? &p : NULL, packet_id);
        }
    }
    if (st == MQTLS_OK) {
        mqtls__client_wake(c);
    }
    mqtls__client_unlock(c);
    return st;
}

mqtls_status_t mqtls_client_unsubscribe(mqtls_client_t *c, const char *const *filters, size_t count,
                                        uint16_t *packet_id)
{
    if (c == NULL || filters == NULL || count == 0 || count > MAX_FILTERS_PER_CALL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_topic_filter_t f[MAX_FILTERS_PER_CALL];
    for (size_t i = 0; i < count; i++) {
        if (filters[i] == NULL) {
            return MQTLS_ERR_INVALID_ARG;
        }
        f[i].filter = mqtls__bytes_of(filters[i]);
        f[i].options = 0;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = mqtls__session_unsubscribe(&c->s, f, count, packet_id);
    if (st == MQTLS_ERR_OUTBOX_FULL && mqtls__client_wants_memory(c)) {
        st = mqtls__client_grow_session(c); /* ids beyond 32, a bigger control buffer */
        if (st == MQTLS_OK) {
            st = mqtls__session_unsubscribe(&c->s, f, count, packet_id);
        }
    }
    if (st == MQTLS_OK) {
        mqtls__client_wake(c);
    }
    mqtls__client_unlock(c);
    return st;
}

mqtls_status_t mqtls_client_reauthenticate(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = c->state == MQTLS_STATE_CONNECTED || c->cfg.auth_method == NULL
                            ? mqtls__session_reauthenticate(&c->s)
                            : MQTLS_ERR_STATE;
    if (st == MQTLS_ERR_OUTBOX_FULL && mqtls__client_wants_memory(c)) {
        st = mqtls__client_grow_session(c); /* a bigger control buffer for the AUTH */
        if (st == MQTLS_OK) {
            st = mqtls__session_reauthenticate(&c->s);
        }
    }
    mqtls__client_wake(c);
    mqtls__client_unlock(c);
    return st;
}

mqtls_status_t mqtls_client_disconnect(mqtls_client_t *c, uint8_t reason)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = MQTLS_OK;
    c->want_connection = false;
    switch (c->state) {
    case MQTLS_STATE_MQTT_CONNECTING:
    case MQTLS_STATE_CONNECTED:
        st = mqtls__session_disconnect(&c->s, reason);
        if (st == MQTLS_OK) {
            st = mqtls__client_transition(c, MQTLS__CEV_DISCONNECT);
        }
        break;
    case MQTLS_STATE_CONNECTING:
    case MQTLS_STATE_BACKOFF: {
        mqtls_error_t e;
        mqtls_error_init(&e);
        mqtls__client_connection_ended(c, &e, mqtls__client_now(c));
        break;
    }
    default:
        st = MQTLS_ERR_STATE;
        break;
    }
    mqtls__client_wake(c);
    mqtls__client_unlock(c);
    return st;
}

int64_t mqtls_client_timeout_ms(const mqtls_client_t *c)
{
    if (c == NULL) {
        return -1;
    }
    mqtls_client_t *m = (mqtls_client_t *)c;
    mqtls__client_lock(c);
    int64_t t = mqtls__client_timeout_locked(m, mqtls__client_now(c));
    mqtls__client_unlock(c);
    return t;
}

int mqtls_client_fd(const mqtls_client_t *c)
{
    if (c == NULL) {
        return -1;
    }
    mqtls__client_lock(c);
    int fd = mqtls__client_fd_locked(c);
    mqtls__client_unlock(c);
    return fd;
}

unsigned mqtls_client_want(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    mqtls__client_lock(c);
    unsigned w = mqtls__client_want_locked(c);
    mqtls__client_unlock(c);
    return w;
}

/* Wait for I/O on the transport (and the wakeup pipe), at most timeout_ms (-1 = forever). */
mqtls_client_state_t mqtls_client_state(const mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_STATE_IDLE;
    }
    mqtls__client_lock(c);
    mqtls_client_state_t s = c->state;
    mqtls__client_unlock(c);
    return s;
}

mqtls_status_t mqtls_client_last_error(const mqtls_client_t *c, mqtls_error_t *out)
{
    if (c == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    *out = c->last_err;
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

const mqtls_tls_facts_t *mqtls_client_tls_facts(const mqtls_client_t *c)
{
    if (c == NULL || !c->facts_used) {
        return NULL;
    }
    return &c->facts;
}

const mqtls_findings_t *mqtls_client_findings(const mqtls_client_t *c)
{
    return c != NULL ? mqtls__client_findings(c) : NULL;
}

size_t mqtls_client_outbox_count(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    mqtls__client_lock(c);
    size_t n = mqtls__session_outbox_count(&c->s);
    mqtls__client_unlock(c);
    return n;
}

size_t mqtls_client_outbox_bytes(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    mqtls__client_lock(c);
    size_t n = mqtls__session_outbox_bytes(&c->s);
    mqtls__client_unlock(c);
    return n;
}

mqtls_status_t mqtls_client_cork(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    mqtls__session_set_cork(&c->s, true);
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_uncork(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    if (c->s.corked) {
        mqtls__session_set_cork(&c->s, false);
        mqtls__client_write_now(c, mqtls__client_now(c));
        mqtls__client_wake(c); /* what the socket did not take, and the new interest */
    }
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

const char *mqtls_client_id(const mqtls_client_t *c)
{
    if (c == NULL) {
        return NULL;
    }
    if (c->client_id[0] != '\0' || c->cfg.client_id == NULL) {
        return c->client_id; /* generated, assigned, or "" (empty_client_id) */
    }
    return c->cfg.client_id;
}

const char *mqtls_client_uri(const mqtls_client_t *c)
{
    if (c == NULL) {
        return NULL;
    }
    mqtls__client_lock(c);
    const char *u = c->brokers[c->broker_index];
    mqtls__client_unlock(c);
    return u;
}

uint32_t mqtls_client_qos2_downgrades(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    mqtls__client_lock(c);
    uint32_t n = c->s.qos2_downgrades;
    mqtls__client_unlock(c);
    return n;
}

/* --- test hooks ------------------------------------------------------------------------- */

void mqtls__client_set_transport_factory(mqtls_client_t *c, mqtls__transport_factory_fn fn,
                                         void *ctx)
{
    c->factory = fn;
    c->factory_ctx = ctx;
}

void mqtls__client_set_clock(mqtls_client_t *c, mqtls__clock_fn fn, void *ctx)
{
    c->clock = fn;
    c->clock_ctx = ctx;
}

void mqtls__client_seed(mqtls_client_t *c, uint64_t seed)
{
    c->rng = seed != 0 ? seed : 1u;
}

uint32_t mqtls__client_attempts(const mqtls_client_t *c)
{
    return c->attempt;
}

uint32_t mqtls__client_conn_gen(const mqtls_client_t *c)
{
    mqtls__client_lock(c);
    uint32_t g = c->conn_gen;
    mqtls__client_unlock(c);
    return g;
}

void mqtls__client_work(mqtls_client_t *c)
{
    mqtls__client_lock(c);
    if (!c->running) {
        mqtls__client_do_work(c, mqtls__client_now(c));
    }
    mqtls__client_unlock(c);
}

/* --- loop membership (loop.c) ----------------------------------------------------------- */

bool mqtls__client_attach_loop(mqtls_client_t *c, mqtls_loop_t *l, void *entry)
{
    mqtls__client_lock(c);
    bool ok = c->loop == NULL;
    if (ok) {
        c->loop = l;
        c->loop_entry = entry;
    }
    mqtls__client_unlock(c);
    return ok;
}

void *mqtls__client_detach_loop(mqtls_client_t *c, const mqtls_loop_t *l)
{
    mqtls__client_lock(c);
    void *entry = NULL;
    if (c->loop == l) {
        entry = c->loop_entry;
        c->loop = NULL;
        c->loop_entry = NULL;
    }
    mqtls__client_unlock(c);
    return entry;
}
