#!/usr/bin/env bash
# scripts/bench.sh — what `make bench` runs: build the benchmarks (-DMQTLS_BUILD_BENCH=ON,
# into build-bench), then bench/run.sh (mqtls vs libmosquitto vs Paho C against a local
# mosquitto), bench/storm.sh (connect storms: `mqtls bench` vs libmosquitto, Paho C, MQTT.js),
# then bench/codec.sh (the codec benchmark) if present; with BENCH_FLEET=1 also bench/fleet.sh
# (10,000 connections, several minutes). Benchmarks are not tests: a program that does not
# build is reported and skipped; only a failed configure is an error.
# Knobs: BENCH_BUILD (default build-bench), BENCH_STORM=0 to skip the storms, BENCH_FLEET=1,
# and those of bench/run.sh (PUB_N, E2E_N, ...), bench/storm.sh (STORM_N, ...), bench/fleet.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
build=${BENCH_BUILD:-build-bench}
mkdir -p "$build"
log=$build/bench-build.log
: >"$log"

if [ -f bench/CMakeLists.txt ] && grep -q 'clients.cmake' bench/CMakeLists.txt; then
  src=.
  cmake_args=(-DMQTLS_BUILD_BENCH=ON)
else
  # bench/CMakeLists.txt does not include bench/clients.cmake (yet): build the client
  # benchmarks through a small wrapper project that adds the tree and includes it.
  echo "bench: bench/CMakeLists.txt does not include clients.cmake; using a wrapper project" >&2
  src=$build/_clients_wrap
  mkdir -p "$src"
  cat >"$src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(mqtls_bench_clients C ASM)
find_package(Threads REQUIRED)
include($PWD/cmake/FindMbedTLS.cmake)
add_subdirectory($PWD mqtls)
include($PWD/bench/clients.cmake)
EOF
  cmake_args=(-DMQTLS_BUILD_BENCH=OFF)
fi

# A build dir configured from the other source (wrapper vs tree) cannot be reused.
if [ -f "$build/CMakeCache.txt" ]; then
  home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
  if [ "$home" != "$(cd "$src" && pwd)" ]; then
    echo "bench: $build was configured from $home: starting it afresh" >&2
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles" "$build/_clients_wrap" "$build/mqtls"
    for f in bench_client bench_mosquitto bench_paho tls_floor libmqtls_bench_common.a; do
      rm -f "$build/$f" # binaries of the other layout: run.sh must not pick them up
    done
  fi
fi

# The benchmarks need the library and the CLI (`mqtls bench`), no tests, no examples.

echo "bench: configuring $build" >&2
if ! cmake -S "$src" -B "$build" "${cmake_args[@]}" -DMQTLS_BUILD_TESTS=OFF \
  -DMQTLS_BUILD_TOOLS=ON -DMQTLS_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >>"$log" 2>&1; then
  cat "$log"
  echo "bench: cmake configure failed" >&2
  exit 1
fi

# Build each program on its own so one that does not build yet does not hide the others.
targets=(tls_floor tls_floor3 tls_floor_openssl aead_cost bench_mosquitto bench_paho bench_client mqtls_cli storm_mosquitto
  storm_paho)
for t in "${targets[@]}"; do
  if cmake --build "$build" -j "$JOBS" --target "$t" >>"$log" 2>&1; then
    echo "bench: built $t" >&2
  else
    echo "bench: $t did not build (see $log): skipped" >&2
  fi
done

case $build in
  /*) abs=$build ;;
  *) abs=$PWD/$build ;;
esac
bench/run.sh "$abs"

if [ "${BENCH_STORM:-1}" = 1 ]; then
  echo
  echo "=== connect storms: bench/storm.sh"
  MQTLS=$abs/mqtls bench/storm.sh "$abs" || echo "bench: bench/storm.sh exited with $?" >&2
fi
if [ "${BENCH_FLEET:-0}" = 1 ]; then
  echo
  echo "=== 10,000 connections: bench/fleet.sh"
  MQTLS=$abs/mqtls bench/fleet.sh "$abs/fleet" || echo "bench: bench/fleet.sh exited with $?" >&2
fi

# The codec benchmark has its own script and build dir (bench/codec.sh, codec engineer).
if [ -x bench/codec.sh ]; then
  echo
  echo "=== codec benchmark: bench/codec.sh"
  bench/codec.sh || echo "bench: bench/codec.sh exited with $?" >&2
fi
exit 0
