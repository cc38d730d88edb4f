/* mqtls: command-line front end. Dispatches to cmd_<name>.c; --version, `mqtls help TOPIC`. */
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"
#include "cli_topics_gen.h" /* CLI_EXIT_CODES_TEXT, from docs/cli/exit-codes.md (gen_docs.py) */
#include "cli_util.h"
#include "commands.h"
#include "mqtls/diag.h"
#include "mqtls/tls.h"
#include "mqtls/version.h"

#ifndef MQTLS_BUILD_OPTIONS
#define MQTLS_BUILD_OPTIONS "unknown"
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"pub", mqtls_cmd_pub, "publish messages (mosquitto_pub-style flags)"},
    {"sub", mqtls_cmd_sub, "subscribe and print messages (mosquitto_sub-style flags)"},
    {"doctor", mqtls_cmd_doctor, "check certificates, keys and a broker, step by step"},
    {"explain", mqtls_cmd_explain, "explain error codes or a pasted log (esp-tls, mosquitto, ...)"},
    {"pki", mqtls_cmd_pki, "make a correct CA / server / client certificate set (and fleets)"},
    {"bench", mqtls_cmd_bench, "load a broker with many certificate-authenticated devices"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: mqtls <command> [options]\n       mqtls help [TOPIC]\n"
                 "       mqtls --version\n\ncommands:\n");
    for (const command_t *c = commands; c->name != NULL; c++) {
        fprintf(out, "  %-9s %s\n", c->name, c->summary);
    }
    fprintf(out, "\n'mqtls <command> --help' or 'man mqtls-<command>' describes each command;\n"
                 "'mqtls help' lists the topics (exit-codes, findings, ...); 'mqtls --version'\n"
                 "the library and its TLS engines.\n"
                 "exit codes: 0 ok, 1 connection/TLS/MQTT failure, 2 usage, 3 timeout (pub),\n"
                 "            4 file error, 5 refused by the broker, 27 sub -W timeout\n");
}

/* --version: the library actually loaded, its TLS library, how this tool was built. */
static int version(void)
{
    printf("mqtls %s (tool %s)\n", mqtls_version(), MQTLS_VERSION_STRING);
    printf("TLS: %s\n", mqtls_tls_library_version());
    printf("TLS engines (--tls-engine, MQTLS_TLS_ENGINE):\n");
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        const char *name = mqtls_tls_engine_name(i);
        printf("  %-9s %s %s%s\n", name, mqtls_tls_engine_library(i), mqtls_tls_engine_version(i),
               strcmp(name, mqtls_tls_engine_default()) == 0 ? " (default)" : "");
    }
    printf("MQTT: 3.1, 3.1.1, 5.0 over TCP, TLS, WebSocket (ws://, wss://)\n");
    printf("build: %s\n", MQTLS_BUILD_OPTIONS);
    return MQTLS_EXIT_OK;
}

static int help_findings(const char *id)
{
    if (id != NULL) {
        if (!mqtls_finding_id_known(id)) {
            const char *ids[256];
            size_t n = mqtls_finding_catalogue(ids, sizeof ids / sizeof ids[0]);
            const char *close = cli_closest(id, ids, n);
            fprintf(stderr, "mqtls: help findings: unknown finding id '%s'%s%s%s\n", id,
                    close != NULL ? " (did you mean " : "", close != NULL ? close : "",
                    close != NULL ? "?)" : "");
            return MQTLS_EXIT_USAGE;
        }
        printf("%s: %s\n", id, mqtls_finding_title(id));
        printf("details and the fix: docs/findings/%s.md (installed in "
               "/usr/share/doc/mqtls/findings/)\n",
               id);
        return MQTLS_EXIT_OK;
    }
    const char *ids[256];
    size_t n = mqtls_finding_catalogue(ids, sizeof ids / sizeof ids[0]);
    printf("finding ids (stable; 'mqtls help findings ID' for one):\n");
    for (size_t i = 0; i < n && i < sizeof ids / sizeof ids[0]; i++) {
        printf("  %-32s %s\n", ids[i], mqtls_finding_title(ids[i]));
    }
    return MQTLS_EXIT_OK;
}

/* Topics besides the commands (each command is a topic: its --help). */
static const char *const topics[] = {"exit-codes", "findings", "version"};
#define TOPIC_COUNT (sizeof topics / sizeof topics[0])
#define COMMAND_COUNT (sizeof commands / sizeof commands[0] - 1u)

static void list_topics(FILE *out)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        fprintf(out, "%s%s", i > 0 ? ", " : "", commands[i].name);
    }
    for (size_t i = 0; i < TOPIC_COUNT; i++) {
        fprintf(out, ", %s", topics[i]);
    }
    fprintf(out, "\n");
}

/* mqtls help [TOPIC [ARG]] */
static int help(int argc, char **argv)
{
    if (argc < 1) {
        usage(stdout);
        printf("\nhelp topics: ");
        list_topics(stdout);
        return MQTLS_EXIT_OK;
    }
    const char *t = argv[0];
    for (const command_t *c = commands; c->name != NULL; c++) {
        if (strcmp(t, c->name) == 0) {
            char help_arg[] = "--help";
            char *args[] = {argv[0], help_arg, NULL};
            return c->run(2, args);
        }
    }
    if (strcmp(t, "exit-codes") == 0) {
        fputs(CLI_EXIT_CODES_TEXT, stdout);
        return MQTLS_EXIT_OK;
    }
    if (strcmp(t, "findings") == 0) {
        return help_findings(argc > 1 ? argv[1] : NULL);
    }
    if (strcmp(t, "version") == 0) {
        return version();
    }
    const char *names[COMMAND_COUNT + TOPIC_COUNT];
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        names[i] = commands[i].name;
    }
    for (size_t i = 0; i < TOPIC_COUNT; i++) {
        names[COMMAND_COUNT + i] = topics[i];
    }
    const char *close = cli_closest(t, names, COMMAND_COUNT + TOPIC_COUNT);
    fprintf(stderr, "mqtls: help: no topic '%s'%s%s%s; topics: ", t,
            close != NULL ? " (did you mean " : "", close != NULL ? close : "",
            close != NULL ? "?)" : "");
    list_topics(stderr);
    return MQTLS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MQTLS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return MQTLS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
        strcmp(argv[1], "version") == 0) {
        return version();
    }
    if (strcmp(argv[1], "help") == 0) {
        return help(argc - 2, argv + 2);
    }
    for (const command_t *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }
    const char *names[sizeof commands / sizeof commands[0]];
    size_t n = 0;
    for (const command_t *c = commands; c->name != NULL; c++) {
        names[n++] = c->name;
    }
    const char *close = cli_closest(argv[1], names, n);
    fprintf(stderr, "mqtls: unknown command '%s'%s%s%s\n", argv[1],
            close != NULL ? " (did you mean '" : "", close != NULL ? close : "",
            close != NULL ? "'?)" : "");
    usage(stderr);
    return MQTLS_EXIT_USAGE;
}
