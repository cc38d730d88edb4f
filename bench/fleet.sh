#!/usr/bin/env bash
# bench/fleet.sh [OUT_DIR] — the 10,000-connection run: one `mqtls bench connect` process holds
# N concurrent mutual-TLS connections to a local mosquitto (127.0.0.1 only), each device with
# its own certificate (a `mqtls pki fleet`), then the same with one shared certificate (one
# parsed TLS context for all: the per-connection part alone). Handles the limits a run this
# size hits: the bench raises its own open-file limit (it needs N + 256), the broker is started
# with `ulimit -n` N + 1024 and `max_connections -1`, and the ramp is spread (--rate,
# --max-pending) because mosquitto listens with a backlog of 100.
# Knobs: FLEET_N=10000 FLEET_RATE=250 FLEET_PENDING=200 (--max-pending: the ramp never runs more
#   attempts than the bench can answer within the 30 s connect timeout) FLEET_HOLD=30
#   FLEET_THREADS=<CPUs> MQTLS=<mqtls CLI>
#   FLEET_SHARED=1 (also the shared-certificate run) FLEET_OWN=1 (the own-certificate run)
#   FLEET_ARGS="..." (more options for every `mqtls bench connect`, e.g. "--tls-max-fragment
#   4096"; the engine is MQTLS_TLS_ENGINE, as for every mqtls command)
# Writes OUT_DIR (default build-bench/fleet): fleet-<variant>.json, .png (+ .dat, .gp), and
# fleet.log with every command; prints a summary. Not a test: nothing fails on a figure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
outdir=${1:-$root/build-bench/fleet}
N=${FLEET_N:-10000}
RATE=${FLEET_RATE:-250}
HOLD=${FLEET_HOLD:-30}
THREADS=${FLEET_THREADS:-$(nproc)}
PENDING=${FLEET_PENDING:-200}
SHARED=${FLEET_SHARED:-1}
OWN=${FLEET_OWN:-1}
read -r -a EXTRA <<<"${FLEET_ARGS:-}"
MQTLS=${MQTLS:-}
for cand in "$MQTLS" "$root/build-bench/mqtls" "$root/build/mqtls"; do
  [ -n "$cand" ] && [ -x "$cand" ] && { MQTLS=$cand; break; }
done
[ -x "$MQTLS" ] || { echo "fleet: no mqtls CLI (build it, or MQTLS=path)" >&2; exit 2; }
command -v mosquitto >/dev/null || { echo "fleet: mosquitto not installed" >&2; exit 2; }
mkdir -p "$outdir"
log=$outdir/fleet.log
: >"$log"
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((N + 1024)) ]; then
  echo "fleet: the open-file hard limit is $hard; $N connections need $((N + 1024)) (bench and broker)" >&2
  exit 2
fi

tmp=$(mktemp -d /tmp/mqtls-fleet.XXXXXX)
BROKER=""
cleanup() {
  [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/pki"
"$MQTLS" pki init "$tmp/pki" >/dev/null || exit 2
"$MQTLS" pki server "$tmp/pki" --name localhost --ip 127.0.0.1 >/dev/null || exit 2
echo "\$ $MQTLS pki fleet $tmp/pki --count $N" | tee -a "$log" >&2
/usr/bin/time -f "fleet generation: %e s wall, %U s user, %S s sys" \
  "$MQTLS" pki fleet "$tmp/pki" --count "$N" 2>&1 | tee -a "$log" >&2

. "$here/mtls_broker.sh"
mtls_broker_start "$tmp" "$N" || exit 2
echo "broker: mosquitto pid $BROKER, $(grep 'open files' /proc/$BROKER/limits | awk '{print $4}') open files" | tee -a "$log" >&2

broker_rss() { awk '/VmRSS/ {print $2}' "/proc/$BROKER/status"; }
run() { # variant args...
  local v=$1; shift
  local cmd=("$MQTLS" bench connect -h 127.0.0.1 -p "$PORT" --cafile "$tmp/pki/ca.crt" -n "$N" \
    --rate "$RATE" --max-pending "$PENDING" --hold "$HOLD" --threads "$THREADS" \
    --broker-pid "$BROKER" --json \
    --plot "$outdir/fleet-$v.png" "${EXTRA[@]}" "$@")
  echo "\$ ${MQTLS_TLS_ENGINE:+MQTLS_TLS_ENGINE=$MQTLS_TLS_ENGINE }${cmd[*]}" | tee -a "$log" >&2
  local rss0; rss0=$(broker_rss)
  "${cmd[@]}" >"$outdir/fleet-$v.json" 2>>"$log"
  echo "exit $? ; broker RSS before ${rss0} KiB, after $(broker_rss) KiB" | tee -a "$log" >&2
  sleep 3
}
[ "$OWN" = 1 ] && run own --fleet "$tmp/pki"
[ "$SHARED" = 1 ] && run shared --cert "$tmp/pki/dev-000001.crt" --key "$tmp/pki/dev-000001.key"

for v in own shared; do
  f=$outdir/fleet-$v.json
  [ -s "$f" ] || continue
  python3 - "$f" "$v" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["connect"]; p = d["process"]; l = c["latency"]
print(f"{sys.argv[2]:>6} certificates: {d['connected']}/{d['devices']} connected "
      f"({d['failed']} failed, {d['lost']} lost in the hold) in {c['seconds']:.1f} s = "
      f"{c['rate_per_s']:.1f}/s; prepare {d['prepare_seconds']:.1f} s; connect p50/p99/max "
      f"{l['p50_ms']:.0f}/{l['p99_ms']:.0f}/{l['max_ms']:.0f} ms")
print(f"        RSS {p['rss_kib_connected']/1024:.0f} MiB connected (start {p['rss_kib_start']/1024:.0f}"
      f" MiB, created {p['rss_kib_created']/1024:.0f} MiB): {p['rss_bytes_per_connection']} B "
      f"= {p['rss_bytes_per_connection']/1024:.1f} KiB per connection; CPU {c['cpu_cores']*100:.0f}%, "
      f"broker {c.get('broker_cpu_cores', -1)*100:.0f}%, machine {c.get('machine_busy', -1)*100:.0f}% busy")
print(f"        limit: {d['limit']}")
PY
done
echo "(every command: $log; JSON and plots in $outdir)"
