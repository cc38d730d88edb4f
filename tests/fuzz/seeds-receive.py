#!/usr/bin/env python3
"""Write the seed corpora of the receive-path fuzz targets (issue 10):
tests/fuzz/corpus/{session,ws,explain,uri}. Deterministic; run from anywhere:

    python3 tests/fuzz/seeds-receive.py

session: mode byte + cut seed + broker packets (every type a broker sends, in each state the
         target sets up, and garbage that must be refused on its first byte);
ws:      mode byte + cut seed + server frames after a valid 101 (mode 1), or a whole answer
         to the Upgrade (mode 0);
explain: a few real logs of tests/explain/corpus (their first 4 KiB) and codes;
uri:     URIs, good and bad.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def mqtt_str(s):
    return struct.pack(">H", len(s)) + s


def publish(topic, payload, qos, pid=1, dup=False, retain=False, props=None):
    first = 0x30 | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    body = mqtt_str(topic) + (struct.pack(">H", pid) if qos else b"")
    if props is not None:
        body += varint(len(props)) + props
    return pkt(first, body + payload)


def ack(kind, pid, v5_reason=None):
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    body = struct.pack(">H", pid) + (bytes([v5_reason]) if v5_reason is not None else b"")
    return pkt(first, body)


CONNACK3 = pkt(0x20, b"\x00\x00")
CONNACK3_SP = pkt(0x20, b"\x01\x00")
CONNACK5 = pkt(0x20, b"\x00\x00" + varint(8) + b"\x21\x00\x02" + b"\x22\x00\x02" + b"\x25\x01")


def session_seeds():
    v3 = 0x00  # MQTT 3.1.1
    v5 = 0x01
    small = 0x08  # small control buffer and Receive Maximum: back-pressure
    limit = 0x10  # max packet size 300
    before, connected, resumed, disconnecting = 0x00, 0x20, 0x40, 0x60
    flows = (
        publish(b"a/b", b"x" * 20, 1, 1) + publish(b"a/b", b"y", 2, 2)
        + ack("pubrel", 2) + pkt(0xD0, b"")
        + ack("puback", 1) + ack("pubrec", 2) + ack("pubcomp", 2)
        + pkt(0x90, b"\x00\x04\x02") + pkt(0xB0, b"\x00\x05")
    )
    burst = b"".join(publish(b"t", b"p", 1 + (i % 2), i + 1) for i in range(120))
    alias_first = publish(b"al/t", b"1", 1, 3, props=b"\x23\x00\x01")
    alias_again = publish(b"", b"2", 1, 4, props=b"\x23\x00\x01")
    seeds = {
        "connack-v311": bytes([v3 | before, 1]) + CONNACK3 + flows,
        "connack-refused": bytes([v3 | before, 2]) + pkt(0x20, b"\x00\x05"),
        "connack-v5-props": bytes([v5 | before, 3]) + CONNACK5 + flows,
        "connected-v311-flows": bytes([v3 | connected, 4]) + flows,
        "connected-v5-flows": bytes([v5 | connected, 5]) + flows,
        "resumed-v311": bytes([v3 | resumed, 6]) + ack("pubrec", 3) + ack("pubcomp", 3),
        "disconnecting-v311": bytes([v3 | disconnecting, 7]) + flows,
        "burst-back-pressure-v311": bytes([v3 | connected | small, 8]) + burst,
        "burst-back-pressure-v5": bytes([v5 | connected | small, 9]) + burst,
        "alias-v5": bytes([v5 | connected, 10]) + alias_first + alias_again,
        "disconnect-v5": bytes([v5 | connected, 11]) + pkt(0xE0, b"\x8e"),
        "too-large": bytes([v3 | connected | limit, 12]) + publish(b"big", b"z" * 400, 1),
        "garbage-connack-flags": bytes([v3 | before, 13]) + b"\x29\xff\xff\xff\x7f",
        "garbage-publish-before-connack": bytes([v3 | before, 14]) + publish(b"t", b"p", 0),
        "garbage-long-puback": bytes([v3 | connected, 15]) + b"\x40\xc8\x01" + b"\x00" * 200,
        "garbage-client-only": bytes([v3 | connected, 16]) + pkt(0xC0, b""),
        "split-header": bytes([v3 | connected, 17]) + publish(b"a", b"q" * 300, 0),
        "v31": bytes([0x02 | connected, 18]) + flows,
    }
    return seeds


def ws_frame(b0, payload, mask=None):
    n = len(payload)
    if n < 126:
        head = bytes([b0, (0x80 if mask else 0) | n])
    elif n <= 0xFFFF:
        head = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        head += mask
    return head + payload


def ws_seeds():
    ok = 0x01
    bin_connack = ws_frame(0x82, CONNACK3)
    seeds = {
        "frames-binary": bytes([ok, 1]) + bin_connack + ws_frame(0x82, publish(b"t", b"x" * 10, 0)),
        "frames-fragmented": bytes([ok, 2]) + ws_frame(0x02, CONNACK3[:2])
        + ws_frame(0x09, b"ping") + ws_frame(0x80, CONNACK3[2:]),
        "frames-len16": bytes([ok, 3]) + ws_frame(0x82, b"\x30" + varint(300) + b"\x00\x01t" + b"p" * 297),
        "frames-ping-close": bytes([ok, 4]) + ws_frame(0x89, b"hi")
        + ws_frame(0x88, b"\x03\xe8bye"),
        "frames-masked": bytes([ok, 5]) + ws_frame(0x82, b"abc", mask=b"\x01\x02\x03\x04"),
        "frames-text": bytes([ok, 6]) + ws_frame(0x81, b"text"),
        "frames-reserved-bits": bytes([ok, 7]) + ws_frame(0xC2, b"x"),
        "frames-len64": bytes([ok, 8]) + bytes([0x82, 127]) + struct.pack(">Q", 1 << 40),
        "frames-long-ping": bytes([ok, 9]) + ws_frame(0x89, b"p" * 200),
        "answer-404": bytes([0, 10]) + b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "answer-101-bad-accept": bytes([0, 11])
        + b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        "answer-garbage": bytes([0, 12]) + b"\x00\x01\x02HTTP/1.1 101\n\n",
    }
    return seeds


def explain_seeds():
    seeds = {}
    cases = os.path.join(HERE, "..", "explain", "corpus", "cases")
    for name in sorted(os.listdir(cases))[:12]:
        if name.endswith(".log"):
            with open(os.path.join(cases, name), "rb") as f:
                seeds["log-" + name[:-4]] = f.read()[:4096]
    with open(os.path.join(HERE, "..", "unit", "explain", "seed_esp32.log"), "rb") as f:
        seeds["log-esp32"] = f.read()[:4096]
    seeds["codes"] = b"-0x2700\n0x10000\n0x801A\nalert 48\nunknown_ca\n0x87\n5\nECONNREFUSED\n"
    seeds["names"] = b"MBEDTLS_ERR_X509_CERT_VERIFY_FAILED\nESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED\n"
    seeds["binary"] = bytes(range(256))
    return seeds


def uri_seeds():
    uris = [
        "mqtt://broker.test", "mqtts://broker.test:8883", "ws://h:80/mqtt?x=1", "wss://[::1]:443/",
        "tcp://127.0.0.1:1883", "ssl://h", "host:1884", "[fe80::1%eth0]:1883", "mqtt://h:0",
        "mqtt://h:65536", "mqtt://:1883", "ws://h/a b", "mqtt://h:1883/topic/ignored",
        "unknown://h", "mqtt://[::1", "mqtt://" + "h" * 300,
        "ws://hsa b",  # fuzz_uri found it: a host with a space was accepted
    ]
    return {"uri-%02d" % i: u.encode() for i, u in enumerate(uris)}


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{d}: {len(seeds)} seeds")


if __name__ == "__main__":
    write("session", session_seeds())
    write("ws", ws_seeds())
    write("explain", explain_seeds())
    write("uri", uri_seeds())
