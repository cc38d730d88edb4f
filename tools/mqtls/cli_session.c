/* The connection of `mqtls pub` / `mqtls sub`: options -> client configuration, connect,
 * step, close; a failure is printed with its diagnosis (findings with a fix) and the
 * `mqtls doctor` command to run next. See cli_session.h. */
#include "cli_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli_creds.h"
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

/* After a session the broker had accepted ended: does the broker still accept connections?
 * (A stopped broker refuses them; after a client-id takeover it does.) A bounded TCP connect
 * to the same host and port, nothing sent. @return 1 accepted, 0 refused/unreachable, -1 not
 * known. */
static int probe_broker(const char *host, uint16_t port)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL) {
        return -1;
    }
    int verdict = 0;
    for (struct addrinfo *a = res; a != NULL && verdict != 1; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            verdict = 1;
        } else if (errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int err = 0;
            socklen_t len = sizeof err;
            if (poll(&pfd, 1, 2000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
                err == 0) {
                verdict = 1;
            } else if (poll(&pfd, 1, 0) == 0) {
                verdict = -1; /* no answer in 2 s: not known */
            }
        }
        close(fd);
    }
    freeaddrinfo(res);
    return verdict;
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
    in.insecure = o->insecure;
    in.mqtt_version = o->version == MQTLS_V5 ? 5 : 4;
    cli_creds_t creds;
    cli_creds_load(&creds, o); /* a key on a token: no file, shown with pin-value=*** */
    cli_creds_to_diag(&creds, &in);
    in.key_password = o->keypass;
    in.key_password_given = o->keypass != NULL;
    in.err = e;
    in.mqtt_version = (int)o->version; /* 3, 4 or 5: what the broker's silence means */
    in.facts = s->client != NULL ? mqtls_client_tls_facts(s->client) : NULL;
    in.client_id = o->id;
    in.after_connack = s->connected;
    if (s->connected && (e->status == MQTLS_ERR_CLOSED || e->status == MQTLS_ERR_CONN_RESET ||
                         e->status == MQTLS_ERR_IO || e->status == MQTLS_ERR_TLS_IO)) {
        in.broker_reachable = probe_broker(cli_host(o), cli_port(o));
    }
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
                fputs("      fix: ", stderr);
                cli_print_indented(stderr, mqtls_finding_fix(x), "           ");
            }
            shown++;
        }
    }
    mqtls_findings_destroy(f);
    cli_creds_free(&creds);
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
    if (e->connack_reason == 0) {
        fprintf(stderr, ", after CONNACK 0x00 (the connection had been accepted)");
    } else if (e->connack_reason > 0) {
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
              {"--key", cli_is_pkcs11_uri(o->key) ? NULL : o->key},
              {"--keypass-file", o->keypass_file},
              {"--tls-server-name", o->server_name},
              {"-i", o->id},
              {"-u", o->username}};
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        if (fl[i].val != NULL) {
            fprintf(stderr, " %s %s", fl[i].flag, fl[i].val);
        }
    }
    if (cli_is_pkcs11_uri(o->key)) {
        /* a key on a token: the URI quoted (';' is the shell's), its pin-value as *** */
        char shown[600];
        fprintf(stderr, " --key '%s'", cli_key_shown(o->key, shown, sizeof shown));
        if (o->pkcs11_module != NULL) {
            fprintf(stderr, " --pkcs11-module %s", o->pkcs11_module);
        }
    }
    for (size_t i = 0; i < o->pin_count; i++) {
        fprintf(stderr, " --pin %s", o->pins[i]); /* a hash of a public key: no secret */
    }
    if (o->tls_max_fragment != 0) {
        fprintf(stderr, " --tls-max-fragment %u", (unsigned)o->tls_max_fragment);
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

/* A file or key the library refused: nothing was sent, so no "cannot connect". */
static void print_config_error(const cli_opts_t *o, const mqtls_error_t *e)
{
    const char *path = NULL;
    const char *flag = cli_creds_flag_for(o, e->detail, &path);
    char tls[160] = "";
    if (e->mbedtls_ret != 0) {
        snprintf(tls, sizeof tls, "; mbedTLS -0x%04X", (unsigned)-e->mbedtls_ret);
    }
    bool reader_words = e->status == MQTLS_ERR_FILE_NOT_REGULAR ||
                        e->status == MQTLS_ERR_FILE_TOO_LARGE ||
                        e->status == MQTLS_ERR_FILE_UNREADABLE;
    if (flag != NULL) {
        /* the reader says what the file is ("a FIFO (named pipe), not a file") */
        fprintf(stderr, "mqtls: cannot use %s %s: %s (%s%s)\n", flag, path,
                reader_words ? cli_reason_after(e->detail, path) : mqtls_status_text(e->status),
                mqtls_status_name(e->status), tls);
    } else {
        fprintf(stderr, "mqtls: cannot use the TLS settings: %s (%s%s)%s%s\n",
                mqtls_status_text(e->status), mqtls_status_name(e->status), tls,
                e->detail[0] != '\0' ? ": " : "", e->detail);
    }
}

int cli_report_error(const cli_session_t *s, const mqtls_error_t *e, const char *action)
{
    if (s->opts->quiet) {
        return mqtls_cli_exit_code(e->status);
    }
    if (e->layer == MQTLS_LAYER_CONFIG) {
        print_config_error(s->opts, e);
    } else {
        char why[512];
        mqtls_strerror(e, why, sizeof(why));
        if (s->opts->unix_path != NULL) {
            fprintf(stderr, "mqtls: %s unix socket %s: %s\n", action, s->opts->unix_path, why);
        } else {
            fprintf(stderr, "mqtls: %s %s:%u: %s\n", action, cli_host(s->opts),
                    cli_port(s->opts), why);
        }
    }
    if (print_findings(s, e, 3) == 0) {
        print_raw_error(e);
    }
    if (e->layer == MQTLS_LAYER_WS && strstr(e->detail, "protocol") != NULL &&
        (s->opts->ws_subprotocol == NULL || s->opts->ws_subprotocol[0] != '\0')) {
        /* websockify and other bridges refuse the "mqtt" subprotocol [MQTT-6.0.0-3] */
        fprintf(stderr, "mqtls: the server refused the WebSocket subprotocol; if it is a "
                        "bridge such as websockify, retry with --ws-subprotocol \"\"\n");
    }
    if (e->status == MQTLS_ERR_TLS_VERIFY && s->opts->system_ca && s->opts->cafile == NULL &&
        s->opts->capath == NULL) {
        fprintf(stderr,
                "mqtls: the broker's certificate was checked against the system CA store "
                "only (%s); a broker with a private CA needs --cafile\n",
                s->opts->system_ca_why);
    }
    bool persist = e->status == MQTLS_ERR_PERSIST || e->status == MQTLS_ERR_PERSIST_LOCKED ||
                   e->status == MQTLS_ERR_PERSIST_MISMATCH;
    if (!s->opts->url_ws && s->opts->unix_path == NULL && s->opts->proxy == NULL &&
        s->opts->psk_len == 0 && !persist) {
        /* mqtls doctor checks mqtt(s):// endpoints with certificates; it has no WebSocket,
         * Unix socket, proxy or PSK step yet; a --persist directory problem is not the
         * broker's: doctor cannot help there */
        print_doctor_hint(s->opts);
    }
    return mqtls_cli_exit_code(e->status);
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

/* -A: mosquitto takes a name too; the library takes an IP literal (it never blocks on a
 * resolver), so a name is resolved here, once, to its first address. */
static int bind_literal(cli_session_t *s, const char *addr)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(addr, NULL, &hints, &ai);
    if (rc != 0 || ai == NULL) {
        fprintf(stderr, "mqtls %s: -A %s: %s\n", cli_mode_name(s->opts->mode), addr,
                rc != 0 ? gai_strerror(rc) : "no address");
        return MQTLS_EXIT_USAGE;
    }
    const void *a =
        ai->ai_family == AF_INET6
            ? (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr
            : (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
    bool ok = inet_ntop(ai->ai_family, a, s->bind_address, sizeof s->bind_address) != NULL;
    freeaddrinfo(ai);
    return ok ? MQTLS_EXIT_OK : MQTLS_EXIT_USAGE;
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
    if (o->bind_address != NULL) {
        rc = bind_literal(s, o->bind_address);
        if (rc != MQTLS_EXIT_OK) {
            return rc;
        }
        cfg.bind_address = s->bind_address;
    }
    cfg.max_inflight = (uint16_t)o->max_inflight;
    cfg.proxy = o->proxy;
    if (o->id != NULL && o->id[0] == '\0') {
        cfg.empty_client_id = true; /* -i '': the broker assigns one */
    } else if (o->id != NULL) {
        cfg.client_id = o->id;
    } else if (o->id_prefix != NULL) {
        snprintf(s->client_id, sizeof(s->client_id), "%.40s%ld", o->id_prefix, (long)getpid());
        cfg.client_id = s->client_id;
    }
    cfg.version = o->version;
    cfg.keepalive_s = (uint16_t)o->keepalive_s;
    cfg.clean_start = o->clean_session;
    cfg.persistence_dir = o->persist_dir; /* the id kept there is used when -i is not given */
    cfg.persistence_sync = (mqtls_persist_sync_t)o->persist_sync;
    if (o->version == MQTLS_V5 && o->session_expiry_given) {
        cfg.session_expiry_s = o->session_expiry_s; /* -x; ignored before MQTT 5, as mosquitto */
    } else if (!o->clean_session && o->version == MQTLS_V5) {
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
    /* Room for the largest payload pub reads (-f, -s, -l), its topic and header. */
    cfg.outbox_max_bytes = CLI_PAYLOAD_MAX + 128u * 1024u;
    mqtls_tls_cfg_t tls; /* copied by mqtls_client_create() */
    if (o->tls) {
        mqtls_tls_cfg_t *t = &tls;
        mqtls_tls_cfg_init(t);
        t->enabled = true;
        cli_trust(o, &t->ca_file, &t->ca_path);
        t->cert_file = o->cert;
        t->key_file = o->key;
        t->key_password = o->keypass;
        t->server_name = o->server_name;
        t->insecure = o->insecure;
        t->alpn = o->alpn_count > 0 ? o->alpn : NULL;
        if (o->psk_len > 0) {
            t->psk = o->psk;
            t->psk_len = o->psk_len;
            t->psk_identity = o->psk_identity;
        }
        t->pins = o->pin_count > 0 ? o->pins : NULL;
        t->pkcs11_module = o->pkcs11_module;
        t->engine = o->tls_engine; /* NULL: $MQTLS_TLS_ENGINE, else the default */
        t->profile = o->profile;   /* named: that device's mbedTLS judges (docs/tls-engines.md) */
        if (o->tls_version != 0) {
            t->min_version = o->tls_version;
            t->max_version = o->tls_version;
        }
        t->ciphers = o->ciphers;
        t->max_fragment_len = o->tls_max_fragment;
        cfg.tls = t;
    }
    cfg.on_event = session_event;
    cfg.event_ctx = s;
    /* the observer runs always: it tracks Reason Strings and open QoS 2 flows; -d prints */
    s->trace.out = o->debug ? stderr : NULL;
    s->trace.tls = o->tls;
    cfg.trace_fn = cli_trace_packet;
    cfg.trace_ctx = &s->trace;
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
    /* The files first, by the one credential check: a folder, a FIFO, a device or a missing
     * file is reported before the library would open (or block on) it. */
    cli_creds_t creds;
    cli_creds_load(&creds, o);
    mqtls_status_t st = cli_creds_check(&creds, &err);
    cli_creds_free(&creds);
    if (st != MQTLS_OK) {
        s->err = err;
        return cli_report_error(s, &err, "cannot connect to");
    }
    st = mqtls_client_create(&cfg, &err, &s->client);
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
    /* An inbound QoS 2 exchange ends with our PUBCOMP [MQTT-4.3.3]: wait for the broker's PUBREL
     * before DISCONNECT, or it would deliver the message again to a resumed session. */
    int64_t until = cli_now_ms() + 5000;
    while (s->connected && !s->closed && s->trace.qos2_open > 0 && cli_now_ms() < until) {
        mqtls_client_step(s->client, 50);
    }
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
