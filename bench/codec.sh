#!/usr/bin/env bash
# bench/codec.sh [BUILD_DIR] — codec cost in instructions/packet (callgrind) and ns/packet.
# For each case/op, runs `valgrind --tool=callgrind bench_codec CASE OP N` with N and 2N
# iterations and prints (Ir(2N) - Ir(N)) / N, so process start-up and setup cancel out.
# Knobs: CG_N (default 20000; 64 KiB cases use CG_N/10).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build-bench-codec}
CG_N=${CG_N:-20000}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQTLS_BUILD_BENCH=ON \
  -DMQTLS_BUILD_TESTS=OFF -DMQTLS_BUILD_TOOLS=OFF -DMQTLS_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_codec >/dev/null
bin=$build/bench/bench_codec

ir() { # case op n -> total instructions executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

echo "== instructions/packet (callgrind, (Ir(2N)-Ir(N))/N)"
printf '%-14s %-7s %8s %14s\n' case op N instr/packet
for c in publish64 publish1k publish64k publish64_v5 subscribe10 connect_v5; do
  n=$CG_N
  [ "$c" = publish64k ] && n=$((CG_N / 10))
  ops="encode decode"
  case $c in publish*) ops="encode header decode" ;; esac
  for op in $ops; do
    a=$(ir "$c" "$op" "$n")
    b=$(ir "$c" "$op" $((2 * n)))
    printf '%-14s %-7s %8d %14s\n' "$c" "$op" "$n" "$(awk -v a="$a" -v b="$b" -v n="$n" \
      'BEGIN { printf "%.1f", (b - a) / n }')"
  done
done
echo "== wall clock (ns/packet, best effort, -O2, $(uname -m))"
"$bin"
