#!/usr/bin/env bash
# Interop over mutual TLS with mosquitto's own clients: mqtls pub -> mosquitto_sub and
# mosquitto_pub -> mqtls sub, QoS 0/1/2, MQTT 3.1.1 and 5, payload bytes preserved exactly
# (binary with NUL and newlines, 0 bytes, 1 MiB).
source "$(dirname "$0")/lib.sh"
cli_setup

head -c 300 /dev/urandom > "$T/bin"; printf '\0\n\r\377end' >> "$T/bin"
: > "$T/empty"
head -c 1048576 /dev/urandom > "$T/mib"
n=0
for V in 311 5; do
  for q in 0 1 2; do
    for p in bin empty mib; do
      n=$((n + 1))
      # mqtls pub -> mosquitto_sub
      id="ms$n"
      timeout 10 mosquitto_sub "${MTLS_MOSQ[@]}" -V "$V" -i "$id" -t "i/$n" -q "$q" -C 1 -N \
        > "$T/out.$n.a" 2>"$T/err.$n.a" &
      spid=$!
      wait_subscribed "$id"
      if [ "$p" = empty ]; then msg=(-n); else msg=(-f "$T/$p"); fi
      timeout 10 "$MQTLS" pub "${TLS[@]}" -V "$V" -t "i/$n" -q "$q" "${msg[@]}"; prc=$?
      wait "$spid"; src=$?
      if [ $prc = 0 ] && [ $src = 0 ] && cmp -s "$T/$p" "$T/out.$n.a"; then
        ok "mqtls pub -> mosquitto_sub V$V qos$q $p"
      else
        fail "mqtls pub -> mosquitto_sub V$V qos$q $p (pub $prc, sub $src)"; cat "$T/err.$n.a"
      fi
      # mosquitto_pub -> mqtls sub
      id="qs$n"
      timeout 10 "$MQTLS" sub "${TLS[@]}" -V "$V" -i "$id" -t "j/$n" -q "$q" -C 1 -N \
        > "$T/out.$n.b" 2>"$T/err.$n.b" &
      spid=$!
      wait_subscribed "$id"
      if [ "$p" = empty ]; then msg=(-n); else msg=(-f "$T/$p"); fi
      timeout 10 mosquitto_pub "${MTLS_MOSQ[@]}" -V "$V" -t "j/$n" -q "$q" "${msg[@]}"; prc=$?
      wait "$spid"; src=$?
      if [ $prc = 0 ] && [ $src = 0 ] && cmp -s "$T/$p" "$T/out.$n.b"; then
        ok "mosquitto_pub -> mqtls sub V$V qos$q $p"
      else
        fail "mosquitto_pub -> mqtls sub V$V qos$q $p (pub $prc, sub $src)"; cat "$T/err.$n.b"
      fi
    done
  done
done
# the QoS actually used on the wire, as the broker saw it
check "broker saw mqtls pub at QoS 2" grep -q "Received PUBLISH from mqtls-.*(d0, q2" "$T/mosquitto.log"
check "broker saw an MQTT 5 mqtls client (p5)" grep -q "as qs.* (p5," "$T/mosquitto.log"
check "broker saw an MQTT 3.1.1 mqtls client (p2)" grep -q "as qs.* (p2," "$T/mosquitto.log"
finish
