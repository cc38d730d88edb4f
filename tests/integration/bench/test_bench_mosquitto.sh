#!/usr/bin/env bash
# `mqtls pki fleet` + `mqtls bench` against a real mosquitto (mutual TLS, a CRL) on 127.0.0.1:
# 200 devices of which 10 have expired and 10 are revoked -> the JSON report counts 180
# connected and each failure under its finding id, with one diagnosis per kind of failure;
# then short reconnect (TLS session resumption) and latency runs, the plot, and usage errors.
# usage: test_bench_mosquitto.sh MQTLS MOSQUITTO OPENSSL
# Only 127.0.0.1; mosquitto is stopped by its PID; every run is bounded (timeout, -W).
set -u
MQTLS=$1 MOSQUITTO=$2 OPENSSL=$3

WORK=$(mktemp -d /tmp/mqtls-bench-it-XXXXXX) || exit 1
BROKER_PID=""
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null
        i=0
        while kill -0 "$BROKER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.json "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
    [ -f "$WORK/mosquitto.log" ] && { echo "--- mosquitto.log" >&2; tail -n 20 "$WORK/mosquitto.log" >&2; }
    exit 1
}
step() { echo "== $*"; }
# check FILE PYTHON-EXPRESSION...: each expression, on the JSON object d, must be true
check() {
    local file=$1; shift
    python3 - "$file" "$@" <<'PY' || fail "$file: a check failed"
import json, sys
d = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr, {"d": d}):
        print("FAIL -", expr, file=sys.stderr)
        sys.exit(1)
    print("ok -", expr)
PY
}

PKI=$WORK/pki
mkdir "$PKI" || fail mkdir
step "a CA, the broker, a fleet of 180 + 10 expired + 10 revoked devices"
"$MQTLS" pki init "$PKI" >/dev/null || fail "pki init"
"$MQTLS" pki server "$PKI" --name localhost --ip 127.0.0.1 >/dev/null || fail "pki server"
"$MQTLS" pki fleet "$PKI" --count 180 >"$WORK/fleet.out" || fail "pki fleet"
grep -q "^wrote 180 device certificates and keys (dev-000001 .. dev-000180)" "$WORK/fleet.out" \
    || fail "pki fleet said: $(cat "$WORK/fleet.out")"
"$MQTLS" pki fleet "$PKI" --prefix exp- --count 10 --backdate 30 --days 1 >/dev/null || fail "expired"
"$MQTLS" pki fleet "$PKI" --prefix rev- --count 10 >/dev/null || fail "to revoke"
[ "$(wc -l <"$PKI/fleet.csv")" -eq 201 ] || fail "fleet.csv has $(wc -l <"$PKI/fleet.csv") lines"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["count"]==200 and len(d["devices"])==200' \
    "$PKI/fleet.json" || fail "fleet.json"
"$OPENSSL" verify -CAfile "$PKI/ca.crt" "$PKI/dev-000180.crt" >/dev/null || fail "openssl verify"

# The CRL: openssl ca's database lists the rev- devices as revoked.
: >"$WORK/index.txt"
for i in $(seq -f "%06g" 1 10); do
    serial=$("$OPENSSL" x509 -in "$PKI/rev-$i.crt" -noout -serial | cut -d= -f2)
    printf 'R\t%s\t%s\t%s\tunknown\t/CN=rev-%s\n' "$(date -u -d '+1 year' +%y%m%d%H%M%SZ)" \
        "$(date -u +%y%m%d%H%M%SZ)" "$serial" "$i" >>"$WORK/index.txt"
done
echo 01 >"$WORK/crlnumber"
cat >"$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = d
[ d ]
database = $WORK/index.txt
crlnumber = $WORK/crlnumber
default_md = sha256
default_crl_days = 30
CNF
"$OPENSSL" ca -gencrl -config "$WORK/ca.cnf" -cert "$PKI/ca.crt" -keyfile "$PKI/ca.key" \
    -out "$PKI/ca.crl" 2>"$WORK/crl.err" || fail "openssl ca -gencrl"

step "mosquitto: mutual TLS, the CRL, no connection limit"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
    [ "$(id -u)" = 0 ] && echo "user root" # as root, mosquitto drops to a user who cannot read $WORK
    echo "per_listener_settings false"
    echo "max_connections -1"
    echo "log_dest file $WORK/mosquitto.log"
    echo "listener $PORT 127.0.0.1"
    echo "cafile $PKI/ca.crt"
    echo "certfile $PKI/server.crt"
    echo "keyfile $PKI/server.key"
    echo "crlfile $PKI/ca.crl"
    echo "require_certificate true"
    echo "use_identity_as_username true"
} >"$WORK/mosquitto.conf"
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >/dev/null 2>&1 &
BROKER_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "mosquitto does not listen on $PORT"

BENCH=(timeout 150 "$MQTLS" bench)
TLS=(-h 127.0.0.1 -p "$PORT" --cafile "$PKI/ca.crt")

step "bench connect: 200 devices, 20 of them refused"
"${BENCH[@]}" connect "${TLS[@]}" --fleet "$PKI" -n 200 --rate 100 --hold 1 --json \
    --broker-pid "$BROKER_PID" --plot "$WORK/connect.svg" -W 120 >"$WORK/connect.json" \
    2>"$WORK/connect.err"
rc=$?
[ $rc -eq 1 ] || fail "bench connect exited $rc, expected 1 (some devices failed)"
check "$WORK/connect.json" \
    'd["scenario"] == "connect" and d["devices"] == 200 and d["certificates"] == "fleet"' \
    'd["connected"] == 180' 'd["failed"] == 20' 'd["lost"] == 0' \
    'd["failures"] == {"client-cert-expired": 10, "client-cert-revoked": 10}' \
    'd["diagnoses_run"] == 2' \
    'any(c["id"] == "client-cert-revoked" and "certificate_revoked" in c["detail"] for c in d["failure_classes"])' \
    'any(c["id"] == "client-cert-expired" and c["example_device"].startswith("exp-") for c in d["failure_classes"])' \
    'd["connect"]["latency"]["count"] == 180' \
    'd["connect"]["latency"]["p50_ms"] <= d["connect"]["latency"]["p90_ms"] <= d["connect"]["latency"]["p99_ms"] <= d["connect"]["latency"]["p99_9_ms"] <= d["connect"]["latency"]["max_ms"]' \
    'd["connect"]["broker_cpu_cores"] >= 0' \
    'd["process"]["rss_bytes_per_connection"] > 0' 'd["limit"] != ""' \
    'd["plot"] is not None or "gnuplot" in d.get("plot_error", "")' \
    'd["stopped"] == "completed"'
grep -q '^\[connect ' "$WORK/connect.err" || fail "no plain progress lines on stderr (not a TTY)"
if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["plot"] else 1)' "$WORK/connect.json"; then
    grep -q "<svg" "$WORK/connect.svg" || fail "the plot is not an SVG"
    [ -s "$WORK/connect.svg.dat" ] || fail "no plot data"
fi

step "the text report names each failure with its finding id"
"${BENCH[@]}" connect "${TLS[@]}" --fleet "$PKI" -n 200 --rate 100 --hold 0 --quiet -W 120 \
    >"$WORK/connect.txt" 2>"$WORK/text.err"
grep -q "10 devices failed: client-cert-expired" "$WORK/connect.txt" || fail "$(cat "$WORK/connect.txt")"
grep -q "10 devices failed: client-cert-revoked \[alert certificate_revoked (44)\]" \
    "$WORK/connect.txt" || fail "$(cat "$WORK/connect.txt")"
[ ! -s "$WORK/text.err" ] || fail "--quiet printed: $(cat "$WORK/text.err")"

step "bench reconnect: one shared certificate, the storm with and without TLS resumption"
"${BENCH[@]}" reconnect "${TLS[@]}" --cert "$PKI/dev-000001.crt" --key "$PKI/dev-000001.key" \
    -n 20 --hold 0 --json --quiet -W 120 >"$WORK/reconnect.json"
rc=$?
[ $rc -eq 0 ] || fail "bench reconnect exited $rc"
check "$WORK/reconnect.json" 'd["certificates"] == "shared" and d["connected"] == 20' \
    'd["reconnect_resumed"]["connected"] == 20 and d["reconnect_resumed"]["resumed"] == 20' \
    'd["reconnect_full"]["connected"] == 20 and d["reconnect_full"]["resumed"] == 0' \
    'd["resumption_speedup"] > 0'

step "bench latency: one publisher, one subscriber, QoS 1"
"${BENCH[@]}" latency "${TLS[@]}" --fleet "$PKI" --duration 2 --msg-rate 20 --json --quiet \
    -W 60 >"$WORK/latency.json"
rc=$?
[ $rc -eq 0 ] || fail "bench latency exited $rc"
check "$WORK/latency.json" 'd["messages"]["published"] >= 30' \
    'd["messages"]["received"] == d["messages"]["published"]' \
    'd["messages"]["received_by_qos"][1] == d["messages"]["received"]' \
    'd["messages"]["latency"]["count"] == d["messages"]["received"]' \
    'd["messages"]["latency"]["p99_ms"] < 2000'

step "usage errors"
"$MQTLS" bench "${TLS[@]}" --fleet "$PKI" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no scenario: exit $rc"
"$MQTLS" bench connect "${TLS[@]}" --fleet "$PKI" -n 500 >/dev/null 2>"$WORK/n.err"; rc=$?
[ $rc -eq 2 ] && grep -q "has 200 devices" "$WORK/n.err" || fail "-n above the fleet: exit $rc"
"$MQTLS" bench connect "${TLS[@]}" --fleet "$WORK/nowhere" >/dev/null 2>&1; rc=$?
[ $rc -eq 4 ] || fail "missing manifest: exit $rc"
"$MQTLS" bench connect "${TLS[@]}" --fleet "$PKI" --cert "$PKI/dev-000001.crt" \
    --key "$PKI/dev-000001.key" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--fleet with --cert: exit $rc"
echo "PASS"
