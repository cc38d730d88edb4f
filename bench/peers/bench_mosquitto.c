/* bench_mosquitto: the libmosquitto side of the client benchmarks (modes: bench_common.h).
 *
 * publish, connect and idle run single-threaded with mosquitto_loop(), the way an embedded
 * caller would; e2e uses mosquitto_loop_start() (one network thread per connection), which is
 * how libmosquitto applications usually receive. --variant nodelay sets MOSQ_OPT_TCP_NODELAY
 * (off by default in libmosquitto). */
#include <mosquitto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"

#define PROG "libmosquitto"

typedef struct state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool connected;
    bool disconnected;
    int connack_rc;
    bool subscribed;
    uint32_t published; /* on_publish: written (QoS 0) or acknowledged (QoS 1/2) */
    uint32_t received;
    size_t bad_size;
    size_t expect_size;
    int64_t last_recv_ns;
} state_t;

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    state_t *s = ud;
    pthread_mutex_lock(&s->mu);
    s->connected = (rc == 0);
    s->disconnected = false;
    s->connack_rc = rc;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    (void)rc;
    state_t *s = ud;
    pthread_mutex_lock(&s->mu);
    s->connected = false;
    s->disconnected = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    (void)mid;
    state_t *s = ud;
    pthread_mutex_lock(&s->mu);
    s->published++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int qos_count,
                         const int *granted)
{
    (void)m;
    (void)mid;
    (void)qos_count;
    (void)granted;
    state_t *s = ud;
    pthread_mutex_lock(&s->mu);
    s->subscribed = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    state_t *s = ud;
    int64_t now = bench_now_ns();
    pthread_mutex_lock(&s->mu);
    if ((size_t)msg->payloadlen != s->expect_size) {
        s->bad_size++;
    }
    s->received++;
    s->last_recv_ns = now;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void state_init(state_t *s, size_t expect_size)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->expect_size = expect_size;
}

static struct mosquitto *new_client(const bench_opts_t *o, state_t *s, const char *role,
                                    unsigned n)
{
    char id[64];
    (void)snprintf(id, sizeof(id), "bm-%s-%ld-%u", role, (long)getpid(), n);
    struct mosquitto *m = mosquitto_new(id, true, s);
    if (m == NULL) {
        bench_die(PROG, "mosquitto_new failed");
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    if (o->variant != NULL && strcmp(o->variant, "nodelay") == 0) {
        /* not the default: libmosquitto leaves Nagle on unless asked */
        (void)mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    }
    if (o->cafile != NULL) {
        int rc = mosquitto_tls_set(m, o->cafile, NULL, o->cert, o->key, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            bench_die(PROG, mosquitto_strerror(rc));
        }
    }
    return m;
}

/* Single-threaded: run mosquitto_loop() until @p flag is set (or 10 s pass). */
static void loop_until(struct mosquitto *m, state_t *s, const bool *flag, const char *what)
{
    int64_t deadline = bench_now_ms() + 10000;
    while (!*flag) {
        if (bench_now_ms() > deadline) {
            bench_die(PROG, what);
        }
        int rc = mosquitto_loop(m, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS && flag != &s->disconnected) {
            bench_die(PROG, mosquitto_strerror(rc));
        }
        if (rc == MOSQ_ERR_NO_CONN) {
            s->disconnected = true;
        }
    }
}

static void connect_blocking(const bench_opts_t *o, struct mosquitto *m, state_t *s)
{
    s->connected = false;
    int rc = mosquitto_connect(m, o->host, o->port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        bench_die(PROG, mosquitto_strerror(rc));
    }
    loop_until(m, s, &s->connected, "no CONNACK within 10 s");
}

static void disconnect_blocking(struct mosquitto *m, state_t *s)
{
    s->disconnected = false;
    (void)mosquitto_disconnect(m);
    loop_until(m, s, &s->disconnected, "disconnect did not complete within 10 s");
}

static void mode_publish(const bench_opts_t *o)
{
    state_t s;
    state_init(&s, o->size);
    uint8_t *payload = bench_payload(o->size);
    struct mosquitto *m = new_client(o, &s, "pub", 0);
    connect_blocking(o, m, &s);
    for (uint32_t i = 0; i < o->count; i++) {
        int rc = mosquitto_publish(m, NULL, o->topic, (int)o->size, payload, 0, false);
        if (rc != MOSQ_ERR_SUCCESS) {
            bench_die(PROG, mosquitto_strerror(rc));
        }
    }
    /* QoS 0: wait until every queued packet is on the socket, then disconnect cleanly */
    int64_t deadline = bench_now_ms() + 30000;
    while (mosquitto_want_write(m) && bench_now_ms() < deadline) {
        (void)mosquitto_loop(m, 100, 1);
    }
    disconnect_blocking(m, &s);
    printf("RESULT prog=%s mode=publish tls=%d size=%zu count=%u written=%u\n", PROG,
           o->cafile != NULL, o->size, o->count, s.published);
    mosquitto_destroy(m);
    free(payload);
}

static void mode_connect(const bench_opts_t *o)
{
    double *ms = calloc(o->count, sizeof(*ms));
    if (ms == NULL) {
        bench_die(PROG, "out of memory");
    }
    /* iteration 0 warms up (library init, page faults) and is not counted */
    for (uint32_t i = 0; i <= o->count; i++) {
        state_t s;
        state_init(&s, 0);
        struct mosquitto *m = new_client(o, &s, "conn", i);
        int64_t t0 = bench_now_ns();
        connect_blocking(o, m, &s);
        int64_t t1 = bench_now_ns();
        disconnect_blocking(m, &s);
        mosquitto_destroy(m);
        if (i > 0) {
            ms[i - 1] = (double)(t1 - t0) / 1e6;
        }
    }
    bench_report_connect(o->variant != NULL && strcmp(o->variant, "nodelay") == 0
                             ? PROG "-nodelay"
                             : PROG,
                         ms, o->count);
    free(ms);
}

static void mode_idle(const bench_opts_t *o)
{
    state_t s;
    state_init(&s, 0);
    struct mosquitto *m = new_client(o, &s, "idle", 0);
    connect_blocking(o, m, &s);
    int64_t end = bench_now_ms() + 1000;
    while (bench_now_ms() < end) {
        (void)mosquitto_loop(m, 100, 1);
    }
    bench_idle_heap(PROG);
    disconnect_blocking(m, &s);
    mosquitto_destroy(m);
    printf("RESULT prog=%s mode=idle tls=%d\n", PROG, o->cafile != NULL);
}

/* Threaded: wait (lock held) until pred() or the deadline. */
#define WAIT_UNTIL(s, pred, deadline_ms)                                                          \
    do {                                                                                          \
        while (!(pred) && bench_now_ms() < (deadline_ms)) {                                       \
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
    struct mosquitto *sub = new_client(o, &ss, "sub", 0);
    struct mosquitto *pub = new_client(o, &ps, "pub", 0);
    (void)mosquitto_max_inflight_messages_set(pub, o->inflight);
    int64_t hard_end = bench_now_ms() + (int64_t)o->timeout_s * 1000;

    if (mosquitto_connect(sub, o->host, o->port, 60) != MOSQ_ERR_SUCCESS ||
        mosquitto_connect(pub, o->host, o->port, 60) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(sub) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(pub) != MOSQ_ERR_SUCCESS) {
        bench_die(PROG, "connect failed");
    }
    pthread_mutex_lock(&ss.mu);
    WAIT_UNTIL(&ss, ss.connected, bench_now_ms() + 10000);
    bool ok = ss.connected;
    pthread_mutex_unlock(&ss.mu);
    if (!ok || mosquitto_subscribe(sub, NULL, o->topic, o->qos) != MOSQ_ERR_SUCCESS) {
        bench_die(PROG, "subscriber did not connect");
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

    int timed_out = 0;
    int64_t first_ns = bench_now_ns();
    for (uint32_t i = 0; i < o->count && !timed_out; i++) {
        if (o->qos > 0) {
            pthread_mutex_lock(&ps.mu);
            WAIT_UNTIL(&ps, i - ps.published < o->inflight, hard_end);
            timed_out = !(i - ps.published < o->inflight);
            pthread_mutex_unlock(&ps.mu);
        }
        if (!timed_out &&
            mosquitto_publish(pub, NULL, o->topic, (int)o->size, payload, o->qos, false) !=
                MOSQ_ERR_SUCCESS) {
            bench_die(PROG, "publish failed");
        }
    }
    /* all received, the hard cap, or (QoS 0 may drop) 2 s without progress */
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
    (void)mosquitto_disconnect(pub);
    (void)mosquitto_disconnect(sub);
    (void)mosquitto_loop_stop(pub, false);
    (void)mosquitto_loop_stop(sub, false);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    free(payload);
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse(argc, argv, "mosquitto", &o);
    mosquitto_lib_init();
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
    mosquitto_lib_cleanup();
    return 0;
}
