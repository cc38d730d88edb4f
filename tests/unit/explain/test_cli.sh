#!/bin/sh
# CLI contract of `mqtls explain`: exit codes (0 recognised, 1 nothing, 2 usage), --json shape,
# stdin logs, whose certificate a log line is about, no colour when not a tty. $1 = explain_cli
# binary, $2 = this folder.
set -u
cli=$1
dir=$2
fail=0
check() { # name expected_rc actual_rc
    if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=1; else echo "ok   $1"; fi
}
out=$("$cli" -0x2700 0x10000 test.mosquitto.org); check "codes recognised" 0 $?
printf "%s\n" "$out" | grep -q "1\. weak-key" || { echo "FAIL weak-key not first"; fail=1; }
printf "%s\n" "$out" | grep -q "2020-06-09" || { echo "FAIL no test.mosquitto.org note"; fail=1; }
printf '%s' "$out" | grep -q "$(printf '\033')" && { echo "FAIL colour on a pipe"; fail=1; }
out=$("$cli" < "$dir/seed_esp32.log"); check "seed log on stdin" 0 $?
printf "%s\n" "$out" | grep -q "1\. weak-key" || { echo "FAIL seed: weak-key not first"; fail=1; }
printf "%s\n" "$out" | grep -q "BADCERT_BAD_KEY" || { echo "FAIL seed: BAD_KEY not named"; fail=1; }
out=$("$cli" --json - < "$dir/seed_esp32.log"); check "--json" 0 $?
printf "%s\n" "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["causes"][0]["id"]=="weak-key", d; assert all(k in d["causes"][0] for k in ("id","title","explanation","fix","evidence")); assert d["inputs"]' \
    || { echo "FAIL --json shape"; fail=1; }
"$cli" nonsense-word >/dev/null 2>&1; check "nothing recognised" 1 $?
err=$("$cli" nonsense-word 2>&1 >/dev/null); printf "%s\n" "$err" | grep -q "could not parse 'nonsense-word'" \
    || { echo "FAIL unparsed not reported"; fail=1; }
printf 'hello\nworld\n' | "$cli" >/dev/null 2>&1; check "garbage stdin" 1 $?
"$cli" --bogus >/dev/null 2>&1; check "unknown option" 2 $?
"$cli" --help >/dev/null 2>&1; check "--help" 0 $?
"$cli" alert 48 | grep -q "client-ca-not-accepted"; check "alert as two words" 0 $?
# whose certificate: the same OpenSSL reason, loaded by the broker or by a client
b1='1664832137: Error: Unable to load server certificate "server.crt". Check certfile.'
b2='1664832137: OpenSSL Error[0]: error:140AB18F:SSL routines:SSL_CTX_use_certificate:'
b2="${b2}ee key too small"
out=$(printf '%s\n%s\n' "$b1" "$b2" | "$cli"); check "broker loads a weak certificate" 0 $?
printf "%s\n" "$out" | grep -q "1\. server-key-too-small" \
    || { echo "FAIL broker ee key: not server-key-too-small"; fail=1; }
c1='  File "/usr/lib/python3.10/ssl.py", line 1, in load_cert_chain'
c2='ssl.SSLError: [SSL: EE_KEY_TOO_SMALL] ee key too small (_ssl.c:3900)'
out=$(printf '%s\n%s\n' "$c1" "$c2" | "$cli")
printf "%s\n" "$out" | grep -q "1\. weak-client-key" \
    || { echo "FAIL client ee key: not weak-client-key"; fail=1; }
kind='import json,sys; assert json.load(sys.stdin)["inputs"][0]["kind"]=="pubsubclient"'
printf 'Attempting MQTT connection...failed, rc=-4 try again in 5 seconds\n' | "$cli" --json - \
    | python3 -c "$kind" \
    || { echo "FAIL PubSubClient state not read"; fail=1; }
"$cli" --json nonsense | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["unparsed"]==["nonsense"] and d["causes"]==[]' \
    || { echo "FAIL --json on nothing"; fail=1; }
exit $fail
