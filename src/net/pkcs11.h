/* Internal to src/net: a private key that never leaves its PKCS#11 token (RFC 7512 pkcs11:
 * URIs), for the engines that sign with it through a callback (the mbedTLS engines'
 * RSA_ALT key). p11-kit does the standard parts: the URI (p11_kit_uri_parse, token matching,
 * the object's attributes, pin-value, module-path) and loading the module
 * (p11_kit_module_load). This file initialises a module once per process, finds the key, logs
 * in and asks the token to sign. docs/tls-engines.md "Keys on a token". */
#ifndef MQTLS_NET_PKCS11_H
#define MQTLS_NET_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/status.h"

typedef struct mqtls__p11_key mqtls__p11_key_t;

typedef enum {
    MQTLS__P11_KEY_RSA = 1,
    MQTLS__P11_KEY_EC,
    MQTLS__P11_KEY_OTHER,
} mqtls__p11_key_type_t;

/* Is @p s a pkcs11: URI (the scheme, case-insensitively)? NULL: false. */
bool mqtls__p11_is_uri(const char *s);

/* @p uri without its pin-value (replaced by "***"), for messages; always NUL-terminated. */
void mqtls__p11_uri_redact(const char *uri, char *out, size_t cap);

/* What the URI says, parsed (for tests and messages). Strings point into @p buf. */
typedef struct mqtls__p11_uri_info {
    char token[33];  /* token= (label), "" if none */
    char object[65]; /* object= (CKA_LABEL), "" if none */
    uint8_t id[64];  /* id= (CKA_ID), percent-decoded */
    size_t id_len;
    bool has_id;
    char pin_value[65];   /* pin-value=, "" if none (wiped by the caller) */
    char module_path[256]; /* module-path=, "" if none */
} mqtls__p11_uri_info_t;

/* Parse @p uri (RFC 7512; pin-value, pin-source and module-path are accepted in the path as
 * well as in the query, as libp11 and OpenSSL users write them). MQTLS_OK;
 * MQTLS_ERR_INVALID_ARG (not a pkcs11: URI, bad percent-encoding, an attribute p11-kit does not
 * know: err->detail names it). */
mqtls_status_t mqtls__p11_uri_parse(const char *uri, mqtls__p11_uri_info_t *out,
                                    mqtls_error_t *err);

/* Open the private key @p uri names with the module @p module (NULL: the URI's module-path),
 * logged in with the URI's pin-value, else pin-source=file:..., else @p pin (may be NULL).
 * @p name names the key in messages (the redacted URI). MQTLS_OK; MQTLS_ERR_INVALID_ARG (URI,
 * no module named); MQTLS_ERR_PKCS11 (module cannot be loaded or initialised, no token or
 * key matches, several keys match, the token fails); MQTLS_ERR_KEY_PASSWORD_REQUIRED (the
 * token needs a PIN, none given); MQTLS_ERR_KEY_PASSWORD_WRONG (CKR_PIN_INCORRECT);
 * MQTLS_ERR_NOMEM. Never prints or copies the PIN. */
mqtls_status_t mqtls__p11_key_open(const char *uri, const char *module, const char *pin,
                                   mqtls_error_t *err, mqtls__p11_key_t **out);

/* For a library that speaks PKCS#11 itself (OpenSSL's pkcs11 engine, libp11): the URI with
 * its query attributes dropped (pin-value, pin-source, module-path) into @p path, and the PIN
 * to log in with (pin-value, else pin-source, else @p given) into @p pin, *has_pin telling
 * whether there is one. Statuses as mqtls__p11_key_open()'s URI checks. The caller wipes
 * @p pin. */
mqtls_status_t mqtls__p11_uri_split(const char *uri, const char *given, char *path,
                                    size_t path_cap, char *pin, size_t pin_cap, bool *has_pin,
                                    mqtls_error_t *err);

mqtls__p11_key_type_t mqtls__p11_key_type(const mqtls__p11_key_t *k);
/* RSA: the modulus in bytes (the signature's length); 0 for other types. */
size_t mqtls__p11_key_len(const mqtls__p11_key_t *k);

/* CKM_RSA_PKCS: the token signs @p in (a DigestInfo, or raw when the caller pads) with
 * PKCS#1 v1.5; @p sig gets mqtls__p11_key_len() bytes. Thread-safe (one session, locked).
 * @return 0; -1 when the token fails. */
int mqtls__p11_sign_rsa_pkcs1(mqtls__p11_key_t *k, const uint8_t *in, size_t in_len,
                              uint8_t *sig, size_t sig_cap, size_t *sig_len);

/* Log out, close, release the module. NULL is fine. */
void mqtls__p11_key_close(mqtls__p11_key_t *k);

#endif /* MQTLS_NET_PKCS11_H */
