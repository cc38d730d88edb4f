/* storm_mosquitto: the connect storm of bench/storm.sh with libmosquitto (storm_common.h).
 *
 * One `struct mosquitto` per device with mosquitto_tls_set(CA, device cert, device key), each
 * run by libmosquitto's own network thread (mosquitto_loop_start()): the way libmosquitto runs
 * a connection by itself, and the only way its public API drives a TLS handshake without
 * blocking (an external poll loop over mosquitto_loop_read/write cannot: the handshake state
 * is internal, and such attempts fail with MOSQ_ERR_TLS). --threads does not apply: one thread
 * per client object. libmosquitto makes a new SSL for each connection and keeps no TLS session,
 * so its second storm is full handshakes again; resumed counts SSL_session_reused(). */
#include <mosquitto.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storm_common.h"

#define PROG "libmosquitto"

enum { S_IDLE, S_CONNECTING, S_CONNECTED, S_CLOSING };

typedef struct mclient {
    struct mosquitto *m;
    size_t index;
    _Atomic int state;
    bool looping;
    int64_t start_us;
} mclient_t;

static storm_opts_t g_o;
static mclient_t *g_c;
static int64_t *g_lat;
static atomic_size_t g_connected, g_resumed, g_answered;
static _Atomic int64_t g_last;
static atomic_int g_reported;

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    mclient_t *c = ud;
    if (atomic_load(&c->state) != S_CONNECTING) {
        return;
    }
    if (rc != 0) {
        atomic_store(&c->state, S_IDLE);
        atomic_fetch_add(&g_answered, 1u);
        return;
    }
    int64_t now = storm_now_us();
    atomic_store(&c->state, S_CONNECTED);
    size_t k = atomic_fetch_add(&g_connected, 1u);
    g_lat[k] = now - c->start_us;
    SSL *ssl = mosquitto_ssl_get(m);
    if (ssl != NULL && SSL_session_reused(ssl)) {
        atomic_fetch_add(&g_resumed, 1u);
    }
    for (int64_t last = atomic_load(&g_last);
         now > last && !atomic_compare_exchange_weak(&g_last, &last, now);) {
    }
    atomic_fetch_add(&g_answered, 1u);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    mclient_t *c = ud;
    int s = atomic_exchange(&c->state, S_IDLE);
    if (s == S_CONNECTING) {
        if (atomic_fetch_add(&g_reported, 1) < 3) {
            fprintf(stderr, "storm %s: device %zu lost while connecting: %s (%d)\n", PROG, c->index,
                    mosquitto_strerror(rc), rc);
        }
        atomic_fetch_add(&g_answered, 1u);
    } else if (s == S_CLOSING) {
        atomic_fetch_add(&g_answered, 1u);
    }
}

static void wait_answers(size_t want, int64_t until)
{
    while (atomic_load(&g_answered) < want && storm_now_us() < until) {
        storm_sleep_us(2000);
    }
}

int main(int argc, char **argv)
{
    storm_parse(argc, argv, PROG, &g_o);
    mosquitto_lib_init();
    g_c = calloc(g_o.n, sizeof *g_c);
    g_lat = calloc(g_o.n, sizeof *g_lat);
    if (g_c == NULL || g_lat == NULL) {
        return 1;
    }
    for (size_t i = 0; i < g_o.n; i++) {
        mclient_t *c = &g_c[i];
        c->index = i;
        c->m = mosquitto_new(g_o.dev[i].id, true, c);
        if (c->m == NULL || mosquitto_tls_set(c->m, g_o.cafile, NULL, g_o.dev[i].cert,
                                              g_o.dev[i].key, NULL) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "storm %s: cannot set up %s\n", PROG, g_o.dev[i].id);
            return 1;
        }
        mosquitto_connect_callback_set(c->m, on_connect);
        mosquitto_disconnect_callback_set(c->m, on_disconnect);
    }
    static const char *const phase[] = {"connect", "reconnect"};
    for (int storm = 0; storm < 2; storm++) {
        atomic_store(&g_connected, 0u);
        atomic_store(&g_resumed, 0u);
        atomic_store(&g_answered, 0u);
        atomic_store(&g_last, 0);
        int64_t t0 = storm_now_us();
        for (size_t i = 0; i < g_o.n; i++) {
            mclient_t *c = &g_c[i];
            storm_sleep_us(storm_start_at(&g_o, t0, i) - storm_now_us());
            atomic_store(&c->state, S_CONNECTING);
            c->start_us = storm_now_us();
            int rc = storm == 0 ? mosquitto_connect_async(c->m, g_o.host, (int)g_o.port, 60)
                                : mosquitto_reconnect_async(c->m);
            if (rc == MOSQ_ERR_SUCCESS) {
                rc = mosquitto_loop_start(c->m);
                c->looping = rc == MOSQ_ERR_SUCCESS;
            }
            if (rc != MOSQ_ERR_SUCCESS) {
                if (atomic_fetch_add(&g_reported, 1) < 3) {
                    fprintf(stderr, "storm %s: device %zu cannot start: %s (%d)\n", PROG, i,
                            mosquitto_strerror(rc), rc);
                }
                atomic_store(&c->state, S_IDLE);
                atomic_fetch_add(&g_answered, 1u);
            }
        }
        wait_answers(g_o.n, t0 + (int64_t)g_o.timeout_s * 1000000);
        storm_report(PROG, phase[storm], &g_o, atomic_load(&g_connected), t0, atomic_load(&g_last),
                     g_lat, atomic_load(&g_resumed));
        storm_sleep_us(1000000); /* hold */
        atomic_store(&g_answered, 0u);
        size_t asked = 0;
        for (size_t i = 0; i < g_o.n; i++) {
            mclient_t *c = &g_c[i];
            int expect = S_CONNECTED;
            if (atomic_compare_exchange_strong(&c->state, &expect, S_CLOSING)) {
                if (mosquitto_disconnect(c->m) == MOSQ_ERR_SUCCESS) {
                    asked++;
                } else {
                    atomic_store(&c->state, S_IDLE);
                }
            }
        }
        wait_answers(asked, storm_now_us() + 30 * 1000000LL);
        for (size_t i = 0; i < g_o.n; i++) {
            if (g_c[i].looping) {
                (void)mosquitto_loop_stop(g_c[i].m, true); /* its thread ends: no reconnect */
                g_c[i].looping = false;
            }
            atomic_store(&g_c[i].state, S_IDLE);
        }
    }
    for (size_t i = 0; i < g_o.n; i++) {
        mosquitto_destroy(g_c[i].m);
    }
    mosquitto_lib_cleanup();
    free(g_c);
    free(g_lat);
    free(g_o.dev);
    return 0;
}
