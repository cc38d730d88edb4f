/* Shared option parsing, clock and statistics for the client benchmarks (bench_common.h). */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char topic_buf[64];

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --mode publish|e2e|connect|idle --host 127.0.0.1 --port P\n"
            "       [--cafile F --cert F --key F] [--qos 0|1|2] [--size BYTES] [--count N]\n"
            "       [--inflight 20] [--timeout 60]\n",
            prog);
    exit(2);
}

static unsigned long parse_ul(const char *prog, const char *s, unsigned long max)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max) {
        fprintf(stderr, "bench %s: bad number '%s'\n", prog, s);
        exit(2);
    }
    return v;
}

void bench_parse(int argc, char **argv, const char *prog, bench_opts_t *o)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},   {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},   {"cafile", required_argument, NULL, 'a'},
        {"cert", required_argument, NULL, 'c'},   {"key", required_argument, NULL, 'k'},
        {"qos", required_argument, NULL, 'q'},    {"size", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},  {"inflight", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'}, {"variant", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->mode = BENCH_MODE_PUBLISH;
    o->host = "127.0.0.1";
    o->size = 64;
    o->count = 1000;
    o->inflight = 20;
    o->timeout_s = 60;
    int have_mode = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            have_mode = 1;
            if (strcmp(optarg, "publish") == 0) {
                o->mode = BENCH_MODE_PUBLISH;
            } else if (strcmp(optarg, "e2e") == 0) {
                o->mode = BENCH_MODE_E2E;
            } else if (strcmp(optarg, "connect") == 0) {
                o->mode = BENCH_MODE_CONNECT;
            } else if (strcmp(optarg, "idle") == 0) {
                o->mode = BENCH_MODE_IDLE;
            } else {
                usage(prog);
            }
            break;
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = (uint16_t)parse_ul(prog, optarg, 65535);
            break;
        case 'a':
            o->cafile = optarg;
            break;
        case 'c':
            o->cert = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'q':
            o->qos = (int)parse_ul(prog, optarg, 2);
            break;
        case 's':
            o->size = (size_t)parse_ul(prog, optarg, 256u * 1024u * 1024u);
            break;
        case 'n':
            o->count = (uint32_t)parse_ul(prog, optarg, 10000000u);
            break;
        case 'i':
            o->inflight = (uint32_t)parse_ul(prog, optarg, 65535);
            break;
        case 'v':
            o->variant = optarg;
            break;
        case 't':
            o->timeout_s = (uint32_t)parse_ul(prog, optarg, 3600);
            break;
        default:
            usage(prog);
        }
    }
    if (!have_mode || o->port == 0 || optind != argc) {
        usage(prog);
    }
    if ((o->cafile != NULL) != (o->cert != NULL) || (o->cert != NULL) != (o->key != NULL)) {
        fprintf(stderr, "bench %s: --cafile, --cert and --key go together (mutual TLS)\n", prog);
        exit(2);
    }
    if (o->inflight == 0) {
        o->inflight = 1;
    }
    (void)snprintf(topic_buf, sizeof(topic_buf), "bench/%s/%ld", prog, (long)getpid());
    o->topic = topic_buf;
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

int64_t bench_now_ms(void)
{
    return bench_now_ns() / 1000000;
}

void bench_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

uint8_t *bench_payload(size_t size)
{
    uint8_t *p = malloc(size > 0 ? size : 1);
    if (p == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < size; i++) {
        p[i] = (uint8_t)('a' + i % 26);
    }
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_stats(double *v, size_t n, double *median, double *p99)
{
    *median = 0.0;
    *p99 = 0.0;
    if (n == 0) {
        return;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    *median = (n % 2 == 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    /* nearest rank: the smallest sample with at least 99 % of the samples at or below it */
    size_t rank = (99 * n + 99) / 100;
    *p99 = v[rank - 1];
}

void bench_report_connect(const char *prog, double *ms, size_t n)
{
    double median;
    double p99;
    bench_stats(ms, n, &median, &p99);
    printf("RESULT prog=%s mode=connect n=%zu median_ms=%.3f p99_ms=%.3f min_ms=%.3f\n", prog,
           n, median, p99, n > 0 ? ms[0] : 0.0);
    /* every sample, so run.sh can pool interleaved rounds of several programs */
    printf("SAMPLES prog=%s ms=", prog);
    for (size_t i = 0; i < n; i++) {
        printf("%s%.3f", i > 0 ? "," : "", ms[i]);
    }
    printf("\n");
    fflush(stdout);
}

void bench_report_e2e(const char *prog, const bench_opts_t *o, uint32_t received,
                      int64_t first_pub_ns, int64_t last_recv_ns, int timed_out)
{
    double secs = (double)(last_recv_ns - first_pub_ns) / 1e9;
    double rate = (secs > 0.0 && received > 0) ? (double)received / secs : 0.0;
    printf("RESULT prog=%s mode=e2e tls=%d qos=%d size=%zu count=%u received=%u "
           "elapsed_s=%.3f msgs_per_s=%.0f timed_out=%d\n",
           prog, o->cafile != NULL, o->qos, o->size, o->count, received, secs, rate, timed_out);
    fflush(stdout);
}

void bench_cond_wait_ms(void *cv, void *mu, int ms)
{
    /* pthread_cond_timedwait takes CLOCK_REALTIME; callers re-check a monotonic deadline */
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)ms * 1000000L;
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    (void)pthread_cond_timedwait((pthread_cond_t *)cv, (pthread_mutex_t *)mu, &ts);
}

bool bench_wait_received(void *cv, void *mu, const uint32_t *received, uint32_t want,
                         int64_t hard_end_ms)
{
    uint32_t last_seen = UINT32_MAX;
    int64_t idle_end = bench_now_ms() + 2000;
    while (*received < want && bench_now_ms() < hard_end_ms && bench_now_ms() < idle_end) {
        if (*received != last_seen) {
            last_seen = *received;
            idle_end = bench_now_ms() + 2000;
        }
        bench_cond_wait_ms(cv, mu, 10);
    }
    return *received >= want;
}

void bench_die(const char *prog, const char *what)
{
    fprintf(stderr, "bench %s: %s\n", prog, what);
    exit(1);
}

void bench_idle_heap(const char *prog)
{
    /* Heap in use right now (glibc's count of allocated bytes, whole process): measured while
     * the client sits connected and idle, after its handshake. */
    struct mallinfo2 mi = mallinfo2();
    printf("IDLEHEAP prog=%s inuse=%zu\n", prog, mi.uordblks);
    fflush(stdout);
}

int bench_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

size_t bench_mqtt_connect(uint8_t *out, size_t cap, const char *id, const char *prog)
{
    size_t id_len = strlen(id);
    size_t rem = 10 + 2 + id_len;
    if (rem > 127 || rem + 2 > cap) {
        bench_die(prog, "client id too long");
    }
    static const uint8_t var[10] = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 60};
    out[0] = 0x10;
    out[1] = (uint8_t)rem;
    memcpy(out + 2, var, sizeof(var));
    out[12] = (uint8_t)(id_len >> 8);
    out[13] = (uint8_t)(id_len & 0xFF);
    memcpy(out + 14, id, id_len);
    return rem + 2;
}

int bench_tcp_connect(const bench_opts_t *o, bool nodelay, const char *prog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        bench_die(prog, "socket failed");
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o->port);
    if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
        bench_die(prog, "--host must be an IPv4 address");
    }
    int one = 1;
    if (nodelay) {
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        bench_die(prog, "TCP connect failed");
    }
    return fd;
}
