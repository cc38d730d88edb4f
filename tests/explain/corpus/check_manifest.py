#!/usr/bin/env python3
"""Check tests/explain/corpus/manifest.tsv (development), heldout.tsv, heldout2.tsv and heldout3.tsv
(held-out): columns,
files, ecosystems, that every expected_id / also_ok id is in src/diag/findings.def, in the list
of ids the project is adding, or defined in NEW_IDS.md, and that no thread appears twice (in
either manifest). Prints the distribution tables used in README.md.
Usage: python3 tests/explain/corpus/check_manifest.py [--markdown] [--heldout | --heldout2 | --heldout3]"""
import collections, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
COLS = ["id", "file", "source_url", "ecosystem", "log_side", "expected_id", "also_ok", "cause_in_thread"]
ECOS = {"esp-idf", "arduino", "mosquitto", "paho-c", "paho-java", "paho-python", "mqttjs", "go",
        "dotnet", "erlang", "aws-iot", "azure-iot", "openssl", "other"}
SIDES = {"client", "broker", "both"}
PLANNED = {"tls-version-mismatch", "out-of-memory", "tls-record-buffer-too-small", "library-without-tls",
           "no-verification-option", "server-key-too-small", "broker-local-only", "protocol-name-mismatch"}

def known_ids():
    ids = set(re.findall(r'^X\(\s*\w+\s*,\s*"([a-z0-9-]+)"', open(os.path.join(ROOT, "src/diag/findings.def")).read(), re.M))
    new = set(re.findall(r"^## `([a-z0-9-]+)`", open(os.path.join(HERE, "NEW_IDS.md")).read(), re.M))
    return ids, new

def main():
    ids, new = known_ids()
    allowed = ids | PLANNED | new
    rows, errors, all_rows = [], [], []
    show = ("heldout3.tsv" if "--heldout3" in sys.argv else "heldout2.tsv" if "--heldout2" in sys.argv
            else "heldout.tsv" if "--heldout" in sys.argv else "manifest.tsv")
    lines = []
    for name in ("manifest.tsv", "heldout.tsv", "heldout2.tsv", "heldout3.tsv"):
        path = os.path.join(HERE, name)
        if not os.path.isfile(path):
            continue
        text = open(path).read().rstrip("\n").split("\n")
        if text[0].split("\t") != COLS:
            errors.append(f"{name}: bad header")
        lines += [(name, t) for t in text[1:]]
    for n, (name, line) in enumerate(lines, 2):
        f = line.split("\t")
        if len(f) != len(COLS):
            errors.append(f"line {n}: {len(f)} fields"); continue
        r = dict(zip(COLS, f)); all_rows.append(r)
        if name == show: rows.append(r)
        if not os.path.isfile(os.path.join(HERE, r["file"])): errors.append(f"{r['id']}: missing {r['file']}")
        if not r["source_url"].startswith("https://"): errors.append(f"{r['id']}: url")
        if r["ecosystem"] not in ECOS: errors.append(f"{r['id']}: ecosystem {r['ecosystem']}")
        if r["log_side"] not in SIDES: errors.append(f"{r['id']}: log_side {r['log_side']}")
        for i in [r["expected_id"]] + ([] if r["also_ok"] == "-" else r["also_ok"].split(",")):
            if i not in allowed: errors.append(f"{r['id']}: unknown id {i}")
    urls = collections.Counter(r["source_url"] for r in all_rows)
    errors += [f"duplicate url {u}" for u, c in urls.items() if c > 1]
    md = "--markdown" in sys.argv
    def table(title, key):
        c = collections.Counter(r[key] for r in rows)
        print(f"\n{title}\n" if md else f"\n{title}:")
        if md: print("| value | cases |\n|---|---:|")
        for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"| `{k}` | {v} |" if md else f"  {k}: {v}")
    print(f"{len(rows)} cases")
    table("Cases per ecosystem", "ecosystem"); table("Cases per log side", "log_side"); table("Cases per expected_id", "expected_id")
    for e in errors: print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
