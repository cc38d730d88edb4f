/* The TLS layer above the engines (tls_engine.h): which engine connects, the profile, the
 * credentials read once as bytes for whichever engine parses them, the device judgement, and
 * the public list of engines (mqtls/tls.h). Nothing here includes a TLS library. */
#include "net/tls_engine.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtls/file.h"
#include "mqtls/tls.h"
#include "net/net.h"
#include "net/pkcs11.h"
#include "net/tls_io.h"
#include "net/tls_pin.h"

/* Trusted CAs when the configuration names none (Debian/Ubuntu location). */
#ifndef MQTLS_SYSTEM_CA_FILE
#define MQTLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif
/* Files of a ca_path directory looked at, at most (bounded time on a huge directory). */
#define CREDS_MAX_DIR_ENTRIES 10000
/* The environment variable that picks the engine when the configuration does not. */
#define ENGINE_ENV "MQTLS_TLS_ENGINE"

/* ---- the engines built in ------------------------------------------------------------- */

/* Preference order: the first is the default. mbedTLS 3.6 is what current devices (ESP-IDF
 * 5) run and speaks TLS 1.3; OpenSSL is the fast engine, chosen by name (docs/tls-engines.md). */
static const mqtls__tls_engine_t *const engines[] = {
#if defined(MQTLS_WITH_MBEDTLS3)
    &mqtls__tls_engine_mbedtls3,
#endif
    &mqtls__tls_engine_mbedtls2,
#if defined(MQTLS_WITH_OPENSSL)
    &mqtls__tls_engine_openssl,
#endif
};
#define ENGINE_COUNT (sizeof engines / sizeof engines[0])

/* The newest mbedTLS built in: what "mbedtls" means, and the judge of profiles that name no
 * mbedTLS version. */
static const mqtls__tls_engine_t *newest_mbedtls(void)
{
    const mqtls__tls_engine_t *best = NULL;
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        if (engines[i]->device_major > 0 &&
            (best == NULL || engines[i]->device_major > best->device_major)) {
            best = engines[i];
        }
    }
    return best;
}

static const mqtls__tls_engine_t *engine_by_major(int major)
{
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        if (engines[i]->device_major == major) {
            return engines[i];
        }
    }
    return NULL;
}

static const mqtls__tls_engine_t *engine_by_name(const char *name)
{
    if (strcmp(name, "mbedtls") == 0) {
        return newest_mbedtls();
    }
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        if (strcmp(name, engines[i]->name) == 0) {
            return engines[i];
        }
    }
    return NULL;
}

/* "mbedtls3, mbedtls2, openssl" */
static void engine_names(char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ENGINE_COUNT; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i > 0 ? ", " : "", engines[i]->name);
        if (n < 0 || (size_t)n >= cap - used) {
            break;
        }
        used += (size_t)n;
    }
}

/* cfg->engine, else $MQTLS_TLS_ENGINE, else the default. */
static mqtls_status_t pick_engine(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err,
                                  const mqtls__tls_engine_t **out)
{
    const char *name = cfg->engine;
    const char *from = "engine";
    if (name == NULL || name[0] == '\0') {
        name = getenv(ENGINE_ENV);
        from = ENGINE_ENV;
    }
    if (name == NULL || name[0] == '\0') {
        *out = engines[0];
        return MQTLS_OK;
    }
    *out = engine_by_name(name);
    if (*out != NULL) {
        return MQTLS_OK;
    }
    char known[96];
    engine_names(known, sizeof known);
    /* A name mqtls knows but this build lacks is "not supported"; anything else, a typo. */
    static const char *const all[] = {"mbedtls", "mbedtls2", "mbedtls3", "openssl"};
    mqtls_status_t st = MQTLS_ERR_INVALID_ARG;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        st = strcmp(name, all[i]) == 0 ? MQTLS_ERR_NOT_SUPPORTED : st;
    }
    return mqtls__net_fail(
        err, MQTLS_LAYER_CONFIG, st, 0,
        "%s '%.32s': %s (built in: %s; 'mbedtls' = the newest mbedTLS)", from, name,
        st == MQTLS_ERR_NOT_SUPPORTED ? "this build has no such TLS engine" : "unknown TLS engine",
        known);
}

size_t mqtls_tls_engine_count(void)
{
    return ENGINE_COUNT;
}

const char *mqtls_tls_engine_name(size_t i)
{
    return i < ENGINE_COUNT ? engines[i]->name : NULL;
}

const char *mqtls_tls_engine_version(size_t i)
{
    return i < ENGINE_COUNT ? engines[i]->version() : NULL;
}

const char *mqtls_tls_engine_library(size_t i)
{
    return i < ENGINE_COUNT ? engines[i]->library : NULL;
}

const char *mqtls_tls_engine_default(void)
{
    return engines[0]->name;
}

static char tls_library_text[48];

static void tls_library_version_init(void)
{
    /* The default engine's library as it names itself ("mbed TLS 3.6.6", mbedTLS's
     * mbedtls_version_get_string_full() form; "OpenSSL 3.0.19"): what connects unasked. */
    const mqtls__tls_engine_t *e = engines[0];
    const char *lib = strcmp(e->library, "mbedTLS") == 0 ? "mbed TLS" : e->library;
    (void)snprintf(tls_library_text, sizeof tls_library_text, "%s %s", lib, e->version());
}

const char *mqtls_tls_library_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, tls_library_version_init);
    return tls_library_text;
}

void mqtls__tls_code_text(int code, char *buf, size_t cap)
{
    const mqtls__tls_engine_t *e = newest_mbedtls();
    e->code_text(code, buf, cap);
}

/* ---- credentials as bytes ------------------------------------------------------------- */

/* Bytes to hand to an engine: PEM ends with a NUL that is counted in the length (what mbedTLS
 * parsers need; OpenSSL does not mind); DER is passed as it is. */
typedef struct {
    uint8_t *owned; /* NULL when buf points into the caller's buffer */
    const uint8_t *buf;
    size_t len;
    size_t owned_len;
} blob_t;

static void blob_free(blob_t *b)
{
    if (b->owned != NULL) {
        mqtls__tls_wipe(b->owned, b->owned_len); /* may be a private key */
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

/* Make @p b ready for an engine from caller bytes (not copied when usable as they are). */
static mqtls_status_t blob_from_buf(blob_t *b, const uint8_t *buf, size_t len, const char *what,
                                    mqtls_error_t *err)
{
    memset(b, 0, sizeof *b);
    if (buf == NULL || len == 0 || all_blank(buf, len)) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_EMPTY, 0, "%s is empty",
                               what);
    }
    if (!looks_pem(buf, len) || buf[len - 1] == '\0') {
        b->buf = buf;
        b->len = len;
        return MQTLS_OK;
    }
    /* PEM given without its NUL: copy and terminate. */
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
     * once, not hang the caller in open() or eat its memory (issue 10). Every engine gets its
     * credentials from here. */
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

/* Every regular file of @p dir that holds certificates, each through the safe reader (like
 * mbedtls_x509_crt_parse_path, files that do not parse are skipped; so are sub-directories,
 * FIFOs and devices); a file above the credential limit is an error. */
static mqtls_status_t add_ca_dir(const mqtls__tls_engine_t *e, mqtls__tls_ectx_t *c,
                                 const char *dir, mqtls_error_t *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        int en = errno;
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_UNREADABLE, en, "%s: %s",
                               dir, strerror(en));
    }
    size_t taken = 0;
    mqtls_status_t st = MQTLS_OK;
    struct dirent *ent;
    for (int k = 0; k < CREDS_MAX_DIR_ENTRIES && (ent = readdir(d)) != NULL; k++) {
        if (ent->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            continue;
        }
        mqtls_error_t scratch;
        mqtls_error_init(&scratch);
        blob_t b;
        st = blob_from_file(&b, path, &scratch);
        if (st == MQTLS_ERR_FILE_TOO_LARGE || st == MQTLS_ERR_NOMEM) {
            if (err != NULL) {
                *err = scratch;
            }
            break;
        }
        if (st != MQTLS_OK) {
            st = MQTLS_OK;
            continue; /* a subdirectory, a FIFO, an unreadable or empty file: skipped */
        }
        if (e->ctx_add_ca(c, b.buf, b.len, path, &scratch) == MQTLS_OK) {
            taken++;
        }
        blob_free(&b);
    }
    (void)closedir(d);
    if (st != MQTLS_OK) {
        return st;
    }
    if (taken == 0) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_CA_PARSE, 0,
                               "%s: no certificate could be parsed", dir);
    }
    return MQTLS_OK;
}

/* The CAs of @p cfg into @p c; *has_ca says whether any was given. */
static mqtls_status_t load_ca(const mqtls__tls_engine_t *e, mqtls__tls_ectx_t *c,
                              const mqtls_tls_cfg_t *cfg, bool *has_ca, mqtls_error_t *err)
{
    *has_ca = false;
    if (cfg->ca_file != NULL || cfg->ca_buf != NULL) {
        const char *name = cfg->ca_file != NULL ? cfg->ca_file : "ca_buf";
        blob_t b;
        mqtls_status_t st = blob_load(&b, cfg->ca_file, cfg->ca_buf, cfg->ca_len, name, err);
        if (st == MQTLS_OK) {
            st = e->ctx_add_ca(c, b.buf, b.len, name, err);
        }
        blob_free(&b);
        if (st != MQTLS_OK) {
            return st;
        }
        *has_ca = true;
    }
    if (cfg->ca_path != NULL) {
        mqtls_status_t st = add_ca_dir(e, c, cfg->ca_path, err);
        if (st != MQTLS_OK) {
            return st;
        }
        *has_ca = true;
    }
    if (!*has_ca && !cfg->insecure) {
        /* Like curl: the system store when no CA is given. */
        mqtls_error_t scratch;
        mqtls_error_init(&scratch);
        blob_t b;
        if (blob_from_file(&b, MQTLS_SYSTEM_CA_FILE, &scratch) == MQTLS_OK) {
            *has_ca = e->ctx_add_ca(c, b.buf, b.len, MQTLS_SYSTEM_CA_FILE, &scratch) == MQTLS_OK;
            blob_free(&b);
        }
        if (!*has_ca) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "no trusted CA given (ca_file, ca_path or ca_buf): the server "
                                   "cannot be verified");
        }
    }
    return MQTLS_OK;
}

static mqtls_status_t load_own(const mqtls__tls_engine_t *e, mqtls__tls_ectx_t *c,
                               const mqtls_tls_cfg_t *cfg, mqtls_error_t *err)
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
    const char *kname = cfg->key_file != NULL ? cfg->key_file : "key_buf";
    blob_t cb;
    blob_t kb;
    memset(&kb, 0, sizeof kb);
    mqtls_status_t st = blob_load(&cb, cfg->cert_file, cfg->cert_buf, cfg->cert_len, cname, err);
    if (st == MQTLS_OK && mqtls__p11_is_uri(cfg->key_file)) {
        /* A key on a PKCS#11 token: the engine asks the token to sign (docs/tls-engines.md
         * "Keys on a token"). Messages name the URI without its PIN. */
        char shown[512];
        mqtls__p11_uri_redact(cfg->key_file, shown, sizeof shown);
        mqtls__tls_key_t key = {.kind = MQTLS__KEY_URI,
                                .uri = cfg->key_file,
                                .module = cfg->pkcs11_module,
                                .password = cfg->key_password,
                                .name = shown};
        st = e->ctx_set_own(c, cb.buf, cb.len, cname, &key, err);
        blob_free(&cb);
        return st;
    }
    if (st == MQTLS_OK) {
        st = blob_load(&kb, cfg->key_file, cfg->key_buf, cfg->key_len, kname, err);
    }
    if (st == MQTLS_OK) {
        /* The password is used for this call only: never copied, never logged. */
        mqtls__tls_key_t key = {.kind = MQTLS__KEY_BYTES,
                                .buf = kb.buf,
                                .len = kb.len,
                                .password = cfg->key_password,
                                .name = kname};
        st = e->ctx_set_own(c, cb.buf, cb.len, cname, &key, err);
    }
    blob_free(&cb);
    blob_free(&kb);
    return st;
}

/* ---- the context ---------------------------------------------------------------------- */

struct mqtls__tls_ctx {
    const mqtls__tls_engine_t *engine;
    mqtls__tls_ectx_t *ectx;
    mqtls__tls_judge_t judge; /* judge.engine NULL: the engine's verdict stands */
    char *server_name;
    uint8_t (*pins)[MQTLS__PIN_LEN]; /* decoded cfg->pins; NULL: no pinning */
    size_t pin_count;
};

/* One engine context of @p e from @p cfg, credentials and all. */
static mqtls_status_t build_ectx(const mqtls__tls_engine_t *e, const mqtls__tls_opts_t *opts,
                                 const mqtls_tls_cfg_t *cfg, bool with_own, mqtls_error_t *err,
                                 mqtls__tls_ectx_t **out)
{
    *out = NULL;
    mqtls__tls_ectx_t *c = NULL;
    mqtls_status_t st = e->ctx_new(opts, err, &c);
    bool has_ca = false;
    if (st == MQTLS_OK && opts->psk == NULL) { /* a PSK replaces CA, certificate and key */
        st = load_ca(e, c, cfg, &has_ca, err);
    }
    if (st == MQTLS_OK && opts->psk == NULL && with_own) {
        st = load_own(e, c, cfg, err);
    }
    if (st == MQTLS_OK) {
        st = e->ctx_finish(c, err);
    }
    if (st != MQTLS_OK) {
        if (c != NULL) {
            e->ctx_free(c);
        }
        return st;
    }
    *out = c;
    return MQTLS_OK;
}

/* The versions asked for, checked against what @p e speaks. */
static mqtls_status_t resolve_versions(const mqtls__tls_engine_t *e, const mqtls_tls_cfg_t *cfg,
                                       mqtls__tls_opts_t *o, mqtls_error_t *err)
{
    uint16_t min = cfg->min_version != 0 ? cfg->min_version : 0x0303; /* DESIGN.md: 1.2 min */
    uint16_t max = cfg->max_version;
    if (min < 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS versions below 1.2 (0x%04X) are not allowed", (unsigned)min);
    }
    if (max != 0 && max < min) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "max TLS version 0x%04X is below the minimum 0x%04X", (unsigned)max,
                               (unsigned)min);
    }
    if (min > e->max_version) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "TLS 1.3 needs the mbedtls3 or openssl engine; %s (%s %s) speaks "
                               "TLS 1.2 only",
                               e->name, e->library, e->version());
    }
    o->min_version = min;
    o->max_version = max == 0 || max > e->max_version ? e->max_version : max;
    return MQTLS_OK;
}

/* RFC 6066 section 4: max_fragment_length is 2^9, 2^10, 2^11 or 2^12 bytes; 0 = not asked. */
static mqtls_status_t resolve_max_fragment(const mqtls_tls_cfg_t *cfg, mqtls__tls_opts_t *o,
                                           mqtls_error_t *err)
{
    uint16_t n = cfg->max_fragment_len;
    if (n != 0 && n != 512 && n != 1024 && n != 2048 && n != 4096) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "max_fragment_len %u: RFC 6066 allows 512, 1024, 2048 or 4096 "
                               "(0: not asked)",
                               (unsigned)n);
    }
    o->max_fragment_len = n;
    return MQTLS_OK;
}

/* TLS-PSK (cfg->psk, cfg->psk_identity): the rules every engine shares. A PSK replaces CA,
 * certificate and key, and is TLS 1.2 (mbedTLS 2.28 has no TLS 1.3 PSK; one behaviour on every
 * engine). The engine checks the key's length against its limit. */
static mqtls_status_t resolve_psk(const mqtls__tls_engine_t *e, const mqtls_tls_cfg_t *cfg,
                                  mqtls__tls_opts_t *o, mqtls_error_t *err)
{
    if (!((cfg->psk != NULL && cfg->psk_len > 0) || cfg->psk_identity != NULL)) {
        return MQTLS_OK;
    }
    bool has_key = cfg->psk != NULL && cfg->psk_len > 0;
    bool has_id = cfg->psk_identity != NULL && cfg->psk_identity[0] != '\0';
    if (has_key != has_id) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK needs both the key and its identity");
    }
    if (cfg->ca_file != NULL || cfg->ca_path != NULL || cfg->ca_buf != NULL ||
        cfg->cert_file != NULL || cfg->cert_buf != NULL || cfg->key_file != NULL ||
        cfg->key_buf != NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK excludes CA, certificate and key (the pre-shared key "
                               "authenticates both sides)");
    }
    if (cfg->pins != NULL && cfg->pins[0] != NULL) {
        /* Pins are checked on the server's certificate; a PSK handshake has none. */
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS-PSK excludes public-key pins (the server presents no "
                               "certificate whose key could be pinned)");
    }
    if (o->min_version > 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "TLS-PSK is TLS 1.2 here (every engine, %s too): min_version "
                               "must allow 1.2",
                               e->name);
    }
    o->min_version = 0x0303;
    o->max_version = 0x0303;
    o->psk = cfg->psk;
    o->psk_len = cfg->psk_len;
    o->psk_identity = cfg->psk_identity;
    o->no_hostname_check = true; /* no certificate: no name to check */
    o->ciphers = NULL;           /* the PSK suites (docs/tls-engines.md) */
    return MQTLS_OK;
}

/* "unknown X.509 profile 'x' (known: ...)" */
static mqtls_status_t unknown_profile(const char *name, mqtls_error_t *err)
{
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < mqtls__profile_count(); i++) {
        int n = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "",
                         mqtls__profile_name_at(i));
        if (n < 0 || (size_t)n >= sizeof names - used) {
            break;
        }
        used += (size_t)n;
    }
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                           "unknown X.509 profile '%.32s' (known: %s)", name, names);
}

void mqtls__tls_ctx_destroy(mqtls__tls_ctx_t *ctx)
{
    if (ctx == NULL) {
        return;
    }
    if (ctx->ectx != NULL) {
        ctx->engine->ctx_free(ctx->ectx);
    }
    if (ctx->judge.ctx != NULL) {
        ctx->judge.engine->ctx_free(ctx->judge.ctx);
    }
    free(ctx->server_name);
    free(ctx->pins);
    free(ctx);
}

/* The mbedTLS that judges an explicitly named profile @p p when engine @p e connects, or
 * NULL when @p e's own verification is already that code. */
static const mqtls__tls_engine_t *judge_for(const mqtls__tls_engine_t *e, const mqtls__profile_t *p)
{
    const mqtls__tls_engine_t *j = NULL;
    if (p->mbedtls_major > 0) {
        j = engine_by_major(p->mbedtls_major); /* e.g. esp-idf-4: 2.28's code */
    } else if (e->device_major == 0) {
        j = newest_mbedtls(); /* suiteb, openssl-seclevel2 ... as mbedTLS applies them */
    }
    return j != NULL && j != e && j->judge_chain != NULL ? j : NULL;
}

/* cfg->pins ("sha256//BASE64", NULL-terminated) decoded into ctx->pins. */
static mqtls_status_t load_pins(mqtls__tls_ctx_t *ctx, const mqtls_tls_cfg_t *cfg,
                                mqtls_error_t *err)
{
    size_t n = 0;
    while (cfg->pins != NULL && cfg->pins[n] != NULL) {
        n++;
    }
    if (n == 0) {
        return MQTLS_OK;
    }
    if (cfg->insecure) {
        /* Pins are checked on a verified chain; --insecure verifies nothing. */
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "public-key pins are checked after the chain is verified, and "
                               "insecure turns verification off: give one or the other");
    }
    if (n > MQTLS__MAX_PINS) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "more than %d public-key pins", MQTLS__MAX_PINS);
    }
    ctx->pins = calloc(n, sizeof ctx->pins[0]);
    if (ctx->pins == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "pins");
    }
    for (size_t i = 0; i < n; i++) {
        if (mqtls__tls_pin_parse(cfg->pins[i], ctx->pins[i]) != MQTLS_OK) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "public-key pin %zu '%.64s' is not sha256// followed by the "
                                   "base64 of 32 bytes (openssl dgst -sha256 -binary | "
                                   "openssl enc -base64)",
                                   i + 1, cfg->pins[i]);
        }
    }
    ctx->pin_count = n;
    return MQTLS_OK;
}

mqtls_status_t mqtls__tls_ctx_create(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err,
                                     mqtls__tls_ctx_t **out)
{
    if (out == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (cfg == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tls: no configuration");
    }
    /* The profile first, so that a typo fails before any file is read. */
    mqtls_profile_t pid = MQTLS_PROFILE_MBEDTLS_DEFAULT;
    if (cfg->profile != NULL && mqtls_profile_from_name(cfg->profile, &pid) != MQTLS_OK) {
        return unknown_profile(cfg->profile, err);
    }
    const mqtls__tls_engine_t *e = NULL;
    mqtls_status_t st = pick_engine(cfg, err, &e);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls__tls_opts_t opts = {
        .profile = mqtls__profile_get(pid),
        .insecure = cfg->insecure,
        .no_hostname_check = cfg->no_hostname_check,
        .resumption = !cfg->no_session_resumption,
        .server_name = cfg->server_name,
        .alpn = cfg->alpn,
        .ciphers = cfg->ciphers,
    };
    st = resolve_versions(e, cfg, &opts, err);
    if (st == MQTLS_OK) {
        st = resolve_psk(e, cfg, &opts, err);
    }
    if (st == MQTLS_OK) {
        st = resolve_max_fragment(cfg, &opts, err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    if (cfg->alpn != NULL) {
        size_t n = 0;
        while (cfg->alpn[n] != NULL) {
            n++;
        }
        if (n > MQTLS__ALPN_MAX) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                   "more than %d ALPN protocols", MQTLS__ALPN_MAX);
        }
    }
    mqtls__tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "tls: calloc");
    }
    ctx->engine = e;
    if (cfg->server_name != NULL) {
        ctx->server_name = mqtls__tls_strdup(cfg->server_name);
        if (ctx->server_name == NULL) {
            mqtls__tls_ctx_destroy(ctx);
            return mqtls__net_fail(err, MQTLS_LAYER_TLS, MQTLS_ERR_NOMEM, ENOMEM, "server_name");
        }
    }
    st = load_pins(ctx, cfg, err);
    if (st != MQTLS_OK) {
        mqtls__tls_ctx_destroy(ctx);
        return st;
    }
    /* A profile named explicitly is judged by the mbedTLS it names, whatever engine connects:
     * that mbedTLS parses the same credentials first (can the device load them?) and verifies
     * every chain the server presents (mqtls__tls_after_verify). */
    st = MQTLS_OK;
    const mqtls__tls_engine_t *j = judge_for(e, opts.profile);
    if (cfg->profile != NULL && !cfg->insecure && opts.psk == NULL && j != NULL) {
        mqtls__tls_opts_t jo = opts;
        jo.min_version = 0x0303;
        jo.max_version = j->max_version;
        jo.max_fragment_len = 0; /* it makes no connection */
        /* A judge only verifies chains: a key on a token is opened by the engine that signs. */
        st = build_ectx(j, &jo, cfg, !mqtls__p11_is_uri(cfg->key_file), err, &ctx->judge.ctx);
        if (st == MQTLS_OK) {
            ctx->judge.engine = j;
            ctx->judge.server_name = ctx->server_name;
            ctx->judge.no_hostname_check = cfg->no_hostname_check;
        } else if (err != NULL) {
            size_t n = strnlen(err->detail, sizeof err->detail);
            (void)snprintf(err->detail + n, sizeof err->detail - n,
                           " (as %s %s, which the profile %s names)", j->library, j->version(),
                           cfg->profile);
        }
    }
    if (st == MQTLS_OK) {
        st = build_ectx(e, &opts, cfg, true, err, &ctx->ectx);
    }
    if (st != MQTLS_OK) {
        mqtls__tls_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return MQTLS_OK;
}

void mqtls__tls_ctx_set_flight_gathering(mqtls__tls_ctx_t *ctx, bool on)
{
    if (ctx != NULL && ctx->engine->ctx_set_flight_gathering != NULL) {
        ctx->engine->ctx_set_flight_gathering(ctx->ectx, on);
    }
}

const char *mqtls__tls_ctx_engine(const mqtls__tls_ctx_t *ctx)
{
    return ctx != NULL ? ctx->engine->name : NULL;
}

mqtls_status_t mqtls__tls_create(mqtls__tls_ctx_t *ctx, mqtls_transport_t *inner, const char *host,
                                 mqtls_tls_facts_t *facts, mqtls_error_t *err,
                                 mqtls_transport_t **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (ctx == NULL || inner == NULL || host == NULL || facts == NULL || out == NULL) {
        if (inner != NULL) {
            inner->ops->destroy(inner);
        }
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "tls: ctx, inner, host, facts and out are required");
    }
    const mqtls__tls_conn_cfg_t cc = {
        .host = host,
        .facts = facts,
        .judge = ctx->judge.engine != NULL ? &ctx->judge : NULL,
        .pins = (const uint8_t(*)[MQTLS__PIN_LEN])ctx->pins,
        .pin_count = ctx->pin_count,
    };
    return ctx->engine->conn_create(ctx->ectx, &cc, inner, err, out);
}

/* ---- after the chain is verified ------------------------------------------------------ */

static void judge(const mqtls__tls_conn_cfg_t *cc, const uint8_t *const *der, const size_t *len,
                  size_t count, uint32_t *flags);

/* The pins, on a chain that verified: does the leaf's public key match one? */
static void check_pins(const mqtls__tls_conn_cfg_t *cc, const uint8_t *leaf, size_t leaf_len,
                       uint32_t *flags)
{
    mqtls_tls_facts_t *f = cc->facts;
    uint8_t got[MQTLS__PIN_LEN];
    bool have = mqtls__tls_pin_of_cert(leaf, leaf_len, got) == 0;
    if (have) {
        mqtls__tls_pin_text(got, f->server_pin, sizeof f->server_pin);
    }
    for (size_t i = 0; have && i < cc->pin_count; i++) {
        if (memcmp(got, cc->pins[i], MQTLS__PIN_LEN) == 0) {
            return;
        }
    }
    f->pin_mismatch = true;
    *flags = MQTLS__BADCERT_OTHER;
}

void mqtls__tls_after_verify(const mqtls__tls_conn_cfg_t *cc, const uint8_t *const *der,
                             const size_t *len, size_t count, uint32_t *flags)
{
    judge(cc, der, len, count, flags);
    if (cc->pin_count > 0 && *flags == 0) {
        check_pins(cc, count > 0 ? der[0] : NULL, count > 0 ? len[0] : 0, flags);
    }
}

/* The device judgement of mqtls__tls_after_verify(). */
static void judge(const mqtls__tls_conn_cfg_t *cc, const uint8_t *const *der, const size_t *len,
                  size_t count, uint32_t *flags)
{
    const mqtls__tls_judge_t *j = cc->judge;
    if (j == NULL || count == 0) {
        return;
    }
    /* The device's verdict replaces the engine's: its chain, its flags per depth. */
    const char *name = j->no_hostname_check     ? NULL
                       : j->server_name != NULL ? j->server_name
                                                : cc->host;
    mqtls_tls_facts_t *f = cc->facts;
    for (size_t i = 0; i < MQTLS__MAX_CHAIN_DEPTH; i++) {
        free(f->chain[i].der);
        memset(&f->chain[i], 0, sizeof f->chain[i]);
    }
    f->chain_len = 0;
    *flags = j->engine->judge_chain(j->ctx, der, len, count, name, f);
    f->judge = j->engine->name;
}

int mqtls__tls_alert_for_flags(uint32_t flags)
{
    /* mbedTLS ssl_parse_certificate_verify(): the first rule that matches. */
    if ((flags & MQTLS__BADCERT_OTHER) != 0) {
        return 49; /* access_denied */
    }
    if ((flags & MQTLS__BADCERT_CN_MISMATCH) != 0) {
        return 42; /* bad_certificate */
    }
    if ((flags & (MQTLS__BADCERT_KEY_USAGE | MQTLS__BADCERT_EXT_KEY_USAGE | MQTLS__BADCERT_BAD_PK |
                  MQTLS__BADCERT_BAD_KEY)) != 0) {
        return 43; /* unsupported_certificate */
    }
    if ((flags & MQTLS__BADCERT_EXPIRED) != 0) {
        return 45; /* certificate_expired */
    }
    if ((flags & MQTLS__BADCERT_REVOKED) != 0) {
        return 44; /* certificate_revoked */
    }
    if ((flags & MQTLS__BADCERT_NOT_TRUSTED) != 0) {
        return 48; /* unknown_ca */
    }
    return 46; /* certificate_unknown */
}
