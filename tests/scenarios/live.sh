#!/usr/bin/env bash
# Live check of every scenario: a real mosquitto (require_certificate true) serves the
# scenario's server certificate on 127.0.0.1, `mqtls doctor` connects with the client's files,
# and the first finding must be the manifest's `expect` (or `live_expect` where the broker
# cannot show what the offline facts do, or `live_expect_<engine>` where the TLS engine of this
# run, MQTLS_TLS_ENGINE, shakes hands differently). Run once per engine, this is the facts
# parity test (docs/tls-engines.md). Usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]
# Prints one line per scenario and "live: N passed, M failed, K skipped"; exit 1 on failure.
set -uo pipefail
BIN=${1:?usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
DIR=${2:?usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
shift 2
command -v mosquitto >/dev/null || { echo "live: mosquitto not installed, skipped"; exit 0; }
WORK=$(mktemp -d)
pass=0; fail=0; skip=0
free_port() { # bind-and-release via python is not available everywhere; scan instead
    local p
    for p in $(seq $((20000 + RANDOM % 20000)) 1 $((45000))); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo $p; return; fi
    done
}
get() { sed -n "s/^$1=//p" "$2/manifest" | head -1; }
write_conf() { # NAME SCENDIR PORT
    local name=$1 s=$2 port=$3
    cat >"$WORK/$name.conf" <<EOC
per_listener_settings false
allow_anonymous true
listener $port 127.0.0.1
cafile $s/$(get broker_ca "$s")
certfile $s/$(get server_cert "$s")
keyfile $s/$(get server_key "$s")
require_certificate true
log_dest file $WORK/$name.log
EOC
    # As root, mosquitto drops to user "mosquitto", which cannot read a 0700 temp dir.
    [ "$(id -u)" = 0 ] && echo "user root" >>"$WORK/$name.conf"
    ci=$(get broker_ciphers "$s"); [ -n "$ci" ] && echo "ciphers $ci" >>"$WORK/$name.conf"
}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then mapfile -t names < <(ls "$DIR"); fi
for name in "${names[@]}"; do
    s=$DIR/$name
    [ -f "$s/manifest" ] || continue
    expect=$(get "live_expect_${MQTLS_TLS_ENGINE:-}" "$s")
    [ -n "$expect" ] || expect=$(get live_expect "$s")
    [ -n "$expect" ] || expect=$(get expect "$s")
    now=$(get now "$s"); buf=$(get ca_buffer "$s")
    if [ -n "$now" ] || [ -n "$buf" ] || [ "$expect" = skip ]; then
        echo "skip $name (needs a fake clock or the buffer API)"; skip=$((skip + 1)); continue
    fi
    pid=
    for attempt in 1 2 3; do # a port taken between the probe and mosquitto's bind: retry
        port=$(free_port)
        write_conf "$name" "$s" "$port"
        mosquitto -c "$WORK/$name.conf" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 1 50); do
            (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && break
        echo "  (mosquitto did not start for $name, attempt $attempt:" \
            "$(tail -n 2 "$WORK/$name.log" 2>/dev/null | tr '\n' ' '))"
        pid=
    done
    args=(doctor "mqtts://$(get host "$s"):$port" --json)
    for kv in ca:--cafile cert:--cert key:--key; do
        f=$(get "${kv%%:*}" "$s"); [ -n "$f" ] && args+=("${kv#*:}" "$s/$f")
    done
    kp=$(get keypass "$s"); [ -n "$kp" ] && args+=(--keypass "$kp")
    pr=$(get profile "$s"); [ -n "$pr" ] && args+=(--profile "$pr")
    out=$(timeout 40 "$BIN" "${args[@]}" 2>"$WORK/$name.err")
    rc=$?
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    if command -v python3 >/dev/null && ! printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; then
        fail=$((fail + 1)); echo "FAIL $name: --json output does not parse"; continue
    fi
    top=$(printf '%s' "$out" | grep -o '"findings":\[{"id":"[a-z0-9-]*"' | sed 's/.*"id":"//; s/"$//')
    topsev=$(printf '%s' "$out" | grep -o '"findings":\[{"id":"[a-z0-9-]*","severity":"[a-z]*"' | sed 's/.*"severity":"//; s/"$//')
    if [ "$expect" = none ]; then
        ok=$([ $rc -eq 0 ] && [ "$topsev" != error ] && echo y)
    else
        ok=$([ "$top" = "$expect" ] && [ $rc -eq 1 ] && echo y)
    fi
    if [ -n "$ok" ]; then
        pass=$((pass + 1)); echo "ok   $name: ${top:-no findings} (exit $rc)"
    else
        fail=$((fail + 1)); echo "FAIL $name: expected $expect, got '${top:-none}' (exit $rc)"
        printf '%s\n' "$out" | head -c 1500; echo
    fi
done
# Transport and MQTT causes against one broker: a plain listener that refuses anonymous
# clients and a TLS listener (good-rsa2048). Only in a full run.
g=$DIR/good-rsa2048
if [ $# -eq 0 ] && [ -d "$g" ]; then
    pp=$(free_port); tp=$((pp + 1)); cp=$((pp + 2))
    cat >"$WORK/transport.conf" <<EOC
per_listener_settings false
allow_anonymous false
listener $pp 127.0.0.1
listener $tp 127.0.0.1
cafile $g/broker-ca.crt
certfile $g/server.crt
keyfile $g/server.key
require_certificate true
log_dest file $WORK/transport.log
EOC
    [ "$(id -u)" = 0 ] && echo "user root" >>"$WORK/transport.conf"
    mosquitto -c "$WORK/transport.conf" >/dev/null 2>&1 &
    tpid=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$tp) 2>/dev/null && break; sleep 0.1; done
    files=(--cafile "$g/ca.crt" --cert "$g/client.crt" --key "$g/client.key")
    tcase() { # NAME EXPECT ARGS...   (NETNS=1: in a new network namespace with no network)
        local name=$1 expect=$2
        shift 2
        local out top
        if [ "${NETNS:-0}" = 1 ]; then
            out=$(timeout 40 unshare --net "$BIN" doctor "$@" --json 2>/dev/null)
        else
            out=$(timeout 40 "$BIN" doctor "$@" --json 2>/dev/null)
        fi
        top=$(printf '%s' "$out" | grep -o '"findings":\[{"id":"[a-z0-9-]*"' | sed 's/.*"id":"//; s/"$//')
        if [ "$top" = "$expect" ]; then
            pass=$((pass + 1)); echo "ok   $name: $top"
        else
            fail=$((fail + 1)); echo "FAIL $name: expected $expect, got '${top:-none}'"
            printf '%s\n' "$out" | head -c 1500; echo
        fi
    }
    tcase transport-tls-on-plain-port tls-on-plain-port "mqtts://localhost:$pp" "${files[@]}"
    tcase transport-plain-on-tls-port plain-on-tls-port "mqtt://localhost:$tp"
    tcase transport-not-authorized not-authorized "mqtt://localhost:$pp"
    tcase transport-not-authorized-v5 not-authorized "mqtt://localhost:$pp" -V 5
    tcase transport-connection-refused connection-refused "mqtts://127.0.0.1:$cp" "${files[@]}"
    # A name that does not resolve, asked in an empty network namespace: the lookup fails at
    # once and no query leaves this machine (tests never resolve outside names).
    NETNS=1 tcase transport-dns-failure dns-failure "mqtts://no-such-host.invalid:8883" "${files[@]}"
    kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
fi
rm -rf "$WORK"
echo "live${MQTLS_TLS_ENGINE:+ ($MQTLS_TLS_ENGINE)}: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
