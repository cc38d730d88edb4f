/* Runs the ESP-IDF ssl_mutual_auth example binaries (certificates embedded at build time with
 * mqtls_embed_files) against a mosquitto that serves the same PKI, and checks their output:
 *   argv[1] PKI dir, argv[2] v5 example, argv[3] v4 example, argv[4] weak-CA example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char **args;
static th_pki_t pki;
static th_broker_t broker;

/* Run @p exe for a few seconds with MQTT_BROKER_URI; return stdout+stderr (caller frees). */
static char *run_example(const char *exe, uint16_t port)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "MQTT_BROKER_URI=mqtts://localhost:%u MQTLS_EXAMPLE_RUN_S=3 timeout 20 %s 2>&1",
             port, exe);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, len = 0;
    char *out = calloc(1, cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0) {
        len += n;
    }
    pclose(p);
    fputs(out, stderr);
    return out;
}

static int setup(void **state)
{
    (void)state;
    return th_pki_load(&pki, args[1]) == 0 && th_broker_start(&broker, &pki, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    return 0;
}

static void expect_round_trip(const char *out)
{
    assert_non_null(strstr(out, "MQTT_EVENT_CONNECTED"));
    assert_non_null(strstr(out, "DATA=data_qos0"));
    assert_non_null(strstr(out, "DATA=data_qos1"));
    assert_non_null(strstr(out, "DATA=data_qos2"));
    assert_null(strstr(out, "MQTT_EVENT_ERROR"));
}

static void test_esp_example_v5_layout_receives_own_messages(void **state)
{
    (void)state;
    char *out = run_example(args[2], broker.port_mtls);
    expect_round_trip(out);
    free(out);
}

static void test_esp_example_v4_layout_receives_own_messages(void **state)
{
    (void)state;
    char *out = run_example(args[3], broker.port_mtls);
    expect_round_trip(out);
    free(out);
}

static void test_esp_example_weak_ca_logs_device_error_and_finding(void **state)
{
    (void)state;
    char *out = run_example(args[4], broker.port_weak);
    assert_non_null(strstr(out, "esp-tls: mbedtls_ssl_handshake returned -0x2700"));
    assert_non_null(strstr(out, "MQTT_EVENT_ERROR"));
    assert_non_null(strstr(out, "Last tls stack error number: 0x2700"));
    assert_non_null(strstr(out, "Certificate verify flags: 0x1"));
    assert_non_null(strstr(out, "[weak-key]"));
    assert_null(strstr(out, "MQTT_EVENT_CONNECTED"));
    free(out);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PKI_DIR V5_EXE V4_EXE WEAK_EXE\n", argv[0]);
        return 2;
    }
    args = argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_example_v5_layout_receives_own_messages),
        cmocka_unit_test(test_esp_example_v4_layout_receives_own_messages),
        cmocka_unit_test(test_esp_example_weak_ca_logs_device_error_and_finding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
