/* The sans-I/O MQTT session, core: errors and events, the state machine, packet ids, the
 * control packet buffer, setup, timers. No OS, no malloc, no clock (STYLE.md "Memory and
 * state"). The rest of the session: outbox.c, connect.c, inbound.c, outbound.c. */
#include "client/session_internal.h"

#include <string.h>

#include "mqtls/limits.h"

#define CTRL_EXTRA 8192u
/* What the control buffer holds in the arena beyond CONNECT room and the ack reserve: PINGREQ,
 * PUBRELs, a small SUBSCRIBE; more is given by the caller when needed (up to CTRL_EXTRA). */
#define CTRL_INITIAL_EXTRA 512u
#define SUBS_DEFAULT 4096u
/* The subscription store in the arena: a few filters; it grows up to sub_store_bytes. */
#define SUBS_INITIAL 256u

void mqtls__error_reset(mqtls_error_t *e)
{
    memset(e, 0, sizeof *e);
    e->tls_alert = -1;
    e->connack_reason = -1;
    e->disconnect_reason = -1;
}

void mqtls__session_set_err(mqtls__session_t *s, mqtls_status_t st, const char *detail)
{
    mqtls__error_reset(&s->err);
    s->err.layer = MQTLS_LAYER_MQTT;
    s->err.status = st;
    if (detail != NULL) {
        size_t n = strlen(detail);
        if (n >= sizeof s->err.detail) {
            n = sizeof s->err.detail - 1u;
        }
        memcpy(s->err.detail, detail, n);
        s->err.detail[n] = '\0';
    }
}

void mqtls__session_detail_reason(mqtls__session_t *s, const char *name,
                                  const mqtls_properties_t *props)
{
    char *d = s->err.detail;
    size_t cap = sizeof s->err.detail;
    size_t n = 0;
    if (name != NULL) {
        n = min_size(strlen(name), cap - 1u);
        memcpy(d, name, n);
    }
    d[n] = '\0';
    mqtls_property_t pr;
    if (s->cfg.version != MQTLS_V5 || props == NULL ||
        !mqtls_props_find(props, MQTLS_PROP_REASON_STRING, &pr)) {
        return;
    }
    /* The broker's own words [MQTT-3.2.2.3.9]: kept whole when they fit, else cut. */
    static const char open_[] = " (broker: '";
    static const char close_[] = "')";
    if (n + sizeof open_ + sizeof close_ >= cap) {
        return;
    }
    memcpy(d + n, open_, sizeof open_ - 1u);
    n += sizeof open_ - 1u;
    size_t room = cap - n - sizeof close_;
    size_t len = min_size(pr.v.bin.len, room);
    memcpy(d + n, pr.v.bin.data, len);
    n += len;
    memcpy(d + n, close_, sizeof close_); /* with its NUL */
}

void mqtls__session_emit(mqtls__session_t *s, const mqtls_event_t *ev)
{
    if (s->cfg.on_event != NULL) {
        s->cfg.on_event(s->cfg.event_ctx, ev);
    }
}

void mqtls__session_emit_error(mqtls__session_t *s, mqtls_status_t st, uint16_t packet_id,
                               const char *detail)
{
    mqtls_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MQTLS_EVENT_ERROR;
    mqtls__error_reset(&ev.u.error.err);
    ev.u.error.err.layer = MQTLS_LAYER_MQTT;
    ev.u.error.err.status = st;
    if (detail != NULL) {
        size_t n = strlen(detail);
        n = n < sizeof ev.u.error.err.detail ? n : sizeof ev.u.error.err.detail - 1u;
        memcpy(ev.u.error.err.detail, detail, n);
    }
    ev.u.error.packet_id = packet_id;
    mqtls__session_emit(s, &ev);
}

/* --- state machine ---------------------------------------------------------------------- */

/* The one transition function: every state change goes through here. */
mqtls_status_t mqtls__session_transition(mqtls__session_t *s, mqtls__sevent_t ev)
{
    mqtls__sstate_t next = s->state;
    switch (ev) {
    case MQTLS__EV_TRANSPORT_UP:
        if (s->state != MQTLS__S_IDLE) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_CONNECTING;
        break;
    case MQTLS__EV_CONNACK_OK:
        if (s->state != MQTLS__S_CONNECTING) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_CONNECTED;
        break;
    case MQTLS__EV_USER_DISCONNECT:
        if (s->state != MQTLS__S_CONNECTING && s->state != MQTLS__S_CONNECTED) {
            return MQTLS_ERR_STATE;
        }
        next = MQTLS__S_DISCONNECTING;
        break;
    case MQTLS__EV_CLOSED:
        next = MQTLS__S_IDLE;
        break;
    default:
        return MQTLS_ERR_STATE;
    }
    s->state = next;
    return MQTLS_OK;
}

/* --- packet ids ------------------------------------------------------------------------- */

mqtls_status_t mqtls__session_alloc_id(mqtls__session_t *s, uint16_t *out)
{
    if (!mqtls__idset_can_add(&s->ids_out)) {
        s->ids_out.wants_map = true; /* the caller gives the bitmap and calls again */
        return MQTLS_ERR_OUTBOX_FULL;
    }
    /* [MQTT-2.3.1-1] non-zero; [MQTT-2.3.1-2] unused by another in-flight packet. */
    for (uint32_t i = 0; i < 65535u; i++) {
        uint16_t id = s->next_id;
        s->next_id = (uint16_t)(s->next_id == 65535u ? 1u : s->next_id + 1u);
        if (!mqtls__idset_has(&s->ids_out, id)) {
            (void)mqtls__idset_add(&s->ids_out, id); /* room checked above */
            *out = id;
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_NO_PACKET_ID;
}

void mqtls__session_free_id(mqtls__session_t *s, uint16_t id)
{
    mqtls__idset_remove(&s->ids_out, id);
    mqtls__session_ids_shrink(s);
}

void mqtls__session_ids_shrink(mqtls__session_t *s)
{
    mqtls__idset_t *sets[2] = {&s->ids_out, &s->ids_in_qos2};
    for (size_t i = 0; i < 2u; i++) {
        /* One bitmap per set waits to be reclaimed; the next shrink waits for that. */
        if (s->ids_back[i] == NULL) {
            s->ids_back[i] = mqtls__idset_shrink(sets[i]);
        }
    }
}

size_t mqtls__session_ids_want(const mqtls__session_t *s)
{
    if (s == NULL) {
        return 0;
    }
    size_t n = 0;
    n += s->ids_out.wants_map && s->ids_out.map == NULL ? 1u : 0u;
    n += s->ids_in_qos2.wants_map && s->ids_in_qos2.map == NULL ? 1u : 0u;
    return n;
}

mqtls_status_t mqtls__session_give_ids_map(mqtls__session_t *s, void *buf, size_t len)
{
    if (s == NULL || buf == NULL || len < MQTLS__IDSET_MAP_BYTES) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__idset_t *sets[2] = {&s->ids_out, &s->ids_in_qos2};
    for (size_t i = 0; i < 2u; i++) {
        if (sets[i]->wants_map && sets[i]->map == NULL) {
            (void)mqtls__idset_give_map(sets[i], buf);
            return MQTLS_OK;
        }
    }
    return MQTLS_ERR_INVALID_ARG;
}

/* --- control buffer --------------------------------------------------------------------- */

static size_t ctrl_free(const mqtls__session_t *s)
{
    return s->ctrl_cap - (s->ctrl_wr - s->ctrl_rd);
}

bool mqtls__session_ack_room(const mqtls__session_t *s)
{
    return ctrl_free(s) >= ACK_MAX_LEN;
}

bool mqtls__session_ack_wants_ctrl(mqtls__session_t *s)
{
    return mqtls__session_ctrl_room(s, ACK_MAX_LEN, 0) == MQTLS__ROOM_WANTED;
}

bool mqtls__session_mem_back(mqtls__session_t *s, void *buf)
{
    for (size_t i = 0; i < sizeof s->mem_back / sizeof s->mem_back[0]; i++) {
        if (s->mem_back[i] == NULL) {
            s->mem_back[i] = buf;
            return true;
        }
    }
    return false;
}

static bool mem_back_full(const mqtls__session_t *s)
{
    for (size_t i = 0; i < sizeof s->mem_back / sizeof s->mem_back[0]; i++) {
        if (s->mem_back[i] == NULL) {
            return false;
        }
    }
    return true;
}

/* The bytes of @p keep that must be free in the buffer as it is: at most the reserve's part in
 * the arena (s->ack_keep). The whole of @p keep is kept within ctrl_limit (ctrl_fits()). */
static size_t keep_now(const mqtls__session_t *s, size_t keep)
{
    return min_size(keep, s->ack_keep);
}

/* Does a packet of @p len fit now, leaving @p keep free? In the buffer as it is: @p len and
 * keep_now(); within the limit: @p len and all of @p keep -- so that a buffer grown to its
 * limit always has the whole acknowledgement reserve free of other packets, as when the reserve
 * sat in the arena. */
static bool ctrl_fits(const mqtls__session_t *s, size_t len, size_t keep)
{
    size_t used = s->ctrl_wr - s->ctrl_rd;
    return used + len + keep_now(s, keep) <= s->ctrl_cap && used + len + keep <= s->ctrl_limit;
}

mqtls__room_t mqtls__session_ctrl_room(mqtls__session_t *s, size_t len, size_t keep)
{
    if (ctrl_fits(s, len, keep)) {
        return MQTLS__ROOM_FITS;
    }
    size_t used = s->ctrl_wr - s->ctrl_rd;
    if (used + len + keep > s->ctrl_limit) {
        return MQTLS__ROOM_NEVER; /* refused as when the buffer was fixed at its limit */
    }
    size_t want = mqtls__grow_to(s->ctrl_cap, used + len + keep_now(s, keep), s->ctrl_limit);
    s->ctrl_want = want > s->ctrl_want ? want : s->ctrl_want;
    return MQTLS__ROOM_WANTED;
}

void mqtls__session_ctrl_settle(mqtls__session_t *s)
{
    if (s->ctrl_rd != s->ctrl_wr) {
        return;
    }
    s->ctrl_rd = 0;
    s->ctrl_wr = 0;
    s->ctrl_traced = 0;
    if (s->ctrl_stalled) {
        return; /* the buffer given for the stalled packet is about to be used */
    }
    s->ctrl_want = 0; /* refused packets ask again when called again */
    if (s->ctrl_buf != NULL && mqtls__session_mem_back(s, s->ctrl_buf)) {
        s->ctrl_buf = NULL;
        s->ctrl = s->ctrl_home;
        s->ctrl_cap = s->ctrl_home_cap;
    }
}

size_t mqtls__session_ctrl_want(const mqtls__session_t *s)
{
    return s != NULL ? s->ctrl_want : 0;
}

mqtls_status_t mqtls__session_give_ctrl(mqtls__session_t *s, void *buf, size_t len)
{
    if (s == NULL || buf == NULL || s->ctrl_want == 0 || len < s->ctrl_want) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (s->ctrl_buf != NULL && mem_back_full(s)) {
        return MQTLS_ERR_STATE;
    }
    /* The unsent bytes move to the front of the new buffer. Nothing points at the old one:
     * out_iov()'s iovecs live only until out_consumed() (the caller never gives between them)
     * and a transport copies what it reports written (TLS into its record, TCP into the
     * kernel) -- the same reason compacting in ctrl_encode() may move them. */
    size_t used = s->ctrl_wr - s->ctrl_rd;
    memcpy(buf, s->ctrl + s->ctrl_rd, used);
    s->ctrl_traced -= s->ctrl_rd; /* never behind ctrl_rd (outbound.c) */
    if (s->ctrl_buf != NULL) {
        (void)mqtls__session_mem_back(s, s->ctrl_buf);
    }
    s->ctrl_buf = buf;
    s->ctrl = buf;
    s->ctrl_cap = min_size(len, s->ctrl_limit);
    s->ctrl_rd = 0;
    s->ctrl_wr = used;
    s->ctrl_want = 0;
    return MQTLS_OK;
}

size_t mqtls__session_subs_want(const mqtls__session_t *s)
{
    return s != NULL ? s->subs_want : 0;
}

mqtls_status_t mqtls__session_give_subs(mqtls__session_t *s, void *buf, size_t len)
{
    if (s == NULL || buf == NULL || s->subs_want == 0 || len < s->subs_want) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (s->subs_buf != NULL && mem_back_full(s)) {
        return MQTLS_ERR_STATE;
    }
    memcpy(buf, s->subs, s->subs_len);
    if (s->subs_buf != NULL) {
        (void)mqtls__session_mem_back(s, s->subs_buf);
    }
    s->subs_buf = buf;
    s->subs = buf;
    s->subs_cap = min_size(len, s->subs_limit);
    s->subs_want = 0;
    return MQTLS_OK;
}

/* Encode @p pkt into the control buffer so that @p keep bytes stay free (ctrl_fits()). A
 * packet that would fit a grown buffer records the want when @p grow (not for acknowledgements:
 * on_bytes() saw to their room before it took the packet they answer). */
static mqtls_status_t ctrl_encode(mqtls__session_t *s, const mqtls_packet_t *pkt, size_t keep,
                                  bool grow)
{
    size_t need = 0;
    mqtls_status_t st = mqtls_packet_encoded_size(pkt, s->cfg.version, &need);
    if (st != MQTLS_OK) {
        return st;
    }
    if (!ctrl_fits(s, need, keep)) {
        if (grow) {
            (void)mqtls__session_ctrl_room(s, need, keep);
        }
        return MQTLS_ERR_OUTBOX_FULL;
    }
    if (s->ctrl_wr + need > s->ctrl_cap) {
        /* Compact only when needed; the unsent bytes at ctrl_rd move to the front. */
        memmove(s->ctrl, s->ctrl + s->ctrl_rd, s->ctrl_wr - s->ctrl_rd);
        s->ctrl_wr -= s->ctrl_rd;
        s->ctrl_traced -= s->ctrl_rd; /* never behind ctrl_rd (outbound.c) */
        s->ctrl_rd = 0;
    }
    size_t written = 0;
    st = mqtls_packet_encode(pkt, s->cfg.version, s->ctrl + s->ctrl_wr, need, &written);
    if (st != MQTLS_OK) {
        return st;
    }
    s->ctrl_wr += written;
    return MQTLS_OK;
}

mqtls_status_t mqtls__session_ctrl_put(mqtls__session_t *s, const mqtls_packet_t *pkt)
{
    bool last = pkt->type == MQTLS_CONNECT || pkt->type == MQTLS_DISCONNECT;
    return ctrl_encode(s, pkt, last ? 0 : s->ack_reserve, true);
}

mqtls_status_t mqtls__session_ctrl_ack(mqtls__session_t *s, mqtls_packet_type_t type, uint16_t id,
                                       uint8_t reason)
{
    mqtls_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = id;
    p.u.ack.reason = s->cfg.version == MQTLS_V5 ? reason : 0;
    return ctrl_encode(s, &p, 0, false);
}

mqtls_status_t mqtls__session_fail(mqtls__session_t *s, mqtls_status_t st, const char *detail)
{
    mqtls__session_set_err(s, st, detail);
    return st;
}

mqtls_status_t mqtls__session_persist(mqtls__session_t *s, mqtls__persist_kind_t kind, uint16_t id,
                                      uint8_t qos, mqtls_bytes_t packet,
                                      const mqtls_publish_t *message)
{
    if (s->cfg.on_persist == NULL) {
        return MQTLS_OK;
    }
    mqtls__persist_op_t op = {
        .kind = kind, .packet_id = id, .qos = qos, .packet = packet, .message = message};
    return s->cfg.on_persist(s->cfg.persist_ctx, &op);
}

/* The in-flight window before the broker says otherwise. 3.1/3.1.1 brokers announce nothing,
 * yet they have a limit: mosquitto queues QoS 2 PUBLISHes beyond max_inflight_messages and
 * then ignores their PUBREL, losing them. 20 is libmosquitto's and mosquitto's default. */
uint16_t mqtls__session_window_default(const mqtls__session_cfg_t *cfg)
{
    if (cfg->max_inflight != 0) {
        return cfg->max_inflight;
    }
    return cfg->version == MQTLS_V5 ? 65535u : 20u;
}

/* --- setup ------------------------------------------------------------------------------ */

/* Room for the authenticator's data (CONNECT, AUTH): only with a method. */
static size_t auth_size(const mqtls__session_cfg_t *cfg)
{
    return cfg->auth_method.len > 0 ? MQTLS_AUTH_DATA_MAX : 0u;
}

static size_t connect_size(const mqtls__session_cfg_t *cfg)
{
    /* Upper bound: fixed fields + strings + properties; exact size is checked at encode. */
    size_t n = 64u + cfg->client_id.len + cfg->username.len + cfg->password.len +
               cfg->will_topic.len + cfg->will_payload.len + cfg->will_props.raw.len +
               cfg->connect_props.raw.len + auth_size(cfg) + cfg->auth_method.len;
    for (size_t i = 0; cfg->will_props.items != NULL && i < cfg->will_props.count; i++) {
        n += 16u + cfg->will_props.items[i].v.pair.key.len +
             cfg->will_props.items[i].v.pair.value.len;
    }
    for (size_t i = 0; cfg->connect_props.items != NULL && i < cfg->connect_props.count; i++) {
        n += 16u + cfg->connect_props.items[i].v.pair.key.len +
             cfg->connect_props.items[i].v.pair.value.len;
    }
    return n + 64u;
}

static size_t ctrl_size(const mqtls__session_cfg_t *cfg)
{
    return cfg->ctrl_bytes != 0 ? cfg->ctrl_bytes : connect_size(cfg) + CTRL_EXTRA;
}

/* Room kept for one acknowledgement per message the broker may have in flight to us (our
 * Receive Maximum): within the control buffer's limit, never taken by other packets, so that a
 * broker that keeps to it never makes the client stop reading for good (at most until the
 * buffer has grown). */
static size_t ack_reserve(const mqtls__session_cfg_t *cfg)
{
    size_t n = cfg->receive_maximum != 0 ? cfg->receive_maximum : 65535u;
    return n * ACK_MAX_LEN;
}

/* The part of the reserve in the arena's buffer: room for a few acknowledgements; more grow the
 * buffer (on_bytes() stops before the packet until the caller gives it). */
static size_t ack_keep(const mqtls__session_cfg_t *cfg)
{
    return min_size(ack_reserve(cfg), (size_t)MQTLS__CTRL_INITIAL_ACKS * ACK_MAX_LEN);
}

static size_t subs_size(const mqtls__session_cfg_t *cfg)
{
    return cfg->sub_store_bytes != 0 ? cfg->sub_store_bytes : SUBS_DEFAULT;
}

/* The most the control buffer grows to: the largest packet it takes when empty is what it was
 * when it was fixed at this size (CONNECT room + CTRL_EXTRA + the resubscribe room = the
 * subscription store's size), on top of the acknowledgement reserve. */
static size_t ctrl_limit(const mqtls__session_cfg_t *cfg)
{
    return ctrl_size(cfg) + subs_size(cfg) + ack_reserve(cfg);
}

/* The control buffer in the arena: CONNECT (or an AUTH) and a little more, and room for
 * MQTLS__CTRL_INITIAL_ACKS acknowledgements (the rest of the reserve is grown into). */
static size_t ctrl_initial(const mqtls__session_cfg_t *cfg)
{
    return min_size(ctrl_limit(cfg), connect_size(cfg) + CTRL_INITIAL_EXTRA + ack_keep(cfg));
}

static size_t subs_initial(const mqtls__session_cfg_t *cfg)
{
    return min_size(subs_size(cfg), SUBS_INITIAL);
}

/* The outbox placed in the arena: small, so that an idle client does not hold its limits. */
static size_t initial_entries(const mqtls__session_cfg_t *cfg)
{
    size_t n = cfg->initial_messages != 0 ? cfg->initial_messages : MQTLS__OUTBOX_INITIAL_ENTRIES;
    return min_size(n, cfg->max_messages);
}

static size_t initial_bytes(const mqtls__session_cfg_t *cfg)
{
    size_t n = cfg->initial_bytes != 0 ? cfg->initial_bytes : MQTLS__OUTBOX_INITIAL_BYTES;
    return min_size(n, cfg->max_bytes);
}

size_t mqtls__session_arena_size(const mqtls__session_cfg_t *cfg)
{
    if (cfg == NULL) {
        return 0;
    }
    size_t n = 0;
    n += mqtls__session_outbox_buf_size(initial_entries(cfg), initial_bytes(cfg));
    /* ctrl holds a few acknowledgements' reserve; it and the store grow beyond the arena */
    n += align8(ctrl_initial(cfg));
    n += align8((size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    n += align8((size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    n += align8(subs_initial(cfg));
    n += align8(auth_size(cfg));
    return n;
}

mqtls_status_t mqtls__session_setup(mqtls__session_t *s, const mqtls__session_cfg_t *cfg,
                                    void *arena, size_t arena_len)
{
    if (s == NULL || cfg == NULL || arena == NULL || cfg->max_messages == 0 ||
        cfg->max_bytes == 0 || cfg->max_bytes > UINT32_MAX) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (arena_len < mqtls__session_arena_size(cfg)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (cfg->connect_props.items == NULL && cfg->connect_props.raw.len > 0) {
        return MQTLS_ERR_INVALID_ARG; /* only item lists can be merged with ours */
    }
    if (cfg->connect_props.count > MAX_USER_CONNECT_PROPS) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (cfg->auth_method.len > 0 &&
        (cfg->version != MQTLS_V5 || cfg->auth_start == NULL || cfg->auth_step == NULL)) {
        return MQTLS_ERR_INVALID_ARG; /* enhanced authentication is MQTT 5's */
    }
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    uint8_t *p = arena;
    s->entries = (mqtls__entry_t *)(void *)p;
    s->ent_cap = initial_entries(cfg);
    p += align8(s->ent_cap * sizeof(mqtls__entry_t));
    s->ring = p;
    s->ring_cap = initial_bytes(cfg);
    p += align8(s->ring_cap);
    s->ctrl = p;
    s->ctrl_home = p;
    s->ack_reserve = ack_reserve(cfg);
    s->ack_keep = ack_keep(cfg);
    s->ctrl_cap = ctrl_initial(cfg);
    s->ctrl_home_cap = s->ctrl_cap;
    s->ctrl_limit = ctrl_limit(cfg);
    p += align8(s->ctrl_cap);
    s->alias_in = (mqtls__alias_t *)(void *)p;
    p += align8((size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    s->alias_out = (mqtls__alias_t *)(void *)p;
    p += align8((size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    s->subs = p;
    s->subs_cap = subs_initial(cfg);
    s->subs_limit = subs_size(cfg);
    p += align8(s->subs_cap);
    s->auth_buf = auth_size(cfg) > 0 ? p : NULL;
    /* Zero only the tables that are read before written; the outbox ring and the buffers
     * stay untouched so that their pages are not committed before use. */
    memset(s->entries, 0, s->ent_cap * sizeof(mqtls__entry_t));
    mqtls__idset_init(&s->ids_out);
    mqtls__idset_init(&s->ids_in_qos2);
    memset(s->alias_in, 0, (size_t)cfg->topic_alias_maximum * sizeof(mqtls__alias_t));
    memset(s->alias_out, 0, (size_t)cfg->outbound_aliases * sizeof(mqtls__alias_t));
    s->state = MQTLS__S_IDLE;
    s->cur_entry = -1;
    s->next_id = 1;
    s->ping_sent_ms = -1;
    s->window = mqtls__session_window_default(cfg);
    s->broker_max_qos = 2;
    s->broker_retain = true;
    mqtls__error_reset(&s->err);
    return MQTLS_OK;
}

/* --- timers ----------------------------------------------------------------------------- */

mqtls_status_t mqtls__session_tick(mqtls__session_t *s, int64_t now_ms)
{
    if (s->state == MQTLS__S_CONNECTING) {
        if (s->cfg.connack_timeout_ms != 0 &&
            now_ms - s->connect_ms >= (int64_t)s->cfg.connack_timeout_ms) {
            return mqtls__session_fail(s, MQTLS_ERR_CONNACK_TIMEOUT, NULL);
        }
        return MQTLS_OK;
    }
    if (s->state != MQTLS__S_CONNECTED || s->keepalive_ms == 0) {
        return MQTLS_OK;
    }
    uint32_t ping_timeout = s->cfg.ping_timeout_ms != 0 ? s->cfg.ping_timeout_ms : s->keepalive_ms;
    if (s->ping_sent_ms >= 0) {
        if (now_ms - s->ping_sent_ms >= (int64_t)ping_timeout) {
            return mqtls__session_fail(s, MQTLS_ERR_KEEPALIVE_TIMEOUT, NULL);
        }
        return MQTLS_OK;
    }
    /* [MQTT-3.1.2-23]: a control packet at least every keepalive interval. */
    if (now_ms - s->last_tx_ms >= (int64_t)s->keepalive_ms) {
        mqtls_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = MQTLS_PINGREQ;
        /* Timed even when it found no room: a connection that takes none of our bytes and
         * sends none for a whole ping timeout is dead, and must be found so. Without room it
         * is owed: out_iov() queues it once the bytes before it are written. */
        s->ping_owed = mqtls__session_ctrl_put(s, &p) != MQTLS_OK;
        s->ping_sent_ms = now_ms;
    }
    return MQTLS_OK;
}

int64_t mqtls__session_next_deadline(const mqtls__session_t *s)
{
    if (s->state == MQTLS__S_CONNECTING) {
        return s->cfg.connack_timeout_ms != 0 ? s->connect_ms + s->cfg.connack_timeout_ms
                                              : INT64_MAX;
    }
    if (s->state != MQTLS__S_CONNECTED || s->keepalive_ms == 0) {
        return INT64_MAX;
    }
    if (s->ping_sent_ms >= 0) {
        uint32_t t = s->cfg.ping_timeout_ms != 0 ? s->cfg.ping_timeout_ms : s->keepalive_ms;
        return s->ping_sent_ms + t;
    }
    return s->last_tx_ms + s->keepalive_ms;
}

uint32_t mqtls__backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rand32)
{
    if (max_ms < min_ms) {
        max_ms = min_ms;
    }
    uint64_t cap = min_ms;
    for (uint32_t i = 0; i < attempt && cap < max_ms; i++) {
        cap *= 2u;
    }
    if (cap > max_ms) {
        cap = max_ms;
    }
    /* Full jitter (uniform in [0, cap]) spreads reconnect storms after a broker restart. */
    return (uint32_t)((uint64_t)rand32 % (cap + 1u));
}
