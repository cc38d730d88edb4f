/* Log-bucketed histograms for `mqtls bench` (bench.h): HdrHistogram's layout with 128 sub-buckets
 * per power of two. A value v < 256 is its own bucket; above, with e = floor(log2 v) - 7, the
 * bucket is e * 128 + (v >> e), whose values share their 8 leading bits: at most 1/128 apart.
 * Counting is one relaxed atomic add, so every loop thread adds to the same histogram and the
 * main thread reads it while they run (a snapshot may be a few samples behind, never torn in
 * a way that matters for a percentile). */
#include <string.h>

#include "bench.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < 2u * BENCH_HIST_SUB) {
        return (unsigned)v;
    }
    unsigned log2 = 63u - (unsigned)__builtin_clzll(v);
    unsigned e = log2 - 7u;
    unsigned idx = e * BENCH_HIST_SUB + (unsigned)(v >> e);
    return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1u;
}

/* The highest value that falls in bucket @p idx. */
static uint64_t bucket_high(unsigned idx)
{
    if (idx < 2u * BENCH_HIST_SUB) {
        return idx;
    }
    unsigned e = idx / BENCH_HIST_SUB - 1u;
    uint64_t sub = idx - e * BENCH_HIST_SUB;
    return ((sub + 1u) << e) - 1u;
}

void bench_hist_reset(bench_hist_t *h)
{
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        atomic_store_explicit(&h->counts[i], 0, memory_order_relaxed);
    }
    atomic_store(&h->total, 0);
    atomic_store(&h->sum, 0);
    atomic_store(&h->max, 0);
}

void bench_hist_add(bench_hist_t *h, uint64_t v)
{
    atomic_fetch_add_explicit(&h->counts[bucket_of(v)], 1u, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);
    while (v > m && !atomic_compare_exchange_weak_explicit(&h->max, &m, v, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
    atomic_fetch_add_explicit(&h->total, 1u, memory_order_release);
}

void bench_hist_snapshot(const bench_hist_t *h, bench_hist_snap_t *out)
{
    out->total = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        out->counts[i] = atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        out->total += out->counts[i]; /* consistent with the buckets read */
    }
    out->sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
    out->max = atomic_load_explicit(&h->max, memory_order_relaxed);
}

void bench_hist_interval(bench_hist_snap_t *then, const bench_hist_snap_t *now)
{
    then->total = 0;
    then->max = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        uint64_t c = now->counts[i] >= then->counts[i] ? now->counts[i] - then->counts[i] : 0;
        then->counts[i] = c;
        then->total += c;
        if (c != 0) {
            then->max = bucket_high((unsigned)i);
        }
    }
    then->sum = now->sum >= then->sum ? now->sum - then->sum : 0;
}

uint64_t bench_hist_quantile(const bench_hist_snap_t *s, double q)
{
    if (s->total == 0) {
        return 0;
    }
    if (q < 0.0) {
        q = 0.0;
    }
    double r = q * (double)s->total;
    uint64_t rank = (uint64_t)r; /* ceil: the first sample at or above the quantile */
    if ((double)rank < r) {
        rank++;
    }
    if (rank < 1u) {
        rank = 1u;
    }
    if (rank > s->total) {
        rank = s->total;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += s->counts[i];
        if (seen >= rank) {
            uint64_t v = bucket_high(i);
            return s->max != 0 && v > s->max ? s->max : v;
        }
    }
    return s->max;
}
