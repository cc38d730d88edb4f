/* -d's protocol trace (cli_trace.h). The formats are libmosquitto 2.0's debug log lines, so
 * that `mqtls pub -d` and `mosquitto_pub -d` print the same lines for the same exchange
 * (tests/integration/cli/test_trace.sh compares them). */
#include "cli_trace.h"

#include <string.h>
#include <time.h>

#include "mqtls/certinfo.h"

/* mosquitto prints the id with "%s": a client without one shows "(null)". */
static const char *label(cli_trace_t *t, mqtls_client_t *c, const mqtls_packet_t *p)
{
    const char *id = mqtls_client_id(c);
    mqtls_property_t pr;
    if (p->type == MQTLS_CONNACK &&
        mqtls_props_find(&p->u.connack.props, MQTLS_PROP_ASSIGNED_CLIENT_IDENTIFIER, &pr)) {
        /* libmosquitto takes the broker's name for it before logging the CONNACK */
        snprintf(t->label, sizeof t->label, "%.*s", (int)pr.v.bin.len, (const char *)pr.v.bin.data);
        return t->label;
    }
    snprintf(t->label, sizeof t->label, "%s", id != NULL && id[0] != '\0' ? id : "(null)");
    return t->label;
}

static void keep_reason(cli_trace_t *t, const mqtls_properties_t *props)
{
    mqtls_property_t pr;
    t->reason[0] = '\0';
    if (props != NULL && mqtls_props_find(props, MQTLS_PROP_REASON_STRING, &pr)) {
        snprintf(t->reason, sizeof t->reason, "%.*s", (int)pr.v.bin.len,
                 (const char *)pr.v.bin.data);
    }
}

static const mqtls_properties_t *props_of(const mqtls_packet_t *p)
{
    switch (p->type) {
    case MQTLS_CONNACK:
        return &p->u.connack.props;
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        return &p->u.ack.props;
    case MQTLS_SUBACK:
    case MQTLS_UNSUBACK:
        return &p->u.suback.props;
    case MQTLS_DISCONNECT:
        return &p->u.disconnect.props;
    default:
        return NULL;
    }
}

static void sent_line(cli_trace_t *t, const char *id, const mqtls_packet_t *p)
{
    FILE *o = t->out;
    switch (p->type) {
    case MQTLS_CONNECT:
        fprintf(o, "Client %s sending CONNECT\n", id);
        break;
    case MQTLS_PUBLISH: {
        const mqtls_publish_t *m = &p->u.publish;
        unsigned long mid = m->qos > 0 ? m->packet_id : t->qos0_mid;
        fprintf(o, "Client %s sending PUBLISH (d%d, q%u, r%d, m%lu, '%.*s', ... (%zu bytes))\n", id,
                m->dup ? 1 : 0, m->qos, m->retain ? 1 : 0, mid, (int)m->topic.len,
                (const char *)m->topic.data, m->payload.len);
        break;
    }
    case MQTLS_PUBACK:
    case MQTLS_PUBREC:
        fprintf(o, "Client %s sending %s (m%u, rc%u)\n", id,
                p->type == MQTLS_PUBACK ? "PUBACK" : "PUBREC", p->u.ack.packet_id, p->u.ack.reason);
        break;
    case MQTLS_PUBREL:
    case MQTLS_PUBCOMP:
        fprintf(o, "Client %s sending %s (m%u)\n", id,
                p->type == MQTLS_PUBREL ? "PUBREL" : "PUBCOMP", p->u.ack.packet_id);
        break;
    case MQTLS_SUBSCRIBE:
    case MQTLS_UNSUBSCRIBE: {
        /* one line per filter, as libmosquitto */
        const mqtls_subscribe_t *s = &p->u.subscribe;
        size_t cursor = 0;
        mqtls_topic_filter_t tf;
        while (mqtls_filters_next(&s->filters, &cursor, &tf) == MQTLS_OK) {
            const mqtls_topic_filter_t *f = &tf;
            if (p->type == MQTLS_SUBSCRIBE) {
                fprintf(o,
                        "Client %s sending SUBSCRIBE (Mid: %u, Topic: %.*s, QoS: %u, Options: "
                        "0x%02x)\n",
                        id, s->packet_id, (int)f->filter.len, (const char *)f->filter.data,
                        f->options & MQTLS_SUBOPT_QOS_MASK,
                        f->options & ~MQTLS_SUBOPT_QOS_MASK & 0xFFu);
            } else {
                fprintf(o, "Client %s sending UNSUBSCRIBE (Mid: %u, Topic: %.*s)\n", id,
                        s->packet_id, (int)f->filter.len, (const char *)f->filter.data);
            }
        }
        break;
    }
    case MQTLS_PINGREQ:
        fprintf(o, "Client %s sending PINGREQ\n", id);
        break;
    case MQTLS_DISCONNECT:
        fprintf(o, "Client %s sending DISCONNECT\n", id);
        break;
    default:
        fprintf(o, "Client %s sending %s\n", id, mqtls_packet_type_name(p->type));
        break;
    }
}

static void received_line(cli_trace_t *t, const char *id, const mqtls_packet_t *p)
{
    FILE *o = t->out;
    switch (p->type) {
    case MQTLS_CONNACK:
        fprintf(o, "Client %s received CONNACK (%u)\n", id, p->u.connack.reason);
        break;
    case MQTLS_PUBLISH: {
        const mqtls_publish_t *m = &p->u.publish;
        fprintf(o, "Client %s received PUBLISH (d%d, q%u, r%d, m%u, '%.*s', ... (%zu bytes))\n", id,
                m->dup ? 1 : 0, m->qos, m->retain ? 1 : 0, m->packet_id, (int)m->topic.len,
                (const char *)m->topic.data, m->payload.len);
        break;
    }
    case MQTLS_PUBACK:
    case MQTLS_PUBCOMP:
        fprintf(o, "Client %s received %s (Mid: %u, RC:%u)\n", id,
                p->type == MQTLS_PUBACK ? "PUBACK" : "PUBCOMP", p->u.ack.packet_id,
                p->u.ack.reason);
        break;
    case MQTLS_PUBREC:
    case MQTLS_PUBREL:
        fprintf(o, "Client %s received %s (Mid: %u)\n", id,
                p->type == MQTLS_PUBREC ? "PUBREC" : "PUBREL", p->u.ack.packet_id);
        break;
    case MQTLS_SUBACK:
        fprintf(o, "Client %s received SUBACK\n", id);
        break;
    case MQTLS_UNSUBACK:
        fprintf(o, "Client %s received UNSUBACK\n", id);
        break;
    case MQTLS_PINGRESP:
        fprintf(o, "Client %s received PINGRESP\n", id);
        break;
    case MQTLS_DISCONNECT:
        fprintf(o, "Received DISCONNECT (%u)\n", p->u.disconnect.reason); /* sic, libmosquitto */
        break;
    default:
        fprintf(o, "Client %s received %s\n", id, mqtls_packet_type_name(p->type));
        break;
    }
}

void cli_trace_packet(mqtls_client_t *c, mqtls_trace_dir_t dir, const mqtls_packet_t *p, void *ctx)
{
    cli_trace_t *t = ctx;
    bool sent = dir == MQTLS_TRACE_SENT;
    if (sent && p->type == MQTLS_PUBLISH && p->u.publish.qos == 0) {
        t->qos0_mid++;
    }
    /* an inbound QoS 2 flow is open from its PUBLISH to our PUBCOMP [MQTT-4.3.3] */
    uint16_t pid = p->type == MQTLS_PUBLISH ? p->u.publish.packet_id : p->u.ack.packet_id;
    uint8_t *byte = &t->qos2_ids[pid >> 3];
    uint8_t bit = (uint8_t)(1u << (pid & 7u));
    if (!sent && p->type == MQTLS_PUBLISH && p->u.publish.qos == 2 && (*byte & bit) == 0) {
        *byte = (uint8_t)(*byte | bit);
        t->qos2_open++;
    } else if (sent && p->type == MQTLS_PUBCOMP && (*byte & bit) != 0) {
        *byte = (uint8_t)(*byte & ~bit);
        t->qos2_open--;
    }
    if (!sent) {
        keep_reason(t, props_of(p));
    }
    if (t->out == NULL) {
        return;
    }
    const char *id = label(t, c, p);
    if (sent && p->type == MQTLS_CONNECT && t->tls) {
        cli_trace_tls(t->out, mqtls_client_tls_facts(c));
    }
    if (sent) {
        sent_line(t, id, p);
    } else {
        received_line(t, id, p);
        if (t->reason[0] != '\0') {
            fprintf(t->out, "mqtls: debug: reason string: '%s'\n", t->reason);
        }
    }
    fflush(t->out);
}

static void date_of(int64_t s, char *buf, size_t cap)
{
    time_t tt = (time_t)s;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d", &tm) == 0) {
        snprintf(buf, cap, "?");
    }
}

void cli_trace_tls(FILE *out, const mqtls_tls_facts_t *f)
{
    if (f == NULL) {
        return;
    }
    uint16_t v = mqtls_tls_facts_version(f);
    const char *sni = mqtls_tls_facts_server_name(f);
    fprintf(out, "mqtls: debug: TLS %s, %s, server name %s, handshake %u ms%s\n",
            v == 0x0304 ? "1.3" : (v == 0x0303 ? "1.2" : "?"), mqtls_tls_facts_ciphersuite(f),
            sni[0] != '\0' ? sni : "(none)", (unsigned)mqtls_tls_facts_handshake_ms(f),
            (mqtls_tls_facts_flags(f) & MQTLS_FACT_SESSION_RESUMED) != 0 ? ", session resumed"
                                                                         : "");
    if (mqtls_tls_facts_max_fragment_len(f) != 0) {
        fprintf(out, "mqtls: debug: max fragment %u (the broker agreed)\n",
                (unsigned)mqtls_tls_facts_max_fragment_len(f));
    }
    size_t n = mqtls_tls_facts_presented_len(f);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const uint8_t *der = mqtls_tls_facts_presented_cert(f, i, &len);
        mqtls_certinfo_t ci;
        size_t count = 0;
        if (der == NULL || mqtls_certinfo_parse(der, len, &ci, 1, &count) != MQTLS_OK ||
            count == 0) {
            fprintf(out, "mqtls: debug: peer certificate %zu: (%zu bytes, not parsed)\n", i, len);
            continue;
        }
        char from[16];
        char to[16];
        date_of(ci.not_before_s, from, sizeof from);
        date_of(ci.not_after_s, to, sizeof to);
        fprintf(out,
                "mqtls: debug: peer certificate %zu: '%s', issuer '%s', %s, %s, valid %s .. %s\n",
                i, ci.subject, ci.issuer, ci.key_desc, ci.sig_desc, from, to);
    }
    if ((mqtls_tls_facts_flags(f) & MQTLS_FACT_CLIENT_CERT_SENT) != 0) {
        fprintf(out, "mqtls: debug: client certificate sent (the broker asked for one)\n");
    } else if ((mqtls_tls_facts_flags(f) & MQTLS_FACT_CERT_REQUESTED) != 0) {
        fprintf(out, "mqtls: debug: the broker asked for a client certificate; none was sent\n");
    }
}
