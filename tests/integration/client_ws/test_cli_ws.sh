#!/usr/bin/env bash
# `mqtls pub/sub -L ws://... / wss://...` through websockify 0.10 in front of a plain mosquitto
# (127.0.0.1 only, free ports, own config; every process stopped by its PID, every wait
# bounded). Checks: QoS 0/1/2 over ws:// and over wss:// with mutual TLS, the default "mqtt"
# subprotocol refused by websockify with a hint, a malformed ws URL rejected as usage error.
set -u
MQTLS=${MQTLS:?set MQTLS to the mqtls binary}
SRC=${SRC:?set SRC to the source dir}
T=$(mktemp -d /tmp/mqtls-cli-ws.XXXXXX)
PIDS=()
FAILS=0
PASSES=0
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  [ "${KEEP:-}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL - $1"; }
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
wait_port() { # up to 30 s: websockify (python) starts slowly on a loaded machine
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
command -v websockify >/dev/null || { echo "FAIL - websockify not installed (scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
"$SRC/tests/harness/make-pki.sh" "$T/pki" >/dev/null 2>&1 || { echo "FAIL - make-pki"; exit 1; }

# Start mosquitto and two websockify bridges on fresh ports; a server that dies (a port taken
# between picking and binding, when tests run in parallel) is noticed at once and the whole
# set is started again on new ports (3 tries). Logs are printed if it never comes up.
alive_and_listening() { # pid port: up to 30 s
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start_servers() {
  P=$(free_port); W=$(free_port); WS=$(free_port)
  {
    [ "$(id -u)" = 0 ] && echo "user root"
    echo "allow_anonymous true"
    echo "persistence false"
    echo "log_dest file $T/broker.log"
    echo "log_type all"
    echo "listener $P 127.0.0.1"
  } >"$T/m.conf"
  mosquitto -c "$T/m.conf" >"$T/m.log" 2>&1 & local mp=$!; PIDS+=($mp)
  websockify "127.0.0.1:$W" "127.0.0.1:$P" >"$T/wsk.log" 2>&1 & local wp=$!; PIDS+=($wp)
  websockify --ssl-only --cert "$T/pki/server.crt" --key "$T/pki/server.key" --verify-client \
    --cafile "$T/pki/ca.crt" "127.0.0.1:$WS" "127.0.0.1:$P" >"$T/wsk-tls.log" 2>&1 & local tp=$!
  PIDS+=($tp)
  alive_and_listening "$mp" "$P" && alive_and_listening "$wp" "$W" && alive_and_listening "$tp" "$WS"
}
started=0
for _ in 1 2 3; do
  if start_servers; then started=1; break; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PIDS=()
done
if [ "$started" -ne 1 ]; then
  echo "FAIL - servers did not start"
  for f in m.log broker.log wsk.log wsk-tls.log; do echo "--- $f"; tail -n 20 "$T/$f" 2>/dev/null; done
  echo "0 passed, 1 failed"; exit 1
fi
TLS=(--cafile "$T/pki/ca.crt" --cert "$T/pki/client.crt" --key "$T/pki/client.key")

round() { # name url extra-args...
  local name=$1 url=$2; shift 2
  timeout 20 "$MQTLS" sub -L "$url" --ws-subprotocol "" "$@" -t "cliws/$name" -q 2 -C 3 -v \
    >"$T/$name.out" 2>"$T/$name.err" &
  local sp=$!
  # publish only once the broker has the subscription (bounded wait)
  for _ in $(seq 100); do grep -q "cliws/$name" "$T/broker.log" 2>/dev/null && break; sleep 0.1; done
  local q
  for q in 0 1 2; do
    timeout 10 "$MQTLS" pub -L "$url" --ws-subprotocol "" "$@" -t "cliws/$name" -q "$q" \
      -m "msg-q$q" 2>>"$T/$name.pub.err" || bad "$name: pub -q $q exit $?"
  done
  wait "$sp"; local src=$?
  if [ "$src" = 0 ]; then
    if [ "$(cat "$T/$name.out")" = "$(printf 'cliws/%s msg-q0\ncliws/%s msg-q1\ncliws/%s msg-q2' "$name" "$name" "$name")" ]; then
      ok "$name: QoS 0/1/2 round trip"
    else
      bad "$name: got $(cat "$T/$name.out")"
    fi
  else
    bad "$name: sub exit $src out=[$(cat "$T/$name.out")] err=[$(cat "$T/$name.err" "$T/$name.pub.err")]"
  fi
}
round ws "ws://127.0.0.1:$W/mqtt"
round wss "wss://127.0.0.1:$WS" "${TLS[@]}"

# default subprotocol "mqtt": websockify answers 400; exit non-zero with the hint
if timeout 10 "$MQTLS" pub -L "ws://127.0.0.1:$W" -t x -m y >"$T/d.out" 2>"$T/d.err"; then
  bad "default subprotocol: websockify should refuse it"
elif grep -q "400" "$T/d.err" && grep -q -- '--ws-subprotocol ""' "$T/d.err"; then
  ok "default subprotocol refused, with the hint"
else
  bad "default subprotocol: $(cat "$T/d.err")"
fi

# a path that would break the HTTP request line is a usage error (exit 2)
timeout 5 "$MQTLS" pub -L "ws://127.0.0.1:$W/a b" -t x -m y 2>/dev/null
rc=$?
[ "$rc" = 2 ] && ok "bad ws path: usage error" || bad "bad ws path: exit $rc"

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
