#!/usr/bin/env python3
"""A TLS server that resets mid-handshake, for tests/scenarios/live.sh: listens on 127.0.0.1
LISTEN_PORT, relays each connection to 127.0.0.1 TARGET_PORT (a TLS broker) until the server's
first flight (ServerHello ...) has reached the client, then resets the client connection
(SO_LINGER 0) without a TLS alert. Exits after 120 s. Usage: reset_proxy.py LISTEN TARGET"""
import select
import socket
import struct
import sys
import time

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port))
ls.listen(8)
deadline = time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([ls], [], [], 1)
    if not r:
        continue
    c, _ = ls.accept()
    try:
        u = socket.create_connection(("127.0.0.1", target_port), timeout=5)
    except OSError:
        c.close()
        continue
    end = time.time() + 5
    answered = False
    try:
        while time.time() < end and not answered:
            r, _, _ = select.select([c, u], [], [], 0.5)
            if c in r:
                d = c.recv(65536)
                if not d:
                    break
                u.sendall(d)
            if u in r:
                d = u.recv(65536)
                if not d:
                    break
                c.sendall(d)
                answered = True
        time.sleep(0.3)  # the client reads the flight and answers; then the reset
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    c.close()
    u.close()
