/** @file client.h
 *  @brief The MQTT client: configuration, connect, publish, subscribe, events.
 *
 *  One client is one broker connection with its session (in-flight messages, subscriptions)
 *  and an automatic reconnect policy. Two ways to run it:
 *  - mqtls_client_start(): the client runs its event loop on its own thread (like esp-mqtt);
 *    every other function is then safe from any thread.
 *  - caller-driven: mqtls_client_fd(), mqtls_client_want(), mqtls_client_timeout_ms() and
 *    mqtls_client_step() let one thread drive many clients with poll/epoll.
 *
 *  Every outcome arrives through ONE event callback (mqtls_client_cfg_t::on_event), called
 *  on the thread that runs the loop. All pointers inside an event are borrowed for the
 *  duration of the callback only. From inside the callback you may call publish, subscribe,
 *  unsubscribe and disconnect; never destroy, stop or step.
 */
#ifndef MQTLS_CLIENT_H
#define MQTLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/auth.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/event.h"
#include "mqtls/export.h"
#include "mqtls/packet.h"
#include "mqtls/status.h"
#include "mqtls/tls.h"
#include "mqtls/tls_facts.h"
#include "mqtls/types.h"
#include "mqtls/uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An MQTT client. Opaque; create with mqtls_client_create(). */
typedef struct mqtls_client mqtls_client_t;

/** @brief The event callback. Called on the loop thread; see the file comment. */
typedef void (*mqtls_event_fn)(mqtls_client_t *client, const mqtls_event_t *ev, void *ctx);

/** Direction of a traced packet (mqtls_trace_fn). */
typedef enum mqtls_trace_dir {
    MQTLS_TRACE_SENT = 0,    /**< handed to the transport: its first byte is being written */
    MQTLS_TRACE_RECEIVED = 1 /**< decoded from the broker's bytes, before it is acted on */
} mqtls_trace_dir_t;

/** @brief Packet observer (mqtls_client_cfg_t::trace_fn): called for every MQTT packet the
 *  client sends or receives, decoded, in wire order per direction, on the loop thread with
 *  the client's lock held. A packet sent is reported when its first byte goes to the
 *  transport (a resent PUBLISH again, with its DUP flag); a packet received before the
 *  session acts on it, so the trace of a CONNACK comes before MQTLS_EVENT_CONNECTED.
 *  @param[in] pkt  Borrowed for the call: every view in it points into the client's buffers.
 *                  The password of a CONNECT is not passed (has_password is kept, the view
 *                  is empty); everything else is as on the wire.
 *  From the callback you may call what the event callback may (publish, subscribe,
 *  unsubscribe, disconnect) and the accessors (mqtls_client_id(), mqtls_client_tls_facts()). */
typedef void (*mqtls_trace_fn)(mqtls_client_t *client, mqtls_trace_dir_t dir,
                               const mqtls_packet_t *pkt, void *ctx);

/** Last Will and Testament. */
typedef struct mqtls_will {
    const char *topic; /**< NULL = no will */
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
    mqtls_properties_t props; /**< MQTT 5 will properties (e.g. Will Delay Interval) */
} mqtls_will_t;

/** Reconnect policy: exponential backoff with full jitter. The delay before attempt n
 *  (n = 0 after the first failure) is uniform in [0, min(max_ms, min_ms * 2^n)]. */
typedef struct mqtls_reconnect {
    bool enabled;    /**< default true */
    uint32_t min_ms; /**< base delay, default 500 */
    uint32_t max_ms; /**< cap, default 30000 */
} mqtls_reconnect_t;

/** When the persistence log (mqtls_client_cfg_t::persistence_dir) is flushed to the disk with
 *  fdatasync(). Every policy survives the process being killed (kill -9, a crash): what was
 *  written is in the kernel's page cache. They differ when the machine stops (power loss,
 *  kernel panic); docs/reliability.md has the full table. */
typedef enum mqtls_persist_sync {
    /** fdatasync() after each record that carries a promise (a QoS 1/2 publish handed over,
     *  PUBREC received, a QoS 2 message received or released) before the call or packet that
     *  depends on it: nothing handed over is lost even to a power failure. Default. */
    MQTLS_PERSIST_SYNC_EVERY = 0,
    /** fdatasync() at most persistence_sync_ms after a record: a power failure may lose the
     *  records of that last interval (publishes handed over then, QoS 2 receipts). */
    MQTLS_PERSIST_SYNC_BATCH = 1,
    /** Never (the kernel writes back when it likes, typically within 30 s; compaction still
     *  syncs its new file): for a process crash only. */
    MQTLS_PERSIST_SYNC_NONE = 2
} mqtls_persist_sync_t;

/** Client configuration. Initialise with mqtls_client_cfg_init(), then set what you need.
 *  mqtls_client_create() copies this struct and *tls, and the strings uri, client_id,
 *  username, password, ws_subprotocol, proxy, auth_method and the will's topic and payload; the property arrays
 *  and what *tls points to (file names, buffers, password, ALPN list) stay borrowed until
 *  destroy. Versioned (docs/abi.md): fields are only ever appended; @c struct_size tells
 *  the library which ones the caller knows. mqtls_will_t and mqtls_reconnect_t are frozen
 *  values: new knobs are new fields here. */
typedef struct mqtls_client_cfg {
    uint32_t struct_size;      /**< set by mqtls_client_cfg_init(); do not change */
    /** "mqtt://host[:port]" (default 1883), "mqtts://host[:port]" (default 8883, enables
     *  TLS), "ws://host[:port][/path]" (MQTT over WebSocket, default port 80, path "/mqtt")
     *  or "wss://host[:port][/path]" (WebSocket over TLS, default 443: same TLS settings,
     *  verification and diagnosis as mqtts://); host is a name, an IPv4 literal or a
     *  bracketed IPv6 literal "[::1]". "unix:///path/to/socket" (1.1): a Unix domain socket
     *  (TLS over it when tls->enabled; the certificate is checked for "localhost" unless
     *  tls->server_name). */
    const char *uri;
    const char *client_id;    /**< NULL or "" = generated "mqtls-" + 16 random hex digits */
    mqtls_version_t version;  /**< default MQTLS_V311: every broker speaks it */
    uint16_t keepalive_s;     /**< default 60; 0 disables keepalive */
    /** default true ("clean session" in 3.1.1). QoS 2 is exactly once across a reconnect only
     *  when the broker keeps the session: clean_start false and, in MQTT 5, a session_expiry_s
     *  above 0. With a session the broker forgets, a QoS 2 message whose PUBCOMP had not come
     *  when the connection dropped is published again on the next one (the client cannot know
     *  whether the broker had routed it: losing it would be worse), so it may arrive twice;
     *  the client logs a warning (MQTLS_LOG_WARN) once, at the first QoS 2 publish, when
     *  reconnect is on. */
    bool clean_start;
    uint32_t session_expiry_s;/**< MQTT 5 Session Expiry Interval, default 0 */
    const char *username;     /**< NULL = none */
    const char *password;     /**< NULL = none; never logged */
    mqtls_will_t will;
    mqtls_properties_t connect_props; /**< extra MQTT 5 CONNECT properties (user properties) */
    uint32_t connect_timeout_ms; /**< TCP + TLS + CONNACK each, default 10000 */
    mqtls_reconnect_t reconnect;
    size_t outbox_max_messages; /**< queued + in-flight PUBLISHes, default 1024 (a limit:
                                     the outbox starts at 16 and doubles on demand) */
    size_t outbox_max_bytes;    /**< bytes of encoded PUBLISHes, default 4 MiB (a limit:
                                     the outbox starts at 1 KiB and doubles on demand) */
    /** QoS 1/2 PUBLISHes the broker may send us unacknowledged: the MQTT 5 Receive Maximum
     *  we announce. Default (and 0) MQTLS_DEFAULT_RECEIVE_MAXIMUM = 1024 (before 1.1: 65535).
     *  The client keeps room to acknowledge that many (6 bytes each), so acknowledgements are
     *  never refused; a broker that sends more (MQTT 3.1.1 has no such limit) is slowed down:
     *  the client stops reading until its acknowledgements are written, it never drops the
     *  connection for it. */
    uint16_t receive_maximum;
    uint16_t max_inflight;      /**< QoS 1/2 PUBLISHes sent and not yet acknowledged, at most.
                                     0 (default) = the broker's Receive Maximum in MQTT 5, 20
                                     in 3.1/3.1.1 (brokers have a limit they do not announce) */
    uint32_t max_packet_size;   /**< largest packet we accept (0 = default
                                     MQTLS_DEFAULT_MAX_PACKET_SIZE); announced in MQTT 5 */
    uint16_t topic_alias_maximum; /**< inbound aliases we accept (MQTT 5), default 0 */
    uint16_t outbound_aliases;  /**< outbound aliases we may use for QoS 0, default 0 */
    /** TLS settings (mqtls_tls_cfg_init()), or NULL for the defaults. TLS is used when the
     *  URI is mqtts:// or wss://, or tls->enabled is set. Copied at create. */
    const mqtls_tls_cfg_t *tls;
    /** ws:// and wss:// only: the Sec-WebSocket-Protocol offered. NULL (default) = "mqtt"
     *  [MQTT-6.0.0-3] ("mqttv3.1" for MQTLS_V31); "" = no header (bridges such as
     *  websockify refuse unknown subprotocols); a comma list is sent verbatim. Copied. */
    const char *ws_subprotocol;
    /** NULL (default), or a client whose TLS context (parsed CAs, certificate, key and
     *  all of its TLS settings) this client shares instead of building its own: parse once,
     *  connect thousands. Reference-counted: destroy the clients in any order (but the
     *  strings of that client's @c tls stay borrowed until this one is destroyed too). */
    const mqtls_client_t *tls_share_with;
    bool diagnose;              /**< default true: run diagnosis (mqtls/diag.h) after a failed
                                     connection attempt and attach the findings to
                                     MQTLS_EVENT_ERROR. Identical failures of clients sharing a
                                     TLS context reuse one diagnosis; credential files are read
                                     again only when they change. */
    mqtls_event_fn on_event;    /**< the one event callback; may be NULL */
    void *event_ctx;
    mqtls_log_fn log_fn;        /**< NULL = no logging (default) */
    void *log_ctx;
    mqtls_log_level_t log_level; /**< default MQTLS_LOG_OFF */
    /* --- 1.1 --- */
    /** Packet observer, NULL (default) = none: see mqtls_trace_fn. `mqtls pub -d` prints its
     *  protocol trace from it. */
    mqtls_trace_fn trace_fn;
    void *trace_ctx;
    /** Local IPv4 or IPv6 address (a literal, no name: the library never blocks on a
     *  resolver for it) the TCP socket is bound to before connecting, to choose the
     *  interface (mosquitto's -A). Only broker addresses of its family are tried. NULL
     *  (default) = any. Copied. A value that is not an IP address makes mqtls_client_create()
     *  fail with MQTLS_ERR_INVALID_ARG; a bind that fails fails the attempt (layer TCP,
     *  MQTLS_ERR_IO, errno e.g. EADDRNOTAVAIL). */
    const char *bind_address;
    /** Send a zero-length client id so that the broker assigns one [MQTT-3.1.3-6]: allowed
     *  with MQTT 5 (the broker returns the id it assigned in CONNACK's Assigned Client
     *  Identifier, which mqtls_client_id() then returns and later reconnects send), and with
     *  MQTT 3.1.1 only with clean_start [MQTT-3.1.3-7] (the broker does not say which id it
     *  chose: mqtls_client_id() stays ""). client_id must then be NULL or "". Default false:
     *  client_id NULL or "" means a generated id. Otherwise mqtls_client_create() fails with
     *  MQTLS_ERR_INVALID_ARG (MQTT 3.1, 3.1.1 without clean_start, a client_id given, or a
     *  persistence_dir: a persisted session needs an id of its own). */
    bool empty_client_id;
    /* ---- 1.1: transports and authentication (docs/transports.md, docs/auth.md) ---- */
    /** NULL (default): connect directly. Else reach the broker through a proxy: TLS and
     *  WebSocket run through it, end to end with the broker. Copied.
     *  - "socks5h://[user[:pass]@]host[:port]": SOCKS5 (RFC 1928), the broker's name resolved
     *    by the proxy; "socks5://...": resolved here, its address sent; user and password by
     *    RFC 1929;
     *  - "http://[user[:pass]@]host[:port]": HTTP CONNECT, Basic proxy authentication.
     *  Default proxy port 1080. Not with a unix:// URI. A bad URL fails create with
     *  MQTLS_ERR_BAD_URI; the proxy's refusals are MQTLS_ERR_PROXY_REFUSED, _AUTH, _TARGET,
     *  _PROTOCOL (layer MQTLS_LAYER_PROXY, the proxy's answer in the detail). */
    const char *proxy;
    /** MQTT 5 enhanced authentication (mqtls/auth.h): the Authentication Method sent in
     *  CONNECT, NULL (default) for none. Needs version MQTLS_V5, auth_start and auth_step
     *  (else create fails with MQTLS_ERR_INVALID_ARG). Copied. For SCRAM-SHA-256 use
     *  MQTLS_AUTH_METHOD_SCRAM_SHA_256 with mqtls_scram_start / mqtls_scram_step. */
    const char *auth_method;
    mqtls_auth_start_fn auth_start; /**< initial data (CONNECT, AUTH 0x19) */
    mqtls_auth_step_fn auth_step;   /**< each broker step (AUTH 0x18) and its final data */
    void *auth_ctx;                 /**< passed to both; borrowed until destroy */
    /* ---- 1.1: persistence (docs/reliability.md) ---- */
    /** NULL (default) = no persistence. A directory (created, mode 0700, if its parent exists)
     *  where the client keeps, in an append-only checksummed log, its outbox (QoS 1/2 publishes
     *  not completed, with their packet id and state) and its inbound QoS 2 state, so that a
     *  process killed and started again with the same directory resends every QoS 1/2 publish
     *  it handed over and never delivers a QoS 2 message twice. "Handed over" means
     *  mqtls_client_publish() returned MQTLS_OK: the record is then written and, with
     *  MQTLS_PERSIST_SYNC_EVERY, on the disk. QoS 0 is never stored. The exact guarantee, what
     *  the broker must do too, and the one window where a QoS 2 message is reported "in doubt"
     *  (MQTLS_EVENT_MESSAGE_IN_DOUBT) instead: docs/reliability.md.
     *  Persistence needs a session the broker keeps: clean_start false, and with MQTT 5 a
     *  session_expiry_s other than 0; mqtls_client_create() refuses otherwise
     *  (MQTLS_ERR_INVALID_ARG). With client_id NULL the id kept in the directory is used (or a
     *  generated one is kept there); a directory holds one client id and MQTT version
     *  (MQTLS_ERR_PERSIST_MISMATCH) and serves one client at a time (MQTLS_ERR_PERSIST_LOCKED).
     *  Restored messages count against outbox_max_messages / outbox_max_bytes. Copied. */
    const char *persistence_dir;
    mqtls_persist_sync_t persistence_sync; /**< default MQTLS_PERSIST_SYNC_EVERY */
    uint32_t persistence_sync_ms;          /**< MQTLS_PERSIST_SYNC_BATCH interval, default 100 */
    /* ---- 1.1: failover (docs/rabbitmq.md) ---- */
    /** More brokers of one cluster, to fail over to: NULL (default) = none. The client connects
     *  to @c uri (or to uris[0] when @c uri is NULL) and, whenever an attempt fails or an
     *  established connection is lost, moves to the next broker of the list uri, uris[0], ...,
     *  uris[uri_count - 1] (then the first again) for its next attempt, after the reconnect
     *  policy's backoff. The session moves with the client: unacknowledged QoS 1/2 messages are
     *  sent again, subscriptions renewed. TLS settings are the same for all (TLS is on if any
     *  URI is mqtts:// or wss://). The array and the strings are copied at create. */
    const char *const *uris;
    size_t uri_count; /**< entries of @c uris, below MQTLS_CLIENT_MAX_BROKERS */
} mqtls_client_cfg_t;

/** Most entries of mqtls_client_cfg_t::uris, plus one. */
#define MQTLS_CLIENT_MAX_BROKERS 64u

/** Session states, as seen by mqtls_client_state(). */
typedef enum mqtls_client_state {
    MQTLS_STATE_IDLE = 0,         /**< created or after disconnect; not connecting */
    MQTLS_STATE_CONNECTING = 1,   /**< transport (TCP/TLS) connecting */
    MQTLS_STATE_MQTT_CONNECTING = 2, /**< CONNECT sent, waiting for CONNACK */
    MQTLS_STATE_CONNECTED = 3,
    MQTLS_STATE_DISCONNECTING = 4, /**< DISCONNECT queued, flushing */
    MQTLS_STATE_BACKOFF = 5        /**< waiting before a reconnect attempt */
} mqtls_client_state_t;

/** Options of one publish. Zeroed = QoS 0, no retain, no properties. */
typedef struct mqtls_publish_opts {
    uint8_t qos;
    bool retain;
    mqtls_properties_t props; /**< MQTT 5 properties, borrowed for the call (copied) */
} mqtls_publish_opts_t;

/** One subscription: a filter and its options (QoS, and MQTT 5 No Local, Retain As Published,
 *  Retain Handling: MQTLS_SUBOPT_*). */
typedef struct mqtls_subscription {
    const char *filter;
    uint8_t options;
} mqtls_subscription_t;

/** @brief Fill @p cfg (of @p size bytes, the caller's sizeof) with the defaults. Use
 *  mqtls_client_cfg_init(), which passes the size for you. Cannot fail. */
MQTLS_API void mqtls_client_cfg_init_sized(mqtls_client_cfg_t *cfg, size_t size);

/** @brief Fill @p cfg with the defaults documented on each field. Cannot fail. */
static inline void mqtls_client_cfg_init(mqtls_client_cfg_t *cfg)
{
    mqtls_client_cfg_init_sized(cfg, sizeof *cfg);
}

/** @brief Create a client. Allocates its tables and a small outbox; the outbox grows (doubling)
 *  when a publish needs it, up to outbox_max_messages / outbox_max_bytes.
 *  @param[in]  cfg  Copied (see mqtls_client_cfg_t for what stays borrowed).
 *  @param[out] err  Details on failure; may be NULL.
 *  @param[out] out  The client; caller frees with mqtls_client_destroy().
 *  With cfg->persistence_dir, it also opens the directory's log and puts back what it holds:
 *  the outbox (sent at the first connection) and the inbound QoS 2 ids; messages in doubt are
 *  reported by the first step of the loop.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (also: @p cfg or cfg->tls not initialised with
 *          its *_init(); persistence_dir with clean_start, or with MQTT 5 and
 *          session_expiry_s 0); MQTLS_ERR_BAD_URI; MQTLS_ERR_NOMEM; MQTLS_ERR_NOT_SUPPORTED
 *          (@p cfg sets fields of a newer mqtls than this library); a status from building the
 *          TLS context (-207, -300..-314: a credential file must be a regular file of at most
 *          MQTLS_FILE_CREDENTIAL_MAX bytes, mqtls/file.h); MQTLS_ERR_PERSIST (the directory or
 *          its log cannot be created, read or written: path and errno in @p err);
 *          MQTLS_ERR_PERSIST_LOCKED; MQTLS_ERR_PERSIST_MISMATCH (another client id or MQTT
 *          version, or not an mqtls log); MQTLS_ERR_OUTBOX_FULL (the log holds more than the
 *          outbox limits). */
MQTLS_API mqtls_status_t mqtls_client_create(const mqtls_client_cfg_t *cfg, mqtls_error_t *err,
                                             mqtls_client_t **out);

/** @brief Start MQTT 5 re-authentication ([MQTT-4.12.1]) on a connected client configured with
 *  an auth_method: AUTH 0x19 with the authenticator's start data, then the exchange as at
 *  connect. The connection stays up meanwhile; a failed exchange ends it (the broker sends
 *  DISCONNECT, or the authenticator refuses the server's final data: MQTLS_ERR_AUTH_FAILED).
 *  Since 1.1. Thread-safe once started.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOT_SUPPORTED (no auth_method);
 *          MQTLS_ERR_STATE (not connected, or an exchange is in progress);
 *          MQTLS_ERR_AUTH_FAILED (the start function failed); MQTLS_ERR_OUTBOX_FULL. */
MQTLS_API mqtls_status_t mqtls_client_reauthenticate(mqtls_client_t *c);

/** @brief Stop the loop thread if any, close the connection at once and free everything.
 *  Pending messages are dropped (with cfg.persistence_dir, the QoS 1/2 ones stay in the
 *  directory: the next client created with it sends them). Accepts NULL. Not from inside the
 *  event callback. */
MQTLS_API void mqtls_client_destroy(mqtls_client_t *c);

/** @brief Begin connecting (asynchronous): the result arrives as MQTLS_EVENT_CONNECTED, or
 *  MQTLS_EVENT_ERROR + MQTLS_EVENT_DISCONNECTED. Reconnects follow the policy afterwards.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (already connecting/connected). */
MQTLS_API mqtls_status_t mqtls_client_connect(mqtls_client_t *c);

/** @brief Queue a PUBLISH. QoS 0 is written straight from @p payload when the connection is
 *  idle, the client is driven by mqtls_client_step() and not corked; otherwise the packet is
 *  copied once into the outbox, and the next write gathers everything queued into as few
 *  writes (TLS records of up to 16 KiB) as it can: with mqtls_client_start() or a
 *  mqtls_loop_t, the loop thread writes what the application queued meanwhile in one go. Works
 *  while disconnected: QoS 1/2 wait in the outbox for the next connection, QoS 0 is dropped at
 *  a disconnect. QoS 2 is exactly once within a connection, and across reconnects only with a
 *  session the broker keeps (see mqtls_client_cfg_t::clean_start); otherwise at least once.
 *  @param[in]  topic, payload  Borrowed for the call.
 *  @param[in]  opts            NULL = QoS 0.
 *  @param[out] packet_id       The packet id (QoS 1/2; 0 for QoS 0); may be NULL.
 *  Never blocks on the network: when the outbox is at its configured limits it fails at once.
 *  With persistence (cfg.persistence_dir), a QoS 1/2 message is handed over only once its
 *  record is written (and, with MQTLS_PERSIST_SYNC_EVERY, fdatasync'ed: the call waits for
 *  the disk); MQTLS_ERR_PERSIST when that fails (the message is not queued).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_OUTBOX_FULL (count or bytes limit);
 *          MQTLS_ERR_NOMEM (growing the outbox failed); MQTLS_ERR_NO_PACKET_ID;
 *          MQTLS_ERR_TOO_LARGE_FOR_BROKER; MQTLS_ERR_PACKET_TOO_LARGE;
 *          MQTLS_ERR_QOS_NOT_SUPPORTED; MQTLS_ERR_RETAIN_NOT_SUPPORTED; MQTLS_ERR_PERSIST;
 *          a codec validation status (e.g. MQTLS_ERR_TOPIC_WILDCARD). Thread-safe once
 *          started. */
MQTLS_API mqtls_status_t mqtls_client_publish(mqtls_client_t *c, const char *topic,
                                              const void *payload, size_t payload_len,
                                              const mqtls_publish_opts_t *opts,
                                              uint16_t *packet_id);

/** @brief Subscribe to @p count filters in one SUBSCRIBE. Remembered: re-sent after a
 *  reconnect whose CONNACK says the session was not resumed.
 *  @param[in]  subs, props  Borrowed for the call. props may be NULL.
 *  @param[out] packet_id    May be NULL. The result is MQTLS_EVENT_SUBSCRIBED.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_FILTER_INVALID and other codec
 *          statuses; MQTLS_ERR_OUTBOX_FULL; MQTLS_ERR_NO_PACKET_ID; MQTLS_ERR_STATE (not
 *          connected). Thread-safe once started. */
MQTLS_API mqtls_status_t mqtls_client_subscribe(mqtls_client_t *c,
                                                const mqtls_subscription_t *subs, size_t count,
                                                const mqtls_properties_t *props,
                                                uint16_t *packet_id);

/** @brief Unsubscribe from @p count filters. The result is MQTLS_EVENT_UNSUBSCRIBED.
 *  @return as mqtls_client_subscribe(). */
MQTLS_API mqtls_status_t mqtls_client_unsubscribe(mqtls_client_t *c, const char *const *filters,
                                                  size_t count, uint16_t *packet_id);

/** @brief Send DISCONNECT with @p reason (MQTT 5; 0 = normal, 0x04 = send the will) and
 *  close once it is written; no reconnect follows. The will is discarded by the broker unless
 *  reason is 0x04. MQTLS_EVENT_DISCONNECTED follows with status MQTLS_OK.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (already idle). */
MQTLS_API mqtls_status_t mqtls_client_disconnect(mqtls_client_t *c, uint8_t reason);

/** @brief Run the loop on a new thread until mqtls_client_stop() or destroy.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (already started);
 *          MQTLS_ERR_THREAD; MQTLS_ERR_OS (wakeup pipe). */
MQTLS_API mqtls_status_t mqtls_client_start(mqtls_client_t *c);

/** @brief Stop and join the loop thread (the connection stays as it is). Other threads may
 *  keep calling publish, subscribe and the rest meanwhile; start() again resumes.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (not started, or another thread
 *          is stopping it). */
MQTLS_API mqtls_status_t mqtls_client_stop(mqtls_client_t *c);

/** @brief The file descriptor to watch when driving the client yourself: the socket, or while
 *  a host name is being resolved (on a resolver thread) a descriptor that becomes readable
 *  when the answer is in; -1 when there is none (idle or in backoff: use
 *  mqtls_client_timeout_ms()). Changes across reconnects. */
MQTLS_API int mqtls_client_fd(const mqtls_client_t *c);

/** @brief MQTLS_WANT_READ / MQTLS_WANT_WRITE the client waits for on mqtls_client_fd(). */
MQTLS_API unsigned mqtls_client_want(const mqtls_client_t *c);

/** @brief Milliseconds until the client needs mqtls_client_step() even without I/O
 *  (keepalive, timeouts, reconnect); -1 = no timer pending. */
MQTLS_API int64_t mqtls_client_timeout_ms(const mqtls_client_t *c);

/** @brief Wait up to @p timeout_ms for I/O on the client's socket (0 = do not wait, -1 = until
 *  I/O; never longer than the next timer; at once when the client has neither socket nor
 *  timer), then do all work that is due: read, process, write, timers.
 *  Events are delivered from inside this call. Not with mqtls_client_start() running.
 *  @return MQTLS_OK (connection problems are reported as events, not here);
 *          MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (the loop thread runs); MQTLS_ERR_OS. */
MQTLS_API mqtls_status_t mqtls_client_step(mqtls_client_t *c, int timeout_ms);

/** @brief Current state. Thread-safe. */
MQTLS_API mqtls_client_state_t mqtls_client_state(const mqtls_client_t *c);

/** @brief Copy the last failure (connect, transport, protocol) into @p out. Thread-safe.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG. */
MQTLS_API mqtls_status_t mqtls_client_last_error(const mqtls_client_t *c, mqtls_error_t *out);

/** @brief The TLS handshake facts of the last connection attempt, for diagnosis.
 *  @return a pointer owned by the client, valid until the next connection attempt or
 *  destroy; NULL if no TLS attempt was made. Read it only from the loop thread (e.g. in the
 *  event callback) or when the loop is not running. */
MQTLS_API const mqtls_tls_facts_t *mqtls_client_tls_facts(const mqtls_client_t *c);

/** @brief Findings of the diagnosis run after the last failed connection attempt.
 *  @return a pointer owned by the client, valid until the next failed attempt or destroy;
 *  NULL if none ran. Same thread rules as mqtls_client_tls_facts(). */
MQTLS_API const mqtls_findings_t *mqtls_client_findings(const mqtls_client_t *c);

/** @brief Messages in the outbox (queued and in flight). Thread-safe. */
MQTLS_API size_t mqtls_client_outbox_count(const mqtls_client_t *c);

/** @brief Bytes the outbox holds (encoded PUBLISH packets queued and in flight, plus ring
 *  padding): compare with mqtls_client_cfg_t::outbox_max_bytes. Thread-safe. */
MQTLS_API size_t mqtls_client_outbox_bytes(const mqtls_client_t *c);

/** @brief Cork: hold publishes in the outbox instead of writing each one, so that many go out
 *  together (one TLS record and one send for up to 16 KiB of packets, instead of one per
 *  message). A full record's worth is written as soon as it is queued; the rest waits for
 *  mqtls_client_uncork(). Control packets (acks, PINGREQ, SUBSCRIBE) are never held, and a
 *  disconnect still sends the queued QoS 0 messages first. Not nested: one uncork ends it.
 *  Since 1.1. Thread-safe.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (@p c is NULL). */
MQTLS_API mqtls_status_t mqtls_client_cork(mqtls_client_t *c);

/** @brief Uncork: write everything queued now, coalesced, from the calling thread (what the
 *  socket does not take at once is written by whoever drives the client, as usual; errors
 *  surface there too). Harmless when not corked. Since 1.1. Thread-safe.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (@p c is NULL). */
MQTLS_API mqtls_status_t mqtls_client_uncork(mqtls_client_t *c);

/** @brief The client ID in use: the configured one, the generated one if none was
 *  configured, or with mqtls_client_cfg_t::empty_client_id "" until an MQTT 5 broker assigns
 *  one (then that one). Owned by the client, valid until destroy; its content changes when a
 *  broker assigns an id, so read it from the loop thread (e.g. in a callback) or when the
 *  loop is not running. */
MQTLS_API const char *mqtls_client_id(const mqtls_client_t *c);

/** @brief The URI of the broker the client is connected to, or will try next: the configured
 *  one, or after a failover another of mqtls_client_cfg_t::uris (1.1).
 *  @return a string owned by the client, valid until destroy; NULL for NULL. Thread-safe. */
MQTLS_API const char *mqtls_client_uri(const mqtls_client_t *c);

/** @brief QoS 2 PUBLISHes the broker acknowledged with PUBACK instead of PUBREC since create
 *  (1.1). Such a broker took the message at QoS 1: RabbitMQ 3.10 downgrades every QoS 2
 *  message this way. mqtls completes them (MQTLS_EVENT_PUBLISHED, reason 0) rather than wait
 *  for a PUBREC that never comes: delivered at least once, not exactly once. The first one of
 *  each client is logged (warn). Thread-safe. */
MQTLS_API uint32_t mqtls_client_qos2_downgrades(const mqtls_client_t *c);

/** Drives many clients from one thread (epoll on Linux, poll elsewhere). Opaque. */
typedef struct mqtls_loop mqtls_loop_t;

/** @brief Create an empty loop.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM; MQTLS_ERR_OS (epoll_create). */
MQTLS_API mqtls_status_t mqtls_loop_create(mqtls_loop_t **out);

/** @brief Free the loop (not its clients). Accepts NULL. */
MQTLS_API void mqtls_loop_destroy(mqtls_loop_t *l);

/** @brief Let the loop drive @p c (borrowed until mqtls_loop_remove() or destroy). The client
 *  must not be started with mqtls_client_start().
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM. */
MQTLS_API mqtls_status_t mqtls_loop_add(mqtls_loop_t *l, mqtls_client_t *c);

/** @brief Stop driving @p c. @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (not in the loop). */
MQTLS_API mqtls_status_t mqtls_loop_remove(mqtls_loop_t *l, mqtls_client_t *c);

/** @brief One iteration: wait up to @p timeout_ms (-1 = until something happens; never past
 *  the earliest client timer) for I/O on any client, then step every client that is ready or
 *  due. Events are delivered from inside this call. Timers are kept in a heap: a call costs
 *  O(ready clients + log clients), not O(clients).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_OS. */
MQTLS_API mqtls_status_t mqtls_loop_run_once(mqtls_loop_t *l, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_CLIENT_H */
