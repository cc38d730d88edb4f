/* TLS transport without a network: the record parser on hand-made byte streams split at every
 * boundary, and the TLS transport over a scripted inner transport (not-TLS peers, alerts,
 * one send per handshake flight, the non-blocking drain of a late alert). Plus the TCP
 * transport's refused / DNS errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls_facts.h"

#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"

/* ---- hand-made server flight ---------------------------------------------------------- */

typedef struct {
    uint8_t b[40000];
    size_t len;
} bytes_t;

static void put8(bytes_t *o, unsigned v)
{
    o->b[o->len++] = (uint8_t)v;
}
static void put16(bytes_t *o, size_t v)
{
    put8(o, (unsigned)(v >> 8) & 0xFF);
    put8(o, (unsigned)v & 0xFF);
}
static void put24(bytes_t *o, size_t v)
{
    put8(o, (unsigned)(v >> 16) & 0xFF);
    put16(o, v & 0xFFFF);
}
static void putn(bytes_t *o, const uint8_t *p, size_t n)
{
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

/* Handshake messages: ServerHello (dummy body), Certificate with two fake DER certs,
 * CertificateRequest with one DN, ServerHelloDone. */
static void make_messages(bytes_t *hs, size_t cert0_len)
{
    static uint8_t cert0[20000], cert1[300];
    memset(cert0, 0xA0, sizeof cert0);
    memset(cert1, 0xB1, sizeof cert1);
    hs->len = 0;
    put8(hs, 2);
    put24(hs, 38);
    for (int i = 0; i < 38; i++) {
        put8(hs, 0x03);
    }
    put8(hs, 11);
    put24(hs, 3 + 3 + cert0_len + 3 + sizeof cert1);
    put24(hs, 3 + cert0_len + 3 + sizeof cert1);
    put24(hs, cert0_len);
    putn(hs, cert0, cert0_len);
    put24(hs, sizeof cert1);
    putn(hs, cert1, sizeof cert1);
    static const uint8_t dn[] = {0x00, 0x05, 0x30, 0x03, 0x31, 0x01, 0x00};
    put8(hs, 13);
    put24(hs, 1 + 1 + 2 + 2 + 2 + sizeof dn);
    put8(hs, 1);
    put8(hs, 64); /* ecdsa_sign */
    put16(hs, 2);
    put16(hs, 0x0403);
    put16(hs, sizeof dn);
    putn(hs, dn, sizeof dn);
    put8(hs, 14);
    put24(hs, 0);
}

/* Wrap @p hs into handshake records of at most @p frag bytes each. */
static void make_records(bytes_t *out, const bytes_t *hs, size_t frag)
{
    out->len = 0;
    for (size_t pos = 0; pos < hs->len; pos += frag) {
        size_t n = hs->len - pos < frag ? hs->len - pos : frag;
        put8(out, 22);
        put16(out, 0x0303);
        put16(out, n);
        putn(out, hs->b + pos, n);
    }
}

/* Parse @p wire in one read into a fresh @p f (the caller frees it): it must be a TLS flight
 * with a ServerHello. */
static void parse_flight(mqtls_tls_facts_t *f, const bytes_t *wire)
{
    mqtls__tls_facts_init(f);
    const uint8_t *chunks[1] = {wire->b};
    size_t lens[1] = {wire->len};
    assert_true(mqtls__tls_parse_records(f, chunks, lens, 1));
    assert_true(f->server_hello_seen);
}

static void test_parser_flight_split_everywhere_records_facts(void **state)
{
    (void)state;
    static bytes_t hs, wire;
    make_messages(&hs, 500);
    for (size_t frag = 7; frag <= 1000; frag = frag * 3 + 1) { /* messages span records */
        make_records(&wire, &hs, frag);
        for (size_t cut = 1; cut < wire.len; cut += 13) { /* records span reads */
            mqtls_tls_facts_t f;
            mqtls__tls_facts_init(&f);
            const uint8_t *chunks[2] = {wire.b, wire.b + cut};
            size_t lens[2] = {cut, wire.len - cut};
            assert_true(mqtls__tls_parse_records(&f, chunks, lens, 2));
            assert_true(f.server_hello_seen);
            assert_int_equal(f.presented_len, 2);
            assert_int_equal(f.presented[0].der_len, 500);
            assert_int_equal(f.presented[0].der[499], 0xA0);
            assert_int_equal(f.presented[1].der_len, 300);
            assert_int_equal(f.presented[1].der[0], 0xB1);
            assert_true(f.cert_requested);
            assert_int_equal(f.ca_names_len, 7);
            assert_int_equal(f.ca_names[2], 0x30);
            assert_false(f.peer_not_tls);
            assert_false(f.records_truncated);
            assert_int_equal(f.alert_received, -1);
            mqtls__tls_facts_free(&f);
        }
    }
}

/* A ServerHello with extensions: renegotiation_info, then max_fragment_length (type 1, one
 * byte @p code; @p mfl_len overrides its length field), then extended_master_secret. */
static void make_server_hello_mfl(bytes_t *hs, uint8_t code, size_t mfl_len)
{
    hs->len = 0;
    put8(hs, 2);
    size_t len_at = hs->len;
    put24(hs, 0);
    put16(hs, 0x0303);
    for (int i = 0; i < 32; i++) {
        put8(hs, 0x5A); /* random */
    }
    put8(hs, 4); /* session_id */
    put16(hs, 0x0102);
    put16(hs, 0x0304);
    put16(hs, 0xC02C); /* cipher_suite */
    put8(hs, 0);       /* compression */
    put16(hs, 5 + 5 + 4);
    put16(hs, 0xFF01);
    put16(hs, 1);
    put8(hs, 0);
    put16(hs, 1); /* max_fragment_length */
    put16(hs, mfl_len);
    put8(hs, code);
    put16(hs, 0x0017);
    put16(hs, 0);
    size_t body = hs->len - len_at - 3;
    hs->b[len_at] = (uint8_t)(body >> 16);
    hs->b[len_at + 1] = (uint8_t)(body >> 8);
    hs->b[len_at + 2] = (uint8_t)body;
    put8(hs, 14); /* ServerHelloDone */
    put24(hs, 0);
}

/* RFC 6066 section 4: the echo of max_fragment_length in the ServerHello is what tells the
 * client that records will be short (codes 1..4 = 512..4096); anything else is no echo. */
static void test_parser_server_hello_max_fragment_echo(void **state)
{
    (void)state;
    static const struct {
        uint8_t code;
        size_t ext_len;
        uint16_t want;
    } cases[] = {
        {4, 1, 4096}, {1, 1, 512}, {2, 1, 1024},
        {3, 1, 2048}, {0, 1, 0}, /* code 0 is not a length */
        {5, 1, 0},               /* nor is 5 (2^13) */
        {4, 2, 0},               /* wrong extension length */
        {4, 60000, 0}            /* a length past the message: parsing stops, no overflow */
    };
    static bytes_t hs, wire;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_server_hello_mfl(&hs, cases[i].code, cases[i].ext_len);
        for (size_t frag = 5; frag <= 200; frag += 39) { /* the message spans records */
            make_records(&wire, &hs, frag);
            mqtls_tls_facts_t f;
            parse_flight(&f, &wire);
            assert_int_equal(f.max_fragment_len, cases[i].want);
            mqtls__tls_facts_free(&f);
        }
    }
    /* A ServerHello without extensions (make_messages'): no echo. */
    make_messages(&hs, 100);
    make_records(&wire, &hs, 1000);
    mqtls_tls_facts_t f;
    parse_flight(&f, &wire);
    assert_int_equal(f.max_fragment_len, 0);
    mqtls__tls_facts_free(&f);
}

/* mqtls_tls_cfg_t::max_fragment_len: RFC 6066's four lengths or 0; mbedTLS 3.6 offers it in
 * TLS 1.2 only, so a TLS 1.3 minimum cannot have it there (OpenSSL can). */
static mqtls_status_t ctx_with_mfl(const char *engine, uint16_t mfl, uint16_t min_version)
{
    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .insecure = true,
                           .engine = engine,
                           .min_version = min_version,
                           .max_fragment_len = mfl};
    mqtls__tls_ctx_t *ctx = NULL;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_status_t st = mqtls__tls_ctx_create(&cfg, &err, &ctx);
    assert_true(st == MQTLS_OK || err.layer == MQTLS_LAYER_CONFIG);
    mqtls__tls_ctx_destroy(ctx);
    return st;
}

static void test_tls_max_fragment_len_values_and_versions(void **state)
{
    (void)state;
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        const char *e = mqtls_tls_engine_name(i);
        static const uint16_t ok[] = {0, 512, 1024, 2048, 4096};
        for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
            assert_int_equal(ctx_with_mfl(e, ok[k], 0), MQTLS_OK);
        }
        static const uint16_t bad[] = {1, 256, 511, 3000, 8192, 16384};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            assert_int_equal(ctx_with_mfl(e, bad[k], 0), MQTLS_ERR_INVALID_ARG);
        }
        if (strcmp(e, "mbedtls3") == 0) {
            assert_int_equal(ctx_with_mfl(e, 4096, 0x0304), MQTLS_ERR_NOT_SUPPORTED);
            assert_int_equal(ctx_with_mfl(e, 0, 0x0304), MQTLS_OK);
        } else if (strcmp(e, "openssl") == 0) {
            assert_int_equal(ctx_with_mfl(e, 4096, 0x0304), MQTLS_OK);
        }
    }
}

static void test_parser_oversized_message_is_dropped_without_overflow(void **state)
{
    (void)state;
    static bytes_t hs, wire;
    make_messages(&hs, 20000); /* Certificate message > 16 KiB parser buffer */
    make_records(&wire, &hs, 16384);
    mqtls_tls_facts_t f;
    parse_flight(&f, &wire);
    assert_true(f.records_truncated);
    assert_int_equal(f.presented_len, 0);
    mqtls__tls_facts_free(&f);
}

/* A 12 KiB Certificate message that spans two 10 000-byte records, each read whole, followed by
 * a 6 KiB message: the second read is larger than what is left of the 16 KiB reassembly buffer,
 * yet every message fits in it. */
static void test_parser_big_read_into_partly_filled_buffer_keeps_the_chain(void **state)
{
    (void)state;
    static bytes_t hs, wire;
    make_messages(&hs, 12000);
    put8(&hs, 4); /* NewSessionTicket: not parsed, only carried */
    put24(&hs, 6000);
    memset(hs.b + hs.len, 0x5A, 6000);
    hs.len += 6000;
    make_records(&wire, &hs, 10000);
    const uint8_t *chunks[4];
    size_t lens[4];
    size_t count = 0;
    for (size_t pos = 0; pos < wire.len; count++) {
        size_t rec = 5 + (((size_t)wire.b[pos + 3] << 8) | wire.b[pos + 4]);
        chunks[count] = wire.b + pos;
        lens[count] = rec;
        pos += rec;
    }
    assert_int_equal(count, 2);
    mqtls_tls_facts_t f;
    mqtls__tls_facts_init(&f);
    assert_true(mqtls__tls_parse_records(&f, chunks, lens, count));
    assert_false(f.records_truncated);
    assert_int_equal(f.presented_len, 2);
    assert_int_equal(f.presented[0].der_len, 12000);
    assert_true(f.cert_requested);
    assert_int_equal(f.ca_names_len, 7);
    mqtls__tls_facts_free(&f);
}

static void test_parser_alert_and_not_tls(void **state)
{
    (void)state;
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 48};
    mqtls_tls_facts_t f;
    mqtls__tls_facts_init(&f);
    const uint8_t *chunks[7];
    size_t lens[7];
    for (size_t i = 0; i < 7; i++) {
        chunks[i] = alert + i;
        lens[i] = 1;
    }
    assert_true(mqtls__tls_parse_records(&f, chunks, lens, 7));
    assert_int_equal(f.alert_received, 48);
    mqtls__tls_facts_free(&f);

    static const uint8_t http[] = "HTTP/1.1 400 Bad Request\r\n";
    chunks[0] = http;
    lens[0] = sizeof http - 1;
    assert_false(mqtls__tls_parse_records(&f, chunks, lens, 1));
    assert_true(f.peer_not_tls);
    assert_int_equal(f.first_bytes_len, 16);
    assert_memory_equal(f.first_bytes, "HTTP/1.1 400 Bad", 16);
    mqtls__tls_facts_free(&f);

    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    chunks[0] = connack;
    lens[0] = sizeof connack;
    assert_false(mqtls__tls_parse_records(&f, chunks, lens, 1));
    assert_true(f.peer_not_tls);
    assert_int_equal(f.first_bytes_len, 4);
    mqtls__tls_facts_free(&f);
}

/* Real server flights (openssl s_server on 127.0.0.1, tests/fuzz/seeds-tls-records.sh): the
 * fuzz seeds are one cut byte and the bytes, read here whole. */
static void parse_capture(const char *name, mqtls_tls_facts_t *f, bool *ok)
{
    char path[512];
    (void)snprintf(path, sizeof path, "%s/%s", MQTLS_TLS_CORPUS, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, fp);
    (void)fclose(fp);
    assert_true(n > 1);
    mqtls__tls_facts_init(f);
    const uint8_t *chunks[1] = {buf + 1};
    size_t lens[1] = {n - 1};
    *ok = mqtls__tls_parse_records(f, chunks, lens, 1);
}

static void test_parser_real_server_flights(void **state)
{
    (void)state;
    mqtls_tls_facts_t f;
    bool ok = false;
    /* TLS 1.2, client certificate requested: leaf + CA, the CA's name in the request. */
    parse_capture("tls12-mutual-cut0", &f, &ok);
    assert_true(ok);
    assert_true(f.server_hello_seen);
    assert_int_equal(f.presented_len, 2);
    assert_true(f.cert_requested);
    assert_true(f.ca_names_len > 2);
    assert_non_null(memmem(f.ca_names, f.ca_names_len, "mqtls test CA", 13));
    assert_int_equal(f.alert_received, -1);
    assert_false(f.records_truncated);
    mqtls__tls_facts_free(&f);
    /* The same, and the client sent no certificate: handshake_failure. */
    parse_capture("tls12-no-client-cert-cut0", &f, &ok);
    assert_true(ok);
    assert_true(f.cert_requested);
    assert_int_equal(f.alert_received, 40);
    mqtls__tls_facts_free(&f);
    /* Server authentication only. */
    parse_capture("tls12-server-auth-cut0", &f, &ok);
    assert_int_equal(f.presented_len, 2);
    assert_false(f.cert_requested);
    mqtls__tls_facts_free(&f);
    /* TLS 1.3: everything after the ServerHello is encrypted. */
    parse_capture("tls13-mutual-cut0", &f, &ok);
    assert_true(ok);
    assert_true(f.server_hello_seen);
    assert_int_equal(f.presented_len, 0);
    assert_false(f.cert_requested);
    assert_false(f.peer_not_tls);
    mqtls__tls_facts_free(&f);
    parse_capture("not-tls-http", &f, &ok);
    assert_false(ok);
    assert_true(f.peer_not_tls);
    mqtls__tls_facts_free(&f);
}

/* ---- scripted inner transport ---------------------------------------------------------- */

typedef struct {
    mqtls_transport_t base;
    const uint8_t *rx;
    size_t rx_len;
    size_t rx_pos;
    size_t rx_step; /* bytes per read */
    size_t hold_at; /* with holding: reads at this offset would block (bytes not arrived yet) */
    bool holding;
    bool open_at_end; /* all read: would block (peer silent) instead of closed */
    size_t reads;     /* read calls */
    size_t writes;    /* writev calls that sent bytes */
    size_t written;
} fake_t;

static mqtls_status_t fake_connect(mqtls_transport_t *t, int64_t now_ms)
{
    (void)t;
    (void)now_ms;
    return MQTLS_OK;
}
static mqtls_status_t fake_read(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got)
{
    fake_t *f = (fake_t *)t;
    *got = 0;
    f->reads++;
    if (f->holding && f->rx_pos == f->hold_at) {
        return MQTLS_ERR_WOULD_BLOCK;
    }
    if (f->rx_pos == f->rx_len) {
        return f->open_at_end ? MQTLS_ERR_WOULD_BLOCK : MQTLS_ERR_CLOSED;
    }
    size_t n = f->rx_len - f->rx_pos;
    if (f->holding && f->rx_pos < f->hold_at) {
        n = f->hold_at - f->rx_pos;
    }
    n = n < cap ? n : cap;
    n = n < f->rx_step ? n : f->rx_step;
    memcpy(buf, f->rx + f->rx_pos, n);
    f->rx_pos += n;
    *got = n;
    return MQTLS_OK;
}
static mqtls_status_t fake_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t cnt,
                                  size_t *sent)
{
    fake_t *f = (fake_t *)t;
    *sent = 0;
    for (size_t i = 0; i < cnt; i++) {
        *sent += iov[i].len;
    }
    if (*sent > 0) {
        f->writes++;
        f->written += *sent;
    }
    return MQTLS_OK;
}
static size_t fake_pending(mqtls_transport_t *t)
{
    (void)t;
    return 0;
}
static int fake_fd(mqtls_transport_t *t)
{
    (void)t;
    return -1;
}
static unsigned fake_want(mqtls_transport_t *t)
{
    (void)t;
    return MQTLS_WANT_READ;
}
static void fake_close(mqtls_transport_t *t)
{
    (void)t;
}
static void fake_destroy(mqtls_transport_t *t)
{
    (void)t; /* lives on the test's stack */
}
static const mqtls_transport_ops_t fake_ops = {
    .name = "fake",
    .connect = fake_connect,
    .read = fake_read,
    .writev = fake_writev,
    .pending = fake_pending,
    .fd = fake_fd,
    .want = fake_want,
    .close = fake_close,
    .destroy = fake_destroy,
};

static mqtls__tls_ctx_t *insecure_ctx(void)
{
    mqtls_tls_cfg_t cfg = {.enabled = true, .insecure = true};
    mqtls__tls_ctx_t *ctx = NULL;
    mqtls_error_t err;
    mqtls_error_init(&err);
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
    return ctx;
}

/* Run a handshake against the scripted peer; returns the status. */
static mqtls_status_t handshake(fake_t *fake, mqtls_tls_facts_t *facts, mqtls_error_t *err)
{
    mqtls__tls_ctx_t *ctx = insecure_ctx();
    mqtls_transport_t *t = NULL;
    mqtls_error_init(err);
    fake->base.ops = &fake_ops;
    assert_int_equal(mqtls__tls_create(ctx, &fake->base, "localhost", facts, err, &t), MQTLS_OK);
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    for (int i = 0; i < 100 && st == MQTLS_ERR_WOULD_BLOCK; i++) {
        st = t->ops->connect(t, 0);
    }
    assert_true(facts->insecure);
    t->ops->destroy(t);
    mqtls__tls_ctx_destroy(ctx);
    return st;
}

static void test_tls_peer_answers_http_is_not_tls(void **state)
{
    (void)state;
    static const uint8_t http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    fake_t fake = {.rx = http, .rx_len = sizeof http - 1, .rx_step = 3};
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
    assert_int_equal(handshake(&fake, &facts, &err), MQTLS_ERR_TLS_NOT_TLS);
    assert_int_equal(err.status, MQTLS_ERR_TLS_NOT_TLS);
    assert_int_equal(err.layer, MQTLS_LAYER_TLS);
    assert_true(facts.peer_not_tls);
    assert_memory_equal(facts.first_bytes, "HTT", 3);
    assert_non_null(strstr(err.detail, "HTT"));
    mqtls__tls_facts_free(&facts);
}

static void test_tls_peer_answers_connack_is_not_tls(void **state)
{
    (void)state;
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x05};
    fake_t fake = {.rx = connack, .rx_len = sizeof connack, .rx_step = 64};
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
    assert_int_equal(handshake(&fake, &facts, &err), MQTLS_ERR_TLS_NOT_TLS);
    assert_true(facts.peer_not_tls);
    assert_int_equal(facts.first_bytes[0], 0x20);
    mqtls__tls_facts_free(&facts);
}

static void test_tls_fatal_alert_split_is_reported(void **state)
{
    (void)state;
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    fake_t fake = {.rx = alert, .rx_len = sizeof alert, .rx_step = 1};
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
    assert_int_equal(handshake(&fake, &facts, &err), MQTLS_ERR_TLS_ALERT);
    assert_int_equal(err.tls_alert, 40);
    assert_int_equal(facts.alert_received, 40);
    assert_int_not_equal(err.mbedtls_ret, 0);
    assert_non_null(strstr(err.detail, "handshake_failure"));
    mqtls__tls_facts_free(&facts);
}

static void test_tls_silent_close_after_hello_is_not_tls(void **state)
{
    (void)state;
    fake_t fake = {.rx = NULL, .rx_len = 0, .rx_step = 1};
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
    assert_int_equal(handshake(&fake, &facts, &err), MQTLS_ERR_TLS_NOT_TLS);
    assert_true(facts.peer_silent_close);
    assert_false(facts.peer_not_tls);
    assert_non_null(strstr(err.detail, "closed the connection"));
    assert_int_equal(fake.writes, 1); /* the ClientHello left in one send */
    mqtls__tls_facts_free(&facts);
}

/* ---- a late alert after a failed handshake: drained without blocking ---------------------- */

/* A ServerHelloDone where the ServerHello belongs: mbedTLS fails the handshake without having
 * seen an alert; the peer's alert (handshake_failure) follows later. */
static const uint8_t bad_hello_then_alert[] = {22, 3, 3, 0, 4, 14, 0, 0, 0, 21, 3, 3, 0, 2, 2, 40};
#define BAD_HELLO_LEN 9u

typedef struct {
    mqtls__tls_ctx_t *ctx;
    mqtls_transport_t *t;
    mqtls_tls_facts_t facts;
    mqtls_error_t err;
} drain_conn_t;

static void drain_open(drain_conn_t *c, fake_t *fake)
{
    c->ctx = insecure_ctx();
    mqtls_error_init(&c->err);
    fake->base.ops = &fake_ops;
    assert_int_equal(mqtls__tls_create(c->ctx, &fake->base, "localhost", &c->facts, &c->err, &c->t),
                     MQTLS_OK);
}

static void drain_close(drain_conn_t *c)
{
    c->t->ops->destroy(c->t);
    mqtls__tls_facts_free(&c->facts);
    mqtls__tls_ctx_destroy(c->ctx);
}

/* connect() at @p now_ms until the handshake has failed; returns the last status. */
static mqtls_status_t connect_until_failed(drain_conn_t *c, int64_t now_ms)
{
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    for (int i = 0; i < 100 && st == MQTLS_ERR_WOULD_BLOCK && c->facts.handshake_ret == 0; i++) {
        st = c->t->ops->connect(c->t, now_ms);
    }
    assert_int_not_equal(c->facts.handshake_ret, 0);
    return st;
}

static void test_tls_late_alert_is_drained_without_blocking(void **state)
{
    (void)state;
    fake_t fake = {.rx = bad_hello_then_alert,
                   .rx_len = sizeof bad_hello_then_alert,
                   .rx_step = 64,
                   .hold_at = BAD_HELLO_LEN,
                   .holding = true};
    drain_conn_t c;
    drain_open(&c, &fake);
    /* The handshake failed, the alert is not there yet: would block, waiting to read. */
    assert_int_equal(connect_until_failed(&c, 1000), MQTLS_ERR_WOULD_BLOCK);
    assert_int_equal(c.t->ops->want(c.t), MQTLS_WANT_READ);
    assert_int_equal(c.err.status, MQTLS_OK); /* not reported yet */
    assert_int_equal(c.t->ops->connect(c.t, 1100), MQTLS_ERR_WOULD_BLOCK);
    /* The alert arrives: the failure is reported with it. */
    fake.holding = false;
    assert_int_equal(c.t->ops->connect(c.t, 1150), MQTLS_ERR_TLS_ALERT);
    assert_int_equal(c.err.status, MQTLS_ERR_TLS_ALERT);
    assert_int_equal(c.err.tls_alert, 40);
    assert_int_equal(c.facts.alert_received, 40);
    assert_int_equal(c.err.mbedtls_ret, c.facts.handshake_ret);
    assert_int_equal(c.t->ops->want(c.t), 0);
    drain_close(&c);
}

static void test_tls_drain_gives_up_at_its_deadline_on_the_callers_clock(void **state)
{
    (void)state;
    fake_t fake = {.rx = bad_hello_then_alert,
                   .rx_len = BAD_HELLO_LEN,
                   .rx_step = 64,
                   .open_at_end = true}; /* the peer stays silent, the connection open */
    drain_conn_t c;
    drain_open(&c, &fake);
    int64_t t0 = mqtls__net_now_ms();
    assert_int_equal(mqtls__transport_wake_at(c.t), INT64_MAX); /* nothing pending yet */
    assert_int_equal(connect_until_failed(&c, 5000), MQTLS_ERR_WOULD_BLOCK);
    /* A silent peer never makes the socket readable: the caller must come back at the
     * deadline by itself, and the transport says when. */
    assert_int_equal(mqtls__transport_wake_at(c.t), 5200);
    /* Time is the caller's: until 200 ms have passed on it, connect() only reads and returns. */
    for (int64_t now = 5000; now < 5200; now += 50) {
        size_t reads = fake.reads;
        assert_int_equal(c.t->ops->connect(c.t, now), MQTLS_ERR_WOULD_BLOCK);
        assert_int_equal(fake.reads, reads + 1); /* one non-blocking read per call */
        assert_int_equal(c.t->ops->want(c.t), MQTLS_WANT_READ);
    }
    assert_int_equal(c.t->ops->connect(c.t, 5200), MQTLS_ERR_TLS_HANDSHAKE);
    assert_int_equal(c.err.status, MQTLS_ERR_TLS_HANDSHAKE);
    assert_int_equal(c.facts.alert_received, -1);
    assert_int_not_equal(c.err.mbedtls_ret, 0);
    /* Nothing slept: 200 ms of the caller's clock took (almost) no real time. */
    assert_true(mqtls__net_now_ms() - t0 < 150);
    drain_close(&c);
}

static void test_tls_drain_ends_when_the_peer_closes_and_close_restarts(void **state)
{
    (void)state;
    fake_t fake = {.rx = bad_hello_then_alert, .rx_len = BAD_HELLO_LEN, .rx_step = 64};
    drain_conn_t c;
    drain_open(&c, &fake);
    /* Closed right after the bad hello: reported at once, no alert to wait for. */
    assert_int_equal(connect_until_failed(&c, 0), MQTLS_ERR_TLS_HANDSHAKE);
    assert_int_equal(c.err.status, MQTLS_ERR_TLS_HANDSHAKE);
    assert_int_equal(c.facts.alert_received, -1);
    assert_false(c.facts.peer_silent_close); /* it did answer, with a bad ServerHello */
    /* A transport closed while draining starts over on the next connect(). */
    fake.rx_pos = 0;
    fake.open_at_end = true;
    mqtls__tls_facts_free(&c.facts);
    assert_int_equal(connect_until_failed(&c, 0), MQTLS_ERR_WOULD_BLOCK);
    c.t->ops->close(c.t);
    assert_int_equal(c.t->ops->want(c.t), 0);
    fake.rx_pos = 0;
    size_t written = fake.written;
    (void)c.t->ops->connect(c.t, 0);
    assert_true(fake.written > written); /* a new ClientHello went out */
    drain_close(&c);
}

/* ---- tcp -------------------------------------------------------------------------------- */

/* Drive connect() to its end (bounded). */
static mqtls_status_t tcp_connect_wait(mqtls_transport_t *t)
{
    mqtls_status_t st = MQTLS_ERR_WOULD_BLOCK;
    for (int i = 0; i < 200 && st == MQTLS_ERR_WOULD_BLOCK; i++) {
        if (t->ops->fd(t) >= 0) {
            struct pollfd p = {.fd = t->ops->fd(t), .events = POLLOUT};
            (void)poll(&p, 1, 10);
        }
        st = t->ops->connect(t, 0);
    }
    return st;
}

static void test_tcp_closed_port_is_refused(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    uint16_t port = ntohs(a.sin_port);
    (void)close(s); /* nothing listens there now */
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_transport_t *t = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", port, 2000, &err, &t), MQTLS_OK);
    assert_int_equal(tcp_connect_wait(t), MQTLS_ERR_CONN_REFUSED);
    assert_int_equal(err.layer, MQTLS_LAYER_TCP);
    assert_non_null(strstr(err.detail, "127.0.0.1"));
    t->ops->destroy(t);
}

/* mosquitto's -A: the socket is bound to the local address before connect(); an address no
 * interface has, or of the other family, fails the attempt with the bind's errno. */
static void test_tcp_bind_address(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 4), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    uint16_t port = ntohs(a.sin_port);
    static const struct {
        const char *bind;
        mqtls_status_t want;
        int sys_errno;
    } cases[] = {
        {"127.0.0.2", MQTLS_OK, 0},                 /* all of 127/8 is local */
        {"192.0.2.1", MQTLS_ERR_IO, EADDRNOTAVAIL}, /* TEST-NET-1: on no interface */
        {"::1", MQTLS_ERR_IO, EAFNOSUPPORT},        /* IPv6 cannot reach 127.0.0.1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mqtls_error_t err;
        mqtls_error_init(&err);
        mqtls_transport_t *t = NULL;
        assert_int_equal(mqtls__tcp_create("127.0.0.1", port, 2000, &err, &t), MQTLS_OK);
        assert_int_equal(mqtls__tcp_set_bind(t, cases[i].bind), MQTLS_OK);
        assert_int_equal(tcp_connect_wait(t), cases[i].want);
        if (cases[i].want == MQTLS_OK) {
            int c = accept(s, (struct sockaddr *)&a, &alen);
            assert_true(c >= 0);
            assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7F000002u); /* the peer saw it */
            (void)close(c);
        } else {
            assert_int_equal(err.layer, MQTLS_LAYER_TCP);
            assert_int_equal(err.sys_errno, cases[i].sys_errno);
            assert_non_null(strstr(err.detail, cases[i].bind));
        }
        t->ops->destroy(t);
    }
    mqtls_transport_t *t = NULL;
    assert_int_equal(mqtls__tcp_create("127.0.0.1", port, 2000, NULL, &t), MQTLS_OK);
    assert_int_equal(mqtls__tcp_set_bind(t, "localhost"), MQTLS_ERR_INVALID_ARG);
    t->ops->destroy(t);
    (void)close(s);
}

/* The system resolver answering "no such name" (EAI_NONAME), without asking any DNS server:
 * tests never resolve a name outside this machine. */
static int resolve_noname(const char *host, const char *port, const struct addrinfo *hints,
                          struct addrinfo **res)
{
    (void)host;
    (void)port;
    (void)hints;
    *res = NULL;
    return EAI_NONAME;
}

static void test_tcp_bad_name_is_dns_error(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_transport_t *t = NULL;
    mqtls__resolve_set_hook(resolve_noname);
    assert_int_equal(mqtls__tcp_create("broker.invalid", 8883, 2000, &err, &t), MQTLS_OK);
    /* Names resolve on a resolver thread: fd() wakes when the answer is in; the 2000 ms
     * connect timeout bounds a slow answer (MQTLS_ERR_DNS too). */
    mqtls_status_t st = t->ops->connect(t, mqtls__net_now_ms());
    for (int i = 0; i < 1000 && st == MQTLS_ERR_WOULD_BLOCK; i++) {
        struct pollfd p = {.fd = t->ops->fd(t), .events = POLLIN};
        (void)poll(&p, 1, 10);
        st = t->ops->connect(t, mqtls__net_now_ms());
    }
    assert_int_equal(st, MQTLS_ERR_DNS);
    assert_int_equal(err.layer, MQTLS_LAYER_DNS);
    assert_non_null(strstr(err.detail, "getaddrinfo broker.invalid"));
    t->ops->destroy(t);
    mqtls__resolve_set_hook(NULL);
}

static void test_tcp_ipv6_literal_roundtrip_and_peer_close(void **state)
{
    (void)state;
    int ls = socket(AF_INET6, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0) {
        (void)close(ls);
        skip(); /* no ::1 on this machine */
    }
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(listen(ls, 1), 0);
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_transport_t *t = NULL;
    assert_int_equal(mqtls__tcp_create("::1", ntohs(a.sin6_port), 2000, &err, &t), MQTLS_OK);
    assert_int_equal(tcp_connect_wait(t), MQTLS_OK);
    int peer = accept(ls, NULL, NULL);
    assert_true(peer >= 0);
    /* gather write arrives in order */
    const mqtls_iovec_t iov[2] = {{(const uint8_t *)"he", 2}, {(const uint8_t *)"llo", 3}};
    size_t sent = 0;
    assert_int_equal(t->ops->writev(t, iov, 2, &sent), MQTLS_OK);
    assert_int_equal(sent, 5);
    char buf[8] = {0};
    assert_int_equal(recv(peer, buf, sizeof buf, 0), 5);
    assert_string_equal(buf, "hello");
    uint8_t in[8];
    size_t got = 0;
    assert_int_equal(t->ops->read(t, in, sizeof in, &got), MQTLS_ERR_WOULD_BLOCK);
    assert_int_equal(send(peer, "ok", 2, 0), 2);
    struct pollfd p = {.fd = t->ops->fd(t), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(t->ops->read(t, in, sizeof in, &got), MQTLS_OK);
    assert_int_equal(got, 2);
    (void)close(peer);
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(t->ops->read(t, in, sizeof in, &got), MQTLS_ERR_CLOSED);
    /* Writing into the closed connection: an error, never SIGPIPE (the test would die). */
    mqtls_status_t st = MQTLS_OK;
    for (int i = 0; i < 50 && st == MQTLS_OK; i++) {
        st = t->ops->writev(t, iov, 2, &sent);
        (void)poll(NULL, 0, 2);
    }
    assert_int_equal(st, MQTLS_ERR_CONN_RESET);
    t->ops->destroy(t);
    (void)close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_flight_split_everywhere_records_facts),
        cmocka_unit_test(test_parser_oversized_message_is_dropped_without_overflow),
        cmocka_unit_test(test_parser_server_hello_max_fragment_echo),
        cmocka_unit_test(test_tls_max_fragment_len_values_and_versions),
        cmocka_unit_test(test_parser_big_read_into_partly_filled_buffer_keeps_the_chain),
        cmocka_unit_test(test_parser_alert_and_not_tls),
        cmocka_unit_test(test_parser_real_server_flights),
        cmocka_unit_test(test_tls_peer_answers_http_is_not_tls),
        cmocka_unit_test(test_tls_peer_answers_connack_is_not_tls),
        cmocka_unit_test(test_tls_fatal_alert_split_is_reported),
        cmocka_unit_test(test_tls_silent_close_after_hello_is_not_tls),
        cmocka_unit_test(test_tls_late_alert_is_drained_without_blocking),
        cmocka_unit_test(test_tls_drain_gives_up_at_its_deadline_on_the_callers_clock),
        cmocka_unit_test(test_tls_drain_ends_when_the_peer_closes_and_close_restarts),
        cmocka_unit_test(test_tcp_closed_port_is_refused),
        cmocka_unit_test(test_tcp_bind_address),
        cmocka_unit_test(test_tcp_bad_name_is_dns_error),
        cmocka_unit_test(test_tcp_ipv6_literal_roundtrip_and_peer_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
