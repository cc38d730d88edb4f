/* Persistence of a client (mqtls_client_cfg_t::persistence_dir, docs/reliability.md): open the
 * store at create, give the session back its outbox and inbound QoS 2 ids, record what the
 * session reports through its persist hook, report messages in doubt, run the batch syncs.
 * The store itself (the log, its syncs and compaction) is persist.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/client_internal.h"

/* The session's persist hook (called with c->mu held, from inside the session). */
static mqtls_status_t persist_hook(void *ctx, const mqtls__persist_op_t *op)
{
    mqtls_client_t *c = ctx;
    mqtls_status_t st = mqtls__persist_put(c->persist, op, mqtls__client_now(c));
    if (st != MQTLS_OK) {
        int e = mqtls__persist_errno(c->persist);
        LOG(c, MQTLS_LOG_ERROR, "persistence: cannot record packet %u (kind %d): %s", op->packet_id,
            (int)op->kind, e != 0 ? strerror(e) : "store failed before");
    }
    return st;
}

static mqtls_status_t config_error(mqtls_error_t *err, const char *detail)
{
    err->layer = MQTLS_LAYER_CONFIG;
    err->status = MQTLS_ERR_INVALID_ARG;
    (void)snprintf(err->detail, sizeof err->detail, "%s", detail);
    return MQTLS_ERR_INVALID_ARG;
}

mqtls_status_t mqtls__client_persist_open(mqtls_client_t *c, mqtls_error_t *err)
{
    const mqtls_client_cfg_t *cfg = &c->cfg;
    if (cfg->persistence_dir == NULL) {
        return MQTLS_OK;
    }
    if (cfg->persistence_dir[0] == '\0' || (unsigned)cfg->persistence_sync > 2u) {
        return config_error(err, "persistence_dir is empty or persistence_sync unknown");
    }
    if (cfg->clean_start) {
        /* The broker would throw away the session the directory's packet ids belong to. */
        return config_error(err, "persistence_dir needs clean_start false (a persistent session)");
    }
    if (cfg->version == MQTLS_V5 && cfg->session_expiry_s == 0) {
        return config_error(err, "persistence_dir with MQTT 5 needs session_expiry_s > 0: the "
                                 "broker ends a session with expiry 0 at the disconnect");
    }
    mqtls__persist_cfg_t pc = {
        .dir = cfg->persistence_dir,
        .sync = cfg->persistence_sync,
        .sync_ms = cfg->persistence_sync_ms,
        .version = cfg->version,
    };
    mqtls_status_t st = mqtls__persist_open(&pc, err, &c->persist, &c->restored);
    if (st != MQTLS_OK) {
        if (err->status == MQTLS_OK) {
            err->layer = MQTLS_LAYER_CONFIG;
            err->status = st;
        }
        return st;
    }
    const char *stored = mqtls__persist_client_id(c->persist);
    if ((cfg->client_id == NULL || cfg->client_id[0] == '\0') && stored != NULL) {
        c->cfg.client_id = stored; /* the store's copy lives as long as the client */
    }
    return MQTLS_OK;
}

void mqtls__client_persist_hook(const mqtls_client_t *c, mqtls__session_cfg_t *sc)
{
    if (c->persist != NULL) {
        sc->on_persist = persist_hook;
        sc->persist_ctx = (void *)c;
    }
}

mqtls_status_t mqtls__client_persist_restore(mqtls_client_t *c, mqtls_error_t *err)
{
    if (c->persist == NULL) {
        return MQTLS_OK;
    }
    mqtls_status_t st = mqtls__persist_bind(c->persist, mqtls_client_id(c), err);
    for (size_t i = 0; st == MQTLS_OK && i < c->restored.pub_count; i++) {
        const mqtls__persist_pub_t *r = &c->restored.pubs[i];
        st = mqtls__session_restore_publish(&c->s, r->packet, r->len, r->packet_id, r->qos,
                                            r->state);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            st = mqtls__client_grow_session(c);
            if (st == MQTLS_OK) {
                st = mqtls__session_restore_publish(&c->s, r->packet, r->len, r->packet_id, r->qos,
                                                    r->state);
            }
        }
        if (st != MQTLS_OK) {
            err->layer = MQTLS_LAYER_CONFIG;
            err->status = st;
            (void)snprintf(err->detail, sizeof err->detail,
                           "persistence: cannot restore message %zu of %zu (packet id %u)%s",
                           i + 1u, c->restored.pub_count, r->packet_id,
                           st == MQTLS_ERR_OUTBOX_FULL ? ": above the outbox limits" : "");
        }
    }
    for (size_t i = 0; st == MQTLS_OK && i < c->restored.in_count; i++) {
        st = mqtls__session_restore_inbound(&c->s, c->restored.ins[i].packet_id);
        if (st == MQTLS_ERR_OUTBOX_FULL) {
            st = mqtls__client_grow_session(c); /* more than 32 ids: the set's bitmap */
            if (st == MQTLS_OK) {
                st = mqtls__session_restore_inbound(&c->s, c->restored.ins[i].packet_id);
            }
        }
        c->doubt_pending = c->doubt_pending || !c->restored.ins[i].delivered;
    }
    if (st == MQTLS_OK) {
        LOG(c, MQTLS_LOG_INFO,
            "persistence: restored %zu outgoing message(s), %zu inbound QoS 2 id(s)",
            c->restored.pub_count, c->restored.in_count);
    }
    if (!c->doubt_pending) {
        mqtls__persist_restored_free(&c->restored);
    }
    return st;
}

void mqtls__client_persist_work(mqtls_client_t *c, int64_t now)
{
    if (c->persist == NULL) {
        return;
    }
    if (c->doubt_pending) {
        c->doubt_pending = false;
        for (size_t i = 0; i < c->restored.in_count; i++) {
            const mqtls__persist_in_t *in = &c->restored.ins[i];
            if (in->delivered) {
                continue;
            }
            LOG(c, MQTLS_LOG_WARN,
                "persistence: QoS 2 message %u is in doubt (its delivery was "
                "interrupted by the end of the previous process)",
                in->packet_id);
            mqtls_event_t ev;
            memset(&ev, 0, sizeof ev);
            ev.type = MQTLS_EVENT_MESSAGE_IN_DOUBT;
            ev.u.message.topic = in->message.topic;
            ev.u.message.payload = in->message.payload;
            ev.u.message.qos = in->message.qos;
            ev.u.message.retain = in->message.retain;
            ev.u.message.dup = true;
            ev.u.message.packet_id = in->packet_id;
            ev.u.message.props = in->message.props;
            mqtls__client_emit(c, &ev);
            /* Reported once: the next process does not report it again. */
            mqtls__persist_op_t op = {.kind = MQTLS__P_IN_DELIVERED, .packet_id = in->packet_id};
            (void)persist_hook(c, &op);
        }
        mqtls__persist_restored_free(&c->restored);
    }
    mqtls__persist_tick(c->persist, now);
}

int64_t mqtls__client_persist_deadline(const mqtls_client_t *c, int64_t now)
{
    if (c->persist == NULL) {
        return INT64_MAX;
    }
    return c->doubt_pending ? now : mqtls__persist_deadline(c->persist);
}

void mqtls__client_persist_close(mqtls_client_t *c)
{
    mqtls__persist_close(c->persist);
    c->persist = NULL;
    mqtls__persist_restored_free(&c->restored);
}
