/* chaos_client: the mqtls side of the chaos tests (test_chaos.py), on the public API only.
 *
 * Why a program of its own and not `mqtls pub` / `mqtls sub`: the CLI makes one connection
 * attempt and reports the failure (by design), while a chaos run must ride through hundreds of
 * cuts with the library's reconnect; and a run killed with SIGKILL must leave an exact record of
 * what the application had handed over when it died, which a pipe into `mqtls pub -l` cannot
 * tell (lines in the pipe and in the reader's buffer vanish with it).
 *
 *   chaos_client pub --uri URI --id ID --topic T --qos Q --stream S --count N --log PREFIX
 *                    [--rate MSGS_PER_S] [common options]
 *     publishes payloads "S:000001".."S:N"; appends, each line written with one write(2) so
 *     that a kill -9 leaves whole lines:
 *       PREFIX.sent    "S:SEQ T"  before mqtls_client_publish() is called (attempted)
 *       PREFIX.handed  "S:SEQ T"  after it returned MQTLS_OK (handed over)
 *       PREFIX.acked   "S:SEQ T"  at MQTLS_EVENT_PUBLISHED (PUBACK / PUBCOMP)
 *       PREFIX.refused "S:SEQ T"  instead, when that carried a reason >= 0x80 (MQTT 5)
 *       PREFIX.sessions "@session-lost T"  a reconnect found the broker without our session
 *     (T = CLOCK_MONOTONIC ms). Started again with the same PREFIX it goes on after the highest
 *     seq of PREFIX.sent: the one it may have been handing over when it died is never offered
 *     twice. When every message is handed over it waits until the outbox is empty (every
 *     message acknowledged), disconnects and exits 0; 3 if --drain-s passed first.
 *   chaos_client sub --uri URI --id ID --topic T --qos Q --out FILE [common options]
 *     appends "PAYLOAD T" per MQTLS_EVENT_MESSAGE, "@in-doubt PAYLOAD T" per
 *     MQTLS_EVENT_MESSAGE_IN_DOUBT and "@reconnect T" when a connection starts without the
 *     session (the marks checker.py reads); exits 0 at SIGTERM / SIGINT after a disconnect.
 *   common: [--cafile F --cert F --key F] [-V 311|5] [--clean] [--persist DIR]
 *           [--sync every|batch|none] [--keepalive S] [--drain-s S] [--deadline-s S]
 *           [--die-at SEQ]: SIGKILL itself at message SEQ, at the worst moment: pub right after
 *           mqtls_client_publish() returned (before PREFIX.handed has it), sub inside the
 *           message callback (before FILE has it). Started again, neither meets SEQ again.
 * Exit: 0 done; 1 failure (printed); 2 usage; 3 deadline. Never connects anywhere but --uri. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mqtls/mqtls.h>

typedef struct opts {
    const char *mode, *uri, *id, *topic, *stream, *log, *out, *persist;
    const char *cafile, *cert, *key;
    int qos;
    long count;
    double rate;
    mqtls_version_t version;
    bool clean;
    mqtls_persist_sync_t sync;
    unsigned keepalive_s;
    long drain_s, deadline_s;
    long die_at;
} opts_t;

typedef struct run {
    opts_t o;
    mqtls_client_t *c;
    int fd_sent, fd_handed, fd_acked, fd_refused, fd_lost, fd_out;
    long *seq_of_id; /* [65536]: the seq published with that packet id (pub) */
    bool subscribed; /* a SUBACK came (sub) */
    long connects, messages, doubts;
} run_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* One line, one write(2): whole lines survive a kill -9. */
static void put_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(int fd, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (fd < 0 || n <= 0) {
        return;
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1u;
    if (write(fd, line, len) != (ssize_t)len) {
        fprintf(stderr, "chaos_client: write: %s\n", strerror(errno));
        exit(1);
    }
}

static int open_append(const char *prefix, const char *suffix)
{
    char path[1024];
    (void)snprintf(path, sizeof path, "%s%s", prefix, suffix);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "chaos_client: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* The highest seq of stream @p stream in PREFIX.sent (0 if none). */
static long last_attempted(const opts_t *o)
{
    char path[1024];
    (void)snprintf(path, sizeof path, "%s.sent", o->log);
    FILE *f = fopen(path, "r");
    long top = 0;
    char line[512];
    size_t sl = strlen(o->stream);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, o->stream, sl) == 0 && line[sl] == ':') {
            long seq = strtol(line + sl + 1, NULL, 10);
            top = seq > top ? seq : top;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return top;
}

/* "S:000123" -> 123 (0 if not of that form). */
static long seq_of_payload(const mqtls_bytes_t *p)
{
    char buf[64];
    size_t n = p->len < sizeof buf - 1u ? p->len : sizeof buf - 1u;
    memcpy(buf, p->data, n);
    buf[n] = '\0';
    const char *colon = strrchr(buf, ':');
    return colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
}

static void subscribe(run_t *r)
{
    mqtls_subscription_t s = {r->o.topic, (uint8_t)r->o.qos};
    mqtls_status_t st = mqtls_client_subscribe(r->c, &s, 1, NULL, NULL);
    if (st != MQTLS_OK) {
        fprintf(stderr, "chaos_client: subscribe: %s\n", mqtls_status_name(st));
    }
}

static void on_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    (void)c;
    run_t *r = ctx;
    switch (ev->type) {
    case MQTLS_EVENT_CONNECTED:
        r->connects++;
        if (r->fd_out < 0 && !ev->u.connected.session_present && r->connects > 1) {
            /* The broker forgot our persistent session: what was in flight is published again
             * as new messages (the library's rule), so QoS 2 may arrive twice. */
            put_line(r->fd_lost, "@session-lost %ld\n", now_ms());
        }
        if (r->fd_out >= 0 && !ev->u.connected.session_present) {
            /* The broker has no session for us: what was queued for us is gone (the mark for
             * checker.py), and the subscription must be made again. */
            put_line(r->fd_out, "@reconnect %ld\n", now_ms());
            subscribe(r);
        } else if (r->fd_out >= 0 && !r->subscribed) {
            /* A SUBSCRIBE lost with its connection is not resent by MQTT [MQTT-4.4.0-1 covers
             * PUBLISH and PUBREL only]: make it again until a SUBACK came. */
            subscribe(r);
        }
        break;
    case MQTLS_EVENT_SUBSCRIBED:
        if (!r->subscribed) {
            r->subscribed = true;
            fprintf(stderr, "chaos_client: subscribed\n");
        }
        break;
    case MQTLS_EVENT_MESSAGE:
    case MQTLS_EVENT_MESSAGE_IN_DOUBT:
        if (r->fd_out >= 0) {
            bool doubt = ev->type == MQTLS_EVENT_MESSAGE_IN_DOUBT;
            if (!doubt && r->o.die_at > 0 &&
                seq_of_payload(&ev->u.message.payload) == r->o.die_at) {
                raise(SIGKILL); /* inside the delivery: the next process reports it in doubt */
            }
            put_line(r->fd_out, "%s%.*s %ld\n", doubt ? "@in-doubt " : "",
                     (int)ev->u.message.payload.len, (const char *)ev->u.message.payload.data,
                     now_ms());
            r->messages += doubt ? 0 : 1;
            r->doubts += doubt ? 1 : 0;
        }
        break;
    case MQTLS_EVENT_PUBLISHED:
        if (r->seq_of_id != NULL && r->seq_of_id[ev->u.published.packet_id] > 0) {
            /* A refusal (MQTT 5 reason >= 0x80) ends the flow too, but delivers nothing. */
            put_line(ev->u.published.reason >= 0x80 ? r->fd_refused : r->fd_acked, "%s:%06ld %ld\n",
                     r->o.stream, r->seq_of_id[ev->u.published.packet_id], now_ms());
            r->seq_of_id[ev->u.published.packet_id] = 0;
        }
        if (ev->u.published.reason >= 0x80) {
            fprintf(stderr, "chaos_client: publish %u refused: 0x%02X\n", ev->u.published.packet_id,
                    ev->u.published.reason);
        }
        break;
    default:
        break;
    }
}

static int usage(const char *why)
{
    fprintf(stderr, "chaos_client: %s (see the comment at the top of chaos_client.c)\n", why);
    return 2;
}

static int parse(opts_t *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->version = MQTLS_V311;
    o->keepalive_s = 2;
    o->drain_s = 60;
    o->deadline_s = 600;
    if (argc < 2) {
        return usage("pub or sub?");
    }
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = strcmp(a, "--clean") == 0;
        if (flag) {
            o->clean = true;
            continue;
        }
        if (v == NULL) {
            return usage("an option needs a value");
        }
        i++;
        if (strcmp(a, "--uri") == 0) {
            o->uri = v;
        } else if (strcmp(a, "--id") == 0) {
            o->id = v;
        } else if (strcmp(a, "--topic") == 0) {
            o->topic = v;
        } else if (strcmp(a, "--qos") == 0) {
            o->qos = (int)strtol(v, NULL, 10);
        } else if (strcmp(a, "--stream") == 0) {
            o->stream = v;
        } else if (strcmp(a, "--count") == 0) {
            o->count = strtol(v, NULL, 10);
        } else if (strcmp(a, "--rate") == 0) {
            o->rate = strtod(v, NULL);
        } else if (strcmp(a, "--log") == 0) {
            o->log = v;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--persist") == 0) {
            o->persist = v;
        } else if (strcmp(a, "--sync") == 0) {
            o->sync = strcmp(v, "batch") == 0  ? MQTLS_PERSIST_SYNC_BATCH
                      : strcmp(v, "none") == 0 ? MQTLS_PERSIST_SYNC_NONE
                                               : MQTLS_PERSIST_SYNC_EVERY;
        } else if (strcmp(a, "--cafile") == 0) {
            o->cafile = v;
        } else if (strcmp(a, "--cert") == 0) {
            o->cert = v;
        } else if (strcmp(a, "--key") == 0) {
            o->key = v;
        } else if (strcmp(a, "-V") == 0) {
            o->version = strcmp(v, "5") == 0 ? MQTLS_V5 : MQTLS_V311;
        } else if (strcmp(a, "--keepalive") == 0) {
            o->keepalive_s = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--drain-s") == 0) {
            o->drain_s = strtol(v, NULL, 10);
        } else if (strcmp(a, "--deadline-s") == 0) {
            o->deadline_s = strtol(v, NULL, 10);
        } else if (strcmp(a, "--die-at") == 0) {
            o->die_at = strtol(v, NULL, 10);
        } else {
            return usage("unknown option");
        }
    }
    bool pub = strcmp(o->mode, "pub") == 0;
    if ((!pub && strcmp(o->mode, "sub") != 0) || o->uri == NULL || o->id == NULL ||
        o->topic == NULL || o->qos < 0 || o->qos > 2 ||
        (pub && (o->stream == NULL || o->count <= 0 || o->log == NULL)) ||
        (!pub && o->out == NULL)) {
        return usage("missing or bad options");
    }
    return 0;
}

static int create(run_t *r)
{
    const opts_t *o = &r->o;
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.ca_file = o->cafile;
    tls.cert_file = o->cert;
    tls.key_file = o->key;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = o->uri;
    cfg.client_id = o->id;
    cfg.version = o->version;
    cfg.keepalive_s = (uint16_t)o->keepalive_s;
    cfg.clean_start = o->clean;
    cfg.session_expiry_s = o->clean ? 0 : 3600;
    cfg.connect_timeout_ms = 3000;
    cfg.reconnect.min_ms = 50;
    cfg.reconnect.max_ms = 1000;
    cfg.outbox_max_messages = 65535;
    cfg.outbox_max_bytes = 64u * 1024u * 1024u;
    cfg.tls = o->cafile != NULL ? &tls : NULL;
    cfg.persistence_dir = o->persist;
    cfg.persistence_sync = o->sync;
    cfg.on_event = on_event;
    cfg.event_ctx = r;
    mqtls_error_t err;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &r->c);
    if (st == MQTLS_OK) {
        st = mqtls_client_connect(r->c);
    }
    if (st != MQTLS_OK) {
        char line[256];
        mqtls_strerror(&err, line, sizeof line);
        fprintf(stderr, "chaos_client: %s: %s\n", mqtls_status_name(st), line);
        return 1;
    }
    return 0;
}

static int run_pub(run_t *r)
{
    const opts_t *o = &r->o;
    r->fd_sent = open_append(o->log, ".sent");
    r->fd_handed = open_append(o->log, ".handed");
    r->fd_acked = open_append(o->log, ".acked");
    r->fd_refused = open_append(o->log, ".refused");
    r->fd_lost = open_append(o->log, ".sessions");
    r->seq_of_id = calloc(65536, sizeof *r->seq_of_id);
    if (r->seq_of_id == NULL || create(r) != 0) {
        return 1;
    }
    long start = now_ms();
    long deadline = start + o->deadline_s * 1000L;
    long first = last_attempted(o) + 1;
    char payload[64];
    for (long seq = first; seq <= o->count && !g_stop; seq++) {
        if (o->rate > 0) {
            long due = start + (long)((double)(seq - first) * 1000.0 / o->rate);
            while (now_ms() < due && !g_stop) {
                long left = due - now_ms();
                mqtls_client_step(r->c, left > 50 ? 50 : (int)left);
            }
        }
        int n = snprintf(payload, sizeof payload, "%s:%06ld", o->stream, seq);
        put_line(r->fd_sent, "%s %ld\n", payload, now_ms());
        mqtls_publish_opts_t po = {.qos = (uint8_t)o->qos};
        uint16_t id = 0;
        mqtls_status_t st;
        while ((st = mqtls_client_publish(r->c, o->topic, payload, (size_t)n, &po, &id)) ==
                   MQTLS_ERR_OUTBOX_FULL &&
               now_ms() < deadline && !g_stop) {
            mqtls_client_step(r->c, 20);
        }
        if (st != MQTLS_OK) {
            fprintf(stderr, "chaos_client: publish %s: %s\n", payload, mqtls_status_name(st));
            return 1;
        }
        r->seq_of_id[id] = seq;
        if (seq == o->die_at) {
            raise(SIGKILL); /* handed over, but PREFIX.handed will never say so */
        }
        put_line(r->fd_handed, "%s %ld\n", payload, now_ms());
        mqtls_client_step(r->c, 0);
    }
    long drain_until = now_ms() + o->drain_s * 1000L;
    while (mqtls_client_outbox_count(r->c) > 0 && now_ms() < drain_until && !g_stop) {
        mqtls_client_step(r->c, 50);
    }
    size_t left = mqtls_client_outbox_count(r->c);
    if (left > 0) {
        fprintf(stderr, "chaos_client: %zu message(s) not acknowledged after %ld s\n", left,
                o->drain_s);
    }
    (void)mqtls_client_disconnect(r->c, 0);
    for (int i = 0; i < 40 && mqtls_client_state(r->c) != MQTLS_STATE_IDLE; i++) {
        mqtls_client_step(r->c, 50);
    }
    fprintf(stderr, "chaos_client: pub %s: seq %ld..%ld, %ld connection(s), %zu left\n", o->stream,
            first, o->count, r->connects, left);
    return left > 0 ? 3 : 0;
}

static int run_sub(run_t *r)
{
    r->fd_out = open_append(r->o.out, "");
    if (create(r) != 0) {
        return 1;
    }
    long deadline = now_ms() + r->o.deadline_s * 1000L;
    while (!g_stop && now_ms() < deadline) {
        mqtls_client_step(r->c, 100);
    }
    (void)mqtls_client_disconnect(r->c, 0);
    for (int i = 0; i < 40 && mqtls_client_state(r->c) != MQTLS_STATE_IDLE; i++) {
        mqtls_client_step(r->c, 50);
    }
    fprintf(stderr, "chaos_client: sub %s: %ld message(s), %ld in doubt, %ld connection(s)\n",
            r->o.id, r->messages, r->doubts, r->connects);
    return g_stop ? 0 : 3;
}

int main(int argc, char **argv)
{
    static run_t r;
    r.fd_sent = r.fd_handed = r.fd_acked = r.fd_refused = r.fd_lost = r.fd_out = -1;
    int rc = parse(&r.o, argc, argv);
    if (rc != 0) {
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = strcmp(r.o.mode, "pub") == 0 ? run_pub(&r) : run_sub(&r);
    mqtls_client_destroy(r.c);
    free(r.seq_of_id);
    return rc;
}
