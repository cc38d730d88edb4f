/* The persistence store of a client: an append-only log of checksummed records, replayed at
 * open, synced as the policy says, compacted by rewrite + rename. See persist.h for the file
 * layout and docs/reliability.md for what it guarantees.
 *
 * Record bodies (u8 type first; integers little-endian):
 *   'H' u8 format (1), u8 MQTT version, u16 id_len, client id      always the first record
 *   'P' u16 id, u8 qos, the encoded PUBLISH (DUP 0)                 a publish entered the outbox
 *   'S' u16 id    written once          'R' u16 id    PUBREC received (QoS 2)
 *   'Q' u16 id    back to not sent      'D' u16 id    done (acknowledged, refused or dropped)
 *   'I' u16 id, u8 flags (qos | retain << 2), u16 topic_len, topic, u32 props_len, props,
 *       payload                                                     inbound QoS 2 received
 *   'A' u16 id    inbound delivered     'L' u16 id    inbound released (PUBREL)
 *   'C'           every inbound id forgotten (the broker has no session)
 * A 'P' for an id that is still live ends the older entry (the session reuses an id only once
 * it is done, so a 'D' lost to a power failure cannot resurrect it). */
#define _DEFAULT_SOURCE /* flock() */
#include "runtime/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "MQTLSLG1"
#define MAGIC_LEN 8u
#define REC_HDR 8u /* u32 body_len + u32 crc */
#define FORMAT 1u
#define MAX_BODY (64u * 1024u * 1024u) /* larger than any record we write; bounds a bad length */
#define COMPACT_MIN_DEFAULT (1024u * 1024u)
#define STATE_REC_LEN (REC_HDR + 3u) /* 'S', 'R', 'A': type + id */
#define ID_SLOTS 65536u

enum rec_type {
    T_HEADER = 'H',
    T_PUB = 'P',
    T_SENT = 'S',
    T_PUBREC = 'R',
    T_REQUEUED = 'Q',
    T_DONE = 'D',
    T_IN = 'I',
    T_IN_DELIVERED = 'A',
    T_IN_RELEASED = 'L',
    T_IN_CLEARED = 'C'
};

/* Where a live record is in the file. */
typedef struct prec {
    uint64_t off;
    uint32_t len; /* whole record */
    uint16_t id;
    uint8_t qos;
    uint8_t state; /* mqtls__restore_state_t; inbound: 1 = delivered */
    bool live;
} prec_t;

/* The records of one kind (outbound or inbound) in log order, and an index by packet id. */
typedef struct ptable {
    prec_t *v;
    size_t count, cap;
    uint32_t *idx; /* [ID_SLOTS]: 1 + position in v of the live record of that id, 0 none */
} ptable_t;

struct mqtls__persist {
    mqtls__persist_cfg_t cfg;
    char *log_path, *tmp_path, *bad_path;
    int dir_fd, lock_fd, fd;
    uint64_t size, synced;
    bool dirty;
    int64_t dirty_since;
    bool crashed; /* fault injection: the "process" died, no more I/O */
    bool broken;  /* the file could not be made whole again: refuse everything */
    int last_errno;
    char *client_id;
    ptable_t out, in;
    uint64_t live_bytes;
    uint64_t compact_after; /* after a failed compaction: not again before this size */
    unsigned compactions;
    mqtls__persist_fault_fn fault;
    void *fault_ctx;
    uint8_t *scratch;
    size_t scratch_cap;
};

/* --- small helpers ------------------------------------------------------------------------ */

static void put_u16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v & 0xFFu);
    b[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *b, uint32_t v)
{
    for (unsigned i = 0; i < 4u; i++) {
        b[i] = (uint8_t)((v >> (8u * i)) & 0xFFu);
    }
}

static uint16_t get_u16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (unsigned)b[1] << 8);
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The checksum covers the length too, so that a damaged length is caught like a damaged body. */
static uint32_t rec_crc(const uint8_t *rec, uint32_t body_len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, rec, 4u);
    c = crc32(c, rec + REC_HDR, (uInt)body_len);
    return (uint32_t)c;
}

static char *path_of(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1u + strlen(name) + 1u;
    char *p = malloc(n);
    if (p != NULL) {
        (void)snprintf(p, n, "%s/%s", dir, name);
    }
    return p;
}

static mqtls_status_t fail_errno(mqtls_error_t *err, mqtls_status_t st, const char *what,
                                 const char *path)
{
    int e = errno;
    if (err != NULL) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        err->sys_errno = e;
        (void)snprintf(err->detail, sizeof err->detail, "%s %s: %s", what, path, strerror(e));
    }
    return st;
}

static mqtls_status_t fail_detail(mqtls_error_t *err, mqtls_status_t st, const char *detail)
{
    if (err != NULL) {
        err->layer = MQTLS_LAYER_CONFIG;
        err->status = st;
        (void)snprintf(err->detail, sizeof err->detail, "%s", detail);
    }
    return st;
}

static bool scratch_reserve(mqtls__persist_t *p, size_t n)
{
    if (n <= p->scratch_cap) {
        return true;
    }
    size_t cap = p->scratch_cap > 0 ? p->scratch_cap : 256u;
    while (cap < n) {
        cap *= 2u;
    }
    uint8_t *b = realloc(p->scratch, cap);
    if (b == NULL) {
        return false;
    }
    p->scratch = b;
    p->scratch_cap = cap;
    return true;
}

/* --- fault-injectable I/O ----------------------------------------------------------------- */

/* -1: do the step; otherwise crash there (see mqtls__persist_fault_fn). */
static long fault_at(mqtls__persist_t *p, mqtls__pstep_t step, size_t len)
{
    if (p->crashed) {
        return 0;
    }
    long n = p->fault != NULL ? p->fault(p->fault_ctx, step, len) : -1;
    return n;
}

static bool write_all(mqtls__persist_t *p, int fd, const uint8_t *b, size_t len, uint64_t off,
                      mqtls__pstep_t step)
{
    long cut = fault_at(p, step, len);
    size_t want = len;
    if (cut >= 0 || cut <= -2) {
        size_t n = (size_t)(cut >= 0 ? cut : -(cut + 2));
        want = n < len ? n : len;
    }
    size_t done = 0;
    while (done < want) {
        ssize_t r = pwrite(fd, b + done, want - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            p->last_errno = r < 0 ? errno : ENOSPC;
            return false;
        }
        done += (size_t)r;
    }
    if (cut >= 0) {
        p->crashed = true;
        p->last_errno = EIO;
        return false;
    }
    if (cut <= -2) {
        p->last_errno = ENOSPC; /* injected: a full disk */
        return false;
    }
    return true;
}

static int data_sync(int fd)
{
#if defined(__APPLE__)
    return fsync(fd);
#else
    return fdatasync(fd);
#endif
}

static bool sync_fd(mqtls__persist_t *p, int fd, mqtls__pstep_t step)
{
    long f = fault_at(p, step, 0);
    if (f >= 0) {
        p->crashed = true;
    }
    if (f >= 0 || f <= -2) {
        p->last_errno = EIO;
        return false;
    }
    int r = step == MQTLS__PSTEP_DIR_SYNC ? fsync(fd) : data_sync(fd);
    if (r != 0) {
        p->last_errno = errno;
        return false;
    }
    return true;
}

/* --- the tables --------------------------------------------------------------------------- */

static bool table_init(ptable_t *t)
{
    memset(t, 0, sizeof *t);
    t->idx = calloc(ID_SLOTS, sizeof *t->idx);
    return t->idx != NULL;
}

static void table_free(ptable_t *t)
{
    free(t->v);
    free(t->idx);
    memset(t, 0, sizeof *t);
}

static prec_t *table_find(const ptable_t *t, uint16_t id)
{
    uint32_t i = t->idx[id];
    return i != 0 && t->v[i - 1u].live ? &t->v[i - 1u] : NULL;
}

static void table_kill(mqtls__persist_t *p, ptable_t *t, prec_t *r)
{
    r->live = false;
    t->idx[r->id] = 0;
    uint64_t n = r->len + (uint64_t)STATE_REC_LEN;
    p->live_bytes = p->live_bytes > n ? p->live_bytes - n : 0;
}

static bool table_add(mqtls__persist_t *p, ptable_t *t, uint16_t id, uint8_t qos, uint64_t off,
                      uint32_t len)
{
    prec_t *old = table_find(t, id);
    if (old != NULL) {
        table_kill(p, t, old);
    }
    if (t->count == t->cap) {
        size_t cap = t->cap > 0 ? t->cap * 2u : 64u;
        prec_t *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL) {
            return false;
        }
        t->v = v;
        t->cap = cap;
    }
    prec_t *r = &t->v[t->count++];
    memset(r, 0, sizeof *r);
    r->off = off;
    r->len = len;
    r->id = id;
    r->qos = qos;
    r->live = true;
    t->idx[id] = (uint32_t)t->count;
    p->live_bytes += len + (uint64_t)STATE_REC_LEN;
    return true;
}

static void table_kill_all(mqtls__persist_t *p, ptable_t *t)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->v[i].live) {
            table_kill(p, t, &t->v[i]);
        }
    }
}

/* Drop dead records (after a compaction moved the live ones) and index the rest again. */
static void table_pack(ptable_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->v[i].live) {
            t->v[n++] = t->v[i];
        }
    }
    t->count = n;
    memset(t->idx, 0, ID_SLOTS * sizeof *t->idx);
    for (size_t i = 0; i < n; i++) {
        t->idx[t->v[i].id] = (uint32_t)i + 1u;
    }
}

/* --- records ------------------------------------------------------------------------------ */

/* Apply one record (valid checksum) at @p off of the log to the tables.
 * @return MQTLS_OK; MQTLS_ERR_PERSIST_MISMATCH (a record this version does not know);
 *         MQTLS_ERR_NOMEM. */
static mqtls_status_t apply(mqtls__persist_t *p, const uint8_t *body, uint32_t len, uint64_t off)
{
    uint8_t type = body[0];
    uint16_t id = len >= 3u ? get_u16(body + 1) : 0;
    prec_t *r;
    switch (type) {
    case T_PUB:
        if (len < 5u || body[3] == 0 || body[3] > 2u || id == 0) {
            return MQTLS_ERR_PERSIST_MISMATCH;
        }
        return table_add(p, &p->out, id, body[3], off, REC_HDR + len) ? MQTLS_OK : MQTLS_ERR_NOMEM;
    case T_SENT:
    case T_PUBREC:
    case T_REQUEUED:
    case T_DONE:
        if (len != 3u) {
            return MQTLS_ERR_PERSIST_MISMATCH;
        }
        r = table_find(&p->out, id);
        if (r == NULL) {
            return MQTLS_OK; /* already done: a late record of a finished entry */
        }
        if (type == T_DONE) {
            table_kill(p, &p->out, r);
        } else if (type == T_SENT) {
            r->state = r->state == MQTLS__R_NOT_SENT ? (uint8_t)MQTLS__R_SENT : r->state;
        } else {
            r->state = type == T_PUBREC ? (uint8_t)MQTLS__R_PUBREC : (uint8_t)MQTLS__R_NOT_SENT;
        }
        return MQTLS_OK;
    case T_IN:
        if (len < 10u || id == 0) {
            return MQTLS_ERR_PERSIST_MISMATCH;
        }
        return table_add(p, &p->in, id, 2, off, REC_HDR + len) ? MQTLS_OK : MQTLS_ERR_NOMEM;
    case T_IN_DELIVERED:
    case T_IN_RELEASED:
        if (len != 3u) {
            return MQTLS_ERR_PERSIST_MISMATCH;
        }
        r = table_find(&p->in, id);
        if (r != NULL && type == T_IN_RELEASED) {
            table_kill(p, &p->in, r);
        } else if (r != NULL) {
            r->state = 1;
        }
        return MQTLS_OK;
    case T_IN_CLEARED:
        table_kill_all(p, &p->in);
        return MQTLS_OK;
    default:
        return MQTLS_ERR_PERSIST_MISMATCH; /* H again, or a type of a newer format */
    }
}

/* Frame the body at p->scratch + REC_HDR (@p body_len bytes) into a record; @return its length. */
static size_t frame(mqtls__persist_t *p, uint32_t body_len)
{
    put_u32(p->scratch, body_len);
    put_u32(p->scratch + 4, rec_crc(p->scratch, body_len));
    return REC_HDR + body_len;
}

static size_t frame_id(mqtls__persist_t *p, uint8_t type, uint16_t id)
{
    p->scratch[REC_HDR] = type;
    put_u16(p->scratch + REC_HDR + 1u, id);
    return frame(p, 3u);
}

static size_t frame_header(mqtls__persist_t *p)
{
    size_t id_len = strlen(p->client_id);
    uint8_t *b = p->scratch + REC_HDR;
    b[0] = T_HEADER;
    b[1] = FORMAT;
    b[2] = (uint8_t)p->cfg.version;
    put_u16(b + 3, (uint16_t)id_len);
    memcpy(b + 5, p->client_id, id_len);
    return frame(p, (uint32_t)(5u + id_len));
}

/* --- compaction --------------------------------------------------------------------------- */

/* Copy the record @p r of the current log to @p tfd at @p *off (checked on the way). */
static bool copy_record(mqtls__persist_t *p, int tfd, prec_t *r, uint64_t *off)
{
    if (!scratch_reserve(p, r->len)) {
        p->last_errno = ENOMEM;
        return false;
    }
    ssize_t got = pread(p->fd, p->scratch, r->len, (off_t)r->off);
    if (got != (ssize_t)r->len || get_u32(p->scratch) != r->len - REC_HDR ||
        get_u32(p->scratch + 4) != rec_crc(p->scratch, r->len - REC_HDR)) {
        p->last_errno = got < 0 ? errno : EIO;
        return false;
    }
    if (!write_all(p, tfd, p->scratch, r->len, *off, MQTLS__PSTEP_TMP_WRITE)) {
        return false;
    }
    r->off = *off; /* committed by the caller only once the rename is done */
    *off += r->len;
    return true;
}

static bool write_state(mqtls__persist_t *p, int tfd, uint8_t type, uint16_t id, uint64_t *off)
{
    size_t n = frame_id(p, type, id);
    if (!write_all(p, tfd, p->scratch, n, *off, MQTLS__PSTEP_TMP_WRITE)) {
        return false;
    }
    *off += n;
    return true;
}

/* Write the live records to mqtls.log.tmp, sync it, rename it over mqtls.log, sync the
 * directory. A crash before the rename leaves the old log (the tmp file is removed at the next
 * open); after it, the new one; both hold the same live state. */
static mqtls_status_t compact(mqtls__persist_t *p)
{
    int tfd = open(p->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (tfd < 0) {
        p->last_errno = errno;
        return MQTLS_ERR_PERSIST;
    }
    /* Offsets move only when the rename is done: keep the old ones until then. */
    uint64_t *old_out = malloc((p->out.count + 1u) * sizeof *old_out);
    uint64_t *old_in = malloc((p->in.count + 1u) * sizeof *old_in);
    bool ok = old_out != NULL && old_in != NULL;
    for (size_t i = 0; ok && i < p->out.count; i++) {
        old_out[i] = p->out.v[i].off;
    }
    for (size_t i = 0; ok && i < p->in.count; i++) {
        old_in[i] = p->in.v[i].off;
    }
    uint64_t off = 0;
    ok = ok && scratch_reserve(p, REC_HDR + 5u + strlen(p->client_id)) &&
         write_all(p, tfd, (const uint8_t *)MAGIC, MAGIC_LEN, 0, MQTLS__PSTEP_TMP_WRITE);
    off = MAGIC_LEN;
    if (ok) {
        size_t n = frame_header(p);
        ok = write_all(p, tfd, p->scratch, n, off, MQTLS__PSTEP_TMP_WRITE);
        off += n;
    }
    for (size_t i = 0; ok && i < p->out.count; i++) {
        prec_t *r = &p->out.v[i];
        if (!r->live) {
            continue;
        }
        ok = copy_record(p, tfd, r, &off);
        if (ok && r->state != MQTLS__R_NOT_SENT) {
            ok = write_state(p, tfd, r->state == MQTLS__R_PUBREC ? T_PUBREC : T_SENT, r->id, &off);
        }
    }
    for (size_t i = 0; ok && i < p->in.count; i++) {
        prec_t *r = &p->in.v[i];
        if (!r->live) {
            continue;
        }
        ok = copy_record(p, tfd, r, &off);
        if (ok && r->state != 0) {
            ok = write_state(p, tfd, T_IN_DELIVERED, r->id, &off);
        }
    }
    ok = ok && sync_fd(p, tfd, MQTLS__PSTEP_TMP_SYNC);
    if (ok && fault_at(p, MQTLS__PSTEP_RENAME, 0) >= 0) {
        p->crashed = true;
        ok = false;
    }
    if (ok && rename(p->tmp_path, p->log_path) != 0) {
        p->last_errno = errno;
        ok = false;
    }
    if (!ok) {
        /* The old log is whole and in place: go on with it. */
        for (size_t i = 0; old_out != NULL && i < p->out.count; i++) {
            p->out.v[i].off = old_out[i];
        }
        for (size_t i = 0; old_in != NULL && i < p->in.count; i++) {
            p->in.v[i].off = old_in[i];
        }
        free(old_out);
        free(old_in);
        (void)close(tfd);
        if (!p->crashed) {
            (void)unlink(p->tmp_path);
        }
        return MQTLS_ERR_PERSIST;
    }
    free(old_out);
    free(old_in);
    (void)close(p->fd);
    p->fd = tfd;
    p->size = off;
    p->synced = off;
    p->dirty = false;
    p->compactions++;
    table_pack(&p->out);
    table_pack(&p->in);
    /* The rename must survive a power failure before anything is appended to the new file. */
    if (!sync_fd(p, p->dir_fd, MQTLS__PSTEP_DIR_SYNC)) {
        return MQTLS_ERR_PERSIST;
    }
    return MQTLS_OK;
}

static void maybe_compact(mqtls__persist_t *p)
{
    uint64_t min = p->cfg.compact_min_bytes != 0 ? p->cfg.compact_min_bytes : COMPACT_MIN_DEFAULT;
    if (p->size > min && p->size > 2u * p->live_bytes && p->size >= p->compact_after) {
        /* A failed compaction leaves the log as it was; try again only after it grew more
         * (a full disk would otherwise cost a rewrite per record). */
        if (compact(p) != MQTLS_OK) {
            p->compact_after = p->size + min;
        }
    }
}

/* --- open --------------------------------------------------------------------------------- */

static mqtls_status_t read_file(int fd, uint8_t **out, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        return MQTLS_ERR_PERSIST;
    }
    if (!S_ISREG(sb.st_mode)) {
        errno = EINVAL;
        return MQTLS_ERR_PERSIST;
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *b = malloc(n > 0 ? n : 1u);
    if (b == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, b + done, n - done, (off_t)done);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break; /* shrank meanwhile: use what was read */
        }
        done += (size_t)r;
    }
    *out = b;
    *len = done;
    return MQTLS_OK;
}

/* Keep a copy of a cut-off tail for whoever wants to look at it (best effort). */
static void keep_bad_tail(const mqtls__persist_t *p, const uint8_t *b, size_t len)
{
    int fd = open(p->bad_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t r = write(fd, b, len);
        (void)r;
        (void)close(fd);
    }
}

/* Replay the log in @p buf; cut a torn tail. */
static mqtls_status_t replay(mqtls__persist_t *p, const uint8_t *buf, size_t n, mqtls_error_t *err)
{
    if (n > 0 && (n < MAGIC_LEN ? memcmp(buf, MAGIC, n) : memcmp(buf, MAGIC, MAGIC_LEN)) != 0) {
        return fail_detail(err, MQTLS_ERR_PERSIST_MISMATCH,
                           "persistence log is not an mqtls log: refusing to touch it");
    }
    size_t off = MAGIC_LEN;
    size_t good = 0; /* 0 = no header yet: the log starts over */
    while (n >= MAGIC_LEN && off + REC_HDR <= n) {
        uint32_t len = get_u32(buf + off);
        if (len == 0 || len > MAX_BODY || len > n - off - REC_HDR ||
            get_u32(buf + off + 4u) != rec_crc(buf + off, len)) {
            break; /* torn or damaged: the log ends before it */
        }
        const uint8_t *body = buf + off + REC_HDR;
        mqtls_status_t st = MQTLS_OK;
        if (good == 0) {
            if (body[0] != T_HEADER || len < 5u || len != 5u + get_u16(body + 3)) {
                return fail_detail(err, MQTLS_ERR_PERSIST_MISMATCH,
                                   "persistence log has no valid header");
            }
            if (body[1] != FORMAT) {
                return fail_detail(err, MQTLS_ERR_PERSIST_MISMATCH,
                                   "persistence log written by a newer mqtls (format)");
            }
            size_t id_len = get_u16(body + 3);
            p->client_id = malloc(id_len + 1u);
            if (p->client_id == NULL) {
                return MQTLS_ERR_NOMEM;
            }
            memcpy(p->client_id, body + 5, id_len);
            p->client_id[id_len] = '\0';
            if (body[2] != (uint8_t)p->cfg.version) {
                if (err != NULL) {
                    (void)snprintf(err->detail, sizeof err->detail,
                                   "persistence log of client '%.64s' holds packets of another "
                                   "MQTT version",
                                   p->client_id);
                    err->layer = MQTLS_LAYER_CONFIG;
                    err->status = MQTLS_ERR_PERSIST_MISMATCH;
                }
                return MQTLS_ERR_PERSIST_MISMATCH;
            }
        } else {
            st = apply(p, body, len, off);
        }
        if (st == MQTLS_ERR_PERSIST_MISMATCH) {
            return fail_detail(err, st, "persistence log holds a record this mqtls does not know");
        }
        if (st != MQTLS_OK) {
            return st;
        }
        off += REC_HDR + len;
        good = off;
    }
    if (good < n) {
        /* The write a crash interrupted (or damage): cut it, so that what follows is readable. */
        if (good > 0 || n > MAGIC_LEN) {
            keep_bad_tail(p, buf + good, n - good);
        }
        if (ftruncate(p->fd, (off_t)good) != 0) {
            return fail_errno(err, MQTLS_ERR_PERSIST, "cannot cut the torn tail of", p->log_path);
        }
    }
    p->size = good;
    p->synced = good;
    return MQTLS_OK;
}

static void restored_fill(const mqtls__persist_t *p, uint8_t *buf, mqtls__persist_restored_t *r)
{
    for (size_t i = 0; i < p->out.count; i++) {
        const prec_t *x = &p->out.v[i];
        if (!x->live) {
            continue;
        }
        mqtls__persist_pub_t *o = &r->pubs[r->pub_count++];
        o->packet_id = x->id;
        o->qos = x->qos;
        o->state = (mqtls__restore_state_t)x->state;
        o->packet = buf + x->off + REC_HDR + 4u;
        o->len = x->len - REC_HDR - 4u;
    }
    for (size_t i = 0; i < p->in.count; i++) {
        const prec_t *x = &p->in.v[i];
        if (!x->live) {
            continue;
        }
        mqtls__persist_in_t *o = &r->ins[r->in_count++];
        memset(o, 0, sizeof *o);
        o->packet_id = x->id;
        o->delivered = x->state != 0;
        const uint8_t *b = buf + x->off + REC_HDR;
        const uint8_t *end = buf + x->off + x->len;
        size_t tlen = get_u16(b + 4);
        if (b + 6 + tlen + 4u > end || get_u32(b + 6 + tlen) > (size_t)(end - (b + 10 + tlen))) {
            o->delivered = true; /* unreadable: never reported, still never delivered twice */
            continue;
        }
        size_t plen = get_u32(b + 6 + tlen);
        o->message.qos = (uint8_t)(b[3] & 0x03u);
        o->message.retain = (b[3] & 0x04u) != 0;
        o->message.dup = true;
        o->message.packet_id = x->id;
        o->message.topic.data = b + 6;
        o->message.topic.len = tlen;
        o->message.props.raw.data = b + 10 + tlen;
        o->message.props.raw.len = plen;
        o->message.payload.data = b + 10 + tlen + plen;
        o->message.payload.len = (size_t)(end - (b + 10 + tlen + plen));
    }
}

static mqtls_status_t open_files(mqtls__persist_t *p, mqtls_error_t *err)
{
    const char *dir = p->cfg.dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return fail_errno(err, MQTLS_ERR_PERSIST, "cannot create persistence directory", dir);
    }
    p->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->dir_fd < 0) {
        return fail_errno(err, MQTLS_ERR_PERSIST, "cannot open persistence directory", dir);
    }
    char *lock_path = path_of(dir, "lock");
    if (lock_path == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    p->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (p->lock_fd < 0) {
        mqtls_status_t st = fail_errno(err, MQTLS_ERR_PERSIST, "cannot open", lock_path);
        free(lock_path);
        return st;
    }
    if (flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        mqtls_status_t st = errno == EWOULDBLOCK
                                ? fail_errno(err, MQTLS_ERR_PERSIST_LOCKED,
                                             "another client holds the lock", lock_path)
                                : fail_errno(err, MQTLS_ERR_PERSIST, "cannot lock", lock_path);
        free(lock_path);
        return st;
    }
    free(lock_path);
    (void)unlink(p->tmp_path); /* an interrupted compaction: the log itself is whole */
    p->fd = open(p->log_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (p->fd < 0) {
        return fail_errno(err, MQTLS_ERR_PERSIST, "cannot open", p->log_path);
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls__persist_open(const mqtls__persist_cfg_t *cfg, mqtls_error_t *err,
                                   mqtls__persist_t **out, mqtls__persist_restored_t *restored)
{
    if (cfg == NULL || cfg->dir == NULL || cfg->dir[0] == '\0' || out == NULL || restored == NULL) {
        return MQTLS_ERR_INVALID_ARG;
    }
    *out = NULL;
    memset(restored, 0, sizeof *restored);
    mqtls__persist_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    p->cfg = *cfg;
    p->dir_fd = -1;
    p->lock_fd = -1;
    p->fd = -1;
    p->log_path = path_of(cfg->dir, "mqtls.log");
    p->tmp_path = path_of(cfg->dir, "mqtls.log.tmp");
    p->bad_path = path_of(cfg->dir, "mqtls.log.bad");
    uint8_t *buf = NULL;
    size_t n = 0;
    mqtls_status_t st = MQTLS_ERR_NOMEM;
    if (p->log_path != NULL && p->tmp_path != NULL && p->bad_path != NULL && table_init(&p->out) &&
        table_init(&p->in)) {
        st = open_files(p, err);
    }
    if (st == MQTLS_OK) {
        st = read_file(p->fd, &buf, &n);
        if (st == MQTLS_ERR_PERSIST) {
            st = fail_errno(err, st, "cannot read", p->log_path);
        }
    }
    if (st == MQTLS_OK) {
        p->cfg.dir = NULL; /* borrowed: not kept */
        st = replay(p, buf, n, err);
    }
    if (st == MQTLS_OK) {
        size_t np = 0;
        size_t ni = 0;
        for (size_t i = 0; i < p->out.count; i++) {
            np += p->out.v[i].live ? 1u : 0u;
        }
        for (size_t i = 0; i < p->in.count; i++) {
            ni += p->in.v[i].live ? 1u : 0u;
        }
        restored->pubs = calloc(np + 1u, sizeof *restored->pubs);
        restored->ins = calloc(ni + 1u, sizeof *restored->ins);
        if (restored->pubs == NULL || restored->ins == NULL) {
            st = MQTLS_ERR_NOMEM;
        }
    }
    if (st != MQTLS_OK) {
        if (st == MQTLS_ERR_NOMEM && err != NULL && err->status == MQTLS_OK) {
            (void)fail_detail(err, st, "persistence: out of memory");
        }
        free(buf);
        mqtls__persist_restored_free(restored);
        mqtls__persist_close(p);
        return st;
    }
    restored_fill(p, buf, restored);
    restored->buf = buf;
    *out = p;
    return MQTLS_OK;
}

const char *mqtls__persist_client_id(const mqtls__persist_t *p)
{
    return p != NULL ? p->client_id : NULL;
}

mqtls_status_t mqtls__persist_bind(mqtls__persist_t *p, const char *client_id, mqtls_error_t *err)
{
    if (p == NULL || client_id == NULL || strlen(client_id) > 65535u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (p->client_id != NULL) {
        if (strcmp(p->client_id, client_id) == 0) {
            return MQTLS_OK;
        }
        if (err != NULL) {
            err->layer = MQTLS_LAYER_CONFIG;
            err->status = MQTLS_ERR_PERSIST_MISMATCH;
            (void)snprintf(err->detail, sizeof err->detail,
                           "persistence directory belongs to client id '%.40s', not '%.40s'",
                           p->client_id, client_id);
        }
        return MQTLS_ERR_PERSIST_MISMATCH;
    }
    p->client_id = strdup(client_id);
    if (p->client_id == NULL || !scratch_reserve(p, REC_HDR + 5u + strlen(client_id))) {
        return MQTLS_ERR_NOMEM;
    }
    /* A new log: magic and header, synced with the directory entry, whatever the policy. */
    size_t n = frame_header(p);
    if (ftruncate(p->fd, 0) != 0 ||
        !write_all(p, p->fd, (const uint8_t *)MAGIC, MAGIC_LEN, 0, MQTLS__PSTEP_APPEND) ||
        !write_all(p, p->fd, p->scratch, n, MAGIC_LEN, MQTLS__PSTEP_APPEND) ||
        !sync_fd(p, p->fd, MQTLS__PSTEP_SYNC) || !sync_fd(p, p->dir_fd, MQTLS__PSTEP_DIR_SYNC)) {
        errno = p->last_errno != 0 ? p->last_errno : errno;
        return fail_errno(err, MQTLS_ERR_PERSIST, "cannot write", p->log_path);
    }
    p->size = MAGIC_LEN + n;
    p->synced = p->size;
    return MQTLS_OK;
}

void mqtls__persist_restored_free(mqtls__persist_restored_t *r)
{
    if (r == NULL) {
        return;
    }
    free(r->pubs);
    free(r->ins);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* --- writing ------------------------------------------------------------------------------ */

static mqtls_status_t sync_log(mqtls__persist_t *p)
{
    if (!p->dirty) {
        return MQTLS_OK;
    }
    if (!sync_fd(p, p->fd, MQTLS__PSTEP_SYNC)) {
        /* After a failed fdatasync() the kernel may have dropped the pages: nothing written
         * since the last good sync can be trusted any more. */
        p->broken = true;
        return MQTLS_ERR_PERSIST;
    }
    p->synced = p->size;
    p->dirty = false;
    return MQTLS_OK;
}

/* Encode @p op into p->scratch. @return the record length, 0 on NOMEM. */
static size_t encode_op(mqtls__persist_t *p, const mqtls__persist_op_t *op, uint8_t *type)
{
    static const uint8_t types[] = {
        [MQTLS__P_PUB_ADDED] = T_PUB,
        [MQTLS__P_PUB_SENT] = T_SENT,
        [MQTLS__P_PUB_PUBREC] = T_PUBREC,
        [MQTLS__P_PUB_REQUEUED] = T_REQUEUED,
        [MQTLS__P_PUB_DONE] = T_DONE,
        [MQTLS__P_IN_RECEIVED] = T_IN,
        [MQTLS__P_IN_DELIVERED] = T_IN_DELIVERED,
        [MQTLS__P_IN_RELEASED] = T_IN_RELEASED,
        [MQTLS__P_IN_CLEARED] = T_IN_CLEARED,
    };
    *type = types[op->kind];
    if (op->kind == MQTLS__P_PUB_ADDED) {
        if (!scratch_reserve(p, REC_HDR + 4u + op->packet.len)) {
            return 0;
        }
        uint8_t *b = p->scratch + REC_HDR;
        b[0] = T_PUB;
        put_u16(b + 1, op->packet_id);
        b[3] = op->qos;
        memcpy(b + 4, op->packet.data, op->packet.len);
        return frame(p, (uint32_t)(4u + op->packet.len));
    }
    if (op->kind == MQTLS__P_IN_RECEIVED) {
        const mqtls_publish_t *m = op->message;
        size_t n = 10u + m->topic.len + m->props.raw.len + m->payload.len;
        if (!scratch_reserve(p, REC_HDR + n)) {
            return 0;
        }
        uint8_t *b = p->scratch + REC_HDR;
        b[0] = T_IN;
        put_u16(b + 1, op->packet_id);
        b[3] = (uint8_t)((m->qos & 0x03u) | (m->retain ? 0x04u : 0u));
        put_u16(b + 4, (uint16_t)m->topic.len);
        memcpy(b + 6, m->topic.data, m->topic.len);
        put_u32(b + 6 + m->topic.len, (uint32_t)m->props.raw.len);
        if (m->props.raw.len > 0) {
            memcpy(b + 10 + m->topic.len, m->props.raw.data, m->props.raw.len);
        }
        if (m->payload.len > 0) {
            memcpy(b + 10 + m->topic.len + m->props.raw.len, m->payload.data, m->payload.len);
        }
        return frame(p, (uint32_t)n);
    }
    if (!scratch_reserve(p, REC_HDR + 3u)) {
        return 0;
    }
    if (op->kind == MQTLS__P_IN_CLEARED) {
        p->scratch[REC_HDR] = T_IN_CLEARED;
        return frame(p, 1u);
    }
    return frame_id(p, *type, op->packet_id);
}

/* Records a crash before them must not lose: they carry a promise (see session.h). */
static bool is_promise(mqtls__persist_kind_t k)
{
    return k == MQTLS__P_PUB_ADDED || k == MQTLS__P_PUB_PUBREC || k == MQTLS__P_PUB_REQUEUED ||
           k == MQTLS__P_IN_RECEIVED || k == MQTLS__P_IN_RELEASED || k == MQTLS__P_IN_CLEARED;
}

mqtls_status_t mqtls__persist_put(mqtls__persist_t *p, const mqtls__persist_op_t *op,
                                  int64_t now_ms)
{
    if (p == NULL || op == NULL || (unsigned)op->kind > (unsigned)MQTLS__P_IN_CLEARED ||
        (op->kind == MQTLS__P_IN_RECEIVED && op->message == NULL)) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (p->crashed || p->broken || p->client_id == NULL) {
        return MQTLS_ERR_PERSIST;
    }
    uint8_t type = 0;
    size_t n = encode_op(p, op, &type);
    if (n == 0) {
        p->last_errno = ENOMEM;
        return MQTLS_ERR_PERSIST;
    }
    uint64_t off = p->size;
    if (!write_all(p, p->fd, p->scratch, n, off, MQTLS__PSTEP_APPEND)) {
        /* Cut what was written of it, so that later records are not lost behind it. */
        if (!p->crashed && ftruncate(p->fd, (off_t)off) != 0) {
            p->broken = true;
        }
        return MQTLS_ERR_PERSIST;
    }
    p->size += n;
    if (!p->dirty) {
        p->dirty = true;
        p->dirty_since = now_ms;
    }
    mqtls_status_t st = apply(p, p->scratch + REC_HDR, (uint32_t)(n - REC_HDR), off);
    if (st != MQTLS_OK) {
        p->last_errno = ENOMEM;
        p->broken = true; /* the tables no longer follow the file */
        return MQTLS_ERR_PERSIST;
    }
    if (p->cfg.sync == MQTLS_PERSIST_SYNC_EVERY && is_promise(op->kind)) {
        st = sync_log(p);
        if (st != MQTLS_OK) {
            /* The caller is told "not recorded": take the record back out (best effort), so
             * that a publish refused now is not sent by the next process. */
            if (!p->crashed && ftruncate(p->fd, (off_t)off) == 0) {
                p->size = off;
            }
            return st;
        }
    }
    maybe_compact(p);
    return MQTLS_OK;
}

int64_t mqtls__persist_deadline(const mqtls__persist_t *p)
{
    if (p == NULL || !p->dirty || p->crashed || p->broken ||
        p->cfg.sync != MQTLS_PERSIST_SYNC_BATCH) {
        return INT64_MAX;
    }
    return p->dirty_since + (int64_t)(p->cfg.sync_ms != 0 ? p->cfg.sync_ms : 100u);
}

void mqtls__persist_tick(mqtls__persist_t *p, int64_t now_ms)
{
    if (p != NULL && now_ms >= mqtls__persist_deadline(p)) {
        (void)sync_log(p);
    }
}

void mqtls__persist_close(mqtls__persist_t *p)
{
    if (p == NULL) {
        return;
    }
    if (!p->crashed && !p->broken && p->fd >= 0 && p->cfg.sync != MQTLS_PERSIST_SYNC_NONE) {
        (void)sync_log(p);
    }
    if (p->fd >= 0) {
        (void)close(p->fd);
    }
    if (p->lock_fd >= 0) {
        (void)close(p->lock_fd); /* releases the flock */
    }
    if (p->dir_fd >= 0) {
        (void)close(p->dir_fd);
    }
    table_free(&p->out);
    table_free(&p->in);
    free(p->scratch);
    free(p->client_id);
    free(p->log_path);
    free(p->tmp_path);
    free(p->bad_path);
    free(p);
}

int mqtls__persist_errno(const mqtls__persist_t *p)
{
    return p != NULL ? p->last_errno : 0;
}

void mqtls__persist_set_fault(mqtls__persist_t *p, mqtls__persist_fault_fn fn, void *ctx)
{
    p->fault = fn;
    p->fault_ctx = ctx;
}

uint64_t mqtls__persist_synced_size(const mqtls__persist_t *p)
{
    return p->synced;
}

uint64_t mqtls__persist_size(const mqtls__persist_t *p)
{
    return p->size;
}

unsigned mqtls__persist_compactions(const mqtls__persist_t *p)
{
    return p->compactions;
}
