/* MQTT 5 properties in the CLI (-D, -F, --json) on the library's table; see cli_props.h. */
#include "cli_props.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Which -D CMD may set which property: the spec's placement (mqtls_prop_allowed) minus what the
 * client API carries by itself or not at all (mosquitto's -D, minus DISCONNECT/AUTH properties
 * and enhanced authentication). */
static bool cli_may_set(uint8_t id, int cmd)
{
    switch (id) {
    case MQTLS_PROP_AUTHENTICATION_METHOD:
    case MQTLS_PROP_AUTHENTICATION_DATA:
        return false; /* no enhanced authentication */
    case MQTLS_PROP_TOPIC_ALIAS:
        return false; /* the client manages topic aliases */
    case MQTLS_PROP_SUBSCRIPTION_IDENTIFIER:
        return cmd == MQTLS_SUBSCRIBE; /* in PUBLISH only from the server [MQTT-3.3.4-6] */
    default:
        break;
    }
    if (cmd == CLI_PROP_CMD_WILL) {
        return mqtls_prop_allowed(id, MQTLS_CONNECT, true);
    }
    return mqtls_prop_allowed(id, (mqtls_packet_type_t)cmd, false);
}

const char *cli_prop_name(uint8_t id, char buf[CLI_PROP_NAME_MAX])
{
    const char *spec = mqtls_prop_name(id); /* "Receive Maximum" */
    if (spec == NULL) {
        spec = "unknown property";
    }
    size_t i = 0;
    for (; spec[i] != '\0' && i + 1 < CLI_PROP_NAME_MAX; i++) {
        buf[i] = spec[i] == ' ' ? '-' : (char)tolower((unsigned char)spec[i]);
    }
    buf[i] = '\0';
    return buf;
}

bool cli_prop_lookup(const char *name, uint8_t *id, mqtls_prop_type_t *type)
{
    char buf[CLI_PROP_NAME_MAX];
    for (unsigned i = 1; i <= UINT8_MAX; i++) {
        if (mqtls_prop_name((uint8_t)i) != NULL &&
            strcmp(cli_prop_name((uint8_t)i, buf), name) == 0) {
            *id = (uint8_t)i;
            *type = mqtls_prop_type((uint8_t)i);
            return true;
        }
    }
    return false;
}

static int prop_cmd_from_name(const char *s)
{
    static const struct {
        const char *name;
        int cmd;
    } cmds[] = {
        {"connect", MQTLS_CONNECT},
        {"publish", MQTLS_PUBLISH},
        {"subscribe", MQTLS_SUBSCRIBE},
        {"will", CLI_PROP_CMD_WILL},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcasecmp(cmds[i].name, s) == 0) {
            return cmds[i].cmd;
        }
    }
    return -1;
}

/* The value word of a one-value property, by its wire type. */
static bool parse_value(mqtls_prop_type_t type, const char *v, mqtls_property_t *p)
{
    long n = 0;
    switch (type) {
    case MQTLS_PROP_TYPE_BYTE:
        if (!cli_parse_long(v, 0, 255, &n)) {
            return false;
        }
        break;
    case MQTLS_PROP_TYPE_U16:
        if (!cli_parse_long(v, 0, 65535, &n)) {
            return false;
        }
        break;
    case MQTLS_PROP_TYPE_U32:
        if (!cli_parse_long(v, 0, (long)UINT32_MAX, &n)) {
            return false;
        }
        break;
    case MQTLS_PROP_TYPE_VARINT:
        /* [MQTT-3.8.2.1.2] Subscription Identifier 1 .. 268,435,455 */
        if (!cli_parse_long(v, 1, 268435455L, &n)) {
            return false;
        }
        break;
    default:
        p->v.bin.data = (const uint8_t *)v;
        p->v.bin.len = strlen(v);
        return true;
    }
    p->v.u32 = (uint32_t)n;
    return true;
}

int cli_prop_parse(const char *cmd, bool is_pub, char *const *words, int count, cli_prop_t *out,
                   FILE *err)
{
    if (count < 3) {
        fprintf(err,
                "mqtls %s: -D needs CMD NAME VALUE (e.g. -D publish content-type text/plain)\n",
                cmd);
        return 0;
    }
    const char *cmd_s = words[1];
    const char *name = words[2];
    int pcmd = prop_cmd_from_name(cmd_s);
    if (pcmd < 0) {
        fprintf(err,
                "mqtls %s: -D %s: unknown or unsupported command (connect, publish, subscribe, "
                "will; mqtls %s sends no UNSUBSCRIBE, DISCONNECT or AUTH properties)\n",
                cmd, cmd_s, cmd);
        return 0;
    }
    /* never accept a property that this command would not send */
    if ((pcmd == MQTLS_PUBLISH && !is_pub) || (pcmd == MQTLS_SUBSCRIBE && is_pub)) {
        fprintf(err, "mqtls %s: -D %s: 'mqtls %s' sends no %s packet\n", cmd, cmd_s, cmd,
                pcmd == MQTLS_PUBLISH ? "PUBLISH" : "SUBSCRIBE");
        return 0;
    }
    uint8_t id = 0;
    mqtls_prop_type_t type = MQTLS_PROP_TYPE_INVALID;
    if (!cli_prop_lookup(name, &id, &type)) {
        fprintf(err, "mqtls %s: -D %s %s: unknown property name\n", cmd, cmd_s, name);
        return 0;
    }
    if (!cli_may_set(id, pcmd)) {
        fprintf(err, "mqtls %s: -D %s %s: property not allowed (or not supported) in %s\n", cmd,
                cmd_s, name, cmd_s);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    out->cmd = pcmd;
    out->prop.id = id;
    if (type == MQTLS_PROP_TYPE_UTF8_PAIR) {
        if (count < 5) {
            fprintf(err, "mqtls %s: -D %s user-property needs KEY VALUE\n", cmd, cmd_s);
            return 0;
        }
        out->prop.v.pair.key.data = (const uint8_t *)words[3];
        out->prop.v.pair.key.len = strlen(words[3]);
        out->prop.v.pair.value.data = (const uint8_t *)words[4];
        out->prop.v.pair.value.len = strlen(words[4]);
        return 4;
    }
    if (count < 4) {
        fprintf(err, "mqtls %s: -D %s %s needs a VALUE\n", cmd, cmd_s, name);
        return 0;
    }
    if (!parse_value(type, words[3], &out->prop)) {
        fprintf(err, "mqtls %s: -D %s %s: '%s' is not a valid number for this property\n", cmd,
                cmd_s, name, words[3]);
        return 0;
    }
    return 3;
}

/* ---------------------------------------------------------------------------------------- */
/* Printing */

static bool props_next(const mqtls_properties_t *props, size_t *cursor, mqtls_property_t *out)
{
    return mqtls_props_next(props, cursor, out) == MQTLS_OK;
}

void cli_props_json(cli_buf_t *b, const mqtls_properties_t *props)
{
    size_t cur = 0;
    mqtls_property_t p;
    bool first = true;
    bool any_user = false;
    char name[CLI_PROP_NAME_MAX];
    cli_buf_str(b, "{");
    while (props_next(props, &cur, &p)) {
        mqtls_prop_type_t type = mqtls_prop_type(p.id);
        if (type == MQTLS_PROP_TYPE_INVALID || type == MQTLS_PROP_TYPE_UTF8_PAIR) {
            any_user = any_user || type == MQTLS_PROP_TYPE_UTF8_PAIR;
            continue;
        }
        if (!first) {
            cli_buf_str(b, ",");
        }
        first = false;
        cli_prop_name(p.id, name);
        cli_json_string(b, (const uint8_t *)name, strlen(name));
        cli_buf_str(b, ":");
        if (type == MQTLS_PROP_TYPE_UTF8 ||
            (type == MQTLS_PROP_TYPE_BINARY && cli_utf8_valid(p.v.bin.data, p.v.bin.len))) {
            cli_json_string(b, p.v.bin.data, p.v.bin.len);
        } else if (type == MQTLS_PROP_TYPE_BINARY) {
            cli_buf_str(b, "{\"hex\":\"");
            cli_buf_hex(b, p.v.bin.data, p.v.bin.len, false);
            cli_buf_str(b, "\"}");
        } else {
            cli_buf_fmt(b, "%lu", (unsigned long)p.v.u32);
        }
    }
    if (any_user) {
        /* user properties are an ordered list of pairs: keys may repeat [MQTT-3.3.2-18] */
        if (!first) {
            cli_buf_str(b, ",");
        }
        cli_buf_str(b, "\"user-property\":[");
        cur = 0;
        bool first_pair = true;
        while (props_next(props, &cur, &p)) {
            if (p.id != MQTLS_PROP_USER_PROPERTY) {
                continue;
            }
            cli_buf_str(b, first_pair ? "[" : ",[");
            first_pair = false;
            cli_json_string(b, p.v.pair.key.data, p.v.pair.key.len);
            cli_buf_str(b, ",");
            cli_json_string(b, p.v.pair.value.data, p.v.pair.value.len);
            cli_buf_str(b, "]");
        }
        cli_buf_str(b, "]");
    }
    cli_buf_str(b, "}");
}

void cli_props_user(cli_buf_t *b, const mqtls_properties_t *props)
{
    size_t cur = 0;
    mqtls_property_t p;
    bool first = true;
    while (props_next(props, &cur, &p)) {
        if (p.id != MQTLS_PROP_USER_PROPERTY) {
            continue;
        }
        if (!first) {
            cli_buf_add(b, " ", 1);
        }
        first = false;
        cli_buf_add(b, p.v.pair.key.data, p.v.pair.key.len);
        cli_buf_add(b, ":", 1);
        cli_buf_add(b, p.v.pair.value.data, p.v.pair.value.len);
    }
}

void cli_props_value(cli_buf_t *b, const mqtls_properties_t *props, uint8_t id)
{
    mqtls_property_t p;
    if (!mqtls_props_find(props, id, &p)) {
        return;
    }
    switch (mqtls_prop_type(id)) {
    case MQTLS_PROP_TYPE_UTF8:
    case MQTLS_PROP_TYPE_BINARY:
        cli_buf_add(b, p.v.bin.data, p.v.bin.len);
        break;
    case MQTLS_PROP_TYPE_UTF8_PAIR:
        break;
    default:
        cli_buf_fmt(b, "%lu", (unsigned long)p.v.u32);
        break;
    }
}
