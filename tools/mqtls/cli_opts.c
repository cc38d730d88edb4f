/* The command line of pub, sub and doctor: one table (generated from opts/<option>.md), one
 * parser, one switch. See cli_opts.h. */
#include "cli_opts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "mqtls/profile.h"
#include "mqtls/tls.h"

/* "sha256//" and the 44 base64 characters of 32 bytes (the last one '='): the form of a
 * public-key pin (mqtls_tls_cfg_t::pins), checked here so that a typo is a usage error. */
static bool is_pin(const char *v)
{
    static const char prefix[] = "sha256//";
    if (strncmp(v, prefix, sizeof prefix - 1) != 0 || strlen(v) != sizeof prefix - 1 + 44) {
        return false;
    }
    const char *b = v + sizeof prefix - 1;
    for (size_t i = 0; i < 43; i++) {
        if (!isalnum((unsigned char)b[i]) && b[i] != '+' && b[i] != '/') {
            return false;
        }
    }
    return b[43] == '=';
}

static const cli_option_t options[] = {
#define X(id, s, l, a, lo, hi, m, al, hp, hs, hd)                                                  \
    {CLI_OPT_##id, s, l, a, lo, hi, m, al, {[CLI_PUB] = hp, [CLI_SUB] = hs, [CLI_DOCTOR] = hd}},
    CLI_OPTION_LIST(X)
#undef X
};

const cli_option_t *cli_options(size_t *count)
{
    *count = sizeof(options) / sizeof(options[0]);
    return options;
}

const char *cli_mode_name(cli_mode_t mode)
{
    switch (mode) {
    case CLI_PUB:
        return "pub";
    case CLI_SUB:
        return "sub";
    case CLI_DOCTOR:
        return "doctor";
    default:
        return "?";
    }
}

int cli_usage_error(cli_mode_t mode, FILE *err, bool hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (mode == CLI_DOCTOR) {
        /* doctor speaks STYLE.md's form and always points to its --help */
        fputs("mqtls: doctor: ", err);
        vfprintf(err, fmt, ap);
        fputs(" (MQTLS_ERR_USAGE)\n", err);
        hint = true;
    } else {
        fprintf(err, "mqtls %s: ", cli_mode_name(mode));
        vfprintf(err, fmt, ap);
        fputc('\n', err);
    }
    va_end(ap);
    if (hint) {
        fprintf(err, "Try 'mqtls %s --help'.\n", cli_mode_name(mode));
    }
    return MQTLS_EXIT_USAGE;
}

/* ---------------------------------------------------------------------------------------- */
/* Broker URLs */

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool cli_url_parse(const char *url, unsigned flags, cli_url_t *out)
{
    /* What the CLI accepts, and the scheme the library is given for it. */
    static const struct {
        const char *prefix;
        const char *as;
        unsigned needs;
    } schemes[] = {
        {"mqtt://", "mqtt://", 0},           {"mqtts://", "mqtts://", 0},
        {"ws://", "ws://", CLI_URL_WS},      {"wss://", "wss://", CLI_URL_WS},
        {"ssl://", "mqtts://", CLI_URL_SSL}, {"tls://", "mqtts://", CLI_URL_SSL},
    };
    memset(out, 0, sizeof(*out));
    const char *p = NULL;
    const char *as = NULL;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && p == NULL; i++) {
        size_t n = strlen(schemes[i].prefix);
        if ((schemes[i].needs == 0 || (flags & schemes[i].needs) != 0) &&
            strncmp(url, schemes[i].prefix, n) == 0) {
            p = url + n;
            as = schemes[i].as;
        }
    }
    if (p == NULL) {
        return false;
    }
    const char *slash = strchr(p, '/');
    const char *at = strchr(p, '@');
    if ((flags & CLI_URL_USERINFO) != 0 && at != NULL && (slash == NULL || at < slash)) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        out->user = p;
        out->user_len = (size_t)((colon != NULL ? colon : at) - p);
        if (colon != NULL) {
            out->pass = colon + 1;
            out->pass_len = (size_t)(at - colon - 1);
        }
        p = at + 1;
    }
    /* The library parses host, port and the WebSocket path; an mqtt(s):// path is the topic. */
    bool ws = as[0] == 'w';
    size_t auth_len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    char canon[1024];
    int n = snprintf(canon, sizeof(canon), "%s%.*s%s", as, (int)auth_len, p,
                     ws && slash != NULL ? slash : "");
    if (n < 0 || (size_t)n >= sizeof(canon) || mqtls_uri_parse(canon, &out->uri) != MQTLS_OK) {
        return false;
    }
    /* mqtls_uri_t always has a port: a ':' after the host (after the ']' of an IPv6 literal)
     * says whether the URL gave one. */
    const char *host_end = p[0] == '[' ? memchr(p, ']', auth_len) : p;
    out->port_given =
        host_end != NULL && memchr(host_end, ':', auth_len - (size_t)(host_end - p)) != NULL;
    out->topic = !ws && slash != NULL ? slash + 1 : "";
    return true;
}

/* -L mqtt(s)://[user[:pass]@]host[:port]/topic (mosquitto's form), or
 * ws(s)://[user[:pass]@]host[:port][/path]: there the path is the WebSocket request path
 * (default /mqtt, as brokers expect) and the topic comes from -t. */
static bool apply_url(cli_opts_t *o, const char *val)
{
    cli_url_t u;
    if (!cli_url_parse(val, CLI_URL_USERINFO | CLI_URL_WS, &u)) {
        return false;
    }
    o->url = val;
    o->url_tls = u.uri.tls;
    o->url_ws = u.uri.websocket;
    copy_str(o->url_host, sizeof(o->url_host), u.uri.host, strlen(u.uri.host));
    copy_str(o->url_path, sizeof(o->url_path), u.uri.path, strlen(u.uri.path));
    if (u.user != NULL) {
        copy_str(o->url_user, sizeof(o->url_user), u.user, u.user_len);
        o->url_has_user = true;
    }
    if (u.pass != NULL) {
        copy_str(o->url_pass, sizeof(o->url_pass), u.pass, u.pass_len);
        o->url_has_pass = true;
    }
    if (u.port_given) {
        o->port = u.uri.port;
    }
    if (u.topic[0] != '\0') {
        if (o->topic_count >= CLI_MAX_TOPICS) {
            return false;
        }
        o->topics[o->topic_count++] = u.topic;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* The parser */

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

/* "--name", "--name=VALUE" (long names and aliases) or "-x" (short names). */
static const cli_option_t *find_option(const char *arg, const char **inline_val)
{
    *inline_val = NULL;
    size_t n = sizeof(options) / sizeof(options[0]);
    if (arg[0] == '-' && arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < n; i++) {
            const char *al = options[i].alias;
            if ((strlen(options[i].long_name) == len &&
                 strncmp(options[i].long_name, name, len) == 0) ||
                (al != NULL && strlen(al) == len && strncmp(al, name, len) == 0)) {
                *inline_val = eq != NULL ? eq + 1 : NULL;
                return &options[i];
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

/* "option --json is for 'mqtls sub' and 'mqtls doctor' only" */
static int not_for_mode(cli_mode_t mode, const char *arg, unsigned modes, FILE *err)
{
    char list[96] = "";
    size_t used = 0;
    size_t count = 0;
    for (int m = CLI_PUB; m < CLI_MODE_END; m++) {
        count += (modes & CLI_BIT(m)) != 0 ? 1u : 0u;
    }
    for (int m = CLI_PUB, k = 0; m < CLI_MODE_END && used < sizeof(list); m++) {
        if ((modes & CLI_BIT(m)) == 0) {
            continue;
        }
        k++;
        int w = snprintf(list + used, sizeof(list) - used, "%s'mqtls %s'",
                         k == 1 ? "" : ((size_t)k == count ? " and " : ", "),
                         cli_mode_name((cli_mode_t)m));
        used += w > 0 ? (size_t)w : 0u;
    }
    return cli_usage_error(mode, err, true, "option %s is for %s only", arg, list);
}

#define APPLY_BAD_VALUE (-2)

/* --tls-engine: an engine of this build (mqtls_tls_engine_name()), or "mbedtls" (the newest
 * mbedTLS). A usage error names the ones built in. */
static int apply_engine(cli_opts_t *o, const char *val, FILE *err)
{
    char names[128] = "mbedtls";
    size_t used = strlen(names);
    bool known = strcmp(val, "mbedtls") == 0;
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        const char *e = mqtls_tls_engine_name(i);
        known = known || strcmp(val, e) == 0;
        int w = snprintf(names + used, sizeof names - used, ", %s", e);
        used += w > 0 && (size_t)w < sizeof names - used ? (size_t)w : 0u;
    }
    if (!known) {
        return cli_usage_error(o->mode, err, true,
                               "--tls-engine '%s': no such TLS engine in this build (%s)", val,
                               names);
    }
    o->tls_engine = val;
    return CLI_PARSE_OK;
}

/* The one switch: what each option does to @p o. Returns CLI_PARSE_OK, APPLY_BAD_VALUE (the
 * caller says so) or MQTLS_EXIT_USAGE (already said). Every option id has its case: a new page
 * in opts/ without one is a -Wswitch error. */
static int apply(cli_opts_t *o, cli_opt_id_t id, const char *val, FILE *err)
{
    cli_mode_t mode = o->mode;
    long n = 0;
    switch (id) {
    case CLI_OPT_HOST:
        o->host = val;
        break;
    case CLI_OPT_PORT:
        if (!cli_parse_long(val, 1, 65535, &n)) {
            return APPLY_BAD_VALUE;
        }
        o->port = (uint16_t)n;
        break;
    case CLI_OPT_URL:
        if (!apply_url(o, val)) {
            return cli_usage_error(mode, err, false,
                                   "-L '%s' is not mqtt[s]://[user[:pass]@]host[:port]/topic "
                                   "nor ws[s]://[user[:pass]@]host[:port][/path]",
                                   val);
        }
        break;
    case CLI_OPT_TOPIC:
    case CLI_OPT_FILTER_OUT: {
        bool is_t = id == CLI_OPT_TOPIC;
        size_t *cnt = is_t ? &o->topic_count : &o->filter_out_count;
        const char **arr = is_t ? o->topics : o->filter_out;
        if (val[0] == '\0') {
            return cli_usage_error(mode, err, false, "empty topic [MQTT-4.7.3-1]");
        }
        if (*cnt >= CLI_MAX_TOPICS) {
            return cli_usage_error(mode, err, false, "too many topics (max %d)", CLI_MAX_TOPICS);
        }
        arr[(*cnt)++] = val;
        break;
    }
    case CLI_OPT_MESSAGE:
    case CLI_OPT_FILE:
    case CLI_OPT_STDIN_LINE:
    case CLI_OPT_NULL_MESSAGE:
    case CLI_OPT_STDIN_FILE:
        if (o->msg_src != CLI_MSG_NONE) {
            return cli_usage_error(mode, err, false, "only one of -m, -f, -l, -n, -s may be given");
        }
        o->msg_src = id == CLI_OPT_MESSAGE        ? CLI_MSG_ARG
                     : id == CLI_OPT_FILE         ? CLI_MSG_FILE
                     : id == CLI_OPT_STDIN_LINE   ? CLI_MSG_LINES
                     : id == CLI_OPT_NULL_MESSAGE ? CLI_MSG_NULL
                                                  : CLI_MSG_STDIN;
        o->message = id == CLI_OPT_MESSAGE ? val : o->message;
        o->file = id == CLI_OPT_FILE ? val : o->file;
        break;
    case CLI_OPT_QOS:
    case CLI_OPT_WILL_QOS:
        if (!cli_parse_long(val, 0, 2, &n)) {
            return APPLY_BAD_VALUE;
        }
        *(id == CLI_OPT_QOS ? &o->qos : &o->will_qos) = (int)n;
        break;
    case CLI_OPT_RETAIN:
        o->retain = true;
        break;
    case CLI_OPT_ID:
        if (strlen(val) > 65535) {
            return APPLY_BAD_VALUE;
        }
        o->id = val;
        break;
    case CLI_OPT_ID_PREFIX:
        o->id_prefix = val;
        break;
    case CLI_OPT_KEEPALIVE:
        if (!cli_parse_long(val, 0, 65535, &o->keepalive_s)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_DISABLE_CLEAN_SESSION:
        o->clean_session = false;
        break;
    case CLI_OPT_USERNAME:
        o->username = val;
        break;
    case CLI_OPT_PW:
        o->password = val;
        break;
    case CLI_OPT_PROTOCOL_VERSION:
        if (strcmp(val, "31") == 0 || strcmp(val, "mqttv31") == 0) {
            o->version = MQTLS_V31;
        } else if (strcmp(val, "311") == 0 || strcmp(val, "mqttv311") == 0) {
            o->version = MQTLS_V311;
        } else if (strcmp(val, "5") == 0 || strcmp(val, "mqttv5") == 0) {
            o->version = MQTLS_V5;
        } else {
            return APPLY_BAD_VALUE;
        }
        o->version_given = true;
        break;
    case CLI_OPT_COUNT:
        if (!cli_parse_long(val, 1, LONG_MAX, &o->count)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_TIMEOUT:
        if (!cli_parse_long(val, 1, 86400L * 365, &o->timeout_s)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_NO_STALE:
        o->no_retained = true;
        break;
    case CLI_OPT_VERBOSE:
        o->verbose = true;
        break;
    case CLI_OPT_NO_NEWLINE:
        o->no_newline = true;
        break;
    case CLI_OPT_FORMAT:
        o->format = val;
        break;
    case CLI_OPT_DEBUG:
        o->debug = true;
        break;
    case CLI_OPT_QUIET:
        o->quiet = true;
        break;
    case CLI_OPT_PROPERTY:
        break; /* its words are taken by take_property() */
    case CLI_OPT_WILL_TOPIC:
        o->will_topic = val;
        break;
    case CLI_OPT_WILL_PAYLOAD:
        o->will_payload = val;
        break;
    case CLI_OPT_WILL_RETAIN:
        o->will_retain = true;
        break;
    case CLI_OPT_CAFILE:
        o->cafile = val;
        break;
    case CLI_OPT_CAPATH:
        o->capath = val;
        break;
    case CLI_OPT_CERT:
        o->cert = val;
        break;
    case CLI_OPT_KEY:
        o->key = val;
        break;
    case CLI_OPT_KEYFORM:
        if (strcmp(val, "pem") != 0 && strcmp(val, "der") != 0) {
            return APPLY_BAD_VALUE;
        }
        o->keyform_der = strcmp(val, "der") == 0 ? 1 : 0;
        o->keyform_given = true;
        break;
    case CLI_OPT_KEYPASS:
        o->keypass = val;
        break;
    case CLI_OPT_KEYPASS_FILE:
        o->keypass_file = val;
        break;
    case CLI_OPT_TLS_VERSION:
        if (strcmp(val, "tlsv1.2") == 0) {
            o->tls_version = 0x0303;
        } else if (strcmp(val, "tlsv1.3") == 0) {
            o->tls_version = 0x0304;
        } else {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_TLS_ALPN:
        if (o->alpn_count >= CLI_MAX_ALPN || val[0] == '\0' || strlen(val) > 255) {
            return APPLY_BAD_VALUE;
        }
        o->alpn[o->alpn_count++] = val;
        break;
    case CLI_OPT_PIN:
        if (o->pin_count >= CLI_MAX_PINS || !is_pin(val)) {
            return APPLY_BAD_VALUE;
        }
        o->pins[o->pin_count++] = val;
        break;
    case CLI_OPT_PKCS11_MODULE:
        o->pkcs11_module = val;
        break;
    case CLI_OPT_TLS_SERVER_NAME:
        o->server_name = val;
        break;
    case CLI_OPT_INSECURE:
        o->insecure = true;
        break;
    case CLI_OPT_WS_SUBPROTOCOL:
        for (const char *q = val; *q != '\0'; q++) {
            if ((unsigned char)*q < 0x20u || (unsigned char)*q == 0x7Fu) {
                return APPLY_BAD_VALUE; /* would break the HTTP header */
            }
        }
        o->ws_subprotocol = val;
        break;
    case CLI_OPT_PROFILE: {
        mqtls_profile_t p;
        if (mqtls_profile_from_name(val, &p) != MQTLS_OK) {
            return APPLY_BAD_VALUE;
        }
        o->profile = val;
        break;
    }
    case CLI_OPT_TLS_ENGINE:
        return apply_engine(o, val, err);
    case CLI_OPT_REPEAT:
        if (!cli_parse_long(val, 1, INT_MAX, &o->repeat)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_REPEAT_DELAY:
        if (!parse_double(val, 0.0, 86400.0, &o->repeat_delay_s)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_RETAINED_ONLY:
        o->retained_only = true;
        break;
    case CLI_OPT_REMOVE_RETAINED:
        o->remove_retained = true;
        break;
    case CLI_OPT_OFFLINE:
        o->offline = true;
        break;
    case CLI_OPT_JSON:
        o->json = true;
        break;
    case CLI_OPT_HELP:
        break; /* the caller prints the help */
    }
    return CLI_PARSE_OK;
}

/* -D CMD NAME [KEY] VALUE: the words after the option. Returns how many were used, or -1. */
static int take_property(cli_opts_t *o, int argc, char **argv, int i, FILE *err)
{
    const char *cmd = cli_mode_name(o->mode);
    if (o->prop_count >= CLI_MAX_PROPS) {
        fprintf(err, "mqtls %s: too many -D properties (max %d)\n", cmd, CLI_MAX_PROPS);
        return -1;
    }
    int used =
        cli_prop_parse(cmd, o->mode == CLI_PUB, argv + i, argc - i, &o->props[o->prop_count], err);
    if (used == 0) {
        return -1;
    }
    o->prop_count++;
    return used;
}

static int finish_pubsub(cli_opts_t *o, FILE *err);

int cli_parse(cli_opts_t *o, cli_mode_t mode, int argc, char **argv, FILE *out, FILE *err)
{
    memset(o, 0, sizeof(*o));
    o->mode = mode;
    o->keepalive_s = 60;
    o->clean_session = true;
    o->version = MQTLS_V311;
    o->repeat = 1;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        const cli_option_t *opt = find_option(arg, &val);
        if (opt == NULL && mode == CLI_DOCTOR && arg[0] != '-') {
            /* doctor's one argument: the broker */
            if (o->broker != NULL) {
                return cli_usage_error(mode, err, true, "more than one broker given ('%s')", arg);
            }
            o->broker = arg;
            continue;
        }
        if (opt == NULL) {
            return cli_usage_error(mode, err, true, "unknown option '%s'", arg);
        }
        if ((opt->modes & CLI_BIT(mode)) == 0) {
            return not_for_mode(mode, arg, opt->modes, err);
        }
        if (opt->max_words > 1) {
            if (val != NULL) {
                return cli_usage_error(mode, err, true, "option --%s takes %s as separate words",
                                       opt->long_name, opt->arg);
            }
            int used = take_property(o, argc, argv, i, err);
            if (used < 0) {
                return MQTLS_EXIT_USAGE;
            }
            i += used;
            continue;
        }
        if (opt->max_words == 0 && val != NULL) {
            return cli_usage_error(mode, err, false, "option --%s takes no argument",
                                   opt->long_name);
        }
        if (opt->min_words == 1 && val == NULL) {
            if (i + 1 >= argc) {
                return cli_usage_error(mode, err, true, "option %s needs an argument (%s)", arg,
                                       opt->arg);
            }
            val = argv[++i];
        }
        if (opt->id == CLI_OPT_HELP) {
            cli_help(mode, out);
            return CLI_PARSE_HELP;
        }
        int rc = apply(o, opt->id, val, err);
        if (rc == APPLY_BAD_VALUE) {
            return cli_usage_error(mode, err, true, "invalid value '%s' for %s (expected %s)", val,
                                   arg, opt->arg);
        }
        if (rc != CLI_PARSE_OK) {
            return rc;
        }
    }
    if (mode == CLI_DOCTOR) {
        return CLI_PARSE_OK; /* doctor checks its options as a whole itself */
    }
    int rc = finish_pubsub(o, err);
    if (rc == MQTLS_EXIT_USAGE) {
        fprintf(err, "Try 'mqtls %s --help'.\n", cli_mode_name(mode));
    }
    return rc;
}

/* Validate the parsed options as a whole and compute the derived fields. */
static int finish_pubsub(cli_opts_t *o, FILE *err)
{
    cli_mode_t mode = o->mode;
    if (o->topic_count == 0) {
        return cli_usage_error(mode, err, false,
                               "no topic given: use -t TOPIC (or -L URL with a /topic)");
    }
    if (o->mode == CLI_PUB) {
        if (o->topic_count > 1) {
            return cli_usage_error(mode, err, false, "only one -t topic can be published to");
        }
        if (o->msg_src == CLI_MSG_NONE) {
            return cli_usage_error(mode, err, false,
                                   "no message: use one of -m MSG, -f FILE, -l, -n or -s");
        }
        if (strchr(o->topics[0], '+') != NULL || strchr(o->topics[0], '#') != NULL) {
            return cli_usage_error(mode, err, false,
                                   "topic '%s' contains a wildcard (+ or #); "
                                   "a PUBLISH topic cannot [MQTT-3.3.2-2]",
                                   o->topics[0]);
        }
    }
    if (o->id != NULL && o->id_prefix != NULL) {
        return cli_usage_error(mode, err, false, "-i and -I cannot be used together");
    }
    if (!o->clean_session && o->id == NULL) {
        return cli_usage_error(mode, err, false,
                               "-c needs a fixed client id (-i ID): a generated one never "
                               "finds its session again");
    }
    if (o->prop_count > 0) {
        if (!o->version_given) {
            o->version = MQTLS_V5;
        } else if (o->version != MQTLS_V5) {
            return cli_usage_error(mode, err, false, "-D properties need MQTT 5 (-V 5)");
        }
    }
    const char *user = o->username != NULL ? o->username : (o->url_has_user ? o->url_user : NULL);
    const char *pass = o->password != NULL ? o->password : (o->url_has_pass ? o->url_pass : NULL);
    if (pass != NULL && user == NULL && o->version != MQTLS_V5) {
        /* [MQTT-3.1.2-22] no password without a user name before MQTT 5 */
        return cli_usage_error(mode, err, false, "-P needs -u with MQTT 3.1/3.1.1 [MQTT-3.1.2-22]");
    }
    if (o->will_topic == NULL && (o->will_payload != NULL || o->will_qos != 0 || o->will_retain)) {
        return cli_usage_error(mode, err, false,
                               "--will-payload/--will-qos/--will-retain need --will-topic");
    }
    for (size_t i = 0; i < o->prop_count; i++) {
        if (o->props[i].cmd == CLI_PROP_CMD_WILL && o->will_topic == NULL) {
            return cli_usage_error(mode, err, false, "-D will ... needs --will-topic");
        }
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        return cli_usage_error(mode, err, false,
                               "--cert and --key go together (the certificate and its private "
                               "key)");
    }
    if (o->retained_only && o->no_retained) {
        return cli_usage_error(mode, err, false, "--retained-only and -R exclude each other");
    }
    if (o->json && o->format != NULL) {
        return cli_usage_error(mode, err, false, "--json and -F exclude each other");
    }
    if (o->pin_count > 0 && o->insecure) {
        return cli_usage_error(mode, err, false,
                               "--pin and --insecure exclude each other (pins are checked on a "
                               "verified chain)");
    }
    if (o->keypass != NULL && o->keypass_file != NULL) {
        return cli_usage_error(mode, err, false, "--keypass and --keypass-file exclude each other");
    }
    o->tls_explicit_flag = o->cafile != NULL || o->capath != NULL || o->cert != NULL ||
                           o->key != NULL || o->tls_version != 0 || o->alpn_count > 0 ||
                           o->tls_engine != NULL || o->server_name != NULL || o->insecure ||
                           o->keypass != NULL || o->keypass_file != NULL || o->keyform_given ||
                           o->pin_count > 0 || o->pkcs11_module != NULL;
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
        bool is_empty = false; /* an empty file is an empty password */
        int e = cli_read_line(o->keypass_file, o->keypass_buf, sizeof(o->keypass_buf), &is_empty);
        if (e != 0) {
            fprintf(err, "mqtls %s: cannot read --keypass-file %s: %s\n", cli_mode_name(mode),
                    o->keypass_file, strerror(e));
            return MQTLS_EXIT_FILE;
        }
        o->keypass = o->keypass_buf;
    }
    return CLI_PARSE_OK;
}

void cli_opts_free(cli_opts_t *o)
{
    cli_wipe(o->keypass_buf, sizeof(o->keypass_buf));
    cli_wipe(o->url_pass, sizeof(o->url_pass));
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
