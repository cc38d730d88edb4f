/* Small helpers shared by the mqtls subcommands; see cli_util.h. */
#include "cli_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "mqtls/file.h"
#include "mqtls/packet.h"

void mqtls_cli_error(const char *action, const char *object, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mqtls: %s %s: %s\n", action, object, reason);
}

const char *cli_reason_after(const char *detail, const char *object)
{
    size_t n = strlen(object);
    if (strncmp(detail, object, n) == 0 && strncmp(detail + n, ": ", 2) == 0) {
        return detail + n + 2; /* "x: a FIFO ..." after "cannot read x:" says x once */
    }
    return detail;
}

void mqtls_cli_status_error(const char *action, const char *object, mqtls_status_t st,
                            const mqtls_error_t *err)
{
    const char *reason = (err != NULL && err->detail[0] != '\0')
                             ? cli_reason_after(err->detail, object)
                             : mqtls_status_text(st);
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
    case MQTLS_ERR_FILE_NOT_REGULAR:
    case MQTLS_ERR_FILE_TOO_LARGE:
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
    case MQTLS_ERR_PERSIST: /* --persist DIR */
    case MQTLS_ERR_PERSIST_LOCKED:
    case MQTLS_ERR_PERSIST_MISMATCH:
        return MQTLS_EXIT_FILE;
    case MQTLS_ERR_TIMEOUT:
    case MQTLS_ERR_CONNACK_TIMEOUT:
    case MQTLS_ERR_CONNECT_TIMEOUT:
    case MQTLS_ERR_TLS_HANDSHAKE_TIMEOUT:
        return MQTLS_EXIT_TIMEOUT;
    case MQTLS_ERR_CONNACK_REFUSED:
    case MQTLS_ERR_SERVER_DISCONNECT:
        return MQTLS_EXIT_REFUSED;
    default:
        return MQTLS_EXIT_FAIL;
    }
}

void cli_print_indented(FILE *out, const char *text, const char *indent)
{
    for (const char *p = text; *p != '\0'; p++) {
        fputc(*p, out);
        if (*p == '\n' && p[1] != '\0') {
            fputs(indent, out);
        }
    }
    fputc('\n', out);
}

bool mqtls_cli_is_help(const char *arg)
{
    return arg != NULL && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool cli_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2u != 0 || n / 2u > cap) {
        return false;
    }
    for (size_t i = 0; i < n / 2u; i++) {
        int hi = hex_digit(s[2u * i]);
        int lo = hex_digit(s[2u * i + 1u]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2u;
    return true;
}

bool mqtls_cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    long v = 0;
    if (s == NULL || s[0] < '0' || s[0] > '9' || min > (unsigned long)LONG_MAX ||
        max > (unsigned long)LONG_MAX || !cli_parse_long(s, (long)min, (long)max, &v)) {
        return false; /* strtol alone would accept " 1", "+1" and "-1" */
    }
    *out = (unsigned long)v;
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

size_t cli_edit_distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t n = strlen(a) < MAX ? strlen(a) : MAX;
    size_t m = strlen(b) < MAX ? strlen(b) : MAX;
    static size_t d[MAX + 1][MAX + 1]; /* the CLI is one thread */
    for (size_t i = 0; i <= n; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= m; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0u : 1u;
            size_t best = d[i - 1][j] + 1u;                                       /* delete */
            best = d[i][j - 1] + 1u < best ? d[i][j - 1] + 1u : best;             /* insert */
            best = d[i - 1][j - 1] + cost < best ? d[i - 1][j - 1] + cost : best; /* substitute */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < best) {
                best = d[i - 2][j - 2] + 1u; /* two neighbours swapped */
            }
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *cli_closest(const char *typed, const char *const *candidates, size_t count)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        if (candidates[i] == NULL) {
            continue;
        }
        size_t d = cli_edit_distance(typed, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best == NULL || best_d > 2 || best_d * 2 >= strlen(best)) {
        return NULL;
    }
    return best;
}

void cli_wipe(void *p, size_t len)
{
    volatile unsigned char *v = p; /* volatile so the stores are not optimised away */
    for (size_t i = 0; i < len; i++) {
        v[i] = 0;
    }
}

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------------------------------- */
/* Growable buffer and JSON strings */

void cli_buf_free(cli_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void cli_buf_add(cli_buf_t *b, const void *p, size_t n)
{
    if (b->oom || n == 0) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void cli_buf_str(cli_buf_t *b, const char *s)
{
    cli_buf_add(b, s, strlen(s));
}

void cli_buf_fmt(cli_buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        cli_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

void cli_buf_hex(cli_buf_t *b, const uint8_t *p, size_t len, bool upper)
{
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char chunk[256];
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        chunk[k++] = hex[p[i] >> 4];
        chunk[k++] = hex[p[i] & 0xF];
        if (k == sizeof(chunk)) {
            cli_buf_add(b, chunk, k);
            k = 0;
        }
    }
    cli_buf_add(b, chunk, k);
}

bool cli_utf8_valid(const uint8_t *s, size_t len)
{
    /* The library checks MQTT strings, which must not hold U+0000 [MQTT-1.5.4-2]: check the
     * runs between NUL bytes (a NUL cannot be part of a multi-byte sequence). */
    while (len > 0) {
        const uint8_t *nul = memchr(s, 0, len);
        size_t run = nul != NULL ? (size_t)(nul - s) : len;
        if (mqtls_utf8_check(s, run) != MQTLS_OK) {
            return false;
        }
        run += nul != NULL ? 1u : 0u;
        s += run;
        len -= run;
    }
    return true;
}

void cli_json_string_ex(cli_buf_t *b, const uint8_t *s, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    if ((flags & CLI_JSON_STOP_AT_NUL) != 0) {
        const uint8_t *nul = memchr(s, 0, len);
        len = nul != NULL ? (size_t)(nul - s) : len;
    }
    cli_buf_add(b, "\"", 1);
    size_t run = 0; /* bytes before s + i that need no escape, written in one go */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20 || (c == 0x7F && (flags & CLI_JSON_KEEP_DEL) == 0)) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 0xF];
                u[6] = '\0';
                esc = u;
            }
            break;
        }
        if (esc != NULL) {
            cli_buf_add(b, s + i - run, run);
            run = 0;
            cli_buf_str(b, esc);
        } else {
            run++;
        }
    }
    cli_buf_add(b, s + len - run, run);
    cli_buf_add(b, "\"", 1);
}

void cli_json_string(cli_buf_t *b, const uint8_t *s, size_t len)
{
    cli_json_string_ex(b, s, len, 0);
}

void mqtls_cli_json_string(FILE *out, const char *s)
{
    cli_buf_t b = {0};
    if (s == NULL) {
        s = "";
    }
    cli_json_string(&b, (const uint8_t *)s, strlen(s));
    if (b.oom) {
        fputs("\"\"", out); /* still valid JSON */
    } else {
        fwrite(b.data, 1, b.len, out);
    }
    cli_buf_free(&b);
}

void cli_json_field(FILE *out, const char *before, const char *value)
{
    fputs(before, out);
    mqtls_cli_json_string(out, value);
}

/* ---------------------------------------------------------------------------------------- */
/* Files */

mqtls_status_t cli_read_file(const char *path, size_t max_len, unsigned flags, uint8_t **out,
                             size_t *len, mqtls_error_t *err)
{
    if (strcmp(path, "-") == 0) {
        /* stdin: a pipe, a terminal or a file, read to its end, capped like any file */
        return mqtls_file_read_fd(STDIN_FILENO, "stdin", max_len,
                                  MQTLS_FILE_STREAM | MQTLS_FILE_CHAR_DEVICE, out, len, err);
    }
    return mqtls_file_read(path, max_len, flags, out, len, err);
}

bool cli_is_pkcs11_uri(const char *key)
{
    return key != NULL && strncasecmp(key, "pkcs11:", 7) == 0;
}

const char *cli_key_shown(const char *key, char *buf, size_t cap)
{
    if (!cli_is_pkcs11_uri(key) || cap == 0) {
        return key;
    }
    size_t o = 0;
    const char *p = key;
    while (*p != '\0' && o + 1 < cap) {
        bool at_attr = p == key || p[-1] == ';' || p[-1] == '?' || p[-1] == '&' || p[-1] == ':';
        if (at_attr && strncmp(p, "pin-value=", 10) == 0) {
            int n = snprintf(buf + o, cap - o, "pin-value=***");
            o += n > 0 ? (size_t)n : 0;
            p += 10;
            p += strcspn(p, ";&?");
            continue;
        }
        buf[o++] = *p++;
    }
    buf[o < cap ? o : cap - 1] = '\0';
    return buf;
}

void cli_cred_load(cli_cred_t *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    if (path == NULL) {
        return;
    }
    snprintf(f->display, sizeof(f->display), "%s", path);
    mqtls_error_t err;
    mqtls_error_init(&err);
    f->status = cli_read_file(path, MQTLS_FILE_CREDENTIAL_MAX, 0, &f->data, &f->len, &err);
    if (f->status != MQTLS_OK) {
        f->err = err.sys_errno != 0 ? err.sys_errno : EIO;
        snprintf(f->why, sizeof(f->why), "%s", err.detail);
    }
}

void cli_cred_to_diag(const cli_cred_t *f, mqtls_diag_file_t *out)
{
    memset(out, 0, sizeof(*out));
    if (f->display[0] == '\0') {
        return;
    }
    out->display_name = f->display;
    out->data = f->err == 0 ? f->data : NULL;
    out->len = f->err == 0 ? f->len : 0;
    out->read_errno = f->err;
}

void cli_cred_free(cli_cred_t *f)
{
    mqtls_file_free(f->data, f->len); /* wiped: it may be a private key */
    f->data = NULL;
    f->len = 0;
}

mqtls_status_t cli_read_line(const char *path, char *buf, size_t cap, bool *is_empty,
                             mqtls_error_t *err)
{
    buf[0] = '\0';
    *is_empty = false;
    uint8_t *data = NULL;
    size_t len = 0;
    /* A password file: a regular file, small (the line must fit @p cap). */
    mqtls_status_t st = mqtls_file_read(path, cap > 1 ? cap - 1 : 0, 0, &data, &len, err);
    if (st != MQTLS_OK) {
        return st;
    }
    *is_empty = len == 0;
    size_t n = 0;
    while (n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0') {
        n++;
    }
    memcpy(buf, data, n);
    buf[n] = '\0';
    mqtls_file_free(data, len);
    return MQTLS_OK;
}
