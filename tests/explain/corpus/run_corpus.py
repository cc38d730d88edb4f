#!/usr/bin/env python3
"""Run `mqtls explain --json` on every case of the real-log corpus and score it.

Manifests: manifest.tsv (the development set, which the rules were tuned on), heldout.tsv,
heldout2.tsv and heldout3.tsv (each collected after the rules froze and scored blind once; see
README.md). A case passes when the first cause is the thread's
established cause (`expected_id`) or one of the equally correct readings (`also_ok`). Prints one
line per case, the accuracy per ecosystem and per manifest, the overall accuracy, and a closing
line "N passed, N failed" (the corpus is one test). Exit 0 when the overall accuracy >= --min.

    run_corpus.py MQTLS_BINARY [--standalone] [--manifest FILE ...] [--min 0.90]
                  [--json OUT] [--verbose]

MQTLS_BINARY is the `mqtls` CLI (run as `mqtls explain --json -`), or with --standalone a
program that is `mqtls explain` alone (tests/unit/explain's explain_cli).
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MANIFESTS = ("manifest.tsv", "heldout.tsv", "heldout2.tsv", "heldout3.tsv")
LABELS = {"manifest.tsv": "development", "heldout.tsv": "held-out 1", "heldout2.tsv": "held-out 2",
          "heldout3.tsv": "held-out 3"}


def load_manifest(name):
    with open(os.path.join(HERE, name), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def explain(cmd, path):
    with open(path, "rb") as f:
        data = f.read()
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=30)
    try:
        return json.loads(p.stdout.decode("utf-8", "replace")), p.returncode
    except ValueError:
        return None, p.returncode


def score(cmd, manifest, verbose, results):
    per_eco = collections.defaultdict(lambda: [0, 0])
    passed = 0
    rows = load_manifest(manifest)
    for r in rows:
        ok_ids = {r["expected_id"]}
        if r["also_ok"] not in ("", "-"):
            ok_ids |= {x.strip() for x in r["also_ok"].split(",")}
        out, _ = explain(cmd, os.path.join(HERE, r["file"]))
        causes = [c["id"] for c in (out or {}).get("causes", [])]
        first = causes[0] if causes else "(nothing)"
        rank = next((i + 1 for i, c in enumerate(causes) if c in ok_ids), 0)
        ok = first in ok_ids
        passed += ok
        per_eco[r["ecosystem"]][0 if ok else 1] += 1
        results.append({"manifest": manifest, "id": r["id"], "file": r["file"],
                        "ecosystem": r["ecosystem"], "expected": sorted(ok_ids), "first": first,
                        "rank_of_true": rank, "causes": causes[:5], "ok": ok})
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {LABELS.get(manifest, manifest)[:4]} {r['id']} {r['ecosystem']:<11} "
              f"expected {r['expected_id']:<28} got {first}"
              + ("" if ok else f" (true cause at rank {rank or '-'})"))
        if verbose and not ok:
            print(f"      causes: {', '.join(causes[:5])}")
    return passed, len(rows), per_eco


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--standalone", action="store_true")
    ap.add_argument("--manifest", action="append")
    ap.add_argument("--min", type=float, default=0.90)
    ap.add_argument("--json")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    cmd = [a.binary] + ([] if a.standalone else ["explain"]) + ["--json", "-"]
    manifests = a.manifest or [m for m in DEFAULT_MANIFESTS if os.path.isfile(os.path.join(HERE, m))]
    results = []
    totals = []
    for m in manifests:
        passed, total, per_eco = score(cmd, m, a.verbose, results)
        totals.append((m, passed, total, per_eco))
    for m, passed, total, per_eco in totals:
        print(f"\n{LABELS.get(m, m)} ({m}), per ecosystem (passed/total):")
        for eco, (p, f) in sorted(per_eco.items()):
            print(f"  {eco:<11} {p}/{p + f}")
    print()
    for m, passed, total, _ in totals:
        acc = passed / total if total else 0.0
        print(f"accuracy {LABELS.get(m, m)} ({m}): {passed}/{total} = {acc:.1%}")
    all_passed = sum(t[1] for t in totals)
    all_total = sum(t[2] for t in totals)
    acc = all_passed / all_total if all_total else 0.0
    print(f"accuracy overall: {all_passed}/{all_total} = {acc:.1%} (required {a.min:.0%})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"accuracy": acc, "passed": all_passed, "total": all_total,
                       "manifests": {m: {"passed": p, "total": t} for m, p, t, _ in totals},
                       "cases": results}, f, indent=1)
    good = all_total > 0 and acc >= a.min
    print(f"{1 if good else 0} passed, {0 if good else 1} failed")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
