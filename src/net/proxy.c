/* Proxies under the broker connection (net.h: mqtls__proxy_parse, mqtls__proxy_create): SOCKS5
 * (RFC 1928, user/password by RFC 1929) and HTTP CONNECT (RFC 9110 9.3.6, Basic auth, RFC 7617).
 * The transport wraps the TCP connection to the proxy, asks it for a tunnel to the broker, then
 * passes bytes through unchanged: TLS and WebSocket stack on it as on TCP. Never blocks. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mbedtls/base64.h"
#include "mbedtls/platform_util.h"

#define PROXY_DEFAULT_PORT 1080u /* curl's, for every proxy kind */
#define PROXY_BUF 2048u          /* a request, or an answer's head (HTTP headers up to this) */

typedef enum {
    PX_IDLE,
    PX_RESOLVE, /* socks5://: the broker's name, on a resolver thread */
    PX_INNER,   /* TCP to the proxy */
    PX_SEND,    /* out[] going to the proxy */
    PX_RECV,    /* waiting for the answer to the step in `step` */
    PX_OPEN,
    PX_FAILED,
} px_state_t;

/* SOCKS5 steps: the answer each one waits for. */
typedef enum { S5_METHOD, S5_USERPASS, S5_CONNECT, HTTP_HEAD } px_step_t;

typedef struct proxy {
    mqtls_transport_t base;
    mqtls_transport_t *inner;
    mqtls__proxy_t p; /* copy of the parsed URL (user, password: wiped at destroy) */
    char *target;     /* broker host */
    uint16_t target_port;
    px_state_t state;
    px_step_t step;
    unsigned want;
    mqtls__resolve_t *res;
    uint8_t addr[16]; /* socks5://: the broker's address, resolved here */
    size_t addr_len;  /* 4 or 16; 0 = send the name */
    uint8_t out[PROXY_BUF];
    size_t out_len, out_off;
    uint8_t in[PROXY_BUF];
    size_t in_len; /* bytes in in[] */
    size_t in_off; /* PX_OPEN: tunnel bytes that came with the answer, served by read() */
} proxy_t;

static const char *kind_name(mqtls__proxy_kind_t k)
{
    return k == MQTLS__PROXY_HTTP ? "HTTP proxy" : "SOCKS5 proxy";
}

/* Record "<kind> host:port: <what><more>" (layer PROXY) and fail the attempt. */
static mqtls_status_t px_fail(proxy_t *t, mqtls_status_t st, const char *what, const char *more)
{
    t->state = PX_FAILED;
    t->want = 0;
    return mqtls__net_fail(t->base.err, MQTLS_LAYER_PROXY, st, 0, "%s %s:%u: %s%s",
                           kind_name(t->p.kind), t->p.host, (unsigned)t->p.port, what,
                           more != NULL ? more : "");
}

/* ---- the URL ------------------------------------------------------------------------------ */

/* Copy @p n bytes of @p s into @p dst with %XX decoded (RFC 3986 userinfo). */
static bool pct_decode(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            char *end = NULL;
            unsigned long v = strtoul(hex, &end, 16);
            if (end != hex + 2) {
                return false;
            }
            c = (char)v;
            i += 2;
        }
        if (o + 1 >= cap) {
            return false;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return true;
}

mqtls_status_t mqtls__proxy_parse(const char *url, mqtls__proxy_t *out, mqtls_error_t *err)
{
    static const struct {
        const char *prefix;
        mqtls__proxy_kind_t kind;
    } kinds[] = {{"socks5h://", MQTLS__PROXY_SOCKS5H},
                 {"socks5://", MQTLS__PROXY_SOCKS5},
                 {"http://", MQTLS__PROXY_HTTP}};
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    const char *p = NULL;
    for (size_t i = 0; url != NULL && i < sizeof kinds / sizeof kinds[0] && p == NULL; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(url, kinds[i].prefix, n) == 0) {
            out->kind = kinds[i].kind;
            p = url + n;
        }
    }
    if (p == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_BAD_URI, 0,
                               "proxy: not socks5h://, socks5:// or http://");
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++) {
        at = p[i] == '@' ? p + i : at; /* the last '@': a password may hold one */
    }
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = (size_t)((colon != NULL ? colon : at) - p);
        if (!pct_decode(out->user, sizeof out->user, p, ulen) ||
            (colon != NULL &&
             !pct_decode(out->pass, sizeof out->pass, colon + 1, (size_t)(at - colon - 1))) ||
            out->user[0] == '\0') {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_BAD_URI, 0,
                                   "proxy: bad user:password@ (at most 255 bytes each)");
        }
        out->has_user = true;
        auth_len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *host = p;
    size_t host_len;
    const char *rest;
    if (*p == '[') {
        const char *end = memchr(p, ']', auth_len);
        if (end == NULL) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_BAD_URI, 0,
                                   "proxy: unclosed [IPv6 literal");
        }
        host = p + 1;
        host_len = (size_t)(end - host);
        rest = end + 1;
    } else {
        host_len = strcspn(p, ":/?#");
        host_len = host_len < auth_len ? host_len : auth_len;
        rest = p + host_len;
    }
    out->port = PROXY_DEFAULT_PORT;
    if (*rest == ':') {
        char *end = NULL;
        unsigned long port = strtoul(rest + 1, &end, 10);
        if (end == rest + 1 || port == 0 || port > 65535u) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_BAD_URI, 0,
                                   "proxy: bad port");
        }
        out->port = (uint16_t)port;
        rest = end;
    }
    if (host_len == 0 || host_len >= sizeof out->host || (*rest != '\0' && strcmp(rest, "/"))) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_BAD_URI, 0,
                               "proxy: expected [user[:password]@]host[:port]");
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    return MQTLS_OK;
}

void mqtls__proxy_wipe(mqtls__proxy_t *p)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, sizeof *p);
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

static void put(proxy_t *t, const void *p, size_t n)
{
    if (t->out_len + n <= sizeof t->out) {
        memcpy(t->out + t->out_len, p, n);
        t->out_len += n;
    }
}

static void put_byte(proxy_t *t, uint8_t b)
{
    put(t, &b, 1);
}

/* Queue @p step's request and wait for its answer. */
static void request(proxy_t *t, px_step_t step)
{
    t->out_len = 0;
    t->out_off = 0;
    t->in_len = 0;
    t->step = step;
    switch (step) {
    case S5_METHOD:
        /* VER 5, methods: 0 (none), and 2 (user/password) when we have a user */
        put_byte(t, 5);
        put_byte(t, t->p.has_user ? 2 : 1);
        put_byte(t, 0);
        if (t->p.has_user) {
            put_byte(t, 2);
        }
        break;
    case S5_USERPASS: { /* RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD */
        size_t ulen = strlen(t->p.user);
        size_t plen = strlen(t->p.pass);
        put_byte(t, 1);
        put_byte(t, (uint8_t)ulen);
        put(t, t->p.user, ulen);
        put_byte(t, (uint8_t)plen);
        put(t, t->p.pass, plen);
        break;
    }
    case S5_CONNECT: { /* VER 5, CMD 1 CONNECT, RSV, ATYP, DST.ADDR, DST.PORT */
        size_t hlen = strlen(t->target);
        uint8_t head[4] = {5, 1, 0, 0};
        head[3] = t->addr_len == 4 ? 1 : t->addr_len == 16 ? 4 : 3;
        put(t, head, sizeof head);
        if (t->addr_len > 0) {
            put(t, t->addr, t->addr_len);
        } else {
            put_byte(t, (uint8_t)hlen);
            put(t, t->target, hlen);
        }
        uint8_t port[2] = {(uint8_t)(t->target_port >> 8), (uint8_t)(t->target_port & 0xFFu)};
        put(t, port, sizeof port);
        break;
    }
    case HTTP_HEAD: {
        bool v6 = strchr(t->target, ':') != NULL;
        char hp[300];
        (void)snprintf(hp, sizeof hp, "%s%s%s:%u", v6 ? "[" : "", t->target, v6 ? "]" : "",
                       (unsigned)t->target_port);
        int n =
            snprintf((char *)t->out, sizeof t->out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", hp, hp);
        t->out_len = n > 0 && (size_t)n < sizeof t->out ? (size_t)n : 0;
        if (t->p.has_user) {
            char cred[520];
            unsigned char b64[704];
            size_t b64_len = 0;
            int c = snprintf(cred, sizeof cred, "%s:%s", t->p.user, t->p.pass);
            if (c > 0 && (size_t)c < sizeof cred &&
                mbedtls_base64_encode(b64, sizeof b64, &b64_len, (const unsigned char *)cred,
                                      (size_t)c) == 0) {
                put(t, "Proxy-Authorization: Basic ", 27);
                put(t, b64, b64_len);
                put(t, "\r\n", 2);
            }
            mbedtls_platform_zeroize(cred, sizeof cred);
            mbedtls_platform_zeroize(b64, sizeof b64);
        }
        put(t, "\r\n", 2);
        break;
    }
    }
    t->state = PX_SEND;
}

/* ---- answers ------------------------------------------------------------------------------- */

/* SOCKS5 REP codes (RFC 1928 section 6). */
static mqtls_status_t socks_reply_failed(proxy_t *t, uint8_t rep)
{
    static const char *const text[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    char what[96];
    (void)snprintf(what, sizeof what, "%s (reply %u) for %s port %u",
                   rep < sizeof text / sizeof text[0] ? text[rep] : "unknown reply", (unsigned)rep,
                   t->target, (unsigned)t->target_port);
    mqtls_status_t st = MQTLS_ERR_PROXY_REFUSED; /* 1, 2, 7, 8: the proxy's own decision */
    if (rep >= 3 && rep <= 6) {
        st = MQTLS_ERR_PROXY_TARGET; /* the proxy tried, the broker was not there */
    }
    return px_fail(t, st, "", what);
}

/* How many bytes the answer to t->step takes, given what is in; 0 = not known yet. */
static size_t socks_answer_len(const proxy_t *t)
{
    if (t->step != S5_CONNECT) {
        return 2;
    }
    if (t->in_len < 5) {
        return 0;
    }
    switch (t->in[3]) {
    case 1:
        return 4 + 4 + 2;
    case 4:
        return 4 + 16 + 2;
    case 3:
        return 4 + 1 + (size_t)t->in[4] + 2;
    default:
        return 4; /* bad ATYP: judged below */
    }
}

static mqtls_status_t socks_answer(proxy_t *t, size_t len)
{
    const uint8_t *a = t->in;
    switch (t->step) {
    case S5_METHOD:
        if (a[0] != 5) {
            return px_fail(t, MQTLS_ERR_PROXY_PROTOCOL, "the answer is not SOCKS version 5", NULL);
        }
        if (a[1] == 0xFF) {
            return px_fail(t, MQTLS_ERR_PROXY_AUTH,
                           t->p.has_user
                               ? "accepts none of our authentication methods (none, user/password)"
                               : "requires authentication (give user:password@ in the proxy URL)",
                           NULL);
        }
        if (a[1] == 2 && t->p.has_user) {
            request(t, S5_USERPASS);
        } else if (a[1] == 0) {
            request(t, S5_CONNECT);
        } else {
            return px_fail(t, MQTLS_ERR_PROXY_PROTOCOL,
                           "chose an authentication method we "
                           "did not offer",
                           NULL);
        }
        break;
    case S5_USERPASS:
        if (a[1] != 0) {
            return px_fail(t, MQTLS_ERR_PROXY_AUTH, "refused the user name or password", NULL);
        }
        request(t, S5_CONNECT);
        break;
    case S5_CONNECT:
        if (a[0] != 5 || (a[3] != 1 && a[3] != 3 && a[3] != 4)) {
            return px_fail(t, MQTLS_ERR_PROXY_PROTOCOL, "malformed SOCKS5 reply", NULL);
        }
        if (a[1] != 0) {
            return socks_reply_failed(t, a[1]);
        }
        t->state = PX_OPEN;
        t->in_off = len; /* anything after the reply is the broker's */
        break;
    case HTTP_HEAD:
        break;
    }
    return MQTLS_OK;
}

/* "HTTP/1.1 407 Proxy Authentication Required" once the head (up to CRLF CRLF) is in. */
static mqtls_status_t http_answer(proxy_t *t, size_t head_len)
{
    const char *s = (const char *)t->in;
    char line[120];
    size_t n = strcspn(s, "\r\n");
    n = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy(line, s, n);
    line[n] = '\0';
    unsigned code = 0;
    if (strncmp(line, "HTTP/1.", 7) != 0 || sscanf(line + 8, " %3u", &code) != 1) {
        return px_fail(t, MQTLS_ERR_PROXY_PROTOCOL, "not an HTTP answer: ", line);
    }
    if (code >= 200 && code < 300) {
        t->state = PX_OPEN;
        t->in_off = head_len;
        return MQTLS_OK;
    }
    mqtls_status_t st = MQTLS_ERR_PROXY_REFUSED; /* 400, 403, 405, ...: its own rules */
    if (code == 407) {
        st = MQTLS_ERR_PROXY_AUTH;
    } else if (code >= 500) {
        st = MQTLS_ERR_PROXY_TARGET; /* 502/503/504, tinyproxy's "500 Unable to connect" */
    }
    return px_fail(t, st, "answered ", line);
}

/* Read what the proxy sent; act once an answer is complete. */
static mqtls_status_t receive(proxy_t *t)
{
    for (int rounds = 0; rounds < 16 && t->state == PX_RECV; rounds++) {
        size_t got = 0;
        if (t->in_len == sizeof t->in - 1) {
            return px_fail(t, MQTLS_ERR_PROXY_PROTOCOL, "answer too long", NULL);
        }
        mqtls_status_t st =
            t->inner->ops->read(t->inner, t->in + t->in_len, sizeof t->in - 1 - t->in_len, &got);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = MQTLS_WANT_READ;
            return st;
        }
        if (st == MQTLS_ERR_CLOSED || st == MQTLS_ERR_CONN_RESET) {
            return px_fail(t, MQTLS_ERR_PROXY_REFUSED,
                           "closed the connection without an answer (is it a ",
                           t->p.kind == MQTLS__PROXY_HTTP ? "HTTP proxy?)" : "SOCKS5 proxy?)");
        }
        if (st != MQTLS_OK) {
            t->state = PX_FAILED;
            return st;
        }
        t->in_len += got;
        t->in[t->in_len] = '\0';
        if (t->step == HTTP_HEAD) {
            const char *end = strstr((const char *)t->in, "\r\n\r\n");
            if (end != NULL) {
                return http_answer(t, (size_t)(end + 4 - (const char *)t->in));
            }
            if (t->in_len >= 8 && strncmp((const char *)t->in, "HTTP/1.", 7) != 0) {
                return http_answer(t, t->in_len);
            }
            continue;
        }
        size_t need = socks_answer_len(t);
        if (t->in_len >= 2 && t->in[0] != 5 && t->step != S5_USERPASS) {
            return socks_answer(t, t->in_len); /* not SOCKS5: say so now */
        }
        if (need != 0 && t->in_len >= need) {
            mqtls_status_t a = socks_answer(t, need);
            if (a != MQTLS_OK || t->state == PX_OPEN) {
                return a;
            }
            return MQTLS_ERR_WOULD_BLOCK; /* the next request is queued: connect() sends it */
        }
    }
    return MQTLS_ERR_WOULD_BLOCK;
}

static mqtls_status_t send_request(proxy_t *t)
{
    for (int rounds = 0; rounds < 16 && t->out_off < t->out_len; rounds++) {
        mqtls_iovec_t v = {.base = t->out + t->out_off, .len = t->out_len - t->out_off};
        size_t sent = 0;
        mqtls_status_t st = t->inner->ops->writev(t->inner, &v, 1, &sent);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = MQTLS_WANT_WRITE;
            return st;
        }
        if (st != MQTLS_OK) {
            t->state = PX_FAILED;
            return st;
        }
        t->out_off += sent;
    }
    if (t->out_off < t->out_len) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    mbedtls_platform_zeroize(t->out, t->out_len); /* may hold the password */
    t->state = PX_RECV;
    t->want = MQTLS_WANT_READ;
    return MQTLS_OK;
}

/* ---- connect --------------------------------------------------------------------------------- */

/* socks5://: the broker's address is ours to find (IPv4 first: the proxy dials one address). */
static mqtls_status_t take_address(proxy_t *t)
{
    int rc = 0;
    int sys_errno = 0;
    struct addrinfo *ai = NULL;
    if (!mqtls__resolve_take(t->res, &rc, &sys_errno, &ai)) {
        t->want = MQTLS_WANT_READ;
        return MQTLS_ERR_WOULD_BLOCK;
    }
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *a = rc == 0 ? ai : NULL; a != NULL; a = a->ai_next) {
        if (a->ai_family == AF_INET || (a->ai_family == AF_INET6 && pick == NULL)) {
            pick = pick == NULL || pick->ai_family != AF_INET ? a : pick;
        }
    }
    if (pick != NULL && pick->ai_family == AF_INET) {
        memcpy(t->addr, &((const struct sockaddr_in *)(const void *)pick->ai_addr)->sin_addr, 4);
        t->addr_len = 4;
    } else if (pick != NULL) {
        memcpy(t->addr, &((const struct sockaddr_in6 *)(const void *)pick->ai_addr)->sin6_addr, 16);
        t->addr_len = 16;
    }
    if (ai != NULL) {
        freeaddrinfo(ai);
    }
    if (t->addr_len == 0) {
        t->state = PX_FAILED;
        return mqtls__net_fail(t->base.err, MQTLS_LAYER_DNS, MQTLS_ERR_DNS,
                               rc == EAI_SYSTEM ? sys_errno : 0,
                               "getaddrinfo %s: %s (socks5:// resolves here; socks5h:// lets "
                               "the proxy resolve)",
                               t->target, rc != 0 ? gai_strerror(rc) : "no address");
    }
    t->state = PX_INNER;
    return MQTLS_OK;
}

static mqtls_status_t px_connect(mqtls_transport_t *base, int64_t now_ms)
{
    proxy_t *t = (proxy_t *)base;
    mqtls_status_t st = MQTLS_OK;
    switch (t->state) {
    case PX_OPEN:
        return MQTLS_OK;
    case PX_FAILED:
        t->inner->ops->close(t->inner);
        /* fall through */
    case PX_IDLE:
        t->addr_len = 0;
        t->state = PX_INNER;
        if (t->p.kind == MQTLS__PROXY_SOCKS5) {
            uint8_t ip[16];
            if (inet_pton(AF_INET, t->target, ip) == 1) {
                memcpy(t->addr, ip, 4);
                t->addr_len = 4;
            } else if (inet_pton(AF_INET6, t->target, ip) == 1) {
                memcpy(t->addr, ip, 16);
                t->addr_len = 16;
            } else {
                st = mqtls__resolve_start(t->target, t->target_port, &t->res);
                if (st != MQTLS_OK) {
                    t->state = PX_FAILED;
                    return mqtls__net_fail(t->base.err, MQTLS_LAYER_DNS, st, errno,
                                           "resolve %s: cannot start the resolver", t->target);
                }
                t->state = PX_RESOLVE;
            }
        } else if (t->p.kind == MQTLS__PROXY_SOCKS5H && strlen(t->target) > 255) {
            return px_fail(t, MQTLS_ERR_INVALID_ARG, "broker name longer than 255 bytes", NULL);
        }
        if (t->state == PX_INNER) {
            goto inner;
        }
        /* fall through */
    case PX_RESOLVE:
        st = take_address(t);
        if (st != MQTLS_OK) {
            return st;
        }
        /* fall through */
    case PX_INNER:
    inner:
        st = t->inner->ops->connect(t->inner, now_ms);
        if (t->res != NULL) {
            mqtls__resolve_free(t->res); /* after the proxy's socket exists: numbers differ */
            t->res = NULL;
        }
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            t->want = t->inner->ops->want(t->inner);
            return st;
        }
        if (st != MQTLS_OK) {
            t->state = PX_FAILED;
            mqtls_error_t *e = t->base.err;
            if (e != NULL && e->layer != MQTLS_LAYER_DNS) {
                /* the broker is not the one that refused: say it was the proxy */
                char detail[sizeof e->detail];
                memcpy(detail, e->detail, sizeof detail);
                e->layer = MQTLS_LAYER_PROXY;
                /* "SOCKS5 proxy: <inner detail>", the inner detail cut to what still fits */
                int n = snprintf(e->detail, sizeof e->detail, "%s: ", kind_name(t->p.kind));
                if (n > 0 && (size_t)n < sizeof e->detail) {
                    size_t len = strnlen(detail, sizeof detail - 1);
                    size_t room = sizeof e->detail - (size_t)n - 1u;
                    len = len < room ? len : room;
                    memcpy(e->detail + n, detail, len);
                    e->detail[(size_t)n + len] = '\0';
                }
            }
            return st;
        }
        request(t, t->p.kind == MQTLS__PROXY_HTTP ? HTTP_HEAD : S5_METHOD);
        /* fall through */
    case PX_SEND:
    case PX_RECV:
        for (int rounds = 0; rounds < 8; rounds++) {
            if (t->state == PX_SEND) {
                st = send_request(t);
                if (st != MQTLS_OK) {
                    return st;
                }
            }
            st = receive(t);
            if (st != MQTLS_ERR_WOULD_BLOCK || t->state != PX_SEND) {
                break;
            }
        }
        if (t->state == PX_OPEN) {
            t->want = MQTLS_WANT_READ;
            return MQTLS_OK;
        }
        return st;
    }
    return MQTLS_ERR_STATE;
}

/* ---- the tunnel ------------------------------------------------------------------------------ */

static mqtls_status_t px_read(mqtls_transport_t *base, uint8_t *buf, size_t cap, size_t *got)
{
    proxy_t *t = (proxy_t *)base;
    *got = 0;
    if (t->state != PX_OPEN) {
        return MQTLS_ERR_STATE;
    }
    if (t->in_off < t->in_len) { /* the broker's first bytes came with the proxy's answer */
        size_t n = t->in_len - t->in_off < cap ? t->in_len - t->in_off : cap;
        memcpy(buf, t->in + t->in_off, n);
        t->in_off += n;
        *got = n;
        return MQTLS_OK;
    }
    return t->inner->ops->read(t->inner, buf, cap, got);
}

static mqtls_status_t px_writev(mqtls_transport_t *base, const mqtls_iovec_t *iov, size_t iov_count,
                                size_t *sent)
{
    proxy_t *t = (proxy_t *)base;
    *sent = 0;
    if (t->state != PX_OPEN) {
        return MQTLS_ERR_STATE;
    }
    return t->inner->ops->writev(t->inner, iov, iov_count, sent);
}

static size_t px_pending(mqtls_transport_t *base)
{
    proxy_t *t = (proxy_t *)base;
    size_t mine = t->state == PX_OPEN ? t->in_len - t->in_off : 0;
    return mine + t->inner->ops->pending(t->inner);
}

static int px_fd(mqtls_transport_t *base)
{
    proxy_t *t = (proxy_t *)base;
    return t->state == PX_RESOLVE && t->res != NULL ? mqtls__resolve_fd(t->res)
                                                    : t->inner->ops->fd(t->inner);
}

static unsigned px_want(mqtls_transport_t *base)
{
    proxy_t *t = (proxy_t *)base;
    if (t->state == PX_INNER) {
        return t->inner->ops->want(t->inner);
    }
    if (t->state == PX_OPEN) {
        return t->inner->ops->want(t->inner);
    }
    return t->want;
}

static void px_close(mqtls_transport_t *base)
{
    proxy_t *t = (proxy_t *)base;
    if (t->res != NULL) {
        mqtls__resolve_free(t->res);
        t->res = NULL;
    }
    t->inner->ops->close(t->inner);
    t->state = PX_IDLE;
    t->want = 0;
    t->in_len = 0;
    t->in_off = 0;
}

static void px_destroy(mqtls_transport_t *base)
{
    if (base == NULL) {
        return;
    }
    proxy_t *t = (proxy_t *)base;
    px_close(base);
    t->inner->ops->destroy(t->inner);
    mqtls__proxy_wipe(&t->p);
    mbedtls_platform_zeroize(t->out, sizeof t->out);
    free(t->target);
    free(t);
}

static int64_t px_wake_at(mqtls_transport_t *base)
{
    return mqtls__transport_wake_at(((proxy_t *)base)->inner);
}

static const mqtls_transport_ops_t proxy_ops = {
    .name = "proxy",
    .connect = px_connect,
    .read = px_read,
    .writev = px_writev,
    .pending = px_pending,
    .fd = px_fd,
    .want = px_want,
    .close = px_close,
    .destroy = px_destroy,
    .wake_at = px_wake_at,
};

mqtls_status_t mqtls__proxy_create(mqtls_transport_t *inner, const mqtls__proxy_t *proxy,
                                   const char *host, uint16_t port, mqtls_error_t *err,
                                   mqtls_transport_t **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (inner == NULL || proxy == NULL || host == NULL || host[0] == '\0' || out == NULL) {
        if (inner != NULL) {
            inner->ops->destroy(inner);
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "proxy: inner transport, proxy and broker host are required");
    }
    proxy_t *t = calloc(1, sizeof *t);
    size_t n = strlen(host);
    char *target = malloc(n + 1);
    if (t == NULL || target == NULL) {
        free(t);
        free(target);
        inner->ops->destroy(inner);
        return mqtls__net_fail(err, MQTLS_LAYER_PROXY, MQTLS_ERR_NOMEM, ENOMEM, "proxy: calloc");
    }
    memcpy(target, host, n + 1);
    t->base.ops = &proxy_ops;
    t->base.err = err;
    t->inner = inner;
    t->p = *proxy;
    t->target = target;
    t->target_port = port;
    t->state = PX_IDLE;
    *out = &t->base;
    return MQTLS_OK;
}
