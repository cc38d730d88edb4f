/* Internal to src/runtime: the client object and what its files share.
 *   client.c      configuration, create, destroy, small helpers (clock, lock, log, events)
 *   conn.c        the connection state machine (one transition function) and its management
 *   pump.c        the I/O pump: writing, reading, timers; what the client waits for
 *   api.c         the public calls (connect, publish, subscribe, ... accessors, test hooks)
 *   thread.c      the threaded runner, mqtls_client_step() and wakeups
 *   diag_cache.c  diagnosis of failed attempts, computed once per failure signature
 *   loop.c        many clients on one thread (epoll + a timer heap)
 *   client_persist.c  persistence: the store (persist.c) opened, restored, fed, synced
 *
 * Locking: every field of struct mqtls_client is guarded by c->mu (recursive: the event
 * callback may call publish) except those marked otherwise. c->mu is the outer lock; while it
 * is held the code may take one of three leaf locks, each held briefly and never together:
 * a loop's dirty-list mutex (loop.c), a diagnosis cache mutex (diag_cache.c), the resolver
 * pool mutex (src/net/resolve.c). No lock is held while waiting for another thread: the loop
 * takes c->mu with no lock of its own held, and resolver threads take only their pool mutex,
 * never across getaddrinfo(). */
#ifndef MQTLS_RUNTIME_CLIENT_INTERNAL_H
#define MQTLS_RUNTIME_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "client/session.h"
#include "common/tls_facts.h"
#include "mqtls/client.h"
#include "net/net.h"
#include "runtime/persist.h"
#include "runtime/runtime_internal.h"

/* Longest broker-assigned client id kept (and sent again at a reconnect); mosquitto's are 41
 * bytes, EMQX's and HiveMQ's shorter. */
#define MQTLS__CLIENT_ID_MAX 256u

typedef struct mqtls__diag_cache mqtls__diag_cache_t;
typedef struct mqtls__diag_entry mqtls__diag_entry_t;

/* A TLS context shared by clients (net.h: build once, share between thousands), and the cache
 * of the diagnoses of the failures seen through it. */
typedef struct mqtls__shared_tls {
    mqtls__tls_ctx_t *ctx;
    mqtls__diag_cache_t *diag;
    atomic_uint refs;
} mqtls__shared_tls_t;

/* Inputs of the connection state machine (mqtls_client_state_t); see conn.c for the table. */
typedef enum mqtls__cev {
    MQTLS__CEV_CONNECT = 0,  /* mqtls_client_connect() */
    MQTLS__CEV_RETRY,        /* the backoff delay is over */
    MQTLS__CEV_TRANSPORT_UP, /* TCP/TLS/WebSocket connected: CONNECT queued */
    MQTLS__CEV_CONNACK,      /* CONNACK accepted */
    MQTLS__CEV_DISCONNECT,   /* mqtls_client_disconnect(): DISCONNECT queued */
    MQTLS__CEV_LOST_RETRY,   /* the connection ended in failure; a reconnect follows */
    MQTLS__CEV_ENDED,        /* the connection ended (or was given up); no reconnect */
    MQTLS__CEV_COUNT
} mqtls__cev_t;

struct mqtls_client {
    pthread_mutex_t mu;     /* recursive: the event callback may call publish */
    mqtls_client_cfg_t cfg; /* full-size copy; cfg.tls points to tls_cfg */
    mqtls_tls_cfg_t tls_cfg;
    char *strings; /* owned copies of the cfg strings */
    char client_id[MQTLS__CLIENT_ID_MAX + 1u]; /* generated, or assigned by the broker */
    mqtls_uri_t uri;      /* the broker in use: brokers[broker_index], parsed */
    const char **brokers; /* cfg.uri (if any) then cfg.uris: copies in strings */
    size_t broker_count;  /* >= 1 */
    size_t broker_index;
    uint32_t qos2_logged; /* QoS 2 downgrades already logged (the first one is) */
    mqtls__session_t s;
    void *arena;
    uint8_t *rx;
    size_t rx_cap, rx_len;
    mqtls_transport_t *t;
    mqtls__shared_tls_t *tls; /* parsed credentials; shared via cfg.tls_share_with */
    mqtls_tls_facts_t facts;
    bool facts_used;
    mqtls__diag_cache_t *diag;       /* tls->diag, or the client's own (no TLS); lazily */
    mqtls__diag_entry_t *diag_entry; /* the last diagnosis, held until the next one */
    mqtls_error_t conn_err;          /* transports record failures here */
    mqtls_error_t last_err;
    mqtls_client_state_t state; /* changed only by mqtls__client_transition() */
    bool want_connection;
    bool connect_started; /* CONNECTING: the transport's connect() was called this attempt */
    bool connack_seen;    /* this connection was accepted: its end is a loss, not a refusal */
    bool qos2_warned;     /* the "QoS 2 without a lasting session" warning was logged */
    int64_t deadline_ms;  /* transport connect deadline, or end of backoff */
    bool close_wait;      /* DISCONNECT queued by the session, bytes still inside the transport */
    int64_t close_deadline_ms;
    uint32_t attempt;
    uint32_t conn_gen;
    uint64_t rng;
    mqtls__transport_factory_fn factory;
    void *factory_ctx;
    mqtls__clock_fn clock;
    void *clock_ctx;
    /* threaded mode */
    pthread_t thread;
    atomic_bool running; /* read by any thread without the lock; changed under it */
    atomic_bool stop;
    int wake[2]; /* created by the first start() under the lock, closed at destroy */
    atomic_bool wake_pending; /* a byte is in wake[] or the loop is about to look: no write */
    /* driven by a mqtls_loop_t (set by mqtls_loop_add() / _remove()) */
    mqtls_loop_t *loop;
    void *loop_entry;
    /* cfg.proxy, parsed at create (holds the proxy password: wiped at destroy) */
    mqtls__proxy_t proxy;
    bool has_proxy;
    /* persistence (cfg.persistence_dir): the store, and what it held at open until the
     * messages in doubt are reported */
    mqtls__persist_t *persist;
    mqtls__persist_restored_t restored;
    bool doubt_pending;
};

/* --- client.c ------------------------------------------------------------------------------ */

#define LOG(c, lvl, ...)                                                                           \
    do {                                                                                           \
        if ((c)->cfg.log_fn != NULL && (lvl) <= (c)->cfg.log_level) {                              \
            mqtls__client_log((c), (lvl), __VA_ARGS__);                                            \
        }                                                                                          \
    } while (0)

/** Format and pass one line to the user's log function (use LOG(): no formatting when off). */
void mqtls__client_log(mqtls_client_t *c, mqtls_log_level_t lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** The client's monotonic clock (ms): the test hook's, or CLOCK_MONOTONIC. */
int64_t mqtls__client_now(const mqtls_client_t *c);
/** xorshift64*: jitter and client ids need spread, not secrecy. */
uint32_t mqtls__client_rand32(mqtls_client_t *c);
void mqtls__client_lock(const mqtls_client_t *c);
void mqtls__client_unlock(const mqtls_client_t *c);
/** Deliver @p ev to the user's callback (with c->mu held). */
void mqtls__client_emit(mqtls_client_t *c, const mqtls_event_t *ev);
/** Does the broker forget the session when a connection ends (clean start, or MQTT 5 with a
 *  session expiry of 0)? Then QoS 2 is exactly once within one connection only. */
bool mqtls__client_session_is_transient(const mqtls_client_t *c);

static inline mqtls_bytes_t mqtls__bytes_of(const char *s)
{
    mqtls_bytes_t b = {(const uint8_t *)s, s != NULL ? strlen(s) : 0};
    return b;
}

/* --- conn.c -------------------------------------------------------------------------------- */

/** The one transition function of mqtls_client_state_t: every state change goes through here.
 *  @return MQTLS_OK; MQTLS_ERR_STATE (@p ev is illegal in the current state: nothing changed). */
mqtls_status_t mqtls__client_transition(mqtls_client_t *c, mqtls__cev_t ev);
/** The session's event sink: CONNACK moves the client to CONNECTED, then the user hears it. */
void mqtls__client_on_session_event(void *ctx, const mqtls_event_t *ev);
/** A new attempt begins (the state is CONNECTING): fresh error, new connection generation. */
void mqtls__client_start_attempt(mqtls_client_t *c);
/** Advance BACKOFF and CONNECTING. @return true when the state is one where the connection
 *  carries MQTT (MQTT_CONNECTING, CONNECTED, DISCONNECTING): pump it. */
bool mqtls__client_advance_connect(mqtls_client_t *c, int64_t now);
/** The connection ended (failure, or requested when why->status is MQTLS_OK): report it, then
 *  reconnect or go idle. */
void mqtls__client_connection_ended(mqtls_client_t *c, const mqtls_error_t *why, int64_t now);
/** The transport failed with @p st (details in c->conn_err when they match). */
void mqtls__client_fail_transport(mqtls_client_t *c, mqtls_status_t st, int64_t now);
/** The session failed (details in c->s.err). */
void mqtls__client_fail_session(mqtls_client_t *c, int64_t now);

/* --- pump.c -------------------------------------------------------------------------------- */

/** Write what the session has, coalesced, without ending the connection on an error (the
 *  driver's next step reports it): for calls from the application (uncork). c->mu held. */
void mqtls__client_write_now(mqtls_client_t *c, int64_t now);
/** Free the buffers the session no longer needs (outbox rings, id bitmaps). c->mu held. */
void mqtls__client_reclaim_outbox(mqtls_client_t *c);
/** Give the session what it wants besides outbox growth: id bitmaps
 *  (mqtls__session_ids_want()), a bigger control buffer (_ctrl_want()), a bigger subscription
 *  store (_subs_want()); what it handed back is freed first. c->mu held, never between
 *  out_iov() and out_consumed(). @return MQTLS_OK (@p given buffers, may be 0);
 *  MQTLS_ERR_NOMEM. */
mqtls_status_t mqtls__client_give_wanted(mqtls_client_t *c, size_t *given);
/** Does the session want memory mqtls__client_give_wanted() gives? */
bool mqtls__client_wants_memory(const mqtls_client_t *c);
/** One round of work: whatever is due in the current state. With c->mu held. */
void mqtls__client_do_work(mqtls_client_t *c, int64_t now);
/** mqtls_client_timeout_ms(), mqtls_client_fd(), mqtls_client_want() with c->mu held. */
int64_t mqtls__client_timeout_locked(const mqtls_client_t *c, int64_t now);
int mqtls__client_fd_locked(const mqtls_client_t *c);
unsigned mqtls__client_want_locked(const mqtls_client_t *c);

/** Everything a loop needs to know about @p c, under one lock: mqtls_client_timeout_ms(),
 *  mqtls_client_fd(), mqtls_client_want() and the connection generation. */
void mqtls__client_poll_info(const mqtls_client_t *c, int64_t *timeout_ms, int *fd, unsigned *want,
                             uint32_t *gen);

/* --- api.c --------------------------------------------------------------------------------- */

/** Let loop @p l drive @p c through @p entry. @return false: already in a loop. */
bool mqtls__client_attach_loop(mqtls_client_t *c, mqtls_loop_t *l, void *entry);
/** @p c leaves loop @p l. @return its entry, or NULL when it was not in @p l. */
void *mqtls__client_detach_loop(mqtls_client_t *c, const mqtls_loop_t *l);

/** The session refused a publish, a subscribe, a re-authentication or a restore with
 *  MQTLS_ERR_OUTBOX_FULL: give it the id bitmaps, the bigger control buffer or subscription
 *  store, and the bigger outbox buffer it asked for.
 *  @return MQTLS_OK (try again); MQTLS_ERR_OUTBOX_FULL (at the limits); MQTLS_ERR_NOMEM. */
mqtls_status_t mqtls__client_grow_session(mqtls_client_t *c);

/* --- client_persist.c ---------------------------------------------------------------------- */

/** At create, before the client id is chosen: check the persistence settings, open the store;
 *  a stored client id becomes the configured one when none is. MQTLS_OK without persistence. */
mqtls_status_t mqtls__client_persist_open(mqtls_client_t *c, mqtls_error_t *err);
/** Set the session's persist hook (nothing without persistence). */
void mqtls__client_persist_hook(const mqtls_client_t *c, mqtls__session_cfg_t *sc);
/** After the session is set up: bind the store to the client id, give the session its outbox
 *  and inbound QoS 2 ids back. */
mqtls_status_t mqtls__client_persist_restore(mqtls_client_t *c, mqtls_error_t *err);
/** From the loop, with c->mu held: report messages in doubt (once), run a due batch sync. */
void mqtls__client_persist_work(mqtls_client_t *c, int64_t now);
/** When persistence needs the loop next (INT64_MAX: never). */
int64_t mqtls__client_persist_deadline(const mqtls_client_t *c, int64_t now);
/** Sync and close the store (at destroy). */
void mqtls__client_persist_close(mqtls_client_t *c);

/* --- thread.c ------------------------------------------------------------------------------ */

/** Something changed outside the loop (a call from the application): let whoever drives the
 *  client look at it again (the loop thread's pipe, or the mqtls_loop_t). With c->mu held. */
void mqtls__client_wake(mqtls_client_t *c);
/** Close the wakeup pipe of the threaded runner (at destroy, the thread stopped). */
void mqtls__client_close_wake(mqtls_client_t *c);

/* --- diag_cache.c -------------------------------------------------------------------------- */

/** A cache of diagnoses. @return MQTLS_OK; MQTLS_ERR_NOMEM. */
mqtls_status_t mqtls__diag_cache_create(mqtls__diag_cache_t **out);
/** Free @p cache (NULL is fine): no client may hold one of its entries any more. */
void mqtls__diag_cache_destroy(mqtls__diag_cache_t *cache);
/** Findings for the failed attempt @p why of @p c (c->mu held): from the cache when the same
 *  failure was diagnosed already through the same TLS context, else computed (once) and kept.
 *  @return findings valid until the client's next diagnosis or destroy; NULL when diagnosis is
 *  off or failed. */
const mqtls_findings_t *mqtls__client_diagnose(mqtls_client_t *c, const mqtls_error_t *why);
/** The findings the client holds (the last diagnosis), or NULL. */
const mqtls_findings_t *mqtls__client_findings(const mqtls_client_t *c);
/** Let go of the diagnosis the client holds (at destroy). */
void mqtls__client_diag_release(mqtls_client_t *c);

/* --- loop.c -------------------------------------------------------------------------------- */

/** Mark the loop entry of a client dirty: its timer or what it waits for may have changed.
 *  Any thread, with the client's c->mu held; wakes the loop if it is waiting. */
void mqtls__loop_wake(mqtls_loop_t *l, void *entry);

#endif /* MQTLS_RUNTIME_CLIENT_INTERNAL_H */
