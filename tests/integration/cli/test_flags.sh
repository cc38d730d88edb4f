#!/usr/bin/env bash
# Every pub/sub flag shows its effect on the wire (broker log, mosquitto's clients) or in
# the output. Real mosquitto on 127.0.0.1, mutual TLS unless the flag is about plain MQTT.
source "$(dirname "$0")/lib.sh"
cli_setup
P=(-h 127.0.0.1 -p "$PLAIN")
LOG=$T/mosquitto.log
SUB=(timeout 10 "$MQTLS" sub)
PUB=(timeout 10 "$MQTLS" pub)

# start a subscriber "$id" in the background writing $T/$id.out; waits until subscribed
bg_sub() { # id, args...
  local id=$1; shift
  "${SUB[@]}" -i "$id" "$@" > "$T/$id.out" 2> "$T/$id.err" &
  BG=$!
  wait_subscribed "$id" || echo "(subscriber $id not ready)"
}
mosq_bg_sub() { # id, args...
  local id=$1; shift
  timeout 10 mosquitto_sub -i "$id" "$@" > "$T/$id.out" 2> "$T/$id.err" &
  BG=$!
  wait_subscribed "$id" || echo "(subscriber $id not ready)"
}
out_is() { # file, expected content (exact, with trailing newline added)
  [ "$(cat "$1")" = "$2" ] || { echo "  got: $(head -c 300 "$1" | od -c | head -5)"; return 1; }
}

# --- connection: -h -p -L, TLS on with any TLS flag ----------------------------------------
bg_sub s_hp "${TLS[@]}" -t hp/t -C 1
"${PUB[@]}" "${TLS[@]}" -t hp/t -m via-hp
wait $BG; check "-h/-p reach the mutual-TLS listener" out_is "$T/s_hp.out" via-hp

bg_sub s_url "${TLS[@]}" -t url/topic -C 1
"${PUB[@]}" -L "mqtts://127.0.0.1:$MTLS/url/topic" --cafile "$PKI/ca.crt" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" -m via-url
wait $BG; check "-L mqtts://host:port/topic sets host, port, TLS and topic" out_is "$T/s_url.out" via-url

"${PUB[@]}" -h 127.0.0.1 -p "$(free_port)" -t x -m y 2> "$T/refused.err"; rc=$?
check "closed port: exit 1 and 'cannot connect to 127.0.0.1:'" \
  bash -c "[ $rc = 1 ] && grep -q 'cannot connect to 127.0.0.1:' '$T/refused.err' && grep -q 'mqtls doctor' '$T/refused.err'"

"${PUB[@]}" -h 127.0.0.1 -p "$MTLS" --cert "$PKI/client.crt" --key "$PKI/client.key" -t x -m y -d \
  2> "$T/sysca.err"; rc=$?
check "--cert without --cafile: TLS on, system CA store used, our CA is not in it (exit 1)" \
  bash -c "[ $rc = 1 ] && grep -q 'ca-certificates.crt\|capath /etc/ssl/certs' '$T/sysca.err'"

"${PUB[@]}" -h 127.0.0.1 -p "$MTLS" --cafile "$PKI/ca.crt" -t x -m y 2> "$T/nocert.err"; rc=$?
check "mutual-TLS listener without --cert: exit 1" test "$rc" = 1

mkdir -p "$T/capath"; cp "$PKI/ca.crt" "$T/capath/"
"${PUB[@]}" -h 127.0.0.1 -p "$MTLS" --capath "$T/capath" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" -t x -m capath; rc=$?
check "--capath DIR trusts the CAs in DIR" test "$rc" = 0

# --- topics and payload sources -----------------------------------------------------------
bg_sub s_t "${TLS[@]}" -t 't/#' -v -C 1
"${PUB[@]}" "${TLS[@]}" -t t/exact/topic -m m-payload
wait $BG; check "-t / -m / -v: 'topic payload'" out_is "$T/s_t.out" "t/exact/topic m-payload"

"${PUB[@]}" "${TLS[@]}" -t x -f "$T/does-not-exist" 2>/dev/null; rc=$?
check "-f missing file: exit 4" test "$rc" = 4

bg_sub s_l "${TLS[@]}" -t l/t -C 3 -q 1
printf 'one\ntwo\r\nthree' | "${PUB[@]}" "${TLS[@]}" -t l/t -l -q 1
wait $BG; check "-l: one message per line (only the LF removed, a CR kept as mosquitto_pub 2.0 does, last line without newline)" \
  out_is "$T/s_l.out" "$(printf 'one\ntwo\r\nthree')"

bg_sub s_s "${TLS[@]}" -t s/t -C 1 -N
printf 'line1\nline2\n' | "${PUB[@]}" "${TLS[@]}" -t s/t -s
wait $BG; check "-s: all of stdin as one message" out_is "$T/s_s.out" "$(printf 'line1\nline2\n')"

bg_sub s_n "${TLS[@]}" -t n/t -C 1 -F 'len=%l'
"${PUB[@]}" "${TLS[@]}" -t n/t -n
wait $BG; check "-n: zero-length message" out_is "$T/s_n.out" "len=0"

# --- QoS, retain, ids, keepalive, versions (broker log) --------------------------------------
"${PUB[@]}" "${TLS[@]}" -t q/t -m x -q 2 -i pub-q2
check "-q 2: broker received PUBLISH q2" grep -q "Received PUBLISH from pub-q2 (d0, q2" "$LOG"
"${PUB[@]}" "${TLS[@]}" -t q/t -m x -i some-client-id-42
check "-i: broker log shows the client id" grep -q "as some-client-id-42 " "$LOG"
"${PUB[@]}" "${TLS[@]}" -t q/t -m x -I pfx-
check "-I: client id is prefix + pid" grep -q "as pfx-[0-9][0-9]* " "$LOG"
"${PUB[@]}" "${TLS[@]}" -t q/t -m x -k 17 -i ka
check "-k 17: broker log shows k17" grep -q "as ka (p2, c1, k17" "$LOG"
"${PUB[@]}" "${P[@]}" -t q/t -m x -V 5 -i v5
"${PUB[@]}" "${P[@]}" -t q/t -m x -V 311 -i v311
"${PUB[@]}" "${P[@]}" -t q/t -m x -V 31 -i v31
check "-V 5 / 311 / 31: protocol p5 / p2 / p1" bash -c \
  "grep -q 'as v5 (p5' '$LOG' && grep -q 'as v311 (p2' '$LOG' && grep -q 'as v31 (p1' '$LOG'"
"${PUB[@]}" "${P[@]}" -t q/t -m x -u alice -i withuser
check "-u: user name in CONNECT" grep -q "as withuser (p2, c1, k60, u'alice')" "$LOG"

"${PUB[@]}" "${TLS[@]}" -t r/t -m kept -r
"${SUB[@]}" "${TLS[@]}" -t r/t -C 1 -F '%r %p' > "$T/r.out"
check "-r: a later subscriber gets it retained" out_is "$T/r.out" "1 kept"

# -c: the session (subscription + queued QoS 1) survives a disconnect
"${SUB[@]}" "${TLS[@]}" -i persist -c -q 1 -t c/t -W 1 >/dev/null 2>&1
"${PUB[@]}" "${TLS[@]}" -t c/t -q 1 -m queued
"${SUB[@]}" "${TLS[@]}" -i persist -c -q 1 -t c/t -C 1 -W 5 > "$T/c.out"
check "-c: queued QoS 1 message delivered on reconnect" out_is "$T/c.out" queued

# --- sub output and exit conditions --------------------------------------------------------
bg_sub s_C "${TLS[@]}" -t C/t -C 2
for i in 1 2 3; do "${PUB[@]}" "${TLS[@]}" -t C/t -m "m$i"; done
wait $BG; rc=$?
check "-C 2: exit 0 after two messages" bash -c "[ $rc = 0 ] && [ \"\$(cat '$T/s_C.out')\" = \"\$(printf 'm1\nm2')\" ]"

start=$(date +%s%N)
"${SUB[@]}" "${TLS[@]}" -t W/none -W 1 2> "$T/W.err"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "-W 1: exit 27 (mosquitto_sub's) after ~1 s (took ${ms} ms)" bash -c "[ $rc = 27 ] && [ $ms -ge 900 ] && [ $ms -lt 5000 ]"
"${SUB[@]}" "${TLS[@]}" -t W/none -W 1 --quiet 2> "$T/quiet.err"
check "--quiet: no runtime message on stderr" test ! -s "$T/quiet.err"

"${PUB[@]}" "${TLS[@]}" -t R/t -m stale -r
bg_sub s_R "${TLS[@]}" -t R/t -R -C 1
"${PUB[@]}" "${TLS[@]}" -t R/t -m fresh
wait $BG; check "-R: retained message not printed, fresh one is" out_is "$T/s_R.out" fresh

bg_sub s_N "${TLS[@]}" -t N/t -C 2 -N
"${PUB[@]}" "${TLS[@]}" -t N/t -m ab; "${PUB[@]}" "${TLS[@]}" -t N/t -m cd
wait $BG; check "-N: no newline between messages" out_is "$T/s_N.out" abcd

bg_sub s_F "${TLS[@]}" -t F/t -C 1 -q 1 -F '%t|%q|%r|%l|%x|%%|\t|%5l'
"${PUB[@]}" "${TLS[@]}" -t F/t -q 1 -m AB
wait $BG; check "-F: formatted output" out_is "$T/s_F.out" "$(printf 'F/t|1|0|2|4142|%%|\t|    2')"

bg_sub s_T "${TLS[@]}" -t 'T/#' -T T/skip -C 1
"${PUB[@]}" "${TLS[@]}" -t T/skip -m no; "${PUB[@]}" "${TLS[@]}" -t T/keep -m yes
wait $BG; check "-T: filtered topic not printed" out_is "$T/s_T.out" yes

bg_sub s_json "${TLS[@]}" -t J/t -C 1 --json -V 5
"${PUB[@]}" "${TLS[@]}" -t J/t -m 'say "hi"' -D publish user-property k v -D publish content-type text/plain
wait $BG
check "--json and -D publish: one JSON object with the properties" python3 -c "
import json,sys
o=json.loads(open('$T/s_json.out').read())
assert o['topic']=='J/t' and o['payload']=='say \"hi\"' and o['qos']==0, o
assert o['properties']['user-property']==[['k','v']], o
assert o['properties']['content-type']=='text/plain', o"

mosq_bg_sub m_D "${TLS[@]/#--cert/--cert}" -V 5 -t D/t -C 1 -F '%P|%C'
"${PUB[@]}" "${TLS[@]}" -t D/t -m x -D publish user-property k2 v2 -D publish content-type c/t
wait $BG; check "-D publish: mosquitto_sub -F '%P|%C' sees the properties" out_is "$T/m_D.out" "k2:v2|c/t"

bg_sub s_S "${TLS[@]}" -t S/t -C 1 -F '%S' -D subscribe subscription-identifier 42
"${PUB[@]}" "${TLS[@]}" -t S/t -m x
wait $BG; check "-D subscribe subscription-identifier: broker echoes it (%S)" out_is "$T/s_S.out" 42

# -D connect session-expiry-interval: the session outlives the connection only with it
"${SUB[@]}" "${TLS[@]}" -i se1 -q 1 -t se/t -W 1 -D connect session-expiry-interval 60 >/dev/null 2>&1
"${SUB[@]}" "${TLS[@]}" -i se2 -q 1 -t se/t -W 1 -V 5 >/dev/null 2>&1
"${PUB[@]}" "${TLS[@]}" -t se/t -q 1 -m kept-for-se1
"${SUB[@]}" "${TLS[@]}" -i se1 -c -q 1 -t se/none -C 1 -W 3 -D connect session-expiry-interval 60 > "$T/se1.out" 2>/dev/null
"${SUB[@]}" "${TLS[@]}" -i se2 -c -q 1 -t se/none -C 1 -W 2 -V 5 > "$T/se2.out" 2>/dev/null
check "-D connect session-expiry-interval 60 keeps the session; without it, it is gone" \
  bash -c "[ \"\$(cat '$T/se1.out')\" = kept-for-se1 ] && [ ! -s '$T/se2.out' ]"

# --- will ------------------------------------------------------------------------------------
mosq_bg_sub m_will "${MTLS_MOSQ[@]}" -V 5 -t will/t -q 1 -C 1 -F '%t %p q%q %P'
"$MQTLS" sub "${TLS[@]}" -i willer -t will/none --will-topic will/t --will-payload gone \
  --will-qos 1 --will-retain -D will user-property wk wv -W 20 > /dev/null 2>&1 &
WP=$!
wait_grep "$LOG" "Sending SUBACK to willer$"
kill -9 "$WP"; wait "$WP" 2>/dev/null
wait $BG; check "--will-* and -D will: will delivered (QoS 1, property) when the client is killed" \
  out_is "$T/m_will.out" "will/t gone q1 wk:wv"
"${SUB[@]}" "${TLS[@]}" -t will/t -C 1 -F '%r %p' > "$T/will_r.out"
check "--will-retain: the will is retained" out_is "$T/will_r.out" "1 gone"

# --- debug and secrets -------------------------------------------------------------------------
# traditional PEM encryption: what mbedTLS 2.28 reads (PKCS#8 PBES2-AES it does not)
openssl pkey -in "$PKI/client.key" -out "$T/enc.key" -aes256 -traditional -passout pass:Sup3rSecret 2>/dev/null
printf 'Sup3rSecret\n' > "$T/pass.txt"
"${PUB[@]}" "${TLS[@]/$PKI\/client.key/$T/enc.key}" --keypass Sup3rSecret -t k/t -m x -d -u u1 -P hunter2 \
  > "$T/d.out" 2> "$T/d.err"; rc=$?
check "--keypass decrypts an encrypted key" test "$rc" = 0
check "-d: config printed with secrets as ***, never the secrets" bash -c \
  "grep -q 'mqtls: debug:' '$T/d.err' && grep -q 'password \*\*\*' '$T/d.err' && grep -q 'keypass \*\*\*' '$T/d.err' && ! grep -q 'Sup3rSecret\|hunter2' '$T/d.err' '$T/d.out'"
"${PUB[@]}" "${TLS[@]/$PKI\/client.key/$T/enc.key}" --keypass-file "$T/pass.txt" -t k/t -m x; rc=$?
check "--keypass-file reads the password" test "$rc" = 0
"${PUB[@]}" "${TLS[@]/$PKI\/client.key/$T/enc.key}" --keypass Wr0ngPass -t k/t -m x 2> "$T/wrongpass.err"; rc=$?
check "wrong --keypass: exit 4 (a key the library refuses), finding key-password-wrong, password not echoed" bash -c "[ $rc = 4 ] && grep -q key-password-wrong '$T/wrongpass.err' && ! grep -q Wr0ngPass '$T/wrongpass.err'"

openssl pkey -in "$PKI/client.key" -outform DER -out "$T/client.der" 2>/dev/null
"${PUB[@]}" "${TLS[@]/$PKI\/client.key/$T/client.der}" --keyform der -t k/t -m x; rc1=$?
"${PUB[@]}" "${TLS[@]}" --keyform der -t k/t -m x 2>/dev/null; rc2=$?
check "--keyform der: DER key works; PEM key with --keyform der is exit 2" bash -c "[ $rc1 = 0 ] && [ $rc2 = 2 ]"

# --- TLS knobs ---------------------------------------------------------------------------------
"${PUB[@]}" "${TLS[@]}" --tls-version tlsv1.2 -t k/t -m x -d 2> "$T/tv.err"; rc=$?
check "--tls-version tlsv1.2: connects, 1.2 pinned" bash -c "[ $rc = 0 ] && grep -q '1.2 only' '$T/tv.err'"
"${PUB[@]}" "${TLS[@]}" --tls-server-name wrong.example -t k/t -m x 2> /dev/null; rc1=$?
"${PUB[@]}" "${TLS[@]}" --tls-server-name localhost -t k/t -m x; rc2=$?
check "--tls-server-name: checked against the certificate (wrong 1, right 0)" bash -c "[ $rc1 = 1 ] && [ $rc2 = 0 ]"
"${PUB[@]}" "${TLS[@]/$PKI\/ca.crt/$PKI/other-ca.crt}" -t k/t -m x 2>/dev/null; rc1=$?
"${PUB[@]}" "${TLS[@]/$PKI\/ca.crt/$PKI/other-ca.crt}" --insecure -t k/t -m x 2> "$T/insecure.err"; rc2=$?
check "--insecure: wrong CA accepted, with a loud warning" bash -c \
  "[ $rc1 = 1 ] && [ $rc2 = 0 ] && grep -q 'WARNING: --insecure' '$T/insecure.err'"

# ALPN on the wire: openssl s_server reports what the client offered
AP=$(free_port)
# (s_server stops at EOF on stdin: give it one that stays open for a while)
openssl s_server -accept "$AP" -cert "$PKI/server.crt" -key "$PKI/server.key" -alpn x-mqtls-test \
  > "$T/alpn.out" 2>&1 < <(exec sleep 15 2>/dev/null) &
SP=$!
wait_grep "$T/alpn.out" ACCEPT
timeout 5 "$MQTLS" pub -h 127.0.0.1 -p "$AP" --cafile "$PKI/ca.crt" --tls-alpn x-mqtls-test -t a -m b \
  >/dev/null 2>&1
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
check "--tls-alpn: the protocol is offered in the ClientHello" grep -q "ALPN protocols advertised by the client: x-mqtls-test" "$T/alpn.out"

# --- repeat, retained-only, remove-retained ------------------------------------------------------
bg_sub s_rep "${TLS[@]}" -t rep/t -C 3
start=$(date +%s%N)
"${PUB[@]}" "${TLS[@]}" -t rep/t -m again --repeat 3 --repeat-delay 0.3
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $BG
check "--repeat 3 --repeat-delay 0.3: three messages, >= 600 ms (${ms} ms)" bash -c \
  "[ \"\$(cat '$T/s_rep.out')\" = \"\$(printf 'again\nagain\nagain')\" ] && [ $ms -ge 600 ]"

"${PUB[@]}" "${TLS[@]}" -t ro/a -m ra -r; "${PUB[@]}" "${TLS[@]}" -t ro/b -m rb -r
bg_sub s_ro "${TLS[@]}" -t 'ro/#' --retained-only -v
"${PUB[@]}" "${TLS[@]}" -t ro/c -m fresh
wait $BG; rc=$?
check "--retained-only: prints the retained ones, exits 0 at the first fresh one" bash -c \
  "[ $rc = 0 ] && [ \"\$(sort '$T/s_ro.out')\" = \"\$(printf 'ro/a ra\nro/b rb')\" ]"
"${SUB[@]}" "${TLS[@]}" -t 'ro/#' --remove-retained -W 1 >/dev/null 2>&1
"${SUB[@]}" "${TLS[@]}" -t 'ro/#' -W 1 > "$T/rr.out" 2>/dev/null
check "--remove-retained: no retained message left" test ! -s "$T/rr.out"

# --- refused by the broker: a second broker with a password file -------------------------------
PW_PORT=$(free_port)
mosquitto_passwd -b -c "$T/passwd" alice right >/dev/null 2>&1
chmod 644 "$T/passwd"
{ [ "$(id -u)" = 0 ] && echo "user root"; echo "listener $PW_PORT 127.0.0.1"; echo "allow_anonymous false";
  echo "password_file $T/passwd"; } > "$T/pw.conf"
mosquitto -c "$T/pw.conf" > "$T/pw.log" 2>&1 &
PW_PID=$!
wait_port "$PW_PORT"
"${PUB[@]}" -h 127.0.0.1 -p "$PW_PORT" -u alice -P right -t a -m b; rc1=$?
"${PUB[@]}" -h 127.0.0.1 -p "$PW_PORT" -u alice -P Wr0ngPw -t a -m b 2> "$T/pw.err"; rc2=$?
kill "$PW_PID"; wait "$PW_PID" 2>/dev/null
check "-u/-P: right password 0, wrong password exit 5 (CONNACK refused)" bash -c "[ $rc1 = 0 ] && [ $rc2 = 5 ]"
check "refused: the password is not printed" bash -c "! grep -q 'Wr0ngPw' '$T/pw.err'"

# --- usage ------------------------------------------------------------------------------------------
"$MQTLS" pub -t x 2>/dev/null; rc=$?
check "usage error: exit 2" test "$rc" = 2
"$MQTLS" sub --help | grep -q -- "--retained-only"; check "--help: exit 0 and lists options" test $? = 0
# --- signals and a lost connection (last: this stops the broker) --------------------------------
"$MQTLS" sub "${TLS[@]}" -i sigint -t sig/t > /dev/null 2>&1 &
SP=$!
wait_subscribed sigint
kill -INT "$SP"; wait "$SP"; rc=$?
check "sub: SIGINT disconnects cleanly, exit 0" bash -c "[ $rc = 0 ] && grep -q 'Received DISCONNECT from sigint' '$LOG'"
"$MQTLS" sub "${TLS[@]}" -i lost -t lost/t > /dev/null 2> "$T/lost.err" &
SP=$!
wait_subscribed lost
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
kill "$SP" 2>/dev/null # still running after 10 s: a failure (exit 143), never a hang
wait "$SP"; rc=$?
check "sub: broker gone -> exit 1 with 'connection lost to'" bash -c "[ $rc = 1 ] && grep -q 'connection lost to 127.0.0.1:' '$T/lost.err'"
finish
