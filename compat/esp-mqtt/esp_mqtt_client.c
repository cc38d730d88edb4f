/* The esp-mqtt client API on mqtls (include/mqtls only: no mbedTLS, no sockets here).
 *
 * Mapping: one esp_mqtt_client = one mqtls_client_t running on its own thread
 * (mqtls_client_start), like the device's MQTT task. mqtls events become esp-mqtt events,
 * delivered on that thread to the v4 .event_handle callback and to registered handlers. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp_internal.h"
#include "esp_log.h"
#include "mqtls/client.h"
#include "mqtls/diag.h"

ESP_EVENT_DEFINE_BASE(MQTT_EVENTS);

static const char *TAG = "mqtt_client";
static const char *TLS_TAG = "esp-tls";
static const char *MQTLS_TAG = "mqtls";

/* ---- small helpers -------------------------------------------------------------------- */

char *mqtls__esp_dup_str(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}

void *mqtls__esp_dup_mem(const void *p, size_t n)
{
    void *d = malloc(n == 0 ? 1 : n);
    if (d != NULL && n > 0) {
        memcpy(d, p, n);
    }
    return d;
}

/* esp-mqtt's rule: length 0 means a NUL-terminated PEM string, passed with its NUL
 * (strlen + 1); otherwise exactly @p len bytes (DER, or PEM that must then end in NUL). */
bool mqtls__esp_cred_set(cred_t *c, const char *what, bool is_key, const char *data, size_t len)
{
    c->what = what;
    c->is_key = is_key;
    if (data == NULL) {
        return true;
    }
    c->len = len == 0 ? strlen(data) + 1 : len;
    c->data = mqtls__esp_dup_mem(data, c->len);
    return c->data != NULL;
}

static void cred_free(cred_t *c)
{
    free(c->data);
    c->data = NULL;
    c->len = 0;
}

static bool looks_like_pem(const cred_t *c)
{
    static const char begin[] = "-----BEGIN";
    for (size_t i = 0; i + sizeof begin - 1 <= c->len && i < 64; i++) {
        if (memcmp(c->data + i, begin, sizeof begin - 1) == 0) {
            return true;
        }
    }
    return false;
}

/* What mbedTLS on the device returns for this buffer before any handshake: a PEM buffer
 * whose length does not include the NUL is parsed as DER and fails (the EMBED_FILES vs
 * EMBED_TXTFILES mistake). 0 if the device would accept the encoding. */
static int device_parse_error(const cred_t *c)
{
    if (c->data == NULL || !looks_like_pem(c) || c->data[c->len - 1] == '\0') {
        return 0;
    }
    /* MBEDTLS_ERR_X509_INVALID_FORMAT for certificates (x509_crt_parse_der_core);
     * MBEDTLS_ERR_PK_KEY_INVALID_FORMAT for keys (mbedtls_pk_parse_key). */
    return c->is_key ? -0x3D00 : -0x2180;
}

static void free_alpn(char **alpn)
{
    for (size_t i = 0; alpn != NULL && alpn[i] != NULL; i++) {
        free(alpn[i]);
    }
    free(alpn);
}

char **mqtls__esp_dup_alpn(const char **alpn)
{
    if (alpn == NULL) {
        return NULL;
    }
    size_t n = 0;
    while (alpn[n] != NULL) {
        n++;
    }
    char **d = calloc(n + 1, sizeof *d);
    for (size_t i = 0; d != NULL && i < n; i++) {
        d[i] = mqtls__esp_dup_str(alpn[i]);
    }
    return d;
}

static void free_config(esp_mqtt_client_handle_t c)
{
    free(c->uri);
    free(c->client_id);
    free(c->username);
    if (c->password != NULL) {
        memset(c->password, 0, strlen(c->password));
    }
    free(c->password);
    free(c->will_topic);
    free(c->will_msg);
    cred_free(&c->ca);
    cred_free(&c->cert);
    if (c->key.data != NULL) {
        memset(c->key.data, 0, c->key.len);
    }
    cred_free(&c->key);
    if (c->key_password != NULL) {
        memset(c->key_password, 0, strlen(c->key_password));
    }
    free(c->key_password);
    free(c->common_name);
    free_alpn(c->alpn);
    c->uri = c->client_id = c->username = c->password = c->will_topic = NULL;
    c->key_password = c->common_name = NULL;
    c->will_msg = NULL;
    c->alpn = NULL;
}

bool mqtls__esp_refuse(const char *feature)
{
    ESP_LOGE(TAG, "%s is not supported by mqtls on Linux (%s)", feature,
             esp_err_to_name(ESP_ERR_NOT_SUPPORTED));
    return false;
}

char *mqtls__esp_uri_from_parts(const char *host, uint32_t port, esp_mqtt_transport_t transport,
                                const char *path)
{
    if (host == NULL) {
        return NULL;
    }
    /* esp-mqtt's transports and their default ports */
    static const struct {
        const char *scheme;
        uint32_t port;
    } t[] = {[MQTT_TRANSPORT_OVER_TCP] = {"mqtt", 1883},
             [MQTT_TRANSPORT_OVER_SSL] = {"mqtts", 8883},
             [MQTT_TRANSPORT_OVER_WS] = {"ws", 80},
             [MQTT_TRANSPORT_OVER_WSS] = {"wss", 443}};
    size_t k = (size_t)transport < sizeof t / sizeof t[0] && t[transport].scheme != NULL
                   ? (size_t)transport
                   : (size_t)MQTT_TRANSPORT_OVER_TCP;
    bool ws = k == MQTT_TRANSPORT_OVER_WS || k == MQTT_TRANSPORT_OVER_WSS;
    const char *p = ws ? (path != NULL ? path : "/mqtt") : "";
    size_t n = strlen(host) + strlen(p) + 32;
    char *u = malloc(n);
    if (u != NULL) {
        snprintf(u, n, "%s://%s:%u%s", t[k].scheme, host, (unsigned)(port != 0 ? port : t[k].port),
                 p);
    }
    return u;
}

char *mqtls__esp_uri_with_path(const char *uri, const char *path)
{
    size_t skip = strncmp(uri, "ws://", 5) == 0 ? 5u : strncmp(uri, "wss://", 6) == 0 ? 6u : 0u;
    if (skip == 0 || path == NULL || strchr(uri + skip, '/') != NULL) {
        return mqtls__esp_dup_str(uri);
    }
    size_t n = strlen(uri) + strlen(path) + 1;
    char *u = malloc(n);
    if (u != NULL) {
        snprintf(u, n, "%s%s", uri, path);
    }
    return u;
}


/* ---- event dispatch -------------------------------------------------------------------- */

static void dispatch(esp_mqtt_client_handle_t c, esp_mqtt_event_t *ev)
{
    ev->client = c;
    ev->user_context = c->user_context; /* read only by v4-layout applications */
    if (c->v4_callback != NULL) {
        c->v4_callback(ev);
    }
    handler_t copy[MAX_HANDLERS];
    pthread_mutex_lock(&c->lock);
    size_t n = c->handler_count;
    memcpy(copy, c->handlers, n * sizeof copy[0]);
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        if (copy[i].id == MQTT_EVENT_ANY || copy[i].id == ev->event_id) {
            copy[i].fn(copy[i].arg, MQTT_EVENTS, (int32_t)ev->event_id, ev);
        }
    }
}

static void dispatch_simple(esp_mqtt_client_handle_t c, esp_mqtt_event_id_t id, int msg_id)
{
    esp_mqtt_event_t ev = {.event_id = id, .msg_id = msg_id, .protocol_ver = c->protocol_ver};
    dispatch(c, &ev);
}

/* TLS with no way to verify the broker. esp-tls (ESP-IDF 4.4 .. 5.x, set_client_config() in
 * components/esp-tls/esp_tls_mbedtls.c) needs cacert_buf (broker.verification.certificate),
 * crt_bundle_attach, use_global_ca_store or psk_hint_key -- the last three the shim refuses at
 * init -- and otherwise fails unless the menuconfig option CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY
 * is on. skip_cert_common_name_check does not count: it only skips the name check. */
static bool no_verification_option(esp_mqtt_client_handle_t c)
{
    mqtls_uri_t uri;
    return c->ca.data == NULL && c->uri != NULL && mqtls_uri_parse(c->uri, &uri) == MQTLS_OK &&
           uri.tls;
}

/* The device's log lines for a failure, then mqtls's findings: which file or certificate,
 * why, and the fix. */
static void log_findings(esp_mqtt_client_handle_t c, const mqtls_error_t *err,
                         const mqtls_tls_facts_t *facts)
{
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    mqtls_uri_t uri;
    if (mqtls_uri_parse(c->uri, &uri) == MQTLS_OK) {
        in.host = uri.host;
        in.port = uri.port;
    }
    in.server_name = c->common_name;
    /* a credential that was not configured is no file: nothing to say about it */
    const cred_t *creds[] = {&c->ca, &c->cert, &c->key};
    mqtls_diag_file_t *files[] = {&in.ca, &in.cert, &in.key};
    for (size_t i = 0; i < 3; i++) {
        if (creds[i]->data != NULL) {
            *files[i] = (mqtls_diag_file_t){.display_name = creds[i]->what,
                                            .data = (const uint8_t *)creds[i]->data,
                                            .len = creds[i]->len,
                                            .from_buffer_api = true};
        }
    }
    in.key_password = c->key_password;
    in.key_password_given = c->key_password != NULL;
    in.err = err;
    in.facts = facts;
    in.no_verification_option = no_verification_option(c);
    in.client_id = c->client_id;
    mqtls_findings_t *f = NULL;
    if (mqtls_findings_create(&f) != MQTLS_OK || mqtls_diag_run(&in, f) != MQTLS_OK) {
        mqtls_findings_destroy(f);
        return;
    }
    for (size_t i = 0; i < mqtls_findings_count(f); i++) {
        const mqtls_finding_t *x = mqtls_findings_get(f, i);
        mqtls_severity_t sev = mqtls_finding_severity(x);
        esp_log_level_t lvl = sev == MQTLS_SEV_ERROR     ? ESP_LOG_ERROR
                              : sev == MQTLS_SEV_WARNING ? ESP_LOG_WARN
                                                         : ESP_LOG_INFO;
        esp_log_line(lvl, MQTLS_TAG, "[%s] %s", mqtls_finding_id(x), mqtls_finding_message(x));
        if (mqtls_finding_subject(x)[0] != '\0') {
            esp_log_line(lvl, MQTLS_TAG, "  which: %s", mqtls_finding_subject(x));
        }
        /* one log line per line of the fix, as the device's log would show them */
        const char *fix = mqtls_finding_fix(x);
        for (int line = 0; *fix != '\0' && line < 32; line++) {
            const char *nl = strchr(fix, '\n');
            int n = nl != NULL ? (int)(nl - fix) : (int)strlen(fix);
            esp_log_line(lvl, MQTLS_TAG, "  %s %.*s", line == 0 ? "fix:  " : "      ", n, fix);
            fix += n + (nl != NULL ? 1 : 0);
        }
    }
    if (mqtls_findings_count(f) > 0) {
        ESP_LOGI(MQTLS_TAG, "details: docs/troubleshooting.md; check the set-up offline with "
                            "`mqtls doctor`");
    }
    mqtls_findings_destroy(f);
}

/* Fill esp_mqtt_error_codes_t as esp-tls / esp-mqtt do and log the device's lines. */
static void fill_error(const mqtls_error_t *e, esp_mqtt_error_codes_t *out)
{
    memset(out, 0, sizeof *out);
    out->esp_transport_sock_errno = e->sys_errno;
    switch (e->layer) {
    case MQTLS_LAYER_MQTT:
        if (e->connack_reason > 0) {
            out->error_type = MQTT_ERROR_TYPE_CONNECTION_REFUSED;
            int rc = e->connack_reason;
            /* MQTT 5 reason codes map onto the 3.1.1 return codes esp-mqtt reports */
            if (rc >= 0x80) {
                rc = rc == 0x84 ? 1 : rc == 0x85 ? 2 : (rc == 0x88 || rc == 0x89) ? 3
                     : rc == 0x86                ? 4
                                                 : 5;
            }
            out->connect_return_code = (esp_mqtt_connect_return_code_t)rc;
            ESP_LOGE(TAG, "MQTT_CONNECTION_REFUSE code %d", e->connack_reason);
        } else {
            out->error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
        }
        return;
    case MQTLS_LAYER_DNS:
        out->error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
        out->esp_tls_last_esp_err = ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME;
        ESP_LOGE(TLS_TAG, "couldn't get hostname for :%s: getaddrinfo() returns %d", e->detail,
                 e->sys_errno);
        break;
    case MQTLS_LAYER_TCP:
        out->error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
        out->esp_tls_last_esp_err = e->status == MQTLS_ERR_CONNECT_TIMEOUT
                                        ? ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT
                                    : e->status == MQTLS_ERR_CLOSED
                                        ? ESP_ERR_ESP_TLS_TCP_CLOSED_FIN
                                        : ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST;
        ESP_LOGE(TLS_TAG, "delayed connect error: %s", strerror(e->sys_errno));
        break;
    case MQTLS_LAYER_TLS:
    case MQTLS_LAYER_CONFIG: {
        out->error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
        int ret = e->mbedtls_ret;
        out->esp_tls_stack_err = ret < 0 ? -ret : ret; /* esp-tls stores -ret */
        out->esp_tls_cert_verify_flags = (int)e->verify_flags;
        if (e->status == MQTLS_ERR_CERT_PARSE || e->status == MQTLS_ERR_CA_PARSE) {
            out->esp_tls_last_esp_err = ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED;
            ESP_LOGE(TLS_TAG, "mbedtls_x509_crt_parse returned -0x%x", (unsigned)-ret);
        } else if (e->layer == MQTLS_LAYER_CONFIG && e->status != MQTLS_ERR_TLS_SETUP) {
            out->esp_tls_last_esp_err = ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED;
            ESP_LOGE(TLS_TAG, "mbedtls_pk_parse_keyfile returned -0x%x", (unsigned)-ret);
        } else {
            out->esp_tls_last_esp_err = ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED;
            ESP_LOGE(TLS_TAG, "mbedtls_ssl_handshake returned -0x%x", (unsigned)-ret);
            if (e->verify_flags != 0) {
                ESP_LOGI(TLS_TAG, "Failed to verify peer certificate!");
                char info[1024];
                mqtls_verify_info(e->verify_flags, info, sizeof info);
                /* one log line per reason, as mbedtls_x509_crt_verify_info prints them */
                char *save = NULL;
                for (char *line = strtok_r(info, "\n", &save); line != NULL;
                     line = strtok_r(NULL, "\n", &save)) {
                    ESP_LOGI(TLS_TAG, "verification info: %s", line);
                }
            } else {
                ESP_LOGI(TLS_TAG, "Certificate verified.");
            }
        }
        break;
    }
    default:
        out->error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
        break;
    }
    ESP_LOGE(TLS_TAG, "Failed to open new connection");
    ESP_LOGE("transport_base", "Failed to open a new connection");
    ESP_LOGE(TAG, "Error transport connect");
}

static void on_mqtls_event(mqtls_client_t *mc, const mqtls_event_t *ev, void *ctx)
{
    esp_mqtt_client_handle_t c = ctx;
    esp_mqtt_event_t e = {.protocol_ver = c->protocol_ver};
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        e.event_id = MQTT_EVENT_CONNECTED;
        e.session_present = ev->u.connected.session_present;
        dispatch(c, &e);
        break;
    case MQTLS_EVENT_DISCONNECTED:
        dispatch_simple(c, MQTT_EVENT_DISCONNECTED, 0);
        break;
    case MQTLS_EVENT_ERROR: {
        const mqtls_error_t *err = &ev->u.error.err;
        fill_error(err, &c->last_error);
        log_findings(c, err, mqtls_client_tls_facts(mc));
        e.event_id = MQTT_EVENT_ERROR;
        e.msg_id = ev->u.error.packet_id;
        e.error_handle = &c->last_error;
        dispatch(c, &e);
        break;
    }
    case MQTLS_EVENT_MESSAGE: {
        /* Messages longer than the buffer arrive as several DATA events, as on the device:
         * only the first carries the topic; offsets and total length on each. */
        size_t total = ev->u.message.payload.len;
        size_t chunk = (size_t)c->buffer_size;
        size_t off = 0;
        do {
            size_t n = total - off < chunk ? total - off : chunk;
            e.event_id = MQTT_EVENT_DATA;
            e.msg_id = ev->u.message.packet_id;
            e.qos = ev->u.message.qos;
            e.retain = ev->u.message.retain;
            e.dup = ev->u.message.dup;
            e.topic = off == 0 ? (char *)ev->u.message.topic.data : NULL;
            e.topic_len = off == 0 ? (int)ev->u.message.topic.len : 0;
            e.data = (char *)ev->u.message.payload.data + off;
            e.data_len = (int)n;
            e.total_data_len = (int)total;
            e.current_data_offset = (int)off;
            dispatch(c, &e);
            off += n;
        } while (off < total);
        break;
    }
    case MQTLS_EVENT_PUBLISHED:
        dispatch_simple(c, MQTT_EVENT_PUBLISHED, ev->u.published.packet_id);
        break;
    case MQTLS_EVENT_SUBSCRIBED:
    case MQTLS_EVENT_UNSUBSCRIBED: {
        e.event_id = ev->type == MQTLS_EVENT_SUBSCRIBED ? MQTT_EVENT_SUBSCRIBED
                                                        : MQTT_EVENT_UNSUBSCRIBED;
        e.msg_id = ev->u.subscribed.packet_id;
        e.data = (char *)ev->u.subscribed.reasons.data;
        e.data_len = (int)ev->u.subscribed.reasons.len;
        esp_mqtt_error_codes_t sub_err = {.error_type = MQTT_ERROR_TYPE_SUBSCRIBE_FAILED};
        for (size_t i = 0; e.event_id == MQTT_EVENT_SUBSCRIBED && i < ev->u.subscribed.reasons.len;
             i++) {
            if (ev->u.subscribed.reasons.data[i] >= 0x80) {
                e.error_handle = &sub_err;
            }
        }
        dispatch(c, &e);
        break;
    }
    case MQTLS_EVENT_MESSAGE_IN_DOUBT:
        break; /* only with persistence, which esp-mqtt's configuration cannot turn on */
    }
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static esp_mqtt_client_handle_t client_new(void)
{
    esp_mqtt_client_handle_t c = calloc(1, sizeof *c);
    if (c != NULL) {
        pthread_mutex_init(&c->lock, NULL);
    }
    return c;
}

static void client_discard(esp_mqtt_client_handle_t c)
{
    free_config(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

esp_mqtt_client_handle_t mqtls__esp_init(mqtls__esp_apply_fn apply, const void *cfg)
{
    if (cfg == NULL) {
        return NULL;
    }
    esp_mqtt_client_handle_t c = client_new();
    if (c != NULL && !apply(c, cfg)) {
        client_discard(c);
        c = NULL;
    }
    return c;
}

esp_err_t mqtls__esp_set_config(esp_mqtt_client_handle_t c, mqtls__esp_apply_fn apply,
                                const void *cfg)
{
    if (c == NULL || cfg == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (c->started) {
        return ESP_ERR_INVALID_STATE;
    }
    /* forget the old configuration and the mqtls client built from it */
    free_config(c);
    memset(&c->ca, 0, sizeof c->ca);
    memset(&c->cert, 0, sizeof c->cert);
    memset(&c->key, 0, sizeof c->key);
    mqtls_client_destroy(c->mc);
    c->mc = NULL;
    return apply(c, cfg) ? ESP_OK : ESP_ERR_NOT_SUPPORTED;
}

bool mqtls__esp_uri_usable(const char *uri)
{
    if (uri == NULL) {
        ESP_LOGE(TAG, "no broker URI or hostname configured");
        return false;
    }
    return true; /* ws:// and wss:// included: tests/integration/rabbitmq/test_rabbitmq_ws.c */
}

void mqtls__esp_config_defaults(esp_mqtt_client_handle_t c)
{
    c->keepalive_s = DEFAULT_KEEPALIVE_S;
    c->reconnect_ms = DEFAULT_RECONNECT_MS;
    c->network_timeout_ms = DEFAULT_NETWORK_TIMEOUT_MS;
    c->buffer_size = DEFAULT_BUFFER_SIZE;
}



static mqtls_version_t to_version(esp_mqtt_protocol_ver_t v)
{
    switch (v) {
    case MQTT_PROTOCOL_V_3_1:
        return MQTLS_V31;
    case MQTT_PROTOCOL_V_5:
        return MQTLS_V5;
    default:
        return MQTLS_V311; /* CONFIG_MQTT_PROTOCOL_311 is the IDF default */
    }
}

/* What esp-tls logs and stores when set_client_config() finds no verification option (the
 * same words, tags and code as esp-tls 4.4 .. 5.x). */
static void fail_no_verification(esp_mqtt_client_handle_t c)
{
    static const char *const MBEDTLS_TAG = "esp-tls-mbedtls";
    ESP_LOGE(MBEDTLS_TAG, "No server verification option set in esp_tls_cfg_t structure. Check "
                          "esp_tls API reference");
    ESP_LOGE(MBEDTLS_TAG, "Failed to set client configurations, returned [0x%04X] (%s)",
             (unsigned)ESP_ERR_MBEDTLS_SSL_SETUP_FAILED,
             esp_err_to_name(ESP_ERR_MBEDTLS_SSL_SETUP_FAILED));
    ESP_LOGE(TLS_TAG, "create_ssl_handle failed");
    ESP_LOGE(TLS_TAG, "Failed to open new connection");
    ESP_LOGE("transport_base", "Failed to open a new connection");
    ESP_LOGE(TAG, "Error transport connect");
    memset(&c->last_error, 0, sizeof c->last_error);
    c->last_error.error_type = MQTT_ERROR_TYPE_TCP_TRANSPORT;
    c->last_error.esp_tls_last_esp_err = ESP_ERR_MBEDTLS_SSL_SETUP_FAILED;
}

static void *report_config_failure(void *arg)
{
    esp_mqtt_client_handle_t c = arg;
    mqtls_error_t err;
    mqtls_error_init(&err);
    err.layer = MQTLS_LAYER_CONFIG;
    if (no_verification_option(c)) {
        err.status = MQTLS_ERR_TLS_SETUP;
        snprintf(err.detail, sizeof err.detail, "no server verification option");
        dispatch_simple(c, MQTT_EVENT_BEFORE_CONNECT, 0);
        fail_no_verification(c);
        log_findings(c, &err, NULL);
        esp_mqtt_event_t e = {.event_id = MQTT_EVENT_ERROR,
                              .error_handle = &c->last_error,
                              .protocol_ver = c->protocol_ver};
        dispatch(c, &e);
        dispatch_simple(c, MQTT_EVENT_DISCONNECTED, 0);
        return NULL;
    }
    const cred_t *bad[] = {&c->ca, &c->cert, &c->key};
    for (size_t i = 0; i < 3; i++) {
        int ret = device_parse_error(bad[i]);
        if (ret != 0) {
            err.mbedtls_ret = ret;
            err.status = bad[i]->is_key ? MQTLS_ERR_KEY_PARSE : MQTLS_ERR_CERT_PARSE;
            snprintf(err.detail, sizeof err.detail, "%s", bad[i]->what);
            break;
        }
    }
    dispatch_simple(c, MQTT_EVENT_BEFORE_CONNECT, 0);
    fill_error(&err, &c->last_error);
    log_findings(c, &err, NULL);
    esp_mqtt_event_t e = {.event_id = MQTT_EVENT_ERROR, .error_handle = &c->last_error,
                          .protocol_ver = c->protocol_ver};
    dispatch(c, &e);
    dispatch_simple(c, MQTT_EVENT_DISCONNECTED, 0);
    return NULL;
}

static esp_err_t create_mqtls_client(esp_mqtt_client_handle_t c)
{
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = c->uri;
    cfg.client_id = c->client_id;
    cfg.username = c->username;
    cfg.password = c->password;
    cfg.version = to_version(c->protocol_ver);
    cfg.keepalive_s = (uint16_t)(c->keepalive_s > 65535 ? 65535 : c->keepalive_s);
    cfg.clean_start = c->clean_session;
    cfg.connect_timeout_ms = (uint32_t)c->network_timeout_ms;
    cfg.reconnect.enabled = c->auto_reconnect;
    /* esp-mqtt waits a fixed reconnect_timeout_ms; keep that as the cap of the backoff */
    cfg.reconnect.min_ms = (uint32_t)(c->reconnect_ms < 500 ? c->reconnect_ms : 500);
    cfg.reconnect.max_ms = (uint32_t)c->reconnect_ms;
    if (c->outbox_limit > 0) {
        cfg.outbox_max_bytes = (size_t)c->outbox_limit;
    }
    if (c->will_topic != NULL) {
        cfg.will.topic = c->will_topic;
        cfg.will.payload = c->will_msg;
        cfg.will.payload_len = c->will_len;
        cfg.will.qos = (uint8_t)c->will_qos;
        cfg.will.retain = c->will_retain;
    }
    mqtls_uri_t uri;
    if (mqtls_uri_parse(c->uri, &uri) != MQTLS_OK) {
        ESP_LOGE(TAG, "Error parse uri = %s", c->uri);
        return ESP_FAIL;
    }
    mqtls_tls_cfg_t tls; /* copied by mqtls_client_create() */
    mqtls_tls_cfg_init(&tls);
    if (uri.tls || c->ca.data != NULL || c->cert.data != NULL) {
        cfg.tls = &tls;
        tls.enabled = uri.tls;
        tls.ca_buf = c->ca.data;
        tls.ca_len = c->ca.len;
        tls.cert_buf = c->cert.data;
        tls.cert_len = c->cert.len;
        tls.key_buf = c->key.data;
        tls.key_len = c->key.len;
        tls.key_password = c->key_password;
        tls.server_name = c->common_name;
        tls.alpn = (const char *const *)c->alpn;
        if (c->skip_cn_check) {
            ESP_LOGW(TAG, "skip_cert_common_name_check: the broker certificate's name is not "
                          "checked (MITM risk)");
            tls.no_hostname_check = true;
        }
    }
    cfg.on_event = on_mqtls_event;
    cfg.event_ctx = c;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c->mc);
    if (st != MQTLS_OK) {
        fill_error(&err, &c->last_error);
        log_findings(c, &err, NULL);
        esp_mqtt_event_t e = {.event_id = MQTT_EVENT_ERROR, .error_handle = &c->last_error,
                              .protocol_ver = c->protocol_ver};
        dispatch(c, &e);
        return ESP_FAIL;
    }
    return ESP_OK;
}

esp_err_t esp_mqtt_client_start(esp_mqtt_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (client->started) {
        ESP_LOGE(TAG, "Client has started");
        return ESP_FAIL;
    }
    const cred_t *creds[] = {&client->ca, &client->cert, &client->key};
    for (size_t i = 0; i < 4; i++) {
        /* a credential the device cannot parse, or no way to verify the broker (i == 3) */
        if (i < 3 ? device_parse_error(creds[i]) != 0 : no_verification_option(client)) {
            /* The device starts its task and fails there: do the same, on a thread. */
            if (pthread_create(&client->fail_thread, NULL, report_config_failure, client) != 0) {
                return ESP_FAIL;
            }
            client->fail_thread_running = true;
            client->started = true;
            return ESP_OK;
        }
    }
    if (client->mc == NULL && create_mqtls_client(client) != ESP_OK) {
        return ESP_FAIL;
    }
    dispatch_simple(client, MQTT_EVENT_BEFORE_CONNECT, 0);
    if (mqtls_client_connect(client->mc) != MQTLS_OK ||
        mqtls_client_start(client->mc) != MQTLS_OK) {
        return ESP_FAIL;
    }
    client->started = true;
    return ESP_OK;
}

esp_err_t esp_mqtt_client_reconnect(esp_mqtt_client_handle_t client)
{
    if (client == NULL || client->mc == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    mqtls_client_state_t s = mqtls_client_state(client->mc);
    if (s != MQTLS_STATE_IDLE && s != MQTLS_STATE_BACKOFF) {
        return ESP_FAIL;
    }
    return mqtls_client_connect(client->mc) == MQTLS_OK ? ESP_OK : ESP_FAIL;
}

esp_err_t esp_mqtt_client_disconnect(esp_mqtt_client_handle_t client)
{
    if (client == NULL || client->mc == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    return mqtls_client_disconnect(client->mc, 0) == MQTLS_OK ? ESP_OK : ESP_FAIL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

esp_err_t esp_mqtt_client_stop(esp_mqtt_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!client->started) {
        ESP_LOGE(TAG, "Client asked to stop, but was not started");
        return ESP_FAIL;
    }
    if (client->fail_thread_running) {
        pthread_join(client->fail_thread, NULL);
        client->fail_thread_running = false;
    }
    if (client->mc != NULL) {
        /* Send DISCONNECT and give it a bounded time to leave before the thread stops. */
        if (mqtls_client_disconnect(client->mc, 0) == MQTLS_OK) {
            for (long waited = 0; waited < STOP_DEADLINE_MS &&
                                  mqtls_client_state(client->mc) != MQTLS_STATE_IDLE;
                 waited += 10) {
                sleep_ms(10);
            }
        }
        mqtls_client_stop(client->mc);
    }
    client->started = false;
    return ESP_OK;
}

esp_err_t esp_mqtt_client_destroy(esp_mqtt_client_handle_t client)
{
    if (client == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (client->started) {
        esp_mqtt_client_stop(client);
    }
    mqtls_client_destroy(client->mc);
    client_discard(client);
    return ESP_OK;
}

esp_err_t esp_mqtt_client_set_uri(esp_mqtt_client_handle_t client, const char *uri)
{
    mqtls_uri_t parsed;
    if (client == NULL || uri == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (mqtls_uri_parse(uri, &parsed) != MQTLS_OK) {
        ESP_LOGE(TAG, "Error parse uri = %s", uri);
        return ESP_FAIL;
    }
    if (client->started) {
        ESP_LOGE(TAG, "esp_mqtt_client_set_uri: stop the client first (mqtls applies the URI "
                      "when the client is created at start)");
        return ESP_FAIL;
    }
    char *copy = mqtls__esp_dup_str(uri);
    if (copy == NULL) {
        return ESP_ERR_NO_MEM;
    }
    free(client->uri);
    client->uri = copy;
    mqtls_client_destroy(client->mc); /* rebuilt with the new URI at the next start */
    client->mc = NULL;
    return ESP_OK;
}


/* ---- messages -------------------------------------------------------------------------- */

static int publish_common(esp_mqtt_client_handle_t c, const char *topic, const char *data,
                          int len, int qos, int retain, bool store)
{
    if (c == NULL || topic == NULL || qos < 0 || qos > 2) {
        return -1;
    }
    if (c->mc == NULL && create_mqtls_client(c) != ESP_OK) {
        return -1;
    }
    size_t n = data == NULL ? 0 : len > 0 ? (size_t)len : strlen(data);
    if (qos == 0 && !store && mqtls_client_state(c->mc) != MQTLS_STATE_CONNECTED) {
        return -1; /* esp-mqtt: QoS 0 is not queued while disconnected */
    }
    mqtls_publish_opts_t opts = {.qos = (uint8_t)qos, .retain = retain != 0};
    uint16_t id = 0;
    mqtls_status_t st = mqtls_client_publish(c->mc, topic, data, n, &opts, &id);
    if (st == MQTLS_ERR_OUTBOX_FULL) {
        return -2;
    }
    if (st != MQTLS_OK) {
        ESP_LOGE(TAG, "publish to %s failed: %s (%s)", topic, mqtls_status_text(st),
                 mqtls_status_name(st));
        return -1;
    }
    return id;
}

int esp_mqtt_client_publish(esp_mqtt_client_handle_t client, const char *topic, const char *data,
                            int len, int qos, int retain)
{
    return publish_common(client, topic, data, len, qos, retain, false);
}

int esp_mqtt_client_enqueue(esp_mqtt_client_handle_t client, const char *topic, const char *data,
                            int len, int qos, int retain, bool store)
{
    return publish_common(client, topic, data, len, qos, retain, store);
}

int esp_mqtt_client_subscribe_multiple(esp_mqtt_client_handle_t client,
                                       const esp_mqtt_topic_t *topic_list, int size)
{
    if (client == NULL || client->mc == NULL || topic_list == NULL || size <= 0 || size > 64) {
        return -1;
    }
    if (mqtls_client_state(client->mc) != MQTLS_STATE_CONNECTED) {
        ESP_LOGE(TAG, "Client has not connected");
        return -1;
    }
    mqtls_subscription_t subs[64];
    for (int i = 0; i < size; i++) {
        subs[i] = (mqtls_subscription_t){.filter = topic_list[i].filter,
                                         .options = (uint8_t)(topic_list[i].qos & 3)};
    }
    uint16_t id = 0;
    mqtls_status_t st = mqtls_client_subscribe(client->mc, subs, (size_t)size, NULL, &id);
    return st == MQTLS_OK ? id : st == MQTLS_ERR_OUTBOX_FULL ? -2 : -1;
}

int esp_mqtt_client_subscribe_single(esp_mqtt_client_handle_t client, const char *topic, int qos)
{
    esp_mqtt_topic_t t = {.filter = topic, .qos = qos};
    return esp_mqtt_client_subscribe_multiple(client, &t, 1);
}

int esp_mqtt_client_unsubscribe(esp_mqtt_client_handle_t client, const char *topic)
{
    if (client == NULL || client->mc == NULL || topic == NULL) {
        return -1;
    }
    if (mqtls_client_state(client->mc) != MQTLS_STATE_CONNECTED) {
        ESP_LOGE(TAG, "Client has not connected");
        return -1;
    }
    uint16_t id = 0;
    return mqtls_client_unsubscribe(client->mc, &topic, 1, &id) == MQTLS_OK ? id : -1;
}

int esp_mqtt_client_get_outbox_size(esp_mqtt_client_handle_t client)
{
    if (client == NULL || client->mc == NULL) {
        return 0;
    }
    size_t n = mqtls_client_outbox_bytes(client->mc);
    return n > (size_t)INT32_MAX ? (int)INT32_MAX : (int)n;
}

/* ---- handlers -------------------------------------------------------------------------- */

esp_err_t esp_mqtt_client_register_event(esp_mqtt_client_handle_t client,
                                         esp_mqtt_event_id_t event,
                                         esp_event_handler_t event_handler,
                                         void *event_handler_arg)
{
    if (client == NULL || event_handler == NULL || event < MQTT_EVENT_ANY ||
        event > MQTT_USER_EVENT) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t rc = ESP_OK;
    pthread_mutex_lock(&client->lock);
    if (client->handler_count == MAX_HANDLERS) {
        rc = ESP_ERR_NO_MEM;
    } else {
        client->handlers[client->handler_count++] =
            (handler_t){.id = event, .fn = event_handler, .arg = event_handler_arg};
    }
    pthread_mutex_unlock(&client->lock);
    return rc;
}

esp_err_t esp_mqtt_client_unregister_event(esp_mqtt_client_handle_t client,
                                           esp_mqtt_event_id_t event,
                                           esp_event_handler_t event_handler)
{
    if (client == NULL || event < MQTT_EVENT_ANY || event > MQTT_USER_EVENT) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&client->lock);
    size_t w = 0;
    for (size_t r = 0; r < client->handler_count; r++) {
        const handler_t *h = &client->handlers[r];
        if (!(h->id == event && h->fn == event_handler)) {
            client->handlers[w++] = *h;
        }
    }
    client->handler_count = w;
    pthread_mutex_unlock(&client->lock);
    return ESP_OK;
}
