/* Internal interface between the translation units of src/explain:
 *   explain.c         public entry points, number parsing, ranking (mqtls_explain_finish)
 *   explain_scan.c    logs: line windows, context (ESP-IDF? broker?), phrases, codes in text
 *   explain_decode.c  one recognised input -> its meaning and the causes it votes for
 *   explain_mbedtls.c the only file that includes mbedTLS (texts of the linked library)
 *   explain_result.c  the opaque result's lifetime and accessors
 * Tables: explain_catalogue.h, explain_codes.h, explain_phrases.h. Not installed. */
#ifndef MQTLS_EXPLAIN_INTERNAL_H
#define MQTLS_EXPLAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/findings.h"
#include "mqtls/explain.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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
    const char *id;          /* finding id (static, findings.def) */
    const char *title;       /* one line (static, findings.def) */
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

/* One vote of a table row for a cause. A list of votes ends at the first w == 0. */
typedef struct weight {
    mqtls__finding_id_t id;
    int w;
} weight_t;

/* clang-format off */
#define CAUSE(sym, weight) {MQTLS__F_##sym, (weight)}
#define NONE {{MQTLS__F_COUNT, 0}}
/* clang-format on */

/* Who wrote the log line: the client (the broker rejected it) or the broker. */
enum side { SIDE_UNKNOWN = 0, SIDE_CLIENT = 1, SIDE_BROKER = 2 };

/* Bigrams present in the current line: a needle whose first, middle or last bigram is absent
 * cannot occur, so most of the ~250 needles are rejected without a strstr() (16 MiB logs). */
#define BIGRAM_BITS 2048u

/* State of one mqtls_explain_text() / mqtls_explain_arg() call. */
typedef struct scan_ctx {
    enum side side;
    bool esp;
    bool any; /* something was recognised during this call */
    bool have_bigrams;
    uint64_t bigrams[BIGRAM_BITS / 64u];
} scan_ctx_t;

/* A number as users paste it: "-0x2700", "0x10000", "65536", "2700". */
typedef struct number {
    bool ok;
    bool neg;
    bool hex;        /* had a 0x prefix */
    bool hex_digits; /* digits include a-f */
    unsigned long long mag;
    unsigned long long as_hex; /* digits re-read as hex (for "2700") */
    bool as_hex_ok;
    size_t used;
} number_t;

/* ---- explain.c */

/* Clear @p r (any memory). */
void mqtls__explain_init(mqtls_explain_t *r);
number_t mqtls__explain_parse_number(const char *s);
/* Bounded copy / append (always NUL-terminated when @p cap > 0). */
void mqtls__explain_copy(char *dst, size_t cap, const char *src);
void mqtls__explain_append(char *dst, size_t cap, const char *src);
/* Case-insensitive equality. */
bool mqtls__explain_ieq(const char *a, const char *b);
/* Lowercase copy of @p len bytes with control bytes (NUL, ESC, ...) turned into spaces. */
void mqtls__explain_lower_copy(char *dst, const char *src, size_t len);

/* ---- explain_scan.c */

/* Scan a log: every line (lowercased, in bounded windows) for phrases and codes. */
void mqtls__explain_scan_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text, size_t len);
/* strstr() of a lowercase @p needle in the line being scanned, with the bigram pre-check. */
const char *mqtls__explain_find(const scan_ctx_t *ctx, const char *line, const char *needle);

/* ---- explain_decode.c: each returns true if it recognised the value; @p alt: an alternative
 * reading that is listed as considered but does not vote. */

/* Add an input unless the same (kind, text) is already there. @return true if new. */
bool mqtls__explain_add_input(mqtls_explain_t *r, scan_ctx_t *ctx, const char *kind,
                              const char *text, const char *meaning);
/* Add @p weight to finding @p id as a cause, with @p evidence. NULL if not added. */
mqtls_explain_cause_t *mqtls__explain_add_cause(mqtls_explain_t *r, mqtls__finding_id_t id,
                                                int weight, const char *evidence);
/* Add the causes a recognised input points to (@p n votes at most), with their weights. */
void mqtls__explain_add_weights(mqtls_explain_t *r, const weight_t *to, size_t n, bool alt,
                                const char *evidence);
void mqtls__explain_flags(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t flags, const char *text,
                          bool alt, const char *note);
void mqtls__explain_verify_info(mqtls_explain_t *r, scan_ctx_t *ctx, uint32_t bit);
bool mqtls__explain_mbedtls(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned mag, bool alt,
                            const char *note);
bool mqtls__explain_esp(mqtls_explain_t *r, scan_ctx_t *ctx, unsigned code, bool alt);
bool mqtls__explain_alert(mqtls_explain_t *r, scan_ctx_t *ctx, int num, enum side dir);
bool mqtls__explain_connack(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt);
bool mqtls__explain_reason5(mqtls_explain_t *r, scan_ctx_t *ctx, int code, bool alt);
bool mqtls__explain_paho(mqtls_explain_t *r, scan_ctx_t *ctx, int code);
bool mqtls__explain_errno_num(mqtls_explain_t *r, scan_ctx_t *ctx, long num);
/* A name: verify flag, mbedTLS / esp-tls code, CONNACK, Paho rc, errno or TLS alert. */
bool mqtls__explain_lookup_name(mqtls_explain_t *r, scan_ctx_t *ctx, const char *s);
/* In the lowercase log @p line being scanned: alerts as OpenSSL reason strings ("sslv3 alert
 * unknown ca"), errno names ("econnrefused") and alert names ("unknown_ca", Paho's "alert
 * read:fatal:unknown ca"). */
void mqtls__explain_scan_alert_phrases(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);
void mqtls__explain_scan_errno_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);
void mqtls__explain_scan_alert_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);

/* ---- explain_mbedtls.c */

/** mbedtls_strerror() of -@p magnitude into @p buf. @return true if the linked mbedTLS
 *  knows at least one part (high- or low-level) of the code. */
bool mqtls__explain_mbedtls_text(unsigned magnitude, char *buf, size_t cap);

/** The text the linked mbedTLS prints for one verify flag @p bit
 *  (mbedtls_x509_crt_verify_info(), without prefix and newline). @return false if none. */
bool mqtls__explain_verify_text(uint32_t bit, char *buf, size_t cap);

/** The linked mbedTLS version, e.g. "2.28.3" (static string). */
const char *mqtls__explain_mbedtls_version(void);

#endif
