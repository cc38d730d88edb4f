/* mqtls doctor: check certificates, keys and a broker step by step, then explain what is
 * wrong with findings (src/diag) a newcomer can act on.
 *
 *   step 1 (offline): local clock, CA file, client certificate, client key (parse, types,
 *                     validity, profile, key/cert pair, EKU, chain to the issuer); a key on a
 *                     PKCS#11 token (--key pkcs11:...) is opened on the token by the library
 *                     and checked against --cert there; --pin is only said to wait for step 3
 *   step 2-4 (live):  TCP connect, TLS handshake (signed with the token key, the server's key
 *                     checked against --pin), MQTT CONNECT -- through the public client API; on
 *                     failure mqtls_diag_run() gets the error + handshake facts.
 *
 * Files are read here (diag is pure), by the credential check pub and sub use too
 * (cli_creds.c); the library checks them the same way it does for pub and sub
 * (mqtls_client_create()). Exit: 0 it would work, 2 usage error, else the code of the failure
 * in the one table of every command (mqtls_cli_exit_code(), docs/cli/exit-codes.md). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_creds.h"
#include "cli_opts.h"
#include "cli_util.h"
#include "commands.h"
#include "mqtls/certinfo.h"
#include "mqtls/client.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/tls.h"

#define DOCTOR_MAX_STEPS 12
#define DOCTOR_LIVE_TIMEOUT_MS 15000

typedef enum { STEP_PASS, STEP_FAIL, STEP_WARN, STEP_SKIP } step_status_t;

typedef struct step {
    const char *name;
    step_status_t status;
    char detail[1400];
} step_t;

typedef struct live {
    bool done;
    bool connected;
    mqtls_error_t err;
    bool have_err;
} live_t;

typedef struct doctor {
    cli_opts_t o;    /* the command line (cli_opts.h); the same table and parser as pub/sub */
    bool has_broker; /* a URI, -h or -p: the live steps can run */
    step_t steps[DOCTOR_MAX_STEPS];
    size_t nsteps;
    mqtls_findings_t *findings; /* the last run: offline, then replaced by the live one */
    bool color;
    cli_creds_t creds;
    mqtls_profile_t profile;
    mqtls_status_t failed; /* the status of the failure (set-up or live), MQTLS_OK if none */
    live_t live;           /* what the client's events said */
} doctor_t;

/* ---------------------------------------------------------------- small helpers */

static step_t *add_step(doctor_t *d, const char *name, step_status_t st, const char *fmt, ...)
    CLI_PRINTF(4, 5);

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
    if (starts(subject, "--key") || starts(id, "key-") || strcmp(id, "client-key-mismatch") == 0 ||
        strcmp(id, "client-key-missing") == 0 || strcmp(id, "cert-and-key-swapped") == 0) {
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
    in->host = d->has_broker ? cli_host(&d->o) : NULL;
    in->port = d->has_broker ? cli_port(&d->o) : 0;
    in->server_name = d->o.server_name;
    cli_creds_to_diag(&d->creds, in);
    in->key_password = d->o.keypass;
    in->key_password_given = d->o.keypass != NULL;
    in->mqtt_version = d->o.version == MQTLS_V5 ? 5 : 4;
    in->client_id = d->o.id;
}

static void describe_certs(char *dst, size_t cap, const cli_cred_t *f)
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

/* The step of a certificate file: what it holds, or why it is unusable, and its worst finding. */
static void file_step(doctor_t *d, const char *name, const cli_cred_t *f, owner_t who)
{
    char text[1000];
    step_status_t st = owner_status(d->findings, who);
    describe_certs(text, sizeof text, f);
    const char *id = first_id(d->findings, who);
    add_step(d, name, st, "%s%s%s", f->err != 0 ? f->display : text, id != NULL ? " -> " : "",
             id != NULL ? id : "");
}

/* "matches the certificate" only when there is a certificate to match and nothing says the
 * pair is wrong. */
static bool key_matches_cert(const doctor_t *d)
{
    const cli_cred_t *cert = &d->creds.cert;
    mqtls_certinfo_t ci;
    size_t n = 0;
    if (cert->err != 0 || cert->data == NULL ||
        (mqtls_certinfo_parse(cert->data, cert->len, &ci, 1, &n) != MQTLS_OK && n == 0) || n == 0 ||
        owner_status(d->findings, OWN_CERT) == STEP_FAIL) {
        return false;
    }
    for (size_t i = 0; i < mqtls_findings_count(d->findings); i++) {
        const char *id = mqtls_finding_id(mqtls_findings_get(d->findings, i));
        if (strcmp(id, "client-key-mismatch") == 0 || strcmp(id, "cert-and-key-swapped") == 0) {
            return false;
        }
    }
    return true;
}

/* The engine that opens a key on a token and signs with it: --tls-engine, else
 * $MQTLS_TLS_ENGINE, else the library's default (as mqtls_tls_cfg_t::engine says). */
static const char *engine_name(const doctor_t *d)
{
    const char *e = d->o.tls_engine;
    if (e == NULL || e[0] == '\0') {
        e = getenv("MQTLS_TLS_ENGINE");
    }
    if (e == NULL || e[0] == '\0') {
        return mqtls_tls_engine_default();
    }
    if (strcmp(e, "mbedtls") == 0) { /* the newest mbedTLS of the build */
        for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
            if (strcmp(mqtls_tls_engine_name(i), "mbedtls3") == 0) {
                return "mbedtls3";
            }
        }
        return "mbedtls2";
    }
    return e;
}

/* Is the library's refusal about the key on the token (not about another file)? */
static bool token_refused(const mqtls_error_t *e)
{
    bool about = strstr(e->detail, "pkcs11") != NULL || strstr(e->detail, "PKCS#11") != NULL ||
                 strstr(e->detail, "token") != NULL;
    switch (e->status) {
    case MQTLS_ERR_PKCS11:
    case MQTLS_ERR_KEY_PASSWORD_REQUIRED:
    case MQTLS_ERR_KEY_PASSWORD_WRONG:
    case MQTLS_ERR_KEY_MISMATCH:
    case MQTLS_ERR_KEY_UNSUPPORTED:
        return true;
    case MQTLS_ERR_NOT_SUPPORTED:
    case MQTLS_ERR_INVALID_ARG:
        return about;
    default:
        return false;
    }
}

/* --key pkcs11:...: no file; mqtls_client_create() opened the key on the token (module, token,
 * object, PIN, a key type the engine signs with) and checked it against --cert: the openssl
 * engine compares the public key libp11 reads from the token (X509_check_private_key); the
 * mbedTLS engines have the token sign a test digest that the certificate's key verifies
 * (mbedtls_pk_check_pair on an RSA_ALT key). */
static void token_key_step(doctor_t *d, const mqtls_error_t *setup_err)
{
    const char *shown = d->creds.key_shown;
    const char *engine = engine_name(d);
    const char *module = d->o.pkcs11_module != NULL ? d->o.pkcs11_module : "the URI's module-path";
    const char *id = first_id(d->findings, OWN_KEY);
    if (setup_err != NULL && token_refused(setup_err)) {
        /* the library's words start with the URI as shown: say it once */
        const char *why = setup_err->detail;
        size_t n = strlen(shown);
        if (strncmp(why, shown, n) == 0 && why[n] == ':') {
            why += n + 1 + (why[n + 1] == ' ');
        }
        add_step(d, "client key", STEP_FAIL,
                 "%s (on a PKCS#11 token, module %s, engine %s): %s (%s)%s%s", shown, module,
                 engine, why, mqtls_status_name(setup_err->status), id != NULL ? " -> " : "",
                 id != NULL ? id : "");
        return;
    }
    if (setup_err != NULL) {
        add_step(d, "client key", STEP_SKIP,
                 "%s (on a PKCS#11 token): not opened, the set-up stopped before it (%s)", shown,
                 mqtls_status_name(setup_err->status));
        return;
    }
    char type[80] = "";
    mqtls_certinfo_t ci;
    size_t n = 0;
    const cli_cred_t *cert = &d->creds.cert;
    if (cert->err == 0 && cert->data != NULL &&
        (mqtls_certinfo_parse(cert->data, cert->len, &ci, 1, &n) == MQTLS_OK || n > 0) && n > 0) {
        snprintf(type, sizeof type, "%s, ", ci.key_desc);
    }
    bool is_openssl = strcmp(engine, "openssl") == 0;
    add_step(d, "client key", owner_status(d->findings, OWN_KEY),
             "%s (on a PKCS#11 token, module %s): opened by the %s engine, %smatches the "
             "certificate (%s)%s%s%s",
             shown, module, engine, type,
             is_openssl ? "the public key read from the token is the certificate's"
                        : "the token signed a test digest that the certificate's key verifies",
             strcmp(engine, "mbedtls3") == 0 ? "; this engine signs with it in TLS 1.2 only" : "",
             id != NULL ? " -> " : "", id != NULL ? id : "");
}

static void offline_steps(doctor_t *d, const mqtls_error_t *setup_err)
{
    mqtls_diag_input_t in;
    fill_input(d, &in);
    in.err = setup_err; /* the library refused a file: a finding must say which */
    mqtls_findings_clear(d->findings);
    (void)mqtls_diag_run(&in, d->findings);
    const mqtls_findings_t *fs = d->findings;

    char now[32];
    fmt_date(now, sizeof now, (int64_t)time(NULL));
    step_status_t cs = owner_status(fs, OWN_CLOCK);
    add_step(d, "local clock", cs, "%s (UTC)%s", now,
             cs == STEP_FAIL ? ": not set, every certificate looks not yet valid" : "");

    const cli_creds_t *c = &d->creds;
    if (c->ca_is_default) {
        add_step(d, "CA file", STEP_WARN,
                 "none given: the system's bundle %s is used (public CAs only; a private "
                 "broker's CA is not in it)",
                 c->ca.display);
    } else if (c->ca.display[0] != '\0') {
        file_step(d, "CA file", &c->ca, OWN_CA);
    } else if (d->o.tls) {
        add_step(d, "CA file", STEP_WARN,
                 "none given: the server cannot be verified (give --cafile ca.crt)");
    }
    if (c->cert.display[0] != '\0') {
        file_step(d, "client certificate", &c->cert, OWN_CERT);
    }
    if (c->key_shown[0] != '\0') {
        token_key_step(d, setup_err);
    } else if (c->key.display[0] != '\0') {
        step_status_t st = owner_status(fs, OWN_KEY);
        mqtls_keyinfo_t ki;
        memset(&ki, 0, sizeof ki);
        if (c->key.err == 0) {
            (void)mqtls_keyinfo_parse(c->key.data, c->key.len, d->o.keypass, &ki);
        }
        const char *id = first_id(fs, OWN_KEY);
        add_step(d, "client key", st, "%s: %s%s%s%s%s", c->key.display,
                 ki.key_type != MQTLS_KEY_NONE ? ki.key_desc : "key not decoded",
                 ki.is_encrypted ? ", encrypted" : "",
                 st == STEP_PASS && key_matches_cert(d) ? ", matches the certificate" : "",
                 id != NULL ? " -> " : "", id != NULL ? id : "");
    }
    if (d->o.pin_count > 0 && (d->o.offline || !d->has_broker)) {
        add_step(d, "server key pins", STEP_SKIP,
                 "%zu --pin given: the server's key is only seen in the TLS handshake%s",
                 d->o.pin_count, d->o.offline ? " (not with --offline)" : " (give a broker)");
    }
}

/* ---------------------------------------------------------------- steps 2-4: live */

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

/* The library's check of the same options pub and sub give it: mqtls_client_create() reads
 * and parses the credentials (nothing is sent). */
static mqtls_status_t setup_client(doctor_t *d, mqtls_client_t **out, mqtls_error_t *err)
{
    char uri[600];
    (void)cli_build_uri(&d->o, uri, sizeof uri); /* fits: the host has at most 255 bytes */
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.client_id = d->o.id;
    cfg.version = d->o.version;
    cfg.username = d->o.username;
    cfg.password = d->o.password;
    cfg.reconnect.enabled = false;
    cfg.connect_timeout_ms = 10000;
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.enabled = d->o.tls;
    /* as pub and sub (cli_session.c): without --cafile/--capath, the system's CAs */
    tls.ca_file =
        d->o.capath == NULL ? (d->o.cafile != NULL ? d->o.cafile : d->o.system_ca_file) : NULL;
    tls.ca_path = d->o.capath != NULL
                      ? d->o.capath
                      : (d->o.system_ca && d->o.system_ca_file == NULL ? "/etc/ssl/certs" : NULL);
    tls.cert_file = d->o.cert;
    tls.key_file = d->o.key;
    tls.key_password = d->o.keypass;
    tls.server_name = d->o.server_name;
    /* The live TLS step verifies with the profile the findings judge by, so that a chain
     * --profile rejects fails the handshake step too (and passes it when it is accepted). */
    tls.profile = mqtls_profile_name(d->profile);
    tls.engine = d->o.tls_engine;
    /* --pin as pub and sub give it: checked after the chain; a mismatch fails the TLS step
     * (finding pin-mismatch) */
    tls.pins = d->o.pin_count > 0 ? d->o.pins : NULL;
    tls.pkcs11_module = d->o.pkcs11_module;           /* --key pkcs11:... (RFC 7512) */
    tls.max_fragment_len = d->o.tls_max_fragment;
    cfg.tls = &tls;
    cfg.on_event = on_event;
    cfg.event_ctx = &d->live;
    /* the files' own problems first, as pub and sub see them (cli_creds_check()) */
    mqtls_status_t st = cli_creds_check(&d->creds, err);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls_error_init(err);
    st = mqtls_client_create(&cfg, err, out);
    if (st != MQTLS_OK && err->status == MQTLS_OK) {
        err->status = st;
    }
    return st;
}

static void live_steps(doctor_t *d, mqtls_client_t *c)
{
    live_t *l = &d->live;
    int64_t deadline = cli_now_ms() + DOCTOR_LIVE_TIMEOUT_MS;
    if (mqtls_client_connect(c) == MQTLS_OK) {
        for (int guard = 0; !l->done && guard < 100000 && cli_now_ms() < deadline; guard++) {
            (void)mqtls_client_step(c, 100);
        }
    }
    if (!l->done) {
        l->have_err = true;
        mqtls_error_init(&l->err);
        (void)mqtls_client_last_error(c, &l->err);
        if (l->err.status == MQTLS_OK) {
            l->err.status = MQTLS_ERR_TIMEOUT;
            l->err.layer = mqtls_client_state(c) == MQTLS_STATE_MQTT_CONNECTING ? MQTLS_LAYER_MQTT
                                                                                : MQTLS_LAYER_TCP;
        }
    }
    const mqtls_tls_facts_t *facts = d->o.tls ? mqtls_client_tls_facts(c) : NULL;
    mqtls_layer_t failed = l->connected ? MQTLS_LAYER_NONE : l->err.layer;
    /* A reset or close reported by the tcp layer after connect() succeeded belongs to the
     * next step (the peer reacted to our ClientHello or CONNECT). */
    bool after_connect = failed == MQTLS_LAYER_TCP && (l->err.status == MQTLS_ERR_CONN_RESET ||
                                                       l->err.status == MQTLS_ERR_CLOSED);
    if (after_connect) {
        failed = d->o.tls ? MQTLS_LAYER_TLS : MQTLS_LAYER_MQTT;
    }
    bool tcp_ok = l->connected || failed == MQTLS_LAYER_TLS || failed == MQTLS_LAYER_MQTT ||
                  failed == MQTLS_LAYER_WS;
    bool tls_ok = l->connected || failed == MQTLS_LAYER_MQTT;
    char line[sizeof d->steps[0].detail];
    mqtls_strerror(&l->err, line, sizeof line);
    add_step(d, "TCP connect", tcp_ok ? STEP_PASS : STEP_FAIL, "%s:%u%s%s", cli_host(&d->o),
             (unsigned)cli_port(&d->o), tcp_ok ? "" : ": ", tcp_ok ? "" : line);
    if (d->o.tls) {
        if (!tcp_ok) {
            add_step(d, "TLS handshake", STEP_SKIP, "not reached");
        } else if (tls_ok && facts != NULL) {
            const char *judge = mqtls_tls_facts_judge(facts);
            char pins[96] = "";
            if (d->o.pin_count > 0) {
                snprintf(pins, sizeof pins, ", its key matches one of the %zu --pin",
                         d->o.pin_count);
            }
            add_step(d, "TLS handshake", STEP_PASS,
                     "%s, %s, server certificate %s%s (engine %s%s%s%s)%s",
                     mqtls_tls_facts_version(facts) == 0x0304 ? "TLS 1.3" : "TLS 1.2",
                     mqtls_tls_facts_ciphersuite(facts),
                     (mqtls_tls_facts_flags(facts) & MQTLS_FACT_SESSION_RESUMED) != 0
                         ? "not checked again (session resumed)"
                         : "verified",
                     pins, mqtls_tls_facts_engine(facts),
                     judge[0] != '\0' ? "; the chain judged by " : "", judge,
                     judge[0] != '\0' ? "'s mbedTLS, as the profile names" : "",
                     d->creds.key_shown[0] != '\0' ? "; signed by the key on the token" : "");
        } else {
            add_step(d, "TLS handshake", tls_ok ? STEP_PASS : STEP_FAIL, "%s",
                     tls_ok ? "ok" : line);
        }
    }
    if (!tls_ok) {
        add_step(d, "MQTT CONNECT", STEP_SKIP, "not reached");
    } else {
        add_step(d, "MQTT CONNECT", l->connected ? STEP_PASS : STEP_FAIL, "%s",
                 l->connected ? "CONNACK: accepted" : line);
    }
    /* Diagnose with everything: the files again (deduplicated by re-running from scratch),
     * the error and the handshake facts. The handshake verified with --profile too (see
     * tls.profile), so the TLS step and the findings judge the chain alike ("would an ESP32
     * on mbedTLS 3 accept this?"). */
    mqtls_diag_input_t in;
    fill_input(d, &in);
    in.err = l->connected ? NULL : &l->err;
    in.after_connack = false; /* doctor leaves right after the CONNACK */
    if (!l->connected) {
        d->failed = l->err.status != MQTLS_OK ? l->err.status : MQTLS_ERR_TIMEOUT;
    }
    in.facts = facts;
    mqtls_findings_t *all = NULL;
    if (mqtls_findings_create(&all) == MQTLS_OK && mqtls_diag_run(&in, all) == MQTLS_OK) {
        mqtls_findings_destroy(d->findings);
        d->findings = all;
        all = NULL;
    }
    mqtls_findings_destroy(all);
    if (l->connected) {
        (void)mqtls_client_disconnect(c, 0);
        for (int guard = 0; guard < 20 && mqtls_client_state(c) != MQTLS_STATE_IDLE; guard++) {
            (void)mqtls_client_step(c, 50);
        }
    }
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
        cli_json_field(out, i ? ",{\"name\":" : "{\"name\":", d->steps[i].name);
        cli_json_field(out, ",\"status\":", status_word(d->steps[i].status));
        cli_json_field(out, ",\"detail\":", d->steps[i].detail);
        fputc('}', out);
    }
    fputs("],\"findings\":[", out);
    for (size_t i = 0; i < mqtls_findings_count(d->findings); i++) {
        const mqtls_finding_t *f = mqtls_findings_get(d->findings, i);
        cli_json_field(out, i ? ",{\"id\":" : "{\"id\":", mqtls_finding_id(f));
        cli_json_field(out, ",\"severity\":", mqtls_severity_name(mqtls_finding_severity(f)));
        cli_json_field(out, ",\"subject\":", mqtls_finding_subject(f));
        cli_json_field(out, ",\"message\":", mqtls_finding_message(f));
        cli_json_field(out, ",\"fix\":", mqtls_finding_fix(f));
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
            fputs("  fix:  ", out);
            cli_print_indented(out, mqtls_finding_fix(f), "        ");
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

/* The options as a whole (cli_parse() took them one by one): the broker, the profile. */
static int check_args(doctor_t *d)
{
    cli_opts_t *o = &d->o;
    if (o->keypass != NULL && o->keypass_file != NULL) {
        return cli_usage_error(CLI_DOCTOR, stderr, true,
                               "--keypass and --keypass-file exclude each other");
    }
    if (o->broker != NULL && o->host != NULL) {
        return cli_usage_error(CLI_DOCTOR, stderr, true, "give a URI or -h HOST, not both");
    }
    d->profile = MQTLS_PROFILE_MBEDTLS_DEFAULT;
    if (o->profile != NULL && mqtls_profile_from_name(o->profile, &d->profile) != MQTLS_OK) {
        return cli_usage_error(CLI_DOCTOR, stderr, true,
                               "unknown --profile '%s' (esp-idf-5, esp-idf-4, mbedtls-default, "
                               "mbedtls-next, suiteb, openssl-seclevel2)",
                               o->profile);
    }
    /* TLS: the URI's scheme decides; without one, any credential file turns it on. */
    o->tls = o->cafile != NULL || o->capath != NULL || o->cert != NULL || o->key != NULL ||
             o->pin_count > 0 || o->pkcs11_module != NULL;
    if (o->broker != NULL) {
        cli_url_t u;
        if (!cli_url_parse(o->broker, CLI_URL_SSL, &u)) {
            return cli_usage_error(CLI_DOCTOR, stderr, true,
                                   "'%s' is not mqtt://host[:port] or mqtts://host[:port]",
                                   o->broker);
        }
        o->tls = u.uri.tls;
        snprintf(o->url_host, sizeof o->url_host, "%s", u.uri.host);
        o->port = u.uri.port; /* given, or the scheme's default */
        if (!o->tls && (o->pin_count > 0 || cli_is_pkcs11_uri(o->key))) {
            return cli_usage_error(CLI_DOCTOR, stderr, true,
                                   "%s needs TLS, and '%s' is plain MQTT (use mqtts://)",
                                   o->pin_count > 0 ? "--pin" : "a key on a token", o->broker);
        }
    }
    cli_creds_system_ca(o); /* as pub and sub: no --cafile/--capath = the system's CAs */
    d->has_broker = o->broker != NULL || o->host != NULL || o->port != 0;
    if (!d->has_broker && o->cafile == NULL && o->capath == NULL && o->cert == NULL &&
        o->key == NULL) {
        return cli_usage_error(CLI_DOCTOR, stderr, true,
                               "nothing to check: give a broker URI and/or --cafile/--cert/--key");
    }
    return 0;
}

int mqtls_cmd_doctor(int argc, char **argv)
{
    doctor_t *d = calloc(1, sizeof *d);
    if (d == NULL || mqtls_findings_create(&d->findings) != MQTLS_OK) {
        fprintf(stderr, "mqtls: doctor: out of memory (MQTLS_ERR_NOMEM)\n");
        free(d);
        return MQTLS_EXIT_FAIL;
    }
    int rc = cli_parse(&d->o, CLI_DOCTOR, argc, argv, stdout, stderr);
    if (rc == CLI_PARSE_OK) {
        rc = check_args(d);
    }
    if (rc == CLI_PARSE_OK) {
        rc = cli_read_keypass(&d->o, stderr); /* as pub and sub: exit 4 if unreadable */
    }
    if (rc != CLI_PARSE_OK) {
        mqtls_findings_destroy(d->findings);
        cli_opts_free(&d->o);
        free(d);
        return rc == CLI_PARSE_HELP ? MQTLS_EXIT_OK : rc;
    }
    const char *no_color = getenv("NO_COLOR");
    d->color = !d->o.json && isatty(STDOUT_FILENO) && (no_color == NULL || no_color[0] == '\0');
    cli_creds_load(&d->creds, &d->o);

    if (!d->o.json && d->has_broker) {
        printf("mqtls doctor: %s://%s:%u%s\n", d->o.tls ? "mqtts" : "mqtt", cli_host(&d->o),
               (unsigned)cli_port(&d->o), d->o.offline ? " (offline: files only)" : "");
    }
    mqtls_client_t *c = NULL;
    mqtls_error_t setup_err;
    mqtls_status_t st = setup_client(d, &c, &setup_err);
    if (st == MQTLS_ERR_INVALID_ARG && d->creds.key_shown[0] != '\0' && token_refused(&setup_err)) {
        /* a malformed pkcs11: URI, an attribute RFC 7512 does not define, no module given: the
         * command line is wrong, as pub says (exit 2); the library's parser judged it */
        rc = cli_usage_error(CLI_DOCTOR, stderr, true, "--key %s", setup_err.detail);
        mqtls_findings_destroy(d->findings);
        cli_creds_free(&d->creds);
        cli_opts_free(&d->o);
        free(d);
        return rc;
    }
    if (st != MQTLS_OK) {
        d->failed = setup_err.status;
    }
    offline_steps(d, st != MQTLS_OK ? &setup_err : NULL);
    if (d->has_broker && !d->o.offline) {
        if (c != NULL) {
            live_steps(d, c);
        } else {
            /* The files were refused while building the TLS context: step 1 says why. */
            add_step(d, "TCP connect", STEP_SKIP,
                     "not tried: the client could not be set up (%s: %s)", mqtls_status_name(st),
                     setup_err.detail[0] ? setup_err.detail : mqtls_status_text(st));
        }
    }
    mqtls_client_destroy(c);
    if (d->o.json) {
        print_json(d, stdout);
    } else {
        print_text(d, stdout);
    }
    /* The one exit-code table: the same failure exits as pub and sub would. */
    rc = verdict_ok(d)           ? MQTLS_EXIT_OK
         : d->failed != MQTLS_OK ? mqtls_cli_exit_code(d->failed)
                                 : MQTLS_EXIT_FAIL;
    mqtls_findings_destroy(d->findings);
    cli_creds_free(&d->creds); /* wipes the key file's buffer */
    cli_opts_free(&d->o);      /* and the password */
    free(d);
    return rc;
}
