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
    /* Texts of the finding being added: written by the subject / fix writers, copied by
     * mqtls__diag_add() (sizes are those of mqtls_finding_t's fields). */
    char subject[384];
    char fix[640];
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

/* ---- diag_fixes.c: every fix text names the user's files; each writer returns c->fix */

/** @p s quoted for a POSIX shell only when it needs it. */
void mqtls__diag_shq(char *dst, size_t cap, const char *s);
/** `mqtls pki server ...` for the host connected to (@p cmd), and where the files land as a
 *  shell comment (@p note). */
void mqtls__diag_server_cmd(const mqtls__diag_ctx_t *c, char *cmd, size_t cmd_cap, char *note,
                            size_t note_cap);
/** The test.mosquitto.org broker, or its old CA (@p ca, may be NULL)? */
bool mqtls__diag_is_mosquitto_org(const mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca);
/** [@p extra "\n"] re-issue the broker's certificate from the CA the client trusts. */
const char *mqtls__diag_fix_reissue_server(mqtls__diag_ctx_t *c, const char *extra);
/** [@p extra "\n"] a new client key + certificate named after @p cn (NULL: device-001). */
const char *mqtls__diag_fix_reissue_client(mqtls__diag_ctx_t *c, const char *cn, const char *extra);
/** A new CA (the CA @p ca is unusable), then a new broker certificate from it. */
const char *mqtls__diag_fix_new_ca(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca);
/** Renew an expired CA with its own key. */
const char *mqtls__diag_fix_renew_ca(mqtls__diag_ctx_t *c);

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
/* called by mqtls__diag_server_chain() */
void mqtls__diag_check_hostname(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *leaf);

#endif /* MQTLS_DIAG_CTX_H */
