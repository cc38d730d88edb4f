#!/usr/bin/env bash
# Build every libFuzzer target with clang and run each for SECONDS (default 25: with eight
# targets the fuzz stage of `make test` stays near 4 minutes; run longer by hand, e.g. 600).
#   scripts/fuzz.sh [SECONDS]
# The repo corpus (tests/fuzz/corpus/<name>) is copied to a scratch dir first, so fuzzing
# never mutates the checked-in seeds. Crash inputs land in build-fuzz/artifacts/.
# Exit status: 0 if no target crashed, 1 on a crash, 2 on a build failure.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-25}
BUILD=build-fuzz
JOBS=$(nproc 2>/dev/null || echo 2)
# Fuzz targets compile the code they fuzz into themselves (for coverage); only the fuzz
# targets are built.

if ! command -v clang >/dev/null 2>&1; then
  echo "mqtls fuzz: FAILED: clang not found (libFuzzer needs clang)"
  exit 2
fi
if ! CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQTLS_BUILD_FUZZ=ON \
    -DMQTLS_BUILD_TESTS=OFF -DMQTLS_BUILD_TOOLS=OFF -DMQTLS_BUILD_EXAMPLES=OFF \
    -DMQTLS_WITH_MBEDTLS3=OFF >"$BUILD.configure.log" 2>&1; then
  cat "$BUILD.configure.log"
  echo "mqtls fuzz: FAILED: cmake configure (see $BUILD.configure.log)"
  exit 2
fi
targets=$(sed -n 's/^add_executable(\(fuzz_[a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
if [ -z "$targets" ]; then
  echo "mqtls fuzz: FAILED: no fuzz_* targets in tests/fuzz/CMakeLists.txt"
  exit 2
fi
# shellcheck disable=SC2086
if ! cmake --build "$BUILD" -j "$JOBS" --target $targets >"$BUILD.build.log" 2>&1; then
  cat "$BUILD.build.log"
  echo "mqtls fuzz: FAILED: build (see $BUILD.build.log)"
  exit 2
fi

mkdir -p "$BUILD/artifacts"
failed=0
ran=0
for t in $targets; do
  corpus_name=${t#fuzz_}         # fuzz_tls_records -> tls_records (its own corpus, if any)
  if [ ! -d "tests/fuzz/corpus/$corpus_name" ]; then
    corpus_name=${corpus_name%%_*} # fuzz_packet_decode -> packet (shared by packet_*)
  fi
  seeds=tests/fuzz/corpus/$corpus_name
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/mqtls-fuzz-$t.XXXXXX")
  if [ -d "$seeds" ]; then cp -r "$seeds"/. "$scratch"/; fi
  echo "=== $t: ${SECONDS_PER_TARGET}s, seeds from $seeds ($(ls "$scratch" | wc -l) files)"
  "$BUILD/tests/fuzz/$t" "$scratch" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
    >"$BUILD/$t.log" 2>&1
  rc=$?
  tail -n 15 "$BUILD/$t.log"
  ran=$((ran + 1))
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    echo "=== $t: CRASH (exit $rc); reproducer: $(ls -t "$BUILD"/artifacts/"$t"-* 2>/dev/null | head -1)"
    echo "=== $t: corpus kept in $scratch"
  else
    echo "=== $t: ok, corpus grew to $(ls "$scratch" | wc -l) files"
    rm -rf "$scratch"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "mqtls fuzz: FAILED: $failed of $ran targets crashed (artifacts in $BUILD/artifacts)"
  exit 1
fi
echo "mqtls fuzz: OK: $ran targets, ${SECONDS_PER_TARGET}s each, no crash"
exit 0
