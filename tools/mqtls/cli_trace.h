/* -d's protocol trace for `mqtls pub` and `mqtls sub`: mosquitto_pub/sub's debug lines, from the
 * library's packet observer (mqtls_client_cfg_t::trace_fn), plus the TLS handshake facts; and
 * what the commands need from the packets themselves (the broker's Reason Strings, inbound
 * QoS 2 flows still open). Internal to the CLI; not installed. */
#ifndef MQTLS_TOOLS_CLI_TRACE_H
#define MQTLS_TOOLS_CLI_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mqtls/client.h"

typedef struct cli_trace {
    FILE *out;                   /* where -d's lines go (stderr); NULL = trace nothing */
    bool tls;                    /* print the handshake facts before CONNECT */
    unsigned long qos0_mid;      /* mosquitto numbers QoS 0 messages too: m1, m2, ... */
    long qos2_open;              /* inbound QoS 2 PUBLISHes whose PUBCOMP is not written yet */
    uint8_t qos2_ids[65536 / 8]; /* ... by packet id */
    char reason[256];            /* the Reason String of the last packet received ("" none) */
    char label[272];             /* the client id as mosquitto prints it: "(null)" when empty */
} cli_trace_t;

/* The observer: give it as trace_fn with a cli_trace_t as trace_ctx. */
void cli_trace_packet(mqtls_client_t *c, mqtls_trace_dir_t dir, const mqtls_packet_t *p, void *ctx);
/* The handshake facts of @p f: version, suite, server name, time; the certificates the server
 * presented (subject, issuer, key, validity). Lines start with "mqtls: debug: ". */
void cli_trace_tls(FILE *out, const mqtls_tls_facts_t *f);

#endif /* MQTLS_TOOLS_CLI_TRACE_H */
