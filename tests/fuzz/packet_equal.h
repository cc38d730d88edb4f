/* Field-by-field comparison of two decoded (or caller-built) packets. Views are compared by
 * content, property blocks and filter lists element by element, so a decoded packet (raw
 * views) equals a hand-built one (item arrays). Shared by the fuzz target and unit tests. */
#ifndef MQTLS_TEST_PACKET_EQUAL_H
#define MQTLS_TEST_PACKET_EQUAL_H

#include <string.h>

#include "mqtls/packet.h"

static inline bool peq_bytes(mqtls_bytes_t a, mqtls_bytes_t b)
{
    return a.len == b.len && (a.len == 0u || memcmp(a.data, b.data, a.len) == 0);
}

static inline bool peq_props(const mqtls_properties_t *a, const mqtls_properties_t *b)
{
    size_t ca = 0;
    size_t cb = 0;
    for (unsigned guard = 0; guard < 70000u; guard++) {
        mqtls_property_t pa;
        mqtls_property_t pb;
        mqtls_status_t sa = mqtls_props_next(a, &ca, &pa);
        mqtls_status_t sb = mqtls_props_next(b, &cb, &pb);
        if (sa != sb) {
            return false;
        }
        if (sa != MQTLS_OK) {
            return sa == MQTLS_ERR_NEED_MORE;
        }
        if (pa.id != pb.id) {
            return false;
        }
        switch (mqtls_prop_type(pa.id)) {
        case MQTLS_PROP_TYPE_UTF8:
        case MQTLS_PROP_TYPE_BINARY:
            if (!peq_bytes(pa.v.bin, pb.v.bin)) {
                return false;
            }
            break;
        case MQTLS_PROP_TYPE_UTF8_PAIR:
            if (!peq_bytes(pa.v.pair.key, pb.v.pair.key) ||
                !peq_bytes(pa.v.pair.value, pb.v.pair.value)) {
                return false;
            }
            break;
        default:
            if (pa.v.u32 != pb.v.u32) {
                return false;
            }
            break;
        }
    }
    return false;
}

static inline bool peq_filters(const mqtls_filter_list_t *a, const mqtls_filter_list_t *b,
                               bool with_options)
{
    size_t ca = 0;
    size_t cb = 0;
    for (unsigned guard = 0; guard < 70000u; guard++) {
        mqtls_topic_filter_t fa;
        mqtls_topic_filter_t fb;
        mqtls_status_t sa = mqtls_filters_next(a, &ca, &fa);
        mqtls_status_t sb = mqtls_filters_next(b, &cb, &fb);
        if (sa != sb) {
            return false;
        }
        if (sa != MQTLS_OK) {
            return sa == MQTLS_ERR_NEED_MORE;
        }
        if (!peq_bytes(fa.filter, fb.filter) || (with_options && fa.options != fb.options)) {
            return false;
        }
    }
    return false;
}

/** @p v5: compare MQTT 5-only fields (ack/disconnect reason, props, form). */
static inline bool packet_equal(const mqtls_packet_t *a, const mqtls_packet_t *b, bool v5)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case MQTLS_CONNECT: {
        const mqtls_connect_t *x = &a->u.connect;
        const mqtls_connect_t *y = &b->u.connect;
        return x->version == y->version && x->clean_start == y->clean_start &&
               x->keepalive_s == y->keepalive_s && peq_props(&x->props, &y->props) &&
               peq_bytes(x->client_id, y->client_id) && x->has_will == y->has_will &&
               x->will_qos == y->will_qos && x->will_retain == y->will_retain &&
               (!x->has_will || (peq_props(&x->will_props, &y->will_props) &&
                                 peq_bytes(x->will_topic, y->will_topic) &&
                                 peq_bytes(x->will_payload, y->will_payload))) &&
               x->has_username == y->has_username &&
               (!x->has_username || peq_bytes(x->username, y->username)) &&
               x->has_password == y->has_password &&
               (!x->has_password || peq_bytes(x->password, y->password));
    }
    case MQTLS_CONNACK:
        return a->u.connack.session_present == b->u.connack.session_present &&
               a->u.connack.reason == b->u.connack.reason &&
               peq_props(&a->u.connack.props, &b->u.connack.props);
    case MQTLS_PUBLISH: {
        const mqtls_publish_t *x = &a->u.publish;
        const mqtls_publish_t *y = &b->u.publish;
        return x->qos == y->qos && x->retain == y->retain && x->dup == y->dup &&
               peq_bytes(x->topic, y->topic) && (x->qos == 0u || x->packet_id == y->packet_id) &&
               peq_props(&x->props, &y->props) && peq_bytes(x->payload, y->payload);
    }
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        return a->u.ack.packet_id == b->u.ack.packet_id &&
               (!v5 || (a->u.ack.reason == b->u.ack.reason && a->u.ack.form == b->u.ack.form &&
                        peq_props(&a->u.ack.props, &b->u.ack.props)));
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE:
        return a->u.subscribe.packet_id == b->u.subscribe.packet_id &&
               peq_props(&a->u.subscribe.props, &b->u.subscribe.props) &&
               peq_filters(&a->u.subscribe.filters, &b->u.subscribe.filters,
                           a->type == MQTLS_SUBSCRIBE);
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK:
        return a->u.suback.packet_id == b->u.suback.packet_id &&
               peq_props(&a->u.suback.props, &b->u.suback.props) &&
               peq_bytes(a->u.suback.reasons, b->u.suback.reasons);
    case MQTLS_DISCONNECT:
    case MQTLS_AUTH:
        return !v5 || (a->u.disconnect.reason == b->u.disconnect.reason &&
                       a->u.disconnect.form == b->u.disconnect.form &&
                       peq_props(&a->u.disconnect.props, &b->u.disconnect.props));
    case MQTLS_PINGREQ:
    case MQTLS_PINGRESP:
    default:
        return true;
    }
}

#endif
