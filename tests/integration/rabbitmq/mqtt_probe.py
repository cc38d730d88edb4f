#!/usr/bin/env python3
"""mqtt_probe.py - raw MQTT exchanges with RabbitMQ that mosquitto's clients cannot make.

  mqtt_probe.py ws  PORT CLIENT_ID                       ws://127.0.0.1:PORT/ws, CONNECT (no login)
  mqtt_probe.py wss PORT CA [CERT KEY] CLIENT_ID TOPIC   wss://127.0.0.1:PORT/ws with the client
        certificate (or none): WebSocket handshake asking for the "mqtt" subprotocol, CONNECT,
        PUBLISH QoS 1 "hello-wss" on TOPIC, DISCONNECT
  mqtt_probe.py v5  PORT CA CERT KEY CLIENT_ID            MQTTS, an MQTT 5 CONNECT with an empty
        property list; prints the broker's raw answer

Python's standard library only (ssl, socket). Every socket operation has a 15 s timeout. Prints
one "key: value" line per fact; the caller asserts on them. Exit status 0 unless the probe itself
broke (a refusal by the broker is a fact, not a failure).
"""
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

TIMEOUT_S = 15
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def say(key, value):
    print(f"{key}: {value}", flush=True)


def utf8(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first_byte, body):
    return bytes([first_byte]) + remaining_length(len(body)) + body


def connect_311(client_id):
    # [MQTT-3.1.2] protocol name "MQTT", level 4, flags: clean session, keep alive 60 s
    return packet(0x10, utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + utf8(client_id))


def connect_5(client_id):
    # MQTT 5 [3.1.2.11]: the variable header ends with a property length (0 here)
    body = utf8("MQTT") + bytes([5, 0x02]) + struct.pack("!H", 60) + b"\x00" + utf8(client_id)
    return packet(0x10, body)


def tls_socket(port, ca, cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    say("tls", s.version())
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def ws_handshake(s, port):
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: mqtt\r\n\r\n")
    s.sendall(req.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise EOFError("connection closed during the WebSocket handshake")
        head += chunk
    lines = head.decode("latin-1").split("\r\n")
    say("http", lines[0])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    say("ws-accept", "ok" if headers.get("sec-websocket-accept") == want else "bad")
    say("ws-subprotocol", headers.get("sec-websocket-protocol", "(none)"))


def ws_send(s, payload):
    mask = os.urandom(4)  # [RFC 6455 5.3] a client masks every frame
    n = len(payload)
    head = bytes([0x82])  # FIN, binary
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_recv(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    data = recv_exact(s, n)  # a server never masks
    return b0 & 0x0F, data


def ws_mqtt(s, client_id, topic):
    ws_send(s, connect_311(client_id))
    op, data = ws_recv(s)
    if op == 0x8:  # a close frame instead of a CONNACK: status code and reason
        code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 0
        say("ws-close", f"{code} {data[2:].decode(errors='replace')}")
        return
    say("connack", data.hex())
    if data[:2] != b"\x20\x02" or data[3] != 0 or topic is None:
        return
    msg = b"hello-wss"
    ws_send(s, packet(0x32, utf8(topic) + struct.pack("!H", 1) + msg))  # PUBLISH QoS 1, id 1
    op, data = ws_recv(s)
    say("puback", data.hex())
    ws_send(s, b"\xe0\x00")  # DISCONNECT


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    try:
        if mode == "ws" and len(argv) == 4:
            s = socket.create_connection(("127.0.0.1", int(argv[2])), timeout=TIMEOUT_S)
            ws_handshake(s, int(argv[2]))
            ws_mqtt(s, argv[3], None)
        elif mode == "wss" and len(argv) in (6, 8):
            port, ca = int(argv[2]), argv[3]
            cert, key = (argv[4], argv[5]) if len(argv) == 8 else (None, None)
            client_id, topic = argv[-2], argv[-1]
            s = tls_socket(port, ca, cert, key)
            ws_handshake(s, port)
            ws_mqtt(s, client_id, topic)
        elif mode == "v5" and len(argv) == 7:
            s = tls_socket(int(argv[2]), argv[3], argv[4], argv[5])
            s.sendall(connect_5(argv[6]))
            answer = b""
            try:
                while True:
                    chunk = s.recv(64)
                    if not chunk:
                        break
                    answer += chunk
            except (ssl.SSLError, ConnectionError):
                pass
            say("v5-answer", answer.hex() if answer else "(none)")
            say("v5-closed", "yes")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (ssl.SSLError, OSError, EOFError) as e:
        say("error", f"{type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
