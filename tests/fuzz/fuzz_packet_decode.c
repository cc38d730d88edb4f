/* libFuzzer target: decode under each protocol version; whatever decodes must re-encode to the
 * identical bytes and re-decode to equal fields (round-trip invariant), a shorter prefix must
 * say NEED_MORE, and nothing may crash. Also linked into replay_main.c for ctest under gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtls/packet.h"
#include "packet_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() so libFuzzer records the input; never compiled out like assert(). */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_one(const uint8_t *data, size_t size, mqtls_version_t version)
{
    mqtls_codec_cfg_t cfg = {.version = version, .max_packet_size = 0};
    mqtls_packet_t pkt;
    size_t used = 0;
    mqtls_status_t st = mqtls_packet_decode(data, size, &cfg, &pkt, &used);

    size_t total = 0;
    mqtls_status_t fs = mqtls_packet_frame(data, size, &cfg, &total);
    if (st != MQTLS_OK) {
        CHECK(used == 0u);
        CHECK(st < 0 && st > -100); /* a packet-codec status, never an API error */
        if (st == MQTLS_ERR_NEED_MORE) {
            CHECK(fs == MQTLS_ERR_NEED_MORE || (fs == MQTLS_OK && total > size));
        }
        return;
    }
    CHECK(fs == MQTLS_OK && total == used && used <= size && used >= 2u);

    /* Split feed: any shorter prefix is "need more", never an error or a success. */
    mqtls_packet_t tmp;
    size_t tmp_used;
    CHECK(mqtls_packet_decode(data, used - 1u, &cfg, &tmp, &tmp_used) == MQTLS_ERR_NEED_MORE);
    CHECK(mqtls_packet_decode(data, used / 2u, &cfg, &tmp, &tmp_used) == MQTLS_ERR_NEED_MORE);

    bool v5 = version == MQTLS_V5;
    mqtls_version_t enc_version = version;
    if (pkt.type == MQTLS_CONNECT) {
        enc_version = pkt.u.connect.version;
        v5 = enc_version == MQTLS_V5;
    }
    size_t need = 0;
    CHECK(mqtls_packet_encoded_size(&pkt, enc_version, &need) == MQTLS_OK);
    CHECK(need == used);
    uint8_t *buf = malloc(used);
    CHECK(buf != NULL);
    size_t written = 0;
    if (used > 1u) {
        CHECK(mqtls_packet_encode(&pkt, enc_version, buf, used - 1u, &written) ==
              MQTLS_ERR_BUFFER_TOO_SMALL);
        CHECK(written == used);
    }
    CHECK(mqtls_packet_encode(&pkt, enc_version, buf, used, &written) == MQTLS_OK);
    CHECK(written == used);
    CHECK(memcmp(buf, data, used) == 0);

    mqtls_packet_t again;
    size_t again_used = 0;
    CHECK(mqtls_packet_decode(buf, written, &cfg, &again, &again_used) == MQTLS_OK);
    CHECK(again_used == used);
    CHECK(packet_equal(&pkt, &again, v5));

    if (pkt.type == MQTLS_PUBLISH) {
        /* Header-only encoding + the payload as is = the packet. */
        size_t hl = 0;
        CHECK(mqtls_packet_encode_publish_header(&pkt.u.publish, version, buf, used, &hl) ==
              MQTLS_OK);
        CHECK(hl + pkt.u.publish.payload.len == used);
        CHECK(memcmp(buf, data, hl) == 0);
        CHECK(pkt.u.publish.payload.len == 0u || pkt.u.publish.payload.data == data + hl);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size, MQTLS_V311);
    check_one(data, size, MQTLS_V5);
    check_one(data, size, MQTLS_V31);

    /* String helpers on the raw bytes: split at the first NUL into filter and topic. */
    const uint8_t *nul = memchr(data, 0, size);
    size_t flen = nul != NULL ? (size_t)(nul - data) : size / 2u;
    const uint8_t *topic = data + flen + (nul != NULL ? 1u : 0u);
    size_t tlen = size - (size_t)(topic - data);
    mqtls_status_t fst = mqtls_topic_filter_check(data, flen);
    mqtls_status_t tst = mqtls_topic_name_check(topic, tlen);
    bool m = mqtls_topic_matches(data, flen, topic, tlen);
    /* A valid topic name used as a filter matches exactly itself. */
    if (fst == MQTLS_OK && tst == MQTLS_OK && flen == tlen && memcmp(data, topic, flen) == 0) {
        CHECK(m);
    }
    (void)mqtls_utf8_check(data, size);
    return 0;
}
