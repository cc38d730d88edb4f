#!/usr/bin/env python3
"""Generate the man pages' scdoc sources, the shell completions and the help topics of mqtls
from the same pages the option table comes from (gen_opts.py reads the same front matter):

    tools/mqtls/opts/<option>.md   one page per option of the table (pub, sub, doctor, ...)
    tools/mqtls/cmds/<command>.md  one page per command: NAME line, SYNOPSIS, the sections
                                   of its man page; commands with a parser of their own
                                   (explain, pki) list their options in Own-options:
    docs/man/<page>.<section>.md   pages that are not a command: mqtls(1), libmqtls(3)
    docs/cli/exit-codes.md         the exit code table (EXIT STATUS, `mqtls help exit-codes`)

A command page's front matter:
    Command: pub                   the command (file name)
    Summary: publish messages ...  the NAME line and the summary in mqtls(1)
    Synopsis: mqtls pub ...        one line per synopsis form (Synopsis2:, Synopsis3: ...)
    Own-options: --json --color    optional: options not in the table (its own parser)
    Subcommands: init server       optional: words completed after the command
A command of the option table without a page of its own still gets a man page (its options,
the exit codes): a new command is documented from its option pages alone.

Outputs (into OUTDIR):
    man/<page>.<n>.scd             scdoc sources; the build runs scdoc(1) on each
    completion/mqtls               bash completion (self-contained: needs no bash-completion)
    completion/_mqtls              zsh completion
    cli_topics_gen.h               CLI_EXIT_CODES_TEXT for `mqtls help exit-codes`

usage: gen_docs.py VERSION SRCDIR OUTDIR | gen_docs.py --list SRCDIR
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_opts  # noqa: E402  (the option pages' reader and checks)

CMD_KEYS = {"Command", "Summary", "Synopsis", "Own-options", "Subcommands"} | {
    f"Synopsis{i}" for i in range(2, 6)
}


def fail(msg):
    print("gen_docs.py: " + msg, file=sys.stderr)
    sys.exit(1)


def front_matter(path, keys):
    text = open(path, encoding="utf-8").read()
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        fail(f"{path}: no front matter (--- ... ---)")
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(": ")
        if not sep or key not in keys:
            fail(f"{path}: unknown front matter line '{line}'")
        meta[key] = value.strip()
    return meta, text[m.end():]


# --- Markdown (the small subset the pages use) -> scdoc --------------------------------------

def inline(text):
    """`code` and **bold** -> *bold*; [text](url) -> text (url); scdoc's specials escaped."""
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)]+)\)|"
                         r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("*" + escape(m.group(1)) + "*")
        elif m.group(2) is not None:
            out.append("*" + escape(m.group(2)) + "*")
        elif m.group(5) is not None:
            out.append("*" + escape(m.group(5)) + "*")  # a man page names commands in bold
        else:
            out.append(escape(m.group(3)) + " (" + escape(m.group(4)) + ")")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def escape(s):
    return s.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def md_to_scd(body, heading_level=1):
    """Headings, paragraphs, '- ' lists, fenced code; a '#' heading becomes a section."""
    out = []
    lines = body.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            out.append("```")
            out.extend(block)
            out.append("```")
            out.append("")
            continue
        m = re.match(r"(#+) (.*)", line)
        if m:
            level = len(m.group(1)) - heading_level + 1
            out.append("#" * max(level, 1) + " " + m.group(2).strip().upper()
                       if level <= 1 else "#" * level + " " + m.group(2).strip())
            out.append("")
            i += 1
            continue
        if line.strip() == "":
            i += 1
            continue
        if line.startswith("|"):
            fail("markdown tables are not supported in man page sources; use a list")
        if re.fullmatch(r"`[^`]+`(, `[^`]+`)*", line.strip()) and i + 1 < len(lines) and \
                lines[i + 1].startswith("    "):
            # a definition: the term alone on its line, its text indented by four spaces
            out.append(inline(line.strip()))
            i += 1
            text = []
            while i < len(lines) and lines[i].startswith("    "):
                text.append(lines[i].strip())
                i += 1
            out.append("\t" + inline(" ".join(text)))
            out.append("")
            continue
        if re.match(r"(- |\d+\. )", line):
            while i < len(lines) and re.match(r"(- |\d+\. )", lines[i]):
                item = [re.sub(r"^(- |\d+\. )", "", lines[i])]
                i += 1
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                    item.append(lines[i].strip())
                    i += 1
                out.append("- " + inline(" ".join(item)))
            out.append("")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not lines[i].startswith(("```", "#", "- ")):
            para.append(lines[i].strip())
            i += 1
        out.append(inline(" ".join(para)))
        out.append("")
    return "\n".join(out)


# --- the pages ------------------------------------------------------------------------------

def option_entry(o, cmd, body):
    """*-t*, *--topic* _TOPIC_, then its text: the page's paragraphs for this command."""
    names = (f"*-{o['short']}*, " if o["short"] else "") + f"*--{escape(o['name'])}*"
    if o["alias"]:
        names += f", *--{escape(o['alias'])}*"
    if o["arg"]:
        names += " _" + escape(o["arg"]) + "_"
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    kept = []
    for p in paras:
        if p.startswith("#"):
            continue  # the page's own title line
        m = re.match(r"([a-z]+): ", p)
        if m and m.group(1) in gen_opts.COMMANDS + ("bench",) and m.group(1) != cmd:
            continue  # a paragraph about another command
        kept.append(inline(" ".join(p.split())))
    if not kept:
        kept = [inline(o["help"][cmd])]
    return names + "\n\t" + "\n\n\t".join(kept) + "\n"


def exit_codes(src):
    """The rows of docs/cli/exit-codes.md's table: (code, name, meaning, examples)."""
    rows = []
    for line in open(os.path.join(src, "docs/cli/exit-codes.md"), encoding="utf-8"):
        m = re.match(r"\| (\d+) \| `(\w+)` \| (.*?) \| (.*?) \|$", line.strip())
        if m:
            rows.append(m.groups())
    if not rows:
        fail("docs/cli/exit-codes.md: no exit code table")
    return rows


def plain(md):
    return re.sub(r"\*\*|`", "", md)


def exit_status_scd(rows):
    out = ["# EXIT STATUS", ""]
    for code, name, meaning, examples in rows:
        out.append(f"*{code}*")
        out.append("\t" + inline(meaning) + ": " + inline(examples))
        out.append("")
    out.append("The list is append-only: a code never changes meaning.")
    out.append("")
    return "\n".join(out)


def header(name, section, version):
    return f'{name}({section}) "mqtls {version}" "mqtls manual"\n\n'


def command_page(cmd, meta, body, opts, rows, version):
    own = meta.get("Own-options")
    out = [header(f"mqtls-{cmd}", 1, version)]
    out.append("# NAME\n\nmqtls-" + cmd + " - " + inline(meta["Summary"]) + "\n")
    out.append("# SYNOPSIS\n")
    for key in ["Synopsis"] + [f"Synopsis{i}" for i in range(2, 6)]:
        if key in meta:
            out.append("*" + escape(meta[key].split(" ", 2)[0]) + " " +
                       escape(meta[key].split(" ", 2)[1]) + "* " +
                       escape(" ".join(meta[key].split(" ")[2:])) + "\n")
    sections = md_to_scd(body)
    # OPTIONS after the description, before the rest (differences, examples)
    cut = re.search(r"^# (?!DESCRIPTION)", sections, re.M)
    out.append(sections[:cut.start()] if cut else sections)
    mine = [o for o in opts if cmd in o["cmds"]]
    if mine and not own:
        out.append("# OPTIONS\n")
        out.append("Every option has one page, tools/mqtls/opts/<option>.md, the source of this "
                   "list, of *--help* and of the shell completion.\n")
        for o in mine:
            out.append(option_entry(o, cmd, o["body"]))
    if cut:
        out.append(sections[cut.start():])
    out.append(exit_status_scd(rows))
    out.append("# SEE ALSO\n\n*mqtls*(1), *mqtls-pub*(1), *mqtls-sub*(1), *mqtls-doctor*(1), "
               "*mqtls-explain*(1), *mqtls-pki*(1), *libmqtls*(3), *mosquitto\\_pub*(1), "
               "*mosquitto\\_sub*(1)\n")
    return "\n".join(out)


def plain_page(name, section, body, version, cmds):
    text = header(name, section, version) + md_to_scd(body)
    table = "\n".join(f"*mqtls {c}*\n\t{inline(m['Summary'])}; see *mqtls-{c}*(1).\n"
                      for c, m in cmds)
    return text.replace("@COMMANDS@", table)


# --- completion -----------------------------------------------------------------------------

def value_kind(arg):
    if arg is None:
        return ("none", None)
    if arg in ("FILE",):
        return ("file", None)
    if arg in ("DIR",):
        return ("dir", None)
    if arg in ("HOST",):
        return ("host", None)
    if re.fullmatch(r"[a-z0-9.]+(\|[a-z0-9.]+)+", arg):
        return ("words", arg.split("|"))
    return ("any", None)


def forms(o):
    """-t, --topic and the alias: every spelling of an option."""
    return ([f"-{o['short']}"] if o["short"] else []) + [f"--{o['name']}"] + \
        ([f"--{o['alias']}"] if o["alias"] else [])


def bash_completion(cmds, opts):
    lines = [
        "# bash completion for mqtls. Generated by tools/mqtls/gen_docs.py from",
        "# tools/mqtls/opts/*.md and tools/mqtls/cmds/*.md: edit those.",
        "_mqtls()",
        "{",
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
        "    local cmd=${COMP_WORDS[1]} words='' IFS=$' \\t\\n'",
        "    COMPREPLY=()",
        "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
        "        COMPREPLY=($(compgen -W '" + " ".join(c for c, _ in cmds) +
        " help --help --version' -- \"$cur\"))",
        "        return 0",
        "    fi",
        "    case $cmd in",
    ]
    for c, meta in cmds:
        mine = [o for o in opts if c in o["cmds"]]
        names = [f for o in mine for f in forms(o)] + (meta.get("Own-options") or "").split()
        lines.append(f"    {c})")
        lines.append(f"        words='{' '.join(names)}'")
        kinds = {}
        for o in mine:
            k, vals = value_kind(o["arg"])
            if k == "none":
                continue
            pat = "|".join(forms(o))
            kinds.setdefault((k, tuple(vals or ())), []).append(pat)
        if kinds:
            lines.append("        case $prev in")
            for (k, vals), pats in kinds.items():
                lines.append(f"        {'|'.join(pats)})")
                if k == "file":
                    lines.append("            COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;")
                elif k == "dir":
                    lines.append("            COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;")
                elif k == "host":
                    lines.append("            COMPREPLY=($(compgen -A hostname -- \"$cur\")); "
                                 "return 0 ;;")
                elif k == "words":
                    lines.append(f"            COMPREPLY=($(compgen -W '{' '.join(vals)}' -- "
                                 "\"$cur\")); return 0 ;;")
                else:
                    lines.append("            return 0 ;;")
            lines.append("        esac")
        subs = meta.get("Subcommands")
        if subs:
            lines.append("        if [ \"$COMP_CWORD\" -eq 2 ]; then")
            lines.append(f"            COMPREPLY=($(compgen -W '{subs}' -- \"$cur\")); return 0")
            lines.append("        fi")
        lines.append("        ;;")
    lines += [
        "    help)",
        "        COMPREPLY=($(compgen -W '" + " ".join(c for c, _ in cmds) +
        " exit-codes findings version' -- \"$cur\"))",
        "        return 0 ;;",
        "    *) return 0 ;;",
        "    esac",
        "    if [[ $cur == -* ]]; then",
        "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))",
        "    else",
        "        COMPREPLY=($(compgen -f -- \"$cur\"))",
        "    fi",
        "    return 0",
        "}",
        "complete -F _mqtls mqtls",
        "",
    ]
    return "\n".join(lines)


def zsh_quote(s):
    return s.replace("'", "'\\''").replace("[", "(").replace("]", ")").replace(":", " -")


def zsh_completion(cmds, opts):
    lines = [
        "#compdef mqtls",
        "# zsh completion for mqtls. Generated by tools/mqtls/gen_docs.py from",
        "# tools/mqtls/opts/*.md and tools/mqtls/cmds/*.md: edit those.",
        "_mqtls() {",
        "  local -a cmds",
        "  cmds=(" + " ".join(f"'{c}:{zsh_quote(m['Summary'])}'" for c, m in cmds) +
        " 'help:help on a command or topic')",
        "  if (( CURRENT == 2 )); then",
        "    _describe -t commands 'mqtls command' cmds",
        "    _arguments '--version[print the versions and exit]' '--help[print help]'",
        "    return",
        "  fi",
        "  local cmd=$words[2]",
        "  shift words; (( CURRENT-- ))",
        "  case $cmd in",
    ]
    for c, meta in cmds:
        mine = [o for o in opts if c in o["cmds"]]
        specs = []
        for o in mine:
            k, vals = value_kind(o["arg"])
            action = {"none": "", "file": ":file:_files", "dir": ":directory:_files -/",
                      "host": ":host:_hosts", "any": f":{zsh_quote(o['arg'] or '')}: "}.get(k)
            if k == "words":
                action = f":{zsh_quote(o['arg'])}:(" + " ".join(vals) + ")"
            desc = zsh_quote(o["help"][c])
            rep = "*" if o["name"] in ("topic", "filter-out", "unsubscribe", "tls-alpn",
                                       "property") else ""
            excl = "" if rep else "(" + " ".join(forms(o)) + ")"
            for f in forms(o):
                specs.append(f"'{excl}{rep}{f}[{desc}]{action}'")
        for f in (meta.get("Own-options") or "").split():
            specs.append(f"'{f}[see mqtls-{c}(1)]'")
        if meta.get("Subcommands"):
            specs.append("'1:subcommand:(" + meta["Subcommands"] + ")'")
        specs.append("'*:file:_files'")
        lines.append(f"  {c}) _arguments -s \\")
        lines.append("      " + " \\\n      ".join(specs) + " ;;")
    lines += [
        "  help) _values 'topic' " + " ".join(c for c, _ in cmds) +
        " exit-codes findings version ;;",
        "  esac",
        "}",
        "_mqtls \"$@\"",
        "",
    ]
    return "\n".join(lines)


def topics_header(rows):
    text = "mqtls exit codes (append-only; docs/cli/exit-codes.md):\n"
    for code, name, meaning, examples in rows:
        text += f"  {code:>3}  {name:<24} {plain(meaning)}\n"
        text += f"       e.g. {plain(examples)}\n"
    c = gen_opts.c_string(text).replace("\n", "\\n")
    return ("/* Generated by tools/mqtls/gen_docs.py from docs/cli/exit-codes.md: edit that. */\n"
            "#ifndef MQTLS_TOOLS_CLI_TOPICS_GEN_H\n#define MQTLS_TOOLS_CLI_TOPICS_GEN_H\n"
            "#define CLI_EXIT_CODES_TEXT " + c + "\n#endif\n")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        if open(path, encoding="utf-8").read() == text:
            return  # unchanged: nothing downstream rebuilds
    except OSError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        src = argv[2]  # the man pages a build makes: for CMake, at configure time
        cmds = {os.path.basename(p)[:-3]
                for p in glob.glob(os.path.join(src, "tools/mqtls/cmds/*.md"))}
        cmds |= set(gen_opts.COMMANDS)
        pages = [f"mqtls-{c}.1" for c in sorted(cmds)]
        pages += [os.path.basename(p)[:-3]
                  for p in sorted(glob.glob(os.path.join(src, "docs/man/*.md")))]
        print(";".join(pages))
        return 0
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    version, src, out = argv[1:]
    errors = []
    opts = []
    for p in sorted(glob.glob(os.path.join(src, "tools/mqtls/opts/*.md"))):
        o = gen_opts.read_page(p, errors)
        if o is not None:
            o["body"] = re.sub(r"^---\n.*?\n---\n", "", open(p, encoding="utf-8").read(),
                               flags=re.S)
            opts.append(o)
    if errors:
        fail("; ".join(errors))
    opts.sort(key=lambda o: o["order"])
    cmds = []
    for p in sorted(glob.glob(os.path.join(src, "tools/mqtls/cmds/*.md"))):
        meta, body = front_matter(p, CMD_KEYS)
        name = os.path.basename(p)[:-3]
        for key in ("Command", "Summary", "Synopsis"):
            if key not in meta:
                fail(f"{p}: no {key}:")
        if meta["Command"] != name:
            fail(f"{p}: Command: {meta['Command']} is not the file name")
        meta["body"] = body
        cmds.append((name, meta))
    known = {c for c, _ in cmds}
    for c in gen_opts.COMMANDS:  # a command of the table without its own page still gets one
        if c not in known:
            cmds.append((c, {"Command": c, "Summary": f"the mqtls {c} command",
                             "Synopsis": f"mqtls {c} [options]", "body": ""}))
    order = ["pub", "sub", "doctor", "explain", "pki", "bench"]
    cmds.sort(key=lambda cm: (order.index(cm[0]) if cm[0] in order else 99, cm[0]))
    rows = exit_codes(src)
    for c, meta in cmds:
        write(os.path.join(out, "man", f"mqtls-{c}.1.scd"),
              command_page(c, meta, meta["body"], opts, rows, version))
    for p in sorted(glob.glob(os.path.join(src, "docs/man/*.md"))):
        base = os.path.basename(p)[:-3]  # mqtls.1, libmqtls.3
        name, section = base.rsplit(".", 1)
        body = open(p, encoding="utf-8").read()
        text = plain_page(name, section, body, version, cmds)
        if name == "mqtls":
            text += "\n" + exit_status_scd(rows)
        write(os.path.join(out, "man", base + ".scd"), text)
    write(os.path.join(out, "completion", "mqtls"), bash_completion(cmds, opts))
    write(os.path.join(out, "completion", "_mqtls"), zsh_completion(cmds, opts))
    write(os.path.join(out, "cli_topics_gen.h"), topics_header(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
