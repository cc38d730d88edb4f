#!/usr/bin/env bash
# The public ABI of libmqtls against its committed baselines (docs/abi.md).
#   scripts/abi-check.sh check  LIB SRC   compare LIB with abi/libmqtls-<newest <= version>.abi
#   scripts/abi-check.sh update LIB SRC   write abi/libmqtls-<version>.abi (after a bump)
# Rules (the version is include/mqtls/version.h):
#   - same version as the newest baseline: the ABI must be identical;
#   - MINOR or PATCH bumped: only compatible changes (additions);
#   - MAJOR bumped: anything (the SONAME changes with it).
# Prints "N passed, N failed" as its last line.
set -uo pipefail
cmd=${1:?check|update}
lib=${2:?path to libmqtls.so}
src=${3:?source tree}
abidir=$src/abi
supp=$abidir/opaque.suppr # versioned.suppr: see below

ver=$(sed -n 's/^#define MQTLS_VERSION_STRING "\(.*\)"/\1/p' "$src/include/mqtls/version.h")
major=${ver%%.*}
[ -n "$ver" ] || { echo "abi: no MQTLS_VERSION_STRING in version.h"; echo "0 passed, 1 failed"; exit 1; }

dump() { # lib out
  abidw --headers-dir "$src/include/mqtls" --drop-private-types --exported-interfaces-only \
    --no-show-locs --no-comp-dir-path --no-corpus-path --type-id-style hash \
    --suppressions "$supp" --out-file "$2" "$1"
}

# newest baseline whose version is <= ours
base=""
base_ver=""
for f in "$abidir"/libmqtls-*.abi; do
  [ -e "$f" ] || continue
  v=$(basename "$f" .abi); v=${v#libmqtls-}
  if [ "$(printf '%s\n%s\n' "$v" "$ver" | sort -V | tail -n 1)" = "$ver" ]; then
    if [ -z "$base_ver" ] || [ "$(printf '%s\n%s\n' "$v" "$base_ver" | sort -V | tail -n 1)" = "$v" ]; then
      base=$f; base_ver=$v
    fi
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump "$lib" "$tmp/now.abi" || { echo "abi: abidw failed on $lib"; echo "0 passed, 1 failed"; exit 1; }

if [ -z "$base" ]; then
  if [ "$cmd" = update ]; then
    cp "$tmp/now.abi" "$abidir/libmqtls-$ver.abi"
    echo "abi: first baseline abi/libmqtls-$ver.abi written"
    exit 0
  fi
  echo "abi: no baseline for version $ver in abi/ (scripts/abi-check.sh update)"
  echo "0 passed, 1 failed"
  exit 1
fi

# 1. any change at all (opaque types excluded)
abidiff --suppressions "$supp" "$base" "$tmp/now.abi" >"$tmp/diff_all.txt" 2>&1
rc=$?
# 2. what stays when appending to a versioned struct is allowed: removed or changed functions
#    and variables are incompatible; only additions are not.
abidiff --suppressions "$supp" --suppressions "$abidir/versioned.suppr" "$base" "$tmp/now.abi" \
  >"$tmp/diff_compat.txt" 2>&1
rc2=$?
if [ $((rc & 3)) -ne 0 ] || [ $((rc2 & 3)) -ne 0 ]; then
  kind=error
elif [ "$rc" -eq 0 ]; then
  kind=same
elif [ $((rc2 & 8)) -ne 0 ] ||
  grep -Eq '(Functions|Variables) changes summary: ([1-9][0-9]* Removed|[0-9]+ Removed, [1-9][0-9]* Changed)' \
    "$tmp/diff_compat.txt"; then
  kind=incompatible
else
  kind=compatible
fi
base_major=${base_ver%%.*}

problem=""
case "$kind" in
  error) problem="abidiff failed (rc $rc / $rc2)";;
  same) ;;
  compatible)
    [ "$base_ver" = "$ver" ] && problem="the public ABI grew but the version is still $ver: bump MINOR in include/mqtls/version.h, then scripts/abi-check.sh update";;
  incompatible)
    [ "$base_major" = "$major" ] && problem="incompatible ABI change without a MAJOR bump (baseline $base_ver, now $ver): keep the old layout, or bump MAJOR (SONAME) in include/mqtls/version.h";;
esac

if [ "$cmd" = update ]; then
  if [ -n "$problem" ]; then cat "$tmp/diff_all.txt"; echo "abi: refusing to update: $problem"; exit 1; fi
  cp "$tmp/now.abi" "$abidir/libmqtls-$ver.abi"
  echo "abi: abi/libmqtls-$ver.abi written ($kind change since $base_ver)"
  exit 0
fi

echo "abi: libmqtls $ver against baseline $base_ver: $kind"
if [ -n "$problem" ]; then
  cat "$tmp/diff_all.txt"
  echo "abi: $problem"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$kind" != same ]; then
  sed -n '1,40p' "$tmp/diff_all.txt"
  echo "abi: allowed by the version bump; record it with: scripts/abi-check.sh update <lib> ."
fi
echo "1 passed, 0 failed"
