/** @file net.h
 *  @brief Internal API of src/net: the transport for a broker URI (stack.c), the TCP transport,
 *  the shareable TLS context, the TLS and WebSocket transports. Used by src/runtime (and
 *  tests); never installed.
 *
 *  Threading: a transport is used by one thread at a time. A mqtls__tls_ctx_t may be shared by
 *  any number of TLS transports on any threads once created (mbedTLS is built with
 *  MBEDTLS_THREADING_C; the RNG has its own mutex). */
#ifndef MQTLS_NET_H
#define MQTLS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/packet.h"
#include "mqtls/status.h"
#include "mqtls/uri.h"
#include "common/tls_facts.h"
#include "mqtls/tls.h"
#include "net/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Create a non-blocking TCP transport to @p host : @p port. Nothing happens on the
 *  network until ops->connect(). The first connect() of an attempt resolves the name: IPv4/IPv6
 *  literals at once, in the call (no DNS); names on the resolver's threads (see "Name
 *  resolution" below): connect() returns MQTLS_ERR_WOULD_BLOCK meanwhile, fd() is the
 *  resolution's eventfd and want() MQTLS_WANT_READ, so poll/epoll wakes when the answer is in.
 *  Then every address is tried in turn with a non-blocking connect() and TCP_NODELAY.
 *  fd() changes number whenever the file behind it changes within an attempt (the previous
 *  one stays open until the new one exists), so an epoll user may compare numbers; close()
 *  ends the attempt. Name resolution counts against @p connect_timeout_ms.
 *  @param[in]  host  Name or IPv4/IPv6 literal ("::1", no brackets). Copied.
 *  @param[in]  port  TCP port.
 *  @param[in]  connect_timeout_ms  Deadline for all addresses together (0 = 30 s), measured
 *              with the now_ms given to connect().
 *  @param[in]  err   Where failures are recorded; borrowed until destroy; may be NULL.
 *  @param[out] out   The transport; caller destroys it with (*out)->ops->destroy(*out).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM.
 *  connect() then returns MQTLS_OK, MQTLS_ERR_WOULD_BLOCK, MQTLS_ERR_DNS (layer DNS; detail =
 *  gai_strerror, or "no answer in N ms"), MQTLS_ERR_THREAD (no resolver thread),
 *  MQTLS_ERR_CONN_REFUSED, MQTLS_ERR_CONNECT_TIMEOUT, MQTLS_ERR_NET_UNREACHABLE
 *  or MQTLS_ERR_IO (errno in err->sys_errno). read/writev add MQTLS_ERR_CLOSED and
 *  MQTLS_ERR_CONN_RESET. Writes use MSG_NOSIGNAL: never SIGPIPE. */
mqtls_status_t mqtls__tcp_create(const char *host, uint16_t port, uint32_t connect_timeout_ms,
                                 mqtls_error_t *err, mqtls_transport_t **out);

/** @brief Bind the sockets of TCP transport @p t to the local address @p addr (an IPv4 or IPv6
 *  literal; NULL = none) before each connect; only broker addresses of its family are tried.
 *  Call before connect(). A bind that fails fails connect() with MQTLS_ERR_IO (layer TCP,
 *  errno, detail "bind to ADDR ...").
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (not an IP literal). */
mqtls_status_t mqtls__tcp_set_bind(mqtls_transport_t *t, const char *addr);
/** @brief Is @p addr an IPv4 or IPv6 literal mqtls__tcp_set_bind() takes? */
bool mqtls__tcp_bind_address_valid(const char *addr);
/** @brief The transport of mqtls__tcp_create() over a Unix domain stream socket at @p path
 *  (copied; at most 107 bytes). connect() never blocks (a local connect() either finishes or
 *  says EAGAIN: then the socket becomes writable when the server accepts) and counts against
 *  @p connect_timeout_ms (0 = 30 s). fd(), read(), writev() and close() are TCP's.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM.
 *  connect() then returns MQTLS_OK, MQTLS_ERR_WOULD_BLOCK, MQTLS_ERR_CONN_REFUSED (nothing
 *  listens, or no such file: errno ECONNREFUSED / ENOENT), MQTLS_ERR_CONNECT_TIMEOUT or
 *  MQTLS_ERR_IO (e.g. EACCES; errno in err->sys_errno), all with layer TCP and the path in
 *  err->detail. */
mqtls_status_t mqtls__unix_create(const char *path, uint32_t connect_timeout_ms, mqtls_error_t *err,
                                  mqtls_transport_t **out);

/* ---- Proxies (proxy.c) -------------------------------------------------------------------- */

typedef enum mqtls__proxy_kind {
    MQTLS__PROXY_SOCKS5H = 1, /* socks5h://: the proxy resolves the broker's name */
    MQTLS__PROXY_SOCKS5,      /* socks5://: resolved here, the address sent */
    MQTLS__PROXY_HTTP         /* http://: CONNECT host:port */
} mqtls__proxy_kind_t;

/** A parsed proxy URL. Holds the password: wipe it (mbedtls_platform_zeroize) when done. */
typedef struct mqtls__proxy {
    mqtls__proxy_kind_t kind;
    char host[256]; /* name or literal, without brackets */
    uint16_t port;  /* default 1080 */
    bool has_user;
    char user[256]; /* %XX-decoded */
    char pass[256];
} mqtls__proxy_t;

/** @brief Parse "socks5h://", "socks5://" or "http://" + "[user[:pass]@]host[:port][/]".
 *  @return MQTLS_OK; MQTLS_ERR_BAD_URI (layer CONFIG, detail says what; never the password);
 *          MQTLS_ERR_INVALID_ARG. Pure. */
mqtls_status_t mqtls__proxy_parse(const char *url, mqtls__proxy_t *out, mqtls_error_t *err);

/** @brief Wipe @p p (it holds the password). NULL is fine. */
void mqtls__proxy_wipe(mqtls__proxy_t *p);

/** @brief Wrap @p inner (TCP to the proxy's host and port) in a proxy tunnel to the broker
 *  @p host : @p port. connect() connects @p inner, asks the proxy for the tunnel (SOCKS5:
 *  greeting, RFC 1929 user/password when the URL has a user, CONNECT by name for socks5h://,
 *  by address for socks5:// after resolving on the resolver's threads; HTTP: CONNECT with
 *  Basic Proxy-Authorization) and then passes bytes through: read/writev/fd are the inner's.
 *  @param[in] inner  Owned from now on, even on failure.
 *  @param[in] proxy  Copied. @param[in] host  Copied.
 *  @param[in] err    Borrowed until destroy; may be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM.
 *  connect() returns MQTLS_OK, MQTLS_ERR_WOULD_BLOCK, the inner transport's errors with layer
 *  PROXY and "SOCKS5 proxy: " / "HTTP proxy: " before their detail (the proxy could not be
 *  reached), MQTLS_ERR_DNS (socks5://), MQTLS_ERR_PROXY_REFUSED (its rules: SOCKS5 replies 1,
 *  2, 7, 8, HTTP 4xx but 407; or it closed without answering), MQTLS_ERR_PROXY_AUTH (no
 *  acceptable method, user/password refused, HTTP 407), MQTLS_ERR_PROXY_TARGET (SOCKS5 replies
 *  3-6, HTTP 5xx), MQTLS_ERR_PROXY_PROTOCOL (not a SOCKS5 / HTTP answer); layer PROXY, the
 *  proxy's answer in err->detail. */
mqtls_status_t mqtls__proxy_create(mqtls_transport_t *inner, const mqtls__proxy_t *proxy,
                                   const char *host, uint16_t port, mqtls_error_t *err,
                                   mqtls_transport_t **out);

/** What mqtls__stack_create() needs to build the transport for a broker URI. */
typedef struct mqtls__stack_cfg {
    const mqtls_uri_t *uri;          /**< host, port, scheme (WebSocket, path); borrowed */
    uint32_t connect_timeout_ms;     /**< TCP (name resolution included), as mqtls__tcp_create() */
    struct mqtls__tls_ctx *tls;      /**< NULL = no TLS; else TLS over TCP, borrowed until the
                                          transport is destroyed */
    mqtls_tls_facts_t *facts;        /**< with @c tls: filled at every handshake; borrowed */
    const char *ws_subprotocol;      /**< ws(s)://: as mqtls__ws_create(); NULL = by version */
    mqtls_version_t mqtt_version;    /**< picks the default WebSocket subprotocol */
    const char *bind_address;        /**< local IP literal for TCP, or NULL (tcp_set_bind) */
    const mqtls__proxy_t *proxy;     /**< NULL = direct; else TCP goes to the proxy (copied) */
} mqtls__stack_cfg_t;

/** @brief The transport for a broker URI: TCP (a Unix socket for unix://), then TLS when
 *  @c cfg->tls is set, then WebSocket for ws:// and wss://; with @c cfg->proxy, TCP reaches
 *  the proxy and a proxy tunnel sits between TCP and TLS. TLS over a Unix socket checks the
 *  name "localhost" unless the TLS context has a server_name. The caller knows nothing of the
 *  layering; the result is one transport (destroy it with (*out)->ops->destroy(*out), which frees every layer).
 *  @param[in]  cfg  Borrowed for the call (see the fields for what stays borrowed).
 *  @param[in]  err  Where every layer records failures; borrowed until destroy; may be NULL.
 *  @return MQTLS_OK; the statuses of mqtls__tcp_create(), mqtls__tls_create(),
 *          mqtls__ws_create(). */
mqtls_status_t mqtls__stack_create(const mqtls__stack_cfg_t *cfg, mqtls_error_t *err,
                                   mqtls_transport_t **out);

/* ---- Name resolution (resolve.c): getaddrinfo() on a pool of worker threads -------------- */

struct addrinfo;
/** A pending resolution; owned by its caller until mqtls__resolve_free(). */
typedef struct mqtls__resolve mqtls__resolve_t;
/** getaddrinfo()'s shape (the test hook below). */
typedef int (*mqtls__getaddrinfo_fn)(const char *host, const char *port,
                                     const struct addrinfo *hints, struct addrinfo **res);

/** @brief Resolve @p host (a name: literals need no thread) on a resolver thread.
 *  @return MQTLS_OK; MQTLS_ERR_NOMEM; MQTLS_ERR_OS (no eventfd); MQTLS_ERR_THREAD. */
mqtls_status_t mqtls__resolve_start(const char *host, uint16_t port, mqtls__resolve_t **out);
/** @brief The fd that becomes readable when the answer is in (until mqtls__resolve_free()). */
int mqtls__resolve_fd(const mqtls__resolve_t *r);
/** @brief The answer, if it is in: getaddrinfo()'s @p rc and errno, and @p ai (the caller's
 *  now: freeaddrinfo() it). Never blocks. @return false: not yet. */
bool mqtls__resolve_take(mqtls__resolve_t *r, int *rc, int *sys_errno, struct addrinfo **ai);
/** @brief Let go of @p r (NULL is fine), answered or not; never waits for a resolver thread. */
void mqtls__resolve_free(mqtls__resolve_t *r);
/** @brief Test hook: resolve with @p fn instead of getaddrinfo() (NULL = getaddrinfo()). Its
 *  results are freed with freeaddrinfo(). */
void mqtls__resolve_set_hook(mqtls__getaddrinfo_fn fn);
/** @brief Resolutions queued or running (also those let go of and still running). */
size_t mqtls__resolve_busy(void);

/** Long-lived TLS configuration: the engine that connects (tls_engine.h), its parsed CAs,
 *  client certificate and key, RNG and configuration, and the device judge of an explicit
 *  profile. Build it once and share it between reconnects and between thousands of
 *  connections. */
typedef struct mqtls__tls_ctx mqtls__tls_ctx_t;

/** @brief Pick the engine (cfg->engine, else $MQTLS_TLS_ENGINE, else the default), parse the
 *  credentials of @p cfg with it and build the TLS configuration.
 *  Files or buffers; PEM or DER detected from the content; PEM chains; PEM buffers with or
 *  without their trailing NUL; a CA directory; an encrypted key with cfg->key_password (used
 *  for the call only, never copied or logged).
 *  @param[in]  cfg  Borrowed for the call (strings that must outlive it are copied).
 *  @param[in]  err  Where a failure is recorded (layer CONFIG); may be NULL.
 *  @param[out] out  The context; free it with mqtls__tls_ctx_destroy().
 *  cfg->profile selects the X.509 profile the server chain is verified with (tls.h).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (detail says which: e.g. a certificate without a
 *          key, an unknown profile or engine name); MQTLS_ERR_NOT_SUPPORTED (an engine this
 *          build lacks, TLS 1.3 asked of the mbedtls2 engine); MQTLS_ERR_NOMEM;
 *          MQTLS_ERR_FILE_UNREADABLE (errno + file name); MQTLS_ERR_FILE_EMPTY; MQTLS_ERR_CA_PARSE; MQTLS_ERR_CERT_PARSE; MQTLS_ERR_KEY_PARSE;
 *          MQTLS_ERR_KEY_PASSWORD_REQUIRED; MQTLS_ERR_KEY_PASSWORD_WRONG;
 *          MQTLS_ERR_KEY_UNSUPPORTED; MQTLS_ERR_KEY_MISMATCH; MQTLS_ERR_TLS_SETUP. */
mqtls_status_t mqtls__tls_ctx_create(const mqtls_tls_cfg_t *cfg, mqtls_error_t *err,
                                     mqtls__tls_ctx_t **out);

/** @brief Free @p ctx (NULL is fine). Every transport created from it must be gone. */
void mqtls__tls_ctx_destroy(mqtls__tls_ctx_t *ctx);

/** @brief The name of the engine @p ctx connects with ("mbedtls3", ...), NULL for NULL. */
const char *mqtls__tls_ctx_engine(const mqtls__tls_ctx_t *ctx);

/** @brief Gather each handshake flight into one send (default on). Off only to measure the
 *  cost (one TCP segment per TLS record, the delayed-ACK stall). Set before creating
 *  transports. */
void mqtls__tls_ctx_set_flight_gathering(mqtls__tls_ctx_t *ctx, bool on);

/** @brief Wrap @p inner (TCP now, WebSocket later) in TLS.
 *  @param[in] ctx    Shared configuration; borrowed until destroy.
 *  @param[in] inner  Owned from now on, even on failure (destroyed with the TLS transport).
 *  @param[in] host   The host connected to: the SNI and the name checked unless the context
 *                    has a server_name. IP literals get no SNI (RFC 6066 section 3) but the
 *                    iPAddress SAN is still checked. Copied.
 *  @param[in] facts  Borrowed until destroy: re-initialised and filled at every handshake.
 *  @param[in] err    Where failures are recorded; borrowed until destroy; may be NULL.
 *  @param[out] out   The transport.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_NOMEM; MQTLS_ERR_TLS_SETUP.
 *  connect() returns MQTLS_OK, MQTLS_ERR_WOULD_BLOCK, the inner transport's errors,
 *  MQTLS_ERR_TLS_VERIFY (verify_flags, depth_flags), MQTLS_ERR_TLS_ALERT (tls_alert),
 *  MQTLS_ERR_TLS_NOT_TLS, MQTLS_ERR_TLS_HANDSHAKE (err->mbedtls_ret always set). It never
 *  blocks: when a handshake fails before the server's alert has arrived, connect() keeps
 *  returning MQTLS_ERR_WOULD_BLOCK (want() = MQTLS_WANT_READ) while it reads, and reports the
 *  failure once the alert is in, the server closes, or the now_ms it is given is 200 ms past
 *  the failure; call it again when the socket is readable or that time has come.
 *  read() may return MQTLS_ERR_TLS_ALERT (TLS 1.3 rejects a client certificate after the
 *  handshake) and MQTLS_ERR_TLS_IO. writev() with iov_count 0 only flushes ciphertext that
 *  is still buffered (want() has MQTLS_WANT_WRITE while there is some): MQTLS_OK when all is
 *  out. close() sends close_notify; a later connect() offers the saved session for
 *  resumption (facts->session_resumed), unless cfg->no_session_resumption. */
mqtls_status_t mqtls__tls_create(mqtls__tls_ctx_t *ctx, mqtls_transport_t *inner, const char *host,
                                 mqtls_tls_facts_t *facts, mqtls_error_t *err,
                                 mqtls_transport_t **out);

/** @brief Test hook: run the TLS record parser (tls_records.c) over @p count chunks of
 *  bytes "received from a server", filling @p facts (presented chain, cert_requested,
 *  ca_names, alert_received, peer_not_tls, first_bytes, records_truncated).
 *  @return false when the bytes are not TLS. */
bool mqtls__tls_parse_records(mqtls_tls_facts_t *facts, const uint8_t *const *chunks,
                              const size_t *lens, size_t count);

/** @brief Record a failure in @p err (may be NULL): layer, status, errno, printf detail.
 *  @return @p status, so that callers can `return mqtls__net_fail(...)`. */
mqtls_status_t mqtls__net_fail(mqtls_error_t *err, mqtls_layer_t layer, mqtls_status_t status,
                               int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** @brief The text of mbedTLS code @p code, as the newest mbedTLS built in (the default
 *  engine's, what ESP-IDF 5 prints) words it. For mqtls_strerror(). */
void mqtls__tls_code_text(int code, char *buf, size_t cap);

/** @brief Monotonic clock in milliseconds (for facts->handshake_ms). */
int64_t mqtls__net_now_ms(void);

/* ---- WebSocket transport (ws.c): MQTT over WebSocket, RFC 6455 + MQTT 5.0/3.1.1 section 6 */

/** @brief Wrap @p inner (TCP for ws://, TLS-over-TCP for wss://) in a WebSocket client.
 *  connect() drives inner's connect, then the HTTP/1.1 Upgrade (Host with port, random
 *  Sec-WebSocket-Key, version 13, Sec-WebSocket-Protocol) and validates the 101 answer
 *  (Upgrade/Connection, Sec-WebSocket-Accept, the subprotocol echo). read() returns the
 *  payload of binary/continuation frames as a byte stream (MQTT framing is the codec's job),
 *  answers PING with PONG and turns a CLOSE into MQTLS_ERR_CLOSED after answering it.
 *  writev() sends its gather list as ONE masked binary frame; a frame that could not be
 *  finished is completed by the next writev() calls (the caller passes the unsent rest, as
 *  with any stream); bytes reported sent are owned by the transport and leave on later calls
 *  (want() has MQTLS_WANT_WRITE; writev() with iov_count 0 flushes them and the inner
 *  transport). close() sends CLOSE 1000 once, best effort.
 *  @param[in] inner  Owned from now on, even on failure (destroyed with this transport).
 *  @param[in] host   For the Host header (IPv6 literals get brackets). Copied.
 *  @param[in] port   For the Host header.
 *  @param[in] path   Request target, starting with '/'; NULL = "/mqtt". Copied.
 *  @param[in] subprotocol  Sec-WebSocket-Protocol offered, sent verbatim (a comma list is
 *                    allowed, e.g. "mqtt,binary"); NULL = "mqtt" [MQTT-6.0.0-3]; "" = no
 *                    header (bridges such as websockify 0.10 refuse unknown subprotocols).
 *                    A 101 without an echo is accepted and noted (mqtls__ws_note); an echo
 *                    that was not offered fails. Copied.
 *  @param[in] err    Where failures are recorded (layer WS); borrowed until destroy; may be NULL.
 *  @param[out] out   The transport; destroy with (*out)->ops->destroy(*out).
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG (path/host with spaces or CR/LF, path too long);
 *          MQTLS_ERR_NOMEM.
 *  connect() returns MQTLS_OK, MQTLS_ERR_WOULD_BLOCK, the inner transport's errors,
 *  MQTLS_ERR_WS_HANDSHAKE (detail: the status line of a non-101 answer, e.g.
 *  "HTTP/1.1 404 Not Found", or the header that is wrong), MQTLS_ERR_OS (no randomness).
 *  read() and writev() add MQTLS_ERR_WS_PROTOCOL (text frame, masked server frame, reserved
 *  bits or opcode, bad control frame, length over MQTLS_WS_MAX_FRAME_LEN) and
 *  MQTLS_ERR_CLOSED (the server's CLOSE code and reason in err->detail). */
mqtls_status_t mqtls__ws_create(mqtls_transport_t *inner, const char *host, uint16_t port,
                                const char *path, const char *subprotocol, mqtls_error_t *err,
                                mqtls_transport_t **out);

/** @brief A note about the last handshake of WebSocket transport @p t that is not a failure
 *  (e.g. the server did not echo the subprotocol), or NULL. Valid until the next connect. */
const char *mqtls__ws_note(const mqtls_transport_t *t);

/** @brief The subprotocol the server selected in the last handshake ("" if none echoed). */
const char *mqtls__ws_subprotocol(const mqtls_transport_t *t);

/** @brief Test hook: Sec-WebSocket-Accept for @p key (RFC 6455 4.2.2: base64 of the SHA-1 of
 *  key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11") into @p out (29 bytes with the NUL).
 *  @return false if hashing failed. */
bool mqtls__ws_accept_for_key(const char *key, char out[29]);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_NET_H */
