/* Running a client: on its own thread (mqtls_client_start(), as esp-mqtt does), or one step at
 * a time from the caller's loop (mqtls_client_step()); and waking whoever runs it when a call
 * from another context changed what it must do. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "runtime/client_internal.h"

void mqtls__client_wake(mqtls_client_t *c)
{
    /* One byte per wakeup, not per call: a publisher queueing thousands of messages while
     * the loop thread is busy costs one write(), and the loop then writes them in one go. */
    if (c->running && c->wake[1] >= 0 && !atomic_exchange(&c->wake_pending, true)) {
        uint8_t b = 1;
        ssize_t r = write(c->wake[1], &b, 1); /* full pipe: a wakeup is already pending */
        (void)r;
    }
    if (c->loop != NULL) {
        mqtls__loop_wake(c->loop, c->loop_entry);
    }
}

static mqtls_status_t wait_io(mqtls_client_t *c, int timeout_ms)
{
    struct pollfd pf[2];
    nfds_t n = 0;
    mqtls__client_lock(c);
    int fd = mqtls__client_fd_locked(c);
    unsigned w = mqtls__client_want_locked(c);
    int64_t t = mqtls__client_timeout_locked(c, mqtls__client_now(c));
    mqtls__client_unlock(c);
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms)) {
        timeout_ms = (int)t;
    }
    if (fd >= 0 && w != 0) {
        pf[n].fd = fd;
        pf[n].events = (short)(((w & MQTLS_WANT_READ) != 0 ? POLLIN : 0) |
                               ((w & MQTLS_WANT_WRITE) != 0 ? POLLOUT : 0));
        pf[n].revents = 0;
        n++;
    }
    if (c->running && c->wake[0] >= 0) {
        pf[n].fd = c->wake[0];
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        n++;
    }
    if (n == 0 && timeout_ms <= 0) {
        return MQTLS_OK; /* nothing to wait for: never block forever on nothing */
    }
    int r = poll(n > 0 ? pf : NULL, n, timeout_ms);
    if (r < 0 && errno != EINTR) {
        return MQTLS_ERR_OS;
    }
    if (r > 0 && c->running && (pf[n - 1u].revents & POLLIN) != 0) {
        uint8_t buf[64];
        while (read(c->wake[0], buf, sizeof buf) > 0) {
        }
        /* Cleared after the pipe is drained and before the work that follows (it takes c->mu
         * after this): a wakeup from now on writes a new byte; one before is seen by that
         * work. Cleared first, a byte written between the clear and the drain would be eaten
         * with the flag left set, and the next wakeup would write nothing: a stall until the
         * poll timeout. */
        atomic_store(&c->wake_pending, false);
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_step(mqtls_client_t *c, int timeout_ms)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (c->running) {
        return MQTLS_ERR_STATE;
    }
    mqtls_status_t st = wait_io(c, timeout_ms);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls__client_lock(c);
    mqtls__client_do_work(c, mqtls__client_now(c));
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

static void *loop_main(void *arg)
{
    mqtls_client_t *c = arg;
    while (!c->stop) {
        if (wait_io(c, 1000) != MQTLS_OK) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            (void)nanosleep(&ts, NULL);
        }
        mqtls__client_lock(c);
        if (!c->stop) {
            mqtls__client_do_work(c, mqtls__client_now(c));
        }
        mqtls__client_unlock(c);
    }
    return NULL;
}

/* With c->mu held: every field a publish() on another thread reads (running, wake[]) changes
 * only under the lock. */
static mqtls_status_t start_locked(mqtls_client_t *c)
{
    if (c->running) {
        return MQTLS_ERR_STATE;
    }
    if (c->wake[0] < 0) {
        /* Kept until destroy: stop() closing it while publish() wrote to it was a data race
         * on the descriptor, and a SIGPIPE when the read end went first (issue 10). */
        if (pipe(c->wake) != 0) {
            return MQTLS_ERR_OS;
        }
        for (int i = 0; i < 2; i++) {
            int fl = fcntl(c->wake[i], F_GETFL);
            (void)fcntl(c->wake[i], F_SETFL, fl | O_NONBLOCK);
            (void)fcntl(c->wake[i], F_SETFD, FD_CLOEXEC);
        }
    }
    c->stop = false;
    /* The pipe lives until destroy: a byte from before a stop() may still be in it (a
     * spurious wakeup at worst). Left set, the flag could stop every wakeup of the new
     * thread instead. */
    atomic_store(&c->wake_pending, false);
    c->running = true;
    /* The new thread's first step takes c->mu: it starts once we return. */
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
        c->running = false;
        return MQTLS_ERR_THREAD;
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_client_start(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    mqtls_status_t st = start_locked(c);
    mqtls__client_unlock(c);
    return st;
}

mqtls_status_t mqtls_client_stop(mqtls_client_t *c)
{
    if (c == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__client_lock(c);
    if (!c->running || c->stop) {
        mqtls__client_unlock(c); /* not started, or another thread is stopping it */
        return MQTLS_ERR_STATE;
    }
    c->stop = true;
    mqtls__client_wake(c);
    pthread_t th = c->thread;
    mqtls__client_unlock(c);
    (void)pthread_join(th, NULL); /* never with the lock: the thread's last step takes it */
    mqtls__client_lock(c);
    c->running = false;
    mqtls__client_unlock(c);
    return MQTLS_OK;
}

void mqtls__client_close_wake(mqtls_client_t *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->wake[i] >= 0) {
            (void)close(c->wake[i]);
            c->wake[i] = -1;
        }
    }
}
