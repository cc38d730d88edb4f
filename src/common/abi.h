/* Internal: versioned ("extensible") public structs (docs/abi.md).
 *
 * A config struct starts with `uint32_t struct_size`, set by its inline *_init() to the
 * caller's sizeof. Fields are only appended. The library copies the caller's struct into a
 * full-size one whose other fields keep their defaults, with the rules of Linux's
 * copy_struct_from_user() (openat2, clone3): a caller older than the library gets defaults
 * for the fields it does not know; a caller newer than the library is accepted only if every
 * field the library does not know is zero (unused). */
#ifndef MQTLS_COMMON_ABI_H
#define MQTLS_COMMON_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/status.h"

/** Size of the first public layout of @p type, ending with @p last_member. */
#define MQTLS__SIZE_THROUGH(type, last_member)                                                   \
    (offsetof(type, last_member) + sizeof(((type *)0)->last_member))

/** @brief *_init_sized(): copy @p defaults (@p full_size bytes, struct_size first) into the
 *  caller's @p dst of @p caller_size bytes; bytes past what the library knows are zeroed;
 *  struct_size becomes @p caller_size. Nothing is written when caller_size < 4. */
void mqtls__struct_init(void *dst, size_t caller_size, const void *defaults, size_t full_size);

/** @brief Copy the caller's @p src into @p dst (@p full_size bytes, pre-filled with defaults).
 *  @param[in] min_size  The size of the first public layout (older callers are not possible).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (struct_size below min_size: not initialised with
 *          its *_init()); MQTLS_ERR_NOT_SUPPORTED (newer caller that set a field this library
 *          does not have). */
mqtls_status_t mqtls__struct_import(void *dst, size_t full_size, const void *src,
                                    size_t min_size);

#endif /* MQTLS_COMMON_ABI_H */
