/* Internal interface between explain.c and explain_mbedtls.c (the one file that includes
 * mbedTLS). Not installed. */
#ifndef MQTLS_EXPLAIN_INTERNAL_H
#define MQTLS_EXPLAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/explain.h"

/* Bounds of one result (internal: the result is opaque, so these are not ABI). */
#define MQTLS__EXPLAIN_MAX_INPUTS 64
#define MQTLS__EXPLAIN_MAX_CAUSES 24
#define MQTLS__EXPLAIN_MAX_UNPARSED 8

struct mqtls_explain_input {
    char kind[24];     /* "mbedtls", "verify-flags", "esp-tls", "tls-alert", ... */
    char text[128];    /* the input as found (trimmed, possibly shortened) */
    char meaning[640]; /* decoded meaning, including every interpretation considered */
};

struct mqtls_explain_cause {
    const char *id;          /* finding id (static) */
    const char *title;       /* one line (static) */
    const char *explanation; /* what it means and what to check (static) */
    const char *fix;         /* commands / config to paste, '\n'-separated (static) */
    char note[512];          /* extra context for this input, or "" */
    char evidence[512];      /* the inputs that point here, "; "-separated */
    int score;               /* ranking weight; higher is more likely */
};

struct mqtls_explain {
    mqtls_explain_input_t inputs[MQTLS__EXPLAIN_MAX_INPUTS];
    size_t input_count;
    size_t inputs_dropped;
    mqtls_explain_cause_t causes[MQTLS__EXPLAIN_MAX_CAUSES];
    size_t cause_count; /* sorted most likely first after mqtls_explain_finish() */
    size_t causes_dropped;
    char unparsed[MQTLS__EXPLAIN_MAX_UNPARSED][96];
    size_t unparsed_count;
    uint32_t verify_flags;   /* merged MBEDTLS_X509_BADCERT_* bits seen in any form */
    bool saw_test_mosquitto; /* test.mosquitto.org appeared in an input */
    bool saw_verify_failed;  /* -0x2700 etc. seen; resolved in _finish */
    bool finished;
};

/* Clear @p r (any memory). */
void mqtls__explain_init(mqtls_explain_t *r);

/* The explain catalogue (ids with explanation and fix texts). */
size_t mqtls__explain_catalogue_count(void);
const char *mqtls__explain_catalogue_id(size_t i);
const char *mqtls__explain_title(const char *id);

/** mbedtls_strerror() of -@p magnitude into @p buf. @return true if the linked mbedTLS
 *  knows at least one part (high- or low-level) of the code. */
bool mqtls__explain_mbedtls_text(unsigned magnitude, char *buf, size_t cap);

/** The linked mbedTLS version, e.g. "2.28.3" (static string). */
const char *mqtls__explain_mbedtls_version(void);

#endif
