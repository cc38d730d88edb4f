/* The client runtime: owns memory, the transport, the clock, threads and the event loop, and
 * drives the sans-I/O session (src/client) with them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/session.h"
#include "common/abi.h"
#include "common/tls_facts.h"
#include "mqtls/client.h"
#include "mqtls/diag.h"
#include "mqtls/limits.h"
#include "mqtls/version.h"
#include "net/net.h"
#include "runtime/runtime_internal.h"

#define IOV_MAX_BATCH 16u
#define LOOP_BOUND 64 /* reads/writes per step: fairness between clients on one thread */
#define WS_CLOSE_GRACE_MS 2000u /* how long a WebSocket client waits for the broker to close */

struct mqtls_client {
    pthread_mutex_t mu; /* recursive: the event callback may call publish */
    mqtls_client_cfg_t cfg; /* full-size copy; cfg.tls points to tls_cfg */
    mqtls_tls_cfg_t tls_cfg;
    char *strings; /* owned copies of the cfg strings */
    char client_id[40];
    mqtls_uri_t uri;
    mqtls__session_t s;
    void *arena;
    uint8_t *rx;
    size_t rx_cap, rx_len;
    mqtls_transport_t *t;
    struct shared_tls *tls; /* parsed credentials; shared via cfg.tls_share_with */
    mqtls_tls_facts_t facts;
    bool facts_used;
    mqtls_findings_t *findings; /* last diagnosis, allocated at the first failure */
    bool findings_valid;
    mqtls_error_t conn_err; /* transports record failures here */
    mqtls_error_t last_err;
    mqtls_client_state_t state;
    bool want_connection;
    int64_t deadline_ms; /* transport connect deadline, or end of backoff */
    bool close_wait;     /* DISCONNECT queued by the session, bytes still inside the transport */
    int64_t close_deadline_ms;
    uint32_t attempt;
    uint32_t conn_gen;
    uint64_t rng;
    mqtls__transport_factory_fn factory;
    void *factory_ctx;
    mqtls__clock_fn clock;
    void *clock_ctx;
    /* threaded mode */
    pthread_t thread;
    atomic_bool running; /* read by any thread without the lock */
    atomic_bool stop;
    int wake[2];
};

/* A TLS context shared by clients (net.h: build once, share between thousands). */
typedef struct shared_tls {
    mqtls__tls_ctx_t *ctx;
    atomic_uint refs;
} shared_tls_t;

static void shared_tls_release(shared_tls_t *t)
{
    if (t != NULL && atomic_fetch_sub(&t->refs, 1u) == 1u) {
        mqtls__tls_ctx_destroy(t->ctx);
        free(t);
    }
}

/* --- small helpers ---------------------------------------------------------------------- */

#define LOG(c, lvl, ...)                                                                       \
    do {                                                                                       \
        if ((c)->cfg.log_fn != NULL && (lvl) <= (c)->cfg.log_level) {                         \
            log_line((c), (lvl), __VA_ARGS__);                                                 \
        }                                                                                      \
    } while (0)

__attribute__((format(printf, 3, 4))) static void log_line(mqtls_client_t *c,
                                                           mqtls_log_level_t lvl,
                                                           const char *fmt, ...)
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

static int64_t now_ms(const mqtls_client_t *c)
{
    return c->clock != NULL ? c->clock(c->clock_ctx) : mono_ms();
}

static uint32_t rand32(mqtls_client_t *c)
{
    /* xorshift64*: jitter and client ids need spread, not secrecy. */
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

static void lock(const mqtls_client_t *c)
{
    (void)pthread_mutex_lock((pthread_mutex_t *)&c->mu);
}

static void unlock(const mqtls_client_t *c)
{
    (void)pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
}

static void wake(mqtls_client_t *c)
{
    if (c->running && c->wake[1] >= 0) {
        uint8_t b = 1;
        ssize_t r = write(c->wake[1], &b, 1); /* full pipe: a wakeup is already pending */
        (void)r;
    }
}

static void emit(mqtls_client_t *c, const mqtls_event_t *ev)
{
    if (c->cfg.on_event != NULL) {
        c->cfg.on_event(c, ev, c->cfg.event_ctx);
    }
}

static void on_session_event(void *ctx, const mqtls_event_t *ev)
{
    mqtls_client_t *c = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        c->state = MQTLS_STATE_CONNECTED;
        c->attempt = 0;
        LOG(c, MQTLS_LOG_INFO, "connected to %s:%u (session present: %d)", c->uri.host,
            c->uri.port, ev->u.connected.session_present ? 1 : 0);
    }
    emit(c, ev);
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
    cfg->receive_maximum = 65535;
    cfg->max_packet_size = MQTLS_DEFAULT_MAX_PACKET_SIZE;
    cfg->log_level = MQTLS_LOG_OFF;
    cfg->diagnose = true;
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

/* Own copies of the configured strings (the caller's may go away after create). */
static mqtls_status_t copy_cfg(mqtls_client_t *c)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    size_t total = slen(cfg->uri) + slen(cfg->client_id) + slen(cfg->username) +
                   slen(cfg->password) + slen(cfg->will.topic) + slen(cfg->ws_subprotocol) +
                   cfg->will.payload_len + 1u;
    c->strings = malloc(total);
    if (c->strings == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    char *p = c->strings;
    c->cfg.uri = scopy(&p, cfg->uri);
    c->cfg.client_id = scopy(&p, cfg->client_id);
    c->cfg.username = scopy(&p, cfg->username);
    c->cfg.password = scopy(&p, cfg->password);
    c->cfg.will.topic = scopy(&p, cfg->will.topic);
    c->cfg.ws_subprotocol = scopy(&p, cfg->ws_subprotocol);
    if (cfg->will.payload_len > 0 && cfg->will.payload != NULL) {
        memcpy(p, cfg->will.payload, cfg->will.payload_len);
        c->cfg.will.payload = (const uint8_t *)p;
    }
    return MQTLS_OK;
}

static mqtls_bytes_t bytes_of(const char *s)
{
    mqtls_bytes_t b = {(const uint8_t *)s, s != NULL ? strlen(s) : 0};
    return b;
}

static mqtls_status_t setup_session(mqtls_client_t *c)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    mqtls__session_cfg_t sc;
    memset(&sc, 0, sizeof sc);
    sc.version = cfg->version;
    sc.client_id = bytes_of(c->client_id[0] != '\0' ? c->client_id : cfg->client_id);
    sc.has_username = cfg->username != NULL;
    sc.username = bytes_of(cfg->username);
    sc.has_password = cfg->password != NULL;
    sc.password = bytes_of(cfg->password);
    sc.keepalive_s = cfg->keepalive_s;
    sc.clean_start = cfg->clean_start;
    sc.session_expiry_s = cfg->session_expiry_s;
    sc.has_will = cfg->will.topic != NULL;
    sc.will_topic = bytes_of(cfg->will.topic);
    sc.will_payload.data = cfg->will.payload;
    sc.will_payload.len = cfg->will.payload_len;
    sc.will_qos = cfg->will.qos;
    sc.will_retain = cfg->will.retain;
    sc.will_props = cfg->will.props;
    sc.connect_props = cfg->connect_props;
    sc.connack_timeout_ms = cfg->connect_timeout_ms;
    sc.max_messages = cfg->outbox_max_messages;
    sc.max_bytes = cfg->outbox_max_bytes;
    sc.receive_maximum = cfg->receive_maximum;
    sc.max_inflight = cfg->max_inflight;
    sc.max_packet_size = cfg->max_packet_size;
    sc.topic_alias_maximum = cfg->topic_alias_maximum;
    sc.outbound_aliases = cfg->outbound_aliases;
    sc.on_event = on_session_event;
    sc.event_ctx = c;
    size_t n = mqtls__session_arena_size(&sc);
    c->arena = malloc(n);
    if (c->arena == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    return mqtls__session_setup(&c->s, &sc, c->arena, n);
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
    if (in->uri == NULL || in->outbox_max_messages == 0 || in->outbox_max_bytes == 0 ||
        in->will.qos > 2 ||
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
    st = mqtls_uri_parse(c->cfg.uri, &c->uri);
    if (st != MQTLS_OK) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        (void)snprintf(err->detail, sizeof err->detail, "uri \"%s\"", c->cfg.uri);
        goto out;
    }
    if (c->uri.tls) {
        c->tls_cfg.enabled = true;
    }
    if (c->cfg.max_packet_size == 0) {
        c->cfg.max_packet_size = MQTLS_DEFAULT_MAX_PACKET_SIZE;
    }
    if (c->cfg.client_id == NULL || c->cfg.client_id[0] == '\0') {
        /* An empty id only works with a clean session in 3.1.1 [MQTT-3.1.3-7]: make one. */
        (void)snprintf(c->client_id, sizeof c->client_id, "mqtls-%08x%08x", rand32(c),
                       rand32(c));
    }
    st = setup_session(c);
    if (st != MQTLS_OK) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
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
            st = mqtls__tls_ctx_create(&c->tls_cfg, err, &c->tls->ctx);
            if (st != MQTLS_OK) {
                free(c->tls);
                c->tls = NULL;
                goto out;
            }
        }
        if (c->tls_cfg.insecure) {
            LOG(c, MQTLS_LOG_WARN, "TLS verification is OFF: the broker is not authenticated");
        }
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
    if (c->t != NULL) {
        c->t->ops->close(c->t);
        c->t->ops->destroy(c->t);
    }
    shared_tls_release(c->tls);
    mqtls__tls_facts_free(&c->facts);
    mqtls_findings_destroy(c->findings);
    (void)pthread_mutex_destroy(&c->mu);
    free(c->rx);
    free(c->s.outbox_buf); /* the grown outbox, if any (the first one is in the arena) */
    free(c->arena);
    free(c->strings);
    free(c);
}

/* --- connection management -------------------------------------------------------------- */

static mqtls_status_t make_transport(mqtls_client_t *c)
{
    if (c->factory != NULL) {
        return c->factory(c->factory_ctx, &c->conn_err, &c->t);
    }
    /* The stack: TCP, then TLS (mqtts://, wss://), then WebSocket (ws://, wss://). Each layer
     * owns the one below it, even when its creation fails. */
    mqtls_transport_t *t = NULL;
    mqtls_status_t st = mqtls__tcp_create(c->uri.host, c->uri.port, c->cfg.connect_timeout_ms,
                                          &c->conn_err, &t);
    if (st != MQTLS_OK) {
        return st;
    }
    if (c->tls_cfg.enabled) {
        c->facts_used = true;
        mqtls_transport_t *tls = NULL;
        st = mqtls__tls_create(c->tls->ctx, t, c->uri.host, &c->facts, &c->conn_err, &tls);
        if (st != MQTLS_OK) {
            return st;
        }
        t = tls;
    }
    if (c->uri.websocket) {
        const char *proto = c->cfg.ws_subprotocol;
        if (proto == NULL) {
            /* [MQTT-6.0.0-3]: "mqtt" for MQTT 3.1.1 and 5.0; 3.1 brokers registered
             * "mqttv3.1". */
            proto = c->cfg.version == MQTLS_V31 ? "mqttv3.1" : "mqtt";
        }
        mqtls_transport_t *ws = NULL;
        st = mqtls__ws_create(t, c->uri.host, c->uri.port, c->uri.path, proto, &c->conn_err,
                              &ws);
        if (st != MQTLS_OK) {
            return st;
        }
        t = ws;
    }
    c->t = t;
    return MQTLS_OK;
}

static void start_attempt(mqtls_client_t *c, int64_t now)
{
    mqtls_error_init(&c->conn_err);
    c->conn_gen++;
    c->state = MQTLS_STATE_CONNECTING;
    c->deadline_ms = now + (int64_t)c->cfg.connect_timeout_ms;
    c->rx_len = 0;
    LOG(c, MQTLS_LOG_INFO, "connecting to %s:%u (%s%s%s)", c->uri.host, c->uri.port,
        c->tls_cfg.enabled ? "tls" : "tcp", c->uri.websocket ? ", websocket " : "",
        c->uri.websocket ? c->uri.path : "");
}

#define DIAG_FILE_MAX (4u * 1024u * 1024u)

/* Diagnosis is pure: it gets the credentials as bytes, so read them here (again at each
 * failure: the user may be fixing them between attempts). */
static void diag_file(const char *path, const uint8_t *buf, size_t len, const char *buf_name,
                      mqtls_diag_file_t *f, uint8_t **owned)
{
    *owned = NULL;
    if (path != NULL) {
        f->display_name = path;
        FILE *fp = fopen(path, "rb");
        if (fp == NULL) {
            f->read_errno = errno != 0 ? errno : EIO;
            return;
        }
        long size = -1;
        if (fseek(fp, 0, SEEK_END) == 0) {
            size = ftell(fp);
            rewind(fp);
        }
        size_t cap = size >= 0 && (unsigned long)size < DIAG_FILE_MAX ? (size_t)size + 1u
                                                                       : DIAG_FILE_MAX;
        uint8_t *data = malloc(cap);
        if (data != NULL) {
            size_t n = fread(data, 1, cap, fp);
            f->data = data;
            f->len = n;
            *owned = data;
        }
        (void)fclose(fp);
    } else if (buf != NULL) {
        f->display_name = buf_name;
        f->data = buf;
        f->len = len;
        f->from_buffer_api = true;
    }
}

static const mqtls_findings_t *diagnose(mqtls_client_t *c, const mqtls_error_t *why)
{
    if (!c->cfg.diagnose) {
        return NULL;
    }
    if (c->findings == NULL && mqtls_findings_create(&c->findings) != MQTLS_OK) {
        return NULL;
    }
    mqtls_findings_clear(c->findings);
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    const mqtls_tls_cfg_t *t = &c->tls_cfg;
    if (t->profile != NULL) {
        (void)mqtls_profile_from_name(t->profile, &in.profile);
    }
    in.now_s = (int64_t)time(NULL);
    in.host = c->uri.host;
    in.port = c->uri.port;
    in.server_name = t->server_name;
    in.err = why;
    in.facts = c->facts_used ? &c->facts : NULL;
    in.mqtt_version = (int)c->cfg.version;
    in.insecure = t->insecure;
    uint8_t *owned[3] = {NULL, NULL, NULL};
    if (t->enabled) {
        diag_file(t->ca_file, t->ca_buf, t->ca_len, "ca_buf", &in.ca, &owned[0]);
        diag_file(t->cert_file, t->cert_buf, t->cert_len, "cert_buf", &in.cert, &owned[1]);
        diag_file(t->key_file, t->key_buf, t->key_len, "key_buf", &in.key, &owned[2]);
        in.key_password = t->key_password;
        in.key_password_given = t->key_password != NULL;
    }
    mqtls_status_t st = mqtls_diag_run(&in, c->findings);
    for (size_t i = 0; i < 3; i++) {
        free(owned[i]);
    }
    c->findings_valid = st == MQTLS_OK;
    return c->findings_valid ? c->findings : NULL;
}

/* The connection ended (failure or requested). Report, then reconnect or go idle. */
static void connection_ended(mqtls_client_t *c, const mqtls_error_t *why, int64_t now)
{
    bool was_connecting = c->state == MQTLS_STATE_CONNECTING ||
                          c->state == MQTLS_STATE_MQTT_CONNECTING;
    if (c->t != NULL) {
        c->t->ops->close(c->t);
    }
    c->close_wait = false;
    mqtls__session_on_closed(&c->s);
    c->rx_len = 0;
    bool requested = why->status == MQTLS_OK;
    if (!requested) {
        c->last_err = *why;
    }
    bool again = !requested && c->want_connection && c->cfg.reconnect.enabled;
    uint32_t delay = 0;
    if (again) {
        delay = mqtls__backoff_ms(c->attempt, c->cfg.reconnect.min_ms, c->cfg.reconnect.max_ms,
                                  rand32(c));
        c->attempt++;
        c->state = MQTLS_STATE_BACKOFF;
        c->deadline_ms = now + delay;
    } else {
        c->state = MQTLS_STATE_IDLE;
        c->want_connection = false;
    }
    LOG(c, requested ? MQTLS_LOG_INFO : MQTLS_LOG_WARN, "disconnected: %s: %s (%s)%s%s",
        mqtls_layer_name(why->layer), mqtls_status_text(why->status),
        mqtls_status_name(why->status), why->detail[0] != '\0' ? ": " : "", why->detail);
    mqtls_event_t ev;
    if (was_connecting && !requested) {
        memset(&ev, 0, sizeof ev);
        ev.type = MQTLS_EVENT_ERROR;
        ev.u.error.err = *why;
        ev.u.error.findings = diagnose(c, why);
        for (size_t i = 0; i < mqtls_findings_count(ev.u.error.findings); i++) {
            const mqtls_finding_t *f = mqtls_findings_get(ev.u.error.findings, i);
            LOG(c, MQTLS_LOG_WARN, "finding %s: %s", mqtls_finding_id(f),
                mqtls_finding_message(f));
        }
        emit(c, &ev);
    }
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_DISCONNECTED;
    ev.u.disconnected.why = *why;
    ev.u.disconnected.will_reconnect = again;
    ev.u.disconnected.reconnect_in_ms = delay;
    emit(c, &ev);
}

static void fail_transport(mqtls_client_t *c, mqtls_status_t st, int64_t now)
{
    if (c->state == MQTLS_STATE_DISCONNECTING && mqtls__session_wants_close(&c->s) &&
        (st == MQTLS_ERR_CLOSED || st == MQTLS_ERR_CONN_RESET)) {
        /* Our DISCONNECT is out: the broker closing first is the end we asked for. */
        mqtls_error_t done;
        mqtls_error_init(&done);
        connection_ended(c, &done, now);
        return;
    }
    /* Keep the transport's details when they describe this failure. */
    mqtls_error_t e = c->conn_err;
    if (e.status != st) {
        mqtls_error_init(&e);
        e.status = st;
    }
    if (e.layer == MQTLS_LAYER_NONE) {
        e.layer = c->tls_cfg.enabled && st != MQTLS_ERR_CLOSED ? MQTLS_LAYER_TLS : MQTLS_LAYER_TCP;
    }
    connection_ended(c, &e, now);
}

static void fail_session(mqtls_client_t *c, int64_t now)
{
    mqtls_error_t e = c->s.err;
    if (e.layer == MQTLS_LAYER_NONE) {
        e.layer = MQTLS_LAYER_MQTT;
    }
    connection_ended(c, &e, now);
}

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
                    fail_transport(c, st, now);
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
            fail_transport(c, st, now);
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

/* Read and process everything available. false: connection gone. */
static bool pump_input(mqtls_client_t *c, int64_t now)
{
    for (int i = 0; i < LOOP_BOUND; i++) {
        if (c->rx_len == c->rx_cap && !grow_rx(c, c->rx_cap * 2u)) {
            mqtls_error_t e;
            mqtls_error_init(&e);
            e.layer = MQTLS_LAYER_MQTT;
            e.status = MQTLS_ERR_PACKET_TOO_LARGE;
            connection_ended(c, &e, now);
            return false;
        }
        size_t got = 0;
        mqtls_status_t st = c->t->ops->read(c->t, c->rx + c->rx_len, c->rx_cap - c->rx_len, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            return true;
        }
        if (st != MQTLS_OK) {
            fail_transport(c, st, now);
            return false;
        }
        c->rx_len += got;
        size_t used = 0;
        size_t need = 0;
        st = mqtls__session_on_bytes(&c->s, c->rx, c->rx_len, now, &used, &need);
        if (used > 0) {
            memmove(c->rx, c->rx + used, c->rx_len - used);
            c->rx_len -= used;
        }
        if (st != MQTLS_OK) {
            fail_session(c, now);
            return false;
        }
        if (c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
            return false; /* an event callback disconnected */
        }
        if (need > c->rx_cap && !grow_rx(c, need)) {
            mqtls_error_t e;
            mqtls_error_init(&e);
            e.layer = MQTLS_LAYER_MQTT;
            e.status = MQTLS_ERR_NOMEM;
            connection_ended(c, &e, now);
            return false;
        }
    }
    return true;
}

/* One round of work: whatever is due in the current state. Called with the lock held. */
static void work(mqtls_client_t *c, int64_t now)
{
    if (c->state == MQTLS_STATE_BACKOFF) {
        if (now < c->deadline_ms) {
            return;
        }
        start_attempt(c, now);
    }
    if (c->state == MQTLS_STATE_CONNECTING) {
        if (c->t == NULL) {
            mqtls_status_t st = make_transport(c);
            if (st != MQTLS_OK) {
                fail_transport(c, st, now);
                return;
            }
            c->t->err = &c->conn_err;
        }
        mqtls_status_t st = c->t->ops->connect(c->t, now);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            if (now >= c->deadline_ms) {
                mqtls_error_t e = c->conn_err;
                mqtls_error_init(&c->conn_err);
                c->conn_err.layer = c->tls_cfg.enabled ? MQTLS_LAYER_TLS : MQTLS_LAYER_TCP;
                c->conn_err.status = c->tls_cfg.enabled ? MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT
                                                        : MQTLS_ERR_CONNECT_TIMEOUT;
                c->conn_err.mbedtls_ret = e.mbedtls_ret;
                fail_transport(c, c->conn_err.status, now);
            }
            return;
        }
        if (st != MQTLS_OK) {
            fail_transport(c, st, now);
            return;
        }
        st = mqtls__session_on_transport_up(&c->s, now);
        if (st != MQTLS_OK) {
            fail_session(c, now);
            return;
        }
        c->state = MQTLS_STATE_MQTT_CONNECTING;
    }
    if (c->state != MQTLS_STATE_MQTT_CONNECTING && c->state != MQTLS_STATE_CONNECTED &&
        c->state != MQTLS_STATE_DISCONNECTING) {
        return;
    }
    if (!flush(c, now) || !pump_input(c, now)) {
        return;
    }
    if (mqtls__session_tick(&c->s, now) != MQTLS_OK) {
        fail_session(c, now);
        return;
    }
    if (!flush(c, now)) {
        return;
    }
    if (mqtls__session_wants_close(&c->s)) {
        bool drain = (c->t->ops->want(c->t) & MQTLS_WANT_WRITE) != 0;
        /* Over WebSocket, let the broker close first: a bridge that gets our CLOSE frame in
         * the same read as the DISCONNECT (websockify 0.10) drops the data before it. The
         * broker closes when it reads DISCONNECT [MQTT-3.14.4-1]; pump_input() then ends the
         * connection as requested. */
        bool ws_grace = c->uri.websocket && c->factory == NULL;
        if (drain || ws_grace) {
            /* The transport took bytes it has not sent yet (the rest of a WebSocket frame,
             * TLS records): closing now would drop them, our DISCONNECT and the last QoS 0
             * messages with them. Wait for the socket to take them, within a deadline. */
            if (!c->close_wait) {
                c->close_wait = true;
                uint32_t grace = c->cfg.connect_timeout_ms;
                if (!drain && grace > WS_CLOSE_GRACE_MS) {
                    grace = WS_CLOSE_GRACE_MS;
                }
                c->close_deadline_ms = now + (int64_t)grace;
            }
            if (now < c->close_deadline_ms) {
                return;
            }
        }
        mqtls_error_t e;
        mqtls_error_init(&e);
        connection_ended(c, &e, now);
    }
}

/* --- public API ------------------------------------------------------------------------- */

mqtls_status_t mqtls_client_connect(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    lock(c);
    mqtls_status_t st = MQTLS_OK;
    if (c->state != MQTLS_STATE_IDLE) {
        st = MQTLS_ERR_STATE;
    } else {
        c->want_connection = true;
        c->attempt = 0;
        start_attempt(c, now_ms(c));
        wake(c);
    }
    unlock(c);
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

/* The outbox refused a publish: give it the bigger buffer it asks for (doubling, so rare and
 * amortised) and try once more. Called with the lock held, never between the session's
 * out_iov() and out_consumed() (flush() holds the lock across both). */
static mqtls_status_t grow_outbox(mqtls_client_t *c, const mqtls_publish_t *pub,
                                  uint16_t *packet_id)
{
    size_t ent = 0;
    size_t ring = 0;
    if (!mqtls__session_outbox_want(&c->s, &ent, &ring)) {
        return MQTLS_ERR_OUTBOX_FULL; /* the configured limit: refused at once */
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
    return mqtls__session_publish(&c->s, pub, packet_id);
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
    pub.topic = bytes_of(topic);
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
    lock(c);
    int64_t now = now_ms(c);
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    if (pub.qos == 0 && c->t != NULL) {
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
                                      now);
            if (sent < hlen + payload_len) {
                wake(c);
            }
        } else if (st == MQTLS_ERR_BUFFER_TOO_SMALL) {
            st = MQTLS_ERR_WOULD_BLOCK; /* a huge header: take the queued path */
        }
    }
    if (st == MQTLS_ERR_WOULD_BLOCK) {
        st = mqtls__session_publish(&c->s, &pub, packet_id);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            st = grow_outbox(c, &pub, packet_id);
        }
        if (st == MQTLS_OK) {
            wake(c);
        }
    }
    unlock(c);
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
        f[i].filter = bytes_of(subs[i].filter);
        f[i].options = c->cfg.version == MQTLS_V5 ? subs[i].options
                                                  : (uint8_t)(subs[i].options & 0x03u);
    }
    mqtls_properties_t p;
    if (!copy_props(c->cfg.version, props, &p)) {
        return MQTLS_ERR_VERSION;
    }
    lock(c);
    mqtls_status_t st = mqtls__session_subscribe(&c->s, f, count, props != NULL ? &p : NULL,
                                                 packet_id);
    if (st == MQTLS_OK) {
        wake(c);
    }
    unlock(c);
    return st;
}

mqtls_status_t mqtls_client_unsubscribe(mqtls_client_t *c, const char *const *filters,
                                        size_t count, uint16_t *packet_id)
{
    if (c == NULL || filters == NULL || count == 0 || count > MAX_FILTERS_PER_CALL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_topic_filter_t f[MAX_FILTERS_PER_CALL];
    for (size_t i = 0; i < count; i++) {
        if (filters[i] == NULL) {
            return MQTLS_ERR_INVALID_ARG;
        }
        f[i].filter = bytes_of(filters[i]);
        f[i].options = 0;
    }
    lock(c);
    mqtls_status_t st = mqtls__session_unsubscribe(&c->s, f, count, packet_id);
    if (st == MQTLS_OK) {
        wake(c);
    }
    unlock(c);
    return st;
}

mqtls_status_t mqtls_client_disconnect(mqtls_client_t *c, uint8_t reason)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    lock(c);
    mqtls_status_t st = MQTLS_OK;
    c->want_connection = false;
    switch (c->state) {
    case MQTLS_STATE_MQTT_CONNECTING:
    case MQTLS_STATE_CONNECTED:
        st = mqtls__session_disconnect(&c->s, reason);
        if (st == MQTLS_OK) {
            c->state = MQTLS_STATE_DISCONNECTING;
        }
        break;
    case MQTLS_STATE_CONNECTING:
    case MQTLS_STATE_BACKOFF: {
        mqtls_error_t e;
        mqtls_error_init(&e);
        connection_ended(c, &e, now_ms(c));
        break;
    }
    default:
        st = MQTLS_ERR_STATE;
        break;
    }
    wake(c);
    unlock(c);
    return st;
}

static int64_t timeout_locked(mqtls_client_t *c, int64_t now)
{
    int64_t deadline = INT64_MAX;
    switch (c->state) {
    case MQTLS_STATE_BACKOFF:
    case MQTLS_STATE_CONNECTING:
        deadline = c->deadline_ms;
        if (c->state == MQTLS_STATE_CONNECTING && c->t == NULL) {
            deadline = now; /* the transport is not even created yet */
        }
        break;
    case MQTLS_STATE_MQTT_CONNECTING:
    case MQTLS_STATE_CONNECTED:
    case MQTLS_STATE_DISCONNECTING:
        deadline = mqtls__session_next_deadline(&c->s);
        if (c->t != NULL && c->t->ops->pending(c->t) > 0) {
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
    if (deadline == INT64_MAX) {
        return -1;
    }
    return deadline > now ? deadline - now : 0;
}

int64_t mqtls_client_timeout_ms(const mqtls_client_t *c)
{
    if (c == NULL) {
        return -1;
    }
    mqtls_client_t *m = (mqtls_client_t *)c;
    lock(c);
    int64_t t = timeout_locked(m, now_ms(c));
    unlock(c);
    return t;
}

static int fd_locked(const mqtls_client_t *c)
{
    if (c->t == NULL || c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
        return -1;
    }
    return c->t->ops->fd(c->t);
}

static unsigned want_locked(const mqtls_client_t *c)
{
    if (c->t == NULL || c->state == MQTLS_STATE_IDLE || c->state == MQTLS_STATE_BACKOFF) {
        return 0;
    }
    unsigned w = c->t->ops->want(c->t);
    if (c->state != MQTLS_STATE_CONNECTING) {
        w |= MQTLS_WANT_READ;
        if (mqtls__session_has_output(&c->s)) {
            w |= MQTLS_WANT_WRITE;
        }
    }
    return w;
}

int mqtls_client_fd(const mqtls_client_t *c)
{
    if (c == NULL) {
        return -1;
    }
    lock(c);
    int fd = fd_locked(c);
    unlock(c);
    return fd;
}

unsigned mqtls_client_want(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    lock(c);
    unsigned w = want_locked(c);
    unlock(c);
    return w;
}

/* Wait for I/O on the transport (and the wakeup pipe), at most timeout_ms (-1 = forever). */
static mqtls_status_t wait_io(mqtls_client_t *c, int timeout_ms)
{
    struct pollfd pf[2];
    nfds_t n = 0;
    lock(c);
    int fd = fd_locked(c);
    unsigned w = want_locked(c);
    int64_t t = timeout_locked(c, now_ms(c));
    unlock(c);
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms)) {
        timeout_ms = (int)t;
    }
    if (fd >= 0 && w != 0) {
        pf[n].fd = fd;
        pf[n].events = (short)(((w & MQTLS_WANT_READ) != 0 ? POLLIN : 0) |
                               ((w & MQTLS_WANT_WRITE) != 0 ? POLLOUT : 0));
        pf[n].revents = 0;
        n++;
    }
    if (c->running && c->wake[0] >= 0) {
        pf[n].fd = c->wake[0];
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        n++;
    }
    if (n == 0 && timeout_ms <= 0) {
        return MQTLS_OK; /* nothing to wait for: never block forever on nothing */
    }
    int r = poll(n > 0 ? pf : NULL, n, timeout_ms);
    if (r < 0 && errno != EINTR) {
        return MQTLS_ERR_OS;
    }
    if (r > 0 && c->running && (pf[n - 1u].revents & POLLIN) != 0) {
        uint8_t buf[64];
        while (read(c->wake[0], buf, sizeof buf) > 0) {
        }
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_step(mqtls_client_t *c, int timeout_ms)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (c->running) {
        return MQTLS_ERR_STATE;
    }
    mqtls_status_t st = wait_io(c, timeout_ms);
    if (st != MQTLS_OK) {
        return st;
    }
    lock(c);
    work(c, now_ms(c));
    unlock(c);
    return MQTLS_OK;
}

static void *loop_main(void *arg)
{
    mqtls_client_t *c = arg;
    while (!c->stop) {
        if (wait_io(c, 1000) != MQTLS_OK) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            (void)nanosleep(&ts, NULL);
        }
        lock(c);
        if (!c->stop) {
            work(c, now_ms(c));
        }
        unlock(c);
    }
    return NULL;
}

mqtls_status_t mqtls_client_start(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (c->running) {
        return MQTLS_ERR_STATE;
    }
    if (c->wake[0] < 0) {
        if (pipe(c->wake) != 0) {
            return MQTLS_ERR_OS;
        }
        for (int i = 0; i < 2; i++) {
            int fl = fcntl(c->wake[i], F_GETFL);
            (void)fcntl(c->wake[i], F_SETFL, fl | O_NONBLOCK);
            (void)fcntl(c->wake[i], F_SETFD, FD_CLOEXEC);
        }
    }
    c->stop = false;
    c->running = true;
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
        c->running = false;
        return MQTLS_ERR_THREAD;
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_stop(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (!c->running) {
        return MQTLS_ERR_STATE;
    }
    c->stop = true;
    wake(c);
    (void)pthread_join(c->thread, NULL);
    c->running = false;
    (void)close(c->wake[0]);
    (void)close(c->wake[1]);
    c->wake[0] = -1;
    c->wake[1] = -1;
    return MQTLS_OK;
}

mqtls_client_state_t mqtls_client_state(const mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_STATE_IDLE;
    }
    lock(c);
    mqtls_client_state_t s = c->state;
    unlock(c);
    return s;
}

mqtls_status_t mqtls_client_last_error(const mqtls_client_t *c, mqtls_error_t *out)
{
    if (c == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    lock(c);
    *out = c->last_err;
    unlock(c);
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
    return c != NULL && c->findings_valid ? c->findings : NULL;
}

size_t mqtls_client_outbox_count(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    lock(c);
    size_t n = mqtls__session_outbox_count(&c->s);
    unlock(c);
    return n;
}

size_t mqtls_client_outbox_bytes(const mqtls_client_t *c)
{
    if (c == NULL) {
        return 0;
    }
    lock(c);
    size_t n = mqtls__session_outbox_bytes(&c->s);
    unlock(c);
    return n;
}

const char *mqtls_client_id(const mqtls_client_t *c)
{
    if (c == NULL) {
        return NULL;
    }
    return c->client_id[0] != '\0' ? c->client_id : c->cfg.client_id;
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
    lock(c);
    uint32_t g = c->conn_gen;
    unlock(c);
    return g;
}

void mqtls__client_work(mqtls_client_t *c)
{
    lock(c);
    if (!c->running) {
        work(c, now_ms(c));
    }
    unlock(c);
}
