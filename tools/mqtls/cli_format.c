/* -F, --json and -T for `mqtls sub`; see cli_format.h. Property values come from the
 * library's iterator (cli_props.c). */
#include "cli_format.h"

#include <string.h>
#include <time.h>

#include "cli_props.h"

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
    cli_buf_str(b, date);
    if (with_us) {
        cli_buf_fmt(b, ".%06ld", (long)(ts->tv_nsec / 1000));
    }
    cli_buf_str(b, zone);
}

void cli_format_json(cli_buf_t *b, const cli_msg_t *m)
{
    cli_buf_str(b, "{\"tst\":\"");
    iso_time(b, &m->when, true);
    cli_buf_str(b, "\",\"topic\":");
    cli_json_string(b, m->topic, m->topic_len);
    cli_buf_fmt(b, ",\"qos\":%u,\"retain\":%s,\"mid\":%u,\"payloadlen\":%zu,", m->qos,
                m->retain ? "true" : "false", m->mid, m->payload_len);
    if (cli_utf8_valid(m->payload, m->payload_len)) {
        cli_buf_str(b, "\"payload\":");
        cli_json_string(b, m->payload, m->payload_len);
    } else {
        /* not text: hex keeps every byte and stays valid JSON */
        cli_buf_str(b, "\"payload_hex\":\"");
        cli_buf_hex(b, m->payload, m->payload_len, false);
        cli_buf_str(b, "\"");
    }
    cli_buf_str(b, ",\"properties\":");
    cli_props_json(b, &m->props);
    cli_buf_str(b, "}");
}

/* -F letters of MQTT 5 properties (mosquitto_sub's): the value of that property, or nothing. */
static uint8_t format_prop(char letter)
{
    static const struct {
        char letter;
        uint8_t id;
    } props[] = {
        {'A', MQTLS_PROP_TOPIC_ALIAS},
        {'E', MQTLS_PROP_MESSAGE_EXPIRY_INTERVAL},
        {'F', MQTLS_PROP_PAYLOAD_FORMAT_INDICATOR},
        {'S', MQTLS_PROP_SUBSCRIPTION_IDENTIFIER},
        {'C', MQTLS_PROP_CONTENT_TYPE},
        {'R', MQTLS_PROP_RESPONSE_TOPIC},
        {'D', MQTLS_PROP_CORRELATION_DATA},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        if (props[i].letter == letter) {
            return props[i].id;
        }
    }
    return 0;
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

bool cli_format(cli_buf_t *b, const char *fmt, const cli_msg_t *m)
{
    cli_buf_t field = {0};
    bool json_ok = true;
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
                cli_buf_str(b, start);
                break;
            }
            field.len = 0;
            bool numeric = false;
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
                cli_buf_fmt(&field, "%u", m->qos);
                break;
            case 'r':
                cli_buf_fmt(&field, "%d", m->retain ? 1 : 0);
                break;
            case 'm':
                cli_buf_fmt(&field, "%u", m->mid);
                numeric = true;
                break;
            case 'l':
                cli_buf_fmt(&field, "%zu", m->payload_len);
                numeric = true;
                break;
            case 'x':
            case 'X':
                cli_buf_hex(&field, m->payload, m->payload_len, *p == 'X');
                numeric = true;
                break;
            case 'I':
                iso_time(&field, &m->when, false);
                break;
            case 'U':
                cli_buf_fmt(&field, "%lld.%09ld", (long long)m->when.tv_sec, (long)m->when.tv_nsec);
                break;
            case 'j':
            case 'J':
                json_ok = cli_mosq_json(&field, m, *p == 'J') && json_ok;
                break;
            case 'P':
                cli_props_user(&field, &m->props);
                break;
            default: {
                uint8_t id = format_prop(*p);
                if (id != 0) {
                    cli_props_value(&field, &m->props, id);
                    numeric = mqtls_prop_type(id) != MQTLS_PROP_TYPE_UTF8 &&
                              mqtls_prop_type(id) != MQTLS_PROP_TYPE_BINARY;
                } else {
                    /* unknown sequence: printed as is, like mosquitto */
                    cli_buf_add(&field, start, (size_t)(p - start + 1));
                }
                break;
            }
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
                cli_buf_fmt(b, "%09ld", (long)m->when.tv_nsec);
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
                return json_ok;
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
    return json_ok;
}

bool cli_render(cli_buf_t *b, const cli_opts_t *o, const cli_msg_t *m)
{
    bool ok = true;
    if (o->json) {
        cli_format_json(b, m);
    } else if (o->format != NULL) {
        ok = cli_format(b, o->format, m);
    } else if (o->verbose) {
        if (m->payload_len == 0 && o->no_newline) {
            return ok; /* mosquitto_sub: "topic (null)" only with its newline */
        }
        cli_buf_add(b, m->topic, m->topic_len);
        cli_buf_add(b, " ", 1);
        if (m->payload_len == 0) {
            /* mosquitto_sub -v prints "(null)" for a zero-length payload */
            cli_buf_str(b, "(null)");
        } else {
            cli_buf_add(b, m->payload, m->payload_len);
        }
    } else if (m->payload_len == 0) {
        return ok; /* mosquitto_sub prints nothing at all for an empty payload */
    } else {
        cli_buf_add(b, m->payload, m->payload_len);
    }
    if (!o->no_newline) {
        cli_buf_add(b, "\n", 1);
    }
    return ok;
}

bool cli_topic_filtered_out(const cli_opts_t *o, const uint8_t *topic, size_t len)
{
    for (size_t i = 0; i < o->filter_out_count; i++) {
        /* [MQTT-4.7] matching, as mosquitto_sub -T: a filter starting with a wildcard does not
         * match a "$SYS/..." topic [MQTT-4.7.2-1] */
        const char *f = o->filter_out[i];
        if (mqtls_topic_matches((const uint8_t *)f, strlen(f), topic, len)) {
            return true;
        }
    }
    return false;
}
