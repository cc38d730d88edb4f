#!/usr/bin/env bash
# `mqtls doctor` with a client key on a PKCS#11 token (--key 'pkcs11:...' --pkcs11-module) and
# with public-key pins (--pin sha256//...), on the engine of $MQTLS_TLS_ENGINE, against a real
# mosquitto over mutual TLS and a SoftHSM 2 token in this test's own directory (SOFTHSM2_CONF
# points at a private configuration, never the system's), as test_pkcs11.sh makes it.
#   offline: the key is opened on the token and checked against --cert (RSA on every engine, EC
#            on openssl only: a clear NOT_SUPPORTED finding on the mbedTLS engines); a key that
#            is not the certificate's, a wrong or missing PIN, a missing module each fail the
#            key step with their finding; a malformed URI is a usage error (exit 2).
#   live:    the handshake is signed by the token key (the broker logs the certificate's CN);
#            the server's own pin passes the TLS step; a pin that does not match fails it with
#            pin-mismatch, whose fix names the pin the broker really has.
#   parsing: a malformed --pin is a usage error that says what a pin looks like; --pin with a
#            plain mqtt:// broker is one too.
# The PIN is never printed.
source "$(dirname "$0")/lib.sh"
MODULE=${MQTLS_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for tool in softhsm2-util openssl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL - $tool not installed (scripts/install-deps.sh)"; exit 1; }
done
[ -r "$MODULE" ] || { echo "FAIL - $MODULE missing (apt-get install softhsm2)"; exit 1; }
cli_setup
ENGINE=$(cli_engine)
echo "# engine $ENGINE"

# The token: private configuration and storage under $T, two keys and their certificates.
p11_token 582046 doctor-p11

RSA_URI='pkcs11:token=mqtls;object=client;pin-value=582046'
EC_URI='pkcs11:token=mqtls;object=client-ec;pin-value=582046'
doctor() { timeout 40 "$MQTLS" doctor "$@"; }
off=(--offline --cafile "$PKI/ca.crt")
# json FILE EXPR: evaluate a python expression over the doctor JSON (d), exit 0 if true
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
step() { echo "[s for s in d['steps'] if s['name']=='$1'][0]"; }

# --- offline: the key is opened on the token and checked against --cert -------------------
doctor "${off[@]}" --cert "$T/rsa.crt" --key "$RSA_URI" --pkcs11-module "$MODULE" --json \
  >"$T/o.off-rsa" 2>"$T/e.off-rsa"; rc=$?
check "offline, RSA key on the token: exit 0 (got $rc)" test "$rc" = 0
check "... the key step passed and says it matches the certificate" \
  json "$T/o.off-rsa" "$(step 'client key')['status']=='passed' and 'matches the certificate' in $(step 'client key')['detail']"
check "... checked through PKCS#11 by this engine ($ENGINE)" \
  json "$T/o.off-rsa" "'opened by the $ENGINE engine' in $(step 'client key')['detail']"
check "... names the key type (the certificate's: RSA-2048)" \
  json "$T/o.off-rsa" "'RSA-2048' in $(step 'client key')['detail']"
check "... no file finding for the URI" \
  json "$T/o.off-rsa" "not any(f['id'] in ('file-unreadable','client-key-missing','key-not-a-key') for f in d['findings'])"

doctor "${off[@]}" --cert "$T/ec.crt" --key "$RSA_URI" --pkcs11-module "$MODULE" \
  >"$T/o.off-mismatch" 2>&1; rc=$?
check "offline, the token's RSA key with the EC key's certificate: exit 4 (got $rc)" test "$rc" = 4
check "... the key step fails with client-key-mismatch" \
  grep -q "FAIL \] client key: pkcs11:token=mqtls;object=client;pin-value=\*\*\* .*MQTLS_ERR_KEY_MISMATCH) -> client-key-mismatch" "$T/o.off-mismatch"

doctor "${off[@]}" --cert "$T/rsa.crt" --key 'pkcs11:token=mqtls;object=client;pin-value=111111' \
  --pkcs11-module "$MODULE" >"$T/o.off-wrongpin" 2>&1; rc=$?
check "offline, wrong PIN: exit 4 as for a wrong key password (got $rc)" test "$rc" = 4
check "... pkcs11-key-unusable naming KEY_PASSWORD_WRONG" \
  grep -q "client key: .*MQTLS_ERR_KEY_PASSWORD_WRONG) -> pkcs11-key-unusable" "$T/o.off-wrongpin"
check "... whose fix says how to give the PIN" grep -q "fix:  Give the token's user PIN" "$T/o.off-wrongpin"
doctor "${off[@]}" --cert "$T/rsa.crt" --key 'pkcs11:token=mqtls;object=client' \
  --pkcs11-module "$MODULE" >"$T/o.off-nopin" 2>&1; rc=$?
check "offline, no PIN: KEY_PASSWORD_REQUIRED, exit 4 (got $rc)" \
  grep -q "MQTLS_ERR_KEY_PASSWORD_REQUIRED) -> pkcs11-key-unusable" "$T/o.off-nopin"
echo 582046 > "$T/pin.txt"
doctor "${off[@]}" --cert "$T/rsa.crt" --key 'pkcs11:token=mqtls;object=client' \
  --pkcs11-module "$MODULE" --keypass-file "$T/pin.txt" >"$T/o.off-pinfile" 2>&1; rc=$?
check "offline, the PIN from --keypass-file: exit 0 (got $rc)" test "$rc" = 0
doctor "${off[@]}" --cert "$T/rsa.crt" --key "$RSA_URI" --pkcs11-module "$T/no-such.so" \
  >"$T/o.off-nomod" 2>&1; rc=$?
check "offline, a missing module: exit 1, MQTLS_ERR_PKCS11 (got $rc)" \
  bash -c "[ $rc = 1 ] && grep -q 'MQTLS_ERR_PKCS11) -> pkcs11-key-unusable' '$T/o.off-nomod'"
check "... the fix names the module option" grep -q "fix:  Give the path of the token's PKCS#11 module" "$T/o.off-nomod"
doctor "${off[@]}" --cert "$T/rsa.crt" --key 'pkcs11:token=mqtls;object=nokey;pin-value=582046' \
  --pkcs11-module "$MODULE" >"$T/o.off-nokey" 2>&1; rc=$?
check "offline, no such key on the token: exit 1 (got $rc), the fix lists the keys" \
  bash -c "[ $rc = 1 ] && grep -q 'pkcs11-tool --module MODULE --login --list-objects' '$T/o.off-nokey'"

doctor "${off[@]}" --cert "$T/ec.crt" --key "$EC_URI" --pkcs11-module "$MODULE" \
  >"$T/o.off-ec" 2>&1; rc=$?
if [ "$ENGINE" = openssl ]; then
  check "offline, EC key on the token, openssl: exit 0 (got $rc)" test "$rc" = 0
  check "... the public key read from the token is the certificate's" \
    grep -q "ok  \] client key: .*EC P-256.*the public key read from the token is the certificate's" "$T/o.off-ec"
else
  check "offline, EC key on the token, $ENGINE: exit 1 (got $rc)" test "$rc" = 1
  check "... NOT_SUPPORTED, pkcs11-key-unusable, fix --tls-engine openssl" \
    bash -c "grep -q 'MQTLS_ERR_NOT_SUPPORTED) -> pkcs11-key-unusable' '$T/o.off-ec' &&
             grep -q 'fix:  Connect with the openssl engine.*--tls-engine openssl' '$T/o.off-ec'"
fi

# --- usage errors: a malformed URI, a malformed pin ----------------------------------------
doctor "${off[@]}" --cert "$T/rsa.crt" --key 'pkcs11:token=mqtls;colour=blue;pin-value=582046' \
  --pkcs11-module "$MODULE" >"$T/o.baduri" 2>"$T/e.baduri"; rc=$?
check "an attribute RFC 7512 does not define: usage error, exit 2 (got $rc)" test "$rc" = 2
check "... the message names --key, the attribute rule and MQTLS_ERR_USAGE" \
  grep -q "^mqtls: doctor: --key pkcs11:token=mqtls;colour=blue;pin-value=\*\*\*: an attribute is not one RFC 7512 defines.*(MQTLS_ERR_USAGE)" "$T/e.baduri"
doctor "${off[@]}" --cert "$T/rsa.crt" --key "$RSA_URI" >"$T/o.nomodarg" 2>"$T/e.nomodarg"; rc=$?
check "a token key without any module: usage error, exit 2 (got $rc), saying how to give one" \
  bash -c "[ $rc = 2 ] && grep -q 'no PKCS#11 module given (--pkcs11-module PATH' '$T/e.nomodarg'"
doctor "mqtts://127.0.0.1:$MTLS" --cafile "$PKI/ca.crt" --pin 'sha256//tooshort=' \
  >"$T/o.badpin" 2>"$T/e.badpin"; rc=$?
check "a pin of the wrong length: usage error, exit 2 (got $rc)" test "$rc" = 2
check "... saying what follows sha256// and how long it was" \
  grep -q "^mqtls: doctor: --pin 'sha256//tooshort=': after sha256// come the 44 base64 characters of a SHA-256 .*not 9 characters (MQTLS_ERR_USAGE)" "$T/e.badpin"
doctor "mqtts://127.0.0.1:$MTLS" --cafile "$PKI/ca.crt" --pin 'md5//abc' >/dev/null 2>"$T/e.md5"; rc=$?
check "a pin without sha256//: usage error, exit 2 (got $rc), saying what a pin is" \
  bash -c "[ $rc = 2 ] && grep -q \"is not a pin: a pin is sha256// followed by\" '$T/e.md5'"
doctor "mqtt://127.0.0.1:$PLAIN" --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
  >/dev/null 2>"$T/e.plainpin"; rc=$?
check "--pin with a plain mqtt:// broker: usage error, exit 2 (got $rc)" \
  bash -c "[ $rc = 2 ] && grep -q -- '--pin needs TLS' '$T/e.plainpin'"
check "no usage error printed a step (nothing was checked)" \
  bash -c "! grep -q '^\[' '$T/o.baduri' '$T/o.badpin'"

# --- live: the token key signs the handshake; pins ------------------------------------------
pin_of() { # cert file
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | openssl enc -base64
}
GOOD="sha256//$(pin_of "$PKI/server.crt")"
ZERO="sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
live=("mqtts://127.0.0.1:$MTLS" --cafile "$PKI/ca.crt" --cert "$T/rsa.crt" --pkcs11-module "$MODULE")
doctor "${live[@]}" --key "$RSA_URI" -i doc-p11 --pin "$ZERO" --pin "$GOOD" \
  >"$T/o.live-rsa" 2>&1; rc=$?
check "live, RSA key on the token and the server's pin: exit 0 (got $rc)" test "$rc" = 0
check "... the TLS step passed, signed by the token key, the key pinned" \
  grep -q "ok  \] TLS handshake: .*its key matches one of the 2 --pin.*signed by the key on the token" "$T/o.live-rsa"
check "... the broker saw the token key's certificate" \
  grep -q "New client connected from 127.0.0.1:[0-9]* as doc-p11 .*u'doctor-p11-rsa'" "$T/mosquitto.log"
[ "$ENGINE" = mbedtls3 ] &&
  check "... mbedtls3 signs with a token key in TLS 1.2" grep -q "TLS handshake: TLS 1.2" "$T/o.live-rsa"

doctor "${live[@]}" --key "$RSA_URI" -i doc-pinwrong --pin "$ZERO" --json >"$T/o.live-pin" 2>&1; rc=$?
check "live, a pin that does not match: exit 1 (got $rc)" test "$rc" = 1
check "... the TLS step failed with MQTLS_ERR_TLS_PIN_MISMATCH" \
  json "$T/o.live-pin" "$(step 'TLS handshake')['status']=='failed' and 'MQTLS_ERR_TLS_PIN_MISMATCH' in $(step 'TLS handshake')['detail']"
check "... the first finding is pin-mismatch" json "$T/o.live-pin" "d['findings'][0]['id']=='pin-mismatch'"
check "... its fix names the broker's actual pin ($GOOD)" \
  json "$T/o.live-pin" "'--pin $GOOD' in d['findings'][0]['fix']"
check "... the broker never got a CONNECT from it" bash -c "! grep -q ' as doc-pinwrong ' '$T/mosquitto.log'"

doctor "${live[@]}" --key "$RSA_URI" --offline --pin "$GOOD" >"$T/o.off-pin" 2>&1; rc=$?
check "--offline with --pin: exit 0 (got $rc), the pin step says it waits for the handshake" \
  bash -c "[ $rc = 0 ] && grep -q 'skip \] server key pins: 1 --pin given: the server.s key is only seen in the TLS handshake (not with --offline)' '$T/o.off-pin'"

if [ "$ENGINE" = openssl ]; then
  doctor "mqtts://127.0.0.1:$MTLS" --cafile "$PKI/ca.crt" --cert "$T/ec.crt" --key "$EC_URI" \
    --pkcs11-module "$MODULE" -i doc-p11-ec >"$T/o.live-ec" 2>&1; rc=$?
  check "live, EC key on the token, openssl: exit 0 (got $rc)" test "$rc" = 0
  check "... the broker saw the EC token key's certificate" \
    grep -q "as doc-p11-ec .*u'doctor-p11-ec'" "$T/mosquitto.log"
fi

# pub's hint now points at doctor for a token key, the PIN hidden.
timeout 20 "$MQTLS" pub -h 127.0.0.1 -p "$MTLS" --cafile "$PKI/ca.crt" --cert "$T/rsa.crt" \
  --key "$RSA_URI" --pkcs11-module "$MODULE" --pin "$ZERO" -t t -m x >"$T/o.pub-hint" 2>&1
check "pub with a token key and a wrong pin: the doctor hint carries --key, --pkcs11-module, --pin" \
  grep -q "mqtls doctor mqtts://127.0.0.1:$MTLS .*--key 'pkcs11:token=mqtls;object=client;pin-value=\*\*\*' --pkcs11-module $MODULE --pin $ZERO" "$T/o.pub-hint"
check "the PIN is never printed" bash -c "! grep -h '582046\|111111' '$T'/o.* '$T'/e.*"
finish
