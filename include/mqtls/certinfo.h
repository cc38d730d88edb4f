/** @file certinfo.h
 *  @brief Inspect certificates and private keys given as PEM or DER bytes: names, SANs, key
 *  type and size, signature hash, validity, key usages, fingerprint. Used by diagnosis,
 *  `mqtls doctor` and `mqtls pki show`. Pure: takes bytes, never reads files, never prints.
 *  No mbedTLS type appears here. */
#ifndef MQTLS_CERTINFO_H
#define MQTLS_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Public key algorithm of a certificate or key. */
typedef enum mqtls_key_type {
    MQTLS_KEY_NONE = 0,
    MQTLS_KEY_RSA = 1,
    MQTLS_KEY_EC = 2,      /**< ECDSA / ECDH on a named curve */
    MQTLS_KEY_ED25519 = 3, /**< recognised, but mbedTLS 2.28 / 3.x cannot use it */
    MQTLS_KEY_ED448 = 4,
    MQTLS_KEY_DSA = 5,
    MQTLS_KEY_RSA_PSS = 6,
    MQTLS_KEY_OTHER = 7
} mqtls_key_type_t;

/** Signature hash of a certificate. */
typedef enum mqtls_hash {
    MQTLS_HASH_NONE = 0,
    MQTLS_HASH_MD5 = 1,
    MQTLS_HASH_SHA1 = 2,
    MQTLS_HASH_SHA224 = 3,
    MQTLS_HASH_SHA256 = 4,
    MQTLS_HASH_SHA384 = 5,
    MQTLS_HASH_SHA512 = 6,
    MQTLS_HASH_OTHER = 7
} mqtls_hash_t;

/** Named curves we can describe. Bit positions for profile curve masks. */
typedef enum mqtls_curve {
    MQTLS_CURVE_NONE = 0,
    MQTLS_CURVE_P192 = 1,
    MQTLS_CURVE_P224 = 2,
    MQTLS_CURVE_P256 = 3,
    MQTLS_CURVE_P384 = 4,
    MQTLS_CURVE_P521 = 5,
    MQTLS_CURVE_K192 = 6,
    MQTLS_CURVE_K224 = 7,
    MQTLS_CURVE_K256 = 8,
    MQTLS_CURVE_BP256 = 9,
    MQTLS_CURVE_BP384 = 10,
    MQTLS_CURVE_BP512 = 11,
    MQTLS_CURVE_OTHER = 12
} mqtls_curve_t;

/** keyUsage bits (RFC 5280 4.2.1.3), as mbedTLS numbers them. */
#define MQTLS_KU_DIGITAL_SIGNATURE 0x80u
#define MQTLS_KU_KEY_ENCIPHERMENT 0x20u
#define MQTLS_KU_KEY_AGREEMENT 0x08u
#define MQTLS_KU_KEY_CERT_SIGN 0x04u
#define MQTLS_KU_CRL_SIGN 0x02u

/** extendedKeyUsage bits found in a certificate. */
#define MQTLS_EKU_SERVER_AUTH 0x01u
#define MQTLS_EKU_CLIENT_AUTH 0x02u
#define MQTLS_EKU_ANY 0x04u
#define MQTLS_EKU_OTHER 0x08u

#define MQTLS_CERTINFO_MAX_SANS 8

/** What one certificate says. Plain value, caller-owned; strings are NUL-terminated. */
typedef struct mqtls_certinfo {
    char subject[256]; /**< "CN=localhost, O=mqtls-test" */
    char issuer[256];
    char serial[72];      /**< hex, colon separated */
    int version;          /**< 1, 2 or 3 */
    int64_t not_before_s; /**< Unix time */
    int64_t not_after_s;
    mqtls_key_type_t key_type;
    unsigned key_bits;   /**< RSA modulus bits, EC curve bits */
    mqtls_curve_t curve; /**< EC only */
    char key_desc[48];   /**< "RSA-2048", "EC P-256 (secp256r1)", "Ed25519" */
    mqtls_hash_t sig_hash;
    char sig_desc[48]; /**< "SHA-256 with RSA", "SHA-1 with RSA", "ECDSA with SHA-384" */
    bool has_basic_constraints;
    bool is_ca;      /**< basicConstraints cA = TRUE */
    int max_pathlen; /**< -1 = unlimited / absent */
    bool has_key_usage;
    unsigned key_usage; /**< MQTLS_KU_* bits */
    bool has_ext_key_usage;
    unsigned ext_key_usage; /**< MQTLS_EKU_* bits */
    char san_dns[MQTLS_CERTINFO_MAX_SANS][128];
    size_t san_dns_count;
    char san_ip[MQTLS_CERTINFO_MAX_SANS][48]; /**< textual IPv4 / IPv6 */
    size_t san_ip_count;
    char common_name[128]; /**< CN of the subject, "" if none */
    bool self_issued;      /**< subject == issuer */
    /** self-issued and its own key verifies its signature (verified in inputs of up to 16
     *  certificates; in bigger bundles it equals self_issued, for speed) */
    bool self_signed;
    uint8_t sha256[32];  /**< fingerprint of the DER */
    char sha256_hex[96]; /**< "AB:CD:..." */
    uint8_t ski[32];     /**< subjectKeyIdentifier, ski_len = 0 if absent */
    size_t ski_len;
    uint8_t aki[32]; /**< authorityKeyIdentifier keyIdentifier, aki_len = 0 if absent */
    size_t aki_len;
    bool parse_unsupported_key; /**< mbedTLS could not parse it because of its key (Ed25519...) */
} mqtls_certinfo_t;

/** How a private key is stored. */
typedef enum mqtls_key_format {
    MQTLS_KEYFMT_UNKNOWN = 0,
    MQTLS_KEYFMT_PKCS1 = 1,            /**< "BEGIN RSA PRIVATE KEY" */
    MQTLS_KEYFMT_SEC1 = 2,             /**< "BEGIN EC PRIVATE KEY" */
    MQTLS_KEYFMT_PKCS8 = 3,            /**< "BEGIN PRIVATE KEY" */
    MQTLS_KEYFMT_PKCS8_ENCRYPTED = 4,  /**< "BEGIN ENCRYPTED PRIVATE KEY" */
    MQTLS_KEYFMT_LEGACY_ENCRYPTED = 5, /**< PKCS#1/SEC1 with "Proc-Type: 4,ENCRYPTED" */
    MQTLS_KEYFMT_DER = 6
} mqtls_key_format_t;

/** What one private key says (never its secret). */
typedef struct mqtls_keyinfo {
    mqtls_key_format_t format;
    bool is_encrypted;
    char encryption[48];       /**< "DES-EDE3-CBC", "PBES2 AES-256-CBC", "" */
    mqtls_key_type_t key_type; /**< MQTLS_KEY_NONE if it could not be decoded */
    unsigned key_bits;
    mqtls_curve_t curve;
    char key_desc[48];
    int mbedtls_ret; /**< what mbedtls_pk_parse_key returned (0 = parsed) */
} mqtls_keyinfo_t;

/** @brief Parse every certificate in @p data (PEM with one or more CERTIFICATE blocks, or one
 *  or more concatenated DER certificates).
 *  @param[in]  data   bytes, borrowed for the call; need not be NUL-terminated.
 *  @param[out] out    array of @p cap entries (may be NULL when @p cap is 0).
 *  @param[out] count  certificates found (may exceed @p cap: only @p cap are filled).
 *  @return MQTLS_OK if at least one certificate parsed and none failed;
 *          MQTLS_ERR_FILE_EMPTY (no bytes, or only white space);
 *          MQTLS_ERR_CERT_PARSE (no certificate, or one block is broken; *count holds the good
 *          ones); MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_certinfo_parse(const uint8_t *data, size_t len,
                                              mqtls_certinfo_t *out, size_t cap, size_t *count);

/** @brief Describe the first private key in @p data (PEM or DER).
 *  @param[in] password  used only to try decryption, never stored; NULL = none.
 *  @return MQTLS_OK; MQTLS_ERR_FILE_EMPTY; MQTLS_ERR_KEY_PASSWORD_REQUIRED;
 *          MQTLS_ERR_KEY_PASSWORD_WRONG; MQTLS_ERR_KEY_UNSUPPORTED (type or encryption this
 *          mbedTLS cannot use; @p out still names the type where known);
 *          MQTLS_ERR_KEY_PARSE; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_keyinfo_parse(const uint8_t *data, size_t len, const char *password,
                                             mqtls_keyinfo_t *out);

/** @brief Name of a hash ("SHA-256"). Static string. */
MQTLS_API const char *mqtls_hash_name(mqtls_hash_t h);
/** @brief Name of a curve ("P-256"). Static string. */
MQTLS_API const char *mqtls_curve_name(mqtls_curve_t c);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_CERTINFO_H */
