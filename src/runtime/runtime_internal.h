/* Internal hooks of src/runtime for tests: inject a transport, a clock and randomness; read
 * work counters. */
#ifndef MQTLS_RUNTIME_INTERNAL_H
#define MQTLS_RUNTIME_INTERNAL_H

#include <stdint.h>

#include "mqtls/client.h"
#include "net/transport.h"

/** Makes the client's transport (called once, at the first connect; the transport is then
 *  connected and closed again at each attempt). @p err is where it must record failures. */
typedef mqtls_status_t (*mqtls__transport_factory_fn)(void *ctx, mqtls_error_t *err,
                                                      mqtls_transport_t **out);
typedef int64_t (*mqtls__clock_fn)(void *ctx);

/** Use @p fn instead of src/net (before mqtls_client_connect()). */
void mqtls__client_set_transport_factory(mqtls_client_t *c, mqtls__transport_factory_fn fn,
                                         void *ctx);
/** Use @p fn as the monotonic clock (milliseconds). */
void mqtls__client_set_clock(mqtls_client_t *c, mqtls__clock_fn fn, void *ctx);
/** Seed the client's random generator (jitter, generated client id). */
void mqtls__client_seed(mqtls_client_t *c, uint64_t seed);
/** Attempts since the last successful CONNACK (backoff exponent). */
uint32_t mqtls__client_attempts(const mqtls_client_t *c);

/** Incremented at each connection attempt: a new socket even if the fd number is reused. */
uint32_t mqtls__client_conn_gen(const mqtls_client_t *c);

/** Do whatever is due now, without waiting for I/O (the loop already did). */
void mqtls__client_work(mqtls_client_t *c);

/** What the diagnosis cache of a client (shared by every client of its TLS context) did. */
typedef struct mqtls__diag_stats {
    uint64_t runs;       /**< diagnoses computed (mqtls_diag_run() calls) */
    uint64_t hits;       /**< failures answered from the cache */
    uint64_t file_reads; /**< credential files read */
} mqtls__diag_stats_t;

void mqtls__client_diag_stats(const mqtls_client_t *c, mqtls__diag_stats_t *out);

/** Work counters of a mqtls_loop_t: what one iteration cost, in clients looked at. */
typedef struct mqtls__loop_stats {
    uint64_t iterations;
    size_t last_visited; /**< clients whose timer/registration was read in the last iteration */
    size_t last_worked;  /**< clients stepped (ready or due) in the last iteration */
    uint64_t visited;    /**< totals over all iterations */
    uint64_t worked;
} mqtls__loop_stats_t;

void mqtls__loop_stats(const mqtls_loop_t *l, mqtls__loop_stats_t *out);
/** Use @p fn as the loop's monotonic clock (milliseconds): set it to the clients' clock. */
void mqtls__loop_set_clock(mqtls_loop_t *l, mqtls__clock_fn fn, void *ctx);

#endif
