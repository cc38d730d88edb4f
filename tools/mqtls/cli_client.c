/* Shared option parsing, output formatting and connection set-up for `mqtls pub` / `sub`.
 * The option table below is the single source of --help; tools/mqtls/opts/<option>.md
 * documents each option at length and tests/integration/cli/test_opts_sync.sh checks both
 * agree (curl keeps its docs/cmdline-opts in sync the same way). */
#include "cli_client.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"

#define B_PUB (1u << CLI_PUB)
#define B_SUB (1u << CLI_SUB)
#define B_ALL (B_PUB | B_SUB)

/* clang-format off */
static const cli_option_t options[] = {
    {'h', "host", "HOST", B_ALL, "broker host name or IP literal (default localhost)"},
    {'p', "port", "PORT", B_ALL, "broker port (default 1883, or 8883 when TLS is on)"},
    {'L', "url", "URL", B_ALL,
     "mqtt[s]://[user[:pass]@]host[:port]/topic, or ws[s]://[user[:pass]@]host[:port][/path] "
     "(MQTT over WebSocket); mqtts:// and wss:// turn TLS on"},
    {'t', "topic", "TOPIC", B_ALL,
     "topic to publish to (pub: once) / filter to subscribe to (sub: repeatable)"},
    {'T', "filter-out", "TOPIC", B_SUB,
     "do not print messages whose topic matches this filter (repeatable)"},
    {'m', "message", "MSG", B_PUB, "publish MSG as the payload"},
    {'f', "file", "FILE", B_PUB,
     "publish the whole FILE as one message (binary-safe; unreadable: exit 4)"},
    {'l', "stdin-line", NULL, B_PUB, "publish each line of stdin as one message (newline removed)"},
    {'n', "null-message", NULL, B_PUB, "publish a zero-length message"},
    {'s', "stdin-file", NULL, B_PUB, "publish all of stdin as one message"},
    {'q', "qos", "0|1|2", B_ALL, "QoS of the publish / of the subscriptions (default 0)"},
    {'r', "retain", NULL, B_PUB,
     "set the retain flag: the broker keeps the message for later subscribers"},
    {'i', "id", "ID", B_ALL, "client identifier (default: generated \"mqtls-\" + 16 hex digits)"},
    {'I', "id-prefix", "PREFIX", B_ALL, "client identifier = PREFIX + process id (not with -i)"},
    {'k', "keepalive", "SECS", B_ALL, "keepalive interval in seconds, 0 = off (default 60)"},
    {'c', "disable-clean-session", NULL, B_ALL,
     "keep the session on the broker (clean start off; use with -i)"},
    {'u', "username", "USER", B_ALL, "user name sent in CONNECT"},
    {'P', "pw", "PASS", B_ALL, "password sent in CONNECT (never printed; -d shows ***)"},
    {'V', "protocol-version", "31|311|5", B_ALL,
     "MQTT version (default 311; 5 when -D is given); also mqttv31, mqttv311, mqttv5"},
    {'C', "count", "N", B_SUB, "exit 0 after N printed messages"},
    {'W', "timeout", "SECS", B_SUB, "exit after SECS seconds with code 3 (mosquitto_sub exits 27)"},
    {'R', "no-stale", NULL, B_SUB,
     "do not print retained (stale) messages; they do not count for -C"},
    {'v', "verbose", NULL, B_SUB, "print \"TOPIC PAYLOAD\""},
    {'N', "no-newline", NULL, B_SUB, "do not append a newline after each message"},
    {'F', "format", "FORMAT", B_SUB,
     "print with FORMAT: %t %p %q %r %m %l %I %U %x %X %j %J %P %C %E %F %R %S %A %D %%, "
     "@strftime, \\n \\t \\0 \\\\ \\e \\a"},
    {'d', "debug", NULL, B_ALL,
     "debug output on stderr: configuration (secrets as ***) and library log"},
    {0, "quiet", NULL, B_ALL, "print no runtime error messages (usage errors are still printed)"},
    {'D', "property", "CMD NAME [KEY] VALUE", B_ALL,
     "MQTT 5 property, e.g. -D publish user-property k v, -D connect session-expiry-interval 60"},
    {0, "will-topic", "TOPIC", B_ALL, "topic of the Last Will, sent by the broker if we vanish"},
    {0, "will-payload", "MSG", B_ALL, "payload of the Last Will (needs --will-topic)"},
    {0, "will-qos", "0|1|2", B_ALL, "QoS of the Last Will (default 0)"},
    {0, "will-retain", NULL, B_ALL, "retain the Last Will"},
    {0, "cafile", "FILE", B_ALL, "trusted CA certificate(s), PEM or DER; turns TLS on"},
    {0, "capath", "DIR", B_ALL, "directory of trusted CA certificates; turns TLS on"},
    {0, "cert", "FILE", B_ALL, "client certificate (+ chain) for mutual TLS; turns TLS on"},
    {0, "key", "FILE", B_ALL, "client private key; turns TLS on"},
    {0, "keyform", "pem|der", B_ALL,
     "encoding of --key; checked against the file (default: detected)"},
    {0, "keypass", "PASS", B_ALL,
     "password of an encrypted --key (ours; visible in ps: prefer --keypass-file)"},
    {0, "keypass-file", "FILE", B_ALL,
     "read the --key password from the first line of FILE (ours)"},
    {0, "tls-version", "tlsv1.2|tlsv1.3", B_ALL,
     "use exactly this TLS version (default: 1.2 or newer); turns TLS on"},
    {0, "tls-alpn", "PROTO", B_ALL,
     "ALPN protocol to offer (repeatable, e.g. x-amzn-mqtt-ca); turns TLS on"},
    {0, "tls-server-name", "NAME", B_ALL,
     "name sent as SNI and checked in the server certificate; turns TLS on"},
    {0, "insecure", NULL, B_ALL,
     "DO NOT verify the server certificate at all (mosquitto: only the name); turns TLS on"},
    {0, "ws-subprotocol", "PROTO", B_ALL,
     "WebSocket subprotocol offered with -L ws[s]:// (default mqtt; \"\" = none, for websockify)"},
    {0, "repeat", "N", B_PUB, "publish the message N times (default 1)"},
    {0, "repeat-delay", "SECS", B_PUB, "wait SECS (may be fractional) between repeated publishes"},
    {0, "retained-only", NULL, B_SUB,
     "print only retained messages; exit 0 at the first non-retained one"},
    {0, "remove-retained", NULL, B_SUB,
     "clear every retained message received (publishes an empty retained message)"},
    {0, "json", NULL, B_SUB, "print one JSON object per message (see docs/cli/sub.md)"},
    {0, "help", NULL, B_ALL, "print this help and exit 0"},
};
/* clang-format on */

const cli_option_t *cli_options(size_t *count)
{
    *count = sizeof(options) / sizeof(options[0]);
    return options;
}

/* ---------------------------------------------------------------------------------------- */
/* Properties: name, id, wire type and which -D commands accept it (mosquitto's table minus
 * what the client API cannot carry: DISCONNECT/AUTH properties, enhanced authentication). */

#define PC_CONNECT (1u << 0)
#define PC_PUBLISH (1u << 1)
#define PC_SUBSCRIBE (1u << 2)
#define PC_WILL (1u << 4)

typedef struct prop_def {
    const char *name;
    uint8_t id;
    mqtls_prop_type_t type;
    unsigned cmds;
} prop_def_t;

static const prop_def_t prop_defs[] = {
    {"payload-format-indicator", 0x01, MQTLS_PROP_TYPE_BYTE, PC_PUBLISH | PC_WILL},
    {"message-expiry-interval", 0x02, MQTLS_PROP_TYPE_U32, PC_PUBLISH | PC_WILL},
    {"content-type", 0x03, MQTLS_PROP_TYPE_UTF8, PC_PUBLISH | PC_WILL},
    {"response-topic", 0x08, MQTLS_PROP_TYPE_UTF8, PC_PUBLISH | PC_WILL},
    {"correlation-data", 0x09, MQTLS_PROP_TYPE_BINARY, PC_PUBLISH | PC_WILL},
    {"subscription-identifier", 0x0B, MQTLS_PROP_TYPE_VARINT, PC_SUBSCRIBE},
    {"session-expiry-interval", 0x11, MQTLS_PROP_TYPE_U32, PC_CONNECT},
    {"assigned-client-identifier", 0x12, MQTLS_PROP_TYPE_UTF8, 0},
    {"server-keep-alive", 0x13, MQTLS_PROP_TYPE_U16, 0},
    {"authentication-method", 0x15, MQTLS_PROP_TYPE_UTF8, 0},
    {"authentication-data", 0x16, MQTLS_PROP_TYPE_BINARY, 0},
    {"request-problem-information", 0x17, MQTLS_PROP_TYPE_BYTE, PC_CONNECT},
    {"will-delay-interval", 0x18, MQTLS_PROP_TYPE_U32, PC_WILL},
    {"request-response-information", 0x19, MQTLS_PROP_TYPE_BYTE, PC_CONNECT},
    {"response-information", 0x1A, MQTLS_PROP_TYPE_UTF8, 0},
    {"server-reference", 0x1C, MQTLS_PROP_TYPE_UTF8, 0},
    {"reason-string", 0x1F, MQTLS_PROP_TYPE_UTF8, 0},
    {"receive-maximum", 0x21, MQTLS_PROP_TYPE_U16, PC_CONNECT},
    {"topic-alias-maximum", 0x22, MQTLS_PROP_TYPE_U16, PC_CONNECT},
    {"topic-alias", 0x23, MQTLS_PROP_TYPE_U16, 0},
    {"maximum-qos", 0x24, MQTLS_PROP_TYPE_BYTE, 0},
    {"retain-available", 0x25, MQTLS_PROP_TYPE_BYTE, 0},
    {"user-property", 0x26, MQTLS_PROP_TYPE_UTF8_PAIR,
     PC_CONNECT | PC_PUBLISH | PC_SUBSCRIBE | PC_WILL},
    {"maximum-packet-size", 0x27, MQTLS_PROP_TYPE_U32, PC_CONNECT},
    {"wildcard-subscription-available", 0x28, MQTLS_PROP_TYPE_BYTE, 0},
    {"subscription-identifier-available", 0x29, MQTLS_PROP_TYPE_BYTE, 0},
    {"shared-subscription-available", 0x2A, MQTLS_PROP_TYPE_BYTE, 0},
};

static const prop_def_t *prop_by_id(uint8_t id)
{
    for (size_t i = 0; i < sizeof(prop_defs) / sizeof(prop_defs[0]); i++) {
        if (prop_defs[i].id == id) {
            return &prop_defs[i];
        }
    }
    return NULL;
}

bool cli_prop_lookup(const char *name, uint8_t *id, mqtls_prop_type_t *type)
{
    for (size_t i = 0; i < sizeof(prop_defs) / sizeof(prop_defs[0]); i++) {
        if (strcmp(prop_defs[i].name, name) == 0) {
            *id = prop_defs[i].id;
            *type = prop_defs[i].type;
            return true;
        }
    }
    return false;
}

const char *cli_prop_name(uint8_t id)
{
    const prop_def_t *d = prop_by_id(id);
    return d != NULL ? d->name : "unknown-property";
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing helpers */

static const char *cmd_name(cli_mode_t mode)
{
    return mode == CLI_PUB ? "pub" : "sub";
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !(v >= min) || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* -L mqtt(s)://[user[:pass]@]host[:port]/topic (mosquitto's form), or
 * ws(s)://[user[:pass]@]host[:port][/path]: there the path is the WebSocket request path
 * (default /mqtt, as brokers expect) and the topic comes from -t. */
static bool parse_url(cli_opts_t *o, const char *url)
{
    const char *p;
    o->url_ws = false;
    o->url_path[0] = '\0';
    if (strncmp(url, "mqtt://", 7) == 0) {
        o->url_tls = false;
        p = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        o->url_tls = true;
        p = url + 8;
    } else if (strncmp(url, "ws://", 5) == 0) {
        o->url_tls = false;
        o->url_ws = true;
        p = url + 5;
    } else if (strncmp(url, "wss://", 6) == 0) {
        o->url_tls = true;
        o->url_ws = true;
        p = url + 6;
    } else {
        return false;
    }
    const char *slash = strchr(p, '/');
    const char *auth_end = strchr(p, '@');
    if (auth_end != NULL && (slash == NULL || auth_end < slash)) {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        if (colon != NULL) {
            copy_str(o->url_user, sizeof(o->url_user), p, (size_t)(colon - p));
            copy_str(o->url_pass, sizeof(o->url_pass), colon + 1, (size_t)(auth_end - colon - 1));
            o->url_has_pass = true;
        } else {
            copy_str(o->url_user, sizeof(o->url_user), p, (size_t)(auth_end - p));
        }
        o->url_has_user = true;
        p = auth_end + 1;
    }
    const char *hp_end = slash != NULL ? slash : p + strlen(p);
    const char *port_colon = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(hp_end - p));
        if (rb == NULL) {
            return false;
        }
        copy_str(o->url_host, sizeof(o->url_host), p + 1, (size_t)(rb - p - 1));
        if (rb + 1 < hp_end) {
            if (rb[1] != ':') {
                return false;
            }
            port_colon = rb + 1;
        }
    } else {
        port_colon = memchr(p, ':', (size_t)(hp_end - p));
        const char *host_end = port_colon != NULL ? port_colon : hp_end;
        copy_str(o->url_host, sizeof(o->url_host), p, (size_t)(host_end - p));
    }
    if (o->url_host[0] == '\0') {
        return false;
    }
    if (port_colon != NULL) {
        char port[8];
        long v;
        if ((size_t)(hp_end - port_colon - 1) >= sizeof(port)) {
            return false;
        }
        copy_str(port, sizeof(port), port_colon + 1, (size_t)(hp_end - port_colon - 1));
        if (!parse_long(port, 1, 65535, &v)) {
            return false;
        }
        o->port = (uint16_t)v;
    }
    if (o->url_ws) {
        if (slash != NULL) {
            size_t n = strlen(slash);
            if (n >= sizeof(o->url_path)) {
                return false;
            }
            for (size_t i = 0; i < n; i++) {
                if ((unsigned char)slash[i] <= 0x20u || (unsigned char)slash[i] == 0x7Fu) {
                    return false; /* would break the HTTP request line */
                }
            }
            memcpy(o->url_path, slash, n + 1);
        }
        return true;
    }
    if (slash != NULL && slash[1] != '\0') {
        if (o->topic_count >= CLI_MAX_TOPICS) {
            return false;
        }
        o->topics[o->topic_count++] = slash + 1;
    }
    return true;
}

static int read_keypass_file(cli_opts_t *o, const char *cmd, FILE *err)
{
    FILE *f = fopen(o->keypass_file, "r");
    if (f == NULL) {
        fprintf(err, "mqtls %s: cannot read --keypass-file %s: %s\n", cmd, o->keypass_file,
                strerror(errno));
        return MQTLS_EXIT_FILE;
    }
    if (fgets(o->keypass_buf, (int)sizeof(o->keypass_buf), f) == NULL) {
        o->keypass_buf[0] = '\0';
    }
    fclose(f);
    size_t n = strlen(o->keypass_buf);
    while (n > 0 && (o->keypass_buf[n - 1] == '\n' || o->keypass_buf[n - 1] == '\r')) {
        o->keypass_buf[--n] = '\0';
    }
    o->keypass = o->keypass_buf;
    return CLI_PARSE_OK;
}

static int prop_cmd_from_name(const char *s, unsigned *mask)
{
    static const struct {
        const char *name;
        int cmd;
        unsigned mask;
    } cmds[] = {
        {"connect", MQTLS_CONNECT, PC_CONNECT},
        {"publish", MQTLS_PUBLISH, PC_PUBLISH},
        {"subscribe", MQTLS_SUBSCRIBE, PC_SUBSCRIBE},
        {"will", CLI_PROP_CMD_WILL, PC_WILL},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcasecmp(cmds[i].name, s) == 0) {
            *mask = cmds[i].mask;
            return cmds[i].cmd;
        }
    }
    return -1;
}

/* -D CMD NAME VALUE | -D CMD user-property KEY VALUE. Consumes argv from *i. */
static int parse_property(cli_opts_t *o, int argc, char **argv, int *i, FILE *err)
{
    const char *cmd = cmd_name(o->mode);
    if (*i + 2 >= argc) {
        fprintf(err,
                "mqtls %s: -D needs CMD NAME VALUE (e.g. -D publish content-type text/plain)\n",
                cmd);
        return MQTLS_EXIT_USAGE;
    }
    const char *cmd_s = argv[*i + 1];
    const char *name = argv[*i + 2];
    unsigned mask = 0;
    int pcmd = prop_cmd_from_name(cmd_s, &mask);
    if (pcmd < 0) {
        fprintf(err,
                "mqtls %s: -D %s: unknown or unsupported command (connect, publish, subscribe, "
                "will; mqtls %s sends no UNSUBSCRIBE, DISCONNECT or AUTH properties)\n",
                cmd, cmd_s, cmd);
        return MQTLS_EXIT_USAGE;
    }
    /* never accept a property that this command would not send */
    if ((pcmd == MQTLS_PUBLISH && o->mode != CLI_PUB) ||
        (pcmd == MQTLS_SUBSCRIBE && o->mode != CLI_SUB)) {
        fprintf(err, "mqtls %s: -D %s: 'mqtls %s' sends no %s packet\n", cmd, cmd_s, cmd,
                pcmd == MQTLS_PUBLISH ? "PUBLISH" : "SUBSCRIBE");
        return MQTLS_EXIT_USAGE;
    }
    uint8_t id = 0;
    mqtls_prop_type_t type = MQTLS_PROP_TYPE_INVALID;
    if (!cli_prop_lookup(name, &id, &type)) {
        fprintf(err, "mqtls %s: -D %s %s: unknown property name\n", cmd, cmd_s, name);
        return MQTLS_EXIT_USAGE;
    }
    const prop_def_t *def = prop_by_id(id);
    if ((def->cmds & mask) == 0) {
        fprintf(err, "mqtls %s: -D %s %s: property not allowed (or not supported) in %s\n", cmd,
                cmd_s, name, cmd_s);
        return MQTLS_EXIT_USAGE;
    }
    if (o->prop_count >= CLI_MAX_PROPS) {
        fprintf(err, "mqtls %s: too many -D properties (max %d)\n", cmd, CLI_MAX_PROPS);
        return MQTLS_EXIT_USAGE;
    }
    cli_prop_t *p = &o->props[o->prop_count];
    memset(p, 0, sizeof(*p));
    p->cmd = pcmd;
    p->prop.id = id;
    if (type == MQTLS_PROP_TYPE_UTF8_PAIR) {
        if (*i + 4 >= argc) {
            fprintf(err, "mqtls %s: -D %s user-property needs KEY VALUE\n", cmd, cmd_s);
            return MQTLS_EXIT_USAGE;
        }
        const char *k = argv[*i + 3];
        const char *v = argv[*i + 4];
        p->prop.v.pair.key.data = (const uint8_t *)k;
        p->prop.v.pair.key.len = strlen(k);
        p->prop.v.pair.value.data = (const uint8_t *)v;
        p->prop.v.pair.value.len = strlen(v);
        *i += 4;
    } else {
        if (*i + 3 >= argc) {
            fprintf(err, "mqtls %s: -D %s %s needs a VALUE\n", cmd, cmd_s, name);
            return MQTLS_EXIT_USAGE;
        }
        const char *v = argv[*i + 3];
        long n = 0;
        switch (type) {
        case MQTLS_PROP_TYPE_BYTE:
            if (!parse_long(v, 0, 255, &n)) {
                goto bad_num;
            }
            p->prop.v.u32 = (uint32_t)n;
            break;
        case MQTLS_PROP_TYPE_U16:
            if (!parse_long(v, 0, 65535, &n)) {
                goto bad_num;
            }
            p->prop.v.u32 = (uint32_t)n;
            break;
        case MQTLS_PROP_TYPE_U32:
            if (!parse_long(v, 0, (long)UINT32_MAX, &n)) {
                goto bad_num;
            }
            p->prop.v.u32 = (uint32_t)n;
            break;
        case MQTLS_PROP_TYPE_VARINT:
            /* [MQTT-3.8.2.1.2] Subscription Identifier 1 .. 268,435,455 */
            if (!parse_long(v, 1, 268435455L, &n)) {
                goto bad_num;
            }
            p->prop.v.u32 = (uint32_t)n;
            break;
        default:
            p->prop.v.bin.data = (const uint8_t *)v;
            p->prop.v.bin.len = strlen(v);
            break;
        }
        *i += 3;
    }
    o->prop_count++;
    return CLI_PARSE_OK;
bad_num:
    fprintf(err, "mqtls %s: -D %s %s: '%s' is not a valid number for this property\n", cmd, cmd_s,
            name, argv[*i + 3]);
    return MQTLS_EXIT_USAGE;
}

static const cli_option_t *find_option(const char *arg, const char **inline_val)
{
    *inline_val = NULL;
    size_t n = sizeof(options) / sizeof(options[0]);
    if (arg[0] == '-' && arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < n; i++) {
            if (strlen(options[i].long_name) == len &&
                strncmp(options[i].long_name, name, len) == 0) {
                if (eq != NULL) {
                    *inline_val = eq + 1;
                }
                return &options[i];
            }
        }
        /* mosquitto spellings we accept as aliases */
        static const struct {
            const char *alias;
            const char *name;
        } aliases[] = {{"password", "pw"}, {"user", "username"}};
        for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
            if (strlen(aliases[a].alias) == len && strncmp(aliases[a].alias, name, len) == 0) {
                for (size_t i = 0; i < n; i++) {
                    if (strcmp(options[i].long_name, aliases[a].name) == 0) {
                        if (eq != NULL) {
                            *inline_val = eq + 1;
                        }
                        return &options[i];
                    }
                }
            }
        }
        return NULL;
    }
    if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
        for (size_t i = 0; i < n; i++) {
            if (options[i].short_name == arg[1]) {
                return &options[i];
            }
        }
    }
    return NULL;
}

static bool is_opt(const cli_option_t *opt, const char *long_name)
{
    return strcmp(opt->long_name, long_name) == 0;
}

static void hint(FILE *err, cli_mode_t mode)
{
    fprintf(err, "Try 'mqtls %s --help'.\n", cmd_name(mode));
}

/* Validate the parsed options as a whole and compute the derived fields. */
static int finish(cli_opts_t *o, FILE *err)
{
    const char *cmd = cmd_name(o->mode);
    if (o->topic_count == 0) {
        fprintf(err, "mqtls %s: no topic given: use -t TOPIC (or -L URL with a /topic)\n", cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (o->mode == CLI_PUB) {
        if (o->topic_count > 1) {
            fprintf(err, "mqtls pub: only one -t topic can be published to\n");
            return MQTLS_EXIT_USAGE;
        }
        if (o->msg_src == CLI_MSG_NONE) {
            fprintf(err, "mqtls pub: no message: use one of -m MSG, -f FILE, -l, -n or -s\n");
            return MQTLS_EXIT_USAGE;
        }
        if (strchr(o->topics[0], '+') != NULL || strchr(o->topics[0], '#') != NULL) {
            fprintf(err,
                    "mqtls pub: topic '%s' contains a wildcard (+ or #); "
                    "a PUBLISH topic cannot [MQTT-3.3.2-2]\n",
                    o->topics[0]);
            return MQTLS_EXIT_USAGE;
        }
    }
    if (o->id != NULL && o->id_prefix != NULL) {
        fprintf(err, "mqtls %s: -i and -I cannot be used together\n", cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (!o->clean_session && o->id == NULL) {
        fprintf(err,
                "mqtls %s: -c needs a fixed client id (-i ID): a generated one never "
                "finds its session again\n",
                cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (o->prop_count > 0) {
        if (!o->version_given) {
            o->version = MQTLS_V5;
        } else if (o->version != MQTLS_V5) {
            fprintf(err, "mqtls %s: -D properties need MQTT 5 (-V 5)\n", cmd);
            return MQTLS_EXIT_USAGE;
        }
    }
    const char *user = o->username != NULL ? o->username : (o->url_has_user ? o->url_user : NULL);
    const char *pass = o->password != NULL ? o->password : (o->url_has_pass ? o->url_pass : NULL);
    if (pass != NULL && user == NULL && o->version != MQTLS_V5) {
        /* [MQTT-3.1.2-22] no password without a user name before MQTT 5 */
        fprintf(err, "mqtls %s: -P needs -u with MQTT 3.1/3.1.1 [MQTT-3.1.2-22]\n", cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (o->will_topic == NULL && (o->will_payload != NULL || o->will_qos != 0 || o->will_retain)) {
        fprintf(err, "mqtls %s: --will-payload/--will-qos/--will-retain need --will-topic\n", cmd);
        return MQTLS_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->prop_count; i++) {
        if (o->props[i].cmd == CLI_PROP_CMD_WILL && o->will_topic == NULL) {
            fprintf(err, "mqtls %s: -D will ... needs --will-topic\n", cmd);
            return MQTLS_EXIT_USAGE;
        }
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        fprintf(err,
                "mqtls %s: --cert and --key go together (the certificate and its private "
                "key)\n",
                cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (o->retained_only && o->no_retained) {
        fprintf(err, "mqtls sub: --retained-only and -R exclude each other\n");
        return MQTLS_EXIT_USAGE;
    }
    if (o->json && o->format != NULL) {
        fprintf(err, "mqtls sub: --json and -F exclude each other\n");
        return MQTLS_EXIT_USAGE;
    }
    if (o->keypass != NULL && o->keypass_file != NULL) {
        fprintf(err, "mqtls %s: --keypass and --keypass-file exclude each other\n", cmd);
        return MQTLS_EXIT_USAGE;
    }
    o->tls_explicit_flag = o->cafile != NULL || o->capath != NULL || o->cert != NULL ||
                           o->key != NULL || o->tls_version != 0 || o->alpn_count > 0 ||
                           o->server_name != NULL || o->insecure || o->keypass != NULL ||
                           o->keypass_file != NULL || o->keyform_given;
    o->tls = o->url_tls || o->tls_explicit_flag;
    if (o->tls && o->cafile == NULL && o->capath == NULL && !o->insecure) {
        /* Decision (docs/cli/pub.md "TLS"): no --cafile/--capath = the system trust store,
         * like curl; Debian's bundle first, the hashed directory otherwise. */
        o->system_ca = true;
        if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
            o->system_ca_file = "/etc/ssl/certs/ca-certificates.crt";
        } else if (access("/etc/pki/tls/certs/ca-bundle.crt", R_OK) == 0) {
            o->system_ca_file = "/etc/pki/tls/certs/ca-bundle.crt";
        }
    }
    if (o->keypass_file != NULL) {
        int rc = read_keypass_file(o, cmd, err);
        if (rc != CLI_PARSE_OK) {
            return rc;
        }
    }
    return CLI_PARSE_OK;
}

int cli_parse(cli_opts_t *o, cli_mode_t mode, int argc, char **argv, FILE *out, FILE *err)
{
    memset(o, 0, sizeof(*o));
    o->mode = mode;
    o->keepalive_s = 60;
    o->clean_session = true;
    o->version = MQTLS_V311;
    o->repeat = 1;
    const char *cmd = cmd_name(mode);

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        const cli_option_t *opt = find_option(arg, &val);
        if (opt == NULL) {
            fprintf(err, "mqtls %s: unknown option '%s'\n", cmd, arg);
            hint(err, mode);
            return MQTLS_EXIT_USAGE;
        }
        if ((opt->modes & (1u << mode)) == 0) {
            fprintf(err, "mqtls %s: option %s is for 'mqtls %s' only\n", cmd, arg,
                    mode == CLI_PUB ? "sub" : "pub");
            hint(err, mode);
            return MQTLS_EXIT_USAGE;
        }
        if (is_opt(opt, "help")) {
            cli_help(mode, out);
            return CLI_PARSE_HELP;
        }
        if (is_opt(opt, "property")) {
            int rc = parse_property(o, argc, argv, &i, err);
            if (rc != CLI_PARSE_OK) {
                return rc;
            }
            continue;
        }
        if (opt->arg != NULL && val == NULL) {
            if (i + 1 >= argc) {
                fprintf(err, "mqtls %s: option %s needs an argument (%s)\n", cmd, arg, opt->arg);
                hint(err, mode);
                return MQTLS_EXIT_USAGE;
            }
            val = argv[++i];
        } else if (opt->arg == NULL && val != NULL) {
            fprintf(err, "mqtls %s: option --%s takes no argument\n", cmd, opt->long_name);
            return MQTLS_EXIT_USAGE;
        }
        long n = 0;
        const char *ln = opt->long_name;
        if (strcmp(ln, "host") == 0) {
            o->host = val;
        } else if (strcmp(ln, "port") == 0) {
            if (!parse_long(val, 1, 65535, &n)) {
                goto bad_value;
            }
            o->port = (uint16_t)n;
        } else if (strcmp(ln, "url") == 0) {
            o->url = val;
            if (!parse_url(o, val)) {
                fprintf(err,
                        "mqtls %s: -L '%s' is not mqtt[s]://[user[:pass]@]host[:port]/topic "
                        "nor ws[s]://[user[:pass]@]host[:port][/path]\n",
                        cmd, val);
                return MQTLS_EXIT_USAGE;
            }
        } else if (strcmp(ln, "topic") == 0 || strcmp(ln, "filter-out") == 0) {
            bool is_t = strcmp(ln, "topic") == 0;
            size_t *cnt = is_t ? &o->topic_count : &o->filter_out_count;
            const char **arr = is_t ? o->topics : o->filter_out;
            if (val[0] == '\0') {
                fprintf(err, "mqtls %s: empty topic [MQTT-4.7.3-1]\n", cmd);
                return MQTLS_EXIT_USAGE;
            }
            if (*cnt >= CLI_MAX_TOPICS) {
                fprintf(err, "mqtls %s: too many topics (max %d)\n", cmd, CLI_MAX_TOPICS);
                return MQTLS_EXIT_USAGE;
            }
            arr[(*cnt)++] = val;
        } else if (strcmp(ln, "message") == 0 || strcmp(ln, "file") == 0 ||
                   strcmp(ln, "stdin-line") == 0 || strcmp(ln, "null-message") == 0 ||
                   strcmp(ln, "stdin-file") == 0) {
            if (o->msg_src != CLI_MSG_NONE) {
                fprintf(err, "mqtls pub: only one of -m, -f, -l, -n, -s may be given\n");
                return MQTLS_EXIT_USAGE;
            }
            if (ln[0] == 'm') {
                o->msg_src = CLI_MSG_ARG;
                o->message = val;
            } else if (ln[0] == 'f') {
                o->msg_src = CLI_MSG_FILE;
                o->file = val;
            } else if (strcmp(ln, "stdin-line") == 0) {
                o->msg_src = CLI_MSG_LINES;
            } else if (ln[0] == 'n') {
                o->msg_src = CLI_MSG_NULL;
            } else {
                o->msg_src = CLI_MSG_STDIN;
            }
        } else if (strcmp(ln, "qos") == 0 || strcmp(ln, "will-qos") == 0) {
            if (!parse_long(val, 0, 2, &n)) {
                goto bad_value;
            }
            *(ln[0] == 'q' ? &o->qos : &o->will_qos) = (int)n;
        } else if (strcmp(ln, "retain") == 0) {
            o->retain = true;
        } else if (strcmp(ln, "id") == 0) {
            if (strlen(val) > 65535) {
                goto bad_value;
            }
            o->id = val;
        } else if (strcmp(ln, "id-prefix") == 0) {
            o->id_prefix = val;
        } else if (strcmp(ln, "keepalive") == 0) {
            if (!parse_long(val, 0, 65535, &o->keepalive_s)) {
                goto bad_value;
            }
        } else if (strcmp(ln, "disable-clean-session") == 0) {
            o->clean_session = false;
        } else if (strcmp(ln, "username") == 0) {
            o->username = val;
        } else if (strcmp(ln, "pw") == 0) {
            o->password = val;
        } else if (strcmp(ln, "protocol-version") == 0) {
            if (strcmp(val, "31") == 0 || strcmp(val, "mqttv31") == 0) {
                o->version = MQTLS_V31;
            } else if (strcmp(val, "311") == 0 || strcmp(val, "mqttv311") == 0) {
                o->version = MQTLS_V311;
            } else if (strcmp(val, "5") == 0 || strcmp(val, "mqttv5") == 0) {
                o->version = MQTLS_V5;
            } else {
                goto bad_value;
            }
            o->version_given = true;
        } else if (strcmp(ln, "count") == 0) {
            if (!parse_long(val, 1, LONG_MAX, &o->count)) {
                goto bad_value;
            }
        } else if (strcmp(ln, "timeout") == 0) {
            if (!parse_long(val, 1, 86400L * 365, &o->timeout_s)) {
                goto bad_value;
            }
        } else if (strcmp(ln, "no-stale") == 0) {
            o->no_retained = true;
        } else if (strcmp(ln, "verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(ln, "no-newline") == 0) {
            o->no_newline = true;
        } else if (strcmp(ln, "format") == 0) {
            o->format = val;
        } else if (strcmp(ln, "debug") == 0) {
            o->debug = true;
        } else if (strcmp(ln, "quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(ln, "will-topic") == 0) {
            o->will_topic = val;
        } else if (strcmp(ln, "will-payload") == 0) {
            o->will_payload = val;
        } else if (strcmp(ln, "will-retain") == 0) {
            o->will_retain = true;
        } else if (strcmp(ln, "cafile") == 0) {
            o->cafile = val;
        } else if (strcmp(ln, "capath") == 0) {
            o->capath = val;
        } else if (strcmp(ln, "cert") == 0) {
            o->cert = val;
        } else if (strcmp(ln, "key") == 0) {
            o->key = val;
        } else if (strcmp(ln, "keyform") == 0) {
            if (strcmp(val, "pem") == 0) {
                o->keyform_der = 0;
            } else if (strcmp(val, "der") == 0) {
                o->keyform_der = 1;
            } else {
                goto bad_value;
            }
            o->keyform_given = true;
        } else if (strcmp(ln, "keypass") == 0) {
            o->keypass = val;
        } else if (strcmp(ln, "keypass-file") == 0) {
            o->keypass_file = val;
        } else if (strcmp(ln, "tls-version") == 0) {
            if (strcmp(val, "tlsv1.2") == 0) {
                o->tls_version = 0x0303;
            } else if (strcmp(val, "tlsv1.3") == 0) {
                o->tls_version = 0x0304;
            } else {
                goto bad_value;
            }
        } else if (strcmp(ln, "tls-alpn") == 0) {
            if (o->alpn_count >= CLI_MAX_ALPN || val[0] == '\0' || strlen(val) > 255) {
                goto bad_value;
            }
            o->alpn[o->alpn_count++] = val;
        } else if (strcmp(ln, "tls-server-name") == 0) {
            o->server_name = val;
        } else if (strcmp(ln, "insecure") == 0) {
            o->insecure = true;
        } else if (strcmp(ln, "ws-subprotocol") == 0) {
            for (const char *q = val; *q != '\0'; q++) {
                if ((unsigned char)*q < 0x20u || (unsigned char)*q == 0x7Fu) {
                    goto bad_value; /* would break the HTTP header */
                }
            }
            o->ws_subprotocol = val;
        } else if (strcmp(ln, "repeat") == 0) {
            if (!parse_long(val, 1, INT_MAX, &o->repeat)) {
                goto bad_value;
            }
        } else if (strcmp(ln, "repeat-delay") == 0) {
            if (!parse_double(val, 0.0, 86400.0, &o->repeat_delay_s)) {
                goto bad_value;
            }
        } else if (strcmp(ln, "retained-only") == 0) {
            o->retained_only = true;
        } else if (strcmp(ln, "remove-retained") == 0) {
            o->remove_retained = true;
        } else if (strcmp(ln, "json") == 0) {
            o->json = true;
        }
        continue;
    bad_value:
        fprintf(err, "mqtls %s: invalid value '%s' for %s (expected %s)\n", cmd, val, arg,
                opt->arg);
        hint(err, mode);
        return MQTLS_EXIT_USAGE;
    }
    int rc = finish(o, err);
    if (rc == MQTLS_EXIT_USAGE) {
        hint(err, mode);
    }
    return rc;
}

void cli_opts_free(cli_opts_t *o)
{
    /* volatile so the wipe is not optimised away */
    volatile char *p = o->keypass_buf;
    for (size_t i = 0; i < sizeof(o->keypass_buf); i++) {
        p[i] = 0;
    }
    volatile char *q = o->url_pass;
    for (size_t i = 0; i < sizeof(o->url_pass); i++) {
        q[i] = 0;
    }
}

const char *cli_host(const cli_opts_t *o)
{
    if (o->host != NULL) {
        return o->host;
    }
    if (o->url_host[0] != '\0') {
        return o->url_host;
    }
    return "localhost";
}

uint16_t cli_port(const cli_opts_t *o)
{
    if (o->port != 0) {
        return o->port;
    }
    if (o->url_ws) {
        return o->tls ? 443 : 80;
    }
    return o->tls ? 8883 : 1883;
}

bool cli_build_uri(const cli_opts_t *o, char *buf, size_t cap)
{
    const char *host = cli_host(o);
    bool v6 = strchr(host, ':') != NULL;
    const char *scheme = o->url_ws ? (o->tls ? "wss" : "ws") : (o->tls ? "mqtts" : "mqtt");
    const char *path = o->url_ws ? (o->url_path[0] != '\0' ? o->url_path : "/mqtt") : "";
    int n = snprintf(buf, cap, "%s://%s%s%s:%u%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
                     cli_port(o), path);
    return n > 0 && (size_t)n < cap;
}

void cli_help(cli_mode_t mode, FILE *out)
{
    if (mode == CLI_PUB) {
        fprintf(out, "usage: mqtls pub -t TOPIC (-m MSG | -f FILE | -l | -n | -s) [options]\n"
                     "Publish messages, with mosquitto_pub's flags. TLS is on with mqtts:// or\n"
                     "any TLS flag (mosquitto: only with --cafile/--capath).\n\n");
    } else {
        fprintf(out, "usage: mqtls sub -t FILTER [-t FILTER ...] [options]\n"
                     "Subscribe and print messages, with mosquitto_sub's flags. TLS is on with\n"
                     "mqtts:// or any TLS flag (mosquitto: only with --cafile/--capath).\n\n");
    }
    fprintf(out, "options:\n");
    size_t n = sizeof(options) / sizeof(options[0]);
    for (size_t i = 0; i < n; i++) {
        const cli_option_t *opt = &options[i];
        if ((opt->modes & (1u << mode)) == 0) {
            continue;
        }
        char left[64];
        if (opt->short_name != 0) {
            snprintf(left, sizeof(left), "-%c, --%s%s%s", opt->short_name, opt->long_name,
                     opt->arg != NULL ? " " : "", opt->arg != NULL ? opt->arg : "");
        } else {
            snprintf(left, sizeof(left), "    --%s%s%s", opt->long_name,
                     opt->arg != NULL ? " " : "", opt->arg != NULL ? opt->arg : "");
        }
        /* 80 columns: the text wraps under itself, words kept whole */
        const char *t = opt->help;
        bool first = true;
        bool own_line = strlen(left) > 28;
        if (own_line) {
            fprintf(out, "  %s\n", left);
        }
        while (*t != '\0') {
            size_t w = strlen(t);
            if (w > 49) {
                w = 49;
                while (w > 0 && t[w] != ' ') {
                    w--;
                }
                if (w == 0) {
                    w = strcspn(t, " ");
                }
            }
            fprintf(out, "  %-28s %.*s\n", first && !own_line ? left : "", (int)w, t);
            first = false;
            t += w;
            while (*t == ' ') {
                t++;
            }
        }
    }
    fprintf(out,
            "\nTLS: with a TLS flag but no --cafile/--capath the system CA store is used\n"
            "(/etc/ssl/certs/ca-certificates.crt). The server name is always checked unless\n"
            "--insecure, which turns ALL verification off and says so on every connect.\n"
            "On a connection failure mqtls prints the cause, the findings of its diagnosis\n"
            "with a fix to paste, and the 'mqtls doctor' command to run with the same flags.\n"
            "Differences from mosquitto_%s: no automatic reconnect;%s\n"
            "--insecure skips all verification; -D has no DISCONNECT/AUTH properties.\n"
            "\nexit codes: 0 ok, 1 connection/TLS/MQTT failure, 2 usage, 3 timeout (-W),\n"
            "            4 file error, 5 refused by the broker (CONNACK/SUBACK/PUBACK)\n"
            "docs: docs/cli/%s.md, docs/cli/exit-codes.md\n",
            cmd_name(mode), mode == CLI_SUB ? " -W exits 3 (not 27);" : "", cmd_name(mode));
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
            cli_host(o), cli_port(o), o->tls ? "TLS" : "plain TCP",
            o->url_ws ? ", WebSocket " : "",
            o->url_ws ? (o->url_path[0] != '\0' ? o->url_path : "/mqtt") : "",
            version_name(o->version),
            o->keepalive_s, o->clean_session ? "yes" : "no");
    fprintf(out, "mqtls: debug: client id %s%s, username %s, password %s\n",
            o->id != NULL ? o->id : (o->id_prefix != NULL ? o->id_prefix : "(generated)"),
            o->id_prefix != NULL ? "<pid>" : "",
            o->username != NULL ? o->username : (o->url_has_user ? o->url_user : "(none)"),
            (o->password != NULL || o->url_has_pass) ? "***" : "(none)");
    for (size_t i = 0; i < o->topic_count; i++) {
        fprintf(out, "mqtls: debug: topic %s qos %d\n", o->topics[i], o->qos);
    }
    if (o->tls) {
        fprintf(out, "mqtls: debug: tls cafile %s, capath %s, cert %s, key %s, keypass %s\n",
                o->cafile != NULL ? o->cafile
                                  : (o->system_ca_file != NULL ? o->system_ca_file : "(none)"),
                o->capath != NULL
                    ? o->capath
                    : (o->system_ca && o->system_ca_file == NULL ? "/etc/ssl/certs" : "(none)"),
                o->cert != NULL ? o->cert : "(none)", o->key != NULL ? o->key : "(none)",
                o->keypass != NULL ? "***" : "(none)");
        fprintf(out, "mqtls: debug: tls version %s, server name %s, verification %s\n",
                o->tls_version == 0x0304 ? "1.3 only"
                                         : (o->tls_version == 0x0303 ? "1.2 only" : ">= 1.2"),
                o->server_name != NULL ? o->server_name : cli_host(o),
                o->insecure ? "OFF (--insecure)" : "on");
    }
    if (o->will_topic != NULL) {
        fprintf(out, "mqtls: debug: will topic %s qos %d retain %d payload %zu bytes\n",
                o->will_topic, o->will_qos, o->will_retain ? 1 : 0,
                o->will_payload != NULL ? strlen(o->will_payload) : 0);
    }
    for (size_t i = 0; i < o->prop_count; i++) {
        fprintf(out, "mqtls: debug: property %s in %s\n", cli_prop_name(o->props[i].prop.id),
                prop_cmd_label(o->props[i].cmd));
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Output formatting */

void cli_buf_free(cli_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void cli_buf_add(cli_buf_t *b, const void *p, size_t n)
{
    if (b->oom || n == 0) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_str(cli_buf_t *b, const char *s)
{
    cli_buf_add(b, s, strlen(s));
}

static void buf_fmt(cli_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_fmt(cli_buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        cli_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

static bool read_varint(const uint8_t *p, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (*pos >= len) {
            return false;
        }
        uint8_t byte = p[(*pos)++];
        v |= (uint32_t)(byte & 0x7Fu) << (7u * i);
        if ((byte & 0x80u) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool read_bin(const uint8_t *p, size_t len, size_t *pos, mqtls_bytes_t *out)
{
    if (*pos + 2 > len) {
        return false;
    }
    size_t n = ((size_t)p[*pos] << 8) | p[*pos + 1];
    *pos += 2;
    if (*pos + n > len) {
        return false;
    }
    out->data = p + *pos;
    out->len = n;
    *pos += n;
    return true;
}

bool cli_props_next(const mqtls_properties_t *props, size_t *cursor, mqtls_property_t *out)
{
    if (props->items != NULL) {
        if (*cursor >= props->count) {
            return false;
        }
        *out = props->items[(*cursor)++];
        return true;
    }
    const uint8_t *p = props->raw.data;
    size_t len = props->raw.len;
    size_t pos = *cursor;
    if (p == NULL || pos >= len) {
        return false;
    }
    uint32_t id = 0;
    if (!read_varint(p, len, &pos, &id) || id > 0xFF) {
        return false;
    }
    const prop_def_t *d = prop_by_id((uint8_t)id);
    if (d == NULL) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->id = (uint8_t)id;
    switch (d->type) {
    case MQTLS_PROP_TYPE_BYTE:
        if (pos + 1 > len) {
            return false;
        }
        out->v.u32 = p[pos];
        pos += 1;
        break;
    case MQTLS_PROP_TYPE_U16:
        if (pos + 2 > len) {
            return false;
        }
        out->v.u32 = ((uint32_t)p[pos] << 8) | p[pos + 1];
        pos += 2;
        break;
    case MQTLS_PROP_TYPE_U32:
        if (pos + 4 > len) {
            return false;
        }
        out->v.u32 = ((uint32_t)p[pos] << 24) | ((uint32_t)p[pos + 1] << 16) |
                     ((uint32_t)p[pos + 2] << 8) | p[pos + 3];
        pos += 4;
        break;
    case MQTLS_PROP_TYPE_VARINT:
        if (!read_varint(p, len, &pos, &out->v.u32)) {
            return false;
        }
        break;
    case MQTLS_PROP_TYPE_UTF8:
    case MQTLS_PROP_TYPE_BINARY:
        if (!read_bin(p, len, &pos, &out->v.bin)) {
            return false;
        }
        break;
    case MQTLS_PROP_TYPE_UTF8_PAIR:
        if (!read_bin(p, len, &pos, &out->v.pair.key) ||
            !read_bin(p, len, &pos, &out->v.pair.value)) {
            return false;
        }
        break;
    default:
        return false;
    }
    *cursor = pos;
    return true;
}

static bool find_prop(const mqtls_properties_t *props, uint8_t id, mqtls_property_t *out)
{
    size_t cur = 0;
    mqtls_property_t p;
    while (cli_props_next(props, &cur, &p)) {
        if (p.id == id) {
            *out = p;
            return true;
        }
    }
    return false;
}

/* Strict UTF-8 check (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + n >= len) {
            return false; /* truncated sequence */
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

static void json_string(cli_buf_t *b, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    cli_buf_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20 || c == 0x7F) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 0xF];
                u[6] = '\0';
                esc = u;
            }
            break;
        }
        if (esc != NULL) {
            cli_buf_add(b, s + i - run, run);
            run = 0;
            buf_str(b, esc);
        } else {
            run++;
        }
    }
    cli_buf_add(b, s + len - run, run);
    cli_buf_add(b, "\"", 1);
}

static void hex_bytes(cli_buf_t *b, const uint8_t *p, size_t len, bool upper)
{
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char chunk[256];
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        chunk[k++] = hex[p[i] >> 4];
        chunk[k++] = hex[p[i] & 0xF];
        if (k == sizeof(chunk)) {
            cli_buf_add(b, chunk, k);
            k = 0;
        }
    }
    cli_buf_add(b, chunk, k);
}

/* ISO-8601 local time; with_us adds ".uuuuuu" (the %j "tst" form). */
static void iso_time(cli_buf_t *b, const struct timespec *ts, bool with_us)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    char date[32];
    char zone[8];
    if (localtime_r(&t, &tm) == NULL) {
        return;
    }
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    buf_str(b, date);
    if (with_us) {
        buf_fmt(b, ".%06ld", (long)(ts->tv_nsec / 1000));
    }
    buf_str(b, zone);
}

static void json_props(cli_buf_t *b, const mqtls_properties_t *props)
{
    size_t cur = 0;
    mqtls_property_t p;
    bool first = true;
    bool any_user = false;
    buf_str(b, "{");
    while (cli_props_next(props, &cur, &p)) {
        const prop_def_t *d = prop_by_id(p.id);
        if (d == NULL || d->type == MQTLS_PROP_TYPE_UTF8_PAIR) {
            any_user = any_user || (d != NULL);
            continue;
        }
        if (!first) {
            buf_str(b, ",");
        }
        first = false;
        json_string(b, (const uint8_t *)d->name, strlen(d->name));
        buf_str(b, ":");
        if (d->type == MQTLS_PROP_TYPE_UTF8 ||
            (d->type == MQTLS_PROP_TYPE_BINARY && utf8_valid(p.v.bin.data, p.v.bin.len))) {
            json_string(b, p.v.bin.data, p.v.bin.len);
        } else if (d->type == MQTLS_PROP_TYPE_BINARY) {
            buf_str(b, "{\"hex\":\"");
            hex_bytes(b, p.v.bin.data, p.v.bin.len, false);
            buf_str(b, "\"}");
        } else {
            buf_fmt(b, "%lu", (unsigned long)p.v.u32);
        }
    }
    if (any_user) {
        /* user properties are an ordered list of pairs: keys may repeat [MQTT-3.3.2-18] */
        if (!first) {
            buf_str(b, ",");
        }
        buf_str(b, "\"user-property\":[");
        cur = 0;
        bool f2 = true;
        while (cli_props_next(props, &cur, &p)) {
            if (p.id != MQTLS_PROP_USER_PROPERTY) {
                continue;
            }
            buf_str(b, f2 ? "[" : ",[");
            f2 = false;
            json_string(b, p.v.pair.key.data, p.v.pair.key.len);
            buf_str(b, ",");
            json_string(b, p.v.pair.value.data, p.v.pair.value.len);
            buf_str(b, "]");
        }
        buf_str(b, "]");
    }
    buf_str(b, "}");
}

void cli_format_json(cli_buf_t *b, const cli_msg_t *m)
{
    buf_str(b, "{\"tst\":\"");
    iso_time(b, &m->when, true);
    buf_str(b, "\",\"topic\":");
    json_string(b, m->topic, m->topic_len);
    buf_fmt(b, ",\"qos\":%u,\"retain\":%s,\"mid\":%u,\"payloadlen\":%zu,", m->qos,
            m->retain ? "true" : "false", m->mid, m->payload_len);
    if (utf8_valid(m->payload, m->payload_len)) {
        buf_str(b, "\"payload\":");
        json_string(b, m->payload, m->payload_len);
    } else {
        /* not text: hex keeps every byte and stays valid JSON */
        buf_str(b, "\"payload_hex\":\"");
        hex_bytes(b, m->payload, m->payload_len, false);
        buf_str(b, "\"");
    }
    buf_str(b, ",\"properties\":");
    json_props(b, &m->props);
    buf_str(b, "}");
}

/* mosquitto's %j / %J */
static void mosq_json(cli_buf_t *b, const cli_msg_t *m, bool raw_payload)
{
    buf_str(b, "{\"tst\":\"");
    iso_time(b, &m->when, true);
    buf_str(b, "\",\"topic\":");
    json_string(b, m->topic, m->topic_len);
    buf_fmt(b, ",\"qos\":%u,\"retain\":%d,\"payload\":", m->qos, m->retain ? 1 : 0);
    if (raw_payload) {
        cli_buf_add(b, m->payload, m->payload_len);
    } else {
        json_string(b, m->payload, m->payload_len);
    }
    buf_str(b, "}");
}

static void pad_field(cli_buf_t *b, const cli_buf_t *field, bool left, bool zero, long width,
                      long maxw)
{
    size_t len = field->len;
    if (maxw >= 0 && len > (size_t)maxw) {
        len = (size_t)maxw;
    }
    size_t pad = (width > 0 && (size_t)width > len) ? (size_t)width - len : 0;
    if (!left) {
        for (size_t i = 0; i < pad; i++) {
            cli_buf_add(b, zero ? "0" : " ", 1);
        }
    }
    cli_buf_add(b, field->data, len);
    if (left) {
        for (size_t i = 0; i < pad; i++) {
            cli_buf_add(b, " ", 1);
        }
    }
}

static void prop_u32_field(cli_buf_t *f, const cli_msg_t *m, uint8_t id)
{
    mqtls_property_t p;
    if (find_prop(&m->props, id, &p)) {
        buf_fmt(f, "%lu", (unsigned long)p.v.u32);
    }
}

static void prop_bin_field(cli_buf_t *f, const cli_msg_t *m, uint8_t id)
{
    mqtls_property_t p;
    if (find_prop(&m->props, id, &p)) {
        cli_buf_add(f, p.v.bin.data, p.v.bin.len);
    }
}

void cli_format(cli_buf_t *b, const char *fmt, const cli_msg_t *m)
{
    cli_buf_t field = {0};
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p == '%') {
            const char *start = p;
            bool left = false;
            bool zero = false;
            long width = 0;
            long maxw = -1;
            p++;
            while (*p == '-' || *p == '0') {
                left = left || *p == '-';
                zero = zero || *p == '0';
                p++;
            }
            while (*p >= '0' && *p <= '9' && width < 100000) {
                width = width * 10 + (*p - '0');
                p++;
            }
            if (*p == '.') {
                maxw = 0;
                p++;
                while (*p >= '0' && *p <= '9' && maxw < 100000) {
                    maxw = maxw * 10 + (*p - '0');
                    p++;
                }
            }
            if (*p == '\0') {
                buf_str(b, start);
                break;
            }
            field.len = 0;
            bool numeric = false;
            mqtls_property_t prop;
            switch (*p) {
            case '%':
                cli_buf_add(&field, "%", 1);
                break;
            case 't':
                cli_buf_add(&field, m->topic, m->topic_len);
                break;
            case 'p':
                cli_buf_add(&field, m->payload, m->payload_len);
                break;
            case 'q':
                buf_fmt(&field, "%u", m->qos);
                break;
            case 'r':
                buf_fmt(&field, "%d", m->retain ? 1 : 0);
                break;
            case 'm':
                buf_fmt(&field, "%u", m->mid);
                numeric = true;
                break;
            case 'l':
                buf_fmt(&field, "%zu", m->payload_len);
                numeric = true;
                break;
            case 'x':
            case 'X':
                hex_bytes(&field, m->payload, m->payload_len, *p == 'X');
                numeric = true;
                break;
            case 'I':
                iso_time(&field, &m->when, false);
                break;
            case 'U':
                buf_fmt(&field, "%lld.%09ld", (long long)m->when.tv_sec, (long)m->when.tv_nsec);
                break;
            case 'j':
            case 'J':
                mosq_json(&field, m, *p == 'J');
                break;
            case 'A':
                prop_u32_field(&field, m, MQTLS_PROP_TOPIC_ALIAS);
                numeric = true;
                break;
            case 'E':
                prop_u32_field(&field, m, MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL);
                numeric = true;
                break;
            case 'F':
                prop_u32_field(&field, m, MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR);
                numeric = true;
                break;
            case 'S':
                prop_u32_field(&field, m, MQTLS_PROP_SUBSCRIPTION_IDENTIFIER);
                numeric = true;
                break;
            case 'C':
                prop_bin_field(&field, m, MQTLS_PROP_CONTENT_TYPE);
                break;
            case 'R':
                prop_bin_field(&field, m, MQTLS_PROP_RESPONSE_TOPIC);
                break;
            case 'D':
                prop_bin_field(&field, m, MQTLS_PROP_CORRELATION_DATA);
                break;
            case 'P': {
                size_t cur = 0;
                bool first = true;
                while (cli_props_next(&m->props, &cur, &prop)) {
                    if (prop.id != MQTLS_PROP_USER_PROPERTY) {
                        continue;
                    }
                    if (!first) {
                        cli_buf_add(&field, " ", 1);
                    }
                    first = false;
                    cli_buf_add(&field, prop.v.pair.key.data, prop.v.pair.key.len);
                    cli_buf_add(&field, ":", 1);
                    cli_buf_add(&field, prop.v.pair.value.data, prop.v.pair.value.len);
                }
                break;
            }
            default:
                /* unknown sequence: printed as is, like mosquitto */
                cli_buf_add(&field, start, (size_t)(p - start + 1));
                break;
            }
            pad_field(b, &field, left, zero && numeric && !left, width, maxw);
        } else if (*p == '@') {
            p++;
            if (*p == '\0') {
                cli_buf_add(b, "@", 1);
                break;
            }
            if (*p == '@') {
                cli_buf_add(b, "@", 1);
            } else if (*p == 'N') {
                buf_fmt(b, "%09ld", (long)m->when.tv_nsec);
            } else {
                char f2[3] = {'%', *p, '\0'};
                char out[128];
                struct tm tm;
                time_t t = m->when.tv_sec;
                if (localtime_r(&t, &tm) != NULL) {
                    /* the format is the user's own one-character strftime conversion */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                    size_t n = strftime(out, sizeof(out), f2, &tm);
#pragma GCC diagnostic pop
                    cli_buf_add(b, out, n);
                }
            }
        } else if (*p == '\\') {
            p++;
            char c;
            switch (*p) {
            case '\\':
                c = '\\';
                break;
            case '0':
                c = '\0';
                break;
            case 'a':
                c = '\a';
                break;
            case 'e':
                c = '\033';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'v':
                c = '\v';
                break;
            case '\0':
                cli_buf_add(b, "\\", 1);
                cli_buf_free(&field);
                return;
            default:
                cli_buf_add(b, "\\", 1);
                c = *p;
                break;
            }
            cli_buf_add(b, &c, 1);
        } else {
            cli_buf_add(b, p, 1);
        }
    }
    cli_buf_free(&field);
}

void cli_render(cli_buf_t *b, const cli_opts_t *o, const cli_msg_t *m)
{
    if (o->json) {
        cli_format_json(b, m);
    } else if (o->format != NULL) {
        cli_format(b, o->format, m);
    } else if (o->verbose) {
        cli_buf_add(b, m->topic, m->topic_len);
        cli_buf_add(b, " ", 1);
        if (m->payload_len == 0) {
            /* mosquitto_sub -v prints "(null)" for a zero-length payload */
            buf_str(b, "(null)");
        } else {
            cli_buf_add(b, m->payload, m->payload_len);
        }
    } else {
        cli_buf_add(b, m->payload, m->payload_len);
    }
    if (!o->no_newline) {
        cli_buf_add(b, "\n", 1);
    }
}

bool cli_topic_filtered_out(const cli_opts_t *o, const uint8_t *topic, size_t len)
{
    for (size_t i = 0; i < o->filter_out_count; i++) {
        /* [MQTT-4.7] topic matching: '+' one level, '#' the rest (also the parent level) */
        const char *f = o->filter_out[i];
        size_t fi = 0;
        size_t ti = 0;
        size_t flen = strlen(f);
        bool match = false;
        for (;;) {
            if (fi == flen) {
                match = ti == len;
                break;
            }
            if (f[fi] == '#') {
                match = true;
                break;
            }
            if (f[fi] == '+') {
                while (ti < len && topic[ti] != '/') {
                    ti++;
                }
                fi++;
            } else {
                if (ti >= len || topic[ti] != (uint8_t)f[fi]) {
                    /* "a/#" matches "a" too */
                    if (ti == len && fi + 2 == flen && f[fi] == '/' && f[fi + 1] == '#') {
                        match = true;
                    }
                    break;
                }
                fi++;
                ti++;
            }
        }
        if (match) {
            return true;
        }
    }
    return false;
}

int cli_read_file(const char *path, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return errno != 0 ? errno : EIO;
    }
    cli_buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cli_buf_add(&b, chunk, n);
    }
    int rc = ferror(f) ? EIO : 0;
    if (f != stdin) {
        fclose(f);
    }
    if (b.oom) {
        rc = ENOMEM;
    }
    if (rc != 0) {
        cli_buf_free(&b);
        return rc;
    }
    *out = (uint8_t *)b.data;
    *len = b.len;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Connection set-up (needs the client library) */
#ifndef CLI_CLIENT_NO_CONNECT

#include "mqtls/diag.h"

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void diag_file(mqtls_diag_file_t *f, const char *flag, const char *path, char *name,
                      size_t name_cap, uint8_t **owned)
{
    memset(f, 0, sizeof(*f));
    if (path == NULL) {
        return;
    }
    (void)flag;
    snprintf(name, name_cap, "%s", path);
    f->display_name = name; /* a path the fix can use as is */
    size_t len = 0;
    int e = cli_read_file(path, owned, &len);
    if (e != 0) {
        f->read_errno = e;
        return;
    }
    f->data = *owned;
    f->len = len;
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
    char n1[600], n2[600], n3[600];
    uint8_t *b1 = NULL, *b2 = NULL, *b3 = NULL;
    diag_file(&in.ca, "--cafile", o->cafile != NULL ? o->cafile : o->system_ca_file, n1, sizeof(n1),
              &b1);
    diag_file(&in.cert, "--cert", o->cert, n2, sizeof(n2), &b2);
    diag_file(&in.key, "--key", o->key, n3, sizeof(n3), &b3);
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
    free(b1);
    free(b2);
    free(b3);
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
    if (!o->keyform_given || o->key == NULL) {
        return 0;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cli_read_file(o->key, &buf, &len) != 0) {
        return 0; /* the client reports the unreadable file with its diagnosis */
    }
    bool is_pem = false;
    for (size_t i = 0; i + 10 <= len && !is_pem; i++) {
        is_pem = memcmp(buf + i, "-----BEGIN", 10) == 0;
    }
    free(buf);
    if (is_pem == (o->keyform_der != 0)) {
        fprintf(stderr, "mqtls %s: --keyform %s but %s is %s\n", cmd_name(o->mode),
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

#endif
