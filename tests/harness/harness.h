/* Test harness: a generated PKI and a real mosquitto on 127.0.0.1, stopped by PID.
 * Every wait has a deadline. Used by integration tests only. */
#ifndef MQTLS_TEST_HARNESS_H
#define MQTLS_TEST_HARNESS_H

#include <stdbool.h>
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

/* A free TCP port on 127.0.0.1 (bind to port 0, read it back, close). 0 on failure. */
uint16_t th_free_port(void);
/* Wait until 127.0.0.1:port accepts a TCP connection. 0 on success, -1 at the deadline. */
int th_wait_port(uint16_t port, int timeout_ms);
/* Monotonic milliseconds. */
int64_t th_now_ms(void);
/* Path of a file in the source tree (MQTLS_SOURCE_DIR is compiled in). */
const char *th_source_dir(void);

#endif
