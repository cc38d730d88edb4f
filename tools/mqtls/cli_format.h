/* What `mqtls sub` prints for a message: the payload, -v, -F (mosquitto_sub's %-formats) or
 * --json; and which messages -T hides. Pure: no socket. Internal to the CLI; not installed. */
#ifndef MQTLS_TOOLS_CLI_FORMAT_H
#define MQTLS_TOOLS_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cli_opts.h"
#include "cli_util.h"
#include "mqtls/packet.h"

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

/* -F: format @p m by mosquitto_sub's rules (see opts/format.md). Appends to @p b.
 * @return false when a %J payload is not JSON (that field printed nothing; the caller says
 *         "Error: Message payload is not valid JSON on topic T." as mosquitto_sub). */
bool cli_format(cli_buf_t *b, const char *fmt, const cli_msg_t *m);
/* mosquitto_sub 2.0's %j (@p raw_payload false) or %J object (cli_mosq_json.c), appended to
 * @p b. @return false (nothing appended) when %J's payload is not JSON by cJSON's rules. */
bool cli_mosq_json(cli_buf_t *b, const cli_msg_t *m, bool raw_payload);
/* --json: one JSON object, no newline. */
void cli_format_json(cli_buf_t *b, const cli_msg_t *m);
/* The whole output of one message for @p o (payload, -v, -F, --json; newline unless -N).
 * @return as cli_format(). */
bool cli_render(cli_buf_t *b, const cli_opts_t *o, const cli_msg_t *m);
/* Does @p topic match one of -T (mqtls_topic_matches(), as mosquitto_sub)? */
bool cli_topic_filtered_out(const cli_opts_t *o, const uint8_t *topic, size_t len);

#endif /* MQTLS_TOOLS_CLI_FORMAT_H */
