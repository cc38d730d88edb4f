/** @file explain.h
 *  @brief Explain error codes and pasted logs (esp-tls, esp-mqtt, mosquitto, Paho, OpenSSL)
 *         as ranked likely causes, each with a stable finding id and a fix to paste.
 *
 *  Pure: strings in, an opaque result out. Never prints, never reads files, never touches a
 *  socket. Finding ids are those of mqtls/diag.h (mqtls_finding_catalogue()), so
 *  `mqtls explain` and `mqtls doctor` speak one vocabulary.
 *
 *  Typical use:
 *  @code
 *  mqtls_explain_t *r;
 *  if (mqtls_explain_create(&r) != MQTLS_OK) { ... }
 *  mqtls_explain_arg(r, "-0x2700");                  // any number of arguments ...
 *  mqtls_explain_text(r, log, log_len);              // ... and/or pasted log excerpts
 *  mqtls_explain_finish(r);                          // rank causes, attach context notes
 *  for (size_t i = 0; i < mqtls_explain_cause_count(r); i++) {
 *      const mqtls_explain_cause_t *c = mqtls_explain_cause(r, i);
 *      printf("%s: %s\n", mqtls_explain_cause_id(c), mqtls_explain_cause_title(c));
 *  }
 *  mqtls_explain_destroy(r);
 *  @endcode
 *  Thread safety: functions are reentrant; one result must not be shared between threads
 *  while it is being filled. */
#ifndef MQTLS_EXPLAIN_H
#define MQTLS_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Everything explain found. Opaque. */
typedef struct mqtls_explain mqtls_explain_t;
/** One recognised input: a code, a flag word or a message phrase, and what it means. Opaque,
 *  owned by its mqtls_explain_t. */
typedef struct mqtls_explain_input mqtls_explain_input_t;
/** One likely cause. Opaque, owned by its mqtls_explain_t. */
typedef struct mqtls_explain_cause mqtls_explain_cause_t;

/** @brief Create an empty result.
 *  @param[out] out  Caller frees with mqtls_explain_destroy().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM. */
MQTLS_API mqtls_status_t mqtls_explain_create(mqtls_explain_t **out);

/** @brief Free @p r. Accepts NULL. */
MQTLS_API void mqtls_explain_destroy(mqtls_explain_t *r);

/** @brief Explain one command-line argument: an error code in any usual form (`-0x2700`,
 *         `0x2700`, `-9984`, `2700`, `0x8008`, `0x10000`, `0x87`, `5`), a symbolic name
 *         (`MBEDTLS_ERR_X509_CERT_VERIFY_FAILED`, `ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED`,
 *         `ECONNREFUSED`), a TLS alert (`alert 48`, `unknown_ca`), a host name, or a
 *         message phrase (`"ca md too weak"`). Ambiguous numbers get every plausible reading,
 *         the likeliest weighted highest, and the input's meaning says which were considered.
 *  @param[in,out] r    From mqtls_explain_create().
 *  @param[in]     arg  NUL-terminated, borrowed for the call.
 *  @return MQTLS_OK if something was recognised; MQTLS_ERR_NOT_SUPPORTED if not (the
 *          argument is remembered: mqtls_explain_unparsed()); MQTLS_ERR_INVALID_ARG if a
 *          pointer is NULL or mqtls_explain_finish() was already called. */
MQTLS_API mqtls_status_t mqtls_explain_arg(mqtls_explain_t *r, const char *arg);

/** @brief Explain a pasted log excerpt (any size, any bytes; NULs and long lines are fine).
 *         Every code, flag word and known message phrase is extracted and deduplicated.
 *  @param[in,out] r     From mqtls_explain_create().
 *  @param[in]     text  Borrowed for the call; need not be NUL-terminated.
 *  @param[in]     len   Bytes in @p text.
 *  @return MQTLS_OK if this text contributed something; MQTLS_ERR_NOT_SUPPORTED if nothing
 *          in it was recognised; MQTLS_ERR_INVALID_ARG if @p r is NULL, @p text is NULL with
 *          @p len > 0, or mqtls_explain_finish() was already called. */
MQTLS_API mqtls_status_t mqtls_explain_text(mqtls_explain_t *r, const char *text, size_t len);

/** @brief Resolve deferred clues, attach context notes and sort causes most likely first
 *         (stable: ties keep first-seen order). Call once, after the last input. */
MQTLS_API void mqtls_explain_finish(mqtls_explain_t *r);

/** @brief Was anything recognised (an input or a cause)? */
MQTLS_API bool mqtls_explain_recognised(const mqtls_explain_t *r);

/** @brief Merged MBEDTLS_X509_BADCERT_* bits seen in any form (flag words, verify-info
 *  lines, codes). */
MQTLS_API uint32_t mqtls_explain_verify_flags(const mqtls_explain_t *r);

/** @brief Number of causes, most likely first after mqtls_explain_finish(). */
MQTLS_API size_t mqtls_explain_cause_count(const mqtls_explain_t *r);
/** @brief Causes that did not fit. */
MQTLS_API size_t mqtls_explain_causes_dropped(const mqtls_explain_t *r);
/** @brief The @p i-th cause, or NULL if out of range. Owned by @p r. */
MQTLS_API const mqtls_explain_cause_t *mqtls_explain_cause(const mqtls_explain_t *r, size_t i);

/** @brief Finding id of the cause, e.g. "weak-key". Static string. */
MQTLS_API const char *mqtls_explain_cause_id(const mqtls_explain_cause_t *c);
/** @brief One-line title. Static string. */
MQTLS_API const char *mqtls_explain_cause_title(const mqtls_explain_cause_t *c);
/** @brief What it means and what to check. Static string. */
MQTLS_API const char *mqtls_explain_cause_explanation(const mqtls_explain_cause_t *c);
/** @brief Commands / configuration to paste, '\n'-separated. Static string. */
MQTLS_API const char *mqtls_explain_cause_fix(const mqtls_explain_cause_t *c);
/** @brief Extra context for these inputs (e.g. test.mosquitto.org's own CA), or "". */
MQTLS_API const char *mqtls_explain_cause_note(const mqtls_explain_cause_t *c);
/** @brief The inputs that point here, "; "-separated. */
MQTLS_API const char *mqtls_explain_cause_evidence(const mqtls_explain_cause_t *c);
/** @brief Ranking weight; higher is more likely. */
MQTLS_API int mqtls_explain_cause_score(const mqtls_explain_cause_t *c);

/** @brief Number of recognised inputs. */
MQTLS_API size_t mqtls_explain_input_count(const mqtls_explain_t *r);
/** @brief Recognised inputs that did not fit. */
MQTLS_API size_t mqtls_explain_inputs_dropped(const mqtls_explain_t *r);
/** @brief The @p i-th recognised input, or NULL. Owned by @p r. */
MQTLS_API const mqtls_explain_input_t *mqtls_explain_input(const mqtls_explain_t *r, size_t i);
/** @brief What kind of input: "mbedtls", "verify-flags", "verify-info", "esp-tls",
 *  "tls-alert", "connack", "reason-code", "errno", "paho", "message", "host", ... */
MQTLS_API const char *mqtls_explain_input_kind(const mqtls_explain_input_t *in);
/** @brief The input as found (trimmed, possibly shortened). */
MQTLS_API const char *mqtls_explain_input_text(const mqtls_explain_input_t *in);
/** @brief Its decoded meaning, including every interpretation considered. */
MQTLS_API const char *mqtls_explain_input_meaning(const mqtls_explain_input_t *in);

/** @brief Number of arguments nothing recognised (kept to tell the user). */
MQTLS_API size_t mqtls_explain_unparsed_count(const mqtls_explain_t *r);
/** @brief The @p i-th unrecognised argument (shortened), or NULL. Owned by @p r. */
MQTLS_API const char *mqtls_explain_unparsed(const mqtls_explain_t *r, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_EXPLAIN_H */
