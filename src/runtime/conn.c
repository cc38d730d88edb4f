/* The connection of a client: its state machine (mqtls_client_state_t, one transition function
 * over one table), connecting through the transport src/net builds for the URI, and what
 * happens when a connection ends (report, diagnose, back off, reconnect or go idle). */
#include <assert.h>
#include <string.h>

#include "mqtls/diag.h"
#include "runtime/client_internal.h"

/* --- the state machine ------------------------------------------------------------------ */

#define NO_STATE (-1) /* the event is illegal in that state */

/* next_state[event][state]: the state after an event, or NO_STATE when the event is illegal
 * there (STYLE.md "Memory and state"). States: IDLE, CONNECTING (transport), MQTT_CONNECTING
 * (CONNECT sent), CONNECTED, DISCONNECTING, BACKOFF.
 *
 *   event         IDLE   CONNECTING  MQTT_CONN.  CONNECTED  DISCONN.  BACKOFF
 *   CONNECT       CONN.  -           -           -          -         -
 *   RETRY         -      -           -           -          -         CONN.
 *   TRANSPORT_UP  -      MQTT_CONN.  -           -          -         -
 *   CONNACK       -      -           CONNECTED   -          -         -
 *   DISCONNECT    -      -           DISCONN.    DISCONN.   -         -
 *   LOST_RETRY    -      BACKOFF     BACKOFF     BACKOFF    -         -
 *   ENDED         -      IDLE        IDLE        IDLE       IDLE      IDLE
 *
 * DISCONNECTING never retries (the user asked for the end); IDLE has nothing to end. */
static const signed char next_state[MQTLS__CEV_COUNT][MQTLS_STATE_BACKOFF + 1] = {
    [MQTLS__CEV_CONNECT] = {MQTLS_STATE_CONNECTING, NO_STATE, NO_STATE, NO_STATE, NO_STATE,
                            NO_STATE},
    [MQTLS__CEV_RETRY] = {NO_STATE, NO_STATE, NO_STATE, NO_STATE, NO_STATE, MQTLS_STATE_CONNECTING},
    [MQTLS__CEV_TRANSPORT_UP] = {NO_STATE, MQTLS_STATE_MQTT_CONNECTING, NO_STATE, NO_STATE,
                                 NO_STATE, NO_STATE},
    [MQTLS__CEV_CONNACK] = {NO_STATE, NO_STATE, MQTLS_STATE_CONNECTED, NO_STATE, NO_STATE,
                            NO_STATE},
    [MQTLS__CEV_DISCONNECT] = {NO_STATE, NO_STATE, MQTLS_STATE_DISCONNECTING,
                               MQTLS_STATE_DISCONNECTING, NO_STATE, NO_STATE},
    [MQTLS__CEV_LOST_RETRY] = {NO_STATE, MQTLS_STATE_BACKOFF, MQTLS_STATE_BACKOFF,
                               MQTLS_STATE_BACKOFF, NO_STATE, NO_STATE},
    [MQTLS__CEV_ENDED] = {NO_STATE, MQTLS_STATE_IDLE, MQTLS_STATE_IDLE, MQTLS_STATE_IDLE,
                          MQTLS_STATE_IDLE, MQTLS_STATE_IDLE},
};

_Static_assert(MQTLS_STATE_IDLE == 0 && MQTLS_STATE_BACKOFF == 5,
               "next_state[][] is indexed by mqtls_client_state_t");

mqtls_status_t mqtls__client_transition(mqtls_client_t *c, mqtls__cev_t ev)
{
    if ((unsigned)ev >= MQTLS__CEV_COUNT || (unsigned)c->state > MQTLS_STATE_BACKOFF) {
        return MQTLS_ERR_STATE;
    }
    int next = next_state[ev][c->state];
    if (next == NO_STATE) {
        return MQTLS_ERR_STATE;
    }
    c->state = (mqtls_client_state_t)next;
    return MQTLS_OK;
}

/* An event the code itself guarantees to be legal here: an internal invariant. */
static void must_transition(mqtls_client_t *c, mqtls__cev_t ev)
{
    mqtls_status_t st = mqtls__client_transition(c, ev);
    assert(st == MQTLS_OK);
    (void)st;
}

/* MQTT 5: the broker named the client we asked it to name (empty client id): keep the name
 * for mqtls_client_id() and for the reconnects [MQTT-3.2.2.3.7]. */
static void take_assigned_id(mqtls_client_t *c, const mqtls_properties_t *props)
{
    mqtls_property_t pr;
    if (!c->cfg.empty_client_id || c->cfg.version != MQTLS_V5 ||
        !mqtls_props_find(props, MQTLS_PROP_ASSIGNED_CLIENT_IDENTIFIER, &pr) || pr.v.bin.len == 0 ||
        pr.v.bin.len > MQTLS__CLIENT_ID_MAX) {
        return;
    }
    memcpy(c->client_id, pr.v.bin.data, pr.v.bin.len);
    c->client_id[pr.v.bin.len] = '\0';
    mqtls__session_set_client_id(&c->s, mqtls__bytes_of(c->client_id));
}

void mqtls__client_on_session_event(void *ctx, const mqtls_event_t *ev)
{
    mqtls_client_t *c = ctx;
    if (ev->type == MQTLS_EVENT_CONNECTED) {
        must_transition(c, MQTLS__CEV_CONNACK);
        c->attempt = 0;
        take_assigned_id(c, &ev->u.connected.props);
        c->connack_seen = true;
        LOG(c, MQTLS_LOG_INFO, "connected to %s:%u (session present: %d)", c->uri.host, c->uri.port,
            ev->u.connected.session_present ? 1 : 0);
        if (c->s.qos2_republished > 0) {
            LOG(c, MQTLS_LOG_WARN,
                "the broker kept no session: %zu QoS 2 message(s) it had received (PUBREC) are "
                "published again and may arrive twice",
                c->s.qos2_republished);
        }
    } else if (ev->type == MQTLS_EVENT_PUBLISHED && c->s.qos2_downgrades > 0 &&
               c->qos2_logged == 0) {
        c->qos2_logged = c->s.qos2_downgrades;
        LOG(c, MQTLS_LOG_WARN,
            "%s:%u acknowledged a QoS 2 PUBLISH with PUBACK: it took it at QoS 1 (delivered at "
            "least once, not exactly once; RabbitMQ 3.10 does this). Completed; counted by "
            "mqtls_client_qos2_downgrades()",
            c->uri.host, c->uri.port);
    }
    mqtls__client_emit(c, ev);
}

/* --- connecting ------------------------------------------------------------------------- */

/* The transport for the URI, from src/net (or the test hook): created at the first attempt,
 * then connected and closed again at each one. */
static mqtls_status_t make_transport(mqtls_client_t *c)
{
    if (c->factory != NULL) {
        return c->factory(c->factory_ctx, &c->conn_err, &c->t);
    }
    mqtls__stack_cfg_t sc;
    memset(&sc, 0, sizeof sc);
    sc.uri = &c->uri;
    sc.connect_timeout_ms = c->cfg.connect_timeout_ms;
    sc.tls = c->tls_cfg.enabled ? c->tls->ctx : NULL;
    sc.facts = &c->facts;
    sc.ws_subprotocol = c->cfg.ws_subprotocol;
    sc.mqtt_version = c->cfg.version;
    sc.bind_address = c->cfg.bind_address;
    sc.proxy = c->has_proxy ? &c->proxy : NULL;
    c->facts_used = sc.tls != NULL;
    return mqtls__stack_create(&sc, &c->conn_err, &c->t);
}

void mqtls__client_start_attempt(mqtls_client_t *c)
{
    mqtls_error_init(&c->conn_err);
    c->conn_gen++;
    c->connect_started = false; /* the deadline starts with the transport's first connect() */
    c->connack_seen = false;
    c->rx_len = 0;
    LOG(c, MQTLS_LOG_INFO, "connecting to %s:%u (%s%s%s)",
        c->uri.scheme == MQTLS_SCHEME_UNIX ? c->uri.path : c->uri.host, c->uri.port,
        c->tls_cfg.enabled ? "tls" : (c->uri.scheme == MQTLS_SCHEME_UNIX ? "unix" : "tcp"),
        c->uri.websocket ? ", websocket " : "", c->uri.websocket ? c->uri.path : "");
    /* tls.h promises these loudly at every connect, not once at create (issue 10). */
    if (c->tls_cfg.enabled && c->tls_cfg.insecure) {
        LOG(c, MQTLS_LOG_WARN,
            "TLS verification is OFF (insecure): the broker is not authenticated, anyone on the "
            "path can pretend to be %s",
            c->uri.host);
    } else if (c->tls_cfg.enabled && c->tls_cfg.no_hostname_check) {
        LOG(c, MQTLS_LOG_WARN,
            "the broker certificate's host name is NOT checked (no_hostname_check): any "
            "certificate your CA signed can pretend to be %s",
            c->uri.host);
    }
}

/* The transport's connect() did not finish in connect_timeout_ms. TCP reports its own
 * timeouts (name resolution included) at the same deadline; what is left is a handshake. */
static void connect_timed_out(mqtls_client_t *c, int64_t now)
{
    mqtls_error_t e = c->conn_err;
    mqtls_error_init(&c->conn_err);
    c->conn_err.layer = c->tls_cfg.enabled ? MQTLS_LAYER_TLS : MQTLS_LAYER_TCP;
    c->conn_err.status =
        c->tls_cfg.enabled ? MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT : MQTLS_ERR_CONNECT_TIMEOUT;
    c->conn_err.mbedtls_ret = e.mbedtls_ret;
    mqtls__client_fail_transport(c, c->conn_err.status, now);
}

bool mqtls__client_advance_connect(mqtls_client_t *c, int64_t now)
{
    if (c->state == MQTLS_STATE_BACKOFF) {
        if (now < c->deadline_ms) {
            return false;
        }
        must_transition(c, MQTLS__CEV_RETRY);
        mqtls__client_start_attempt(c);
    }
    if (c->state == MQTLS_STATE_CONNECTING) {
        if (c->t == NULL) {
            mqtls_status_t st = make_transport(c);
            if (st != MQTLS_OK) {
                mqtls__client_fail_transport(c, st, now);
                return false;
            }
            c->t->err = &c->conn_err;
        }
        if (!c->connect_started) {
            /* The same now as the transport's first connect(): both deadlines agree. */
            c->connect_started = true;
            c->deadline_ms = now + (int64_t)c->cfg.connect_timeout_ms;
        }
        mqtls_status_t st = c->t->ops->connect(c->t, now);
        if (st == MQTLS_ERR_WOULD_BLOCK) {
            if (now >= c->deadline_ms) {
                connect_timed_out(c, now);
            }
            return false;
        }
        if (st != MQTLS_OK) {
            mqtls__client_fail_transport(c, st, now);
            return false;
        }
        st = mqtls__session_on_transport_up(&c->s, now);
        if (st != MQTLS_OK) {
            mqtls__client_fail_session(c, now);
            return false;
        }
        must_transition(c, MQTLS__CEV_TRANSPORT_UP);
    }
    return c->state == MQTLS_STATE_MQTT_CONNECTING || c->state == MQTLS_STATE_CONNECTED ||
           c->state == MQTLS_STATE_DISCONNECTING;
}

/* --- the end of a connection ------------------------------------------------------------ */

/* Fail over: the next attempt goes to the next broker of the list (cfg.uri, cfg.uris), through
 * a transport made for it (the old one knows the old host). */
static void next_broker(mqtls_client_t *c)
{
    if (c->broker_count < 2) {
        return;
    }
    c->broker_index = (c->broker_index + 1u) % c->broker_count;
    (void)mqtls_uri_parse(c->brokers[c->broker_index], &c->uri); /* checked at create */
    if (c->t != NULL) {
        c->t->ops->destroy(c->t); /* closed already */
        c->t = NULL;
    }
    LOG(c, MQTLS_LOG_INFO, "failing over to broker %zu of %zu: %s:%u", c->broker_index + 1u,
        c->broker_count, c->uri.host, c->uri.port);
}

void mqtls__client_connection_ended(mqtls_client_t *c, const mqtls_error_t *why_in, int64_t now)
{
    bool was_connecting =
        c->state == MQTLS_STATE_CONNECTING || c->state == MQTLS_STATE_MQTT_CONNECTING;
    mqtls_error_t lost = *why_in;
    if (c->connack_seen && lost.status != MQTLS_OK && lost.connack_reason < 0) {
        /* The broker had accepted this connection (CONNACK 0): whoever diagnoses the failure
         * must not read it as an answer to CONNECT ("closed after CONNECT without a CONNACK"
         * for a subscribed client whose broker stopped; issue 10). */
        lost.connack_reason = 0;
    }
    c->connack_seen = false;
    const mqtls_error_t *why = &lost;
    if (c->t != NULL) {
        c->t->ops->close(c->t);
    }
    c->close_wait = false;
    mqtls__session_on_closed(&c->s);
    c->rx_len = 0;
    bool requested = why->status == MQTLS_OK;
    if (!requested) {
        c->last_err = *why;
    }
    bool again = !requested && c->want_connection && c->cfg.reconnect.enabled;
    uint32_t delay = 0;
    if (again) {
        delay = mqtls__backoff_ms(c->attempt, c->cfg.reconnect.min_ms, c->cfg.reconnect.max_ms,
                                  mqtls__client_rand32(c));
        c->attempt++;
        must_transition(c, MQTLS__CEV_LOST_RETRY);
        c->deadline_ms = now + delay;
    } else {
        must_transition(c, MQTLS__CEV_ENDED);
        c->want_connection = false;
    }
    LOG(c, requested ? MQTLS_LOG_INFO : MQTLS_LOG_WARN, "disconnected: %s: %s (%s)%s%s",
        mqtls_layer_name(why->layer), mqtls_status_text(why->status),
        mqtls_status_name(why->status), why->detail[0] != '\0' ? ": " : "", why->detail);
    mqtls_event_t ev;
    if (was_connecting && !requested) {
        memset(&ev, 0, sizeof ev);
        ev.type = MQTLS_EVENT_ERROR;
        ev.u.error.err = *why;
        ev.u.error.findings = mqtls__client_diagnose(c, why);
        for (size_t i = 0; i < mqtls_findings_count(ev.u.error.findings); i++) {
            const mqtls_finding_t *f = mqtls_findings_get(ev.u.error.findings, i);
            LOG(c, MQTLS_LOG_WARN, "finding %s: %s", mqtls_finding_id(f), mqtls_finding_message(f));
        }
        mqtls__client_emit(c, &ev);
    }
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_DISCONNECTED;
    ev.u.disconnected.why = *why;
    ev.u.disconnected.will_reconnect = again;
    ev.u.disconnected.reconnect_in_ms = delay;
    mqtls__client_emit(c, &ev);
    if (again && c->state == MQTLS_STATE_BACKOFF) {
        next_broker(c); /* after the events: their findings and logs name this broker */
    }
}

void mqtls__client_fail_transport(mqtls_client_t *c, mqtls_status_t st, int64_t now)
{
    if (c->state == MQTLS_STATE_DISCONNECTING && mqtls__session_wants_close(&c->s)) {
        /* Our DISCONNECT is out: the broker closing first (cleanly or not) is the end we
         * asked for. */
        mqtls_error_t done;
        mqtls_error_init(&done);
        mqtls__client_connection_ended(c, &done, now);
        return;
    }
    /* Keep the transport's details when they describe this failure. */
    mqtls_error_t e = c->conn_err;
    if (e.status != st) {
        mqtls_error_init(&e);
        e.status = st;
    }
    if (e.layer == MQTLS_LAYER_NONE) {
        e.layer = c->tls_cfg.enabled && st != MQTLS_ERR_CLOSED ? MQTLS_LAYER_TLS : MQTLS_LAYER_TCP;
    }
    mqtls__client_connection_ended(c, &e, now);
}

void mqtls__client_fail_session(mqtls_client_t *c, int64_t now)
{
    mqtls_error_t e = c->s.err;
    if (e.layer == MQTLS_LAYER_NONE) {
        e.layer = MQTLS_LAYER_MQTT;
    }
    mqtls__client_connection_ended(c, &e, now);
}
