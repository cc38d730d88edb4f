/* ESP-IDF support for Linux: esp_err_to_name, device-format logging, the default event loop. */
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_tls_errors.h"

typedef struct {
    esp_err_t code;
    const char *name;
} err_name_t;

#define ERR_NAME(x) {x, #x}
static const err_name_t err_names[] = {
    ERR_NAME(ESP_OK),
    ERR_NAME(ESP_FAIL),
    ERR_NAME(ESP_ERR_NO_MEM),
    ERR_NAME(ESP_ERR_INVALID_ARG),
    ERR_NAME(ESP_ERR_INVALID_STATE),
    ERR_NAME(ESP_ERR_INVALID_SIZE),
    ERR_NAME(ESP_ERR_NOT_FOUND),
    ERR_NAME(ESP_ERR_NOT_SUPPORTED),
    ERR_NAME(ESP_ERR_TIMEOUT),
    ERR_NAME(ESP_ERR_INVALID_RESPONSE),
    ERR_NAME(ESP_ERR_INVALID_CRC),
    ERR_NAME(ESP_ERR_INVALID_VERSION),
    ERR_NAME(ESP_ERR_INVALID_MAC),
    ERR_NAME(ESP_ERR_NOT_FINISHED),
    ERR_NAME(ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME),
    ERR_NAME(ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET),
    ERR_NAME(ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY),
    ERR_NAME(ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST),
    ERR_NAME(ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED),
    ERR_NAME(ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT),
    ERR_NAME(ESP_ERR_ESP_TLS_SE_FAILED),
    ERR_NAME(ESP_ERR_ESP_TLS_TCP_CLOSED_FIN),
    ERR_NAME(ESP_ERR_MBEDTLS_CERT_PARTLY_OK),
    ERR_NAME(ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_SETUP_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_WRITE_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED),
    ERR_NAME(ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED),
};

const char *esp_err_to_name(esp_err_t code)
{
    for (size_t i = 0; i < sizeof err_names / sizeof err_names[0]; i++) {
        if (err_names[i].code == code) {
            return err_names[i].name;
        }
    }
    return "UNKNOWN ERROR";
}

/* ---- logging ------------------------------------------------------------------------- */

#define MAX_TAG_LEVELS 16

typedef struct {
    char tag[32];
    esp_log_level_t level;
} tag_level_t;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static esp_log_level_t default_level = ESP_LOG_INFO;
static tag_level_t tag_levels[MAX_TAG_LEVELS];
static size_t tag_level_count;
static struct timespec log_epoch;
static pthread_once_t epoch_once = PTHREAD_ONCE_INIT;

static void set_epoch(void)
{
    clock_gettime(CLOCK_MONOTONIC, &log_epoch);
}

uint32_t esp_log_timestamp(void)
{
    pthread_once(&epoch_once, set_epoch);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - log_epoch.tv_sec) * 1000 +
                 (now.tv_nsec - log_epoch.tv_nsec) / 1000000;
    return (uint32_t)ms;
}

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    pthread_mutex_lock(&log_lock);
    if (tag == NULL || strcmp(tag, "*") == 0) {
        default_level = level;
        tag_level_count = 0;
    } else {
        size_t i = 0;
        while (i < tag_level_count && strcmp(tag_levels[i].tag, tag) != 0) {
            i++;
        }
        if (i == tag_level_count && tag_level_count < MAX_TAG_LEVELS) {
            snprintf(tag_levels[i].tag, sizeof tag_levels[i].tag, "%s", tag);
            tag_level_count++;
        }
        if (i < MAX_TAG_LEVELS) {
            tag_levels[i].level = level;
        }
    }
    pthread_mutex_unlock(&log_lock);
}

esp_log_level_t esp_log_level_get(const char *tag)
{
    pthread_mutex_lock(&log_lock);
    esp_log_level_t level = default_level;
    for (size_t i = 0; tag != NULL && i < tag_level_count; i++) {
        if (strcmp(tag_levels[i].tag, tag) == 0) {
            level = tag_levels[i].level;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return level;
}

static const char level_letter[] = {'N', 'E', 'W', 'I', 'D', 'V'};
static const char *const level_colour[] = {"", "\033[0;31m", "\033[0;33m", "\033[0;32m", "", ""};

void esp_log_line(esp_log_level_t level, const char *tag, const char *fmt, ...)
{
    if (level == ESP_LOG_NONE || level > esp_log_level_get(tag)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bool colour = isatty(STDERR_FILENO) && level_colour[level][0] != '\0';
    /* One fprintf per line so lines from the client thread and the app never interleave. */
    fprintf(stderr, "%s%c (%u) %s: %s%s\n", colour ? level_colour[level] : "",
            level_letter[level], (unsigned)esp_log_timestamp(), tag, msg, colour ? "\033[0m" : "");
}

void esp_log_buffer_hex_internal(const char *tag, const void *buf, uint16_t len,
                                 esp_log_level_t level)
{
    const uint8_t *p = buf;
    for (size_t off = 0; off < len; off += 16) {
        char line[16 * 3 + 1] = "";
        size_t n = len - off < 16 ? len - off : 16;
        for (size_t i = 0; i < n; i++) {
            snprintf(line + i * 3, sizeof line - i * 3, "%02x ", p[off + i]);
        }
        esp_log_line(level, tag, "%s", line);
    }
}

/* ---- the default event loop: nothing to run on Linux ----------------------------------- */

static bool default_loop_created;

esp_err_t esp_event_loop_create_default(void)
{
    if (default_loop_created) {
        return ESP_ERR_INVALID_STATE;
    }
    default_loop_created = true;
    return ESP_OK;
}

esp_err_t esp_event_loop_delete_default(void)
{
    default_loop_created = false;
    return ESP_OK;
}
