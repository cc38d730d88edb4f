/* Internal to the WebSocket transport (ws.c: framing and the transport; ws_handshake.c: the
 * HTTP/1.1 Upgrade of RFC 6455 section 4). Never installed. */
#ifndef MQTLS_NET_WS_INTERNAL_H
#define MQTLS_NET_WS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* The whole HTTP answer to the Upgrade must fit here (it is also the receive buffer). */
#define WS_HS_MAX 8192u
/* Masked payload is staged here: one inner write per chunk, no allocation per write. */
#define WS_SCRATCH 16384u
/* Largest frame header a client sends: 2 + 8 (64-bit length) + 4 (mask). */
#define WS_HDR_MAX 14u
/* Largest control frame: 2 + 4 (mask) + 125 (RFC 6455 5.5). */
#define WS_CTRL_MAX 131u
#define WS_OUT_CAP (WS_SCRATCH + WS_HDR_MAX + WS_CTRL_MAX)
/* Frames longer than this are refused: an MQTT packet is at most 268,435,455 + 5 bytes, and a
 * bigger frame from a broker is a broken peer, not data (protects the length arithmetic). */
#ifndef MQTLS_WS_MAX_FRAME_LEN
#define MQTLS_WS_MAX_FRAME_LEN ((uint64_t)1 << 30)
#endif
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_PATH_MAX 1024u

enum {
    OP_CONT = 0x0,
    OP_TEXT = 0x1,
    OP_BINARY = 0x2,
    OP_CLOSE = 0x8,
    OP_PING = 0x9,
    OP_PONG = 0xA,
};

typedef enum {
    WS_IDLE,
    WS_INNER,    /* inner transport connecting */
    WS_REQUEST,  /* sending the Upgrade request */
    WS_RESPONSE, /* reading the 101 */
    WS_OPEN,
    WS_DEAD, /* protocol error or peer CLOSE: only close()/destroy() make sense */
} ws_state_t;

typedef struct ws {
    mqtls_transport_t base;
    mqtls_transport_t *inner;
    char *host;
    char *path;
    char *subprotocol;
    uint16_t port;
    ws_state_t state;
    mqtls_status_t dead_status; /* returned by read/writev in WS_DEAD */
    unsigned want;
    char key[25];      /* base64 of 16 random bytes */
    char selected[64]; /* subprotocol echoed by the server */
    const char *note;
    char note_buf[128];

    /* Receive side: raw bytes from inner (also the handshake answer). */
    uint8_t rbuf[WS_HS_MAX];
    size_t rlen, roff;
    size_t hs_scan; /* where the search for the end of the HTTP header resumes */
    uint8_t hdr[WS_HDR_MAX];
    size_t hdr_len;
    bool in_payload;
    uint8_t opcode;
    bool fin;
    uint64_t payload_left;
    uint8_t ctrl[125];
    size_t ctrl_len;
    bool msg_open;    /* a fragmented binary message is in progress */
    bool peer_closed; /* CLOSE seen while data was being returned: CLOSED next read */

    /* Send side: header + masked payload (and queued control frames) waiting for inner. */
    uint8_t out[WS_OUT_CAP];
    size_t out_len, out_off;
    uint64_t frame_left; /* payload bytes of the current frame not yet masked into out */
    uint64_t frame_pos;  /* payload bytes already masked (mask index) */
    uint8_t mask[4];
    uint8_t ctrl_out[WS_CTRL_MAX]; /* a PONG/CLOSE waiting for the current frame to end */
    size_t ctrl_out_len;
    bool close_sent;

    /* Random bytes for keys and masks: fetched in blocks, one syscall per 64 frames. */
    uint8_t rnd[256];
    size_t rnd_left;
} ws_t;

/* Record a WebSocket-layer failure (a macro so that the format is checked). */
#define WS_FAIL(t, st, ...) mqtls__net_fail((t)->base.err, MQTLS_LAYER_WS, (st), 0, __VA_ARGS__)

/** @p n bytes from the kernel CSPRNG (keys and masks, RFC 6455 10.3), fetched in blocks. */
bool mqtls__ws_random_bytes(ws_t *t, uint8_t *dst, size_t n);
/** Send what t->out holds. MQTLS_OK when all is out, WOULD_BLOCK, or the inner error. */
mqtls_status_t mqtls__ws_flush_out(ws_t *t);
/** Put the Upgrade request (random key, Host, subprotocol) into t->out. */
mqtls_status_t mqtls__ws_build_request(ws_t *t);
/** Read and check the server's answer: MQTLS_OK on a valid 101 (subprotocol noted). */
mqtls_status_t mqtls__ws_read_response(ws_t *t);

#endif /* MQTLS_NET_WS_INTERNAL_H */
