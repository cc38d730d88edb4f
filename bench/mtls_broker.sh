# Sourced by bench/storm.sh and bench/fleet.sh: a local mosquitto (127.0.0.1 only) with mutual
# TLS for many connections: `max_connections -1`, persistence off, and an open-file limit of
# N + 1024 for the broker itself (`ulimit -n` in its subshell: one descriptor per connection).
# mtls_broker_start TMP N: TMP/pki must hold ca.crt, server.crt, server.key (mqtls pki); writes
# TMP/mosquitto.conf, logs to TMP/mosquitto.log; sets PORT and BROKER (the PID, to stop it by).
mtls_broker_start() {
  local tmp=$1 n=$2
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  {
    [ "$(id -u)" = 0 ] && echo "user root" # as root, mosquitto drops to a user who cannot read $tmp
    echo "per_listener_settings false"
    echo "max_connections -1"
    echo "persistence false"
    echo "log_dest file $tmp/mosquitto.log"
    echo "listener $PORT 127.0.0.1"
    echo "cafile $tmp/pki/ca.crt"
    echo "certfile $tmp/pki/server.crt"
    echo "keyfile $tmp/pki/server.key"
    echo "require_certificate true"
    echo "use_identity_as_username true"
  } >"$tmp/mosquitto.conf"
  (ulimit -n $((n + 1024)) 2>/dev/null; exec mosquitto -c "$tmp/mosquitto.conf" >/dev/null 2>&1) &
  BROKER=$!
  local _
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: mosquitto did not start ($tmp/mosquitto.log)" >&2
  return 1
}
