/* tls_floor: the least work a mutual-TLS MQTT connect can take with mbedTLS (bench floor).
 *
 * Only --mode connect: @c count sequential connects, each one TCP connect + full mbedTLS
 * handshake (certificates parsed once, up front; no session resumption) + a hand-made MQTT
 * 3.1.1 CONNECT byte vector + reading CONNACK, then DISCONNECT + close_notify. The time from
 * connect() to CONNACK is what an MQTT client on mbedTLS should come within 1.05x of.
 * Without --cafile it does the same over plain TCP.
 *
 * Built twice: `tls_floor` against the system's mbedTLS 2.28 and `tls_floor3` against the
 * mbedTLS 3.6 the tree builds (renamed symbols, our config: TLS 1.3 when the broker offers it),
 * so that each mbedTLS engine of mqtls is compared with the floor of its own library.
 *
 * --variant selects how records reach the socket (mbedTLS 2.28 writes every handshake record
 * with its own send()):
 *   gather   (default) a buffering BIO gathers each flight (e.g. Certificate,
 *            ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished) into one
 *            write, flushed before every read; TCP_NODELAY on.
 *   nodelay  one send() per record, TCP_NODELAY on.
 *   nagle    one send() per record, Nagle on (the socket default): small writes after the
 *            first wait for the peer's (possibly delayed) ACK. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

#include "bench_common.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define PROG "tls_floor3"
#else
#define PROG "tls_floor"
#endif

typedef struct bio {
    int fd;
    int gather;
    size_t len;
    uint8_t buf[32768];
} bio_t;

static int bio_flush(bio_t *b)
{
    int rc = bench_write_all(b->fd, b->buf, b->len);
    b->len = 0;
    return rc;
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
    bio_t *b = ctx;
    if (!b->gather) {
        return bench_write_all(b->fd, p, n) == 0 ? (int)n : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    if (n > sizeof(b->buf) - b->len && bio_flush(b) != 0) {
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    if (n > sizeof(b->buf)) {
        return bench_write_all(b->fd, p, n) == 0 ? (int)n : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
    bio_t *b = ctx;
    /* the peer answers only after our whole flight arrived: send it before waiting */
    if (b->len > 0 && bio_flush(b) != 0) {
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    for (;;) {
        ssize_t r = recv(b->fd, p, n, 0);
        if (r > 0) {
            return (int)r;
        }
        if (r == 0) {
            return MBEDTLS_ERR_NET_CONN_RESET;
        }
        if (errno != EINTR) {
            return MBEDTLS_ERR_NET_RECV_FAILED;
        }
    }
}

static void die_tls(const char *what, int rc)
{
    char err[128];
    char msg[256];
    mbedtls_strerror(rc, err, sizeof(err));
    (void)snprintf(msg, sizeof(msg), "%s: -0x%04X %s", what, (unsigned)-rc, err);
    bench_die(PROG, msg);
}

typedef struct tls_setup {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    mbedtls_ssl_config conf;
} tls_setup_t;

static void tls_setup(tls_setup_t *t, const bench_opts_t *o)
{
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crt_init(&t->crt);
    mbedtls_pk_init(&t->pk);
    mbedtls_ssl_config_init(&t->conf);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (psa_crypto_init() != PSA_SUCCESS) { /* TLS 1.3 and the PK layer go through PSA */
        bench_die(PROG, "psa_crypto_init failed");
    }
#endif
    int rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                                   (const unsigned char *)PROG, sizeof(PROG) - 1);
    if (rc != 0) {
        die_tls("ctr_drbg_seed", rc);
    }
    if ((rc = mbedtls_x509_crt_parse_file(&t->ca, o->cafile)) != 0) {
        die_tls("parse cafile", rc);
    }
    if ((rc = mbedtls_x509_crt_parse_file(&t->crt, o->cert)) != 0) {
        die_tls("parse cert", rc);
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_pk_parse_keyfile(&t->pk, o->key, NULL, mbedtls_ctr_drbg_random, &t->drbg);
#else
    rc = mbedtls_pk_parse_keyfile(&t->pk, o->key, NULL);
#endif
    if (rc != 0) {
        die_tls("parse key", rc);
    }
    rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                     MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        die_tls("ssl_config_defaults", rc);
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    /* nothing is resumed here: asking for a ticket only adds a NewSessionTicket message */
    mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    if ((rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->crt, &t->pk)) != 0) {
        die_tls("conf_own_cert", rc);
    }
}

static void tls_write_all(mbedtls_ssl_context *ssl, const uint8_t *p, size_t n)
{
    while (n > 0) {
        int rc = mbedtls_ssl_write(ssl, p, n);
        if (rc < 0) {
            die_tls("ssl_write", rc);
        }
        p += rc;
        n -= (size_t)rc;
    }
}

/* One connect; returns milliseconds from connect() to CONNACK. */
static double one_connect(const bench_opts_t *o, tls_setup_t *t, bio_t *b, unsigned n)
{
    char id[48];
    uint8_t pkt[128];
    uint8_t ack[4];
    (void)snprintf(id, sizeof(id), "floor-%ld-%u", (long)getpid(), n);
    size_t pkt_len = bench_mqtt_connect(pkt, sizeof(pkt), id, PROG);
    int nodelay = o->variant == NULL || strcmp(o->variant, "nagle") != 0;

    int64_t t0 = bench_now_ns();
    b->fd = bench_tcp_connect(o, nodelay, PROG);
    b->len = 0;
    if (t == NULL) { /* plain TCP */
        if (bench_write_all(b->fd, pkt, pkt_len) != 0) {
            bench_die(PROG, "write CONNECT failed");
        }
        size_t got = 0;
        while (got < sizeof(ack)) {
            ssize_t r = recv(b->fd, ack + got, sizeof(ack) - got, 0);
            if (r <= 0) {
                bench_die(PROG, "no CONNACK");
            }
            got += (size_t)r;
        }
        int64_t t1 = bench_now_ns();
        static const uint8_t disc[2] = {0xE0, 0x00};
        (void)bench_write_all(b->fd, disc, sizeof(disc));
        close(b->fd);
        return (double)(t1 - t0) / 1e6;
    }

    mbedtls_ssl_context ssl;
    mbedtls_ssl_init(&ssl);
    int rc = mbedtls_ssl_setup(&ssl, &t->conf);
    if (rc != 0) {
        die_tls("ssl_setup", rc);
    }
    /* mbedTLS 2.28 matches DNS SANs only; the test server cert has DNS:localhost */
    if ((rc = mbedtls_ssl_set_hostname(&ssl, "localhost")) != 0) {
        die_tls("set_hostname", rc);
    }
    mbedtls_ssl_set_bio(&ssl, b, bio_send, bio_recv, NULL);
    while ((rc = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
            die_tls("handshake", rc);
        }
    }
    tls_write_all(&ssl, pkt, pkt_len);
    size_t got = 0;
    while (got < sizeof(ack)) { /* bio_recv flushes the CONNECT first */
        rc = mbedtls_ssl_read(&ssl, ack + got, sizeof(ack) - got);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
            continue;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            continue; /* TLS 1.3: the broker's ticket after the handshake, not data */
        }
#endif
        if (rc <= 0) {
            die_tls("read CONNACK", rc);
        }
        got += (size_t)rc;
    }
    int64_t t1 = bench_now_ns();
    if (n == 0) {
        printf("INFO prog=" PROG " version=%s ciphersuite=%s\n", mbedtls_ssl_get_version(&ssl),
               mbedtls_ssl_get_ciphersuite(&ssl));
    }
    if (ack[0] != 0x20 || ack[1] != 0x02 || ack[3] != 0x00) {
        bench_die(PROG, "CONNACK refused or malformed");
    }
    static const uint8_t disc[2] = {0xE0, 0x00};
    tls_write_all(&ssl, disc, sizeof(disc));
    (void)mbedtls_ssl_close_notify(&ssl);
    (void)bio_flush(b);
    close(b->fd);
    mbedtls_ssl_free(&ssl);
    return (double)(t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_parse(argc, argv, PROG, &o);
    if (o.mode != BENCH_MODE_CONNECT) {
        bench_die(PROG, "only --mode connect is implemented (it is a handshake floor)");
    }
    if (o.variant != NULL && strcmp(o.variant, "gather") != 0 &&
        strcmp(o.variant, "nodelay") != 0 && strcmp(o.variant, "nagle") != 0) {
        bench_die(PROG, "--variant is gather, nodelay or nagle");
    }
    static bio_t bio;
    bio.gather = o.variant == NULL || strcmp(o.variant, "gather") == 0;
    static tls_setup_t setup;
    if (o.cafile != NULL) {
        tls_setup(&setup, &o);
    }
    double *ms = calloc(o.count + 1, sizeof(*ms));
    if (ms == NULL) {
        bench_die(PROG, "out of memory");
    }
    for (uint32_t i = 0; i <= o.count; i++) { /* iteration 0 warms up, not counted */
        double v = one_connect(&o, o.cafile != NULL ? &setup : NULL, &bio, i);
        if (i > 0) {
            ms[i - 1] = v;
        }
    }
    char prog[48];
    (void)snprintf(prog, sizeof(prog), PROG "-%s", o.variant != NULL ? o.variant : "gather");
    bench_report_connect(prog, ms, o.count);
    free(ms);
    return 0;
}
