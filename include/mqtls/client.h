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

/** Client configuration. Initialise with mqtls_client_cfg_init(), then set what you need.
 *  mqtls_client_create() copies this struct and *tls, and the strings uri, client_id,
 *  username, password, ws_subprotocol and the will's topic and payload; the property arrays
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
     *  bracketed IPv6 literal "[::1]". */
    const char *uri;
    const char *client_id;    /**< NULL or "" = generated "mqtls-" + 16 random hex digits */
    mqtls_version_t version;  /**< default MQTLS_V311: every broker speaks it */
    uint16_t keepalive_s;     /**< default 60; 0 disables keepalive */
    bool clean_start;         /**< default true ("clean session" in 3.1.1) */
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
    uint16_t receive_maximum;   /**< MQTT 5 Receive Maximum we announce, default 65535 */
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
} mqtls_client_cfg_t;

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
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (also: @p cfg or cfg->tls not initialised with
 *          its *_init()); MQTLS_ERR_BAD_URI; MQTLS_ERR_NOMEM; MQTLS_ERR_NOT_SUPPORTED (@p cfg
 *          sets fields of a newer mqtls than this library); a status from building the TLS
 *          context (-207, -300..-312). */
MQTLS_API mqtls_status_t mqtls_client_create(const mqtls_client_cfg_t *cfg, mqtls_error_t *err,
                                             mqtls_client_t **out);

/** @brief Stop the loop thread if any, close the connection at once and free everything.
 *  Pending messages are dropped. Accepts NULL. Not from inside the event callback. */
MQTLS_API void mqtls_client_destroy(mqtls_client_t *c);

/** @brief Begin connecting (asynchronous): the result arrives as MQTLS_EVENT_CONNECTED, or
 *  MQTLS_EVENT_ERROR + MQTLS_EVENT_DISCONNECTED. Reconnects follow the policy afterwards.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (already connecting/connected). */
MQTLS_API mqtls_status_t mqtls_client_connect(mqtls_client_t *c);

/** @brief Queue a PUBLISH. QoS 0 is written straight from @p payload when the connection is
 *  idle, the client is driven by mqtls_client_step() and not corked; otherwise the packet is
 *  copied once into the outbox, and the next write gathers everything queued into as few
 *  writes (TLS records of up to 16 KiB) as it can: with mqtls_client_start() or a
 *  mqtls_loop_t, the loop thread writes what the application queued meanwhile in one go. Works while disconnected: QoS
 *  1/2 wait in the outbox for the next connection, QoS 0 is dropped at a disconnect.
 *  @param[in]  topic, payload  Borrowed for the call.
 *  @param[in]  opts            NULL = QoS 0.
 *  @param[out] packet_id       The packet id (QoS 1/2; 0 for QoS 0); may be NULL.
 *  Never blocks: when the outbox is at its configured limits it fails at once.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_OUTBOX_FULL (count or bytes limit);
 *          MQTLS_ERR_NOMEM (growing the outbox failed); MQTLS_ERR_NO_PACKET_ID;
 *          MQTLS_ERR_TOO_LARGE_FOR_BROKER; MQTLS_ERR_PACKET_TOO_LARGE;
 *          MQTLS_ERR_QOS_NOT_SUPPORTED; MQTLS_ERR_RETAIN_NOT_SUPPORTED; a codec validation
 *          status (e.g. MQTLS_ERR_TOPIC_WILDCARD). Thread-safe once started. */
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

/** @brief Stop and join the loop thread (the connection stays as it is).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_STATE (not started). */
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

/** @brief The client ID in use (the generated one if none was configured). */
MQTLS_API const char *mqtls_client_id(const mqtls_client_t *c);

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
