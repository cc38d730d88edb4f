/* libFuzzer target: broker URI parsing (mqtls_uri_parse, src/client/uri.c) on any bytes.
 * Invariants: no crash or out-of-bounds access (ASan); MQTLS_OK or MQTLS_ERR_BAD_URI; on success
 * the host is non-empty, NUL-terminated, holds no '/', space or control byte; the port is not
 * 0; the scheme agrees with tls / websocket; a WebSocket path starts with '/' and holds no
 * space or control byte, an mqtt(s):// one is empty; unix:///path has no host or port and an
 * absolute path of at most 107 bytes; and the parse is stable: the URI rebuilt from the result
 * parses to the same result. Also linked into replay_main.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mqtls/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool clean(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s <= 0x20u || (unsigned char)*s == 0x7Fu) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1u);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0'; /* an embedded NUL ends the URI, as for any C string */
    mqtls_uri_t u;
    mqtls_status_t st = mqtls_uri_parse(s, &u);
    free(s);
    CHECK(st == MQTLS_OK || st == MQTLS_ERR_BAD_URI);
    if (st != MQTLS_OK) {
        return 0;
    }
    CHECK(memchr(u.host, '\0', sizeof u.host) != NULL);
    CHECK(memchr(u.path, '\0', sizeof u.path) != NULL);
    if (u.scheme == MQTLS_SCHEME_UNIX) {
        /* unix:///path: no host, no port, no TLS of its own; an absolute file name that fits
         * sun_path with no control byte; and "unix://" + path parses to the same. */
        size_t len = strlen(u.path);
        CHECK(u.host[0] == '\0' && u.port == 0 && !u.tls && !u.websocket);
        CHECK(u.path[0] == '/' && len >= 2u && len <= 107u);
        for (size_t i = 0; i < len; i++) {
            CHECK((unsigned char)u.path[i] >= 0x20u && (unsigned char)u.path[i] != 0x7Fu);
        }
        char again_unix[300];
        int k = snprintf(again_unix, sizeof again_unix, "unix://%s", u.path);
        CHECK(k > 0 && (size_t)k < sizeof again_unix);
        mqtls_uri_t w;
        CHECK(mqtls_uri_parse(again_unix, &w) == MQTLS_OK);
        CHECK(w.scheme == MQTLS_SCHEME_UNIX && strcmp(u.path, w.path) == 0);
        return 0;
    }
    CHECK(u.host[0] != '\0' && strchr(u.host, '/') == NULL && clean(u.host));
    CHECK(u.port != 0);
    CHECK(u.tls == (u.scheme == MQTLS_SCHEME_MQTTS || u.scheme == MQTLS_SCHEME_WSS));
    CHECK(u.websocket == (u.scheme == MQTLS_SCHEME_WS || u.scheme == MQTLS_SCHEME_WSS));
    if (u.websocket) {
        CHECK(u.path[0] == '/' && clean(u.path));
    } else {
        CHECK(u.path[0] == '\0');
    }
    static const char *const schemes[] = {"mqtt", "mqtts", "ws", "wss"};
    char again[700];
    bool v6 = strchr(u.host, ':') != NULL;
    int n = snprintf(again, sizeof again, "%s://%s%s%s:%u%s", schemes[u.scheme], v6 ? "[" : "",
                     u.host, v6 ? "]" : "", (unsigned)u.port, u.path);
    CHECK(n > 0 && (size_t)n < sizeof again);
    mqtls_uri_t v;
    CHECK(mqtls_uri_parse(again, &v) == MQTLS_OK);
    CHECK(strcmp(u.host, v.host) == 0 && u.port == v.port && u.scheme == v.scheme &&
          strcmp(u.path, v.path) == 0);
    return 0;
}
