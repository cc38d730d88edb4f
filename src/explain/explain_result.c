/* The opaque explain result (mqtls/explain.h): lifetime and accessors. */
#include <stdlib.h>

#include "explain_internal.h"

mqtls_status_t mqtls_explain_create(mqtls_explain_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = malloc(sizeof **out);
    if (*out == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    mqtls__explain_init(*out);
    return MQTLS_OK;
}

void mqtls_explain_destroy(mqtls_explain_t *r)
{
    free(r);
}

uint32_t mqtls_explain_verify_flags(const mqtls_explain_t *r)
{
    return r != NULL ? r->verify_flags : 0;
}

size_t mqtls_explain_cause_count(const mqtls_explain_t *r)
{
    return r != NULL ? r->cause_count : 0;
}

size_t mqtls_explain_causes_dropped(const mqtls_explain_t *r)
{
    return r != NULL ? r->causes_dropped : 0;
}

const mqtls_explain_cause_t *mqtls_explain_cause(const mqtls_explain_t *r, size_t i)
{
    return r != NULL && i < r->cause_count ? &r->causes[i] : NULL;
}

const char *mqtls_explain_cause_id(const mqtls_explain_cause_t *c)
{
    return c != NULL ? c->id : "";
}

const char *mqtls_explain_cause_title(const mqtls_explain_cause_t *c)
{
    return c != NULL && c->title != NULL ? c->title : "";
}

const char *mqtls_explain_cause_explanation(const mqtls_explain_cause_t *c)
{
    return c != NULL && c->explanation != NULL ? c->explanation : "";
}

const char *mqtls_explain_cause_fix(const mqtls_explain_cause_t *c)
{
    return c != NULL && c->fix != NULL ? c->fix : "";
}

const char *mqtls_explain_cause_note(const mqtls_explain_cause_t *c)
{
    return c != NULL ? c->note : "";
}

const char *mqtls_explain_cause_evidence(const mqtls_explain_cause_t *c)
{
    return c != NULL ? c->evidence : "";
}

int mqtls_explain_cause_score(const mqtls_explain_cause_t *c)
{
    return c != NULL ? c->score : 0;
}

size_t mqtls_explain_input_count(const mqtls_explain_t *r)
{
    return r != NULL ? r->input_count : 0;
}

size_t mqtls_explain_inputs_dropped(const mqtls_explain_t *r)
{
    return r != NULL ? r->inputs_dropped : 0;
}

const mqtls_explain_input_t *mqtls_explain_input(const mqtls_explain_t *r, size_t i)
{
    return r != NULL && i < r->input_count ? &r->inputs[i] : NULL;
}

const char *mqtls_explain_input_kind(const mqtls_explain_input_t *in)
{
    return in != NULL ? in->kind : "";
}

const char *mqtls_explain_input_text(const mqtls_explain_input_t *in)
{
    return in != NULL ? in->text : "";
}

const char *mqtls_explain_input_meaning(const mqtls_explain_input_t *in)
{
    return in != NULL ? in->meaning : "";
}

size_t mqtls_explain_unparsed_count(const mqtls_explain_t *r)
{
    return r != NULL ? r->unparsed_count : 0;
}

const char *mqtls_explain_unparsed(const mqtls_explain_t *r, size_t i)
{
    return r != NULL && i < r->unparsed_count ? r->unparsed[i] : NULL;
}
