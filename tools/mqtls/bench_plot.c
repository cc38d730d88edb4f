/* `mqtls bench` over time: the samples the main thread takes, the gnuplot plot drawn from them,
 * and the histogram pieces of the JSON and text reports (bench.h). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define PLOT_TIMEOUT_MS 30000

extern char **environ;

void bench_series_add(bench_series_t *ser, const bench_sample_t *s)
{
    if (ser->count == ser->cap) {
        size_t cap = ser->cap != 0 ? ser->cap * 2u : 256u;
        bench_sample_t *p = realloc(ser->s, cap * sizeof *p);
        if (p == NULL) {
            return; /* a sample less: the run goes on */
        }
        ser->s = p;
        ser->cap = cap;
    }
    ser->s[ser->count++] = *s;
}

void bench_series_free(bench_series_t *ser)
{
    free(ser->s);
    memset(ser, 0, sizeof *ser);
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

void bench_json_hist(FILE *out, const bench_hist_snap_t *s)
{
    fprintf(out,
            "{\"count\": %llu, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
            "\"p99_ms\": %.3f, \"p99_9_ms\": %.3f, \"max_ms\": %.3f}",
            (unsigned long long)s->total,
            s->total > 0 ? (double)s->sum / (double)s->total / 1000.0 : 0.0,
            ms(bench_hist_quantile(s, 0.5)), ms(bench_hist_quantile(s, 0.9)),
            ms(bench_hist_quantile(s, 0.99)), ms(bench_hist_quantile(s, 0.999)), ms(s->max));
}

void bench_text_hist(FILE *out, const char *label, const bench_hist_snap_t *s)
{
    if (s->total == 0) {
        fprintf(out, "  %-18s no samples\n", label);
        return;
    }
    fprintf(out, "  %-18s p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f ms  (n=%llu)\n", label,
            ms(bench_hist_quantile(s, 0.5)), ms(bench_hist_quantile(s, 0.9)),
            ms(bench_hist_quantile(s, 0.99)), ms(bench_hist_quantile(s, 0.999)), ms(s->max),
            (unsigned long long)s->total);
}

/* ---- the plot --------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s);
    size_t b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A file name inside a gnuplot single-quoted string: no quote, no newline. */
static bool plain_name(const char *s)
{
    return strpbrk(s, "'\n\r\\") == NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run gnuplot on @p script; bounded: killed (by its PID) after PLOT_TIMEOUT_MS. */
static const char *run_gnuplot(const char *script)
{
    char *argv[] = {(char *)"gnuplot", (char *)script, NULL};
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return "cannot start gnuplot";
    }
    (void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", 1, 0);
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    (void)posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        return rc == ENOENT ? "gnuplot is not installed (apt install gnuplot-nox)"
                            : "cannot start gnuplot";
    }
    int status = 0;
    int64_t deadline = now_ms() + PLOT_TIMEOUT_MS;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return "gnuplot vanished";
        }
        if (now_ms() >= deadline) {
            (void)kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            return "gnuplot took longer than 30 s (killed)";
        }
        struct timespec pause = {0, 20 * 1000 * 1000};
        (void)nanosleep(&pause, NULL);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? NULL : "gnuplot failed (see stderr)";
}

static void fmt_or_missing(FILE *f, double v)
{
    if (v < 0) {
        fputs(" ?", f);
    } else {
        fprintf(f, " %.3f", v);
    }
}

const char *bench_plot(const bench_series_t *ser, const char *file, const char *title,
                       bool connect_latency)
{
    bool svg = ends_with(file, ".svg");
    if (!svg && !ends_with(file, ".png")) {
        return "the plot file must end in .png or .svg";
    }
    if (!plain_name(file) || !plain_name(title)) {
        return "the plot file name has a quote or a newline";
    }
    size_t n = strlen(file) + 8u;
    char *dat = malloc(n);
    char *gp = malloc(n);
    const char *why = NULL;
    FILE *f = NULL;
    if (dat == NULL || gp == NULL) {
        why = "out of memory";
        goto out;
    }
    (void)snprintf(dat, n, "%s.dat", file);
    (void)snprintf(gp, n, "%s.gp", file);
    f = fopen(dat, "w");
    if (f == NULL) {
        why = "cannot write the data file";
        goto out;
    }
    fprintf(f, "# t_s connected failed connects_per_s sent_per_s received_per_s p50_ms p99_ms\n");
    for (size_t i = 0; i < ser->count; i++) {
        const bench_sample_t *s = &ser->s[i];
        double dt = i > 0 ? s->t_s - ser->s[i - 1].t_s : s->t_s;
        dt = dt > 0 ? dt : 1.0;
        fprintf(f, "%.2f %llu %llu %.1f %.1f %.1f", s->t_s, (unsigned long long)s->connected_now,
                (unsigned long long)s->failed, (double)s->connects / dt, (double)s->sent / dt,
                (double)s->received / dt);
        fmt_or_missing(f, s->p50_ms);
        fmt_or_missing(f, s->p99_ms);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        why = "cannot write the data file";
        goto out;
    }
    bool has_latency = false; /* a log scale of nothing stops gnuplot: no second panel then */
    for (size_t i = 0; i < ser->count && !has_latency; i++) {
        has_latency = ser->s[i].p50_ms > 0;
    }
    f = fopen(gp, "w");
    if (f == NULL) {
        why = "cannot write the gnuplot script";
        goto out;
    }
    fprintf(f,
            "set terminal %s size 1100,%d font 'sans,10'\n"
            "set output '%s'\n"
            "set datafile missing '?'\n"
            "set multiplot layout %d,1 title '%s'\n"
            "set grid\n"
            "set key top left\n"
            "set xlabel 'time (s)'\n"
            "set ylabel 'devices'\n"
            "set y2label 'per second'\n"
            "set ytics nomirror\n"
            "set y2tics\n"
            "plot '%s' using 1:2 with lines lw 2 title 'connected', "
            "'' using 1:3 with lines lw 2 title 'failed', "
            "'' using 1:4 axes x1y2 with lines title 'connects/s', "
            "'' using 1:5 axes x1y2 with lines title 'sent/s', "
            "'' using 1:6 axes x1y2 with lines title 'received/s'\n",
            svg ? "svg" : "pngcairo", has_latency ? 800 : 450, file, has_latency ? 2 : 1, title,
            dat);
    if (has_latency) {
        fprintf(f,
                "unset y2label\n"
                "unset y2tics\n"
                "set ytics mirror\n"
                "set ylabel '%s latency (ms), per interval'\n"
                "set logscale y\n"
                "plot '%s' using 1:7 with linespoints title 'p50', "
                "'' using 1:8 with linespoints title 'p99'\n",
                connect_latency ? "connect" : "one-way message", dat);
    }
    fprintf(f, "unset multiplot\n");
    if (fclose(f) != 0) {
        why = "cannot write the gnuplot script";
        goto out;
    }
    why = run_gnuplot(gp);
out:
    free(dat);
    free(gp);
    return why;
}
