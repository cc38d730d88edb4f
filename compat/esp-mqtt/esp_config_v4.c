/* esp-mqtt configuration, IDF v3/v4 flat layout -> the shim's owned fields. */
#define MQTLS_ESP_IDF_V4_CONFIG /* this file reads the flat IDF v3/v4 layout */
#include <stdlib.h>
#include <string.h>

#include "esp_internal.h"


static bool apply_config(esp_mqtt_client_handle_t c, const esp_mqtt_client_config_t *cfg)
{
    bool ok = true;
    mqtls__esp_config_defaults(c);
    if (cfg->use_global_ca_store) {
        ok = mqtls__esp_refuse("use_global_ca_store");
    }
    if (cfg->crt_bundle_attach != NULL) {
        ok = mqtls__esp_refuse("crt_bundle_attach (certificate bundle)");
    }
    if (cfg->psk_hint_key != NULL) {
        ok = mqtls__esp_refuse("psk_hint_key (PSK)");
    }
    if (cfg->use_secure_element) {
        ok = mqtls__esp_refuse("use_secure_element");
    }
    if (cfg->ds_data != NULL) {
        ok = mqtls__esp_refuse("ds_data (DS peripheral)");
    }
    c->v4_callback = cfg->event_handle;
    c->user_context = cfg->user_context;
    c->uri = cfg->uri != NULL
                 ? mqtls__esp_uri_with_path(cfg->uri, cfg->path)
                 : mqtls__esp_uri_from_parts(cfg->host, cfg->port, cfg->transport, cfg->path);
    ok = ok && mqtls__esp_cred_set(&c->ca, "cert_pem", false, cfg->cert_pem, cfg->cert_len);
    ok = ok && mqtls__esp_cred_set(&c->cert, "client_cert_pem", false, cfg->client_cert_pem,
                        cfg->client_cert_len);
    ok = ok && mqtls__esp_cred_set(&c->key, "client_key_pem", true, cfg->client_key_pem, cfg->client_key_len);
    if (cfg->clientkey_password != NULL) {
        size_t n = cfg->clientkey_password_len > 0 ? (size_t)cfg->clientkey_password_len
                                                   : strlen(cfg->clientkey_password);
        c->key_password = calloc(1, n + 1);
        if (c->key_password != NULL) {
            memcpy(c->key_password, cfg->clientkey_password, n);
        }
    }
    c->skip_cn_check = cfg->skip_cert_common_name_check;
    c->alpn = mqtls__esp_dup_alpn(cfg->alpn_protos);
    c->client_id = cfg->set_null_client_id ? mqtls__esp_dup_str("") : mqtls__esp_dup_str(cfg->client_id);
    c->username = mqtls__esp_dup_str(cfg->username);
    c->password = mqtls__esp_dup_str(cfg->password);
    if (cfg->lwt_topic != NULL) {
        c->will_topic = mqtls__esp_dup_str(cfg->lwt_topic);
        c->will_len = cfg->lwt_msg == NULL       ? 0
                      : cfg->lwt_msg_len > 0     ? (size_t)cfg->lwt_msg_len
                                                 : strlen(cfg->lwt_msg);
        c->will_msg = mqtls__esp_dup_mem(cfg->lwt_msg, c->will_len);
        c->will_qos = cfg->lwt_qos;
        c->will_retain = cfg->lwt_retain != 0;
    }
    c->clean_session = cfg->disable_clean_session == 0;
    if (cfg->disable_keepalive) {
        c->keepalive_s = 0;
    } else if (cfg->keepalive > 0) {
        c->keepalive_s = cfg->keepalive;
    }
    c->protocol_ver = cfg->protocol_ver;
    if (cfg->reconnect_timeout_ms > 0) {
        c->reconnect_ms = cfg->reconnect_timeout_ms;
    }
    if (cfg->network_timeout_ms > 0) {
        c->network_timeout_ms = cfg->network_timeout_ms;
    }
    c->auto_reconnect = !cfg->disable_auto_reconnect;
    if (cfg->buffer_size > 0) {
        c->buffer_size = cfg->buffer_size;
    }
    return mqtls__esp_uri_usable(c->uri) && ok;
}

/* The layout's own entry points (the _v4 names for v4 callers, see mqtt_client.h). */
static bool apply_any(esp_mqtt_client_handle_t c, const void *cfg)
{
    return apply_config(c, cfg);
}

esp_mqtt_client_handle_t esp_mqtt_client_init(const esp_mqtt_client_config_t *config)
{
    return mqtls__esp_init(apply_any, config);
}

esp_err_t esp_mqtt_set_config(esp_mqtt_client_handle_t client,
                              const esp_mqtt_client_config_t *config)
{
    return mqtls__esp_set_config(client, apply_any, config);
}
