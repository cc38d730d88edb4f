#!/usr/bin/env bash
# Install the Debian 12 packages mqtls needs to build, test, fuzz and benchmark.
# As root: installs what is missing. Otherwise: prints the exact apt-get line and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # compiler and build
  libmbedtls-dev                            # TLS: the mbedtls2 engine (2.28 on Debian 12)
  libssl-dev                                # TLS: the openssl engine (OpenSSL 3); the libmosquitto storm peer
  zlib1g-dev                                # crc32() of the persistence log
  dpkg-dev debian-archive-keyring           # apt-get source of mbedTLS 3.6 (fetch-mbedtls3.sh)
  libcmocka-dev                             # unit tests
  mosquitto mosquitto-clients               # the real broker + interop clients in tests
  rabbitmq-server                           # RabbitMQ 3.10 cluster tests (MQTT, Web MQTT plugins)
  openssl                                   # test fixtures for broken PKIs, openssl verify
  clang libclang-rt-dev                     # libFuzzer + sanitizers
  valgrind                                  # callgrind / dhat benchmarks
  libmosquitto-dev libpaho-mqtt-dev         # side-by-side benchmarks
  gnuplot-nox                               # mqtls bench --plot (connections, latency over time)
  iproute2                                  # ss, ip: free-port and namespace helpers
  python3                                   # CLI tests: JSON and option-page checks
  websockify                                # WebSocket->TCP bridge for ws:// tests
  dante-server tinyproxy                    # SOCKS5 and HTTP CONNECT proxies for --proxy tests
  abigail-tools                             # abidw/abidiff: the public ABI against its baseline
  scdoc man-db groff-base                   # man pages, generated at build time (tools/mqtls)
  bash-completion zsh                       # the completion tests
  debhelper lintian fakeroot                # dpkg-buildpackage -us -uc (debian/), lintian
  time util-linux                           # GNU time (peak RSS) and prlimit: hostile-input table
  libp11-kit-dev                            # pkcs11: URIs and modules (keys on a token)
  libengine-pkcs11-openssl                  # the openssl engine's keys on a PKCS#11 token
  softhsm2 opensc                           # a PKCS#11 token in tests (softhsm2-util, pkcs11-tool)
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

# Debian's rabbitmq-server starts a default node (rabbit@<host>, 0.0.0.0:5672/25672, epmd 4369) on
# install wherever services may start (systemd, or sysvinit without a denying policy-rc.d; a
# container's policy-rc.d usually denies it). The tests never use it (tests/harness/
# rabbitmq-cluster.sh runs its own nodes, epmd, ports and cookie), so stop and disable it: by
# systemctl where systemd runs, else by the PID in the init script's pid file.
# dante-server and tinyproxy enable their system services the same way; the tests run their own
# daemons (temp configs, own ports, stopped by PID), so the default ones are disabled where they
# could start (policy-rc.d usually denies them in containers).
for svc in danted tinyproxy; do
  if [[ " ${missing[*]} " == *" ${svc/danted/dante-server} "* ]] &&
    [ "$(ps -o comm= -p 1 2>/dev/null)" = systemd ]; then
    systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
  fi
done

if [[ " ${missing[*]} " == *" rabbitmq-server "* ]]; then
  if [ "$(ps -o comm= -p 1 2>/dev/null)" = systemd ]; then
    systemctl disable --now rabbitmq-server.service >/dev/null 2>&1 || true
  else
    pid=$(cat /var/run/rabbitmq/pid 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "mqtls: stopping the rabbitmq-server default node the package started (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
  fi
fi
