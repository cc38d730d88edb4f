/* `mqtls bench`: many certificate-authenticated devices from one process (docs/cli/bench.md).
 * Internal to the CLI; public API only (it links the shared libmqtls).
 *
 *   cmd_bench.c     options, the scenarios (phases run by the main thread), the report
 *   bench_run.c     the engine: loop threads, devices, events, counters
 *   bench_fleet.c   the fleet manifest, and the fleet-level failure classification
 *   bench_hist.c    log-bucketed latency histograms (HdrHistogram-style)
 *   bench_plot.c    samples over time, the gnuplot plot, the JSON and text reports' pieces
 *
 * Threads: the main thread sets a command (run->cmd, run->cmd_gen) and watches the counters;
 * each loop thread owns its devices, its mqtls_loop_t and every client it created, and reads
 * the command between iterations. Counters and histogram buckets are atomics; the failure
 * classes have a mutex (taken on a failure only). */
#ifndef MQTLS_TOOLS_BENCH_H
#define MQTLS_TOOLS_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqtls/mqtls.h"

/* ---- histograms (bench_hist.c) -------------------------------------------------------------
 * Values (microseconds) are counted in buckets of 1/128 of their power of two: values below 256
 * exactly, above that within 0.8 %, up to 2^40 us (12 days), in 4352 counters: the memory and
 * the cost of a percentile do not grow with the number of samples (HdrHistogram with 2
 * significant digits). */
#define BENCH_HIST_SUB 128u
#define BENCH_HIST_BUCKETS (34u * BENCH_HIST_SUB)

typedef struct bench_hist {
    _Atomic uint64_t counts[BENCH_HIST_BUCKETS];
    _Atomic uint64_t total;
    _Atomic uint64_t sum;
    _Atomic uint64_t max;
} bench_hist_t;

/* A plain copy: what percentiles are computed from (a whole phase, or one interval). */
typedef struct bench_hist_snap {
    uint64_t counts[BENCH_HIST_BUCKETS];
    uint64_t total;
    uint64_t sum;
    uint64_t max; /* exact for a whole histogram; the highest bucket for an interval */
} bench_hist_snap_t;

void bench_hist_reset(bench_hist_t *h);
void bench_hist_add(bench_hist_t *h, uint64_t value_us);
void bench_hist_snapshot(const bench_hist_t *h, bench_hist_snap_t *out);
/* @p then (a snapshot taken earlier) becomes what was added between it and @p now. */
void bench_hist_interval(bench_hist_snap_t *then, const bench_hist_snap_t *now);
/* The value at quantile @p q (0..1): the highest value of the bucket holding that rank, never
 * above the maximum; 0 for an empty histogram. */
uint64_t bench_hist_quantile(const bench_hist_snap_t *s, double q);

/* ---- devices and the fleet (bench_fleet.c) ----------------------------------------------- */

typedef struct bench_device {
    char *id;           /* client id (and certificate CN with a fleet) */
    char *cert, *key;   /* paths; NULL with a shared certificate */
    int64_t not_before; /* from the manifest; 0 unknown */
    int64_t not_after;
} bench_device_t;

/* Read DIR/fleet.csv. @return 0, or an errno (the message is printed). */
int bench_fleet_load(const char *dir, bench_device_t **out, size_t *count);
void bench_devices_free(bench_device_t *d, size_t count);

/* One kind of failure: devices that failed the same way (same signature) share one diagnosis. */
typedef struct bench_class {
    uint64_t sig;
    char id[48];       /* the finding id the devices are counted under */
    char status[48];   /* MQTLS_ERR_... of the first one */
    char detail[96];   /* alert / CONNACK code etc. */
    char sample[72];   /* a device that failed so */
    char message[400]; /* that finding's message */
    uint64_t count;
} bench_class_t;

#define BENCH_CLASSES_MAX 64u

/* ---- the run (bench_run.c) --------------------------------------------------------------- */

typedef enum bench_cmd {
    BENCH_CMD_NONE = 0,
    BENCH_CMD_CREATE,     /* (re)create every client of the thread (parse credentials) */
    BENCH_CMD_CONNECT,    /* start connecting on the ramp's schedule */
    BENCH_CMD_PUBLISH,    /* publishers publish until run->publish_end_us */
    BENCH_CMD_DISCONNECT, /* disconnect every client */
    BENCH_CMD_DESTROY,    /* free every client */
    BENCH_CMD_EXIT
} bench_cmd_t;

enum { BENCH_ROLE_NONE = 0, BENCH_ROLE_PUB = 1, BENCH_ROLE_SUB = 2 };

struct bench_worker;

typedef struct bench_cfg {
    const char *scenario;
    const char *const *brokers; /* URIs */
    size_t broker_count;
    const char *cafile;
    const char *server_name;
    bool insecure;
    uint16_t tls_version;
    uint16_t tls_max_fragment; /* --tls-max-fragment, 0 off */
    const char *shared_cert, *shared_key; /* NULL with a fleet */
    mqtls_version_t version;
    uint16_t keepalive_s;
    size_t devices;     /* N */
    size_t subscribers; /* the first K devices */
    size_t publishers;  /* the next M */
    unsigned threads;
    double rate;            /* connections per second, 0 = all at once */
    size_t max_pending;     /* per thread: attempts in progress at most, 0 = no limit */
    double msg_interval_us; /* per publisher */
    unsigned qos_weight[3];
    size_t payload_len;
    const char *topic;
} bench_cfg_t;

typedef struct bench_run {
    const bench_cfg_t *cfg;
    bench_device_t *dev;
    mqtls_client_t *shared; /* the parsed shared certificate (tls_share_with), or NULL */
    struct bench_worker *workers;
    /* the command */
    _Atomic int cmd;
    _Atomic unsigned cmd_gen;
    _Atomic unsigned done[256]; /* per thread: the cmd_gen it has finished */
    _Atomic int64_t ramp_t0_us;
    _Atomic int64_t publish_end_us;
    /* counters (the main thread resets them between phases) */
    _Atomic uint64_t created, create_failed, started, connected, failed, lost, resumed;
    _Atomic uint64_t connected_now, subscribed, published, acked, received, outbox_full;
    _Atomic uint64_t expected_qos[3], received_qos[3];
    _Atomic int64_t last_connack_us;
    bench_hist_t connect_ms; /* connect call -> CONNACK, microseconds */
    bench_hist_t latency;    /* publish -> receive, microseconds */
    /* failures by signature */
    pthread_mutex_t class_mu;
    bench_class_t classes[BENCH_CLASSES_MAX];
    size_t class_count;
    uint64_t unclassified; /* beyond BENCH_CLASSES_MAX signatures */
    _Atomic uint64_t diagnoses;
} bench_run_t;

/* Start the loop threads (they wait for a command). @return 0 or an errno. */
int bench_run_start(bench_run_t *run);
/* Give every thread @p cmd. */
void bench_run_command(bench_run_t *run, bench_cmd_t cmd);
/* Have all threads finished the last command? */
bool bench_run_done(const bench_run_t *run);
/* BENCH_CMD_EXIT, join, free. */
void bench_run_stop(bench_run_t *run);
/* Count a failed attempt of device @p index (connecting to @p uri) under its cause
 * (bench_fleet.c); runs the diagnosis when its signature is new. @p facts may be NULL. */
void bench_classify(bench_run_t *run, size_t index, const char *uri, const mqtls_error_t *err,
                    const mqtls_tls_facts_t *facts);
/* Monotonic microseconds. */
int64_t bench_now_us(void);

/* ---- samples, plot, reports (bench_plot.c) ----------------------------------------------- */

typedef struct bench_sample {
    double t_s;
    uint64_t connected_now, failed, connects; /* connects: in the interval */
    uint64_t sent, received;                  /* in the interval */
    double p50_ms, p99_ms;                    /* interval latency, < 0 = none */
} bench_sample_t;

typedef struct bench_series {
    bench_sample_t *s;
    size_t count, cap;
} bench_series_t;

void bench_series_add(bench_series_t *ser, const bench_sample_t *s);
void bench_series_free(bench_series_t *ser);
/* Write FILE.dat and FILE.gp, run gnuplot (bounded). @return NULL, or why there is no plot. */
const char *bench_plot(const bench_series_t *ser, const char *file, const char *title,
                       bool connect_latency);
/* {"count":..,"min_ms":..,"p50_ms":..,...} */
void bench_json_hist(FILE *out, const bench_hist_snap_t *s);
/* "p50 1.2  p90 ...  max ... ms (n=...)" */
void bench_text_hist(FILE *out, const char *label, const bench_hist_snap_t *s);

#endif /* MQTLS_TOOLS_BENCH_H */
