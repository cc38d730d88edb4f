/* One thread, many clients: the loop registers each client's current socket with epoll (poll
 * where epoll does not exist), waits for the earliest event or timer, and steps the clients
 * that are ready or due. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtls/client.h"
#include "runtime/runtime_internal.h"

#if defined(__linux__)
#include <sys/epoll.h>
#define USE_EPOLL 1
#else
#include <poll.h>
#define USE_EPOLL 0
#endif

typedef struct loop_entry {
    mqtls_client_t *c;
    int fd;          /* registered fd, -1 none */
    unsigned want;   /* registered MQTLS_WANT_* */
    uint32_t gen;    /* connection generation the registration belongs to */
    bool ready;
} loop_entry_t;

struct mqtls_loop {
    loop_entry_t **entries;
    size_t count, cap;
    int epfd;
};

mqtls_status_t mqtls_loop_create(mqtls_loop_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_loop_t *l = calloc(1, sizeof *l);
    if (l == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    l->epfd = -1;
#if USE_EPOLL
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return MQTLS_ERR_OS;
    }
#endif
    *out = l;
    return MQTLS_OK;
}

void mqtls_loop_destroy(mqtls_loop_t *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->count; i++) {
        free(l->entries[i]);
    }
    free(l->entries);
    if (l->epfd >= 0) {
        (void)close(l->epfd);
    }
    free(l);
}

mqtls_status_t mqtls_loop_add(mqtls_loop_t *l, mqtls_client_t *c)
{
    if (l == NULL || c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap == 0 ? 16u : l->cap * 2u;
        loop_entry_t **p = realloc(l->entries, cap * sizeof *p);
        if (p == NULL) {
            return MQTLS_ERR_NOMEM;
        }
        l->entries = p;
        l->cap = cap;
    }
    loop_entry_t *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    e->c = c;
    e->fd = -1;
    l->entries[l->count++] = e;
    return MQTLS_OK;
}

static void unregister(mqtls_loop_t *l, loop_entry_t *e)
{
#if USE_EPOLL
    if (e->fd >= 0) {
        /* Fails harmlessly when the socket was closed already (epoll dropped it). */
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL);
    }
#else
    (void)l;
#endif
    e->fd = -1;
    e->want = 0;
}

mqtls_status_t mqtls_loop_remove(mqtls_loop_t *l, mqtls_client_t *c)
{
    if (l == NULL || c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < l->count; i++) {
        if (l->entries[i]->c == c) {
            unregister(l, l->entries[i]);
            free(l->entries[i]);
            l->entries[i] = l->entries[--l->count];
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_INVALID_ARG;
}

#if USE_EPOLL
static uint32_t epoll_events(unsigned want)
{
    return ((want & MQTLS_WANT_READ) != 0 ? (uint32_t)EPOLLIN : 0u) |
           ((want & MQTLS_WANT_WRITE) != 0 ? (uint32_t)EPOLLOUT : 0u);
}

/* Bring the registration of @p e in line with what its client waits for now. */
static void sync_entry(mqtls_loop_t *l, loop_entry_t *e)
{
    int fd = mqtls_client_fd(e->c);
    unsigned want = fd >= 0 ? mqtls_client_want(e->c) : 0u;
    uint32_t gen = mqtls__client_conn_gen(e->c);
    if (fd != e->fd || gen != e->gen) {
        unregister(l, e);
        if (fd >= 0 && want != 0) {
            struct epoll_event ev = {.events = epoll_events(want), .data.ptr = e};
            if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
                e->fd = fd;
                e->want = want;
            }
        }
        e->gen = gen;
    } else if (fd >= 0 && want != e->want) {
        struct epoll_event ev = {.events = epoll_events(want), .data.ptr = e};
        if (want == 0) {
            unregister(l, e);
        } else if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
            e->want = want;
        }
    }
}
#endif

mqtls_status_t mqtls_loop_run_once(mqtls_loop_t *l, int timeout_ms)
{
    if (l == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    int64_t t = timeout_ms;
    for (size_t i = 0; i < l->count; i++) {
        loop_entry_t *e = l->entries[i];
        e->ready = false;
        int64_t ct = mqtls_client_timeout_ms(e->c);
        if (ct == 0) {
            e->ready = true;
        }
        if (ct >= 0 && (t < 0 || ct < t)) {
            t = ct;
        }
#if USE_EPOLL
        sync_entry(l, e);
#endif
    }
#if USE_EPOLL
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, (int)(sizeof evs / sizeof evs[0]), (int)t);
    if (n < 0 && errno != EINTR) {
        return MQTLS_ERR_OS;
    }
    for (int i = 0; i < n; i++) {
        ((loop_entry_t *)evs[i].data.ptr)->ready = true;
    }
#else
    struct pollfd *pf = calloc(l->count + 1u, sizeof *pf);
    if (pf == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    for (size_t i = 0; i < l->count; i++) {
        int fd = mqtls_client_fd(l->entries[i]->c);
        unsigned w = fd >= 0 ? mqtls_client_want(l->entries[i]->c) : 0u;
        pf[i].fd = w != 0 ? fd : -1;
        pf[i].events = (short)(((w & MQTLS_WANT_READ) != 0 ? POLLIN : 0) |
                               ((w & MQTLS_WANT_WRITE) != 0 ? POLLOUT : 0));
    }
    int n = poll(pf, (nfds_t)l->count, (int)t);
    if (n < 0 && errno != EINTR) {
        free(pf);
        return MQTLS_ERR_OS;
    }
    for (size_t i = 0; i < l->count; i++) {
        if (pf[i].revents != 0) {
            l->entries[i]->ready = true;
        }
    }
    free(pf);
#endif
    for (size_t i = 0; i < l->count; i++) {
        loop_entry_t *e = l->entries[i];
        if (e->ready || mqtls_client_timeout_ms(e->c) == 0) {
            mqtls__client_work(e->c);
        }
    }
    return MQTLS_OK;
}
