#!/usr/bin/env python3
"""Run `mqtls explain --json` on every case of the real-log corpus (manifest.tsv) and score it.

A case passes when the first cause is the thread's established cause (`expected_id`) or one of
the equally correct readings (`also_ok`). Prints one line per case, the accuracy per ecosystem,
and a closing line "N passed, N failed". Exit 0 when accuracy >= --min (default 0.90).

    run_corpus.py MQTLS_BINARY [--min 0.90] [--json OUT] [--verbose]
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_manifest():
    with open(os.path.join(HERE, "manifest.tsv"), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def explain(binary, path):
    with open(path, "rb") as f:
        data = f.read()
    p = subprocess.run([binary, "explain", "--json", "-"], input=data, capture_output=True,
                       timeout=30)
    try:
        return json.loads(p.stdout.decode("utf-8", "replace")), p.returncode
    except ValueError:
        return None, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--min", type=float, default=0.90)
    ap.add_argument("--json")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    rows = load_manifest()
    per_eco = collections.defaultdict(lambda: [0, 0])
    results = []
    passed = 0
    for r in rows:
        ok_ids = {r["expected_id"]}
        if r["also_ok"] not in ("", "-"):
            ok_ids |= {x.strip() for x in r["also_ok"].split(",")}
        out, rc = explain(a.binary, os.path.join(HERE, r["file"]))
        causes = [c["id"] for c in (out or {}).get("causes", [])]
        first = causes[0] if causes else "(nothing)"
        rank = next((i + 1 for i, c in enumerate(causes) if c in ok_ids), 0)
        ok = first in ok_ids
        passed += ok
        per_eco[r["ecosystem"]][0 if ok else 1] += 1
        results.append({"id": r["id"], "file": r["file"], "ecosystem": r["ecosystem"],
                        "expected": sorted(ok_ids), "first": first, "rank_of_true": rank,
                        "causes": causes[:5], "ok": ok})
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {r['id']} {r['ecosystem']:<11} expected {r['expected_id']:<28} "
              f"got {first}" + ("" if ok else f" (true cause at rank {rank or '-'})"))
        if a.verbose and not ok:
            print(f"      causes: {', '.join(causes[:5])}")
    total = len(rows)
    acc = passed / total if total else 0.0
    print("\nper ecosystem (passed/total):")
    for eco, (p, f) in sorted(per_eco.items()):
        print(f"  {eco:<11} {p}/{p + f}")
    print(f"\naccuracy: {passed}/{total} = {acc:.1%} (required {a.min:.0%})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"accuracy": acc, "passed": passed, "total": total, "cases": results}, f,
                      indent=1)
    # One closing line in the project's format: the corpus is one test, judged by accuracy.
    good = acc >= a.min
    print(f"{1 if good else 0} passed, {0 if good else 1} failed")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
