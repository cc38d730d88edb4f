/* Shared option parsing, output formatting and connection set-up for `mqtls pub` and
 * `mqtls sub` (doctor and bench may reuse it). Internal to the CLI; not installed.
 *
 * The parser and the formatters are pure (no socket, no client): tests link them with
 * CLI_CLIENT_NO_CONNECT defined. The connection part needs the client library. */
#ifndef MQTLS_TOOLS_CLI_CLIENT_H
#define MQTLS_TOOLS_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "mqtls/packet.h"

typedef enum cli_mode { CLI_PUB = 1, CLI_SUB = 2 } cli_mode_t;

/* Where `pub` takes its message from (exactly one). */
typedef enum cli_msg_src {
    CLI_MSG_NONE = 0,
    CLI_MSG_ARG,   /* -m */
    CLI_MSG_FILE,  /* -f */
    CLI_MSG_LINES, /* -l */
    CLI_MSG_NULL,  /* -n */
    CLI_MSG_STDIN  /* -s */
} cli_msg_src_t;

/* Pseudo packet type for -D will ... (will properties live in CONNECT). */
#define CLI_PROP_CMD_WILL 100

#define CLI_MAX_TOPICS 64
#define CLI_MAX_PROPS 32
#define CLI_MAX_ALPN 8

/* One -D property: which packet it goes in, and the value (strings borrow argv). */
typedef struct cli_prop {
    int cmd; /* MQTLS_CONNECT, MQTLS_PUBLISH, MQTLS_SUBSCRIBE or CLI_PROP_CMD_WILL */
    mqtls_property_t prop;
} cli_prop_t;

/* Everything the command line says. Strings borrow argv unless noted. */
typedef struct cli_opts {
    cli_mode_t mode;
    const char *host; /* NULL = localhost */
    uint16_t port;    /* 0 = 1883 or 8883 (TLS) */
    const char *url;  /* -L as given */
    bool url_tls;     /* -L mqtts:// or wss:// */
    bool url_ws;      /* -L ws:// or wss:// */
    char url_path[256]; /* WebSocket request path of -L ws(s)://, "" = "/mqtt" */
    const char *ws_subprotocol; /* --ws-subprotocol; NULL = the library's default ("mqtt") */
    char url_host[256];
    char url_user[128];
    char url_pass[128];
    bool url_has_user, url_has_pass;
    const char *topics[CLI_MAX_TOPICS];
    size_t topic_count;
    const char *filter_out[CLI_MAX_TOPICS]; /* -T */
    size_t filter_out_count;
    cli_msg_src_t msg_src;
    const char *message; /* -m */
    const char *file;    /* -f */
    int qos;
    bool retain;
    const char *id;
    const char *id_prefix;
    long keepalive_s;
    bool clean_session; /* default true; -c clears it */
    const char *username;
    const char *password;
    mqtls_version_t version;
    bool version_given;
    long count;       /* -C, 0 = unlimited */
    long timeout_s;   /* -W, 0 = none */
    bool no_retained; /* -R */
    bool verbose;
    bool no_newline; /* -N */
    const char *format;
    bool debug;
    bool quiet;
    bool json;
    bool retained_only;
    bool remove_retained;
    cli_prop_t props[CLI_MAX_PROPS];
    size_t prop_count;
    const char *will_topic;
    const char *will_payload;
    int will_qos;
    bool will_retain;
    const char *cafile;
    const char *capath;
    const char *cert;
    const char *key;
    int keyform_der; /* --keyform der */
    bool keyform_given;
    uint16_t tls_version; /* 0 = default (1.2 minimum), 0x0303, 0x0304 */
    const char *alpn[CLI_MAX_ALPN + 1];
    size_t alpn_count;
    const char *server_name;
    bool insecure;
    const char *keypass; /* --keypass, or read from --keypass-file (owned, see below) */
    const char *keypass_file;
    char keypass_buf[256]; /* --keypass-file contents; wiped by cli_opts_free() */
    long repeat;           /* --repeat: publish this many times (default 1) */
    double repeat_delay_s;
    bool tls;               /* computed: mqtts:// or any TLS flag */
    bool tls_explicit_flag; /* a TLS flag (not only the URL) enabled TLS */
    bool system_ca;         /* computed: no --cafile/--capath, the system store is used */
    const char *system_ca_file;
} cli_opts_t;

/* cli_parse() results besides the exit codes of commands.h. */
#define CLI_PARSE_OK 0
#define CLI_PARSE_HELP (-1) /* --help was printed: exit 0 */

/* Parse argv (argv[0] is the command name). Errors go to @p err as
 * "mqtls <cmd>: <what>" plus a hint; returns CLI_PARSE_OK, CLI_PARSE_HELP,
 * MQTLS_EXIT_USAGE or MQTLS_EXIT_FILE (--keypass-file unreadable). */
int cli_parse(cli_opts_t *o, cli_mode_t mode, int argc, char **argv, FILE *out, FILE *err);
/* Wipe secrets held in @p o. */
void cli_opts_free(cli_opts_t *o);
/* --help text for @p mode. */
void cli_help(cli_mode_t mode, FILE *out);
/* -d: the effective configuration, secrets as "***". */
void cli_print_config(const cli_opts_t *o, FILE *out);
/* Host and port the options select. */
const char *cli_host(const cli_opts_t *o);
uint16_t cli_port(const cli_opts_t *o);

/* Option table, exposed for the docs-sync test. */
typedef struct cli_option {
    char short_name; /* 0 = long only */
    const char *long_name;
    const char *arg;  /* NULL = flag */
    unsigned modes;   /* bit CLI_PUB | CLI_SUB */
    const char *help; /* one line */
} cli_option_t;
const cli_option_t *cli_options(size_t *count);

/* A growable output buffer (formatting writes here, then one fwrite). */
typedef struct cli_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} cli_buf_t;
void cli_buf_free(cli_buf_t *b);
void cli_buf_add(cli_buf_t *b, const void *p, size_t n);

/* One received message as the formatters see it. */
typedef struct cli_msg {
    const uint8_t *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
    uint16_t mid;
    mqtls_properties_t props;
    struct timespec when; /* CLOCK_REALTIME at arrival */
} cli_msg_t;

/* -F: format @p m by mosquitto_sub's rules (see opts/F.md). Appends to @p b. */
void cli_format(cli_buf_t *b, const char *fmt, const cli_msg_t *m);
/* --json: one JSON object, no newline. */
void cli_format_json(cli_buf_t *b, const cli_msg_t *m);
/* The whole output of one message for @p o (payload, -v, -F, --json; newline unless -N). */
void cli_render(cli_buf_t *b, const cli_opts_t *o, const cli_msg_t *m);
/* Iterate a property block (items or raw). Returns false at the end or on malformed input. */
bool cli_props_next(const mqtls_properties_t *props, size_t *cursor, mqtls_property_t *out);
/* Property name ("user-property") -> id and wire type; false if unknown. */
bool cli_prop_lookup(const char *name, uint8_t *id, mqtls_prop_type_t *type);
const char *cli_prop_name(uint8_t id);
/* Does @p topic match one of -T? */
bool cli_topic_filtered_out(const cli_opts_t *o, const uint8_t *topic, size_t len);
/* Read a whole file (binary-safe). Caller frees *out. 0 or errno. */
int cli_read_file(const char *path, uint8_t **out, size_t *len);

/* The broker URI for the client library (and `mqtls doctor`): mqtt[s]:// or ws[s]://, with
 * the WebSocket path. Returns false if it does not fit @p cap. */
bool cli_build_uri(const cli_opts_t *o, char *buf, size_t cap);

#ifndef CLI_CLIENT_NO_CONNECT
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
    uint8_t *will_payload;
    size_t will_payload_len;
    char uri[600];
    char client_id[64];
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
/* Monotonic ms. */
int64_t cli_now_ms(void);
#endif

#endif
