/* Pure parts of mqtls_error_t (error.h). mqtls_strerror() needs mbedtls_strerror() and lives in
 * src/net/strerror.c. */
#include "mqtls/error.h"

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
    }
    return "unknown";
}

typedef struct {
    int code;
    const char *name;
} alert_name_t;

/* AlertDescription: RFC 5246 section 7.2, RFC 8446 section 6, RFC 7301 (120). */
static const alert_name_t alert_names[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
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
