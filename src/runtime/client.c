/* The client runtime: owns memory, the transport, the clock, threads and the event loop, and
 * drives the sans-I/O session (src/client) with them. This file: configuration, create,
 * destroy and the small helpers every other file of the client uses (client_internal.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/abi.h"
#include "mqtls/limits.h"
#include "mqtls/version.h"
#include "runtime/client_internal.h"

static void shared_tls_release(mqtls__shared_tls_t *t)
{
    if (t != NULL && atomic_fetch_sub(&t->refs, 1u) == 1u) {
        mqtls__diag_cache_destroy(t->diag);
        mqtls__tls_ctx_destroy(t->ctx);
        free(t);
    }
}

/* --- small helpers ---------------------------------------------------------------------- */

void mqtls__client_log(mqtls_client_t *c, mqtls_log_level_t lvl, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->cfg.log_fn(c->cfg.log_ctx, lvl, line);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mqtls__client_now(const mqtls_client_t *c)
{
    return c->clock != NULL ? c->clock(c->clock_ctx) : mono_ms();
}

uint32_t mqtls__client_rand32(mqtls_client_t *c)
{
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint64_t seed_from_os(const void *addr)
{
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed) {
            seed = 0;
        }
        (void)close(fd);
    }
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    seed ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)addr;
    return seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

void mqtls__client_lock(const mqtls_client_t *c)
{
    (void)pthread_mutex_lock((pthread_mutex_t *)&c->mu);
}

void mqtls__client_unlock(const mqtls_client_t *c)
{
    (void)pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
}

void mqtls__client_emit(mqtls_client_t *c, const mqtls_event_t *ev)
{
    if (c->cfg.on_event != NULL) {
        c->cfg.on_event(c, ev, c->cfg.event_ctx);
    }
}

bool mqtls__client_session_is_transient(const mqtls_client_t *c)
{
    return c->cfg.clean_start || (c->cfg.version == MQTLS_V5 && c->cfg.session_expiry_s == 0);
}

/* --- configuration ---------------------------------------------------------------------- */

static void cfg_defaults(mqtls_client_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->version = MQTLS_V311;
    cfg->keepalive_s = 60;
    cfg->clean_start = true;
    cfg->connect_timeout_ms = 10000;
    cfg->reconnect.enabled = true;
    cfg->reconnect.min_ms = 500;
    cfg->reconnect.max_ms = 30000;
    cfg->outbox_max_messages = 1024;
    cfg->outbox_max_bytes = 4u * 1024u * 1024u;
    cfg->receive_maximum = MQTLS_DEFAULT_RECEIVE_MAXIMUM;
    cfg->max_packet_size = MQTLS_DEFAULT_MAX_PACKET_SIZE;
    cfg->log_level = MQTLS_LOG_OFF;
    cfg->diagnose = true;
    cfg->persistence_sync = MQTLS_PERSIST_SYNC_EVERY;
    cfg->persistence_sync_ms = 100;
}

void mqtls_client_cfg_init_sized(mqtls_client_cfg_t *cfg, size_t size)
{
    mqtls_client_cfg_t d;
    cfg_defaults(&d);
    mqtls__struct_init(cfg, size, &d, sizeof d);
}

void mqtls_tls_cfg_init_sized(mqtls_tls_cfg_t *cfg, size_t size)
{
    mqtls_tls_cfg_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    mqtls__struct_init(cfg, size, &d, sizeof d);
}

/* The first public layouts (ABI 1): callers cannot be older than these. */
#define CLIENT_CFG_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_client_cfg_t, log_level)
#define TLS_CFG_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_tls_cfg_t, profile)

/* Take the caller's versioned structs into the client's full-size copies. */
static mqtls_status_t import_cfg(mqtls_client_t *c, const mqtls_client_cfg_t *cfg,
                                 mqtls_error_t *err)
{
    const char *what = "mqtls_client_cfg_t";
    cfg_defaults(&c->cfg);
    mqtls_status_t st = mqtls__struct_import(&c->cfg, sizeof c->cfg, cfg, CLIENT_CFG_V1_SIZE);
    mqtls_tls_cfg_init(&c->tls_cfg);
    if (st == MQTLS_OK && cfg->tls != NULL) {
        what = "mqtls_tls_cfg_t";
        st = mqtls__struct_import(&c->tls_cfg, sizeof c->tls_cfg, cfg->tls, TLS_CFG_V1_SIZE);
    }
    c->cfg.tls = &c->tls_cfg;
    if (st != MQTLS_OK) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        (void)snprintf(err->detail, sizeof err->detail,
                       st == MQTLS_ERR_INVALID_ARG
                           ? "%s not initialised: call its _init() before setting fields"
                           : "%s sets fields of a newer mqtls than this library (%s)",
                       what, mqtls_version());
    }
    return st;
}

static size_t slen(const char *s)
{
    return s != NULL ? strlen(s) + 1u : 0;
}

static const char *scopy(char **p, const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1u;
    memcpy(*p, s, n);
    const char *r = *p;
    *p += n;
    return r;
}

/* Own copies of the configured strings (the caller's may go away after create), and the list
 * of brokers: cfg.uri, then cfg.uris. */
static mqtls_status_t copy_cfg(mqtls_client_t *c)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    size_t total = slen(cfg->uri) + slen(cfg->client_id) + slen(cfg->username) +
                   slen(cfg->password) + slen(cfg->will.topic) + slen(cfg->ws_subprotocol) +
                   slen(cfg->bind_address) + slen(cfg->proxy) + slen(cfg->auth_method) +
                   slen(cfg->persistence_dir) + cfg->will.payload_len + 1u;
    for (size_t i = 0; i < cfg->uri_count; i++) {
        total += slen(cfg->uris[i]);
    }
    c->strings = malloc(total);
    c->brokers = calloc(cfg->uri_count + 1u, sizeof *c->brokers);
    if (c->strings == NULL || c->brokers == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    char *p = c->strings;
    c->cfg.uri = scopy(&p, cfg->uri);
    if (c->cfg.uri != NULL) {
        c->brokers[c->broker_count++] = c->cfg.uri;
    }
    for (size_t i = 0; i < cfg->uri_count; i++) {
        c->brokers[c->broker_count++] = scopy(&p, cfg->uris[i]);
    }
    c->cfg.uris = NULL; /* the caller's array: use c->brokers */
    c->cfg.uri = c->brokers[0];
    c->cfg.client_id = scopy(&p, cfg->client_id);
    c->cfg.username = scopy(&p, cfg->username);
    c->cfg.password = scopy(&p, cfg->password);
    c->cfg.will.topic = scopy(&p, cfg->will.topic);
    c->cfg.ws_subprotocol = scopy(&p, cfg->ws_subprotocol);
    c->cfg.bind_address = scopy(&p, cfg->bind_address);
    c->cfg.proxy = scopy(&p, cfg->proxy);
    c->cfg.auth_method = scopy(&p, cfg->auth_method);
    c->cfg.persistence_dir = scopy(&p, cfg->persistence_dir);
    if (cfg->will.payload_len > 0 && cfg->will.payload != NULL) {
        memcpy(p, cfg->will.payload, cfg->will.payload_len);
        c->cfg.will.payload = (const uint8_t *)p;
    }
    return MQTLS_OK;
}

static void on_session_trace(void *ctx, bool sent, const mqtls_packet_t *pkt)
{
    mqtls_client_t *c = ctx;
    c->cfg.trace_fn(c, sent ? MQTLS_TRACE_SENT : MQTLS_TRACE_RECEIVED, pkt, c->cfg.trace_ctx);
}

/* 1.1's fields: the proxy URL (parsed once, here) and enhanced authentication's needs. */
static mqtls_status_t check_transport_auth(mqtls_client_t *c, mqtls_error_t *err)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    if (cfg->proxy != NULL) {
        mqtls_status_t st = MQTLS_ERR_INVALID_ARG;
        if (c->uri.scheme == MQTLS_SCHEME_UNIX) {
            (void)snprintf(err->detail, sizeof err->detail,
                           "a proxy cannot reach a unix:// socket");
        } else {
            st = mqtls__proxy_parse(cfg->proxy, &c->proxy, err);
        }
        if (st != MQTLS_OK) {
            err->layer = MQTLS_LAYER_CONFIG;
            err->status = st;
            return st;
        }
        c->has_proxy = true;
    }
    if (cfg->auth_method != NULL && (cfg->version != MQTLS_V5 || cfg->auth_start == NULL ||
                                     cfg->auth_step == NULL || cfg->auth_method[0] == '\0')) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = MQTLS_ERR_INVALID_ARG;
        (void)snprintf(err->detail, sizeof err->detail,
                       "auth_method needs MQTT 5 (version MQTLS_V5), auth_start and auth_step");
        return MQTLS_ERR_INVALID_ARG;
    }
    return MQTLS_OK;
}

static mqtls_status_t setup_session(mqtls_client_t *c)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    mqtls__session_cfg_t sc;
    memset(&sc, 0, sizeof sc);
    sc.version = cfg->version;
    /* c->client_id: generated (or "" for the broker to assign one) */
    sc.client_id = mqtls__bytes_of(
        c->client_id[0] != '\0' || cfg->empty_client_id ? c->client_id : cfg->client_id);
    sc.has_username = cfg->username != NULL;
    sc.username = mqtls__bytes_of(cfg->username);
    sc.has_password = cfg->password != NULL;
    sc.password = mqtls__bytes_of(cfg->password);
    sc.keepalive_s = cfg->keepalive_s;
    sc.clean_start = cfg->clean_start;
    sc.session_expiry_s = cfg->session_expiry_s;
    sc.has_will = cfg->will.topic != NULL;
    sc.will_topic = mqtls__bytes_of(cfg->will.topic);
    sc.will_payload.data = cfg->will.payload;
    sc.will_payload.len = cfg->will.payload_len;
    sc.will_qos = cfg->will.qos;
    sc.will_retain = cfg->will.retain;
    sc.will_props = cfg->will.props;
    sc.connect_props = cfg->connect_props;
    sc.connack_timeout_ms = cfg->connect_timeout_ms;
    sc.max_messages = cfg->outbox_max_messages;
    sc.max_bytes = cfg->outbox_max_bytes;
    /* 0 is not a valid Receive Maximum (MQTT 5.0 3.1.2.11.3): it means the default. */
    sc.receive_maximum =
        cfg->receive_maximum != 0 ? cfg->receive_maximum : (uint16_t)MQTLS_DEFAULT_RECEIVE_MAXIMUM;
    sc.max_inflight = cfg->max_inflight;
    sc.max_packet_size = cfg->max_packet_size;
    sc.topic_alias_maximum = cfg->topic_alias_maximum;
    sc.outbound_aliases = cfg->outbound_aliases;
    sc.on_event = mqtls__client_on_session_event;
    sc.event_ctx = c;
    sc.on_trace = cfg->trace_fn != NULL ? on_session_trace : NULL;
    sc.auth_method = mqtls__bytes_of(cfg->auth_method);
    sc.auth_start = cfg->auth_start;
    sc.auth_step = cfg->auth_step;
    sc.auth_ctx = cfg->auth_ctx;
    mqtls__client_persist_hook(c, &sc);
    size_t n = mqtls__session_arena_size(&sc);
    c->arena = malloc(n);
    if (c->arena == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    return mqtls__session_setup(&c->s, &sc, c->arena, n);
}

static mqtls_status_t config_fail(mqtls_error_t *err, const char *detail)
{
    err->layer = MQTLS_LAYER_CONFIG;
    err->status = MQTLS_ERR_INVALID_ARG;
    (void)snprintf(err->detail, sizeof err->detail, "%s", detail);
    return MQTLS_ERR_INVALID_ARG;
}

/* empty_client_id [MQTT-3.1.3-6], [MQTT-3.1.3-7] and bind_address (an IP literal). */
static mqtls_status_t check_identity(const mqtls_client_t *c, mqtls_error_t *err)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    if (cfg->empty_client_id) {
        if (cfg->client_id != NULL && cfg->client_id[0] != '\0') {
            return config_fail(err, "empty_client_id with a client_id: give one or the other");
        }
        if (cfg->persistence_dir != NULL) {
            return config_fail(err, "empty_client_id with persistence_dir: the directory keeps "
                                    "one client id, give it (or leave client_id NULL)");
        }
        if (cfg->version == MQTLS_V31) {
            return config_fail(err, "MQTT 3.1 needs a client id of 1 to 23 characters");
        }
        if (cfg->version == MQTLS_V311 && !cfg->clean_start) {
            return config_fail(err, "an empty client id needs clean_start with MQTT 3.1.1 "
                                    "[MQTT-3.1.3-7]");
        }
    }
    if (cfg->bind_address != NULL && !mqtls__tcp_bind_address_valid(cfg->bind_address)) {
        char d[sizeof err->detail];
        (void)snprintf(d, sizeof d, "bind_address \"%.100s\" is not an IPv4 or IPv6 address",
                       cfg->bind_address);
        return config_fail(err, d);
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_create(const mqtls_client_cfg_t *cfg, mqtls_error_t *err,
                                   mqtls_client_t **out)
{
    mqtls_error_t scratch;
    if (err == NULL) {
        err = &scratch;
    }
    mqtls_error_init(err);
    if (cfg == NULL || out == NULL) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = MQTLS_ERR_INVALID_ARG;
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    mqtls_client_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    c->wake[0] = -1;
    c->wake[1] = -1;
    atomic_init(&c->wake_pending, false);
    mqtls__tls_facts_init(&c->facts);
    mqtls_error_init(&c->conn_err);
    mqtls_error_init(&c->last_err);
    pthread_mutexattr_t ma;
    (void)pthread_mutexattr_init(&ma);
    (void)pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    (void)pthread_mutex_init(&c->mu, &ma);
    (void)pthread_mutexattr_destroy(&ma);
    c->rng = seed_from_os(c);
    mqtls_status_t st = import_cfg(c, cfg, err);
    if (st != MQTLS_OK) {
        goto out;
    }
    const mqtls_client_cfg_t *in = &c->cfg;
    bool uris_ok =
        in->uri_count == 0 || (in->uris != NULL && in->uri_count < MQTLS_CLIENT_MAX_BROKERS);
    for (size_t i = 0; uris_ok && i < in->uri_count; i++) {
        uris_ok = in->uris[i] != NULL;
    }
    if ((in->uri == NULL && in->uri_count == 0) || !uris_ok || in->outbox_max_messages == 0 ||
        in->outbox_max_bytes == 0 || in->will.qos > 2 ||
        (in->version != MQTLS_V31 && in->version != MQTLS_V311 && in->version != MQTLS_V5)) {
        st = MQTLS_ERR_INVALID_ARG;
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        goto out;
    }
    st = copy_cfg(c);
    if (st != MQTLS_OK) {
        goto out;
    }
    /* Every broker is checked now; the first is the one in use. */
    for (size_t i = c->broker_count; i-- > 0;) {
        st = mqtls_uri_parse(c->brokers[i], &c->uri);
        if (st != MQTLS_OK) {
            err->layer = MQTLS_LAYER_CONFIG;
            err->status = st;
            (void)snprintf(err->detail, sizeof err->detail, "uri \"%.140s\"", c->brokers[i]);
            goto out;
        }
        if (c->uri.tls) {
            c->tls_cfg.enabled = true;
        }
    }
    st = check_transport_auth(c, err);
    if (st != MQTLS_OK) {
        goto out;
    }
    if (c->cfg.max_packet_size == 0) {
        c->cfg.max_packet_size = MQTLS_DEFAULT_MAX_PACKET_SIZE;
    }
    st = check_identity(c, err);
    if (st != MQTLS_OK) {
        goto out;
    }
    st = mqtls__client_persist_open(c, err); /* may give the client id kept in the directory */
    if (st != MQTLS_OK) {
        goto out;
    }
    if (!c->cfg.empty_client_id && (c->cfg.client_id == NULL || c->cfg.client_id[0] == '\0')) {
        /* An empty id only works with a clean session in 3.1.1 [MQTT-3.1.3-7]: make one. */
        (void)snprintf(c->client_id, sizeof c->client_id, "mqtls-%08x%08x", mqtls__client_rand32(c),
                       mqtls__client_rand32(c));
    }
    st = setup_session(c);
    if (st != MQTLS_OK) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        goto out;
    }
    st = mqtls__client_persist_restore(c, err);
    if (st != MQTLS_OK) {
        goto out;
    }
    c->rx_cap = MQTLS_RX_BUFFER_INITIAL;
    c->rx = malloc(c->rx_cap);
    if (c->rx == NULL) {
        st = MQTLS_ERR_NOMEM;
        goto out;
    }
    if (c->tls_cfg.enabled) {
        if (c->cfg.tls_share_with != NULL) {
            if (c->cfg.tls_share_with->tls == NULL) {
                st = MQTLS_ERR_INVALID_ARG;
                err->layer = MQTLS_LAYER_CONFIG;
                err->status = st;
                (void)snprintf(err->detail, sizeof err->detail,
                               "tls_share_with: that client has no TLS context");
                goto out;
            }
            c->tls = c->cfg.tls_share_with->tls;
            atomic_fetch_add(&c->tls->refs, 1u);
            c->tls_cfg = c->cfg.tls_share_with->tls_cfg; /* the context's settings apply */
        } else {
            c->tls = calloc(1, sizeof *c->tls);
            if (c->tls == NULL) {
                st = MQTLS_ERR_NOMEM;
                goto out;
            }
            atomic_init(&c->tls->refs, 1u);
            st = mqtls__diag_cache_create(&c->tls->diag);
            if (st == MQTLS_OK) {
                st = mqtls__tls_ctx_create(&c->tls_cfg, err, &c->tls->ctx);
            }
            if (st != MQTLS_OK) {
                shared_tls_release(c->tls);
                c->tls = NULL;
                goto out;
            }
        }
        c->diag = c->tls->diag; /* one diagnosis per failure signature for all its clients */
    }
    *out = c;
    return MQTLS_OK;
out:
    mqtls_client_destroy(c);
    return st;
}

void mqtls_client_destroy(mqtls_client_t *c)
{
    if (c == NULL) {
        return;
    }
    if (c->running) {
        (void)mqtls_client_stop(c);
    }
    mqtls__client_close_wake(c);
    if (c->loop != NULL) {
        (void)mqtls_loop_remove(c->loop, c); /* a loop never steps a destroyed client */
    }
    if (c->t != NULL) {
        c->t->ops->close(c->t);
        c->t->ops->destroy(c->t);
    }
    mqtls__client_persist_close(c); /* after the transport: the session records nothing more */
    mqtls__client_diag_release(c);
    if (c->tls == NULL) {
        mqtls__diag_cache_destroy(c->diag); /* the client's own (no TLS context to share) */
    }
    shared_tls_release(c->tls);
    mqtls__tls_facts_free(&c->facts);
    mqtls__proxy_wipe(&c->proxy);
    (void)pthread_mutex_destroy(&c->mu);
    free(c->rx);
    void *bufs[MQTLS__SESSION_BUFFERS_MAX]; /* grown outbox rings, id bitmaps (not the arena) */
    size_t nb = mqtls__session_buffers(&c->s, bufs, sizeof bufs / sizeof bufs[0]);
    for (size_t i = 0; i < nb; i++) {
        free(bufs[i]);
    }
    free(c->arena);
    free(c->brokers);
    free(c->strings);
    free(c);
}
