/* Internal: the sans-I/O MQTT session (DESIGN.md "src/client").
 *
 * No OS calls, no malloc, no clock: the caller gives the session one arena at setup (size from
 * mqtls__session_arena_size()), time as now_ms, received bytes, and takes bytes to write as an
 * iovec list. The outbox (entry table + byte ring) starts small inside the arena and grows on
 * demand up to the configured limits: when a publish does not fit, the session says how much
 * it wants (mqtls__session_outbox_want()) and the caller hands it a bigger buffer
 * (mqtls__session_grow_outbox()); growth doubles, so it is amortised over many publishes.
 * The two packet-id sets (ours in use, inbound QoS 2 awaiting PUBREL) hold 32 ids each in the
 * session; beyond that they want an 8 KiB bitmap from the caller the same way
 * (mqtls__session_ids_want(), mqtls__session_give_ids_map()), given back when few ids are left.
 * The control packet buffer and the subscription store also start small in the arena (CONNECT
 * room + 512 B + room for MQTLS__CTRL_INITIAL_ACKS acknowledgements; 256 B) and grow the same
 * way, doubling up to their configured sizes (mqtls__session_ctrl_want() / _give_ctrl(),
 * mqtls__session_subs_want() / _give_subs()); the control buffer's limit keeps the whole
 * acknowledgement reserve (Receive Maximum acks), into which it grows when more acks are queued
 * than fit; a grown control buffer goes back once it is empty.
 * Events (mqtls_event_t from mqtls/client.h) are delivered synchronously through the callback
 * in the config, from inside the call that caused them. */
#ifndef MQTLS_CLIENT_SESSION_H
#define MQTLS_CLIENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/idset.h"
#include "mqtls/auth.h"
#include "mqtls/error.h"
#include "mqtls/event.h"
#include "mqtls/packet.h"
#include "mqtls/types.h"

/** Longest topic kept in a topic alias table slot (bytes). */
#define MQTLS__ALIAS_TOPIC_MAX 256u
/** Default first outbox capacity (clamped to the limits): enough for an idle client and for
 *  small QoS 0 messages on the zero-copy path; the outbox grows from there. */
#define MQTLS__OUTBOX_INITIAL_ENTRIES 16u
#define MQTLS__OUTBOX_INITIAL_BYTES 1024u
/** out_iov() plans publishes until this many bytes: one full TLS record (RFC 8446 5.1,
 *  2^14), or one large writev on plain TCP. Also what a corked session lets out at once. */
#define MQTLS__OUT_BATCH_BYTES 16384u
/** Acknowledgements the control buffer in the arena has room for beyond its other packets (at
 *  most the Receive Maximum's): more grow the buffer, up to the whole reserve. */
#define MQTLS__CTRL_INITIAL_ACKS 32u
/** Outbox buffers still holding live packets after the outbox grew (each growth at least
 *  doubles, so 24 covers 1 KiB .. 16 GiB). */
#define MQTLS__OUTBOX_OLD_MAX 24u

/** Session state: one enum, changed only by mqtls__session_transition() (session.c). */
typedef enum mqtls__sstate {
    MQTLS__S_IDLE = 0,       /* no connection */
    MQTLS__S_CONNECTING,     /* transport up, CONNECT queued, waiting for CONNACK */
    MQTLS__S_CONNECTED,      /* CONNACK accepted */
    MQTLS__S_DISCONNECTING   /* DISCONNECT queued; close once written */
} mqtls__sstate_t;

/** Inputs of the state machine. */
typedef enum mqtls__sevent {
    MQTLS__EV_TRANSPORT_UP = 0, /* IDLE -> CONNECTING */
    MQTLS__EV_CONNACK_OK,       /* CONNECTING -> CONNECTED */
    MQTLS__EV_USER_DISCONNECT,  /* CONNECTING/CONNECTED -> DISCONNECTING */
    MQTLS__EV_CLOSED            /* any -> IDLE */
} mqtls__sevent_t;

typedef void (*mqtls__session_event_fn)(void *ctx, const mqtls_event_t *ev);
/** Packet observer: @p sent is true for a packet whose first byte is being written, false for
 *  a packet just decoded (before the session acts on it). @p pkt is borrowed for the call. */
typedef void (*mqtls__session_trace_fn)(void *ctx, bool sent, const mqtls_packet_t *pkt);

/** What the session tells a persistence store (src/runtime/persist.c), as it happens. The
 *  session stays sans-I/O: the store does the file I/O, the session only orders the calls so
 *  that each record is written before the packet that depends on it leaves (comments below). */
typedef enum mqtls__persist_kind {
    MQTLS__P_PUB_ADDED = 0, /* a QoS 1/2 PUBLISH entered the outbox (packet = its bytes, DUP 0),
                               before publish() returns: a failure refuses the publish */
    MQTLS__P_PUB_SENT,      /* written once on some connection (only the DUP flag depends on it) */
    MQTLS__P_PUB_PUBREC,    /* QoS 2: PUBREC received, before PUBREL is queued: a restart then
                               sends PUBREL, never the PUBLISH again [MQTT-4.3.3] */
    MQTLS__P_PUB_REQUEUED,  /* QoS 2 after PUBREC, the broker lost the session: publish again */
    MQTLS__P_PUB_DONE,      /* acknowledged, refused or dropped: no longer resent */
    MQTLS__P_IN_RECEIVED,   /* QoS 2 PUBLISH received (message = it, topic resolved), before it is
                               delivered: a failure closes the connection, nothing delivered */
    MQTLS__P_IN_DELIVERED,  /* the message callback returned (before PUBREC is queued) */
    MQTLS__P_IN_RELEASED,   /* PUBREL received, before PUBCOMP is queued: the broker may reuse
                               the id once PUBCOMP is out */
    MQTLS__P_IN_CLEARED     /* the broker has no session: every inbound id is forgotten */
} mqtls__persist_kind_t;

typedef struct mqtls__persist_op {
    mqtls__persist_kind_t kind;
    uint16_t packet_id;
    uint8_t qos;
    mqtls_bytes_t packet;           /* MQTLS__P_PUB_ADDED: the encoded PUBLISH */
    const mqtls_publish_t *message; /* MQTLS__P_IN_RECEIVED: the message as delivered */
} mqtls__persist_op_t;

/** The store's hook. @return MQTLS_OK, or a status: for PUB_ADDED, PUB_PUBREC, IN_RECEIVED and
 *  IN_RELEASED the session then refuses the publish or closes the connection (the packet that
 *  depended on the record is not sent); for the others it is ignored (the store reports it). */
typedef mqtls_status_t (*mqtls__session_persist_fn)(void *ctx, const mqtls__persist_op_t *op);

typedef struct mqtls__session_cfg {
    mqtls_version_t version;
    mqtls_bytes_t client_id;
    bool has_username;
    mqtls_bytes_t username;
    bool has_password;
    mqtls_bytes_t password;
    uint16_t keepalive_s;
    bool clean_start;
    uint32_t session_expiry_s;
    bool has_will;
    mqtls_bytes_t will_topic;
    mqtls_bytes_t will_payload;
    uint8_t will_qos;
    bool will_retain;
    mqtls_properties_t will_props;
    mqtls_properties_t connect_props;
    uint32_t connack_timeout_ms;
    uint32_t ping_timeout_ms;     /* 0 = keepalive interval */
    size_t max_messages;          /* outbox entry slots (limit) */
    size_t max_bytes;             /* outbox byte ring (limit) */
    size_t initial_messages;      /* entry slots in the arena; 0 = MQTLS__OUTBOX_INITIAL_ENTRIES */
    size_t initial_bytes;         /* ring bytes in the arena; 0 = MQTLS__OUTBOX_INITIAL_BYTES */
    uint16_t receive_maximum;     /* announced (MQTT 5); the control buffer's limit keeps room
                                     for this many acknowledgements (the arena's buffer for
                                     MQTLS__CTRL_INITIAL_ACKS). 0 = 65535, not announced */
    uint16_t max_inflight;        /* our cap on QoS>0 in flight; 0 = see window_default() */
    uint32_t max_packet_size;     /* inbound limit, announced (MQTT 5) */
    uint16_t topic_alias_maximum; /* inbound aliases accepted */
    uint16_t outbound_aliases;    /* outbound alias slots (QoS 0 only) */
    size_t ctrl_bytes;            /* control packets beyond the ack reserve and the resubscribe
                                     room, the most the buffer grows to; 0 = CONNECT size +
                                     8 KiB. It starts at CONNECT size + 512 B (+ reserve) */
    size_t sub_store_bytes;       /* remembered subscriptions, the most the store grows to;
                                     0 = 4 KiB. It starts at 256 B */
    mqtls__session_event_fn on_event;
    void *event_ctx;
    mqtls__session_trace_fn on_trace; /* NULL = no trace; called with event_ctx */
    /* MQTT 5 enhanced authentication (auth.c); auth_method.len 0 = none */
    mqtls_bytes_t auth_method;
    mqtls_auth_start_fn auth_start;
    mqtls_auth_step_fn auth_step;
    void *auth_ctx;
    mqtls__session_persist_fn on_persist; /* NULL = no persistence */
    void *persist_ctx;
} mqtls__session_cfg_t;

typedef struct mqtls__entry {
    uint32_t off;       /* packet bytes in the ring */
    uint32_t len;
    uint32_t span;      /* ring bytes charged (len + wrap padding) */
    uint16_t packet_id;
    uint8_t qos;
    uint8_t state;      /* enum entry_state in session_internal.h */
    bool was_sent;      /* sent on some connection: resend with DUP if session resumed */
    uint8_t gen;        /* which byte ring holds it: s->ring_gen, or an older one (s->old) */
} mqtls__entry_t;

/** A byte ring the outbox grew out of: it keeps its live packets where they are (no copy)
 *  until they are reaped, then its buffer goes back to the caller. */
typedef struct mqtls__outbox_old {
    void *buf;      /* what the caller gave grow_outbox(); NULL = the arena */
    uint8_t *bytes; /* its ring */
    size_t used;    /* ring bytes charged to entries not yet reaped */
    uint8_t gen;
} mqtls__outbox_old_t;

typedef struct mqtls__alias {
    uint16_t len; /* 0 = unused */
    uint8_t topic[MQTLS__ALIAS_TOPIC_MAX];
} mqtls__alias_t;

typedef struct mqtls__session {
    mqtls__session_cfg_t cfg;
    mqtls__sstate_t state;
    mqtls_error_t err; /* why the session failed (status < 0 from a call) */

    /* outbox: entry ring (FIFO by creation) + byte ring; both grow up to the cfg limits */
    mqtls__entry_t *entries;
    size_t ent_cap, ent_head, ent_count;
    uint8_t *ring;
    size_t ring_cap, ring_rd, ring_wr, ring_used;
    void *outbox_buf;  /* buffer given by grow_outbox() holding entries + ring; NULL = arena */
    uint8_t ring_gen;  /* generation of the current ring (entries carry theirs) */
    mqtls__outbox_old_t old[MQTLS__OUTBOX_OLD_MAX]; /* older rings with live packets, oldest first */
    size_t old_count;
    size_t old_used;   /* sum of old[].used */
    void *reclaim[MQTLS__OUTBOX_OLD_MAX + 1u]; /* drained buffers for the caller to free */
    size_t reclaim_count;
    size_t want_ent, want_ring; /* capacity the last refused publish needs; 0 = none */
    size_t live_count; /* entries not yet done */
    size_t inflight;   /* QoS > 0 sent and not completed (Receive Maximum window) */
    long cur_entry;    /* entry partially written, -1 none */
    size_t cur_off;
    /* the last out_iov() batch: entries [plan_lo, plan_hi) that were E_QUEUED (and QoS 0 when
     * plan_drain) went out in order after the current entry and the control bytes */
    size_t plan_lo, plan_hi;
    bool plan_drain;
    bool corked; /* hold publishes until a full batch (MQTLS__OUT_BATCH_BYTES) or uncork */

    /* a user DISCONNECT waits until queued QoS 0 messages are written (they would be lost) */
    bool disconnect_pending;
    uint8_t disconnect_reason;

    /* control packets (CONNECT, acks, SUBSCRIBE, PINGREQ, DISCONNECT): a buffer in the arena
     * (ctrl_home) that grows, by buffers the caller gives (give_ctrl()), up to ctrl_limit */
    uint8_t *ctrl;
    size_t ctrl_cap, ctrl_rd, ctrl_wr;
    size_t ctrl_traced; /* on_trace: the control packets before this offset were reported */
    size_t ack_reserve; /* bytes of ctrl only acknowledgements may use (receive_maximum of
                           them), kept within ctrl_limit: other packets never take the room
                           acks need */
    size_t ack_keep;    /* the part of it other packets leave free in ctrl as it is (room for
                           MQTLS__CTRL_INITIAL_ACKS acks); acks beyond grow the buffer */
    bool input_stalled; /* on_bytes() stopped before a packet whose ack found no room (and
                           wants a bigger ctrl, unless it is at its limit) */
    uint8_t *ctrl_home;    /* the arena's control buffer (ctrl_home_cap bytes) */
    size_t ctrl_home_cap;
    size_t ctrl_limit;     /* the most ctrl_cap grows to */
    void *ctrl_buf;        /* the buffer give_ctrl() gave, now ctrl; NULL = ctrl is ctrl_home */
    size_t ctrl_want;      /* capacity a refused control packet needs; 0 = none */
    bool ctrl_stalled;     /* on_bytes() stopped before a packet whose answer needs ctrl_want */
    bool ping_owed;        /* tick() found no room for PINGREQ: out_iov() queues it */
    void *mem_back[4];     /* control / subscription buffers given back, to be freed */
    size_t release_due; /* entries in E_RELEASE (PUBRELs to resend after a resume) */
    size_t qos2_republished; /* at the last CONNACK: QoS 2 messages the broker had PUBREC'd
                                published again as new, the session being lost (a duplicate
                                is possible: exactly once needs a session that persists) */

    mqtls__idset_t ids_out;     /* our packet ids in use */
    mqtls__idset_t ids_in_qos2; /* inbound QoS 2 ids awaiting PUBREL */
    void *ids_back[2];  /* bitmaps the sets gave back (ids_out's, ids_in_qos2's), to be freed */
    bool ids_stalled;   /* on_bytes() stopped before a packet that needs an id set's bitmap */
    uint16_t next_id;

    mqtls__alias_t *alias_in;  /* [topic_alias_maximum] */
    mqtls__alias_t *alias_out; /* [outbound_aliases] */
    uint16_t alias_out_used;
    uint16_t alias_out_max;    /* min(ours, broker's Topic Alias Maximum) */

    uint8_t *subs;             /* remembered subscriptions: [u16 len][filter][u8 opts]... */
    size_t subs_cap, subs_len;
    size_t subs_limit;         /* cfg sub_store_bytes: the most subs_cap grows to */
    void *subs_buf;            /* the buffer give_subs() gave, now subs; NULL = the arena's */
    size_t subs_want;          /* capacity a refused SUBSCRIBE needs; 0 = none */

    /* broker limits from CONNACK */
    uint16_t window;           /* broker Receive Maximum */
    uint32_t broker_max_packet;/* 0 = unknown / unlimited */
    uint8_t broker_max_qos;
    bool broker_retain;
    bool session_present;
    uint32_t qos2_downgrades; /* QoS 2 PUBLISHes the broker acknowledged with PUBACK */

    /* timers */
    int64_t connect_ms;
    int64_t last_tx_ms;
    int64_t ping_sent_ms;      /* -1: no PINGREQ outstanding */
    uint32_t keepalive_ms;

    /* enhanced authentication (auth.c) */
    uint8_t *auth_buf; /* MQTLS_AUTH_DATA_MAX bytes in the arena when a method is configured */
    bool auth_busy;    /* a re-authentication (AUTH 0x19) waits for the broker's answer */
} mqtls__session_t;

/** Bytes of arena mqtls__session_setup() needs for @p cfg. */
size_t mqtls__session_arena_size(const mqtls__session_cfg_t *cfg);

/** Set up @p s on @p arena (borrowed until the session is dropped; need not be zeroed).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (arena too small, bad cfg). */
mqtls_status_t mqtls__session_setup(mqtls__session_t *s, const mqtls__session_cfg_t *cfg,
                                    void *arena, size_t arena_len);

/** Transport is connected: queue CONNECT. @return MQTLS_OK; MQTLS_ERR_STATE; encode status. */
mqtls_status_t mqtls__session_on_transport_up(mqtls__session_t *s, int64_t now_ms);

/** Feed received bytes. Processes every complete packet at the front of @p in, except that it
 *  stops before a packet whose acknowledgement would not fit the control buffer (back-pressure:
 *  mqtls__session_input_blocked() is then true until a bigger buffer is given -- it is wanted
 *  (mqtls__session_ctrl_want()) unless the buffer is at its limit -- or enough output was
 *  written; feed the rest again then), and before a packet that needs an id bitmap (an inbound QoS 2 PUBLISH beyond
 *  MQTLS__IDSET_SMALL awaiting PUBREL, a CONNACK whose resubscribe needs more ids) or a bigger
 *  control buffer (a CONNACK whose resubscribe does not fit it, an AUTH to answer): blocked
 *  until mqtls__session_give_ids_map() / mqtls__session_give_ctrl(). Once our DISCONNECT is
 *  queued, input is consumed and ignored.
 *  The first byte of a packet is judged as soon as it arrives: a type the broker may not send
 *  in this state, or reserved flag bits [MQTT-2.2.2-2], fail at once (no wait for the body).
 *  @param[out] used  Bytes consumed (whole packets).
 *  @param[out] need  Total size of the incomplete packet at the front, 0 if unknown.
 *  @return MQTLS_OK; a negative status: the connection must be closed (details in s->err). */
mqtls_status_t mqtls__session_on_bytes(mqtls__session_t *s, const uint8_t *in, size_t len,
                                       int64_t now_ms, size_t *used, size_t *need);

/** on_bytes() stopped for lack of room for acknowledgements, and there still is none: give the
 *  control buffer it wants (mqtls__session_ctrl_want() > 0: below its limit), or, at the limit
 *  or without the memory, write first and do not read more (back-pressure on the broker, never
 *  a refused ack); or it stopped for an id bitmap or a control buffer not given yet
 *  (mqtls__session_ids_want() > 0, mqtls__session_ctrl_want() > 0): give it, then feed again. */
bool mqtls__session_input_blocked(const mqtls__session_t *s);

/** The input is blocked (mqtls__session_input_blocked()) until memory is given: writing
 *  alone does not unblock it (an id bitmap, or a control buffer for a CONNACK's resubscribe or
 *  an AUTH). False when acknowledgements wait for room: a bigger buffer helps, draining the
 *  output does too. */
bool mqtls__session_input_needs_memory(const mqtls__session_t *s);

/** The transport is gone (error, close, or after DISCONNECT was flushed). Resets per-connection
 *  state, keeps what the session must keep ([MQTT-4.4.0-1]). Never fails. */
void mqtls__session_on_closed(mqtls__session_t *s);

/** Bytes to write now, as up to @p max iovecs. @return the number of iovecs (0 = nothing). */
size_t mqtls__session_out_iov(mqtls__session_t *s, mqtls_iovec_t *iov, size_t max);

/** @p n bytes of the last out_iov() batch were written. */
void mqtls__session_out_consumed(mqtls__session_t *s, size_t n, int64_t now_ms);

/** Is there anything to write? */
bool mqtls__session_has_output(const mqtls__session_t *s);

/** DISCONNECTING and everything written: the caller should close now. */
bool mqtls__session_wants_close(const mqtls__session_t *s);

/** Timers. @return MQTLS_OK (maybe a PINGREQ was queued); MQTLS_ERR_KEEPALIVE_TIMEOUT or
 *  MQTLS_ERR_CONNACK_TIMEOUT: close the connection. */
mqtls_status_t mqtls__session_tick(mqtls__session_t *s, int64_t now_ms);

/** Absolute time of the next timer, INT64_MAX if none. */
int64_t mqtls__session_next_deadline(const mqtls__session_t *s);

/** Queue a PUBLISH (copied once into the outbox). See mqtls_client_publish() for statuses. */
mqtls_status_t mqtls__session_publish(mqtls__session_t *s, const mqtls_publish_t *pub,
                                      uint16_t *packet_id);

/** QoS 0 zero-copy path. direct_begin() checks the connection is idle and the packet would
 *  fit the outbox, and encodes the header (topic alias applied) into @p hdr.
 *  @return MQTLS_OK (write hdr + payload now, then call direct_end());
 *          MQTLS_ERR_WOULD_BLOCK (use mqtls__session_publish()); a validation status. */
mqtls_status_t mqtls__session_direct_begin(mqtls__session_t *s, const mqtls_publish_t *pub,
                                           uint8_t *hdr, size_t hdr_cap, size_t *hdr_len);
/** @p sent bytes of hdr + payload were written; the rest is queued (cannot fail: space was
 *  checked by direct_begin()). */
void mqtls__session_direct_end(mqtls__session_t *s, const uint8_t *hdr, size_t hdr_len,
                               const uint8_t *payload, size_t payload_len, size_t sent,
                               int64_t now_ms);

mqtls_status_t mqtls__session_subscribe(mqtls__session_t *s, const mqtls_topic_filter_t *f,
                                        size_t count, const mqtls_properties_t *props,
                                        uint16_t *packet_id);
mqtls_status_t mqtls__session_unsubscribe(mqtls__session_t *s, const mqtls_topic_filter_t *f,
                                          size_t count, uint16_t *packet_id);
/** The client id the next CONNECT sends (a broker-assigned one, MQTT 5): @p id is borrowed
 *  until the next call or the session is dropped. */
void mqtls__session_set_client_id(mqtls__session_t *s, mqtls_bytes_t id);

/** Queue DISCONNECT. @return MQTLS_OK; MQTLS_ERR_STATE. */
mqtls_status_t mqtls__session_disconnect(mqtls__session_t *s, uint8_t reason);

/** After a publish refused with MQTLS_ERR_OUTBOX_FULL: the capacity that would let it in.
 *  @param[out] entries, ring_bytes  Wanted entry slots and ring bytes (within the limits).
 *  @return true: call mqtls__session_grow_outbox() with a buffer of
 *          mqtls__session_outbox_buf_size(*entries, *ring_bytes) and publish again;
 *          false: the configured limits are reached (the refusal stands). */
bool mqtls__session_outbox_want(const mqtls__session_t *s, size_t *entries, size_t *ring_bytes);

/** Bytes of buffer an outbox of @p entries slots and @p ring_bytes ring bytes takes. */
size_t mqtls__session_outbox_buf_size(size_t entries, size_t ring_bytes);

/** Grow the outbox into @p buf (borrowed until mqtls__session_outbox_reclaim() hands it back,
 *  or the session is dropped): the entry table is moved there (entries keep their order and
 *  state), new packets go to its ring; live packets stay where they are, not copied (a write
 *  in progress continues from the same bytes), and their ring is handed back once they are
 *  all reaped. Not between out_iov() and out_consumed().
 *  @param[out] old  The previous buffer if it held no live packet (caller frees it), else NULL
 *                   (it was in the arena, or it comes back later through _reclaim()).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (smaller than what is live or than now, above the
 *          limits, or @p buf_len too small): nothing changed. */
mqtls_status_t mqtls__session_grow_outbox(mqtls__session_t *s, void *buf, size_t buf_len,
                                          size_t entries, size_t ring_bytes, void **old);

/** Start MQTT 5 re-authentication (AUTH 0x19 with the authenticator's start data).
 *  @return MQTLS_OK; MQTLS_ERR_NOT_SUPPORTED (no method); MQTLS_ERR_STATE (not connected, or an
 *  exchange in progress); MQTLS_ERR_AUTH_FAILED (start failed); MQTLS_ERR_OUTBOX_FULL. */
mqtls_status_t mqtls__session_reauthenticate(mqtls__session_t *s);
/** State of an outbox entry put back from a store by mqtls__session_restore_publish(). */
typedef enum mqtls__restore_state {
    MQTLS__R_NOT_SENT = 0, /* never written: sent as a first delivery */
    MQTLS__R_SENT,         /* written before: resent with DUP if the session is resumed */
    MQTLS__R_PUBREC        /* QoS 2, PUBREC received: PUBREL is sent at the next connection */
} mqtls__restore_state_t;

/** Before the first connection (state IDLE, nothing published yet): put back a QoS 1/2 PUBLISH
 *  a store kept. @p pkt (copied) is the encoded PUBLISH for this session's MQTT version with
 *  packet id @p id and QoS @p qos; entries must come in their original order.
 *  @return MQTLS_OK; MQTLS_ERR_OUTBOX_FULL (grow the outbox and/or give the id bitmap as after
 *          a refused publish, then again);
 *          MQTLS_ERR_STATE; MQTLS_ERR_INVALID_ARG (id 0 or in use, qos, bytes not a PUBLISH
 *          with that id and QoS). */
mqtls_status_t mqtls__session_restore_publish(mqtls__session_t *s, const uint8_t *pkt, size_t len,
                                              uint16_t id, uint8_t qos,
                                              mqtls__restore_state_t state);
/** Before the first connection: inbound QoS 2 packet id @p id was received (and delivered or
 *  reported as in doubt) and awaits PUBREL: a resent PUBLISH with it is not delivered again.
 *  @return MQTLS_OK; MQTLS_ERR_OUTBOX_FULL (the id set wants its bitmap: give it, then again);
 *          MQTLS_ERR_STATE; MQTLS_ERR_INVALID_ARG (id 0). */
mqtls_status_t mqtls__session_restore_inbound(mqtls__session_t *s, uint16_t id);
/** A buffer the session no longer uses: one given to grow_outbox() whose packets are all
 *  gone, or an id bitmap given back (few ids left). The caller frees it. Call until NULL
 *  (after writes and acks; grow_outbox() hands back at once what is already empty).
 *  @return the buffer, or NULL when none is due. */
void *mqtls__session_reclaim(mqtls__session_t *s);

/** Most buffers mqtls__session_buffers() can report: the outbox's (current, older rings,
 *  drained), the id bitmaps (in use, given back), the control buffer and the subscription
 *  store (in use, given back). */
#define MQTLS__SESSION_BUFFERS_MAX (MQTLS__OUTBOX_OLD_MAX + 2u + 4u + 2u + 4u)

/** Every buffer the session was given and did not hand back yet (grow_outbox(): the current
 *  one, the older rings still holding packets, the drained ones; give_ids_map(): the bitmaps
 *  in use or given back; give_ctrl(), give_subs(): in use or given back): for the caller to
 *  free when it drops the session.
 *  @return how many were written to @p out (at most @p max). */
size_t mqtls__session_buffers(const mqtls__session_t *s, void **out, size_t max);

/** How many id bitmaps the session wants now (0, 1 or 2): after a call refused with
 *  MQTLS_ERR_OUTBOX_FULL (publish, subscribe, unsubscribe, restore_publish, restore_inbound)
 *  because more than MQTLS__IDSET_SMALL packet ids would be in use, or while on_bytes() stops
 *  before a packet that needs one (mqtls__session_input_blocked()). Give each with
 *  mqtls__session_give_ids_map(), then call again / feed again. */
size_t mqtls__session_ids_want(const mqtls__session_t *s);

/** Hand in one id bitmap of @p len >= MQTLS__IDSET_MAP_BYTES bytes (need not be zeroed),
 *  borrowed until mqtls__session_reclaim() returns it or the session is dropped; it goes to a
 *  set that wants one. @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (none wanted, @p len too
 *  small): not taken, the caller keeps it. */
mqtls_status_t mqtls__session_give_ids_map(mqtls__session_t *s, void *buf, size_t len);

/** Bytes of control buffer the session wants (0: none): after a SUBSCRIBE, UNSUBSCRIBE or
 *  re-authentication refused with MQTLS_ERR_OUTBOX_FULL because it did not fit the buffer as it
 *  is but fits the configured size, or while on_bytes() stops before a packet whose
 *  acknowledgement finds no room, or before a CONNACK whose resubscribe (or an AUTH whose
 *  answer) needs more room. PINGREQ, PUBREL and DISCONNECT also
 *  record it, and go anyway once the bytes before them are written. A want not given is
 *  dropped when the buffer empties. Give it with mqtls__session_give_ctrl(), then call again. */
size_t mqtls__session_ctrl_want(const mqtls__session_t *s);

/** Hand in a control buffer of @p len >= mqtls__session_ctrl_want() bytes (need not be
 *  zeroed), borrowed until mqtls__session_reclaim() returns it or the session is dropped. The
 *  unsent control bytes move into it (so never between out_iov() and out_consumed(): the iovecs
 *  point at the old buffer); the old one, when it was a given one, comes back through _reclaim().
 *  The session hands it back by itself once it is empty again (the arena's buffer serves).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (none wanted, @p len too small); MQTLS_ERR_STATE
 *          (buffers given back wait to be reclaimed: call mqtls__session_reclaim() first). Not
 *          taken unless MQTLS_OK: the caller keeps it. */
mqtls_status_t mqtls__session_give_ctrl(mqtls__session_t *s, void *buf, size_t len);

/** Bytes of subscription store the session wants (0: none): after a SUBSCRIBE refused with
 *  MQTLS_ERR_OUTBOX_FULL whose filters would not all be remembered in the store as it is. Give
 *  it with mqtls__session_give_subs(), then call again. */
size_t mqtls__session_subs_want(const mqtls__session_t *s);

/** Hand in a subscription store of @p len >= mqtls__session_subs_want() bytes, borrowed as with
 *  give_ctrl(); the remembered subscriptions move into it. Never handed back before the
 *  session is dropped (mqtls__session_buffers()) but when it grows again.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (as give_ctrl()). */
mqtls_status_t mqtls__session_give_subs(mqtls__session_t *s, void *buf, size_t len);

/** Cork: hold queued publishes (control packets still go) until a full batch
 *  (MQTLS__OUT_BATCH_BYTES) is queued or the cork is removed; a DISCONNECT drain ignores it.
 *  Also keeps QoS 0 off the zero-copy path, so that they are coalesced. */
void mqtls__session_set_cork(mqtls__session_t *s, bool corked);

/** Outbox entries not yet completed. */
size_t mqtls__session_outbox_count(const mqtls__session_t *s);
/** Bytes of the outbox ring in use. */
size_t mqtls__session_outbox_bytes(const mqtls__session_t *s);

/** Full-jitter exponential backoff: uniform in [0, min(max_ms, min_ms * 2^attempt)]. */
uint32_t mqtls__backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rand32);

/** Reset @p e to "no error". */
void mqtls__error_reset(mqtls_error_t *e);

#endif /* MQTLS_CLIENT_SESSION_H */
