#!/usr/bin/env bash
# The Debian packages, installed and used: dpkg -i the four .debs scripts/build-deb.sh made,
# then `mqtls pub` over mutual TLS to a real mosquitto (and mosquitto_sub receives it), a
# program built with `pkg-config mqtls` (the README's snippet, and a static one), the esp-mqtt
# shim's pkg-config, `man mqtls-pub` and the completion. The packages are purged at the end
# (only those this test installed).
#   test_deb.sh DEB_DIR            (root; scripts/run-tests.sh's "deb" stage)
set -u
debs=${1:?directory with the .debs}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
export SRC MQTLS=/usr/bin/mqtls
source "$SRC/tests/integration/cli/lib.sh"
pkgs=(libmqtls1 libmqtls-dev libmqtls-esp-mqtt-dev mqtls)
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "test_deb: $p is installed already; not touching the system"; exit 1
  fi
done
deb_cleanup() {
  dpkg --purge "${pkgs[@]}" >/dev/null 2>&1
  cli_cleanup
}
trap deb_cleanup EXIT

check "dpkg -i the four packages" dpkg -i "$debs"/libmqtls1_*.deb "$debs"/libmqtls-dev_*.deb \
  "$debs"/libmqtls-esp-mqtt-dev_*.deb "$debs"/mqtls_*.deb
check "mqtls --version names the library and mbedTLS" bash -c \
  "mqtls --version | grep -q '^mqtls [0-9]' && mqtls --version | grep -q 'mbed TLS'"
check "/usr/bin/mqtls: no RUNPATH, libmqtls.so.1 from the package" bash -c \
  "! readelf -d /usr/bin/mqtls | grep -q RUNPATH && ldd /usr/bin/mqtls | grep -Eq 'libmqtls.so.1 => /(usr/)?lib/'"

cli_setup
timeout 10 mosquitto_sub "${MTLS_MOSQ[@]}" -i deb-sub -t deb/t -C 1 -q 1 > "$T/sub.out" &
spid=$!
wait_subscribed deb-sub
check "installed mqtls pub -> mosquitto over mutual TLS (QoS 1)" \
  timeout 10 mqtls pub "${TLS[@]}" -t deb/t -q 1 -m from-the-deb
wait "$spid"
check "mosquitto_sub got it" bash -c "[ \"\$(cat '$T/sub.out')\" = from-the-deb ]"

awk '/^```c$/ && !done {on=1; next} on && /^```$/ {on=0; done=1} on' "$SRC/README.md" > "$T/readme.c"
check "pkg-config mqtls: the README's program builds" bash -c \
  "cc -std=c11 -Wall -Wextra -Werror '$T/readme.c' -o '$T/readme' \$(pkg-config --cflags --libs mqtls)"
cat > "$T/ver.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <mqtls/mqtls.h>
int main(void)
{
    printf("%s %s\n", mqtls_version(), mqtls_tls_library_version());
    return strcmp(mqtls_version(), MQTLS_VERSION_STRING) == 0 ? 0 : 1;
}
C
check "pkg-config mqtls: a program runs against libmqtls1" bash -c \
  "cc -std=c11 '$T/ver.c' -o '$T/ver' \$(pkg-config --cflags --libs mqtls) && '$T/ver'"
check "static: libmqtls.a with pkg-config --static" bash -c \
  "cc -std=c11 '$T/ver.c' -o '$T/ver-static' \$(pkg-config --cflags mqtls) -Wl,-Bstatic -lmqtls \
     -Wl,-Bdynamic \$(pkg-config --libs-only-l --static mqtls | sed 's/-lmqtls //') &&
   ! ldd '$T/ver-static' | grep -q libmqtls && '$T/ver-static'"
check "pkg-config mqtls-esp-mqtt finds the shim" bash -c \
  "pkg-config --exists mqtls-esp-mqtt && [ -f /usr/include/mqtls/esp-mqtt/mqtt_client.h ]"
check "man mqtls-pub works after installing the .deb" bash -c \
  "MANWIDTH=100 man mqtls-pub 2>/dev/null | grep -q -- '--cafile' && man -w libmqtls >/dev/null"
check "man pages and completion from the package (docs_check.sh)" \
  bash "$SRC/tests/integration/cli/docs_check.sh" /usr
finish
