/* The engine of `mqtls bench` (bench.h): loop threads that each own a share of the devices, one
 * mqtls_loop_t (epoll + timer heap) and every client they create, and carry out the main
 * thread's commands between loop iterations. Device n runs on thread n mod T. All the work of
 * a client (create, connect, publish, the events, destroy) happens on its thread, so a client
 * is never touched by two threads; what the main thread reads are atomic counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define STARTS_PER_ITERATION 64u /* connects begun per loop iteration: handshakes go on too */
#define CREATES_PER_ITERATION 32u
#define PUBLISH_CATCHUP 100u /* messages one publisher may send in one iteration when late */
#define WAIT_MAX_MS                                                                                \
    20 /* the longest a thread waits in the loop before looking at the                             \
          command again */
#define CONNECT_TIMEOUT_MS 30000u

enum { BC_IDLE = 0, BC_CONNECTING, BC_CONNECTED, BC_CLOSING };

typedef struct bench_client {
    mqtls_client_t *c;
    struct bench_worker *w;
    size_t index;
    uint8_t role;
    uint8_t state;
    bool failed;        /* this attempt failed (ERROR seen) */
    bool was_connected; /* in CLOSING: connected before */
    int64_t start_us;
    int64_t next_pub_us;
    uint32_t seq;
    char topic[160]; /* publishers: TOPIC/<id> */
} bench_client_t;

typedef struct bench_worker {
    bench_run_t *run;
    unsigned id;
    pthread_t thread;
    bool running;
    mqtls_loop_t *loop;
    bench_client_t *clients;
    size_t count;
    unsigned gen;
    int cmd;
    size_t next;   /* CREATE / CONNECT: the next client */
    size_t active;     /* clients CONNECTING, CONNECTED or CLOSING */
    size_t connecting; /* attempts in progress (--max-pending) */
    uint8_t *payload;
    uint64_t rng;
} bench_worker_t;

int64_t bench_now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t rand32(bench_worker_t *w)
{
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* ---- events (on the client's thread) ---------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v); /* same process, same byte order: read back by get_u64() */
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void connect_ended(bench_client_t *bc)
{
    bc->state = BC_IDLE;
    bc->w->active--;
}

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    bench_client_t *bc = ctx;
    bench_run_t *run = bc->w->run;
    const bench_cfg_t *cfg = run->cfg;
    int64_t now = bench_now_us();
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        if (bc->state != BC_CONNECTING) {
            break;
        }
        bc->state = BC_CONNECTED;
        bc->w->connecting--;
        bench_hist_add(&run->connect_ms, (uint64_t)(now - bc->start_us));
        atomic_fetch_add(&run->connected, 1u);
        atomic_fetch_add(&run->connected_now, 1u);
        if ((mqtls_tls_facts_flags(mqtls_client_tls_facts(c)) & MQTLS_FACT_SESSION_RESUMED) != 0) {
            atomic_fetch_add(&run->resumed, 1u);
        }
        for (int64_t last = atomic_load(&run->last_connack_us);
             now > last && !atomic_compare_exchange_weak(&run->last_connack_us, &last, now);) {
        }
        if (bc->role == BENCH_ROLE_SUB) {
            char filter[160];
            (void)snprintf(filter, sizeof filter, "%s/#", cfg->topic);
            mqtls_subscription_t sub = {filter, 2};
            (void)mqtls_client_subscribe(c, &sub, 1, NULL, NULL);
        }
        bc->next_pub_us = now;
        break;
    case MQTLS_EVENT_ERROR:
        if (bc->state == BC_CONNECTING && !bc->failed) {
            bc->failed = true;
            atomic_fetch_add(&run->failed, 1u);
            bench_classify(run, bc->index, mqtls_client_uri(c), &ev->u.error.err,
                           mqtls_client_tls_facts(c));
        }
        break;
    case MQTLS_EVENT_DISCONNECTED:
        if (bc->state == BC_CONNECTED) {
            atomic_fetch_sub(&run->connected_now, 1u);
            if (ev->u.disconnected.why.status != MQTLS_OK) {
                atomic_fetch_add(&run->lost, 1u);
            }
            connect_ended(bc);
        } else if (bc->state == BC_CLOSING) {
            if (bc->was_connected) {
                atomic_fetch_sub(&run->connected_now, 1u);
            } else {
                bc->w->connecting--;
            }
            connect_ended(bc);
        } else if (bc->state == BC_CONNECTING) {
            bc->w->connecting--;
            connect_ended(bc); /* a failed attempt (counted at its ERROR event) */
        }
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        if (ev->u.subscribed.reasons.len > 0 && ev->u.subscribed.reasons.data[0] < 0x80) {
            atomic_fetch_add(&run->subscribed, 1u);
        }
        break;
    case MQTLS_EVENT_PUBLISHED:
        atomic_fetch_add(&run->acked, 1u);
        break;
    case MQTLS_EVENT_MESSAGE:
        if (ev->u.message.payload.len >= 16) {
            uint64_t sent = get_u64(ev->u.message.payload.data);
            if ((uint64_t)now >= sent) {
                bench_hist_add(&run->latency, (uint64_t)now - sent);
            }
        }
        atomic_fetch_add(&run->received, 1u);
        atomic_fetch_add(&run->received_qos[ev->u.message.qos <= 2 ? ev->u.message.qos : 2], 1u);
        break;
    default:
        break;
    }
}

/* ---- the thread's work per command ------------------------------------------------------ */

static void create_one(bench_worker_t *w, bench_client_t *bc)
{
    bench_run_t *run = w->run;
    const bench_cfg_t *cfg = run->cfg;
    const bench_device_t *dev = &run->dev[bc->index];
    const char *uri = cfg->brokers[bc->index % cfg->broker_count];
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.ca_file = cfg->cafile;
    tls.cert_file = dev->cert;
    tls.key_file = dev->key;
    tls.server_name = cfg->server_name;
    tls.insecure = cfg->insecure;
    tls.max_fragment_len = cfg->tls_max_fragment;
    if (cfg->tls_version != 0) {
        tls.min_version = cfg->tls_version;
        tls.max_version = cfg->tls_version;
    }
    mqtls_client_cfg_t cc;
    mqtls_client_cfg_init(&cc);
    cc.uri = uri;
    cc.client_id = dev->id;
    cc.version = cfg->version;
    cc.keepalive_s = cfg->keepalive_s;
    cc.connect_timeout_ms = CONNECT_TIMEOUT_MS;
    cc.reconnect.enabled = false; /* every outcome is counted, not retried */
    cc.diagnose = false;          /* classified per fleet (bench_fleet.c), not per device */
    cc.tls = &tls;
    cc.tls_share_with = run->shared;
    cc.on_event = on_event;
    cc.event_ctx = bc;
    mqtls_error_t err;
    mqtls_error_init(&err);
    bc->state = BC_IDLE;
    bc->failed = false;
    if (mqtls_client_create(&cc, &err, &bc->c) != MQTLS_OK) {
        bc->c = NULL;
        atomic_fetch_add(&run->create_failed, 1u);
        bench_classify(run, bc->index, uri, &err, NULL);
        return;
    }
    if (mqtls_loop_add(w->loop, bc->c) != MQTLS_OK) {
        mqtls_client_destroy(bc->c);
        bc->c = NULL;
        atomic_fetch_add(&run->create_failed, 1u);
        return;
    }
    atomic_fetch_add(&run->created, 1u);
}

static void destroy_all(bench_worker_t *w)
{
    for (size_t k = 0; k < w->count; k++) {
        bench_client_t *bc = &w->clients[k];
        if (bc->c != NULL) {
            if (bc->state == BC_CONNECTED || (bc->state == BC_CLOSING && bc->was_connected)) {
                atomic_fetch_sub(&w->run->connected_now, 1u);
            }
            mqtls_client_destroy(bc->c);
            bc->c = NULL;
        }
        bc->state = BC_IDLE;
    }
    w->active = 0;
    w->connecting = 0;
}

/* What a command does once, when it arrives. */
static void enter(bench_worker_t *w, int cmd)
{
    w->cmd = cmd;
    w->next = 0;
    switch (cmd) {
    case BENCH_CMD_CREATE:
        destroy_all(w);
        break;
    case BENCH_CMD_DISCONNECT:
        for (size_t k = 0; k < w->count; k++) {
            bench_client_t *bc = &w->clients[k];
            if (bc->c != NULL && (bc->state == BC_CONNECTED || bc->state == BC_CONNECTING)) {
                bc->was_connected = bc->state == BC_CONNECTED;
                bc->state = BC_CLOSING;
                if (mqtls_client_disconnect(bc->c, 0) != MQTLS_OK) {
                    if (bc->was_connected) {
                        atomic_fetch_sub(&w->run->connected_now, 1u);
                    } else {
                        w->connecting--;
                    }
                    connect_ended(bc);
                }
            }
        }
        break;
    case BENCH_CMD_DESTROY:
        destroy_all(w);
        break;
    case BENCH_CMD_PUBLISH: {
        int64_t now = bench_now_us();
        for (size_t k = 0; k < w->count; k++) {
            w->clients[k].next_pub_us = now + (int64_t)(w->run->cfg->msg_interval_us *
                                                        (double)(rand32(w) % 1000u) / 1000.0);
        }
        break;
    }
    default:
        break;
    }
}

static uint8_t draw_qos(bench_worker_t *w)
{
    const unsigned *wt = w->run->cfg->qos_weight;
    unsigned total = wt[0] + wt[1] + wt[2];
    unsigned r = total > 0 ? rand32(w) % total : 0;
    return r < wt[0] ? 0 : (r < wt[0] + wt[1] ? 1 : 2);
}

/* Publishers send what is due. @return when the next message is due (INT64_MAX: none). */
static int64_t publish_due(bench_worker_t *w, int64_t now)
{
    bench_run_t *run = w->run;
    const bench_cfg_t *cfg = run->cfg;
    int64_t end = atomic_load(&run->publish_end_us);
    int64_t next = INT64_MAX;
    int64_t step = (int64_t)cfg->msg_interval_us;
    step = step > 0 ? step : 1;
    for (size_t k = 0; k < w->count; k++) {
        bench_client_t *bc = &w->clients[k];
        if (bc->role != BENCH_ROLE_PUB || bc->state != BC_CONNECTED) {
            continue;
        }
        if (now - bc->next_pub_us > 1000000) {
            bc->next_pub_us = now; /* more than a second late: do not try to catch all up */
        }
        for (unsigned n = 0; n < PUBLISH_CATCHUP && bc->next_pub_us <= now && now < end; n++) {
            mqtls_publish_opts_t po;
            memset(&po, 0, sizeof po);
            po.qos = draw_qos(w);
            put_u64(w->payload, (uint64_t)bench_now_us());
            put_u64(w->payload + 8, ((uint64_t)bc->index << 32) | bc->seq++);
            mqtls_status_t st =
                mqtls_client_publish(bc->c, bc->topic, w->payload, cfg->payload_len, &po, NULL);
            if (st == MQTLS_OK) {
                atomic_fetch_add(&run->published, 1u);
                atomic_fetch_add(&run->expected_qos[po.qos], cfg->subscribers);
            } else {
                atomic_fetch_add(&run->outbox_full, 1u);
            }
            bc->next_pub_us += step;
        }
        if (bc->next_pub_us < next && bc->next_pub_us < end) {
            next = bc->next_pub_us;
        }
    }
    return next;
}

/* One iteration's work for the current command. @return when something is due next. */
static int64_t work(bench_worker_t *w, int64_t now)
{
    bench_run_t *run = w->run;
    const bench_cfg_t *cfg = run->cfg;
    unsigned T = cfg->threads;
    int64_t due = INT64_MAX;
    bool finished = false;
    switch (w->cmd) {
    case BENCH_CMD_CREATE:
        for (unsigned n = 0; n < CREATES_PER_ITERATION && w->next < w->count; n++) {
            create_one(w, &w->clients[w->next++]);
        }
        finished = w->next == w->count;
        due = finished ? INT64_MAX : now;
        break;
    case BENCH_CMD_CONNECT: {
        int64_t t0 = atomic_load(&run->ramp_t0_us);
        unsigned started = 0;
        while (w->next < w->count && started < STARTS_PER_ITERATION) {
            if (cfg->max_pending > 0 && w->connecting >= cfg->max_pending) {
                due = now + 1000; /* wait for answers (the loop wakes on them anyway) */
                break;
            }
            bench_client_t *bc = &w->clients[w->next];
            /* device n starts n / rate seconds into the ramp */
            int64_t at = cfg->rate > 0
                             ? t0 + (int64_t)((double)(w->id + w->next * T) * 1e6 / cfg->rate)
                             : t0;
            if (at > now) {
                due = at;
                break;
            }
            w->next++;
            if (bc->c == NULL || bc->state != BC_IDLE) {
                continue;
            }
            bc->failed = false;
            bc->was_connected = false;
            bc->start_us = bench_now_us();
            if (mqtls_client_connect(bc->c) == MQTLS_OK) {
                bc->state = BC_CONNECTING;
                w->active++;
                w->connecting++;
                atomic_fetch_add(&run->started, 1u);
                started++;
            }
        }
        finished = w->next == w->count;
        if (!finished && due == INT64_MAX) {
            due = now;
        }
        break;
    }
    case BENCH_CMD_PUBLISH:
        due = publish_due(w, now);
        finished = true;
        break;
    case BENCH_CMD_DISCONNECT:
        finished = w->active == 0;
        break;
    default:
        finished = true;
        break;
    }
    if (finished) {
        atomic_store(&run->done[w->id], w->gen);
    }
    return due;
}

static void *worker_main(void *arg)
{
    bench_worker_t *w = arg;
    bench_run_t *run = w->run;
    for (;;) {
        unsigned gen = atomic_load(&run->cmd_gen);
        if (gen != w->gen) {
            w->gen = gen;
            enter(w, atomic_load(&run->cmd));
        }
        if (w->cmd == BENCH_CMD_EXIT) {
            break;
        }
        int64_t now = bench_now_us();
        int64_t due = work(w, now);
        int64_t wait_us = due == INT64_MAX ? (int64_t)WAIT_MAX_MS * 1000 : due - now;
        int wait_ms = wait_us <= 0 ? 0 : (int)((wait_us + 999) / 1000);
        if (wait_ms > WAIT_MAX_MS) {
            wait_ms = WAIT_MAX_MS;
        }
        (void)mqtls_loop_run_once(w->loop, wait_ms);
    }
    destroy_all(w);
    atomic_store(&run->done[w->id], w->gen);
    return NULL;
}

/* ---- the main thread's side ------------------------------------------------------------- */

int bench_run_start(bench_run_t *run)
{
    const bench_cfg_t *cfg = run->cfg;
    unsigned T = cfg->threads;
    run->workers = calloc(T, sizeof *run->workers);
    if (run->workers == NULL || T == 0 || T > 256) {
        return ENOMEM;
    }
    bench_worker_t *ws = run->workers;
    for (unsigned t = 0; t < T; t++) {
        bench_worker_t *w = &ws[t];
        w->run = run;
        w->id = t;
        w->rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)t << 32) ^ (uint64_t)bench_now_us();
        w->count = cfg->devices / T + (t < cfg->devices % T ? 1u : 0u);
        w->clients = calloc(w->count > 0 ? w->count : 1u, sizeof *w->clients);
        w->payload = calloc(1, cfg->payload_len > 16 ? cfg->payload_len : 16u);
        if (w->clients == NULL || w->payload == NULL || mqtls_loop_create(&w->loop) != MQTLS_OK) {
            return ENOMEM;
        }
        memset(w->payload, 'x', cfg->payload_len);
        for (size_t k = 0; k < w->count; k++) {
            bench_client_t *bc = &w->clients[k];
            bc->w = w;
            bc->index = t + k * T;
            bc->role = bc->index < cfg->subscribers
                           ? BENCH_ROLE_SUB
                           : (bc->index < cfg->subscribers + cfg->publishers ? BENCH_ROLE_PUB
                                                                             : BENCH_ROLE_NONE);
            (void)snprintf(bc->topic, sizeof bc->topic, "%s/%s", cfg->topic,
                           run->dev[bc->index].id);
        }
    }
    for (unsigned t = 0; t < T; t++) {
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            return errno != 0 ? errno : EAGAIN;
        }
        ws[t].running = true;
    }
    return 0;
}

void bench_run_command(bench_run_t *run, bench_cmd_t cmd)
{
    atomic_store(&run->cmd, (int)cmd);
    atomic_fetch_add(&run->cmd_gen, 1u);
}

bool bench_run_done(const bench_run_t *run)
{
    unsigned gen = atomic_load(&run->cmd_gen);
    for (unsigned t = 0; t < run->cfg->threads; t++) {
        if (atomic_load(&run->done[t]) != gen) {
            return false;
        }
    }
    return true;
}

void bench_run_stop(bench_run_t *run)
{
    if (run->workers == NULL) {
        return;
    }
    bench_run_command(run, BENCH_CMD_EXIT);
    for (unsigned t = 0; t < run->cfg->threads; t++) {
        bench_worker_t *w = &run->workers[t];
        if (w->running) {
            (void)pthread_join(w->thread, NULL);
        }
        mqtls_loop_destroy(w->loop);
        free(w->clients);
        free(w->payload);
    }
    free(run->workers);
    run->workers = NULL;
}
