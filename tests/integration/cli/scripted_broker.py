#!/usr/bin/env python3
"""A scripted MQTT 5 peer on 127.0.0.1 for what mosquitto never sends: Reason Strings.
usage: scripted_broker.py PORTFILE SCENARIO
Listens on a free port (written to PORTFILE), serves one connection, then exits (10 s bound).
SCENARIO: connack-refused   CONNACK 0x87 Not authorized, Reason String "quota exceeded"
          puback-refused    CONNACK 0; each QoS 1 PUBLISH: PUBACK 0x97 + Reason String
          suback-refused    CONNACK 0; SUBSCRIBE: SUBACK 0x87 + Reason String
          disconnect        CONNACK 0; then DISCONNECT 0x98 + Reason String
"""
import socket
import sys

REASON = b"quota exceeded"


def vbi(n):
    out = b""
    while True:
        b = n % 128
        n //= 128
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def packet(first, body):
    return bytes([first]) + vbi(len(body)) + body


def props(*items):
    raw = b"".join(items)
    return vbi(len(raw)) + raw


def reason_string():
    return b"\x1f" + len(REASON).to_bytes(2, "big") + REASON


def read_packet(conn):
    head = conn.recv(1)
    if not head:
        return None, None
    mult, length = 1, 0
    while True:
        b = conn.recv(1)[0]
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None, None
        body += chunk
    return head[0], body


def main():
    portfile, scenario = sys.argv[1], sys.argv[2]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    open(portfile, "w").write(str(srv.getsockname()[1]))
    conn, _ = srv.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    if scenario == "connack-refused":
        conn.sendall(packet(0x20, b"\x00\x87" + props(reason_string())))
        conn.close()
        return
    conn.sendall(packet(0x20, b"\x00\x00" + props()))
    if scenario == "disconnect":
        conn.sendall(packet(0xE0, b"\x98" + props(reason_string())))
        conn.close()
        return
    while True:
        first, body = read_packet(conn)
        if first is None:
            return
        kind = first >> 4
        if kind == 3 and (first >> 1) & 3 == 1:  # PUBLISH QoS 1
            tlen = int.from_bytes(body[:2], "big")
            pid = body[2 + tlen:4 + tlen]
            if scenario == "puback-refused":
                conn.sendall(packet(0x40, pid + b"\x97" + props(reason_string())))
        elif kind == 8:  # SUBSCRIBE
            pid = body[:2]
            conn.sendall(packet(0x90, pid + props(reason_string()) + b"\x87"))
        elif kind == 14:  # DISCONNECT
            conn.close()
            return


if __name__ == "__main__":
    main()
