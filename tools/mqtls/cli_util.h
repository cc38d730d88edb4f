/* Small helpers shared by the mqtls subcommands (argument parsing, error lines, exit codes). */
#ifndef MQTLS_TOOLS_CLI_UTIL_H
#define MQTLS_TOOLS_CLI_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "mqtls/error.h"
#include "mqtls/status.h"

/** @brief Print "mqtls: <action> <object>: <reason>" (printf-style reason) to stderr. */
void mqtls_cli_error(const char *action, const char *object, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** @brief Print "mqtls: <action> <object>: <detail or status text> (<STATUS_NAME>)" to stderr.
 *  @param err  may be NULL or have an empty detail; then the status text is used. */
void mqtls_cli_status_error(const char *action, const char *object, mqtls_status_t st,
                            const mqtls_error_t *err);

/** @brief The documented exit code (commands.h) for a status: 0 ok, 2 usage / invalid
 *  argument, 4 file problems (unreadable, exists, unparsable, key mismatch), 1 otherwise. */
int mqtls_cli_exit_code(mqtls_status_t st);

/** @brief true if @p arg is "--help" or "-h". */
bool mqtls_cli_is_help(const char *arg);

/** @brief Parse a whole decimal string as an unsigned number in [min, max].
 *  @return true and *out on success; false (out untouched) on junk, sign or overflow. */
bool mqtls_cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/** @brief Option matching for "--opt VALUE" and "--opt=VALUE".
 *  If argv[*i] is @p name (or starts with "name="), sets *value and advances *i past the value.
 *  @return 1 matched with a value, 0 not this option, -1 matched but the value is missing. */
int mqtls_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/** @brief Write @p s (NULL = "") to @p out as a JSON string: quoted, with ", \\ and control
 *  characters escaped (bytes >= 0x80 pass through: the texts are UTF-8). */
void mqtls_cli_json_string(FILE *out, const char *s);

#endif /* MQTLS_TOOLS_CLI_UTIL_H */
