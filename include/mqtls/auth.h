/** @file auth.h
 *  @brief MQTT 5 enhanced authentication ([MQTT-4.12]): the authenticator interface a client
 *  calls during the AUTH exchange, and the built-in SCRAM-SHA-256 client method (RFC 5802
 *  message formats, RFC 7677 hash). Since 1.1.
 *
 *  A client configured with an Authentication Method (mqtls_client_cfg_t::auth_method, MQTT 5
 *  only) sends it in CONNECT with the data of its start function. Each AUTH "Continue
 *  authentication" (0x18) from the broker goes to the step function, whose answer goes back in
 *  an AUTH 0x18. The broker's final data (Authentication Data of the successful CONNACK, or of
 *  the AUTH "Success" ending a re-authentication) goes to the step function with reason 0x00:
 *  it must verify it (SCRAM: the server signature) and produce nothing. An error status from
 *  either function ends the connection with MQTLS_ERR_AUTH_FAILED (the function's own status
 *  and text in the error's detail). mqtls_client_reauthenticate() starts the exchange again on
 *  a connected client (AUTH 0x19).
 *
 *  Both functions run on the thread that runs the client (the loop thread, or the caller of
 *  mqtls_client_step()), with the client's lock held: they must not call the client. */
#ifndef MQTLS_AUTH_H
#define MQTLS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room the client gives an authenticator for one step's Authentication Data (bytes). */
#define MQTLS_AUTH_DATA_MAX 1024u

/** The method name of the built-in SCRAM-SHA-256 authenticator. */
#define MQTLS_AUTH_METHOD_SCRAM_SHA_256 "SCRAM-SHA-256"

/** @brief The initial Authentication Data, for CONNECT (every connection) and for AUTH 0x19
 *  (re-authentication). The exchange starts over: state from an earlier one is dropped.
 *  @param[in]  ctx      mqtls_client_cfg_t::auth_ctx.
 *  @param[out] out      Room for @p cap (MQTLS_AUTH_DATA_MAX) bytes.
 *  @param[out] out_len  Bytes written; 0 sends no Authentication Data.
 *  @return MQTLS_OK; any error status ends the attempt (MQTLS_ERR_AUTH_FAILED). */
typedef mqtls_status_t (*mqtls_auth_start_fn)(void *ctx, uint8_t *out, size_t cap, size_t *out_len);

/** @brief One step of the exchange.
 *  @param[in]  ctx      mqtls_client_cfg_t::auth_ctx.
 *  @param[in]  reason   0x18: the broker continues (AUTH "Continue authentication"): answer in
 *                       @p out. 0x00: the broker accepted us (CONNACK, or AUTH "Success" after
 *                       a re-authentication): verify its final data; @p out is not sent.
 *  @param[in]  in       The broker's Authentication Data (@p in_len 0 when it sent none);
 *                       borrowed for the call.
 *  @param[out] out, out_len  As for mqtls_auth_start_fn.
 *  @return MQTLS_OK; any error status ends the connection (MQTLS_ERR_AUTH_FAILED). */
typedef mqtls_status_t (*mqtls_auth_step_fn)(void *ctx, uint8_t reason, const uint8_t *in,
                                             size_t in_len, uint8_t *out, size_t cap,
                                             size_t *out_len);

/** The built-in SCRAM-SHA-256 client (RFC 5802 / RFC 7677, no channel binding: gs2 header
 *  "n,,"). Opaque. One per client; reusable across connections and re-authentications. */
typedef struct mqtls_scram mqtls_scram_t;

/** @brief Create a SCRAM-SHA-256 authenticator for @p username and @p password. Use it as
 *  @code
 *  cfg.auth_method = MQTLS_AUTH_METHOD_SCRAM_SHA_256;
 *  cfg.auth_start = mqtls_scram_start;
 *  cfg.auth_step = mqtls_scram_step;
 *  cfg.auth_ctx = scram;               // destroy it after the client
 *  @endcode
 *  The user name is escaped as RFC 5802 5.1 says ("," -> "=2C", "=" -> "=3D"); names and
 *  passwords are used as their UTF-8 bytes (SASLprep is the identity for ASCII; other text must
 *  be given prepared). The client-final message proves the password (PBKDF2-HMAC-SHA-256 with
 *  the server's salt and iteration count, at least 4096 as RFC 7677 requires); the server's
 *  final message is verified (its ServerSignature), so a server that does not know the
 *  password fails the connection.
 *  @param[in]  username, password  Copied (the password is wiped at destroy).
 *  @param[out] out  The authenticator; free it with mqtls_scram_destroy().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (NULL, empty user name, or too long: 255 bytes
 *          each); MQTLS_ERR_NOMEM. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_scram_create(const char *username, const char *password,
                                            mqtls_scram_t **out);

/** @brief Free @p s (NULL is fine); wipes the password and the derived keys. */
MQTLS_API void mqtls_scram_destroy(mqtls_scram_t *s);

/** @brief mqtls_auth_start_fn of SCRAM (@p ctx is an mqtls_scram_t): the client-first message
 *  "n,,n=<user>,r=<24-character random nonce>".
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_BUFFER_TOO_SMALL; MQTLS_ERR_CRYPTO (no
 *          randomness). */
MQTLS_API mqtls_status_t mqtls_scram_start(void *ctx, uint8_t *out, size_t cap, size_t *out_len);

/** @brief mqtls_auth_step_fn of SCRAM: with 0x18 and the server-first message
 *  ("r=<nonce>,s=<salt>,i=<count>") the client-final message "c=biws,r=<nonce>,p=<proof>";
 *  with 0x00 and the server-final message ("v=<signature>") its verification.
 *  @return MQTLS_OK; MQTLS_ERR_AUTH_FAILED (the server's nonce does not extend ours, its
 *          signature is wrong, it sent "e=<error>", no final message, or a step out of order);
 *          MQTLS_ERR_MALFORMED (not a SCRAM message, bad base64, iteration count under 4096);
 *          MQTLS_ERR_BUFFER_TOO_SMALL; MQTLS_ERR_CRYPTO. */
MQTLS_API mqtls_status_t mqtls_scram_step(void *ctx, uint8_t reason, const uint8_t *in,
                                          size_t in_len, uint8_t *out, size_t cap, size_t *out_len);

/** @brief The reason the last step of @p s failed, e.g. "server signature does not match", or
 *  "" (never NULL; the text names no secret). Valid until the next call on @p s. */
MQTLS_API const char *mqtls_scram_error(const mqtls_scram_t *s);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_AUTH_H */
