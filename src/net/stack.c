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
    /* TCP (or a Unix socket; or TCP to a proxy and its tunnel), then TLS (mqtts://, wss://, or
     * TLS enabled on mqtt://), then WebSocket (ws://, wss://). Each layer owns the one below it,
     * even when its creation fails. */
    mqtls_transport_t *t = NULL;
    bool is_unix = uri->scheme == MQTLS_SCHEME_UNIX;
    const mqtls__proxy_t *px = is_unix ? NULL : cfg->proxy;
    mqtls_status_t st;
    if (is_unix) {
        st = mqtls__unix_create(uri->path, cfg->connect_timeout_ms, err, &t);
    } else if (px != NULL) {
        st = mqtls__tcp_create(px->host, px->port, cfg->connect_timeout_ms, err, &t);
    } else {
        st = mqtls__tcp_create(uri->host, uri->port, cfg->connect_timeout_ms, err, &t);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    if (cfg->bind_address != NULL && !is_unix) {
        /* the local address of the TCP socket: to the broker, or to the proxy */
        st = mqtls__tcp_set_bind(t, cfg->bind_address);
        if (st != MQTLS_OK) {
            t->ops->destroy(t);
            return st;
        }
    }
    if (px != NULL) {
        mqtls_transport_t *tunnel = NULL;
        st = mqtls__proxy_create(t, px, uri->host, uri->port, err, &tunnel);
        if (st != MQTLS_OK) {
            return st;
        }
        t = tunnel;
    }
    if (cfg->tls != NULL) {
        mqtls_transport_t *tls = NULL;
        /* A socket file has no host name: a certificate for "localhost" is what local brokers
         * present (tls.server_name overrides it). */
        st = mqtls__tls_create(cfg->tls, t, is_unix ? "localhost" : uri->host, cfg->facts, err,
                               &tls);
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
