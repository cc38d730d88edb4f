/* The esp-mqtt shim with the IDF v3/v4 flat configuration (.uri, .event_handle, .cert_pem,
 * ...), compiled with MQTLS_ESP_IDF_V4_CONFIG, against a real mutual-TLS mosquitto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "esp_test_util.h"

static th_pki_t pki;
static th_broker_t broker;
static char *ca_pem, *cert_pem, *key_pem;
static int user_ctx_marker;

static esp_err_t event_handle(esp_mqtt_event_handle_t e)
{
    rec_add(e);
    return ESP_OK;
}

static int setup(void **state)
{
    (void)state;
    if (th_pki_make(&pki) != 0 || th_broker_start(&broker, &pki, NULL) != 0) {
        return -1;
    }
    ca_pem = read_pem(pki.ca_crt, NULL);
    cert_pem = read_pem(pki.client_crt, NULL);
    key_pem = read_pem(pki.client_key, NULL);
    return ca_pem && cert_pem && key_pem ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    th_broker_cleanup(&broker);
    th_pki_remove(&pki);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    return 0;
}

static void test_esp_v4_flat_config_event_handle_round_trip_each_qos(void **state)
{
    (void)state;
    char uri[64];
    snprintf(uri, sizeof uri, "mqtts://localhost:%u", broker.port_mtls);
    /* the snippet from the issue, as device code writes it */
    const esp_mqtt_client_config_t mqtt_cfg = {
        .uri = uri,
        .event_handle = event_handle,
        .cert_pem = (const char *)ca_pem,
        .client_cert_pem = (const char *)cert_pem,
        .client_key_pem = (const char *)key_pem,
        .user_context = &user_ctx_marker,
        .disable_auto_reconnect = true,
    };
    rec_reset();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(&mqtt_cfg);
    assert_non_null(c);
    assert_int_equal(esp_mqtt_client_start(c), ESP_OK);
    assert_true(rec_wait(MQTT_EVENT_CONNECTED, NULL, 1, 5000));
    assert_ptr_equal(rec_first(MQTT_EVENT_CONNECTED)->user_context, &user_ctx_marker);
    esp_mqtt_topic_t topics[] = {{"v4/qos0", 0}, {"v4/qos1", 1}, {"v4/qos2", 2}};
    assert_true(esp_mqtt_client_subscribe(c, topics, 3) > 0); /* the _Generic macro */
    assert_true(rec_wait(MQTT_EVENT_SUBSCRIBED, NULL, 1, 5000));
    for (int q = 0; q < 3; q++) {
        assert_true(esp_mqtt_client_publish(c, topics[q].filter, "v4", 2, q, 0) >= 0);
    }
    for (int q = 0; q < 3; q++) {
        assert_true(rec_wait(MQTT_EVENT_DATA, topics[q].filter, 1, 5000));
    }
    assert_int_equal(rec_count(MQTT_EVENT_DATA, "v4/qos2"), 1);
    assert_int_equal(esp_mqtt_client_stop(c), ESP_OK);
    esp_mqtt_client_destroy(c);
}

static void test_esp_v4_wrong_port_reports_transport_error(void **state)
{
    (void)state;
    char uri[64];
    snprintf(uri, sizeof uri, "mqtts://127.0.0.1:%u", th_free_port()); /* nothing listens */
    const esp_mqtt_client_config_t cfg = {
        .uri = uri,
        .event_handle = event_handle,
        .cert_pem = (const char *)ca_pem,
        .client_cert_pem = (const char *)cert_pem,
        .client_key_pem = (const char *)key_pem,
        .disable_auto_reconnect = true,
    };
    rec_reset();
    esp_mqtt_client_handle_t c = esp_mqtt_client_init(&cfg);
    assert_non_null(c);
    assert_int_equal(esp_mqtt_client_start(c), ESP_OK);
    assert_true(rec_wait(MQTT_EVENT_ERROR, NULL, 1, 5000));
    const rec_event_t *e = rec_first(MQTT_EVENT_ERROR);
    assert_int_equal(e->err.error_type, MQTT_ERROR_TYPE_TCP_TRANSPORT);
    assert_int_equal(e->err.esp_tls_last_esp_err, ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST);
    assert_int_equal(e->err.esp_transport_sock_errno, 111); /* ECONNREFUSED */
    esp_mqtt_client_destroy(c);
}

int main(void)
{
    pthread_mutex_init(&rec.lock, NULL);
    pthread_cond_init(&rec.cond, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_v4_flat_config_event_handle_round_trip_each_qos),
        cmocka_unit_test(test_esp_v4_wrong_port_reports_transport_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
