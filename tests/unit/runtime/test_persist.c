/* The persistence log (src/runtime/persist.c) on a real temporary directory: round trip, torn
 * tails cut at every byte, damaged checksums, foreign files, the lock, client id and version
 * checks, compaction, fsync policies (what a power failure keeps), and a crash injected at every
 * I/O step of a scenario with compactions: after each, the log opens to the state before or
 * after the interrupted operation, never anything else, and takes new records. Through the
 * client (no broker): the rules of mqtls_client_create() with a persistence_dir, the outbox
 * and client id restored, a message in doubt reported once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/persist.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char g_dir[64];
static char g_log[96];

static int setup_dir(void **state)
{
    (void)state;
    /* tmpfs when there is one: the crash test does thousands of fdatasync() calls, which
     * prove nothing more on a disk (a crash is simulated, not a power failure). */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    (void)snprintf(g_dir, sizeof g_dir, "%s/mqtls-persist-XXXXXX", base);
    assert_non_null(mkdtemp(g_dir));
    (void)snprintf(g_log, sizeof g_log, "%s/mqtls.log", g_dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    static const char *const names[] = {"mqtls.log", "mqtls.log.tmp", "mqtls.log.bad", "lock"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        char p[128];
        (void)snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        (void)unlink(p);
    }
    (void)rmdir(g_dir);
    return 0;
}

/* --- a model of what the log must hold ---------------------------------------------------- */

typedef struct model_pub {
    uint16_t id;
    uint8_t qos;
    mqtls__restore_state_t state;
    uint8_t payload; /* the packet is 3 + payload bytes, each equal to payload */
} model_pub_t;

typedef struct model {
    model_pub_t pub[64];
    size_t pub_count;
    uint16_t in[32];
    bool in_delivered[32];
    size_t in_count;
} model_t;

static void model_apply(model_t *m, const mqtls__persist_op_t *op, uint8_t payload)
{
    if (op->kind == MQTLS__P_PUB_ADDED || op->kind == MQTLS__P_IN_RECEIVED) {
        /* A new entry for a live id ends the older one (persist.c). */
        mqtls__persist_op_t end = *op;
        end.kind = op->kind == MQTLS__P_PUB_ADDED ? MQTLS__P_PUB_DONE : MQTLS__P_IN_RELEASED;
        model_apply(m, &end, 0);
    }
    switch (op->kind) {
    case MQTLS__P_PUB_ADDED:
        m->pub[m->pub_count++] = (model_pub_t){op->packet_id, op->qos, MQTLS__R_NOT_SENT, payload};
        return;
    case MQTLS__P_IN_RECEIVED:
        m->in_delivered[m->in_count] = false;
        m->in[m->in_count++] = op->packet_id;
        return;
    case MQTLS__P_IN_CLEARED:
        m->in_count = 0;
        return;
    default:
        break;
    }
    for (size_t i = 0; i < m->pub_count; i++) {
        model_pub_t *x = &m->pub[i];
        if (x->id != op->packet_id) {
            continue;
        }
        if (op->kind == MQTLS__P_PUB_SENT && x->state == MQTLS__R_NOT_SENT) {
            x->state = MQTLS__R_SENT;
        } else if (op->kind == MQTLS__P_PUB_PUBREC) {
            x->state = MQTLS__R_PUBREC;
        } else if (op->kind == MQTLS__P_PUB_REQUEUED) {
            x->state = MQTLS__R_NOT_SENT;
        } else if (op->kind == MQTLS__P_PUB_DONE) {
            memmove(x, x + 1, (m->pub_count - i - 1u) * sizeof *x);
            m->pub_count--;
        }
        return;
    }
    for (size_t i = 0; i < m->in_count; i++) {
        if (m->in[i] != op->packet_id) {
            continue;
        }
        if (op->kind == MQTLS__P_IN_DELIVERED) {
            m->in_delivered[i] = true;
        } else if (op->kind == MQTLS__P_IN_RELEASED) {
            memmove(&m->in[i], &m->in[i + 1u], (m->in_count - i - 1u) * sizeof m->in[0]);
            memmove(&m->in_delivered[i], &m->in_delivered[i + 1u],
                    (m->in_count - i - 1u) * sizeof m->in_delivered[0]);
            m->in_count--;
        }
        return;
    }
}

static bool model_equals(const model_t *m, const mqtls__persist_restored_t *r)
{
    if (r->pub_count != m->pub_count || r->in_count != m->in_count) {
        return false;
    }
    for (size_t i = 0; i < m->pub_count; i++) {
        const mqtls__persist_pub_t *p = &r->pubs[i];
        const model_pub_t *x = &m->pub[i];
        if (p->packet_id != x->id || p->qos != x->qos || p->state != x->state ||
            p->len != 3u + x->payload) {
            return false;
        }
        for (size_t k = 0; k < p->len; k++) {
            if (p->packet[k] != (k < 3u ? (uint8_t)0x30 : x->payload)) {
                return false;
            }
        }
    }
    for (size_t i = 0; i < m->in_count; i++) {
        const mqtls__persist_in_t *in = &r->ins[i];
        if (in->packet_id != m->in[i] || in->delivered != m->in_delivered[i]) {
            return false;
        }
        if (!in->delivered &&
            (in->message.topic.len != 5u || memcmp(in->message.topic.data, "t/in/", 5) != 0 ||
             in->message.payload.len != m->in[i] % 50u)) {
            return false;
        }
    }
    return true;
}

/* --- helpers ------------------------------------------------------------------------------ */

static uint8_t g_pkt[512];
static mqtls_publish_t g_msg;
static uint8_t g_msg_payload[64];

static mqtls__persist_op_t op_added(uint16_t id, uint8_t qos, uint8_t payload)
{
    memset(g_pkt, payload, sizeof g_pkt);
    memset(g_pkt, 0x30, 3);
    mqtls__persist_op_t op = {.kind = MQTLS__P_PUB_ADDED, .packet_id = id, .qos = qos};
    op.packet.data = g_pkt;
    op.packet.len = 3u + payload;
    return op;
}

static mqtls__persist_op_t op_id(mqtls__persist_kind_t kind, uint16_t id)
{
    mqtls__persist_op_t op = {.kind = kind, .packet_id = id, .qos = 2};
    return op;
}

static mqtls__persist_op_t op_in(uint16_t id)
{
    memset(&g_msg, 0, sizeof g_msg);
    g_msg.qos = 2;
    g_msg.topic.data = (const uint8_t *)"t/in/";
    g_msg.topic.len = 5;
    memset(g_msg_payload, 'x', sizeof g_msg_payload);
    g_msg.payload.data = g_msg_payload;
    g_msg.payload.len = id % 50u;
    mqtls__persist_op_t op = {.kind = MQTLS__P_IN_RECEIVED, .packet_id = id, .qos = 2};
    op.message = &g_msg;
    return op;
}

static mqtls__persist_cfg_t cfg_of(mqtls_persist_sync_t sync, size_t compact_min)
{
    mqtls__persist_cfg_t c = {.dir = g_dir,
                              .sync = sync,
                              .sync_ms = 100,
                              .version = MQTLS_V311,
                              .compact_min_bytes = compact_min};
    return c;
}

static mqtls__persist_t *open_ok(const mqtls__persist_cfg_t *cfg, mqtls__persist_restored_t *r)
{
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__persist_t *p = NULL;
    mqtls_status_t st = mqtls__persist_open(cfg, &err, &p, r);
    if (st != MQTLS_OK) {
        print_error("open: %s: %s\n", mqtls_status_name(st), err.detail);
    }
    assert_int_equal(st, MQTLS_OK);
    assert_int_equal(mqtls__persist_bind(p, "client-1", &err), MQTLS_OK);
    return p;
}

/* Open the directory when what it holds does not matter to the test. */
static mqtls__persist_t *open_plain(mqtls_persist_sync_t sync, size_t compact_min)
{
    mqtls__persist_cfg_t cfg = cfg_of(sync, compact_min);
    mqtls__persist_restored_t r;
    mqtls__persist_t *p = open_ok(&cfg, &r);
    mqtls__persist_restored_free(&r);
    return p;
}

static void put_ok(mqtls__persist_t *p, mqtls__persist_op_t op, model_t *m, uint8_t payload)
{
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_OK);
    if (m != NULL) {
        model_apply(m, &op, payload);
    }
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void truncate_to(const char *path, long len)
{
    assert_int_equal(truncate(path, (off_t)len), 0);
}

static void reopen_expect(const model_t *m)
{
    mqtls__persist_cfg_t cfg = cfg_of(MQTLS_PERSIST_SYNC_NONE, 0);
    mqtls__persist_restored_t r;
    mqtls__persist_t *p = open_ok(&cfg, &r);
    assert_true(model_equals(m, &r));
    mqtls__persist_restored_free(&r);
    mqtls__persist_close(p);
}

/* A small log: three publishes in three states, one done, two inbound ids. */
static void write_sample(model_t *m, mqtls_persist_sync_t sync)
{
    mqtls__persist_cfg_t cfg = cfg_of(sync, 0);
    mqtls__persist_restored_t r;
    mqtls__persist_t *p = open_ok(&cfg, &r);
    assert_int_equal(r.pub_count + r.in_count, 0);
    mqtls__persist_restored_free(&r);
    put_ok(p, op_added(1, 1, 10), m, 10);
    put_ok(p, op_added(2, 2, 20), m, 20);
    put_ok(p, op_added(3, 2, 30), m, 30);
    put_ok(p, op_added(4, 1, 40), m, 40);
    put_ok(p, op_id(MQTLS__P_PUB_SENT, 1), m, 0);
    put_ok(p, op_id(MQTLS__P_PUB_PUBREC, 2), m, 0);
    put_ok(p, op_id(MQTLS__P_PUB_DONE, 3), m, 0);
    put_ok(p, op_in(7), m, 0);
    put_ok(p, op_id(MQTLS__P_IN_DELIVERED, 7), m, 0);
    put_ok(p, op_in(8), m, 0);
    mqtls__persist_close(p);
}

/* --- tests -------------------------------------------------------------------------------- */

static void test_persist_reopen_restores_every_live_entry(void **state)
{
    (void)state;
    model_t m = {0};
    write_sample(&m, MQTLS_PERSIST_SYNC_EVERY);
    mqtls__persist_cfg_t cfg = cfg_of(MQTLS_PERSIST_SYNC_EVERY, 0);
    mqtls__persist_restored_t r;
    mqtls_error_t err;
    mqtls__persist_t *p = NULL;
    assert_int_equal(mqtls__persist_open(&cfg, &err, &p, &r), MQTLS_OK);
    assert_string_equal(mqtls__persist_client_id(p), "client-1");
    assert_true(model_equals(&m, &r));
    assert_int_equal(r.pub_count, 3);
    assert_int_equal(r.pubs[0].state, MQTLS__R_SENT);
    assert_int_equal(r.pubs[1].state, MQTLS__R_PUBREC);
    assert_int_equal(r.pubs[2].state, MQTLS__R_NOT_SENT);
    assert_true(r.ins[0].delivered);
    assert_false(r.ins[1].delivered); /* in doubt: the message is there to report */
    assert_true(r.ins[1].message.dup);
    mqtls__persist_restored_free(&r);
    /* Released and cleared inbound ids are gone after the next open. */
    put_ok(p, op_id(MQTLS__P_IN_RELEASED, 7), &m, 0);
    mqtls__persist_close(p);
    reopen_expect(&m);
}

static void test_persist_torn_tail_at_every_byte_is_cut(void **state)
{
    (void)state;
    model_t full = {0};
    write_sample(&full, MQTLS_PERSIST_SYNC_NONE);
    long size = file_size(g_log);
    assert_true(size > 0);
    uint8_t *copy = malloc(size > 0 ? (size_t)size : 1u);
    FILE *f = fopen(g_log, "rb");
    assert_non_null(f);
    assert_int_equal(fread(copy, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    /* Without its last record (in 8 of the sample) the state is this: */
    model_t before = full;
    before.in_count--;
    const size_t last_len = 8u + 10u + 5u + 8u; /* header, fixed fields, topic, payload 8 */
    for (long cut = size - (long)last_len; cut < size; cut++) {
        f = fopen(g_log, "wb");
        assert_int_equal(fwrite(copy, 1, (size_t)cut, f), (size_t)cut);
        fclose(f);
        reopen_expect(&before);
        assert_int_equal(file_size(g_log), size - (long)last_len); /* the tail was cut */
    }
    /* A cut record is followed by new ones that the next open reads. */
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_NONE, 0);
    put_ok(p, op_added(9, 1, 9), &before, 9);
    mqtls__persist_close(p);
    reopen_expect(&before);
    free(copy);
}

static void test_persist_bad_checksum_ends_the_log_there(void **state)
{
    (void)state;
    model_t full = {0};
    write_sample(&full, MQTLS_PERSIST_SYNC_NONE);
    /* Damage one byte of the 4th publish (id 4: payload bytes 40): the replay stops before it,
     * so the records after it are not applied; the damaged rest is kept aside. */
    long size = file_size(g_log);
    assert_true(size > 0);
    uint8_t *b = malloc(size > 0 ? (size_t)size : 1u);
    FILE *f = fopen(g_log, "r+b");
    assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
    long at = -1;
    for (long i = 0; i + 40 < size && at < 0; i++) {
        bool run = true;
        for (long k = 0; k < 40 && run; k++) {
            run = b[i + k] == 40;
        }
        at = run ? i + 20 : -1;
    }
    assert_true(at > 0);
    b[at] ^= 0xFFu;
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fwrite(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    free(b);
    model_t m = {0};
    m.pub[0] = (model_pub_t){1, 1, MQTLS__R_NOT_SENT, 10};
    m.pub[1] = (model_pub_t){2, 2, MQTLS__R_NOT_SENT, 20};
    m.pub[2] = (model_pub_t){3, 2, MQTLS__R_NOT_SENT, 30};
    m.pub_count = 3;
    reopen_expect(&m);
    char bad[128];
    (void)snprintf(bad, sizeof bad, "%s/mqtls.log.bad", g_dir);
    assert_true(file_size(bad) > 0);
}

static void test_persist_refuses_a_foreign_file(void **state)
{
    (void)state;
    FILE *f = fopen(g_log, "wb");
    fputs("this is the user's own file\n", f);
    fclose(f);
    mqtls__persist_cfg_t cfg = cfg_of(MQTLS_PERSIST_SYNC_EVERY, 0);
    mqtls__persist_restored_t r;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__persist_t *p = NULL;
    assert_int_equal(mqtls__persist_open(&cfg, &err, &p, &r), MQTLS_ERR_PERSIST_MISMATCH);
    assert_null(p);
    assert_int_equal(file_size(g_log), 28); /* untouched */
}

static void test_persist_lock_client_id_and_version(void **state)
{
    (void)state;
    model_t m = {0};
    write_sample(&m, MQTLS_PERSIST_SYNC_EVERY);
    mqtls__persist_cfg_t cfg = cfg_of(MQTLS_PERSIST_SYNC_EVERY, 0);
    mqtls__persist_restored_t r;
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_EVERY, 0);
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__persist_t *q = NULL;
    assert_int_equal(mqtls__persist_open(&cfg, &err, &q, &r), MQTLS_ERR_PERSIST_LOCKED);
    assert_null(q);
    assert_int_equal(mqtls__persist_bind(p, "client-2", &err), MQTLS_ERR_PERSIST_MISMATCH);
    assert_non_null(strstr(err.detail, "client-1"));
    mqtls__persist_close(p);
    cfg.version = MQTLS_V5;
    mqtls_error_init(&err);
    assert_int_equal(mqtls__persist_open(&cfg, &err, &q, &r), MQTLS_ERR_PERSIST_MISMATCH);
    assert_non_null(strstr(err.detail, "MQTT version"));
}

static void test_persist_compaction_bounds_the_file(void **state)
{
    (void)state;
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_BATCH, 4096);
    model_t m = {0};
    /* 10 messages stay live, 2000 pass through. */
    for (uint16_t id = 1; id <= 10; id++) {
        put_ok(p, op_added(id, 2, (uint8_t)(id + 100u)), &m, (uint8_t)(id + 100u));
    }
    put_ok(p, op_id(MQTLS__P_PUB_PUBREC, 3), &m, 0);
    put_ok(p, op_in(11), &m, 0);
    for (uint16_t k = 0; k < 2000; k++) {
        uint16_t id = (uint16_t)(100u + k % 500u);
        put_ok(p, op_added(id, 1, 50), &m, 50);
        put_ok(p, op_id(MQTLS__P_PUB_SENT, id), &m, 0);
        put_ok(p, op_id(MQTLS__P_PUB_DONE, id), &m, 0);
    }
    assert_true(mqtls__persist_compactions(p) > 10);
    assert_true(file_size(g_log) < 8192);
    assert_true(mqtls__persist_size(p) == (uint64_t)file_size(g_log));
    mqtls__persist_close(p);
    reopen_expect(&m);
}

static void test_persist_sync_policies_and_power_loss(void **state)
{
    (void)state;
    /* every: each promise is on the disk when put() returns; a power failure (the file cut to
     * what was synced) keeps every publish handed over. */
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_EVERY, 0);
    model_t m = {0};
    put_ok(p, op_added(1, 1, 10), &m, 10);
    assert_true(mqtls__persist_synced_size(p) == mqtls__persist_size(p));
    put_ok(p, op_id(MQTLS__P_PUB_SENT, 1), &m, 0); /* lazy: rides on the next sync */
    assert_true(mqtls__persist_synced_size(p) < mqtls__persist_size(p));
    put_ok(p, op_added(2, 2, 20), &m, 20);
    assert_true(mqtls__persist_synced_size(p) == mqtls__persist_size(p));
    put_ok(p, op_in(5), &m, 0);
    assert_true(mqtls__persist_synced_size(p) == mqtls__persist_size(p));
    assert_int_equal(mqtls__persist_deadline(p), INT64_MAX);
    long synced = (long)mqtls__persist_synced_size(p);
    put_ok(p, op_id(MQTLS__P_IN_DELIVERED, 5), NULL, 0); /* lost to the "power failure" */
    mqtls__persist_close(p);
    truncate_to(g_log, synced);
    reopen_expect(&m); /* 5 is in doubt again: never delivered twice */
    remove_dir(NULL);
    setup_dir(NULL);

    /* batch: synced at most sync_ms after the first unsynced record. */
    p = open_plain(MQTLS_PERSIST_SYNC_BATCH, 0);
    mqtls__persist_op_t op = op_added(1, 1, 10);
    assert_int_equal(mqtls__persist_put(p, &op, 5000), MQTLS_OK);
    assert_true(mqtls__persist_synced_size(p) < mqtls__persist_size(p));
    assert_int_equal(mqtls__persist_deadline(p), 5100);
    mqtls__persist_tick(p, 5099);
    assert_true(mqtls__persist_synced_size(p) < mqtls__persist_size(p));
    mqtls__persist_tick(p, 5100);
    assert_true(mqtls__persist_synced_size(p) == mqtls__persist_size(p));
    assert_int_equal(mqtls__persist_deadline(p), INT64_MAX);
    mqtls__persist_close(p);
    remove_dir(NULL);
    setup_dir(NULL);

    /* none: never synced by put or tick (the header of a new log is). */
    p = open_plain(MQTLS_PERSIST_SYNC_NONE, 0);
    uint64_t at_start = mqtls__persist_synced_size(p);
    assert_int_equal(mqtls__persist_put(p, &op, 5000), MQTLS_OK);
    mqtls__persist_tick(p, 1000000);
    assert_int_equal(mqtls__persist_deadline(p), INT64_MAX);
    assert_true(mqtls__persist_synced_size(p) == at_start);
    mqtls__persist_close(p);
}

/* Fail the append number g_fail_at (writing g_fail_cut bytes of it) or the sync number
 * g_fail_at, as a full disk would: the store goes on. */
static long g_fail_at;
static long g_fail_cut;
static mqtls__pstep_t g_fail_step;
static long g_fail_seen;

static long io_error_fault(void *ctx, mqtls__pstep_t step, size_t len)
{
    (void)ctx;
    (void)len;
    if (step != g_fail_step || g_fail_seen++ != g_fail_at) {
        return -1;
    }
    return -(g_fail_cut + 2);
}

static void test_persist_write_error_is_cut_and_later_records_kept(void **state)
{
    (void)state;
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_NONE, 0);
    model_t m = {0};
    put_ok(p, op_added(1, 1, 10), &m, 10);
    g_fail_step = MQTLS__PSTEP_APPEND;
    g_fail_at = 0;
    g_fail_cut = 7; /* 7 bytes of the record reach the file, then ENOSPC */
    g_fail_seen = 0;
    mqtls__persist_set_fault(p, io_error_fault, NULL);
    mqtls__persist_op_t op = op_added(2, 1, 20);
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_ERR_PERSIST);
    assert_int_equal(mqtls__persist_errno(p), ENOSPC);
    /* The partial record was cut: the next one is readable after it. */
    put_ok(p, op_added(3, 2, 30), &m, 30);
    mqtls__persist_close(p);
    reopen_expect(&m);

    /* A failed fdatasync: nothing since the last good sync can be trusted; the store refuses
     * from then on (a publish would be refused, not silently unsafe). */
    p = open_plain(MQTLS_PERSIST_SYNC_EVERY, 0);
    g_fail_step = MQTLS__PSTEP_SYNC;
    g_fail_at = 0;
    g_fail_seen = 0;
    mqtls__persist_set_fault(p, io_error_fault, NULL);
    op = op_added(4, 1, 40);
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_ERR_PERSIST);
    op = op_added(5, 1, 50);
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_ERR_PERSIST);
    mqtls__persist_close(p);
    reopen_expect(&m); /* neither refused publish is in the log */
}

/* --- crash injection ---------------------------------------------------------------------- */

#define MAX_STEPS 4096

typedef struct crash_plan {
    long at;    /* crash at this step (0-based); -1 = never */
    long cut;   /* bytes a crashed write step still writes; -1 = half */
    long steps; /* steps seen */
    bool is_write[MAX_STEPS];
} crash_plan_t;

static long crash_fault(void *ctx, mqtls__pstep_t step, size_t len)
{
    crash_plan_t *c = ctx;
    long k = c->steps++;
    if (k < MAX_STEPS) {
        c->is_write[k] = step == MQTLS__PSTEP_APPEND || step == MQTLS__PSTEP_TMP_WRITE;
    }
    if (k != c->at) {
        return -1;
    }
    return c->cut < 0 ? (long)len / 2 : (c->cut < (long)len ? c->cut : (long)len);
}

#define SCENARIO_OPS 160

/* The operation @p k of the scenario: publishes coming and going, QoS 2 flows, inbound ids,
 * enough records to compact several times with a 2 KiB threshold. */
static mqtls__persist_op_t scenario_op(unsigned k, uint8_t *payload)
{
    uint16_t id = (uint16_t)(1u + (k / 4u) % 40u);
    *payload = (uint8_t)(k % 60u);
    switch (k % 8u) {
    case 0:
    case 4:
        return op_added(id, (uint8_t)(1u + k % 2u), *payload);
    case 1:
        return op_id(MQTLS__P_PUB_SENT, id);
    case 2:
        return k % 3u == 0 ? op_in((uint16_t)(200u + k % 17u))
                           : op_id(MQTLS__P_IN_RELEASED, (uint16_t)(200u + k % 17u));
    case 3:
        return op_id(MQTLS__P_PUB_DONE, id);
    case 5:
        return op_id(MQTLS__P_PUB_PUBREC, id);
    case 6:
        return k % 40u == 6 ? op_id(MQTLS__P_IN_CLEARED, 0)
                            : op_id(MQTLS__P_IN_DELIVERED, (uint16_t)(200u + k % 17u));
    default:
        return k % 16u == 7 ? op_id(MQTLS__P_PUB_REQUEUED, id) : op_id(MQTLS__P_PUB_DONE, id);
    }
}

/* Run the scenario with a crash at step @p at (cutting a write at @p cut bytes); @return the
 * steps seen, and in @p before / @p after the model before and after the interrupted op. */
static crash_plan_t g_plan;

static long run_scenario(long at, long cut, model_t *before, model_t *after)
{
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_EVERY, 1024);
    crash_plan_t *plan = &g_plan;
    memset(plan, 0, sizeof *plan);
    plan->at = at;
    plan->cut = cut;
    mqtls__persist_set_fault(p, crash_fault, plan);
    memset(before, 0, sizeof *before);
    for (unsigned k = 0; k < SCENARIO_OPS; k++) {
        uint8_t payload = 0;
        mqtls__persist_op_t op = scenario_op(k, &payload);
        *after = *before;
        model_apply(after, &op, payload);
        if (mqtls__persist_put(p, &op, 1000) != MQTLS_OK) {
            break; /* the crash */
        }
        *before = *after;
    }
    assert_true(mqtls__persist_compactions(p) >= (at < 0 ? 3u : 0u));
    mqtls__persist_close(p); /* after a crash: frees memory only */
    return plan->steps;
}

static void test_persist_crash_at_every_step_keeps_a_whole_state(void **state)
{
    (void)state;
    model_t before;
    model_t after;
    long steps = run_scenario(-1, 0, &before, &after);
    reopen_expect(&before);
    assert_true(steps > SCENARIO_OPS && steps <= MAX_STEPS);
    static bool is_write[MAX_STEPS];
    memcpy(is_write, g_plan.is_write, sizeof is_write);
    static const long cuts[] = {0, 1, -1 /* half */, 1000000 /* all of it */};
    size_t runs = 0;
    for (long at = 0; at < steps; at++) {
        /* a write is cut at several lengths; a sync, rename or directory sync is just not done */
        size_t ncuts = is_write[at] ? ARRAY_LEN(cuts) : 1u;
        for (size_t c = 0; c < ncuts; c++) {
            remove_dir(NULL);
            setup_dir(NULL);
            (void)run_scenario(at, cuts[c], &before, &after);
            mqtls__persist_cfg_t cfg = cfg_of(MQTLS_PERSIST_SYNC_EVERY, 2048);
            mqtls__persist_restored_t r;
            mqtls__persist_t *p = open_ok(&cfg, &r);
            bool ok = model_equals(&before, &r) || model_equals(&after, &r);
            if (!ok) {
                print_error("crash at step %ld (cut %ld): restored state is neither before nor "
                            "after the interrupted operation\n",
                            at, cuts[c]);
            }
            assert_true(ok);
            model_t next = model_equals(&after, &r) ? after : before;
            mqtls__persist_restored_free(&r);
            /* The log takes new records after the crash, and keeps them. */
            mqtls__persist_op_t op = op_added(999, 1, 7);
            assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_OK);
            model_apply(&next, &op, 7);
            mqtls__persist_close(p);
            reopen_expect(&next);
            runs++;
        }
    }
    print_message("crash points tried: %zu (%ld I/O steps of %d operations)\n", runs, steps,
                  SCENARIO_OPS);
}

/* --- through the client ------------------------------------------------------------------ */

static int g_doubts;
static char g_doubt_payload[64];

static void on_client_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    (void)ctx;
    if (ev->type == MQTLS_EVENT_MESSAGE_IN_DOUBT) {
        g_doubts++;
        size_t n = ev->u.message.payload.len < sizeof g_doubt_payload - 1u
                       ? ev->u.message.payload.len
                       : sizeof g_doubt_payload - 1u;
        memcpy(g_doubt_payload, ev->u.message.payload.data, n);
        g_doubt_payload[n] = '\0';
        assert_true(ev->u.message.dup);
        assert_int_equal(ev->u.message.packet_id, 42);
    }
}

static mqtls_status_t create_client(mqtls_client_cfg_t *cfg, mqtls_client_t **c, mqtls_error_t *err)
{
    cfg->uri = "mqtt://127.0.0.1:1"; /* never connected */
    cfg->persistence_dir = g_dir;
    cfg->on_event = on_client_event;
    mqtls_error_init(err);
    return mqtls_client_create(cfg, err, c);
}

static void test_client_persistence_rules_restore_and_in_doubt(void **state)
{
    (void)state;
    mqtls_client_cfg_t cfg;
    mqtls_client_t *c = NULL;
    mqtls_error_t err;
    /* A clean session would throw away what the directory keeps: refused. */
    mqtls_client_cfg_init(&cfg);
    assert_int_equal(create_client(&cfg, &c, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "clean_start"));
    mqtls_client_cfg_init(&cfg);
    cfg.clean_start = false;
    cfg.version = MQTLS_V5; /* session expiry 0: the broker ends the session at disconnect */
    assert_int_equal(create_client(&cfg, &c, &err), MQTLS_ERR_INVALID_ARG);
    assert_non_null(strstr(err.detail, "session_expiry_s"));

    /* A log holding one publish and one QoS 2 message whose delivery did not finish. */
    mqtls__persist_t *p = open_plain(MQTLS_PERSIST_SYNC_EVERY, 0);
    mqtls_packet_t pk;
    memset(&pk, 0, sizeof pk);
    pk.type = MQTLS_PUBLISH;
    pk.u.publish.topic.data = (const uint8_t *)"a/b";
    pk.u.publish.topic.len = 3;
    pk.u.publish.qos = 1;
    pk.u.publish.packet_id = 3;
    size_t n = 0;
    assert_int_equal(mqtls_packet_encode(&pk, MQTLS_V311, g_pkt, sizeof g_pkt, &n), MQTLS_OK);
    mqtls__persist_op_t op = {.kind = MQTLS__P_PUB_ADDED, .packet_id = 3, .qos = 1};
    op.packet.data = g_pkt;
    op.packet.len = n;
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_OK);
    op = op_in(42);
    assert_int_equal(mqtls__persist_put(p, &op, 1000), MQTLS_OK);
    mqtls__persist_close(p);

    /* The client id comes from the directory; the publish is back in the outbox; the message
     * in doubt is reported once, by the first step. */
    mqtls_client_cfg_init(&cfg);
    cfg.clean_start = false;
    g_doubts = 0;
    assert_int_equal(create_client(&cfg, &c, &err), MQTLS_OK);
    assert_string_equal(mqtls_client_id(c), "client-1");
    assert_int_equal(mqtls_client_outbox_count(c), 1);
    mqtls_client_t *second = NULL;
    assert_int_equal(create_client(&cfg, &second, &err), MQTLS_ERR_PERSIST_LOCKED);
    assert_int_equal(mqtls_client_timeout_ms(c), 0); /* the report is due now */
    assert_int_equal(g_doubts, 0);
    assert_int_equal(mqtls_client_step(c, 0), MQTLS_OK);
    assert_int_equal(g_doubts, 1);
    assert_int_equal(strlen(g_doubt_payload), 42u % 50u);
    assert_int_equal(mqtls_client_step(c, 0), MQTLS_OK);
    assert_int_equal(g_doubts, 1);
    mqtls_client_destroy(c);
    assert_int_equal(create_client(&cfg, &c, &err), MQTLS_OK);
    assert_int_equal(mqtls_client_step(c, 0), MQTLS_OK);
    assert_int_equal(g_doubts, 1); /* not again in the next process either */
    mqtls_client_destroy(c);
    cfg.client_id = "someone-else";
    assert_int_equal(create_client(&cfg, &c, &err), MQTLS_ERR_PERSIST_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_persist_reopen_restores_every_live_entry, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_torn_tail_at_every_byte_is_cut, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_bad_checksum_ends_the_log_there, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_refuses_a_foreign_file, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_lock_client_id_and_version, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_compaction_bounds_the_file, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_sync_policies_and_power_loss, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_write_error_is_cut_and_later_records_kept,
                                        setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_client_persistence_rules_restore_and_in_doubt,
                                        setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_persist_crash_at_every_step_keeps_a_whole_state,
                                        setup_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
