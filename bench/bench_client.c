/* bench_client: the mqtls side of the client benchmarks; same modes and options as
 * bench/peers/bench_mosquitto.c and bench_paho.c (bench/peers/bench_common.h).
 *
 * publish, connect and idle drive the client from this thread with mqtls_client_step()
 * (as libmosquitto's mosquitto_loop() is driven in its program); e2e runs each client on its
 * own loop thread with mqtls_client_start() (as mosquitto_loop_start() / Paho's callbacks). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "mqtls/client.h"

#define PROG "mqtls"

typedef struct state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool connected;
    bool disconnected;
    bool subscribed;
    bool failed;
    mqtls_error_t err;
    uint32_t errors; /* MQTLS_EVENT_ERROR (e.g. dropped messages) */
    uint32_t acked; /* MQTLS_EVENT_PUBLISHED: QoS 1/2 acknowledgements */
    uint32_t received;
    size_t bad_size;
    size_t expect_size;
    int64_t last_recv_ns;
} state_t;

static void state_init(state_t *s, size_t expect_size)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->expect_size = expect_size;
}

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    state_t *s = ctx;
    int64_t now = ev->type == MQTLS_EVENT_MESSAGE ? bench_now_ns() : 0;
    pthread_mutex_lock(&s->mu);
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        s->connected = true;
        s->disconnected = false;
        break;
    case MQTLS_EVENT_DISCONNECTED:
        s->connected = false;
        s->disconnected = true;
        if (ev->u.disconnected.why.status != MQTLS_OK) {
            s->failed = true;
            s->err = ev->u.disconnected.why;
        }
        break;
    case MQTLS_EVENT_MESSAGE:
        if (ev->u.message.payload.len != s->expect_size) {
            s->bad_size++;
        }
        s->received++;
        s->last_recv_ns = now;
        break;
    case MQTLS_EVENT_PUBLISHED:
        s->acked++;
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        s->subscribed = true;
        break;
    case MQTLS_EVENT_ERROR:
        s->failed = true;
        s->err = ev->u.error.err;
        s->errors++;
        break;
    case MQTLS_EVENT_MESSAGE_IN_DOUBT: /* a QoS 2 message the lost session may duplicate */
        s->errors++;
        break;
    case MQTLS_EVENT_UNSUBSCRIBED:
        break;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void die_status(const char *what, mqtls_status_t st, const mqtls_error_t *err)
{
    char detail[512] = "";
    if (err != NULL) {
        (void)mqtls_strerror(err, detail, sizeof(detail));
    }
    char msg[700];
    (void)snprintf(msg, sizeof(msg), "%s: %s %s", what, mqtls_status_name(st), detail);
    bench_die(PROG, msg);
}

static mqtls_client_t *new_client(const bench_opts_t *o, state_t *s, const char *role,
                                  unsigned n)
{
    char uri[128];
    char id[64];
    (void)snprintf(uri, sizeof(uri), "%s://%s:%u", o->cafile != NULL ? "mqtts" : "mqtt",
                   o->host, o->port);
    (void)snprintf(id, sizeof(id), "bq-%s-%ld-%u", role, (long)getpid(), n);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    cfg.tls = &tls;
    cfg.uri = uri;
    cfg.client_id = id;
    cfg.keepalive_s = 60;
    cfg.reconnect.enabled = false;
    cfg.on_event = on_event;
    cfg.event_ctx = s;
    if (o->cafile != NULL) {
        tls.enabled = true;
        tls.ca_file = o->cafile;
        tls.cert_file = o->cert;
        tls.key_file = o->key;
        /* a full handshake every time, as the peers do (none of them resumes here), except
         * for --variant resume (one client reconnecting: TLS session resumption) */
        tls.no_session_resumption =
            o->variant == NULL || strcmp(o->variant, "resume") != 0;
        /* bench/run.sh's TLS12=1 knob: TLS 1.2 at most (to tell the version's share of a
         * figure from max_fragment_length's, which implies TLS 1.2 on mbedtls3) */
        const char *v12 = getenv("BENCH_TLS12");
        if (v12 != NULL && strcmp(v12, "1") == 0) {
            tls.max_version = 0x0303;
        }
        /* bench/run.sh's TLS_MAX_FRAGMENT knob (mqtls_tls_cfg_t::max_fragment_len) */
        const char *mfl = getenv("BENCH_TLS_MAX_FRAGMENT");
        if (mfl != NULL && mfl[0] != '\0') {
            tls.max_fragment_len = (uint16_t)strtoul(mfl, NULL, 10);
        }
    }
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_client_t *c = NULL;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c);
    if (st != MQTLS_OK) {
        die_status("mqtls_client_create", st, &err);
    }
    return c;
}

/* Caller-driven: step until *flag (or 10 s). */
static void step_until(mqtls_client_t *c, state_t *s, const bool *flag, const char *what)
{
    int64_t deadline = bench_now_ms() + 10000;
    while (!*flag) {
        if (s->failed && flag != &s->disconnected) {
            die_status(what, s->err.status, &s->err);
        }
        if (bench_now_ms() > deadline) {
            bench_die(PROG, what);
        }
        mqtls_status_t st = mqtls_client_step(c, 100);
        if (st != MQTLS_OK) {
            die_status("mqtls_client_step", st, NULL);
        }
    }
}

static void connect_stepped(mqtls_client_t *c, state_t *s)
{
    s->connected = false;
    mqtls_status_t st = mqtls_client_connect(c);
    if (st != MQTLS_OK) {
        die_status("mqtls_client_connect", st, NULL);
    }
    step_until(c, s, &s->connected, "no CONNACK within 10 s");
}

static void disconnect_stepped(mqtls_client_t *c, state_t *s)
{
    s->disconnected = false;
    mqtls_status_t st = mqtls_client_disconnect(c, 0);
    if (st != MQTLS_OK) {
        die_status("mqtls_client_disconnect", st, NULL);
    }
    step_until(c, s, &s->disconnected, "disconnect did not complete within 10 s");
}

static void mode_publish(const bench_opts_t *o)
{
    state_t s;
    state_init(&s, o->size);
    uint8_t *payload = bench_payload(o->size);
    mqtls_client_t *c = new_client(o, &s, "pub", 0);
    connect_stepped(c, &s);
    int64_t deadline = bench_now_ms() + 30000;
    /* --variant cork: the burst API, mqtls_client_cork() around every CORK_BATCH messages
     * (they go out coalesced: one TLS record / one send per 16 KiB, not one per message). */
    bool cork = o->variant != NULL && strcmp(o->variant, "cork") == 0;
    enum { CORK_BATCH = 200 };
    for (uint32_t i = 0; i < o->count; i++) {
        if (cork && i % CORK_BATCH == 0) {
            if (i > 0) {
                (void)mqtls_client_uncork(c);
            }
            (void)mqtls_client_cork(c);
        }
        mqtls_status_t st;
        while ((st = mqtls_client_publish(c, o->topic, payload, o->size, NULL, NULL)) ==
                   MQTLS_ERR_OUTBOX_FULL &&
               bench_now_ms() < deadline) {
            (void)mqtls_client_step(c, 10); /* the socket is full: let it drain */
        }
        if (st != MQTLS_OK) {
            die_status("mqtls_client_publish", st, NULL);
        }
    }
    if (cork) {
        (void)mqtls_client_uncork(c);
    }
    /* Wait until every message is on the socket: mqtls_client_disconnect() drops QoS 0
     * messages still in the outbox (seen: 1 of 200 x 16 KiB arrived without this wait). */
    while ((mqtls_client_outbox_count(c) > 0 || (mqtls_client_want(c) & MQTLS_WANT_WRITE)) &&
           bench_now_ms() < deadline) {
        (void)mqtls_client_step(c, 10);
    }
    size_t left = mqtls_client_outbox_count(c);
    disconnect_stepped(c, &s);
    printf("RESULT prog=%s mode=publish tls=%d size=%zu count=%u error_events=%u unsent=%zu\n",
           PROG, o->cafile != NULL, o->size, o->count, s.errors, left);
    if (s.errors > 0) {
        char line[512];
        (void)mqtls_strerror(&s.err, line, sizeof(line));
        fprintf(stderr, "bench %s: last error event: %s\n", PROG, line);
    }
    mqtls_client_destroy(c);
    free(payload);
}

static void mode_connect(const bench_opts_t *o)
{
    double *ms = calloc(o->count, sizeof(*ms));
    if (ms == NULL) {
        bench_die(PROG, "out of memory");
    }
    /* a fresh client per connect (certificates are parsed in create, untimed);
     * iteration 0 warms up and is not counted. --variant reuse / resume: one client
     * reconnecting (created once), full handshakes / resumed ones (TLS 1.3 tickets or 1.2
     * session ids, whatever the engine negotiated). */
    bool one = o->variant != NULL &&
               (strcmp(o->variant, "reuse") == 0 || strcmp(o->variant, "resume") == 0);
    state_t s1;
    state_init(&s1, 0);
    mqtls_client_t *c1 = one ? new_client(o, &s1, "conn", 0) : NULL;
    for (uint32_t i = 0; i <= o->count; i++) {
        state_t s0;
        state_t *sp = &s1;
        mqtls_client_t *c = c1;
        if (!one) {
            state_init(&s0, 0);
            sp = &s0;
            c = new_client(o, sp, "conn", i);
        }
        int64_t t0 = bench_now_ns();
        connect_stepped(c, sp);
        int64_t t1 = bench_now_ns();
        disconnect_stepped(c, sp);
        if (!one) {
            mqtls_client_destroy(c);
        }
        if (i > 0) {
            ms[i - 1] = (double)(t1 - t0) / 1e6;
        }
    }
    if (c1 != NULL) {
        mqtls_client_destroy(c1);
    }
    bench_report_connect(PROG, ms, o->count);
    free(ms);
}

static void mode_idle(const bench_opts_t *o)
{
    state_t s;
    state_init(&s, 0);
    mqtls_client_t *c = new_client(o, &s, "idle", 0);
    connect_stepped(c, &s);
    int64_t end = bench_now_ms() + 1000;
    while (bench_now_ms() < end) {
        (void)mqtls_client_step(c, 100);
    }
    bench_idle_heap(PROG);
    disconnect_stepped(c, &s);
    mqtls_client_destroy(c);
    printf("RESULT prog=%s mode=idle tls=%d\n", PROG, o->cafile != NULL);
}

/* Threaded: wait (lock held) until pred or the deadline. */
#define WAIT_UNTIL(s, pred, deadline_ms)                                                          \
    do {                                                                                          \
        while (!(pred) && !(s)->failed && bench_now_ms() < (deadline_ms)) {                       \
            bench_cond_wait_ms(&(s)->cv, &(s)->mu, 10);                                           \
        }                                                                                         \
    } while (0)

static void mode_e2e(const bench_opts_t *o)
{
    state_t ss;
    state_t ps;
    state_init(&ss, o->size);
    state_init(&ps, o->size);
    uint8_t *payload = bench_payload(o->size);
    int64_t hard_end = bench_now_ms() + (int64_t)o->timeout_s * 1000;
    mqtls_client_t *sub = new_client(o, &ss, "sub", 0);
    mqtls_client_t *pub = new_client(o, &ps, "pub", 0);
    if (mqtls_client_start(sub) != MQTLS_OK || mqtls_client_start(pub) != MQTLS_OK ||
        mqtls_client_connect(sub) != MQTLS_OK || mqtls_client_connect(pub) != MQTLS_OK) {
        bench_die(PROG, "start/connect failed");
    }
    pthread_mutex_lock(&ss.mu);
    WAIT_UNTIL(&ss, ss.connected, bench_now_ms() + 10000);
    bool ok = ss.connected;
    pthread_mutex_unlock(&ss.mu);
    mqtls_subscription_t subscription = {.filter = o->topic, .options = (uint8_t)o->qos};
    if (!ok || mqtls_client_subscribe(sub, &subscription, 1, NULL, NULL) != MQTLS_OK) {
        die_status("subscriber did not connect", ss.err.status, &ss.err);
    }
    pthread_mutex_lock(&ss.mu);
    WAIT_UNTIL(&ss, ss.subscribed, bench_now_ms() + 10000);
    ok = ss.subscribed;
    pthread_mutex_unlock(&ss.mu);
    pthread_mutex_lock(&ps.mu);
    WAIT_UNTIL(&ps, ps.connected, bench_now_ms() + 10000);
    ok = ok && ps.connected;
    pthread_mutex_unlock(&ps.mu);
    if (!ok) {
        bench_die(PROG, "no SUBACK / publisher CONNACK within 10 s");
    }

    mqtls_publish_opts_t popts = {.qos = (uint8_t)o->qos};
    int timed_out = 0;
    int64_t first_ns = bench_now_ns();
    for (uint32_t i = 0; i < o->count && !timed_out; i++) {
        if (o->qos > 0) {
            pthread_mutex_lock(&ps.mu);
            WAIT_UNTIL(&ps, i - ps.acked < o->inflight, hard_end);
            timed_out = !(i - ps.acked < o->inflight);
            pthread_mutex_unlock(&ps.mu);
        }
        while (!timed_out) {
            mqtls_status_t st = mqtls_client_publish(pub, o->topic, payload, o->size, &popts,
                                                     NULL);
            if (st == MQTLS_OK) {
                break;
            }
            if (st != MQTLS_ERR_OUTBOX_FULL) {
                die_status("mqtls_client_publish", st, NULL);
            }
            bench_sleep_ms(1); /* QoS 0 faster than the socket drains: back off */
            timed_out = bench_now_ms() >= hard_end;
        }
    }
    pthread_mutex_lock(&ss.mu);
    if (!bench_wait_received(&ss.cv, &ss.mu, &ss.received, o->count, hard_end)) {
        timed_out = 1;
    }
    uint32_t received = ss.received;
    int64_t last_ns = ss.last_recv_ns;
    size_t bad = ss.bad_size;
    pthread_mutex_unlock(&ss.mu);
    bench_report_e2e(PROG, o, received, first_ns, last_ns, timed_out);
    if (bad != 0) {
        fprintf(stderr, "bench %s: %zu messages with a wrong payload size\n", PROG, bad);
    }
    (void)mqtls_client_disconnect(pub, 0);
    (void)mqtls_client_disconnect(sub, 0);
    pthread_mutex_lock(&ps.mu);
    WAIT_UNTIL(&ps, ps.disconnected, bench_now_ms() + 2000);
    pthread_mutex_unlock(&ps.mu);
    pthread_mutex_lock(&ss.mu);
    WAIT_UNTIL(&ss, ss.disconnected, bench_now_ms() + 2000);
    pthread_mutex_unlock(&ss.mu);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
    free(payload);
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse(argc, argv, "mqtls", &o);
    switch (o.mode) {
    case BENCH_MODE_PUBLISH:
        mode_publish(&o);
        break;
    case BENCH_MODE_E2E:
        mode_e2e(&o);
        break;
    case BENCH_MODE_CONNECT:
        mode_connect(&o);
        break;
    case BENCH_MODE_IDLE:
        mode_idle(&o);
        break;
    }
    return 0;
}
