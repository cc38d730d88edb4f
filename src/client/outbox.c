/* The outbox: an entry ring (FIFO by creation) over a byte ring holding the encoded
 * PUBLISHes, and its growth (doubling, within the configured limits). Growth never copies a
 * packet: new packets go to the new ring, older ones stay in their ring (s->old) until they
 * are reaped; entries are FIFO, so the front entry always lives in the oldest ring. Sans I/O. */
#include "client/session_internal.h"

#include <string.h>

/* Reserve @p len contiguous bytes in the byte ring. */
static bool ring_alloc(mqtls__session_t *s, size_t len, uint32_t *off, uint32_t *span)
{
    if (len == 0 || len > s->ring_cap) {
        return false;
    }
    if (s->ring_used == 0) {
        s->ring_rd = 0;
        s->ring_wr = 0;
    }
    size_t o;
    size_t sp;
    if (s->ring_used == 0 || s->ring_wr > s->ring_rd) {
        if (s->ring_cap - s->ring_wr >= len) {
            o = s->ring_wr;
            sp = len;
        } else if (s->ring_rd >= len) {
            o = 0; /* wrap: the tail padding is charged to this entry */
            sp = (s->ring_cap - s->ring_wr) + len;
        } else {
            return false;
        }
    } else {
        if (s->ring_rd - s->ring_wr < len) {
            return false;
        }
        o = s->ring_wr;
        sp = len;
    }
    s->ring_wr = o + len;
    s->ring_used += sp;
    *off = (uint32_t)o;
    *span = (uint32_t)sp;
    return true;
}

static bool ring_has_room(const mqtls__session_t *s, size_t len)
{
    /* Conservative: worst case the entry wraps and pays the tail padding. */
    if (s->ring_used == 0) {
        return len <= s->ring_cap;
    }
    if (s->ring_wr > s->ring_rd) {
        return s->ring_cap - s->ring_wr >= len || s->ring_rd >= len;
    }
    return s->ring_rd - s->ring_wr >= len;
}

bool mqtls__outbox_has_room(const mqtls__session_t *s, size_t len)
{
    /* The byte limit counts every ring: older rings still hold live packets. */
    return s->ent_count < s->ent_cap && s->ring_used + s->old_used + len <= s->cfg.max_bytes &&
           ring_has_room(s, len);
}

mqtls__entry_t *mqtls__outbox_push(mqtls__session_t *s, size_t len, size_t *index)
{
    if (s->ent_count >= s->ent_cap) {
        return NULL;
    }
    uint32_t off = 0;
    uint32_t span = 0;
    if (!ring_alloc(s, len, &off, &span)) {
        return NULL;
    }
    size_t k = s->ent_count;
    mqtls__entry_t *e = entry_at(s, k);
    memset(e, 0, sizeof *e);
    e->off = off;
    e->len = (uint32_t)len;
    e->span = span;
    e->state = E_QUEUED;
    e->gen = s->ring_gen;
    s->ent_count++;
    s->live_count++;
    *index = k;
    return e;
}

/* The front entry @p e (reaped) lives in the oldest old ring: when that ring is empty, its
 * buffer goes back to the caller (an arena ring has none). */
static void release_old(mqtls__session_t *s, const mqtls__entry_t *e)
{
    if (s->old_count == 0 || s->old[0].gen != e->gen) {
        return; /* cannot happen: entries are FIFO and rings are retired in order */
    }
    mqtls__outbox_old_t *o = &s->old[0];
    o->used -= e->span;
    s->old_used -= e->span;
    if (o->used > 0) {
        return;
    }
    if (o->buf != NULL) {
        s->reclaim[s->reclaim_count++] = o->buf;
    }
    s->old_count--;
    memmove(&s->old[0], &s->old[1], s->old_count * sizeof s->old[0]);
}

uint8_t *mqtls__outbox_bytes(const mqtls__session_t *s, const mqtls__entry_t *e)
{
    if (e->gen == s->ring_gen) {
        return s->ring + e->off;
    }
    for (size_t i = 0; i < s->old_count; i++) {
        if (s->old[i].gen == e->gen) {
            return s->old[i].bytes + e->off;
        }
    }
    return s->ring + e->off; /* cannot happen */
}

/* Drop completed entries from the front so their bytes can be reused. */
void mqtls__outbox_reap(mqtls__session_t *s)
{
    while (s->ent_count > 0) {
        mqtls__entry_t *e = entry_at(s, 0);
        if (e->state != E_DONE) {
            break;
        }
        if (e->gen == s->ring_gen) {
            s->ring_rd = (size_t)e->off + e->len;
            s->ring_used -= e->span;
        } else {
            release_old(s, e);
        }
        e->state = E_FREE;
        s->ent_head = (s->ent_head + 1u) % s->ent_cap;
        s->ent_count--;
        if (s->cur_entry >= 0) {
            s->cur_entry--; /* indexes are relative to the head */
        }
    }
    if (s->ring_used == 0) {
        s->ring_rd = 0;
        s->ring_wr = 0;
    }
}

void mqtls__outbox_entry_done(mqtls__session_t *s, mqtls__entry_t *e)
{
    if (e->qos > 0) {
        mqtls__session_free_id(s, e->packet_id);
        (void)mqtls__session_persist_id(s, MQTLS__P_PUB_DONE, e->packet_id, e->qos);
    }
    e->state = E_DONE;
    s->live_count--;
}

long mqtls__outbox_find(const mqtls__session_t *s, uint16_t id, uint8_t qos)
{
    for (size_t k = 0; k < s->ent_count; k++) {
        mqtls__entry_t *e = entry_at(s, k);
        if (e->qos == qos && e->packet_id == id &&
            (e->state == E_WAIT_ACK || e->state == E_WAIT_COMP || e->state == E_RELEASE)) {
            return (long)k;
        }
    }
    return -1;
}

/* A packet of @p need bytes did not fit: record the capacity that would take it, doubling
 * (amortised growth) within the limits. The live packets stay in the ring they are in; the
 * new ring must take @p need, and all live bytes together stay within max_bytes. */
void mqtls__outbox_want_growth(mqtls__session_t *s, size_t need)
{
    if (s->old_count + s->reclaim_count >= MQTLS__OUTBOX_OLD_MAX) {
        return; /* too many older rings not handed back: refused until they drain */
    }
    if (s->ring_used + s->old_used + need > s->cfg.max_bytes) {
        return; /* the byte limit (live bytes of every ring) */
    }
    size_t ent = s->ent_cap;
    if (s->ent_count >= s->ent_cap) {
        ent = min_size(s->cfg.max_messages, s->ent_cap * 2u);
        if (ent <= s->ent_cap) {
            return; /* the message count limit: no growth helps */
        }
    }
    size_t ring = s->ring_cap;
    if (!ring_has_room(s, need)) {
        if (s->ring_used + s->old_used + need > s->cfg.max_bytes) {
            return; /* the byte limit */
        }
        ring = min_size(s->cfg.max_bytes, s->ring_cap * 2u > need ? s->ring_cap * 2u : need);
    }
    if (ent == s->ent_cap && ring == s->ring_cap) {
        return; /* at the byte limit, fragmented by the wrap: refused as before */
    }
    s->want_ent = ent;
    s->want_ring = ring;
}

mqtls_status_t mqtls__session_restore_publish(mqtls__session_t *s, const uint8_t *pkt, size_t len,
                                              uint16_t id, uint8_t qos,
                                              mqtls__restore_state_t state)
{
    if (s == NULL || pkt == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (s->state != MQTLS__S_IDLE) {
        return MQTLS_ERR_STATE;
    }
    mqtls_codec_cfg_t cc = {.version = s->cfg.version, .max_packet_size = 0};
    mqtls_packet_t p;
    size_t used = 0;
    if (id == 0 || qos == 0 || qos > 2 || (state == MQTLS__R_PUBREC && qos != 2) ||
        mqtls__idset_has(&s->ids_out, id) || len > s->cfg.max_bytes ||
        mqtls_packet_decode(pkt, len, &cc, &p, &used) != MQTLS_OK || used != len ||
        p.type != MQTLS_PUBLISH || p.u.publish.packet_id != id || p.u.publish.qos != qos) {
        return MQTLS_ERR_INVALID_ARG;
    }
    s->want_ent = 0;
    s->want_ring = 0;
    bool room = mqtls__outbox_has_room(s, len);
    if (!room) {
        mqtls__outbox_want_growth(s, len);
    }
    if (!mqtls__idset_can_add(&s->ids_out) && (room || s->want_ent != 0)) {
        s->ids_out.wants_map = true; /* asked together with the outbox: one retry does */
        return MQTLS_ERR_OUTBOX_FULL;
    }
    size_t idx = 0;
    mqtls__entry_t *e = room ? mqtls__outbox_push(s, len, &idx) : NULL;
    if (e == NULL) {
        return MQTLS_ERR_OUTBOX_FULL;
    }
    uint8_t *b = mqtls__outbox_bytes(s, e);
    memcpy(b, pkt, len);
    b[0] = (uint8_t)(b[0] & ~0x08u); /* DUP is decided at resume */
    e->packet_id = id;
    e->qos = qos;
    e->was_sent = state != MQTLS__R_NOT_SENT;
    e->state = state == MQTLS__R_PUBREC ? E_WAIT_COMP : E_QUEUED;
    (void)mqtls__idset_add(&s->ids_out, id); /* room checked above */
    s->next_id = (uint16_t)(id == 65535u ? 1u : id + 1u); /* new ids follow the restored ones */
    return MQTLS_OK;
}

mqtls_status_t mqtls__session_restore_inbound(mqtls__session_t *s, uint16_t id)
{
    if (s == NULL || id == 0) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (s->state != MQTLS__S_IDLE) {
        return MQTLS_ERR_STATE;
    }
    if (!mqtls__idset_add(&s->ids_in_qos2, id)) {
        return MQTLS_ERR_OUTBOX_FULL; /* wants its bitmap: given, then called again */
    }
    return MQTLS_OK;
}

bool mqtls__session_outbox_want(const mqtls__session_t *s, size_t *entries, size_t *ring_bytes)
{
    if (s == NULL || entries == NULL || ring_bytes == NULL || s->want_ent == 0) {
        return false;
    }
    *entries = s->want_ent;
    *ring_bytes = s->want_ring;
    return true;
}

mqtls_status_t mqtls__session_grow_outbox(mqtls__session_t *s, void *buf, size_t buf_len,
                                          size_t entries, size_t ring_bytes, void **old)
{
    if (s == NULL || buf == NULL || old == NULL || entries < s->ent_cap ||
        ring_bytes < s->ring_cap || entries > s->cfg.max_messages ||
        ring_bytes > s->cfg.max_bytes ||
        s->old_count + s->reclaim_count >= MQTLS__OUTBOX_OLD_MAX ||
        buf_len < mqtls__session_outbox_buf_size(entries, ring_bytes)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls__entry_t *ne = (mqtls__entry_t *)buf;
    uint8_t *nr = (uint8_t *)buf + align8(entries * sizeof(mqtls__entry_t));
    /* Entries keep their place relative to the head (cur_entry and plan indexes stay valid)
     * and point where their bytes already are: only the small entry records move. */
    for (size_t k = 0; k < s->ent_count; k++) {
        ne[k] = *entry_at(s, k);
    }
    memset(ne + s->ent_count, 0, (entries - s->ent_count) * sizeof *ne);
    *old = NULL;
    if (s->ring_used > 0) {
        /* The current ring keeps its packets until they are reaped (release_old()). */
        mqtls__outbox_old_t *o = &s->old[s->old_count++];
        o->buf = s->outbox_buf;
        o->bytes = s->ring;
        o->used = s->ring_used;
        o->gen = s->ring_gen;
        s->old_used += s->ring_used;
    } else {
        *old = s->outbox_buf; /* nothing live in it: free it now */
    }
    s->outbox_buf = buf;
    s->entries = ne;
    s->ent_cap = entries;
    s->ent_head = 0;
    s->ring = nr;
    s->ring_cap = ring_bytes;
    s->ring_gen++;
    s->ring_rd = 0;
    s->ring_wr = 0;
    s->ring_used = 0;
    s->want_ent = 0;
    s->want_ring = 0;
    return MQTLS_OK;
}

void *mqtls__session_reclaim(mqtls__session_t *s)
{
    if (s == NULL) {
        return NULL;
    }
    if (s->reclaim_count > 0) {
        return s->reclaim[--s->reclaim_count];
    }
    for (size_t i = 0; i < 2u; i++) {
        if (s->ids_back[i] != NULL) {
            void *p = s->ids_back[i];
            s->ids_back[i] = NULL;
            return p;
        }
    }
    for (size_t i = 0; i < sizeof s->mem_back / sizeof s->mem_back[0]; i++) {
        if (s->mem_back[i] != NULL) {
            void *p = s->mem_back[i];
            s->mem_back[i] = NULL;
            return p;
        }
    }
    return NULL;
}

size_t mqtls__session_buffers(const mqtls__session_t *s, void **out, size_t max)
{
    size_t n = 0;
    if (s == NULL || out == NULL) {
        return 0;
    }
    if (s->outbox_buf != NULL && n < max) {
        out[n++] = s->outbox_buf;
    }
    for (size_t i = 0; i < s->old_count && n < max; i++) {
        if (s->old[i].buf != NULL) {
            out[n++] = s->old[i].buf;
        }
    }
    for (size_t i = 0; i < s->reclaim_count && n < max; i++) {
        out[n++] = s->reclaim[i];
    }
    void *more[] = {s->ids_out.map, s->ids_in_qos2.map, s->ids_back[0], s->ids_back[1],
                    s->ctrl_buf,    s->subs_buf,        s->mem_back[0], s->mem_back[1],
                    s->mem_back[2], s->mem_back[3]};
    _Static_assert(sizeof s->mem_back / sizeof s->mem_back[0] == 4u, "mem_back listed above");
    for (size_t i = 0; i < sizeof more / sizeof more[0] && n < max; i++) {
        if (more[i] != NULL) {
            out[n++] = more[i];
        }
    }
    return n;
}

size_t mqtls__session_outbox_buf_size(size_t entries, size_t ring_bytes)
{
    return align8(entries * sizeof(mqtls__entry_t)) + align8(ring_bytes);
}

size_t mqtls__session_outbox_count(const mqtls__session_t *s)
{
    return s->live_count;
}

size_t mqtls__session_outbox_bytes(const mqtls__session_t *s)
{
    return s->ring_used + s->old_used;
}
