/* The command line of pub, sub, doctor and bench: one table (generated from opts/<option>.md),
 * one parser, one switch. See cli_opts.h. */
#include "cli_opts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_creds.h"
#include "commands.h"
#include "mqtls/client.h"
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
/* clang-format off */
#define X(id, s, l, a, lo, hi, m, al, hp, hs, hd, hb)                                              \
    {CLI_OPT_##id, s, l, a, lo, hi, m, al,                                                         \
     {[CLI_PUB] = hp, [CLI_SUB] = hs, [CLI_DOCTOR] = hd, [CLI_BENCH] = hb}},
    /* clang-format on */
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
    case CLI_BENCH:
        return "bench";
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
 * (default /mqtt, as brokers expect) and the topic comes from -t.
 * @return NULL, or why @p val is refused (a user name or password too long is refused, never
 * cut short: the broker would see another one). */
static const char *apply_url(cli_opts_t *o, const char *val)
{
    cli_url_t u;
    if (!cli_url_parse(val, CLI_URL_USERINFO | CLI_URL_WS, &u)) {
        return "is not mqtt[s]://[user[:pass]@]host[:port]/topic nor "
               "ws[s]://[user[:pass]@]host[:port][/path] (host up to 255 bytes)";
    }
    if (u.user != NULL && u.user_len >= sizeof(o->url_user)) {
        return "has a user name longer than 127 bytes (use -u)";
    }
    if (u.pass != NULL && u.pass_len >= sizeof(o->url_pass)) {
        return "has a password longer than 127 bytes (use -P)";
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
            return "gives one topic too many";
        }
        o->topics[o->topic_count++] = u.topic;
    }
    return NULL;
}

/* @p url with its password (if any) shown as ***: messages never print a secret. */
static void mask_url(const char *url, char *out, size_t cap)
{
    const char *scheme_end = strstr(url, "://");
    const char *auth = scheme_end != NULL ? scheme_end + 3 : url;
    const char *slash = strchr(auth, '/');
    const char *at = strchr(auth, '@');
    const char *colon =
        at != NULL && (slash == NULL || at < slash) ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL) {
        snprintf(out, cap, "%s", url);
        return;
    }
    snprintf(out, cap, "%.*s***%s", (int)(colon + 1 - url), url, at);
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

/* -x: 0 to 4294967294 seconds, or -1, 4294967295 or the infinity sign for "never" (mosquitto's
 * forms). */
static bool parse_expiry(const char *s, uint32_t *out)
{
    if (strcmp(s, "-1") == 0 || strcmp(s, "\xE2\x88\x9E") == 0) {
        *out = UINT32_MAX;
        return true;
    }
    unsigned long v = 0;
    if (!mqtls_cli_parse_ulong(s, 0, UINT32_MAX, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* "--name", "--name=VALUE" (long names and aliases) or "-x" (short names; a letter may mean
 * different options in different commands: -n is pub's --null-message and bench's --clients). */
static const cli_option_t *find_option(const char *arg, cli_mode_t mode, const char **inline_val)
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
    const cli_option_t *other = NULL;
    if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
        for (size_t i = 0; i < n; i++) {
            if (options[i].short_name == arg[1]) {
                if ((options[i].modes & CLI_BIT(mode)) != 0) {
                    return &options[i];
                }
                other = other != NULL ? other : &options[i];
            }
        }
    }
    return other; /* another command's: the caller says it is not for this one */
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

/* "unknown option '--topc' (did you mean --topic?)": the closest long name or alias of the
 * command's options (a single-dash "-topic" is matched as "--topic"). */
static int unknown_option(cli_mode_t mode, const char *arg, FILE *err)
{
    const char *names[2 * sizeof(options) / sizeof(options[0])];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if ((options[i].modes & CLI_BIT(mode)) != 0) {
            names[n++] = options[i].long_name;
            names[n++] = options[i].alias;
        }
    }
    const char *typed = arg[0] == '-' ? arg + (arg[1] == '-' ? 2 : 1) : arg;
    char word[96];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(typed, "="), typed);
    const char *close = strlen(word) > 1 ? cli_closest(word, names, n) : NULL;
    if (close != NULL) {
        return cli_usage_error(mode, err, true, "unknown option '%s' (did you mean --%s?)", arg,
                               close);
    }
    return cli_usage_error(mode, err, true, "unknown option '%s'", arg);
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
/* --pin: a pin is public (a hash of the server's public key), so the message may show it. */
static int apply_pin(cli_opts_t *o, const char *val, FILE *err)
{
    if (o->pin_count >= CLI_MAX_PINS) {
        return cli_usage_error(o->mode, err, true, "at most %d --pin", CLI_MAX_PINS);
    }
    if (is_pin(val)) {
        o->pins[o->pin_count++] = val;
        return CLI_PARSE_OK;
    }
    if (strncmp(val, "sha256//", 8) != 0) {
        return cli_usage_error(o->mode, err, true,
                               "--pin '%s' is not a pin: a pin is sha256// followed by the "
                               "base64 of the SHA-256 of the server's public key (only sha256 "
                               "pins exist)",
                               val);
    }
    size_t len = strlen(val) - 8;
    if (len != 44) {
        return cli_usage_error(o->mode, err, true,
                               "--pin '%s': after sha256// come the 44 base64 characters of a "
                               "SHA-256 (A-Z a-z 0-9 + /, the last one '='), not %zu characters",
                               val, len);
    }
    size_t at = 0; /* the first character that is not base64 (or not '=' at the end) */
    while (at < 43 &&
           (isalnum((unsigned char)val[8 + at]) || val[8 + at] == '+' || val[8 + at] == '/')) {
        at++;
    }
    return cli_usage_error(
        o->mode, err, true, "--pin '%s': character %zu after sha256// ('%c') is not %s", val,
        at + 1, val[8 + at],
        at == 43 ? "'=' (the base64 of 32 bytes ends in one '=')" : "base64 (A-Z a-z 0-9 + /)");
}

static int apply(cli_opts_t *o, cli_opt_id_t id, const char *val, FILE *err)
{
    cli_mode_t mode = o->mode;
    long n = 0;
    switch (id) {
    case CLI_OPT_HOST:
        if (val[0] == '\0' || strlen(val) >= sizeof(o->url_host)) {
            return APPLY_BAD_VALUE; /* a URI host is 255 bytes at most (mqtls_uri_t) */
        }
        o->host = val;
        break;
    case CLI_OPT_PORT:
        if (!cli_parse_long(val, 1, 65535, &n)) {
            return APPLY_BAD_VALUE;
        }
        o->port = (uint16_t)n;
        break;
    case CLI_OPT_URL: {
        const char *why = apply_url(o, val);
        if (why != NULL) {
            char shown[512];
            mask_url(val, shown, sizeof(shown));
            return cli_usage_error(mode, err, false, "-L '%s' %s", shown, why);
        }
        break;
    }
    case CLI_OPT_TOPIC:
    case CLI_OPT_FILTER_OUT:
    case CLI_OPT_UNSUBSCRIBE: {
        bool is_t = id == CLI_OPT_TOPIC;
        bool is_u = id == CLI_OPT_UNSUBSCRIBE;
        size_t *cnt = is_t ? &o->topic_count : (is_u ? &o->unsub_count : &o->filter_out_count);
        const char **arr = is_t ? o->topics : (is_u ? o->unsub : o->filter_out);
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
        o->qos_given = o->qos_given || id == CLI_OPT_QOS;
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
    case CLI_OPT_PERSIST:
        if (val[0] == '\0') {
            return APPLY_BAD_VALUE;
        }
        o->persist_dir = val;
        break;
    case CLI_OPT_PERSIST_SYNC:
        if (strcmp(val, "every") == 0) {
            o->persist_sync = MQTLS_PERSIST_SYNC_EVERY;
        } else if (strcmp(val, "batch") == 0) {
            o->persist_sync = MQTLS_PERSIST_SYNC_BATCH;
        } else if (strcmp(val, "none") == 0) {
            o->persist_sync = MQTLS_PERSIST_SYNC_NONE;
        } else {
            return APPLY_BAD_VALUE;
        }
        o->persist_sync_given = true;
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
    case CLI_OPT_TLS_MAX_FRAGMENT:
        if (strcmp(val, "off") == 0) {
            o->tls_max_fragment = 0;
        } else if (cli_parse_long(val, 512, 4096, &n) &&
                   (n == 512 || n == 1024 || n == 2048 || n == 4096)) {
            o->tls_max_fragment = (uint16_t)n;
        } else {
            return APPLY_BAD_VALUE;
        }
        o->tls_max_fragment_given = true;
        break;
    case CLI_OPT_CIPHERS:
        if (val[0] == '\0') {
            return APPLY_BAD_VALUE;
        }
        o->ciphers = val; /* the names are checked against the linked mbedTLS at connect */
        break;
    case CLI_OPT_TLS_ALPN:
        if (o->alpn_count >= CLI_MAX_ALPN || val[0] == '\0' || strlen(val) > 255) {
            return APPLY_BAD_VALUE;
        }
        o->alpn[o->alpn_count++] = val;
        break;
    case CLI_OPT_PIN:
        return apply_pin(o, val, err);
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
    case CLI_OPT_EXIT_AFTER_SUBSCRIBE:
        o->exit_after_sub = true;
        break;
    case CLI_OPT_SESSION_EXPIRY:
        if (!parse_expiry(val, &o->session_expiry_s)) {
            return APPLY_BAD_VALUE;
        }
        o->session_expiry_given = true;
        break;
    case CLI_OPT_BIND_ADDRESS:
        if (val[0] == '\0') {
            return APPLY_BAD_VALUE;
        }
        o->bind_address = val;
        break;
    case CLI_OPT_MAX_INFLIGHT:
        if (!cli_parse_long(val, 1, 65535, &o->max_inflight)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_TLS_USE_OS_CERTS:
        o->tls_use_os_certs = true;
        break;
    case CLI_OPT_HELP:
        break; /* the caller prints the help */
    case CLI_OPT_UNIX:
        if (val[0] != '/' || strlen(val) > 107) {
            return APPLY_BAD_VALUE; /* an absolute file name that fits sun_path */
        }
        o->unix_path = val;
        break;
    case CLI_OPT_PROXY:
        if (strncmp(val, "socks5h://", 10) != 0 && strncmp(val, "socks5://", 9) != 0 &&
            strncmp(val, "http://", 7) != 0) {
            return APPLY_BAD_VALUE;
        }
        o->proxy = val;
        break;
    case CLI_OPT_PSK:
        if (!cli_parse_hex(val, o->psk, sizeof(o->psk), &o->psk_len) || o->psk_len == 0) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_PSK_IDENTITY:
        o->psk_identity = val;
        break;
    case CLI_OPT_FLEET:
        o->fleet = val;
        break;
    case CLI_OPT_CLIENTS:
        if (!cli_parse_long(val, 1, 1000000, &o->clients)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_RATE:
    case CLI_OPT_HOLD:
    case CLI_OPT_MSG_RATE:
    case CLI_OPT_TOTAL_RATE:
    case CLI_OPT_DURATION: {
        double *d = id == CLI_OPT_RATE         ? &o->rate
                    : id == CLI_OPT_HOLD       ? &o->hold_s
                    : id == CLI_OPT_MSG_RATE   ? &o->msg_rate
                    : id == CLI_OPT_TOTAL_RATE ? &o->total_rate
                                               : &o->duration_s;
        double min = id == CLI_OPT_MSG_RATE || id == CLI_OPT_TOTAL_RATE ? 0.001 : 0.0;
        if (!parse_double(val, min, 86400.0 * 7, d)) {
            return APPLY_BAD_VALUE;
        }
        break;
    }
    case CLI_OPT_THREADS:
        if (!cli_parse_long(val, 1, 256, &o->threads)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_MAX_PENDING:
        if (!cli_parse_long(val, 0, 1000000, &o->max_pending)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_BROKER:
        if (o->broker_count >= CLI_MAX_BROKERS) {
            return cli_usage_error(mode, err, false, "at most %d --broker", CLI_MAX_BROKERS);
        }
        o->brokers[o->broker_count++] = val;
        break;
    case CLI_OPT_PUBLISHERS:
    case CLI_OPT_SUBSCRIBERS:
        if (!cli_parse_long(val, 0, 1000000,
                            id == CLI_OPT_PUBLISHERS ? &o->publishers : &o->subscribers)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_QOS_MIX:
        o->qos_mix = val; /* checked by cmd_bench.c */
        break;
    case CLI_OPT_SIZE:
        if (!cli_parse_long(val, 16, 1048576, &o->size)) {
            return APPLY_BAD_VALUE;
        }
        break;
    case CLI_OPT_PLOT:
        o->plot = val;
        break;
    case CLI_OPT_BROKER_PID:
        if (!cli_parse_long(val, 1, INT_MAX, &o->broker_pid)) {
            return APPLY_BAD_VALUE;
        }
        break;
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
    o->hold_s = -1.0;
    o->duration_s = -1.0;
    o->publishers = -1;
    o->subscribers = -1;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        const cli_option_t *opt = find_option(arg, mode, &val);
        if (opt == NULL && mode == CLI_DOCTOR && arg[0] != '-') {
            /* doctor's one argument: the broker */
            if (o->broker != NULL) {
                return cli_usage_error(mode, err, true, "more than one broker given ('%s')", arg);
            }
            o->broker = arg;
            continue;
        }
        if (opt == NULL && mode == CLI_BENCH && arg[0] != '-') {
            /* bench's one argument: the scenario */
            if (o->scenario != NULL) {
                return cli_usage_error(mode, err, true, "more than one scenario given ('%s')", arg);
            }
            o->scenario = arg;
            continue;
        }
        if (opt == NULL) {
            return unknown_option(mode, arg, err);
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
    if (mode == CLI_DOCTOR || mode == CLI_BENCH) {
        return CLI_PARSE_OK; /* doctor and bench check their options as a whole themselves */
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
    for (size_t i = 0; i <= o->topic_count; i++) {
        /* empty, broken UTF-8, a misplaced + or #: refused here, not after connecting */
        bool will = i == o->topic_count;
        const char *topic = will ? o->will_topic : o->topics[i];
        if (topic == NULL) {
            continue;
        }
        size_t len = strlen(topic);
        mqtls_status_t st = mode == CLI_PUB || will
                                ? mqtls_topic_name_check((const uint8_t *)topic, len)
                                : mqtls_topic_filter_check((const uint8_t *)topic, len);
        if (st == MQTLS_OK) {
            continue;
        }
        const char *what = will ? "--will-topic" : "topic";
        if (!cli_utf8_valid((const uint8_t *)topic, len)) {
            return cli_usage_error(mode, err, false, "%s of %zu bytes: %s (%s)", what, len,
                                   mqtls_status_text(st), mqtls_status_name(st));
        }
        return cli_usage_error(mode, err, false, "%s '%s': %s (%s)", what, topic,
                               mqtls_status_text(st), mqtls_status_name(st));
    }
    if (o->id != NULL && o->id_prefix != NULL) {
        return cli_usage_error(mode, err, false, "-i and -I cannot be used together");
    }
    if (o->persist_sync_given && o->persist_dir == NULL) {
        return cli_usage_error(mode, err, false, "--persist-sync needs --persist DIR");
    }
    if (o->persist_dir != NULL) {
        if (o->id_prefix != NULL) {
            return cli_usage_error(mode, err, false,
                                   "--persist and -I cannot be used together: the id DIR keeps "
                                   "must be the same at every run (use -i, or neither)");
        }
        o->clean_session = false; /* persistence needs the session the broker keeps */
    }
    if (!o->clean_session && (o->id == NULL || o->id[0] == '\0') && o->persist_dir == NULL) {
        return cli_usage_error(mode, err, false,
                               "-c needs a fixed client id (-i ID): a generated one never "
                               "finds its session again");
    }
    if (o->session_expiry_given && o->session_expiry_s == UINT32_MAX &&
        (o->id == NULL || o->id[0] == '\0')) {
        return cli_usage_error(mode, err, false,
                               "-x for a session that never expires needs a fixed client id "
                               "(-i ID), as with mosquitto");
    }
    if (o->id != NULL && o->id[0] == '\0' && o->version == MQTLS_V31) {
        return cli_usage_error(mode, err, false,
                               "-i '': MQTT 3.1 needs a client id of 1 to 23 characters");
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
    if ((o->psk_len > 0) != (o->psk_identity != NULL)) {
        return cli_usage_error(mode, err, false, "--psk and --psk-identity go together");
    }
    if (o->psk_len > 0 &&
        (o->cafile != NULL || o->capath != NULL || o->cert != NULL || o->key != NULL)) {
        /* mosquitto_pub: "Only one of --psk or --cafile/--capath may be used at once." */
        return cli_usage_error(mode, err, false,
                               "--psk cannot be combined with --cafile, --capath, --cert or "
                               "--key (the pre-shared key authenticates both sides)");
    }
    if (o->psk_len > 0 && o->pin_count > 0) {
        return cli_usage_error(mode, err, false,
                               "--psk cannot be combined with --pin (a PSK handshake has no "
                               "server certificate whose key could be pinned)");
    }
    if (o->unix_path != NULL && (o->url_ws || o->proxy != NULL)) {
        return cli_usage_error(mode, err, false,
                               "--unix cannot be combined with -L ws[s]:// or --proxy");
    }
    o->tls_explicit_flag = o->cafile != NULL || o->capath != NULL || o->cert != NULL ||
                           o->key != NULL || o->tls_version != 0 || o->alpn_count > 0 ||
                           o->ciphers != NULL || o->tls_engine != NULL || o->server_name != NULL ||
                           o->tls_max_fragment_given || o->insecure || o->keypass != NULL ||
                           o->keypass_file != NULL || o->keyform_given || o->tls_use_os_certs ||
                           o->psk_len > 0 || o->pin_count > 0 || o->pkcs11_module != NULL;
    o->tls = o->url_tls || o->tls_explicit_flag;
    if (o->tls_use_os_certs && o->cafile != NULL && o->capath != NULL) {
        return cli_usage_error(mode, err, false,
                               "--tls-use-os-certs with both --cafile and --capath: give at "
                               "most two of the three");
    }
    cli_creds_system_ca(o);
    return cli_read_keypass(o, err);
}

int cli_read_keypass(cli_opts_t *o, FILE *err)
{
    if (o->keypass_file == NULL) {
        return CLI_PARSE_OK;
    }
    bool is_empty = false; /* an empty file is an empty password */
    mqtls_error_t e;
    mqtls_error_init(&e);
    mqtls_status_t st =
        cli_read_line(o->keypass_file, o->keypass_buf, sizeof(o->keypass_buf), &is_empty, &e);
    if (st != MQTLS_OK) {
        /* never an empty password instead: exit 4 (docs/cli/exit-codes.md) */
        fprintf(err, "mqtls %s: cannot read --keypass-file %s: %s (%s)\n", cli_mode_name(o->mode),
                o->keypass_file, cli_reason_after(e.detail, o->keypass_file),
                mqtls_status_name(st));
        return MQTLS_EXIT_FILE;
    }
    o->keypass = o->keypass_buf;
    return CLI_PARSE_OK;
}

void cli_opts_free(cli_opts_t *o)
{
    cli_wipe(o->keypass_buf, sizeof(o->keypass_buf));
    cli_wipe(o->url_pass, sizeof(o->url_pass));
    cli_wipe(o->psk, sizeof(o->psk));
}

void cli_trust(const cli_opts_t *o, const char **ca_file, const char **ca_path)
{
    *ca_file = o->cafile;
    *ca_path = o->capath;
    if (!o->system_ca) {
        return;
    }
    /* The system store: its bundle file where --cafile left the file free, else its hashed
     * directory where --capath left the directory free (finish_pubsub() refuses all three). */
    const char *sys_dir = "/etc/ssl/certs";
    if (*ca_file == NULL && o->system_ca_file != NULL) {
        *ca_file = o->system_ca_file;
    } else if (*ca_path == NULL) {
        *ca_path = sys_dir;
    }
}

const char *cli_host(const cli_opts_t *o)
{
    if (o->unix_path != NULL) {
        return o->unix_path;
    }
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
    if (o->unix_path != NULL) {
        return 0;
    }
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
    if (o->unix_path != NULL) {
        int n = snprintf(buf, cap, "unix://%s", o->unix_path); /* unix:///path */
        return n > 0 && (size_t)n < cap;
    }
    const char *host = cli_host(o);
    bool v6 = strchr(host, ':') != NULL;
    const char *scheme = o->url_ws ? (o->tls ? "wss" : "ws") : (o->tls ? "mqtts" : "mqtt");
    const char *path = o->url_ws ? (o->url_path[0] != '\0' ? o->url_path : "/mqtt") : "";
    int n = snprintf(buf, cap, "%s://%s%s%s:%u%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
                     cli_port(o), path);
    return n > 0 && (size_t)n < cap;
}
