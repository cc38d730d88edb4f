/* Internal to src/diag: the state of one mqtls_diag_run() and what its checks share. One
 * subject per file, called in this order by diag.c (the order of causes: root causes first):
 *   diag_files.c      the CA, certificate and key files as files; the CA file's contents
 *   diag_transport.c  DNS, TCP and TLS-level failures (ports, ciphers, alerts)
 *   diag_chain.c      the chain the server presented, rebuilt and judged link by link
 *   diag_hostname.c   the server certificate's names against the host connected to
 *   diag_client.c     the client certificate and key, and alerts the broker sent about them
 *   diag_fixes.c      pasteable fixes that name the user's own files and host
 * A check adds a finding with ONE call, mqtls__diag_add(), giving its id, subject, fix and
 * message; the subject and fix writers below return texts kept in the context. */
#ifndef MQTLS_DIAG_CTX_H
#define MQTLS_DIAG_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "diag_internal.h"
#include "findings.h"

/* The parsed nearby files (diag_nearby.c). */
typedef struct mqtls__diag_nearby mqtls__diag_nearby_t;

typedef struct mqtls__diag_ctx {
    const mqtls_diag_input_t *in;
    mqtls_findings_t *out;
    const mqtls__profile_t *prof;
    int64_t now;
    bool clock_bad;
    mqtls__certset_t *ca;     /* the CA file */
    mqtls__certset_t *cert;   /* the client certificate file */
    mqtls__certset_t *keyset; /* the key file parsed as certificates (swap check) */
    mqtls__certset_t *server; /* the chain the server presented */
    bool ca_usable;
    bool cert_usable;
    bool swapped;
    mbedtls_pk_context key;
    bool key_usable;
    mqtls_keyinfo_t keyinfo;
    mqtls_status_t key_status;
    /* mbedTLS 2.28 (diag) decrypts the key, the TLS engine's library did not (in->err: e.g.
     * a 3DES key and mbedTLS 3.6 built as ESP-IDF 5, without DES) */
    bool key_refused_by_engine;
    mqtls__diag_nearby_t *nearby; /* parsed on first use */
    /* Texts of the finding being added: written by the subject / fix writers, copied by
     * mqtls__diag_add() (sizes are those of mqtls_finding_t's fields). */
    char subject[384];
    char fix[1400];
} mqtls__diag_ctx_t;

/* ---- diag.c: findings and their texts */

/** Append finding @p id: @p subject and @p fix as given (NULL for none), the message formatted
 *  from @p fmt. @return the item, or NULL if the list is full (counted as dropped). */
mqtls_finding_t *mqtls__diag_add(mqtls__diag_ctx_t *c, mqtls__finding_id_t id, const char *subject,
                                 const char *fix, const char *fmt, ...) MQTLS__PRINTF(5, 6);
/** Format the subject / the fix of the finding being added; @return the text. */
const char *mqtls__diag_subject(mqtls__diag_ctx_t *c, const char *fmt, ...) MQTLS__PRINTF(2, 3);
const char *mqtls__diag_fix(mqtls__diag_ctx_t *c, const char *fmt, ...) MQTLS__PRINTF(2, 3);
/** Subject "<role> '<subject>' (issuer '..', key .., signed .., valid ....-..-.....)". */
const char *mqtls__diag_describe(mqtls__diag_ctx_t *c, const char *role,
                                 const mqtls_certinfo_t *ci);

/** "YYYY-MM-DD" (UTC) of Unix time @p t. */
void mqtls__diag_fmt_date(char *dst, size_t cap, int64_t t);
/** How the user named file @p f, or @p fallback. */
const char *mqtls__diag_file_name(const mqtls_diag_file_t *f, const char *fallback);
/** "server certificate (depth 0)" / "server chain certificate (depth N)". */
void mqtls__diag_server_role(char *dst, size_t cap, size_t depth);

/* ---- diag_chain.c: issuers, also for the client's own chain */

bool mqtls__diag_name_eq(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b);
/** Find an issuer of @p child in @p set by name. @return its index, or -1. *sig_ok: its key
 *  verifies the signature (the first name match that verifies wins); *name_only: the first
 *  name match whose key does not verify, or -1. */
int mqtls__diag_find_issuer(const mqtls__certset_t *set, const mbedtls_x509_crt *child,
                            bool *sig_ok, int *name_only);
/** Does the unknown issuer of @p child look like an intermediate CA of the PKI of a CA in
 *  @p set rather than a CA of another PKI? Names are all there is: the same attributes besides
 *  CN, and the issuer's CN says "intermediate" / "issuing" / "sub CA" or shares a distinctive
 *  word with that CA's. */
bool mqtls__diag_issuer_looks_intermediate(const mqtls__certset_t *set,
                                           const mbedtls_x509_crt *child);

/* ---- diag_fixes.c: safe, pasteable fixes (the rules: diag_fixes.c); each returns c->fix */

/** @p s quoted for a POSIX shell only when it needs it. */
void mqtls__diag_shq(char *dst, size_t cap, const char *s);
/** Is @p path in a folder the system owns (/etc/ssl, /usr, ...)? Fixes never write there. */
bool mqtls__diag_is_system_path(const char *path);
/** The folder of @p path ("." when it names none). */
void mqtls__diag_dirname(char *dst, size_t cap, const char *path);
/** "DIR/<stem of @p path><suffix>", quoted: a new file beside @p path (client.crt ->
 *  client-chain.crt). */
void mqtls__diag_sibling(char *dst, size_t cap, const char *path, const char *suffix);
/** "DIR/name" ("name" when DIR is "."). */
void mqtls__diag_path_join(char *dst, size_t cap, const char *dir, const char *name);
/** The test.mosquitto.org broker, or its old CA (@p ca, may be NULL)? */
bool mqtls__diag_is_mosquitto_org(const mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca);
/** [@p intro "\n"] a new broker certificate from the CA the client trusts, in a new folder,
 *  with every name of the old one (plus the host, plus @p extra_dns if not NULL) and its key
 *  type. */
const char *mqtls__diag_fix_reissue_server(mqtls__diag_ctx_t *c, const char *intro,
                                           const char *extra_dns);
/** [@p intro "\n"] a new client key + certificate like @p old (its CN and key type; NULL:
 *  device-001, EC) from the CA the client trusts, in a new folder. */
const char *mqtls__diag_fix_reissue_client(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *old,
                                           const char *intro);
/** A new CA (the CA @p ca is unusable) and a broker certificate from it, in a new folder. */
const char *mqtls__diag_fix_new_ca(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca);
/** Renew an expired CA with its own key, under a new name. */
const char *mqtls__diag_fix_renew_ca(mqtls__diag_ctx_t *c);

/* ---- diag_nearby.c: what lies beside the user's files (mqtls_diag_input_t.nearby) */

/** Parse a private key as mbedTLS does (PEM: with its NUL counted). @return mbedTLS's code. */
int mqtls__diag_parse_key(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                          const char *password);
/** The nearby file holding the (unencrypted) private key of @p crt, or NULL. */
const char *mqtls__diag_nearby_key_for(mqtls__diag_ctx_t *c, const mbedtls_x509_crt *crt);
/** The nearby file whose first certificate (not a CA) belongs to @p key, or NULL. */
const char *mqtls__diag_nearby_cert_for_key(mqtls__diag_ctx_t *c, const mbedtls_pk_context *key);
/** What mqtls__diag_nearby_issuer() looks for. */
#define MQTLS__NEAR_ANY 0
#define MQTLS__NEAR_ROOT 1         /* a self-issued CA */
#define MQTLS__NEAR_INTERMEDIATE 2 /* a CA issued by another */
/** The nearby file holding a CA of @p kind that issued @p child (signature verified), or
 *  NULL. */
const char *mqtls__diag_nearby_issuer(mqtls__diag_ctx_t *c, const mbedtls_x509_crt *child,
                                      int kind);
/** The nearby file holding a CA that issued a certificate of @p chain (top first), or NULL. */
const char *mqtls__diag_nearby_anchor(mqtls__diag_ctx_t *c, const mqtls__certset_t *chain);
/** A nearby client certificate (issued by the CA file's CA) and its nearby key. */
bool mqtls__diag_nearby_client_pair(mqtls__diag_ctx_t *c, const char **crt, const char **key);
void mqtls__diag_nearby_free(mqtls__diag_ctx_t *c);

/* ---- the checks, in the order mqtls_diag_run() calls them */

void mqtls__diag_check_files(mqtls__diag_ctx_t *c);     /* diag_files.c */
void mqtls__diag_transport(mqtls__diag_ctx_t *c);       /* diag_transport.c */
void mqtls__diag_check_ca_file(mqtls__diag_ctx_t *c);   /* diag_files.c */
void mqtls__diag_server_chain(mqtls__diag_ctx_t *c);    /* diag_chain.c (with a chain) */
void mqtls__diag_ca_keys_offline(mqtls__diag_ctx_t *c); /* diag_files.c (without) */
void mqtls__diag_reconcile_flags(mqtls__diag_ctx_t *c); /* diag_chain.c */
void mqtls__diag_check_client(mqtls__diag_ctx_t *c);    /* diag_client.c */
void mqtls__diag_check_key(mqtls__diag_ctx_t *c);       /* diag_files.c */
void mqtls__diag_client_alerts(mqtls__diag_ctx_t *c);   /* diag_client.c */
void mqtls__diag_mqtt(mqtls__diag_ctx_t *c);            /* diag_transport.c */
void mqtls__diag_handshake_reset(mqtls__diag_ctx_t *c); /* diag_transport.c, after the rest */
/* called by mqtls__diag_server_chain() */
void mqtls__diag_check_hostname(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *leaf);

#endif /* MQTLS_DIAG_CTX_H */
