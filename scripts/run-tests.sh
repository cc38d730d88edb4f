#!/usr/bin/env bash
# Run every test. Stages (each must pass):
#   1. normal build (gcc, -Werror): unit + integration tests under ctest
#   2. ASan+UBSan build with clang (-Werror): the same tests again
#   deb. the Debian packages: built (scripts/build-deb.sh), installed, used, purged
#   3. ThreadSanitizer build with clang: the tests that run threads (scripts/tsan.sh)
#   4. clang + libFuzzer: each fuzz target for a bounded time (MQTLS_FUZZ_SECONDS, default 25:
#      eight targets, so the stage stays near 4 minutes with its build)
# Prints ctest's summary per stage, then one closing line "N passed, N failed" counting every
# ctest test of the three builds and every fuzz target.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
FUZZ_SECONDS=${MQTLS_FUZZ_SECONDS:-25}
passed=0
failed=0
stages_failed=0

# ctest's "NN% tests passed, F tests failed out of T" -> add T-F passed and F failed.
count_ctest() { # logfile
  local line t f
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1)
  if [ -z "$line" ]; then
    failed=$((failed + 1)) # no summary at all: the stage broke before testing
    return
  fi
  f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  t=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + t - f))
  failed=$((failed + f))
}

build_and_ctest() { # builddir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DMQTLS_WERROR=ON "$@" >/dev/null &&
    cmake --build "$dir" -j "$JOBS" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 300) 2>&1 | tee "$dir.ctest.log"
  return "${PIPESTATUS[0]}"
}

stage() { # name, builddir-or-"", command...
  local name=$1 dir=$2; shift 2
  echo "=== mqtls test stage: $name"
  rm -f "$dir.ctest.log"
  if "$@"; then :; else stages_failed=$((stages_failed + 1)); echo "=== stage FAILED: $name"; fi
  if [ -n "$dir" ]; then
    if [ -f "$dir.ctest.log" ]; then count_ctest "$dir.ctest.log"; else failed=$((failed + 1)); fi
  fi
}

stage "build + ctest (gcc)" build build_and_ctest build
# The Debian packages: built from a copy of the tree (dpkg-buildpackage -us -uc, lintian clean of
# errors; about 45 s on 2 cores), installed with dpkg and used, then purged (about 25 s).
deb_stage() {
  scripts/build-deb.sh build-deb && bash tests/integration/deb/test_deb.sh build-deb
}
echo "=== mqtls test stage: Debian packages"
if deb_stage 2>&1 | tee build-deb.test.log; then :; else stages_failed=$((stages_failed + 1)); echo "=== stage FAILED: deb"; fi
deb_line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed' build-deb.test.log | tail -n 1)
if [ -n "$deb_line" ]; then
  passed=$((passed + $(sed -E 's/# ([0-9]+) passed.*/\1/' <<<"$deb_line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$deb_line")))
else
  failed=$((failed + 1)) # the packages did not build
fi
# clang here: the tree must be -Werror clean with clang too, and its UBSan catches more.
stage "asan+ubsan + ctest (clang)" build-asan build_and_ctest build-asan -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=Debug -DMQTLS_SANITIZE=address,undefined
stage "tsan + ctest of the threaded tests (clang)" build-tsan scripts/tsan.sh
if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "=== mqtls test stage: fuzz (${FUZZ_SECONDS}s per target)"
  targets=$(grep -c 'mqtls_add_fuzz_target\|add_executable(fuzz_' tests/fuzz/CMakeLists.txt || true)
  if scripts/fuzz.sh "$FUZZ_SECONDS"; then
    passed=$((passed + ${targets:-1}))
  else
    failed=$((failed + 1)); stages_failed=$((stages_failed + 1)); echo "=== stage FAILED: fuzz"
  fi
fi

echo "mqtls: every test of every stage (three ctest builds, fuzz targets):"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$stages_failed" -eq 0 ]
