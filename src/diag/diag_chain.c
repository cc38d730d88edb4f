/* The chain the server presented, rebuilt link by link from the certificates: for each link
 * its validity, signature hash and key against the profile, then its issuer, found by name and
 * verified with the candidate's key, in the chain or in the CA file. The chain stops where no
 * issuer is known, and that place names the cause (wrong CA, regenerated CA, missing
 * intermediate, self-signed server). Last, every verify flag mbedTLS raised must be explained
 * by a finding (reconcile). */
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509.h>

#include "common/tls_facts.h"
#include "diag_ctx.h"

bool mqtls__diag_name_eq(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
    return a->len == b->len && a->p != NULL && b->p != NULL && memcmp(a->p, b->p, a->len) == 0;
}

static bool same_cert(const mbedtls_x509_crt *a, const mbedtls_x509_crt *b)
{
    return a->raw.len == b->raw.len && memcmp(a->raw.p, b->raw.p, a->raw.len) == 0;
}

int mqtls__diag_find_issuer(const mqtls__certset_t *set, const mbedtls_x509_crt *child,
                            bool *sig_ok, int *name_only)
{
    *sig_ok = false;
    *name_only = -1;
    for (size_t i = 0; i < set->count; i++) {
        const mbedtls_x509_crt *p = &set->crt[i];
        if (p == child || same_cert(p, child) ||
            !mqtls__diag_name_eq(&p->subject_raw, &child->issuer_raw)) {
            continue;
        }
        if (mqtls__dm_verify_signature(child, p) == 0) {
            *sig_ok = true;
            return (int)i;
        }
        if (*name_only < 0) {
            *name_only = (int)i;
        }
    }
    return -1;
}

/* Value of attribute @p oid (e.g. MBEDTLS_OID_AT_ORGANIZATION) in a parsed name. */
static const mbedtls_x509_buf *dn_attr(const mbedtls_x509_name *n, const char *oid, size_t oid_len)
{
    for (int guard = 0; n != NULL && guard < 64; n = n->next, guard++) {
        if (n->oid.len == oid_len && memcmp(n->oid.p, oid, oid_len) == 0) {
            return &n->val;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- one link */

/* @p k: mqtls__profile_key_check() of @p owner's key; @p own_key: @p owner is @p child. */
static void add_key_finding(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *child,
                            const mqtls_certinfo_t *owner, bool own_key, int k)
{
    char role[64];
    mqtls__diag_server_role(role, sizeof role, depth);
    const char *why = k == 2   ? "its curve is not in the profile's list"
                      : k == 3 ? "that key type is not allowed by the profile"
                               : "RSA keys must have at least 2048 bits";
    /* A disallowed key TYPE (e.g. RSA under Suite B) is BAD_PK; a short key or other curve
     * is BAD_KEY. */
    const char *flag = k == 3 ? "BAD_PK (\"signed with an unacceptable PK alg (eg RSA vs ECDSA)\")"
                              : "BAD_KEY (\"signed with an unacceptable key\")";
    mqtls__finding_id_t id = k == 2 ? MQTLS__F_CURVE_NOT_ALLOWED : MQTLS__F_WEAK_KEY;
    if (own_key) {
        mqtls__diag_add(c, id, mqtls__diag_describe(c, role, child),
                        mqtls__diag_fix_reissue_server(
                            c,
                            c->prof->rsa_allowed
                                ? "The server certificate needs an RSA-2048+ or P-256 key."
                                : "The server certificate needs an ECDSA P-256 key (this profile "
                                  "accepts no RSA; the CA must be ECDSA too).",
                            NULL),
                        "The %s '%s' has a %s key; the %s rejects it (%s). mbedTLS reports this "
                        "as %s.",
                        role, child->subject, child->key_desc, c->prof->who, why, flag);
    } else {
        mqtls__diag_add(
            c, id, mqtls__diag_describe(c, role, child), mqtls__diag_fix_new_ca(c, owner),
            "The %s '%s' is signed by the CA '%s', whose key is %s; the %s rejects "
            "that CA key (%s). mbedTLS flags this on the CHILD certificate as %s, "
            "which looks like a problem with the server certificate but is the "
            "CA's.%s",
            role, child->subject, owner->subject, owner->key_desc, c->prof->who, why, flag,
            mqtls__diag_is_mosquitto_org(c, owner)
                ? " (This was test.mosquitto.org's CA until 2020-06-09: RSA-1024, "
                  "SHA-1.)"
                : "");
    }
}

static void check_sig_hash(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci)
{
    if (mqtls__profile_hash_ok(c->prof, ci->sig_hash)) {
        return;
    }
    char role[64];
    mqtls__diag_server_role(role, sizeof role, depth);
    const char *fix =
        depth == 0
            ? mqtls__diag_fix_reissue_server(
                  c, "The server certificate must be signed with SHA-256 (mqtls pki does).", NULL)
            : "The intermediate CA certificate must be re-signed with SHA-256 by the CA "
              "above it (its operator: openssl x509 -req ... -sha256 -copy_extensions "
              "copyall, written to a new file).";
    mqtls__diag_add(c, MQTLS__F_WEAK_SIGNATURE_HASH, mqtls__diag_describe(c, role, ci), fix,
                    "The %s '%s' is signed with %s by '%s'; the %s does not accept %s signatures. "
                    "mbedTLS reports BAD_MD (\"signed with an unacceptable hash\").",
                    role, ci->subject, mqtls_hash_name(ci->sig_hash), ci->issuer, c->prof->who,
                    mqtls_hash_name(ci->sig_hash));
}

static void check_validity(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci,
                           bool trusted)
{
    if (c->clock_bad) {
        return;
    }
    bool expired = ci->not_after_s < c->now;
    bool future = ci->not_before_s > c->now;
    if (!expired && !future) {
        return;
    }
    if (trusted && (!expired || mqtls__findings_has(c->out, MQTLS__F_CA_EXPIRED))) {
        return;
    }
    char role[64];
    char date[16];
    char now[16];
    if (trusted) {
        mqtls__setf(role, sizeof role, "trusted CA (depth %zu)", depth);
    } else {
        mqtls__diag_server_role(role, sizeof role, depth);
    }
    mqtls__diag_fmt_date(date, sizeof date, expired ? ci->not_after_s : ci->not_before_s);
    mqtls__diag_fmt_date(now, sizeof now, c->now);
    if (!expired) {
        mqtls__diag_add(c, MQTLS__F_SERVER_CERT_NOT_YET_VALID, mqtls__diag_describe(c, role, ci),
                        mqtls__diag_fix_reissue_server(
                            c,
                            "Check this clock first (date -u); if it is wrong, fix NTP (ESP32: "
                            "wait for the SNTP sync). If it is right, the certificate starts in "
                            "the future.",
                            NULL),
                        "The %s '%s' is only valid from %s (the clock here says %s). Either it "
                        "was issued with a future start date or this clock is behind.",
                        role, ci->subject, date, now);
        return;
    }
    mqtls__diag_add(
        c, trusted ? MQTLS__F_CA_EXPIRED : MQTLS__F_SERVER_CERT_EXPIRED,
        mqtls__diag_describe(c, role, ci),
        trusted ? mqtls__diag_fix_renew_ca(c)
                : mqtls__diag_fix_reissue_server(
                      c, "The broker's operator must renew it and restart the broker.", NULL),
        "The %s '%s' expired on %s (today is %s).", role, ci->subject, date, now);
}

static bool dn_org_shared(const mqtls__certset_t *set, const mbedtls_x509_crt *child)
{
    static const char oid_o[] = MBEDTLS_OID_AT_ORGANIZATION;
    const mbedtls_x509_buf *o = dn_attr(&child->issuer, oid_o, sizeof oid_o - 1);
    if (o == NULL) {
        return false;
    }
    for (size_t i = 0; i < set->count; i++) {
        const mbedtls_x509_buf *p = dn_attr(&set->crt[i].subject, oid_o, sizeof oid_o - 1);
        if (p != NULL && p->len == o->len && memcmp(p->p, o->p, o->len) == 0) {
            return true;
        }
    }
    return false;
}

/* Lower-case words of a CN ("mqtls Test Root CA" -> "mqtls", "test", "root", "ca"). */
static size_t cn_words(const mbedtls_x509_name *n, char words[][32], size_t cap)
{
    static const char oid_cn[] = MBEDTLS_OID_AT_CN;
    const mbedtls_x509_buf *v = dn_attr(n, oid_cn, sizeof oid_cn - 1);
    size_t count = 0;
    size_t len = 0;
    for (size_t i = 0; v != NULL && i <= v->len && count < cap; i++) {
        char ch = i < v->len ? (char)v->p[i] : ' ';
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (alnum && len + 1 < sizeof words[0]) {
            words[count][len++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        } else if (!alnum && len > 0) {
            words[count++][len] = '\0';
            len = 0;
        }
    }
    return count;
}

static bool word_in(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(w, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The same attributes besides CN (O, OU, C, ...; CN-only names, as `mqtls pki` makes them,
 * have none), in the same order. */
static bool same_but_cn(const mbedtls_x509_name *a, const mbedtls_x509_name *b)
{
    static const char oid_cn[] = MBEDTLS_OID_AT_CN;
    for (int guard = 0; guard < 64; guard++) {
        while (a != NULL && (a->oid.len == sizeof oid_cn - 1 &&
                             memcmp(a->oid.p, oid_cn, sizeof oid_cn - 1) == 0)) {
            a = a->next;
        }
        while (b != NULL && (b->oid.len == sizeof oid_cn - 1 &&
                             memcmp(b->oid.p, oid_cn, sizeof oid_cn - 1) == 0)) {
            b = b->next;
        }
        if (a == NULL || b == NULL) {
            return a == b;
        }
        if (!mqtls__diag_name_eq(&a->oid, &b->oid) || !mqtls__diag_name_eq(&a->val, &b->val)) {
            return false;
        }
        a = a->next;
        b = b->next;
    }
    return false;
}

bool mqtls__diag_issuer_looks_intermediate(const mqtls__certset_t *set,
                                           const mbedtls_x509_crt *child)
{
    if (dn_org_shared(set, child)) {
        return true;
    }
    static const char *const inter[] = {"intermediate", "issuing", "sub",  "subordinate",
                                        "ica",          "signing", "subca"};
    static const char *const common[] = {
        "ca",        "root",   "intermediate", "issuing",       "sub", "subca",  "subordinate",
        "authority", "cert",   "certificate",  "certification", "the", "of",     "and",
        "server",    "client", "tls",          "ssl",           "ica", "signing"};
    char iw[12][32];
    size_t ni = cn_words(&child->issuer, iw, 12);
    for (size_t k = 0; k < set->count; k++) {
        if (!set->info[k].is_ca || !same_but_cn(&child->issuer, &set->crt[k].subject)) {
            continue;
        }
        char cw[12][32];
        size_t nc = cn_words(&set->crt[k].subject, cw, 12);
        for (size_t i = 0; i < ni; i++) {
            if (word_in(iw[i], inter, sizeof inter / sizeof inter[0])) {
                return true;
            }
            bool distinctive = strlen(iw[i]) > 2 && strspn(iw[i], "0123456789") != strlen(iw[i]) &&
                               !word_in(iw[i], common, sizeof common / sizeof common[0]);
            for (size_t j = 0; distinctive && j < nc; j++) {
                if (strcmp(iw[i], cw[j]) == 0) {
                    return true;
                }
            }
        }
    }
    return false;
}

/* "--cafile NEAR" when a CA lying beside the user's files issued the server's chain. */
static const char *nearby_ca_hint(mqtls__diag_ctx_t *c, char *dst, size_t cap)
{
    const char *near = mqtls__diag_nearby_anchor(c, c->server);
    dst[0] = '\0';
    if (near != NULL) {
        char q[640];
        mqtls__diag_shq(q, sizeof q, near);
        mqtls__setf(dst, cap, "The CA that issued it lies beside your files: --cafile %s", q);
    }
    return near != NULL ? dst : NULL;
}

/* Same name, different key: the CA was regenerated (old vs new mosquitto.org CA). */
static void report_regenerated_ca(mqtls__diag_ctx_t *c, const char *role,
                                  const mqtls_certinfo_t *ci, const mqtls_certinfo_t *ca)
{
    const char *caname = mqtls__diag_file_name(&c->in->ca, "CA file");
    char ski[100] = "";
    char aki[100] = "";
    for (size_t i = 0; i < ca->ski_len && i < 8; i++) {
        mqtls__appendf(ski, sizeof ski, "%02X", ca->ski[i]);
    }
    for (size_t i = 0; i < ci->aki_len && i < 8; i++) {
        mqtls__appendf(aki, sizeof aki, "%02X", ci->aki[i]);
    }
    char q[640];
    char hint[900];
    mqtls__diag_shq(q, sizeof q, caname);
    const char *near = nearby_ca_hint(c, hint, sizeof hint);
    if (near == NULL) {
        mqtls__setf(hint, sizeof hint,
                    "Broker not yours: get its current CA as a file of its own and give it as "
                    "--cafile (its key id must match: openssl x509 -in FILE -noout -ext "
                    "subjectKeyIdentifier). If %s is the right CA and the broker is yours:",
                    q);
    }
    mqtls__diag_add(
        c, MQTLS__F_CA_SAME_NAME_DIFFERENT_KEY, mqtls__diag_describe(c, role, ci),
        near != NULL ? mqtls__diag_fix(c, "%s", hint)
                     : mqtls__diag_fix_reissue_server(c, hint, NULL),
        "The %s '%s' names '%s' as its issuer. Your CA file '%s' has a CA with that "
        "name (SHA-256 %.23s..., key %s%s%s) but its key does NOT verify the "
        "signature%s%s%s: the CA was regenerated, or you have the old/new CA of the "
        "broker%s.",
        role, ci->subject, ci->issuer, caname, ca->sha256_hex, ca->key_desc,
        ski[0] ? ", key id " : "", ski, aki[0] ? " (the certificate wants key id " : "", aki,
        aki[0] ? ")" : "",
        mqtls__diag_is_mosquitto_org(c, ca) ? " (test.mosquitto.org changed its CA in 2020)" : "");
}

/* No --cafile: the system bundle was used, and it does not know the broker's CA. Never offer to
 * write into the system's folder; name the CA to give. */
static void report_no_cafile(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci)
{
    char role[64];
    char hint[900];
    mqtls__diag_server_role(role, sizeof role, depth);
    const char *root = ci->self_issued ? ci->subject : ci->issuer;
    const char *near = nearby_ca_hint(c, hint, sizeof hint);
    mqtls__diag_add(c, MQTLS__F_UNTRUSTED_ISSUER, mqtls__diag_describe(c, role, ci),
                    near != NULL ? mqtls__diag_fix(c, "%s", hint)
                                 : mqtls__diag_fix(c,
                                                   "Give the CA that issued the broker's "
                                                   "certificate: --cafile FILE, where FILE holds "
                                                   "'%s' (from the broker's operator; own PKI: "
                                                   "your ca.crt).",
                                                   root),
                    c->ca->count > 0
                        ? "You gave no --cafile, so the server was checked against the system's "
                          "CA bundle '%s' (%zu public CAs), which does not hold '%s': a private "
                          "broker's CA never is there."
                        : "You gave no --cafile%s (%zu CA certificates), so nothing vouches for "
                          "the server's certificate: its CA '%s' must be given.",
                    c->ca->count > 0 ? mqtls__diag_file_name(&c->in->ca, "system bundle") : "",
                    c->ca->count, root);
}

/* A new CA bundle beside the CA file: the CA file + @p inter (both quoted). */
typedef struct pki_bundle {
    char ca[640];
    char inter[640];
    char out[640];
} pki_bundle_t;

static bool bundle_paths(const mqtls__diag_ctx_t *c, const char *inter, pki_bundle_t *b)
{
    const char *ca = c->in->ca.display_name;
    if (ca == NULL || c->in->ca_is_default || c->in->ca.from_buffer_api ||
        mqtls__diag_is_system_path(ca)) {
        return false;
    }
    char dir[400];
    char out[500];
    mqtls__diag_dirname(dir, sizeof dir, ca);
    mqtls__diag_path_join(out, sizeof out, dir, "ca-bundle.crt");
    mqtls__diag_shq(b->ca, sizeof b->ca, ca);
    mqtls__diag_shq(b->inter, sizeof b->inter, inter);
    mqtls__diag_shq(b->out, sizeof b->out, out);
    return true;
}

/* The chain stops at @p child (depth): nobody we know issued it. @p name_only: a CA of
 * @p where with the issuer's name whose key does not verify, or -1. */
static void report_no_issuer(mqtls__diag_ctx_t *c, size_t depth, const mbedtls_x509_crt *child,
                             const mqtls_certinfo_t *ci, int name_only,
                             const mqtls__certset_t *where)
{
    char role[64];
    mqtls__diag_server_role(role, sizeof role, depth);
    const char *caname = mqtls__diag_file_name(&c->in->ca, "CA file");
    const char *first = c->ca->count > 0 ? c->ca->info[0].subject : "";
    char hint[900];
    if (name_only >= 0 && !c->in->ca_is_default) {
        report_regenerated_ca(c, role, ci, &where->info[name_only]);
        return;
    }
    if ((ci->self_signed || ci->self_issued) && depth == 0) {
        mqtls__diag_add(
            c, MQTLS__F_SERVER_SELF_SIGNED, mqtls__diag_describe(c, role, ci),
            mqtls__diag_fix_reissue_server(
                c, "The broker needs a certificate signed by the CA in your --cafile.", NULL),
            "The server presents a self-signed certificate '%s' (fingerprint SHA-256 "
            "%.47s...). It is not in your CA file '%s', so nothing vouches for it.",
            ci->subject, ci->sha256_hex, caname);
        return;
    }
    if (c->in->ca_is_default) {
        report_no_cafile(c, depth, ci);
        return;
    }
    const char *near = nearby_ca_hint(c, hint, sizeof hint);
    if (ci->self_signed || ci->self_issued) {
        mqtls__diag_add(c, MQTLS__F_UNTRUSTED_ISSUER, mqtls__diag_describe(c, role, ci),
                        near != NULL ? mqtls__diag_fix(c, "%s", hint)
                                     : mqtls__diag_fix_reissue_server(
                                           c,
                                           "Broker not yours: give its CA as --cafile (a file of "
                                           "its own).",
                                           NULL),
                        "The server's chain ends at the root CA '%s', which is not in your CA "
                        "file '%s' (that file holds %zu certificate(s)%s%s).",
                        ci->subject, caname, c->ca->count, c->ca->count > 0 ? ", first: " : "",
                        first);
        return;
    }
    /* Unknown, not self-issued issuer: an intermediate the server did not send, or a CA that
     * is simply not ours. Evidence for the first: the client's own chain or a file beside it
     * holds it; its name looks like an intermediate of the CA we trust. */
    bool sig_ok = false;
    int other = -1;
    bool inter_known = mqtls__diag_find_issuer(c->cert, child, &sig_ok, &other) >= 0;
    const char *inter_near = mqtls__diag_nearby_issuer(c, child, MQTLS__NEAR_INTERMEDIATE);
    if (inter_known || inter_near != NULL || mqtls__diag_issuer_looks_intermediate(c->ca, child)) {
        const char *broker_side =
            "The broker must send the intermediate after its own certificate: its certfile "
            "must hold both (cat server.crt intermediate.crt > server-chain.crt, as a new "
            "file; mosquitto certfile server-chain.crt; restart it). Then every client works.";
        const char *fix = broker_side;
        pki_bundle_t b;
        if (inter_near != NULL && bundle_paths(c, inter_near, &b)) {
            fix = mqtls__diag_fix(c,
                                  "%s\nUntil then, on this side: a CA file with the "
                                  "intermediate too, under a new name:\n$ test ! -e %s && cat %s "
                                  "%s > %s\nthen: --cafile %s",
                                  broker_side, b.out, b.ca, b.inter, b.out, b.out);
        }
        mqtls__diag_add(c, MQTLS__F_MISSING_INTERMEDIATE, mqtls__diag_describe(c, role, ci), fix,
                        "The %s '%s' was issued by '%s', which the server did not send and which "
                        "is not in your CA file '%s' (it holds '%s'). '%s' looks like an "
                        "intermediate CA of the same PKI%s: the broker must send it after its own "
                        "certificate.",
                        role, ci->subject, ci->issuer, caname,
                        c->ca->count > 0 ? c->ca->info[0].subject : "nothing", ci->issuer,
                        inter_known          ? " (your client certificate file contains it)"
                        : inter_near != NULL ? " (a file beside yours holds it)"
                                             : "");
        return;
    }
    mqtls__diag_add(c, MQTLS__F_UNTRUSTED_ISSUER, mqtls__diag_describe(c, role, ci),
                    near != NULL ? mqtls__diag_fix(c, "%s", hint)
                                 : mqtls__diag_fix_reissue_server(
                                       c,
                                       "Broker not yours: give the CA that issued its certificate "
                                       "as --cafile.",
                                       NULL),
                    "The %s '%s' was issued by '%s', which is not in your CA file '%s' (it holds "
                    "%zu certificate(s)%s%s). You have the wrong CA file for this broker (or the "
                    "broker did not send an intermediate CA).",
                    role, ci->subject, ci->issuer, caname, c->ca->count,
                    c->ca->count > 0 ? ", first: " : "", first);
}

static void check_issuer_is_ca(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *child,
                               const mqtls_certinfo_t *parent, bool parent_trusted)
{
    /* mbedTLS x509_crt_check_parent: the parent needs CA:TRUE (a v1/v2 trusted root is
     * excused) and, if keyUsage is present, keyCertSign. */
    bool ca_ok = parent->is_ca || (parent_trusted && parent->version < 3);
    char role[64];
    mqtls__diag_server_role(role, sizeof role, depth);
    if (!ca_ok) {
        mqtls__diag_add(c, MQTLS__F_ISSUER_NOT_CA, mqtls__diag_describe(c, role, child),
                        mqtls__diag_fix_reissue_server(
                            c,
                            "The server certificate must be signed by a real CA (CA:TRUE, "
                            "keyCertSign), e.g. the one in your --cafile.",
                            NULL),
                        "The %s '%s' is signed by '%s', but that certificate is not a CA (%s). "
                        "Only CA certificates may sign others, so the chain is rejected "
                        "(NOT_TRUSTED).",
                        role, child->subject, parent->subject,
                        parent->has_basic_constraints ? "basicConstraints CA:FALSE"
                                                      : "no basicConstraints extension");
        return;
    }
    if (parent->has_key_usage && (parent->key_usage & MQTLS_KU_KEY_CERT_SIGN) == 0) {
        mqtls__diag_add(c, MQTLS__F_CA_KEY_USAGE, mqtls__diag_describe(c, role, child),
                        "The CA must be re-issued with keyUsage keyCertSign, cRLSign (mqtls pki "
                        "init makes such CAs), and the certificates below it from the new CA.",
                        "The CA '%s' that signed '%s' has a keyUsage extension without "
                        "keyCertSign, so it may not sign certificates.",
                        parent->subject, child->subject);
    }
}

static void check_server_usage(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *leaf)
{
    const char *role = "server certificate (depth 0)";
    if (leaf->has_ext_key_usage &&
        (leaf->ext_key_usage & (MQTLS_EKU_SERVER_AUTH | MQTLS_EKU_ANY)) == 0) {
        if (mqtls__diag_add(
                c, MQTLS__F_SERVER_EKU_MISSING, mqtls__diag_describe(c, role, leaf),
                mqtls__diag_fix_reissue_server(
                    c, "It must be issued with extendedKeyUsage serverAuth (mqtls pki does).",
                    NULL),
                "The server certificate '%s' has an extendedKeyUsage extension "
                "without serverAuth (%s), so TLS clients must reject it (mbedTLS: "
                "BADCERT_EXT_KEY_USAGE, -0x2700).",
                leaf->subject,
                (leaf->ext_key_usage & MQTLS_EKU_CLIENT_AUTH) != 0
                    ? "it is a CLIENT certificate: clientAuth only"
                    : "other purposes only") == NULL) {
            return;
        }
    }
    /* mqtls offers forward-secret suites only (ECDHE, TLS 1.3): the server signs its key
     * exchange, so its keyUsage must allow digitalSignature (keyEncipherment is for the RSA
     * key exchange mqtls never offers). */
    if (leaf->has_key_usage && (leaf->key_usage & MQTLS_KU_DIGITAL_SIGNATURE) == 0) {
        mqtls__diag_add(
            c, MQTLS__F_SERVER_KEY_USAGE, mqtls__diag_describe(c, role, leaf),
            mqtls__diag_fix_reissue_server(
                c, "It must be issued with keyUsage digitalSignature (mqtls pki does).", NULL),
            "The server certificate '%s' has keyUsage without digitalSignature%s: "
            "the forward-secret (ECDHE, TLS 1.3) key exchanges mqtls and devices use "
            "need the server to sign (mbedTLS: BADCERT_KEY_USAGE, or no suite "
            "usable).",
            leaf->subject,
            (leaf->key_usage & MQTLS_KU_KEY_ENCIPHERMENT) != 0
                ? " (keyEncipherment only: good for the old RSA key exchange alone)"
                : "");
    }
}

/* A SHA-1 self-signature on a trusted root is never checked; say so, because users chase it
 * when the real problem (e.g. the root's RSA-1024 key) is elsewhere. */
static void anchor_sha1_note(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *root)
{
    if (!root->self_signed || mqtls__profile_hash_ok(c->prof, root->sig_hash) ||
        mqtls__findings_has(c->out, MQTLS__F_CA_WEAK_SIGNATURE_INFO)) {
        return;
    }
    mqtls__diag_add(c, MQTLS__F_CA_WEAK_SIGNATURE_INFO, mqtls__diag_describe(c, "trusted CA", root),
                    "Nothing to do for this point.",
                    "The root '%s' signs itself with %s. That alone is harmless: a root is "
                    "trusted because it is in your CA file, its self-signature is never checked.",
                    root->subject, mqtls_hash_name(root->sig_hash));
}

/* RFC 5280 4.2.1.9: a CA with pathLenConstraint N may have at most N intermediate CAs below
 * it; @p depth of its child = the intermediates below it (the leaf is depth 0). mbedTLS flags
 * NOT_TRUSTED, OpenSSL "path length constraint exceeded". */
static void check_pathlen(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci,
                          const mqtls_certinfo_t *pi)
{
    if (pi->max_pathlen < 0 || depth <= (size_t)pi->max_pathlen ||
        mqtls__findings_has(c->out, MQTLS__F_PATH_LENGTH_EXCEEDED)) {
        return;
    }
    char role[64];
    mqtls__diag_server_role(role, sizeof role, depth);
    mqtls__diag_add(c, MQTLS__F_PATH_LENGTH_EXCEEDED, mqtls__diag_describe(c, role, ci),
                    mqtls__diag_fix_reissue_server(
                        c,
                        "The broker needs a certificate from a CA that may have it below it "
                        "(or the CA re-issued with a larger pathlen).",
                        NULL),
                    "The CA '%s' has pathLenConstraint %d: at most %d intermediate CA(s) may "
                    "follow it, but the chain has %zu below it ('%s' among them). mbedTLS "
                    "rejects it (NOT_TRUSTED), OpenSSL: 'path length constraint exceeded'.",
                    pi->subject, pi->max_pathlen, pi->max_pathlen, depth, ci->subject);
}

/* The issuer @p pi of link @p ci (at @p depth) was found: is it a CA, is its key good? */
static void check_issuer(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci,
                         const mqtls_certinfo_t *pi, bool trusted)
{
    check_issuer_is_ca(c, depth, ci, pi, trusted);
    check_pathlen(c, depth, ci, pi);
    int pk = mqtls__profile_key_check(c->prof, pi->key_type, pi->key_bits, pi->curve);
    if (pk != 0) {
        add_key_finding(c, depth, ci, pi, false, pk);
    }
}

void mqtls__diag_server_chain(mqtls__diag_ctx_t *c)
{
    mqtls__certset_t *s = c->server;
    if (s->count == 0) {
        return;
    }
    const mqtls_certinfo_t *leaf = &s->info[0];
    /* Leaf's own key (mbedTLS checks it up front: ee_flags BAD_KEY / BAD_PK). */
    int k = mqtls__profile_key_check(c->prof, leaf->key_type, leaf->key_bits, leaf->curve);
    const mbedtls_x509_crt *child = &s->crt[0];
    const mqtls_certinfo_t *ci = leaf;
    size_t depth = 0;
    bool child_trusted = false;
    for (size_t i = 0; i < c->ca->count; i++) {
        if (same_cert(&c->ca->crt[i], child) && leaf->self_issued) {
            child_trusted = true; /* pinned self-signed server certificate */
        }
    }
    for (int guard = 0; !child_trusted && guard < (int)MQTLS__MAX_CHAIN_DEPTH; guard++) {
        check_validity(c, depth, ci, false);
        check_sig_hash(c, depth, ci);
        if (depth == 0 && k != 0) {
            add_key_finding(c, 0, leaf, leaf, true, k);
        }
        bool sig_ok = false;
        int name_only = -1;
        int idx = c->ca_usable ? mqtls__diag_find_issuer(c->ca, child, &sig_ok, &name_only) : -1;
        if (idx >= 0) {
            const mqtls_certinfo_t *pi = &c->ca->info[idx];
            check_issuer(c, depth, ci, pi, true);
            check_validity(c, depth + 1, pi, true);
            anchor_sha1_note(c, pi);
            break;
        }
        int name_only_chain = -1;
        bool chain_sig_ok = false;
        int cidx = mqtls__diag_find_issuer(s, child, &chain_sig_ok, &name_only_chain);
        if (cidx >= 0) {
            check_issuer(c, depth, ci, &s->info[cidx], false);
            child = &s->crt[cidx];
            ci = &s->info[cidx];
            depth++;
            continue;
        }
        if (!c->ca_usable || mqtls__findings_has(c->out, MQTLS__F_CA_FILE_HOLDS_LEAF)) {
            if (c->in->ca.data == NULL && c->in->ca.display_name == NULL && !c->in->insecure &&
                !c->in->no_verification_option) {
                report_no_cafile(c, depth, ci); /* no CA at all */
            }
            break; /* otherwise the CA file problem was reported already */
        }
        report_no_issuer(c, depth, child, ci, name_only, c->ca);
        break;
    }
    if (child_trusted) {
        check_validity(c, 0, leaf, false);
    }
    mqtls__diag_check_hostname(c, leaf);
    check_server_usage(c, leaf);
}

/* ---------------------------------------------------------------- reconcile */

/* Every verify flag mbedTLS raised must be explained by a finding; otherwise say so. */
void mqtls__diag_reconcile_flags(mqtls__diag_ctx_t *c)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    uint32_t flags = f != NULL ? f->verify_flags : 0;
    if (f != NULL) {
        for (size_t i = 0; i < f->chain_len && i < MQTLS__MAX_CHAIN_DEPTH; i++) {
            flags |= f->chain[i].flags;
        }
    }
    if (c->in->err != NULL) {
        flags |= c->in->err->verify_flags;
    }
    if (flags == 0) {
        return;
    }
    const mqtls_findings_t *o = c->out;
    uint32_t explained = 0;
#define HAS(x) mqtls__findings_has(o, MQTLS__F_##x)
    if (HAS(SERVER_CERT_EXPIRED) || HAS(CA_EXPIRED) || HAS(CLOCK_NOT_SET)) {
        explained |= MBEDTLS_X509_BADCERT_EXPIRED;
    }
    if (HAS(SERVER_CERT_NOT_YET_VALID) || HAS(CLOCK_NOT_SET)) {
        explained |= MBEDTLS_X509_BADCERT_FUTURE;
    }
    if (HAS(HOSTNAME_MISMATCH) || (c->in->facts != NULL && c->in->facts->ip_san_matched_by_us)) {
        explained |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    if (HAS(UNTRUSTED_ISSUER) || HAS(CA_SAME_NAME_DIFFERENT_KEY) || HAS(MISSING_INTERMEDIATE) ||
        HAS(SERVER_SELF_SIGNED) || HAS(CA_FILE_HOLDS_LEAF) || HAS(ISSUER_NOT_CA) ||
        HAS(CA_KEY_USAGE) || HAS(PATH_LENGTH_EXCEEDED) || c->ca->count == 0) {
        explained |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
    }
    if (HAS(WEAK_SIGNATURE_HASH)) {
        explained |= MBEDTLS_X509_BADCERT_BAD_MD;
    }
    if (HAS(WEAK_KEY) || HAS(CURVE_NOT_ALLOWED) || HAS(KEY_TYPE_UNSUPPORTED)) {
        explained |= MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_BAD_PK;
    }
    if (HAS(SERVER_EKU_MISSING)) {
        explained |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    }
    if (HAS(SERVER_KEY_USAGE)) {
        explained |= MBEDTLS_X509_BADCERT_KEY_USAGE;
    }
#undef HAS
    /* Only meaningful without a verified connection (SKIP_VERIFY: --insecure). */
    uint32_t left = flags & ~explained & ~(uint32_t)MBEDTLS_X509_BADCERT_SKIP_VERIFY;
    if (left == 0) {
        return;
    }
    /* mbedTLS's own words, one line per flag, joined with ';'. */
    char info[400];
    if (mbedtls_x509_crt_verify_info(info, sizeof info, "", left) < 0) {
        info[0] = '\0';
    }
    for (char *p = info; *p != '\0'; p++) {
        if (*p == '\n') {
            *p = ';';
        }
    }
    mqtls__diag_add(c, MQTLS__F_VERIFY_FAILED,
                    mqtls__diag_subject(c, "server chain, verify flags 0x%05X", (unsigned)left),
                    mqtls__diag_fix(c,
                                    "openssl s_client -connect %s:%u -showcerts -CAfile %s "
                                    "</dev/null   # compare the chain with your CA file",
                                    c->in->host != NULL ? c->in->host : "HOST",
                                    (unsigned)c->in->port,
                                    mqtls__diag_file_name(&c->in->ca, "ca.crt")),
                    "mbedTLS rejected the server's chain for a reason mqtls could not pin to one "
                    "certificate: %s",
                    info);
}
