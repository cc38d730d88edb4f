/* The client's side of mutual TLS: its certificate (order, validity, purpose, key and hash as
 * an OpenSSL broker at security level 2 judges them, the key pair, the chain it sends), then
 * what the broker's alerts say about it (no certificate sent, its CA not accepted, rejected). */
#include <string.h>

#include <mbedtls/x509.h>

#include "common/tls_alert.h"
#include "common/tls_facts.h"
#include "diag_ctx.h"

/* ---------------------------------------------------------------- the certificate file */

/* mbedTLS sends the first certificate as ours: a CA first is the wrong order. */
static void check_order(mqtls__diag_ctx_t *c, const char *cname)
{
    const mqtls_certinfo_t *leaf = &c->cert->info[0];
    for (size_t i = 1; leaf->is_ca && i < c->cert->count; i++) {
        const mqtls_certinfo_t *ci = &c->cert->info[i];
        if (ci->is_ca) {
            continue;
        }
        if (mqtls__diag_add(c, MQTLS__F_CHAIN_ORDER, mqtls__diag_subject(c, "--cert %s", cname),
                            mqtls__diag_fix(c,
                                            "openssl x509 -in '%s' > leaf.crt is not enough here: "
                                            "reorder by hand so that '%s' is first: cat "
                                            "device.crt intermediate.crt > client-chain.crt",
                                            cname, ci->subject),
                            "'%s' starts with the CA certificate '%s'; the client's own "
                            "certificate '%s' must come first, then its intermediates.",
                            cname, leaf->subject, ci->subject) != NULL) {
            break;
        }
    }
}

/* Validity, purpose, and the key and hash an OpenSSL broker checks. */
static void check_leaf(mqtls__diag_ctx_t *c, const char *role)
{
    const mqtls_certinfo_t *leaf = &c->cert->info[0];
    if (!c->clock_bad && leaf->not_after_s < c->now) {
        char d[16];
        mqtls__diag_fmt_date(d, sizeof d, leaf->not_after_s);
        mqtls__diag_add(c, MQTLS__F_CLIENT_CERT_EXPIRED, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(c, leaf, "Renew it from the same CA."),
                        "Your client certificate '%s' expired on %s. The broker will reject it "
                        "(OpenSSL: 'certificate has expired', alert certificate_expired).",
                        leaf->subject, d);
    }
    if (!c->clock_bad && leaf->not_before_s > c->now) {
        char d[16];
        mqtls__diag_fmt_date(d, sizeof d, leaf->not_before_s);
        mqtls__diag_add(c, MQTLS__F_CLIENT_CERT_NOT_YET_VALID, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(
                            c, leaf,
                            "Check both clocks first (date -u); if they are right, it starts in "
                            "the future: re-issue it."),
                        "Your client certificate '%s' is only valid from %s. The broker will "
                        "reject it until then (or its clock or this one is wrong).",
                        leaf->subject, d);
    }
    if (leaf->has_ext_key_usage &&
        (leaf->ext_key_usage & (MQTLS_EKU_CLIENT_AUTH | MQTLS_EKU_ANY)) == 0) {
        mqtls__diag_add(c, MQTLS__F_CLIENT_EKU_MISSING, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(
                            c, leaf, "It must have extendedKeyUsage clientAuth (mqtls pki does)."),
                        "Your client certificate '%s' has extendedKeyUsage without clientAuth%s. "
                        "Brokers (OpenSSL) reject it: 'unsupported certificate purpose'.",
                        leaf->subject,
                        (leaf->ext_key_usage & MQTLS_EKU_SERVER_AUTH) != 0
                            ? " (serverAuth only: it is a SERVER certificate)"
                            : "");
    }
    if (leaf->has_key_usage && (leaf->key_usage & MQTLS_KU_DIGITAL_SIGNATURE) == 0) {
        mqtls__diag_add(c, MQTLS__F_CLIENT_KEY_USAGE, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(
                            c, leaf, "It must have keyUsage digitalSignature (mqtls pki does)."),
                        "Your client certificate '%s' has keyUsage without digitalSignature; a "
                        "client signs the handshake (CertificateVerify) with it.",
                        leaf->subject);
    }
    /* The broker (OpenSSL, security level 2 on Debian/Ubuntu) checks our key and hash. */
    const mqtls__profile_t *ossl = mqtls__profile_get(MQTLS_PROFILE_OPENSSL_SECLEVEL2);
    if (mqtls__profile_key_check(ossl, leaf->key_type, leaf->key_bits, leaf->curve) != 0 &&
        leaf->key_type != MQTLS_KEY_NONE) {
        mqtls__diag_add(c, MQTLS__F_WEAK_CLIENT_KEY, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(c, leaf, "It needs a new, stronger key."),
                        "Your client certificate '%s' has a %s key. Brokers built on OpenSSL "
                        "with security level 2 (Debian/Ubuntu default: mosquitto) reject keys "
                        "below RSA-2048 / 224-bit EC ('ee key too small').",
                        leaf->subject, leaf->key_desc);
    }
    if (!leaf->self_signed && !mqtls__profile_hash_ok(ossl, leaf->sig_hash)) {
        mqtls__diag_add(c, MQTLS__F_CLIENT_SIGNATURE_HASH, mqtls__diag_describe(c, role, leaf),
                        mqtls__diag_fix_reissue_client(
                            c, leaf, "It must be signed with SHA-256 (mqtls pki does)."),
                        "Your client certificate '%s' is signed with %s; OpenSSL brokers at "
                        "security level 2 reject it ('ca md too weak').",
                        leaf->subject, mqtls_hash_name(leaf->sig_hash));
    }
}

/* The private key must belong to the first certificate of the file. */
static void check_key_pair(mqtls__diag_ctx_t *c, const char *role, const char *cname)
{
    const mqtls_certinfo_t *leaf = &c->cert->info[0];
    if (!c->key_usable || mqtls__dm_pk_check_pair(&c->cert->crt[0].pk, &c->key) == 0) {
        return;
    }
    const char *kname = mqtls__diag_file_name(&c->in->key, "key");
    /* Does the key belong to another certificate in the file? */
    int other = -1;
    for (size_t i = 1; i < c->cert->count && other < 0; i++) {
        if (mqtls__dm_pk_check_pair(&c->cert->crt[i].pk, &c->key) == 0) {
            other = (int)i;
        }
    }
    /* Least destructive first: the key of this certificate lying beside it, or the
     * certificate of this key; a new pair (in a new folder) only when neither is there. */
    const char *near_key = mqtls__diag_nearby_key_for(c, &c->cert->crt[0]);
    const char *near_cert = near_key == NULL ? mqtls__diag_nearby_cert_for_key(c, &c->key) : NULL;
    char q[640];
    const char *fix;
    if (near_key != NULL) {
        mqtls__diag_shq(q, sizeof q, near_key);
        fix = mqtls__diag_fix(c, "The key of this certificate lies beside it: --key %s", q);
    } else if (near_cert != NULL) {
        mqtls__diag_shq(q, sizeof q, near_cert);
        fix = mqtls__diag_fix(c, "The certificate of this key lies beside it: --cert %s", q);
    } else {
        char cq[640];
        char kq[640];
        char hint[1400];
        mqtls__diag_shq(cq, sizeof cq, cname);
        mqtls__diag_shq(kq, sizeof kq, kname);
        mqtls__setf(hint, sizeof hint,
                    "A certificate and its key print the same hash: openssl x509 -in %s -noout "
                    "-pubkey | openssl sha256; openssl pkey -in %s -pubout | openssl sha256. "
                    "Without the right key:",
                    cq, kq);
        fix = mqtls__diag_fix_reissue_client(c, leaf, hint);
    }
    mqtls__diag_add(c, MQTLS__F_CLIENT_KEY_MISMATCH, mqtls__diag_describe(c, role, leaf), fix,
                    "The private key '%s' (%s) does not belong to the client certificate '%s' "
                    "(%s).%s%s%s The broker would fail the handshake (decrypt_error).",
                    kname, c->keyinfo.key_desc, leaf->subject, leaf->key_desc,
                    other >= 0 ? " It belongs to '" : "",
                    other >= 0 ? c->cert->info[other].subject : "", other >= 0 ? "'." : "");
}

/* The chain we send: leaf (+ intermediates in the file). If it ends at an intermediate CA, the
 * broker (which normally trusts only the root) cannot build the path: the file must carry
 * it. Where the intermediate is (the CA file, a file beside), the fix appends it into a new
 * file; when it is nowhere but its name says intermediate, the warning still names it. */
static void check_chain_sent(mqtls__diag_ctx_t *c, const char *role, const char *cname)
{
    const mqtls_certinfo_t *leaf = &c->cert->info[0];
    const mbedtls_x509_crt *cur = &c->cert->crt[0];
    bool ok = false;
    int name_only = -1;
    for (int guard = 0; guard < (int)MQTLS__MAX_CERTS; guard++) {
        int i = mqtls__diag_find_issuer(c->cert, cur, &ok, &name_only);
        if (i < 0) {
            break;
        }
        cur = &c->cert->crt[i];
    }
    if (mqtls__diag_name_eq(&cur->subject_raw, &cur->issuer_raw) || c->in->ca_is_default) {
        return;
    }
    int i = c->ca_usable ? mqtls__diag_find_issuer(c->ca, cur, &ok, &name_only) : -1;
    if (i >= 0 && c->ca->info[i].self_issued) {
        return; /* issued by a root: complete */
    }
    const char *near = mqtls__diag_nearby_issuer(c, cur, MQTLS__NEAR_INTERMEDIATE);
    const char *source = near;
    if (source == NULL && i >= 0 && c->ca->count <= 4) {
        source = mqtls__diag_file_name(&c->in->ca, "ca.crt"); /* root + intermediate */
    }
    if (i < 0 && source == NULL &&
        !(c->ca_usable && mqtls__diag_issuer_looks_intermediate(c->ca, cur))) {
        return; /* an issuer we know nothing about: the broker decides */
    }
    char issuer[256];
    if (mbedtls_x509_dn_gets(issuer, sizeof issuer, &cur->issuer) < 0) {
        issuer[0] = '\0';
    }
    char out[700];
    char cq[640];
    char sq[640];
    mqtls__diag_sibling(out, sizeof out, cname, "-chain.crt");
    mqtls__diag_shq(cq, sizeof cq, cname);
    mqtls__diag_shq(sq, sizeof sq, source != NULL ? source : "");
    const char *fix =
        source != NULL
            ? mqtls__diag_fix(c,
                              "Send the intermediate with your certificate, from a new file (it "
                              "is in %s):\n$ test ! -e %s && cat %s %s > %s\nthen: --cert %s",
                              sq, out, cq, sq, out, out)
            : mqtls__diag_fix(c,
                              "Get the certificate of the intermediate CA '%s' (from whoever "
                              "issued yours) and send it with your certificate, from a new file: "
                              "cat %s INTERMEDIATE.crt > %s, then --cert %s",
                              issuer, cq, out, out);
    mqtls__diag_add(c, MQTLS__F_CLIENT_CHAIN_INCOMPLETE, mqtls__diag_describe(c, role, leaf), fix,
                    "Your client certificate '%s' was issued by the intermediate CA '%s', but "
                    "'%s' does not contain it. A broker that trusts only the root%s%s cannot "
                    "verify you ('unable to get local issuer certificate').",
                    leaf->subject, issuer, cname, i >= 0 ? " " : "",
                    i >= 0 ? c->ca->info[i].issuer : "");
}

void mqtls__diag_check_client(mqtls__diag_ctx_t *c)
{
    if (!c->cert_usable) {
        return;
    }
    const char *cname = mqtls__diag_file_name(&c->in->cert, "client certificate");
    char role[300];
    mqtls__setf(role, sizeof role, "client certificate %s", cname);
    check_order(c, cname);
    check_leaf(c, role);
    check_key_pair(c, role, cname);
    check_chain_sent(c, role, cname);
}

/* ---------------------------------------------------------------- what the broker said */

/* Where the first (u16 length, DER Name) entry starts: 0, or 2 behind an outer u16 total
 * (see diag.h). A Name starts with SEQUENCE (0x30); a u16 length with high byte 0x30 would
 * mean a 12 KiB name, so byte 2 tells the layouts apart. */
static size_t ca_names_start(const uint8_t *list, size_t len)
{
    if (len >= 5 && list[2] != 0x30 && list[4] == 0x30 &&
        (size_t)((list[0] << 8) | list[1]) == len - 2) {
        return 2;
    }
    return 0;
}

/* Is the DER Name @p name in the CertificateRequest list? *count = names in the list (0 if
 * the list is malformed). */
static bool ca_names_contain(const uint8_t *list, size_t len, const mbedtls_x509_buf *name,
                             size_t *count)
{
    size_t off = ca_names_start(list, len);
    bool found = false;
    size_t n = 0;
    *count = 0;
    for (int guard = 0; off < len && guard < 1024; guard++) {
        if (off + 2 > len) {
            return false;
        }
        size_t l = (size_t)((list[off] << 8) | list[off + 1]);
        off += 2;
        if (off + l > len || l == 0 || list[off] != 0x30) {
            return false;
        }
        if (l == name->len && memcmp(list + off, name->p, l) == 0) {
            found = true;
        }
        n++;
        off += l;
    }
    *count = n;
    return found;
}

/* Alerts with which a broker rejects a client certificate. */
static bool is_cert_alert(int alert)
{
    switch (alert) {
    case MQTLS__ALERT_HANDSHAKE_FAILURE:
    case MQTLS__ALERT_BAD_CERTIFICATE:
    case MQTLS__ALERT_UNSUPPORTED_CERTIFICATE:
    case MQTLS__ALERT_CERTIFICATE_REVOKED:
    case MQTLS__ALERT_CERTIFICATE_EXPIRED:
    case MQTLS__ALERT_CERTIFICATE_UNKNOWN:
    case MQTLS__ALERT_UNKNOWN_CA:
    case MQTLS__ALERT_ACCESS_DENIED:
    case MQTLS__ALERT_DECRYPT_ERROR:
    case MQTLS__ALERT_INSUFFICIENT_SECURITY:
    case MQTLS__ALERT_CERTIFICATE_REQUIRED:
        return true;
    default:
        return false;
    }
}

/* A known cause on our side explains the rejection: make it the error, not a generic
 * "rejected" (the broker cannot build the path without the intermediate). */
static bool upgrade_chain_incomplete(mqtls__diag_ctx_t *c, int alert)
{
    if (alert != MQTLS__ALERT_UNKNOWN_CA && alert != MQTLS__ALERT_BAD_CERTIFICATE &&
        alert != MQTLS__ALERT_CERTIFICATE_REQUIRED && alert != MQTLS__ALERT_CERTIFICATE_UNKNOWN) {
        return false;
    }
    const char *id = mqtls__finding_def(MQTLS__F_CLIENT_CHAIN_INCOMPLETE)->id;
    for (size_t i = 0; i < c->out->count; i++) {
        mqtls_finding_t *x = &c->out->items[i];
        if (x->id == id) {
            x->severity = MQTLS_SEV_ERROR;
            mqtls__appendf(x->message, sizeof x->message,
                           " The broker did reject the certificate: alert %s (%d).",
                           mqtls_tls_alert_name(alert), alert);
            return true;
        }
    }
    return false;
}

/* Our issuer among the CA names the broker asked for? @return true if a finding (added) says
 * it is not. */
static bool check_ca_not_accepted(mqtls__diag_ctx_t *c, const mqtls_tls_facts_t *f, int alert)
{
    if (!c->cert_usable || f->ca_names == NULL || f->ca_names_len == 0) {
        return false;
    }
    /* The name that must be accepted is the issuer of the last certificate we send. */
    const mbedtls_x509_crt *last = &c->cert->crt[c->cert->count - 1];
    size_t n = 0;
    bool ok = false;
    for (size_t i = 0; i < c->cert->count && !ok; i++) {
        ok = ca_names_contain(f->ca_names, f->ca_names_len, &c->cert->crt[i].issuer_raw, &n);
    }
    if (ok || n == 0) {
        return false;
    }
    char issuer[256];
    if (mbedtls_x509_dn_gets(issuer, sizeof issuer, &last->issuer) < 0) {
        issuer[0] = '\0';
    }
    char accepted[256] = "";
    /* Name the first accepted CA for the user. */
    size_t off = ca_names_start(f->ca_names, f->ca_names_len);
    if (off + 2 <= f->ca_names_len) {
        size_t l = (size_t)((f->ca_names[off] << 8) | f->ca_names[off + 1]);
        if (off + 2 + l <= f->ca_names_len) {
            mqtls__dm_dn_gets_der(f->ca_names + off + 2, l, accepted, sizeof accepted);
        }
    }
    char hint[300];
    mqtls__setf(hint, sizeof hint,
                "Add '%s' to the broker's cafile and restart it, or get a certificate from its "
                "client CA ('%s'):",
                issuer, accepted[0] ? accepted : "ask the operator");
    return mqtls__diag_add(c, MQTLS__F_CLIENT_CA_NOT_ACCEPTED,
                           mqtls__diag_describe(c, "client certificate", &c->cert->info[0]),
                           mqtls__diag_fix_reissue_client(c, &c->cert->info[0], hint),
                           "The broker accepts client certificates from %zu CA(s)%s%s%s, and "
                           "your certificate's CA '%s' is not one of them. It answered with "
                           "alert %s (%d).",
                           n, accepted[0] ? " (first: '" : "", accepted, accepted[0] ? "')" : "",
                           issuer, mqtls_tls_alert_name(alert), alert) != NULL;
}

void mqtls__diag_client_alerts(mqtls__diag_ctx_t *c)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    const mqtls_error_t *e = c->in->err;
    int alert = f != NULL ? f->alert_received : -1;
    if (alert < 0 && e != NULL && e->tls_alert >= 0) {
        alert = e->tls_alert;
    }
    if (f == NULL) {
        return;
    }
    if (f->cert_requested && !f->client_cert_sent) {
        if (!c->cert_usable && !mqtls__findings_has(c->out, MQTLS__F_CLIENT_CERT_MISSING)) {
            const char *crt = NULL;
            const char *key = NULL;
            const char *fix;
            if (mqtls__diag_nearby_client_pair(c, &crt, &key)) {
                char cq[640];
                char kq[640];
                mqtls__diag_shq(cq, sizeof cq, crt);
                mqtls__diag_shq(kq, sizeof kq, key);
                fix = mqtls__diag_fix(c,
                                      "A client certificate from your CA and its key lie beside "
                                      "your files: --cert %s --key %s",
                                      cq, kq);
            } else {
                fix = mqtls__diag_fix_reissue_client(c, NULL, "Give --cert and --key.");
            }
            mqtls__diag_add(
                c, MQTLS__F_CLIENT_CERT_MISSING,
                mqtls__diag_subject(c, "broker %s:%u", c->in->host != NULL ? c->in->host : "?",
                                    (unsigned)c->in->port),
                fix,
                "The broker asked for a client certificate (mosquitto "
                "'require_certificate true') and none was configured, so it ended "
                "the handshake%s%s.",
                alert >= 0 ? " with alert " : "", alert >= 0 ? mqtls_tls_alert_name(alert) : "");
        }
        return;
    }
    if (!f->client_cert_sent || alert <= 0 || !is_cert_alert(alert)) {
        return;
    }
    if (upgrade_chain_incomplete(c, alert) || check_ca_not_accepted(c, f, alert)) {
        return;
    }
    if (alert == MQTLS__ALERT_CERTIFICATE_REVOKED && c->cert_usable) {
        mqtls__diag_add(c, MQTLS__F_CLIENT_CERT_REVOKED,
                        mqtls__diag_describe(c, "client certificate", &c->cert->info[0]),
                        mqtls__diag_fix_reissue_client(
                            c, &c->cert->info[0],
                            "A revoked certificate stays revoked: ask the broker's operator "
                            "why, then use a new one (never the old key)."),
                        "The broker rejected your client certificate '%s' (serial %s) with "
                        "alert certificate_revoked (44): its CA revoked it, and the broker's CRL "
                        "(mosquitto 'crlfile') lists it.",
                        c->cert->info[0].subject, c->cert->info[0].serial);
        return;
    }
    const char *why = "";
    switch (alert) {
    case MQTLS__ALERT_UNKNOWN_CA:
        why = " The broker does not trust the CA that issued it (check its 'cafile'), or your "
              "file lacks an intermediate.";
        break;
    case MQTLS__ALERT_CERTIFICATE_EXPIRED:
        why = " The broker considers it expired (check both clocks).";
        break;
    case MQTLS__ALERT_DECRYPT_ERROR:
        why = " The handshake signature did not verify: the key does not match the "
              "certificate.";
        break;
    case MQTLS__ALERT_BAD_CERTIFICATE:
    case MQTLS__ALERT_UNSUPPORTED_CERTIFICATE:
        why = " OpenSSL sends this for a wrong purpose (EKU without clientAuth), a weak key or "
              "hash (security level 2), or a certificate it cannot parse.";
        break;
    case MQTLS__ALERT_ACCESS_DENIED:
        why = " The certificate is valid but not allowed (ACL, CRL or broker policy).";
        break;
    default:
        break;
    }
    char hint[900];
    char cq[640];
    mqtls__diag_shq(cq, sizeof cq,
                    c->in->cert.display_name != NULL ? c->in->cert.display_name : "client.crt");
    mqtls__setf(hint, sizeof hint,
                "The broker's log says why (mosquitto: 'OpenSSL Error'); on the broker: openssl "
                "verify -purpose sslclient -CAfile ITS_CAFILE %s. A new certificate from the CA "
                "the broker accepts:",
                cq);
    mqtls__diag_add(
        c, MQTLS__F_CLIENT_CERT_REJECTED,
        c->cert_usable ? mqtls__diag_describe(c, "client certificate", &c->cert->info[0])
                       : "client certificate",
        mqtls__diag_fix_reissue_client(c, c->cert_usable ? &c->cert->info[0] : NULL, hint),
        "The broker rejected your client certificate with fatal alert %s (%d) right "
        "after receiving it.%s",
        mqtls_tls_alert_name(alert), alert, why);
}
