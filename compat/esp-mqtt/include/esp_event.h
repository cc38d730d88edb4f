/* esp_event.h — the subset of ESP-IDF's event API that esp-mqtt code uses. Handlers registered
 * with esp_mqtt_client_register_event() are called on the client's thread, as on the device. */
#ifndef MQTLS_COMPAT_ESP_EVENT_H
#define MQTLS_COMPAT_ESP_EVENT_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef const char *esp_event_base_t;
typedef void *esp_event_loop_handle_t;
typedef void (*esp_event_handler_t)(void *event_handler_arg, esp_event_base_t event_base,
                                    int32_t event_id, void *event_data);

#define ESP_EVENT_ANY_BASE NULL
#define ESP_EVENT_ANY_ID -1
#define ESP_EVENT_DECLARE_BASE(id) extern esp_event_base_t const id
#define ESP_EVENT_DEFINE_BASE(id) esp_event_base_t const id = #id

/** @brief The default event loop: nothing to create on Linux (handlers run on the MQTT
 *  client's thread). Returns ESP_OK; a second call returns ESP_ERR_INVALID_STATE as on IDF. */
esp_err_t esp_event_loop_create_default(void);
/** @brief Undo esp_event_loop_create_default(). */
esp_err_t esp_event_loop_delete_default(void);

#ifdef __cplusplus
}
#endif
#endif
