#!/usr/bin/env bash
# mqtls pub/sub next to the real mosquitto_pub/mosquitto_sub (Debian 12: 2.0.11), on the same
# broker and the same input: -d's protocol trace line by line, -F %j/%J byte for byte (cJSON's
# rules), the empty payload, -l and \r, -W's exit code, -U/-E, -x, -A, -M, --tls-use-os-certs,
# broker-assigned ids, QoS 2 completed before DISCONNECT; then what mosquitto does not have to
# compare with: MQTT 5 Reason Strings (a scripted peer), typo suggestions, --version, help.
source "$(dirname "$0")/lib.sh"
cli_setup
P=(-h 127.0.0.1 -p "$PLAIN")
LOG=$T/mosquitto.log
# the protocol lines of a -d run (mosquitto_pub -d prints them on stdout, mqtls on stderr)
proto() { grep -E '^(Client |Subscribed |Received DISCONNECT)' "$1" | sed -E 's/auto-[0-9A-F-]+/auto-ID/'; }
same() { # name, file A, file B
  if diff -u "$2" "$3" > "$T/diff" 2>&1; then ok "$1"; else fail "$1"; head -30 "$T/diff"; fi
}

# --- 1. -d: the protocol trace, line by line --------------------------------------------------
for V in 311 5; do
  for q in 0 1 2; do
    timeout 10 mosquitto_pub -d "${P[@]}" -V "$V" -q "$q" -i tr-pub -t tr/t -m hello -r > "$T/m.pub" 2>&1
    timeout 10 "$MQTLS" pub -d "${P[@]}" -V "$V" -q "$q" -i tr-pub -t tr/t -m hello -r 2> "$T/q.pub" >/dev/null
    proto "$T/m.pub" > "$T/m.lines"; proto "$T/q.pub" > "$T/q.lines"
    [ -s "$T/m.lines" ] || fail "mosquitto_pub -d printed no trace"
    same "pub -d V$V q$q: the same lines as mosquitto_pub -d" "$T/m.lines" "$T/q.lines"
  done
  # sub: a retained QoS 1 message (stored above, retained at QoS 2 last), -C 1
  timeout 10 mosquitto_sub -d "${P[@]}" -V "$V" -q 2 -i tr-sub -t tr/t -C 1 > "$T/m.sub" 2>&1
  timeout 10 "$MQTLS" sub -d "${P[@]}" -V "$V" -q 2 -i tr-sub -t tr/t -C 1 2> "$T/q.sub" >/dev/null
  proto "$T/m.sub" > "$T/m.lines"; proto "$T/q.sub" > "$T/q.lines"
  same "sub -d V$V (SUBSCRIBE, SUBACK, Subscribed, retained PUBLISH q2 to PUBCOMP): as mosquitto_sub -d" \
    "$T/m.lines" "$T/q.lines"
done
# a broker-assigned id (MQTT 5): mosquitto without -i, mqtls with -i ''
timeout 10 mosquitto_pub -d "${P[@]}" -V 5 -q 1 -t tr/a -m x > "$T/m.auto" 2>&1
timeout 10 "$MQTLS" pub -d "${P[@]}" -V 5 -q 1 -i '' -t tr/a -m x 2> "$T/q.auto" >/dev/null
proto "$T/m.auto" > "$T/m.lines"; proto "$T/q.auto" > "$T/q.lines"
same "pub -i '' -V 5: '(null)' then the broker's auto- id, as mosquitto_pub -d" "$T/m.lines" "$T/q.lines"
check "-i '' -V 5: CONNACK's Assigned Client Identifier is the id" grep -q '^Client auto-.* received CONNACK (0)$' "$T/q.auto"
"$MQTLS" pub "${P[@]}" -V 311 -c -i '' -t x -m y 2> "$T/e.err"; rc=$?
check "-i '' with -c and MQTT 3.1.1: usage error [MQTT-3.1.3-7]" test "$rc" = 2
# TLS: the handshake facts before CONNECT, then the same lines
timeout 10 "$MQTLS" pub -d "${TLS[@]}" -q 1 -i tr-tls -t tr/s -m x 2> "$T/q.tls"
check "-d over mutual TLS: version, suite, the presented chain, then 'sending CONNECT'" bash -c \
  "grep -q '^mqtls: debug: TLS 1.[23], TLS' '$T/q.tls' &&
   grep -q \"^mqtls: debug: peer certificate 0: 'CN=localhost', issuer 'CN=mqtls test CA'\" '$T/q.tls' &&
   grep -q '^mqtls: debug: peer certificate 1: ' '$T/q.tls' &&
   [ \"\$(grep -n 'peer certificate 0' '$T/q.tls' | cut -d: -f1)\" -lt \"\$(grep -n 'sending CONNECT' '$T/q.tls' | cut -d: -f1)\" ]"

# --- 2. -F %j and %J, byte for byte ------------------------------------------------------------
i=0
for p in '{"a":1}' 'hello' '' '[1,2]' '12' 'tru' 'null' ' {"a" : [1, 2.5e3, "x\u00e9", 1e10, 0.1, -0, 1e400, 01]} ' \
         $'caf\xc3\xa9\t\x01\x7f/' '"\ud83d\ude00 \u0001 \/"' '12abc' '{"a":1,"a":2}'; do
  i=$((i + 1))
  printf '%s' "$p" > "$T/pl.$i"
done
j=0
for f in '%j' '%J' '%J|%l|%j'; do
  for V in 311 5; do
    n=$i
    j=$((j + 1))
    timeout 20 mosquitto_sub "${P[@]}" -V "$V" -q 1 -i "js-m$j" -t js/t -C "$n" -F "$f" > "$T/js.m" 2> "$T/js.m.err" &
    m=$!
    timeout 20 "$MQTLS" sub "${P[@]}" -V "$V" -q 1 -i "js-q$j" -t js/t -C "$n" -F "$f" > "$T/js.q" 2> "$T/js.q.err" &
    q=$!
    wait_subscribed "js-m$j"; wait_subscribed "js-q$j"
    for k in $(seq "$n"); do
      props=()
      [ "$V" = 5 ] && [ $((k % 2)) = 0 ] && props=(-D publish user-property k v -D publish content-type text/plain
        -D publish message-expiry-interval 100 -D publish response-topic rt -D publish correlation-data cd
        -D publish payload-format-indicator 1 -D publish user-property k2 "v 2")
      timeout 10 mosquitto_pub "${P[@]}" -V "$V" -q 1 -t js/t -f "$T/pl.$k" "${props[@]}"
    done
    wait "$m"; wait "$q"
    check "-F '$f' V$V: the tst field's form (local time, 6 digits, 'Z', offset)" \
      bash -c "! grep -o '\"tst\":\"[^\"]*\"' '$T/js.q' | grep -vqE '\"tst\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z[+-][0-9]{4}\"'"
    sed -E 's/"tst":"[^"]*"/"tst":"T"/g' "$T/js.m" > "$T/js.m.n"
    sed -E 's/"tst":"[^"]*"/"tst":"T"/g' "$T/js.q" > "$T/js.q.n"
    same "-F '$f' V$V: stdout byte for byte as mosquitto_sub ($n payloads: JSON, text, empty, control bytes, properties)" "$T/js.m.n" "$T/js.q.n"
    same "-F '$f' V$V: stderr ('not valid JSON' for %J) as mosquitto_sub" "$T/js.m.err" "$T/js.q.err"
  done
done

# --- 3. the payload as is: the empty payload prints nothing (as mosquitto_sub 2.0), -v, -N ----
e=0
for args in "" "-v" "-N" "-v -N"; do
  e=$((e + 1))
  timeout 10 mosquitto_sub "${P[@]}" -i "em-m$e" -t em/t -C 3 $args > "$T/em.m" &
  m=$!
  timeout 10 "$MQTLS" sub "${P[@]}" -i "em-q$e" -t em/t -C 3 $args > "$T/em.q" &
  q=$!
  wait_subscribed "em-m$e"; wait_subscribed "em-q$e"
  for msg in a '' b; do
    if [ -z "$msg" ]; then timeout 5 mosquitto_pub "${P[@]}" -t em/t -n; else timeout 5 mosquitto_pub "${P[@]}" -t em/t -m "$msg"; fi
  done
  wait "$m"; wait "$q"
  same "sub $args with an empty payload between two: as mosquitto_sub" "$T/em.m" "$T/em.q"
done

# --- 4. pub -l: only the \n goes (a \r stays), empty lines are sent, the last line too --------
timeout 10 mosquitto_sub "${P[@]}" -i l-sub -t l/t -C 8 -F '[%p](%l)' > "$T/l.out" &
s=$!
wait_subscribed l-sub
printf 'one\r\n\ntwo\nthree' | timeout 10 mosquitto_pub "${P[@]}" -t l/t -l
printf 'one\r\n\ntwo\nthree' | timeout 10 "$MQTLS" pub "${P[@]}" -t l/t -l
wait "$s"
head -4 "$T/l.out" > "$T/l.m"; tail -4 "$T/l.out" > "$T/l.q"
same "pub -l: the same four messages as mosquitto_pub -l (\\r kept, empty line sent)" "$T/l.m" "$T/l.q"

# --- 5. -W: 27, as mosquitto_sub ----------------------------------------------------------------
timeout 10 mosquitto_sub "${P[@]}" -t w/none -W 1 2>/dev/null; mrc=$?
timeout 10 "$MQTLS" sub "${P[@]}" -t w/none -W 1 2>/dev/null; qrc=$?
check "sub -W 1: exit $qrc, mosquitto_sub $mrc (27)" bash -c "[ $qrc = 27 ] && [ $mrc = 27 ]"

# --- 6. -U and -E: a persistent session's subscription removed ------------------------------
u_run() { # client: mosquitto_sub or mqtls sub; prints what the session still delivers
  local cl=("$@") id=u-$RANDOM
  timeout 10 "${cl[@]}" "${P[@]}" -c -i "$id" -q 1 -t u/old -t u/keep -E
  timeout 10 "${cl[@]}" "${P[@]}" -c -i "$id" -q 1 -t u/keep -U u/old -E
  timeout 10 mosquitto_pub "${P[@]}" -q 1 -t u/old -m dropped
  timeout 10 mosquitto_pub "${P[@]}" -q 1 -t u/keep -m kept
  timeout 10 "${cl[@]}" "${P[@]}" -c -i "$id" -q 1 -t u/keep -C 1 -W 3 -v
  echo "rc=$?"
}
u_run mosquitto_sub > "$T/u.m" 2>&1
u_run "$MQTLS" sub > "$T/u.q" 2>&1
same "-c -U -E: the unsubscribed filter delivers nothing, the kept one its message (as mosquitto_sub)" "$T/u.m" "$T/u.q"
check "-E: exits 0 after SUBACK" timeout 10 "$MQTLS" sub "${P[@]}" -t e/t -E
check "-U: the broker received UNSUBSCRIBE" grep -q "Received UNSUBSCRIBE from u-" "$LOG"

# --- 7. -x: the session expiry interval (MQTT 5) -----------------------------------------------
x_run() { # client, expiry: is a message queued for a -c session there after 2 s?
  local cl=("${@:1:$#-1}") x=${*: -1} id=x-$RANDOM
  timeout 10 "${cl[@]}" "${P[@]}" -V 5 -c -x "$x" -i "$id" -q 1 -t x/t -E
  timeout 10 mosquitto_pub "${P[@]}" -V 5 -q 1 -t x/t -m queued
  sleep 2.2
  timeout 10 "${cl[@]}" "${P[@]}" -V 5 -c -x "$x" -i "$id" -q 1 -t x/t -C 1 -W 2 2>/dev/null
  echo "rc=$?"
}
x_run mosquitto_sub 1 > "$T/x1.m"; x_run "$MQTLS" sub 1 > "$T/x1.q"
same "-x 1: the session expired after 2 s (as mosquitto_sub)" "$T/x1.m" "$T/x1.q"
x_run mosquitto_sub 60 > "$T/x60.m"; x_run "$MQTLS" sub 60 > "$T/x60.q"
same "-x 60: the session kept its queued message (as mosquitto_sub)" "$T/x60.m" "$T/x60.q"
check "-x 60: the message was there" grep -qx queued "$T/x60.q"
"$MQTLS" pub "${P[@]}" -V 5 -x -1 -t x -m y 2>/dev/null; rc=$?
check "-x -1 without -i: usage error, as mosquitto" test "$rc" = 2

# --- 8. -A: the local address ----------------------------------------------------------------
check "-A 127.0.0.2: connected from that address (broker log)" bash -c \
  "timeout 10 '$MQTLS' pub ${P[*]} -A 127.0.0.2 -i bind-a -t a/t -m x &&
   grep -q 'New connection from 127.0.0.2:.* as bind-a\|New client connected from 127.0.0.2:[0-9]* as bind-a' '$LOG'"
timeout 10 "$MQTLS" pub "${P[@]}" -A 192.0.2.1 -t a/t -m x 2> "$T/a.err"; rc=$?
timeout 10 mosquitto_pub "${P[@]}" -A 192.0.2.1 -t a/t -m x 2>/dev/null; mrc=$?
check "-A 192.0.2.1 (no such interface): exit $rc (mosquitto_pub $mrc), 'bind to 192.0.2.1'" bash -c \
  "[ $rc = 1 ] && [ $mrc = 1 ] && grep -q 'bind to 192.0.2.1' '$T/a.err'"

# --- 9. -M: in flight at most -----------------------------------------------------------------
timeout 20 "$MQTLS" pub -d "${P[@]}" -q 1 -M 1 --repeat 4 -i m1 -t m/t -m x 2> "$T/m1.err" >/dev/null
check "-M 1: each PUBLISH waits for the previous PUBACK (trace alternates)" bash -c \
  "[ \"\$(grep -E 'sending PUBLISH|received PUBACK' '$T/m1.err' | awk '{print \$3}' | tr '\n' ' ')\" = 'sending received sending received sending received sending received ' ]"
timeout 20 "$MQTLS" pub -d "${P[@]}" -q 1 -M 4 --repeat 4 -i m4 -t m/t -m x 2> "$T/m4.err" >/dev/null
check "-M 4: four PUBLISHes before the first PUBACK" bash -c \
  "[ \"\$(grep -E 'sending PUBLISH|received PUBACK' '$T/m4.err' | head -4 | grep -c sending)\" = 4 ]"

# --- 10. --tls-use-os-certs: the system store, said explicitly -------------------------------
timeout 10 mosquitto_pub -L "mqtts://127.0.0.1:$MTLS/o/t" --cert "$PKI/client.crt" --key "$PKI/client.key" -m x 2>/dev/null; mrc=$?
timeout 10 "$MQTLS" pub -d -L "mqtts://127.0.0.1:$MTLS/o/t" --cert "$PKI/client.crt" --key "$PKI/client.key" -m x 2> "$T/os.err"; rc=$?
check "mqtts:// without --cafile: the system store, verification fails (exit $rc; mosquitto_pub $mrc)" bash -c \
  "[ $rc = 1 ] && [ $mrc != 0 ] && grep -q 'tls trusts the system CA store (no --cafile/--capath with an mqtts://' '$T/os.err' &&
   grep -q 'checked against the system CA store only' '$T/os.err'"
check "--tls-use-os-certs with --cafile: both trusted, connects (as mosquitto_pub)" bash -c \
  "timeout 10 mosquitto_pub ${MTLS_MOSQ[*]} --tls-use-os-certs -t o/t -m x &&
   timeout 10 '$MQTLS' pub -d ${TLS[*]} --tls-use-os-certs -t o/t -m x 2>&1 | grep -q 'tls trusts the system CA store (--tls-use-os-certs)'"

# --- 11. QoS 2 with -C 1: PUBCOMP goes before DISCONNECT ----------------------------------------
timeout 10 "$MQTLS" sub -d "${P[@]}" -q 2 -i q2-sub -t q2/t -C 1 2> "$T/q2.err" > "$T/q2.out" &
s=$!
wait_subscribed q2-sub
timeout 10 mosquitto_pub "${P[@]}" -q 2 -t q2/t -m exactly-once
wait "$s"
check "sub -q 2 -C 1: PUBREC, PUBREL, PUBCOMP, then DISCONNECT" bash -c \
  "[ \"\$(grep -oE '(sending|received) (PUBREC|PUBREL|PUBCOMP|DISCONNECT)' '$T/q2.err' | tr '\n' ,)\" = 'sending PUBREC,received PUBREL,sending PUBCOMP,sending DISCONNECT,' ]"

# --- 12. MQTT 5 Reason Strings: mosquitto sends none, a scripted peer does ----------------------
peer() { # scenario, mqtls args...: run mqtls against scripted_broker.py
  local sc=$1; shift
  rm -f "$T/peer.port"
  python3 "$SRC/tests/integration/cli/scripted_broker.py" "$T/peer.port" "$sc" &
  local bp=$!
  for _ in $(seq 50); do [ -s "$T/peer.port" ] && break; sleep 0.1; done
  timeout 10 "$MQTLS" "$@" -h 127.0.0.1 -p "$(cat "$T/peer.port")" -V 5 -i rs 2> "$T/peer.err"
  echo "rc=$?" >> "$T/peer.err"
  wait "$bp"
}
peer connack-refused pub -t r/t -m x
check "CONNACK 0x87 + Reason String: exit 5, the broker's words printed" bash -c \
  "grep -q 'rc=5' '$T/peer.err' && grep -q \"Not authorized (broker: 'quota exceeded')\" '$T/peer.err'"
peer puback-refused pub -t r/t -m x -q 1
check "PUBACK 0x97 + Reason String: exit 5, printed" bash -c \
  "grep -q 'rc=5' '$T/peer.err' && grep -q \"reason 0x97 .*(broker: 'quota exceeded')\" '$T/peer.err'"
peer suback-refused sub -t r/t
check "SUBACK 0x87 + Reason String: exit 5, printed" bash -c \
  "grep -q 'rc=5' '$T/peer.err' && grep -q \"refused subscription to 'r/t': 0x87 .*(broker: 'quota exceeded')\" '$T/peer.err'"
peer disconnect sub -t r/t -d
check "DISCONNECT 0x98 + Reason String: 'Received DISCONNECT (152)', the words, exit 5" bash -c \
  "grep -q 'rc=5' '$T/peer.err' && grep -q '^Received DISCONNECT (152)' '$T/peer.err' &&
   grep -q \"(broker: 'quota exceeded')\" '$T/peer.err'"

# --- 13. typos, --version, help topics ----------------------------------------------------------
"$MQTLS" sub --topc x 2> "$T/typo.err"; rc=$?
check "sub --topc: 'did you mean --topic?', exit 2" bash -c "[ $rc = 2 ] && grep -q 'did you mean --topic?' '$T/typo.err'"
"$MQTLS" pub --cafil x 2> "$T/typo.err"
check "pub --cafil: 'did you mean --cafile?'" grep -q 'did you mean --cafile?' "$T/typo.err"
"$MQTLS" pbu 2> "$T/typo.err"; rc=$?
check "mqtls pbu: did you mean 'pub'?, exit 2" bash -c "[ $rc = 2 ] && grep -q \"did you mean 'pub'?\" '$T/typo.err'"
check "mqtls --version: library, TLS library, build" bash -c \
  "'$MQTLS' --version | grep -q '^mqtls [0-9]*\.[0-9]*\.[0-9]' && '$MQTLS' --version | grep -q '^TLS: mbed TLS [23]\.' &&
   '$MQTLS' --version | grep -q '^build: '"
check "mqtls help sub = mqtls sub --help" bash -c "diff <('$MQTLS' help sub) <('$MQTLS' sub --help)"
check "mqtls help exit-codes: the table of docs/cli/exit-codes.md (27 included)" bash -c \
  "'$MQTLS' help exit-codes | grep -q 'MQTLS_EXIT_SUB_TIMEOUT' && '$MQTLS' help exit-codes | grep -q '^ *27 '"
check "mqtls help findings hostname-mismatch" bash -c "'$MQTLS' help findings hostname-mismatch | grep -q '^hostname-mismatch: '"
"$MQTLS" help nope 2>/dev/null; rc=$?
check "mqtls help nope: exit 2" test "$rc" = 2
check "pub --help does not document sub's -W" bash -c "! '$MQTLS' pub --help | grep -q -- '-W'"
check "pki init DIR/a/b: made as mkdir -p would, the key 0600" bash -c \
  "'$MQTLS' pki init '$T/pkinew/a/b' >/dev/null && [ \"\$(stat -c %a '$T/pkinew/a/b/ca.key')\" = 600 ]"
finish
