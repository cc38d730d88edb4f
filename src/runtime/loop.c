/* One thread, many clients (libuv is the model). The loop keeps each client's next deadline
 * in a binary min-heap and its socket registered with epoll (poll where epoll does not exist),
 * waits for the earliest event or deadline, and steps only the clients that are ready or due:
 * an iteration costs O(ready + due + changed) client visits and O(log n) per heap update,
 * never O(clients). With 10,000 clients on one loop, a blocked or scanning loop is a stalled
 * fleet.
 *
 * A client's deadline and what it waits for change in two ways only:
 *  - while the loop steps it: the loop reads them again right after (refresh());
 *  - through an API call (connect, publish, subscribe, disconnect, from any thread): the call
 *    wakes the client (thread.c), which puts the loop entry on the dirty list, and writes the
 *    loop's eventfd when the loop is waiting; the next iteration refreshes dirty entries first.
 *
 * Threads: the loop (entries, heap, registrations) belongs to the thread that runs it; only
 * the dirty list and `waiting` are shared, under l->mu (taken with a client's c->mu held,
 * never the other way round: the loop calls into clients with l->mu released). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/client_internal.h"

#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define USE_EPOLL 1
#else
#include <poll.h>
#define USE_EPOLL 0
#endif

#define NOT_IN_HEAP SIZE_MAX

typedef struct loop_entry {
    mqtls_client_t *c;
    size_t index;      /* in l->entries */
    size_t heap_index; /* in l->heap, NOT_IN_HEAP when the client has no timer */
    int64_t due_ms;    /* loop clock */
    int fd;            /* registered fd, -1 none */
    unsigned want;     /* registered MQTLS_WANT_* */
    uint32_t gen;      /* connection generation the registration belongs to */
    bool ready;        /* in l->ready this iteration */
    bool dirty;        /* on the dirty list (l->mu) */
    struct loop_entry *dirty_next;
} loop_entry_t;

struct mqtls_loop {
    loop_entry_t **entries;
    size_t count, cap;
    loop_entry_t **heap; /* min-heap on due_ms */
    size_t heap_count;   /* capacity: cap */
    loop_entry_t **ready;
    size_t ready_count; /* capacity: cap */
    int epfd;
    int wakefd; /* eventfd: a client was marked dirty while the loop waits */
    mqtls__clock_fn clock;
    void *clock_ctx;
    mqtls__loop_stats_t stats;
    pthread_mutex_t mu; /* guards dirty and waiting */
    loop_entry_t *dirty;
    bool waiting;
};

static int64_t loop_now(const mqtls_loop_t *l)
{
    if (l->clock != NULL) {
        return l->clock(l->clock_ctx);
    }
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the timer heap ------------------------------------------------------------------------ */

static void heap_place(mqtls_loop_t *l, size_t i, loop_entry_t *e)
{
    l->heap[i] = e;
    e->heap_index = i;
}

static void sift_up(mqtls_loop_t *l, size_t i)
{
    loop_entry_t *e = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1u) / 2u;
        if (l->heap[parent]->due_ms <= e->due_ms) {
            break;
        }
        heap_place(l, i, l->heap[parent]);
        i = parent;
    }
    heap_place(l, i, e);
}

static void sift_down(mqtls_loop_t *l, size_t i)
{
    loop_entry_t *e = l->heap[i];
    for (;;) {
        size_t child = 2u * i + 1u;
        if (child >= l->heap_count) {
            break;
        }
        if (child + 1u < l->heap_count && l->heap[child + 1u]->due_ms < l->heap[child]->due_ms) {
            child++;
        }
        if (e->due_ms <= l->heap[child]->due_ms) {
            break;
        }
        heap_place(l, i, l->heap[child]);
        i = child;
    }
    heap_place(l, i, e);
}

static void heap_remove(mqtls_loop_t *l, loop_entry_t *e)
{
    size_t i = e->heap_index;
    if (i == NOT_IN_HEAP) {
        return;
    }
    e->heap_index = NOT_IN_HEAP;
    loop_entry_t *last = l->heap[--l->heap_count];
    if (i == l->heap_count) {
        return;
    }
    heap_place(l, i, last);
    sift_up(l, i);
    sift_down(l, last->heap_index);
}

/* Set the deadline of @p e (INT64_MAX: none). */
static void heap_set(mqtls_loop_t *l, loop_entry_t *e, int64_t due_ms)
{
    if (due_ms == INT64_MAX) {
        heap_remove(l, e);
        return;
    }
    e->due_ms = due_ms;
    if (e->heap_index == NOT_IN_HEAP) {
        heap_place(l, l->heap_count++, e); /* capacity: one slot per entry */
        sift_up(l, e->heap_index);
        return;
    }
    sift_up(l, e->heap_index);
    sift_down(l, e->heap_index);
}

/* --- registrations ------------------------------------------------------------------------ */

#if USE_EPOLL
static uint32_t epoll_events(unsigned want)
{
    return ((want & MQTLS_WANT_READ) != 0 ? (uint32_t)EPOLLIN : 0u) |
           ((want & MQTLS_WANT_WRITE) != 0 ? (uint32_t)EPOLLOUT : 0u);
}

static void reg_add(mqtls_loop_t *l, loop_entry_t *e, int fd, unsigned want)
{
    struct epoll_event ev = {.events = epoll_events(want), .data.ptr = e};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ||
        (errno == EEXIST && epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)) {
        e->fd = fd;
        e->want = want;
    }
}
#endif

/* Bring the registration of @p e in line with what its client waits for now. A transport
 * never reuses an fd number for another file within one connection generation (net.h), and
 * closing an fd removes it from epoll: so when the fd or the generation changed, the old
 * registration is gone already, and is never deleted by number (that number may belong to
 * another client's socket by now). */
static void sync_entry(mqtls_loop_t *l, loop_entry_t *e, int fd, unsigned want, uint32_t gen)
{
    if (fd != e->fd || gen != e->gen) {
        e->fd = -1;
        e->want = 0;
        e->gen = gen;
        if (fd >= 0 && want != 0) {
#if USE_EPOLL
            reg_add(l, e, fd, want);
#else
            e->fd = fd;
            e->want = want;
#endif
        }
        return;
    }
    if (fd < 0 || want == e->want) {
        return;
    }
#if USE_EPOLL
    struct epoll_event ev = {.events = epoll_events(want), .data.ptr = e};
    if (want == 0) {
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
        e->fd = -1;
        e->want = 0;
    } else if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
        e->want = want;
    }
#else
    (void)l;
    e->want = want;
#endif
}

/* Read the client's deadline and what it waits for again: one visit. */
static void refresh(mqtls_loop_t *l, loop_entry_t *e)
{
    int64_t timeout = -1;
    int fd = -1;
    unsigned want = 0;
    uint32_t gen = 0;
    mqtls__client_poll_info(e->c, &timeout, &fd, &want, &gen);
    heap_set(l, e, timeout < 0 ? INT64_MAX : loop_now(l) + timeout);
    sync_entry(l, e, fd, want, gen);
    l->stats.last_visited++;
}

static void mark_ready(mqtls_loop_t *l, loop_entry_t *e)
{
    if (!e->ready) {
        e->ready = true;
        l->ready[l->ready_count++] = e; /* capacity: one slot per entry */
    }
}

/* --- the loop ------------------------------------------------------------------------------ */

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
    l->wakefd = -1;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l);
        return MQTLS_ERR_NOMEM;
    }
#if USE_EPOLL
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->wakefd};
    if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0) {
        mqtls_loop_destroy(l);
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
        (void)mqtls__client_detach_loop(l->entries[i]->c, l); /* clients outlive the loop */
        free(l->entries[i]);
    }
    free(l->entries);
    free(l->heap);
    free(l->ready);
    if (l->epfd >= 0) {
        (void)close(l->epfd);
    }
    if (l->wakefd >= 0) {
        (void)close(l->wakefd);
    }
    (void)pthread_mutex_destroy(&l->mu);
    free(l);
}

static bool reserve(mqtls_loop_t *l)
{
    if (l->count < l->cap) {
        return true;
    }
    size_t cap = l->cap == 0 ? 16u : l->cap * 2u;
    loop_entry_t **arrays[3] = {l->entries, l->heap, l->ready};
    for (size_t i = 0; i < 3; i++) {
        loop_entry_t **p = realloc(arrays[i], cap * sizeof *p);
        if (p == NULL) {
            return false; /* the ones grown already stay grown: harmless */
        }
        arrays[i] = p;
        if (i == 0) {
            l->entries = p;
        } else if (i == 1) {
            l->heap = p;
        } else {
            l->ready = p;
        }
    }
    l->cap = cap;
    return true;
}

mqtls_status_t mqtls_loop_add(mqtls_loop_t *l, mqtls_client_t *c)
{
    if (l == NULL || c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (!reserve(l)) {
        return MQTLS_ERR_NOMEM;
    }
    loop_entry_t *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    e->c = c;
    e->fd = -1;
    e->heap_index = NOT_IN_HEAP;
    if (!mqtls__client_attach_loop(c, l, e)) {
        free(e);
        return MQTLS_ERR_INVALID_ARG; /* already in a loop */
    }
    e->index = l->count;
    l->entries[l->count++] = e;
    mqtls__client_lock(c);
    mqtls__loop_wake(l, e); /* the first iteration reads its timer and socket */
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

mqtls_status_t mqtls_loop_remove(mqtls_loop_t *l, mqtls_client_t *c)
{
    if (l == NULL || c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    loop_entry_t *e = mqtls__client_detach_loop(c, l);
    if (e == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    (void)pthread_mutex_lock(&l->mu);
    for (loop_entry_t **p = &l->dirty; *p != NULL; p = &(*p)->dirty_next) {
        if (*p == e) {
            *p = e->dirty_next;
            break;
        }
    }
    (void)pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; e->ready && i < l->ready_count; i++) {
        if (l->ready[i] == e) {
            l->ready[i] = NULL; /* removed from inside an event callback of this iteration */
        }
    }
    heap_remove(l, e);
#if USE_EPOLL
    int64_t timeout = -1;
    int fd = -1;
    unsigned want = 0;
    uint32_t gen = 0;
    mqtls__client_poll_info(c, &timeout, &fd, &want, &gen);
    if (e->fd >= 0 && e->fd == fd && e->gen == gen) {
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL); /* still open: ours to drop */
    }
#endif
    l->entries[e->index] = l->entries[--l->count];
    l->entries[e->index]->index = e->index;
    free(e);
    return MQTLS_OK;
}

void mqtls__loop_wake(mqtls_loop_t *l, void *entry)
{
    loop_entry_t *e = entry;
    (void)pthread_mutex_lock(&l->mu);
    if (!e->dirty) {
        e->dirty = true;
        e->dirty_next = l->dirty;
        l->dirty = e;
    }
    bool waiting = l->waiting;
    (void)pthread_mutex_unlock(&l->mu);
    if (waiting && l->wakefd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(l->wakefd, &one, sizeof one); /* full: a wakeup is pending anyway */
        (void)r;
    }
}

/* Refresh every entry marked dirty since the last iteration. */
static void refresh_dirty(mqtls_loop_t *l)
{
    (void)pthread_mutex_lock(&l->mu);
    loop_entry_t *e = l->dirty;
    l->dirty = NULL;
    for (loop_entry_t *d = e; d != NULL; d = d->dirty_next) {
        d->dirty = false;
    }
    (void)pthread_mutex_unlock(&l->mu);
    while (e != NULL) {
        loop_entry_t *next = e->dirty_next; /* read before refresh: the list is ours now */
        refresh(l, e);
        e = next;
    }
}

/* Milliseconds to wait: the caller's bound, the earliest deadline, 0 when work is pending. */
static int wait_ms(mqtls_loop_t *l, int timeout_ms)
{
    int64_t t = timeout_ms;
    if (l->heap_count > 0) {
        int64_t d = l->heap[0]->due_ms - loop_now(l);
        d = d > 0 ? d : 0;
        if (t < 0 || d < t) {
            t = d;
        }
    }
    (void)pthread_mutex_lock(&l->mu);
    if (l->dirty != NULL) {
        t = 0; /* marked while we refreshed: look at it now */
    }
    l->waiting = t != 0;
    (void)pthread_mutex_unlock(&l->mu);
    return (int)t;
}

static void stop_waiting(mqtls_loop_t *l)
{
    (void)pthread_mutex_lock(&l->mu);
    l->waiting = false;
    (void)pthread_mutex_unlock(&l->mu);
}

/* Wait for I/O (at most @p t ms) and mark the clients that have some ready. */
static mqtls_status_t wait_io(mqtls_loop_t *l, int t)
{
#if USE_EPOLL
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, (int)(sizeof evs / sizeof evs[0]), t);
    stop_waiting(l);
    if (n < 0 && errno != EINTR) {
        return MQTLS_ERR_OS;
    }
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == &l->wakefd) {
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof v);
            (void)r;
            continue;
        }
        mark_ready(l, evs[i].data.ptr);
    }
#else
    /* poll(): O(clients) per wait; only the epoll path has the O(ready) bound. */
    struct pollfd *pf = calloc(l->count + 1u, sizeof *pf);
    if (pf == NULL) {
        stop_waiting(l);
        return MQTLS_ERR_NOMEM;
    }
    for (size_t i = 0; i < l->count; i++) {
        const loop_entry_t *e = l->entries[i];
        pf[i].fd = e->want != 0 ? e->fd : -1;
        pf[i].events = (short)(((e->want & MQTLS_WANT_READ) != 0 ? POLLIN : 0) |
                               ((e->want & MQTLS_WANT_WRITE) != 0 ? POLLOUT : 0));
    }
    int n = poll(pf, (nfds_t)l->count, t);
    stop_waiting(l);
    if (n < 0 && errno != EINTR) {
        free(pf);
        return MQTLS_ERR_OS;
    }
    for (size_t i = 0; n > 0 && i < l->count; i++) {
        if (pf[i].revents != 0) {
            mark_ready(l, l->entries[i]);
        }
    }
    free(pf);
#endif
    return MQTLS_OK;
}

mqtls_status_t mqtls_loop_run_once(mqtls_loop_t *l, int timeout_ms)
{
    if (l == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    l->stats.iterations++;
    l->stats.last_visited = 0;
    l->stats.last_worked = 0;
    refresh_dirty(l);
    mqtls_status_t st = wait_io(l, wait_ms(l, timeout_ms));
    if (st != MQTLS_OK) {
        return st;
    }
    int64_t now = loop_now(l);
    while (l->heap_count > 0 && l->heap[0]->due_ms <= now) {
        loop_entry_t *e = l->heap[0];
        heap_remove(l, e);
        mark_ready(l, e);
    }
    /* Step the ready clients. An event callback may remove a client (its slot becomes NULL)
     * or wake one (the dirty list, next iteration); the ready array does not move. */
    for (size_t i = 0; i < l->ready_count; i++) {
        loop_entry_t *e = l->ready[i];
        if (e == NULL) {
            continue;
        }
        mqtls__client_work(e->c);
        l->stats.last_worked++;
        if (l->ready[i] == NULL) {
            continue; /* its own callback removed it: e is gone */
        }
        e->ready = false;
        refresh(l, e);
    }
    l->ready_count = 0;
    l->stats.visited += l->stats.last_visited;
    l->stats.worked += l->stats.last_worked;
    return MQTLS_OK;
}

void mqtls__loop_stats(const mqtls_loop_t *l, mqtls__loop_stats_t *out)
{
    *out = l->stats;
}

void mqtls__loop_set_clock(mqtls_loop_t *l, mqtls__clock_fn fn, void *ctx)
{
    l->clock = fn;
    l->clock_ctx = ctx;
}
