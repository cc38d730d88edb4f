/** @file types.h
 *  @brief Small value types shared by every layer: byte views, gather lists, readiness flags.
 *  No function, no allocation: packet, client and diagnosis code depend on this and on nothing
 *  above it. */
#ifndef MQTLS_TYPES_H
#define MQTLS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A borrowed byte range: UTF-8 strings (not NUL-terminated) and binary data. */
typedef struct mqtls_bytes {
    const uint8_t *data;
    size_t len;
} mqtls_bytes_t;

/** One piece of a gather write. */
typedef struct mqtls_iovec {
    const uint8_t *base;
    size_t len;
} mqtls_iovec_t;

/** Readiness a client waits for on its socket (mqtls_client_want(), for poll/epoll). */
#define MQTLS_WANT_READ 0x1u
#define MQTLS_WANT_WRITE 0x2u

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_TYPES_H */
