/* Versioned public structs (abi.h) and the library version (mqtls/version.h). */
#include "common/abi.h"

#include <string.h>

#include "mqtls/version.h"

_Static_assert(MQTLS_VERSION_NUMBER == ((MQTLS_VERSION_MAJOR << 24) | (MQTLS_VERSION_MINOR << 16) |
                                        (MQTLS_VERSION_PATCH << 8)),
               "MQTLS_VERSION_NUMBER disagrees with MAJOR/MINOR/PATCH");

const char *mqtls_version(void)
{
    return MQTLS_VERSION_STRING;
}

unsigned long mqtls_version_number(void)
{
    return MQTLS_VERSION_NUMBER;
}

void mqtls__struct_init(void *dst, size_t caller_size, const void *defaults, size_t full_size)
{
    if (dst == NULL || caller_size < sizeof(uint32_t)) {
        return;
    }
    size_t n = caller_size < full_size ? caller_size : full_size;
    memcpy(dst, defaults, n);
    if (caller_size > n) {
        memset((uint8_t *)dst + n, 0, caller_size - n);
    }
    uint32_t size32 = caller_size > UINT32_MAX ? UINT32_MAX : (uint32_t)caller_size;
    memcpy(dst, &size32, sizeof size32);
}

mqtls_status_t mqtls__struct_import(void *dst, size_t full_size, const void *src, size_t min_size)
{
    uint32_t size32;
    memcpy(&size32, src, sizeof size32);
    size_t size = size32;
    if (size < min_size) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (size > full_size) {
        const uint8_t *tail = (const uint8_t *)src + full_size;
        for (size_t i = 0; i < size - full_size; i++) {
            if (tail[i] != 0) {
                return MQTLS_ERR_NOT_SUPPORTED;
            }
        }
        size = full_size;
    }
    memcpy(dst, src, size);
    memcpy(dst, &(uint32_t){(uint32_t)full_size}, sizeof(uint32_t));
    return MQTLS_OK;
}
