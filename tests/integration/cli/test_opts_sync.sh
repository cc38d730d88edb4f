#!/usr/bin/env bash
# tools/mqtls/opts/<option>.md, `mqtls pub|sub --help` and docs/cli/{pub,sub}.md agree:
# every option has a page, its Help: line is exactly the --help text, its Commands: line
# matches where --help lists it, and the command's doc page mentions it.
set -u
MQTLS=${MQTLS:?}; SRC=${SRC:?}
python3 - "$MQTLS" "$SRC" <<'PY'
import glob, os, re, subprocess, sys
mqtls, src = sys.argv[1], sys.argv[2]
fails = 0
def fail(msg):
    global fails
    fails += 1
    print("FAIL -", msg)
helps = {c: subprocess.run([mqtls, c, "--help"], capture_output=True, text=True, timeout=10)
         for c in ("pub", "sub")}
for c, r in helps.items():
    if r.returncode != 0:
        fail(f"mqtls {c} --help exit {r.returncode}")
def listed(text):
    opts = set()
    for line in text.splitlines():
        m = re.match(r"^  (?:-\S, )?\s*--([a-z0-9-]+)", line)
        if m:
            opts.add(m.group(1))
    return opts
listed_by = {c: listed(r.stdout) for c, r in helps.items()}
pages = {}
for path in sorted(glob.glob(os.path.join(src, "tools/mqtls/opts/*.md"))):
    text = open(path).read()
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        fail(f"{path}: no front matter"); continue
    meta = dict(l.split(": ", 1) for l in m.group(1).splitlines())
    name = os.path.basename(path)[:-3]
    if meta.get("Long") != name:
        fail(f"{path}: Long: {meta.get('Long')} != file name")
    pages[name] = meta
    cmds = meta.get("Commands", "").split()
    for c in ("pub", "sub"):
        if (c in cmds) != (name in listed_by[c]):
            fail(f"--{name}: Commands: {cmds} but 'mqtls {c} --help' {'lists' if name in listed_by[c] else 'does not list'} it")
        flat = " ".join(helps[c].stdout.split())  # --help wraps at 80 columns
        if c in cmds and " ".join(meta.get("Help", "").split()) not in flat:
            fail(f"--{name}: Help: text differs from 'mqtls {c} --help'")
    short = meta.get("Short")
    if short:
        for c in cmds:
            if not re.search(rf"^  -{re.escape(short)}, --{re.escape(name)}\b", helps[c].stdout, re.M):
                fail(f"--{name}: Short: -{short} not shown in 'mqtls {c} --help'")
for c in ("pub", "sub"):
    for name in listed_by[c] - set(pages):
        fail(f"'mqtls {c} --help' lists --{name} but tools/mqtls/opts/{name}.md is missing")
    doc = open(os.path.join(src, f"docs/cli/{c}.md")).read()
    for name in listed_by[c]:
        if f"--{name}" not in doc:
            fail(f"docs/cli/{c}.md does not mention --{name}")
print(f"# {len(pages)} option pages checked, {fails} problems")
sys.exit(1 if fails else 0)
PY
