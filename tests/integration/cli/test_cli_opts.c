/* Unit tests of the pub/sub option parser and output formatters (tools/mqtls/cli_client.c,
 * compiled here with CLI_CLIENT_NO_CONNECT: no socket, no broker). */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_client.h"
#include "commands.h"

static cli_opts_t opts;
static char errbuf[4096];

/* Parse a NULL-terminated list; stderr text goes to errbuf. */
static int parse(cli_mode_t mode, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)(mode == CLI_PUB ? "pub" : "sub");
    for (size_t i = 0; args[i] != NULL; i++) {
        argv[argc++] = (char *)args[i];
    }
    memset(errbuf, 0, sizeof(errbuf));
    FILE *err = fmemopen(errbuf, sizeof(errbuf) - 1, "w");
    FILE *out = fopen("/dev/null", "w");
    int rc = cli_parse(&opts, mode, argc, argv, out, err);
    fclose(err);
    fclose(out);
    return rc;
}

static void test_cli_parse_pub_basic_fields_set(void **state)
{
    (void)state;
    const char *a[] = {"-h", "broker", "-p",   "1884", "-t", "a/b", "-m",   "hi", "-q", "2",
                       "-r", "-i",     "dev1", "-k",   "30", "-u",  "user", "-P", "pw", NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_string_equal(opts.host, "broker");
    assert_int_equal(opts.port, 1884);
    assert_string_equal(opts.topics[0], "a/b");
    assert_int_equal(opts.msg_src, CLI_MSG_ARG);
    assert_string_equal(opts.message, "hi");
    assert_int_equal(opts.qos, 2);
    assert_true(opts.retain);
    assert_string_equal(opts.id, "dev1");
    assert_int_equal(opts.keepalive_s, 30);
    assert_false(opts.tls);
    assert_int_equal(cli_port(&opts), 1884);
}

static void test_cli_parse_tls_flag_enables_tls_and_default_port(void **state)
{
    (void)state;
    const char *a[] = {"-t", "x", "-n", "--cert", "c.pem", "--key", "k.pem", NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_true(opts.tls);
    assert_true(opts.system_ca); /* no --cafile: the system store */
    assert_int_equal(cli_port(&opts), 8883);
    const char *b[] = {"-t", "x", "-n", "--tls-server-name", "example", NULL};
    assert_int_equal(parse(CLI_PUB, b), CLI_PARSE_OK);
    assert_true(opts.tls);
    const char *c[] = {"-t", "x", "-n", "--insecure", NULL};
    assert_int_equal(parse(CLI_PUB, c), CLI_PARSE_OK);
    assert_true(opts.tls);
    assert_false(opts.system_ca);
}

static void test_cli_parse_url_sets_host_port_user_topic(void **state)
{
    (void)state;
    const char *a[] = {"-L", "mqtts://alice:secret@[::1]:8884/sensors/t1", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_true(opts.tls);
    assert_string_equal(cli_host(&opts), "::1");
    assert_int_equal(cli_port(&opts), 8884);
    assert_string_equal(opts.url_user, "alice");
    assert_string_equal(opts.url_pass, "secret");
    assert_string_equal(opts.topics[0], "sensors/t1");
    const char *b[] = {"-L", "http://x/y", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, b), MQTLS_EXIT_USAGE);
}

static void test_cli_parse_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *no_msg[] = {"-t", "x", NULL};
    assert_int_equal(parse(CLI_PUB, no_msg), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "no message"));
    const char *two_msgs[] = {"-t", "x", "-m", "a", "-n", NULL};
    assert_int_equal(parse(CLI_PUB, two_msgs), MQTLS_EXIT_USAGE);
    const char *bad_qos[] = {"-t", "x", "-m", "a", "-q", "3", NULL};
    assert_int_equal(parse(CLI_PUB, bad_qos), MQTLS_EXIT_USAGE);
    const char *sub_only[] = {"-t", "x", "-m", "a", "-C", "1", NULL};
    assert_int_equal(parse(CLI_PUB, sub_only), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "for 'mqtls sub' only"));
    const char *wild[] = {"-t", "a/#", "-m", "a", NULL};
    assert_int_equal(parse(CLI_PUB, wild), MQTLS_EXIT_USAGE);
    const char *no_topic[] = {"-C", "1", NULL};
    assert_int_equal(parse(CLI_SUB, no_topic), MQTLS_EXIT_USAGE);
    const char *unknown[] = {"-t", "x", "--bogus", NULL};
    assert_int_equal(parse(CLI_SUB, unknown), MQTLS_EXIT_USAGE);
    const char *cert_no_key[] = {"-t", "x", "--cert", "c", NULL};
    assert_int_equal(parse(CLI_SUB, cert_no_key), MQTLS_EXIT_USAGE);
    const char *pw_no_user[] = {"-t", "x", "-P", "p", NULL};
    assert_int_equal(parse(CLI_SUB, pw_no_user), MQTLS_EXIT_USAGE);
    const char *will_no_topic[] = {"-t", "x", "--will-payload", "p", NULL};
    assert_int_equal(parse(CLI_SUB, will_no_topic), MQTLS_EXIT_USAGE);
    const char *keyform[] = {"-t", "x", "--keyform", "engine", NULL};
    assert_int_equal(parse(CLI_SUB, keyform), MQTLS_EXIT_USAGE);
    const char *tlsv[] = {"-t", "x", "--tls-version", "tlsv1.1", NULL};
    assert_int_equal(parse(CLI_SUB, tlsv), MQTLS_EXIT_USAGE);
    const char *v[] = {"-t", "x", "-V", "4", NULL};
    assert_int_equal(parse(CLI_SUB, v), MQTLS_EXIT_USAGE);
}

static void test_cli_parse_property_makes_v5_and_rejects_v311(void **state)
{
    (void)state;
    const char *a[] = {"-t",
                       "x",
                       "-m",
                       "a",
                       "-D",
                       "publish",
                       "user-property",
                       "k",
                       "v",
                       "-D",
                       "connect",
                       "session-expiry-interval",
                       "60",
                       NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_int_equal(opts.version, MQTLS_V5);
    assert_int_equal(opts.prop_count, 2);
    assert_int_equal(opts.props[0].cmd, MQTLS_PUBLISH);
    assert_int_equal(opts.props[0].prop.id, MQTLS_PROP_USER_PROPERTY);
    assert_memory_equal(opts.props[0].prop.v.pair.value.data, "v", 1);
    assert_int_equal(opts.props[1].prop.v.u32, 60);
    const char *b[] = {"-V", "311",     "-t",           "x", "-m", "a",
                       "-D", "publish", "content-type", "t", NULL};
    assert_int_equal(parse(CLI_PUB, b), MQTLS_EXIT_USAGE);
    const char *c[] = {"-t", "x", "-m", "a", "-D", "publish", "session-expiry-interval", "1", NULL};
    assert_int_equal(parse(CLI_PUB, c), MQTLS_EXIT_USAGE);
    const char *d[] = {"-t", "x", "-m", "a", "-D", "publish", "no-such-prop", "1", NULL};
    assert_int_equal(parse(CLI_PUB, d), MQTLS_EXIT_USAGE);
    /* a property the command would not send is refused, not ignored */
    const char *e[] = {"-t", "x", "-m", "a", "-D", "subscribe", "user-property", "k", "v", NULL};
    assert_int_equal(parse(CLI_PUB, e), MQTLS_EXIT_USAGE);
    const char *f[] = {"-t", "x", "-D", "publish", "content-type", "t", NULL};
    assert_int_equal(parse(CLI_SUB, f), MQTLS_EXIT_USAGE);
    const char *g[] = {"-t", "x", "-D", "unsubscribe", "user-property", "k", "v", NULL};
    assert_int_equal(parse(CLI_SUB, g), MQTLS_EXIT_USAGE);
}

static void test_cli_parse_keypass_file_read_and_missing_exits_4(void **state)
{
    (void)state;
    char path[] = "/tmp/mqtls-keypass-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("s3cret\nignored\n", f);
    fclose(f);
    const char *a[] = {"-t", "x", "--keypass-file", path, NULL};
    assert_int_equal(parse(CLI_SUB, a), CLI_PARSE_OK);
    assert_string_equal(opts.keypass, "s3cret");
    assert_true(opts.tls);
    cli_opts_free(&opts);
    assert_int_equal(opts.keypass_buf[0], 0);
    remove(path);
    const char *b[] = {"-t", "x", "--keypass-file", "/nonexistent/pass", NULL};
    assert_int_equal(parse(CLI_SUB, b), MQTLS_EXIT_FILE);
}

static void test_cli_print_config_masks_secrets(void **state)
{
    (void)state;
    const char *a[] = {"-t",        "x",      "-u", "bob",   "-P", "hunter2", "--keypass",
                       "topsecret", "--cert", "c",  "--key", "k",  NULL};
    assert_int_equal(parse(CLI_SUB, a), CLI_PARSE_OK);
    char out[4096] = {0};
    FILE *f = fmemopen(out, sizeof(out) - 1, "w");
    cli_print_config(&opts, f);
    fclose(f);
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "topsecret"));
    assert_non_null(strstr(out, "password ***"));
    assert_non_null(strstr(out, "keypass ***"));
}

static void test_cli_help_lists_every_option_of_its_mode(void **state)
{
    (void)state;
    char out[16384] = {0};
    FILE *f = fmemopen(out, sizeof(out) - 1, "w");
    cli_help(CLI_SUB, f);
    fclose(f);
    size_t n = 0;
    const cli_option_t *o = cli_options(&n);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "--%s", o[i].long_name);
        if ((o[i].modes & (1u << CLI_SUB)) != 0) {
            assert_non_null(strstr(out, name));
        }
    }
    assert_non_null(strstr(out, "exit codes"));
    assert_null(strstr(out, "--stdin-line")); /* pub only */
}

static cli_msg_t sample(void)
{
    cli_msg_t m;
    memset(&m, 0, sizeof(m));
    m.topic = (const uint8_t *)"a/b";
    m.topic_len = 3;
    m.payload = (const uint8_t *)"hi\"\x01";
    m.payload_len = 4;
    m.qos = 1;
    m.retain = true;
    m.mid = 7;
    m.when.tv_sec = 1700000000;
    m.when.tv_nsec = 123456789;
    return m;
}

static void check_format(const char *fmt, const cli_msg_t *m, const char *want, size_t want_len)
{
    cli_buf_t b = {0};
    cli_format(&b, fmt, m);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.data, want, want_len);
    cli_buf_free(&b);
}

static void test_cli_format_sequences(void **state)
{
    (void)state;
    cli_msg_t m = sample();
    check_format("%t|%q|%r|%m|%l|%%", &m, "a/b|1|1|7|4|%", 13);
    check_format("%x %X", &m, "68692201 68692201", 17);
    check_format("[%5t][%-5t][%.1t][%05l]", &m, "[  a/b][a/b  ][a][00004]", 24);
    check_format("a\\nb\\tc\\\\\\0", &m, "a\nb\tc\\\0", 7);
    check_format("%U", &m, "1700000000.123456789", 20);
    check_format("@N @@", &m, "123456789 @", 11);
    check_format("%p", &m, "hi\"\x01", 4);
    /* %j: mosquitto_sub's JSON (the time depends on TZ: check around it) */
    cli_buf_t b = {0};
    cli_format(&b, "%j", &m);
    cli_buf_add(&b, "", 1);
    assert_true(strncmp(b.data, "{\"tst\":\"20", 10) == 0);
    assert_non_null(strstr(b.data, ".123456"));
    assert_non_null(strstr(
        b.data, "\",\"topic\":\"a/b\",\"qos\":1,\"retain\":1,\"payload\":\"hi\\\"\\u0001\"}"));
    cli_buf_free(&b);
}

static void test_cli_format_properties(void **state)
{
    (void)state;
    cli_msg_t m = sample();
    /* raw MQTT 5 property block: content-type "t/x", user-property k=v, k2=v2, expiry 9 */
    static const uint8_t raw[] = {0x03, 0x00, 0x03, 't', '/',  'x',  0x26, 0x00, 0x01,
                                  'k',  0x00, 0x01, 'v', 0x26, 0x00, 0x02, 'k',  '2',
                                  0x00, 0x02, 'v',  '2', 0x02, 0x00, 0x00, 0x00, 0x09};
    m.props.raw.data = raw;
    m.props.raw.len = sizeof(raw);
    check_format("%C|%P|%E|%R", &m, "t/x|k:v k2:v2|9|", 16);
    cli_buf_t b = {0};
    cli_format_json(&b, &m);
    cli_buf_add(&b, "", 1);
    assert_non_null(strstr(b.data, "\"topic\":\"a/b\""));
    assert_non_null(strstr(b.data, "\"payload\":\"hi\\\"\\u0001\""));
    assert_non_null(strstr(b.data, "\"retain\":true"));
    assert_non_null(strstr(b.data, "\"content-type\":\"t/x\""));
    assert_non_null(strstr(b.data, "\"message-expiry-interval\":9"));
    assert_non_null(strstr(b.data, "\"user-property\":[[\"k\",\"v\"],[\"k2\",\"v2\"]]"));
    cli_buf_free(&b);
}

static void test_cli_render_modes(void **state)
{
    (void)state;
    cli_msg_t m = sample();
    const char *a[] = {"-t", "x", "-v", NULL};
    assert_int_equal(parse(CLI_SUB, a), CLI_PARSE_OK);
    cli_buf_t b = {0};
    cli_render(&b, &opts, &m);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "a/b hi\"\x01\n", 9);
    const char *n[] = {"-t", "x", "-N", NULL};
    assert_int_equal(parse(CLI_SUB, n), CLI_PARSE_OK);
    b.len = 0;
    cli_render(&b, &opts, &m);
    assert_int_equal(b.len, 4);
    /* binary payload in JSON: hex, still valid JSON */
    static const uint8_t bin[] = {0xff, 0x00};
    m.payload = bin;
    m.payload_len = 2;
    const char *j[] = {"-t", "x", "--json", NULL};
    assert_int_equal(parse(CLI_SUB, j), CLI_PARSE_OK);
    b.len = 0;
    cli_render(&b, &opts, &m);
    cli_buf_add(&b, "", 1);
    assert_non_null(strstr(b.data, "\"payload_hex\":\"ff00\""));
    cli_buf_free(&b);
}

static void test_cli_filter_out_matches_wildcards(void **state)
{
    (void)state;
    const char *a[] = {"-t", "#", "-T", "a/+/c", "-T", "x/#", NULL};
    assert_int_equal(parse(CLI_SUB, a), CLI_PARSE_OK);
    assert_true(cli_topic_filtered_out(&opts, (const uint8_t *)"a/b/c", 5));
    assert_false(cli_topic_filtered_out(&opts, (const uint8_t *)"a/b/d", 5));
    assert_true(cli_topic_filtered_out(&opts, (const uint8_t *)"x", 1));
    assert_true(cli_topic_filtered_out(&opts, (const uint8_t *)"x/y/z", 5));
    assert_false(cli_topic_filtered_out(&opts, (const uint8_t *)"xy", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_parse_pub_basic_fields_set),
        cmocka_unit_test(test_cli_parse_tls_flag_enables_tls_and_default_port),
        cmocka_unit_test(test_cli_parse_url_sets_host_port_user_topic),
        cmocka_unit_test(test_cli_parse_usage_errors_exit_2),
        cmocka_unit_test(test_cli_parse_property_makes_v5_and_rejects_v311),
        cmocka_unit_test(test_cli_parse_keypass_file_read_and_missing_exits_4),
        cmocka_unit_test(test_cli_print_config_masks_secrets),
        cmocka_unit_test(test_cli_help_lists_every_option_of_its_mode),
        cmocka_unit_test(test_cli_format_sequences),
        cmocka_unit_test(test_cli_format_properties),
        cmocka_unit_test(test_cli_render_modes),
        cmocka_unit_test(test_cli_filter_out_matches_wildcards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
