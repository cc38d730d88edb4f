/* Internal interface between the translation units of src/explain:
 *   explain.c         public entry points, number parsing, ranking (mqtls_explain_finish)
 *   explain_scan.c    logs: line windows, context (who wrote it? whose certificate?), phrases
 *   explain_numbers.c codes inside log text, in every spelling the MQTT world prints them
 *   explain_decode.c  one recognised input -> its meaning and the causes it votes for
 *   explain_vocab.c   the other ecosystems' codes and names (BearSSL, PubSubClient, Paho Java,
 *                     WinSock, AWS / Azure SDK symbols, Go / Erlang / .NET alert spellings)
 *   explain_rules.c   context rules applied once all input is in (explain_rules.h)
 *   explain_mbedtls.c the only file that includes mbedTLS (texts of the linked library)
 *   explain_result.c  the opaque result's lifetime and accessors
 * Tables: explain_catalogue.h, explain_codes.h, explain_phrases.h, explain_vocab.h,
 * explain_rules.h. Not installed. */
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
    uint32_t clues;          /* CLUE_* bits: context seen anywhere in the input */
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

/* Whose certificate or key a line is about, when the line itself says so: the writer loading
 * its own credentials (OpenSSL SSL_CTX_use_certificate, Python load_cert_chain, mosquitto
 * "Unable to load server certificate"), or the peer's certificate it judges in the handshake
 * (tls_process_server_certificate, Erlang "TLS client:"). */
enum line_subject { LINE_ANY = 0, LINE_OWN = 1, LINE_SERVER_CERT = 2, LINE_CLIENT_CERT = 3 };

/* Context clues: facts about the whole input that change what a message means. Set while
 * scanning (explain_scan.c, phrases with PH_CLUE), used by the rules of explain_rules.h. */
enum clue {
    CLUE_BROKER_LOG = 1u << 0,       /* lines of a broker's own log */
    CLUE_DEVICE = 1u << 1,           /* ESP-IDF, Arduino, MicroPython, FreeRTOS output */
    CLUE_ARDUINO = 1u << 2,          /* Arduino: rc=-2 is PubSubClient's state(), not Paho's */
    CLUE_AWS = 1u << 3,              /* AWS IoT endpoint or SDK */
    CLUE_TLS_PORT = 1u << 4,         /* 8883, 8884, :443, :8443 named */
    CLUE_PLAIN_PORT = 1u << 5,       /* 1883 named */
    CLUE_TLS_URI = 1u << 6,          /* ssl://, mqtts://, wss://, tls:// */
    CLUE_MOSQ_CMD = 1u << 7,         /* a mosquitto_pub / mosquitto_sub command line */
    CLUE_MOSQ_CMD_TLS = 1u << 8,     /* ... with --cafile / --capath / --psk: it speaks TLS */
    CLUE_MOSQ_CMD_CERT = 1u << 9,    /* ... with --cert: it sends a client certificate */
    CLUE_KEEPALIVE_ZERO = 1u << 10,  /* "(p2, c1, k0)", keepalive=0 */
    CLUE_INVALID_ARGS = 1u << 11,    /* mosquitto "Invalid arguments provided" */
    CLUE_LOCAL_ONLY = 1u << 12,      /* mosquitto 2.0 "Starting in local only mode" */
    CLUE_LOOPBACK_LISTEN = 1u << 13, /* netstat/ss: the broker listens on 127.0.0.1 only */
    CLUE_NO_CONNACK = 1u << 14,      /* connected, CONNECT sent, no CONNACK */
    CLUE_NO_CA_SET = 1u << 15,       /* arduino-esp32 start_ssl_client: -1 */
    CLUE_NET_ERROR = 1u << 16,       /* a socket-level error (connect errno, refused, DNS) */
    CLUE_TLS_FAILED = 1u << 17,      /* a TLS handshake failed, no reason given */
    CLUE_PLAIN_URI = 1u << 18,       /* mqtt://, ws://, tcp://: an endpoint without TLS */
};

/* Bigrams present in the current line: a needle whose first, middle or last bigram is absent
 * cannot occur, so most of the ~250 needles are rejected without a strstr() (16 MiB logs). */
#define BIGRAM_BITS 2048u

/* State of one mqtls_explain_text() / mqtls_explain_arg() call. */
typedef struct scan_ctx {
    enum side side;            /* who wrote the text, where its lines do not say */
    enum side line_side;       /* who wrote the line being scanned */
    enum line_subject subject; /* whose certificate the line is about, if it says */
    size_t broker_lines;       /* lines that say a broker wrote them */
    size_t client_lines;       /* lines that say a client wrote them */
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
/* Lowercase letters and digits of @p s only: "Not authorized", "NOT_AUTHORIZED" and
 * "NotAuthorized" all become "notauthorized". */
void mqtls__explain_squash(char *dst, size_t cap, const char *s);

/* ---- explain_scan.c */

/* Scan a log: every line (lowercased, in bounded windows) for phrases and codes. */
void mqtls__explain_scan_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *text, size_t len);
/* strstr() of a lowercase @p needle in the line being scanned, with the bigram pre-check. */
const char *mqtls__explain_find(const scan_ctx_t *ctx, const char *line, const char *needle);
/* The number that follows @p key in @p line (after ' ', '=', ':', '(', '[', ']', '#'), e.g.
 * "errno=113", "flags: 0x10000". @return true if one was found. */
bool mqtls__explain_number_after(const scan_ctx_t *ctx, const char *line, const char *key,
                                 number_t *out);
/* Does @p line contain any of the '|'-separated alternatives in @p list? */
bool mqtls__explain_contains_any(const scan_ctx_t *ctx, const char *line, const char *list);
/* The alert direction for an alert SENT by the client (true) or by the broker (false). */
enum side mqtls__explain_alert_dir(bool sent_by_client);

/* ---- explain_numbers.c: codes in a lowercased log line */

/* mbedTLS codes (-0x2700, -0x52glued, -9984, -2880, "(-76)", "UNKNOWN ERROR CODE (004C)",
 * mbedtls_strerror() texts), verify flags, esp-tls codes, errno, CONNACK / reason codes and
 * the return codes of Paho C, PubSubClient, BearSSL and WinSock. */
void mqtls__explain_scan_numbers(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);

/* ---- explain_vocab.c: the other ecosystems' codes, names and alert spellings */

bool mqtls__explain_pubsub(mqtls_explain_t *r, scan_ctx_t *ctx, int code);
bool mqtls__explain_bearssl(mqtls_explain_t *r, scan_ctx_t *ctx, long code);
bool mqtls__explain_winsock(mqtls_explain_t *r, scan_ctx_t *ctx, long code);
/* In the lowercased @p line: TLS alerts as Go ("remote error: tls: bad certificate"),
 * Erlang/OTP ("CLIENT ALERT: Fatal - Unknown CA"), Java ("Received fatal alert:
 * handshake_failure") and .NET print them; BearSSL texts; identifiers: MBEDTLS_ERR_*, ESP_ERR_*,
 * MQTTCLIENT_*, BR_ERR_*, WSAE*, AWS / Azure SDK names, MQTT 5 reason names (NOT_AUTHORIZED,
 * NotAuthorized). */
void mqtls__explain_scan_vocab(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);

/* ---- explain_rules.c */

/* Apply the context rules (explain_rules.h) to the causes found. Called by _finish once. */
void mqtls__explain_apply_rules(mqtls_explain_t *r);
/* The cause with finding @p id, or NULL. */
mqtls_explain_cause_t *mqtls__explain_cause_get(mqtls_explain_t *r, mqtls__finding_id_t id);

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
/* mbedtls_strerror() texts in the lowercased @p line ("SSL - Memory allocation failed"): the
 * codes of explain_codes.h whose text the linked mbedTLS prints. */
void mqtls__explain_mbedtls_by_text(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);
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
/* @return true if an errno name was found (it says more than a number next to it). */
bool mqtls__explain_scan_errno_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);
void mqtls__explain_scan_alert_names(mqtls_explain_t *r, scan_ctx_t *ctx, const char *line);
/* The alert named at the start of @p text: Go's wording ("unknown certificate authority"),
 * or any spelling of its name once squashed ("UnknownCA", "unknown ca", "unknown_ca").
 * @return the alert number, or -1. */
int mqtls__explain_alert_by_go_text(const char *text);
int mqtls__explain_alert_by_squashed(const char *text);

/* ---- explain_mbedtls.c */

/** mbedtls_strerror() of -@p magnitude into @p buf. @return true if the linked mbedTLS
 *  knows at least one part (high- or low-level) of the code. */
bool mqtls__explain_mbedtls_text(unsigned magnitude, char *buf, size_t cap);

/** The text the linked mbedTLS prints for one verify flag @p bit
 *  (mbedtls_x509_crt_verify_info(), without prefix and newline). @return false if none. */
bool mqtls__explain_verify_text(uint32_t bit, char *buf, size_t cap);

/** Is -@p mag a code of the linked mbedTLS: each non-zero part (high and low) one it names? */
bool mqtls__explain_mbedtls_plausible(unsigned mag);

/** The linked mbedTLS version, e.g. "2.28.3" (static string). */
const char *mqtls__explain_mbedtls_version(void);

#endif
