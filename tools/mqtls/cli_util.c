/* Small helpers shared by the mqtls subcommands; see cli_util.h. */
#include "cli_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

void mqtls_cli_error(const char *action, const char *object, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mqtls: %s %s: %s\n", action, object, reason);
}

void mqtls_cli_status_error(const char *action, const char *object, mqtls_status_t st,
                            const mqtls_error_t *err)
{
    const char *reason =
        (err != NULL && err->detail[0] != '\0') ? err->detail : mqtls_status_text(st);
    fprintf(stderr, "mqtls: %s %s: %s (%s)\n", action, object, reason, mqtls_status_name(st));
}

int mqtls_cli_exit_code(mqtls_status_t st)
{
    switch (st) {
    case MQTLS_OK:
        return MQTLS_EXIT_OK;
    case MQTLS_ERR_USAGE:
    case MQTLS_ERR_INVALID_ARG:
        return MQTLS_EXIT_USAGE;
    case MQTLS_ERR_FILE_UNREADABLE:
    case MQTLS_ERR_FILE_EMPTY:
    case MQTLS_ERR_FILE_WRITE:
    case MQTLS_ERR_FILE_EXISTS:
    case MQTLS_ERR_CERT_PARSE:
    case MQTLS_ERR_CA_PARSE:
    case MQTLS_ERR_KEY_PARSE:
    case MQTLS_ERR_KEY_PASSWORD_REQUIRED:
    case MQTLS_ERR_KEY_PASSWORD_WRONG:
    case MQTLS_ERR_KEY_MISMATCH:
    case MQTLS_ERR_KEY_UNSUPPORTED:
    case MQTLS_ERR_PEM_NOT_NUL_TERMINATED:
        return MQTLS_EXIT_FILE;
    case MQTLS_ERR_TIMEOUT:
    case MQTLS_ERR_CONNACK_TIMEOUT:
    case MQTLS_ERR_CONNECT_TIMEOUT:
    case MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT:
        return MQTLS_EXIT_TIMEOUT;
    case MQTLS_ERR_CONNACK_REFUSED:
        return MQTLS_EXIT_REFUSED;
    default:
        return MQTLS_EXIT_FAIL;
    }
}

bool mqtls_cli_is_help(const char *arg)
{
    return arg != NULL && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
}

bool mqtls_cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false; /* strtoul would accept " 1", "+1" and "-1" */
    }
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int mqtls_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) {
        return 0;
    }
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') {
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

void mqtls_cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; p != NULL && *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}
