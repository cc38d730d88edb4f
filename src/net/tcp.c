/* Non-blocking TCP transport (net.h), and the same stream transport over a Unix domain socket
 * (mqtls__unix_create: one fixed address instead of resolved ones). errno and getaddrinfo()
 * codes are translated to mqtls_status_t here, once (STYLE.md "Errors"). Names are resolved off
 * the caller's thread (resolve.c); literals in the call. Nothing here blocks. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TCP_DEFAULT_CONNECT_TIMEOUT_MS 30000u
/* Gather lists longer than this are sent in several calls (partial write semantics). */
#define TCP_MAX_IOV 64

typedef enum {
    TCP_IDLE,
    TCP_RESOLVING, /* a resolver thread has the name; fd() is its eventfd */
    TCP_CONNECTING,
    TCP_CONNECTED,
} tcp_state_t;

typedef struct tcp {
    mqtls_transport_t base;
    char *host; /* the name, or the socket's file name for a Unix socket */
    uint16_t port;
    uint32_t connect_timeout_ms;
    tcp_state_t state;
    int fd;
    unsigned want;
    struct addrinfo *ai;   /* resolved addresses */
    struct addrinfo *cur;  /* address being tried */
    mqtls__resolve_t *res; /* TCP_RESOLVING */
    int held_fd; /* the fd fd() showed when connect() was entered: closed only when it returns,
                    so that the number a poller saw is not reused within the call (net.h) */
    int64_t deadline_ms;
    int last_errno; /* of the last address that failed, reported if all fail */
    struct sockaddr_storage bind_addr; /* mqtls__tcp_set_bind(); bind_len 0 = none */
    socklen_t bind_len;
    char bind_text[INET6_ADDRSTRLEN];
    bool bind_failed; /* the last failure was bind(), not connect() */
    bool is_unix;   /* mqtls__unix_create(): unix_ai is the one address, never resolved */
    struct addrinfo unix_ai;
    struct sockaddr_un unix_sa;
} tcp_t;

/* An IPv4 or IPv6 literal into @p out; false for anything else (names included). */
static bool parse_bind(const char *addr, struct sockaddr_storage *out, socklen_t *len)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)out;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        *len = (socklen_t)sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        *len = (socklen_t)sizeof *v6;
        return true;
    }
    return false;
}

bool mqtls__tcp_bind_address_valid(const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    return addr != NULL && parse_bind(addr, &ss, &len);
}

mqtls_status_t mqtls__net_fail(mqtls_error_t *err, mqtls_layer_t layer, mqtls_status_t status,
                               int sys_errno, const char *fmt, ...)
{
    if (err != NULL) {
        err->layer = layer;
        err->status = status;
        err->sys_errno = sys_errno;
        if (fmt != NULL) {
            va_list ap;
            va_start(ap, fmt);
            (void)vsnprintf(err->detail, sizeof err->detail, fmt, ap);
            va_end(ap);
        }
    }
    return status;
}

int64_t mqtls__net_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tcp_close_fd(tcp_t *t)
{
    if (t->fd >= 0 && t->fd != t->held_fd) {
        (void)close(t->fd);
    }
    t->fd = -1;
}

static mqtls_status_t map_errno(tcp_t *t, int e, const char *what)
{
    mqtls_status_t st;
    switch (e) {
    case ECONNREFUSED:
        st = MQTLS_ERR_CONN_REFUSED;
        break;
    case ENOENT: /* a Unix socket file that does not exist: nothing listens there either */
        st = t->is_unix ? MQTLS_ERR_CONN_REFUSED : MQTLS_ERR_IO;
        break;
    case ETIMEDOUT:
        st = MQTLS_ERR_CONNECT_TIMEOUT;
        break;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL:
        st = MQTLS_ERR_NET_UNREACHABLE;
        break;
    case ECONNRESET:
    case EPIPE:
        st = MQTLS_ERR_CONN_RESET;
        break;
    default:
        st = MQTLS_ERR_IO;
        break;
    }
    if (t->is_unix) {
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_TCP, st, e, "%s unix socket %s: %s", what,
                               t->host, strerror(e));
    }
    return mqtls__net_fail(t->base.err, MQTLS_LAYER_TCP, st, e, "%s %s port %u: %s", what, t->host,
                           (unsigned)t->port, strerror(e));
}

/* Start a non-blocking connect to t->cur; skip addresses whose socket() fails. */
static mqtls_status_t start_next(tcp_t *t)
{
    for (; t->cur != NULL; t->cur = t->cur->ai_next) {
        if (t->bind_len > 0 && t->cur->ai_family != t->bind_addr.ss_family) {
            /* a local address of one family cannot reach a broker address of the other */
            t->last_errno = EAFNOSUPPORT;
            t->bind_failed = true;
            continue;
        }
        int fd = socket(t->cur->ai_family, t->cur->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        t->cur->ai_protocol);
        if (fd < 0) {
            t->last_errno = errno;
            continue;
        }
        if (t->bind_len > 0 &&
            bind(fd, (const struct sockaddr *)(const void *)&t->bind_addr, t->bind_len) != 0) {
            t->last_errno = errno; /* e.g. EADDRNOTAVAIL: no interface has that address */
            t->bind_failed = true;
            (void)close(fd);
            continue;
        }
        t->bind_failed = false;
        tcp_close_fd(t); /* after the new socket exists: its number differs */
        t->fd = fd;
        /* MQTT packets are small and latency matters more than segment count; the TLS layer
         * gathers its records itself. */
        int one = 1;
        if (!t->is_unix) {
            (void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        if (connect(t->fd, t->cur->ai_addr, t->cur->ai_addrlen) == 0) {
            t->state = TCP_CONNECTED;
            t->want = MQTLS_WANT_READ;
            return MQTLS_OK;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            t->state = TCP_CONNECTING;
            t->want = MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        t->last_errno = errno;
    }
    tcp_close_fd(t);
    t->state = TCP_IDLE;
    if (t->bind_failed) {
        int e = t->last_errno;
        return mqtls__net_fail(
            t->base.err, MQTLS_LAYER_TCP, MQTLS_ERR_IO, e, "bind to %s (to reach %s port %u): %s",
            t->bind_text, t->host, (unsigned)t->port,
            e == EAFNOSUPPORT ? "no broker address of that family" : strerror(e));
    }
    return map_errno(t, t->last_errno != 0 ? t->last_errno : ECONNREFUSED, "connect to");
}

mqtls_status_t mqtls__tcp_set_bind(mqtls_transport_t *base, const char *addr)
{
    tcp_t *t = (tcp_t *)base;
    if (addr == NULL) {
        t->bind_len = 0;
        return MQTLS_OK;
    }
    if (!parse_bind(addr, &t->bind_addr, &t->bind_len)) {
        t->bind_len = 0;
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "bind address \"%.100s\" is not an IPv4 or IPv6 address", addr);
    }
    (void)snprintf(t->bind_text, sizeof t->bind_text, "%s", addr);
    return MQTLS_OK;
}

static mqtls_status_t dns_fail(tcp_t *t, int rc, int sys_errno)
{
    return mqtls__net_fail(t->base.err, MQTLS_LAYER_DNS, MQTLS_ERR_DNS,
                           rc == EAI_SYSTEM ? sys_errno : 0, "getaddrinfo %s: %s", t->host,
                           gai_strerror(rc));
}

/* The addresses are known: try them. */
static mqtls_status_t resolved(tcp_t *t, struct addrinfo *ai)
{
    t->ai = ai;
    t->cur = ai;
    t->last_errno = 0;
    return start_next(t);
}

/* A new attempt: literals resolve here and now (AI_NUMERICHOST never touches DNS); names go
 * to a resolver thread. */
static mqtls_status_t start_resolving(tcp_t *t, int64_t now_ms)
{
    if (t->ai != NULL) {
        freeaddrinfo(t->ai);
        t->ai = NULL;
    }
    t->deadline_ms = now_ms + (int64_t)t->connect_timeout_ms; /* DNS counts against it */
    if (t->is_unix) {
        t->cur = &t->unix_ai; /* t->ai stays NULL: nothing to free */
        t->last_errno = 0;
        return start_next(t);
    }
    char port[8];
    (void)snprintf(port, sizeof port, "%u", (unsigned)t->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(t->host, port, &hints, &ai);
    if (rc == 0) {
        return resolved(t, ai);
    }
    if (rc != EAI_NONAME) {
        return dns_fail(t, rc, errno);
    }
    mqtls_status_t st = mqtls__resolve_start(t->host, t->port, &t->res);
    if (st != MQTLS_OK) {
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_DNS, st, errno,
                               "resolve %s: cannot start the resolver", t->host);
    }
    t->state = TCP_RESOLVING;
    t->fd = mqtls__resolve_fd(t->res);
    t->want = MQTLS_WANT_READ;
    return MQTLS_ERR_WOULD_BLOCK;
}

/* TCP_RESOLVING: take the answer if it is in; give up at the deadline. */
static mqtls_status_t check_resolved(tcp_t *t, int64_t now_ms)
{
    int rc = 0;
    int sys_errno = 0;
    struct addrinfo *ai = NULL;
    bool done = mqtls__resolve_take(t->res, &rc, &sys_errno, &ai);
    if (!done && now_ms < t->deadline_ms) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    /* Either way the resolution is over: tcp_connect() lets go of it (and of its eventfd,
     * which stays open until then: a new socket gets another number). */
    t->state = TCP_IDLE;
    t->fd = -1;
    if (!done) {
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_DNS, MQTLS_ERR_DNS, ETIMEDOUT,
                               "getaddrinfo %s: no answer in %u ms", t->host,
                               (unsigned)t->connect_timeout_ms);
    }
    if (rc != 0) {
        return dns_fail(t, rc, sys_errno);
    }
    return resolved(t, ai);
}

/* TCP_CONNECTING: writable means the connect finished, one way or the other. */
static mqtls_status_t check_connected(tcp_t *t, int64_t now_ms)
{
    struct pollfd pfd = {.fd = t->fd, .events = POLLOUT, .revents = 0};
    int n = poll(&pfd, 1, 0);
    if (n == 0) {
        if (now_ms >= t->deadline_ms) {
            tcp_close_fd(t);
            t->state = TCP_IDLE;
            return mqtls__net_fail(t->base.err, MQTLS_LAYER_TCP, MQTLS_ERR_CONNECT_TIMEOUT,
                                   ETIMEDOUT, "connect to %s%s port %u: no answer in %u ms",
                                   t->is_unix ? "unix socket " : "", t->host, (unsigned)t->port,
                                   (unsigned)t->connect_timeout_ms);
        }
        return MQTLS_ERR_WOULD_BLOCK;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (n < 0 || getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
        soerr = errno;
    }
    if (soerr == 0) {
        t->state = TCP_CONNECTED;
        t->want = MQTLS_WANT_READ;
        return MQTLS_OK;
    }
    t->last_errno = soerr;
    t->cur = t->cur->ai_next; /* all addresses are tried */
    return start_next(t);
}

static mqtls_status_t tcp_connect(mqtls_transport_t *base, int64_t now_ms)
{
    tcp_t *t = (tcp_t *)base;
    mqtls_status_t st = MQTLS_OK;
    mqtls__resolve_t *res = t->res;
    t->held_fd = t->fd;
    switch (t->state) {
    case TCP_IDLE:
        st = start_resolving(t, now_ms);
        break;
    case TCP_RESOLVING:
        st = check_resolved(t, now_ms);
        break;
    case TCP_CONNECTING:
        st = check_connected(t, now_ms);
        break;
    case TCP_CONNECTED:
        break;
    }
    /* Now that the new fd (if any) exists, the one a poller saw may go. */
    if (t->held_fd >= 0 && t->held_fd != t->fd &&
        (res == NULL || t->held_fd != mqtls__resolve_fd(res))) {
        (void)close(t->held_fd);
    }
    t->held_fd = -1;
    if (res != NULL && t->state != TCP_RESOLVING) {
        mqtls__resolve_free(res); /* closes its eventfd; a running lookup is abandoned */
        t->res = NULL;
    }
    return st;
}

static mqtls_status_t tcp_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    tcp_t *t = (tcp_t *)base;
    *got = 0;
    if (t->state != TCP_CONNECTED) {
        return MQTLS_ERR_STATE;
    }
    for (int tries = 0; tries < 8; tries++) {
        ssize_t n = recv(t->fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return MQTLS_OK;
        }
        if (n == 0) {
            return MQTLS_ERR_CLOSED;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            t->want = MQTLS_WANT_READ;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        return map_errno(t, errno, "recv from");
    }
    return MQTLS_ERR_WOULD_BLOCK;
}

static mqtls_status_t tcp_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov,
                                 size_t iov_count, size_t *sent)
{
    tcp_t *t = (tcp_t *)base;
    *sent = 0;
    if (t->state != TCP_CONNECTED) {
        return MQTLS_ERR_STATE;
    }
    struct iovec v[TCP_MAX_IOV];
    size_t n_iov = 0;
    for (size_t i = 0; i < iov_count && n_iov < TCP_MAX_IOV; i++) {
        if (iov[i].len == 0) {
            continue;
        }
        v[n_iov].iov_base = (void *)(uintptr_t)iov[i].base; /* sendmsg does not write */
        v[n_iov].iov_len = iov[i].len;
        n_iov++;
    }
    if (n_iov == 0) {
        return MQTLS_OK;
    }
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = v;
    msg.msg_iovlen = n_iov;
    for (int tries = 0; tries < 8; tries++) {
        /* MSG_NOSIGNAL: a peer that closed gives EPIPE, never SIGPIPE. */
        ssize_t n = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
        if (n >= 0) {
            *sent = (size_t)n;
            t->want = MQTLS_WANT_READ;
            return MQTLS_OK;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            t->want = MQTLS_WANT_READ | MQTLS_WANT_WRITE;
            return MQTLS_ERR_WOULD_BLOCK;
        }
        return map_errno(t, errno, "send to");
    }
    return MQTLS_ERR_WOULD_BLOCK;
}

static size_t tcp_pending(mqtls_transport_t *base)
{
    (void)base;
    return 0; /* the kernel buffers; poll() sees it */
}

static int tcp_fd(mqtls_transport_t *base)
{
    return ((tcp_t *)base)->fd;
}

static unsigned tcp_want(mqtls_transport_t *base)
{
    return ((tcp_t *)base)->want;
}

static void tcp_close(mqtls_transport_t *base)
{
    tcp_t *t = (tcp_t *)base;
    if (t->res != NULL) {
        mqtls__resolve_free(t->res); /* never waits for the resolver thread */
        t->res = NULL;
        t->fd = -1; /* that was the resolution's eventfd */
    }
    tcp_close_fd(t);
    t->state = TCP_IDLE;
    t->want = 0;
    if (t->ai != NULL) {
        freeaddrinfo(t->ai);
        t->ai = NULL;
    }
    t->cur = NULL;
}

static void tcp_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    tcp_t *t = (tcp_t *)base;
    tcp_close(base);
    free(t->host);
    free(t);
}

static const mqtls_transport_ops_t tcp_ops = {
    .name = "tcp",
    .connect = tcp_connect,
    .read = tcp_read,
    .writev = tcp_writev,
    .pending = tcp_pending,
    .fd = tcp_fd,
    .want = tcp_want,
    .close = tcp_close,
    .destroy = tcp_destroy,
};

/* The transport for @p host (copied) and @p port; the caller finishes the address. */
static mqtls_status_t tcp_alloc(const char *host, uint16_t port, uint32_t connect_timeout_ms,
                                mqtls_error_t *err, tcp_t **out)
{
    tcp_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TCP, MQTLS_ERR_NOMEM, ENOMEM, "tcp: calloc");
    }
    size_t len = strlen(host);
    t->host = malloc(len + 1);
    if (t->host == NULL) {
        free(t);
        return mqtls__net_fail(err, MQTLS_LAYER_TCP, MQTLS_ERR_NOMEM, ENOMEM, "tcp: malloc");
    }
    memcpy(t->host, host, len + 1);
    t->base.ops = &tcp_ops;
    t->base.err = err;
    t->port = port;
    t->connect_timeout_ms =
        connect_timeout_ms != 0 ? connect_timeout_ms : TCP_DEFAULT_CONNECT_TIMEOUT_MS;
    t->fd = -1;
    t->held_fd = -1;
    t->state = TCP_IDLE;
    *out = t;
    return MQTLS_OK;
}

mqtls_status_t mqtls__tcp_create(const char *host, uint16_t port, uint32_t connect_timeout_ms,
                                 mqtls_error_t *err, mqtls_transport_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (host == NULL || host[0] == '\0' || port == 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tcp: host and port are required");
    }
    tcp_t *t = NULL;
    mqtls_status_t st = tcp_alloc(host, port, connect_timeout_ms, err, &t);
    if (st == MQTLS_OK) {
        *out = &t->base;
    }
    return st;
}

mqtls_status_t mqtls__unix_create(const char *path, uint32_t connect_timeout_ms, mqtls_error_t *err,
                                  mqtls_transport_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    struct sockaddr_un sa;
    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof sa.sun_path) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "unix: a socket path of at most %zu bytes is required",
                               sizeof sa.sun_path - 1u);
    }
    tcp_t *t = NULL;
    mqtls_status_t st = tcp_alloc(path, 0, connect_timeout_ms, err, &t);
    if (st != MQTLS_OK) {
        return st;
    }
    t->is_unix = true;
    t->unix_sa.sun_family = AF_UNIX;
    memcpy(t->unix_sa.sun_path, path, strlen(path) + 1u);
    t->unix_ai.ai_family = AF_UNIX;
    t->unix_ai.ai_socktype = SOCK_STREAM;
    t->unix_ai.ai_protocol = 0;
    t->unix_ai.ai_addr = (struct sockaddr *)&t->unix_sa;
    t->unix_ai.ai_addrlen = (socklen_t)sizeof t->unix_sa;
    *out = &t->base;
    return MQTLS_OK;
}
