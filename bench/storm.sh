#!/usr/bin/env bash
# bench/storm.sh [BUILD_DIR] — connect storms side by side (bench/run.sh style): `mqtls bench
# reconnect` vs libmosquitto (bench/storm/storm_mosquitto.c), Eclipse Paho C async
# (storm_paho.c) and MQTT.js (storm/mqttjs_storm.js), against one local mosquitto (127.0.0.1
# only) with mutual TLS, in interleaved rounds, medians per program, ratios in one table.
#
# Every program does the same: N client objects, each with its own device certificate from one
# `mqtls pki fleet` (its own TLS context); storm 1 = connect all, started at $STORM_RATE per
# second; hold 1 s; all disconnect; storm 2 = the same client objects reconnect (with the TLS
# session they kept, where the library keeps one: resumption); all disconnect. rate = connected
# / (last CONNACK - start of the storm). The machine's TcpExt ListenOverflows is read around each
# run: mosquitto's listen backlog is 100, and a dropped SYN costs 1 s.
# mqtls runs three ways: its default engine with --threads $STORM_THREADS ("mqtls") and 1
# ("mqtls-1t"), and the OpenSSL engine ("mqtls-openssl", MQTLS_TLS_ENGINE=openssl), the library
# the peers use.
# Knobs: STORM_N=300 STORM_RATE=500 STORM_ROUNDS=3 STORM_THREADS=2 MQTLS=<mqtls CLI>
#   (300: libmosquitto runs each client object on its own thread with select(), FD_SETSIZE
#   1024, three descriptors per object: beyond ~330 objects per process its clients never
#   connect; measured: 219 of 400. mqtls and Paho took 1000 here; `mqtls bench` alone: 10,000.)
#   STORM_OUT=<log of every command and RESULT line, default BUILD_DIR/storm.log>
# Needs: mosquitto, openssl (as the other benchmarks), node + npm for the MQTT.js column (mqtt
# 5.16.0 is installed into BUILD_DIR/storm-node at the first run; never committed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build-bench}
N=${STORM_N:-300}
RATE=${STORM_RATE:-500}
ROUNDS=${STORM_ROUNDS:-3}
THREADS=${STORM_THREADS:-2}
out=${STORM_OUT:-$build/storm.log}
MQTLS=${MQTLS:-}
for cand in "$MQTLS" "$build/mqtls" "$root/build/mqtls"; do
  [ -n "$cand" ] && [ -x "$cand" ] && { MQTLS=$cand; break; }
done
[ -x "$MQTLS" ] || { echo "storm: no mqtls CLI (build it, or MQTLS=path)" >&2; exit 2; }
command -v mosquitto >/dev/null || { echo "storm: mosquitto not installed" >&2; exit 2; }
find_prog() { find "$build" -maxdepth 3 -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1; }
MOSQ=$(find_prog storm_mosquitto)
PAHO=$(find_prog storm_paho)

tmp=$(mktemp -d /tmp/mqtls-storm.XXXXXX)
BROKER=""
cleanup() {
  [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# MQTT.js, pinned (bench/storm/package.json), installed next to the build
NODE_DIR=$build/storm-node
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$NODE_DIR/node_modules/mqtt" ]; then
    mkdir -p "$NODE_DIR" && cp "$here/storm/package.json" "$NODE_DIR/" &&
      (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
      echo "storm: npm install mqtt failed: no MQTT.js column" >&2
  fi
else
  echo "storm: node/npm not installed: no MQTT.js column" >&2
fi
[ -d "$NODE_DIR/node_modules/mqtt" ] && cp "$here/storm/mqttjs_storm.js" "$NODE_DIR/"

echo "storm: a fleet of $N devices" >&2
mkdir -p "$tmp/pki" && "$MQTLS" pki init "$tmp/pki" >/dev/null || exit 2
"$MQTLS" pki server "$tmp/pki" --name localhost --ip 127.0.0.1 >/dev/null || exit 2
"$MQTLS" pki fleet "$tmp/pki" --count "$N" >&2 || exit 2

. "$here/mtls_broker.sh"
mtls_broker_start "$tmp" "$N" || exit 2
ulimit -Sn $((N * 4 + 1024)) 2>/dev/null # the clients' side: sockets (and libmosquitto's pipes)

COMMON=(--port "$PORT" --cafile "$tmp/pki/ca.crt" --fleet "$tmp/pki" -n "$N" --rate "$RATE")
: >"$out"
overflows() { awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 } else {
  for (i = 1; i <= NF; i++) if (n[i] == "ListenOverflows") print $i } }' /proc/net/netstat; }

TO_RESULT='
import json, sys
d = json.load(sys.stdin)
for phase, key in (("connect", "connect"), ("reconnect", "reconnect_resumed"),
                   ("full", "reconnect_full")):
    x = d[key]
    lat = x["latency"]
    print("RESULT prog=%s phase=%s n=%d connected=%d seconds=%.3f rate=%.1f p50_ms=%.1f "
          "p99_ms=%.1f resumed=%d" % (sys.argv[1], phase, d["devices"], x["connected"],
          x["seconds"], x["rate_per_s"], lat["p50_ms"], lat["p99_ms"], x["resumed"]))
'
declare -A V # V[prog|phase|key|round]
PROGS=()
run_prog() { # prog round
  local p=$1 r=$2 o ov0 ov1
  ov0=$(overflows)
  case $p in
    mqtls|mqtls-1t|mqtls-openssl)
      local t=$THREADS; [ "$p" = mqtls-1t ] && t=1
      local eng=(); [ "$p" = mqtls-openssl ] && eng=(env MQTLS_TLS_ENGINE=openssl)
      local cmd=("${eng[@]}" "$MQTLS" bench reconnect -h 127.0.0.1 "${COMMON[@]}" --threads "$t" --hold 1 \
        --json --quiet --broker-pid "$BROKER")
      echo "\$ ${cmd[*]}" >>"$out"
      o=$(timeout 600 "${cmd[@]}" 2>>"$out")
      echo "$o" >>"$out"
      # the same fields as the peers' RESULT lines
      o=$(python3 -c "$TO_RESULT" "$p" <<<"$o")
      ;;
    libmosquitto)
      echo "\$ $MOSQ --host 127.0.0.1 ${COMMON[*]} --threads $THREADS" >>"$out"
      o=$(timeout 600 "$MOSQ" --host 127.0.0.1 "${COMMON[@]}" --threads "$THREADS" 2>>"$out") ;;
    paho)
      echo "\$ $PAHO --host 127.0.0.1 ${COMMON[*]}" >>"$out"
      o=$(timeout 600 "$PAHO" --host 127.0.0.1 "${COMMON[@]}" 2>>"$out") ;;
    mqttjs)
      echo "\$ node $NODE_DIR/mqttjs_storm.js --host 127.0.0.1 ${COMMON[*]}" >>"$out"
      o=$(cd "$NODE_DIR" && timeout 600 node mqttjs_storm.js --host 127.0.0.1 "${COMMON[@]}" 2>>"$out") ;;
  esac
  ov1=$(overflows)
  echo "$o" >>"$out"
  echo "listen_overflows=$((ov1 - ov0))" >>"$out"
  local line phase k
  while read -r line; do
    [[ $line == RESULT* ]] || continue
    phase=$(sed -n 's/.* phase=\([^ ]*\).*/\1/p' <<<"$line")
    for k in rate p50_ms p99_ms connected resumed; do
      V[$p|$phase|$k|$r]=$(sed -n "s/.* $k=\([^ ]*\).*/\1/p" <<<"$line")
    done
  done <<<"$o"
  V[$p|any|overflows|$r]=$((ov1 - ov0))
  # each program's reconnect storm over its connect storm, and mqtls's resumed over full
  local c=${V[$p|connect|rate|$r]:-} s=${V[$p|reconnect|rate|$r]:-} f=${V[$p|full|rate|$r]:-}
  [ -n "$c" ] && [ -n "$s" ] && awk "BEGIN{exit !($c > 0)}" &&
    V[$p|any|speedup|$r]=$(awk "BEGIN{printf \"%.2f\", $s / $c}")
  [ -n "$f" ] && [ -n "$s" ] && awk "BEGIN{exit !($f > 0)}" &&
    V[$p|any|resumption|$r]=$(awk "BEGIN{printf \"%.2f\", $s / $f}")
  sleep 2 # let the broker settle
}
PROGS=(mqtls mqtls-1t)
# the same bench on the OpenSSL engine (the peers' library), where it is built in
"$MQTLS" --version 2>/dev/null | grep -qi openssl && PROGS+=(mqtls-openssl)
[ -n "$MOSQ" ] && PROGS+=(libmosquitto)
[ -n "$PAHO" ] && PROGS+=(paho)
[ -f "$NODE_DIR/mqttjs_storm.js" ] && PROGS+=(mqttjs)
for r in $(seq "$ROUNDS"); do
  for p in "${PROGS[@]}"; do
    echo "storm: round $r/$ROUNDS: $p" >&2
    run_prog "$p" "$r"
  done
done

worst() { # label phase: the fewest devices connected in any round, of N
  printf '%-38s' "$1"
  local p r v m
  for p in "${PROGS[@]}"; do
    m=""
    for r in $(seq "$ROUNDS"); do
      v=${V[$p|$2|connected|$r]:-}
      [ -z "$v" ] && continue
      if [ -z "$m" ] || [ "$v" -lt "$m" ]; then m=$v; fi
    done
    printf ' | %12s' "${m:--}"
  done
  printf ' | %s\n' "-"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "-"; else print a[int((NR+1)/2)]}'; }
med() { # prog phase key
  local r
  for r in $(seq "$ROUNDS"); do
    v=${V[$1|$2|$3|$r]:-}
    [ -n "$v" ] && [ "$v" != "?" ] && echo "$v"
  done | median
}
printf '\nconnect storms, %s devices (own certificates), started at %s/s, %s rounds (median), mosquitto %s on 127.0.0.1, %s cores\n' \
  "$N" "$RATE" "$ROUNDS" "$(mosquitto -h 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)" "$(nproc)"
printf '%-38s' "metric"; for p in "${PROGS[@]}"; do printf ' | %12s' "$p"; done; printf ' | %s\n' "mqtls / best peer"
row() { # label phase key higher_is_better
  printf '%-38s' "$1"
  local best="" p v
  for p in "${PROGS[@]}"; do
    v=$(med "$p" "$2" "$3"); printf ' | %12s' "$v"
    case $p in mqtls*) continue ;; esac
    [ "$v" = "-" ] && continue
    if [ -z "$best" ]; then best=$v
    elif [ "$4" = 1 ] && awk "BEGIN{exit !($v > $best)}"; then best=$v
    elif [ "$4" = 0 ] && awk "BEGIN{exit !($v < $best)}"; then best=$v; fi
  done
  v=$(med mqtls "$2" "$3")
  if [ -n "$best" ] && [ "$v" != "-" ] && awk "BEGIN{exit !($best > 0)}"; then
    awk "BEGIN{x = $v / $best; printf (x >= 0.1 ? \" | %.2f\\n\" : \" | %.3g\\n\"), x}"
  else
    printf ' | -\n'
  fi
}
row "storm 1 connect: conn/s" connect rate 1
row "storm 1 connect: p50 ms" connect p50_ms 0
row "storm 1 connect: p99 ms" connect p99_ms 0
row "storm 2 reconnect: conn/s" reconnect rate 1
row "storm 2 reconnect: p50 ms" reconnect p50_ms 0
row "storm 2 reconnect: p99 ms" reconnect p99_ms 0
row "storm 2: TLS sessions resumed" reconnect resumed 1
row "storm 2 / storm 1 conn/s (per round)" any speedup 1
row "storm 3 full reconnect: conn/s" full rate 1
row "storm 2 / storm 3 (resumption speedup)" any resumption 1
worst "storm 1: connected, worst round" connect
worst "storm 2: connected, worst round" reconnect
row "listen-queue overflows per run" any overflows 0
# A storm started at $RATE/s over N devices cannot be faster than the ramp: a median at 90 % of
# it or more is the ramp's ceiling, a lower bound of what the program could do.
for p in "${PROGS[@]}"; do
  for ph in connect reconnect; do
    v=$(med "$p" "$ph" rate)
    [ "$v" != "-" ] && awk "BEGIN{exit !($v >= 0.9 * $RATE)}" &&
      echo "note: $p $ph: $v conn/s is the ramp's ceiling (STORM_RATE=$RATE): a lower bound"
  done
done
echo "(storm 3 = \`mqtls bench reconnect\`'s third storm: new client objects, full handshakes;"
echo " storm 2 / storm 1 is each program's own reconnect-over-connect ratio in the same round;"
echo " overflows: the whole machine's TcpExt ListenOverflows during the run)"
echo "(commands and every RESULT line: $out)"
