/** @file diag.h
 *  @brief Diagnosis: certificates, keys, handshake facts and MQTT results -> findings.
 *
 *  Pure (DESIGN.md): takes bytes and facts, never reads files, never prints, never touches
 *  a socket. Finding ids are a stable, append-only contract: the one list is
 *  src/diag/findings.def, each id documented in docs/findings/<id>.md. */
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
    MQTLS_PROFILE_OPENSSL_SECLEVEL2,
    MQTLS_PROFILE_MBEDTLS2_DEFAULT     /**< mbedTLS 2.28's default (ESP-IDF 4.x) by name */
} mqtls_profile_t;

/** @brief Profile by name ("mbedtls-default", "mbedtls2-default", "mbedtls3-default",
 *  "mbedtls-next", "suiteb", "openssl-seclevel2"). @return MQTLS_OK or MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_profile_from_name(const char *name, mqtls_profile_t *out);
/** @brief Name of @p p ("mbedtls3-default"); "unknown" otherwise. Static string. */
MQTLS_API const char *mqtls_profile_name(mqtls_profile_t p);
/** @brief Who uses @p p, e.g. "mbedTLS 3.x default profile (ESP-IDF 5.x)". Static string. */
MQTLS_API const char *mqtls_profile_describe(mqtls_profile_t p);

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
    /** What the handshake observed, or NULL. Used: presented[] (else chain[]) DER + per-depth
     *  flags, alert_received, cert_requested, client_cert_sent, server_hello_seen,
     *  peer_not_tls + first_bytes, and ca_names: the CertificateRequest
     *  certificate_authorities body, i.e. a run of (2-byte big-endian length, DER Name);
     *  an outer 2-byte total length in front is tolerated. */
    const mqtls_tls_facts_t *facts;
    int mqtt_version;                /**< 4 = 3.1.1, 5 = 5.0 (CONNACK codes), 0 unknown */
    bool insecure;                   /**< verification was turned off (warn loudly) */
} mqtls_diag_input_t;

/** @brief Initialise @p in with defaults (profile = linked default, now_s = 0: set it, 0 is
 *  diagnosed as "clock not set"). Cannot fail. */
MQTLS_API void mqtls_diag_input_init(mqtls_diag_input_t *in);

/** @brief Run every check that @p in allows and append findings to @p out (not cleared).
 *  Offline checks run on the files alone; with @c err / @c facts the failure is explained too
 *  (the server chain is rebuilt and every signature verified, so each merged mbedTLS flag is
 *  pinned to one certificate and one cause). Sorts worst first.
 *  @param[in]  in   Borrowed for the call; nothing is kept, no password is copied out.
 *  @param[out] out  Caller-owned; initialise with mqtls_findings_init().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (NULL argument); MQTLS_ERR_NOMEM. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_diag_run(const mqtls_diag_input_t *in, mqtls_findings_t *out);

/** @brief Empty @p f. Cannot fail. */
MQTLS_API void mqtls_findings_init(mqtls_findings_t *f);

/** @brief Sort worst first (error, warning, info; stable). */
MQTLS_API void mqtls_findings_sort(mqtls_findings_t *f);

/** @brief Is @p id a documented finding id? */
MQTLS_API bool mqtls_finding_id_known(const char *id);

/** @brief One-line title of finding @p id, or NULL if unknown. Static string. */
MQTLS_API const char *mqtls_finding_title(const char *id);

/** @brief Every finding id, in catalogue order. Fills up to @p cap entries of @p ids (may be
 *  NULL with cap 0). @return the number of ids in the catalogue. */
MQTLS_API size_t mqtls_finding_catalogue(const char **ids, size_t cap);

/** @brief "error", "warning" or "info". Static string. */
MQTLS_API const char *mqtls_severity_name(mqtls_severity_t s);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_DIAG_H */
