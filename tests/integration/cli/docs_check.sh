#!/usr/bin/env bash
# The man pages and the bash completion of an installed mqtls (cmake --install or the .deb):
#   docs_check.sh PREFIX [MANPATH]
# Renders every share/man/man*/ page with `man -l`, looks mqtls-pub up by name with `man` (in
# MANPATH, default PREFIX/share/man), and completes `mqtls pub --ca<TAB>` and friends with the
# installed completion: `complete -p mqtls` and compgen's answers. Prints one line per check,
# then "N passed, M failed".
set -u
prefix=${1:?prefix}
manpath=${2:-$prefix/share/man}
passed=0
failed=0
check() { # name, command...
  local name=$1; shift
  if "$@" >/tmp/mqtls-docs-check.$$ 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' /tmp/mqtls-docs-check.$$ | head -20
  fi
}
pages=$(ls "$prefix"/share/man/man1/mqtls*.1* "$prefix"/share/man/man3/libmqtls.3* 2>/dev/null)
for want in mqtls mqtls-pub mqtls-sub mqtls-doctor mqtls-explain mqtls-pki; do
  check "man page $want(1) installed" bash -c "ls '$prefix'/share/man/man1/$want.1* >/dev/null"
done
check "man page libmqtls(3) installed" bash -c "ls '$prefix'/share/man/man3/libmqtls.3* >/dev/null"
for p in $pages; do
  # groff's warnings (-ww) on stderr fail the check: a page must render cleanly
  check "man -l $(basename "$p") renders" bash -c \
    "out=\$(MANWIDTH=80 MAN_KEEP_STDERR=1 man -l '$p' 2>&1 >/dev/null); [ -z \"\$out\" ] && MANWIDTH=80 man -l '$p' 2>/dev/null | grep -q '^NAME'"
done
check "man mqtls-pub (by name) shows the options from opts/*.md" bash -c \
  "MANPATH='$manpath' MANWIDTH=100 man mqtls-pub 2>/dev/null | grep -q -- '--tls-use-os-certs'"
check "man mqtls-sub documents -U and exit code 27" bash -c \
  "MANPATH='$manpath' MANWIDTH=100 man mqtls-sub 2>/dev/null | tr -s ' ' | grep -q -- '-U, --unsubscribe' &&
   MANPATH='$manpath' MANWIDTH=100 man mqtls-sub 2>/dev/null | grep -q '^ *27'"

comp=$prefix/share/bash-completion/completions/mqtls
complete_words() { # the words typed, the last one being completed
  bash --norc -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mqtls;
                  printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
has() { # want..., then -- and the words
  local want=() w
  while [ "$1" != -- ]; do want+=("$1"); shift; done; shift
  local got; got=$(complete_words "$@")
  for w in "${want[@]}"; do grep -qx -- "$w" <<<"$got" || { echo "missing $w in: $got"; return 1; }; done
}
check "bash: complete -p mqtls" bash --norc -c "source '$comp' && complete -p mqtls | grep -q '_mqtls mqtls'"
check "bash: mqtls <TAB> -> the commands" has pub sub doctor explain pki help -- mqtls ''
check "bash: mqtls pub --ca<TAB> -> --cafile --capath" has --cafile --capath -- mqtls pub --ca
check "bash: mqtls sub -<TAB> has -U -E -W" has -U -E -W --unsubscribe -- mqtls sub -
check "bash: mqtls pub -q <TAB> -> 0 1 2" has 0 1 2 -- mqtls pub -q ''
check "bash: mqtls pub -V <TAB> -> 31 311 5" has 31 311 5 -- mqtls pub -V ''
check "bash: mqtls pub --cafile <TAB> completes files" has "$comp" -- mqtls pub --cafile "$comp"
check "bash: mqtls pki <TAB> -> its subcommands" has init server client show -- mqtls pki ''
check "bash: mqtls pub does not offer sub's -C" bash -c "! grep -qx -- -C <<<\"\$(bash --norc -c 'source \"$comp\"; COMP_WORDS=(mqtls pub -); COMP_CWORD=2; _mqtls; printf \"%s\n\" \"\${COMPREPLY[@]}\"')\""
if command -v zsh >/dev/null; then
  zcomp=$(ls "$prefix"/share/zsh/*/_mqtls 2>/dev/null | head -1)
  check "zsh: _mqtls installed and parses (zsh -n)" bash -c "[ -n '$zcomp' ] && zsh -n '$zcomp'"
fi
rm -f /tmp/mqtls-docs-check.$$
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
