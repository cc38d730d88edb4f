#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR] — mqtls vs libmosquitto vs Eclipse Paho C, side by side, against
# one local mosquitto (127.0.0.1 only), in one go (~5 minutes). Prints a table:
#   metric | mqtls | libmosquitto | paho | ratio mqtls/best-peer
# Benchmarks are not tests: this never fails on a timing; a missing program is shown as "-".
#
# Metrics (programs: bench/bench_client.c, bench/peers/*.c; modes in bench_common.h):
#   publish  instructions per QoS 0 message (callgrind: run N=0 and N=$PUB_N, subtract, / N;
#            median of $PUB_REPS runs each), 64 B and 16 KiB, mutual TLS and plain TCP
#   e2e      messages/s subscriber+publisher in one process, QoS 0/1/2, window 20,
#            64 B and 16 KiB, N=$E2E_N, mutual TLS, 60 s cap
#   connect  $CONNECTS sequential mutual-TLS connects to CONNACK: median and p99 ms, against
#            the stock broker and one with `set_tcp_nodelay true`; plus tls_floor (raw mbedTLS).
#            Run in $CONNECT_ROUNDS interleaved rounds (every program per round), samples
#            pooled. Also client instructions per connect (callgrind; load-independent).
#   idle     heap peak (dhat t-gmax) of one client connected with mutual TLS for 1 s
#   context  aead_cost: instructions of the AEAD alone for one TLS record in mbedTLS
# Knobs (environment): PUB_N=2000 PUB_REPS=3 E2E_N=20000 CONNECTS=50 CONNECT_ROUNDS=5
#   BENCH_ONLY="publish e2e connect idle"
#   BENCH_OUT=<file for the exact commands + RESULT lines, default BUILD_DIR/bench-client.log>
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build-bench}
PUB_N=${PUB_N:-2000}
PUB_REPS=${PUB_REPS:-3}
E2E_N=${E2E_N:-20000}
CONNECTS=${CONNECTS:-50}
CONNECT_ROUNDS=${CONNECT_ROUNDS:-5}
BENCH_ONLY=${BENCH_ONLY:-"publish e2e connect idle"}
out=${BENCH_OUT:-$build/bench-client.log}

find_prog() { # name -> path or empty; the newest if several (stale layouts)
  find "$build" -maxdepth 3 -type f -name "$1" -perm -u+x -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | head -n 1 | cut -d' ' -f2-
}
declare -A BIN=(
  [mqtls]=$(find_prog bench_client)
  [libmosquitto]=$(find_prog bench_mosquitto)
  [paho]=$(find_prog bench_paho)
)
FLOOR=$(find_prog tls_floor)
PROGS=(mqtls libmosquitto paho)
for p in "${PROGS[@]}"; do
  [ -n "${BIN[$p]}" ] || echo "bench: no program for $p under $build (skipped)" >&2
done
for tool in mosquitto valgrind openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/mqtls-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $((20000 + RANDOM % 20000))
}
wait_port() { # port: up to 10 s
  local end=$((SECONDS + 10))
  while [ $SECONDS -lt $end ]; do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start_broker() { # name plain_port mtls_port extra_line
  local conf=$tmp/$1.conf
  {
    [ "$(id -u)" = 0 ] && echo "user root" # as root, mosquitto drops to a user who cannot read $tmp
    echo "per_listener_settings false"
    echo "allow_anonymous true"
    echo "persistence false"
    echo "log_dest file $tmp/$1.log"
    echo "max_inflight_messages 100"
    echo "max_queued_messages 100000"
    echo "listener $2 127.0.0.1"
    echo "listener $3 127.0.0.1"
    echo "cafile $tmp/pki/ca.crt"
    echo "certfile $tmp/pki/server.crt"
    echo "keyfile $tmp/pki/server.key"
    echo "require_certificate true"
    echo "use_identity_as_username true"
    echo "$4"
  } >"$conf"
  mosquitto -c "$conf" >/dev/null 2>&1 &
  pids+=($!)
  wait_port "$2" && wait_port "$3" || { echo "bench: mosquitto did not start ($tmp/$1.log)" >&2; exit 2; }
}

"$root/tests/harness/make-pki.sh" "$tmp/pki" || exit 2
PLAIN=$(free_port); MTLS=$(free_port); PLAIN2=$(free_port); MTLS2=$(free_port)
start_broker stock "$PLAIN" "$MTLS" "# stock settings"
start_broker nodelay "$PLAIN2" "$MTLS2" "set_tcp_nodelay true"
TLSARGS=(--cafile "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key")
: >"$out"

declare -A R # R[metric|prog] = value
METRICS=()
add_metric() { # metric (in display order)
  local m
  for m in "${METRICS[@]}"; do [ "$m" = "$1" ] && return; done
  METRICS+=("$1")
}
run() { # logs the command and its RESULT lines; prints stdout
  echo "\$ $*" >>"$out"
  local o
  o=$(timeout 150 "$@" 2>>"$out.stderr")
  echo "$o" >>"$out"
  echo "$o"
}
field() { # line key
  sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1" | head -n 1
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print ""; else print a[int((NR+1)/2)]}'; }

callgrind_instr() { # prog args... -> total instructions
  local f=$tmp/cg.out
  echo "\$ valgrind --tool=callgrind $*" >>"$out"
  timeout 300 valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >>"$out" 2>"$tmp/cg.err"
  local n
  n=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.err")
  echo "collected=$n" >>"$out"
  echo "$n"
}

if [[ " $BENCH_ONLY " == *" publish "* ]]; then
  for p in "${PROGS[@]}"; do
    [ -n "${BIN[$p]}" ] || continue
    for tr in mtls plain; do
      if [ $tr = mtls ]; then args=(--port "$MTLS" "${TLSARGS[@]}"); else args=(--port "$PLAIN"); fi
      base=$(for _ in $(seq "$PUB_REPS"); do
        callgrind_instr "${BIN[$p]}" --mode publish --host 127.0.0.1 "${args[@]}" --count 0 --size 64
      done | median)
      for size in 64 16384; do
        full=$(for _ in $(seq "$PUB_REPS"); do
          callgrind_instr "${BIN[$p]}" --mode publish --host 127.0.0.1 "${args[@]}" \
            --count "$PUB_N" --size $size
        done | median)
        m="publish $size B QoS0 $tr: instr/msg"
        add_metric "$m"
        if [ -n "$base" ] && [ -n "$full" ]; then
          R[$m|$p]=$(( (full - base) / PUB_N ))
        fi
      done
    done
  done
fi

if [[ " $BENCH_ONLY " == *" e2e "* ]]; then
  for size in 64 16384; do
    for q in 0 1 2; do
      m="e2e $size B QoS$q mtls: msgs/s"
      add_metric "$m"
      for p in "${PROGS[@]}"; do
        [ -n "${BIN[$p]}" ] || continue
        line=$(run "${BIN[$p]}" --mode e2e --host 127.0.0.1 --port "$MTLS" "${TLSARGS[@]}" \
          --qos $q --size $size --count "$E2E_N" --inflight 20 --timeout 60 | grep '^RESULT')
        v=$(field "$line" msgs_per_s)
        got=$(field "$line" received)
        [ -n "$v" ] && [ "$got" != "$E2E_N" ] && v="$v(lost $((E2E_N - got)))"
        R[$m|$p]=$v
      done
    done
  done
fi

FLOOR_ROWS=()
AEAD=$(find_prog aead_cost)
if [[ " $BENCH_ONLY " == *" publish "* ]] && [ -n "$AEAD" ]; then
  # Context for instr/msg over TLS: the AEAD alone of one record in the linked mbedTLS
  # (a 64 B / 16 KiB PUBLISH with its ~20 B topic is an ~88 B / ~16410 B record).
  for cipher in gcm chachapoly; do
    for len in 88 16410; do
      a=$(callgrind_instr "$AEAD" $cipher $len 200)
      b=$(callgrind_instr "$AEAD" $cipher $len 400)
      [ -n "$a" ] && [ -n "$b" ] &&
        FLOOR_ROWS+=("mbedTLS AEAD only ($cipher, one $len B record): $(( (b - a) / 200 )) instr")
    done
  done
fi
pct() { # file -> "median p99" (nearest rank) of the samples, one per line
  sort -n "$1" | awk '{a[NR]=$1} END { if (NR == 0) { print "- -"; exit }
    m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; r = int((99*NR+99)/100);
    printf "%.3f %.3f\n", m, a[r] }'
}
if [[ " $BENCH_ONLY " == *" connect "* ]]; then
  # $CONNECT_ROUNDS rounds, each running every program for CONNECTS/ROUNDS connects, so a
  # change in machine load hits every program alike; the samples are pooled.
  per=$(( (CONNECTS + CONNECT_ROUNDS - 1) / CONNECT_ROUNDS ))
  CPROGS=()
  for p in "${PROGS[@]}"; do [ -n "${BIN[$p]}" ] && CPROGS+=("$p"); done
  [ -n "$FLOOR" ] && CPROGS+=(floor-gather floor-nodelay floor-nagle)
  for b in stock nodelay; do
    if [ $b = stock ]; then port=$MTLS; else port=$MTLS2; fi
    for _ in $(seq "$CONNECT_ROUNDS"); do
      for p in "${CPROGS[@]}"; do
        case $p in
          floor-*) cmd=("$FLOOR" --variant "${p#floor-}") ;;
          *) cmd=("${BIN[$p]}") ;;
        esac
        run "${cmd[@]}" --mode connect --host 127.0.0.1 --port "$port" "${TLSARGS[@]}" \
          --count "$per" | sed -n 's/^SAMPLES .* ms=//p' | tr , '\n' >>"$tmp/conn.$b.$p"
      done
    done
    for p in "${CPROGS[@]}"; do
      read -r med p99 < <(pct "$tmp/conn.$b.$p")
      n=$(wc -l <"$tmp/conn.$b.$p")
      case $p in
        floor-*)
          FLOOR_ROWS+=("tls_floor broker=$b variant=${p#floor-}: median $med ms, p99 $p99 ms (n=$n)")
          [ "$p" = floor-gather ] && R[floor|$b]=$med
          ;;
        *)
          add_metric "connect mtls broker=$b: median ms"
          add_metric "connect mtls broker=$b: p99 ms"
          R[connect mtls broker=$b: median ms|$p]=$med
          R[connect mtls broker=$b: p99 ms|$p]=$p99
          ;;
      esac
    done
  done
fi

if [[ " $BENCH_ONLY " == *" connect "* ]]; then
  # CPU cost of one mutual-TLS connect, free of machine load: callgrind with 1 + 4 connects
  # minus 1 + 1 connect (each program adds one uncounted warm-up connect), / 3.
  m="connect mtls: client instr/connect"
  add_metric "$m"
  for p in "${PROGS[@]}" floor; do
    if [ $p = floor ]; then bin=$FLOOR; else bin=${BIN[$p]}; fi
    [ -n "$bin" ] || continue
    a=$(callgrind_instr "$bin" --mode connect --host 127.0.0.1 --port "$MTLS2" "${TLSARGS[@]}" \
      --count 1)
    b=$(callgrind_instr "$bin" --mode connect --host 127.0.0.1 --port "$MTLS2" "${TLSARGS[@]}" \
      --count 4)
    if [ -n "$a" ] && [ -n "$b" ]; then
      if [ $p = floor ]; then
        FLOOR_ROWS+=("tls_floor (gather): client instr/connect $(( (b - a) / 3 ))")
        R[floor|instr]=$(( (b - a) / 3 ))
      else
        R[$m|$p]=$(( (b - a) / 3 ))
      fi
    fi
  done
fi

if [[ " $BENCH_ONLY " == *" idle "* ]]; then
  m="idle mtls: heap peak bytes (dhat t-gmax)"
  add_metric "$m"
  for p in "${PROGS[@]}"; do
    [ -n "${BIN[$p]}" ] || continue
    echo "\$ valgrind --tool=dhat ${BIN[$p]} --mode idle --host 127.0.0.1 --port $MTLS ${TLSARGS[*]}" >>"$out"
    timeout 120 valgrind --tool=dhat --dhat-out-file="$tmp/dhat.json" "${BIN[$p]}" --mode idle \
      --host 127.0.0.1 --port "$MTLS" "${TLSARGS[@]}" >>"$out" 2>"$tmp/dhat.err"
    grep -E "Total:|t-gmax" "$tmp/dhat.err" >>"$out"
    R[$m|$p]=$(sed -n 's/.*At t-gmax: *\([0-9,]*\) bytes.*/\1/p' "$tmp/dhat.err" | tr -d ,)
  done
fi

# The table. Lower is better except msgs/s. ratio = mqtls / best peer.
num() { sed 's/(.*//' <<<"$1"; }
printf '\n%-44s | %12s | %12s | %12s | %s\n' metric mqtls libmosquitto paho "ratio mqtls/best-peer"
printf -- '-%.0s' {1..110}; echo
for m in "${METRICS[@]}"; do
  q=${R[$m|mqtls]:-}; l=${R[$m|libmosquitto]:-}; h=${R[$m|paho]:-}
  ratio=-
  if [ -n "$(num "$q")" ]; then
    ratio=$(awk -v q="$(num "$q")" -v a="$(num "$l")" -v b="$(num "$h")" -v hi="$([[ $m == *msgs/s* ]] && echo 1 || echo 0)" '
      BEGIN { best = ""; if (a != "") best = a;
              if (b != "" && (best == "" || (hi ? b > best : b < best))) best = b;
              if (best == "" || best == 0) print "-"; else printf "%.2f\n", q / best }')
  fi
  printf '%-44s | %12s | %12s | %12s | %s\n' "$m" "${q:--}" "${l:--}" "${h:--}" "$ratio"
done
for row in "${FLOOR_ROWS[@]}"; do echo "$row"; done
q=${R[connect mtls: client instr/connect|mqtls]:-}; f=${R[floor|instr]:-}
if [ -n "$q" ] && [ -n "$f" ]; then
  awk -v q="$q" -v f="$f" 'BEGIN { printf "connect instr: mqtls / tls_floor = %.2f\n", q / f }'
fi
for b in stock nodelay; do
  q=${R[connect mtls broker=$b: median ms|mqtls]:-}; f=${R[floor|$b]:-}
  if [ -n "$q" ] && [ -n "$f" ]; then
    awk -v q="$q" -v f="$f" -v b="$b" 'BEGIN { printf "connect broker=%s: mqtls / tls_floor(gather) = %.2f (target <= 1.05)\n", b, q / f }'
  fi
done
grep -h "^INFO" "$out" | sort -u
echo "(raw RESULT lines and exact commands: $out)"
exit 0
