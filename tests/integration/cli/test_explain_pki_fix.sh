#!/usr/bin/env bash
# The re-issue fixes `mqtls explain` prints (src/explain/explain_catalogue.h), run as printed in
# a folder where the user already has a `mqtls pki` CA folder with a broker and a client
# certificate: they must make their new files in a new folder and change none of the user's
# (they used `--force`, which replaced pki/server.* and pki/<client>.*), and the
# ip-san-old-mbedtls one must give a certificate that mbedTLS 2.28 itself (an ESP-IDF 4 device;
# $NAME_CHECK = tests/unit/diag/mbedtls2_name_check) accepts for the IP, where it rejected the
# old one. Run twice, a fix fails (the folder exists) and still changes nothing.
set -u
MQTLS=${MQTLS:?set MQTLS to the mqtls binary}
NAME_CHECK=${NAME_CHECK:?set NAME_CHECK to mbedtls2_name_check}
T=$(mktemp -d /tmp/mqtls-explain-fix.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0; PASSES=0
check() { local d=$1; shift; if "$@"; then PASSES=$((PASSES+1)); echo "ok   - $d"; else FAILS=$((FAILS+1)); echo "FAIL - $d"; fi; }
mkdir -p "$T/bin" && ln -s "$MQTLS" "$T/bin/mqtls" && export PATH="$T/bin:$PATH"
cd "$T" || exit 1
# the user's PKI: a CA, the broker's certificate for its IP (an iPAddress SAN only), a client
mqtls pki init pki >/dev/null && mqtls pki server pki --name 192.0.2.10 >/dev/null &&
  mqtls pki client pki --name CLIENT_ID >/dev/null || { echo "FAIL - mqtls pki set-up"; exit 1; }
hashes() { (cd pki && sha256sum ./*); }
before=$(hashes)
check "mbedTLS 2.28 rejects the user's broker certificate for 192.0.2.10 (iPAddress SAN only)" \
  bash -c "! '$NAME_CHECK' pki/ca.crt pki/server.crt 192.0.2.10 >/dev/null"
# the fix line of each cause: the first line that runs `mqtls pki server|client`
fix_line() { # explain-input id
  mqtls explain --json "$1" | python3 -c 'import json,sys
d=json.load(sys.stdin)
for c in d["causes"]:
    if c["id"] == sys.argv[1]:
        for l in c["fix"].split("\n"):
            if "mqtls pki server " in l or "mqtls pki client " in l:
                print(l.split("   #")[0]); break' "$2"
}
for pair in MBEDTLS_X509_BADCERT_CN_MISMATCH:ip-san-old-mbedtls 0x1000:server-eku-missing \
    0x800:server-key-usage certificate_expired:client-cert-expired; do
  input=${pair%%:*}; id=${pair#*:}
  line=$(fix_line "$input" "$id" | sed 's/HOST/broker.local/g')
  check "$id: explain prints a re-issue ($line)" test -n "$line"
  [ -n "$line" ] || continue
  rm -rf pki-new
  bash -e -c "$line" >"$T/$id.log" 2>&1; rc=$?
  check "$id: the fix runs as printed (exit $rc)" test "$rc" = 0
  check "$id: pki/ is byte for byte as the user had it" test "$(hashes)" = "$before"
  check "$id: the new files are in pki-new/" bash -c "ls pki-new/*.crt pki-new/*.key >/dev/null 2>&1"
  if [ "$id" = ip-san-old-mbedtls ]; then
    check "$id: the new certificate has the IP as a dNSName and an iPAddress" \
      bash -c "openssl x509 -in pki-new/server.crt -noout -ext subjectAltName | grep -q 'DNS:192.0.2.10, IP Address:192.0.2.10'"
    check "$id: mbedTLS 2.28 accepts it for 192.0.2.10 (what an ESP-IDF 4 device decides)" \
      "$NAME_CHECK" pki/ca.crt pki-new/server.crt 192.0.2.10
  fi
  snap=$( (cd pki-new && sha256sum ./*) )
  bash -e -c "$line" >>"$T/$id.log" 2>&1; rc=$?
  check "$id: run again it fails (pki-new exists: exit $rc) and replaces nothing" \
    bash -c "[ $rc != 0 ] && [ \"\$(cd pki-new && sha256sum ./*)\" = '$snap' ] && [ \"\$(cd pki && sha256sum ./*)\" = '$before' ]"
done
echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
