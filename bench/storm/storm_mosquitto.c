/* storm_mosquitto: the connect storm of bench/storm.sh with libmosquitto (storm_common.h).
 *
 * One `struct mosquitto` per device with mosquitto_tls_set(CA, device cert, device key), as an
 * application makes them; --threads T loop threads each drive their share (device i on thread
 * i mod T) with poll() and mosquitto_loop_read/write/misc, non-blocking
 * (mosquitto_connect_async / mosquitto_reconnect_async). libmosquitto makes a new SSL for each
 * connection and keeps no TLS session, so its second storm is full handshakes again; resumed
 * counts SSL_session_reused() of each connection to show it. */
#include <mosquitto.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
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
    int state;
    int64_t start_us;
} mclient_t;

static storm_opts_t g_o;
static mclient_t *g_c;
static int64_t *g_lat;
static atomic_size_t g_connected, g_resumed, g_idle;
static _Atomic int64_t g_last;
static _Atomic int64_t g_t0;
static pthread_barrier_t g_bar;

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    mclient_t *c = ud;
    if (c->state != S_CONNECTING) {
        return;
    }
    if (rc != 0) {
        c->state = S_IDLE;
        atomic_fetch_add(&g_idle, 1u);
        return;
    }
    int64_t now = storm_now_us();
    c->state = S_CONNECTED;
    size_t k = atomic_fetch_add(&g_connected, 1u);
    g_lat[k] = now - c->start_us;
    SSL *ssl = mosquitto_ssl_get(m);
    if (ssl != NULL && SSL_session_reused(ssl)) {
        atomic_fetch_add(&g_resumed, 1u);
    }
    for (int64_t last = atomic_load(&g_last);
         now > last && !atomic_compare_exchange_weak(&g_last, &last, now);) {
    }
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    (void)rc;
    mclient_t *c = ud;
    if (c->state != S_IDLE) {
        c->state = S_IDLE;
        atomic_fetch_add(&g_idle, 1u);
    }
}

/* Drive this thread's clients for @p us microseconds, starting the due ones when @p starting. */
static void drive(unsigned t, int64_t until, bool starting, bool reconnect, size_t *next)
{
    size_t mine = (g_o.n + g_o.threads - 1u - t) / g_o.threads;
    struct pollfd *fds = calloc(mine + 1u, sizeof *fds);
    mclient_t **who = calloc(mine + 1u, sizeof *who);
    if (fds == NULL || who == NULL) {
        exit(1);
    }
    while (storm_now_us() < until) {
        int64_t now = storm_now_us();
        for (; starting && *next < mine; (*next)++) {
            mclient_t *c = &g_c[t + *next * g_o.threads];
            if (storm_start_at(&g_o, atomic_load(&g_t0), c->index) > now) {
                break;
            }
            c->state = S_CONNECTING;
            c->start_us = storm_now_us();
            int rc = reconnect ? mosquitto_reconnect_async(c->m)
                               : mosquitto_connect_async(c->m, g_o.host, (int)g_o.port, 60);
            if (rc != MOSQ_ERR_SUCCESS) {
                c->state = S_IDLE;
                atomic_fetch_add(&g_idle, 1u);
            }
        }
        nfds_t n = 0;
        for (size_t k = 0; k < mine; k++) {
            mclient_t *c = &g_c[t + k * g_o.threads];
            int fd = mosquitto_socket(c->m);
            if (fd < 0 || c->state == S_IDLE) {
                continue;
            }
            fds[n].fd = fd;
            fds[n].events = (short)(POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0));
            fds[n].revents = 0;
            who[n++] = c;
        }
        (void)poll(fds, n, 5);
        for (nfds_t k = 0; k < n; k++) {
            mclient_t *c = who[k];
            if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                (void)mosquitto_loop_read(c->m, 1);
            }
            if (mosquitto_socket(c->m) >= 0 && (fds[k].revents & POLLOUT)) {
                (void)mosquitto_loop_write(c->m, 1);
            }
            (void)mosquitto_loop_misc(c->m);
        }
        if (!starting || *next >= mine) {
            /* this thread's share is done when all its clients answered */
            size_t busy = 0;
            for (size_t k = 0; k < mine; k++) {
                int s = g_c[t + k * g_o.threads].state;
                busy += s == S_CONNECTING || s == S_CLOSING ? 1u : 0u;
            }
            if (busy == 0) {
                break;
            }
        }
    }
    free(fds);
    free(who);
}

static void disconnect_mine(unsigned t)
{
    size_t mine = (g_o.n + g_o.threads - 1u - t) / g_o.threads;
    for (size_t k = 0; k < mine; k++) {
        mclient_t *c = &g_c[t + k * g_o.threads];
        if (c->state == S_CONNECTED) {
            c->state = S_CLOSING;
            if (mosquitto_disconnect(c->m) != MOSQ_ERR_SUCCESS) {
                c->state = S_IDLE;
            }
        }
    }
    size_t next = mine;
    drive(t, storm_now_us() + 30 * 1000000LL, false, false, &next);
}

static void *thread_main(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (int storm = 0; storm < 2; storm++) {
        pthread_barrier_wait(&g_bar); /* t0 set */
        size_t next = 0;
        drive(t, atomic_load(&g_t0) + (int64_t)g_o.timeout_s * 1000000, true, storm == 1, &next);
        pthread_barrier_wait(&g_bar); /* storm over */
        pthread_barrier_wait(&g_bar); /* hold over */
        disconnect_mine(t);
        pthread_barrier_wait(&g_bar);
    }
    return NULL;
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
        if (c->m == NULL ||
            mosquitto_tls_set(c->m, g_o.cafile, NULL, g_o.dev[i].cert, g_o.dev[i].key, NULL) !=
                MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "storm %s: cannot set up %s\n", PROG, g_o.dev[i].id);
            return 1;
        }
        mosquitto_connect_callback_set(c->m, on_connect);
        mosquitto_disconnect_callback_set(c->m, on_disconnect);
    }
    pthread_barrier_init(&g_bar, NULL, g_o.threads + 1u);
    pthread_t *th = calloc(g_o.threads, sizeof *th);
    for (unsigned t = 0; th != NULL && t < g_o.threads; t++) {
        pthread_create(&th[t], NULL, thread_main, (void *)(uintptr_t)t);
    }
    static const char *const phase[] = {"connect", "reconnect"};
    for (int storm = 0; storm < 2; storm++) {
        atomic_store(&g_connected, 0u);
        atomic_store(&g_resumed, 0u);
        atomic_store(&g_idle, 0u);
        atomic_store(&g_last, 0);
        int64_t t0 = storm_now_us();
        atomic_store(&g_t0, t0);
        pthread_barrier_wait(&g_bar);
        pthread_barrier_wait(&g_bar);
        storm_report(PROG, phase[storm], &g_o, atomic_load(&g_connected), t0,
                     atomic_load(&g_last), g_lat, atomic_load(&g_resumed));
        storm_sleep_us(1000000); /* hold */
        pthread_barrier_wait(&g_bar);
        pthread_barrier_wait(&g_bar); /* all disconnected */
    }
    for (unsigned t = 0; t < g_o.threads; t++) {
        pthread_join(th[t], NULL);
    }
    for (size_t i = 0; i < g_o.n; i++) {
        mosquitto_destroy(g_c[i].m);
    }
    mosquitto_lib_cleanup();
    free(th);
    free(g_c);
    free(g_lat);
    free(g_o.dev);
    return 0;
}
