/* mqtls sub: subscribe and print messages with mosquitto_sub's flags (docs/cli/sub.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_format.h"
#include "cli_session.h"
#include "commands.h"

typedef struct sub_state {
    const cli_opts_t *o;
    cli_session_t s;
    bool subscribed;
    bool suback_pending;  /* -E: the SUBACK is still to come */
    size_t unsub_pending; /* -E: UNSUBACKs still to come */
    bool all_refused;
    bool done;
    int exit_code;
    long printed;
    cli_buf_t out;
} sub_state_t;

static void finish(sub_state_t *st, int code)
{
    if (!st->done) {
        st->done = true;
        st->exit_code = code;
    }
}

static void subscribe_all(sub_state_t *st, mqtls_client_t *c)
{
    mqtls_subscription_t subs[CLI_MAX_TOPICS];
    for (size_t i = 0; i < st->o->topic_count; i++) {
        subs[i].filter = st->o->topics[i];
        subs[i].options = (uint8_t)st->o->qos;
    }
    const mqtls_properties_t *props =
        st->s.props_subscribe.count > 0 ? &st->s.props_subscribe : NULL;
    mqtls_status_t rc = mqtls_client_subscribe(c, subs, st->o->topic_count, props, NULL);
    st->suback_pending = rc == MQTLS_OK;
    /* -U: one UNSUBSCRIBE per filter, after the SUBSCRIBE, as mosquitto_sub */
    for (size_t i = 0; rc == MQTLS_OK && i < st->o->unsub_count; i++) {
        rc = mqtls_client_unsubscribe(c, &st->o->unsub[i], 1, NULL);
        st->unsub_pending += rc == MQTLS_OK ? 1u : 0u;
    }
    if (rc != MQTLS_OK) {
        if (!st->o->quiet) {
            fprintf(stderr, "mqtls: cannot subscribe: %s (%s)\n", mqtls_status_text(rc),
                    mqtls_status_name(rc));
        }
        finish(st, rc == MQTLS_ERR_FILTER_INVALID || rc == MQTLS_ERR_UTF8_INVALID
                       ? MQTLS_EXIT_USAGE
                       : MQTLS_EXIT_FAIL);
    }
}

/* -E: every SUBACK and UNSUBACK is in. */
static void maybe_exit_after_subscribe(sub_state_t *st)
{
    if (st->o->exit_after_sub && !st->suback_pending && st->unsub_pending == 0) {
        finish(st, st->all_refused ? MQTLS_EXIT_REFUSED : MQTLS_EXIT_OK);
    }
}

/* SUBACK / UNSUBACK: refusals (with the broker's Reason String), -d's "Subscribed" line. */
static void on_ack(sub_state_t *st, const mqtls_event_t *ev)
{
    bool is_sub = ev->type == MQTLS_EVENT_SUBSCRIBED;
    const mqtls_bytes_t *r = &ev->u.subscribed.reasons;
    if (is_sub && st->o->debug && !st->o->quiet) {
        /* mosquitto_sub -d's line (its log goes to stdout; ours to stderr) */
        fprintf(stderr, "Subscribed (mid: %u):", ev->u.subscribed.packet_id);
        for (size_t i = 0; i < r->len; i++) {
            fprintf(stderr, "%s %u", i == 0 ? "" : ",", r->data[i]);
        }
        fprintf(stderr, "\n");
    }
    mqtls_property_t why;
    bool has_why = mqtls_props_find(&ev->u.subscribed.props, MQTLS_PROP_REASON_STRING, &why);
    size_t refused = 0;
    for (size_t i = 0; i < r->len; i++) {
        if (r->data[i] < 0x80) {
            continue;
        }
        refused++;
        if (!st->o->quiet) {
            size_t u = st->o->unsub_count - st->unsub_pending; /* UNSUBACKs come in order */
            const char *f = is_sub ? (i < st->o->topic_count ? st->o->topics[i] : "?")
                                   : (u < st->o->unsub_count ? st->o->unsub[u] : "?");
            fprintf(stderr, "mqtls: broker refused %s '%s': 0x%02X (%s)%s%.*s%s\n",
                    is_sub ? "subscription to" : "unsubscription from", f, r->data[i],
                    mqtls_reason_text(is_sub ? MQTLS_SUBACK : MQTLS_UNSUBACK, r->data[i]),
                    has_why ? " (broker: '" : "", has_why ? (int)why.v.bin.len : 0,
                    has_why ? (const char *)why.v.bin.data : "", has_why ? "')" : "");
        }
    }
    if (is_sub) {
        st->suback_pending = false;
        if (refused > 0 && refused == r->len) {
            st->all_refused = true;
            finish(st, MQTLS_EXIT_REFUSED);
        }
    } else if (st->unsub_pending > 0) {
        st->unsub_pending--;
    }
    maybe_exit_after_subscribe(st);
}

/* The message of a MESSAGE or MESSAGE_IN_DOUBT event, as the formatter takes it (now). */
static void msg_of(const mqtls_event_t *ev, cli_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    m->topic = ev->u.message.topic.data;
    m->topic_len = ev->u.message.topic.len;
    m->payload = ev->u.message.payload.data;
    m->payload_len = ev->u.message.payload.len;
    m->qos = ev->u.message.qos;
    m->retain = ev->u.message.retain;
    m->mid = ev->u.message.packet_id;
    m->props = ev->u.message.props;
    clock_gettime(CLOCK_REALTIME, &m->when);
}

/* A QoS 2 message that may have been printed before (the previous --persist run ended while
 * printing it, or the broker reused a packet id): stdout keeps "never twice"; stderr says what
 * it was, formatted as -F says. */
static void on_in_doubt(sub_state_t *st, const mqtls_event_t *ev)
{
    cli_msg_t m;
    msg_of(ev, &m);
    st->out.len = 0;
    cli_render(&st->out, st->o, &m);
    fprintf(stderr, "mqtls: in doubt (QoS 2 message that may have been printed before; not "
                    "printed again): ");
    fwrite(st->out.data, 1, st->out.len, stderr);
    if (st->out.len == 0 || st->out.data[st->out.len - 1] != '\n') {
        fputc('\n', stderr);
    }
}

static void on_message(sub_state_t *st, mqtls_client_t *c, const mqtls_event_t *ev)
{
    const cli_opts_t *o = st->o;
    const mqtls_bytes_t *topic = &ev->u.message.topic;
    if (st->done || cli_topic_filtered_out(o, topic->data, topic->len)) {
        return;
    }
    bool retained = ev->u.message.retain;
    if (o->remove_retained && retained && ev->u.message.payload.len > 0) {
        /* an empty retained PUBLISH clears the retained message [MQTT-3.3.1-6] */
        char name[65536 + 1];
        size_t n = topic->len < sizeof(name) - 1 ? topic->len : sizeof(name) - 1;
        memcpy(name, topic->data, n);
        name[n] = '\0';
        mqtls_publish_opts_t po;
        memset(&po, 0, sizeof(po));
        po.retain = true;
        mqtls_client_publish(c, name, "", 0, &po, NULL);
    }
    if (o->retained_only && !retained) {
        finish(st, MQTLS_EXIT_OK); /* first fresh message: mosquitto exits here */
        return;
    }
    if (o->no_retained && retained) {
        return;
    }
    cli_msg_t m;
    msg_of(ev, &m);
    st->out.len = 0;
    if (!cli_render(&st->out, o, &m) && !o->quiet) {
        /* mosquitto_sub's words; the rest of the format is printed */
        fprintf(stderr, "Error: Message payload is not valid JSON on topic %.*s.\n",
                (int)topic->len, (const char *)topic->data);
    }
    if (st->out.len > 0) {
        fwrite(st->out.data, 1, st->out.len, stdout);
    }
    fflush(stdout);
    st->printed++;
    if (o->count > 0 && st->printed >= o->count) {
        finish(st, MQTLS_EXIT_OK);
    }
}

static void sub_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    sub_state_t *st = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        if (!st->subscribed) {
            st->subscribed = true;
            subscribe_all(st, c);
        }
        break;
    case MQTLS_EVENT_SUBSCRIBED:
    case MQTLS_EVENT_UNSUBSCRIBED:
        on_ack(st, ev);
        break;
    case MQTLS_EVENT_MESSAGE:
        on_message(st, c, ev);
        break;
    case MQTLS_EVENT_MESSAGE_IN_DOUBT:
        on_in_doubt(st, ev);
        break;
    case MQTLS_EVENT_DISCONNECTED:
        if (st->s.connected && !st->done && !st->s.closing) {
            const mqtls_error_t *why = &ev->u.disconnected.why;
            if (why->status != MQTLS_OK) {
                cli_report_error(&st->s, why, "connection lost to");
            }
            finish(st, why->status == MQTLS_ERR_SERVER_DISCONNECT ? MQTLS_EXIT_REFUSED
                                                                  : MQTLS_EXIT_FAIL);
        }
        break;
    default:
        break;
    }
}

static int run(const cli_opts_t *o)
{
    static sub_state_t st; /* holds the session (large) */
    memset(&st, 0, sizeof(st));
    st.o = o;
    int64_t start = cli_now_ms();
    int rc = cli_session_open(&st.s, o, sub_event, &st);
    if (rc != MQTLS_EXIT_OK) {
        cli_session_close(&st.s);
        return rc;
    }
    int64_t deadline = o->timeout_s > 0 ? start + (int64_t)o->timeout_s * 1000 : -1;
    while (!st.done && !cli_stop) {
        int wait = 100;
        if (deadline >= 0) {
            int64_t left = deadline - cli_now_ms();
            if (left <= 0) {
                if (!o->quiet) {
                    fprintf(stderr, "mqtls: timed out after %ld s (-W)\n", o->timeout_s);
                }
                finish(&st, MQTLS_EXIT_SUB_TIMEOUT);
                break;
            }
            wait = left < wait ? (int)left : wait;
        }
        cli_session_step(&st.s, wait);
    }
    if (o->remove_retained) {
        /* let the clearing PUBLISHes go out before DISCONNECT */
        int64_t until = cli_now_ms() + 2000;
        while (mqtls_client_outbox_count(st.s.client) > 0 && cli_now_ms() < until) {
            cli_session_step(&st.s, 50);
        }
    }
    cli_session_close(&st.s);
    cli_buf_free(&st.out);
    return st.exit_code;
}

int mqtls_cmd_sub(int argc, char **argv)
{
    return cli_main(CLI_SUB, argc, argv, run);
}
