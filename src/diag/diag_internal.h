/* Internal to src/diag: the finding catalogue. Parsed certificate sets (mqtls__certset_t),
 * profiles as data (mqtls__profile_t) and the mbedTLS version shims (mqtls__dm_*) come from
 * src/x509. */
#ifndef MQTLS_DIAG_INTERNAL_H
#define MQTLS_DIAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"
#include "mqtls/diag.h"
#include "findings.h"
#include "x509/asn1.h"
#include "x509/certinfo.h"
#include "x509/compat.h"
#include "x509/profile.h"

/* The catalogue. */
typedef enum mqtls__finding_id {
#define X(sym, id, sev, title) MQTLS__F_##sym,
#include "findings.def"
#undef X
    MQTLS__F_COUNT
} mqtls__finding_id_t;

typedef struct mqtls__finding_def {
    const char *id;
    mqtls_severity_t severity;
    const char *title;
} mqtls__finding_def_t;

const mqtls__finding_def_t *mqtls__finding_def(mqtls__finding_id_t f);

/* Append a finding; subject/message/fix are printf formats. Returns the item or NULL if full
 * (counted in out->dropped). */
mqtls_finding_t *mqtls__finding_add(mqtls_findings_t *out, mqtls__finding_id_t f);
bool mqtls__findings_has(const mqtls_findings_t *out, mqtls__finding_id_t f);

#endif
