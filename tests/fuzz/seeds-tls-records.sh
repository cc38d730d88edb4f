#!/usr/bin/env bash
# Regenerate tests/fuzz/corpus/tls_records: what a real TLS server sends during a handshake.
# openssl s_server runs on 127.0.0.1 with the test PKI (tests/harness/make-pki.sh) and is reached
# through a relay that records the server's bytes while openssl s_client handshakes. A seed is
# one byte that picks how fuzz_tls_records cuts the bytes into reads, then the bytes.
#   tests/fuzz/seeds-tls-records.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/tls_records
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
bash tests/harness/make-pki.sh "$work/pki" >/dev/null
pki=$work/pki

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_free() {
  python3 -c "import socket; socket.socket().bind(('127.0.0.1', $1))" 2>/dev/null
}

# relay.py LISTEN_PORT SERVER_PORT OUT: one connection, both ways, server->client bytes to OUT.
cat > "$work/relay.py" <<'PY'
import select, socket, sys, time
lport, sport, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(1); ls.settimeout(10)
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", sport), timeout=10)
got = bytearray(); deadline = time.time() + 10; open_ = {c: s, s: c}
while open_ and time.time() < deadline:
    r, _, _ = select.select(list(open_), [], [], 0.5)
    for a in r:
        data = a.recv(65536)
        if a is s:
            got += data
        if not data:
            b = open_.pop(a)
            try: b.shutdown(socket.SHUT_WR)
            except OSError: pass
            continue
        open_[a].sendall(data)
open(out, "wb").write(bytes(got))
PY

# capture NAME "s_server args" "s_client args"
capture() {
  local name=$1 sargs=$2 cargs=$3 sport rport
  sport=$(free_port)
  rport=$(free_port)
  # shellcheck disable=SC2086
  openssl s_server -accept "127.0.0.1:$sport" -naccept 1 -quiet $sargs < <(sleep 10) \
    >"$work/$name.server.log" 2>&1 &
  pids+=($!)
  python3 "$work/relay.py" "$rport" "$sport" "$work/$name.bin" &
  pids+=($!)
  local relay=$!
  # Both listen once their ports are taken (probing with a connection would use up the one
  # connection s_server accepts).
  for _ in $(seq 50); do
    if ! port_free "$sport" && ! port_free "$rport"; then
      break
    fi
    sleep 0.1
  done
  # shellcheck disable=SC2086
  timeout 10 openssl s_client -connect "127.0.0.1:$rport" -CAfile "$pki/ca.crt" $cargs \
    </dev/null >"$work/$name.client.log" 2>&1 || true
  wait "$relay" || true
  local n
  n=$(stat -c %s "$work/$name.bin")
  [ "$n" -gt 0 ] || { cat "$work/$name.server.log" "$work/$name.client.log"; exit 1; }
  for mode in 0 5 200; do
    { printf "\\x$(printf %02x "$mode")"; cat "$work/$name.bin"; } >"$out/$name-cut$mode"
  done
  echo "$name: $n bytes from the server"
}

rm -rf "$out"
mkdir -p "$out"
srv="-cert $pki/server.crt -key $pki/server.key -cert_chain $pki/ca.crt"
mtls="-Verify 1 -CAfile $pki/ca.crt"
client="-cert $pki/client.crt -key $pki/client.key"
capture tls12-mutual "$srv $mtls -tls1_2" "$client -tls1_2"
capture tls12-no-client-cert "$srv $mtls -tls1_2" "-tls1_2"
capture tls12-server-auth "$srv -tls1_2" "-tls1_2"
# An RSA server certificate (its RSA-1024 CA is below OpenSSL's security level: not sent).
capture tls12-rsa "-cert $pki/weak-server.crt -key $pki/weak-server.key -tls1_2" "-tls1_2"
capture tls13-mutual "$srv $mtls -tls1_3" "$client -tls1_3"
# A flight bigger than the parser's 16 KiB buffer: a 12 KiB Certificate spanning 10 000-byte
# records, then a 6 KiB message (read whole, the second record overfills what is left).
python3 - "$out/big-flight-spanning-records" <<'PY'
import sys
def msg(t, body): return bytes([t]) + len(body).to_bytes(3, "big") + body
certs = b"".join(len(c).to_bytes(3, "big") + c for c in (b"\xa0" * 12000, b"\xb1" * 300))
hs = msg(2, b"\x03" * 38) + msg(11, len(certs).to_bytes(3, "big") + certs)
hs += msg(13, b"\x01\x40\x00\x02\x04\x03\x00\x07\x00\x05\x30\x03\x31\x01\x00") + msg(14, b"")
hs += msg(4, b"\x5a" * 6000)
recs = b"".join(b"\x16\x03\x03" + len(hs[i:i + 10000]).to_bytes(2, "big") + hs[i:i + 10000]
                for i in range(0, len(hs), 10000))
open(sys.argv[1], "wb").write(b"\xff" + recs)
PY
# Peers that do not speak TLS: an HTTP server and a plain MQTT broker.
printf '\x00HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n' >"$out/not-tls-http"
printf '\x03\x20\x02\x00\x05' >"$out/not-tls-mqtt-connack"
