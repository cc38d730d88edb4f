/* MQTT 5 properties in the CLI: -D parsing and printing (-F %P %C ..., --json), on the
 * library's property table and iterator (mqtls_prop_name/_type/_allowed, mqtls_props_next).
 * The CLI adds only its names (the spec's, lower-case, '-' for ' ') and which properties -D
 * may set. Internal to the CLI; not installed. */
#ifndef MQTLS_TOOLS_CLI_PROPS_H
#define MQTLS_TOOLS_CLI_PROPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_util.h"
#include "mqtls/packet.h"

/* Pseudo packet type for -D will ... (will properties live in CONNECT). */
#define CLI_PROP_CMD_WILL 100

#define CLI_MAX_PROPS 32

/* One -D property: which packet it goes in, and the value (strings borrow argv). */
typedef struct cli_prop {
    int cmd; /* MQTLS_CONNECT, MQTLS_PUBLISH, MQTLS_SUBSCRIBE or CLI_PROP_CMD_WILL */
    mqtls_property_t prop;
} cli_prop_t;

/* Room for the longest name, "subscription-identifier-available". */
#define CLI_PROP_NAME_MAX 48

/* Property name ("user-property") -> id and wire type; false if unknown. */
bool cli_prop_lookup(const char *name, uint8_t *id, mqtls_prop_type_t *type);
/* The CLI name of @p id ("user-property") in @p buf; "unknown-property" if the library does
 * not know it. Returns @p buf. */
const char *cli_prop_name(uint8_t id, char buf[CLI_PROP_NAME_MAX]);

/* Parse the words of one -D: CMD NAME VALUE or CMD user-property KEY VALUE. @p words[0] is the
 * option itself ("-D"); @p count words are there in all. @p is_pub: the command sends PUBLISH
 * (pub) rather than SUBSCRIBE (sub). Errors go to @p err as "mqtls <cmd>: ...".
 * @return the words used after "-D" (3 or 4) with *out set, or 0 on a usage error. */
int cli_prop_parse(const char *cmd, bool is_pub, char *const *words, int count, cli_prop_t *out,
                   FILE *err);

/* --json: the properties as one JSON object; user properties as "user-property":[[k,v],..]. */
void cli_props_json(cli_buf_t *b, const mqtls_properties_t *props);
/* -F %P: user properties as "k:v", space separated. */
void cli_props_user(cli_buf_t *b, const mqtls_properties_t *props);
/* -F %A %E %F %S (numbers) and %C %R %D (bytes): the value of property @p id, or nothing. */
void cli_props_value(cli_buf_t *b, const mqtls_properties_t *props, uint8_t id);

#endif /* MQTLS_TOOLS_CLI_PROPS_H */
