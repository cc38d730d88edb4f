/* SCRAM-SHA-256 client (RFC 5802 message formats, RFC 7677 hash) for MQTT 5 enhanced
 * authentication (mqtls/auth.h). HMAC, SHA-256 and PBKDF2 are mbedTLS's.
 *
 *   client-first  n,,n=<user>,r=<cnonce>
 *   server-first  r=<cnonce+snonce>,s=<base64 salt>,i=<iterations>
 *   client-final  c=biws,r=<cnonce+snonce>,p=<base64 ClientProof>
 *   server-final  v=<base64 ServerSignature>   (or e=<error>)
 *
 *   SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key"),  StoredKey = SHA-256(ClientKey)
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
 *   ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)        */
#include "auth/scram.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mbedtls/base64.h"
#include "mbedtls/md.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/version.h"

#define SCRAM_FIELD_MAX 255u
#define SCRAM_NONCE_RAW 18u     /* 24 base64 characters */
#define SCRAM_MIN_ITER 4096u    /* RFC 7677 section 4 */
#define SCRAM_MAX_ITER 1000000u /* more would stall the client's thread for seconds */
#define SCRAM_AUTH_MSG_MAX 1536u
#define HASH_LEN 32u

typedef enum { SCRAM_IDLE, SCRAM_SENT_FIRST, SCRAM_SENT_FINAL, SCRAM_DONE } scram_state_t;

struct mqtls_scram {
    char user[3u * SCRAM_FIELD_MAX + 1u]; /* escaped saslname */
    char password[SCRAM_FIELD_MAX + 1u];
    char fixed_nonce[64]; /* test hook; "" = random */
    char nonce[64];       /* ours */
    scram_state_t state;
    char auth_msg[SCRAM_AUTH_MSG_MAX]; /* client-first-bare, then the rest */
    size_t auth_len;
    uint8_t server_sig[HASH_LEN];
    char error[96];
};

static mqtls_status_t fail(mqtls_scram_t *s, mqtls_status_t st, const char *why)
{
    (void)snprintf(s->error, sizeof s->error, "%s", why);
    s->state = SCRAM_IDLE;
    return st;
}

mqtls_status_t mqtls_scram_create(const char *username, const char *password, mqtls_scram_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (username == NULL || password == NULL || username[0] == '\0' ||
        strlen(username) > SCRAM_FIELD_MAX || strlen(password) > SCRAM_FIELD_MAX) {
        return MQTLS_ERR_INVALID_ARG;
    }
    mqtls_scram_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    /* RFC 5802 5.1: saslname escapes ',' and '=' */
    size_t o = 0;
    for (const char *p = username; *p != '\0'; p++) {
        const char *esc = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;
        if (esc != NULL) {
            memcpy(s->user + o, esc, 3);
            o += 3;
        } else {
            s->user[o++] = *p;
        }
    }
    memcpy(s->password, password, strlen(password) + 1u);
    *out = s;
    return MQTLS_OK;
}

void mqtls_scram_destroy(mqtls_scram_t *s)
{
    if (s != NULL) {
        mbedtls_platform_zeroize(s, sizeof *s);
        free(s);
    }
}

const char *mqtls_scram_error(const mqtls_scram_t *s)
{
    return s != NULL ? s->error : "";
}

mqtls_status_t mqtls__scram_set_nonce(mqtls_scram_t *s, const char *nonce)
{
    if (s == NULL || nonce == NULL || nonce[0] == '\0' || strlen(nonce) >= sizeof s->fixed_nonce ||
        strchr(nonce, ',') != NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    memcpy(s->fixed_nonce, nonce, strlen(nonce) + 1u);
    return MQTLS_OK;
}

static bool append(mqtls_scram_t *s, const char *p, size_t n)
{
    if (s->auth_len + n >= sizeof s->auth_msg) {
        return false;
    }
    memcpy(s->auth_msg + s->auth_len, p, n);
    s->auth_len += n;
    return true;
}

static mqtls_status_t emit(const char *text, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    if (n > cap) {
        return MQTLS_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(out, text, n);
    *out_len = n;
    return MQTLS_OK;
}

mqtls_status_t mqtls_scram_start(void *ctx, uint8_t *out, size_t cap, size_t *out_len)
{
    mqtls_scram_t *s = ctx;
    if (s == NULL || out == NULL || out_len == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out_len = 0;
    s->error[0] = '\0';
    if (s->fixed_nonce[0] != '\0') {
        memcpy(s->nonce, s->fixed_nonce, sizeof s->nonce);
    } else {
        uint8_t raw[SCRAM_NONCE_RAW];
        size_t b64_len = 0;
        if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw ||
            mbedtls_base64_encode((unsigned char *)s->nonce, sizeof s->nonce, &b64_len, raw,
                                  sizeof raw) != 0) {
            return fail(s, MQTLS_ERR_CRYPTO, "no randomness for the nonce");
        }
    }
    s->auth_len = 0;
    char first[3u * SCRAM_FIELD_MAX + 96u];
    int n = snprintf(first, sizeof first, "n,,n=%s,r=%s", s->user, s->nonce);
    if (n < 0 || (size_t)n >= sizeof first || !append(s, first + 3, (size_t)n - 3u)) {
        return fail(s, MQTLS_ERR_BUFFER_TOO_SMALL, "user name too long");
    }
    mqtls_status_t st = emit(first, (size_t)n, out, cap, out_len);
    s->state = st == MQTLS_OK ? SCRAM_SENT_FIRST : SCRAM_IDLE;
    return st;
}

/* The value of attribute "<name>=" at the start of @p p (up to ',' or the end). */
static bool attr(const char *p, const char *end, char name, const char **val, size_t *len)
{
    if (end - p < 2 || p[0] != name || p[1] != '=') {
        return false;
    }
    *val = p + 2;
    const char *comma = memchr(*val, ',', (size_t)(end - *val));
    *len = (size_t)((comma != NULL ? comma : end) - *val);
    return true;
}

static int hmac(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                uint8_t out[HASH_LEN])
{
    return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, msg, msg_len,
                           out);
}

static int pbkdf2(const char *password, const uint8_t *salt, size_t salt_len, unsigned iter,
                  uint8_t out[HASH_LEN])
{
    size_t plen = strlen(password);
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
    return mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)password, plen,
                                         salt, salt_len, iter, HASH_LEN, out);
#else
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int ret = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (ret == 0) {
        ret = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, plen, salt, salt_len,
                                        iter, HASH_LEN, out);
    }
    mbedtls_md_free(&md);
    return ret;
#endif
}

/* server-first -> client-final. */
static mqtls_status_t client_final(mqtls_scram_t *s, const char *in, size_t in_len, uint8_t *out,
                                   size_t cap, size_t *out_len)
{
    const char *end = in + in_len;
    const char *nonce, *salt_b64, *iter_s;
    size_t nonce_len, salt_len, iter_len;
    if (attr(in, end, 'e', &nonce, &nonce_len)) {
        return fail(s, MQTLS_ERR_AUTH_FAILED, "server-first: the server sent an error (e=)");
    }
    if (!attr(in, end, 'r', &nonce, &nonce_len) ||
        !attr(nonce + nonce_len + 1 <= end ? nonce + nonce_len + 1 : end, end, 's', &salt_b64,
              &salt_len) ||
        !attr(salt_b64 + salt_len + 1 <= end ? salt_b64 + salt_len + 1 : end, end, 'i', &iter_s,
              &iter_len) ||
        iter_s + iter_len != end) {
        return fail(s, MQTLS_ERR_MALFORMED, "server-first is not r=...,s=...,i=...");
    }
    size_t ours = strlen(s->nonce);
    if (nonce_len <= ours || memcmp(nonce, s->nonce, ours) != 0) {
        return fail(s, MQTLS_ERR_AUTH_FAILED, "server nonce does not extend ours");
    }
    unsigned long iter = 0;
    for (size_t i = 0; i < iter_len; i++) {
        if (iter_s[i] < '0' || iter_s[i] > '9' || iter > SCRAM_MAX_ITER) {
            return fail(s, MQTLS_ERR_MALFORMED, "bad iteration count");
        }
        iter = iter * 10u + (unsigned long)(iter_s[i] - '0');
    }
    if (iter < SCRAM_MIN_ITER || iter > SCRAM_MAX_ITER) {
        return fail(s, MQTLS_ERR_MALFORMED, "iteration count outside 4096..1000000");
    }
    uint8_t salt[128];
    size_t salt_n = 0;
    if (mbedtls_base64_decode(salt, sizeof salt, &salt_n, (const unsigned char *)salt_b64,
                              salt_len) != 0 ||
        salt_n == 0) {
        return fail(s, MQTLS_ERR_MALFORMED, "bad salt (base64)");
    }
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    char without_proof[160];
    int n = snprintf(without_proof, sizeof without_proof, "c=biws,r=%.*s", (int)nonce_len, nonce);
    if (n < 0 || (size_t)n >= sizeof without_proof || !append(s, ",", 1) ||
        !append(s, in, in_len) || !append(s, ",", 1) || !append(s, without_proof, (size_t)n)) {
        return fail(s, MQTLS_ERR_MALFORMED, "server-first too long");
    }
    uint8_t salted[HASH_LEN], client_key[HASH_LEN], stored_key[HASH_LEN], sig[HASH_LEN],
        server_key[HASH_LEN];
    int ret = pbkdf2(s->password, salt, salt_n, (unsigned)iter, salted);
    ret = ret != 0 ? ret : hmac(salted, HASH_LEN, "Client Key", 10, client_key);
    ret = ret != 0 ? ret
                   : mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), client_key, HASH_LEN,
                                stored_key);
    ret = ret != 0 ? ret : hmac(stored_key, HASH_LEN, s->auth_msg, s->auth_len, sig);
    ret = ret != 0 ? ret : hmac(salted, HASH_LEN, "Server Key", 10, server_key);
    ret = ret != 0 ? ret : hmac(server_key, HASH_LEN, s->auth_msg, s->auth_len, s->server_sig);
    for (size_t i = 0; i < HASH_LEN; i++) {
        client_key[i] ^= sig[i]; /* ClientProof */
    }
    char msg[256];
    size_t b64_len = 0;
    memcpy(msg, without_proof, (size_t)n);
    memcpy(msg + n, ",p=", 3);
    if (ret == 0) {
        ret = mbedtls_base64_encode((unsigned char *)msg + n + 3, sizeof msg - (size_t)n - 3u,
                                    &b64_len, client_key, HASH_LEN);
    }
    mbedtls_platform_zeroize(salted, sizeof salted);
    mbedtls_platform_zeroize(client_key, sizeof client_key);
    mbedtls_platform_zeroize(stored_key, sizeof stored_key);
    mbedtls_platform_zeroize(server_key, sizeof server_key);
    if (ret != 0) {
        return fail(s, MQTLS_ERR_CRYPTO, "HMAC/PBKDF2 failed");
    }
    mqtls_status_t st = emit(msg, (size_t)n + 3u + b64_len, out, cap, out_len);
    s->state = st == MQTLS_OK ? SCRAM_SENT_FINAL : SCRAM_IDLE;
    return st;
}

/* server-final: v=<ServerSignature>. */
static mqtls_status_t verify_final(mqtls_scram_t *s, const char *in, size_t in_len)
{
    const char *end = in + in_len;
    const char *v;
    size_t v_len;
    if (attr(in, end, 'e', &v, &v_len)) {
        return fail(s, MQTLS_ERR_AUTH_FAILED, "server-final: the server sent an error (e=)");
    }
    uint8_t sig[64];
    size_t sig_len = 0;
    if (!attr(in, end, 'v', &v, &v_len) ||
        mbedtls_base64_decode(sig, sizeof sig, &sig_len, (const unsigned char *)v, v_len) != 0) {
        return fail(s, MQTLS_ERR_MALFORMED, "server-final is not v=<base64>");
    }
    uint8_t diff = (uint8_t)(sig_len == HASH_LEN ? 0u : 1u);
    for (size_t i = 0; i < HASH_LEN && i < sig_len; i++) {
        diff = (uint8_t)(diff | (sig[i] ^ s->server_sig[i])); /* constant time */
    }
    if (diff != 0) {
        return fail(s, MQTLS_ERR_AUTH_FAILED,
                    "server signature does not match: the server does not know the password");
    }
    s->state = SCRAM_DONE;
    return MQTLS_OK;
}

mqtls_status_t mqtls_scram_step(void *ctx, uint8_t reason, const uint8_t *in, size_t in_len,
                                uint8_t *out, size_t cap, size_t *out_len)
{
    mqtls_scram_t *s = ctx;
    if (s == NULL || out == NULL || out_len == NULL || (in == NULL && in_len > 0)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out_len = 0;
    const char *text = in != NULL ? (const char *)in : "";
    if (reason == 0x18 && s->state == SCRAM_SENT_FIRST) {
        return client_final(s, text, in_len, out, cap, out_len);
    }
    if (reason == 0x00 && s->state == SCRAM_SENT_FINAL) {
        if (in_len == 0) {
            return fail(s, MQTLS_ERR_AUTH_FAILED,
                        "the server accepted us without its final message: it was not verified");
        }
        return verify_final(s, text, in_len);
    }
    return fail(s, MQTLS_ERR_AUTH_FAILED,
                reason == 0x00 ? "the server accepted us before the SCRAM exchange was complete"
                               : "a SCRAM step out of order");
}
