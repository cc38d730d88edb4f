/* Options, the fleet manifest, the clock and the RESULT line of the storm peers
 * (storm_common.h). */
#include "storm_common.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --host 127.0.0.1 --port P --cafile CA --fleet DIR -n N [--rate R]\n"
            "       [--threads T] [--timeout S]\n",
            prog);
    exit(2);
}

static double parse_num(const char *prog, const char *s, double max)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max) {
        fprintf(stderr, "storm %s: bad number '%s'\n", prog, s);
        exit(2);
    }
    return v;
}

static void read_fleet(const char *prog, storm_opts_t *o)
{
    char path[600];
    (void)snprintf(path, sizeof path, "%s/fleet.csv", o->fleet);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "storm %s: %s: %s\n", prog, path, strerror(errno));
        exit(4);
    }
    o->dev = calloc(o->n, sizeof *o->dev);
    if (o->dev == NULL) {
        exit(1);
    }
    char line[1024];
    size_t k = 0;
    while (k < o->n && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "id,", 3) == 0) {
            continue;
        }
        char *c1 = strchr(line, ',');
        char *c2 = c1 != NULL ? strchr(c1 + 1, ',') : NULL;
        if (c2 == NULL) {
            continue;
        }
        char *c3 = strpbrk(c2 + 1, ",\r\n");
        *c1 = '\0';
        *c2 = '\0';
        if (c3 != NULL) {
            *c3 = '\0';
        }
        storm_device_t *d = &o->dev[k++];
        int a = snprintf(d->id, sizeof d->id, "%.71s", line);
        int b = snprintf(d->cert, sizeof d->cert, "%.250s/%.250s", o->fleet, c1 + 1);
        int e = snprintf(d->key, sizeof d->key, "%.250s/%.250s", o->fleet, c2 + 1);
        if (a < 0 || b < 0 || e < 0) {
            exit(2);
        }
    }
    (void)fclose(f);
    if (k < o->n) {
        fprintf(stderr, "storm %s: %s has %zu devices, -n %zu\n", prog, path, k, o->n);
        exit(2);
    }
}

void storm_parse(int argc, char **argv, const char *prog, storm_opts_t *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},    {"port", required_argument, NULL, 'p'},
        {"cafile", required_argument, NULL, 'a'},  {"fleet", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},   {"rate", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'}, {"timeout", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->threads = 1;
    o->timeout_s = 120;
    int c;
    while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            o->port = (unsigned)parse_num(prog, optarg, 65535);
            break;
        case 'a':
            o->cafile = optarg;
            break;
        case 'f':
            o->fleet = optarg;
            break;
        case 'n':
            o->n = (size_t)parse_num(prog, optarg, 1000000);
            break;
        case 'r':
            o->rate = parse_num(prog, optarg, 1e6);
            break;
        case 't':
            o->threads = (unsigned)parse_num(prog, optarg, 64);
            break;
        case 'w':
            o->timeout_s = (unsigned)parse_num(prog, optarg, 3600);
            break;
        default:
            usage(prog);
        }
    }
    if (o->port == 0 || o->cafile == NULL || o->fleet == NULL || o->n == 0 || o->threads == 0 ||
        optind != argc) {
        usage(prog);
    }
    read_fleet(prog, o);
}

int64_t storm_now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void storm_sleep_us(int64_t us)
{
    if (us <= 0) {
        return;
    }
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    (void)nanosleep(&ts, NULL);
}

int64_t storm_start_at(const storm_opts_t *o, int64_t t0, size_t i)
{
    return o->rate > 0 ? t0 + (int64_t)((double)i * 1e6 / o->rate) : t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void storm_report(const char *prog, const char *phase, const storm_opts_t *o, size_t connected,
                  int64_t t0, int64_t last_connack, int64_t *lat_us, size_t resumed)
{
    qsort(lat_us, connected, sizeof *lat_us, cmp_i64);
    double seconds = connected > 0 && last_connack > t0 ? (double)(last_connack - t0) / 1e6 : 0;
    double p50 = connected > 0 ? (double)lat_us[(connected * 50 + 99) / 100 - 1] / 1000.0 : 0;
    double p99 = connected > 0 ? (double)lat_us[(connected * 99 + 99) / 100 - 1] / 1000.0 : 0;
    char res[32];
    if (resumed == STORM_RESUMED_UNKNOWN) {
        (void)snprintf(res, sizeof res, "?");
    } else {
        (void)snprintf(res, sizeof res, "%zu", resumed);
    }
    printf("RESULT prog=%s phase=%s n=%zu connected=%zu seconds=%.3f rate=%.1f p50_ms=%.1f "
           "p99_ms=%.1f resumed=%s\n",
           prog, phase, o->n, connected, seconds, seconds > 0 ? (double)connected / seconds : 0.0,
           p50, p99, res);
    fflush(stdout);
}
