/* The WebSocket opening handshake (RFC 6455 section 4): the HTTP/1.1 Upgrade request with a
 * random key and the MQTT subprotocol [MQTT-6.0.0-3], and the checks of the 101 answer
 * (Upgrade/Connection, Sec-WebSocket-Accept, the subprotocol echo). */
#include "ws_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mbedtls/base64.h"
#include "tls_internal.h" /* mqtls__compat_sha1 */

bool mqtls__ws_accept_for_key(const char *key, char out[29])
{
    uint8_t buf[64 + sizeof WS_GUID];
    size_t klen = strlen(key);
    if (klen > 64) {
        return false;
    }
    memcpy(buf, key, klen);
    memcpy(buf + klen, WS_GUID, sizeof WS_GUID - 1);
    uint8_t digest[20];
    if (mqtls__compat_sha1(buf, klen + sizeof WS_GUID - 1, digest) != 0) {
        return false;
    }
    size_t olen = 0;
    return mbedtls_base64_encode((unsigned char *)out, 29, &olen, digest, sizeof digest) == 0 &&
           olen == 28;
}

/* Case-insensitive: does the comma-separated @p list contain the token @p tok? */
static bool list_has_token(const char *list, const char *tok, size_t tok_len)
{
    const char *p = list;
    for (int guard = 0; guard < 256 && *p != '\0'; guard++) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        const char *s = p;
        while (*p != '\0' && *p != ',') {
            p++;
        }
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if ((size_t)(e - s) == tok_len && tok_len > 0 && strncasecmp(s, tok, tok_len) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- handshake ------------------------------------------------------------------------ */

mqtls_status_t mqtls__ws_build_request(ws_t *t)
{
    uint8_t nonce[16];
    if (!mqtls__ws_random_bytes(t, nonce, sizeof nonce)) {
        return MQTLS_ERR_OS;
    }
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)t->key, sizeof t->key, &olen, nonce, sizeof nonce) !=
        0) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE, "ws: %s", "base64 of the key failed");
    }
    bool v6 = strchr(t->host, ':') != NULL; /* RFC 7230 5.4: IPv6 literals in brackets */
    int n = snprintf((char *)t->out, WS_OUT_CAP,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s%s%s:%u\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s%s%s"
                     "\r\n",
                     t->path, v6 ? "[" : "", t->host, v6 ? "]" : "", (unsigned)t->port, t->key,
                     t->subprotocol[0] != '\0' ? "Sec-WebSocket-Protocol: " : "", t->subprotocol,
                     t->subprotocol[0] != '\0' ? "\r\n" : "");
    if (n < 0 || (size_t)n >= WS_OUT_CAP) {
        return WS_FAIL(t, MQTLS_ERR_INVALID_ARG, "ws: %s", "Upgrade request too long");
    }
    t->out_len = (size_t)n;
    t->out_off = 0;
    return MQTLS_OK;
}

/* Validate the complete HTTP answer in rbuf[0..hdr_end) (NUL-terminated lines in place). */
static mqtls_status_t check_response(ws_t *t, size_t hdr_end)
{
    char *p = (char *)t->rbuf;
    char *end = p + hdr_end;
    /* Split into NUL-terminated lines. */
    for (char *c = p; c < end; c++) {
        if (*c == '\r' || *c == '\n') {
            *c = '\0';
        }
    }
    /* Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 7230 3.1.2). */
    const char *status = p;
    if (strncmp(status, "HTTP/1.", 7) != 0 || strlen(status) < 12 || status[8] != ' ') {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE, "ws: not an HTTP answer: \"%.60s\"", status);
    }
    if (strncmp(status + 9, "101", 3) != 0 || (status[12] != ' ' && status[12] != '\0')) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE, "%.150s", status);
    }
    const char *upgrade = NULL;
    const char *connection = NULL;
    const char *accept = NULL;
    const char *protocol = NULL;
    const char *extensions = NULL;
    char *line = p + strlen(p) + 1;
    for (int guard = 0; guard < 512 && line < end; guard++) {
        size_t len = strlen(line);
        char *colon = strchr(line, ':');
        if (len > 0 && colon != NULL) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            char *ve = v + strlen(v);
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                *--ve = '\0';
            }
            if (strcasecmp(line, "Upgrade") == 0) {
                upgrade = v;
            } else if (strcasecmp(line, "Connection") == 0) {
                connection = v;
            } else if (strcasecmp(line, "Sec-WebSocket-Accept") == 0) {
                accept = v;
            } else if (strcasecmp(line, "Sec-WebSocket-Protocol") == 0) {
                protocol = v;
            } else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0) {
                extensions = v;
            }
        }
        line += len + 1;
    }
    /* RFC 6455 4.1, client requirements on the server's handshake, items 2..6. */
    if (upgrade == NULL || strcasecmp(upgrade, "websocket") != 0) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                       "ws: 101 without \"Upgrade: websocket\" (got \"%.60s\")",
                       upgrade != NULL ? upgrade : "");
    }
    if (connection == NULL || !list_has_token(connection, "upgrade", 7)) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                       "ws: 101 without \"Connection: Upgrade\" (got \"%.60s\")",
                       connection != NULL ? connection : "");
    }
    char expect[29];
    if (!mqtls__ws_accept_for_key(t->key, expect)) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE, "ws: %s", "SHA-1 failed");
    }
    if (accept == NULL || strcmp(accept, expect) != 0) {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                       "ws: wrong Sec-WebSocket-Accept \"%.40s\" (a proxy answered for the "
                       "server?)",
                       accept != NULL ? accept : "(missing)");
    }
    if (extensions != NULL && extensions[0] != '\0') {
        return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                       "ws: server selected extension \"%.60s\" that was not offered", extensions);
    }
    if (protocol == NULL || protocol[0] == '\0') {
        if (t->subprotocol[0] != '\0') {
            /* Some bridges omit the echo; MQTT still works, so accept and say so. */
            (void)snprintf(t->note_buf, sizeof t->note_buf,
                           "server did not echo Sec-WebSocket-Protocol (offered \"%.60s\")",
                           t->subprotocol);
            t->note = t->note_buf;
        }
    } else {
        /* [MQTT-6.0.0-4] the server selects one of the offered subprotocols; RFC 6455 4.1
         * item 6: anything else fails the connection. */
        if (!list_has_token(t->subprotocol, protocol, strlen(protocol))) {
            return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                           "ws: server selected subprotocol \"%.60s\" that was not offered",
                           protocol);
        }
        (void)snprintf(t->selected, sizeof t->selected, "%s", protocol);
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__ws_read_response(ws_t *t)
{
    for (int rounds = 0; rounds < 64; rounds++) {
        /* Look for the blank line that ends the header; the answer may arrive split anywhere. */
        size_t from = t->hs_scan;
        for (size_t i = from; i + 4 <= t->rlen; i++) {
            if (memcmp(t->rbuf + i, "\r\n\r\n", 4) == 0) {
                size_t hdr_end = i + 4;
                mqtls_status_t st = check_response(t, hdr_end);
                if (st != MQTLS_OK) {
                    return st;
                }
                t->roff = hdr_end; /* frames that came with the 101 are kept */
                return MQTLS_OK;
            }
        }
        t->hs_scan = t->rlen >= 3 ? t->rlen - 3 : 0;
        if (t->rlen == sizeof t->rbuf) {
            return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE, "ws: HTTP answer header longer than %s",
                           "8192 bytes");
        }
        size_t got = 0;
        mqtls_status_t st =
            t->inner->ops->read(t->inner, t->rbuf + t->rlen, sizeof t->rbuf - t->rlen, &got);
        if (st == MQTLS_ERR_CLOSED) {
            return WS_FAIL(t, MQTLS_ERR_WS_HANDSHAKE,
                           "ws: connection closed %s (is this a WebSocket endpoint?)",
                           t->rlen == 0 ? "before any HTTP answer" : "inside the HTTP answer");
        }
        if (st != MQTLS_OK) {
            return st;
        }
        t->rlen += got;
    }
    return MQTLS_ERR_WOULD_BLOCK;
}
