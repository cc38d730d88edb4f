/* mqtls explain: explain error codes, verify flags, alerts, reason codes or a pasted log.
 * The engine (src/explain) does the work; this file reads arguments/stdin and prints.
 * Usage and examples: docs/cli/explain.md. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "mqtls/explain.h"

/* stdin is read up to this many bytes; the rest is ignored (and said so). */
#define STDIN_MAX_BYTES (16u * 1024u * 1024u)

typedef struct style {
    const char *bold;
    const char *dim;
    const char *red;
    const char *yellow;
    const char *reset;
} style_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mqtls explain [--json] [--color|--no-color] <code|flags|name|phrase>...\n"
            "       mqtls explain [--json] [-] < log.txt\n"
            "\n"
            "Explains what a TLS/certificate/MQTT failure means and how to fix it.\n"
            "Arguments, in any form they are printed:\n"
            "  -0x2700  0x2700  -9984  2700      mbedTLS error codes (high+low parts split)\n"
            "  0x10000  0x10008  65536           mbedTLS verify flags (BADCERT_* bits)\n"
            "  0x8008  32794                     esp-tls / esp_err_t codes\n"
            "  alert 48  unknown_ca              TLS alerts\n"
            "  5  0x87  0x8C                     MQTT 3.1.1 CONNACK / MQTT 5 reason codes\n"
            "  ECONNREFUSED  ETIMEDOUT           errno names\n"
            "  \"ca md too weak\"  test.mosquitto.org   message phrases, host names\n"
            "With no argument (or '-'), a log is read from stdin: ESP-IDF esp-tls/esp-mqtt,\n"
            "Arduino (WiFiClientSecure, PubSubClient, BearSSL), mosquitto broker and clients,\n"
            "OpenSSL/BoringSSL, Paho C/Java, paho-mqtt, MQTT.js/Node, Go, .NET, Erlang (EMQX,\n"
            "VerneMQ, RabbitMQ), AWS/Azure IoT SDK messages are recognised; who wrote a line\n"
            "(broker or client) and whose certificate it is about steer the ranking.\n"
            "\n"
            "  --json       one JSON object: {\"inputs\":[...],\"causes\":[...]}\n"
            "  --color      colour even when stdout is not a terminal (--no-color: never)\n"
            "exit: 0 something recognised, 1 nothing recognised, 2 usage, 4 stdin unreadable\n");
}

static void print_json(FILE *out, const mqtls_explain_t *r)
{
    fputs("{\"inputs\": [", out);
    for (size_t i = 0; i < mqtls_explain_input_count(r); i++) {
        const mqtls_explain_input_t *in = mqtls_explain_input(r, i);
        fputs(i ? ", {" : "{", out);
        cli_json_field(out, "\"kind\": ", mqtls_explain_input_kind(in));
        cli_json_field(out, ", \"text\": ", mqtls_explain_input_text(in));
        cli_json_field(out, ", \"meaning\": ", mqtls_explain_input_meaning(in));
        fputs("}", out);
    }
    fputs("], \"causes\": [", out);
    for (size_t i = 0; i < mqtls_explain_cause_count(r); i++) {
        const mqtls_explain_cause_t *c = mqtls_explain_cause(r, i);
        fputs(i ? ", {" : "{", out);
        cli_json_field(out, "\"id\": ", mqtls_explain_cause_id(c));
        cli_json_field(out, ", \"title\": ", mqtls_explain_cause_title(c));
        cli_json_field(out, ", \"explanation\": ", mqtls_explain_cause_explanation(c));
        cli_json_field(out, ", \"note\": ", mqtls_explain_cause_note(c));
        cli_json_field(out, ", \"fix\": ", mqtls_explain_cause_fix(c));
        cli_json_field(out, ", \"evidence\": ", mqtls_explain_cause_evidence(c));
        fprintf(out, ", \"score\": %d}", mqtls_explain_cause_score(c));
    }
    fputs("], \"unparsed\": [", out);
    for (size_t i = 0; i < mqtls_explain_unparsed_count(r); i++) {
        if (i) {
            fputs(", ", out);
        }
        mqtls_cli_json_string(out, mqtls_explain_unparsed(r, i));
    }
    fprintf(out, "], \"verify_flags\": %lu}\n", (unsigned long)mqtls_explain_verify_flags(r));
}

static void print_indented(FILE *out, const char *text, const char *indent)
{
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "%s%.*s\n", indent, n, p);
        p += n;
        if (*p == '\n') {
            p++;
        }
    }
}

static void print_human(FILE *out, const mqtls_explain_t *r, const style_t *st)
{
    size_t inputs = mqtls_explain_input_count(r);
    fprintf(out, "%sRecognised%s (%zu):\n", st->bold, st->reset, inputs);
    for (size_t i = 0; i < inputs; i++) {
        const mqtls_explain_input_t *in = mqtls_explain_input(r, i);
        fprintf(out, "  %s[%s]%s %s\n      %s\n", st->dim, mqtls_explain_input_kind(in), st->reset,
                mqtls_explain_input_text(in), mqtls_explain_input_meaning(in));
    }
    if (mqtls_explain_inputs_dropped(r) > 0) {
        fprintf(out, "  (%zu more inputs not listed)\n", mqtls_explain_inputs_dropped(r));
    }
    size_t causes = mqtls_explain_cause_count(r);
    if (causes == 0) {
        fprintf(out, "\nNo single cause follows from these inputs. Run the step-by-step check:\n"
                     "  mqtls doctor -h HOST -p 8883 --cafile ca.crt --cert client.crt --key "
                     "client.key\n");
        return;
    }
    fprintf(out, "\n%sLikely causes, most likely first:%s\n", st->bold, st->reset);
    for (size_t i = 0; i < causes; i++) {
        const mqtls_explain_cause_t *c = mqtls_explain_cause(r, i);
        const char *id = mqtls_explain_cause_id(c);
        fprintf(out, "\n%s%zu. %s%s%s — %s (score %d)\n", st->bold, i + 1,
                i == 0 ? st->red : st->yellow, id, st->reset, mqtls_explain_cause_title(c),
                mqtls_explain_cause_score(c));
        fprintf(out, "   %swhy:%s      %s\n", st->dim, st->reset,
                mqtls_explain_cause_explanation(c));
        if (mqtls_explain_cause_note(c)[0] != '\0') {
            fprintf(out, "   %snote:%s     %s\n", st->dim, st->reset, mqtls_explain_cause_note(c));
        }
        fprintf(out, "   %sevidence:%s %s\n", st->dim, st->reset, mqtls_explain_cause_evidence(c));
        fprintf(out, "   %sfix:%s\n", st->dim, st->reset);
        print_indented(out, mqtls_explain_cause_fix(c), "      ");
        fprintf(out, "   %sdocs:%s     docs/troubleshooting.md#%s\n", st->dim, st->reset, id);
    }
}

int mqtls_cmd_explain(int argc, char **argv)
{
    bool json = false;
    int color = -1; /* -1 auto */
    bool want_stdin = false;
    int first_arg = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            first_arg = i + 1;
            break;
        }
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--color") == 0) {
            color = 1;
        } else if (strcmp(a, "--no-color") == 0) {
            color = 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return MQTLS_EXIT_OK;
        } else if (strcmp(a, "-") == 0) {
            want_stdin = true;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "mqtls: explain: unknown option '%s' (MQTLS_ERR_USAGE)\n", a);
            usage(stderr);
            return MQTLS_EXIT_USAGE;
        } else {
            /* "-0x2700" and "-9984" are codes, not options: everything else is input. */
            continue;
        }
        argv[i] = NULL; /* consumed */
    }
    mqtls_explain_t *r = NULL;
    if (mqtls_explain_create(&r) != MQTLS_OK) {
        fprintf(stderr, "mqtls: explain: out of memory (MQTLS_ERR_NOMEM)\n");
        return MQTLS_EXIT_FAIL;
    }
    size_t arg_count = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i] == NULL || (i < first_arg && strcmp(argv[i], "--") == 0)) {
            continue;
        }
        char joined[160];
        const char *a = argv[i];
        /* "alert 48" typed as two words */
        if ((strcmp(a, "alert") == 0 || strcmp(a, "ALERT") == 0) && i + 1 < argc &&
            argv[i + 1] != NULL) {
            (void)snprintf(joined, sizeof joined, "alert %s", argv[i + 1]);
            a = joined;
            i++;
        }
        arg_count++;
        (void)mqtls_explain_arg(r, a);
    }
    if (arg_count == 0 && !want_stdin) {
        if (isatty(STDIN_FILENO)) {
            usage(stderr);
            mqtls_explain_destroy(r);
            return MQTLS_EXIT_USAGE;
        }
        want_stdin = true;
    }
    size_t lines = 0;
    if (want_stdin) {
        size_t len = 0;
        uint8_t *data = NULL;
        mqtls_error_t e;
        mqtls_error_init(&e);
        mqtls_status_t rs = cli_read_file("-", STDIN_MAX_BYTES, 0, &data, &len, &e);
        if (rs != MQTLS_OK) {
            fprintf(stderr, "mqtls: explain: read stdin: %s (%s)\n",
                    cli_reason_after(e.detail, "stdin"), mqtls_status_name(rs));
            mqtls_explain_destroy(r);
            return MQTLS_EXIT_FILE;
        }
        const char *text = (const char *)data;
        for (size_t k = 0; k < len; k++) {
            lines += text[k] == '\n';
        }
        (void)mqtls_explain_text(r, text, len);
        mqtls_file_free(data, len);
    }
    mqtls_explain_finish(r);

    static const style_t plain = {"", "", "", "", ""};
    static const style_t ansi = {"\033[1m", "\033[2m", "\033[31m", "\033[33m", "\033[0m"};
    bool use_color =
        color == 1 || (color == -1 && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
    const style_t *st = use_color ? &ansi : &plain;
    bool recognised = mqtls_explain_recognised(r);
    if (json) {
        print_json(stdout, r);
    } else if (recognised) {
        print_human(stdout, r, st);
    }
    for (size_t i = 0; i < mqtls_explain_unparsed_count(r); i++) {
        fprintf(stderr,
                "mqtls: explain: could not parse '%s' (not a known code, flag word, "
                "alert, reason code, errno name or message)\n",
                mqtls_explain_unparsed(r, i));
    }
    if (!recognised) {
        if (want_stdin) {
            fprintf(stderr,
                    "mqtls: explain: nothing recognised in %zu line(s) of input; paste "
                    "the lines around the first error (esp-tls, mosquitto, OpenSSL ...)\n",
                    lines);
        }
        mqtls_explain_destroy(r);
        return MQTLS_EXIT_FAIL;
    }
    mqtls_explain_destroy(r);
    return MQTLS_EXIT_OK;
}
