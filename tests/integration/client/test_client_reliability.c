/* Reliability of the client against a real mosquitto on 127.0.0.1 (issue 10): a burst of
 * queued inbound QoS 1/2 messages (back-pressure, never a refused acknowledgement), QoS 2 across
 * a reconnect with and without a persistent session, the diagnosis of a connection lost after
 * CONNACK, threads publishing while stop/start churns, and the default TLS 1.2 cipher suites.
 * Clients are stepped from this thread unless a test says otherwise; every wait has a deadline. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client_rec.h"
#include "harness.h"
#include "mqtls/mqtls.h"

#define BURST_N 10000 /* sequence numbers: MAX_SEQ of client_rec.h */
#define CHURN_THREADS 4u
#define CHURN_PER_THREAD 1000u

static th_pki_t g_pki;
static th_broker_t g_broker;

/* --- helpers ---------------------------------------------------------------------------- */

static void log_line(void *ctx, mqtls_log_level_t lvl, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  [client %d] %s\n", (int)lvl, msg);
}

typedef void (*tweak_fn)(mqtls_client_cfg_t *cfg);

static mqtls_client_t *make_with(rec_t *r, bool tls, mqtls_version_t v, const char *id, bool clean,
                                 tweak_fn tweak)
{
    char uri[64];
    (void)snprintf(uri, sizeof uri, "%s://127.0.0.1:%u", tls ? "mqtts" : "mqtt",
                   tls ? g_broker.port_mtls : g_broker.port_plain);
    mqtls_client_cfg_t cfg;
    base_cfg(&cfg, r, v, id, clean);
    mqtls_tls_cfg_t t;
    mqtls_tls_cfg_init(&t);
    if (tls) {
        t.ca_file = g_pki.ca_crt;
        t.cert_file = g_pki.client_crt;
        t.key_file = g_pki.client_key;
        cfg.tls = &t;
    }
    cfg.uri = uri;
    if (getenv("MQTLS_TEST_VERBOSE") != NULL) {
        cfg.log_fn = log_line;
        cfg.log_level = MQTLS_LOG_DEBUG;
    }
    if (tweak != NULL) {
        tweak(&cfg);
    }
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c);
    if (st != MQTLS_OK) {
        fail_msg("create: %s (%s)", mqtls_status_name(st), err.detail);
    }
    return c;
}

static mqtls_client_t *make(rec_t *r, bool tls, mqtls_version_t v, const char *id, bool clean)
{
    return make_with(r, tls, v, id, clean, NULL);
}

/* Lines of the broker's log that contain @p needle. */
static int broker_log_count(const char *needle)
{
    FILE *f = fopen(g_broker.log, "r");
    if (f == NULL) {
        return -1;
    }
    int n = 0;
    char line[1024];
    while (fgets(line, sizeof line, f) != NULL) {
        n += strstr(line, needle) != NULL ? 1 : 0;
    }
    (void)fclose(f);
    return n;
}

/* Disconnect, then wait until the broker has read the DISCONNECT: a client that comes back at
 * once would take its session over while the broker still holds unread acknowledgements. */
static void disconnect_seen_by_broker(mqtls_client_t *c, rec_t *r, const char *id)
{
    char needle[128];
    (void)snprintf(needle, sizeof needle, "Received DISCONNECT from %s", id);
    int before = broker_log_count(needle);
    disconnect_and_wait(c, r);
    int64_t end = th_now_ms() + 5000;
    while (broker_log_count(needle) <= before && th_now_ms() < end) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    assert_true(broker_log_count(needle) > before);
}

/* Publish @p n messages numbered from 0 at @p qos and wait until the broker acknowledged each. */
static void publish_acked(const char *topic, uint8_t qos, uint32_t n)
{
    static rec_t rp;
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *pub = make(&rp, false, MQTLS_V5, NULL, true);
    connect_and_wait(pub, &rp);
    uint8_t payload[32];
    uint32_t sent = 0;
    int64_t end = th_now_ms() + 60000;
    while ((sent < n || rp.published < (int)n) && th_now_ms() < end) {
        for (int k = 0; k < 256 && sent < n; k++) {
            fill_pattern(payload, sizeof payload, sent);
            mqtls_publish_opts_t o = {.qos = qos};
            if (mqtls_client_publish(pub, topic, payload, sizeof payload, &o, NULL) != MQTLS_OK) {
                break;
            }
            sent++;
        }
        (void)mqtls_client_step(pub, 1);
    }
    assert_int_equal(rp.published, (int)n);
    disconnect_and_wait(pub, &rp);
    mqtls_client_destroy(pub);
}

static uint16_t g_port_cbc; /* mutual TLS 1.2 offering only ECDHE-ECDSA-AES128-SHA (CBC) */

static int group_setup(void **state)
{
    (void)state;
    if (th_pki_make(&g_pki) != 0) {
        return -1;
    }
    g_port_cbc = th_free_port();
    /* No cap on the QoS 1/2 messages mosquitto sends a 3.1.1 client unacknowledged (an MQTT 5
     * client's Receive Maximum caps them), and room for the whole burst in a stored session.
     * One more listener whose only cipher suite is forward secret but not AEAD. */
    char extra[4 * TH_PATH_MAX];
    (void)snprintf(extra, sizeof extra,
                   "max_inflight_messages 0\nmax_queued_messages 100000\n"
                   "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                   "require_certificate true\nuse_identity_as_username true\n"
                   "tls_version tlsv1.2\nciphers ECDHE-ECDSA-AES128-SHA\n",
                   g_port_cbc, g_pki.ca_crt, g_pki.server_crt, g_pki.server_key);
    if (th_broker_start(&g_broker, &g_pki, extra) != 0) {
        return -1;
    }
    return th_wait_port(g_port_cbc, 5000);
}

static int group_teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&g_broker);
    th_pki_remove(&g_pki);
    return 0;
}

/* --- 1. a burst of queued inbound QoS 1/2 messages -------------------------------------- */

/* A persistent session collects BURST_N messages while its client is away; the client comes
 * back and the broker sends them all at once. Every one must arrive on that one connection,
 * acknowledged (a second connection with session present must get none again). */
static void rm_65535(mqtls_client_cfg_t *cfg)
{
    cfg->receive_maximum = 65535;
}

static void rm_16(mqtls_client_cfg_t *cfg)
{
    cfg->receive_maximum = 16;
}

static void burst(mqtls_version_t v, uint8_t qos, bool tls, tweak_fn receive_maximum,
                  const char *tag)
{
    static rec_t rs;
    memset(&rs, 0, sizeof rs);
    char id[64];
    char topic[64];
    (void)snprintf(id, sizeof id, "burst-%s", tag);
    (void)snprintf(topic, sizeof topic, "burst/%s", tag);
    mqtls_client_t *sub = make_with(&rs, tls, v, id, false, receive_maximum);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, topic, qos);
    disconnect_seen_by_broker(sub, &rs, id);
    publish_acked(topic, qos, BURST_N);

    int64_t t0 = th_now_ms();
    connect_and_wait(sub, &rs);
    assert_true(rs.session_present);
    /* A busy application: the broker fills the socket while the client is not looking, so
     * that one step reads thousands of messages whose acknowledgements must all be sent. */
    struct timespec busy = {0, 500 * 1000 * 1000};
    (void)nanosleep(&busy, NULL);
    int64_t end = t0 + 60000;
    while (rs.distinct < BURST_N && rs.disconnected_not_ok == 0 && th_now_ms() < end) {
        (void)mqtls_client_step(sub, 20);
    }
    print_message("burst %s: %d of %d messages in %lld ms, %d duplicates, %d connection(s) "
                  "lost\n",
                  tag, rs.distinct, BURST_N, (long long)(th_now_ms() - t0), rs.dups,
                  rs.disconnected_not_ok);
    if (rs.disconnected_not_ok > 0) {
        char buf[512];
        (void)mqtls_strerror(&rs.last_why, buf, sizeof buf);
        fail_msg("%s: the connection was lost during the burst: %s", tag, buf);
    }
    assert_int_equal(rs.distinct, BURST_N);
    assert_int_equal(rs.dups, 0);
    assert_int_equal(rs.errors, 0);
    /* Every acknowledgement reached the broker: nothing is sent again. */
    disconnect_seen_by_broker(sub, &rs, id);
    int before = rs.messages;
    connect_and_wait(sub, &rs);
    assert_true(rs.session_present);
    int64_t quiet = th_now_ms() + 500;
    while (th_now_ms() < quiet) {
        (void)mqtls_client_step(sub, 20);
    }
    assert_int_equal(rs.messages, before);
    mqtls_client_destroy(sub);
}

/* MQTT 5, the default Receive Maximum, mutual TLS: the broker keeps to it, the reserve holds
 * the acknowledgements. */
static void test_reliability_inbound_qos1_burst_v5_mtls_all_acknowledged(void **state)
{
    (void)state;
    burst(MQTLS_V5, 1, true, NULL, "q1-v5-mtls");
}

/* MQTT 5 with the largest Receive Maximum an application can ask for: the reserve grows with
 * it (6 bytes a message). Before 1.1 this was the default, and the connection died after
 * about 3,100 messages ("cannot queue the acknowledgement"), again at every reconnect. */
static void test_reliability_inbound_qos1_burst_v5_rm65535_all_acknowledged(void **state)
{
    (void)state;
    burst(MQTLS_V5, 1, false, rm_65535, "q1-v5-rm65535");
}

/* MQTT 3.1.1 has no Receive Maximum and this broker no inflight cap: the client meets far more
 * messages than its reserve holds acks for (a receive_maximum of 16) and must slow the broker
 * down (back-pressure), at QoS 2 (PUBREC, then PUBREL/PUBCOMP both ways). Plain TCP: one read
 * then takes dozens of packets (over TLS mosquitto writes one record per packet). */
static void test_reliability_inbound_qos2_burst_v311_back_pressure(void **state)
{
    (void)state;
    burst(MQTLS_V311, 2, false, rm_16, "q2-v311");
}

/* --- 4. threads publishing while stop/start churns -------------------------------------- */

typedef struct churn_job {
    mqtls_client_t *c;
    uint32_t first;
    unsigned failures;
    atomic_bool done;
} churn_job_t;

static void *churn_publisher(void *arg)
{
    churn_job_t *j = arg;
    uint8_t payload[16];
    for (uint32_t i = 0; i < CHURN_PER_THREAD; i++) {
        fill_pattern(payload, sizeof payload, j->first + i);
        mqtls_status_t st = publish_patiently(j->c, "churn/t", payload, sizeof payload, 1);
        j->failures += st != MQTLS_OK ? 1u : 0u;
        struct timespec pace = {0, 200000}; /* spread the publishes over the churn */
        (void)nanosleep(&pace, NULL);
    }
    atomic_store(&j->done, true);
    return NULL;
}

/* mqtls_client_stop() closed the wakeup pipe without the lock while publish() wrote to it
 * (ThreadSanitizer: a data race on the descriptor, and a write to a closed, maybe reused one).
 * Run under the tsan stage of `make test`, which fails on any report. */
static void test_reliability_publish_from_four_threads_while_stop_start_churns(void **state)
{
    (void)state;
    static rec_t rs;
    static rec_t rp;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    mqtls_client_t *sub = make(&rs, false, MQTLS_V311, NULL, true);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "churn/t", 1);
    mqtls_client_t *pub = make(&rp, false, MQTLS_V311, NULL, true);
    assert_int_equal(mqtls_client_start(pub), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(pub), MQTLS_OK);
    pthread_t th[CHURN_THREADS];
    static churn_job_t jobs[CHURN_THREADS];
    for (uint32_t i = 0; i < CHURN_THREADS; i++) {
        jobs[i].c = pub;
        jobs[i].first = i * CHURN_PER_THREAD;
        jobs[i].failures = 0;
        atomic_init(&jobs[i].done, false);
        assert_int_equal(pthread_create(&th[i], NULL, churn_publisher, &jobs[i]), 0);
    }
    unsigned cycles = 0;
    const int total = (int)(CHURN_THREADS * CHURN_PER_THREAD);
    int64_t end = th_now_ms() + 60000;
    bool publishing = true;
    while ((publishing || rs.distinct < total) && th_now_ms() < end) {
        if (publishing) {
            assert_int_equal(mqtls_client_stop(pub), MQTLS_OK);
            assert_int_equal(mqtls_client_start(pub), MQTLS_OK);
            cycles++;
            publishing = false;
            for (uint32_t i = 0; i < CHURN_THREADS; i++) {
                publishing = publishing || !atomic_load(&jobs[i].done);
            }
        }
        (void)mqtls_client_step(sub, 1);
    }
    for (uint32_t i = 0; i < CHURN_THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    print_message("churn: %u stop/start cycles, %d of %d messages\n", cycles, rs.distinct, total);
    assert_int_equal(rs.distinct, total);
    assert_true(cycles >= 20);
    assert_int_equal(mqtls_client_stop(pub), MQTLS_OK);
    assert_int_equal(mqtls_client_stop(pub), MQTLS_ERR_STATE);
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

/* --- 6. the diagnosis of a connection lost after CONNACK --------------------------------- */

static int findings_with_id(const mqtls_error_t *e, uint16_t port, const char *id)
{
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = "127.0.0.1";
    in.port = port;
    in.mqtt_version = 4;
    in.err = e;
    mqtls_findings_t *f = NULL;
    assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
    int n = 0;
    for (size_t i = 0; i < mqtls_findings_count(f); i++) {
        n += strcmp(mqtls_finding_id(mqtls_findings_get(f, i)), id) == 0 ? 1 : 0;
    }
    mqtls_findings_destroy(f);
    return n;
}

/* A connected, subscribed client whose broker stops was diagnosed "the broker closed the
 * connection after our CONNECT without a CONNACK". */
static void test_reliability_broker_stop_is_a_lost_connection_not_a_refused_connect(void **state)
{
    (void)state;
    static rec_t rs;
    memset(&rs, 0, sizeof rs);
    mqtls_client_t *sub = make(&rs, false, MQTLS_V311, NULL, true);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, "lost/t", 1);
    assert_int_equal(th_broker_stop(&g_broker), 0);
    bool lost = run_until(&sub, 1, &rs.disconnected_not_ok, 1, 5000);
    assert_int_equal(th_broker_restart(&g_broker), 0);
    assert_true(lost);
    char buf[512];
    (void)mqtls_strerror(&rs.last_why, buf, sizeof buf);
    print_message("lost: %s\n", buf);
    assert_int_equal(rs.last_why.connack_reason, 0); /* it had been accepted */
    assert_int_equal(findings_with_id(&rs.last_why, g_broker.port_plain, "closed-after-connect"),
                     0);
    mqtls_client_destroy(sub);
}

/* --- 5. QoS 2 across a reconnect ------------------------------------------------------- */

static int g_qos2_warnings;

static void count_qos2_warning(void *ctx, mqtls_log_level_t lvl, const char *msg)
{
    (void)ctx;
    if (lvl == MQTLS_LOG_WARN && strstr(msg, "exactly once holds within one connection") != NULL) {
        g_qos2_warnings++;
    }
}

static void warn_counted(mqtls_client_cfg_t *cfg)
{
    cfg->log_fn = count_qos2_warning;
    cfg->log_level = MQTLS_LOG_WARN;
}

static void no_reconnect(mqtls_client_cfg_t *cfg)
{
    cfg->reconnect.enabled = false;
}

/* A QoS 2 stream whose publisher loses its connection mid-flow: another client takes its
 * client id over (the broker closes the publisher's connection) and leaves; the publisher
 * reconnects. With a session the broker keeps, every message arrives exactly once. With a
 * clean session nothing is lost either (an unfinished message is published again), duplicates
 * may happen, and the client warned once that exactly once does not hold across reconnects. */
static void qos2_across_takeover(bool persistent, const char *tag)
{
    enum { N = 2000 };
    static rec_t rs;
    static rec_t rp;
    static rec_t rt;
    memset(&rs, 0, sizeof rs);
    memset(&rp, 0, sizeof rp);
    memset(&rt, 0, sizeof rt);
    char id[64];
    char topic[64];
    (void)snprintf(id, sizeof id, "eo-pub-%s", tag);
    (void)snprintf(topic, sizeof topic, "eo/%s", tag);
    g_qos2_warnings = 0;
    mqtls_client_t *sub = make(&rs, false, MQTLS_V311, NULL, true);
    connect_and_wait(sub, &rs);
    subscribe_and_wait(sub, &rs, topic, 2);
    mqtls_client_t *pub = make_with(&rp, false, MQTLS_V311, id, !persistent, warn_counted);
    connect_and_wait(pub, &rp);
    mqtls_client_t *both[2] = {sub, pub};
    uint8_t payload[24];
    uint32_t sent = 0;
    bool taken = false;
    int64_t end = th_now_ms() + 60000;
    while (rs.distinct < N && th_now_ms() < end) {
        for (int k = 0; k < 50 && sent < N; k++) {
            fill_pattern(payload, sizeof payload, sent);
            mqtls_publish_opts_t o = {.qos = 2};
            if (mqtls_client_publish(pub, topic, payload, sizeof payload, &o, NULL) != MQTLS_OK) {
                break;
            }
            sent++;
        }
        (void)mqtls_client_step(pub, 0);
        if (!taken && sent >= N / 3 && mqtls_client_outbox_count(pub) > 0) {
            /* The publisher is not stepped meanwhile: it finds its connection closed after. */
            taken = true;
            mqtls_client_t *thief =
                make_with(&rt, false, MQTLS_V311, id, !persistent, no_reconnect);
            connect_and_wait(thief, &rt);
            disconnect_seen_by_broker(thief, &rt, id);
            mqtls_client_destroy(thief);
        }
        for (size_t i = 0; i < 2; i++) {
            (void)mqtls_client_step(both[i], 1);
        }
    }
    print_message("qos2 %s: %d of %d messages, %d duplicates, publisher reconnects %d, "
                  "warnings %d\n",
                  tag, rs.distinct, N, rs.dups, rp.connected - 1, g_qos2_warnings);
    assert_true(taken);
    assert_true(rp.connected >= 2);   /* it did lose its connection and come back */
    assert_int_equal(rs.distinct, N); /* nothing lost either way */
    if (persistent) {
        assert_true(rp.session_present);
        assert_int_equal(rs.dups, 0);
        assert_int_equal(g_qos2_warnings, 0);
    } else {
        assert_int_equal(g_qos2_warnings, 1);
    }
    mqtls_client_destroy(pub);
    mqtls_client_destroy(sub);
}

static void test_reliability_qos2_persistent_session_exactly_once_across_reconnect(void **state)
{
    (void)state;
    qos2_across_takeover(true, "persistent");
}

static void test_reliability_qos2_clean_session_warns_and_loses_nothing(void **state)
{
    (void)state;
    qos2_across_takeover(false, "clean");
}

/* --- 7. TLS: default cipher suites, --ciphers, loud insecure settings -------------------- */

static const char *g_ciphers;
static int g_name_warnings;

static void count_name_warning(void *ctx, mqtls_log_level_t lvl, const char *msg)
{
    (void)ctx;
    if (lvl == MQTLS_LOG_WARN && strstr(msg, "host name is NOT checked") != NULL) {
        g_name_warnings++;
    }
}

/* Mutual TLS settings a tweak can change (make_with()'s own are on its stack). */
static mqtls_tls_cfg_t *tweakable_tls(mqtls_client_cfg_t *cfg)
{
    static mqtls_tls_cfg_t t;
    mqtls_tls_cfg_init(&t);
    t.ca_file = g_pki.ca_crt;
    t.cert_file = g_pki.client_crt;
    t.key_file = g_pki.client_key;
    cfg->tls = &t;
    return &t;
}

/* The listener whose only suite is CBC, with g_ciphers offered, no reconnect. */
static void cbc_listener(mqtls_client_cfg_t *cfg)
{
    static char uri[64];
    (void)snprintf(uri, sizeof uri, "mqtts://127.0.0.1:%u", g_port_cbc);
    cfg->uri = uri;
    cfg->reconnect.enabled = false;
    mqtls_tls_cfg_t *t = tweakable_tls(cfg);
    t->ciphers = g_ciphers;
    /* mosquitto's tls_version is a minimum: an engine that speaks TLS 1.3 (mbedtls3, openssl)
     * would get a TLS 1.3 suite from it. The case is about the TLS 1.2 suites: stay there. */
    t->max_version = 0x0303;
}

static mqtls_client_t *make_cbc(rec_t *r)
{
    return make_with(r, true, MQTLS_V311, NULL, true, cbc_listener);
}

/* mbedTLS 2.28 offered 80 suites, 42 without forward secrecy, and accepted a CBC-only broker.
 * By default only ECDHE + AEAD are offered: that broker is refused in the handshake; naming
 * its suite (IANA or mbedTLS spelling) gets through. */
static void test_reliability_default_suites_are_ecdhe_aead_and_ciphers_widens_them(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    g_ciphers = NULL;
    mqtls_client_t *c = make_cbc(&r);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    assert_true(run_until(&c, 1, &r.disconnected, 1, 8000));
    assert_int_equal(r.connected, 0);
    assert_int_equal(r.last_why.layer, MQTLS_LAYER_TLS);
    char buf[512];
    (void)mqtls_strerror(&r.last_why, buf, sizeof buf);
    print_message("default suites against a CBC-only broker: %s\n", buf);
    mqtls_client_destroy(c);

    static const char *const lists[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
                                        "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        memset(&r, 0, sizeof r);
        g_ciphers = lists[i];
        c = make_cbc(&r);
        connect_and_wait(c, &r);
        mqtls_client_destroy(c);
    }
    /* unknown names fail at create, naming the culprit */
    g_ciphers = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:NO-SUCH-SUITE";
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    mqtls_tls_cfg_t t;
    mqtls_tls_cfg_init(&t);
    t.ca_file = g_pki.ca_crt;
    t.ciphers = g_ciphers;
    cfg.tls = &t;
    cfg.uri = "mqtts://127.0.0.1:1";
    mqtls_error_t err;
    c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG);
    assert_null(c);
    assert_non_null(strstr(err.detail, "NO-SUCH-SUITE"));
    g_ciphers = NULL;
}

static void name_check_off(mqtls_client_cfg_t *cfg)
{
    tweakable_tls(cfg)->no_hostname_check = true;
    cfg->log_fn = count_name_warning;
    cfg->log_level = MQTLS_LOG_WARN;
}

/* tls.h promises no_hostname_check "logged" like insecure: at every connect, as a warning. */
static void test_reliability_no_hostname_check_warns_at_every_connect(void **state)
{
    (void)state;
    static rec_t r;
    memset(&r, 0, sizeof r);
    g_name_warnings = 0;
    mqtls_client_t *c = make_with(&r, true, MQTLS_V311, NULL, true, name_check_off);
    connect_and_wait(c, &r);
    disconnect_and_wait(c, &r);
    connect_and_wait(c, &r);
    assert_int_equal(g_name_warnings, 2);
    mqtls_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reliability_inbound_qos1_burst_v5_mtls_all_acknowledged),
        cmocka_unit_test(test_reliability_inbound_qos1_burst_v5_rm65535_all_acknowledged),
        cmocka_unit_test(test_reliability_inbound_qos2_burst_v311_back_pressure),
        cmocka_unit_test(test_reliability_publish_from_four_threads_while_stop_start_churns),
        cmocka_unit_test(test_reliability_qos2_persistent_session_exactly_once_across_reconnect),
        cmocka_unit_test(test_reliability_qos2_clean_session_warns_and_loses_nothing),
        cmocka_unit_test(test_reliability_default_suites_are_ecdhe_aead_and_ciphers_widens_them),
        cmocka_unit_test(test_reliability_no_hostname_check_warns_at_every_connect),
        cmocka_unit_test(test_reliability_broker_stop_is_a_lost_connection_not_a_refused_connect),
    };
    if (getenv("MQTLS_TEST_FILTER") != NULL) { /* the TLS cases per engine (CMakeLists.txt) */
        cmocka_set_test_filter(getenv("MQTLS_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
