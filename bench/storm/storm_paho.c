/* storm_paho: the connect storm of bench/storm.sh with Eclipse Paho C, asynchronous API
 * (libpaho-mqtt3as; storm_common.h).
 *
 * One MQTTAsync handle per device (ssl:// URI, the device's certificate and key, the server
 * certificate and its host verified), connected at the storm's rate from this thread; Paho
 * drives every handle on its own internal threads (--threads does not apply). The second storm
 * connects the same handles again: Paho C keeps the TLS session of a handle and offers it on
 * its next connect, but does not say whether the server resumed it (resumed=-1: unknown). */
#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storm_common.h"

#define PROG "paho"

typedef struct pclient {
    MQTTAsync h;
    size_t index;
    _Atomic int state; /* 0 idle, 1 connecting, 2 connected, 3 closing */
    int64_t start_us;
} pclient_t;

static storm_opts_t g_o;
static pclient_t *g_c;
static int64_t *g_lat;
static atomic_size_t g_connected, g_answered;
static _Atomic int64_t g_last;

static void on_connect_ok(void *ctx, MQTTAsync_successData *d)
{
    (void)d;
    pclient_t *c = ctx;
    int64_t now = storm_now_us();
    atomic_store(&c->state, 2);
    size_t k = atomic_fetch_add(&g_connected, 1u);
    g_lat[k] = now - c->start_us;
    for (int64_t last = atomic_load(&g_last);
         now > last && !atomic_compare_exchange_weak(&g_last, &last, now);) {
    }
    atomic_fetch_add(&g_answered, 1u);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
    pclient_t *c = ctx;
    if (atomic_load(&g_answered) < 3) {
        fprintf(stderr, "storm %s: %zu failed: %d %s\n", PROG, c->index, d != NULL ? d->code : 0,
                d != NULL && d->message != NULL ? d->message : "");
    }
    atomic_store(&c->state, 0);
    atomic_fetch_add(&g_answered, 1u);
}

static void on_disconnected(void *ctx, MQTTAsync_successData *d)
{
    (void)d;
    pclient_t *c = ctx;
    atomic_store(&c->state, 0);
    atomic_fetch_add(&g_answered, 1u);
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData *d)
{
    (void)d;
    pclient_t *c = ctx;
    atomic_store(&c->state, 0);
    atomic_fetch_add(&g_answered, 1u);
}

static int connect_one(pclient_t *c)
{
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    ssl.trustStore = g_o.cafile;
    ssl.keyStore = g_o.dev[c->index].cert;
    ssl.privateKey = g_o.dev[c->index].key;
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = 60;
    co.cleansession = 1;
    co.connectTimeout = 30;
    co.ssl = &ssl;
    co.onSuccess = on_connect_ok;
    co.onFailure = on_connect_fail;
    co.context = c;
    atomic_store(&c->state, 1);
    c->start_us = storm_now_us();
    return MQTTAsync_connect(c->h, &co);
}

/* Wait until @p want answers came in, or the deadline. */
static void wait_answers(size_t want, int64_t until)
{
    while (atomic_load(&g_answered) < want && storm_now_us() < until) {
        storm_sleep_us(2000);
    }
}

int main(int argc, char **argv)
{
    storm_parse(argc, argv, PROG, &g_o);
    g_c = calloc(g_o.n, sizeof *g_c);
    g_lat = calloc(g_o.n, sizeof *g_lat);
    if (g_c == NULL || g_lat == NULL) {
        return 1;
    }
    char uri[300];
    (void)snprintf(uri, sizeof uri, "ssl://%s:%u", g_o.host, g_o.port);
    for (size_t i = 0; i < g_o.n; i++) {
        MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
        g_c[i].index = i;
        if (MQTTAsync_createWithOptions(&g_c[i].h, uri, g_o.dev[i].id, MQTTCLIENT_PERSISTENCE_NONE,
                                        NULL, &cro) != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "storm %s: cannot create %s\n", PROG, g_o.dev[i].id);
            return 1;
        }
    }
    static const char *const phase[] = {"connect", "reconnect"};
    for (int storm = 0; storm < 2; storm++) {
        atomic_store(&g_connected, 0u);
        atomic_store(&g_answered, 0u);
        atomic_store(&g_last, 0);
        int64_t t0 = storm_now_us();
        for (size_t i = 0; i < g_o.n; i++) {
            storm_sleep_us(storm_start_at(&g_o, t0, i) - storm_now_us());
            if (connect_one(&g_c[i]) != MQTTASYNC_SUCCESS) {
                atomic_fetch_add(&g_answered, 1u);
            }
        }
        wait_answers(g_o.n, t0 + (int64_t)g_o.timeout_s * 1000000);
        storm_report(PROG, phase[storm], &g_o, atomic_load(&g_connected), t0, atomic_load(&g_last),
                     g_lat, STORM_RESUMED_UNKNOWN);
        storm_sleep_us(1000000); /* hold */
        atomic_store(&g_answered, 0u);
        size_t asked = 0;
        for (size_t i = 0; i < g_o.n; i++) {
            if (atomic_load(&g_c[i].state) != 2) {
                continue;
            }
            MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
            dop.onSuccess = on_disconnected;
            dop.onFailure = on_disconnect_fail;
            dop.context = &g_c[i];
            atomic_store(&g_c[i].state, 3);
            if (MQTTAsync_disconnect(g_c[i].h, &dop) == MQTTASYNC_SUCCESS) {
                asked++;
            }
        }
        wait_answers(asked, storm_now_us() + 30 * 1000000LL);
    }
    for (size_t i = 0; i < g_o.n; i++) {
        MQTTAsync_destroy(&g_c[i].h);
    }
    free(g_c);
    free(g_lat);
    free(g_o.dev);
    return 0;
}
