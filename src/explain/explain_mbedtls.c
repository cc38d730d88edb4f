/* The only translation unit of src/explain that includes mbedTLS: texts of error codes and
 * verify flags as the LINKED mbedTLS knows them. Every 2.x/3.x difference is kept here. */
#include "explain_internal.h"

#include <stdio.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<mbedtls/build_info.h>)
#include <mbedtls/build_info.h> /* 3.x */
#else
#include <mbedtls/config.h> /* 2.x */
#endif
#else
#include <mbedtls/config.h>
#endif
#include <mbedtls/error.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

bool mqtls__explain_mbedtls_text(unsigned magnitude, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0) {
        return false;
    }
    buf[0] = '\0';
    if (magnitude == 0 || magnitude > 0xFFFFu) {
        return false;
    }
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(-(int)magnitude, buf, cap);
    /* mbedtls_strerror writes "MODULE - text" for every part it knows and
     * "UNKNOWN ERROR CODE (xxxx)" for a part it does not. */
    return strstr(buf, " - ") != NULL;
#else
    (void)snprintf(buf, cap, "(mbedTLS built without MBEDTLS_ERROR_C)");
    return false;
#endif
}

bool mqtls__explain_mbedtls_plausible(unsigned mag)
{
    /* A code is a high-level part (0x1000..0x7F80, multiples of 0x80) plus a low-level part
     * (0x01..0x7F); each part present must be one the linked mbedTLS names. */
    unsigned high = mag & 0xFF80u;
    unsigned low = mag & 0x7Fu;
    if (mag == 0 || mag > 0x7FFFu || (high != 0 && high < 0x1000u)) {
        return false;
    }
    char buf[160];
    if (high != 0 &&
        (!mqtls__explain_mbedtls_text(high, buf, sizeof buf) || strstr(buf, "UNKNOWN") != NULL)) {
        return false;
    }
    return low == 0 ||
           (mqtls__explain_mbedtls_text(low, buf, sizeof buf) && strstr(buf, "UNKNOWN") == NULL);
}

bool mqtls__explain_verify_text(uint32_t bit, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0) {
        return false;
    }
    buf[0] = '\0';
    if (bit == 0) {
        return false;
    }
#if defined(MBEDTLS_X509_CRT_PARSE_C) && !defined(MBEDTLS_X509_REMOVE_INFO)
    if (mbedtls_x509_crt_verify_info(buf, cap, "", bit) < 0) {
        buf[0] = '\0'; /* does not fit: say nothing rather than half a sentence */
    }
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
    }
    return len > 0;
#else
    return false;
#endif
}

const char *mqtls__explain_mbedtls_version(void)
{
    return MBEDTLS_VERSION_STRING;
}
