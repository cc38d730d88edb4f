/* Test harness: a generated PKI, a real mosquitto and a RabbitMQ cluster on 127.0.0.1, all stopped
 * by PID. Every wait has a deadline. Used by integration tests only. */
#ifndef MQTLS_TEST_HARNESS_H
#define MQTLS_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TH_PATH_MAX 512

typedef struct th_pki {
    char dir[TH_PATH_MAX];
    char ca_crt[TH_PATH_MAX], ca_key[TH_PATH_MAX];
    char server_crt[TH_PATH_MAX], server_key[TH_PATH_MAX];
    char client_crt[TH_PATH_MAX], client_key[TH_PATH_MAX];
    char other_ca_crt[TH_PATH_MAX];                               /* unrelated CA */
    char other_client_crt[TH_PATH_MAX], other_client_key[TH_PATH_MAX]; /* signed by other CA */
    char weak_ca_crt[TH_PATH_MAX];                      /* RSA-1024 CA */
    char weak_server_crt[TH_PATH_MAX], weak_server_key[TH_PATH_MAX]; /* signed by weak CA */
} th_pki_t;

/* Make a PKI in a new temp dir with tests/harness/make-pki.sh. 0 on success. */
int th_pki_make(th_pki_t *pki);
/* Fill @p pki with the paths of a PKI that make-pki.sh already made in @p dir (not removed by
 * th_pki_remove). 0 on success, -1 if a file is missing. */
int th_pki_load(th_pki_t *pki, const char *dir);
/* Remove the temp dir. */
void th_pki_remove(th_pki_t *pki);

typedef struct th_broker {
    pid_t pid;              /* 0 when not running */
    uint16_t port_plain;    /* plain MQTT, anonymous */
    uint16_t port_tls;      /* TLS, server authentication only, anonymous */
    uint16_t port_mtls;     /* TLS, require_certificate true, use_identity_as_username true */
    uint16_t port_weak;     /* mutual TLS with weak-server.crt (RSA-1024 CA): -0x2700 BAD_KEY */
    char dir[TH_PATH_MAX];  /* temp dir: mosquitto.conf, mosquitto.log, persistence */
    char conf[TH_PATH_MAX];
    char log[TH_PATH_MAX];
} th_broker_t;

/* Start mosquitto with the three listeners (TLS ones only if pki != NULL), persistence on,
 * extra_conf appended (may be NULL; lines for the per_listener_settings false context).
 * Returns 0 once every port accepts connections (deadline 10 s), -1 otherwise. */
int th_broker_start(th_broker_t *b, const th_pki_t *pki, const char *extra_conf);
/* SIGTERM, wait (deadline 5 s), then SIGKILL. Keeps dir (ports, persistence) for restart. */
int th_broker_stop(th_broker_t *b);
/* SIGKILL at once: a crash. */
int th_broker_kill(th_broker_t *b);
/* Start again on the same ports with the same config. */
int th_broker_restart(th_broker_t *b);
/* Stop if running and remove the temp dir. */
void th_broker_cleanup(th_broker_t *b);

/* websockify (Debian's, a real WebSocket->TCP bridge: Debian's mosquitto has no websockets)
 * in front of 127.0.0.1:target_port. */
typedef struct th_websockify {
    pid_t pid;
    uint16_t port;          /* where it listens on 127.0.0.1 */
    char dir[TH_PATH_MAX];  /* temp dir holding websockify.log */
} th_websockify_t;

/* Start it on a free port; with @p pki, TLS (wss://) with the server certificate, and with
 * @p verify_client also client-certificate verification against the CA. A start that fails
 * (port taken meanwhile) is retried on another port; 0 once it listens, -1 otherwise (the log
 * is printed). Deadline 10 s per try. */
int th_websockify_start(th_websockify_t *w, uint16_t target_port, const th_pki_t *pki,
                        bool verify_client);
/* Stop by PID (SIGTERM, deadline, SIGKILL) and remove the temp dir. */
void th_websockify_stop(th_websockify_t *w);

/* ---- RabbitMQ cluster -------------------------------------------------------------------------
 * A RabbitMQ 3.10 cluster (Debian's rabbitmq-server) on 127.0.0.1, made and run by
 * tests/harness/rabbitmq-cluster.sh in a temp dir: its own PKI, Erlang cookie, epmd and free
 * ports. Each node listens for MQTT, MQTTS (client certificate required, its CN is the user name,
 * mqtt.allow_anonymous = false), Web MQTT (ws://127.0.0.1:port/ws) and Web MQTT over TLS (client
 * certificate required). Users exist for client_cn and client2_cn (certificate login) and
 * TH_RABBIT_PW_USER / TH_RABBIT_PW_PASS (password login, for ws:// and plain MQTT). See
 * docs/cluster.md. */
#define TH_RABBIT_PW_USER "mqtls-ws-user"
#define TH_RABBIT_PW_PASS "mqtls-ws-secret"
#define TH_RABBIT_MAX_NODES 9

typedef struct th_rabbit_node {
    char name[128];        /* mqtls-<tag>-r<i>@localhost */
    uint16_t port_mqtt;    /* plain MQTT: refused without a user name and password */
    uint16_t port_mqtts;   /* MQTT over TLS, verify_peer + fail_if_no_peer_cert, CN login */
    uint16_t port_ws;      /* Web MQTT, ws://127.0.0.1:port/ws */
    uint16_t port_wss;     /* Web MQTT over TLS, client certificate required, CN login */
    uint16_t port_amqp;    /* AMQP 0-9-1 (unused by the tests, bound to 127.0.0.1) */
    char log[TH_PATH_MAX]; /* the node's log file */
} th_rabbit_node_t;

typedef struct th_rabbit {
    int nodes;                /* node numbers are 1..nodes; node i is node[i - 1] */
    char dir[TH_PATH_MAX];    /* temp dir holding everything; cluster.env, logs */
    char ca_crt[TH_PATH_MAX]; /* the CA of every server and client certificate */
    char client_cn[64];       /* "test-client": a user with all rights on "/" */
    char client_crt[TH_PATH_MAX], client_key[TH_PATH_MAX];
    char client2_cn[64]; /* "test-client-2": a second such user */
    char client2_crt[TH_PATH_MAX], client2_key[TH_PATH_MAX];
    char nouser_cn[64]; /* signed by ca_crt, but no user has this CN */
    char nouser_crt[TH_PATH_MAX], nouser_key[TH_PATH_MAX];
    char other_client_crt[TH_PATH_MAX], other_client_key[TH_PATH_MAX]; /* an unrelated CA's */
    int64_t start_ms; /* how long the start took, as the script measured it */
    th_rabbit_node_t node[TH_RABBIT_MAX_NODES];
} th_rabbit_t;

/* Start @p nodes nodes (1..TH_RABBIT_MAX_NODES), join nodes 2..n to node 1 and wait until the
 * cluster reports n running nodes (every wait in the script has a deadline; on this 2-core machine
 * 3 nodes take about 30-60 s). 0 on success; -1 otherwise, with the script's reasons and the log
 * tail on stderr (what had started is stopped already; call th_rabbit_stop to remove the dir). */
int th_rabbit_start(th_rabbit_t *r, int nodes);
/* Stop every process of the cluster by PID (also after a half-failed start) and remove the dir. */
int th_rabbit_stop(th_rabbit_t *r);
/* SIGKILL node @p i's beam.smp (1..nodes): a crash. 0 once it is gone. */
int th_rabbit_kill_node(th_rabbit_t *r, int i);
/* Start node @p i again (stopping it first if it runs); 0 once the cluster reports every node
 * running again. Same ports, names and data. */
int th_rabbit_restart_node(th_rabbit_t *r, int i);
/* How many running nodes the cluster reports (rabbitmqctl cluster_status on the first node that
 * runs); -1 if none can tell. */
int th_rabbit_running_nodes(const th_rabbit_t *r);

/* Run @p cmdline (made of our own paths and ports) through the shell under `timeout @p timeout_s`,
 * its stdout and stderr into @p out (NUL-terminated, cut at @p cap), and echo both to stdout for
 * the test's log. Returns the exit status (124: timed out), -1 if it could not run. */
int th_run_line(char *out, size_t cap, int timeout_s, const char *cmdline);

/* A free TCP port on 127.0.0.1 (bind to port 0, read it back, close). 0 on failure. */
uint16_t th_free_port(void);
/* Wait until 127.0.0.1:port accepts a TCP connection. 0 on success, -1 at the deadline. */
int th_wait_port(uint16_t port, int timeout_ms);
/* Monotonic milliseconds. */
int64_t th_now_ms(void);
/* Path of a file in the source tree (MQTLS_SOURCE_DIR is compiled in). */
const char *th_source_dir(void);

#endif
