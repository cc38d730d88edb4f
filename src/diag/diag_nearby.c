/* Files that lie beside the user's (mqtls_diag_input_t.nearby): parsed once per run, then
 * searched by the fixes that prefer what the user already has to making anything new -- the
 * key that belongs to a certificate, the CA that issued the server's certificate, a missing
 * intermediate. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "diag_ctx.h"

/* Most nearby files looked at (the caller reads a handful). */
#define NEARBY_MAX 24

struct mqtls__diag_nearby {
    mqtls__certset_t certs[NEARBY_MAX];
    mbedtls_pk_context keys[NEARBY_MAX];
    bool key_ok[NEARBY_MAX];
    size_t count;
};

int mqtls__diag_parse_key(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                          const char *password)
{
    /* mbedTLS wants PEM with its NUL counted; DER as it is. */
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, data, len);
    copy[len] = '\0';
    size_t n = len;
    if (len > 0 && copy[0] != 0x30) {
        n = strlen((const char *)copy) + 1;
    }
    int ret = mqtls__dm_pk_parse_key(pk, copy, n, password);
    mbedtls_platform_zeroize(copy, len + 1);
    free(copy);
    return ret;
}

static mqtls__diag_nearby_t *nearby(mqtls__diag_ctx_t *c)
{
    if (c->nearby != NULL || c->in->nearby == NULL || c->in->nearby_count == 0) {
        return c->nearby;
    }
    mqtls__diag_nearby_t *n = calloc(1, sizeof *n);
    if (n == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < c->in->nearby_count && n->count < NEARBY_MAX; i++) {
        const mqtls_diag_file_t *f = &c->in->nearby[i];
        size_t k = n->count++;
        mbedtls_pk_init(&n->keys[k]);
        if (f->data == NULL || f->len == 0) {
            continue;
        }
        mqtls__certset_load(&n->certs[k], f->data, f->len);
        /* Unencrypted keys only: no password is ever tried on a file the user did not give. */
        n->key_ok[k] =
            n->certs[k].has_key && mqtls__diag_parse_key(&n->keys[k], f->data, f->len, NULL) == 0;
    }
    c->nearby = n;
    return n;
}

void mqtls__diag_nearby_free(mqtls__diag_ctx_t *c)
{
    mqtls__diag_nearby_t *n = c->nearby;
    for (size_t i = 0; n != NULL && i < n->count; i++) {
        mqtls__certset_free(&n->certs[i]);
        mbedtls_pk_free(&n->keys[i]);
    }
    free(n);
    c->nearby = NULL;
}

static const char *name_of(const mqtls__diag_ctx_t *c, size_t i)
{
    return mqtls__diag_file_name(&c->in->nearby[i], "");
}

const char *mqtls__diag_nearby_key_for(mqtls__diag_ctx_t *c, const mbedtls_x509_crt *crt)
{
    mqtls__diag_nearby_t *n = nearby(c);
    for (size_t i = 0; n != NULL && i < n->count; i++) {
        if (n->key_ok[i] && mqtls__dm_pk_check_pair(&crt->pk, &n->keys[i]) == 0) {
            return name_of(c, i);
        }
    }
    return NULL;
}

const char *mqtls__diag_nearby_cert_for_key(mqtls__diag_ctx_t *c, const mbedtls_pk_context *key)
{
    mqtls__diag_nearby_t *n = nearby(c);
    for (size_t i = 0; n != NULL && i < n->count; i++) {
        const mqtls__certset_t *s = &n->certs[i];
        if (s->count > 0 && !s->info[0].is_ca && mqtls__dm_pk_check_pair(&s->crt[0].pk, key) == 0) {
            return name_of(c, i);
        }
    }
    return NULL;
}

const char *mqtls__diag_nearby_issuer(mqtls__diag_ctx_t *c, const mbedtls_x509_crt *child, int kind)
{
    mqtls__diag_nearby_t *n = nearby(c);
    for (size_t i = 0; n != NULL && i < n->count; i++) {
        bool ok = false;
        int other = -1;
        int k = mqtls__diag_find_issuer(&n->certs[i], child, &ok, &other);
        if (k < 0 || !n->certs[i].info[k].is_ca) {
            continue;
        }
        bool root = n->certs[i].info[k].self_issued;
        if (kind == MQTLS__NEAR_ANY || (kind == MQTLS__NEAR_ROOT) == root) {
            return name_of(c, i);
        }
    }
    return NULL;
}

const char *mqtls__diag_nearby_anchor(mqtls__diag_ctx_t *c, const mqtls__certset_t *chain)
{
    /* The chain as sent, from its last certificate up: the first nearby CA that issued one of
     * them (a root that issued the top, or one that issued the leaf directly). */
    for (size_t j = chain->count; j > 0; j--) {
        const char *hit = mqtls__diag_nearby_issuer(c, &chain->crt[j - 1], MQTLS__NEAR_ANY);
        if (hit != NULL) {
            return hit;
        }
    }
    return NULL;
}

bool mqtls__diag_nearby_client_pair(mqtls__diag_ctx_t *c, const char **crt, const char **key)
{
    mqtls__diag_nearby_t *n = nearby(c);
    for (size_t i = 0; n != NULL && i < n->count; i++) {
        const mqtls__certset_t *s = &n->certs[i];
        if (s->count == 0 || s->info[0].is_ca ||
            (s->info[0].has_ext_key_usage &&
             (s->info[0].ext_key_usage & (MQTLS_EKU_CLIENT_AUTH | MQTLS_EKU_ANY)) == 0)) {
            continue;
        }
        /* issued by the CA the user trusts: the same PKI as the broker's, likely */
        bool ok = false;
        int other = -1;
        if (c->ca_usable && mqtls__diag_find_issuer(c->ca, &s->crt[0], &ok, &other) < 0) {
            continue;
        }
        const char *k = mqtls__diag_nearby_key_for(c, &s->crt[0]);
        if (k != NULL) {
            *crt = name_of(c, i);
            *key = k;
            return true;
        }
    }
    return false;
}
