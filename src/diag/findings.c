/* The finding catalogue (findings.def) and the findings list. */
#include "findings.h"

#include <stdlib.h>
#include <string.h>

static const mqtls__finding_def_t finding_defs[] = {
#define X(sym, id, sev, title) {id, MQTLS_SEV_##sev, title},
#include "findings.def"
#undef X
};

_Static_assert(sizeof finding_defs / sizeof finding_defs[0] == MQTLS__F_COUNT,
               "findings.def and the enum disagree");

const mqtls__finding_def_t *mqtls__finding_def(mqtls__finding_id_t f)
{
    return (unsigned)f < MQTLS__F_COUNT ? &finding_defs[f] : NULL;
}

mqtls_finding_t *mqtls__finding_add(mqtls_findings_t *out, mqtls__finding_id_t f)
{
    const mqtls__finding_def_t *d = mqtls__finding_def(f);
    if (d == NULL) {
        return NULL;
    }
    if (out->count >= MQTLS__MAX_FINDINGS) {
        out->dropped++;
        return NULL;
    }
    mqtls_finding_t *it = &out->items[out->count++];
    memset(it, 0, sizeof *it);
    it->id = d->id;
    it->severity = d->severity;
    return it;
}

bool mqtls__findings_has(const mqtls_findings_t *out, mqtls__finding_id_t f)
{
    const mqtls__finding_def_t *d = mqtls__finding_def(f);
    for (size_t i = 0; d != NULL && i < out->count; i++) {
        if (out->items[i].id == d->id) {
            return true;
        }
    }
    return false;
}

bool mqtls_finding_id_known(const char *id)
{
    if (id == NULL) {
        return false;
    }
    for (size_t i = 0; i < MQTLS__F_COUNT; i++) {
        if (strcmp(finding_defs[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

const char *mqtls_finding_title(const char *id)
{
    for (size_t i = 0; id != NULL && i < MQTLS__F_COUNT; i++) {
        if (strcmp(finding_defs[i].id, id) == 0) {
            return finding_defs[i].title;
        }
    }
    return NULL;
}

size_t mqtls_finding_catalogue(const char **ids, size_t cap)
{
    for (size_t i = 0; ids != NULL && i < MQTLS__F_COUNT && i < cap; i++) {
        ids[i] = finding_defs[i].id;
    }
    return MQTLS__F_COUNT;
}

void mqtls__findings_init(mqtls_findings_t *f)
{
    if (f != NULL) {
        memset(f, 0, sizeof *f);
    }
}

mqtls_status_t mqtls_findings_create(mqtls_findings_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = malloc(sizeof **out);
    if (*out == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    mqtls__findings_init(*out);
    return MQTLS_OK;
}

void mqtls_findings_destroy(mqtls_findings_t *f)
{
    free(f);
}

void mqtls_findings_clear(mqtls_findings_t *f)
{
    mqtls__findings_init(f);
}

size_t mqtls_findings_count(const mqtls_findings_t *f)
{
    return f != NULL ? f->count : 0;
}

size_t mqtls_findings_dropped(const mqtls_findings_t *f)
{
    return f != NULL ? f->dropped : 0;
}

const mqtls_finding_t *mqtls_findings_get(const mqtls_findings_t *f, size_t i)
{
    return f != NULL && i < f->count ? &f->items[i] : NULL;
}

const char *mqtls_finding_id(const mqtls_finding_t *it)
{
    return it != NULL ? it->id : "";
}

mqtls_severity_t mqtls_finding_severity(const mqtls_finding_t *it)
{
    return it != NULL ? it->severity : MQTLS_SEV_INFO;
}

const char *mqtls_finding_subject(const mqtls_finding_t *it)
{
    return it != NULL ? it->subject : "";
}

const char *mqtls_finding_message(const mqtls_finding_t *it)
{
    return it != NULL ? it->message : "";
}

const char *mqtls_finding_fix(const mqtls_finding_t *it)
{
    return it != NULL ? it->fix : "";
}

void mqtls_findings_sort(mqtls_findings_t *f)
{
    if (f == NULL) {
        return;
    }
    /* Insertion sort: stable, and count <= MQTLS__MAX_FINDINGS. The order of insertion within a
     * severity is the order of causes (root causes are added first). */
    for (size_t i = 1; i < f->count; i++) {
        mqtls_finding_t tmp = f->items[i];
        size_t j = i;
        while (j > 0 && f->items[j - 1].severity < tmp.severity) {
            f->items[j] = f->items[j - 1];
            j--;
        }
        f->items[j] = tmp;
    }
}

const char *mqtls_severity_name(mqtls_severity_t s)
{
    switch (s) {
    case MQTLS_SEV_ERROR:
        return "error";
    case MQTLS_SEV_WARNING:
        return "warning";
    default:
        return "info";
    }
}
