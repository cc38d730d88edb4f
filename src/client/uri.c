/* Broker URI parsing: "mqtt[s]://host[:port]" and "ws[s]://host[:port][/path]" with
 * bracketed IPv6 literals, and "unix:///path". Pure. */
#include <string.h>

#include "mqtls/uri.h"

static bool has_prefix(const char *s, const char *p, size_t *n)
{
    *n = strlen(p);
    return strncmp(s, p, *n) == 0;
}

/* sizeof(((struct sockaddr_un *)0)->sun_path) on Linux and the BSDs is 108 (104 on macOS):
 * the longest name a connect() takes, with its NUL. */
#define UNIX_PATH_MAX 107u

/* "unix:///path": no host part, an absolute file name (RFC 8089's file URI form). */
static mqtls_status_t parse_unix(const char *path, mqtls_uri_t *out)
{
    size_t len = strlen(path);
    if (path[0] != '/' || len < 2u || len > UNIX_PATH_MAX) {
        return MQTLS_ERR_BAD_URI;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)path[i] < 0x20u || (unsigned char)path[i] == 0x7Fu) {
            return MQTLS_ERR_BAD_URI;
        }
    }
    out->scheme = MQTLS_SCHEME_UNIX;
    memcpy(out->path, path, len + 1u);
    return MQTLS_OK;
}

/* A host goes to getaddrinfo(), the TLS SNI and the WebSocket Host header as it is: no space,
 * control byte or delimiter of a URI (found by fuzz_uri: "ws://h a" was a host). An IPv6
 * literal holds hex digits, ':' and '.', and maybe a zone ("%eth0"). */
static bool host_ok(const char *h, size_t len, bool literal)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20u || c == 0x7Fu || strchr("@[]/\\?#", c) != NULL) {
            return false;
        }
        if (literal &&
            !(c == ':' || c == '.' || c == '%' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            return false;
        }
    }
    return true;
}

mqtls_status_t mqtls_uri_parse(const char *uri, mqtls_uri_t *out)
{
    if (uri == NULL || out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    size_t n = 0;
    const char *p;
    if (has_prefix(uri, "unix://", &n)) {
        return parse_unix(uri + n, out);
    }
    if (has_prefix(uri, "mqtts://", &n) || has_prefix(uri, "ssl://", &n)) {
        out->tls = true;
        out->port = 8883;
        out->scheme = MQTLS_SCHEME_MQTTS;
    } else if (has_prefix(uri, "wss://", &n)) {
        out->tls = true;
        out->websocket = true;
        out->port = 443;
        out->scheme = MQTLS_SCHEME_WSS;
    } else if (has_prefix(uri, "ws://", &n)) {
        out->websocket = true;
        out->port = 80;
        out->scheme = MQTLS_SCHEME_WS;
    } else if (has_prefix(uri, "mqtt://", &n) || has_prefix(uri, "tcp://", &n)) {
        out->port = 1883;
    } else if (strstr(uri, "://") != NULL) {
        return MQTLS_ERR_BAD_URI; /* an unknown scheme */
    } else {
        n = 0; /* a bare "host[:port]" means mqtt:// */
        out->port = 1883;
    }
    p = uri + n;
    const char *host = p;
    size_t host_len;
    bool literal = *p == '[';
    if (literal) {
        const char *end = strchr(p, ']');
        if (end == NULL || end == p + 1) {
            return MQTLS_ERR_BAD_URI;
        }
        host = p + 1;
        host_len = (size_t)(end - host);
        p = end + 1;
    } else {
        host_len = strcspn(p, ":/");
        p += host_len;
    }
    if (host_len == 0 || host_len >= sizeof out->host || !host_ok(host, host_len, literal)) {
        return MQTLS_ERR_BAD_URI;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (*p == ':') {
        p++;
        unsigned long port = 0;
        size_t digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            port = port * 10u + (unsigned long)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535u) {
            return MQTLS_ERR_BAD_URI;
        }
        out->port = (uint16_t)port;
    }
    if (out->websocket) {
        /* The request target of the HTTP Upgrade; "/mqtt" is what brokers expect by default
         * (mosquitto, EMQX, HiveMQ, AWS IoT). */
        const char *path = *p == '/' ? p : "/mqtt";
        size_t len = strlen(path);
        if (len >= sizeof out->path) {
            return MQTLS_ERR_BAD_URI;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)path[i] <= 0x20u || (unsigned char)path[i] == 0x7Fu) {
                return MQTLS_ERR_BAD_URI; /* would break the request line */
            }
        }
        memcpy(out->path, path, len + 1u);
        p += *p == '/' ? len : 0u;
    } else if (*p == '/') {
        p++; /* a trailing "/" (or a path, ignored for plain MQTT) */
        p += strlen(p);
    }
    if (*p != '\0') {
        return MQTLS_ERR_BAD_URI;
    }
    return MQTLS_OK;
}
