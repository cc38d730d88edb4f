/* Internal to src/auth: test hooks of the SCRAM-SHA-256 authenticator (mqtls/auth.h). */
#ifndef MQTLS_AUTH_SCRAM_H
#define MQTLS_AUTH_SCRAM_H

#include "mqtls/auth.h"

/** @brief Test hook: use @p nonce (printable, no ',', copied) as the client nonce of the next
 *  start instead of a random one (RFC 7677's test vector uses "rOprNGfwEbeRWgbNEkqO").
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG. */
mqtls_status_t mqtls__scram_set_nonce(mqtls_scram_t *s, const char *nonce);

#endif
