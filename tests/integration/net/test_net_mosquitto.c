/* TCP + TLS transports against a real mosquitto on 127.0.0.1 with a generated PKI
 * (tests/harness). Every wait has a deadline; the transports are driven with poll(). Runs once
 * per TLS engine (MQTLS_TLS_ENGINE, tests/CMakeLists.txt): with mosquitto, mbedtls3 and openssl
 * negotiate TLS 1.3, mbedtls2 TLS 1.2; the facts must be the same where the protocol allows. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/tls_facts.h"

#include "mbedtls/x509.h"

#include "drive.h"
#include "engine.h"
#include "harness.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"

static th_pki_t pki;
static th_broker_t broker;

/* MQTT 3.1.1 CONNECT, clean session, keepalive 60, empty client id [MQTT-3.1.3-6]. */
static const uint8_t connect_311[] = {0x10, 0x0C, 0x00, 0x04, 'M',  'Q',  'T',
                                      'T',  0x04, 0x02, 0x00, 0x3C, 0x00, 0x00};
static const uint8_t connack_ok[] = {0x20, 0x02, 0x00, 0x00};

static int setup(void **state)
{
    (void)state;
    if (th_pki_make(&pki) != 0) {
        return -1;
    }
    return th_broker_start(&broker, &pki, NULL);
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    return 0;
}

typedef struct {
    mqtls__tls_ctx_t *ctx;
    mqtls_transport_t *t;
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
} conn_t;

/* Build ctx + tcp + tls to @p host : @p port and run the handshake. */
static bool gather_flights = true;

static mqtls_status_t tls_open(conn_t *c, const mqtls_tls_cfg_t *cfg, const char *host,
                               uint16_t port)
{
    memset(c, 0, sizeof *c);
    mqtls_error_init(&c->err);
    assert_int_equal(mqtls__tls_ctx_create(cfg, &c->err, &c->ctx), MQTLS_OK);
    mqtls__tls_ctx_set_flight_gathering(c->ctx, gather_flights);
    mqtls_transport_t *tcp = NULL;
    assert_int_equal(mqtls__tcp_create(host, port, 5000, &c->err, &tcp), MQTLS_OK);
    assert_int_equal(mqtls__tls_create(c->ctx, tcp, host, &c->facts, &c->err, &c->t), MQTLS_OK);
    return th_drive_connect(c->t, 10000);
}

/* tls_open(), then CONNECT / CONNACK: under TLS 1.3 the broker's verdict on our certificate
 * (an alert) and its session tickets arrive after our handshake is done, on the first read. */
static mqtls_status_t tls_open_connack(conn_t *c, const mqtls_tls_cfg_t *cfg, const char *host,
                                       uint16_t port)
{
    mqtls_status_t st = tls_open(c, cfg, host, port);
    if (st != MQTLS_OK) {
        return st;
    }
    st = th_write_all(c->t, connect_311, sizeof connect_311);
    uint8_t in[4];
    if (st == MQTLS_OK) {
        st = th_read_exact(c->t, in, sizeof in, 5000);
    }
    if (st == MQTLS_OK && memcmp(in, connack_ok, sizeof in) != 0) {
        st = MQTLS_ERR_PROTOCOL;
    }
    return st;
}

static void tls_done(conn_t *c)
{
    c->t->ops->destroy(c->t);
    mqtls__tls_facts_free(&c->facts);
    mqtls__tls_ctx_destroy(c->ctx);
}

static mqtls_tls_cfg_t mtls_cfg(void)
{
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_file = pki.ca_crt,
                           .cert_file = pki.client_crt,
                           .key_file = pki.client_key};
    return cfg;
}

static void test_mtls_handshake_then_connack(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    /* "localhost" resolves to ::1 too, where nothing listens: every address is tried. */
    assert_int_equal(tls_open(&c, &cfg, "localhost", broker.port_mtls), MQTLS_OK);
    assert_true(c.facts.server_hello_seen);
    assert_int_equal(c.facts.tls_version, test_engine_max_tls()); /* mosquitto speaks 1.3 */
    assert_string_equal(c.facts.engine, test_engine());
    assert_null(c.facts.judge);
    assert_true(c.facts.ciphersuite[0] != '\0');
    print_message("%s: TLS 0x%04X, %s\n", test_engine(), c.facts.tls_version, c.facts.ciphersuite);
    assert_true(c.facts.cert_requested);
    assert_true(c.facts.client_cert_sent);
    /* mosquitto sets no client CA list: the DistinguishedNames list is empty. */
    assert_int_equal(c.facts.ca_names_len, 0);
    /* OpenSSL (mosquitto) sends the leaf and appends its issuer from the cafile. */
    assert_int_equal(c.facts.presented_len, 2);
    assert_true(c.facts.presented[0].der_len > 100);
    assert_int_equal(c.facts.chain_len, 2); /* leaf + our CA */
    assert_memory_equal(c.facts.chain[0].der, c.facts.presented[0].der,
                        c.facts.presented[0].der_len);
    assert_int_equal(c.facts.chain[0].flags, 0);
    assert_true(c.facts.hostname_checked);
    assert_false(c.facts.insecure);
    assert_string_equal(c.facts.server_name, "localhost");
    assert_int_equal(c.facts.alert_received, -1);
    assert_int_equal(th_write_all(c.t, connect_311, sizeof connect_311), MQTLS_OK);
    uint8_t in[4];
    assert_int_equal(th_read_exact(c.t, in, sizeof in, 5000), MQTLS_OK);
    assert_memory_equal(in, connack_ok, sizeof connack_ok);
    tls_done(&c);
}

static void test_wrong_ca_is_verify_not_trusted_at_depth_0(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.other_ca_crt};
    assert_int_equal(tls_open(&c, &cfg, "localhost", broker.port_tls), MQTLS_ERR_TLS_VERIFY);
    assert_int_equal(c.err.status, MQTLS_ERR_TLS_VERIFY);
    assert_int_equal(c.err.layer, MQTLS_LAYER_TLS);
    assert_true(c.err.verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    /* OpenSSL (mosquitto) appends the issuing CA from its cafile to the chain it sends, so
     * mbedTLS flags the top of the chain (the untrusted root), not the leaf. */
    assert_int_equal(c.err.chain_len, c.facts.presented_len);
    assert_true(c.err.chain_len >= 1);
    assert_true(c.err.depth_flags[c.err.chain_len - 1] & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    if (c.err.chain_len == 1) {
        assert_true(c.err.depth_flags[0] & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    } else {
        assert_int_equal(c.err.depth_flags[0], 0); /* the leaf itself is fine */
    }
    assert_int_equal(c.err.mbedtls_ret, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    assert_int_equal(c.facts.alert_sent, 48); /* we told the broker: unknown_ca */
    assert_non_null(c.facts.chain[0].der);
    assert_memory_equal(c.facts.chain[0].der, c.facts.presented[0].der,
                        c.facts.presented[0].der_len);
    char line[512];
    (void)mqtls_strerror(&c.err, line, sizeof line);
    assert_non_null(strstr(line, "-0x2700"));
    /* The same transport can try again: a fresh connection, fresh facts. */
    assert_int_equal(th_drive_connect(c.t, 10000), MQTLS_ERR_TLS_VERIFY);
    assert_int_equal(c.facts.presented_len, c.err.chain_len);
    assert_true(c.err.verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    tls_done(&c);
}

static void test_no_client_cert_on_mtls_port_alert_recorded(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.ca_crt};
    /* TLS 1.2: the handshake fails with the alert; TLS 1.3: our handshake completes and the
     * alert (certificate_required) is the first thing read. The facts are the same. */
    assert_int_equal(tls_open_connack(&c, &cfg, "localhost", broker.port_mtls),
                     MQTLS_ERR_TLS_ALERT);
    assert_true(c.facts.cert_requested);
    assert_false(c.facts.client_cert_sent);
    assert_int_equal(c.err.tls_alert, test_engine_max_tls() == 0x0304 ? 116 : 40);
    assert_int_equal(c.err.tls_alert, c.facts.alert_received);
    assert_int_not_equal(c.err.mbedtls_ret, 0);
    print_message("no client cert: alert %d (%s), mbedtls -0x%04X\n", c.err.tls_alert,
                  mqtls_tls_alert_name(c.err.tls_alert), (unsigned)-c.err.mbedtls_ret);
    tls_done(&c);
}

static void test_client_cert_from_other_ca_unknown_ca(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_file = pki.ca_crt,
                           .cert_file = pki.other_client_crt,
                           .key_file = pki.other_client_key};
    /* Without flight gathering mbedTLS 2.28 typically fails writing its later records into
     * the reset connection (-0x0050) with the alert still unread: it must be drained. (Under
     * TLS 1.3 that alert is encrypted and only mbedTLS could read it, from a connection it
     * failed on: there gathering, the default, is what keeps the alert; mbedtls3 runs it so.) */
    for (int round = 0; round < 6; round++) {
        gather_flights = round % 2 == 0 || test_engine_is("mbedtls3");
        assert_int_equal(tls_open_connack(&c, &cfg, "localhost", broker.port_mtls),
                         MQTLS_ERR_TLS_ALERT);
        assert_true(c.facts.cert_requested);
        assert_true(c.facts.client_cert_sent);
        assert_int_equal(c.err.tls_alert, 48); /* unknown_ca */
        assert_int_equal(c.facts.alert_received, 48);
        print_message("other-CA client cert, gathering %s: mbedtls -0x%04X\n",
                      gather_flights ? "on" : "off", (unsigned)-c.err.mbedtls_ret);
        tls_done(&c);
    }
    gather_flights = true;
}

static void test_tls_to_plain_port_is_not_tls(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.ca_crt};
    mqtls_status_t st = tls_open(&c, &cfg, "127.0.0.1", broker.port_plain);
    print_message("TLS to plain port: %s, first %zu bytes, detail: %s\n", mqtls_status_name(st),
                  c.facts.first_bytes_len, c.err.detail);
    assert_int_equal(st, MQTLS_ERR_TLS_NOT_TLS);
    /* mosquitto answers a ClientHello on its plain port by dropping the connection without
     * a byte; a broker that answers (CONNACK, HTTP) sets peer_not_tls (unit-tested). */
    assert_true(c.facts.peer_silent_close || c.facts.peer_not_tls);
    assert_false(c.facts.server_hello_seen);
    tls_done(&c);
}

static void test_closed_port_is_refused(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.ca_crt};
    uint16_t port = th_free_port();
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", port), MQTLS_ERR_CONN_REFUSED);
    assert_int_equal(c.err.layer, MQTLS_LAYER_TCP);
    tls_done(&c);
}

static void test_connect_by_ip_matches_ip_san(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    /* mbedTLS 2.28 cannot match iPAddress SANs: mqtls does; 3.6 and OpenSSL do it themselves */
    bool ours = test_engine_is("mbedtls2");
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_OK);
    assert_true(c.facts.hostname_checked);
    assert_int_equal(c.facts.ip_san_matched_by_us, ours);
    assert_int_equal(c.facts.chain[0].flags, 0);
    tls_done(&c);
    /* IPv6 SAN (IP:::1), checked while the TCP connection goes to 127.0.0.1. */
    cfg.server_name = "::1";
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_OK);
    assert_int_equal(c.facts.ip_san_matched_by_us, ours);
    tls_done(&c);
    /* An IP that is not in the certificate's SANs fails the name check. */
    cfg.server_name = "127.0.0.2";
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_ERR_TLS_VERIFY);
    assert_true(c.err.depth_flags[0] & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    assert_false(c.facts.ip_san_matched_by_us);
    tls_done(&c);
}

static void test_hostname_mismatch_is_cn_mismatch(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.server_name = "broker.example.com";
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_ERR_TLS_VERIFY);
    assert_true(c.err.verify_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    assert_true(c.err.depth_flags[0] & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    assert_false(c.err.verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    assert_string_equal(c.facts.server_name, "broker.example.com");
    tls_done(&c);
}

static void test_no_hostname_check_skips_name_but_still_verifies_chain(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.server_name = "broker.example.com"; /* not in the certificate */
    cfg.no_hostname_check = true;
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_OK);
    assert_false(c.facts.hostname_checked);
    assert_false(c.facts.insecure);
    tls_done(&c);
    cfg.ca_file = pki.other_ca_crt; /* the chain is still checked */
    assert_int_equal(tls_open(&c, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_ERR_TLS_VERIFY);
    assert_true(c.err.verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    assert_false(c.err.verify_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    tls_done(&c);
}

static void test_insecure_connects_and_says_so(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = {.enabled = true, .ca_file = pki.other_ca_crt, .insecure = true};
    assert_int_equal(tls_open(&c, &cfg, "localhost", broker.port_tls), MQTLS_OK);
    assert_true(c.facts.insecure);
    assert_false(c.facts.hostname_checked);
    tls_done(&c);
}

static void test_session_resumed_on_reconnect(void **state)
{
    (void)state;
    conn_t c;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    /* Up to CONNACK: a TLS 1.3 ticket (NewSessionTicket) arrives after the handshake. */
    assert_int_equal(tls_open_connack(&c, &cfg, "localhost", broker.port_mtls), MQTLS_OK);
    assert_false(c.facts.session_resumed);
    assert_true(c.facts.chain_len > 0);
    uint32_t full_ms = c.facts.handshake_ms;
    c.t->ops->close(c.t);
    assert_int_equal(th_drive_connect(c.t, 10000), MQTLS_OK);
    assert_true(c.facts.session_offered);
    assert_true(c.facts.session_resumed);
    assert_int_equal(c.facts.tls_version, test_engine_max_tls());
    assert_int_equal(c.facts.presented_len, 0); /* abbreviated handshake: no Certificate */
    assert_int_equal(c.facts.chain_len, 0);     /* nothing verified again */
    /* A gather list is coalesced into one record: the broker sees one whole CONNECT. */
    const mqtls_iovec_t iov[3] = {{connect_311, 2}, {connect_311 + 2, 8}, {connect_311 + 10, 4}};
    size_t sent = 0;
    assert_int_equal(c.t->ops->writev(c.t, iov, 3, &sent), MQTLS_OK);
    assert_int_equal(sent, sizeof connect_311);
    uint8_t in[4];
    assert_int_equal(th_read_exact(c.t, in, sizeof in, 5000), MQTLS_OK);
    assert_memory_equal(in, connack_ok, sizeof connack_ok);
    print_message("handshake full %u ms, resumed %u ms\n", full_ms, c.facts.handshake_ms);
    tls_done(&c);

    cfg.no_session_resumption = true;
    assert_int_equal(tls_open_connack(&c, &cfg, "localhost", broker.port_mtls), MQTLS_OK);
    c.t->ops->close(c.t);
    assert_int_equal(th_drive_connect(c.t, 10000), MQTLS_OK);
    assert_false(c.facts.session_offered);
    assert_false(c.facts.session_resumed);
    tls_done(&c);
}

static void test_large_publish_roundtrip_through_tls(void **state)
{
    (void)state;
    enum { PAYLOAD = 50000 };
    conn_t sub, pub;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    assert_int_equal(tls_open(&sub, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_OK);
    assert_int_equal(tls_open(&pub, &cfg, "127.0.0.1", broker.port_mtls), MQTLS_OK);
    uint8_t in[8];
    assert_int_equal(th_write_all(sub.t, connect_311, sizeof connect_311), MQTLS_OK);
    assert_int_equal(th_read_exact(sub.t, in, 4, 5000), MQTLS_OK);
    assert_int_equal(th_write_all(pub.t, connect_311, sizeof connect_311), MQTLS_OK);
    assert_int_equal(th_read_exact(pub.t, in, 4, 5000), MQTLS_OK);
    /* SUBSCRIBE id 1, "big/t" QoS 0 [MQTT-3.8.1-1: flags 0010] */
    static const uint8_t subscribe[] = {0x82, 0x0A, 0x00, 0x01, 0x00, 0x05,
                                        'b',  'i',  'g',  '/',  't',  0x00};
    assert_int_equal(th_write_all(sub.t, subscribe, sizeof subscribe), MQTLS_OK);
    assert_int_equal(th_read_exact(sub.t, in, 5, 5000), MQTLS_OK); /* SUBACK 90 03 00 01 00 */
    assert_int_equal(in[0], 0x90);
    assert_int_equal(in[4], 0x00);
    /* PUBLISH QoS 0 as a gather list: fixed header, topic, payload. */
    static uint8_t payload[PAYLOAD];
    for (size_t i = 0; i < PAYLOAD; i++) {
        payload[i] = (uint8_t)(i * 7u + 3u);
    }
    size_t rem = 2 + 5 + PAYLOAD; /* 50007 = 3 varint bytes */
    uint8_t hdr[4] = {0x30, (uint8_t)(0x80 | (rem & 0x7F)), (uint8_t)(0x80 | ((rem >> 7) & 0x7F)),
                      (uint8_t)(rem >> 14)};
    static const uint8_t topic[] = {0x00, 0x05, 'b', 'i', 'g', '/', 't'};
    mqtls_iovec_t iov[3] = {{hdr, sizeof hdr}, {topic, sizeof topic}, {payload, PAYLOAD}};
    assert_int_equal(th_write_iov(pub.t, iov, 3), MQTLS_OK);
    static uint8_t got[4 + 7 + PAYLOAD];
    assert_int_equal(th_read_exact(sub.t, got, sizeof got, 10000), MQTLS_OK);
    assert_memory_equal(got, hdr, sizeof hdr);
    assert_memory_equal(got + 4, topic, sizeof topic);
    assert_memory_equal(got + 11, payload, PAYLOAD);
    tls_done(&sub);
    tls_done(&pub);
}

/* PUBLISH QoS 1 "big/t" with packet id @p pid and @p len payload bytes (seeded by @p seed)
 * into @p out; returns its length. [MQTT-3.3.1] header 0x32, remaining length in 3 bytes. */
static size_t publish_qos1(uint8_t *out, uint16_t pid, size_t len, unsigned seed)
{
    size_t rem = 2 + 5 + 2 + len;
    out[0] = 0x32;
    out[1] = (uint8_t)(0x80 | (rem & 0x7F));
    out[2] = (uint8_t)(0x80 | ((rem >> 7) & 0x7F));
    out[3] = (uint8_t)(rem >> 14);
    static const uint8_t topic[] = {0x00, 0x05, 'b', 'i', 'g', '/', 't'};
    memcpy(out + 4, topic, sizeof topic);
    out[11] = (uint8_t)(pid >> 8);
    out[12] = (uint8_t)pid;
    for (size_t i = 0; i < len; i++) {
        out[13 + i] = (uint8_t)(i * seed + 1u);
    }
    return 13 + len;
}

/* Two clients with @p cfg, each subscribed to "big/t" at QoS 1, publish a 16 KiB QoS 1
 * message each: both copies arrive whole at both, and every PUBLISH is acknowledged. */
static void move_16k_qos1_both_ways(const mqtls_tls_cfg_t *cfg, unsigned want_version,
                                    uint16_t want_mfl)
{
    enum { PAYLOAD = 16384 };
    conn_t a, b;
    assert_int_equal(tls_open_connack(&a, cfg, "localhost", broker.port_mtls), MQTLS_OK);
    assert_int_equal(tls_open_connack(&b, cfg, "localhost", broker.port_mtls), MQTLS_OK);
    assert_int_equal(a.facts.tls_version, want_version);
    assert_int_equal(a.facts.max_fragment_len, want_mfl);
    assert_int_equal(mqtls_tls_facts_max_fragment_len(&b.facts), want_mfl);
    /* Both subscribe to "big/t" at QoS 1: each gets its own message back and the other's. */
    static const uint8_t subscribe[] = {0x82, 0x0A, 0x00, 0x01, 0x00, 0x05,
                                        'b',  'i',  'g',  '/',  't',  0x01};
    conn_t *both[2] = {&a, &b};
    uint8_t in[8];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(th_write_all(both[k]->t, subscribe, sizeof subscribe), MQTLS_OK);
        assert_int_equal(th_read_exact(both[k]->t, in, 5, 5000), MQTLS_OK);
        assert_int_equal(in[0], 0x90);
        assert_int_equal(in[4], 0x01); /* granted QoS 1 */
    }
    static uint8_t msg[2][13 + PAYLOAD];
    size_t msg_len[2];
    for (int k = 0; k < 2; k++) { /* a -> b, then b -> a */
        conn_t *from = both[k], *to = both[1 - k];
        msg_len[k] = publish_qos1(msg[k], (uint16_t)(10 + k), PAYLOAD, 7u + 2u * (unsigned)k);
        assert_int_equal(th_write_all(from->t, msg[k], msg_len[k]), MQTLS_OK);
        /* The sender: PUBACK for its id and its own copy (QoS 1, the broker's id), in either
         * order; the receiver: the copy. Each copy is acknowledged. */
        for (int side = 0; side < 2; side++) {
            conn_t *c = side == 0 ? to : from;
            bool got_copy = false;
            bool got_puback = side == 0; /* only the sender waits for a PUBACK */
            while (!got_copy || !got_puback) {
                static uint8_t got[13 + PAYLOAD];
                assert_int_equal(th_read_exact(c->t, got, 4, 10000), MQTLS_OK);
                if (got[0] == 0x40) { /* PUBACK 40 02 <id> */
                    assert_int_equal(got[1], 2);
                    assert_int_equal(((unsigned)got[2] << 8) | got[3], 10u + (unsigned)k);
                    got_puback = true;
                    continue;
                }
                assert_int_equal(got[0] & 0xF6, 0x32 & 0xF6); /* PUBLISH QoS 1 */
                assert_int_equal(th_read_exact(c->t, got + 4, msg_len[k] - 4, 10000), MQTLS_OK);
                assert_memory_equal(got + 1, msg[k] + 1, 10);        /* length, topic */
                assert_memory_equal(got + 13, msg[k] + 13, PAYLOAD); /* payload */
                uint8_t ack[4] = {0x40, 0x02, got[11], got[12]};
                assert_int_equal(th_write_all(c->t, ack, sizeof ack), MQTLS_OK);
                got_copy = true;
            }
        }
    }
    tls_done(&a);
    tls_done(&b);
}

/* --tls-max-fragment 4096 (mqtls_tls_cfg_t::max_fragment_len) against mosquitto: the broker
 * agrees, and 16 KiB QoS 1 messages still pass both ways (the broker splits what it sends
 * into 4 KiB records; on mbedtls3 the input record buffer has shrunk to that size after the
 * handshake, so a record the broker did not split would fail the read). mbedTLS 3.6 offers
 * the extension in TLS 1.2 only; OpenSSL keeps TLS 1.3. */
static void test_max_fragment_4096_moves_16k_qos1_both_ways(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.max_fragment_len = 4096;
    move_16k_qos1_both_ways(&cfg, test_engine_is("openssl") ? 0x0304u : 0x0303u, 4096);
}

/* --tls-max-fragment 512: the broker's Certificate message (its certificate and the CA, which
 * OpenSSL adds from its cafile) no longer fits one record, so the broker splits it. mbedTLS
 * 3.6.6 and OpenSSL reassemble it; mbedTLS 2.28 cannot (-0x7080, "TLS handshake fragmentation
 * not supported": 3.6.3 added it), and the diagnosis names that, not handshake-reset. */
static void test_max_fragment_512_split_certificate_message(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.max_fragment_len = 512;
    conn_t c;
    mqtls_status_t st = tls_open_connack(&c, &cfg, "localhost", broker.port_mtls);
    if (!test_engine_is("mbedtls2")) {
        assert_int_equal(st, MQTLS_OK);
        assert_int_equal(c.facts.max_fragment_len, 512);
        tls_done(&c);
        return;
    }
    assert_int_not_equal(st, MQTLS_OK);
    assert_int_equal(c.err.mbedtls_ret, -0x7080);
    assert_true(c.facts.server_hello_seen);
    assert_int_equal(c.facts.max_fragment_len, 512);
    size_t cert_msg = 7;
    for (size_t i = 0; i < c.facts.presented_len; i++) {
        cert_msg += 3 + c.facts.presented[i].der_len;
    }
    assert_true(cert_msg > 512); /* what the broker had to split */
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = "localhost";
    in.port = broker.port_mtls;
    in.err = &c.err;
    in.facts = &c.facts;
    mqtls_findings_t *f = NULL;
    assert_int_equal(mqtls_findings_create(&f), MQTLS_OK);
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
    mqtls_findings_sort(f);
    assert_true(mqtls_findings_count(f) > 0);
    const mqtls_finding_t *top = mqtls_findings_get(f, 0);
    assert_string_equal(mqtls_finding_id(top), "handshake-fragmented");
    char want[64];
    (void)snprintf(want, sizeof want, "is %zu bytes", cert_msg);
    assert_non_null(strstr(mqtls_finding_message(top), want));
    mqtls_findings_destroy(f);
    tls_done(&c);
}

/* TLS 1.2 without max_fragment_length: the broker sends 16 KiB records. mbedTLS 3.6 with
 * MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH and our asymmetric buffers (OUT 4096) shrinks a TLS 1.2
 * client's input buffer to 4 KiB at the end of the handshake anyway; the engine gives it its
 * full size back (mqtls__compat_restore_in_buf). Before that, the first message over 4 KiB
 * failed the read with -0x7100. */
static void test_tls12_without_max_fragment_moves_16k_qos1_both_ways(void **state)
{
    (void)state;
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.max_version = 0x0303;
    move_16k_qos1_both_ways(&cfg, 0x0303u, 0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One fresh mutual-TLS connect (new TCP + full handshake, no resumption) up to CONNACK. */
static int64_t connect_us(mqtls__tls_ctx_t *ctx)
{
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_tls_facts_t facts;
    mqtls_transport_t *tcp = NULL;
    mqtls_transport_t *t = NULL;
    struct timespec t0, t1;
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(mqtls__tcp_create("127.0.0.1", broker.port_mtls, 5000, &err, &tcp), MQTLS_OK);
    assert_int_equal(mqtls__tls_create(ctx, tcp, "127.0.0.1", &facts, &err, &t), MQTLS_OK);
    assert_int_equal(th_drive_connect(t, 10000), MQTLS_OK);
    assert_int_equal(th_write_all(t, connect_311, sizeof connect_311), MQTLS_OK);
    uint8_t in[4];
    assert_int_equal(th_read_exact(t, in, sizeof in, 5000), MQTLS_OK);
    assert_memory_equal(in, connack_ok, sizeof connack_ok);
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    t->ops->destroy(t);
    mqtls__tls_facts_free(&facts);
    return (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
}

/* Median of N connects with and without gathering each handshake flight into one send,
 * interleaved so that machine noise hits both alike. Printed, not asserted (timing). */
static void test_connect_time_with_and_without_flight_gathering(void **state)
{
    (void)state;
    enum { N = 31 };
    mqtls_tls_cfg_t cfg = mtls_cfg();
    cfg.no_session_resumption = true;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__tls_ctx_t *on = NULL;
    mqtls__tls_ctx_t *off = NULL;
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &on), MQTLS_OK);
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &off), MQTLS_OK);
    mqtls__tls_ctx_set_flight_gathering(off, false);
    int64_t us_on[N], us_off[N];
    for (int i = 0; i < N; i++) {
        us_off[i] = connect_us(off);
        us_on[i] = connect_us(on);
    }
    mqtls__tls_ctx_destroy(on);
    mqtls__tls_ctx_destroy(off);
    qsort(us_on, N, sizeof us_on[0], cmp_i64);
    qsort(us_off, N, sizeof us_off[0], cmp_i64);
    print_message("median mTLS connect->CONNACK over %d: flight gathering ON %lld us, OFF %lld "
                  "us\n",
                  N, (long long)us_on[N / 2], (long long)us_off[N / 2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mtls_handshake_then_connack),
        cmocka_unit_test(test_wrong_ca_is_verify_not_trusted_at_depth_0),
        cmocka_unit_test(test_no_client_cert_on_mtls_port_alert_recorded),
        cmocka_unit_test(test_client_cert_from_other_ca_unknown_ca),
        cmocka_unit_test(test_tls_to_plain_port_is_not_tls),
        cmocka_unit_test(test_closed_port_is_refused),
        cmocka_unit_test(test_connect_by_ip_matches_ip_san),
        cmocka_unit_test(test_hostname_mismatch_is_cn_mismatch),
        cmocka_unit_test(test_no_hostname_check_skips_name_but_still_verifies_chain),
        cmocka_unit_test(test_insecure_connects_and_says_so),
        cmocka_unit_test(test_session_resumed_on_reconnect),
        cmocka_unit_test(test_large_publish_roundtrip_through_tls),
        cmocka_unit_test(test_max_fragment_4096_moves_16k_qos1_both_ways),
        cmocka_unit_test(test_tls12_without_max_fragment_moves_16k_qos1_both_ways),
        cmocka_unit_test(test_max_fragment_512_split_certificate_message),
        cmocka_unit_test(test_connect_time_with_and_without_flight_gathering),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
