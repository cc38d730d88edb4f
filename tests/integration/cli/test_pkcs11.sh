#!/usr/bin/env bash
# Client keys that never leave a PKCS#11 token, on the engine of $MQTLS_TLS_ENGINE: a SoftHSM 2
# token in this test's own directory (SOFTHSM2_CONF points at a private configuration, never
# the system's), an RSA and an EC key imported into it, certificates issued by the test CA, and
# mutual TLS to a real mosquitto with --key 'pkcs11:...' --pkcs11-module libsofthsm2.so.
# RSA works on every engine (mbedtls2/mbedtls3 as an RSA_ALT key in TLS 1.2, openssl through
# its pkcs11 ENGINE in TLS 1.3 too); EC on openssl only, a clear MQTLS_ERR_NOT_SUPPORTED on the
# mbedTLS engines. Then every way to get it wrong: PIN wrong or missing, module missing or not
# given, no such token or key, a malformed URI; each fails fast with its own message, and the
# PIN is never printed.
source "$(dirname "$0")/lib.sh"
MODULE=${MQTLS_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for tool in softhsm2-util openssl; do
  command -v "$tool" >/dev/null || { echo "FAIL - $tool not installed (scripts/install-deps.sh)"; exit 1; }
done
[ -r "$MODULE" ] || { echo "FAIL - $MODULE missing (apt-get install softhsm2)"; exit 1; }
cli_setup
ENGINE=$(cli_engine)

# The token: private configuration and storage under $T, two keys and their certificates.
p11_token 735194 p11

base=(-h 127.0.0.1 -p "$MTLS" --cafile "$PKI/ca.crt" -t p11/t -m x)
pub() { # id cert key [more...]
  local id=$1 cert=$2 key=$3; shift 3
  timeout 20 "$MQTLS" pub "${base[@]}" -i "$id" --cert "$cert" --key "$key" "$@"
}
connected_as() { # client id, user name (the certificate's CN: use_identity_as_username)
  grep -q "New client connected from 127.0.0.1:[0-9]* as $1 .*u'$2'" "$T/mosquitto.log"
}

# --- RSA: every engine -----------------------------------------------------------------------
pub rsa1 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.rsa1" 2>&1; rc=$?
check "RSA key on the token: mutual TLS with pin-value in the path (exit $rc)" test "$rc" = 0
check "... the broker saw the token key's certificate" connected_as rsa1 p11-rsa
pub rsa2 "$T/rsa.crt" 'pkcs11:token=mqtls;id=%01?pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.rsa2" 2>&1; rc=$?
check "RSA key by id=%01, pin-value in the query (RFC 7512) (exit $rc)" test "$rc" = 0
pub rsa3 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client' --pkcs11-module "$MODULE" --keypass 735194 \
  >"$T/o.rsa3" 2>&1; rc=$?
check "RSA key, PIN from --keypass (exit $rc)" test "$rc" = 0
echo 735194 > "$T/pin.txt"
pub rsa4 "$T/rsa.crt" "pkcs11:token=mqtls;object=client?pin-source=file:$T/pin.txt&module-path=$MODULE" \
  >"$T/o.rsa4" 2>&1; rc=$?
check "RSA key, pin-source=file: and module-path= in the URI (exit $rc)" test "$rc" = 0
timeout 20 "$MQTLS" sub "${base[@]:0:6}" -t p11/s -i rsa5 -C 1 -W 3 --cert "$T/rsa.crt" \
  --key 'pkcs11:token=mqtls;object=client;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.rsa5" 2>&1; rc=$?
check "mqtls sub with the token key connects (exit 27: -W passed, got $rc)" test "$rc" = 27
check "... the broker saw it" connected_as rsa5 p11-rsa

# TLS 1.3 (RSA-PSS by the token): openssl; mbedtls3 signs in TLS 1.2 only, and says so.
pub rsa13 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' --pkcs11-module "$MODULE" \
  --tls-version tlsv1.3 >"$T/o.rsa13" 2>&1; rc=$?
case $ENGINE in
  openssl) check "RSA key on the token in TLS 1.3 (exit $rc)" test "$rc" = 0
           check "... the broker saw it" connected_as rsa13 p11-rsa ;;
  mbedtls3) check "TLS 1.3 with a token key: mbedtls3 refuses (exit 1, got $rc)" test "$rc" = 1
            check "... saying TLS 1.2 only" grep -q "in TLS 1.2 only.*MQTLS_ERR_NOT_SUPPORTED\|MQTLS_ERR_NOT_SUPPORTED.*in TLS 1.2 only" "$T/o.rsa13" ;;
  *) check "TLS 1.3 on $ENGINE: refused as without a token (exit 1, got $rc)" test "$rc" = 1 ;;
esac

# --- EC: openssl; the mbedTLS engines refuse clearly ------------------------------------------
pub ec1 "$T/ec.crt" 'pkcs11:token=mqtls;object=client-ec;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.ec1" 2>&1; rc=$?
if [ "$ENGINE" = openssl ]; then
  check "EC key on the token: mutual TLS (exit $rc)" test "$rc" = 0
  check "... the broker saw the EC token key's certificate" connected_as ec1 p11-ec
else
  check "EC key on the token: $ENGINE refuses (exit 1, got $rc)" test "$rc" = 1
  check "... MQTLS_ERR_NOT_SUPPORTED, naming the way out" \
    grep -q "signs with RSA keys on a token only; this key is EC (use --tls-engine openssl" "$T/o.ec1"
  check "... MQTLS_ERR_NOT_SUPPORTED status" grep -q "MQTLS_ERR_NOT_SUPPORTED" "$T/o.ec1"
fi

# --- what goes wrong ---------------------------------------------------------------------------
start=$(date +%s)
pub bad1 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=864203' --pkcs11-module "$MODULE" \
  >"$T/o.wrongpin" 2>&1; rc=$?
took=$(( $(date +%s) - start ))
check "wrong PIN: refused (exit $rc)" test "$rc" != 0
check "... MQTLS_ERR_KEY_PASSWORD_WRONG: the token's PIN is wrong" \
  grep -q "the token's PIN is wrong.*CKR 0xA0.*MQTLS_ERR_KEY_PASSWORD_WRONG\|MQTLS_ERR_KEY_PASSWORD_WRONG.*the token's PIN is wrong" "$T/o.wrongpin"
check "... in bounded time (${took}s <= 10s)" test "$took" -le 10
check "... never connected" bash -c "! grep -q ' as bad1 ' '$T/mosquitto.log'"
pub bad2 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client' --pkcs11-module "$MODULE" \
  >"$T/o.nopin" 2>&1; rc=$?
check "no PIN: refused (exit $rc), MQTLS_ERR_KEY_PASSWORD_REQUIRED" \
  grep -q "the token needs a PIN.*MQTLS_ERR_KEY_PASSWORD_REQUIRED\|MQTLS_ERR_KEY_PASSWORD_REQUIRED.*the token needs a PIN" "$T/o.nopin"
pub bad3 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' \
  --pkcs11-module "$T/no-such-module.so" >"$T/o.nomod" 2>&1; rc=$?
check "missing module: refused (exit $rc) naming it" \
  grep -q "PKCS#11 module $T/no-such-module.so: No such file or directory" "$T/o.nomod"
check "... MQTLS_ERR_PKCS11" grep -q "MQTLS_ERR_PKCS11" "$T/o.nomod"
cp "$PKI/ca.crt" "$T/not-a-module.so"
pub bad4 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' \
  --pkcs11-module "$T/not-a-module.so" >"$T/o.notmod" 2>&1; rc=$?
check "a file that is no module: refused (exit $rc)" grep -q "cannot be loaded" "$T/o.notmod"
pub bad5 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' >"$T/o.nomodarg" 2>&1; rc=$?
check "no module given: refused (exit $rc), saying how to give one" \
  grep -q "no PKCS#11 module given (--pkcs11-module PATH" "$T/o.nomodarg"
pub bad6 "$T/rsa.crt" 'pkcs11:token=other;object=client;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.notoken" 2>&1; rc=$?
check "no such token: refused (exit $rc)" grep -q "no token of the module matches the URI" "$T/o.notoken"
pub bad7 "$T/rsa.crt" 'pkcs11:token=mqtls;object=nokey;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.nokey" 2>&1; rc=$?
check "no such key: refused (exit $rc)" grep -q "no private key on the token matches the URI" "$T/o.nokey"
pub bad8 "$T/rsa.crt" 'pkcs11:token=mqtls;object=client;colour=blue;pin-value=735194' \
  --pkcs11-module "$MODULE" >"$T/o.unknown" 2>&1; rc=$?
check "an attribute RFC 7512 does not define: refused (exit $rc)" \
  grep -q "an attribute is not one RFC 7512 defines" "$T/o.unknown"
pub bad9 "$T/ec.crt" 'pkcs11:token=mqtls;object=client;pin-value=735194' --pkcs11-module "$MODULE" \
  >"$T/o.mismatch" 2>&1; rc=$?
check "the RSA token key with the EC key's certificate: MQTLS_ERR_KEY_MISMATCH (exit $rc)" \
  grep -q "MQTLS_ERR_KEY_MISMATCH" "$T/o.mismatch"
# One process, the engines in turn (libp11 finalises the module when OpenSSL's ENGINE goes).
if [ "$ENGINE" = openssl ] && [ -n "${P11_ENGINES:-}" ]; then
  timeout 60 "$P11_ENGINES" "mqtts://127.0.0.1:$MTLS" "$PKI/ca.crt" "$T/rsa.crt" \
    'pkcs11:token=mqtls;object=client;pin-value=735194' "$MODULE" openssl mbedtls2 openssl mbedtls2 \
    >"$T/o.engines" 2>&1; rc=$?
  check "one process: openssl, mbedtls2, openssl, mbedtls2 in turn with the token key (exit $rc)" \
    test "$rc" = 0
  [ "$rc" = 0 ] || cat "$T/o.engines"
fi
check "no finding about a key file (the key is on a token)" \
  bash -c "! grep -hE 'client-key-missing|file-unreadable|key-password' '$T'/o.*"
check "the PIN is never printed" bash -c "! grep -h '735194\|864203' '$T'/o.*"
check "... the URI is shown with pin-value=***" grep -q "pin-value=\*\*\*" "$T/o.wrongpin"
finish
