#!/usr/bin/env bash
# The layers of docs/architecture.md, checked on the sources: which src/ module may include
# which (internal headers "<module>/x.h"), which public headers the sans-I/O modules may use,
# and that they touch no OS, clock or TLS library. Prints "N passed, N failed".
#   scripts/check-layers.sh [SOURCE_DIR]
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
passed=0
failed=0
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
ok() { passed=$((passed + 1)); echo "ok   $*"; }

# module -> the modules below it that it may include (its own is always allowed)
declare -A may=(
  [common]=""
  [packet]="common"
  [client]="common packet"
  [x509]="common"
  [diag]="common x509 packet"
  [explain]="common diag packet x509"
  [net]="common x509"
  [pki]="common x509"
  [auth]="common"
  [runtime]="common packet client x509 diag net auth"
)
for m in "${!may[@]}"; do
  [ -d "src/$m" ] || { bad "src/$m is listed but missing"; continue; }
  used=$(grep -ho '#include "[a-z0-9_]*/' src/"$m"/*.[ch] 2>/dev/null | sed 's/#include "//; s/\///' |
         grep -v -x -e mqtls -e mbedtls -e openssl -e psa -e "$m" | sort -u)
  wrong=""
  for u in $used; do
    case " ${may[$m]} " in *" $u "*) ;; *) wrong="$wrong $u";; esac
  done
  if [ -n "$wrong" ]; then bad "src/$m includes internals of:$wrong (allowed: ${may[$m]:-none})"
  else ok "src/$m includes only ${may[$m]:-nothing below it}"; fi
done
for d in src/*/; do
  m=$(basename "$d")
  [ -n "${may[$m]+x}" ] || bad "src/$m is not in the layer table of scripts/check-layers.sh"
done

# Sans-I/O: packet and client see no OS, clock, thread or TLS header, and no public header of
# a layer above them.
for m in packet client; do
  hits=$(grep -n -E '#include <(sys/|unistd|pthread|poll|time\.h|fcntl|netdb|arpa/|netinet/|mbedtls/|openssl/|stdio\.h)|#include "mqtls/(client|tls|tls_facts|diag|explain|pki|certinfo)\.h"' src/"$m"/*.[ch])
  if [ -n "$hits" ]; then bad "src/$m touches the OS / TLS / upper layers:"; echo "$hits" | sed 's/^/     /'
  else ok "src/$m is sans-I/O (no OS, clock, TLS or upper-layer header)"; fi
  calls=$(grep -n -E '\b(malloc|calloc|realloc|free|time|clock_gettime|gettimeofday|read|write|send|recv)\(' src/"$m"/*.c)
  if [ -n "$calls" ]; then bad "src/$m allocates or calls the OS:"; echo "$calls" | sed 's/^/     /'
  else ok "src/$m makes no allocation and no OS call"; fi
done

# The CLI and the esp-mqtt shim use the public API only (the linker enforces the symbols; this
# checks the headers).
for d in tools/mqtls compat/esp-mqtt; do
  hits=$(grep -n -E '#include "(common|packet|client|x509|diag|explain|net|pki|runtime)/' "$d"/*.[ch])
  if [ -n "$hits" ]; then bad "$d includes internal headers:"; echo "$hits" | sed 's/^/     /'
  else ok "$d includes only public headers"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
