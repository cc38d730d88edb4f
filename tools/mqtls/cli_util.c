/* Small helpers shared by the mqtls subcommands; see cli_util.h. */
#include "cli_util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
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

void cli_json_string(cli_buf_t *b, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
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
            if (c < 0x20 || c == 0x7F) {
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

int cli_read_file(const char *path, size_t max_len, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return errno != 0 ? errno : EIO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!is_stdin) {
            fclose(f);
        }
        return EISDIR; /* fopen() opens a directory; reading it would say EIO */
    }
    cli_buf_t b = {0};
    char chunk[65536];
    size_t n;
    /* Read one byte past the limit to tell "exactly max_len" from "longer". */
    while (b.len <= max_len && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cli_buf_add(&b, chunk, n);
    }
    int rc = ferror(f) ? EIO : 0;
    if (!is_stdin) {
        fclose(f);
    }
    cli_buf_add(&b, "", 1); /* the NUL after the data; also gives an empty file a buffer */
    if (b.oom) {
        rc = ENOMEM;
    }
    if (rc != 0) {
        cli_buf_free(&b);
        return rc;
    }
    b.len--;
    if (b.len > max_len) {
        b.len = max_len;
        b.data[max_len] = '\0';
        rc = EFBIG;
    }
    *out = (uint8_t *)b.data;
    *len = b.len;
    return rc;
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
    f->err = cli_read_file(path, CLI_CRED_FILE_MAX, &f->data, &f->len);
    if (f->err != 0) {
        cli_cred_free(f); /* EFBIG leaves the first bytes: not a usable file */
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
    if (f->data != NULL) {
        cli_wipe(f->data, f->len);
        free(f->data);
    }
    f->data = NULL;
    f->len = 0;
}

int cli_read_line(const char *path, char *buf, size_t cap, bool *is_empty)
{
    buf[0] = '\0';
    *is_empty = false;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno != 0 ? errno : EIO;
    }
    int rc = 0;
    errno = 0;
    if (fgets(buf, (int)cap, f) == NULL) {
        buf[0] = '\0';
        rc = ferror(f) ? (errno != 0 ? errno : EIO) : 0; /* a directory: EISDIR */
        *is_empty = rc == 0;
    }
    fclose(f);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return rc;
}
