/* Diagnosis tests: every scenario of tests/scenarios/gen.sh (real certificates made by
 * openssl) -> mqtls_diag_run -> the expected finding ranks first. The server-chain facts are
 * what the TLS transport would record: the presented chain, plus per-depth flags from a real
 * mbedtls_x509_crt_verify_with_profile() run against the CA file. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tls_facts.h"
#include "diag/findings.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "diag/diag_internal.h"
#include "mqtls/certinfo.h"
#include "mqtls/diag.h"

static char g_dir[256];

/* ---------------------------------------------------------------- helpers */

static uint8_t *read_all(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int guard = 0; guard < 4096; guard++) {
        if (*len == cap) {
            cap = cap == 0 ? 4096 : cap * 2;
            uint8_t *n = realloc(buf, cap + 1);
            if (n == NULL) {
                break;
            }
            buf = n;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    if (buf == NULL) {
        buf = malloc(1);
    }
    if (buf != NULL) {
        buf[*len] = '\0'; /* not counted in *len, as cli_read_file() does */
    }
    return buf;
}

typedef struct manifest {
    char expect[64], ca[64], cert[64], key[64], keypass[64], server_cert[64], broker_ca[64];
    char host[64], profile[32], now[32], facts[128], server_name[128];
    char fix_has[200]; /* what tests/scenarios/fix_check.sh runs: the fix must say it */
    char pin[400];     /* --pin values, space-separated (the live harnesses pass them) */
    char via[32];      /* "reset-proxy": reached through tests/scenarios/reset_proxy.py */
    char msg_has[200];
    char not_has[200]; /* finding ids that must not be reported (false findings seen before) */
    int ca_buffer;
    int ca_default;
} manifest_t;

/* Overrides for one run (NULL: the manifest's): the CA file's name as the user typed it and
 * the host, to check that fix texts follow them. */
static const char *g_ca_display;
static const char *g_host;

static void kv(manifest_t *m, const char *k, const char *v)
{
    struct {
        const char *k;
        char *dst;
        size_t cap;
    } map[] = {
        {"expect", m->expect, sizeof m->expect},
        {"ca", m->ca, sizeof m->ca},
        {"cert", m->cert, sizeof m->cert},
        {"key", m->key, sizeof m->key},
        {"keypass", m->keypass, sizeof m->keypass},
        {"server_cert", m->server_cert, sizeof m->server_cert},
        {"broker_ca", m->broker_ca, sizeof m->broker_ca},
        {"host", m->host, sizeof m->host},
        {"profile", m->profile, sizeof m->profile},
        {"now", m->now, sizeof m->now},
        {"facts", m->facts, sizeof m->facts},
        {"fix_has", m->fix_has, sizeof m->fix_has},
        {"msg_has", m->msg_has, sizeof m->msg_has},
        {"not_has", m->not_has, sizeof m->not_has},
        {"server_name", m->server_name, sizeof m->server_name},
        {"pin", m->pin, sizeof m->pin},
        {"via", m->via, sizeof m->via},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(k, map[i].k) == 0) {
            snprintf(map[i].dst, map[i].cap, "%s", v);
        }
    }
    if (strcmp(k, "ca_buffer") == 0) {
        m->ca_buffer = strcmp(v, "1") == 0;
    }
    if (strcmp(k, "ca_default") == 0) {
        m->ca_default = strcmp(v, "1") == 0;
    }
}

static int load_manifest(const char *dir, manifest_t *m)
{
    memset(m, 0, sizeof *m);
    char path[512];
    snprintf(path, sizeof path, "%s/manifest", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (eq != NULL) {
            *eq = '\0';
            kv(m, line, eq + 1);
        }
    }
    fclose(f);
    return m->expect[0] != '\0' ? 0 : -1;
}

#define NEARBY_MAX 16
#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct loaded {
    uint8_t *ca, *cert, *key;
    size_t ca_len, cert_len, key_len;
    mqtls_tls_facts_t facts;
    bool have_facts;
    /* what lies beside the client's files, as the CLI gathers it (cli_util.c) */
    mqtls_diag_file_t nearby[NEARBY_MAX];
    char nearby_names[NEARBY_MAX][256];
    size_t nearby_count;
} loaded_t;

static int record_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    mqtls_tls_facts_t *f = ctx;
    if (depth >= 0 && depth < MQTLS__MAX_CHAIN_DEPTH) {
        mqtls_cert_fact_t *c = &f->chain[depth];
        c->flags = *flags;
        free(c->der);
        c->der = malloc(crt->raw.len);
        if (c->der != NULL) {
            memcpy(c->der, crt->raw.p, crt->raw.len);
            c->der_len = crt->raw.len;
        }
        if ((size_t)depth + 1 > f->chain_len) {
            f->chain_len = (size_t)depth + 1;
        }
    }
    return 0;
}

static bool is_ip(const char *h)
{
    return strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
}

/* The --pin form of a certificate's public key, computed here with mbedTLS itself (not with
 * src/net's walker): "sha256//" + base64(SHA-256(DER SubjectPublicKeyInfo)). */
static void pin_of_leaf(mbedtls_x509_crt *leaf, char *out, size_t cap)
{
    unsigned char der[2048];
    int n = mbedtls_pk_write_pubkey_der(&leaf->pk, der, sizeof der);
    assert_true(n > 0);
    unsigned char hash[32];
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                der + sizeof der - (size_t)n, (size_t)n, hash),
                     0);
    unsigned char b64[64];
    size_t olen = 0;
    assert_int_equal(mbedtls_base64_encode(b64, sizeof b64, &olen, hash, sizeof hash), 0);
    snprintf(out, cap, "sha256//%.*s", (int)olen, (const char *)b64);
}

/* What the TLS transport would have recorded when connecting to this broker. */
static void make_facts(const char *dir, const manifest_t *m, loaded_t *l,
                       const mbedtls_x509_crt_profile *profile, uint32_t *flags_out)
{
    mqtls_tls_facts_t *f = &l->facts;
    memset(f, 0, sizeof *f);
    f->alert_received = -1;
    f->alert_sent = -1;
    *flags_out = 0;
    if (m->server_cert[0] == '\0') {
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, m->server_cert);
    mbedtls_x509_crt chain;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&ca);
    if (mbedtls_x509_crt_parse_file(&chain, path) != 0) {
        /* mbedTLS cannot parse what this broker serves (Ed25519): the handshake never gets
         * as far as a chain. */
        mbedtls_x509_crt_free(&chain);
        return;
    }
    size_t n = 0;
    for (const mbedtls_x509_crt *c = &chain; c != NULL && c->raw.p != NULL; c = c->next) {
        f->presented[n].der = malloc(c->raw.len);
        assert_non_null(f->presented[n].der);
        memcpy(f->presented[n].der, c->raw.p, c->raw.len);
        f->presented[n].der_len = c->raw.len;
        n++;
    }
    f->presented_len = n;
    f->server_hello_seen = true;
    l->have_facts = true;
    if (l->ca != NULL && l->ca_len > 0) {
        /* mbedtls_x509_crt_parse wants the NUL for PEM: give it a terminated copy. */
        uint8_t *copy = malloc(l->ca_len + 1);
        assert_non_null(copy);
        memcpy(copy, l->ca, l->ca_len);
        copy[l->ca_len] = '\0';
        size_t plen = copy[0] == 0x30 ? l->ca_len : l->ca_len + 1;
        int pr = mbedtls_x509_crt_parse(&ca, copy, plen);
        free(copy);
        uint32_t flags = 0;
        if (pr >= 0 && ca.raw.p != NULL) {
            const char *cn = m->host[0] != '\0' && !is_ip(m->host) ? m->host : NULL;
            (void)mbedtls_x509_crt_verify_with_profile(&chain, &ca, NULL, profile, cn, &flags,
                                                       record_cb, f);
        } else {
            flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
        }
        f->verify_flags = flags;
        *flags_out = flags;
    }
    f->handshake_ret = f->verify_flags != 0 ? -0x2700 : 0;
    /* Pins are checked on a chain that verified (src/net/tls.c): no match, a pin mismatch. */
    if (m->pin[0] != '\0' && f->verify_flags == 0) {
        pin_of_leaf(&chain, f->server_pin, sizeof f->server_pin);
        char want[sizeof m->pin + 2];
        char got[sizeof f->server_pin + 2];
        snprintf(want, sizeof want, " %s ", m->pin);
        snprintf(got, sizeof got, " %s ", f->server_pin);
        f->pin_mismatch = strstr(want, got) == NULL;
        f->handshake_ret = f->pin_mismatch ? -0x2700 : 0;
    }
    /* Client-side facts from the manifest. */
    if (strstr(m->facts, "cert_requested") != NULL) {
        f->cert_requested = true;
    }
    if (strstr(m->facts, "cert_sent") != NULL) {
        f->client_cert_sent = true;
    }
    const char *a = strstr(m->facts, "alert=");
    if (a != NULL) {
        f->alert_received = (int)strtol(a + 6, NULL, 10);
    }
    if (strstr(m->facts, "ca_names") != NULL && m->broker_ca[0] != '\0') {
        mbedtls_x509_crt bca;
        mbedtls_x509_crt_init(&bca);
        snprintf(path, sizeof path, "%s/%s", dir, m->broker_ca);
        assert_int_equal(mbedtls_x509_crt_parse_file(&bca, path), 0);
        /* As the CertificateRequest carries it: (u16 length, DER Name) per CA. */
        size_t len = 0;
        for (const mbedtls_x509_crt *c = &bca; c != NULL && c->raw.p != NULL; c = c->next) {
            len += 2 + c->subject_raw.len;
        }
        f->ca_names = malloc(len);
        assert_non_null(f->ca_names);
        size_t off = 0;
        for (const mbedtls_x509_crt *c = &bca; c != NULL && c->raw.p != NULL; c = c->next) {
            f->ca_names[off] = (uint8_t)(c->subject_raw.len >> 8);
            f->ca_names[off + 1] = (uint8_t)(c->subject_raw.len & 0xFF);
            memcpy(f->ca_names + off + 2, c->subject_raw.p, c->subject_raw.len);
            off += 2 + c->subject_raw.len;
        }
        f->ca_names_len = len;
        mbedtls_x509_crt_free(&bca);
    }
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
}

static void free_loaded(loaded_t *l)
{
    free(l->ca);
    free(l->cert);
    free(l->key);
    for (size_t i = 0; i < MQTLS__MAX_CHAIN_DEPTH; i++) {
        free(l->facts.chain[i].der);
        free(l->facts.presented[i].der);
    }
    free(l->facts.ca_names);
    for (size_t i = 0; i < l->nearby_count; i++) {
        free((void *)l->nearby[i].data);
    }
    memset(l, 0, sizeof *l);
}

static bool cred_ext(const char *name)
{
    static const char *const exts[] = {".crt", ".pem", ".cer", ".der", ".key", ".p8", ".pk8"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof exts / sizeof exts[0]; i++) {
        if (strcmp(dot, exts[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The files beside the client's (the scenario folder; broker/ is not beside them). */
static void load_nearby(const char *dir, const manifest_t *m, loaded_t *l)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && l->nearby_count < NEARBY_MAX) {
        if (e->d_name[0] == '.' || !cred_ext(e->d_name) || strcmp(e->d_name, m->ca) == 0 ||
            strcmp(e->d_name, m->cert) == 0 || strcmp(e->d_name, m->key) == 0) {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        size_t k = l->nearby_count++;
        snprintf(l->nearby_names[k], sizeof l->nearby_names[k], "%s", e->d_name);
        size_t len = 0;
        uint8_t *data = read_all(path, &len);
        l->nearby[k] =
            (mqtls_diag_file_t){.display_name = l->nearby_names[k], .data = data, .len = len};
    }
    closedir(d);
}

static void load_files(const char *dir, const manifest_t *m, loaded_t *l)
{
    char path[512];
    memset(l, 0, sizeof *l);
    if (m->ca_default) {
        l->ca = read_all(SYSTEM_BUNDLE, &l->ca_len);
    } else if (m->ca[0] != '\0') {
        snprintf(path, sizeof path, "%s/%s", dir, m->ca);
        l->ca = read_all(path, &l->ca_len);
        assert_non_null(l->ca);
    }
    if (m->cert[0] != '\0') {
        snprintf(path, sizeof path, "%s/%s", dir, m->cert);
        l->cert = read_all(path, &l->cert_len);
        assert_non_null(l->cert);
    }
    if (m->key[0] != '\0') {
        snprintf(path, sizeof path, "%s/%s", dir, m->key);
        l->key = read_all(path, &l->key_len);
        assert_non_null(l->key);
    }
    load_nearby(dir, m, l);
}

static void print_findings(const char *name, const mqtls_findings_t *f)
{
    fprintf(stderr, "--- %s: %zu finding(s)\n", name, f->count);
    for (size_t i = 0; i < f->count; i++) {
        fprintf(stderr, "  [%s] %s\n      subject: %s\n      message: %s\n      fix: %s\n",
                mqtls_severity_name(f->items[i].severity), f->items[i].id, f->items[i].subject,
                f->items[i].message, f->items[i].fix);
    }
}

static bool has_error_finding(const mqtls_findings_t *f)
{
    for (size_t i = 0; i < f->count; i++) {
        if (f->items[i].severity == MQTLS_SEV_ERROR) {
            return true;
        }
    }
    return false;
}

/* The rules of src/diag/diag_fixes.c that a text can show: NULL if @p fix keeps them, else
 * which one it breaks. Commands are the lines that start with "$ ". */
static const char *fix_is_unsafe(const char *fix)
{
    static const char *const never[] = {"--force", "allow_anonymous true", "rm -", "rm '", "mv ",
                                        ">>"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        if (strstr(fix, never[i]) != NULL) {
            return never[i];
        }
    }
    for (const char *line = fix; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "%.*s", (int)n, line);
        if (strncmp(cmd, "$ ", 2) == 0) {
            /* a command that writes a file checks first that it is not there */
            bool writes = strstr(cmd, " > ") != NULL || strstr(cmd, " -out ") != NULL ||
                          strstr(cmd, " -o ") != NULL;
            if (writes && strncmp(cmd, "$ test ! -e ", 12) != 0) {
                return "a command writes a file without checking it is new";
            }
            if (strstr(cmd, "--insecure") != NULL) {
                return "--insecure in a command";
            }
            static const char *const sys[] = {" /etc/ssl", " '/etc/ssl", " /usr/",
                                              " '/usr/",   " /etc/pki",  " '/etc/pki"};
            for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
                if (strstr(cmd, sys[i]) != NULL) {
                    return "a command touches a system folder";
                }
            }
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/* Run one scenario; @return 0 if it behaved as its manifest says. @p keep: the findings. */
static int run_scenario_f(const char *name, bool verbose, mqtls_findings_t *keep)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, name);
    manifest_t m;
    if (load_manifest(dir, &m) != 0) {
        fprintf(stderr, "%s: bad manifest\n", name);
        return -1;
    }
    loaded_t l;
    load_files(dir, &m, &l);
    uint32_t flags = 0;
    make_facts(dir, &m, &l, &mbedtls_x509_crt_profile_default, &flags);

    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = m.now[0] != '\0' ? (int64_t)strtoll(m.now, NULL, 10) : (int64_t)time(NULL);
    if (m.profile[0] != '\0') {
        assert_int_equal(mqtls_profile_from_name(m.profile, &in.profile), MQTLS_OK);
    }
    in.host = g_host != NULL ? g_host : m.host;
    in.port = 8883;
    in.server_name = m.server_name[0] != '\0' ? m.server_name : NULL;
    in.ca = (mqtls_diag_file_t){.display_name = g_ca_display != NULL ? g_ca_display
                                                : m.ca_default       ? SYSTEM_BUNDLE
                                                : m.ca[0]            ? m.ca
                                                                     : NULL,
                                .data = l.ca,
                                .len = l.ca_len,
                                .from_buffer_api = m.ca_buffer != 0};
    in.ca_is_default = m.ca_default != 0;
    in.nearby = l.nearby;
    in.nearby_count = l.nearby_count;
    in.cert = (mqtls_diag_file_t){
        .display_name = m.cert[0] ? m.cert : NULL, .data = l.cert, .len = l.cert_len};
    in.key = (mqtls_diag_file_t){
        .display_name = m.key[0] ? m.key : NULL, .data = l.key, .len = l.key_len};
    in.key_password = m.keypass[0] != '\0' ? m.keypass : NULL;
    in.key_password_given = m.keypass[0] != '\0';
    in.facts = l.have_facts ? &l.facts : NULL;
    mqtls_error_t err;
    memset(&err, 0, sizeof err);
    err.tls_alert = -1;
    err.connack_reason = -1;
    err.disconnect_reason = -1;
    if (flags != 0 || l.facts.alert_received >= 0) {
        err.layer = MQTLS_LAYER_TLS;
        err.status = flags != 0 ? MQTLS_ERR_TLS_VERIFY : MQTLS_ERR_TLS_ALERT;
        err.verify_flags = flags;
        err.tls_alert = (int16_t)l.facts.alert_received;
        in.err = &err;
    } else if (l.facts.pin_mismatch) {
        /* as mqtls__tls_io_fail_verify() reports it: the chain's flags stay 0 */
        err.layer = MQTLS_LAYER_TLS;
        err.status = MQTLS_ERR_TLS_PIN_MISMATCH;
        err.mbedtls_ret = -0x2700;
        in.err = &err;
    } else if (strcmp(m.via, "reset-proxy") == 0 && l.have_facts) {
        /* reset_proxy.py: the server's first flight arrived, then a reset without an alert
         * (what every engine reports live: MQTLS_ERR_CONN_RESET, mbedTLS -0x0050) */
        err.layer = MQTLS_LAYER_TCP;
        err.status = MQTLS_ERR_CONN_RESET;
        err.mbedtls_ret = -0x0050;
        in.err = &err;
    } else if (m.via[0] != '\0' || (m.pin[0] != '\0' && flags == 0 && !l.have_facts)) {
        fprintf(stderr, "%s: manifest via=%s / pin= gives no facts here\n", name, m.via);
        free_loaded(&l);
        return -1;
    }
    mqtls_findings_t f;
    mqtls__findings_init(&f);
    assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);

    int rc = 0;
    if (strcmp(m.expect, "none") == 0) {
        if (f.count > 0 && f.items[0].severity == MQTLS_SEV_ERROR) {
            rc = -1;
        }
    } else if (!mqtls_finding_id_known(m.expect)) {
        fprintf(stderr, "%s: manifest expects unknown id %s\n", name, m.expect);
        rc = -1;
    } else if (f.count == 0 || strcmp(f.items[0].id, m.expect) != 0) {
        rc = -1;
    } else if (m.fix_has[0] != '\0' && g_ca_display == NULL && g_host == NULL &&
               strstr(f.items[0].fix, m.fix_has) == NULL) {
        /* What fix_check.sh proves working must be what the finding tells the user. */
        fprintf(stderr, "%s: fix text lacks '%s'\n", name, m.fix_has);
        rc = -1;
    } else if (m.msg_has[0] != '\0' && strstr(f.items[0].message, m.msg_has) == NULL) {
        fprintf(stderr, "%s: message lacks '%s'\n", name, m.msg_has);
        rc = -1;
    }
    for (size_t i = 0; i < f.count; i++) {
        char wrong[210];
        snprintf(wrong, sizeof wrong, ",%s,", m.not_has);
        char id[80];
        snprintf(id, sizeof id, ",%s,", f.items[i].id);
        if (m.not_has[0] != '\0' && strstr(wrong, id) != NULL) {
            fprintf(stderr, "%s: reports %s, which it must not\n", name, f.items[i].id);
            rc = -1;
        }
        const char *why = fix_is_unsafe(f.items[i].fix);
        if (why != NULL) {
            fprintf(stderr, "%s: the fix of %s is unsafe: %s\n", name, f.items[i].id, why);
            rc = -1;
        }
    }
    if (in.err != NULL && !has_error_finding(&f)) {
        fprintf(stderr, "%s: a failure without an error finding\n", name);
        rc = -1;
    }
    /* Never a secret in the output. */
    for (size_t i = 0; i < f.count && in.key_password != NULL; i++) {
        if (strstr(f.items[i].message, in.key_password) != NULL ||
            strstr(f.items[i].fix, in.key_password) != NULL ||
            strstr(f.items[i].subject, in.key_password) != NULL) {
            fprintf(stderr, "%s: password printed!\n", name);
            rc = -1;
        }
    }
    for (size_t i = 0; i < f.count; i++) {
        if (strstr(f.items[i].message, "PRIVATE KEY-----\n") != NULL) {
            rc = -1;
        }
    }
    if (rc != 0 || verbose) {
        fprintf(stderr, "%s: expected %s, verify flags 0x%05X\n", name, m.expect, (unsigned)flags);
        print_findings(name, &f);
    }
    if (keep != NULL) {
        *keep = f;
    }
    free_loaded(&l);
    return rc;
}

static int run_scenario(const char *name, bool verbose)
{
    return run_scenario_f(name, verbose, NULL);
}

/* ---------------------------------------------------------------- group setup */

static bool g_own_dir; /* generated here (removed at the end), not the build's fixture */

static int gen_scenarios(void **state)
{
    (void)state;
    const char *given = getenv("MQTLS_SCENARIO_DIR"); /* ctest: the fixture diag_scenarios */
    if (given != NULL && given[0] != '\0') {
        snprintf(g_dir, sizeof g_dir, "%s", given);
        return 0;
    }
    g_own_dir = true;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mqtls-diag-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s' >/dev/null", MQTLS_SCENARIO_GEN, g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int rm_scenarios(void **state)
{
    (void)state;
    if (g_own_dir && getenv("MQTLS_KEEP_SCENARIOS") == NULL && g_dir[0] != '\0') {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        return system(cmd) == 0 ? 0 : -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_diag_every_scenario_ranks_expected_finding_first(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    struct dirent *e;
    size_t total = 0;
    size_t failed = 0;
    size_t broken = 0;
    const char *only = getenv("MQTLS_SCENARIO");
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (only != NULL && strcmp(only, e->d_name) != 0) {
            continue;
        }
        total++;
        if (strncmp(e->d_name, "good-", 5) != 0) {
            broken++;
        }
        if (run_scenario(e->d_name, only != NULL) != 0) {
            failed++;
            fprintf(stderr, "FAILED scenario %s\n", e->d_name);
        }
    }
    closedir(d);
    fprintf(stderr, "scenarios: %zu run, %zu broken set-ups, %zu failed\n", total, broken, failed);
    assert_int_equal(failed, 0);
    if (only == NULL) {
        assert_true(broken >= 20);
        assert_true(total - broken >= 4);
    }
}

/* Our profile data must say what the linked library does (the "verify by experiment"). */
static uint32_t lib_flags(const char *scen, const mbedtls_x509_crt_profile *prof)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, scen);
    manifest_t m;
    assert_int_equal(load_manifest(dir, &m), 0);
    loaded_t l;
    load_files(dir, &m, &l);
    uint32_t flags = 0;
    make_facts(dir, &m, &l, prof, &flags);
    free_loaded(&l);
    return flags;
}

static void test_profile_data_matches_linked_mbedtls(void **state)
{
    (void)state;
    const mqtls__profile_t *def = mqtls__profile_get(MQTLS_PROFILE_MBEDTLS2_DEFAULT);
    const mqtls__profile_t *next = mqtls__profile_get(MQTLS_PROFILE_MBEDTLS_NEXT);
    const mqtls__profile_t *suiteb = mqtls__profile_get(MQTLS_PROFILE_SUITEB);
    /* SHA-1 signature on the server certificate. */
    uint32_t f = lib_flags("sha1-server-signature", &mbedtls_x509_crt_profile_default);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0,
                     !mqtls__profile_hash_ok(def, MQTLS_HASH_SHA1));
    assert_true((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0); /* 2.28's default refuses SHA-1 */
    f = lib_flags("sha1-server-signature", &mbedtls_x509_crt_profile_next);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0,
                     !mqtls__profile_hash_ok(next, MQTLS_HASH_SHA1));
    /* RSA-1024 CA: BAD_KEY on the child (depth 0), not on the CA. */
    f = lib_flags("weak-ca-rsa1024", &mbedtls_x509_crt_profile_default);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_KEY) != 0,
                     mqtls__profile_key_check(def, MQTLS_KEY_RSA, 1024, MQTLS_CURVE_NONE) != 0);
    assert_true((f & MBEDTLS_X509_BADCERT_BAD_KEY) != 0);
    /* P-192 leaf: the 2.28 default allows any curve, 'next' does not. */
    f = lib_flags("curve-not-allowed-mbedtls3", &mbedtls_x509_crt_profile_default);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_KEY) != 0,
                     mqtls__profile_key_check(def, MQTLS_KEY_EC, 192, MQTLS_CURVE_P192) != 0);
    f = lib_flags("curve-not-allowed-mbedtls3", &mbedtls_x509_crt_profile_next);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_KEY) != 0,
                     mqtls__profile_key_check(next, MQTLS_KEY_EC, 192, MQTLS_CURVE_P192) != 0);
    /* P-256 chain passes 'next' and Suite B; an RSA chain fails Suite B (BAD_PK / BAD_KEY). */
    f = lib_flags("good-ecdsa-p256", &mbedtls_x509_crt_profile_next);
    assert_int_equal(f, 0);
    assert_int_equal(mqtls__profile_key_check(next, MQTLS_KEY_EC, 256, MQTLS_CURVE_P256), 0);
    f = lib_flags("good-ecdsa-p256", &mbedtls_x509_crt_profile_suiteb);
    assert_int_equal(f, 0);
    assert_int_equal(mqtls__profile_key_check(suiteb, MQTLS_KEY_EC, 256, MQTLS_CURVE_P256), 0);
    f = lib_flags("good-rsa2048", &mbedtls_x509_crt_profile_suiteb);
    assert_true((f & (MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY)) != 0);
    assert_int_not_equal(mqtls__profile_key_check(suiteb, MQTLS_KEY_RSA, 2048, MQTLS_CURVE_NONE),
                         0);
    /* SHA-224: allowed by the 2.28 default, refused by 'next' (and 3.x's default). */
    f = lib_flags("sha224-on-mbedtls3", &mbedtls_x509_crt_profile_default);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0,
                     !mqtls__profile_hash_ok(def, MQTLS_HASH_SHA224));
    assert_int_equal(f, 0);
    f = lib_flags("sha224-on-mbedtls3", &mbedtls_x509_crt_profile_next);
    assert_int_equal((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0,
                     !mqtls__profile_hash_ok(next, MQTLS_HASH_SHA224));
    assert_true((f & MBEDTLS_X509_BADCERT_BAD_MD) != 0);
    assert_true(mqtls__profile_hash_ok(def, MQTLS_HASH_SHA224));
    assert_false(mqtls__profile_hash_ok(mqtls__profile_get(MQTLS_PROFILE_MBEDTLS3_DEFAULT),
                                        MQTLS_HASH_SHA224));
}

static void test_certinfo_parse_server_cert_matches_openssl(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/good-intermediate/broker/server.crt", g_dir);
    size_t len = 0;
    uint8_t *data = read_all(path, &len);
    assert_non_null(data);
    mqtls_certinfo_t ci[4];
    size_t n = 0;
    assert_int_equal(mqtls_certinfo_parse(data, len, ci, 4, &n), MQTLS_OK);
    assert_int_equal(n, 2); /* leaf + intermediate, concatenated PEM */
    assert_string_equal(ci[0].common_name, "localhost");
    assert_int_equal(ci[0].san_dns_count, 1);
    assert_string_equal(ci[0].san_dns[0], "localhost");
    assert_int_equal(ci[0].san_ip_count, 1);
    assert_string_equal(ci[0].san_ip[0], "127.0.0.1");
    assert_int_equal(ci[0].key_type, MQTLS_KEY_RSA);
    assert_int_equal(ci[0].key_bits, 2048);
    assert_int_equal(ci[0].sig_hash, MQTLS_HASH_SHA256);
    assert_true(ci[0].has_ext_key_usage);
    assert_int_equal(ci[0].ext_key_usage, MQTLS_EKU_SERVER_AUTH);
    assert_false(ci[0].is_ca);
    assert_true(ci[1].is_ca);
    assert_int_equal(ci[1].max_pathlen, 0);
    assert_false(ci[1].self_issued);
    assert_true(ci[0].aki_len > 0);
    assert_int_equal(ci[0].aki_len, ci[1].ski_len);
    assert_memory_equal(ci[0].aki, ci[1].ski, ci[1].ski_len);
    /* 2024-01-01T00:00:00Z .. 2049-12-31T23:59:59Z (gen.sh GOOD_START / GOOD_END) */
    assert_true(ci[0].not_before_s == 1704067200);
    assert_true(ci[0].not_after_s == 2524607999);
    /* Fingerprint as openssl computes it. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -fingerprint -sha256", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    const char *eq = strchr(line, '=');
    assert_non_null(eq);
    assert_string_equal(eq + 1, ci[0].sha256_hex);
    free(data);

    /* DER CA file, and the same in PEM: same certificate. */
    snprintf(path, sizeof path, "%s/good-der-ca/ca.der", g_dir);
    data = read_all(path, &len);
    mqtls_certinfo_t der;
    assert_int_equal(mqtls_certinfo_parse(data, len, &der, 1, &n), MQTLS_OK);
    assert_int_equal(n, 1);
    assert_true(der.self_signed);
    assert_true(der.is_ca);
    free(data);
    snprintf(path, sizeof path, "%s/good-rsa2048/ca.crt", g_dir);
    data = read_all(path, &len);
    mqtls_certinfo_t pem;
    assert_int_equal(mqtls_certinfo_parse(data, len, &pem, 1, &n), MQTLS_OK);
    assert_memory_equal(der.sha256, pem.sha256, 32);
    free(data);
}

/* A system CA bundle (~150 roots) parses completely: no silent cap that would hide the
 * right root and produce a false untrusted-issuer. */
static void test_certinfo_system_bundle_parses_every_root(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *data = read_all("/etc/ssl/certs/ca-certificates.crt", &len);
    if (data == NULL) {
        skip();
    }
    data[len] = '\0'; /* before strstr: read_all leaves room for it */
    size_t blocks = 0;
    for (const char *p = (const char *)data; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL;
         p++) {
        blocks++;
    }
    size_t n = 0;
    (void)mqtls_certinfo_parse(data, len, NULL, 0, &n);
    assert_true(blocks > 16);
    assert_int_equal(n, blocks);
    free(data);
}

static void test_keyinfo_encrypted_keys_are_named(void **state)
{
    (void)state;
    char path[512];
    size_t len = 0;
    mqtls_keyinfo_t ki;
    snprintf(path, sizeof path, "%s/key-password-required/client.key", g_dir);
    uint8_t *data = read_all(path, &len);
    assert_int_equal(mqtls_keyinfo_parse(data, len, NULL, &ki), MQTLS_ERR_KEY_PASSWORD_REQUIRED);
    assert_true(ki.is_encrypted);
    assert_string_equal(ki.encryption, "AES-256-CBC"); /* gen.sh: what ESP-IDF 5 decrypts too */
    assert_int_equal(mqtls_keyinfo_parse(data, len, "wrong", &ki), MQTLS_ERR_KEY_PASSWORD_WRONG);
    assert_int_equal(mqtls_keyinfo_parse(data, len, "s3cret", &ki), MQTLS_OK);
    assert_int_equal(ki.key_type, MQTLS_KEY_RSA);
    assert_int_equal(ki.key_bits, 2048);
    free(data);
    snprintf(path, sizeof path, "%s/key-encryption-unsupported/client.key", g_dir);
    data = read_all(path, &len);
    mqtls_status_t st = mqtls_keyinfo_parse(data, len, "s3cret", &ki);
    assert_int_equal(ki.format, MQTLS_KEYFMT_PKCS8_ENCRYPTED);
    assert_string_equal(ki.encryption, "PBES2 AES-256-CBC");
    /* mbedTLS 2.28 cannot decrypt PBES2/AES; 3.5+ can. */
    assert_int_equal(st,
                     MBEDTLS_VERSION_NUMBER < 0x03050000 ? MQTLS_ERR_KEY_UNSUPPORTED : MQTLS_OK);
    free(data);
    snprintf(path, sizeof path, "%s/key-type-unsupported/client.key", g_dir);
    data = read_all(path, &len);
    assert_int_equal(mqtls_keyinfo_parse(data, len, NULL, &ki), MQTLS_ERR_KEY_UNSUPPORTED);
    assert_int_equal(ki.key_type, MQTLS_KEY_ED25519);
    free(data);
}

/* Transport and MQTT failures: synthetic errors as the client would report them. */
typedef struct err_case {
    const char *expect;
    mqtls_layer_t layer;
    mqtls_status_t status;
    int alert;
    int connack;
    uint16_t port;
    bool hello;
    bool silent_close;
    bool not_tls;
    bool plain; /* no TLS attempted: no facts */
} err_case_t;

static void test_diag_transport_and_connack_causes(void **state)
{
    (void)state;
    static const err_case_t cases[] = {
        {"dns-failure", MQTLS_LAYER_DNS, MQTLS_ERR_DNS, -1, -1, 8883, false, false, false, false},
        {"connection-refused", MQTLS_LAYER_TCP, MQTLS_ERR_CONN_REFUSED, -1, -1, 8883, false, false,
         false, false},
        {"connect-timeout", MQTLS_LAYER_TCP, MQTLS_ERR_CONNECT_TIMEOUT, -1, -1, 8883, false, false,
         false, false},
        {"tls-on-plain-port", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, -1, -1, 1883, false, false,
         true, false},
        {"tls-on-plain-port", MQTLS_LAYER_TLS, MQTLS_ERR_CLOSED, -1, -1, 1883, false, true, false,
         false},
        {"handshake-timeout", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT, -1, -1, 8883, false,
         false, false, false},
        {"no-shared-cipher", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 40, -1, 8883, false, false,
         false, false},
        {"alpn-required", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_ALERT, 120, -1, 443, true, false, false,
         false},
        {"plain-on-tls-port", MQTLS_LAYER_MQTT, MQTLS_ERR_CLOSED, -1, -1, 8883, false, false, false,
         false},
        {"closed-after-connect", MQTLS_LAYER_MQTT, MQTLS_ERR_CLOSED, -1, -1, 8883, true, false,
         false, false},
        {"not-authorized", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 5, 8883, true, false,
         false, false},
        {"not-authorized", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 0x87, 8883, true, false,
         false, false},
        {"bad-credentials", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 4, 8883, true, false,
         false, false},
        {"client-id-rejected", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 0x85, 8883, true,
         false, false, false},
        {"unsupported-protocol-version", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 1, 8883,
         true, false, false, false},
        {"server-unavailable", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_REFUSED, -1, 3, 8883, true,
         false, false, false},
        {"plain-on-tls-port", MQTLS_LAYER_TCP, MQTLS_ERR_CONN_RESET, -1, -1, 18902, false, false,
         false, true},
        {"closed-after-connect", MQTLS_LAYER_TCP, MQTLS_ERR_CLOSED, -1, -1, 1883, false, false,
         false, true},
        {"tls-on-plain-port", MQTLS_LAYER_TCP, MQTLS_ERR_CONN_RESET, -1, -1, 18901, false, false,
         false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const err_case_t *c = &cases[i];
        mqtls_error_t err;
        memset(&err, 0, sizeof err);
        err.layer = c->layer;
        err.status = c->status;
        err.tls_alert = (int16_t)c->alert;
        err.connack_reason = (int16_t)c->connack;
        err.disconnect_reason = -1;
        mqtls_tls_facts_t facts;
        memset(&facts, 0, sizeof facts);
        facts.alert_received = c->alert;
        facts.alert_sent = -1;
        facts.server_hello_seen = c->hello;
        facts.peer_silent_close = c->silent_close;
        facts.peer_not_tls = c->not_tls;
        if (c->not_tls) {
            static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
            memcpy(facts.first_bytes, connack, sizeof connack);
            facts.first_bytes_len = sizeof connack;
        }
        mqtls_diag_input_t in;
        mqtls_diag_input_init(&in);
        in.now_s = (int64_t)time(NULL);
        in.host = "broker.test";
        in.port = c->port;
        in.err = &err;
        in.facts = (c->layer == MQTLS_LAYER_MQTT && !c->hello) || c->plain ? NULL : &facts;
        mqtls_findings_t f;
        mqtls__findings_init(&f);
        assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);
        if (f.count == 0 || strcmp(f.items[0].id, c->expect) != 0) {
            fprintf(stderr, "case %zu: expected %s\n", i, c->expect);
            print_findings("transport", &f);
        }
        assert_true(f.count > 0);
        assert_string_equal(f.items[0].id, c->expect);
        assert_true(f.items[0].fix[0] != '\0');
    }
}

/* A TLS failure after the ServerHello, as the engines leave it: @p err with @p st, @p facts with
 * no alert either way; the caller adds what the case is about. */
static void tls_failure_after_hello(mqtls_error_t *err, mqtls_status_t st, mqtls_tls_facts_t *facts)
{
    memset(err, 0, sizeof *err);
    err->layer = MQTLS_LAYER_TLS;
    err->status = st;
    err->tls_alert = -1;
    err->connack_reason = -1;
    err->disconnect_reason = -1;
    memset(facts, 0, sizeof *facts);
    facts->alert_received = -1;
    facts->alert_sent = -1;
    facts->server_hello_seen = true;
}

/* mqtls_diag_run() on a TLS failure with @p host:8883 (@p server_name may be NULL) into @p f:
 * at least one finding. */
static void run_tls_diag(const char *host, const char *server_name, const mqtls_error_t *err,
                         const mqtls_tls_facts_t *facts, mqtls_findings_t *f)
{
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = host;
    in.server_name = server_name;
    in.port = 8883;
    in.err = err;
    in.facts = facts;
    mqtls__findings_init(f);
    assert_int_equal(mqtls_diag_run(&in, f), MQTLS_OK);
    assert_true(f->count > 0);
}

/* -0x7080 after the ServerHello: mbedTLS before 3.6.3 cannot reassemble a handshake message the
 * server split over records. The finding says how long the server's Certificate message was
 * and what max_fragment_length was agreed; its fix depends on whether we asked for short
 * records. (Live: mbedtls2 with --tls-max-fragment 512 against mosquitto, whose chain of two
 * certificates is an 893-byte Certificate message.) */
static void test_diag_handshake_fragmented_names_message_and_length(void **state)
{
    (void)state;
    static uint8_t der_leaf[471], der_ca[409];
    for (int with_mfl = 0; with_mfl < 2; with_mfl++) {
        mqtls_error_t err;
        mqtls_tls_facts_t facts;
        tls_failure_after_hello(&err, MQTLS_ERR_TLS_HANDSHAKE, &facts);
        err.mbedtls_ret = -0x7080;
        facts.presented[0].der = der_leaf;
        facts.presented[0].der_len = sizeof der_leaf;
        facts.presented[1].der = der_ca;
        facts.presented[1].der_len = sizeof der_ca;
        facts.presented_len = 2;
        facts.max_fragment_len = with_mfl ? 512 : 0;
        mqtls_findings_t f;
        run_tls_diag("broker.test", NULL, &err, &facts, &f);
        assert_string_equal(f.items[0].id, "handshake-fragmented");
        for (size_t i = 0; i < f.count; i++) {
            assert_string_not_equal(f.items[i].id, "handshake-reset");
        }
        assert_non_null(strstr(f.items[0].message, "Certificate message (2 certificates) is 893"));
        if (with_mfl) {
            assert_non_null(strstr(f.items[0].message, "at most 512 bytes"));
            assert_non_null(strstr(f.items[0].fix, "--tls-max-fragment 1024, 2048 or 4096"));
        } else {
            assert_null(strstr(f.items[0].message, "max_fragment_length"));
            assert_non_null(strstr(f.items[0].fix, "\n$ openssl s_client -connect broker.test:8883 "
                                                   "-showcerts"));
        }
        assert_null(fix_is_unsafe(f.items[0].fix));
    }
}

/* The pin-mismatch fix is a command to paste (fix_check.sh runs it as printed): an IPv6 literal
 * in brackets and quoted for the shell, then the --pin to add; the message names the server's
 * pin. */
static void test_diag_pin_mismatch_fix_is_a_command_for_the_host(void **state)
{
    (void)state;
    static const struct {
        const char *host, *server_name, *connect, *sni;
    } cases[] = {
        {"::1", NULL, "-connect '[::1]:8883' -servername ::1 ", NULL},
        {"127.0.0.1", "broker one.test", "-connect 127.0.0.1:8883 ",
         "-servername 'broker one.test' "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mqtls_error_t err;
        mqtls_tls_facts_t facts;
        tls_failure_after_hello(&err, MQTLS_ERR_TLS_PIN_MISMATCH, &facts);
        facts.pin_mismatch = true;
        snprintf(facts.server_pin, sizeof facts.server_pin, "%s",
                 "sha256//vXVRm8VO5HHuawTmpV9QHwKOu/uS68r5nTtcHlKxmnw=");
        mqtls_findings_t f;
        run_tls_diag(cases[i].host, cases[i].server_name, &err, &facts, &f);
        assert_string_equal(f.items[0].id, "pin-mismatch");
        assert_non_null(strstr(f.items[0].message, facts.server_pin));
        const char *cmd = strstr(f.items[0].fix, "\n$ openssl s_client ");
        assert_non_null(cmd);
        assert_non_null(strstr(cmd, cases[i].connect));
        if (cases[i].sni != NULL) {
            assert_non_null(strstr(cmd, cases[i].sni));
        }
        assert_non_null(strstr(cmd, "| openssl enc -base64\nthen, "));
        assert_non_null(strstr(f.items[0].fix, "--pin sha256//<the printed pin>"));
        assert_null(fix_is_unsafe(f.items[0].fix));
    }
}

/* Issue 9: each of these was "closed after our CONNECT without a CONNACK" or
 * "tls-on-plain-port" (or nothing at all); each gets its own cause. */
typedef struct cause_case {
    const char *expect;
    mqtls_layer_t layer;
    mqtls_status_t status;
    uint16_t port;
    bool tls;           /* a TLS connection (facts with a ServerHello) */
    bool after_connack; /* the session was up */
    int reachable;      /* broker_reachable */
    const char *id;     /* client id */
    int disconnect;     /* DISCONNECT reason, -1 none */
    int mbedtls_ret;
    const char *not_in;  /* text no part of the finding may hold */
    const char *fix_has; /* text the fix must hold */
} cause_case_t;

static void test_diag_each_silence_reset_and_lost_session_has_its_cause(void **state)
{
    (void)state;
    static const cause_case_t cases[] = {
        /* a port that accepts and never answers CONNECT */
        {"connack-timeout", MQTLS_LAYER_MQTT, MQTLS_ERR_CONNACK_TIMEOUT, 1883, false, false, -1,
         NULL, -1, 0, "without a CONNACK", NULL},
        {"connack-timeout", MQTLS_LAYER_MQTT, MQTLS_ERR_TIMEOUT, 18830, false, false, -1, NULL, -1,
         0, "without a CONNACK", NULL},
        /* a session the broker accepted, then: a client-id takeover (3.1.1: the broker still
         * accepts connections; 5: reason 0x8E) */
        {"client-id-taken-over", MQTLS_LAYER_TCP, MQTLS_ERR_CLOSED, 1883, false, true, 1, "dev-1",
         -1, 0, "without a CONNACK", "-i dev-1-2"},
        {"client-id-taken-over", MQTLS_LAYER_MQTT, MQTLS_ERR_SERVER_DISCONNECT, 8883, true, true,
         -1, "dev-1", 0x8E, 0, "without a CONNACK", NULL},
        /* a broker stopped mid-session (it refuses new connections; 5: reason 0x8B) */
        {"broker-stopped", MQTLS_LAYER_TCP, MQTLS_ERR_CLOSED, 1883, false, true, 0, "dev-1", -1, 0,
         "without a CONNACK", NULL},
        {"broker-stopped", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_IO, 8883, true, true, 0, NULL, -1, 0,
         "without a CONNACK", NULL},
        {"broker-stopped", MQTLS_LAYER_MQTT, MQTLS_ERR_SERVER_DISCONNECT, 8883, true, true, -1,
         NULL, 0x8B, 0, NULL, NULL},
        /* lost otherwise */
        {"connection-lost", MQTLS_LAYER_TCP, MQTLS_ERR_CONN_RESET, 1883, false, true, -1, NULL, -1,
         0, "without a CONNACK", NULL},
        {"connection-lost", MQTLS_LAYER_MQTT, MQTLS_ERR_KEEPALIVE_TIMEOUT, 8883, true, true, -1,
         NULL, -1, 0, NULL, NULL},
        /* a TLS server that answered and then reset: not a plain port */
        {"handshake-reset", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_HANDSHAKE, 8883, true, false, -1, NULL,
         -1, -0x0050, "plain", NULL},
        {"handshake-reset", MQTLS_LAYER_TLS, MQTLS_ERR_TLS_NOT_TLS, 8883, true, false, -1, NULL, -1,
         -0x7280, "plain", NULL},
        /* nothing a check knows: still an error finding */
        {"connection-failed", MQTLS_LAYER_WS, MQTLS_ERR_WS_PROTOCOL, 443, false, false, -1, NULL,
         -1, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const cause_case_t *k = &cases[i];
        mqtls_error_t err;
        memset(&err, 0, sizeof err);
        err.layer = k->layer;
        err.status = k->status;
        err.tls_alert = -1;
        err.connack_reason = -1;
        err.disconnect_reason = (int16_t)k->disconnect;
        err.mbedtls_ret = k->mbedtls_ret;
        mqtls_tls_facts_t facts;
        memset(&facts, 0, sizeof facts);
        facts.alert_received = -1;
        facts.alert_sent = -1;
        facts.server_hello_seen = k->tls;
        facts.tls_version = 0x0303;
        mqtls_diag_input_t in;
        mqtls_diag_input_init(&in);
        in.now_s = (int64_t)time(NULL);
        in.host = "broker.test";
        in.port = k->port;
        in.err = &err;
        in.facts = k->tls ? &facts : NULL;
        in.after_connack = k->after_connack;
        in.broker_reachable = k->reachable;
        in.client_id = k->id;
        mqtls_findings_t f;
        mqtls__findings_init(&f);
        assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);
        if (f.count == 0 || strcmp(f.items[0].id, k->expect) != 0) {
            fprintf(stderr, "case %zu: expected %s\n", i, k->expect);
            print_findings("cause", &f);
        }
        assert_true(f.count > 0);
        assert_string_equal(f.items[0].id, k->expect);
        assert_int_equal(f.items[0].severity, MQTLS_SEV_ERROR);
        if (k->not_in != NULL) {
            assert_null(strstr(f.items[0].message, k->not_in));
        }
        if (k->fix_has != NULL) {
            assert_non_null(strstr(f.items[0].fix, k->fix_has));
        }
    }
}

/* Not authorized on a plain connection: no "TLS worked", the credentials first, never
 * anonymous access. Over TLS it may say TLS worked. */
static void test_diag_not_authorized_asks_for_credentials_first(void **state)
{
    (void)state;
    for (int tls = 0; tls < 2; tls++) {
        mqtls_error_t err;
        memset(&err, 0, sizeof err);
        err.layer = MQTLS_LAYER_MQTT;
        err.status = MQTLS_ERR_CONNACK_REFUSED;
        err.tls_alert = -1;
        err.connack_reason = 5;
        err.disconnect_reason = -1;
        mqtls_tls_facts_t facts;
        memset(&facts, 0, sizeof facts);
        facts.alert_received = -1;
        facts.server_hello_seen = true;
        mqtls_diag_input_t in;
        mqtls_diag_input_init(&in);
        in.now_s = (int64_t)time(NULL);
        in.host = "broker.test";
        in.port = tls ? 8883 : 1883;
        in.err = &err;
        in.facts = tls ? &facts : NULL;
        mqtls_findings_t f;
        mqtls__findings_init(&f);
        assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);
        assert_string_equal(f.items[0].id, "not-authorized");
        assert_true((strstr(f.items[0].message, "TLS worked") != NULL) == (tls != 0));
        assert_int_equal(strncmp(f.items[0].fix, "Check the user name and password", 32), 0);
        assert_null(strstr(f.items[0].fix, "allow_anonymous"));
    }
}

/* The esp-mqtt shim's refusal of TLS without any verification option. */
static void test_diag_no_verification_option_is_named(void **state)
{
    (void)state;
    mqtls_error_t err;
    mqtls_error_init(&err);
    err.layer = MQTLS_LAYER_CONFIG;
    err.status = MQTLS_ERR_TLS_SETUP;
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = "broker.test";
    in.port = 8883;
    in.err = &err;
    in.no_verification_option = true;
    mqtls_findings_t f;
    mqtls__findings_init(&f);
    assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);
    assert_true(f.count > 0);
    assert_string_equal(f.items[0].id, "no-verification-option");
    assert_non_null(strstr(f.items[0].message, "0x8017"));
    assert_non_null(strstr(f.items[0].fix, ".broker.verification.certificate"));
}


/* A close after CONNECT without CONNACK: over TLS the transport reports it (layer tcp), and with
 * MQTT 5 it means the broker does not speak 5 (RabbitMQ 3.10). A reset when the broker never
 * said it accepted our TLS 1.3 handshake (no ticket, no data: tls_open false) is the
 * handshake's; a graceful close is an answer to CONNECT either way. */
static void test_diag_closed_after_v5_connect_is_mqtt5_not_supported(void **state)
{
    (void)state;
    static const struct {
        int version;
        bool tls;
        bool open;
        mqtls_status_t status;
        const char *expect;
    } cases[] = {{5, true, true, MQTLS_ERR_CLOSED, "mqtt5-not-supported"},
                 {4, true, true, MQTLS_ERR_CLOSED, "closed-after-connect"},
                 {5, false, false, MQTLS_ERR_CLOSED, "mqtt5-not-supported"},
                 {4, false, false, MQTLS_ERR_CLOSED, "closed-after-connect"},
                 {5, true, false, MQTLS_ERR_CLOSED, "mqtt5-not-supported"},
                 {4, true, false, MQTLS_ERR_CLOSED, "closed-after-connect"},
                 {5, true, false, MQTLS_ERR_CONN_RESET, "handshake-reset"},
                 {4, true, false, MQTLS_ERR_CONN_RESET, "handshake-reset"},
                 {4, true, true, MQTLS_ERR_CONN_RESET, "closed-after-connect"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mqtls_error_t err;
        mqtls_error_init(&err);
        err.layer = MQTLS_LAYER_TCP;
        err.status = cases[i].status;
        mqtls_tls_facts_t facts;
        memset(&facts, 0, sizeof facts);
        facts.alert_received = -1;
        facts.alert_sent = -1;
        facts.server_hello_seen = true;
        facts.cert_requested = true;
        facts.client_cert_sent = true;
        facts.tls_version = 0x0304;
        facts.tls_open = cases[i].open;
        mqtls_diag_input_t in;
        mqtls_diag_input_init(&in);
        in.now_s = (int64_t)time(NULL);
        in.host = "broker.test";
        in.port = cases[i].tls ? 8883 : 1883;
        in.err = &err;
        in.facts = cases[i].tls ? &facts : NULL;
        in.mqtt_version = cases[i].version;
        mqtls_findings_t f;
        mqtls__findings_init(&f);
        assert_int_equal(mqtls_diag_run(&in, &f), MQTLS_OK);
        if (f.count == 0 || strcmp(f.items[0].id, cases[i].expect) != 0) {
            fprintf(stderr, "case %zu: expected %s\n", i, cases[i].expect);
            print_findings("after connect", &f);
        }
        assert_true(f.count > 0);
        assert_string_equal(f.items[0].id, cases[i].expect);
    }
}

static void test_catalogue_ids_are_kebab_and_documented(void **state)
{
    (void)state;
    const char *ids[128];
    size_t n = mqtls_finding_catalogue(ids, 128);
    assert_true(n >= 60 && n <= 128);
    for (size_t i = 0; i < n; i++) {
        assert_true(mqtls_finding_id_known(ids[i]));
        assert_non_null(mqtls_finding_title(ids[i]));
        assert_int_equal(strspn(ids[i], "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(ids[i]));
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(ids[i], ids[j]);
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s.md", MQTLS_FINDINGS_DOCS, ids[i]);
        struct stat st;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "undocumented finding: %s\n", path);
        }
        assert_int_equal(stat(path, &st), 0);
    }
    assert_false(mqtls_finding_id_known("no-such-finding"));
}

/* findings.def holds each finding's severity and title once; docs/findings/<id>.md and its
 * README say them again for readers, so they must say the same ("**Severity:** error. Title."). */
static void test_catalogue_docs_state_severity_and_title(void **state)
{
    (void)state;
    char path[512];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/README.md", MQTLS_FINDINGS_DOCS);
    char *readme = (char *)read_all(path, &len);
    assert_non_null(readme);
    readme[len] = '\0';
    for (size_t i = 0; i < MQTLS__F_COUNT; i++) {
        const mqtls__finding_def_t *d = mqtls__finding_def((mqtls__finding_id_t)i);
        char want[400];
        snprintf(want, sizeof want, "%s. %c%s.", mqtls_severity_name(d->severity),
                 d->title[0] >= 'a' && d->title[0] <= 'z' ? d->title[0] - 'a' + 'A' : d->title[0],
                 d->title + 1);
        snprintf(path, sizeof path, "%s/%s.md", MQTLS_FINDINGS_DOCS, d->id);
        char *doc = (char *)read_all(path, &len);
        assert_non_null(doc);
        doc[len] = '\0';
        /* the paragraph after "**Severity:** ", its line breaks read as spaces */
        char *p = strstr(doc, "**Severity:** ");
        assert_non_null(p);
        p += strlen("**Severity:** ");
        char *end = strstr(p, "\n\n");
        assert_non_null(end);
        *end = '\0';
        for (char *q = p; *q != '\0'; q++) {
            *q = *q == '\n' ? ' ' : *q;
        }
        if (strcmp(p, want) != 0) {
            fprintf(stderr, "%s: docs say '%s', findings.def '%s'\n", path, p, want);
        }
        assert_string_equal(p, want);
        char entry[600];
        snprintf(entry, sizeof entry, "- [%s](%s.md): %s\n", d->id, d->id, want);
        if (strstr(readme, entry) == NULL) {
            fprintf(stderr, "docs/findings/README.md lacks: %s", entry);
        }
        assert_non_null(strstr(readme, entry));
        free(doc);
    }
    free(readme);
}

static const mqtls_finding_t *by_id(const mqtls_findings_t *f, const char *id)
{
    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->items[i].id, id) == 0) {
            return &f->items[i];
        }
    }
    return NULL;
}

/* Fix texts are pasteable for THIS user, and safe (issue 9): the CA file's folder (the
 * `mqtls pki` DIR) quoted for the shell, new files in a new folder (never --force), every SAN
 * and the key type of the certificate they replace, --tls-server-name before re-issuing, never
 * a system folder, and test.mosquitto.org only when it is that broker or its old CA. */
static void test_fix_texts_name_the_users_files_and_host(void **state)
{
    (void)state;
    static mqtls_findings_t f;
    g_ca_display = "/etc/mqtt/ca.crt";
    assert_int_equal(run_scenario_f("hostname-ip-not-in-san", false, &f), 0);
    const char *fix = f.items[0].fix;
    const char *tsn = strstr(fix, "--tls-server-name localhost");
    const char *pki = strstr(fix, "(cd /etc/mqtt && mkdir server-new && ln -s ../ca.crt ../ca.key "
                                  "server-new/ && mqtls pki server server-new --name localhost "
                                  "--ip 127.0.0.1 --rsa 2048)");
    assert_non_null(tsn);
    assert_non_null(pki);
    assert_true(tsn < pki); /* the least destructive fix first */
    assert_non_null(strstr(fix, "/etc/mqtt/server-new/server.crt"));
    assert_null(strstr(fix, "--force"));

    g_ca_display = "my pki/ca.crt"; /* a folder that needs shell quoting */
    assert_int_equal(run_scenario_f("client-expired", false, &f), 0);
    assert_non_null(strstr(f.items[0].fix, "(cd 'my pki' && mkdir device-001-new && ln -s "
                                           "../ca.crt ../ca.key device-001-new/ && mqtls pki "
                                           "client device-001-new --name device-001 --rsa 2048)"));
    assert_non_null(strstr(f.items[0].fix, "--cert 'my pki/device-001-new/device-001.crt'"));
    g_ca_display = "it's here/ca.crt"; /* and a quote */
    assert_int_equal(run_scenario_f("client-expired", false, &f), 0);
    assert_non_null(strstr(f.items[0].fix, "(cd 'it'\\''s here' && mkdir device-001-new"));

    /* Re-issuing an expired server certificate keeps its IP SAN and its key type. */
    g_ca_display = "ca.crt";
    assert_int_equal(run_scenario_f("server-expired", false, &f), 0);
    assert_non_null(strstr(f.items[0].fix, "--name localhost --ip 127.0.0.1 --rsa 2048"));
    g_host = "10.1.2.3";
    assert_int_equal(run_scenario_f("hostname-mismatch", false, &f), 0);
    assert_non_null(strstr(f.items[0].fix, "--tls-server-name broker.example.com"));
    assert_non_null(strstr(f.items[0].fix, "--name broker.example.com --ip 10.1.2.3 --rsa 2048"));
    g_host = NULL;

    /* A CA in a folder the system owns: no command writes there. */
    g_ca_display = "/etc/ssl/certs/ca.crt";
    assert_int_equal(run_scenario_f("server-expired", false, &f), 0);
    assert_null(strstr(f.items[0].fix, "$ "));
    assert_null(strstr(f.items[0].fix, "cd /etc/ssl"));
    g_ca_display = NULL;

    /* The old mosquitto.org CA (its subject) gets the 2020 hint, after the own-PKI fix (the
     * download is an alternative, never run as the fix); another weak key does not. */
    assert_int_equal(run_scenario_f("weak-ca-rsa1024", false, &f), 0);
    const char *org = strstr(f.items[0].fix, "test.mosquitto.org");
    const char *or_line = strstr(f.items[0].fix, "\nOr");
    assert_non_null(org);
    assert_non_null(or_line);
    assert_true(or_line < org);
    assert_int_equal(run_scenario_f("weak-server-key", false, &f), 0);
    assert_null(strstr(f.items[0].fix, "mosquitto.org"));
    assert_null(strstr(f.items[0].message, "mosquitto.org"));
    assert_int_equal(run_scenario_f("ca-same-name-different-key", false, &f), 0);
    assert_null(strstr(f.items[0].message, "test.mosquitto.org"));
    g_host = "test.mosquitto.org";
    (void)run_scenario_f("ca-same-name-different-key", false, &f); /* + a host mismatch now */
    const mqtls_finding_t *it = by_id(&f, "ca-same-name-different-key");
    assert_non_null(it);
    assert_non_null(strstr(it->message, "test.mosquitto.org"));
    g_host = NULL;
    g_ca_display = NULL;
}

/* Connecting by IP through an iPAddress SAN verifies (mqtls matches it itself on mbedTLS
 * < 3.5), but devices on such mbedTLS fail: a warning, never an error, with the --dns fix. */
static void test_diag_ip_san_warns_that_old_mbedtls_devices_fail(void **state)
{
    (void)state;
    static mqtls_findings_t f;
    assert_int_equal(run_scenario_f("good-ip-san", false, &f), 0);
    const mqtls_finding_t *it = by_id(&f, "ip-san-old-mbedtls");
    assert_non_null(it);
    assert_int_equal(it->severity, MQTLS_SEV_WARNING);
    assert_non_null(strstr(it->message, "127.0.0.1"));
    assert_non_null(strstr(it->fix, "--dns 127.0.0.1"));
    for (size_t i = 0; i < f.count; i++) {
        assert_true(f.items[i].severity != MQTLS_SEV_ERROR);
    }
    assert_int_equal(run_scenario_f("good-ecdsa-p256", false, &f), 0); /* by name: no warning */
    assert_null(by_id(&f, "ip-san-old-mbedtls"));
}

static void test_diag_rejects_bad_args_and_sorts_worst_first(void **state)
{
    (void)state;
    mqtls_findings_t f;
    mqtls__findings_init(&f);
    assert_int_equal(mqtls_diag_run(NULL, &f), MQTLS_ERR_INVALID_ARG);
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    assert_int_equal(mqtls_diag_run(&in, NULL), MQTLS_ERR_INVALID_ARG);
    f.count = 3;
    f.items[0].severity = MQTLS_SEV_INFO;
    f.items[0].id = "a";
    f.items[1].severity = MQTLS_SEV_ERROR;
    f.items[1].id = "b";
    f.items[2].severity = MQTLS_SEV_ERROR;
    f.items[2].id = "c";
    mqtls_findings_sort(&f);
    assert_string_equal(f.items[0].id, "b");
    assert_string_equal(f.items[1].id, "c");
    assert_string_equal(f.items[2].id, "a");
    mqtls_profile_t p;
    assert_int_equal(mqtls_profile_from_name("openssl-seclevel2", &p), MQTLS_OK);
    assert_int_equal(p, MQTLS_PROFILE_OPENSSL_SECLEVEL2);
    assert_string_equal(mqtls_profile_name(p), "openssl-seclevel2");
    assert_int_equal(mqtls_profile_from_name("bogus", &p), MQTLS_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_every_scenario_ranks_expected_finding_first),
        cmocka_unit_test(test_profile_data_matches_linked_mbedtls),
        cmocka_unit_test(test_certinfo_parse_server_cert_matches_openssl),
        cmocka_unit_test(test_certinfo_system_bundle_parses_every_root),
        cmocka_unit_test(test_keyinfo_encrypted_keys_are_named),
        cmocka_unit_test(test_diag_transport_and_connack_causes),
        cmocka_unit_test(test_diag_each_silence_reset_and_lost_session_has_its_cause),
        cmocka_unit_test(test_diag_pin_mismatch_fix_is_a_command_for_the_host),
        cmocka_unit_test(test_diag_handshake_fragmented_names_message_and_length),
        cmocka_unit_test(test_diag_not_authorized_asks_for_credentials_first),
        cmocka_unit_test(test_diag_no_verification_option_is_named),
        cmocka_unit_test(test_diag_closed_after_v5_connect_is_mqtt5_not_supported),
        cmocka_unit_test(test_catalogue_ids_are_kebab_and_documented),
        cmocka_unit_test(test_catalogue_docs_state_severity_and_title),
        cmocka_unit_test(test_diag_rejects_bad_args_and_sorts_worst_first),
        cmocka_unit_test(test_fix_texts_name_the_users_files_and_host),
        cmocka_unit_test(test_diag_ip_san_warns_that_old_mbedtls_devices_fail),
    };
    return cmocka_run_group_tests(tests, gen_scenarios, rm_scenarios);
}
