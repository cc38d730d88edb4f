/* Credential loading for mqtls__tls_ctx_create(): files or buffers, PEM or DER detected from
 * the content (never from the file name), one distinct status per failure. */
#include "tls_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/pem.h"
#include "mbedtls/pkcs12.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/platform_util.h"

#include "mqtls/file.h"
#include "x509/compat.h"

/* Files of a ca_path directory looked at, at most (bounded time on a huge directory). */
#define CREDS_MAX_DIR_ENTRIES 10000

/* Bytes to hand to an mbedTLS parser: PEM must end with a NUL that is counted in the length;
 * DER is passed as it is. */
typedef struct {
    uint8_t *owned; /* NULL when buf points into the caller's buffer */
    const uint8_t *buf;
    size_t len;
    size_t owned_len;
} blob_t;

static void blob_free(blob_t *b)
{
    if (b->owned != NULL) {
        mbedtls_platform_zeroize(b->owned, b->owned_len); /* may be a private key */
        free(b->owned);
    }
    memset(b, 0, sizeof *b);
}

static bool looks_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    const size_t tag_len = sizeof tag - 1;
    for (size_t i = 0; i + tag_len <= len; i++) {
        if (buf[i] == '-' && memcmp(buf + i, tag, tag_len) == 0) {
            return true;
        }
    }
    return false;
}

static bool all_blank(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t' && buf[i] != '\0') {
            return false;
        }
    }
    return true;
}

/* Make @p b ready for mbedTLS from caller bytes (not copied when usable as they are). */
static mqtls_status_t blob_from_buf(blob_t *b, const uint8_t *buf, size_t len, const char *what,
                                    mqtls_error_t *err)
{
    memset(b, 0, sizeof *b);
    if (len == 0 || all_blank(buf, len)) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_EMPTY, 0, "%s is empty",
                               what);
    }
    if (!looks_pem(buf, len) || buf[len - 1] == '\0') {
        b->buf = buf;
        b->len = len;
        return MQTLS_OK;
    }
    /* PEM given without its NUL: copy and terminate (mbedTLS needs it for PEM). */
    b->owned = malloc(len + 1);
    if (b->owned == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "%s", what);
    }
    memcpy(b->owned, buf, len);
    b->owned[len] = '\0';
    b->owned_len = len + 1;
    b->buf = b->owned;
    b->len = len + 1;
    return MQTLS_OK;
}

static mqtls_status_t blob_from_file(blob_t *b, const char *path, mqtls_error_t *err)
{
    memset(b, 0, sizeof *b);
    uint8_t *data = NULL;
    size_t size = 0;
    /* Regular files only, 1 MiB at most: a FIFO or /dev/zero given as a CA file must fail at
     * once, not hang the caller in open() or eat its memory (issue 10). */
    mqtls_status_t st = mqtls_file_read(path, MQTLS_FILE_CREDENTIAL_MAX, 0, &data, &size, err);
    if (st != MQTLS_OK) {
        return st;
    }
    b->owned = data;
    b->owned_len = size + 1; /* with the NUL mqtls_file_read() put after the data */
    if (size == 0 || all_blank(b->owned, size)) {
        blob_free(b);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_EMPTY, 0, "%s is empty",
                               path);
    }
    b->buf = b->owned;
    b->len = looks_pem(b->owned, size) ? size + 1 : size;
    return MQTLS_OK;
}

static mqtls_status_t blob_load(blob_t *b, const char *path, const uint8_t *buf, size_t len,
                                const char *what, mqtls_error_t *err)
{
    if (path != NULL) {
        return blob_from_file(b, path, err);
    }
    return blob_from_buf(b, buf, len, what, err);
}

static mqtls_status_t fail_mbedtls(mqtls_error_t *err, mqtls_status_t st, int ret, const char *name,
                                   const char *what)
{
    char text[96];
    mbedtls_strerror(ret, text, sizeof text);
    if (err != NULL) {
        err->mbedtls_ret = ret;
    }
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, st, 0, "%s: %s (-0x%04X %s)", name, what,
                           (unsigned)-ret, text);
}

/* Every regular file of @p dir through the safe reader (mbedtls_x509_crt_parse_path() would
 * read any file whole, with fopen()): like it, what does not parse is skipped; sub-directories,
 * FIFOs and devices are skipped too, a file above the credential limit is an error. */
static mqtls_status_t load_ca_dir(struct mqtls__tls_ctx *ctx, const char *dir, mqtls_error_t *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_UNREADABLE, e, "%s: %s", dir,
                               strerror(e));
    }
    mqtls_status_t st = MQTLS_OK;
    struct dirent *de;
    for (int n = 0; st == MQTLS_OK && n < CREDS_MAX_DIR_ENTRIES && (de = readdir(d)) != NULL; n++) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        int k = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (k < 0 || (size_t)k >= sizeof path) {
            continue;
        }
        blob_t b;
        mqtls_error_t scratch;
        mqtls_error_init(&scratch);
        st = blob_from_file(&b, path, &scratch);
        if (st == MQTLS_ERR_FILE_TOO_LARGE || st == MQTLS_ERR_NOMEM) {
            if (err != NULL) {
                *err = scratch;
            }
            break;
        }
        if (st == MQTLS_OK) {
            (void)mbedtls_x509_crt_parse(&ctx->ca, b.buf, b.len); /* bad ones are skipped */
            blob_free(&b);
        }
        st = MQTLS_OK; /* unreadable, empty, not a file: skipped, as mbedTLS does */
    }
    (void)closedir(d);
    return st;
}

static mqtls_status_t load_ca(struct mqtls__tls_ctx *ctx, const mqtls_tls_cfg_t *cfg,
                              mqtls_error_t *err)
{
    if (cfg->ca_file != NULL || cfg->ca_buf != NULL) {
        const char *name = cfg->ca_file != NULL ? cfg->ca_file : "ca_buf";
        blob_t b;
        mqtls_status_t st = blob_load(&b, cfg->ca_file, cfg->ca_buf, cfg->ca_len, name, err);
        if (st != MQTLS_OK) {
            return st;
        }
        int ret = mbedtls_x509_crt_parse(&ctx->ca, b.buf, b.len);
        blob_free(&b);
        /* ret > 0: that many certificates of a bundle failed but others parsed; a bundle
         * with one exotic certificate stays usable. */
        if (ret < 0) {
            return fail_mbedtls(err, MQTLS_ERR_CA_PARSE, ret, name, "CA certificates");
        }
        if (ctx->ca.version == 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CA_PARSE, 0,
                                   "%s: no certificate could be parsed", name);
        }
        ctx->has_ca = true;
    }
    if (cfg->ca_path != NULL) {
        mqtls_status_t st = load_ca_dir(ctx, cfg->ca_path, err);
        if (st != MQTLS_OK) {
            return st;
        }
        if (ctx->ca.version == 0) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CA_PARSE, 0,
                                   "%s: no certificate could be parsed", cfg->ca_path);
        }
        ctx->has_ca = true;
    }
    return MQTLS_OK;
}

static mqtls_status_t map_key_error(mqtls_error_t *err, int ret, const char *name)
{
    /* mbedTLS adds a low-level code to a high-level one: classify by the high part. */
    int high = -((-ret) & 0xFF80);
    switch (high) {
    case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
    case MBEDTLS_ERR_PEM_PASSWORD_REQUIRED:
        return fail_mbedtls(err, MQTLS_ERR_KEY_PASSWORD_REQUIRED, ret, name,
                            "the key is encrypted and no password was given");
    case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PEM_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS5_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PKCS12_PASSWORD_MISMATCH:
        return fail_mbedtls(err, MQTLS_ERR_KEY_PASSWORD_WRONG, ret, name,
                            "the key password is wrong");
    case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
    case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
    case MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG:
    case MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_PKCS12_FEATURE_UNAVAILABLE:
        return fail_mbedtls(err, MQTLS_ERR_KEY_UNSUPPORTED, ret, name,
                            "key type or key encryption not supported by this mbedTLS");
    default:
        break;
    }
    return fail_mbedtls(err, MQTLS_ERR_KEY_PARSE, ret, name, "private key");
}

static mqtls_status_t load_cert_and_key(struct mqtls__tls_ctx *ctx, const mqtls_tls_cfg_t *cfg,
                                        mqtls_error_t *err)
{
    bool has_cert = cfg->cert_file != NULL || cfg->cert_buf != NULL;
    bool has_key = cfg->key_file != NULL || cfg->key_buf != NULL;
    if (!has_cert && !has_key) {
        return MQTLS_OK;
    }
    if (!has_key) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "a client certificate was given without its private key");
    }
    if (!has_cert) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "a private key was given without its client certificate");
    }
    const char *cname = cfg->cert_file != NULL ? cfg->cert_file : "cert_buf";
    blob_t b;
    mqtls_status_t st = blob_load(&b, cfg->cert_file, cfg->cert_buf, cfg->cert_len, cname, err);
    if (st != MQTLS_OK) {
        return st;
    }
    int ret = mbedtls_x509_crt_parse(&ctx->cert, b.buf, b.len);
    blob_free(&b);
    if (ret < 0) {
        return fail_mbedtls(err, MQTLS_ERR_CERT_PARSE, ret, cname, "client certificate");
    }
    if (ret > 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CERT_PARSE, 0,
                               "%s: %d certificate(s) of the chain could not be parsed", cname,
                               ret);
    }
    const char *kname = cfg->key_file != NULL ? cfg->key_file : "key_buf";
    st = blob_load(&b, cfg->key_file, cfg->key_buf, cfg->key_len, kname, err);
    if (st != MQTLS_OK) {
        return st;
    }
    /* The password is used for this call only: never copied, never logged. */
    ret = mqtls__x509_pk_parse_key(&ctx->key, b.buf, b.len, cfg->key_password,
                                   mbedtls_ctr_drbg_random, &ctx->drbg);
    blob_free(&b);
    if (ret != 0) {
        return map_key_error(err, ret, kname);
    }
    ret = mqtls__x509_pk_check_pair(&ctx->cert.pk, &ctx->key, mbedtls_ctr_drbg_random, &ctx->drbg);
    if (ret != 0) {
        return fail_mbedtls(err, MQTLS_ERR_KEY_MISMATCH, ret, kname,
                            "does not match the public key of the client certificate");
    }
    ctx->has_cert = true;
    return MQTLS_OK;
}

mqtls_status_t mqtls__creds_load(struct mqtls__tls_ctx *ctx, const mqtls_tls_cfg_t *cfg,
                                 mqtls_error_t *err)
{
    mqtls_status_t st = load_ca(ctx, cfg, err);
    if (st != MQTLS_OK) {
        return st;
    }
    return load_cert_and_key(ctx, cfg, err);
}
