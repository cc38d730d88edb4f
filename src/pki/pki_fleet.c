/* mqtls pki fleet: many device certificates from one CA, signed on several threads, and the
 * fleet's manifest (pki.h: mqtls_pki_issue_fleet).
 *
 * Each worker thread parses the CA once and keeps its own random generator, then takes device
 * numbers from one atomic counter until none is left: no lock on the signing path, and the
 * mbedTLS contexts are never shared between threads. A device costs one P-256 key generation,
 * one ECDSA signature and two small files; the CA's parse, its issuer name, the
 * extendedKeyUsage DER and the validity are computed once per call.
 *
 * The manifest (fleet.csv, fleet.json) lists every device of the directory, one row per id:
 * rows of earlier calls for other names are kept, so a fleet can be made of several groups
 * (e.g. valid devices and, for a test, some expired ones). */
#include "mqtls/pki.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>

#include "common/abi.h"
#include "pki/pki_internal.h"
#include "x509/asn1.h"

#define SECONDS_PER_DAY 86400
#define VALIDITY_BACKDATE_S 3600
#define FLEET_THREADS_MAX 64u
#define NAME_CAP 72u /* prefix (64 at most with the number) + NUL */
#define ROW_CAP 512u
#define EKU_CAP 64u
#define MANIFEST_CSV "fleet.csv"
#define MANIFEST_JSON "fleet.json"
#define CSV_HEADER "id,cert,key,not_before,not_after"

/* What every worker shares: read-only after the start but for the counter and the error. */
typedef struct fleet_job {
    const mqtls_pki_fleet_req_t *req;
    const char *prefix;
    char issuer[512];
    unsigned char eku_buf[EKU_CAP];
    const unsigned char *eku;
    size_t eku_len;
    int64_t not_before;
    int64_t not_after;
    atomic_uint next;   /* the next device index to issue */
    atomic_uint issued; /* devices written */
    atomic_bool stop;   /* a worker failed: the others stop at their next device */
    pthread_mutex_t mu; /* guards err and failed */
    bool failed;
    mqtls_status_t st;
    mqtls_error_t err;
} fleet_job_t;

/* ---- names ------------------------------------------------------------------------------ */

/* "dev-000042": the number in at least 6 digits. */
static bool device_name(const char *prefix, uint32_t number, char out[NAME_CAP])
{
    int n = snprintf(out, NAME_CAP, "%s%06lu", prefix, (unsigned long)number);
    return n > 0 && (size_t)n < NAME_CAP;
}

/* "2026-12-08T10:00:00Z" */
static void iso_time(int64_t t, char out[32])
{
    mbedtls_x509_time x;
    mqtls__x509_time_from_unix(t, &x);
    (void)snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", x.year, x.mon, x.day, x.hour, x.min,
                   x.sec);
}

/* ---- keys and signatures that reuse their precomputations -------------------------------- */

/* mbedtls_ecp_gen_key() loads a fresh group for every key and so rebuilds the comb table of the
 * base point each time, which is most of the cost of a key; mbedtls_pk_sign() copies the CA's
 * group for every signature, with the same effect. A worker keeps one group for its keys and
 * signs with an ECDSA context made once from the CA key: both tables are built once per
 * thread, and a device costs about a third of what mqtls_pki_issue() spends on one. */
typedef struct fleet_crypto {
    mbedtls_ecp_group grp;     /* P-256, its base point table cached after the first key */
    mbedtls_pk_context signer; /* the CA key as an ECDSA context (EC CAs only) */
    bool has_signer;
} fleet_crypto_t;

static int crypto_setup(fleet_crypto_t *fc, mbedtls_pk_context *ca_key)
{
    mbedtls_ecp_group_init(&fc->grp);
    mbedtls_pk_init(&fc->signer);
    fc->has_signer = false;
    int ret = mbedtls_ecp_group_load(&fc->grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret == 0 && mbedtls_pk_get_type(ca_key) == MBEDTLS_PK_ECKEY) {
        ret = mbedtls_pk_setup(&fc->signer, mbedtls_pk_info_from_type(MBEDTLS_PK_ECDSA));
        if (ret == 0) {
            ret = mbedtls_ecdsa_from_keypair(mbedtls_pk_ec(fc->signer), mbedtls_pk_ec(*ca_key));
        }
        fc->has_signer = ret == 0;
    }
    return ret;
}

static void crypto_free(fleet_crypto_t *fc)
{
    mbedtls_pk_free(&fc->signer);
    mbedtls_ecp_group_free(&fc->grp);
}

/* A new P-256 key in @p pk: d and Q = d*G on the worker's group, handed to mbedTLS as the
 * SEC1 ECPrivateKey (RFC 5915) it would write for them, with the public key included so that
 * the parse does not compute it again. 0 or the mbedTLS error. */
static int gen_key(fleet_crypto_t *fc, mbedtls_pk_context *pk, mqtls__x509_rng_t *r)
{
    unsigned char der[160];
    unsigned char d_bin[32];
    unsigned char q_bin[65];
    size_t q_len = 0;
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);
    int ret = mbedtls_ecp_gen_keypair(&fc->grp, &d, &q, mbedtls_ctr_drbg_random, &r->drbg);
    if (ret == 0) {
        ret = mbedtls_mpi_write_binary(&d, d_bin, sizeof d_bin);
    }
    if (ret == 0) {
        ret = mbedtls_ecp_point_write_binary(&fc->grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &q_len,
                                             q_bin, sizeof q_bin);
    }
    unsigned char *p = der + sizeof der;
    size_t len = 0;
    /* Written back to front: publicKey [1], parameters [0], privateKey, version. */
    int n;
#define PUT(call)                                                                                  \
    do {                                                                                           \
        if (ret == 0) {                                                                            \
            n = (call);                                                                            \
            ret = n < 0 ? n : 0;                                                                   \
            len += n < 0 ? 0u : (size_t)n;                                                         \
        }                                                                                          \
    } while (0)
    size_t mark = 0;
    PUT(mbedtls_asn1_write_bitstring(&p, der, q_bin, q_len * 8u));
    mark = len;
    PUT(mbedtls_asn1_write_len(&p, der, mark));
    PUT(mbedtls_asn1_write_tag(&p, der,
                               MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1));
    mark = len;
    PUT(mbedtls_asn1_write_oid(&p, der, MBEDTLS_OID_EC_GRP_SECP256R1,
                               MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP256R1)));
    PUT(mbedtls_asn1_write_len(&p, der, len - mark));
    PUT(mbedtls_asn1_write_tag(&p, der,
                               MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
    PUT(mbedtls_asn1_write_octet_string(&p, der, d_bin, sizeof d_bin));
    PUT(mbedtls_asn1_write_int(&p, der, 1));
    PUT(mbedtls_asn1_write_len(&p, der, len));
    PUT(mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef PUT
    if (ret == 0) {
        ret = mqtls__x509_pk_parse_key(pk, p, len, NULL, mbedtls_ctr_drbg_random, &r->drbg);
    }
    mbedtls_platform_zeroize(der, sizeof der);
    mbedtls_platform_zeroize(d_bin, sizeof d_bin);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    return ret;
}

/* ---- the workers ------------------------------------------------------------------------ */

static void job_fail(fleet_job_t *job, mqtls_status_t st, const mqtls_error_t *err)
{
    (void)pthread_mutex_lock(&job->mu);
    if (!job->failed) {
        job->failed = true;
        job->st = st;
        job->err = *err;
    }
    (void)pthread_mutex_unlock(&job->mu);
    atomic_store(&job->stop, true);
}

/* Issue device @p index of the job with this worker's CA copy and generator. */
static mqtls_status_t issue_one(fleet_job_t *job, uint32_t index, mbedtls_pk_context *ca_key,
                                fleet_crypto_t *fc, mqtls__x509_rng_t *r, unsigned char *pem,
                                mqtls_error_t *err)
{
    const mqtls_pki_fleet_req_t *req = job->req;
    char name[NAME_CAP];
    char subject[NAME_CAP + 8];
    mqtls_pki_result_t paths;
    memset(&paths, 0, sizeof paths);
    if (!device_name(job->prefix, req->first + index, name)) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "device name too long");
    }
    mqtls_status_t st = mqtls__pki_cn_string(name, subject, sizeof subject, err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_join_path(paths.cert_path, sizeof paths.cert_path, req->dir, name, ".crt",
                                  err);
    }
    if (st == MQTLS_OK) {
        st = mqtls__pki_join_path(paths.key_path, sizeof paths.key_path, req->dir, name, ".key",
                                  err);
    }
    if (st != MQTLS_OK) {
        return st;
    }
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    int ret = gen_key(fc, &key, r);
    if (ret != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "generating the key of %s", name);
    } else {
        mqtls__pki_cert_spec_t spec = {
            .subject = subject,
            .issuer = job->issuer,
            .subject_key = &key,
            .issuer_key = ca_key,
            .signing_key = fc->has_signer ? &fc->signer : NULL,
            .not_before = job->not_before,
            .not_after = job->not_after,
            .is_ca = 0,
            .key_usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE,
            .eku = job->eku,
            .eku_len = job->eku_len,
        };
        st = mqtls__pki_sign_cert(&spec, r, pem, MQTLS__PKI_PEM_CAP, err);
        if (st == MQTLS_OK) {
            st = mqtls__pki_write_pair(&paths, &key, pem, req->force, err);
        }
    }
    mbedtls_pk_free(&key);
    return st;
}

static void *worker(void *arg)
{
    fleet_job_t *job = arg;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__x509_rng_t r;
    mbedtls_x509_crt ca;
    mbedtls_pk_context ca_key;
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&ca_key);
    unsigned char *pem = malloc(MQTLS__PKI_PEM_CAP);
    int ret = mqtls__x509_rng_setup(&r, "mqtls pki fleet");
    mqtls_status_t st = MQTLS_OK;
    if (pem == NULL) {
        st = mqtls__pki_fail(&err, MQTLS_ERR_NOMEM, 0, 0, "certificate buffer");
    } else if (ret != 0) {
        st = mqtls__pki_fail(&err, MQTLS_ERR_CRYPTO, ret, 0, "seeding the random generator");
    } else {
        st = mqtls__pki_load_ca(job->req->dir, &ca, &ca_key, &r, &err);
    }
    fleet_crypto_t fc;
    ret = crypto_setup(&fc, &ca_key);
    if (st == MQTLS_OK && ret != 0) {
        st = mqtls__pki_fail(&err, MQTLS_ERR_CRYPTO, ret, 0, "preparing the P-256 group");
    }
    while (st == MQTLS_OK && !atomic_load(&job->stop)) {
        unsigned i = atomic_fetch_add(&job->next, 1u);
        if (i >= job->req->count) {
            break;
        }
        st = issue_one(job, i, &ca_key, &fc, &r, pem, &err);
        if (st == MQTLS_OK) {
            atomic_fetch_add(&job->issued, 1u);
        }
    }
    if (st != MQTLS_OK) {
        job_fail(job, st, &err);
    }
    crypto_free(&fc);
    free(pem);
    mbedtls_pk_free(&ca_key);
    mbedtls_x509_crt_free(&ca);
    mqtls__x509_rng_free(&r);
    return NULL;
}

/* ---- the manifest ----------------------------------------------------------------------- */

typedef struct rows {
    char **line; /* "id,cert,key,not_before,not_after", owned */
    size_t count, cap;
} rows_t;

static void rows_free(rows_t *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        free(rows->line[i]);
    }
    free(rows->line);
    memset(rows, 0, sizeof *rows);
}

static bool rows_add(rows_t *rows, const char *line)
{
    if (rows->count == rows->cap) {
        size_t cap = rows->cap != 0 ? rows->cap * 2u : 1024u;
        char **p = realloc(rows->line, cap * sizeof *p);
        if (p == NULL) {
            return false;
        }
        rows->line = p;
        rows->cap = cap;
    }
    size_t n = strlen(line) + 1u;
    char *copy = malloc(n);
    if (copy == NULL) {
        return false;
    }
    memcpy(copy, line, n);
    rows->line[rows->count++] = copy;
    return true;
}

/* The id of a row: its text up to the first comma. */
static size_t id_len(const char *line)
{
    return strcspn(line, ",");
}

static int row_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    size_t lx = id_len(x);
    size_t ly = id_len(y);
    int c = strncmp(x, y, lx < ly ? lx : ly);
    return c != 0 ? c : (lx > ly) - (lx < ly);
}

/* The rows of an existing fleet.csv whose ids this call does not issue again. */
static mqtls_status_t read_old_rows(const char *path, const fleet_job_t *job, rows_t *rows,
                                    mqtls_error_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT
                   ? MQTLS_OK
                   : mqtls__pki_fail(err, MQTLS_ERR_FILE_UNREADABLE, 0, errno, "%s", path);
    }
    char line[ROW_CAP];
    size_t plen = strlen(job->prefix);
    mqtls_status_t st = MQTLS_OK;
    while (st == MQTLS_OK && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strcmp(line, CSV_HEADER) == 0) {
            continue;
        }
        /* Issued again by this call: prefix + a number in [first, first + count). */
        bool reissued = false;
        if (strncmp(line, job->prefix, plen) == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long n = strtoul(line + plen, &end, 10);
            reissued = errno == 0 && end != line + plen && *end == ',' &&
                       end - (line + plen) >= 6 && n >= job->req->first &&
                       n - job->req->first < job->req->count;
        }
        if (!reissued && !rows_add(rows, line)) {
            st = mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "manifest rows");
        }
    }
    (void)fclose(f);
    return st;
}

/* Write @p text to @p path through a temporary file and a rename. */
static mqtls_status_t replace_file(const char *path, const char *text, size_t len,
                                   mqtls_error_t *err)
{
    char tmp[MQTLS_PKI_PATH_MAX + 16];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "path too long: %s", path);
    }
    mqtls_status_t st =
        mqtls__pki_write_new_file(tmp, (const unsigned char *)text, len, 0644, 1, err);
    if (st == MQTLS_OK && rename(tmp, path) != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, errno, "%s", path);
        (void)unlink(tmp);
    }
    return st;
}

/* A growable text buffer for the two manifest files. */
typedef struct text {
    char *data;
    size_t len, cap;
    bool oom;
} text_t;

static void text_add(text_t *t, const char *s, size_t n)
{
    if (t->oom) {
        return;
    }
    if (t->len + n + 1u > t->cap) {
        size_t cap = t->cap != 0 ? t->cap : 4096u;
        while (t->len + n + 1u > cap) {
            cap *= 2u;
        }
        char *p = realloc(t->data, cap);
        if (p == NULL) {
            t->oom = true;
            return;
        }
        t->data = p;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_str(text_t *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* One JSON object for a CSV row (its fields are names, file names and times: no quoting). */
static void json_row(text_t *t, const char *line, bool first)
{
    static const char *const keys[] = {"id", "cert", "key", "not_before", "not_after"};
    text_str(t, first ? "\n    {" : ",\n    {");
    const char *p = line;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t n = strcspn(p, ",");
        text_str(t, k > 0 ? ", \"" : "\"");
        text_str(t, keys[k]);
        text_str(t, "\": \"");
        text_add(t, p, n);
        text_str(t, "\"");
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    text_str(t, "}");
}

static mqtls_status_t write_manifest(const fleet_job_t *job, mqtls_pki_fleet_result_t *res,
                                     mqtls_error_t *err)
{
    const mqtls_pki_fleet_req_t *req = job->req;
    mqtls_status_t st = mqtls__pki_join_path(res->manifest_csv, sizeof res->manifest_csv, req->dir,
                                             "fleet", ".csv", err);
    if (st == MQTLS_OK) {
        st = mqtls__pki_join_path(res->manifest_json, sizeof res->manifest_json, req->dir, "fleet",
                                  ".json", err);
    }
    rows_t rows = {0};
    if (st == MQTLS_OK) {
        st = read_old_rows(res->manifest_csv, job, &rows, err);
    }
    char from[32];
    char to[32];
    iso_time(job->not_before, from);
    iso_time(job->not_after, to);
    for (uint32_t i = 0; st == MQTLS_OK && i < req->count; i++) {
        char name[NAME_CAP];
        char line[ROW_CAP];
        (void)device_name(job->prefix, req->first + i, name);
        (void)snprintf(line, sizeof line, "%s,%s.crt,%s.key,%s,%s", name, name, name, from, to);
        if (!rows_add(&rows, line)) {
            st = mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "manifest rows");
        }
    }
    text_t csv = {0};
    text_t json = {0};
    if (st == MQTLS_OK) {
        qsort(rows.line, rows.count, sizeof rows.line[0], row_cmp);
        text_str(&csv, CSV_HEADER "\n");
        char head[96];
        (void)snprintf(head, sizeof head,
                       "{\n  \"ca\": \"ca.crt\",\n  \"count\": %zu,\n  \"devices\": [", rows.count);
        text_str(&json, head);
        for (size_t i = 0; i < rows.count; i++) {
            text_str(&csv, rows.line[i]);
            text_str(&csv, "\n");
            json_row(&json, rows.line[i], i == 0);
        }
        text_str(&json, "\n  ]\n}\n");
        if (csv.oom || json.oom) {
            st = mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "manifest text");
        }
    }
    if (st == MQTLS_OK) {
        st = replace_file(res->manifest_csv, csv.data, csv.len, err);
    }
    if (st == MQTLS_OK) {
        st = replace_file(res->manifest_json, json.data, json.len, err);
    }
    free(csv.data);
    free(json.data);
    rows_free(&rows);
    return st;
}

/* ---- the call --------------------------------------------------------------------------- */

void mqtls_pki_fleet_req_init_sized(mqtls_pki_fleet_req_t *req, size_t size)
{
    mqtls_pki_fleet_req_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    mqtls__struct_init(req, size, &d, sizeof d);
}

/* The first public layout (ABI 1.1): callers cannot be older than this. */
#define FLEET_REQ_V1_SIZE MQTLS__SIZE_THROUGH(mqtls_pki_fleet_req_t, force)

static mqtls_status_t check_request(const mqtls_pki_fleet_req_t *req, const char *prefix,
                                    mqtls_error_t *err)
{
    if (req->dir == NULL || req->dir[0] == '\0') {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "no PKI directory given");
    }
    if (req->count == 0 || req->count > MQTLS_PKI_FLEET_MAX) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "count must be 1 to %u",
                               MQTLS_PKI_FLEET_MAX);
    }
    if (req->days > MQTLS_PKI_DAYS_MAX) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "days must be 1 to %u",
                               MQTLS_PKI_DAYS_MAX);
    }
    uint32_t first = req->first != 0 ? req->first : 1u;
    char last[NAME_CAP];
    if ((uint64_t)first + req->count - 1u > UINT32_MAX ||
        !device_name(prefix, first + req->count - 1u, last) ||
        !mqtls__pki_is_safe_file_name(last)) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0,
                               "prefix '%s' must be [A-Za-z0-9._-], not start with '.' or '-', "
                               "and leave the names at most 64 characters",
                               prefix);
    }
    return MQTLS_OK;
}

/* Refuse before signing anything when a device's files exist (and force is off). */
static mqtls_status_t check_all_outputs(const fleet_job_t *job, mqtls_error_t *err)
{
    const mqtls_pki_fleet_req_t *req = job->req;
    if (req->force) {
        return MQTLS_OK;
    }
    for (uint32_t i = 0; i < req->count; i++) {
        char name[NAME_CAP];
        mqtls_pki_result_t paths;
        (void)device_name(job->prefix, req->first + i, name);
        mqtls_status_t st = mqtls__pki_join_path(paths.cert_path, sizeof paths.cert_path, req->dir,
                                                 name, ".crt", err);
        if (st == MQTLS_OK) {
            st = mqtls__pki_join_path(paths.key_path, sizeof paths.key_path, req->dir, name, ".key",
                                      err);
        }
        if (st == MQTLS_OK) {
            st = mqtls__pki_check_outputs(&paths, false, err);
        }
        if (st != MQTLS_OK) {
            return st;
        }
    }
    return MQTLS_OK;
}

/* What every device shares: the issuer name, extendedKeyUsage and validity. Reads the CA once
 * (the workers read their own copies). */
static mqtls_status_t prepare(fleet_job_t *job, mqtls_error_t *err)
{
    const mqtls_pki_fleet_req_t *req = job->req;
    mqtls__x509_rng_t r;
    mbedtls_x509_crt ca;
    mbedtls_pk_context ca_key;
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&ca_key);
    int ret = mqtls__x509_rng_setup(&r, "mqtls pki fleet");
    mqtls_status_t st =
        ret == 0 ? MQTLS_OK
                 : mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, ret, 0, "seeding the random generator");
    if (st == MQTLS_OK) {
        st = mqtls__pki_load_ca(req->dir, &ca, &ca_key, &r, err);
    }
    if (st == MQTLS_OK) {
        st = mqtls__pki_dn_string(&ca.subject, job->issuer, sizeof job->issuer, err);
    }
    if (st == MQTLS_OK) {
        int64_t now = mqtls__pki_now_or(req->now_s);
        unsigned days = req->days != 0 ? req->days : MQTLS_PKI_LEAF_DAYS_DEFAULT;
        int64_t ca_end = mqtls__x509_time_unix(&ca.valid_to);
        job->not_before = now - VALIDITY_BACKDATE_S;
        job->not_after = now + (int64_t)days * SECONDS_PER_DAY;
        if (ca_end <= mqtls__pki_now_or(0)) {
            st = mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0,
                                 "ca.crt expired on %04d-%02d-%02d: create a new CA (pki init "
                                 "--force)",
                                 ca.valid_to.year, ca.valid_to.mon, ca.valid_to.day);
        } else if (job->not_after > ca_end) {
            job->not_after = ca_end; /* a leaf outliving its CA only fails later, confusingly */
        }
    }
    if (st == MQTLS_OK) {
        unsigned char *start = NULL;
        int n = mqtls__pki_write_eku(job->eku_buf, sizeof job->eku_buf, MBEDTLS_OID_CLIENT_AUTH,
                                     MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH), &start);
        if (n < 0) {
            st = mqtls__pki_fail(err, MQTLS_ERR_CRYPTO, n, 0, "extendedKeyUsage");
        } else {
            job->eku = start;
            job->eku_len = (size_t)n;
        }
    }
    mbedtls_pk_free(&ca_key);
    mbedtls_x509_crt_free(&ca);
    mqtls__x509_rng_free(&r);
    return st;
}

static unsigned thread_count(unsigned asked, uint32_t count)
{
    unsigned n = asked;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)cpus : 1u;
    }
    if (n > FLEET_THREADS_MAX) {
        n = FLEET_THREADS_MAX;
    }
    if (n > count) {
        n = count;
    }
    return n;
}

mqtls_status_t mqtls_pki_issue_fleet(const mqtls_pki_fleet_req_t *caller_req,
                                     mqtls_pki_fleet_result_t *res, mqtls_error_t *err)
{
    if (caller_req == NULL) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "no request given");
    }
    mqtls_pki_fleet_req_t req;
    mqtls_pki_fleet_req_init(&req);
    mqtls_status_t st = mqtls__struct_import(&req, sizeof req, caller_req, FLEET_REQ_V1_SIZE);
    if (st != MQTLS_OK) {
        return mqtls__pki_fail(err, st, 0, 0,
                               st == MQTLS_ERR_INVALID_ARG
                                   ? "mqtls_pki_fleet_req_t not initialised: call "
                                     "mqtls_pki_fleet_req_init()"
                                   : "mqtls_pki_fleet_req_t sets fields of a newer mqtls");
    }
    const char *prefix = req.prefix != NULL ? req.prefix : MQTLS_PKI_FLEET_PREFIX_DEFAULT;
    if ((st = check_request(&req, prefix, err)) != MQTLS_OK) {
        return st;
    }
    req.first = req.first != 0 ? req.first : 1u;
    fleet_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        return mqtls__pki_fail(err, MQTLS_ERR_NOMEM, 0, 0, "fleet job");
    }
    job->req = &req;
    job->prefix = prefix;
    atomic_init(&job->next, 0u);
    atomic_init(&job->issued, 0u);
    atomic_init(&job->stop, false);
    (void)pthread_mutex_init(&job->mu, NULL);
    mqtls_pki_fleet_result_t out;
    memset(&out, 0, sizeof out);
    if ((st = mqtls__pki_check_dir(req.dir, err)) != MQTLS_OK ||
        (st = check_all_outputs(job, err)) != MQTLS_OK || (st = prepare(job, err)) != MQTLS_OK) {
        goto out;
    }
    unsigned n = thread_count(req.threads, req.count);
    pthread_t threads[FLEET_THREADS_MAX];
    unsigned started = 0;
    for (; started < n; started++) {
        if (pthread_create(&threads[started], NULL, worker, job) != 0) {
            break;
        }
    }
    if (started == 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_THREAD, 0, errno, "starting the signing threads");
        goto out;
    }
    for (unsigned i = 0; i < started; i++) {
        (void)pthread_join(threads[i], NULL);
    }
    out.issued = atomic_load(&job->issued);
    out.threads = started;
    if (job->failed) {
        st = job->st;
        if (err != NULL) {
            *err = job->err;
        }
        goto out;
    }
    st = write_manifest(job, &out, err);
    if (st == MQTLS_OK && res != NULL) {
        *res = out;
    }
out:
    (void)pthread_mutex_destroy(&job->mu);
    free(job);
    return st;
}
