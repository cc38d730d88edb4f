/* bench_codec: encode and decode cost of typical packets (src/packet).
 *
 *   bench_codec                      every case and op, timed: ns/packet
 *   bench_codec CASE OP ITERATIONS   exactly ITERATIONS of one case/op, for callgrind
 *                                    (bench/codec.sh runs N and 2N and subtracts)
 * CASE: publish64 publish1k publish64k publish64_v5 subscribe10 connect_v5
 * OP:   encode decode header (header = mqtls_packet_encode_publish_header, PUBLISH only) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtls/packet.h"

#define S(lit)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(lit), sizeof(lit) - 1u                                                   \
    }

static uint8_t g_payload[65536];
static uint8_t g_wire[70000]; /* the encoded packet, input of the decode op */
static uint8_t g_out[70000];  /* encode destination */
static size_t g_wire_len;

typedef struct bench_case {
    const char *name;
    mqtls_version_t version;
    mqtls_packet_t pkt;
} bench_case_t;

static const mqtls_topic_filter_t FILTERS10[] = {
    {S("sensors/+/temperature"), 1}, {S("sensors/+/humidity"), 1},  {S("alerts/#"), 2},
    {S("cmd/device-0001/set"), 1},   {S("cmd/device-0001/get"), 1}, {S("ota/device-0001/+"), 1},
    {S("$SYS/broker/uptime"), 0},    {S("fleet/eu/+/status"), 0},   {S("fleet/us/+/status"), 0},
    {S("logs/device-0001"), 0},
};

static const mqtls_property_t CONNECT_PROPS[] = {
    {.id = MQTLS_PROP_SESSION_EXPIRY_INTERVAL, .v.u32 = 3600},
    {.id = MQTLS_PROP_RECEIVE_MAXIMUM, .v.u32 = 64},
    {.id = MQTLS_PROP_MAXIMUM_PACKET_SIZE, .v.u32 = 1048576},
    {.id = MQTLS_PROP_TOPIC_ALIAS_MAXIMUM, .v.u32 = 16},
    {.id = MQTLS_PROP_REQUEST_PROBLEM_INFORMATION, .v.u32 = 1},
    {.id = MQTLS_PROP_USER_PROPERTY, .v.pair = {S("fw"), S("1.4.2")}},
};
static const mqtls_property_t WILL_PROPS[] = {
    {.id = MQTLS_PROP_WILL_DELAY_INTERVAL, .v.u32 = 30},
    {.id = MQTLS_PROP_CONTENT_TYPE, .v.bin = S("text/plain")},
};

static bench_case_t g_cases[] = {
    {"publish64",
     MQTLS_V311,
     {.type = MQTLS_PUBLISH,
      .u.publish =
          {.qos = 1, .topic = S("sensors/t1"), .packet_id = 42, .payload = {g_payload, 64}}}},
    {"publish1k",
     MQTLS_V311,
     {.type = MQTLS_PUBLISH,
      .u.publish =
          {.qos = 1, .topic = S("sensors/t1"), .packet_id = 42, .payload = {g_payload, 1024}}}},
    {"publish64k",
     MQTLS_V311,
     {.type = MQTLS_PUBLISH,
      .u.publish =
          {.qos = 1, .topic = S("sensors/t1"), .packet_id = 42, .payload = {g_payload, 65536}}}},
    {"publish64_v5",
     MQTLS_V5,
     {.type = MQTLS_PUBLISH,
      .u.publish =
          {.qos = 1, .topic = S("sensors/t1"), .packet_id = 42, .payload = {g_payload, 64}}}},
    {"subscribe10",
     MQTLS_V5,
     {.type = MQTLS_SUBSCRIBE,
      .u.subscribe = {.packet_id = 7, .filters = {.items = FILTERS10, .count = 10}}}},
    {"connect_v5",
     MQTLS_V5,
     {.type = MQTLS_CONNECT,
      .u.connect = {.version = MQTLS_V5,
                    .clean_start = true,
                    .keepalive_s = 60,
                    .props = {.items = CONNECT_PROPS, .count = 6},
                    .client_id = S("device-0001"),
                    .has_will = true,
                    .will_qos = 1,
                    .will_props = {.items = WILL_PROPS, .count = 2},
                    .will_topic = S("status/device-0001"),
                    .will_payload = S("offline"),
                    .has_username = true,
                    .username = S("device-0001"),
                    .has_password = true,
                    .password = S("s3cret-token")}}},
};
#define N_CASES (sizeof g_cases / sizeof g_cases[0])

typedef enum op { OP_ENCODE, OP_DECODE, OP_HEADER } op_t;
static const char *const OP_NAMES[] = {"encode", "decode", "header"};

static volatile size_t g_sink;

static void fail(const bench_case_t *c, op_t op, mqtls_status_t st)
{
    fprintf(stderr, "bench_codec: %s %s failed: %s\n", c->name, OP_NAMES[op],
            mqtls_status_name(st));
    exit(1);
}

/* n iterations of one op; the loop is per op so the harness adds only a few instructions per
 * packet to the callgrind figures. A failing call ends the program: a benchmark of failures
 * would measure nothing. */
static void run_n(const bench_case_t *c, op_t op, unsigned long n)
{
    size_t sink = 0;
    size_t len = 0;
    mqtls_status_t st;
    if (op == OP_DECODE) {
        const mqtls_codec_cfg_t cfg = {.version = c->version, .max_packet_size = 0};
        mqtls_packet_t pkt;
        for (unsigned long i = 0; i < n; i++) {
            if ((st = mqtls_packet_decode(g_wire, g_wire_len, &cfg, &pkt, &len)) != MQTLS_OK) {
                fail(c, op, st);
            }
            sink += len;
        }
    } else if (op == OP_ENCODE) {
        for (unsigned long i = 0; i < n; i++) {
            if ((st = mqtls_packet_encode(&c->pkt, c->version, g_out, sizeof g_out, &len))) {
                fail(c, op, st);
            }
            sink += len;
        }
    } else {
        for (unsigned long i = 0; i < n; i++) {
            if ((st = mqtls_packet_encode_publish_header(&c->pkt.u.publish, c->version, g_out,
                                                         sizeof g_out, &len))) {
                fail(c, op, st);
            }
            sink += len;
        }
    }
    g_sink += sink;
}

static void prepare(const bench_case_t *c)
{
    if (mqtls_packet_encode(&c->pkt, c->version, g_wire, sizeof g_wire, &g_wire_len) != MQTLS_OK) {
        fprintf(stderr, "bench_codec: cannot encode case %s\n", c->name);
        exit(1);
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void timed(const bench_case_t *c, op_t op)
{
    prepare(c);
    /* Grow the batch until it takes >= 200 ms; bounded at 2^26 iterations. */
    unsigned long iters = 1000;
    double dt = 0;
    for (;;) {
        double t0 = now_ns();
        run_n(c, op, iters);
        dt = now_ns() - t0;
        if (dt >= 2e8 || iters >= (1ul << 26)) {
            break;
        }
        iters *= 2;
    }
    printf("%-14s %-7s %8zu B  %10.1f ns/packet  (%lu iterations)\n", c->name, OP_NAMES[op],
           g_wire_len, dt / (double)iters, iters);
}

static const bench_case_t *find_case(const char *name)
{
    for (size_t i = 0; i < N_CASES; i++) {
        if (strcmp(g_cases[i].name, name) == 0) {
            return &g_cases[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof g_payload; i++) {
        g_payload[i] = (uint8_t)(i * 31u);
    }
    if (argc == 4) {
        const bench_case_t *c = find_case(argv[1]);
        int op = -1;
        for (int k = 0; k < 3; k++) {
            if (strcmp(argv[2], OP_NAMES[k]) == 0) {
                op = k;
            }
        }
        char *end = NULL;
        unsigned long n = strtoul(argv[3], &end, 10);
        if (c == NULL || op < 0 || end == argv[3] || *end != '\0' ||
            (op == OP_HEADER && c->pkt.type != MQTLS_PUBLISH)) {
            fprintf(stderr, "usage: %s [CASE encode|decode|header ITERATIONS]\n", argv[0]);
            return 2;
        }
        prepare(c);
        run_n(c, (op_t)op, n);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [CASE encode|decode|header ITERATIONS]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < N_CASES; i++) {
        timed(&g_cases[i], OP_ENCODE);
        if (g_cases[i].pkt.type == MQTLS_PUBLISH) {
            timed(&g_cases[i], OP_HEADER);
        }
        timed(&g_cases[i], OP_DECODE);
    }
    return 0;
}
