/* faultproxy: a fault-injecting TCP proxy for chaos tests (tests/chaos/README.md).
 *
 * One thread, one poll() loop. Every accepted client connection gets its own connection to the
 * one upstream address given on the command line (the proxy connects nowhere else). Bytes are
 * copied through a fixed buffer per direction; a side is read only while its buffer has room,
 * so a slow peer pushes back on the fast one instead of growing memory (back-pressure).
 *
 * Faults are drawn per connection from a PRNG seeded with (--seed, connection number), so the
 * schedule of connection N is the same on every run with the same seed. A control channel
 * (stdin or a UNIX socket, one command per line) triggers faults deterministically.
 *
 * C11 + POSIX only: no other dependency, so it builds wherever the tests build. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_CAP 16384u         /* bytes buffered per direction: the memory bound */
#define DEFAULT_MAX_CONNS 256u /* concurrent client connections */
#define CTL_MAX_CLIENTS 8u     /* concurrent control-socket clients */
#define CTL_LINE_MAX 256u      /* longest control command */
#define CUT_LINGER_MS 2000     /* a FIN cut waits this long for the peers' FIN, then closes */
#define POLL_MAX_MS 1000       /* upper bound on one poll() wait */
#define LISTEN_BACKLOG 128

enum { SIDE_CLIENT = 0, SIDE_UPSTREAM = 1 };
/* Direction d reads fd[d] and writes fd[1 - d]. */
enum { DIR_UP = 0, DIR_DOWN = 1 };

typedef enum fault_kind {
    FAULT_FIN,
    FAULT_RST,
    FAULT_SILENCE,
    FAULT_DELAY,
    FAULT_SPLIT,
    FAULT_NONE,
    FAULT_COUNT
} fault_kind_t;
static const char *const fault_names[FAULT_COUNT] = {"fin",   "rst",   "silence",
                                                     "delay", "split", "none"};

typedef enum silence_dir { SILENCE_BOTH, SILENCE_UP, SILENCE_DOWN, SILENCE_ANY } silence_dir_t;
static const char *const silence_names[] = {"both", "up", "down", "any"};

typedef struct range {
    uint32_t lo;
    uint32_t hi;
} range_t;

typedef struct fault_spec {
    double weight[FAULT_COUNT]; /* per draw; the rest up to 1 is "none" */
    bool is_enabled;            /* some weight > 0 */
    range_t every_ms;           /* time to the next draw */
    range_t stall_ms;           /* length of a delay fault */
    range_t split_ms;           /* length of a split window */
    range_t chunk_len;          /* piece size in a split window */
    uint32_t gap_ms;            /* pause between pieces */
    silence_dir_t silence_dir;
    uint32_t max_per_conn; /* 0: no limit */
} fault_spec_t;

typedef enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSING, CONN_DEAD } conn_state_t;

typedef struct pipe_dir {
    size_t off; /* buffered bytes are buf[off, off + len) */
    size_t len;
    bool is_src_eof;  /* the source sent FIN */
    bool is_dst_shut; /* we passed that FIN on */
    bool is_silenced; /* read and discard, never write */
    int64_t split_until_ms;
    int64_t next_piece_ms;
    uint8_t *buf; /* BUF_CAP bytes, part of the connection's allocation */
} pipe_dir_t;

typedef struct conn {
    uint64_t id;
    conn_state_t state;
    int fd[2];
    pipe_dir_t dir[2];
    int64_t stall_until_ms; /* 0: not stalled */
    int64_t next_fault_ms;  /* INT64_MAX: no more random faults */
    int64_t closing_deadline_ms;
    int connect_errno; /* connect() failed at once */
    bool is_hup[2];    /* poll() said POLLHUP while we were not reading that side */
    uint32_t fault_count;
    uint64_t rng;
} conn_t;

typedef struct stats {
    uint64_t accepted;
    uint64_t closed;
    uint64_t rejected;        /* accepted and reset while paused with "pause rst" */
    uint64_t upstream_failed; /* connect to the upstream failed */
    uint64_t faults[FAULT_COUNT];
    uint64_t bytes[2];     /* forwarded, per direction */
    uint64_t discarded[2]; /* read and dropped (silence, cut), per direction */
} stats_t;

typedef struct ctl_client {
    int fd; /* -1: free slot; STDIN_FILENO for the stdin channel */
    size_t len;
    bool is_overlong; /* discarding the rest of a too-long line */
    char line[CTL_LINE_MAX];
} ctl_client_t;

typedef enum pause_mode { PAUSE_NONE, PAUSE_HOLD, PAUSE_RST } pause_mode_t;

typedef struct proxy {
    struct sockaddr_in listen_addr;
    struct sockaddr_in upstream_addr;
    uint64_t seed;
    fault_spec_t spec;
    bool is_random_on; /* "faults on|off" */
    pause_mode_t pause;
    const char *port_file;
    const char *ctl_path; /* "-": stdin */
    FILE *log;
    uint32_t max_conns;
    int64_t start_ms;
    int64_t end_ms;          /* INT64_MAX: no --duration-s */
    int64_t accept_after_ms; /* accept() ran out of descriptors: try again then */
    int listen_fd;
    int ctl_listen_fd;
    bool is_ctl_socket_ours;
    ctl_client_t ctl[CTL_MAX_CLIENTS + 1]; /* the last slot is stdin */
    conn_t **conns;
    uint32_t conn_count;
    uint64_t next_id;
    stats_t stats;
    bool is_stopping;
} proxy_t;

static int g_signal_pipe[2] = {-1, -1};

/* ---- small helpers --------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_event(proxy_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_event(proxy_t *p, const char *fmt, ...)
{
    if (p->log == NULL) {
        return;
    }
    fprintf(p->log, "%8.3f ", (double)(now_ms() - p->start_ms) / 1000.0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->log, fmt, ap);
    va_end(ap);
    fputc('\n', p->log);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint32_t rng_range(uint64_t *rng, range_t r)
{
    uint64_t span = (uint64_t)r.hi - r.lo + 1u;
    return r.lo + (uint32_t)(splitmix64(rng) % span);
}

static double rng_unit(uint64_t *rng)
{
    return (double)(splitmix64(rng) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* pieces of a split write must leave as separate segments */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Close so that the peer gets RST instead of FIN. */
static void close_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* "127.0.0.1:PORT" (IPv4 only: the tests use 127.0.0.1). */
static bool parse_addr(const char *s, bool is_port0_ok, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    uint64_t port = 0;
    if (colon == NULL || (size_t)(colon - s) >= sizeof host ||
        !parse_u64(colon + 1, 65535, &port) || (port == 0 && !is_port0_ok)) {
        return false;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

/* ---- fault spec ------------------------------------------------------------------------ */

/* "A-B" or "A", then an optional unit ("ms" or "s" when @p is_time), into milliseconds. */
static bool parse_range(const char *s, bool is_time, range_t *r)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, n + 1);
    uint32_t scale = 1;
    if (is_time && n > 2 && strcmp(buf + n - 2, "ms") == 0) {
        buf[n - 2] = '\0';
    } else if (is_time && n > 1 && buf[n - 1] == 's') {
        buf[n - 1] = '\0';
        scale = 1000;
    }
    char *dash = strchr(buf, '-');
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (dash != NULL) {
        *dash = '\0';
        if (!parse_u64(buf, UINT32_MAX / 1000, &lo) ||
            !parse_u64(dash + 1, UINT32_MAX / 1000, &hi)) {
            return false;
        }
    } else if (parse_u64(buf, UINT32_MAX / 1000, &lo)) {
        hi = lo;
    } else {
        return false;
    }
    if (hi < lo) {
        return false;
    }
    r->lo = (uint32_t)lo * scale;
    r->hi = (uint32_t)hi * scale;
    return true;
}

static void spec_defaults(fault_spec_t *f)
{
    memset(f, 0, sizeof *f);
    f->every_ms = (range_t){200, 800};
    f->stall_ms = (range_t){100, 500};
    f->split_ms = (range_t){500, 1500};
    f->chunk_len = (range_t){1, 3};
    f->gap_ms = 1;
    f->silence_dir = SILENCE_BOTH;
}

/* SPEC: comma-separated KIND:WEIGHT and KEY=VALUE items (see usage()). On error, @p err says
 * which item is wrong. */
static bool spec_parse(const char *spec, fault_spec_t *f, char *err, size_t err_len)
{
    spec_defaults(f);
    char buf[512];
    size_t n = strlen(spec);
    if (n >= sizeof buf) {
        snprintf(err, err_len, "longer than %zu characters", sizeof buf - 1);
        return false;
    }
    memcpy(buf, spec, n + 1);
    double sum = 0.0;
    char *item = buf;
    while (item != NULL && *item != '\0') {
        char *next = strchr(item, ',');
        if (next != NULL) {
            *next++ = '\0';
        }
        char *colon = strchr(item, ':');
        char *eq = strchr(item, '=');
        if (colon != NULL && (eq == NULL || colon < eq)) {
            *colon = '\0';
            char *end = NULL;
            errno = 0;
            double w = strtod(colon + 1, &end);
            int kind = -1;
            for (int k = 0; k < FAULT_COUNT; k++) {
                if (strcmp(item, fault_names[k]) == 0) {
                    kind = k;
                }
            }
            if (kind < 0) {
                snprintf(err, err_len,
                         "unknown fault kind '%.30s' (kinds: fin rst silence delay "
                         "split none)",
                         item);
                return false;
            }
            if (errno != 0 || end == colon + 1 || *end != '\0' || !(w >= 0.0) || w > 1e6) {
                snprintf(err, err_len, "bad weight '%.30s' for %.20s", colon + 1, item);
                return false;
            }
            f->weight[kind] = w;
            sum += w;
        } else if (eq != NULL) {
            *eq = '\0';
            const char *v = eq + 1;
            bool is_ok = true;
            uint64_t u = 0;
            if (strcmp(item, "every") == 0) {
                is_ok = parse_range(v, true, &f->every_ms);
            } else if (strcmp(item, "stall") == 0) {
                is_ok = parse_range(v, true, &f->stall_ms);
            } else if (strcmp(item, "split") == 0) {
                is_ok = parse_range(v, true, &f->split_ms);
            } else if (strcmp(item, "chunk") == 0) {
                is_ok = parse_range(v, false, &f->chunk_len) && f->chunk_len.lo > 0;
            } else if (strcmp(item, "gap") == 0) {
                range_t g;
                is_ok = parse_range(v, true, &g) && g.lo == g.hi;
                f->gap_ms = g.lo;
            } else if (strcmp(item, "silence-dir") == 0) {
                is_ok = false;
                for (int d = 0; d <= SILENCE_ANY; d++) {
                    if (strcmp(v, silence_names[d]) == 0) {
                        f->silence_dir = (silence_dir_t)d;
                        is_ok = true;
                    }
                }
            } else if (strcmp(item, "max") == 0) {
                is_ok = parse_u64(v, UINT32_MAX, &u);
                f->max_per_conn = (uint32_t)u;
            } else {
                snprintf(err, err_len,
                         "unknown key '%.30s' (keys: every stall split chunk gap "
                         "silence-dir max)",
                         item);
                return false;
            }
            if (!is_ok) {
                snprintf(err, err_len, "bad value '%.30s' for %.20s", v, item);
                return false;
            }
        } else {
            snprintf(err, err_len, "'%.60s' is neither KIND:WEIGHT nor KEY=VALUE", item);
            return false;
        }
        item = next;
    }
    /* weights are probabilities per draw; above 1 in total they are scaled down to 1 */
    if (sum > 1.0) {
        for (int k = 0; k < FAULT_COUNT; k++) {
            f->weight[k] /= sum;
        }
    }
    f->is_enabled = false;
    for (int k = 0; k < FAULT_NONE; k++) {
        f->is_enabled = f->is_enabled || f->weight[k] > 0.0;
    }
    return true;
}

static fault_kind_t spec_draw(const fault_spec_t *f, uint64_t *rng)
{
    double x = rng_unit(rng);
    for (int k = 0; k < FAULT_NONE; k++) {
        if (x < f->weight[k]) {
            return (fault_kind_t)k;
        }
        x -= f->weight[k];
    }
    return FAULT_NONE;
}

/* ---- connections ----------------------------------------------------------------------- */

static bool conn_is_stalled(const conn_t *c, int64_t now)
{
    return c->stall_until_ms > now;
}

static void conn_schedule_fault(proxy_t *p, conn_t *c, int64_t from_ms)
{
    bool is_capped = p->spec.max_per_conn != 0 && c->fault_count >= p->spec.max_per_conn;
    bool is_silent = c->dir[DIR_UP].is_silenced || c->dir[DIR_DOWN].is_silenced; /* for good */
    c->next_fault_ms = p->spec.is_enabled && !is_capped && !is_silent
                           ? from_ms + rng_range(&c->rng, p->spec.every_ms)
                           : INT64_MAX;
}

static void conn_discard_buffers(proxy_t *p, conn_t *c)
{
    for (int d = 0; d < 2; d++) {
        p->stats.discarded[d] += c->dir[d].len;
        c->dir[d].off = 0;
        c->dir[d].len = 0;
    }
}

/* Close everything now. @p is_rst: the peers get RST, else FIN (close of a socket with unread
 * data sends RST anyway: use conn_cut_fin for a clean FIN). */
static void conn_kill(proxy_t *p, conn_t *c, bool is_rst)
{
    if (c->state == CONN_DEAD) {
        return;
    }
    for (int s = 0; s < 2; s++) {
        if (c->fd[s] >= 0) {
            if (is_rst) {
                close_rst(c->fd[s]);
            } else {
                close(c->fd[s]);
            }
            c->fd[s] = -1;
        }
    }
    conn_discard_buffers(p, c);
    c->state = CONN_DEAD;
    p->stats.closed++;
}

/* FIN both ways: shutdown(SHUT_WR) now, then read and drop until each peer closes too (or
 * CUT_LINGER_MS), so that close() never finds unread data and turns the FIN into RST. */
static void conn_cut_fin(proxy_t *p, conn_t *c, int64_t now)
{
    if (c->state == CONN_CONNECTING) {
        conn_kill(p, c, false);
        return;
    }
    for (int s = 0; s < 2; s++) {
        if (c->fd[s] >= 0) {
            (void)shutdown(c->fd[s], SHUT_WR);
        }
    }
    conn_discard_buffers(p, c);
    c->state = CONN_CLOSING;
    c->stall_until_ms = 0;
    c->closing_deadline_ms = now + CUT_LINGER_MS;
}

static void conn_silence(proxy_t *p, conn_t *c, silence_dir_t which)
{
    if (which == SILENCE_ANY) {
        which = (silence_dir_t)(splitmix64(&c->rng) % 3u);
    }
    for (int d = 0; d < 2; d++) {
        bool is_hit = which == SILENCE_BOTH || (which == SILENCE_UP && d == DIR_UP) ||
                      (which == SILENCE_DOWN && d == DIR_DOWN);
        if (is_hit) {
            c->dir[d].is_silenced = true;
            p->stats.discarded[d] += c->dir[d].len;
            c->dir[d].off = 0;
            c->dir[d].len = 0;
        }
    }
    c->next_fault_ms = INT64_MAX; /* silent until the client gives up */
    log_event(p, "conn=%" PRIu64 " fault silence dir=%s", c->id, silence_names[which]);
}

static void conn_split(conn_t *c, int64_t until_ms)
{
    for (int d = 0; d < 2; d++) {
        c->dir[d].split_until_ms = until_ms;
        c->dir[d].next_piece_ms = 0;
    }
}

static void conn_apply(proxy_t *p, conn_t *c, fault_kind_t kind, int64_t now, uint32_t ms,
                       silence_dir_t which)
{
    if (c->state == CONN_DEAD || c->state == CONN_CLOSING) {
        return;
    }
    if (kind != FAULT_NONE) {
        p->stats.faults[kind]++;
        c->fault_count++;
    }
    switch (kind) {
    case FAULT_FIN:
        log_event(p, "conn=%" PRIu64 " fault fin", c->id);
        conn_cut_fin(p, c, now);
        break;
    case FAULT_RST:
        log_event(p, "conn=%" PRIu64 " fault rst", c->id);
        conn_kill(p, c, true);
        break;
    case FAULT_SILENCE:
        conn_silence(p, c, which);
        break;
    case FAULT_DELAY:
        log_event(p, "conn=%" PRIu64 " fault delay ms=%" PRIu32, c->id, ms);
        c->stall_until_ms = now + ms;
        conn_schedule_fault(p, c, c->stall_until_ms);
        break;
    case FAULT_SPLIT:
        log_event(p, "conn=%" PRIu64 " fault split ms=%" PRIu32, c->id, ms);
        conn_split(c, now + ms);
        conn_schedule_fault(p, c, now + ms);
        break;
    case FAULT_NONE:
    case FAULT_COUNT:
        conn_schedule_fault(p, c, now);
        break;
    }
}

static void conn_random_fault(proxy_t *p, conn_t *c, int64_t now)
{
    fault_kind_t kind = spec_draw(&p->spec, &c->rng);
    uint32_t ms = 0;
    if (kind == FAULT_DELAY) {
        ms = rng_range(&c->rng, p->spec.stall_ms);
    } else if (kind == FAULT_SPLIT) {
        ms = rng_range(&c->rng, p->spec.split_ms);
    }
    if (kind == FAULT_NONE) {
        p->stats.faults[FAULT_NONE]++;
    }
    conn_apply(p, c, kind, now, ms, p->spec.silence_dir);
}

static void conn_timers(proxy_t *p, conn_t *c, int64_t now)
{
    if (c->state == CONN_CLOSING && now >= c->closing_deadline_ms) {
        conn_kill(p, c, false);
    }
    if (c->state != CONN_OPEN) {
        return;
    }
    if (c->stall_until_ms != 0 && now >= c->stall_until_ms) {
        c->stall_until_ms = 0;
    }
    if (p->is_random_on && now >= c->next_fault_ms) {
        conn_random_fault(p, c, now);
    }
}

static conn_t *conn_new(proxy_t *p, int client_fd, int64_t now)
{
    conn_t *c = calloc(1, sizeof *c + 2u * BUF_CAP);
    if (c == NULL) {
        return NULL;
    }
    uint8_t *mem = (uint8_t *)(c + 1);
    c->dir[DIR_UP].buf = mem;
    c->dir[DIR_DOWN].buf = mem + BUF_CAP;
    c->id = ++p->next_id;
    c->fd[SIDE_CLIENT] = client_fd;
    c->fd[SIDE_UPSTREAM] = -1;
    uint64_t s = p->seed ^ (c->id * 0xD1B54A32D192ED03u);
    c->rng = splitmix64(&s);
    conn_schedule_fault(p, c, now);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || set_nonblocking(fd) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        free(c);
        return NULL;
    }
    set_nodelay(fd);
    c->fd[SIDE_UPSTREAM] = fd;
    if (connect(fd, (const struct sockaddr *)&p->upstream_addr, sizeof p->upstream_addr) == 0) {
        c->state = CONN_OPEN;
    } else if (errno == EINPROGRESS) {
        c->state = CONN_CONNECTING;
    } else {
        c->state = CONN_CONNECTING; /* reported as a failed connect on the next turn */
        c->connect_errno = errno;
    }
    return c;
}

/* The upstream connect finished (POLLOUT or error). */
static void conn_connected(proxy_t *p, conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (c->connect_errno != 0) {
        err = c->connect_errno;
    } else if (getsockopt(c->fd[SIDE_UPSTREAM], SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (err != 0) {
        p->stats.upstream_failed++;
        log_event(p, "conn=%" PRIu64 " upstream connect failed: %s", c->id, strerror(err));
        conn_kill(p, c, true); /* the client sees a reset, the nearest thing to "refused" */
        return;
    }
    c->state = CONN_OPEN;
    log_event(p, "conn=%" PRIu64 " upstream connected", c->id);
}

static bool dir_can_read(const conn_t *c, int d, int64_t now)
{
    const pipe_dir_t *pd = &c->dir[d];
    if (c->state == CONN_CLOSING) {
        return c->fd[d] >= 0;
    }
    if (c->state != CONN_OPEN || c->fd[d] < 0 || pd->is_src_eof || conn_is_stalled(c, now)) {
        return false;
    }
    return pd->is_silenced || pd->len < BUF_CAP;
}

static bool dir_in_split(const pipe_dir_t *pd, int64_t now)
{
    return pd->split_until_ms > now;
}

static bool dir_can_write(const conn_t *c, int d, int64_t now)
{
    const pipe_dir_t *pd = &c->dir[d];
    if (c->state != CONN_OPEN || pd->len == 0 || c->fd[1 - d] < 0 || pd->is_silenced ||
        conn_is_stalled(c, now)) {
        return false;
    }
    return !dir_in_split(pd, now) || now >= pd->next_piece_ms;
}

static void conn_finish_if_done(proxy_t *p, conn_t *c)
{
    if (c->state == CONN_CLOSING) {
        if (c->fd[0] < 0 && c->fd[1] < 0) {
            conn_kill(p, c, false);
        }
        return;
    }
    if (c->state != CONN_OPEN) {
        return;
    }
    /* pass a FIN on once everything before it has been written */
    for (int d = 0; d < 2; d++) {
        pipe_dir_t *pd = &c->dir[d];
        if (pd->is_src_eof && pd->len == 0 && !pd->is_dst_shut && !pd->is_silenced &&
            c->fd[1 - d] >= 0) {
            (void)shutdown(c->fd[1 - d], SHUT_WR);
            pd->is_dst_shut = true;
        }
    }
    bool is_done = true;
    for (int d = 0; d < 2; d++) {
        is_done =
            is_done && c->dir[d].is_src_eof && (c->dir[d].is_dst_shut || c->dir[d].is_silenced);
    }
    if (is_done) {
        log_event(p, "conn=%" PRIu64 " closed by both peers", c->id);
        conn_kill(p, c, false);
    }
}

/* Source @p d reset or failed: pass the reset on. While silenced, the upstream's end is
 * swallowed (a half-open connection: the client must notice by itself). */
static void conn_src_gone(proxy_t *p, conn_t *c, int d, bool is_error)
{
    bool is_hidden = d == SIDE_UPSTREAM && c->dir[DIR_DOWN].is_silenced;
    if (is_hidden) {
        log_event(p, "conn=%" PRIu64 " upstream closed while silenced: hidden from the client",
                  c->id);
        close(c->fd[SIDE_UPSTREAM]);
        c->fd[SIDE_UPSTREAM] = -1;
        c->dir[DIR_DOWN].is_src_eof = true;
        c->dir[DIR_UP].is_silenced = true; /* no one to forward to any more */
        p->stats.discarded[DIR_UP] += c->dir[DIR_UP].len;
        c->dir[DIR_UP].len = 0;
        c->dir[DIR_UP].off = 0;
        return;
    }
    if (is_error) {
        log_event(p, "conn=%" PRIu64 " %s reset: resetting the other side", c->id,
                  d == SIDE_CLIENT ? "client" : "upstream");
        conn_kill(p, c, true);
        return;
    }
    /* EOF from a silenced direction: the client gave up (or the upstream closed): end it */
    log_event(p, "conn=%" PRIu64 " %s closed while silenced", c->id,
              d == SIDE_CLIENT ? "client" : "upstream");
    conn_kill(p, c, false);
}

static void dir_write(proxy_t *p, conn_t *c, int d, int64_t now)
{
    pipe_dir_t *pd = &c->dir[d];
    while (dir_can_write(c, d, now)) {
        size_t n = pd->len;
        bool is_split = dir_in_split(pd, now);
        if (is_split) {
            size_t piece = rng_range(&c->rng, p->spec.chunk_len);
            n = piece < n ? piece : n;
        }
        ssize_t w = send(c->fd[1 - d], pd->buf + pd->off, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return; /* wait for POLLOUT */
            }
            log_event(p, "conn=%" PRIu64 " write to %s failed: %s", c->id,
                      d == DIR_UP ? "upstream" : "client", strerror(errno));
            conn_kill(p, c, true);
            return;
        }
        pd->off += (size_t)w;
        pd->len -= (size_t)w;
        p->stats.bytes[d] += (uint64_t)w;
        if (pd->len == 0) {
            pd->off = 0;
        }
        if (is_split) {
            pd->next_piece_ms = now + p->spec.gap_ms;
            if (p->spec.gap_ms > 0) {
                return; /* one piece per gap */
            }
        }
    }
}

static void dir_read(proxy_t *p, conn_t *c, int d, int64_t now)
{
    pipe_dir_t *pd = &c->dir[d];
    uint8_t scratch[4096];
    bool is_discard = pd->is_silenced || c->state == CONN_CLOSING;
    uint8_t *dst = scratch;
    size_t room = sizeof scratch;
    if (!is_discard) {
        if (pd->off > 0 && pd->off + pd->len == BUF_CAP) {
            memmove(pd->buf, pd->buf + pd->off, pd->len);
            pd->off = 0;
        }
        dst = pd->buf + pd->off + pd->len;
        room = BUF_CAP - pd->off - pd->len;
    }
    ssize_t r = recv(c->fd[d], dst, room, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (c->state == CONN_CLOSING) {
        if (r > 0) {
            p->stats.discarded[d] += (uint64_t)r;
        } else {
            close(c->fd[d]);
            c->fd[d] = -1;
            conn_finish_if_done(p, c);
        }
        return;
    }
    if (r < 0) {
        conn_src_gone(p, c, d, true);
        return;
    }
    if (r == 0) {
        if (is_discard) {
            conn_src_gone(p, c, d, false);
            return;
        }
        log_event(p, "conn=%" PRIu64 " %s sent FIN", c->id,
                  d == SIDE_CLIENT ? "client" : "upstream");
        pd->is_src_eof = true;
        conn_finish_if_done(p, c);
        return;
    }
    if (is_discard) {
        p->stats.discarded[d] += (uint64_t)r;
        return;
    }
    pd->len += (size_t)r;
    dir_write(p, c, d, now); /* most bytes leave at once: saves a poll() turn */
    if (c->state == CONN_OPEN) {
        conn_finish_if_done(p, c);
    }
}

/* ---- stats and control ----------------------------------------------------------------- */

static void stats_json(const proxy_t *p, const char *event, char *out, size_t out_len)
{
    const stats_t *s = &p->stats;
    uint64_t total = 0;
    for (int k = 0; k < FAULT_NONE; k++) {
        total += s->faults[k];
    }
    snprintf(out, out_len,
             "{\"event\":\"%s\",\"seed\":%" PRIu64 ",\"uptime_ms\":%" PRId64
             ",\"accepted\":%" PRIu64 ",\"active\":%" PRIu32 ",\"closed\":%" PRIu64
             ",\"rejected\":%" PRIu64 ",\"upstream_failed\":%" PRIu64
             ",\"faults\":{\"fin\":%" PRIu64 ",\"rst\":%" PRIu64 ",\"silence\":%" PRIu64
             ",\"delay\":%" PRIu64 ",\"split\":%" PRIu64 "},\"faults_total\":%" PRIu64
             ",\"draws_none\":%" PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
             ",\"discarded_up\":%" PRIu64 ",\"discarded_down\":%" PRIu64
             ",\"paused\":%s,\"random_faults\":%s}",
             event, p->seed, now_ms() - p->start_ms, s->accepted, p->conn_count, s->closed,
             s->rejected, s->upstream_failed, s->faults[FAULT_FIN], s->faults[FAULT_RST],
             s->faults[FAULT_SILENCE], s->faults[FAULT_DELAY], s->faults[FAULT_SPLIT], total,
             s->faults[FAULT_NONE], s->bytes[DIR_UP], s->bytes[DIR_DOWN], s->discarded[DIR_UP],
             s->discarded[DIR_DOWN], p->pause == PAUSE_NONE ? "false" : "true",
             p->is_random_on && p->spec.is_enabled ? "true" : "false");
}

static void print_stats(const proxy_t *p, const char *event)
{
    char line[1024];
    stats_json(p, event, line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
}

/* Replies are short: one non-blocking send; a client that does not read loses them. */
static void ctl_reply(ctl_client_t *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_reply(ctl_client_t *cc, const char *fmt, ...)
{
    char line[1100];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof line - 2 ? (size_t)n : sizeof line - 2;
    line[len++] = '\n';
    if (cc->fd == STDIN_FILENO) {
        fwrite(line, 1, len, stdout);
        fflush(stdout);
    } else {
        (void)send(cc->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
}

static const char ctl_help[] =
    "commands: cut-all fin|rst | silence-all [both|up|down] | delay-all MS | split-all MS | "
    "pause [hold|rst] | resume | faults on|off | stats | help | quit";

static bool parse_ms_arg(const char *s, uint32_t *ms)
{
    uint64_t v = 0;
    if (!parse_u64(s, 3600000, &v)) {
        return false;
    }
    *ms = (uint32_t)v;
    return true;
}

static void ctl_command(proxy_t *p, ctl_client_t *cc, char *line)
{
    char *argv[3] = {NULL, NULL, NULL};
    int argc = 0;
    char *s = line;
    while (*s != '\0' && argc < 3) {
        while (*s == ' ' || *s == '\t' || *s == '\r') {
            *s++ = '\0';
        }
        if (*s == '\0') {
            break;
        }
        argv[argc++] = s;
        while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r') {
            s++;
        }
    }
    if (argc == 0 || argv[0][0] == '#') {
        return;
    }
    log_event(p, "control: %s%s%s", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    int64_t now = now_ms();
    const char *cmd = argv[0];
    const char *arg = argv[1];
    uint32_t affected = 0;
    if (strcmp(cmd, "cut-all") == 0 && arg != NULL &&
        (strcmp(arg, "fin") == 0 || strcmp(arg, "rst") == 0)) {
        fault_kind_t kind = strcmp(arg, "fin") == 0 ? FAULT_FIN : FAULT_RST;
        for (uint32_t i = 0; i < p->conn_count; i++) {
            conn_t *c = p->conns[i];
            if (c->state == CONN_OPEN || c->state == CONN_CONNECTING) {
                conn_apply(p, c, kind, now, 0, SILENCE_BOTH);
                affected++;
            }
        }
        ctl_reply(cc, "ok cut-all %s %" PRIu32, arg, affected);
    } else if (strcmp(cmd, "silence-all") == 0) {
        silence_dir_t which = SILENCE_BOTH;
        if (arg != NULL && strcmp(arg, "up") == 0) {
            which = SILENCE_UP;
        } else if (arg != NULL && strcmp(arg, "down") == 0) {
            which = SILENCE_DOWN;
        } else if (arg != NULL && strcmp(arg, "both") != 0) {
            ctl_reply(cc, "err silence-all: direction is both, up or down");
            return;
        }
        for (uint32_t i = 0; i < p->conn_count; i++) {
            conn_t *c = p->conns[i];
            if (c->state == CONN_OPEN || c->state == CONN_CONNECTING) {
                conn_apply(p, c, FAULT_SILENCE, now, 0, which);
                affected++;
            }
        }
        ctl_reply(cc, "ok silence-all %s %" PRIu32, silence_names[which], affected);
    } else if ((strcmp(cmd, "delay-all") == 0 || strcmp(cmd, "split-all") == 0)) {
        uint32_t ms = 0;
        if (arg == NULL || !parse_ms_arg(arg, &ms)) {
            ctl_reply(cc, "err %s: give the length in ms (0-3600000)", cmd);
            return;
        }
        fault_kind_t kind = cmd[0] == 'd' ? FAULT_DELAY : FAULT_SPLIT;
        for (uint32_t i = 0; i < p->conn_count; i++) {
            conn_t *c = p->conns[i];
            if (c->state == CONN_OPEN || c->state == CONN_CONNECTING) {
                conn_apply(p, c, kind, now, ms, SILENCE_BOTH);
                affected++;
            }
        }
        ctl_reply(cc, "ok %s %" PRIu32 " %" PRIu32, cmd, ms, affected);
    } else if (strcmp(cmd, "pause") == 0) {
        if (arg != NULL && strcmp(arg, "rst") == 0) {
            p->pause = PAUSE_RST;
        } else if (arg == NULL || strcmp(arg, "hold") == 0) {
            p->pause = PAUSE_HOLD;
        } else {
            ctl_reply(cc, "err pause: mode is hold or rst");
            return;
        }
        ctl_reply(cc, "ok pause %s", p->pause == PAUSE_RST ? "rst" : "hold");
    } else if (strcmp(cmd, "resume") == 0) {
        p->pause = PAUSE_NONE;
        ctl_reply(cc, "ok resume");
    } else if (strcmp(cmd, "faults") == 0 && arg != NULL &&
               (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)) {
        bool is_on = strcmp(arg, "on") == 0;
        if (is_on && !p->is_random_on) {
            for (uint32_t i = 0; i < p->conn_count; i++) {
                if (p->conns[i]->next_fault_ms != INT64_MAX) {
                    conn_schedule_fault(p, p->conns[i], now); /* no burst of overdue faults */
                }
            }
        }
        p->is_random_on = is_on;
        ctl_reply(cc, "ok faults %s", arg);
    } else if (strcmp(cmd, "stats") == 0) {
        char json[1024];
        stats_json(p, "stats", json, sizeof json);
        ctl_reply(cc, "%s", json);
    } else if (strcmp(cmd, "help") == 0) {
        ctl_reply(cc, "ok %s", ctl_help);
    } else if (strcmp(cmd, "quit") == 0) {
        ctl_reply(cc, "ok quit");
        p->is_stopping = true;
    } else {
        ctl_reply(cc, "err unknown command '%s' (%s)", cmd, ctl_help);
    }
}

/* Read what is there; run each complete line. Returns false when the peer closed. */
static bool ctl_read(proxy_t *p, ctl_client_t *cc)
{
    char buf[512];
    ssize_t r = read(cc->fd, buf, sizeof buf);
    if (r < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    if (r == 0) {
        return false;
    }
    for (ssize_t i = 0; i < r; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (cc->is_overlong) {
                ctl_reply(cc, "err line longer than %u bytes", CTL_LINE_MAX - 1);
            } else {
                cc->line[cc->len] = '\0';
                ctl_command(p, cc, cc->line);
            }
            cc->len = 0;
            cc->is_overlong = false;
        } else if (cc->len + 1 < CTL_LINE_MAX) {
            cc->line[cc->len++] = ch;
        } else {
            cc->is_overlong = true;
        }
    }
    return true;
}

/* ---- setup ----------------------------------------------------------------------------- */

static int listen_tcp(proxy_t *p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&p->listen_addr, sizeof p->listen_addr) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0 || set_nonblocking(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    socklen_t len = sizeof p->listen_addr;
    (void)getsockname(fd, (struct sockaddr *)&p->listen_addr, &len);
    return fd;
}

/* Written whole under a temporary name, then renamed: a reader never sees half a number. */
static int write_port_file(const char *path, uint16_t port)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "%u\n", (unsigned)port);
    if (fclose(f) != 0) {
        return -1;
    }
    return rename(tmp, path);
}

static int listen_unix(proxy_t *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(p->ctl_path);
    if (n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, p->ctl_path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    /* bind fails with EADDRINUSE on an existing path: never remove a file we did not make */
    if (bind(fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    p->is_ctl_socket_ours = true;
    if (listen(fd, 4) != 0 || set_nonblocking(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (g_signal_pipe[1] >= 0) {
        ssize_t w = write(g_signal_pipe[1], &b, 1); /* full pipe: a wake-up is pending */
        (void)w;
    }
    errno = saved;
}

static int install_signals(void)
{
    if (pipe(g_signal_pipe) != 0 || set_nonblocking(g_signal_pipe[0]) != 0 ||
        set_nonblocking(g_signal_pipe[1]) != 0) {
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0) {
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void usage(FILE *out)
{
    fputs("usage: faultproxy --listen 127.0.0.1:PORT|0 --upstream 127.0.0.1:PORT [options]\n"
          "A fault-injecting TCP proxy for chaos tests. Each client connection gets its own\n"
          "connection to --upstream (the only address it ever connects to).\n"
          "\n"
          "options:\n"
          "  --listen ADDR:PORT   where to accept; PORT 0 picks a free port (see --port-file)\n"
          "  --upstream ADDR:PORT the server to forward to (IPv4)\n"
          "  --seed N             PRNG seed (default: from time and pid; printed in stats)\n"
          "  --faults SPEC        random faults, see below (default: none)\n"
          "  --port-file F        write the listening port to F (atomically) once listening\n"
          "  --control -|PATH     command lines on stdin (-) or on a new UNIX socket PATH\n"
          "  --log F|-            event log (one line per event) to F, or - for stderr\n"
          "  --max-conns N        concurrent client connections (default 256); more wait in\n"
          "                       the listen backlog\n"
          "  --duration-s N       exit after N seconds (default: run until SIGTERM/quit)\n"
          "  --help               this text\n"
          "\n"
          "SPEC: comma-separated items, KIND:WEIGHT or KEY=VALUE, e.g.\n"
          "  fin:0.3,rst:0.3,silence:0.2,delay:0.2,every=200-800ms\n"
          "Each connection draws a fault every EVERY ms (uniform in the range, first draw\n"
          "counted from accept); WEIGHT is the probability of KIND per draw (if the weights\n"
          "sum to less than 1 the rest is 'none', above 1 they are scaled to sum to 1).\n"
          "  fin      shutdown(SHUT_WR) both sockets (FIN both ways), drain, close\n"
          "  rst      close both sockets with SO_LINGER 0 (RST both ways)\n"
          "  silence  stop forwarding (silence-dir) but keep both sockets open until the\n"
          "           client closes: a half-open connection for keepalive tests; bytes read\n"
          "           are dropped; no further draws on that connection\n"
          "  delay    stop reading and writing both ways for STALL ms (back-pressure)\n"
          "  split    for SPLIT ms, write in pieces of CHUNK bytes, GAP ms apart\n"
          "  none     nothing this draw\n"
          "keys (ranges are A-B or A; times take ms (default) or s):\n"
          "  every=200-800ms  stall=100-500ms  split=500-1500ms  chunk=1-3  gap=1ms\n"
          "  silence-dir=both|up|down|any (default both; up = client->upstream)\n"
          "  max=N            at most N faults per connection (default: no limit)\n"
          "\n"
          "control commands (one per line; reply 'ok ...', 'err ...' or a JSON line):\n"
          "  cut-all fin|rst            cut every connection now\n"
          "  silence-all [both|up|down] make every connection half-open\n"
          "  delay-all MS | split-all MS  stall / split every connection for MS ms\n"
          "  pause [hold|rst]           stop accepting (hold: leave new connections in the\n"
          "                             backlog; rst: accept and reset them); resume\n"
          "  faults on|off              start/stop the random faults of --faults\n"
          "  stats                      counters as one JSON line; help; quit\n"
          "\n"
          "Counters are printed to stdout as one JSON line on SIGUSR1 and at exit.\n"
          "Exit: 0 after --duration-s, quit, SIGTERM or SIGINT; 1 on a setup error; 2 usage.\n",
          out);
}

typedef struct args {
    const char *listen;
    const char *upstream;
    const char *seed;
    const char *faults;
    const char *port_file;
    const char *control;
    const char *log;
    const char *max_conns;
    const char *duration_s;
} args_t;

static int parse_args(int argc, char **argv, args_t *a)
{
    memset(a, 0, sizeof *a);
    const struct {
        const char *name;
        const char **value;
    } opts[] = {
        {"--listen", &a->listen}, {"--upstream", &a->upstream},   {"--seed", &a->seed},
        {"--faults", &a->faults}, {"--port-file", &a->port_file}, {"--control", &a->control},
        {"--log", &a->log},       {"--max-conns", &a->max_conns}, {"--duration-s", &a->duration_s},
    };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        bool is_known = false;
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
            if (strcmp(argv[i], opts[o].name) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "faultproxy: %s needs a value\n", argv[i]);
                    return -1;
                }
                *opts[o].value = argv[++i];
                is_known = true;
            }
        }
        if (!is_known) {
            fprintf(stderr, "faultproxy: unknown option '%s' (see --help)\n", argv[i]);
            return -1;
        }
    }
    if (a->listen == NULL || a->upstream == NULL) {
        fprintf(stderr, "faultproxy: --listen and --upstream are required (see --help)\n");
        return -1;
    }
    return 0;
}

static int setup(proxy_t *p, const args_t *a)
{
    uint64_t v = 0;
    if (!parse_addr(a->listen, true, &p->listen_addr)) {
        fprintf(stderr, "faultproxy: --listen: expected IPv4:PORT, got '%s'\n", a->listen);
        return 2;
    }
    if (!parse_addr(a->upstream, false, &p->upstream_addr)) {
        fprintf(stderr, "faultproxy: --upstream: expected IPv4:PORT (not 0), got '%s'\n",
                a->upstream);
        return 2;
    }
    p->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (a->seed != NULL && !parse_u64(a->seed, UINT64_MAX, &p->seed)) {
        fprintf(stderr, "faultproxy: --seed: expected an unsigned integer, got '%s'\n", a->seed);
        return 2;
    }
    char err[160];
    if (!spec_parse(a->faults != NULL ? a->faults : "", &p->spec, err, sizeof err)) {
        fprintf(stderr, "faultproxy: --faults: %s (see --help)\n", err);
        return 2;
    }
    p->is_random_on = true;
    p->max_conns = DEFAULT_MAX_CONNS;
    if (a->max_conns != NULL) {
        if (!parse_u64(a->max_conns, 65536, &v) || v == 0) {
            fprintf(stderr, "faultproxy: --max-conns: expected 1-65536, got '%s'\n", a->max_conns);
            return 2;
        }
        p->max_conns = (uint32_t)v;
    }
    p->start_ms = now_ms();
    p->end_ms = INT64_MAX;
    if (a->duration_s != NULL) {
        if (!parse_u64(a->duration_s, 86400u * 365u, &v)) {
            fprintf(stderr, "faultproxy: --duration-s: expected seconds, got '%s'\n",
                    a->duration_s);
            return 2;
        }
        p->end_ms = p->start_ms + (int64_t)v * 1000;
    }
    if (a->log != NULL) {
        p->log = strcmp(a->log, "-") == 0 ? stderr : fopen(a->log, "a");
        if (p->log == NULL) {
            fprintf(stderr, "faultproxy: open log %s: %s\n", a->log, strerror(errno));
            return 1;
        }
        setvbuf(p->log, NULL, _IOLBF, 0);
    }
    p->conns = calloc(p->max_conns, sizeof *p->conns);
    if (p->conns == NULL) {
        fprintf(stderr, "faultproxy: out of memory\n");
        return 1;
    }
    if (install_signals() != 0) {
        fprintf(stderr, "faultproxy: signals: %s\n", strerror(errno));
        return 1;
    }
    p->listen_fd = listen_tcp(p);
    if (p->listen_fd < 0) {
        fprintf(stderr, "faultproxy: listen on %s: %s\n", a->listen, strerror(errno));
        return 1;
    }
    p->ctl_path = a->control;
    if (a->control != NULL && strcmp(a->control, "-") == 0) {
        p->ctl[CTL_MAX_CLIENTS].fd = STDIN_FILENO;
    } else if (a->control != NULL) {
        p->ctl_listen_fd = listen_unix(p);
        if (p->ctl_listen_fd < 0) {
            fprintf(stderr, "faultproxy: control socket %s: %s\n", a->control, strerror(errno));
            return 1;
        }
    }
    uint16_t port = ntohs(p->listen_addr.sin_port);
    if (a->port_file != NULL && write_port_file(a->port_file, port) != 0) {
        fprintf(stderr, "faultproxy: --port-file %s: %s\n", a->port_file, strerror(errno));
        return 1;
    }
    char up[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &p->upstream_addr.sin_addr, up, sizeof up);
    log_event(p, "listening on port %u, upstream %s:%u, seed %" PRIu64 ", faults '%s'",
              (unsigned)port, up, (unsigned)ntohs(p->upstream_addr.sin_port), p->seed,
              a->faults != NULL ? a->faults : "");
    return 0;
}

/* ---- the loop -------------------------------------------------------------------------- */

static void accept_all(proxy_t *p, int64_t now)
{
    while (p->conn_count < p->max_conns) {
        int fd = accept(p->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the connection stays in the backlog and poll() would report it again at
                 * once: wait a little instead of spinning */
                p->accept_after_ms = now + 100;
            }
            return; /* EAGAIN, ECONNABORTED, ...: poll() tells us when there is more */
        }
        if (p->pause == PAUSE_RST) {
            p->stats.rejected++;
            close_rst(fd);
            continue;
        }
        if (set_nonblocking(fd) != 0) {
            close(fd);
            continue;
        }
        set_nodelay(fd);
        conn_t *c = conn_new(p, fd, now);
        if (c == NULL) {
            close_rst(fd);
            continue;
        }
        p->stats.accepted++;
        p->conns[p->conn_count++] = c;
        log_event(p, "conn=%" PRIu64 " accepted", c->id);
    }
}

static void reap(proxy_t *p)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < p->conn_count; i++) {
        if (p->conns[i]->state == CONN_DEAD) {
            free(p->conns[i]);
        } else {
            p->conns[j++] = p->conns[i];
        }
    }
    p->conn_count = j;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The earliest time something is due with no socket event. */
static int64_t next_deadline(const proxy_t *p, int64_t now)
{
    int64_t t = p->end_ms;
    if (p->accept_after_ms > now) {
        t = min64(t, p->accept_after_ms);
    }
    for (uint32_t i = 0; i < p->conn_count; i++) {
        const conn_t *c = p->conns[i];
        if (c->state == CONN_CLOSING) {
            t = min64(t, c->closing_deadline_ms);
        }
        if (c->state != CONN_OPEN) {
            continue;
        }
        if (c->stall_until_ms > now) {
            t = min64(t, c->stall_until_ms);
        }
        if (p->is_random_on) {
            t = min64(t, c->next_fault_ms);
        }
        for (int d = 0; d < 2; d++) {
            const pipe_dir_t *pd = &c->dir[d];
            if (pd->len > 0 && dir_in_split(pd, now) && pd->next_piece_ms > now) {
                t = min64(t, pd->next_piece_ms);
            }
        }
    }
    return t;
}

typedef struct slot {
    conn_t *conn; /* NULL: not a connection fd */
    int side;
} slot_t;

static int run(proxy_t *p)
{
    size_t cap = 3u + CTL_MAX_CLIENTS + 1u + 2u * (size_t)p->max_conns;
    struct pollfd *pfd = calloc(cap, sizeof *pfd);
    slot_t *slot = calloc(cap, sizeof *slot);
    if (pfd == NULL || slot == NULL) {
        free(pfd);
        free(slot);
        fprintf(stderr, "faultproxy: out of memory\n");
        return 1;
    }
    while (!p->is_stopping) {
        int64_t now = now_ms();
        if (now >= p->end_ms) {
            log_event(p, "--duration-s reached");
            break;
        }
        for (uint32_t i = 0; i < p->conn_count; i++) {
            conn_timers(p, p->conns[i], now);
        }
        reap(p); /* bytes held by a stall or split window go out on POLLOUT below */

        nfds_t n = 0;
        pfd[n] = (struct pollfd){.fd = g_signal_pipe[0], .events = POLLIN};
        slot[n++] = (slot_t){NULL, 0};
        bool is_accepting =
            p->pause != PAUSE_HOLD && p->conn_count < p->max_conns && now >= p->accept_after_ms;
        pfd[n] = (struct pollfd){.fd = is_accepting ? p->listen_fd : -1, .events = POLLIN};
        slot[n++] = (slot_t){NULL, 1};
        pfd[n] = (struct pollfd){.fd = p->ctl_listen_fd, .events = POLLIN};
        slot[n++] = (slot_t){NULL, 2};
        nfds_t ctl_base = n;
        for (uint32_t i = 0; i <= CTL_MAX_CLIENTS; i++) {
            pfd[n] = (struct pollfd){.fd = p->ctl[i].fd, .events = POLLIN};
            slot[n++] = (slot_t){NULL, 3};
        }
        for (uint32_t i = 0; i < p->conn_count; i++) {
            conn_t *c = p->conns[i];
            for (int s = 0; s < 2; s++) {
                short ev = 0;
                if (c->state == CONN_CONNECTING) {
                    ev = s == SIDE_UPSTREAM ? POLLOUT : 0;
                } else {
                    ev = (short)((dir_can_read(c, s, now) ? POLLIN : 0) |
                                 (dir_can_write(c, 1 - s, now) ? POLLOUT : 0));
                }
                /* after POLLHUP, poll() reports it at once even for events 0: leave the
                 * side out until we read it again (an error is handled, not left out) */
                int fd = c->is_hup[s] && (ev & POLLIN) == 0 ? -1 : c->fd[s];
                pfd[n] = (struct pollfd){.fd = fd, .events = ev};
                slot[n++] = (slot_t){c, s};
            }
        }
        int64_t wait = next_deadline(p, now) - now_ms();
        int timeout = (int)(wait < 0 ? 0 : wait > POLL_MAX_MS ? POLL_MAX_MS : wait);
        int ready = poll(pfd, n, timeout);
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "faultproxy: poll: %s\n", strerror(errno));
            break;
        }
        if (ready <= 0) {
            continue;
        }
        now = now_ms();
        if (pfd[0].revents != 0) {
            unsigned char sig[16];
            ssize_t r = read(g_signal_pipe[0], sig, sizeof sig);
            for (ssize_t i = 0; i < r; i++) {
                if (sig[i] == SIGUSR1) {
                    print_stats(p, "stats");
                } else {
                    log_event(p, "signal %d: stopping", sig[i]);
                    p->is_stopping = true;
                }
            }
        }
        if (pfd[1].revents != 0) {
            accept_all(p, now);
        }
        if (pfd[2].revents != 0) {
            int fd = accept(p->ctl_listen_fd, NULL, NULL);
            if (fd >= 0) {
                uint32_t i = 0;
                while (i < CTL_MAX_CLIENTS && p->ctl[i].fd >= 0) {
                    i++;
                }
                if (i == CTL_MAX_CLIENTS || set_nonblocking(fd) != 0) {
                    close(fd); /* too many control clients */
                } else {
                    p->ctl[i] = (ctl_client_t){.fd = fd};
                }
            }
        }
        for (uint32_t i = 0; i <= CTL_MAX_CLIENTS; i++) {
            ctl_client_t *cc = &p->ctl[i];
            /* a slot filled during this turn was polled as -1: revents is 0 */
            if (pfd[ctl_base + i].revents != 0 && cc->fd >= 0 && !ctl_read(p, cc)) {
                if (cc->fd != STDIN_FILENO) {
                    close(cc->fd);
                }
                cc->fd = -1; /* stdin at EOF: keep running without it */
            }
        }
        for (nfds_t i = ctl_base + CTL_MAX_CLIENTS + 1; i < n; i++) {
            conn_t *c = slot[i].conn;
            short re = pfd[i].revents;
            int s = slot[i].side;
            if (re == 0 || c->state == CONN_DEAD || c->fd[s] != pfd[i].fd) {
                continue;
            }
            if (c->state == CONN_CONNECTING && s == SIDE_UPSTREAM) {
                conn_connected(p, c);
                continue;
            }
            if ((pfd[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
                dir_read(p, c, s, now);
            } else if (re & (POLLERR | POLLNVAL) || c->state == CONN_CONNECTING) {
                /* not reading this side now (stall, full buffer, connecting): an error
                 * would be reported again at once, so act on it now */
                log_event(p, "conn=%" PRIu64 " %s failed", c->id,
                          s == SIDE_CLIENT ? "client" : "upstream");
                conn_kill(p, c, true);
                continue;
            } else if (re & POLLHUP) {
                c->is_hup[s] = true; /* both ways shut: read the rest once there is room */
            }
            if (c->state == CONN_OPEN && (re & POLLOUT)) {
                dir_write(p, c, 1 - s, now);
                conn_finish_if_done(p, c);
            }
        }
        reap(p);
    }
    free(pfd);
    free(slot);
    return 0;
}

static void shutdown_all(proxy_t *p)
{
    for (uint32_t i = 0; i < p->conn_count; i++) {
        conn_kill(p, p->conns[i], false);
    }
    reap(p);
    free(p->conns);
    for (uint32_t i = 0; i < CTL_MAX_CLIENTS; i++) {
        if (p->ctl[i].fd >= 0) {
            close(p->ctl[i].fd);
        }
    }
    if (p->ctl_listen_fd >= 0) {
        close(p->ctl_listen_fd);
    }
    if (p->is_ctl_socket_ours) {
        unlink(p->ctl_path);
    }
    if (p->listen_fd >= 0) {
        close(p->listen_fd);
    }
}

int main(int argc, char **argv)
{
    args_t a;
    if (parse_args(argc, argv, &a) != 0) {
        return 2;
    }
    static proxy_t proxy; /* large: keep it off the stack */
    proxy.listen_fd = -1;
    proxy.ctl_listen_fd = -1;
    for (uint32_t i = 0; i <= CTL_MAX_CLIENTS; i++) {
        proxy.ctl[i].fd = -1;
    }
    int rc = setup(&proxy, &a);
    if (rc == 0) {
        rc = run(&proxy);
        print_stats(&proxy, "exit");
    }
    shutdown_all(&proxy);
    if (proxy.log != NULL && proxy.log != stderr) {
        fclose(proxy.log);
    }
    return rc;
}
