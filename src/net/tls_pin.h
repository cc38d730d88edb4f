/* Internal to src/net: public-key pins (curl's --pinnedpubkey "sha256//", RFC 7469's
 * pin-sha256): the SHA-256 of the DER SubjectPublicKeyInfo of the server's leaf certificate,
 * in base64. Engine-independent: computed from the DER the server sent, so every engine gives
 * the same pin (tls.c checks it in mqtls__tls_after_verify()). */
#ifndef MQTLS_NET_TLS_PIN_H
#define MQTLS_NET_TLS_PIN_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/status.h"

#define MQTLS__PIN_LEN 32        /* SHA-256 */

#define MQTLS__PIN_TEXT_CAP 56   /* "sha256//" + 44 base64 characters + NUL */
#define MQTLS__PIN_PREFIX "sha256//"
#define MQTLS__MAX_PINS 16       /* pins per configuration */

/* Parse "sha256//BASE64" (44 base64 characters of 32 bytes) into @p out.
 * @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (no sha256// prefix, bad base64, not 32 bytes). */
mqtls_status_t mqtls__tls_pin_parse(const char *text, uint8_t out[MQTLS__PIN_LEN]);

/* The pin of the DER certificate @p der: SHA-256 over its subjectPublicKeyInfo, as it is in
 * the certificate. @return 0; -1 when the DER is not a certificate. */
int mqtls__tls_pin_of_cert(const uint8_t *der, size_t len, uint8_t out[MQTLS__PIN_LEN]);

/* "sha256//BASE64" of @p pin into @p out (@p cap >= MQTLS__PIN_TEXT_CAP). */
void mqtls__tls_pin_text(const uint8_t pin[MQTLS__PIN_LEN], char *out, size_t cap);

#endif /* MQTLS_NET_TLS_PIN_H */
