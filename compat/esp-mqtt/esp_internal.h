/* Internal to the esp-mqtt shim: the client object shared by the core (esp_mqtt_client.c)
 * and the two configuration layouts (esp_config_v5.c, esp_config_v4.c). One library serves
 * applications of either layout: a v4-layout application's esp_mqtt_client_init() is
 * esp_mqtt_client_init_v4() (see mqtt_client.h). Never installed. */
#ifndef MQTLS_ESP_INTERNAL_H
#define MQTLS_ESP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/client.h"
#include "mqtt_client.h"

#define MAX_HANDLERS 16
#define DEFAULT_BUFFER_SIZE 1024   /* CONFIG_MQTT_BUFFER_SIZE */
#define DEFAULT_KEEPALIVE_S 120    /* esp-mqtt's default */
#define DEFAULT_RECONNECT_MS 10000 /* MQTT_RECON_DEFAULT_MS */
#define DEFAULT_NETWORK_TIMEOUT_MS 10000
#define STOP_DEADLINE_MS 2000

typedef struct {
    esp_mqtt_event_id_t id;
    esp_event_handler_t fn;
    void *arg;
} handler_t;

/* A credential exactly as the application passed it (pointer + esp-mqtt length rule). */
typedef struct {
    const char *what;   /* "certificate (broker.verification.certificate)" */
    uint8_t *data;      /* owned copy */
    size_t len;         /* bytes, as esp-mqtt would pass them to mbedTLS */
    bool is_key;
} cred_t;

struct esp_mqtt_client {
    pthread_mutex_t lock; /* handlers and state below */
    handler_t handlers[MAX_HANDLERS];
    size_t handler_count;
    mqtt_event_callback_t v4_callback;
    void *user_context;

    /* owned configuration */
    char *uri;
    char *client_id;
    char *username;
    char *password;
    char *will_topic;
    uint8_t *will_msg;
    size_t will_len;
    int will_qos;
    bool will_retain;
    cred_t ca, cert, key;
    char *key_password;
    char *common_name;
    char **alpn;
    bool skip_cn_check;
    bool clean_session;
    int keepalive_s;
    esp_mqtt_protocol_ver_t protocol_ver;
    int reconnect_ms;
    int network_timeout_ms;
    bool auto_reconnect;
    int buffer_size;
    uint64_t outbox_limit;

    mqtls_client_t *mc;
    bool started;
    pthread_t fail_thread; /* reports a configuration failure the way the device would */
    bool fail_thread_running;
    esp_mqtt_error_codes_t last_error;
};


/* helpers for the layout files */
char *mqtls__esp_dup_str(const char *s);
void *mqtls__esp_dup_mem(const void *p, size_t n);
bool mqtls__esp_cred_set(cred_t *c, const char *what, bool is_key, const char *data, size_t len);
char **mqtls__esp_dup_alpn(const char **alpn);
bool mqtls__esp_refuse(const char *feature);
/* "scheme://host:port" from the parts (ws/wss: + path, default "/mqtt"); caller frees. */
char *mqtls__esp_uri_from_parts(const char *host, uint32_t port, esp_mqtt_transport_t transport,
                                const char *path);
/* A copy of @p uri; a ws(s):// URI without a path gets @p path (if not NULL), as esp-mqtt
 * gives its WebSocket transport the configured path. Caller frees. */
char *mqtls__esp_uri_with_path(const char *uri, const char *path);
/* Reads one layout's configuration into the client's owned fields; false if refused. */
typedef bool (*mqtls__esp_apply_fn)(esp_mqtt_client_handle_t c, const void *cfg);
/* esp_mqtt_client_init / esp_mqtt_set_config, given the layout's reader. */
esp_mqtt_client_handle_t mqtls__esp_init(mqtls__esp_apply_fn apply, const void *cfg);
esp_err_t mqtls__esp_set_config(esp_mqtt_client_handle_t c, mqtls__esp_apply_fn apply,
                                const void *cfg);
void mqtls__esp_config_defaults(esp_mqtt_client_handle_t c);
/* Is @p uri set and of a scheme the shim supports (logged if not)? */
bool mqtls__esp_uri_usable(const char *uri);

#endif
