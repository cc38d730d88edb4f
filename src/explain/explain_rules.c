/* mqtls explain: the context rules of explain_rules.h, applied once all input is in. Pure. */
#include <string.h>

#include "explain_internal.h"
#include "explain_rules.h"

mqtls_explain_cause_t *mqtls__explain_cause_get(mqtls_explain_t *r, mqtls__finding_id_t id)
{
    const mqtls__finding_def_t *def = mqtls__finding_def(id);
    for (size_t i = 0; def != NULL && i < r->cause_count; i++) {
        if (r->causes[i].id == def->id) {
            return &r->causes[i];
        }
    }
    return NULL;
}

static void remove_cause(mqtls_explain_t *r, const mqtls_explain_cause_t *c)
{
    size_t i = (size_t)(c - r->causes);
    memmove(&r->causes[i], &r->causes[i + 1], (r->cause_count - i - 1) * sizeof r->causes[0]);
    r->cause_count--;
}

/* A failure at the socket level (refused, timed out, unreachable, no DNS) was reported. */
static bool net_error(mqtls_explain_t *r)
{
    static const mqtls__finding_id_t ids[] = {MQTLS__F_DNS_FAILURE, MQTLS__F_CONNECTION_REFUSED,
                                              MQTLS__F_CONNECT_TIMEOUT,
                                              MQTLS__F_NETWORK_UNREACHABLE};
    for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
        const mqtls_explain_cause_t *c = mqtls__explain_cause_get(r, ids[i]);
        if (c != NULL && c->score >= 3) {
            return true;
        }
    }
    return false;
}

void mqtls__explain_apply_rules(mqtls_explain_t *r)
{
    if (net_error(r)) {
        r->clues |= CLUE_NET_ERROR;
    }
    for (size_t i = 0; i < ARRAY_LEN(clue_rules); i++) {
        const clue_rule_t *rule = &clue_rules[i];
        if ((r->clues & rule->all) != rule->all || (r->clues & rule->none) != 0 ||
            (rule->if_cause != ANY_CAUSE && mqtls__explain_cause_get(r, rule->if_cause) == NULL)) {
            continue;
        }
        if (rule->w > 0) {
            mqtls__explain_add_cause(r, rule->id, rule->w, rule->why);
            continue;
        }
        mqtls_explain_cause_t *c = mqtls__explain_cause_get(r, rule->id);
        if (c == NULL) {
            continue;
        }
        if (rule->w == 0) {
            remove_cause(r, c);
        } else {
            c->score = c->score + rule->w < 1 ? 1 : c->score + rule->w;
        }
    }
}
