/* MQTT rules the decoder and the encoder both enforce: topic filters, subscription options,
 * SUBACK/UNSUBACK reason codes. Sans I/O, no allocation. */
#include "packet_internal.h"

mqtls_status_t mqtls__filter_check_v(const mqtls_bytes_t *f, bool v5, bool *shared)
{
    mqtls_status_t st = mqtls_topic_filter_check(f->data, f->len);
    *shared = false;
    if (st == MQTLS_OK && v5) {
        st = mqtls__shared_filter_check(f->data, f->len, shared);
    }
    return st;
}

mqtls_status_t mqtls__subopt_check(uint8_t o, bool v5, bool shared)
{
    if ((o & MQTLS_SUBOPT_QOS_MASK) == 3u) {
        return MQTLS_ERR_BAD_QOS; /* [MQTT-3.8.3-4] (3.1.1) / 3.8.3.1 (5.0) */
    }
    if (!v5) {
        return (o & 0xFCu) != 0u ? MQTLS_ERR_SUB_OPTIONS : MQTLS_OK; /* [MQTT-3.8.3-4] */
    }
    if ((o & 0xC0u) != 0u || ((o >> MQTLS_SUBOPT_RETAIN_HANDLING_SHIFT) & 3u) == 3u) {
        return MQTLS_ERR_SUB_OPTIONS; /* [MQTT-3.8.3-5], retain handling 3 is a Protocol Error */
    }
    if (shared && (o & MQTLS_SUBOPT_NO_LOCAL) != 0u) {
        return MQTLS_ERR_SUB_OPTIONS; /* [MQTT-3.8.3-4] No Local on a shared subscription */
    }
    return MQTLS_OK;
}

/* Walk a SUBSCRIBE / UNSUBSCRIBE payload; every entry checked. */
mqtls_status_t mqtls__filters_validate(const uint8_t *p, size_t len, bool has_options, bool v5,
                                       size_t *count)
{
    rd_t r = {p, len, 0};
    size_t n = 0;
    while (r.pos < r.len) {
        mqtls_bytes_t f;
        bool shared;
        mqtls_status_t st = rd_bin(&r, &f);
        if (st == MQTLS_OK) {
            st = mqtls__filter_check_v(&f, v5, &shared);
        }
        if (st == MQTLS_OK && has_options) {
            uint8_t o;
            st = rd_u8(&r, &o);
            if (st == MQTLS_OK) {
                st = mqtls__subopt_check(o, v5, shared);
            }
        }
        if (st != MQTLS_OK) {
            return st;
        }
        n++;
    }
    if (n == 0u) {
        return MQTLS_ERR_NO_TOPIC_FILTERS; /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    }
    *count = n;
    return MQTLS_OK;
}

static mqtls_status_t suback_reason_check(uint8_t type, uint8_t code, bool v5)
{
    if (v5) {
        return mqtls__reason_valid(type, code) ? MQTLS_OK : MQTLS_ERR_BAD_REASON_CODE;
    }
    /* [MQTT-3.9.3-2] 3.1.1 SUBACK return codes: 0x00, 0x01, 0x02, 0x80. */
    return (code <= 2u || code == 0x80u) ? MQTLS_OK : MQTLS_ERR_BAD_REASON_CODE;
}

mqtls_status_t mqtls__reasons_check(uint8_t type, mqtls_bytes_t reasons, bool v5)
{
    if (reasons.len == 0u) {
        return MQTLS_ERR_NO_REASON_CODES; /* [MQTT-3.9.3-1]: one per filter, so at least one */
    }
    for (size_t i = 0; i < reasons.len; i++) {
        mqtls_status_t st = suback_reason_check(type, reasons.data[i], v5);
        if (st != MQTLS_OK) {
            return st;
        }
    }
    return MQTLS_OK;
}
