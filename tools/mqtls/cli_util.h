/* Small helpers shared by the mqtls subcommands: error lines, exit codes, numbers, a growable
 * buffer, JSON strings and the one file reader. Standard C + POSIX + the public API only (the
 * explain CLI test builds this file alone with cmd_explain.c). */
#ifndef MQTLS_TOOLS_CLI_UTIL_H
#define MQTLS_TOOLS_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/file.h"
#include "mqtls/status.h"

#if defined(__GNUC__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/** @brief Print "mqtls: <action> <object>: <reason>" (printf-style reason) to stderr. */
void mqtls_cli_error(const char *action, const char *object, const char *fmt, ...) CLI_PRINTF(3, 4);

/** @brief Print "mqtls: <action> <object>: <detail or status text> (<STATUS_NAME>)" to stderr.
 *  @param err  may be NULL or have an empty detail; then the status text is used. */
void mqtls_cli_status_error(const char *action, const char *object, mqtls_status_t st,
                            const mqtls_error_t *err);

/** @brief @p detail without a leading "<object>: " (a reader's detail names its file, and the
 *  line that quotes it names it already). */
const char *cli_reason_after(const char *detail, const char *object);

/** @brief The documented exit code (commands.h, docs/cli/exit-codes.md) for a status, the one
 *  table of every command: 0 ok, 2 usage / invalid argument, 3 timeouts, 4 file and key
 *  problems (unreadable, empty, unparsable, encrypted, not a pair, exists), 5 the broker said
 *  no (CONNACK refusal, DISCONNECT), 1 otherwise. */
int mqtls_cli_exit_code(mqtls_status_t st);

/** @brief Write @p text and a newline to @p out, each of its further lines after @p indent
 *  (a finding's multi-line fix under its label). */
void cli_print_indented(FILE *out, const char *text, const char *indent);

/** @brief true if @p arg is "--help" or "-h". */
bool mqtls_cli_is_help(const char *arg);

/** @brief Parse a whole decimal string as an unsigned number in [min, max] (max <= LONG_MAX):
 *  digits only. @return true and *out on success; false (out untouched) on junk, sign or
 *  overflow. */
bool mqtls_cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/** @brief Parse a whole decimal string (strtol: leading blanks and a sign allowed) in
 *  [min, max]. @return true and *out on success; false (out untouched) otherwise. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/** @brief Decode a whole string of hex digit pairs (no "0x", either case) into @p out.
 *  @return true and *len on success; false for an odd count, a non-hex digit or more than
 *  @p cap bytes. */
bool cli_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len);

/** @brief Option matching for "--opt VALUE" and "--opt=VALUE" (mqtls pki's parser).
 *  If argv[*i] is @p name (or starts with "name="), sets *value and advances *i past the value.
 *  @return 1 matched with a value, 0 not this option, -1 matched but the value is missing. */
int mqtls_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/** @brief Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute,
 *  swap two neighbours) between @p a and @p b, counted up to 64 characters of each. */
size_t cli_edit_distance(const char *a, const char *b);

/** @brief The candidate closest to @p typed, if close enough to be a typo: at most 2 edits, and
 *  fewer than half the candidate's length. @return the candidate, or NULL. */
const char *cli_closest(const char *typed, const char *const *candidates, size_t count);

/** @brief Overwrite @p len bytes at @p p with zeros (secrets; not optimised away). */
void cli_wipe(void *p, size_t len);

/** @brief Monotonic clock in milliseconds. */
int64_t cli_now_ms(void);

/* A growable output buffer (formatting writes here, then one fwrite). Zero-initialise it;
 * after an allocation failure @c oom is set and further appends are dropped. */
typedef struct cli_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} cli_buf_t;
void cli_buf_free(cli_buf_t *b);
void cli_buf_add(cli_buf_t *b, const void *p, size_t n);
void cli_buf_str(cli_buf_t *b, const char *s);
/* printf into @p b; one call writes at most 255 bytes (numbers and short words). */
void cli_buf_fmt(cli_buf_t *b, const char *fmt, ...) CLI_PRINTF(2, 3);

/** @brief Append @p len bytes as hex digits (lower or upper case). */
void cli_buf_hex(cli_buf_t *b, const uint8_t *p, size_t len, bool upper);

/** @brief Is @p s[0..len) UTF-8 (RFC 3629: no overlong form, surrogate or code point above
 *  U+10FFFF)? Unlike MQTT strings (mqtls_utf8_check) it may hold U+0000: JSON escapes it. */
bool cli_utf8_valid(const uint8_t *s, size_t len);

/** @brief Append @p s[0..len) as a JSON string: quoted; ", \\, \\b \\f \\n \\r \\t escaped,
 *  other control bytes and DEL as \\u00XX; bytes >= 0x80 pass through (UTF-8 text). */
void cli_json_string(cli_buf_t *b, const uint8_t *s, size_t len);
/* cli_json_string_ex() flags: cJSON's way (mosquitto_sub's %j/%J) differs in two points. */
#define CLI_JSON_KEEP_DEL 1u    /* DEL (0x7F) as is, not \u007f */
#define CLI_JSON_STOP_AT_NUL 2u /* end the string at a NUL byte (a C string) */
/** @brief cli_json_string() with CLI_JSON_* @p flags. */
void cli_json_string_ex(cli_buf_t *b, const uint8_t *s, size_t len, unsigned flags);
/** @brief Write @p s (NULL = "") to @p out as a JSON string, as cli_json_string(). */
void mqtls_cli_json_string(FILE *out, const char *s);
/** @brief Write @p before as is (",\"name\":"), then @p value as a JSON string. */
void cli_json_field(FILE *out, const char *before, const char *value);

/* Payloads (-f, -s, and each -l line) are read up to this size: the largest message the
 * client's outbox takes (cli_session.c gives it this much room and more for the header). */
#define CLI_PAYLOAD_MAX (4u * 1024u * 1024u)

/** @brief Read the whole of @p path ("-" = stdin: a pipe, terminal or file) through the
 *  library's one reader (mqtls/file.h): non-blocking open, the type checked before reading,
 *  at most @p max_len bytes. The one reader of the CLI: payloads (-f, -s), credential files
 *  (doctor and the diagnosis of pub/sub), key password files and explain's stdin.
 *  @param[in]  flags  mqtls_file_read() flags for a path (stdin takes any kind).
 *  @param[out] out    Caller frees with mqtls_file_free(); a NUL follows the data.
 *  @return MQTLS_OK or the reader's status, details in @p err (may be NULL). */
mqtls_status_t cli_read_file(const char *path, size_t max_len, unsigned flags, uint8_t **out,
                             size_t *len, mqtls_error_t *err);


/* A credential file (CA bundle, certificate, key) read for diagnosis, which is pure and
 * takes bytes: the same for pub/sub (after a failure) and doctor. */
typedef struct cli_cred {
    char display[600]; /* the path as given ("" = no file): fixes can use it as is */
    uint8_t *data;     /* NUL-terminated; NULL unless read */
    size_t len;
    int err;               /* errno of the read (EFBIG above the limit, EISDIR, ...) */
    mqtls_status_t status; /* of the read: MQTLS_ERR_FILE_NOT_REGULAR, ..._TOO_LARGE, ... */
    char why[160];         /* the reader's detail ("ca.pem: a FIFO (named pipe), not a file") */
} cli_cred_t;
/** @brief Is @p key (--key) an RFC 7512 pkcs11: URI rather than a file? NULL: false. */
bool cli_is_pkcs11_uri(const char *key);
/** @brief @p key as it may be printed: a pkcs11: URI with its pin-value as ***, a file name as
 *  it is. @return @p buf (or @p key when it needs no change). */
const char *cli_key_shown(const char *key, char *buf, size_t cap);
/** @brief Read @p path (NULL: none given) into @p f, MQTLS_FILE_CREDENTIAL_MAX at most.
 *  Never fails: a problem is f->status / f->err. */
void cli_cred_load(cli_cred_t *f, const char *path);
/** @brief The diagnosis input for @p f (borrowed: keep @p f until the diagnosis is done). */
void cli_cred_to_diag(const cli_cred_t *f, mqtls_diag_file_t *out);
/** @brief Wipe (it may be a private key) and free. Accepts a zeroed @p f. */
void cli_cred_free(cli_cred_t *f);

/** @brief Read the first line of @p path into @p buf (a key password file): the trailing
 *  CR/LF removed. *is_empty is set when the file has no byte at all (buf is then "").
 *  A regular file only, at most @p cap - 1 bytes.
 *  @return MQTLS_OK or the reader's status (buf is then ""), details in @p err. */
mqtls_status_t cli_read_line(const char *path, char *buf, size_t cap, bool *is_empty,
                             mqtls_error_t *err);

#endif /* MQTLS_TOOLS_CLI_UTIL_H */
