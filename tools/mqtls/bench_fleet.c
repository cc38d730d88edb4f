/* The fleet of `mqtls bench`: devices from a `mqtls pki fleet` manifest, and the fleet-level
 * classification of failed connections.
 *
 * Each device of a fleet has its own certificate, so its own TLS context, and the library's
 * diagnosis cache (one per shared context) cannot help: 312 expired devices would be 312
 * diagnoses, each reading and parsing three files and rebuilding the server chain. Here a
 * failure is reduced to a signature of what the diagnosis looks at that can differ between
 * devices' failures (status, layer, mbedTLS code, verify flags, alerts, CONNACK and DISCONNECT
 * reasons, errno, the TLS facts' yes/no bits, and whether the device's certificate is in its
 * validity period per the manifest); the first device to fail with a new signature is
 * diagnosed (mqtls_diag_run(), public API) and every later one is counted under that result:
 * "312 devices failed: client-cert-expired" costs one diagnosis. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cli_util.h"

/* ---- the manifest ----------------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2u;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m > 2u ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-12-06T06:28:16Z" -> seconds since the epoch; 0 if it is not that form. */
static int64_t parse_iso(const char *s)
{
    unsigned v[6] = {0};
    const char seps[] = "--T::Z";
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
        while (*p >= '0' && *p <= '9') {
            v[i] = v[i] * 10u + (unsigned)(*p++ - '0');
            if (v[i] > 100000u) {
                return 0;
            }
        }
        if (*p++ != seps[i]) {
            return 0;
        }
    }
    return days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
}

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2u;
    char *p = malloc(n);
    if (p != NULL) {
        (void)snprintf(p, n, "%s%s%s", file[0] == '/' ? "" : dir, file[0] == '/' ? "" : "/", file);
    }
    return p;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1u);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void bench_devices_free(bench_device_t *d, size_t count)
{
    for (size_t i = 0; d != NULL && i < count; i++) {
        free(d[i].id);
        free(d[i].cert);
        free(d[i].key);
    }
    free(d);
}

int bench_fleet_load(const char *dir, bench_device_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char *path = join(dir, "fleet.csv");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL) {
        int e = path != NULL ? errno : ENOMEM;
        fprintf(stderr, "mqtls: read fleet %s: %s (make one: mqtls pki fleet %s --count N)\n",
                path != NULL ? path : dir, strerror(e), dir);
        free(path);
        return e;
    }
    bench_device_t *d = NULL;
    size_t n = 0;
    size_t cap = 0;
    char line[1024];
    int e = 0;
    size_t lineno = 0;
    while (e == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strncmp(line, "id,", 3) == 0) {
            continue; /* the header */
        }
        const char *field[5] = {NULL};
        size_t len[5] = {0};
        const char *p = line;
        size_t k = 0;
        for (; k < 5 && p != NULL; k++) {
            const char *comma = strchr(p, ',');
            field[k] = p;
            len[k] = comma != NULL ? (size_t)(comma - p) : strlen(p);
            p = comma != NULL ? comma + 1 : NULL;
        }
        if (k < 3 || len[0] == 0 || len[1] == 0 || len[2] == 0) {
            fprintf(stderr, "mqtls: read fleet %s: line %zu is not id,cert,key,...\n", path,
                    lineno);
            e = EINVAL;
            break;
        }
        if (n == cap) {
            cap = cap != 0 ? cap * 2u : 1024u;
            bench_device_t *bigger = realloc(d, cap * sizeof *d);
            if (bigger == NULL) {
                e = ENOMEM;
                break;
            }
            d = bigger;
        }
        bench_device_t *dev = &d[n];
        memset(dev, 0, sizeof *dev);
        char *cert = dup_n(field[1], len[1]);
        char *key = dup_n(field[2], len[2]);
        dev->id = dup_n(field[0], len[0]);
        dev->cert = cert != NULL ? join(dir, cert) : NULL;
        dev->key = key != NULL ? join(dir, key) : NULL;
        free(cert);
        free(key);
        n++;
        if (dev->id == NULL || dev->cert == NULL || dev->key == NULL) {
            e = ENOMEM;
            break;
        }
        if (k >= 5) {
            char t[32];
            (void)snprintf(t, sizeof t, "%.*s", (int)len[3], field[3]);
            dev->not_before = parse_iso(t);
            (void)snprintf(t, sizeof t, "%.*s", (int)len[4], field[4]);
            dev->not_after = parse_iso(t);
        }
    }
    (void)fclose(f);
    if (e == 0 && n == 0) {
        fprintf(stderr, "mqtls: read fleet %s: no device in it\n", path);
        e = EINVAL;
    }
    if (e != 0) {
        if (e == ENOMEM) {
            fprintf(stderr, "mqtls: read fleet %s: out of memory\n", path);
        }
        bench_devices_free(d, n);
        free(path);
        return e;
    }
    free(path);
    *out = d;
    *count = n;
    return 0;
}

/* ---- failure classes -------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001B3ULL;
    }
    return h;
}

#define FNV(h, v) fnv((h), &(v), sizeof(v))

static uint64_t signature(const bench_device_t *dev, const mqtls_error_t *e,
                          const mqtls_tls_facts_t *f, int64_t now_s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    h = FNV(h, e->layer);
    h = FNV(h, e->status);
    h = FNV(h, e->mbedtls_ret);
    h = FNV(h, e->verify_flags);
    h = FNV(h, e->tls_alert);
    h = FNV(h, e->connack_reason);
    h = FNV(h, e->disconnect_reason);
    h = FNV(h, e->sys_errno);
    const unsigned bits = MQTLS_FACT_CERT_REQUESTED | MQTLS_FACT_CLIENT_CERT_SENT |
                          MQTLS_FACT_SERVER_HELLO_SEEN | MQTLS_FACT_PEER_NOT_TLS |
                          MQTLS_FACT_PEER_SILENT_CLOSE | MQTLS_FACT_INSECURE;
    unsigned flags = mqtls_tls_facts_flags(f) & bits;
    int alert_in = f != NULL ? mqtls_tls_facts_alert_received(f) : -1;
    int alert_out = f != NULL ? mqtls_tls_facts_alert_sent(f) : -1;
    uint16_t version = mqtls_tls_facts_version(f);
    h = FNV(h, flags);
    h = FNV(h, alert_in);
    h = FNV(h, alert_out);
    h = FNV(h, version);
    /* The device's own certificate: a broker answers "expired" and "not yet valid" (and other
     * certificate problems) with alerts that do not always tell them apart. */
    int validity = 0;
    if (dev->not_after != 0 && now_s > dev->not_after) {
        validity = 1;
    } else if (dev->not_before != 0 && now_s < dev->not_before) {
        validity = 2;
    }
    return FNV(h, validity);
}

/* Run the diagnosis for the first device of a new class and fill its id and message. */
static void diagnose(bench_run_t *run, size_t index, const char *uri, const mqtls_error_t *err,
                     const mqtls_tls_facts_t *facts, bench_class_t *k)
{
    const bench_cfg_t *cfg = run->cfg;
    const bench_device_t *dev = &run->dev[index];
    mqtls_uri_t u;
    bool have_uri = uri != NULL && mqtls_uri_parse(uri, &u) == MQTLS_OK;
    cli_cred_t ca, cert, key;
    cli_cred_load(&ca, cfg->cafile);
    cli_cred_load(&cert, dev->cert != NULL ? dev->cert : cfg->shared_cert);
    cli_cred_load(&key, dev->key != NULL ? dev->key : cfg->shared_key);
    mqtls_diag_input_t in;
    mqtls_diag_input_init(&in);
    in.now_s = (int64_t)time(NULL);
    in.host = have_uri ? u.host : NULL;
    in.port = have_uri ? u.port : 0;
    in.server_name = cfg->server_name;
    cli_cred_to_diag(&ca, &in.ca);
    cli_cred_to_diag(&cert, &in.cert);
    cli_cred_to_diag(&key, &in.key);
    in.err = err;
    in.facts = facts;
    in.mqtt_version = (int)cfg->version;
    in.insecure = cfg->insecure;
    mqtls_findings_t *f = NULL;
    const mqtls_finding_t *pick = NULL;
    if (mqtls_findings_create(&f) == MQTLS_OK && mqtls_diag_run(&in, f) == MQTLS_OK) {
        for (size_t i = 0; i < mqtls_findings_count(f) && pick == NULL; i++) {
            const mqtls_finding_t *x = mqtls_findings_get(f, i);
            if (mqtls_finding_severity(x) == MQTLS_SEV_ERROR) {
                pick = x;
            }
        }
        if (pick == NULL && mqtls_findings_count(f) > 0) {
            pick = mqtls_findings_get(f, 0);
        }
    }
    atomic_fetch_add(&run->diagnoses, 1u);
    (void)snprintf(k->id, sizeof k->id, "%s",
                   pick != NULL ? mqtls_finding_id(pick) : "unclassified");
    if (pick != NULL) {
        (void)snprintf(k->message, sizeof k->message, "%s", mqtls_finding_message(pick));
    } else {
        mqtls_strerror(err, k->message, sizeof k->message);
    }
    mqtls_findings_destroy(f);
    cli_cred_free(&ca);
    cli_cred_free(&cert);
    cli_cred_free(&key);
}

void bench_classify(bench_run_t *run, size_t index, const char *uri, const mqtls_error_t *err,
                    const mqtls_tls_facts_t *facts)
{
    int64_t now_s = (int64_t)time(NULL);
    uint64_t sig = signature(&run->dev[index], err, facts, now_s);
    (void)pthread_mutex_lock(&run->class_mu);
    bench_class_t *k = NULL;
    for (size_t i = 0; i < run->class_count && k == NULL; i++) {
        if (run->classes[i].sig == sig) {
            k = &run->classes[i];
        }
    }
    if (k == NULL && run->class_count < BENCH_CLASSES_MAX) {
        /* New: diagnose it, under the lock (rare; the other threads' failures wait for it, so
         * that no signature is ever diagnosed twice). */
        k = &run->classes[run->class_count++];
        memset(k, 0, sizeof *k);
        k->sig = sig;
        (void)snprintf(k->sample, sizeof k->sample, "%s", run->dev[index].id);
        (void)snprintf(k->status, sizeof k->status, "%s", mqtls_status_name(err->status));
        int alert = facts != NULL ? mqtls_tls_facts_alert_received(facts) : err->tls_alert;
        if (alert >= 0) {
            (void)snprintf(k->detail, sizeof k->detail, "alert %s (%d)",
                           mqtls_tls_alert_name(alert), alert);
        } else if (err->connack_reason >= 0) {
            (void)snprintf(k->detail, sizeof k->detail, "CONNACK 0x%02X",
                           (unsigned)err->connack_reason);
        } else if (err->mbedtls_ret != 0) {
            (void)snprintf(k->detail, sizeof k->detail, "mbedTLS -0x%04X",
                           (unsigned)-err->mbedtls_ret);
        }
        diagnose(run, index, uri, err, facts, k);
    }
    if (k != NULL) {
        k->count++;
    } else {
        run->unclassified++;
    }
    (void)pthread_mutex_unlock(&run->class_mu);
}
