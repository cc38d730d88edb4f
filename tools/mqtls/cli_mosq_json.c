/* mosquitto_sub 2.0's -F %j and %J, byte for byte: the object its cJSON (Debian 12: 1.7.15)
 * prints, and for %J the payload parsed and printed again by cJSON's rules (a payload cJSON
 * would refuse is refused). tests/integration/cli/test_mosq_compat.sh compares with the real
 * mosquitto_sub. See cli_format.h. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_format.h"

#define NESTING_LIMIT 1000 /* CJSON_NESTING_LIMIT */

/* A C string as cJSON prints it (print_string_ptr): " \ \b \f \n \r \t escaped, other bytes
 * below 0x20 as \u00xx, DEL and everything else as is; it ends at a NUL, like the C string it
 * is (@p keep_nul: a NUL is escaped as \u0000 instead). */
static void put_string_nul(cli_buf_t *b, const uint8_t *s, size_t len, bool keep_nul)
{
    cli_json_string_ex(b, s, len, CLI_JSON_KEEP_DEL | (keep_nul ? 0u : CLI_JSON_STOP_AT_NUL));
}

static void put_string(cli_buf_t *b, const uint8_t *s, size_t len)
{
    put_string_nul(b, s, len, false);
}

/* cJSON's print_number: 15 significant digits if they give the number back, else 17. */
static void put_number(cli_buf_t *b, double d)
{
    char num[32];
    if (isnan(d) || isinf(d)) {
        cli_buf_str(b, "null");
        return;
    }
    (void)snprintf(num, sizeof num, "%1.15g", d);
    double back = strtod(num, NULL);
    double max = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= max * DBL_EPSILON)) {
        (void)snprintf(num, sizeof num, "%1.17g", d);
    }
    cli_buf_str(b, num);
}

/* --- the parser: cJSON_ParseWithOpts(payload, &end, true) with end == payload + len ------ */

typedef struct jp {
    const uint8_t *p;
    size_t len;
    size_t off;
    unsigned depth;
    cli_buf_t *out; /* the value printed again, unformatted */
} jp_t;

static void skip_ws(jp_t *j)
{
    while (j->off < j->len && j->p[j->off] <= 32) { /* cJSON: any byte up to the space */
        j->off++;
    }
}

static bool parse_value(jp_t *j);

static unsigned hex4(const uint8_t *h)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = h[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16u) {
            return 0; /* cJSON's parse_hex4: an invalid digit reads as 0 */
        }
        v = v << 4 | d;
    }
    return v;
}

/* A string: escapes decoded (\uXXXX and surrogate pairs to UTF-8); raw bytes kept. @p into
 * receives the decoded bytes (NULL: only check). */
static bool parse_string(jp_t *j, cli_buf_t *into)
{
    if (j->off >= j->len || j->p[j->off] != '"') {
        return false;
    }
    size_t end = j->off + 1;
    while (end < j->len && j->p[end] != '"') {
        if (j->p[end] == '\\') {
            if (end + 1 >= j->len) {
                return false;
            }
            end++;
        }
        end++;
    }
    if (end >= j->len) {
        return false; /* no closing quote */
    }
    size_t i = j->off + 1;
    while (i < end) {
        if (j->p[i] != '\\') {
            cli_buf_add(into, &j->p[i], 1);
            i++;
            continue;
        }
        uint8_t e = j->p[i + 1];
        const char *lit = e == 'b'    ? "\b"
                          : e == 'f'  ? "\f"
                          : e == 'n'  ? "\n"
                          : e == 'r'  ? "\r"
                          : e == 't'  ? "\t"
                          : e == '"'  ? "\""
                          : e == '\\' ? "\\"
                          : e == '/'  ? "/"
                                      : NULL;
        if (lit != NULL) {
            cli_buf_add(into, lit, 1);
            i += 2;
            continue;
        }
        if (e != 'u' || end - i < 6) {
            return false;
        }
        unsigned cp = hex4(&j->p[i + 2]);
        size_t seq = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - (i + 6) < 6 || j->p[i + 6] != '\\' || j->p[i + 7] != 'u') {
                return false;
            }
            unsigned lo = hex4(&j->p[i + 8]);
            if (lo < 0xDC00 || lo > 0xDFFF) {
                return false;
            }
            cp = 0x10000u + (((cp & 0x3FFu) << 10) | (lo & 0x3FFu));
            seq = 12;
        }
        uint8_t u8[4];
        size_t n = cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u;
        static const uint8_t first[] = {0x00, 0x00, 0xC0, 0xE0, 0xF0};
        for (size_t k = n - 1; k > 0; k--) {
            u8[k] = (uint8_t)(0x80u | (cp & 0x3Fu));
            cp >>= 6;
        }
        u8[0] = (uint8_t)(cp | first[n]);
        cli_buf_add(into, u8, n);
        i += seq;
    }
    j->off = end + 1;
    return true;
}

static bool parse_number(jp_t *j)
{
    char num[64];
    size_t n = 0;
    while (n < sizeof num - 1 && j->off + n < j->len &&
           strchr("0123456789+-eE.", j->p[j->off + n]) != NULL && j->p[j->off + n] != 0) {
        num[n] = (char)j->p[j->off + n];
        n++;
    }
    num[n] = '\0';
    char *after = NULL;
    double d = strtod(num, &after);
    if (after == num) {
        return false;
    }
    j->off += (size_t)(after - num);
    put_number(j->out, d);
    return true;
}

/* [ v, v ] and { "k": v, ... }: cJSON's parse_array / parse_object. */
static bool parse_list(jp_t *j, bool object)
{
    if (j->depth >= NESTING_LIMIT) {
        return false;
    }
    j->depth++;
    char close = object ? '}' : ']';
    cli_buf_add(j->out, object ? "{" : "[", 1);
    j->off++;
    skip_ws(j);
    if (j->off < j->len && j->p[j->off] == close) {
        j->off++;
        cli_buf_add(j->out, &close, 1);
        j->depth--;
        return true;
    }
    bool first = true;
    do {
        if (!first) {
            j->off++; /* the ',' */
            cli_buf_add(j->out, ",", 1);
        }
        first = false;
        skip_ws(j);
        if (object) {
            cli_buf_t key = {0};
            bool ok = parse_string(j, &key);
            if (ok) {
                put_string(j->out, (const uint8_t *)key.data, key.len);
            }
            cli_buf_free(&key);
            skip_ws(j);
            if (!ok || j->off >= j->len || j->p[j->off] != ':') {
                return false;
            }
            j->off++;
            cli_buf_add(j->out, ":", 1);
            skip_ws(j);
        }
        if (!parse_value(j)) {
            return false;
        }
        skip_ws(j);
    } while (j->off < j->len && j->p[j->off] == ',');
    if (j->off >= j->len || j->p[j->off] != close) {
        return false;
    }
    j->off++;
    cli_buf_add(j->out, &close, 1);
    j->depth--;
    return true;
}

static bool literal(jp_t *j, const char *word)
{
    size_t n = strlen(word);
    if (j->len - j->off < n || memcmp(j->p + j->off, word, n) != 0) {
        return false;
    }
    j->off += n;
    cli_buf_str(j->out, word);
    return true;
}

static bool parse_value(jp_t *j)
{
    if (j->off >= j->len) {
        return false;
    }
    uint8_t c = j->p[j->off];
    if (c == 'n' || c == 'f' || c == 't') {
        return literal(j, c == 'n' ? "null" : (c == 'f' ? "false" : "true"));
    }
    if (c == '"') {
        cli_buf_t s = {0};
        bool ok = parse_string(j, &s);
        if (ok) {
            put_string(j->out, (const uint8_t *)s.data, s.len);
        }
        cli_buf_free(&s);
        return ok;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return parse_number(j);
    }
    if (c == '[' || c == '{') {
        return parse_list(j, c == '{');
    }
    return false;
}

/* The payload as cJSON reads a NUL-terminated copy: a NUL anywhere ends it early, so the parse
 * cannot end at payload + len and mosquitto refuses it. */
static bool reprint_json(cli_buf_t *out, const uint8_t *p, size_t len)
{
    if (memchr(p, 0, len) != NULL) {
        return false;
    }
    jp_t j = {.p = p, .len = len, .off = 0, .depth = 0, .out = out};
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        j.off = 3; /* skip_utf8_bom */
    }
    skip_ws(&j);
    if (!parse_value(&j)) {
        return false;
    }
    skip_ws(&j);
    return j.off == len;
}

/* "properties": libmosquitto's names, in the packet's order; user properties gathered in one
 * "user-properties" object at the place of the first (keys may repeat). */
static void put_properties(cli_buf_t *b, const mqtls_properties_t *props)
{
    size_t cursor = 0;
    mqtls_property_t pr;
    bool first = true;
    bool users_open = false;
    cli_buf_str(b, ",\"properties\":{");
    cli_buf_t users = {0};
    size_t users_at = 0; /* where in b the user-properties object goes */
    while (mqtls_props_next(props, &cursor, &pr) == MQTLS_OK) {
        const char *name = NULL;
        bool is_string = false;
        switch (pr.id) {
        case MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR:
            name = "payload-format-indicator";
            break;
        case MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL:
            name = "message-expiry-interval";
            break;
        case MQTLS_PROP_CONTENT_TYPE:
            name = "content-type";
            is_string = true;
            break;
        case MQTLS_PROP_RESPONSE_TOPIC:
            name = "response-topic";
            is_string = true;
            break;
        case MQTLS_PROP_CORRELATION_DATA:
            name = "correlation-data";
            is_string = true;
            break;
        case MQTLS_PROP_SUBSCRIPTION_IDENTIFIER:
            name = "subscription-identifier";
            break;
        case MQTLS_PROP_TOPIC_ALIAS:
            name = "topic-alias";
            break;
        case MQTLS_PROP_USER_PROPERTY:
            if (!users_open) {
                users_open = true;
                cli_buf_str(b, first ? "" : ",");
                users_at = b->len;
                first = false;
            }
            cli_buf_str(&users, users.len > 0 ? "," : "");
            put_string(&users, pr.v.pair.key.data, pr.v.pair.key.len);
            cli_buf_add(&users, ":", 1);
            put_string(&users, pr.v.pair.value.data, pr.v.pair.value.len);
            continue;
        default:
            continue;
        }
        cli_buf_str(b, first ? "\"" : ",\"");
        first = false;
        cli_buf_str(b, name);
        cli_buf_str(b, "\":");
        if (is_string) {
            put_string(b, pr.v.bin.data, pr.v.bin.len);
        } else {
            put_number(b, (double)pr.v.u32);
        }
    }
    if (users_open) {
        /* insert {"user-properties":{...}} where the first user property was */
        cli_buf_t tail = {0};
        cli_buf_add(&tail, b->data + users_at, b->len - users_at);
        b->len = users_at;
        cli_buf_str(b, "\"user-properties\":{");
        cli_buf_add(b, users.data, users.len);
        cli_buf_str(b, "}");
        cli_buf_add(b, tail.data, tail.len);
        cli_buf_free(&tail);
    }
    cli_buf_free(&users);
    cli_buf_str(b, "}");
}

bool cli_mosq_json(cli_buf_t *b, const cli_msg_t *m, bool raw_payload)
{
    cli_buf_t o = {0};
    /* "tst": local time, microseconds, then a 'Z' before the UTC offset (sic, mosquitto 2.0) */
    struct tm tm;
    time_t t = m->when.tv_sec;
    char date[40] = "";
    char zone[8] = "";
    if (localtime_r(&t, &tm) != NULL) {
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
        strftime(zone, sizeof zone, "%z", &tm);
    }
    cli_buf_fmt(&o, "{\"tst\":\"%s.%06ldZ%s\",\"topic\":", date, (long)(m->when.tv_nsec / 1000),
                zone);
    put_string(&o, m->topic, m->topic_len);
    cli_buf_fmt(&o, ",\"qos\":%u,\"retain\":%d,\"payloadlen\":%zu", m->qos, m->retain ? 1 : 0,
                m->payload_len);
    if (m->qos > 0) {
        cli_buf_fmt(&o, ",\"mid\":%u", m->mid);
    }
    if (m->props.raw.len > 0 || m->props.count > 0) {
        put_properties(&o, &m->props);
    }
    cli_buf_str(&o, ",\"payload\":");
    bool ok = true;
    if (m->payload_len == 0) {
        cli_buf_str(&o, "null"); /* libmosquitto gives no payload buffer at all */
    } else if (raw_payload) {
        ok = reprint_json(&o, m->payload, m->payload_len);
    } else {
        /* cJSON_CreateString(payload) ends at a NUL byte and loses the rest; we escape it
         * (\u0000) instead: the one difference (docs/cli/sub.md) */
        put_string_nul(&o, m->payload, m->payload_len, true);
    }
    cli_buf_str(&o, "}");
    if (ok) {
        cli_buf_add(b, o.data, o.len);
    }
    cli_buf_free(&o);
    return ok;
}
