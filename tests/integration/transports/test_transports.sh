#!/usr/bin/env bash
# mqtls pub/sub over a Unix socket, TLS-PSK, SOCKS5 (danted) and HTTP CONNECT (tinyproxy), with the
# diagnosis of each failure (finding ids). Real peers on 127.0.0.1 only; every daemon this test
# starts is stopped by its PID (lib.sh's EXIT trap and stop_daemons); every wait is bounded.
source "$SRC/tests/integration/cli/lib.sh"
for b in danted tinyproxy mosquitto_pub; do
  command -v "$b" >/dev/null || { echo "FAIL - needs $b (scripts/install-deps.sh)"; exit 1; }
done
SOCK=$T/mqtt.sock
PSK_PORT=$(free_port)
echo "dev1:00112233445566778899aabbccddeeff" >"$T/psk"
cli_setup "listener 0 $SOCK" "listener $PSK_PORT 127.0.0.1" "psk_hint mqtls-test" "psk_file $T/psk" "use_identity_as_username true"
wait_port "$PSK_PORT" || { echo "FAIL - psk listener"; exit 1; }
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

DAEMONS=()
stop_daemons() {
  local p
  for p in "${DAEMONS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${DAEMONS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  DAEMONS=()
}
trap 'stop_daemons; cli_cleanup' EXIT

# run DESCRIPTION EXPECTED_RC GREP_FOR_OR_EMPTY -- mqtls args...
run() {
  local d=$1 want=$2 pat=$3; shift 4
  local out rc
  out=$(timeout 30 "$MQTLS" "$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" <<<"$out"; }; then
    ok "$d"
  else
    fail "$d (exit $rc, want $want${pat:+, '$pat'})"; echo "$out" | sed 's/^/    /'
  fi
}

# A message published with mosquitto_pub over TCP reaches `mqtls sub` started with ARGS.
sub_gets() { # description, topic, mqtls sub args...
  local d=$1 topic=$2; shift 2
  local id="sub-${topic//\//-}"
  timeout 20 "$MQTLS" sub "$@" -i "$id" -t "$topic" -C 1 -W 15 >"$T/sub.out" 2>&1 &
  local pid=$!
  wait_subscribed "$id" || fail "$d: no SUBACK in 10 s"
  mosquitto_pub -h 127.0.0.1 -p "$PLAIN" -t "$topic" -m "via-$topic" -q 1
  wait "$pid"; local rc=$?
  if [ "$rc" = 0 ] && grep -qx "via-$topic" "$T/sub.out"; then ok "$d"; else
    fail "$d (exit $rc)"; sed 's/^/    /' "$T/sub.out"; fi
}

echo "# Unix domain socket (mosquitto: listener 0 $SOCK)"
run "pub --unix" 0 "" -- pub --unix "$SOCK" -t u/1 -m hi -q 1
sub_gets "sub --unix receives" u/2 --unix "$SOCK" -q 1
run "pub --unix to a missing socket: connection-refused" 1 "connection-refused: Nothing accepts connections on the Unix socket" -- \
  pub --unix "$T/nope.sock" -t u/3 -m hi
run "--unix needs an absolute path" 2 "invalid value" -- pub --unix rel.sock -t u -m hi

echo "# TLS-PSK (mosquitto: psk_hint, psk_file)"
PSK=(-h 127.0.0.1 -p "$PSK_PORT" --psk 00112233445566778899aabbccddeeff --psk-identity dev1)
run "pub --psk" 0 "" -- pub "${PSK[@]}" -t p/1 -m hi -q 1
sub_gets "sub --psk receives" p/2 "${PSK[@]}" -q 1
grep -q "u'dev1'" "$T/mosquitto.log" && ok "the PSK identity is the user name" || fail "identity as user name"
run "wrong key: psk-mismatch" 1 "psk-mismatch" -- pub -h 127.0.0.1 -p "$PSK_PORT" \
  --psk 00112233445566778899aabbccddeefe --psk-identity dev1 -t p -m hi
run "unknown identity: psk-identity-unknown" 1 "psk-identity-unknown" -- pub -h 127.0.0.1 \
  -p "$PSK_PORT" --psk 00112233445566778899aabbccddeeff --psk-identity nobody -t p -m hi
run "--psk with --cafile is a usage error" 2 "cannot be combined" -- pub "${PSK[@]}" \
  --cafile "$PKI/ca.crt" -t p -m hi
run "--psk needs --psk-identity" 2 "go together" -- pub -h 127.0.0.1 --psk 00 -t p -m hi
run "--psk with --pin is a usage error" 2 "cannot be combined with --pin" -- pub "${PSK[@]}" \
  --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" -t p -m hi

echo "# SOCKS5: Debian's dante-server"
start_danted() { # name port method
  cat >"$T/$1.conf" <<EOC
logoutput: $T/$1.log
internal: 127.0.0.1 port = $2
external: 127.0.0.1
socksmethod: $3
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.1/32 to: 127.0.0.1/32 }
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 }
EOC
  danted -f "$T/$1.conf" -p "$T/$1.pid" -N 1 >"$T/$1.out" 2>&1 &
  DAEMONS+=($!)
  wait_port "$2" || { echo "FAIL - $1 did not start"; cat "$T/$1.out" "$T/$1.log"; exit 1; }
}
SOCKS=$(free_port); start_danted danted "$SOCKS" none
SOCKS_AUTH=$(free_port); start_danted danted-auth "$SOCKS_AUTH" username
run "pub through socks5h://" 0 "" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "socks5h://127.0.0.1:$SOCKS" -t s/1 -m hi -q 1
run "pub through socks5:// (localhost resolved here)" 0 "" -- pub -h localhost -p "$PLAIN" --proxy "socks5://127.0.0.1:$SOCKS" -t s/2 -m hi -q 1
run "mutual TLS through socks5h://" 0 "" -- pub "${TLS[@]}" --proxy "socks5h://127.0.0.1:$SOCKS" -t s/3 -m hi -q 1
sub_gets "sub through socks5h://" s/4 -h 127.0.0.1 -p "$PLAIN" --proxy "socks5h://127.0.0.1:$SOCKS" -q 1
run "a destination its rules block: proxy-refused" 1 "proxy-refused" -- pub -h 127.0.0.2 -p "$PLAIN" --proxy "socks5h://127.0.0.1:$SOCKS" -t s -m hi
CLOSED=$(free_port)
run "a closed broker port: proxy-target-unreachable" 1 "proxy-target-unreachable" -- pub -h 127.0.0.1 -p "$CLOSED" --proxy "socks5h://127.0.0.1:$SOCKS" -t s -m hi
run "no credentials for a username proxy: proxy-auth-failed" 1 "proxy-auth-failed" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "socks5h://127.0.0.1:$SOCKS_AUTH" -t s -m hi
run "wrong credentials: proxy-auth-failed" 1 "proxy-auth-failed" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "socks5h://nosuchuser:nopass@127.0.0.1:$SOCKS_AUTH" -t s -m hi
run "no proxy listening: proxy-unreachable" 1 "proxy-unreachable" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "socks5h://127.0.0.1:$CLOSED" -t s -m hi

echo "# HTTP CONNECT: Debian's tinyproxy"
HTTP=$(free_port)
cat >"$T/tinyproxy.conf" <<EOC
Port $HTTP
Listen 127.0.0.1
Timeout 30
LogFile "$T/tinyproxy.log"
LogLevel Info
MaxClients 20
Allow 127.0.0.1
ConnectPort $PLAIN
ConnectPort $MTLS
ConnectPort $CLOSED
BasicAuth alice s3cret
EOC
tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.out" 2>&1 &
DAEMONS+=($!)
wait_port "$HTTP" || { echo "FAIL - tinyproxy did not start"; cat "$T/tinyproxy.out"; exit 1; }
run "pub through http:// with Basic auth" 0 "" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h/1 -m hi -q 1
run "mutual TLS through http://" 0 "" -- pub "${TLS[@]}" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h/2 -m hi -q 1
run "no credentials (407): proxy-auth-failed" 1 "proxy-auth-failed" -- pub -h 127.0.0.1 -p "$PLAIN" --proxy "http://127.0.0.1:$HTTP" -t h -m hi
run "a port it does not allow (403): proxy-refused" 1 "proxy-refused" -- pub -h 127.0.0.1 -p "$PSK_PORT" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h -m hi
run "a closed broker port (500): proxy-target-unreachable" 1 "proxy-target-unreachable" -- pub -h 127.0.0.1 -p "$CLOSED" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h -m hi
run "the password is never printed" 1 "" -- pub -h 127.0.0.1 -p "$CLOSED" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h -m hi
if timeout 30 "$MQTLS" pub -h 127.0.0.1 -p "$CLOSED" --proxy "http://alice:s3cret@127.0.0.1:$HTTP" -t h -m hi 2>&1 | grep -q s3cret; then
  fail "password printed"; else ok "no output holds the password"; fi
run "an unknown proxy scheme is a usage error" 2 "invalid value" -- pub -h 127.0.0.1 --proxy "socks4://127.0.0.1:1" -t h -m hi

stop_daemons
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
