/* Fixes a user can paste, safely. The rules every writer here keeps (tests/scenarios/
 * fix_check.sh runs each fix in a scratch copy whose path has a space and a quote, and checks
 * them):
 *   - a line that starts with "$ " is a command, to paste as printed; other lines say what to
 *     change (a flag, a broker setting) or give a choice ("Or ..."; the commands before the
 *     first such line are the recommended fix);
 *   - commands name the user's own files and host, quoted for a POSIX shell;
 *   - they never overwrite, move or delete a file the user has: new files go to new names
 *     (a command that writes one first checks it is not there: "test ! -e NEW && ..."), new
 *     certificates to a new folder next to the CA ("mkdir" fails if it exists), and never
 *     with --force;
 *   - they never write into a folder the system owns (/etc/ssl, /usr, ...);
 *   - a re-issued certificate keeps every subjectAltName and the key type of the old one;
 *   - lowering security (anonymous access, --insecure) is never the fix.
 * `mqtls pki` (docs/cli/pki.md) reads DIR/ca.crt + DIR/ca.key and writes DIR/server.* or
 * DIR/<name>.*: the new folder gets links to the user's CA file and its key under those
 * names. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "diag_ctx.h"

/* ---------------------------------------------------------------- paths and quoting */

void mqtls__diag_shq(char *dst, size_t cap, const char *s)
{
    /* Quoted only when needed, so the common case stays readable. */
    bool plain = s[0] != '\0';
    for (const char *p = s; *p != '\0' && plain; p++) {
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("._/-:+@%=,", *p) != NULL;
    }
    if (plain) {
        mqtls__setf(dst, cap, "%s", s);
        return;
    }
    /* '...' with each ' written as '\'' (POSIX sh, bash, zsh). */
    if (cap < 3) {
        if (cap > 0) {
            dst[0] = '\0';
        }
        return;
    }
    size_t n = 0;
    dst[n++] = '\'';
    for (const char *p = s; *p != '\0' && n + 6 <= cap; p++) {
        if (*p == '\'') {
            memcpy(dst + n, "'\\''", 4);
            n += 4;
        } else {
            dst[n++] = *p;
        }
    }
    dst[n++] = '\'';
    dst[n] = '\0';
}

bool mqtls__diag_is_system_path(const char *path)
{
    static const char *const roots[] = {"/etc/ssl/", "/etc/pki/", "/etc/ca-certificates", "/usr/",
                                        "/System/",  "/Library/", "/var/lib/ca-c",        "/bin/",
                                        "/sbin/",    "/lib/",     "/opt/homebrew/etc/"};
    for (size_t i = 0; path != NULL && i < sizeof roots / sizeof roots[0]; i++) {
        if (strncmp(path, roots[i], strlen(roots[i])) == 0) {
            return true;
        }
    }
    return false;
}

void mqtls__diag_dirname(char *dst, size_t cap, const char *path)
{
    char d[400];
    mqtls__setf(d, sizeof d, "%s", path);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') {
        d[--n] = '\0';
    }
    char *slash = strrchr(d, '/');
    if (slash == NULL) {
        mqtls__setf(dst, cap, ".");
    } else if (slash == d) {
        mqtls__setf(dst, cap, "/");
    } else {
        *slash = '\0';
        mqtls__setf(dst, cap, "%s", d);
    }
}

void mqtls__diag_path_join(char *dst, size_t cap, const char *dir, const char *name)
{
    if (strcmp(dir, ".") == 0) {
        mqtls__setf(dst, cap, "%s", name);
    } else {
        mqtls__setf(dst, cap, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    }
}

/* The file name part of @p path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

void mqtls__diag_sibling(char *dst, size_t cap, const char *path, const char *suffix)
{
    char dir[400];
    char base[300];
    char p[700];
    mqtls__diag_dirname(dir, sizeof dir, path);
    mqtls__setf(base, sizeof base, "%s", base_name(path));
    char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base) {
        *dot = '\0';
    }
    mqtls__appendf(base, sizeof base, "%s", suffix);
    mqtls__diag_path_join(p, sizeof p, dir, base);
    mqtls__diag_shq(dst, cap, p);
}

/* "DIR/name", quoted for the shell. */
static void qpath(char *dst, size_t cap, const char *dir, const char *name)
{
    char p[500];
    mqtls__diag_path_join(p, sizeof p, dir, name);
    mqtls__diag_shq(dst, cap, p);
}

static bool host_is_ip(const char *h)
{
    uint8_t a[16];
    return h != NULL && (inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1);
}

/* ---------------------------------------------------------------- where the CA lives */

/* The CA a fix issues from: the --cafile the user gave (not the system bundle, not in a system
 * folder), its folder, and the name of its key (ca.key beside ca.crt as `mqtls pki` keeps it;
 * otherwise <stem>.key, e.g. root.pem -> root.key). */
typedef struct pki_src {
    bool ok;
    char dir[400];
    char ca[200];
    char key[200];
} pki_src_t;

static void pki_src(const mqtls__diag_ctx_t *c, pki_src_t *s)
{
    memset(s, 0, sizeof *s);
    const char *ca = c->in->ca.display_name;
    if (ca == NULL || ca[0] == '\0' || c->in->ca_is_default || mqtls__diag_is_system_path(ca) ||
        ca[strlen(ca) - 1] == '/' || c->in->ca.from_buffer_api) {
        return;
    }
    mqtls__diag_dirname(s->dir, sizeof s->dir, ca);
    mqtls__setf(s->ca, sizeof s->ca, "%s", base_name(ca));
    char stem[200];
    mqtls__setf(stem, sizeof stem, "%s", s->ca);
    char *dot = strrchr(stem, '.');
    static const char *const exts[] = {".crt", ".pem", ".cer", ".der"};
    for (size_t i = 0; dot != NULL && i < sizeof exts / sizeof exts[0]; i++) {
        if (strcasecmp(dot, exts[i]) == 0) {
            *dot = '\0';
        }
    }
    mqtls__setf(s->key, sizeof s->key, "%s.key", stem);
    s->ok = s->ca[0] != '\0';
}

/* "(cd DIR && mkdir NEW && ln -s ../ca.crt ../ca.key NEW/ && " -- a new folder beside the CA
 * with links to it under the names `mqtls pki` reads. The caller closes the parenthesis. */
static void new_folder_cmd(char *dst, size_t cap, const pki_src_t *s, const char *sub)
{
    char d[500];
    char ca[260];
    char key[260];
    char lca[260];
    char lkey[260];
    mqtls__diag_shq(d, sizeof d, s->dir);
    mqtls__setf(lca, sizeof lca, "../%s", s->ca);
    mqtls__setf(lkey, sizeof lkey, "../%s", s->key);
    mqtls__diag_shq(ca, sizeof ca, lca);
    mqtls__diag_shq(key, sizeof key, lkey);
    char cd[520] = "";
    if (strcmp(s->dir, ".") != 0) {
        mqtls__setf(cd, sizeof cd, "cd %s && ", d);
    }
    if (strcmp(s->ca, "ca.crt") == 0 && strcmp(s->key, "ca.key") == 0) {
        mqtls__setf(dst, cap, "(%smkdir %s && ln -s %s %s %s/ && ", cd, sub, ca, key, sub);
    } else {
        mqtls__setf(dst, cap, "(%smkdir %s && ln -s %s %s/ca.crt && ln -s %s %s/ca.key && ", cd,
                    sub, ca, sub, key, sub);
    }
}

/* " --rsa N" / " --ec": the key type of @p ci kept, raised to what profiles accept. */
static const char *key_flag(char *dst, size_t cap, const mqtls_certinfo_t *ci)
{
    if (ci == NULL || ci->key_type != MQTLS_KEY_RSA) {
        mqtls__setf(dst, cap, " --ec");
    } else {
        mqtls__setf(dst, cap, " --rsa %u",
                    ci->key_bits > 3072   ? 4096u
                    : ci->key_bits > 2048 ? 3072u
                                          : 2048u);
    }
    return dst;
}

/* ---------------------------------------------------------------- the server certificate */

static bool names_have(char names[][128], size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(names[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* "--name A --dns B --ip C ...": every SAN of the server's certificate, plus the host the
 * client checks when the certificate lacks it, plus @p extra_dns (an IP also as DNS text). */
static void server_names(const mqtls__diag_ctx_t *c, char *dst, size_t cap, const char *extra_dns)
{
    const mqtls_certinfo_t *leaf = c->server->count > 0 ? &c->server->info[0] : NULL;
    const char *h = c->in->server_name != NULL ? c->in->server_name : c->in->host;
    char dns[MQTLS_CERTINFO_MAX_SANS + 2][128];
    char ips[MQTLS_CERTINFO_MAX_SANS + 1][128];
    size_t nd = 0;
    size_t ni = 0;
    for (size_t i = 0; leaf != NULL && i < leaf->san_dns_count; i++) {
        mqtls__setf(dns[nd++], sizeof dns[0], "%s", leaf->san_dns[i]);
    }
    for (size_t i = 0; leaf != NULL && i < leaf->san_ip_count; i++) {
        mqtls__setf(ips[ni++], sizeof ips[0], "%s", leaf->san_ip[i]);
    }
    if (leaf != NULL && nd == 0 && ni == 0 && leaf->common_name[0] != '\0') {
        mqtls__setf(dns[nd++], sizeof dns[0], "%s", leaf->common_name); /* CN-only certificate */
    }
    if (h != NULL && h[0] != '\0') {
        if (host_is_ip(h) && !names_have(ips, ni, h)) {
            mqtls__setf(ips[ni++], sizeof ips[0], "%s", h);
        } else if (!host_is_ip(h) && !names_have(dns, nd, h)) {
            mqtls__setf(dns[nd++], sizeof dns[0], "%s", h);
        }
    }
    if (extra_dns != NULL && !names_have(dns, nd, extra_dns)) {
        mqtls__setf(dns[nd++], sizeof dns[0], "%s", extra_dns);
    }
    /* --name: the first DNS name that is not a wildcard, else the first IP. */
    int first = -1;
    for (size_t i = 0; i < nd && first < 0; i++) {
        if (strncmp(dns[i], "*.", 2) != 0 && !host_is_ip(dns[i])) {
            first = (int)i;
        }
    }
    char q[300];
    dst[0] = '\0';
    if (first >= 0) {
        mqtls__diag_shq(q, sizeof q, dns[first]);
        mqtls__appendf(dst, cap, "--name %s", q);
    } else if (ni > 0) {
        mqtls__diag_shq(q, sizeof q, ips[0]);
        mqtls__appendf(dst, cap, "--name %s", q);
    } else {
        mqtls__appendf(dst, cap, "--name broker.example.com");
    }
    for (size_t i = 0; i < nd; i++) {
        if ((int)i != first) {
            mqtls__diag_shq(q, sizeof q, dns[i]);
            mqtls__appendf(dst, cap, " --dns %s", q);
        }
    }
    for (size_t i = (first < 0 && ni > 0) ? 1 : 0; i < ni; i++) {
        mqtls__diag_shq(q, sizeof q, ips[i]);
        mqtls__appendf(dst, cap, " --ip %s", q);
    }
}

const char *mqtls__diag_fix_reissue_server(mqtls__diag_ctx_t *c, const char *intro,
                                           const char *extra_dns)
{
    pki_src_t s;
    pki_src(c, &s);
    char names[700];
    char kf[32];
    server_names(c, names, sizeof names, extra_dns);
    const mqtls_certinfo_t *leaf = c->server->count > 0 ? &c->server->info[0] : NULL;
    key_flag(kf, sizeof kf, leaf);
    if (!s.ok) {
        return mqtls__diag_fix(c,
                               "%s%sThe broker's operator must issue it from the CA that signed "
                               "it (with `mqtls pki`: mqtls pki server PKI_DIR %s%s, where "
                               "PKI_DIR holds that CA as ca.crt + ca.key).",
                               intro != NULL ? intro : "", intro != NULL ? "\n" : "", names, kf);
    }
    char head[1200];
    char crt[520];
    char key[520];
    new_folder_cmd(head, sizeof head, &s, "server-new");
    char sub[450];
    mqtls__diag_path_join(sub, sizeof sub, s.dir, "server-new");
    qpath(crt, sizeof crt, sub, "server.crt");
    qpath(key, sizeof key, sub, "server.key");
    return mqtls__diag_fix(c,
                           "%s%sYour own broker: issue a new certificate from your CA (%s) into a "
                           "new folder; your files stay as they are:\n$ %smqtls pki server "
                           "server-new %s%s)\nthen give the broker %s and %s (mosquitto.conf "
                           "certfile / keyfile) and restart it.",
                           intro != NULL ? intro : "", intro != NULL ? "\n" : "", s.ca, head, names,
                           kf, crt, key);
}

/* ---------------------------------------------------------------- the client certificate */

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

const char *mqtls__diag_fix_reissue_client(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *old,
                                           const char *intro)
{
    const char *n = client_name(old != NULL ? old->common_name : NULL);
    pki_src_t s;
    pki_src(c, &s);
    char kf[32];
    key_flag(kf, sizeof kf, old);
    const char *pre = intro != NULL ? intro : "";
    const char *nl = intro != NULL ? "\n" : "";
    if (!s.ok) {
        return mqtls__diag_fix(c,
                               "%s%sAsk for a new certificate from the CA the broker accepts (with "
                               "`mqtls pki`: mqtls pki client PKI_DIR --name %s%s, where PKI_DIR "
                               "holds that CA as ca.crt + ca.key).",
                               pre, nl, n, kf);
    }
    char sub_name[120];
    mqtls__setf(sub_name, sizeof sub_name, "%s-new", n);
    char head[1200];
    new_folder_cmd(head, sizeof head, &s, sub_name);
    char sub[450];
    char f[140];
    char crt[520];
    char key[520];
    mqtls__diag_path_join(sub, sizeof sub, s.dir, sub_name);
    mqtls__setf(f, sizeof f, "%s.crt", n);
    qpath(crt, sizeof crt, sub, f);
    mqtls__setf(f, sizeof f, "%s.key", n);
    qpath(key, sizeof key, sub, f);
    char sans[120] = "";
    if (old != NULL && old->san_dns_count + old->san_ip_count > 0) {
        /* `mqtls pki client` writes no subjectAltName: say which ones the old one had. */
        mqtls__setf(sans, sizeof sans,
                    " (it has no subjectAltName; the old one had %zu: ask your CA to keep them if "
                    "the broker checks them)",
                    old->san_dns_count + old->san_ip_count);
    }
    return mqtls__diag_fix(c,
                           "%s%sA new key and certificate from your CA (%s) in a new folder; your "
                           "files stay as they are%s:\n$ %smqtls pki client %s --name %s%s)\n"
                           "then: --cert %s --key %s",
                           pre, nl, s.ca, sans, head, sub_name, n, kf, crt, key);
}

/* ---------------------------------------------------------------- the CA */

/* The old test.mosquitto.org CA (RSA-1024, SHA-1, replaced 2020-06-09): name it only when
 * that is what the user has. */
bool mqtls__diag_is_mosquitto_org(const mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca)
{
    const char *h = c->in->host;
    if (h != NULL && strcasecmp(h, "test.mosquitto.org") == 0) {
        return true;
    }
    return ca != NULL && strstr(ca->subject, "CN=mosquitto.org") != NULL &&
           strstr(ca->subject, "O=Mosquitto") != NULL;
}

const char *mqtls__diag_fix_new_ca(mqtls__diag_ctx_t *c, const mqtls_certinfo_t *ca)
{
    static const char download[] = "test ! -e mosquitto.org.crt && curl -fsS -o mosquitto.org.crt "
                                   "https://test.mosquitto.org/ssl/mosquitto.org.crt";
    const char *h = c->in->host;
    if (h != NULL && strcasecmp(h, "test.mosquitto.org") == 0) {
        return mqtls__diag_fix(c,
                               "test.mosquitto.org replaced its CA in 2020: save the current one "
                               "under a new name and use it:\n$ %s\nthen: --cafile "
                               "mosquitto.org.crt",
                               download);
    }
    pki_src_t s;
    pki_src(c, &s);
    char names[700];
    char kf[32];
    server_names(c, names, sizeof names, NULL);
    key_flag(kf, sizeof kf, c->server->count > 0 ? &c->server->info[0] : NULL);
    char org[300] = "";
    if (mqtls__diag_is_mosquitto_org(c, ca)) {
        mqtls__setf(org, sizeof org,
                    "\nOr, if the broker is test.mosquitto.org (this is its CA before 2020): %s, "
                    "then --cafile mosquitto.org.crt",
                    download);
    }
    if (!s.ok) {
        return mqtls__diag_fix(c,
                               "Broker not yours: get its current CA from its operator. Your own "
                               "broker: a new CA and broker certificate (mqtls pki init NEW_DIR "
                               "&& mqtls pki server NEW_DIR %s%s), then give clients "
                               "NEW_DIR/ca.crt.%s",
                               names, kf, org);
    }
    char sub[450];
    char dq[500];
    char ca_new[520];
    char crt[520];
    char key[520];
    mqtls__diag_path_join(sub, sizeof sub, s.dir, "ca-new");
    mqtls__diag_shq(dq, sizeof dq, sub);
    qpath(ca_new, sizeof ca_new, sub, "ca.crt");
    qpath(crt, sizeof crt, sub, "server.crt");
    qpath(key, sizeof key, sub, "server.key");
    return mqtls__diag_fix(c,
                           "Broker not yours: get its current CA from its operator. Your own "
                           "broker: a new CA and broker certificate in a new folder; the old CA "
                           "stays as it is:\n$ mkdir %s && mqtls pki init %s%s && mqtls pki server "
                           "%s %s%s\nthen: --cafile %s; the broker: certfile %s, keyfile %s "
                           "(restart it); client certificates then come from the new CA too.%s",
                           dq, dq, kf, dq, names, kf, ca_new, crt, key, org);
}

/* The same key keeps every certificate the CA signed valid. */
const char *mqtls__diag_fix_renew_ca(mqtls__diag_ctx_t *c)
{
    pki_src_t s;
    pki_src(c, &s);
    if (!s.ok) {
        return mqtls__diag_fix(c, "Get the CA's current certificate from the broker's operator "
                                  "and give it as --cafile.");
    }
    char ca[520];
    char key[520];
    char out[520];
    qpath(ca, sizeof ca, s.dir, s.ca);
    qpath(key, sizeof key, s.dir, s.key);
    qpath(out, sizeof out, s.dir, "ca-renewed.crt");
    return mqtls__diag_fix(c,
                           "Broker not yours: get its current CA. Own PKI: renew the CA with its "
                           "own key, under a new name (certificates it signed stay valid):\n$ "
                           "test ! -e %s && openssl x509 -in %s -signkey %s -days 3650 -sha256 "
                           "-out %s\nthen: --cafile %s (and the broker's cafile, if the same CA "
                           "signs client certificates)",
                           out, ca, key, out, out);
}
