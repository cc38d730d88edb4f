/* mqtls bench: many certificate-authenticated devices from one process (docs/cli/bench.md).
 * This file: the options as a whole, the scenarios as phases the main thread runs (each with a
 * deadline) while the loop threads do the work (bench_run.c), progress, and the report. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli_opts.h"
#include "cli_session.h"
#include "commands.h"

#define PHASE_MARGIN_US (30LL * 1000000)    /* beyond a phase's own time, for the last answers */
#define CONNECT_TIMEOUT_US (30LL * 1000000) /* = bench_run.c's connect_timeout_ms */
#define DRAIN_QUIET_US (2LL * 1000000)      /* pubsub: no message for this long: all in */
#define DRAIN_MAX_US (10LL * 1000000)
#define FD_SPARE 256u

typedef enum scenario { SC_CONNECT, SC_RECONNECT, SC_PUBSUB, SC_LATENCY } scenario_t;

/* What one phase measured. */
/* Where the time went during a phase: this process, the broker, the whole machine, and the
 * machine's TCP listen queues. */
typedef struct usage {
    double cores;              /* CPU of the bench process, in cores */
    double broker_cores;       /* of --broker-pid, < 0 unknown */
    double machine_busy;       /* 0..1 of all CPUs, < 0 unknown */
    uint64_t listen_overflows; /* SYNs dropped by full accept queues (TcpExt ListenOverflows) */
} usage_t;

typedef struct phase {
    bool ran;
    double wall_s; /* connect phases: ramp start to the last CONNACK */
    uint64_t started, connected, failed, resumed;
    usage_t use;
    bench_hist_snap_t *hist;
} phase_t;

typedef struct bench {
    const cli_opts_t *o;
    scenario_t sc;
    bench_cfg_t cfg;
    bench_run_t *run;
    bench_device_t *dev;
    size_t dev_count;
    char *broker_store; /* the -h/-p URI */
    const char *brokers_one[1];
    bool tty, progress, timed_out, stopped;
    int64_t t_start_us, deadline_us;
    long ncpu;
    /* resource use */
    double cpu_mark;
    int64_t cpu_mark_us;
    double broker_mark;
    uint64_t machine_busy_mark, machine_total_mark, overflow_mark;
    long rss_start_kib, rss_created_kib, rss_hold_kib, rss_peak_kib;
    double prepare_s, recreate_s;
    /* results */
    phase_t ramp, resumed, full;
    uint64_t lost_hold, created, create_failed;
    double hold_s_done;
    uint64_t published, acked, received, outbox_full, expected, expected_reliable;
    uint64_t received_qos[3];
    double publish_s;
    usage_t pub_use;
    bench_hist_snap_t *latency;
    uint64_t subscribed;
    /* samples */
    bench_series_t series;
    bench_hist_snap_t *prev, *cur;
    bool sample_latency;
    uint64_t prev_connected, prev_sent, prev_received;
    int64_t next_sample_us, next_progress_us;
    const char *plot_error;
} bench_t;

/* ---- the process --------------------------------------------------------------------------- */

static double cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of process @p pid (utime + stime from /proc), < 0 if unknown. */
static double pid_cpu_s(long pid)
{
    if (pid <= 0) {
        return -1;
    }
    char path[64];
    (void)snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1u, f);
    (void)fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0;
    unsigned long long st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return -1;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(ut + st) / (double)(hz > 0 ? hz : 100);
}

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    long v = 0;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, n) == 0) {
            v = strtol(line + n, NULL, 10);
            break;
        }
    }
    (void)fclose(f);
    return v;
}

/* The first line of /proc/stat: busy and total jiffies of all CPUs. false if unknown. */
static bool machine_jiffies(uint64_t *busy, uint64_t *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL) {
        return false;
    }
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    (void)fclose(f);
    if (n < 5) {
        return false;
    }
    *total = 0;
    for (int i = 0; i < 8; i++) {
        *total += v[i];
    }
    *busy = *total - v[3] - v[4]; /* not idle, not iowait */
    return true;
}

/* TcpExt ListenOverflows of /proc/net/netstat: connections dropped because an accept queue
 * (a broker's listen backlog) was full; the client's SYN is retried after 1, 3, 7 s. */
static uint64_t listen_overflows(void)
{
    FILE *f = fopen("/proc/net/netstat", "r");
    if (f == NULL) {
        return 0;
    }
    char names[4096];
    char values[4096];
    uint64_t result = 0;
    while (fgets(names, sizeof names, f) != NULL && fgets(values, sizeof values, f) != NULL) {
        if (strncmp(names, "TcpExt:", 7) != 0) {
            continue;
        }
        /* two lines of words in the same order: names, then values */
        const char *n = names;
        const char *v = values;
        while (*n != '\0' && *v != '\0') {
            size_t nl = strcspn(n, " \n");
            size_t vl = strcspn(v, " \n");
            if (nl == strlen("ListenOverflows") && strncmp(n, "ListenOverflows", nl) == 0) {
                result = strtoull(v, NULL, 10);
            }
            n += nl;
            v += vl;
            n += strspn(n, " \n");
            v += strspn(v, " \n");
        }
    }
    (void)fclose(f);
    return result;
}

static void mark_cpu(bench_t *b)
{
    b->cpu_mark = cpu_s();
    b->cpu_mark_us = bench_now_us();
    b->broker_mark = pid_cpu_s(b->o->broker_pid);
    if (!machine_jiffies(&b->machine_busy_mark, &b->machine_total_mark)) {
        b->machine_total_mark = 0;
    }
    b->overflow_mark = listen_overflows();
}

/* What was used since mark_cpu(). */
static void cpu_since(const bench_t *b, usage_t *u)
{
    double wall = (double)(bench_now_us() - b->cpu_mark_us) / 1e6;
    wall = wall > 1e-3 ? wall : 1e-3;
    u->cores = (cpu_s() - b->cpu_mark) / wall;
    double bc = pid_cpu_s(b->o->broker_pid);
    u->broker_cores = bc >= 0 && b->broker_mark >= 0 ? (bc - b->broker_mark) / wall : -1;
    uint64_t busy = 0;
    uint64_t total = 0;
    u->machine_busy = -1;
    if (b->machine_total_mark != 0 && machine_jiffies(&busy, &total) &&
        total > b->machine_total_mark) {
        u->machine_busy =
            (double)(busy - b->machine_busy_mark) / (double)(total - b->machine_total_mark);
    }
    uint64_t ov = listen_overflows();
    u->listen_overflows = ov >= b->overflow_mark ? ov - b->overflow_mark : 0;
}

/* Enough descriptors for N sockets (and the broker's own limit is the harness's business). */
static int raise_fd_limit(size_t devices)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 0;
    }
    rlim_t need = (rlim_t)devices + FD_SPARE;
    if (rl.rlim_cur >= need) {
        return 0;
    }
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr,
                "mqtls bench: %zu devices need %lu open files, the hard limit is %lu: raise it "
                "(ulimit -Hn %lu, as root, or in /etc/security/limits.conf)\n",
                devices, (unsigned long)need, (unsigned long)rl.rlim_max, (unsigned long)need);
        return MQTLS_EXIT_USAGE;
    }
    rl.rlim_cur = need;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    return 0;
}

/* ---- the options as a whole --------------------------------------------------------------- */

static int usage(const char *fmt, ...) CLI_PRINTF(1, 2);
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mqtls bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'mqtls bench --help'.\n");
    va_end(ap);
    return MQTLS_EXIT_USAGE;
}

/* "0:70,1:30" */
static bool parse_qos_mix(const char *s, unsigned w[3])
{
    w[0] = w[1] = w[2] = 0;
    const char *p = s;
    while (*p != '\0') {
        if (p[0] < '0' || p[0] > '2' || p[1] != ':') {
            return false;
        }
        unsigned q = (unsigned)(p[0] - '0');
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(p + 2, &end, 10);
        if (errno != 0 || end == p + 2 || v > 1000000ul || (*end != ',' && *end != '\0')) {
            return false;
        }
        w[q] += (unsigned)v;
        p = *end == ',' ? end + 1 : end;
    }
    return w[0] + w[1] + w[2] > 0;
}

static int setup(bench_t *b)
{
    const cli_opts_t *o = b->o;
    bench_cfg_t *cfg = &b->cfg;
    static const struct {
        const char *name;
        scenario_t sc;
    } names[] = {{"connect", SC_CONNECT}, {"reconnect", SC_RECONNECT}, {"pubsub", SC_PUBSUB},
                 {"pub", SC_PUBSUB},      {"sub", SC_PUBSUB},          {"latency", SC_LATENCY}};
    if (o->scenario == NULL) {
        return usage("no scenario: connect, reconnect, pubsub or latency");
    }
    size_t i = 0;
    while (i < sizeof names / sizeof names[0] && strcmp(names[i].name, o->scenario) != 0) {
        i++;
    }
    if (i == sizeof names / sizeof names[0]) {
        return usage("unknown scenario '%s' (connect, reconnect, pubsub, latency)", o->scenario);
    }
    b->sc = names[i].sc;
    cfg->scenario = names[i].name;
    bool msgs = b->sc == SC_PUBSUB || b->sc == SC_LATENCY;
    /* brokers */
    if (o->broker_count > 0) {
        if (o->host != NULL || o->port != 0) {
            return usage("--broker and -h/-p exclude each other");
        }
        for (size_t k = 0; k < o->broker_count; k++) {
            mqtls_uri_t u;
            if (mqtls_uri_parse(o->brokers[k], &u) != MQTLS_OK) {
                return usage("--broker '%s' is not mqtts://host:port (or mqtt://)", o->brokers[k]);
            }
        }
        cfg->brokers = o->brokers;
        cfg->broker_count = o->broker_count;
    } else {
        const char *host = o->host != NULL ? o->host : "localhost";
        size_t n = strlen(host) + 32u;
        b->broker_store = malloc(n);
        if (b->broker_store == NULL) {
            return MQTLS_EXIT_FAIL;
        }
        bool v6 = strchr(host, ':') != NULL;
        (void)snprintf(b->broker_store, n, "mqtts://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
                       o->port != 0 ? o->port : 8883u);
        b->brokers_one[0] = b->broker_store;
        cfg->brokers = b->brokers_one;
        cfg->broker_count = 1;
    }
    /* credentials */
    if (o->cafile == NULL && !o->insecure) {
        return usage("--cafile CA is required (the devices verify the broker)");
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        return usage("--cert and --key go together");
    }
    if ((o->fleet == NULL) == (o->cert == NULL)) {
        return usage("give --fleet DIR (one certificate per device) or --cert/--key (one "
                     "certificate for all), not both");
    }
    cfg->cafile = o->cafile;
    cfg->insecure = o->insecure;
    cfg->server_name = o->server_name;
    cfg->tls_version = o->tls_version;
    cfg->tls_max_fragment = o->tls_max_fragment;
    cfg->version = o->version;
    cfg->keepalive_s = (uint16_t)o->keepalive_s;
    cfg->topic = o->topic_count > 0 ? o->topics[0] : "mqtls/bench";
    if (strchr(cfg->topic, '+') != NULL || strchr(cfg->topic, '#') != NULL) {
        return usage("-t '%s': a topic prefix, without wildcards", cfg->topic);
    }
    /* devices and roles */
    if (!msgs && (o->publishers >= 0 || o->subscribers >= 0 || o->qos_mix != NULL ||
                  o->msg_rate > 0 || o->total_rate > 0 || o->duration_s >= 0 || o->size > 0)) {
        return usage("--publishers, --subscribers, --qos-mix, --size, --msg-rate, --total-rate "
                     "and --duration are for pubsub and latency, not '%s'",
                     o->scenario);
    }
    size_t k = o->subscribers >= 0 ? (size_t)o->subscribers : 1u;
    size_t m = o->publishers >= 0 ? (size_t)o->publishers : 0u;
    size_t n = o->clients > 0 ? (size_t)o->clients : 0u;
    if (msgs) {
        if (o->publishers < 0) {
            m = b->sc == SC_LATENCY ? 1u : (n > k ? n - k : 9u);
        }
        if (n == 0) {
            n = k + m;
        }
        if (k + m > n || m == 0) {
            return usage("--publishers + --subscribers must fit in -n, with one publisher at "
                         "least");
        }
        cfg->subscribers = k;
        cfg->publishers = m;
    }
    if (o->fleet != NULL) {
        int e = bench_fleet_load(o->fleet, &b->dev, &b->dev_count);
        if (e != 0) {
            return MQTLS_EXIT_FILE;
        }
        if (n == 0) {
            n = b->dev_count;
        }
        if (n > b->dev_count) {
            fprintf(stderr,
                    "mqtls bench: -n %zu but the fleet %s has %zu devices (make more: "
                    "mqtls pki fleet %s --count %zu --first %zu)\n",
                    n, o->fleet, b->dev_count, o->fleet, n - b->dev_count, b->dev_count + 1u);
            return MQTLS_EXIT_USAGE;
        }
    } else {
        n = n != 0 ? n : 100u;
        b->dev = calloc(n, sizeof *b->dev);
        if (b->dev == NULL) {
            return MQTLS_EXIT_FAIL;
        }
        b->dev_count = n;
        const char *prefix = o->id_prefix != NULL ? o->id_prefix : "bench-";
        for (size_t d = 0; d < n; d++) {
            size_t len = strlen(prefix) + 24u;
            b->dev[d].id = malloc(len);
            if (b->dev[d].id == NULL) {
                return MQTLS_EXIT_FAIL;
            }
            (void)snprintf(b->dev[d].id, len, "%s%06zu", prefix, d + 1u);
        }
        cfg->shared_cert = o->cert;
        cfg->shared_key = o->key;
    }
    cfg->devices = n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    b->ncpu = cpus > 0 ? cpus : 1;
    size_t threads = o->threads > 0 ? (size_t)o->threads : (size_t)b->ncpu;
    cfg->threads = (unsigned)(threads < n ? threads : n);
    cfg->rate = o->rate;
    cfg->max_pending = o->max_pending > 0
                           ? ((size_t)o->max_pending + cfg->threads - 1u) / cfg->threads
                           : 0;
    /* messages */
    if (o->qos_mix != NULL) {
        if (o->qos_given) {
            return usage("-q and --qos-mix exclude each other");
        }
        if (!parse_qos_mix(o->qos_mix, cfg->qos_weight)) {
            return usage("--qos-mix '%s' is not Q:WEIGHT,... with Q 0, 1 or 2", o->qos_mix);
        }
    } else {
        cfg->qos_weight[o->qos_given ? o->qos : 1] = 1;
    }
    if (o->msg_rate > 0 && o->total_rate > 0) {
        return usage("--msg-rate and --total-rate exclude each other");
    }
    double per_pub = o->total_rate > 0 && m > 0 ? o->total_rate / (double)m
                                                : (o->msg_rate > 0 ? o->msg_rate : 10.0);
    cfg->msg_interval_us = 1e6 / per_pub;
    cfg->payload_len = o->size > 0 ? (size_t)o->size : 64u;
    if (o->plot != NULL) {
        size_t pl = strlen(o->plot);
        if (pl < 5 ||
            (strcmp(o->plot + pl - 4, ".png") != 0 && strcmp(o->plot + pl - 4, ".svg") != 0)) {
            return usage("--plot '%s' must end in .png or .svg", o->plot);
        }
    }
    return raise_fd_limit(n);
}

/* ---- waiting, sampling, progress ------------------------------------------------------------ */

static void sample(bench_t *b, int64_t now)
{
    bench_run_t *run = b->run;
    bench_sample_t s;
    memset(&s, 0, sizeof s);
    s.t_s = (double)(now - b->t_start_us) / 1e6;
    s.connected_now = atomic_load(&run->connected_now);
    s.failed = atomic_load(&run->failed) + atomic_load(&run->create_failed);
    uint64_t connected = atomic_load(&run->connected);
    uint64_t sent = atomic_load(&run->published);
    uint64_t received = atomic_load(&run->received);
    /* counters restart at each phase: a smaller value is a new phase's count */
    s.connects = connected >= b->prev_connected ? connected - b->prev_connected : connected;
    s.sent = sent >= b->prev_sent ? sent - b->prev_sent : sent;
    s.received = received >= b->prev_received ? received - b->prev_received : received;
    b->prev_connected = connected;
    b->prev_sent = sent;
    b->prev_received = received;
    /* this interval's latencies: the histogram now minus the one at the last sample, computed
     * in the old one's storage; the one now is then kept for the next sample */
    bench_hist_snapshot(b->sample_latency ? &run->latency : &run->connect_ms, b->cur);
    bench_hist_interval(b->prev, b->cur);
    if (b->prev->total > 0) {
        s.p50_ms = (double)bench_hist_quantile(b->prev, 0.5) / 1000.0;
        s.p99_ms = (double)bench_hist_quantile(b->prev, 0.99) / 1000.0;
    } else {
        s.p50_ms = -1;
        s.p99_ms = -1;
    }
    bench_hist_snap_t *t = b->prev;
    b->prev = b->cur;
    b->cur = t;
    bench_series_add(&b->series, &s);
}

/* Latency samples come from another histogram from now on (and start afresh). */
static void sample_from(bench_t *b, bool latency)
{
    b->sample_latency = latency;
    bench_hist_snapshot(latency ? &b->run->latency : &b->run->connect_ms, b->prev);
}

static void progress(bench_t *b, const char *phase, int64_t now, bool final)
{
    if (!b->progress) {
        return;
    }
    bench_run_t *run = b->run;
    double t = (double)(now - b->t_start_us) / 1e6;
    usage_t u;
    cpu_since(b, &u);
    double cores = u.cores;
    char line[256];
    if (strcmp(phase, "publish") == 0 || strcmp(phase, "drain") == 0) {
        (void)snprintf(line, sizeof line,
                       "[%s %6.1fs] sent %llu  received %llu  outbox full %llu  cpu %.0f%%", phase,
                       t, (unsigned long long)atomic_load(&run->published),
                       (unsigned long long)atomic_load(&run->received),
                       (unsigned long long)atomic_load(&run->outbox_full), cores * 100.0);
    } else if (strcmp(phase, "prepare") == 0) {
        (void)snprintf(
            line, sizeof line, "[%s %6.1fs] TLS contexts %llu/%zu  failed %llu  rss %ld MiB", phase,
            t, (unsigned long long)(atomic_load(&run->created) + atomic_load(&run->create_failed)),
            b->cfg.devices, (unsigned long long)atomic_load(&run->create_failed),
            status_kib("VmRSS:") / 1024);
    } else {
        (void)snprintf(line, sizeof line,
                       "[%s %6.1fs] connected %llu/%zu  failed %llu  lost %llu  cpu %.0f%%  rss "
                       "%ld MiB",
                       phase, t, (unsigned long long)atomic_load(&run->connected_now),
                       b->cfg.devices, (unsigned long long)atomic_load(&run->failed),
                       (unsigned long long)atomic_load(&run->lost), cores * 100.0,
                       status_kib("VmRSS:") / 1024);
    }
    if (b->tty) {
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    } else {
        fprintf(stderr, "%s\n", line);
    }
}

static bool stopping(bench_t *b, int64_t now)
{
    if (cli_stop) {
        b->stopped = true;
    }
    if (now >= b->deadline_us) {
        b->timed_out = true;
    }
    return b->stopped || b->timed_out;
}

/* Something the devices did: an attempt started or answered, a client made, a message. */
static uint64_t activity(const bench_t *b)
{
    const bench_run_t *run = b->run;
    return atomic_load(&run->started) + atomic_load(&run->connected) + atomic_load(&run->failed) +
           atomic_load(&run->created) + atomic_load(&run->create_failed) +
           atomic_load(&run->received) + atomic_load(&run->published);
}

/* Wait until @p done(b) (or, when @p done is NULL, until the threads finished the command),
 * bounded by @p until_us, the run's -W, and, when @p stall_us > 0, by @p stall_us without any
 * activity; sample and report progress meanwhile. @return true if done. */
static bool wait_phase(bench_t *b, const char *phase, bool (*done)(bench_t *), int64_t until_us,
                       int64_t stall_us)
{
    int64_t interval_us = b->tty ? 250000 : 2000000;
    uint64_t seen = activity(b);
    int64_t moved = bench_now_us();
    for (;;) {
        int64_t now = bench_now_us();
        uint64_t a = activity(b);
        if (a != seen) {
            seen = a;
            moved = now;
        }
        if (stall_us > 0 && now - moved > stall_us) {
            until_us = now; /* nothing happens any more */
        }
        if (now >= b->next_sample_us) {
            sample(b, now);
            b->next_sample_us = now + 1000000;
        }
        if (now >= b->next_progress_us) {
            progress(b, phase, now, false);
            b->next_progress_us = now + interval_us;
        }
        bool ok = done != NULL ? done(b) : bench_run_done(b->run);
        if (ok || now >= until_us || stopping(b, now)) {
            progress(b, phase, now, true);
            b->next_progress_us = now + interval_us;
            return ok;
        }
        struct timespec pause = {0, 50 * 1000 * 1000};
        (void)nanosleep(&pause, NULL);
    }
}

static bool connect_done(bench_t *b)
{
    bench_run_t *run = b->run;
    return bench_run_done(run) &&
           atomic_load(&run->connected) + atomic_load(&run->failed) >= atomic_load(&run->started);
}

static bool never(bench_t *b)
{
    (void)b;
    return false;
}

static bool subscribed_done(bench_t *b)
{
    return atomic_load(&b->run->subscribed) >= b->cfg.subscribers;
}

static bool drained(bench_t *b)
{
    bench_run_t *run = b->run;
    uint64_t expected = atomic_load(&run->published) * b->cfg.subscribers;
    return atomic_load(&run->received) >= expected;
}

static void reset_counters(bench_run_t *run)
{
    _Atomic uint64_t *c[] = {&run->started, &run->connected, &run->failed,
                             &run->lost,    &run->resumed,   &run->published,
                             &run->acked,   &run->received,  &run->outbox_full};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        atomic_store(c[i], 0);
    }
    for (int q = 0; q < 3; q++) {
        atomic_store(&run->expected_qos[q], 0);
        atomic_store(&run->received_qos[q], 0);
    }
    atomic_store(&run->last_connack_us, 0);
}

/* ---- the phases ------------------------------------------------------------------------------ */

/* Create every device's client (parse its credentials). The first time, what was created is
 * the run's; later (fresh clients for full handshakes) only the time counts. */
static bool prepare(bench_t *b, double *seconds, bool first)
{
    atomic_store(&b->run->created, 0);
    atomic_store(&b->run->create_failed, 0);
    int64_t t0 = bench_now_us();
    bench_run_command(b->run, BENCH_CMD_CREATE);
    bool ok =
        wait_phase(b, "prepare", NULL, INT64_MAX, PHASE_MARGIN_US);
    *seconds = (double)(bench_now_us() - t0) / 1e6;
    if (first) {
        b->created = atomic_load(&b->run->created);
        b->create_failed = atomic_load(&b->run->create_failed);
    }
    return ok;
}

/* Connect every device on the ramp (--rate); @p p gets what it measured. */
static bool connect_phase(bench_t *b, const char *name, double rate, phase_t *p)
{
    bench_run_t *run = b->run;
    reset_counters(run);
    bench_hist_reset(&run->connect_ms);
    sample_from(b, false);
    b->cfg.rate = rate;
    mark_cpu(b);
    int64_t t0 = bench_now_us();
    atomic_store(&run->ramp_t0_us, t0);
    bench_run_command(run, BENCH_CMD_CONNECT);
    /* Done when every attempt was answered. Bounded by -W, and by a stall: no attempt started
     * or answered for longer than the connect timeout and a margin (with --max-pending the ramp
     * may be much longer than N / rate, so its length alone cannot bound it). */
    bool ok = wait_phase(b, name, connect_done, INT64_MAX, CONNECT_TIMEOUT_US + PHASE_MARGIN_US);
    p->ran = true;
    p->started = atomic_load(&run->started);
    p->connected = atomic_load(&run->connected);
    p->failed = atomic_load(&run->failed);
    p->resumed = atomic_load(&run->resumed);
    int64_t last = atomic_load(&run->last_connack_us);
    p->wall_s = (double)((p->connected > 0 && last > t0 ? last : bench_now_us()) - t0) / 1e6;
    cpu_since(b, &p->use);
    p->hist = malloc(sizeof *p->hist);
    if (p->hist != NULL) {
        bench_hist_snapshot(&run->connect_ms, p->hist);
    }
    return ok;
}

static bool disconnect_all(bench_t *b)
{
    bench_run_command(b->run, BENCH_CMD_DISCONNECT);
    return wait_phase(b, "disconnect", NULL, bench_now_us() + PHASE_MARGIN_US, 0);
}

static void hold(bench_t *b, double seconds)
{
    bench_run_t *run = b->run;
    uint64_t lost0 = atomic_load(&run->lost);
    int64_t t0 = bench_now_us();
    (void)wait_phase(b, "hold", never, t0 + (int64_t)(seconds * 1e6), 0);
    b->hold_s_done = (double)(bench_now_us() - t0) / 1e6;
    b->lost_hold = atomic_load(&run->lost) - lost0;
    b->rss_hold_kib = status_kib("VmRSS:");
}

static void publish_phase(bench_t *b, double seconds)
{
    bench_run_t *run = b->run;
    (void)wait_phase(b, "subscribe", subscribed_done, bench_now_us() + PHASE_MARGIN_US, 0);
    b->subscribed = atomic_load(&run->subscribed);
    reset_counters(run);
    bench_hist_reset(&run->latency);
    sample_from(b, true);
    mark_cpu(b);
    int64_t t0 = bench_now_us();
    atomic_store(&run->publish_end_us, t0 + (int64_t)(seconds * 1e6));
    bench_run_command(run, BENCH_CMD_PUBLISH);
    (void)wait_phase(b, "publish", never, t0 + (int64_t)(seconds * 1e6), 0);
    cpu_since(b, &b->pub_use);
    b->publish_s = (double)(bench_now_us() - t0) / 1e6;
    bench_run_command(run, BENCH_CMD_NONE);
    /* the last messages in flight: until all arrived, or nothing arrives for a while */
    (void)wait_phase(b, "drain", drained, bench_now_us() + DRAIN_MAX_US, DRAIN_QUIET_US);
    b->published = atomic_load(&run->published);
    b->acked = atomic_load(&run->acked);
    b->received = atomic_load(&run->received);
    b->outbox_full = atomic_load(&run->outbox_full);
    b->expected = b->published * b->cfg.subscribers;
    b->expected_reliable = atomic_load(&run->expected_qos[1]) + atomic_load(&run->expected_qos[2]);
    for (int q = 0; q < 3; q++) {
        b->received_qos[q] = atomic_load(&run->received_qos[q]);
    }
    b->latency = malloc(sizeof *b->latency);
    if (b->latency != NULL) {
        bench_hist_snapshot(&run->latency, b->latency);
    }
}

static void run_scenario(bench_t *b)
{
    double hold_s = b->o->hold_s >= 0 ? b->o->hold_s : (b->sc == SC_CONNECT ? 5.0 : 1.0);
    if (b->sc == SC_PUBSUB || b->sc == SC_LATENCY) {
        hold_s = b->o->hold_s >= 0 ? b->o->hold_s : 0.0;
    }
    b->rss_start_kib = status_kib("VmRSS:");
    if (!prepare(b, &b->prepare_s, true)) {
        return;
    }
    b->rss_created_kib = status_kib("VmRSS:");
    if (!connect_phase(b, "connect", b->o->rate, &b->ramp) && (b->stopped || b->timed_out)) {
        return;
    }
    if (hold_s > 0) {
        hold(b, hold_s);
    } else {
        b->rss_hold_kib = status_kib("VmRSS:");
    }
    if (b->stopped || b->timed_out) {
        return;
    }
    if (b->sc == SC_PUBSUB || b->sc == SC_LATENCY) {
        publish_phase(b, b->o->duration_s >= 0 ? b->o->duration_s : 10.0);
        return;
    }
    if (b->sc != SC_RECONNECT) {
        return;
    }
    /* The outage: every device drops, then all come back at once (or on --rate). First with
     * the TLS session each kept (resumption), then with fresh clients (full handshakes). */
    if (!disconnect_all(b) || !connect_phase(b, "reconnect", b->o->rate, &b->resumed)) {
        return;
    }
    if (!disconnect_all(b) || !prepare(b, &b->recreate_s, false) ||
        !connect_phase(b, "reconnect-full", b->o->rate, &b->full)) {
        return;
    }
}

/* ---- the report ----------------------------------------------------------------------------- */

static void json_usage_tail(FILE *out, const usage_t *u)
{
    if (u->broker_cores >= 0) {
        fprintf(out, "\"broker_cpu_cores\": %.2f, ", u->broker_cores);
    }
    if (u->machine_busy >= 0) {
        fprintf(out, "\"machine_busy\": %.2f, ", u->machine_busy);
    }
    fprintf(out, "\"listen_overflows\": %llu, ", (unsigned long long)u->listen_overflows);
}

static void text_usage(const usage_t *u)
{
    printf("; CPU %.0f%%", u->cores * 100.0);
    if (u->broker_cores >= 0) {
        printf(", broker %.0f%%", u->broker_cores * 100.0);
    }
    if (u->machine_busy >= 0) {
        printf(", machine %.0f%% busy", u->machine_busy * 100.0);
    }
    if (u->listen_overflows > 0) {
        printf(", %llu listen-queue overflows", (unsigned long long)u->listen_overflows);
    }
}

/* The honest part: what limited the figures of phase @p u (bench, broker, machine, backlog). */
static void limits(const bench_t *b, const usage_t *u, char *out, size_t cap)
{
    out[0] = '\0';
    size_t used = 0;
    double threads =
        (double)(b->cfg.threads < (unsigned)b->ncpu ? b->cfg.threads : (unsigned)b->ncpu);
#define SAY(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(out + used, cap - used, __VA_ARGS__);                                    \
        used += k_ > 0 && (size_t)k_ < cap - used ? (size_t)k_ : 0;                                \
    } while (0)
    if (u->listen_overflows > 0) {
        SAY("%llu connection attempts found a full listen queue on this machine (SYN dropped, "
            "retried after 1, 3, 7 s): the broker's accept backlog (mosquitto: 100) limited this "
            "storm, spread it with --rate; ",
            (unsigned long long)u->listen_overflows);
    }
    char who[160];
    int w = snprintf(who, sizeof who, "bench %.0f%%", u->cores * 100.0);
    if (u->broker_cores >= 0 && w > 0 && (size_t)w < sizeof who) {
        (void)snprintf(who + w, sizeof who - (size_t)w, ", broker %.0f%%", u->broker_cores * 100.0);
    }
    if (u->cores >= 0.85 * threads) {
        SAY("the bench used %.0f%% CPU (%u loop thread%s, %ld cores: at most %ld%%): the bench "
            "was the bottleneck, these rates are the client's limit, not the broker's",
            u->cores * 100.0, b->cfg.threads, b->cfg.threads == 1 ? "" : "s", b->ncpu,
            b->ncpu * 100);
    } else if (u->machine_busy >= 0.9) {
        SAY("the machine's %ld cores were %.0f%% busy (%s, the rest other processes): the "
            "machine was the limit, not the broker alone",
            b->ncpu, u->machine_busy * 100.0, who);
    } else if (u->broker_cores >= 0.85) {
        SAY("the broker used %.0f%% CPU (one core is the limit of a single-threaded broker such "
            "as mosquitto): the broker was the bottleneck",
            u->broker_cores * 100.0);
    } else {
        SAY("no CPU was saturated (%s of %ld%%", who, b->ncpu * 100);
        if (u->machine_busy >= 0) {
            SAY("; machine %.0f%% busy", u->machine_busy * 100.0);
        }
        SAY("): latency-bound");
    }
#undef SAY
}

static void json_phase(FILE *out, const char *name, const phase_t *p, bool last)
{
    fprintf(out,
            "  \"%s\": {\"started\": %llu, \"connected\": %llu, \"failed\": %llu, \"resumed\": "
            "%llu, \"seconds\": %.3f, \"rate_per_s\": %.1f, \"cpu_cores\": %.2f, ",
            name, (unsigned long long)p->started, (unsigned long long)p->connected,
            (unsigned long long)p->failed, (unsigned long long)p->resumed, p->wall_s,
            p->wall_s > 0 ? (double)p->connected / p->wall_s : 0.0, p->use.cores);
    json_usage_tail(out, &p->use);
    fprintf(out, "\"latency\": ");
    if (p->hist != NULL) {
        bench_json_hist(out, p->hist);
    } else {
        fprintf(out, "null");
    }
    fprintf(out, "}%s\n", last ? "" : ",");
}

/* Devices per finding id (several signatures may share one id). */
static size_t failures_by_id(const bench_run_t *run, const char **ids, uint64_t *counts, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < run->class_count; i++) {
        size_t j = 0;
        while (j < n && strcmp(ids[j], run->classes[i].id) != 0) {
            j++;
        }
        if (j == n) {
            if (n == cap) {
                continue;
            }
            ids[n] = run->classes[i].id;
            counts[n++] = 0;
        }
        counts[j] += run->classes[i].count;
    }
    return n;
}

/* The phase the scenario is about: its usage is what the "limit" line judges. */
static const usage_t *main_usage(const bench_t *b)
{
    if (b->latency != NULL) {
        return &b->pub_use;
    }
    return b->sc == SC_RECONNECT && b->resumed.ran ? &b->resumed.use : &b->ramp.use;
}

static void report_json(const bench_t *b)
{
    const bench_run_t *run = b->run;
    FILE *out = stdout;
    uint64_t failed = b->ramp.failed + b->create_failed;
    fprintf(out, "{\n  \"scenario\": \"%s\",\n  \"mqtls_version\": \"%s\",\n", b->cfg.scenario,
            mqtls_version());
    fprintf(out, "  \"brokers\": [");
    for (size_t i = 0; i < b->cfg.broker_count; i++) {
        fprintf(out, "%s", i > 0 ? ", " : "");
        mqtls_cli_json_string(out, b->cfg.brokers[i]);
    }
    fprintf(out, "],\n  \"certificates\": \"%s\",\n", b->o->fleet != NULL ? "fleet" : "shared");
    fprintf(out,
            "  \"devices\": %zu,\n  \"threads\": %u,\n  \"rate\": %.1f,\n  \"created\": %llu,\n"
            "  \"connected\": %llu,\n  \"failed\": %llu,\n  \"lost\": %llu,\n",
            b->cfg.devices, b->cfg.threads, b->o->rate, (unsigned long long)b->created,
            (unsigned long long)b->ramp.connected, (unsigned long long)failed,
            (unsigned long long)b->lost_hold);
    const char *ids[BENCH_CLASSES_MAX];
    uint64_t counts[BENCH_CLASSES_MAX];
    size_t n = failures_by_id(run, ids, counts, BENCH_CLASSES_MAX);
    fprintf(out, "  \"failures\": {");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s\"%s\": %llu", i > 0 ? ", " : "", ids[i], (unsigned long long)counts[i]);
    }
    fprintf(out, "},\n  \"failure_classes\": [");
    for (size_t i = 0; i < run->class_count; i++) {
        const bench_class_t *k = &run->classes[i];
        fprintf(out, "%s\n    {\"id\": \"%s\", \"devices\": %llu, \"status\": \"%s\", ",
                i > 0 ? "," : "", k->id, (unsigned long long)k->count, k->status);
        cli_json_field(out, "\"detail\": ", k->detail);
        cli_json_field(out, ", \"example_device\": ", k->sample);
        cli_json_field(out, ", \"message\": ", k->message);
        fprintf(out, "}");
    }
    fprintf(out, "%s],\n  \"diagnoses_run\": %llu,\n", run->class_count > 0 ? "\n  " : "",
            (unsigned long long)atomic_load(&run->diagnoses));
    fprintf(out, "  \"prepare_seconds\": %.3f,\n  \"hold_seconds\": %.3f,\n", b->prepare_s,
            b->hold_s_done);
    json_phase(out, "connect", &b->ramp, false);
    if (b->resumed.ran) {
        json_phase(out, "reconnect_resumed", &b->resumed, false);
    }
    if (b->full.ran) {
        fprintf(out, "  \"recreate_seconds\": %.3f,\n", b->recreate_s);
        json_phase(out, "reconnect_full", &b->full, false);
        double a = b->resumed.wall_s > 0 ? (double)b->resumed.connected / b->resumed.wall_s : 0;
        double f = b->full.wall_s > 0 ? (double)b->full.connected / b->full.wall_s : 0;
        fprintf(out, "  \"resumption_speedup\": %.2f,\n", f > 0 ? a / f : 0.0);
    }
    if (b->latency != NULL) {
        fprintf(out,
                "  \"messages\": {\"publishers\": %zu, \"subscribers\": %zu, \"payload_bytes\": "
                "%zu, \"seconds\": %.3f, \"published\": %llu, \"acknowledged\": %llu, "
                "\"expected\": %llu, \"expected_qos12\": %llu, \"received\": %llu, "
                "\"received_by_qos\": [%llu, %llu, %llu], \"outbox_full\": %llu, "
                "\"sent_per_s\": %.1f, \"received_per_s\": %.1f, \"cpu_cores\": %.2f, ",
                b->cfg.publishers, b->cfg.subscribers, b->cfg.payload_len, b->publish_s,
                (unsigned long long)b->published, (unsigned long long)b->acked,
                (unsigned long long)b->expected, (unsigned long long)b->expected_reliable,
                (unsigned long long)b->received, (unsigned long long)b->received_qos[0],
                (unsigned long long)b->received_qos[1], (unsigned long long)b->received_qos[2],
                (unsigned long long)b->outbox_full,
                b->publish_s > 0 ? (double)b->published / b->publish_s : 0.0,
                b->publish_s > 0 ? (double)b->received / b->publish_s : 0.0, b->pub_use.cores);
        json_usage_tail(out, &b->pub_use);
        fprintf(out, "\"latency\": ");
        bench_json_hist(out, b->latency);
        fprintf(out, "},\n");
    }
    long per_conn = b->ramp.connected > 0 && b->rss_hold_kib > b->rss_start_kib
                        ? (b->rss_hold_kib - b->rss_start_kib) * 1024 / (long)b->ramp.connected
                        : 0;
    char lim[600];
    limits(b, main_usage(b), lim, sizeof lim);
    fprintf(out,
            "  \"process\": {\"cores\": %ld, \"rss_kib_start\": %ld, \"rss_kib_created\": %ld, "
            "\"rss_kib_connected\": %ld, \"rss_kib_peak\": %ld, \"rss_bytes_per_connection\": "
            "%ld},\n",
            b->ncpu, b->rss_start_kib, b->rss_created_kib, b->rss_hold_kib, b->rss_peak_kib,
            per_conn);
    cli_json_field(out, "  \"limit\": ", lim);
    fprintf(out, ",\n  \"plot\": ");
    if (b->o->plot != NULL && b->plot_error == NULL) {
        mqtls_cli_json_string(out, b->o->plot);
    } else {
        fprintf(out, "null");
    }
    if (b->plot_error != NULL) {
        cli_json_field(out, ",\n  \"plot_error\": ", b->plot_error);
    }
    fprintf(out, ",\n  \"stopped\": \"%s\"\n}\n",
            b->timed_out ? "timeout" : (b->stopped ? "signal" : "completed"));
}

static void text_phase(const char *name, const phase_t *p)
{
    printf("  %-16s %llu of %llu connected in %.1f s: %.1f/s", name,
           (unsigned long long)p->connected, (unsigned long long)p->started, p->wall_s,
           p->wall_s > 0 ? (double)p->connected / p->wall_s : 0.0);
    if (p->resumed > 0) {
        printf(", %llu resumed their TLS session", (unsigned long long)p->resumed);
    }
    text_usage(&p->use);
    printf("\n");
    if (p->hist != NULL) {
        bench_text_hist(stdout, "  connect latency", p->hist);
    }
}

static void report_text(const bench_t *b)
{
    const bench_run_t *run = b->run;
    printf("mqtls bench %s: %zu devices (%s), %zu broker%s, %u thread%s\n", b->cfg.scenario,
           b->cfg.devices,
           b->o->fleet != NULL ? "own certificates from the fleet manifest"
                               : "one shared certificate",
           b->cfg.broker_count, b->cfg.broker_count == 1 ? "" : "s", b->cfg.threads,
           b->cfg.threads == 1 ? "" : "s");
    printf("  prepare          %llu TLS contexts in %.1f s\n", (unsigned long long)b->created,
           b->prepare_s);
    if (b->ramp.ran) {
        text_phase("connect", &b->ramp);
        printf("  hold             %.1f s, %llu connection%s lost\n", b->hold_s_done,
               (unsigned long long)b->lost_hold, b->lost_hold == 1 ? "" : "s");
    }
    uint64_t failed = b->ramp.failed + b->create_failed;
    printf("  failed           %llu device%s", (unsigned long long)failed, failed == 1 ? "" : "s");
    printf(" (%llu diagnos%s run)\n", (unsigned long long)atomic_load(&run->diagnoses),
           atomic_load(&run->diagnoses) == 1 ? "is" : "es");
    for (size_t i = 0; i < run->class_count; i++) {
        const bench_class_t *k = &run->classes[i];
        printf("    %llu device%s failed: %s%s%s%s (e.g. %s)\n", (unsigned long long)k->count,
               k->count == 1 ? "" : "s", k->id, k->detail[0] != '\0' ? " [" : "", k->detail,
               k->detail[0] != '\0' ? "]" : "", k->sample);
        printf("      %s\n", k->message);
    }
    if (b->resumed.ran) {
        text_phase("reconnect", &b->resumed);
    }
    if (b->full.ran) {
        text_phase("reconnect (full)", &b->full);
        double a = b->resumed.wall_s > 0 ? (double)b->resumed.connected / b->resumed.wall_s : 0;
        double f = b->full.wall_s > 0 ? (double)b->full.connected / b->full.wall_s : 0;
        printf("  resumption       %.2fx the rate of full handshakes\n", f > 0 ? a / f : 0.0);
    }
    if (b->latency != NULL) {
        printf("  messages         %llu published in %.1f s (%.1f/s) by %zu publisher%s, %llu of "
               "%llu received by %zu subscriber%s; %llu refused (outbox full)\n",
               (unsigned long long)b->published, b->publish_s,
               b->publish_s > 0 ? (double)b->published / b->publish_s : 0.0, b->cfg.publishers,
               b->cfg.publishers == 1 ? "" : "s", (unsigned long long)b->received,
               (unsigned long long)b->expected, b->cfg.subscribers,
               b->cfg.subscribers == 1 ? "" : "s", (unsigned long long)b->outbox_full);
        bench_text_hist(stdout, "  one-way latency", b->latency);
    }
    if (b->ramp.connected > 0 && b->rss_hold_kib > b->rss_start_kib) {
        printf("  memory           RSS %ld MiB connected (%ld MiB before), %ld bytes per "
               "connection; peak %ld MiB\n",
               b->rss_hold_kib / 1024, b->rss_start_kib / 1024,
               (b->rss_hold_kib - b->rss_start_kib) * 1024 / (long)b->ramp.connected,
               b->rss_peak_kib / 1024);
    }
    char lim[600];
    limits(b, main_usage(b), lim, sizeof lim);
    if (lim[0] != '\0') {
        printf("  limit            %s\n", lim);
    }
    if (b->o->plot != NULL) {
        printf("  plot             %s%s%s\n", b->plot_error == NULL ? b->o->plot : "none: ",
               b->plot_error != NULL ? b->plot_error : "",
               b->plot_error == NULL ? " (data: .dat, script: .gp)" : "");
    }
    if (b->timed_out) {
        printf("  stopped          by the -W bound\n");
    } else if (b->stopped) {
        printf("  stopped          by a signal\n");
    }
}

static int exit_code(const bench_t *b)
{
    if (b->timed_out) {
        return MQTLS_EXIT_TIMEOUT;
    }
    bool all = b->ramp.ran && b->create_failed == 0 && b->ramp.failed == 0 && b->lost_hold == 0 &&
               b->ramp.connected == b->cfg.devices;
    all = all && (!b->resumed.ran || b->resumed.connected == b->resumed.started);
    all = all && (!b->full.ran || b->full.connected == b->full.started);
    all = all && (b->latency == NULL || b->received >= b->expected_reliable);
    return all ? MQTLS_EXIT_OK : MQTLS_EXIT_FAIL;
}

/* ---- the command ---------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

static void bench_free(bench_t *b)
{
    if (b->run != NULL) {
        bench_run_stop(b->run);
        mqtls_client_destroy(b->run->shared);
        (void)pthread_mutex_destroy(&b->run->class_mu);
        free(b->run);
    }
    free(b->ramp.hist);
    free(b->resumed.hist);
    free(b->full.hist);
    free(b->latency);
    free(b->prev);
    free(b->cur);
    bench_series_free(&b->series);
    bench_devices_free(b->dev, b->dev_count);
    free(b->broker_store);
}

/* The shared certificate, parsed once: every device's client shares its TLS context. */
static int make_shared(bench_t *b)
{
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.ca_file = b->cfg.cafile;
    tls.cert_file = b->cfg.shared_cert;
    tls.key_file = b->cfg.shared_key;
    tls.server_name = b->cfg.server_name;
    tls.insecure = b->cfg.insecure;
    tls.enabled = true;
    tls.max_fragment_len = b->cfg.tls_max_fragment;
    if (b->cfg.tls_version != 0) {
        tls.min_version = b->cfg.tls_version;
        tls.max_version = b->cfg.tls_version;
    }
    mqtls_client_cfg_t cc;
    mqtls_client_cfg_init(&cc);
    cc.uri = b->cfg.brokers[0];
    cc.tls = &tls;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_status_t st = mqtls_client_create(&cc, &err, &b->run->shared);
    if (st != MQTLS_OK) {
        char line[512];
        mqtls_strerror(&err, line, sizeof line);
        fprintf(stderr, "mqtls: load --cert/--key: %s\n", line);
        return st == MQTLS_ERR_FILE_UNREADABLE || st == MQTLS_ERR_FILE_EMPTY ? MQTLS_EXIT_FILE
                                                                             : MQTLS_EXIT_FAIL;
    }
    return MQTLS_EXIT_OK;
}

static int run_bench(const cli_opts_t *o)
{
    bench_t b;
    memset(&b, 0, sizeof b);
    b.o = o;
    int rc = setup(&b);
    if (rc != MQTLS_EXIT_OK) {
        bench_free(&b);
        return rc;
    }
    b.tty = isatty(STDERR_FILENO) != 0;
    b.progress = !o->quiet;
    b.run = calloc(1, sizeof *b.run);
    b.prev = calloc(1, sizeof *b.prev);
    b.cur = calloc(1, sizeof *b.cur);
    if (b.run == NULL || b.prev == NULL || b.cur == NULL) {
        bench_free(&b);
        return MQTLS_EXIT_FAIL;
    }
    b.run->cfg = &b.cfg;
    b.run->dev = b.dev;
    (void)pthread_mutex_init(&b.run->class_mu, NULL);
    if (o->insecure) {
        fprintf(stderr,
                "mqtls: WARNING: --insecure: no device verifies the broker's certificate\n");
    }
    if (b.cfg.shared_cert != NULL && (rc = make_shared(&b)) != MQTLS_EXIT_OK) {
        bench_free(&b);
        return rc;
    }
    if (bench_run_start(b.run) != 0) {
        fprintf(stderr, "mqtls bench: cannot start %u loop threads\n", b.cfg.threads);
        bench_free(&b);
        return MQTLS_EXIT_FAIL;
    }
    b.t_start_us = bench_now_us();
    double duration = o->duration_s >= 0 ? o->duration_s : 10.0;
    double ramp = o->rate > 0 ? (double)b.cfg.devices / o->rate : 0.0;
    double bound = o->timeout_s > 0 ? (double)o->timeout_s
                                    : 120.0 + (double)b.cfg.devices * 0.05 + ramp * 3 + duration +
                                          (o->hold_s > 0 ? o->hold_s : 5.0) + 3 * 60.0;
    b.deadline_us = b.t_start_us + (int64_t)(bound * 1e6);
    b.next_sample_us = b.t_start_us;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);

    run_scenario(&b);

    /* the end: every device disconnects (bounded), then the threads free their clients */
    int64_t saved = b.deadline_us;
    b.deadline_us = bench_now_us() + PHASE_MARGIN_US; /* even after -W: leave cleanly */
    bool was_timed_out = b.timed_out;
    (void)disconnect_all(&b);
    b.timed_out = was_timed_out;
    b.deadline_us = saved;
    b.rss_peak_kib = status_kib("VmHWM:");
    bench_run_stop(b.run);
    if (o->plot != NULL) {
        char title[160];
        (void)snprintf(title, sizeof title, "mqtls bench %s: %zu devices, %u thread%s",
                       b.cfg.scenario, b.cfg.devices, b.cfg.threads, b.cfg.threads == 1 ? "" : "s");
        b.plot_error =
            bench_plot(&b.series, o->plot, title, b.sc == SC_CONNECT || b.sc == SC_RECONNECT);
    }
    if (o->json) {
        report_json(&b);
    } else {
        report_text(&b);
    }
    rc = exit_code(&b);
    bench_free(&b);
    return rc;
}

int mqtls_cmd_bench(int argc, char **argv)
{
    static cli_opts_t o; /* large: keep it off the stack */
    int rc = cli_parse(&o, CLI_BENCH, argc, argv, stdout, stderr);
    if (rc == CLI_PARSE_HELP) {
        return MQTLS_EXIT_OK;
    }
    if (rc == CLI_PARSE_OK) {
        rc = run_bench(&o);
    }
    cli_opts_free(&o);
    return rc;
}
