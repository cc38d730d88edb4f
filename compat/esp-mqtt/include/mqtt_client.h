/* mqtt_client.h — the esp-mqtt client API (ESP-IDF) on Linux, implemented on mqtls.
 *
 * Device code compiles unchanged: the IDF v5 nested configuration by default, the IDF v3/v4
 * flat one (.uri, .event_handle, .cert_pem, ...) when MQTLS_ESP_IDF_V4_CONFIG is defined.
 * Certificates and keys follow esp-mqtt's rules: PEM must be NUL-terminated with its length
 * 0; DER needs its length. Hardware features (secure element, DS peripheral, ECDSA
 * peripheral, certificate bundle, global CA store, PSK) are refused with
 * ESP_ERR_NOT_SUPPORTED and a log line, never silently ignored. See docs/esp-idf.md. */
#ifndef MQTLS_COMPAT_MQTT_CLIENT_H
#define MQTLS_COMPAT_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_tls_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp_mqtt_client *esp_mqtt_client_handle_t;

#define MQTT_OVER_TCP_SCHEME "mqtt"
#define MQTT_OVER_SSL_SCHEME "mqtts"
#define MQTT_OVER_WS_SCHEME "ws"
#define MQTT_OVER_WSS_SCHEME "wss"

/** The event base of every MQTT event posted to registered handlers. */
ESP_EVENT_DECLARE_BASE(MQTT_EVENTS);

typedef enum esp_mqtt_event_id_t {
    MQTT_EVENT_ANY = -1,
    MQTT_EVENT_ERROR = 0,
    MQTT_EVENT_CONNECTED,
    MQTT_EVENT_DISCONNECTED,
    MQTT_EVENT_SUBSCRIBED,
    MQTT_EVENT_UNSUBSCRIBED,
    MQTT_EVENT_PUBLISHED,
    MQTT_EVENT_DATA,
    MQTT_EVENT_BEFORE_CONNECT,
    MQTT_EVENT_DELETED,
    MQTT_USER_EVENT,
} esp_mqtt_event_id_t;

typedef enum esp_mqtt_connect_return_code_t {
    MQTT_CONNECTION_ACCEPTED = 0,
    MQTT_CONNECTION_REFUSE_PROTOCOL,
    MQTT_CONNECTION_REFUSE_ID_REJECTED,
    MQTT_CONNECTION_REFUSE_SERVER_UNAVAILABLE,
    MQTT_CONNECTION_REFUSE_BAD_USERNAME,
    MQTT_CONNECTION_REFUSE_NOT_AUTHORIZED
} esp_mqtt_connect_return_code_t;

typedef enum esp_mqtt_error_type_t {
    MQTT_ERROR_TYPE_NONE = 0,
    MQTT_ERROR_TYPE_TCP_TRANSPORT,
    MQTT_ERROR_TYPE_CONNECTION_REFUSED,
    MQTT_ERROR_TYPE_SUBSCRIBE_FAILED
} esp_mqtt_error_type_t;
#define MQTT_ERROR_TYPE_ESP_TLS MQTT_ERROR_TYPE_TCP_TRANSPORT

typedef enum esp_mqtt_transport_t {
    MQTT_TRANSPORT_UNKNOWN = 0x0,
    MQTT_TRANSPORT_OVER_TCP,
    MQTT_TRANSPORT_OVER_SSL,
    MQTT_TRANSPORT_OVER_WS,
    MQTT_TRANSPORT_OVER_WSS
} esp_mqtt_transport_t;

typedef enum esp_mqtt_protocol_ver_t {
    MQTT_PROTOCOL_UNDEFINED = 0,
    MQTT_PROTOCOL_V_3_1,
    MQTT_PROTOCOL_V_3_1_1,
    MQTT_PROTOCOL_V_5,
} esp_mqtt_protocol_ver_t;

/** Filled as esp-tls fills it: the ESP_ERR_* of the failing step, the raw mbedTLS return
 *  code made positive (0x2700), the X.509 verify flags, the socket errno. */
typedef struct esp_mqtt_error_codes {
    esp_err_t esp_tls_last_esp_err;
    int esp_tls_stack_err;
    int esp_tls_cert_verify_flags;
    esp_mqtt_error_type_t error_type;
    esp_mqtt_connect_return_code_t connect_return_code;
    int esp_transport_sock_errno;
} esp_mqtt_error_codes_t;

typedef struct esp_mqtt_event_t {
    esp_mqtt_event_id_t event_id;
    esp_mqtt_client_handle_t client;
    char *data;
    int data_len;
    int total_data_len;
    int current_data_offset;
    char *topic;
    int topic_len;
    int msg_id;
    int session_present;
    esp_mqtt_error_codes_t *error_handle;
    bool retain;
    int qos;
    bool dup;
    esp_mqtt_protocol_ver_t protocol_ver;
#if defined(MQTLS_ESP_IDF_V4_CONFIG) || defined(MQTLS_ESP_INTERNAL)
    void *user_context; /* the config's user_context (IDF v4); last, so v5 code sees a prefix */
#endif
} esp_mqtt_event_t;

typedef esp_mqtt_event_t *esp_mqtt_event_handle_t;

/** IDF v4 callback style (.event_handle). */
typedef esp_err_t (*mqtt_event_callback_t)(esp_mqtt_event_handle_t event);

struct psk_key_hint;
struct ifreq;
typedef void *esp_transport_handle_t;

typedef struct esp_transport_keepalive {
    bool keep_alive_enable;
    int keep_alive_idle;
    int keep_alive_interval;
    int keep_alive_count;
} esp_transport_keep_alive_t;

#ifndef MQTLS_ESP_IDF_V4_CONFIG
/* ---- IDF v5 nested configuration ------------------------------------------------------- */
typedef struct esp_mqtt_client_config_t {
    struct broker_t {
        struct address_t {
            const char *uri;
            const char *hostname;
            esp_mqtt_transport_t transport;
            const char *path;
            uint32_t port;
        } address;
        struct verification_t {
            bool use_global_ca_store;              /* not supported on Linux */
            esp_err_t (*crt_bundle_attach)(void *conf); /* not supported on Linux */
            const char *certificate;
            size_t certificate_len;
            const struct psk_key_hint *psk_hint_key; /* not supported on Linux */
            bool skip_cert_common_name_check;
            const char **alpn_protos;
            const char *common_name;
        } verification;
    } broker;
    struct credentials_t {
        const char *username;
        const char *client_id;
        bool set_null_client_id;
        struct authentication_t {
            const char *password;
            const char *certificate;
            size_t certificate_len;
            const char *key;
            size_t key_len;
            const char *key_password;
            int key_password_len;
            bool use_secure_element;    /* not supported on Linux */
            void *ds_data;              /* not supported on Linux */
            bool use_ecdsa_peripheral;  /* not supported on Linux */
            uint8_t ecdsa_key_efuse_blk;
        } authentication;
    } credentials;
    struct session_t {
        struct last_will_t {
            const char *topic;
            const char *msg;
            int msg_len;
            int qos;
            int retain;
        } last_will;
        bool disable_clean_session;
        int keepalive;
        bool disable_keepalive;
        esp_mqtt_protocol_ver_t protocol_ver;
        int message_retransmit_timeout;
    } session;
    struct network_t {
        int reconnect_timeout_ms;
        int timeout_ms;
        int refresh_connection_after_ms;
        bool disable_auto_reconnect;
        esp_transport_keep_alive_t tcp_keep_alive_cfg;
        esp_transport_handle_t transport; /* not supported on Linux */
        struct ifreq *if_name;            /* not supported on Linux */
    } network;
    struct task_t {
        int priority;
        int stack_size;
    } task;
    struct buffer_t {
        int size;
        int out_size;
    } buffer;
    struct outbox_config_t {
        uint64_t limit;
    } outbox;
} esp_mqtt_client_config_t;
#else
/* ---- IDF v3/v4 flat configuration ------------------------------------------------------ */
typedef struct esp_mqtt_client_config_t {
    mqtt_event_callback_t event_handle;
    esp_event_loop_handle_t event_loop_handle;
    const char *host;
    const char *uri;
    uint32_t port;
    bool set_null_client_id;
    const char *client_id;
    const char *username;
    const char *password;
    const char *lwt_topic;
    const char *lwt_msg;
    int lwt_qos;
    int lwt_retain;
    int lwt_msg_len;
    int disable_clean_session;
    int keepalive;
    bool disable_auto_reconnect;
    void *user_context;
    int task_prio;
    int task_stack;
    int buffer_size;
    const char *cert_pem;
    size_t cert_len;
    const char *client_cert_pem;
    size_t client_cert_len;
    const char *client_key_pem;
    size_t client_key_len;
    esp_mqtt_transport_t transport;
    int refresh_connection_after_ms;
    const struct psk_key_hint *psk_hint_key;   /* not supported on Linux */
    bool use_global_ca_store;                  /* not supported on Linux */
    esp_err_t (*crt_bundle_attach)(void *conf); /* not supported on Linux */
    int reconnect_timeout_ms;
    const char **alpn_protos;
    const char *clientkey_password;
    int clientkey_password_len;
    esp_mqtt_protocol_ver_t protocol_ver;
    int out_buffer_size;
    bool skip_cert_common_name_check;
    bool use_secure_element;                   /* not supported on Linux */
    void *ds_data;                             /* not supported on Linux */
    int network_timeout_ms;
    bool disable_keepalive;
    const char *path;
    int message_retransmit_timeout;
} esp_mqtt_client_config_t;
#endif

typedef struct topic_t {
    const char *filter;
    int qos;
} esp_mqtt_topic_t;

/* One library serves both layouts: a v4-layout application calls the _v4 entry points,
 * which read the flat structure. */
#ifdef MQTLS_ESP_IDF_V4_CONFIG
#define esp_mqtt_client_init esp_mqtt_client_init_v4
#define esp_mqtt_set_config esp_mqtt_set_config_v4
#endif

/** @brief Create a client from @p config (copied). NULL on error (logged, e.g. an unsupported
 *  hardware feature: ESP_ERR_NOT_SUPPORTED). */
esp_mqtt_client_handle_t esp_mqtt_client_init(const esp_mqtt_client_config_t *config);
/** @brief Replace the broker URI (before start, or while stopped). ESP_FAIL if it does not
 *  parse or the client is running. */
esp_err_t esp_mqtt_client_set_uri(esp_mqtt_client_handle_t client, const char *uri);
/** @brief Start the client's thread and connect. ESP_OK; ESP_ERR_INVALID_ARG; ESP_FAIL
 *  (already started, or the TLS material cannot be loaded — see the log). */
esp_err_t esp_mqtt_client_start(esp_mqtt_client_handle_t client);
/** @brief Reconnect now (when disconnected or waiting to reconnect). */
esp_err_t esp_mqtt_client_reconnect(esp_mqtt_client_handle_t client);
/** @brief Send DISCONNECT and close; no automatic reconnect follows. */
esp_err_t esp_mqtt_client_disconnect(esp_mqtt_client_handle_t client);
/** @brief Disconnect and stop the client's thread (blocking). Not from an event handler. */
esp_err_t esp_mqtt_client_stop(esp_mqtt_client_handle_t client);

#ifdef __cplusplus
#define esp_mqtt_client_subscribe esp_mqtt_client_subscribe_single
#else
#define esp_mqtt_client_subscribe(client_handle, topic_type, qos_or_size)                      \
    _Generic((topic_type),                                                                     \
        char *: esp_mqtt_client_subscribe_single,                                              \
        const char *: esp_mqtt_client_subscribe_single,                                        \
        esp_mqtt_topic_t *: esp_mqtt_client_subscribe_multiple)(client_handle, topic_type,     \
                                                               qos_or_size)
#endif
/** @return message id; -1 on failure (e.g. not connected); -2 if the outbox is full. */
int esp_mqtt_client_subscribe_single(esp_mqtt_client_handle_t client, const char *topic,
                                     int qos);
int esp_mqtt_client_subscribe_multiple(esp_mqtt_client_handle_t client,
                                       const esp_mqtt_topic_t *topic_list, int size);
int esp_mqtt_client_unsubscribe(esp_mqtt_client_handle_t client, const char *topic);
/** @brief Publish. @p len 0 = strlen(data). @return message id (0 for QoS 0), -1 on failure
 *  (QoS 0 while disconnected), -2 when the outbox is full. */
int esp_mqtt_client_publish(esp_mqtt_client_handle_t client, const char *topic, const char *data,
                            int len, int qos, int retain);
/** @brief Queue a message for the client's thread to send. With @p store false, QoS 0 is not
 *  queued while disconnected (-1). @return message id, -1, or -2 (outbox full). */
int esp_mqtt_client_enqueue(esp_mqtt_client_handle_t client, const char *topic, const char *data,
                            int len, int qos, int retain, bool store);
esp_err_t esp_mqtt_client_destroy(esp_mqtt_client_handle_t client);
/** @brief Apply a new configuration (while stopped). ESP_ERR_NOT_SUPPORTED for hardware
 *  features; ESP_ERR_INVALID_STATE while running. */
esp_err_t esp_mqtt_set_config(esp_mqtt_client_handle_t client,
                              const esp_mqtt_client_config_t *config);
esp_err_t esp_mqtt_client_register_event(esp_mqtt_client_handle_t client,
                                         esp_mqtt_event_id_t event,
                                         esp_event_handler_t event_handler,
                                         void *event_handler_arg);
esp_err_t esp_mqtt_client_unregister_event(esp_mqtt_client_handle_t client,
                                           esp_mqtt_event_id_t event,
                                           esp_event_handler_t event_handler);
/** @brief Bytes of messages in the outbox (queued or in flight), as esp-mqtt reports. */
int esp_mqtt_client_get_outbox_size(esp_mqtt_client_handle_t client);

#ifdef __cplusplus
}
#endif
#endif
