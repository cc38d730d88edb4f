/* The harness itself: PKI generation and a broker that starts, restarts and stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>

#include "harness.h"

static void test_harness_broker_start_restart_stop_ports_follow(void **state)
{
    (void)state;
    th_pki_t pki;
    assert_int_equal(th_pki_make(&pki), 0);
    struct stat st;
    assert_int_equal(stat(pki.client_key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    th_broker_t b;
    assert_int_equal(th_broker_start(&b, &pki, NULL), 0);
    assert_true(b.pid > 0);
    assert_int_equal(th_wait_port(b.port_mtls, 1000), 0);
    assert_int_equal(th_broker_restart(&b), 0);
    assert_int_equal(th_wait_port(b.port_plain, 1000), 0);
    assert_int_equal(th_broker_kill(&b), 0);
    assert_int_equal(th_wait_port(b.port_plain, 200), -1); /* nothing listens any more */
    th_broker_cleanup(&b);
    th_pki_remove(&pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_harness_broker_start_restart_stop_ports_follow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
