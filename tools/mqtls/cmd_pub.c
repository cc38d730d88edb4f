/* mqtls pub: publish messages with mosquitto_pub's flags (docs/cli/pub.md). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_session.h"
#include "commands.h"

typedef struct pub_state {
    const cli_opts_t *o;
    cli_session_t s;
    int exit_code;
    bool lost;
    bool downgrade_said; /* the QoS 2 -> 1 downgrade is reported once */
} pub_state_t;

static void pub_event(mqtls_client_t *c, const mqtls_event_t *ev, void *ctx)
{
    pub_state_t *p = ctx;
    if (ev->type == MQTLS_EVENT_PUBLISHED && !p->downgrade_said &&
        mqtls_client_qos2_downgrades(c) > 0) {
        /* RabbitMQ 3.10 answers QoS 2 with PUBACK: the message is delivered (at QoS 1). Say so
         * once and go on (mosquitto_pub 2.0 stops with "protocol error", exit 2). */
        p->downgrade_said = true;
        if (!p->o->quiet) {
            fprintf(stderr, "mqtls: warning: the broker answered QoS 2 with PUBACK: it took the "
                            "message at QoS 1 (at least once, not exactly once); RabbitMQ 3.10 "
                            "does this for every QoS 2 message. Publishing goes on.\n");
        }
    }
    if (ev->type == MQTLS_EVENT_PUBLISHED && ev->u.published.reason >= 0x80) {
        /* MQTT 5 PUBACK/PUBREC reason >= 0x80: the broker refused this message */
        if (!p->o->quiet) {
            /* the PUBACK/PUBREC was the last packet received: its Reason String is the trace's */
            const char *why = p->s.trace.reason;
            fprintf(stderr, "mqtls: broker refused publish %u: reason 0x%02X (%s)%s%s%s\n",
                    ev->u.published.packet_id, ev->u.published.reason,
                    mqtls_reason_text(MQTLS_PUBACK, ev->u.published.reason),
                    why[0] != '\0' ? " (broker: '" : "", why, why[0] != '\0' ? "')" : "");
        }
        p->exit_code = MQTLS_EXIT_REFUSED;
    } else if (ev->type == MQTLS_EVENT_ERROR && p->s.connected) {
        if (!p->o->quiet) {
            cli_report_error(&p->s, &ev->u.error.err, "publish failed on");
        }
        if (p->exit_code == MQTLS_EXIT_OK) {
            p->exit_code = MQTLS_EXIT_FAIL;
        }
    } else if (ev->type == MQTLS_EVENT_DISCONNECTED && p->s.connected && !p->s.closing &&
               ev->u.disconnected.why.status != MQTLS_OK) {
        p->lost = true;
        if (!p->o->quiet) {
            cli_report_error(&p->s, &ev->u.disconnected.why, "connection lost to");
        }
        size_t open = p->o->qos == 2 ? mqtls_client_outbox_count(c) : 0;
        if (open > 0 && !p->o->quiet) {
            /* QoS 2 is exactly once within one connection: this run cannot finish them */
            fprintf(stderr,
                    "mqtls: warning: %zu QoS 2 message(s) not confirmed (no PUBCOMP): the broker "
                    "may have delivered them; publishing them again may deliver them twice\n",
                    open);
        }
        p->exit_code = ev->u.disconnected.why.status == MQTLS_ERR_SERVER_DISCONNECT
                           ? MQTLS_EXIT_REFUSED
                           : MQTLS_EXIT_FAIL;
    }
}

/* Queue one PUBLISH; waits (bounded) while the outbox is full. */
static int publish_one(pub_state_t *p, const void *payload, size_t len)
{
    mqtls_publish_opts_t po;
    memset(&po, 0, sizeof(po));
    po.qos = (uint8_t)p->o->qos;
    po.retain = p->o->retain;
    po.props = p->s.props_publish;
    int64_t deadline = cli_now_ms() + 10000;
    for (;;) {
        mqtls_status_t st =
            mqtls_client_publish(p->s.client, p->o->topics[0], payload, len, &po, NULL);
        if (st == MQTLS_OK) {
            return MQTLS_EXIT_OK;
        }
        if (st != MQTLS_ERR_OUTBOX_FULL || cli_now_ms() >= deadline || p->lost) {
            if (!p->o->quiet) {
                fprintf(stderr, "mqtls: cannot publish to '%s': %s (%s)\n", p->o->topics[0],
                        mqtls_status_text(st), mqtls_status_name(st));
            }
            return st == MQTLS_ERR_OUTBOX_FULL ? MQTLS_EXIT_TIMEOUT : MQTLS_EXIT_FAIL;
        }
        cli_session_step(&p->s, 50);
    }
}

/* Step until every queued message is written / acknowledged (bounded). */
static int drain(pub_state_t *p)
{
    int64_t deadline = cli_now_ms() + 10000;
    while (mqtls_client_outbox_count(p->s.client) > 0 && !p->lost && !cli_stop) {
        if (cli_now_ms() >= deadline) {
            if (!p->o->quiet) {
                fprintf(stderr, "mqtls: %zu message(s) not acknowledged by the broker in 10 s\n",
                        mqtls_client_outbox_count(p->s.client));
            }
            return MQTLS_EXIT_TIMEOUT;
        }
        cli_session_step(&p->s, 50);
    }
    /* one more pass so a QoS 0 write that just left the outbox is flushed */
    cli_session_step(&p->s, 0);
    return MQTLS_EXIT_OK;
}

/* -l: one message per stdin line, while the client keeps running (keepalive). */
static int publish_lines(pub_state_t *p)
{
    cli_buf_t line = {0};
    size_t scanned = 0; /* bytes of line already known to hold no newline */
    static char chunk[65536];
    bool eof = false;
    int rc = MQTLS_EXIT_OK;
    while (!eof && !cli_stop && !p->lost && rc == MQTLS_EXIT_OK) {
        struct pollfd fds[2];
        nfds_t nfds = 1;
        fds[0].fd = STDIN_FILENO;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        int cfd = mqtls_client_fd(p->s.client);
        if (cfd >= 0) {
            fds[1].fd = cfd;
            fds[1].events =
                (short)(((mqtls_client_want(p->s.client) & MQTLS_WANT_READ) != 0 ? POLLIN : 0) |
                        ((mqtls_client_want(p->s.client) & MQTLS_WANT_WRITE) != 0 ? POLLOUT : 0));
            fds[1].revents = 0;
            nfds = 2;
        }
        int64_t t = mqtls_client_timeout_ms(p->s.client);
        int wait = (t < 0 || t > 1000) ? 1000 : (int)t;
        if (poll(fds, nfds, wait) < 0 && errno != EINTR) {
            rc = MQTLS_EXIT_FAIL;
            break;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
            ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
            if (n <= 0) {
                eof = true;
            } else {
                cli_buf_add(&line, chunk, (size_t)n);
            }

            /* publish every complete line; keep the rest (scanned once: an endless line
             * without newline costs linear time, not quadratic) */
            size_t start = 0;
            for (size_t i = scanned; i < line.len && rc == MQTLS_EXIT_OK; i++) {
                if (line.data[i] == '\n') {
                    /* only the \n goes: a \r before it is data, as mosquitto_pub 2.0 sends it */
                    rc = publish_one(p, line.data + start, i - start);
                    start = i + 1;
                }
            }
            if (eof && start < line.len && rc == MQTLS_EXIT_OK) {
                rc = publish_one(p, line.data + start, line.len - start);
                start = line.len;
            }
            memmove(line.data, line.data + start, line.len - start);
            line.len -= start;
            scanned = line.len;
            if (line.oom || line.len > CLI_PAYLOAD_MAX) {
                /* endless stdin without a newline: a line is one message, bounded like -s */
                if (!p->o->quiet) {
                    fprintf(stderr,
                            "mqtls: cannot read stdin: a line longer than the limit of %u bytes "
                            "(MQTLS_ERR_FILE_TOO_LARGE)\n",
                            CLI_PAYLOAD_MAX);
                }
                rc = MQTLS_EXIT_FILE;
            }
        }
        cli_session_step(&p->s, 0);
    }
    cli_buf_free(&line);
    return rc;
}

static int run(const cli_opts_t *o)
{
    pub_state_t p;
    memset(&p, 0, sizeof(p));
    p.o = o;
    uint8_t *data = NULL;
    size_t len = 0;
    const void *payload = NULL;
    if (o->msg_src == CLI_MSG_ARG) {
        payload = o->message;
        len = strlen(o->message);
    } else if (o->msg_src == CLI_MSG_FILE || o->msg_src == CLI_MSG_STDIN) {
        const char *path = o->msg_src == CLI_MSG_FILE ? o->file : "-";
        mqtls_error_t err;
        mqtls_error_init(&err);
        /* -f: a regular file or a character device (/dev/urandom, a terminal), never a FIFO
         * that would hang us; -s: stdin as it is. Both at most one message's worth. */
        mqtls_status_t st =
            cli_read_file(path, CLI_PAYLOAD_MAX, MQTLS_FILE_CHAR_DEVICE, &data, &len, &err);
        if (st != MQTLS_OK) {
            mqtls_cli_status_error("cannot read", o->msg_src == CLI_MSG_FILE ? o->file : "stdin",
                                   st, &err);
            return MQTLS_EXIT_FILE;
        }
        payload = data;
    } else if (o->msg_src == CLI_MSG_NULL) {
        payload = "";
        len = 0;
    }

    int rc = cli_session_open(&p.s, o, pub_event, &p);
    if (rc != MQTLS_EXIT_OK) {
        cli_session_close(&p.s);
        mqtls_file_free(data, len);
        return rc;
    }
    if (o->msg_src == CLI_MSG_LINES) {
        rc = publish_lines(&p);
    } else {
        for (long i = 0; i < o->repeat && rc == MQTLS_EXIT_OK && !cli_stop && !p.lost; i++) {
            rc = publish_one(&p, payload, len);
            if (rc == MQTLS_EXIT_OK && i + 1 < o->repeat && o->repeat_delay_s > 0) {
                int64_t until = cli_now_ms() + (int64_t)(o->repeat_delay_s * 1000.0);
                while (cli_now_ms() < until && !cli_stop && !p.lost) {
                    int64_t left = until - cli_now_ms();
                    cli_session_step(&p.s, left > 100 ? 100 : (int)left);
                }
            }
        }
    }
    if (rc == MQTLS_EXIT_OK) {
        rc = drain(&p);
    }
    cli_session_close(&p.s);
    mqtls_file_free(data, len);
    if (rc == MQTLS_EXIT_OK) {
        rc = p.exit_code;
    }
    return rc;
}

int mqtls_cmd_pub(int argc, char **argv)
{
    return cli_main(CLI_PUB, argc, argv, run);
}
