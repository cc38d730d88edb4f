#!/usr/bin/env bash
# Give every global symbol of the mbedTLS 3.6 static archives a prefix, so that they link into
# one process with Debian 12's mbedTLS 2.28 shared libraries, which export the same names.
#
#   rename-archives.sh --prefix mqtls3_ --out DIR --include DIR --config FILE
#                      [--nm NM] [--objcopy OBJCOPY] [--cc CC] [--check-against "LIB:LIB"]
#                      ARCHIVE...
#
# 1. nm lists every defined global symbol of the archives (functions, data, psa_*, internal
#    mbedtls_ct_* and mbedtls_mpi_core_* helpers, anything a sanitizer adds): those are renamed.
# 2. objcopy --redefine-syms renames definitions and references in every object: the archives'
#    own calls between each other follow, nothing else in an object changes.
# 3. DIR/mbedtls3_rename.h maps the same names for our sources (force-included with -include
#    before the 3.6 headers), plus every mbedtls_*/psa_* function or extern object that the
#    3.6 headers declare under our config: a declared-but-not-built function then fails to
#    link (mqtls3_... undefined) instead of silently binding to 2.28's function of that name.
# 4. Checks, each fatal: no defined global symbol lacks the prefix; no undefined reference to
#    an mbedtls_/psa_ name is left (it would resolve to 2.28); no symbol collides with the
#    dynamic symbols of the libraries given with --check-against.
# Outputs: DIR/lib<prefix><name>.a for each lib<name>.a, DIR/mbedtls3_rename.h,
#          DIR/rename.syms ("old new" per line, objcopy's format). Written atomically.
set -euo pipefail

prefix=mqtls3_ out='' inc='' config='' nm=nm objcopy=objcopy cc=cc check=''
archives=()
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --include) inc=$2; shift 2 ;;
        --config) config=$2; shift 2 ;;
        --nm) nm=$2; shift 2 ;;
        --objcopy) objcopy=$2; shift 2 ;;
        --cc) cc=$2; shift 2 ;;
        --check-against) check=$2; shift 2 ;;
        -*) echo "rename-archives: unknown option $1" >&2; exit 2 ;;
        *) archives+=("$1"); shift ;;
    esac
done
die() { echo "rename-archives: error: $*" >&2; exit 1; }
if [ -z "$out" ] || [ -z "$inc" ] || [ -z "$config" ] || [ ${#archives[@]} -eq 0 ]; then
    die "usage: --prefix P --out DIR --include DIR --config FILE ARCHIVE..."
fi

mkdir -p "$out"
tmp=$(mktemp -d "$out/.rename.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. Defined globals (nm -g --defined-only: T D B R V W u i ...; names only).
"$nm" -g --defined-only "${archives[@]}" 2>/dev/null |
    awk 'NF >= 3 { print $3 }' | sort -u >"$tmp/defined"
[ -s "$tmp/defined" ] || die "no global symbols in ${archives[*]}"
awk -v p="$prefix" '{ print $1, p $1 }' "$tmp/defined" >"$tmp/rename.syms"

# 2. Rename.
for a in "${archives[@]}"; do
    base=$(basename "$a")
    "$objcopy" --redefine-syms="$tmp/rename.syms" "$a" "$tmp/lib${prefix}${base#lib}"
done

# 4. Checks on the renamed archives.
renamed=("$tmp"/lib"${prefix}"*.a)
"$nm" -g --defined-only "${renamed[@]}" 2>/dev/null | awk 'NF >= 3 { print $3 }' |
    sort -u >"$tmp/defined.new"
if grep -v "^${prefix}" "$tmp/defined.new" >"$tmp/bad"; then
    die "global symbols left without the prefix: $(head -n 5 "$tmp/bad" | tr '\n' ' ')"
fi
"$nm" -g --undefined-only "${renamed[@]}" 2>/dev/null | awk 'NF >= 2 { print $2 }' |
    sort -u >"$tmp/undefined"
if grep -E '^(mbedtls|psa|MBEDTLS|PSA|tf_psa)_' "$tmp/undefined" >"$tmp/bad"; then
    die "references to unprefixed mbedTLS names (would bind to another mbedTLS): $(head -n 5 "$tmp/bad" | tr '\n' ' ')"
fi
if [ -n "$check" ]; then
    IFS=':' read -r -a others <<<"$check"
    for so in "${others[@]}"; do
        [ -n "$so" ] || continue
        real=$(readlink -f "$so")
        "$nm" -D --defined-only "$real" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u \
            >"$tmp/other"
        comm -12 "$tmp/defined.new" "$tmp/other" >"$tmp/bad"
        if [ -s "$tmp/bad" ]; then
            die "symbols collide with $real: $(head -n 5 "$tmp/bad" | tr '\n' ' ')"
        fi
        echo "rename-archives: none of $(wc -l <"$tmp/other") symbols of $(basename "$real")" \
            "collides ($(comm -12 "$tmp/defined" "$tmp/other" | wc -l) would without the prefix)"
    done
fi

# 3. Names our sources may reference: what the archives define, plus what the headers declare.
defs=(-DMBEDTLS_USER_CONFIG_FILE="\"$config\"" -I"$inc")
echo '#include "mbedtls/build_info.h"' | "$cc" -E -dM "${defs[@]}" -x c - |
    awk '$1 == "#define" { sub(/\(.*/, "", $2); print $2 }' | sort -u >"$tmp/macros"
: >"$tmp/declared"
skipped=0
for h in "$inc"/mbedtls/*.h "$inc"/psa/crypto.h "$inc"/psa/crypto_se_driver.h; do
    if ! "$cc" -E -P "${defs[@]}" -include mbedtls/build_info.h -x c "$h" -o "$tmp/pp" \
        2>/dev/null; then
        skipped=$((skipped + 1)) # e.g. a header that #errors when its module is off
        continue
    fi
    tr '\n' ' ' <"$tmp/pp" | sed 's/"[^"]*"/""/g' >"$tmp/pp1"
    # Functions (declarations, inline definitions, function typedefs ending in _t excluded).
    grep -oE '\b(mbedtls|psa)_[A-Za-z0-9_]+[[:space:]]*\(' "$tmp/pp1" |
        sed -E 's/[[:space:]]*\($//' | grep -vE '_t$' >>"$tmp/declared" || true
    # extern objects: extern <type> name[...];
    grep -oE 'extern[^;{}()]*\b(mbedtls|psa)_[A-Za-z0-9_]+[[:space:]]*(\[[^]]*\][[:space:]]*)*;' \
        "$tmp/pp1" | grep -oE '(mbedtls|psa)_[A-Za-z0-9_]+[[:space:]]*(\[[^]]*\][[:space:]]*)*;$' |
        grep -oE '^(mbedtls|psa)_[A-Za-z0-9_]+' >>"$tmp/declared" || true
done
sort -u "$tmp/declared" -o "$tmp/declared"
# Reserved names (a sanitizer's __asan_*) are renamed in the archives but never spelled in C.
sort -u "$tmp/defined" "$tmp/declared" | grep -E '^[A-Za-z][A-Za-z0-9_]*$' |
    comm -23 - "$tmp/macros" >"$tmp/names"
{
    echo "/* Generated by cmake/mbedtls3/rename-archives.sh: do not edit."
    echo " * Force-included (-include) into every source compiled against mbedTLS 3.6 headers"
    echo " * (target mqtls::mbedtls3) so that its references match the renamed archives."
    echo " * $(wc -l <"$tmp/defined") symbols defined by the archives, $(wc -l <"$tmp/declared") names"
    echo " * declared by the headers ($skipped headers skipped: module off). */"
    echo "#ifndef MQTLS_MBEDTLS3_RENAME_H"
    echo "#define MQTLS_MBEDTLS3_RENAME_H"
    awk -v p="$prefix" '{ print "#define " $1 " " p $1 }' "$tmp/names"
    echo "#endif"
} >"$tmp/mbedtls3_rename.h"

# Publish: header and symbol list first, archives last (their timestamps drive relinks).
for f in mbedtls3_rename.h rename.syms; do
    if ! cmp -s "$tmp/$f" "$out/$f"; then mv -f "$tmp/$f" "$out/$f"; fi
done
for a in "${renamed[@]}"; do mv -f "$a" "$out/"; done
echo "rename-archives: $(wc -l <"$tmp/defined") symbols renamed with prefix $prefix;" \
    "$(wc -l <"$tmp/names") names in mbedtls3_rename.h"
