#!/usr/bin/env bash
# bench/aes_gcm.sh [BUILD_DIR] — AES-256-GCM on 16 KiB records, mbedTLS 2.28 (Debian) vs 3.6
# (our build, cmake/MbedTLS3.cmake): instructions/byte under callgrind, (Ir(2N)-Ir(N))/(N*16384)
# so start-up and key setup cancel out, then wall-clock MB/s on one core.
# Knobs: CG_N (default 64 records).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build-bench-gcm}
CG_N=${CG_N:-64}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQTLS_BUILD_BENCH=ON \
  -DMQTLS_BUILD_TESTS=OFF -DMQTLS_BUILD_TOOLS=OFF -DMQTLS_ONLY="common;packet" >/dev/null
cmake --build "$build" -j 2 --target bench_aes_gcm2 bench_aes_gcm3 >/dev/null

ir() { # binary n -> total instructions executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

echo "== AES-256-GCM, 16 KiB records: instructions/byte (callgrind, N=$CG_N and 2N)"
for v in 2 3; do
  bin=$build/bench/bench_aes_gcm$v
  a=$(ir "$bin" "$CG_N")
  b=$(ir "$bin" $((CG_N * 2)))
  awk -v a="$a" -v b="$b" -v n="$CG_N" -v name="$("$bin" 1 | cut -d: -f1)" \
    'BEGIN { printf "%-16s %6.1f instructions/byte\n", name, (b - a) / (n * 16384) }'
done
echo "== wall clock, one core"
for v in 2 3; do "$build/bench/bench_aes_gcm$v" 4096; done
