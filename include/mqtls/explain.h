/** @file explain.h
 *  @brief Explain error codes and pasted logs (esp-tls, esp-mqtt, mosquitto, Paho, OpenSSL)
 *         as ranked likely causes, each with a stable finding id and a fix to paste.
 *
 *  Pure: strings in, a caller-owned structured result out. Never prints, never reads files,
 *  never touches a socket. Finding ids are those of docs/troubleshooting.md (the same ids
 *  src/diag reports), so `mqtls explain` and `mqtls doctor` speak one vocabulary.
 *
 *  Typical use:
 *  @code
 *  mqtls_explain_result_t *r = malloc(sizeof *r);     // large: keep it off small stacks
 *  mqtls_explain_init(r);
 *  mqtls_explain_arg(r, "-0x2700");                  // any number of arguments ...
 *  mqtls_explain_text(r, log, log_len);              // ... and/or pasted log excerpts
 *  mqtls_explain_finish(r);                          // rank causes, attach context notes
 *  for (size_t i = 0; i < r->cause_count; i++) { ... r->causes[i].id ... }
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

/** Most distinct recognised inputs (codes, flags, phrases) kept per result. */
#ifndef MQTLS_EXPLAIN_MAX_INPUTS
#define MQTLS_EXPLAIN_MAX_INPUTS 64
#endif
/** Most causes kept per result. */
#ifndef MQTLS_EXPLAIN_MAX_CAUSES
#define MQTLS_EXPLAIN_MAX_CAUSES 24
#endif
/** Most unrecognised arguments remembered (to tell the user what could not be parsed). */
#ifndef MQTLS_EXPLAIN_MAX_UNPARSED
#define MQTLS_EXPLAIN_MAX_UNPARSED 8
#endif

/** One recognised input: a code, a flag word or a message phrase, and what it means. */
typedef struct mqtls_explain_input {
    char kind[24];     /**< "mbedtls", "verify-flags", "verify-info", "esp-tls", "tls-alert",
                            "connack", "reason-code", "errno", "paho", "message", "host" */
    char text[128];    /**< the input as found (trimmed, possibly shortened) */
    char meaning[640]; /**< decoded meaning, including every interpretation considered */
} mqtls_explain_input_t;

/** One likely cause. Static strings live as long as the program. */
typedef struct mqtls_explain_cause {
    const char *id;          /**< finding id, e.g. "weak-key" (static) */
    const char *title;       /**< one line (static) */
    const char *explanation; /**< what it means and what to check (static) */
    const char *fix;         /**< commands / config to paste, '\n'-separated (static) */
    char note[512];          /**< extra context for this input (e.g. test.mosquitto.org), or "" */
    char evidence[512];      /**< the inputs that point here, "; "-separated */
    int score;               /**< ranking weight; higher is more likely */
} mqtls_explain_cause_t;

/** Everything explain found. Caller-owned; about 70 KiB, so allocate it on the heap. */
typedef struct mqtls_explain_result {
    mqtls_explain_input_t inputs[MQTLS_EXPLAIN_MAX_INPUTS];
    size_t input_count;
    size_t inputs_dropped; /**< recognised inputs that did not fit */
    mqtls_explain_cause_t causes[MQTLS_EXPLAIN_MAX_CAUSES];
    size_t cause_count; /**< sorted most likely first after mqtls_explain_finish() */
    size_t causes_dropped;
    char unparsed[MQTLS_EXPLAIN_MAX_UNPARSED][96]; /**< arguments nothing recognised */
    size_t unparsed_count;
    uint32_t verify_flags;   /**< merged MBEDTLS_X509_BADCERT_* bits seen in any form */
    bool saw_test_mosquitto; /**< test.mosquitto.org appeared in an input */
    bool MQTLS_PRIVATE(saw_verify_failed); /* -0x2700 etc. seen; resolved in _finish */
    bool MQTLS_PRIVATE(finished);
} mqtls_explain_result_t;

/** @brief Clear @p r. Cannot fail; @p r may be uninitialised memory. */
MQTLS_API void mqtls_explain_init(mqtls_explain_result_t *r);

/** @brief Explain one command-line argument: an error code in any usual form (`-0x2700`,
 *         `0x2700`, `-9984`, `2700`, `0x8008`, `0x10000`, `0x87`, `5`), a symbolic name
 *         (`MBEDTLS_ERR_X509_CERT_VERIFY_FAILED`, `ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED`,
 *         `ECONNREFUSED`), a TLS alert (`alert 48`, `unknown_ca`), a host name, or a
 *         message phrase (`"ca md too weak"`). Ambiguous numbers get every plausible reading,
 *         the likeliest weighted highest, and the input's meaning says which were considered.
 *  @param[in,out] r    Result, initialised with mqtls_explain_init().
 *  @param[in]     arg  NUL-terminated, borrowed for the call.
 *  @return MQTLS_OK if something was recognised; MQTLS_ERR_NOT_SUPPORTED if not (the
 *          argument is remembered in r->unparsed); MQTLS_ERR_INVALID_ARG if a pointer is NULL
 *          or mqtls_explain_finish() was already called. */
MQTLS_API mqtls_status_t mqtls_explain_arg(mqtls_explain_result_t *r, const char *arg);

/** @brief Explain a pasted log excerpt (any size, any bytes; NULs and long lines are fine).
 *         Every code, flag word and known message phrase is extracted and deduplicated.
 *  @param[in,out] r     Result, initialised with mqtls_explain_init().
 *  @param[in]     text  Borrowed for the call; need not be NUL-terminated.
 *  @param[in]     len   Bytes in @p text.
 *  @return MQTLS_OK if this text contributed something; MQTLS_ERR_NOT_SUPPORTED if nothing
 *          in it was recognised; MQTLS_ERR_INVALID_ARG if @p r is NULL, @p text is NULL with
 *          @p len > 0, or mqtls_explain_finish() was already called. */
MQTLS_API mqtls_status_t mqtls_explain_text(mqtls_explain_result_t *r, const char *text,
                                            size_t len);

/** @brief Resolve deferred clues, attach context notes and sort causes most likely first
 *         (stable: ties keep first-seen order). Call once, after the last input. */
MQTLS_API void mqtls_explain_finish(mqtls_explain_result_t *r);

/** @brief Was anything recognised (an input or a cause)? */
MQTLS_API bool mqtls_explain_recognised(const mqtls_explain_result_t *r);

/** @brief Number of finding ids explain knows (the catalogue of docs/troubleshooting.md). */
MQTLS_API size_t mqtls_explain_catalogue_count(void);

/** @brief The @p i-th catalogued finding id, or NULL if @p i is out of range. */
MQTLS_API const char *mqtls_explain_catalogue_id(size_t i);

/** @brief One-line title of finding @p id, or NULL if explain does not know @p id. */
MQTLS_API const char *mqtls_explain_title(const char *id);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_EXPLAIN_H */
