/* The command line of `mqtls pub`, `mqtls sub`, `mqtls doctor` and `mqtls bench`: one option
 * table, one parser, one struct. Internal to the CLI; not installed.
 *
 * The table is generated at build time from tools/mqtls/opts/<option>.md (gen_opts.py ->
 * cli_opts_gen.h): each page says the option's names, argument, the commands that accept it and
 * its --help line, so --help, the parser and the pages cannot disagree, and man pages or shell
 * completion can later be generated from the same pages. A command takes exactly the options
 * whose page lists it in "Commands:". The parser is pure (no socket). */
#ifndef MQTLS_TOOLS_CLI_OPTS_H
#define MQTLS_TOOLS_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_props.h"
#include "cli_util.h"
#include "mqtls/packet.h"
#include "mqtls/uri.h"

/* The commands that share the table. The values index cli_option_t::help. */
typedef enum cli_mode {
    CLI_PUB = 1,
    CLI_SUB = 2,
    CLI_DOCTOR = 3,
    CLI_BENCH = 4,
    CLI_MODE_END
} cli_mode_t;
#define CLI_BIT(mode) (1u << (unsigned)(mode))

#include "cli_opts_gen.h" /* CLI_OPTION_LIST(X), generated from opts/<option>.md */

/* Option ids: CLI_OPT_HOST, CLI_OPT_KEYPASS_FILE, ... (the page name in capitals). */
typedef enum cli_opt_id {
#define X(id, s, l, a, lo, hi, m, al, hp, hs, hd, hb) CLI_OPT_##id,
    CLI_OPTION_LIST(X)
#undef X
} cli_opt_id_t;

/* One row of the table. Example (from opts/keypass-file.md):
 *   {CLI_OPT_KEYPASS_FILE, 0, "keypass-file", "FILE", 1, 1,
 *    CLI_BIT(CLI_PUB) | CLI_BIT(CLI_SUB) | CLI_BIT(CLI_DOCTOR), NULL,
 *    {[CLI_PUB] = "read the --key password from the first line of FILE (ours)", ...}} */
typedef struct cli_option {
    cli_opt_id_t id;
    char short_name;       /* 0 = long only */
    const char *long_name; /* also the page name: opts/<long_name>.md */
    const char *arg;       /* what --help shows for the value; NULL = a flag */
    unsigned min_words;    /* words after the option: 0 flag, 1 value, 3-4 for -D */
    unsigned max_words;
    unsigned modes;                 /* CLI_BIT(mode) for each command that accepts it */
    const char *alias;              /* another long name (mosquitto's spelling) or NULL */
    const char *help[CLI_MODE_END]; /* the --help line per command; NULL = not accepted */
} cli_option_t;

/* The whole table, in --help order. */
const cli_option_t *cli_options(size_t *count);

/* Where `pub` takes its message from (exactly one). */
typedef enum cli_msg_src {
    CLI_MSG_NONE = 0,
    CLI_MSG_ARG,   /* -m */
    CLI_MSG_FILE,  /* -f */
    CLI_MSG_LINES, /* -l */
    CLI_MSG_NULL,  /* -n */
    CLI_MSG_STDIN  /* -s */
} cli_msg_src_t;

#define CLI_MAX_TOPICS 64
#define CLI_MAX_ALPN 8
#define CLI_MAX_BROKERS 64
#define CLI_MAX_PINS 16 /* --pin (the library's limit) */

/* Everything the command line says. Strings borrow argv unless noted. */
typedef struct cli_opts {
    cli_mode_t mode;
    const char *host;           /* NULL = localhost */
    uint16_t port;              /* 0 = 1883 or 8883 (TLS) */
    const char *url;            /* -L as given */
    bool url_tls;               /* -L mqtts:// or wss:// */
    bool url_ws;                /* -L ws:// or wss:// */
    char url_path[256];         /* WebSocket request path of -L ws(s)://, "" = "/mqtt" */
    const char *ws_subprotocol; /* --ws-subprotocol; NULL = the library's default ("mqtt") */
    char url_host[256];
    char url_user[128];
    char url_pass[128];
    bool url_has_user, url_has_pass;
    const char *topics[CLI_MAX_TOPICS];
    size_t topic_count;
    const char *filter_out[CLI_MAX_TOPICS]; /* -T */
    size_t filter_out_count;
    const char *unsub[CLI_MAX_TOPICS]; /* -U */
    size_t unsub_count;
    bool exit_after_sub;       /* -E */
    bool session_expiry_given; /* -x */
    uint32_t session_expiry_s;
    const char *bind_address; /* -A as given */
    long max_inflight;        /* -M, 0 = the library's default */
    bool tls_use_os_certs;    /* --tls-use-os-certs */
    cli_msg_src_t msg_src;
    const char *message; /* -m */
    const char *file;    /* -f */
    int qos;
    bool retain;
    const char *id; /* "" (-i ''): the broker assigns one */
    const char *id_prefix;
    long keepalive_s;
    bool clean_session;      /* default true; -c clears it */
    const char *persist_dir; /* --persist (implies -c) */
    int persist_sync;        /* --persist-sync: mqtls_persist_sync_t */
    bool persist_sync_given;
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
    uint16_t tls_max_fragment; /* --tls-max-fragment: 0 (off), 512, 1024, 2048, 4096 */
    bool tls_max_fragment_given; /* even "off": a TLS flag (turns TLS on) */
    const char *ciphers;  /* --ciphers LIST, or NULL (the library's ECDHE + AEAD default) */
    const char *alpn[CLI_MAX_ALPN + 1];
    size_t alpn_count;
    const char *pins[CLI_MAX_PINS + 1]; /* --pin, NULL-terminated */
    size_t pin_count;
    const char *pkcs11_module; /* --pkcs11-module */
    const char *server_name;
    bool insecure;
    const char *keypass; /* --keypass, or read from --keypass-file (owned, see below) */
    const char *keypass_file;
    char keypass_buf[256]; /* --keypass-file contents; wiped by cli_opts_free() */
    long repeat;           /* --repeat: publish this many times (default 1) */
    double repeat_delay_s;
    const char *broker;     /* doctor: the URI argument */
    const char *profile;    /* --profile (pub, sub, doctor) */
    const char *tls_engine; /* --tls-engine: a name mqtls_tls_engine_name() gives, or "mbedtls" */
    bool offline;           /* doctor --offline */
    /* bench (cmd_bench.c checks them as a whole) */
    const char *scenario;                 /* the positional argument: connect, reconnect, ... */
    const char *fleet;                    /* --fleet DIR */
    long clients;                         /* -n, 0 = the scenario's default */
    double rate;                          /* --rate, connections per second; 0 = all at once */
    long max_pending;                     /* --max-pending, 0 = no limit */
    double hold_s;                        /* --hold; < 0 = default */
    long threads;                         /* --threads; 0 = one per CPU */
    const char *brokers[CLI_MAX_BROKERS]; /* --broker URI... */
    size_t broker_count;
    long publishers, subscribers; /* < 0 = default */
    const char *qos_mix;          /* --qos-mix Q:W,... */
    long size;                    /* --size; 0 = default */
    double msg_rate, total_rate;  /* 0 = not given */
    double duration_s;            /* --duration; < 0 = default */
    const char *plot;             /* --plot FILE.png|FILE.svg */
    long broker_pid;              /* --broker-pid, 0 = none */
    bool qos_given;
    bool tls;               /* computed: mqtts:// or any TLS flag */
    bool tls_explicit_flag; /* a TLS flag (not only the URL) enabled TLS */
    bool system_ca;         /* computed: the system store is trusted (see system_ca_why) */
    const char *system_ca_why; /* "--tls-use-os-certs", "an mqtts:// URL without --cafile", ... */
    const char *system_ca_file;
    /* transports and TLS-PSK (issue 13, item 4) */
    const char *unix_path;    /* --unix: unix:///PATH instead of host:port */
    const char *proxy;        /* --proxy socks5h:// socks5:// http:// URL (the library parses it) */
    uint8_t psk[64];          /* --psk, decoded; wiped by cli_opts_free() */
    size_t psk_len;           /* 0 = no PSK */
    const char *psk_identity; /* --psk-identity */
} cli_opts_t;

/* cli_parse() results besides the exit codes of commands.h. */
#define CLI_PARSE_OK 0
#define CLI_PARSE_HELP (-1) /* --help was printed: exit 0 */

/* Parse argv (argv[0] is the command name) for @p mode. Usage errors go to @p err in the
 * command's form (cli_usage_error()); pub and sub also check the options as a whole and read
 * --keypass-file, doctor checks its own (cmd_doctor.c). Returns CLI_PARSE_OK, CLI_PARSE_HELP,
 * MQTLS_EXIT_USAGE or MQTLS_EXIT_FILE (--keypass-file unreadable). */
int cli_parse(cli_opts_t *o, cli_mode_t mode, int argc, char **argv, FILE *out, FILE *err);
/* Read --keypass-file into o->keypass (the same for every command: an empty file is an empty
 * password). Returns CLI_PARSE_OK or MQTLS_EXIT_FILE (printed: "mqtls: read --keypass-file F:
 * <reason> (MQTLS_ERR_FILE_UNREADABLE)"). */
int cli_read_keypass(cli_opts_t *o, FILE *err);
/* Wipe secrets held in @p o. */
void cli_opts_free(cli_opts_t *o);
/* --help text for @p mode. */
void cli_help(cli_mode_t mode, FILE *out);
/* Print a usage error for @p mode and return MQTLS_EXIT_USAGE. pub/sub: "mqtls pub: <what>"
 * (+ "Try 'mqtls pub --help'." if @p hint); doctor: "mqtls: doctor: <what> (MQTLS_ERR_USAGE)"
 * and always the hint. */
int cli_usage_error(cli_mode_t mode, FILE *err, bool hint, const char *fmt, ...) CLI_PRINTF(4, 5);
/* "pub", "sub", "doctor". */
const char *cli_mode_name(cli_mode_t mode);
/* -d: the effective configuration, secrets as "***". */
void cli_print_config(const cli_opts_t *o, FILE *out);
/* The CA file and directory to trust: --cafile, --capath and the system store when it is
 * trusted (o->system_ca). Either may be NULL. */
void cli_trust(const cli_opts_t *o, const char **ca_file, const char **ca_path);
/* Host and port the options select (--unix: the socket's path, and port 0). */
const char *cli_host(const cli_opts_t *o);
uint16_t cli_port(const cli_opts_t *o);
/* The broker URI for the client library (and `mqtls doctor`): mqtt[s]:// or ws[s]://, with
 * the WebSocket path. Returns false if it does not fit @p cap. */
bool cli_build_uri(const cli_opts_t *o, char *buf, size_t cap);

/* A broker URL split on the library's parser (mqtls_uri_parse), plus what only the CLI's URLs
 * have: "user[:pass]@" and, for mqtt(s)://, a "/topic" (mosquitto's -L). */
typedef struct cli_url {
    mqtls_uri_t uri;
    bool port_given;  /* mqtls_uri_t always has a port; a given one beats the TLS default */
    const char *user; /* borrowed from the URL; not NUL-terminated */
    size_t user_len;
    const char *pass; /* NULL = no ":pass" */
    size_t pass_len;
    const char *topic; /* mqtt(s)://: after the first '/', "" if none */
} cli_url_t;
#define CLI_URL_USERINFO 1u /* accept "user[:pass]@" (else '@' is part of the host) */
#define CLI_URL_WS 2u       /* accept ws:// and wss:// */
#define CLI_URL_SSL 4u      /* accept ssl:// and tls:// as mqtts:// */
/* @return true if @p url is an mqtt:// or mqtts:// URL (or another scheme @p flags allow). */
bool cli_url_parse(const char *url, unsigned flags, cli_url_t *out);

#endif /* MQTLS_TOOLS_CLI_OPTS_H */
