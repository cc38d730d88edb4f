/* A real 3-node RabbitMQ 3.10 cluster (Debian's rabbitmq-server, rabbitmq_mqtt + rabbitmq_web_mqtt)
 * on 127.0.0.1, started by the harness (tests/harness/rabbitmq-cluster.sh), proved with Debian's
 * mosquitto_pub / mosquitto_sub and, for what they cannot do (WebSocket, a hand-made MQTT 5
 * CONNECT), with mqtt_probe.py (python3's standard library). Not with mqtls yet: this is the
 * ground truth the mqtls tests against RabbitMQ will build on. See docs/cluster.md.
 *
 * Every command runs under `timeout`; the cluster is stopped by PID in the group teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define OUT_CAP 16384
#define CMD_CAP 4096
#define CMD_TIMEOUT_S 30 /* one mosquitto_pub / probe run */
#define SUB_WAIT_S 30    /* mosquitto_sub -W: the longest a subscriber waits for its messages */

static th_rabbit_t rabbit;

static const th_rabbit_node_t *node(int i)
{
    return &rabbit.node[i - 1];
}

/* Append everything @p p prints to @p out (NUL-terminated, truncated at @p cap). */
static void slurp(FILE *p, char *out, size_t cap, size_t *len, const char *until)
{
    char line[1024];
    while (fgets(line, sizeof line, p) != NULL) {
        size_t n = strlen(line);
        if (*len + n < cap) {
            memcpy(out + *len, line, n + 1);
            *len += n;
        }
        if (until != NULL && strstr(line, until) != NULL) {
            return;
        }
    }
}

static int exit_status(int status)
{
    if (status == -1) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run a command line made of our own paths and ports under `timeout`; stdout and stderr into
 * @p out. Returns the exit status (124: timed out), -1 if it could not run. */
__attribute__((format(printf, 3, 4))) static int run(char *out, size_t cap, const char *fmt, ...)
{
    char body[CMD_CAP - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return th_run_line(out, cap, CMD_TIMEOUT_S, body);
}

static char tls_args[3 * TH_PATH_MAX + 64];  /* mosquitto clients: CA + test-client */
static char tls2_args[3 * TH_PATH_MAX + 64]; /* CA + test-client-2 */

/* mosquitto_pub -d to node @p i over MQTTS as test-client. */
static int pub(char *out, int i, const char *id, int qos, const char *topic, const char *msg)
{
    return run(out, OUT_CAP, "mosquitto_pub -d -h 127.0.0.1 -p %u %s -i %s -q %d -t %s -m %s",
               node(i)->port_mqtts, tls_args, id, qos, topic, msg);
}

/* A mosquitto_sub in the background, as test-client-2 over MQTTS. */
typedef struct sub {
    FILE *p;
    char out[OUT_CAP];
    size_t len;
} sub_t;

/* Start it on node @p i and wait (bounded by its own -W and `timeout`) until its SUBACK came.
 * Returns 0 once subscribed; the output so far is in s->out. */
static int sub_start(sub_t *s, int i, const char *id, int qos, const char *topic, int count)
{
    char cmd[CMD_CAP];
    memset(s, 0, sizeof *s);
    snprintf(cmd, sizeof cmd,
             "timeout %d stdbuf -oL mosquitto_sub -d -v -h 127.0.0.1 -p %u %s -i %s -q %d -t %s "
             "-C %d -W %d 2>&1",
             SUB_WAIT_S + 10, node(i)->port_mqtts, tls2_args, id, qos, topic, count, SUB_WAIT_S);
    s->p = popen(cmd, "r");
    if (s->p == NULL) {
        return -1;
    }
    slurp(s->p, s->out, sizeof s->out, &s->len, "Subscribed (mid: 1)");
    return strstr(s->out, "Subscribed (mid: 1)") != NULL ? 0 : -1;
}

/* Wait for it to end (it has -C messages or times out at -W); returns its exit status. */
static int sub_finish(sub_t *s)
{
    if (s->p == NULL) {
        return -1;
    }
    slurp(s->p, s->out, sizeof s->out, &s->len, NULL);
    int rc = exit_status(pclose(s->p));
    s->p = NULL;
    printf("[subscriber]\n%s[exit %d]\n", s->out, rc);
    fflush(stdout);
    return rc;
}

__attribute__((format(printf, 2, 3))) static int probe(char *out, const char *args_fmt, ...)
{
    char args[CMD_CAP - 512];
    va_list ap;
    va_start(ap, args_fmt);
    vsnprintf(args, sizeof args, args_fmt, ap);
    va_end(ap);
    return run(out, OUT_CAP, "python3 %s/tests/integration/rabbitmq/mqtt_probe.py %s",
               th_source_dir(), args);
}

/* Whether @p path contains @p needle, waiting up to 5 s: the node's logger writes behind. */
static bool log_contains(const char *path, const char *needle)
{
    int64_t deadline = th_now_ms() + 5000;
    do {
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            char line[4096];
            bool found = false;
            while (!found && fgets(line, sizeof line, f) != NULL) {
                found = strstr(line, needle) != NULL;
            }
            fclose(f);
            if (found) {
                return true;
            }
        }
        nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
    } while (th_now_ms() < deadline);
    return false;
}

/* ---- the cluster ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    if (system("command -v mosquitto_pub >/dev/null && command -v python3 >/dev/null && "
               "test -x /usr/lib/rabbitmq/bin/rabbitmq-server") != 0) {
        fprintf(stderr, "needs rabbitmq-server, mosquitto-clients, python3 "
                        "(scripts/install-deps.sh)\n");
        return -1; /* a failure, never a silent skip */
    }
    int64_t t0 = th_now_ms();
    if (th_rabbit_start(&rabbit, 3) != 0) {
        return -1;
    }
    printf("# 3-node cluster up in %lld ms (script: %lld ms)\n", (long long)(th_now_ms() - t0),
           (long long)rabbit.start_ms);
    fflush(stdout);
    snprintf(tls_args, sizeof tls_args, "--cafile %s --cert %s --key %s", rabbit.ca_crt,
             rabbit.client_crt, rabbit.client_key);
    snprintf(tls2_args, sizeof tls2_args, "--cafile %s --cert %s --key %s", rabbit.ca_crt,
             rabbit.client2_crt, rabbit.client2_key);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    th_rabbit_stop(&rabbit);
    return 0;
}

static void test_rabbit_cluster_started_three_nodes_running(void **state)
{
    (void)state;
    assert_int_equal(rabbit.nodes, 3);
    assert_int_equal(th_rabbit_running_nodes(&rabbit), 3);
    for (int i = 1; i <= 3; i++) {
        assert_string_not_equal(node(i)->name, node(i == 3 ? 1 : i + 1)->name);
        assert_int_equal(th_wait_port(node(i)->port_mqtt, 1000), 0);
        assert_int_equal(th_wait_port(node(i)->port_mqtts, 1000), 0);
        assert_int_equal(th_wait_port(node(i)->port_ws, 1000), 0);
        assert_int_equal(th_wait_port(node(i)->port_wss, 1000), 0);
    }
}

/* (a) cluster routing + (d) QoS 1: published on node 1, received on node 3. */
static void test_rabbit_mqtts_pub_node1_sub_node3_qos1_routed(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    sub_t s;
    assert_int_equal(sub_start(&s, 3, "rmq-sub-a", 1, "mqtls/cluster/a", 1), 0);
    assert_int_equal(pub(out, 1, "rmq-pub-a", 1, "mqtls/cluster/a", "hello-cluster"), 0);
    assert_non_null(strstr(out, "received CONNACK (0)"));
    assert_non_null(strstr(out, "received PUBACK (Mid: 1, RC:0)"));
    assert_int_equal(sub_finish(&s), 0);
    assert_non_null(strstr(s.out, "received PUBLISH (d0, q1, r0, m1, 'mqtls/cluster/a'"));
    assert_non_null(strstr(s.out, "mqtls/cluster/a hello-cluster"));
}

/* (b) verify_peer + fail_if_no_peer_cert: no certificate, or one from another CA, is refused in
 * the TLS handshake (TLS 1.3 alerts certificate_required / unknown_ca). */
static void test_rabbit_mqtts_without_or_foreign_client_cert_refused(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    int rc = run(out, OUT_CAP,
                 "mosquitto_pub -d -h 127.0.0.1 -p %u --cafile %s -i rmq-nocert "
                 "-t mqtls/cluster/b -m x",
                 node(1)->port_mqtts, rabbit.ca_crt);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "alert certificate required"));
    assert_null(strstr(out, "received CONNACK"));

    rc = run(out, OUT_CAP,
             "mosquitto_pub -d -h 127.0.0.1 -p %u --cafile %s --cert %s --key %s "
             "-i rmq-otherca -t mqtls/cluster/b -m x",
             node(1)->port_mqtts, rabbit.ca_crt, rabbit.other_client_crt, rabbit.other_client_key);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "alert unknown ca"));
    assert_null(strstr(out, "received CONNACK"));
}

/* (c) a good certificate whose CN names no user: CONNACK 4 (bad user name or password); the
 * plain listener without credentials too (mqtt.allow_anonymous = false). */
static void test_rabbit_mqtts_cn_without_user_connack_4(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    int rc = run(out, OUT_CAP,
                 "mosquitto_pub -d -h 127.0.0.1 -p %u --cafile %s --cert %s --key %s "
                 "-i rmq-nouser -t mqtls/cluster/c -m x",
                 node(1)->port_mqtts, rabbit.ca_crt, rabbit.nouser_crt, rabbit.nouser_key);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "received CONNACK (4)"));
    assert_non_null(strstr(out, "Connection Refused: bad user name or password."));
    assert_true(log_contains(node(1)->log, "MQTT login failed for user 'mqtls-no-such-user'"));

    rc =
        run(out, OUT_CAP, "mosquitto_pub -d -h 127.0.0.1 -p %u -i rmq-anon -t mqtls/cluster/c -m x",
            node(1)->port_mqtt);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "received CONNACK (4)"));
}

/* (e) QoS 2 does not exist in RabbitMQ 3.10's MQTT plugin: SUBSCRIBE QoS 2 is granted QoS 1, and
 * a PUBLISH QoS 2 is answered with PUBACK (not PUBREC), which mosquitto_pub calls a protocol
 * error; the message is routed anyway and delivered at QoS 1. */
static void test_rabbit_qos2_downgraded_to_qos1(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    sub_t s;
    assert_int_equal(sub_start(&s, 2, "rmq-sub-e", 2, "mqtls/cluster/e", 1), 0);
    assert_non_null(strstr(s.out, "Subscribed (mid: 1): 1\n")); /* granted QoS 1, asked 2 */
    int rc = pub(out, 1, "rmq-pub-e", 2, "mqtls/cluster/e", "hello-qos2");
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "sending PUBLISH (d0, q2, r0, m1, 'mqtls/cluster/e'"));
    assert_non_null(strstr(out, "received PUBACK (Mid: 1, RC:0)"));
    assert_null(strstr(out, "PUBREC"));
    assert_non_null(strstr(out, "Error: A network protocol error occurred when communicating "
                                "with the broker."));
    assert_int_equal(sub_finish(&s), 0);
    assert_non_null(strstr(s.out, "received PUBLISH (d0, q1, r0, m1, 'mqtls/cluster/e'"));
    assert_non_null(strstr(s.out, "mqtls/cluster/e hello-qos2"));
}

/* (e) MQTT 5: 3.10 parses CONNECT with the 3.1.1 layout, so the property length byte of any
 * MQTT 5 CONNECT makes it unparseable: the broker logs "cannot parse a frame" and closes the
 * connection without a CONNACK (the "unacceptable protocol version" CONNACK is never reached). */
static void test_rabbit_mqtt5_connect_closed_without_connack(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    int rc = run(out, OUT_CAP,
                 "mosquitto_pub -V 5 -d -h 127.0.0.1 -p %u %s -i rmq-v5 "
                 "-t mqtls/cluster/v5 -m x",
                 node(1)->port_mqtts, tls_args);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "Client rmq-v5 sending CONNECT"));
    assert_null(strstr(out, "received CONNACK"));
    assert_non_null(strstr(out, "Error: The connection was lost."));

    /* the smallest MQTT 5 CONNECT (empty property list): no answer either */
    assert_int_equal(probe(out, "v5 %u %s %s %s rmq-v5-empty-props", node(1)->port_mqtts,
                           rabbit.ca_crt, rabbit.client_crt, rabbit.client_key),
                     0);
    assert_non_null(strstr(out, "v5-answer: (none)"));
    assert_true(log_contains(node(1)->log, "MQTT cannot parse a frame"));
}

/* (f) Web MQTT over TLS with a client certificate: the handshake answers the "mqtt" subprotocol,
 * CONNECT logs in by the certificate's CN, a QoS 1 PUBLISH is routed to a subscriber on node 2.
 * Without a certificate the TLS handshake fails; plain ws:// works but needs a login. */
static void test_rabbit_wss_client_cert_mqtt_subprotocol_routed(void **state)
{
    (void)state;
    static char out[OUT_CAP];
    sub_t s;
    assert_int_equal(sub_start(&s, 2, "rmq-sub-f", 1, "mqtls/cluster/wss", 1), 0);
    assert_int_equal(probe(out, "wss %u %s %s %s rmq-wss mqtls/cluster/wss", node(1)->port_wss,
                           rabbit.ca_crt, rabbit.client_crt, rabbit.client_key),
                     0);
    assert_non_null(strstr(out, "http: HTTP/1.1 101 Switching Protocols"));
    assert_non_null(strstr(out, "ws-accept: ok"));
    assert_non_null(strstr(out, "ws-subprotocol: mqtt\n"));
    assert_non_null(strstr(out, "connack: 20020000\n"));
    assert_non_null(strstr(out, "puback: 40020001\n"));
    assert_int_equal(sub_finish(&s), 0);
    assert_non_null(strstr(s.out, "mqtls/cluster/wss hello-wss"));

    assert_int_equal(
        probe(out, "wss %u %s rmq-wss-nocert mqtls/cluster/wss", node(1)->port_wss, rabbit.ca_crt),
        0);
    assert_non_null(strstr(out, "certificate required"));
    assert_null(strstr(out, "connack:"));

    assert_int_equal(probe(out, "ws %u rmq-ws-anon", node(3)->port_ws), 0);
    assert_non_null(strstr(out, "ws-subprotocol: mqtt\n"));
    assert_non_null(strstr(out, "ws-close: 1002 unauthenticated"));
}

/* Publish on node @p pub_node until a subscriber on @p sub_node gets it: right after a node dies
 * the plugin's client-id registry (a Raft cluster over the nodes) may need a new leader first.
 * Bounded: a few attempts, each bounded by the subscriber's -W. */
static bool routed_within(int pub_node, int sub_node, const char *tag)
{
    static char out[OUT_CAP];
    char topic[64];
    char id[64];
    for (int attempt = 0; attempt < 5; attempt++) {
        sub_t s;
        snprintf(topic, sizeof topic, "mqtls/cluster/%s", tag);
        snprintf(id, sizeof id, "rmq-sub-%s-%d", tag, attempt);
        if (sub_start(&s, sub_node, id, 1, topic, 1) != 0) {
            sub_finish(&s);
            sleep(2);
            continue;
        }
        snprintf(id, sizeof id, "rmq-pub-%s-%d", tag, attempt);
        int rc = pub(out, pub_node, id, 1, topic, tag);
        int sub_rc = sub_finish(&s);
        if (rc == 0 && sub_rc == 0 && strstr(s.out, tag) != NULL) {
            return true;
        }
        sleep(2);
    }
    return false;
}

/* (g) SIGKILL node 2: nodes 1 and 3 go on routing and the cluster reports 2 running nodes; after
 * a restart node 2 rejoins (3 running) and routes again. */
static void test_rabbit_kill_node2_survivors_route_restart_rejoins(void **state)
{
    (void)state;
    assert_int_equal(th_rabbit_kill_node(&rabbit, 2), 0);
    assert_int_equal(th_wait_port(node(2)->port_mqtts, 300), -1); /* nothing listens */
    assert_int_equal(th_rabbit_running_nodes(&rabbit), 2);
    assert_true(routed_within(1, 3, "after-kill"));
    assert_true(routed_within(1, 1, "after-kill-same-node"));

    int64_t t0 = th_now_ms();
    assert_int_equal(th_rabbit_restart_node(&rabbit, 2), 0);
    printf("# node 2 rejoined in %lld ms\n", (long long)(th_now_ms() - t0));
    assert_int_equal(th_rabbit_running_nodes(&rabbit), 3);
    assert_true(routed_within(2, 1, "after-restart"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rabbit_cluster_started_three_nodes_running),
        cmocka_unit_test(test_rabbit_mqtts_pub_node1_sub_node3_qos1_routed),
        cmocka_unit_test(test_rabbit_mqtts_without_or_foreign_client_cert_refused),
        cmocka_unit_test(test_rabbit_mqtts_cn_without_user_connack_4),
        cmocka_unit_test(test_rabbit_qos2_downgraded_to_qos1),
        cmocka_unit_test(test_rabbit_mqtt5_connect_closed_without_connack),
        cmocka_unit_test(test_rabbit_wss_client_cert_mqtt_subprotocol_routed),
        cmocka_unit_test(test_rabbit_kill_node2_survivors_route_restart_rejoins),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
