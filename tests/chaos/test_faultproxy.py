#!/usr/bin/env python3
"""faultproxy against a real mosquitto (127.0.0.1, free ports, own config) and against small
in-process servers, with checker.py judging what Debian's mosquitto_pub / mosquitto_sub
delivered through it.

Every process is started here and stopped by its PID; every wait has a deadline; the whole
run stays well under 60 s. Set KEEP=1 to keep the temporary directory.
Environment: FAULTPROXY (the binary), CHECKER (default: checker.py next to this file).
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from chaos_util import free_port, spawn, stop, stop_all, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
FAULTPROXY = os.environ.get("FAULTPROXY", "")
CHECKER = os.environ.get("CHECKER", os.path.join(HERE, "checker.py"))
T = tempfile.mkdtemp(prefix="mqtls-chaos-")
RESULTS = {"pass": 0, "fail": 0}


# ---- bookkeeping ---------------------------------------------------------------------------

def ok(name):
    RESULTS["pass"] += 1
    print(f"ok   - {name}", flush=True)


def fail(name, detail=""):
    RESULTS["fail"] += 1
    print(f"FAIL - {name}" + (f": {detail}" if detail else ""), flush=True)


def check(name, cond, detail=""):
    (ok if cond else fail)(name, *([] if cond else [detail]))
    return cond


def cleanup():
    stop_all()
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(T, ignore_errors=True)
    else:
        print(f"# kept {T}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


# ---- the broker ----------------------------------------------------------------------------

class Broker:
    def __init__(self):
        self.log = os.path.join(T, "mosquitto.log")
        for _ in range(3):  # a port taken between picking and binding: try new ones
            self.port = free_port()
            conf = os.path.join(T, "mosquitto.conf")
            with open(conf, "w", encoding="ascii") as f:
                if os.getuid() == 0:
                    f.write("user root\n")
                f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                        "persistence false\nmax_queued_messages 100000\n"
                        f"log_dest file {self.log}\nlog_type all\n")
            out = open(os.path.join(T, "mosquitto.out"), "w", encoding="utf-8")
            self.proc = spawn(["mosquitto", "-c", conf], stdout=out, stderr=subprocess.STDOUT)
            if wait_until(lambda: self.proc.poll() is not None or self.accepts(), 10):
                if self.proc.poll() is None:
                    return
        raise RuntimeError("mosquitto did not start: " + " ".join(read_lines(self.log)[-5:]))

    def accepts(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def suback_count(self, client_id):
        tail = f"Sending SUBACK to {client_id}"
        return sum(1 for line in read_lines(self.log) if line.endswith(tail))


# ---- the proxy -----------------------------------------------------------------------------

class Proxy:
    """faultproxy on a free port (port 0 + --port-file), commands on its stdin."""

    def __init__(self, upstream_port, *args, control=True, name="proxy"):
        self.dir = tempfile.mkdtemp(dir=T, prefix=name + "-")
        self.port_file = os.path.join(self.dir, "port")
        self.out_path = os.path.join(self.dir, "stdout")
        self.log_path = os.path.join(self.dir, "log")
        argv = [FAULTPROXY, "--listen", "127.0.0.1:0", "--upstream",
                f"127.0.0.1:{upstream_port}", "--port-file", self.port_file,
                "--log", self.log_path, *args]
        if control:
            argv += ["--control", "-"]
        self.out = open(self.out_path, "w", encoding="utf-8")
        self.proc = spawn(argv, stdin=subprocess.PIPE if control else subprocess.DEVNULL,
                          stdout=self.out, stderr=open(os.path.join(self.dir, "stderr"), "w"),
                          text=True)
        self.seen = 0
        if not wait_until(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None,
                          10) or self.proc.poll() is not None:
            raise RuntimeError(f"faultproxy did not start: {self.stderr()}")
        with open(self.port_file, encoding="ascii") as f:
            self.port = int(f.read())

    def stderr(self):
        return " ".join(read_lines(os.path.join(self.dir, "stderr")))

    def lines(self):
        return read_lines(self.out_path)

    def ctl(self, command, timeout_s=5):
        """Send one command, return its reply line."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        start = self.seen
        reply = wait_until(lambda: next((ln for ln in self.lines()[start:]
                                         if ln.startswith(("ok", "err", "{\"event\":\"stats"))),
                                        None), timeout_s)
        self.seen = len(self.lines())
        return reply or ""

    def stats(self):
        reply = self.ctl("stats")
        return json.loads(reply) if reply.startswith("{") else {}

    def finish(self):
        """Stop it; return the JSON line it prints at exit."""
        stop(self.proc)
        exits = [ln for ln in self.lines() if ln.startswith("{\"event\":\"exit\"")]
        return json.loads(exits[-1]) if exits else {}

    def faults_logged(self, conn_id):
        tag = f"conn={conn_id} fault "
        return [ln.split(tag, 1)[1].split()[0] for ln in read_lines(self.log_path) if tag in ln]


# ---- MQTT clients (Debian's mosquitto-clients) --------------------------------------------

class Sub:
    """mosquitto_sub printing payloads ("s1:000123") to a file."""

    def __init__(self, broker, port, topic, qos, client_id, *extra):
        self.path = os.path.join(T, client_id + ".recv")
        self.client_id = client_id
        out = open(self.path, "w", encoding="utf-8")
        self.proc = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                           "-q", str(qos), "-i", client_id, "-F", "%p", *extra],
                          stdout=out, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: broker.suback_count(client_id) >= 1, 10):
            raise RuntimeError(f"{client_id} did not subscribe")

    def unique(self):
        return len(set(self.lines()))

    def lines(self):
        return [ln for ln in read_lines(self.path) if ln]


class Pub:
    """mosquitto_pub -l -d fed "s1:000001".. from a thread; the -d output gives the acks."""

    def __init__(self, port, topic, qos, count, pace_s=0.0, stream="s1", name="pub"):
        self.qos, self.count, self.stream = qos, count, stream
        self.out_path = os.path.join(T, name + ".debug")
        self.sent_path = os.path.join(T, name + ".sent")
        self.acked_path = os.path.join(T, name + ".acked")
        out = open(self.out_path, "w", encoding="utf-8")
        self.proc = spawn(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                           "-q", str(qos), "-l", "-d", "-i", name], stdin=subprocess.PIPE,
                          stdout=out, stderr=subprocess.STDOUT, text=True)
        self.feeder = threading.Thread(target=self._feed, args=(pace_s,), daemon=True)
        self.feeder.start()

    def _feed(self, pace_s):
        with open(self.sent_path, "w", encoding="ascii") as sent:
            try:
                for i in range(1, self.count + 1):
                    self.proc.stdin.write(f"{self.stream}:{i:06d}\n")
                    self.proc.stdin.flush()
                    sent.write(f"{self.stream} {i}\n")  # handed to the library
                    if pace_s:
                        time.sleep(pace_s)
                self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass

    def wait(self, timeout_s):
        self.feeder.join(timeout_s)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        # libmosquitto numbers messages 1, 2, ... in publishing order: mid i is line i
        ack = "received PUBACK (Mid: " if self.qos == 1 else "received PUBCOMP (Mid: "
        mids = [int(ln.split(ack, 1)[1].split(",")[0]) for ln in read_lines(self.out_path)
                if ack in ln]
        with open(self.acked_path, "w", encoding="ascii") as f:
            f.writelines(f"{self.stream} {m}\n" for m in mids)
        return self.proc.returncode, len(set(mids))


def checker(qos, sent, acked, received, *extra):
    argv = [sys.executable, CHECKER, "--json", "--qos", str(qos), "--sent", sent,
            "--received", received, *extra]
    if acked:
        argv += ["--acked", acked]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = {"error": p.stdout + p.stderr}
    return p.returncode, report


def stream0(report):
    return report.get("streams", [{}])[0]


# ---- small in-process upstreams ------------------------------------------------------------

class Upstream:
    """A TCP server on 127.0.0.1: "echo" sends back what it gets, "hold" never reads."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.recv_calls = 0
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.mode == "echo":
                threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    def _echo(self, c):
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                self.recv_calls += 1
                c.sendall(data)
        except OSError:
            pass
        c.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def recv_exactly(sock, n, timeout_s):
    sock.settimeout(timeout_s)
    data = b""
    try:
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


# ---- the tests -----------------------------------------------------------------------------

def test_usage():
    def run(*args):
        return subprocess.run([FAULTPROXY, *args], capture_output=True, text=True, timeout=10)

    p = run("--help")
    check("--help documents the fault syntax and the control commands",
          p.returncode == 0 and "every=" in p.stdout and "cut-all fin|rst" in p.stdout)
    p = run("--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--faults", "boom:1")
    check("an unknown fault kind is a usage error (2) that names the kinds",
          p.returncode == 2 and "unknown fault kind 'boom'" in p.stderr, p.stderr)
    p = run("--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--faults", "every=9-1ms")
    check("a backwards range is a usage error", p.returncode == 2, p.stderr)
    p = run("--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:0")
    check("upstream port 0 is a usage error", p.returncode == 2, p.stderr)
    p = run("--listen", "127.0.0.1:0")
    check("--upstream is required", p.returncode == 2, p.stderr)


def test_passthrough(broker):
    """No faults: QoS 2 through the proxy both ways is exactly once and in order; the
    checker then finds a duplicate and a loss injected into that real output."""
    proxy = Proxy(broker.port, "--seed", "1", name="pass")
    sub = Sub(broker, proxy.port, "chaos/pass", 2, "pass-sub")
    pub = Pub(proxy.port, "chaos/pass", 2, 1000, name="pass-pub")
    rc, acked = pub.wait(20)
    check("mosquitto_pub through the proxy: 1000 QoS 2 messages completed",
          rc == 0 and acked == 1000, f"rc {rc}, {acked} PUBCOMP")
    wait_until(lambda: sub.unique() >= 1000, 15)
    stop(sub.proc)
    rc, report = checker(2, pub.sent_path, pub.acked_path, sub.path)
    check("checker: QoS 2 through a fault-free proxy is OK", rc == 0, report)
    st = proxy.stats()
    check("stats: 2 connections accepted, no faults",
          st.get("accepted") == 2 and st.get("faults_total") == 0, st)
    check("stats: bytes counted both ways",
          st.get("bytes_up", 0) > 1000 * 9 and st.get("bytes_down", 0) > 1000 * 9, st)

    lines = sub.lines()
    dup = os.path.join(T, "injected-dup.recv")
    with open(dup, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:500] + [lines[499]] + lines[500:]) + "\n")
    rc, report = checker(2, pub.sent_path, pub.acked_path, dup)
    check("checker: a duplicate injected into the real output violates QoS 2",
          rc == 1 and stream0(report).get("duplicated") == 1, report.get("violations"))
    rc, report = checker(1, pub.sent_path, pub.acked_path, dup)
    check("checker: the same duplicate is allowed at QoS 1", rc == 0, report.get("violations"))
    loss = os.path.join(T, "injected-loss.recv")
    with open(loss, "w", encoding="utf-8") as f:
        f.write("\n".join(ln for ln in lines if ln != "s1:000700") + "\n")
    rc, report = checker(1, pub.sent_path, pub.acked_path, loss)
    check("checker: a loss injected into the real output violates QoS 1",
          rc == 1 and stream0(report).get("lost_seqs") == [700], report.get("violations"))
    rc, report = checker(0, pub.sent_path, None, loss)
    check("checker: the same loss is allowed at QoS 0", rc == 0, report.get("violations"))
    proxy.finish()


def test_control_cuts(broker):
    """cut-all fin, then cut-all rst, while a persistent QoS 1 subscriber and a publisher
    both go through the proxy: both reconnect; at least once holds."""
    proxy = Proxy(broker.port, "--seed", "2", name="cuts")
    sub = Sub(broker, proxy.port, "chaos/cuts", 1, "cuts-sub", "-c")
    pub = Pub(proxy.port, "chaos/cuts", 1, 800, pace_s=0.003, name="cuts-pub")
    time.sleep(0.4)
    reply_fin = proxy.ctl("cut-all fin")
    # both clients come back (libmosquitto retries after 1 s)
    wait_until(lambda: proxy.stats().get("accepted", 0) >= 4, 10, 0.2)
    reply_rst = proxy.ctl("cut-all rst")
    rc, acked = pub.wait(25)
    check("the publisher survived both cuts and got every PUBACK",
          rc == 0 and acked == 800, f"rc {rc}, {acked} PUBACK")
    wait_until(lambda: sub.unique() >= 800, 15)
    stop(sub.proc)
    check("control: cut-all fin and cut-all rst each cut both connections",
          reply_fin == "ok cut-all fin 2" and reply_rst == "ok cut-all rst 2",
          f"{reply_fin!r} {reply_rst!r}")
    st = proxy.finish()
    check("stats: fin 2, rst 2, at least 6 connections accepted",
          st.get("faults", {}).get("fin") == 2 and st.get("faults", {}).get("rst") == 2 and
          st.get("accepted", 0) >= 6, st)
    rc, report = checker(1, pub.sent_path, pub.acked_path, sub.path)
    s = stream0(report)
    check("checker: QoS 1 persistent session through two cuts is OK "
          f"(duplicated {s.get('duplicated')})", rc == 0, report.get("violations"))


def test_random_faults(broker):
    """Seeded random FIN/RST cuts on every connection; at least once still holds."""
    proxy = Proxy(broker.port, "--seed", "7", "--faults",
                  "fin:0.4,rst:0.4,none:0.2,every=400-900ms", name="random")
    sub = Sub(broker, proxy.port, "chaos/random", 1, "random-sub", "-c")
    pub = Pub(proxy.port, "chaos/random", 1, 1000, pace_s=0.003, name="random-pub")
    pub.feeder.join(15)
    time.sleep(1.0)
    proxy.ctl("faults off")  # let the clients finish
    rc, acked = pub.wait(25)
    check("the publisher got every PUBACK despite the random cuts",
          rc == 0 and acked == 1000, f"rc {rc}, {acked} PUBACK")
    wait_until(lambda: sub.unique() >= 1000, 15)
    stop(sub.proc)
    st = proxy.finish()
    cuts = st.get("faults", {}).get("fin", 0) + st.get("faults", {}).get("rst", 0)
    check(f"stats: random cuts happened ({cuts}) and the seed is reported",
          cuts >= 2 and st.get("seed") == 7 and st.get("accepted", 0) >= 4, st)
    rc, report = checker(1, pub.sent_path, pub.acked_path, sub.path)
    check(f"checker: QoS 1 through random cuts is OK (duplicated "
          f"{stream0(report).get('duplicated')})", rc == 0, report.get("violations"))


def test_split_and_delay(broker):
    """Tiny split writes and stalls: MQTT parsers see partial packets; nothing is cut, so
    QoS 2 must stay exactly once and in order."""
    proxy = Proxy(broker.port, "--seed", "3", "--faults",
                  "split:0.5,delay:0.5,every=100-200ms,stall=100-300ms,split=300-600ms,"
                  "chunk=1-3,gap=1ms", name="split")
    sub = Sub(broker, proxy.port, "chaos/split", 2, "split-sub")
    pub = Pub(proxy.port, "chaos/split", 2, 300, pace_s=0.004, name="split-pub")
    rc, acked = pub.wait(25)
    wait_until(lambda: sub.unique() >= 300, 15)
    stop(sub.proc)
    st = proxy.finish()
    f = st.get("faults", {})
    check("stats: split and delay faults, no cuts",
          f.get("split", 0) >= 1 and f.get("delay", 0) >= 1 and f.get("fin") == 0 and
          f.get("rst") == 0 and st.get("accepted") == 2, st)
    rc, report = checker(2, pub.sent_path, pub.acked_path, sub.path)
    check("checker: QoS 2 through split writes and stalls is exactly once, in order",
          rc == 0 and stream0(report).get("unique") == 300, report.get("violations"))


def test_split_bytes_exact():
    """Split writes are byte-exact: 3000 random bytes echoed through a split proxy, in
    many small pieces."""
    up = Upstream("echo")
    proxy = Proxy(up.port, "--faults", "split:1,every=0ms,split=60s,chunk=1-3,gap=1ms",
                  control=False, name="bytes")
    data = random.Random(5).randbytes(3000)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as c:
        c.sendall(data)
        back = recv_exactly(c, len(data), 15)
    check("split: every byte arrives, in order", back == data, f"{len(back)} bytes back")
    check(f"split: the upstream saw many small reads ({up.recv_calls})",
          up.recv_calls >= 300, up.recv_calls)
    proxy.finish()
    up.close()


def test_same_seed_same_faults():
    """The fault schedule of a connection depends only on --seed."""
    runs = []
    for _ in range(2):
        up = Upstream("echo")
        proxy = Proxy(up.port, "--seed", "11", "--faults",
                      "delay:0.3,split:0.3,every=20-40ms,stall=5ms,split=5ms",
                      control=False, name="seed")
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5):
            time.sleep(0.5)
        proxy.finish()
        runs.append(proxy.faults_logged(1))
        up.close()
    n = min(len(runs[0]), len(runs[1]))
    check(f"same seed, same faults on connection 1 ({' '.join(runs[0][:6])} ...)",
          n >= 5 and runs[0][:n] == runs[1][:n], runs)


def mqtt_connect_packet(client_id, keepalive_s):
    """MQTT 3.1.1 CONNECT, clean session."""
    cid = client_id.encode()
    body = (b"\x00\x04MQTT\x04\x02" + keepalive_s.to_bytes(2, "big") +
            len(cid).to_bytes(2, "big") + cid)
    return bytes([0x10, len(body)]) + body


def test_silence_keepalive(broker):
    """silence-all makes the connection half-open: a client with a 2 s keepalive sends
    PINGREQ, gets neither PINGRESP nor FIN (the broker's own keepalive close is hidden from
    it), gives up and closes; then the proxy closes that connection. It does not spin."""
    proxy = Proxy(broker.port, "--seed", "4", name="silence")
    c = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    c.sendall(mqtt_connect_packet("silence-raw", 1))
    connack = recv_exactly(c, 4, 5)
    reply = proxy.ctl("silence-all")
    cpu0 = cpu_seconds(proxy.proc.pid)
    time.sleep(1.0)
    c.sendall(b"\xc0\x00")  # PINGREQ after one keepalive period
    t0 = time.monotonic()

    def broker_dropped():
        return any("silence-raw" in ln and "exceeded timeout" in ln
                   for ln in read_lines(broker.log))

    # the broker gives up after 1.5 keepalives (mosquitto: a few seconds); the client keeps
    # listening past that, so a FIN leaking through would be seen
    answer, gone_at = b"", None
    c.settimeout(0.1)
    while time.monotonic() - t0 < 8 and (gone_at is None or time.monotonic() - gone_at < 0.5):
        try:
            answer = c.recv(16)
            break
        except socket.timeout:
            if gone_at is None and broker_dropped():
                gone_at = time.monotonic()
    waited = time.monotonic() - t0
    cpu = cpu_seconds(proxy.proc.pid) - cpu0
    broker_gone = gone_at is not None
    c.close()  # the client gives up
    closed = wait_until(lambda: proxy.stats().get("active") == 0, 5)
    st = proxy.finish()
    check("control: silence-all silenced the one connection",
          connack == b"\x20\x02\x00\x00" and reply == "ok silence-all both 1", reply)
    check(f"half-open: no PINGRESP and no FIN in {waited:.1f} s, though the broker dropped "
          f"its side ({broker_gone})", answer == b"" and broker_gone and gone_at is not None,
          answer)
    check("the proxy closes the silent connection once the client gives up", closed, st)
    check(f"the proxy did not spin while silent ({cpu:.2f} s CPU in {waited + 1:.1f} s)",
          cpu < 0.2, cpu)
    check("stats: silence 1, the swallowed PINGREQ counted as discarded",
          st.get("faults", {}).get("silence") == 1 and st.get("discarded_up") == 2, st)


def test_pause_resume(broker):
    proxy = Proxy(broker.port, name="pause")
    reply = proxy.ctl("pause rst")
    p = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(proxy.port), "-t", "x",
                        "-m", "x"], capture_output=True, timeout=10)
    st = proxy.stats()
    check("pause rst: a new connection is reset at once",
          reply == "ok pause rst" and p.returncode != 0 and st.get("rejected") == 1, st)
    proxy.ctl("pause")
    pub = spawn(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(proxy.port), "-t", "x", "-m",
                 "x"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    held = pub.poll() is None and proxy.stats().get("accepted") == 0
    reply = proxy.ctl("resume")
    try:
        rc = pub.wait(10)
    except subprocess.TimeoutExpired:
        rc = stop(pub)
    check("pause (hold): a new connection waits; resume serves it",
          held and reply == "ok resume" and rc == 0 and proxy.stats().get("accepted") == 1,
          f"held {held}, rc {rc}")
    check("control: an unknown command gets an error that lists the commands",
          proxy.ctl("explode").startswith("err unknown command 'explode' (commands: cut-all"))
    proxy.finish()


def test_backpressure():
    """An upstream that never reads: the client's sends stop, the proxy's memory stays
    bounded and it does not spin while blocked both ways."""
    up = Upstream("hold")
    proxy = Proxy(up.port, name="bp")
    rss0 = rss_kib(proxy.proc.pid)
    c = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    c.setblocking(False)
    chunk = b"x" * 65536
    sent, deadline = 0, time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            sent += c.send(chunk)
        except BlockingIOError:
            time.sleep(0.05)
    up_before = proxy.stats().get("bytes_up", 0)
    cpu0 = cpu_seconds(proxy.proc.pid)
    time.sleep(1.0)
    cpu = cpu_seconds(proxy.proc.pid) - cpu0
    up_after = proxy.stats().get("bytes_up", 0)
    rss = rss_kib(proxy.proc.pid)
    check(f"back-pressure: the client was stopped after {sent >> 10} KiB",
          0 < sent < 64 * 1024 * 1024 and up_before == up_after, f"{sent} {up_before} {up_after}")
    check(f"back-pressure: proxy memory bounded (RSS {rss0} -> {rss} KiB)", rss - rss0 < 4096,
          rss)
    check(f"back-pressure: no spinning while blocked ({cpu:.2f} s CPU in 1 s)", cpu < 0.1, cpu)
    c.close()
    proxy.finish()
    up.close()


def test_max_conns_and_upstream_down():
    up = Upstream("echo")
    proxy = Proxy(up.port, "--max-conns", "2", name="max")
    conns = [socket.create_connection(("127.0.0.1", proxy.port), timeout=5) for _ in range(3)]
    for i, c in enumerate(conns):
        c.sendall(b"%d" % i)
    first = [recv_exactly(c, 1, 2) for c in conns[:2]]
    third_early = recv_exactly(conns[2], 1, 0.5)
    conns[0].close()
    third = recv_exactly(conns[2], 1, 5)
    check("--max-conns 2: a third client waits until a slot is free",
          first == [b"0", b"1"] and third_early == b"" and third == b"2",
          f"{first} {third_early} {third}")
    for c in conns[1:]:
        c.close()
    proxy.finish()
    up.close()

    dead = free_port()  # nothing listens there
    proxy = Proxy(dead, name="down")
    # The proxy resets us as soon as its upstream connect fails; on a loaded machine that can
    # happen before or during any of these calls, so every socket error counts as "reset".
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as c:
            c.settimeout(5)
            data = c.recv(1)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        data = "reset"
    except socket.timeout:
        data = "timeout"
    wait_until(lambda: proxy.stats().get("upstream_failed") == 1, 5)
    st = proxy.stats()
    check("upstream down: the client is reset and it is counted",
          data in ("reset", b"") and st.get("upstream_failed") == 1, f"{data!r} {st}")
    proxy.finish()


def test_signals_duration_unix_control():
    up = Upstream("echo")
    proxy = Proxy(up.port, "--duration-s", "1", control=False, name="duration")
    rc = None
    try:
        rc = proxy.proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    last = proxy.lines()[-1:] or [""]
    check("--duration-s 1 ends it with status 0 and an exit JSON line",
          rc == 0 and last[0].startswith("{\"event\":\"exit\""), f"rc {rc} {last}")

    path = os.path.join(T, "ctl.sock")
    proxy = Proxy(up.port, "--control", path, control=False, name="unix")
    os.kill(proxy.proc.pid, signal.SIGUSR1)
    got = wait_until(lambda: any(ln.startswith("{\"event\":\"stats\"") for ln in proxy.lines()),
                     5)
    check("SIGUSR1 prints the counters as one JSON line", got)
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"stats\nbogus\n")
        data = b""
        while data.count(b"\n") < 2:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    replies = data.decode().splitlines()
    check("UNIX socket control: stats as JSON, errors for unknown commands",
          len(replies) == 2 and json.loads(replies[0]).get("event") == "stats" and
          replies[1].startswith("err"), replies)
    again = subprocess.run([FAULTPROXY, "--listen", "127.0.0.1:0", "--upstream",
                            f"127.0.0.1:{up.port}", "--control", path],
                           capture_output=True, text=True, timeout=10)
    check("an existing control socket path is refused, never removed",
          again.returncode == 1 and os.path.exists(path), again.stderr)
    proxy.finish()
    check("the control socket is removed at exit", not os.path.exists(path))
    up.close()


def main():
    if not FAULTPROXY or not os.access(FAULTPROXY, os.X_OK):
        print("FAIL - set FAULTPROXY to the faultproxy binary")
        return 1
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub"):
        if shutil.which(tool) is None:
            print(f"FAIL - {tool} not installed (Debian: mosquitto, mosquitto-clients)")
            return 1
    t0 = time.monotonic()
    only = sys.argv[1:]  # test names (without "test_") to run only those, for debugging
    plain = [test_usage, test_split_bytes_exact, test_same_seed_same_faults, test_backpressure,
             test_max_conns_and_upstream_down, test_signals_duration_unix_control]
    with_broker = [test_passthrough, test_control_cuts, test_random_faults,
                   test_split_and_delay, test_pause_resume, test_silence_keepalive]
    try:
        for t in plain:
            if not only or t.__name__[5:] in only:
                t()
        wanted = [t for t in with_broker if not only or t.__name__[5:] in only]
        broker = Broker() if wanted else None
        for t in wanted:
            t(broker)
    except Exception as e:  # a broken harness step is a failure, not a crash
        fail("harness", repr(e))
    finally:
        cleanup()
    print(f"# {RESULTS['pass']} passed, {RESULTS['fail']} failed, "
          f"{time.monotonic() - t0:.1f} s")
    return 1 if RESULTS["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
