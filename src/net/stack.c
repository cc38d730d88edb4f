/* The transport for a broker URI (net.h): the layers, stacked here and nowhere else. */
#include "net.h"

#include <string.h>

/* [MQTT-6.0.0-3]: "mqtt" for MQTT 3.1.1 and 5.0; 3.1 brokers registered "mqttv3.1". */
static const char *ws_subprotocol(const mqtls__stack_cfg_t *cfg)
{
    if (cfg->ws_subprotocol != NULL) {
        return cfg->ws_subprotocol;
    }
    return cfg->mqtt_version == MQTLS_V31 ? "mqttv3.1" : "mqtt";
}

mqtls_status_t mqtls__stack_create(const mqtls__stack_cfg_t *cfg, mqtls_error_t *err,
                                   mqtls_transport_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (cfg == NULL || cfg->uri == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "transport: no URI");
    }
    const mqtls_uri_t *uri = cfg->uri;
    /* TCP, then TLS (mqtts://, wss://, or TLS enabled on mqtt://), then WebSocket (ws://,
     * wss://). Each layer owns the one below it, even when its creation fails. */
    mqtls_transport_t *t = NULL;
    mqtls_status_t st = mqtls__tcp_create(uri->host, uri->port, cfg->connect_timeout_ms, err, &t);
    if (st != MQTLS_OK) {
        return st;
    }
    if (cfg->bind_address != NULL) {
        st = mqtls__tcp_set_bind(t, cfg->bind_address);
        if (st != MQTLS_OK) {
            t->ops->destroy(t);
            return st;
        }
    }
    if (cfg->tls != NULL) {
        mqtls_transport_t *tls = NULL;
        st = mqtls__tls_create(cfg->tls, t, uri->host, cfg->facts, err, &tls);
        if (st != MQTLS_OK) {
            return st;
        }
        t = tls;
    }
    if (uri->websocket) {
        mqtls_transport_t *ws = NULL;
        st = mqtls__ws_create(t, uri->host, uri->port, uri->path, ws_subprotocol(cfg), err, &ws);
        if (st != MQTLS_OK) {
            return st;
        }
        t = ws;
    }
    *out = t;
    return MQTLS_OK;
}
