/* TLS 1.3 end to end, once per engine (MQTLS_TLS_ENGINE; mbedtls2 speaks TLS 1.2 only and must
 * say so): against mosquitto with mutual TLS, the version asked for is the one negotiated,
 * session tickets resume the next connection (full and resumed connects measured, wall and CPU
 * time), a client reconnecting through the public API resumes too; against openssl s_server
 * (started and stopped by PID here), a KeyUpdate from the server mid-connection: OpenSSL
 * follows it (also one that asks us to update ours), mbedTLS 3.6 does not implement it and the
 * failure says exactly that. Every wait has a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls_facts.h"
#include "drive.h"
#include "engine.h"
#include "harness.h"
#include "mqtls/client.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"

static th_pki_t pki;
static th_broker_t broker;

/* MQTT 3.1.1 CONNECT, clean session, keepalive 60, empty client id [MQTT-3.1.3-6]. */
static const uint8_t connect_311[] = {0x10, 0x0C, 0x00, 0x04, 'M',  'Q',  'T',
                                      'T',  0x04, 0x02, 0x00, 0x3C, 0x00, 0x00};

static int setup(void **state)
{
    (void)state;
    if (th_pki_make(&pki) != 0) {
        return -1;
    }
    /* Stock mosquitto leaves Nagle on: under TLS 1.3 its second NewSessionTicket and the
     * CONNACK then wait for our delayed ACK of the first ticket, +40 ms on every connect
     * (docs/tls-engines.md). The wall times below are the engines', not that stall's. */
    return th_broker_start(&broker, &pki, "set_tcp_nodelay true");
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    return 0;
}

static mqtls_tls_cfg_t mtls_cfg(void)
{
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_file = pki.ca_crt,
                           .cert_file = pki.client_crt,
                           .key_file = pki.client_key};
    return cfg;
}

typedef struct {
    mqtls_transport_t *t;
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
} conn_t;

static mqtls_status_t conn_open(conn_t *c, mqtls__tls_ctx_t *ctx, uint16_t port)
{
    memset(c, 0, sizeof *c);
    mqtls_error_init(&c->err);
    mqtls_transport_t *tcp = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", port, 5000, &c->err, &tcp), MQTLS_OK);
    assert_int_equal(mqtls__tls_create(ctx, tcp, "127.0.0.1", &c->facts, &c->err, &c->t), MQTLS_OK);
    return th_drive_connect(c->t, 10000);
}

static void conn_close(conn_t *c)
{
    c->t->ops->destroy(c->t);
    mqtls__tls_facts_free(&c->facts);
}

/* CONNECT and its CONNACK: a TLS 1.3 ticket arrives with or before it. */
static void connack(conn_t *c)
{
    assert_int_equal(th_write_all(c->t, connect_311, sizeof connect_311), MQTLS_OK);
    uint8_t in[4];
    assert_int_equal(th_read_exact(c->t, in, sizeof in, 5000), MQTLS_OK);
    assert_int_equal(in[0], 0x20);
}

static mqtls__tls_ctx_t *make_ctx(const mqtls_tls_cfg_t *cfg)
{
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__tls_ctx_t *ctx = NULL;
    mqtls_status_t st = mqtls__tls_ctx_create(cfg, &err, &ctx);
    if (st != MQTLS_OK) {
        fail_msg("%s: %s", mqtls_status_name(st), err.detail);
    }
    return ctx;
}

/* ---- the version asked for ------------------------------------------------------------- */

static void test_tls13_version_pinning(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.min_version = 0x0303;
    cfg.max_version = 0x0303;
    mqtls__tls_ctx_t *ctx = make_ctx(&cfg);
    conn_t c;
    assert_int_equal(conn_open(&c, ctx, broker.port_mtls), MQTLS_OK);
    assert_int_equal(c.facts.tls_version, 0x0303);
    connack(&c);
    conn_close(&c);
    mqtls__tls_ctx_destroy(ctx);

    cfg.min_version = 0x0304;
    cfg.max_version = 0x0304;
    mqtls_error_t err;
    mqtls_error_init(&err);
    ctx = NULL;
    mqtls_status_t st = mqtls__tls_ctx_create(&cfg, &err, &ctx);
    if (test_engine_max_tls() < 0x0304) {
        assert_int_equal(st, MQTLS_ERR_NOT_SUPPORTED); /* mbedTLS 2.28: no TLS 1.3 */
        assert_non_null(strstr(err.detail, "TLS 1.3"));
        return;
    }
    assert_int_equal(st, MQTLS_OK);
    assert_int_equal(conn_open(&c, ctx, broker.port_mtls), MQTLS_OK);
    assert_int_equal(c.facts.tls_version, 0x0304);
    assert_true(c.facts.cert_requested); /* from the decrypted CertificateRequest */
    assert_true(c.facts.client_cert_sent);
    assert_true(c.facts.presented_len >= 1); /* from the decrypted Certificate */
    assert_true(c.facts.chain_len >= 2);
    connack(&c);
    conn_close(&c);
    mqtls__tls_ctx_destroy(ctx);
}

/* ---- resumption: full vs resumed ------------------------------------------------------ */

static int64_t cpu_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

enum { N_CONNECTS = 15 };

static int64_t median(int64_t *v)
{
    qsort(v, N_CONNECTS, sizeof v[0], cmp_i64);
    return v[N_CONNECTS / 2];
}

/* Full handshakes (a new transport each: nothing saved) and resumed ones (one transport,
 * closed and connected again: its ticket offered), interleaved so that load hits both alike.
 * Wall time to CONNACK and this process's CPU time for the handshake; printed, and the CPU
 * saving asserted (a resumed handshake verifies no chain and signs nothing). */
static void test_tls13_resumed_vs_full_connect(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    mqtls__tls_ctx_t *ctx = make_ctx(&cfg);
    int64_t full_wall[N_CONNECTS], full_cpu[N_CONNECTS], res_wall[N_CONNECTS], res_cpu[N_CONNECTS];
    conn_t keep;
    assert_int_equal(conn_open(&keep, ctx, broker.port_mtls), MQTLS_OK);
    connack(&keep); /* its ticket */
    for (int i = 0; i < N_CONNECTS; i++) {
        conn_t c;
        int64_t w0 = wall_us();
        int64_t c0 = cpu_us();
        assert_int_equal(conn_open(&c, ctx, broker.port_mtls), MQTLS_OK);
        full_cpu[i] = cpu_us() - c0;
        assert_false(c.facts.session_resumed);
        connack(&c);
        full_wall[i] = wall_us() - w0;
        conn_close(&c);

        keep.t->ops->close(keep.t);
        w0 = wall_us();
        c0 = cpu_us();
        assert_int_equal(th_drive_connect(keep.t, 10000), MQTLS_OK);
        res_cpu[i] = cpu_us() - c0;
        assert_true(keep.facts.session_offered);
        assert_true(keep.facts.session_resumed);
        assert_int_equal(keep.facts.chain_len, 0);
        connack(&keep); /* and the next ticket */
        res_wall[i] = wall_us() - w0;
    }
    uint16_t version = keep.facts.tls_version;
    conn_close(&keep);
    mqtls__tls_ctx_destroy(ctx);
    int64_t fw = median(full_wall), fc = median(full_cpu), rw = median(res_wall),
            rc = median(res_cpu);
    print_message("%s TLS 0x%04X, median of %d to CONNACK: full %lld us (handshake CPU %lld us), "
                  "resumed %lld us (CPU %lld us)\n",
                  test_engine(), version, N_CONNECTS, (long long)fw, (long long)fc, (long long)rw,
                  (long long)rc);
    assert_true(rc < fc);
}

/* The same through the public API: a client that disconnects and connects again resumes. */
typedef struct {
    int connected;
    int disconnected;
} events_t;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    events_t *e = ctx;
    e->connected += ev->type == MQTLS_EVENT_CONNECTED;
    e->disconnected += ev->type == MQTLS_EVENT_DISCONNECTED;
}

static void step_until(mqtls_client_t *c, const int *counter, int want)
{
    int64_t deadline = th_now_ms() + 10000;
    while (*counter < want && th_now_ms() < deadline) {
        (void)mqtls_client_step(c, 50);
    }
    assert_int_equal(*counter, want);
}

static void test_tls13_client_reconnect_resumes(void **state)
{
    (void)state;
    char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtts://127.0.0.1:%u", (unsigned)broker.port_mtls);
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.ca_file = pki.ca_crt;
    tls.cert_file = pki.client_crt;
    tls.key_file = pki.client_key;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.tls = &tls;
    events_t ev = {0, 0};
    cfg.on_event = on_event;
    cfg.event_ctx = &ev;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    for (int round = 1; round <= 2; round++) {
        assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
        step_until(c, &ev.connected, round);
        const mqtls_tls_facts_t *f = mqtls_client_tls_facts(c);
        assert_string_equal(mqtls_tls_facts_engine(f), test_engine());
        assert_int_equal(mqtls_tls_facts_version(f), test_engine_max_tls());
        unsigned flags = mqtls_tls_facts_flags(f);
        assert_int_equal((flags & MQTLS_FACT_SESSION_RESUMED) != 0, round == 2);
        /* let the ticket in before leaving (TLS 1.3 sends it after the handshake) */
        int64_t until = th_now_ms() + 200;
        while (th_now_ms() < until) {
            (void)mqtls_client_step(c, 20);
        }
        assert_int_equal(mqtls_client_disconnect(c, 0), MQTLS_OK);
        step_until(c, &ev.disconnected, round);
    }
    mqtls_client_destroy(c);
}

/* ---- KeyUpdate from openssl s_server ------------------------------------------------------ */

typedef struct {
    pid_t pid;
    int in; /* the server's stdin: lines it sends, 'k' / 'K' for a KeyUpdate */
    uint16_t port;
    char log[TH_PATH_MAX];
} s_server_t;

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

static bool log_has(const char *log, const char *what, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    do {
        FILE *f = fopen(log, "r");
        if (f != NULL) {
            char line[512];
            bool found = false;
            while (!found && fgets(line, sizeof line, f) != NULL) {
                found = strstr(line, what) != NULL;
            }
            (void)fclose(f);
            if (found) {
                return true;
            }
        }
        sleep_ms(20);
    } while (th_now_ms() < deadline);
    return false;
}

/* openssl s_server -tls1_3 on 127.0.0.1 asking for our certificate, stdin from a pipe. */
static bool s_server_start(s_server_t *s)
{
    memset(s, 0, sizeof *s);
    int fds[2];
    if (pipe(fds) != 0) {
        return false;
    }
    s->port = th_free_port();
    (void)snprintf(s->log, sizeof s->log, "%.400s/s_server.log", pki.dir);
    char accept_on[32];
    (void)snprintf(accept_on, sizeof accept_on, "127.0.0.1:%u", (unsigned)s->port);
    pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        int out = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        (void)dup2(fds[0], STDIN_FILENO);
        if (out >= 0) {
            (void)dup2(out, STDOUT_FILENO);
            (void)dup2(out, STDERR_FILENO);
        }
        (void)close(fds[1]);
        char *argv[] = {
            "openssl", "s_server",     "-accept", accept_on,  "-tls1_3", "-cert", pki.server_crt,
            "-key",    pki.server_key, "-CAfile", pki.ca_crt, "-Verify", "1",     NULL};
        execvp(argv[0], argv);
        _exit(127);
    }
    (void)close(fds[0]);
    s->pid = pid;
    s->in = fds[1];
    return log_has(s->log, "ACCEPT", 10000);
}

static void s_server_stop(s_server_t *s)
{
    if (s->in >= 0) {
        (void)close(s->in);
    }
    if (s->pid > 0) {
        (void)kill(s->pid, SIGTERM);
        int64_t deadline = th_now_ms() + 5000;
        while (waitpid(s->pid, NULL, WNOHANG) == 0 && th_now_ms() < deadline) {
            sleep_ms(10);
        }
        if (waitpid(s->pid, NULL, WNOHANG) == 0) {
            (void)kill(s->pid, SIGKILL);
            (void)waitpid(s->pid, NULL, 0);
        }
    }
}

/* One line to s_server's stdin; a pause after it, so that "k" is read alone (s_server takes a
 * read of "k\n" as the command, anything longer as data). */
static void say(const s_server_t *s, const char *line)
{
    size_t n = strlen(line);
    assert_int_equal(write(s->in, line, n), (ssize_t)n);
    sleep_ms(200);
}

static void test_tls13_key_update_from_the_server(void **state)
{
    (void)state;
    s_server_t srv;
    if (!s_server_start(&srv)) {
        s_server_stop(&srv);
        fail_msg("openssl s_server did not start (log %s)", srv.log);
    }
    mqtls_tls_cfg_t cfg = mtls_cfg();
    mqtls__tls_ctx_t *ctx = make_ctx(&cfg);
    conn_t c;
    mqtls_status_t st = conn_open(&c, ctx, srv.port);
    if (test_engine_max_tls() < 0x0304) {
        /* a TLS 1.3-only server and a TLS 1.2-only client: the server says so */
        print_message("%s: %s, alert %d\n", test_engine(), mqtls_status_name(st), c.err.tls_alert);
        assert_int_equal(st, MQTLS_ERR_TLS_ALERT);
        assert_int_equal(c.err.tls_alert, 70); /* protocol_version */
    } else {
        assert_int_equal(st, MQTLS_OK);
        assert_int_equal(c.facts.tls_version, 0x0304);
        assert_true(log_has(srv.log, "CIPHER is", 5000)); /* the server saw the handshake end */
        say(&srv, "k\n"); /* KeyUpdate, update_not_requested (RFC 8446 4.6.3) */
        say(&srv, "hello\n");
        uint8_t in[6];
        st = th_read_exact(c.t, in, sizeof in, 5000);
        print_message("%s after the server's KeyUpdate: %s %s\n", test_engine(),
                      mqtls_status_name(st), st == MQTLS_OK ? "" : c.err.detail);
        if (test_engine_is("mbedtls3")) {
            /* mbedTLS 3.6 (and so ESP-IDF 5) does not implement KeyUpdate: said plainly */
            assert_int_equal(st, MQTLS_ERR_TLS_IO);
            assert_non_null(strstr(c.err.detail, "KeyUpdate"));
        } else {
            assert_int_equal(st, MQTLS_OK);
            assert_memory_equal(in, "hello\n", 6);
            say(&srv, "K\n"); /* update_requested: we must update our keys too */
            say(&srv, "again\n");
            assert_int_equal(th_read_exact(c.t, in, sizeof in, 5000), MQTLS_OK);
            assert_memory_equal(in, "again\n", 6);
            static const uint8_t pong[] = "pong-after-update\n";
            assert_int_equal(th_write_all(c.t, pong, sizeof pong - 1), MQTLS_OK);
            assert_true(log_has(srv.log, "pong-after-update", 5000)); /* it decrypted it */
        }
    }
    conn_close(&c);
    mqtls__tls_ctx_destroy(ctx);
    s_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13_version_pinning),
        cmocka_unit_test(test_tls13_resumed_vs_full_connect),
        cmocka_unit_test(test_tls13_client_reconnect_resumes),
        cmocka_unit_test(test_tls13_key_update_from_the_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
