/* bench_paho: the Eclipse Paho C side of the client benchmarks (modes: bench_common.h).
 *
 * Links libpaho-mqtt3cs (the synchronous MQTTClient API with OpenSSL). publish, connect and
 * idle use it single-threaded (no callbacks set: "synchronous mode"); e2e sets callbacks,
 * which makes Paho run its receive thread, the usual way to consume messages. */
#include <MQTTClient.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"

#define PROG "paho"

typedef struct state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t acked;
    uint32_t received;
    size_t bad_size;
    size_t expect_size;
    int64_t last_recv_ns;
} state_t;

static char uri[128];

static void die_rc(const char *what, int rc)
{
    char msg[160];
    const char *s = MQTTClient_strerror(rc);
    (void)snprintf(msg, sizeof(msg), "%s: %d %s", what, rc, s != NULL ? s : "");
    bench_die(PROG, msg);
}

static MQTTClient new_client(const char *role, unsigned n)
{
    char id[64];
    (void)snprintf(id, sizeof(id), "bp-%s-%ld-%u", role, (long)getpid(), n);
    MQTTClient c;
    int rc = MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        die_rc("MQTTClient_create", rc);
    }
    return c;
}

static void do_connect(const bench_opts_t *o, MQTTClient c, int max_inflight)
{
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    co.keepAliveInterval = 60;
    co.cleansession = 1;
    co.connectTimeout = 10;
    if (max_inflight > 0) {
        co.maxInflightMessages = max_inflight;
    }
    if (o->cafile != NULL) {
        ssl.trustStore = o->cafile;
        ssl.keyStore = o->cert;
        ssl.privateKey = o->key;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1; /* hostname / IP check, as the other clients do */
        co.ssl = &ssl;
    }
    int rc = MQTTClient_connect(c, &co);
    if (rc != MQTTCLIENT_SUCCESS) {
        die_rc("MQTTClient_connect", rc);
    }
}

static void mode_publish(const bench_opts_t *o)
{
    uint8_t *payload = bench_payload(o->size);
    MQTTClient c = new_client("pub", 0);
    do_connect(o, c, 0);
    for (uint32_t i = 0; i < o->count; i++) {
        MQTTClient_deliveryToken tok;
        int rc = MQTTClient_publish(c, o->topic, (int)o->size, payload, 0, 0, &tok);
        if (rc != MQTTCLIENT_SUCCESS) {
            die_rc("MQTTClient_publish", rc);
        }
    }
    /* QoS 0: a clean DISCONNECT; Paho writes queued packets before it */
    (void)MQTTClient_disconnect(c, 10000);
    MQTTClient_destroy(&c);
    printf("RESULT prog=%s mode=publish tls=%d size=%zu count=%u\n", PROG, o->cafile != NULL,
           o->size, o->count);
    free(payload);
}

static void mode_connect(const bench_opts_t *o)
{
    double *ms = calloc(o->count, sizeof(*ms));
    if (ms == NULL) {
        bench_die(PROG, "out of memory");
    }
    /* A fresh client per connect: a reused MQTTClient resumes its TLS session, which is not
     * the full mutual-TLS handshake this mode measures. Iteration 0 warms up, not counted. */
    for (uint32_t i = 0; i <= o->count; i++) {
        MQTTClient c = new_client("conn", i);
        int64_t t0 = bench_now_ns();
        do_connect(o, c, 0);
        int64_t t1 = bench_now_ns();
        (void)MQTTClient_disconnect(c, 0);
        MQTTClient_destroy(&c);
        if (i > 0) {
            ms[i - 1] = (double)(t1 - t0) / 1e6;
        }
    }
    bench_report_connect(PROG, ms, o->count);
    free(ms);
}

static void mode_idle(const bench_opts_t *o)
{
    MQTTClient c = new_client("idle", 0);
    do_connect(o, c, 0);
    int64_t end = bench_now_ms() + 1000;
    while (bench_now_ms() < end) {
        MQTTClient_yield(); /* synchronous mode: lets Paho process network traffic */
        bench_sleep_ms(50);
    }
    bench_idle_heap(PROG);
    (void)MQTTClient_disconnect(c, 1000);
    MQTTClient_destroy(&c);
    printf("RESULT prog=%s mode=idle tls=%d\n", PROG, o->cafile != NULL);
}

static void conn_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "bench %s: connection lost: %s\n", PROG, cause != NULL ? cause : "?");
}

static int msg_arrived(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)topic_len;
    state_t *s = ctx;
    int64_t now = bench_now_ns();
    pthread_mutex_lock(&s->mu);
    if ((size_t)msg->payloadlen != s->expect_size) {
        s->bad_size++;
    }
    s->received++;
    s->last_recv_ns = now;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 1;
}

static void delivered(void *ctx, MQTTClient_deliveryToken dt)
{
    (void)dt;
    state_t *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->acked++;
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

static void mode_e2e(const bench_opts_t *o)
{
    state_t ss;
    state_t ps;
    state_init(&ss, o->size);
    state_init(&ps, o->size);
    uint8_t *payload = bench_payload(o->size);
    int64_t hard_end = bench_now_ms() + (int64_t)o->timeout_s * 1000;
    MQTTClient sub = new_client("sub", 0);
    MQTTClient pub = new_client("pub", 0);
    if (MQTTClient_setCallbacks(sub, &ss, conn_lost, msg_arrived, NULL) != MQTTCLIENT_SUCCESS ||
        MQTTClient_setCallbacks(pub, &ps, conn_lost, msg_arrived, delivered) !=
            MQTTCLIENT_SUCCESS) {
        bench_die(PROG, "MQTTClient_setCallbacks failed");
    }
    do_connect(o, sub, 0);
    do_connect(o, pub, (int)o->inflight);
    int rc = MQTTClient_subscribe(sub, o->topic, o->qos); /* returns after SUBACK */
    if (rc != MQTTCLIENT_SUCCESS) {
        die_rc("MQTTClient_subscribe", rc);
    }

    int timed_out = 0;
    int64_t first_ns = bench_now_ns();
    for (uint32_t i = 0; i < o->count && !timed_out; i++) {
        if (o->qos > 0) {
            pthread_mutex_lock(&ps.mu);
            while (i - ps.acked >= o->inflight && bench_now_ms() < hard_end) {
                bench_cond_wait_ms(&ps.cv, &ps.mu, 10);
            }
            timed_out = i - ps.acked >= o->inflight;
            pthread_mutex_unlock(&ps.mu);
        }
        while (!timed_out) {
            MQTTClient_deliveryToken tok;
            rc = MQTTClient_publish(pub, o->topic, (int)o->size, payload, o->qos, 0, &tok);
            if (rc == MQTTCLIENT_SUCCESS) {
                break;
            }
            if (rc != MQTTCLIENT_MAX_MESSAGES_INFLIGHT) {
                die_rc("MQTTClient_publish", rc);
            }
            /* Paho's own window is full (its count drops after the callback): retry shortly */
            bench_sleep_ms(1);
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
    (void)MQTTClient_disconnect(pub, 1000);
    (void)MQTTClient_disconnect(sub, 1000);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&sub);
    free(payload);
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse(argc, argv, "paho", &o);
    (void)snprintf(uri, sizeof(uri), "%s://%s:%u", o.cafile != NULL ? "ssl" : "tcp", o.host,
                   o.port);
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
