#!/usr/bin/env bash
# ThreadSanitizer: a clang -fsanitize=thread build of the library and of every test that runs
# threads (the client runtime and its loop, the resolver threads, the threaded runner against a
# real mosquitto, the esp-mqtt shim), run under ctest. Any report fails the test (TSan exits
# with 66; halt_on_error stops at the first one).
#   scripts/tsan.sh            build into build-tsan and run the tests
# Stage 3 of scripts/run-tests.sh (`make test`) and `make tsan`. Exit status: ctest's.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${MQTLS_TSAN_BUILD:-build-tsan}
JOBS=$(nproc 2>/dev/null || echo 2)
# One list: the tests with threads. A name that no longer exists fails the build step below.
TESTS=(test_runtime test_loop test_net_transport test_net_mosquitto test_client_mosquitto
  test_client_reliability test_esp test_esp_v4)

if ! command -v clang >/dev/null 2>&1; then
  echo "mqtls tsan: FAILED: clang not found"
  exit 2
fi
# mbedTLS 3.6 and the examples have no threads of their own: not built here (time).
if ! cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DMQTLS_WERROR=ON -DMQTLS_SANITIZE=thread \
    -DMQTLS_WITH_MBEDTLS3=OFF -DMQTLS_BUILD_EXAMPLES=OFF >"$BUILD.configure.log" 2>&1; then
  cat "$BUILD.configure.log"
  echo "mqtls tsan: FAILED: cmake configure (see $BUILD.configure.log)"
  exit 2
fi
if ! cmake --build "$BUILD" -j "$JOBS" --target "${TESTS[@]}" >"$BUILD.build.log" 2>&1; then
  cat "$BUILD.build.log"
  echo "mqtls tsan: FAILED: build (see $BUILD.build.log)"
  exit 2
fi
regex="^($(IFS='|'; echo "${TESTS[*]}"))\$"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
(cd "$BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 300 -R "$regex") 2>&1 |
  tee "$BUILD.ctest.log"
rc=${PIPESTATUS[0]}
ran=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#' "$BUILD.ctest.log" || true)
if [ "$ran" -ne "${#TESTS[@]}" ]; then
  echo "mqtls tsan: FAILED: ran $ran of ${#TESTS[@]} tests (a name in scripts/tsan.sh is stale)"
  exit 1
fi
exit "$rc"
