/* Internal: the finding catalogue (findings.def: id, severity, title) as an enum, and the
 * layout behind the opaque mqtls_findings_t / mqtls_finding_t (mqtls/diag.h). Read by src/diag
 * and src/explain (which names findings by MQTLS__F_* and keeps only its own texts). Never
 * installed; tests may include it. No mbedTLS here. */
#ifndef MQTLS_DIAG_FINDINGS_H
#define MQTLS_DIAG_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtls/diag.h"

/** Findings kept per list (a diagnosis run stops adding after this many: `dropped`). */
#define MQTLS__MAX_FINDINGS 16

/** Every finding of findings.def, in its order: MQTLS__F_WEAK_KEY, ... */
typedef enum mqtls__finding_id {
#define X(sym, id, sev, title) MQTLS__F_##sym,
#include "findings.def"
#undef X
    MQTLS__F_COUNT
} mqtls__finding_id_t;

/** One row of findings.def. */
typedef struct mqtls__finding_def {
    const char *id; /* kebab-case, static */
    mqtls_severity_t severity;
    const char *title; /* one line, static */
} mqtls__finding_def_t;

/** The row of @p f; NULL if @p f is not a finding (e.g. MQTLS__F_COUNT). */
const mqtls__finding_def_t *mqtls__finding_def(mqtls__finding_id_t f);

struct mqtls_finding {
    const char *id; /* stable kebab-case id, static string */
    mqtls_severity_t severity;
    char subject[384]; /* which file / which certificate (depth, subject, issuer, key) */
    char message[900]; /* one or two plain sentences */
    char fix[1400];    /* commands to paste ("$ " lines) and the settings that go with them */
};

struct mqtls_findings {
    mqtls_finding_t items[MQTLS__MAX_FINDINGS];
    size_t count;
    size_t dropped; /* findings that did not fit */
};

/* Empty @p f (any memory). */
void mqtls__findings_init(mqtls_findings_t *f);

/* Append finding @p f with empty texts. @return the item, or NULL if the list is full (then
 * counted in out->dropped). */
mqtls_finding_t *mqtls__finding_add(mqtls_findings_t *out, mqtls__finding_id_t f);
bool mqtls__findings_has(const mqtls_findings_t *out, mqtls__finding_id_t f);

#endif /* MQTLS_DIAG_FINDINGS_H */
