#!/usr/bin/env bash
# Shared helpers for the CLI integration tests: a PKI from tests/harness/make-pki.sh and a real
# mosquitto on 127.0.0.1 (free ports, own config, stopped by PID). Every wait is bounded.
# Usage: source lib.sh; cli_setup; ... (cleanup runs from the EXIT trap)
set -u
MQTLS=${MQTLS:?set MQTLS to the mqtls binary}
SRC=${SRC:?set SRC to the source dir}
T=$(mktemp -d /tmp/mqtls-cli-test.XXXXXX)
BROKER_PID=""
FAILS=0
PASSES=0

cli_cleanup() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill "$BROKER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$BROKER_PID" 2>/dev/null
  fi
  # background jobs this test started (by PID, never by name)
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cli_cleanup EXIT

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

wait_port() { # port
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# cli_setup [extra conf lines]: PKI in $T/pki, broker with a plain listener ($PLAIN) and a
# mutual-TLS listener ($MTLS: require_certificate, identity as username).
cli_setup() {
  "$SRC/tests/harness/make-pki.sh" "$T/pki" >/dev/null || { echo "make-pki failed"; exit 1; }
  PKI=$T/pki
  PLAIN=$(free_port); MTLS=$(free_port)
  while [ "$MTLS" = "$PLAIN" ]; do MTLS=$(free_port); done
  {
    echo "per_listener_settings false"
    echo "allow_anonymous true"
    echo "log_dest file $T/mosquitto.log"
    echo "log_type all"
    echo "connection_messages true"
    [ "$(id -u)" = 0 ] && echo "user root"
    echo "listener $PLAIN 127.0.0.1"
    echo "listener $MTLS 127.0.0.1"
    echo "cafile $PKI/ca.crt"
    echo "certfile $PKI/server.crt"
    echo "keyfile $PKI/server.key"
    echo "require_certificate true"
    echo "use_identity_as_username true"
    printf '%s\n' "$@"
  } > "$T/mosquitto.conf"
  mosquitto -c "$T/mosquitto.conf" >"$T/mosquitto.out" 2>&1 &
  BROKER_PID=$!
  wait_port "$PLAIN" && wait_port "$MTLS" || { echo "broker did not start"; cat "$T/mosquitto.out" "$T/mosquitto.log" 2>/dev/null; exit 1; }
  # flags for our client and for mosquitto's clients over mutual TLS
  TLS=(-h 127.0.0.1 -p "$MTLS" --cafile "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
  MTLS_MOSQ=(-h 127.0.0.1 -p "$MTLS" --cafile "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
}

ok() { PASSES=$((PASSES+1)); echo "ok   - $*"; }
fail() { FAILS=$((FAILS+1)); echo "FAIL - $*"; }
check() { # description, command...
  local d=$1; shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
# wait_file FILE PATTERN: until grep finds PATTERN (10 s)
wait_grep() {
  for _ in $(seq 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# a subscriber in the background is ready once the broker sent its SUBACK
wait_subscribed() { # client-id
  wait_grep "$T/mosquitto.log" "Sending SUBACK to $1\$"
}
finish() {
  echo "# $PASSES passed, $FAILS failed"
  [ "$FAILS" = 0 ]
}

# --- PKCS#11 (softhsm2) -------------------------------------------------------------------------

# The engine the tests run on: $MQTLS_TLS_ENGINE, else the CLI's default (`mqtls --version`).
cli_engine() {
  local e=${MQTLS_TLS_ENGINE:-}
  [ -n "$e" ] || e=$("$MQTLS" --version 2>/dev/null | sed -n 's/^ *\([a-z0-9]*\) .*(default).*/\1/p')
  echo "${e:-mbedtls3}"
}

# p11_token PIN CN_PREFIX: a softhsm2 token "mqtls" under $T (private configuration, exported in
# SOFTHSM2_CONF) holding an RSA 2048 key "client" (id 01) and an EC P-256 key "client-ec" (id 02),
# with certificates $T/rsa.crt (CN CN_PREFIX-rsa) and $T/ec.crt (CN CN_PREFIX-ec) from the test CA.
# The key files are removed: the keys exist on the token only. Exits the test on failure.
p11_token() {
  local pin=$1 cn=$2 n
  mkdir -p "$T/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T/tokens" > "$T/softhsm2.conf"
  export SOFTHSM2_CONF=$T/softhsm2.conf
  softhsm2-util --init-token --free --label mqtls --pin "$pin" --so-pin 5678 >/dev/null ||
    { echo "FAIL - softhsm2-util --init-token"; exit 1; }
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.key" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' \
    > "$T/p11.ext"
  for n in rsa ec; do
    openssl req -new -key "$T/$n.key" -subj "/CN=$cn-$n" -out "$T/$n.csr" 2>/dev/null &&
      openssl x509 -req -in "$T/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
        -out "$T/$n.crt" -days 30 -sha256 -extfile "$T/p11.ext" 2>/dev/null ||
      { echo "FAIL - issuing the token keys' certificates"; exit 1; }
  done
  softhsm2-util --import "$T/rsa.key" --token mqtls --label client --id 01 --pin "$pin" >/dev/null &&
    softhsm2-util --import "$T/ec.key" --token mqtls --label client-ec --id 02 --pin "$pin" >/dev/null ||
    { echo "FAIL - softhsm2-util --import"; exit 1; }
  rm -f "$T/rsa.key" "$T/ec.key"
}
