/* MQTT 5 enhanced authentication (mqtls/auth.h): the SCRAM-SHA-256 client on RFC 7677 section 3's
 * test vector, then the AUTH exchange of a whole client against a scripted broker (the fake
 * transport plays the broker: AUTH 0x18 with server-first, CONNACK with server-final), a server
 * that does not know the password, re-authentication (AUTH 0x19 .. AUTH 0x00), and the rules
 * (MQTT 5 only, an AUTH nobody asked for, another method). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/scram.h"
#include "mqtls/client.h"
#include "runtime/runtime_internal.h"
#include "unit/runtime/fake_transport.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 7677 section 3 (user "user", password "pencil") */
static const char client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char client_final[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
/* the same with one character of the signature changed: a server without the password */
static const char server_final_bad[] = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

static mqtls_scram_t *new_scram(void)
{
    mqtls_scram_t *s = NULL;
    assert_int_equal(mqtls_scram_create("user", "pencil", &s), MQTLS_OK);
    assert_int_equal(mqtls__scram_set_nonce(s, "rOprNGfwEbeRWgbNEkqO"), MQTLS_OK);
    return s;
}

/* RFC 7677's exchange on @p s: our messages must be the RFC's byte for byte; @return what the
 * step with the server's final message @p final says. */
static mqtls_status_t rfc7677_exchange(mqtls_scram_t *s, const char *final)
{
    uint8_t out[MQTLS_AUTH_DATA_MAX];
    size_t n = 0;
    assert_int_equal(mqtls_scram_start(s, out, sizeof out, &n), MQTLS_OK);
    assert_int_equal(n, strlen(client_first));
    assert_memory_equal(out, client_first, n);
    assert_int_equal(mqtls_scram_step(s, 0x18, (const uint8_t *)server_first, strlen(server_first),
                                      out, sizeof out, &n),
                     MQTLS_OK);
    assert_int_equal(n, strlen(client_final));
    assert_memory_equal(out, client_final, n);
    mqtls_status_t st =
        mqtls_scram_step(s, 0x00, (const uint8_t *)final, strlen(final), out, sizeof out, &n);
    assert_int_equal(n, 0);
    return st;
}

static void test_scram_rfc7677_vector_matches(void **state)
{
    (void)state;
    mqtls_scram_t *s = new_scram();
    assert_int_equal(rfc7677_exchange(s, server_final), MQTLS_OK);
    mqtls_scram_destroy(s);
}

static void test_scram_bad_server_signature_fails(void **state)
{
    (void)state;
    mqtls_scram_t *s = new_scram();
    assert_int_equal(rfc7677_exchange(s, server_final_bad), MQTLS_ERR_AUTH_FAILED);
    assert_non_null(strstr(mqtls_scram_error(s), "server signature"));
    mqtls_scram_destroy(s);
}

static void test_scram_bad_server_first_refused(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        mqtls_status_t st;
    } cases[] = {
        {"r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MQTLS_ERR_AUTH_FAILED},
        {"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MQTLS_ERR_AUTH_FAILED},
        {"r=rOprNGfwEbeRWgbNEkqOxx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000", MQTLS_ERR_MALFORMED},
        {"r=rOprNGfwEbeRWgbNEkqOxx,s=!!!,i=4096", MQTLS_ERR_MALFORMED},
        {"r=rOprNGfwEbeRWgbNEkqOxx,i=4096", MQTLS_ERR_MALFORMED},
        {"e=unknown-user", MQTLS_ERR_AUTH_FAILED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        mqtls_scram_t *s = new_scram();
        uint8_t out[MQTLS_AUTH_DATA_MAX];
        size_t n = 0;
        assert_int_equal(mqtls_scram_start(s, out, sizeof out, &n), MQTLS_OK);
        mqtls_status_t st = mqtls_scram_step(s, 0x18, (const uint8_t *)cases[i].msg,
                                             strlen(cases[i].msg), out, sizeof out, &n);
        if (st != cases[i].st) {
            fail_msg("%s: got %s", cases[i].msg, mqtls_status_name(st));
        }
        mqtls_scram_destroy(s);
    }
    /* the final message before the exchange, and none at all, are refused */
    mqtls_scram_t *s = new_scram();
    uint8_t out[64];
    size_t n = 0;
    assert_int_equal(mqtls_scram_step(s, 0x00, NULL, 0, out, sizeof out, &n),
                     MQTLS_ERR_AUTH_FAILED);
    mqtls_scram_destroy(s);
}

static void test_scram_user_name_escaped_and_nonce_random(void **state)
{
    (void)state;
    mqtls_scram_t *s = NULL;
    assert_int_equal(mqtls_scram_create("a,b=c", "pw", &s), MQTLS_OK);
    uint8_t out[MQTLS_AUTH_DATA_MAX + 1];
    size_t n = 0;
    assert_int_equal(mqtls_scram_start(s, out, MQTLS_AUTH_DATA_MAX, &n), MQTLS_OK);
    out[n] = '\0';
    assert_true(strncmp((const char *)out, "n,,n=a=2Cb=3Dc,r=", 17) == 0);
    assert_int_equal(strlen((const char *)out + 17), 24); /* 18 random bytes in base64 */
    char first_nonce[32];
    snprintf(first_nonce, sizeof first_nonce, "%s", (const char *)out + 17);
    assert_int_equal(mqtls_scram_start(s, out, MQTLS_AUTH_DATA_MAX, &n), MQTLS_OK);
    out[n] = '\0';
    assert_string_not_equal(first_nonce, (const char *)out + 17);
    mqtls_scram_destroy(s);
    assert_int_equal(mqtls_scram_create("", "pw", &s), MQTLS_ERR_INVALID_ARG);
}

/* ---- the whole client against a scripted broker --------------------------------------------- */

static fake_transport_t g_net;
static int64_t g_now;

typedef struct rec {
    int connected, disconnected, errors;
    mqtls_error_t last_error;
} rec_t;
static rec_t g_rec;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    rec_t *r = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        r->connected++;
    } else if (ev->type == MQTLS_EVENT_DISCONNECTED) {
        r->disconnected++;
    } else if (ev->type == MQTLS_EVENT_ERROR) {
        r->errors++;
        r->last_error = ev->u.error.err;
    }
}

static mqtls_status_t factory(void *ctx, mqtls_error_t *err, mqtls_transport_t **out)
{
    (void)ctx;
    g_net.base.err = err;
    *out = &g_net.base;
    return MQTLS_OK;
}

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return g_now;
}

static mqtls_client_t *make(mqtls_scram_t *scram)
{
    memset(&g_rec, 0, sizeof g_rec);
    g_now = 1000000;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtt://127.0.0.1";
    cfg.client_id = "auth";
    cfg.version = MQTLS_V5;
    cfg.reconnect.enabled = false;
    cfg.diagnose = false;
    cfg.on_event = on_event;
    cfg.event_ctx = &g_rec;
    cfg.auth_method = MQTLS_AUTH_METHOD_SCRAM_SHA_256;
    cfg.auth_start = mqtls_scram_start;
    cfg.auth_step = mqtls_scram_step;
    cfg.auth_ctx = scram;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, NULL, &c), MQTLS_OK);
    mqtls__client_set_transport_factory(c, factory, NULL);
    mqtls__client_set_clock(c, fake_clock, NULL);
    return c;
}

static void steps(mqtls_client_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(mqtls_client_step(c, 0), MQTLS_OK);
    }
}

/* An AUTH or CONNACK from the broker, with our method and @p data, into @p buf. */
static size_t broker_packet(uint8_t *buf, size_t cap, mqtls_packet_type_t type, uint8_t reason,
                            const char *method, const char *data)
{
    mqtls_property_t props[2] = {{.id = MQTLS_PROP_AUTHENTICATION_METHOD},
                                 {.id = MQTLS_PROP_AUTHENTICATION_DATA}};
    props[0].v.bin.data = (const uint8_t *)method;
    props[0].v.bin.len = strlen(method);
    props[1].v.bin.data = (const uint8_t *)data;
    props[1].v.bin.len = data != NULL ? strlen(data) : 0;
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    mqtls_properties_t *pp = type == MQTLS_CONNACK ? &p.u.connack.props : &p.u.disconnect.props;
    if (type == MQTLS_CONNACK) {
        p.u.connack.reason = reason;
    } else {
        p.u.disconnect.reason = reason;
    }
    pp->items = props;
    pp->count = data != NULL ? 2 : 1;
    size_t n = 0;
    assert_int_equal(mqtls_packet_encode(&p, MQTLS_V5, buf, cap, &n), MQTLS_OK);
    return n;
}

/* The packets the client wrote. */
static size_t written_packets(mqtls_packet_t *out, size_t max)
{
    mqtls_codec_cfg_t cc = {.version = MQTLS_V5};
    size_t off = 0;
    size_t n = 0;
    while (off < g_net.written_len && n < max) {
        size_t used = 0;
        assert_int_equal(
            mqtls_packet_decode(g_net.written + off, g_net.written_len - off, &cc, &out[n], &used),
            MQTLS_OK);
        off += used;
        n++;
    }
    return n;
}

/* Authentication Method and Data of @p props equal @p method and @p data. */
static void assert_auth_props(const mqtls_properties_t *props, const char *method, const char *data)
{
    mqtls_property_t pr;
    assert_true(mqtls_props_find(props, MQTLS_PROP_AUTHENTICATION_METHOD, &pr));
    assert_int_equal(pr.v.bin.len, strlen(method));
    assert_memory_equal(pr.v.bin.data, method, pr.v.bin.len);
    assert_true(mqtls_props_find(props, MQTLS_PROP_AUTHENTICATION_DATA, &pr));
    assert_int_equal(pr.v.bin.len, strlen(data));
    assert_memory_equal(pr.v.bin.data, data, pr.v.bin.len);
}

static void test_client_scram_exchange_connects(void **state)
{
    (void)state;
    static uint8_t auth[256], connack[128];
    size_t auth_len =
        broker_packet(auth, sizeof auth, MQTLS_AUTH, 0x18, "SCRAM-SHA-256", server_first);
    size_t connack_len =
        broker_packet(connack, sizeof connack, MQTLS_CONNACK, 0x00, "SCRAM-SHA-256", server_final);
    const fake_step_t reads[] = {FAKE_WOULD_BLOCK(), FAKE_READ(auth, auth_len), FAKE_WOULD_BLOCK(),
                                 FAKE_READ(connack, connack_len)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_scram_t *scram = new_scram();
    mqtls_client_t *c = make(scram);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 12);
    assert_int_equal(g_rec.connected, 1);
    assert_int_equal(g_rec.errors, 0);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    mqtls_packet_t p[4];
    assert_int_equal(written_packets(p, 4), 2);
    assert_int_equal(p[0].type, MQTLS_CONNECT);
    assert_auth_props(&p[0].u.connect.props, "SCRAM-SHA-256", client_first);
    assert_int_equal(p[1].type, MQTLS_AUTH);
    assert_int_equal(p[1].u.disconnect.reason, 0x18);
    assert_auth_props(&p[1].u.disconnect.props, "SCRAM-SHA-256", client_final);
    assert_true(fake_reads_done(&g_net));

    /* Re-authentication: AUTH 0x19 with a new client-first, the same exchange, AUTH 0x00 */
    static uint8_t auth2[256], success[128];
    size_t auth2_len =
        broker_packet(auth2, sizeof auth2, MQTLS_AUTH, 0x18, "SCRAM-SHA-256", server_first);
    size_t success_len =
        broker_packet(success, sizeof success, MQTLS_AUTH, 0x00, "SCRAM-SHA-256", server_final);
    const fake_step_t reads2[] = {FAKE_WOULD_BLOCK(), FAKE_READ(auth2, auth2_len),
                                  FAKE_WOULD_BLOCK(), FAKE_READ(success, success_len)};
    g_net.reads = reads2;
    g_net.reads_count = ARRAY_LEN(reads2);
    g_net.read_pos = 0;
    g_net.written_len = 0;
    assert_int_equal(mqtls_client_reauthenticate(c), MQTLS_OK);
    assert_int_equal(mqtls_client_reauthenticate(c), MQTLS_ERR_STATE); /* one at a time */
    steps(c, 12);
    assert_true(fake_reads_done(&g_net));
    assert_int_equal(written_packets(p, 4), 2);
    assert_int_equal(p[0].type, MQTLS_AUTH);
    assert_int_equal(p[0].u.disconnect.reason, 0x19);
    assert_auth_props(&p[0].u.disconnect.props, "SCRAM-SHA-256", client_first);
    assert_int_equal(p[1].u.disconnect.reason, 0x18);
    assert_auth_props(&p[1].u.disconnect.props, "SCRAM-SHA-256", client_final);
    assert_int_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    assert_int_equal(g_rec.errors, 0);
    assert_int_equal(mqtls_client_reauthenticate(c), MQTLS_OK); /* the exchange is over */
    mqtls_client_destroy(c);
    mqtls_scram_destroy(scram);
}

static void test_client_scram_wrong_server_signature_fails(void **state)
{
    (void)state;
    static uint8_t auth[256], connack[128];
    size_t auth_len =
        broker_packet(auth, sizeof auth, MQTLS_AUTH, 0x18, "SCRAM-SHA-256", server_first);
    size_t connack_len = broker_packet(connack, sizeof connack, MQTLS_CONNACK, 0x00,
                                       "SCRAM-SHA-256", server_final_bad);
    const fake_step_t reads[] = {FAKE_READ(auth, auth_len), FAKE_WOULD_BLOCK(),
                                 FAKE_READ(connack, connack_len)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_scram_t *scram = new_scram();
    mqtls_client_t *c = make(scram);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 12);
    assert_int_equal(g_rec.connected, 0);
    assert_true(g_rec.errors >= 1);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_AUTH_FAILED);
    assert_non_null(strstr(mqtls_scram_error(scram), "server signature"));
    assert_int_not_equal(mqtls_client_state(c), MQTLS_STATE_CONNECTED);
    mqtls_client_destroy(c);
    mqtls_scram_destroy(scram);
}

static void test_client_auth_other_method_is_protocol_error(void **state)
{
    (void)state;
    static uint8_t auth[256];
    size_t auth_len = broker_packet(auth, sizeof auth, MQTLS_AUTH, 0x18, "PLAIN", server_first);
    const fake_step_t reads[] = {FAKE_READ(auth, auth_len)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    mqtls_scram_t *scram = new_scram();
    mqtls_client_t *c = make(scram);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 8);
    assert_int_equal(g_rec.connected, 0);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_PROTOCOL);
    mqtls_client_destroy(c);
    mqtls_scram_destroy(scram);
}

static void test_client_auth_needs_mqtt5(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtt://127.0.0.1";
    cfg.version = MQTLS_V311;
    cfg.auth_method = MQTLS_AUTH_METHOD_SCRAM_SHA_256;
    cfg.auth_start = mqtls_scram_start;
    cfg.auth_step = mqtls_scram_step;
    mqtls_error_t err;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "MQTT 5"));
    cfg.version = MQTLS_V5;
    cfg.auth_step = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_ERR_INVALID_ARG);
    /* without a method, AUTH from the broker is a protocol error and reauthenticate unsupported */
    static uint8_t auth[256];
    size_t auth_len =
        broker_packet(auth, sizeof auth, MQTLS_AUTH, 0x18, "SCRAM-SHA-256", server_first);
    const fake_step_t reads[] = {FAKE_READ(auth, auth_len)};
    fake_init(&g_net, reads, ARRAY_LEN(reads), NULL, 0);
    cfg.auth_method = NULL;
    cfg.auth_start = NULL;
    cfg.on_event = on_event;
    cfg.event_ctx = &g_rec;
    cfg.reconnect.enabled = false;
    memset(&g_rec, 0, sizeof g_rec);
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_OK);
    assert_int_equal(mqtls_client_reauthenticate(c), MQTLS_ERR_NOT_SUPPORTED);
    mqtls__client_set_transport_factory(c, factory, NULL);
    mqtls__client_set_clock(c, fake_clock, NULL);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    steps(c, 8);
    assert_int_equal(g_rec.last_error.status, MQTLS_ERR_PROTOCOL);
    mqtls_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_rfc7677_vector_matches),
        cmocka_unit_test(test_scram_bad_server_signature_fails),
        cmocka_unit_test(test_scram_bad_server_first_refused),
        cmocka_unit_test(test_scram_user_name_escaped_and_nonce_random),
        cmocka_unit_test(test_client_scram_exchange_connects),
        cmocka_unit_test(test_client_scram_wrong_server_signature_fails),
        cmocka_unit_test(test_client_auth_other_method_is_protocol_error),
        cmocka_unit_test(test_client_auth_needs_mqtt5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
