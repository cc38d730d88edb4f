#!/usr/bin/env bash
# What a user gets from `cmake --install`: headers, libmqtls.so, mqtls.pc, the CMake package,
# and the esp-mqtt shim (libmqtls-esp-mqtt.so, mqtls-esp-mqtt.pc, mqtls-esp-embed). Builds a
# program against the installed tree three ways and runs each.
#   test_install.sh BUILD_DIR SOURCE_DIR [SANITIZERS]
# With SANITIZERS (the build's MQTLS_SANITIZE), the consumers are built with the same
# -fsanitize flags: an instrumented libmqtls.so needs the sanitizer runtime in the program.
set -euo pipefail
build=${1:?build dir}
src=${2:?source dir}
san=${3:-}
export CFLAGS=${san:+-fsanitize=$san}
export LDFLAGS=${san:+-fsanitize=$san}
tmp=$(mktemp -d /tmp/mqtls-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # name, command...
  local name=$1; shift
  if "$@" >"$tmp/out.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$tmp/out.log"
  fi
}

prefix=$tmp/prefix
check "cmake --install" cmake --install "$build" --prefix "$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig
libdir=$(pkg-config --variable=libdir mqtls)
export LD_LIBRARY_PATH=$libdir

check "headers installed" test -f "$prefix/include/mqtls/mqtls.h" -a -f "$prefix/include/mqtls/esp-mqtt/mqtt_client.h"
check "no internal header installed" bash -c "! ls '$prefix/include/mqtls' | grep -q internal"

# 1. pkg-config mqtls: a program using only the public API.
cat > "$tmp/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <mqtls/mqtls.h>
int main(void)
{
    mqtls_uri_t u;
    if (mqtls_uri_parse("mqtts://[::1]:8884", &u) != MQTLS_OK || !u.tls || u.port != 8884) {
        return 1;
    }
    /* nothing listens on port 1: a structured error, not a crash */
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = "mqtt://127.0.0.1:1";
    cfg.reconnect.enabled = false;
    mqtls_client_t *c = NULL;
    if (mqtls_client_create(&cfg, NULL, &c) != MQTLS_OK || mqtls_client_connect(c) != MQTLS_OK) {
        return 2;
    }
    for (int i = 0; i < 50 && mqtls_client_state(c) != MQTLS_STATE_IDLE; i++) {
        mqtls_client_step(c, 20);
    }
    mqtls_error_t e;
    mqtls_client_last_error(c, &e);
    printf("%s %s\n", mqtls_layer_name(e.layer), mqtls_status_name(e.status));
    mqtls_client_destroy(c);
    return e.status == MQTLS_ERR_CONN_REFUSED ? 0 : 3;
}
C
check "pkg-config mqtls: build" bash -c "\${CC:-cc} \$CFLAGS -std=c11 -Wall -Werror '$tmp/app.c' -o '$tmp/app' \$(pkg-config --cflags --libs mqtls)"
check "pkg-config mqtls: run (tcp MQTLS_ERR_CONN_REFUSED)" "$tmp/app"

# 1b. The README's library snippet, exactly as printed there, builds against the installed tree.
awk '/^```c$/ && !done {on=1; next} on && /^```$/ {on=0; done=1} on' "$src/README.md" > "$tmp/readme.c"
check "README snippet extracted" test -s "$tmp/readme.c"
check "README snippet: build with pkg-config" bash -c "\${CC:-cc} \$CFLAGS -std=c11 -Wall -Wextra -Werror '$tmp/readme.c' -o '$tmp/readme' \$(pkg-config --cflags --libs mqtls)"

# 1c. The shared library's SONAME is libmqtls.so.<MAJOR of version.h>; installed programs find
#     it through their RUNPATH ($ORIGIN/../lib), with no LD_LIBRARY_PATH.
major=$(sed -n 's/^#define MQTLS_VERSION_MAJOR \([0-9]*\)/\1/p' "$src/include/mqtls/version.h")
check "SONAME libmqtls.so.$major" bash -c "readelf -d '$libdir/libmqtls.so' | grep -q 'SONAME.*libmqtls.so.$major\]'"
check "installed mqtls runs without LD_LIBRARY_PATH (RUNPATH)" bash -c "env -u LD_LIBRARY_PATH '$prefix/bin/mqtls' --help >/dev/null"

# 1d. Man pages (generated from the option pages at build time) and shell completion.
check "man pages render, man mqtls-pub by name, bash/zsh completion (docs_check.sh)" \
  bash "$src/tests/integration/cli/docs_check.sh" "$prefix"
check "mqtls-esp-embed --help prints help, writes no file" bash -c \
  "cd '$tmp' && '$prefix/bin/mqtls-esp-embed' --help | grep -q usage && [ ! -e '$tmp/--help' ]"

# 1e. libmqtls.a: only the public API is global, and a program links with it alone.
check "libmqtls.a exports exactly the shared library's API" bash -c \
  "diff <(nm -g --defined-only '$libdir/libmqtls.a' | awk 'NF==3{print \$3}' | sort) \
        <(nm -D --defined-only '$libdir/libmqtls.so' | awk '\$2==\"T\"{print \$3}' | sort)"
check "static build with pkg-config --static: no libmqtls.so needed" bash -c \
  "\${CC:-cc} \$CFLAGS -std=c11 '$tmp/app.c' -o '$tmp/app-static' \$(pkg-config --cflags mqtls) \
     '$libdir/libmqtls.a' \$(pkg-config --libs-only-l --static mqtls | sed 's/-lmqtls //') &&
   ! ldd '$tmp/app-static' | grep -q libmqtls && env -u LD_LIBRARY_PATH '$tmp/app-static'"

# 2. find_package(mqtls) + mqtls::mqtls
mkdir -p "$tmp/cm"
cp "$tmp/app.c" "$tmp/cm/app.c"
cat > "$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(mqtls REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE mqtls::mqtls)
CM
check "find_package(mqtls): configure + build" bash -c "cmake -S '$tmp/cm' -B '$tmp/cm/b' -DCMAKE_PREFIX_PATH='$prefix' && cmake --build '$tmp/cm/b'"
check "find_package(mqtls): run" "$tmp/cm/b/app"

# 3. The issue's line for ESP-IDF code: embed the PEMs, then
#    cc -DMQTLS_ESP_IDF_V4_CONFIG app_main.c certs.o $(pkg-config --cflags --libs mqtls-esp-mqtt)
ex=$src/examples/esp-idf/ssl_mutual_auth
bash "$src/tests/harness/make-pki.sh" "$tmp/pki" >/dev/null
cp "$tmp/pki/ca.crt" "$tmp/pki/client.crt" "$tmp/pki/client.key" "$tmp/"
check "mqtls-esp-embed certs.o" bash -c "cd '$tmp' && '$prefix/bin/mqtls-esp-embed' certs.o --txt ca.crt --txt client.crt --txt client.key"
check "embedded symbols (TXT adds the NUL)" bash -c "nm '$tmp/certs.o' | grep -q ' _binary_client_crt_start' && nm '$tmp/certs.o' | grep -q ' client_key_length'"
check "cc -DMQTLS_ESP_IDF_V4_CONFIG app_main.c certs.o \$(pkg-config ... mqtls-esp-mqtt)" bash -c "cd '$tmp' && \${CC:-cc} \$CFLAGS -DMQTLS_ESP_IDF_V4_CONFIG -I'$ex' '$ex/main/app_main.c' '$ex/linux_main.c' certs.o \$(pkg-config --cflags --libs mqtls-esp-mqtt) -o esp_app"
# Run it against a closed port: the device-style error and mqtls's finding, then exit.
check "esp app runs: MQTT_EVENT_ERROR + connection-refused finding" bash -c "MQTT_BROKER_URI=mqtts://127.0.0.1:1 MQTLS_EXAMPLE_RUN_S=2 timeout 20 '$tmp/esp_app' 2>&1 | tee '$tmp/esp.log' >/dev/null; grep -q 'MQTT_EVENT_ERROR' '$tmp/esp.log' && grep -q '\[connection-refused\]' '$tmp/esp.log'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
