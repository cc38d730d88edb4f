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
                            c, c->prof->rsa_allowed
                                   ? "Re-issue the server certificate with an RSA-2048+ or P-256 "
                                     "key:"
                                   : "Re-issue the server certificate with an ECDSA P-256 key "
                                     "(this profile accepts no RSA; the CA must be ECDSA too):"),
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
        depth == 0 ? mqtls__diag_fix_reissue_server(
                         c, "Re-sign the server certificate with SHA-256 (-sha256):")
                   : "Re-sign the intermediate CA certificate with SHA-256: openssl x509 -req "
                     "-in inter.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1825 -sha256 "
                     "-copy_extensions copyall -out inter.crt";
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
                            c, "date -u   # if this clock is wrong, fix NTP (ESP32: wait for SNTP "
                               "sync); if it is right, re-issue the certificate:"),
                        "The %s '%s' is only valid from %s (the clock here says %s). Either it "
                        "was issued with a future start date or this clock is behind.",
                        role, ci->subject, date, now);
        return;
    }
    mqtls__diag_add(c, trusted ? MQTLS__F_CA_EXPIRED : MQTLS__F_SERVER_CERT_EXPIRED,
                    mqtls__diag_describe(c, role, ci),
                    trusted ? mqtls__diag_fix_renew_ca(c)
                            : mqtls__diag_fix_reissue_server(
                                  c, "The broker operator must renew it (then restart/reload the "
                                     "broker). Own PKI:"),
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
    char q[320];
    char hint[640];
    mqtls__diag_shq(q, sizeof q, caname);
    mqtls__setf(hint, sizeof hint,
                "Put the broker's current CA in %s (compare: openssl x509 -in %s -noout -ext "
                "subjectKeyIdentifier). Or, if %s is right and you run the broker, re-issue its "
                "certificate from it:",
                q, q, q);
    mqtls__diag_add(
        c, MQTLS__F_CA_SAME_NAME_DIFFERENT_KEY, mqtls__diag_describe(c, role, ci),
        mqtls__diag_fix_reissue_server(c, hint),
        "The %s '%s' names '%s' as its issuer. Your CA file '%s' has a CA with that "
        "name (SHA-256 %.23s..., key %s%s%s) but its key does NOT verify the "
        "signature%s%s%s: the CA was regenerated, or you have the old/new CA of the "
        "broker%s.",
        role, ci->subject, ci->issuer, caname, ca->sha256_hex, ca->key_desc,
        ski[0] ? ", key id " : "", ski, aki[0] ? " (the certificate wants key id " : "", aki,
        aki[0] ? ")" : "",
        mqtls__diag_is_mosquitto_org(c, ca) ? " (test.mosquitto.org changed its CA in 2020)" : "");
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
    if (name_only >= 0) {
        report_regenerated_ca(c, role, ci, &where->info[name_only]);
        return;
    }
    if ((ci->self_signed || ci->self_issued) && depth == 0) {
        mqtls__diag_add(c, MQTLS__F_SERVER_SELF_SIGNED, mqtls__diag_describe(c, role, ci),
                        mqtls__diag_fix_reissue_server(
                            c, "Give the broker a certificate signed by the CA in your --cafile "
                               "(pinning this one instead: openssl s_client | openssl x509 -out "
                               "server-pinned.crt):"),
                        "The server presents a self-signed certificate '%s' (fingerprint SHA-256 "
                        "%.47s...). It is not in your CA file '%s', so nothing vouches for it.",
                        ci->subject, ci->sha256_hex, caname);
        return;
    }
    if (ci->self_signed || ci->self_issued) {
        mqtls__diag_add(c, MQTLS__F_UNTRUSTED_ISSUER, mqtls__diag_describe(c, role, ci),
                        mqtls__diag_fix_reissue_server(
                            c, "Broker not yours: use its CA as --cafile. Your broker: re-issue "
                               "its certificate from your CA:"),
                        "The server's chain ends at the root CA '%s', which is not in your CA "
                        "file '%s' (that file holds %zu certificate(s)%s%s).",
                        ci->subject, caname, c->ca->count, c->ca->count > 0 ? ", first: " : "",
                        first);
        return;
    }
    /* Unknown, not self-issued issuer: an intermediate the server did not send, or a CA that
     * is simply not ours. Evidence for the first: the client's own chain holds it, the name
     * shares the Organization of a CA we trust. */
    bool sig_ok = false;
    int other = -1;
    bool inter_known = mqtls__diag_find_issuer(c->cert, child, &sig_ok, &other) >= 0;
    if (inter_known || dn_org_shared(c->ca, child)) {
        mqtls__diag_add(c, MQTLS__F_MISSING_INTERMEDIATE, mqtls__diag_describe(c, role, ci),
                        mqtls__diag_fix(c,
                                        "On the broker: cat server.crt intermediate.crt > "
                                        "server-chain.crt and set mosquitto 'certfile "
                                        "server-chain.crt'. Or (client side) append the "
                                        "intermediate to your CA file: cat intermediate.crt >> %s",
                                        caname),
                        "The %s '%s' was issued by '%s', which the server did not send and which "
                        "is not in your CA file '%s' (it holds '%s'). '%s' looks like an "
                        "intermediate CA of the same PKI%s: the broker must send it after its own "
                        "certificate.",
                        role, ci->subject, ci->issuer, caname,
                        c->ca->count > 0 ? c->ca->info[0].subject : "nothing", ci->issuer,
                        inter_known ? " (your client certificate file contains it)" : "");
        return;
    }
    mqtls__diag_add(c, MQTLS__F_UNTRUSTED_ISSUER, mqtls__diag_describe(c, role, ci),
                    mqtls__diag_fix_reissue_server(
                        c, "Broker not yours: use the CA that issued its certificate as --cafile "
                           "(openssl s_client -showcerts shows the issuer). Your broker: re-issue "
                           "its certificate from your CA:"),
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
                            c, "Sign the server certificate with a real CA (CA:TRUE, "
                               "keyCertSign), e.g. the one in your --cafile:"),
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
                        "Re-issue the CA with -addext keyUsage=critical,keyCertSign,cRLSign",
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
                mqtls__diag_fix_reissue_server(c, "Re-issue it with extendedKeyUsage=serverAuth:"),
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
    if (leaf->has_key_usage && (leaf->key_usage & MQTLS_KU_DIGITAL_SIGNATURE) == 0 &&
        (leaf->key_usage & (MQTLS_KU_KEY_ENCIPHERMENT | MQTLS_KU_KEY_AGREEMENT)) == 0) {
        mqtls__diag_add(c, MQTLS__F_SERVER_KEY_USAGE, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_server(
                            c, "Re-issue it with -addext keyUsage=critical,digitalSignature,"
                               "keyEncipherment:"),
                        "The server certificate '%s' has keyUsage without digitalSignature (and "
                        "without keyEncipherment/keyAgreement): no TLS 1.2/1.3 key exchange may "
                        "use it (mbedTLS: BADCERT_KEY_USAGE).",
                        leaf->subject);
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

/* The issuer @p pi of link @p ci (at @p depth) was found: is it a CA, is its key good? */
static void check_issuer(mqtls__diag_ctx_t *c, size_t depth, const mqtls_certinfo_t *ci,
                         const mqtls_certinfo_t *pi, bool trusted)
{
    check_issuer_is_ca(c, depth, ci, pi, trusted);
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
            break; /* the CA file problem was reported already */
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
        HAS(CA_KEY_USAGE) || c->ca->count == 0) {
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
