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

/** @brief The documented exit code (commands.h) for a status: 0 ok, 2 usage / invalid
 *  argument, 4 file problems (unreadable, exists, unparsable, key mismatch), 1 otherwise. */
int mqtls_cli_exit_code(mqtls_status_t st);

/** @brief true if @p arg is "--help" or "-h". */
bool mqtls_cli_is_help(const char *arg);

/** @brief Parse a whole decimal string as an unsigned number in [min, max] (max <= LONG_MAX):
 *  digits only. @return true and *out on success; false (out untouched) on junk, sign or
 *  overflow. */
bool mqtls_cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/** @brief Parse a whole decimal string (strtol: leading blanks and a sign allowed) in
 *  [min, max]. @return true and *out on success; false (out untouched) otherwise. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/** @brief Option matching for "--opt VALUE" and "--opt=VALUE" (mqtls pki's parser).
 *  If argv[*i] is @p name (or starts with "name="), sets *value and advances *i past the value.
 *  @return 1 matched with a value, 0 not this option, -1 matched but the value is missing. */
int mqtls_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

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
/** @brief Write @p s (NULL = "") to @p out as a JSON string, as cli_json_string(). */
void mqtls_cli_json_string(FILE *out, const char *s);
/** @brief Write @p before as is (",\"name\":"), then @p value as a JSON string. */
void cli_json_field(FILE *out, const char *before, const char *value);

/* Credential files (CA bundles, certificates, keys) are read up to this size. */
#define CLI_CRED_FILE_MAX (4u * 1024u * 1024u)

/** @brief Read the whole of @p path ("-" = stdin), binary-safe, at most @p max_len bytes
 *  (SIZE_MAX: no limit).
 *  The one reader of the CLI: payloads (-f, -s), credential files (doctor and the diagnosis of
 *  pub/sub) and explain's stdin.
 *  @param[out] out  Heap buffer, caller frees; one NUL byte follows the data (not counted).
 *  @return 0; EFBIG when the input is longer than @p max_len (then *out and *len hold its
 *          first @p max_len bytes); EISDIR; another errno (then *out is NULL). */
int cli_read_file(const char *path, size_t max_len, uint8_t **out, size_t *len);

/* A credential file (CA bundle, certificate, key) read for diagnosis, which is pure and
 * takes bytes: the same for pub/sub (after a failure) and doctor. */
typedef struct cli_cred {
    char display[600]; /* the path as given ("" = no file): fixes can use it as is */
    uint8_t *data;     /* NUL-terminated; NULL unless read */
    size_t len;
    int err; /* errno of the read; EFBIG above CLI_CRED_FILE_MAX */
} cli_cred_t;
/** @brief Is @p key (--key) an RFC 7512 pkcs11: URI rather than a file? NULL: false. */
bool cli_is_pkcs11_uri(const char *key);
/** @brief @p key as it may be printed: a pkcs11: URI with its pin-value as ***, a file name as
 *  it is. @return @p buf (or @p key when it needs no change). */
const char *cli_key_shown(const char *key, char *buf, size_t cap);
/** @brief Read @p path (NULL: none given) into @p f. Never fails: a problem is f->err. */
void cli_cred_load(cli_cred_t *f, const char *path);
/** @brief The diagnosis input for @p f (borrowed: keep @p f until the diagnosis is done). */
void cli_cred_to_diag(const cli_cred_t *f, mqtls_diag_file_t *out);
/** @brief Wipe (it may be a private key) and free. Accepts a zeroed @p f. */
void cli_cred_free(cli_cred_t *f);

/** @brief Read the first line of @p path into @p buf (a key password file): the trailing
 *  CR/LF removed. *is_empty is set when the file has no byte at all (buf is then "").
 *  @return 0 or an errno (buf is then ""). */
int cli_read_line(const char *path, char *buf, size_t cap, bool *is_empty);

#endif /* MQTLS_TOOLS_CLI_UTIL_H */
