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
#include "mqtls/profile.h"
#include "mqtls/status.h"
#include "mqtls/tls_facts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqtls_severity {
    MQTLS_SEV_INFO = 0,
    MQTLS_SEV_WARNING = 1,
    MQTLS_SEV_ERROR = 2
} mqtls_severity_t;

/** One finding: what is wrong, with what, and the fix a user can paste. Opaque: read it with
 *  mqtls_finding_id() and the other accessors. Owned by the mqtls_findings_t that holds it. */
typedef struct mqtls_finding mqtls_finding_t;

/** A list of findings, worst first. Opaque; create with mqtls_findings_create(). */
typedef struct mqtls_findings mqtls_findings_t;

/** One credential given to diagnosis: the bytes (or why they could not be read) and the name
 *  to show the user. */
typedef struct mqtls_diag_file {
    const char *display_name;  /**< "ca.crt", "--cafile ca.crt", "cert_pem buffer" */
    const uint8_t *data;       /**< borrowed; NULL if not given or unreadable */
    size_t len;
    int read_errno;            /**< errno if the file could not be read, else 0 */
    bool from_buffer_api;      /**< came from a (ptr,len) buffer: NUL-termination rules apply */
} mqtls_diag_file_t;

/** Everything diagnosis may look at. Initialise with mqtls_diag_input_init(); unset members
 *  are skipped. Versioned (docs/abi.md): fields are only ever appended. */
typedef struct mqtls_diag_input {
    uint32_t struct_size;            /**< set by mqtls_diag_input_init(); do not change */
    mqtls_profile_t profile;
    int64_t now_s;                   /**< Unix time to check validity against */
    const char *host;                /**< host the user connects to (name or IP literal) */
    uint16_t port;
    const char *server_name;         /**< --tls-server-name override, or NULL */
    mqtls_diag_file_t ca;            /**< trusted CA file/buffer */
    mqtls_diag_file_t cert;          /**< client certificate (+chain) */
    mqtls_diag_file_t key;           /**< client key; a key on a PKCS#11 token: display_name
                                          its pkcs11: URI (PIN left out), data NULL, read_errno
                                          0 (no file checks) */
    const char *key_password;        /**< used to test decryption only; never copied out */
    bool key_password_given;
    const mqtls_error_t *err;        /**< the failure, or NULL for offline checks */
    /** What the handshake observed (mqtls_client_tls_facts()), or NULL. Borrowed. */
    const mqtls_tls_facts_t *facts;
    int mqtt_version;                /**< 4 = 3.1.1, 5 = 5.0 (CONNACK codes), 0 unknown */
    bool insecure;                   /**< verification was turned off (warn loudly) */
    /* ---- 1.1 ---- */
    /** No CA was given: @c ca is the trust store the client fell back to (the system bundle).
     *  Findings then say "you gave no --cafile" and never suggest writing into its folder. */
    bool ca_is_default;
    /** Files lying beside the given ones (in the same folders), read by the caller. Fixes use
     *  them before making new files: the key that belongs to the certificate, the CA that
     *  issued the server's certificate, a missing intermediate. Borrowed; may be NULL. */
    const mqtls_diag_file_t *nearby;
    size_t nearby_count;
    /** The failure ended a session that the broker had accepted (a CONNACK came first). */
    bool after_connack;
    /** After a lost session: 1 the broker accepts new connections, 0 it refuses them (it
     *  stopped), -1 not known (the default). */
    int broker_reachable;
    /** The client identifier sent in CONNECT; NULL or "" when it was generated. */
    const char *client_id;
    /** TLS was set up with no way to verify the server (no CA certificate, bundle, global CA
     *  store or PSK) and no explicit opt-out: esp-tls refuses this ("No server verification
     *  option set in esp_tls_cfg_t structure"), and so does the esp-mqtt shim. */
    bool no_verification_option;
} mqtls_diag_input_t;

/** @brief Initialise @p in (of @p size bytes, the caller's sizeof) with the defaults. Use
 *  mqtls_diag_input_init(), which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_diag_input_init_sized(mqtls_diag_input_t *in, size_t size);

/** @brief Initialise @p in with defaults (profile = linked default, now_s = 0: set it, 0 is
 *  diagnosed as "clock not set"). Cannot fail. */
static inline void mqtls_diag_input_init(mqtls_diag_input_t *in)
{
    mqtls_diag_input_init_sized(in, sizeof *in);
}

/** @brief Run every check that @p in allows and append findings to @p out (not cleared).
 *  Offline checks run on the files alone; with @c err / @c facts the failure is explained too
 *  (the server chain is rebuilt and every signature verified, so each merged mbedTLS flag is
 *  pinned to one certificate and one cause). Sorts worst first.
 *  @param[in]  in   Borrowed for the call; nothing is kept, no password is copied out.
 *  @param[out] out  From mqtls_findings_create().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (NULL argument, @p in not initialised);
 *          MQTLS_ERR_NOT_SUPPORTED (@p in comes from newer headers than this library);
 *          MQTLS_ERR_NOMEM. Thread-safe (one @p out per thread). */
MQTLS_API mqtls_status_t mqtls_diag_run(const mqtls_diag_input_t *in, mqtls_findings_t *out);

/** @brief Create an empty list of findings.
 *  @param[out] out  Caller frees with mqtls_findings_destroy().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM. */
MQTLS_API mqtls_status_t mqtls_findings_create(mqtls_findings_t **out);

/** @brief Free @p f and every finding in it. Accepts NULL. */
MQTLS_API void mqtls_findings_destroy(mqtls_findings_t *f);

/** @brief Empty @p f (keeps it usable). Accepts NULL. */
MQTLS_API void mqtls_findings_clear(mqtls_findings_t *f);

/** @brief Sort worst first (error, warning, info; stable). Accepts NULL. */
MQTLS_API void mqtls_findings_sort(mqtls_findings_t *f);

/** @brief Number of findings in @p f (0 for NULL). */
MQTLS_API size_t mqtls_findings_count(const mqtls_findings_t *f);

/** @brief Findings that did not fit (the list keeps the first ones found). */
MQTLS_API size_t mqtls_findings_dropped(const mqtls_findings_t *f);

/** @brief The @p i-th finding. @return owned by @p f, valid until it is cleared or destroyed;
 *  NULL if @p i is out of range. */
MQTLS_API const mqtls_finding_t *mqtls_findings_get(const mqtls_findings_t *f, size_t i);

/** @brief Stable kebab-case id, e.g. "weak-key" (docs/findings/<id>.md). Static string. */
MQTLS_API const char *mqtls_finding_id(const mqtls_finding_t *it);
/** @brief Severity of @p it. */
MQTLS_API mqtls_severity_t mqtls_finding_severity(const mqtls_finding_t *it);
/** @brief Which file / which certificate (depth, subject, issuer, key); "" if general. */
MQTLS_API const char *mqtls_finding_subject(const mqtls_finding_t *it);
/** @brief One or two plain sentences: what is wrong and why. */
MQTLS_API const char *mqtls_finding_message(const mqtls_finding_t *it);
/** @brief The fix: commands or configuration lines to paste, '\n'-separated; "" if none. */
MQTLS_API const char *mqtls_finding_fix(const mqtls_finding_t *it);

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
