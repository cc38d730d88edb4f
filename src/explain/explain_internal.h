/* Internal interface between explain.c and explain_mbedtls.c (the one file that includes
 * mbedTLS). Not installed. */
#ifndef MQTLS_EXPLAIN_INTERNAL_H
#define MQTLS_EXPLAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/** mbedtls_strerror() of -@p magnitude into @p buf. @return true if the linked mbedTLS
 *  knows at least one part (high- or low-level) of the code. */
bool mqtls__explain_mbedtls_text(unsigned magnitude, char *buf, size_t cap);

/** The linked mbedTLS version, e.g. "2.28.3" (static string). */
const char *mqtls__explain_mbedtls_version(void);

#endif
