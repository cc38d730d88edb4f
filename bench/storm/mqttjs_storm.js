// mqttjs_storm.js: the connect storm of bench/storm.sh with MQTT.js (Node.js), driven the way
// storm_common.h describes for the C peers: one MQTT.js client per device, each with its own
// certificate and key from a `mqtls pki fleet` manifest; storm 1 connects all (started at --rate
// per second, 0 = at once), hold 1 s, everyone ends, storm 2 reconnects every client object
// with the TLS session it kept (Node's tls 'session' event -> options.session: resumption where
// the broker allows it), everyone ends. One RESULT line per storm:
//   RESULT prog=mqttjs phase=connect|reconnect n=N connected=C seconds=S rate=R p50_ms=A
//          p99_ms=B resumed=K
// Node runs JavaScript (and the TLS handshakes it starts) on one thread: --threads is ignored.
'use strict';
const fs = require('fs');
const path = require('path');
const mqtt = require('mqtt');

function parse(argv) {
  const o = { host: '127.0.0.1', port: 0, cafile: null, fleet: null, n: 0, rate: 0, timeout: 120 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--host': o.host = v; i++; break;
      case '--port': o.port = Number(v); i++; break;
      case '--cafile': o.cafile = v; i++; break;
      case '--fleet': o.fleet = v; i++; break;
      case '-n': case '--count': o.n = Number(v); i++; break;
      case '--rate': o.rate = Number(v); i++; break;
      case '--threads': i++; break;
      case '--timeout': o.timeout = Number(v); i++; break;
      default:
        console.error(`usage: node mqttjs_storm.js --host H --port P --cafile CA --fleet DIR -n N [--rate R]`);
        process.exit(2);
    }
  }
  if (!o.port || !o.cafile || !o.fleet || !(o.n > 0)) {
    console.error('storm mqttjs: --port, --cafile, --fleet and -n are required');
    process.exit(2);
  }
  return o;
}

function readFleet(o) {
  const rows = fs.readFileSync(path.join(o.fleet, 'fleet.csv'), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('id,')).map((l) => l.split(','));
  if (rows.length < o.n) {
    console.error(`storm mqttjs: the fleet has ${rows.length} devices, -n ${o.n}`);
    process.exit(2);
  }
  return rows.slice(0, o.n).map(([id, cert, key]) => ({ id, cert: path.join(o.fleet, cert), key: path.join(o.fleet, key) }));
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function report(phase, o, lat, t0, last, resumed) {
  lat.sort((a, b) => a - b);
  const c = lat.length;
  const seconds = c > 0 && last > t0 ? (last - t0) / 1e6 : 0;
  const rank = (p) => (c > 0 ? lat[Math.ceil((c * p) / 100) - 1] / 1000 : 0);
  console.log(`RESULT prog=mqttjs phase=${phase} n=${o.n} connected=${c} seconds=${seconds.toFixed(3)} ` +
    `rate=${(seconds > 0 ? c / seconds : 0).toFixed(1)} p50_ms=${rank(50).toFixed(1)} ` +
    `p99_ms=${rank(99).toFixed(1)} resumed=${resumed}`);
}

async function storm(phase, o, devs, clients) {
  const lat = [];
  let last = 0;
  let resumed = 0;
  let answered = 0;
  const t0 = nowUs();
  const done = new Promise((resolve) => {
    const check = () => { if (answered === o.n) resolve(); };
    devs.forEach((d, i) => {
      const at = o.rate > 0 ? (i * 1000) / o.rate : 0;
      setTimeout(() => {
        const start = nowUs();
        let c = clients[i];
        const onConnect = () => {
          const now = nowUs();
          lat.push(now - start);
          last = Math.max(last, now);
          if (c.stream && typeof c.stream.isSessionReused === 'function' && c.stream.isSessionReused()) {
            resumed++;
          }
          answered++;
          check();
        };
        const onError = (e) => {
          if (answered < 3) console.error(`storm mqttjs: ${d.id}: ${e.message}`);
          answered++;
          check();
        };
        if (!c) {
          c = mqtt.connect({
            protocol: 'mqtts', host: o.host, port: o.port, clientId: d.id, clean: true,
            keepalive: 60, reconnectPeriod: 0, connectTimeout: 30000, rejectUnauthorized: true,
            ca: fs.readFileSync(o.cafile), cert: fs.readFileSync(d.cert), key: fs.readFileSync(d.key),
          });
          clients[i] = c;
        } else {
          c.reconnect(); // the same client object, a new TLS socket from c.options
        }
        // The socket exists now (connect() / reconnect() make it at once): keep its TLS session
        // for the next connect (TLS 1.3: the tickets arrive after the handshake).
        c.stream.on('session', (s) => { c.options.session = s; });
        c.once('connect', onConnect);
        c.once('error', onError);
      }, at);
    });
  });
  await Promise.race([done, sleep(o.timeout * 1000)]);
  report(phase, o, lat, t0, last, resumed);
}

async function endAll(clients) {
  await Promise.race([
    Promise.all(clients.map((c) => (c ? new Promise((r) => c.end(false, {}, r)) : null))),
    sleep(30000),
  ]);
}

(async () => {
  const o = parse(process.argv);
  const devs = readFleet(o);
  const clients = new Array(o.n).fill(null);
  await storm('connect', o, devs, clients);
  await sleep(1000);
  await endAll(clients);
  await storm('reconnect', o, devs, clients);
  await sleep(1000);
  await endAll(clients);
  process.exit(0);
})();
