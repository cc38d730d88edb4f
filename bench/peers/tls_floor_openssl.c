/* tls_floor_openssl: the least work a mutual-TLS MQTT connect can take with OpenSSL 3 (the
 * floor of mqtls' OpenSSL engine; tls_floor.c is the same for mbedTLS 2.28 and 3.6).
 *
 * Only --mode connect: @c count sequential connects, each one TCP connect (TCP_NODELAY) + full
 * handshake (certificates loaded once into the SSL_CTX, up front; no session resumption, no
 * tickets asked for) + a hand-made MQTT 3.1.1 CONNECT + reading CONNACK, then DISCONNECT +
 * close_notify. Time from connect() to CONNACK. OpenSSL writes each handshake flight with one
 * write of its own; the version is what the broker and OpenSSL agree (TLS 1.3 with mosquitto).
 * --cafile, --cert and --key are required: the plain-TCP floor is tls_floor's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench_common.h"

#define PROG "tls_floor_openssl"

static void die_ssl(const char *what)
{
    char err[256];
    char msg[400];
    ERR_error_string_n(ERR_get_error(), err, sizeof err);
    (void)snprintf(msg, sizeof msg, "%s: %s", what, err);
    bench_die(PROG, msg);
}

static SSL_CTX *tls_setup(const bench_opts_t *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        die_ssl("SSL_CTX_new");
    }
    if (SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1) {
        die_ssl("load cafile");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
        die_ssl("load cert");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1) {
        die_ssl("load key");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* nothing is resumed here: no tickets, no session cache */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static void ssl_write_all(SSL *ssl, const uint8_t *p, size_t n)
{
    size_t w = 0;
    if (SSL_write_ex(ssl, p, n, &w) != 1 || w != n) {
        die_ssl("SSL_write");
    }
}

/* One connect; returns milliseconds from connect() to CONNACK. */
static double one_connect(const bench_opts_t *o, SSL_CTX *ctx, unsigned n)
{
    char id[48];
    uint8_t pkt[128];
    uint8_t ack[4];
    (void)snprintf(id, sizeof id, "floor-%ld-%u", (long)getpid(), n);
    size_t pkt_len = bench_mqtt_connect(pkt, sizeof pkt, id, PROG);

    int64_t t0 = bench_now_ns();
    int fd = bench_tcp_connect(o, true, PROG);
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        die_ssl("SSL_new");
    }
    /* the tests' server certificate names DNS:localhost; verify it as mqtls does */
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (SSL_set1_host(ssl, "localhost") != 1) {
        die_ssl("SSL_set1_host");
    }
    if (SSL_connect(ssl) != 1) {
        die_ssl("handshake");
    }
    ssl_write_all(ssl, pkt, pkt_len);
    size_t got = 0;
    while (got < sizeof ack) {
        size_t r = 0;
        if (SSL_read_ex(ssl, ack + got, sizeof ack - got, &r) != 1) {
            die_ssl("read CONNACK");
        }
        got += r;
    }
    int64_t t1 = bench_now_ns();
    if (n == 0) {
        printf("INFO prog=%s version=%s ciphersuite=%s\n", PROG, SSL_get_version(ssl),
               SSL_get_cipher_name(ssl));
    }
    if (ack[0] != 0x20 || ack[1] != 0x02 || ack[3] != 0x00) {
        bench_die(PROG, "CONNACK refused or malformed");
    }
    static const uint8_t disc[2] = {0xE0, 0x00};
    ssl_write_all(ssl, disc, sizeof disc);
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    return (double)(t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse(argc, argv, PROG, &o);
    if (o.mode != BENCH_MODE_CONNECT) {
        bench_die(PROG, "only --mode connect is implemented (it is a handshake floor)");
    }
    if (o.cafile == NULL || o.cert == NULL || o.key == NULL) {
        bench_die(PROG, "--cafile, --cert and --key are required (plain TCP: tls_floor)");
    }
    SSL_CTX *ctx = tls_setup(&o);
    double *ms = calloc(o.count + 1, sizeof *ms);
    if (ms == NULL) {
        bench_die(PROG, "out of memory");
    }
    for (uint32_t i = 0; i <= o.count; i++) { /* iteration 0 warms up, not counted */
        double v = one_connect(&o, ctx, i);
        if (i > 0) {
            ms[i - 1] = v;
        }
    }
    bench_report_connect(PROG, ms, o.count);
    free(ms);
    SSL_CTX_free(ctx);
    return 0;
}
