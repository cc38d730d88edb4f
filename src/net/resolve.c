/* Name resolution off the caller's thread (net.h, "Name resolution").
 *
 * getaddrinfo() blocks (DNS, /etc/hosts, NSS modules) and has no timeout of its own; on a loop
 * that drives 10,000 clients one slow answer would stall them all. So names are resolved by a
 * small pool of worker threads (at most RESOLVE_THREADS, started on demand, each leaving after
 * RESOLVE_IDLE_S without work). Each request has its own eventfd (a pipe where there is none):
 * the worker writes it when the answer is in, so the caller's poll/epoll wakes up; the caller
 * then takes the answer without blocking.
 *
 * Ownership and cancellation: a request belongs to its transport until the transport lets go
 * of it (mqtls__resolve_free()). Letting go of a request that a worker is running does not
 * wait: the request is marked cancelled and the worker frees it, and its answer, when
 * getaddrinfo() returns. The notification fd is closed by whoever lets go, under the pool
 * mutex, so a worker never writes to a closed (or reused) fd number.
 *
 * Lock discipline: one mutex (pool.mu) guards the queue, the counters and every request's
 * state/cancelled/answer fields; it is a leaf (nothing else is locked while holding it) and
 * it is never held across getaddrinfo(). The transport's other fields belong to the thread
 * that uses the transport. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/eventfd.h>
#define USE_EVENTFD 1
#else
#define USE_EVENTFD 0
#endif

#define RESOLVE_THREADS 4u
#define RESOLVE_IDLE_S 5

typedef enum { R_QUEUED, R_RUNNING, R_DONE } resolve_state_t;

struct mqtls__resolve {
    mqtls__resolve_t *next; /* queue */
    char *host;
    char port[8];
    int fd[2]; /* [0] polled by the caller, [1] written by the worker (the same eventfd) */
    resolve_state_t state;
    bool cancelled; /* let go of while running: the worker frees it */
    int rc;         /* getaddrinfo() result */
    int sys_errno;
    struct addrinfo *ai;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mqtls__resolve_t *head, *tail;
    unsigned threads, idle;
    size_t busy; /* requests queued or running, cancelled ones included */
    mqtls__getaddrinfo_fn hook;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void close_notify(mqtls__resolve_t *r)
{
    if (r->fd[0] >= 0) {
        (void)close(r->fd[0]);
    }
    if (r->fd[1] >= 0 && r->fd[1] != r->fd[0]) {
        (void)close(r->fd[1]);
    }
    r->fd[0] = -1;
    r->fd[1] = -1;
}

static void request_free(mqtls__resolve_t *r)
{
    close_notify(r);
    if (r->ai != NULL) {
        freeaddrinfo(r->ai);
    }
    free(r->host);
    free(r);
}

static void notify(mqtls__resolve_t *r)
{
    if (r->fd[1] < 0) {
        return;
    }
#if USE_EVENTFD
    uint64_t one = 1;
    ssize_t n = write(r->fd[1], &one, sizeof one);
#else
    uint8_t one = 1;
    ssize_t n = write(r->fd[1], &one, sizeof one);
#endif
    (void)n; /* non-blocking; a full pipe means it is readable already */
}

static mqtls__resolve_t *queue_pop(void)
{
    mqtls__resolve_t *r = pool.head;
    if (r != NULL) {
        pool.head = r->next;
        if (pool.head == NULL) {
            pool.tail = NULL;
        }
        r->next = NULL;
    }
    return r;
}

static void *worker(void *arg)
{
    (void)arg;
    (void)pthread_mutex_lock(&pool.mu);
    for (;;) {
        mqtls__resolve_t *r = queue_pop();
        if (r == NULL) {
            struct timespec until;
            (void)clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += RESOLVE_IDLE_S;
            pool.idle++;
            int rc = pthread_cond_timedwait(&pool.cv, &pool.mu, &until);
            pool.idle--;
            if (rc != 0 && pool.head == NULL) {
                break; /* idle long enough: leave; a new request starts a new thread */
            }
            continue;
        }
        r->state = R_RUNNING;
        mqtls__getaddrinfo_fn resolve = pool.hook != NULL ? pool.hook : getaddrinfo;
        (void)pthread_mutex_unlock(&pool.mu);

        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        struct addrinfo *ai = NULL;
        errno = 0;
        int rc = resolve(r->host, r->port, &hints, &ai);
        int e = errno;

        (void)pthread_mutex_lock(&pool.mu);
        pool.busy--;
        r->rc = rc;
        r->sys_errno = e;
        r->ai = rc == 0 ? ai : NULL;
        r->state = R_DONE;
        if (r->cancelled) {
            request_free(r);
        } else {
            notify(r);
        }
    }
    pool.threads--;
    (void)pthread_mutex_unlock(&pool.mu);
    return NULL;
}

static bool open_notify(mqtls__resolve_t *r)
{
#if USE_EVENTFD
    r->fd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->fd[1] = r->fd[0];
    return r->fd[0] >= 0;
#else
    if (pipe(r->fd) != 0) {
        r->fd[0] = -1;
        r->fd[1] = -1;
        return false;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(r->fd[i], F_SETFL, fcntl(r->fd[i], F_GETFL) | O_NONBLOCK);
        (void)fcntl(r->fd[i], F_SETFD, FD_CLOEXEC);
    }
    return true;
#endif
}

mqtls_status_t mqtls__resolve_start(const char *host, uint16_t port, mqtls__resolve_t **out)
{
    *out = NULL;
    mqtls__resolve_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    r->fd[0] = -1;
    r->fd[1] = -1;
    size_t len = strlen(host) + 1u;
    r->host = malloc(len);
    if (r->host == NULL || !open_notify(r)) {
        mqtls_status_t st = r->host == NULL ? MQTLS_ERR_NOMEM : MQTLS_ERR_OS;
        request_free(r);
        return st;
    }
    memcpy(r->host, host, len);
    (void)snprintf(r->port, sizeof r->port, "%u", (unsigned)port);
    r->state = R_QUEUED;

    mqtls_status_t st = MQTLS_OK;
    (void)pthread_mutex_lock(&pool.mu);
    if (pool.tail != NULL) {
        pool.tail->next = r;
    } else {
        pool.head = r;
    }
    pool.tail = r;
    pool.busy++;
    if (pool.idle == 0 && pool.threads < RESOLVE_THREADS) {
        pthread_t th;
        pthread_attr_t attr;
        (void)pthread_attr_init(&attr);
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, worker, NULL) == 0) {
            pool.threads++;
        } else if (pool.threads == 0) {
            (void)queue_pop(); /* nobody would ever answer it: it is the only one queued */
            pool.busy--;
            st = MQTLS_ERR_THREAD;
        }
        (void)pthread_attr_destroy(&attr);
    }
    (void)pthread_cond_signal(&pool.cv);
    (void)pthread_mutex_unlock(&pool.mu);
    if (st != MQTLS_OK) {
        request_free(r);
        return st;
    }
    *out = r;
    return MQTLS_OK;
}

int mqtls__resolve_fd(const mqtls__resolve_t *r)
{
    return r->fd[0]; /* set at start, changed only by mqtls__resolve_free() */
}

bool mqtls__resolve_take(mqtls__resolve_t *r, int *rc, int *sys_errno, struct addrinfo **ai)
{
    (void)pthread_mutex_lock(&pool.mu);
    bool done = r->state == R_DONE;
    if (done) {
        *rc = r->rc;
        *sys_errno = r->sys_errno;
        *ai = r->ai;
        r->ai = NULL; /* the caller frees it with freeaddrinfo() */
    }
    (void)pthread_mutex_unlock(&pool.mu);
    return done;
}

void mqtls__resolve_free(mqtls__resolve_t *r)
{
    if (r == NULL) {
        return;
    }
    (void)pthread_mutex_lock(&pool.mu);
    close_notify(r);
    if (r->state == R_RUNNING) {
        r->cancelled = true; /* the worker frees it when getaddrinfo() returns */
        r = NULL;
    } else if (r->state == R_QUEUED) {
        for (mqtls__resolve_t **p = &pool.head; *p != NULL; p = &(*p)->next) {
            if (*p == r) {
                *p = r->next;
                break;
            }
        }
        pool.tail = NULL;
        for (mqtls__resolve_t *q = pool.head; q != NULL; q = q->next) {
            pool.tail = q;
        }
        pool.busy--;
    }
    (void)pthread_mutex_unlock(&pool.mu);
    if (r != NULL) {
        request_free(r);
    }
}

void mqtls__resolve_set_hook(mqtls__getaddrinfo_fn fn)
{
    (void)pthread_mutex_lock(&pool.mu);
    pool.hook = fn;
    (void)pthread_mutex_unlock(&pool.mu);
}

size_t mqtls__resolve_busy(void)
{
    (void)pthread_mutex_lock(&pool.mu);
    size_t n = pool.busy;
    (void)pthread_mutex_unlock(&pool.mu);
    return n;
}
