/* The user's files as files: readable, PEM or DER, complete, holding what they should (a CA
 * file CAs, a certificate file certificates, a key file a key it can decrypt), not swapped;
 * then what the CA file holds, and (offline) whether its keys pass the profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>

#include "diag_ctx.h"

/* "--cafile ca.crt" */
static const char *file_subject(mqtls__diag_ctx_t *c, const char *flag, const char *name)
{
    return mqtls__diag_subject(c, "%s %s", flag, name);
}

/* The critical extension mbedTLS refused in the first certificate of @p data it cannot parse
 * (mbedTLS: MBEDTLS_ERR_X509_INVALID_EXTENSIONS + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG for an
 * unsupported critical extension), by name; NULL if none is found. */
static const char *unsupported_critical_ext(const uint8_t *data, size_t len)
{
    static const struct {
        uint8_t last; /* id-ce 2.5.29.<last>: DER 06 03 55 1D <last> */
        const char *name;
    } exts[] = {{0x1E, "nameConstraints"},
                {0x24, "policyConstraints"},
                {0x21, "policyMappings"},
                {0x36, "inhibitAnyPolicy"}};
    const char *found = NULL;
    const uint8_t *p = data;
    size_t left = len;
    for (int guard = 0; guard < MQTLS__MAX_CERTS && left > 0 && found == NULL; guard++) {
        mbedtls_pem_context pem;
        mbedtls_pem_init(&pem);
        size_t used = 0;
        int ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----",
                                          "-----END CERTIFICATE-----", p, NULL, 0, &used);
        if (ret != 0 || used == 0 || used > left) {
            mbedtls_pem_free(&pem);
            break;
        }
        size_t der_len = 0;
        const uint8_t *der = mqtls__dm_pem_buf(&pem, &der_len);
        for (size_t i = 0; der != NULL && i + 8 <= der_len && found == NULL; i++) {
            if (der[i] != 0x06 || der[i + 1] != 0x03 || der[i + 2] != 0x55 || der[i + 3] != 0x1D) {
                continue;
            }
            for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
                /* the OID, then "critical BOOLEAN TRUE" */
                if (der[i + 4] == exts[k].last && der[i + 5] == 0x01 && der[i + 6] == 0x01 &&
                    der[i + 7] == 0xFF) {
                    found = exts[k].name;
                }
            }
        }
        mbedtls_pem_free(&pem);
        p += used;
        left -= used;
    }
    return found;
}

/* Report file-level problems of a certificate file. @return true if certificates are usable. */
static bool check_cert_file(mqtls__diag_ctx_t *c, const mqtls_diag_file_t *f, mqtls__certset_t *set,
                            const char *what, const char *flag)
{
    const char *name = mqtls__diag_file_name(f, what);
    char q[640];
    mqtls__diag_shq(q, sizeof q, name);
    if (f->read_errno != 0 || (f->data == NULL && f->display_name != NULL)) {
        bool is_dir = f->read_errno == EISDIR;
        bool ca = strcmp(flag, "--cafile") == 0;
        mqtls__diag_add(c, MQTLS__F_FILE_UNREADABLE, file_subject(c, flag, name),
                        is_dir && ca ? mqtls__diag_fix(c,
                                                       "A folder of CA certificates is given with "
                                                       "--capath: --capath %s (or --cafile with "
                                                       "the one CA file in it).",
                                                       q)
                        : is_dir     ? mqtls__diag_fix(c,
                                                       "Give the file in that folder, not the "
                                                           "folder:\n$ ls -l %s",
                                                       q)
                                     : mqtls__diag_fix(c,
                                                       "Check the path and its permissions:\n$ ls "
                                                           "-l %s",
                                                       q),
                        "The %s '%s' cannot be read (%s).%s", what, name,
                        f->read_errno == EINVAL  ? "not a regular file: a FIFO, socket or device"
                        : f->read_errno == EFBIG ? "larger than the 1 MiB a credential may be"
                        : f->read_errno != 0     ? strerror(f->read_errno)
                                                 : "no data",
                        is_dir && ca ? " It is a folder: --cafile takes one file, --capath a "
                                       "folder."
                                     : "");
        return false;
    }
    if (f->data == NULL) {
        return false;
    }
    if (set->empty) {
        mqtls__diag_add(c, MQTLS__F_EMPTY_FILE, file_subject(c, flag, name),
                        mqtls__diag_fix(c,
                                        "Copy the PEM text into %s again, from -----BEGIN "
                                        "CERTIFICATE----- to -----END CERTIFICATE-----, then check "
                                        "it:\n$ openssl x509 -in %s -noout -subject",
                                        q, q),
                        "The %s '%s' is empty (%zu bytes, no certificate).", what, name, f->len);
        return false;
    }
    if (set->pem_truncated) {
        mqtls__diag_add(c, MQTLS__F_PEM_TRUNCATED, file_subject(c, flag, name),
                        mqtls__diag_fix(c,
                                        "Get the complete file %s again, then check it:\n$ "
                                        "openssl x509 -in %s -noout -subject -enddate",
                                        q, q),
                        "The %s '%s' is cut off: a -----BEGIN ...----- line has no matching "
                        "-----END ...----- line (%zu certificate(s) before it were complete). "
                        "Copy-paste or download was incomplete.",
                        what, name, set->count);
        return set->count > 0;
    }
    if (set->unsupported_key && set->count == 0) {
        mqtls__diag_add(c, MQTLS__F_KEY_TYPE_UNSUPPORTED, file_subject(c, flag, name),
                        mqtls__diag_fix_reissue_client(
                            c, NULL, "Use an ECDSA P-256 or RSA-2048 certificate instead."),
                        "The %s '%s' holds a certificate with an Ed25519/Ed448 (or X25519) key. "
                        "mbedTLS (2.28 and 3.x) cannot use these keys in X.509 certificates.",
                        what, name);
        return false;
    }
    if (set->count == 0 && set->has_key) {
        char dir[400];
        char dq[420];
        mqtls__diag_dirname(dir, sizeof dir, name);
        mqtls__diag_shq(dq, sizeof dq, dir);
        mqtls__diag_add(c, MQTLS__F_NOT_A_CERTIFICATE, file_subject(c, flag, name),
                        mqtls__diag_fix(c,
                                        "Give the certificate (-----BEGIN CERTIFICATE-----) "
                                        "here; keys go to --key. Files holding certificates "
                                        "there:\n$ grep -l 'BEGIN CERTIFICATE' -r %s",
                                        dq),
                        "The %s '%s' holds a PRIVATE KEY, not a certificate.", what, name);
        return false;
    }
    if (set->count == 0 && (set->has_other || set->not_pem_not_der)) {
        const char *fix = mqtls__diag_fix(c,
                                          "See what it holds (a certificate prints a subject; "
                                          "from a PKCS#12 file: openssl pkcs12 -in FILE.p12 "
                                          "-nokeys -out NEW.pem):\n$ head -c 200 %s; openssl "
                                          "x509 -in %s -noout -subject",
                                          q, q);
        if (set->has_other) {
            mqtls__diag_add(c, MQTLS__F_NOT_A_CERTIFICATE, file_subject(c, flag, name), fix,
                            "The %s '%s' holds a '%s' block, not a CERTIFICATE.%s", what, name,
                            set->other_label,
                            strcmp(set->other_label, "CERTIFICATE REQUEST") == 0
                                ? " A certificate signing request (CSR) is what you send to a "
                                  "CA; you need the certificate the CA returned."
                                : "");
        } else {
            mqtls__diag_add(c, MQTLS__F_NOT_A_CERTIFICATE, file_subject(c, flag, name), fix,
                            "The %s '%s' is neither PEM (no -----BEGIN line) nor DER (binary "
                            "starting with 0x30). It may be HTML from a download page or a "
                            "different format (PKCS#12: use openssl pkcs12).",
                            what, name);
        }
        return false;
    }
    const char *crit = set->bad_certs > 0 && set->bad_ret == -0x2562 && set->is_pem
                           ? unsupported_critical_ext(f->data, f->len)
                           : NULL;
    if (crit != NULL) {
        bool ca = strcmp(flag, "--cafile") == 0;
        mqtls__diag_add(c, MQTLS__F_UNSUPPORTED_CRITICAL_EXTENSION, file_subject(c, flag, name),
                        ca ? mqtls__diag_fix_new_ca(c, NULL)
                           : mqtls__diag_fix_reissue_client(
                                 c, NULL, "Use a certificate without that extension."),
                        "A certificate in the %s '%s' has a critical %s extension, which mbedTLS "
                        "(2.28 and 3.x) does not implement: it refuses to parse the certificate "
                        "(-0x2562) unless built with "
                        "MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION. OpenSSL, and so "
                        "mosquitto, accept it; devices on mbedTLS do not.",
                        what, name, crit);
        return set->count > 0;
    }
    if (set->bad_certs > 0) {
        char err[128];
        mbedtls_strerror(set->bad_ret, err, sizeof err);
        mqtls__diag_add(c, MQTLS__F_CERT_PARSE_FAILED, file_subject(c, flag, name),
                        mqtls__diag_fix(c,
                                        "Find the block that fails, then get it again:\n$ "
                                        "openssl storeutl -noout -text -certs %s",
                                        q),
                        "%zu certificate block(s) in the %s '%s' are damaged and cannot be parsed "
                        "(mbedTLS -0x%04X: %s); %zu parsed fine.",
                        set->bad_certs, what, name, (unsigned)-set->bad_ret, err, set->count);
    }
    if (set->is_der && set->count > 0) {
        char pem[660];
        char out[680];
        mqtls__setf(pem, sizeof pem, "%s.pem", name);
        mqtls__diag_shq(out, sizeof out, pem);
        mqtls__diag_add(
            c, MQTLS__F_DER_NOT_PEM, file_subject(c, flag, name),
            mqtls__diag_fix(c,
                            "Only for tools that want PEM, a PEM copy under a new name:\n$ test ! "
                            "-e %s && openssl x509 -inform DER -in %s -out %s",
                            out, q, out),
            "The %s '%s' is DER (binary). mqtls and mbedTLS read it, but mosquitto "
            "and most tools want PEM.",
            what, name);
    }
    if (f->from_buffer_api && set->is_pem && set->ends_without_nul) {
        mqtls__diag_add(c, MQTLS__F_PEM_NOT_NUL_TERMINATED, file_subject(c, flag, name),
                        "CMakeLists.txt: idf_component_register(... EMBED_TXTFILES ca.crt) and "
                        "pass len = end - start (the NUL is then included); or for a string "
                        "literal: sizeof(ca_pem) / strlen(ca_pem) + 1",
                        "The PEM buffer '%s' (%zu bytes) does not end with a NUL byte. mqtls "
                        "accepts it, but mbedtls_x509_crt_parse() and esp-tls need the length "
                        "to INCLUDE the terminating NUL, else they fail with -0x2180 / -0x1080. "
                        "In ESP-IDF this is EMBED_FILES used where EMBED_TXTFILES was meant.",
                        name, f->len);
    }
    return set->count > 0;
}

/* Parse the key quietly (the swap check needs both sides). */
static void load_key(mqtls__diag_ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    mbedtls_pk_init(&c->key);
    c->key_status = MQTLS_ERR_INVALID_ARG;
    if (in->key.data == NULL || in->key.read_errno != 0) {
        return;
    }
    const char *password = in->key_password_given ? in->key_password : NULL;
    c->key_status = mqtls_keyinfo_parse(in->key.data, in->key.len, password, &c->keyinfo);
    if (c->key_status != MQTLS_OK) {
        return;
    }
    /* The library refused the key it was given that this mbedTLS reads: the engine's own
     * mbedTLS lacks the encryption (docs/tls-engines.md: 3.6 as ESP-IDF 5 builds it, no DES). */
    const mqtls_error_t *e = in->err;
    if (e != NULL && e->layer == MQTLS_LAYER_CONFIG && e->status == MQTLS_ERR_KEY_UNSUPPORTED &&
        c->keyinfo.is_encrypted) {
        c->key_status = MQTLS_ERR_KEY_UNSUPPORTED;
        c->key_refused_by_engine = true;
        return;
    }
    c->key_usable = mqtls__diag_parse_key(&c->key, in->key.data, in->key.len, password) == 0;
}

static const char *swapped_fix(mqtls__diag_ctx_t *c, const char *kn, const char *cn)
{
    char kq[640];
    char cq[640];
    mqtls__diag_shq(kq, sizeof kq, kn);
    mqtls__diag_shq(cq, sizeof cq, cn);
    return mqtls__diag_fix(c, "Give them the other way round: --cert %s --key %s", kq, cq);
}

void mqtls__diag_check_files(mqtls__diag_ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    mqtls__certset_load(c->ca, in->ca.data, in->ca.len);
    mqtls__certset_load(c->cert, in->cert.data, in->cert.len);
    mqtls__certset_load(c->keyset, in->key.data, in->key.len);
    load_key(c);

    /* Certificate and key swapped: the cert file holds a key and the key file certificates. */
    if (in->cert.data != NULL && in->key.data != NULL && c->cert->count == 0 && c->cert->has_key &&
        c->keyset->count > 0) {
        c->swapped = true;
        const char *cn = mqtls__diag_file_name(&in->cert, "certificate file");
        const char *kn = mqtls__diag_file_name(&in->key, "key file");
        mqtls__diag_add(c, MQTLS__F_CERT_AND_KEY_SWAPPED,
                        mqtls__diag_subject(c, "--cert %s, --key %s", cn, kn),
                        swapped_fix(c, kn, cn),
                        "The certificate file '%s' holds a private key and the key file '%s' "
                        "holds the certificate '%s': the two are swapped.",
                        cn, kn, c->keyset->info[0].subject);
    }

    if (in->ca.data != NULL || in->ca.display_name != NULL) {
        c->ca_usable = check_cert_file(c, &in->ca, c->ca, "CA file", "--cafile");
    }
    if (!c->swapped && (in->cert.data != NULL || in->cert.display_name != NULL)) {
        c->cert_usable =
            check_cert_file(c, &in->cert, c->cert, "client certificate file", "--cert");
    }
}

/* ---------------------------------------------------------------- what the CA file holds */

void mqtls__diag_check_ca_file(mqtls__diag_ctx_t *c)
{
    if (!c->ca_usable) {
        return;
    }
    const char *name = mqtls__diag_file_name(&c->in->ca, "CA file");
    /* An end-entity certificate where the CA should be: the first one is named. */
    for (size_t i = 0; i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        if (ci->is_ca || ci->self_signed || ci->version < 3) {
            continue;
        }
        /* Your own client certificate given as --cafile: the CA file must vouch for the
         * BROKER. Never suggest writing into either file: point at the CA that lies beside,
         * or say which certificate to get as a file of its own. */
        bool own = c->cert_usable && c->cert->crt[0].raw.len == c->ca->crt[i].raw.len &&
                   memcmp(c->cert->crt[0].raw.p, c->ca->crt[i].raw.p, c->ca->crt[i].raw.len) == 0;
        const char *near = c->server->count > 0 ? mqtls__diag_nearby_anchor(c, c->server) : NULL;
        if (near == NULL) {
            near = mqtls__diag_nearby_issuer(c, &c->ca->crt[i], MQTLS__NEAR_ANY);
        }
        char nq[640];
        mqtls__diag_shq(nq, sizeof nq, near != NULL ? near : "");
        const char *want =
            c->server->count > 0 ? c->server->info[c->server->count - 1].issuer : ci->issuer;
        const char *fix =
            near != NULL
                ? mqtls__diag_fix(c, "The CA certificate lies beside it: --cafile %s", nq)
                : mqtls__diag_fix(c,
                                  "Give the CA certificate '%s' as --cafile, in a file of its "
                                  "own (from the broker's operator; own PKI: your CA's ca.crt). "
                                  "A CA file shows CA:TRUE in: openssl x509 -in FILE -noout "
                                  "-subject -ext basicConstraints",
                                  want);
        if (mqtls__diag_add(c, MQTLS__F_CA_FILE_HOLDS_LEAF,
                            mqtls__diag_describe(c, "CA file certificate", ci), fix,
                            own ? "You gave your own client certificate '%s' as the CA file "
                                  "'%s'. The CA file must hold the CA that issued the BROKER's "
                                  "certificate ('%s'); your certificate goes to --cert only."
                                : "The CA file '%s' holds '%s', which is an end-entity certificate "
                                  "(CA:FALSE) issued by '%s'. Trust must be anchored in the CA "
                                  "that signed it; mbedTLS only trusts a leaf directly if it is "
                                  "self-signed.",
                            own ? ci->subject : name, own ? name : ci->subject,
                            own ? want : ci->issuer) != NULL) {
            break;
        }
    }
    /* A self-signed end-entity certificate in the CA file only pins exactly that server. */
    for (size_t i = 0; c->ca->count <= 4 && i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        if (ci->is_ca || !ci->self_signed || ci->version < 3) {
            continue;
        }
        mqtls__diag_add(c, MQTLS__F_CA_NOT_CA, mqtls__diag_describe(c, "CA file certificate", ci),
                        "If the broker's certificate is this one, nothing to do. Otherwise use "
                        "the CA that issued the broker's certificate: openssl s_client -connect "
                        "HOST:8883 -showcerts </dev/null",
                        "'%s' in the CA file '%s' is self-signed but not a CA (CA:FALSE). It can "
                        "only pin a server that presents exactly this certificate; it cannot "
                        "vouch for any other.",
                        ci->subject, name);
    }
    /* An expired trust anchor fails every chain: mbedTLS checks validity of all certificates,
     * trusted roots included. In a big bundle an expired extra root is harmless. */
    size_t valid = 0;
    for (size_t i = 0; i < c->ca->count; i++) {
        valid += c->ca->info[i].is_ca && c->ca->info[i].not_after_s >= c->now &&
                         c->ca->info[i].not_before_s <= c->now
                     ? 1u
                     : 0u;
    }
    for (size_t i = 0; !c->clock_bad && c->ca->count <= 4 && i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        if (ci->not_after_s >= c->now) {
            continue;
        }
        char to[16];
        mqtls__diag_fmt_date(to, sizeof to, ci->not_after_s);
        /* Beside a valid CA, an expired one is harmless unless it is the one that signed the
         * broker's certificate (the chain check says so then). */
        mqtls_finding_t *it = mqtls__diag_add(
            c, MQTLS__F_CA_EXPIRED, mqtls__diag_describe(c, "CA file certificate", ci),
            valid > 0 ? "Nothing to do unless the broker's certificate comes from it; then renew "
                        "that CA (its operator)."
                      : mqtls__diag_fix_renew_ca(c),
            valid > 0 ? "The CA certificate '%s' in '%s' expired on %s. The file holds another, "
                        "valid CA too: this matters only if the broker's certificate comes from "
                        "the expired one."
                      : "The CA certificate '%s' in '%s' expired on %s. Every certificate it "
                        "signed is rejected (mbedTLS flags EXPIRED on the root).",
            ci->subject, name, to);
        if (it != NULL && valid > 0) {
            it->severity = MQTLS_SEV_WARNING;
        }
    }
}

/* Offline only (no server chain to look at): would this CA's key pass the profile? */
void mqtls__diag_ca_keys_offline(mqtls__diag_ctx_t *c)
{
    /* In a system bundle (~150 roots) an old weak root is irrelevant: judge small files only. */
    for (size_t i = 0; c->ca_usable && c->ca->count <= 4 && i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        int k = mqtls__profile_key_check(c->prof, ci->key_type, ci->key_bits, ci->curve);
        if (!ci->is_ca || k == 0) {
            continue;
        }
        if (mqtls__diag_add(c, k == 2 ? MQTLS__F_CURVE_NOT_ALLOWED : MQTLS__F_WEAK_KEY,
                            mqtls__diag_describe(c, "CA file certificate", ci),
                            mqtls__diag_fix_new_ca(c, ci),
                            "The CA '%s' has a %s key, which the %s does not accept (%s). Every "
                            "server certificate this CA signs will be rejected with BAD_KEY "
                            "(\"signed with an unacceptable key\").",
                            ci->subject, ci->key_desc, c->prof->who,
                            k == 2   ? "curve not in its list"
                            : k == 3 ? "key type not allowed"
                                     : "RSA must be at least 2048 bits") == NULL) {
            return;
        }
    }
}

/* ---------------------------------------------------------------- the key file */

/* "--key client.key (encrypted, DES-EDE3-CBC)" */
static const char *encrypted_key_subject(mqtls__diag_ctx_t *c, const char *kname)
{
    const char *scheme = c->keyinfo.encryption;
    return mqtls__diag_subject(c, "--key %s (encrypted%s%s)", kname, scheme[0] ? ", " : "", scheme);
}

/* What mqtls_keyinfo_parse() said about the key, as a finding. */
static void key_status_finding(mqtls__diag_ctx_t *c, const char *kname)
{
    const mqtls_keyinfo_t *ki = &c->keyinfo;
    char kq[640];
    mqtls__diag_shq(kq, sizeof kq, kname);
    char out[700];
    switch (c->key_status) {
    case MQTLS_OK:
        break;
    case MQTLS_ERR_FILE_EMPTY:
        mqtls__diag_add(c, MQTLS__F_EMPTY_FILE, mqtls__diag_subject(c, "--key %s", kname),
                        mqtls__diag_fix(c,
                                        "Copy the private key into %s again, then check it:\n$ "
                                        "openssl pkey -in %s -noout",
                                        kq, kq),
                        "The key file '%s' is empty.", kname);
        break;
    case MQTLS_ERR_KEY_PASSWORD_REQUIRED:
        mqtls__diag_sibling(out, sizeof out, kname, "-plain.key");
        mqtls__diag_add(c, MQTLS__F_KEY_PASSWORD_REQUIRED, encrypted_key_subject(c, kname),
                        mqtls__diag_fix(c,
                                        "Give its password from a file (first line; it stays out "
                                        "of `ps`): --keypass-file key.pass\nOr keep a decrypted "
                                        "copy under a new name, readable only by you:\n$ test ! "
                                        "-e %s && (umask 077 && openssl pkey -in %s -out %s)",
                                        out, kq, out),
                        "The private key '%s' is encrypted (%s) and no password was given.", kname,
                        ki->encryption[0] ? ki->encryption : "PEM");
        break;
    case MQTLS_ERR_KEY_PASSWORD_WRONG:
        mqtls__diag_add(c, MQTLS__F_KEY_PASSWORD_WRONG, encrypted_key_subject(c, kname),
                        mqtls__diag_fix(c,
                                        "Give the right password: --keypass-file key.pass (its "
                                        "first line; no trailing space or CR). To try one, "
                                        "openssl asks for it: openssl pkey -in %s -noout",
                                        kq),
                        "The password given does not decrypt the private key '%s'.", kname);
        break;
    case MQTLS_ERR_KEY_UNSUPPORTED:
        if (ki->key_type == MQTLS_KEY_ED25519 || ki->key_type == MQTLS_KEY_ED448 ||
            ki->key_type == MQTLS_KEY_OTHER || !ki->is_encrypted) {
            if (mqtls__findings_has(c->out, MQTLS__F_KEY_TYPE_UNSUPPORTED)) {
                break;
            }
            mqtls__diag_add(c, MQTLS__F_KEY_TYPE_UNSUPPORTED,
                            mqtls__diag_subject(c, "--key %s (%s)", kname, ki->key_desc),
                            mqtls__diag_fix_reissue_client(
                                c, NULL, "Use an ECDSA P-256 (or RSA-2048) key and certificate."),
                            "The private key '%s' is %s, which this mbedTLS cannot use for TLS "
                            "(mbedTLS 2.28 and 3.x support RSA and ECDSA keys only).",
                            kname, ki->key_desc);
        } else {
            mqtls__diag_sibling(out, sizeof out, kname, "-legacy.key");
            mqtls__diag_add(
                c, MQTLS__F_KEY_ENCRYPTION_UNSUPPORTED,
                mqtls__diag_subject(c, "--key %s (encrypted, %s)", kname,
                                    ki->encryption[0] ? ki->encryption : "unknown scheme"),
                mqtls__diag_fix(c,
                                "Re-encrypt a copy in the traditional PEM format (mbedTLS "
                                "reads it; openssl asks for the password twice):\n$ test ! -e "
                                "%s && openssl pkey -in %s -aes256 -traditional -out %s\nthen: "
                                "--key %s",
                                out, kq, out, out),
                c->key_refused_by_engine
                    ? "The private key '%s' is encrypted with %s, which the mbedTLS that loads "
                      "it here cannot decrypt (mbedTLS 3.6 as ESP-IDF 5 builds it has no DES; "
                      "2.28 has). mbedTLS -0x%04X."
                    : "The private key '%s' is encrypted with %s, which this mbedTLS cannot "
                      "decrypt (mbedTLS before 3.5 reads PKCS#8 PBES2 only with DES/3DES; "
                      "OpenSSL 3 encrypts with AES-256-CBC by default). mbedTLS -0x%04X.",
                kname, ki->encryption[0] ? ki->encryption : "this scheme",
                (unsigned)-(c->key_refused_by_engine ? c->in->err->mbedtls_ret
                                                     : ki->mbedtls_ret));
        }
        break;
    default:
        if (c->keyset->count > 0) {
            const char *near =
                c->cert_usable ? mqtls__diag_nearby_key_for(c, &c->cert->crt[0]) : NULL;
            char nq[640];
            mqtls__diag_shq(nq, sizeof nq, near != NULL ? near : "");
            mqtls__diag_add(c, MQTLS__F_KEY_NOT_A_KEY, mqtls__diag_subject(c, "--key %s", kname),
                            near != NULL
                                ? mqtls__diag_fix(c,
                                                  "The private key of your certificate lies "
                                                  "beside it: --key %s",
                                                  nq)
                                : "Give the private key (-----BEGIN ... PRIVATE KEY-----) as "
                                  "--key.",
                            "The key file '%s' holds a certificate ('%s'), not a private key.",
                            kname, c->keyset->info[0].subject);
        } else {
            char err[100];
            mbedtls_strerror(ki->mbedtls_ret, err, sizeof err);
            mqtls__diag_add(c, MQTLS__F_KEY_NOT_A_KEY, mqtls__diag_subject(c, "--key %s", kname),
                            mqtls__diag_fix(c,
                                            "See what it holds:\n$ openssl pkey -in %s -noout "
                                            "-text | head -3",
                                            kq),
                            "The key file '%s' does not hold a private key mbedTLS can read "
                            "(-0x%04X: %s).",
                            kname, (unsigned)-ki->mbedtls_ret, err);
        }
        break;
    }
}

/* "pkcs11:..." (RFC 7512: the scheme is case-insensitive): a key on a token, no file. */
static bool is_pkcs11_uri(const char *name)
{
    static const char scheme[] = "pkcs11:";
    for (size_t i = 0; name != NULL && i < sizeof scheme - 1; i++) {
        char ch = name[i];
        if ((ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch) != scheme[i]) {
            return false;
        }
    }
    return name != NULL;
}

/* A key on a PKCS#11 token that the engine could not open or use: what the library said
 * (src/net/pkcs11.c, the engines' token code: one status per cause, the URI shown with
 * pin-value=***), as a finding with the way out. No file checks: there is no file. */
static void token_key_finding(mqtls__diag_ctx_t *c, const char *uri)
{
    const mqtls_error_t *e = c->in->err;
    if (e == NULL || e->layer != MQTLS_LAYER_CONFIG) {
        return;
    }
    const char *subject = mqtls__diag_subject(c, "--key %s (a key on a PKCS#11 token)", uri);
    /* MODULE: diag is not told the module's path (the user gave it as --pkcs11-module) */
    const char *list = "List what the module sees (MODULE: your --pkcs11-module), then name the "
                       "key by its token and label (token=, object=) or id (id=%01) in the "
                       "URI:\npkcs11-tool --module MODULE --list-slots\npkcs11-tool --module "
                       "MODULE --login --list-objects --type privkey   # asks for the PIN";
    /* the library's words start with the URI: say it once */
    const char *detail = e->detail;
    size_t ul = strlen(uri);
    if (strncmp(detail, uri, ul) == 0 && detail[ul] == ':') {
        detail += ul + 1 + (detail[ul + 1] == ' ');
    }
    const char *fix;
    const char *why;
    /* INVALID_ARG and NOT_SUPPORTED have other causes too (a cipher name, a TLS version) */
    bool about_token = strstr(e->detail, "pkcs11") != NULL ||
                       strstr(e->detail, "PKCS#11") != NULL || strstr(e->detail, "token") != NULL;
    if ((e->status == MQTLS_ERR_INVALID_ARG || e->status == MQTLS_ERR_NOT_SUPPORTED) &&
        !about_token) {
        return;
    }
    switch (e->status) {
    case MQTLS_ERR_KEY_MISMATCH: {
        const char *leaf = c->cert_usable ? c->cert->info[0].subject : "?";
        mqtls__diag_add(c, MQTLS__F_CLIENT_KEY_MISMATCH, subject,
                        mqtls__diag_fix(c,
                                        "The token holds another key than the one of --cert: "
                                        "pick the right object (or give this key's "
                                        "certificate as --cert). %s",
                                        list),
                        "The key on the token '%s' does not belong to the client certificate "
                        "'%s' (%s). The broker would fail the handshake (decrypt_error).",
                        uri, leaf, detail);
        return;
    }
    case MQTLS_ERR_KEY_PASSWORD_REQUIRED:
        why = "The token wants its user PIN to use the key, and none was given.";
        fix = "Give the PIN from a file (its first line; it stays out of `ps`): --keypass-file "
              "pin.txt, or in the URI: ?pin-source=file:/path/pin.txt";
        break;
    case MQTLS_ERR_KEY_PASSWORD_WRONG:
        why = "The token refused the PIN (CKR_PIN_INCORRECT). mqtls tried it once; a token "
              "locks after a few wrong PINs.";
        fix = "Give the token's user PIN (not the SO PIN): --keypass-file pin.txt or "
              "pin-source=file:/path/pin.txt in the URI. To try one by hand, once: pkcs11-tool "
              "--module MODULE --login --list-objects (MODULE: your --pkcs11-module)";
        break;
    case MQTLS_ERR_NOT_SUPPORTED:
        why = "This TLS engine cannot sign with this key on a token (the mbedTLS engines sign "
              "with RSA keys on a token only, and mbedtls3 in TLS 1.2 only; the openssl engine "
              "needs OpenSSL's pkcs11 ENGINE).";
        fix = strstr(e->detail, "not installed") != NULL
                  ? "Install OpenSSL's pkcs11 ENGINE: apt-get install libengine-pkcs11-openssl"
                  : "Connect with the openssl engine, which signs EC keys and TLS 1.3 on a "
                    "token: --tls-engine openssl (docs/tls-engines.md \"Keys on a token\"); "
                    "or put an RSA key on the token.";
        break;
    case MQTLS_ERR_INVALID_ARG:
        why = "The URI or the module is not given right.";
        fix = "Write the key as an RFC 7512 URI, e.g. 'pkcs11:token=LABEL;object=KEY' (or "
              "id=%01), the PIN as pin-value=, pin-source=file:PATH or --keypass-file, and the "
              "module as --pkcs11-module PATH (or module-path= in the URI).";
        break;
    case MQTLS_ERR_PKCS11:
    case MQTLS_ERR_KEY_UNSUPPORTED:
        why = "The module, the token or the key could not be found or used.";
        fix = strstr(e->detail, "PKCS#11 module") != NULL && strstr(e->detail, "token") == NULL
                  ? "Give the path of the token's PKCS#11 module, e.g. --pkcs11-module "
                    "/usr/lib/softhsm/libsofthsm2.so (SoftHSM 2) or "
                    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so (smart cards)."
                  : list;
        break;
    default:
        return; /* not the key's: the checks of the other files and the catch-all say it */
    }
    mqtls__diag_add(c, MQTLS__F_PKCS11_KEY_UNUSABLE, subject, mqtls__diag_fix(c, "%s", fix),
                    "The key on the PKCS#11 token cannot be used: %s (%s: %s)", why,
                    mqtls_status_name(e->status), detail);
}

void mqtls__diag_check_key(mqtls__diag_ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    const char *kname = mqtls__diag_file_name(&in->key, "key file");
    if (c->swapped) {
        return;
    }
    if (in->key.data == NULL && in->key.read_errno == 0 && is_pkcs11_uri(in->key.display_name)) {
        /* a key on a PKCS#11 token: no file to check; the engine's status says why */
        token_key_finding(c, in->key.display_name);
        return;
    }
    if (in->key.read_errno != 0 || (in->key.data == NULL && in->key.display_name != NULL)) {
        mqtls_diag_file_t f = in->key;
        mqtls__certset_t none;
        memset(&none, 0, sizeof none);
        (void)check_cert_file(c, &f, &none, "key file", "--key");
        return;
    }
    if (in->cert.data != NULL && in->key.data == NULL && c->cert_usable) {
        const char *near = mqtls__diag_nearby_key_for(c, &c->cert->crt[0]);
        char nq[640];
        mqtls__diag_shq(nq, sizeof nq, near != NULL ? near : "");
        mqtls__diag_add(
            c, MQTLS__F_CLIENT_KEY_MISSING,
            mqtls__diag_subject(c, "--cert %s", mqtls__diag_file_name(&in->cert, "cert")),
            near != NULL ? mqtls__diag_fix(c, "Its private key lies beside it: --key %s", nq)
                         : "Give the certificate's private key with --key.",
            "A client certificate is given but no private key: mutual TLS needs "
            "both.");
        return;
    }
    if (in->key.data == NULL) {
        return;
    }
    if (in->cert.data == NULL && in->cert.display_name == NULL) {
        const char *near = c->key_usable ? mqtls__diag_nearby_cert_for_key(c, &c->key) : NULL;
        char nq[640];
        mqtls__diag_shq(nq, sizeof nq, near != NULL ? near : "");
        mqtls__diag_add(c, MQTLS__F_CLIENT_CERT_MISSING, mqtls__diag_subject(c, "--key %s", kname),
                        near != NULL ? mqtls__diag_fix(c,
                                                       "The certificate of this key lies beside "
                                                       "it: --cert %s",
                                                       nq)
                                     : "Give the certificate that belongs to this key with "
                                       "--cert.",
                        "A private key is given but no client certificate: the broker needs the "
                        "certificate to identify you.");
    }
    /* Same NUL rule for keys given through a buffer API (mbedtls_pk_parse_key). */
    if (in->key.from_buffer_api && in->key.len > 0 && in->key.data[0] != 0x30 &&
        in->key.data[in->key.len - 1] != '\0') {
        mqtls__diag_add(c, MQTLS__F_PEM_NOT_NUL_TERMINATED,
                        mqtls__diag_subject(c, "--key %s", kname),
                        "CMakeLists.txt: idf_component_register(... EMBED_TXTFILES client.key) "
                        "and pass len = end - start (the NUL is then included)",
                        "The PEM key buffer '%s' (%zu bytes) does not end with a NUL byte. mqtls "
                        "accepts it, but mbedtls_pk_parse_key() and esp-tls need the length to "
                        "INCLUDE the terminating NUL (else -0x3D00). In ESP-IDF: EMBED_FILES used "
                        "where EMBED_TXTFILES was meant.",
                        kname, in->key.len);
    }
    key_status_finding(c, kname);
}
