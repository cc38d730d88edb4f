#!/bin/sh
# mqtls pki init/server/client -> openssl verify -x509_strict -> mosquitto mutual-TLS round trip.
# usage: pki_mosquitto.sh MQTLS MOSQUITTO MOSQUITTO_PUB MOSQUITTO_SUB OPENSSL
# Only 127.0.0.1; mosquitto has its own config and is stopped by PID; every wait is bounded.
set -u
MQTLS=$1 MOSQUITTO=$2 PUB=$3 SUB=$4 OPENSSL=$5

WORK=$(mktemp -d /tmp/mqtls-pki-it-XXXXXX) || exit 1
BROKER_PID=""
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null
        i=0
        while kill -0 "$BROKER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "FAIL: $*" >&2
    if [ -f "$WORK/mosquitto.log" ]; then echo "--- mosquitto.log" >&2; tail -n 30 "$WORK/mosquitto.log" >&2; fi
    exit 1
}
step() { echo "== $*"; }

PKI=$WORK/pki
mkdir "$PKI" || fail "mkdir"

step "mqtls pki init / server / client"
"$MQTLS" pki init "$PKI" > "$WORK/init.out" || fail "pki init exited $?"
grep -q "require_certificate true" "$WORK/init.out" || fail "init does not print the mosquitto.conf lines"
"$MQTLS" pki server "$PKI" --name localhost --ip 127.0.0.1 --ip ::1 > /dev/null || fail "pki server exited $?"
"$MQTLS" pki client "$PKI" --name device-001 > "$WORK/client.out" || fail "pki client exited $?"
grep -q 'EMBED_TXTFILES' "$WORK/client.out" || fail "client does not print the ESP-IDF lines"
grep -q 'asm("_binary_device_001_crt_start")' "$WORK/client.out" || fail "wrong ESP-IDF symbol"
grep -q "mqtls pub --cafile $PKI/ca.crt --cert $PKI/device-001.crt --key $PKI/device-001.key -h localhost" "$WORK/client.out" \
    || fail "client does not print a matching mqtls pub command"

step "key files are 0600, certificates 0644"
for k in ca server device-001; do
    [ "$(stat -c %a "$PKI/$k.key")" = 600 ] || fail "$k.key mode $(stat -c %a "$PKI/$k.key")"
    [ "$(stat -c %a "$PKI/$k.crt")" = 644 ] || fail "$k.crt mode $(stat -c %a "$PKI/$k.crt")"
done

step "existing files are refused (exit 4) unless --force"
before=$(cat "$PKI/ca.key")
"$MQTLS" pki init "$PKI" > /dev/null 2> "$WORK/refuse.err"
rc=$?
[ $rc -eq 4 ] || fail "pki init over an existing CA exited $rc, expected 4"
grep -q "^mqtls: create ca: .*MQTLS_ERR_FILE_EXISTS" "$WORK/refuse.err" || fail "no error line: $(cat "$WORK/refuse.err")"
[ "$before" = "$(cat "$PKI/ca.key")" ] || fail "ca.key was modified"
"$MQTLS" pki client "$PKI" > /dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "pki client without --name exited $rc, expected 2"

step "openssl verify -x509_strict"
"$OPENSSL" verify -x509_strict -CAfile "$PKI/ca.crt" "$PKI/server.crt" "$PKI/device-001.crt" \
    || fail "openssl verify rejected the set"
"$OPENSSL" verify -x509_strict -purpose sslserver -CAfile "$PKI/ca.crt" "$PKI/server.crt" > /dev/null \
    || fail "server.crt is not valid for sslserver"
"$OPENSSL" verify -x509_strict -purpose sslclient -CAfile "$PKI/ca.crt" "$PKI/device-001.crt" > /dev/null \
    || fail "device-001.crt is not valid for sslclient"
if "$OPENSSL" verify -purpose sslserver -CAfile "$PKI/ca.crt" "$PKI/device-001.crt" > /dev/null 2>&1; then
    fail "a client certificate passed as a server certificate"
fi

step "RSA 3072 CA: leaves follow the CA key type; --ec overrides; openssl accepts"
RSA=$WORK/rsa
mkdir "$RSA" || fail "mkdir"
"$MQTLS" pki init "$RSA" --rsa 3072 --name "Test RSA CA, Inc" > /dev/null || fail "rsa init exited $?"
"$MQTLS" pki server "$RSA" --name broker.local --dns mqtt.local > /dev/null || fail "rsa server exited $?"
"$MQTLS" pki client "$RSA" --name dev-ec --ec > /dev/null || fail "ec client exited $?"
"$OPENSSL" verify -x509_strict -CAfile "$RSA/ca.crt" "$RSA/server.crt" "$RSA/dev-ec.crt" > /dev/null \
    || fail "openssl verify rejected the RSA set"
"$OPENSSL" x509 -in "$RSA/server.crt" -noout -text | grep -q "Public-Key: (3072 bit)" || fail "server key is not RSA 3072"
"$OPENSSL" x509 -in "$RSA/server.crt" -noout -text | grep -q "Digital Signature, Key Encipherment" || fail "RSA server keyUsage"
"$OPENSSL" x509 -in "$RSA/dev-ec.crt" -noout -text | grep -q "NIST CURVE: P-256" || fail "--ec client is not P-256"
"$OPENSSL" x509 -in "$RSA/ca.crt" -noout -subject | grep -q "Test RSA CA, Inc" || fail "CA name with a comma"
old=$(cat "$RSA/dev-ec.key")
"$MQTLS" pki client "$RSA" --name dev-ec --force > /dev/null || fail "client --force exited $?"
[ "$old" != "$(cat "$RSA/dev-ec.key")" ] || fail "--force did not replace the key"
[ "$(stat -c %a "$RSA/dev-ec.key")" = 600 ] || fail "--force key mode"
"$MQTLS" pki server --help | grep -q -- "--ip ADDR" || fail "pki server --help"
"$MQTLS" pki bogus > /dev/null 2>&1
[ $? -eq 2 ] || fail "unknown pki command should exit 2"

step "mqtls pki show agrees with openssl on the fingerprint"
"$MQTLS" pki show "$PKI/server.crt" "$PKI/server.key" > "$WORK/show.out" || fail "pki show exited $?"
fp=$("$OPENSSL" x509 -in "$PKI/server.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
grep -q "SHA-256:      $fp" "$WORK/show.out" || fail "fingerprint differs from openssl's $fp"
grep -q "IP:127.0.0.1" "$WORK/show.out" || fail "show lacks the IP SAN"
grep -q "not encrypted" "$WORK/show.out" || fail "show lacks the key summary"

step "mosquitto with a mutual-TLS listener"
USER_NAME=$(id -un)
started=0
tries=0
while [ $started -eq 0 ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    # A pseudo-random high port; retried if taken.
    PORT=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ) + 20000 ))
    cat > "$WORK/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous false
persistence false
user $USER_NAME
log_dest file $WORK/mosquitto.log
log_type all
connection_messages true
listener $PORT 127.0.0.1
cafile $PKI/ca.crt
certfile $PKI/server.crt
keyfile $PKI/server.key
require_certificate true
use_identity_as_username true
tls_version tlsv1.2
CONF
    : > "$WORK/mosquitto.log"
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.stdout" 2>&1 &
    BROKER_PID=$!
    i=0
    while [ $i -lt 50 ]; do
        if grep -q "listen socket on port $PORT" "$WORK/mosquitto.log"; then started=1; break; fi
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then break; fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ $started -eq 0 ]; then
        kill "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=""
    fi
done
[ $started -eq 1 ] || fail "mosquitto did not start ($(cat "$WORK/mosquitto.stdout"))"
echo "mosquitto pid $BROKER_PID on 127.0.0.1:$PORT"

TLS="--cafile $PKI/ca.crt --cert $PKI/device-001.crt --key $PKI/device-001.key"
step "subscriber waits for one message; publisher sends it"
timeout 20 "$SUB" -h 127.0.0.1 -p "$PORT" $TLS -i device-001-sub -t test/pki -C 1 -W 15 \
    > "$WORK/sub.out" 2> "$WORK/sub.err" &
SUB_PID=$!
i=0
while ! grep -q "SUBSCRIBE from device-001-sub\|Received SUBSCRIBE from device-001-sub" "$WORK/mosquitto.log" && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
grep -q "SUBSCRIBE from device-001-sub" "$WORK/mosquitto.log" || fail "subscriber never subscribed: $(cat "$WORK/sub.err")"
timeout 20 "$PUB" -h 127.0.0.1 -p "$PORT" $TLS -i device-001 -t test/pki -m "hello over mutual TLS" \
    2> "$WORK/pub.err" || fail "mosquitto_pub failed: $(cat "$WORK/pub.err")"
wait "$SUB_PID"
rc=$?
[ $rc -eq 0 ] || fail "mosquitto_sub exited $rc: $(cat "$WORK/sub.err")"
[ "$(cat "$WORK/sub.out")" = "hello over mutual TLS" ] || fail "received '$(cat "$WORK/sub.out")'"
grep -q "u'device-001'" "$WORK/mosquitto.log" || fail "broker did not take the certificate CN as the user name"

step "without a client certificate the broker refuses"
if timeout 20 "$PUB" -h 127.0.0.1 -p "$PORT" --cafile "$PKI/ca.crt" -i nocert -t test/pki -m x > /dev/null 2>&1; then
    fail "publish without a client certificate succeeded"
fi

step "mqtls doctor accepts the set under every profile, offline and against this broker"
for profile in mbedtls-default mbedtls2-default mbedtls3-default mbedtls-next suiteb openssl-seclevel2; do
    "$MQTLS" doctor --offline --profile "$profile" $TLS > "$WORK/doctor.out" 2>&1 \
        || fail "doctor --offline --profile $profile: $(cat "$WORK/doctor.out")"
    timeout 30 "$MQTLS" doctor mqtts://localhost:"$PORT" --profile "$profile" $TLS -i device-001 \
        > "$WORK/doctor.out" 2>&1 || fail "doctor --profile $profile against mosquitto: $(cat "$WORK/doctor.out")"
    echo "  $profile: ok"
done

echo "PASS"
exit 0
