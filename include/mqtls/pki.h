/** @file pki.h
 *  @brief A small certificate authority for mutual TLS: create a CA, issue server and client
 *  certificates signed by it, and summarise certificate and key files (`mqtls pki`).
 *
 *  Files in the PKI directory (docs/cli/pki.md):
 *    ca.crt, ca.key            the CA (mqtls_pki_create_ca)
 *    server.crt, server.key    the broker's certificate (mqtls_pki_issue, SERVER)
 *    <name>.crt, <name>.key    one client certificate per device (mqtls_pki_issue, CLIENT)
 *    fleet.csv, fleet.json     the manifest of a fleet (mqtls_pki_issue_fleet)
 *  Keys are PEM (SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"), unencrypted, created with
 *  mode 0600 and O_EXCL; existing files are never replaced unless @c force is set.
 *  No mbedTLS type appears here. */
#ifndef MQTLS_PKI_H
#define MQTLS_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default validity of a CA, in days (10 years). */
#define MQTLS_PKI_CA_DAYS_DEFAULT 3650u
/** Default validity of server and client certificates, in days (the CA/B limit browsers use). */
#define MQTLS_PKI_LEAF_DAYS_DEFAULT 825u
/** Longest accepted --days. */
#define MQTLS_PKI_DAYS_MAX 36500u
/** Subject common name of a CA when none is given. */
#define MQTLS_PKI_CA_NAME_DEFAULT "mqtls CA"
/** Size of the path buffers in mqtls_pki_result_t. */
#define MQTLS_PKI_PATH_MAX 512u

/** Key algorithm of a new key. */
typedef enum mqtls_pki_key_type {
    MQTLS_PKI_KEY_AUTO = 0, /**< CA: EC P-256; leaf: the same algorithm (and size) as the CA key */
    MQTLS_PKI_KEY_EC = 1,   /**< ECDSA on NIST P-256 (secp256r1), signed with SHA-256 */
    MQTLS_PKI_KEY_RSA = 2   /**< RSA with @c rsa_bits (2048, 3072 or 4096), e = 65537 */
} mqtls_pki_key_type_t;

/** What to issue with mqtls_pki_issue(). */
typedef enum mqtls_pki_kind {
    MQTLS_PKI_SERVER = 1, /**< EKU serverAuth, SAN DNS + IP, files server.crt / server.key */
    MQTLS_PKI_CLIENT = 2  /**< EKU clientAuth, CN = name, files <name>.crt / <name>.key */
} mqtls_pki_kind_t;

/** A request. Initialise with mqtls_pki_req_init(), then set what you need. All pointers are
 *  borrowed for the call. Versioned (docs/abi.md): fields are only ever appended. */
typedef struct mqtls_pki_req {
    uint32_t struct_size;          /**< set by mqtls_pki_req_init(); do not change */
    const char *dir;               /**< PKI directory (must exist); required */
    const char *name;              /**< subject CN. CA: NULL = "mqtls CA". Server: the host name
                                        (or an IP address), also the first SAN entry. Client:
                                        the MQTT client id; also the file name, so only
                                        [A-Za-z0-9._-], not starting with '.' */
    mqtls_pki_key_type_t key_type; /**< see mqtls_pki_key_type_t */
    unsigned rsa_bits;             /**< with MQTLS_PKI_KEY_RSA: 2048, 3072 or 4096 */
    const char *const *dns;        /**< server: extra SAN dNSName entries */
    size_t dns_count;
    const char *const *ips; /**< server: SAN iPAddress entries, IPv4 or IPv6 text */
    size_t ip_count;
    unsigned days; /**< validity in days; 0 = the default for the kind */
    bool force;    /**< replace existing output files */
    int64_t now_s; /**< "now" in seconds since the epoch; 0 = the system clock.
                        Validity starts one hour before now (clock skew). */
} mqtls_pki_req_t;

/** @brief Initialise @p req (of @p size bytes, the caller's sizeof). Use mqtls_pki_req_init(),
 *  which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_pki_req_init_sized(mqtls_pki_req_t *req, size_t size);

/** @brief Initialise @p req: every field zero / NULL (the defaults documented on each). */
static inline void mqtls_pki_req_init(mqtls_pki_req_t *req)
{
    mqtls_pki_req_init_sized(req, sizeof *req);
}

/** What a create/issue call wrote. Caller-owned. */
typedef struct mqtls_pki_result {
    char cert_path[MQTLS_PKI_PATH_MAX]; /**< the certificate written (mode 0644) */
    char key_path[MQTLS_PKI_PATH_MAX];  /**< the private key written (mode 0600) */
} mqtls_pki_result_t;

/** @brief Create a self-signed CA in @p req->dir: ca.crt and ca.key.
 *
 *  basicConstraints CA:TRUE (critical), keyUsage keyCertSign + cRLSign (critical), subject key
 *  identifier, random positive 128-bit serial, validity now-1h .. now+days.
 *  Not thread-safe with another call writing the same directory.
 *  @param[in]  req  The request, borrowed.
 *  @param[out] res  Paths written; may be NULL.
 *  @param[out] err  Details on failure (detail = the file or the mbedTLS error text); may be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (missing dir, bad name, rsa_bits, days; @p req not
 *          initialised with mqtls_pki_req_init()); MQTLS_ERR_NOT_SUPPORTED (@p req sets fields
 *          of a newer mqtls);
 *          MQTLS_ERR_FILE_EXISTS (ca.crt or ca.key exists and force is false; nothing written);
 *          MQTLS_ERR_FILE_WRITE (directory missing or not writable); MQTLS_ERR_CRYPTO (key
 *          generation or signing failed); MQTLS_ERR_NOMEM. */
MQTLS_API mqtls_status_t mqtls_pki_create_ca(const mqtls_pki_req_t *req, mqtls_pki_result_t *res,
                                             mqtls_error_t *err);

/** @brief Issue a server or client certificate signed by the CA in @p req->dir.
 *
 *  Both: CA:FALSE, authority + subject key identifier, keyUsage digitalSignature (critical;
 *  + keyEncipherment for RSA keys), validity now-1h .. now+days (never past the CA's end).
 *  Server: SAN = name (DNS, or IP if it parses as one) + dns[] + ips[], EKU serverAuth.
 *  Client: SAN none, EKU clientAuth.
 *  @param[in]  kind MQTLS_PKI_SERVER or MQTLS_PKI_CLIENT.
 *  @param[in]  req  The request, borrowed; @c name is required.
 *  @param[out] res  Paths written; may be NULL.
 *  @param[out] err  Details on failure; may be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (missing/bad name, DNS name or IP, key size, days;
 *          @p req not initialised); MQTLS_ERR_NOT_SUPPORTED (@p req from newer headers);
 *          MQTLS_ERR_FILE_EXISTS (output exists and force is false; nothing written);
 *          MQTLS_ERR_FILE_UNREADABLE (ca.crt or ca.key missing); MQTLS_ERR_CA_PARSE (ca.crt is
 *          not a CA certificate, or has expired); MQTLS_ERR_KEY_PARSE (ca.key unreadable as a key);
 *          MQTLS_ERR_KEY_PASSWORD_REQUIRED (ca.key is encrypted); MQTLS_ERR_KEY_MISMATCH
 *          (ca.key does not belong to ca.crt); MQTLS_ERR_FILE_WRITE; MQTLS_ERR_CRYPTO;
 *          MQTLS_ERR_NOMEM. Not thread-safe with another call writing the same directory. */
MQTLS_API mqtls_status_t mqtls_pki_issue(mqtls_pki_kind_t kind, const mqtls_pki_req_t *req,
                                         mqtls_pki_result_t *res, mqtls_error_t *err);

/** Receives one line of text (no trailing newline). @p ctx is the caller's. */
typedef void (*mqtls_pki_line_fn)(void *ctx, const char *line);

/** @brief Summarise every certificate (a chain file lists each) and private key in @p path:
 *  subject, issuer, SAN, key type and size/curve, signature hash, validity with days left
 *  ("EXPIRED", "not yet valid"), EKU, keyUsage, CA flag, SHA-256 fingerprint; for keys the
 *  type, size/curve and whether it is encrypted. Key material is never output.
 *  @param[in] path   File, PEM or DER.
 *  @param[in] now_s  Seconds since the epoch for "days left"; 0 = the system clock.
 *  @param[in] line   Called for each output line, synchronously; never after return.
 *  @param[in] ctx    Passed to @p line.
 *  @param[out] err   Details on failure; may be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (NULL path or line); MQTLS_ERR_FILE_UNREADABLE;
 *          MQTLS_ERR_FILE_EMPTY; MQTLS_ERR_NOMEM; MQTLS_ERR_CERT_PARSE (neither a certificate
 *          nor a key found). Thread-safe (no shared state). */
MQTLS_API mqtls_status_t mqtls_pki_show(const char *path, int64_t now_s, mqtls_pki_line_fn line,
                                        void *ctx, mqtls_error_t *err);

/** @brief The first DNS name (or IP) of the server certificate in @p dir (server.crt), to
 *  suggest a host in printed commands.
 *  @return MQTLS_OK; MQTLS_ERR_FILE_UNREADABLE; MQTLS_ERR_CERT_PARSE; MQTLS_ERR_BUFFER_TOO_SMALL;
 *          MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_pki_server_host(const char *dir, char *buf, size_t cap);

/* ---- fleets: many device certificates at once (`mqtls pki fleet`, added in 1.1) ---------- */

/** Device names of a fleet when no prefix is given: "dev-000001", "dev-000002", ... */
#define MQTLS_PKI_FLEET_PREFIX_DEFAULT "dev-"
/** Most devices one mqtls_pki_issue_fleet() call issues. */
#define MQTLS_PKI_FLEET_MAX 1000000u

/** A fleet request. Initialise with mqtls_pki_fleet_req_init(), then set what you need. All
 *  pointers are borrowed for the call. Versioned (docs/abi.md): fields are only ever
 *  appended. */
typedef struct mqtls_pki_fleet_req {
    uint32_t struct_size; /**< set by mqtls_pki_fleet_req_init(); do not change */
    const char *dir;      /**< PKI directory holding ca.crt and ca.key; the devices' files and
                               the manifest are written there. Required */
    const char *prefix;   /**< device name = prefix + the number in 6 digits (more if needed);
                               NULL = MQTLS_PKI_FLEET_PREFIX_DEFAULT. [A-Za-z0-9._-] */
    uint32_t first;       /**< number of the first device; 0 = 1 */
    uint32_t count;       /**< devices to issue: 1 .. MQTLS_PKI_FLEET_MAX */
    unsigned threads;     /**< signing threads; 0 = one per online CPU (at most 64) */
    unsigned days;        /**< validity in days; 0 = MQTLS_PKI_LEAF_DAYS_DEFAULT */
    int64_t now_s;        /**< "now" in seconds since the epoch; 0 = the system clock. Validity
                               starts one hour before it: a past "now" and few days make
                               expired certificates (for tests) */
    bool force;           /**< replace existing device files */
} mqtls_pki_fleet_req_t;

/** @brief Initialise @p req (of @p size bytes, the caller's sizeof). Use
 *  mqtls_pki_fleet_req_init(), which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_pki_fleet_req_init_sized(mqtls_pki_fleet_req_t *req, size_t size);

/** @brief Initialise @p req: every field zero / NULL (the defaults documented on each). */
static inline void mqtls_pki_fleet_req_init(mqtls_pki_fleet_req_t *req)
{
    mqtls_pki_fleet_req_init_sized(req, sizeof *req);
}

/** What mqtls_pki_issue_fleet() did. Caller-owned. */
typedef struct mqtls_pki_fleet_result {
    uint32_t issued;                        /**< device certificates written */
    unsigned threads;                       /**< signing threads used */
    char manifest_csv[MQTLS_PKI_PATH_MAX];  /**< DIR/fleet.csv */
    char manifest_json[MQTLS_PKI_PATH_MAX]; /**< DIR/fleet.json */
} mqtls_pki_fleet_result_t;

/** @brief Issue @p req->count device (client) certificates signed by the CA in @p req->dir, on
 *  several threads, and write the fleet's manifest.
 *
 *  Each device is what mqtls_pki_issue(MQTLS_PKI_CLIENT) makes for CN = its name, with an EC
 *  P-256 key whatever the CA's key: DIR/<name>.crt (0644) and DIR/<name>.key (0600). The
 *  manifest lists every device of the directory's fleet, one row per id, sorted by id:
 *  DIR/fleet.csv (header "id,cert,key,not_before,not_after"; file names relative to DIR, times
 *  ISO 8601 UTC) and DIR/fleet.json (the same rows: {"ca":"ca.crt","count":N,"devices":[...]}).
 *  Rows of an earlier call for other names are kept (several prefixes make one fleet); rows
 *  issued again are replaced. Both files are replaced atomically (rename).
 *  Not thread-safe with another call writing the same directory.
 *  @param[in]  req  Borrowed for the call.
 *  @param[out] res  What was written; may be NULL.
 *  @param[out] err  Details on failure; may be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (missing dir, bad prefix, count or days; @p req not
 *          initialised); MQTLS_ERR_NOT_SUPPORTED (@p req from newer headers);
 *          MQTLS_ERR_FILE_EXISTS (a device file exists and force is false: nothing written);
 *          the CA errors of mqtls_pki_issue(); MQTLS_ERR_FILE_WRITE; MQTLS_ERR_CRYPTO;
 *          MQTLS_ERR_THREAD; MQTLS_ERR_NOMEM. After a failure past the checks, device files
 *          already written stay and the manifest is not changed. */
MQTLS_API mqtls_status_t mqtls_pki_issue_fleet(const mqtls_pki_fleet_req_t *req,
                                               mqtls_pki_fleet_result_t *res, mqtls_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_PKI_H */
