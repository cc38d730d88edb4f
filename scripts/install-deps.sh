#!/usr/bin/env bash
# Install the Debian 12 packages mqtls needs to build, test, fuzz and benchmark.
# As root: installs what is missing. Otherwise: prints the exact apt-get line and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # compiler and build
  libmbedtls-dev                            # TLS (2.28 on Debian 12)
  dpkg-dev debian-archive-keyring           # apt-get source of mbedTLS 3.6 (fetch-mbedtls3.sh)
  libcmocka-dev                             # unit tests
  mosquitto mosquitto-clients               # the real broker + interop clients in tests
  openssl                                   # test fixtures for broken PKIs, openssl verify
  clang libclang-rt-dev                     # libFuzzer + sanitizers
  valgrind                                  # callgrind / dhat benchmarks
  libmosquitto-dev libpaho-mqtt-dev         # side-by-side benchmarks
  iproute2                                  # ss, ip: free-port and namespace helpers
  python3                                   # CLI tests: JSON and option-page checks
  websockify                                # WebSocket->TCP bridge for ws:// tests
  abigail-tools                             # abidw/abidiff: the public ABI against its baseline
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "mqtls: missing packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "mqtls: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
