/* Internal: the layout behind the opaque mqtls_findings_t / mqtls_finding_t (mqtls/diag.h).
 * Never installed; tests may include it. */
#ifndef MQTLS_DIAG_FINDINGS_H
#define MQTLS_DIAG_FINDINGS_H

#include <stddef.h>

#include "mqtls/diag.h"

/** Findings kept per list (a diagnosis run stops adding after this many: `dropped`). */
#define MQTLS__MAX_FINDINGS 16

struct mqtls_finding {
    const char *id; /* stable kebab-case id, static string */
    mqtls_severity_t severity;
    char subject[384]; /* which file / which certificate (depth, subject, issuer, key) */
    char message[640]; /* one or two plain sentences */
    char fix[640];     /* a command or config line to paste */
};

struct mqtls_findings {
    mqtls_finding_t items[MQTLS__MAX_FINDINGS];
    size_t count;
    size_t dropped; /* findings that did not fit */
};

/* Empty @p f (any memory). */
void mqtls__findings_init(mqtls_findings_t *f);

#endif /* MQTLS_DIAG_FINDINGS_H */
