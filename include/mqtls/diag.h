/** @file diag.h
 *  @brief Diagnosis: certificates, keys, handshake facts and MQTT results -> findings.
 *
 *  Pure (DESIGN.md): takes bytes and facts, never reads files, never prints, never touches
 *  a socket. Finding ids are a stable, append-only contract documented in
 *  docs/troubleshooting.md. */
#ifndef MQTLS_DIAG_H
#define MQTLS_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/export.h"
#include "mqtls/limits.h"
#include "mqtls/status.h"
#include "mqtls/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqtls_severity {
    MQTLS_SEV_INFO = 0,
    MQTLS_SEV_WARNING = 1,
    MQTLS_SEV_ERROR = 2
} mqtls_severity_t;

/** One finding: what is wrong, with what, and the fix a user can paste. */
typedef struct mqtls_finding {
    const char *id;            /**< stable kebab-case id, static string, e.g. "weak-key" */
    mqtls_severity_t severity;
    char subject[384];         /**< which file / which certificate (depth, subject, issuer, key) */
    char message[640];         /**< one or two plain sentences */
    char fix[640];             /**< a command or config line to paste */
} mqtls_finding_t;

/** A bounded list of findings, worst first after mqtls_findings_sort(). Caller-owned. */
typedef struct mqtls_findings {
    mqtls_finding_t items[MQTLS_MAX_FINDINGS];
    size_t count;
    size_t dropped; /**< findings that did not fit */
} mqtls_findings_t;

/** X.509 acceptance profiles that checks run against. */
typedef enum mqtls_profile {
    MQTLS_PROFILE_MBEDTLS_DEFAULT = 0, /**< the linked mbedTLS's default */
    MQTLS_PROFILE_MBEDTLS3_DEFAULT,
    MQTLS_PROFILE_MBEDTLS_NEXT,
    MQTLS_PROFILE_SUITEB,
    MQTLS_PROFILE_OPENSSL_SECLEVEL2
} mqtls_profile_t;

/** @brief Profile by name ("mbedtls-default", "mbedtls3-default", "mbedtls-next", "suiteb",
 *  "openssl-seclevel2"). @return MQTLS_OK or MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_profile_from_name(const char *name, mqtls_profile_t *out);
MQTLS_API const char *mqtls_profile_name(mqtls_profile_t p);

/** One credential given to diagnosis: the bytes (or why they could not be read) and the name
 *  to show the user. */
typedef struct mqtls_diag_file {
    const char *display_name;  /**< "ca.crt", "--cafile ca.crt", "cert_pem buffer" */
    const uint8_t *data;       /**< borrowed; NULL if not given or unreadable */
    size_t len;
    int read_errno;            /**< errno if the file could not be read, else 0 */
    bool from_buffer_api;      /**< came from a (ptr,len) buffer: NUL-termination rules apply */
} mqtls_diag_file_t;

/** Everything diagnosis may look at. Unset members are skipped. */
typedef struct mqtls_diag_input {
    mqtls_profile_t profile;
    int64_t now_s;                   /**< Unix time to check validity against */
    const char *host;                /**< host the user connects to (name or IP literal) */
    uint16_t port;
    const char *server_name;         /**< --tls-server-name override, or NULL */
    mqtls_diag_file_t ca;            /**< trusted CA file/buffer */
    mqtls_diag_file_t cert;          /**< client certificate (+chain) */
    mqtls_diag_file_t key;           /**< client key */
    const char *key_password;        /**< used to test decryption only; never copied out */
    bool key_password_given;
    const mqtls_error_t *err;        /**< the failure, or NULL for offline checks */
    const mqtls_tls_facts_t *facts;  /**< what the handshake observed, or NULL */
} mqtls_diag_input_t;

/** @brief Initialise @p in with defaults (profile = linked default, now_s = 0). */
MQTLS_API void mqtls_diag_input_init(mqtls_diag_input_t *in);

/** @brief Run every check that @p in allows and append findings to @p out (not cleared).
 *  Sorts worst first. @return MQTLS_OK or MQTLS_ERR_INVALID_ARG. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_diag_run(const mqtls_diag_input_t *in, mqtls_findings_t *out);

/** @brief Sort worst first (error, warning, info; stable). */
MQTLS_API void mqtls_findings_sort(mqtls_findings_t *f);

/** @brief Is @p id a documented finding id? */
MQTLS_API bool mqtls_finding_id_known(const char *id);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_DIAG_H */
