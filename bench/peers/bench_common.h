/** @file bench_common.h
 *  @brief Shared command line, clock and statistics for the side-by-side client benchmarks
 *         (bench_client.c for mqtls, bench_mosquitto.c, bench_paho.c, tls_floor.c).
 *
 *  Every program takes the same options and prints one machine-readable line per result:
 *  `RESULT prog=<p> mode=<m> key=value ...`, which bench/run.sh collects into its table.
 *  Benchmarks are not tests: nothing here fails on a timing. */
#ifndef MQTLS_BENCH_COMMON_H
#define MQTLS_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bench_mode {
    BENCH_MODE_PUBLISH, /**< connect, publish N QoS 0, disconnect cleanly (callgrind) */
    BENCH_MODE_E2E,     /**< subscriber + publisher, N messages, window @c inflight */
    BENCH_MODE_CONNECT, /**< @c count sequential connects to CONNACK + disconnect */
    BENCH_MODE_IDLE     /**< connect, stay connected 1 s, exit (dhat) */
} bench_mode_t;

typedef struct bench_opts {
    bench_mode_t mode;
    const char *host;   /**< always 127.0.0.1 in run.sh */
    uint16_t port;
    const char *cafile; /**< NULL: plain TCP */
    const char *cert;
    const char *key;
    int qos;
    size_t size;        /**< payload bytes */
    uint32_t count;     /**< messages (publish, e2e) or connects (connect) */
    uint32_t inflight;  /**< e2e: maximum unacknowledged QoS 1/2 publishes */
    uint32_t timeout_s; /**< e2e: hard cap on the whole run */
    const char *topic;  /**< unique per process so runs never see each other's messages */
    const char *variant; /**< program-specific variant (tls_floor: "gather" or "nogather") */
} bench_opts_t;

/** Print "IDLEHEAP prog=P inuse=N": the heap in use now (mallinfo2, whole process). */
void bench_idle_heap(const char *prog);

/** Parse the common options; prints usage and exits(2) on a bad command line. */
void bench_parse(int argc, char **argv, const char *prog, bench_opts_t *o);

/** Monotonic clock in nanoseconds / milliseconds. */
int64_t bench_now_ns(void);
int64_t bench_now_ms(void);

/** Sleep for @p ms milliseconds. */
void bench_sleep_ms(int ms);

/** Payload of @p size bytes (caller frees); NULL when out of memory. */
uint8_t *bench_payload(size_t size);

/** Sort @p v in place; median and p99 (nearest rank) in *median, *p99. */
void bench_stats(double *v, size_t n, double *median, double *p99);

/** Print the connect-mode RESULT line from @p n samples in milliseconds. */
void bench_report_connect(const char *prog, double *ms, size_t n);

/** Print the e2e RESULT line. */
void bench_report_e2e(const char *prog, const bench_opts_t *o, uint32_t received,
                      int64_t first_pub_ns, int64_t last_recv_ns, int timed_out);

/** Wait on @p cv (with @p mu held) for at most @p ms milliseconds. */
void bench_cond_wait_ms(void *cv, void *mu, int ms);

/** With @p mu held: wait until *received reaches @p want, bench_now_ms() passes @p hard_end_ms,
 *  or nothing new arrives for 2 s (QoS 0 may drop messages). Returns with @p mu held.
 *  @return true if all @p want messages arrived. */
bool bench_wait_received(void *cv, void *mu, const uint32_t *received, uint32_t want,
                         int64_t hard_end_ms);

/* --- the raw floors (tls_floor.c, tls_floor_openssl.c) ---------------------------------- */

/** send() all of @p n bytes (EINTR retried). @return 0, or -1 on an error. */
int bench_write_all(int fd, const uint8_t *p, size_t n);

/** An MQTT 3.1.1 CONNECT for client id @p id into @p out: clean session, keep alive 60 s
 *  [MQTT-3.1]. @return its length; exits (bench_die) if @p id does not fit. */
size_t bench_mqtt_connect(uint8_t *out, size_t cap, const char *id, const char *prog);

/** A TCP connection to --host (an IPv4 address) --port, TCP_NODELAY when @p nodelay.
 *  @return the socket; exits (bench_die) on failure. */
int bench_tcp_connect(const bench_opts_t *o, bool nodelay, const char *prog);

/** Print "bench <prog>: <what>" to stderr and exit(1). */
void bench_die(const char *prog, const char *what);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_BENCH_COMMON_H */
