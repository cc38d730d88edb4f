/* Subcommand entry points of the mqtls CLI (each in cmd_<name>.c). */
#ifndef MQTLS_TOOLS_COMMANDS_H
#define MQTLS_TOOLS_COMMANDS_H

/* Exit codes (docs/cli/exit-codes.md). Append-only. */
enum {
    MQTLS_EXIT_OK = 0,
    MQTLS_EXIT_FAIL = 1,        /* connection, TLS or MQTT failure; doctor: a problem found */
    MQTLS_EXIT_USAGE = 2,       /* bad command line */
    MQTLS_EXIT_TIMEOUT = 3,     /* pub: not acknowledged in time (sub -W before 1.1) */
    MQTLS_EXIT_FILE = 4,        /* a file could not be read or written */
    MQTLS_EXIT_REFUSED = 5,     /* broker refused CONNECT / SUBSCRIBE (reason code) */
    MQTLS_EXIT_SUB_TIMEOUT = 27 /* sub -W: ETIMEDOUT, as mosquitto_sub */
};

int mqtls_cmd_pub(int argc, char **argv);
int mqtls_cmd_sub(int argc, char **argv);
int mqtls_cmd_doctor(int argc, char **argv);
int mqtls_cmd_explain(int argc, char **argv);
int mqtls_cmd_pki(int argc, char **argv);
int mqtls_cmd_bench(int argc, char **argv);

#endif
