/* esp_log.h — ESP-IDF logging for Linux: lines look like the device's "E (1234) TAG: msg",
 * on stderr, with the device's colours when stderr is a terminal. */
#ifndef MQTLS_COMPAT_ESP_LOG_H
#define MQTLS_COMPAT_ESP_LOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_LOG_NONE = 0,
    ESP_LOG_ERROR,
    ESP_LOG_WARN,
    ESP_LOG_INFO,
    ESP_LOG_DEBUG,
    ESP_LOG_VERBOSE
} esp_log_level_t;

/** @brief Milliseconds since the program started (the number in "E (1234) TAG: ..."). */
uint32_t esp_log_timestamp(void);
/** @brief Set the level for @p tag ("*" = every tag). Default ESP_LOG_INFO. */
void esp_log_level_set(const char *tag, esp_log_level_t level);
/** @brief Current level for @p tag. */
esp_log_level_t esp_log_level_get(const char *tag);
/** @brief Print one log line "L (ms) tag: <formatted>" if @p level is enabled for @p tag. */
void esp_log_line(esp_log_level_t level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** @brief Hex dump of @p len bytes at @p buf, 16 per line, at @p level. */
void esp_log_buffer_hex_internal(const char *tag, const void *buf, uint16_t len,
                                 esp_log_level_t level);

#define ESP_LOGE(tag, ...) esp_log_line(ESP_LOG_ERROR, tag, __VA_ARGS__)
#define ESP_LOGW(tag, ...) esp_log_line(ESP_LOG_WARN, tag, __VA_ARGS__)
#define ESP_LOGI(tag, ...) esp_log_line(ESP_LOG_INFO, tag, __VA_ARGS__)
#define ESP_LOGD(tag, ...) esp_log_line(ESP_LOG_DEBUG, tag, __VA_ARGS__)
#define ESP_LOGV(tag, ...) esp_log_line(ESP_LOG_VERBOSE, tag, __VA_ARGS__)
#define ESP_LOG_BUFFER_HEX_LEVEL(tag, buf, len, level)                                         \
    esp_log_buffer_hex_internal(tag, buf, (uint16_t)(len), level)
#define ESP_LOG_BUFFER_HEX(tag, buf, len) ESP_LOG_BUFFER_HEX_LEVEL(tag, buf, len, ESP_LOG_INFO)

#ifdef __cplusplus
}
#endif
#endif
