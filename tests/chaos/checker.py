#!/usr/bin/env python3
"""Judge an MQTT chaos run: count lost, duplicated and reordered messages per stream and say
whether what happened is allowed by the MQTT guarantee of the mode.

Input (plain text, one event per line; blank lines and lines starting with '#' are skipped):

  --sent FILE      what a publisher handed to its library, in the order it did so (or, with
                   --handed, what it offered: attempted, maybe not accepted)
  --handed FILE    what the library accepted: publish() returned OK (with persistence: the
                   record is written, so it must arrive even if the publisher was killed)
  --acked FILE     what the broker acknowledged (QoS 1: PUBACK; QoS 2: PUBCOMP)
  --refused FILE   what the broker refused (MQTT 5 PUBACK/PUBREC reason >= 0x80): it told the
                   publisher so, so these are never required (counted as "refused")
  --received FILE  what one subscriber got, in arrival order; one file per subscriber
                   (FILE=s1,s2 judges that subscriber on those streams only)

  A message line is "<stream-id> <seq>" or "<stream-id>:<seq>" (the payload format
  "s1:000123", so `mosquitto_sub -F '%p'` / `mqtls sub -F '%p'` output is read as it is);
  anything after the first token pair is ignored. seq is a decimal integer; a stream is the
  messages of one publisher on one topic at one QoS, numbered in publishing order.
  A received line starting with '@' (e.g. "@reconnect") marks a point where the subscriber's
  session may have been lost (a reconnect with a clean session); it matters only with
  --session clean. "@in-doubt <message>" is a QoS 2 message a subscriber with persistence
  reported in doubt after a crash (MQTLS_EVENT_MESSAGE_IN_DOUBT: received and recorded, its
  delivery not known to have finished): it counts as delivered for loss, never as a copy.
  Every option may be given more than once. Without --sent, the acked lines stand for the sent
  ones. A number after the message ("s1:000123 5012345") is the time, in CLOCK_MONOTONIC ms,
  of the event; --broker-crash uses it.

Definitions, per (subscriber, stream):
  S = sequence numbers sent, A = acknowledged (subset of S), R = the received copies.
  lost        S minus R. "required" losses are those of A (or of S with --require sent).
  duplicated  copies beyond the first of a sequence number.
  reordered   first copies that arrive after the first copy of a higher sequence number.
  phantom     received sequence numbers that were never sent (always a violation).

What is allowed (the mode's QoS is the end-to-end one: min(publish QoS, subscription QoS)):

  QoS 0, at most once [MQTT-4.3.1]: loss is allowed (counted); a duplicate is a violation.
  QoS 1, at least once [MQTT-4.3.2]: losing a required message is a violation; duplicates are
      allowed (counted).
  QoS 2, exactly once [MQTT-4.3.3]: losing a required message and any duplicate are
      violations.

  Sessions. The guarantees of QoS 1 and 2 hold across reconnects only while both ends keep
  their session state [MQTT-4.1.0] (Clean Session 0 / Clean Start 0 with a session expiry):
  --session persistent (default): every acknowledged message must reach every subscriber,
      whatever happened to the connections (a persistent subscriber gets what was queued for
      it while it was away; the test must give the broker room: max_queued_messages).
  --session clean: at each reconnect the broker drops the subscriber's session, with the
      messages queued or in flight to it, and messages published while it had no subscription
      are not for it. So a required message k lost by a subscriber is allowed iff the
      subscriber marked a session break ('@' line) with only lower sequence numbers of the
      stream received before it and only higher ones after it (k fell into the break); a loss
      anywhere else is still a violation. Without markers the file is one unbroken session.
      A QoS 2 duplicate stays a violation with clean sessions: MQTT never delivers twice, a
      client that re-publishes a handed-over message after a clean reconnect does.
  Messages sent but never acknowledged (the test ended, or a clean-session publisher dropped
  them at a reconnect) need not arrive; --require sent makes them required too (persistent
  publisher session and a test that waited for the library to finish); --require handed
  makes the --handed ones required (a publisher with persistence, killed and restarted).
  --pub-session clean: the publisher's session is clean, so a QoS 2 message it re-publishes
      after a reconnect is a new message to the broker [MQTT-4.3.3]: QoS 2 duplicates are then
      allowed and counted as such (exactly-once needs a persistent publisher session).
  --broker-crash T[:R] (ms, repeatable; --crash-window-ms W, default 1000): the broker was
      killed with SIGKILL at T and accepted connections again R ms later (default 0); W is how
      far before T its state may roll back (its last save). A broker that acknowledges before
      it saves (mosquitto) can lose what it acknowledged in [T-W, T] and re-deliver what it
      completed then. So: a required loss is excused ("broker_crash") iff its acknowledgement
      reached the publisher in [T-W, T+R] (an ack sent before T can arrive while the broker is
      down, never later), or (QoS 2) it was handed over before T and acknowledged after T (its
      PUBREC may have preceded T); a later copy, after T, of a message first received in
      [T-W, T] is a re-delivery ("duplicated_broker_crash"): excused at QoS 2, and at QoS 1
      not judged for order. Everything else stays a violation.
  --broker-restart T (ms, repeatable): the broker was stopped gracefully (it saved its state)
      at T and started again. Nothing may be lost. A later copy, after T, of a message first
      received before T is a re-delivery by the broker ("duplicated_broker_crash" too): a broker
      that restores a QoS 2 message it had sent PUBREL for as unsent (mosquitto 2.0.11, fixed in
      2.0.13) sends its PUBLISH again, and the subscriber, having completed it, cannot tell it
      from a new one. Excused at QoS 2, never judged for order; counted.

Ordering [MQTT-4.6.0-5, 4.6.0-6]: the server forwards the messages of one client on one topic at
one QoS in the order it received them, on non-shared subscriptions ("Ordered Topic"), and the
client re-sends in the original order [MQTT-4.6.0-1]. Reorderings are always reported; they
are violations only where the spec requires order (use --unordered for shared subscriptions
or streams that mix topics or QoS):
  QoS 0 and QoS 2: no first copy may arrive after a higher sequence number.
  QoS 1: the final copy of each message must be in order (spec 4.6, non-normative: sent
      1,2,3,4, a subscriber may receive 1,2,3,2,3,4 after a reconnect). With --inflight-1
      (Receive Maximum 1 / an in-flight window of one on both ends) no copy may arrive after a
      later message: 1,2,3,3,4 is fine, 1,2,3,2,3,4 is not.

Exit status: 0 verdict OK, 1 verdict VIOLATION, 2 usage or unreadable input.
"""

import argparse
import json
import os
import sys

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2
GUARANTEE = {0: "at most once", 1: "at least once", 2: "exactly once"}


class InputError(Exception):
    pass


def parse_message(tokens, text, where):
    """-> (stream, seq, time or None) from the tokens of one message."""
    first = tokens[0]
    stream, seq, rest = None, None, []
    if ":" in first:
        stream, _, seq = first.rpartition(":")
        rest = tokens[1:]
    elif len(tokens) >= 2:
        stream, seq = first, tokens[1]
        rest = tokens[2:]
    if not stream or seq is None or not seq.isdigit():
        raise InputError(f"{where}: expected '<stream> <seq>' or '<stream>:<seq>', got {text!r}")
    when = int(rest[0]) if rest and rest[0].isdigit() else None
    return stream, int(seq), when


def parse_line(line, where):
    """-> None (skip), ("marker", text), ("doubt", stream, seq, time) or
    ("msg", stream, seq, time)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    tokens = text.split()
    if tokens[0] == "@in-doubt" and len(tokens) >= 2:
        return ("doubt",) + parse_message(tokens[1:], text, where)
    if text.startswith("@"):
        return ("marker", tokens[0])
    return ("msg",) + parse_message(tokens, text, where)


def read_events(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from e
    events = []
    for n, line in enumerate(lines, 1):
        ev = parse_line(line, f"{path}:{n}")
        if ev is not None:
            events.append(ev)
    return events


def read_set(paths, role, warnings, problems, times=None):
    """Publisher logs -> {stream: set(seq)} (and {stream: {seq: time}} into @p times). A seq
    sent twice is an input error."""
    out = {}
    for path in paths:
        for ev in read_events(path):
            if ev[0] != "msg":
                continue
            _, stream, seq, when = ev
            if times is not None and when is not None:
                times.setdefault(stream, {})[seq] = when
            seqs = out.setdefault(stream, set())
            if seq in seqs:
                if role == "sent":
                    problems.append(f"{path}: {stream} {seq} handed to the library twice "
                                    "(each seq must be sent once)")
                else:
                    warnings.append(f"{path}: {stream} {seq} acknowledged twice")
            seqs.add(seq)
    return out


def split_received_arg(arg):
    """FILE or FILE=s1,s2 (split at the last '=' only when it names streams)."""
    path, sep, streams = arg.rpartition("=")
    if sep and path and streams and os.path.exists(path) and not os.path.exists(arg):
        return path, set(s for s in streams.split(",") if s)
    return arg, None


def first_items(values, limit):
    return sorted(values)[:limit]


def excused_losses(lost, events, stream):
    """Losses that fall into a marked session break (see the module docstring)."""
    if not lost:
        return set()
    below = []  # per marker: the highest seq of the stream received before it
    top = -1
    for ev in events:
        if ev[0] == "marker":
            below.append(top)
        elif ev[1] == stream:
            top = max(top, ev[2])
    above = []  # per marker, from the last one: the lowest seq received after it
    bottom = float("inf")
    for ev in reversed(events):
        if ev[0] == "marker":
            above.append(bottom)
        elif ev[1] == stream:
            bottom = min(bottom, ev[2])
    gaps = list(zip(below, reversed(above)))
    return {k for k in lost if any(lo < k < hi for lo, hi in gaps)}


def order_check(copies, qos, ordering):
    """-> (reordered first copies, order violations) as lists of seqs."""
    reordered, seen, top = [], set(), -1
    for seq in copies:
        if seq not in seen:
            seen.add(seq)
            if seq < top:
                reordered.append(seq)
            top = max(top, seq)
    if ordering == "off":
        return reordered, []
    if ordering == "strict":  # QoS 0 and 2: first copies in order
        return reordered, list(reordered)
    if ordering == "non-decreasing":  # QoS 1 with an in-flight window of one
        bad, top = [], -1
        for seq in copies:
            if seq < top:
                bad.append(seq)
            top = max(top, seq)
        return reordered, bad
    # QoS 1: the final copy of each message in order
    last = {}
    for i, seq in enumerate(copies):
        last[seq] = i
    bad, top = [], -1
    for seq in sorted(last, key=last.get):
        if seq < top:
            bad.append(seq)
        top = max(top, seq)
    return reordered, bad


def in_window(when, crashes, window_ms, after=False):
    """@p crashes: [(T, R)]. Is @p when in [T-W, T] (or [T-W, T+R] with @p after)?"""
    return when is not None and any(t - window_ms <= when <= t + (r if after else 0)
                                    for t, r in crashes)


def crash_losses(lost, stream, times, qos, opts):
    """Required losses a broker crash explains (see --broker-crash in the module docstring)."""
    if not opts.broker_crash or not lost:
        return set()
    acked_at = times["acked"].get(stream, {})
    handed_at = times["handed"].get(stream, {})
    out = set()
    for k in lost:
        a = acked_at.get(k)
        if in_window(a, opts.broker_crash, opts.crash_window_ms, after=True):
            out.add(k)
        elif qos == 2 and a is not None and handed_at.get(k) is not None and any(
                handed_at[k] < t <= a for t, _ in opts.broker_crash):
            out.add(k)
    return out


def crash_redeliveries(stream, events, opts):
    """-> (positions, positions) in the stream's copies: first, the copies a broker crash or
    restart explains as duplicates: a later copy, after the crash, of a message first received
    in the window before it (the broker had not saved that it was delivered), or after a
    restart, of one first received before it; second, those and every later copy, after a
    crash, of a message first received before it (whenever): not judged for order, because
    the broker restored an older in-flight list (an acknowledgement it had not saved, e.g. held
    back by a reset, delayed or silenced connection for longer than the window) and resends it in its order,
    after messages it delivered since its save and then forgot."""
    if not opts.broker_crash and not opts.broker_restart:
        return set(), set()
    first = {}
    dup, late = set(), set()
    copies = [ev for ev in events if ev[0] == "msg" and ev[1] == stream]
    for i, ev in enumerate(copies):
        seq, when = ev[2], ev[3]
        if seq not in first:
            first[seq] = when
            continue
        if when is None or first[seq] is None:
            continue
        # First copy before the broker was up again (while it was down it sent nothing: a copy
        # read then left it before the kill), the later one after that.
        after_crash = any(first[seq] <= t + r < when for t, r in opts.broker_crash)
        if after_crash and in_window(first[seq], opts.broker_crash, opts.crash_window_ms,
                                     after=True):
            dup.add(i)
        elif any(first[seq] <= t < when for t in opts.broker_restart):
            dup.add(i)
        if after_crash:
            late.add(i)
    return dup, dup | late


def judge_stream(sub, stream, events, sets, times, opts):
    qos = opts.qos
    sent, acked, handed = sets["sent"], sets["acked"], sets["handed"]
    copies = [ev[2] for ev in events if ev[0] == "msg" and ev[1] == stream]
    doubts = {ev[2] for ev in events if ev[0] == "doubt" and ev[1] == stream}
    unique = set(copies)
    s_set = sent.get(stream, set())
    a_set = acked.get(stream, set())
    counts = {}
    for seq in copies:
        counts[seq] = counts.get(seq, 0) + 1
    dup_seqs = [seq for seq, c in counts.items() if c > 1]
    duplicated = sum(c - 1 for c in counts.values())
    phantom = (unique | doubts) - s_set
    lost = s_set - unique - doubts
    if qos == 0:
        required = set()
    else:
        base = {"sent": s_set, "acked": a_set, "handed": handed.get(stream, set())}
        required = base[opts.require] - unique - doubts - sets["refused"].get(stream, set())
    excused = set()
    if opts.session == "clean" and qos > 0:
        excused = excused_losses(required, events, stream)
    crash_lost = crash_losses(required - excused, stream, times, qos, opts)
    redelivered, not_ordered = crash_redeliveries(stream, events, opts)
    dup_allowed, dup_crash = 0, len(redelivered)
    if qos == 2 and opts.pub_session == "clean":
        dup_allowed = duplicated - dup_crash
    # A re-delivery caused by the broker's rollback is judged as a duplicate, not for order.
    reordered, order_bad = order_check([c for i, c in enumerate(copies) if i not in not_ordered],
                                       qos, opts.ordering)

    limit = opts.max_list
    violations = []
    if phantom:
        violations.append(f"{len(phantom)} received message(s) never sent: "
                          f"{first_items(phantom, limit)}")
    unexplained = required - excused - crash_lost
    if unexplained:
        what = {"sent": "sent", "acked": "acknowledged", "handed": "handed-over"}[opts.require]
        violations.append(f"{len(unexplained)} {what} message(s) lost "
                          f"({GUARANTEE[qos]}): {first_items(unexplained, limit)}")
    if qos in (0, 2) and duplicated - dup_allowed - dup_crash > 0:
        violations.append(f"{duplicated - dup_allowed - dup_crash} duplicate(s) "
                          f"({GUARANTEE[qos]}): {first_items(dup_seqs, limit)}")
    if order_bad:
        violations.append(f"{len(order_bad)} message(s) out of order "
                          f"({opts.ordering} order required): {order_bad[:limit]}")
    return {
        "subscriber": sub,
        "stream": stream,
        "sent": len(s_set),
        "acked": len(a_set),
        "received": len(copies),
        "unique": len(unique),
        "lost": len(lost),
        "lost_required": len(required),
        "lost_excused": len(excused),
        "lost_broker_crash": len(crash_lost),
        "lost_unacked": len(lost - a_set) if qos > 0 else 0,
        "in_doubt": len(doubts),
        "refused": len(sets["refused"].get(stream, set())),
        "duplicated": duplicated,
        "duplicated_allowed": dup_allowed,
        "duplicated_broker_crash": dup_crash,
        "reordered": len(reordered),
        "order_violations": len(order_bad),
        "phantom": len(phantom),
        "lost_seqs": first_items(lost, limit),
        "duplicate_seqs": first_items(dup_seqs, limit),
        "reordered_seqs": reordered[:limit],
        "violations": violations,
        "verdict": "OK" if not violations else "VIOLATION",
    }


def run(opts):
    warnings, problems = [], []
    times = {"acked": {}, "handed": {}}
    sent = read_set(opts.sent, "sent", warnings, problems)
    acked = read_set(opts.acked, "acked", warnings, problems, times["acked"])
    handed = read_set(opts.handed, "handed", warnings, problems, times["handed"])
    refused = read_set(opts.refused, "refused", warnings, problems)
    if not opts.sent:
        sent = {k: set(v) for k, v in acked.items()}
    for what, got in (("acknowledged", acked), ("handed-over", handed), ("refused", refused)):
        for stream, seqs in got.items():
            stray = seqs - sent.get(stream, set())
            if stray:
                problems.append(f"{stream}: {len(stray)} {what} message(s) never sent: "
                                f"{first_items(stray, opts.max_list)}")
    if opts.qos == 2 and opts.pub_session == "clean":
        warnings.append("publisher session clean: QoS 2 duplicates are allowed (a message "
                        "re-published after a reconnect is new to the broker); exactly-once "
                        "needs a persistent publisher session")
    sets = {"sent": sent, "acked": acked, "handed": handed, "refused": refused}
    if opts.qos == 0 and opts.acked:
        warnings.append("QoS 0 has no acknowledgements: --acked is ignored")
    results = []
    for arg in opts.received:
        path, only = split_received_arg(arg)
        events = read_events(path)
        streams = set(sent)
        streams.update(ev[1] for ev in events if ev[0] == "msg")
        if only is not None:
            streams = only
        for stream in sorted(streams):
            results.append(judge_stream(path, stream, events, sets, times, opts))
    violations = list(problems)
    for r in results:
        violations.extend(f"{r['subscriber']} {r['stream']}: {v}" for v in r["violations"])
    return {
        "verdict": "OK" if not violations else "VIOLATION",
        "qos": opts.qos,
        "guarantee": GUARANTEE[opts.qos],
        "session": opts.session,
        "pub_session": opts.pub_session,
        "broker_crashes": len(opts.broker_crash),
        "broker_restarts": len(opts.broker_restart),
        "require": opts.require if opts.qos > 0 else "none",
        "ordering": opts.ordering,
        "streams": results,
        "violations": violations,
        "warnings": warnings,
    }


def print_text(report, out):
    print(f"checker: QoS {report['qos']} ({report['guarantee']}), {report['session']} session, "
          f"loss judged against: {report['require']}, ordering: {report['ordering']}", file=out)
    for r in report["streams"]:
        print(f"  {r['subscriber']} {r['stream']}: sent {r['sent']} acked {r['acked']} "
              f"received {r['received']} (unique {r['unique']}, in doubt {r['in_doubt']}) "
              f"lost {r['lost']} (required {r['lost_required']}, excused {r['lost_excused']}, "
              f"broker crash {r['lost_broker_crash']}, unacked {r['lost_unacked']}) "
              f"duplicated {r['duplicated']} (allowed {r['duplicated_allowed']}, "
              f"broker crash {r['duplicated_broker_crash']}) "
              f"reordered {r['reordered']} order-violations {r['order_violations']} "
              f"phantom {r['phantom']}: {r['verdict']}", file=out)
    for w in report["warnings"]:
        print(f"  warning: {w}", file=out)
    for v in report["violations"]:
        print(f"  violation: {v}", file=out)
    print(f"verdict: {report['verdict']}", file=out)


def crash_arg(text):
    t, _, r = text.partition(":")
    if not t.isdigit() or (r and not r.isdigit()):
        raise argparse.ArgumentTypeError(f"expected T_MS[:R_MS], got {text!r}")
    return (int(t), int(r) if r else 0)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Count lost/duplicated/reordered MQTT messages and judge them against "
                    "the guarantee of the QoS (see the module docstring: pydoc checker).")
    ap.add_argument("--qos", type=int, choices=(0, 1, 2), required=True,
                    help="end-to-end QoS: min(publish QoS, subscription QoS)")
    ap.add_argument("--session", choices=("persistent", "clean"), default="persistent")
    ap.add_argument("--sent", action="append", default=[], metavar="FILE")
    ap.add_argument("--acked", action="append", default=[], metavar="FILE")
    ap.add_argument("--handed", action="append", default=[], metavar="FILE",
                    help="what the library accepted (publish() returned OK)")
    ap.add_argument("--refused", action="append", default=[], metavar="FILE",
                    help="what the broker refused (MQTT 5 reason >= 0x80): never required")
    ap.add_argument("--pub-session", choices=("persistent", "clean"), default="persistent",
                    help="clean: QoS 2 duplicates from re-publishing are allowed")
    ap.add_argument("--broker-crash", action="append", type=crash_arg, default=[],
                    metavar="T_MS[:R_MS]",
                    help="the broker was killed at T (CLOCK_MONOTONIC ms), up again R ms later")
    ap.add_argument("--crash-window-ms", type=int, default=1000, metavar="W")
    ap.add_argument("--broker-restart", action="append", type=int, default=[], metavar="T_MS",
                    help="the broker was stopped gracefully at T and started again")
    ap.add_argument("--received", action="append", default=[], metavar="FILE[=STREAMS]",
                    required=True)
    ap.add_argument("--require", choices=("acked", "sent", "handed"), default="acked",
                    help="QoS 1/2: which published messages must arrive (default acked)")
    ap.add_argument("--unordered", action="store_true",
                    help="report reorderings but never call them violations")
    ap.add_argument("--inflight-1", dest="inflight_1", action="store_true",
                    help="QoS 1 with one message in flight: no copy after a later message")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--max-list", type=int, default=10, help="sequence numbers listed per kind")
    opts = ap.parse_args(argv)
    if not opts.sent and not opts.acked:
        ap.error("give --sent and/or --acked")
    if opts.require == "handed" and not opts.handed:
        ap.error("--require handed needs --handed")
    if opts.unordered:
        opts.ordering = "off"
    elif opts.qos == 1:
        opts.ordering = "non-decreasing" if opts.inflight_1 else "final-copy"
    else:
        opts.ordering = "strict"
    try:
        report = run(opts)
    except InputError as e:
        print(f"checker: {e}", file=sys.stderr)
        return EXIT_USAGE
    if opts.json:
        json.dump(report, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print_text(report, sys.stdout)
    return EXIT_OK if report["verdict"] == "OK" else EXIT_VIOLATION


if __name__ == "__main__":
    sys.exit(main())
