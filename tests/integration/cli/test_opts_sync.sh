#!/usr/bin/env bash
# tools/mqtls/opts/<option>.md is the one source of each option of pub, sub, doctor, bench: the
# build generates the parser's table from the pages (tools/mqtls/gen_opts.py). This checks the
# rest of the chain: `mqtls <cmd> --help` lists exactly the options whose page names <cmd>, with
# the page's Help: (or Help-<cmd>:) text and short name; docs/cli/<cmd>.md mentions each; and
# the generator refuses a malformed page instead of building a table from it.
set -u
MQTLS=${MQTLS:?}; SRC=${SRC:?}
python3 - "$MQTLS" "$SRC" <<'PY'
import glob, os, re, subprocess, sys, tempfile
mqtls, src = sys.argv[1], sys.argv[2]
COMMANDS = ("pub", "sub", "doctor", "bench")
fails = 0
def fail(msg):
    global fails
    fails += 1
    print("FAIL -", msg)
helps = {c: subprocess.run([mqtls, c, "--help"], capture_output=True, text=True, timeout=10)
         for c in COMMANDS}
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
    pages[name] = meta
    cmds = meta.get("Commands", "").split()
    for c in COMMANDS:
        if (c in cmds) != (name in listed_by[c]):
            fail(f"--{name}: Commands: {cmds} but 'mqtls {c} --help' {'lists' if name in listed_by[c] else 'does not list'} it")
        flat = " ".join(helps[c].stdout.split())  # --help wraps at 80 columns
        want = meta.get(f"Help-{c}", meta.get("Help", ""))
        if c in cmds and " ".join(want.split()) not in flat:
            fail(f"--{name}: Help{'-' + c if f'Help-{c}' in meta else ''}: text differs from 'mqtls {c} --help'")
    short = meta.get("Short")
    if short:
        for c in cmds:
            if not re.search(rf"^  -{re.escape(short)}, --{re.escape(name)}\b", helps[c].stdout, re.M):
                fail(f"--{name}: Short: -{short} not shown in 'mqtls {c} --help'")
for c in COMMANDS:
    for name in listed_by[c] - set(pages):
        fail(f"'mqtls {c} --help' lists --{name} but tools/mqtls/opts/{name}.md is missing")
    doc = open(os.path.join(src, f"docs/cli/{c}.md")).read()
    for name in listed_by[c]:
        if f"--{name}" not in doc:
            fail(f"docs/cli/{c}.md does not mention --{name}")

# The generator: a good page set makes a table, each kind of bad page stops it.
gen = os.path.join(src, "tools/mqtls/gen_opts.py")
good = "---\nLong: {n}\nOrder: {o}\nCommands: pub\nHelp: h\n---\n"
bad = {
    "no front matter": "# x\n",
    "Long: is not the file name": "---\nLong: other\nOrder: 1\nCommands: pub\nHelp: h\n---\n",
    "unknown command": "---\nLong: x\nOrder: 1\nCommands: pub bogus\nHelp: h\n---\n",
    "unknown key": "---\nLong: x\nOrder: 1\nCommands: pub\nHelp: h\nHlep: h\n---\n",
    "Help-<cmd> for a command not in Commands": "---\nLong: x\nOrder: 1\nCommands: pub\nHelp: h\nHelp-sub: s\n---\n",
    "duplicate Order": "---\nLong: x\nOrder: 10\nCommands: pub\nHelp: h\n---\n",
    "duplicate short": "---\nLong: x\nOrder: 1\nShort: a\nCommands: pub\nHelp: h\n---\n",
}
with tempfile.TemporaryDirectory() as d:
    def run(pages_):
        for f in glob.glob(os.path.join(d, "*.md")):
            os.remove(f)
        for n, t in pages_.items():
            open(os.path.join(d, n + ".md"), "w").write(t)
        out = os.path.join(d, "gen.h")
        r = subprocess.run([sys.executable, gen, out] + sorted(glob.glob(os.path.join(d, "*.md"))),
                           capture_output=True, text=True)
        return r, out
    base = {"a": good.format(n="a", o=10).replace("Order: 10\n", "Order: 10\nShort: a\n")}
    r, out = run(base)
    if r.returncode != 0 or "X(A, 'a', \"a\"" not in open(out).read():
        fail(f"gen_opts.py on a good page: exit {r.returncode} {r.stderr.strip()}")
    for why, text in bad.items():
        r, _ = run(dict(base, x=text))
        if r.returncode == 0:
            fail(f"gen_opts.py accepted a page with: {why}")
print(f"# {len(pages)} option pages checked against pub/sub/doctor/bench --help, {len(bad)} bad pages refused, {fails} problems")
sys.exit(1 if fails else 0)
PY
