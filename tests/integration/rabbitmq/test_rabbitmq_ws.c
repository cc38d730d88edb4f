/* MQTT over WebSocket against a real broker: RabbitMQ 3.10's rabbitmq_web_mqtt (Debian's
 * rabbitmq-server, one node started by the harness), which answers the "mqtt" subprotocol that
 * websockify refuses. ws:// (password login) and wss:// (client certificate required, its CN is
 * the user) with mqtls pub/sub, with the library, and with the esp-mqtt shim (URI and
 * transport/path forms). Every wait has a deadline; the node is stopped by PID at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"
#include "integration/esp/esp_test_util.h"
#include "mqtls/mqtls.h"
#include "mqtt_client.h"

static th_rabbit_t rabbit;
static char ws_uri[128], wss_uri[128];

/* ---- the CLI ---------------------------------------------------------------------------- */

/* Run a command line made of our own paths and ports under `timeout`; output into @p out. */
__attribute__((format(printf, 3, 4))) static int run(char *out, size_t cap, const char *fmt, ...)
{
    char body[3072], cmd[3200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "timeout 40 %s 2>&1", body);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    size_t len = fread(out, 1, cap - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    printf("$ %s\n%s[exit %d]\n", body, out, rc);
    fflush(stdout);
    return rc;
}

static void cli_roundtrip(const char *uri, const char *auth, const char *topic, const char *msg)
{
    char out[8192];
    /* retained, so that the subscriber started afterwards gets it without a race */
    assert_int_equal(run(out, sizeof out, "%s pub -L %s %s -t %s -m %s -q 1 -r", MQTLS_CLI, uri,
                         auth, topic, msg),
                     0);
    assert_int_equal(
        run(out, sizeof out, "%s sub -L %s %s -t %s -q 1 -C 1 -W 20", MQTLS_CLI, uri, auth, topic),
        0);
    assert_non_null(strstr(out, msg));
}

static char tls_flags[3 * TH_PATH_MAX + 64];

static void test_cli_wss_client_certificate_pub_sub(void **state)
{
    (void)state;
    cli_roundtrip(wss_uri, tls_flags, "rws/cli/wss", "hello-wss");
}

static void test_cli_ws_password_pub_sub(void **state)
{
    (void)state;
    cli_roundtrip(ws_uri, "-u " TH_RABBIT_PW_USER " -P " TH_RABBIT_PW_PASS, "rws/cli/ws",
                  "hello-ws");
}

static void test_cli_wss_without_certificate_is_diagnosed(void **state)
{
    (void)state;
    char out[8192];
    char flags[TH_PATH_MAX + 16];
    snprintf(flags, sizeof flags, "--cafile %s", rabbit.ca_crt);
    assert_int_not_equal(
        run(out, sizeof out, "%s pub -L %s %s -t t -m x", MQTLS_CLI, wss_uri, flags), 0);
    assert_non_null(strstr(out, "client-cert-missing")); /* fail_if_no_peer_cert */
}

/* ---- the library ------------------------------------------------------------------------- */

typedef struct lib_rec {
    bool connected, subscribed, got;
    mqtls_error_t err;
    bool failed;
} lib_rec_t;

static void lib_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    lib_rec_t *r = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        r->connected = true;
        mqtls_subscription_t s = {"rws/lib", 1};
        (void)mqtls_client_subscribe(c, &s, 1, NULL, NULL);
    } else if (ev->type == MQTLS_EVENT_SUBSCRIBED) {
        r->subscribed = true;
        mqtls_publish_opts_t o = {.qos = 1};
        (void)mqtls_client_publish(c, "rws/lib", "lib", 3, &o, NULL);
    } else if (ev->type == MQTLS_EVENT_MESSAGE) {
        r->got =
            ev->u.message.payload.len == 3 && memcmp(ev->u.message.payload.data, "lib", 3) == 0;
    } else if (ev->type == MQTLS_EVENT_ERROR && !r->failed) {
        r->failed = true;
        r->err = ev->u.error.err;
    }
}

static void lib_roundtrip(const char *uri, bool tls)
{
    mqtls_tls_cfg_t t;
    mqtls_tls_cfg_init(&t);
    t.ca_file = rabbit.ca_crt;
    t.cert_file = rabbit.client_crt;
    t.key_file = rabbit.client_key;
    lib_rec_t r;
    memset(&r, 0, sizeof r);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.tls = tls ? &t : NULL;
    cfg.username = tls ? NULL : TH_RABBIT_PW_USER;
    cfg.password = tls ? NULL : TH_RABBIT_PW_PASS;
    cfg.reconnect.enabled = false;
    cfg.on_event = lib_event;
    cfg.event_ctx = &r;
    mqtls_error_t err;
    mqtls_client_t *c = NULL;
    assert_int_equal(mqtls_client_create(&cfg, &err, &c), MQTLS_OK);
    assert_int_equal(mqtls_client_connect(c), MQTLS_OK);
    int64_t deadline = th_now_ms() + 20000;
    while (!r.got && !r.failed && th_now_ms() < deadline) {
        mqtls_client_step(c, 100);
    }
    if (r.failed) {
        char line[256];
        mqtls_strerror(&r.err, line, sizeof line);
        fail_msg("%s: %s", uri, line);
    }
    assert_true(r.connected && r.subscribed && r.got);
    mqtls_client_destroy(c);
}

static void test_library_wss_and_ws_receive_own_message(void **state)
{
    (void)state;
    lib_roundtrip(wss_uri, true);
    lib_roundtrip(ws_uri, false);
}

/* ---- the esp-mqtt shim -------------------------------------------------------------------- */

static void on_esp(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    (void)id;
    rec_add(data);
}

static void esp_roundtrip(const esp_mqtt_client_config_t *cfg, const char *topic)
{
    rec_reset();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(cfg);
    assert_non_null(c);
    assert_int_equal(esp_mqtt_client_register_event(c, MQTT_EVENT_ANY, on_esp, NULL), ESP_OK);
    assert_int_equal(esp_mqtt_client_start(c), ESP_OK);
    assert_true(rec_wait(MQTT_EVENT_CONNECTED, NULL, 1, 15000));
    assert_true(esp_mqtt_client_subscribe(c, topic, 1) > 0);
    assert_true(rec_wait(MQTT_EVENT_SUBSCRIBED, NULL, 1, 10000));
    assert_true(esp_mqtt_client_publish(c, topic, "esp", 3, 1, 0) > 0);
    assert_true(rec_wait(MQTT_EVENT_DATA, topic, 1, 10000));
    assert_int_equal(esp_mqtt_client_stop(c), ESP_OK);
    assert_int_equal(esp_mqtt_client_destroy(c), ESP_OK);
}

static void test_esp_shim_wss_uri_and_ws_transport(void **state)
{
    (void)state;
    char *ca = read_pem(rabbit.ca_crt, NULL);
    char *cert = read_pem(rabbit.client_crt, NULL);
    char *key = read_pem(rabbit.client_key, NULL);
    assert_true(ca != NULL && cert != NULL && key != NULL);
    esp_mqtt_client_config_t cfg = {
        .broker.address.uri = wss_uri,
        .broker.verification.certificate = ca,
        .credentials.authentication.certificate = cert,
        .credentials.authentication.key = key,
        .network.disable_auto_reconnect = true,
    };
    esp_roundtrip(&cfg, "rws/esp/wss");
    /* the transport + path form: MQTT_TRANSPORT_OVER_WS maps to ws:// */
    esp_mqtt_client_config_t ws = {
        .broker.address.hostname = "127.0.0.1",
        .broker.address.port = rabbit.node[0].port_ws,
        .broker.address.transport = MQTT_TRANSPORT_OVER_WS,
        .broker.address.path = "/ws",
        .credentials.username = TH_RABBIT_PW_USER,
        .credentials.authentication.password = TH_RABBIT_PW_PASS,
        .network.disable_auto_reconnect = true,
    };
    esp_roundtrip(&ws, "rws/esp/ws");
    free(ca);
    free(cert);
    free(key);
}

static int group_setup(void **state)
{
    (void)state;
    int64_t t0 = th_now_ms();
    /* One retry: ports are picked free, but another program on this shared machine may take one
     * before the node binds it (eaddrinuse). A second failure fails the group, never a skip. */
    for (int attempt = 0; th_rabbit_start(&rabbit, 1) != 0; attempt++) {
        th_rabbit_stop(&rabbit);
        if (attempt == 1) {
            return -1;
        }
    }
    printf("# 1-node RabbitMQ up in %lld ms\n", (long long)(th_now_ms() - t0));
    snprintf(ws_uri, sizeof ws_uri, "ws://127.0.0.1:%u/ws", rabbit.node[0].port_ws);
    snprintf(wss_uri, sizeof wss_uri, "wss://127.0.0.1:%u/ws", rabbit.node[0].port_wss);
    snprintf(tls_flags, sizeof tls_flags, "--cafile %s --cert %s --key %s", rabbit.ca_crt,
             rabbit.client_crt, rabbit.client_key);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    th_rabbit_stop(&rabbit);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_wss_client_certificate_pub_sub),
        cmocka_unit_test(test_cli_ws_password_pub_sub),
        cmocka_unit_test(test_cli_wss_without_certificate_is_diagnosed),
        cmocka_unit_test(test_library_wss_and_ws_receive_own_message),
        cmocka_unit_test(test_esp_shim_wss_uri_and_ws_transport),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
