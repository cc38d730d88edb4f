/** @file storm_common.h
 *  @brief The connect-storm peers of `mqtls bench` (bench/storm.sh): libmosquitto and Paho C,
 *  driven the way `mqtls bench reconnect` drives mqtls, so the rates compare.
 *
 *  One client object per device, each with its own certificate from a `mqtls pki fleet`
 *  manifest (so its own TLS context). Phases: create every client (not timed), storm 1 (connect
 *  all, started at --rate per second, 0 = at once), hold 1 s, disconnect all, storm 2 (the same
 *  client objects reconnect: where the library keeps the TLS session, this is the resumption
 *  storm), disconnect all. Each storm prints one line:
 *    RESULT prog=P phase=connect|reconnect n=N connected=C seconds=S rate=R p50_ms=A
 *           p99_ms=B resumed=K
 *  rate = connected / (last CONNACK - start of the storm); percentiles of connect-to-CONNACK by
 *  nearest rank over every sample (N is small enough to sort). Benchmarks are not tests. */
#ifndef MQTLS_BENCH_STORM_COMMON_H
#define MQTLS_BENCH_STORM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct storm_device {
    char id[72];
    char cert[512];
    char key[512];
} storm_device_t;

typedef struct storm_opts {
    const char *host;
    unsigned port;
    const char *cafile;
    const char *fleet; /* DIR with fleet.csv */
    size_t n;
    double rate;       /* connections started per second, 0 = all at once */
    unsigned threads;  /* loop threads (programs that have their own loop) */
    unsigned timeout_s; /* per storm */
    storm_device_t *dev;
} storm_opts_t;

/** Parse --host --port --cafile --fleet -n/--count --rate --threads --timeout; read the
 *  manifest. Exits 2 on a bad command line, 4 on an unreadable manifest. */
void storm_parse(int argc, char **argv, const char *prog, storm_opts_t *o);

int64_t storm_now_us(void);
void storm_sleep_us(int64_t us);

/** When device @p i starts in a storm begun at @p t0 (the --rate schedule). */
int64_t storm_start_at(const storm_opts_t *o, int64_t t0, size_t i);

/** resumed: the library does not say (printed as "?"). */
#define STORM_RESUMED_UNKNOWN SIZE_MAX

/** Print the RESULT line of one storm; @p lat_us holds @p connected samples (sorted here). */
void storm_report(const char *prog, const char *phase, const storm_opts_t *o, size_t connected,
                  int64_t t0, int64_t last_connack, int64_t *lat_us, size_t resumed);

#endif
