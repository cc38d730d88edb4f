/* Unit tests of the option parser of pub/sub/doctor and the output formatters
 * (tools/mqtls/cli_{opts,help,props,format,util}.c, linked as mqtls_cli_core: no socket, no
 * broker). */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_format.h"
#include "cli_opts.h"
#include "cli_props.h"
#include "cli_util.h"
#include "commands.h"
#include "mqtls/client.h"

static cli_opts_t opts;
static char errbuf[4096];

/* Parse a NULL-terminated list; stderr text goes to errbuf. */
static int parse(cli_mode_t mode, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)cli_mode_name(mode);
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

static void test_cli_parse_persist_implies_a_persistent_session(void **state)
{
    (void)state;
    const char *a[] = {"-t", "t", "-l", "-q", "1", "--persist", "/tmp/d", NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_string_equal(opts.persist_dir, "/tmp/d");
    assert_false(opts.clean_session); /* -c implied; no -i needed: the id is kept in DIR */
    assert_int_equal(opts.persist_sync, MQTLS_PERSIST_SYNC_EVERY);
    const char *b[] = {"-t", "t", "--persist", "d", "--persist-sync", "batch", NULL};
    assert_int_equal(parse(CLI_SUB, b), CLI_PARSE_OK);
    assert_int_equal(opts.persist_sync, MQTLS_PERSIST_SYNC_BATCH);
    const char *c[] = {"-t", "t", "--persist-sync", "none", NULL};
    assert_int_equal(parse(CLI_SUB, c), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "--persist-sync needs --persist"));
    const char *d[] = {"-t", "t", "--persist", "d", "-I", "x", NULL};
    assert_int_equal(parse(CLI_SUB, d), MQTLS_EXIT_USAGE);
    const char *e[] = {"-t", "t", "--persist", "d", "--persist-sync", "always", NULL};
    assert_int_equal(parse(CLI_SUB, e), MQTLS_EXIT_USAGE);
    const char *f[] = {"-t", "t", "--persist", "", NULL};
    assert_int_equal(parse(CLI_SUB, f), MQTLS_EXIT_USAGE);
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

/* --help of each command lists exactly the options whose page names it, with its text. */
static void test_cli_help_lists_exactly_the_options_of_its_mode(void **state)
{
    (void)state;
    static const cli_mode_t modes[] = {CLI_PUB, CLI_SUB, CLI_DOCTOR, CLI_BENCH};
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        static char out[16384];
        memset(out, 0, sizeof(out));
        FILE *f = fmemopen(out, sizeof(out) - 1, "w");
        cli_help(modes[k], f);
        fclose(f);
        size_t n = 0;
        const cli_option_t *o = cli_options(&n);
        for (size_t i = 0; i < n; i++) {
            /* an option's own line: "  -x, --name ARG ..." or "      --name ARG ..." */
            char line[96];
            if (o[i].short_name != 0) {
                snprintf(line, sizeof(line), "\n  -%c, --%s%s", o[i].short_name, o[i].long_name,
                         o[i].arg != NULL ? " " : "");
            } else {
                snprintf(line, sizeof(line), "\n      --%s%s", o[i].long_name,
                         o[i].arg != NULL ? " " : "");
            }
            const char *at = strstr(out, line);
            bool takes = (o[i].modes & CLI_BIT(modes[k])) != 0;
            assert_true((at != NULL) == takes);
            assert_true((o[i].help[modes[k]] != NULL) == takes);
        }
        assert_non_null(strstr(out, "exit codes"));
    }
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
    assert_non_null(strstr(b.data, "Z+") != NULL ? b.data : strstr(b.data, "Z-"));
    assert_non_null(strstr(b.data, "\",\"topic\":\"a/b\",\"qos\":1,\"retain\":1,\"payloadlen\":4,"
                                   "\"mid\":7,\"payload\":\"hi\\\"\\u0001\"}"));
    cli_buf_free(&b);
    /* %J: the payload must be JSON (cJSON's rules); it is printed again, compact */
    static const struct {
        const char *payload;
        const char *want; /* NULL: refused */
    } js[] = {
        {" {\"a\" : [1, 2.5e3, \"x\\u00e9\", true, null]} ",
         "{\"a\":[1,2500,\"x\xC3\xA9\",true,null]}"},
        {"[1.5, 1e10, 0.1, -0, 1e400]", "[1.5,10000000000,0.1,-0,null]"},
        {"\"\\ud83d\\ude00\\/\"", "\"\xF0\x9F\x98\x80/\""},
        {"01", "1"},
        {"hello", NULL},
        {"12abc", NULL},
        {"[1,]", NULL},
        {"{\"a\":1,}", NULL},
        {"\"\\udc00\"", NULL},
    };
    for (size_t i = 0; i < sizeof js / sizeof js[0]; i++) {
        cli_msg_t jm = sample();
        jm.payload = (const uint8_t *)js[i].payload;
        jm.payload_len = strlen(js[i].payload);
        cli_buf_t o = {0};
        bool ok = cli_format(&o, "%J", &jm);
        cli_buf_add(&o, "", 1);
        assert_int_equal(ok, js[i].want != NULL);
        if (js[i].want != NULL) {
            char tail[200];
            snprintf(tail, sizeof tail, "\"payload\":%s}", js[i].want);
            assert_non_null(strstr(o.data, tail));
        } else {
            assert_string_equal(o.data, ""); /* nothing for the field */
        }
        cli_buf_free(&o);
    }
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

static void test_cli_filter_out_skips_dollar_topics_for_wildcards(void **state)
{
    (void)state;
    /* [MQTT-4.7.2-1], as mosquitto_sub -T: '#' and '+/...' do not match "$SYS/..." */
    const char *a[] = {"-t", "#", "-T", "#", "-T", "+/x", NULL};
    assert_int_equal(parse(CLI_SUB, a), CLI_PARSE_OK);
    assert_false(cli_topic_filtered_out(&opts, (const uint8_t *)"$SYS/x", 6));
    assert_true(cli_topic_filtered_out(&opts, (const uint8_t *)"a/x", 3));
    const char *b[] = {"-t", "#", "-T", "$SYS/#", NULL};
    assert_int_equal(parse(CLI_SUB, b), CLI_PARSE_OK);
    assert_true(cli_topic_filtered_out(&opts, (const uint8_t *)"$SYS/x", 6));
}

static void test_cli_parse_url_port_user_path_rules(void **state)
{
    (void)state;
    /* no port in the URL: a TLS flag makes it 8883; a given port stays */
    const char *a[] = {"-L", "mqtt://h/t", "-m", "x", "--cafile", "ca", NULL};
    assert_int_equal(parse(CLI_PUB, a), CLI_PARSE_OK);
    assert_int_equal(cli_port(&opts), 8883);
    const char *b[] = {"-L", "mqtt://h:1883/t", "-m", "x", "--cafile", "ca", NULL};
    assert_int_equal(parse(CLI_PUB, b), CLI_PARSE_OK);
    assert_int_equal(cli_port(&opts), 1883);
    const char *c[] = {"-L", "mqtts://[::1]/t", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, c), CLI_PARSE_OK);
    assert_int_equal(cli_port(&opts), 8883);
    assert_string_equal(cli_host(&opts), "::1");
    /* user only, '@' after the first '/' belongs to the topic */
    const char *d[] = {"-L", "mqtt://bob@h:1/t@x", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, d), CLI_PARSE_OK);
    assert_string_equal(opts.url_user, "bob");
    assert_false(opts.url_has_pass);
    assert_string_equal(opts.topics[0], "t@x");
    /* ws: the path is the request path (default /mqtt), the topic comes from -t */
    const char *e[] = {"-L", "ws://h", "-t", "a", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, e), CLI_PARSE_OK);
    assert_int_equal(cli_port(&opts), 80);
    char uri[600];
    assert_true(cli_build_uri(&opts, uri, sizeof uri));
    assert_string_equal(uri, "ws://h:80/mqtt");
    const char *f[] = {"-L", "wss://h:8443/p?q=1", "-t", "a", "-m", "x", NULL};
    assert_int_equal(parse(CLI_PUB, f), CLI_PARSE_OK);
    assert_true(cli_build_uri(&opts, uri, sizeof uri));
    assert_string_equal(uri, "wss://h:8443/p?q=1");
    /* refused: other schemes (the library's ssl://, tcp://, bare host), bad ports, hosts */
    const char *bad[] = {
        "ssl://h/t",        "tcp://h/t",     "h:1/t",     "mqtt://h:/t", "mqtt://h:0/t",
        "mqtt://h:65536/t", "mqtt://[::1/t", "mqtt:///t", "ws://h/p q",  NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        const char *g[] = {"-L", bad[i], "-t", "a", "-m", "x", NULL};
        assert_int_equal(parse(CLI_PUB, g), MQTLS_EXIT_USAGE);
    }
}

static void test_cli_parse_doctor_takes_its_options_and_one_broker(void **state)
{
    (void)state;
    const char *a[] = {"mqtts://h:1", "--cafile", "ca", "--profile", "suiteb", "--offline",
                       "-V",          "31",       "-u", "u",         "--json", NULL};
    assert_int_equal(parse(CLI_DOCTOR, a), CLI_PARSE_OK);
    assert_string_equal(opts.broker, "mqtts://h:1");
    assert_string_equal(opts.profile, "suiteb");
    assert_true(opts.offline);
    assert_true(opts.json);
    assert_int_equal(opts.version, MQTLS_V31);
    const char *two[] = {"mqtt://a", "mqtt://b", NULL};
    assert_int_equal(parse(CLI_DOCTOR, two), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "mqtls: doctor: more than one broker given ('mqtt://b') "
                                   "(MQTLS_ERR_USAGE)\nTry 'mqtls doctor --help'.\n"));
    const char *insecure[] = {"mqtts://h", "--insecure", NULL};
    assert_int_equal(parse(CLI_DOCTOR, insecure), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "option --insecure is for 'mqtls pub', 'mqtls sub' and "
                                   "'mqtls bench' only"));
    /* pub/sub: a doctor option is not theirs either */
    const char *offline[] = {"-t", "x", "-m", "a", "--offline", NULL};
    assert_int_equal(parse(CLI_PUB, offline), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "option --offline is for 'mqtls doctor' only"));
    /* --profile and --tls-engine are for all three; names are checked while parsing */
    const char *device[] = {"-t",           "x",        "-m", "a", "--profile", "esp-idf-4",
                            "--tls-engine", "mbedtls2", NULL};
    assert_int_equal(parse(CLI_PUB, device), CLI_PARSE_OK);
    assert_string_equal(opts.profile, "esp-idf-4");
    assert_string_equal(opts.tls_engine, "mbedtls2");
    assert_true(opts.tls); /* --tls-engine turns TLS on */
    const char *bad_profile[] = {"-t", "x", "--profile", "esp-idf-3", NULL};
    assert_int_equal(parse(CLI_SUB, bad_profile), MQTLS_EXIT_USAGE);
    const char *bad_engine[] = {"mqtts://h", "--tls-engine", "gnutls", NULL};
    assert_int_equal(parse(CLI_DOCTOR, bad_engine), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "--tls-engine 'gnutls': no such TLS engine in this build"));
    const char *json[] = {"-t", "x", "-m", "a", "--json", NULL};
    assert_int_equal(parse(CLI_PUB, json), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "option --json is for 'mqtls sub', 'mqtls doctor' and 'mqtls bench' "
                                   "only"));
    /* a flag takes no "=value"; -D takes its words separately */
    const char *eq[] = {"-t", "x", "--verbose=1", NULL};
    assert_int_equal(parse(CLI_SUB, eq), MQTLS_EXIT_USAGE);
    const char *d_eq[] = {"-t", "x", "--property=publish", "content-type", "t", NULL};
    assert_int_equal(parse(CLI_SUB, d_eq), MQTLS_EXIT_USAGE);
    /* mosquitto's spellings */
    const char *alias[] = {"-t", "x", "--user", "u", "--password", "p", NULL};
    assert_int_equal(parse(CLI_SUB, alias), CLI_PARSE_OK);
    assert_string_equal(opts.username, "u");
    assert_string_equal(opts.password, "p");
}

/* --pin and --pkcs11-module: doctor takes them as pub and sub do; a malformed pin is a usage
 * error that says what is wrong with it (the pin is public: it may be shown). */
static void test_cli_parse_pin_and_token_options_for_doctor(void **state)
{
    (void)state;
    static const char good[] = "sha256//z5ULRMOnsku2JWOxSyERZRzSmdYZRMK5hwpX3xkXb0g=";
    const char *a[] = {"mqtts://h",
                       "--key",
                       "pkcs11:token=t;object=k",
                       "--cert",
                       "c.crt",
                       "--pkcs11-module",
                       "/m.so",
                       "--pin",
                       good,
                       "--pin",
                       "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                       NULL};
    assert_int_equal(parse(CLI_DOCTOR, a), CLI_PARSE_OK);
    assert_int_equal(opts.pin_count, 2);
    assert_string_equal(opts.pins[0], good);
    assert_null(opts.pins[2]); /* NULL-terminated for mqtls_tls_cfg_t::pins */
    assert_string_equal(opts.pkcs11_module, "/m.so");
    assert_string_equal(opts.key, "pkcs11:token=t;object=k");

    const char *short_pin[] = {"mqtts://h", "--pin", "sha256//abc=", NULL};
    assert_int_equal(parse(CLI_DOCTOR, short_pin), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "mqtls: doctor: --pin 'sha256//abc=': after sha256// come the "
                                   "44 base64 characters of a SHA-256 (A-Z a-z 0-9 + /, the last "
                                   "one '='), not 4 characters (MQTLS_ERR_USAGE)\n"));
    /* 44 characters, but one is not base64 */
    const char *bad_char[] = {"mqtts://h", "--pin",
                              "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A=", NULL};
    assert_int_equal(parse(CLI_DOCTOR, bad_char), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "character 42 after sha256// ('-') is not base64"));
    const char *no_pad[] = {"mqtts://h", "--pin",
                            "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
    assert_int_equal(parse(CLI_DOCTOR, no_pad), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "character 44 after sha256// ('A') is not '='"));
    const char *md5[] = {"-t", "x", "-m", "a", "--pin", "md5//abc", NULL};
    assert_int_equal(parse(CLI_PUB, md5), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "mqtls pub: --pin 'md5//abc' is not a pin: a pin is sha256// "
                                   "followed by the base64 of the SHA-256 of the server's public "
                                   "key"));
    const char *many[CLI_MAX_PINS * 2 + 4] = {"mqtts://h"};
    size_t n = 1;
    for (size_t i = 0; i <= CLI_MAX_PINS; i++) {
        many[n++] = "--pin";
        many[n++] = good;
    }
    many[n] = NULL;
    assert_int_equal(parse(CLI_DOCTOR, many), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "at most 16 --pin"));
}

/* The -D rules as the CLI's own table had them before it used the library's (mqtls_prop_*):
 * which CMD takes which property (c connect, p publish, s subscribe, w will). */
static void test_cli_prop_names_and_placement_match_the_old_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t id;
        mqtls_prop_type_t type;
        const char *cmds;
    } old[] = {
        {"payload-format-indicator", 0x01, MQTLS_PROP_TYPE_BYTE, "pw"},
        {"message-expiry-interval", 0x02, MQTLS_PROP_TYPE_U32, "pw"},
        {"content-type", 0x03, MQTLS_PROP_TYPE_UTF8, "pw"},
        {"response-topic", 0x08, MQTLS_PROP_TYPE_UTF8, "pw"},
        {"correlation-data", 0x09, MQTLS_PROP_TYPE_BINARY, "pw"},
        {"subscription-identifier", 0x0B, MQTLS_PROP_TYPE_VARINT, "s"},
        {"session-expiry-interval", 0x11, MQTLS_PROP_TYPE_U32, "c"},
        {"assigned-client-identifier", 0x12, MQTLS_PROP_TYPE_UTF8, ""},
        {"server-keep-alive", 0x13, MQTLS_PROP_TYPE_U16, ""},
        {"authentication-method", 0x15, MQTLS_PROP_TYPE_UTF8, ""},
        {"authentication-data", 0x16, MQTLS_PROP_TYPE_BINARY, ""},
        {"request-problem-information", 0x17, MQTLS_PROP_TYPE_BYTE, "c"},
        {"will-delay-interval", 0x18, MQTLS_PROP_TYPE_U32, "w"},
        {"request-response-information", 0x19, MQTLS_PROP_TYPE_BYTE, "c"},
        {"response-information", 0x1A, MQTLS_PROP_TYPE_UTF8, ""},
        {"server-reference", 0x1C, MQTLS_PROP_TYPE_UTF8, ""},
        {"reason-string", 0x1F, MQTLS_PROP_TYPE_UTF8, ""},
        {"receive-maximum", 0x21, MQTLS_PROP_TYPE_U16, "c"},
        {"topic-alias-maximum", 0x22, MQTLS_PROP_TYPE_U16, "c"},
        {"topic-alias", 0x23, MQTLS_PROP_TYPE_U16, ""},
        {"maximum-qos", 0x24, MQTLS_PROP_TYPE_BYTE, ""},
        {"retain-available", 0x25, MQTLS_PROP_TYPE_BYTE, ""},
        {"user-property", 0x26, MQTLS_PROP_TYPE_UTF8_PAIR, "cpsw"},
        {"maximum-packet-size", 0x27, MQTLS_PROP_TYPE_U32, "c"},
        {"wildcard-subscription-available", 0x28, MQTLS_PROP_TYPE_BYTE, ""},
        {"subscription-identifier-available", 0x29, MQTLS_PROP_TYPE_BYTE, ""},
        {"shared-subscription-available", 0x2A, MQTLS_PROP_TYPE_BYTE, ""},
    };
    static const struct {
        char letter;
        const char *word;
        bool is_pub;
    } cmds[] = {{'c', "connect", true},
                {'p', "publish", true},
                {'s', "subscribe", false},
                {'w', "will", true}};
    char buf[CLI_PROP_NAME_MAX];
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        uint8_t id = 0;
        mqtls_prop_type_t type = MQTLS_PROP_TYPE_INVALID;
        assert_true(cli_prop_lookup(old[i].name, &id, &type));
        assert_int_equal(id, old[i].id);
        assert_int_equal(type, old[i].type);
        assert_string_equal(cli_prop_name(id, buf), old[i].name);
        for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
            const char *value = type == MQTLS_PROP_TYPE_VARINT ? "1" : "0";
            char *words[] = {"-D", (char *)cmds[k].word, (char *)old[i].name, (char *)value,
                             (char *)"v"};
            cli_prop_t p;
            FILE *err = fopen("/dev/null", "w");
            int used = cli_prop_parse("pub", cmds[k].is_pub, words, 5, &p, err);
            fclose(err);
            bool allowed = strchr(old[i].cmds, cmds[k].letter) != NULL;
            assert_int_equal(used != 0, allowed);
        }
    }
    assert_string_equal(cli_prop_name(0x7F, buf), "unknown-property");
    uint8_t id = 0;
    mqtls_prop_type_t type = MQTLS_PROP_TYPE_INVALID;
    assert_false(cli_prop_lookup("Content-Type", &id, &type)); /* names are lower case */
}

static void test_cli_read_file_limits_and_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/mqtls-read-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc\r\n", 5), 5);
    close(fd);
    uint8_t *data = NULL;
    size_t len = 0;
    mqtls_error_t err;
    assert_int_equal(cli_read_file(path, 5, 0, &data, &len, &err), MQTLS_OK);
    assert_int_equal(len, 5);
    assert_int_equal(data[5], 0); /* NUL-terminated */
    mqtls_file_free(data, len);
    assert_int_equal(cli_read_file(path, 2, 0, &data, &len, &err), MQTLS_ERR_FILE_TOO_LARGE);
    assert_null(data);
    assert_int_equal(err.sys_errno, EFBIG);
    assert_int_equal(cli_read_file("/tmp", 100, 0, &data, &len, &err), MQTLS_ERR_FILE_NOT_REGULAR);
    assert_null(data);
    assert_int_equal(err.sys_errno, EISDIR);
    assert_int_equal(cli_read_file("/nonexistent/x", 100, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_UNREADABLE);
    assert_int_equal(err.sys_errno, ENOENT);
    /* a character device only where that is meant */
    assert_int_equal(cli_read_file("/dev/zero", 100, 0, &data, &len, &err),
                     MQTLS_ERR_FILE_NOT_REGULAR);
    assert_int_equal(cli_read_file("/dev/zero", 100, MQTLS_FILE_CHAR_DEVICE, &data, &len, &err),
                     MQTLS_ERR_FILE_TOO_LARGE);
    char line[16];
    bool is_empty = true;
    assert_int_equal(cli_read_line(path, line, sizeof line, &is_empty, &err), MQTLS_OK);
    assert_string_equal(line, "abc");
    assert_false(is_empty);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    assert_int_equal(cli_read_line(path, line, sizeof line, &is_empty, &err), MQTLS_OK);
    assert_true(is_empty);
    assert_string_equal(line, "");
    assert_int_equal(cli_read_line("/tmp", line, sizeof line, &is_empty, &err),
                     MQTLS_ERR_FILE_NOT_REGULAR);
    cli_cred_t cred;
    cli_cred_load(&cred, "/tmp");
    assert_int_equal(cred.err, EISDIR);
    assert_string_equal(cred.display, "/tmp");
    cli_cred_free(&cred);
    remove(path);
}

static void test_cli_json_string_escapes(void **state)
{
    (void)state;
    char out[64] = {0};
    FILE *f = fmemopen(out, sizeof(out) - 1, "w");
    mqtls_cli_json_string(f, "a\"\\\b\f\n\r\t\x01\x7f\xc3\xa9");
    mqtls_cli_json_string(f, NULL);
    fclose(f);
    assert_string_equal(out, "\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u007f\xc3\xa9\"\"\"");
    assert_true(cli_utf8_valid((const uint8_t *)"a\0\xc3\xa9", 4)); /* NUL is fine for JSON */
    assert_false(cli_utf8_valid((const uint8_t *)"a\0\xc3", 3));
    assert_false(cli_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* a surrogate */
}

/* bench: its positional argument is the scenario; -n is --clients there, --null-message in pub. */
static void test_cli_parse_bench_scenario_and_its_options(void **state)
{
    (void)state;
    const char *a[] = {"connect", "-h", "127.0.0.1", "-n", "200", "--fleet", "pki", "--rate", "50",
                       "--broker", "mqtts://127.0.0.1:8883", "--qos-mix", "0:1,1:3", "--json",
                       NULL};
    assert_int_equal(parse(CLI_BENCH, a), CLI_PARSE_OK);
    assert_string_equal(opts.scenario, "connect");
    assert_int_equal(opts.clients, 200);
    assert_string_equal(opts.fleet, "pki");
    assert_true(opts.rate == 50.0);
    assert_int_equal(opts.broker_count, 1);
    assert_string_equal(opts.qos_mix, "0:1,1:3");
    assert_true(opts.json);
    assert_true(opts.hold_s < 0 && opts.publishers < 0); /* defaults: the scenario decides */
    const char *two[] = {"connect", "latency", NULL};
    assert_int_equal(parse(CLI_BENCH, two), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "more than one scenario given ('latency')"));
    const char *pub_n[] = {"-t", "x", "-n", NULL};
    assert_int_equal(parse(CLI_PUB, pub_n), CLI_PARSE_OK);
    assert_int_equal(opts.msg_src, CLI_MSG_NULL);
    const char *not_pub[] = {"-t", "x", "-m", "a", "--fleet", "pki", NULL};
    assert_int_equal(parse(CLI_PUB, not_pub), MQTLS_EXIT_USAGE);
    assert_non_null(strstr(errbuf, "option --fleet is for 'mqtls bench' only"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_parse_pub_basic_fields_set),
        cmocka_unit_test(test_cli_parse_persist_implies_a_persistent_session),
        cmocka_unit_test(test_cli_parse_tls_flag_enables_tls_and_default_port),
        cmocka_unit_test(test_cli_parse_url_sets_host_port_user_topic),
        cmocka_unit_test(test_cli_parse_usage_errors_exit_2),
        cmocka_unit_test(test_cli_parse_property_makes_v5_and_rejects_v311),
        cmocka_unit_test(test_cli_parse_keypass_file_read_and_missing_exits_4),
        cmocka_unit_test(test_cli_print_config_masks_secrets),
        cmocka_unit_test(test_cli_help_lists_exactly_the_options_of_its_mode),
        cmocka_unit_test(test_cli_format_sequences),
        cmocka_unit_test(test_cli_format_properties),
        cmocka_unit_test(test_cli_render_modes),
        cmocka_unit_test(test_cli_filter_out_matches_wildcards),
        cmocka_unit_test(test_cli_filter_out_skips_dollar_topics_for_wildcards),
        cmocka_unit_test(test_cli_parse_url_port_user_path_rules),
        cmocka_unit_test(test_cli_parse_doctor_takes_its_options_and_one_broker),
        cmocka_unit_test(test_cli_parse_pin_and_token_options_for_doctor),
        cmocka_unit_test(test_cli_parse_bench_scenario_and_its_options),
        cmocka_unit_test(test_cli_prop_names_and_placement_match_the_old_table),
        cmocka_unit_test(test_cli_read_file_limits_and_errors),
        cmocka_unit_test(test_cli_json_string_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
