#!/usr/bin/env bash
# The hostile-input table (issue 10): mqtls (and through it the library) against FIFOs,
# directories, /dev/zero, huge files, truncated and garbage PEM/DER, absurd option values,
# invalid UTF-8 topics, endless stdin and a broker that sends garbage. Every row states the
# exit code and the message (with its status name) it must give, and must give them in bounded
# time (ROW_SECONDS) and memory: each command runs under `prlimit --as` (address space) and
# GNU time measures its peak RSS (under a sanitizer, whose shadow memory needs a huge address
# space, only the RSS is bounded). Before issue 10 the FIFO rows hung, the /dev/zero and
# endless-stdin rows grew without limit, the garbage broker was waited on until the keepalive.
# Real mosquitto on 127.0.0.1 for the rows that need a connection (lib.sh).
source "$(dirname "$0")/lib.sh"
cli_setup

ROW_SECONDS=5
AS_LIMIT=$((768 * 1024 * 1024)) # bytes of address space (not under a sanitizer)
RSS_LIMIT_KB=$((192 * 1024))    # peak resident memory
if [ -n "${MQTLS_SANITIZE:-}" ]; then
  RSS_LIMIT_KB=$((1024 * 1024)) # ASan's shadow and quarantine
fi

# --- fixtures ----------------------------------------------------------------------------
F=$T/hostile
mkdir -p "$F/dir" "$F/capath"
mkfifo "$F/fifo"
truncate -s 5M "$F/huge"                        # above every limit (1 MiB credentials, 4 MiB payload)
truncate -s 2M "$F/huge.pem"
printf -- '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n' >"$F/truncated.pem"
head -c 2000 /dev/urandom >"$F/garbage.der"
printf '\x30\x82\x05\x00\x02\x01' >"$F/truncated.der" # a DER SEQUENCE cut short
cp "$PKI/ca.crt" "$F/capath/"
mkfifo "$F/capath/pipe.pem"                     # skipped in a CA directory, never waited on
printf 'secret\n' >"$F/pass"
LONG=$(head -c 200 /dev/zero | tr '\0' u)
HOST300=$(head -c 300 /dev/zero | tr '\0' h)

# A "broker" that answers CONNECT with a CONNACK with reserved flags set (0x29) and a huge
# remaining length, then nothing [MQTT-2.2.2-2]. Stopped by PID by lib.sh's cleanup.
GARBAGE_PORT=$(free_port)
python3 - "$GARBAGE_PORT" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(120)
end = time.time() + 120
while time.time() < end:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.recv(1024)
    c.sendall(b"\x29\xff\xff\xff\x7f")
PY
wait_port "$GARBAGE_PORT" || { echo "garbage broker did not start"; exit 1; }

PLAIN_FLAGS=(-h 127.0.0.1 -p "$PLAIN")

# --- the table ---------------------------------------------------------------------------
# row NAME EXIT OUTPUT-REGEX STDIN -- mqtls ARGS...
#   OUTPUT: what the command prints (stderr and stdout together); "" = nothing at all.
#   STDIN: null | zero | endless (yes) | FILE
row() {
  local name=$1 want_rc=$2 want_err=$3 input=$4
  shift 5
  local out=$T/row.out rss=$T/row.rss
  local wrap=()
  if [ -z "${MQTLS_SANITIZE:-}" ]; then
    wrap=(prlimit --as="$AS_LIMIT" --)
  fi
  local t0 rc ms
  t0=$(date +%s%N)
  case $input in
    null) timeout -s KILL 20 /usr/bin/time -f %M -o "$rss" "${wrap[@]}" "$MQTLS" "$@" \
            </dev/null >"$out" 2>&1 ;;
    zero) timeout -s KILL 20 /usr/bin/time -f %M -o "$rss" "${wrap[@]}" "$MQTLS" "$@" \
            </dev/zero >"$out" 2>&1 ;;
    endless) yes | timeout -s KILL 20 /usr/bin/time -f %M -o "$rss" "${wrap[@]}" "$MQTLS" "$@" \
            >"$out" 2>&1 ;;
    *) timeout -s KILL 20 /usr/bin/time -f %M -o "$rss" "${wrap[@]}" "$MQTLS" "$@" \
            <"$input" >"$out" 2>&1 ;;
  esac
  local st=("${PIPESTATUS[@]}")
  rc=${st[0]}
  [ "$input" = endless ] && rc=${st[1]}
  ms=$((($(date +%s%N) - t0) / 1000000))
  local kb
  kb=$(grep -E '^[0-9]+$' "$rss" | tail -n 1)
  kb=${kb:-0}
  local why=""
  [ "$rc" = "$want_rc" ] || why="exit $rc, want $want_rc; "
  if [ -z "$want_err" ]; then
    [ ! -s "$out" ] || why="${why}output not empty; "
  else
    grep -Eq -- "$want_err" "$out" || why="${why}output lacks /$want_err/; "
  fi
  [ "$ms" -lt $((ROW_SECONDS * 1000)) ] || why="${why}took $ms ms (limit ${ROW_SECONDS} s); "
  [ "$kb" -gt 0 ] && [ "$kb" -lt "$RSS_LIMIT_KB" ] || why="${why}peak RSS ${kb} KiB; "
  if [ -z "$why" ]; then
    ok "$name: exit $rc in $ms ms, peak RSS $((kb / 1024)) MiB"
  else
    fail "$name: $why"
    sed 's/^/    output: /' "$out" | head -n 5
  fi
}

NR='MQTLS_ERR_FILE_NOT_REGULAR'
TL='MQTLS_ERR_FILE_TOO_LARGE'

# files where a payload is expected (-f): a character device is allowed, then bounded
row "pub -f FIFO" 4 "cannot read $F/fifo: a FIFO \(named pipe\), not a file \($NR\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -f "$F/fifo"
row "pub -f directory" 4 "a directory, not a file \($NR\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -f "$F/dir"
row "pub -f /dev/zero" 4 "larger than the limit of 4194304 bytes \($TL\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -f /dev/zero
row "pub -f huge file" 4 "larger than the limit of 4194304 bytes \($TL\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -f "$F/huge"
row "pub -f missing" 4 "No such file or directory \(MQTLS_ERR_FILE_UNREADABLE\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -f "$F/missing"
# endless stdin
row "pub -s < /dev/zero" 4 "cannot read stdin: larger than the limit of 4194304 bytes \($TL\)" \
  zero -- pub "${PLAIN_FLAGS[@]}" -t h/t -s
row "pub -s < yes" 4 "cannot read stdin: larger than the limit of 4194304 bytes \($TL\)" \
  endless -- pub "${PLAIN_FLAGS[@]}" -t h/t -s
row "pub -l < /dev/zero (no newline)" 4 "a line longer than the limit of 4194304 bytes \($TL\)" \
  zero -- pub "${PLAIN_FLAGS[@]}" -t h/t -l
row "explain < /dev/zero" 4 "read stdin: larger than the limit of 16777216 bytes \($TL\)" \
  zero -- explain
# credential files
row "--cafile FIFO" 4 "a FIFO \(named pipe\), not a file \($NR\)" null \
  -- pub "${TLS[@]}" --cafile "$F/fifo" -t h/t -m x
row "--cafile /dev/zero" 4 "a character device, not a file \($NR\)" null \
  -- pub "${TLS[@]}" --cafile /dev/zero -t h/t -m x
row "--cafile directory" 4 "a directory, not a file \($NR\)" null \
  -- pub "${TLS[@]}" --cafile "$F/dir" -t h/t -m x
row "--cafile huge" 4 "larger than the limit of 1048576 bytes \($TL\)" null \
  -- pub "${TLS[@]}" --cafile "$F/huge.pem" -t h/t -m x
row "--cert FIFO" 4 "$NR" null -- pub "${TLS[@]}" --cert "$F/fifo" -t h/t -m x
row "--key FIFO" 4 "$NR" null -- pub "${TLS[@]}" --key "$F/fifo" -t h/t -m x
row "--capath with a FIFO in it" 0 "" null \
  -- pub -h 127.0.0.1 -p "$MTLS" --capath "$F/capath" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" -t h/t -m x
row "--keypass-file FIFO" 4 "cannot read --keypass-file $F/fifo: a FIFO .*\($NR\)" null \
  -- pub "${TLS[@]}" --keypass-file "$F/fifo" -t h/t -m x
row "--keypass-file /dev/null" 4 "cannot read --keypass-file /dev/null: .*character device.*\($NR\)" \
  null -- pub "${TLS[@]}" --keypass-file /dev/null -t h/t -m x
row "--keypass-file missing" 4 "No such file or directory \(MQTLS_ERR_FILE_UNREADABLE\)" null \
  -- pub "${TLS[@]}" --keypass-file "$F/missing" -t h/t -m x
row "doctor --keypass-file FIFO" 4 "cannot read --keypass-file .*\($NR\)" null \
  -- doctor --key "$PKI/client.key" --keypass-file "$F/fifo"
# truncated and garbage PEM / DER: a file problem, exit 4 like any other (docs/cli/exit-codes.md)
row "--cafile truncated PEM" 4 "MQTLS_ERR_CA_PARSE.*pem-truncated|pem-truncated" null \
  -- pub "${TLS[@]}" --cafile "$F/truncated.pem" -t h/t -m x
row "--cafile garbage" 4 "MQTLS_ERR_CA_PARSE" null \
  -- pub "${TLS[@]}" --cafile "$F/garbage.der" -t h/t -m x
row "--cafile truncated DER" 4 "MQTLS_ERR_CA_PARSE" null \
  -- pub "${TLS[@]}" --cafile "$F/truncated.der" -t h/t -m x
row "--cert truncated PEM" 4 "MQTLS_ERR_CERT_PARSE.*|pem-truncated" null \
  -- pub "${TLS[@]}" --cert "$F/truncated.pem" -t h/t -m x
row "--key garbage" 4 "MQTLS_ERR_KEY_PARSE" null \
  -- pub "${TLS[@]}" --key "$F/garbage.der" -t h/t -m x
row "pki show FIFO" 4 "show $F/fifo: a FIFO \(named pipe\), not a file \($NR\)" null \
  -- pki show "$F/fifo"
row "pki show /dev/zero" 4 "a character device, not a file \($NR\)" null -- pki show /dev/zero
row "pki show huge" 4 "larger than the limit of 1048576 bytes \($TL\)" null \
  -- pki show "$F/huge"
row "pki show garbage" 4 "no certificate or key found \(MQTLS_ERR_CERT_PARSE\)" null \
  -- pki show "$F/garbage.der"
row "doctor --cafile FIFO" 4 "cannot be read \(not a regular file: a FIFO" null -- doctor --cafile "$F/fifo"
row "doctor --cafile truncated PEM" 4 "pem-truncated" null -- doctor --cafile "$F/truncated.pem"
# absurd option values
row "-p 0" 2 "invalid value '0' for -p" null -- pub -p 0 -t h/t -m x
row "-p 70000" 2 "invalid value '70000' for -p" null -- pub -p 70000 -t h/t -m x
row "-k -1" 2 "invalid value '-1' for -k" null -- pub -k -1 -t h/t -m x
row "-q 3" 2 "invalid value '3' for -q" null -- pub -q 3 -t h/t -m x
row "--repeat 99999999999" 2 "invalid value '99999999999' for --repeat" null \
  -- pub --repeat 99999999999 -t h/t -m x
row "--repeat-delay 1e400" 2 "invalid value '1e400' for --repeat-delay" null \
  -- pub --repeat-delay 1e400 -t h/t -m x
row "sub -C 0" 2 "invalid value '0' for -C" null -- sub -C 0 -t h/t
row "sub -W 0" 2 "invalid value '0' for -W" null -- sub -W 0 -t h/t
row "-h of 300 bytes" 2 "invalid value 'h+' for -h" null -- pub -h "$HOST300" -t h/t -m x
row "-L user of 200 bytes" 2 "has a user name longer than 127 bytes" null \
  -- pub -L "mqtt://$LONG:pw@127.0.0.1/h/t" -m x
row "-L password of 200 bytes" 2 "-L 'mqtt://u:\*\*\*@127.0.0.1/h/t' has a password longer" null \
  -- pub -L "mqtt://u:$LONG@127.0.0.1/h/t" -m x
row "-L bad port, password hidden" 2 "-L 'mqtt://u:\*\*\*@127.0.0.1:99999/h/t' is not" null \
  -- pub -L "mqtt://u:secret@127.0.0.1:99999/h/t" -m x
row "--ciphers unknown" 2 "\(MQTLS_ERR_INVALID_ARG\): unknown cipher suite 'NO-SUCH'" null \
  -- pub "${TLS[@]}" --ciphers NO-SUCH -t h/t -m x
row "--tls-version tlsv1.1" 2 "invalid value 'tlsv1.1' for --tls-version" null \
  -- pub --tls-version tlsv1.1 -t h/t -m x
# invalid UTF-8 and malformed topics: refused before connecting
row "pub invalid UTF-8 topic" 2 "topic of 3 bytes: .*\(MQTLS_ERR_UTF8_INVALID\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t "$(printf 'a/\xff')" -m x
row "pub overlong UTF-8 topic" 2 "\(MQTLS_ERR_UTF8_(INVALID|NONMINIMAL)\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t "$(printf '\xc0\xaf')" -m x
row "pub surrogate in topic" 2 "\(MQTLS_ERR_UTF8_(INVALID|SURROGATE)\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t "$(printf '\xed\xa0\x80')" -m x
row "sub invalid UTF-8 filter" 2 "\(MQTLS_ERR_UTF8_INVALID\)" null \
  -- sub "${PLAIN_FLAGS[@]}" -t "$(printf 'x/\xc3')"
row "sub misplaced #" 2 "topic 'a/#/b': .*\(MQTLS_ERR_FILTER_INVALID\)" null \
  -- sub "${PLAIN_FLAGS[@]}" -t 'a/#/b'
row "--will-topic with +" 2 "--will-topic 'w/\+': .*\(MQTLS_ERR_TOPIC_WILDCARD\)" null \
  -- pub "${PLAIN_FLAGS[@]}" -t h/t -m x --will-topic 'w/+'
# a hostile peer: garbage on the first byte is refused at once, not after the keepalive
row "broker sends 0x29 + huge length" 1 "\(MQTLS_ERR_BAD_FLAGS\).*first byte 0x29" null \
  -- sub -h 127.0.0.1 -p "$GARBAGE_PORT" -t h/t -k 60
row "broker sends 0x29 + huge length (pub)" 1 "\(MQTLS_ERR_BAD_FLAGS\)" null \
  -- pub -h 127.0.0.1 -p "$GARBAGE_PORT" -t h/t -m x -k 60

finish
