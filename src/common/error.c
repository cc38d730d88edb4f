/* Pure parts of mqtls_error_t (error.h). mqtls_strerror() needs mbedtls_strerror() and lives in
 * src/net/strerror.c. */
#include "mqtls/error.h"

#include "common/tls_alert.h"

#include <string.h>

void mqtls_error_init(mqtls_error_t *err)
{
    if (err == NULL) {
        return;
    }
    memset(err, 0, sizeof *err);
    err->tls_alert = -1;
    err->connack_reason = -1;
    err->disconnect_reason = -1;
}

const char *mqtls_layer_name(mqtls_layer_t layer)
{
    switch (layer) {
    case MQTLS_LAYER_NONE:
        return "none";
    case MQTLS_LAYER_CONFIG:
        return "config";
    case MQTLS_LAYER_DNS:
        return "dns";
    case MQTLS_LAYER_TCP:
        return "tcp";
    case MQTLS_LAYER_TLS:
        return "tls";
    case MQTLS_LAYER_WS:
        return "ws";
    case MQTLS_LAYER_MQTT:
        return "mqtt";
    case MQTLS_LAYER_APP:
        return "app";
    case MQTLS_LAYER_PROXY:
        return "proxy";
    }
    return "unknown";
}

typedef struct {
    int code;
    const char *name;
} alert_name_t;

static const alert_name_t alert_names[] = {
#define MQTLS__X_ALERT(sym, num, name) {(num), (name)},
    MQTLS__TLS_ALERTS(MQTLS__X_ALERT)
#undef MQTLS__X_ALERT
};

const char *mqtls_tls_alert_name(int alert)
{
    for (size_t i = 0; i < sizeof alert_names / sizeof alert_names[0]; i++) {
        if (alert_names[i].code == alert) {
            return alert_names[i].name;
        }
    }
    return "unknown alert";
}
