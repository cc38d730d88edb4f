/* MQTT 5 enhanced authentication in the session ([MQTT-4.12], AUTH packets 3.15): the
 * Authentication Method and initial data in CONNECT, each AUTH "Continue authentication" from
 * the broker answered through the authenticator's step function, the final data of CONNACK or
 * of AUTH "Success" verified by it, and re-authentication (AUTH 0x19). The authenticator is the
 * caller's (mqtls/auth.h): the crypto lives there, this file only moves its bytes. Sans I/O. */
#include "client/session_internal.h"

#include <string.h>

#define AUTH_CONTINUE 0x18u
#define AUTH_REAUTH 0x19u
#define AUTH_SUCCESS 0x00u

bool mqtls__session_auth_on(const mqtls__session_t *s)
{
    return s->cfg.auth_method.len > 0;
}

/* The largest AUTH we send: fixed header (1 + at most 4 length bytes), reason code, property
 * length (at most 4), the method (1 + 2 + length) and the data (1 + 2 + MQTLS_AUTH_DATA_MAX). */
static size_t auth_bound(const mqtls__session_t *s)
{
    return 5u + 1u + 4u + 3u + s->cfg.auth_method.len + 3u + MQTLS_AUTH_DATA_MAX;
}

bool mqtls__session_auth_wants_ctrl(mqtls__session_t *s, const mqtls_packet_t *p)
{
    if (!mqtls__session_auth_on(s) || p->type != MQTLS_AUTH ||
        p->u.disconnect.reason != AUTH_CONTINUE) {
        return false;
    }
    return mqtls__session_ctrl_room(s, auth_bound(s), s->ack_reserve) == MQTLS__ROOM_WANTED;
}

/* The authenticator failed: the connection ends with MQTLS_ERR_AUTH_FAILED. */
static mqtls_status_t auth_failed(mqtls__session_t *s, const char *where, mqtls_status_t why)
{
    char detail[96];
    size_t n = 0;
    const char *parts[] = {"authenticator ", where, ": ", mqtls_status_name(why)};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t k = strlen(parts[i]);
        k = k < sizeof detail - 1u - n ? k : sizeof detail - 1u - n;
        memcpy(detail + n, parts[i], k);
        n += k;
    }
    detail[n] = '\0';
    return mqtls__session_fail(s, MQTLS_ERR_AUTH_FAILED, detail);
}

mqtls_status_t mqtls__session_auth_start(mqtls__session_t *s, mqtls_property_t props[2],
                                         size_t *count)
{
    *count = 0;
    if (!mqtls__session_auth_on(s)) {
        return MQTLS_OK;
    }
    size_t len = 0;
    mqtls_status_t st = s->cfg.auth_start(s->cfg.auth_ctx, s->auth_buf, MQTLS_AUTH_DATA_MAX, &len);
    if (st != MQTLS_OK || len > MQTLS_AUTH_DATA_MAX) {
        return auth_failed(s, "start", st != MQTLS_OK ? st : MQTLS_ERR_BUFFER_TOO_SMALL);
    }
    props[0].id = MQTLS_PROP_AUTHENTICATION_METHOD;
    props[0].v.bin = s->cfg.auth_method;
    *count = 1;
    if (len > 0) {
        props[1].id = MQTLS_PROP_AUTHENTICATION_DATA;
        props[1].v.bin.data = s->auth_buf;
        props[1].v.bin.len = len;
        *count = 2;
    }
    return MQTLS_OK;
}

/* Queue AUTH @p reason with our method and @p props (method, data). */
static mqtls_status_t queue_auth(mqtls__session_t *s, uint8_t reason, const mqtls_property_t *props,
                                 size_t count)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = MQTLS_AUTH;
    p.u.disconnect.reason = reason;
    p.u.disconnect.props.items = props;
    p.u.disconnect.props.count = count;
    mqtls_status_t st = mqtls__session_ctrl_put(s, &p);
    if (st != MQTLS_OK) {
        return mqtls__session_fail(s, st, "cannot queue AUTH");
    }
    return MQTLS_OK;
}

/* The broker's Authentication Method must be ours ([MQTT-4.12]: the method of CONNECT). */
static bool same_method(const mqtls__session_t *s, const mqtls_properties_t *props, bool required)
{
    mqtls_property_t pr;
    if (!mqtls_props_find(props, MQTLS_PROP_AUTHENTICATION_METHOD, &pr)) {
        return !required;
    }
    return pr.v.bin.len == s->cfg.auth_method.len &&
           memcmp(pr.v.bin.data, s->cfg.auth_method.data, pr.v.bin.len) == 0;
}

/* Call the step function with the broker's data of @p props; for Continue, answer it. */
static mqtls_status_t step(mqtls__session_t *s, uint8_t reason, const mqtls_properties_t *props)
{
    mqtls_property_t pr;
    const uint8_t *in = NULL;
    size_t in_len = 0;
    if (mqtls_props_find(props, MQTLS_PROP_AUTHENTICATION_DATA, &pr)) {
        in = pr.v.bin.data;
        in_len = pr.v.bin.len;
    }
    size_t len = 0;
    mqtls_status_t st = s->cfg.auth_step(s->cfg.auth_ctx, reason, in, in_len, s->auth_buf,
                                         MQTLS_AUTH_DATA_MAX, &len);
    if (st != MQTLS_OK || len > MQTLS_AUTH_DATA_MAX) {
        return auth_failed(s, reason == AUTH_SUCCESS ? "refused the server's final data" : "step",
                           st != MQTLS_OK ? st : MQTLS_ERR_BUFFER_TOO_SMALL);
    }
    if (reason != AUTH_CONTINUE) {
        return MQTLS_OK;
    }
    mqtls_property_t out[2] = {{.id = MQTLS_PROP_AUTHENTICATION_METHOD}};
    out[0].v.bin = s->cfg.auth_method;
    out[1].id = MQTLS_PROP_AUTHENTICATION_DATA;
    out[1].v.bin.data = s->auth_buf;
    out[1].v.bin.len = len;
    return queue_auth(s, AUTH_CONTINUE, out, len > 0 ? 2u : 1u);
}

mqtls_status_t mqtls__session_on_auth(mqtls__session_t *s, const mqtls_disconnect_t *a)
{
    if (!mqtls__session_auth_on(s)) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL,
                                   "AUTH from a broker we sent no Authentication Method");
    }
    bool exchanging = s->state == MQTLS__S_CONNECTING || s->auth_busy;
    if (!exchanging) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "AUTH outside an authentication");
    }
    if (!same_method(s, &a->props, true)) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL,
                                   "AUTH with another Authentication Method than ours");
    }
    if (a->reason == AUTH_CONTINUE) {
        return step(s, AUTH_CONTINUE, &a->props);
    }
    if (a->reason == AUTH_SUCCESS && s->auth_busy) {
        s->auth_busy = false; /* re-authentication done: the broker's final data is verified */
        return step(s, AUTH_SUCCESS, &a->props);
    }
    /* 0x19 comes from clients only; success during CONNECT is a CONNACK */
    return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL, "AUTH with an unexpected reason code");
}

mqtls_status_t mqtls__session_auth_connack(mqtls__session_t *s, const mqtls_connack_t *ca)
{
    if (!mqtls__session_auth_on(s)) {
        return MQTLS_OK;
    }
    if (!same_method(s, &ca->props, false)) {
        return mqtls__session_fail(s, MQTLS_ERR_PROTOCOL,
                                   "CONNACK with another Authentication Method than ours");
    }
    return step(s, AUTH_SUCCESS, &ca->props);
}

mqtls_status_t mqtls__session_reauthenticate(mqtls__session_t *s)
{
    if (!mqtls__session_auth_on(s)) {
        return MQTLS_ERR_NOT_SUPPORTED;
    }
    if (s->state != MQTLS__S_CONNECTED || s->auth_busy) {
        return MQTLS_ERR_STATE;
    }
    /* Room first (the start function is called once per AUTH sent): the caller grows the
     * control buffer and calls again. */
    if (mqtls__session_ctrl_room(s, auth_bound(s), s->ack_reserve) == MQTLS__ROOM_WANTED) {
        return MQTLS_ERR_OUTBOX_FULL;
    }
    mqtls_property_t props[2];
    size_t count = 0;
    mqtls_status_t st = mqtls__session_auth_start(s, props, &count);
    if (st != MQTLS_OK) {
        return st;
    }
    st = queue_auth(s, AUTH_REAUTH, props, count);
    if (st == MQTLS_OK) {
        s->auth_busy = true;
    }
    return st;
}
