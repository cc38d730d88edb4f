#!/usr/bin/env bash
# "The fix works as printed and harms nothing": for every broken scenario (manifest expect !=
# none), against a real mosquitto (require_certificate true) on 127.0.0.1:
#   1. the scenario is copied into a scratch folder whose path has a space and a quote
#      ("it's a dir/<name>"), and `mqtls doctor` runs from outside it, so every path in the fix
#      text is that path, quoted: the top finding must be the expected one, its fix must
#      contain the manifest's fix_has (with the scenario's own names);
#   2. every file of the copy is hashed; the fix's commands -- the lines that start with "$ ",
#      up to the first line that starts with "Or" -- are run as printed (after fix_pre, the
#      step the fix asks the user to do by hand); a command that would reach the network is
#      refused; then every pre-existing file must still be there, byte for byte, unless the
#      manifest's fix_changes names it (the finding is about that very file);
#   3. with fix_use applied (the new --cert/--key/--cafile, the broker's new certfile,
#      --tls-server-name), `mqtls doctor` exits 0 with verdict ok and `mqtls pub` publishes; the
#      broker is restarted on its new files when the fix gave it new ones.
#   With fix_use=pin=+printed, the fix's commands print the server's pin and the fix says to add
#   it as "--pin sha256//<...>": the pins become the scenario's (pin=) and that one.
# Scenarios marked fix=manual:WHY are counted and listed, never silently skipped; where the
# finding shows live (no fake clock, no buffer API, a live failure), doctor still runs on a
# copy: the top finding must be the expected one and its text must hold no command that
# writes, moves or deletes a file. A broken scenario without a recipe fails. Manifest keys for
# the connection: pin= (--pin, space-separated), via=reset-proxy (reset_proxy.py in front).
# A warning (expect_severity=warning: doctor says ok, exit 0, with it first) must be gone after
# its fix. fix_mbedtls2_host=HOST: mbedTLS 2.28 itself ($MQTLS_MBEDTLS2_NAME_CHECK, built from
# tests/unit/diag/mbedtls2_name_check.c) must reject the broker's certificate for HOST before
# the fix and accept the new one after it: what a device on ESP-IDF 4 decides.
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
ROOT_NAME="it's a dir" # the scratch folder: a space and a quote in every path of every fix
ROOT=$WORK/$ROOT_NAME
mkdir -p "$ROOT"
ln -s "$ROOT" "$WORK/plain" # mosquitto.conf cannot quote: it reads the copies through this
# The fixes call `mqtls pki`: the binary under test.
mkdir -p "$WORK/bin"
ln -s "$BIN" "$WORK/bin/mqtls"
export PATH="$WORK/bin:$PATH"
HERE=$(cd "$(dirname "$0")" && pwd)
declare -A POOL_PORT=() POOL_PID=()
PROXY_PIDS=()
cleanup() {
    local k
    for k in "${PROXY_PIDS[@]}"; do kill "$k" 2>/dev/null; wait "$k" 2>/dev/null; done
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
# broker NAME: sets PORT to where the client connects: a mosquitto serving the copy's broker
# files, or (via=reset-proxy) a reset_proxy.py in front of it. One broker per distinct
# (certfile, keyfile, cafile, settings) content: scenarios whose fix is client-side share it, a
# broker-side fix gets a fresh one on the new files.
broker() {
    local via
    via=$(get via "$ROOT/$1")
    pooled_broker "$1" || return 1
    case $via in
    "") return 0 ;;
    reset-proxy)
        local bport=$PORT pid _
        PORT=$(free_port)
        python3 "$HERE/reset_proxy.py" "$PORT" "$bport" &
        pid=$!
        PROXY_PIDS+=("$pid")
        for _ in $(seq 1 50); do
            (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "  (reset_proxy.py did not start)"
        return 1 ;;
    *) echo "  (unknown via=$via)"; return 1 ;;
    esac
}
pooled_broker() {
    local name=$1 s=$ROOT/$1 p=$WORK/plain/$1 sc sk bc ci bconf key pid port _try
    sc=$(get server_cert "$s"); sk=$(get server_key "$s"); bc=$(get broker_ca "$s")
    ci=$(get broker_ciphers "$s"); bconf=$(get broker_conf "$s")
    key=$(cat "$s/$sc" "$s/$sk" "$s/$bc" 2>/dev/null | cksum | tr ' ' _)_${ci}_$bconf
    [ -n "$bconf" ] && key=${key}_$name # its own files (a CRL): never shared
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
cafile $p/$bc
certfile $p/$sc
keyfile $p/$sk
require_certificate true
log_dest file $conf.log
EOC
        [ "$(id -u)" = 0 ] && echo "user root" >>"$conf"
        [ -n "$ci" ] && echo "ciphers $ci" >>"$conf"
        [ -n "$bconf" ] && printf '%s\n' "$bconf" | tr ';' '\n' |
            sed "s#^\(crlfile\) #\1 $p/#" >>"$conf"
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
# client_args NAME: the TLS flags for doctor and pub, as paths from $WORK into the copy.
client_args() {
    local s=$ROOT/$1 kv f
    CARGS=()
    for kv in ca:--cafile cert:--cert key:--key keypass_file:--keypass-file; do
        f=$(get "${kv%%:*}" "$s"); [ -n "$f" ] && CARGS+=("${kv#*:}" "$ROOT_NAME/$1/$f")
    done
    f=$(get keypass "$s"); [ -n "$f" ] && CARGS+=(--keypass "$f")
    f=$(get server_name "$s"); [ -n "$f" ] && CARGS+=(--tls-server-name "$f")
    for f in $(get pin "$s"); do CARGS+=(--pin "$f"); done
}
# doctor NAME -> OUT (json), RC
doctor() {
    local s=$ROOT/$1 pr
    client_args "$1"
    pr=$(get profile "$s")
    local args=(doctor "mqtts://$(get host "$s"):$PORT" --json "${CARGS[@]}")
    [ -n "$pr" ] && args+=(--profile "$pr")
    OUT=$(cd "$WORK" && timeout 40 "$BIN" "${args[@]}" 2>/dev/null)
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
print(d.get("verdict","")); print(f[0].get("id",""))
print(" ".join(x.get("id","") for x in d.get("findings") or []))
sys.stdout.write(f[0].get("fix",""))' \
        2>/dev/null)
    VERDICT=$(printf '%s\n' "$p" | sed -n 1p)
    TOP=$(printf '%s\n' "$p" | sed -n 2p)
    IDS=" $(printf '%s\n' "$p" | sed -n 3p) "
    FIXTEXT=$(printf '%s\n' "$p" | sed -n '4,$p')
}
# The fix's commands: "$ " lines before the first "Or" line.
commands_of() {
    printf '%s\n' "$1" | awk '/^Or/ { exit } /^\$ / { print substr($0, 3) }'
}
# hashes DIR: "sha256  path" of every file, sorted (symlinks by their target text).
hashes() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
bad() { fail=$((fail + 1)); echo "FAIL $name: $*"; }
# writes_files TEXT: prints what in an advice-only fix would write, move or delete a file
# (a command word, an option that writes, a redirection other than to or from /dev/null);
# "<...>" placeholders are not redirections.
writes_files() {
    local t
    t=$(printf '%s\n' "$1" | sed -E 's#[0-9&]?>/dev/null##g; s#</dev/null##g; s#<[^<>]*>##g')
    printf '%s\n' "$t" | grep -oE "(^|[ ;&|(\`\$])(rm|mv|cp|ln|mkdir|rmdir|tee|touch|truncate|dd|\
chmod|chown|shred|unlink) |sed -i|--force| -out | -keyout | -o |>" | head -1
}
# device_verdict NAME WANT: mbedTLS 2.28's verdict (0 accepted, 1 rejected) on the broker's
# certificate the copy uses now, for fix_mbedtls2_host; returns 0 when it is WANT.
device_verdict() {
    local s=$ROOT/$1 host out rc
    host=$(get fix_mbedtls2_host "$s")
    [ -n "$host" ] || return 0
    if [ -z "${MQTLS_MBEDTLS2_NAME_CHECK:-}" ] || [ ! -x "$MQTLS_MBEDTLS2_NAME_CHECK" ]; then
        echo "  (MQTLS_MBEDTLS2_NAME_CHECK is not set: cannot ask mbedTLS 2.28)"
        return 1
    fi
    out=$("$MQTLS_MBEDTLS2_NAME_CHECK" "$s/$(get ca "$s")" "$s/$(get server_cert "$s")" "$host")
    rc=$?
    DEVICE="${out%%$'\n'*}"
    [ "$rc" -eq "$2" ] || { echo "  $out"; return 1; }
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then mapfile -t names < <(ls "$DIR"); fi
for name in "${names[@]}"; do
    src=$DIR/$name
    [ -f "$src/manifest" ] || continue
    expect=$(get expect "$src")
    [ "$expect" = none ] && continue
    mode=$(get fix "$src")
    if [ "${mode%%:*}" = manual ]; then
        live_expect=$(get "live_expect_${MQTLS_TLS_ENGINE:-}" "$src")
        [ -n "$live_expect" ] || live_expect=$(get live_expect "$src")
        [ -n "$live_expect" ] || live_expect=$expect
        if [ -n "$(get now "$src")$(get ca_buffer "$src")" ] || [ "$live_expect" = none ]; then
            manual=$((manual + 1)); manual_list+=("$name")
            echo "man  $name: ${mode#manual:} (not shown live: tests/unit/diag checks its text)"
            continue
        fi
        # Shown live: the finding must be the expected one, its advice must not write.
        s=$ROOT/$name
        cp -a "$src" "$s"
        broker "$name" || { bad "no broker"; rm -rf "$s"; continue; }
        doctor "$name"
        parse
        if [ "$TOP" != "$live_expect" ] || [ "$RC" -eq 0 ] || [ "$RC" -eq 2 ]; then
            bad "manual fix: expected $live_expect (a failure exit), got '${TOP:-none}' (exit $RC)"
            rm -rf "$s"; continue
        fi
        w=$(writes_files "$FIXTEXT")
        if [ -n "$w" ]; then
            bad "manual fix: its text holds a command that writes a file ('$w'): $FIXTEXT"
            rm -rf "$s"; continue
        fi
        manual=$((manual + 1)); manual_list+=("$name")
        echo "man  $name: ${mode#manual:} (checked live: $TOP, no command that writes)"
        rm -rf "$s"
        continue
    fi
    pre=$(get fix_pre "$src"); use=$(get fix_use "$src")
    if [ -z "$pre$use" ]; then bad "no fix recipe in the manifest"; continue; fi
    s=$ROOT/$name
    ts=$(date +%s%N)
    cp -a "$src" "$s"
    engines=$(get fix_engines "$s")
    if [ -n "$engines" ] && [[ " $engines " != *" ${MQTLS_TLS_ENGINE:-} "* ]]; then
        # The recipe answers what only those engines see live (gen.sh says why).
        manual=$((manual + 1)); manual_list+=("$name")
        echo "man  $name: the recipe is checked with the engine(s) that see $expect live: $engines"
        rm -rf "$s"; continue
    fi
    live_expect=$(get "live_expect_${MQTLS_TLS_ENGINE:-}" "$s")
    [ -n "$live_expect" ] || live_expect=$(get live_expect "$s")
    [ -n "$live_expect" ] && expect=$live_expect
    warning=$(get expect_severity "$s")
    # 1. the broken set-up: the top finding and its fix text.
    broker "$name" || { bad "no broker"; rm -rf "$s"; continue; }
    doctor "$name"
    parse
    if [ "$warning" = warning ]; then
        if [ "$TOP" != "$expect" ] || [ "$RC" -ne 0 ] || [ "$VERDICT" != ok ]; then
            bad "before the fix: expected the warning $expect first with verdict ok (exit 0)," \
                "got '${TOP:-none}', verdict '${VERDICT:-?}' (exit $RC)"
            rm -rf "$s"; continue
        fi
    elif [ "$TOP" != "$expect" ] || [ "$RC" -eq 0 ] || [ "$RC" -eq 2 ]; then
        bad "before the fix: expected $expect (a failure exit), got '${TOP:-none}' (exit $RC)"
        rm -rf "$s"; continue
    fi
    if ! device_verdict "$name" 1; then
        bad "before the fix: mbedTLS 2.28 does not reject the broker's certificate for" \
            "$(get fix_mbedtls2_host "$s"): the scenario shows nothing a device would see"
        rm -rf "$s"; continue
    fi
    fixtext=$FIXTEXT
    cmds=$(commands_of "$fixtext")
    if printf '%s\n' "$cmds" | grep -qE '(^|[ ;&|(])(curl|wget|ssh|nc|scp)[ ]'; then
        bad "a fix command reaches the network: $cmds"; rm -rf "$s"; continue
    fi
    # 2. apply it; nothing the user had may change.
    before=$(hashes "$s")
    if [ -n "$pre" ] && ! (cd "$s" && timeout 30 bash -c "$pre") </dev/null \
        >"$WORK/$name.fix.log" 2>&1; then
        bad "fix_pre failed: $pre"; rm -rf "$s"; continue
    fi
    rm -rf "$WORK/pre-made"; mkdir -p "$WORK/pre-made"
    diff <(printf '%s\n' "$before") <(hashes "$s") | sed -n 's/^> [0-9a-f]*  \.\///p' |
        while read -r f; do mkdir -p "$WORK/pre-made/$(dirname "$f")"; : >"$WORK/pre-made/$f"; done
    args=$(get fix_args "$s")
    : >"$WORK/$name.fix.out" # what the commands print (a pin the fix says to use)
    if [ -n "$cmds" ]; then
        script=$(printf '%s\n' "$cmds" | sed "\$s/\$/ $args/")
        # Bounded, and without a terminal: a command that would prompt fails instead of hanging.
        if ! (cd "$WORK" && timeout 30 bash -e -c "$script") </dev/null \
            >"$WORK/$name.fix.out" 2>>"$WORK/$name.fix.log"; then
            bad "the fix's commands failed as printed:"; printf '  $ %s\n' "$cmds"
            cat "$WORK/$name.fix.out" "$WORK/$name.fix.log" | sed 's/^/  /' | head -5
            rm -rf "$s"; continue
        fi
    fi
    # the fix names what the set-up uses afterwards (fix_has is checked by tests/unit/diag,
    # with the scenario's names as they are): each new file by its path in the copy
    missing=()
    uses=()
    for kv in $use; do
        k=${kv%%=*}; v=${kv#*=}
        case $k in
        ca | cert | key | server_cert | server_key) want="$name/$v" ;;
        server_name) want="--tls-server-name $v" ;;
        keypass_file) want="--keypass-file $v" ;;
        pin) # +printed: the pin the commands printed, added to the scenario's as the fix says
            want="--pin sha256//<"
            printed=$(tail -n 1 "$WORK/$name.fix.out")
            if [ "$v" = +printed ] && [[ $printed =~ ^[A-Za-z0-9+/]{43}=$ ]]; then
                kv="pin=$(get pin "$s") sha256//$printed"
            else
                missing+=("a pin printed by its commands (they printed" \
                    "'$(printf '%s' "$printed" | tr -c '[:print:]' '?' | head -c 80)')")
            fi ;;
        *) want= ;;
        esac
        uses+=("$kv")
        # a file the user fetched by hand (fix_pre) has no name the fix could know
        [ -f "$s/$v" ] && [ ! -e "$WORK/pre-made/$v" ] || want=${want#"$name/$v"}
        [ -n "$want" ] && [[ "$fixtext" != *"$want"* ]] && missing+=("$want")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        bad "the fix does not name $(printf "'%s' " "${missing[@]}")"
        printf '  fix: %s\n' "$fixtext"; rm -rf "$s"; continue
    fi
    changed=$(diff <(printf '%s\n' "$before") <(hashes "$s") | sed -n 's/^< [0-9a-f]*  \.\///p')
    allowed=" $(get fix_changes "$s") "
    harmed=()
    for f in $changed; do
        [[ "$allowed" == *" $f "* ]] || harmed+=("$f")
    done
    if [ ${#harmed[@]} -gt 0 ]; then
        bad "the fix changed or removed the user's files: ${harmed[*]}"; rm -rf "$s"; continue
    fi
    printf '%s\n' "${uses[@]}" >"$s/fix.use"
    use=${uses[*]}
    # 3. it works now.
    broker "$name" || { bad "no broker after the fix"; rm -rf "$s"; continue; }
    doctor "$name"
    parse
    if [ "$RC" -ne 0 ] || [ "$VERDICT" != ok ]; then
        bad "after the fix: doctor exit $RC, verdict '${VERDICT:-?}', top '$TOP'"
        rm -rf "$s"; continue
    fi
    if [[ "$IDS" == *" $expect "* ]]; then
        bad "after the fix: doctor still reports $expect"; rm -rf "$s"; continue
    fi
    DEVICE=
    if ! device_verdict "$name" 0; then
        bad "after the fix: mbedTLS 2.28 still rejects the new certificate for" \
            "$(get fix_mbedtls2_host "$s")"
        rm -rf "$s"; continue
    fi
    client_args "$name"
    if ! perr=$(cd "$WORK" && timeout 20 "$BIN" pub -h "$(get host "$s")" -p "$PORT" -t fix/check \
        -m ok -i "fix-$$-$pass" "${CARGS[@]}" 2>&1 >/dev/null); then
        bad "after the fix: mqtls pub failed: $(printf '%s' "$perr" | head -c 300)"
        rm -rf "$s"; continue
    fi
    pass=$((pass + 1))
    echo "ok   $name ($((($(date +%s%N) - ts) / 1000000)) ms): $expect fixed by:" \
        "${pre:+[$pre] }$(printf '%s' "$cmds" | tr '\n' ';')${use:+ [$use]}${DEVICE:+; $DEVICE}"
    rm -rf "$s"
done
T1=$(date +%s.%N)
echo "fix: $pass verified, $fail failed, $manual manual (${manual_list[*]:-}), brokers" \
    "${#POOL_PID[@]}, $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s"
[ $fail -eq 0 ]
