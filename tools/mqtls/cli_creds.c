/* The one credential check of the CLI (cli_creds.h). */
#include "cli_creds.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Folders the system owns: never scanned (a bundle folder holds hundreds of files) and never
 * offered as a place to write (src/diag/diag_fixes.c keeps the same list). */
static bool is_system_dir(const char *dir)
{
    static const char *const roots[] = {"/etc/ssl", "/etc/pki", "/etc/ca-certificates",
                                        "/usr/",    "/System/", "/Library/"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        if (strncmp(dir, roots[i], strlen(roots[i])) == 0) {
            return true;
        }
    }
    return false;
}

void cli_creds_system_ca(cli_opts_t *o)
{
    bool no_ca = o->cafile == NULL && o->capath == NULL;
    if (o->tls && !o->insecure && o->psk_len == 0 && (no_ca || o->tls_use_os_certs)) {
        /* docs/cli/pub.md "TLS": --tls-use-os-certs, or implied by mqtts:// without a CA as
         * mosquitto does; any other TLS flag without a CA too (mosquitto would not use TLS).
         * Debian's bundle first, the hashed directory otherwise. */
        o->system_ca = true;
        o->system_ca_why = o->tls_use_os_certs ? "--tls-use-os-certs"
                           : o->url_tls        ? "no --cafile/--capath with an mqtts:// or wss:// "
                                                 "URL, as --tls-use-os-certs"
                                               : "no --cafile/--capath, as --tls-use-os-certs";
        if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
            o->system_ca_file = "/etc/ssl/certs/ca-certificates.crt";
        } else if (access("/etc/pki/tls/certs/ca-bundle.crt", R_OK) == 0) {
            o->system_ca_file = "/etc/pki/tls/certs/ca-bundle.crt";
        }
    }
}

/* --capath: every file in @p dir that holds PEM certificates, one after the other. */
static void read_capath(cli_cred_t *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    snprintf(f->display, sizeof f->display, "%s/", dir);
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        f->err = errno != 0 ? errno : EIO;
        return;
    }
    cli_buf_t all = {0};
    struct dirent *e;
    for (int guard = 0; guard < 4096 && (e = readdir(dp)) != NULL; guard++) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cli_cred_t one;
        cli_cred_load(&one, path);
        if (one.err == 0 && strstr((const char *)one.data, "-----BEGIN CERTIFICATE-----") != NULL) {
            cli_buf_add(&all, one.data, one.len);
            cli_buf_add(&all, "\n", 1);
        }
        cli_cred_free(&one);
    }
    closedir(dp);
    cli_buf_add(&all, "", 1); /* NUL-terminated, as cli_cred_load() leaves a file */
    if (all.oom) {
        f->err = ENOMEM;
        cli_buf_free(&all);
        return;
    }
    f->data = (uint8_t *)all.data;
    f->len = all.len - 1;
}

static bool cred_name(const char *name)
{
    static const char *const exts[] = {".crt", ".pem", ".cer", ".der", ".key", ".p8", ".pk8"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (strcasecmp(dot, exts[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool same_file(const struct stat *a, const char *path)
{
    struct stat b;
    return path != NULL && stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* The files beside @p path (its folder), as the user would name them: "dir/name". */
static void scan_beside(cli_creds_t *c, const cli_opts_t *o, const char *path)
{
    if (path == NULL) {
        return;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    bool here = slash == NULL;
    if (slash == dir) {
        dir[1] = '\0';
    } else if (slash != NULL) {
        *slash = '\0';
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    if (is_system_dir(dir)) {
        return;
    }
    /* each folder once */
    for (size_t i = 0; i < c->nearby_count; i++) {
        const char *n = c->nearby[i].display;
        size_t dl = strlen(dir);
        if (here ? strchr(n, '/') == NULL
                 : strncmp(n, dir, dl) == 0 && n[dl] == '/' && strchr(n + dl + 1, '/') == NULL) {
            return;
        }
    }
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        return;
    }
    struct dirent *e;
    for (int guard = 0;
         guard < 256 && c->nearby_count < CLI_NEARBY_MAX && (e = readdir(dp)) != NULL; guard++) {
        if (e->d_name[0] == '.' || !cred_name(e->d_name)) {
            continue;
        }
        char full[1200];
        if (here) {
            snprintf(full, sizeof full, "%s", e->d_name);
        } else {
            snprintf(full, sizeof full, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, e->d_name);
        }
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CLI_NEARBY_FILE_MAX ||
            same_file(&st, o->cafile) || same_file(&st, o->cert) || same_file(&st, o->key)) {
            continue;
        }
        cli_cred_t *f = &c->nearby[c->nearby_count];
        cli_cred_load(f, full);
        if (f->err != 0) {
            cli_cred_free(f);
            continue;
        }
        c->nearby_count++;
    }
    closedir(dp);
}

void cli_creds_load(cli_creds_t *c, const cli_opts_t *o)
{
    memset(c, 0, sizeof *c);
    if (o->capath != NULL) {
        read_capath(&c->ca, o->capath);
    } else if (o->cafile != NULL) {
        cli_cred_load(&c->ca, o->cafile);
    } else if (o->system_ca && o->system_ca_file != NULL) {
        cli_cred_load(&c->ca, o->system_ca_file);
        c->ca_is_default = true;
    }
    cli_cred_load(&c->cert, o->cert);
    /* a key on a PKCS#11 token is no file: the library opens it (mqtls_client_create()) */
    bool on_token = cli_is_pkcs11_uri(o->key);
    cli_cred_load(&c->key, on_token ? NULL : o->key);
    if (on_token) {
        (void)cli_key_shown(o->key, c->key_shown, sizeof c->key_shown);
    }
    scan_beside(c, o, o->cafile);
    scan_beside(c, o, o->cert);
    if (!on_token) {
        scan_beside(c, o, o->key);
    }
}

void cli_creds_to_diag(cli_creds_t *c, mqtls_diag_input_t *in)
{
    cli_cred_to_diag(&c->ca, &in->ca);
    cli_cred_to_diag(&c->cert, &in->cert);
    cli_cred_to_diag(&c->key, &in->key);
    if (c->key_shown[0] != '\0') {
        in->key.display_name = c->key_shown; /* on a token: diag checks no key file */
    }
    in->ca_is_default = c->ca_is_default;
    for (size_t i = 0; i < c->nearby_count; i++) {
        cli_cred_to_diag(&c->nearby[i], &c->nearby_diag[i]);
    }
    in->nearby = c->nearby_count > 0 ? c->nearby_diag : NULL;
    in->nearby_count = c->nearby_count;
}

void cli_creds_free(cli_creds_t *c)
{
    cli_cred_free(&c->ca);
    cli_cred_free(&c->cert);
    cli_cred_free(&c->key);
    for (size_t i = 0; i < c->nearby_count; i++) {
        cli_cred_free(&c->nearby[i]);
    }
    c->nearby_count = 0;
}

const char *cli_creds_flag_for(const cli_opts_t *o, const char *detail, const char **path)
{
    const struct {
        const char *flag;
        const char *path;
    } files[] = {{"--cafile", o->cafile != NULL ? o->cafile : o->system_ca_file},
                 {"--capath", o->capath},
                 {"--cert", o->cert},
                 {"--key", o->key}};
    for (size_t i = 0; detail != NULL && i < sizeof(files) / sizeof(files[0]); i++) {
        size_t n = files[i].path != NULL ? strlen(files[i].path) : 0;
        if (n > 0 && strncmp(detail, files[i].path, n) == 0 &&
            (detail[n] == ':' || detail[n] == ' ' || detail[n] == '\0')) {
            *path = files[i].path;
            return files[i].flag;
        }
    }
    return NULL;
}

mqtls_status_t cli_creds_check(const cli_creds_t *c, mqtls_error_t *err)
{
    const cli_cred_t *files[] = {&c->ca, &c->cert, &c->key};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const cli_cred_t *f = files[i];
        if (f->display[0] == '\0' || f->err == 0) {
            continue;
        }
        mqtls_error_init(err);
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = f->status != MQTLS_OK ? f->status : MQTLS_ERR_FILE_UNREADABLE;
        err->sys_errno = f->err;
        /* "<path>: <reason>", as the library words it (cli_creds_flag_for() reads it); the
         * reader's own words when it gave some (a FIFO, a device, larger than the limit) */
        size_t n = strlen(f->display);
        if (n > 0 && f->display[n - 1] == '/') {
            n--; /* --capath's folder */
        }
        if (f->why[0] != '\0' && strncmp(f->why, f->display, n) == 0) {
            snprintf(err->detail, sizeof(err->detail), "%s", f->why);
        } else {
            snprintf(err->detail, sizeof(err->detail), "%.*s: %s", (int)n, f->display,
                     f->err == ENODEV ? "not a regular file" : strerror(f->err));
        }
        return err->status;
    }
    return MQTLS_OK;
}
