/* esp_err.h — the subset of ESP-IDF's error type that esp-mqtt code uses, for Linux (mqtls). */
#ifndef MQTLS_COMPAT_ESP_ERR_H
#define MQTLS_COMPAT_ESP_ERR_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int esp_err_t;

/* Values as in ESP-IDF components/esp_common/include/esp_err.h */
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_NO_MEM 0x101
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_INVALID_SIZE 0x104
#define ESP_ERR_NOT_FOUND 0x105
#define ESP_ERR_NOT_SUPPORTED 0x106
#define ESP_ERR_TIMEOUT 0x107
#define ESP_ERR_INVALID_RESPONSE 0x108
#define ESP_ERR_INVALID_CRC 0x109
#define ESP_ERR_INVALID_VERSION 0x10A
#define ESP_ERR_INVALID_MAC 0x10B
#define ESP_ERR_NOT_FINISHED 0x10C

/** @brief Name of an error code, e.g. "ESP_ERR_NOT_SUPPORTED" or
 *  "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED"; "UNKNOWN ERROR" otherwise. */
const char *esp_err_to_name(esp_err_t code);

/** Abort with the device's message when @p x is not ESP_OK. */
#define ESP_ERROR_CHECK(x)                                                                     \
    do {                                                                                       \
        esp_err_t esp_err_rc_ = (x);                                                           \
        if (esp_err_rc_ != ESP_OK) {                                                           \
            fprintf(stderr, "ESP_ERROR_CHECK failed: esp_err_t 0x%x (%s) at %s:%d\n",          \
                    (unsigned)esp_err_rc_, esp_err_to_name(esp_err_rc_), __FILE__, __LINE__);  \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
