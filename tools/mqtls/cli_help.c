/* What the command line prints about itself: --help (from the generated option table) and
 * -d's effective configuration. See cli_opts.h. */
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"

/* One option's lines of --help: "  -x, --name ARG   text", the text wrapped at 80 columns
 * under itself, words kept whole; a long left part gets a line of its own. */
static void help_option(const cli_option_t *opt, const char *text, FILE *out)
{
    char left[64];
    snprintf(left, sizeof(left), "%c%c%c --%s%s%s", opt->short_name != 0 ? '-' : ' ',
             opt->short_name != 0 ? opt->short_name : ' ', opt->short_name != 0 ? ',' : ' ',
             opt->long_name, opt->arg != NULL ? " " : "", opt->arg != NULL ? opt->arg : "");
    bool first = true;
    bool own_line = strlen(left) > 28;
    if (own_line) {
        fprintf(out, "  %s\n", left);
    }
    while (*text != '\0') {
        size_t w = strlen(text);
        if (w > 49) {
            w = 49;
            while (w > 0 && text[w] != ' ') {
                w--;
            }
            if (w == 0) {
                w = strcspn(text, " ");
            }
        }
        fprintf(out, "  %-28s %.*s\n", first && !own_line ? left : "", (int)w, text);
        first = false;
        text += w;
        while (*text == ' ') {
            text++;
        }
    }
}

void cli_help(cli_mode_t mode, FILE *out)
{
    const char *name = cli_mode_name(mode);
    if (mode == CLI_PUB) {
        fprintf(out, "usage: mqtls pub -t TOPIC (-m MSG | -f FILE | -l | -n | -s) [options]\n"
                     "Publish messages, with mosquitto_pub's flags. TLS is on with mqtts:// or\n"
                     "any TLS flag (mosquitto: only with --cafile/--capath).\n\n");
    } else if (mode == CLI_SUB) {
        fprintf(out, "usage: mqtls sub -t FILTER [-t FILTER ...] [options]\n"
                     "Subscribe and print messages, with mosquitto_sub's flags. TLS is on with\n"
                     "mqtts:// or any TLS flag (mosquitto: only with --cafile/--capath).\n\n");
    } else if (mode == CLI_BENCH) {
        fprintf(out,
                "usage: mqtls bench SCENARIO -h HOST [-p PORT] --cafile CA\n"
                "                   (--fleet DIR | --cert CRT --key KEY) [-n N] [options]\n"
                "Drive many certificate-authenticated devices from this process and measure the\n"
                "broker: connections, failures by finding id, percentiles, CPU and memory.\n"
                "scenarios:\n"
                "  connect    ramp to N mutual-TLS connections (--rate), hold them (--hold)\n"
                "  reconnect  connect, drop all, reconnect all: once with TLS session\n"
                "             resumption, once with full handshakes\n"
                "  pubsub     M publishers, K subscribers (also: pub, sub): messages per second\n"
                "             and one-way latency\n"
                "  latency    pubsub tuned for latency: 1 publisher, 1 subscriber, 10 msg/s\n\n");
    } else {
        fprintf(out,
                "usage: mqtls doctor [URI | -h HOST -p PORT] [options]\n"
                "Checks each file offline (parse, type, validity, key/cert pair, EKU, profile),\n"
                "then connects step by step (TCP, TLS, MQTT CONNECT) and explains any failure:\n"
                "which certificate, what is wrong, and a command that fixes it.\n"
                "URI: mqtts://host[:port] (TLS, default port 8883) or mqtt://host[:port]\n"
                "(1883). Without a URI, --cafile, --capath, --cert or --key turn TLS on.\n\n");
    }
    fprintf(out, "options:\n");
    size_t count = 0;
    const cli_option_t *options = cli_options(&count);
    for (size_t i = 0; i < count; i++) {
        if ((options[i].modes & CLI_BIT(mode)) != 0) {
            help_option(&options[i], options[i].help[mode], out);
        }
    }
    if (mode == CLI_DOCTOR) {
        fprintf(out, "\nexit codes: 0 it would work, 1 a problem was found, 2 usage\n"
                     "docs: docs/cli/doctor.md, docs/findings/<id>.md\n");
        return;
    }
    if (mode == CLI_BENCH) {
        fprintf(out,
                "\nEvery failed connection is counted under the finding id of its cause (one\n"
                "diagnosis per distinct failure, not per device). Bounded: -W, and each phase\n"
                "has its own deadline.\n"
                "\nexit codes: 0 every device connected (and every message arrived), 1 some\n"
                "            failed or were lost (the report says why), 2 usage, 3 the -W\n"
                "            bound stopped the run, 4 the fleet manifest is unreadable\n"
                "docs: docs/cli/bench.md, bench/RESULTS.md\n");
        return;
    }
    fprintf(out,
            "\nTLS: with a TLS flag but no --cafile/--capath the system CA store is used\n"
            "(/etc/ssl/certs/ca-certificates.crt). The server name is always checked unless\n"
            "--insecure, which turns ALL verification off and says so on every connect.\n"
            "On a connection failure mqtls prints the cause, the findings of its diagnosis\n"
            "with a fix to paste, and the 'mqtls doctor' command to run with the same flags.\n"
            "Differences from mosquitto_%s: no automatic reconnect; -d on stderr;\n"
            "--insecure skips all verification; -D has no DISCONNECT/AUTH properties.\n"
            "\nexit codes: 0 ok, 1 connection/TLS/MQTT failure, 2 usage, %s\n"
            "            4 file error, 5 refused by the broker (CONNACK/SUBACK/PUBACK)\n"
            "docs: man mqtls-%s, mqtls help exit-codes\n",
            name, mode == CLI_SUB ? "27 -W timeout," : "3 not acknowledged in 10 s,", name);
}

static const char *version_name(mqtls_version_t v)
{
    switch (v) {
    case MQTLS_V31:
        return "3.1";
    case MQTLS_V311:
        return "3.1.1";
    case MQTLS_V5:
        return "5";
    }
    return "?";
}

static const char *prop_cmd_label(int cmd)
{
    switch (cmd) {
    case MQTLS_CONNECT:
        return "CONNECT";
    case MQTLS_PUBLISH:
        return "PUBLISH";
    case MQTLS_SUBSCRIBE:
        return "SUBSCRIBE";
    default:
        return "will";
    }
}

void cli_print_config(const cli_opts_t *o, FILE *out)
{
    fprintf(out, "mqtls: debug: broker %s:%u (%s%s%s), MQTT %s, keepalive %ld s, clean %s\n",
            cli_host(o), cli_port(o), o->tls ? "TLS" : "plain TCP", o->url_ws ? ", WebSocket " : "",
            o->url_ws ? (o->url_path[0] != '\0' ? o->url_path : "/mqtt") : "",
            version_name(o->version), o->keepalive_s, o->clean_session ? "yes" : "no");
    if (o->persist_dir != NULL) {
        static const char *const sync_names[] = {"every", "batch", "none"};
        fprintf(out, "mqtls: debug: persistence %s, sync %s\n", o->persist_dir,
                sync_names[(unsigned)o->persist_sync % 3u]);
    }
    fprintf(out, "mqtls: debug: client id %s%s, username %s, password %s\n",
            o->id != NULL ? o->id : (o->id_prefix != NULL ? o->id_prefix : "(generated)"),
            o->id_prefix != NULL ? "<pid>" : "",
            o->username != NULL ? o->username : (o->url_has_user ? o->url_user : "(none)"),
            (o->password != NULL || o->url_has_pass) ? "***" : "(none)");
    for (size_t i = 0; i < o->topic_count; i++) {
        fprintf(out, "mqtls: debug: topic %s qos %d\n", o->topics[i], o->qos);
    }
    if (o->tls) {
        const char *ca_file = NULL;
        const char *ca_path = NULL;
        cli_trust(o, &ca_file, &ca_path);
        char key_shown[600];
        fprintf(out, "mqtls: debug: tls cafile %s, capath %s, cert %s, key %s, keypass %s\n",
                ca_file != NULL ? ca_file : "(none)", ca_path != NULL ? ca_path : "(none)",
                o->cert != NULL ? o->cert : "(none)",
                o->key != NULL ? cli_key_shown(o->key, key_shown, sizeof key_shown) : "(none)",
                o->keypass != NULL ? "***" : "(none)");
        if (o->system_ca) {
            fprintf(out, "mqtls: debug: tls trusts the system CA store (%s)\n", o->system_ca_why);
        }
        fprintf(out, "mqtls: debug: tls version %s, server name %s, verification %s\n",
                o->tls_version == 0x0304 ? "1.3 only"
                                         : (o->tls_version == 0x0303 ? "1.2 only" : ">= 1.2"),
                o->server_name != NULL ? o->server_name : cli_host(o),
                o->insecure ? "OFF (--insecure)" : "on");
        fprintf(out, "mqtls: debug: tls cipher suites %s\n",
                o->ciphers != NULL ? o->ciphers : "ECDHE + AEAD, TLS 1.3 (default)");
    }
    if (o->will_topic != NULL) {
        fprintf(out, "mqtls: debug: will topic %s qos %d retain %d payload %zu bytes\n",
                o->will_topic, o->will_qos, o->will_retain ? 1 : 0,
                o->will_payload != NULL ? strlen(o->will_payload) : 0);
    }
    char name[CLI_PROP_NAME_MAX];
    for (size_t i = 0; i < o->prop_count; i++) {
        fprintf(out, "mqtls: debug: property %s in %s\n", cli_prop_name(o->props[i].prop.id, name),
                prop_cmd_label(o->props[i].cmd));
    }
}
