/* mqtls_strerror() (error.h): here rather than in src/common because it prints mbedTLS codes
 * with mbedtls_strerror() (the newest mbedTLS built in: mqtls__tls_code_text) and verify flags
 * with mbedtls_x509_crt_verify_info() (the same texts in 2.28 and 3.6). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/x509_crt.h"

#include "mqtls/error.h"
#include "net/net.h"

typedef struct {
    char *buf;
    size_t cap;
    size_t len; /* what would have been written */
} out_t;

__attribute__((format(printf, 2, 3))) static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->len < o->cap ? o->buf + o->len : NULL;
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

/* mbedtls_x509_crt_verify_info() writes one line per flag: join them with "; ". */
static void put_verify_info(out_t *o, uint32_t flags)
{
    char info[512];
    int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    if (n <= 0) {
        return;
    }
    size_t len = strnlen(info, sizeof info);
    while (len > 0 && info[len - 1] == '\n') {
        info[--len] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        if (info[i] == '\n') {
            info[i] = ';';
        }
    }
    put(o, ": %s", info);
}

size_t mqtls_strerror(const mqtls_error_t *err, char *buf, size_t cap)
{
    out_t o = {.buf = buf, .cap = cap, .len = 0};
    if (buf != NULL && cap > 0) {
        buf[0] = '\0';
    } else {
        o.cap = 0;
    }
    if (err == NULL || err->status == MQTLS_OK) {
        put(&o, "no error");
        return o.len;
    }
    put(&o, "%s: %s (%s", mqtls_layer_name(err->layer), mqtls_status_text(err->status),
        mqtls_status_name(err->status));
    if (err->mbedtls_ret != 0) {
        char text[128];
        mqtls__tls_code_text(err->mbedtls_ret, text, sizeof text);
        put(&o, "; mbedTLS -0x%04X: %s", (unsigned)-err->mbedtls_ret, text);
    }
    if (err->verify_flags != 0) {
        put(&o, "; verify flags 0x%X", (unsigned)err->verify_flags);
        put_verify_info(&o, err->verify_flags);
    }
    if (err->tls_alert >= 0) {
        put(&o, "; alert %d %s", err->tls_alert, mqtls_tls_alert_name(err->tls_alert));
    }
    if (err->connack_reason == 0) {
        put(&o, "; after the broker had accepted the connection (CONNACK 0x00)");
    } else if (err->connack_reason > 0) {
        put(&o, "; CONNACK reason 0x%02X", (unsigned)err->connack_reason);
    }
    if (err->disconnect_reason >= 0) {
        put(&o, "; DISCONNECT reason 0x%02X", (unsigned)err->disconnect_reason);
    }
    if (err->sys_errno != 0) {
        put(&o, "; errno %d %s", err->sys_errno, strerror(err->sys_errno));
    }
    put(&o, ")");
    if (err->detail[0] != '\0') {
        put(&o, ": %.*s", (int)sizeof err->detail, err->detail);
    }
    return o.len;
}

size_t mqtls_verify_info(uint32_t flags, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0) {
        return 0;
    }
    buf[0] = '\0';
    if (flags == 0) {
        return 0;
    }
    int n = mbedtls_x509_crt_verify_info(buf, cap, "", flags);
    if (n < 0) {
        /* too small for every line: mbedTLS left what fit */
        buf[cap - 1] = '\0';
    }
    return strnlen(buf, cap);
}
