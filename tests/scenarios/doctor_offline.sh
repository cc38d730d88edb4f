#!/usr/bin/env bash
# `mqtls doctor --offline` on every scenario's client files: exit 0 when the manifest expects
# no problem in the FILES; when it expects a file/credential finding, that finding first and
# the exit code of the one table every command uses (docs/cli/exit-codes.md): 4 when the
# library refuses the file as pub and sub would see it, 1 for a problem the broker would find;
# 2 on usage errors; --json output must parse; a failed verdict always carries an error
# finding. Usage: doctor_offline.sh MQTLS SCENDIR
set -uo pipefail
BIN=${1:?usage: doctor_offline.sh MQTLS_BINARY SCENARIO_DIR}
DIR=${2:?usage: doctor_offline.sh MQTLS_BINARY SCENARIO_DIR}
pass=0; fail=0
get() { sed -n "s/^$1=//p" "$2/manifest" | head -1; }
check() { # NAME CONDITION-TEXT RESULT(0 ok)
    if [ "$3" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi
}
json_ok() {
    if command -v python3 >/dev/null; then python3 -c 'import json,sys; json.load(sys.stdin)'; else cat >/dev/null; fi
}
# Findings that offline checks of the client's own files can see.
offline_ids=" empty-file pem-truncated not-a-certificate cert-and-key-swapped ca-file-holds-leaf
 ca-expired client-cert-expired client-cert-not-yet-valid client-eku-missing client-key-mismatch
 client-chain-incomplete key-password-required key-password-wrong key-encryption-unsupported
 key-type-unsupported weak-client-key client-key-usage client-weak-signature-hash
 unsupported-critical-extension "
# ... of which the library refuses the file itself (mqtls_client_create(), as for pub/sub): 4
file_ids=" empty-file pem-truncated not-a-certificate cert-and-key-swapped client-key-mismatch
 key-password-required key-password-wrong key-encryption-unsupported key-type-unsupported
 unsupported-critical-extension "
ENGINE=${MQTLS_TLS_ENGINE:-$("$BIN" --version | sed -n 's/^  \([a-z0-9]*\) .*(default)$/\1/p')}
for s in "$DIR"/*/; do
    s=${s%/}; name=$(basename "$s")
    expect=$(get expect "$s")
    [ -n "$(get now "$s")$(get ca_buffer "$s")$(get profile "$s")" ] && continue
    args=(doctor --offline --json)
    [ "$(get ca_default "$s")" = 1 ] && continue # no file to check offline
    for kv in ca:--cafile cert:--cert key:--key; do
        f=$(get "${kv%%:*}" "$s"); [ -n "$f" ] && args+=("${kv#*:}" "$s/$f")
    done
    kp=$(get keypass "$s"); [ -n "$kp" ] && args+=(--keypass "$kp")
    # pin= and via= are about the connection (a server key, a reset on the way): offline there
    # is neither, the files are good, so the verdict must be "it would work" (--pin is taken
    # and has nothing to check).
    if [ -n "$(get pin "$s")$(get via "$s")" ]; then
        expect=none
        for f in $(get pin "$s"); do args+=(--pin "$f"); done
    fi
    out=$("$BIN" "${args[@]}" 2>/dev/null); rc=$?
    printf '%s' "$out" | json_ok; check "$name" "--json output does not parse" $?
    case " $(echo $offline_ids) " in
    *" $expect "*)
        top=$(printf '%s' "$out" | grep -o '"findings":\[{"id":"[a-z0-9-]*"' | sed 's/.*"id":"//; s/"$//')
        want=1 # a warning alone (client-chain-incomplete) still "would work": exit 0
        case " $(echo $file_ids) " in *" $expect "*) want=4 ;; esac
        # A PBES2 AES-256-CBC key: diag judges with mbedTLS 2.28 (ESP-IDF 4 cannot decrypt it),
        # but only the mbedtls2 engine refuses it; mbedTLS 3.6 and OpenSSL load it, so the
        # library's setup succeeds and the exit is the finding's, 1 (docs/tls-engines.md Limits).
        if [ "$expect" = key-encryption-unsupported ] && [ "$ENGINE" != mbedtls2 ]; then want=1; fi
        [ "$expect" = client-chain-incomplete ] && want=0
        [ "$rc" -eq $want ] && [ "$top" = "$expect" ]
        check "$name" "expected exit $want + $expect, got $rc + $top" $? ;;
    none)
        [ "$rc" -eq 0 ]; check "$name" "expected exit 0, got $rc" $? ;;
    esac
    # A failed verdict always carries an error finding.
    case $out in
    *'"verdict":"fail"'*)
        case $out in *'"severity":"error"'*) r=0 ;; *) r=1 ;; esac
        check "$name" "verdict fail without an error finding" $r ;;
    esac
    # Never a password in the output.
    if [ -n "$kp" ]; then
        case $out in *"$kp"*) r=1 ;; *) r=0 ;; esac
        check "$name" "password printed" $r
    fi
done
"$BIN" doctor --no-such-option >/dev/null 2>&1; [ $? -eq 2 ]; check usage "unknown option must exit 2" $?
"$BIN" doctor >/dev/null 2>&1; [ $? -eq 2 ]; check usage "nothing to check must exit 2" $?
"$BIN" doctor --cafile x --profile bogus >/dev/null 2>&1; [ $? -eq 2 ]; check usage "bad profile must exit 2" $?
"$BIN" doctor --help >/dev/null 2>&1; [ $? -eq 0 ]; check usage "--help must exit 0" $?
out=$("$BIN" doctor --offline --cafile /nonexistent/ca.crt --json)
case $out in *'"id":"file-unreadable"'*) r=0 ;; *) r=1 ;; esac
check unreadable "missing file must give file-unreadable" $?
# One truth for files (issue 9): pub, sub and doctor (offline, and with a broker it never
# reaches) read a credential with the same check, name the same finding, exit with the same
# code (4: nothing was sent) and never say "cannot connect". A folder given as --cafile
# points at --capath; a FIFO or /dev/zero is refused at once, never read (bounded).
G=$DIR/good-rsa2048
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: >"$T/empty.crt"
mkdir "$T/cadir"
mkfifo "$T/fifo.crt"
same_everywhere() { # NAME FINDING FIX-TEXT --cafile F
    local name=$1 id=$2 fixtext=$3 out rc cmd
    shift 3
    local files=("$@" --cert "$G/client.crt" --key "$G/client.key")
    for cmd in "pub -h 127.0.0.1 -p 9 -t t -m m" "sub -h 127.0.0.1 -p 9 -t t -C 1" \
        "doctor --offline" "doctor mqtts://127.0.0.1:9"; do
        # shellcheck disable=SC2086 # the command's words
        out=$(timeout 10 "$BIN" $cmd "${files[@]}" 2>&1); rc=$?
        [ $rc -eq 4 ]; check "$name ($cmd)" "exit $rc, expected 4" $?
        case $out in *"$id"*) r=0 ;; *) r=1 ;; esac
        check "$name ($cmd)" "no $id in: $(printf '%s' "$out" | head -c 300)" $r
        case $out in *"cannot connect"*) r=1 ;; *) r=0 ;; esac
        check "$name ($cmd)" "says 'cannot connect' although nothing was sent" $r
        if [ -n "$fixtext" ]; then
            case $out in *"$fixtext"*) r=0 ;; *) r=1 ;; esac
            check "$name ($cmd)" "the fix lacks '$fixtext'" $r
        fi
    done
}
same_everywhere empty-ca empty-file "" --cafile "$T/empty.crt"
same_everywhere ca-is-a-folder file-unreadable "--capath" --cafile "$T/cadir"
same_everywhere ca-missing file-unreadable "" --cafile "$T/nope.crt"
same_everywhere ca-is-a-fifo file-unreadable "" --cafile "$T/fifo.crt"
same_everywhere ca-is-dev-zero file-unreadable "" --cafile /dev/zero
# doctor never says the key "matches the certificate" when there is no certificate.
out=$("$BIN" doctor --offline --cafile "$G/ca.crt" --cert "$G/client.key" --key "$G/client.key")
case $out in *"matches the certificate"*) r=1 ;; *) r=0 ;; esac
check "key-without-certificate" "doctor says the key matches a certificate that is not there" $r
out=$("$BIN" doctor --offline --cafile "$G/ca.crt" --cert "$G/client.crt" --key "$G/client.key")
case $out in *"matches the certificate"*) r=0 ;; *) r=1 ;; esac
check "key-with-its-certificate" "a matching pair is not said to match" $r
echo "doctor offline: $pass passed, $fail failed"
[ $fail -eq 0 ]
