#!/usr/bin/env python3
"""checker.py on crafted input files: one case per verdict path (table below).

Each case writes its files to a temporary directory, runs checker.py --json as a command (so
the exit status is checked too) and compares the chosen fields of the report.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "checker.py")


def seqs(stream, *numbers):
    return "".join(f"{stream} {n}\n" for n in numbers)


def payloads(stream, *items):
    """Subscriber output as `mosquitto_sub -F '%p'` prints it; '@' items are markers."""
    return "".join(f"{i}\n" if isinstance(i, str) else f"{stream}:{i:06d}\n" for i in items)


SENT5 = seqs("s1", 1, 2, 3, 4, 5)

# name, checker args, files {name: text}, expected exit status, expected report fields
# (top-level keys, or "s.<key>" for the first stream result)
CASES = [
    ("qos0 loss is allowed", ["--qos", "0"],
     {"sent": SENT5, "recv": payloads("s1", 1, 2, 4)}, 0, {"s.lost": 2, "s.duplicated": 0}),
    ("qos0 duplicate is a violation", ["--qos", "0"],
     {"sent": SENT5, "recv": payloads("s1", 1, 2, 2, 3)}, 1, {"s.duplicated": 1}),
    ("qos0 reorder is a violation", ["--qos", "0"],
     {"sent": SENT5, "recv": payloads("s1", 1, 3, 2)}, 1,
     {"s.reordered": 1, "s.order_violations": 1, "ordering": "strict"}),
    ("qos0 reorder with --unordered is reported only", ["--qos", "0", "--unordered"],
     {"sent": SENT5, "recv": payloads("s1", 1, 3, 2)}, 0,
     {"s.reordered": 1, "s.order_violations": 0, "ordering": "off"}),
    ("qos1 loss of an acknowledged message is a violation", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 5)}, 1,
     {"s.lost_required": 1, "s.lost_seqs": [4]}),
    ("qos1 loss of unacknowledged messages is allowed", ["--qos", "1"],
     {"sent": SENT5, "acked": seqs("s1", 1, 2, 3), "recv": payloads("s1", 1, 2, 3)}, 0,
     {"s.lost": 2, "s.lost_unacked": 2, "s.lost_required": 0}),
    ("qos1 --require sent makes them required", ["--qos", "1", "--require", "sent"],
     {"sent": SENT5, "acked": seqs("s1", 1, 2, 3), "recv": payloads("s1", 1, 2, 3)}, 1,
     {"s.lost_required": 2}),
    ("qos1 duplicates after a reconnect are allowed (spec 4.6 example)", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 2, 3, 4, 5)}, 0,
     {"s.duplicated": 2, "s.order_violations": 0, "ordering": "final-copy"}),
    ("qos1 --inflight-1 forbids 1,2,3,2,3", ["--qos", "1", "--inflight-1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 2, 3, 4, 5)}, 1,
     {"s.order_violations": 1, "ordering": "non-decreasing"}),
    ("qos1 --inflight-1 allows 1,2,3,3,4", ["--qos", "1", "--inflight-1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 3, 4, 5)}, 0,
     {"s.duplicated": 1, "s.order_violations": 0}),
    ("qos1 final copies out of order is a violation", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 3, 2, 4, 5)}, 1,
     {"s.order_violations": 1, "s.reordered": 1}),
    ("qos2 exactly once in order is OK", ["--qos", "2"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 4, 5)}, 0,
     {"verdict": "OK", "s.lost": 0, "s.duplicated": 0}),
    ("qos2 duplicate is a violation", ["--qos", "2"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 2, 3, 4, 5)}, 1,
     {"s.duplicated": 1, "s.duplicate_seqs": [2]}),
    ("qos2 loss is a violation", ["--qos", "2"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 4, 5)}, 1,
     {"s.lost_required": 1}),
    ("qos1 clean session: loss inside a marked break is allowed",
     ["--qos", "1", "--session", "clean"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, "@reconnect", 5)}, 0,
     {"s.lost_required": 2, "s.lost_excused": 2}),
    ("qos1 clean session: loss away from the break is a violation",
     ["--qos", "1", "--session", "clean"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, "@reconnect", 3, 5)}, 1,
     {"s.lost_required": 2, "s.lost_excused": 1}),
    ("qos1 clean session: a break at the end excuses the tail",
     ["--qos", "1", "--session", "clean"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, "@disconnect")}, 0,
     {"s.lost_excused": 2}),
    ("qos1 persistent session: markers excuse nothing", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, "@reconnect", 5)}, 1,
     {"s.lost_required": 2, "s.lost_excused": 0}),
    ("qos2 clean session: a duplicate is still a violation",
     ["--qos", "2", "--session", "clean"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, "@reconnect", 2, 3, 4, 5)},
     1, {"s.duplicated": 1}),
    ("a received message never sent is a violation", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 4, 5, 99)}, 1,
     {"s.phantom": 1}),
    ("'<stream> <seq> extra' lines and comments parse", ["--qos", "2"],
     {"sent": "# publisher log\n" + SENT5, "acked": SENT5,
      "recv": "s1 1 t=0.1\n\ns1 2\ns1:3\ns1:000004 x\ns1 5\n"}, 0, {"s.unique": 5}),
    ("without --sent the acked lines stand for the sent ones", ["--qos", "1"],
     {"acked": SENT5, "recv": payloads("s1", 1, 2, 3, 4, 5)}, 0, {"s.sent": 5}),
    ("each subscriber is judged on its own", ["--qos", "1", "--received", "{d}/recv2"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 4, 5),
      "recv2": payloads("s1", 1, 2, 3, 4)}, 1, {"streams_verdicts": ["OK", "VIOLATION"]}),
    ("FILE=STREAMS judges only those streams", ["--qos", "1", "--received", "{d}/recv2=s2"],
     {"sent": SENT5 + seqs("s2", 1, 2), "acked": SENT5 + seqs("s2", 1, 2),
      "recv": payloads("s1", 1, 2, 3, 4, 5) + payloads("s2", 1, 2),
      "recv2": payloads("s2", 1, 2)}, 0, {"streams_verdicts": ["OK", "OK", "OK"]}),
    ("a stream no subscriber got at all is lost", ["--qos", "1"],
     {"sent": SENT5 + seqs("s2", 1, 2), "acked": SENT5 + seqs("s2", 1, 2),
      "recv": payloads("s1", 1, 2, 3, 4, 5)}, 1, {"streams_verdicts": ["OK", "VIOLATION"]}),
    ("a seq handed to the library twice is an input problem", ["--qos", "1"],
     {"sent": SENT5 + seqs("s1", 3), "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 4, 5)},
     1, {"verdict": "VIOLATION"}),
    ("an ack for a message never sent is a violation", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5 + seqs("s1", 7), "recv": payloads("s1", 1, 2, 3, 4, 5)},
     1, {"verdict": "VIOLATION"}),
    ("an unreadable line is a usage error", ["--qos", "1"],
     {"sent": SENT5, "recv": "s1:1\nnot a message\n"}, 2, {}),
    ("--sent or --acked is required", ["--qos", "1"], {"recv": payloads("s1", 1)}, 2, {}),
    # persistence: handed over = required even without an ack; in-doubt reports
    ("--require handed: a handed-over message is required without an ack",
     ["--qos", "2", "--require", "handed"],
     {"sent": SENT5, "handed": seqs("s1", 1, 2, 3, 4), "recv": payloads("s1", 1, 2, 4)}, 1,
     {"s.lost_required": 1, "s.lost_seqs": [3, 5]}),
    ("--require handed: attempted but not handed over may be lost",
     ["--qos", "2", "--require", "handed"],
     {"sent": SENT5, "handed": seqs("s1", 1, 2, 3, 4), "recv": payloads("s1", 1, 2, 3, 4)}, 0,
     {"s.lost": 1, "s.lost_required": 0}),
    ("an in-doubt report covers a loss and is never a copy",
     ["--qos", "2", "--require", "handed"],
     {"sent": SENT5, "handed": SENT5,
      "recv": payloads("s1", 1, 2) + "@in-doubt s1:000003 77\n" + payloads("s1", 4, 5)}, 0,
     {"s.in_doubt": 1, "s.duplicated": 0, "s.lost": 0}),
    ("an in-doubt report after its printed copy is no duplicate",
     ["--qos", "2", "--require", "handed"],
     {"sent": SENT5, "handed": SENT5,
      "recv": payloads("s1", 1, 2, 3) + "@in-doubt s1:000003\n" + payloads("s1", 4, 5)}, 0,
     {"s.in_doubt": 1, "s.duplicated": 0}),
    ("a message the broker refused (MQTT 5 reason >= 0x80) is never required",
     ["--qos", "2", "--require", "handed", "--refused", "{d}/refused"],
     {"sent": SENT5, "handed": SENT5, "refused": seqs("s1", 3),
      "recv": payloads("s1", 1, 2, 4, 5)}, 0, {"s.refused": 1, "s.lost_required": 0}),
    ("--require handed needs --handed", ["--qos", "1", "--require", "handed"],
     {"sent": SENT5, "recv": payloads("s1", 1)}, 2, {}),
    # clean publisher session: QoS 2 duplicates allowed and counted (issue defect 5)
    ("qos2 --pub-session clean: duplicates are allowed, counted",
     ["--qos", "2", "--pub-session", "clean"],
     {"sent": SENT5, "acked": SENT5, "recv": payloads("s1", 1, 2, 3, 3, 4, 5)}, 0,
     {"s.duplicated": 1, "s.duplicated_allowed": 1, "pub_session": "clean"}),
    # broker kill -9: only what the broker acknowledged just before it died may be lost
    ("broker crash: a loss acked within the window before it is excused",
     ["--qos", "1", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": "s1:1 9000\ns1:2 9000\ns1:3 9800\ns1:4 10500\ns1:5 10600\n",
      "recv": payloads("s1", 1, 2, 4, 5)}, 0,
     {"s.lost_required": 1, "s.lost_broker_crash": 1}),
    ("broker crash: an ack sent before it may arrive while the broker is down (T+R)",
     ["--qos", "1", "--broker-crash", "10000:300", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": "s1:1 9000\ns1:2 9000\ns1:3 10200\ns1:4 10500\ns1:5 10600\n",
      "recv": payloads("s1", 1, 2, 4, 5)}, 0, {"s.lost_broker_crash": 1}),
    ("broker crash: an ack after the broker was up again excuses nothing",
     ["--qos", "1", "--broker-crash", "10000:100", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": "s1:1 9000\ns1:2 9000\ns1:3 10200\ns1:4 10500\ns1:5 10600\n",
      "recv": payloads("s1", 1, 2, 4, 5)}, 1, {"s.lost_broker_crash": 0}),
    ("broker crash: a loss acked long before it is a violation",
     ["--qos", "1", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": "s1:1 9000\ns1:2 9000\ns1:3 9800\ns1:4 10500\ns1:5 10600\n",
      "recv": payloads("s1", 1, 3, 4, 5)}, 1,
     {"s.lost_required": 1, "s.lost_broker_crash": 0}),
    ("broker crash: qos2 in flight across it (handed before, acked after) is excused",
     ["--qos", "2", "--require", "handed", "--broker-crash", "10000"],
     {"sent": SENT5, "handed": "s1:1 1\ns1:2 1\ns1:3 9990\ns1:4 10400\ns1:5 10500\n",
      "acked": "s1:1 5\ns1:2 5\ns1:3 10300\ns1:4 10600\ns1:5 10700\n",
      "recv": payloads("s1", 1, 2, 4, 5)}, 0, {"s.lost_broker_crash": 1}),
    ("broker crash: a qos1 re-delivery after it is judged as a duplicate, not for order",
     ["--qos", "1", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 9800\ns1:3 9900\ns1:2 10200\ns1:4 10300\ns1:5 10400\n"}, 0,
     {"s.duplicated_broker_crash": 1, "s.order_violations": 0}),
    ("broker crash: a qos1 copy of a message received long before it (its ack not saved) is "
     "not judged for order, and is not excused as a duplicate either",
     ["--qos", "1", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 2000\ns1:3 9900\ns1:2 10200\ns1:4 10300\ns1:5 10400\n"}, 0,
     {"s.duplicated": 1, "s.duplicated_broker_crash": 0, "s.order_violations": 0}),
    ("broker crash: copies read while the broker was down (sent before the kill) count as "
     "before it, and their re-deliveries are not judged for order",
     ["--qos", "1", "--broker-crash", "10000:150", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 10001\ns1:3 10001\ns1:2 10200\ns1:3 10200\ns1:4 10300\n"
              "s1:5 10400\n"}, 0,
     {"s.duplicated": 2, "s.duplicated_broker_crash": 2, "s.order_violations": 0}),
    ("broker crash: a message first received after it still has to be in order",
     ["--qos", "1", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 9800\ns1:4 10300\ns1:5 10350\ns1:3 10400\n"}, 1,
     {"s.order_violations": 1}),
    ("without the crash the same copies break the final-copy order", ["--qos", "1"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 9800\ns1:3 9900\ns1:2 10200\ns1:4 10300\ns1:5 10400\n"}, 1,
     {"s.order_violations": 1}),
    ("broker restart: a qos2 copy re-delivered after it is counted, not a violation",
     ["--qos", "2", "--broker-restart", "10000"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 9000\ns1:3 9900\ns1:2 10200\ns1:3 10200\ns1:4 1\ns1:5 1\n"},
     0, {"s.duplicated": 2, "s.duplicated_broker_crash": 2, "s.order_violations": 0}),
    ("broker restart: a loss is still a violation", ["--qos", "2", "--broker-restart", "10000"],
     {"sent": SENT5, "acked": SENT5, "recv": "s1:1 100\ns1:2 9000\ns1:4 10300\ns1:5 1\n"},
     1, {"s.lost_required": 1}),
    ("broker crash: a qos2 copy re-delivered after it is excused, another is not",
     ["--qos", "2", "--broker-crash", "10000", "--crash-window-ms", "500"],
     {"sent": SENT5, "acked": SENT5,
      "recv": "s1:1 100\ns1:2 9900\ns1:1 10200\ns1:2 10200\ns1:3 10300\ns1:4 1\ns1:5 1\n"},
     1, {"s.duplicated": 2, "s.duplicated_broker_crash": 1}),
]


def run_case(tmp, name, args, files, want_rc, want):
    d = tempfile.mkdtemp(dir=tmp)
    for fname, text in files.items():
        with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
            f.write(text)
    argv = [sys.executable, CHECKER, "--json"]
    for role in ("sent", "acked", "handed"):
        if role in files:
            argv += [f"--{role}", os.path.join(d, role)]
    argv += ["--received", os.path.join(d, "recv")]
    argv += [a.format(d=d) for a in args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    problems = []
    if p.returncode != want_rc:
        problems.append(f"exit {p.returncode}, want {want_rc}")
    if want:
        try:
            report = json.loads(p.stdout)
        except ValueError:
            return [f"no JSON report: {p.stdout!r} {p.stderr!r}"]
        for key, value in want.items():
            if key == "streams_verdicts":
                got = [s["verdict"] for s in report["streams"]]
            elif key.startswith("s."):
                got = report["streams"][0][key[2:]]
            else:
                got = report[key]
            if got != value:
                problems.append(f"{key} = {got!r}, want {value!r}")
    if problems:
        problems.append(f"stdout: {p.stdout.strip()} stderr: {p.stderr.strip()}")
    return problems


def test_text_output(tmp):
    """Without --json: one line per stream, the violations, then the verdict line."""
    d = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(d, "sent"), "w", encoding="utf-8") as f:
        f.write(SENT5)
    with open(os.path.join(d, "recv"), "w", encoding="utf-8") as f:
        f.write(payloads("s1", 1, 2, 2, 3, 4, 5))
    p = subprocess.run([sys.executable, CHECKER, "--qos", "2", "--sent", f"{d}/sent",
                        "--acked", f"{d}/sent", "--received", f"{d}/recv"],
                       capture_output=True, text=True, timeout=30)
    lines = p.stdout.strip().splitlines()
    problems = []
    if p.returncode != 1 or lines[-1] != "verdict: VIOLATION":
        problems.append(f"exit {p.returncode}, last line {lines[-1:]}")
    if not any("1 duplicate(s) (exactly once): [2]" in line for line in lines):
        problems.append("the duplicate is not named: " + p.stdout)
    return problems


def main():
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mqtls-chaos-checker-") as tmp:
        results = [(c[0], run_case(tmp, *c)) for c in CASES]
        results.append(("text output names the violation", test_text_output(tmp)))
    for name, problems in results:
        if problems:
            failures += 1
            print(f"FAIL - {name}")
            for pr in problems:
                print(f"       {pr}")
        else:
            print(f"ok   - {name}")
    print(f"# {len(results) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
