#!/usr/bin/env bash
# Live check of every scenario: a real mosquitto (require_certificate true) serves the
# scenario's broker files on 127.0.0.1, `mqtls doctor` connects with the client's files, and
# the first finding must be the manifest's `expect` (or `live_expect` where the broker cannot
# show what the offline facts do, or `live_expect_<engine>` where the TLS engine of this run,
# MQTLS_TLS_ENGINE, shakes hands differently); a failed verdict always carries an error
# finding. Run once per engine, this is the facts parity test (docs/tls-engines.md). One
# broker per distinct set of broker files and settings (scenarios share them); the doctors run
# a few at a time. Then the transport and session causes (plain/TLS ports, a port that never
# answers, a TLS server that resets mid-handshake, not authorized, a client-id takeover, a
# broker stopped mid-session, dns in an empty network namespace). Manifest keys for the
# connection: pin= (--pin), via=reset-proxy (through reset_proxy.py).
# Usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]
# Prints one line per check and "live: N passed, M failed, K skipped"; exit 1 on failure.
set -uo pipefail
BIN=${1:?usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
DIR=${2:?usage: live.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
shift 2
command -v mosquitto >/dev/null || { echo "live: mosquitto not installed, skipped"; exit 0; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DIR=$(cd "$DIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
JOBS=${MQTLS_LIVE_JOBS:-4}
pass=0; fail=0; skip=0
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() {
    local p
    for p in $(seq $((20000 + RANDOM % 20000)) 1 45000); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
    done
}
wait_port() { # PORT PID: bounded wait until it accepts
    local _
    for _ in $(seq 1 50); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
get() { sed -n "s/^$1=//p" "$2/manifest" | head -1; }
top_of() { # JSON -> "id severity"
    printf '%s' "$1" | grep -o '"findings":\[{"id":"[a-z0-9-]*","severity":"[a-z]*"' |
        sed 's/.*"id":"\([a-z0-9-]*\)","severity":"\([a-z]*\)"/\1 \2/'
}
# start_broker CONF-LINES... : sets BPORT (one retry loop for a port taken meanwhile)
start_broker() {
    local conf=$WORK/broker-${#PIDS[@]}.conf try pid
    for try in 1 2 3; do
        BPORT=$(free_port)
        { printf 'per_listener_settings false\nlistener %s 127.0.0.1\nlog_dest file %s.log\n' \
            "$BPORT" "$conf"; printf '%s\n' "$@"; } >"$conf"
        [ "$(id -u)" = 0 ] && echo "user root" >>"$conf"
        mosquitto -c "$conf" >/dev/null 2>&1 &
        pid=$!
        if wait_port "$BPORT" "$pid"; then PIDS+=("$pid"); BPID=$pid; return 0; fi
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    done
    echo "  (mosquitto did not start: $(tail -n 2 "$conf.log" 2>/dev/null | tr '\n' ' '))"
    return 1
}

# --- every scenario ------------------------------------------------------------------------
# The engine of this run: MQTLS_TLS_ENGINE, else the library's default.
ENGINE=${MQTLS_TLS_ENGINE:-$("$BIN" --version | sed -n 's/^  \([a-z0-9]*\) .*(default)$/\1/p')}
declare -A POOL=()
names=("$@")
if [ ${#names[@]} -eq 0 ]; then mapfile -t names < <(ls "$DIR"); fi
: >"$WORK/jobs"
for name in "${names[@]}"; do
    s=$DIR/$name
    [ -f "$s/manifest" ] || continue
    expect=$(get "live_expect_$ENGINE" "$s")
    [ -n "$expect" ] || expect=$(get live_expect "$s")
    [ -n "$expect" ] || expect=$(get expect "$s")
    if [ -n "$(get now "$s")" ] || [ -n "$(get ca_buffer "$s")" ] || [ "$expect" = skip ]; then
        echo "skip $name (needs a fake clock or the buffer API)"; skip=$((skip + 1)); continue
    fi
    sc=$(get server_cert "$s"); sk=$(get server_key "$s"); bc=$(get broker_ca "$s")
    ci=$(get broker_ciphers "$s"); bconf=$(get broker_conf "$s")
    key=$(cat "$s/$sc" "$s/$sk" "$s/$bc" | cksum | tr ' ' _)_${ci}_$bconf
    [ -n "$bconf" ] && key=${key}_$name
    if [ -z "${POOL[$key]:-}" ]; then
        lines=("allow_anonymous true" "cafile $s/$bc" "certfile $s/$sc" "keyfile $s/$sk"
            "require_certificate true")
        [ -n "$ci" ] && lines+=("ciphers $ci")
        if [ -n "$bconf" ]; then
            mapfile -t more < <(printf '%s\n' "$bconf" | tr ';' '\n' | sed "s#^crlfile #crlfile $s/#")
            lines+=("${more[@]}")
        fi
        start_broker "${lines[@]}" || { fail=$((fail + 1)); echo "FAIL $name: no broker"; continue; }
        POOL[$key]=$BPORT
    fi
    port=${POOL[$key]}
    case $(get via "$s") in
    "") ;;
    reset-proxy) # the client reaches the broker through a proxy that resets mid-handshake
        port=$(free_port)
        python3 "$HERE/reset_proxy.py" "$port" "${POOL[$key]}" &
        PIDS+=("$!")
        wait_port "$port" "$!" || { fail=$((fail + 1)); echo "FAIL $name: no proxy"; continue; } ;;
    *) fail=$((fail + 1)); echo "FAIL $name: unknown via=$(get via "$s")"; continue ;;
    esac
    echo "$name $port $expect" >>"$WORK/jobs"
done
one() { # NAME PORT EXPECT -> one result line in $WORK/out.NAME
    local name=$1 port=$2 expect=$3 s=$DIR/$1 f kp pr sn out rc top sev ok=
    local args=(doctor "mqtts://$(get host "$s"):$port" --json)
    [ "$(get ca_default "$s")" = 1 ] || { f=$(get ca "$s"); [ -n "$f" ] && args+=(--cafile "$s/$f"); }
    f=$(get cert "$s"); [ -n "$f" ] && args+=(--cert "$s/$f")
    f=$(get key "$s"); [ -n "$f" ] && args+=(--key "$s/$f")
    kp=$(get keypass "$s"); [ -n "$kp" ] && args+=(--keypass "$kp")
    pr=$(get profile "$s"); [ -n "$pr" ] && args+=(--profile "$pr")
    sn=$(get server_name "$s"); [ -n "$sn" ] && args+=(--tls-server-name "$sn")
    for f in $(get pin "$s"); do args+=(--pin "$f"); done
    out=$(timeout 40 "$BIN" "${args[@]}" 2>/dev/null)
    rc=$?
    read -r top sev < <(top_of "$out")
    if command -v python3 >/dev/null &&
        ! printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; then
        echo "FAIL $name: --json output does not parse"
        return
    fi
    # A step says the whole failure: a rejected chain's line ends with its flags, ")" (doctor
    # once cut every step at 299 characters).
    if command -v python3 >/dev/null && ! printf '%s' "$out" | python3 -c 'import json,sys
d = json.load(sys.stdin)
sys.exit(any(x["status"] == "failed" and "MQTLS_ERR_TLS_VERIFY" in x["detail"]
             and not x["detail"].endswith(")") for x in d["steps"]))' 2>/dev/null; then
        echo "FAIL $name: a step detail is cut short"
        return
    fi
    if [ "$expect" = none ]; then
        [ $rc -eq 0 ] && [ "${sev:-}" != error ] && ok=y
    elif [ "$(get expect_severity "$s")" = warning ]; then
        # a warning: the set-up works (exit 0), the warning comes first
        [ "${top:-}" = "$expect" ] && [ "$sev" = warning ] && [ $rc -eq 0 ] && ok=y
    else
        # a failure: the expected cause first, an error, and a failure exit code
        [ "${top:-}" = "$expect" ] && [ "$sev" = error ] && [ $rc -ne 0 ] && [ $rc -ne 2 ] && ok=y
    fi
    if [ -n "$ok" ]; then
        echo "ok   $name: ${top:-no findings} (exit $rc)"
    else
        echo "FAIL $name: expected $expect, got '${top:-none}' (exit $rc)"
        printf '%s\n' "$out" | head -c 1500; echo
    fi
}
export -f one get top_of
export BIN DIR WORK
# $JOBS doctors at a time (xargs waits for its own children only, not for the brokers)
xargs -P "$JOBS" -L 1 bash -c 'one "$1" "$2" "$3" >"$WORK/out.$1" 2>&1' _ <"$WORK/jobs"
while read -r name _; do
    cat "$WORK/out.$name"
    if grep -q '^ok ' "$WORK/out.$name"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done <"$WORK/jobs"

# --- transport and session causes: only in a full run ---------------------------------------
g=$DIR/good-rsa2048
if [ $# -eq 0 ] && [ -d "$g" ]; then
    # one line per check: "ok   NAME" or "FAIL NAME: why"; tally() counts them afterwards
    check() { # NAME RESULT(0 ok) DETAIL
        if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fi
    }
    tally() {
        local f
        for f in "$@"; do
            cat "$f"
            pass=$((pass + $(grep -c '^ok ' "$f")))
            fail=$((fail + $(grep -c '^FAIL ' "$f")))
        done
    }
    # a plain listener that refuses anonymous clients, and a TLS one (good-rsa2048)
    tp=$(free_port)
    start_broker "allow_anonymous false" "listener $tp 127.0.0.1" "cafile $g/broker/broker-ca.crt" \
        "certfile $g/broker/server.crt" "keyfile $g/broker/server.key" "require_certificate true"
    pp=$BPORT # start_broker's own listener: plain
    files=(--cafile "$g/ca.crt" --cert "$g/client.crt" --key "$g/client.key")
    tcase() { # NAME EXPECT ARGS...   (NETNS=1: in a new network namespace with no network)
        local name=$1 expect=$2 out top sev
        shift 2
        if [ "${NETNS:-0}" = 1 ]; then
            out=$(timeout 40 unshare --net "$BIN" doctor "$@" --json 2>/dev/null)
        else
            out=$(timeout 40 "$BIN" doctor "$@" --json 2>/dev/null)
        fi
        read -r top sev < <(top_of "$out")
        [ "${top:-}" = "$expect" ] && [ "$sev" = error ]
        check "$name: ${top:-none}" $? "expected $expect; $(printf '%s' "$out" | head -c 1200)"
        printf '%s' "$out" >"$WORK/$name.json"
    }
    # A port that accepts and never answers; a TLS server that resets after its ServerHello.
    sp=$(free_port)
    python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); c=[]
s.settimeout(1); end=time.time() + 120
while time.time() < end:
    try:
        c.append(s.accept()[0])
    except OSError:
        pass' "$sp" &
    PIDS+=("$!"); wait_port "$sp" "$!"
    rp=$(free_port)
    python3 "$HERE/reset_proxy.py" "$rp" "$tp" &
    PIDS+=("$!"); wait_port "$rp" "$!"
    T=$WORK/t
    TP=() # the checks running in the background (the brokers are background jobs too)
    tcase transport-tls-on-plain-port tls-on-plain-port "mqtts://localhost:$pp" "${files[@]}" \
        >"$T.1" &
    TP+=("$!")
    tcase transport-plain-on-tls-port plain-on-tls-port "mqtt://localhost:$tp" >"$T.2" &
    TP+=("$!")
    tcase transport-connection-refused connection-refused "mqtts://127.0.0.1:$(free_port)" \
        "${files[@]}" >"$T.3" &
    TP+=("$!")
    tcase transport-connack-timeout connack-timeout "mqtt://127.0.0.1:$sp" >"$T.4" &
    TP+=("$!")
    tcase transport-handshake-reset handshake-reset "mqtts://localhost:$rp" "${files[@]}" >"$T.5" &
    TP+=("$!")
    # A name that does not resolve, asked in an empty network namespace: the lookup fails at
    # once and no query leaves this machine (tests never resolve outside names).
    NETNS=1 tcase transport-dns-failure dns-failure "mqtts://no-such-host.invalid:8883" \
        "${files[@]}" >"$T.6" &
    TP+=("$!")
    {
        tcase transport-not-authorized not-authorized "mqtt://localhost:$pp"
        # Plain: never "TLS worked", never anonymous access; the credentials first.
        out=$(cat "$WORK/transport-not-authorized.json")
        case $out in
        *"TLS worked"* | *"allow_anonymous true"*) r=1 ;;
        *'"fix":"Check the user name and password'*) r=0 ;;
        *) r=1 ;;
        esac
        check "transport-not-authorized-plain-wording" $r "$out"
        tcase transport-not-authorized-v5 not-authorized "mqtt://localhost:$pp" -V 5
    } >"$T.7" &
    TP+=("$!")
    # Sessions that end after CONNACK: a client-id takeover (the broker stays up), a broker
    # stopped mid-session. The pub/sub report names the cause.
    start_broker "allow_anonymous true"
    lp=$BPORT; lpid=$BPID
    {
        timeout 20 "$BIN" sub -h 127.0.0.1 -p "$lp" -t t -i same-id 2>"$WORK/takeover.err" &
        s1=$!
        sleep 0.5
        timeout 5 "$BIN" sub -h 127.0.0.1 -p "$lp" -t t -i same-id -W 1 >/dev/null 2>&1
        wait "$s1"
        grep -q "\[error\] client-id-taken-over" "$WORK/takeover.err"
        check "session-client-id-taken-over" $? "$(head -c 800 "$WORK/takeover.err")"
        timeout 20 "$BIN" sub -h 127.0.0.1 -p "$lp" -t t -i stop-test 2>"$WORK/stopped.err" &
        s1=$!
        sleep 0.5
        kill "$lpid"
        wait "$s1"
        grep -q "\[error\] broker-stopped" "$WORK/stopped.err"
        check "session-broker-stopped" $? "$(head -c 800 "$WORK/stopped.err")"
        ! grep -q "without a CONNACK" "$WORK/takeover.err" "$WORK/stopped.err"
        check "session-never-closed-after-connect" $? "a lost session read as closed after CONNECT"
    } >"$T.8"
    wait "$lpid" 2>/dev/null
    wait "${TP[@]}"
    tally "$T".[1-8]
fi
echo "live${MQTLS_TLS_ENGINE:+ ($MQTLS_TLS_ENGINE)}: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
