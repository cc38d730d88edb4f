#!/usr/bin/env bash
# Run every test. Stages (each must pass):
#   1. normal build (-Werror): unit + integration tests under ctest
#   2. ASan+UBSan build: the same tests again
#   3. clang + libFuzzer: each fuzz target for a bounded time (MQTLS_FUZZ_SECONDS, default 60)
# Prints ctest's summary per stage and a final "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
FUZZ_SECONDS=${MQTLS_FUZZ_SECONDS:-60}
passed=0
failed=0

stage() { # name, command...
  local name=$1; shift
  echo "=== mqtls test stage: $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "=== stage FAILED: $name"; fi
}

build_and_ctest() { # builddir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DMQTLS_WERROR=ON "$@" >/dev/null &&
    cmake --build "$dir" -j "$JOBS" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 300)
}

stage "build + ctest" build_and_ctest build
stage "asan+ubsan + ctest" build_and_ctest build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DMQTLS_SANITIZE=address,undefined -DMQTLS_BUILD_TOOLS=ON
if [ -f tests/fuzz/CMakeLists.txt ]; then
  stage "fuzz (${FUZZ_SECONDS}s per target)" scripts/fuzz.sh "$FUZZ_SECONDS"
fi

echo "mqtls: test stages: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
