/* The log-bucketed histogram of `mqtls bench` (tools/mqtls/bench_hist.c): exact below 256, within
 * 1/128 above, percentiles by rank (not by sorting samples), intervals by subtraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"

static bench_hist_t g_h;
static bench_hist_snap_t g_s, g_t;

static void test_bench_hist_small_values_are_exact(void **state)
{
    (void)state;
    bench_hist_reset(&g_h);
    for (uint64_t v = 0; v < 256; v++) {
        bench_hist_add(&g_h, v);
    }
    bench_hist_snapshot(&g_h, &g_s);
    assert_int_equal(g_s.total, 256);
    assert_int_equal(g_s.max, 255);
    assert_int_equal(bench_hist_quantile(&g_s, 0.0), 0);
    assert_int_equal(bench_hist_quantile(&g_s, 0.5), 127); /* rank 128 */
    assert_int_equal(bench_hist_quantile(&g_s, 1.0), 255);
    assert_int_equal(g_s.sum, 255u * 256u / 2u);
}

static void test_bench_hist_large_values_within_one_percent(void **state)
{
    (void)state;
    bench_hist_reset(&g_h);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = 256u + x % (1ull << 36);
        bench_hist_reset(&g_h);
        bench_hist_add(&g_h, v);
        bench_hist_snapshot(&g_h, &g_s);
        g_s.max = 0; /* judge the bucket alone, not the exact maximum */
        uint64_t q = bench_hist_quantile(&g_s, 0.5);
        assert_true(q >= v);
        assert_true((double)(q - v) <= (double)v / 128.0);
    }
}

static void test_bench_hist_percentiles_of_a_uniform_run(void **state)
{
    (void)state;
    bench_hist_reset(&g_h);
    for (uint64_t v = 1; v <= 100000; v++) {
        bench_hist_add(&g_h, v);
    }
    bench_hist_snapshot(&g_h, &g_s);
    static const double q[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        double want = q[i] * 100000.0;
        double got = (double)bench_hist_quantile(&g_s, q[i]);
        assert_true(got >= want && got <= want * (1.0 + 1.0 / 128.0));
    }
    assert_int_equal(bench_hist_quantile(&g_s, 1.0), 100000); /* capped by the exact max */
    assert_int_equal(g_s.max, 100000);
}

static void test_bench_hist_interval_is_what_was_added_since(void **state)
{
    (void)state;
    bench_hist_reset(&g_h);
    for (int i = 0; i < 1000; i++) {
        bench_hist_add(&g_h, 10);
    }
    bench_hist_snapshot(&g_h, &g_t);
    for (int i = 0; i < 10; i++) {
        bench_hist_add(&g_h, 5000000); /* 5 s */
    }
    bench_hist_snapshot(&g_h, &g_s);
    bench_hist_interval(&g_t, &g_s);
    assert_int_equal(g_t.total, 10);
    uint64_t p50 = bench_hist_quantile(&g_t, 0.5);
    assert_true(p50 >= 5000000 && p50 <= 5000000 + 5000000 / 128);
    assert_int_equal(g_t.sum, 50000000);
    bench_hist_reset(&g_h);
    bench_hist_snapshot(&g_h, &g_s);
    assert_int_equal(bench_hist_quantile(&g_s, 0.99), 0); /* empty */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_hist_small_values_are_exact),
        cmocka_unit_test(test_bench_hist_large_values_within_one_percent),
        cmocka_unit_test(test_bench_hist_percentiles_of_a_uniform_run),
        cmocka_unit_test(test_bench_hist_interval_is_what_was_added_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
