/* Test harness implementation: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *th_source_dir(void)
{
    return MQTLS_SOURCE_DIR;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int run_cmd(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void path_join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, TH_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= TH_PATH_MAX) {
        out[0] = '\0'; /* temp dirs are short; an empty path fails loudly at open() */
    }
}

static void pki_paths(th_pki_t *pki)
{
    path_join(pki->ca_crt, pki->dir, "ca.crt");
    path_join(pki->ca_key, pki->dir, "ca.key");
    path_join(pki->server_crt, pki->dir, "server.crt");
    path_join(pki->server_key, pki->dir, "server.key");
    path_join(pki->client_crt, pki->dir, "client.crt");
    path_join(pki->client_key, pki->dir, "client.key");
    path_join(pki->other_ca_crt, pki->dir, "other-ca.crt");
    path_join(pki->other_client_crt, pki->dir, "other-client.crt");
    path_join(pki->other_client_key, pki->dir, "other-client.key");
    path_join(pki->weak_ca_crt, pki->dir, "weak-ca.crt");
    path_join(pki->weak_server_crt, pki->dir, "weak-server.crt");
    path_join(pki->weak_server_key, pki->dir, "weak-server.key");
}

int th_pki_make(th_pki_t *pki)
{
    memset(pki, 0, sizeof *pki);
    snprintf(pki->dir, sizeof pki->dir, "/tmp/mqtls-pki-XXXXXX");
    if (mkdtemp(pki->dir) == NULL) {
        return -1;
    }
    char script[TH_PATH_MAX];
    snprintf(script, sizeof script, "%s/tests/harness/make-pki.sh", th_source_dir());
    char *argv[] = {"bash", script, pki->dir, NULL};
    if (run_cmd(argv) != 0) {
        fprintf(stderr, "harness: make-pki.sh failed\n");
        return -1;
    }
    pki_paths(pki);
    return 0;
}

int th_pki_load(th_pki_t *pki, const char *dir)
{
    memset(pki, 0, sizeof *pki);
    snprintf(pki->dir, sizeof pki->dir, "%s", dir);
    pki_paths(pki);
    return access(pki->weak_server_key, R_OK) == 0 && access(pki->client_key, R_OK) == 0 ? 0 : -1;
}

static void remove_tree(const char *dir)
{
    if (dir[0] == '\0' || strncmp(dir, "/tmp/mqtls-", 11) != 0) {
        return; /* only ever delete what we created */
    }
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    (void)run_cmd(argv);
}

void th_pki_remove(th_pki_t *pki)
{
    remove_tree(pki->dir);
    pki->dir[0] = '\0';
}

int th_run_line(char *out, size_t cap, int timeout_s, const char *cmdline)
{
    size_t n = strlen(cmdline) + 32u;
    char *cmd = malloc(n);
    if (cmd == NULL || cap == 0) {
        free(cmd);
        return -1;
    }
    (void)snprintf(cmd, n, "timeout %d %s 2>&1", timeout_s, cmdline);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (p == NULL) {
        return -1;
    }
    size_t len = 0;
    char line[1024];
    while (fgets(line, sizeof line, p) != NULL) {
        size_t l = strlen(line);
        if (len + l < cap) {
            memcpy(out + len, line, l + 1);
            len += l;
        }
    }
    int status = pclose(p);
    int rc = status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("$ %s\n%s[exit %d]\n", cmdline, out, rc);
    fflush(stdout);
    return rc;
}

uint16_t th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

int th_wait_port(uint16_t port, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    while (th_now_ms() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            return -1;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        close(fd);
        if (rc == 0) {
            return 0;
        }
        sleep_ms(20);
    }
    return -1;
}

static int write_conf(th_broker_t *b, const th_pki_t *pki, const char *extra_conf)
{
    FILE *f = fopen(b->conf, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f,
            "# generated by the mqtls test harness\n"
            "%s"
            "per_listener_settings false\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "autosave_interval 1\n"
            "log_dest file %s\n"
            "log_type all\n"
            "max_inflight_messages 100\n"
            "max_queued_messages 10000\n"
            "listener %u 127.0.0.1\n",
            /* as root, mosquitto drops to user "mosquitto", who cannot read our temp files */
            getuid() == 0 ? "user root\n" : "", b->dir, b->log, b->port_plain);
    if (pki != NULL) {
        fprintf(f,
                "listener %u 127.0.0.1\n"
                "cafile %s\ncertfile %s\nkeyfile %s\n"
                "listener %u 127.0.0.1\n"
                "cafile %s\ncertfile %s\nkeyfile %s\n"
                "require_certificate true\nuse_identity_as_username true\n"
                "listener %u 127.0.0.1\n"
                "cafile %s\ncertfile %s\nkeyfile %s\n"
                "require_certificate true\nuse_identity_as_username true\n",
                b->port_tls, pki->ca_crt, pki->server_crt, pki->server_key, b->port_mtls,
                pki->ca_crt, pki->server_crt, pki->server_key, b->port_weak, pki->ca_crt,
                pki->weak_server_crt, pki->weak_server_key);
    }
    if (extra_conf != NULL) {
        fprintf(f, "%s\n", extra_conf);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int spawn(th_broker_t *b)
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execlp("mosquitto", "mosquitto", "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    b->pid = pid;
    uint16_t ports[4] = {b->port_plain, b->port_tls, b->port_mtls, b->port_weak};
    for (size_t i = 0; i < 4; i++) {
        if (ports[i] != 0 && th_wait_port(ports[i], 10000) != 0) {
            fprintf(stderr, "harness: mosquitto did not open port %u (log: %s)\n", ports[i],
                    b->log);
            th_broker_kill(b);
            return -1;
        }
    }
    return 0;
}

int th_broker_start(th_broker_t *b, const th_pki_t *pki, const char *extra_conf)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/mqtls-broker-XXXXXX");
    if (mkdtemp(b->dir) == NULL) {
        return -1;
    }
    chmod(b->dir, 0755);
    path_join(b->conf, b->dir, "mosquitto.conf");
    path_join(b->log, b->dir, "mosquitto.log");
    b->port_plain = th_free_port();
    if (pki != NULL) {
        do {
            b->port_tls = th_free_port();
        } while (b->port_tls == b->port_plain);
        do {
            b->port_mtls = th_free_port();
        } while (b->port_mtls == b->port_plain || b->port_mtls == b->port_tls);
        do {
            b->port_weak = th_free_port();
        } while (b->port_weak == b->port_plain || b->port_weak == b->port_tls ||
                 b->port_weak == b->port_mtls);
    }
    if (b->port_plain == 0 || write_conf(b, pki, extra_conf) != 0) {
        return -1;
    }
    return spawn(b);
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    int status;
    while (th_now_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            return 0;
        }
        sleep_ms(10);
    }
    return -1;
}

int th_broker_stop(th_broker_t *b)
{
    if (b->pid <= 0) {
        return 0;
    }
    kill(b->pid, SIGTERM);
    if (wait_exit(b->pid, 5000) != 0) {
        kill(b->pid, SIGKILL);
        (void)wait_exit(b->pid, 5000);
    }
    b->pid = 0;
    return 0;
}

int th_broker_kill(th_broker_t *b)
{
    if (b->pid <= 0) {
        return 0;
    }
    kill(b->pid, SIGKILL);
    (void)wait_exit(b->pid, 5000);
    b->pid = 0;
    return 0;
}

int th_broker_restart(th_broker_t *b)
{
    th_broker_stop(b);
    return spawn(b);
}

void th_broker_cleanup(th_broker_t *b)
{
    th_broker_stop(b);
    remove_tree(b->dir);
    b->dir[0] = '\0';
}

/* ---- websockify ------------------------------------------------------------------------ */

/* Wait for @p pid to listen on @p port; false at once if it exits. */
static bool wait_child_port(pid_t pid, uint16_t port, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    while (th_now_ms() < deadline) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            return false; /* exited: e.g. the port was taken after we picked it */
        }
        if (th_wait_port(port, 50) == 0) {
            return true;
        }
    }
    return false;
}

static void print_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        fprintf(stderr, "  | %s", line);
    }
    fclose(f);
}

int th_websockify_start(th_websockify_t *w, uint16_t target_port, const th_pki_t *pki,
                        bool verify_client)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/mqtls-wsk-XXXXXX");
    if (mkdtemp(w->dir) == NULL) {
        return -1;
    }
    char log[TH_PATH_MAX];
    path_join(log, w->dir, "websockify.log");
    for (int attempt = 0; attempt < 3; attempt++) {
        char listen[64];
        char target[64];
        w->port = th_free_port();
        snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)w->port);
        snprintf(target, sizeof target, "127.0.0.1:%u", (unsigned)target_port);
        pid_t pid = fork();
        if (pid < 0) {
            return -1;
        }
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
            if (pki != NULL && verify_client) {
                execlp("websockify", "websockify", "--ssl-only", "--cert", pki->server_crt,
                       "--key", pki->server_key, "--verify-client", "--cafile", pki->ca_crt,
                       listen, target, (char *)NULL);
            } else if (pki != NULL) {
                execlp("websockify", "websockify", "--ssl-only", "--cert", pki->server_crt,
                       "--key", pki->server_key, listen, target, (char *)NULL);
            } else {
                execlp("websockify", "websockify", listen, target, (char *)NULL);
            }
            _exit(127);
        }
        if (wait_child_port(pid, w->port, 10000)) {
            w->pid = pid;
            return 0;
        }
        kill(pid, SIGKILL);
        (void)wait_exit(pid, 5000);
    }
    fprintf(stderr, "harness: websockify did not start (is it installed? scripts/install-deps.sh)\n");
    print_file(log);
    return -1;
}

void th_websockify_stop(th_websockify_t *w)
{
    if (w->pid > 0) {
        kill(w->pid, SIGTERM);
        if (wait_exit(w->pid, 5000) != 0) {
            kill(w->pid, SIGKILL);
            (void)wait_exit(w->pid, 5000);
        }
        w->pid = 0;
    }
    remove_tree(w->dir);
    w->dir[0] = '\0';
}

/* ---- RabbitMQ cluster (tests/harness/rabbitmq-cluster.sh does the work) --------------------- */

static void rabbit_script(char *out, size_t cap)
{
    snprintf(out, cap, "%s/tests/harness/rabbitmq-cluster.sh", th_source_dir());
}

/* One KEY=VALUE line of cluster.env into the matching field of @p r. */
static void rabbit_set(th_rabbit_t *r, const char *key, const char *val)
{
    static const struct {
        const char *key;
        size_t off;
        size_t len;
    } paths[] = {
#define F(k, field) {k, offsetof(th_rabbit_t, field), sizeof(((th_rabbit_t *)0)->field)}
        F("RMQ_CA", ca_crt),
        F("RMQ_CLIENT_CN", client_cn),
        F("RMQ_CLIENT_CRT", client_crt),
        F("RMQ_CLIENT_KEY", client_key),
        F("RMQ_CLIENT2_CN", client2_cn),
        F("RMQ_CLIENT2_CRT", client2_crt),
        F("RMQ_CLIENT2_KEY", client2_key),
        F("RMQ_NOUSER_CN", nouser_cn),
        F("RMQ_NOUSER_CRT", nouser_crt),
        F("RMQ_NOUSER_KEY", nouser_key),
        F("RMQ_OTHER_CLIENT_CRT", other_client_crt),
        F("RMQ_OTHER_CLIENT_KEY", other_client_key),
#undef F
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (strcmp(key, paths[i].key) == 0) {
            snprintf((char *)r + paths[i].off, paths[i].len, "%s", val);
            return;
        }
    }
    if (strcmp(key, "RMQ_START_MS") == 0) {
        r->start_ms = strtoll(val, NULL, 10);
        return;
    }
    /* RMQ_N<i>_<WHAT> */
    char *end = NULL;
    if (strncmp(key, "RMQ_N", 5) != 0 || !(key[5] >= '1' && key[5] <= '9')) {
        return;
    }
    long i = strtol(key + 5, &end, 10);
    if (end == NULL || *end != '_' || i < 1 || i > TH_RABBIT_MAX_NODES) {
        return;
    }
    th_rabbit_node_t *n = &r->node[i - 1];
    const char *what = end + 1;
    long port = strtol(val, NULL, 10);
    if (strcmp(what, "NAME") == 0) {
        snprintf(n->name, sizeof n->name, "%s", val);
    } else if (strcmp(what, "LOG") == 0) {
        snprintf(n->log, sizeof n->log, "%s", val);
    } else if (port > 0 && port < 65536) {
        if (strcmp(what, "MQTT") == 0) {
            n->port_mqtt = (uint16_t)port;
        } else if (strcmp(what, "MQTTS") == 0) {
            n->port_mqtts = (uint16_t)port;
        } else if (strcmp(what, "WS") == 0) {
            n->port_ws = (uint16_t)port;
        } else if (strcmp(what, "WSS") == 0) {
            n->port_wss = (uint16_t)port;
        } else if (strcmp(what, "AMQP") == 0) {
            n->port_amqp = (uint16_t)port;
        }
    }
}

static int rabbit_load_env(th_rabbit_t *r)
{
    char path[TH_PATH_MAX];
    path_join(path, r->dir, "cluster.env");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[TH_PATH_MAX + 64];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL) {
            continue;
        }
        *eq = '\0';
        rabbit_set(r, line, eq + 1);
    }
    fclose(f);
    for (int i = 0; i < r->nodes; i++) {
        const th_rabbit_node_t *n = &r->node[i];
        if (n->name[0] == '\0' || n->port_mqtt == 0 || n->port_mqtts == 0 || n->port_ws == 0 ||
            n->port_wss == 0) {
            fprintf(stderr, "harness: %s lacks node %d\n", path, i + 1);
            return -1;
        }
    }
    return r->ca_crt[0] != '\0' && r->client_key[0] != '\0' ? 0 : -1;
}

int th_rabbit_start(th_rabbit_t *r, int nodes)
{
    memset(r, 0, sizeof *r);
    if (nodes < 1 || nodes > TH_RABBIT_MAX_NODES) {
        return -1;
    }
    r->nodes = nodes;
    snprintf(r->dir, sizeof r->dir, "/tmp/mqtls-rabbit-XXXXXX");
    if (mkdtemp(r->dir) == NULL) {
        return -1;
    }
    char script[TH_PATH_MAX];
    char count[16];
    rabbit_script(script, sizeof script);
    snprintf(count, sizeof count, "%d", nodes);
    char *argv[] = {"bash", script, "start", r->dir, count, NULL};
    if (run_cmd(argv) != 0) {
        fprintf(stderr, "harness: rabbitmq-cluster.sh start failed (dir %s)\n", r->dir);
        return -1;
    }
    return rabbit_load_env(r);
}

int th_rabbit_stop(th_rabbit_t *r)
{
    if (r->dir[0] == '\0') {
        return 0;
    }
    char script[TH_PATH_MAX];
    rabbit_script(script, sizeof script);
    char *argv[] = {"bash", script, "stop", r->dir, NULL};
    int rc = run_cmd(argv);
    remove_tree(r->dir);
    r->dir[0] = '\0';
    return rc == 0 ? 0 : -1;
}

static int rabbit_node_cmd(th_rabbit_t *r, const char *cmd, int i)
{
    if (r->dir[0] == '\0' || i < 1 || i > r->nodes) {
        return -1;
    }
    char script[TH_PATH_MAX];
    char index[16];
    rabbit_script(script, sizeof script);
    snprintf(index, sizeof index, "%d", i);
    char *argv[] = {"bash", script, (char *)cmd, index, r->dir, NULL};
    return run_cmd(argv) == 0 ? 0 : -1;
}

int th_rabbit_kill_node(th_rabbit_t *r, int i)
{
    return rabbit_node_cmd(r, "kill", i);
}

int th_rabbit_restart_node(th_rabbit_t *r, int i)
{
    return rabbit_node_cmd(r, "restart", i);
}

int th_rabbit_running_nodes(const th_rabbit_t *r)
{
    if (r->dir[0] == '\0') {
        return -1;
    }
    char script[TH_PATH_MAX];
    char cmd[3 * TH_PATH_MAX];
    rabbit_script(script, sizeof script);
    /* paths are ours (/tmp/mqtls-rabbit-XXXXXX and the source tree): no shell quoting needed
     * beyond the single quotes */
    snprintf(cmd, sizeof cmd, "bash '%s' status '%s' 2>&1", script, r->dir);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    int count = -1;
    char line[1024];
    while (fgets(line, sizeof line, p) != NULL) {
        if (strncmp(line, "running_nodes=", 14) == 0) {
            count = (int)strtol(line + 14, NULL, 10);
        }
    }
    pclose(p);
    return count;
}
