/* mqtls: command-line front end. Dispatches to cmd_<name>.c; see --help. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mqtls/tls.h"
#include "mqtls/version.h"

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
    {"pki", mqtls_cmd_pki, "make a correct CA / server / client certificate set"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: mqtls <command> [options]\n\ncommands:\n");
    for (const command_t *c = commands; c->name != NULL; c++) {
        fprintf(out, "  %-9s %s\n", c->name, c->summary);
    }
    fprintf(out, "\n'mqtls <command> --help' describes each command; 'mqtls --version' the\n"
                 "library and its TLS engines.\n"
                 "exit codes: 0 ok, 1 connection/TLS/MQTT failure, 2 usage, 3 timeout,\n"
                 "            4 file error, 5 refused by the broker (docs/cli/exit-codes.md)\n");
}

/* The library loaded and the TLS engines built into it, with their libraries' versions. */
static void version(FILE *out)
{
    fprintf(out, "mqtls %s (libmqtls %s)\nTLS engines (--tls-engine, MQTLS_TLS_ENGINE):\n",
            MQTLS_VERSION_STRING, mqtls_version());
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        const char *name = mqtls_tls_engine_name(i);
        fprintf(out, "  %-9s %s %s%s\n", name, mqtls_tls_engine_library(i),
                mqtls_tls_engine_version(i),
                strcmp(name, mqtls_tls_engine_default()) == 0 ? " (default)" : "");
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        version(stdout);
        return MQTLS_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MQTLS_EXIT_USAGE : MQTLS_EXIT_OK;
    }
    for (const command_t *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mqtls: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return MQTLS_EXIT_USAGE;
}
