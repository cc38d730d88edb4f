/* Diagnosis of failed connection attempts, computed once per failure and off the hot path.
 *
 * A diagnosis (src/diag) reads the credential files, parses every certificate and rebuilds the
 * server chain: far too much to repeat on the loop thread after each failed attempt of each of
 * 10,000 clients that share one TLS context (cfg.tls_share_with) and fail the same way. So the
 * findings are kept in a cache that belongs to the shared TLS context (a client without TLS
 * has its own), keyed by the signature of the failure: status, layer, mbedTLS code, verify
 * flags merged and per depth, TLS alert, CONNACK/DISCONNECT reason, errno, a hash of the chain
 * the server presented (and of the verified one), and a hash of everything else diagnosis
 * reads (the error's detail, the other handshake facts, host, port, MQTT version). Clients that
 * fail alike share one mqtls_findings_t; each holds a reference, so the pointer stays valid
 * during its MQTLS_EVENT_ERROR callback and until its next failure (mqtls_client_findings()).
 *
 * The credential files are read once per cache, not per client: their bytes are kept with a
 * stamp (device, inode, size, mtime) that is checked with stat() at most once a second;
 * when a stamp changes (the user is fixing a file) they are read again and every cached
 * diagnosis made with the old bytes is dropped. A diagnosis is also not reused after
 * DIAG_TTL_S, since some findings depend on the time (expiry, "not yet valid").
 *
 * Threads: clients sharing a context may run on different threads; the cache mutex guards
 * everything below, and is taken with the client's c->mu held (client_internal.h lock order).
 * Findings are immutable once in the cache (readers use the const accessors only). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mqtls/diag.h"
#include "mqtls/file.h"
#include "runtime/client_internal.h"

#define DIAG_RECHECK_MS 1000 /* stat() the credential files at most this often */
#define DIAG_TTL_S 60        /* reuse a diagnosis for at most this long */
#define DIAG_KEEP 16u        /* diagnoses no client holds, kept for the next failure */
#define CRED_COUNT 3u        /* CA, client certificate, client key */

/* What diagnosis depends on, besides the credential files (see the file comment). */
typedef struct diag_key {
    mqtls_layer_t layer;
    mqtls_status_t status;
    int mbedtls_ret;
    uint32_t verify_flags;
    uint32_t depth_flags[MQTLS_ERROR_CHAIN_DEPTH];
    uint8_t chain_len;
    int16_t tls_alert;
    int16_t connack_reason;
    int16_t disconnect_reason;
    int sys_errno;
    uint64_t chain_hash; /* DER of the presented chain, then of the verified one */
    uint64_t rest_hash;  /* everything else the diagnosis reads */
} diag_key_t;

struct mqtls__diag_entry {
    mqtls__diag_entry_t *next; /* most recently used first */
    diag_key_t key;
    uint64_t files_gen; /* the credential bytes it was made with */
    int64_t made_s;     /* wall clock, as the diagnosis saw it */
    unsigned refs;      /* clients holding it */
    mqtls_findings_t *findings;
};

/* One credential file as last read, and the stamp that says whether it changed since. */
typedef struct cred_file {
    uint8_t *data;
    size_t len;
    int read_errno;
    int stat_errno;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} cred_file_t;

struct mqtls__diag_cache {
    pthread_mutex_t mu;
    mqtls__diag_entry_t *entries;
    size_t count;
    cred_file_t files[CRED_COUNT];
    bool files_loaded;
    uint64_t files_gen;
    int64_t checked_ms; /* CLOCK_MONOTONIC of the last stat() */
    mqtls__diag_stats_t stats;
};

/* --- the cache ---------------------------------------------------------------------------- */

mqtls_status_t mqtls__diag_cache_create(mqtls__diag_cache_t **out)
{
    mqtls__diag_cache_t *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return MQTLS_ERR_NOMEM;
    }
    *out = d;
    return MQTLS_OK;
}

static void entry_free(mqtls__diag_entry_t *e)
{
    mqtls_findings_destroy(e->findings);
    free(e);
}

void mqtls__diag_cache_destroy(mqtls__diag_cache_t *d)
{
    if (d == NULL) {
        return;
    }
    for (mqtls__diag_entry_t *e = d->entries, *next; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    for (size_t i = 0; i < CRED_COUNT; i++) {
        mqtls_file_free(d->files[i].data, d->files[i].len); /* may be a private key */
    }
    (void)pthread_mutex_destroy(&d->mu);
    free(d);
}

/* Drop what can no longer be reused (older files, too old) or is beyond DIAG_KEEP, unless a
 * client still holds it. */
static void trim(mqtls__diag_cache_t *d, int64_t now_s)
{
    size_t kept = 0;
    for (mqtls__diag_entry_t **p = &d->entries; *p != NULL;) {
        mqtls__diag_entry_t *e = *p;
        bool usable =
            e->files_gen == d->files_gen && now_s - e->made_s < DIAG_TTL_S && now_s >= e->made_s;
        if (e->refs == 0 && (!usable || kept >= DIAG_KEEP)) {
            *p = e->next;
            entry_free(e);
            d->count--;
            continue;
        }
        kept++;
        p = &e->next;
    }
}

/* --- the signature of a failure ----------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001B3ULL;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s != NULL ? fnv(h, s, strlen(s) + 1u) : fnv(h, "", 1);
}

static uint64_t fnv_certs(uint64_t h, const mqtls_cert_fact_t *certs, size_t count)
{
    h = fnv(h, &count, sizeof count);
    for (size_t i = 0; i < count && i < MQTLS__MAX_CHAIN_DEPTH; i++) {
        h = fnv(h, &certs[i].flags, sizeof certs[i].flags);
        h = fnv(h, &certs[i].der_len, sizeof certs[i].der_len);
        if (certs[i].der != NULL) {
            h = fnv(h, certs[i].der, certs[i].der_len);
        }
    }
    return h;
}

#define FNV_SEED 0xCBF29CE484222325ULL
#define FNV_FIELD(h, f) fnv((h), &(f), sizeof(f))

/* Every handshake fact but the time it took and the server's random (src/common/tls_facts.h):
 * the first bytes from the server only matter when they are not TLS (they are then shown). */
static uint64_t fnv_facts(uint64_t h, const mqtls_tls_facts_t *f, mqtls_status_t status)
{
    h = FNV_FIELD(h, f->handshake_ret);
    h = FNV_FIELD(h, f->verify_flags);
    h = FNV_FIELD(h, f->alert_received);
    h = FNV_FIELD(h, f->alert_sent);
    bool flags[] = {f->cert_requested,       f->client_cert_sent, f->peer_not_tls,
                    f->server_hello_seen,    f->session_resumed,  f->hostname_checked,
                    f->ip_san_matched_by_us, f->insecure,         f->session_offered,
                    f->peer_silent_close,    f->records_truncated, f->pin_mismatch};
    h = fnv(h, flags, sizeof flags);
    h = fnv(h, &f->ca_names_len, sizeof f->ca_names_len);
    if (f->ca_names != NULL) {
        h = fnv(h, f->ca_names, f->ca_names_len);
    }
    if (f->peer_not_tls || status == MQTLS_ERR_TLS_NOT_TLS) {
        size_t first =
            f->first_bytes_len < sizeof f->first_bytes ? f->first_bytes_len : sizeof f->first_bytes;
        h = fnv(h, f->first_bytes, first);
    }
    h = fnv(h, f->server_pin, strnlen(f->server_pin, sizeof f->server_pin));
    h = FNV_FIELD(h, f->tls_version);
    h = fnv(h, f->ciphersuite, strnlen(f->ciphersuite, sizeof f->ciphersuite));
    return fnv(h, f->server_name, strnlen(f->server_name, sizeof f->server_name));
}

static void make_key(const mqtls_client_t *c, const mqtls_error_t *why, diag_key_t *k)
{
    memset(k, 0, sizeof *k);
    k->layer = why->layer;
    k->status = why->status;
    k->mbedtls_ret = why->mbedtls_ret;
    k->verify_flags = why->verify_flags;
    memcpy(k->depth_flags, why->depth_flags, sizeof k->depth_flags);
    k->chain_len = why->chain_len;
    k->tls_alert = why->tls_alert;
    k->connack_reason = why->connack_reason;
    k->disconnect_reason = why->disconnect_reason;
    k->sys_errno = why->sys_errno;
    uint64_t h = fnv(FNV_SEED, why->detail, strnlen(why->detail, sizeof why->detail));
    h = fnv_str(h, c->uri.host);
    h = FNV_FIELD(h, c->uri.port);
    h = FNV_FIELD(h, c->cfg.version);
    h = FNV_FIELD(h, c->facts_used);
    k->chain_hash = FNV_SEED;
    if (c->facts_used) {
        h = fnv_facts(h, &c->facts, why->status);
        k->chain_hash = fnv_certs(k->chain_hash, c->facts.presented, c->facts.presented_len);
        k->chain_hash = fnv_certs(k->chain_hash, c->facts.chain, c->facts.chain_len);
    }
    k->rest_hash = h;
}

static bool key_equal(const diag_key_t *a, const diag_key_t *b)
{
    return a->layer == b->layer && a->status == b->status && a->mbedtls_ret == b->mbedtls_ret &&
           a->verify_flags == b->verify_flags &&
           memcmp(a->depth_flags, b->depth_flags, sizeof a->depth_flags) == 0 &&
           a->chain_len == b->chain_len && a->tls_alert == b->tls_alert &&
           a->connack_reason == b->connack_reason && a->disconnect_reason == b->disconnect_reason &&
           a->sys_errno == b->sys_errno && a->chain_hash == b->chain_hash &&
           a->rest_hash == b->rest_hash;
}

/* --- the credential files ----------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *cred_path(const mqtls_tls_cfg_t *t, size_t i)
{
    const char *paths[CRED_COUNT] = {t->ca_file, t->cert_file, t->key_file};
    return t->enabled ? paths[i] : NULL;
}

/* stat() @p path into the stamp fields of @p f. @return true if the stamp changed. */
static bool restamp(cred_file_t *f, const char *path)
{
    struct stat sb;
    cred_file_t now;
    memset(&now, 0, sizeof now);
    if (stat(path, &sb) != 0) {
        now.stat_errno = errno != 0 ? errno : EIO;
    } else {
        now.dev = sb.st_dev;
        now.ino = sb.st_ino;
        now.size = sb.st_size;
        now.mtime = sb.st_mtim;
    }
    bool changed = now.stat_errno != f->stat_errno || now.dev != f->dev || now.ino != f->ino ||
                   now.size != f->size || now.mtime.tv_sec != f->mtime.tv_sec ||
                   now.mtime.tv_nsec != f->mtime.tv_nsec;
    f->stat_errno = now.stat_errno;
    f->dev = now.dev;
    f->ino = now.ino;
    f->size = now.size;
    f->mtime = now.mtime;
    return changed;
}

/* Read @p path into @p f (diagnosis is pure: it gets the credentials as bytes), through the
 * one safe reader: a FIFO, a device or a huge file put in place of a credential must not hang
 * or swell the client while it explains a failure. */
static void load(cred_file_t *f, const char *path)
{
    mqtls_file_free(f->data, f->len);
    f->data = NULL;
    f->len = 0;
    f->read_errno = 0;
    mqtls_error_t err;
    mqtls_error_init(&err);
    if (mqtls_file_read(path, MQTLS_FILE_CREDENTIAL_MAX, 0, &f->data, &f->len, &err) != MQTLS_OK) {
        f->read_errno = err.sys_errno != 0 ? err.sys_errno : EIO;
    }
}

/* Make d->files the current credential bytes, reading them only when their stamps changed
 * (checked at most every DIAG_RECHECK_MS). */
static void refresh_files(mqtls__diag_cache_t *d, const mqtls_tls_cfg_t *t)
{
    int64_t now = mono_ms();
    if (d->files_loaded && now - d->checked_ms < DIAG_RECHECK_MS) {
        return;
    }
    d->checked_ms = now;
    bool changed = !d->files_loaded;
    for (size_t i = 0; i < CRED_COUNT; i++) {
        const char *path = cred_path(t, i);
        if (path != NULL && restamp(&d->files[i], path)) {
            changed = true;
        }
    }
    if (!changed) {
        return;
    }
    for (size_t i = 0; i < CRED_COUNT; i++) {
        const char *path = cred_path(t, i);
        if (path != NULL) {
            load(&d->files[i], path);
            d->stats.file_reads++;
        }
    }
    d->files_loaded = true;
    d->files_gen++;
}

static void diag_file(const mqtls__diag_cache_t *d, const mqtls_tls_cfg_t *t, size_t i,
                      mqtls_diag_file_t *f)
{
    const uint8_t *bufs[CRED_COUNT] = {t->ca_buf, t->cert_buf, t->key_buf};
    const size_t lens[CRED_COUNT] = {t->ca_len, t->cert_len, t->key_len};
    static const char *const buf_names[CRED_COUNT] = {"ca_buf", "cert_buf", "key_buf"};
    const char *path = cred_path(t, i);
    if (path != NULL) {
        f->display_name = path;
        f->data = d->files[i].data;
        f->len = d->files[i].len;
        f->read_errno = d->files[i].read_errno;
    } else if (bufs[i] != NULL) {
        f->display_name = buf_names[i];
        f->data = bufs[i];
        f->len = lens[i];
        f->from_buffer_api = true;
    }
}

/* --- diagnosing --------------------------------------------------------------------------- */

static mqtls__diag_entry_t *compute(mqtls_client_t *c, const mqtls_error_t *why,
                                    const diag_key_t *key, int64_t now_s)
{
    mqtls__diag_cache_t *d = c->diag;
    mqtls__diag_entry_t *e = calloc(1, sizeof *e);
    if (e == NULL || mqtls_findings_create(&e->findings) != MQTLS_OK) {
        free(e);
        return NULL;
    }
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    const mqtls_tls_cfg_t *t = &c->tls_cfg;
    if (t->profile != NULL) {
        (void)mqtls_profile_from_name(t->profile, &in.profile);
    }
    in.now_s = now_s;
    /* A Unix socket is named by its file (diagnosis words a path as a socket, not a host). */
    in.host = c->uri.scheme == MQTLS_SCHEME_UNIX ? c->uri.path : c->uri.host;
    in.port = c->uri.port;
    in.server_name = t->server_name;
    in.err = why;
    in.facts = c->facts_used ? &c->facts : NULL;
    in.mqtt_version = (int)c->cfg.version;
    in.insecure = t->insecure;
    if (t->enabled) {
        diag_file(d, t, 0, &in.ca);
        diag_file(d, t, 1, &in.cert);
        diag_file(d, t, 2, &in.key);
        in.key_password = t->key_password;
        in.key_password_given = t->key_password != NULL;
    }
    d->stats.runs++;
    if (mqtls_diag_run(&in, e->findings) != MQTLS_OK) {
        entry_free(e);
        return NULL;
    }
    e->key = *key;
    e->files_gen = d->files_gen;
    e->made_s = now_s;
    e->next = d->entries;
    d->entries = e;
    d->count++;
    return e;
}

static mqtls__diag_entry_t *lookup(mqtls__diag_cache_t *d, const diag_key_t *key, int64_t now_s)
{
    for (mqtls__diag_entry_t **p = &d->entries; *p != NULL; p = &(*p)->next) {
        mqtls__diag_entry_t *e = *p;
        if (e->files_gen == d->files_gen && now_s >= e->made_s && now_s - e->made_s < DIAG_TTL_S &&
            key_equal(&e->key, key)) {
            *p = e->next; /* move to the front */
            e->next = d->entries;
            d->entries = e;
            return e;
        }
    }
    return NULL;
}

const mqtls_findings_t *mqtls__client_diagnose(mqtls_client_t *c, const mqtls_error_t *why)
{
    if (!c->cfg.diagnose) {
        return NULL;
    }
    if (c->diag == NULL && mqtls__diag_cache_create(&c->diag) != MQTLS_OK) {
        return NULL; /* the client's own cache (no TLS context) */
    }
    mqtls__diag_cache_t *d = c->diag;
    diag_key_t key;
    make_key(c, why, &key);
    int64_t now_s = (int64_t)time(NULL);
    (void)pthread_mutex_lock(&d->mu);
    refresh_files(d, &c->tls_cfg);
    mqtls__diag_entry_t *e = lookup(d, &key, now_s);
    if (e != NULL) {
        d->stats.hits++;
    } else {
        e = compute(c, why, &key, now_s);
    }
    if (e != NULL) {
        e->refs++;
    }
    if (c->diag_entry != NULL) {
        c->diag_entry->refs--;
    }
    c->diag_entry = e;
    trim(d, now_s);
    (void)pthread_mutex_unlock(&d->mu);
    return e != NULL ? e->findings : NULL;
}

const mqtls_findings_t *mqtls__client_findings(const mqtls_client_t *c)
{
    return c->diag_entry != NULL ? c->diag_entry->findings : NULL;
}

void mqtls__client_diag_release(mqtls_client_t *c)
{
    if (c->diag_entry == NULL) {
        return;
    }
    (void)pthread_mutex_lock(&c->diag->mu);
    c->diag_entry->refs--;
    c->diag_entry = NULL;
    (void)pthread_mutex_unlock(&c->diag->mu);
}

void mqtls__client_diag_stats(const mqtls_client_t *c, mqtls__diag_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (c->diag == NULL) {
        return;
    }
    (void)pthread_mutex_lock(&c->diag->mu);
    *out = c->diag->stats;
    (void)pthread_mutex_unlock(&c->diag->mu);
}
