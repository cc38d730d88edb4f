/* mqtls_loop_t: a loop that never blocks and never scans. Deadlines live in a heap, so an
 * iteration visits only the clients that are dirty, ready or due (counted by the loop's work
 * counters, not measured in wall time); names resolve on resolver threads, so a slow lookup
 * stalls nobody. Clients use in-memory transports (test hooks) except where a real TCP
 * connection to a listener on 127.0.0.1 is the point. Never an external name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mqtls/client.h"
#include "net/net.h"
#include "runtime/runtime_internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t connack_ok[] = {0x20, 0x02, 0x00, 0x00};

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- an in-memory transport: no fd (the broker's bytes wait in `in`), or one end of a
 * socketpair (a real fd for epoll) ------------------------------------------------------- */

typedef struct mem {
    mqtls_transport_t base;
    bool has_fd; /* over the socketpair end `fd`, else in memory */
    int fd;
    unsigned want;
    uint8_t in[64];
    size_t in_len, in_off;
    size_t written;
    size_t writev_calls;
    size_t pingreqs;
    bool answer_pings;
} mem_t;

static void mem_give(mem_t *m, const uint8_t *b, size_t n)
{
    if (m->in_off == m->in_len) {
        m->in_off = 0;
        m->in_len = 0;
    }
    assert_true(m->in_len + n <= sizeof m->in);
    memcpy(m->in + m->in_len, b, n);
    m->in_len += n;
}

static mqtls_status_t mem_connect(mqtls_transport_t *t, int64_t now_ms)
{
    (void)t;
    (void)now_ms;
    return MQTLS_OK;
}

static mqtls_status_t mem_read(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got)
{
    mem_t *m = (mem_t *)t;
    if (m->has_fd) {
        ssize_t n = recv(m->fd, buf, cap, MSG_DONTWAIT);
        *got = n > 0 ? (size_t)n : 0u;
        if (n == 0) {
            return MQTLS_ERR_CLOSED;
        }
        return n > 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
    }
    size_t n = m->in_len - m->in_off;
    n = n < cap ? n : cap;
    *got = n;
    memcpy(buf, m->in + m->in_off, n);
    m->in_off += n;
    return n > 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
}

static void count_pingreqs(mem_t *m, const mqtls_iovec_t *iov, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = iov[i].base;
        for (size_t k = 0; k + 1u < iov[i].len; k++) {
            if (b[k] == 0xC0 && b[k + 1u] == 0x00) {
                m->pingreqs++;
                if (m->answer_pings) {
                    static const uint8_t pingresp[] = {0xD0, 0x00};
                    mem_give(m, pingresp, sizeof pingresp);
                }
            }
        }
    }
}

static mqtls_status_t mem_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t n,
                                 size_t *sent)
{
    mem_t *m = (mem_t *)t;
    *sent = 0;
    m->writev_calls++;
    if (m->has_fd) {
        struct iovec v[16];
        size_t k = 0;
        for (size_t i = 0; i < n && k < ARRAY_LEN(v); i++) {
            v[k].iov_base = (void *)(uintptr_t)iov[i].base;
            v[k++].iov_len = iov[i].len;
        }
        ssize_t r = writev(m->fd, v, (int)k);
        *sent = r > 0 ? (size_t)r : 0u;
        m->want = r >= 0 ? MQTLS_WANT_READ : (MQTLS_WANT_READ | MQTLS_WANT_WRITE);
        return r >= 0 ? MQTLS_OK : MQTLS_ERR_WOULD_BLOCK;
    }
    count_pingreqs(m, iov, n);
    for (size_t i = 0; i < n; i++) {
        *sent += iov[i].len;
    }
    m->written += *sent;
    return MQTLS_OK;
}

static size_t mem_pending(mqtls_transport_t *t)
{
    mem_t *m = (mem_t *)t;
    return m->in_len - m->in_off; /* bytes "received": the loop steps the client at once */
}

static int mem_fd(mqtls_transport_t *t)
{
    mem_t *m = (mem_t *)t;
    return m->has_fd ? m->fd : -1;
}

static unsigned mem_want(mqtls_transport_t *t)
{
    mem_t *m = (mem_t *)t;
    return m->has_fd ? m->want : MQTLS_WANT_READ;
}

static void mem_close(mqtls_transport_t *t)
{
    (void)t;
}

static void mem_destroy(mqtls_transport_t *t)
{
    (void)t; /* storage belongs to the test */
}

static const mqtls_transport_ops_t mem_ops = {
    .name = "mem",
    .connect = mem_connect,
    .read = mem_read,
    .writev = mem_writev,
    .pending = mem_pending,
    .fd = mem_fd,
    .want = mem_want,
    .close = mem_close,
    .destroy = mem_destroy,
};

/* The test hook's factory: @p ctx is the mem_t; in memory, the broker's CONNACK waits. */
static mqtls_status_t mem_factory(void *ctx, mqtls_error_t *err, mqtls_transport_t **out)
{
    mem_t *m = ctx;
    m->base.ops = &mem_ops;
    m->base.err = err;
    m->want = MQTLS_WANT_READ;
    if (!m->has_fd) {
        mem_give(m, connack_ok, sizeof connack_ok);
    }
    *out = &m->base;
    return MQTLS_OK;
}

/* Read what the client wrote to its end of the socketpair, waiting up to @p ms. */
static size_t peer_read(int fd, uint8_t *buf, size_t cap, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, ms) <= 0) {
        return 0;
    }
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    return n > 0 ? (size_t)n : 0u;
}

/* --- clients -------------------------------------------------------------------------------- */

static int64_t g_now;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return g_now;
}

typedef struct counts {
    atomic_int connected, errors, disconnected;
    mqtls_error_t last_error;
} counts_t;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    counts_t *n = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        n->connected++;
    } else if (ev->type == MQTLS_EVENT_ERROR) {
        n->last_error = ev->u.error.err;
        n->errors++;
    } else if (ev->type == MQTLS_EVENT_DISCONNECTED) {
        n->disconnected++;
    }
}

static mqtls_client_t *make_client(const char *uri, uint16_t keepalive_s, uint32_t timeout_ms,
                                   counts_t *n)
{
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.client_id = "loop";
    cfg.keepalive_s = keepalive_s;
    cfg.connect_timeout_ms = timeout_ms;
    cfg.reconnect.enabled = false;
    cfg.outbox_max_messages = 16;
    cfg.outbox_max_bytes = 4096;
    cfg.on_event = on_event;
    cfg.event_ctx = n;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    return c;
}

static mqtls__loop_stats_t run(mqtls_loop_t *l, int timeout_ms)
{
    assert_int_equal(mqtls_loop_run_once(l, timeout_ms), MQTLS_OK);
    mqtls__loop_stats_t st;
    mqtls__loop_stats(l, &st);
    return st;
}

/* A client over a socketpair (sv[0] its end, sv[1] the broker's) on @p l, connected: the
 * broker's CONNACK is waiting, CONNECT is read off. @p others: clients already on @p l that
 * connect in the same iterations. */
static mqtls_client_t *sock_client(mqtls_loop_t *l, mem_t *s, int sv[2], counts_t *n, int others)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    memset(s, 0, sizeof *s);
    s->has_fd = true;
    s->fd = sv[0];
    mqtls_client_t *c = make_client("mqtt://127.0.0.1", 60, 5000, n);
    mqtls__client_set_transport_factory(c, mem_factory, s);
    assert_int_equal(mqtls_loop_add(l, c), MQTLS_OK);
    assert_int_equal(send(sv[1], connack_ok, sizeof connack_ok, 0), (ssize_t)sizeof connack_ok);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    for (int i = 0; i < 20 && n->connected < others + 1; i++) {
        (void)run(l, 100);
    }
    assert_int_equal(n->connected, others + 1);
    uint8_t buf[256];
    assert_true(peer_read(sv[1], buf, sizeof buf, 1000) > 0); /* CONNECT */
    return c;
}

/* --- the timer heap ------------------------------------------------------------------------ */

#define IDLE_CLIENTS 2000
#define GROUPS 4
#define PER_GROUP (IDLE_CLIENTS / GROUPS)

static void test_loop_2000_idle_clients_visits_only_due_ones(void **state)
{
    (void)state;
    static mem_t mems[IDLE_CLIENTS];
    static mqtls_client_t *cs[IDLE_CLIENTS];
    static counts_t n;
    memset(mems, 0, sizeof mems);
    memset(&n, 0, sizeof n);
    const int64_t base = 1000000;
    g_now = base;
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    mqtls__loop_set_clock(l, fake_clock, NULL);
    /* Four groups connect one second apart: their keepalive deadlines are one second apart. */
    for (int g = 0; g < GROUPS; g++) {
        g_now = base + g * 1000;
        for (int i = g * PER_GROUP; i < (g + 1) * PER_GROUP; i++) {
            cs[i] = make_client("mqtt://127.0.0.1", 60, 5000, &n);
            mqtls__client_set_transport_factory(cs[i], mem_factory, &mems[i]);
            mqtls__client_set_clock(cs[i], fake_clock, NULL);
            assert_int_equal(mqtls_loop_add(l, cs[i]), MQTLS_OK);
            assert_int_equal(mqtls_client_connect(cs[i]), MQTLS_OK);
        }
        mqtls__loop_stats_t st = run(l, 0);
        assert_int_equal(st.last_worked, PER_GROUP); /* the new ones, not the idle ones */
        assert_int_equal(n.connected, (g + 1) * PER_GROUP);
    }
    /* All idle: an iteration looks at no client at all. */
    for (int i = 0; i < 3; i++) {
        mqtls__loop_stats_t st = run(l, 0);
        print_message("idle iteration: %zu clients visited, %zu stepped (of %d)\n", st.last_visited,
                      st.last_worked, IDLE_CLIENTS);
        assert_int_equal(st.last_visited, 0);
        assert_int_equal(st.last_worked, 0);
    }
    /* The first group's keepalive is due: exactly its clients are stepped (PINGREQ). */
    for (int g = 0; g < GROUPS; g++) {
        g_now = base + 60000 + g * 1000;
        mqtls__loop_stats_t st = run(l, 0);
        print_message("group %d due: %zu clients visited, %zu stepped\n", g, st.last_visited,
                      st.last_worked);
        assert_int_equal(st.last_worked, PER_GROUP);
        assert_int_equal(st.last_visited, PER_GROUP);
        for (int i = 0; i < IDLE_CLIENTS; i++) {
            assert_int_equal(mems[i].pingreqs, i < (g + 1) * PER_GROUP ? 1u : 0u);
        }
        st = run(l, 0);
        assert_int_equal(st.last_visited, 0);
    }
    assert_int_equal(n.errors, 0);
    for (int i = 0; i < IDLE_CLIENTS; i++) {
        mqtls_client_destroy(cs[i]); /* leaves the loop too */
    }
    mqtls_loop_destroy(l);
}

/* A call from the application (publish) makes its client dirty: the next iteration looks at
 * that one client, registers its socket for writing and writes, and nothing else. */
static void test_loop_publish_wakes_only_its_client(void **state)
{
    (void)state;
    static mem_t mems[50];
    static counts_t n;
    memset(mems, 0, sizeof mems);
    memset(&n, 0, sizeof n);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    mqtls_client_t *idle[ARRAY_LEN(mems)];
    for (size_t i = 0; i < ARRAY_LEN(mems); i++) {
        idle[i] = make_client("mqtt://127.0.0.1", 60, 5000, &n);
        mqtls__client_set_transport_factory(idle[i], mem_factory, &mems[i]);
        assert_int_equal(mqtls_loop_add(l, idle[i]), MQTLS_OK);
        assert_int_equal(mqtls_client_connect(idle[i]), MQTLS_OK);
    }
    int sv[2];
    static mem_t s;
    mqtls_client_t *c = sock_client(l, &s, sv, &n, (int)ARRAY_LEN(mems));
    uint8_t buf[256];
    assert_int_equal(run(l, 0).last_visited, 0);

    mqtls_publish_opts_t o = {.qos = 1};
    assert_int_equal(mqtls_client_publish(c, "t", "x", 1, &o, NULL), MQTLS_OK);
    mqtls__loop_stats_t st = run(l, 1000);
    print_message("after a publish: %zu clients visited, %zu stepped (of %zu)\n", st.last_visited,
                  st.last_worked, ARRAY_LEN(mems) + 1);
    assert_int_equal(st.last_worked, 1);
    assert_int_equal(st.last_visited, 2); /* read when dirty, and again after its step */
    size_t got = peer_read(sv[1], buf, sizeof buf, 1000);
    assert_true(got >= 1);
    assert_int_equal(buf[0] & 0xF0, 0x30); /* PUBLISH */
    mqtls_client_destroy(c);
    for (size_t i = 0; i < ARRAY_LEN(mems); i++) {
        mqtls_client_destroy(idle[i]);
    }
    mqtls_loop_destroy(l);
    (void)close(sv[0]);
    (void)close(sv[1]);
}


/* Driven by a loop, publishes are queued and the loop writes what was queued meanwhile in one
 * go: 12 QoS 0 messages from the application = one writev, in order. */
static void test_loop_writes_queued_publishes_in_one_write(void **state)
{
    (void)state;
    static counts_t n;
    memset(&n, 0, sizeof n);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    int sv[2];
    static mem_t s;
    mqtls_client_t *c = sock_client(l, &s, sv, &n, 0);
    size_t calls = s.writev_calls;
    char payload[64];
    for (int i = 0; i < 12; i++) {
        memset(payload, 'a' + (i % 26), sizeof payload);
        /* outbox_max_messages is 16 here */
        assert_int_equal(mqtls_client_publish(c, "t", payload, sizeof payload, NULL, NULL),
                         MQTLS_OK);
    }
    assert_int_equal(s.writev_calls, calls); /* queued, not written by publish */
    (void)run(l, 1000);
    assert_int_equal(s.writev_calls, calls + 1u);
    uint8_t buf[4096];
    size_t got = 0;
    for (int i = 0; i < 20 && got < 12u * 69u; i++) {
        got += peer_read(sv[1], buf + got, sizeof buf - got, 100);
    }
    assert_int_equal(got, 12u * 69u);
    for (int i = 0; i < 12; i++) {
        const uint8_t *pk = buf + (size_t)i * 69u;
        assert_int_equal(pk[0], 0x30); /* PUBLISH QoS 0 */
        assert_int_equal(pk[1], 67);
        assert_int_equal(pk[5], 'a' + (i % 26)); /* payload after 0x00 0x01 't' */
        assert_int_equal(pk[68], 'a' + (i % 26));
    }
    assert_int_equal(mqtls_client_outbox_count(c), 0);
    mqtls_client_destroy(c);
    mqtls_loop_destroy(l);
    (void)close(sv[0]);
    (void)close(sv[1]);
}

typedef struct publisher {
    mqtls_client_t *c;
    mqtls_status_t st;
} publisher_t;

static void *publish_later(void *arg)
{
    publisher_t *p = arg;
    struct timespec ts = {0, 200 * 1000 * 1000};
    (void)nanosleep(&ts, NULL);
    mqtls_publish_opts_t o = {.qos = 1};
    p->st = mqtls_client_publish(p->c, "t", "y", 1, &o, NULL);
    return NULL;
}

/* A publish from another thread while the loop waits (no timer for 60 s) wakes it at once. */
static void test_loop_wakes_for_a_publish_from_another_thread(void **state)
{
    (void)state;
    static counts_t n;
    memset(&n, 0, sizeof n);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    int sv[2];
    static mem_t s;
    mqtls_client_t *c = sock_client(l, &s, sv, &n, 0);
    uint8_t buf[256];

    publisher_t p = {.c = c, .st = MQTLS_ERR_STATE};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publish_later, &p), 0);
    int64_t t0 = mono_ms();
    (void)run(l, 5000); /* the wait: ends when the publish wakes it */
    size_t got = 0;
    for (int i = 0; i < 5 && got == 0; i++) {
        got = peer_read(sv[1], buf, sizeof buf, 0);
        if (got == 0) {
            (void)run(l, 1000);
        }
    }
    int64_t took = mono_ms() - t0;
    assert_int_equal(pthread_join(th, NULL), 0);
    print_message("loop woken by a publish from another thread after %lld ms\n", (long long)took);
    assert_int_equal(p.st, MQTLS_OK);
    assert_true(got >= 1);
    assert_int_equal(buf[0] & 0xF0, 0x30);
    assert_true(took < 2500);
    mqtls_client_destroy(c);
    mqtls_loop_destroy(l);
    (void)close(sv[0]);
    (void)close(sv[1]);
}

/* --- name resolution off the loop thread ---------------------------------------------------- */

static pthread_mutex_t g_hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_hook_cv = PTHREAD_COND_INITIALIZER;
static bool g_hook_released;
static atomic_int g_hook_calls;

/* A resolver that hangs until the test releases it (5 s at most), then answers for real. */
static int slow_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
                            struct addrinfo **res)
{
    g_hook_calls++;
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    (void)pthread_mutex_lock(&g_hook_mu);
    while (!g_hook_released) {
        if (pthread_cond_timedwait(&g_hook_cv, &g_hook_mu, &until) != 0) {
            break;
        }
    }
    (void)pthread_mutex_unlock(&g_hook_mu);
    return getaddrinfo(host, port, hints, res);
}

static void hook_install(void)
{
    (void)pthread_mutex_lock(&g_hook_mu);
    g_hook_released = false;
    (void)pthread_mutex_unlock(&g_hook_mu);
    g_hook_calls = 0;
    mqtls__resolve_set_hook(slow_getaddrinfo);
}

static void hook_release(void)
{
    (void)pthread_mutex_lock(&g_hook_mu);
    g_hook_released = true;
    (void)pthread_cond_broadcast(&g_hook_cv);
    (void)pthread_mutex_unlock(&g_hook_mu);
}

/* Release the hook and wait (bounded) until no resolution is left on the resolver threads. */
static void hook_remove(void)
{
    hook_release();
    int64_t end = mono_ms() + 5000;
    while (mqtls__resolve_busy() > 0 && mono_ms() < end) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    assert_int_equal(mqtls__resolve_busy(), 0);
    mqtls__resolve_set_hook(NULL);
}

/* A listener on 127.0.0.1 (ephemeral port) playing the broker: CONNECT in, CONNACK out;
 * clients reach it as mqtt://localhost:<port>. */
typedef struct local_broker {
    int ls, conn;
    uint16_t port;
    char uri[64];
} local_broker_t;

static void local_open(local_broker_t *b)
{
    b->conn = -1;
    b->ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(b->ls >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(b->ls, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(b->ls, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(listen(b->ls, 4), 0);
    b->port = ntohs(a.sin_port);
    (void)snprintf(b->uri, sizeof b->uri, "mqtt://localhost:%u", b->port);
}

/* Run @p l and serve the broker side until the client of @p n connects (5 s at most). */
static void local_serve_until_connected(local_broker_t *b, mqtls_loop_t *l, counts_t *n)
{
    int64_t end = mono_ms() + 5000;
    while (n->connected == 0 && n->errors == 0 && mono_ms() < end) {
        (void)run(l, 50);
        if (b->conn < 0) {
            b->conn = accept(b->ls, NULL, NULL);
            continue;
        }
        uint8_t buf[256];
        if (peer_read(b->conn, buf, sizeof buf, 0) > 0 && buf[0] == 0x10) {
            assert_int_equal(send(b->conn, connack_ok, sizeof connack_ok, MSG_NOSIGNAL),
                             (ssize_t)sizeof connack_ok);
        }
    }
    assert_int_equal(n->errors, 0);
    assert_int_equal(n->connected, 1);
}

static void local_close(local_broker_t *b)
{
    if (b->conn >= 0) {
        (void)close(b->conn);
    }
    (void)close(b->ls);
}

/* While the name of one client hangs in the resolver, the loop keeps serving another client
 * on the same loop (its keepalive pings go out and are answered), and no iteration blocks;
 * once the answer is in, "localhost" (from /etc/hosts) connects. */
static void test_loop_slow_resolver_does_not_stall_other_clients(void **state)
{
    (void)state;
    hook_install();
    local_broker_t lb;
    local_open(&lb);
    static counts_t na;
    static counts_t nb;
    memset(&na, 0, sizeof na);
    memset(&nb, 0, sizeof nb);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    mqtls_client_t *a = make_client(lb.uri, 60, 8000, &na); /* real TCP, a slow name */
    static mem_t mb;
    memset(&mb, 0, sizeof mb);
    mb.answer_pings = true;
    mqtls_client_t *b = make_client("mqtt://127.0.0.1", 1, 5000, &nb); /* keepalive 1 s */
    mqtls__client_set_transport_factory(b, mem_factory, &mb);
    assert_int_equal(mqtls_loop_add(l, a), MQTLS_OK);
    assert_int_equal(mqtls_loop_add(l, b), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(a), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(b), MQTLS_OK);

    int64_t t0 = mono_ms();
    int64_t worst = 0;
    while (mono_ms() - t0 < 2600) {
        int64_t s = mono_ms();
        (void)run(l, 100);
        int64_t d = mono_ms() - s;
        worst = d > worst ? d : worst;
    }
    print_message("resolver hung 2.6 s: slowest iteration %lld ms, other client sent %zu "
                  "PINGREQs, state of the resolving one %d\n",
                  (long long)worst, mb.pingreqs, (int)mqtls_client_state(a));
    assert_int_equal(g_hook_calls, 1);
    assert_int_equal(mqtls_client_state(a), MQTLS_STATE_CONNECTING);
    assert_true(mqtls_client_fd(a) >= 0); /* the resolution's eventfd: pollable */
    assert_int_equal(nb.connected, 1);
    assert_true(mb.pingreqs >= 2);
    assert_int_equal(nb.errors, 0);
    assert_true(worst < 500);

    hook_release();
    local_serve_until_connected(&lb, l, &na);
    mqtls_client_destroy(a);
    mqtls_client_destroy(b);
    mqtls_loop_destroy(l);
    local_close(&lb);
    hook_remove();
}

/* Issue 10 (defect 7): getaddrinfo() ran under the client lock, so any call of the application
 * (publish, state, disconnect) waited for DNS. Names resolve on resolver threads now: while
 * the lookup hangs, a threaded client's calls from this thread return at once. */
static void test_resolver_runs_without_the_client_lock(void **state)
{
    (void)state;
    hook_install();
    local_broker_t lb;
    local_open(&lb);
    static counts_t na;
    memset(&na, 0, sizeof na);
    mqtls_client_t *a = make_client(lb.uri, 60, 8000, &na);
    assert_int_equal(mqtls_client_start(a), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(a), MQTLS_OK);
    int64_t end = mono_ms() + 5000;
    while (g_hook_calls == 0 && mono_ms() < end) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    assert_int_equal(g_hook_calls, 1); /* the lookup hangs now, for up to 5 s */
    int64_t t0 = mono_ms();
    for (int i = 0; i < 10; i++) { /* the outbox takes 16 */
        assert_int_equal(mqtls_client_state(a), MQTLS_STATE_CONNECTING);
        mqtls_publish_opts_t o = {.qos = 1};
        assert_int_equal(mqtls_client_publish(a, "t", "x", 1, &o, NULL), MQTLS_OK);
        (void)mqtls_client_timeout_ms(a);
    }
    int64_t took = mono_ms() - t0;
    print_message("30 calls while getaddrinfo() hangs: %lld ms\n", (long long)took);
    assert_true(took < 1000);
    assert_int_equal(mqtls_client_stop(a), MQTLS_OK); /* joins the runner: not blocked either */
    assert_true(mono_ms() - t0 < 2000);
    mqtls_client_destroy(a);
    local_close(&lb);
    hook_remove();
}

/* The loop sleeps with nothing due for seconds; the answer of the resolver wakes it. */
static void test_loop_wakes_when_the_name_is_resolved(void **state)
{
    (void)state;
    hook_install();
    local_broker_t lb;
    local_open(&lb);
    static counts_t na;
    memset(&na, 0, sizeof na);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    mqtls_client_t *a = make_client(lb.uri, 60, 8000, &na);
    assert_int_equal(mqtls_loop_add(l, a), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(a), MQTLS_OK);
    (void)run(l, 0); /* starts the resolution */
    int resolving_fd = mqtls_client_fd(a);
    assert_true(resolving_fd >= 0);
    hook_release();
    int64_t t0 = mono_ms();
    (void)run(l, 4000); /* nothing is due for 8 s: only the eventfd can end this wait */
    int64_t took = mono_ms() - t0;
    print_message("loop woken %lld ms after the resolver was released\n", (long long)took);
    assert_true(took < 2000);
    assert_true(mqtls_client_fd(a) != resolving_fd); /* now the socket */
    local_serve_until_connected(&lb, l, &na);
    mqtls_client_destroy(a);
    mqtls_loop_destroy(l);
    local_close(&lb);
    hook_remove();
}

/* A resolution that outlasts connect_timeout_ms fails in the DNS layer at that deadline, and
 * destroying a client whose name is still being resolved does not wait for the resolver. */
static void test_dns_timeout_counts_against_connect_timeout(void **state)
{
    (void)state;
    hook_install();
    static counts_t na;
    static counts_t nb;
    memset(&na, 0, sizeof na);
    memset(&nb, 0, sizeof nb);
    mqtls_loop_t *l = NULL;
    assert_int_equal(mqtls_loop_create(&l), MQTLS_OK);
    mqtls_client_t *a = make_client("mqtt://localhost:1", 60, 300, &na);
    assert_int_equal(mqtls_loop_add(l, a), MQTLS_OK);
    int64_t t0 = mono_ms();
    assert_int_equal(mqtls_client_connect(a), MQTLS_OK);
    while (na.errors == 0 && mono_ms() - t0 < 3000) {
        (void)run(l, 100);
    }
    int64_t took = mono_ms() - t0;
    print_message("DNS gave up after %lld ms (connect_timeout_ms 300): %s\n", (long long)took,
                  na.last_error.detail);
    assert_int_equal(na.errors, 1);
    assert_int_equal(na.last_error.layer, MQTLS_LAYER_DNS);
    assert_int_equal(na.last_error.status, MQTLS_ERR_DNS);
    assert_non_null(strstr(na.last_error.detail, "no answer in 300 ms"));
    assert_true(took >= 290 && took < 1500);
    assert_int_equal(mqtls_client_state(a), MQTLS_STATE_IDLE);

    mqtls_client_t *b = make_client("mqtt://localhost:1", 60, 5000, &nb);
    assert_int_equal(mqtls_loop_add(l, b), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(b), MQTLS_OK);
    (void)run(l, 0);
    assert_int_equal(mqtls_client_state(b), MQTLS_STATE_CONNECTING);
    assert_int_equal(mqtls__resolve_busy(), 2); /* a's abandoned lookup and b's, both hung */
    int64_t d0 = mono_ms();
    mqtls_client_destroy(b);
    int64_t destroy_ms = mono_ms() - d0;
    assert_true(destroy_ms < 200);
    mqtls_client_destroy(a);
    mqtls_loop_destroy(l);
    hook_remove(); /* the workers free what was let go of */
}

/* IPv4/IPv6 literals never reach the resolver: the socket exists after the first connect(). */
static void test_tcp_literal_resolves_in_the_call(void **state)
{
    (void)state;
    hook_install();
    local_broker_t lb;
    local_open(&lb);
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_transport_t *t = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", lb.port, 2000, &err, &t), MQTLS_OK);
    mqtls_status_t st = t->ops->connect(t, mono_ms());
    assert_true(st == MQTLS_OK || st == MQTLS_ERR_WOULD_BLOCK);
    int type = 0;
    socklen_t len = sizeof type;
    assert_int_equal(getsockopt(t->ops->fd(t), SOL_SOCKET, SO_TYPE, &type, &len), 0);
    assert_int_equal(type, SOCK_STREAM);
    assert_int_equal(g_hook_calls, 0);
    t->ops->destroy(t);
    local_close(&lb);
    hook_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_2000_idle_clients_visits_only_due_ones),
        cmocka_unit_test(test_loop_publish_wakes_only_its_client),
        cmocka_unit_test(test_loop_wakes_for_a_publish_from_another_thread),
        cmocka_unit_test(test_loop_writes_queued_publishes_in_one_write),
        cmocka_unit_test(test_loop_slow_resolver_does_not_stall_other_clients),
        cmocka_unit_test(test_loop_wakes_when_the_name_is_resolved),
        cmocka_unit_test(test_resolver_runs_without_the_client_lock),
        cmocka_unit_test(test_dns_timeout_counts_against_connect_timeout),
        cmocka_unit_test(test_tcp_literal_resolves_in_the_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
