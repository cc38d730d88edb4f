#!/usr/bin/env bash
# rabbitmq-cluster.sh — a RabbitMQ 3.10 cluster (Debian 12's rabbitmq-server) on 127.0.0.1 for tests.
#
#   start DIR [NODES]    make DIR, a PKI, one config per node, start NODES nodes (default 3), join
#                        nodes 2..N to node 1, wait until cluster_status lists N running nodes;
#                        prints and writes DIR/cluster.env (ports, node names, certificate paths)
#   stop DIR             end every process start made (beam.smp per node, its wrapper, the private
#                        epmd), by PID; works after a half-failed start too. Keeps DIR (logs).
#   status DIR           each node's PID and liveness, then running_nodes as the cluster reports it
#   kill NODE_INDEX DIR  SIGKILL that node's beam.smp (a crash, for failover tests)
#   restart NODE_INDEX DIR  start that node again (stopping it first if it runs) and wait until the
#                        cluster reports every node running again
#
# Everything lives in DIR: node names mqtls-<tag>-r<i>@localhost, a private Erlang cookie
# (HOME=DIR/home for rabbitmq-server and rabbitmqctl), a private epmd on a free port
# (ERL_EPMD_PORT), mnesia/log dirs, config files, free ports for AMQP, Erlang distribution, MQTT,
# MQTTS, Web MQTT and Web MQTT over TLS — all bound to 127.0.0.1. Nothing of the system's own
# rabbitmq service (node rabbit@<host>, /etc/rabbitmq, /var/lib/rabbitmq, epmd on 4369) is used
# or touched. Every wait has a deadline. Processes are ended by PID only, after checking that the
# PID's command line still names this cluster.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RMQ_BIN=${MQTLS_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
BOOT_DEADLINE_S=${MQTLS_RABBIT_BOOT_DEADLINE_S:-150} # one node booting / rejoining, slow machine
CTL_TIMEOUT_S=${MQTLS_RABBIT_CTL_TIMEOUT_S:-90}       # one rabbitmqctl call
STOP_DEADLINE_S=20

say() { echo "rabbitmq-cluster: $*" >&2; }
die() { say "$*"; exit 1; }
usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- ports -------------------------------------------------------------------------------------
# A cluster needs 6 ports per node plus epmd's, picked here and bound by the nodes seconds later
# (tens of seconds when three nodes boot on two busy cores). Two things could take a port in that
# window, and each was seen as a node failing to boot with eaddrinuse:
#  - another picker that probes the same numbers: the other RabbitMQ tests (cluster, failover, ws
#    run side by side under ctest -j) and the mosquitto-based tests, whose pickers (lib.sh,
#    scenarios/*.sh, client_ws) draw from 20000-59999, which held this harness's old range;
#  - the kernel, which hands out 32768-60999 as source ports of outgoing connections.
# So this harness draws from its own range, 10000-19999 (MQTLS_RABBIT_PORT_MIN/MAX): no other test
# picker uses it and it is below the ephemeral range. And each port is reserved across processes:
# an flock on PORT_LOCKS/<port>, taken here and held by the open descriptor, which epmd and every
# node inherit, so the lock lasts exactly as long as the cluster's processes (released by the
# kernel when the last one exits, even after a crash: nothing to clean up). A concurrent start
# skips a locked port before it even probes it.
PORT_MIN=${MQTLS_RABBIT_PORT_MIN:-10000}
PORT_MAX=${MQTLS_RABBIT_PORT_MAX:-19999}
PORT_LOCKS=${MQTLS_RABBIT_PORT_LOCKS:-${TMPDIR:-/tmp}/mqtls-rabbitmq-ports}
TAKEN=" "
port_is_free() { # port
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null &&
    ! { command -v ss >/dev/null && ss -Htan "sport = :$1" | grep -q .; }
}
# pick_port VAR: a port of PORT_MIN..PORT_MAX nothing listens on (nor lingers on in TIME_WAIT),
# locked for this cluster, into VAR. Not in a $(...) subshell: the lock's descriptor must stay
# open in this shell, for the processes it starts to inherit.
pick_port() { # variable name
  local p fd span=$((PORT_MAX - PORT_MIN + 1))
  mkdir -p "$PORT_LOCKS" 2>/dev/null && [ -w "$PORT_LOCKS" ] ||
    die "cannot write the port lock folder $PORT_LOCKS (MQTLS_RABBIT_PORT_LOCKS)"
  for _ in $(seq 400); do
    p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % span))
    case "$TAKEN" in *" $p "*) continue ;; esac
    exec {fd}>>"$PORT_LOCKS/$p" || continue
    if flock -n "$fd" && port_is_free "$p"; then
      TAKEN="$TAKEN$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
    exec {fd}>&- # held by another cluster, or in use: let it go
  done
  die "no free port in $PORT_MIN-$PORT_MAX after 400 tries"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- state -------------------------------------------------------------------------------------
load_state() { # DIR
  DIR=$(cd "$1" 2>/dev/null && pwd) || die "no such cluster dir: $1"
  [ -f "$DIR/.state.env" ] || die "$DIR holds no cluster (no .state.env)"
  # shellcheck source=/dev/null
  . "$DIR/.state.env"
}
v() { eval "echo \"\${$1}\""; } # value of a variable by name: v RMQ_N1_MQTT
node_name() { v "RMQ_N$1_NAME"; }

# The environment of node $1 for rabbitmq-server and rabbitmqctl (call in a subshell).
node_env() {
  local i=$1 nd="$DIR/r$1"
  export HOME="$DIR/home"                      # $HOME/.erlang.cookie: the private cookie
  export ERL_EPMD_PORT="$RMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_CONF_ENV_FILE="$nd/rabbitmq-env.conf" # not /etc/rabbitmq/rabbitmq-env.conf
  export RABBITMQ_NODENAME; RABBITMQ_NODENAME=$(node_name "$i")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT; RABBITMQ_NODE_PORT=$(v "RMQ_N${i}_AMQP")
  export RABBITMQ_DIST_PORT; RABBITMQ_DIST_PORT=$(v "RMQ_N${i}_DIST")
  export RABBITMQ_CONFIG_FILE="$nd/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$nd/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$nd/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$nd/mnesia" RABBITMQ_LOG_BASE="$nd/log"
  export RABBITMQ_MNESIA_DIR; RABBITMQ_MNESIA_DIR="$nd/mnesia/$(node_name "$i")"
  export RABBITMQ_PLUGINS_EXPAND_DIR="$nd/plugins-expand"
  export RABBITMQ_FEATURE_FLAGS_FILE="$nd/feature_flags" RABBITMQ_QUORUM_DIR="$nd/mnesia/quorum"
  export RABBITMQ_PID_FILE="$nd/rabbit.pid" RABBITMQ_LOGS="$nd/log/node.log"
  # Distribution only on 127.0.0.1; no busy-waiting schedulers (3 VMs share 2 cores).
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
  export RABBITMQ_SCHEDULER_BUSY_WAIT_THRESHOLD=none
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
  export RABBITMQ_CTL_DIST_PORT_MIN=35672 RABBITMQ_CTL_DIST_PORT_MAX=35872
}

ctl() { # node-index, rabbitmqctl args... (bounded)
  local i=$1; shift
  (node_env "$i"; exec timeout "$CTL_TIMEOUT_S" "$RMQ_BIN/rabbitmqctl" -n "$(node_name "$i")" -q "$@")
}

# Whether process PID runs and its command line (or, with "env", its environment) holds the exact
# word STRING: a recycled PID is never signalled.
pid_matches() { # pid string [env]
  local src=cmdline
  [ "${3:-}" = env ] && src=environ
  [ -n "$1" ] && [ -r "/proc/$1/$src" ] || return 1
  { tr '\0' '\n' <"/proc/$1/$src"; } 2>/dev/null | grep -qxF -- "$2"
}
# The PID in FILE if pid_matches, else empty.
pid_if_ours() { # file string [env]
  local pid
  [ -f "$1" ] || return 0
  pid=$(tr -dc '0-9' <"$1")
  if pid_matches "$pid" "$2" "${3:-}"; then echo "$pid"; fi
}
node_mark() { echo "RABBITMQ_PID_FILE=$DIR/r$1/rabbit.pid"; } # in the env of a node's processes
# beam.smp gets "-home DIR/home" on its command line (the node name is set later, at boot).
beam_pid() { pid_if_ours "$DIR/r$1/rabbit.pid" "$DIR/home"; }
wrapper_pid() { pid_if_ours "$DIR/r$1/wrapper.pid" "$(node_mark "$1")" env; }
epmd_pid() { pid_if_ours "$DIR/epmd.pid" "$RMQ_EPMD_PORT"; }

# PIDs of node $1, beam.smp first: from its pid file, or (early in the boot, before rabbit wrote
# it) the wrapper's child with the node's environment; then the wrapper shell itself.
node_pids() { # node index
  local b w c
  b=$(beam_pid "$1")
  w=$(wrapper_pid "$1")
  [ -n "$b" ] && echo "$b"
  if [ -n "$w" ]; then
    for c in $(ps -o pid= --ppid "$w" 2>/dev/null); do
      if [ "$c" != "$b" ] && pid_matches "$c" "$(node_mark "$1")" env; then echo "$c"; fi
    done
    echo "$w"
  fi
  return 0
}

# SIGTERM the beam.smp of each node (the wrapper then exits by itself), wait (bounded), SIGKILL
# whatever is left — beams before wrappers, so no beam is ever orphaned.
stop_nodes() { # node indexes...
  local i p pids=()
  for i in "$@"; do
    for p in $(node_pids "$i"); do pids+=("$p"); done
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  reap "$STOP_DEADLINE_S" "${pids[@]}"
}

# Wait (bounded) until none of the PIDs runs; SIGKILL the rest at the deadline.
reap() { # deadline_s pids...
  local secs=$1 deadline=$(($(date +%s) + $1)) p alive; shift
  while :; do
    alive=""
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "still running after ${secs} s, SIGKILL:$alive"
      for p in $alive; do kill -KILL "$p" 2>/dev/null || true; done
      sleep 0.5
      return 0
    fi
    sleep 0.2
  done
}

log_tail() { # node index
  local f
  for f in "$DIR/r$1/log/node.log" "$DIR/r$1/stdout.log"; do
    [ -s "$f" ] && { say "--- last lines of $f"; tail -n 25 "$f" >&2; }
  done
  return 0
}

# ---- PKI and configuration ---------------------------------------------------------------------
make_leaf() { # name cn ext-lines... (signed by DIR/pki/ca, like make-pki.sh)
  local name=$1 cn=$2 p="$DIR/pki"; shift 2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$p/$name.key" 2>/dev/null
  openssl req -new -key "$p/$name.key" -out "$p/$name.csr" -subj "/CN=$cn" 2>/dev/null
  printf '%s\n' "$@" >"$p/$name.ext"
  openssl x509 -req -in "$p/$name.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -out "$p/$name.crt" -days 825 -sha256 -extfile "$p/$name.ext" 2>/dev/null
  rm -f "$p/$name.csr" "$p/$name.ext" "$p/ca.srl"
  chmod 600 "$p/$name.key"
  chmod 644 "$p/$name.crt"
}

make_pki() {
  bash "$HERE/make-pki.sh" "$DIR/pki" >/dev/null # ca, client (CN test-client), other-ca/-client
  local i client=("basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature"
    "extendedKeyUsage=clientAuth")
  for i in $(seq "$RMQ_NODES"); do
    make_leaf "server-r$i" "$(node_name "$i" | cut -d@ -f1)" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
      "subjectAltName=DNS:localhost,IP:127.0.0.1"
  done
  make_leaf client2 test-client-2 "${client[@]}"
  make_leaf nouser mqtls-no-such-user "${client[@]}" # right CA, but no RabbitMQ user has this CN
}

# Users named by the CNs of the client certificates (ssl_cert_login_from = common_name), no
# password (they log in with their certificate only), full rights on vhost "/"; and one password
# user for the listeners without certificates (ws://): mqtls-ws-user / mqtls-ws-secret (the hash is
# RabbitMQ's salted SHA-256 of that password: base64(salt + sha256(salt + password))).
write_definitions() {
  cat >"$DIR/definitions.json" <<'EOF'
{
  "vhosts": [{"name": "/"}],
  "users": [
    {"name": "test-client", "password_hash": "", "tags": ""},
    {"name": "test-client-2", "password_hash": "", "tags": ""},
    {"name": "mqtls-ws-user", "password_hash": "kI3GCgNIiNR3eeulCsb1DCeEzt9eHDsLl0rEiHwwQ3co3lRW",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""}
  ],
  "permissions": [
    {"user": "test-client", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "test-client-2", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "mqtls-ws-user", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
  ]
}
EOF
}

write_node_config() { # node index
  local i=$1 nd="$DIR/r$1" p="$DIR/pki"
  mkdir -p "$nd/mnesia" "$nd/log"
  : >"$nd/rabbitmq-env.conf"
  echo '[rabbitmq_mqtt,rabbitmq_web_mqtt].' >"$nd/enabled_plugins"
  cat >"$nd/rabbitmq.conf" <<EOF
# node $(node_name "$i"), generated by tests/harness/rabbitmq-cluster.sh
listeners.tcp.default = 127.0.0.1:$(v "RMQ_N${i}_AMQP")
load_definitions = $DIR/definitions.json
log.file.level = info
log.console = false

# TLS for every TLS listener of the node (the MQTT plugin's one here): the client must present a
# certificate that chains to our CA.
ssl_options.cacertfile = $p/ca.crt
ssl_options.certfile = $p/server-r$i.crt
ssl_options.keyfile = $p/server-r$i.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
# The user name of a certificate login is the subject's CN (default: the whole DN).
ssl_cert_login_from = common_name

mqtt.listeners.tcp.default = 127.0.0.1:$(v "RMQ_N${i}_MQTT")
mqtt.listeners.ssl.default = 127.0.0.1:$(v "RMQ_N${i}_MQTTS")
mqtt.allow_anonymous = false
mqtt.ssl_cert_login = true
mqtt.vhost = /
mqtt.exchange = amq.topic

web_mqtt.tcp.ip = 127.0.0.1
web_mqtt.tcp.port = $(v "RMQ_N${i}_WS")
EOF
  # 3.10's web_mqtt.ssl.* schema has no verify / fail_if_no_peer_cert keys: the TLS listener's
  # socket options go in as Erlang terms (they reach ranch_ssl unchanged).
  cat >"$nd/advanced.config" <<EOF
[{rabbitmq_web_mqtt, [
  {ssl_config, [{ip, "127.0.0.1"}, {port, $(v "RMQ_N${i}_WSS")},
                {cacertfile, "$p/ca.crt"}, {certfile, "$p/server-r$i.crt"},
                {keyfile, "$p/server-r$i.key"},
                {verify, verify_peer}, {fail_if_no_peer_cert, true}]}]}].
EOF
}

write_state() {
  local i
  {
    echo "# RabbitMQ cluster made by tests/harness/rabbitmq-cluster.sh; sourceable"
    echo "RMQ_DIR=$DIR"
    echo "RMQ_NODES=$RMQ_NODES"
    echo "RMQ_TAG=$RMQ_TAG"
    echo "RMQ_EPMD_PORT=$RMQ_EPMD_PORT"
    echo "RMQ_HOME=$DIR/home"
    echo "RMQ_CA=$DIR/pki/ca.crt"
    echo "RMQ_CLIENT_CN=test-client"
    echo "RMQ_CLIENT_CRT=$DIR/pki/client.crt"
    echo "RMQ_CLIENT_KEY=$DIR/pki/client.key"
    echo "RMQ_CLIENT2_CN=test-client-2"
    echo "RMQ_CLIENT2_CRT=$DIR/pki/client2.crt"
    echo "RMQ_CLIENT2_KEY=$DIR/pki/client2.key"
    echo "RMQ_NOUSER_CN=mqtls-no-such-user"
    echo "RMQ_NOUSER_CRT=$DIR/pki/nouser.crt"
    echo "RMQ_NOUSER_KEY=$DIR/pki/nouser.key"
    echo "RMQ_OTHER_CA_CRT=$DIR/pki/other-ca.crt"
    echo "RMQ_OTHER_CLIENT_CRT=$DIR/pki/other-client.crt"
    echo "RMQ_OTHER_CLIENT_KEY=$DIR/pki/other-client.key"
    for i in $(seq "$RMQ_NODES"); do
      echo "RMQ_N${i}_NAME=$(node_name "$i")"
      local k
      for k in AMQP DIST MQTT MQTTS WS WSS; do echo "RMQ_N${i}_$k=$(v "RMQ_N${i}_$k")"; done
      echo "RMQ_N${i}_LOG=$DIR/r$i/log/node.log"
    done
  } >"$DIR/.state.env"
}

# ---- node lifecycle ----------------------------------------------------------------------------
spawn_node() { # node index
  local i=$1 nd="$DIR/r$1"
  rm -f "$nd/rabbit.pid"
  (node_env "$i"; exec "$RMQ_BIN/rabbitmq-server") >>"$nd/stdout.log" 2>&1 </dev/null &
  echo $! >"$nd/wrapper.pid"
}

# Until every listener of node $1 accepts connections (bounded); fails at once if the node exits.
# Only in the invocation that spawned the node: its wrapper is our own child, so kill -0 on the PID
# we got from $! is enough (its environment, which wrapper_pid checks, is set only once it execs).
wait_node_ports() { # node index
  local i=$1 deadline=$(($(date +%s) + BOOT_DEADLINE_S)) k w
  w=$(cat "$DIR/r$i/wrapper.pid")
  for k in MQTT MQTTS WS WSS; do
    while ! port_open "$(v "RMQ_N${i}_$k")"; do
      if ! kill -0 "$w" 2>/dev/null; then
        say "node $i ($(node_name "$i")) exited while booting"; log_tail "$i"; return 1
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        say "node $i: $k port $(v "RMQ_N${i}_$k") not open after ${BOOT_DEADLINE_S}s"; log_tail "$i"
        return 1
      fi
      sleep 0.3
    done
  done
}

# running_nodes as node $1 sees it, one per line (empty if it cannot tell).
running_nodes() { # node index
  ctl "$1" cluster_status --formatter json 2>/dev/null |
    python3 -c 'import json,sys; [print(n) for n in json.load(sys.stdin).get("running_nodes", [])]' \
      2>/dev/null || true
}

wait_running() { # node index to ask, expected count
  local deadline=$(($(date +%s) + BOOT_DEADLINE_S)) n
  while :; do
    n=$(running_nodes "$1" | grep -c . || true)
    [ "$n" -eq "$2" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "cluster_status on node $1 lists $n running nodes, want $2 (deadline ${BOOT_DEADLINE_S}s)"
      return 1
    fi
    sleep 1
  done
}

join_node() { # node index
  ctl "$1" stop_app >/dev/null && ctl "$1" join_cluster "$(node_name 1)" >/dev/null &&
    ctl "$1" start_app >/dev/null
}

# ---- commands ----------------------------------------------------------------------------------
cmd_start() { # DIR [NODES]
  local arg=$1 nodes=${2:-3} i k t0
  [[ "$nodes" =~ ^[1-9]$ ]] || die "NODES must be 1..9, got '$nodes'"
  [[ "$arg" != *[[:space:]]* ]] || die "DIR must not contain spaces"
  command -v "$RMQ_BIN/rabbitmq-server" >/dev/null || [ -x "$RMQ_BIN/rabbitmq-server" ] ||
    die "no $RMQ_BIN/rabbitmq-server: install rabbitmq-server (scripts/install-deps.sh)"
  mkdir -p "$arg"
  DIR=$(cd "$arg" && pwd)
  [ ! -e "$DIR/.state.env" ] || die "$DIR already holds a cluster; stop it and use a new dir"
  t0=$(date +%s%N)
  RMQ_NODES=$nodes
  RMQ_TAG=$(LC_ALL=C tr -dc 'a-z0-9' </dev/urandom | head -c 6 || true)
  pick_port RMQ_EPMD_PORT
  for i in $(seq "$nodes"); do
    eval "RMQ_N${i}_NAME=mqtls-$RMQ_TAG-r$i@localhost"
    for k in AMQP DIST MQTT MQTTS WS WSS; do pick_port "RMQ_N${i}_$k"; done
  done
  write_state
  # From here on, a failure stops whatever was started.
  trap 'if [ $? -ne 0 ]; then say "start failed; stopping what it started"; cmd_stop_loaded; fi' EXIT

  mkdir -p "$DIR/home"
  (umask 077; LC_ALL=C tr -dc '[:upper:]' </dev/urandom | head -c 32 >"$DIR/home/.erlang.cookie" || true)
  chmod 400 "$DIR/home/.erlang.cookie"
  make_pki
  write_definitions
  for i in $(seq "$nodes"); do write_node_config "$i"; done

  # A private epmd: ours to stop, and no clash with the system's on 4369.
  epmd -address 127.0.0.1 -port "$RMQ_EPMD_PORT" >"$DIR/epmd.log" 2>&1 </dev/null &
  echo $! >"$DIR/epmd.pid"
  for _ in $(seq 100); do port_open "$RMQ_EPMD_PORT" && break; sleep 0.1; done
  port_open "$RMQ_EPMD_PORT" || die "epmd did not listen on 127.0.0.1:$RMQ_EPMD_PORT"

  for i in $(seq "$nodes"); do spawn_node "$i"; done # boot in parallel
  for i in $(seq "$nodes"); do wait_node_ports "$i"; done
  say "$nodes node(s) booted in $((($(date +%s%N) - t0) / 1000000)) ms; joining"
  for i in $(seq 2 "$nodes"); do
    join_node "$i" || { say "node $i did not join"; log_tail "$i"; exit 1; }
  done
  for i in $(seq 2 "$nodes"); do wait_node_ports "$i"; done
  wait_running 1 "$nodes"
  trap - EXIT
  cp "$DIR/.state.env" "$DIR/cluster.env"
  echo "RMQ_START_MS=$((($(date +%s%N) - t0) / 1000000))" >>"$DIR/cluster.env"
  cat "$DIR/cluster.env"
}

cmd_stop_loaded() {
  local e
  # shellcheck disable=SC2046 # node numbers
  stop_nodes $(seq "$RMQ_NODES")
  e=$(epmd_pid)
  if [ -n "$e" ]; then
    kill -TERM "$e" 2>/dev/null || true
    reap 5 "$e"
  fi
  rm -f "$DIR/cluster.env"
  return 0
}

cmd_stop() { load_state "$1"; cmd_stop_loaded; say "stopped (logs kept in $DIR)"; }

cmd_status() {
  load_state "$1"
  local i b asked=""
  for i in $(seq "$RMQ_NODES"); do
    b=$(beam_pid "$i")
    if [ -n "$b" ]; then
      echo "node$i $(node_name "$i") pid=$b up"
      [ -z "$asked" ] && asked=$i
    else
      echo "node$i $(node_name "$i") down"
    fi
  done
  [ -n "$asked" ] || { echo "running_nodes=0"; return 1; }
  local running
  running=$(running_nodes "$asked")
  echo "running_nodes=$(grep -c . <<<"$running" || true)"
  echo "running=$(tr '\n' ' ' <<<"$running" | sed 's/ $//')"
}

check_index() { # node number
  if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt "$RMQ_NODES" ]; then
    die "no node $1 (nodes are 1..$RMQ_NODES)"
  fi
}

cmd_kill() { # index DIR
  local i=$1 b
  load_state "$2"
  check_index "$i"
  b=$(beam_pid "$i")
  [ -n "$b" ] || die "node $i ($(node_name "$i")) is not running"
  kill -KILL "$b"
  reap 10 "$b"
  local w
  w=$(wrapper_pid "$i")
  [ -n "$w" ] && reap 10 "$w"
  say "node $i ($(node_name "$i"), beam.smp pid $b) killed with SIGKILL"
}

cmd_restart() { # index DIR
  local i=$1 t0 other=1
  load_state "$2"
  check_index "$i"
  t0=$(date +%s%N)
  stop_nodes "$i"
  spawn_node "$i"
  wait_node_ports "$i"
  # Ask another node when there is one: it proves the restarted node rejoined.
  [ "$i" -eq 1 ] && [ "$RMQ_NODES" -gt 1 ] && other=2
  wait_running "$other" "$RMQ_NODES"
  say "node $i ($(node_name "$i")) back in the cluster in $((($(date +%s%N) - t0) / 1000000)) ms"
}

case "${1:-}" in
  start) if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi; cmd_start "$2" "${3:-3}" ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  status) [ $# -eq 2 ] || usage; cmd_status "$2" ;;
  kill) [ $# -eq 3 ] || usage; cmd_kill "$2" "$3" ;;
  restart) [ $# -eq 3 ] || usage; cmd_restart "$2" "$3" ;;
  *) usage ;;
esac
