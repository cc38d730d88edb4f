/* The connection of `mqtls pub` / `mqtls sub`: options -> client configuration, connect,
 * step, close; a failure is printed with its diagnosis (findings with a fix) and the
 * `mqtls doctor` command to run next. See cli_session.h. */
#include "cli_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "mqtls/diag.h"

static void log_to_stderr(void *ctx, mqtls_log_level_t level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"off", "error", "warn", "info", "debug"};
    fprintf(stderr, "mqtls: %s: %s\n", names[(unsigned)level <= 4 ? (unsigned)level : 0], msg);
}

static void session_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    cli_session_t *s = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        s->connected = true;
        break;
    case MQTLS_EVENT_ERROR:
        if (!s->connected && !s->failed) {
            s->failed = true;
            s->err = ev->u.error.err;
        }
        break;
    case MQTLS_EVENT_DISCONNECTED:
        s->closed = true;
        if (!s->connected && !s->failed) {
            s->failed = true;
            s->err = ev->u.disconnected.why;
        }
        break;
    default:
        break;
    }
    if (s->on_event != NULL) {
        s->on_event(c, ev, s->ctx);
    }
}

static int exit_code_for(mqtls_status_t st)
{
    switch (st) {
    case MQTLS_ERR_CONNACK_REFUSED:
        return MQTLS_EXIT_REFUSED;
    case MQTLS_ERR_FILE_UNREADABLE:
    case MQTLS_ERR_FILE_EMPTY:
        return MQTLS_EXIT_FILE;
    default:
        return MQTLS_EXIT_FAIL;
    }
}

/* Print up to @p max findings; returns how many were printed. */
static size_t print_findings(const cli_session_t *s, const mqtls_error_t *e, size_t max)
{
    const cli_opts_t *o = s->opts;
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = cli_host(o);
    in.port = cli_port(o);
    in.server_name = o->server_name;
    cli_cred_t ca, cert, key;
    cli_cred_load(&ca, o->cafile != NULL ? o->cafile : o->system_ca_file);
    cli_cred_load(&cert, o->cert);
    cli_cred_load(&key, cli_is_pkcs11_uri(o->key) ? NULL : o->key); /* on a token: no file */
    cli_cred_to_diag(&ca, &in.ca);
    cli_cred_to_diag(&cert, &in.cert);
    cli_cred_to_diag(&key, &in.key);
    char key_shown[600];
    if (cli_is_pkcs11_uri(o->key)) {
        in.key.display_name = cli_key_shown(o->key, key_shown, sizeof key_shown); /* on a token */
    }
    in.key_password = o->keypass;
    in.key_password_given = o->keypass != NULL;
    in.err = e;
    in.facts = s->client != NULL ? mqtls_client_tls_facts(s->client) : NULL;
    mqtls_findings_t *f = NULL;
    size_t shown = 0;
    if (mqtls_findings_create(&f) == MQTLS_OK && mqtls_diag_run(&in, f) == MQTLS_OK) {
        for (size_t i = 0; i < mqtls_findings_count(f) && shown < max; i++) {
            const mqtls_finding_t *x = mqtls_findings_get(f, i);
            mqtls_severity_t sev = mqtls_finding_severity(x);
            if (sev == MQTLS_SEV_INFO && shown > 0) {
                continue;
            }
            fprintf(stderr, "  [%s] %s: %s\n", mqtls_severity_name(sev), mqtls_finding_id(x),
                    mqtls_finding_message(x));
            if (mqtls_finding_subject(x)[0] != '\0') {
                fprintf(stderr, "      subject: %s\n", mqtls_finding_subject(x));
            }
            if (mqtls_finding_fix(x)[0] != '\0') {
                fprintf(stderr, "      fix: %s\n", mqtls_finding_fix(x));
            }
            shown++;
        }
    }
    mqtls_findings_destroy(f);
    cli_cred_free(&ca);
    cli_cred_free(&cert);
    cli_cred_free(&key);
    return shown;
}

/* The raw structured error: every fact the failure carries, for when diagnosis has nothing. */
static void print_raw_error(const mqtls_error_t *e)
{
    fprintf(stderr, "  layer %s, status %s (%d)", mqtls_layer_name(e->layer),
            mqtls_status_name(e->status), (int)e->status);
    if (e->mbedtls_ret != 0) {
        fprintf(stderr, ", mbedTLS -0x%04X", (unsigned)-e->mbedtls_ret);
    }
    if (e->verify_flags != 0) {
        fprintf(stderr, ", verify flags 0x%08lX", (unsigned long)e->verify_flags);
    }
    if (e->tls_alert >= 0) {
        fprintf(stderr, ", alert received %d (%s)", e->tls_alert,
                mqtls_tls_alert_name(e->tls_alert));
    }
    if (e->connack_reason >= 0) {
        fprintf(stderr, ", CONNACK reason 0x%02X", (unsigned)e->connack_reason);
    }
    if (e->sys_errno != 0) {
        fprintf(stderr, ", errno %d (%s)", e->sys_errno, strerror(e->sys_errno));
    }
    fprintf(stderr, "\n");
    for (size_t d = 0; d < e->chain_len && d < MQTLS_ERROR_CHAIN_DEPTH; d++) {
        if (e->depth_flags[d] != 0) {
            fprintf(stderr, "  chain depth %zu: verify flags 0x%08lX\n", d,
                    (unsigned long)e->depth_flags[d]);
        }
    }
}

/* The `mqtls doctor` command line with the same connection flags (no secrets). */
static void print_doctor_hint(const cli_opts_t *o)
{
    char uri[600];
    if (!cli_build_uri(o, uri, sizeof(uri))) {
        return;
    }
    if (cli_is_pkcs11_uri(o->key)) {
        return; /* doctor checks key files, not keys on a token */
    }
    fprintf(stderr, "mqtls: for a step-by-step check run:\n  mqtls doctor %s", uri);
    if (o->version_given) {
        fprintf(stderr, " -V %s", o->version == MQTLS_V5 ? "5" : "311");
    }
    const struct {
        const char *flag;
        const char *val;
    } fl[] = {{"--cafile", o->cafile},
              {"--capath", o->capath},
              {"--cert", o->cert},
              {"--key", o->key},
              {"--keypass-file", o->keypass_file},
              {"--tls-server-name", o->server_name},
              {"-i", o->id},
              {"-u", o->username}};
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        if (fl[i].val != NULL) {
            fprintf(stderr, " %s %s", fl[i].flag, fl[i].val);
        }
    }
    /* secrets are never printed: the user adds them back */
    if (o->keypass != NULL && o->keypass_file == NULL) {
        fprintf(stderr, " --keypass '***'");
    }
    if (o->password != NULL) {
        fprintf(stderr, " -P '***'");
    }
    fprintf(stderr, "\n");
}

int cli_report_error(const cli_session_t *s, const mqtls_error_t *e, const char *action)
{
    if (s->opts->quiet) {
        return exit_code_for(e->status);
    }
    char why[512];
    mqtls_strerror(e, why, sizeof(why));
    fprintf(stderr, "mqtls: %s %s:%u: %s\n", action, cli_host(s->opts), cli_port(s->opts), why);
    if (print_findings(s, e, 3) == 0) {
        print_raw_error(e);
    }
    if (e->layer == MQTLS_LAYER_WS && strstr(e->detail, "protocol") != NULL &&
        (s->opts->ws_subprotocol == NULL || s->opts->ws_subprotocol[0] != '\0')) {
        /* websockify and other bridges refuse the "mqtt" subprotocol [MQTT-6.0.0-3] */
        fprintf(stderr, "mqtls: the server refused the WebSocket subprotocol; if it is a "
                        "bridge such as websockify, retry with --ws-subprotocol \"\"\n");
    }
    if (!s->opts->url_ws) {
        /* mqtls doctor checks mqtt(s):// endpoints; it has no WebSocket step yet */
        print_doctor_hint(s->opts);
    }
    return exit_code_for(e->status);
}

static int check_keyform(const cli_opts_t *o)
{
    if (!o->keyform_given || o->key == NULL || cli_is_pkcs11_uri(o->key)) {
        return 0;
    }
    cli_cred_t key;
    cli_cred_load(&key, o->key);
    if (key.err != 0) {
        cli_cred_free(&key);
        return 0; /* the client reports the unreadable file with its diagnosis */
    }
    bool is_pem = false;
    for (size_t i = 0; i + 10 <= key.len && !is_pem; i++) {
        is_pem = memcmp(key.data + i, "-----BEGIN", 10) == 0;
    }
    cli_cred_free(&key);
    if (is_pem == (o->keyform_der != 0)) {
        fprintf(stderr, "mqtls %s: --keyform %s but %s is %s\n", cli_mode_name(o->mode),
                o->keyform_der ? "der" : "pem", o->key, is_pem ? "PEM" : "not PEM (DER?)");
        return MQTLS_EXIT_USAGE;
    }
    return 0;
}

static void split_props(cli_session_t *s, mqtls_client_cfg_t *cfg)
{
    const cli_opts_t *o = s->opts;
    static const int order[] = {MQTLS_CONNECT, CLI_PROP_CMD_WILL, MQTLS_PUBLISH, MQTLS_SUBSCRIBE};
    mqtls_properties_t *blocks[] = {&s->props_connect, &s->props_will, &s->props_publish,
                                    &s->props_subscribe};
    size_t n = 0;
    for (size_t k = 0; k < 4; k++) {
        blocks[k]->items = &s->items[n];
        blocks[k]->count = 0;
        for (size_t i = 0; i < o->prop_count; i++) {
            const cli_prop_t *p = &o->props[i];
            if (p->cmd != order[k]) {
                continue;
            }
            if (p->cmd == MQTLS_CONNECT) {
                /* these have their own cfg fields; the client encodes them [MQTT-3.1.2.11] */
                switch (p->prop.id) {
                case MQTLS_PROP_SESSION_EXPIRY_INTERVAL:
                    cfg->session_expiry_s = p->prop.v.u32;
                    continue;
                case MQTLS_PROP_RECEIVE_MAXIMUM:
                    cfg->receive_maximum = (uint16_t)p->prop.v.u32;
                    continue;
                case MQTLS_PROP_MAXIMUM_PACKET_SIZE:
                    cfg->max_packet_size = p->prop.v.u32;
                    continue;
                case MQTLS_PROP_TOPIC_ALIAS_MAXIMUM:
                    cfg->topic_alias_maximum = (uint16_t)p->prop.v.u32;
                    continue;
                default:
                    break;
                }
            }
            s->items[n++] = p->prop;
            blocks[k]->count++;
        }
        if (blocks[k]->count == 0) {
            blocks[k]->items = NULL;
        }
    }
}

int cli_session_open(cli_session_t *s, const cli_opts_t *o, mqtls_event_fn on_event, void *ctx)
{
    memset(s, 0, sizeof(*s));
    s->opts = o;
    s->on_event = on_event;
    s->ctx = ctx;
    mqtls_error_init(&s->err);

    int rc = check_keyform(o);
    if (rc != 0) {
        return rc;
    }
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    if (!cli_build_uri(o, s->uri, sizeof(s->uri))) {
        fprintf(stderr, "mqtls: broker address too long\n");
        return MQTLS_EXIT_USAGE;
    }
    cfg.uri = s->uri;
    cfg.ws_subprotocol = o->ws_subprotocol;
    if (o->id != NULL) {
        cfg.client_id = o->id;
    } else if (o->id_prefix != NULL) {
        snprintf(s->client_id, sizeof(s->client_id), "%.40s%ld", o->id_prefix, (long)getpid());
        cfg.client_id = s->client_id;
    }
    cfg.version = o->version;
    cfg.keepalive_s = (uint16_t)o->keepalive_s;
    cfg.clean_start = o->clean_session;
    if (!o->clean_session && o->version == MQTLS_V5) {
        /* mosquitto: -c with MQTT 5 means a session that never expires */
        cfg.session_expiry_s = UINT32_MAX;
    }
    cfg.username = o->username != NULL ? o->username : (o->url_has_user ? o->url_user : NULL);
    cfg.password = o->password != NULL ? o->password : (o->url_has_pass ? o->url_pass : NULL);
    split_props(s, &cfg);
    if (o->will_topic != NULL) {
        cfg.will.topic = o->will_topic;
        cfg.will.payload = (const uint8_t *)(o->will_payload != NULL ? o->will_payload : "");
        cfg.will.payload_len = o->will_payload != NULL ? strlen(o->will_payload) : 0;
        cfg.will.qos = (uint8_t)o->will_qos;
        cfg.will.retain = o->will_retain;
        cfg.will.props = s->props_will;
    }
    cfg.connect_props = s->props_connect;
    /* A CLI run is one attempt: the failure is reported, not retried (mosquitto_sub retries). */
    cfg.reconnect.enabled = false;
    mqtls_tls_cfg_t tls; /* copied by mqtls_client_create() */
    if (o->tls) {
        mqtls_tls_cfg_t *t = &tls;
        mqtls_tls_cfg_init(t);
        t->enabled = true;
        t->ca_file = o->cafile != NULL ? o->cafile : o->system_ca_file;
        t->ca_path = o->capath != NULL
                         ? o->capath
                         : (o->system_ca && o->system_ca_file == NULL ? "/etc/ssl/certs" : NULL);
        t->cert_file = o->cert;
        t->key_file = o->key;
        t->key_password = o->keypass;
        t->server_name = o->server_name;
        t->insecure = o->insecure;
        t->alpn = o->alpn_count > 0 ? o->alpn : NULL;
        t->pins = o->pin_count > 0 ? o->pins : NULL;
        t->pkcs11_module = o->pkcs11_module;
        t->engine = o->tls_engine; /* NULL: $MQTLS_TLS_ENGINE, else the default */
        t->profile = o->profile;   /* named: that device's mbedTLS judges (docs/tls-engines.md) */
        if (o->tls_version != 0) {
            t->min_version = o->tls_version;
            t->max_version = o->tls_version;
        }
        cfg.tls = t;
    }
    cfg.on_event = session_event;
    cfg.event_ctx = s;
    if (o->debug) {
        cfg.log_fn = log_to_stderr;
        cfg.log_level = MQTLS_LOG_DEBUG;
    }
    if (o->insecure) { /* loud every time, even with --quiet (DESIGN.md) */
        fprintf(stderr,
                "mqtls: WARNING: --insecure: the server certificate is NOT verified; "
                "anyone can impersonate %s\n",
                cli_host(o));
    }

    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &s->client);
    if (st != MQTLS_OK) {
        if (err.status == MQTLS_OK) {
            err.status = st;
        }
        s->err = err;
        return cli_report_error(s, &err, "cannot connect to");
    }
    st = mqtls_client_connect(s->client);
    if (st != MQTLS_OK) {
        mqtls_client_last_error(s->client, &err);
        if (err.status == MQTLS_OK) {
            err.status = st;
        }
        return cli_report_error(s, &err, "cannot connect to");
    }
    /* TCP + TLS + CONNACK have 10 s each in the client; this is only a backstop. */
    int64_t deadline = cli_now_ms() + 35000;
    while (!s->connected && !s->failed && cli_now_ms() < deadline) {
        mqtls_client_step(s->client, 100);
    }
    if (s->connected) {
        return MQTLS_EXIT_OK;
    }
    if (!s->failed) {
        mqtls_client_last_error(s->client, &s->err);
        if (s->err.status == MQTLS_OK) {
            s->err.status = MQTLS_ERR_TIMEOUT;
        }
    }
    if (s->err.status == MQTLS_OK) {
        mqtls_client_last_error(s->client, &s->err);
    }
    return cli_report_error(s, &s->err, "cannot connect to");
}

void cli_session_step(cli_session_t *s, int timeout_ms)
{
    if (s->client != NULL) {
        mqtls_client_step(s->client, timeout_ms);
    }
}

void cli_session_close(cli_session_t *s)
{
    if (s->client == NULL) {
        return;
    }
    s->closing = true;
    if (s->connected && !s->closed && mqtls_client_disconnect(s->client, 0) == MQTLS_OK) {
        int64_t deadline = cli_now_ms() + 5000;
        while (!s->closed && cli_now_ms() < deadline) {
            mqtls_client_step(s->client, 100);
        }
    }
    mqtls_client_destroy(s->client);
    s->client = NULL;
}

volatile sig_atomic_t cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

int cli_main(cli_mode_t mode, int argc, char **argv, int (*run)(const cli_opts_t *o))
{
    static cli_opts_t o; /* large: keep it off the stack */
    int rc = cli_parse(&o, mode, argc, argv, stdout, stderr);
    if (rc == CLI_PARSE_HELP) {
        return MQTLS_EXIT_OK;
    }
    if (rc != CLI_PARSE_OK) {
        cli_opts_free(&o);
        return rc;
    }
    if (o.debug) {
        cli_print_config(&o, stderr);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (mode == CLI_PUB) {
        /* a write to a closed socket is an error to report, not a silent exit (sub keeps the
         * default: `mqtls sub | head -1` ends when head does) */
        signal(SIGPIPE, SIG_IGN);
    }
    rc = run(&o);
    cli_opts_free(&o);
    return rc;
}
