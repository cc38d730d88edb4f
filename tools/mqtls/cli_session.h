/* The connection of `mqtls pub` and `mqtls sub`: create the client from the options, connect,
 * step, close, and print a failure the way docs/cli/exit-codes.md shows it (the cause, up to
 * three findings with a fix, the `mqtls doctor` line). Internal to the CLI; not installed. */
#ifndef MQTLS_TOOLS_CLI_SESSION_H
#define MQTLS_TOOLS_CLI_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_opts.h"
#include "cli_trace.h"
#include "mqtls/client.h"

/* A connected CLI session. The command's own callback receives every event after the
 * session has handled connect/disconnect bookkeeping. */
typedef struct cli_session {
    const cli_opts_t *opts;
    mqtls_client_t *client;
    mqtls_event_fn on_event;
    void *ctx;
    bool connected;
    bool failed;
    bool closed;
    bool closing; /* we asked for the disconnect: a close now is not a failure */
    mqtls_error_t err;
    mqtls_properties_t props_connect, props_will, props_publish, props_subscribe;
    mqtls_property_t items[CLI_MAX_PROPS];
    char uri[600];
    char client_id[64];
    char bind_address[64]; /* -A as an IP literal */
    cli_trace_t trace;     /* -d's lines; Reason Strings and open QoS 2 flows for all */
} cli_session_t;

/* Create the client and connect; print the failure with its diagnosis. Returns an exit code
 * (0 when connected). */
int cli_session_open(cli_session_t *s, const cli_opts_t *o, mqtls_event_fn on_event, void *ctx);
/* Step the client for up to @p timeout_ms. */
void cli_session_step(cli_session_t *s, int timeout_ms);
/* Disconnect (bounded) and free. Safe on a half-open session. */
void cli_session_close(cli_session_t *s);
/* Print a failure after the connection was made. Returns the exit code for it. */
int cli_report_error(const cli_session_t *s, const mqtls_error_t *e, const char *action);

/* Set by SIGINT and SIGTERM (cli_main() catches them): stop, disconnect, exit 0. */
extern volatile sig_atomic_t cli_stop;
/* The frame of `mqtls pub` and `mqtls sub`: parse argv for @p mode (--help, usage errors),
 * print -d's configuration, catch the signals, @p run, wipe the secrets. */
int cli_main(cli_mode_t mode, int argc, char **argv, int (*run)(const cli_opts_t *o));

#endif /* MQTLS_TOOLS_CLI_SESSION_H */
