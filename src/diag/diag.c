/* Diagnosis: credentials, handshake facts and failures -> findings (include/mqtls/diag.h).
 *
 * mbedTLS merges many causes into one flag (NOT_TRUSTED: wrong CA, regenerated CA, missing
 * intermediate, CA:FALSE issuer, self-signed server; BAD_KEY: weak CA key or weak leaf key,
 * set on the CHILD whose issuer's key fails the profile). We rebuild the chain ourselves from
 * the certificates, comparing names and verifying each signature with the candidate issuer's
 * key, so every finding names the certificate and the reason. Order of checks = order of
 * causes: findings are appended root cause first and sorted stably by severity. */
#include "common/abi.h"
#include "common/tls_facts.h"
#include "diag_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509.h>

/* Before 2015-01-01 no certificate in use today was valid: the clock was never set. */
#define CLOCK_SANE_MIN_S 1420070400

#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_BAD_CERTIFICATE 42
#define ALERT_CERTIFICATE_EXPIRED 45
#define ALERT_UNKNOWN_CA 48
#define ALERT_ACCESS_DENIED 49
#define ALERT_DECRYPT_ERROR 51
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_INSUFFICIENT_SECURITY 71
#define ALERT_CERTIFICATE_REQUIRED 116
#define ALERT_NO_APPLICATION_PROTOCOL 120

typedef struct ctx {
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
} ctx_t;

/* ---------------------------------------------------------------- text helpers */

static void fmt_date(char *dst, size_t cap, int64_t t)
{
    /* civil_from_days (H. Hinnant) */
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    mqtls__setf(dst, cap, "%04lld-%02lld-%02lld", (long long)(y + (m <= 2 ? 1 : 0)), (long long)m,
                (long long)d);
}

static const char *file_name(const mqtls_diag_file_t *f, const char *fallback)
{
    return f->display_name != NULL ? f->display_name : fallback;
}

/* "server certificate #0 'CN=localhost' (issuer 'CN=Root', RSA-2048, SHA-256 with RSA,
 *  valid 2024-01-01..2049-12-31)" */
static void describe(char *dst, size_t cap, const char *role, const mqtls_certinfo_t *ci)
{
    char from[16];
    char to[16];
    fmt_date(from, sizeof from, ci->not_before_s);
    fmt_date(to, sizeof to, ci->not_after_s);
    mqtls__setf(dst, cap, "%s '%s' (issuer '%s', key %s, signed %s, valid %s..%s)", role,
                ci->subject, ci->issuer, ci->key_desc, ci->sig_desc, from, to);
}

static void server_role(char *dst, size_t cap, size_t depth)
{
    if (depth == 0) {
        mqtls__setf(dst, cap, "server certificate (depth 0)");
    } else {
        mqtls__setf(dst, cap, "server chain certificate (depth %zu)", depth);
    }
}

static const char *alert_name(int a)
{
    switch (a) {
    case 0:
        return "close_notify";
    case 10:
        return "unexpected_message";
    case 20:
        return "bad_record_mac";
    case 22:
        return "record_overflow";
    case 40:
        return "handshake_failure";
    case 42:
        return "bad_certificate";
    case 43:
        return "unsupported_certificate";
    case 44:
        return "certificate_revoked";
    case 45:
        return "certificate_expired";
    case 46:
        return "certificate_unknown";
    case 47:
        return "illegal_parameter";
    case 48:
        return "unknown_ca";
    case 49:
        return "access_denied";
    case 50:
        return "decode_error";
    case 51:
        return "decrypt_error";
    case 70:
        return "protocol_version";
    case 71:
        return "insufficient_security";
    case 80:
        return "internal_error";
    case 86:
        return "inappropriate_fallback";
    case 90:
        return "user_canceled";
    case 109:
        return "missing_extension";
    case 110:
        return "unsupported_extension";
    case 112:
        return "unrecognized_name";
    case 116:
        return "certificate_required";
    case 120:
        return "no_application_protocol";
    default:
        return "unknown alert";
    }
}

static bool name_eq(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
    return a->len == b->len && a->p != NULL && b->p != NULL && memcmp(a->p, b->p, a->len) == 0;
}

static bool same_cert(const mbedtls_x509_crt *a, const mbedtls_x509_crt *b)
{
    return a->raw.len == b->raw.len && memcmp(a->raw.p, b->raw.p, a->raw.len) == 0;
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

/* ---------------------------------------------------------------- fixes (pasteable) */

/* Fix texts name the user's own files: the CA file's folder is where `mqtls pki` (docs/cli/pki.md)
 * finds ca.crt + ca.key, and its server/client commands write next to them. Every command here
 * is run, with these placeholders filled in, by tests/scenarios/fix_check.sh. */

/* @p s quoted for a POSIX shell only when it needs it (the common case stays readable). */
static void shq(char *dst, size_t cap, const char *s)
{
    bool plain = s[0] != '\0';
    for (const char *p = s; *p != '\0' && plain; p++) {
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("._/-:+@%=,", *p) != NULL;
    }
    if (plain || strchr(s, '\'') != NULL) {
        mqtls__setf(dst, cap, "%s", s);
    } else {
        mqtls__setf(dst, cap, "'%s'", s);
    }
}

/* The folder of the --cafile (quoted): the CA's own folder in a `mqtls pki` layout. A --capath
 * display name ends with '/' and is that folder itself. */
static void pki_dir(const ctx_t *c, char *dst, size_t cap)
{
    const char *ca = c->in->ca.display_name;
    char dir[300];
    if (ca == NULL || ca[0] == '\0') {
        mqtls__setf(dst, cap, "CA_DIR");
        return;
    }
    mqtls__setf(dir, sizeof dir, "%s", ca);
    size_t n = strlen(dir);
    bool is_dir = dir[n - 1] == '/';
    while (n > 1 && dir[n - 1] == '/') {
        dir[--n] = '\0';
    }
    if (!is_dir) {
        char *slash = strrchr(dir, '/');
        if (slash == NULL) {
            mqtls__setf(dir, sizeof dir, ".");
        } else if (slash == dir) {
            dir[1] = '\0'; /* "/ca.crt": the root folder */
        } else {
            *slash = '\0';
        }
    }
    shq(dst, cap, dir);
}

/* "DIR/name" for a file `mqtls pki` writes (just "name" in the current folder). */
static void pki_path(char *dst, size_t cap, const char *dir, const char *name)
{
    if (strcmp(dir, ".") == 0) {
        mqtls__setf(dst, cap, "%s", name);
    } else {
        mqtls__setf(dst, cap, "%s/%s", dir, name);
    }
}

static bool host_is_ip(const char *h)
{
    uint8_t a[16];
    return h != NULL && (inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1);
}

/* The host name the client checks: --tls-server-name, else the host it connects to. */
static const char *checked_host(const ctx_t *c)
{
    return c->in->server_name != NULL ? c->in->server_name : c->in->host;
}

/* Re-issue the broker's certificate from the CA the client trusts, valid for the host it
 * connects to (an IP keeps the certificate's first DNS name, so by-name clients still work).
 * @p cmd: the command alone; @p note: where the files land (a shell comment). */
static void server_cmd(const ctx_t *c, char *cmd, size_t cmd_cap, char *note, size_t note_cap)
{
    const char *h = checked_host(c);
    char dir[320];
    char names[320];
    char crt[340];
    char key[340];
    pki_dir(c, dir, sizeof dir);
    pki_path(crt, sizeof crt, dir, "server.crt");
    pki_path(key, sizeof key, dir, "server.key");
    const mqtls_certinfo_t *leaf = c->server != NULL && c->server->count > 0 ? &c->server->info[0]
                                                                             : NULL;
    if (h == NULL || h[0] == '\0') {
        mqtls__setf(names, sizeof names, "--name broker.example.com");
    } else if (host_is_ip(h) && leaf != NULL && leaf->san_dns_count > 0 &&
               strncmp(leaf->san_dns[0], "*.", 2) != 0) {
        mqtls__setf(names, sizeof names, "--name %s --ip %s", leaf->san_dns[0], h);
    } else {
        mqtls__setf(names, sizeof names, "--name %s", h);
    }
    mqtls__setf(cmd, cmd_cap, "mqtls pki server %s %s --force", dir, names);
    mqtls__setf(note, note_cap,
                "# %s holds your CA (ca.crt + ca.key, the CA in --cafile); the broker must "
                "then serve %s + %s (mosquitto certfile / keyfile; restart it)",
                strcmp(dir, ".") == 0 ? "this folder" : dir, crt, key);
}

static void fix_reissue_server(const ctx_t *c, char *dst, size_t cap, const char *extra)
{
    char cmd[400];
    char note[400];
    server_cmd(c, cmd, sizeof cmd, note, sizeof note);
    mqtls__setf(dst, cap, "%s%s%s   %s", extra != NULL ? extra : "", extra != NULL ? "\n" : "",
                cmd, note);
}

/* A file-safe client name for `mqtls pki client` ([A-Za-z0-9._-], not starting with . or -). */
static const char *client_name(const char *cn)
{
    if (cn == NULL || cn[0] == '\0' || cn[0] == '.' || cn[0] == '-' || strlen(cn) > 64) {
        return "device-001";
    }
    for (const char *p = cn; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-')) {
            return "device-001";
        }
    }
    return cn;
}

/* A new client key + certificate from the CA (its folder: the --cafile's). */
static void fix_reissue_client(const ctx_t *c, char *dst, size_t cap, const char *cn,
                               const char *extra)
{
    const char *n = client_name(cn);
    char dir[320];
    char file[400];
    char crt[340];
    char key[340];
    pki_dir(c, dir, sizeof dir);
    mqtls__setf(file, sizeof file, "%s.crt", n);
    pki_path(crt, sizeof crt, dir, file);
    mqtls__setf(file, sizeof file, "%s.key", n);
    pki_path(key, sizeof key, dir, file);
    mqtls__setf(dst, cap,
                "%s%smqtls pki client %s --name %s --force   # %s holds the CA the broker "
                "accepts (ca.crt + ca.key)\nthen: --cert %s --key %s",
                extra != NULL ? extra : "", extra != NULL ? "\n" : "", dir, n,
                strcmp(dir, ".") == 0 ? "this folder" : dir, crt, key);
}

/* The old test.mosquitto.org CA (RSA-1024, SHA-1, replaced 2020-06-09): name it only when
 * that is what the user has. */
static bool is_mosquitto_org(const ctx_t *c, const mqtls_certinfo_t *ca)
{
    const char *h = c->in->host;
    if (h != NULL && strcasecmp(h, "test.mosquitto.org") == 0) {
        return true;
    }
    return ca != NULL && strstr(ca->subject, "CN=mosquitto.org") != NULL &&
           strstr(ca->subject, "O=Mosquitto") != NULL;
}

/* The CA itself is unusable (weak key): a new CA, then a new broker certificate from it. */
static void fix_new_ca(const ctx_t *c, char *dst, size_t cap, const mqtls_certinfo_t *ca)
{
    char dir[320];
    char cmd[400];
    char note[400];
    char crt[340];
    char q[320];
    pki_dir(c, dir, sizeof dir);
    pki_path(crt, sizeof crt, dir, "ca.crt");
    server_cmd(c, cmd, sizeof cmd, note, sizeof note);
    shq(q, sizeof q, c->in->ca.display_name != NULL ? c->in->ca.display_name : "ca.crt");
    if (is_mosquitto_org(c, ca)) {
        mqtls__setf(dst, cap,
                    "test.mosquitto.org replaced this CA in 2020: curl -o %s "
                    "https://test.mosquitto.org/ssl/mosquitto.org.crt\nOwn PKI (then give "
                    "clients the new %s): mqtls pki init %s --force && %s   %s",
                    q, crt, dir, cmd, note);
    } else {
        mqtls__setf(dst, cap,
                    "Broker not yours: get its current CA. Own PKI (then give clients the new "
                    "%s): mqtls pki init %s --force && %s   %s",
                    crt, dir, cmd, note);
    }
}

/* An expired CA: renew it with the same key (every certificate it signed stays valid). */
static void fix_renew_ca(const ctx_t *c, char *dst, size_t cap)
{
    char dir[320];
    char q[320];
    char key[340];
    char out[340];
    pki_dir(c, dir, sizeof dir);
    shq(q, sizeof q, c->in->ca.display_name != NULL ? c->in->ca.display_name : "ca.crt");
    pki_path(key, sizeof key, dir, "ca.key");
    pki_path(out, sizeof out, dir, "ca-renewed.crt");
    mqtls__setf(dst, cap,
                "Broker not yours: get its current CA. Own PKI, renew the CA with its key: "
                "openssl x509 -in %s -signkey %s -days 3650 -sha256 -out %s\nthen: --cafile %s "
                "(and the broker's cafile, if the same CA signs client certificates)",
                q, key, out, out);
}

/* ---------------------------------------------------------------- files */

/* Report file-level problems of a certificate file. @return true if certificates are usable. */
static bool check_cert_file(ctx_t *c, const mqtls_diag_file_t *f, mqtls__certset_t *set,
                            const char *what, const char *flag)
{
    const char *name = file_name(f, what);
    mqtls_finding_t *it;
    if (f->read_errno != 0 || (f->data == NULL && f->display_name != NULL)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_FILE_UNREADABLE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message, "The %s '%s' cannot be read (%s).", what,
                        name, f->read_errno != 0 ? strerror(f->read_errno) : "no data");
            mqtls__setf(it->fix, sizeof it->fix, "ls -l '%s'   # check the path and permissions",
                        name);
        }
        return false;
    }
    if (f->data == NULL) {
        return false;
    }
    if (set->empty) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_EMPTY_FILE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The %s '%s' is empty (%zu bytes, no certificate).", what, name, f->len);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Copy the PEM text again, from -----BEGIN CERTIFICATE----- to "
                        "-----END CERTIFICATE-----, then: openssl x509 -in '%s' -noout -subject",
                        name);
        }
        return false;
    }
    if (set->pem_truncated) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_PEM_TRUNCATED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The %s '%s' is cut off: a -----BEGIN ...----- line has no matching "
                        "-----END ...----- line (%zu certificate(s) before it were complete). "
                        "Copy-paste or download was incomplete.",
                        what, name, set->count);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Get the complete file again, then check it: openssl x509 -in '%s' "
                        "-noout -subject -enddate",
                        name);
        }
        return set->count > 0;
    }
    if (set->unsupported_key && set->count == 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_TYPE_UNSUPPORTED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The %s '%s' holds a certificate with an Ed25519/Ed448 (or X25519) key. "
                        "mbedTLS (2.28 and 3.x) cannot use these keys in X.509 certificates.",
                        what, name);
            fix_reissue_client(c, it->fix, sizeof it->fix, NULL,
                               "Issue an ECDSA P-256 or RSA-2048 certificate instead, e.g.:");
        }
        return false;
    }
    if (set->count == 0 && set->has_key) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_NOT_A_CERTIFICATE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The %s '%s' holds a PRIVATE KEY, not a certificate.", what, name);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Give the certificate (-----BEGIN CERTIFICATE-----) here; keys go to "
                        "--key. Find it: grep -l 'BEGIN CERTIFICATE' *.pem *.crt");
        }
        return false;
    }
    if (set->count == 0 && (set->has_other || set->not_pem_not_der)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_NOT_A_CERTIFICATE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            if (set->has_other) {
                mqtls__setf(it->message, sizeof it->message,
                            "The %s '%s' holds a '%s' block, not a CERTIFICATE.%s", what, name,
                            set->other_label,
                            strcmp(set->other_label, "CERTIFICATE REQUEST") == 0
                                ? " A certificate signing request (CSR) is what you send to a "
                                  "CA; you need the certificate the CA returned."
                                : "");
            } else {
                mqtls__setf(it->message, sizeof it->message,
                            "The %s '%s' is neither PEM (no -----BEGIN line) nor DER "
                            "(binary starting with 0x30). It may be HTML from a download page "
                            "or a different format (PKCS#12: use openssl pkcs12).",
                            what, name);
            }
            mqtls__setf(it->fix, sizeof it->fix,
                        "head -c 200 '%s'; openssl x509 -in '%s' -noout -subject   # must "
                        "print a subject; PKCS#12: openssl pkcs12 -in file.p12 -nokeys -out "
                        "cert.pem",
                        name, name);
        }
        return false;
    }
    if (set->bad_certs > 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CERT_PARSE_FAILED)) != NULL) {
            char err[128];
            mbedtls_strerror(set->bad_ret, err, sizeof err);
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "%zu certificate block(s) in the %s '%s' are damaged and cannot be "
                        "parsed (mbedTLS -0x%04X: %s); %zu parsed fine.",
                        set->bad_certs, what, name, (unsigned)-set->bad_ret, err, set->count);
            mqtls__setf(it->fix, sizeof it->fix,
                        "openssl storeutl -noout -text -certs '%s'   # shows which block fails",
                        name);
        }
    }
    if (set->is_der && set->count > 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_DER_NOT_PEM)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The %s '%s' is DER (binary). mqtls and mbedTLS read it, but mosquitto "
                        "and most tools want PEM.",
                        what, name);
            mqtls__setf(it->fix, sizeof it->fix, "openssl x509 -inform DER -in '%s' -out '%s.pem'",
                        name, name);
        }
    }
    if (f->from_buffer_api && set->is_pem && set->ends_without_nul) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_PEM_NOT_NUL_TERMINATED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s %s", flag, name);
            mqtls__setf(it->message, sizeof it->message,
                        "The PEM buffer '%s' (%zu bytes) does not end with a NUL byte. mqtls "
                        "accepts it, but mbedtls_x509_crt_parse() and esp-tls need the length "
                        "to INCLUDE the terminating NUL, else they fail with -0x2180 / -0x1080. "
                        "In ESP-IDF this is EMBED_FILES used where EMBED_TXTFILES was meant.",
                        name, f->len);
            mqtls__setf(it->fix, sizeof it->fix,
                        "CMakeLists.txt: idf_component_register(... EMBED_TXTFILES ca.crt) and "
                        "pass len = end - start (the NUL is then included); or for a string "
                        "literal: sizeof(ca_pem) / strlen(ca_pem) + 1");
        }
    }
    return set->count > 0;
}

static void check_files(ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    mqtls__certset_load(c->ca, in->ca.data, in->ca.len);
    mqtls__certset_load(c->cert, in->cert.data, in->cert.len);
    mqtls__certset_load(c->keyset, in->key.data, in->key.len);

    /* The key first, quietly: the swap check needs both sides. */
    mbedtls_pk_init(&c->key);
    c->key_status = MQTLS_ERR_INVALID_ARG;
    if (in->key.data != NULL && in->key.read_errno == 0) {
        c->key_status =
            mqtls_keyinfo_parse(in->key.data, in->key.len,
                                in->key_password_given ? in->key_password : NULL, &c->keyinfo);
        if (c->key_status == MQTLS_OK) {
            uint8_t *copy = malloc(in->key.len + 1);
            if (copy != NULL) {
                memcpy(copy, in->key.data, in->key.len);
                copy[in->key.len] = '\0';
                size_t n = in->key.len;
                if (copy[0] != 0x30) {
                    n = strlen((const char *)copy) + 1;
                }
                c->key_usable =
                    mqtls__dm_pk_parse_key(&c->key, copy, n,
                                           in->key_password_given ? in->key_password : NULL) == 0;
                mbedtls_platform_zeroize(copy, in->key.len + 1);
                free(copy);
            }
        }
    }

    /* Certificate and key swapped: the cert file holds a key and the key file certificates. */
    if (in->cert.data != NULL && in->key.data != NULL && c->cert->count == 0 && c->cert->has_key &&
        c->keyset->count > 0) {
        c->swapped = true;
        mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_CERT_AND_KEY_SWAPPED);
        if (it != NULL) {
            const char *cn = file_name(&in->cert, "certificate file");
            const char *kn = file_name(&in->key, "key file");
            mqtls__setf(it->subject, sizeof it->subject, "--cert %s, --key %s", cn, kn);
            mqtls__setf(it->message, sizeof it->message,
                        "The certificate file '%s' holds a private key and the key file '%s' "
                        "holds the certificate '%s': the two are swapped.",
                        cn, kn, c->keyset->info[0].subject);
            mqtls__setf(it->fix, sizeof it->fix, "--cert '%s' --key '%s'", kn, cn);
        }
    }

    if (in->ca.data != NULL || in->ca.display_name != NULL) {
        c->ca_usable = check_cert_file(c, &in->ca, c->ca, "CA file", "--cafile");
    }
    if (!c->swapped && (in->cert.data != NULL || in->cert.display_name != NULL)) {
        c->cert_usable =
            check_cert_file(c, &in->cert, c->cert, "client certificate file", "--cert");
    }
}

/* ---------------------------------------------------------------- CA file */

static void check_ca_file(ctx_t *c)
{
    if (!c->ca_usable) {
        return;
    }
    const char *name = file_name(&c->in->ca, "CA file");
    size_t leaves = 0;
    for (size_t i = 0; i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        if (!ci->is_ca && !ci->self_signed && !(ci->version < 3)) {
            leaves++;
        }
    }
    if (leaves > 0) {
        for (size_t i = 0; i < c->ca->count; i++) {
            const mqtls_certinfo_t *ci = &c->ca->info[i];
            mqtls_finding_t *it;
            if (ci->is_ca || ci->self_signed || ci->version < 3 ||
                (it = mqtls__finding_add(c->out, MQTLS__F_CA_FILE_HOLDS_LEAF)) == NULL) {
                continue;
            }
            describe(it->subject, sizeof it->subject, "CA file certificate", ci);
            mqtls__setf(it->message, sizeof it->message,
                        "The CA file '%s' holds '%s', which is an end-entity certificate "
                        "(CA:FALSE) issued by '%s'. Trust must be anchored in the CA that "
                        "signed it; mbedTLS only trusts a leaf directly if it is self-signed.",
                        name, ci->subject, ci->issuer);
            {
                char q[320];
                shq(q, sizeof q, name);
                mqtls__setf(it->fix, sizeof it->fix,
                            "Put the CA certificate '%s' in %s instead (the broker operator's "
                            "ca.crt; own PKI: your CA's ca.crt), then check it shows CA:TRUE: "
                            "openssl x509 -in %s -noout -subject -ext basicConstraints",
                            ci->issuer, q, q);
            }
            break;
        }
    }
    /* A self-signed end-entity certificate in the CA file only pins exactly that server. */
    for (size_t i = 0; c->ca->count <= 4 && i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        mqtls_finding_t *it;
        if (ci->is_ca || !ci->self_signed || ci->version < 3 ||
            (it = mqtls__finding_add(c->out, MQTLS__F_CA_NOT_CA)) == NULL) {
            continue;
        }
        describe(it->subject, sizeof it->subject, "CA file certificate", ci);
        mqtls__setf(it->message, sizeof it->message,
                    "'%s' in the CA file '%s' is self-signed but not a CA (CA:FALSE). It can only "
                    "pin a server that presents exactly this certificate; it cannot vouch for "
                    "any other.",
                    ci->subject, name);
        mqtls__setf(it->fix, sizeof it->fix,
                    "If the broker's certificate is this one, nothing to do. Otherwise use the CA "
                    "that issued the broker's certificate: openssl s_client -connect HOST:8883 "
                    "-showcerts </dev/null");
    }
    /* An expired trust anchor fails every chain: mbedTLS checks validity of all certificates,
     * trusted roots included. In a big bundle an expired extra root is harmless. */
    if (!c->clock_bad && c->ca->count <= 4) {
        for (size_t i = 0; i < c->ca->count; i++) {
            const mqtls_certinfo_t *ci = &c->ca->info[i];
            mqtls_finding_t *it;
            if (ci->not_after_s >= c->now ||
                (it = mqtls__finding_add(c->out, MQTLS__F_CA_EXPIRED)) == NULL) {
                continue;
            }
            char to[16];
            fmt_date(to, sizeof to, ci->not_after_s);
            describe(it->subject, sizeof it->subject, "CA file certificate", ci);
            mqtls__setf(it->message, sizeof it->message,
                        "The CA certificate '%s' in '%s' expired on %s. Every certificate it "
                        "signed is rejected (mbedTLS flags EXPIRED on the root).",
                        ci->subject, name, to);
            fix_renew_ca(c, it->fix, sizeof it->fix);
        }
    }
}

/* Offline only (no server chain to look at): would this CA's key pass the profile? */
static void check_ca_keys_offline(ctx_t *c)
{
    /* In a system bundle (~150 roots) an old weak root is irrelevant: judge small files only. */
    for (size_t i = 0; c->ca_usable && c->ca->count <= 4 && i < c->ca->count; i++) {
        const mqtls_certinfo_t *ci = &c->ca->info[i];
        int k = mqtls__profile_key_check(c->prof, ci->key_type, ci->key_bits, ci->curve);
        if (!ci->is_ca || k == 0) {
            continue;
        }
        mqtls_finding_t *it =
            mqtls__finding_add(c->out, k == 2 ? MQTLS__F_CURVE_NOT_ALLOWED : MQTLS__F_WEAK_KEY);
        if (it == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, "CA file certificate", ci);
        mqtls__setf(it->message, sizeof it->message,
                    "The CA '%s' has a %s key, which the %s does not accept (%s). Every "
                    "server certificate this CA signs will be rejected with BAD_KEY "
                    "(\"signed with an unacceptable key\").",
                    ci->subject, ci->key_desc, c->prof->who,
                    k == 2   ? "curve not in its list"
                    : k == 3 ? "key type not allowed"
                             : "RSA must be at least 2048 bits");
        fix_new_ca(c, it->fix, sizeof it->fix, ci);
    }
}

/* ---------------------------------------------------------------- hostname */

static bool wildcard_match(const char *pattern, const char *host)
{
    /* RFC 6125 6.4.3 as mbedTLS does it: "*." + rest matches exactly one extra left label. */
    if (strncmp(pattern, "*.", 2) != 0) {
        return strcasecmp(pattern, host) == 0;
    }
    const char *dot = strchr(host, '.');
    return dot != NULL && dot != host && strcasecmp(pattern + 1, dot) == 0;
}

/* Matched by an iPAddress SAN: right, and what mqtls does on any mbedTLS. But mbedTLS before
 * 3.5 (x509_crt_verify_name) compares the host only with dNSName SANs, so a device on it fails
 * unless the address is also listed as a dNSName. */
static void warn_ip_san_old_mbedtls(ctx_t *c, const mqtls_certinfo_t *leaf, const char *ip)
{
    for (size_t i = 0; i < leaf->san_dns_count; i++) {
        if (strcasecmp(leaf->san_dns[i], ip) == 0) {
            return; /* old devices match the address as a DNS name */
        }
    }
    mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_IP_SAN_OLD_MBEDTLS);
    if (it == NULL) {
        return;
    }
    describe(it->subject, sizeof it->subject, "server certificate (depth 0)", leaf);
    mqtls__setf(it->message, sizeof it->message,
                "The certificate is valid for the IP address '%s' through an iPAddress "
                "subjectAltName, which mqtls%s accepts. Devices whose mbedTLS is older than 3.5 "
                "(ESP-IDF 4.x and early 5.x) never match iPAddress SANs and will fail with "
                "-0x2700, verify flags 0x04 (CN_MISMATCH), when they connect by this address.",
                ip, c->in->facts != NULL && c->in->facts->ip_san_matched_by_us
                        ? " (matching it itself on this mbedTLS)"
                        : "");
    char by_name[160] = "";
    if (leaf->san_dns_count > 0) {
        mqtls__setf(by_name, sizeof by_name, " (-h %s)", leaf->san_dns[0]);
    }
    char hint[300];
    mqtls__setf(hint, sizeof hint,
                "Let devices connect by a DNS name in the certificate%s, or list the address as "
                "a DNS name too (old mbedTLS then matches it as text):",
                by_name);
    char cmd[400];
    char note[400];
    server_cmd(c, cmd, sizeof cmd, note, sizeof note);
    mqtls__setf(it->fix, sizeof it->fix, "%s\n%s --dns %s   %s", hint, cmd, ip, note);
}

static void check_hostname(ctx_t *c, const mqtls_certinfo_t *leaf)
{
    const char *name = c->in->server_name != NULL ? c->in->server_name : c->in->host;
    if (name == NULL || name[0] == '\0') {
        return;
    }
    uint8_t want[16];
    uint8_t have[16];
    bool is_v4 = inet_pton(AF_INET, name, want) == 1;
    bool is_ip = is_v4 || inet_pton(AF_INET6, name, want) == 1;
    bool ok = false;
    if (is_ip) {
        for (size_t i = 0; i < leaf->san_ip_count && !ok; i++) {
            int af = strchr(leaf->san_ip[i], ':') != NULL ? AF_INET6 : AF_INET;
            ok = (af == AF_INET) == is_v4 && inet_pton(af, leaf->san_ip[i], have) == 1 &&
                 memcmp(want, have, is_v4 ? 4 : 16) == 0;
        }
    } else {
        for (size_t i = 0; i < leaf->san_dns_count && !ok; i++) {
            ok = wildcard_match(leaf->san_dns[i], name);
        }
        if (leaf->san_dns_count == 0 && leaf->san_ip_count == 0) {
            ok = leaf->common_name[0] != '\0' && wildcard_match(leaf->common_name, name);
        }
    }
    if (ok && is_ip) {
        warn_ip_san_old_mbedtls(c, leaf, name);
    }
    if (ok) {
        return;
    }
    mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_HOSTNAME_MISMATCH);
    if (it == NULL) {
        return;
    }
    char names[320] = "";
    for (size_t i = 0; i < leaf->san_dns_count; i++) {
        mqtls__appendf(names, sizeof names, "%sDNS:%s", names[0] ? ", " : "", leaf->san_dns[i]);
    }
    for (size_t i = 0; i < leaf->san_ip_count; i++) {
        mqtls__appendf(names, sizeof names, "%sIP:%s", names[0] ? ", " : "", leaf->san_ip[i]);
    }
    describe(it->subject, sizeof it->subject, "server certificate (depth 0)", leaf);
    if (names[0] == '\0') {
        mqtls__setf(it->message, sizeof it->message,
                    "You connect to '%s' but the server's certificate has no subjectAltName; "
                    "its CN is '%s'.%s",
                    name, leaf->common_name,
                    is_ip ? " An IP address is only matched by an IP subjectAltName." : "");
    } else {
        mqtls__setf(it->message, sizeof it->message,
                    "You connect to %s '%s' but the server's certificate is only valid for: "
                    "%s (CN '%s' is ignored when subjectAltName is present).%s",
                    is_ip ? "the IP address" : "the host name", name, names, leaf->common_name,
                    is_ip && leaf->san_ip_count == 0
                        ? " The certificate lists no IP address: connect by one of its names, "
                          "or re-issue it with an IP SAN."
                    : !is_ip && leaf->san_dns_count == 0
                        ? " The certificate lists only IP addresses: connect by IP."
                        : "");
    }
    const char *alt = leaf->san_dns_count > 0 ? leaf->san_dns[0] : NULL;
    if (alt != NULL && strncmp(alt, "*.", 2) != 0) {
        char hint[300];
        mqtls__setf(hint, sizeof hint,
                    "Connect with the certificate's name (-h %s, or keep the address and add "
                    "--tls-server-name %s), or re-issue the certificate for '%s':",
                    alt, alt, name);
        fix_reissue_server(c, it->fix, sizeof it->fix, hint);
    } else {
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Re-issue the server certificate for this name:");
    }
}

/* ---------------------------------------------------------------- server chain */

typedef struct link {
    const mbedtls_x509_crt *crt;
    const mqtls_certinfo_t *info;
    bool trusted; /* from the CA file */
} link_t;

/* Find an issuer of @p child in @p set by name. @return index, or -1. *sig_ok says whether
 * its key verifies the signature (the first name match that verifies wins). */
static int find_issuer(const mqtls__certset_t *set, const mbedtls_x509_crt *child, bool *sig_ok,
                       int *name_only)
{
    *sig_ok = false;
    *name_only = -1;
    for (size_t i = 0; i < set->count; i++) {
        const mbedtls_x509_crt *p = &set->crt[i];
        if (p == child || same_cert(p, child) || !name_eq(&p->subject_raw, &child->issuer_raw)) {
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

static void add_key_finding(ctx_t *c, size_t depth, const mqtls_certinfo_t *child,
                            const mqtls_certinfo_t *owner, bool own_key, int k)
{
    mqtls_finding_t *it =
        mqtls__finding_add(c->out, k == 2 ? MQTLS__F_CURVE_NOT_ALLOWED : MQTLS__F_WEAK_KEY);
    if (it == NULL) {
        return;
    }
    char role[64];
    server_role(role, sizeof role, depth);
    describe(it->subject, sizeof it->subject, role, child);
    const char *why = k == 2   ? "its curve is not in the profile's list"
                      : k == 3 ? "that key type is not allowed by the profile"
                               : "RSA keys must have at least 2048 bits";
    /* A disallowed key TYPE (e.g. RSA under Suite B) is BAD_PK; a short key or other curve
     * is BAD_KEY. */
    const char *flag = k == 3 ? "BAD_PK (\"signed with an unacceptable PK alg (eg RSA vs ECDSA)\")"
                              : "BAD_KEY (\"signed with an unacceptable key\")";
    if (own_key) {
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' has a %s key; the %s rejects it (%s). mbedTLS reports this as "
                    "%s.",
                    role, child->subject, child->key_desc, c->prof->who, why, flag);
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           c->prof->rsa_allowed
                               ? "Re-issue the server certificate with an RSA-2048+ or P-256 key:"
                               : "Re-issue the server certificate with an ECDSA P-256 key (this "
                                 "profile accepts no RSA; the CA must be ECDSA too):");
    } else {
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' is signed by the CA '%s', whose key is %s; the %s rejects "
                    "that CA key (%s). mbedTLS flags this on the CHILD certificate as %s, "
                    "which looks like a problem with the server certificate but is the CA's.%s",
                    role, child->subject, owner->subject, owner->key_desc, c->prof->who, why,
                    flag,
                    is_mosquitto_org(c, owner) ? " (This was test.mosquitto.org's CA until "
                                                 "2020-06-09: RSA-1024, SHA-1.)"
                                               : "");
        fix_new_ca(c, it->fix, sizeof it->fix, owner);
    }
}

static void check_sig_hash(ctx_t *c, size_t depth, const mqtls_certinfo_t *ci)
{
    if (mqtls__profile_hash_ok(c->prof, ci->sig_hash)) {
        return;
    }
    mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_WEAK_SIGNATURE_HASH);
    if (it == NULL) {
        return;
    }
    char role[64];
    server_role(role, sizeof role, depth);
    describe(it->subject, sizeof it->subject, role, ci);
    mqtls__setf(it->message, sizeof it->message,
                "The %s '%s' is signed with %s by '%s'; the %s does not accept %s signatures. "
                "mbedTLS reports BAD_MD (\"signed with an unacceptable hash\").",
                role, ci->subject, mqtls_hash_name(ci->sig_hash), ci->issuer, c->prof->who,
                mqtls_hash_name(ci->sig_hash));
    if (depth == 0) {
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Re-sign the server certificate with SHA-256 (-sha256):");
    } else {
        mqtls__setf(it->fix, sizeof it->fix,
                    "Re-sign the intermediate CA certificate with SHA-256: openssl x509 -req "
                    "-in inter.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1825 -sha256 "
                    "-copy_extensions copyall -out inter.crt");
    }
}

static void check_validity(ctx_t *c, size_t depth, const mqtls_certinfo_t *ci, bool trusted)
{
    if (c->clock_bad) {
        return;
    }
    bool expired = ci->not_after_s < c->now;
    bool future = ci->not_before_s > c->now;
    if (!expired && !future) {
        return;
    }
    mqtls__finding_id_t id = trusted   ? MQTLS__F_CA_EXPIRED
                             : expired ? MQTLS__F_SERVER_CERT_EXPIRED
                                       : MQTLS__F_SERVER_CERT_NOT_YET_VALID;
    if (trusted && (!expired || mqtls__findings_has(c->out, MQTLS__F_CA_EXPIRED))) {
        return;
    }
    mqtls_finding_t *it = mqtls__finding_add(c->out, id);
    if (it == NULL) {
        return;
    }
    char role[64];
    char date[16];
    char now[16];
    if (trusted) {
        mqtls__setf(role, sizeof role, "trusted CA (depth %zu)", depth);
    } else {
        server_role(role, sizeof role, depth);
    }
    fmt_date(date, sizeof date, expired ? ci->not_after_s : ci->not_before_s);
    fmt_date(now, sizeof now, c->now);
    describe(it->subject, sizeof it->subject, role, ci);
    if (expired) {
        mqtls__setf(it->message, sizeof it->message, "The %s '%s' expired on %s (today is %s).",
                    role, ci->subject, date, now);
        if (trusted) {
            fix_renew_ca(c, it->fix, sizeof it->fix);
        } else {
            fix_reissue_server(c, it->fix, sizeof it->fix,
                               "The broker operator must renew it (then restart/reload the "
                               "broker). Own PKI:");
        }
    } else {
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' is only valid from %s (the clock here says %s). Either it was "
                    "issued with a future start date or this clock is behind.",
                    role, ci->subject, date, now);
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "date -u   # if this clock is wrong, fix NTP (ESP32: wait for SNTP "
                           "sync); if it is right, re-issue the certificate:");
    }
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

/* The chain stops at @p child (depth): nobody we know issued it. */
static void report_no_issuer(ctx_t *c, size_t depth, const mbedtls_x509_crt *child,
                             const mqtls_certinfo_t *ci, int name_only,
                             const mqtls__certset_t *where)
{
    char role[64];
    server_role(role, sizeof role, depth);
    const char *caname = file_name(&c->in->ca, "CA file");
    mqtls_finding_t *it;
    if (name_only >= 0) {
        /* Same name, different key: the CA was regenerated (old vs new mosquitto.org CA). */
        const mqtls_certinfo_t *ca = &where->info[name_only];
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CA_SAME_NAME_DIFFERENT_KEY)) == NULL) {
            return;
        }
        char ski[100] = "";
        char aki[100] = "";
        for (size_t i = 0; i < ca->ski_len && i < 8; i++) {
            mqtls__appendf(ski, sizeof ski, "%02X", ca->ski[i]);
        }
        for (size_t i = 0; i < ci->aki_len && i < 8; i++) {
            mqtls__appendf(aki, sizeof aki, "%02X", ci->aki[i]);
        }
        describe(it->subject, sizeof it->subject, role, ci);
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' names '%s' as its issuer. Your CA file '%s' has a CA with that "
                    "name (SHA-256 %.23s..., key %s%s%s) but its key does NOT verify the "
                    "signature%s%s%s: the CA was regenerated, or you have the old/new CA of "
                    "the broker%s.",
                    role, ci->subject, ci->issuer, caname, ca->sha256_hex, ca->key_desc,
                    ski[0] ? ", key id " : "", ski, aki[0] ? " (the certificate wants key id " : "",
                    aki, aki[0] ? ")" : "",
                    is_mosquitto_org(c, ca) ? " (test.mosquitto.org changed its CA in 2020)" : "");
        {
            char q[320];
            char tail[600];
            shq(q, sizeof q, caname);
            fix_reissue_server(c, tail, sizeof tail, NULL);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Put the broker's current CA in %s (compare: openssl x509 -in %s -noout "
                        "-ext subjectKeyIdentifier). Or, if %s is right and you run the broker, "
                        "re-issue its certificate from it:\n%s",
                        q, q, q, tail);
        }
        return;
    }
    if (ci->self_signed || ci->self_issued) {
        if (depth == 0) {
            if ((it = mqtls__finding_add(c->out, MQTLS__F_SERVER_SELF_SIGNED)) == NULL) {
                return;
            }
            describe(it->subject, sizeof it->subject, role, ci);
            mqtls__setf(it->message, sizeof it->message,
                        "The server presents a self-signed certificate '%s' (fingerprint "
                        "SHA-256 %.47s...). It is not in your CA file '%s', so nothing vouches "
                        "for it.",
                        ci->subject, ci->sha256_hex, caname);
            fix_reissue_server(c, it->fix, sizeof it->fix,
                               "Give the broker a certificate signed by the CA in your --cafile "
                               "(pinning this one instead: openssl s_client | openssl x509 -out "
                               "server-pinned.crt):");
            return;
        }
        if ((it = mqtls__finding_add(c->out, MQTLS__F_UNTRUSTED_ISSUER)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, role, ci);
        mqtls__setf(it->message, sizeof it->message,
                    "The server's chain ends at the root CA '%s', which is not in your CA file "
                    "'%s' (that file holds %zu certificate(s)%s%s).",
                    ci->subject, caname, c->ca->count, c->ca->count > 0 ? ", first: " : "",
                    c->ca->count > 0 ? c->ca->info[0].subject : "");
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Broker not yours: use its CA as --cafile. Your broker: re-issue its "
                           "certificate from your CA:");
        return;
    }
    /* Unknown, not self-issued issuer: an intermediate the server did not send, or a CA that
     * is simply not ours. Evidence for the first: the client's own chain holds it, the name
     * shares the Organization of a CA we trust. */
    bool inter_known = false;
    bool sig_ok = false;
    int dummy = -1;
    if (find_issuer(c->cert, child, &sig_ok, &dummy) >= 0) {
        inter_known = true;
    }
    if (inter_known || dn_org_shared(c->ca, child)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_MISSING_INTERMEDIATE)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, role, ci);
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' was issued by '%s', which the server did not send and which is "
                    "not in your CA file '%s' (it holds '%s'). '%s' looks like an intermediate "
                    "CA of the same PKI%s: the broker must send it after its own certificate.",
                    role, ci->subject, ci->issuer, caname,
                    c->ca->count > 0 ? c->ca->info[0].subject : "nothing", ci->issuer,
                    inter_known ? " (your client certificate file contains it)" : "");
        mqtls__setf(it->fix, sizeof it->fix,
                    "On the broker: cat server.crt intermediate.crt > server-chain.crt and set "
                    "mosquitto 'certfile server-chain.crt'. Or (client side) append the "
                    "intermediate to your CA file: cat intermediate.crt >> %s",
                    caname);
        return;
    }
    if ((it = mqtls__finding_add(c->out, MQTLS__F_UNTRUSTED_ISSUER)) == NULL) {
        return;
    }
    describe(it->subject, sizeof it->subject, role, ci);
    mqtls__setf(it->message, sizeof it->message,
                "The %s '%s' was issued by '%s', which is not in your CA file '%s' (it holds "
                "%zu certificate(s)%s%s). You have the wrong CA file for this broker (or the "
                "broker did not send an intermediate CA).",
                role, ci->subject, ci->issuer, caname, c->ca->count,
                c->ca->count > 0 ? ", first: " : "",
                c->ca->count > 0 ? c->ca->info[0].subject : "");
    fix_reissue_server(c, it->fix, sizeof it->fix,
                       "Broker not yours: use the CA that issued its certificate as --cafile "
                       "(openssl s_client -showcerts shows the issuer). Your broker: re-issue "
                       "its certificate from your CA:");
}

static void check_issuer_is_ca(ctx_t *c, size_t depth, const mqtls_certinfo_t *child,
                               const mqtls_certinfo_t *parent, bool parent_trusted)
{
    /* mbedTLS x509_crt_check_parent: the parent needs CA:TRUE (a v1/v2 trusted root is
     * excused) and, if keyUsage is present, keyCertSign. */
    bool ca_ok = parent->is_ca || (parent_trusted && parent->version < 3);
    char role[64];
    server_role(role, sizeof role, depth);
    mqtls_finding_t *it;
    if (!ca_ok) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_ISSUER_NOT_CA)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, role, child);
        mqtls__setf(it->message, sizeof it->message,
                    "The %s '%s' is signed by '%s', but that certificate is not a CA (%s). "
                    "Only CA certificates may sign others, so the chain is rejected "
                    "(NOT_TRUSTED).",
                    role, child->subject, parent->subject,
                    parent->has_basic_constraints ? "basicConstraints CA:FALSE"
                                                  : "no basicConstraints extension");
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Sign the server certificate with a real CA (CA:TRUE, keyCertSign), "
                           "e.g. the one in your --cafile:");
        return;
    }
    if (parent->has_key_usage && (parent->key_usage & MQTLS_KU_KEY_CERT_SIGN) == 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CA_KEY_USAGE)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, role, child);
        mqtls__setf(it->message, sizeof it->message,
                    "The CA '%s' that signed '%s' has a keyUsage extension without "
                    "keyCertSign, so it may not sign certificates.",
                    parent->subject, child->subject);
        mqtls__setf(it->fix, sizeof it->fix,
                    "Re-issue the CA with -addext keyUsage=critical,keyCertSign,cRLSign");
    }
}

static void check_server_usage(ctx_t *c, const mqtls_certinfo_t *leaf)
{
    mqtls_finding_t *it;
    if (leaf->has_ext_key_usage &&
        (leaf->ext_key_usage & (MQTLS_EKU_SERVER_AUTH | MQTLS_EKU_ANY)) == 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_SERVER_EKU_MISSING)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, "server certificate (depth 0)", leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "The server certificate '%s' has an extendedKeyUsage extension without "
                    "serverAuth (%s), so TLS clients must reject it (mbedTLS: "
                    "BADCERT_EXT_KEY_USAGE, -0x2700).",
                    leaf->subject,
                    (leaf->ext_key_usage & MQTLS_EKU_CLIENT_AUTH) != 0
                        ? "it is a CLIENT certificate: clientAuth only"
                        : "other purposes only");
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Re-issue it with extendedKeyUsage=serverAuth:");
    }
    if (leaf->has_key_usage && (leaf->key_usage & MQTLS_KU_DIGITAL_SIGNATURE) == 0 &&
        (leaf->key_usage & (MQTLS_KU_KEY_ENCIPHERMENT | MQTLS_KU_KEY_AGREEMENT)) == 0) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_SERVER_KEY_USAGE)) == NULL) {
            return;
        }
        describe(it->subject, sizeof it->subject, "server certificate (depth 0)", leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "The server certificate '%s' has keyUsage without digitalSignature (and "
                    "without keyEncipherment/keyAgreement): no TLS 1.2/1.3 key exchange may "
                    "use it (mbedTLS: BADCERT_KEY_USAGE).",
                    leaf->subject);
        fix_reissue_server(c, it->fix, sizeof it->fix,
                           "Re-issue it with -addext keyUsage=critical,digitalSignature,"
                           "keyEncipherment:");
    }
}

/* A SHA-1 self-signature on a trusted root is never checked; say so, because users chase it
 * when the real problem (e.g. the root's RSA-1024 key) is elsewhere. */
static void anchor_sha1_note(ctx_t *c, const mqtls_certinfo_t *root)
{
    if (!root->self_signed || mqtls__profile_hash_ok(c->prof, root->sig_hash) ||
        mqtls__findings_has(c->out, MQTLS__F_CA_WEAK_SIGNATURE_INFO)) {
        return;
    }
    mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_CA_WEAK_SIGNATURE_INFO);
    if (it == NULL) {
        return;
    }
    describe(it->subject, sizeof it->subject, "trusted CA", root);
    mqtls__setf(it->message, sizeof it->message,
                "The root '%s' signs itself with %s. That alone is harmless: a root is trusted "
                "because it is in your CA file, its self-signature is never checked.",
                root->subject, mqtls_hash_name(root->sig_hash));
    mqtls__setf(it->fix, sizeof it->fix, "Nothing to do for this point.");
}

static void analyse_server_chain(ctx_t *c)
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
        int idx = c->ca_usable ? find_issuer(c->ca, child, &sig_ok, &name_only) : -1;
        if (idx >= 0) {
            const mqtls_certinfo_t *pi = &c->ca->info[idx];
            check_issuer_is_ca(c, depth, ci, pi, true);
            int pk = mqtls__profile_key_check(c->prof, pi->key_type, pi->key_bits, pi->curve);
            if (pk != 0) {
                add_key_finding(c, depth, ci, pi, false, pk);
            }
            check_validity(c, depth + 1, pi, true);
            anchor_sha1_note(c, pi);
            break;
        }
        int name_only_chain = -1;
        bool chain_sig_ok = false;
        int cidx = find_issuer(s, child, &chain_sig_ok, &name_only_chain);
        if (cidx >= 0) {
            const mqtls_certinfo_t *pi = &s->info[cidx];
            check_issuer_is_ca(c, depth, ci, pi, false);
            int pk = mqtls__profile_key_check(c->prof, pi->key_type, pi->key_bits, pi->curve);
            if (pk != 0) {
                add_key_finding(c, depth, ci, pi, false, pk);
            }
            child = &s->crt[cidx];
            ci = pi;
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
    check_hostname(c, leaf);
    check_server_usage(c, leaf);
}

/* Every verify flag mbedTLS raised must be explained by a finding; otherwise say so. */
static void reconcile_flags(ctx_t *c)
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
    mqtls_finding_t *it = mqtls__finding_add(c->out, MQTLS__F_VERIFY_FAILED);
    if (it == NULL) {
        return;
    }
    char info[400];
    if (mbedtls_x509_crt_verify_info(info, sizeof info, "", left) < 0) {
        info[0] = '\0';
    }
    for (char *p = info; *p != '\0'; p++) {
        if (*p == '\n') {
            *p = ';';
        }
    }
    mqtls__setf(it->subject, sizeof it->subject, "server chain, verify flags 0x%05X",
                (unsigned)left);
    mqtls__setf(it->message, sizeof it->message,
                "mbedTLS rejected the server's chain for a reason mqtls could not pin to one "
                "certificate: %s",
                info);
    mqtls__setf(it->fix, sizeof it->fix,
                "openssl s_client -connect %s:%u -showcerts -CAfile %s </dev/null   # compare "
                "the chain with your CA file",
                c->in->host != NULL ? c->in->host : "HOST", (unsigned)c->in->port,
                file_name(&c->in->ca, "ca.crt"));
}

/* ---------------------------------------------------------------- client credentials */

static void check_client(ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    const char *cname = file_name(&in->cert, "client certificate");
    mqtls_finding_t *it;
    if (!c->cert_usable) {
        return;
    }
    const mqtls_certinfo_t *leaf = &c->cert->info[0];
    const mbedtls_x509_crt *lcrt = &c->cert->crt[0];
    char role[300];
    mqtls__setf(role, sizeof role, "client certificate %s", cname);

    /* Order: mbedTLS sends the first certificate as ours. */
    if (leaf->is_ca && c->cert->count > 1) {
        for (size_t i = 1; i < c->cert->count; i++) {
            if (!c->cert->info[i].is_ca &&
                (it = mqtls__finding_add(c->out, MQTLS__F_CHAIN_ORDER)) != NULL) {
                mqtls__setf(it->subject, sizeof it->subject, "--cert %s", cname);
                mqtls__setf(it->message, sizeof it->message,
                            "'%s' starts with the CA certificate '%s'; the client's own "
                            "certificate '%s' must come first, then its intermediates.",
                            cname, leaf->subject, c->cert->info[i].subject);
                mqtls__setf(it->fix, sizeof it->fix,
                            "openssl x509 -in '%s' > leaf.crt is not enough here: reorder by "
                            "hand so that '%s' is first: cat device.crt intermediate.crt > "
                            "client-chain.crt",
                            cname, c->cert->info[i].subject);
                break;
            }
        }
    }
    if (!c->clock_bad && leaf->not_after_s < c->now &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CERT_EXPIRED)) != NULL) {
        char d[16];
        fmt_date(d, sizeof d, leaf->not_after_s);
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' expired on %s. The broker will reject it "
                    "(OpenSSL: 'certificate has expired', alert certificate_expired).",
                    leaf->subject, d);
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "Renew it from the same CA:");
    }
    if (!c->clock_bad && leaf->not_before_s > c->now &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CERT_NOT_YET_VALID)) != NULL) {
        char d[16];
        fmt_date(d, sizeof d, leaf->not_before_s);
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' is only valid from %s. The broker will reject "
                    "it until then (or its clock or this one is wrong).",
                    leaf->subject, d);
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "date -u   # check both clocks; if they are right, re-issue it now:");
    }
    if (leaf->has_ext_key_usage &&
        (leaf->ext_key_usage & (MQTLS_EKU_CLIENT_AUTH | MQTLS_EKU_ANY)) == 0 &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_EKU_MISSING)) != NULL) {
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' has extendedKeyUsage without clientAuth%s. "
                    "Brokers (OpenSSL) reject it: 'unsupported certificate purpose'.",
                    leaf->subject,
                    (leaf->ext_key_usage & MQTLS_EKU_SERVER_AUTH) != 0
                        ? " (serverAuth only: it is a SERVER certificate)"
                        : "");
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "Re-issue it with extendedKeyUsage=clientAuth:");
    }
    if (leaf->has_key_usage && (leaf->key_usage & MQTLS_KU_DIGITAL_SIGNATURE) == 0 &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_KEY_USAGE)) != NULL) {
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' has keyUsage without digitalSignature; a "
                    "client signs the handshake (CertificateVerify) with it.",
                    leaf->subject);
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "Re-issue it with keyUsage=critical,digitalSignature:");
    }
    /* The broker (OpenSSL, security level 2 on Debian/Ubuntu) checks our key and hash. */
    const mqtls__profile_t *ossl = mqtls__profile_get(MQTLS_PROFILE_OPENSSL_SECLEVEL2);
    if (mqtls__profile_key_check(ossl, leaf->key_type, leaf->key_bits, leaf->curve) != 0 &&
        leaf->key_type != MQTLS_KEY_NONE &&
        (it = mqtls__finding_add(c->out, MQTLS__F_WEAK_CLIENT_KEY)) != NULL) {
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' has a %s key. Brokers built on OpenSSL with "
                    "security level 2 (Debian/Ubuntu default: mosquitto) reject keys below "
                    "RSA-2048 / 224-bit EC ('ee key too small').",
                    leaf->subject, leaf->key_desc);
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "Make a new key and certificate:");
    }
    if (!leaf->self_signed && !mqtls__profile_hash_ok(ossl, leaf->sig_hash) &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_SIGNATURE_HASH)) != NULL) {
        describe(it->subject, sizeof it->subject, role, leaf);
        mqtls__setf(it->message, sizeof it->message,
                    "Your client certificate '%s' is signed with %s; OpenSSL brokers at "
                    "security level 2 reject it ('ca md too weak').",
                    leaf->subject, mqtls_hash_name(leaf->sig_hash));
        fix_reissue_client(c, it->fix, sizeof it->fix, leaf->common_name,
                           "Re-sign it with SHA-256:");
    }
    /* Key pair. */
    if (c->key_usable && mqtls__dm_pk_check_pair(&lcrt->pk, &c->key) != 0 &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_KEY_MISMATCH)) != NULL) {
        const char *kname = file_name(&in->key, "key");
        describe(it->subject, sizeof it->subject, role, leaf);
        /* Does the key belong to another certificate in the file? */
        int other = -1;
        for (size_t i = 1; i < c->cert->count && other < 0; i++) {
            if (mqtls__dm_pk_check_pair(&c->cert->crt[i].pk, &c->key) == 0) {
                other = (int)i;
            }
        }
        mqtls__setf(it->message, sizeof it->message,
                    "The private key '%s' (%s) does not belong to the client certificate '%s' "
                    "(%s).%s%s%s The broker would fail the handshake (decrypt_error).",
                    kname, c->keyinfo.key_desc, leaf->subject, leaf->key_desc,
                    other >= 0 ? " It belongs to '" : "",
                    other >= 0 ? c->cert->info[other].subject : "", other >= 0 ? "'." : "");
        {
            char alt[400];
            char hint[300];
            mqtls__setf(hint, sizeof hint,
                        "Find the matching pair (equal hashes): openssl x509 -in '%s' -noout "
                        "-pubkey | openssl sha256; openssl pkey -in '%s' -pubout | openssl sha256. "
                        "Or a new pair:",
                        cname, kname);
            fix_reissue_client(c, alt, sizeof alt, leaf->common_name, NULL);
            mqtls__setf(it->fix, sizeof it->fix, "%s\n%s", hint, alt);
        }
    }
    /* The chain we send: leaf (+ intermediates in the file). If it ends at an intermediate
     * that only the CA file knows, the broker (which normally trusts only the root) cannot
     * build the path. */
    const mbedtls_x509_crt *cur = lcrt;
    for (int guard = 0; guard < (int)MQTLS__MAX_CERTS; guard++) {
        bool ok = false;
        int name_only = -1;
        int i = find_issuer(c->cert, cur, &ok, &name_only);
        if (i < 0) {
            break;
        }
        cur = &c->cert->crt[i];
    }
    bool cur_self = name_eq(&cur->subject_raw, &cur->issuer_raw);
    if (!cur_self && c->ca_usable) {
        bool ok = false;
        int name_only = -1;
        int i = find_issuer(c->ca, cur, &ok, &name_only);
        if (i >= 0 && !c->ca->info[i].self_issued &&
            (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CHAIN_INCOMPLETE)) != NULL) {
            describe(it->subject, sizeof it->subject, role, leaf);
            mqtls__setf(it->message, sizeof it->message,
                        "Your client certificate '%s' was issued by the intermediate CA '%s', "
                        "but '%s' does not contain it. A broker that trusts only the root '%s' "
                        "cannot verify you ('unable to get local issuer certificate').",
                        leaf->subject, c->ca->info[i].subject, cname, c->ca->info[i].issuer);
            mqtls__setf(it->fix, sizeof it->fix,
                        "cat '%s' intermediate.crt > client-chain.crt   # then --cert "
                        "client-chain.crt (the intermediate '%s' is in your CA file)",
                        cname, c->ca->info[i].subject);
        }
    }
}

static void check_key(ctx_t *c)
{
    const mqtls_diag_input_t *in = c->in;
    const char *kname = file_name(&in->key, "key file");
    mqtls_finding_t *it;
    if (c->swapped) {
        return;
    }
    if (in->key.read_errno != 0 || (in->key.data == NULL && in->key.display_name != NULL)) {
        mqtls_diag_file_t f = in->key;
        mqtls__certset_t dummy;
        memset(&dummy, 0, sizeof dummy);
        (void)check_cert_file(c, &f, &dummy, "key file", "--key");
        return;
    }
    if (in->cert.data != NULL && in->key.data == NULL && c->cert_usable) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_KEY_MISSING)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "--cert %s", file_name(&in->cert, "cert"));
            mqtls__setf(it->message, sizeof it->message,
                        "A client certificate is given but no private key: mutual TLS needs "
                        "both.");
            mqtls__setf(it->fix, sizeof it->fix, "--cert client.crt --key client.key");
        }
        return;
    }
    if (in->key.data == NULL) {
        return;
    }
    if (in->cert.data == NULL && in->cert.display_name == NULL &&
        (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CERT_MISSING)) != NULL) {
        mqtls__setf(it->subject, sizeof it->subject, "--key %s", kname);
        mqtls__setf(it->message, sizeof it->message,
                    "A private key is given but no client certificate: the broker needs the "
                    "certificate to identify you.");
        mqtls__setf(it->fix, sizeof it->fix, "--cert client.crt --key '%s'", kname);
    }
    /* Same NUL rule for keys given through a buffer API (mbedtls_pk_parse_key). */
    if (in->key.from_buffer_api && in->key.len > 0 && in->key.data[0] != 0x30 &&
        in->key.data[in->key.len - 1] != '\0' &&
        (it = mqtls__finding_add(c->out, MQTLS__F_PEM_NOT_NUL_TERMINATED)) != NULL) {
        mqtls__setf(it->subject, sizeof it->subject, "--key %s", kname);
        mqtls__setf(it->message, sizeof it->message,
                    "The PEM key buffer '%s' (%zu bytes) does not end with a NUL byte. mqtls "
                    "accepts it, but mbedtls_pk_parse_key() and esp-tls need the length to "
                    "INCLUDE the terminating NUL (else -0x3D00). In ESP-IDF: EMBED_FILES used "
                    "where EMBED_TXTFILES was meant.",
                    kname, in->key.len);
        mqtls__setf(it->fix, sizeof it->fix,
                    "CMakeLists.txt: idf_component_register(... EMBED_TXTFILES client.key) and "
                    "pass len = end - start (the NUL is then included)");
    }
    switch (c->key_status) {
    case MQTLS_OK:
        break;
    case MQTLS_ERR_FILE_EMPTY:
        if ((it = mqtls__finding_add(c->out, MQTLS__F_EMPTY_FILE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "--key %s", kname);
            mqtls__setf(it->message, sizeof it->message, "The key file '%s' is empty.", kname);
            mqtls__setf(it->fix, sizeof it->fix,
                        "openssl pkey -in '%s' -noout   # after copying "
                        "the key again",
                        kname);
        }
        break;
    case MQTLS_ERR_KEY_PASSWORD_REQUIRED:
        if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_PASSWORD_REQUIRED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "--key %s (encrypted%s%s)", kname,
                        c->keyinfo.encryption[0] ? ", " : "", c->keyinfo.encryption);
            mqtls__setf(it->message, sizeof it->message,
                        "The private key '%s' is encrypted (%s) and no password was given.", kname,
                        c->keyinfo.encryption[0] ? c->keyinfo.encryption : "PEM");
            mqtls__setf(it->fix, sizeof it->fix,
                        "--keypass-file key.pass   (key.pass: a file whose first line is the "
                        "password of '%s'), or store it decrypted with tight permissions: "
                        "openssl pkey -in '%s' -out client-plain.key && chmod 600 "
                        "client-plain.key",
                        kname, kname);
        }
        break;
    case MQTLS_ERR_KEY_PASSWORD_WRONG:
        if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_PASSWORD_WRONG)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "--key %s (encrypted%s%s)", kname,
                        c->keyinfo.encryption[0] ? ", " : "", c->keyinfo.encryption);
            mqtls__setf(it->message, sizeof it->message,
                        "The password given does not decrypt the private key '%s'.", kname);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Check the password: openssl pkey -in '%s' -noout  (asks for it), then "
                        "give the right one: --keypass-file key.pass (first line = the password; "
                        "no trailing space or CR)",
                        kname);
        }
        break;
    case MQTLS_ERR_KEY_UNSUPPORTED:
        if (c->keyinfo.key_type == MQTLS_KEY_ED25519 || c->keyinfo.key_type == MQTLS_KEY_ED448 ||
            c->keyinfo.key_type == MQTLS_KEY_OTHER || !c->keyinfo.is_encrypted) {
            if (mqtls__findings_has(c->out, MQTLS__F_KEY_TYPE_UNSUPPORTED) ||
                (it = mqtls__finding_add(c->out, MQTLS__F_KEY_TYPE_UNSUPPORTED)) == NULL) {
                break;
            }
            mqtls__setf(it->subject, sizeof it->subject, "--key %s (%s)", kname,
                        c->keyinfo.key_desc);
            mqtls__setf(it->message, sizeof it->message,
                        "The private key '%s' is %s, which this mbedTLS cannot use for TLS "
                        "(mbedTLS 2.28 and 3.x support RSA and ECDSA keys only).",
                        kname, c->keyinfo.key_desc);
            fix_reissue_client(c, it->fix, sizeof it->fix, NULL,
                               "Use an ECDSA P-256 (or RSA-2048) key and certificate:");
        } else {
            if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_ENCRYPTION_UNSUPPORTED)) == NULL) {
                break;
            }
            mqtls__setf(it->subject, sizeof it->subject, "--key %s (encrypted, %s)", kname,
                        c->keyinfo.encryption[0] ? c->keyinfo.encryption : "unknown scheme");
            mqtls__setf(it->message, sizeof it->message,
                        "The private key '%s' is encrypted with %s, which this mbedTLS cannot "
                        "decrypt (mbedTLS before 3.5 reads PKCS#8 PBES2 only with DES/3DES; "
                        "OpenSSL 3 encrypts with AES-256-CBC by default). mbedTLS -0x%04X.",
                        kname, c->keyinfo.encryption[0] ? c->keyinfo.encryption : "this scheme",
                        (unsigned)-c->keyinfo.mbedtls_ret);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Re-encrypt in the traditional PEM format (mbedTLS reads it): openssl "
                        "pkey -in '%s' -aes256 -traditional -out client-legacy.key\nthen: --key "
                        "client-legacy.key",
                        kname);
        }
        break;
    default:
        if (c->keyset->count > 0) {
            if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_NOT_A_KEY)) != NULL) {
                mqtls__setf(it->subject, sizeof it->subject, "--key %s", kname);
                mqtls__setf(it->message, sizeof it->message,
                            "The key file '%s' holds a certificate ('%s'), not a private key.",
                            kname, c->keyset->info[0].subject);
                mqtls__setf(it->fix, sizeof it->fix,
                            "Give the private key (-----BEGIN ... PRIVATE KEY-----) as --key: "
                            "grep -l 'PRIVATE KEY' *.pem *.key");
            }
        } else if ((it = mqtls__finding_add(c->out, MQTLS__F_KEY_NOT_A_KEY)) != NULL) {
            char err[100];
            mbedtls_strerror(c->keyinfo.mbedtls_ret, err, sizeof err);
            mqtls__setf(it->subject, sizeof it->subject, "--key %s", kname);
            mqtls__setf(it->message, sizeof it->message,
                        "The key file '%s' does not hold a private key mbedTLS can read "
                        "(-0x%04X: %s).",
                        kname, (unsigned)-c->keyinfo.mbedtls_ret, err);
            mqtls__setf(it->fix, sizeof it->fix, "openssl pkey -in '%s' -noout -text | head -3",
                        kname);
        }
        break;
    }
}

/* ---------------------------------------------------------------- live: handshake facts */

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

static void analyse_client_side_alerts(ctx_t *c)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    const mqtls_error_t *e = c->in->err;
    int alert = f != NULL ? f->alert_received : -1;
    if (alert < 0 && e != NULL && e->tls_alert >= 0) {
        alert = e->tls_alert;
    }
    mqtls_finding_t *it;
    if (f == NULL) {
        return;
    }
    if (f->cert_requested && !f->client_cert_sent) {
        if (!c->cert_usable && !mqtls__findings_has(c->out, MQTLS__F_CLIENT_CERT_MISSING) &&
            (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CERT_MISSING)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "broker %s:%u",
                        c->in->host != NULL ? c->in->host : "?", (unsigned)c->in->port);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker asked for a client certificate (mosquitto "
                        "'require_certificate true') and none was configured, so it ended the "
                        "handshake%s%s%s.",
                        alert >= 0 ? " with alert " : "", alert >= 0 ? alert_name(alert) : "", "");
            fix_reissue_client(c, it->fix, sizeof it->fix, NULL,
                               "Give --cert and --key; to make a pair:");
        }
        return;
    }
    if (!f->client_cert_sent || alert < 0 || alert == 0) {
        return;
    }
    bool cert_alert = alert == ALERT_BAD_CERTIFICATE || alert == 43 || alert == 44 ||
                      alert == ALERT_CERTIFICATE_EXPIRED || alert == 46 ||
                      alert == ALERT_UNKNOWN_CA || alert == ALERT_ACCESS_DENIED ||
                      alert == ALERT_DECRYPT_ERROR || alert == ALERT_HANDSHAKE_FAILURE ||
                      alert == ALERT_CERTIFICATE_REQUIRED || alert == ALERT_INSUFFICIENT_SECURITY;
    if (!cert_alert) {
        return;
    }
    /* A known cause on our side explains the rejection: make it the error, not a generic
     * "rejected" (the broker cannot build the path without the intermediate). */
    for (size_t i = 0; i < c->out->count; i++) {
        mqtls_finding_t *x = &c->out->items[i];
        if (x->id == mqtls__finding_def(MQTLS__F_CLIENT_CHAIN_INCOMPLETE)->id &&
            (alert == ALERT_UNKNOWN_CA || alert == ALERT_BAD_CERTIFICATE ||
             alert == ALERT_CERTIFICATE_REQUIRED || alert == 46)) {
            x->severity = MQTLS_SEV_ERROR;
            mqtls__appendf(x->message, sizeof x->message,
                           " The broker did reject the certificate: alert %s (%d).",
                           alert_name(alert), alert);
            return;
        }
    }
    /* Our issuer among the CA names the broker asked for? */
    if (c->cert_usable && f->ca_names != NULL && f->ca_names_len > 0) {
        /* The name that must be accepted is the issuer of the last certificate we send. */
        const mbedtls_x509_crt *last = &c->cert->crt[c->cert->count - 1];
        size_t n = 0;
        bool ok = false;
        for (size_t i = 0; i < c->cert->count && !ok; i++) {
            ok = ca_names_contain(f->ca_names, f->ca_names_len, &c->cert->crt[i].issuer_raw, &n);
        }
        if (!ok && n > 0 &&
            (it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CA_NOT_ACCEPTED)) != NULL) {
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
            describe(it->subject, sizeof it->subject, "client certificate", &c->cert->info[0]);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker accepts client certificates from %zu CA(s)%s%s%s, and your "
                        "certificate's CA '%s' is not one of them. It answered with alert %s "
                        "(%d).",
                        n, accepted[0] ? " (first: '" : "", accepted, accepted[0] ? "')" : "",
                        issuer, alert_name(alert), alert);
            {
                char hint[300];
                mqtls__setf(hint, sizeof hint,
                            "Add '%s' to the broker's cafile and restart it, or get a certificate "
                            "from its client CA ('%s'):",
                            issuer, accepted[0] ? accepted : "ask the operator");
                fix_reissue_client(c, it->fix, sizeof it->fix, c->cert->info[0].common_name,
                                   hint);
            }
            return;
        }
    }
    if ((it = mqtls__finding_add(c->out, MQTLS__F_CLIENT_CERT_REJECTED)) == NULL) {
        return;
    }
    if (c->cert_usable) {
        describe(it->subject, sizeof it->subject, "client certificate", &c->cert->info[0]);
    } else {
        mqtls__setf(it->subject, sizeof it->subject, "client certificate");
    }
    const char *why = "";
    switch (alert) {
    case ALERT_UNKNOWN_CA:
        why = " The broker does not trust the CA that issued it (check its "
              "'cafile'), or your file lacks an intermediate.";
        break;
    case ALERT_CERTIFICATE_EXPIRED:
        why = " The broker considers it expired (check both clocks).";
        break;
    case ALERT_DECRYPT_ERROR:
        why = " The handshake signature did not verify: the key does not "
              "match the certificate.";
        break;
    case ALERT_BAD_CERTIFICATE:
    case 43:
        why = " OpenSSL sends this for a wrong purpose (EKU without clientAuth), a weak key "
              "or hash (security level 2), or a certificate it cannot parse.";
        break;
    case ALERT_ACCESS_DENIED:
        why = " The certificate is valid but not allowed (ACL, CRL or "
              "broker policy).";
        break;
    default:
        break;
    }
    mqtls__setf(it->message, sizeof it->message,
                "The broker rejected your client certificate with fatal alert %s (%d) right "
                "after receiving it.%s",
                alert_name(alert), alert, why);
    {
        char hint[300];
        mqtls__setf(hint, sizeof hint,
                    "The broker log says why (mosquitto: 'OpenSSL Error'); check: openssl verify "
                    "-purpose sslclient -CAfile BROKER_CAFILE %s. A new certificate from the "
                    "broker's client CA:",
                    c->in->cert.display_name != NULL ? c->in->cert.display_name : "client.crt");
        fix_reissue_client(c, it->fix, sizeof it->fix,
                           c->cert_usable ? c->cert->info[0].common_name : NULL, hint);
    }
}

/* ---------------------------------------------------------------- live: transport, MQTT */

static bool is_tls_port(uint16_t p)
{
    return p == 8883 || p == 8884 || p == 443 || p == 8443 || p == 8886;
}

static void analyse_transport(ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    const mqtls_tls_facts_t *f = c->in->facts;
    if (e == NULL) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    mqtls_finding_t *it;
    if (e->layer == MQTLS_LAYER_DNS || e->status == MQTLS_ERR_DNS) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_DNS_FAILURE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "host %s", host);
            mqtls__setf(it->message, sizeof it->message,
                        "The host name '%s' cannot be resolved (%s).", host,
                        e->detail[0] ? e->detail : "no address");
            mqtls__setf(it->fix, sizeof it->fix,
                        "getent ahosts %s   # check the spelling, DNS or /etc/hosts; or use the "
                        "IP address with --tls-server-name %s",
                        host, host);
        }
        return;
    }
    if (e->status == MQTLS_ERR_CONN_REFUSED) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CONNECTION_REFUSED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "Nothing accepts connections on %s port %u (TCP RST). The broker is "
                        "not running, or listens on another port/address (MQTT: 1883 plain, "
                        "8883 TLS).",
                        host, port);
            mqtls__setf(it->fix, sizeof it->fix,
                        "On the broker: ss -ltnp | grep %u; mosquitto.conf needs 'listener %u' "
                        "(mosquitto 2.x listens only on localhost without a listener line)",
                        port, port);
        }
        return;
    }
    if (e->status == MQTLS_ERR_CONNECT_TIMEOUT || e->status == MQTLS_ERR_NET_UNREACHABLE) {
        bool to = e->status == MQTLS_ERR_CONNECT_TIMEOUT;
        if ((it = mqtls__finding_add(c->out, to ? MQTLS__F_CONNECT_TIMEOUT
                                                : MQTLS__F_NETWORK_UNREACHABLE)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        to ? "The TCP connection to %s:%u timed out: a firewall drops the "
                             "packets, the address is wrong, or the host is down."
                           : "%s:%u is unreachable from here (no route).",
                        host, port);
            mqtls__setf(it->fix, sizeof it->fix,
                        "nc -vz -w 5 %s %u   # and check firewalls / security groups for port %u",
                        host, port, port);
        }
        return;
    }
    if (e->status == MQTLS_ERR_TLS_NOT_TLS || (f != NULL && f->peer_not_tls)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_TLS_ON_PLAIN_PORT)) != NULL) {
            char hex[64] = "";
            for (size_t i = 0; f != NULL && i < f->first_bytes_len && i < 8; i++) {
                mqtls__appendf(hex, sizeof hex, "%s%02X", i ? " " : "", f->first_bytes[i]);
            }
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The server on %s:%u answered the TLS ClientHello with something that "
                        "is not TLS%s%s%s: this port speaks plain MQTT (or another protocol).",
                        host, port, hex[0] ? " (first bytes: " : "", hex, hex[0] ? ")" : "");
            mqtls__setf(it->fix, sizeof it->fix,
                        "Use the TLS port (usually 8883: mqtts://%s:8883), or drop TLS for a "
                        "plain port (mqtt://%s:%u)",
                        host, host, port);
        }
        return;
    }
    if (e->status == MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_HANDSHAKE_TIMEOUT)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The TLS handshake with %s:%u did not finish in time. %s", host, port,
                        f != NULL && !f->server_hello_seen
                            ? "The server never answered the ClientHello: it may be a plain "
                              "MQTT port waiting for CONNECT, or a proxy."
                            : "The server answered but stalled (slow RSA on a small device, "
                              "or packet loss).");
            mqtls__setf(it->fix, sizeof it->fix,
                        "openssl s_client -connect %s:%u </dev/null   # does TLS answer at all?",
                        host, port);
        }
        return;
    }
    int alert = f != NULL ? f->alert_received : e->tls_alert;
    bool hello = f != NULL && f->server_hello_seen;
    if (e->layer == MQTLS_LAYER_TLS && alert == ALERT_NO_APPLICATION_PROTOCOL) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_ALPN_REQUIRED)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker requires an ALPN protocol name we did not offer (alert "
                        "no_application_protocol). AWS IoT on port 443 wants 'x-amzn-mqtt-ca'.");
            mqtls__setf(it->fix, sizeof it->fix, "--alpn x-amzn-mqtt-ca   (or use port 8883)");
        }
        return;
    }
    if (e->layer == MQTLS_LAYER_TLS && !hello &&
        (alert == ALERT_HANDSHAKE_FAILURE || alert == ALERT_PROTOCOL_VERSION ||
         alert == ALERT_INSUFFICIENT_SECURITY ||
         mqtls__dm_ret_is_no_shared_cipher(e->mbedtls_ret))) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_NO_SHARED_CIPHER)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker refused our ClientHello%s%s: we share no TLS version or "
                        "cipher suite (e.g. broker 'tls_version tlsv1.3' vs a TLS 1.2-only "
                        "mbedTLS, or an ECDSA-only server and RSA-only suites).",
                        alert >= 0 ? " with alert " : "", alert >= 0 ? alert_name(alert) : "");
            mqtls__setf(it->fix, sizeof it->fix,
                        "openssl s_client -connect %s:%u -tls1_2 </dev/null; check mosquitto "
                        "'tls_version' and 'ciphers'",
                        host, port);
        }
        return;
    }
    if ((e->layer == MQTLS_LAYER_TLS || e->layer == MQTLS_LAYER_TCP) && !hello && f != NULL &&
        !f->cert_requested &&
        (f->peer_silent_close || e->status == MQTLS_ERR_CLOSED ||
         e->status == MQTLS_ERR_CONN_RESET ||
         e->mbedtls_ret == -0x7280 /* MBEDTLS_ERR_SSL_CONN_EOF (2.x and 3.x) */ ||
         e->mbedtls_ret == -0x0050 /* MBEDTLS_ERR_NET_CONN_RESET */)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_TLS_ON_PLAIN_PORT)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The server on %s:%u closed the connection as soon as it saw our TLS "
                        "ClientHello, without a TLS answer. That is what a plain-MQTT port "
                        "does (mosquitto drops the 'malformed' packet).",
                        host, port);
            mqtls__setf(it->fix, sizeof it->fix,
                        "Use the TLS port (usually mqtts://%s:8883), or mqtt://%s:%u without "
                        "TLS",
                        host, host, port);
        }
        return;
    }
    if (e->layer == MQTLS_LAYER_TLS && alert >= 0 && !(f != NULL && f->client_cert_sent) &&
        !(f != NULL && f->cert_requested)) {
        if ((it = mqtls__finding_add(c->out, MQTLS__F_TLS_ALERT)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker ended the handshake with fatal alert %s (%d).",
                        alert_name(alert), alert);
            mqtls__setf(it->fix, sizeof it->fix,
                        "openssl s_client -connect %s:%u -state </dev/null; the broker log "
                        "names the reason",
                        host, port);
        }
    }
}

static void analyse_mqtt(ctx_t *c)
{
    const mqtls_error_t *e = c->in->err;
    /* Without TLS, a reset/close after TCP connected is an MQTT-level outcome: the transport
     * reports it as tcp, but the peer reacted to our CONNECT. */
    bool plain_after_connect = e != NULL && c->in->facts == NULL &&
                               (e->layer == MQTLS_LAYER_TCP || e->layer == MQTLS_LAYER_NONE) &&
                               (e->status == MQTLS_ERR_CONN_RESET || e->status == MQTLS_ERR_CLOSED);
    if (e == NULL || (e->layer != MQTLS_LAYER_MQTT && !plain_after_connect)) {
        return;
    }
    const char *host = c->in->host != NULL ? c->in->host : "?";
    unsigned port = c->in->port;
    mqtls_finding_t *it;
    int rc = e->connack_reason;
    if (rc > 0) {
        mqtls__finding_id_t id = MQTLS__F_CONNACK_REFUSED;
        const char *msg = "see the broker log.";
        const char *fix = "Check the broker log for the reason (mosquitto: -v or log_type all)";
        switch (rc) {
        case 1:
        case 0x84:
            id = MQTLS__F_UNSUPPORTED_PROTOCOL_VERSION;
            msg = "it does not speak this MQTT version.";
            fix = "-V 311 (MQTT 3.1.1) or -V 5, whichever the broker supports";
            break;
        case 2:
        case 0x85:
            id = MQTLS__F_CLIENT_ID_REJECTED;
            msg = "client identifier not valid (too "
                  "long, bad characters, empty with clean session off, or not allowed).";
            fix = "-i device-001   (1-23 letters/digits is safe everywhere)";
            break;
        case 3:
        case 0x88:
        case 0x89:
            id = MQTLS__F_SERVER_UNAVAILABLE;
            msg = "server unavailable or busy.";
            fix = "Retry later with back-off; check the broker's health and connection limits";
            break;
        case 4:
        case 0x86:
            id = MQTLS__F_BAD_CREDENTIALS;
            msg = "bad user name or password.";
            fix = "-u USER -P PASS (mosquitto: check password_file; with "
                  "use_identity_as_username the certificate's CN is the user name)";
            break;
        case 5:
        case 0x87:
        case 0x8C:
            id = MQTLS__F_NOT_AUTHORIZED;
            msg = "not authorized. TLS worked; the "
                  "broker's authentication/ACL rejected this client.";
            fix = "mosquitto: allow_anonymous true, or a password_file entry, or "
                  "use_identity_as_username true (CN = user) plus an acl_file entry";
            break;
        default:
            break;
        }
        if ((it = mqtls__finding_add(c->out, id)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "CONNACK from %s:%u, MQTT %s", host, port,
                        c->in->mqtt_version == 5   ? "5.0"
                        : c->in->mqtt_version == 4 ? "3.1.1"
                                                   : "?");
            mqtls__setf(it->message, sizeof it->message,
                        "The broker refused CONNECT with reason code %d (0x%02X): %s", rc, rc, msg);
            mqtls__setf(it->fix, sizeof it->fix, "%s", fix);
        }
        return;
    }
    if (e->status == MQTLS_ERR_CLOSED || e->status == MQTLS_ERR_CONN_RESET ||
        e->status == MQTLS_ERR_CONNACK_TIMEOUT || e->status == MQTLS_ERR_PROTOCOL) {
        bool tls = c->in->facts != NULL && c->in->facts->server_hello_seen;
        /* A plain MQTT broker answers CONNECT (CONNACK) or closes gracefully; a TLS listener
         * takes our CONNECT for a broken record and resets. */
        if (!tls && (is_tls_port(c->in->port) ||
                     (c->in->facts == NULL && e->status == MQTLS_ERR_CONN_RESET))) {
            if ((it = mqtls__finding_add(c->out, MQTLS__F_PLAIN_ON_TLS_PORT)) != NULL) {
                mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
                mqtls__setf(it->message, sizeof it->message,
                            "Plain MQTT was sent to %s:%u, which is a TLS port: the broker "
                            "read our CONNECT as a broken TLS record and %s.",
                            host, port,
                            e->status == MQTLS_ERR_CONNACK_TIMEOUT ? "never answered"
                                                                   : "closed the connection");
                mqtls__setf(it->fix, sizeof it->fix,
                            "mqtts://%s:%u --cafile ca.crt   (or the plain port: mqtt://%s:1883)",
                            host, port, host);
            }
            return;
        }
        if ((it = mqtls__finding_add(c->out, MQTLS__F_CLOSED_AFTER_CONNECT)) != NULL) {
            mqtls__setf(it->subject, sizeof it->subject, "%s:%u", host, port);
            mqtls__setf(it->message, sizeof it->message,
                        "The broker closed the connection after our CONNECT without a CONNACK. "
                        "Mosquitto does this when use_identity_as_username/"
                        "use_subject_as_username is on and the certificate gives no name, when "
                        "another client takes over the same client id, or for a protocol "
                        "error.");
            mqtls__setf(it->fix, sizeof it->fix,
                        "Check the broker log ('Client <id> disconnected' reason); try another "
                        "-i CLIENT_ID and -V 311");
        }
    }
}

/* ---------------------------------------------------------------- entry points */

static void input_defaults(mqtls_diag_input_t *in)
{
    memset(in, 0, sizeof *in);
    in->struct_size = sizeof *in;
    in->profile = MQTLS_PROFILE_MBEDTLS_DEFAULT;
}

void mqtls_diag_input_init_sized(mqtls_diag_input_t *in, size_t size)
{
    mqtls_diag_input_t d;
    input_defaults(&d);
    mqtls__struct_init(in, size, &d, sizeof d);
}

/* The first public layout (ABI 1): callers cannot be older than this. */
#define DIAG_INPUT_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_diag_input_t, insecure)

static void load_server_chain(ctx_t *c)
{
    const mqtls_tls_facts_t *f = c->in->facts;
    if (!mqtls__certset_reserve(c->server, MQTLS__MAX_CHAIN_DEPTH) || f == NULL) {
        return;
    }
    const mqtls_cert_fact_t *list = f->presented_len > 0 ? f->presented : f->chain;
    size_t n = f->presented_len > 0 ? f->presented_len : f->chain_len;
    for (size_t i = 0; i < n && i < MQTLS__MAX_CHAIN_DEPTH && c->server->count < c->server->cap;
         i++) {
        if (list[i].der == NULL || list[i].der_len == 0) {
            continue;
        }
        mbedtls_x509_crt *x = &c->server->crt[c->server->count];
        if (mbedtls_x509_crt_parse_der(x, list[i].der, list[i].der_len) == 0) {
            mqtls__certinfo_fill(x, &c->server->info[c->server->count], true);
            c->server->count++;
        } else {
            mbedtls_x509_crt_free(x);
            mbedtls_x509_crt_init(x);
        }
    }
}

mqtls_status_t mqtls_diag_run(const mqtls_diag_input_t *caller_in, mqtls_findings_t *out)
{
    if (caller_in == NULL || out == NULL || out->count > MQTLS__MAX_FINDINGS) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_diag_input_t full;
    input_defaults(&full);
    mqtls_status_t ist = mqtls__struct_import(&full, sizeof full, caller_in, DIAG_INPUT_V1_SIZE);
    if (ist != MQTLS_OK) {
        return ist;
    }
    const mqtls_diag_input_t *in = &full;
    ctx_t c;
    memset(&c, 0, sizeof c);
    c.in = in;
    c.out = out;
    c.prof = mqtls__profile_get(in->profile);
    c.now = in->now_s;
    c.clock_bad = in->now_s < CLOCK_SANE_MIN_S;
    c.ca = calloc(1, sizeof *c.ca);
    c.cert = calloc(1, sizeof *c.cert);
    c.keyset = calloc(1, sizeof *c.keyset);
    c.server = calloc(1, sizeof *c.server);
    if (c.ca == NULL || c.cert == NULL || c.keyset == NULL || c.server == NULL) {
        free(c.ca);
        free(c.cert);
        free(c.keyset);
        free(c.server);
        return MQTLS_ERR_NOMEM;
    }
    mqtls_finding_t *it;
    if ((in->insecure || (in->facts != NULL && in->facts->insecure)) &&
        (it = mqtls__finding_add(out, MQTLS__F_INSECURE_MODE)) != NULL) {
        mqtls__setf(it->subject, sizeof it->subject, "--insecure");
        mqtls__setf(it->message, sizeof it->message,
                    "Certificate verification is OFF: anyone on the path can impersonate the "
                    "broker. Use it only to debug, never in production.");
        mqtls__setf(it->fix, sizeof it->fix, "drop --insecure and give --cafile ca.crt");
    }
    if (c.clock_bad && (it = mqtls__finding_add(out, MQTLS__F_CLOCK_NOT_SET)) != NULL) {
        char d[16];
        fmt_date(d, sizeof d, in->now_s);
        mqtls__setf(it->subject, sizeof it->subject, "local clock: %s", d);
        mqtls__setf(it->message, sizeof it->message,
                    "The clock here says %s, before any certificate in use was issued, so every "
                    "certificate looks 'not yet valid' (mbedTLS flag FUTURE). The device has "
                    "not synchronised its time yet.",
                    d);
        mqtls__setf(it->fix, sizeof it->fix,
                    "ESP-IDF: esp_sntp_setservername(0, \"pool.ntp.org\"); esp_sntp_init(); then "
                    "wait until time(NULL) > 1700000000 before connecting. Linux: timedatectl "
                    "set-ntp true");
    }
    check_files(&c);
    analyse_transport(&c);
    check_ca_file(&c);
    load_server_chain(&c);
    if (c.server->count > 0) {
        analyse_server_chain(&c);
        reconcile_flags(&c);
    } else {
        check_ca_keys_offline(&c);
        reconcile_flags(&c);
    }
    check_client(&c);
    check_key(&c);
    analyse_client_side_alerts(&c);
    analyse_mqtt(&c);

    mbedtls_pk_free(&c.key);
    mqtls__certset_free(c.ca);
    mqtls__certset_free(c.cert);
    mqtls__certset_free(c.keyset);
    mqtls__certset_free(c.server);
    free(c.ca);
    free(c.cert);
    free(c.keyset);
    free(c.server);
    mqtls_findings_sort(out);
    return MQTLS_OK;
}
