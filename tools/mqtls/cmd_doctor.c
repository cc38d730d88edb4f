/* mqtls doctor: check certificates, keys and a broker step by step, then explain what is
 * wrong with findings (src/diag) a newcomer can act on.
 *
 *   step 1 (offline): local clock, CA file, client certificate, client key (parse, types,
 *                     validity, profile, key/cert pair, EKU, chain to the issuer)
 *   step 2-4 (live):  TCP connect, TLS handshake, MQTT CONNECT -- through the public client
 *                     API; on failure mqtls_diag_run() gets the error + handshake facts.
 *
 * Files are read here (diag is pure). Exit: 0 it would work, 1 a problem was found,
 * 2 usage error (docs/cli/exit-codes.md). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "mqtls/certinfo.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"

#include "mqtls/client.h"

#define DOCTOR_MAX_STEPS 12
#define DOCTOR_FILE_MAX (4u * 1024u * 1024u)
#define DOCTOR_LIVE_TIMEOUT_MS 15000

typedef enum { STEP_PASS, STEP_FAIL, STEP_WARN, STEP_SKIP } step_status_t;

typedef struct step {
    const char *name;
    step_status_t status;
    char detail[1400];
} step_t;

typedef struct opts {
    const char *uri;
    const char *host;
    unsigned long port;
    const char *cafile;
    const char *capath;
    const char *cert;
    const char *key;
    const char *keypass;
    const char *keypass_file;
    const char *server_name;
    const char *profile;
    const char *username;
    const char *password;
    const char *client_id;
    unsigned long version;
    bool offline;
    bool json;
    bool tls; /* mqtts:// or a TLS option given */
} opts_t;

typedef struct filebuf {
    char display[600];
    uint8_t *data;
    size_t len;
    int err;
} filebuf_t;

typedef struct doctor {
    opts_t o;
    step_t steps[DOCTOR_MAX_STEPS];
    size_t nsteps;
    mqtls_findings_t *findings; /* the last run: offline, then replaced by the live one */
    bool color;
    filebuf_t ca, cert, key;
    char keypass[256];
    bool keypass_given;
    mqtls_profile_t profile;
    char host[256];
    uint16_t port;
} doctor_t;

/* ---------------------------------------------------------------- small helpers */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mqtls doctor [URI | -h HOST -p PORT] [--cafile F] [--capath D] [--cert F]\n"
            "                    [--key F] [--keypass P | --keypass-file F] [--tls-server-name N]\n"
            "                    [--profile P] [-u USER] [-P PASS] [-i ID] [-V 311|5]\n"
            "                    [--offline] [--json]\n"
            "\n"
            "Checks each file offline (parse, type, validity, key/cert pair, EKU, profile),\n"
            "then connects step by step (TCP, TLS, MQTT CONNECT) and explains any failure:\n"
            "which certificate, what is wrong, and a command that fixes it.\n"
            "\n"
            "  URI               mqtts://host[:port] (TLS, default 8883) or mqtt://host[:port]\n"
            "  -h, --host HOST   broker host (with -p; TLS if any TLS option is given)\n"
            "  -p, --port PORT   broker port\n"
            "  --cafile F        trusted CA certificate(s), PEM or DER\n"
            "  --capath D        directory of CA certificates\n"
            "  --cert F          client certificate (optionally followed by its chain)\n"
            "  --key F           client private key\n"
            "  --keypass P       key password (visible in ps: prefer --keypass-file)\n"
            "  --keypass-file F  file whose first line is the key password\n"
            "  --tls-server-name N  name to check the server certificate against\n"
            "  --profile P       X.509 profile the TLS step verifies the server chain with and\n"
            "                    the findings judge by: mbedtls-default (the linked mbedTLS),\n"
            "                    mbedtls2-default (ESP-IDF 4), mbedtls3-default (ESP-IDF 5),\n"
            "                    mbedtls-next, suiteb, openssl-seclevel2\n"
            "  -u, -P, -i        MQTT user name, password, client id for the CONNECT step\n"
            "  -V 311|5          MQTT version (default 311)\n"
            "  --offline         only check the files, do not connect\n"
            "  --json            one JSON object: {\"verdict\", \"steps\", \"findings\"}\n"
            "\n"
            "exit: 0 it would work, 1 a problem was found, 2 usage error\n");
}

static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mqtls: doctor: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (MQTLS_ERR_USAGE)\nTry 'mqtls doctor --help'.\n");
    va_end(ap);
    return MQTLS_EXIT_USAGE;
}

/* "--opt VALUE" or "--opt=VALUE". 1 matched, 0 no, -1 value missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) {
        return 0;
    }
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0') {
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void read_file(filebuf_t *f, const char *flag, const char *path)
{
    memset(f, 0, sizeof *f);
    if (path == NULL) {
        return;
    }
    snprintf(f->display, sizeof f->display, "%s", path);
    (void)flag;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        f->err = errno != 0 ? errno : EIO;
        return;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (unsigned long long)st.st_size > DOCTOR_FILE_MAX) {
        f->err = (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) ? EISDIR : EFBIG;
        fclose(fp);
        return;
    }
    size_t size = (size_t)st.st_size;
    f->data = malloc(size + 1);
    if (f->data == NULL) {
        f->err = ENOMEM;
        fclose(fp);
        return;
    }
    f->len = fread(f->data, 1, size, fp);
    if (ferror(fp)) {
        f->err = EIO;
    }
    fclose(fp);
}

/* --capath: concatenate every regular file in @p dir that holds PEM certificates. */
static void read_capath(filebuf_t *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    snprintf(f->display, sizeof f->display, "%s/", dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        f->err = errno != 0 ? errno : EIO;
        return;
    }
    size_t cap = 0;
    struct dirent *e;
    for (int guard = 0; guard < 4096 && (e = readdir(d)) != NULL; guard++) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        filebuf_t one;
        read_file(&one, "--capath", path);
        if (one.data != NULL && one.err == 0 &&
            strstr((const char *)one.data, "-----BEGIN CERTIFICATE-----") != NULL) {
            one.data[one.len] = '\0';
            if (f->len + one.len + 2 > cap) {
                size_t ncap = (f->len + one.len + 2) * 2;
                uint8_t *n = realloc(f->data, ncap);
                if (n == NULL) {
                    free(one.data);
                    break;
                }
                f->data = n;
                cap = ncap;
            }
            memcpy(f->data + f->len, one.data, one.len);
            f->len += one.len;
            f->data[f->len++] = '\n';
        }
        free(one.data);
    }
    closedir(d);
}

static step_t *add_step(doctor_t *d, const char *name, step_status_t st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static step_t *add_step(doctor_t *d, const char *name, step_status_t st, const char *fmt, ...)
{
    if (d->nsteps >= DOCTOR_MAX_STEPS) {
        return NULL;
    }
    step_t *s = &d->steps[d->nsteps++];
    s->name = name;
    s->status = st;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
    return s;
}

static void fmt_date(char *dst, size_t cap, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(dst, cap, "%Y-%m-%d", &tm) == 0) {
        snprintf(dst, cap, "?");
    }
}

/* ---------------------------------------------------------------- step 1: offline */

typedef enum { OWN_NONE, OWN_CLOCK, OWN_CA, OWN_CERT, OWN_KEY } owner_t;

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Which offline step a finding belongs to (by id and by the subject diag wrote). */
static owner_t finding_owner(const mqtls_finding_t *f)
{
    const char *id = mqtls_finding_id(f);
    const char *subject = mqtls_finding_subject(f);
    if (strcmp(id, "clock-not-set") == 0) {
        return OWN_CLOCK;
    }
    if (starts(subject, "--cafile") || starts(subject, "CA file") ||
        strcmp(id, "ca-file-holds-leaf") == 0 || strcmp(id, "ca-expired") == 0) {
        return OWN_CA;
    }
    if (starts(subject, "--key") || starts(id, "key-") ||
        strcmp(id, "client-key-mismatch") == 0 || strcmp(id, "client-key-missing") == 0 ||
        strcmp(id, "cert-and-key-swapped") == 0) {
        return OWN_KEY;
    }
    if (starts(subject, "--cert") || starts(subject, "client certificate") ||
        strcmp(id, "weak-client-key") == 0 || strcmp(id, "client-chain-incomplete") == 0 ||
        strcmp(id, "client-eku-missing") == 0 || strcmp(id, "client-cert-missing") == 0) {
        return OWN_CERT;
    }
    return OWN_NONE;
}

static step_status_t owner_status(const mqtls_findings_t *fs, owner_t o)
{
    step_status_t st = STEP_PASS;
    for (size_t i = 0; i < mqtls_findings_count(fs); i++) {
        const mqtls_finding_t *f = mqtls_findings_get(fs, i);
        if (finding_owner(f) != o) {
            continue;
        }
        if (mqtls_finding_severity(f) == MQTLS_SEV_ERROR) {
            return STEP_FAIL;
        }
        if (mqtls_finding_severity(f) == MQTLS_SEV_WARNING) {
            st = STEP_WARN;
        }
    }
    return st;
}

static const char *first_id(const mqtls_findings_t *fs, owner_t o)
{
    for (size_t i = 0; i < mqtls_findings_count(fs); i++) {
        const mqtls_finding_t *f = mqtls_findings_get(fs, i);
        if (finding_owner(f) == o && mqtls_finding_severity(f) != MQTLS_SEV_INFO) {
            return mqtls_finding_id(f);
        }
    }
    return NULL;
}

static void fill_input(doctor_t *d, mqtls_diag_input_t *in)
{
    mqtls_diag_input_init(in);
    in->profile = d->profile;
    in->now_s = (int64_t)time(NULL);
    in->host = d->host[0] != '\0' ? d->host : NULL;
    in->port = d->port;
    in->server_name = d->o.server_name;
    filebuf_t *files[3] = {&d->ca, &d->cert, &d->key};
    mqtls_diag_file_t *dst[3] = {&in->ca, &in->cert, &in->key};
    for (size_t i = 0; i < 3; i++) {
        if (files[i]->display[0] != '\0') {
            dst[i]->display_name = files[i]->display;
            dst[i]->data = files[i]->err == 0 ? files[i]->data : NULL;
            dst[i]->len = files[i]->err == 0 ? files[i]->len : 0;
            dst[i]->read_errno = files[i]->err;
        }
    }
    in->key_password = d->keypass_given ? d->keypass : NULL;
    in->key_password_given = d->keypass_given;
    in->mqtt_version = d->o.version == 5 ? 5 : 4;
}

static void describe_certs(char *dst, size_t cap, const filebuf_t *f)
{
    mqtls_certinfo_t ci[2];
    size_t n = 0;
    if (mqtls_certinfo_parse(f->data, f->len, ci, 2, &n) != MQTLS_OK && n == 0) {
        snprintf(dst, cap, "%s: not usable", f->display);
        return;
    }
    char until[16];
    fmt_date(until, sizeof until, ci[0].not_after_s);
    int w = snprintf(dst, cap, "%s: %zu certificate(s); '%s' (%s, %s, valid until %s)%s%s",
                     f->display, n, ci[0].subject, ci[0].key_desc, ci[0].sig_desc, until,
                     n > 1 ? ", then '" : "", n > 1 ? ci[1].subject : "");
    if (w < 0 || (size_t)w >= cap) {
        return; /* truncated: the line is informative only */
    }
    if (n > 1) {
        size_t used = strlen(dst);
        if (used + 2 < cap) {
            snprintf(dst + used, cap - used, "'");
        }
    }
}

static void offline_steps(doctor_t *d)
{
    mqtls_diag_input_t in;
    fill_input(d, &in);
    mqtls_findings_clear(d->findings);
    (void)mqtls_diag_run(&in, d->findings);
    const mqtls_findings_t *fs = d->findings;

    char now[32];
    fmt_date(now, sizeof now, (int64_t)time(NULL));
    step_status_t cs = owner_status(fs, OWN_CLOCK);
    add_step(d, "local clock", cs, "%s (UTC)%s", now,
             cs == STEP_FAIL ? ": not set, every certificate looks not yet valid" : "");

    char text[1000];
    if (d->ca.display[0] != '\0') {
        step_status_t st = owner_status(fs, OWN_CA);
        describe_certs(text, sizeof text, &d->ca);
        const char *id = first_id(fs, OWN_CA);
        add_step(d, "CA file", st, "%s%s%s", d->ca.err != 0 ? d->ca.display : text,
                 id != NULL ? " -> " : "", id != NULL ? id : "");
    } else if (d->o.tls) {
        add_step(d, "CA file", STEP_WARN,
                 "none given: the server cannot be verified (give --cafile ca.crt)");
    }
    if (d->cert.display[0] != '\0') {
        step_status_t st = owner_status(fs, OWN_CERT);
        describe_certs(text, sizeof text, &d->cert);
        const char *id = first_id(fs, OWN_CERT);
        add_step(d, "client certificate", st, "%s%s%s", d->cert.err != 0 ? d->cert.display : text,
                 id != NULL ? " -> " : "", id != NULL ? id : "");
    }
    if (d->key.display[0] != '\0') {
        step_status_t st = owner_status(fs, OWN_KEY);
        mqtls_keyinfo_t ki;
        memset(&ki, 0, sizeof ki);
        if (d->key.err == 0) {
            (void)mqtls_keyinfo_parse(d->key.data, d->key.len, d->keypass_given ? d->keypass : NULL,
                                      &ki);
        }
        const char *id = first_id(fs, OWN_KEY);
        add_step(d, "client key", st, "%s: %s%s%s%s%s", d->key.display,
                 ki.key_type != MQTLS_KEY_NONE ? ki.key_desc : "key not decoded",
                 ki.is_encrypted ? ", encrypted" : "",
                 st == STEP_PASS && d->cert.display[0] != '\0' ? ", matches the certificate" : "",
                 id != NULL ? " -> " : "", id != NULL ? id : "");
    }
}

/* ---------------------------------------------------------------- steps 2-4: live */

typedef struct live {
    bool done;
    bool connected;
    mqtls_error_t err;
    bool have_err;
} live_t;

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    live_t *l = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        l->connected = true;
        l->done = true;
    } else if (ev->type == MQTLS_EVENT_ERROR && !l->have_err) {
        l->err = ev->u.error.err;
        l->have_err = true;
        l->done = true;
    } else if (ev->type == MQTLS_EVENT_DISCONNECTED) {
        if (!l->have_err && ev->u.disconnected.why.status != MQTLS_OK) {
            l->err = ev->u.disconnected.why;
            l->have_err = true;
        }
        l->done = true;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void live_steps(doctor_t *d)
{
    char uri[400];
    bool ipv6 = strchr(d->host, ':') != NULL;
    snprintf(uri, sizeof uri, "%s://%s%s%s:%u", d->o.tls ? "mqtts" : "mqtt", ipv6 ? "[" : "",
             d->host, ipv6 ? "]" : "", (unsigned)d->port);
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.client_id = d->o.client_id;
    cfg.version = d->o.version == 5 ? MQTLS_V5 : MQTLS_V311;
    cfg.username = d->o.username;
    cfg.password = d->o.password;
    cfg.reconnect.enabled = false;
    cfg.connect_timeout_ms = 10000;
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.enabled = d->o.tls;
    tls.ca_file = d->o.capath == NULL ? d->o.cafile : NULL;
    tls.ca_path = d->o.capath;
    tls.cert_file = d->o.cert;
    tls.key_file = d->o.key;
    tls.key_password = d->keypass_given ? d->keypass : NULL;
    tls.server_name = d->o.server_name;
    /* The live TLS step verifies with the profile the findings judge by, so that a chain
     * --profile rejects fails the handshake step too (and passes it when it is accepted). */
    tls.profile = mqtls_profile_name(d->profile);
    cfg.tls = &tls;
    live_t l;
    memset(&l, 0, sizeof l);
    cfg.on_event = on_event;
    cfg.event_ctx = &l;

    mqtls_error_t cerr;
    mqtls_error_init(&cerr);
    mqtls_client_t *c = NULL;
    mqtls_status_t st = mqtls_client_create(&cfg, &cerr, &c);
    if (st != MQTLS_OK) {
        /* The files were refused while building the TLS context: step 1 explains why. */
        add_step(d, "TCP connect", STEP_SKIP, "not tried: the client could not be set up (%s: %s)",
                 mqtls_status_name(st), cerr.detail[0] ? cerr.detail : mqtls_status_text(st));
        return;
    }
    int64_t deadline = mono_ms() + DOCTOR_LIVE_TIMEOUT_MS;
    if (mqtls_client_connect(c) == MQTLS_OK) {
        for (int guard = 0; !l.done && guard < 100000 && mono_ms() < deadline; guard++) {
            (void)mqtls_client_step(c, 100);
        }
    }
    if (!l.done) {
        l.have_err = true;
        mqtls_error_init(&l.err);
        (void)mqtls_client_last_error(c, &l.err);
        if (l.err.status == MQTLS_OK) {
            l.err.status = MQTLS_ERR_TIMEOUT;
            l.err.layer = mqtls_client_state(c) == MQTLS_STATE_MQTT_CONNECTING ? MQTLS_LAYER_MQTT
                                                                               : MQTLS_LAYER_TCP;
        }
    }
    const mqtls_tls_facts_t *facts = d->o.tls ? mqtls_client_tls_facts(c) : NULL;
    mqtls_layer_t failed = l.connected ? MQTLS_LAYER_NONE : l.err.layer;
    /* A reset or close reported by the tcp layer after connect() succeeded belongs to the
     * next step (the peer reacted to our ClientHello or CONNECT). */
    bool after_connect = failed == MQTLS_LAYER_TCP &&
                         (l.err.status == MQTLS_ERR_CONN_RESET || l.err.status == MQTLS_ERR_CLOSED);
    if (after_connect) {
        failed = d->o.tls ? MQTLS_LAYER_TLS : MQTLS_LAYER_MQTT;
    }
    bool tcp_ok = l.connected || failed == MQTLS_LAYER_TLS || failed == MQTLS_LAYER_MQTT ||
                  failed == MQTLS_LAYER_WS;
    bool tls_ok = l.connected || failed == MQTLS_LAYER_MQTT;
    char line[300];
    mqtls_strerror(&l.err, line, sizeof line);
    add_step(d, "TCP connect", tcp_ok ? STEP_PASS : STEP_FAIL, "%s:%u%s%s", d->host,
             (unsigned)d->port, tcp_ok ? "" : ": ", tcp_ok ? "" : line);
    if (d->o.tls) {
        if (!tcp_ok) {
            add_step(d, "TLS handshake", STEP_SKIP, "not reached");
        } else if (tls_ok && facts != NULL) {
            add_step(d, "TLS handshake", STEP_PASS, "%s, %s, server certificate verified",
                     mqtls_tls_facts_version(facts) == 0x0304 ? "TLS 1.3" : "TLS 1.2",
                     mqtls_tls_facts_ciphersuite(facts));
        } else {
            add_step(d, "TLS handshake", tls_ok ? STEP_PASS : STEP_FAIL, "%s",
                     tls_ok ? "ok" : line);
        }
    }
    if (!tls_ok) {
        add_step(d, "MQTT CONNECT", STEP_SKIP, "not reached");
    } else {
        add_step(d, "MQTT CONNECT", l.connected ? STEP_PASS : STEP_FAIL, "%s",
                 l.connected ? "CONNACK: accepted" : line);
    }
    /* Diagnose with everything: the files again (deduplicated by re-running from scratch),
     * the error and the handshake facts. The handshake verified with --profile too (see
     * tls.profile), so the TLS step and the findings judge the chain alike ("would an ESP32
     * on mbedTLS 3 accept this?"). */
    mqtls_diag_input_t in;
    fill_input(d, &in);
    in.err = l.connected ? NULL : &l.err;
    in.facts = facts;
    mqtls_findings_t *all = NULL;
    if (mqtls_findings_create(&all) == MQTLS_OK && mqtls_diag_run(&in, all) == MQTLS_OK) {
        mqtls_findings_destroy(d->findings);
        d->findings = all;
        all = NULL;
    }
    mqtls_findings_destroy(all);
    if (l.connected) {
        (void)mqtls_client_disconnect(c, 0);
        for (int guard = 0; guard < 20 && mqtls_client_state(c) != MQTLS_STATE_IDLE; guard++) {
            (void)mqtls_client_step(c, 50);
        }
    }
    mqtls_client_destroy(c);
}

/* ---------------------------------------------------------------- output */

static const char *status_word(step_status_t s)
{
    switch (s) {
    case STEP_PASS:
        return "passed";
    case STEP_FAIL:
        return "failed";
    case STEP_WARN:
        return "warning";
    default:
        return "skipped";
    }
}

static bool verdict_ok(const doctor_t *d)
{
    for (size_t i = 0; i < d->nsteps; i++) {
        if (d->steps[i].status == STEP_FAIL) {
            return false;
        }
    }
    for (size_t i = 0; i < mqtls_findings_count(d->findings); i++) {
        if (mqtls_finding_severity(mqtls_findings_get(d->findings, i)) == MQTLS_SEV_ERROR) {
            return false;
        }
    }
    return true;
}

static void print_json(const doctor_t *d, FILE *out)
{
    fprintf(out, "{\"verdict\":\"%s\",\"profile\":", verdict_ok(d) ? "ok" : "fail");
    mqtls_cli_json_string(out, mqtls_profile_name(d->profile));
    fputs(",\"steps\":[", out);
    for (size_t i = 0; i < d->nsteps; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        mqtls_cli_json_string(out, d->steps[i].name);
        fputs(",\"status\":", out);
        mqtls_cli_json_string(out, status_word(d->steps[i].status));
        fputs(",\"detail\":", out);
        mqtls_cli_json_string(out, d->steps[i].detail);
        fputc('}', out);
    }
    fputs("],\"findings\":[", out);
    for (size_t i = 0; i < mqtls_findings_count(d->findings); i++) {
        const mqtls_finding_t *f = mqtls_findings_get(d->findings, i);
        fputs(i ? ",{\"id\":" : "{\"id\":", out);
        mqtls_cli_json_string(out, mqtls_finding_id(f));
        fputs(",\"severity\":", out);
        mqtls_cli_json_string(out, mqtls_severity_name(mqtls_finding_severity(f)));
        fputs(",\"subject\":", out);
        mqtls_cli_json_string(out, mqtls_finding_subject(f));
        fputs(",\"message\":", out);
        mqtls_cli_json_string(out, mqtls_finding_message(f));
        fputs(",\"fix\":", out);
        mqtls_cli_json_string(out, mqtls_finding_fix(f));
        fputc('}', out);
    }
    fputs("]}\n", out);
}

static void print_text(const doctor_t *d, FILE *out)
{
    const char *red = d->color ? "\033[31m" : "";
    const char *green = d->color ? "\033[32m" : "";
    const char *yellow = d->color ? "\033[33m" : "";
    const char *dim = d->color ? "\033[2m" : "";
    const char *bold = d->color ? "\033[1m" : "";
    const char *off = d->color ? "\033[0m" : "";
    for (size_t i = 0; i < d->nsteps; i++) {
        const step_t *s = &d->steps[i];
        const char *col = s->status == STEP_PASS   ? green
                          : s->status == STEP_FAIL ? red
                          : s->status == STEP_WARN ? yellow
                                                   : dim;
        const char *word = s->status == STEP_PASS   ? "  ok  "
                           : s->status == STEP_FAIL ? " FAIL "
                           : s->status == STEP_WARN ? " warn "
                                                    : " skip ";
        fprintf(out, "[%s%s%s] %s%s%s: %s\n", col, word, off, bold, s->name, off, s->detail);
    }
    size_t count = mqtls_findings_count(d->findings);
    if (count > 0) {
        fprintf(out, "\n%sfindings, worst first:%s\n", bold, off);
    }
    for (size_t i = 0; i < count; i++) {
        const mqtls_finding_t *f = mqtls_findings_get(d->findings, i);
        mqtls_severity_t sev = mqtls_finding_severity(f);
        const char *col = sev == MQTLS_SEV_ERROR ? red : sev == MQTLS_SEV_WARNING ? yellow : dim;
        fprintf(out, "\n%s%s%s %s%s%s\n", col, mqtls_severity_name(sev), off, bold,
                mqtls_finding_id(f), off);
        fprintf(out, "  what: %s\n", mqtls_finding_message(f));
        if (mqtls_finding_subject(f)[0] != '\0') {
            fprintf(out, "  which: %s\n", mqtls_finding_subject(f));
        }
        if (mqtls_finding_fix(f)[0] != '\0') {
            fprintf(out, "  fix:  %s\n", mqtls_finding_fix(f));
        }
        fprintf(out, "  more: docs/findings/%s.md\n", mqtls_finding_id(f));
    }
    if (mqtls_findings_dropped(d->findings) > 0) {
        fprintf(out, "(%zu more findings not shown)\n", mqtls_findings_dropped(d->findings));
    }
    bool ok = verdict_ok(d);
    fprintf(out, "\n%sverdict: %s%s (profile %s: %s)\n", ok ? green : red,
            ok ? "ok, this set-up should work" : "problems found, see the fixes above", off,
            mqtls_profile_name(d->profile), mqtls_profile_describe(d->profile));
}

/* ---------------------------------------------------------------- entry */

static int parse_args(doctor_t *d, int argc, char **argv)
{
    opts_t *o = &d->o;
    o->version = 311;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *a = argv[i];
        int r;
#define OPT(name, field)                                                                           \
    if ((r = opt_value(argc, argv, &i, name, &v)) != 0) {                                          \
        if (r < 0) {                                                                               \
            return usage_error("option %s needs a value", name);                                   \
        }                                                                                          \
        o->field = v;                                                                              \
        continue;                                                                                  \
    }
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--offline") == 0) {
            o->offline = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        OPT("--host", host)
        OPT("-h", host)
        OPT("--cafile", cafile)
        OPT("--capath", capath)
        OPT("--cert", cert)
        OPT("--key", key)
        OPT("--keypass-file", keypass_file)
        OPT("--keypass", keypass)
        OPT("--tls-server-name", server_name)
        OPT("--profile", profile)
        OPT("-u", username)
        OPT("-P", password)
        OPT("-i", client_id)
#undef OPT
        if ((r = opt_value(argc, argv, &i, "-p", &v)) != 0 ||
            (r = opt_value(argc, argv, &i, "--port", &v)) != 0) {
            if (r < 0 || !parse_ulong(v, 1, 65535, &o->port)) {
                return usage_error("-p needs a port 1..65535, not '%s'", r < 0 ? "" : v);
            }
            continue;
        }
        if ((r = opt_value(argc, argv, &i, "-V", &v)) != 0) {
            if (r < 0 || (strcmp(v, "311") != 0 && strcmp(v, "5") != 0 &&
                          strcmp(v, "mqttv311") != 0 && strcmp(v, "mqttv5") != 0)) {
                return usage_error("-V takes 311 or 5, not '%s'", r < 0 ? "" : v);
            }
            o->version = (v[0] == '5' || strcmp(v, "mqttv5") == 0) ? 5 : 311;
            continue;
        }
        if (a[0] == '-') {
            return usage_error("unknown option '%s'", a);
        }
        if (o->uri != NULL) {
            return usage_error("more than one broker given ('%s')", a);
        }
        o->uri = a;
    }
    if (o->keypass != NULL && o->keypass_file != NULL) {
        return usage_error("%s", "give --keypass or --keypass-file, not both");
    }
    if (o->uri != NULL && o->host != NULL) {
        return usage_error("%s", "give a URI or -h HOST, not both");
    }
    d->profile = MQTLS_PROFILE_MBEDTLS_DEFAULT;
    if (o->profile != NULL && mqtls_profile_from_name(o->profile, &d->profile) != MQTLS_OK) {
        return usage_error("unknown --profile '%s' (mbedtls-default, mbedtls2-default, "
                           "mbedtls3-default, mbedtls-next, suiteb, openssl-seclevel2)",
                           o->profile);
    }
    o->tls = o->cafile != NULL || o->capath != NULL || o->cert != NULL || o->key != NULL;
    if (o->uri != NULL) {
        const char *rest = NULL;
        if (strncmp(o->uri, "mqtts://", 8) == 0) {
            o->tls = true;
            rest = o->uri + 8;
        } else if (strncmp(o->uri, "mqtt://", 7) == 0) {
            o->tls = false;
            rest = o->uri + 7;
        } else if (strncmp(o->uri, "ssl://", 6) == 0 || strncmp(o->uri, "tls://", 6) == 0) {
            o->tls = true;
            rest = o->uri + 6;
        } else {
            return usage_error("'%s' is not mqtt://host[:port] or mqtts://host[:port]", o->uri);
        }
        const char *host_end;
        const char *h = rest;
        if (*h == '[') {
            h++;
            host_end = strchr(h, ']');
            if (host_end == NULL) {
                return usage_error("bad IPv6 literal in '%s'", o->uri);
            }
        } else {
            host_end = h + strcspn(h, ":/");
        }
        size_t hl = (size_t)(host_end - h);
        if (hl == 0 || hl >= sizeof d->host) {
            return usage_error("no host in '%s'", o->uri);
        }
        memcpy(d->host, h, hl);
        d->host[hl] = '\0';
        const char *colon = *host_end == ']' ? host_end + 1 : host_end;
        if (*colon == ':') {
            char port[8];
            size_t pl = strcspn(colon + 1, "/");
            if (pl == 0 || pl >= sizeof port) {
                return usage_error("bad port in '%s'", o->uri);
            }
            memcpy(port, colon + 1, pl);
            port[pl] = '\0';
            unsigned long p;
            if (!parse_ulong(port, 1, 65535, &p)) {
                return usage_error("bad port in '%s'", o->uri);
            }
            d->port = (uint16_t)p;
        } else {
            d->port = o->tls ? 8883 : 1883;
        }
    } else if (o->host != NULL) {
        snprintf(d->host, sizeof d->host, "%s", o->host);
        d->port = (uint16_t)(o->port != 0 ? o->port : (o->tls ? 8883 : 1883));
    } else if (o->port != 0) {
        snprintf(d->host, sizeof d->host, "localhost");
        d->port = (uint16_t)o->port;
    }
    if (d->host[0] == '\0' && o->cafile == NULL && o->capath == NULL && o->cert == NULL &&
        o->key == NULL) {
        return usage_error("%s",
                           "nothing to check: give a broker URI and/or --cafile/--cert/--key");
    }
    return 0;
}

static void load_keypass(doctor_t *d)
{
    if (d->o.keypass != NULL) {
        snprintf(d->keypass, sizeof d->keypass, "%s", d->o.keypass);
        d->keypass_given = true;
    } else if (d->o.keypass_file != NULL) {
        FILE *fp = fopen(d->o.keypass_file, "r");
        if (fp != NULL) {
            if (fgets(d->keypass, sizeof d->keypass, fp) != NULL) {
                d->keypass[strcspn(d->keypass, "\r\n")] = '\0';
                d->keypass_given = true;
            }
            fclose(fp);
        } else {
            add_step(d, "key password file", STEP_FAIL, "%s: %s", d->o.keypass_file,
                     strerror(errno));
        }
    }
}

int mqtls_cmd_doctor(int argc, char **argv)
{
    doctor_t *d = calloc(1, sizeof *d);
    if (d == NULL || mqtls_findings_create(&d->findings) != MQTLS_OK) {
        fprintf(stderr, "mqtls: doctor: out of memory (MQTLS_ERR_NOMEM)\n");
        free(d);
        return MQTLS_EXIT_FAIL;
    }
    int rc = parse_args(d, argc, argv);
    if (rc != 0) {
        mqtls_findings_destroy(d->findings);
        free(d);
        return rc < 0 ? MQTLS_EXIT_OK : rc;
    }
    const char *no_color = getenv("NO_COLOR");
    d->color = !d->o.json && isatty(STDOUT_FILENO) && (no_color == NULL || no_color[0] == '\0');
    load_keypass(d);
    if (d->o.capath != NULL) {
        read_capath(&d->ca, d->o.capath);
    } else {
        read_file(&d->ca, "--cafile", d->o.cafile);
    }
    read_file(&d->cert, "--cert", d->o.cert);
    read_file(&d->key, "--key", d->o.key);

    if (!d->o.json && d->host[0] != '\0') {
        printf("mqtls doctor: %s://%s:%u%s\n", d->o.tls ? "mqtts" : "mqtt", d->host,
               (unsigned)d->port, d->o.offline ? " (offline: files only)" : "");
    }
    offline_steps(d);
    if (d->host[0] != '\0' && !d->o.offline) {
        live_steps(d);
    }
    if (d->o.json) {
        print_json(d, stdout);
    } else {
        print_text(d, stdout);
    }
    rc = verdict_ok(d) ? MQTLS_EXIT_OK : MQTLS_EXIT_FAIL;
    /* Secrets: wipe the password copy; file buffers may hold a private key. */
    volatile char *kp = d->keypass;
    for (size_t i = 0; i < sizeof d->keypass; i++) {
        kp[i] = '\0';
    }
    if (d->key.data != NULL) {
        volatile uint8_t *k = d->key.data;
        for (size_t i = 0; i < d->key.len; i++) {
            k[i] = 0;
        }
    }
    mqtls_findings_destroy(d->findings);
    free(d->ca.data);
    free(d->cert.data);
    free(d->key.data);
    free(d);
    return rc;
}
