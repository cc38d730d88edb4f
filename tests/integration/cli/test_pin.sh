#!/usr/bin/env bash
# Public-key pinning (--pin sha256//BASE64) against a real mosquitto over mutual TLS, on the
# engine of $MQTLS_TLS_ENGINE: the server's own pin connects; a wrong pin is refused after the
# chain verified, with MQTLS_ERR_TLS_PIN_MISMATCH, exit 1 and the finding pin-mismatch naming
# the pin the server presented; several pins connect when any one matches; a malformed pin and
# --pin with --insecure are usage errors.
source "$(dirname "$0")/lib.sh"
cli_setup

# The pin as curl and the docs compute it: SHA-256 of the DER SubjectPublicKeyInfo, base64.
pin_of() { # cert file
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64
}
GOOD="sha256//$(pin_of "$PKI/server.crt")"
OTHER="sha256//$(pin_of "$PKI/client.crt")" # a real key, not the server's
ZERO="sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

pub() { timeout 20 "$MQTLS" pub "${TLS[@]}" -t pin/t -m x "$@"; }

pub --pin "$GOOD" >"$T/out.good" 2>&1; rc=$?
check "the server's own pin connects (exit $rc)" test "$rc" = 0

pub --pin "$ZERO" -i pinwrong >"$T/out.wrong" 2>&1; rc=$?
check "a wrong pin is refused with exit 1 (got $rc)" test "$rc" = 1
check "... as MQTLS_ERR_TLS_PIN_MISMATCH" grep -q "MQTLS_ERR_TLS_PIN_MISMATCH" "$T/out.wrong"
check "... with the finding pin-mismatch" grep -q "\[error\] pin-mismatch:" "$T/out.wrong"
check "... naming the pin the server presented" grep -qF "$GOOD" "$T/out.wrong"
check "... and the openssl command that prints it, as a command line" \
  grep -q '^ *\$ openssl s_client -connect 127.0.0.1:'"$MTLS"' .*openssl dgst -sha256 -binary' \
  "$T/out.wrong"
check "... and the doctor line repeats the pin given" \
  grep -q "mqtls doctor .* --pin $ZERO" "$T/out.wrong"
check "... and not a chain finding (the chain verified)" \
  bash -c "! grep -Eq 'untrusted-issuer|verify-failed|hostname-mismatch' '$T/out.wrong'"
check "the refused client never reached MQTT (no CONNECT in the broker log)" \
  bash -c "! grep -q ' as pinwrong ' '$T/mosquitto.log'"

pub --pin "$ZERO" --pin "$OTHER" --pin "$GOOD" >"$T/out.many" 2>&1; rc=$?
check "several pins: connects when one matches (exit $rc)" test "$rc" = 0
pub --pin "$ZERO" --pin "$OTHER" >"$T/out.none" 2>&1; rc=$?
check "several pins, none matches: exit 1 (got $rc)" test "$rc" = 1
check "... MQTLS_ERR_TLS_PIN_MISMATCH" grep -q "MQTLS_ERR_TLS_PIN_MISMATCH" "$T/out.none"

# doctor --pin: the TLS step checks the pins as pub does.
timeout 30 "$MQTLS" doctor "mqtts://127.0.0.1:$MTLS" "${TLS[@]:4}" --pin "$ZERO" --json \
  >"$T/out.doc" 2>&1; rc=$?
check "doctor --pin with a wrong pin: exit 1 (got $rc)" test "$rc" = 1
check "... the first finding is pin-mismatch" grep -q '"findings":\[{"id":"pin-mismatch"' "$T/out.doc"
timeout 30 "$MQTLS" doctor "mqtts://127.0.0.1:$MTLS" "${TLS[@]:4}" --pin "$ZERO" --pin "$GOOD" \
  >"$T/out.docgood" 2>&1; rc=$?
check "doctor --pin with the server's pin among others: exit 0 (got $rc)" test "$rc" = 0

# TLS 1.2 as well (the engines that speak 1.3 negotiate it with mosquitto by default).
pub --pin "$GOOD" --tls-version tlsv1.2 >"$T/out.12good" 2>&1; rc=$?
check "TLS 1.2: the right pin connects (exit $rc)" test "$rc" = 0
pub --pin "$ZERO" --tls-version tlsv1.2 >"$T/out.12wrong" 2>&1; rc=$?
check "TLS 1.2: a wrong pin is refused (exit $rc)" test "$rc" = 1
check "... MQTLS_ERR_TLS_PIN_MISMATCH naming the server's pin" \
  grep -qF "pin $GOOD" "$T/out.12wrong"

# A chain that does not verify stays a chain failure: pins are checked after it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other-ca \
  -keyout "$T/other.key" -out "$T/other.crt" -days 2 2>/dev/null
timeout 20 "$MQTLS" pub -h 127.0.0.1 -p "$MTLS" --cafile "$T/other.crt" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" -t pin/t -m x --pin "$GOOD" >"$T/out.chain" 2>&1; rc=$?
check "an untrusted chain with a matching pin is still refused (exit $rc)" test "$rc" = 1
check "... as a chain failure, not a pin one" grep -q "MQTLS_ERR_TLS_VERIFY" "$T/out.chain"

pub --pin "sha256//notbase64" >"$T/out.bad" 2>&1; rc=$?
check "a malformed pin is refused before connecting (exit $rc)" test "$rc" = 2
pub --pin "$GOOD" --insecure >"$T/out.insec" 2>&1; rc=$?
check "--pin with --insecure is a usage error (exit $rc)" test "$rc" = 2
"$MQTLS" pub -h 127.0.0.1 -p "$MTLS" --pin md5//x -t t -m x >"$T/out.md5" 2>&1; rc=$?
check "a pin without sha256// is a usage error (exit $rc)" test "$rc" = 2
finish
