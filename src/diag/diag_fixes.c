/* Fixes a user can paste. They name the user's own files: the CA file's folder is where
 * `mqtls pki` (docs/cli/pki.md) finds ca.crt + ca.key, and its server/client commands write
 * next to them. Every command here is run, with these placeholders filled in, by
 * tests/scenarios/fix_check.sh. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "diag_ctx.h"

void mqtls__diag_shq(char *dst, size_t cap, const char *s)
{
    /* Quoted only when needed, so the common case stays readable. */
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
static void pki_dir(const mqtls__diag_ctx_t *c, char *dst, size_t cap)
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
    mqtls__diag_shq(dst, cap, dir);
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

/* Re-issue the broker's certificate from the CA the client trusts, valid for the host it
 * connects to (--tls-server-name, else the host; an IP keeps the certificate's first DNS name,
 * so by-name clients still work). */
void mqtls__diag_server_cmd(const mqtls__diag_ctx_t *c, char *cmd, size_t cmd_cap, char *note,
                            size_t note_cap)
{
    const char *h = c->in->server_name != NULL ? c->in->server_name : c->in->host;
    char dir[320];
    char names[320];
    char crt[340];
    char key[340];
    pki_dir(c, dir, sizeof dir);
    pki_path(crt, sizeof crt, dir, "server.crt");
    pki_path(key, sizeof key, dir, "server.key");
    const mqtls_certinfo_t *leaf =
        c->server != NULL && c->server->count > 0 ? &c->server->info[0] : NULL;
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

const char *mqtls__diag_fix_reissue_server(mqtls__diag_ctx_t *c, const char *extra)
{
    char cmd[400];
    char note[400];
    mqtls__diag_server_cmd(c, cmd, sizeof cmd, note, sizeof note);
    return mqtls__diag_fix(c, "%s%s%s   %s", extra != NULL ? extra : "", extra != NULL ? "\n" : "",
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
const char *mqtls__diag_fix_reissue_client(mqtls__diag_ctx_t *c, const char *cn, const char *extra)
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
    return mqtls__diag_fix(c,
                           "%s%smqtls pki client %s --name %s --force   # %s holds the CA the "
                           "broker accepts (ca.crt + ca.key)\nthen: --cert %s --key %s",
                           extra != NULL ? extra : "", extra != NULL ? "\n" : "", dir, n,
                           strcmp(dir, ".") == 0 ? "this folder" : dir, crt, key);
}

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
    char dir[320];
    char cmd[400];
    char note[400];
    char crt[340];
    char q[320];
    pki_dir(c, dir, sizeof dir);
    pki_path(crt, sizeof crt, dir, "ca.crt");
    mqtls__diag_server_cmd(c, cmd, sizeof cmd, note, sizeof note);
    mqtls__diag_shq(q, sizeof q,
                    c->in->ca.display_name != NULL ? c->in->ca.display_name : "ca.crt");
    if (mqtls__diag_is_mosquitto_org(c, ca)) {
        return mqtls__diag_fix(c,
                               "test.mosquitto.org replaced this CA in 2020: curl -o %s "
                               "https://test.mosquitto.org/ssl/mosquitto.org.crt\nOwn PKI (then "
                               "give clients the new %s): mqtls pki init %s --force && %s   %s",
                               q, crt, dir, cmd, note);
    }
    return mqtls__diag_fix(c,
                           "Broker not yours: get its current CA. Own PKI (then give clients the "
                           "new %s): mqtls pki init %s --force && %s   %s",
                           crt, dir, cmd, note);
}

/* The same key keeps every certificate the CA signed valid. */
const char *mqtls__diag_fix_renew_ca(mqtls__diag_ctx_t *c)
{
    char dir[320];
    char q[320];
    char key[340];
    char out[340];
    pki_dir(c, dir, sizeof dir);
    mqtls__diag_shq(q, sizeof q,
                    c->in->ca.display_name != NULL ? c->in->ca.display_name : "ca.crt");
    pki_path(key, sizeof key, dir, "ca.key");
    pki_path(out, sizeof out, dir, "ca-renewed.crt");
    return mqtls__diag_fix(c,
                           "Broker not yours: get its current CA. Own PKI, renew the CA with its "
                           "key: openssl x509 -in %s -signkey %s -days 3650 -sha256 -out %s\nthen: "
                           "--cafile %s (and the broker's cafile, if the same CA signs client "
                           "certificates)",
                           q, key, out, out);
}
