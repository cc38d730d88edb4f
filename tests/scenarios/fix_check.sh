#!/usr/bin/env bash
# "The fix works when applied": for every broken scenario (manifest expect != none), against a
# real mosquitto (require_certificate true) on 127.0.0.1:
#   1. `mqtls doctor` on the broken copy: the top finding is the expected one and its fix text
#      contains the manifest's recipe (fix_cmd verbatim, fix_text, every fix_use value);
#   2. the recipe is applied to a copy of the scenario (fix_pre, fix_cmd + fix_args, fix_use);
#      when it changed what the broker serves, the broker is (re)started on the new files;
#   3. `mqtls doctor` now exits 0 with verdict ok, and `mqtls pub` publishes.
# Scenarios marked fix=manual:WHY are counted and listed, never silently skipped; a broken
# scenario without any recipe fails. Doctor runs inside the copy with relative file names, so
# the fix text names exactly the files the recipe touches.
# Usage: fix_check.sh MQTLS_BINARY SCENARIO_DIR [NAME...]
# Prints one line per scenario and "fix: N verified, M failed, K manual"; exit 1 on failure.
set -uo pipefail
BIN=${1:?usage: fix_check.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
DIR=${2:?usage: fix_check.sh MQTLS_BINARY SCENARIO_DIR [NAME...]}
shift 2
command -v mosquitto >/dev/null || { echo "fix: mosquitto not installed, skipped"; exit 0; }
command -v python3 >/dev/null || { echo "fix: python3 needed to read --json, skipped"; exit 0; }
# The interpreter itself, not a version-manager shim (a shim costs ~0.1 s per start).
PY=$(python3 -c 'import sys; print(sys.executable)')
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DIR=$(cd "$DIR" && pwd)
WORK=$(mktemp -d)
T0=$(date +%s.%N)
# The recipes call `mqtls pki`: the binary under test.
mkdir -p "$WORK/bin"
ln -s "$BIN" "$WORK/bin/mqtls"
export PATH="$WORK/bin:$PATH"
declare -A POOL_PORT=() POOL_PID=()
cleanup() {
    local k
    for k in "${!POOL_PID[@]}"; do
        kill "${POOL_PID[$k]}" 2>/dev/null
        wait "${POOL_PID[$k]}" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # still runs cleanup: no mosquitto is left behind
pass=0; fail=0; manual=0; manual_list=()

free_port() {
    local p
    for p in $(seq $((20000 + RANDOM % 20000)) 1 45000); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
    done
}
# get KEY SCENDIR: the fix's override (fix.use) wins over the manifest.
get() {
    if [ -f "$2/fix.use" ] && grep -q "^$1=" "$2/fix.use"; then
        sed -n "s/^$1=//p" "$2/fix.use" | tail -1
        return
    fi
    sed -n "s/^$1=//p" "$2/manifest" | head -1
}
# broker COPYDIR: sets PORT to a mosquitto serving COPYDIR's broker files. One broker per
# distinct (certfile, keyfile, cafile, ciphers) content: scenarios whose fix is client-side
# share it, a broker-side fix gets a fresh one on the new files.
broker() {
    local s=$1 sc sk bc ci key pid port _try
    sc=$(get server_cert "$s"); sk=$(get server_key "$s"); bc=$(get broker_ca "$s")
    ci=$(get broker_ciphers "$s")
    key=$(cat "$s/$sc" "$s/$sk" "$s/$bc" 2>/dev/null | cksum | tr ' ' _)_$ci
    if [ -n "${POOL_PORT[$key]:-}" ] && kill -0 "${POOL_PID[$key]}" 2>/dev/null; then
        PORT=${POOL_PORT[$key]}
        return 0
    fi
    local conf=$WORK/broker-${#POOL_PID[@]}.conf
    for _try in 1 2 3; do # a port taken between the probe and the bind: retry
        port=$(free_port)
        cat >"$conf" <<EOC
per_listener_settings false
allow_anonymous true
listener $port 127.0.0.1
cafile $s/$bc
certfile $s/$sc
keyfile $s/$sk
require_certificate true
log_dest file $conf.log
EOC
        [ "$(id -u)" = 0 ] && echo "user root" >>"$conf"
        [ -n "$ci" ] && echo "ciphers $ci" >>"$conf"
        mosquitto -c "$conf" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 1 50); do
            (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            POOL_PORT[$key]=$port; POOL_PID[$key]=$pid; PORT=$port
            return 0
        fi
        wait "$pid" 2>/dev/null
    done
    echo "  (mosquitto did not start: $(tail -n 2 "$conf.log" 2>/dev/null | tr '\n' ' '))"
    return 1
}
# client_args COPYDIR: the TLS flags for doctor and pub, relative to COPYDIR.
client_args() {
    local s=$1 kv f
    CARGS=()
    for kv in ca:--cafile cert:--cert key:--key keypass:--keypass keypass_file:--keypass-file; do
        f=$(get "${kv%%:*}" "$s"); [ -n "$f" ] && CARGS+=("${kv#*:}" "$f")
    done
}
# doctor COPYDIR -> OUT (json), RC
doctor() {
    local s=$1 pr
    client_args "$s"
    pr=$(get profile "$s")
    local args=(doctor "mqtts://$(get host "$s"):$PORT" --json "${CARGS[@]}")
    [ -n "$pr" ] && args+=(--profile "$pr")
    OUT=$(cd "$s" && timeout 40 "$BIN" "${args[@]}" 2>/dev/null)
    RC=$?
}
# parse: VERDICT TOP FIXTEXT from the doctor JSON in OUT (one interpreter start per run).
parse() {
    local p
    p=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys
try:
    d=json.load(sys.stdin)
except Exception:
    d={"verdict":"unparsable","findings":[]}
f=d.get("findings") or [{}]
print(d.get("verdict","")); print(f[0].get("id","")); sys.stdout.write(f[0].get("fix",""))' \
        2>/dev/null)
    VERDICT=$(printf '%s\n' "$p" | sed -n 1p)
    TOP=$(printf '%s\n' "$p" | sed -n 2p)
    FIXTEXT=$(printf '%s\n' "$p" | sed -n '3,$p')
}
bad() { fail=$((fail + 1)); echo "FAIL $name: $*"; }

names=("$@")
if [ ${#names[@]} -eq 0 ]; then mapfile -t names < <(ls "$DIR"); fi
for name in "${names[@]}"; do
    src=$DIR/$name
    [ -f "$src/manifest" ] || continue
    expect=$(get expect "$src")
    [ "$expect" = none ] && continue
    mode=$(get fix "$src")
    if [ "${mode%%:*}" = manual ]; then
        manual=$((manual + 1)); manual_list+=("$name")
        echo "man  $name: ${mode#manual:}"
        continue
    fi
    cmd=$(get fix_cmd "$src"); pre=$(get fix_pre "$src"); use=$(get fix_use "$src")
    if [ -z "$cmd$pre$use" ]; then bad "no fix recipe in the manifest"; continue; fi
    s=$WORK/$name
    ts=$(date +%s%N)
    cp -a "$src" "$s"
    engines=$(get fix_engines "$s")
    if [ -n "$engines" ] && [[ " $engines " != *" ${MQTLS_TLS_ENGINE:-} "* ]]; then
        # The recipe answers what only those engines see live (gen.sh says why).
        manual=$((manual + 1)); manual_list+=("$name")
        echo "man  $name: the recipe is checked with the engine(s) that see $expect live: $engines"
        continue
    fi
    live_expect=$(get "live_expect_${MQTLS_TLS_ENGINE:-}" "$s")
    [ -n "$live_expect" ] || live_expect=$(get live_expect "$s")
    [ -n "$live_expect" ] && expect=$live_expect
    # 1. the broken set-up: the top finding and its fix text.
    broker "$s" || { bad "no broker"; continue; }
    doctor "$s"
    parse
    top=$TOP; fixtext=$FIXTEXT
    if [ "$top" != "$expect" ] || [ "$RC" -ne 1 ]; then
        bad "before the fix: expected $expect (exit 1), got '${top:-none}' (exit $RC)"; continue
    fi
    missing=()
    [ -n "$cmd" ] && [[ "$fixtext" != *"$cmd"* ]] && missing+=("$cmd")
    ft=$(get fix_text "$s")
    [ -n "$ft" ] && [[ "$fixtext" != *"$ft"* ]] && missing+=("$ft")
    for kv in $use; do
        v=${kv#*=}
        [ -n "$v" ] && [[ "$fixtext" != *"$v"* ]] && missing+=("$v")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        bad "the fix text lacks the recipe: $(printf "'%s' " "${missing[@]}")"
        printf '  fix text: %s\n' "$fixtext"
        continue
    fi
    # 2. apply it.
    # Bounded, and without a terminal: a recipe that would prompt fails instead of hanging.
    if [ -n "$pre" ] && ! (cd "$s" && timeout 30 bash -c "$pre") </dev/null \
        >"$WORK/$name.fix.log" 2>&1; then
        bad "fix_pre failed: $pre"; continue
    fi
    if [ -n "$cmd" ] && ! (cd "$s" && timeout 30 bash -c "$cmd $(get fix_args "$s")") </dev/null \
        >>"$WORK/$name.fix.log" 2>&1; then
        bad "fix_cmd failed: $cmd"; sed 's/^/  /' "$WORK/$name.fix.log" | head -5; continue
    fi
    : >"$s/fix.use"
    for kv in $use; do echo "$kv" >>"$s/fix.use"; done
    # 3. it works now.
    broker "$s" || { bad "no broker after the fix"; continue; }
    doctor "$s"
    parse
    if [ "$RC" -ne 0 ] || [ "$VERDICT" != ok ]; then
        bad "after the fix: doctor exit $RC, verdict '${VERDICT:-?}', top '$TOP'"
        continue
    fi
    client_args "$s"
    if ! perr=$(cd "$s" && timeout 20 "$BIN" pub -h "$(get host "$s")" -p "$PORT" -t fix/check \
        -m ok -i "fix-$$-$pass" "${CARGS[@]}" 2>&1 >/dev/null); then
        bad "after the fix: mqtls pub failed: $(printf '%s' "$perr" | head -c 300)"; continue
    fi
    pass=$((pass + 1))
    echo "ok   $name ($((($(date +%s%N) - ts) / 1000000)) ms): $expect fixed by:" \
        "${pre:+$pre; }${cmd:-}${use:+ [$use]}"
done
T1=$(date +%s.%N)
echo "fix: $pass verified, $fail failed, $manual manual (${manual_list[*]:-}), brokers" \
    "${#POOL_PID[@]}, $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s"
[ $fail -eq 0 ]
