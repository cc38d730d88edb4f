/* esp-mqtt configuration, IDF v5 nested layout -> the shim's owned fields. */
#include <stdlib.h>
#include <string.h>

#include "esp_internal.h"


static bool apply_config(esp_mqtt_client_handle_t c, const esp_mqtt_client_config_t *cfg)
{
    bool ok = true;
    mqtls__esp_config_defaults(c);
    const struct broker_t *b = &cfg->broker;
    const struct authentication_t *a = &cfg->credentials.authentication;
    if (b->verification.use_global_ca_store) {
        ok = mqtls__esp_refuse("broker.verification.use_global_ca_store");
    }
    if (b->verification.crt_bundle_attach != NULL) {
        ok = mqtls__esp_refuse("broker.verification.crt_bundle_attach (certificate bundle)");
    }
    if (b->verification.psk_hint_key != NULL) {
        ok = mqtls__esp_refuse("broker.verification.psk_hint_key (PSK)");
    }
    if (a->use_secure_element) {
        ok = mqtls__esp_refuse("credentials.authentication.use_secure_element");
    }
    if (a->ds_data != NULL) {
        ok = mqtls__esp_refuse("credentials.authentication.ds_data (DS peripheral)");
    }
    if (a->use_ecdsa_peripheral) {
        ok = mqtls__esp_refuse("credentials.authentication.use_ecdsa_peripheral");
    }
    if (cfg->network.transport != NULL) {
        ok = mqtls__esp_refuse("network.transport (custom transport handle)");
    }
    if (cfg->network.if_name != NULL) {
        ok = mqtls__esp_refuse("network.if_name");
    }
    c->uri = b->address.uri != NULL
                 ? mqtls__esp_uri_with_path(b->address.uri, b->address.path)
                 : mqtls__esp_uri_from_parts(b->address.hostname, b->address.port,
                                             b->address.transport, b->address.path);
    ok = ok && mqtls__esp_cred_set(&c->ca, "broker.verification.certificate", false,
                        b->verification.certificate, b->verification.certificate_len);
    ok = ok && mqtls__esp_cred_set(&c->cert, "credentials.authentication.certificate", false,
                        a->certificate, a->certificate_len);
    ok = ok && mqtls__esp_cred_set(&c->key, "credentials.authentication.key", true, a->key, a->key_len);
    if (a->key_password != NULL) {
        size_t n = a->key_password_len > 0 ? (size_t)a->key_password_len : strlen(a->key_password);
        c->key_password = calloc(1, n + 1);
        if (c->key_password != NULL) {
            memcpy(c->key_password, a->key_password, n);
        }
    }
    c->skip_cn_check = b->verification.skip_cert_common_name_check;
    c->common_name = mqtls__esp_dup_str(b->verification.common_name);
    c->alpn = mqtls__esp_dup_alpn(b->verification.alpn_protos);
    c->client_id = cfg->credentials.set_null_client_id ? mqtls__esp_dup_str("")
                                                       : mqtls__esp_dup_str(cfg->credentials.client_id);
    c->username = mqtls__esp_dup_str(cfg->credentials.username);
    c->password = mqtls__esp_dup_str(a->password);
    const struct last_will_t *w = &cfg->session.last_will;
    if (w->topic != NULL) {
        c->will_topic = mqtls__esp_dup_str(w->topic);
        c->will_len = w->msg == NULL ? 0 : w->msg_len > 0 ? (size_t)w->msg_len : strlen(w->msg);
        c->will_msg = mqtls__esp_dup_mem(w->msg, c->will_len);
        c->will_qos = w->qos;
        c->will_retain = w->retain != 0;
    }
    c->clean_session = !cfg->session.disable_clean_session;
    if (cfg->session.disable_keepalive) {
        c->keepalive_s = 0;
    } else if (cfg->session.keepalive > 0) {
        c->keepalive_s = cfg->session.keepalive;
    }
    c->protocol_ver = cfg->session.protocol_ver;
    if (cfg->network.reconnect_timeout_ms > 0) {
        c->reconnect_ms = cfg->network.reconnect_timeout_ms;
    }
    if (cfg->network.timeout_ms > 0) {
        c->network_timeout_ms = cfg->network.timeout_ms;
    }
    c->auto_reconnect = !cfg->network.disable_auto_reconnect;
    if (cfg->buffer.size > 0) {
        c->buffer_size = cfg->buffer.size;
    }
    c->outbox_limit = cfg->outbox.limit;
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
