/* Internal to src/client: what the files of the session (session.c, outbox.c, connect.c,
 * inbound.c, outbound.c) share. The API the rest of the library uses is client/session.h. */
#ifndef MQTLS_CLIENT_SESSION_INTERNAL_H
#define MQTLS_CLIENT_SESSION_INTERNAL_H

#include "client/session.h"

/* Outbox entry states (mqtls__entry_t.state). */
enum entry_state {
    E_FREE = 0,
    E_QUEUED,    /* waiting to be written on this connection */
    E_WRITING,   /* partially written (it is s->cur_entry) */
    E_WAIT_ACK,  /* QoS 1: PUBACK; QoS 2: PUBREC */
    E_WAIT_COMP, /* QoS 2: PUBREL queued/sent, waiting for PUBCOMP */
    E_DONE,
    E_RELEASE /* QoS 2, session resumed: PUBREL to send again when the control buffer has
                 room (then E_WAIT_COMP); counted in s->release_due */
};

/* The longest acknowledgement we queue: fixed header (2), packet id (2), MQTT 5 reason (1),
 * property length (1). */
#define ACK_MAX_LEN 6u

#define MAX_USER_CONNECT_PROPS 16u

static inline size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

static inline size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* The capacity a buffer of @p cap asks for to hold @p total bytes: doubled until it does, at
 * most @p limit (so growth is amortised). @p total > @p cap. */
static inline size_t mqtls__grow_to(size_t cap, size_t total, size_t limit)
{
    size_t n = cap > 0 ? cap : 1u;
    while (n < total && n < limit) {
        n = n > limit / 2u ? limit : n * 2u;
    }
    return min_size(n, limit);
}

/* The @p k-th entry from the head of the entry ring. */
static inline mqtls__entry_t *entry_at(const mqtls__session_t *s, size_t k)
{
    return &s->entries[(s->ent_head + k) % s->ent_cap];
}

/* --- session.c: errors, events, the state machine, packet ids, control packets ---------- */

/** Record @p st (layer MQTT) and @p detail (may be NULL) in s->err. */
void mqtls__session_set_err(mqtls__session_t *s, mqtls_status_t st, const char *detail);
/** set_err(), then @return @p st: the connection must be closed. */
mqtls_status_t mqtls__session_fail(mqtls__session_t *s, mqtls_status_t st, const char *detail);
/** s->err.detail = @p name, then the MQTT 5 Reason String of @p props if there is one:
 *  "Not authorized (broker: 'text')". @p name may be NULL. */
void mqtls__session_detail_reason(mqtls__session_t *s, const char *name,
                                  const mqtls_properties_t *props);
/** Deliver @p ev through the configured callback (synchronously). */
void mqtls__session_emit(mqtls__session_t *s, const mqtls_event_t *ev);
/** Deliver an MQTLS_EVENT_ERROR that does not end the connection. */
void mqtls__session_emit_error(mqtls__session_t *s, mqtls_status_t st, uint16_t packet_id,
                               const char *detail);
/** The one transition function: every change of s->state goes through here.
 *  @return MQTLS_OK; MQTLS_ERR_STATE (illegal in the current state: nothing changed). */
mqtls_status_t mqtls__session_transition(mqtls__session_t *s, mqtls__sevent_t ev);
/** A free packet id, marked in use. @return MQTLS_OK; MQTLS_ERR_NO_PACKET_ID (all 65535 in
 *  use); MQTLS_ERR_OUTBOX_FULL (MQTLS__IDSET_SMALL in use and no bitmap: one is wanted). */
mqtls_status_t mqtls__session_alloc_id(mqtls__session_t *s, uint16_t *out);
/** Our packet id @p id is free again (its bitmap may go back, see ids_shrink()). */
void mqtls__session_free_id(mqtls__session_t *s, uint16_t id);
/** Give back the bitmap of a set with few ids left (into s->ids_back, for _reclaim()). */
void mqtls__session_ids_shrink(mqtls__session_t *s);
/** Does a control packet of @p len bytes fit now, leaving @p keep bytes free (within the
 *  limit; in the buffer as it is, at most s->ack_keep of them)? */
typedef enum mqtls__room {
    MQTLS__ROOM_FITS = 0, /* it fits the buffer as it is */
    MQTLS__ROOM_WANTED,   /* it fits a grown buffer: ctrl_want records how big */
    MQTLS__ROOM_NEVER     /* not even at ctrl_limit (with what is queued before it) */
} mqtls__room_t;
mqtls__room_t mqtls__session_ctrl_room(mqtls__session_t *s, size_t len, size_t keep);
/** The control buffer is empty: offsets back to 0, a want not given dropped, a given buffer
 *  handed back (the arena's serves again); not while on_bytes() waits for the buffer given. */
void mqtls__session_ctrl_settle(mqtls__session_t *s);
/** Put a buffer the session no longer uses on the list for _reclaim(). false: the list is
 *  full (keep using it). */
bool mqtls__session_mem_back(mqtls__session_t *s, void *buf);
/** Encode @p pkt into the control buffer, leaving the acknowledgement reserve free (CONNECT and
 *  DISCONNECT may use it: nothing follows them). A refusal for room records ctrl_want when a
 *  grown buffer would take it. @return MQTLS_OK; MQTLS_ERR_OUTBOX_FULL; codec. */
mqtls_status_t mqtls__session_ctrl_put(mqtls__session_t *s, const mqtls_packet_t *pkt);
/** Queue PUBACK/PUBREC/PUBREL/PUBCOMP for @p id (reason only in MQTT 5), in answer to a packet
 *  of the broker: may use the reserve. on_bytes() checks mqtls__session_ack_room() before it
 *  takes a packet that needs one, so this does not fail there. */
mqtls_status_t mqtls__session_ctrl_ack(mqtls__session_t *s, mqtls_packet_type_t type, uint16_t id,
                                       uint8_t reason);
/** Room for one more acknowledgement in the control buffer? */
bool mqtls__session_ack_room(const mqtls__session_t *s);
/** No room for one more acknowledgement, but in a grown buffer: ctrl_want says how big.
 *  @return false at the limit (the acks queued must be written first). */
bool mqtls__session_ack_wants_ctrl(mqtls__session_t *s);
/** Tell the store (cfg.on_persist, if any) about @p kind for packet @p id.
 *  @return MQTLS_OK (also without a store); the store's status. */
mqtls_status_t mqtls__session_persist(mqtls__session_t *s, mqtls__persist_kind_t kind, uint16_t id,
                                      uint8_t qos, mqtls_bytes_t packet,
                                      const mqtls_publish_t *message);
/** mqtls__session_persist() of a record that carries only the packet id. */
static inline mqtls_status_t
mqtls__session_persist_id(mqtls__session_t *s, mqtls__persist_kind_t kind, uint16_t id, uint8_t qos)
{
    mqtls_bytes_t none = {NULL, 0};
    return mqtls__session_persist(s, kind, id, qos, none, NULL);
}
/** The in-flight window before the broker announces its Receive Maximum. */
uint16_t mqtls__session_window_default(const mqtls__session_cfg_t *cfg);

/* --- outbox.c ----------------------------------------------------------------------------- */

/** Room for one more entry of @p len bytes (conservative: as if it wrapped). */
bool mqtls__outbox_has_room(const mqtls__session_t *s, size_t len);
/** Append an E_QUEUED entry of @p len ring bytes. @return it (index from the head in
 *  @p index), or NULL when it does not fit. */
mqtls__entry_t *mqtls__outbox_push(mqtls__session_t *s, size_t len, size_t *index);
/** Where the bytes of @p e are (the current ring or an older one it has not left). */
uint8_t *mqtls__outbox_bytes(const mqtls__session_t *s, const mqtls__entry_t *e);
/** Drop completed entries from the front so that their bytes can be reused. */
void mqtls__outbox_reap(mqtls__session_t *s);
/** @p e is finished (acknowledged, written at QoS 0, or dropped): free its packet id. */
void mqtls__outbox_entry_done(mqtls__session_t *s, mqtls__entry_t *e);
/** Index from the head of the entry waiting for an ack of @p id at @p qos, or -1. */
long mqtls__outbox_find(const mqtls__session_t *s, uint16_t id, uint8_t qos);
/** A packet of @p need bytes did not fit: record the capacity that would take it. */
void mqtls__outbox_want_growth(mqtls__session_t *s, size_t need);

/* --- connect.c / outbound.c ------------------------------------------------------------- */

/** Before CONNACK is taken: will its resubscribe need more packet ids than the set holds
 *  without its bitmap? Then it wants one (on_bytes() stops before the CONNACK until given). */
bool mqtls__session_connack_wants_ids(mqtls__session_t *s, const mqtls_connack_t *ca);
/** Before CONNACK is taken: will its resubscribe not fit the control buffer as it is (but a
 *  grown one)? Then ctrl_want says how big (on_bytes() stops before the CONNACK until given). */
bool mqtls__session_connack_wants_ctrl(mqtls__session_t *s, const mqtls_connack_t *ca);
/** CONNACK received (inbound.c dispatches it here). */
mqtls_status_t mqtls__session_on_connack(mqtls__session_t *s, const mqtls_connack_t *ca);
/** A user DISCONNECT is pending and the QoS 0 messages before it are out: queue it. */
void mqtls__session_queue_disconnect(mqtls__session_t *s);

/* --- auth.c: MQTT 5 enhanced authentication ------------------------------------------------ */

/** A method is configured. */
bool mqtls__session_auth_on(const mqtls__session_t *s);
/** CONNECT's Authentication Method and Data (start function) into @p props (0 to 2 of them).
 *  @return MQTLS_OK; MQTLS_ERR_AUTH_FAILED (s->err says why). */
mqtls_status_t mqtls__session_auth_start(mqtls__session_t *s, mqtls_property_t props[2],
                                         size_t *count);
/** AUTH received (inbound.c). @return MQTLS_OK; a status that closes the connection. */
mqtls_status_t mqtls__session_on_auth(mqtls__session_t *s, const mqtls_disconnect_t *a);
/** Before packet @p p is taken: is it an AUTH "Continue" whose answer may not fit the control
 *  buffer as it is (but a grown one)? Then ctrl_want says how big (on_bytes() stops). */
bool mqtls__session_auth_wants_ctrl(mqtls__session_t *s, const mqtls_packet_t *p);
/** A successful CONNACK: the authenticator verifies the broker's final data.
 *  @return MQTLS_OK; MQTLS_ERR_AUTH_FAILED; MQTLS_ERR_PROTOCOL (another method). */
mqtls_status_t mqtls__session_auth_connack(mqtls__session_t *s, const mqtls_connack_t *ca);

#endif /* MQTLS_CLIENT_SESSION_INTERNAL_H */
