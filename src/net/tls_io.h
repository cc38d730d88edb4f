/* Internal to src/net: the ciphertext plumbing every TLS engine shares (tls_io.c). An engine's
 * BIO callbacks call it: writes go to the inner transport, or wait in a buffer (a handshake
 * flight leaves in one send; a blocked socket keeps what was accepted); reads come from the
 * inner transport through the record parser (tls_records.c), which fills the handshake facts.
 * After a failed handshake it drains a late alert for a bounded time, and it words the
 * failures that do not depend on the TLS library (not TLS, an alert, a silent close). No TLS
 * library here. */
#ifndef MQTLS_NET_TLS_IO_H
#define MQTLS_NET_TLS_IO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tls_facts.h"
#include "mqtls/error.h"
#include "net/tls_engine.h"
#include "net/tls_records.h"
#include "net/transport.h"

/* After a failed handshake, how long to wait for a fatal alert still in the socket. */
#define MQTLS__TLS_DRAIN_MS 200
/* TLS 1.3 with a client certificate: the broker judges it after our handshake is done. Its
 * verdict (a NewSessionTicket, its first data, or an alert) is awaited before connect() says
 * MQTLS_OK, at most this long, until the broker has accepted the context's certificate once:
 * data we send too early makes a broker that closes with our bytes unread send a reset,
 * and a TCP reset discards the alert in our receive buffer (the reason would be lost). */
#define MQTLS__TLS_VERDICT_MS 200

typedef struct mqtls__tls_io {
    mqtls_transport_t *inner; /* owned by the engine's connection */
    mqtls_error_t *err;       /* borrowed: where failures are recorded (may be NULL) */
    mqtls_tls_facts_t *facts; /* borrowed */
    mqtls__tls_records_t rp;
    uint8_t *obuf; /* ciphertext waiting for the socket */
    size_t olen;
    size_t ocap;
    bool gathering;           /* buffer writes: a flight leaves at the next read or flush */
    bool handshaking;         /* a flush that would block holds reads back (want write) */
    mqtls_status_t io_status; /* last failure of the inner transport seen by send/recv */
    int64_t drain_deadline_ms;
} mqtls__tls_io_t;

/* What send/recv return besides a byte count. */
enum {
    MQTLS__IO_WANT_READ = -1,
    MQTLS__IO_WANT_WRITE = -2,
    MQTLS__IO_ERROR = -3, /* io_status holds the inner transport's status */
};

/* Set up @p io. No output buffer yet: it is allocated when ciphertext must wait (the first
 * handshake flight, a blocked socket) and freed when empty after the handshake. true. */
bool mqtls__tls_io_init(mqtls__tls_io_t *io, mqtls_transport_t *inner, mqtls_tls_facts_t *facts,
                        mqtls_error_t *err);
/* Free the buffers (not the inner transport). Accepts a zeroed struct. */
void mqtls__tls_io_free(mqtls__tls_io_t *io);
/* A new handshake: the record parser parses messages again, nothing is buffered. */
void mqtls__tls_io_start(mqtls__tls_io_t *io, bool gather_flights);
/* The handshake is over: the record parser stops (application data is ciphertext). */
void mqtls__tls_io_established(mqtls__tls_io_t *io);

/* The engine writes @p len ciphertext bytes: all accepted (> 0, maybe buffered), or
 * MQTLS__IO_WANT_WRITE, or MQTLS__IO_ERROR. */
long mqtls__tls_io_send(mqtls__tls_io_t *io, const uint8_t *buf, size_t len);
/* The engine reads: bytes (> 0), 0 at EOF (io_status MQTLS_ERR_CLOSED), MQTLS__IO_WANT_READ,
 * MQTLS__IO_WANT_WRITE (a gathered flight could not leave yet), MQTLS__IO_ERROR (io_status:
 * the inner failure, or MQTLS_ERR_TLS_NOT_TLS). */
long mqtls__tls_io_recv(mqtls__tls_io_t *io, uint8_t *buf, size_t len);
/* Write what is buffered. MQTLS_OK once all is out; MQTLS_ERR_WOULD_BLOCK; an inner error. */
mqtls_status_t mqtls__tls_io_flush(mqtls__tls_io_t *io);
/* Flush once, best effort, keeping *err as it is (our fatal alert after a failure). */
void mqtls__tls_io_flush_quietly(mqtls__tls_io_t *io);

/* Read what the peer sent after a failed handshake, without blocking: MQTLS_ERR_WOULD_BLOCK
 * (want read) until a fatal alert is in, the peer closes, or @p now_ms reaches
 * drain_deadline_ms; then MQTLS_OK (report the failure). */
mqtls_status_t mqtls__tls_io_drain(mqtls__tls_io_t *io, int64_t now_ms);

/* Failures worded the same by every engine. Each returns the status it recorded, or MQTLS_OK
 * when it does not apply: the peer is not TLS (facts->peer_not_tls); */
mqtls_status_t mqtls__tls_io_fail_not_tls(mqtls__tls_io_t *io);
/* and, always applying: the server chain is rejected with merged @p flags (facts and err get
 * them, with the flags per depth of facts->chain); */
mqtls_status_t mqtls__tls_io_fail_verify(mqtls__tls_io_t *io, uint32_t flags);
/* the peer sent a fatal alert (facts->alert_received; err->tls_alert), or closed or reset the
 * connection before a single byte (facts->peer_silent_close: a plain MQTT port). */
mqtls_status_t mqtls__tls_io_fail_peer(mqtls__tls_io_t *io);
/* Why the handshake ended, when the inner transport ended it ("the server closed the
 * connection during the handshake"), else NULL. */
const char *mqtls__tls_io_close_why(const mqtls__tls_io_t *io);

/* ---- the connection every engine's transport starts with ---------------------------------- */

/* The states of a TLS transport's connect(), the same for every engine. */
typedef enum {
    MQTLS__TLS_IDLE,
    MQTLS__TLS_INNER,     /* inner transport connecting */
    MQTLS__TLS_HANDSHAKE, /* the engine's handshake in progress */
    MQTLS__TLS_FLUSH,     /* handshake done, last flight still being written */
    MQTLS__TLS_VERDICT,   /* TLS 1.3 client certificate: awaiting the broker's verdict */
    MQTLS__TLS_OPEN,
    MQTLS__TLS_DRAIN,  /* handshake failed: reading a late alert, for MQTLS__TLS_DRAIN_MS */
    MQTLS__TLS_FAILED, /* the failure has been reported; connect() starts over */
} mqtls__tls_state_t;

#define MQTLS__TLS_EARLY_CAP 256u

/* The first member of each engine's connection. Engine-independent parts of the transport
 * (fd, want, wake_at, the inner connect, the early data, the write staging) work on it. */
typedef struct mqtls__tls_conn {
    mqtls_transport_t base;   /* first: the transport itself */
    mqtls_transport_t *inner; /* owned */
    char *host;               /* owned copy */
    mqtls_tls_facts_t *facts; /* borrowed */
    mqtls__tls_conn_cfg_t cc; /* host (ours), facts, the judge */
    mqtls__tls_io_t io;
    mqtls__tls_state_t state;
    unsigned want;
    int64_t hs_start_ms;
    int64_t verdict_deadline_ms;
    uint8_t early[MQTLS__TLS_EARLY_CAP]; /* data read while awaiting the verdict */
    size_t early_len;
    size_t early_off;
    uint8_t *plain; /* staging for coalesced writev */
    size_t plain_cap;
} mqtls__tls_conn_t;

/* Set up @p c (zeroed by the caller) over @p inner with @p cc (copied; the host too).
 * MQTLS_OK; MQTLS_ERR_NOMEM (recorded in @p err; free with mqtls__tls_conn_free()). */
mqtls_status_t mqtls__tls_conn_init(mqtls__tls_conn_t *c, const mqtls_transport_ops_t *ops,
                                    const mqtls__tls_conn_cfg_t *cc, mqtls_transport_t *inner,
                                    mqtls_error_t *err);
/* Free what init allocated (not the inner transport, not @p c). */
void mqtls__tls_conn_free(mqtls__tls_conn_t *c);
/* connect() up to the engine's handshake: a failed attempt's connection is closed, a new
 * attempt gets fresh facts and error, the inner transport connects. MQTLS_OK when it is
 * connected (start the handshake now), MQTLS_ERR_WOULD_BLOCK, or its failure (state FAILED). */
mqtls_status_t mqtls__tls_conn_begin(mqtls__tls_conn_t *c, int64_t now_ms);
/* FLUSH: the handshake is done; its last flight leaves. MQTLS_OK once out, the state then OPEN,
 * or VERDICT (until MQTLS__TLS_VERDICT_MS) when @p await: TLS 1.3, a certificate requested,
 * the broker has not accepted the context's yet. MQTLS_ERR_WOULD_BLOCK; an error (FAILED). */
mqtls_status_t mqtls__tls_conn_finish(mqtls__tls_conn_t *c, int64_t now_ms, bool await);
/* VERDICT's outcomes: a ticket, data or silence until the deadline mean the broker accepted
 * our certificate (@p accepted is set for the whole context, the state OPEN); a failure @p st
 * read instead (its alert, or the end of the connection) fails the attempt. @p confirmed: the
 * broker spoke (a ticket, its first data) rather than the wait timing out; only then is the
 * facts' tls_open set (diag: a reset after an unconfirmed verdict is still the handshake's). */
void mqtls__tls_conn_accepted(mqtls__tls_conn_t *c, atomic_bool *accepted, bool confirmed);
mqtls_status_t mqtls__tls_conn_refused(mqtls__tls_conn_t *c, mqtls_status_t st);
/* read(), before the engine's: MQTLS_ERR_STATE unless OPEN, the early data first (MQTLS_OK,
 * *got > 0), a failed flush of what waits; MQTLS_ERR_WOULD_BLOCK: go on, read from the engine. */
mqtls_status_t mqtls__tls_conn_read_prepare(mqtls__tls_conn_t *c, uint8_t *buf, size_t cap,
                                            size_t *got);
/* writev(): flush what waits, then what goes into the next record (mqtls__tls_io_gather()).
 * MQTLS_OK with *data and *len (*len 0: nothing to send), MQTLS_ERR_STATE unless OPEN,
 * MQTLS_ERR_WOULD_BLOCK, or an error. */
mqtls_status_t mqtls__tls_conn_write_prepare(mqtls__tls_conn_t *c, const mqtls_iovec_t *iov,
                                             size_t iov_count, size_t rec_max, const uint8_t **data,
                                             size_t *len);
/* After the engine's own close: the inner transport closed, state IDLE. */
void mqtls__tls_conn_closed(mqtls__tls_conn_t *c);
/* Read and write interest while OPEN. */
unsigned mqtls__tls_conn_want_rw(const mqtls__tls_conn_t *c);
/* The transport operations that are the same for every engine. */
int mqtls__tls_conn_fd(mqtls_transport_t *t);
unsigned mqtls__tls_conn_want(mqtls_transport_t *t);
int64_t mqtls__tls_conn_wake_at(mqtls_transport_t *t);

/* Small string helpers of the TLS code: a malloc'd copy (NULL: no memory); @p src into @p dst
 * of @p cap bytes, cut and terminated. */
char *mqtls__tls_strdup(const char *s);
/* Zero @p n bytes at @p p in a way the compiler keeps (keys, plaintext). */
void mqtls__tls_wipe(void *p, size_t n);
void mqtls__tls_copy_str(char *dst, size_t cap, const char *src);

/* writev() of a TLS transport: what goes into the next record. A gather list of small elements
 * (MQTT header + payload, several packets) is coalesced into @p staging (one record, one send
 * instead of one per element); a single element, or a first one at least as large as the
 * staging buffer, goes out from where it is. At most @p rec_max bytes. false: nothing to
 * send (every element empty). */
bool mqtls__tls_io_gather(const mqtls_iovec_t *iov, size_t iov_count, uint8_t *staging,
                          size_t staging_cap, size_t rec_max, const uint8_t **data, size_t *len);

#endif /* MQTLS_NET_TLS_IO_H */
