/* The esp-mqtt shim (IDF v5 configuration layout) against a real mosquitto that requires
 * client certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp_test_util.h"

static th_pki_t pki;
static th_broker_t broker;
static char *ca_pem, *cert_pem, *key_pem, *weak_ca_pem;
static size_t cert_len_no_nul;

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    assert_string_equal(base, MQTT_EVENTS);
    esp_mqtt_event_t *e = data;
    assert_int_equal(e->event_id, id);
    rec_add(e);
}

static esp_mqtt_client_config_t base_cfg(uint16_t port, char *uri, size_t uri_cap)
{
    snprintf(uri, uri_cap, "mqtts://localhost:%u", port);
    esp_mqtt_client_config_t cfg = {
        .broker.address.uri = uri,
        .broker.verification.certificate = ca_pem,
        .credentials.authentication.certificate = cert_pem,
        .credentials.authentication.key = key_pem,
        .network.disable_auto_reconnect = true,
    };
    return cfg;
}

static esp_mqtt_client_handle_t start_client(const esp_mqtt_client_config_t *cfg)
{
    rec_reset();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(cfg);
    assert_non_null(c);
    assert_int_equal(esp_mqtt_client_register_event(c, MQTT_EVENT_ANY, on_event, NULL), ESP_OK);
    assert_int_equal(esp_mqtt_client_start(c), ESP_OK);
    return c;
}

static int setup(void **state)
{
    (void)state;
    if (th_pki_make(&pki) != 0 || th_broker_start(&broker, &pki, NULL) != 0) {
        return -1;
    }
    ca_pem = read_pem(pki.ca_crt, NULL);
    cert_pem = read_pem(pki.client_crt, &cert_len_no_nul);
    key_pem = read_pem(pki.client_key, NULL);
    weak_ca_pem = read_pem(pki.weak_ca_crt, NULL);
    return ca_pem && cert_pem && key_pem && weak_ca_pem ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    free(weak_ca_pem);
    return 0;
}

static void test_esp_mutual_tls_subscribe_publish_each_qos_receives_own_messages(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    esp_mqtt_client_handle_t c = start_client(&cfg);
    assert_true(rec_wait(MQTT_EVENT_BEFORE_CONNECT, NULL, 1, 1000));
    assert_true(rec_wait(MQTT_EVENT_CONNECTED, NULL, 1, 5000));
    const char *topics[] = {"esp/qos0", "esp/qos1", "esp/qos2"};
    for (int q = 0; q < 3; q++) {
        assert_true(esp_mqtt_client_subscribe(c, topics[q], q) > 0);
    }
    assert_true(rec_wait(MQTT_EVENT_SUBSCRIBED, NULL, 3, 5000));
    for (int q = 0; q < 3; q++) {
        int id = esp_mqtt_client_publish(c, topics[q], "hello", 0, q, 0);
        if (q == 0) {
            assert_int_equal(id, 0); /* esp-mqtt: QoS 0 has message id 0 */
        } else {
            assert_true(id > 0);
        }
    }
    for (int q = 0; q < 3; q++) {
        assert_true(rec_wait(MQTT_EVENT_DATA, topics[q], 1, 5000));
    }
    assert_true(rec_wait(MQTT_EVENT_PUBLISHED, NULL, 2, 5000)); /* QoS 1 and 2 */
    assert_int_equal(rec_count(MQTT_EVENT_DATA, "esp/qos2"), 1); /* exactly once */
    const rec_event_t *d = rec_first(MQTT_EVENT_DATA);
    assert_int_equal(d->data_len, 5);
    assert_int_equal(d->total_data_len, 5);
    assert_int_equal(d->current_data_offset, 0);

    assert_true(esp_mqtt_client_unsubscribe(c, "esp/qos1") > 0);
    assert_true(rec_wait(MQTT_EVENT_UNSUBSCRIBED, NULL, 1, 5000));
    assert_int_equal(esp_mqtt_client_stop(c), ESP_OK);
    assert_true(rec_wait(MQTT_EVENT_DISCONNECTED, NULL, 1, 3000));
    assert_int_equal(esp_mqtt_client_destroy(c), ESP_OK);
}

static void test_esp_message_larger_than_buffer_arrives_in_fragments_with_offsets(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    cfg.buffer.size = 1024;
    esp_mqtt_client_handle_t c = start_client(&cfg);
    assert_true(rec_wait(MQTT_EVENT_CONNECTED, NULL, 1, 5000));
    assert_true(esp_mqtt_client_subscribe(c, "esp/big", 1) > 0);
    assert_true(rec_wait(MQTT_EVENT_SUBSCRIBED, NULL, 1, 5000));

    enum { BIG = 5000 };
    static char payload[BIG];
    for (size_t i = 0; i < BIG; i++) {
        payload[i] = (char)('a' + i % 26);
    }
    assert_true(esp_mqtt_client_publish(c, "esp/big", payload, BIG, 1, 0) > 0);
    assert_true(rec_wait(MQTT_EVENT_DATA, NULL, 5, 5000)); /* 4 x 1024 + 904 */
    pthread_mutex_lock(&rec.lock);
    size_t seen = 0;
    for (size_t i = 0; i < rec.count; i++) {
        const rec_event_t *e = &rec.ev[i];
        if (e->id != MQTT_EVENT_DATA) {
            continue;
        }
        assert_int_equal(e->total_data_len, BIG);
        assert_int_equal(e->current_data_offset, (int)(seen * 1024));
        assert_int_equal(e->data_len, seen < 4 ? 1024 : BIG - 4 * 1024);
        /* only the first fragment carries the topic, as on the device */
        assert_int_equal(e->has_topic, seen == 0);
        seen++;
    }
    assert_int_equal(seen, 5);
    assert_memory_equal(rec.data, payload, BIG);
    pthread_mutex_unlock(&rec.lock);
    esp_mqtt_client_destroy(c);
}

static void test_esp_rsa1024_ca_gives_0x2700_bad_key_and_explains_it(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_weak, uri, sizeof uri);
    cfg.broker.verification.certificate = weak_ca_pem;
    log_begin();
    esp_mqtt_client_handle_t c = start_client(&cfg);
    bool got = rec_wait(MQTT_EVENT_ERROR, NULL, 1, 8000);
    esp_mqtt_client_destroy(c);
    char *log = log_end();
    assert_true(got);
    const rec_event_t *e = rec_first(MQTT_EVENT_ERROR);
    assert_true(e->has_err);
    assert_int_equal(e->err.error_type, MQTT_ERROR_TYPE_TCP_TRANSPORT);
    assert_int_equal(e->err.esp_tls_last_esp_err, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED);
    assert_int_equal(e->err.esp_tls_stack_err, 0x2700);
    assert_true(e->err.esp_tls_cert_verify_flags & 0x10000); /* MBEDTLS_X509_BADCERT_BAD_KEY */
    assert_int_equal(rec_count(MQTT_EVENT_CONNECTED, NULL), 0); /* failed closed */
    assert_non_null(log);
    assert_non_null(strstr(log, "esp-tls: mbedtls_ssl_handshake returned -0x2700"));
    assert_non_null(strstr(log, "Failed to verify peer certificate!"));
    assert_non_null(strstr(log, "verification info:"));
    assert_non_null(strstr(log, "[weak-key]")); /* mqtls names the cause */
    free(log);
}

static void test_esp_pem_length_without_nul_fails_like_device_with_finding(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    /* EMBED_FILES instead of EMBED_TXTFILES: the length excludes the NUL */
    cfg.credentials.authentication.certificate_len = cert_len_no_nul;
    log_begin();
    esp_mqtt_client_handle_t c = start_client(&cfg);
    bool got = rec_wait(MQTT_EVENT_ERROR, NULL, 1, 5000);
    esp_mqtt_client_stop(c);
    esp_mqtt_client_destroy(c);
    char *log = log_end();
    assert_true(got);
    const rec_event_t *e = rec_first(MQTT_EVENT_ERROR);
    assert_int_equal(e->err.esp_tls_last_esp_err, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED);
    assert_int_equal(e->err.esp_tls_stack_err, 0x2180);
    assert_non_null(log);
    assert_non_null(strstr(log, "[pem-not-nul-terminated]"));
    free(log);
}

/* esp-tls refuses TLS with no CA, bundle, global store or PSK (set_client_config(): "No server
 * verification option set", ESP_ERR_MBEDTLS_SSL_SETUP_FAILED); skip_cert_common_name_check
 * does not count. The shim must refuse the same way: code that connects on Linux connects on
 * the device. */
static void test_esp_no_ca_is_refused_like_esp_tls(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    cfg.broker.verification.certificate = NULL;
    cfg.broker.verification.skip_cert_common_name_check = true;
    log_begin();
    esp_mqtt_client_handle_t c = start_client(&cfg);
    bool got = rec_wait(MQTT_EVENT_DISCONNECTED, NULL, 1, 5000);
    esp_mqtt_client_stop(c);
    esp_mqtt_client_destroy(c);
    char *log = log_end();
    assert_true(got);
    assert_int_equal(rec_count(MQTT_EVENT_BEFORE_CONNECT, NULL), 1);
    assert_int_equal(rec_count(MQTT_EVENT_CONNECTED, NULL), 0);
    const rec_event_t *e = rec_first(MQTT_EVENT_ERROR);
    assert_non_null(e);
    assert_true(e->has_err);
    assert_int_equal(e->err.error_type, MQTT_ERROR_TYPE_TCP_TRANSPORT);
    assert_int_equal(e->err.esp_tls_last_esp_err, ESP_ERR_MBEDTLS_SSL_SETUP_FAILED); /* 0x8017 */
    assert_int_equal(e->err.esp_tls_stack_err, 0);
    assert_int_equal(e->err.esp_transport_sock_errno, 0);
    assert_non_null(log);
    assert_non_null(strstr(log, "esp-tls-mbedtls: No server verification option set in "
                                "esp_tls_cfg_t structure. Check esp_tls API reference"));
    assert_non_null(strstr(log, "esp-tls-mbedtls: Failed to set client configurations, returned "
                                "[0x8017] (ESP_ERR_MBEDTLS_SSL_SETUP_FAILED)"));
    assert_non_null(strstr(log, "esp-tls: create_ssl_handle failed"));
    assert_non_null(strstr(log, "mqtt_client: Error transport connect"));
    assert_non_null(strstr(log, "[no-verification-option]")); /* and mqtls says why */
    assert_null(strstr(log, "file-unreadable"));              /* an unset CA is no file */
    free(log);
}

static void test_esp_secure_element_is_refused_not_ignored(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    cfg.credentials.authentication.use_secure_element = true;
    log_begin();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(&cfg);
    char *log = log_end();
    assert_null(c);
    assert_non_null(strstr(log, "use_secure_element is not supported"));
    assert_non_null(strstr(log, "ESP_ERR_NOT_SUPPORTED"));
    free(log);
    /* ws:// and wss:// are accepted now: tests/integration/rabbitmq/test_rabbitmq_ws.c */
}

static void test_esp_qos1_publish_while_disconnected_is_kept_in_outbox(void **state)
{
    (void)state;
    char uri[64];
    esp_mqtt_client_config_t cfg = base_cfg(broker.port_mtls, uri, sizeof uri);
    rec_reset();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(&cfg);
    assert_non_null(c);
    assert_int_equal(esp_mqtt_client_publish(c, "esp/later", "x", 1, 0, 0), -1); /* QoS 0 */
    assert_true(esp_mqtt_client_publish(c, "esp/later", "queued", 6, 1, 0) > 0);
    assert_true(esp_mqtt_client_get_outbox_size(c) > 0);
    assert_int_equal(esp_mqtt_client_register_event(c, MQTT_EVENT_ANY, on_event, NULL), ESP_OK);
    assert_int_equal(esp_mqtt_client_start(c), ESP_OK);
    assert_true(rec_wait(MQTT_EVENT_PUBLISHED, NULL, 1, 5000)); /* sent once connected */
    assert_int_equal(esp_mqtt_client_get_outbox_size(c), 0);
    esp_mqtt_client_destroy(c);
}

int main(void)
{
    pthread_mutex_init(&rec.lock, NULL);
    pthread_cond_init(&rec.cond, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_mutual_tls_subscribe_publish_each_qos_receives_own_messages),
        cmocka_unit_test(test_esp_message_larger_than_buffer_arrives_in_fragments_with_offsets),
        cmocka_unit_test(test_esp_rsa1024_ca_gives_0x2700_bad_key_and_explains_it),
        cmocka_unit_test(test_esp_pem_length_without_nul_fails_like_device_with_finding),
        cmocka_unit_test(test_esp_no_ca_is_refused_like_esp_tls),
        cmocka_unit_test(test_esp_secure_element_is_refused_not_ignored),
        cmocka_unit_test(test_esp_qos1_publish_while_disconnected_is_kept_in_outbox),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
