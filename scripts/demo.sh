#!/usr/bin/env bash
# make demo: a mutual-TLS MQTT round trip on this machine, then the classic -0x2700 failure
# explained. Everything lives in a temp dir and a mosquitto we start on 127.0.0.1 (free ports)
# and stop by PID. Needs the build (make demo builds first): $BUILD/mqtls.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
MQTLS=${MQTLS:-$ROOT/$BUILD/mqtls}
[ -x "$MQTLS" ] || { echo "demo: $MQTLS not found; run 'make build' first" >&2; exit 1; }

T=$(mktemp -d /tmp/mqtls-demo.XXXXXX)
BROKER_PID=""
SUB_PID=""
cleanup() {
  for p in $SUB_PID $BROKER_PID; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$T"
}
trap cleanup EXIT

step=0
heading() { step=$((step + 1)); printf '\n=== %d. %s ===\n' "$step" "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$T#\$DEMO#g; s#$MQTLS#mqtls#g"; "$@"; }
free_port() { # a random unprivileged port nothing listens on (bash only, no python)
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
       ! { command -v ss >/dev/null && ss -Htan "sport = :$p" | grep -q .; }; then
      echo "$p"; return 0
    fi
  done
  return 1
}
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start=$(date +%s)
echo "mqtls demo: mutual TLS with a local mosquitto, then a certificate failure explained."
echo "(temp dir \$DEMO = $T; removed at the end)"

# ------------------------------------------------------------------------------------------
heading "Make a PKI: a CA, a broker certificate for localhost/127.0.0.1, a device certificate"
PKI=$T/pki
mkdir -p "$PKI"
if "$MQTLS" pki --help >/dev/null 2>&1; then
  run "$MQTLS" pki init "$PKI" >/dev/null
  run "$MQTLS" pki server "$PKI" --name localhost --ip 127.0.0.1 >/dev/null
  run "$MQTLS" pki client "$PKI" --name device-001 >/dev/null
  CLIENT_CRT=$PKI/device-001.crt
  CLIENT_KEY=$PKI/device-001.key
else
  echo "(this build has no 'mqtls pki': using tests/harness/make-pki.sh instead)"
  run "$ROOT/tests/harness/make-pki.sh" "$PKI"
  CLIENT_CRT=$PKI/client.crt
  CLIENT_KEY=$PKI/client.key
fi
ls "$PKI" | sed 's/^/  /'

# ------------------------------------------------------------------------------------------
heading "Make a second, weak CA (RSA-1024) and a broker certificate it signs"
WEAK=$T/weak
mkdir -p "$WEAK"
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$WEAK/ca.key" -out "$WEAK/ca.crt" \
  -days 365 -subj "/CN=weak demo CA (RSA-1024)" -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WEAK/server.key" \
  -out "$WEAK/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$WEAK/ext"
openssl x509 -req -in "$WEAK/server.csr" -CA "$WEAK/ca.crt" -CAkey "$WEAK/ca.key" \
  -CAcreateserial -days 365 -sha256 -extfile "$WEAK/ext" -out "$WEAK/server.crt" 2>/dev/null
chmod 644 "$WEAK"/*.crt
echo "  \$DEMO/weak/ca.crt: $(openssl x509 -in "$WEAK/ca.crt" -noout -text | grep -o 'Public-Key: ([0-9]* bit)')"

# ------------------------------------------------------------------------------------------
heading "Start mosquitto on 127.0.0.1 with two mutual-TLS listeners (require_certificate true)"
PORT=$(free_port)
WEAK_PORT=$(free_port)
while [ "$WEAK_PORT" = "$PORT" ]; do WEAK_PORT=$(free_port); done
{
  [ "$(id -u)" = 0 ] && echo "user root"
  echo "per_listener_settings false"
  echo "allow_anonymous true"
  echo "log_dest file $T/mosquitto.log"
  echo "log_type error"
  echo "log_type warning"
  echo "log_type notice"
  echo "# good listener: server cert from our CA, clients must present a cert from our CA"
  echo "listener $PORT 127.0.0.1"
  echo "cafile $PKI/ca.crt"
  echo "certfile $PKI/server.crt"
  echo "keyfile $PKI/server.key"
  echo "require_certificate true"
  echo "use_identity_as_username true"
  echo "# weak listener: the server certificate is signed by the RSA-1024 CA"
  echo "listener $WEAK_PORT 127.0.0.1"
  echo "cafile $PKI/ca.crt"
  echo "certfile $WEAK/server.crt"
  echo "keyfile $WEAK/server.key"
  echo "require_certificate true"
  echo "use_identity_as_username true"
} > "$T/mosquitto.conf"
mosquitto -c "$T/mosquitto.conf" >"$T/mosquitto.out" 2>&1 &
BROKER_PID=$!
if ! wait_port "$PORT" || ! wait_port "$WEAK_PORT"; then
  echo "demo: mosquitto did not start:" >&2
  cat "$T/mosquitto.out" "$T/mosquitto.log" >&2 2>/dev/null || true
  exit 1
fi
echo "  mosquitto pid $BROKER_PID: listener $PORT (good), listener $WEAK_PORT (RSA-1024 CA)"

TLS=(-h 127.0.0.1 -p "$PORT" --cafile "$PKI/ca.crt" --cert "$CLIENT_CRT" --key "$CLIENT_KEY")

# ------------------------------------------------------------------------------------------
heading "Subscribe and publish over mutual TLS at QoS 0, 1 and 2"
echo "A subscriber waits for 3 messages on demo/#, printing topic, QoS and payload (-F):"
printf '$ mqtls sub -h 127.0.0.1 -p %s --cafile ca.crt --cert device-001.crt --key device-001.key -t "demo/#" -q 2 -C 3 -W 20 -F "received %%t qos=%%q: %%p"\n' "$PORT"
timeout 25 "$MQTLS" sub "${TLS[@]}" -i demo-sub -t 'demo/#' -q 2 -C 3 -W 20 \
  -F 'received %t qos=%q: %p' >"$T/sub.out" 2>"$T/sub.err" &
SUB_PID=$!
# ready once the broker answered its SUBSCRIBE: a retained-free probe is enough here
for _ in $(seq 100); do
  grep -q "demo-sub" "$T/mosquitto.log" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5
for q in 0 1 2; do
  printf '$ mqtls pub ... -t demo/qos%s -q %s -m "hello at QoS %s"\n' "$q" "$q" "$q"
  timeout 15 "$MQTLS" pub "${TLS[@]}" -i "demo-pub-$q" -t "demo/qos$q" -q "$q" -m "hello at QoS $q"
done
sub_rc=0
wait "$SUB_PID" || sub_rc=$?
SUB_PID=""
sed 's/^/  /' "$T/sub.out"
if [ "$sub_rc" != 0 ] || [ "$(wc -l < "$T/sub.out")" != 3 ]; then
  echo "demo: the subscriber did not get the 3 messages (exit $sub_rc):" >&2
  cat "$T/sub.err" >&2
  exit 1
fi
echo "  -> all 3 messages arrived over mutual TLS."

# ------------------------------------------------------------------------------------------
heading "The famous -0x2700: a broker whose CA has an RSA-1024 key"
echo "The second listener presents a certificate signed by the RSA-1024 CA. mbedTLS (the TLS"
echo "stack of ESP-IDF and this tool) rejects keys under 2048 bits, so the handshake fails."
echo "Most clients print only 'mbedtls_ssl_handshake returned -0x2700'. mqtls explains:"
printf '$ mqtls pub -h 127.0.0.1 -p %s --cafile weak/ca.crt --cert device-001.crt --key device-001.key -t demo/x -m hi\n' "$WEAK_PORT"
fail_rc=0
timeout 40 "$MQTLS" pub -h 127.0.0.1 -p "$WEAK_PORT" --cafile "$WEAK/ca.crt" \
  --cert "$CLIENT_CRT" --key "$CLIENT_KEY" -t demo/x -m hi 2>"$T/fail.err" || fail_rc=$?
sed "s#$T#\$DEMO#g" "$T/fail.err"
echo "(exit code $fail_rc: 1 = connection/TLS failure, see docs/cli/exit-codes.md)"
if [ "$fail_rc" != 1 ]; then
  echo "demo: expected the weak-CA connection to fail with exit code 1" >&2
  exit 1
fi

# ------------------------------------------------------------------------------------------
heading "Done"
echo "Stopping mosquitto (pid $BROKER_PID) and removing \$DEMO. Took $(( $(date +%s) - start )) s."
exit 0
